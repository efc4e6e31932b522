# selkit: the two commands of the README are `make demo` and `make test`; both set up first.
VENV := .venv
PY := $(VENV)/bin/python
SELKIT := $(VENV)/bin/selkit
POLICIES := $(filter-out policies/include/%,$(wildcard policies/*.sel))
OUT := out

.PHONY: setup setup-core demo check test lint lab patches bench clean install uninstall

# setup-core (scripts/setup.sh) is what selkit itself needs: Debian's SELinux userspace,
# SETools and refpolicy, and .venv with selkit and its test and dev extras. setup adds what the
# test suite needs: the vendor builds' dependencies (gcc and headers, which some quick tests
# compile C with), the lab's qemu and the browser of the HTML test. A second run only checks.
setup: setup-core
	@sh scripts/vendor-deps.sh
	@sh scripts/lab-deps.sh
	@sh scripts/browser-deps.sh

setup-core:
	@sh scripts/setup.sh

# Compile every shipped policy, install the .pp and the .cil forms into copies of the Debian
# refpolicy store (never the live one), then prove each steady domain with both engines.
# Only setup-core: the demo builds no daemon, boots no VM and opens no browser.
demo: setup-core
	$(SELKIT) compile $(POLICIES) -o $(OUT) --install
	$(SELKIT) prove --engine both --sechecker-ini $(OUT)/sechecker.ini $(POLICIES)
	@echo
	@echo "selkit is $(SELKIT), not on PATH: run it as $(SELKIT) COMMAND ..., or put it"
	@echo "on PATH in this shell with '. $(VENV)/bin/activate' and run selkit COMMAND ..."

# semodule -i NAME.sel: libsemanage runs $(HLL_DIR)/sel for a module file ending in .sel
# (docs/hll.md). One symlink to the venv's selkit-hll-sel; `make uninstall` removes it (only
# if it is still this checkout's link). Modules already installed keep their CIL in the store.
HLL_DIR := /usr/libexec/selinux/hll
HLL_SEL := $(CURDIR)/$(VENV)/bin/selkit-hll-sel
install: setup-core
	install -d $(HLL_DIR)
	ln -sf $(HLL_SEL) $(HLL_DIR)/sel
	@echo "installed $(HLL_DIR)/sel -> $(HLL_SEL)"

uninstall:
	@if [ "$$(readlink $(HLL_DIR)/sel)" = "$(HLL_SEL)" ]; then rm $(HLL_DIR)/sel && \
	  echo "removed $(HLL_DIR)/sel"; else echo "$(HLL_DIR)/sel is not a link to $(HLL_SEL): left alone"; fi

# The quick loop: ruff, mypy, then the parser, IR, passes, emitters, the prover's logic (on the
# tiny base policies of tests/data/tiny) and the command line: every test not marked toolchain,
# vendor, lab or slow (tests/conftest.py marks them). Under two minutes on two cores, cold.
CHECK_MARKERS := not toolchain and not vendor and not lab and not slow
check: lint
	$(PY) -m pytest -q -m "$(CHECK_MARKERS)"

# Everything, the lab included (tests/lab/test_lab.py boots the enforcing VM for all five
# daemons), on every core: one test module per worker at a time, the longest first.
test: lint
	$(PY) -m pytest -q -n auto --dist loadfile

# ruff with the rules of pyproject.toml, then mypy over the package.
lint: setup
	$(PY) -m ruff check selkit tests bench
	$(PY) -m mypy

# Every shipped daemon under an enforcing kernel: real traffic and the attack battery.
lab: setup
	$(SELKIT) lab all --suggest

# Check that every generated vendor patch is what its spec generates today.
patches: setup
	$(PY) -m pytest -q tests/patch/test_patch.py -k regenerate

bench: setup
	$(PY) bench/compile_vs_refpolicy.py
	$(PY) bench/prove_vs_sechecker.py
	$(PY) bench/audit_diff_vs_sediff.py
	$(PY) bench/audit_all.py
	$(PY) bench/seccomp_filter.py
	$(PY) bench/prove_seccomp_cost.py

clean:
	rm -rf $(OUT) build .pytest_cache .hypothesis
