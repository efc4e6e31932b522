"""``selkit suggest SPEC... --log FILE`` on records a real lab run printed
(tests/data/lab-ptunnel-learning.dmesg): the spec the run used (steady without newfstatat, in
learning mode) gets the ``syscalls allow`` back; the shipped spec already has it; bad input is a
coded diagnostic with exit 2 and nothing on stdout."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import jsonschema

from conftest import ROOT

LOG = ROOT / "tests" / "data" / "lab-ptunnel-learning.dmesg"
SHIPPED = "policies/ptunnel.sel"


def learning_spec(tmp_path):
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    text = (ROOT / SHIPPED).read_text().replace("syscalls allow newfstatat ioctl\n",
                                                "syscalls allow ioctl\n"
                                                "        syscalls default log\n")
    assert "syscalls default log" in text
    spec = tmp_path / SHIPPED
    spec.write_text(text)
    return spec


def test_the_runs_spec_gets_the_call_back_and_the_denial_its_verb(cli, tmp_path):
    spec = learning_spec(tmp_path)
    ran = cli("suggest", spec, "--log", LOG)
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == f"{LOG}: 1 denial (AVC and SELINUX_ERR), 1 seccomp record"
    assert any(line.startswith(f"{spec}:") and "in phase steady add: syscalls allow newfstatat"
               in line for line in lines), ran.stdout
    assert any("in phase steady add: tcp connect port 25" in line for line in lines), ran.stdout


def test_the_shipped_spec_already_allows_it(cli):
    ran = cli("suggest", SHIPPED, "--log", LOG, "--json")
    assert ran.returncode == 0, ran.stderr
    data = json.loads(ran.stdout)
    schema = json.loads((ROOT / "schemas" / "suggest.schema.json").read_text())
    jsonschema.validate(data, schema)
    assert data["schema"] == "selkit/suggest/1" and (data["denials"], data["seccomp"]) == (1, 1)
    (call,) = data["syscall_suggestions"]
    assert (call["kind"], call["syscall"], call["phase"]) == ("granted", "newfstatat", "steady")
    assert "syscalls allow newfstatat ioctl" in call["why"]


def test_a_log_without_records(cli, tmp_path):
    empty = tmp_path / "quiet.log"
    empty.write_text("nothing of interest\n")
    ran = cli("suggest", SHIPPED, "--log", empty)
    assert ran.returncode == 0
    assert ran.stdout == f"{empty}: 0 denials (AVC and SELINUX_ERR), 0 seccomp records: " \
                         "nothing to suggest\n"


def test_standard_input(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "selkit", "suggest", SHIPPED, "--log", "-",
                           "--json"], cwd=ROOT, input=LOG.read_text(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["log"] == "-"


def test_bad_input_is_a_coded_diagnostic(cli, tmp_path):
    for args, code in (((SHIPPED, "--log", tmp_path / "missing.log"), "SEL901"),
                       ((SHIPPED, "--log", tmp_path), "SEL903"),
                       ((tmp_path / "nope.sel", "--log", LOG), "SEL901")):
        ran = cli("suggest", *args)
        assert ran.returncode == 2 and ran.stdout == "", (args, ran)
        assert f"[{code}]" in ran.stderr and "Traceback" not in ran.stderr
