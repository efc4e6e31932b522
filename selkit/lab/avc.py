"""AVC, SELINUX_ERR and seccomp records from dmesg or serial-console text.

The AVC records themselves are parsed by sepolgen's audit parser (``sepolgen.audit.AVCMessage``,
the class audit2allow uses); this module finds them in noisy console text (timestamps such as
``[   12.345678]``, other output glued to the front of a line, ``\\r``), adds the fields sepolgen
does not keep (pid, permissive, the audit serial) and reads SELINUX_ERR records (bounded
transition, invalid contexts), which sepolgen does not parse in their current form. The
records are :class:`selkit.suggest.avc.Avc`, what the suggestion engine reads.

With no auditd, the kernel prints audit records through ``printk_ratelimit()`` (10 per 5 s by
default): a guest must write 0 to /proc/sys/kernel/printk_ratelimit before the records that
matter, or they are lost; :func:`lost_records` counts what the kernel says it dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from sepolgen import audit as sepolgen_audit
from sepolgen import refpolicy

from selkit.facts.numbers import AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, numbers
from selkit.suggest.avc import SELINUX_ERR, Avc
from selkit.suggest.syscalls import SeccompRecord

#: An audit record header, with the record type when the console or auditd printed one. The
#: time is the kernel's (``1747735203.111``) or, in ``ausearch -i`` output, local time
#: (``05/20/25 10:00:03.111``, then `` :``).
_HEADER = re.compile(
    r"(?:type=(?P<type>\w+)\s+(?:msg=)?)?audit\("
    r"(?P<time>\d+\.\d+|\d+/\d+/\d+ \d+:\d+:\d+\.\d+):(?P<serial>\d+)\) ?:")
#: An AVC without a header (journald/syslog forms such as ``audit[12]: AVC avc:  denied ...``).
_BARE_AVC = re.compile(r"\bavc:\s+(?:denied|granted)\b")
_PID = re.compile(r"(?<![\w-])pid=(\d+)")
_COMM = re.compile(r"(?<![\w-])comm=(?:\"([^\"]*)\"|([0-9A-Fa-f]+)(?=\s|$))")
_NAME = re.compile(r"(?<![\w-])name=(?:\"([^\"]*)\"|([0-9A-Fa-f]+)(?=\s|$))")
_PERMISSIVE = re.compile(r"(?<![\w-])permissive=(\d)")
_FIELD = re.compile(r"(?<![\w-])(\w+)=(\"[^\"]*\"|\S+)")
_SUPPRESSED = re.compile(r"kauditd_printk_skb: (\d+) callbacks suppressed")
_AUDIT_LOST = re.compile(r"audit_lost=(\d+)")

_SELINUX_ERR_TYPES = {"1401", "SELINUX_ERR"}
_SECCOMP_TYPES = {"1326", "SECCOMP"}
_SYSCALL_TYPES = {"1300", "SYSCALL"}


class _AvcMessage(sepolgen_audit.AVCMessage):
    """sepolgen's AVC record without ``analyze()``, which would consult the host's policy
    (and refuse the lab's types, or fail, on a host whose policy lacks them)."""

    def analyze(self) -> None:
        self.type = None
        self.data: list[object] = []


@dataclass(frozen=True)
class _Segment:
    text: str
    type: str | None
    serial: int | None


def parse_avcs(text: str) -> list[Avc]:
    """Every AVC (denied and granted) and SELINUX_ERR record in ``text``, in order.

    A record the kernel printed twice (console and a later dmesg dump) is kept once; records
    that sepolgen cannot parse (truncated lines) are skipped.
    """
    segments = [seg for line in text.splitlines() for seg in _segments(line)]
    syscalls = {seg.serial: _fields(seg.text) for seg in segments
                if seg.type in _SYSCALL_TYPES and seg.serial is not None}
    records: list[Avc] = []
    seen: set[tuple[int, str]] = set()
    for seg in segments:
        if seg.serial is not None:
            key = (seg.serial, seg.text)
            if key in seen:
                continue
            seen.add(key)
        event = syscalls.get(seg.serial, {}) if seg.serial is not None else {}
        record = None
        if bare := _BARE_AVC.search(seg.text):
            record = _avc(seg, event, bare.start())
        elif seg.type in _SELINUX_ERR_TYPES or (seg.type is None and "op=security_" in seg.text):
            record = _selinux_err(seg, event)
        if record is not None:
            records.append(record)
    return records


def parse_seccomp(text: str) -> list[SeccompRecord]:
    """Every seccomp record (``type=1326`` on the console, ``type=SECCOMP`` from auditd, raw or
    as ``ausearch -i`` prints it) in ``text``, in order, each once; one without ``arch`` or
    ``syscall`` (a truncated line) is skipped. ``domain`` is empty when the record has no
    ``subj`` (a kernel without SELinux).

    The kernel writes (kernel/auditsc.c, audit_seccomp): ``auid= uid= gid= ses= subj=CONTEXT
    pid= comm="..." exe="..." sig= arch=HEX syscall= compat= ip= code=HEX``.
    """
    records: list[SeccompRecord] = []
    seen: set[tuple[int, str]] = set()
    for line in text.splitlines():
        for seg in _segments(line):
            if seg.type not in _SECCOMP_TYPES or seg.serial is None:
                continue
            if (seg.serial, seg.text) in seen:
                continue
            seen.add((seg.serial, seg.text))
            fields = _fields(seg.text)
            try:
                arch, nr = _call(fields["arch"], fields["syscall"])
                domain = _type_of(fields.get("subj", ""))
            except (KeyError, ValueError):
                continue
            records.append(SeccompRecord(
                domain, arch, nr, _int(_PID, seg.text), seg.text,
                _untrusted(_COMM.search(seg.text)), _hex(fields.get("code")),
                int(fields["sig"]) if fields.get("sig", "").isdigit() else None, seg.serial))
    return records


#: ``ausearch -i`` names the architecture (auparse's machine names).
_ARCH_NAMES = {"x86_64": AUDIT_ARCH_X86_64, "i386": AUDIT_ARCH_I386}


def _call(arch: str, syscall: str) -> tuple[int, int]:
    """``seccomp_data.arch`` and ``nr`` of a record: as the kernel prints them (hex, decimal) or
    as ``ausearch -i`` does (``arch=x86_64 syscall=newfstatat``); ValueError or KeyError when
    neither (a name no table has)."""
    number = _ARCH_NAMES.get(arch)
    arch_value = int(arch, 16) if number is None else number
    if syscall.isdigit():
        return arch_value, int(syscall)
    return arch_value, numbers("i386" if arch_value == AUDIT_ARCH_I386 else "x86_64"
                               ).number(syscall)


def _event_syscall(event: dict[str, str]) -> int | None:
    """The call number of an event's SYSCALL record (named by ``ausearch -i``), if it has one."""
    try:
        return _call(event.get("arch", "c000003e"), event["syscall"])[1]
    except (KeyError, ValueError):
        return None


def _hex(value: str | None) -> int | None:
    try:
        return int(value, 16) if value else None
    except ValueError:
        return None


def lost_records(text: str) -> int:
    """How many audit records the kernel says it did not print (rate limit, backlog)."""
    suppressed = sum(int(m.group(1)) for m in _SUPPRESSED.finditer(text))
    lost = max((int(m.group(1)) for m in _AUDIT_LOST.finditer(text)), default=0)
    return suppressed + lost


def _segments(line: str) -> Iterator[_Segment]:
    """The audit records in one console line: from each header to the next."""
    line = line.replace("\r", "")
    starts = list(_HEADER.finditer(line))
    if not starts:
        match = _BARE_AVC.search(line)
        if match:
            yield _Segment(line[match.start():].strip(), None, None)
        elif "op=security_" in line and "SELINUX_ERR" in line:
            yield _Segment(line[line.index("op=security_"):].strip(), None, None)
        return
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(line)
        yield _Segment(line[match.start():end].strip(), match.group("type"),
                       int(match.group("serial")))


def _fields(text: str) -> dict[str, str]:
    return {key: value for key, value in _FIELD.findall(text)}


def _untrusted(match: re.Match | None) -> str | None:
    """A field the kernel prints quoted, or hex-encoded when it holds spaces or quotes."""
    if match is None:
        return None
    if match.group(1) is not None:
        return match.group(1)
    try:
        return bytes.fromhex(match.group(2)).decode("utf-8", "replace")
    except ValueError:
        return match.group(2)


def _int(pattern: re.Pattern, text: str) -> int | None:
    match = pattern.search(text)
    return int(match.group(1)) if match else None


def _avc(seg: _Segment, event: dict[str, str], start: int) -> Avc | None:
    """The AVC record ``seg``, whose ``avc:`` word starts at ``start``."""
    body = seg.text[start:]
    message = _AvcMessage(seg.text)
    try:
        message.from_split_string([token.strip("\x1c\x1d\x1e\x85") for token in seg.text.split()])
    except ValueError:
        return None
    permissive = _PERMISSIVE.search(body)
    return Avc(
        denied=message.denial,
        perms=tuple(message.accesses),
        pid=_int(_PID, body),
        comm=_untrusted(_COMM.search(body)),
        scontext=message.scontext.to_string(),
        tcontext=message.tcontext.to_string(),
        stype=message.scontext.type,
        ttype=message.tcontext.type,
        tclass=message.tclass,
        permissive=bool(permissive and permissive.group(1) == "1"),
        raw=seg.text,
        serial=seg.serial,
        syscall=_event_syscall(event),
        name=_untrusted(_NAME.search(body)),
    )


#: For each SELINUX_ERR op: the fields holding the source and target contexts.
_ERR_CONTEXTS = {
    "security_bounded_transition": ("oldcontext", "newcontext"),
    "security_validate_transition": ("oldcontext", "newcontext"),
    "security_compute_sid": ("scontext", "tcontext"),
}


def _selinux_err(seg: _Segment, event: dict[str, str]) -> Avc | None:
    fields = _fields(seg.text)
    op = fields.get("op")
    if op is None:
        return None
    source_key, target_key = _ERR_CONTEXTS.get(op, ("scontext", "tcontext"))
    scontext = fields.get(source_key) or fields.get("oldcontext") or fields.get("scontext", "")
    tcontext = fields.get(target_key) or fields.get("newcontext") or fields.get("tcontext", "")
    tclass = fields.get("tclass", "process" if op == "security_bounded_transition" else "")
    comm = event.get("comm")
    return Avc(
        denied=fields.get("seresult", "denied") != "allowed",
        perms=(),
        pid=int(event["pid"]) if event.get("pid", "").isdigit() else None,
        comm=_untrusted(_COMM.search(f"comm={comm}")) if comm else None,
        scontext=scontext,
        tcontext=tcontext,
        stype=_type_of(scontext),
        ttype=_type_of(tcontext),
        tclass=tclass,
        permissive=fields.get("permissive") == "1",
        raw=seg.text,
        kind=SELINUX_ERR,
        op=op,
        serial=seg.serial,
        syscall=_event_syscall(event),
    )


def _type_of(context: str) -> str:
    if context.count(":") < 2:
        return ""
    try:
        return refpolicy.SecurityContext(context).type
    except ValueError:
        return context.split(":")[2]
