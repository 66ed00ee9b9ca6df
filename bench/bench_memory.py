"""Peak memory of a whole `curate run` at two input sizes: it must not grow with the input.

    PYTHONPATH=. python bench/bench_memory.py [--small 4000] [--large 40000]

Writes two JSONL inputs of ~2.3 KB documents (FLORES-200 sentences when ../shared/data is there,
synthetic text otherwise), runs the same recipe (LID + quality + dedup, one task, one worker so
everything runs in one process) on each in a child process, and prints the child's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench.bench_minhash import build_docs, load_sentences

LANGS = ["swh_Latn", "yor_Latn", "npi_Deva", "arb_Arab", "rus_Cyrl", "zho_Hans"]


def write_input(path: Path, count: int) -> None:
    rng = random.Random(count)
    pools = {lang: load_sentences(lang) for lang in LANGS}
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(count):
            lang = LANGS[i % len(LANGS)]
            fh.write(json.dumps({"id": str(i), "text": build_docs(pools[lang], 1, rng)[0]}, ensure_ascii=False) + "\n")


def peak_rss_of_run(folder: Path, count: int) -> tuple[float, float]:
    write_input(folder / "in.jsonl", count)
    recipe = {"name": f"mem{count}", "output": str(folder / "out"), "inputs": [{"path": str(folder / "in.jsonl")}],
              "steps": [{"lid": None}, {"quality": None}, {"dedup": None}],
              "executor": {"local": {"tasks": 1, "workers": 1}}}
    (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    start = time.perf_counter()
    # A fresh interpreter per size: RUSAGE_CHILDREN reports the largest child so far, so run the
    # small input first.
    subprocess.run([sys.executable, "-m", "curation.cli", "run", str(folder / "recipe.yaml")], check=True,
                   stdout=subprocess.DEVNULL if "--verbose" not in sys.argv else None)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=4000)
    parser.add_argument("--large", type=int, default=40000)
    parser.add_argument("--verbose", action="store_true", help="show the runs' own output")
    args = parser.parse_args()
    results = []
    for count in (args.small, args.large):
        with tempfile.TemporaryDirectory() as tmp:
            rss, seconds = peak_rss_of_run(Path(tmp), count)
            results.append((count, rss, seconds))
            print(f"{count:>7} docs: peak RSS {rss:7.0f} MiB, {seconds:6.1f} s ({count / seconds:.0f} docs/s end to end)")
    (small, rss_small, _), (large, rss_large, _) = results
    print(f"input x{large / small:.0f} -> peak RSS x{rss_large / rss_small:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
