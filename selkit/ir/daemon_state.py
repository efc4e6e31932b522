"""What lowering one ``daemon`` block shares between its steps.

Each step of :mod:`selkit.ir.lower` (declarations, switches, verbs, forbids) is a function of
one :class:`DaemonState`: the sink it reports to, the knowledge base it resolves against, the
daemon being lowered and what earlier steps declared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from selkit.diagnostics import DiagnosticSink, Span
from selkit.dsl import ast
from selkit.ir import nodes as ir
from selkit.ir.kb import KnowledgeBase
from selkit.ir.nodes import DEFAULT_STARTER

if TYPE_CHECKING:  # the loader imports the parser, and so Lark; lowering needs neither
    from selkit.dsl.loader import Program


@dataclass
class PhaseState:
    """What lowering learns about one phase."""

    node: ast.Phase
    domain: str
    parent: str | None = None
    opens: dict[str, ast.Verb] = field(default_factory=dict)


@dataclass
class DaemonState:
    """One daemon being lowered: its inputs and what has been declared and allowed so far."""

    program: Program
    daemon: ast.Daemon
    kb: KnowledgeBase
    sink: DiagnosticSink
    phases: dict[str, PhaseState] = field(default_factory=dict)
    files: dict[str, ast.FileDecl] = field(default_factory=dict)
    types: list[ir.TypeDecl] = field(default_factory=list)
    rules: list[ir.Rule] = field(default_factory=list)
    fcs: list[ir.FileContext] = field(default_factory=list)
    syscall_statements: list[ir.SyscallStatement | ir.SyscallDefault] = field(
        default_factory=list)
    starter: str = DEFAULT_STARTER
    declared: dict[str, Span] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The daemon's name."""
        return self.daemon.name.text

    def origin(self, span: Span, statement: str, cause: ir.Cause = ir.Cause.SPEC) -> ir.Origin:
        """The origin of a node caused by the statement at ``span``."""
        return ir.Origin(span, statement, cause)

    def phase_order(self) -> list[str]:
        """Phases ordered parents first (entry first), then by source position."""
        order, placed = [], set()
        pending = sorted(self.phases, key=lambda n: self.phases[n].node.span)
        while pending:
            progressed = False
            for name in list(pending):
                parent = self.phases[name].parent
                if parent is None or parent in placed:
                    order.append(name)
                    placed.add(name)
                    pending.remove(name)
                    progressed = True
            if not progressed:
                order.extend(pending)
                break
        return order

    def ancestors(self, phase: str) -> list[str]:
        """The phases ``phase`` descends from, nearest first."""
        out, cur = [], self.phases[phase].parent
        while cur is not None and cur not in out:
            out.append(cur)
            cur = self.phases[cur].parent
        return out
