"""The request cache: a killed run that restarts pays only for requests not yet answered.

Completions are stored in SQLite, keyed by a hash of (model, messages, sampling parameters, seed).
Each task of a stage writes a file of its own (`.curate/cache/<stage>-<rank>.sqlite`) and reads
through to the run's merged cache (`cache/requests.sqlite`), which no task writes: one SQLite file
written by many tasks needs file locks that network file systems and object storage do not give,
and many GPU tasks would queue on its one writer. A task commits after every batch it gets back,
so a kill loses at most the batch in flight, and its rerun (the same rank) finds the rest in its
own file. `merge_caches` folds the task files into the merged cache when the run ends (and before
`--fresh` deletes the work folder), so a rerun with another task count finds every answer.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from curation.faults import fault_point
from curation.llm.types import ChatRequest, Completion, Engine, ScoreRequest, ScoreResult

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    completion TEXT NOT NULL,
    created REAL NOT NULL
)
"""


class RequestCache:
    """A key -> Completion store in one SQLite file (opened lazily, so it pickles). With `read_through`,
    keys it lacks are looked up in that file too (opened read-only, never written: the merged cache)."""

    def __init__(self, path: str | Path, read_through: str | Path | None = None):
        self.path = Path(path)
        self.read_through = Path(read_through) if read_through is not None else None
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=120, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(SCHEMA)
        return self._db

    def get_many(self, keys: list[str], decode: Callable[[str], Any] = Completion.from_json) -> dict[str, Any]:
        """Stored answers by key; `decode` turns the stored JSON back into its type (Completion or ScoreResult)."""
        found = {key: decode(data) for key, data in _select(self._connect(), keys)}
        missing = [key for key in keys if key not in found]
        if missing and self.read_through is not None and self.read_through.exists():
            merged = sqlite3.connect(f"{self.read_through.resolve().as_uri()}?mode=ro", uri=True, timeout=120)
            try:
                found.update((key, decode(data)) for key, data in _select(merged, missing))
            finally:
                merged.close()
        return found

    def put_many(self, model: str, items: list[tuple[str, Completion | ScoreResult]]) -> None:
        db = self._connect()
        now = time.time()
        with db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO completions VALUES (?, ?, ?, ?)",
                           [(key, model, completion.to_json(), now) for key, completion in items])

    def __len__(self) -> int:
        return self._connect().execute("SELECT COUNT(*) FROM completions").fetchone()[0]

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_db": None}


def _select(db: sqlite3.Connection, keys: list[str]) -> Iterator[tuple[str, str]]:
    """(key, stored JSON) of the keys `db` holds."""
    for start in range(0, len(keys), 500):  # SQLite's bound-parameter limit
        chunk = keys[start:start + 500]
        marks = ",".join("?" * len(chunk))
        yield from db.execute(f"SELECT key, completion FROM completions WHERE key IN ({marks})", chunk)


def merge_caches(sources: list[Path], into: Path) -> int:
    """Fold task cache files into the merged cache, then delete them; returns the entries added.

    One process does this when no task runs (finalize, or `--fresh` before it deletes the work
    folder). The merged file is left in rollback-journal mode, so tasks can open it read-only
    without creating WAL side files next to it. An entry the merged cache already holds is kept
    as it is: both answered the same request, and earlier readers were served the first."""
    into.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(into, timeout=120, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute(SCHEMA)
        added = 0
        for source in sources:
            db.execute("ATTACH DATABASE ? AS task", (str(source),))
            try:
                # a task killed between creating its file and its table left nothing to merge
                if db.execute("SELECT 1 FROM task.sqlite_master WHERE name = 'completions'").fetchone():
                    with db:
                        db.execute("BEGIN IMMEDIATE")
                        before = db.total_changes
                        db.execute("INSERT OR IGNORE INTO completions SELECT key, model, completion, created "
                                   "FROM task.completions")
                        added += db.total_changes - before
            finally:
                db.execute("DETACH DATABASE task")
            # merged twice (a kill between the insert and here) changes nothing: INSERT OR IGNORE
            for leftover in (source, source.with_name(source.name + "-wal"), source.with_name(source.name + "-shm")):
                leftover.unlink(missing_ok=True)
    finally:
        db.close()
    return added


class CachedEngine:
    """An engine behind the cache: answered requests come from disk, the rest go to the engine in
    batches of `batch_size`, each stored as soon as it returns."""

    def __init__(self, engine: Engine, cache: RequestCache, batch_size: int = 256,
                 on_batch: Callable[[int, int], None] | None = None):
        self.engine = engine
        self.cache = cache
        self.batch_size = batch_size
        self.on_batch = on_batch  # (answered from cache, sent to the engine) per call
        self.model_name = engine.model_name
        self.hits = 0  # requests answered from the cache so far (the steps report them to stats.json)

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        return self._through_cache(requests, self.engine.generate, Completion.from_json)

    def score(self, requests: list[ScoreRequest]) -> list[ScoreResult]:
        """Scoring requests, cached like completions (keyed by model, messages and continuation)."""
        return self._through_cache(requests, self.engine.score, ScoreResult.from_json)  # type: ignore[attr-defined]

    def _through_cache(self, requests: list, call: Callable[[list], list], decode: Callable[[str], Any]) -> list:
        """Answers from the cache where present; the rest from `call` in batches, each stored at once."""
        keys = [r.cache_key(self.model_name) for r in requests]
        results = self.cache.get_many(list(dict.fromkeys(keys)), decode=decode)
        missing = list(dict.fromkeys(k for k in keys if k not in results))
        by_key = dict(zip(keys, requests, strict=True))
        from_cache = sum(1 for k in keys if k in results)
        self.hits += from_cache
        if self.on_batch:
            self.on_batch(from_cache, len(missing))
        for start in range(0, len(missing), self.batch_size):
            chunk = missing[start:start + self.batch_size]
            answers = call([by_key[k] for k in chunk])
            self.cache.put_many(self.model_name, list(zip(chunk, answers, strict=True)))
            fault_point("llm/stored")
            results.update(zip(chunk, answers, strict=True))
        return [results[k] for k in keys]
