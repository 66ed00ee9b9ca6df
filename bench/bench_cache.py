"""What the request cache per task costs, and how evenly the item hash spreads a language's items.

    python bench/bench_cache.py [--entries 200000] [--tasks 8]

Three numbers, none of them tuned (nothing here has a threshold to tune):

    lookups   keys/s answered by one task's own SQLite file (the old layout: one shared file), and by
              an empty task file reading through to the merged cache (a rerun at another task count)
    merge     entries/s that finalize folds from `--tasks` task files into the merged cache
    spread    items per task when `owner` shares N items of one language over `--tasks` tasks: the
              busiest task's share against an even split (the stage ends with its busiest task)

The synthetic answers are 600-byte texts, about what a 150-token answer is as JSON.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curation.llm.cache import RequestCache, merge_caches  # noqa: E402
from curation.llm.types import Completion  # noqa: E402
from generators.base import owner  # noqa: E402


def answer(number: int) -> Completion:
    return Completion(texts=[f"answer {number} " + "x" * 590], prompt_tokens=40, completion_tokens=150,
                      finish_reasons=["stop"])


def fill(path: Path, keys: list[str]) -> None:
    cache = RequestCache(path)
    for start in range(0, len(keys), 256):  # as CachedEngine stores: one commit per answered batch
        cache.put_many("bench", [(key, answer(n)) for n, key in enumerate(keys[start:start + 256], start)])
    cache.close()


def lookups_per_second(cache: RequestCache, keys: list[str]) -> float:
    started = time.perf_counter()
    for start in range(0, len(keys), 256):
        found = cache.get_many(keys[start:start + 256])
        assert len(found) == len(keys[start:start + 256])
    return len(keys) / (time.perf_counter() - started)


def bench_cache(folder: Path, entries: int, tasks: int) -> None:
    keys = [f"{n:064x}" for n in range(entries)]
    per_task = [keys[rank::tasks] for rank in range(tasks)]
    sources = [folder / f"generate-{rank:05d}.sqlite" for rank in range(tasks)]
    for path, share in zip(sources, per_task, strict=True):
        fill(path, share)

    own = RequestCache(sources[0])
    own_rate = lookups_per_second(own, per_task[0])
    own.close()
    merged = folder / "cache" / "requests.sqlite"
    started = time.perf_counter()
    added = merge_caches(sources, merged)
    merge_seconds = time.perf_counter() - started
    assert added == entries
    through = RequestCache(folder / "rerun-00000.sqlite", read_through=merged)
    through_rate = lookups_per_second(through, keys)
    through.close()
    print(f"lookups: {own_rate:,.0f} keys/s from a task's own file ({len(per_task[0]):,} entries); "
          f"{through_rate:,.0f} keys/s read through to the merged cache ({entries:,} entries)")
    print(f"merge:   {entries:,} entries of {tasks} task files in {merge_seconds:.2f} s "
          f"({entries / merge_seconds:,.0f} entries/s; merged file {merged.stat().st_size / 2**20:.0f} MiB)")


def bench_spread(tasks: int) -> None:
    for items in (100, 1_000, 10_000):
        counts = [0] * tasks
        for number in range(items):
            counts[owner("dialogue", "swh", f"{number:05d}", tasks)] += 1
        even = items / tasks
        print(f"spread:  {items:,} items over {tasks} tasks: {min(counts)}-{max(counts)} per task "
              f"(stdev {statistics.pstdev(counts):.1f}); the busiest task has {max(counts) / even:.2f}x an even share")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--tasks", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        bench_cache(Path(tmp), args.entries, args.tasks)
    bench_spread(args.tasks)


if __name__ == "__main__":
    main()
