# The two set-up commands of the README: `make demo` and `make test`.
# Each creates the virtual environment it needs on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean check-system

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/liaison demo

# The dashboard's browser test drives headless Chromium and its screenshots need a Chinese
# font: a machine without them is told so at once, with the command that installs them,
# before anything is built (SKIP_BROWSER=1 runs the rest and skips that one test).
APT_LINE := sudo apt-get install -y chromium chromium-driver fonts-wqy-zenhei
check-system:
ifeq ($(SKIP_BROWSER),1)
	@echo "SKIP_BROWSER=1: the dashboard's browser test will be skipped"
else
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk" || missing="$$missing fonts-wqy-zenhei"; \
	if [ -n "$$missing" ]; then \
		echo "make test needs system packages that are missing:$$missing"; \
		echo "install them with:"; \
		echo "    $(APT_LINE)"; \
		echo "or skip the browser test: SKIP_BROWSER=1 make test"; \
		exit 2; \
	fi
endif

# The fault drills (tests/drills) start real processes and time real outages: they run
# after the rest, on their own, and print their table of outcomes at the end.
test: check-system $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
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
