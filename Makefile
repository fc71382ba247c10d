# Two commands on a fresh machine: `make deploy invoke` and `make test`.
# Every target first makes sure .venv exists with the project installed (editable, dev extras).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install deploy invoke test test-fast lint typecheck clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

deploy: $(STAMP)
	$(BIN)/tool deploy

invoke: $(STAMP)
	$(BIN)/tool invoke --input in.json

# The whole suite on pytest-xdist, two workers per CPU: many tests spend their time waiting for
# processes they start (handlers, servers, workers), so one per CPU leaves the CPUs idle
# (quiet 2-core machine: 93-96 s with 2 workers, 85-88 s with 4, 101 s with 6); worksteal
# evens out the long tests.
WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))

test: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n $(WORKERS) --dist worksteal

# The inner loop: everything but the end-to-end tests marked slow.
test-fast: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n $(WORKERS) --dist worksteal -m "not slow"

lint: $(STAMP) typecheck
	$(BIN)/ruff check tooling tests bench
	$(BIN)/ruff format --check tooling tests bench
	$(BIN)/lint-imports --no-cache

# mypy, configured in pyproject.toml ([tool.mypy]: what it checks and how strictly).
typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .tool
