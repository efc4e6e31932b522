"""Ordered pure passes over the IR: the phase semantics the compiler owns, then checks.

``PASSES`` rewrite a :class:`~selkit.ir.nodes.PolicyModule` into a new one; ``CHECKS`` return
diagnostics. :func:`run` applies both in order (dsl/REFERENCE.md section 6 says what must hold).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable

from selkit.diagnostics import Diagnostic, DiagnosticError, Related, Severity, Span
from selkit.ir import nodes as ir
from selkit.ir.declare import DOMAIN_ATTRIBUTES, SWITCHING_ATTRIBUTES
from selkit.ir.kb import KnowledgeBase
from selkit.ir.syscall_sets import add_syscalls, check_syscalls

ENTRY_EXEC_PERMS = ("entrypoint", "execute", "getattr", "map", "open", "read")
STARTER_EXEC_PERMS = ("execute", "getattr", "map", "open", "read")

#: Classes whose objects are not file descriptors (rules on them need no ``fd use``).
NOT_FD_CLASSES = frozenset({"process", "process2", "fd", "capability", "capability2",
                             "system", "security"})


def declare_domains(module: ir.PolicyModule) -> ir.PolicyModule:
    """A domain type per phase; a phase that switches away also gets ``set_curr_context``."""
    switching = {s.source for s in module.switches}
    decls = [ir.TypeDecl(p.domain, ir.TypeRole.DOMAIN,
                         tuple(sorted(DOMAIN_ATTRIBUTES + (SWITCHING_ATTRIBUTES
                                                           if p.name in switching else ()))),
                         p.origin, phase=p.name)
             for p in module.phases]
    return dataclasses.replace(module, types=tuple(decls) + module.types)


def starter_rules(module: ir.PolicyModule, exec_type: str, starter: str,
                  origin: ir.Origin) -> list[ir.Rule]:
    """What ``starter`` needs to exec ``exec_type`` into the entry phase: run the file,
    transition, and be signalled when the daemon exits. The ``.te`` grants them to the real
    starter; the ``.if`` offers the same rules to any caller (``$1``)."""
    entry = module.entry.domain
    return [
        ir.Allow(starter, exec_type, "file", STARTER_EXEC_PERMS, origin),
        ir.Allow(starter, entry, "process", ("transition",), origin),
        ir.TypeTransition(starter, exec_type, "process", entry, origin),
        ir.Allow(entry, starter, "process", ("sigchld",), origin),
    ]


def add_entry(module: ir.PolicyModule) -> ir.PolicyModule:
    """Entry by exec from the starting domain into the entry phase (init_t by default)."""
    rules: list[ir.Rule] = []
    for decl in module.types:
        if decl.role is not ir.TypeRole.EXEC:
            continue
        origin = dataclasses.replace(decl.origin, cause=ir.Cause.ENTRY)
        rules += starter_rules(module, decl.name, module.starter, origin)
        rules.append(ir.Allow(module.entry.domain, decl.name, "file", ENTRY_EXEC_PERMS, origin))
    return dataclasses.replace(module, rules=tuple(rules) + module.rules)


#: What libselinux needs, before the switch, to check that SELinux is enabled and that the
#: requested context is valid (is_selinux_enabled(): statfs of selinuxfs and a look at
#: /etc/selinux/config; security_check_context(): a write to /sys/fs/selinux/context), as
#: the patched daemons do before they chroot. Seen denied under the lab's enforcing kernel.
SWITCH_CHECKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("security_t", "filesystem", ("getattr",)),
    ("selinux_config_t", "dir", ("search",)),
    ("security_t", "dir", ("search",)),
    ("security_t", "file", ("open", "read", "write")),
    ("security_t", "security", ("check_context",)),
)


def add_switches(module: ir.PolicyModule) -> ir.PolicyModule:
    """For each switch, forward only: typebounds, ``setcurrent`` on self, ``dyntransition``,
    and the libselinux checks of :data:`SWITCH_CHECKS` in the phase that switches."""
    rules: list[ir.Rule] = []
    for sw in module.switches:
        src, dst = module.domain_of(sw.source), module.domain_of(sw.target)
        rules += [
            ir.TypeBounds(src, dst, sw.origin),
            ir.Allow(src, src, "process", ("setcurrent",), sw.origin),
            ir.Allow(src, dst, "process", ("dyntransition",), sw.origin),
        ]
        rules += [ir.Allow(src, target, tclass, perms, sw.origin)
                  for target, tclass, perms in SWITCH_CHECKS]
    return dataclasses.replace(module, rules=module.rules + tuple(rules))


def add_fd_plumbing(module: ir.PolicyModule) -> ir.PolicyModule:
    """``fd use`` on an earlier phase for every object of that phase a later phase touches."""
    domains = {p.domain for p in module.phases}
    extra = []
    for rule in module.allows():
        if (rule.source in domains and rule.target in domains and rule.target != rule.source
                and rule.tclass not in NOT_FD_CLASSES):
            origin = dataclasses.replace(rule.origin, cause=ir.Cause.PHASE)
            extra.append(ir.Allow(rule.source, rule.target, "fd", ("use",), origin))
    return dataclasses.replace(module, rules=module.rules + tuple(extra))


def add_bounds_plumbing(module: ir.PolicyModule) -> ir.PolicyModule:
    """Give a parent the compiler's own child rules mapped to it, so typebounds holds.

    Only compiler-made rules are mirrored (``fd use`` on the parent's own objects, which the
    kernel never checks for the parent itself); an author's rule that the parent lacks is an
    error (:func:`check_bounds`). A child's rule is mapped as libsepol and the kernel check it
    (:func:`_bounds_target`): in a chain startup -> loading -> steady, loading's
    ``dyntransition`` to steady is checked as startup's to loading, which startup has, so no
    phase gains a switch it does not declare. The deepest child goes first, so a rule mirrored
    into a middle phase is mirrored again into that phase's own parent.
    """
    parents = _parents(module)
    depth = {p.domain: i for i, p in enumerate(module.phases)}
    rules = list(module.rules)
    for bounds in sorted(_bounds(module), key=lambda b: depth.get(b.child, 0), reverse=True):
        allows = [r for r in rules if isinstance(r, ir.Allow)]
        have = _perm_triples([r for r in allows if r.source == bounds.parent], bounds.parent)
        for rule in allows:
            if rule.source != bounds.child or rule.origin.cause is not ir.Cause.PHASE:
                continue
            target = _bounds_target(rule.target, parents)
            missing = tuple(p for p in rule.perms if (target, rule.tclass, p) not in have)
            if missing:
                rules.append(ir.Allow(bounds.parent, target, rule.tclass, missing, rule.origin))
                have.update((target, rule.tclass, p) for p in missing)
    return dataclasses.replace(module, rules=tuple(rules))


def normalize(module: ir.PolicyModule) -> ir.PolicyModule:
    """Merge permissions per statement and rule key, drop duplicates, sort canonically."""
    phase_index = {p.domain: i for i, p in enumerate(module.phases)}
    merged: dict[tuple, set[str]] = defaultdict(set)
    origins: dict[tuple, ir.Origin] = {}
    others: dict[tuple, ir.Rule] = {}
    for rule in module.rules:
        if isinstance(rule, ir.Allow):
            # Compiler plumbing is stated once, at its first cause; an author's rules keep
            # one line per statement so each traces back to its own line.
            where = None if rule.origin.cause is ir.Cause.PHASE else rule.origin.span
            key = (rule.source, rule.target, rule.tclass, where, rule.origin.cause)
            merged[key] |= set(rule.perms)
            origins.setdefault(key, rule.origin)
        elif isinstance(rule, ir.TypeTransition):
            others.setdefault(("tt", rule.source, rule.target, rule.tclass, rule.default), rule)
        else:
            others.setdefault(("tb", rule.parent, rule.child), rule)
    allows = [ir.Allow(k[0], k[1], k[2], tuple(sorted(v)), origins[k]) for k, v in merged.items()]

    def order(rule: ir.Rule) -> tuple:
        if isinstance(rule, ir.TypeBounds):
            return (0, phase_index.get(rule.child, 99), "", "", "")
        source = rule.source
        group = 1 if phase_index.get(source) is not None else 2
        return (group, phase_index.get(source, 99), source, rule.origin.span,
                rule.target, rule.tclass, isinstance(rule, ir.TypeTransition))

    rules = sorted([*allows, *others.values()], key=order)
    role_order = {ir.TypeRole.DOMAIN: 0, ir.TypeRole.EXEC: 1, ir.TypeRole.FILE: 2}
    types = sorted(module.types, key=lambda t: (role_order[t.role],
                                                phase_index.get(t.name, 99), t.name))
    fcs = sorted(module.file_contexts, key=lambda f: (f.origin.span, f.regex))
    return dataclasses.replace(module, rules=tuple(rules), types=tuple(types),
                               file_contexts=tuple(fcs))


PASSES: tuple[Callable[[ir.PolicyModule], ir.PolicyModule], ...] = (
    declare_domains,
    add_entry,
    add_switches,
    add_fd_plumbing,
    add_bounds_plumbing,
    normalize,
    add_syscalls,
)


# ---------------------------------------------------------------------------------------------
# Checks


def check_bounds(module: ir.PolicyModule, kb: KnowledgeBase) -> list[Diagnostic]:
    """Every later phase asks for no more than the phase that switches into it (typebounds)."""
    out = []
    own_attrs = own_attribute_members(module)
    parents = _parents(module)
    for bounds in _bounds(module):
        parent_rules = module.allows(bounds.parent)
        have = _perm_triples(parent_rules, bounds.parent)
        parent_name = _phase_name(module, bounds.parent)
        child_name = _phase_name(module, bounds.child)
        # One diagnostic per statement, listing everything it needs that the parent lacks.
        lacking: dict[Span, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        origins: dict[Span, ir.Origin] = {}
        remapped: dict[Span, tuple[str, str]] = {}
        for rule in module.allows(bounds.child):
            target = _bounds_target(rule.target, parents)
            missing = [p for p in rule.perms
                       if not _covered(rule.target, rule.tclass, p, parent_rules, parents,
                                       have, kb, own_attrs)]
            if not missing:
                continue
            shown = target if target != bounds.parent else "itself"
            perms = f"{rule.tclass} {{ {' '.join(missing)} }}"
            if shown not in lacking[rule.origin.span][perms]:
                lacking[rule.origin.span][perms].append(shown)
            origins.setdefault(rule.origin.span, rule.origin)
            if rule.target != bounds.child and target != rule.target:
                remapped.setdefault(rule.origin.span, (rule.target, target))
        for span, items in lacking.items():
            origin = origins[span]
            statement = (f"'{origin.statement}'" if origin.statement and
                         origin.cause is ir.Cause.SPEC else "the same statement")
            hint = (f"typebounds makes '{parent_name}' a superset of '{child_name}': "
                    f"add {statement} to phase '{parent_name}'")
            if span in remapped:
                later, earlier = remapped[span]
                hint = (f"typebounds checks objects of {later} as objects of {earlier} (a "
                        f"bounded type stands for its parent): open the resource in phase "
                        f"'{_phase_name(module, earlier)}' instead")
            out.append(Diagnostic(
                "SEL301",
                f"phase '{child_name}' asks for more than phase '{parent_name}' has: "
                + "; ".join(f"{perms} on {' and '.join(targets)}"
                            for perms, targets in items.items()),
                span, hint=hint))
    return out


def check_forbids(module: ir.PolicyModule, kb: KnowledgeBase) -> list[Diagnostic]:
    """No rule of a phase matches a ``forbid`` pattern of that phase."""
    out = []
    own_attrs = own_attribute_members(module)

    def covers(pattern_target: str, target: str) -> bool:  # a rule's target may be an attribute
        return bool(_expand(pattern_target, kb, own_attrs) & _expand(target, kb, own_attrs))

    for pattern in module.forbids:
        domain = module.domain_of(pattern.phase)
        for rule in module.allows(domain):
            perms = [p for p in rule.perms
                     if pattern.matches(rule.tclass, p, rule.target, domain, covers)]
            if not perms:
                continue
            who = (f"'{rule.origin.statement}'" if rule.origin.statement and
                   rule.origin.cause is ir.Cause.SPEC else "this statement")
            out.append(Diagnostic(
                "SEL302",
                f"phase '{pattern.phase}' forbids {rule.tclass} {{ {' '.join(perms)} }}, "
                f"but {who} grants it on {rule.target}",
                rule.origin.span, Severity.ERROR,
                hint="remove the statement, or the forbid if the phase really needs it",
                related=(Related(pattern.origin.span, "forbidden here"),)))
    return out


def check_references(module: ir.PolicyModule, kb: KnowledgeBase) -> list[Diagnostic]:
    """Every type, attribute, class and permission a rule names exists (SEL402)."""
    own = module.own_types
    out = []
    for decl in module.types:
        for attr in decl.attributes:
            if attr not in kb.attributes:
                out.append(Diagnostic(
                    "SEL401", f"the base policy has no attribute '{attr}', which the refpolicy "
                    "target needs", decl.origin.span,
                    hint="a binary policy drops attributes used only in neverallows; pass its "
                         "module store with --base-store, or compile against a refpolicy-based "
                         "policy"))
    for rule in module.rules:
        names = _rule_names(rule)
        for name in names:
            if name not in own and not kb.is_type_or_attribute(name):
                out.append(Diagnostic(
                    "SEL402", f"this statement needs type '{name}', which the base policy "
                    f"({kb.source}) does not have", rule.origin.span))
        if isinstance(rule, ir.Allow):
            valid = kb.classes.get(rule.tclass)
            if valid is None:
                out.append(Diagnostic("SEL402", f"this statement needs class '{rule.tclass}', "
                                      "which the base policy does not have", rule.origin.span))
            else:
                for perm in rule.perms:
                    if perm not in valid:
                        out.append(Diagnostic(
                            "SEL402", f"this statement needs permission '{rule.tclass} "
                            f"{perm}', which the base policy does not have", rule.origin.span))
    return _unique(out)


CHECKS = (check_references, check_bounds, check_forbids)


def run(module: ir.PolicyModule, kb: KnowledgeBase) -> ir.PolicyModule:
    """Apply every pass, then every check; raise DiagnosticError if a check fails."""
    for compiler_pass in PASSES:
        module = compiler_pass(module)
    diagnostics = [d for check in CHECKS for d in check(module, kb)]
    errors, notes = check_syscalls(module)
    diagnostics += errors
    if diagnostics:
        raise DiagnosticError(sorted(diagnostics, key=lambda d: (d.span, d.code)))
    return dataclasses.replace(module, notes=tuple(sorted([*module.notes, *notes],
                                                          key=lambda d: (d.span, d.code))))


# ---------------------------------------------------------------------------------------------
# Helpers


def _bounds(module: ir.PolicyModule) -> list[ir.TypeBounds]:
    return [r for r in module.rules if isinstance(r, ir.TypeBounds)]


def _phase_name(module: ir.PolicyModule, domain: str) -> str:
    return next(p.name for p in module.phases if p.domain == domain)


def _perm_triples(rules: Iterable[ir.Allow], source: str) -> set[tuple[str, str, str]]:
    return {(r.target, r.tclass, p) for r in rules for p in r.perms}


def own_attribute_members(module: ir.PolicyModule) -> dict[str, set[str]]:
    """The module's own types of each attribute they are declared in."""
    members: dict[str, set[str]] = defaultdict(set)
    for decl in module.types:
        for attr in decl.attributes:
            members[attr].add(decl.name)
    return members


def _expand(name: str, kb: KnowledgeBase, own_attrs: dict[str, set[str]]) -> frozenset[str]:
    return frozenset(kb.expand(name) | own_attrs.get(name, set()))


def _parents(module: ir.PolicyModule) -> dict[str, str]:
    """Each bounded phase domain and the domain that bounds it (its typebounds parent)."""
    return {b.child: b.parent for b in _bounds(module)}


def _bounds_target(target: str, parents: dict[str, str]) -> str:
    """The target a bounded child's rule is checked on in its parent.

    libsepol (``bounds_check_rule``) and the kernel (``type_attribute_bounds_av``) replace a
    target that is itself bounded by its own parent, and keep any other target: the child's own
    type (``self``) becomes the parent, a later phase becomes the phase before it, an earlier
    phase's object (``tcp io``) or a base type stays as it is.
    """
    return parents.get(target, target)


def _covered(target: str, tclass: str, perm: str, parent_rules: Iterable[ir.Allow],
             parents: dict[str, str], have: set[tuple[str, str, str]], kb: KnowledgeBase,
             own_attrs: dict[str, set[str]]) -> bool:
    if (_bounds_target(target, parents), tclass, perm) in have:
        return True
    wanted = {_bounds_target(t, parents) for t in _expand(target, kb, own_attrs)}
    covering: set[str] = set()
    for rule in parent_rules:
        if rule.tclass == tclass and perm in rule.perms:
            covering |= _expand(rule.target, kb, own_attrs)
    return wanted <= covering


def _rule_names(rule: ir.Rule) -> tuple[str, ...]:
    if isinstance(rule, ir.Allow):
        return (rule.source, rule.target)
    if isinstance(rule, ir.TypeTransition):
        return (rule.source, rule.target, rule.default)
    return (rule.parent, rule.child)


def _unique(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in diags:
        key = (d.code, d.message, d.span)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
