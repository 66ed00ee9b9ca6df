"""Benchmark decontamination: drop records that share n-grams with benchmark test items.

Two parts, staged like dedup but lighter, because checking a record needs only the index:

    index     (its own stage, 1 task, first in the run)  read each benchmark like an input (files, globs,
              compression, `hf:` ids), hash the n-grams of every field of every item, write per benchmark
              sorted uint64 hashes + the item each came from (.npy) and the item labels, then index.json
    filter    wherever the recipe lists `decontaminate`, and in the generate stage for generated records:
              memory-map the index, hash the record's n-grams (every chat turn on its own), drop the record
              as `contaminated` when one benchmark item shares enough of them

What an n-gram is: the token stream of exact dedup (filters/shingles.py: NFKC, casefolded, accents
and punctuation gone, a digit run is one token; words in spaced scripts, one character per token in
Chinese, Japanese, Thai...). A benchmark field is hashed in windows of `ngram` tokens when its
dominant script is spaced (13 words by default, as GPT-3 and datatrove), and of `ngram` times the
script's tokens per English word when it is not (`TOKENS_PER_WORD`, measured on FLORES-200 dev:
13 words are 21 Chinese characters, 31 Japanese ones, 69 Thai code points). A field shorter than
that (most questions) is hashed in windows of `min_ngram` words' worth (8 by default: a short
question is still a test item), and a field shorter still not at all (`too_short`: counted in
index.json). So an index holds at most two window lengths per script.

A record's side needs no script detection: its token stream is hashed in windows of every length the
index holds, so a Chinese question quoted inside an English text is found too. The index holds hashes
only, never texts: 12 bytes per distinct (n-gram, item) pair, memory-mapped.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep

from curation.errors import RecordError, RunStateError
from curation.inputs import SourceFile
from curation.readers import SourceReader, get_field
from curation.recipe import BenchmarkSpec, InputSpec, Limits
from curation.steps import Filter, SideOutputs, record_lang
from curation.workfiles import atomic_write_json, save_npy
from filters.scripts import dominant_script
from filters.shingles import ngram_hashes, ngram_hashes_of_lengths, token_hashes, tokenize_codepoints

logger = logging.getLogger(__name__)

__all__ = ["TOKENS_PER_WORD", "BuildDecontaminationIndex", "Decontaminate", "field_ngrams", "text_keys"]

# Tokens (characters; for Thai-like scripts code points, vowel signs included) per English word, on the
# first half of FLORES-200 dev (bench/bench_decontamination.py --ratios prints them; the second half
# agrees within 3%). Spaced scripts are 1: Swahili 0.95, Hindi 1.14, Arabic 0.87 words per English word.
TOKENS_PER_WORD = {"Hani": 1.6, "Jpan": 2.35, "Thai": 5.3, "Laoo": 5.2, "Khmr": 6.0, "Mymr": 6.5, "Tibt": 4.8}

INDEX_META = "index.json"  # written last: its presence says the index is complete


def scaled_length(words: int, script: str) -> int:
    """`words` English words' worth of tokens in `script`."""
    return max(1, round(words * TOKENS_PER_WORD.get(script, 1.0)))


def _tokens(text: str) -> np.ndarray:
    return token_hashes(*tokenize_codepoints(text))


def _keyed(hashes: np.ndarray, length: int) -> np.ndarray:
    """Window hashes as index keys: the length is mixed in, so windows of different lengths never share a key."""
    return hashes ^ np.uint64(length * 0x9E3779B97F4A7C15 % (1 << 64))


def field_ngrams(text: str, ngram: int, min_ngram: int) -> tuple[int, np.ndarray] | None:
    """The window length and index keys of one benchmark field: its `ngram`-word windows (scaled for unspaced
    scripts); for a shorter field, its `min_ngram`-word windows; None when it is shorter still."""
    tokens = _tokens(text)
    script = dominant_script(text)[0]
    full, least = scaled_length(ngram, script), scaled_length(min_ngram, script)
    if len(tokens) < least:
        return None
    length = full if len(tokens) >= full else least
    return length, _keyed(ngram_hashes(tokens, length), length)


def text_keys(texts: Iterable[str], lengths: Iterable[int]) -> np.ndarray:
    """Sorted unique keys of every window of each length in `lengths`, over each text on its own (a window
    never spans two chat turns)."""
    lengths = sorted(lengths)
    keys = []
    for tokens in map(_tokens, texts):
        fitting = [n for n in lengths if n <= len(tokens)]
        keys += map(_keyed, ngram_hashes_of_lengths(tokens, fitting), fitting)
    return np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.uint64)


def record_texts(doc: Document) -> list[str]:
    """What is checked of a record: each chat turn (a preference pair's rejected answer too), else its text."""
    texts = [m["content"] for m in doc.metadata.get("messages") or [] if isinstance(m.get("content"), str)]
    rejected = doc.metadata.get("rejected")
    if isinstance(rejected, str):
        texts.append(rejected)
    return texts or [doc.text]


# ----------------------------------------------------------------------------- the index


def _strings(value: Any) -> list[str]:
    """A field's texts: a string, or the strings of a list (multiple-choice options)."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v.strip()]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [str(value)]  # a numeric answer: too short to index, counted with the rest
    return []


def benchmark_item(fields: list[str], obj: Any, spec: InputSpec, source: str, line: int, limits: Limits) -> Document:
    """A benchmark item as a record whose `metadata["fields"]` are the texts to index (a `RecordMaker`)."""
    if not isinstance(obj, dict):
        raise RecordError("not_an_object", type(obj).__name__)
    texts = [text for name in fields for text in _strings(get_field(obj, name))]
    if not texts:
        raise RecordError("missing_fields", f"no text in {', '.join(fields)}")
    if sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) > limits.max_doc_bytes:
        raise RecordError("too_large", f"over {limits.max_doc_bytes} bytes")
    return Document(text=texts[0], id=f"{source}:{line}", metadata={"fields": texts})


@dataclass
class _IndexParts:
    """One benchmark's keys while they are gathered, and what was indexed."""

    keys: list[np.ndarray]
    items: list[np.ndarray]
    labels: list[str]
    item_ngrams: list[int]
    fields_indexed: int = 0
    fields_too_short: int = 0


class BuildDecontaminationIndex(PipelineStep):
    """The index stage's one task: every benchmark's n-gram keys, to `<folder>/<name>/` and `index.json`.

    Per benchmark: `keys.npy` (uint64, sorted), `items.npy` (uint32: the item each key came from, one row per
    distinct (key, item) pair), `item_ngrams.npy` (uint32: distinct keys per item), `items.json` (each item's
    file:line, for the rejects). index.json, written last, holds the settings, the window lengths used and
    per benchmark the counts: items, quarantined items by reason, fields indexed and too short, keys, bytes.
    Unreadable benchmark lines are quarantined under `<quarantine>/<name>/`.
    """

    name = "decontaminate-index"
    type = "curate"

    def __init__(self, folder: str, benchmarks: list[BenchmarkSpec], files: list[list[SourceFile]], ngram: int,
                 min_ngram: int, quarantine_dir: str, limits: Limits):
        super().__init__()
        self.folder = folder
        self.benchmarks = benchmarks
        self.files = files
        self.ngram = ngram
        self.min_ngram = min_ngram
        self.quarantine_dir = quarantine_dir
        self.limits = limits

    def run(self, data=None, rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        if world_size != 1:
            raise RunStateError("the decontamination index is built by one task")
        lengths: set[int] = set()
        summaries = {}
        for benchmark, files in zip(self.benchmarks, self.files, strict=True):
            summaries[benchmark.name] = self._index_benchmark(benchmark, files, lengths)
        atomic_write_json(Path(self.folder) / INDEX_META, {
            "ngram": self.ngram, "min_ngram": self.min_ngram, "lengths": sorted(lengths), "benchmarks": summaries})
        yield from ()

    def _index_benchmark(self, benchmark: BenchmarkSpec, files: list[SourceFile], lengths: set[int]) -> dict[str, Any]:
        reader = SourceReader([benchmark.as_input()], files, str(Path(self.quarantine_dir) / benchmark.name),
                              self.limits, make_record=functools.partial(benchmark_item, benchmark.fields))
        parts = _IndexParts([], [], [], [])
        for doc in reader.run():
            self._add_item(parts, doc, lengths)
        keys, items = _sorted_pairs(parts)
        folder = Path(self.folder) / benchmark.name
        save_npy(folder / "keys.npy", keys)
        save_npy(folder / "items.npy", items)
        save_npy(folder / "item_ngrams.npy", np.asarray(parts.item_ngrams, dtype=np.uint32))
        atomic_write_json(folder / "items.json", parts.labels)
        quarantined = {key.split("/", 2)[2]: int(stat.total) for key, stat in reader.stats.stats.items()
                       if key.startswith("quarantined/")}
        logger.info("decontamination index %s: %d items, %d keys", benchmark.name, len(parts.labels), len(keys))
        return {"items": len(parts.labels), "quarantined": quarantined, "fields_indexed": parts.fields_indexed,
                "fields_too_short": parts.fields_too_short, "keys": len(keys),
                "bytes": int(keys.nbytes + items.nbytes + 4 * len(parts.item_ngrams))}

    def _add_item(self, parts: _IndexParts, doc: Document, lengths: set[int]) -> None:
        item = len(parts.labels)
        parts.labels.append(doc.id)
        keys = []
        for text in doc.metadata["fields"]:
            found = field_ngrams(text, self.ngram, self.min_ngram)
            if found is None:
                parts.fields_too_short += 1
                continue
            parts.fields_indexed += 1
            lengths.add(found[0])
            keys.append(found[1])
        unique = np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.uint64)
        parts.keys.append(unique)
        parts.items.append(np.full(len(unique), item, dtype=np.uint32))
        parts.item_ngrams.append(len(unique))


def _sorted_pairs(parts: _IndexParts) -> tuple[np.ndarray, np.ndarray]:
    if not parts.keys:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint32)
    keys, items = np.concatenate(parts.keys), np.concatenate(parts.items)
    order = np.argsort(keys, kind="stable")
    return keys[order], items[order]


# ----------------------------------------------------------------------------- the filter


@dataclass(frozen=True)
class Match:
    """The benchmark item a record shares the most n-grams with."""

    benchmark: str
    item: str  # the item's file:line
    matched: int  # distinct n-grams shared
    item_ngrams: int  # the item's distinct n-grams

    def as_metadata(self) -> dict[str, Any]:
        return {"benchmark": self.benchmark, "item": self.item, "matched": self.matched,
                "item_ngrams": self.item_ngrams}


class _BenchmarkIndex:
    """One benchmark's index files, memory-mapped."""

    def __init__(self, name: str, folder: Path):
        self.name = name
        self.keys = np.load(folder / "keys.npy", mmap_mode="r")
        self.items = np.load(folder / "items.npy", mmap_mode="r")
        self.item_ngrams = np.load(folder / "item_ngrams.npy", mmap_mode="r")
        self.labels: list[str] = json.loads((folder / "items.json").read_text())

    def best_item(self, keys: np.ndarray, min_matches: int, min_fraction: float) -> Match | None:
        """The item sharing the most of `keys` (sorted unique) among those that pass both thresholds."""
        if len(self.keys) == 0 or len(keys) == 0:
            return None
        low = np.searchsorted(self.keys, keys, side="left")
        high = np.searchsorted(self.keys, keys, side="right")
        runs = high - low
        if not runs.any():
            return None
        # every (key, item) row of every matched key: a key may belong to several items
        starts = np.repeat(low - np.cumsum(runs) + runs, runs)
        rows = starts + np.arange(int(runs.sum()))
        items, counts = np.unique(np.asarray(self.items[rows]), return_counts=True)
        totals = np.asarray(self.item_ngrams[items])
        passing = (counts >= min_matches) & (counts >= min_fraction * totals)
        if not passing.any():
            return None
        best = int(np.argmax(np.where(passing, counts, -1)))
        item = int(items[best])
        return Match(self.name, self.labels[item], int(counts[best]), int(totals[best]))


class Decontaminate(Filter):
    """Drops a record as `contaminated` when it shares at least `min_matches` distinct n-grams, and at
    least `min_fraction` of that item's n-grams, with one benchmark item.

    The dropped record carries `metadata["contamination"]` (benchmark, item file:line, n-grams shared and
    the item's total), so the rejects say what it leaked. Counters per benchmark and language
    (`contaminated/<benchmark>/<lang>`) go to stats.json, and each task writes the items it found to
    `<folder>/found/<stage>-<rank>.json`. A record overlapping several benchmarks counts under the one
    it shares most n-grams with.
    """

    name = "decontaminate"

    def __init__(self, folder: str, stage: str, min_matches: int = 1, min_fraction: float = 0.0,
                 outputs: SideOutputs | None = None):
        super().__init__(outputs)
        self.folder = folder
        self.stage = stage
        self.min_matches = min_matches
        self.min_fraction = min_fraction
        self._indexes: list[_BenchmarkIndex] | None = None
        self._lengths: list[int] = []
        self._found: dict[str, set[str]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_indexes": None, "_found": {}}

    def _load(self) -> list[_BenchmarkIndex]:
        if self._indexes is None:
            meta_path = Path(self.folder) / INDEX_META
            if not meta_path.exists():
                raise RunStateError(f"no decontamination index under {self.folder}: the index stage has not finished")
            meta = json.loads(meta_path.read_text())
            self._lengths = meta["lengths"]
            self._indexes = [_BenchmarkIndex(name, Path(self.folder) / name) for name in meta["benchmarks"]]
        return self._indexes

    def match(self, doc: Document) -> Match | None:
        """The benchmark item `doc` is contaminated by, or None."""
        indexes = self._load()
        keys = text_keys(record_texts(doc), self._lengths)
        matches = [m for index in indexes if (m := index.best_item(keys, self.min_matches, self.min_fraction))]
        return max(matches, key=lambda m: m.matched) if matches else None  # max keeps the first of a tie

    def keep(self, doc: Document) -> bool | tuple[bool, str]:
        found = self.match(doc)
        if found is None:
            return True
        doc.metadata["contamination"] = found.as_metadata()
        self.stat_update(f"contaminated/{found.benchmark}/{record_lang(doc)}")
        self._found.setdefault(found.benchmark, set()).add(found.item)
        return False, "contaminated"

    def reads(self, rank: int, world_size: int) -> list[str]:
        """The index the index stage wrote (its meta and every benchmark's arrays)."""
        return [str(Path(self.folder) / INDEX_META), str(Path(self.folder) / "*" / "*")]

    def run(self, data: Iterable[Document], rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        yield from super().run(data, rank, world_size)
        # after the last record: which items this task found (the card says how many of each benchmark leaked)
        atomic_write_json(Path(self.folder) / "found" / f"{self.stage}-{rank:05d}.json",
                          {name: sorted(items) for name, items in self._found.items()})
