# The two set-up commands of the README: `make demo` and `make test`.
# Each creates the virtual environment it needs on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/liaison demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy shared services
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services

clean:
	rm -rf $(VENV) var build *.egg-info
