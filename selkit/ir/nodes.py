"""The target-neutral policy IR: what one daemon's module declares and allows.

Every node carries an :class:`Origin` naming the DSL statement that caused it, so emitters can
write provenance comments and the prover can trace a permission back to a line.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from selkit.diagnostics import Diagnostic, Span

#: The phase exec enters; every daemon has one.
ENTRY_PHASE = "startup"
#: The phase the daemon serves in; every daemon has one and nothing switches out of it.
STEADY_PHASE = "steady"
REQUIRED_PHASES = (ENTRY_PHASE, STEADY_PHASE)
#: The domain that executes the daemon when an ``exec`` names no ``from``.
DEFAULT_STARTER = "init_t"
#: The target word for a rule on the subject's own domain.
SELF = "self"


def own_type_name(daemon: str, name: str) -> str:
    """The type a daemon's own name (a phase, a file, ``startup_exec``) becomes."""
    return f"{daemon}_{name}_t"


def own_name_of(daemon: str, type_name: str) -> str | None:
    """The inverse of :func:`own_type_name`: ``name`` for ``DAEMON_name_t``, else None."""
    prefix = f"{daemon}_"
    if type_name.startswith(prefix) and type_name.endswith("_t") \
            and len(type_name) > len(prefix) + 2:
        return type_name[len(prefix):-2]
    return None


class Cause(str, enum.Enum):
    """Why a node exists."""

    SPEC = "spec"            # written by the author (a verb or a raw allow)
    PHASE = "phase"          # phase semantics the compiler owns (bounds, setcurrent, fd use)
    ENTRY = "entry"          # entry from the starting domain (exec type, transition)
    DECL = "decl"            # a declaration (type, attribute, role)


@dataclass(frozen=True, order=True)
class Origin:
    """The DSL statement behind an IR node."""

    span: Span
    statement: str
    cause: Cause = Cause.SPEC

    def label(self) -> str:
        """``file.sel:LINE`` for comments."""
        return self.span.short()


class TypeRole(str, enum.Enum):
    """What a declared type is for."""

    DOMAIN = "domain"
    EXEC = "exec"
    FILE = "file"


@dataclass(frozen=True)
class TypeDecl:
    """``type NAME;`` with its attributes and, for domains, its role."""

    name: str
    role: TypeRole
    attributes: tuple[str, ...]
    origin: Origin
    phase: str | None = None


@dataclass(frozen=True, order=True)
class Allow:
    """``allow SOURCE TARGET:CLASS { PERMS };``; ``target`` may be ``self``."""

    source: str
    target: str
    tclass: str
    perms: tuple[str, ...]
    origin: Origin = field(compare=False)

    def key(self) -> tuple[str, str, str]:
        """(source, target, class)."""
        return (self.source, self.target, self.tclass)


@dataclass(frozen=True)
class TypeTransition:
    """``type_transition SOURCE TARGET:CLASS DEFAULT;``."""

    source: str
    target: str
    tclass: str
    default: str
    origin: Origin


@dataclass(frozen=True)
class TypeBounds:
    """``typebounds PARENT CHILD;``: CHILD may hold nothing PARENT lacks."""

    parent: str
    child: str
    origin: Origin


class FileKind(enum.StrEnum):
    """The kind of file a file-context entry labels (``ANY``: every kind)."""

    ANY = "any"
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    SOCKET = "socket"
    PIPE = "pipe"
    CHAR = "char"
    BLOCK = "block"


#: The suffix of a file context that labels a directory and everything below it.
TREE_SUFFIX = "(/.*)?"


@dataclass(frozen=True)
class FileContext:
    """One file-context entry: a path regex, a file kind and the type it gets."""

    regex: str
    kind: FileKind
    type: str
    origin: Origin

    @property
    def path(self) -> str | None:
        """The one path the regex names (for ``DIR(/.*)?``, the tree's root ``DIR``), as
        restorecon and mkdir take it; None when the regex matches by pattern."""
        root = self.regex.removesuffix(TREE_SUFFIX)
        if any(ch in root.replace("\\.", "") for ch in "[]()*+?|^$\\"):
            return None
        return root.replace("\\.", ".")


@dataclass(frozen=True)
class Phase:
    """A phase and its domain; ``parent`` is the phase that switches into it (None: entry)."""

    name: str
    domain: str
    parent: str | None
    origin: Origin


class AnchorPosition(enum.StrEnum):
    """Where generated code goes relative to an anchor's text."""

    BEFORE = "before"
    AFTER = "after"
    REPLACE = "replace"


@dataclass(frozen=True)
class Anchor:
    """A place in the daemon's C source named by the spec (``patch`` or ``prepare``).

    ``position`` says where the code goes relative to the anchor text; ``text_span`` is the
    anchor string's span, so a diagnostic about the source points at it.
    """

    file: str
    position: AnchorPosition
    text: str
    origin: Origin
    text_span: Span


@dataclass(frozen=True)
class SpecValue:
    """A C expression or macro name from the spec, with the statement that gave it."""

    text: str
    origin: Origin


@dataclass(frozen=True)
class Switch:
    """How the daemon moves from one phase's domain to the next (setcon).

    ``patch`` is where the setcon() call goes, ``prepare`` where the /proc attr fd is opened
    (before the chroot), ``context`` the C expression holding the context, ``build`` the macro
    the project defines when built with libselinux, ``fatal`` the project's way to report a
    fatal error (C with ``{message}``); all None when the spec does not say.
    """

    source: str
    target: str
    option: str | None
    origin: Origin
    patch: Anchor | None = None
    prepare: Anchor | None = None
    context: SpecValue | None = None
    build: SpecValue | None = None
    fatal: SpecValue | None = None


@dataclass(frozen=True)
class ForbidPattern:
    """A permission pattern a phase must never hold; None fields match anything."""

    phase: str
    target: str | None
    tclass: str
    perms: tuple[str, ...] | None
    origin: Origin
    except_self: bool = False  # the phase's own domain (its /proc/PID files) is exempt
    exempt_targets: tuple[str, ...] = ()  # targets a named exemption spares (sorted)

    def exempts(self, target: str, domain: str) -> bool:
        """Whether a grant on ``target`` to the phase's ``domain`` escapes this pattern."""
        return (self.except_self and target == domain) or target in self.exempt_targets

    def matches(self, tclass: str, perm: str, target: str, domain: str,
                covers: Callable[[str, str], bool]) -> bool:
        """Whether ``domain`` holding ``tclass`` ``perm`` on ``target`` breaks this pattern;
        ``covers(pattern_target, target)`` says whether the pattern's target names ``target``
        (through attributes: the compiler's check and the prover expand differently)."""
        return (tclass == self.tclass and (self.perms is None or perm in self.perms)
                and not self.exempts(target, domain)
                and (self.target is None or covers(self.target, target)))


#: The targets of the ``selinuxfs`` exemption of the ``write`` group (selinuxfs, security_t):
#: each write there is a request the kernel gates with its own ``security`` permission
#: (check_context, load_policy, setenforce, ...), not a data write. forbid_groups.EXEMPTIONS
#: lists it with the other exemptions.
SELF_EXEMPT_TARGETS = frozenset({"security_t"})


Rule = Allow | TypeTransition | TypeBounds


class SyscallSource(enum.StrEnum):
    """What put a system call into (or out of) a phase's seccomp allow list."""

    PERMISSION = "permission"  # a permission the phase's own rules grant gates it
    VERB = "verb"              # a verb form that lists its calls (facts/data/verb_syscalls.json)
    ALLOW = "allow"            # 'syscalls allow'
    DENY = "deny"              # 'syscalls deny'
    BASELINE = "baseline"      # the runtime baseline (facts/data/runtime_syscalls.json)


@dataclass(frozen=True)
class SyscallStatement:
    """A lowered ``syscalls allow``/``deny`` or a verb form's own list, in one phase:
    resolved x86_64 names (families expanded), with the statement behind them."""

    phase: str
    source: SyscallSource
    names: tuple[str, ...]
    origin: Origin
    detail: str = ""  # a verb form's reason; the families a statement named
    written: tuple[str, ...] = ()  # the names a statement wrote out (not through a family)
    written_spans: tuple[Span, ...] = ()  # where each of ``written`` is


@dataclass(frozen=True)
class SyscallDefault:
    """``syscalls default ACTION``: what the phase's filter does with every other call."""

    phase: str
    action: str  # the seccomp action as selkit.facts.seccomp_actions spells it (``errno 1``)
    origin: Origin


@dataclass(frozen=True, order=True)
class SyscallReason:
    """One reason a system call is in (or was denied from) a phase's list: the DSL statement
    (``origin``) or, for the baseline, the group; ``detail`` says what about it."""

    source: SyscallSource
    detail: str
    origin: Origin | None = None


@dataclass(frozen=True)
class SyscallEntry:
    """A system call of a phase's list with every reason it is there."""

    name: str
    nr: int
    reasons: tuple[SyscallReason, ...]


@dataclass(frozen=True)
class PhaseSyscalls:
    """A phase's seccomp filter as data: the allowed calls (by number), those a ``syscalls
    deny`` removed, the default action and its statement (None: the default kill_process)."""

    phase: str
    allowed: tuple[SyscallEntry, ...]
    denied: tuple[SyscallEntry, ...]
    default: str
    default_origin: Origin | None = None

    @property
    def names(self) -> frozenset[str]:
        """The allowed names."""
        return frozenset(e.name for e in self.allowed)


@dataclass(frozen=True)
class PolicyModule:
    """One daemon's compiled module, before any target syntax."""

    name: str
    version: str
    source_path: str
    phases: tuple[Phase, ...]
    types: tuple[TypeDecl, ...]
    rules: tuple[Rule, ...]
    file_contexts: tuple[FileContext, ...]
    switches: tuple[Switch, ...]
    forbids: tuple[ForbidPattern, ...]
    user: str | None
    mls: bool
    starter: str = DEFAULT_STARTER
    daemon: str = ""
    #: The lowered ``syscalls`` statements and verb lists (input of the syscall pass) and what
    #: it computes: each phase's seccomp allow list (selkit.ir.syscall_sets).
    syscall_statements: tuple[SyscallStatement | SyscallDefault, ...] = ()
    syscalls: tuple[PhaseSyscalls, ...] = ()
    #: Diagnostics that do not stop compilation (warnings and notes of the passes).
    notes: tuple[Diagnostic, ...] = ()

    def syscalls_of(self, phase: str) -> PhaseSyscalls:
        """The seccomp list of one phase (after the syscall pass)."""
        return next(s for s in self.syscalls if s.phase == phase)

    def phase(self, name: str) -> Phase:
        """The phase called ``name``."""
        return next(p for p in self.phases if p.name == name)

    @property
    def entry(self) -> Phase:
        """The phase exec enters (:data:`ENTRY_PHASE`)."""
        return self.phase(ENTRY_PHASE)

    @property
    def steady(self) -> Phase:
        """The phase the daemon serves in (:data:`STEADY_PHASE`)."""
        return self.phase(STEADY_PHASE)

    def types_of(self, role: TypeRole) -> tuple[str, ...]:
        """The declared types of one role, in declaration order."""
        return tuple(t.name for t in self.types if t.role is role)

    @property
    def exec_type(self) -> str:
        """The entry file type: the one the starter's exec transitions through into the entry
        phase (the first declared :attr:`TypeRole.EXEC` type)."""
        return self.types_of(TypeRole.EXEC)[0]

    def domain_of(self, phase: str) -> str:
        """The domain type of a phase."""
        return self.phase(phase).domain

    def allows(self, source: str | None = None) -> tuple[Allow, ...]:
        """The allow rules, optionally those of one source type."""
        return tuple(r for r in self.rules if isinstance(r, Allow)
                     and (source is None or r.source == source))

    def allow_rules_of(self, phase: str) -> tuple[Allow, ...]:
        """The phase's *allow rules*: the module's allow rules whose source is the phase's
        domain, compiler plumbing included. ``compile`` and ``check`` print how many each
        phase has; ``prove`` names the same number beside the permissions they declare."""
        return self.allows(self.domain_of(phase))

    @property
    def own_types(self) -> frozenset[str]:
        """Every type this module declares."""
        return frozenset(t.name for t in self.types)
