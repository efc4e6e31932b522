"""Limits on the input the front end reads; importing this costs nothing (no Lark), so the
command line can use them without loading the parser."""

from __future__ import annotations

#: Inputs above this size are refused before parsing (SEL905), which bounds time and memory.
MAX_SOURCE_BYTES = 1 << 20
