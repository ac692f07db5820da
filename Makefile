# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ORACLE := $(VENV)/oracle
# axe-core for the accessibility checks of the e2e tests (npm registry, kept next to the venv)
AXE_VERSION := 4.14.1
AXE := $(VENV)/.axe-installed

.PHONY: demo test lint typecheck unit system-deps bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/pip check
	# pycanon pins old scipy/typer exactly; it is a test oracle only, kept outside site-packages
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --target $(ORACLE) \
		pycanon==1.3.6 beartype==0.22.2 tabulate==0.8.10
	touch $(STAMP)

# axe-core only for the tests (the demo does not need npm)
$(AXE): $(STAMP)
	@command -v npm >/dev/null || { echo "npm is needed to install axe-core for the accessibility tests (apt-get install -y npm)" >&2; exit 1; }
	npm install --prefix $(VENV)/node --no-audit --no-fund --silent axe-core@$(AXE_VERSION)
	touch $(AXE)

demo: $(STAMP)
	$(BIN)/steward demo

system-deps:
	@bash scripts/system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(AXE)
	$(BIN)/pytest $(PYTEST_ARGS)

test: system-deps $(STAMP) $(AXE)
	$(MAKE) --no-print-directory lint typecheck unit

bench: $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[bench]'
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
