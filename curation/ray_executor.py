"""curate's Ray executor: datatrove's, each task a Ray task in a pooled worker process, not an actor of its own.

datatrove's RayPipelineExecutor starts a placement group and a new actor for every task, and the actor's
process exits with it: each task of each stage paid a Python start-up and the import of datatrove and curate
when it unpickled its pipeline (5-10 s a stage on a busy 2-core machine, measured; a recipe with dedup
runs ten stages). A Ray task hands its worker process back to the node's pool when it ends, and the next
stage's tasks of the same driver run in it, everything imported (0.01 s a stage, measured). Tasks then run
one after another in one process, as datatrove's local executor runs them with `workers=1`.

A stage that loads the recipe's model or trains gets a fresh process per task (`max_calls=1`), so what
the model held (memory, a GPU) is freed when the task ends, as Ray does for any task that asks for a GPU.
"""

from __future__ import annotations

import json
from typing import Any

from datatrove.executor.ray import RayPipelineExecutor  # ray itself: when a stage runs (optional)
from datatrove.utils.logging import logger
from datatrove.utils.stats import PipelineStats


def run_rank(executor: RayStageExecutor, rank: int) -> None:
    """One task, in a Ray worker: datatrove's own task body (logs, stats, completion file)."""
    executor._run_for_rank(rank)


class RayStageExecutor(RayPipelineExecutor):
    """A stage's tasks as Ray tasks, at most `workers` at a time. Like datatrove's executor it returns when
    every task has ended, failed ones included: the caller, which runs the stages one after another,
    checks the completion files (`curation.pipeline.run_ray_stages`); `depends` is not waited on here."""

    def __init__(self, *args: Any, fresh_process: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fresh_process = fresh_process

    def run(self) -> None:
        import ray

        self._launched = True
        ranks = self.get_incomplete_ranks(range(self.world_size))
        if not ranks:
            logger.info(f"All {self.world_size} tasks appear to be completed already. Nothing to run.")
            return
        self.save_executor_as_json()
        # max_calls: how many tasks a worker process runs before it exits (0: no limit)
        task = ray.remote(max_calls=1 if self.fresh_process else 0, num_cpus=self.cpus_per_task,
                          num_gpus=self.gpus_per_task,
                          memory=int(self.mem_per_cpu_gb * self.cpus_per_task * 1024**3))(run_rank)
        executor = ray.put(self)
        waiting, running, failed = list(ranks), [], 0
        while waiting or running:
            while waiting and len(running) < self.workers:
                running.append(task.remote(executor, waiting.pop(0)))
            ended, running = ray.wait(running, num_returns=1)
            failed += not task_succeeded(ended[0])
        if failed:
            logger.warning(f"{failed} of {len(ranks)} tasks failed.")
        else:
            self.merge_stats()

    def merge_stats(self) -> None:
        """The stage's stats.json, every task's summed (as datatrove's executors leave it)."""
        total = PipelineStats()
        for rank in range(self.world_size):
            with self.logging_dir.open(f"stats/{rank:05d}.json", "r") as f:
                total += PipelineStats.from_json(json.load(f))
        with self.logging_dir.open("stats.json", "wt") as f:
            total.save_to_disk(f)


def task_succeeded(ended: Any) -> bool:
    """Whether a finished Ray task returned; one that raised has its traceback in its task log already."""
    import ray

    try:
        ray.get(ended)
    except ray.exceptions.RayError as e:
        logger.warning(f"a Ray task failed: {type(e).__name__}")
        return False
    return True
