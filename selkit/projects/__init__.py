"""The upstream daemon projects: Debian orig tarballs, the vendor-patches series, real builds
(layer 4).

``build(project, patched=True)`` returns a cached :class:`Build`; ``new_warnings`` compares two
builds' compiler warnings; each :class:`Project` carries the fail-closed checks a patched daemon
must pass on a kernel without SELinux. Nothing here prints.
"""

from selkit.projects.build import (
    Build,
    apply_series,
    build,
    cache_key,
    cache_root,
    debian_binary,
    fetch_orig,
    missing_build_depends,
    series,
    settle_timestamps,
    unpack,
)
from selkit.projects.checks import CheckRun, free_port, run_check
from selkit.projects.compile_warnings import new_warnings, parse_warnings
from selkit.projects.recipes import CHECK_CONTEXT, PROJECTS, FailClosedCheck, Project, project

__all__ = [
    "Build", "CHECK_CONTEXT", "CheckRun", "FailClosedCheck", "PROJECTS", "Project",
    "apply_series", "build", "cache_key", "cache_root", "debian_binary", "fetch_orig",
    "free_port", "missing_build_depends", "new_warnings", "parse_warnings", "project",
    "run_check", "series", "settle_timestamps", "unpack",
]
