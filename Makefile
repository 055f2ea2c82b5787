# The README's commands. `make run` serves the sample catalog; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test test-database lint format bench clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)
	@bash scripts/install-meili.sh >/dev/null

run: install
	exec $(BIN)/python -m devstack.run

# Line coverage over both runs (tests/coverage.ini); the second, the API with its cache on,
# prints it.
COVERAGE := --cov --cov-config=tests/coverage.ini

test: install test-database
	@mkdir -p .data
	$(BIN)/python -m pytest $(COVERAGE) --cov-report=
	$(BIN)/python -m pytest tests/api --api-cache $(COVERAGE) --cov-append --cov-report=term

# With no test database configured or answering, the tests start a MariaDB of their own from
# the installed server; on Debian, as root, install it first if it is missing (and only then).
test-database: install
	@if $(BIN)/python -m tests.services needs-mariadb-server; then \
	    if [ "$$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null; then \
	        echo "make: installing Debian's mariadb-server (the tests start a MariaDB of their own)"; \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	            apt-get install -y -qq --no-install-recommends mariadb-server >/dev/null; \
	    fi; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy api indexer worker importer devstack

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
