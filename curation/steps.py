"""The step contract every curate step follows, and the counting that makes accounting work.

A step is a datatrove `PipelineStep`: an iterator of `Document`s in, an iterator out. Every
record that enters a counted step leaves it as exactly one of

    kept                 yielded to the next step
    dropped[reason]      removed on purpose (a filter said no, it is a duplicate, ...)
    quarantined[reason]  unusable input (bad JSON, bad UTF-8, no text, too large)

and the step counts it, per language, in datatrove's per-task stats under keys
`in/<lang>`, `kept/<lang>`, `dropped/<lang>/<reason>`, `quarantined/<lang>/<reason>`.
`curation.stats` merges those files into stats.json and checks the equations, including that
every step's `in` equals the previous step's `kept`: a step that loses a record fails the run.
"""

from __future__ import annotations

import json
import logging
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers.disk_base import DiskWriter
from datatrove.pipeline.writers.jsonl import JsonlWriter

from curation.distributions import ScoreRecorder
from curation.faults import fault_point
from curation.workfiles import atomic_write_text

logger = logging.getLogger(__name__)

UNKNOWN_LANG = "und"
ACCOUNT_PREFIXES = ("in/", "kept/", "dropped/", "quarantined/")


def record_lang(doc: Document) -> str:
    """The language a record is counted under: its LID label, or `und` before LID."""
    return doc.metadata.get("lang") or UNKNOWN_LANG


def _clean_reason(reason: str) -> str:
    # "/" separates the parts of a stats key, so it may not appear inside a reason.
    return reason.replace("/", "_") or "unspecified"


class RedactingJsonlWriter(JsonlWriter):
    """A rejects writer that passes every record through `redact` (scrubs a Document in place) first:
    with a `pii` step in the recipe, records dropped before it reach it unredacted."""

    def __init__(self, output_folder: str, redact: Callable[[Document], object], **kwargs: Any):
        super().__init__(output_folder, **kwargs)
        self.redact = redact

    def write(self, document: Document, rank: int = 0, **kwargs: Any) -> None:
        self.redact(document)
        super().write(document, rank, **kwargs)


@dataclass(frozen=True)
class SideOutputs:
    """Where a counted step writes besides its records; the compiler chooses them from the recipe.

    rejects: a writer for dropped records (filters only; `dataset.rejects: true`).
    distributions: the folder for this step's per-task score/length sketches (the report's plots).
    """

    rejects: DiskWriter | None = None
    distributions: str | None = None


class CountedStep(PipelineStep):
    """Base for steps that account for every record they see.

    Subclasses call `self.keep_record`, `self.drop_record` or `self.quarantine_record` exactly
    once per record that entered; the `in` count is made by those calls, by the record's
    language at the time of the decision (so a LID step counts a record under the language it
    just found). `outputs`: the side outputs (rejects, sketches) this step writes, if any.
    """

    type = "curate"

    def __init__(self, outputs: SideOutputs | None = None):
        super().__init__()
        self.outputs = outputs or SideOutputs()

    def write_distribution(self, rank: int, payload: dict[str, Any]) -> None:
        """This task's sketch file (`<step>-<rank>.json`), written whole or not at all."""
        if self.outputs.distributions is not None:
            atomic_write_text(Path(self.outputs.distributions) / f"{self.name}-{rank:05d}.json", json.dumps(payload))

    def _count(self, lang: str, outcome: str, reason: str | None) -> None:
        key = f"{outcome}/{lang}" if reason is None else f"{outcome}/{lang}/{_clean_reason(reason)}"
        self.stat_update(f"in/{lang}", key)
        fault_point(f"record/{self.name}")

    def keep_record(self, doc: Document) -> Document:
        self._count(record_lang(doc), "kept", None)
        return doc

    def drop_record(self, doc: Document, reason: str) -> None:
        self._count(record_lang(doc), "dropped", reason)

    def quarantine_record(self, lang: str, reason: str) -> None:
        self._count(lang, "quarantined", reason)


class Filter(CountedStep):
    """A step that only decides: `keep(doc)` returns True, or `(False, reason)`.

    The base class counts every decision and, when its side outputs have a rejects writer, writes
    dropped records there with `drop_stage` and `drop_reason` in their metadata. A filter that
    scores records (`score_prefix`: its names in `metadata["scores"]`) also gets the distribution
    of those scores, kept and dropped, per language, with the thresholds it applied, into
    stats.json and the report (see `curation.distributions`).
    """

    score_prefix: str | None = None

    def scores_to_record(self, doc: Document) -> Mapping[str, float]:
        """The scores of `doc` this step computed (those under `score_prefix`)."""
        scores = doc.metadata.get("scores") or {}
        return {k: v for k, v in scores.items() if k.startswith(self.score_prefix or "\0")}

    def declare_thresholds(self, doc: Document, recorder: Any) -> None:
        """Tell `recorder` (a `ScoreRecorder`) the limits applied to `doc`'s language, once per
        language; the report draws them over the score histograms. Default: none."""

    @abstractmethod
    def keep(self, doc: Document) -> bool | tuple[bool, str]:
        """True to keep the record; `(False, reason)` to drop it under that reason."""

    def run(self, data: Iterable[Document], rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        rejects = self.outputs.rejects
        if rejects is not None:
            rejects.__enter__()
        recorder = self._score_recorder()
        declared: set[str] = set()
        try:
            for doc in data:
                verdict = self.keep(doc)
                kept = verdict is True or (isinstance(verdict, tuple) and verdict[0])
                if recorder is not None:
                    self._record_scores(recorder, declared, doc, kept)
                if kept:
                    yield self.keep_record(doc)
                    continue
                reason = verdict[1] if isinstance(verdict, tuple) else self.name
                self.drop_record(doc, reason)
                if rejects is not None:
                    doc.metadata["drop_stage"] = self.name
                    doc.metadata["drop_reason"] = reason
                    rejects.write(doc, rank)
        finally:
            if rejects is not None:
                rejects.__exit__(None, None, None)
            if recorder is not None:
                self.write_distribution(rank, recorder.to_json())

    def _score_recorder(self) -> ScoreRecorder | None:
        if self.score_prefix is None or self.outputs.distributions is None:
            return None
        return ScoreRecorder(self.name)

    def _record_scores(self, recorder: ScoreRecorder, declared: set[str], doc: Document, kept: bool) -> None:
        lang = record_lang(doc)
        if lang not in declared:
            declared.add(lang)
            self.declare_thresholds(doc, recorder)
        scores = self.scores_to_record(doc)
        if scores:
            recorder.record(lang, scores, kept)
