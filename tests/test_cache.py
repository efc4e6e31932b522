"""selkit.cache: files and directories reach the cache under a temporary name, then a rename."""

from __future__ import annotations

import pytest

from selkit.cache import read_pickle, rename_into_place, replace_file, write_pickle


def test_replace_file_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.ini"
    target.write_text("old\n")
    replace_file(target, "new\n")
    replace_file(tmp_path / "data.bin", b"\x00\x01")
    assert target.read_text() == "new\n"
    assert (tmp_path / "data.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin", "out.ini"]


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.ini"
    target.write_text("old\n")
    with pytest.raises(TypeError):
        replace_file(target, 42)  # neither str nor bytes
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.ini"]


def test_pickles_round_trip_and_a_stale_kind_reads_as_none(tmp_path):
    path = tmp_path / "sub" / "value.pickle"
    write_pickle(path, {"a": 1})
    assert read_pickle(path, dict) == {"a": 1}
    assert read_pickle(path, list) is None


def test_rename_into_place_lets_a_finished_winner_stand(tmp_path):
    final = tmp_path / "final"
    built = tmp_path / "built"
    built.mkdir()
    (built / "done").write_text("1")
    rename_into_place(built, final, "done")
    assert (final / "done").is_file() and not built.exists()
    loser = tmp_path / "loser"
    (loser / "x").mkdir(parents=True)
    rename_into_place(loser, final, "done")  # final is finished: the loser's copy is not needed
    assert (final / "done").is_file()
    with pytest.raises(OSError):  # no winner there: the failure is the caller's
        rename_into_place(loser, tmp_path / "no" / "such", "done")
