"""Ticket types: their settings, versioned forms (draft, publish, history) and designer pages."""
