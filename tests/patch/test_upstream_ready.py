"""What makes a generated patch mergeable upstream: the new header listed in the build files
(release tarballs), the project's clang-format, the project's fatal-error path, a portable
header, and the cover letter."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from patch_demo import SPEC
from patch_demo import demo_tree as _tree
from selkit_cli import run

from selkit.diagnostics import ToolchainError
from selkit.patch import buildlists, hook, mail, style
from selkit.patch.series import read_series
from selkit.projects import clang_format

IDENTITY = {"GIT_AUTHOR_NAME": "Jane Roe", "GIT_AUTHOR_EMAIL": "jane@roe.name"}

# --- build lists (pure) -----------------------------------------------------------------------


def test_a_one_line_headers_list_gets_the_header_at_its_end():
    text = ("hts_SOURCES = hts.c common.c tunnel.c\n\n"
            "noinst_HEADERS = common.h tunnel.h\n")
    new = buildlists.add_header("Makefile.am", text, "hts.c", "setcon_fd.h")
    assert new == ("hts_SOURCES = hts.c common.c tunnel.c\n\n"
                   "noinst_HEADERS = common.h tunnel.h setcon_fd.h\n")
    assert buildlists.add_header("Makefile.am", new, "hts.c", "setcon_fd.h") is None


def test_a_list_of_one_entry_per_line_gets_a_line_where_it_sorts():
    text = ("openvpn_SOURCES = \\\n\tinit.c init.h \\\n\tsession_id.c session_id.h \\\n"
            "\tshaper.c shaper.h \\\n\twin32.c\n")
    new = buildlists.add_header("src/openvpn/Makefile.am", text, "src/openvpn/init.c",
                                "src/openvpn/setcon_fd.h")
    assert "\tsession_id.c session_id.h \\\n\tsetcon_fd.h \\\n\tshaper.c shaper.h" in new
    last = buildlists.add_header("src/Makefile.am", "x_SOURCES = \\\n\ta.c \\\n\tb.c\n",
                                 "src/a.c", "src/z.h")
    assert last == "x_SOURCES = \\\n\ta.c \\\n\tb.c \\\n\tz.h\n"  # after the last: still one list


def test_a_build_file_that_does_not_list_the_source_is_left_alone():
    assert buildlists.add_header("Makefile.am", "SUBDIRS = port\n", "hts.c", "setcon_fd.h") \
        is None
    assert buildlists.add_header("port/Makefile.am", "x_SOURCES = hts.c\n", "hts.c",
                                 "setcon_fd.h") is None  # the source is not below it


def test_cmake_gets_a_line_in_the_block_of_paths():
    text = ("set(SOURCE_FILES\n    src/openvpn/init.c\n    src/openvpn/session_id.h\n"
            "    src/openvpn/shaper.c\n    )\n")
    new = buildlists.add_header("CMakeLists.txt", text, "src/openvpn/init.c",
                                "src/openvpn/setcon_fd.h")
    assert new == ("set(SOURCE_FILES\n    src/openvpn/init.c\n    src/openvpn/session_id.h\n"
                   "    src/openvpn/setcon_fd.h\n    src/openvpn/shaper.c\n    )\n")


# --- clang-format ------------------------------------------------------------------------------


def test_changed_lines_are_the_new_and_replaced_ones():
    assert style.changed_lines("a\nb\nc\n", "a\nX\nY\nc\n") == [(2, 3)]
    assert style.changed_lines("a\nb\n", "a\nb\n") == []


def _fake_clang_format(tmp_path: Path, version: str) -> str:
    exe = tmp_path / "clang-format"
    exe.write_text(f"#!/bin/sh\necho 'clang-format version {version}'\n")
    exe.chmod(0o755)
    return str(exe)


def test_a_pinned_clang_format_of_another_version_is_refused(tmp_path, monkeypatch):
    (tmp_path / ".clang-format").write_text("BasedOnStyle: Mozilla\n")
    (tmp_path / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: https://github.com/pre-commit/mirrors-clang-format\n"
        "    rev: 'v21.1.8'\n")
    monkeypatch.setenv("SELKIT_CLANG_FORMAT", _fake_clang_format(tmp_path, "14.0.6"))
    with pytest.raises(ToolchainError) as exc:
        style.formatter_for(tmp_path)
    diagnostic = exc.value.diagnostics[0]
    assert diagnostic.code == "SEL710" and "21.1.8" in diagnostic.message
    assert "pip install clang-format==21.1.8" in (diagnostic.hint or "")
    assert style.formatter_for(tmp_path / "nowhere") is None  # no .clang-format: no formatter


def _venv_clang_format() -> str | None:
    found = clang_format.find()
    return found if found and clang_format.version_of(found) else None


@pytest.mark.skipif(_venv_clang_format() is None, reason="clang-format is not installed "
                    "(make setup installs the version OpenVPN pins)")
def test_a_tree_with_a_clang_format_gets_the_header_in_its_style(kb, tmp_path):
    tree = _tree(tmp_path)
    (tree / ".clang-format").write_text("BasedOnStyle: Mozilla\nBreakBeforeBraces: Allman\n"
                                        "IndentWidth: 4\nUseTab: Never\nColumnLimit: 0\n")
    (tmp_path / "demo.sel").write_text(SPEC)
    # demo.c does not follow that style: the hook keeps the code's own layout (tabs)
    unformatted = run("patch", "demo.sel", "--source", str(tree), "--no-seccomp",
                      cwd=tmp_path, env_extra=IDENTITY)
    assert unformatted.returncode == 0, unformatted.stderr
    assert re.search(r"\n\+\t+setcon_fd_prepare\(", unformatted.stdout)
    # once it does, the new code follows it too
    subprocess.run([_venv_clang_format(), "--style=file:" + str(tree / ".clang-format"), "-i",
                    str(tree / "src" / "demo.c")], check=True)
    proc = run("patch", "demo.sel", "--source", str(tree), "--no-seccomp", cwd=tmp_path,
               env_extra=IDENTITY)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"\n\+( {4})+setcon_fd_prepare\(", proc.stdout)
    header = proc.stdout.split("+++ b/src/setcon_fd.h\n", 1)[1]
    assert "+static inline void\n+setcon_fd_switch(" in header  # the return type alone
    assert "\n+\t" not in header  # spaces, as the style says
    fmt = subprocess.run([_venv_clang_format(), "--style=file:" + str(tree / ".clang-format"),
                          "--assume-filename=src/setcon_fd.h"], input="".join(
        line[1:] + "\n" for line in header.split("\n") if line.startswith("+")),
        capture_output=True, text=True, check=True)
    formatted = "".join(line[1:] + "\n" for line in header.split("\n") if line.startswith("+"))
    assert fmt.stdout == formatted  # clang-format has nothing left to change


# --- the project's fatal-error path and a portable header -------------------------------------


def test_fatal_becomes_a_define_before_the_include(kb):
    from test_patch import _switch

    spec = SPEC.replace('        build "HAVE_SELINUX"\n',
                        '        build "HAVE_SELINUX"\n'
                        '        fatal "die(\\"%s\\", {message})"\n')
    switch = _switch(kb, spec)
    assert switch.fatal is not None and switch.fatal.origin.span.line == 12
    from patch_demo import DEMO_C

    planned = hook.plan(DEMO_C, switch, header_exists=False)
    assert ('#define SETCON_FD_FATAL(message) die("%s", (message))\n'
            '#include "setcon_fd.h"\n') in planned.new_text
    lines = [p.origin.span.line for p in planned.placements if "#define" in p.description]
    assert lines == [12]  # traced to the spec's fatal line


def _compile(tmp_path: Path, compiler: str, *flags: str, body: str) -> subprocess.CompletedProcess:
    (tmp_path / "setcon_fd.h").write_text(hook.render_header("HAVE_SELINUX"))
    (tmp_path / "t.c").write_text(body)
    libs = [f for f in flags if f.startswith("-l")]
    flags = tuple(f for f in flags if not f.startswith("-l"))
    return subprocess.run([compiler, "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror",
                           *flags, "-o", str(tmp_path / "t.out"), str(tmp_path / "t.c"), *libs],
                          capture_output=True, text=True, cwd=tmp_path, check=False)


_MAIN = ('#include "setcon_fd.h"\nint main(int argc, char **argv)\n{\n'
         '\tsetcon_fd_prepare(argc > 1 ? argv[1] : NULL);\n'
         '\tsetcon_fd_switch(argc > 1 ? argv[1] : NULL);\n'
         '\treturn setcon_fd_commit(NULL) == -1 && !setcon_fd_switched() ? 0 : 3;\n}\n')


def test_without_selinux_the_header_is_standard_c_and_refuses_a_context(tmp_path):
    """What the BSDs and macOS see: no __linux__, no program_invocation_short_name, no
    syslog.h needed; a context asked for still stops the program."""
    proc = _compile(tmp_path, "gcc", "-U__linux__", body=_MAIN)
    assert proc.returncode == 0, proc.stderr
    ran = subprocess.run([str(tmp_path / "t.out"), "ctx"], capture_output=True, text=True,
                         check=False)
    assert ran.returncode == 1
    assert ran.stderr == "cannot switch to SELinux context 'ctx': built without SELinux support\n"
    assert subprocess.run([str(tmp_path / "t.out")], check=False).returncode == 0
    symbols = subprocess.run(["nm", str(tmp_path / "t.out")], capture_output=True, text=True,
                             check=True).stdout
    assert "program_invocation" not in symbols and "syslog" not in symbols


def test_a_fatal_hook_replaces_the_default_report(tmp_path):
    body = ('#include <stdio.h>\n#define SETCON_FD_FATAL(message) '
            'fprintf(stderr, "FATAL %s\\n", (message))\n' + _MAIN)
    proc = _compile(tmp_path, "gcc", "-D_DEFAULT_SOURCE", "-DHAVE_SELINUX", "-lselinux", body=body)
    assert proc.returncode == 0, proc.stderr
    ran = subprocess.run([str(tmp_path / "t.out"), "ctx"], capture_output=True, text=True,
                         check=False)
    assert ran.returncode == 1 and ran.stderr.startswith("FATAL cannot ")


@pytest.mark.skipif(shutil.which("x86_64-w64-mingw32-gcc") is None,
                    reason="x86_64-w64-mingw32-gcc is not installed (make setup installs it)")
def test_the_header_compiles_for_windows(tmp_path):
    proc = _compile(tmp_path, "x86_64-w64-mingw32-gcc", body=_MAIN)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(shutil.which("musl-gcc") is None,
                    reason="musl-gcc is not installed (make setup installs musl-tools)")
def test_the_header_compiles_and_refuses_with_musl(tmp_path):
    proc = _compile(tmp_path, "musl-gcc", "-static", body=_MAIN)
    assert proc.returncode == 0, proc.stderr
    ran = subprocess.run([str(tmp_path / "t.out"), "ctx"], capture_output=True, text=True,
                         check=False)
    assert ran.returncode == 1 and ran.stderr.startswith("t.out: cannot switch")


# --- the cover letter and the send-ready series -----------------------------------------------


def test_cover_letter_is_written_checked_and_regenerated(kb, tmp_path):
    tree = _tree(tmp_path)
    (tmp_path / "demo.sel").write_text(SPEC)
    args = ("patch", "demo.sel", "--source", str(tree), "-o", "series")
    assert run(*args, "--signoff", cwd=tmp_path, env_extra=IDENTITY).returncode == 0
    plain = run(*args, "--cover-letter", cwd=tmp_path, env_extra=IDENTITY)
    assert plain.returncode == 0, plain.stderr
    letter = (tmp_path / "series" / "0000-cover-letter.patch").read_text()
    assert letter.startswith("From 0000000000000000000000000000000000000000 ")
    assert "Subject: [PATCH 0/1] Enter the -z SELinux context through an fd opened before\n" \
        " chroot\n" in letter
    assert "Jane Roe (1):\n  demo: setcon via an attr fd opened before chroot\n" in letter
    assert " src/setcon_fd.h" in letter and "How to test it:" in letter
    assert "selkit" not in letter
    assert [p.name for p in read_series(tmp_path / "series")] == [
        "0001-demo-setcon-via-an-attr-fd-opened-before-chroot.patch"]  # not a patch itself
    patch = (tmp_path / "series" / "0001-demo-setcon-via-an-attr-fd-opened-before-chroot.patch")
    assert "\n\nSigned-off-by: Jane Roe <jane@roe.name>\n---\n" in patch.read_text()
    assert run(*args, "--check", cwd=tmp_path).returncode == 0  # checks the letter too
    (tmp_path / "series" / "0000-cover-letter.patch").write_text(letter.replace("Enter", "X"))
    stale = run(*args, "--check", cwd=tmp_path)
    assert stale.returncode == 1 and "0000-cover-letter.patch: differs" in stale.stdout
    work = tmp_path / "work"
    shutil.copytree(tree, work)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t.name"]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "orig"], ["am", str(patch)]):
        done = subprocess.run(git + step, cwd=work, capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, done.stderr
    trailer = subprocess.run(git + ["log", "-1", "--format=%(trailers)%an <%ae>"], cwd=work,
                             capture_output=True, text=True, check=True).stdout
    assert trailer == "Signed-off-by: Jane Roe <jane@roe.name>\nJane Roe <jane@roe.name>\n"


def test_headers_fold_like_git():
    assert mail.header("From", "A <a@b>") == "From: A <a@b>\n"
    long = "Seed 33982fa6 maintainers <maintainers@users.noreply.r-seed-33982fa6.example>"
    assert mail.header("From", long) == ("From: Seed 33982fa6 maintainers\n"
                                         " <maintainers@users.noreply.r-seed-33982fa6.example>\n")


def test_no_committed_patch_has_a_placeholder_author_or_a_tool_credit():
    vendor = Path(__file__).resolve().parents[2] / "vendor-patches"
    for path in sorted(vendor.rglob("*.patch")):
        found = mail.read_mail(path.read_text("utf-8", "surrogateescape"))
        assert found.author and "example.org" not in found.author, path
        assert "Generated by selkit" not in found.body and "selkit" not in found.body, path
        assert "policies/" not in found.body, path
        stray = re.findall(r"^diff --git a/\S+ b/(\S+\.(?:orig|rej))$", path.read_text(
            "utf-8", "surrogateescape"), re.M)
        assert not stray, (path, stray)  # leftovers of patch(1), never part of a change
        # a line starting with '#' is a comment to git commit: the message would lose it
        assert not [line for line in found.body.splitlines() if line.startswith("#")], path


def test_the_git_identity_comes_from_the_environment_or_config(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Jane Roe")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "jane@roe.name")
    assert mail.git_identity() == "Jane Roe <jane@roe.name>"
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    assert mail.git_identity(str(tmp_path)) is None
