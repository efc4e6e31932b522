"""SETools' own sechecker, run on the linked policy with the exported INI, agrees with selkit:
it passes the shipped policies and fails exactly where selkit refutes an obligation it covers."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import POLICIES
from selkit.analysis.views import profiles_for
from selkit.compiler import front_end
from selkit.prove.engine import prove
from selkit.prove.obligations import Verdict
from selkit.prove.sechecker import ini_text

pytestmark = pytest.mark.skipif(shutil.which("sechecker") is None, reason="setools not installed")

#: Mutations whose leak the exported checks express (the others need selkit's own analysis:
#: attribute baselines, typebounds, earlier phases).
COVERED = ("capability-in-steady", "dyntransition-back-to-startup", "setcurrent-in-steady",
           "name-connect-to-any-port", "raw-socket", "packet-socket")


def _sechecker(module, kb, policy_path, tmp_path) -> int:
    ini = tmp_path / "checks.ini"
    ini.write_text(ini_text([module], kb))
    result = subprocess.run(["sechecker", str(ini), str(policy_path)],
                            capture_output=True, text=True)
    assert result.returncode in (0, 1), result.stdout + result.stderr  # 2/3: config error
    return result.returncode


@pytest.mark.parametrize("path", POLICIES, ids=[p.stem for p in POLICIES])
def test_sechecker_passes_the_shipped_policies(path, kb, tmp_path, linked):
    """The link is conftest's, shared with test_prove_mutations.py."""
    _, (module,) = front_end(str(path), kb)
    _, policy_path = linked(module, expand_check=True)
    assert _sechecker(module, kb, policy_path, tmp_path) == 0


@pytest.mark.parametrize("name", COVERED)
def test_sechecker_fails_where_selkit_refutes(name, kb, tmp_path, mutants):
    """Each mutant on its renamed copy of hts, all linked together (test_prove_mutations.py)."""
    spec, mutant, policy, policy_path = mutants[name]
    report = prove(spec, kb, profiles_for([spec, mutant]), engine="linked", policy=policy)
    assert report.verdict is Verdict.REFUTED
    assert _sechecker(spec, kb, policy_path, tmp_path) == 1
