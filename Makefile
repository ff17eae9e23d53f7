# Tawasul — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format install messages messages-extract demo bench clean report-sample

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

messages: $(STAMP)
	cd tawasul && ../$(BIN)/tawasul compilemessages -v0

# After adding or changing user-facing strings: extract, then translate the new
# entries in tawasul/locale/ar/LC_MESSAGES/django.po (tests/test_translations.py checks).
messages-extract: $(STAMP)
	cd tawasul && ../$(BIN)/tawasul makemessages -l ar -e html,txt,py --no-obsolete

# Creates the environment, migrates, loads the demo ministry once, and starts
# the web server and the worker together on http://127.0.0.1:8000 (Ctrl-C stops both).
run: messages
	$(BIN)/tawasul migrate --noinput -v0
	$(BIN)/tawasul demo --if-empty
	DEBUG=$${DEBUG:-1} $(BIN)/honcho start -f Procfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy tawasul config
	$(BIN)/tawasul makemigrations --check --dry-run -v0

# Lint plus the whole suite, on the database DATABASE_URL names (SQLite by default).
test: messages lint
	$(BIN)/pytest

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: messages
	$(BIN)/tawasul migrate --noinput -v0
	$(BIN)/tawasul demo

# Scale benchmarks (bench/README.md): PostgreSQL, a database whose name contains "bench",
# created if missing; BENCH_REQUESTS requests loaded once, then every benchmark in turn.
BENCH_URL = $${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tawasul_bench}
BENCH_N = $${BENCH_REQUESTS:-1000000}
bench: $(STAMP)
	DATABASE_URL=$(BENCH_URL) $(BIN)/python -m bench.data --requests $(BENCH_N) --if-loaded
	DATABASE_URL=$(BENCH_URL) $(BIN)/python -m bench.reads
	DATABASE_URL=$(BENCH_URL) $(BIN)/python -m bench.queue_page --requests $(BENCH_N)
	# --- intake: bench/intake.py (the intake engineer's) when present ---
	if [ -f bench/intake.py ]; then DATABASE_URL=$(BENCH_URL) $(BIN)/python -m bench.intake; fi
	# --- SLA sweep: its own database (it replaces every request with open ones) ---
	DATABASE_URL=$(BENCH_URL)_sweep $(BIN)/python -m bench.sla_sweep --requests $(BENCH_N)

clean:
	rm -rf $(VENV) var

# A sample of the minister's report (PDF and XLSX) from the demo data, into var/reports/.
report-sample: messages
	$(BIN)/tawasul migrate --noinput -v0
	$(BIN)/tawasul demo --if-empty
	$(BIN)/tawasul report_sample
