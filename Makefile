# Two commands set everything up on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint typecheck pytest coverage install translations serve bench-import bench-eligibility bench-seals bench-pages bench-enforcement bench-transits bench-load bench-staleness bench-forms bench-lighthouse screenshots clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

translations: $(STAMP)
	@if [ -d ztl/translations ]; then $(BIN)/pybabel compile -d ztl/translations >/dev/null; fi

run: install translations
	$(BIN)/ztl db upgrade
	$(BIN)/ztl keys init
	$(BIN)/ztl demo load
	$(BIN)/ztl static build
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile - "ztl:create_app()"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/vulture ztl tests tools/vulture_whitelist.py

typecheck: install
	$(BIN)/mypy

# The slowest tests are listed at the end, to keep the whole run near 15-20 minutes on 2 cores.
pytest: install translations
	$(BIN)/pytest --durations=25

# The same tests with branch coverage (about a third slower, hence not part of `make test`).
coverage: install translations
	$(BIN)/pytest --cov --cov-report=term

test: lint typecheck pytest

bench-import: install
	$(BIN)/python bench/import_registry.py

bench-eligibility: install
	$(BIN)/python bench/eligibility.py

bench-seals: install
	$(BIN)/python bench/seals.py

bench-pages: install translations
	$(BIN)/python bench/pages.py

# Needs wrk (apt-get install wrk) for the HTTP part; BENCH_DB=postgresql://... to run on PostgreSQL.
bench-enforcement: install translations
	$(BIN)/python bench/enforcement.py $(if $(BENCH_DB),--database-url $(BENCH_DB))

# The transit ledger: HTTP against a bare endpoint (wrk), MQTT through Mosquitto, a Florence-sized day.
bench-transits: install translations
	$(BIN)/python bench/transits.py $(if $(BENCH_DB),--database-url $(BENCH_DB))

# What a form's idempotency claim costs, claimed against unclaimed in one run (BENCH_DB for PostgreSQL).
bench-forms: install translations
	$(BIN)/python bench/form_posts.py $(if $(BENCH_DB),--database-url $(BENCH_DB))

# Mixed load (residents, clerks, police, payments) on one node, then two nodes behind nginx with
# Redis, on PostgreSQL; needs wrk, nginx and redis-server (about 5.5 minutes).
bench-load: install translations
	$(BIN)/python bench/load.py --database-url $(or $(BENCH_DB),postgresql://postgres@127.0.0.1:5432/test) $(LOAD_ARGS)

# How long a permit change takes to reach another process's enforcement index: polling against
# notices over Redis (needs redis-server; BENCH_DB for PostgreSQL).
bench-staleness: install translations
	$(BIN)/python bench/staleness.py $(if $(BENCH_DB),--database-url $(BENCH_DB))

# Lighthouse's mobile profile on the home, resident, clerk and police pages (npm, Chromium).
bench-lighthouse: install translations
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(BIN)/python bench/lighthouse.py

# Refreshes docs/screenshots/ from the browser audit (CI keeps its copies in artifacts/ instead).
screenshots: install translations
	ZTL_SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest -q -p no:cacheprovider tests/browser/test_page_audit.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage build/static bench/.lighthouse
