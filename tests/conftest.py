"""Shared test fixtures: the golden-file flag, the real base policy, repository paths, and the
markers that split the suite into ``make check`` (unmarked tests) and ``make test`` (all).

Markers are applied here, from what a test uses, so test files need no marks of their own:

* ``toolchain``: the installed Debian refpolicy (the ``kb`` fixture, its store) or the SELinux
  userspace tools run on it (``needs_tools``); secilc on the tiny policies of tests/data/tiny
  is not (it takes milliseconds);
* ``vendor``: real daemon sources and their builds;
* ``lab``: the qemu lab, busybox or the attack probe;
* ``slow``: more than a few seconds without any of the above.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# `selkit patch` authors a new patch as the user's git identity and refuses to run without one;
# a CI clone may have none, so the suite brings its own (a test that needs none clears it).
os.environ.setdefault("GIT_AUTHOR_NAME", "Selkit Test Suite")
os.environ.setdefault("GIT_AUTHOR_EMAIL", "suite@selkit-tests.name")
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


@pytest.fixture(scope="session")
def lab_probe(tmp_path_factory) -> Path:
    """The lab's attack probe, compiled (skips without gcc)."""
    import shutil

    from selkit.lab.battery import build_probe

    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SELKIT_CACHE", str(tmp_path_factory.mktemp("probe-cache")))
        return build_probe()


@pytest.fixture(scope="session")
def shipped_specs(kb):
    """(programs, modules) of every shipped spec, compiled once."""
    from selkit.compiler import front_end

    programs, modules = [], []
    for name in ("hts", "iodine", "iodined", "openvpn", "ptunnel"):
        program, mods = front_end(str(ROOT / "policies" / f"{name}.sel"), kb)
        programs.append(program)
        modules.extend(mods)
    return programs, modules


def _run_folder(tmp_path_factory) -> Path:
    """A folder of this test run that every pytest-xdist worker shares (the run's base
    temporary directory; a worker's own is one level below it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def linked(tmp_path_factory):
    """``linked(*modules, cil=None, expand_check=False) -> (policy, path)``: the modules (or,
    for one module, the given CIL) linked together into a copy of the Debian store in one
    transaction, once per test run.

    A link is the slow step of the prover's acceptance tests; test_prove_mutations.py and
    test_sechecker.py link the same mutants and shipped policies. The kernel policy of each
    link is kept in a folder the run's workers share, under a lock, so a link made by one
    worker is read (not made again) by the others."""
    import fcntl
    import hashlib

    from selkit.analysis.views import link_candidates
    from selkit.base import load_policy
    from selkit.emit import CilEmitter

    folder = _run_folder(tmp_path_factory) / "linked"
    folder.mkdir(exist_ok=True)
    done: dict[str, tuple[object, Path]] = {}

    def link(*modules, cil: str | None = None, expand_check: bool = False):
        texts = {m.name: CilEmitter().emit(m).text() for m in modules}
        if cil is not None:
            (only,) = modules
            texts[only.name] = cil
        key = hashlib.sha256(repr((sorted(texts.items()), expand_check)).encode()).hexdigest()
        if key not in done:
            path = folder / f"policy-{key[:16]}.33"
            with open(folder / f"{key[:16]}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if path.exists():
                    policy = load_policy(str(path))
                else:
                    policy = link_candidates(texts, list(modules), expand_check=expand_check,
                                             save_to=str(path))
            done[key] = (policy, path)
        return done[key]
    return link


@pytest.fixture(scope="session")
def mutants(kb, linked):
    """Every kind of mutation of test_prove_mutations.py, each on its own renamed copy of hts,
    all linked in one store transaction: name -> (spec, mutant, policy, policy path). Used by
    that file and test_sechecker.py."""
    sys.path.insert(0, str(Path(__file__).parent / "prove"))  # also when only tests/audit runs
    from test_prove_mutations import MUTATIONS, hts_as

    specs = {name: hts_as(f"hts{i}", kb) for i, name in enumerate(sorted(MUTATIONS))}
    built = {name: MUTATIONS[name][0](spec) for name, spec in specs.items()}
    policy, path = linked(*built.values())
    return {name: (specs[name], built[name], policy, path) for name in specs}


@pytest.fixture
def cli():
    """Run ``selkit``: ``cli(*args)`` in this process, ``cli.process(*args)`` as a real process
    (tests/selkit_cli.py); each gives returncode, stdout and stderr."""
    from selkit_cli import Cli

    return Cli()


@pytest.fixture(scope="session")
def tiny_policy(tmp_path_factory) -> Path:
    """tests/data/tiny/base.cil compiled with secilc: a base policy of a few rules (no store)."""
    from tiny import compile_cil

    return compile_cil(tmp_path_factory.mktemp("tiny-policy") / "policy.33")


NEEDS_TOOLS_REASON = "missing tools: "


def needs_tools(*names: str):
    """Skip unless every named SELinux userspace tool is installed (marks ``toolchain`` too)."""
    missing = [n for n in names if shutil.which(n) is None and not os.path.exists(f"/usr/sbin/{n}")]
    return pytest.mark.skipif(bool(missing), reason=NEEDS_TOOLS_REASON + ", ".join(missing))


#: Fixtures that put a test in a tier.
FIXTURE_MARKERS = {
    "kb": "toolchain",        # the Debian refpolicy's knowledge base
    "busybox": "lab",
    "probe": "lab",           # the attack probe, compiled with gcc and run on this host
    "host_run": "lab",
}

#: Modules whose tests reach the Debian policy, the tools or the lab without such a fixture
#: (a subprocess ``selkit`` on the default base, ``load_kb()`` called directly, ...).
MODULE_MARKERS = {
    "test_adversarial": "toolchain",
    "test_against": "toolchain",
    "test_audit_formats": "toolchain",
    "test_base_choice": "toolchain",
    "test_error_corpus": "toolchain",
    "test_examples": "toolchain",
    "test_golden": "toolchain",
    "test_html_browser": "toolchain",     # a real selkit audit on the Debian policy
    "test_pipes": "toolchain",
    "test_properties": "toolchain",
    "test_prove_mutations": "toolchain",
    "test_reference": "toolchain",
    "test_sechecker": "toolchain",
    "test_selint": "toolchain",
    "test_store_model": "toolchain",
    "test_toolchain": "toolchain",
    "test_cli": "toolchain",
    "test_new_command": "toolchain",   # selkit new on Debian programs, the store's modules
    "test_hll": "toolchain",   # the real semodule -i NAME.sel into copies of the Debian store
    "test_lab": "lab",
    "test_lab_initramfs": "lab",
    "test_lab_scenarios": "lab",
    "test_vendor": "vendor",
    "test_iodine_advisory": "vendor",  # builds iodine's master snapshot and runs its tests
}

#: Parameters that name a real daemon's source tree.
VENDOR_PARAMETERS = ("project",)

#: Single tests of other modules that reach the Debian policy without a fixture.
TEST_MARKERS = {
    "test_syscall_table.py::test_the_generator_reproduces_the_table_byte_for_byte": "toolchain",
}


def _tiers(item) -> set[str]:
    tiers = {FIXTURE_MARKERS[f] for f in getattr(item, "fixturenames", ()) if f in FIXTURE_MARKERS}
    module = item.path.stem
    if module in MODULE_MARKERS:
        tiers.add(MODULE_MARKERS[module])
    if any(m.kwargs.get("reason", "").startswith(NEEDS_TOOLS_REASON)
           for m in item.iter_markers("skipif")):
        tiers.add("toolchain")
    params = getattr(getattr(item, "callspec", None), "params", {})
    if any(p in params for p in VENDOR_PARAMETERS):
        tiers.add("vendor")
    key = f"{item.path.name}::{getattr(item, 'originalname', item.name)}"
    if key in TEST_MARKERS:
        tiers.add(TEST_MARKERS[key])
    return tiers


#: Under pytest-xdist (``make test`` runs ``-n auto --dist loadfile``) a test module is one
#: unit of work, so its module-scoped fixtures are built once; session fixtures worth sharing
#: between modules keep their result in a folder all workers share (see ``linked``). These
#: longest modules are handed to the workers first, so that no worker starts one at the end
#: (measured with --durations: the lab's VM boots, the mutants' proofs, the sechecker runs,
#: the adversarial corpus, sediff in the audit's differential test, the store links of the
#: toolchain and base-choice tests, the deployment guide's semodule sessions, the upstream CI
#: builds).
LONGEST_FIRST = ("test_lab", "test_sechecker", "test_prove_mutations", "test_adversarial",
                 "test_diff_debian", "test_audit_versions", "test_audit_mutants",
                 "test_toolchain", "test_deploy_doc", "test_base_choice", "test_cli",
                 "test_new_command",
                 "test_hll",
                 "test_upstream_series",
                 "test_vendor",
                 "test_examples", "test_against")


def pytest_collection_modifyitems(config, items):
    """Apply the tier markers (see the module docstring); the longest modules first."""
    for item in items:
        for name in sorted(_tiers(item)):
            item.add_marker(getattr(pytest.mark, name))
    rank = {module: i for i, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))


# --- Hypothesis profiles (used by tests/acceptance/test_properties.py) -----------------
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
