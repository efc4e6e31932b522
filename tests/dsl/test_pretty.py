"""The printer (``selkit fmt``): where each comment goes. The grammar-driven properties (round
trip, idempotence, every comment kept in its place) are in tests/acceptance/test_properties.py."""

from __future__ import annotations

import pytest

from selkit.dsl.parser import parse
from selkit.dsl.pretty import format_module


def fmt(text: str) -> str:
    return format_module(parse(text, "t.sel"))


CANONICAL = '''daemon d {
    exec "/usr/sbin/d"
    phase startup {
        tun
    }  # end of startup
    phase steady {
        tun io  # the only grant
    }  # end of steady
    switch startup -> steady {
        option "-z {context}"
    }  # end of switch
    forbid steady {
        exec
    }  # end of forbid
}  # end of daemon
'''


def test_a_comment_after_a_closing_brace_stays_on_that_line():
    assert fmt(CANONICAL) == CANONICAL


@pytest.mark.parametrize("source,line", [
    # A one-line block: the comment follows its '}', not its 'phase p {'.
    ('daemon d {\n    phase startup { tun }  # end of startup\n}\n', "    }  # end of startup"),
    ('daemon d {\n    forbid steady { exec; capabilities }  # forbids\n}\n',
     "    }  # forbids"),
    ('daemon d {\n    switch a -> b { option "-z {context}" }  # switch\n}\n',
     "    }  # switch"),
    # The last statement shares its line with the '}'.
    ('daemon d {\n    phase p {\n        tun io }  # end of p\n}\n', "    }  # end of p"),
    # A '}' followed by ';'.
    ('daemon d {\n    exec "/x"; phase p { tun };  # end of p\n}\n', "    }  # end of p"),
    # Nested one-line blocks: the outermost '}' is the last thing before the comment.
    ('daemon d { phase p { tun } }  # end of daemon\n', "}  # end of daemon"),
    ('fragment f {}# empty\n', "}  # empty"),
])
def test_a_comment_after_a_closing_brace_on_a_shared_line_follows_that_brace(source, line):
    printed = fmt(source)
    assert line in printed.splitlines(), printed
    assert fmt(printed) == printed


def test_a_comment_after_a_statement_on_the_head_line_follows_the_statement():
    printed = fmt('daemon d {\n    phase p { tun  # open_tun()\n        tun io\n    }\n}\n')
    assert printed.splitlines()[1:4] == ["    phase p {", "        tun  # open_tun()",
                                         "        tun io"]


def test_a_comment_after_an_opening_brace_stays_on_the_head():
    printed = fmt('daemon d { # the daemon\n    phase p {\n        tun\n    }\n}\n')
    assert printed.splitlines()[0] == "daemon d {  # the daemon"
