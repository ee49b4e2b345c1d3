# Every target that needs Python depends on .venv/.installed, so `make run`
# and `make test` set everything up on a fresh clone.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCKS := requirements/app.txt requirements/dev.txt

.PHONY: run test lint typecheck pytest lock bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# --require-hashes makes pip refuse any file whose hash differs from the
# lock, so an install cannot pick up a tampered or re-uploaded package.
$(VENV)/.installed: $(BIN)/python $(LOCKS)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/app.txt -r requirements/dev.txt
	touch $@

.env: | $(VENV)/.installed
	$(BIN)/python -m app init-env

run: $(VENV)/.installed .env
	$(BIN)/python -m app serve

test: lint typecheck pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

pytest: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Re-resolve the lock files after editing requirements/*.in.
lock: $(VENV)/.installed
	cd requirements && ../$(BIN)/uv pip compile -q --generate-hashes --python-version 3.11 \
		--custom-compile-command "make lock" app.in -o app.txt
	cd requirements && ../$(BIN)/uv pip compile -q --generate-hashes --python-version 3.11 \
		--custom-compile-command "make lock" dev.in -o dev.txt

# Load benchmark of the service against bare FastAPI; writes docs/benchmarks.md.
# Variables given on the command line reach it through the environment, for
# a short run: make bench BENCH_DURATION=2 BENCH_REPETITIONS=2
# (also BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_LEAK_REQUESTS, BENCH_IMPORT_MB).
bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
