# Punchcard: `make demo` and `make test` are the two commands; both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: install tools demo test lint typecheck unit reliability-short reliability bench serve clean

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

# The load generator (wrk) and pgbench come from Debian's packages.
tools:
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	command -v pgbench >/dev/null || (apt-get update -qq && apt-get install -y -qq postgresql-client)

unit: install
	PUNCHCARD_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -n 2 --dist loadgroup -q -m "not reliability"

# Crash and fault tests restart servers (PostgreSQL too): they run alone, after the rest.
reliability-short: install
	PUNCHCARD_TEST_DATABASE_URL=$(PG_URL) PUNCHCARD_RELIABILITY=short $(BIN)/pytest -q -m reliability tests/reliability

reliability: install
	PUNCHCARD_TEST_DATABASE_URL=$(PG_URL) PUNCHCARD_RELIABILITY=full $(BIN)/pytest -q -m reliability tests/reliability

test: lint typecheck unit reliability-short

bench: install tools
	PUNCHCARD_BENCH_POSTGRES_URL=$(PG_URL) $(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache punchcard.db*
