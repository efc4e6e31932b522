"""Proving what a compiled phase can and cannot do, in terms of system calls."""
