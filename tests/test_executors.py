"""Executor sections of a recipe map onto datatrove's executors (Slurm is built, not submitted, here)."""

from __future__ import annotations

from pathlib import Path

from datatrove.executor import SlurmPipelineExecutor

from curation.compile import compile_recipe
from curation.inputs import expand_inputs
from curation.layout import RunLayout
from curation.pipeline import make_executors
from curation.recipe import load_recipe
from tests.conftest import write_jsonl


def test_slurm_section_builds_chained_slurm_executors(tmp_path, recipe_file):
    write_jsonl(tmp_path / "in.jsonl", [{"text": "Habari ya asubuhi, rafiki yangu."}])
    recipe = load_recipe(recipe_file({
        "name": "cluster", "output": str(tmp_path / "out"), "inputs": [{"path": str(tmp_path / "in.jsonl")}],
        "steps": [{"lid": None}, {"dedup": None}],
        "executor": {"slurm": {"tasks": 64, "partition": "cpu", "time": "02:00:00", "cpus_per_task": 2,
                               "mem_per_cpu_gb": 4, "sbatch_args": {"account": "lowres"}}},
    }))
    layout = RunLayout(Path(recipe.output))
    stages = compile_recipe(recipe, expand_inputs(recipe.inputs), layout)
    executors = make_executors(recipe, stages, layout)
    assert all(isinstance(e, SlurmPipelineExecutor) for e in executors)
    # curate, then every deciding stage of dedup at the recipe's task count, publish, finalize
    assert [e.tasks for e in executors] == [64, 64, 64, 64, 64, 64, 64, 64, 64, 1]
    assert [e.depends for e in executors[1:]] == executors[:-1]
    first = executors[0]
    assert (first.partition, first.time, first.cpus_per_task, first.mem_per_cpu_gb) == ("cpu", "02:00:00", 2, 4)
    assert first._sbatch_args["account"] == "lowres"
    assert str(first.logging_dir.path).endswith("logs/curate")


def test_hub_dataset_input_streams_through_datasets(tmp_path, recipe_file, monkeypatch):
    """`hf:` inputs go through datasets.load_dataset(streaming=True); a local dataset folder stands in for the Hub."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.conftest import load_stats, run_cli

    folder = tmp_path / "hub-dataset" / "data"
    folder.mkdir(parents=True)
    texts = ["Mvua kubwa ilinyesha jana usiku.", "Ọjà ńlá ni ìlú wa.", ""]
    pq.write_table(pa.table({"content": texts}), folder / "train-00000-of-00001.parquet")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    path = recipe_file({"name": "hub", "output": str(tmp_path / "out"),
                        "inputs": [{"hf": str(tmp_path / "hub-dataset"), "text_key": "content"}],
                        "executor": {"local": {"tasks": 1}}})
    result = run_cli("run", path)
    assert result.exit_code == 0, result.output
    stats = load_stats(tmp_path / "out")
    assert stats["languages"]["und"]["rows"] == 2
    assert stats["quarantine"]["by_reason"] == {"empty_text": 1}
