# Two promises (see README): `make demo` runs the demo server, `make test` runs every test.
# Both build their own virtual environment from nothing but Python 3.11.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
DOCS_STAMP := $(VENV)/.docs-installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint typecheck pytest clean bench bench-quick dist docs docs-serve

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e ".[drf,simplejwt,knox,redis]" --group dev
	touch $(STAMP)

demo: $(STAMP)
	cd example && ../$(BIN)/python manage.py migrate --noinput
	cd example && ../$(BIN)/python manage.py seed_demo
	cd example && ../$(BIN)/python -m uvicorn chatsite.asgi:application --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck docs pytest

# A release's files: an sdist and a wheel in dist/, checked the way PyPI will read them.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/python -m twine check --strict dist/*

# The documentation site (MkDocs Material, API reference from the docstrings) in site/.
# --strict: a broken link, a missing anchor or a docstring mkdocstrings cannot read fails the build.
$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet --group docs
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

docs-serve: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs serve

# The benchmark (docs/benchmarks.md): peers and matplotlib come from the `bench` dependency group.
# It pins itself to core 0 and its servers to core 1 (taskset); run it on a quiet machine.
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet --group bench
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-quick: $(BENCH_STAMP)
	$(BIN)/python -m bench --quick $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage example/db.sqlite3 dist site
