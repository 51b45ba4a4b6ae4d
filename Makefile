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

# The fault drills (tests/drills) start real processes and time real outages: they run
# after the rest, on their own, and print their table of outcomes at the end.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy shared services
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 --ignore=tests/drills $(PYTEST_ARGS)
	$(BIN)/pytest tests/drills $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var build *.egg-info
