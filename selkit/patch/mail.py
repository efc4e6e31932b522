"""``git format-patch`` mails: writing one, and reading back the headers and message of one.

Deterministic: the ``From <hash>`` line is the sha1 of the diff, author and date are inputs.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import os
import re
import subprocess
import textwrap
from dataclasses import dataclass

from selkit.diagnostics import Diagnostic, DiagnosticError
from selkit.patch.udiff import SOURCE_ENCODING

#: The date when neither the options nor the series say otherwise (vendor-patches/README.md).
DEFAULT_DATE = "Thu, 1 Jan 2026 00:00:00 +0000"

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Mail:
    """What :func:`read_mail` finds in a patch file."""

    author: str | None
    date: str | None
    subject: str | None
    body: str


def format_date(value: str) -> str:
    """An RFC 2822 date as git writes it (``Thu, 1 Jan 2026 00:00:00 +0000``).

    Accepts RFC 2822 or ISO 8601 (``2026-01-01``, ``2026-01-01T12:00:00+02:00``; no zone is
    UTC). A value that is neither is SEL708.
    """
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            raise DiagnosticError([Diagnostic(
                "SEL708", f"cannot read the date {value!r}",
                hint="give an RFC 2822 date ('Thu, 1 Jan 2026 00:00:00 +0000') or ISO 8601 "
                     "('2026-01-01T00:00:00+00:00')")]) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    delta = when.utcoffset()
    assert delta is not None, "an aware datetime has an offset"
    offset = int(delta.total_seconds() // 60)
    sign = "-" if offset < 0 else "+"
    zone = f"{sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    return (f"{_DAYS[when.weekday()]}, {when.day} {_MONTHS[when.month - 1]} {when.year} "
            f"{when:%H:%M:%S} {zone}")


def check_author(value: str) -> str:
    """``Name <address>``, or SEL708."""
    name, address = email.utils.parseaddr(value)
    if not name or "@" not in address or "\n" in value:
        raise DiagnosticError([Diagnostic(
            "SEL708", f"the author {value!r} is not 'Name <address>'",
            hint='for example --author "Jane Doe <jane@example.org>"')])
    return f"{name} <{address}>"


def git_identity(cwd: str | None = None) -> str | None:
    """``Name <address>`` as git would author a commit here (GIT_AUTHOR_NAME/EMAIL, else
    ``git config user.name``/``user.email``), or None when either is not set."""
    name = os.environ.get("GIT_AUTHOR_NAME") or _git_config("user.name", cwd)
    address = os.environ.get("GIT_AUTHOR_EMAIL") or _git_config("user.email", cwd)
    return f"{name} <{address}>" if name and address else None


def _git_config(key: str, cwd: str | None) -> str | None:
    try:
        proc = subprocess.run(["git", "config", "--get", key], capture_output=True, text=True,
                              check=False, cwd=cwd)
    except OSError:
        return None
    return proc.stdout.strip() or None


def signed_off(body: str) -> bool:
    """Whether a message carries a ``Signed-off-by:`` trailer."""
    return re.search(r"^Signed-off-by: ", body, re.M) is not None


def format_patch(*, author: str, date: str, subject: str, body: str, stat: str, diff: str,
                 number: int = 1, total: int = 1) -> str:
    """One mail in ``git format-patch`` form. ``body`` paragraphs are kept as given."""
    prefix = "[PATCH]" if total <= 1 else f"[PATCH {number}/{total}]"
    commit = hashlib.sha1(diff.encode(*SOURCE_ENCODING)).hexdigest()
    return "".join([
        f"From {commit} Mon Sep 17 00:00:00 2001\n",
        header("From", author),
        f"Date: {date}\n",
        header("Subject", f"{prefix} {subject}"),
        "\n",
        body.rstrip("\n") + "\n",
        "---\n",
        stat,
        "\n",
        diff,
    ])


def header(name: str, value: str) -> str:
    """``Name: value``, folded like git before an address when the line exceeds 78."""
    line = f"{name}: {value}"
    if len(line) <= 78:
        return line + "\n"
    if name == "From" and " <" in value:
        person, address = value.rsplit(" <", 1)
        return f"{name}: {person}\n <{address}\n"
    words, out, current = value.split(" "), [], f"{name}:"
    for word in words:
        if len(current) + 1 + len(word) > 78 and current.strip() != f"{name}:":
            out.append(current)
            current = ""
        current += " " + word
    out.append(current)
    return "\n".join(out) + "\n"


def wrap(paragraphs: list[str], width: int = 72) -> str:
    """Paragraphs wrapped at ``width``; lines starting with spaces or '- ' keep their form."""
    out = []
    for para in paragraphs:
        if para.startswith(("  ", "- ")) or "\n" in para:
            out.append(para)
        else:
            out.append(textwrap.fill(para, width, break_on_hyphens=False,
                                     break_long_words=False))
    return "\n\n".join(out) + "\n"


def read_mail(text: str) -> Mail:
    """The author, date, subject (without ``[PATCH...]``) and message body of a patch mail."""
    head, _, rest = text.partition("\n\n")
    headers: dict[str, str] = {}
    current = None
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and current:
            headers[current] += line.rstrip() if line.startswith(" <") else " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if sep and not line.startswith("From "):
            current = name.strip().lower()
            headers[current] = value.strip()
    if "from" in headers:
        headers["from"] = re.sub(r"\s*\n?\s*<", " <", headers["from"])
    subject = headers.get("subject")
    if subject:
        subject = re.sub(r"^\[PATCH[^\]]*\]\s*", "", subject)
    body = rest.split("\n---\n", 1)[0]
    return Mail(headers.get("from"), headers.get("date"), subject, body)
