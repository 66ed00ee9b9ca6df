"""Reading back the records a stage left for the next one (`.curate/docs*/<rank>.jsonl.gz`).

Its own module, apart from curation.compile: a task unpickles its pipeline and imports the modules of
its steps, and curation.compile imports every step there is (~2 s on a busy machine, paid by every
Slurm task of the publish stage when the reader lived there)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import orjson
from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep


class IntermediateReader(PipelineStep):
    """Reads back the records task `rank` of the previous stage wrote, in the same order."""

    name = "reload"
    type = "curate"

    def __init__(self, docs_dir: str):
        super().__init__()
        self.docs_dir = docs_dir

    def reads(self, rank: int, world_size: int) -> list[str]:
        return [str(Path(self.docs_dir) / f"{rank:05d}.jsonl.gz")]

    def run(self, data=None, rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        path = Path(self.docs_dir) / f"{rank:05d}.jsonl.gz"
        if not path.exists():  # a task whose records were all dropped writes no file
            return
        with gzip.open(path, "rb") as fh:
            for line in fh:
                obj = orjson.loads(line)
                yield Document(text=obj["text"], id=obj["id"], metadata=obj.get("metadata") or {})
