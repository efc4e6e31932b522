"""``selkit patch`` as a library call: which switch each spec asks a patch for, the headers of
each mail, the series regenerated in order, and which committed files are then obsolete."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from selkit.diagnostics import Diagnostic, DiagnosticError
from selkit.ir import nodes as ir
from selkit.patch import mail
from selkit.patch.cover import COVER_NAME, Switch, cover_letter
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
    """The patch's author and date (see :func:`choose_headers`); ``previous`` is the text of
    the patch before it in the series."""
    return choose_headers(author, date,
                          mail.read_mail(slot.replaces.text) if slot.replaces else None,
                          mail.read_mail(previous) if previous else None, "the patch")


def choose_headers(author: str | None, date: str | None, committed: mail.Mail | None,
                   before: mail.Mail | None, what: str) -> tuple[str, str]:
    """Explicit options, else what the committed file says, else the user's git identity
    (SEL708 without one) and the date of the patch ``before`` it (else
    :data:`mail.DEFAULT_DATE`)."""
    chosen_author = author or (committed.author if committed else None) or mail.git_identity()
    if chosen_author is None:
        raise DiagnosticError([Diagnostic(
            "SEL708", f"no author for {what}: give --author or set your git identity",
            hint='git config --global user.name "Jane Doe"; '
                 'git config --global user.email jane@her.domain')])
    chosen_date = (date or (committed.date if committed else None)
                   or (before.date if before else None) or mail.DEFAULT_DATE)
    return mail.check_author(chosen_author), mail.format_date(chosen_date)


def signs_off(slot: Slot, explicit: bool | None) -> bool:
    """``--signoff``/``--no-signoff``, else whether the committed patch for this daemon has a
    Signed-off-by trailer (a new patch: no)."""
    if explicit is not None or slot.replaces is None:
        return bool(explicit)
    return mail.signed_off(mail.read_mail(slot.replaces.text).body)


def loads_filter(slot: Slot, explicit: bool | None) -> bool:
    """``--seccomp``/``--no-seccomp``, else whether the committed patch for this daemon adds a
    steady filter header (a new patch: yes)."""
    if explicit is not None or slot.replaces is None:
        return explicit is not False
    return re.search(r"^\+\+\+ b/\S*_steady\.h$", slot.replaces.text, re.M) is not None


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
    kept: list[tuple[int, str, str]] = field(default_factory=list)

    def series(self) -> list[tuple[str, str]]:
        """(name, text) of every patch of the series once the generated ones are written."""
        generated = [(s.number, *s.generated()[:2]) for s in self.done]
        return [(name, text) for _, name, text in sorted(self.kept + generated)]

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
               steady: Mapping[str, Filter] | None = None, seccomp: bool | None = None,
               signoff: bool | None = None) -> SeriesRun:
    """Generate each spec's patch in memory, in series order, each on top of the patches that
    precede it; nothing is written. ``steady`` maps a daemon to the seccomp filter its hook
    loads after the switch (a daemon not in it: no filter); ``seccomp`` and ``signoff``
    (None: as the committed patch does, see :func:`loads_filter` and :func:`signs_off`) say
    whether to load it and whether to add a Signed-off-by trailer."""
    progress = progress or (lambda _msg: None)
    directory = Path(series_dir) if series_dir else None
    existing: list[SeriesPatch] = read_series(directory) if directory else []
    slots = plan_series(existing, requests_for(specs, modules))
    total = series_total(existing, slots) if numbered(existing) else 1
    replaced = {s.replaces.name for s in slots if s.replaces}
    kept = [(p.number, p.name, p.text) for p in existing if p.name not in replaced]
    run = SeriesRun(slots, directory, kept=kept)
    for slot in sorted(slots, key=lambda s: s.number):
        preceding = sorted([k for k in kept if k[0] < slot.number]
                           + [(d.number, *d.generated()[:2]) for d in run.done])
        slot_author, slot_date = headers(slot, author, date,
                                         preceding[-1][2] if preceding else None)
        anchor = slot.request.switch.patch
        assert anchor is not None, "requests_for keeps the switches with a patch"
        progress(f"{slot.request.spec}: {anchor.file}")
        with_filter = loads_filter(slot, seccomp)
        generate(slot, source=Path(source), preceding=[(n, t) for _, n, t in preceding],
                 total=total, author=slot_author, date=slot_date,
                 signoff=signs_off(slot, signoff), progress=progress,
                 steady=(steady or {}).get(slot.request.daemon) if with_filter else None)
        run.done.append(slot)
    return run


def cover(run: SeriesRun, *, source: str, author: str | None, date: str | None
          ) -> tuple[str, str]:
    """The series' cover letter (name, text): author and date from the options, else the
    committed letter's, else the user's git identity and the last patch's date."""
    committed = run.series_dir / COVER_NAME if run.series_dir else None
    old = (mail.read_mail(committed.read_bytes().decode(*SOURCE_ENCODING))
           if committed and committed.is_file() else None)
    patches = run.series()
    chosen_author, chosen_date = choose_headers(
        author, date, old, mail.read_mail(patches[-1][1]) if patches else None,
        "the cover letter")
    switches = [Switch(s.request.daemon, s.request.switch.option,
                       s.request.switch.build.text if s.request.switch.build else None)
                for s in run.done]
    return COVER_NAME, cover_letter(patches, switches, source=Path(source),
                                    author=chosen_author, date=chosen_date)


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
