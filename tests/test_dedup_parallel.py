"""Dedup's and select's deciding stages at any task count (issue 14): the distributed components are
exact, the decisions are today's single-task ones whatever the task count, a task's memory follows
its share of the work, and `curate run` publishes the same bytes with 1, 3 and 8 tasks."""

from __future__ import annotations

import gzip
import json
import random
import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from datatrove.data import Document

from filters.components import (
    arcs,
    canonical,
    classify,
    large_star,
    lookup,
    partition_of,
    resolve,
    small_star,
)
from filters.dedup import CONTAINED, EDGE_DTYPE, EXACT, NEAR, ContainmentConfig, DedupSignatures
from filters.dedup_buckets import DedupBuckets
from filters.dedup_clusters import deciding_pipelines
from filters.minhash import MinHashConfig
from tests.conftest import load_stats, run_cli, write_jsonl
from tests.dedup_corpus import make_corpus

# ----------------------------------------------------------------------------- components


def _shuffle(rows: np.ndarray, task: int, parts: int) -> np.ndarray:
    """What task `task` reads after a file shuffle: every edge touching one of its nodes."""
    return rows[(partition_of(rows["a"], parts) == task) | (partition_of(rows["b"], parts) == task)]


def distributed_components(rows: np.ndarray, parts: int, rounds: int) -> dict[tuple[int, int], int]:
    """The stages of filters/components.py, each task one after the other: {(graph, node): label}."""
    for _ in range(rounds):
        for step in (large_star, small_star):
            rows = canonical(np.concatenate([step(_shuffle(rows, t, parts), t, parts) for t in range(parts)]))
    guesses, residual = zip(*[classify(_shuffle(rows, t, parts), t, parts) for t in range(parts)], strict=True)
    guesses, resolved = np.concatenate(guesses), resolve(np.concatenate(residual))
    labels = {}
    for graph in np.unique(guesses["graph"]).tolist():
        mine = guesses[guesses["graph"] == graph]
        final = lookup(resolved, graph, mine["label"])
        labels.update({(graph, node): label for node, label in zip(mine["node"].tolist(), final.tolist(), strict=True)})
    return labels


def union_find_components(rows: np.ndarray) -> dict[tuple[int, int], int]:
    parent: dict[tuple[int, int], tuple[int, int]] = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for graph, a, b in rows.tolist():
        root_a, root_b = find((graph, a)), find((graph, b))
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    return {node: find(node)[1] for node in list(parent)}


def random_graph(rng: random.Random, family: str) -> np.ndarray:
    """Edges of one family, on node ids spread like dedup's (rank << 32 | index), in two graphs."""
    ids = rng.sample(range(1, 4000), 600)
    nodes = [(rng.randrange(8) << 32) | i for i in ids]
    edges: list[tuple[int, int, int]] = []
    for graph in (1, 2):
        rng.shuffle(nodes)
        if family == "chains":  # path graphs in random id order: the worst case of star rounds
            for start in range(0, 300, 60):
                edges += [(graph, nodes[i], nodes[i + 1]) for i in range(start, start + 59)]
        elif family == "stars":  # centre anywhere in id order
            for start in range(0, 400, 40):
                edges += [(graph, nodes[start], nodes[i]) for i in range(start + 1, start + 40)]
        elif family == "cliques":
            for start in range(0, 120, 12):
                group = nodes[start : start + 12]
                edges += [(graph, a, b) for i, a in enumerate(group) for b in group[i + 1 :]]
        elif family == "many":  # many small components of every shape
            for _ in range(400):
                size = rng.randint(2, 6)
                start = rng.randrange(len(nodes) - size)
                edges += [(graph, nodes[start + rng.randrange(i)], nodes[start + i]) for i in range(1, size)]
        else:  # sparse random: a few big tangled components and strays
            edges += [(graph, rng.choice(nodes), rng.choice(nodes)) for _ in range(500)]
    array = np.array(edges, dtype=np.uint64)
    return arcs(array[:, 0], array[:, 1], array[:, 2])


@pytest.mark.parametrize("family", ["chains", "stars", "cliques", "many", "random"])
@pytest.mark.parametrize("seed", range(3))
def test_distributed_components_equal_a_plain_union_find(family, seed):
    rows = random_graph(random.Random(f"{family}-{seed}"), family)
    expected = union_find_components(rows)
    for parts, rounds in [(1, 0), (3, 1), (8, 1), (8, 2), (8, 0)]:
        assert distributed_components(rows, parts, rounds) == expected, (parts, rounds)


def test_one_star_round_settles_cliques_and_stars_leaving_no_residual():
    rng = random.Random(5)
    for family in ("cliques", "stars"):
        rows = random_graph(rng, family)
        for step in (large_star, small_star):
            rows = canonical(np.concatenate([step(_shuffle(rows, t, 4), t, 4) for t in range(4)]))
        residual = np.concatenate([classify(_shuffle(rows, t, 4), t, 4)[1] for t in range(4)])
        assert len(residual) == 0, family


# ----------------------------------------------------------------------------- dedup's decisions


def sign(work: Path, corpus: list[tuple[str, str]], ranks: int, containment: bool = True) -> None:
    step = DedupSignatures(str(work), MinHashConfig(), ContainmentConfig() if containment else None)
    for rank in range(ranks):
        docs = [Document(text=text, id=doc_id) for doc_id, text in corpus[rank::ranks]]
        assert len(list(step.run(iter(docs), rank, ranks))) == len(docs)


def decide(work: Path, tasks: int) -> dict[int, dict[str, np.ndarray]]:
    """Runs every deciding stage task by task in this process; returns each source rank's decisions,
    every deciding task's file concatenated (as DedupFilter merges them)."""
    buckets = DedupBuckets(str(work), MinHashConfig(), containment=ContainmentConfig())
    for _, steps, stage_tasks in deciding_pipelines(buckets, tasks):
        for task in range(stage_tasks):
            steps[0].run(None, task, stage_tasks)
    merged = {}
    for rank_file in sorted((work / "signatures" / "meta").glob("*.json")):
        rank = int(rank_file.stem)
        parts = [dict(np.load(path)) for path in sorted((work / "clusters").glob(f"{rank:05d}-*.npz"))]
        assert len(parts) == tasks
        merged[rank] = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return merged


def reference_decisions(work: Path) -> dict[int, dict[str, list]]:
    """Today's single-task rules, written plainly: union-find over every edge the buckets found."""
    docs = {int(p.stem): np.load(p) for p in (work / "signatures" / "docs").glob("*.npy")}
    edges = np.concatenate([np.load(p) for p in (work / "edges").glob("*.npy")] or [np.zeros(0, EDGE_DTYPE)])
    info = {}
    for gid in np.unique(np.concatenate([edges["a"], edges["b"]])).tolist():
        row = docs[gid >> 32][gid & 0xFFFFFFFF]
        info[gid] = ((-int(row["shingles"]), int(row["key"]), gid), int(row["exact"]))
    parent = {gid: gid for gid in info}

    def find(x, parents):
        while parents[x] != x:
            x = parents[x]
        return x

    for a, b, kind in zip(edges["a"].tolist(), edges["b"].tolist(), edges["kind"].tolist(), strict=True):
        if kind != CONTAINED:
            ra, rb = find(a, parent), find(b, parent)
            parent[max(ra, rb)] = min(ra, rb)
    similar = {gid: find(gid, parent) for gid in info}
    best: dict[int, int] = {}
    for a, b, kind in zip(edges["a"].tolist(), edges["b"].tolist(), edges["kind"].tolist(), strict=True):
        if kind == CONTAINED:
            smaller, container = (a, b) if info[a][0] > info[b][0] else (b, a)
            if smaller not in best or info[container][0] < info[best[smaller]][0]:
                best[smaller] = container
    clusters = dict(similar)
    for smaller, container in best.items():
        ra, rb = find(smaller, clusters), find(container, clusters)
        clusters[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for gid in info:
        groups.setdefault(find(gid, clusters), []).append(gid)
    out: dict[int, dict[str, list]] = {r: {"removed": [], "members": []} for r in docs}
    for group in groups.values():
        survivor = min(group, key=lambda g: info[g][0])
        cluster_id = min(info[g][0][1] for g in group)
        for gid in group:
            out[gid >> 32]["members"].append((gid & 0xFFFFFFFF, cluster_id, len(group)))
            if gid != survivor:
                reason = EXACT if info[gid][1] == info[survivor][1] else NEAR if similar[gid] == similar[survivor] \
                    else CONTAINED
                out[gid >> 32]["removed"].append((gid & 0xFFFFFFFF, reason))
    return {r: {k: sorted(v) for k, v in d.items()} for r, d in out.items()}


def as_rows(decisions: dict[str, np.ndarray]) -> dict[str, list]:
    removed = sorted(zip(decisions["removed_index"].tolist(), decisions["removed_reason"].tolist(), strict=True))
    members = sorted(zip(decisions["member_index"].tolist(), decisions["member_cluster"].tolist(),
                         decisions["member_size"].tolist(), strict=True))
    return {"removed": removed, "members": members}


def test_decisions_are_todays_rules_with_1_3_and_8_tasks(tmp_path):
    corpus = make_corpus(1500, seed=3)
    sign(tmp_path / "work", corpus, ranks=3)
    results = {}
    for tasks in (1, 3, 8):
        decided = decide(tmp_path / "work", tasks)
        results[tasks] = {rank: as_rows(d) for rank, d in decided.items()}
        assert results[tasks] == reference_decisions(tmp_path / "work"), tasks
    reasons = [reason for rows in results[1].values() for _, reason in rows["removed"]]
    assert {reasons.count(kind) > 10 for kind in (EXACT, NEAR, CONTAINED)} == {True}, "every reason is exercised"


# ----------------------------------------------------------------------------- memory


def task_peaks(work: Path, tasks: int) -> dict[str, int]:
    """The largest traced peak of any task, per stage (bytes; memory maps are not traced)."""
    for folder in ("candidates", "edges", "components", "clusters"):  # what an earlier task count decided
        shutil.rmtree(work / folder, ignore_errors=True)
    # containment off: verifying its many candidate pairs under tracemalloc takes long, and its
    # postings are sliced by hash range like the bands' (the decisions test covers containment)
    buckets = DedupBuckets(str(work), MinHashConfig())
    peaks = {}
    for name, steps, stage_tasks in deciding_pipelines(buckets, tasks):
        for task in range(stage_tasks):
            tracemalloc.start()
            steps[0].run(None, task, stage_tasks)
            peaks[name] = max(peaks.get(name, 0), tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
    return peaks


def test_a_deciding_task_holds_its_share_not_the_corpus(tmp_path):
    """4x the corpus with 4x the tasks: no deciding task's traced peak doubles; and at one corpus, a
    buckets task of 8 holds far less than one task does (it holds its hash ranges' postings)."""
    small, large = make_corpus(500, seed=4), make_corpus(2000, seed=4)
    sign(tmp_path / "small", small, ranks=2, containment=False)
    sign(tmp_path / "large", large, ranks=2, containment=False)
    at_small, at_large = task_peaks(tmp_path / "small", 2), task_peaks(tmp_path / "large", 8)
    one_task = task_peaks(tmp_path / "large", 1)
    for stage in ("buckets", "verify", "links", "stars-1-large", "labels", "clusters"):
        numbers = (stage, at_small[stage], at_large[stage], one_task[stage])
        assert at_large[stage] < 2 * at_small[stage], numbers
    # the components' stages hold ~50 KB of fixed overhead (metas, memory-map headers) at this size,
    # so only the buckets show their share against one task here (bench/bench_dedup_scale.py: 1M docs)
    assert at_large["buckets"] < one_task["buckets"] / 2, (at_large["buckets"], one_task["buckets"])


# ----------------------------------------------------------------------------- curate run


def scored_inputs(folder: Path) -> None:
    rng = random.Random(11)
    records = [{"id": doc_id, "text": text, "lang": ["swh_Latn", "yor_Latn", "hau_Latn", "zul_Latn"][i % 4],
                "score": round(rng.random(), 3)} for i, (doc_id, text) in enumerate(make_corpus(400, seed=6))]
    folder.mkdir(parents=True)
    for part in range(3):
        write_jsonl(folder / f"part-{part}.jsonl", records[part::3])


def read_jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def published_rows(output: Path) -> list[dict]:
    rows = [row for path in sorted((output / "data").rglob("*.parquet")) for row in pq.read_table(path).to_pylist()]
    return sorted(rows, key=lambda row: row["id"])


@pytest.mark.slow  # three `curate run`s of 10 stages, 1, 3 and 8 tasks (14-25 s on 2 cores)
def test_curate_run_publishes_the_same_with_1_3_and_8_tasks(tmp_path, recipe_file):
    scored_inputs(tmp_path / "in")
    steps = [{"custom": {"use": "tests.steps_for_select:ScoresFromInput"}},
             {"dedup": {"containment": {"threshold": 0.5}}},
             {"select": {"budget": {"sw": 40, "*": 25}, "diversity_threshold": 0.7}}]
    results = {}
    for tasks in (1, 3, 8):
        recipe = {"name": "p", "output": str(tmp_path / f"t{tasks}"), "steps": steps,
                  "inputs": [{"path": str(tmp_path / "in" / "*.jsonl"), "id_key": "id"}],
                  "executor": {"local": {"tasks": tasks, "workers": 1}}, "dataset": {"rejects": True}}
        result = run_cli("run", recipe_file(recipe))
        assert result.exit_code == 0, result.output
        stats = load_stats(tmp_path / f"t{tasks}")
        assert stats["accounting"]["ok"], stats["accounting"]["problems"]
        counts = [(s["stage"], s["step"], s["in"], s["kept"], s["dropped"], s["by_language"]) for s in stats["steps"]]
        rejects = sorted((row["id"], row["metadata"]["drop_reason"], row["metadata"].get("dup_cluster"))
                         for path in sorted((tmp_path / f"t{tasks}" / "rejects").rglob("*.jsonl.gz"))
                         for row in read_jsonl_gz(path))
        rows_per_language = {lang: info["rows"] for lang, info in stats["languages"].items()}  # shards follow tasks
        results[tasks] = (published_rows(tmp_path / f"t{tasks}"), counts, rows_per_language, rejects)
    assert results[1] == results[3] == results[8]
    rows, counts, _, rejects = results[1]
    dedup = next(c for c in counts if c[1] == "dedup")
    assert set(dedup[4]) == {"exact_duplicate", "near_duplicate", "contained_duplicate"}, dedup
    assert any(row.get("dup_cluster") for row in rows) and any(cluster for _, _, cluster in rejects)
