"""The whole run on the real datatrove executors: accounting, resume, rejects, Ray, loading with datasets."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, load_stats, run_cli, step_stats, write_jsonl

TEXTS = [
    "Mvua kubwa ilinyesha jana usiku na wakulima katika kijiji chetu wamefurahi sana.",
    "Ọjà ńlá ni ìlú wa, àwọn ènìyàn máa ń wá láti ibi gbogbo láti ra nǹkan.",
    "हिजो राति ठूलो पानी पर्‍यो र गाउँका किसानहरू धेरै खुसी भए।",
    "Вчера вечером шёл сильный дождь, и фермеры нашей деревни очень обрадовались.",
    "昨天晚上下了一场大雨，我们村里的农民都非常高兴。",
    "เมื่อคืนนี้ฝนตกหนักมาก ชาวนาในหมู่บ้านของเราดีใจมาก",
]


def make_inputs(folder: Path, files: int = 6) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        write_jsonl(folder / f"part-{i}.jsonl", [{"id": f"{i}-{j}", "text": f"{t} ({i}.{j})"}
                                                 for j, t in enumerate(TEXTS)])


def base_recipe(tmp_path: Path, name: str, **extra) -> dict:
    return {"name": name, "output": str(tmp_path / name), "inputs": [{"path": str(tmp_path / "in" / "*.jsonl"),
                                                                      "id_key": "id"}],
            "executor": {"local": {"tasks": 3, "workers": 1}}, **extra}


def shard_contents(output: Path) -> dict[str, list[dict]]:
    return {str(p.relative_to(output)): pq.read_table(p).to_pylist() for p in sorted((output / "data").rglob("*.parquet"))}


@pytest.mark.slow  # three `curate run`s, one killed mid-task (~5 s)
def test_resume_after_a_killed_task_gives_the_uninterrupted_output(tmp_path, recipe_file):
    make_inputs(tmp_path / "in")
    marker = tmp_path / "crashed"
    crash = {"custom": {"use": "tests.steps_for_tests:CrashOnce", "args": {"marker": str(marker)}}}

    reference = recipe_file(base_recipe(tmp_path, "reference", steps=[
        {"custom": {"use": "tests.steps_for_tests:CrashOnce", "args": {"marker": str(tmp_path / "never"), "rank": 99}}}]))
    assert run_cli("run", reference).exit_code == 0

    path = recipe_file(base_recipe(tmp_path, "resumed", steps=[crash]))
    first = run_cli("run", path)
    assert first.exit_code == 1 and "rerun to resume" in first.output
    assert marker.exists()
    logs = tmp_path / "resumed" / ".curate" / "logs" / "curate"
    done_before = sorted(p.name for p in (logs / "completions").iterdir())
    assert "00001" not in done_before and done_before  # the killed task did not complete, others did
    stats_mtimes = {name: (logs / "stats" / f"{name}.json").stat().st_mtime_ns for name in done_before}

    second = run_cli("run", path)
    assert second.exit_code == 0, second.output
    # finished tasks were skipped, not redone
    assert {n: (logs / "stats" / f"{n}.json").stat().st_mtime_ns for n in done_before} == stats_mtimes
    resumed, uninterrupted = shard_contents(tmp_path / "resumed"), shard_contents(tmp_path / "reference")
    assert resumed == uninterrupted and sum(len(v) for v in resumed.values()) == 36
    assert load_stats(tmp_path / "resumed")["accounting"]["ok"]


def test_a_step_that_loses_records_fails_the_run(tmp_path, recipe_file):
    make_inputs(tmp_path / "in", files=2)
    path = recipe_file(base_recipe(tmp_path, "lossy", steps=[
        {"custom": {"use": "tests.steps_for_tests:SwallowEveryOther"}},
        {"custom": {"use": "tests.steps_for_tests:DropLongerThan", "args": {"chars": 10_000}}}]))
    result = run_cli("run", path)
    assert result.exit_code == 3
    assert "do not add up" in result.output and "drop_longer: received" in result.output
    assert load_stats(tmp_path / "lossy")["accounting"]["ok"] is False


def test_drops_are_counted_and_written_to_rejects(tmp_path, recipe_file):
    make_inputs(tmp_path / "in", files=2)
    recipe = base_recipe(tmp_path, "rejects", steps=[
        {"custom": {"use": "tests.steps_for_tests:DropLongerThan", "args": {"chars": 60}}}])
    recipe["dataset"] = {"rejects": True}
    assert run_cli("run", recipe_file(recipe)).exit_code == 0
    stats = load_stats(tmp_path / "rejects")
    dropped = step_stats(stats, "drop_longer")["dropped"]["too_long"]
    rejected = [json.loads(line) for p in (tmp_path / "rejects" / "rejects" / "drop_longer").glob("*.jsonl.gz")
                for line in gzip.decompress(p.read_bytes()).splitlines()]
    assert dropped == len(rejected) > 0
    assert all(r["metadata"]["drop_reason"] == "too_long" and len(r["text"]) > 60 for r in rejected)
    assert step_stats(stats, "write")["kept"] == 12 - dropped


def test_output_loads_with_datasets_offline(tmp_path, recipe_file, monkeypatch):
    make_inputs(tmp_path / "in", files=2)
    assert run_cli("run", recipe_file(base_recipe(tmp_path, "loadable"))).exit_code == 0
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets

    ds = datasets.load_dataset(str(tmp_path / "loadable"), "und", cache_dir=str(tmp_path / "cache"))
    assert sorted(ds["train"]["id"]) == sorted(f"{i}-{j}" for i in range(2) for j in range(6))
    assert (tmp_path / "loadable" / "recipe.resolved.yaml").exists()


@pytest.mark.slow
def test_ray_executor_runs_the_same_recipe(tmp_path, recipe_file):
    pytest.importorskip("ray")
    make_inputs(tmp_path / "in", files=3)
    recipe = base_recipe(tmp_path, "ray")
    recipe["executor"] = {"ray": {"tasks": 2, "cpus_per_task": 1, "mem_per_cpu_gb": 0.5}}
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        result = run_cli("run", recipe_file(recipe))
    finally:
        ray.shutdown()
    assert result.exit_code == 0, result.output
    stats = load_stats(tmp_path / "ray")
    assert stats["accounting"]["ok"] and stats["languages"]["und"]["rows"] == 18


def test_model_steps_run_in_process_with_one_worker(tmp_path, recipe_file):
    """workers=1 runs tasks in this process, and datatrove then dumps the used steps as JSON: they must serialize."""
    make_inputs(tmp_path / "in", files=2)
    recipe = base_recipe(tmp_path, "inproc", steps=[{"lid": None}, {"quality": {"thresholds": {"min_words": 5}}},
                                                      {"dedup": None}])
    recipe["executor"] = {"local": {"tasks": 2, "workers": 1}}
    result = run_cli("run", recipe_file(recipe))
    assert result.exit_code == 0, result.output
    assert load_stats(tmp_path / "inproc")["accounting"]["ok"]


@pytest.mark.slow  # a `curate run` subprocess with its stdout a pipe (~7 s)
def test_progress_is_printed_as_plain_lines_when_stdout_is_not_a_terminal(tmp_path, recipe_file):
    """`make run > log`: rich draws its bars only at the end there, so the CLI prints a line every N seconds."""
    make_inputs(tmp_path / "in", files=3)
    path = recipe_file(base_recipe(tmp_path, "piped", steps=[{"dedup": None}]))
    env = {**os.environ, "PYTHONPATH": str(REPO), "CURATE_PROGRESS_EVERY": "0.1"}
    done = subprocess.run([sys.executable, "-m", "curation.cli", "run", str(path)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)  # stdout is a pipe, not a terminal
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("progress ")]
    assert lines, done.stdout
    pattern = r"progress \d+:\d\d:\d\d: curate \d/3 tasks, buckets \d/\d+ tasks, .*finalize \d/1 tasks"
    assert all(re.fullmatch(pattern, line) for line in lines), lines
    assert "\x1b[" not in done.stdout  # plain text in a log file, no terminal codes
