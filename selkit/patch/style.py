"""Generated code in the project's own format: clang-format, where the tree has a .clang-format.

A project that checks its format in CI (OpenVPN pins clang-format in .pre-commit-config.yaml)
rejects a patch whose new lines differ from what its formatter writes. New files are formatted
whole; in an edited file only the lines the hook changed (``--lines``), so nothing else moves.
The formatter's version decides the bytes: when the tree pins one, another version is refused.
"""

from __future__ import annotations

import difflib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from selkit.diagnostics import Diagnostic, ToolchainError
from selkit.projects import clang_format


@dataclass(frozen=True)
class Formatter:
    """clang-format with the tree's configuration."""

    executable: str
    config: Path

    def format(self, path: str, text: str, lines: list[tuple[int, int]] | None = None) -> str:
        """``text`` (the file ``path`` of the tree) formatted; only ``lines`` (1-based,
        inclusive ranges) when given."""
        argv = [self.executable, f"--style=file:{self.config}", f"--assume-filename={path}"]
        argv += [f"--lines={a}:{b}" for a, b in lines or []]
        proc = subprocess.run(argv, input=text.encode("utf-8", "surrogateescape"),
                              capture_output=True, check=False)
        if proc.returncode != 0:
            raise ToolchainError([Diagnostic(
                "SEL710", f"clang-format failed on {path}: "
                + proc.stderr.decode("utf-8", "replace").strip()[:300])])
        return proc.stdout.decode("utf-8", "surrogateescape")


def formatter_for(tree: Path) -> Formatter | None:
    """The tree's formatter: None without a top-level .clang-format; SEL710 when clang-format
    is missing or is not the version the tree pins."""
    config = tree / ".clang-format"
    if not config.is_file():
        return None
    pinned = clang_format.pinned_version(tree)
    executable = clang_format.find(pinned) or clang_format.find()
    want = f"clang-format {pinned}" if pinned else "clang-format"
    if executable is None:
        raise ToolchainError([Diagnostic(
            "SEL710", f"{tree.name} formats its code with clang-format (.clang-format) and "
            "clang-format is not installed",
            hint=f"install {want} (pip install clang-format"
                 + (f"=={pinned}" if pinned else "") + ") or set SELKIT_CLANG_FORMAT")])
    if pinned:
        found = clang_format.version_of(executable)
        if found != pinned:
            raise ToolchainError([Diagnostic(
                "SEL710", f"{tree.name} pins clang-format {pinned} (.pre-commit-config.yaml) "
                f"and {executable} is {found or 'of an unknown version'}: its output could "
                "differ from the project's CI",
                hint=f"pip install clang-format=={pinned}, or set SELKIT_CLANG_FORMAT")])
    return Formatter(executable, config)


def changed_lines(old: str, new: str) -> list[tuple[int, int]]:
    """The 1-based inclusive line ranges of ``new`` that differ from ``old``."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    return [(j1 + 1, max(j1 + 1, j2)) for tag, _, _, j1, j2 in matcher.get_opcodes()
            if tag in ("replace", "insert")]
