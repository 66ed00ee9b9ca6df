"""curate's LID ensemble on FLORES-200 dev by text length: calibrated on one half, reported on the other.

    python bench/bench_lid_ensemble.py --calibrate [--per-lang 60]   # TUNE half -> filters/lid_reliability.py
    python bench/bench_lid_ensemble.py [--per-lang 30]               # REPORT half: the README's numbers

Each FLORES set's lines are split in two (bench_lid_detectors.read_halves): even lines are the
TUNE half, odd lines the REPORT half. Texts per set and half are cut as bench_lid_detectors cuts
them: one word, two consecutive words (2-4 and 4-8 character runs for unspaced scripts), the
sentence cut at a word boundary to <= 40 characters, the whole sentence, and ~2.3 KB documents of
consecutive sentences. The sets scored are those some detector can output (144).

--calibrate runs each voter of the library's ensemble (`LanguageIdentifier.ballots`, so exactly
the calls the step makes) on the TUNE half and writes `filters/lid_reliability.py`:

  RELIABILITY  voter -> length class -> label -> (right + 1) / (said + 2): of the TUNE texts in
               that length class the voter labelled L, the share that were L.
  MIN_SCORES   language -> minimum score, from the ensemble's scores on TUNE sentences and
               documents: the 10th percentile of its score on texts it identified rightly (so ~90%
               of right answers pass), floored at 0.05 and capped at 0.65 (FineWeb's generic
               threshold); then raised, where precision at that threshold is under 0.95, to the
               lowest score at which it reaches 0.95 while still keeping >= 75% of right answers.

The report runs the library's identifier (the ensemble; fastText alone, as `ensemble: false`
answers; and CLD2 and lingua alone for comparison) on the REPORT half: macro accuracy per length
bucket over lid.176's languages, lingua's and all scored sets; texts/s per bucket in this process;
and per-language precision and recall of what a `keep` list keeps at the calibrated minimum
scores (sentences and documents). Needs `../shared/data/flores200-dev`; prints a message and exits
0 without it.
"""

from __future__ import annotations

import argparse
import collections
import pprint
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lingua import LanguageDetectorBuilder  # noqa: E402

from bench.bench_lid import FLORES_DIR, _lid176_writes  # noqa: E402
from bench.bench_lid_detectors import BUCKETS, HALVES, load_sample, stem_code_script  # noqa: E402
from curation.languages import normalize_lang  # noqa: E402
from filters import lid_vote  # noqa: E402
from filters.detectors import _lingua_codes, cld2_top, lingua_languages  # noqa: E402
from filters.fasttext_lid import FastTextLID  # noqa: E402
from filters.lid import LanguageIdentifier, default_min_score  # noqa: E402
from filters.scripts import NO_SCRIPT, dominant_script  # noqa: E402

TABLES = REPO / "filters" / "lid_reliability.py"
BUCKET_NAMES = {"words": "words", "pairs": "pairs", "le40": "<=40", "sent": "sentences", "docs": "~2 KB docs"}
THRESHOLD_BUCKETS = ("sent", "docs")  # what records look like: minimum scores are set and judged on these
RECALL_QUANTILE = 0.10
MIN_FLOOR, MIN_CAP = 0.05, 0.65
PRECISION_TARGET, RECALL_KEPT_AT_LEAST = 0.95, 0.75

Item = tuple[str, str, str]  # (truth code, bucket, text)


def items(half: str, per_lang: int, per_doc: int) -> tuple[list[Item], dict[str, str]]:
    """The half's texts with their truth, and each scored set's stem by its code."""
    sample = load_sample(per_lang, per_doc, None)
    h = HALVES.index(half)
    codes = {stem: normalize_lang(stem_code_script(stem)[0]) for stem in sample.stems}
    out = [(codes[sample.stems[s]], BUCKETS[b], sample.texts[t])
           for s, b, hh, t in zip(sample.item_stem, sample.item_bucket, sample.item_half, sample.item_text, strict=True)
           if hh == h]
    return out, {code: stem for stem, code in codes.items()}


# ---------------------------------------------------------------- calibration (TUNE half)


def ballots_of(identifier: LanguageIdentifier, text: str) -> tuple[int, list[lid_vote.Ballot], dict[str, float]] | None:
    """What the ensemble's vote sees for `text` (None when the script decides alone, as in `identify`)."""
    script, share = dominant_script(text)
    if script == NO_SCRIPT or identifier._decide_by_script(script, share) is not None:
        return None
    dist = identifier.distribution(text, script)
    ranked = [code for code, _ in sorted(dist.items(), key=lambda item: item[1], reverse=True)[:identifier.top_candidates]]
    if not ranked:
        return None
    return lid_vote.length_class(text), identifier.ballots(text, ranked), dist


def reliability(seen: list[tuple[str, int, list[lid_vote.Ballot]]]) -> dict[str, list[dict[str, float]]]:
    said: collections.Counter[tuple[str, int, str]] = collections.Counter()
    right: collections.Counter[tuple[str, int, str]] = collections.Counter()
    for truth, cls, ballots in seen:
        for ballot in ballots:
            said[ballot.voter, cls, ballot.code] += 1
            right[ballot.voter, cls, ballot.code] += ballot.code == truth
    classes = len(lid_vote.LENGTH_EDGES) + 1
    tables: dict[str, list[dict[str, float]]] = {v: [{} for _ in range(classes)] for v in lid_vote.VOTERS}
    for (voter, cls, code), n in sorted(said.items()):
        tables[voter][cls][code] = round((right[voter, cls, code] + 1) / (n + 2), 4)
    return tables


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def min_scores(scored: list[tuple[str, str, float]]) -> tuple[dict[str, float], dict[str, str]]:
    """language -> minimum score, and how each was chosen; from (truth, answer, score) triples."""
    right: dict[str, list[float]] = collections.defaultdict(list)
    labelled: dict[str, list[tuple[float, bool]]] = collections.defaultdict(list)
    for truth, answer, score in scored:
        labelled[answer].append((score, truth == answer))
        if truth == answer:
            right[truth].append(score)
    out, why = {}, {}
    for code, scores in sorted(right.items()):
        threshold = min(MIN_CAP, max(MIN_FLOOR, quantile(scores, RECALL_QUANTILE)))
        why[code] = "recall"
        if precision_at(labelled[code], threshold) < PRECISION_TARGET:
            for t in sorted({s for s, _ in labelled[code] if s > threshold}):
                kept = sum(s >= t for s in scores) / len(scores)
                if kept < RECALL_KEPT_AT_LEAST:
                    why[code] = "recall (precision target unreachable)"
                    break
                if precision_at(labelled[code], t) >= PRECISION_TARGET:
                    threshold, why[code] = t, "precision"
                    break
        out[code] = round(threshold, 3)
    return out, why


def precision_at(labelled: list[tuple[float, bool]], threshold: float) -> float:
    kept = [ok for score, ok in labelled if score >= threshold]
    return sum(kept) / len(kept) if kept else 1.0


def calibrate(per_lang: int, per_doc: int) -> None:
    data, _ = items("tune", per_lang, per_doc)
    identifier = LanguageIdentifier(reliability={})
    started = time.perf_counter()
    seen = []
    for truth, bucket, text in data:
        found = ballots_of(identifier, text)
        if found is not None:
            seen.append((truth, bucket, *found))
    print(f"TUNE: {len(data)} texts, {len(seen)} voted on, ballots in {time.perf_counter() - started:.0f}s")
    tables = reliability([(truth, cls, ballots) for truth, _, cls, ballots, _ in seen])
    identifier = LanguageIdentifier(reliability=tables)
    scored = []
    for truth, bucket, text in data:
        if bucket in THRESHOLD_BUCKETS:
            found = identifier.identify(text)
            scored.append((truth, found.code, found.score))
    thresholds, why = min_scores(scored)
    write_tables(tables, thresholds, why, len(data), per_lang, per_doc)
    reasons = collections.Counter(why.values())
    print(f"wrote {TABLES.relative_to(REPO)}: {sum(len(c) for t in tables.values() for c in t)} weights, "
          f"{len(thresholds)} minimum scores ({dict(reasons)})")


def write_tables(tables: dict, thresholds: dict, why: dict, n_texts: int, per_lang: int, per_doc: int) -> None:
    by_reason = collections.defaultdict(list)
    for code, reason in why.items():
        by_reason[reason].append(code)
    TABLES.write_text(
        '"""The LID ensemble\'s measured weights and minimum scores. Written by\n'
        f"`bench/bench_lid_ensemble.py --calibrate --per-lang {per_lang}` (do not edit by hand) from the TUNE\n"
        f"half of FLORES-200 dev: {n_texts} texts ({per_lang} words, word pairs, <=40-character cuts and\n"
        f"sentences, and {per_doc} ~2.3 KB documents per set and half). See filters/lid_vote.py for the rule\n"
        "and the bench's docstring for how each table is made.\n\n"
        + "".join(f"Minimum score chosen for {reason}: {' '.join(sorted(codes))}.\n" for reason, codes in sorted(by_reason.items()))
        + '"""\n\n'
        "# voter -> length class (filters.lid_vote.LENGTH_EDGES) -> label -> precision on TUNE\n"
        f"RELIABILITY: dict[str, list[dict[str, float]]] = {pprint.pformat(tables, width=118, compact=True)}\n\n"
        "# language -> minimum ensemble score\n"
        f"MIN_SCORES: dict[str, float] = {pprint.pformat(thresholds, width=118, compact=True)}\n",
        encoding="utf-8",
    )


# ---------------------------------------------------------------- report (REPORT half)

Predictor = Callable[[str], str]


def lingua_alone() -> Predictor:
    detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()
    back = {lang: code for code, lang in _lingua_codes().items()}
    return lambda text: back.get(detector.detect_language_of(text), "und")


def raw_lid176() -> Predictor:
    model = FastTextLID()
    return lambda text: next(iter(model.distribution(text, 1)), "und")


def report(per_lang: int, per_doc: int) -> None:
    data, stems = items("report", per_lang, per_doc)
    groups = {
        "lid.176's": {c for c, stem in stems.items() if _lid176_writes(*stem_code_script(stem))},
        "lingua's": set(lingua_languages()) & set(stems),
        "all": set(stems),
    }
    print(f"REPORT half: {len(data)} texts over {len(stems)} FLORES sets "
          f"({', '.join(f'{len(v)} {k}' for k, v in groups.items())})")
    ensemble = LanguageIdentifier()
    fasttext_alone = LanguageIdentifier(ensemble=False)
    systems: dict[str, Predictor] = {
        "curate ensemble": lambda t: ensemble.identify(t).code,
        "fastText + script + hints": lambda t: fasttext_alone.identify(t).code,
        "raw lid.176 (fastText's best label)": raw_lid176(),
        "CLD2 alone (best effort)": lambda t: cld2_top(t) or "und",
        "lingua alone (high accuracy)": lingua_alone(),
    }
    # One text per set and bucket first, untimed: lingua loads each language's models on first use
    # (~25 ms each, once per process), which is start-up, not throughput.
    warm_up = list({(truth, bucket): text for truth, bucket, text in data}.values())
    for name, predict in systems.items():
        for text in warm_up:
            predict(text)
        accuracy(name, predict, data, groups)
    keep_list_quality(ensemble, data)


def accuracy(name: str, predict: Predictor, data: list[Item], groups: dict[str, set[str]]) -> None:
    hits: dict[tuple[str, str], list[bool]] = collections.defaultdict(list)
    spent: collections.Counter[str] = collections.Counter()
    counted: collections.Counter[str] = collections.Counter()
    for truth, bucket, text in data:
        start = time.perf_counter()
        answer = predict(text)
        spent[bucket] += time.perf_counter() - start
        counted[bucket] += 1
        hits[truth, bucket].append(answer == truth)
    print(f"\n{name}")
    for group, codes in groups.items():
        cells = []
        for bucket in BUCKETS:
            per_lang = [sum(v) / len(v) for (c, b), v in hits.items() if b == bucket and c in codes and v]
            cells.append(f"{BUCKET_NAMES[bucket]} {sum(per_lang) / len(per_lang):.3f}")
        print(f"  {group:10s} macro accuracy: " + "  ".join(cells))
    print("  texts/s:              " + "  ".join(f"{BUCKET_NAMES[b]} {counted[b] / spent[b]:,.0f}" for b in BUCKETS))


def keep_list_quality(identifier: LanguageIdentifier, data: list[Item]) -> None:
    """Per language: of the REPORT sentences and documents a `keep: [L]` step would keep (labelled L,
    score >= L's minimum), the share that are L (precision), and of L's texts, the share kept (recall)."""
    kept: collections.Counter[str] = collections.Counter()
    kept_right: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    for truth, bucket, text in data:
        if bucket not in THRESHOLD_BUCKETS:
            continue
        total[truth] += 1
        found = identifier.identify(text)
        if found.score >= default_min_score(found.code):
            kept[found.code] += 1
            kept_right[found.code] += found.code == truth
    rows = sorted((kept_right[c] / kept[c] if kept[c] else 1.0, kept_right[c] / total[c], c) for c in total)
    precisions = [p for p, _, c in rows if kept[c]]
    recalls = [r for _, r, _ in rows]
    print(f"\nkeep-list quality at the calibrated minimum scores (REPORT sentences + docs, {len(rows)} languages): "
          f"mean precision {sum(precisions) / len(precisions):.3f}, mean recall {sum(recalls) / len(recalls):.3f}, "
          f"precision >= 0.95 for {sum(p >= 0.95 for p in precisions)}, recall >= 0.9 for {sum(r >= 0.9 for r in recalls)}")
    print("  lowest precision: " + ", ".join(f"{c} P{p:.2f}/R{r:.2f}" for p, r, c in rows[:15]))
    low_recall = sorted(rows, key=lambda row: row[1])[:15]
    print("  lowest recall:    " + ", ".join(f"{c} P{p:.2f}/R{r:.2f}" for p, r, c in low_recall))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calibrate", action="store_true", help="measure on TUNE and write filters/lid_reliability.py")
    parser.add_argument("--per-lang", type=int, default=None, help="texts per set, bucket and half (60 calibrating, 30 reporting)")
    parser.add_argument("--docs-per-lang", type=int, default=None, help="~2.3 KB documents per set and half (20 / 10)")
    args = parser.parse_args()
    if not FLORES_DIR.is_dir():
        print(f"no FLORES data at {FLORES_DIR}; skipping")
        return 0
    if args.calibrate:
        calibrate(args.per_lang or 60, args.docs_per_lang or 20)
    else:
        report(args.per_lang or 30, args.docs_per_lang or 10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
