"""``selkit audit --format``: the text of openvpn against openvpn_t is its golden file
(tests/golden/audit/; ``pytest --update-golden`` rewrites it), ``--format json`` is ``--json``,
markdown and HTML come from the same run; ``--json`` with another ``--format`` is a usage
error that reads nothing."""

from __future__ import annotations

import json

from conftest import ROOT

AUDIT = ("audit", "policies/openvpn.sel", "--against", "openvpn_t")
GOLDEN = ROOT / "tests" / "golden" / "audit" / "openvpn-against-openvpn_t.txt"


def test_the_text_is_the_golden_file(cli, update_golden):
    ran = cli(*AUDIT)
    assert ran.returncode == 0, ran.stderr
    if update_golden:
        GOLDEN.write_text(ran.stdout)
    assert ran.stdout == GOLDEN.read_text(), "differs from golden; run pytest --update-golden"
    assert cli(*AUDIT, "--format", "text").stdout == ran.stdout


def test_format_json_is_json(cli):
    ran = cli(*AUDIT, "--format", "json")
    assert ran.returncode == 0 and ran.stdout == cli(*AUDIT, "--json").stdout
    assert json.loads(ran.stdout)["schema"] == "selkit/audit/1"


def test_markdown_and_html_are_whole_documents(cli):
    markdown = cli(*AUDIT, "--format", "markdown")
    assert markdown.returncode == 0 and markdown.stderr == ""
    assert markdown.stdout.startswith("# selkit audit: openvpn against openvpn\\_t\n")
    assert "| capabilities | high | 11 (11) |" in markdown.stdout
    page = cli(*AUDIT, "--format", "html")
    assert page.returncode == 0 and page.stdout.startswith("<!DOCTYPE html>")
    assert page.stdout.rstrip().endswith("</html>")


def test_the_page_is_the_same_whatever_the_hash_seed(cli):
    pages = {cli.process(*AUDIT, "--format", "html", env_extra={"PYTHONHASHSEED": seed}).stdout
             for seed in ("1", "2")}
    assert len(pages) == 1 and "</html>" in pages.pop()


def test_json_and_another_format_contradict(cli):
    ran = cli("audit", "no-such.sel", "--against", "openvpn_t", "--json", "--format", "html")
    assert ran.returncode == 2 and ran.stdout == ""
    assert "--json and --format html contradict each other" in ran.stderr
    assert "Traceback" not in ran.stderr
