"""The engines ``selkit prove`` can run (a module of its own: the CLI needs the names before
it imports the prover)."""

from __future__ import annotations

import enum


class Engine(str, enum.Enum):
    """Which engine ``selkit prove`` runs."""

    COMPOSITIONAL = "compositional"  # base policy + module IR, no link
    LINKED = "linked"                # link into a store copy, analyse the kernel policy
    BOTH = "both"                    # run both, require agreement
