# One entry point for a fresh machine: `make demo`, `make test` (what CI runs), and
# `make docs`, `make bench`. Each creates .venv (Python 3.11+) and installs adamx with
# only the extra it needs, at the versions CI tested (constraints.txt; `make lock`
# refreshes them).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
INSTALLED = $(VENV)/.installed-$(1)-$(HASH)
# The site, warnings as errors (the test extra includes the docs extra).
SPHINX = $(BIN)/python -m sphinx -b html -W --keep-going -q docs docs/_build/html \
  && echo "Site built: docs/_build/html/index.html"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# .venv/.installed-<extra>-<hash>: adamx and that extra, installed with pip's progress shown.
$(VENV)/.installed-%-$(HASH): pyproject.toml constraints.txt | $(BIN)/python
	@echo "Installing adamx[$*] into $(VENV) (versions from constraints.txt)..."
	$(BIN)/python -m pip install --constraint constraints.txt --editable '.[$*]'
	touch $@

.PHONY: demo test docs bench lock
demo: $(call INSTALLED,demo)
	$(BIN)/python -m adamx.demo

test: $(call INSTALLED,test)
	$(BIN)/python -m pytest -n 2 --durations=15
	$(SPHINX)

docs: $(call INSTALLED,docs)
	$(SPHINX)

bench: $(call INSTALLED,test)
	$(BIN)/python -m benchmarks.run

# Re-resolves every extra at the newest versions PyPI offers and writes them to
# constraints.txt (local version labels such as torch's +cpu dropped). Run monthly
# by .ci/refresh-lock, which keeps the new file only if the suite passes with it.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install '.[test,demo,docs]'
	echo "# The versions CI tested; written by make lock (see README), used by the Makefile." \
	  > constraints.txt
	.venv-lock/bin/python -m pip freeze --exclude-editable \
	  | grep -v -i '^adamx' | sed -E 's/\+[a-z0-9.]+$$//' >> constraints.txt
	rm -rf .venv-lock
