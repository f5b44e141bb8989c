"""The computed-field formula language: parsed, type-checked, evaluated; never `eval`."""
