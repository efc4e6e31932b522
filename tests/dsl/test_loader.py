"""Reading files: the hints that name the 'use' a spec lacks or misspells."""

from __future__ import annotations

import pytest

from fakes import small_kb
from selkit.diagnostics import DiagnosticError
from selkit.dsl.loader import fragment_homes, load
from selkit.ir.lower import lower

LIBRARY = "fragment start_basics {\n    stdio\n}\n"
SPEC = '''{use}daemon d {{
    exec "/usr/sbin/d"
    phase startup {{
        include start_basics
    }}
    phase steady {{
    }}
    switch startup -> steady {{ option "-z {{context}}" }}
}}
'''


def _write(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_fragment_is_found_in_the_libraries_near_the_spec(tmp_path):
    spec = _write(tmp_path / "d.sel", SPEC.format(use=""))
    _write(tmp_path / "lib" / "include" / "basics.sel", LIBRARY)
    _write(tmp_path / "include" / "basics.sel", LIBRARY)
    # A spec defining it is no library ('use' refuses a daemon), nor is a hidden folder.
    _write(tmp_path / "other.sel", LIBRARY + SPEC.format(use=""))
    _write(tmp_path / ".git" / "basics.sel", LIBRARY)
    # Three folders below is too far.
    _write(tmp_path / "a" / "b" / "c" / "basics.sel", LIBRARY)
    assert fragment_homes("start_basics", str(spec)) == ["include/basics.sel",
                                                         "lib/include/basics.sel"]
    assert fragment_homes("other", str(spec)) == []


def test_an_unknown_fragment_names_the_use_to_add(tmp_path):
    spec = _write(tmp_path / "d.sel", SPEC.format(use=""))
    _write(tmp_path / "include" / "basics.sel", LIBRARY)
    with pytest.raises(DiagnosticError) as err:
        lower(load(str(spec)), small_kb())
    (diag,) = err.value.diagnostics
    assert diag.code == "SEL213"
    assert diag.hint == ("add 'use \"include/basics.sel\"' at the top of d.sel: that file "
                         "defines fragment 'start_basics'")


@pytest.mark.parametrize("written, meant", [
    ("include/basic.sel", "include/basics.sel"),     # the file
    ("includes/basics.sel", "include/basics.sel"),   # the folder
    ("inclde/basic.sel", "include/basics.sel"),      # both
    ("include/basics", "include/basics.sel"),        # the extension
])
def test_a_misspelt_use_path_names_the_closest_library(tmp_path, written, meant):
    _write(tmp_path / "include" / "basics.sel", LIBRARY)
    _write(tmp_path / "include" / "broken.sel", SPEC.format(use=""))  # a spec, not a library
    spec = _write(tmp_path / "d.sel", SPEC.format(use=f'use "{written}"\n'))
    with pytest.raises(DiagnosticError) as err:
        load(str(spec))
    (diag,) = err.value.diagnostics
    assert diag.code == "SEL214" and diag.hint == f'did you mean "{meant}"?'


def test_a_use_path_with_nothing_close_keeps_the_general_hint(tmp_path):
    spec = _write(tmp_path / "d.sel", SPEC.format(use='use "nothing/here.sel"\n'))
    with pytest.raises(DiagnosticError) as err:
        load(str(spec))
    assert err.value.diagnostics[0].hint == ("a 'use' path is relative to the directory of "
                                             "the file that uses it")
