"""The HTML of a real ``selkit audit policies/openvpn.sel --against openvpn_t --format html`` in
Debian's chromium, headless: it renders (a screenshot with the chart's colours in it), its
script ran (the filters are shown and count the rows), and every number of the rendered page
(the chart's bars, the counts table, the grant list) is the one ``--json`` gives.

make setup installs chromium (scripts/browser-deps.sh); without it the module is skipped, except
under CI=true, where a missing browser is a failure."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from selkit_cli import run

from test_html import Page

AUDIT = ("audit", "policies/openvpn.sel", "--against", "openvpn_t")

#: The first two colours of selkit.report.svg's palette: the distribution's bars and the
#: first phase's.
BLUE, ORANGE = (0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed, and CI=true: make setup installs it "
                    "(scripts/browser-deps.sh)")
    pytest.skip("chromium is not installed (make setup, or sh scripts/browser-deps.sh, installs "
                "Debian's chromium)")


@pytest.fixture(scope="module")
def audit(tmp_path_factory) -> tuple[Path, dict]:
    """The page (a file) and the JSON of the same audit."""
    page = run(*AUDIT, "--format", "html")
    data = run(*AUDIT, "--json")
    assert page.returncode == data.returncode == 0, page.stderr + data.stderr
    path = tmp_path_factory.mktemp("audit-html") / "openvpn.html"
    path.write_text(page.stdout)
    return path, json.loads(data.stdout)


def _browse(chromium: str, tmp: Path, url: str, *args: str) -> str:
    """chromium headless on ``url`` as root with no display; its stdout."""
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp / 'profile'}", "--window-size=1200,2000", *args, url],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _pixels(png: bytes) -> tuple[int, int, set[tuple[int, ...]]]:
    """Width, height and the colours of an 8-bit RGB or RGBA PNG (what chromium writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, head = 8, b"", b""
    while pos < len(png):
        (length,), kind = struct.unpack(">I", png[pos:pos + 4]), png[pos + 4:pos + 8]
        body = png[pos + 8:pos + 8 + length]
        head, idat = (body, idat) if kind == b"IHDR" else (head, idat + body * (kind == b"IDAT"))
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", head[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    step = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * step
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) *
                                                          (stride + 1)])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                guess = min((abs(p - left), 0, left), (abs(p - up), 1, up),
                            (abs(p - corner), 2, corner))[2]
                line[i] = (line[i] + guess) & 0xFF
        rows.append(line)
        previous = line
    colours = {tuple(row[i:i + 3]) for row in rows[::4] for i in range(0, stride, step * 4)}
    return width, height, colours


def test_the_real_page_refers_to_nothing_outside_it(audit):
    path, _ = audit
    text = path.read_text()
    page = Page(text)
    links = [v for _, attrs in page.elements for k, v in attrs.items()
             if k in ("src", "href", "action", "xlink:href", "srcset", "data", "poster")]
    assert links == [] and "://" not in text and "url(" not in text


def test_the_page_renders_in_chromium(chromium, audit, tmp_path):
    path, _ = audit
    shot = tmp_path / "openvpn-audit.png"
    _browse(chromium, tmp_path, path.as_uri(), f"--screenshot={shot}")
    print(f"screenshot: {shot}")
    png = shot.read_bytes()
    assert len(png) > 20_000
    width, height, colours = _pixels(png)
    assert (width, height) == (1200, 2000)
    assert len(colours) > 10 and BLUE in colours and ORANGE in colours


def _rendered(chromium: str, tmp: Path, url: str) -> Page:
    return Page(_browse(chromium, tmp, url, "--dump-dom"))


def test_the_rendered_numbers_are_the_json(chromium, audit, tmp_path):
    path, data = audit
    page = _rendered(chromium, tmp_path, path.as_uri())
    (module,) = data["modules"]
    phases = [p["phase"] for p in module["phases"]]
    bars = {(b["data-category"], b["data-series"]): int(b["data-value"] or "")
            for b in page.all("rect", **{"class": "bar"})}
    expected = {}
    for row in module["categories"]:
        expected[(row["category"], data["domain"])] = len(row["distribution"]["perms"])
        for phase in phases:
            expected[(row["category"], phase)] = len(row["phases"][phase]["perms"])
    assert bars == expected
    assert bars[("netlink", "openvpn_t")] > bars[("netlink", "startup")] > 0
    # the script ran: the filters are shown and count every grant of every phase
    (form,) = page.all("form", **{"class": "filters"})
    assert "hidden" not in form
    total = sum(len(g) for g in module["grants"].values())
    (shown,) = page.all("output")
    assert shown["data-shown"] == str(total)
    assert f"{total} of {total} shown" in "".join(page.text)
    (section,) = page.all("section", **{"class": "listing"})
    assert section["data-count"] == str(total)


def test_the_counts_table_and_the_grant_list_as_rendered(chromium, audit, tmp_path):
    path, data = audit
    dom = _browse(chromium, tmp_path, path.as_uri(), "--dump-dom")
    (module,) = data["modules"]
    tables = _tables(dom)
    counts = next(t for t in tables if t[0][:2] == ["category", "severity"])
    head, body = counts[0], counts[1:]
    for row, cells in zip(module["categories"], body, strict=True):
        got = dict(zip(head, cells, strict=True))
        assert got["category"] == row["category"]
        for column, holding in [(data["domain"], row["distribution"]),
                                *((p, row["phases"][p]) for p in row["phases"])]:
            n = len(holding["perms"])
            assert got[column] == (f"{n} ({holding['grants']})" if n else "0")
        assert got["removed"] == str(len(row["removed_after_switch"]))
    grants = next(t for t in tables if t[0][:2] == ["phase", "grant"])
    listed = sorted((r[0], r[1], r[4], r[5]) for r in grants[1:])
    assert listed == sorted((phase, f"{g['target']}:{g['class']} {g['perm']}", g["kind"],
                             g.get("at", "")) for phase, gs in module["grants"].items()
                            for g in gs)


def _tables(dom: str) -> list[list[list[str]]]:
    """Every table of the page: its rows of cell texts, the header row first."""
    from html.parser import HTMLParser

    class Tables(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.tables: list[list[list[str]]] = []
            self.cell: list[str] | None = None

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.tables.append([])
            elif tag == "tr":
                self.tables[-1].append([])
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None:
                self.tables[-1][-1].append("".join(self.cell))
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    parser = Tables()
    parser.feed(dom)
    return parser.tables


def test_the_fragment_filters_the_grant_list(chromium, audit, tmp_path):
    path, data = audit
    (module,) = data["modules"]
    wanted = [g for g in module["grants"]["startup"] if "network_config" in g["categories"]]
    assert wanted
    page = _rendered(chromium, tmp_path, path.as_uri() + "#phase=startup&category=network_config")
    (shown,) = page.all("output")
    assert shown["data-shown"] == str(len(wanted))
    total = sum(len(g) for g in module["grants"].values())
    hidden = [a for a in page.all("tr") if "hidden" in a]
    assert len(hidden) == total - len(wanted)
