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
    stage "buckets" (T tasks)   DedupBuckets     task t: hash range t of every band, of the exact
                                                  hashes and of the fingerprints -> candidate
                                                  pairs, all verified exactly
        edges/t-d.npy                       (doc a, doc b, kind, similarity) for partition d
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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import xxhash
from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep

from curation.faults import fault_point
from curation.positional import PositionalFilter
from curation.steps import SideOutputs
from curation.workfiles import AtomicFile, RankFiles, decision_files, memmap, save_npy
from filters.components import write_partitioned
from filters.minhash import MinHashConfig, band_hashes, signature
from filters.shingles import document_shingles

logger = logging.getLogger(__name__)

__all__ = [
    "ContainmentConfig",
    "DedupBuckets",
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

    @property
    def edges(self) -> Path:
        return self.root / "edges"

    def stage(self, name: str) -> Path:
        """A folder of the components' file shuffle (filters/dedup_clusters.py)."""
        return self.root / "components" / name

    def clusters(self, rank: int, task: int) -> Path:
        return self.root / "clusters" / f"{rank:05d}-{task:05d}.npz"


class _ShingleStore:
    """Read-only access to every rank's stored shingle sets (memory-mapped)."""

    def __init__(self, files: _DedupFiles, world_size: int) -> None:
        self.values = [memmap(files.shingle_values(r), np.uint64) for r in range(world_size)]
        self.offsets = [memmap(files.shingle_offsets(r), np.uint64) for r in range(world_size)]

    def get(self, gid: int) -> np.ndarray:
        rank, index = gid >> 32, gid & 0xFFFFFFFF
        offsets = self.offsets[rank]
        return np.asarray(self.values[rank][int(offsets[index]) : int(offsets[index + 1])])


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


# ----------------------------------------------------------------------------- stage 2


@dataclass
class _Candidates:
    pairs: list[np.ndarray] = field(default_factory=list)

    def add(self, a: np.ndarray, b: np.ndarray) -> None:
        low, high = np.minimum(a, b), np.maximum(a, b)
        self.pairs.append(np.stack([low, high], axis=1))

    def unique(self) -> np.ndarray:
        if not self.pairs:
            return np.zeros((0, 2), dtype=np.uint64)
        return np.unique(np.concatenate(self.pairs), axis=0)


def hash_range(part: int, parts: int) -> tuple[int, int | None]:
    """The uint64 hashes [start, end) of part `part` of `parts` equal ranges (end None: to the top)."""
    width = (1 << 64) // parts
    return part * width, None if part == parts - 1 else (part + 1) * width


def _load_postings(paths: list[Path], part: int, parts: int) -> tuple[np.ndarray, np.ndarray]:
    """Every rank's postings with a hash in part `part` of `parts`, as (hash, gid) sorted by hash
    (ties in rank, index order). Each file is sorted by hash, so the part is a binary-searched
    slice of its memory map: only that slice is read."""
    start, end = hash_range(part, parts)
    hashes, gids = [], []
    for rank, path in enumerate(paths):
        postings = np.load(path, mmap_mode="r")
        column = postings["hash"]
        low = int(np.searchsorted(column, np.uint64(start), side="left"))
        high = len(column) if end is None else int(np.searchsorted(column, np.uint64(end), side="left"))
        piece = np.array(postings[low:high])
        hashes.append(piece["hash"])
        gids.append(_doc_gid(rank, piece["doc"]))
    hash_array, gid_array = np.concatenate(hashes), np.concatenate(gids)
    order = np.lexsort((gid_array, hash_array))
    return hash_array[order], gid_array[order]


def _runs(sorted_hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, length) of every run of >= 2 equal values in a sorted array."""
    if len(sorted_hashes) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    boundaries = np.flatnonzero(np.concatenate(([True], sorted_hashes[1:] != sorted_hashes[:-1], [True])))
    starts, lengths = boundaries[:-1], np.diff(boundaries)
    return starts[lengths > 1], lengths[lengths > 1]


def _run_pairs(gids: np.ndarray, starts: np.ndarray, lengths: np.ndarray, candidates: _Candidates) -> None:
    """All pairs within short runs; for long runs, each member with the first and the previous
    (enough to connect them, while a run of 10,000 boilerplate copies stays 20,000 pairs)."""
    for start, length in zip(starts.tolist(), lengths.tolist(), strict=True):
        run = gids[start : start + length]
        if length <= MAX_ALL_PAIRS_RUN:
            first, second = np.triu_indices(length, k=1)
            candidates.add(run[first], run[second])
        else:
            candidates.add(np.full(length - 1, run[0]), run[1:])
            candidates.add(run[:-1], run[1:])


class _DocTable:
    """Every rank's doc rows (exact hash, key, shingle count, language), memory-mapped: a task
    reads the rows of the docs it compares, never the whole table."""

    def __init__(self, files: _DedupFiles, ranks: int) -> None:
        self.rows = [files.docs_map(rank) for rank in range(ranks)]

    def get(self, gid: int) -> np.void:
        return self.rows[gid >> 32][gid & 0xFFFFFFFF]

    def column(self, gids: np.ndarray, name: str) -> np.ndarray:
        """Field `name` of each doc in `gids` (vectorized: one gather per rank)."""
        gids = np.asarray(gids, dtype=np.uint64)
        ranks = (gids >> np.uint64(32)).astype(np.int64)
        indices = (gids & np.uint64(0xFFFFFFFF)).astype(np.int64)
        out = np.zeros(len(gids), dtype=self.rows[0].dtype[name] if self.rows else np.uint64)
        for rank in np.unique(ranks).tolist():
            here = ranks == rank
            out[here] = self.rows[rank][name][indices[here]]
        return out

    def survivor_order(self, gids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sort keys of the survivor order, best first: most shingles, smallest stable key, smallest gid.
        (Not characters: between exact copies they only count whitespace and punctuation.)"""
        gids = np.asarray(gids, dtype=np.uint64)
        return -self.column(gids, "shingles").astype(np.int64), self.column(gids, "key"), gids


def worse_first(docs: _DocTable, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pair as (the doc later in survivor order, the one earlier)."""
    shingles_a, key_a, gid_a = docs.survivor_order(a)
    shingles_b, key_b, gid_b = docs.survivor_order(b)
    a_later = (shingles_a > shingles_b) | ((shingles_a == shingles_b) & (
        (key_a > key_b) | ((key_a == key_b) & (gid_a > gid_b))))
    return np.where(a_later, a, b), np.where(a_later, b, a)


class DedupBuckets(PipelineStep):
    """Second stage: candidate pairs from LSH bands, exact hashes and containment fingerprints, verified.

    The work is cut into units: (band, hash part) for every band, (exact hashes, hash part) and
    (fingerprints, hash part), with as many hash parts as tasks; task t takes the units with part t,
    so any task count works and each task reads 1/tasks of every postings file (a binary-searched
    slice of its memory map). A pair can come out of two tasks (two bands): the next stage drops
    repeats.

    Writes its edges partitioned for the components (filters/dedup_clusters.py): exact and near
    edges to the partitions of both docs, a containment edge as (contained, container) to the
    contained doc's partition (which picks its one best container).

    Args:
        work_dir: the folder DedupSignatures wrote to.
        config: the MinHashConfig the signatures were made with.
        jaccard_threshold: a near-duplicate edge needs this exact Jaccard on the shingle sets.
        containment: must match the one given to DedupSignatures (None: no containment).
    """

    type = "dedup"
    name = "dedup_buckets"

    def __init__(self, work_dir: str, config: MinHashConfig | None = None, jaccard_threshold: float = 0.75,
                 containment: ContainmentConfig | None = None):
        super().__init__()
        self.work_dir = work_dir
        self.config = config or MinHashConfig()
        self.jaccard_threshold = jaccard_threshold
        self.containment = containment

    def run(self, data: Iterable[Document] | None = None, rank: int = 0, world_size: int = 1) -> None:
        files = _DedupFiles(self.work_dir)
        sig_ranks = len(files.metas())
        docs = _DocTable(files, sig_ranks)
        candidates = _Candidates()
        for band in range(self.config.num_bands):
            hashes, gids = _load_postings([files.band(band, r) for r in range(sig_ranks)], rank, world_size)
            _run_pairs(gids, *_runs(hashes), candidates)
            fault_point("dedup/band")
        if self.containment is not None:
            self._containment_candidates(files, sig_ranks, rank, world_size, candidates)
        pairs = candidates.unique()
        self.stat_update("candidate_pairs", value=len(pairs))
        exact = self._exact_edges(files, sig_ranks, rank, world_size)
        edges = np.concatenate([exact, self._verify(pairs, docs, _ShingleStore(files, sig_ranks))])
        for kind, name in enumerate(EDGE_KINDS):
            self.stat_update(f"edges_{name}", value=int((edges["kind"] == kind).sum()))
        contained = edges["kind"] == CONTAINED
        edges["a"][contained], edges["b"][contained] = worse_first(docs, edges["a"][contained],
                                                                   edges["b"][contained])
        write_partitioned(files.edges, rank, world_size, edges, to_b=~contained)

    @staticmethod
    def _exact_edges(files: _DedupFiles, sig_ranks: int, part: int, parts: int) -> np.ndarray:
        """Docs with equal exact hashes (empty docs are not indexed): each with the first of its run."""
        exact, gids = _load_postings([files.exact(r) for r in range(sig_ranks)], part, parts)
        starts, lengths = _runs(exact)
        firsts = np.repeat(gids[starts], lengths - 1)
        members = np.concatenate([gids[s + 1 : s + n] for s, n in zip(starts, lengths, strict=True)] or [gids[:0]])
        return _edges(firsts, members, EXACT, np.ones(len(members)))

    def _containment_candidates(self, files: _DedupFiles, sig_ranks: int, part: int, parts: int,
                                candidates: _Candidates) -> None:
        hashes, gids = _load_postings([files.fingerprints(r) for r in range(sig_ranks)], part, parts)
        starts, lengths = _runs(hashes)
        common = lengths <= self.containment.max_doc_frequency
        self.stat_update("fingerprints_skipped_as_common", value=int((~common).sum()))
        _run_pairs(gids, starts[common], lengths[common], candidates)

    def _verify(self, pairs: np.ndarray, docs: _DocTable, store: _ShingleStore) -> np.ndarray:
        """Exact checks of every candidate pair; returns the pairs that are edges."""
        kept_a, kept_b, kinds, similarities = [], [], [], []
        for a, b in pairs.tolist():
            info_a, info_b = docs.get(a), docs.get(b)
            if info_a["exact"] == info_b["exact"]:
                kind, similarity = EXACT, 1.0
            else:
                same_language = 0 in (info_a["lang"], info_b["lang"]) or info_a["lang"] == info_b["lang"]
                kind, similarity = self._compare(store.get(a), store.get(b), same_language)
                if kind is None:
                    continue
            kept_a.append(a)
            kept_b.append(b)
            kinds.append(kind)
            similarities.append(similarity)
        edges = np.empty(len(kept_a), dtype=EDGE_DTYPE)
        edges["a"], edges["b"], edges["kind"], edges["similarity"] = kept_a, kept_b, kinds, similarities
        return edges

    def _compare(self, first: np.ndarray, second: np.ndarray, same_language: bool) -> tuple[int | None, float]:
        shared = len(np.intersect1d(first, second, assume_unique=True))
        jaccard = shared / (len(first) + len(second) - shared)
        if jaccard >= self.jaccard_threshold:
            return NEAR, jaccard
        # Containment is only judged within a language: a translation that keeps a list of names
        # (teams, places) can be two-thirds "contained" in the original (measured on XQuAD).
        if self.containment is not None and same_language:
            smaller = min(len(first), len(second))
            containment = shared / smaller
            if containment >= effective_threshold(smaller, self.containment):
                return CONTAINED, containment
        return None, jaccard


def _edges(a: np.ndarray, b: np.ndarray, kind: int, similarity: np.ndarray) -> np.ndarray:
    edges = np.empty(len(a), dtype=EDGE_DTYPE)
    edges["a"], edges["b"], edges["kind"], edges["similarity"] = a, b, kind, similarity
    return edges



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
