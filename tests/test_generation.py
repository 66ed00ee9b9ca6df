"""The generate stage through the real CLI and executor, with a fake chat model (tests.fake_models).

The real vLLM engine is exercised in tests/test_vllm.py; here the model is fake so the tests can
count exactly which requests reached it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import QUICKSTART_DATA, REPO, load_stats, run_cli, step_stats, write_recipe
from tests.fake_models import count_calls
from tests.fault_matrix import kill_group


def generation_recipe(tmp_path: Path, name: str, calls: Path, **generate) -> dict:
    return {
        "name": name,
        "output": str(tmp_path / name),
        "inputs": [{"path": str(QUICKSTART_DATA / "web_sample.jsonl"), "id_key": "id"}],
        "steps": [{"lid": {"keep": ["sw"]}}, {"quality": None}],
        "llm": {"engine": "tests.fake_models:ChattyEngine", "batch_size": 2,
                "extra": {"calls_file": str(calls)}},
        "generate": {"languages": ["sw"], **generate},
        "executor": {"local": {"tasks": 1}},
    }


def rows(output: Path, folder: str) -> list[dict]:
    return [r for shard in sorted((output / "data" / folder).glob("*.parquet")) for r in pq.read_table(shard).to_pylist()]


@pytest.mark.slow  # the fullest generate recipe, every task kind (~4-8 s)
def test_generation_writes_verified_records_per_language_and_task(tmp_path):
    calls = tmp_path / "calls.txt"
    recipe = generation_recipe(tmp_path, "gen", calls, instruction={"count": 6, "rounds": 2},
                               dialogue={"count": 2}, qa={"per_passage": 2, "max_passages": 3})
    result = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 0, result.output
    output = tmp_path / "gen"
    stats = load_stats(output)
    assert stats["accounting"]["ok"], stats["accounting"]
    generate, verify = step_stats(stats, "generate"), step_stats(stats, "verify")
    assert generate["in"] == generate["kept"] == verify["in"] > 0
    instructions = rows(output, "sw-instruction")
    assert instructions and all(len(r["messages"]) == 2 and all(m["content"].strip() for m in r["messages"])
                                for r in instructions)
    assert all(r["lang"] == "swh_Latn" and json.loads(r["metadata"])["target_lang"] == "swh" for r in instructions)
    assert len(rows(output, "sw-dialogue")) <= 2
    # the fake model's QA answers are about the Nile, not the curated passages: every one is a failure
    failures = [json.loads(line) for f in (output / "failures").glob("*.jsonl") for line in f.read_text().splitlines()]
    assert {f["reason"] for f in failures} >= {"answer_not_in_passage"}
    assert stats["generation"]["swh_Latn"]["failed"]["answer_not_in_passage"] == 3
    assert stats["generation"]["swh_Latn"]["prompts"] == count_calls(calls)
    assert stats["generation"]["swh_Latn"]["tokens_generated"] > 0
    card = (output / "README.md").read_text()
    assert "config_name: sw-instruction" in card and "config_name: sw" in card
    # the CLI's prompt bar read what the task reported: every prompt sent, within the planned bound
    progress = json.loads((output / ".curate" / "progress" / "generate" / "00000.json").read_text())
    assert progress["done"] and progress["answered"] == count_calls(calls) <= progress["planned"]
    assert "prompts" in result.output


def test_retry_failures_asks_again_only_for_the_failures(tmp_path):
    calls = tmp_path / "calls.txt"
    recipe = generation_recipe(tmp_path, "retry", calls, qa={"per_passage": 2, "max_passages": 3},
                               instruction={"count": 4, "rounds": 1})
    path = write_recipe(tmp_path / "r.yaml", recipe)
    assert run_cli("run", path).exit_code == 0
    first_calls = count_calls(calls)
    failed = len([line for f in (tmp_path / "retry" / "failures").glob("*.jsonl") for line in f.read_text().splitlines()])
    assert failed == 3
    result = run_cli("run", path, "--retry-failures")
    assert result.exit_code == 0, result.output
    assert count_calls(calls) - first_calls == failed  # successes came from the cache


def test_cache_hits_are_counted_in_stats_and_the_run_summary(tmp_path):
    calls = tmp_path / "calls.txt"
    recipe = generation_recipe(tmp_path, "hits", calls, qa={"per_passage": 2, "max_passages": 3},
                               instruction={"count": 4, "rounds": 1})
    path = write_recipe(tmp_path / "r.yaml", recipe)
    first = run_cli("run", path)
    assert first.exit_code == 0, first.output
    assert load_stats(tmp_path / "hits")["llm_cache"] == {"hits": 0, "by_step": {"generate/generate": 0}}
    assert "LLM request cache: 0 request(s)" in first.output
    first_calls = count_calls(calls)
    second = run_cli("run", path, "--retry-failures")  # the generate stage again: answered prompts from the cache
    assert second.exit_code == 0, second.output
    stats = load_stats(tmp_path / "hits")
    assert stats["accounting"]["ok"], stats["accounting"]
    hits = stats["llm_cache"]["hits"]
    asked, sent = stats["generation"]["swh_Latn"]["prompts"], count_calls(calls) - first_calls
    assert hits > 0 and hits == asked - sent, (hits, asked, sent)
    assert stats["llm_cache"]["by_step"] == {"generate/generate": hits}
    assert f"LLM request cache: {hits} request(s) answered from the cache (generate/generate {hits})" in second.output


@pytest.mark.slow  # a `curate run` subprocess killed mid-generation, then rerun (~20 s)
def test_a_killed_generation_resumes_without_repeating_answered_requests(tmp_path):
    """Kill `curate run` mid-generation (SIGKILL), run it again: every request reaches the model once."""
    calls = tmp_path / "calls.txt"
    recipe = generation_recipe(tmp_path, "killed", calls, instruction={"count": 12, "rounds": 1})
    path = write_recipe(tmp_path / "r.yaml", recipe)
    # killed by itself once its third answered batch is in the cache (curation.faults): no wall-clock
    # guess of when it is mid-generation, which a busy machine got wrong
    env = {**os.environ, "PYTHONPATH": str(REPO), "CURATE_FAULT": "llm/stored@3"}
    process = subprocess.Popen([sys.executable, "-m", "curation.cli", "run", str(path)], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    assert process.wait() == -signal.SIGKILL
    kill_group(process.pid)  # what the killed run left running (datatrove's Manager)
    before_rerun = count_calls(calls)
    assert 5 <= before_rerun < 13, "the run should have been killed mid-generation"

    result = run_cli("run", path)
    assert result.exit_code == 0, result.output
    sent = [json.loads(line) for line in calls.read_text().splitlines()]
    # killed right after a batch was stored, nothing was in flight: no request reached the model twice
    assert len(sent) == len(set(sent))
    assert len(rows(tmp_path / "killed", "sw-instruction")) > 0


def test_plan_estimates_prompts_and_tokens_per_language(tmp_path):
    recipe = generation_recipe(tmp_path, "plan", tmp_path / "calls.txt", instruction={"count": 10, "rounds": 2},
                               dialogue={"count": 3}, max_tokens=100)
    result = run_cli("plan", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 0, result.output
    assert "generate -> verify -> write" in result.output
    dialogue_row = next(line for line in result.output.splitlines() if "dialogue" in line)
    assert "3" in dialogue_row and "300" in dialogue_row
    assert not (tmp_path / "calls.txt").exists()  # planning asks the model nothing


def test_a_generation_file_that_cannot_be_read_is_one_line_before_anything_runs(tmp_path):
    calls = tmp_path / "calls.txt"
    recipe = generation_recipe(tmp_path, "bad", calls, translate={"source": str(tmp_path / "missing.jsonl")})
    result = run_cli("plan", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 2
    assert "generate.translate:" in result.output and "missing.jsonl: cannot read it" in result.output
    assert "Traceback" not in result.output
    (tmp_path / "seeds.jsonl").write_text("not json\n")
    recipe = generation_recipe(tmp_path, "bad", calls, instruction={"seeds": str(tmp_path / "seeds.jsonl")})
    result = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 2 and "generate.instruction:" in result.output
    assert not (tmp_path / "bad" / "data").exists() and not calls.exists()  # nothing ran, nothing was asked


def test_steps_of_the_generate_stage_that_ask_one_model_share_it(tmp_path):
    """generate, the refusal check and a judge on the same `llm` load one model per task (a second copy of a
    large model does not fit on its GPU); each gets its own request-cache wrapper, and a judge_llm of its
    own is a model of its own. The factory pickles without the model (a task loads it once)."""
    import pickle

    from curation.compile import compile_recipe
    from curation.inputs import expand_inputs
    from curation.layout import RunLayout
    from curation.recipe import load_recipe

    recipe = generation_recipe(tmp_path, "shared", tmp_path / "calls.txt", safety={"count": 1})
    recipe["steps"].append({"judge": {"min_score": 1}})
    parsed = load_recipe(write_recipe(tmp_path / "r.yaml", recipe))
    stages = compile_recipe(parsed, expand_inputs(parsed.inputs), RunLayout(Path(parsed.output)))
    generate_stage = next(s for s in stages if s.name == "generate")
    factories = [step.engine_factory for step in generate_stage.pipeline if hasattr(step, "engine_factory")]
    assert [type(step).__name__ for step in generate_stage.pipeline if hasattr(step, "engine_factory")] == [
        "GenerateStep", "RefusalCheck", "JudgeFilter"]
    assert all(factory is factories[0] for factory in factories)
    first, second = factories[0](), factories[1]()
    assert first.engine is second.engine and first is not second
    assert pickle.loads(pickle.dumps(factories[0]))._engine is None
    model = first.engine
    del first, second
    assert factories[0]().engine is model  # held: still the one model
    del model
    assert factories[0]._engine() is None  # let go by every step: freed, as an unshared engine would be

    recipe["judge_llm"] = {"engine": "tests.fake_models:ChattyEngine", "extra": {"calls_file": str(tmp_path / "j")}}
    parsed = load_recipe(write_recipe(tmp_path / "r.yaml", recipe))
    stages = compile_recipe(parsed, expand_inputs(parsed.inputs), RunLayout(Path(parsed.output)))
    steps = {type(s).__name__: s for s in next(s for s in stages if s.name == "generate").pipeline}
    assert steps["GenerateStep"].engine_factory is not steps["JudgeFilter"].engine_factory
    assert steps["RefusalCheck"].engine_factory is steps["JudgeFilter"].engine_factory  # both on judge_llm
