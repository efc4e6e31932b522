"""Which records of a host's log concern the specs: the rest is counted and set aside.

A host's audit.log holds the denials and seccomp records of every confined program, the
userspace object managers' USER_AVC records (systemd, dbus) and SELinux errors of other
domains. Only a record that names a phase domain of the modules given (as its source, or as
the target of another domain's request, such as init's switch into a phase) can be answered
from a spec; a record of another domain is no question for these specs, so it gets no
suggestion: it is counted, per domain, and left out (:class:`SetAside`). Pure, like
:func:`selkit.suggest.suggest`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from selkit.ir import nodes as ir
from selkit.suggest.avc import Avc
from selkit.suggest.syscalls import SeccompRecord


@dataclass(frozen=True)
class DomainCount:
    """How many records of one domain were set aside (``domain`` is the source type of a
    denial, the ``subj`` type of a seccomp record; empty when the record has no context)."""

    domain: str
    denials: int
    seccomp: int

    @property
    def total(self) -> int:
        """Denials and seccomp records together."""
        return self.denials + self.seccomp


@dataclass(frozen=True)
class SetAside:
    """The records that name no phase domain of the modules given, per domain (most records
    first, then by name)."""

    domains: tuple[DomainCount, ...] = ()

    @property
    def denials(self) -> int:
        """Denial records set aside."""
        return sum(d.denials for d in self.domains)

    @property
    def seccomp(self) -> int:
        """Seccomp records set aside."""
        return sum(d.seccomp for d in self.domains)


@dataclass(frozen=True)
class Scoped:
    """A log's records split: those that concern the specs, and what was set aside."""

    denials: tuple[Avc, ...]
    seccomp: tuple[SeccompRecord, ...]
    set_aside: SetAside


def phase_domains(modules: Iterable[ir.PolicyModule]) -> frozenset[str]:
    """The domain of every phase of ``modules``."""
    return frozenset(p.domain for m in modules for p in m.phases)


def scope(denials: Sequence[Avc], records: Sequence[SeccompRecord],
          modules: Iterable[ir.PolicyModule]) -> Scoped:
    """The denials whose source or target is a phase domain of ``modules`` and the seccomp
    records whose domain is one, in their order; every other record counted in
    :attr:`Scoped.set_aside`."""
    ours = phase_domains(modules)
    kept_denials = tuple(a for a in denials if a.stype in ours or a.ttype in ours)
    kept_records = tuple(r for r in records if r.domain in ours)
    other_denials = Counter(a.stype for a in denials if a.stype not in ours
                            and a.ttype not in ours)
    other_records = Counter(r.domain for r in records if r.domain not in ours)
    counts = [DomainCount(d, other_denials[d], other_records[d])
              for d in set(other_denials) | set(other_records)]
    counts.sort(key=lambda c: (-c.total, c.domain))
    return Scoped(kept_denials, kept_records, SetAside(tuple(counts)))
