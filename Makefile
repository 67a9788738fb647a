# Three commands: `make demo` to see it, `make test` to test it, `make run` for real use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Every dependency pinned with its hashes: the bot's own, and with the tools for development.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock

.PHONY: test test-calendar lint typecheck pytest audit lock run demo bench soak extract update-catalogs clean

# Only what the lock names, checked by hash (pip and setuptools too); the project itself is
# built with the locked setuptools, without fetching a build environment.
$(STAMP): pyproject.toml $(DEV_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

## The whole suite: lint, types, catalogs, tests.
test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check bot handlers channels demo tests bench .ci/audit.py
	$(BIN)/ruff format --check bot handlers channels demo tests bench .ci/audit.py

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

## The tests that plan dates, each time started on a day that is hard for calendars (the
## evening before a first-Wednesday Stammtisch, a month's last day, New Year's Eve, 29 February,
## both clock changes); about ten minutes.
CALENDAR_TESTS := tests/test_events.py tests/test_requests.py tests/test_waitlist.py \
	tests/test_broadcasts.py tests/test_privacy.py tests/test_stats.py tests/test_limits.py
test-calendar: $(STAMP)
	$(BIN)/python -m tests.calendar_days | while read -r day moment; do \
	  echo "== $$day: $$moment"; \
	  LOTSENBOT_TEST_NOW=$$moment $(BIN)/pytest -q -p no:cacheprovider $(CALENDAR_TESTS) || exit 1; \
	done

## Known vulnerabilities in the locked dependencies (pip-audit; run by .ci/run after test).
## Fails on a vulnerability found; only warns when no vulnerability database can be reached.
audit: $(STAMP)
	$(BIN)/python .ci/audit.py $(DEV_LOCK)

## Pin the dependencies again after a change in pyproject.toml (UPGRADE=1: newest releases).
LOCK_FLAGS = --universal --python-version 3.11 --generate-hashes --no-config --quiet \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -o $(LOCK)
	$(BIN)/uv pip compile pyproject.toml --extra dev --constraint $(LOCK) $(LOCK_FLAGS) \
		-o $(DEV_LOCK)

## Benchmarks against python-telegram-bot baselines, and the intake on Signal against
## Telegram's (not part of test; about a quarter of an hour): prints a table and writes
## bench/results.json.
bench: $(STAMP)
	$(BIN)/python -m bench.run

## The chaos harness in a long run (not part of test; at most 20 minutes, loopback only): at
## least 200 SIGKILLs while every flow goes on, then a busy Monday morning; prints the figures
## and writes bench/soak.json.
soak: $(STAMP)
	$(BIN)/python -m bench.soak

## Start the bot for real (needs TELEGRAM_BOT_TOKEN).
run: $(STAMP)
	$(BIN)/lotsenbot run

## Try the bot in a browser, offline: http://127.0.0.1:8080 (PORT=8081 make demo for another port).
demo: $(STAMP)
	$(BIN)/lotsenbot demo --port $(or $(PORT),8080)

## Extract messages from the code and the console's templates (babel.cfg) into
## locales/messages.pot and merge into every catalog.
extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --project Lotsenbot --version 0.1 --copyright-holder "Lotsenbot contributors" -k N_ -o locales/messages.pot .

update-catalogs: extract
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-pot-creation-date -i locales/messages.pot -d locales -D messages

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
