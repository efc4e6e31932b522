"""One function per command; each parses options, calls the library and renders the result."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from selkit.base import BaseSpec, load_kb
from selkit.cli.app import Application
from selkit.compiler import (check_output_dir, check_output_file, compile_modules,
                             front_end_files, install_into_store_copy, write_atomically)
from selkit.diagnostics import DiagnosticError
from selkit.dsl.loader import read_source
from selkit.emit import Target
from selkit.report.summary import HEADERS, SummaryRow, cells, render_plain
from selkit.toolchain import build_pp

def _base_option(func):
    func = click.option(
        "--base-store", "base_store", default=None, metavar="DIR",
        help="the module store of the base, ROOT/var/lib/selinux/NAME (default: found next "
             "to --base; alone, the base is that store's ROOT/etc/selinux/NAME/policy/policy.N)"
    )(func)
    return click.option(
        "--base", "base", default=None, metavar="POLICY",
        help="the base policy, ROOT/etc/selinux/NAME/policy/policy.N (default: Debian's "
             "refpolicy, /etc/selinux/default/policy/policy.33): names resolve against it, and "
             "profiles, --install and the linked engine use copies of its store "
             "ROOT/var/lib/selinux/NAME (e.g. the MLS policy of scripts/mls-root.sh)")(func)
_json_option = click.option("--json", "json_mode", is_flag=True,
                            help="machine-readable output and diagnostics")


def _parse_targets(value: str) -> tuple[Target, ...]:
    out = []
    for word in (w.strip() for w in value.split(",")):
        try:
            out.append(Target(word))
        except ValueError:
            raise click.BadParameter(f"unknown target '{word}' (choose from te, cil, pp)")
    return tuple(dict.fromkeys(out))


def _base_spec(base: str | None, store: str | None, *, need_store: bool = False) -> BaseSpec:
    """The one base of the --base/--base-store options, for name resolution, profiles, links
    and --install alike; SEL908 up front when the command links into a store it lacks."""
    spec = BaseSpec.from_options(base, store)
    return spec.require_store() if need_store else spec


def _front(app: Application, files: tuple[str, ...], spec: BaseSpec):
    """Parse and check every file against the base; all diagnostics of all files, or the
    modules."""
    kb = load_kb(spec)
    programs, modules = front_end_files(files, kb)
    for program in programs.values():
        app.sources.update(program.texts)
    return kb, modules


@click.command("compile")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("-o", "--output", "output", default=".", metavar="DIR", show_default=True,
              help="directory for the generated files")
@click.option("--target", "targets", default="te,cil,pp", show_default=True,
              help="comma-separated: te (.te/.if/.fc), cil, pp")
@_base_option
@click.option("--install", is_flag=True,
              help="also install the modules into a copy of the base's store and load the "
                   "result with setools (never touches the live store)")
@_json_option
@click.pass_obj
def compile_command(app: Application, files, output, targets, base, base_store, install,
                    json_mode):
    """Compile .sel specs into refpolicy modules, CIL and .pp packages."""
    app.json_mode = json_mode
    chosen = _parse_targets(targets)
    check_output_dir(output, "-o")
    spec = _base_spec(base, base_store, need_store=install)
    kb, modules = _front(app, files, spec)
    with app.progress("building module packages") as progress:
        compiled = compile_modules(
            modules, kb, chosen,
            build_pp=lambda te, fc, name: (progress(f"checkmodule {name}"),
                                           build_pp(te, fc, name, kb.mls))[1])
        installed: dict[str, dict[str, bool | None]] = {c.name: {} for c in compiled}
        if install:
            for form in ("pp", "cil"):
                if not all(f"{c.name}.{form}" in c.files for c in compiled):
                    continue
                install_into_store_copy(compiled, form, spec, progress)
                for c in compiled:
                    installed[c.name][form] = True
    written = []
    for item in compiled:
        written += write_atomically(output, item.files)
    rows = [SummaryRow(c.module.daemon if c.module.daemon == c.name
                       else f"{c.module.daemon} (module {c.name})", c.module.source_path,
                       tuple(p.domain for p in c.module.phases),
                       tuple(c.rule_counts().items()), tuple(sorted(c.files)),
                       installed[c.name]) for c in compiled]
    if json_mode:
        app.emit_json({"modules": [r.to_dict() for r in rows], "written": written})
        return
    app.table(HEADERS, [cells(r) for r in rows], render_plain(rows))


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@_base_option
@click.option("--dump", type=click.Choice(["ast", "ir"]), default=None,
              help="print the syntax tree or the checked IR (stable text, for debugging)")
@_json_option
@click.pass_obj
def check_command(app: Application, files, base, base_store, dump, json_mode):
    """Parse and resolve .sel specs without writing anything."""
    app.json_mode = json_mode
    _, modules = _front(app, files, _base_spec(base, base_store))
    if dump:
        from selkit.dsl import parse  # noqa: PLC0415
        from selkit.dump import dump as dump_text  # noqa: PLC0415

        for path in files:
            value = parse(app.sources[path], path) if dump == "ast" else \
                [m for m in modules if m.source_path == path]
            sys.stdout.write(dump_text(value))
        return
    if json_mode:
        app.emit_json({"ok": True, "daemons": [m.name for m in modules]})
        return
    for module in modules:
        phases = ", ".join(f"{p.name}={len(module.allows(p.domain))}" for p in module.phases)
        named = module.daemon if module.daemon == module.name else \
            f"{module.daemon} (module {module.name})"
        app.print(f"{module.source_path}: {named}: ok ({phases} rules)")


@click.command("fmt")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--check", "check_only", is_flag=True,
              help="exit 1 if a file is not canonically formatted; change nothing")
@click.option("--stdout", "to_stdout", is_flag=True, help="print instead of rewriting files")
@click.pass_obj
def fmt_command(app: Application, files, check_only, to_stdout):
    """Rewrite .sel files in canonical form (comments are kept)."""
    from selkit.dsl import parse  # noqa: PLC0415
    from selkit.dsl.pretty import format_module  # noqa: PLC0415

    diagnostics, changed = [], []
    results = {}
    for path in files:
        try:
            text = read_source(path)
            app.sources[path] = text
            results[path] = (text, format_module(parse(text, path)))
        except DiagnosticError as exc:
            diagnostics.extend(exc.diagnostics)
    if diagnostics:
        raise DiagnosticError(diagnostics)
    for path, (before, after) in results.items():
        if to_stdout:
            sys.stdout.write(after)
        elif before != after:
            changed.append(path)
            if not check_only:
                write_atomically(str(Path(path).parent), {Path(path).name: after.encode()})
    for path in changed:
        app.print(f"{'would reformat' if check_only else 'reformatted'} {path}")
    if check_only and changed:
        app.exit(1)


@click.group("doc")
def doc_group():
    """Print parts of the language reference."""


@doc_group.command("verbs")
def doc_verbs():
    """Every verb form with its exact refpolicy and CIL expansion (Markdown)."""
    from selkit.emit.reference import verbs_markdown  # noqa: PLC0415

    sys.stdout.write(verbs_markdown())


@click.command("prove")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--engine", type=click.Choice(["compositional", "linked", "both"]),
              default="compositional", show_default=True,
              help="compositional: base policy + module IR, no link; linked: link into a store "
                   "copy and analyse the kernel policy; both: run both and require agreement")
@click.option("--policy", "linked_policy", default=None, metavar="POLICY",
              help="prove against this linked binary policy (e.g. the live one) instead of "
                   "linking a store copy (linked engine)")
@click.option("--sechecker-ini", "ini_path", default=None, metavar="FILE",
              help="also write the obligations as a SETools sechecker configuration")
@click.option("--baseline", "show_baseline", is_flag=True,
              help="list the grants the domain attribute brings, one by one")
@_base_option
@_json_option
@click.pass_obj
def prove_command(app: Application, files, engine, linked_policy, ini_path, show_baseline, base,
                  base_store, json_mode):
    """Prove what each phase's domain can and cannot do (exit 1 if an obligation fails)."""
    from selkit.prove.api import prove_files  # noqa: PLC0415
    from selkit.facts.syscalls import load_table  # noqa: PLC0415
    from selkit.report import prove as prove_report  # noqa: PLC0415

    app.json_mode = json_mode
    if ini_path:
        check_output_file(ini_path, "--sechecker-ini")
    spec = _base_spec(base, base_store, need_store=True)  # profiles are measured in it
    kb, modules = _front(app, files, spec)
    with app.progress("proving") as progress:
        outcome = prove_files(modules, kb, engine=engine, base=spec,
                              linked_policy=linked_policy, progress=progress)
    if ini_path:
        from selkit.prove.sechecker import ini_text  # noqa: PLC0415

        target = Path(ini_path)
        write_atomically(str(target.parent), {target.name: ini_text(modules, kb).encode()})
    table = load_table()
    if json_mode:
        app.emit_json({"reports": [prove_report.to_dict(r, table) for r in outcome.reports],
                       "engines_agree": outcome.agree,
                       "disagreements": outcome.disagreements})
    else:
        for report in outcome.reports:
            app.print(prove_report.render_plain(report, table, baseline=show_baseline))
            app.print()
        if outcome.disagreements:
            for line in outcome.disagreements:
                app.print(f"ENGINES DISAGREE: {line}")
    if outcome.disagreements or any(r.verdict.value != "holds" for r in outcome.reports):
        app.exit(1)


COMMANDS = (compile_command, check_command, fmt_command, doc_group, prove_command)
