# fuwu — the commands a developer and CI use. Only Python 3.11+, pip and make are needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
CODEGEN := $(VENV)/codegen
STAMP_CODEGEN := $(CODEGEN)/.installed
export FUWU_DATA_DIR ?= var

.PHONY: run install dev lint typecheck test test-fast bench i18n migrate demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): $(BIN)/python requirements/lock.txt pyproject.toml
	$(BIN)/pip install --quiet -r requirements/lock.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(STAMP_DEV): $(STAMP_RUN) requirements/dev.txt
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $@

# The API client generator lives in a virtualenv of its own (its typer pin clashes with ours).
$(STAMP_CODEGEN): requirements/codegen.txt
	$(PYTHON) -m venv $(CODEGEN)
	$(CODEGEN)/bin/pip install --quiet -r requirements/codegen.txt
	touch $@

install: $(STAMP_RUN)

dev: $(STAMP_DEV) $(STAMP_CODEGEN)

## run: install, migrate, load the demo company and serve on SQLite at http://127.0.0.1:8000
run: install
	$(BIN)/fuwu migrate
	$(BIN)/fuwu demo
	@echo ""
	@echo "  fuwu is starting on http://127.0.0.1:8000"
	@echo "  sign in as admin / fuwu-demo-2026 (or agent1, engineer1, customer1 with the same password)"
	@echo ""
	$(BIN)/fuwu serve --host 127.0.0.1 --port 8000

migrate: install
	$(BIN)/fuwu migrate

lint: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: dev
	$(BIN)/mypy

## test: lint, type checks and the whole suite (SQLite, and PostgreSQL when reachable or required)
test: lint typecheck
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: dev
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not browser"

bench: dev
	$(BIN)/python -m bench.run

i18n: dev
	$(BIN)/pybabel extract -F babel.cfg -o var/messages.pot src/fuwu

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
