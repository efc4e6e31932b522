"""What the engine answers: a kind of suggestion, the edits it asks for, the denials it covers."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import assert_never

from selkit.suggest.avc import Avc
from selkit.suggest.wording import rule_text


class Kind(enum.Enum):
    """What to do about a denial."""

    VERB = "verb"            # add a vocabulary statement
    ALLOW = "allow"          # no verb fits: add a raw allow
    FORBIDDEN = "forbidden"  # a forbid of the phase excludes it: the daemon must not do this
    GRANTED = "granted"      # the spec already grants it: the denial is not the spec's doing
    NONE = "none"            # not a phase domain of any module given, or nothing compiles

    @property
    def adds_statement(self) -> bool:
        """Whether the answer is a statement to add to the spec."""
        match self:
            case Kind.VERB | Kind.ALLOW:
                return True
            case Kind.FORBIDDEN | Kind.GRANTED | Kind.NONE:
                return False
            case _:
                assert_never(self)

    @property
    def rank(self) -> int:
        """Where suggestions of this kind come in the list: edits first, then what the spec
        already decides, then what it cannot."""
        match self:
            case Kind.VERB | Kind.ALLOW:
                return 0
            case Kind.FORBIDDEN:
                return 1
            case Kind.GRANTED:
                return 2
            case Kind.NONE:
                return 3
            case _:
                assert_never(self)


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
        return rule_text(self.source, self.target, self.tclass, self.perms)


@dataclass(frozen=True)
class Suggestion:
    """What to do about one group of denials, and where in the spec.

    For :attr:`Kind.VERB` and :attr:`Kind.ALLOW`, ``statement`` goes after line ``line`` of
    ``path`` (the last statement of phase ``phase``, or its opening line), and each edit of
    ``also`` too. For :attr:`Kind.FORBIDDEN` and :attr:`Kind.GRANTED`, ``path``/``line`` point
    at the forbid item or the granting statement. ``denied`` are the refused permissions this
    suggestion is about (an AVC's other permissions may belong to another suggestion);
    ``extra`` what the statement grants beyond them (``target:class perm``, prefixed
    ``source ->`` for a source other than the phase).
    """

    kind: Kind
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
        """Every statement to add (empty unless the kind adds a statement)."""
        if not self.kind.adds_statement:
            return ()
        assert (self.path is not None and self.line is not None and self.phase is not None
                and self.statement is not None), "a statement's suggestion says where it goes"
        return (Edit(self.path, self.line, self.phase, self.statement),) + self.also


#: A denial an answer covers: its index among the denials, the record, the permissions.
Covered = tuple[int, Avc, tuple[str, ...]]


@dataclass
class Item:
    """One answer before grouping: a kind, a place, and the denied (avc, perms) it covers."""

    kind: Kind
    why: str
    covered: list[Covered]
    module: str | None = None
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
        """Items with equal keys are one suggestion."""
        return (self.kind, self.path, self.line, self.phase, self.statement, self.also,
                "" if self.kind.adds_statement else self.why)
