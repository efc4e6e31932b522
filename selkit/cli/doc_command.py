"""``selkit doc``: parts of the language reference."""

from __future__ import annotations

import click

from selkit.cli.app import Application, exit_codes


@click.group("doc")
def doc_group() -> None:
    """Print parts of the language reference."""


@doc_group.command("verbs", epilog=exit_codes())
@click.pass_obj
def doc_verbs(app: Application) -> None:
    """Every verb form with its exact refpolicy and CIL expansion (Markdown)."""
    from selkit.emit.reference import verbs_markdown  # noqa: PLC0415

    app.write(verbs_markdown())
