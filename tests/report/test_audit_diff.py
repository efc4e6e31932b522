"""``selkit audit OLD NEW`` in markdown and HTML: its figures (each phase's pairs per category
on each side) and its change list hold the numbers of its JSON (tiny policies, secilc)."""

from __future__ import annotations

import json
import subprocess

from selkit.audit.changes import audit_changes
from selkit.audit.sides import Side, SideKind, Subject
from selkit.base import load_policy
from selkit.facts.syscalls import load_table
from selkit.report.audit_diff import ChangesReport
from selkit.report.format import Format
from selkit.report.renderers import renderer
from test_html import Page
from tiny import BASE_CIL, SECILC

DOMAIN = """
(type d_t)
(roletype system_r d_t)
(typeattributeset domain (d_t))
(allow d_t self (capability (net_bind_service {more})))
(allow d_t etc_t (file (read {write})))
"""


def _side(tmp_path, name: str, cil: str) -> tuple[Side, object]:
    (tmp_path / f"{name}.cil").write_text(cil)
    dest = tmp_path / f"{name}.33"
    done = subprocess.run([SECILC, "-M", "true", "-N", "-f", "/dev/null", "-o", str(dest),
                           str(BASE_CIL), str(tmp_path / f"{name}.cil")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    side = Side(name, SideKind.MODULE, str(dest), cil={"d": cil}, subjects=(Subject("d_t"),))
    return side, load_policy(str(dest))


def test_the_figure_and_the_change_list_are_the_json(tmp_path):
    (old, old_policy), (new, new_policy) = (
        _side(tmp_path, "old", DOMAIN.format(more="", write="write")),
        _side(tmp_path, "new", DOMAIN.format(more="net_raw", write="")))
    report = ChangesReport(audit_changes(old, new, old_policy, new_policy), load_table())
    data = json.loads(renderer(Format.JSON).render(report))
    page = Page(renderer(Format.HTML).render(report))
    (subject,) = data["subjects"]
    bars = {(b["data-category"], b["data-series"]): b["data-value"]
            for b in page.all("rect", **{"class": "bar"})}
    assert bars == {(k, side.upper()): str(held[side]) for k, held in subject["held"].items()
                    for side in ("old", "new")}
    assert bars[("capabilities", "OLD")] == "1" and bars[("capabilities", "NEW")] == "2"
    (section,) = page.all("section", **{"class": "listing"})
    assert section["data-count"] == str(len(subject["changes"])) != "0"
    markdown = renderer(Format.MARKDOWN).render(report)
    assert markdown.startswith("# selkit audit: OLD old, NEW new\n")
    added = [c for c in subject["changes"] if c["change"] == "added"]
    assert len([line for line in markdown.splitlines() if line.startswith("| d\\_t | added |")]) \
        == len(added)


def test_text_lists_the_first_changes_of_a_group_unless_details_are_asked(tmp_path):
    """Many changes (one write per target type): the text shows the first of the group and
    counts the rest; with details (--details) every one; JSON always every one."""
    targets = [f"f{i}_t" for i in range(60)]
    types = "".join(f"(type {t})\n(roletype object_r {t})\n" for t in targets)
    writes = "".join(f"(allow d_t {t} (file (write)))\n" for t in targets)
    old_cil = DOMAIN.format(more="", write="") + types
    (old, old_policy), (new, new_policy) = (_side(tmp_path, "old", old_cil),
                                            _side(tmp_path, "new", old_cil + writes))
    changes = audit_changes(old, new, old_policy, new_policy)
    short = renderer(Format.TEXT).render(ChangesReport(changes, load_table()))
    assert "High-severity changes (60):" in short
    assert short.count(":file write  (file_write)") == 40
    assert "... and 20 more (all of them with --details, or --json)" in short
    full = renderer(Format.TEXT).render(ChangesReport(changes, load_table(), details=True))
    assert full.count(":file write  (file_write)") == 60 and "more (all of them" not in full
    data = json.loads(renderer(Format.JSON).render(ChangesReport(changes, load_table())))
    assert len(data["subjects"][0]["changes"]) == 60
