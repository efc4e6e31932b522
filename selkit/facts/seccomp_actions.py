"""Seccomp actions: what a filter's return value tells the kernel to do (linux/seccomp.h); a fact
of the kernel's ABI like the system call numbers, so the IR can check a spec's default action."""

from __future__ import annotations

from dataclasses import dataclass

RET_KILL_PROCESS = 0x80000000
RET_KILL_THREAD = 0x00000000
RET_TRAP = 0x00030000
RET_ERRNO = 0x00050000
RET_USER_NOTIF = 0x7FC00000
RET_TRACE = 0x7FF00000
RET_LOG = 0x7FFC0000
RET_ALLOW = 0x7FFF0000
RET_ACTION_FULL = 0xFFFF0000
RET_DATA = 0x0000FFFF
MAX_ERRNO = 4095

#: Action kind -> its ``SECCOMP_RET_*`` value, most severe first.
KINDS = {
    "kill_process": RET_KILL_PROCESS, "kill_thread": RET_KILL_THREAD, "trap": RET_TRAP,
    "errno": RET_ERRNO, "user_notif": RET_USER_NOTIF, "trace": RET_TRACE, "log": RET_LOG,
    "allow": RET_ALLOW,
}
#: The kinds whose 16 data bits the kernel uses.
WITH_DATA = ("trap", "errno", "trace")
#: Default actions a filter may have: kill the process (the safe default the kernel audits),
#: or for a rollout errno N (the call fails) or log (the call runs and is logged).
DEFAULTS = ("kill_process", "kill_thread", "trap", "errno", "log")
_BY_VALUE = {value: kind for kind, value in KINDS.items()}


@dataclass(frozen=True, order=True)
class Action:
    """One action as the kernel applies it: a kind and, for errno/trap/trace, its data."""

    kind: str
    data: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown seccomp action {self.kind!r}")
        if self.data and self.kind not in WITH_DATA or not 0 <= self.data <= RET_DATA:
            raise ValueError(f"bad data {self.data} for seccomp action {self.kind}")

    @property
    def kills(self) -> bool:
        """The kernel kills the thread or the process (``kill_process``, ``kill_thread``)."""
        return self.kind in ("kill_process", "kill_thread")

    @property
    def ret(self) -> int:
        """The filter return value (``SECCOMP_RET_*`` | data)."""
        return KINDS[self.kind] | self.data

    def __str__(self) -> str:
        return f"{self.kind} {self.data}" if self.kind == "errno" else self.kind

    @classmethod
    def parse(cls, text: str) -> Action:
        """``kill_process``, ``errno 13``, ``log``, ... (the spelling of ``str``)."""
        words = text.split()
        if len(words) == 2 and words[0] in WITH_DATA and words[1].isdigit():
            return cls(words[0], int(words[1]))
        if len(words) == 1 and words[0] in KINDS:
            return cls(words[0])
        raise ValueError(f"not a seccomp action: {text!r}")

    @classmethod
    def from_ret(cls, value: int) -> Action:
        """What the kernel does with a filter's return value (kernel/seccomp.c): the action
        is the top 16 bits, an errno above 4095 is 4095, and an unknown action kills the
        process."""
        value &= 0xFFFFFFFF
        kind = _BY_VALUE.get(value & RET_ACTION_FULL, "kill_process")
        data = value & RET_DATA if kind in WITH_DATA else 0
        return cls(kind, min(data, MAX_ERRNO) if kind == "errno" else data)


KILL_PROCESS = Action("kill_process")
ALLOW = Action("allow")


def default_action(text: str | Action) -> Action:
    """A filter's default action from the spec, refusing the ones a default must not be
    (``allow``: no filter at all; ``trace``/``user_notif``: they need a supervisor)."""
    action = text if isinstance(text, Action) else Action.parse(text)
    if action.kind not in DEFAULTS:
        raise ValueError(f"{action} cannot be a filter's default action "
                         f"(one of {', '.join(DEFAULTS)})")
    if action.kind == "errno" and not 1 <= action.data <= MAX_ERRNO:
        raise ValueError(f"errno must be between 1 and {MAX_ERRNO}, not {action.data}")
    return action
