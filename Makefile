# selkit: the two commands of the README are `make demo` and `make test`; both set up first.
VENV := .venv
PY := $(VENV)/bin/python
SELKIT := $(VENV)/bin/selkit
POLICIES := $(filter-out policies/include/%,$(wildcard policies/*.sel))
OUT := out

.PHONY: setup demo test bench clean

setup:
	@sh scripts/setup.sh
	@sh scripts/vendor-deps.sh

# Compile every shipped policy, install the .pp and the .cil forms into copies of the Debian
# refpolicy store (never the live one), then prove each steady domain with both engines.
demo: setup
	$(SELKIT) compile $(POLICIES) -o $(OUT) --install
	$(SELKIT) prove --engine both --sechecker-ini $(OUT)/sechecker.ini $(POLICIES)

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/compile_vs_refpolicy.py
	$(PY) bench/prove_vs_sechecker.py

clean:
	rm -rf $(OUT) build .pytest_cache .hypothesis
