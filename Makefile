# KAMO Load Logger. Every target creates .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run demo test lint bench reliability images lock clean

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

## make bench: benchmark figures, one table (make bench BENCH_ARGS="--only pg": one section)
bench: $(STAMP)
	$(PY) scripts/bench.py $(BENCH_ARGS)

## make reliability: every reliability case in its long form (about an hour), one table
reliability: $(STAMP)
	$(PY) scripts/reliability.py

## make images: both container images; offline base (debootstrap + buildah) without Docker
images: $(STAMP)
	@bash scripts/images.sh

## make lock: requirements.lock (hashed runtime dependencies) from pyproject.toml, from PyPI;
## keeps existing pins (make lock LOCK_ARGS=--upgrade moves them all to the newest)
# Only PyPI, whatever pip.conf adds: the hashes must cover every platform's files.
lock: $(STAMP)
	env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null \
	  CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet $(LOCK_ARGS) \
	  --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	  --index-url $${PIP_INDEX_URL:-https://pypi.org/simple} \
	  --output-file requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
