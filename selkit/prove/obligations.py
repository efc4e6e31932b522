"""The proof obligations: small classes that read a phase's classified grants and give a verdict
with evidence. They register themselves (``__init_subclass__``) in :data:`REGISTRY`, in order.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from selkit.analysis.effective import Classified, Grant, Reach
from selkit.analysis.profile import PROBE_SELF
from selkit.diagnostics import Span
from selkit.ir import nodes as ir
from selkit.ir.nodes import STEADY_PHASE

FILE_LIKE = ("file", "dir", "lnk_file", "chr_file", "blk_file", "sock_file", "fifo_file")
#: Classes whose write permissions change stored data (sock_file write is connect(2)).
DATA_CLASSES = ("file", "dir", "lnk_file", "chr_file", "blk_file", "fifo_file")
WRITE_PERMS = frozenset({"write", "append", "create", "unlink", "rename", "setattr"})
EXEC_PERMS = frozenset({"execute", "execute_no_trans", "entrypoint", "map"})
SECURITY_PERMS = frozenset({"load_policy", "setenforce", "setbool"})
RAW_CLASSES = frozenset({"rawip_socket", "packet_socket"})


class Verdict(str, enum.Enum):
    """The outcome of one obligation."""

    HOLDS = "holds"
    REFUTED = "refuted"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Evidence:
    """One fact behind a verdict: a grant and how it reaches the domain (or a plain note).

    ``text`` is the fact in words; for a grant, ``grant`` (as shown), ``reach`` (the rule it
    comes through) and ``claim`` (what it breaks, e.g. a forbid) say the same in parts, so
    reports group and reword without reading the text back."""

    text: str
    span: Span | None = None
    fix: str | None = None
    grant: str | None = None
    reach: Reach | None = None
    claim: str | None = None

    @classmethod
    def through(cls, grant: str, reach: Reach, *, claim: str | None = None,
                span: Span | None = None, fix: str | None = None) -> Evidence:
        """``[CLAIM is broken by ]GRANT <- REACH``, kept in parts too."""
        head = f"{claim} is broken by " if claim else ""
        return cls(f"{head}{grant} <- {reach.describe()}", span, fix, grant, reach, claim)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        out: dict = {"text": self.text}
        if self.span:
            out["at"] = f"{self.span.path}:{self.span.line}"
        if self.fix:
            out["fix"] = self.fix
        return out


@dataclass
class Result:
    """An obligation's verdict for one module."""

    id: str
    title: str
    verdict: Verdict
    summary: str
    evidence: list[Evidence] = field(default_factory=list)
    accepted: list[Evidence] = field(default_factory=list)  # baseline exceptions, listed
    #: An obligation's own JSON-ready data, under its own keys (docs/json.md: ``syscalls`` of
    #: steady-syscalls).
    extra: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"id": self.id, "title": self.title, "verdict": self.verdict.value,
                "summary": self.summary, "evidence": [e.to_dict() for e in self.evidence],
                "accepted": [e.to_dict() for e in self.accepted], **self.extra}


@dataclass
class Context:
    """What every obligation may read: the spec's module and each phase's classified grants."""

    module: ir.PolicyModule
    phases: dict[str, Classified]
    exec_types: frozenset[str]
    has_bounds: set[tuple[str, str]]
    #: The types a base-policy name stands for (the knowledge base's attribute expansion).
    expand: Callable[[str], frozenset[str]]
    #: Every attribute each type of the linked modules is in (derived ones included).
    linked_attributes: dict[str, frozenset[str]] = field(default_factory=dict)

    def domain(self, phase: str) -> str:
        """Domain type of a phase."""
        return self.module.domain_of(phase)

    #: The phase every daemon ends in (the compiler requires it, SEL306).
    steady: ClassVar[str] = STEADY_PHASE


REGISTRY: list[type[Obligation]] = []


class Obligation:
    """Base class: subclasses set ``id`` and ``title`` and implement :meth:`run`."""

    id: ClassVar[str]
    title: ClassVar[str]

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "id" in cls.__dict__:  # abstract helpers define no id
            REGISTRY.append(cls)

    def run(self, ctx: Context) -> Result:  # pragma: no cover - abstract
        raise NotImplementedError


def _reach_evidence(grant: Grant, reaches: list[Reach], fix: str | None = None) -> Evidence:
    reach = reaches[0]
    span = reach.origin.span if reach.origin else None
    return Evidence.through(grant.text(), reach, span=span, fix=fix)


def _leak_fix(reach: Reach) -> str | None:
    if reach.origin is not None:
        return f"remove or narrow the statement at {reach.origin.label()}"
    if reach.source != PROBE_SELF and not reach.source.endswith("_t"):
        return f"do not put the domain in attribute {reach.source}"
    return None


def _counts(phase: str, c: Classified, rules: int) -> str:
    """What a phase holds, in the words of every report: *grants* (a target type, class and
    permission the domain holds, attributes expanded), *declared* when the module's allow
    rules of the phase give them (``rules``, the number ``compile`` prints for the phase),
    *baseline* when the domain attribute brings them."""
    return (f"{phase}: {len(c.declared)} declared grants (from the module's {rules} allow "
            f"rule{'s' if rules != 1 else ''}) + {len(c.baseline)} baseline grants")


class _Exact(Obligation):
    """Shared: a phase's grants are its declared ones plus the accepted baseline."""

    phase_role: ClassVar[str]

    def phases(self, ctx: Context) -> list[str]:
        raise NotImplementedError

    def run(self, ctx: Context) -> Result:
        evidence, accepted, counts = [], [], []
        for phase in self.phases(ctx):
            c = ctx.phases[phase]
            counts.append(_counts(phase, c, len(ctx.module.allow_rules_of(phase))))
            for grant, reaches in c.leaks.items():
                evidence.append(_reach_evidence(grant, reaches, _leak_fix(reaches[0])))
            for grant in c.missing:
                evidence.append(Evidence(f"{grant.text()} is declared but not in the policy"))
            for grant, reaches in c.baseline.items():
                accepted.append(Evidence(f"{phase}: {grant.text()} <- {reaches[0].describe()}"))
        verdict = Verdict.REFUTED if evidence else Verdict.HOLDS
        summary = "; ".join(counts) + (f"; {len(evidence)} extra" if evidence else "; nothing else")
        return Result(self.id, self.title, verdict, summary, evidence, accepted)


class SteadyExact(_Exact):
    """O1: the steady domain holds exactly its declared I/O (plus the listed baseline)."""

    id = "steady-exact"
    title = "steady holds exactly what the spec declares"

    def phases(self, ctx: Context) -> list[str]:
        return [ctx.steady]


class Transitions(Obligation):
    """O2: no way out of steady, forward-only switches, nothing back into startup."""

    id = "transitions"
    title = "no transition out of steady; switches forward only"

    def run(self, ctx: Context) -> Result:
        evidence = []
        children: dict[str, set[str]] = {}
        for sw in ctx.module.switches:
            children.setdefault(sw.source, set()).add(ctx.domain(sw.target))
        entry = ctx.module.entry
        for phase, c in ctx.phases.items():
            domain = ctx.domain(phase)
            for grant in sorted(c.all, key=Grant.key):
                if grant.tclass != "process":
                    continue
                reaches = c.reaches(grant)
                if phase == ctx.steady and grant.perm in ("transition", "dyntransition"):
                    evidence.append(_reach_evidence(grant, reaches, "steady must not leave"))
                if phase == ctx.steady and grant.perm == "setcurrent":
                    evidence.append(_reach_evidence(grant, reaches, "steady must not setcon()"))
                if grant.perm == "dyntransition" and grant.target != domain and \
                        grant.target not in children.get(phase, set()):
                    evidence.append(_reach_evidence(grant, reaches,
                                                    "only a declared switch may dyntransition"))
                if grant.target == entry.domain and phase != entry.name and grant.perm in (
                        "transition", "dyntransition"):
                    evidence.append(_reach_evidence(grant, reaches,
                                                    f"nothing may switch back into {entry.name}"))
        for grant, reaches in ctx.phases[ctx.steady].leaks.items():
            if grant.tclass == "file" and grant.perm == "entrypoint":
                evidence.append(_reach_evidence(grant, reaches))
        evidence += self._inbound(ctx, children, entry)
        summary = ("steady has no transition, dyntransition or setcurrent; "
                   + ", ".join(f"{p} -> {', '.join(sorted(t))}" for p, t in children.items())
                   + f"; nothing back into {entry.name}")
        return Result(self.id, self.title, Verdict.REFUTED if evidence else Verdict.HOLDS,
                      summary if not evidence else f"{len(evidence)} violation(s)", evidence)


    @staticmethod
    def _inbound(ctx: Context, children: dict[str, set[str]], entry: ir.Phase) -> list[Evidence]:
        """Only the starter may transition into the entry phase, and only a declared switch
        may dyntransition into a later one."""
        expected = {(ctx.module.starter, entry.domain, "transition")}
        expected |= {(ctx.domain(p), child, "dyntransition")
                     for p, targets in children.items() for child in targets}
        out = []
        for phase, c in ctx.phases.items():
            domain = ctx.domain(phase)
            for grant, reaches in sorted(c.inbound.items(), key=lambda kv: kv[0].key()):
                if grant.tclass != "process" or grant.perm not in ("transition", "dyntransition"):
                    continue
                if (grant.target, domain, grant.perm) in expected:
                    continue
                cond = f" [if {grant.conditional}]" if grant.conditional else ""
                reach = reaches[0]
                out.append(Evidence.through(
                    f"{grant.target} may {grant.perm} into {domain}{cond}", reach,
                    span=reach.origin.span if reach.origin else None,
                    fix=f"only {ctx.module.starter} enters {entry.name}, and only declared "
                        "switches lead to later phases"))
        return out


class Bounds(Obligation):
    """O3: typebounds parent ⊇ child holds (and is declared)."""

    id = "bounds"
    title = "typebounds: every phase is a subset of the one before"

    def run(self, ctx: Context) -> Result:
        evidence, checked = [], []
        parent_of = {ctx.domain(s.target): ctx.domain(s.source) for s in ctx.module.switches}
        for sw in ctx.module.switches:
            parent, child = ctx.domain(sw.source), ctx.domain(sw.target)
            if (parent, child) not in ctx.has_bounds:
                evidence.append(Evidence(f"typebounds {parent} {child} is missing", None,
                                         "the compiler adds it for each switch"))
                continue
            have = ctx.phases[sw.source].all
            for grant in sorted(ctx.phases[sw.target].all, key=Grant.key):
                target = parent_of.get(grant.target, grant.target)
                mapped = Grant(target, grant.tclass, grant.perm, grant.conditional)
                if mapped not in have:
                    c = ctx.phases[sw.target]
                    reaches = c.reaches(grant)
                    evidence.append(_reach_evidence(grant, reaches,
                                                    f"{sw.source} lacks it: {mapped.text()}"))
            checked.append(f"{parent} ⊇ {child}")
        return Result(self.id, self.title, Verdict.REFUTED if evidence else Verdict.HOLDS,
                      ", ".join(checked) or "no switch", evidence)


class Dangerous(Obligation):
    """O4: steady holds no capability, exec, file write, ptrace, module load, policy change,
    raw/packet/netlink socket or name_bind, and name_connect only to declared ports, unless the
    spec declares it."""

    id = "no-dangerous"
    title = "steady: no capability, exec, write, ptrace, module load, raw socket, bind"

    def category(self, grant: Grant, ctx: Context, domain: str) -> str | None:
        if grant.tclass in ("capability", "capability2"):
            return "capability"
        if grant.tclass in FILE_LIKE and grant.perm in EXEC_PERMS and grant.target in \
                ctx.exec_types:
            return "exec"
        if grant.tclass in DATA_CLASSES and grant.perm in WRITE_PERMS and grant.target != domain:
            return "write"
        if grant.tclass == "process" and grant.perm == "ptrace":
            return "ptrace"
        if grant.tclass == "system" and grant.perm == "module_load":
            return "module load"
        if grant.tclass == "security" and grant.perm in SECURITY_PERMS:
            return "policy change"
        if grant.tclass in RAW_CLASSES or grant.tclass.startswith("netlink"):
            return "raw/packet/netlink socket"
        if grant.perm == "name_bind":
            return "name_bind"
        if grant.perm == "name_connect":
            return "name_connect"
        return None

    def run(self, ctx: Context) -> Result:
        c = ctx.phases[ctx.steady]
        domain = ctx.domain(ctx.steady)
        evidence, accepted, declared = [], [], []
        for grant in sorted(c.all, key=Grant.key):
            cat = self.category(grant, ctx, domain)
            if cat is None:
                continue
            if grant in c.declared:
                declared.append(f"{cat}: {grant.text()}")
            elif grant in c.baseline:
                accepted.append(Evidence(f"{cat}: {grant.text()} <- "
                                         f"{c.baseline[grant][0].describe()}"))
            else:
                evidence.append(_reach_evidence(grant, c.leaks[grant], _leak_fix(
                    c.leaks[grant][0])))
        summary = "none undeclared" if not evidence else f"{len(evidence)} undeclared"
        if declared:
            summary += "; declared by the spec: " + ", ".join(declared)
        return Result(self.id, self.title, Verdict.REFUTED if evidence else Verdict.HOLDS,
                      summary, evidence, accepted)


class Forbids(Obligation):
    """O5: every ``forbid`` of the spec holds over the phase's effective grants."""

    id = "forbids"
    title = "every forbid holds over the effective policy"

    def run(self, ctx: Context) -> Result:
        def covers(pattern_target: str, target: str) -> bool:  # grants name single types
            return (target == pattern_target or target in ctx.expand(pattern_target)
                    or pattern_target in ctx.linked_attributes.get(target, ()))

        broken: list[tuple[int, Grant]] = []
        patterns = list(ctx.module.forbids)
        for phase in sorted({p.phase for p in patterns}):
            c, domain = ctx.phases[phase], ctx.domain(phase)
            by_class: dict[str, list[int]] = {}
            for i, pattern in enumerate(patterns):
                if pattern.phase == phase:
                    by_class.setdefault(pattern.tclass, []).append(i)
            for grant in c.all:
                for i in by_class.get(grant.tclass, ()):
                    if patterns[i].matches(grant.tclass, grant.perm, grant.target, domain,
                                           covers):
                        broken.append((i, grant))
        evidence = []
        for i, grant in sorted(broken, key=lambda item: (item[0], item[1].key())):
            pattern = patterns[i]
            reaches = ctx.phases[pattern.phase].reaches(grant)
            evidence.append(Evidence.through(
                grant.text(), reaches[0], span=pattern.origin.span,
                claim=f"{pattern.origin.statement} (at {pattern.origin.label()})"))
        return Result(self.id, self.title, Verdict.REFUTED if evidence else Verdict.HOLDS,
                      f"{len(patterns)} forbid pattern(s)" + (
                          "" if not evidence else f", {len(evidence)} broken"), evidence)


class StartupExact(_Exact):
    """O6: every earlier phase holds nothing beyond what it declares (leaks into startup)."""

    id = "startup-exact"
    title = "earlier phases hold exactly what the spec declares"

    def phases(self, ctx: Context) -> list[str]:
        return [p for p in ctx.phases if p != ctx.steady]
