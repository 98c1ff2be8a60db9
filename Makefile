# KAMO Load Logger. Every target creates .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run demo test lint bench reliability clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

## make run: collector + API against the real KAMO, on http://localhost:$${PORT:-8080}
run: $(STAMP)
	@bash scripts/run_stack.sh

## make demo: the same against the built-in simulator, into data/demo.db
demo: $(STAMP)
	@bash scripts/run_stack.sh --demo

## make test: lint, format check and the whole test suite
test: $(STAMP) lint
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## make bench: benchmark figures, one table
bench: $(STAMP)
	$(PY) scripts/bench.py

## make reliability: every reliability case in its long form (about an hour), one table
reliability: $(STAMP)
	$(PY) scripts/reliability.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
