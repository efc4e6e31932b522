"""``selkit patch`` results: the patches written (or printed), or, with --check, which
committed patches differ from their regeneration."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from selkit.patch.requests import SeriesRun
from selkit.patch.series import Slot
from selkit.patch.udiff import SOURCE_ENCODING
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

    def _paths(self) -> dict[str, str]:
        """File name -> the path it was written to."""
        return {PurePath(path).name: path for path in self.written}

    def data(self) -> dict:
        paths = self._paths()
        return {"written": list(self.written), "removed": self.run.obsolete(),
                "patches": [{**_patch_data(s, paths.get(s.generated()[0])),
                             **({} if self.written else {"text": s.text})}
                            for s in self.run.done]}

    def blocks(self) -> list[Block]:
        out: list[Block] = []
        paths = self._paths()
        for slot in sorted(self.run.done, key=lambda s: s.generated()[0]):
            name, _, hook = slot.generated()
            if name not in paths:
                continue
            out.append(f"{paths.pop(name)}: from {slot.request.spec}, "
                       f"{len(hook.placements)} changes in {hook.path}"
                       + (", adds setcon_fd.h" if hook.header_text else ""))
        out += [f"{path}: the cover letter" for path in paths.values()]
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
    letter: tuple[str, str] | None = None
    schema = "patch-check"

    def _committed_letter(self) -> str | None:
        if self.letter is None or self.run.series_dir is None:
            return None
        path = self.run.series_dir / self.letter[0]
        return path.read_bytes().decode(*SOURCE_ENCODING) if path.is_file() else None

    def _letter_ok(self) -> bool:
        return self.letter is None or self._committed_letter() == self.letter[1]

    @property
    def ok(self) -> bool:
        """Every committed patch (and the cover letter) is what the specs generate."""
        return not self.run.stale() and self._letter_ok()

    def data(self) -> dict:
        return {"up_to_date": self.ok,
                "stale": [{"name": s.name, "spec": s.request.spec, "daemon": s.request.daemon,
                           "committed": s.replaces.name if s.replaces else None}
                          for s in self.run.stale()],
                "cover_letter": None if self.letter is None else {
                    "name": self.letter[0], "up_to_date": self._letter_ok()}}

    def blocks(self) -> list[Block]:
        stale = self.run.stale()
        out: list[Block] = [f"{s.name}: {'differs' if s in stale else 'up to date'} "
                            f"(from {s.request.spec})" for s in self.run.slots]
        if self.letter is not None:
            out.append(f"{self.letter[0]}: "
                       f"{'up to date' if self._letter_ok() else 'differs'} (cover letter)")
        for slot in stale:
            diff = _diff(slot)
            if diff:
                out.append(diff[:-1] if diff.endswith("\n") else diff)
        if not self._letter_ok() and self.letter is not None:
            committed = (self._committed_letter() or "").splitlines(keepends=True)
            diff = "".join(difflib.unified_diff(
                committed, self.letter[1].splitlines(keepends=True),
                f"committed/{self.letter[0]}", f"generated/{self.letter[0]}", n=2))
            if diff:
                out.append(diff.rstrip("\n"))
        return out
