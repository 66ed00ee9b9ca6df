"""Staged exact + near + (optionally) containment deduplication as datatrove steps.

Each stage is its own executor run; they talk through files under `work_dir`:

    stage "curate"  (N tasks)  DedupSignatures   pass-through; per rank r writes
        signatures/meta/r.json              world_size, doc count, config
        signatures/docs/r.npy               per doc: exact hash, stable key, #shingles, #chars
        signatures/shingles/r.values.bin    every doc's sorted unique shingle hashes (uint64) ...
        signatures/shingles/r.offsets.bin   ... and where each doc's run starts (uint64, n+1)
        signatures/bands/b/r.npy            per band b: (band hash, doc index) sorted by hash
        signatures/fingerprints/r.npy       containment only: (winnowed fingerprint, doc index)
    stage "buckets" (any tasks) DedupBuckets     task t: bands t::tasks -> candidate pairs,
                                                  task 0: exact hashes, task 1 % tasks:
                                                  containment candidates; all verified exactly
        edges/t.npy                         (doc a, doc b, kind, similarity)
    stage "clusters" (1 task)   DedupClusters    union-find, survivors, reasons
        clusters/r.npz                      per source rank: removed doc indices + reasons,
                                            cluster id + size of every clustered doc
    stage "publish" (N tasks)   DedupFilter      drops the removed docs (counted, with reasons)

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
- Clusters: union-find over exact and near edges; a contained doc joins the cluster of its
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

from curation.errors import RecipeError
from curation.faults import fault_point
from curation.positional import PositionalFilter
from curation.steps import SideOutputs
from curation.workfiles import AtomicFile, RankFiles, memmap, save_npy, save_npz
from filters.minhash import MinHashConfig, band_hashes, signature
from filters.shingles import document_shingles

logger = logging.getLogger(__name__)

__all__ = [
    "ContainmentConfig",
    "DedupBuckets",
    "DedupClusters",
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

    def edges(self, task: int) -> Path:
        return self.rank_file("edges", task, ".npy")

    def clusters(self, rank: int) -> Path:
        return self.rank_file("clusters", rank, ".npz")


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
        save_npy(files.docs(rank), docs.array())
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


def _load_postings(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """All ranks' postings as (hash, gid), sorted by hash (ties in rank, index order)."""
    hashes, gids = [], []
    for rank, path in enumerate(paths):
        postings = np.load(path)
        hashes.append(postings["hash"])
        gids.append(_doc_gid(rank, postings["doc"]))
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


class DedupBuckets(PipelineStep):
    """Second stage: candidate pairs from LSH bands (and containment fingerprints), verified.

    Task t handles bands t, t + tasks, ...; task 0 also the exact hashes and task 1 % tasks the
    containment candidates. Any task count works.

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

    def reads(self, rank: int, world_size: int) -> list[str]:
        """Every first-stage task's meta, records and shingles, this task's bands (and fingerprints)."""
        signatures = Path(self.work_dir) / "signatures"
        wanted = [signatures / "meta" / "*", signatures / "docs" / "*", signatures / "shingles" / "*"]
        wanted += [signatures / "bands" / f"{band:03d}" / "*" for band in range(rank, self.config.num_bands, world_size)]
        if self.containment is not None and rank == 1 % world_size:
            wanted.append(signatures / "fingerprints" / "*")
        return [str(path) for path in wanted]

    def run(self, data: Iterable[Document] | None = None, rank: int = 0, world_size: int = 1) -> None:
        files = _DedupFiles(self.work_dir)
        sig_ranks = len(files.metas())
        docs = _load_docs(files, sig_ranks)
        candidates = _Candidates()
        for band in range(rank, self.config.num_bands, world_size):
            hashes, gids = _load_postings([files.band(band, r) for r in range(sig_ranks)])
            _run_pairs(gids, *_runs(hashes), candidates)
            fault_point("dedup/band")
        edges = []
        if rank == 0:
            edges.append(self._exact_edges(docs))
        if self.containment is not None and rank == 1 % world_size:
            self._containment_candidates(files, sig_ranks, candidates)
        pairs = candidates.unique()
        self.stat_update("candidate_pairs", value=len(pairs))
        edges.append(self._verify(pairs, docs, _ShingleStore(files, sig_ranks)))
        all_edges = np.concatenate(edges)
        for kind, name in enumerate(EDGE_KINDS):
            self.stat_update(f"edges_{name}", value=int((all_edges["kind"] == kind).sum()))
        save_npy(files.edges(rank), all_edges)

    def _exact_edges(self, docs: dict[int, np.ndarray]) -> np.ndarray:
        exact = np.concatenate([docs[r]["exact"] for r in sorted(docs)])
        gids = np.concatenate([_doc_gid(r, np.arange(len(docs[r]))) for r in sorted(docs)])
        nonempty = np.concatenate([docs[r]["shingles"] > 0 for r in sorted(docs)])
        exact, gids = exact[nonempty], gids[nonempty]
        order = np.lexsort((gids, exact))
        exact, gids = exact[order], gids[order]
        starts, lengths = _runs(exact)
        firsts = np.repeat(gids[starts], lengths - 1)
        members = np.concatenate([gids[s + 1 : s + n] for s, n in zip(starts, lengths, strict=True)] or [gids[:0]])
        return _edges(firsts, members, EXACT, np.ones(len(members)))

    def _containment_candidates(self, files: _DedupFiles, sig_ranks: int, candidates: _Candidates) -> None:
        hashes, gids = _load_postings([files.fingerprints(r) for r in range(sig_ranks)])
        starts, lengths = _runs(hashes)
        common = lengths <= self.containment.max_doc_frequency
        self.stat_update("fingerprints_skipped_as_common", value=int((~common).sum()))
        _run_pairs(gids, starts[common], lengths[common], candidates)

    def _verify(self, pairs: np.ndarray, docs: dict[int, np.ndarray], store: _ShingleStore) -> np.ndarray:
        """Exact checks of every candidate pair; returns the pairs that are edges."""
        kept_a, kept_b, kinds, similarities = [], [], [], []
        for a, b in pairs.tolist():
            info_a, info_b = _doc_info(docs, a), _doc_info(docs, b)
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


def _load_docs(files: _DedupFiles, sig_ranks: int) -> dict[int, np.ndarray]:
    return {rank: np.load(files.docs(rank)) for rank in range(sig_ranks)}


def _doc_info(docs: dict[int, np.ndarray], gid: int) -> np.void:
    return docs[gid >> 32][gid & 0xFFFFFFFF]


# ----------------------------------------------------------------------------- stage 3


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, node: int) -> int:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:  # path compression
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


class DedupClusters(PipelineStep):
    """Third stage (one task): clusters, one survivor each, and what to remove and why."""

    type = "dedup"
    name = "dedup_clusters"

    def __init__(self, work_dir: str):
        super().__init__()
        self.work_dir = work_dir

    def reads(self, rank: int, world_size: int) -> list[str]:
        """Every first-stage task's meta and records, and every bucket task's edges."""
        root = Path(self.work_dir)
        return [str(root / "signatures" / "meta" / "*"), str(root / "signatures" / "docs" / "*"),
                str(root / "edges" / "*")]

    def run(self, data: Iterable[Document] | None = None, rank: int = 0, world_size: int = 1) -> None:
        if world_size != 1:
            raise RecipeError(f"DedupClusters runs as exactly 1 task, got {world_size}")
        files = _DedupFiles(self.work_dir)
        sig_ranks = len(files.metas())
        docs = _load_docs(files, sig_ranks)
        edge_files = sorted((files.root / "edges").glob("*.npy"))
        edges = np.concatenate([np.load(path) for path in edge_files]) if edge_files else np.zeros(0, EDGE_DTYPE)
        nodes = np.unique(np.concatenate([edges["a"], edges["b"]]))
        removed, members = self._decide(nodes, edges, docs)
        for source_rank in range(sig_ranks):
            _save_clusters(files.clusters(source_rank), removed.get(source_rank, []), members.get(source_rank, []))
        self.stat_update("clusters", value=len({cluster for rows in members.values() for _, cluster, _ in rows}))
        for rows in removed.values():
            for _, reason in rows:
                self.stat_update(REASONS[reason])

    def _decide(self, nodes: np.ndarray, edges: np.ndarray, docs: dict[int, np.ndarray]) -> tuple[dict, dict]:
        position = {gid: i for i, gid in enumerate(nodes.tolist())}
        info = [_doc_info(docs, gid) for gid in nodes.tolist()]
        # Survivor order: most shingles, smallest stable key, smallest gid. (Not characters:
        # between exact copies they only count whitespace and punctuation.)
        order = [(-int(d["shingles"]), int(d["key"]), gid) for d, gid in zip(info, nodes.tolist(), strict=True)]
        similar = _UnionFind(len(nodes))
        for a, b, kind in zip(edges["a"].tolist(), edges["b"].tolist(), edges["kind"].tolist(), strict=True):
            if kind != CONTAINED:
                similar.union(position[a], position[b])
        clusters = _UnionFind(len(nodes))
        for i in range(len(nodes)):
            clusters.union(i, similar.find(i))
        for smaller, container in self._best_containers(edges, position, order).items():
            clusters.union(smaller, container)
        groups: dict[int, list[int]] = {}
        for i in range(len(nodes)):
            groups.setdefault(clusters.find(i), []).append(i)
        removed: dict[int, list] = {}
        members: dict[int, list] = {}
        for group in groups.values():
            survivor = min(group, key=lambda i: order[i])
            cluster_id = min(int(info[i]["key"]) for i in group)
            for i in group:
                rank, index = nodes[i] >> np.uint64(32), nodes[i] & np.uint64(0xFFFFFFFF)
                members.setdefault(int(rank), []).append((int(index), cluster_id, len(group)))
                if i == survivor:
                    continue
                if info[i]["exact"] == info[survivor]["exact"]:
                    reason = EXACT
                elif similar.find(i) == similar.find(survivor):
                    reason = NEAR
                else:
                    reason = CONTAINED
                removed.setdefault(int(rank), []).append((int(index), reason))
        return removed, members

    @staticmethod
    def _best_containers(edges: np.ndarray, position: dict[int, int], order: list[tuple]) -> dict[int, int]:
        """For each contained doc, the one container it joins: the first in survivor order."""
        best: dict[int, int] = {}
        contained = edges[edges["kind"] == CONTAINED]
        for a, b in zip(contained["a"].tolist(), contained["b"].tolist(), strict=True):
            i, j = position[a], position[b]
            smaller, container = (i, j) if order[i] > order[j] else (j, i)
            if smaller not in best or order[container] < order[best[smaller]]:
                best[smaller] = container
        return best


def _save_clusters(path: Path, removed: list[tuple[int, int]], members: list[tuple[int, int, int]]) -> None:
    removed_array = np.array(sorted(removed), dtype=np.int64).reshape(-1, 2)
    member_rows = sorted(members)
    save_npz(
        path,
        removed_index=removed_array[:, 0].astype(np.uint32),
        removed_reason=removed_array[:, 1].astype(np.uint8),
        member_index=np.array([row[0] for row in member_rows], dtype=np.uint32),
        member_cluster=np.array([row[1] for row in member_rows], dtype=np.uint64),
        member_size=np.array([row[2] for row in member_rows], dtype=np.uint32),
    )


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
        return [self.files.clusters(rank)]

    def load_decisions(self, rank: int) -> None:
        with np.load(self.files.clusters(rank)) as clusters:
            self._removed = dict(zip(clusters["removed_index"].tolist(), clusters["removed_reason"].tolist(),
                                     strict=True))
            self._cluster_of = dict(zip(clusters["member_index"].tolist(),
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
