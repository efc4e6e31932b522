"""The cover letter of a series (``0000-cover-letter.patch``), as ``git format-patch
--cover-letter`` lays it out, with the text a maintainer needs filled in: why the daemon
switches domains after startup, how the switch survives a chroot, and how to test it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from selkit.patch import mail, udiff
from selkit.patch.series import apply_patch, option_name
from selkit.patch.udiff import SOURCE_ENCODING
from selkit.projects.patchfiles import diff_paths

COVER_NAME = "0000-cover-letter.patch"


@dataclass(frozen=True)
class Switch:
    """What the letter says about one daemon: its name, the option template that asks for
    the context (None: the daemon has none of its own) and the project's SELinux macro."""

    daemon: str
    option: str | None
    build: str | None


def cover_letter(patches: list[tuple[str, str]], switches: list[Switch], *, source: Path,
                 author: str, date: str) -> str:
    """The letter for ``patches`` (name, mail text, in order) applied to ``source``."""
    daemons = ", ".join(dict.fromkeys(s.daemon for s in switches))
    option = next((s.option for s in switches if s.option), None)
    word = option_name(option)
    subject = (f"Enter the {word} SELinux context through an fd opened before chroot"
               if word else "Enter the SELinux context through an fd opened before chroot")
    build = next((s.build for s in switches if s.build), None)
    body = mail.wrap(_paragraphs(daemons, option, build))
    return "".join([
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n",
        mail.header("From", author),
        f"Date: {date}\n",
        mail.header("Subject", f"[PATCH 0/{len(patches)}] {subject}"),
        "\n",
        body,
        "\n",
        _shortlog(patches),
        "\n",
        _combined_stat(patches, source),
    ])


def _paragraphs(daemons: str, option: str | None, build: str | None) -> list[str]:
    usage = option.replace("{context}", "CONTEXT") if option else "the option that asks for it"
    example = option.replace("{context}", "system_u:system_r:example_steady_t:s0") \
        if option else "CONTEXT"
    macro = f" ({build} defined)" if build else ""
    return [
        f"A tunnel daemon needs privileges only while it starts: it opens the tun device, "
        "binds its port, reads its keys, chroots and drops its uid. Afterwards it only moves "
        "bytes. SELinux can follow that split with two domains: a startup domain allowed the "
        "setup, and a steady domain allowed only the traffic, entered with setcon() once "
        f"the setup is done ({usage}).",
        "This series makes that switch work and fail closed. setcon() opens "
        "/proc/thread-self/attr/current each time it is called, so after a chroot without "
        "/proc it fails, and the usual workaround, bind-mounting /proc into the jail, shows "
        "every process of the host to the confined daemon. The patches open the attr file "
        "before the chroot (after daemonizing: the kernel accepts a write only from the "
        "thread that opened it), check the context while the policy is reachable, and "
        "write it after the uid drop. Every failure (SELinux disabled, an invalid context, "
        "a failed write, a build without libselinux) stops the daemon with exit status 1 "
        "and a message, instead of letting it run on with the rights of its startup domain.",
        "How to test it:",
        f"  1. Build with libselinux{macro}.\n"
        "  2. On a host with SELinux disabled, or a build without it, run the daemon\n"
        "     with\n"
        f"       {example}\n"
        "     It must exit 1 and say why, before it serves anything.\n"
        "  3. On an enforcing host, load a policy module with the two domains: the\n"
        "     startup one needs 'allow startup_t self:process setcurrent;' and\n"
        "     'allow startup_t steady_t:process dyntransition;'. Start the daemon in\n"
        "     its startup domain with the option, chrooted and with a uid drop, and\n"
        "     check that `ps -eZ` shows it in the steady domain and that traffic flows;\n"
        "     `ausearch -m avc` lists what the steady domain was refused.",
        f"Daemons: {daemons}.",
    ]


def _shortlog(patches: list[tuple[str, str]]) -> str:
    by_author: OrderedDict[str, list[str]] = OrderedDict()
    for _, text in patches:
        found = mail.read_mail(text)
        by_author.setdefault(_name(found.author or "unknown"), []).append(found.subject or "")
    out = []
    for author, subjects in sorted(by_author.items()):
        out.append(f"{author} ({len(subjects)}):\n")
        out += [f"  {s}\n" for s in subjects]
        out.append("\n")
    return "".join(out).rstrip("\n") + "\n"


def _name(author: str) -> str:
    return author.split(" <", 1)[0]


def _combined_stat(patches: list[tuple[str, str]], source: Path) -> str:
    """The diffstat of the whole series against ``source`` (git's cover letter has it)."""
    paths = list(dict.fromkeys(path for _, t in patches for path, _ in diff_paths(t)))
    with tempfile.TemporaryDirectory(prefix="selkit-cover-") as tmp:
        tree = Path(tmp, "tree")
        shutil.copytree(source, tree, symlinks=True)
        for name, text in patches:
            apply_patch(tree, name, text)
        diffs = []
        for path in paths:
            before, after = source / path, tree / path
            old = before.read_bytes().decode(*SOURCE_ENCODING) if before.is_file() else None
            new = after.read_bytes().decode(*SOURCE_ENCODING) if after.is_file() else ""
            if old != new:
                diffs.append(udiff.diff_file(path, old, new))
    diffs.sort(key=lambda d: d.path)
    return udiff.diffstat(diffs)
