"""The typed syntax tree of a ``.sel`` file: frozen dataclasses, each with its source span.

No Lark type ever appears here; :mod:`selkit.dsl.to_ast` converts Lark's tree into these nodes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from selkit.diagnostics import Span


@dataclass(frozen=True)
class Word:
    """An identifier or keyword used as a word (type, class, permission, verb, argument)."""

    text: str
    span: Span


@dataclass(frozen=True)
class Str:
    """A double-quoted string; ``value`` has escapes resolved, ``raw`` is the source text."""

    value: str
    raw: str
    span: Span


class ArgKind(enum.StrEnum):
    """What a verb argument is written as; each member equals its lower-case name as a string."""

    WORD = "word"      # a name or a keyword used as a word
    INT = "int"        # 53
    RANGE = "range"    # 6000-6010
    STRING = "string"  # "text" (the argument's text has escapes resolved)
    STAR = "star"      # *


@dataclass(frozen=True)
class Arg:
    """One verb argument: its kind and its text."""

    kind: ArgKind
    text: str
    span: Span

    @property
    def is_word(self) -> bool:
        """True for a bare word (name or keyword)."""
        return self.kind == ArgKind.WORD


class PermKind(enum.StrEnum):
    """How a permission set is written; each member equals its lower-case name as a string."""

    ONE = "one"    # perm
    ALL = "all"    # *
    LIST = "list"  # { perm perm ... }


@dataclass(frozen=True)
class PermSet:
    """``perm``, ``*`` or ``{ perm perm ... }``."""

    kind: PermKind
    perms: tuple[Word, ...]
    span: Span


@dataclass(frozen=True)
class Verb:
    """A vocabulary statement such as ``udp bind port dns_port_t``."""

    name: Word
    args: tuple[Arg, ...]
    span: Span


@dataclass(frozen=True)
class Allow:
    """The raw escape hatch ``allow TARGET:CLASS PERMS``."""

    target: Word
    tclass: Word
    perms: PermSet
    span: Span


@dataclass(frozen=True)
class Include:
    """``include FRAGMENT`` inside a phase or fragment."""

    name: Word
    span: Span


@dataclass(frozen=True)
class Syscalls:
    """``syscalls allow|deny NAME|@FAMILY ...`` or ``syscalls default ACTION [N]``: the phase's
    seccomp filter; ``items`` are names, ``@family`` words and (for errno) a number."""

    action: Word
    items: tuple[Word, ...]
    span: Span


PhaseItem = Verb | Allow | Include | Syscalls


@dataclass(frozen=True)
class Phase:
    """``phase NAME { ... }``: what the daemon may do while in that phase."""

    name: Word
    body: tuple[PhaseItem, ...]
    span: Span


@dataclass(frozen=True)
class Fragment:
    """``fragment NAME { ... }``: phase statements reused with ``include``."""

    name: Word
    body: tuple[PhaseItem, ...]
    span: Span


@dataclass(frozen=True)
class Exec:
    """``exec "PATH" [from DOMAIN]``: an entry executable and the domain that starts it."""

    path: Str
    source: Word | None
    span: Span


@dataclass(frozen=True)
class User:
    """``user NAME``: the account the daemon drops to (used by patches and the lab)."""

    name: Word
    span: Span


@dataclass(frozen=True)
class ModuleName:
    """``module NAME [replaces]``: the policy module's name when it differs from the daemon's;
    ``replaces`` (the keyword, when written) says that replacing the base store's module of
    that name is intended."""

    name: Word
    span: Span
    replaces: Word | None = None


@dataclass(frozen=True)
class FileDecl:
    """``file NAME "REGEX" [KIND]``: a file of the daemon's own, with its own type."""

    name: Word
    regex: Str
    kind: Word | None
    span: Span


@dataclass(frozen=True)
class Option:
    """``option "TEMPLATE"``: the daemon's existing command-line switch into the next phase."""

    template: Str
    span: Span


@dataclass(frozen=True)
class PatchAnchor:
    """``patch "FILE" after|before|replace "TEXT"``: where the generated setcon() call goes."""

    file: Str
    position: Word
    anchor: Str
    span: Span


@dataclass(frozen=True)
class PrepareAnchor:
    """``prepare "FILE" before "TEXT"``: where the attr fd is opened (before the chroot)."""

    file: Str
    position: Word
    anchor: Str
    span: Span


@dataclass(frozen=True)
class ContextExpr:
    """``context "EXPR"``: the C expression that holds the requested context."""

    expr: Str
    span: Span


@dataclass(frozen=True)
class BuildMacro:
    """``build "MACRO"``: the project's macro defined when it is built with libselinux."""

    macro: Str
    span: Span


@dataclass(frozen=True)
class FatalReport:
    """``fatal "C"``: how the project reports a fatal error, ``{message}`` standing for the
    text (a ``const char *``)."""

    report: Str
    span: Span


SwitchItem = Option | PatchAnchor | PrepareAnchor | ContextExpr | BuildMacro | FatalReport


@dataclass(frozen=True)
class Switch:
    """``switch FROM -> TO { ... }``: the setcon() from one phase's domain to another's."""

    source: Word
    target: Word
    items: tuple[SwitchItem, ...]
    span: Span


@dataclass(frozen=True)
class ForbidItem:
    """One pattern in a ``forbid`` block: ``[TARGET:]CLASS [PERMS]`` or a named group."""

    target: Word | None
    name: Word
    perms: PermSet | None
    span: Span


@dataclass(frozen=True)
class Forbid:
    """``forbid PHASE { ... }``: assertions that the phase never holds these permissions."""

    phase: Word
    items: tuple[ForbidItem, ...]
    span: Span


DaemonItem = Exec | ModuleName | User | FileDecl | Phase | Switch | Forbid


@dataclass(frozen=True)
class Daemon:
    """``daemon NAME { ... }``: one confined program and its phases."""

    name: Word
    items: tuple[DaemonItem, ...]
    span: Span

    def of(self, kind: type) -> tuple:
        """The items of one node type, in source order."""
        return tuple(i for i in self.items if isinstance(i, kind))


@dataclass(frozen=True)
class Use:
    """``use "PATH"``: bring another file's fragments into scope."""

    path: Str
    span: Span


TopItem = Use | Fragment | Daemon


@dataclass(frozen=True)
class Comment:
    """A ``#`` comment, kept so that ``selkit fmt`` can put it back."""

    text: str
    span: Span


@dataclass(frozen=True)
class Module:
    """A parsed ``.sel`` file."""

    path: str
    items: tuple[TopItem, ...]
    comments: tuple[Comment, ...] = ()

    def of(self, kind: type) -> tuple:
        """The top-level items of one node type, in source order."""
        return tuple(i for i in self.items if isinstance(i, kind))
