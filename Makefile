# The two commands of the README: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/zhuisu demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

check: test
	$(BIN)/python -m mypy --ignore-missing-imports graph ingest ontology

bench: $(STAMP)
	$(BIN)/python bench/trace_bench.py --units 100000

clean:
	rm -rf $(VENV) build *.egg-info zhuisu.db zhuisu.db-*
