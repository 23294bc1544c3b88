# Punchcard: `make demo` and `make test` are the two commands; both set everything up first.
# The interpreter the virtual environment is made from: Debian's python3.11 where there is one.
# It is built with profile-guided and link-time optimisation, with libpython linked in; a
# default pyenv build has neither and ran the earning path's Python a fifth slower
# (docs/performance.md, item 35). Any python3 of 3.11 or newer works: `make PYTHON=python3.12`.
PYTHON ?= $(firstword $(wildcard /usr/bin/python3.11) python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := src/punchcard/web/static/vendor
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: install compile browser tools demo test lint typecheck unit reliability-short reliability bench serve clean

install: $(STAMP) compile

# The earn planner's pure modules compiled to C by mypyc, next to their sources, when their
# build is stale (punchcard/compiled.py; docs/performance.md, item 38). Without a C compiler,
# or if mypyc fails, it says so and the planner runs as plain Python. Then every module's
# bytecode, as pip writes it for an installed package: where PYTHONDONTWRITEBYTECODE is set,
# each process would otherwise compile the sources it imports (0.1 s of every command's start).
compile: $(STAMP)
	$(BIN)/python -c "from punchcard.compiled import build; print(build())"
	$(BIN)/python -m compileall -q src/punchcard

# The browser scripts (htmx, Chart.js) come from the npm registry at set-up, pinned by
# assets/package-lock.json, and are served from the server itself: nothing third-party is
# committed and no page loads anything from elsewhere.
$(STAMP): pyproject.toml assets/package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || (rm -rf $(VENV) && python3 -m venv $(VENV))
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	cd assets && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp assets/node_modules/htmx.org/dist/htmx.min.js assets/node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/
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

# The browser tests drive Debian's Chromium; the Noto fonts draw Georgian and Gujarati.
browser:
	(command -v chromium >/dev/null && fc-list | grep -qi 'gujarati' && fc-list | grep -qi 'georgian') \
		|| (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-core)

unit: install browser
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
	rm -rf $(VENV) $(VENDOR) assets/node_modules test-artifacts .pytest_cache .mypy_cache .ruff_cache punchcard.db*
	find src -name '*.so' -delete
	rm -f src/punchcard/compiled.json
