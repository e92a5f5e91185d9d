# Linli: two commands on a fresh machine with Python 3.11, pip and make.
#   make demo   install, migrate, seed the demo community, serve at http://127.0.0.1:8000
#   make test   install and run every test

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test install install-dev bench messages clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Linli needs Python 3.11; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt pyproject.toml
	$(PIP) install -r requirements.txt
	$(PIP) install --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

# axe-core for the browser tests' accessibility checks, from the npm registry, pinned by
# package-lock.json. Only where npm exists: on a machine with Python alone the axe checks
# skip and say why (CI, which sets LINLI_REQUIRE_BROWSER, fails instead).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the axe-core accessibility checks will skip"; fi

install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/linli demo

test: install-dev node_modules/.installed
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: install-dev
	$(BIN)/python bench/seed_bench.py
	$(BIN)/python bench/lookup_bench.py

messages: install-dev
	$(BIN)/python tools/compile_messages.py

clean:
	rm -rf $(VENV) .pytest_cache node_modules
