"""Staged exact + near + (optionally) containment deduplication as datatrove steps.

Each stage is its own executor run; they talk through files under `work_dir`:

    stage "curate"  (N tasks)  DedupSignatures   pass-through; per rank r writes
        signatures/meta/r.json              world_size, doc count, config
        signatures/docs/r.npy               per doc: exact hash, stable key, #shingles, #chars
        signatures/shingles/r.values.bin    every doc's sorted unique shingle hashes (uint64) ...
        signatures/shingles/r.offsets.bin   ... and where each doc's run starts (uint64, n+1)
        signatures/bands/b/r.npy            per band b: (band hash, doc index) sorted by hash
        signatures/fingerprints/r.npy       containment only: (winnowed fingerprint, doc index)
        signatures/exact/r.npy              (exact hash, doc index) of non-empty docs, sorted by hash
    stages "buckets", "verify" (T tasks)         candidate pairs by (band, hash range), (exact hash,
                                                  range), (fingerprint, range), each pair verified
                                                  exactly by the one task that owns it
        edges/t-d.npy                       (doc a, doc b, kind, similarity) for partition d
                                            (filters/dedup_buckets.py)
    stages "links" .. "clusters"                 connected components in star rounds with an exact
                                                  finish, then survivors and reasons per cluster,
                                                  in T tasks (filters/dedup_clusters.py)
        clusters/r-t.npz                    per source rank r, from deciding task t: removed doc
                                            indices + reasons, cluster id + size of every clustered doc
    stage "publish" (N tasks)   DedupFilter      drops the removed docs (counted, with reasons)

Every deciding stage takes any task count T (the recipe's `executor.tasks`) and gives the same
decisions: work is cut by hash ranges and hash partitions of docs, never by what a task saw. Files
are read through memory maps (a postings file is sorted by hash, so a hash range is a binary-searched
slice), so a task's memory follows its share of the work, not the corpus.

A document is identified between stages by (rank, doc_index): its position in the stream
of task `rank` of the first stage. The final stage must therefore see the same docs in the same
order with the same number of tasks (the lead writes and re-reads rank r's docs in order);
DedupFilter checks the task count and the doc count and raises if they differ. The layout and the
atomic writes are the run's work-file kit (curation/workfiles.py); DedupFilter is a
curation.positional.PositionalFilter.

Decisions (and why):
- Exact duplicates: equal `exact_hash` (normalized text: case, whitespace, punctuation,
  accents, digit values ignored). No verification needed beyond the 64-bit hash.
- Near duplicates: LSH candidates (14 bands x 8 rows, S-curve midpoint ~0.72) verified on the
  stored shingle sets: an edge when the true Jaccard >= `jaccard_threshold` = 0.75. Near-dup
  work (FineWeb, Gopher) uses 0.7-0.8 on 5-gram sets; 0.75 keeps edited copies (a changed
  sentence in 20) and rejects documents that only share boilerplate.
- Containment (optional, `ContainmentConfig`): a short text lifted from a longer one has a
  Jaccard capped by their size ratio, so Jaccard LSH misses it. Candidates come from
  winnowing (Schleimer et al. 2003, the MOSS fingerprinting): the minimum shingle hash of
  every window of `window` consecutive shingles; any passage shared by two docs that spans
  `window + ngram - 1` tokens shares at least one fingerprint, a guarantee that random
  sampling (hash mod m) does not give short texts. Fingerprints found in more than
  `max_doc_frequency` docs (boilerplate) are ignored. Verification is exact on the full sets,
  with a threshold that depends on the smaller doc's shingle count s (`effective_threshold`).
- Empty documents (no tokens after normalization) never take part: they are left to the
  quality filters rather than forming one giant cluster.
- Clusters: components over exact and near edges; a contained doc joins the cluster of its
  best container only (so two long docs quoting the same sentence are not merged). Survivor:
  most shingles, then smallest stable key (derived from `doc.id`), so
  the longer source of a partial copy survives. Cluster id: the smallest stable key in the
  cluster, as 16 hex digits: independent of task counts and order as long as doc ids are.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import xxhash
from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep

from curation.positional import PositionalFilter
from curation.steps import SideOutputs
from curation.workfiles import AtomicFile, RankFiles, decision_files, save_npy
from filters.minhash import MinHashConfig, band_hashes, signature
from filters.shingles import document_shingles

logger = logging.getLogger(__name__)

__all__ = [
    "ContainmentConfig",
    "DedupFilter",
    "DedupSignatures",
    "effective_threshold",
]

DOC_DTYPE = np.dtype([("exact", "<u8"), ("key", "<u8"), ("shingles", "<u4"), ("chars", "<u4"), ("lang", "<u4")])
POSTING_DTYPE = np.dtype([("hash", "<u8"), ("doc", "<u4")])
EDGE_DTYPE = np.dtype([("a", "<u8"), ("b", "<u8"), ("kind", "u1"), ("similarity", "<f4")])
EDGE_KINDS = ("exact", "near", "contained")
EXACT, NEAR, CONTAINED = range(3)
REASONS = ("exact_duplicate", "near_duplicate", "contained_duplicate")
MAX_ALL_PAIRS_RUN = 16  # longer runs of equal band hashes pair each doc with the first and the previous


@dataclass(frozen=True)
class ContainmentConfig:
    """Containment dedup: remove a text whose shingles mostly occur in a longer text.

    Attributes:
        threshold: |A ∩ B| / |smaller| needed for long texts (see `effective_threshold`).
        min_shingles: texts with fewer shingles are never removed as contained (a short
            sentence occurs in many unrelated texts); at min_shingles the text must be fully
            contained, and the requirement relaxes towards `threshold` as texts grow.
        window: winnowing window in shingles (fingerprint density ~ 2 / (window + 1)).
        max_doc_frequency: fingerprints shared by more docs are boilerplate, not evidence.
    """

    # 0.5, measured on XQuAD (bench/bench_containment.py): verbatim passages are fully contained,
    # lightly revised ones (5-10% of words replaced) have a median containment of 0.61, and no
    # independent same-language text reached 0.5. At 0.7, 94% of revised copies were missed.
    threshold: float = 0.5
    min_shingles: int = 8
    window: int = 4
    max_doc_frequency: int = 64


def effective_threshold(smaller_shingles: int, config: ContainmentConfig) -> float:
    """Containment needed when the smaller text has `smaller_shingles` shingles.

    t(s) = threshold + (1 - threshold) * min_shingles / s: full containment at s = min_shingles,
    halfway at 2 * min_shingles, tending to `threshold` for long texts; above 1 (never) below
    min_shingles. E.g. threshold 0.5, min_shingles 8: s=8 -> 1.0, s=16 -> 0.75, s=80 -> 0.55.
    """
    if smaller_shingles <= 0:
        return math.inf
    return config.threshold + (1 - config.threshold) * config.min_shingles / smaller_shingles


def winnow(ordered_shingles: np.ndarray, window: int) -> np.ndarray:
    """Sorted unique minima of every `window` consecutive shingles (all of them if fewer)."""
    if len(ordered_shingles) <= window:
        return np.unique(ordered_shingles)
    windows = np.lib.stride_tricks.sliding_window_view(ordered_shingles, window)
    return np.unique(windows.min(axis=1))


def language_id(doc: Document) -> int:
    """A number for the record's language (ISO 639-3 part of its LID label); 0 when unknown."""
    lang = (doc.metadata.get("lang") or "").split("_")[0]
    return xxhash.xxh32_intdigest(lang.encode("utf-8")) if lang and lang != "und" else 0


def stable_key(doc: Document, exact: int) -> int:
    """A 64-bit key that does not depend on sharding: from the doc id, else from the content."""
    return xxhash.xxh3_64_intdigest(str(doc.id).encode("utf-8")) if doc.id else exact


def _doc_gid(rank: int | np.ndarray, index: int | np.ndarray) -> np.ndarray:
    # One uint64 per document across ranks: rank in the high half, doc index in the low half.
    return (np.asarray(rank, dtype=np.uint64) << np.uint64(32)) | np.asarray(index, dtype=np.uint64)


# ----------------------------------------------------------------------------- file layout


class _DedupFiles(RankFiles):
    """Dedup's work files (see the module docstring); signatures/meta is the first stage's meta."""

    def __init__(self, work_dir: str):
        super().__init__(work_dir, first="signatures", writer="DedupSignatures", noun="dedup signature")

    def docs(self, rank: int) -> Path:
        return self.rank_file("signatures/docs", rank, ".npy")

    def shingle_values(self, rank: int) -> Path:
        return self.rank_file("signatures/shingles", rank, ".values.bin")

    def shingle_offsets(self, rank: int) -> Path:
        return self.rank_file("signatures/shingles", rank, ".offsets.bin")

    def band(self, band: int, rank: int) -> Path:
        return self.rank_file(f"signatures/bands/{band:03d}", rank, ".npy")

    def fingerprints(self, rank: int) -> Path:
        return self.rank_file("signatures/fingerprints", rank, ".npy")

    def exact(self, rank: int) -> Path:
        return self.rank_file("signatures/exact", rank, ".npy")

    def docs_map(self, rank: int) -> np.ndarray:
        """Rank `rank`'s doc rows, memory-mapped: a deciding task reads the rows it needs, not the file."""
        return np.load(self.docs(rank), mmap_mode="r")

    def candidates(self, task: int, dest: int) -> Path:
        return self.root / "candidates" / f"{task:05d}-{dest:05d}.npy"

    @property
    def edges(self) -> Path:
        return self.root / "edges"

    def stage(self, name: str) -> Path:
        """A folder of the components' file shuffle (filters/dedup_clusters.py)."""
        return self.root / "components" / name

    def clusters(self, rank: int, task: int) -> Path:
        return self.root / "clusters" / f"{rank:05d}-{task:05d}.npz"


# ----------------------------------------------------------------------------- stage 1


class DedupSignatures(PipelineStep):
    """Pass-through step of the first stage: sketches every doc and yields it unchanged.

    Doc i of task `rank` is (rank, i) for the later dedup stages, so the final stage must
    re-read the same docs in the same order with the same task count (see DedupFilter).
    """

    type = "curate"
    name = "dedup_signatures"

    def __init__(self, work_dir: str, config: MinHashConfig | None = None,
                 containment: ContainmentConfig | None = None):
        super().__init__()
        self.work_dir = work_dir
        self.config = config or MinHashConfig()
        self.containment = containment

    def run(self, data: Iterable[Document], rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        files = _DedupFiles(self.work_dir)
        docs = _Rows(DOC_DTYPE)
        bands = _Rows(np.dtype((np.uint64, (self.config.num_bands,))))
        band_owners = _Rows(np.dtype(np.uint32))
        fingerprints, fingerprint_owners = [], []
        with AtomicFile(files.shingle_values(rank)) as values_file, AtomicFile(files.shingle_offsets(rank)) as offsets_file:
            offset = 0
            offsets_file.write(np.uint64(0).tobytes())
            for index, doc in enumerate(data):
                exact, ordered, shingles = document_shingles(doc.text, self.config.ngram)
                docs.append((exact, stable_key(doc, exact), len(shingles), len(doc.text), language_id(doc)))
                if len(shingles):  # empty docs stay out of every index
                    bands.append(band_hashes(signature(shingles, self.config), self.config))
                    band_owners.append(index)
                    if self.containment is not None:
                        prints = winnow(ordered, self.containment.window)
                        fingerprints.append(prints)
                        fingerprint_owners.append(np.full(len(prints), index, dtype=np.uint32))
                values_file.write(shingles.tobytes())
                offset += len(shingles)
                offsets_file.write(np.uint64(offset).tobytes())
                self.stat_update("dedup_signed")
                yield doc
        doc_rows = docs.array()
        save_npy(files.docs(rank), doc_rows)
        indexed = np.flatnonzero(doc_rows["shingles"] > 0)  # empty docs stay out of every index
        save_npy(files.exact(rank), _postings(doc_rows["exact"][indexed], indexed.astype(np.uint32)))
        band_matrix, owners = bands.array(), band_owners.array()
        for band in range(self.config.num_bands):
            save_npy(files.band(band, rank), _postings(band_matrix[:, band], owners))
        if self.containment is not None:
            prints = _postings(_concat(fingerprints, np.uint64), _concat(fingerprint_owners, np.uint32))
            save_npy(files.fingerprints(rank), prints)
        files.write_meta(rank, world_size, len(docs), config=asdict(self.config),
                         containment=asdict(self.containment) if self.containment else None)


class _Rows:
    """An append-only numpy array grown in chunks: ~the array's own size in memory, not a
    Python object per row."""

    def __init__(self, dtype: np.dtype, chunk: int = 8192) -> None:
        # Keep the dtype itself: for a sub-array dtype (one row = 14 band hashes) the chunk's
        # own .dtype is the element type, and a chunk made from it would hold scalars.
        self.dtype = dtype
        self.chunk = chunk
        self.chunks = [np.empty(chunk, dtype=dtype)]
        self.filled = 0
        self.count = 0

    def append(self, row) -> None:
        if self.filled == len(self.chunks[-1]):
            self.chunks.append(np.empty(self.chunk, dtype=self.dtype))
            self.filled = 0
        self.chunks[-1][self.filled] = row
        self.filled += 1
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def array(self) -> np.ndarray:
        return np.concatenate(self.chunks[:-1] + [self.chunks[-1][: self.filled]])


def _concat(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype) if arrays else np.zeros(0, dtype=dtype)


def _postings(hashes: np.ndarray, docs: np.ndarray) -> np.ndarray:
    postings = np.empty(len(hashes), dtype=POSTING_DTYPE)
    postings["hash"], postings["doc"] = hashes, docs
    return postings[np.argsort(postings["hash"], kind="stable")]


# ----------------------------------------------------------------------------- stage 4


class DedupFilter(PositionalFilter):
    """Final stage: drops the docs DedupClusters removed, in the original order of each rank.

    Must run with the same task count as the stage that ran DedupSignatures, each task seeing
    its rank's docs in the same order; a different task count or doc count raises RunStateError.
    Clustered docs (kept or dropped) get `metadata["dup_cluster"]` (16 hex digits) and
    `metadata["dup_cluster_size"]`.
    """

    name = "dedup"
    noun = "docs"

    def __init__(self, work_dir: str, outputs: SideOutputs | None = None):
        super().__init__(_DedupFiles(work_dir), outputs)
        self.work_dir = work_dir
        self._removed: dict[int, int] = {}
        self._cluster_of: dict[int, tuple[int, int]] = {}

    def decision_files(self, rank: int) -> list[Path]:
        return [self.files.root / "clusters" / f"{rank:05d}-*.npz"]  # one per deciding task

    def load_decisions(self, rank: int) -> None:
        self._removed, self._cluster_of = {}, {}
        for path in decision_files(self.files.root / "clusters", rank):
            with np.load(path) as clusters:
                self._removed.update(zip(clusters["removed_index"].tolist(), clusters["removed_reason"].tolist(),
                                         strict=True))
                self._cluster_of.update(zip(clusters["member_index"].tolist(),
                                            zip(clusters["member_cluster"].tolist(), clusters["member_size"].tolist(),
                                                strict=True),
                                            strict=True))

    def keep_at(self, position: int, doc: Document) -> bool | tuple[bool, str]:
        if position in self._cluster_of:
            cluster, size = self._cluster_of[position]
            doc.metadata["dup_cluster"] = f"{cluster:016x}"
            doc.metadata["dup_cluster_size"] = size
        if position in self._removed:
            return False, REASONS[self._removed[position]]
        return True
