"""What the real-cluster tests (test_slurm.py, test_ray_nodes.py) share: the inputs they curate, the
recipe they run, the local executor's run of it (once per session: the `cluster_reference` fixture in
conftest.py) and the parts of a run's output that must equal that run's."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from tests.conftest import load_stats, run_cli, write_jsonl, write_recipe

TEXTS = [
    "Mvua kubwa ilinyesha jana usiku na wakulima katika kijiji chetu wamefurahi sana.",
    "हिजो राति ठूलो पानी पर्‍यो र गाउँका किसानहरू धेरै खुसी भए।",
    "Вчера вечером шёл сильный дождь, и фермеры нашей деревни очень обрадовались.",
    "昨天晚上下了一场大雨，我们村里的农民都非常高兴。",
]


def make_inputs(folder: Path) -> None:
    """Three files of the four texts in four scripts (the first file's with one more word): exact
    duplicates across files and tasks for dedup, near ones beside them."""
    folder.mkdir(parents=True)
    for part in range(3):
        write_jsonl(folder / f"part-{part}.jsonl",
                    [{"id": f"{part}-{i}", "text": text + ("" if part else " Asante.")} for i, text in enumerate(TEXTS)])


def cluster_recipe(inputs: Path, output: Path, executor: dict, where: Path) -> dict:
    """The recipe every cluster test runs: LID and dedup (so the multi-task deciding stages cross the
    cluster), after a step that records, per task, the node it ran on into `where`."""
    record = {"custom": {"use": "tests.steps_for_tests:RecordWhereItRan", "args": {"folder": str(where)}}}
    return {"name": output.name, "output": str(output), "inputs": [{"path": str(inputs / "*.jsonl"), "id_key": "id"}],
            "steps": [record, {"lid": None}, {"dedup": None}], "executor": executor}


def run_locally(folder: Path) -> tuple[Path, Path]:
    """make_inputs into `folder`/in and the cluster recipe on the local executor (two tasks) into
    `folder`/local: (the inputs folder, the reference output). The cluster runs read the same inputs."""
    inputs, output = folder / "in", folder / "local"
    make_inputs(inputs)
    recipe = write_recipe(folder / "local.yaml", cluster_recipe(inputs, output, {"local": {"tasks": 2}}, folder / "where"))
    result = run_cli("run", recipe)
    assert result.exit_code == 0, result.output
    return inputs, output


def shard_rows(output: Path) -> dict[str, list[dict]]:
    """Every published Parquet shard's rows, by path under the output folder."""
    return {str(p.relative_to(output)): pq.read_table(p).to_pylist() for p in sorted((output / "data").rglob("*.parquet"))}


def counts(output: Path) -> dict:
    """stats.json's counts: every step's in/kept/dropped per language, the languages and the accounting."""
    stats = load_stats(output)
    return {"languages": stats["languages"], "accounting": stats["accounting"],
            "steps": [{k: v for k, v in step.items() if "time" not in k} for step in stats["steps"]]}
