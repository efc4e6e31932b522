"""The bad-input corpus: every file in dsl/errors/ is checked by the real CLI in a pipe.

Each ``dsl/errors/NAME.sel`` has a ``NAME.expected`` next to it: the first line is ``exit: N``,
the rest is the exact stderr of ``selkit check dsl/errors/NAME.sel`` run from the repository
root. ``pytest --update-golden`` rewrites the expected files from the current output.

Further tests cover inputs that cannot live in the corpus: a directory, an unreadable file, a
file over the size limit, pathological nesting and statement counts, and ``compile`` writing
nothing when an input is bad.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from selkit_cli import pipe_env, run

from selkit.diagnostics import DiagnosticError
from selkit.dsl import loader
from selkit.dsl.parser import MAX_SOURCE_BYTES

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "dsl" / "errors"
CASES = sorted(CORPUS.glob("*.sel"))

pytestmark = pytest.mark.skipif(
    not os.path.exists("/etc/selinux/default/policy/policy.33"),
    reason="selinux-policy-default is not installed (run make setup)")


def run_selkit(*args: str, timeout: float = 120):
    """``selkit ARGS`` as a process in a pipe, output as bytes (the tests decode it)."""
    return run(*args, timeout=timeout, text=False)


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _no_traceback(proc: subprocess.CompletedProcess) -> None:
    for stream in (proc.stdout, proc.stderr):
        assert b"Traceback" not in stream
        assert b"internal error" not in stream


# ---------------------------------------------------------------------------------------------
# The corpus


def test_corpus_is_not_empty():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_error_case(case: Path, update_golden: bool):
    rel = case.relative_to(ROOT).as_posix()
    proc = run_selkit("check", rel)
    _no_traceback(proc)
    actual = f"exit: {proc.returncode}\n{_text(proc.stderr)}"
    golden = case.with_suffix(".expected")
    if update_golden:
        golden.write_text(actual, encoding="utf-8")
        return
    assert golden.exists(), f"{golden.name} is missing: run pytest --update-golden"
    assert actual == golden.read_text(encoding="utf-8")
    assert proc.stdout == b""
    assert proc.returncode == 2


def test_every_expected_has_a_case():
    stale = [p.name for p in CORPUS.glob("*.expected") if not p.with_suffix(".sel").exists()]
    assert not stale


def test_every_case_shows_a_code_and_location():
    """Each expected output is rustc-style: a coded error, and where it is when it has a place."""
    for case in CASES:
        golden = case.with_suffix(".expected")
        if not golden.exists():
            continue
        text = golden.read_text(encoding="utf-8")
        assert text.startswith("exit: 2\nerror[SEL"), case.name
        assert "  --> dsl/errors/" in text, case.name


# ---------------------------------------------------------------------------------------------
# Inputs that cannot be corpus files


def test_directory_is_refused():
    proc = run_selkit("check", "dsl/errors")
    _no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert _text(proc.stderr) == (
        "error[SEL903]: 'dsl/errors' is a directory, not a .sel file\n"
        "  = help: pass the .sel files inside it\n"
        "1 error\n")


def test_missing_file():
    proc = run_selkit("check", "dsl/errors/no-such-file.sel")
    _no_traceback(proc)
    assert proc.returncode == 2
    assert _text(proc.stderr) == ("error[SEL901]: no such file: 'dsl/errors/no-such-file.sel'\n"
                                  "1 error\n")


def test_unreadable_file(tmp_path: Path):
    """A file whose read fails: mode 000 for a normal user; as root (who may read anything),
    /proc/self/mem, whose read at offset 0 fails with EIO."""
    if os.geteuid() != 0:
        path = tmp_path / "secret.sel"
        path.write_text("daemon demo {\n}\n")
        path.chmod(0)
        try:
            proc = run_selkit("check", str(path))
        finally:
            path.chmod(0o644)
        expected = f"error[SEL904]: cannot read '{path}': permission denied\n1 error\n"
    else:
        path = Path("/proc/self/mem")
        if not path.exists():
            pytest.skip("no /proc/self/mem")
        proc = run_selkit("check", str(path))
        expected = f"error[SEL904]: cannot read '{path}': Input/output error\n1 error\n"
    _no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert _text(proc.stderr) == expected


def test_permission_denied_is_reported(monkeypatch, tmp_path: Path):
    """The same, at the read_source level, whoever runs the tests."""
    path = tmp_path / "secret.sel"
    path.write_text("daemon demo {\n}\n")

    def deny(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(DiagnosticError) as info:
        loader.read_source(str(path))
    (diag,) = info.value.diagnostics
    assert diag.code == "SEL904"
    assert diag.message == f"cannot read '{path}': permission denied"


def test_endless_device_is_bounded():
    """/dev/zero reports size 0 but never ends: the read stops at the size limit."""
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    proc = run_selkit("check", "/dev/zero", timeout=60)  # an endless read would hang here
    _no_traceback(proc)
    assert proc.returncode == 2
    assert _text(proc.stderr).startswith("error[SEL905]: ")


def test_too_large_input(tmp_path: Path):
    path = tmp_path / "huge.sel"
    path.write_text("# padding\n" * (MAX_SOURCE_BYTES // 10 + 1))
    assert path.stat().st_size > MAX_SOURCE_BYTES
    proc = run_selkit("check", str(path), timeout=60)  # a hang guard, not a timing claim
    _no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert _text(proc.stderr) == (
        f"error[SEL905]: input is larger than {MAX_SOURCE_BYTES} bytes; refusing to parse it\n"
        f"  --> {path}:1:1\n"
        "  = help: split it into several files and join them with 'use'\n"
        "1 error\n")


def _bounded(path: Path, *, seconds: float, max_rss_mib: int = 1024) -> str:
    """Check ``path`` in a child that reports its own peak memory; return stderr."""
    probe = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "sys.stdout.buffer.write(p.stdout); sys.stderr.buffer.write(p.stderr)\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "sys.stdout.write(f'\\nrc={p.returncode} rss_kib={rss}\\n')\n")
    # ``seconds`` bounds a pathological blow-up (a hang guard that fails the test by raising
    # TimeoutExpired); it is not a timing assertion: timings belong in bench/.
    proc = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "selkit", "check",
                           str(path)], cwd=ROOT, env=pipe_env(), stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=seconds * 3)
    _no_traceback(proc)
    tail = _text(proc.stdout).rsplit("\n", 2)[-2]
    rc, rss = (int(part.split("=")[1]) for part in tail.split())
    assert rc == 2, _text(proc.stderr)[-2000:]
    assert rss < max_rss_mib * 1024, f"peak RSS {rss // 1024} MiB"
    return _text(proc.stderr)


def test_deep_braces_are_bounded(tmp_path: Path):
    path = tmp_path / "braces.sel"
    path.write_text("daemon demo {\n" + "{" * 100_000 + "\n")
    err = _bounded(path, seconds=30)
    assert err.startswith("error[SEL101]: unexpected '{' in daemon 'demo'\n")
    # The quoted line is cut around the caret instead of printing 100k characters.
    assert max(len(line) for line in err.splitlines()) < 300


def test_unbalanced_closing_braces_are_bounded(tmp_path: Path):
    path = tmp_path / "closes.sel"
    path.write_text("}\n" * 100_000)
    err = _bounded(path, seconds=30)
    assert err.startswith("error[SEL106]: '}' without a matching '{'\n")


def test_many_statements_are_bounded(tmp_path: Path):
    """50k statements, every one wrong: found in linear time; the text shows the first 50."""
    body = "        sylog\n" * 50_000
    path = tmp_path / "many.sel"
    path.write_text('daemon demo {\n    exec "/usr/sbin/demo"\n    phase startup {\n'
                    f"        stdio\n{body}    }}\n    phase steady {{\n    }}\n"
                    '    switch startup -> steady {\n        option "-z {context}"\n    }\n}\n')
    err = _bounded(path, seconds=90)
    assert err.count("error[SEL206]: unknown verb 'sylog'") == 50
    assert "... and 49950 more (all of them with --json)\n" in err
    assert err.endswith("50000 errors\n")


def test_long_unterminated_string_is_bounded(tmp_path: Path):
    path = tmp_path / "string.sel"
    path.write_text('daemon demo {\n    exec "' + "a" * 900_000 + "\n}\n")
    err = _bounded(path, seconds=30, max_rss_mib=512)
    assert err.startswith("error[SEL104]: unterminated string\n")
    assert max(len(line) for line in err.splitlines()) < 300


# ---------------------------------------------------------------------------------------------
# compile writes nothing when an input is bad


@pytest.mark.parametrize("case", ["unknown-verb", "unclosed-block-eof", "steady-exceeds-startup",
                                  "not-utf8"])
def test_compile_bad_input_writes_nothing(case: str, tmp_path: Path):
    out = tmp_path / "out"
    proc = run_selkit("compile", "--target", "te,cil", "-o", str(out), f"dsl/errors/{case}.sel")
    _no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert not out.exists() or not any(out.iterdir())


def test_compile_good_and_bad_input_writes_nothing(tmp_path: Path):
    """One bad file among good ones: nothing is written for any of them."""
    good = sorted((ROOT / "policies").glob("*.sel"))
    if not good:
        pytest.skip("no policies")
    out = tmp_path / "out"
    proc = run_selkit("compile", "--target", "te,cil", "-o", str(out),
                      good[0].relative_to(ROOT).as_posix(), "dsl/errors/unknown-type.sel")
    _no_traceback(proc)
    assert proc.returncode == 2
    assert not out.exists() or not any(out.iterdir())
