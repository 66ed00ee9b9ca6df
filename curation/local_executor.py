"""datatrove's `LocalPipelineExecutor` without three fixed costs it pays per stage.

A small run is mostly fixed costs: a recipe with dedup and select compiles to 13 stages, each a datatrove
executor run, and on the 2-core machine the fault matrix's recipe (tests/fault_matrix.py, 13 stages, 24
tasks, 20 s in all) spent about 2.5 s of its wall time on three things no task needs:

- a `multiprocess.Manager()` server process started (and shut down) per stage, even with one worker,
  where it only hands out local rank 0 (~65 ms a stage; a SIGKILLed run also leaves it orphaned);
- `executor.json`, which embeds the whole `depends=` chain: every earlier stage's executor, pipeline
  included, again in each stage's file (quadratic: 1.5 MB for those 13 stages, ~40 ms a stage);
- loguru's `logger.add`, which datatrove calls 3-4 times per task and which recomputes the
  interpreter's library folders through `sysconfig` every time (~15 ms a call).

With one worker, `run` here does what datatrove's does (the same ranks, the same deep copy of the
pipeline per task, the same merged stats) in this process without the Manager, and each task does not
ask again whether it finished (datatrove asks per task what `run` has just listed: two requests a task
when the logs are on object storage); other cases (a worker pool, a dependency still unfinished) are
datatrove's own `run`. Resume is unchanged: completion files.
"""

from __future__ import annotations

import functools
import json
from copy import deepcopy
from typing import Any

from datatrove.executor import LocalPipelineExecutor
from datatrove.executor.base import ExecutorJSONEncoder
from datatrove.utils.logging import logger
from datatrove.utils.stats import PipelineStats


class LocalExecutor(LocalPipelineExecutor):
    """A `LocalPipelineExecutor` that skips the per-stage costs above; chained with `depends=` like it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listed_incomplete: set[int] = set()  # ranks `run` found unfinished and has yet to start

    def run(self) -> PipelineStats | None:
        if self.workers != 1:
            return super().run()
        if self.depends is not None and not self.depends._launched:
            self.depends.run()  # returns once every task of it finished: a failed task raises
        elif self.depends is not None and self.depends.get_incomplete_ranks(skip_completed=True):
            return super().run()  # datatrove waits for a dependency another process is running
        self._launched = True
        ranks = self.get_incomplete_ranks(range(self.local_rank_offset, self.local_rank_offset + self.local_tasks))
        self._listed_incomplete = set(ranks)
        if not ranks:
            logger.info(f"Not doing anything as all {self.local_tasks} tasks have already been completed.")
            return None
        self.save_executor_as_json()
        compiled = self.pipeline
        stats = []
        for rank in ranks:
            self.pipeline = deepcopy(compiled)  # each task starts from the compiled steps, as in datatrove
            stats.append(self._run_for_rank(rank))
        merged = sum(stats, start=PipelineStats())
        with self.logging_dir.open("stats.json", "wt") as statsfile:
            merged.save_to_disk(statsfile)
        logger.success(merged.get_repr(f"All {self.local_tasks} tasks"))
        return merged

    def is_rank_completed(self, rank: int) -> bool:
        # One process runs a local stage's tasks (the output's lock keeps others out): the listing holds.
        if rank in self._listed_incomplete:
            self._listed_incomplete.discard(rank)  # asked once, by the task about to run
            return False
        return super().is_rank_completed(rank)

    def _run_for_rank(self, rank: int, local_rank: int = 0, node_rank: int = -1) -> PipelineStats:
        # here, not at import: a worker of a pool runs tasks in its own process, which needs it too
        remember_loguru_lib_dirs()
        return super()._run_for_rank(rank, local_rank, node_rank)

    def save_executor_as_json(self, indent: int = 4) -> None:
        """executor.json as datatrove writes it, but the dependency named by its logging folder rather
        than embedded (with its own dependency, and so on back to the first stage)."""
        described = {key: value for key, value in self.__dict__.items() if key != "_listed_incomplete"}
        described |= {"world_size": self.world_size,
                      "depends": self.depends.logging_dir.path if self.depends is not None else None}
        with self.logging_dir.open("executor.json", "w") as f:
            json.dump(described, f, cls=ExecutorJSONEncoder, indent=indent)


def remember_loguru_lib_dirs() -> None:
    """Compute loguru's library folders (where its tracebacks stop showing frames) once per process, not
    in every `logger.add`. They come from `sysconfig` and `sys.path`, which a run does not change. Left as
    it is when loguru no longer has the method (a version this was not measured on)."""
    try:
        from loguru._better_exceptions import ExceptionFormatter
    except ImportError:
        return
    lib_dirs: Any = getattr(ExceptionFormatter, "_get_lib_dirs", None)
    if lib_dirs is not None and not hasattr(lib_dirs, "cache_info"):
        ExceptionFormatter._get_lib_dirs = staticmethod(functools.cache(lib_dirs))
