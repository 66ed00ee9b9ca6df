# Two commands set everything up on a fresh machine:
#   make run    installs curate into .venv and runs the quickstart recipe end to end
#   make test   installs curate (with test extras) into .venv and runs the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/curate run recipes/quickstart.yaml

test: install
	$(BIN)/pytest -q

bench: install
	$(BIN)/pip install -q -e ".[dev,bench]"
	PYTHONPATH=. $(BIN)/python bench/bench_lid.py
	PYTHONPATH=. $(BIN)/python bench/bench_heuristics.py
	PYTHONPATH=. $(BIN)/python bench/bench_minhash.py
	PYTHONPATH=. $(BIN)/python bench/bench_curation.py

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) out .pytest_cache
