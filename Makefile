# Two commands on a fresh machine: `make deploy invoke` and `make test`.
# Every target first makes sure .venv exists with the project installed (editable, dev extras).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install deploy invoke test lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

deploy: $(STAMP)
	$(BIN)/tool deploy

invoke: $(STAMP)
	$(BIN)/tool invoke --input in.json

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check tooling tests bench
	$(BIN)/ruff format --check tooling tests bench
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) .tool
