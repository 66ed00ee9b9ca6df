"""A recipe with `executor: {ray: {address: ...}}` run on a real multi-node Ray cluster
(tests/ray_cluster.py: a head with no CPUs and two one-CPU worker nodes, separate processes on this
machine, with token authentication): every task runs on a worker node, both nodes get work, the
workers import this checkout's curate, and the output equals the local executor's."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests import ray_cluster
from tests.cluster_runs import cluster_recipe, counts, make_inputs, shard_rows
from tests.conftest import REPO, load_stats, run_cli

# Measured on the 2-core machine beside other jobs (load ~4): `curate run` on the cluster takes ~14 s for
# its ten stages (the first stage's tasks start the Ray worker processes, the later stages reuse them;
# it took 55-75 s when every task was an actor of its own). 300 s absorbs a far busier machine; a hung
# run still fails the test instead of hanging it.
RUN_SECONDS = 300


def recipe(tmp_path: Path, name: str, executor: dict) -> dict:
    make_inputs(tmp_path / "in")
    return cluster_recipe(tmp_path / "in", tmp_path / name, executor, tmp_path / f"where-{name}")


def curate_run(recipe_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`curate run` as a user starts it: its own process (its own Ray driver), from the checkout."""
    return subprocess.run([sys.executable, "-m", "curation.cli", "run", str(recipe_path)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=RUN_SECONDS)


@pytest.fixture(scope="module")
def cluster():
    reason = ray_cluster.unavailable()
    if reason:
        pytest.skip(reason)
    with ray_cluster.RayCluster(workers={"a": 1, "b": 1}) as running:
        yield running


@pytest.mark.slow  # three Ray nodes (~13-30 s to start), the shared local run (~20 s), the Ray run (~14 s)
def test_a_recipe_on_a_real_multi_node_ray_cluster_matches_the_local_run(tmp_path, recipe_file, cluster,
                                                                          cluster_reference):
    inputs, local = cluster_reference
    ray_executor = {"ray": {"address": cluster.address, "tasks": 2, "cpus_per_task": 1, "mem_per_cpu_gb": 0.5}}
    result = curate_run(recipe_file(cluster_recipe(inputs, tmp_path / "ray", ray_executor, tmp_path / "where-ray")),
                        cluster.driver_env)
    assert result.returncode == 0, result.stdout + result.stderr

    # The head has no CPUs, so no task could run there; with one CPU per worker node, the two tasks of the
    # first stage ran side by side, one on each node, and imported the curate of this checkout.
    where = [json.loads(p.read_text()) for p in sorted((tmp_path / "where-ray").glob("*.json"))]
    assert sorted(w["node"] for w in where) == ["a", "b"]
    assert {Path(w["curation"]).resolve().parent.parent for w in where} == {REPO}

    output = tmp_path / "ray"
    assert shard_rows(output) == shard_rows(local) != {}
    assert counts(output) == counts(local)
    assert load_stats(output)["accounting"]["ok"]


@pytest.mark.slow  # shares the cluster above
def test_a_driver_without_the_clusters_token_gets_one_line_not_a_traceback(tmp_path, recipe_file, cluster):
    # A user who set nothing: no token in the environment, none in the home folder (~/.ray/auth_token).
    env = {k: v for k, v in cluster.driver_env.items() if not k.startswith("RAY_AUTH")} | {"HOME": str(tmp_path)}
    # Ray asks the GCS 20 times, a second apart, before it gives up on a refused driver (~25 s of the
    # test's 30 s); the error it raises then is the same after one try.
    env["RAY_NUM_REDIS_GET_RETRIES"] = "1"
    ray_executor = {"ray": {"address": cluster.address, "tasks": 2}}
    result = curate_run(recipe_file(recipe(tmp_path, "denied", ray_executor)), env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "token" in result.stderr and cluster.address in result.stderr
    assert not (tmp_path / "denied" / "stats.json").exists()


def test_an_address_where_nothing_listens_fails_at_once_not_after_ray_retries(tmp_path, recipe_file):
    """Ray retries an absent GCS for ~13 minutes; curate checks the port first and says so in one line."""
    pytest.importorskip("ray")
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    result = run_cli("run", recipe_file(recipe(tmp_path, "nowhere", {"ray": {"address": address}})))
    assert result.exit_code == 2
    assert f"no Ray cluster answers at {address}" in result.output
    assert not (tmp_path / "nowhere" / "stats.json").exists()
