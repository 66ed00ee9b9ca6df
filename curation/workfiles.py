"""The files one stage of a run leaves for the next: atomic writes, memory maps, the per-rank layout.

Whole-run steps (dedup, select) are staged, and the stages talk through files under a work folder:

    first stage   (N tasks)  writes, per rank r, what it saw, then `<first>/meta/r.json` last
    deciding      (any)      reads every rank's files, writes decisions per source rank
    last stage    (N tasks)  re-reads rank r's records in the same order and applies them

A record is named between stages by (rank, position): its place in the stream of task `rank` of
the first stage. So the last stage must run with the same task count and see the same records in
the same order; `curation.positional.PositionalFilter`, the last stage's base, checks both against
the meta the first stage wrote.

What this module gives those steps (and any step that leaves a file for a later one):

- atomic writes (`AtomicFile`, `atomic_write_*`, `save_npy`, `save_npz`): a file is written as
  `<name>.partial` and renamed over `<name>` only once whole, so a killed task never leaves a
  half file that a rerun would trust, and a failed write leaves nothing;
- `memmap`: read-only maps of the flat binary files (an empty file is an empty array);
- `RankFiles`: the folder layout (`<root>/<folder>/<rank:05d><suffix>`) and the per-rank meta;
- `decision_files`: what a deciding stage of any task count left for one source rank
  (`<folder>/<rank:05d>-<task:05d>.npz`, every deciding task writes one per source rank).

It imports no step: `curation.steps` writes its sketches with it.

Errors: work files that contradict each other (another task count, another record count, a first
stage that did not finish) raise `RunStateError`: the recipe was fine, the run's state is not.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import DTypeLike

from curation.errors import RunStateError
from curation.faults import fault_point

__all__ = [
    "PARTIAL_SUFFIX",
    "AtomicFile",
    "RankFiles",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "decision_files",
    "memmap",
    "save_npy",
    "save_npz",
]

PARTIAL_SUFFIX = ".partial"  # no reader globs for it: `*.npy`, `*.json` never match a half-written file


# ----------------------------------------------------------------------------- atomic writes


class AtomicFile:
    """A file written under `<name>.partial` and renamed over `path` by `commit()`; `abort()` removes it.

    As a context manager it yields the open handle, commits on a clean exit and aborts on an
    exception. Parent folders are created. Use the object itself when the file stays open across
    a stream (commit when the stream ends, abort when it fails).
    """

    def __init__(self, path: str | os.PathLike[str], mode: str = "wb", encoding: str | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.partial = self.path.with_name(self.path.name + PARTIAL_SUFFIX)
        self.handle: IO[Any] = open(self.partial, mode, encoding=encoding)  # noqa: SIM115 (closed by commit/abort)

    def write(self, data: Any) -> int:
        return self.handle.write(data)

    def commit(self) -> None:
        self.handle.close()
        fault_point(f"write/{self.path.parent.name}/{self.path.name}")  # whole, not yet in place
        os.replace(self.partial, self.path)

    def abort(self) -> None:
        self.handle.close()
        self.partial.unlink(missing_ok=True)

    def __enter__(self) -> IO[Any]:
        return self.handle

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` whole or not at all."""
    with AtomicFile(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` (UTF-8) to `path` whole or not at all."""
    with AtomicFile(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def atomic_write_json(path: str | os.PathLike[str], payload: Any) -> None:
    """Write `json.dumps(payload)` to `path` whole or not at all."""
    atomic_write_text(path, json.dumps(payload))


def save_npy(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """`np.save` to exactly `path` (no `.npy` appended), whole or not at all."""
    with AtomicFile(path, "wb") as handle:
        np.save(handle, array)


def save_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> None:
    """`np.savez` to exactly `path`, whole or not at all."""
    with AtomicFile(path, "wb") as handle:
        np.savez(handle, **arrays)


# ----------------------------------------------------------------------------- memory maps


def memmap(path: str | os.PathLike[str], dtype: DTypeLike, rows: int | None = None,
           row_shape: tuple[int, ...] = ()) -> np.ndarray:
    """A read-only map of a flat file of `rows` rows of `dtype` x `row_shape` (None: all the file holds).

    Zero rows give an empty array: numpy cannot map an empty file.
    """
    dtype = np.dtype(dtype)
    if rows is None:
        rows = Path(path).stat().st_size // (dtype.itemsize * math.prod(row_shape))
    if rows == 0:
        return np.zeros((0, *row_shape), dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=(rows, *row_shape))


# ----------------------------------------------------------------------------- per-rank layout


class RankFiles:
    """Where a staged step's tasks leave files for each other, under one work folder.

    Files are `<root>/<folder>/<rank:05d><suffix>`; the first stage's task of rank r writes its meta,
    `<root>/<first>/meta/<r:05d>.json` (`world_size`, `docs`: the records it saw, plus what the step
    adds), after all its other files, so a meta says that task's files are complete. Steps subclass
    this with one method per file they use.

    Args:
        root: the work folder.
        first: the folder the first stage writes under (its metas are in `<first>/meta`).
        writer: the first stage's step, named in messages ("DedupSignatures").
        noun: what the first stage's tasks are, in messages ("dedup signature").
    """

    def __init__(self, root: str | os.PathLike[str], first: str, writer: str, noun: str):
        self.root = Path(root)
        self.first = first
        self.writer = writer
        self.noun = noun

    def rank_file(self, folder: str, rank: int, suffix: str) -> Path:
        return self.root / folder / f"{rank:05d}{suffix}"

    def meta(self, rank: int) -> Path:
        return self.rank_file(f"{self.first}/meta", rank, ".json")

    def write_meta(self, rank: int, world_size: int, docs: int, **extra: Any) -> None:
        """Rank `rank`'s meta: written last by the first stage's task, whole or not at all."""
        atomic_write_json(self.meta(rank), {"world_size": world_size, "docs": docs, **extra})

    def read_meta(self, rank: int, world_size: int, reader: str) -> dict[str, Any]:
        """The meta rank `rank` of the first stage left, checked to come from a run with the same
        task count as `reader`'s (records are identified by rank and position)."""
        path = self.meta(rank)
        meta = json.loads(path.read_text()) if path.exists() else None
        if meta is None or meta["world_size"] != world_size:
            expected = meta["world_size"] if meta else "?"
            raise RunStateError(f"{reader} runs with {world_size} tasks but {self.writer} ran with {expected}: both "
                                "stages must use the same task count (records are identified by rank and position)")
        return meta

    def metas(self) -> list[dict[str, Any]]:
        """Every first-stage task's meta, in rank order, checked to be all of them."""
        paths = sorted((self.root / self.first / "meta").glob("*.json"))
        if not paths:
            raise RunStateError(f"no {self.noun}s under {self.root}: run {self.writer} first")
        metas = [json.loads(path.read_text()) for path in paths]
        world_size = metas[0]["world_size"]
        if len(metas) != world_size:
            raise RunStateError(f"{len(metas)} of {world_size} {self.noun} tasks finished under {self.root}")
        return metas


def decision_files(folder: str | os.PathLike[str], rank: int) -> list[Path]:
    """The decisions every task of a deciding stage wrote for source rank `rank`, in task order.

    Each deciding task writes one file per source rank, empty or not, so tasks 0..n-1 must all be
    there; a gap means a deciding stage did not finish (or ran with another task count before)."""
    paths = sorted(Path(folder).glob(f"{rank:05d}-*.npz"))
    tasks = [int(path.stem.split("-")[1]) for path in paths]
    if not paths or tasks != list(range(len(tasks))):
        raise RunStateError(f"{folder}: the decisions for rank {rank} come from tasks {tasks}, expected 0..n-1 "
                            "(the deciding stage did not finish)")
    return paths
