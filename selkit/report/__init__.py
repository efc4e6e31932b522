"""Format-agnostic report data and its renderers (plain text, JSON, rich)."""
