# Townhall developer commands. The README's two commands are `make run` and `make test`;
# both work on a clean clone: they create .venv, install the project and (for tests) start
# PostgreSQL and Redis and install Chromium if the machine lacks them.
#
#   make run     serve the Summit on http://127.0.0.1:8000 (SQLite, no Redis needed)
#   make test    the whole suite; PYTEST_ARGS="tests/test_settings.py -x" narrows it
#   make resilience  the fault scenarios of tests/resilience, each printing its figure
#   make check   ruff format --check, ruff check, the layering contract
#   make audit   pip-audit over .venv; needs PyPI's per-release JSON API (not part of test)
#   make bench   fan-out benchmark, Townhall against Node socket.io (docs/performance.md)
#   make messages  extract the interface's messages and merge them into the fr/tr catalogues
#   make clean   remove caches, build output and the local SQLite demo database
#
# `make run` pins the event clock ten minutes before Thematic workshop 1 (16:00 in Izmir on
# 8 December 2021), so the rooms are about to open. Another instant:
#     make run TOWNHALL_NOW=2021-12-08T17:40:00+03:00
# The real clock: give it empty. townhall/settings.py treats an empty TOWNHALL_* as unset.
#     make run TOWNHALL_NOW=

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# One stamp per install flavour, redone only when pyproject.toml changes.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

# `?=` keeps a value the caller gave, empty included (`make run TOWNHALL_NOW=`).
TOWNHALL_NOW ?= 2021-12-08T15:50:00+03:00
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: help run test resilience check audit bench clean messages

help:
	@sed -n 's/^#   make /  make /p' $(firstword $(MAKEFILE_LIST))

# --upgrade-deps: the pip and setuptools a Python ships with may carry known advisories.
$(PY):
	$(PYTHON) -m venv --upgrade-deps $(VENV) || { rm -rf $(VENV); exit 1; }

$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

# A secret key kept in .env (git ignores it), so invitation links and cookies survive restarts.
run: $(RUN_STAMP)
	@test -f .env || { echo "TOWNHALL_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))')" > .env; \
	  echo "make run: wrote a new TOWNHALL_SECRET_KEY to .env"; }
	TOWNHALL_NOW='$(TOWNHALL_NOW)' $(VENV)/bin/townhall serve --setup

# Lint and format first (cheap, and CI runs this target), then every test.
test: $(TEST_STAMP)
	$(VENV)/bin/ruff format --check --quiet .
	$(VENV)/bin/ruff check --quiet .
	bash scripts/ensure-services.sh
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The resilience suite alone (also part of `make test`), with each scenario's figure printed.
resilience: $(TEST_STAMP)
	bash scripts/ensure-services.sh
	$(VENV)/bin/pytest tests/resilience -s -q $(PYTEST_ARGS)

# Runs every check even after one fails, then names the ones that failed.
check: $(TEST_STAMP)
	@failed=""; \
	echo "== ruff format --check ."; $(VENV)/bin/ruff format --check . || failed="$$failed format"; \
	echo "== ruff check ."; $(VENV)/bin/ruff check . || failed="$$failed lint"; \
	echo "== pytest tests/test_layering.py"; \
	$(VENV)/bin/pytest -q tests/test_layering.py || failed="$$failed layering"; \
	if [ -n "$$failed" ]; then echo "make check: FAILED:$$failed" >&2; exit 1; fi; \
	echo "make check: all passed"

# pip-audit's default service asks https://pypi.org/pypi/NAME/VERSION/json for advisories.
# Where that API is not served (a registry mirror), pip-audit reports every package as "not
# found" and still exits 0, so probe it first and refuse to call an unaudited tree clean;
# --strict also fails on any package it could not look up.
AUDIT_PROBE := import urllib.request; from importlib.metadata import version; \
	url = "https://pypi.org/pypi/pip/" + version("pip") + "/json"; \
	urllib.request.urlopen(url, timeout=20).read(1)

audit: $(TEST_STAMP)
	@if ! reason=$$($(PY) -c '$(AUDIT_PROBE)' 2>&1 | tail -n 1); then \
	  echo "make audit: NOT AUDITED: pip-audit cannot reach its vulnerability database," \
	    "PyPI's per-release JSON API (https://pypi.org/pypi/NAME/VERSION/json): $$reason" >&2; \
	  exit 2; \
	fi
	$(VENV)/bin/pip-audit --local --skip-editable --strict --progress-spinner off

# bench/fanout.py installs the Node peer (npm ci in bench/peer) the first time it needs it.
# Narrow or widen it with BENCH_ARGS, e.g. make bench BENCH_ARGS="--sizes 1000,5000,10000";
# BENCH_ARGS=--quick is the smoke mode. bench/fanout_smoke.py (embedded mode) runs on its own.
bench: $(TEST_STAMP)
	bash scripts/ensure-services.sh
	$(PY) bench/fanout.py $(BENCH_ARGS)

# The catalogues are the .po files (read at start-up, nothing to compile). After changing a
# message in a template, a Python module or a JS module: `make messages`, then translate
# the new entries in townhall/web/locale/{fr,tr}/LC_MESSAGES/messages.po;
# tests/web/test_catalogues.py fails until both are complete.
LOCALE := townhall/web/locale
messages: $(TEST_STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k t -k tn:1,2 --add-location file \
	  --sort-by-file --no-wrap --project Townhall --copyright-holder "Townhall contributors" \
	  -o $(LOCALE)/messages.pot .
	$(VENV)/bin/pybabel update -D messages -i $(LOCALE)/messages.pot -d $(LOCALE) \
	  --no-wrap --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date

# Leaves .venv alone (rm -rf .venv for a full reset); townhall.db is the `make run` demo
# database, which the next `make run` loads again.
clean:
	rm -rf .pytest_cache .ruff_cache .mypy_cache build dist *.egg-info
	rm -f townhall.db townhall.db-journal townhall.db-wal townhall.db-shm
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
