"""``selkit patch``: generate each spec's setcon() patch into a project's patch series."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from selkit.cli.app import Application
from selkit.cli.commands import _base_option, _base_spec, _front, _json_option
from selkit.compiler import check_output_dir, write_atomically
from selkit.diagnostics import Diagnostic, DiagnosticError
from selkit.patch import mail
from selkit.patch.udiff import SOURCE_ENCODING
from selkit.patch.series import (Request, Slot, generate, numbered, plan_series, read_series,
                                 series_total)


def _requests(specs: tuple[str, ...], modules) -> list[Request]:
    """One request per spec: the switch of its daemon that names a patch anchor."""
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
        out.append(Request(_label(spec), module.daemon, switch))
    return out


def _headers(slot: Slot, author: str | None, date: str | None,
             previous: str | None) -> tuple[str, str]:
    """Explicit options, else what the earlier patch from this spec says, else the defaults
    (the date: that of the patch before it in the series, if any)."""
    old = mail.read_mail(slot.replaces.text) if slot.replaces else None
    last = mail.read_mail(previous) if previous else None
    chosen_author = author or (old.author if old and old.author else mail.DEFAULT_AUTHOR)
    chosen_date = date or (old.date if old and old.date else
                           last.date if last and last.date else mail.DEFAULT_DATE)
    return mail.check_author(chosen_author), mail.format_date(chosen_date)


@click.command("patch")
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--source", "source", required=True, metavar="DIR",
              help="the pristine source tree (the unpacked orig tarball's top directory)")
@click.option("-o", "--output", "output", default=None, metavar="DIR",
              help="the project's series (vendor-patches/PROJECT): the patches already there "
                   "that precede the generated one are applied first; without -o the patch "
                   "is printed")
@click.option("--author", default=None, metavar="'NAME <ADDR>'",
              help=f"the From: of the mail (default: the earlier generated patch's, else "
                   f"'{mail.DEFAULT_AUTHOR}')")
@click.option("--date", default=None, metavar="DATE",
              help="the Date: (RFC 2822 or ISO 8601; default: the earlier generated patch's, "
                   "else the preceding patch's, else " f"'{mail.DEFAULT_DATE}')")
@click.option("--check", "check_only", is_flag=True,
              help="regenerate in memory; exit 1 if a committed patch differs (writes nothing)")
@_base_option
@_json_option
@click.pass_obj
def patch_command(app: Application, specs, source, output, author, date, check_only, base,
                  base_store, json_mode):
    """Generate the setcon() patch of each spec's switch (git format-patch form)."""
    app.json_mode = json_mode
    if check_only and not output:
        raise click.UsageError("--check compares with a series: give -o DIR")
    if author:
        mail.check_author(author)
    if date:
        mail.format_date(date)
    if output and not check_only:
        check_output_dir(output, "-o")
    _, modules = _front(app, specs, _base_spec(base, base_store))
    requests = _requests(specs, modules)
    series_dir = Path(output) if output else None
    existing = read_series(series_dir) if series_dir else []
    slots = plan_series(existing, requests)
    total = series_total(existing, slots) if numbered(existing) else 1
    replaced = {s.replaces.name for s in slots if s.replaces}
    kept = [(p.number, p.name, p.text) for p in existing if p.name not in replaced]
    done: list[Slot] = []
    with app.progress("generating patches") as progress:
        for slot in sorted(slots, key=lambda s: s.number):
            preceding = sorted([k for k in kept if k[0] < slot.number]
                               + [(d.number, d.name, d.text) for d in done])
            slot_author, slot_date = _headers(slot, author, date,
                                              preceding[-1][2] if preceding else None)
            progress(f"{slot.request.spec}: {slot.request.switch.patch.file}")
            generate(slot, source=Path(source), preceding=[(n, t) for _, n, t in preceding],
                     total=total, author=slot_author, date=slot_date,
                     series_label=_label(series_dir) if series_dir else None,
                     progress=progress)
            done.append(slot)
    if check_only:
        _report_check(app, slots, json_mode)
        return
    if series_dir is None:
        for slot in done:
            _write_raw(slot.text)
        return
    written = write_atomically(str(series_dir), {s.name: s.text.encode(*SOURCE_ENCODING) for s in done})
    for slot in done:
        if slot.replaces and slot.replaces.name != slot.name:
            (series_dir / slot.replaces.name).unlink(missing_ok=True)
    if json_mode:
        app.emit_json({"written": written, "patches": [_summary(s) for s in done]})
        return
    for slot, path in zip(sorted(done, key=lambda s: s.name), written):
        app.print(f"{path}: from {slot.request.spec}, {len(slot.hook.placements)} changes in "
                  f"{slot.hook.path}" + (", adds setcon_fd.h" if slot.hook.header_text else ""))


def _summary(slot: Slot) -> dict:
    return {"name": slot.name, "spec": slot.request.spec, "number": slot.number,
            "file": slot.hook.path, "adds_header": slot.hook.header_text is not None,
            "changes": [{"line": p.line, "what": p.description,
                         "spec_line": p.origin.span.line} for p in slot.hook.placements]}


def _report_check(app: Application, slots: list[Slot], json_mode: bool) -> None:
    stale = []
    for slot in slots:
        old = slot.replaces
        if old is None or old.name != slot.name or old.text != slot.text:
            stale.append(slot)
    if json_mode:
        app.emit_json({"up_to_date": not stale,
                       "stale": [{"name": s.name, "spec": s.request.spec,
                                  "committed": s.replaces.name if s.replaces else None}
                                 for s in stale]})
    else:
        for slot in slots:
            state = "differs" if slot in stale else "up to date"
            app.print(f"{slot.name}: {state} (from {slot.request.spec})")
        for slot in stale:
            before = slot.replaces.text.splitlines(keepends=True) if slot.replaces else []
            _write_raw("".join(difflib.unified_diff(
                before, slot.text.splitlines(keepends=True),
                f"committed/{slot.replaces.name if slot.replaces else slot.name}",
                f"generated/{slot.name}", n=2)))
    if stale:
        app.exit(1)


def _write_raw(text: str) -> None:
    """Patch text on stdout byte for byte: a Latin-1 source line rides in it as surrogates
    (SOURCE_ENCODING), which a strict UTF-8 stdout (e.g. LANG=en_US.UTF-8) would refuse."""
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode(*SOURCE_ENCODING))
    sys.stdout.buffer.flush()


COMMANDS = (patch_command,)


def _label(series_dir: str | Path) -> str:
    """How the regeneration command names the series directory: relative to the current
    directory (the repository root, where the committed patches are made) when inside it."""
    path = Path(series_dir).resolve()
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(series_dir)
