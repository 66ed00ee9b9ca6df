"""Steps used by tests through the recipe's `custom` escape hatch (importable by worker processes)."""

from __future__ import annotations

import json
from pathlib import Path

from datatrove.pipeline.base import PipelineStep

from curation.steps import Filter


class CrashOnce(Filter):
    """Keeps everything, but task `rank` raises after `after` records until `marker` exists: a killed task."""

    name = "crash_once"

    def __init__(self, marker: str, rank: int = 1, after: int = 2):
        super().__init__()
        self.marker = marker
        self.crash_rank = rank
        self.after = after
        self.seen = 0
        self.current_rank = 0

    def run(self, data, rank: int = 0, world_size: int = 1):
        self.current_rank = rank
        yield from super().run(data, rank, world_size)

    def keep(self, doc):
        self.seen += 1
        if self.current_rank == self.crash_rank and self.seen > self.after and not Path(self.marker).exists():
            Path(self.marker).write_text("crashed once")
            raise RuntimeError("simulated kill")
        return True


class DropLongerThan(Filter):
    """Drops records longer than `chars` characters, under the reason `too_long`."""

    name = "drop_longer"

    def __init__(self, chars: int):
        super().__init__()
        self.chars = chars

    def keep(self, doc):
        return len(doc.text) <= self.chars or (False, "too_long")


class SwallowEveryOther(PipelineStep):
    """A buggy step that loses every second record without counting it: the run must notice."""

    name = "swallow"

    def run(self, data, rank: int = 0, world_size: int = 1):
        for index, doc in enumerate(data):
            if index % 2 == 0:
                yield doc


class RecordWhereItRan(Filter):
    """Keeps everything; each task writes `<folder>/<rank>.json`: the Ray node it ran on (the test cluster
    sets `CURATE_TEST_RAY_NODE` per node; "driver" elsewhere) and the curate package it imported."""

    name = "record_where_it_ran"

    def __init__(self, folder: str):
        super().__init__()
        self.folder = folder

    def run(self, data, rank: int = 0, world_size: int = 1):
        import os

        import curation

        Path(self.folder).mkdir(parents=True, exist_ok=True)
        where = {"node": os.environ.get("CURATE_TEST_RAY_NODE", "driver"), "curation": curation.__file__}
        Path(self.folder, f"{rank}.json").write_text(json.dumps(where))
        yield from super().run(data, rank, world_size)

    def keep(self, doc):
        return True
