"""``selkit patch``: the switch's new statements, anchors, edits, diffs, mails, the header, the
CLI, and the regeneration of every generated patch committed under vendor-patches/.

Diffs are applied with the real GNU ``patch -p1`` and checked with ``git apply --check``; the
header is compiled with gcc in both variants and run on this host.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from patch_demo import DEMO_C, SPEC
from patch_demo import demo_tree as _tree
from selkit_cli import run
from series_specs import generated_specs, series_dirs, unpack_snapshot

from selkit.compiler import front_end
from selkit.diagnostics import DiagnosticError, ToolchainError
from selkit.dsl import ast
from selkit.dsl.parser import parse
from selkit.dsl.pretty import format_module
from selkit.patch import hook as hooks
from selkit.patch import mail, udiff
from selkit.patch.anchor import closest_hint, locate
from selkit.patch.series import (
    Request,
    generate,
    generated_daemon,
    numbered,
    plan_series,
    read_series,
    series_total,
)
from selkit.projects import unpack
from selkit.seccomp import bpf as seccomp_bpf

AUTHOR = "Jane Doe <jane@doe.name>"
IDENTITY = {"GIT_AUTHOR_NAME": "Jane Roe", "GIT_AUTHOR_EMAIL": "jane@roe.name"}
ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "vendor-patches"

def _switch(kb, spec: str = SPEC, path: str = "demo.sel"):
    _, modules = front_end(path, kb, spec)
    (module,) = modules
    (switch,) = module.switches
    return switch


def _codes(exc: pytest.ExceptionInfo) -> list[str]:
    return [d.code for d in exc.value.diagnostics]


def _run(argv, cwd=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, **kw)


# ---------------------------------------------------------------------------------------------
# The language


def test_switch_statements_parse_print_and_keep_spans():
    module = parse(SPEC, "demo.sel")
    (switch,) = module.items[0].of(ast.Switch)
    kinds = [type(i).__name__ for i in switch.items]
    assert kinds == ["Option", "ContextExpr", "BuildMacro", "PrepareAnchor", "PatchAnchor"]
    prepare = switch.items[3]
    assert (prepare.file.value, prepare.position.text, prepare.anchor.value) == (
        "src/demo.c", "before", "do_chroot(newroot);")
    assert prepare.anchor.span.line == 12 and prepare.anchor.span.column == 37
    assert format_module(module) == SPEC


def test_new_keywords_stay_words_elsewhere():
    text = ("daemon d {\n    phase context {\n        build prepare\n    }\n"
            "    forbid steady {\n        context\n        context { translate contains }\n"
            "        replace\n    }\n}\n")
    module = parse(text, "kw.sel")
    assert format_module(module) == text


def test_ir_switch_carries_every_statement_with_its_line(kb):
    switch = _switch(kb)
    assert switch.context.text == "context" and switch.context.origin.span.line == 10
    assert switch.build.text == "HAVE_SELINUX" and switch.build.origin.span.line == 11
    assert (switch.prepare.position, switch.prepare.origin.span.line) == ("before", 12)
    assert (switch.patch.position, switch.patch.text_span.line) == ("replace", 13)
    assert switch.patch.file == "src/demo.c"


@pytest.mark.parametrize("edit,code", [
    (('        context "context"\n', ""), "SEL231"),
    (('        build "HAVE_SELINUX"\n', ""), "SEL239"),
    (('        context "context"\n', '        context "context"\n        context "x"\n'),
     "SEL232"),
    (('before "do_chroot', 'after "do_chroot'), "SEL238"),
    (('prepare "src/demo.c"', 'prepare "src/other.c"'), "SEL233"),
    (('"HAVE_SELINUX"', '"HAVE SELINUX"'), "SEL236"),
    (('patch "src/demo.c"', 'patch "/src/demo.c"'), "SEL237"),
    (('context "context"', 'context "f(x"'), "SEL235"),
])
def test_switch_checks_in_lowering(kb, edit, code):
    old, new = edit
    assert old in SPEC
    with pytest.raises(DiagnosticError) as exc:
        _switch(kb, SPEC.replace(old, new))
    assert code in _codes(exc)


def test_prepare_without_patch_is_refused(kb):
    spec = SPEC.replace('        patch "src/demo.c" replace "do_setcon(context);"\n', "")
    with pytest.raises(DiagnosticError) as exc:
        _switch(kb, spec)
    assert "SEL230" in _codes(exc) and "SEL234" in _codes(exc)


# ---------------------------------------------------------------------------------------------
# Anchors and edits


def test_anchor_found_once(kb):
    switch = _switch(kb)
    loc = locate(DEMO_C, switch.patch)
    assert DEMO_C[loc.start:loc.end] == "do_setcon(context);"
    assert DEMO_C.split("\n")[loc.line - 1].strip() == "do_setcon(context);"


def test_missing_anchor_points_at_the_spec_string_with_the_closest_line(kb):
    switch = _switch(kb, SPEC.replace('"do_setcon(context);"', '"do_setcon(ctx);"'))
    with pytest.raises(DiagnosticError) as exc:
        locate(DEMO_C, switch.patch)
    (diag,) = exc.value.diagnostics
    assert diag.code == "SEL701"
    assert (diag.span.path, diag.span.line, diag.span.column) == ("demo.sel", 13, 36)
    line = DEMO_C.split("\n").index("\t\tdo_setcon(context);") + 1
    assert diag.hint == f'did you mean "do_setcon(context);" (src/demo.c:{line})?'


def test_ambiguous_anchor_lists_every_place(kb):
    text = DEMO_C.replace('\tprintf("serving\\n");', '\tdo_setcon(context);')
    with pytest.raises(DiagnosticError) as exc:
        locate(text, _switch(kb).patch)
    (diag,) = exc.value.diagnostics
    assert diag.code == "SEL702" and len(diag.related) == 2
    assert [r.span.path for r in diag.related] == ["src/demo.c", "src/demo.c"]


def test_closest_hint_spans_lines_for_a_multi_line_anchor():
    text = "int a;\nfor (;;)\n  {\n    work();\n  }\n"
    assert closest_hint(text, "for (;;)\n  {\n    wrk();", "f.c") == \
        'did you mean "for (;;)\\n  {\\n    work();" (f.c:2)?'


def test_closest_hint_never_quotes_the_anchor_back():
    """An anchor whose text is in the file but not the blanks around it: the hint says so
    instead of "did you mean" the same text."""
    text = "int a;\n\tdo_setcon(context);\n"
    assert closest_hint(text, "  do_setcon(context);", "f.c") == \
        'the file has "do_setcon(context);" (f.c:2) without the blanks around it'


def test_hook_braces_an_unbraced_body_and_replaces_the_statement(kb):
    hook = hooks.plan(DEMO_C, _switch(kb), header_exists=False)
    new = hook.new_text
    assert ('\tif (newroot != NULL) {\n#ifdef HAVE_SELINUX\n\t\tsetcon_fd_prepare(context);\n'
            '#endif\n\t\tdo_chroot(newroot);\n\t}\n') in new
    assert "\tif (context != NULL)\n\t\tsetcon_fd_switch(context);\n" in new
    # after the last top-level include, not the one under #ifdef HAVE_X
    assert '#include <unistd.h>\n#include "setcon_fd.h"\n#ifdef HAVE_X' in new
    assert hook.header_path == "src/setcon_fd.h" and "#ifdef HAVE_SELINUX" in hook.header_text
    assert [p.origin.span.line for p in hook.placements] == [13, 12, 13]


def test_hook_in_a_braced_block_and_an_expression_anchor(kb):
    text = DEMO_C.replace("\tif (newroot != NULL)\n\t\tdo_chroot(newroot);",
                          "\tif (newroot != NULL) {\n\t\tdo_chroot(newroot);\n\t}").replace(
        "\tif (context != NULL)\n\t\tdo_setcon(context);",
        "\tif (context != NULL && -1 == setcon(context))\n\t\texit(1);")
    spec = SPEC.replace('replace "do_setcon(context);"', 'replace "setcon(context)"')
    new = hooks.plan(text, _switch(kb, spec), header_exists=True).new_text
    assert ("\tif (newroot != NULL) {\n#ifdef HAVE_SELINUX\n\t\tsetcon_fd_prepare(context);\n"
            "#endif\n\t\tdo_chroot(newroot);\n\t}") in new
    assert "-1 == setcon_fd_commit(context))" in new


def test_hook_older_before_and_after_forms(kb):
    base = SPEC.replace('        prepare "src/demo.c" before "do_chroot(newroot);"\n', "")
    before = hooks.plan(DEMO_C, _switch(kb, base.replace(
        'replace "do_setcon(context);"', 'before "printf(\\"serving\\\\n\\");"')), True)
    assert '\tsetcon_fd_switch(context);\n\tprintf("serving\\n");' in before.new_text
    after = hooks.plan(DEMO_C, _switch(kb, base.replace(
        'replace "do_setcon(context);"', 'after "do_chroot(newroot);"')), True)
    assert "\t\tdo_chroot(newroot);\n\t\tsetcon_fd_switch(context);\n" in after.new_text


def test_include_is_not_added_twice(kb):
    text = DEMO_C.replace("#include <unistd.h>\n", '#include <unistd.h>\n#include "setcon_fd.h"\n')
    new = hooks.plan(text, _switch(kb), header_exists=True).new_text
    assert new.count('#include "setcon_fd.h"') == 1


@pytest.mark.parametrize("text,code", [
    (DEMO_C.replace("\tif (newroot != NULL)\n\t\tdo_chroot(newroot);",
                    "\tif (newroot != NULL) do_chroot(newroot);"), "SEL704"),
    (DEMO_C.replace("\tif (newroot != NULL)\n", "\tif (newroot != NULL &&\n\t    1)\n"),
     "SEL704"),
    (DEMO_C.replace("\tif (newroot != NULL)\n", "\tif (newroot != NULL)\n#if 1\n") .replace(
        "\t\tdo_chroot(newroot);\n", "\t\tdo_chroot(newroot);\n#endif\n"), "SEL704"),
    (re.sub(r"#include[^\n]*\n", "", DEMO_C), "SEL705"),
])
def test_unsafe_placements_are_refused(kb, text, code):
    with pytest.raises(DiagnosticError) as exc:
        hooks.plan(text, _switch(kb), header_exists=False)
    assert _codes(exc) == [code]


@pytest.mark.parametrize("anchor", ["(context)", "setcon(context);", "do_setcon(context"])
def test_replace_needs_a_whole_statement_or_expression(kb, anchor):
    spec = SPEC.replace('replace "do_setcon(context);"', f'replace "{anchor}"')
    with pytest.raises(DiagnosticError) as exc:
        hooks.plan(DEMO_C, _switch(kb, spec), header_exists=False)
    assert _codes(exc) == ["SEL704"]
    assert exc.value.diagnostics[0].span.line == 13


def test_code_only_blanks_comments_and_strings_in_place():
    text = 'a = "x /* y */"; /* if (b)\n */ c(); // d\n'
    code = hooks.code_only(text)
    assert len(code) == len(text) and code.count("\n") == 2
    assert "if" not in code and "c();" in code and "/*" not in code.replace('"', "")


# ---------------------------------------------------------------------------------------------
# Diffs and mails


def _apply_checks(tree: Path, patch_text: str) -> Path:
    """Apply with git apply --check, then with GNU patch -p1; returns the tree."""
    (tree.parent / "p.patch").write_text(patch_text)
    check = _run(["git", "apply", "--check", "-v", str(tree.parent / "p.patch")], cwd=tree)
    assert check.returncode == 0, check.stderr
    applied = _run(["patch", "-p1", "--no-backup-if-mismatch", "-s", "-i",
                    str(tree.parent / "p.patch")], cwd=tree)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    return tree


def test_diff_applies_with_patch_and_git_apply(tmp_path):
    old = "".join(f"line {i}\n" for i in range(1, 30))
    new = old.replace("line 5\n", "line 5\nadded\n").replace("line 20\n", "changed 20\n")
    tree = tmp_path / "t"
    tree.mkdir()
    _run(["git", "init", "-q"], cwd=tree)
    (tree / "f.txt").write_text(old)
    diff = udiff.diff_file("f.txt", old, new).text + udiff.diff_file(
        "dir/new.h", None, "one\ntwo").text
    (tmp_path / "old").write_text(old)
    (tmp_path / "new").write_text(new)
    reference = _run(["diff", "-U3", "old", "new"], cwd=tmp_path).stdout.splitlines()[2:]
    ours = udiff.diff_file("f.txt", old, new).text.splitlines()[4:]
    assert [re.sub(r" @@ .*", " @@", ln) for ln in ours] == reference
    assert "@@ -3,6 +3,7 @@ line 2" in diff and "@@ -17,7 +18,7 @@ line 16" in diff
    assert "new file mode 100644\nindex 0000000.." in diff
    assert "+two\n\\ No newline at end of file\n" in diff
    _apply_checks(tree, diff)
    assert (tree / "f.txt").read_text() == new and (tree / "dir/new.h").read_text() == "one\ntwo"


def test_diff_index_line_holds_git_blob_ids(tmp_path):
    text = udiff.diff_file("a.c", "x\n", "y\n").text
    blob = _run(["git", "hash-object", "--stdin"], input="y\n").stdout.strip()
    assert f"..{blob[:7]} 100644\n" in text


def test_diffstat_counts_and_create_mode():
    files = [udiff.diff_file("src/a.c", "a\nb\n", "a\nc\nd\n"),
             udiff.diff_file("src/setcon_fd.h", None, "x\n" * 200)]
    stat = udiff.diffstat(files)
    lines = stat.splitlines()
    assert lines[0] == " src/a.c         |   3 +-"  # scaled like the 200 below, at least 1
    assert lines[1] == " src/setcon_fd.h | 200 " + "+" * 48  # git: 72 columns less 24
    assert lines[2] == " 2 files changed, 202 insertions(+), 1 deletion(-)"
    assert lines[3] == " create mode 100644 src/setcon_fd.h"


def test_mail_headers_and_round_trip():
    author = "A very long maintainer name of the project <maintainers@users.example.org>"
    text = mail.format_patch(author=author, date=mail.format_date("2026-03-05T07:08:09+01:00"),
                             subject="demo: a change", body="Why.\n", stat=" x | 1 +\n",
                             diff="diff --git a/x b/x\n", number=2, total=3)
    sha = hashlib.sha1(b"diff --git a/x b/x\n").hexdigest()
    assert text.startswith(f"From {sha} Mon Sep 17 00:00:00 2001\nFrom: A very long")
    assert "\n <maintainers@users.example.org>\nDate: Thu, 5 Mar 2026 07:08:09 +0100\n" in text
    assert "Subject: [PATCH 2/3] demo: a change\n\nWhy.\n---\n x | 1 +\n\ndiff --git" in text
    back = mail.read_mail(text)
    assert (back.author, back.date, back.subject, back.body) == (
        author, "Thu, 5 Mar 2026 07:08:09 +0100", "demo: a change", "Why.")


def test_bad_author_and_date_are_diagnostics():
    for call in (lambda: mail.check_author("nobody"), lambda: mail.format_date("yesterday")):
        with pytest.raises(DiagnosticError) as exc:
            call()
        assert _codes(exc) == ["SEL708"]


# ---------------------------------------------------------------------------------------------
# The series: generated patch on top of hand-written ones


def _generate(kb, tree: Path, existing=(), spec=SPEC, label="policies/demo.sel", steady=None):
    request = Request(label, "demo", _switch(kb, spec))
    existing = list(existing)
    (slot,) = plan_series(existing, [request])
    total = series_total(existing, [slot]) if numbered(existing) else 1
    preceding = [(p.name, p.text) for p in existing if p.number < slot.number]
    return generate(slot, source=tree, preceding=preceding, total=total,
                    author=AUTHOR, date=mail.DEFAULT_DATE, steady=steady)


def test_generated_patch_applies_compiles_and_fails_closed(kb, tmp_path):
    tree = _tree(tmp_path)
    slot = _generate(kb, tree)
    assert slot.name == "0001-demo-setcon-via-an-attr-fd-opened-before-chroot.patch"
    assert generated_daemon(slot.text) == "demo"
    assert "selkit" not in slot.text and "policies/" not in slot.text  # upstream's terms only
    assert "Subject: [PATCH] demo: setcon via" in slot.text
    assert slot.text == _generate(kb, tree).text  # byte-identical on rerun
    work = tmp_path / "work"
    shutil.copytree(tree, work)
    _run(["git", "init", "-q"], cwd=work)
    _apply_checks(work, slot.text)
    assert (work / "src/demo.c").read_text() == slot.hook.new_text
    for flags in (["-DHAVE_SELINUX"], []):
        out = tmp_path / ("with" if flags else "without")
        build = _run(["gcc", "-Wall", "-Wextra", "-Werror", "-std=gnu99", *flags, "-o", str(out),
                      str(work / "src/demo.c")] + (["-lselinux"] if flags else []))
        assert build.returncode == 0, build.stderr
        run = _run([str(out), "system_u:system_r:demo_steady_t:s0"])
        assert run.returncode == 1 and "serving" not in run.stdout
        expected = "SELinux is disabled" if flags else "built without SELinux support"
        if flags and _selinux_enabled():
            continue
        assert expected in run.stderr
        assert run.stderr.startswith(f"{out.name}: ")
        assert _run([str(out)]).stdout == "serving\n"  # no context asked for: runs


def test_generated_patch_with_a_steady_filter_applies_compiles_and_fails_closed(kb, tmp_path):
    tree = _tree(tmp_path)
    flt = seccomp_bpf.generate(["read", "write", "exit_group"], "kill_process")
    plain, slot = _generate(kb, tree), _generate(kb, tree, steady=flt)
    assert slot.text == _generate(kb, tree, steady=flt).text  # byte-identical on rerun
    assert "src/setcon_fd_demo_steady.h" in slot.text and flt.sha256 in slot.text
    assert "no_new_privs" in slot.text and "no_new_privs" not in plain.text
    work = tmp_path / "work"
    shutil.copytree(tree, work)
    _run(["git", "init", "-q"], cwd=work)
    _apply_checks(work, slot.text)
    assert (work / "src/setcon_fd_demo_steady.h").read_text() == slot.hook.steady_text
    for flags in (["-DHAVE_SELINUX"], []):
        out = tmp_path / ("with" if flags else "without")
        build = _run(["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-std=gnu99", *flags, "-o",
                      str(out), str(work / "src/demo.c")] + (["-lselinux"] if flags else []))
        assert build.returncode == 0 and not build.stderr, build.stderr
        if _selinux_enabled():
            continue
        run = _run([str(out), "system_u:system_r:demo_steady_t:s0"])
        assert run.returncode == 1 and "serving" not in run.stdout
        assert "SELinux context 'system_u:system_r:demo_steady_t:s0'" in run.stderr
        assert _run([str(out)]).stdout == "serving\n"  # no context: no switch, no filter


def test_preceding_patch_is_applied_first(kb, tmp_path):
    tree = _tree(tmp_path)
    renamed = DEMO_C.replace("do_setcon(context);", "do_setcon(context);  /* switch */")
    hand = udiff.diff_file("src/demo.c", DEMO_C, renamed).text
    hand_mail = mail.format_patch(author=AUTHOR, date=mail.DEFAULT_DATE,
                                  subject="demo: a comment", body="Why.\n", stat="",
                                  diff=hand)
    (series := tmp_path / "series").mkdir()
    (series / "0001-demo-a-comment.patch").write_text(hand_mail)
    existing = read_series(series)
    assert [(p.number, p.daemon) for p in existing] == [(1, None)]
    slot = _generate(kb, tree, existing)
    # numbered like the hand-written patch: that one says [PATCH], so this one does too
    assert slot.number == 2 and "Subject: [PATCH] demo:" in slot.text
    assert "setcon_fd_switch(context);  /* switch */" in slot.hook.new_text
    (series / "0001-demo-a-comment.patch").write_text(
        hand_mail.replace("Subject: [PATCH]", "Subject: [PATCH 1/2]"))
    assert "Subject: [PATCH 2/2] demo:" in _generate(kb, tree, read_series(series)).text


def test_preceding_patch_that_fails_is_a_toolchain_error(kb, tmp_path):
    tree = _tree(tmp_path)
    broken = udiff.diff_file("src/demo.c", DEMO_C.replace("main", "mane"), DEMO_C).text
    (series := tmp_path / "series").mkdir()
    (series / "0001-broken.patch").write_text(mail.format_patch(
        author=AUTHOR, date=mail.DEFAULT_DATE, subject="broken", body="x\n",
        stat="", diff=broken))
    with pytest.raises(ToolchainError) as exc:
        _generate(kb, tree, read_series(series))
    assert _codes(exc) == ["SEL706"] and "0001-broken.patch" in exc.value.diagnostics[0].message


def test_header_is_added_once_per_tree(kb, tmp_path):
    tree = _tree(tmp_path)
    first = _generate(kb, tree)
    (series := tmp_path / "series").mkdir()
    (series / first.name).write_text(first.text)
    client = SPEC.replace("daemon demo", "daemon democlient")
    existing = read_series(series)
    request = Request("policies/democlient.sel", "democlient", _switch(kb, client))
    (slot,) = plan_series(existing, [request])
    # the same file again is not a useful client, but the header rule is what is tested:
    # the first patch added src/setcon_fd.h, so the second one must not add it again
    with pytest.raises(DiagnosticError) as exc:
        generate(slot, source=tree, preceding=[(first.name, first.text)], total=2,
                 author=AUTHOR, date=mail.DEFAULT_DATE)
    assert _codes(exc) == ["SEL701"]  # its anchors were replaced by the first patch
    other = tree / "src" / "client.c"
    other.write_text(DEMO_C)
    request = Request("policies/democlient.sel", "democlient",
                      _switch(kb, client.replace("src/demo.c", "src/client.c")))
    (slot,) = plan_series(existing, [request])
    generate(slot, source=tree, preceding=[(first.name, first.text)], total=2,
             author=AUTHOR, date=mail.DEFAULT_DATE)
    assert slot.hook.header_text is None and "setcon_fd.h |" not in slot.text
    assert "added earlier in this series" in " ".join(slot.text.split())


# ---------------------------------------------------------------------------------------------
# The header on its own


def _selinux_enabled() -> bool:
    return os.path.exists("/sys/fs/selinux/enforce")


DRIVER = """\
#include "setcon_fd.h"
#include <unistd.h>
int main(int argc, char **argv)
{
\tconst char *context = argc > 1 ? argv[1] : NULL;
\tif (argc > 2) {
\t\tint rc = setcon_fd_commit(context);
\t\tprintf("commit %d %s\\n", rc, rc ? strerror(errno) : "ok");
\t\treturn 0;
\t}
\tsetcon_fd_prepare(context);
\tsetcon_fd_switch(context);
\treturn 0;
}
"""


@pytest.mark.parametrize("variant", ["with", "without"])
def test_header_compiles_cleanly_without_global_symbols(tmp_path, variant):
    (tmp_path / "setcon_fd.h").write_text(hooks.render_header("HAVE_SELINUX"))
    (tmp_path / "drv.c").write_text(DRIVER)
    flags = ["-DHAVE_SELINUX"] if variant == "with" else []
    for std in ("-std=gnu99", "-std=c99"):
        build = _run(["gcc", "-Wall", "-Wextra", "-Werror", "-pedantic", std, *flags,
                      "-D_GNU_SOURCE", "-c", "-o", "drv.o", "drv.c"], cwd=tmp_path)
        assert build.returncode == 0, build.stderr
        symbols = _run(["nm", "drv.o"], cwd=tmp_path).stdout
        globals_ = [ln.split()[-1] for ln in symbols.splitlines()
                    if re.search(r" [A-Z] ", ln) and not ln.lstrip().startswith("U")]
        assert globals_ == ["main"], symbols


@pytest.mark.skipif(os.geteuid() != 0, reason="the fail-closed run is checked as root")
@pytest.mark.skipif(_selinux_enabled(), reason="this host has SELinux; the check needs none")
def test_header_fails_closed_on_a_host_without_selinux(tmp_path):
    (tmp_path / "setcon_fd.h").write_text(hooks.render_header("HAVE_SELINUX"))
    (tmp_path / "drv.c").write_text(DRIVER)
    for flags, libs, reason in ((["-DHAVE_SELINUX"], ["-lselinux"], "SELinux is disabled"),
                                ([], [], "built without SELinux support")):
        build = _run(["gcc", "-Wall", "-Wextra", "-std=gnu99", *flags, "-o", "drv", "drv.c",
                      *libs], cwd=tmp_path)
        assert build.returncode == 0 and not build.stderr, build.stderr
        run = _run(["./drv", "system_u:system_r:x_t:s0"], cwd=tmp_path)
        assert run.returncode == 1
        assert run.stderr == ("drv: cannot prepare the switch to SELinux context "
                              f"'system_u:system_r:x_t:s0': {reason}\n" if flags else
                              "drv: cannot switch to SELinux context "
                              f"'system_u:system_r:x_t:s0': {reason}\n")
        commit = _run(["./drv", "system_u:system_r:x_t:s0", "commit"], cwd=tmp_path)
        assert commit.stdout == "commit -1 Operation not supported\n"
        assert _run(["./drv"], cwd=tmp_path).returncode == 0


# ---------------------------------------------------------------------------------------------
# The command


def test_cli_writes_checks_and_refuses(kb, tmp_path):
    tree = _tree(tmp_path)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "demo.sel").write_text(SPEC)
    out = tmp_path / "vendor-patches" / "demo"
    args = ("patch", "policies/demo.sel", "--source", str(tree), "-o", "vendor-patches/demo")
    nobody = {"GIT_AUTHOR_NAME": "", "GIT_AUTHOR_EMAIL": "", "HOME": str(tmp_path),
              "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    anonymous = run(*args, cwd=tmp_path, env_extra=nobody)
    assert anonymous.returncode == 2 and "SEL708" in anonymous.stderr
    assert "--author" in anonymous.stderr and not out.exists()  # no identity, no placeholder
    first = run(*args, cwd=tmp_path, env_extra=IDENTITY)
    assert first.returncode == 0, first.stderr
    (written,) = sorted(out.iterdir())
    data = written.read_bytes()
    assert b"From: Jane Roe <jane@roe.name>\n" in data  # the user's git identity
    message = mail.read_mail(data.decode()).body
    assert "selkit" not in message and "policies/" not in message  # the project's terms only
    assert b"Signed-off-by" not in data
    assert run(*args, "--check", cwd=tmp_path).returncode == 0
    assert run(*args, cwd=tmp_path).returncode == 0 and written.read_bytes() == data
    written.write_bytes(data.replace(b"setcon_fd_switch(context);", b"setcon_fd_switch(ctx);"))
    stale = run(*args, "--check", cwd=tmp_path)
    assert stale.returncode == 1 and "differs" in stale.stdout
    written.write_bytes(data)
    # author and date: explicit options win, then the committed patch's, then git's identity
    other = run(*args, "--author", "Jane Doe <jane@doe.name>", "--date", "2026-02-03",
                "--signoff", cwd=tmp_path)
    assert other.returncode == 0
    assert b"From: Jane Doe <jane@doe.name>\nDate: Tue, 3 Feb 2026 00:00:00 +0000" in \
        written.read_bytes()
    assert b"\n\nSigned-off-by: Jane Doe <jane@doe.name>\n---\n" in written.read_bytes()
    assert run(*args, "--check", cwd=tmp_path).returncode == 0  # the committed signoff stays
    unsigned = run(*args, "--check", "--no-signoff", cwd=tmp_path)
    assert unsigned.returncode == 1 and "differs" in unsigned.stdout
    # a bad anchor: exit 2, the caret on the spec's string, nothing written
    (tmp_path / "policies" / "demo.sel").write_text(SPEC.replace("do_chroot(newroot);",
                                                                 "do_chroot(root);"))
    before = sorted(p.name for p in out.iterdir())
    bad = run(*args, cwd=tmp_path)
    assert bad.returncode == 2, bad.stderr
    assert "error[SEL701]: the anchor does not occur in src/demo.c" in bad.stderr
    assert "--> policies/demo.sel:12:37" in bad.stderr
    assert 'did you mean "do_chroot(newroot);" (src/demo.c:' in bad.stderr
    assert "Traceback" not in bad.stderr and sorted(p.name for p in out.iterdir()) == before


def test_cli_without_output_prints_the_patch(kb, tmp_path):
    tree = _tree(tmp_path)
    spec = tmp_path / "demo.sel"
    spec.write_text(SPEC)
    proc = run("patch", "demo.sel", "--source", str(tree), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("From ") and "+#include \"setcon_fd.h\"" in proc.stdout


def test_cli_prints_a_latin1_source_byte_for_byte_on_a_strict_utf8_stdout(kb, tmp_path):
    """ptunnel.c is Latin-1: its bytes ride through as surrogates and must reach stdout as
    they were, also when Python's stdout is strict UTF-8 (a non-C locale)."""
    latin1 = DEMO_C.replace("#include <stdlib.h>\n", "#include <stdlib.h> /* d\xe9mo */\n")
    tree = tmp_path / "demo-1.0"
    (tree / "src").mkdir(parents=True)
    (tree / "src" / "demo.c").write_bytes(latin1.encode("latin-1"))
    (tmp_path / "demo.sel").write_text(SPEC)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([sys.executable, "-m", "selkit", "patch", "demo.sel", "--source",
                           str(tree)], cwd=tmp_path, env=env, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b" #include <stdlib.h> /* d\xe9mo */\n" in proc.stdout
    work = tmp_path / "work"
    shutil.copytree(tree, work)
    (tmp_path / "p.patch").write_bytes(proc.stdout)
    applied = subprocess.run(["patch", "-p1", "-s", "-i", str(tmp_path / "p.patch")], cwd=work,
                             capture_output=True, check=False)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert b"<stdlib.h> /* d\xe9mo */\n" in (work / "src" / "demo.c").read_bytes()


def test_cli_spec_without_patch_is_refused(kb, tmp_path):
    lines = [line for line in SPEC.splitlines(keepends=True)
             if not line.lstrip().startswith(("context", "build", "prepare", "patch"))]
    (tmp_path / "bare.sel").write_text("".join(lines))
    proc = run("patch", "bare.sel", "--source", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "SEL707" in proc.stderr


# ---------------------------------------------------------------------------------------------
# Every generated patch committed under vendor-patches/ regenerates byte for byte


def _committed_generated() -> dict[str, list[str]]:
    """Series directory name -> the specs of its generated patches, in file order."""
    return {d.name: generated_specs(d) for d in series_dirs() if d.parent == VENDOR}


def _pristine(project: str, dest: Path) -> Path:
    """The unpacked orig tarball of ``project`` (its top directory renamed to ``dest``)."""
    return unpack(project, dest)


GENERATED_SERIES = _committed_generated()


@pytest.mark.parametrize("project", sorted(GENERATED_SERIES) or [None])
def test_committed_generated_patches_regenerate_byte_for_byte(kb, tmp_path, project):
    if project is None:
        pytest.skip("no generated patch is committed under vendor-patches/ yet")
    tree = _pristine(project, tmp_path / "orig")
    specs = GENERATED_SERIES[project]
    proc = run("patch", *specs, "--source", str(tree), "-o", f"vendor-patches/{project}",
                   "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("up to date") == len(specs)


UPSTREAM_SERIES = [d for d in series_dirs() if d.parent != VENDOR]


@pytest.mark.parametrize("series", UPSTREAM_SERIES, ids=lambda d: d.relative_to(VENDOR).as_posix())
def test_upstream_series_regenerate_byte_for_byte(kb, tmp_path, series):
    """The generated patches (and cover letter) of each upstream-* series, against the
    snapshot of the upstream development branch it was made for."""
    tree = unpack_snapshot(series, tmp_path / "upstream")
    specs = generated_specs(series)
    proc = run("patch", *specs, "--source", str(tree), "-o",
               series.relative_to(ROOT).as_posix(), "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("up to date") == len(specs) + (series / "0000-cover-letter.patch"
                                                            ).is_file()


@pytest.mark.parametrize("spec,project,file", [
    ("policies/iodined.sel", "iodine", "src/iodined.c"),
    ("policies/openvpn.sel", "openvpn", "src/openvpn/init.c"),
])
def test_shipped_spec_generates_against_the_pristine_tree(kb, tmp_path, spec, project, file):
    """The specs' anchors hold in the pristine orig tree (hand-written patches aside)."""
    tree = _pristine(project, tmp_path / "orig")
    proc = run("patch", spec, "--source", str(tree))
    if proc.returncode == 2 and "SEL70" in proc.stderr and any(
            (VENDOR / project).glob("0001-*.patch")):
        pytest.skip(f"{spec}'s anchors are written for the hand-written {project} patches")
    assert proc.returncode == 0, proc.stderr
    work = tmp_path / "work"
    shutil.copytree(tree, work)
    _run(["git", "init", "-q"], cwd=work)
    _apply_checks(work, proc.stdout)
    assert "setcon_fd_prepare(" in (work / file).read_text()


def test_cli_series_of_two_specs_numbers_and_checks(kb, tmp_path):
    """Like iodine: the server's patch adds the header, the client's reuses it; a check of
    both or of one alone finds them up to date, and git am takes the series."""
    tree = _tree(tmp_path)
    (tree / "src" / "client.c").write_text(DEMO_C)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "server.sel").write_text(SPEC)
    (tmp_path / "policies" / "client.sel").write_text(
        SPEC.replace("daemon demo", "daemon democlient").replace("src/demo.c", "src/client.c"))
    args = ("--source", str(tree), "-o", "vendor-patches/demo")
    both = ("policies/server.sel", "policies/client.sel")
    assert run("patch", *both, *args, cwd=tmp_path, env_extra=IDENTITY).returncode == 0
    first, second = sorted((tmp_path / "vendor-patches" / "demo").iterdir())
    assert "Subject: [PATCH 1/2] demo:" in first.read_text()
    assert "Subject: [PATCH 2/2] democlient:" in second.read_text()
    assert "create mode 100644 src/setcon_fd.h" not in second.read_text()
    assert run("patch", *both, *args, "--check", cwd=tmp_path).returncode == 0
    alone = run("patch", "policies/client.sel", *args, "--check", cwd=tmp_path)
    assert alone.returncode == 0 and "up to date" in alone.stdout
    work = tmp_path / "work"
    shutil.copytree(tree, work)
    git = ["git", "-c", "safe.directory=*", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "orig"],
                 ["am", "-q", str(first), str(second)]):
        proc = _run(git + step, cwd=work)
        assert proc.returncode == 0, proc.stderr
    log = _run(git + ["log", "--format=%an <%ae>|%aD|%s"], cwd=work).stdout.splitlines()
    assert log[:2] == [
        "Jane Roe <jane@roe.name>|Thu, 1 Jan 2026 00:00:00 +0000|democlient: setcon via an "
        "attr fd opened before chroot",
        "Jane Roe <jane@roe.name>|Thu, 1 Jan 2026 00:00:00 +0000|demo: setcon via an attr "
        "fd opened before chroot"]
