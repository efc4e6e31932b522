"""The prover must catch leaks: each mutation injects one into a compiled module and both
engines must refute the right obligation with a counterexample that names the leak; on the
shipped policies both engines hold everything and agree grant for grant.

The linked engine links each mutant the way Debian's semodule does by default
(expand-check=0), so libsepol does not refuse bounds or neverallow breaks for the prover.
"""

from __future__ import annotations

import dataclasses

import pytest

from conftest import POLICIES, needs_tools
from selkit.analysis.views import profiles_for
from selkit.compiler import front_end
from selkit.diagnostics import Span
from selkit.emit import CilEmitter
from selkit.ir import nodes as ir
from selkit.prove.api import compare
from selkit.prove.engine import prove
from selkit.prove.obligations import Verdict

pytestmark = needs_tools("semodule")

MUTANT = ir.Origin(Span("mutant", 1, 1, 1, 2), "mutation", ir.Cause.SPEC)


def _steady(m):
    return m.domain_of("steady")


def _startup(m):
    return m.domain_of("startup")


def _add(m, *rules):
    return dataclasses.replace(m, rules=m.rules + tuple(rules))


def _allow(source, target, tclass, *perms):
    return ir.Allow(source, target, tclass, tuple(sorted(perms)), MUTANT)


def _attribute(m, domain, attr):
    types = tuple(dataclasses.replace(t, attributes=tuple(sorted(t.attributes + (attr,))))
                  if t.name == domain else t for t in m.types)
    return dataclasses.replace(m, types=types)


#: name -> (mutation, obligation that must be refuted, text the counterexample must contain)
MUTATIONS = {
    "attribute-drags-base-rules": (
        lambda m: _attribute(m, _steady(m), "nsswitch_domain"),
        "steady-exact", "through attribute nsswitch_domain"),
    "conditional-rule-under-a-boolean": (
        lambda m: _attribute(m, _steady(m), "nsswitch_domain"),
        "steady-exact", "[if authlogin_nsswitch_use_ldap]"),
    "capability-in-steady": (
        lambda m: _add(m, _allow(_steady(m), _steady(m), "capability", "net_admin")),
        "no-dangerous", "capability net_admin"),
    "file-write": (
        lambda m: _add(m, _allow(_steady(m), "etc_t", "file", "write", "open")),
        "no-dangerous", "etc_t:file write"),
    "exec-and-entrypoint": (
        lambda m: _add(m, _allow(_steady(m), "shell_exec_t", "file", "execute",
                                 "execute_no_trans", "entrypoint")),
        "no-dangerous", "shell_exec_t:file execute_no_trans"),
    "dyntransition-back-to-startup": (
        lambda m: _add(m, _allow(_steady(m), _startup(m), "process", "dyntransition")),
        "transitions", "process dyntransition"),
    "setcurrent-in-steady": (
        lambda m: _add(m, _allow(_steady(m), _steady(m), "process", "setcurrent")),
        "transitions", "process setcurrent"),
    "typebounds-removed": (
        lambda m: dataclasses.replace(m, rules=tuple(r for r in m.rules
                                                     if not isinstance(r, ir.TypeBounds))),
        "bounds", "typebounds"),
    "name-connect-to-any-port": (
        lambda m: _add(m, _allow(_steady(m), "port_type", "tcp_socket", "name_connect")),
        "no-dangerous", "tcp_socket name_connect"),
    "raw-socket": (
        lambda m: _add(m, _allow(_steady(m), _steady(m), "rawip_socket", "create", "read")),
        "no-dangerous", "rawip_socket create"),
    "packet-socket": (
        lambda m: _add(m, _allow(_steady(m), _steady(m), "packet_socket", "create", "read")),
        "no-dangerous", "packet_socket create"),
    "rule-in-startup-beyond-its-phase": (
        lambda m: _add(m, _allow(_startup(m), "shadow_t", "file", "read", "open")),
        "startup-exact", "shadow_t:file read"),
    "steady-exceeds-startup": (
        lambda m: _add(m, _allow(_steady(m), "var_log_t", "file", "append")),
        "bounds", "var_log_t:file append"),
}


HTS = next(p for p in POLICIES if p.stem == "hts")


@pytest.fixture(scope="module")
def spec(kb):
    """The spec all mutants are proven against (hts: small, with a TCP connect)."""
    _, (module,) = front_end(str(HTS), kb)
    return module


def hts_as(name: str, kb) -> ir.PolicyModule:
    """hts as daemon ``name``: its own module, types and paths, so that one mutant of each
    kind links beside all the others."""
    text = HTS.read_text(encoding="utf-8")
    for old, new in (("daemon hts {", f"daemon {name} {{"),
                     ('"/usr/bin/hts"', f'"/usr/bin/{name}"'),
                     ('"/var/empty/hts"', f'"/var/empty/{name}"')):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    _, (module,) = front_end(str(HTS), kb, text)
    return module


def _reports(spec, mutant, kb, engines=("compositional", "linked"), policy=None):
    """Each engine's report; ``policy`` is the linked kernel policy holding ``mutant``."""
    profiles = profiles_for([spec, mutant])
    out = {}
    if "compositional" in engines:
        out["compositional"] = prove(spec, kb, profiles, candidate=mutant)
    if "linked" in engines:
        out["linked"] = prove(spec, kb, profiles, engine="linked", policy=policy)
    return out


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutation_is_refuted_by_both_engines(name, kb, mutants):
    _, obligation, needle = MUTATIONS[name]
    spec, mutant, policy, _ = mutants[name]
    reports = _reports(spec, mutant, kb, policy=policy)
    for engine, report in reports.items():
        result = next(r for r in report.results if r.id == obligation)
        assert result.verdict is Verdict.REFUTED, (engine, result.summary)
        texts = [e.text for e in result.evidence]
        assert any(needle in t for t in texts), (engine, texts[:5])
        assert report.verdict is Verdict.REFUTED
    comp, linked = reports["compositional"], reports["linked"]
    assert [(r.id, r.verdict) for r in comp.results] == [(r.id, r.verdict) for r in linked.results]
    assert compare(comp, linked) == []


def test_counterexamples_name_the_rule_and_the_line(spec, kb):
    """A leak from a module rule points at its line; one from the base names the attribute."""
    mutant = _add(spec, _allow(_steady(spec), "etc_t", "file", "write"))
    report = _reports(spec, mutant, kb, engines=("compositional",))["compositional"]
    result = next(r for r in report.results if r.id == "steady-exact")
    (ev,) = [e for e in result.evidence if "etc_t:file write" in e.text]
    assert ev.span == MUTANT.span and "mutation" in ev.text
    assert ev.fix == "remove or narrow the statement at mutant:1"


@pytest.mark.parametrize("path", POLICIES, ids=[p.stem for p in POLICIES])
def test_shipped_policies_hold_and_engines_agree(path, kb, linked):
    """Linked with expand-check on, as test_sechecker.py links them (the same link, shared)."""
    _, (module,) = front_end(str(path), kb)
    policy, _ = linked(module, expand_check=True)
    reports = _reports(module, module, kb, policy=policy)
    for engine, report in reports.items():
        assert report.verdict is Verdict.HOLDS, (engine, [
            (r.id, [e.text for e in r.evidence][:3]) for r in report.results
            if r.verdict is not Verdict.HOLDS])
    assert compare(reports["compositional"], reports["linked"]) == []


def test_a_rule_under_a_boolean_injected_into_the_cil_is_refuted(spec, kb, linked):
    """The IR has no booleans, so this one is the linked engine's: a booleanif in the CIL."""
    steady = _steady(spec)
    cil = CilEmitter().emit(spec).text() + (
        f"(booleanif authlogin_nsswitch_use_ldap (true (allow {steady} etc_t "
        "(file (write)))))\n")
    policy, _ = linked(spec, cil=cil)
    report = prove(spec, kb, profiles_for([spec]), engine="linked", policy=policy)
    result = next(r for r in report.results if r.id == "steady-exact")
    assert result.verdict is Verdict.REFUTED
    assert any("etc_t:file write [if authlogin_nsswitch_use_ldap]" in e.text
               for e in result.evidence), [e.text for e in result.evidence]
