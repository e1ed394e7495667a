# Two promises (see README): `make demo` runs the demo server, `make test` runs every test.
# Both build their own virtual environment from nothing but Python 3.11, and both install exactly the
# committed lock (requirements/locked.txt, hashes included): a new upstream release changes nothing
# here until `make lock` is run and committed. `make test-latest` shows what it would change.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements/locked.txt
OLDEST_LOCK := requirements/oldest.txt
UV_LOCK := requirements/uv.txt
HOST ?= 127.0.0.1
PORT ?= 8000
# uv never fetches an interpreter of its own: the machine's Python 3.11 is the one to prove.
export UV_PYTHON_DOWNLOADS := never
# What every lock is resolved from: the library's extras plus the dependency groups in pyproject.toml.
LOCK_ARGS := pyproject.toml --universal --python-version 3.11 --generate-hashes --no-emit-index-url \
	--extra drf --extra simplejwt --extra knox --extra redis --extra prometheus
COMPILE = $(BIN)/uv pip compile --quiet --custom-compile-command "make lock" $(LOCK_ARGS)

.PHONY: demo test lint typecheck pytest clean bench bench-quick dist docs docs-serve lock test-oldest test-latest

# uv comes first, itself pinned by hash; then it makes the venv match the lock exactly (sync removes
# whatever the lock does not name) and installs this checkout in editable mode without build isolation
# (its build backend is in the lock too).
$(STAMP): $(LOCK) $(UV_LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(UV_LOCK)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --require-hashes $(LOCK)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
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

# The real GraphQL clients the e2e suite drives, from their committed npm lock (npm ci installs exactly it).
NODE_STAMP := tests/node/node_modules/.installed
$(NODE_STAMP): tests/node/package-lock.json
	npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

pytest: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck docs pytest

# A release's files: an sdist and a wheel in dist/, checked the way PyPI will read them. The build
# backend comes from the lock (no isolated build environment fetching whatever is newest).
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .
	$(BIN)/python -m twine check --strict dist/*

# The documentation site (MkDocs Material, API reference from the docstrings) in site/.
# --strict: a broken link, a missing anchor or a docstring mkdocstrings cannot read fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs serve

# The benchmark (docs/benchmarks.md): its peers and matplotlib are in the same lock as the tests.
# It pins itself to core 0 and its servers to core 1 (taskset); run it on a quiet machine.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-oldest .venv-latest .pytest_cache .mypy_cache .ruff_cache .coverage example/db.sqlite3 \
		dist site

# A deliberate upgrade: re-resolve every lock against today's releases, then review and commit the diff.
# `make lock LOCK_UPGRADE=` keeps every pin it can and only resolves what pyproject.toml changed.
LOCK_UPGRADE ?= --upgrade
lock: $(STAMP)
	$(COMPILE) $(LOCK_UPGRADE) --group pyproject.toml:dev --group pyproject.toml:bench --group pyproject.toml:docs -o $(LOCK)
	$(COMPILE) $(LOCK_UPGRADE) --group pyproject.toml:test --constraints requirements/oldest-constraints.txt \
		-o $(OLDEST_LOCK)
	$(BIN)/uv pip compile --quiet --custom-compile-command "make lock" $(LOCK_UPGRADE) --generate-hashes \
		--no-emit-index-url --universal --python-version 3.11 requirements/uv.in -o $(UV_LOCK)

# The lowest versions pyproject.toml admits for Django, channels, DRF, SimpleJWT and knox
# (requirements/oldest-constraints.txt), proven by the unit and in-process tests.
test-oldest: $(STAMP)
	test -x .venv-oldest/bin/python || $(PYTHON) -m venv .venv-oldest
	$(BIN)/uv pip sync --quiet --python .venv-oldest/bin/python --require-hashes $(OLDEST_LOCK)
	$(BIN)/uv pip install --quiet --python .venv-oldest/bin/python --no-deps --no-build-isolation -e .
	.venv-oldest/bin/python -m tools.locks pins requirements/oldest-constraints.txt
	.venv-oldest/bin/python -m pytest -p no:cacheprovider --no-cov --ignore=tests/e2e --ignore=tests/browser \
		--ignore=tests/test_bench_smoke.py $(PYTEST_ARGS)

# Drift check: the whole suite against the newest release of everything, and what differs from the lock.
# Not part of `make test` or CI; run it on purpose before `make lock`.
test-latest: $(STAMP)
	$(COMPILE) --upgrade --group pyproject.toml:dev --group pyproject.toml:bench --group pyproject.toml:docs -o .venv-latest.txt
	$(BIN)/python -m tools.locks diff $(LOCK) .venv-latest.txt
	test -x .venv-latest/bin/python || $(PYTHON) -m venv .venv-latest
	$(BIN)/uv pip sync --quiet --python .venv-latest/bin/python --require-hashes .venv-latest.txt
	$(BIN)/uv pip install --quiet --python .venv-latest/bin/python --no-deps --no-build-isolation -e .
	.venv-latest/bin/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)
