"""Dedup's deciding stages after the verify stage: clusters, survivors and reasons, in any number of tasks.

The clusters are the connected components of two graphs over the docs that have an edge:

    graph 1 (similar)   exact and near edges                      -> says `near` vs `contained`
    graph 2 (clusters)  graph 1 + each contained doc's link to its one best container

computed by filters/components.py (star rounds, then an exact finish) in stages that each own a
hash partition of the docs, then decided per cluster by the task that owns the cluster's label:

    stage "links"     (T tasks)  task t: the edges of its docs (edges/*-t.npy); picks each contained
                                 doc's best container (the first in survivor order); writes graph 1 and
                                 graph 2 edges, partitioned (components/links/), and the containers
                                 that lost (components/loners/: they are clustered docs of their own)
    stages "stars-<k>-large", "stars-<k>-small"  (T tasks, `components.ROUNDS` pairs)
    stage "labels"    (T tasks)  label guesses of its docs (components/guesses/t.npy), the residual
                                 (components/residual/t.npy: edges of the docs the rounds left unsettled)
    stage "clusters"  (T tasks)  task t: exact labels of the whole residual (tiny; every task computes
                                 them, so no stage runs as one task), then every doc whose cluster label
                                 is in partition t (one read of the guesses, 24 bytes a clustered doc),
                                 decided per cluster; writes
        clusters/<rank>-<t>.npz   per source rank: removed doc indices + reasons, cluster id + size of
                                 every clustered doc (DedupFilter merges the files of its rank)

The decisions are today's single-task ones, exactly: a cluster is a component of graph 2; its
survivor is the first in survivor order (most shingles, smallest stable key, smallest doc id); its id
is its smallest stable key; a removed doc is an `exact_duplicate` when its exact hash is the
survivor's, a `near_duplicate` when it is in the survivor's graph-1 component, else a
`contained_duplicate`. None of it depends on the task count, so neither do the decisions.

Memory per task: a links/stars/labels task holds the edges that touch its docs; a clusters task
its clusters' docs, one chunk of guesses and the residual. Docs' shingle
counts and keys are read through the memory maps of the signatures (a gather per rank).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep

from curation.faults import fault_point
from curation.workfiles import save_npy, save_npz
from filters.components import (
    ARC_DTYPE,
    ROUNDS,
    arcs,
    classify,
    large_star,
    lookup,
    partition_of,
    read_partition,
    resolve,
    small_star,
    write_partitioned,
)
from filters.dedup import CONTAINED, EDGE_DTYPE, EXACT, NEAR, REASONS, _DedupFiles
from filters.dedup_buckets import DedupBuckets, DedupVerify, _DocTable

__all__ = ["DedupClusters", "DedupLabels", "DedupLinks", "DedupStars", "deciding_pipelines",
           "deciding_stages"]

SIMILAR, CLUSTERS = 1, 2  # the two graphs' numbers
GUESS_DTYPE = np.dtype([("node", "<u8"), ("similar", "<u8"), ("cluster", "<u8")])
SCAN_ROWS = 1 << 20  # guesses a clusters task reads at a time


class _Step(PipelineStep):
    type = "dedup"

    def __init__(self, work_dir: str):
        super().__init__()
        self.work_dir = work_dir

    @property
    def files(self) -> _DedupFiles:
        return _DedupFiles(self.work_dir)

    def signature_reads(self) -> list[str]:
        """The first stage's metas and doc rows, which every deciding step reads (`reads`: what a task
        pulls when the output is a URL)."""
        return [str(Path(self.work_dir) / "signatures" / folder / "*") for folder in ("meta", "docs")]


class DedupLinks(_Step):
    """Each contained doc's best container, and both graphs' edges, partitioned by doc."""

    name = "dedup_links"

    def reads(self, rank: int, world_size: int) -> list[str]:
        """What a task pulls when the output is a URL: the metas, doc rows, and its partition of the edges."""
        return [*self.signature_reads(), str(self.files.edges / f"*-{rank:05d}.npy")]

    def run(self, data: Iterable[Document] | None = None, rank: int = 0, world_size: int = 1) -> None:
        files = self.files
        edges = read_partition(files.edges, rank, world_size, EDGE_DTYPE)
        similar = edges[edges["kind"] != CONTAINED]
        # both ends' partitions hold a similar edge: the partition of its smaller end passes it on
        similar = similar[partition_of(np.minimum(similar["a"], similar["b"]), world_size) == rank]
        links, loners = self._best_containers(edges[edges["kind"] == CONTAINED], len(files.metas()))
        rows = np.concatenate([arcs(SIMILAR, similar["a"], similar["b"]), arcs(CLUSTERS, similar["a"], similar["b"]),
                               links])
        self.stat_update("containment_links", value=len(links))
        write_partitioned(files.stage("links"), rank, world_size, rows)
        write_partitioned(files.stage("loners"), rank, world_size, loners, to_b=False)

    def _best_containers(self, contained: np.ndarray, ranks: int) -> tuple[np.ndarray, np.ndarray]:
        """(graph-2 edges from each contained doc to its first container in survivor order, the
        other containers as self-loops: docs that are clustered, if only with themselves)."""
        pairs = np.unique(np.stack([contained["a"], contained["b"]], axis=1), axis=0)
        smaller, container = pairs[:, 0], pairs[:, 1]
        shingles, key, gid = _DocTable(self.files, ranks).survivor_order(container)
        order = np.lexsort((gid, key, shingles, smaller))
        smaller, container = smaller[order], container[order]
        first = np.ones(len(smaller), dtype=bool)
        first[1:] = smaller[1:] != smaller[:-1]
        loners = np.empty(int((~first).sum()), dtype=ARC_DTYPE)
        loners["graph"], loners["a"], loners["b"] = CLUSTERS, container[~first], container[~first]
        return arcs(CLUSTERS, smaller[first], container[first]), loners


class DedupStars(_Step):
    """One star round over both graphs: large-star or small-star (filters/components.py)."""

    name = "dedup_stars"

    def __init__(self, work_dir: str, source: str, target: str, large: bool):
        super().__init__(work_dir)
        self.source, self.target, self.large = source, target, large

    def reads(self, rank: int, world_size: int) -> list[str]:
        return [*self.signature_reads(), str(self.files.stage(self.source) / f"*-{rank:05d}.npy")]

    def run(self, data: Iterable[Document] | None = None, rank: int = 0, world_size: int = 1) -> None:
        files = self.files
        rows = read_partition(files.stage(self.source), rank, world_size)
        out = (large_star if self.large else small_star)(rows, rank, world_size)
        self.stat_update("edges_in", value=len(rows))
        self.stat_update("edges_out", value=len(out))
        fault_point("dedup/stars")
        write_partitioned(files.stage(self.target), rank, world_size, out)


class DedupLabels(_Step):
    """Label guesses of the task's docs (both graphs) and the residual edges of unsettled docs."""

    name = "dedup_labels"

    def __init__(self, work_dir: str, source: str):
        super().__init__(work_dir)
        self.source = source

    def reads(self, rank: int, world_size: int) -> list[str]:
        return [*self.signature_reads(), str(self.files.stage(self.source) / f"*-{rank:05d}.npy"),
                str(self.files.stage("loners") / f"*-{rank:05d}.npy")]

    def run(self, data: Iterable[Document] | None = None, rank: int = 0, world_size: int = 1) -> None:
        files = self.files
        rows = read_partition(files.stage(self.source), rank, world_size)
        loners = read_partition(files.stage("loners"), rank, world_size)
        guesses, residual = classify(rows, rank, world_size)
        nodes = np.union1d(guesses["node"][guesses["graph"] == CLUSTERS], loners["a"])
        out = np.empty(len(nodes), dtype=GUESS_DTYPE)
        out["node"] = nodes
        out["similar"] = _guess(guesses[guesses["graph"] == SIMILAR], nodes)
        out["cluster"] = _guess(guesses[guesses["graph"] == CLUSTERS], nodes)
        self.stat_update("residual_edges", value=len(residual))
        save_npy(files.stage("residual") / f"{rank:05d}.npy", residual)
        save_npy(files.stage("guesses") / f"{rank:05d}.npy", out)


def _guess(guesses: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Each node's guess in one graph (sorted by node); a node outside that graph is its own label."""
    if len(guesses) == 0:
        return nodes.copy()
    at = np.minimum(np.searchsorted(guesses["node"], nodes), len(guesses) - 1)
    return np.where(guesses["node"][at] == nodes, guesses["label"][at], nodes)


class DedupClusters(_Step):
    """The clusters whose label is in this task's partition: survivors, cluster ids, reasons."""

    name = "dedup_clusters"

    def reads(self, rank: int, world_size: int) -> list[str]:
        """Every labels task's guesses and residual (each clusters task resolves the residual itself)."""
        return [*self.signature_reads(), str(self.files.stage("guesses") / "*"),
                str(self.files.stage("residual") / "*")]

    def run(self, data: Iterable[Document] | None = None, rank: int = 0, world_size: int = 1) -> None:
        files = self.files
        sig_ranks = len(files.metas())
        nodes, similar, cluster = self._my_docs(files, rank, world_size)
        removed, members = _decide(nodes, similar, cluster, _DocTable(files, sig_ranks))
        self.stat_update("clusters", value=len(np.unique(cluster)))
        for reason, name in enumerate(REASONS):
            count = int((removed["reason"] == reason).sum())
            if count:
                self.stat_update(name, value=count)
        for source_rank in range(sig_ranks):
            _save_clusters(files.clusters(source_rank, rank), removed, members, source_rank)

    @staticmethod
    def _my_docs(files: _DedupFiles, rank: int, world_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(doc, graph-1 label, graph-2 label) of every clustered doc whose graph-2 label is ours."""
        resolved = _resolve_residual(files)
        kept = []
        for path in sorted(files.stage("guesses").glob("*.npy")):
            guesses = np.load(path, mmap_mode="r")
            for start in range(0, len(guesses), SCAN_ROWS):
                chunk = np.array(guesses[start : start + SCAN_ROWS])
                cluster = lookup(resolved, CLUSTERS, chunk["cluster"])
                mine = partition_of(cluster, world_size) == rank
                out = np.empty(int(mine.sum()), dtype=GUESS_DTYPE)
                out["node"], out["cluster"] = chunk["node"][mine], cluster[mine]
                out["similar"] = lookup(resolved, SIMILAR, chunk["similar"][mine])
                kept.append(out)
            fault_point("dedup/guesses")
        rows = np.concatenate(kept) if kept else np.zeros(0, GUESS_DTYPE)
        return rows["node"], rows["similar"], rows["cluster"]


def _resolve_residual(files: _DedupFiles) -> np.ndarray:
    """Exact labels of every labels task's residual. Each clusters task computes them itself: the
    residual is tiny when the star rounds converged (then this costs less than a one-task stage
    would), and no stage of the run is left that a single task must do."""
    parts = [np.load(path) for path in sorted(files.stage("residual").glob("*.npy"))]
    return resolve(np.concatenate(parts) if parts else np.zeros(0, ARC_DTYPE))


REMOVED_DTYPE = np.dtype([("gid", "<u8"), ("reason", "u1")])
MEMBER_DTYPE = np.dtype([("gid", "<u8"), ("cluster", "<u8"), ("size", "<u4")])


def _decide(nodes: np.ndarray, similar: np.ndarray, cluster: np.ndarray,
            docs: _DocTable) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster (docs with one graph-2 label): the survivor, the id, and every other doc's reason."""
    shingles, key, gid = docs.survivor_order(nodes)
    exact = docs.column(nodes, "exact")
    order = np.lexsort((gid, key, shingles, cluster))
    nodes, similar, cluster, key, exact = nodes[order], similar[order], cluster[order], key[order], exact[order]
    if len(nodes) == 0:
        return np.zeros(0, REMOVED_DTYPE), np.zeros(0, MEMBER_DTYPE)
    new = np.ones(len(nodes), dtype=bool)
    new[1:] = cluster[1:] != cluster[:-1]
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, len(nodes)))
    survivor = np.repeat(starts, sizes)  # sorted in survivor order: each cluster's first row survives
    members = np.empty(len(nodes), dtype=MEMBER_DTYPE)
    members["gid"], members["size"] = nodes, np.repeat(sizes, sizes)
    members["cluster"] = np.repeat(np.minimum.reduceat(key, starts), sizes)
    gone = np.arange(len(nodes)) != survivor
    reason = np.where(exact == exact[survivor], EXACT, np.where(similar == similar[survivor], NEAR, CONTAINED))
    removed = np.empty(int(gone.sum()), dtype=REMOVED_DTYPE)
    removed["gid"], removed["reason"] = nodes[gone], reason[gone]
    return removed, members


def _save_clusters(path: Path, removed: np.ndarray, members: np.ndarray, rank: int) -> None:
    """Source rank `rank`'s share of a task's decisions, by doc index."""
    removed = np.sort(removed[(removed["gid"] >> np.uint64(32)) == rank], order="gid")
    members = np.sort(members[(members["gid"] >> np.uint64(32)) == rank], order="gid")
    low = np.uint64(0xFFFFFFFF)
    save_npz(
        path,
        removed_index=(removed["gid"] & low).astype(np.uint32),
        removed_reason=removed["reason"].astype(np.uint8),
        member_index=(members["gid"] & low).astype(np.uint32),
        member_cluster=members["cluster"],
        member_size=members["size"],
    )


def deciding_stages(work_dir: str, rounds: int = ROUNDS) -> list[tuple[str, PipelineStep]]:
    """The stages after the buckets, in order, as (stage name, step); each runs as many tasks as the buckets."""
    stages: list[tuple[str, PipelineStep]] = [("links", DedupLinks(work_dir))]
    source = "links"
    for round_ in range(1, rounds + 1):
        for large in (True, False):
            target = f"stars-{round_}-{'large' if large else 'small'}"
            stages.append((target, DedupStars(work_dir, source, target, large)))
            source = target
    return [*stages, ("labels", DedupLabels(work_dir, source)), ("clusters", DedupClusters(work_dir))]


def deciding_pipelines(buckets: DedupBuckets, tasks: int) -> list[tuple[str, list[PipelineStep], int]]:
    """Every stage between DedupSignatures and DedupFilter: (stage name, pipeline, task count)."""
    verify = DedupVerify(buckets.work_dir, jaccard_threshold=buckets.jaccard_threshold, containment=buckets.containment)
    stages = [("buckets", buckets), ("verify", verify), *deciding_stages(buckets.work_dir)]
    return [(name, [step], tasks) for name, step in stages]
