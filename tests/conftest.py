"""Shared helpers: write small input files and run recipes through the real CLI."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from curation.cli import app

REPO = Path(__file__).resolve().parent.parent
QUICKSTART_DATA = REPO / "recipes" / "data" / "quickstart"


def needs(*modules: str, reason: str) -> pytest.MarkDecorator:
    """Skip unless `modules` are installed, found without importing them: a module-level importorskip
    of vllm cost every collection ~6 s, `-m "not slow"` runs included."""
    return pytest.mark.skipif(not all(importlib.util.find_spec(m) for m in modules), reason=reason)


def pytest_configure(config: pytest.Config) -> None:
    """What `curate`'s main() does before torch loads OpenMP, for the runs the tests start in this process
    (CliRunner never calls main()): threads waiting at a barrier sleep. The suite runs servers, clusters
    and child runs beside the in-process model work, where spinning threads cost 3-10x."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# `make test` runs the suite on two xdist workers (`-n 2`). A unit of work goes to one worker, whole: by
# default a test file (its module fixtures are then built once). The tests that load the bundled model in
# the pytest process (vLLM or torch) form one unit, run one after another: two of them side by side would
# take most of the machine's 24 GiB. The tests that ask the session's served model form another (the
# server starts once, on one worker); with OpenMP's waiting threads asleep (OMP_WAIT_POLICY=PASSIVE) the
# server and an in-process model share the two cores in proportion (README: vLLM-CPU jobs side by side).
# Files whose tests share a session fixture (the fault matrix's reference run, the cluster tests' local
# run) are one unit, so it is made once. The long units go first, so the short files even out the end.
# The units are known from the test ids alone: pytest-xdist's own `--dist loadgroup` reads markers, but
# with pytest 9 it no longer sees them (it rewrites a node id attribute pytest stopped reading).
IN_PROCESS_MODELS = "in-process models"
SERVED_MODEL = "served model"
UNITS_BY_FILE = {
    **dict.fromkeys(["test_after_run.py", "test_preference.py", "test_train.py", "test_vllm.py"], IN_PROCESS_MODELS),
    **dict.fromkeys(["test_math.py", "test_openai_server.py", "test_retrieval.py", "test_safety.py"], SERVED_MODEL),
    **dict.fromkeys(["test_faults_disk.py", "test_faults_kill.py", "test_faults_lock.py"], "fault matrix"),
    **dict.fromkeys(["test_ray_nodes.py", "test_slurm.py"], "clusters"),
}
# the longest units, in this order (the busy machine: a minute's CPU hog); then the other files
FIRST_UNITS = [IN_PROCESS_MODELS, SERVED_MODEL, "tests/test_busy_machine.py", "clusters", "fault matrix",
               "tests/test_remote_output.py"]


def unit_of_work(nodeid: str) -> str:
    """The unit of work a test belongs to (UNITS_BY_FILE, else its file), from its id."""
    path = nodeid.split("::")[0]
    return UNITS_BY_FILE.get(path.rsplit("/", 1)[-1], path)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, called on `-n N` only
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class ByUnitOfWork(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of_work(nodeid)

    config.option.loadscopereorder = False  # keep the order below: FIRST_UNITS first
    return ByUnitOfWork(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a model-backed test outside its unit (it would run beside another model, or start a second
    server), and put FIRST_UNITS first, in that order."""
    for item in items:
        served = "vllm_server" in item.fixturenames
        expected = SERVED_MODEL if served else IN_PROCESS_MODELS if item.get_closest_marker("model") else None
        if expected and unit_of_work(item.nodeid) != expected:
            raise pytest.UsageError(f"{item.path.name} has tests of the unit '{expected}': "
                                    "add it there in UNITS_BY_FILE (tests/conftest.py)")
    first = {unit: position for position, unit in enumerate(FIRST_UNITS)}
    items.sort(key=lambda item: first.get(unit_of_work(item.nodeid), len(first)))


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def write_recipe(path: Path, recipe: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    return path


def run_cli(*args: str) -> Any:
    """Invoke `curate ...` in-process; returns the click Result (exit_code, output)."""
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def load_stats(output: Path) -> dict[str, Any]:
    return json.loads((output / "stats.json").read_text())


def step_stats(stats: dict[str, Any], step: str) -> dict[str, Any]:
    return next(s for s in stats["steps"] if s["step"] == step)


@pytest.fixture
def recipe_file(tmp_path: Path):
    """Write a recipe dict to tmp_path/recipe.yaml and return its path."""

    def make(recipe: dict[str, Any]) -> Path:
        return write_recipe(tmp_path / "recipe.yaml", recipe)

    return make


@pytest.fixture(autouse=True)
def orphans():
    """Kill, after each test, the process groups of the runs a fault test killed (tests.fault_matrix)."""
    yield
    from tests.fault_matrix import ORPHANED_GROUPS, kill_group

    while ORPHANED_GROUPS:
        kill_group(ORPHANED_GROUPS.pop())


@pytest.fixture(scope="session")
def matrix_reference(tmp_path_factory):
    """The fault matrix's uninterrupted run (tests.fault_matrix.reference_run), made once for the kill,
    disk and lock tests that compare their runs with it: (output folder, the fault points it reached)."""
    from tests.fault_matrix import reference_run

    return reference_run(tmp_path_factory.mktemp("matrix-reference"))


@pytest.fixture(scope="session")
def vllm_server(tmp_path_factory):
    """The bundled model behind vLLM's OpenAI-compatible server, started once for every test that asks
    (tests/vllm_server.py); yields its API root. Use `tests.vllm_server.served_llm(url)` as a recipe's llm."""
    pytest.importorskip("vllm", reason="the vLLM server is installed by `make install`")
    from tests.vllm_server import served_bundled_model

    try:
        with served_bundled_model(tmp_path_factory.mktemp("vllm-server") / "server.log") as base_url:
            yield base_url
    except RuntimeError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def cluster_reference(tmp_path_factory):
    """(inputs, output) of the local executor's run of the cluster tests' recipe (tests/cluster_runs.py),
    made once: the Ray and Slurm runs each compare their output with it (~30 s a run on the busy machine)."""
    from tests.cluster_runs import run_locally

    return run_locally(tmp_path_factory.mktemp("cluster-reference"))
