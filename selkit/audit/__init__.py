"""``selkit audit``: what domains may do, compared phase by phase (see docs/audit.md)."""
