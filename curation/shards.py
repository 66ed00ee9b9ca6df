"""Per-language Parquet shards in the Hugging Face layout.

Each publish task streams its records into `<work>/shards/<folder>/<rank>-<part>.parquet`
(one open writer per language, small row groups, so memory does not grow with input size).
The finalize stage then links those files into the layout `datasets` expects,

    data/<folder>/train-00000-of-00003.parquet

renumbered so the names are consecutive. Finalizing is idempotent: it rebuilds `data/` from the
staging files, so a resumed run produces the same output as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import Document

from curation.distributions import LengthRecorder
from curation.faults import fault_point
from curation.layout import config_folder
from curation.steps import CountedStep, SideOutputs, record_lang

ROW_GROUP_ROWS = 1000

# An explicit schema: early batches with nulls must not fix a column's type (datatrove's lesson).
SHARD_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
        ("lang", pa.string()),
        ("lang_score", pa.float64()),
        ("script", pa.string()),
        ("source", pa.string()),
        ("dup_cluster", pa.string()),
        ("dup_cluster_size", pa.int32()),
        ("scores", pa.string()),
        ("metadata", pa.string()),
    ]
)
_ROW_KEYS = ("messages", "lang", "lang_score", "script", "source", "dup_cluster", "dup_cluster_size", "scores")

# Preference pairs in TRL's conversational preference layout: `prompt` (the turns before the answer),
# `chosen` and `rejected` (one assistant turn each), loadable by DPOTrainer as they are.
_MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
PREFERENCE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("prompt", _MESSAGES),
        ("chosen", _MESSAGES),
        ("rejected", _MESSAGES),
        ("lang", pa.string()),
        ("lang_score", pa.float64()),
        ("script", pa.string()),
        ("source", pa.string()),
        ("scores", pa.string()),
        ("metadata", pa.string()),
    ]
)
_PREFERENCE_KEYS = ("messages", "rejected", "lang", "lang_score", "script", "source", "scores")


# Retrieval pairs (generators/retrieval.py): `query`, `positive` and `negative` (the hardest mined one)
# are sentence-transformers' (anchor, positive, negative) triplet for MultipleNegativesRankingLoss once
# selected (`select_columns`: the loss reads columns by position); `negatives` holds all mined ones.
RETRIEVAL_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("query", pa.string()),
        ("positive", pa.string()),
        ("negative", pa.string()),
        ("negatives", pa.list_(pa.string())),
        ("query_lang", pa.string()),
        ("passage_lang", pa.string()),
        ("passage_id", pa.string()),
        ("negative_ids", pa.list_(pa.string())),
        ("lang", pa.string()),
        ("source", pa.string()),
        ("scores", pa.string()),
        ("metadata", pa.string()),
    ]
)
_RETRIEVAL_KEYS = ("positive", "negatives", "query_lang", "passage_lang", "passage_id", "negative_ids", "lang",
                   "source", "scores", "query_code")


def document_to_row(doc: Document) -> dict[str, Any]:
    """Flatten a record into the shard schema; scores and any other metadata are JSON strings."""
    meta = doc.metadata
    rest = {k: v for k, v in meta.items() if k not in _ROW_KEYS}
    scores = meta.get("scores")
    return {
        "id": doc.id,
        "text": doc.text,
        "messages": meta.get("messages"),
        "lang": meta.get("lang"),
        "lang_score": meta.get("lang_score"),
        "script": meta.get("script"),
        "source": meta.get("source"),
        "dup_cluster": meta.get("dup_cluster"),
        "dup_cluster_size": meta.get("dup_cluster_size"),
        "scores": json.dumps(scores, ensure_ascii=False, default=float) if scores else None,
        "metadata": json.dumps(rest, ensure_ascii=False, default=str) if rest else None,
    }


def preference_row(doc: Document) -> dict[str, Any]:
    """A chosen/rejected pair (see filters/preference.py) as a row of PREFERENCE_SCHEMA."""
    meta = doc.metadata
    *prompt, chosen = meta["messages"]
    rest = {k: v for k, v in meta.items() if k not in _PREFERENCE_KEYS}
    return {
        "id": doc.id,
        "prompt": prompt,
        "chosen": [chosen],
        "rejected": [{"role": "assistant", "content": meta["rejected"]}],
        "lang": meta.get("lang"),
        "lang_score": meta.get("lang_score"),
        "script": meta.get("script"),
        "source": meta.get("source"),
        "scores": json.dumps(meta["scores"], ensure_ascii=False, default=float) if meta.get("scores") else None,
        "metadata": json.dumps(rest, ensure_ascii=False, default=str) if rest else None,
    }


def retrieval_row(doc: Document) -> dict[str, Any]:
    """A query with its positive passage and mined negatives as a row of RETRIEVAL_SCHEMA."""
    meta = doc.metadata
    rest = {k: v for k, v in meta.items() if k not in _RETRIEVAL_KEYS}
    return {
        "id": doc.id,
        "query": doc.text,
        "positive": meta["positive"],
        "negative": meta["negatives"][0] if meta["negatives"] else None,
        "negatives": meta["negatives"],
        "query_lang": meta["query_lang"],
        "passage_lang": meta["passage_lang"],
        "passage_id": meta["passage_id"],
        "negative_ids": meta["negative_ids"],
        "lang": meta.get("lang"),
        "source": meta.get("source"),
        "scores": json.dumps(meta["scores"], ensure_ascii=False, default=float) if meta.get("scores") else None,
        "metadata": json.dumps(rest, ensure_ascii=False, default=str) if rest else None,
    }


def is_preference(doc: Document) -> bool:
    return "rejected" in doc.metadata


def is_retrieval(doc: Document) -> bool:
    return "positive" in doc.metadata


def row_kind(doc: Document) -> tuple[pa.Schema, Callable[[Document], dict[str, Any]]]:
    """The schema a record's config has and how the record becomes a row of it."""
    if is_preference(doc):
        return PREFERENCE_SCHEMA, preference_row
    if is_retrieval(doc):
        return RETRIEVAL_SCHEMA, retrieval_row
    return SHARD_SCHEMA, document_to_row


def folder_name(lang: str, folders: dict[str, str]) -> str:
    """Output folder for a language: the user's own code when the recipe named it, else the LID label."""
    return folders.get(lang) or folders.get(lang.split("_")[0]) or lang


class _LanguageShardWriter:
    """Writes one language's rows of one task, starting a new file every `rows_per_shard` rows."""

    def __init__(self, directory: Path, rank: int, rows_per_shard: int, prefix: str = "",
                 schema: pa.Schema = SHARD_SCHEMA):
        self.schema = schema
        self.directory = directory
        self.rank = rank
        self.prefix = prefix
        self.rows_per_shard = rows_per_shard
        self.part = 0
        self.rows_in_file = 0
        self.buffer: list[dict[str, Any]] = []
        self.writer: pq.ParquetWriter | None = None

    def add(self, row: dict[str, Any]) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= ROW_GROUP_ROWS or self.rows_in_file + len(self.buffer) >= self.rows_per_shard:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        if self.writer is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{self.prefix}{self.rank:05d}-{self.part:04d}.parquet"
            self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        self.writer.write_table(pa.Table.from_pylist(self.buffer, schema=self.schema))
        self.rows_in_file += len(self.buffer)
        self.buffer = []
        if self.rows_in_file >= self.rows_per_shard:
            self.close()
            self.part += 1
            self.rows_in_file = 0

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class ShardWriter(CountedStep):
    """Last step of the publish stage: every record it receives is written (counted as kept)."""

    name = "write"

    def __init__(self, staging_dir: str, folders: dict[str, str], rows_per_shard: int, prefix: str = "",
                 outputs: SideOutputs | None = None):
        super().__init__(outputs)
        self.staging_dir = staging_dir
        self.folders = folders
        self.rows_per_shard = rows_per_shard
        self.prefix = prefix  # tells this stage's files from another stage's in the same staging folder

    def run(self, data: Iterable[Document], rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        self._clear_own_files(rank)
        writers: dict[str, _LanguageShardWriter] = {}
        lengths = LengthRecorder()
        try:
            for doc in data:
                folder = folder_name(record_lang(doc), self.folders)
                folder = config_folder(folder, doc.metadata.get("task"))  # generated: one config per language and task
                if is_retrieval(doc):  # one config per language pair: `sw-retrieval-en`
                    folder = f"{folder}-{doc.metadata['query_code']}"
                schema, to_row = row_kind(doc)
                if folder not in writers:
                    writers[folder] = _LanguageShardWriter(Path(self.staging_dir) / folder, rank, self.rows_per_shard,
                                                           self.prefix, schema)
                writers[folder].add(to_row(doc))
                lengths.record(folder, len(doc.text))
                self.keep_record(doc)
        finally:
            for writer in writers.values():
                writer.close()
        self.write_distribution(rank, lengths.to_json())
        yield from ()  # the last step: nothing flows on

    def _clear_own_files(self, rank: int) -> None:
        # A task that died half-way left partial files; a rerun of the task starts them anew.
        root = Path(self.staging_dir)
        if root.exists():
            for stale in root.glob(f"*/{self.prefix}{rank:05d}-*.parquet"):
                stale.unlink()


def publish_shards(staging_dir: str | Path, data_dir: str | Path) -> dict[str, dict[str, int]]:
    """Rebuild `data/<folder>/train-i-of-n.parquet` from the staging files; return rows and shards per folder."""
    staging_dir, data_dir = Path(staging_dir), Path(data_dir)
    if data_dir.exists():
        shutil.rmtree(data_dir)
    summary: dict[str, dict[str, int]] = {}
    if not staging_dir.exists():
        return summary
    for folder in sorted(p for p in staging_dir.iterdir() if p.is_dir()):
        files = sorted(folder.glob("*.parquet"))
        files = [f for f in files if pq.ParquetFile(f).metadata.num_rows > 0]
        if not files:
            continue
        target = data_dir / folder.name
        target.mkdir(parents=True, exist_ok=True)
        rows = 0
        for index, source in enumerate(files):
            dest = target / f"train-{index:05d}-of-{len(files):05d}.parquet"
            _link_or_copy(source, dest)
            fault_point("publish/shard")
            rows += pq.ParquetFile(dest).metadata.num_rows
        summary[folder.name] = {"rows": rows, "shards": len(files)}
    return summary


def _link_or_copy(source: Path, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)
