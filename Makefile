# Punchcard: `make demo` and `make test` are the two commands; both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: install demo test lint typecheck unit bench serve clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/punchcard demo

serve: install
	$(BIN)/punchcard serve

lint: install
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations

typecheck: install
	$(BIN)/mypy

unit: install
	PUNCHCARD_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -n 2 -q

test: lint typecheck unit

bench: install
	PUNCHCARD_BENCH_POSTGRES_URL=$(PG_URL) $(BIN)/python -m bench.ledger
	PUNCHCARD_BENCH_POSTGRES_URL=$(PG_URL) $(BIN)/python -m bench.ingest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache punchcard.db*
