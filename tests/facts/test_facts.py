"""The facts layer reads SETools' permission map file itself, exactly as SETools reads it."""

from __future__ import annotations

import pytest

from selkit.facts.permmap import parse_permission_map, permission_map


def test_the_permission_map_equals_setools_own_reading():
    setools = pytest.importorskip("setools")
    reference = setools.PermissionMap()
    ours = permission_map()
    theirs = {str(c): {p.perm: p.direction for p in reference.perms(str(c))}
              for c in reference.classes()}
    assert ours == theirs


def test_the_parser_skips_comments_and_the_class_count():
    text = "# comment\n2\nclass file 2\n  read r 10\n  write w # data\nclass dir 1\n search n\n"
    assert parse_permission_map(text) == {"file": {"read": "r", "write": "w"},
                                          "dir": {"search": "n"}}


def test_the_parser_refuses_malformed_lines():
    from selkit.facts.permmap import PermissionMapError

    for text, line in (("1\nread r 10\n", 2), ("1\nclass file\n", 2),
                       ("1\nclass file 1\n read x 10\n", 3)):
        with pytest.raises(PermissionMapError, match=f"^perm_map:{line}: "):
            parse_permission_map(text)


def test_the_map_is_found_without_importing_setools():
    import subprocess
    import sys

    code = ("import sys; from selkit.facts.permmap import permission_map; "
            "assert permission_map()['file']['write'] == 'w'; "
            "assert 'setools' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_missing_setools_is_a_clear_error(monkeypatch):
    import importlib.util

    from selkit.facts import permmap

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(permmap.PermissionMapMissing, match="python3-setools"):
        permmap.permission_map_path()
