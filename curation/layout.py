"""Every path a run uses, derived from its output folder (one place, so no stage builds a path by hand).

    out/<name>/
      data/ README.md stats.json report.html recipe.resolved.yaml      what a run publishes
      quarantine/ rejects/<step>/ failures/ cache/requests.sqlite      side outputs (the cache merged at the end)
      .curate/                                                          work files between stages
        docs/ docs-2/      records a stage leaves for the next (one file per task)
        dedup/ select/     what the whole-run decisions need and decide
        decontaminate/     the benchmark n-gram index, and the items each task found
        shards/            staged Parquet shards, published into data/ by finalize
        distributions/     per-task score and length sketches for the report
        cache/             each task's own request cache (<stage>-<rank>.sqlite), merged into cache/ by finalize
        progress/ logs/ fingerprint inputs.json retry_attempt push.json
        lock               held by the `curate run` writing here (curation.runlock)

An output URL (s3://bucket/run) has the same layout in a local mirror folder, and `remote` says where
the run really lives (curation.remote): the paths here are then the mirror's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from curation.remote import RemoteOutput


def config_folder(folder: str, task: str | None) -> str:
    """The output config of a record: its language folder, and for generated records `-<task>`
    (`sw`, `sw-instruction`): one config per language and generation task."""
    return f"{folder}-{task}" if task else folder


def config_language(config: str) -> str:
    """The language folder of an output config: `sw-instruction` -> `sw`, `sw` -> `sw`."""
    return config.split("-")[0]


@dataclass
class RunLayout:
    """Every path a run uses, derived from the output folder (the mirror's, when `remote` is set)."""

    output: Path
    remote: RemoteOutput | None = None
    work: Path = field(init=False)

    def __post_init__(self) -> None:
        self.output = Path(self.output)
        self.work = self.output / ".curate"

    def logs(self, stage: str) -> Path:
        return self.work / "logs" / stage

    @property
    def where(self) -> str:
        """The output as the user named it: the folder, or the URL of a remote output."""
        return self.remote.url if self.remote is not None else str(self.output)

    def handoff(self, number: int) -> Path:
        """Where the `number`-th stage that hands records on leaves them (docs, docs-2, ...)."""
        return self.work / ("docs" if number == 0 else f"docs-{number + 1}")

    @property
    def docs(self) -> Path:
        return self.handoff(0)

    @property
    def dedup(self) -> Path:
        return self.work / "dedup"

    @property
    def select(self) -> Path:
        return self.work / "select"

    @property
    def decontamination(self) -> Path:
        return self.work / "decontaminate"

    @property
    def staging(self) -> Path:
        return self.work / "shards"

    @property
    def quarantine(self) -> Path:
        return self.output / "quarantine"

    @property
    def benchmark_quarantine(self) -> Path:
        """Unreadable benchmark items (one folder per benchmark): not input records, so not in the run's counts."""
        return self.quarantine / "benchmarks"

    def rejects(self, step: str) -> Path:
        return self.output / "rejects" / step

    @property
    def failures(self) -> Path:
        return self.output / "failures"

    @property
    def generation_progress(self) -> Path:
        return self.work / "progress" / "generate"

    def distributions(self, stage: str = "") -> Path:
        """The report's sketches: every stage's (no argument), or one stage's folder."""
        return self.work / "distributions" / stage

    @property
    def cache(self) -> Path:
        """The merged request cache: every finished run's answers, read (never written) by the tasks."""
        return self.output / "cache" / "requests.sqlite"

    @property
    def task_caches(self) -> Path:
        """Where each task of a stage that asks a model keeps its own request cache until finalize merges it."""
        return self.work / "cache"

    def task_cache(self, stage: str, rank: int) -> Path:
        return self.task_caches / f"{stage}-{rank:05d}.sqlite"

    @property
    def stats(self) -> Path:
        return self.output / "stats.json"

    @property
    def fingerprint(self) -> Path:
        return self.work / "fingerprint"

    @property
    def inputs(self) -> Path:
        """The input files the run read, with their sizes and modification times."""
        return self.work / "inputs.json"

    @property
    def lock(self) -> Path:
        return self.work / "lock"

    @property
    def push_result(self) -> Path:
        """What a cluster run's push stage did (url, files uploaded and skipped, commits), for the CLI to print."""
        return self.work / "push.json"

    @property
    def retry_attempt(self) -> Path:
        return self.work / "retry_attempt"
