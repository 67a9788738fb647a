# Two commands do all the set-up: `make test` and `make run`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck pytest run extract update-catalogs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The whole suite: lint, types, catalogs, tests.
test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check bot handlers tests
	$(BIN)/ruff format --check bot handlers tests

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

## Start the bot for real (needs TELEGRAM_BOT_TOKEN).
run: $(STAMP)
	$(BIN)/lotsenbot run

## Extract messages from the code into locales/messages.pot and merge into every catalog.
extract: $(STAMP)
	$(BIN)/pybabel extract --no-location --sort-output --project Lotsenbot --version 0.1 --copyright-holder "Lotsenbot contributors" -k N_ -o locales/messages.pot bot handlers

update-catalogs: extract
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-pot-creation-date -i locales/messages.pot -d locales -D messages

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
