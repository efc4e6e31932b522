"""``selkit audit OLD NEW`` and ``--policy`` drift on the Debian policy, as a user runs them:
a spec against an edited copy (each change with its spec line, the JSON contract, --fail-on),
equal to SETools' PolicyDifference on the linked pair; a spec against its own compiled module;
a spec at a git revision; a host policy with a local module (drift, the module named); bad
input (exit 2, a coded diagnostic, no traceback)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import setools

from conftest import ROOT, needs_tools
from selkit.base import load_policy

pytestmark = needs_tools("semodule", "secilc")

jsonschema = pytest.importorskip("jsonschema")
SCHEMA = json.loads((ROOT / "schemas" / "audit-changes.schema.json").read_text())


def _edited(folder: Path) -> tuple[Path, Path]:
    """policies/ copied twice; in the second, openvpn's phases gain capability net_raw (both,
    bounds), startup a write to etc_t, steady a lock on it. Returns (old, new)."""
    old, new = folder / "old", folder / "new"
    shutil.copytree(ROOT / "policies", old)
    shutil.copytree(ROOT / "policies", new)
    text = (new / "openvpn.sel").read_text()
    text = text.replace("    phase startup {\n", "    phase startup {\n"
                        "        allow etc_t:file write\n"
                        "        allow self:capability net_raw\n", 1)
    text = text.replace("        allow jail:dir search\n", "        allow jail:dir search\n"
                        "        allow self:capability net_raw\n        allow etc_t:file lock\n", 1)
    text = text.replace("    forbid steady {\n        exec\n        capabilities\n",
                        "    forbid steady {\n        exec\n", 1)
    (new / "openvpn.sel").write_text(text)
    return old / "openvpn.sel", new / "openvpn.sel"


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """The edited pair audited once, as JSON (the links are cached for the other tests)."""
    from selkit_cli import run

    old, new = _edited(tmp_path_factory.mktemp("versions"))
    proc = run("audit", old, new, "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return old, new, json.loads(proc.stdout)


def _changes(data: dict) -> set[tuple]:
    return {(s["subject"], c["change"], c["direction"], c["target"], c["class"], c["perm"],
             c["conditional"]) for s in data["subjects"] for c in s["changes"]}


def test_each_change_of_each_phase_with_its_spec_line(versions):
    old, new, data = versions
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["mode"] == "versions"
    assert [s["subject"] for s in data["subjects"]] == ["openvpn/startup", "openvpn/steady"]
    steady = {(c["class"], c["perm"]): c for c in data["subjects"][1]["changes"]}
    raw = steady["capability", "net_raw"]
    text = new.read_text().splitlines()
    assert raw["change"] == "added" and raw["severity"] == "high"
    assert raw["categories"] == ["capabilities"]
    path, line = raw["at"].rsplit(":", 1)
    assert Path(path).resolve() == new.resolve()
    assert text[int(line) - 1].strip() == "allow self:capability net_raw"
    assert "socket" in raw["syscalls"]
    assert steady["file", "lock"]["categories"] == []
    startup = {(c["class"], c["perm"]) for c in data["subjects"][0]["changes"]}
    assert ("file", "write") in startup
    assert data["subjects"][1]["held"]["capabilities"] == {"old": 0, "new": 1}
    assert data["file_contexts"] == [] and data["typebounds"] == []


def test_the_changes_equal_policydifference_on_the_linked_pair(versions):
    """The differential check: every allow fact PolicyDifference finds for the phase domains
    (attributes expanded), and nothing else, outbound."""
    _, _, data = versions
    old, new = load_policy(data["old"]["policy"]), load_policy(data["new"]["policy"])
    domains = {"openvpn_startup_t", "openvpn_steady_t"}
    names = {"openvpn_startup_t": "openvpn/startup", "openvpn_steady_t": "openvpn/steady"}
    diff = setools.PolicyDifference(old, new)
    expected = set()
    for change, rules in (("added", diff.added_allows), ("removed", diff.removed_allows)):
        for rule in rules:
            for source in (str(t) for t in rule.source.expand()):
                if source in domains:
                    expected |= {(names[source], change, "outbound", str(t), str(rule.tclass),
                                  p, None) for t in rule.target.expand() for p in rule.perms}
    for mod in diff.modified_allows:
        for source in (str(t) for t in mod.rule.source.expand()):
            if source in domains:
                for change, perms in (("added", mod.added_perms), ("removed", mod.removed_perms)):
                    expected |= {(names[source], change, "outbound", str(t),
                                  str(mod.rule.tclass), p, None)
                                 for t in mod.rule.target.expand() for p in perms}
    ours = {c for c in _changes(data) if c[2] == "outbound"}
    assert expected and ours == expected


def test_fail_on_crosses_only_what_a_change_adds(versions, cli):
    old, new, _ = versions
    assert cli("audit", old, new, "--fail-on", "capabilities").returncode == 1
    assert cli("audit", old, new, "--fail-on", "high").returncode == 1
    assert cli("audit", old, new, "--fail-on", "ptrace,name_connect").returncode == 0
    # the other way round the change removes net_raw: nothing crosses
    assert cli("audit", new, old, "--fail-on", "capabilities").returncode == 0


def test_the_text_puts_the_dangerous_changes_first(versions, cli):
    old, new, _ = versions
    text = cli("audit", old, new).stdout
    assert text.index("High-severity changes (3):") < text.index("Per phase and category")
    assert "+ openvpn/steady: openvpn_steady_t openvpn_steady_t:capability net_raw" in text
    assert "opens: socket, setsockopt" in text
    assert "Changes in no category (1):" in text


@needs_tools("checkmodule", "semodule_package")
def test_a_spec_against_its_own_compiled_module_has_no_change(tmp_path, cli):
    spec = ROOT / "policies" / "openvpn.sel"
    assert cli("compile", spec, "-o", tmp_path, "--target", "cil,pp").returncode == 0
    for module in ("openvpn.cil", "openvpn.pp"):
        proc = cli("audit", spec, tmp_path / module, "--json")
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        assert [s["subject"] for s in data["subjects"]] == ["openvpn/startup", "openvpn/steady"]
        assert _changes(data) == set(), module
        assert data["new"]["kind"] == "module" and data["file_contexts"] == []


def test_a_spec_at_a_git_revision(tmp_path, cli):
    repo = tmp_path / "repo"
    old, new = _edited(tmp_path)
    shutil.copytree(old.parent, repo)

    def git(*args):
        subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x", "--allow-empty")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "specs")
    shutil.copy(new, repo / "openvpn.sel")
    proc = cli("audit", "HEAD:openvpn.sel", "openvpn.sel", "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["old"]["label"] == "HEAD:openvpn.sel"
    assert ("openvpn/steady", "added", "outbound", "openvpn_steady_t", "capability", "net_raw",
            None) in _changes(data)
    # the old side's spec lines read REV:PATH:LINE
    back = json.loads(cli("audit", "openvpn.sel", "HEAD:openvpn.sel", "--json", cwd=repo).stdout)
    removed = [c for s in back["subjects"] for c in s["changes"] if c["perm"] == "net_raw"]
    assert removed and all(c["change"] == "removed" for c in removed)
    bad = cli("audit", "HEAD~5:openvpn.sel", "openvpn.sel", cwd=repo)
    assert bad.returncode == 2 and "SEL610" in bad.stderr and "Traceback" not in bad.stderr
    gone = cli("audit", "HEAD~1:openvpn.sel", "openvpn.sel", cwd=repo)
    assert gone.returncode == 2 and "has no file 'openvpn.sel'" in gone.stderr
    # a path that leaves the repository, or a revision that reads as an option of git's
    shutil.copy(new, tmp_path / "outside.sel")
    out = cli("audit", "HEAD:../outside.sel", "openvpn.sel", cwd=repo)
    assert out.returncode == 2 and "outside the git repository" in out.stderr
    option = cli("audit", "--", "--output=x:openvpn.sel", "openvpn.sel", cwd=repo)
    assert option.returncode == 2 and "SEL610" in option.stderr


@pytest.mark.parametrize("args, code, words", [
    (("nosuch.sel", "policies/openvpn.sel"), "SEL610", "no such file"),
    (("README.md", "policies/openvpn.sel"), "SEL611", "no spec"),
    (("policies/openvpn.sel",), "SEL614", "got 1 argument"),
    (("policies/openvpn.sel", "policies/hts.sel", "--fail-on", "capabilitys"), "SEL613",
     "did you mean 'capabilities'"),
    (("policies/openvpn.sel", "--against", "openvpn_t", "--policy", "x"), "SEL614", "--against"),
    (("--policy", "/etc/selinux/default/policy/policy.33"), "SEL614", "needs the specs"),
    (("--policy", "README.md", "policies/openvpn.sel"), "SEL611", "no spec"),
    (("--policy", "policies/hts.sel", "policies/openvpn.sel"), "SEL611", "not a kernel policy"),
    (("--policy", "/etc/selinux/default/policy/policy.33", "--store", "/tmp",
      "policies/openvpn.sel"), "SEL615", "no module store"),
])
def test_bad_input_is_a_coded_diagnostic(cli, args, code, words):
    proc = cli("audit", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert code in proc.stderr and words in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_drift_names_the_local_module_behind_a_grant_beyond_the_spec(tmp_path, cli):
    """A host whose store holds openvpn's module and a local module that lets the steady
    phase write /etc: the drift audit reports that grant, and the local module."""
    from selkit.toolchain import StoreCopy

    assert cli("compile", ROOT / "policies/openvpn.sel", "-o", tmp_path,
               "--target", "cil").returncode == 0
    local = tmp_path / "localfix.cil"
    local.write_text("(allow openvpn_steady_t etc_t (file (write append)))\n")
    with StoreCopy(expand_check=False) as host:
        host.install([str(tmp_path / "openvpn.cil"), str(local)])
        store = Path(host.root, "var/lib/selinux/default")
        proc = cli("audit", "--policy", host.policy_path, "--store", store,
                   ROOT / "policies/openvpn.sel", "--json", "--fail-on", "file_write")
        assert proc.returncode == 1, proc.stderr
        data = json.loads(proc.stdout)
        jsonschema.Draft202012Validator(SCHEMA).validate(data)
        assert data["mode"] == "drift" and data["store"] == str(store)
        changes = [c for s in data["subjects"] for c in s["changes"]]
        assert {(c["change"], c["target"], c["perm"]) for c in changes} == {
            ("added", "etc_t", "write"), ("added", "etc_t", "append")}
        assert all(c["modules"] == ["localfix"] for c in changes)
        text = cli("audit", "--policy", host.policy_path, "--store", store,
                   ROOT / "policies/openvpn.sel").stdout
        assert "module: localfix" in text and "beyond the spec" in text


def test_the_text_is_the_golden_file(versions, cli, update_golden):
    """The edited pair's text, run from the folder of the two copies (relative paths)."""
    old, new, _ = versions
    folder = old.parent.parent
    ran = cli("audit", "old/openvpn.sel", "new/openvpn.sel", cwd=folder)
    assert ran.returncode == 0, ran.stderr
    golden = ROOT / "tests" / "golden" / "audit" / "openvpn-versions.txt"
    if update_golden:
        golden.write_text(ran.stdout)
    assert ran.stdout == golden.read_text(), "differs from golden; run pytest --update-golden"


def test_a_broken_module_or_policy_is_a_coded_diagnostic(tmp_path, cli):
    spec = ROOT / "policies" / "openvpn.sel"
    cases = {"truncated.pp": (bytes.fromhex("8fff7cf9") + b"garbage", "SEL612"),
             "unclosed.cil": (b"(type x", "SEL505"),
             "policy.33": (bytes.fromhex("8cff7cf9") + b"garbage", "SEL506")}
    for name, (data, code) in cases.items():
        (tmp_path / name).write_bytes(data)
        proc = cli("audit", spec, tmp_path / name)
        assert proc.returncode == 2, (name, proc.stderr)
        assert code in proc.stderr and "Traceback" not in proc.stderr, (name, proc.stderr)
