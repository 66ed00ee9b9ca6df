"""Generation spread over tasks by item, not by language (issue 14, item 2), and the request cache per task.

Unit level: a generator run as task r of n asks about the items `owner` gives r, and the n tasks
together make the records, failures and counts one task makes. Run level (the real CLI and
executor, a fake model whose answers depend on the request alone): one language at 1 and 3 tasks
publishes the same rows; a rerun with another task count is answered from the merged cache; a
killed task's rerun asks nothing twice; `--retry-failures` with 3 tasks asks again only for the
failures.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curation.errors import RecipeError
from curation.llm.cache import RequestCache, merge_caches
from curation.llm.fake import FakeEngine
from curation.llm.types import Completion
from generators.base import Asker, Generator, Share, owner
from generators.dialogue import DialogueGenerator
from generators.instruction import InstructionGenerator
from generators.math import MathGenerator
from generators.qa import QAGenerator
from generators.safety import SafetyGenerator
from generators.translate import TranslateGenerator
from tests.conftest import QUICKSTART_DATA, REPO, load_stats, run_cli, step_stats, write_recipe
from tests.fake_models import PASSAGE_SW, ChattyModel, MathModel, SafetyModel
from tests.fault_matrix import kill_group
from tests.test_math import PLANS, QUESTIONS


def test_every_item_has_exactly_one_owner_and_the_owners_spread():
    ids = [f"{n:05d}" for n in range(300)]
    for tasks in (1, 2, 3, 8):
        owners = [owner("dialogue", "swh", item, tasks) for item in ids]
        assert all(0 <= o < tasks for o in owners)
        assert all(Share(o, tasks).owns("dialogue", "swh", item) for o, item in zip(owners, ids, strict=True))
        assert all(not Share(r, tasks).owns("dialogue", "swh", item)
                   for o, item in zip(owners, ids, strict=True) for r in range(tasks) if r != o)
        assert min(Counter(owners).values()) > 300 / tasks / 2  # no task is left nearly idle
    # the owner follows the item's identity, not its position or the other items
    assert owner("qa", "swh", "p7", 3) == owner("qa", "swh", "p7", 3)
    assert len({owner("qa", "swh", f"p{n}", 8) for n in range(50)}) == 8


def run_split(make: Callable[[], Generator], make_model: Callable[[], object], lang: str, tasks: int,
              ) -> tuple[list[str], list[tuple[str, str]], dict[str, int], int]:
    """The generator as `tasks` tasks (each its own generator, model and asker, as in a real stage):
    record ids, (item, reason) of the failures, the generators' own counts, prompts sent."""
    records, failures, counts, prompts = [], [], Counter(), 0
    for rank in range(tasks):
        asker = Asker(FakeEngine(make_model()), model="fake", share=Share(rank, tasks))
        records += [doc.id for doc in make().generate(lang, asker)]
        failures += [(f.item_id, f.reason) for f in asker.failures]
        for per_lang in asker.counts.values():
            counts.update(per_lang)
        prompts += sum(usage.prompts for usage in asker.usage.values())
    return sorted(records), sorted(failures), dict(counts), prompts


GENERATORS = {
    "dialogue": (lambda: DialogueGenerator(count=9), lambda: ChattyModel(stateless=True)),
    "qa": (lambda: QAGenerator([{"id": f"p{n}", "text": PASSAGE_SW, "lang": "sw"} for n in range(6)],
                               per_passage=3), lambda: ChattyModel(stateless=True)),
    "translate": (lambda: TranslateGenerator([{"instruction": "Give three tips for staying healthy.", "output": "."},
                                              {"instruction": "Name the capital of", "input": "Kenya", "output": "."}]),
                  lambda: ChattyModel(stateless=True)),
    "safety": (lambda: SafetyGenerator(count=2, categories=["violence", "self_harm"]), SafetyModel),
    "instruction": (lambda: InstructionGenerator(count=6, rounds=2), lambda: ChattyModel(stateless=True)),
    "instruction-pools": (lambda: InstructionGenerator(count=7, rounds=2, pools=3), lambda: ChattyModel(stateless=True)),
}


@pytest.mark.parametrize("tasks", [2, 3, 8])
@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_tasks_together_make_what_one_task_makes(name, tasks):
    make, make_model = GENERATORS[name]
    alone = run_split(make, make_model, "sw", 1)
    assert alone[0], "the generator should make records"
    assert run_split(make, make_model, "sw", tasks) == alone


def test_instruction_pools_spread_one_language_over_tasks():
    """One pool is one task's (its rounds build on each other); with pools, several tasks ask."""
    asking = []
    for rank in range(4):
        asker = Asker(FakeEngine(ChattyModel(stateless=True)), model="fake", share=Share(rank, 4))
        records = list(InstructionGenerator(count=8, rounds=1, pools=4).generate("sw", asker))
        asking.append(len(records))
    assert sum(1 for n in asking if n) >= 2, asking
    one_pool = [len(list(InstructionGenerator(count=8, rounds=1).generate(
        "sw", Asker(FakeEngine(ChattyModel(stateless=True)), model="fake", share=Share(rank, 4))))) for rank in range(4)]
    assert sum(1 for n in one_pool if n) == 1  # without pools, a language's instructions are one task's
    with pytest.raises(RecipeError, match="pools"):
        InstructionGenerator(count=2, pools=3)


def test_math_counts_add_up_over_tasks():
    """Per-question work (translation, k samples, the formats) stays in one task; a per-language count
    (`math.without_gold`: a source record without a gold answer) is added by one task, not by each."""
    def make():
        return MathGenerator(QUESTIONS, samples=4, source_lang="sw")

    alone = run_split(make, lambda: MathModel({(3, 4): 7, (20, 12): 8, (5, 6): 30}, PLANS), "sw", 1)
    assert alone[2]["math.without_gold"] == 1 and alone[2]["math.attempted"] == 3
    for tasks in (2, 3):
        assert run_split(make, lambda: MathModel({(3, 4): 7, (20, 12): 8, (5, 6): 30}, PLANS), "sw", tasks) == alone


# -- the request cache: one file per task, merged ------------------------------------------------


def answer(text: str) -> Completion:
    return Completion(texts=[text], prompt_tokens=1, completion_tokens=1, finish_reasons=["stop"])


def test_a_task_cache_reads_through_to_the_merged_one_and_merging_keeps_every_answer(tmp_path):
    merged, mine, other = tmp_path / "cache" / "requests.sqlite", tmp_path / "t0.sqlite", tmp_path / "t1.sqlite"
    old = RequestCache(tmp_path / "old.sqlite")
    old.put_many("m", [("a", answer("from an earlier run"))])
    old.close()
    merge_caches([tmp_path / "old.sqlite"], merged)
    assert not (tmp_path / "old.sqlite").exists()  # folded in, then deleted

    task = RequestCache(mine, read_through=merged)
    assert task.get_many(["a", "b"])["a"].texts == ["from an earlier run"]
    task.put_many("m", [("b", answer("answered by task 0"))])
    assert set(task.get_many(["a", "b"])) == {"a", "b"}
    task.close()
    second = RequestCache(other, read_through=merged)
    second.put_many("m", [("c", answer("answered by task 1"))])  # left open: a killed task's WAL
    assert merge_caches([mine, other], merged) == 2
    second.close()
    assert not mine.exists() and not other.exists()
    # the merged file is left without WAL side files, so a task can open it read-only
    db = sqlite3.connect(f"{merged.as_uri()}?mode=ro", uri=True)
    assert db.execute("SELECT COUNT(*) FROM completions").fetchone()[0] == 3
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


# -- through the CLI -------------------------------------------------------------------------------


def sharded_recipe(tmp_path: Path, name: str, calls: Path, tasks: int, output: str | None = None) -> dict:
    return {
        "name": name,
        "output": str(tmp_path / (output or name)),
        "inputs": [{"path": str(QUICKSTART_DATA / "web_sample.jsonl"), "id_key": "id"}],
        "steps": [{"lid": {"keep": ["sw"]}}],
        "llm": {"engine": "tests.fake_models:DistinctStatelessEngine", "batch_size": 2, "tasks": tasks,
                "extra": {"calls_file": str(calls)}},
        "generate": {"languages": ["sw"], "dialogue": {"count": 8}, "instruction": {"count": 4, "rounds": 1},
                     "qa": {"per_passage": 2, "max_passages": 4},
                     "verify": {"min_lang_score": 0.2}},  # short fake turns score low on LID
        "executor": {"local": {"tasks": 1, "workers": 1}},
    }


def published(output: Path) -> dict[str, list[str]]:
    """Every published row of each generated config, as sorted JSON (order is the shards', not the rows')."""
    rows = {}
    for folder in sorted((output / "data").glob("sw-*")):
        table = [r for shard in sorted(folder.glob("*.parquet")) for r in pq.read_table(shard).to_pylist()]
        rows[folder.name] = sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in table)
    return rows


def generation_counts(stats: dict) -> dict:
    """What stats.json says about generation (prompts, tokens, failures, the generators' counts), but timings."""
    timings = ("seconds", "generated_tokens_per_second")
    return {lang: {k: v for k, v in entry.items() if k not in timings} for lang, entry in stats["generation"].items()}


def sent(calls: Path) -> list[str]:
    return calls.read_text().splitlines() if calls.exists() else []


def test_one_language_at_one_and_three_tasks_publishes_the_same_rows_and_reruns_from_the_cache(tmp_path):
    """Runs at 1 and 3 tasks publish the same rows and counts; the 3-task run, run again (--fresh) at 1
    task, is answered from its merged cache and publishes the same rows again."""
    calls = {1: tmp_path / "one.txt", 3: tmp_path / "three.txt"}
    recipes = {tasks: write_recipe(tmp_path / f"{tasks}.yaml", sharded_recipe(tmp_path, f"t{tasks}", calls[tasks], tasks))
               for tasks in (1, 3)}
    for tasks in (1, 3):
        result = run_cli("run", recipes[tasks])
        assert result.exit_code == 0, result.output
    rows, stats = published(tmp_path / "t1"), load_stats(tmp_path / "t1")
    assert rows["sw-dialogue"] and rows["sw-instruction"]
    # The model writes no near duplicates: verify's near-duplicate check sees one task's records, so
    # near duplicates made by different tasks would both be kept (README, Known limits).
    assert "near_duplicate" not in step_stats(stats, "verify")["dropped"]
    assert published(tmp_path / "t3") == rows
    three_stats = load_stats(tmp_path / "t3")
    assert three_stats["accounting"]["ok"], three_stats["accounting"]
    assert generation_counts(three_stats) == generation_counts(stats)
    # one shard per task and config (each task writes its own): the same rows, in more files
    assert {k: v["rows"] for k, v in three_stats["languages"].items()} == {k: v["rows"] for k, v in
                                                                           stats["languages"].items()}
    # the same requests reached the model, each once, and all three tasks asked some of them
    one, three = sent(calls[1]), sent(calls[3])
    assert sorted(three) == sorted(one) and len(set(one)) == len(one)
    progress = [json.loads(p.read_text()) for p in sorted((tmp_path / "t3" / ".curate/progress/generate").glob("*"))]
    assert len(progress) == 3 and all(p["done"] and p["answered"] > 0 for p in progress)
    # the tasks' own caches were merged into the run's one cache when the run ended
    assert not list((tmp_path / "t3" / ".curate" / "cache").glob("*.sqlite"))
    merged = sqlite3.connect(f"{(tmp_path / 't3' / 'cache' / 'requests.sqlite').as_uri()}?mode=ro", uri=True)
    assert merged.execute("SELECT COUNT(*) FROM completions").fetchone()[0] == len(three)

    # The other direction (1 task, then 3) is the same mechanism; one rerun keeps the suite short.
    result = run_cli("run", recipes[3], "--fresh", "--set", "llm.tasks=1")
    assert result.exit_code == 0, result.output
    rerun = load_stats(tmp_path / "t3")
    assert len(sent(calls[3])) == len(one)  # nothing reached the model
    assert rerun["llm_cache"]["hits"] == rerun["generation"]["swh_Latn"]["prompts"] == len(one)
    assert published(tmp_path / "t3") == rows


def test_retry_failures_with_three_tasks_asks_again_only_for_the_failures(tmp_path):
    calls = tmp_path / "calls.txt"
    path = write_recipe(tmp_path / "r.yaml", sharded_recipe(tmp_path, "retry", calls, 3))
    assert run_cli("run", path).exit_code == 0
    ledgers = sorted((tmp_path / "retry" / "failures").glob("*.jsonl"))
    assert [p.name for p in ledgers] == ["00000.jsonl", "00001.jsonl", "00002.jsonl"]  # one per task
    failed = [json.loads(line) for p in ledgers for line in p.read_text().splitlines()]
    # the fake model's answers are about the Nile, not the curated passages: each QA prompt fails
    assert len(failed) == 4 and {f["reason"] for f in failed} == {"answer_not_in_passage"}
    before = len(sent(calls))
    result = run_cli("run", path, "--retry-failures")
    assert result.exit_code == 0, result.output
    stats = load_stats(tmp_path / "retry")
    assert len(sent(calls)) - before == len(failed)  # the rest came from the cache
    assert stats["llm_cache"]["hits"] == stats["generation"]["swh_Latn"]["prompts"] - len(failed)
    assert stats["accounting"]["ok"], stats["accounting"]


@pytest.mark.slow  # a `curate run` subprocess killed mid-generation, its rerun, and a run to compare (~25 s)
def test_a_killed_task_reruns_without_asking_anything_twice(tmp_path):
    """Three tasks in one worker (one after another, in one process): the process is killed once its
    fourth answered batch is stored, mid-way through a task. The rerun skips the finished tasks, and the
    killed one finds what it was answered in its own cache file (no merge ran: finalize did not)."""
    calls = tmp_path / "calls.txt"
    path = write_recipe(tmp_path / "r.yaml", sharded_recipe(tmp_path, "killed", calls, 3))
    env = {**os.environ, "PYTHONPATH": str(REPO), "CURATE_FAULT": "llm/stored@4"}
    process = subprocess.Popen([sys.executable, "-m", "curation.cli", "run", str(path)], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    assert process.wait() == -signal.SIGKILL
    kill_group(process.pid)
    assert list((tmp_path / "killed" / ".curate" / "cache").glob("generate-*.sqlite"))
    assert not (tmp_path / "killed" / "cache" / "requests.sqlite").exists()
    before = len(sent(calls))
    result = run_cli("run", path)
    assert result.exit_code == 0, result.output
    assert len(sent(calls)) > before and len(set(sent(calls))) == len(sent(calls))

    alone = tmp_path / "alone.txt"
    assert run_cli("run", write_recipe(tmp_path / "a.yaml", sharded_recipe(tmp_path, "killed", alone, 1,
                                                                           output="alone"))).exit_code == 0
    assert published(tmp_path / "killed") == published(tmp_path / "alone")
    assert sorted(sent(calls)) == sorted(sent(alone))
