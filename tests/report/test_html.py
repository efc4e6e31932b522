"""The HTML page without a browser: self-contained (nothing outside it is referred to, the
Content-Security-Policy allows exactly its own style and script), markup in names shown as
text, the figure's numbers those of the JSON, accessible (SVG title and description, table
headers), filters hidden until the script shows them."""

from __future__ import annotations

import base64
import hashlib
import json
from html.parser import HTMLParser

import pytest

from selkit.analysis.effective import Classified, Grant, Reach
from selkit.audit.against import compare
from selkit.audit.categories import category_map
from selkit.dsl.loader import load
from selkit.facts.syscalls import load_table
from selkit.ir import passes
from selkit.ir.lower import lower
from selkit.report.audit import AuditReport
from selkit.report.format import Figure, Format, Listing
from selkit.report.html import CSS, SCRIPT
from selkit.report.renderers import renderer
from test_audit_report import _audit

HOSTILE = "<script>alert(1)</script>"


class Page(HTMLParser):
    """Every element (tag, attributes) in order, the text of each <script> and <style>, all
    text, and the text of each element with an id."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self.text: list[str] = []
        self.by_id: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag in self.raw:
            self.raw[tag].append("")
        if tag not in ("meta", "rect", "input", "br"):
            self._open.append((tag, dict(attrs).get("id")))
            if dict(attrs).get("id"):
                self.by_id[dict(attrs)["id"]] = ""

    def handle_endtag(self, tag):
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        tags = [t for t, _ in self._open]
        if tags and tags[-1] in self.raw:
            self.raw[tags[-1]][-1] += data
            return
        self.text.append(data)
        for _, ident in self._open:
            if ident:
                self.by_id[ident] += data

    def all(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        """The attributes of every ``tag`` element having ``attrs``."""
        return [a for t, a in self.elements
                if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]


def _report(tmp_path) -> AuditReport:
    return AuditReport("dist_t", "policy.33", [_audit(tmp_path)], load_table())


def _page(report) -> tuple[str, Page]:
    out = renderer(Format.HTML).render(report)
    return out, Page(out)


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_page_refers_to_nothing_outside_it(tmp_path):
    out, page = _page(_report(tmp_path))
    assert out.startswith("<!DOCTYPE html>")
    for tag, attrs in page.elements:
        for name, value in attrs.items():
            if name in ("src", "href", "action", "xlink:href", "srcset", "data", "poster"):
                assert not (value or "").lower().startswith(("http:", "https:", "//")), tag
    assert not page.all("link") and not [a for a in page.all("script") if "src" in a]
    assert "://" not in out and "url(" not in out and "@import" not in out
    (csp,) = page.all("meta", http_equiv="Content-Security-Policy")
    (style,), (script,) = page.raw["style"], page.raw["script"]
    assert style == CSS and script == SCRIPT
    assert csp["content"] == (f"default-src 'none'; style-src {_sha(style)}; script-src "
                              f"{_sha(script)}; base-uri 'none'; form-action 'none'")


def test_the_figure_has_the_numbers_of_the_json(tmp_path):
    report = _report(tmp_path)
    data = json.loads(renderer(Format.JSON).render(report))
    _, page = _page(report)
    (module,) = data["modules"]
    bars = {(b["data-category"], b["data-series"]): b["data-value"]
            for b in page.all("rect", **{"class": "bar"})}
    expected = {}
    for row in module["categories"]:
        expected[(row["category"], "dist_t")] = str(len(row["distribution"]["perms"]))
        for phase, holding in row["phases"].items():
            expected[(row["category"], phase)] = str(len(holding["perms"]))
    assert bars == expected
    assert bars[("capabilities", "dist_t")] == "2" and bars[("module_load", "steady")] == "1"
    (svg,) = page.all("svg", data_figure=module["module"])
    assert svg["role"] == "img"
    title_id, desc_id = svg["aria-labelledby"].split()
    assert "dist_t beside each phase" in page.by_id[title_id]
    assert "startup (d_startup_t), steady (d_steady_t)" in page.by_id[desc_id]


def test_tables_have_headers_and_the_listing_every_grant(tmp_path):
    report = _report(tmp_path)
    _, page = _page(report)
    assert page.all("th", scope="col")
    (section,) = page.all("section", **{"class": "listing"})
    assert section["data-count"] == "2"
    (form,) = page.all("form", **{"class": "filters"})
    assert "hidden" in form                      # without the script: every row, no filters
    names = [a["name"] for a in page.all("select")]
    assert names == ["phase", "category", "severity", "kind"]
    options = [a["value"] for a in page.all("option")]
    assert options[:3] == ["", "startup", "steady"]
    assert {"capabilities", "module_load", "network_config"} <= set(options)


def test_markup_in_a_domain_or_spec_path_is_shown_as_text(tmp_path):
    from selkit_cli import GOOD

    from fakes import small_kb

    folder = tmp_path / HOSTILE.replace("/", "")
    folder.mkdir()
    (folder / "d.sel").write_text(GOOD)
    (module,) = lower(load(str(folder / "d.sel")), small_kb())
    module = passes.run(module, small_kb())
    reach = [Reach("<self>", "allow x self:capability net_admin;")]
    audit = compare(module, HOSTILE, "policy.33", {Grant(HOSTILE, "capability", "net_admin"):
                                                   reach},
                    {"startup": Classified(), "steady": Classified()},
                    category_map(small_kb().classes))
    out, page = _page(AuditReport(HOSTILE, "policy.33", [audit], load_table()))
    assert len(page.all("script")) == 1 and page.raw["script"] == [SCRIPT]
    assert "<script>alert" not in out
    text = "".join(page.text)
    assert text.count(HOSTILE) >= 3                              # title, heading, table
    assert HOSTILE.replace("/", "") in text                       # the spec path
    assert page.all("rect", **{"class": "bar"})[0]["data-series"] == HOSTILE


def test_a_figure_or_listing_must_fit_its_headers():
    Figure("f", "t", "d", ("a", "b"), ("x",), ((1, 2),))
    with pytest.raises(ValueError, match="categories x series"):
        Figure("f", "t", "d", ("a", "b"), ("x",), ((1,),))
    Listing("l", "t", ("a", "b"), [("1", "2")], ("b",))
    with pytest.raises(ValueError, match="does not fit"):
        Listing("l", "t", ("a", "b"), [("1",)])
    with pytest.raises(ValueError, match="does not fit"):
        Listing("l", "t", ("a", "b"), [], ("c",))


def test_figures_of_one_unit_share_their_scale():
    from dataclasses import dataclass

    from selkit.report.format import Report

    @dataclass(frozen=True)
    class _Two(Report):
        schema = "demo"

        def data(self):
            return {}

        def blocks(self):
            return []

        def figures(self):
            return [Figure(name, name, "d", ("s",), ("c",), ((value,),), "pairs")
                    for name, value in (("big", 10), ("small", 5))]

    page = Page(renderer(Format.HTML).render(_Two()))
    big, small = (float(b["width"] or "") for b in page.all("rect", **{"class": "bar"}))
    assert big == 2 * small > 0
