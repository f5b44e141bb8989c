"""The field registry: which custom fields each entity has, their types and options."""
