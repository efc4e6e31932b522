"""``selkit patch`` results: the patches written (or printed), or, with --check, which
committed patches differ from their regeneration."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from selkit.patch.requests import SeriesRun
from selkit.patch.series import Slot
from selkit.report.format import Block, Report


def _patch_data(slot: Slot, path: str | None) -> dict:
    name, _, hook = slot.generated()
    return {"name": name, "spec": slot.request.spec, "daemon": slot.request.daemon,
            "number": slot.number, "path": path, "file": hook.path,
            "adds_header": hook.header_text is not None,
            "changes": [{"line": p.line, "what": p.description,
                         "spec_line": p.origin.span.line,
                         "at": f"{p.origin.span.path}:{p.origin.span.line}"}
                        for p in hook.placements]}


@dataclass(frozen=True)
class PatchReport(Report):
    """The generated patches: where each was written (``written``, empty when printed) and,
    when not written, the patch text itself."""

    run: SeriesRun
    written: Sequence[str] = ()
    schema = "patch"

    def data(self) -> dict:
        paths = dict(zip(sorted(s.generated()[0] for s in self.run.done), self.written,
                         strict=False))
        return {"written": list(self.written), "removed": self.run.obsolete(),
                "patches": [{**_patch_data(s, paths.get(s.generated()[0])),
                             **({} if self.written else {"text": s.text})}
                            for s in self.run.done]}

    def blocks(self) -> list[Block]:
        out: list[Block] = []
        for slot, path in zip(sorted(self.run.done, key=lambda s: s.generated()[0]),
                              self.written, strict=False):
            hook = slot.generated()[2]
            out.append(f"{path}: from {slot.request.spec}, {len(hook.placements)} changes in "
                       f"{hook.path}" + (", adds setcon_fd.h" if hook.header_text else ""))
        return out


def _diff(slot: Slot) -> str:
    before = slot.replaces.text.splitlines(keepends=True) if slot.replaces else []
    return "".join(difflib.unified_diff(
        before, slot.generated()[1].splitlines(keepends=True),
        f"committed/{slot.replaces.name if slot.replaces else slot.name}",
        f"generated/{slot.name}", n=2))


@dataclass(frozen=True)
class PatchCheckReport(Report):
    """``selkit patch --check``: each patch up to date or not, and the differences."""

    run: SeriesRun
    schema = "patch-check"

    @property
    def ok(self) -> bool:
        """Every committed patch is what the specs generate."""
        return not self.run.stale()

    def data(self) -> dict:
        return {"up_to_date": self.ok,
                "stale": [{"name": s.name, "spec": s.request.spec, "daemon": s.request.daemon,
                           "committed": s.replaces.name if s.replaces else None}
                          for s in self.run.stale()]}

    def blocks(self) -> list[Block]:
        stale = self.run.stale()
        out: list[Block] = [f"{s.name}: {'differs' if s in stale else 'up to date'} "
                            f"(from {s.request.spec})" for s in self.run.slots]
        for slot in stale:
            diff = _diff(slot)
            if diff:
                out.append(diff[:-1] if diff.endswith("\n") else diff)
        return out
