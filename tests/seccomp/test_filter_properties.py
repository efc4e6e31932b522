"""Property tests of the generator: for any allow list and default, the evaluated surface of
the generated program is exactly that list, that default and kill_process for other ABIs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from selkit.facts.numbers import numbers
from selkit.facts.seccomp_actions import KILL_PROCESS, Action
from selkit.seccomp.bpf import BPF_MAXINSNS, decode, generate
from selkit.seccomp.surface import surface

NAMES = sorted(numbers("x86_64").by_name)
DEFAULTS = st.one_of(
    st.sampled_from([Action("kill_process"), Action("kill_thread"), Action("trap"),
                     Action("log")]),
    st.integers(1, 4095).map(lambda n: Action("errno", n)))
ALLOW_SETS = st.one_of(st.sets(st.sampled_from(NAMES), max_size=40),
                       st.sets(st.sampled_from(NAMES), min_size=200))


@settings(max_examples=60, deadline=None)
@given(ALLOW_SETS, DEFAULTS, st.sampled_from(["tree", "linear"]))
def test_the_surface_is_exactly_the_allow_list(allowed, default, layout):
    flt = generate(allowed, default, layout=layout)
    assert len(flt.program) <= BPF_MAXINSNS
    assert decode(flt.bytes) == flt.program
    seen = surface(flt.bytes)
    assert seen.exhaustive
    assert seen.allowed == allowed
    assert {seen.x86_64[n] for n in seen.blocked} <= {default}
    assert seen.unlisted == {default}
    assert seen.default == default
    assert seen.foreign == {KILL_PROCESS}


@settings(max_examples=30, deadline=None)
@given(ALLOW_SETS, DEFAULTS)
def test_both_layouts_have_the_same_surface(allowed, default):
    tree = surface(generate(allowed, default).bytes)
    linear = surface(generate(allowed, default, layout="linear").bytes)
    assert tree.native == linear.native and tree.archs == linear.archs
