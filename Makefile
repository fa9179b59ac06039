# One entry point for a fresh machine: `make test`, `make demo`, `make bench`.
# Each creates .venv (Python 3.11+), installs adamx with its extras, and runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,demo]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

.PHONY: install test demo bench
install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --durations=15

demo: $(STAMP)
	$(BIN)/python -m adamx.demo

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run
