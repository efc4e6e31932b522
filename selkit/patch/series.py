"""A project's patch series: the hand-written patches, and the generated one for each spec.

``plan_series`` decides names and numbers, ``generate`` writes one generated patch in memory:
it applies the patches that precede it (real GNU ``patch -p1``) to a temporary copy of the
pristine tree, places the hook and renders the mail. Nothing is written to the series here.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from selkit.diagnostics import Diagnostic, DiagnosticError, ToolchainError
from selkit.ir import nodes as ir
from selkit.patch import buildlists, mail, style, udiff
from selkit.patch import hook as hooks
from selkit.patch.udiff import SOURCE_ENCODING
from selkit.projects.patchfiles import series_files
from selkit.seccomp.bpf import Filter

#: The subject of a generated patch (without ``[PATCH n/m]``); it names the daemon, which is
#: how a regeneration finds the patch it replaces.
GENERATED = re.compile(r"^(?P<daemon>\S+): setcon via an attr fd opened before chroot$")
_NAME_MAX = 64


@dataclass(frozen=True)
class SeriesPatch:
    """A patch file of the series directory: ``daemon`` is set for a generated one."""

    name: str
    number: int
    text: str
    daemon: str | None


@dataclass(frozen=True)
class Request:
    """One spec to generate a patch from: its label (as written in the message) and switch."""

    spec: str
    daemon: str
    switch: ir.Switch


@dataclass
class Slot:
    """Where a request's patch goes in the series; ``replaces`` is an older file of it."""

    request: Request
    number: int
    replaces: SeriesPatch | None = None
    text: str | None = None
    name: str | None = None
    hook: hooks.Hook | None = field(default=None, repr=False)

    def generated(self) -> tuple[str, str, hooks.Hook]:
        """The file name, mail text and hook that :func:`generate` filled in."""
        assert self.name is not None and self.text is not None and self.hook is not None, (
            f"{self.request.spec}: the slot's patch is not generated yet")
        return self.name, self.text, self.hook


def generated_daemon(text: str) -> str | None:
    """The daemon a generated patch hooks (its subject says), or None (hand-written)."""
    match = GENERATED.match(mail.read_mail(text).subject or "")
    return match.group("daemon") if match else None


def read_series(directory: Path) -> list[SeriesPatch]:
    """Every ``NNNN-*.patch`` of ``directory`` in file-name order (none if it is missing),
    but a cover letter (``0000-*``)."""
    if not directory.exists():
        return []
    if not directory.is_dir():
        raise DiagnosticError([Diagnostic("SEL708", f"'{directory}' is not a directory")])
    out = []
    for path in series_files(directory):
        try:
            text = path.read_bytes().decode(*SOURCE_ENCODING)
        except (OSError, UnicodeDecodeError) as exc:
            raise DiagnosticError([Diagnostic(
                "SEL708", f"cannot read {path}: {exc}")]) from None
        out.append(SeriesPatch(path.name, int(path.name[:4]), text, generated_daemon(text)))
    return out


def plan_series(existing: list[SeriesPatch], requests: list[Request]) -> list[Slot]:
    """A slot per request: the number of the earlier generated patch for the same daemon,
    else the next."""
    slots, next_number = [], max((p.number for p in existing), default=0) + 1
    for request in requests:
        old = next((p for p in existing if p.daemon == request.daemon), None)
        if old is not None:
            slots.append(Slot(request, old.number, old))
        else:
            slots.append(Slot(request, next_number))
            next_number += 1
    return slots


def series_total(existing: list[SeriesPatch], slots: list[Slot]) -> int:
    """How many patches the directory holds once the slots are written."""
    replaced = {s.replaces.name for s in slots if s.replaces is not None}
    return len([p for p in existing if p.name not in replaced]) + len(slots)


def numbered(existing: list[SeriesPatch]) -> bool:
    """Whether the series numbers its subjects (``[PATCH n/m]``): as its first hand-written
    patch does; a series of generated patches only is numbered."""
    hand = [p for p in existing if p.daemon is None]
    if not hand:
        return True
    return re.search(r"^Subject: \[PATCH \d+/\d+\]", hand[0].text, re.M) is not None


def file_name(number: int, subject: str) -> str:
    """``NNNN-Subject-words.patch`` as git format-patch names it."""
    slug = re.sub(r"[^A-Za-z0-9._]+", "-", subject).strip("-.")
    stem = f"{number:04d}-{slug}"[:_NAME_MAX - len(".patch")].rstrip("-.")
    return stem + ".patch"


def subject_for(daemon: str) -> str:
    """The generated patch's subject (without ``[PATCH n/m]``)."""
    return f"{daemon}: setcon via an attr fd opened before chroot"


# ---------------------------------------------------------------------------------------------
# Generating one patch


def generate(slot: Slot, *, source: Path, preceding: list[tuple[str, str]], total: int,
             author: str, date: str, signoff: bool = False,
             progress: Callable[[str], None] | None = None,
             steady: Filter | None = None) -> Slot:
    """Fill ``slot`` with its patch: name, mail text and hook, against ``source`` with the
    ``preceding`` patches (name, text) applied in order; with ``steady``, the hook also loads
    that seccomp filter after the switch (see :func:`selkit.patch.hook.plan`). Where the tree
    has a .clang-format the new code is formatted with it, and each new header is listed in
    the build files that list the patched file."""
    request = slot.request
    switch = request.switch
    anchor, _, _ = hooks.require_hook(switch)
    if not source.is_dir():
        raise DiagnosticError([Diagnostic(
            "SEL708", f"--source '{source}' is not a directory",
            hint="unpack the pristine orig tarball and give its top directory")])
    with tempfile.TemporaryDirectory(prefix="selkit-patch-") as tmp:
        tree = source
        if preceding:
            tree = Path(tmp, "tree")
            if progress:
                progress(f"copying {source.name} and applying {len(preceding)} patches")
            shutil.copytree(source, tree, symlinks=True)
            for name, text in preceding:
                apply_patch(tree, name, text)
        path = anchor.file
        text, mode = _read_source(tree, path, anchor)
        header_exists = (tree / hooks.header_path_for(path)).exists()
        hook = hooks.plan(text, switch, header_exists,
                          None if steady is None else (request.daemon, steady))
        hook = _in_house_style(tree, hook)
        listings = _build_listings(tree, hook)
    diffs = [udiff.diff_file(path, hook.old_text, hook.new_text, mode)]
    diffs += [udiff.diff_file(name, old, new) for name, (old, new) in listings.items()]
    for new_path, new_text in hook.new_files():
        diffs.append(udiff.diff_file(new_path, None, new_text))
    diffs.sort(key=lambda d: d.path)
    diff = "".join(d.text for d in diffs)
    subject = subject_for(request.daemon)
    body = commit_message(request, hook, sorted(listings))
    if signoff:
        body = body.rstrip("\n") + f"\n\nSigned-off-by: {author}\n"
    slot.text = mail.format_patch(author=author, date=date, subject=subject, body=body,
                                  stat=udiff.diffstat(diffs), diff=diff,
                                  number=slot.number, total=total)
    slot.name = file_name(slot.number, subject)
    slot.hook = hook
    return slot


def _in_house_style(tree: Path, hook: hooks.Hook) -> hooks.Hook:
    """``hook`` with its new lines and files as the tree's clang-format writes them: only where
    the tree has a .clang-format and the patched file already follows it (a project whose
    code does not, e.g. ptunnel-ng, keeps the hook in the code's own layout)."""
    formatter = style.formatter_for(tree)
    if formatter is None or formatter.format(hook.path, hook.old_text) != hook.old_text:
        return hook
    new_text = formatter.format(hook.path, hook.new_text,
                                style.changed_lines(hook.old_text, hook.new_text))
    header = (None if hook.header_text is None
              else formatter.format(hook.header_path, hook.header_text))
    steady = (None if hook.steady_path is None or hook.steady_text is None
              else formatter.format(hook.steady_path, hook.steady_text))
    return dataclasses.replace(hook, new_text=new_text, header_text=header, steady_text=steady)


def _build_listings(tree: Path, hook: hooks.Hook) -> dict[str, tuple[str, str]]:
    """Build file (from the tree's top) -> (old text, new text) for each that lists the patched
    file and now lists the new headers too."""
    out: dict[str, tuple[str, str]] = {}
    new_headers = [path for path, _ in hook.new_files()]
    if not new_headers:
        return out
    for directory, dirs, files in os.walk(tree):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(set(files) & set(buildlists.BUILD_FILES)):
            rel = Path(directory, name).relative_to(tree).as_posix()
            try:
                old = Path(directory, name).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            new = old
            for header in new_headers:
                new = buildlists.add_header(rel, new, hook.path, header) or new
            if new != old:
                out[rel] = (old, new)
    return out


def _read_source(tree: Path, path: str, anchor: ir.Anchor) -> tuple[str, str]:
    full = tree / path
    try:
        # C sources need not be UTF-8 (ptunnel.c is Latin-1): undecodable bytes ride through
        # as surrogates and are written back byte for byte (see SOURCE_ENCODING).
        text = full.read_bytes().decode(*SOURCE_ENCODING)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DiagnosticError([Diagnostic(
            "SEL703", f"cannot read {path} in the source tree: {reason}", anchor.origin.span,
            hint=f"the path is relative to --source ({tree.name})")]) from None
    mode = "100755" if full.stat().st_mode & stat.S_IXUSR else "100644"
    return text, mode


def apply_patch(tree: Path, name: str, text: str) -> None:
    """Apply one patch with GNU ``patch -p1``; SEL706 (a toolchain error) if it fails."""
    exe = shutil.which("patch")
    if exe is None:
        raise ToolchainError([Diagnostic("SEL709", "'patch' (GNU patch) is not installed",
                                         hint="apt-get install patch")])
    # -f: never ask, and never take a hunk that looks reversed for a reversed patch (what
    # --batch would do), so a patch that does not apply fails.
    proc = subprocess.run([exe, "-p1", "--no-backup-if-mismatch", "-s", "-f", "-d", str(tree)],
                          input=text.encode(*SOURCE_ENCODING), capture_output=True,
                          check=False, env={**os.environ, "LC_ALL": "C"})
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()
        raise ToolchainError([Diagnostic(
            "SEL706", f"the preceding patch {name} does not apply to the source tree",
            hint="patch -p1 said: " + (" | ".join(output.splitlines()[:6]) or "nothing")
                 + "; rebase it onto the pristine tree (the generated patch is made on top "
                   "of the hand-written ones)")])


# ---------------------------------------------------------------------------------------------
# The commit message


def option_name(template: str | None) -> str | None:
    """The option word of a switch's option template (``-z`` of ``-z {context}``, ``--setcon``
    of ``--setcon={context}``), or None."""
    if not template:
        return None
    word = template.split()[0]
    return word.split("=")[0] if "{context}" not in word or "=" in word else None


def commit_message(request: Request, hook: hooks.Hook, listed_in: list[str]) -> str:
    """Why and what, for the project's maintainers, in the project's terms: no line numbers
    (the diff has them) and nothing about the tool or spec that wrote the patch."""
    daemon, switch = request.daemon, request.switch
    option = option_name(switch.option)
    asked = f"the context given with {option}" if option else "the requested context"
    _, _, build = hooks.require_hook(switch)  # plan() has checked it: this narrows the types
    macro = build.text
    header = ("the new header setcon_fd.h" if hook.header_text is not None
              else "setcon_fd.h (added earlier in this series)")
    listing = (f", listed in {' and '.join(listed_in)} so that release tarballs carry it"
               if listed_in and hook.header_text is not None else "")
    reports = (f"through {switch.fatal.text.split('(')[0].strip()}(), like its other fatal "
               "errors," if switch.fatal is not None else "on stderr and to syslog")
    paragraphs = [
        f"setcon() opens /proc/thread-self/attr/current each time it is called, so once "
        f"{daemon} has entered a chroot that has no /proc, switching to {asked} fails, and "
        "the usual workaround is to bind-mount /proc into the jail, which shows every "
        "process of the host to the confined daemon.",
        "Open the attr file before the chroot, after daemonizing (the kernel accepts a write "
        "only from the process and thread that opened it), translate and check the context "
        "while /sys/fs/selinux and mcstransd are still reachable, and after the uid drop write "
        "the raw context to it. Without a chroot the attr file is simply "
        f"opened at the switch. The helpers are static functions in {header}{listing}.",
        f"Fail closed: when a context is asked for and SELinux is disabled, the context is "
        "invalid, the attr file cannot be opened or the write fails, "
        f"{daemon} reports why {reports} and exits with status 1 instead of running on in its "
        f"startup context. Without {macro} (no libselinux, e.g. on Windows or the BSDs) the "
        "header needs nothing but standard C and refuses a context the same way.",
    ]
    if hook.steady_path is not None:
        paragraphs.append(
            f"Then confine {daemon} further: right after the context is written, set "
            "no_new_privs and load the seccomp filter of its steady state (seccomp(2) with "
            "SECCOMP_FILTER_FLAG_TSYNC) from "
            f"{posixpath.basename(hook.steady_path)}, generated from the daemon's policy: "
            "the array is the program its analysis evaluated, to be regenerated rather than "
            f"edited. If it cannot be loaded, {daemon} exits with status 1 too.")
    return mail.wrap(paragraphs)
