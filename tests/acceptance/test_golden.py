"""Golden files per pipeline stage for every shipped policy: AST, IR, then each emitted file.

Run ``pytest --update-golden`` after an intended change and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import POLICIES, ROOT
from selkit.compiler import compile_modules, front_end
from selkit.dsl.parser import parse
from selkit.dump import dump
from selkit.emit import Target

GOLDEN = ROOT / "tests" / "golden"


def _stages(path: Path, kb) -> dict[str, str]:
    rel = str(path.relative_to(ROOT))
    text = path.read_text()
    stages = {"ast.txt": dump(parse(text, rel))}
    _, modules = front_end(rel, kb, text)
    stages["ir.txt"] = dump(list(modules))
    for item in compile_modules(modules, kb, (Target.TE, Target.CIL)):
        for name, data in item.files.items():
            stages[name] = data.decode()
    return stages


@pytest.mark.parametrize("policy", POLICIES, ids=[p.stem for p in POLICIES])
def test_pipeline_stages_match_golden(policy, kb, update_golden, monkeypatch):
    monkeypatch.chdir(ROOT)
    folder = GOLDEN / policy.stem
    stages = _stages(policy, kb)
    if update_golden:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*"):
            old.unlink()
        for name, text in stages.items():
            (folder / name).write_text(text)
        return
    assert sorted(p.name for p in folder.glob("*")) == sorted(stages), \
        "stage files differ; run pytest --update-golden"
    for name, text in stages.items():
        assert text == (folder / name).read_text(), f"{policy.stem}/{name} differs from golden"
