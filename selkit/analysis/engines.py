"""The engines that say what a phase domain holds (a module of its own: the CLI needs the
names before it imports the analysis)."""

from __future__ import annotations

import enum


class Engine(enum.StrEnum):
    """Which engine computes the grants (``both`` runs the two and requires agreement)."""

    COMPOSITIONAL = "compositional"  # base policy + module IR, no link
    LINKED = "linked"                # link into a store copy, analyse the kernel policy
    BOTH = "both"                    # run both, require agreement
