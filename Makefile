# The partner portal's everyday commands. `make run` and `make test` are the README's two.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: run test check lint imports format types migrations-check deploy-check schema demo worker beat bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[dev]'
	touch $(STAMP)

## Quick start: SQLite, in-process tasks, demo data, http://127.0.0.1:8000
run: $(STAMP)
	DEBUG=true $(PY) manage.py migrate --noinput
	DEBUG=true $(PY) manage.py seed_demo
	DEBUG=true $(PY) manage.py runserver 127.0.0.1:8000

## The test suite (DATABASE_URL / REDIS_URL from the environment: SQLite and in-process without)
test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

## App boundaries (import-linter contracts in pyproject.toml): portal <- scoring <- benefits
imports: $(STAMP)
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

types: $(STAMP)
	SECRET_KEY=types-only DEBUG=true $(PY) -m mypy

migrations-check: $(STAMP)
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run
	DEBUG=true $(PY) manage.py check

deploy-check: $(STAMP)
	DEBUG=false SECRET_KEY=deploy-check-$$(head -c 48 /dev/urandom | base64 | tr -d '/+=') \
		ALLOWED_HOSTS=portal.example.com $(PY) manage.py check --deploy --fail-level WARNING

## The committed OpenAPI schema, regenerated (a test fails while it is stale or has warnings)
schema: $(STAMP)
	DEBUG=true $(PY) manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

## Everything CI runs except the services: lint, boundaries, types, migrations, deploy check, tests
check: lint imports types migrations-check deploy-check test

demo: $(STAMP)
	DEBUG=true $(PY) manage.py seed_demo

worker: $(STAMP)
	$(VENV)/bin/celery -A portal worker --loglevel INFO

beat: $(STAMP)
	$(VENV)/bin/celery -A portal beat --loglevel INFO

bench: $(STAMP)
	$(PY) manage.py bench_scoring --orgs 2000 --customers-per-org 50 --months 24

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache .mypy_cache
