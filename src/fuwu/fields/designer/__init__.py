"""The administrator's tools: field registry pages, the field editor, form designer edits."""
