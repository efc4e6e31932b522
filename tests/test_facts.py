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
