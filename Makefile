# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format venv chorales folk palestrina clean browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# The CPU build of PyTorch on Linux x86-64 (a bare `torch` would pull a CUDA build of several GB).
	if [ "$$(uname -s)-$$(uname -m)" = "Linux-x86_64" ]; then $(BIN)/python -m pip install -q torch==2.13.0; fi
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/segue demo --out demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy src

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

test: lint browser
	$(BIN)/python -m pytest -q

# The studio's browser test drives Debian's chromium: installed here where we can (root with
# apt-get); elsewhere that one test is skipped and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1 || \
	  { echo "installing Debian's chromium for the browser test"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1; } || \
	  echo "make: could not install chromium; the browser test will be skipped"

# Rebuild the bundled chorales from music21's corpus (needs the `build` extra).
chorales: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[build]'
	$(BIN)/python scripts/build_chorales.py

# Rebuild the bundled folk melodies (Essen, O'Neill, Aird) from music21's corpus (the `build` extra).
folk: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[build]'
	$(BIN)/python scripts/build_folk.py

# Rebuild the bundled Palestrina masses from music21's corpus (the `build` extra).
palestrina: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[build]'
	$(BIN)/python scripts/build_palestrina.py

clean:
	rm -rf $(VENV) demo build dist .pytest_cache .ruff_cache .mypy_cache
