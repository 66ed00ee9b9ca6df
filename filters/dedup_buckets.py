"""Dedup's buckets and verify stages: candidate pairs by (band, hash range), each checked once.

    stage "buckets" (T tasks)  DedupBuckets  task t: hash range t of every band, of the exact hashes
                                             and of the containment fingerprints -> candidate pairs
        candidates/t-d.npy                   the pairs task t found that verify task d owns (a
                                             hash of the pair: each pair has one owner)
    stage "verify"  (T tasks)  DedupVerify   task t: its pairs, deduplicated, checked exactly on the
                                             stored shingle sets
        edges/t-d.npy                        (doc a, doc b, kind, similarity), for partition d of the
                                             docs (filters/dedup_clusters.py)

Postings files are sorted by hash, so a task reads a binary-searched slice of each file's memory
map; doc rows and shingle sets are read through memory maps too. A pair that collides in several
bands or fingerprints is found by several buckets tasks but verified by one, so the total work does
not grow with the task count. See filters/dedup.py for the whole design.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep

from curation.faults import fault_point
from curation.workfiles import memmap, save_npy
from filters.components import partition_of, read_partition, write_partitioned
from filters.dedup import (
    CONTAINED,
    EDGE_DTYPE,
    EDGE_KINDS,
    EXACT,
    MAX_ALL_PAIRS_RUN,
    NEAR,
    ContainmentConfig,
    _DedupFiles,
    _doc_gid,
    effective_threshold,
)
from filters.minhash import MinHashConfig

__all__ = ["DedupBuckets", "DedupVerify", "hash_range", "worse_first"]

class _ShingleStore:
    """Read-only access to every rank's stored shingle sets (memory-mapped)."""

    def __init__(self, files: _DedupFiles, world_size: int) -> None:
        self.values = [memmap(files.shingle_values(r), np.uint64) for r in range(world_size)]
        self.offsets = [memmap(files.shingle_offsets(r), np.uint64) for r in range(world_size)]

    def get(self, gid: int) -> np.ndarray:
        rank, index = gid >> 32, gid & 0xFFFFFFFF
        offsets = self.offsets[rank]
        return np.asarray(self.values[rank][int(offsets[index]) : int(offsets[index + 1])])



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
    short = lengths <= MAX_ALL_PAIRS_RUN
    for length in np.unique(lengths[short]).tolist():  # every run of one length at once
        first, second = np.triu_indices(length, k=1)
        run_starts = starts[short & (lengths == length)][:, None]
        candidates.add(gids[run_starts + first].ravel(), gids[run_starts + second].ravel())
    for start, length in zip(starts[~short].tolist(), lengths[~short].tolist(), strict=True):
        run = gids[start : start + length]
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
    """Candidate pairs from LSH bands, exact hashes and containment fingerprints, sent to their verifier.

    The work is cut into units: (band, hash part) for every band, (exact hashes, hash part) and
    (fingerprints, hash part), with as many hash parts as tasks; task t takes the units with part t,
    so any task count works and each task reads 1/tasks of every postings file (a binary-searched
    slice of its memory map). A pair can come out of several tasks (several bands): each task
    writes its pairs to the verify task that owns them (candidates/t-d.npy), which drops repeats.

    Args:
        work_dir: the folder DedupSignatures wrote to.
        config: the MinHashConfig the signatures were made with.
        jaccard_threshold: a near-duplicate edge needs this exact Jaccard on the shingle sets (the
            verify stage's setting, kept here so one object describes the whole dedup).
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

    def reads(self, rank: int, world_size: int) -> list[str]:
        """What a task pulls when the output is a URL: the first stage's metas and doc rows, and the
        postings it slices (whole files: each holds every hash range, sorted)."""
        signatures = Path(self.work_dir) / "signatures"
        folders = ["meta", "docs", "bands/*", "exact"] + (["fingerprints"] if self.containment is not None else [])
        return [str(signatures / folder / "*") for folder in folders]

    def run(self, data: Iterable[Document] | None = None, rank: int = 0, world_size: int = 1) -> None:
        files = _DedupFiles(self.work_dir)
        sig_ranks = len(files.metas())
        candidates = _Candidates()
        for band in range(self.config.num_bands):
            hashes, gids = _load_postings([files.band(band, r) for r in range(sig_ranks)], rank, world_size)
            _run_pairs(gids, *_runs(hashes), candidates)
            fault_point("dedup/band")
        self._exact_pairs(files, sig_ranks, rank, world_size, candidates)
        if self.containment is not None:
            self._containment_candidates(files, sig_ranks, rank, world_size, candidates)
        pairs = candidates.unique()
        self.stat_update("candidate_pairs", value=len(pairs))
        # A pair can collide in several bands and fingerprints, so in several tasks: each is sent to
        # the one verify task that owns it, and is checked once whatever the task count.
        owner = partition_of(pairs[:, 0] ^ (pairs[:, 1] * np.uint64(0xC2B2AE3D27D4EB4F)), world_size)
        for dest in range(world_size):
            save_npy(files.candidates(rank, dest), pairs[owner == dest])

    @staticmethod
    def _exact_pairs(files: _DedupFiles, sig_ranks: int, part: int, parts: int, candidates: _Candidates) -> None:
        """Docs with equal exact hashes (empty docs are not indexed): each with the first of its run."""
        exact, gids = _load_postings([files.exact(r) for r in range(sig_ranks)], part, parts)
        starts, lengths = _runs(exact)
        firsts = np.repeat(gids[starts], lengths - 1)
        members = np.concatenate([gids[s + 1 : s + n] for s, n in zip(starts, lengths, strict=True)] or [gids[:0]])
        candidates.add(firsts, members)

    def _containment_candidates(self, files: _DedupFiles, sig_ranks: int, part: int, parts: int,
                                candidates: _Candidates) -> None:
        hashes, gids = _load_postings([files.fingerprints(r) for r in range(sig_ranks)], part, parts)
        starts, lengths = _runs(hashes)
        common = lengths <= self.containment.max_doc_frequency
        self.stat_update("fingerprints_skipped_as_common", value=int((~common).sum()))
        _run_pairs(gids, starts[common], lengths[common], candidates)

class DedupVerify(PipelineStep):
    """Third stage: every candidate pair checked exactly, once: task t verifies the pairs of its partition.

    Writes the edges partitioned for the components (filters/dedup_clusters.py): exact and near
    edges to the partitions of both docs, a containment edge as (contained, container) to the
    contained doc's partition (which picks its one best container).
    """

    type = "dedup"
    name = "dedup_verify"

    def __init__(self, work_dir: str, jaccard_threshold: float = 0.75, containment: ContainmentConfig | None = None):
        super().__init__()
        self.work_dir = work_dir
        self.jaccard_threshold = jaccard_threshold
        self.containment = containment

    def reads(self, rank: int, world_size: int) -> list[str]:
        """What a task pulls when the output is a URL: the doc rows and shingles, and its candidates."""
        root = Path(self.work_dir)
        return [str(root / "signatures" / folder / "*") for folder in ("meta", "docs", "shingles")] + [
            str(root / "candidates" / f"*-{rank:05d}.npy")]

    def run(self, data: Iterable[Document] | None = None, rank: int = 0, world_size: int = 1) -> None:
        files = _DedupFiles(self.work_dir)
        sig_ranks = len(files.metas())
        docs = _DocTable(files, sig_ranks)
        found = read_partition(files.root / "candidates", rank, world_size, np.dtype((np.uint64, 2)))
        pairs = np.unique(found.reshape(-1, 2), axis=0)
        self.stat_update("candidate_pairs", value=len(pairs))
        edges = self._verify(pairs, docs, _ShingleStore(files, sig_ranks))
        for kind, name in enumerate(EDGE_KINDS):
            self.stat_update(f"edges_{name}", value=int((edges["kind"] == kind).sum()))
        contained = edges["kind"] == CONTAINED
        edges["a"][contained], edges["b"][contained] = worse_first(docs, edges["a"][contained],
                                                                   edges["b"][contained])
        write_partitioned(files.edges, rank, world_size, edges, to_b=~contained)

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
