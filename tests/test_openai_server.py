"""The openai engine against a real OpenAI-compatible server on loopback: vLLM's own server,
serving the bundled model (slow: the server starts in ~30 s on 2 cores; the session's `vllm_server`,
shared with the safety, math and retrieval recipe tests)."""

from __future__ import annotations

import pytest

from curation.llm.types import ChatRequest, Sampling
from tests.conftest import load_stats, needs, run_cli, step_stats, write_recipe
from tests.vllm_server import SERVED_MODEL, served_llm

pytestmark = [pytest.mark.slow, needs("vllm", reason="the vLLM server is installed by `make install`")]


def test_openai_engine_talks_to_a_real_vllm_server(vllm_server):
    from curation.llm.openai_engine import OpenAIEngine

    engine = OpenAIEngine(base_url=vllm_server, model=SERVED_MODEL, api_key_env=None, max_concurrency=4, timeout_s=120)
    requests = [ChatRequest.of([{"role": "user", "content": text}], Sampling(max_tokens=16, seed=i))
                for i, text in enumerate(["Name a fruit.", "Taja tunda moja.", "说一个水果。"])]
    requests.append(ChatRequest.of([{"role": "user", "content": "Name a colour."}],
                                   Sampling(max_tokens=8, n=2, logprobs=2, seed=5)))
    answers = engine.generate(requests)
    assert [len(a.texts) for a in answers] == [1, 1, 1, 2]
    assert all(a.text.strip() and a.prompt_tokens > 0 and a.completion_tokens > 0 for a in answers)
    assert all(lp <= 0 for sample in answers[3].token_logprobs for lp in sample)


def test_recipe_generates_through_the_server(vllm_server, tmp_path):
    recipe = {"name": "served", "output": str(tmp_path / "out"),
              "llm": served_llm(vllm_server),
              "generate": {"languages": ["en"], "max_tokens": 32,
                           "instruction": {"count": 2, "rounds": 1, "per_prompt": 2, "response_max_tokens": 32}}}
    result = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 0, result.output
    stats = load_stats(tmp_path / "out")
    assert stats["accounting"]["ok"] and stats["generation"]["eng_Latn"]["prompts"] > 0
    assert step_stats(stats, "generate")["kept"] == step_stats(stats, "verify")["in"]
