"""The adversarial corpus (``tests/corpus/*.sel``): each spec states in its header the verdict a
SOUND prover must give; both engines must give exactly that, agree, and see the same grants.

* ``# expect: error SELnnn``: the front end refuses the spec with exactly that code (and the
  CLI exits 2 with no traceback and no output file, checked on a sample);
* ``# expect: holds`` / ``# expect: refuted OBLIGATION...``: every other spec is compiled, and
  all of them are proved together in ONE ``prove_files(..., engine="both")`` call (one link);
  for each spec the set of refuted obligations equals the expectation in both engines, the
  engines report no disagreement for it, and every phase's grants are equal.

Mismatches are collected over the whole corpus and reported in one assertion. A Hypothesis
property then links specs made of raw allow rules over random base types, binary and
store-only attributes and aliases, and checks compositional == linked grants for every phase.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import ROOT, needs_tools
from selkit.compiler import front_end_files
from selkit.diagnostics import DiagnosticError
from selkit.prove.obligations import REGISTRY, Verdict

pytestmark = needs_tools("semodule")

CORPUS = ROOT / "tests" / "corpus"
OBLIGATIONS = frozenset(cls.id for cls in REGISTRY)
_HEADER = re.compile(r"^# (expect|class|why): ?(.*)$")


@dataclass(frozen=True)
class Case:
    """One corpus spec and what a sound prover must say about it."""

    path: Path
    kind: str                    # holds | refuted | error
    refuted: frozenset[str]      # the obligations that must be refuted (empty for holds)
    code: str | None             # the diagnostic code of an error case
    cls: str
    why: str


def parse_header(path: Path) -> Case:
    """The ``# expect:``, ``# class:`` and ``# why:`` lines at the top of a corpus file."""
    fields: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADER.match(line)
        if not match:
            if line.startswith("#      ") and "why" in fields:
                fields["why"] += " " + line[1:].strip()
                continue
            break
        fields[match.group(1)] = match.group(2).strip()
    words = fields.get("expect", "").split()
    if not words or not fields.get("class") or not fields.get("why"):
        raise ValueError(f"{path.name}: header needs '# expect:', '# class:' and '# why:'")
    kind, rest = words[0], words[1:]
    if kind == "holds" and not rest:
        return Case(path, kind, frozenset(), None, fields["class"], fields["why"])
    if kind == "refuted" and rest and set(rest) <= OBLIGATIONS:
        return Case(path, kind, frozenset(rest), None, fields["class"], fields["why"])
    if kind == "error" and len(rest) == 1 and re.fullmatch(r"SEL\d{3}", rest[0]):
        return Case(path, kind, frozenset(), rest[0], fields["class"], fields["why"])
    raise ValueError(f"{path.name}: bad expectation {fields['expect']!r}")


CASES = [parse_header(p) for p in sorted(CORPUS.glob("*.sel"))]
ERRORS = [c for c in CASES if c.kind == "error"]
PROVED = [c for c in CASES if c.kind != "error"]


def _codes(path: Path, kb) -> set[str] | None:
    """The diagnostic codes the front end reports (None: it accepts the spec)."""
    try:
        front_end_files([str(path)], kb)
    except DiagnosticError as exc:
        return {d.code for d in exc.diagnostics}
    return None


def test_corpus_is_large_and_every_class_has_cases():
    counts = Counter(c.cls for c in CASES)
    assert len(CASES) >= 60, len(CASES)
    thin = {cls: n for cls, n in counts.items() if n < 2}
    assert not thin, f"classes with fewer than two cases: {thin}"
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| `([a-z-]+)` \| (\d+) \|", readme, re.M))
    assert {k: int(v) for k, v in listed.items()} == dict(counts), \
        "tests/corpus/README.md's table disagrees with the headers"


def test_error_cases_fail_with_exactly_their_code(kb):
    wrong = []
    for case in ERRORS:
        try:
            codes = _codes(case.path, kb)
        except Exception as exc:  # noqa: BLE001 - a crash is a finding, listed with the rest
            wrong.append(f"{case.path.name}: crashed: {type(exc).__name__}: {exc}")
            continue
        if codes != {case.code}:
            wrong.append(f"{case.path.name}: expected {case.code}, got "
                         f"{'accepted' if codes is None else sorted(codes)}")
    assert not wrong, f"{len(wrong)} of {len(ERRORS)} error cases wrong:\n" + "\n".join(wrong)


#: One error case per new diagnostic, run through the CLI.
CLI_SAMPLE = ("optional-oddjob-mkhomedir", "disabled-numad", "collision-phase-vs-file",
              "nonascii-exec", "neverallow-devmem-write")


@pytest.mark.parametrize("name", CLI_SAMPLE)
def test_cli_refuses_error_cases_cleanly(name, tmp_path):
    case = next(c for c in ERRORS if c.path.stem == name)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "selkit", "compile", str(case.path), "-o",
                           str(out), "--target", "te,cil"], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert f"[{case.code}]" in proc.stderr, proc.stderr[-2000:]
    assert not out.exists() or not any(out.iterdir()), sorted(os.listdir(out))


@pytest.fixture(scope="module")
def proved(kb):
    """Compile every non-error spec and prove them all in one ``engine="both"`` call."""
    from selkit.prove.api import prove_files

    modules, by_module, failures = [], {}, []
    for case in PROVED:
        try:
            _, mods = front_end_files([str(case.path)], kb)
        except DiagnosticError as exc:
            failures.append(f"{case.path.name}: expected {case.kind}, but the front end said "
                            f"{sorted({d.code for d in exc.diagnostics})}: "
                            f"{exc.diagnostics[0].message}")
            continue
        for module in mods:
            modules.append(module)
            by_module[module.name] = case
    outcome = prove_files(tuple(modules), kb, engine="both")
    return outcome, by_module, failures


def _refuted(report) -> frozenset[str]:
    return frozenset(r.id for r in report.results if r.verdict is Verdict.REFUTED)


def test_proved_cases_match_the_ground_truth_in_both_engines(proved):
    outcome, by_module, failures = proved
    wrong = list(failures)
    reports: dict[str, dict[str, object]] = {}
    for report in outcome.reports:
        reports.setdefault(report.module.name, {})[report.engine] = report
    for name, case in sorted(by_module.items(), key=lambda kv: kv[1].path.name):
        label = f"{case.path.name} ({name})"
        for engine in ("compositional", "linked"):
            report = reports.get(name, {}).get(engine)
            if report is None:
                wrong.append(f"{label}: no {engine} report")
                continue
            got = _refuted(report)
            if got != case.refuted:
                detail = "; ".join(
                    f"{r.id}: {r.evidence[0].text if r.evidence else r.summary}"
                    for r in report.results if r.id in got ^ case.refuted)
                wrong.append(f"{label}: {engine} refutes {sorted(got) or 'nothing'}, expected "
                             f"{sorted(case.refuted) or 'nothing'} [{detail[:300]}]")
        diffs = [d for d in outcome.disagreements if d.startswith(f"{name}: ")]
        if diffs:
            wrong.append(f"{label}: engines disagree ({len(diffs)}): {diffs[0]}")
        pair = reports.get(name, {})
        if len(pair) == 2:
            comp, linked = pair["compositional"], pair["linked"]
            for phase in comp.phases:
                if comp.phases[phase].all != linked.phases[phase].all:
                    only = len(comp.phases[phase].all ^ linked.phases[phase].all)
                    wrong.append(f"{label}: phase {phase}: {only} grant(s) differ")
    assert not wrong, (f"{len(wrong)} mismatch(es) over {len(PROVED)} proved cases:\n"
                       + "\n".join(wrong))


# ---------------------------------------------------------------------------------------------
# Property: compositional == linked for raw allow rules over random names of every kind


def _name_pools(kb) -> dict[str, list[str]]:
    """Base types, aliases, binary attributes and store-only attributes, sorted."""
    import setools

    from selkit.base import DEFAULT_POLICY

    policy = setools.SELinuxPolicy(DEFAULT_POLICY)
    aliases = sorted(str(a) for t in policy.types() for a in t.aliases())
    binary = sorted(str(a) for a in policy.typeattributes())
    store_only = sorted(kb.attributes - set(binary))
    types = sorted(kb.types - set(aliases))
    return {"type": types, "alias": aliases, "attribute": binary, "store-only": store_only}


#: (class, permissions) pairs that break no neverallow of the base on their own.
_RAW = (("file", "getattr"), ("file", "{ getattr open }"), ("dir", "search"),
        ("dir", "{ getattr search }"), ("lnk_file", "read"), ("chr_file", "getattr"),
        ("sock_file", "getattr"), ("process", "signull"), ("process", "getattr"))


@st.composite
def raw_allow_specs(draw, pools):
    """A daemon whose startup holds raw allows over random names, and steady a subset."""
    kinds = st.sampled_from(sorted(pools))
    rules = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(kinds)
        target = draw(st.sampled_from(pools[kind]))
        tclass, perms = draw(st.sampled_from(_RAW))
        rules.append(f"allow {target}:{tclass} {perms}")
    steady = draw(st.lists(st.sampled_from(rules), unique=True))
    body = "\n".join(f"        {r}" for r in rules)
    sbody = "\n".join(f"        {r}" for r in steady)
    return (f'daemon axhyp {{\n    exec "/usr/sbin/axhyp"\n    phase startup {{\n{body}\n    }}\n'
            f'    phase steady {{\n{sbody}\n    }}\n'
            f'    switch startup -> steady {{ option "-Z {{context}}" }}\n}}\n')


_EXAMPLES = int(os.environ.get("SELKIT_HYPOTHESIS_EXAMPLES", "4"))


@pytest.fixture(scope="module")
def pools(kb):
    return _name_pools(kb)


def test_raw_allows_over_any_name_agree_between_engines(kb, pools, tmp_path_factory):
    from hypothesis import reject

    from selkit.prove.api import prove_files

    workdir = tmp_path_factory.mktemp("hyp")

    # No shrinking: each example is a link (~10 s), and a raw failing spec is readable as is.
    @settings(max_examples=_EXAMPLES, deadline=None, database=None,
              phases=(Phase.explicit, Phase.generate),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.function_scoped_fixture])
    @given(raw_allow_specs(pools))
    def check(text):
        path = workdir / "axhyp.sel"
        path.write_text(text, encoding="utf-8")
        try:
            _, modules = front_end_files([str(path)], kb)
        except DiagnosticError as exc:
            codes = {d.code for d in exc.diagnostics}
            if codes <= {"SEL330", "SEL301"}:  # a neverallow or bounds break: not this test's
                reject()
            raise
        outcome = prove_files(modules, kb, engine="both")
        comp, linked = outcome.reports
        def differing(phase):
            return sorted(g.text() for g in comp.phases[phase].all ^ linked.phases[phase].all)

        diffs = [f"{phase}: {differing(phase)[:6]}"
                 for phase in comp.phases
                 if comp.phases[phase].all != linked.phases[phase].all]
        assert not diffs and not outcome.disagreements, (text, diffs, outcome.disagreements[:6])

    check()
