"""From lab denials back to the spec: the ``.sel`` statement that would allow each AVC denial.

Like audit2allow, but the answer is a statement of the language and the spec line it goes
after, so an author fixes the spec, not the generated policy. Candidates come from the verb
vocabulary (:data:`selkit.ir.vocab.FORMS`), with parameters taken from the denial (the port
type, or the port number the AVC names; the daemon's own ``file`` name for its types). Each
candidate is checked by the compiler itself: it is inserted into a copy of the spec, lowered
by :func:`selkit.ir.lower.lower` and run through :func:`selkit.ir.passes.run` (typebounds
and forbids included), and kept only if the resulting IR grants the denied permission. The
verb granting the fewest permissions beyond the denied ones wins; a raw ``allow`` is the
fallback when no verb fits. A statement a later phase needs that typebounds also requires of
its parent comes with the edit for the parent (:attr:`Suggestion.also`).

Pure: nothing is printed or read from disk (the spec texts come from the programs given).
Rendering is :mod:`selkit.report.suggest`.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from selkit.diagnostics import DiagnosticError, Span
from selkit.dsl import ast
from selkit.dsl.loader import Program
from selkit.dsl.parser import parse
from selkit.ir import nodes as ir
from selkit.ir import passes, vocab
from selkit.ir.kb import KnowledgeBase
from selkit.ir.lower import forbid_group_patterns, lower
from selkit.lab.avc import Avc

#: Suggestion kinds.
VERB = "verb"            # add a vocabulary statement
ALLOW = "allow"          # no verb fits: add a raw allow
FORBIDDEN = "forbidden"  # a forbid of the phase excludes it: the daemon must not do this
GRANTED = "granted"      # the spec already grants it: the denial is not the spec's doing
NONE = "none"            # not a phase domain of any module given, or nothing compiles

_KIND_ORDER = {VERB: 0, ALLOW: 0, FORBIDDEN: 1, GRANTED: 2, NONE: 3}

_PORT_FIELD = re.compile(r"\b(?:src|dest)=(\d+)\b")

Grant = tuple[str, str, str, str]  # (source, target, class, permission)


@dataclass(frozen=True)
class Edit:
    """Add ``statement`` to phase ``phase``, after line ``line`` of ``path``."""

    path: str
    line: int
    phase: str
    statement: str


@dataclass(frozen=True)
class DeniedRule:
    """What the kernel refused, as an allow rule: ``source target:tclass { perms }``."""

    source: str
    target: str
    tclass: str
    perms: tuple[str, ...]

    def text(self) -> str:
        """The rule in policy syntax (what audit2allow prints); a record without permissions
        (SELINUX_ERR) as ``source -> target``."""
        if not self.perms:
            return f"{self.source} -> {self.target}"
        return _rule_text(self.source, self.target, self.tclass, self.perms)


@dataclass(frozen=True)
class Suggestion:
    """What to do about one group of denials, and where in the spec.

    For :data:`VERB` and :data:`ALLOW`, ``statement`` goes after line ``line`` of ``path``
    (the last statement of phase ``phase``, or its opening line), and each edit of ``also``
    too. For :data:`FORBIDDEN` and :data:`GRANTED`, ``path``/``line`` point at the forbid
    item or the granting statement. ``denied`` are the refused permissions this suggestion
    is about (an AVC's other permissions may belong to another suggestion); ``extra`` what
    the statement grants beyond them (``target:class perm``, prefixed ``source ->`` for a
    source other than the phase).
    """

    kind: str
    avcs: tuple[Avc, ...]
    why: str
    denied: tuple[DeniedRule, ...]
    module: str | None = None
    path: str | None = None
    line: int | None = None
    phase: str | None = None
    statement: str | None = None
    also: tuple[Edit, ...] = ()
    extra: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        """How many denials it covers."""
        return len(self.avcs)

    @property
    def rules(self) -> tuple[str, ...]:
        """The denied rules in policy syntax."""
        return tuple(r.text() for r in self.denied)

    @property
    def edits(self) -> tuple[Edit, ...]:
        """Every statement to add (empty unless the kind is VERB or ALLOW)."""
        if self.kind not in (VERB, ALLOW):
            return ()
        return (Edit(self.path, self.line, self.phase, self.statement),) + self.also


def suggest(denials: Iterable[Avc], modules: Iterable[ir.PolicyModule], kb: KnowledgeBase,
            sources) -> list[Suggestion]:
    """A suggestion for every denial, identical ones grouped, sorted by place in the spec.

    ``modules`` are checked IR modules (:func:`selkit.compiler.front_end`); ``sources`` the
    programs they were compiled from: a :class:`Program`, several, or a mapping of path to
    program. Records that are not denials (``denied`` false) are ignored.
    """
    specs = _specs(tuple(modules), _programs(sources), kb)
    by_domain = {p.domain: (spec, p.name) for spec in specs for p in spec.module.phases}
    requests: dict[tuple, list[int]] = {}
    items: list[_Item] = []
    avcs = [a for a in denials if a.denied]
    for index, avc in enumerate(avcs):
        where = by_domain.get(avc.stype)
        if not avc.perms:  # a SELINUX_ERR record (bounded transition, invalid context)
            items.append(_not_an_access(index, avc, specs))
            continue
        if where is None:
            items.append(_not_ours(index, avc, specs))
            continue
        spec, phase = where
        key = (id(spec), phase, avc.ttype, avc.tclass)
        requests.setdefault(key, []).append(index)
    for (_, phase, ttype, tclass), indices in requests.items():
        spec = by_domain[avcs[indices[0]].stype][0]
        items.extend(_answer(spec, phase, ttype, tclass, [(i, avcs[i]) for i in indices]))
    return _group(items)


# ---------------------------------------------------------------------------------------------
# Editing a spec


def insert_statements(text: str, placements: Iterable[tuple[ast.Phase, str]]) -> str:
    """``text`` with each statement added at the end of its phase block.

    A statement goes on a line of its own after the phase's last statement (or after the
    ``phase NAME {`` line of an empty phase), indented like it; where the block closes on
    that same line it is added there, separated by ``;``.
    """
    starts = _line_starts(text)
    inserts = []
    for phase, statement in placements:
        inserts.append(_placement(text, starts, phase, statement))
    for pos, piece in sorted(inserts, key=lambda x: x[0], reverse=True):
        text = text[:pos] + piece + text[pos:]
    return text


def anchor_line(phase: ast.Phase) -> int:
    """The line a new statement of ``phase`` goes after: its last statement's, or its own."""
    return phase.body[-1].span.end_line if phase.body else phase.span.line


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in re.finditer(r"\n", text))
    return starts


def _line_text(text: str, starts: list[int], line: int) -> str:
    begin = starts[line - 1]
    end = starts[line] if line < len(starts) else len(text)
    return text[begin:end].rstrip("\r\n")


def _placement(text: str, starts: list[int], phase: ast.Phase, statement: str) -> tuple[int, str]:
    line = anchor_line(phase)
    content = _line_text(text, starts, line)
    newline = "\r\n" if text[starts[line - 1]:].split("\n", 1)[0].endswith("\r") else "\n"
    lead = re.match(r"[ \t]*", content).group(0)
    if phase.body:
        last = phase.body[-1].span
        rest = content[last.end_column - 1:]
        indent = lead if not content[:last.column - 1].strip() else lead + "    "
        inline_at = starts[line - 1] + last.end_column - 1
        own_line = not rest.strip() or rest.lstrip().startswith("#")
    else:
        indent = lead + "    "
        brace = content.index("{", phase.name.span.end_column - 1) + 1
        inline_at = starts[line - 1] + brace
        own_line = phase.span.end_line > line
    if not own_line:
        return inline_at, (f"; {statement}" if phase.body else f" {statement}")
    if line < len(starts):
        return starts[line], f"{indent}{statement}{newline}"
    return len(text), f"{newline}{indent}{statement}"


def _with_main(program: Program, text: str) -> Program:
    """``program`` with its main file replaced by ``text`` (its used files unchanged)."""
    path = program.main.path
    main = parse(text, path)
    fragments = {n: f for n, f in program.fragments.items() if f.span.path != path}
    fragments.update({f.name.text: f for f in main.of(ast.Fragment)})
    return Program(main, {**program.modules, path: main}, {**program.texts, path: text},
                   fragments)


# ---------------------------------------------------------------------------------------------
# One module and its spec


class _Spec:
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
        return self.module.domain_of(phase)

    def ancestors(self, phase: str) -> list[str]:
        """Parent, grandparent, ... of ``phase``."""
        out, cur = [], self.module.phase(phase).parent
        while cur is not None and cur not in out:
            out.append(cur)
            cur = self.module.phase(cur).parent
        return out

    def phase_of_domain(self, domain: str) -> str | None:
        return next((p.name for p in self.module.phases if p.domain == domain), None)

    def edit(self, phase: str, statement: str) -> Edit:
        return Edit(self.path, anchor_line(self.phase_nodes[phase]), phase, statement)

    def compile(self, edits: tuple[tuple[str, str], ...]) -> ir.PolicyModule | DiagnosticError:
        """The module compiled from the spec with ``(phase, statement)`` edits, or why not."""
        if edits not in self._compiled:
            try:
                text = insert_statements(
                    self.text, [(self.phase_nodes[phase], stmt) for phase, stmt in edits])
                program = _with_main(self.program, text)
                lowered = next(m for m in lower(program, self.kb) if m.daemon == self.daemon)
                self._compiled[edits] = passes.run(lowered, self.kb)
            except DiagnosticError as exc:
                self._compiled[edits] = exc
        return self._compiled[edits]

    def spelling(self, phase: str, ttype: str, *, allow_self: bool) -> str:
        """How a statement of ``phase`` names ``ttype``: self, a phase, a file, or the type."""
        if allow_self and ttype == self.domain(phase):
            return "self"
        own = self.phase_of_domain(ttype)
        if own is not None:
            return own
        for name in self.files:
            if f"{self.daemon}_{name}_t" == ttype:
                return name
        return ttype


def grants_of(module: ir.PolicyModule, kb: KnowledgeBase) -> frozenset[Grant]:
    """Every (source, target, class, permission) the module's allow rules give, attributes
    expanded."""
    return frozenset((r.source, t, r.tclass, p) for r in module.allows()
                     for t in kb.expand(r.target) for p in r.perms)


def _programs(sources) -> dict[str, Program]:
    if isinstance(sources, Program):
        return {sources.main.path: sources}
    if isinstance(sources, Mapping):
        return {p.main.path: p for p in sources.values()}
    return {p.main.path: p for p in sources}


def _specs(modules, programs: dict[str, Program], kb: KnowledgeBase) -> list[_Spec]:
    out = []
    for module in modules:
        program = programs.get(module.source_path)
        if program is None:
            raise ValueError(f"no source program given for module '{module.name}' "
                             f"({module.source_path})")
        out.append(_Spec(module, program, kb))
    return out


# ---------------------------------------------------------------------------------------------
# Answering one (phase, target, class) request


@dataclass
class _Item:
    """One answer before grouping: a kind, a place, and the denied (avc, perms) it covers."""

    kind: str
    why: str
    covered: list[tuple[int, Avc, tuple[str, ...]]]
    spec: _Spec | None = None
    phase: str | None = None
    statement: str | None = None
    path: str | None = None
    line: int | None = None
    also: tuple[Edit, ...] = ()
    extra: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    what: str = ""  # VERB/ALLOW: ``class perms on target`` the statement is for
    tail: str = ""  # VERB/ALLOW: "; it also grants ..." or "; nothing more"

    def key(self) -> tuple:
        return (self.kind, self.path, self.line, self.phase, self.statement, self.also,
                self.why if self.kind in (NONE, FORBIDDEN, GRANTED) else "")


@dataclass(frozen=True)
class _Candidate:
    """A statement that compiles and grants what was denied."""

    statement: str
    form: vocab.VerbForm | None
    edits: tuple[tuple[str, str], ...]
    extra: frozenset[Grant]
    order: int
    rejected: tuple[str, ...] = ()  # verbs that would grant it but break the spec


def _answer(spec: _Spec, phase: str, ttype: str, tclass: str,
            denied: list[tuple[int, Avc]]) -> list[_Item]:
    domain = spec.domain(phase)
    perms = sorted({p for _, avc in denied for p in avc.perms})
    items: list[_Item] = []
    forbidden: dict[ir.ForbidPattern, list[str]] = {}
    granted: dict[ir.Origin, list[str]] = {}
    needed: list[str] = []
    excluded: dict[str, list[str]] = {}
    for perm in perms:
        pattern = _forbidding(spec, phase, ttype, tclass, perm)
        origin = _granting(spec, domain, ttype, tclass, perm)
        reason = _phase_model(spec, phase, ttype, tclass, perm)
        if pattern is not None:
            forbidden.setdefault(pattern, []).append(perm)
        elif origin is not None:
            granted.setdefault(origin, []).append(perm)
        elif reason is not None:
            excluded.setdefault(reason, []).append(perm)
        else:
            needed.append(perm)

    def covering(ps) -> list[tuple[int, Avc, tuple[str, ...]]]:
        return [(i, a, tuple(p for p in a.perms if p in ps)) for i, a in denied
                if any(p in ps for p in a.perms)]

    for pattern, ps in forbidden.items():
        span = pattern.origin.span
        items.append(_Item(
            FORBIDDEN, f"forbidden by {pattern.origin.statement} at line {span.line}; "
            "the daemon must not do this", covering(ps), spec, phase,
            path=span.path, line=span.line))
    for origin, ps in granted.items():
        items.append(_Item(
            GRANTED, f"already granted by '{origin.statement}' ({origin.label()}): the policy "
            "that denied it was not compiled from this spec, or the check is not type "
            "enforcement (a constraint or MLS)", covering(ps), spec, phase,
            path=origin.span.path, line=origin.span.line))
    for reason, ps in excluded.items():
        items.append(_Item(NONE, reason, covering(ps), spec, phase))
    if needed:
        ports = sorted({int(n) for _, a in denied for n in _PORT_FIELD.findall(a.raw)})
        for ps, outcome in _cover(spec, phase, ttype, tclass, needed, ports):
            items.append(_statement_item(spec, phase, ttype, tclass, ps, outcome,
                                         covering(set(ps))))
    return items


def _cover(spec: _Spec, phase: str, ttype: str, tclass: str, perms: list[str],
           ports: list[int]) -> list[tuple[tuple[str, ...], _Candidate | str]]:
    """Statements covering ``perms``: one verb for all, else one verb per permission where
    one fits, and a raw allow for the rest (or the reason nothing compiles)."""
    best, rejected = _best_verb(spec, phase, ttype, tclass, perms, ports)
    if best is not None:
        return [(tuple(perms), best)]
    out: list[tuple[tuple[str, ...], _Candidate | str]] = []
    rest = list(perms) if len(perms) == 1 else []
    for perm in perms if len(perms) > 1 else ():
        one, more = _best_verb(spec, phase, ttype, tclass, [perm], ports)
        if one is not None:
            out.append(((perm,), one))
        else:
            rest.append(perm)
            rejected.extend(more)
    if rest:
        target = spec.spelling(phase, ttype, allow_self=True)
        raw = _try(spec, phase, f"allow {target}:{tclass} {_perm_text(rest)}", None,
                   _needed(spec, phase, ttype, tclass, rest), 0)
        if isinstance(raw, _Candidate):
            raw = dataclasses.replace(raw, rejected=tuple(dict.fromkeys(rejected)))
        out.append((tuple(rest), raw or "the raw allow does not grant it"))
    return out


def _needed(spec: _Spec, phase: str, ttype: str, tclass: str, perms) -> frozenset[Grant]:
    domain = spec.domain(phase)
    return frozenset((domain, ttype, tclass, p) for p in perms)


def _best_verb(spec: _Spec, phase: str, ttype: str, tclass: str, perms: list[str],
               ports: list[int]) -> tuple[_Candidate | None, list[str]]:
    """The verb statement granting ``perms`` with the fewest extra grants, and the verbs
    that would grant them but break the spec (with the compiler's reason)."""
    needed = _needed(spec, phase, ttype, tclass, perms)
    found, rejected = [], []
    for order, (form, statement) in enumerate(_verb_statements(spec, phase, ttype, tclass,
                                                               perms, ports)):
        outcome = _try(spec, phase, statement, form, needed, order)
        if isinstance(outcome, _Candidate):
            found.append(outcome)
        elif outcome:
            rejected.append(f"'{statement}' {outcome}")
    if not found:
        return None, rejected
    return min(found, key=lambda c: (len(c.extra), len(c.edits), c.order)), rejected


def _try(spec: _Spec, phase: str, statement: str, form: vocab.VerbForm | None,
         needed: frozenset[Grant], order: int) -> _Candidate | str:
    """Compile the spec with ``statement`` added to ``phase`` (and, where typebounds asks,
    to its ancestors); the candidate, or why it does not work ('' when it merely does not
    grant what is needed)."""
    edits: tuple[tuple[str, str], ...] = ((phase, statement),)
    ancestors = spec.ancestors(phase)
    result = spec.compile(edits)
    while (isinstance(result, DiagnosticError) and ancestors
           and all(d.code == "SEL301" for d in result.diagnostics)):
        edits += ((ancestors.pop(0), statement),)
        result = spec.compile(edits)
    if isinstance(result, DiagnosticError):
        first = result.diagnostics[0]
        forbid = next((d for d in result.diagnostics if d.code == "SEL302"), None)
        if forbid is not None:
            return f"would break a forbid ({forbid.code}: {forbid.message})"
        return f"does not compile here ({first.code}: {first.message})"
    grants = grants_of(result, spec.kb)
    if not needed <= grants:
        return ""
    return _Candidate(statement, form, edits, frozenset(grants - spec.grants - needed), order)


def _verb_statements(spec: _Spec, phase: str, ttype: str, tclass: str, perms: list[str],
                     ports: list[int]):
    """(form, statement text) for every verb form that may grant one of ``perms`` on
    ``ttype`` in ``phase``, with its parameters filled from the denial."""
    domain = spec.domain(phase)
    ancestors = {spec.domain(a) for a in spec.ancestors(phase)}
    for form in vocab.FORMS:
        symbols = {tpl.target for tpl in form.rules
                   if tpl.source == "self" and tpl.tclass == tclass and set(perms) & set(tpl.perms)
                   and _target_fits(tpl.target, ttype, domain, ancestors, spec)}
        if form.uses and tclass == "fd" and "use" in perms and ttype in ancestors:
            symbols.add("$opener")
        if not symbols:
            continue
        for words in _fill(form, symbols, spec, phase, ttype, ports):
            yield form, " ".join(words)


def _target_fits(symbol: str, ttype: str, domain: str, ancestors: set[str],
                 spec: _Spec) -> bool:
    if symbol == "self":
        return ttype == domain
    if symbol == "$opener":
        return ttype in ancestors
    if symbol == "$starter":
        return ttype == spec.module.starter
    if symbol.startswith("$"):
        return True  # a parameter: _fill decides
    return ttype in spec.kb.expand(symbol)


def _fill(form: vocab.VerbForm, symbols: set[str], spec: _Spec, phase: str, ttype: str,
          ports: list[int]) -> list[tuple[str, ...]]:
    """The form's pattern with each ``<param>`` given values that name the denied target."""
    choices: list[list[str]] = []
    for slot in form.params:
        if slot == "<port>":
            if "$port" not in symbols or ttype not in spec.kb.port_types:
                return []
            protocol = form.protocol or "tcp"
            numbers = [str(n) for n in ports if spec.kb.port_type_for(protocol, n) == ttype]
            choices.append(numbers + [ttype])
        elif slot in ("<file>", "<dir>", "<exec>"):
            if "$arg" in symbols:
                choices.append([spec.spelling(phase, ttype, allow_self=False)])
            elif slot == "<file>" and spec.plain_files:
                # The form's fixed rules name the denied target (pidfile's var_run_t): any of
                # the daemon's own files may be the parameter; compiling each candidate decides.
                choices.append(sorted(spec.plain_files))
            else:
                return []
        else:  # <domain>: the denial does not say which program would be run
            return []
    out = []
    for values in itertools.product(*choices):
        it = iter(values)
        out.append(tuple(next(it) if w.startswith("<") else w for w in form.pattern))
    return out


def _forbidding(spec: _Spec, phase: str, ttype: str, tclass: str,
                perm: str) -> ir.ForbidPattern | None:
    """The first forbid of ``phase`` that a rule granting the permission would break, checked
    by the compiler's own forbid check on a module holding just that rule."""
    return next((pattern for pattern in spec.module.forbids if pattern.phase == phase
                 and _breaks(spec, phase, ttype, tclass, perm, pattern)), None)


def _breaks(spec: _Spec, phase: str, ttype: str, tclass: str, perm: str,
            pattern: ir.ForbidPattern) -> bool:
    """Whether :func:`selkit.ir.passes.check_forbids` rejects a rule granting ``perm``."""
    rule = ir.Allow(spec.domain(phase), ttype, tclass, (perm,),
                    ir.Origin(Span.point(spec.path), "denial"))
    probe = dataclasses.replace(spec.module, rules=(rule,), forbids=(pattern,))
    return bool(passes.check_forbids(probe, spec.kb))


def _phase_model(spec: _Spec, phase: str, ttype: str, tclass: str, perm: str) -> str | None:
    """Why a statement cannot grant this because the compiler owns it (REFERENCE 6), or None:
    ``setcurrent`` and ``dyntransition`` come from ``switch`` alone, forward only."""
    if tclass != "process":
        return None
    if perm == "setcurrent":
        return (f"phase '{phase}' switches nowhere: only the FROM phase of a 'switch' gets "
                "setcurrent (REFERENCE 6.2), and the base policy forbids it to every other "
                "domain (REFERENCE 6.1); the daemon must not call setcon() here")
    target = spec.phase_of_domain(ttype)
    if perm not in ("dyntransition", "transition") or target is None:
        return None
    if target == phase or target in spec.ancestors(phase):
        return (f"a switch from phase '{phase}' back to '{target}' is what the phase model "
                "excludes (REFERENCE 6.2); the daemon must not do this")
    return (f"a switch from phase '{phase}' to '{target}' is declared with "
            f"'switch {phase} -> {target}' in daemon '{spec.daemon}' (REFERENCE 5.8), not "
            "with a phase statement")


def _granting(spec: _Spec, domain: str, ttype: str, tclass: str, perm: str) -> ir.Origin | None:
    for rule in spec.module.allows(domain):
        if (rule.tclass == tclass and perm in rule.perms
                and ttype in spec.kb.expand(rule.target)):
            return rule.origin
    return None


def _statement_item(spec: _Spec, phase: str, ttype: str, tclass: str, perms: tuple[str, ...],
                    outcome: _Candidate | str, covered) -> _Item:
    what = f"{tclass} {_perm_text(perms)} on {ttype}"
    if isinstance(outcome, str):
        return _Item(NONE, f"nothing compiles that grants {what} in phase '{phase}': "
                     f"{outcome}", covered, spec, phase)
    primary = spec.edit(*outcome.edits[0])
    also = tuple(spec.edit(p, s) for p, s in outcome.edits[1:])
    notes = list(_target_notes(spec, phase, ttype, tclass))
    notes.extend(_group_notes(spec, phase, ttype, tclass, perms))
    if outcome.form is not None:
        kind = VERB
        notes.extend(_reopen_notes(spec, phase, outcome.form))
    else:
        kind = ALLOW
        notes.extend(f"rejected {r}" for r in outcome.rejected)
    domain = spec.domain(phase)
    parents = {spec.domain(p) for p, _ in outcome.edits[1:]}
    shown = [g for g in outcome.extra if g[0] not in parents]
    tail = "; it also grants " + _describe(shown, domain) if shown else "; nothing more"
    return _Item(kind, _statement_why(kind, outcome.statement, [what], tail), covered, spec,
                 phase, outcome.statement, primary.path, primary.line, also,
                 tuple(sorted(_grant_text(g, domain) for g in outcome.extra)), tuple(notes),
                 what, tail)


def _statement_why(kind: str, statement: str, whats: list[str], tail: str) -> str:
    if kind == VERB:
        return f"'{statement}' grants {'; '.join(whats)}{tail}"
    return f"no verb grants {'; '.join(whats)}, so a raw allow{tail}"


def _target_notes(spec: _Spec, phase: str, ttype: str, tclass: str):
    earlier = spec.phase_of_domain(ttype)
    if earlier is None or earlier == phase or earlier not in spec.ancestors(phase):
        return
    if tclass == "fd":
        yield (f"'{phase}' uses a descriptor opened in phase '{earlier}': the compiler adds "
               f"this 'fd use' itself with any statement of '{phase}' that uses '{earlier}''s "
               "objects (REFERENCE 6.4); prefer the statement for what the descriptor is for")
    elif tclass not in passes.NOT_FD_CLASSES:
        yield (f"the object was opened in phase '{earlier}' and keeps its label "
               f"{ttype} (REFERENCE 6.3); the compiler adds the 'fd use' on it itself "
               "(fd plumbing, REFERENCE 6.4)")


def _group_notes(spec: _Spec, phase: str, ttype: str, tclass: str, perms):
    """A warning when the permission is in a forbid group that a phase with forbids leaves
    out (a phase without any forbid, usually startup, is not warned about)."""
    if not any(p.phase == phase for p in spec.module.forbids):
        return
    origin = ir.Origin(Span.point(spec.path), "forbid group")
    for group in vocab.FORBID_GROUPS:
        patterns = forbid_group_patterns(phase, group, origin, spec.kb.classes)
        hit = [p for p in sorted(perms)
               if any(_breaks(spec, phase, ttype, tclass, p, pat) for pat in patterns)]
        if hit:
            yield (f"{tclass} {_perm_text(hit)} is in the forbid group '{group}', which phase "
                   f"'{phase}' does not forbid: make sure the daemon needs it, or add "
                   f"'{group}' to 'forbid {phase}' and fix the daemon instead")


def _reopen_notes(spec: _Spec, phase: str, form: vocab.VerbForm):
    if not form.opens:
        return
    for ancestor in spec.ancestors(phase):
        opened = [f for f in vocab.FORMS if f.uses == form.opens]
        for item in _phase_forms(spec, ancestor):
            if item.opens == form.opens and opened:
                yield (f"phase '{ancestor}' opens a {form.opens} resource already, and the "
                       f"denied object is '{phase}''s own: the daemon opens a new one after "
                       f"the switch; if it should keep using '{ancestor}''s instead, the "
                       f"statement is '{opened[0].text()}' and the daemon needs a fix")
                return


def _phase_forms(spec: _Spec, phase: str):
    """The verb forms phase ``phase`` uses, fragments included (read from the IR's origins)."""
    statements = {r.origin.statement for r in spec.module.allows(spec.domain(phase))
                  if r.origin.cause is ir.Cause.SPEC}
    for statement in sorted(statements):
        found = vocab.match([("word", w) for w in statement.split()])
        if found is not None:
            yield found[0]


# ---------------------------------------------------------------------------------------------
# Avcs outside the modules, grouping, text helpers


def _not_ours(index: int, avc: Avc, specs: list[_Spec]) -> _Item:
    names = ", ".join(sorted(s.module.name for s in specs)) or "none given"
    why = f"{avc.stype} is not a phase domain of the modules given ({names})"
    for spec in specs:
        phase = spec.phase_of_domain(avc.ttype)
        if phase is not None:
            why += (f"; the target is phase '{phase}' of module '{spec.module.name}', whose "
                    "rules come from its own statements and 'exec' (REFERENCE 5.2)")
    return _Item(NONE, why, [(index, avc, tuple(avc.perms))])


def _not_an_access(index: int, avc: Avc, specs: list[_Spec]) -> _Item:
    """A record that names no permission: what it means for the spec, where that is known."""
    op = avc.op or "an error record"
    why = f"{op} is not an access decision: no statement allows it"
    for spec in specs:
        source, target = spec.phase_of_domain(avc.stype), spec.phase_of_domain(avc.ttype)
        if op != "security_bounded_transition" or source is None or target is None:
            continue
        switch = next((sw for sw in spec.module.switches
                       if (sw.source, sw.target) == (source, target)), None)
        if switch is None:
            why = (f"setcon() from '{source}' to '{target}' in a multithreaded process needs "
                   f"'{target}' bounded by '{source}', and no 'switch {source} -> {target}' "
                   f"declares it in daemon '{spec.daemon}' (REFERENCE 5.8, 6.2)")
        else:
            why = (f"'switch {source} -> {target}' ({switch.origin.label()}) declares the "
                   "typebounds this transition needs, so the policy that refused it was not "
                   "built from this spec (REFERENCE 6.2)")
    return _Item(NONE, why, [(index, avc, ())])


def _group(items: list[_Item]) -> list[Suggestion]:
    groups: dict[tuple, list[_Item]] = {}
    for item in items:
        groups.setdefault(item.key(), []).append(item)
    out = []
    for members in groups.values():
        first = members[0]
        covered: dict[int, Avc] = {}
        rules: dict[tuple[str, str, str], set[str]] = {}
        notes: list[str] = []
        extra: set[str] = set()
        for item in members:
            for index, avc, perms in item.covered:
                covered.setdefault(index, avc)
                rules.setdefault((avc.stype, avc.ttype, avc.tclass), set()).update(perms)
            notes.extend(n for n in item.notes if n not in notes)
            extra.update(item.extra)
        why = first.why if len(members) == 1 else _merged_why(first, members)
        out.append(Suggestion(
            kind=first.kind, avcs=tuple(covered[i] for i in sorted(covered)), why=why,
            denied=tuple(DeniedRule(s, t, c, tuple(sorted(ps)))
                         for (s, t, c), ps in sorted(rules.items())),
            module=first.spec.module.name if first.spec else None, path=first.path,
            line=first.line, phase=first.phase, statement=first.statement, also=first.also,
            extra=tuple(sorted(extra)), notes=tuple(notes)))
    return sorted(out, key=lambda s: (_KIND_ORDER[s.kind], s.path or "", s.line or 0,
                                      s.phase or "", s.statement or "", s.why))


def _merged_why(first: _Item, members: list[_Item]) -> str:
    if first.kind not in (VERB, ALLOW):
        return first.why
    whats = list(dict.fromkeys(item.what for item in members))
    return _statement_why(first.kind, first.statement, whats, first.tail)


def _perm_text(perms) -> str:
    perms = sorted(perms)
    return perms[0] if len(perms) == 1 else "{ " + " ".join(perms) + " }"


def _rule_text(source: str, target: str, tclass: str, perms) -> str:
    shown = "self" if target == source else target
    return f"allow {source} {shown}:{tclass} {_perm_text(perms)};"


def _grant_text(grant: Grant, domain: str) -> str:
    source, target, tclass, perm = grant
    head = "" if source == domain else f"{source} -> "
    return f"{head}{target}:{tclass} {perm}"


def _describe(grants: Iterable[Grant], domain: str) -> str:
    """``class { perms } on target`` per (source, target, class), sources other than the
    phase named."""
    by_key: dict[tuple[str, str, str], set[str]] = {}
    for source, target, tclass, perm in grants:
        by_key.setdefault((source, target, tclass), set()).add(perm)
    parts = []
    for (source, target, tclass), perms in sorted(by_key.items()):
        who = "" if source == domain else f"{source}: "
        shown = "self" if target == source else target
        parts.append(f"{who}{tclass} {_perm_text(perms)} on {shown}")
    return ", ".join(parts)
