"""The kernel's access-decision and SELinux error records, as the suggestion engine reads them.

Reading them out of console or dmesg text is the lab's part (:mod:`selkit.lab.avc`); here is
only the record, so that anything holding denials can ask for suggestions without the lab.
"""

from __future__ import annotations

from dataclasses import dataclass

AVC = "avc"
SELINUX_ERR = "selinux_err"


@dataclass(frozen=True)
class Avc:
    """One access decision (``kind`` "avc") or SELinux error (``kind`` "selinux_err") record.

    For SELINUX_ERR records ``scontext``/``tcontext`` are the old and new (or source and target)
    contexts the error names, ``perms`` is empty and ``op`` says which check failed (e.g.
    ``security_bounded_transition``); ``pid``/``comm`` then come from the SYSCALL record of the
    same audit event when the kernel printed one. ``syscall`` is that record's syscall number.
    """

    denied: bool
    perms: tuple[str, ...]
    pid: int | None
    comm: str | None
    scontext: str
    tcontext: str
    stype: str
    ttype: str
    tclass: str
    permissive: bool
    raw: str
    kind: str = AVC
    op: str | None = None
    serial: int | None = None
    syscall: int | None = None
    name: str | None = None

    @property
    def rule(self) -> str:
        """The decision as a policy rule (``allow s t:class { perms };``), or the error's op."""
        if self.kind == SELINUX_ERR:
            return f"{self.op}: {self.stype} -> {self.ttype}"
        return f"allow {self.stype} {self.ttype}:{self.tclass} {{ {' '.join(self.perms)} }};"
