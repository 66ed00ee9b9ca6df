"""How well the refusal check tells refusals from answers, in several languages.

    flock /tmp/vllm.lock python bench/bench_safety.py [--model bundled] [--json PATH]

Data: bench/data/refusal_pairs.jsonl, written for this bench: 6 requests in each of English,
Spanish, French and Swahili (3 harmful, 3 harmless look-alikes such as "how do I kill a Python
process"), each with a refusal and a compliant reply (compliance with a harmful request is vague,
never actionable; refusals of look-alikes are over-refusals). 48 (request, reply) pairs, labelled
refused / not refused. TUNE half: requests 0, 2, 4 of each language; REPORT half: 1, 3, 5.

Scores, each "higher = more likely a refusal", read by `filters.refusal.RefusalJudge` with the
chosen model (greedy, one token, top log-probabilities):

- declines: P(Yes) to "Does the assistant decline or refuse ...?"
- complies: 1 - P(Yes) to "Does the assistant do what the user asked?"
- both (what the refusal check uses): their mean
- baseline: the instruction generator's English refusal regex (1 when it matches)

Reported per half: AUROC (P(a refusal scores above an answer), ties 1/2) overall and per language,
and accuracy at the check's default threshold 0.5 and at the threshold that is best on TUNE.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from filters.refusal import RefusalJudge  # noqa: E402
from generators.instruction import _REFUSAL  # noqa: E402

DATA = REPO / "bench" / "data" / "refusal_pairs.jsonl"


def labelled_pairs() -> list[dict]:
    """Every (request, reply) pair with its label, language and half."""
    pairs, seen = [], {}
    for line in DATA.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        index = seen[row["lang"]] = seen.get(row["lang"], -1) + 1
        half = "tune" if index % 2 == 0 else "report"
        for reply_kind, refused in (("refusal", True), ("compliance", False)):
            pairs.append({"lang": row["lang"], "kind": row["kind"], "half": half, "refused": refused,
                          "request": row["request"], "reply": row[reply_kind]})
    return pairs


def auroc(scores: list[float], labels: list[bool]) -> float:
    """P(score of a positive > score of a negative), ties counted 1/2."""
    positives = [s for s, y in zip(scores, labels, strict=True) if y]
    negatives = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def accuracy(scores: list[float], labels: list[bool], threshold: float) -> float:
    return sum((s >= threshold) == y for s, y in zip(scores, labels, strict=True)) / len(labels)


def best_threshold(scores: list[float], labels: list[bool]) -> float:
    """The cut (midpoints between observed scores) with the best accuracy."""
    values = sorted(set(scores))
    cuts = [values[0] - 1e-6] + [(a + b) / 2 for a, b in zip(values, values[1:], strict=False)] + [values[-1] + 1e-6]
    return max(cuts, key=lambda cut: accuracy(scores, labels, cut))


def engine_for(model: str):
    from curation.llm.bundled import resolve_model
    from curation.llm.vllm_engine import VLLMEngine

    return VLLMEngine(resolve_model(model), dtype="bfloat16", max_model_len=2048)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    pairs = labelled_pairs()
    started = time.perf_counter()
    readings = RefusalJudge(engine_for(args.model)).read([(p["request"], p["reply"]) for p in pairs])
    seconds = time.perf_counter() - started
    for pair, reading in zip(pairs, readings, strict=True):
        pair["declines"] = reading.declines if reading.declines is not None else 0.5
        pair["complies"] = 1.0 - reading.complies if reading.complies is not None else 0.5
        pair["both"] = reading.refusal if reading.refusal is not None else 0.5
        pair["regex"] = 1.0 if _REFUSAL.match(pair["reply"]) else 0.0
    langs = sorted({p["lang"] for p in pairs})
    results: dict = {"model": args.model, "pairs": len(pairs), "seconds": round(seconds, 1), "scores": {}}
    print(f"{len(pairs)} pairs, {2 * len(pairs)} judge requests in {seconds:.1f} s ({args.model})")
    print("| score | half | AUROC | " + " | ".join(langs) + " | acc@0.5 | acc@tuned |")
    print("|---|---|---:|" + "---:|" * len(langs) + "---:|---:|")
    for score in ("both", "declines", "complies", "regex"):
        tune = [p for p in pairs if p["half"] == "tune"]
        cut = best_threshold([p[score] for p in tune], [p["refused"] for p in tune])
        for half in ("tune", "report"):
            part = [p for p in pairs if p["half"] == half]
            values, labels = [p[score] for p in part], [p["refused"] for p in part]
            per_lang = [auroc([p[score] for p in part if p["lang"] == lang],
                              [p["refused"] for p in part if p["lang"] == lang]) for lang in langs]
            row = {"auroc": auroc(values, labels), "by_lang": dict(zip(langs, per_lang, strict=True)),
                   "acc_0.5": accuracy(values, labels, 0.5), "acc_tuned": accuracy(values, labels, cut),
                   "threshold": cut}
            results["scores"].setdefault(score, {})[half] = row
            print(f"| {score} | {half} | {row['auroc']:.3f} | " + " | ".join(f"{v:.3f}" for v in per_lang)
                  + f" | {row['acc_0.5']:.3f} | {row['acc_tuned']:.3f} (cut {cut:.3f}) |")
    both = [p["both"] for p in pairs]
    print(f"P(refusal) range: {min(both):.3f} - {max(both):.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
