"""A compiled module beside its spec: phase blocks, what its rules grant, and recompiles of the
spec with statements added (the test every candidate passes)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from selkit.diagnostics import DiagnosticError
from selkit.dsl import ast
from selkit.dsl.loader import Program
from selkit.dsl.spec_edit import anchor_line, insert_statements, with_main_text
from selkit.ir import nodes as ir
from selkit.ir import passes
from selkit.ir.kb import KnowledgeBase
from selkit.ir.lower import lower
from selkit.suggest.suggestion import Edit
from selkit.suggest.wording import Grant


class SpecModel:
    """A compiled module with its program: phase blocks, grants, and edited recompiles."""

    def __init__(self, module: ir.PolicyModule, program: Program, kb: KnowledgeBase):
        self.module, self.program, self.kb = module, program, kb
        self.path = module.source_path
        self.text = program.texts[self.path]
        self.daemon = module.daemon
        node = next(d for d in program.main.of(ast.Daemon) if d.name.text == self.daemon)
        self.phase_nodes = {p.name.text: p for p in node.of(ast.Phase)}
        self.files = tuple(f.name.text for f in node.of(ast.FileDecl))
        #: the declared files that are plain files (no kind, or 'file'): pidfile candidates
        self.plain_files = tuple(f.name.text for f in node.of(ast.FileDecl)
                                 if f.kind is None or f.kind.text == "file")
        self.grants = grants_of(module, kb)
        self._compiled: dict[tuple, ir.PolicyModule | DiagnosticError] = {}

    def domain(self, phase: str) -> str:
        """The domain of ``phase``."""
        return self.module.domain_of(phase)

    def ancestors(self, phase: str) -> list[str]:
        """Parent, grandparent, ... of ``phase``."""
        out, cur = [], self.module.phase(phase).parent
        while cur is not None and cur not in out:
            out.append(cur)
            cur = self.module.phase(cur).parent
        return out

    def phase_of_domain(self, domain: str) -> str | None:
        """The phase whose domain is ``domain``, if it is one of this module's."""
        return next((p.name for p in self.module.phases if p.domain == domain), None)

    def edit(self, phase: str, statement: str) -> Edit:
        """Where ``statement`` goes when added to ``phase``."""
        return Edit(self.path, anchor_line(self.phase_nodes[phase]), phase, statement)

    def compile(self, edits: tuple[tuple[str, str], ...]) -> ir.PolicyModule | DiagnosticError:
        """The module compiled from the spec with ``(phase, statement)`` edits, or why not."""
        if edits not in self._compiled:
            try:
                text = insert_statements(
                    self.text, [(self.phase_nodes[phase], stmt) for phase, stmt in edits])
                program = with_main_text(self.program, text)
                lowered = next(m for m in lower(program, self.kb) if m.daemon == self.daemon)
                self._compiled[edits] = passes.run(lowered, self.kb)
            except DiagnosticError as exc:
                self._compiled[edits] = exc
        return self._compiled[edits]

    def spelling(self, phase: str, ttype: str, *, allow_self: bool) -> str:
        """How a statement of ``phase`` names ``ttype``: self, a phase, a file, or the type."""
        if allow_self and ttype == self.domain(phase):
            return ir.SELF
        own = self.phase_of_domain(ttype)
        if own is not None:
            return own
        name = ir.own_name_of(self.daemon, ttype)
        return name if name is not None and name in self.files else ttype


def grants_of(module: ir.PolicyModule, kb: KnowledgeBase) -> frozenset[Grant]:
    """Every (source, target, class, permission) the module's allow rules give, attributes
    expanded."""
    return frozenset((r.source, t, r.tclass, p) for r in module.allows()
                     for t in kb.expand(r.target) for p in r.perms)


#: The programs modules were compiled from: one, several, or a mapping of path to program.
Sources = Program | Iterable[Program] | Mapping[str, Program]


def spec_models(modules: Iterable[ir.PolicyModule], sources: Sources,
                kb: KnowledgeBase) -> list[SpecModel]:
    """A model per module, each with the program it was compiled from (``sources``: a
    :class:`Program`, several, or a mapping of path to program)."""
    programs = _programs(sources)
    out = []
    for module in modules:
        program = programs.get(module.source_path)
        if program is None:
            raise ValueError(f"no source program given for module '{module.name}' "
                             f"({module.source_path})")
        out.append(SpecModel(module, program, kb))
    return out


def _programs(sources: Sources) -> dict[str, Program]:
    if isinstance(sources, Program):
        return {sources.main.path: sources}
    if isinstance(sources, Mapping):
        return {p.main.path: p for p in sources.values()}
    return {p.main.path: p for p in sources}
