"""Analyses of linked binary policies with SETools (used by tests now, by prove/audit later)."""
