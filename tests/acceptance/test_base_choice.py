"""``--base`` is one choice: the policy names resolve against, the store profiles are measured
in, the store ``--install`` and the linked engine link into. Shown with Debian's own MLS
policy (selinux-policy-mls of the installed selinux-policy-default's version), built in a
private root under the cache as its postinst builds it (``selkit.base.debian``; about 20 s
the first time, then cached).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from selkit_cli import GOOD, run

from conftest import POLICIES, needs_tools

pytestmark = needs_tools("semodule", "checkmodule", "secilc")

#: GOOD plus a grant on the attribute privfd, whose members differ between the two policies
#: (MLS has initrc_su_t, newrole's run_init helper, which the default policy lacks).
PRIVFD = GOOD.replace("udp io\n", "udp io\n        allow privfd:fd use\n").replace(
    "udp bind port 5353\n", "udp bind port 5353\n        allow privfd:fd use\n")
#: A type only the MLS policy has.
INITRC_SU = PRIVFD.replace("privfd", "initrc_su_t")


@pytest.fixture(scope="session")
def mls_policy() -> Path:
    """ROOT/etc/selinux/mls/policy/policy.33 of the cached MLS root. Without a reachable
    Debian archive it skips with the reason, except in CI (CI=true), where it fails."""
    from selkit.base.debian import policy_path
    from selkit.diagnostics import DiagnosticError

    if not os.path.exists("/etc/selinux/default/policy/policy.33"):
        pytest.skip("selinux-policy-default is not installed (run make setup)")
    try:
        return policy_path("mls")
    except DiagnosticError as exc:
        first = exc.diagnostics[0]
        if first.code != "SEL522" or os.environ.get("CI") == "true":
            pytest.fail(f"cannot build the MLS root: {first.code} {first.message}")
        pytest.skip(f"selinux-policy-mls cannot be downloaded: {first.message}")


def _spec(tmp_path: Path, text: str, name: str = "d.sel") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _sensitivities(policy_path: str) -> int:
    from selkit.base import load_policy

    return len(list(load_policy(policy_path).sensitivities()))


def test_mls_root_is_built_like_the_postinst(mls_policy):
    from selkit.base import BaseSpec, load_kb

    root = mls_policy.parents[4]
    spec = BaseSpec.for_policy(str(mls_policy))
    assert (spec.root, spec.name) == (str(root), "mls")
    assert spec.store == str(root / "var/lib/selinux/mls")
    assert (root / "etc/selinux/semanage.conf").is_file()
    # Debian's MLS policy: s0-s15; the default (MCS) one has s0 only.
    assert _sensitivities(str(mls_policy)) == 16
    assert _sensitivities("/etc/selinux/default/policy/policy.33") == 1
    kb = load_kb(spec)
    assert "initrc_su_t" in kb.types and "initrc_su_t" not in load_kb().types
    # The postinst's notdefault modules are disabled, as on an installed system.
    assert {"git", "thunderbird"} <= kb.disabled_modules


def test_options_make_one_base(mls_policy, tmp_path):
    from selkit.base import BaseSpec

    assert BaseSpec.from_options(None, None) == BaseSpec()
    assert (BaseSpec().root, BaseSpec().name) == ("/", "default")
    by_policy = BaseSpec.from_options(str(mls_policy), None)
    by_store = BaseSpec.from_options(None, by_policy.store)
    assert by_store == by_policy
    # --store-root is gone: the store is the base's.
    result = run("compile", "--store-root", "/", _spec(tmp_path, GOOD))
    assert result.returncode == 2 and "--store-root" in result.stderr


def test_names_resolve_against_the_chosen_base(mls_policy, tmp_path):
    spec = _spec(tmp_path, INITRC_SU)
    default = run("check", spec)
    assert default.returncode == 2 and "error[SEL201]: unknown type 'initrc_su_t'" in \
        default.stderr
    for options in (["--base", str(mls_policy)],
                    ["--base-store", str(mls_policy.parents[4] / "var/lib/selinux/mls")]):
        result = run("check", *options, spec)
        assert result.returncode == 0, result.stderr


def test_profiles_and_proof_come_from_the_chosen_store(mls_policy, tmp_path):
    from selkit.analysis.profile import store_key
    from selkit.base import BaseSpec, load_kb
    from selkit.compiler import front_end_files
    from selkit.prove.api import prove_files

    spec = _spec(tmp_path, PRIVFD)
    steady = {}
    for base in (BaseSpec(), BaseSpec.for_policy(str(mls_policy))):
        kb = load_kb(base)
        _, modules = front_end_files([spec], kb)
        outcome = prove_files(modules, kb, base=base)
        (report,) = outcome.reports
        assert report.verdict.value == "holds"
        phase = report.phases["steady"]
        steady[base.name] = {g.target for g in phase.all if g.tclass == "fd"}
    # The same spec holds fd use on one more type over MLS: the base's, not the default's.
    assert steady["mls"] - steady["default"] == {"initrc_su_t"}
    assert store_key(str(mls_policy.parents[4]), "mls") != store_key("/", "default")


def test_install_links_into_the_mls_store(mls_policy, tmp_path, monkeypatch):
    """compile --base MLS --install: all five specs, as .pp and as .cil, link into a copy of
    the MLS store, and the policy that results is MLS and holds every module."""
    import selkit.toolchain
    from selkit.base import load_policy
    from selkit.cli import main

    linked = []
    real = selkit.toolchain.link_files

    def keeping(files, modules, dest, **kwargs):
        out = real(files, modules, dest, **kwargs)
        kept = tmp_path / f"linked-{len(linked)}"
        shutil.copyfile(out, kept)
        linked.append((kwargs.get("source_root"), kwargs.get("store"), sorted(files), kept))
        return out

    monkeypatch.setattr(selkit.toolchain, "link_files", keeping)
    result = CliRunner().invoke(main, ["compile", "--json", "--base", str(mls_policy),
                                       "--install", "-o", str(tmp_path / "out"),
                                       *map(str, POLICIES)])
    assert result.exit_code == 0, result.output
    modules = json.loads(result.stdout)["modules"]
    assert len(modules) == 5 and all(m["installed"] == {"pp": True, "cil": True}
                                     for m in modules)
    assert [(r, s) for r, s, _, _ in linked] == [(str(mls_policy.parents[4]), "mls")] * 2
    assert [f.rsplit(".", 1)[1] for f in linked[0][2]] == ["pp"] * 5
    for _, _, _, kept in linked:
        policy = load_policy(str(kept))
        assert len(list(policy.sensitivities())) == 16
        types = {str(t) for t in policy.types()}
        assert {"initrc_su_t", "openvpn_steady_t", "iodined_steady_t", "hts_steady_t",
                "ptunnel_steady_t", "iodine_steady_t"} <= types


def test_five_specs_prove_against_mls_with_both_engines(mls_policy):
    """Both engines agree over MLS, and every obligation of the five specs comes out as it
    does over the default policy (the TE rules a new domain gets are the same in both)."""
    mls = run("prove", "--json", "--engine", "both", "--base", str(mls_policy),
              *map(str, POLICIES))
    default = run("prove", "--json", *map(str, POLICIES))
    assert mls.returncode == default.returncode, mls.stderr
    data, expected = json.loads(mls.stdout), json.loads(default.stdout)
    assert data["engines_agree"] and not data["disagreements"]
    assert [r["engine"] for r in data["reports"]] == ["compositional", "linked"] * 5
    compositional = [r for r in data["reports"] if r["engine"] == "compositional"]
    assert compositional == expected["reports"]


def test_a_base_without_its_store_is_a_diagnostic(mls_policy, tmp_path):
    lone = tmp_path / "policy.33"
    shutil.copyfile(mls_policy, lone)
    spec = _spec(tmp_path, GOOD)
    out = tmp_path / "out"
    for argv in (["compile", "--install", "-o", str(out)], ["prove"]):
        result = run(*argv, "--base", str(lone), spec)
        assert result.returncode == 2, result.stderr
        assert "error[SEL908]" in result.stderr and "has no module store" in result.stderr
        assert "Traceback" not in result.stderr
    assert not out.exists()
    # A store outside ROOT/var/lib/selinux/NAME has no root to copy etc/selinux from.
    odd = tmp_path / "stores" / "mls"
    odd.parent.mkdir()
    odd.symlink_to(mls_policy.parents[4] / "var/lib/selinux/mls")
    result = run("prove", "--base", str(mls_policy), "--base-store", str(odd), spec)
    assert result.returncode == 2 and "error[SEL908]" in result.stderr
    assert "ROOT/var/lib/selinux/NAME" in result.stderr
    # A root without semanage.conf: the copy would not be linked as that root links.
    root = tmp_path / "root"
    (root / "etc/selinux").mkdir(parents=True)
    (root / "var/lib/selinux").mkdir(parents=True)
    (root / "etc/selinux/mls").symlink_to(mls_policy.parents[4] / "etc/selinux/mls")
    (root / "var/lib/selinux/mls").symlink_to(mls_policy.parents[4] / "var/lib/selinux/mls")
    result = run("prove", "--base", str(root / "etc/selinux/mls/policy/policy.33"), spec)
    assert result.returncode == 2 and "error[SEL908]" in result.stderr
    assert "semanage.conf" in result.stderr
