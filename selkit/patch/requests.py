"""``selkit patch`` as a library call: which switch each spec asks a patch for, the headers of
each mail, the series regenerated in order, and which committed files are then obsolete."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from selkit.diagnostics import Diagnostic, DiagnosticError
from selkit.ir import nodes as ir
from selkit.patch import mail
from selkit.patch.series import (
    Request,
    SeriesPatch,
    Slot,
    generate,
    numbered,
    plan_series,
    read_series,
    series_total,
)
from selkit.patch.udiff import SOURCE_ENCODING
from selkit.seccomp.bpf import Filter

if TYPE_CHECKING:
    from selkit.toolchain import Progress


def requests_for(specs: tuple[str, ...], modules: tuple[ir.PolicyModule, ...]) -> list[Request]:
    """One request per spec: the switch of its daemon that names a patch anchor (SEL707 if
    none or several do)."""
    out = []
    for spec in specs:
        mods = [m for m in modules if m.source_path == spec]
        switches = [(m, s) for m in mods for s in m.switches if s.patch is not None]
        if len(switches) > 1:
            raise DiagnosticError([Diagnostic(
                "SEL707", f"{spec} has {len(switches)} switches with a 'patch'; selkit patch "
                "generates one patch per spec", switches[1][1].origin.span)])
        if not switches:
            anyone = next((s for m in mods for s in m.switches), None)
            raise DiagnosticError([Diagnostic(
                "SEL707", f"{spec}: no switch has a 'patch'; nothing to generate",
                anyone.origin.span if anyone else None,
                hint='add patch "FILE" replace "TEXT", context "EXPR" and build "MACRO" to '
                     'the switch')])
        module, switch = switches[0]
        out.append(Request(label(spec), module.daemon, switch))
    return out


def headers(slot: Slot, author: str | None, date: str | None,
            previous: str | None) -> tuple[str, str]:
    """Explicit options, else what the earlier patch from this spec says, else the defaults
    (the date: that of the patch before it in the series, if any)."""
    old = mail.read_mail(slot.replaces.text) if slot.replaces else None
    last = mail.read_mail(previous) if previous else None
    chosen_author = author or (old.author if old and old.author else mail.DEFAULT_AUTHOR)
    chosen_date = date or (old.date if old and old.date else
                           last.date if last and last.date else mail.DEFAULT_DATE)
    return mail.check_author(chosen_author), mail.format_date(chosen_date)


def check_headers(author: str | None, date: str | None) -> None:
    """SEL7xx up front for a malformed --author or --date."""
    if author:
        mail.check_author(author)
    if date:
        mail.format_date(date)


@dataclass
class SeriesRun:
    """The regenerated patches (in series order) and the series they go into."""

    slots: list[Slot]
    series_dir: Path | None
    done: list[Slot] = field(default_factory=list)

    def files(self) -> dict[str, bytes]:
        """Every generated patch, by file name, as bytes (a Latin-1 source line rides in the
        text as surrogates)."""
        return {name: text.encode(*SOURCE_ENCODING)
                for name, text, _ in (s.generated() for s in self.done)}

    def obsolete(self) -> list[str]:
        """Committed files a regenerated patch replaces under a new name."""
        return [s.replaces.name for s in self.done
                if s.replaces and s.replaces.name != s.name]

    def stale(self) -> list[Slot]:
        """Slots whose committed patch is missing or differs from the regenerated one."""
        return [s for s in self.slots
                if s.replaces is None or s.replaces.name != s.name or s.replaces.text != s.text]


def regenerate(specs: tuple[str, ...], modules: tuple[ir.PolicyModule, ...], *, source: str,
               series_dir: str | None, author: str | None = None, date: str | None = None,
               progress: Progress | None = None,
               steady: Mapping[str, Filter] | None = None) -> SeriesRun:
    """Generate each spec's patch in memory, in series order, each on top of the patches that
    precede it; nothing is written. ``steady`` maps a daemon to the seccomp filter its hook
    loads after the switch (a daemon not in it: no filter)."""
    progress = progress or (lambda _msg: None)
    directory = Path(series_dir) if series_dir else None
    existing: list[SeriesPatch] = read_series(directory) if directory else []
    slots = plan_series(existing, requests_for(specs, modules))
    total = series_total(existing, slots) if numbered(existing) else 1
    replaced = {s.replaces.name for s in slots if s.replaces}
    kept = [(p.number, p.name, p.text) for p in existing if p.name not in replaced]
    run = SeriesRun(slots, directory)
    for slot in sorted(slots, key=lambda s: s.number):
        preceding = sorted([k for k in kept if k[0] < slot.number]
                           + [(d.number, *d.generated()[:2]) for d in run.done])
        slot_author, slot_date = headers(slot, author, date,
                                         preceding[-1][2] if preceding else None)
        anchor = slot.request.switch.patch
        assert anchor is not None, "requests_for keeps the switches with a patch"
        progress(f"{slot.request.spec}: {anchor.file}")
        generate(slot, source=Path(source), preceding=[(n, t) for _, n, t in preceding],
                 total=total, author=slot_author, date=slot_date,
                 series_label=label(directory) if directory else None, progress=progress,
                 steady=(steady or {}).get(slot.request.daemon))
        run.done.append(slot)
    return run


def remove_obsolete(run: SeriesRun) -> None:
    """After the regenerated patches are written: delete the files they replace."""
    if run.series_dir is None:  # no series was read, so no patch replaces a file
        return
    for name in run.obsolete():
        (run.series_dir / name).unlink(missing_ok=True)


def label(path: str | Path) -> str:
    """How the regeneration command names a spec or the series directory: relative to the
    current directory (the repository root, where the committed patches are made) when
    inside it."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)
