"""The shared "did you mean" helper of selkit.diagnostics."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from selkit.diagnostics import did_you_mean

WORDS = st.text(alphabet="abcdeptu_", min_size=1, max_size=8)


def test_the_closest_known_name():
    assert did_you_mean("sylog", ["syslog", "stdio"]) == "did you mean 'syslog'?"
    assert did_you_mean("xyz", ["syslog", "stdio"]) is None


def test_a_known_name_is_never_suggested_back():
    """'exec capabilities' once said "unknown class or forbid group 'exec'; did you mean
    'exec'?": the word is known, so the problem is elsewhere."""
    assert did_you_mean("exec", ["exec", "write"]) is None
    assert did_you_mean("exec", ["exec", "exe"]) == "did you mean 'exe'?"


@given(WORDS, st.lists(WORDS, max_size=6), st.integers(1, 3))
def test_no_suggestion_is_the_word_itself(word, others, n):
    hint = did_you_mean(word, [word, *others], n=n)
    assert hint is None or f"'{word}'" not in hint


def test_one_slip_in_a_short_word_is_found():
    """difflib alone misses these ('upd' is 0.67 from 'udp')."""
    verbs = ["udp", "tcp", "tun", "icmp", "syslog"]
    assert did_you_mean("upd", verbs) == "did you mean 'udp'?"       # two letters swapped
    assert did_you_mean("icpm", verbs) == "did you mean 'icmp'?"
    assert did_you_mean("tnu", verbs) == "did you mean 'tun'?"
    assert did_you_mean("tcpp", verbs) == "did you mean 'tcp'?"      # one letter more
    assert did_you_mean("xyz", verbs) is None
    assert did_you_mean("ud", ["io"]) is None                         # two letters: too short
