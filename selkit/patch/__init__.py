"""``selkit patch``: the setcon() hook generated from a spec's switch, as a git format-patch
mail on top of a project's hand-written patches (layer 5).

:mod:`~selkit.patch.anchor` finds the spec's anchors in the C source, :mod:`~selkit.patch.hook`
turns them into edits and renders ``setcon_fd.h``, :mod:`~selkit.patch.style` formats them as
the project does (clang-format), :mod:`~selkit.patch.buildlists` lists new headers in the build
files, :mod:`~selkit.patch.udiff` writes git-style diffs, :mod:`~selkit.patch.mail` the mail,
:mod:`~selkit.patch.series` puts it in the series, :mod:`~selkit.patch.cover` writes the
series' cover letter.
"""

from selkit.patch.anchor import Located, locate
from selkit.patch.hook import Hook, apply_edits, code_only, plan, render_header, require_hook
from selkit.patch.mail import DEFAULT_DATE, format_patch, git_identity, read_mail
from selkit.patch.series import (
    Request,
    SeriesPatch,
    Slot,
    apply_patch,
    generate,
    generated_daemon,
    plan_series,
    read_series,
    series_total,
)
from selkit.patch.udiff import diff_file, diffstat

__all__ = [
    "DEFAULT_DATE", "Hook", "Located", "Request", "SeriesPatch", "Slot",
    "apply_edits", "apply_patch", "code_only", "diff_file", "diffstat", "format_patch",
    "generate", "generated_daemon", "git_identity", "locate", "plan", "plan_series",
    "read_mail", "read_series", "render_header", "require_hook", "series_total",
]
