"""Phase semantics that dsl/REFERENCE.md states and that libsepol and the kernel define.

* every statement that uses a resource an earlier phase opened gets ``fd use`` on the opener,
  also when no rule of its expansion names the opener (``tun io``);
* typebounds is checked the way libsepol (``bounds_check_rule``) and the kernel
  (``type_attribute_bounds_av``) check it: the child's rule (C, T) needs the parent's rule
  (P, T'), where T' is T's own parent when T is bounded and T otherwise;
* the types a daemon declares are distinct (a file named like a phase is an error, not a
  duplicate declaration checkmodule refuses).
"""

from __future__ import annotations

import pytest

from fakes import small_kb
from selkit.diagnostics import DiagnosticError
from selkit.dsl.loader import load
from selkit.ir import nodes as ir
from selkit.ir import passes
from selkit.ir.lower import lower


def compile_text(text: str, tmp_path) -> ir.PolicyModule:
    path = tmp_path / "d.sel"
    path.write_text(text)
    (module,) = lower(load(str(path)), small_kb())
    return passes.run(module, small_kb())


def diagnostics(text: str, tmp_path):
    with pytest.raises(DiagnosticError) as err:
        compile_text(text, tmp_path)
    return err.value.diagnostics


def triples(module: ir.PolicyModule, source: str) -> set[tuple[str, str, str]]:
    return {(r.target, r.tclass, p) for r in module.allows(source) for p in r.perms}


def daemon(startup: str, steady: str, extra: str = "") -> str:
    return f'''daemon d {{
    exec "/usr/sbin/d"
    phase startup {{
{startup}
    }}
{extra}
    phase steady {{
{steady}
    }}
    switch startup -> steady {{ option "-z {{context}}" }}
}}
'''


def test_tun_io_alone_uses_the_fd_startup_opened(tmp_path):
    m = compile_text(daemon("        tun", "        tun io"), tmp_path)
    assert ("d_startup_t", "fd", "use") in triples(m, "d_steady_t")
    # typebounds: the parent holds the (unchecked) fd use on its own fds
    assert ("d_startup_t", "fd", "use") in triples(m, "d_startup_t")
    fd = [r for r in m.allows("d_steady_t") if r.tclass == "fd"]
    assert [r.origin.cause for r in fd] == [ir.Cause.PHASE]


THREE = '''daemon d {
    exec "/usr/sbin/d"
    phase startup {
        udp bind port 53
        tun
    }
    phase loading {
        udp io
        tun io
    }
    phase steady {
        udp io
        tun io
    }
    switch startup -> loading { option "-z {context}" }
    switch loading -> steady { patch "d.c" after "ready();" }
}
'''


def test_three_phases_need_no_shortcut_switch(tmp_path):
    m = compile_text(THREE, tmp_path)
    # loading -> steady is checked as startup -> loading, which startup has: startup is not
    # given a direct dyntransition to steady.
    assert ("d_steady_t", "process", "dyntransition") not in triples(m, "d_startup_t")
    assert ("d_loading_t", "process", "dyntransition") in triples(m, "d_startup_t")
    assert ("d_steady_t", "process", "dyntransition") in triples(m, "d_loading_t")
    for phase in ("d_loading_t", "d_steady_t"):
        assert ("d_startup_t", "fd", "use") in triples(m, phase)


def test_an_object_of_a_middle_phase_is_checked_as_its_parents(tmp_path):
    text = THREE.replace("        udp io\n        tun io\n    }\n    phase steady",
                         "        udp bind\n        tun io\n    }\n    phase steady")
    (diag,) = diagnostics(text, tmp_path)
    assert diag.code == "SEL301" and "d_startup_t" in diag.message
    assert "open the resource in phase 'startup'" in diag.hint


def test_a_file_named_like_a_phase_is_a_clash(tmp_path):
    text = daemon("        tun", "        tun io", '    file steady "/etc/d"')
    codes = [(d.code, d.message) for d in diagnostics(text, tmp_path)]
    assert codes == [("SEL208", "type 'd_steady_t' is already declared by this daemon")]


def test_a_file_named_like_the_exec_type_is_a_clash(tmp_path):
    text = daemon("        tun", "        tun io", '    file startup_exec "/etc/d"')
    assert [d.code for d in diagnostics(text, tmp_path)] == ["SEL208"]
