# MBID-db: `make run` serves the API over the example data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := app
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# The Python packages and the npm validator install side by side (their outputs kept apart).
MAKEFLAGS += --jobs=2 --output-sync=target

.PHONY: run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The project itself is installed in editable mode, so scripts run from any directory.
$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# The Python client (client/) is tested against a live server; the browser tests drive Debian's
# chromium, installed here (as root, with apt-get) when missing.
$(VENV)/.installed-test: requirements-test.txt client/pyproject.toml $(VENV)/.installed \
		$(VENV)/.installed-bids-validator
	$(BIN)/pip install --quiet -r requirements-test.txt
	$(BIN)/pip install --quiet -e ./client
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null \
		|| (apt-get update -qq && apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1 \
		|| echo "chromium could not be installed: the browser tests will fail"
	touch $@

# The tests check every BIDS export with the bids-validator npm package (1.x: the maintained
# JavaScript validator of that line), run by Debian's nodejs; installed under .venv/ with npm.
BIDS_VALIDATOR_VERSION := 1.15.0
$(VENV)/.installed-bids-validator: | $(BIN)/python
	@command -v node >/dev/null && command -v npm >/dev/null \
		|| (apt-get update -qq && apt-get install -y -qq nodejs npm) >/dev/null 2>&1 \
		|| echo "nodejs/npm could not be installed: the BIDS export tests will fail"
	npm install --silent --no-audit --no-fund --prefix $(VENV)/bids-validator \
		bids-validator@$(BIDS_VALIDATOR_VERSION)
	touch $@

$(VENV)/.installed-bench: requirements-bench.txt $(VENV)/.installed-test
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

# Every dataset package with example data (load_db/<DATASET>/example.py) is loaded and uploaded;
# the demo token is kept in instance/demo-token across runs.
run: $(VENV)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask seed
	$(BIN)/flask load --all-examples
	$(BIN)/flask dataset examples | while IFS="$$(printf '\t')" read -r name folder; do \
		$(BIN)/flask upload "$$name" "$$folder" || exit 1; done
	$(BIN)/flask demo-token
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# The test suite starts (and always stops) its own PostgreSQL and S3 servers.
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks (not part of `make test`): QUICK=1 for small sizes. Writes docs/BENCHMARKS.md.
# The API section's throughput uses Debian's wrk, installed here when apt-get can; without it,
# the Python load generator of bench/api.py stands in and the report says so.
bench: $(VENV)/.installed-bench
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null 2>&1 \
		|| echo "wrk could not be installed: the API throughput uses the Python load generator"
	$(BIN)/python -m bench $(if $(QUICK),--quick)

clean:
	rm -rf $(VENV) instance .pytest_cache
