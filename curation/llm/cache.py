"""The request cache: a killed run that restarts pays only for requests not yet answered.

Completions are stored in SQLite under the run's output folder, keyed by a hash of (model,
messages, sampling parameters, seed). SQLite in WAL mode with a busy timeout is safe for the
executor's parallel tasks on one machine; each task commits after every batch it gets back, so a
kill loses at most the batch in flight.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
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
    """A key -> Completion store in one SQLite file (opened lazily, so it pickles)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
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
        found: dict[str, Any] = {}
        db = self._connect()
        for start in range(0, len(keys), 500):  # SQLite's bound-parameter limit
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, data in db.execute(f"SELECT key, completion FROM completions WHERE key IN ({marks})", chunk):
                found[key] = decode(data)
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
        return {"path": self.path, "_db": None}


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
