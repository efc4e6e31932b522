"""The explanations: why each answer, and the notes that warn about what it implies."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from selkit.diagnostics import Span
from selkit.dsl.ast import ArgKind
from selkit.ir import nodes as ir
from selkit.ir import passes, vocab
from selkit.ir.lower import forbid_group_patterns
from selkit.suggest.avc import Avc
from selkit.suggest.checks import breaks
from selkit.suggest.search import Outcome
from selkit.suggest.spec import SpecModel
from selkit.suggest.suggestion import Covered, Item, Kind
from selkit.suggest.wording import describe, grant_text, perm_text


def statement_why(kind: Kind, statement: str, whats: list[str], tail: str) -> str:
    """Why a statement (a verb, else a raw allow) answers what was denied."""
    if kind is Kind.VERB:
        return f"'{statement}' grants {'; '.join(whats)}{tail}"
    return f"no verb grants {'; '.join(whats)}, so a raw allow{tail}"


def forbidden_item(spec: SpecModel, phase: str, pattern: ir.ForbidPattern,
                   covered: list[Covered]) -> Item:
    """The denial is what a forbid of the phase excludes."""
    span = pattern.origin.span
    return Item(Kind.FORBIDDEN, f"forbidden by {pattern.origin.statement} at line {span.line}; "
                "the daemon must not do this", covered, spec.module.name, phase,
                path=span.path, line=span.line)


def granted_item(spec: SpecModel, phase: str, origin: ir.Origin, covered: list[Covered]) -> Item:
    """The spec grants it already: the denial is not the spec's doing."""
    return Item(Kind.GRANTED, f"already granted by '{origin.statement}' ({origin.label()}): the "
                "policy that denied it was not compiled from this spec, or the check is not "
                "type enforcement (a constraint or MLS)", covered, spec.module.name, phase,
                path=origin.span.path, line=origin.span.line)


def statement_item(spec: SpecModel, phase: str, ttype: str, tclass: str,
                   perms: tuple[str, ...], outcome: Outcome, covered: list[Covered]) -> Item:
    """The statement that covers ``perms``, with its notes; or why nothing compiles."""
    what = f"{tclass} {perm_text(perms)} on {ttype}"
    if isinstance(outcome, str):
        return Item(Kind.NONE, f"nothing compiles that grants {what} in phase '{phase}': "
                    f"{outcome}", covered, spec.module.name, phase)
    primary = spec.edit(*outcome.edits[0])
    also = tuple(spec.edit(p, s) for p, s in outcome.edits[1:])
    notes = list(_target_notes(spec, phase, ttype, tclass))
    notes.extend(_group_notes(spec, phase, ttype, tclass, perms))
    if outcome.form is not None:
        kind = Kind.VERB
        notes.extend(_reopen_notes(spec, phase, outcome.form))
    else:
        kind = Kind.ALLOW
        notes.extend(f"rejected {r}" for r in outcome.rejected)
    domain = spec.domain(phase)
    parents = {spec.domain(p) for p, _ in outcome.edits[1:]}
    shown = [g for g in outcome.extra if g[0] not in parents]
    tail = "; it also grants " + describe(shown, domain) if shown else "; nothing more"
    return Item(kind, statement_why(kind, outcome.statement, [what], tail), covered,
                spec.module.name, phase, outcome.statement, primary.path, primary.line, also,
                tuple(sorted(grant_text(g, domain) for g in outcome.extra)), tuple(notes),
                what, tail)


def _target_notes(spec: SpecModel, phase: str, ttype: str, tclass: str) -> Iterator[str]:
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


def _group_notes(spec: SpecModel, phase: str, ttype: str, tclass: str, perms: Iterable[str]
                 ) -> Iterator[str]:
    """A warning when the permission is in a forbid group that a phase with forbids leaves
    out (a phase without any forbid, usually startup, is not warned about)."""
    if not any(p.phase == phase for p in spec.module.forbids):
        return
    origin = ir.Origin(Span.point(spec.path), "forbid group")
    for group in vocab.FORBID_GROUPS:
        patterns = forbid_group_patterns(phase, group, origin, spec.kb.classes)
        hit = [p for p in sorted(perms)
               if any(breaks(spec, phase, ttype, tclass, p, pat) for pat in patterns)]
        if hit:
            yield (f"{tclass} {perm_text(hit)} is in the forbid group '{group}', which phase "
                   f"'{phase}' does not forbid: make sure the daemon needs it, or add "
                   f"'{group}' to 'forbid {phase}' and fix the daemon instead")


def _reopen_notes(spec: SpecModel, phase: str, form: vocab.VerbForm) -> Iterator[str]:
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


def _phase_forms(spec: SpecModel, phase: str) -> Iterator[vocab.VerbForm]:
    """The verb forms phase ``phase`` uses, fragments included (read from the IR's origins)."""
    statements = {r.origin.statement for r in spec.module.allows(spec.domain(phase))
                  if r.origin.cause is ir.Cause.SPEC}
    for statement in sorted(statements):
        found = vocab.match([(ArgKind.WORD, w) for w in statement.split()])
        if found is not None:
            yield found[0]


def not_ours(index: int, avc: Avc, specs: list[SpecModel]) -> Item:
    """A denial of a domain that is no phase of the modules given."""
    names = ", ".join(sorted(s.module.name for s in specs)) or "none given"
    why = f"{avc.stype} is not a phase domain of the modules given ({names})"
    for spec in specs:
        phase = spec.phase_of_domain(avc.ttype)
        if phase is not None:
            why += (f"; the target is phase '{phase}' of module '{spec.module.name}', whose "
                    "rules come from its own statements and 'exec' (REFERENCE 5.2)")
            why += _entry_symptom(spec, phase, avc)
    return Item(Kind.NONE, why, [(index, avc, tuple(avc.perms))])


def _entry_symptom(spec: SpecModel, phase: str, avc: Avc) -> str:
    """What another domain's refused entry into a phase says about the deployment: a switch
    from outside the phase that switches (the daemon never entered it), or an exec under
    no_new_privs, which the module grants no ``nnp_transition`` for."""
    if avc.tclass == "process" and "dyntransition" in avc.perms:
        sources = [sw.source for sw in spec.module.switches if sw.target == phase]
        if sources:
            return (f"; the process that called setcon() was in {avc.stype}, not in phase "
                    f"'{sources[0]}' ({spec.domain(sources[0])}): it did not enter its "
                    "startup domain at exec; check the executable's label (restorecon) and "
                    "that init started it (docs/deploy.md)")
    if avc.tclass == "process2" and {"nnp_transition", "nosuid_transition"} & set(avc.perms):
        return ("; the daemon was started with no_new_privs (systemd's NoNewPrivileges= or "
                "an option that implies it) or from a nosuid mount, and the module grants no "
                "nnp_transition or nosuid_transition into its phases; start it without "
                "(docs/deploy.md)")
    return ""


def not_an_access(index: int, avc: Avc, specs: list[SpecModel]) -> Item:
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
    return Item(Kind.NONE, why, [(index, avc, ())])
