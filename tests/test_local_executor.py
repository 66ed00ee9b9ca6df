"""curation.local_executor: datatrove's local executor minus its per-stage fixed costs, with the same
outcome: every task of every stage runs once, in order, a finished task is skipped on a rerun, a failed
task stops the chain, and executor.json names the dependency instead of embedding it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import multiprocess
import pytest
from datatrove.pipeline.base import PipelineStep

from curation.local_executor import LocalExecutor, remember_loguru_lib_dirs


class Journal(PipelineStep):
    """Appends `<stage> <rank>` to a file when its task runs; raises for the rank told to fail."""

    type = "test"
    name = "journal"

    def __init__(self, path: Path, stage: str, fail_rank: int | None = None):
        super().__init__()
        self.path, self.stage, self.fail_rank = path, stage, fail_rank

    def run(self, data: Any = None, rank: int = 0, world_size: int = 1) -> Any:
        if rank == self.fail_rank:
            raise RuntimeError(f"{self.stage} {rank} failed")
        with self.path.open("a") as journal:
            journal.write(f"{self.stage} {rank}\n")
        yield from data or []


def chain(tmp_path: Path, fail: dict[str, int] | None = None) -> list[LocalExecutor]:
    """Three stages of two tasks each, chained with depends= as curation.pipeline chains them."""
    executors: list[LocalExecutor] = []
    for stage in ("first", "second", "third"):
        step = Journal(tmp_path / "journal", stage, (fail or {}).get(stage))
        executors.append(LocalExecutor([step], tasks=2, workers=1, logging_dir=str(tmp_path / "logs" / stage),
                                       depends=executors[-1] if executors else None))
    return executors


def journal(tmp_path: Path) -> list[str]:
    path = tmp_path / "journal"
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def no_manager(monkeypatch):
    """A Manager process is what one worker no longer needs: starting one fails the test."""
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a Manager process was started for a one-worker stage")

    monkeypatch.setattr(multiprocess, "Manager", refuse)


def test_one_worker_runs_every_task_in_order_without_a_manager_process(tmp_path, no_manager):
    executors = chain(tmp_path)
    stats = executors[-1].run()
    assert journal(tmp_path) == ["first 0", "first 1", "second 0", "second 1", "third 0", "third 1"]
    for stage in ("first", "second", "third"):
        assert sorted(p.name for p in (tmp_path / "logs" / stage / "completions").iterdir()) == ["00000", "00001"]
        assert json.loads((tmp_path / "logs" / stage / "stats.json").read_text())  # merged stats, as datatrove's
    assert stats is not None


def test_a_rerun_skips_finished_tasks_and_a_failed_task_stops_the_chain(tmp_path, no_manager):
    with pytest.raises(RuntimeError, match="second 1 failed"):
        chain(tmp_path, fail={"second": 1})[-1].run()
    assert journal(tmp_path) == ["first 0", "first 1", "second 0"]  # third never started

    chain(tmp_path)[-1].run()  # resumed: only what did not finish
    assert journal(tmp_path)[3:] == ["second 1", "third 0", "third 1"]
    chain(tmp_path)[-1].run()  # all finished: nothing runs again
    assert len(journal(tmp_path)) == 6


def test_executor_json_names_its_dependency_instead_of_embedding_it(tmp_path):
    executors = chain(tmp_path)
    executors[-1].run()
    third = json.loads((tmp_path / "logs" / "third" / "executor.json").read_text())
    assert third["depends"] == str(tmp_path / "logs" / "second")
    assert third["pipeline"][0]["stage"] == "third" and third["world_size"] == 2
    assert json.loads((tmp_path / "logs" / "first" / "executor.json").read_text())["depends"] is None


def test_loguru_computes_its_library_folders_once():
    from loguru._better_exceptions import ExceptionFormatter

    remember_loguru_lib_dirs()
    remember_loguru_lib_dirs()  # twice: not wrapped twice
    first = ExceptionFormatter()._lib_dirs
    assert first == ExceptionFormatter()._lib_dirs
    assert ExceptionFormatter._get_lib_dirs.cache_info().misses == 1
