"""The candidate search: statements of the verb vocabulary (and a raw ``allow`` last) that,
added to a copy of the spec and compiled, grant what was denied.

Each candidate is checked by the compiler itself (lowering and every pass, typebounds and
forbids included); the verb granting the fewest permissions beyond the denied ones wins.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from selkit.diagnostics import DiagnosticError
from selkit.ir import nodes as ir
from selkit.ir import vocab
from selkit.suggest.spec import SpecModel, grants_of
from selkit.suggest.wording import Grant, perm_text


@dataclass(frozen=True)
class Candidate:
    """A statement that compiles and grants what was denied."""

    statement: str
    form: vocab.VerbForm | None
    edits: tuple[tuple[str, str], ...]
    extra: frozenset[Grant]
    order: int
    rejected: tuple[str, ...] = ()  # verbs that would grant it but break the spec


#: What covers some permissions: a candidate, or why nothing compiles.
Outcome = Candidate | str


def cover(spec: SpecModel, phase: str, ttype: str, tclass: str, perms: list[str],
          ports: list[int]) -> list[tuple[tuple[str, ...], Outcome]]:
    """Statements covering ``perms``: one verb for all, else one verb per permission where
    one fits, and a raw allow for the rest (or the reason nothing compiles)."""
    best, rejected = _best_verb(spec, phase, ttype, tclass, perms, ports)
    if best is not None:
        return [(tuple(perms), best)]
    out: list[tuple[tuple[str, ...], Outcome]] = []
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
        raw = _try(spec, phase, f"allow {target}:{tclass} {perm_text(rest)}", None,
                   _needed(spec, phase, ttype, tclass, rest), 0)
        if isinstance(raw, Candidate):
            raw = dataclasses.replace(raw, rejected=tuple(dict.fromkeys(rejected)))
        out.append((tuple(rest), raw or "the raw allow does not grant it"))
    return out


def _needed(spec: SpecModel, phase: str, ttype: str, tclass: str, perms: Iterable[str]
            ) -> frozenset[Grant]:
    domain = spec.domain(phase)
    return frozenset((domain, ttype, tclass, p) for p in perms)


def _best_verb(spec: SpecModel, phase: str, ttype: str, tclass: str, perms: list[str],
               ports: list[int]) -> tuple[Candidate | None, list[str]]:
    """The verb statement granting ``perms`` with the fewest extra grants, and the verbs
    that would grant them but break the spec (with the compiler's reason)."""
    needed = _needed(spec, phase, ttype, tclass, perms)
    found, rejected = [], []
    for order, (form, statement) in enumerate(_verb_statements(spec, phase, ttype, tclass,
                                                               perms, ports)):
        outcome = _try(spec, phase, statement, form, needed, order)
        if isinstance(outcome, Candidate):
            found.append(outcome)
        elif outcome:
            rejected.append(f"'{statement}' {outcome}")
    if not found:
        return None, rejected
    return min(found, key=lambda c: (len(c.extra), len(c.edits), c.order)), rejected


def _try(spec: SpecModel, phase: str, statement: str, form: vocab.VerbForm | None,
         needed: frozenset[Grant], order: int) -> Outcome:
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
    return Candidate(statement, form, edits, frozenset(grants - spec.grants - needed), order)


def _verb_statements(spec: SpecModel, phase: str, ttype: str, tclass: str, perms: list[str],
                     ports: list[int]) -> Iterator[tuple[vocab.VerbForm, str]]:
    """(form, statement text) for every verb form that may grant one of ``perms`` on
    ``ttype`` in ``phase``, with its parameters filled from the denial."""
    domain = spec.domain(phase)
    ancestors = {spec.domain(a) for a in spec.ancestors(phase)}
    for form in vocab.FORMS:
        symbols = {tpl.target for tpl in form.rules
                   if tpl.source == ir.SELF and tpl.tclass == tclass
                   and set(perms) & set(tpl.perms)
                   and _target_fits(tpl.target, ttype, domain, ancestors, spec)}
        if form.uses and tclass == "fd" and "use" in perms and ttype in ancestors:
            symbols.add("$opener")
        if not symbols:
            continue
        for words in _fill(form, symbols, spec, phase, ttype, ports):
            yield form, " ".join(words)


def _target_fits(symbol: str, ttype: str, domain: str, ancestors: set[str],
                 spec: SpecModel) -> bool:
    if symbol == ir.SELF:
        return ttype == domain
    if symbol == "$opener":
        return ttype in ancestors
    if symbol == "$starter":
        return ttype == spec.module.starter
    if symbol.startswith("$"):
        return True  # a parameter: _fill decides
    return ttype in spec.kb.expand(symbol)


def _fill(form: vocab.VerbForm, symbols: set[str], spec: SpecModel, phase: str, ttype: str,
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
