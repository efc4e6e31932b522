"""The lab builds each daemon with its project's series regenerated from the lab's specs
(selkit.lab.series): for the shipped specs that is the committed series byte for byte (so the
build is the cached one), and a spec changed for a lab run changes the filter the daemon loads.
Needs the Debian orig tarballs (downloaded once into the cache), like tests/patch."""

from __future__ import annotations

import shutil

import pytest

from conftest import ROOT
from selkit.compiler import front_end_files
from selkit.lab.series import lab_series
from selkit.projects.build import series

PROJECTS = ("iodine", "openvpn", "ptunnel", "httptunnel")


@pytest.mark.parametrize("project", PROJECTS)
def test_the_shipped_specs_give_the_committed_series(kb, shipped_specs, tmp_path, monkeypatch,
                                                     project):
    monkeypatch.chdir(ROOT)
    _, modules = shipped_specs
    got = lab_series(project, modules, tmp_path)
    committed = series(project)
    assert [p.name for p in got] == [p.name for p in committed]
    for mine, theirs in zip(got, committed, strict=True):
        assert mine.read_bytes() == theirs.read_bytes(), mine.name


def test_a_changed_spec_changes_the_steady_filter_of_its_patch(kb, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    specs = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", specs)
    spec = specs / "ptunnel.sel"
    text = spec.read_text()
    assert "syscalls allow newfstatat ioctl" in text
    spec.write_text(text.replace("syscalls allow newfstatat ioctl",
                                 "syscalls allow newfstatat ioctl uname"))
    _, modules = front_end_files([str(spec)], kb)
    got = {p.name: p.read_text() for p in lab_series("ptunnel", modules, tmp_path / "out")}
    committed = {p.name: p.read_text() for p in series("ptunnel")}
    assert got.keys() == committed.keys()
    changed = [name for name in got if got[name] != committed[name]]
    (name,) = changed
    # the steady header's program comments each allowed call: "nr 63: uname -> allow"
    assert "nr 63: uname -> allow" in got[name]
    assert "nr 63: uname -> allow" not in committed[name]
