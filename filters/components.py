"""Connected components of a graph too big for one task: star rounds, then an exact finish.

Dedup's clusters are the connected components of its edge graph. One task holding every edge
in a union-find is what limits a run to one machine's memory, so the components are computed by
tasks that each own a hash partition of the nodes (`partition_of`), in stages that talk through
files (a file shuffle: every task writes one file per destination partition):

    round stages (T tasks each)  large-star, small-star, large-star, ... (Kiveris et al. 2014, "Connected
                                 Components in MapReduce and Beyond"): task t reads the edges that touch
                                 its nodes, rewires each node's edges towards the smallest node it knows,
                                 and writes every new edge to the partitions of both its ends
    labels stage (T tasks)       each node's label guess from its own neighbourhood, and the edges of the
                                 nodes that have not settled yet (the residual)
    resolve (in the next stage)  exact components of the residual, whatever it holds (dedup: every
                                 clusters task resolves it: it is tiny once the rounds converged)

Several graphs go through the same stages side by side (a `graph` number on every edge): dedup
needs its similarity components and its cluster components, and two graph columns cost no
extra stage.

Why star rounds and an exact finish, not rounds until nothing changes: a datatrove run is a fixed
chain of stages, compiled before any edge exists, so the number of rounds is fixed
(`ROUNDS`). Large-star then small-star turns every clique and every star into a star around its
smallest node in one round, which is what dedup's graphs almost only hold (pairs, copies of one
text that all paired up, a boilerplate run paired to its first member); long chains need
O(log^2 n) rounds. Whatever the rounds left unfinished is finished exactly by the labels
stage and `resolve`, so the result never depends on the round count, only the residual's size does.

The finish, and why it is exact. After the rounds, a node is
    a root      when it has no smaller neighbour                 -> its label guess is itself
    a leaf      when its one neighbour is smaller                -> its label guess is that neighbour
    unsettled   otherwise (a smaller neighbour and degree >= 2)  -> its edges go to the residual
A component without unsettled nodes is a star around its smallest node (a leaf's neighbour cannot
be a leaf, two roots cannot touch), so the guesses are its labels. In a component with an
unsettled node, every path between two non-leaves avoids leaves (they have degree 1), and every
edge between two non-leaves touches an unsettled node (root-root cannot happen), so the residual
connects all its non-leaves, the smallest node among them is the component's, and a leaf takes
its neighbour's final label. Hence: label(u) = resolved.get(guess(u), guess(u)), exact for any
graph. Memory: a round or labels task holds the edges touching its nodes; `resolve` holds only
the residual (empty when the rounds converged).

Edges are undirected rows (graph, a, b) with a < b; nodes are uint64 ids (dedup: rank << 32 | index).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from curation.errors import RunStateError
from curation.faults import fault_point
from curation.workfiles import save_npy

__all__ = [
    "ARC_DTYPE",
    "LABEL_DTYPE",
    "ROUNDS",
    "arcs",
    "canonical",
    "classify",
    "large_star",
    "lookup",
    "partition_of",
    "read_partition",
    "resolve",
    "small_star",
    "write_partitioned",
]

ARC_DTYPE = np.dtype([("graph", "u1"), ("a", "<u8"), ("b", "<u8")])
LABEL_DTYPE = np.dtype([("graph", "u1"), ("node", "<u8"), ("label", "<u8")])
ROUNDS = 1  # large-star + small-star pairs compiled into a run; the exact finish does the rest

_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads rank << 32 | index ids evenly


def partition_of(nodes: np.ndarray, parts: int) -> np.ndarray:
    """The partition (task) that owns each node: a fixed hash of the id, mod `parts`."""
    mixed = np.asarray(nodes, dtype=np.uint64) * _MIX
    return ((mixed >> np.uint64(33)) % np.uint64(parts)).astype(np.int64)


def arcs(graph: np.ndarray | int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Undirected edges as rows with a < b, self-loops dropped, each edge once."""
    a, b = np.asarray(a, dtype=np.uint64), np.asarray(b, dtype=np.uint64)
    rows = np.empty(len(a), dtype=ARC_DTYPE)
    rows["graph"], rows["a"], rows["b"] = graph, np.minimum(a, b), np.maximum(a, b)
    return canonical(rows[rows["a"] != rows["b"]])


def canonical(rows: np.ndarray) -> np.ndarray:
    """Rows sorted by (graph, a, b) without repeats: the same set gives the same array."""
    if len(rows) == 0:
        return rows
    rows = rows[np.lexsort((rows["b"], rows["a"], rows["graph"]))]
    keep = np.ones(len(rows), dtype=bool)
    keep[1:] = (rows["graph"][1:] != rows["graph"][:-1]) | (rows["a"][1:] != rows["a"][:-1]) | (
        rows["b"][1:] != rows["b"][:-1])
    return rows[keep]


# ----------------------------------------------------------------------------- the file shuffle


def _file(folder: Path, source: int, dest: int) -> Path:
    return folder / f"{source:05d}-{dest:05d}.npy"


def write_partitioned(folder: Path, source: int, parts: int, rows: np.ndarray,
                      to_b: np.ndarray | bool = True) -> None:
    """Task `source`'s rows (with fields `a` and `b`), one file per destination partition: the
    partition of `a` and, where `to_b`, of `b` too (a node's owner must see all its edges). Every
    destination gets a file, empty or not, so a reader can tell that every source finished."""
    dest_a = partition_of(rows["a"], parts)
    dest_b = np.where(to_b, partition_of(rows["b"], parts), dest_a)
    for dest in range(parts):
        part = rows[(dest_a == dest) | (dest_b == dest)]
        save_npy(_file(folder, source, dest), canonical(part) if rows.dtype == ARC_DTYPE else part)


def read_partition(folder: Path, dest: int, parts: int, dtype: np.dtype = ARC_DTYPE) -> np.ndarray:
    """Every source's rows for partition `dest`, checked to come from `parts` sources."""
    paths = sorted(folder.glob(f"*-{dest:05d}.npy"))
    if len(paths) != parts:
        raise RunStateError(f"{folder}: {len(paths)} files for partition {dest}, expected one from each of "
                            f"{parts} tasks (a stage before ran with another task count or did not finish)")
    rows = [np.load(path) for path in paths]
    return np.concatenate(rows) if rows else np.zeros(0, dtype)


# ----------------------------------------------------------------------------- one task's work


def _owned_directed(rows: np.ndarray, task: int, parts: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(graph, node, neighbour) for every edge end the task owns, sorted by (graph, node, neighbour)."""
    graph = np.concatenate([rows["graph"], rows["graph"]])
    node = np.concatenate([rows["a"], rows["b"]])
    other = np.concatenate([rows["b"], rows["a"]])
    own = partition_of(node, parts) == task
    graph, node, other = graph[own], node[own], other[own]
    order = np.lexsort((other, node, graph))
    return graph[order], node[order], other[order]


def _groups(graph: np.ndarray, node: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start of each (graph, node) group in sorted rows, and each row's group number."""
    if len(node) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    new = np.ones(len(node), dtype=bool)
    new[1:] = (graph[1:] != graph[:-1]) | (node[1:] != node[:-1])
    starts = np.flatnonzero(new)
    return starts, np.cumsum(new) - 1


def large_star(rows: np.ndarray, task: int, parts: int) -> np.ndarray:
    """For each owned node u with m = min(u, its neighbours): every larger neighbour v gets the edge (v, m)."""
    graph, node, other = _owned_directed(canonical(rows), task, parts)
    starts, group = _groups(graph, node)
    smallest = np.minimum(np.minimum.reduceat(other, starts), node[starts]) if len(starts) else other[:0]
    larger = other > node
    return arcs(graph[larger], other[larger], smallest[group][larger])


def small_star(rows: np.ndarray, task: int, parts: int) -> np.ndarray:
    """For each owned node u with smaller neighbours N, m = min(N): every v in N and u get the edge (v, m)."""
    graph, node, other = _owned_directed(canonical(rows), task, parts)
    smaller = other < node
    graph, node, other = graph[smaller], node[smaller], other[smaller]
    starts, group = _groups(graph, node)
    if len(starts) == 0:
        return np.zeros(0, ARC_DTYPE)
    smallest = np.minimum.reduceat(other, starts)
    neighbours = arcs(graph, other, smallest[group])
    return canonical(np.concatenate([neighbours, arcs(graph[starts], node[starts], smallest)]))


def classify(rows: np.ndarray, task: int, parts: int) -> tuple[np.ndarray, np.ndarray]:
    """The owned nodes' label guesses (root: itself, leaf: its neighbour, unsettled: itself) and the
    residual: every edge of an unsettled node."""
    graph, node, other = _owned_directed(canonical(rows), task, parts)
    starts, _ = _groups(graph, node)
    if len(starts) == 0:
        return np.zeros(0, LABEL_DTYPE), np.zeros(0, ARC_DTYPE)
    degree = np.diff(np.append(starts, len(node)))
    smallest = other[starts]  # neighbours are sorted within a group
    has_smaller = smallest < node[starts]
    leaf = has_smaller & (degree == 1)
    guesses = np.empty(len(starts), dtype=LABEL_DTYPE)
    guesses["graph"], guesses["node"] = graph[starts], node[starts]
    guesses["label"] = np.where(leaf, smallest, node[starts])
    unsettled = np.repeat(has_smaller & (degree > 1), degree)
    return guesses, arcs(graph[unsettled], node[unsettled], other[unsettled])


def resolve(residual: np.ndarray) -> np.ndarray:
    """Exact components of the residual edges: (graph, node, smallest node of its component), sorted."""
    # here, not at import: the dedup stages that unpickle this module but never resolve (most of them,
    # a task each on a cluster) would pay ~0.5 s for scipy
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    residual = canonical(residual)
    out = []
    for graph in np.unique(residual["graph"]).tolist():
        rows = residual[residual["graph"] == graph]
        nodes, index = np.unique(np.concatenate([rows["a"], rows["b"]]), return_inverse=True)
        first, second = index[: len(rows)], index[len(rows) :]
        matrix = coo_matrix((np.ones(len(rows), np.int8), (first, second)), shape=(len(nodes), len(nodes)))
        _, component = connected_components(matrix, directed=False)
        smallest = np.full(component.max() + 1, np.iinfo(np.uint64).max, dtype=np.uint64)
        np.minimum.at(smallest, component, nodes)
        labels = np.empty(len(nodes), dtype=LABEL_DTYPE)
        labels["graph"], labels["node"], labels["label"] = graph, nodes, smallest[component]
        out.append(labels)
        fault_point("components/resolve")
    return np.concatenate(out) if out else np.zeros(0, LABEL_DTYPE)


def lookup(resolved: np.ndarray, graph: int, guesses: np.ndarray) -> np.ndarray:
    """Final labels of nodes whose guesses are `guesses` in `graph`: resolved.get(guess, guess)."""
    rows = resolved[resolved["graph"] == graph]
    guesses = np.asarray(guesses, dtype=np.uint64)
    if len(rows) == 0:
        return guesses
    at = np.minimum(np.searchsorted(rows["node"], guesses), len(rows) - 1)
    return np.where(rows["node"][at] == guesses, rows["label"][at], guesses)
