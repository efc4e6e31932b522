"""Markdown for a pull request comment: headings, GitHub tables, <details>, every text escaped;
the audit report's counts before its details and its grant list complete."""

from __future__ import annotations

import json
from dataclasses import dataclass

from selkit.facts.syscalls import load_table
from selkit.report.audit import AuditReport
from selkit.report.format import Details, Format, Heading, Listing, Report, Table
from selkit.report.markdown import MAX_ROWS, MarkdownRenderer, listing, text
from selkit.report.renderers import renderer
from test_audit_report import _audit

HOSTILE = "<script>alert(1)</script>"


@dataclass(frozen=True)
class _Demo(Report):
    schema = "demo"
    name: str = "x"

    def data(self) -> dict:
        return {}

    def title(self) -> str:
        return f"demo of {self.name}"

    def blocks(self):
        return [Heading(f"module {self.name}"), "first line", "second line", "",
                Table(("name", "count"), [(self.name, "1"), ("a|b", "22")]),
                Details("Details:", ["  item one", "      -> under it", "  item two"]),
                Details("Open:", ["nothing", "  an item", "after it"], open=True)]

    def listings(self):
        return [Listing("l", "Changes", ("phase", "grant"), [("startup", self.name)],
                        ("phase",))]


def test_the_layout_of_a_comment():
    assert MarkdownRenderer().render(_Demo()) == """\
# demo of x

## module x

first line\\
second line

| name | count |
|---|---|
| x | 1 |
| a\\|b | 22 |

<details>
<summary>Details:</summary>

- item one
  - \\-&gt; under it
- item two

</details>

<details open>
<summary>Open:</summary>

nothing

- an item

after it

</details>

<details>
<summary>Changes (1)</summary>

| phase | grant |
|---|---|
| startup | x |

</details>
"""


def test_markup_in_names_is_shown_as_written():
    out = MarkdownRenderer().render(_Demo(HOSTILE))
    assert "<script>" not in out
    assert out.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 4   # title, heading, 2 cells
    assert text("# not a heading") == "\\# not a heading"
    assert text("1. not a list") == "1\\. not a list"
    assert text("a_b *c* [d](e) `f`") == "a\\_b \\*c\\* \\[d\\](e) \\`f\\`"


def test_the_audit_comment_has_counts_first_then_details_then_every_grant(tmp_path):
    report = AuditReport("dist_t", "policy.33", [_audit(tmp_path)], load_table())
    out = renderer(Format.MARKDOWN).render(report)
    data = json.loads(renderer(Format.JSON).render(report))
    assert out.startswith("# selkit audit: d against dist\\_t\n")
    assert out.index("| category | severity | dist\\_t | startup | steady |") < \
        out.index("<details")
    assert "| capabilities | high | 2 (2) | 1 (1) | 1 (1) | 2 | steady 1 |" in out
    listed = [line for line in out.splitlines() if line.startswith(("| startup |",
                                                                     "| steady |"))]
    assert len(listed) == sum(len(g) for g in data["modules"][0]["grants"].values()) == 2
    assert "| steady | d\\_steady\\_t:capability sys\\_module | capabilities, module\\_load | " \
           "high | declared | d.sel:9 |" in out


def test_a_long_listing_says_how_many_rows_it_leaves_out():
    rows = [(f"r{i}",) for i in range(MAX_ROWS + 7)]
    out = listing(Listing("l", "Changes", ("name",), rows))
    assert out[1] == f"<summary>Changes ({MAX_ROWS + 7})</summary>"
    assert f"| r{MAX_ROWS - 1} |" in out and f"| r{MAX_ROWS} |" not in out
    assert "... and 7 more (all of them in the JSON and HTML forms)" in out
