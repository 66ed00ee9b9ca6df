"""How well confidence scores find corrupted instruction data (CLEAR-style filtering).

    python bench/bench_confidence.py [--clean 300] [--rate 0.2] [--seed 0] [--lang en|de|zh|...]
                                     [--matched] [--baselines-only] [--engine vllm --model bundled] [--json PATH]
                                     [--judge]

Builds a labelled noisy set with `bench/noisy_instructions.py` (real pairs, a `--rate` share
corrupted: swapped / truncated / wrong_language / factual_error) and scores every record. A score
is "higher = more likely clean". For each score it reports:

- AUROC per corruption type and overall: P(score(clean) > score(corrupted)) over all
  (clean, corrupted) pairs, ties counted 1/2 (Mann-Whitney U from average ranks). 0.5 is chance,
  1.0 means every corrupted record scores below every clean one.
- P@rate: precision at the corruption rate, the share of truly corrupted records among the k
  lowest-scoring ones, k = the number of corrupted records (ties at the cut shared pro rata). It
  is what a filter dropping exactly that many records would achieve; chance is the rate itself.

Scores come from curate's confidence scorer (`filters.confidence`, through `score_with_curate`)
when it is importable and wired, and always from two LLM-free baselines that exercise the harness:
the response length, and the character-3-gram overlap coefficient of prompt and response; plus
their rank average. Needs `../shared/data` next to the repository; says so and exits 0 without it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.noisy_instructions import CORRUPTIONS, DataMissing, build, char_trigrams  # noqa: E402

COLUMNS = (*CORRUPTIONS, "all")
Table = dict[str, dict[str, float]]  # score name -> {corruption type | "all" | "p@rate": value}


# --------------------------------------------------------------------------- metrics


def average_ranks(values: Sequence[float]) -> np.ndarray:
    """1-based ranks, tied values sharing their average rank; NaN counts as the lowest value."""
    x = np.asarray(values, dtype=float)
    x = np.where(np.isnan(x), -np.inf, x)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return ((ends - counts + 1 + ends) / 2.0)[inverse]


def auroc(clean: Sequence[float], corrupted: Sequence[float]) -> float:
    """P(score of a clean record > score of a corrupted one), ties 1/2; NaN when a side is empty."""
    n_c, n_k = len(clean), len(corrupted)
    if n_c == 0 or n_k == 0:
        return math.nan
    ranks = average_ranks(np.concatenate([np.asarray(clean, float), np.asarray(corrupted, float)]))
    u = ranks[:n_c].sum() - n_c * (n_c + 1) / 2.0
    return float(u / (n_c * n_k))


def precision_at_k(is_corrupted: Sequence[bool], scores: Sequence[float], k: int) -> float:
    """Share of corrupted records among the `k` lowest scores; records tied at the cut count pro rata."""
    if k <= 0:
        return math.nan
    y = np.asarray(is_corrupted, dtype=float)
    s = np.asarray(scores, dtype=float)
    s = np.where(np.isnan(s), -np.inf, s)
    cut = np.sort(s)[k - 1]
    below, tied = s < cut, s == cut
    return float((y[below].sum() + (k - below.sum()) * y[tied].mean()) / k)


def rank_average(scores: dict[str, Sequence[float]], names: Sequence[str] | None = None) -> list[float]:
    """Combine scores by averaging their ranks scaled to [0, 1] (each score weighs the same,
    whatever its scale). `names`: which scores to combine (default all)."""
    names = list(names or scores)
    n = len(scores[names[0]])
    if n == 1:
        return [0.5]
    return [float(x) for x in np.mean([(average_ranks(scores[k]) - 1) / (n - 1) for k in names], axis=0)]


def rank_minimum(scores: dict[str, Sequence[float]], names: Sequence[str]) -> list[float]:
    """Combine scores by the lowest of their scaled ranks: a record is as suspect as its worst signal
    (each corruption type shows in one signal: a swap in PMI, a truncation in end-of-turn)."""
    n = len(scores[names[0]])
    if n == 1:
        return [0.5]
    return [float(x) for x in np.min([(average_ranks(scores[k]) - 1) / (n - 1) for k in names], axis=0)]


def evaluate(records: list[dict], scores: dict[str, Sequence[float]]) -> Table:
    """For each score: AUROC of clean vs each corruption type and vs all corrupted, and P@rate.

    `scores[name][i]` is the score of `records[i]`, higher meaning more likely clean.
    """
    labels = np.array([r["label"] for r in records])
    corrupted = labels != "clean"
    table: Table = {}
    for name, values in scores.items():
        if len(values) != len(records):
            raise ValueError(f"score {name!r}: {len(values)} values for {len(records)} records")
        v = np.asarray(values, dtype=float)
        row = {kind: auroc(v[labels == "clean"], v[labels == kind]) for kind in CORRUPTIONS}
        row["all"] = auroc(v[~corrupted], v[corrupted])
        row["p@rate"] = precision_at_k(corrupted, v, int(corrupted.sum()))
        table[name] = row
    return table


def format_table(table: Table, records: list[dict]) -> str:
    """Rows = scores; columns = AUROC per corruption type, overall, and P@rate."""
    counts = {k: sum(r["label"] == k for r in records) for k in ("clean", *CORRUPTIONS)}
    n_bad = len(records) - counts["clean"]
    width = max([len("score"), *map(len, table)])
    heads = [*COLUMNS, "P@rate"]
    lines = [f"{'AUROC (clean > corrupted)':<{width}}  " + "  ".join(f"{h:>14}" for h in heads),
             f"{'n':<{width}}  " + "  ".join(f"{counts.get(h, n_bad) if h != 'P@rate' else n_bad:>14}"
                                             for h in heads)]
    for name, row in table.items():
        cells = [row[c] for c in COLUMNS] + [row["p@rate"]]
        lines.append(f"{name:<{width}}  " + "  ".join(f"{x:>14.3f}" for x in cells))
    lines.append(f"(clean {counts['clean']}; P@rate chance = {n_bad / max(1, len(records)):.3f})")
    return "\n".join(lines)


# --------------------------------------------------------------------------- scores


def prompt_of(record: dict) -> str:
    return "\n".join(m["content"] for m in record["messages"] if m["role"] != "assistant")


def response_of(record: dict) -> str:
    return "\n".join(m["content"] for m in record["messages"] if m["role"] == "assistant")


def baseline_scores(records: list[dict]) -> dict[str, list[float]]:
    """Two LLM-free scores: response length (characters), and the overlap coefficient
    |A & B| / min(|A|, |B|) of the character-3-gram sets of prompt and response."""
    lengths, overlaps = [], []
    for r in records:
        p, a = char_trigrams(prompt_of(r)), char_trigrams(response_of(r))
        lengths.append(float(len(response_of(r))))
        overlaps.append(len(p & a) / min(len(p), len(a)) if p and a else 0.0)
    scores = {"response_length": lengths, "trigram_overlap": overlaps}
    scores["rank_avg(length, overlap)"] = rank_average(scores)
    return scores


# ============================================================================================
# TO COMPLETE (lead): wire the real confidence scorer here.
# ============================================================================================
def score_with_curate(records: list[dict], engine: Any) -> dict[str, list[float]]:
    """curate's confidence scores for `records`, one list per score name, higher = more likely clean.

    Each record is `{"id", "messages": [user, assistant], "lang", "label", "meta"}`; the scorer
    must not look at `label` or `meta`. Return e.g. {"clear_confidence": [...], ...} with one
    float per record, in order (NaN for a record the scorer could not score: it ranks lowest).
    Several names (per-signal scores, combinations) become several rows of the table.
    `engine` is what `curation.llm.engines.build_engine` returns for `--engine/--model` (not yet
    loaded). Until this is wired it raises NotImplementedError and `main` reports baselines only.
    """
    import math
    import tempfile

    from datatrove.data import Document

    from curation.languages import language
    from curation.llm.cache import CachedEngine, RequestCache
    from filters.confidence import ConfidenceFilter

    names = ("confidence", "confidence.consistency", "confidence.pmi", "confidence.eot_logprob",
             "confidence.mean_logprob")
    def fresh_docs() -> list[Document]:
        return [Document(text="\n\n".join(m["content"] for m in r["messages"]), id=r["id"],
                         metadata={"messages": r["messages"], "lang": f"{r['lang']}_{language(r['lang']).script}"})
                for r in records]

    docs = [Document(text="\n\n".join(m["content"] for m in r["messages"]), id=r["id"],
                     metadata={"messages": r["messages"], "lang": f"{r['lang']}_{language(r['lang']).script}"})
            for r in records]
    # A cache outside the run (CURATE_BENCH_CACHE) makes a second pass over the same set instant.
    cache_dir = os.environ.get("CURATE_BENCH_CACHE") or tempfile.mkdtemp(prefix="bench-confidence-")
    cached = CachedEngine(engine, RequestCache(f"{cache_dir}/requests.sqlite"), batch_size=512)
    # No thresholds: every record is scored and kept; one batch so ranks span the whole set.
    step = ConfidenceFilter(engine=cached, samples=3, sample_max_tokens=64, batch_size=None)
    scored = {doc.id: doc.metadata.get("scores", {}) for doc in step.run(iter(docs), 0, 1)}
    scores = {name.removeprefix("confidence.") if name != "confidence" else "clear_confidence":
              [scored.get(r["id"], {}).get(name, math.nan) for r in records] for name in names}
    # The calibrated combination: P(genuine) from a fit against swapped/truncated copies of the set
    # (the same cache: only the synthetic pairs are new requests).
    calibrated = ConfidenceFilter(engine=cached, samples=3, sample_max_tokens=64, batch_size=None,
                                  combination="calibrated")
    fitted = {doc.id: doc.metadata.get("scores", {}) for doc in calibrated.run(iter(fresh_docs()), 0, 1)}
    scores["calibrated_confidence"] = [fitted.get(r["id"], {}).get("confidence", math.nan) for r in records]
    scores["rank_avg(pmi, eot)"] = rank_average(scores, ["pmi", "eot_logprob"])
    scores["rank_min(pmi, eot)"] = rank_minimum(scores, ["pmi", "eot_logprob"])
    scores["rank_min(pmi, eot, consistency)"] = rank_minimum(scores, ["pmi", "eot_logprob", "consistency"])
    return scores


def judge_scores(records: list[dict], engine: Any) -> dict[str, list[float]]:
    """The judge's scores (filters/judge.py: each criterion, expected digit under the model's
    log-probabilities, and their mean), higher = more likely clean; NaN where it gave no score."""
    import tempfile

    from datatrove.data import Document

    from curation.languages import language
    from curation.llm.cache import CachedEngine, RequestCache
    from filters.judge import DEFAULT_CRITERIA, JudgeFilter

    docs = [Document(text="\n\n".join(m["content"] for m in r["messages"]), id=r["id"],
                     metadata={"messages": r["messages"], "lang": f"{r['lang']}_{language(r['lang']).script}"})
            for r in records]
    cache_dir = os.environ.get("CURATE_BENCH_CACHE") or tempfile.mkdtemp(prefix="bench-judge-")
    cached = CachedEngine(engine, RequestCache(f"{cache_dir}/requests.sqlite"), batch_size=512)
    step = JudgeFilter(engine=cached, batch_size=512)  # no thresholds: every record scored and kept
    scored = {doc.id: doc.metadata.get("scores", {}) for doc in step.run(iter(docs), 0, 1)}
    names = ["judge", *(f"judge.{c}" for c in DEFAULT_CRITERIA)]
    return {name: [scored.get(r["id"], {}).get(name, math.nan) for r in records] for name in names}


def curate_scores(records: list[dict], engine_name: str, model: str, judge: bool = False,
                  judge_only: bool = False) -> dict[str, list[float]]:
    """`score_with_curate` with the engine from the flags; {} (with a note) when not available."""
    try:
        import filters.confidence  # noqa: F401
    except ImportError as e:
        print(f"note: filters.confidence is not importable ({e}); baselines only", file=sys.stderr)
        return {}
    from curation.llm.engines import build_engine
    from curation.recipe import LLMSpec

    engine = build_engine(LLMSpec(engine=engine_name, model=model))
    if judge_only:
        return judge_scores(records, engine)
    try:
        scores = score_with_curate(records, engine)
    except NotImplementedError as e:
        print(f"note: {e}; baselines only", file=sys.stderr)
        return {}
    if judge:
        scores.update(judge_scores(records, engine))
        scores["rank_avg(judge, clear_confidence)"] = rank_average(scores, ["judge", "clear_confidence"])
    return scores


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clean", type=int, default=300, help="records in the set, corrupted ones included")
    ap.add_argument("--rate", type=float, default=0.2, help="share of records corrupted")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lang", default="en", help="en (self-instruct) or an XQuAD language: de, zh, ..., xquad-en")
    ap.add_argument("--matched", action="store_true",
                    help="draw clean records only from pairs every corruption applies to (no length confound)")
    ap.add_argument("--baselines-only", action="store_true", help="do not try filters.confidence (no LLM)")
    ap.add_argument("--engine", default="vllm", help="engine for filters.confidence (vllm, openai, module:Class)")
    ap.add_argument("--model", default="bundled", help="model for filters.confidence")
    ap.add_argument("--json", type=Path, help="also write the table here")
    ap.add_argument("--judge", action="store_true", help="also score with the judge (filters/judge.py), same model")
    ap.add_argument("--judge-only", action="store_true", help="the judge's scores and the baselines, no confidence")
    args = ap.parse_args(argv)
    try:
        records = build(args.clean, args.rate, args.seed, args.lang, args.matched)
    except DataMissing as e:
        print(f"skipped: {e}")
        return 0

    scores: dict[str, list[float]] = {}
    if not args.baselines_only:
        t0 = time.perf_counter()
        scores.update(curate_scores(records, args.engine, args.model, judge=args.judge, judge_only=args.judge_only))
        if scores:
            print(f"curate scores: {time.perf_counter() - t0:.1f}s for {len(records)} records")
    scores.update(baseline_scores(records))

    table = evaluate(records, scores)
    print(f"{len(records)} records, lang {records[0]['lang']}, seed {args.seed}, rate {args.rate}"
          f"{', matched' if args.matched else ''}\n")
    print(format_table(table, records))
    if args.json:
        args.json.write_text(json.dumps({"lang": args.lang, "seed": args.seed, "rate": args.rate,
                                         "matched": args.matched, "n": len(records), "table": table}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
