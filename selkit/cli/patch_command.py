"""``selkit patch``: generate each spec's setcon() patch into a project's patch series."""

from __future__ import annotations

from pathlib import Path

import click

from selkit.cli.app import EXIT_FAILED, Application, exit_codes
from selkit.cli.options import base_options, base_spec, front, json_option


class _DefaultsHelp(click.Option):
    """An option whose help names the mail defaults, read only when --help is asked for (the
    patch machinery is not imported by every command)."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from selkit.patch import mail  # noqa: PLC0415

        if self.help is not None:
            self.help = self.help.format(date=mail.DEFAULT_DATE)
        return super().get_help_record(ctx)


@click.command("patch", epilog=exit_codes(
    "with --check, a committed patch differs from what its spec generates",
    "a tool refused (GNU patch, clang-format, git: SEL7xx)"))
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--source", "source", required=True, metavar="DIR",
              help="the pristine source tree (the unpacked orig tarball's top directory)")
@click.option("-o", "--output", "output", default=None, metavar="DIR",
              help="the project's series (vendor-patches/PROJECT): the patches already there "
                   "that precede the generated one are applied first; without -o the patch "
                   "is printed")
@click.option("--author", default=None, metavar="'NAME <ADDR>'",
              help="the From: of the mail (default: the earlier generated patch's, else your "
                   "git identity: GIT_AUTHOR_NAME/EMAIL or git config user.name/user.email)")
@click.option("--date", default=None, metavar="DATE", cls=_DefaultsHelp,
              help="the Date: (RFC 2822 or ISO 8601; default: the earlier generated patch's, "
                   "else the preceding patch's, else '{date}')")
@click.option("--signoff/--no-signoff", default=None,
              help="add a Signed-off-by: trailer with the author (default: as the earlier "
                   "generated patch does; projects such as OpenVPN require it)")
@click.option("--seccomp/--no-seccomp", default=None,
              help="also load the steady phase's seccomp filter after the switch (default: as "
                   "the earlier generated patch does, else yes; series sent upstream leave "
                   "the site's filter out)")
@click.option("--cover-letter", "cover_letter", is_flag=True,
              help="also write 0000-cover-letter.patch for the whole series (with -o; "
                   "regenerated whenever the directory has one)")
@click.option("--check", "check_only", is_flag=True,
              help="regenerate in memory; exit 1 if a committed patch differs (writes nothing)")
@base_options
@json_option
@click.pass_obj
def patch_command(app: Application, specs: tuple[str, ...], source: str, output: str | None,
                  author: str | None, date: str | None, signoff: bool | None,
                  seccomp: bool | None, cover_letter: bool, check_only: bool, base: str | None,
                  base_store: str | None, json_mode: bool) -> None:
    """Generate the setcon() patch of each spec's switch (git format-patch form)."""
    from selkit.compiler import check_output_dir, write_atomically  # noqa: PLC0415
    from selkit.patch.cover import COVER_NAME  # noqa: PLC0415
    from selkit.patch.requests import (  # noqa: PLC0415
        check_headers,
        cover,
        regenerate,
        remove_obsolete,
    )
    from selkit.report.patch import PatchCheckReport, PatchReport  # noqa: PLC0415

    app.json_mode = json_mode
    if check_only and not output:
        raise click.UsageError("--check compares with a series: give -o DIR")
    if cover_letter and not output:
        raise click.UsageError("--cover-letter writes into a series: give -o DIR")
    check_headers(author, date)
    if output and not check_only:
        check_output_dir(output, "-o")
    from selkit.emit.seccomp import steady_filter  # noqa: PLC0415

    _, modules = front(app, specs, base_spec(base, base_store))
    # each hook loads its daemon's steady seccomp filter right after the switch
    steady = {m.daemon: steady_filter(m) for m in modules}
    with app.progress("generating patches") as progress:
        run = regenerate(specs, modules, source=source, series_dir=output, author=author,
                         date=date, progress=progress, steady=steady, seccomp=seccomp,
                         signoff=signoff)
        letter = None
        if output and (cover_letter or (Path(output) / COVER_NAME).is_file()):
            progress("writing the cover letter")
            letter = cover(run, source=source, author=author, date=date)
    if check_only:
        report = PatchCheckReport(run, letter)
        app.render(report)
        if not report.ok:
            app.exit(EXIT_FAILED)
        return
    if output is None:
        if json_mode:
            app.render(PatchReport(run))
        else:
            for slot in run.done:
                app.write(slot.generated()[1])
        return
    files = run.files()
    if letter is not None:
        files[letter[0]] = letter[1].encode("utf-8", "surrogateescape")
    written = write_atomically(output, files)
    remove_obsolete(run)
    app.render(PatchReport(run, written))
