"""The prover's logic on a tiny base policy (tests/data/tiny/base.cil), both engines for real.

The probe link that measures the base's profiles and the linked engine's link both go through
secilc on the tiny base instead of a copy of the Debian store, so each link takes milliseconds.
The real store is the acceptance tier's (test_prove_mutations.py).
"""

from __future__ import annotations

import dataclasses

import pytest

from selkit.analysis import effective, profile
from selkit.analysis.engines import Engine
from selkit.analysis.views import link_candidates
from selkit.base import BaseSpec, load_kb
from selkit.compiler import front_end
from selkit.diagnostics import DiagnosticError, Span
from selkit.emit import CilEmitter
from selkit.ir import nodes as ir
from selkit.prove.api import compare, prove_files
from selkit.prove.engine import prove
from selkit.prove.obligations import Verdict
from selkit.report.compile import rules_per_phase
from tiny import TinyLinker

SPEC = '''daemon tinyd {
    exec "/usr/sbin/tinyd"
    file conf "/etc/tinyd(/.*)?"
    phase startup {
        read conf
        udp bind port 53
    }
    phase steady {
        udp io
    }
    switch startup -> steady {
        option "--setcon={context}"
    }
}
'''

FORBIDDING = SPEC.replace("    switch", "    forbid steady {\n        file_type:file read\n    }\n"
                                      "    switch")

MUTANT = ir.Origin(Span("mutant", 1, 1, 1, 2), "mutation", ir.Cause.SPEC)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, tiny_policy):
    """A work directory, the tiny base's knowledge base and the linker every link is passed
    (secilc's on the tiny base)."""
    work = tmp_path_factory.mktemp("tiny")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SELKIT_CACHE", str(work / "cache"))
        yield work, load_kb(BaseSpec(str(tiny_policy), None)), TinyLinker(work)


def _module(kb, tmp_path, text=SPEC) -> ir.PolicyModule:
    path = tmp_path / "tinyd.sel"
    path.write_text(text)
    _, (module,) = front_end(str(path), kb)
    return module


def _link_base(tiny) -> BaseSpec:
    """Where the links go: a store path only named (TinyLinker compiles the tiny base instead)."""
    return BaseSpec(tiny[1].source, str(tiny[0] / "root" / "var/lib/selinux/tiny"))


def _profiles(tiny, *modules):
    sets = set()
    for module in modules:
        sets |= effective.attribute_sets(module)
    base = _link_base(tiny)
    return profile.load_profiles(sets, base.root, base.name, linker=tiny[2])


def _reports(tiny, spec, candidate):
    kb = tiny[1]
    profiles = _profiles(tiny, spec, candidate)
    linked = link_candidates({candidate.name: CilEmitter().emit(candidate).text()}, [candidate],
                             _link_base(tiny), linker=tiny[2])
    return (prove(spec, kb, profiles, candidate=candidate),
            prove(spec, kb, profiles, engine="linked", policy=linked))


def _result(report, obligation):
    return next(r for r in report.results if r.id == obligation)


def _steady_in(module, attribute):
    steady = module.domain_of("steady")
    types = tuple(dataclasses.replace(t, attributes=tuple(sorted(t.attributes + (attribute,))))
                  if t.name == steady else t for t in module.types)
    return dataclasses.replace(module, types=types)


def test_the_tiny_base_is_a_policy_the_front_end_resolves_against(tiny):
    kb = tiny[1]
    assert {"domain", "set_curr_context", "file_type", "nsswitch_domain"} <= kb.attributes
    assert kb.expand("file_type") >= {"etc_t", "shadow_t"}
    assert kb.port_type_for("udp", 53) == "dns_port_t"
    assert kb.store is None


def test_a_base_rule_reaches_a_new_domain_through_its_attribute(tiny, tmp_path):
    spec = _module(tiny[1], tmp_path)
    for report in _reports(tiny, spec, spec):
        steady = report.phases["steady"]
        grant = effective.Grant("etc_t", "file", "read")
        assert grant in steady.baseline, report.engine
        assert grant not in steady.leaks
        if report.engine == "compositional":
            (reach,) = steady.baseline[grant]
            assert reach.source == "domain"
            assert reach.describe().endswith("through attribute domain")
        startup = report.phases["startup"]
        assert effective.Grant("tinyd_startup_t", "process", "setcurrent") in startup.all
        assert effective.Grant("shadow_t", "file", "read") not in steady.all
        assert report.verdict is Verdict.HOLDS, [
            (r.id, [e.text for e in r.evidence]) for r in report.results]


def test_the_exact_obligations_count_the_allow_rules_compile_counts(tiny, tmp_path):
    """One vocabulary: prove names each phase's declared grants and the module's allow rules
    they come from, the number compile and check print for the phase."""
    spec = _module(tiny[1], tmp_path)
    rules = rules_per_phase(spec)
    for report in _reports(tiny, spec, spec):
        for obligation, phase in (("steady-exact", "steady"), ("startup-exact", "startup")):
            c = report.phases[phase]
            assert _result(report, obligation).summary == (
                f"{phase}: {len(c.declared)} declared grants (from the module's "
                f"{rules[phase]} allow rules) + {len(c.baseline)} baseline grants; "
                "nothing else"), report.engine


def test_prove_files_refuses_a_linked_policy_it_would_not_read(tiny, tmp_path):
    spec = _module(tiny[1], tmp_path)
    with pytest.raises(DiagnosticError) as err:
        prove_files((spec,), tiny[1], engine=Engine.COMPOSITIONAL, base=_link_base(tiny),
                    linked_policy=str(tmp_path / "policy"), linker=tiny[2])
    assert [d.code for d in err.value.diagnostics] == ["SEL604"]


def test_the_engines_agree_grant_for_grant(tiny, tmp_path):
    spec = _module(tiny[1], tmp_path)
    comp, linked = _reports(tiny, spec, spec)
    assert compare(comp, linked) == []
    for phase in ("startup", "steady"):
        assert comp.phases[phase].all == linked.phases[phase].all


def test_a_forbid_on_an_attribute_is_broken_by_a_base_rule_on_another(tiny, tmp_path):
    """'file_type:file read' covers etc_t (a member), which every domain reads."""
    spec = _module(tiny[1], tmp_path, FORBIDDING)
    for report in _reports(tiny, spec, spec):
        result = _result(report, "forbids")
        assert result.verdict is Verdict.REFUTED, report.engine
        (evidence,) = result.evidence
        assert "file_type:file read" in evidence.text
        assert "is broken by etc_t:file read <- base rule allow domain etc_t:file" in evidence.text
        assert evidence.span is not None and evidence.span.line == 12  # the pattern
        assert _result(report, "steady-exact").verdict is Verdict.HOLDS


def test_an_attribute_the_spec_never_asked_for_is_a_counterexample(tiny, tmp_path):
    spec = _module(tiny[1], tmp_path)
    mutant = _steady_in(spec, "nsswitch_domain")
    comp, linked = _reports(tiny, spec, mutant)
    for report in (comp, linked):
        result = _result(report, "steady-exact")
        assert result.verdict is Verdict.REFUTED, report.engine
        texts = [e.text for e in result.evidence]
        assert any(t.startswith("shadow_t:file read <- base rule") for t in texts), texts
    (leak,) = [e for e in _result(comp, "steady-exact").evidence if "shadow_t:file read" in e.text]
    assert leak.text.endswith("through attribute nsswitch_domain")
    assert leak.fix == "do not put the domain in attribute nsswitch_domain"
    assert [(r.id, r.verdict) for r in comp.results] == [(r.id, r.verdict) for r in linked.results]


def test_a_module_rule_leak_points_at_its_line(tiny, tmp_path):
    spec = _module(tiny[1], tmp_path)
    steady = spec.domain_of("steady")
    rule = ir.Allow(steady, "shadow_t", "file", ("open", "write"), MUTANT)
    mutant = dataclasses.replace(spec, rules=spec.rules + (rule,))
    comp, linked = _reports(tiny, spec, mutant)
    for report in (comp, linked):
        assert _result(report, "no-dangerous").verdict is Verdict.REFUTED, report.engine
        assert _result(report, "bounds").verdict is Verdict.REFUTED, report.engine
        assert report.verdict is Verdict.REFUTED
    (ev,) = [e for e in _result(comp, "no-dangerous").evidence if "shadow_t:file write" in e.text]
    assert ev.span == MUTANT.span and ev.fix == "remove or narrow the statement at mutant:1"


def test_a_way_back_into_startup_is_refuted(tiny, tmp_path):
    spec = _module(tiny[1], tmp_path)
    steady, startup = spec.domain_of("steady"), spec.domain_of("startup")
    rule = ir.Allow(steady, startup, "process", ("dyntransition",), MUTANT)
    comp, linked = _reports(tiny, spec, dataclasses.replace(spec, rules=spec.rules + (rule,)))
    for report in (comp, linked):
        result = _result(report, "transitions")
        assert result.verdict is Verdict.REFUTED, report.engine
        assert any("process dyntransition" in e.text for e in result.evidence)
    assert compare(comp, linked) == []


def test_the_profiles_are_measured_once_per_base(tiny, tmp_path):
    spec = _module(tiny[1], tmp_path)
    first = _profiles(tiny, spec)
    assert _profiles(tiny, spec) is first
    accepted = effective.accepted_attributes(spec, "steady")
    assert "domain" in accepted
    assert any(r.source == "domain" and r.target == "etc_t"
               for r in first.profiles[accepted].rules)


def test_prove_files_links_with_the_linker_it_is_given(tiny, tmp_path):
    spec = _module(tiny[1], tmp_path)
    _profiles(tiny, spec)  # measured (or read) here, so prove_files links only the module
    links = tiny[2].links
    outcome = prove_files((spec,), tiny[1], engine=Engine.BOTH, base=_link_base(tiny),
                          linker=tiny[2])
    assert tiny[2].links == links + 1
    assert outcome.agree and [r.verdict for r in outcome.reports] == [Verdict.HOLDS] * 2
