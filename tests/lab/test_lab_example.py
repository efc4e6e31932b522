"""A daemon selkit does not ship, end to end (examples/dns2tcp): its generated patch is what
its spec generates, and `selkit lab examples/dns2tcp/dns2tcpd.sel` (the scenario beside the
spec, no other spec in its directory) passes: real DNS-tunnelled traffic, the daemon in its
steady domain with its filter, no denial outside the battery, every attack denied."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

EXAMPLE = ROOT / "examples" / "dns2tcp"
SELKIT = [sys.executable, "-m", "selkit"]

pytestmark = pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None
                                and os.environ.get("CI") != "true",
                                reason="qemu-system-x86 is not installed "
                                       "(sh scripts/lab-deps.sh)")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    keep = tmp_path_factory.mktemp("lab-dns2tcp")
    proc = subprocess.run([*SELKIT, "lab", str(EXAMPLE / "dns2tcpd.sel"), "--json", "--keep",
                           str(keep)], cwd=ROOT, capture_output=True, text=True,
                          timeout=30 * 60, env={**os.environ, "LC_ALL": "C"})
    assert proc.returncode in (0, 1), proc.stderr
    (one,) = json.loads(proc.stdout)["results"]
    return proc.returncode, one, keep


def test_the_example_passes_the_lab(result):
    code, one, _ = result
    assert one["problems"] == [] and one["ok"] and code == 0, one["problems"]


def test_real_traffic_through_the_dns_tunnel(result):
    _, one, _ = result
    assert one["tunnel"]["traffic"] and one["tunnel"]["bytes_received"] == \
        one["tunnel"]["bytes_sent"] > 0
    assert one["context"]["after"] == "system_u:system_r:dns2tcpd_steady_t:s0"
    assert one["context"]["seccomp"] == 2
    assert one["denials"] == []


def test_every_attack_is_denied_in_the_steady_domain(result):
    _, one, _ = result
    steady = [a for a in one["attacks"]["steady"] if a["layer"] == "selinux"]
    assert steady and all(a["outcome"] == "denied" for a in steady)
    as_user = [a for a in one["attacks"]["as_user"] if a["layer"] == "selinux"]
    assert as_user and all(a["outcome"] == "denied" for a in as_user)


def test_the_lab_built_the_committed_series(result):
    """The lab regenerates the generated patch from the spec; for the committed spec it is
    the committed patch, byte for byte."""
    _, _, keep = result
    built = sorted((keep / "dns2tcpd" / "patches").iterdir())
    committed = sorted((EXAMPLE / "patches").iterdir())
    assert [p.name for p in built] == [p.name for p in committed]
    assert [p.read_bytes() for p in built] == [p.read_bytes() for p in committed]
