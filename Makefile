# The two commands a newcomer needs: `make serve` and `make test`.
# Each sets up the project's own virtual environment first (idempotent, fast when done).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
DATA   ?= ./seatflow-data

.PHONY: setup setup-test serve test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

serve: setup
	$(BIN)/seatflow serve --host $(HOST) --port $(PORT) --data $(DATA)

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: setup-test
	$(BIN)/pytest bench --benchmark-only

clean:
	rm -rf $(VENV) .benchmarks .hypothesis
