"""``selkit suggest SPEC... --audit-log FILE``: the statements a log's AVC denials and seccomp
records ask of the specs (a filter rolled out with ``syscalls default log``, a permissive
domain). Records of other domains, which a host's audit.log is mostly made of, are counted and
set aside (:mod:`selkit.suggest.scope`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from selkit.cli.app import Application, exit_codes
from selkit.cli.options import base_options, base_spec, front_programs, json_option
from selkit.diagnostics import Diagnostic, DiagnosticError

#: A log larger than this is refused (SEL905): split it, or filter it with ausearch first.
MAX_LOG_BYTES = 256 * 1024 * 1024


def read_log(path: str) -> str:
    """The text of the log at ``path`` (``-``: standard input); undecodable bytes replaced (the
    kernel hex-encodes untrusted fields, so records themselves are ASCII)."""
    if path == "-":
        return sys.stdin.read(MAX_LOG_BYTES)
    p = Path(path)
    if p.is_dir():
        raise DiagnosticError([Diagnostic("SEL903", f"'{path}' is a directory, not a log",
                                          hint="give /var/log/audit/audit.log, or dmesg text")])
    try:
        with p.open("rb") as handle:
            data = handle.read(MAX_LOG_BYTES + 1)
    except FileNotFoundError:
        raise DiagnosticError([Diagnostic("SEL901", f"no such file: '{path}'")]) from None
    except OSError as exc:
        raise DiagnosticError([Diagnostic("SEL904", f"cannot read '{path}': {exc.strerror}")]
                              ) from None
    if len(data) > MAX_LOG_BYTES:
        raise DiagnosticError([Diagnostic(
            "SEL905", f"'{path}' is larger than {MAX_LOG_BYTES} bytes",
            hint="select the records first: ausearch -m AVC,USER_AVC,SELINUX_ERR,SECCOMP "
                 "-ts recent --raw")])
    return data.decode("utf-8", "replace")


@click.command("suggest", epilog=exit_codes())
@click.argument("specs", nargs=-1, required=True, metavar="SPEC...")
@click.option("--audit-log", "--log", "log_path", required=True, metavar="FILE",
              help="audit.log (or ausearch output), dmesg or journal text with AVC, USER_AVC, "
                   "SELINUX_ERR and seccomp (type=1326) records; '-' reads standard input; "
                   "records of other domains are counted and set aside")
@base_options
@json_option
@click.pass_obj
def suggest_command(app: Application, specs: tuple[str, ...], log_path: str, base: str | None,
                    base_store: str | None, json_mode: bool) -> None:
    """Map each AVC denial and seccomp record of a log that names a phase of the specs to the
    .sel statement that would allow it, checked by compiling the spec with it; records of other
    domains are counted and set aside. Exit 0 (advice, not a verdict); 2 for bad input."""
    from selkit.lab.avc import parse_avcs, parse_seccomp  # noqa: PLC0415
    from selkit.report.suggest import SuggestReport  # noqa: PLC0415
    from selkit.suggest import suggest  # noqa: PLC0415
    from selkit.suggest.scope import scope  # noqa: PLC0415
    from selkit.suggest.syscalls import suggest_syscalls  # noqa: PLC0415

    app.json_mode = json_mode
    text = read_log(log_path)
    kb, programs, modules = front_programs(app, specs, base_spec(base, base_store))
    denials = [a for a in parse_avcs(text) if a.denied]
    records = parse_seccomp(text)
    ours = scope(denials, records, modules)
    with app.progress("suggesting"):
        found = suggest(ours.denials, modules, kb, programs)
        calls = suggest_syscalls(ours.seccomp, modules, kb, programs)
    app.render(SuggestReport(log_path, len(denials), len(records), found, calls,
                             ours.set_aside))
