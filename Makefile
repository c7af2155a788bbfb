# The two commands of the README: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/zhuisu demo

# Neo4j's own Cypher linter (npm) checks every statement zhuisu emits; without npm those tests skip.
tests/cypher/node_modules: tests/cypher/package-lock.json
	command -v npm >/dev/null && npm ci --prefix tests/cypher --no-audit --no-fund || true

test: $(STAMP) tests/cypher/node_modules
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/zhuisu bench --units 100000

clean:
	rm -rf $(VENV) build *.egg-info zhuisu.db zhuisu.db-*
