"""Training and the Hub push as pipeline steps, for the stages that follow finalize on a cluster.

With the local executor `curate run` trains and pushes in its own process once the pipeline has
finished (it shows the training bar, and a failure there exits 1 with the command that redoes only
that part). On Slurm the CLI returns as soon as the jobs are submitted, and on Ray a GPU may sit on
another node than the driver, so there the recipe's `train:` and `push:` blocks become two more
stages after finalize (`curation.compile.after_run_stages`):

    train   one task per adapter (a GPU each, like the model stages): `curation.train.train`
            with the task's rank, each adapter's metrics added to stats.json under a lock
    push    one task: `curation.hub.push_output`, its outcome left in .curate/push.json for the CLI

Both are datatrove steps, so a finished one is skipped when the run is resumed (its completion
file), and a failed one is run again. Neither holds a secret: the push step knows the *name* of
the variable that holds the Hub token and reads it in the task, so the token is never pickled into
an sbatch job or a Ray task; it reaches the task through the job's environment (sbatch passes the
submitter's by default; Ray workers inherit the environment their node was started with).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep

from curation.errors import AccountingError, InputError
from curation.hub import TOP_LEVEL_FILES, push_output
from curation.layout import RunLayout
from curation.recipe import PushSpec, TrainSpec
from curation.train import train
from curation.workfiles import atomic_write_text

logger = logging.getLogger(__name__)


def require_balanced_accounts(layout: RunLayout, what: str) -> None:
    """Neither train on nor publish a run whose numbers do not add up (locally, exit 3 stops both)."""
    if not layout.stats.exists():
        raise InputError(f"{layout.output}: no stats.json: the finalize stage did not finish")
    accounting = json.loads(layout.stats.read_text())["accounting"]
    if not accounting["ok"]:
        raise AccountingError(f"not {what}: the run's numbers do not add up: " + "; ".join(accounting["problems"]))


class TrainStep(PipelineStep):
    """Task `rank` of the train stage: its share of the recipe's adapters (one each with `per_language`)."""

    name = "train"
    type = "after run"

    def __init__(self, output: str, spec: TrainSpec):
        super().__init__()
        self.output = output
        self.spec = spec

    def reads(self, rank: int, world_size: int) -> list[str]:
        """What a task pulls when the output is a URL: the published shards, stats.json and earlier
        checkpoints (training resumes from the last complete one)."""
        output = Path(self.output)
        return [str(output / "stats.json"), str(output / "data" / "*"), str(output / "train" / "*")]

    def run(self, data=None, rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        layout = RunLayout(Path(self.output))
        require_balanced_accounts(layout, "training")

        def log_step(adapter: str, step: int, total: int, loss: float | None) -> None:
            if loss is not None:
                logger.info("train %s: step %d/%d, loss %.4f", adapter, step, total, loss)

        results = train(layout.output, self.spec, log_step, rank=rank, world_size=world_size)
        self.stat_update("adapters", value=len(results))  # in the task's stats file: which task trained what
        for adapter, metrics in results.items():
            self.stat_update(f"adapter {adapter}")
            logger.info("trained %s: held-out loss %s -> %s", adapter, metrics["held_out_loss_before"],
                        metrics["held_out_loss_after"])
        yield from ()


class PushStep(PipelineStep):
    """The push stage's one task: publish the run to the Hub (a rerun uploads only what changed)."""

    name = "push"
    type = "after run"

    def __init__(self, output: str, spec: PushSpec):
        super().__init__()
        self.output = output
        self.spec = spec  # the token's variable name, never the token

    def reads(self, rank: int, world_size: int) -> list[str]:
        """What the task pulls when the output is a URL: the files a push uploads."""
        output = Path(self.output)
        return [*(str(output / name) for name in TOP_LEVEL_FILES), str(output / "data" / "*")]

    def run(self, data=None, rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        layout = RunLayout(Path(self.output))
        require_balanced_accounts(layout, "pushing")
        spec = self.spec
        result = push_output(layout.output, spec.repo_id, private=spec.private, endpoint=spec.endpoint,
                             revision=spec.revision, token=os.environ.get(spec.token_env) or None)
        atomic_write_text(layout.push_result, json.dumps(asdict(result), indent=2))
        logger.info("pushed to %s: %d file(s) uploaded, %d already there, %d commit(s)", result.url,
                    len(result.uploaded), len(result.skipped), result.commits)
        yield from ()
