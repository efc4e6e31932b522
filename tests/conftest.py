"""Shared test fixtures: the golden-file flag, the real base policy, repository paths."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted(p for p in (ROOT / "policies").glob("*.sel"))


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files from the current output instead of comparing")


@pytest.fixture
def update_golden(request) -> bool:
    """True when the run should rewrite golden files."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def kb():
    """The knowledge base of the real Debian refpolicy (skips if it is not installed)."""
    from selkit.base import DEFAULT_POLICY, load_kb

    if not os.path.exists(DEFAULT_POLICY):
        pytest.skip("selinux-policy-default is not installed (run make setup)")
    return load_kb()


def needs_tools(*names: str):
    """Skip unless every named SELinux userspace tool is installed."""
    missing = [n for n in names if shutil.which(n) is None and not os.path.exists(f"/usr/sbin/{n}")]
    return pytest.mark.skipif(bool(missing), reason=f"missing tools: {', '.join(missing)}")


# --- Hypothesis profiles (used by tests/test_properties.py) ---------------------------------
# CI=true: derandomized (the same examples every run, no example database), so a red CI run
# reproduces locally with CI=true and never flakes on a newly found example.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI") == "true":
    _hypothesis_settings.load_profile("ci")


@pytest.fixture(scope="session")
def busybox():
    """busybox-static's binary for the lab tests (downloaded into the cache once)."""
    from selkit.diagnostics import ToolchainError
    from selkit.lab.kernel import fetch_busybox

    try:
        return fetch_busybox()
    except ToolchainError as exc:
        pytest.skip(f"busybox-static not available: {exc.diagnostics[0].message}")
