"""The last stage of a whole-run step: a filter whose verdicts an earlier stage of the run decided.

Dedup and select decide over the whole run in stages that talk through files
(curation/workfiles.py); their last stage re-reads each task's records in the order the first stage
saw them and applies the decision made for each (rank, position). `PositionalFilter` is that stage:
a `Filter`, so counting, rejects and reasons are `Filter.run`'s, plus the checks that the task count
and the record count are the first stage's.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path

from datatrove.data import Document

from curation.errors import RunStateError
from curation.steps import Filter, SideOutputs
from curation.workfiles import RankFiles

__all__ = ["PositionalFilter"]


class PositionalFilter(Filter):
    """A filter whose verdict on a record was decided by an earlier stage of the run and is looked up
    by the record's position in this task's stream.

    It must run with the first stage's task count, each task seeing its rank's records in the same
    order; another task count or record count raises `RunStateError`. Subclasses say how to load
    this rank's decisions (`load_decisions`) and the verdict at a position (`keep_at`); the counting,
    the rejects and the reasons are `Filter.run`'s.
    """

    noun = "records"  # what the messages call the records ("docs" for dedup)

    def __init__(self, files: RankFiles, outputs: SideOutputs | None = None):
        super().__init__(outputs)
        self.files = files
        self._position = -1

    @abstractmethod
    def load_decisions(self, rank: int) -> None:
        """Read what the deciding stage wrote for this task's rank."""

    @abstractmethod
    def keep_at(self, position: int, doc: Document) -> bool | tuple[bool, str]:
        """The verdict on `doc`, the record at `position` of this task's stream (`Filter.keep`'s answer)."""

    def decision_files(self, rank: int) -> list[Path]:
        """The files `load_decisions(rank)` reads (pulled first when the output is a URL)."""
        return []

    def reads(self, rank: int, world_size: int) -> list[str]:
        """What this task reads that earlier stages wrote: its rank's meta and decisions."""
        return [str(self.files.meta(rank)), *map(str, self.decision_files(rank))]

    def keep(self, doc: Document) -> bool | tuple[bool, str]:
        return self.keep_at(self._position, doc)

    def run(self, data: Iterable[Document], rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        meta = self.files.read_meta(rank, world_size, type(self).__name__)
        self.load_decisions(rank)
        yield from super().run(self._positioned(data, rank, meta["docs"]), rank, world_size)

    def _positioned(self, data: Iterable[Document], rank: int, expected: int) -> Iterator[Document]:
        """The records, each with its position set just before `keep` is asked about it."""
        writer, noun = self.files.writer, self.noun
        position = -1
        for position, doc in enumerate(data):
            if position >= expected:
                raise RunStateError(f"rank {rank} has more {noun} than {writer} saw ({expected})")
            self._position = position
            yield doc
        if position + 1 != expected:
            raise RunStateError(f"rank {rank} has {position + 1} {noun}, {writer} saw {expected}")
