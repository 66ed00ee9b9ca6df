"""Dedup's deciding stages at 1/2/4/8 tasks on short synthetic documents, and datatrove's MinHash stages.

    PYTHONPATH=. python bench/bench_dedup_scale.py [--docs 1000000] [--tasks 1 2 4 8] [--datatrove-docs N]

The corpus (tests/dedup_corpus.py): `--docs` documents of 40-60 made-up words, ~20% planted copies
(exact, near, contained, chains of near copies), written as 8 JSONL shards. Both tools sign them first
(not measured per task: it is a map stage, 8 tasks on 2 workers), then:

- curate's deciding stages (buckets, links, star rounds, labels, clusters) at each task count, every
  task run in a forked child one after the other: its wall time and its peak RSS above the child's
  RSS at the start (ru_maxrss: pages of the memory-mapped work files count once touched, though
  they are page cache, not held memory; `--heap` adds a traced-allocation pass); then the same
  stages through datatrove's LocalPipelineExecutor with 2 workers (the real wall time on 2 cores);
  every task count's decisions are checked to be identical;
- datatrove's MinhashDedupSignature -> MinhashDedupBuckets (14 tasks: its one task per band) ->
  MinhashDedupCluster (1 task), same docs, same per-task measurement and 2-worker wall time
  (sha1 64-bit hashes: its default xxhash path fails with xxhash 3.5). It verifies no pair, so its
  buckets do less than curate's, which check every candidate on the stored shingle sets.

Nothing is tuned on this corpus: the task counts and the star rounds are the recipe's defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import resource
import shutil
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from loguru import logger

from filters.dedup import ContainmentConfig, DedupSignatures
from filters.dedup_buckets import DedupBuckets
from filters.dedup_clusters import deciding_pipelines
from filters.minhash import MinHashConfig
from tests.dedup_corpus import make_corpus

SHARDS = 8


def write_shards(folder: Path, docs: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    corpus = make_corpus(docs, seed=0)
    for shard in range(SHARDS):
        with open(folder / f"part-{shard:02d}.jsonl", "w", encoding="utf-8") as handle:
            for doc_id, text in corpus[shard::SHARDS]:
                handle.write(json.dumps({"id": doc_id, "text": text}) + "\n")


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _task_in_child(step, rank: int, world_size: int, pipe, heap: bool) -> None:
    start_rss = _rss_mb()
    if heap:
        tracemalloc.start()
    started = time.perf_counter()
    step.run(None, rank, world_size)
    seconds = time.perf_counter() - started
    if heap:  # what the task allocated (numpy included), without the pages of the mapped files
        pipe.send((seconds, tracemalloc.get_traced_memory()[1] / 2**20))
        return
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pipe.send((seconds, max(0.0, peak - start_rss)))


def per_task(step, tasks: int, heap: bool = False) -> tuple[float, float, float]:
    """Runs the step's tasks one after the other, each in a forked child: (sum of task seconds, slowest
    task's seconds, largest peak memory of a task in MB: RSS growth, or with `heap` the traced peak)."""
    context = multiprocessing.get_context("fork")
    results = []
    for rank in range(tasks):
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_task_in_child, args=(step, rank, tasks, send, heap))
        child.start()
        results.append(receive.recv())
        child.join()
        if child.exitcode:
            raise SystemExit(f"{step.name} task {rank} exited with {child.exitcode}")
    return sum(r[0] for r in results), max(r[0] for r in results), max(r[1] for r in results)


def run_stage(pipeline: list, tasks: int, logs: Path, workers: int = 2) -> float:
    started = time.perf_counter()
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        LocalPipelineExecutor(pipeline, tasks=tasks, workers=min(workers, tasks), logging_dir=str(logs)).run()
    return time.perf_counter() - started


def decisions(work: Path) -> dict[str, bytes]:
    """Every source rank's decisions, the deciding tasks' files merged and sorted: comparable bytes."""
    out = {}
    for rank in range(SHARDS):
        parts = [dict(np.load(p)) for p in sorted((work / "clusters").glob(f"{rank:05d}-*.npz"))]
        removed = np.concatenate([p["removed_index"] for p in parts])
        order = np.argsort(removed)
        members = np.concatenate([p["member_index"] for p in parts])
        member_order = np.argsort(members)
        out[str(rank)] = b"".join([removed[order].tobytes(),
                                   np.concatenate([p["removed_reason"] for p in parts])[order].tobytes(),
                                   members[member_order].tobytes(),
                                   np.concatenate([p["member_cluster"] for p in parts])[member_order].tobytes(),
                                   np.concatenate([p["member_size"] for p in parts])[member_order].tobytes()])
    return out


def clear_decisions(work: Path) -> None:
    for folder in ("candidates", "edges", "components", "clusters"):
        shutil.rmtree(work / folder, ignore_errors=True)


def bench_curate(inputs: Path, root: Path, task_counts: list[int], heap: bool) -> list[dict]:
    work, config, containment = root / "curate", MinHashConfig(), ContainmentConfig()
    seconds = run_stage([JsonlReader(str(inputs)), DedupSignatures(str(work), config, containment)], SHARDS,
                        root / "logs" / "curate-signatures")
    print(f"curate signatures: {seconds:.1f} s ({SHARDS} tasks, 2 workers)", flush=True)
    rows, reference = [], None
    for tasks in task_counts:
        clear_decisions(work)
        buckets = DedupBuckets(str(work), config, containment=containment)
        for name, steps, stage_tasks in deciding_pipelines(buckets, tasks):
            total, slowest, peak = per_task(steps[0], stage_tasks)
            rows.append({"tool": "curate", "stage": name, "tasks": tasks, "task_s": total, "slowest_s": slowest,
                         "peak_mb": peak})
            if heap:
                rows[-1]["heap_mb"] = per_task(steps[0], stage_tasks, heap=True)[2]
            print(f"  curate {name:14s} tasks={tasks}: {total:7.2f} s over tasks, slowest {slowest:6.2f} s, "
                  f"peak +{peak:7.1f} MB" + (f", heap {rows[-1]['heap_mb']:.1f} MB" if heap else ""), flush=True)
        decided = decisions(work)
        reference = reference or decided
        assert decided == reference, f"{tasks} tasks decided differently"
        if tasks > 1:
            clear_decisions(work)
            for name, steps, stage_tasks in deciding_pipelines(DedupBuckets(str(work), config, containment=containment),
                                                               tasks):
                wall = run_stage(steps, stage_tasks, root / "logs" / f"curate-{tasks}-{name}")
                next(r for r in rows if r["stage"] == name and r["tasks"] == tasks)["wall2_s"] = wall
            assert decisions(work) == reference, f"{tasks} tasks on 2 workers decided differently"
    return rows


def bench_datatrove(inputs: Path, root: Path) -> list[dict]:
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupSignature,
    )
    from datatrove.utils.hashing import HashConfig

    # its default xxhash path hands str to xxhash, which this xxhash (3.5) refuses: sha1, 64-bit
    config, work = MinhashConfig(hash_config=HashConfig(hash_fc="sha1", precision=64)), root / "datatrove"
    seconds = run_stage([JsonlReader(str(inputs)), MinhashDedupSignature(str(work / "sigs"), config=config)],
                        SHARDS, root / "logs" / "dt-signatures")
    print(f"datatrove signatures: {seconds:.1f} s ({SHARDS} tasks, 2 workers)", flush=True)
    rows = []
    stages = [("buckets", MinhashDedupBuckets(str(work / "sigs"), str(work / "buckets"), config=config),
               config.num_buckets),
              ("cluster", MinhashDedupCluster(str(work / "buckets"), str(work / "remove_ids"), config=config), 1)]
    for name, step, tasks in stages:
        total, slowest, peak = per_task(step, tasks)
        wall = run_stage([step], tasks, root / "logs" / f"dt-{name}")
        rows.append({"tool": "datatrove", "stage": name, "tasks": tasks, "task_s": total, "slowest_s": slowest,
                     "peak_mb": peak, "wall2_s": wall})
        print(f"  datatrove {name:11s} tasks={tasks}: {total:7.2f} s over tasks, slowest {slowest:6.2f} s, "
              f"peak +{peak:7.1f} MB, 2 workers {wall:6.2f} s", flush=True)
    return rows


def print_table(rows: list[dict]) -> None:
    # RSS counts the pages of memory-mapped work files a task touched (shingle sets, doc rows): page
    # cache the kernel can drop, not memory the task holds; --heap adds the traced allocations.
    print("\n| tool | stage | tasks | task s (sum) | slowest task s | 2-worker wall s | peak RSS / task MB | heap MB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        wall = f"{r['wall2_s']:.2f}" if "wall2_s" in r else "-"
        heap = f"{r['heap_mb']:.1f}" if "heap_mb" in r else "-"
        print(f"| {r['tool']} | {r['stage']} | {r['tasks']} | {r['task_s']:.2f} | {r['slowest_s']:.2f} | {wall} | "
              f"{r['peak_mb']:.1f} | {heap} |")
    for tool in ("curate", "datatrove"):
        for tasks in sorted({r["tasks"] for r in rows if r["tool"] == tool}):
            mine = [r for r in rows if r["tool"] == tool and r["tasks"] == tasks]
            print(f"{tool} {tasks} task(s): deciding {sum(r['slowest_s'] for r in mine):.2f} s if every task had "
                  f"its core, max peak/task {max(r['peak_mb'] for r in mine):.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--datatrove-docs", type=int, default=None,
                        help="default: --docs up to 200,000 (its signatures take ~6 ms a doc here); 0 skips it")
    parser.add_argument("--work", default="/tmp/bench_dedup_scale")
    parser.add_argument("--heap", action="store_true", help="also each task's traced heap peak (a second, slower pass)")
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "dedup_scale.json",
                        help="where the rows go for bench/bench_scale.py's projection")
    args = parser.parse_args()
    logger.remove()  # datatrove logs every task; keep the table readable
    logger.add(sys.stderr, level="WARNING")
    root = Path(args.work)
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    write_shards(root / "input", args.docs)
    print(f"{args.docs:,} docs written in {time.perf_counter() - started:.1f} s", flush=True)
    rows = bench_curate(root / "input", root, args.tasks, args.heap)
    dt_docs = min(args.docs, 200_000) if args.datatrove_docs is None else args.datatrove_docs
    if dt_docs:
        inputs = root / "input"
        if dt_docs != args.docs:
            inputs = root / "dt-input"
            write_shards(inputs, dt_docs)
        rows += bench_datatrove(inputs, root)
    print_table(rows)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"docs": args.docs, "datatrove_docs": dt_docs, "rows": rows}, indent=1))
    print(f"total {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
