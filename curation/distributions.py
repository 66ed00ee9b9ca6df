"""Mergeable, memory-bounded histograms of scores and lengths, for stats.json and the report.

A step cannot keep every score it computed (a run may see billions of records), and datatrove
runs it as many tasks that must be merged afterwards. So each task keeps *sketches*: counts of
values rounded to two significant figures (0.01234 -> 0.012, 347 -> 350, -2.34 -> -2.3). Two
significant figures give at most 90 distinct keys per decade and sign, whatever the input size,
and merging two sketches is adding their counts, so merging per-task sketches gives exactly the
sketch of one pass over all records. NaN and infinities are counted apart, never binned.

    ValueSketch()                       .add(value, n=1), .merge(other), .count, .quantile(q),
                                        .median(), .to_json(), ValueSketch.from_json(doc)
    ScoreRecorder(step, thresholds=None)
        .record(lang, scores, kept)     one record's named scores, under kept or dropped
        .declare(score, min=, max=, lang="*")   a threshold the step applies (for the plot)
        .to_json(), ScoreRecorder.merge_json(docs), .merge(other)
    LengthRecorder()
        .record(config, length)         characters of one published record, per config folder
        .to_json(), LengthRecorder.merge_json(docs)
    histogram(sketch, bins=20, include=())             -> {"edges", "counts"}
    score_histogram(kept, dropped, thresholds, bins)   -> {"edges", "kept", "dropped", "thresholds"}
    build_distributions(score_files, length_files)     -> stats.json's "distributions" section

A step writes `ScoreRecorder.to_json()` per task (a JSON file next to datatrove's stats) and
Finalize reads them all back into `build_distributions`, which merges per step and re-bins the
quantized values linearly into `bins` bins between robust bounds (the 0.5th and 99.5th
percentiles, widened to take in the thresholds unless that would make the range more than ten
times wider); values outside go to the edge bins. The section it returns:

    {"lengths": {config: {"unit": "characters", "edges": [21 floats], "counts": [20 ints],
                          "total": n, "median": m}},
     "scores": {step: {score: {lang: {"edges": [...], "kept": [...], "dropped": [...],
                                      "thresholds": {"min": x, "max": y}}}}}}

Thresholds are keyed by language or "*" (all languages); a language's own entry wins.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

LOW_QUANTILE, HIGH_QUANTILE = 0.005, 0.995
MAX_WIDENING = 10  # thresholds widen the bounds up to this many times the data's own range


def quantize(value: float) -> float:
    """`value` rounded to two significant figures (0 stays 0)."""
    return float(f"{value:.2g}")


def _key(value: float) -> str:
    # `repr` of a two-figure float is short ("0.012", "350.0", "1.2e-07") and reads back exactly.
    return repr(value)


class ValueSketch:
    """Counts of values rounded to two significant figures; NaN and +-inf counted apart."""

    __slots__ = ("counts", "nan", "posinf", "neginf")

    def __init__(self) -> None:
        self.counts: dict[float, int] = {}
        self.nan = 0
        self.posinf = 0
        self.neginf = 0

    def add(self, value: float, n: int = 1) -> None:
        value = float(value)
        if math.isnan(value):
            self.nan += n
        elif math.isinf(value):
            if value > 0:
                self.posinf += n
            else:
                self.neginf += n
        else:
            q = quantize(value)
            self.counts[q] = self.counts.get(q, 0) + n

    def merge(self, other: ValueSketch) -> ValueSketch:
        """Add `other`'s counts into this sketch (and return it)."""
        for q, n in other.counts.items():
            self.counts[q] = self.counts.get(q, 0) + n
        self.nan += other.nan
        self.posinf += other.posinf
        self.neginf += other.neginf
        return self

    @property
    def count(self) -> int:
        """Finite values added."""
        return sum(self.counts.values())

    @property
    def nonfinite(self) -> int:
        return self.nan + self.posinf + self.neginf

    def quantile(self, q: float) -> float | None:
        """The (quantized) value below which a share `q` of the finite values lie; None if empty."""
        assert 0 <= q <= 1, f"quantile must be in [0, 1], got {q}"
        total = self.count
        if not total:
            return None
        rank = q * (total - 1)
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen > rank:
                return value
        return max(self.counts)

    def median(self) -> float | None:
        return self.quantile(0.5)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"values": {_key(q): n for q, n in sorted(self.counts.items())}}
        for name in ("nan", "posinf", "neginf"):
            if getattr(self, name):
                doc[name] = getattr(self, name)
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ValueSketch:
        sketch = cls()
        sketch.counts = {float(k): int(n) for k, n in doc.get("values", {}).items()}
        sketch.nan, sketch.posinf, sketch.neginf = (int(doc.get(k, 0)) for k in ("nan", "posinf", "neginf"))
        return sketch

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValueSketch) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"ValueSketch(count={self.count}, keys={len(self.counts)}, nonfinite={self.nonfinite})"


Thresholds = dict[str, dict[str, dict[str, float]]]  # score -> lang or "*" -> {"min": x, "max": y}


class ScoreRecorder:
    """One step's score sketches, keyed by (score name, language, "kept" | "dropped")."""

    def __init__(self, step: str, thresholds: Thresholds | None = None) -> None:
        self.step = step
        self.thresholds: Thresholds = {s: {lang: dict(t) for lang, t in by_lang.items()}
                                       for s, by_lang in (thresholds or {}).items()}
        self.sketches: dict[tuple[str, str, str], ValueSketch] = {}

    def declare(self, score: str, min: float | None = None, max: float | None = None, lang: str = "*") -> None:
        """Record the bounds under which the step keeps a record, so the report can draw them."""
        bounds = {k: float(v) for k, v in (("min", min), ("max", max)) if v is not None}
        if bounds:
            self.thresholds.setdefault(score, {})[lang] = bounds

    def record(self, lang: str, scores: Mapping[str, float], kept: bool) -> None:
        outcome = "kept" if kept else "dropped"
        for name, value in scores.items():
            if isinstance(value, numbers.Real):  # numpy scalars too; a bool flag plots as 0/1
                key = (name, lang, outcome)
                sketch = self.sketches.get(key)
                if sketch is None:
                    sketch = self.sketches[key] = ValueSketch()
                sketch.add(value)

    def merge(self, other: ScoreRecorder) -> ScoreRecorder:
        assert other.step == self.step, f"cannot merge scores of step {other.step!r} into {self.step!r}"
        for score, by_lang in other.thresholds.items():
            for lang, bounds in by_lang.items():
                self.thresholds.setdefault(score, {}).setdefault(lang, dict(bounds))
        for key, sketch in other.sketches.items():
            self.sketches.setdefault(key, ValueSketch()).merge(sketch)
        return self

    def to_json(self) -> dict[str, Any]:
        sketches: dict[str, dict[str, dict[str, Any]]] = {}
        for (score, lang, outcome), sketch in sorted(self.sketches.items()):
            sketches.setdefault(score, {}).setdefault(lang, {})[outcome] = sketch.to_json()
        return {"step": self.step, "thresholds": self.thresholds, "sketches": sketches}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ScoreRecorder:
        recorder = cls(doc["step"], doc.get("thresholds"))
        for score, by_lang in doc.get("sketches", {}).items():
            for lang, by_outcome in by_lang.items():
                for outcome, sketch in by_outcome.items():
                    recorder.sketches[(score, lang, outcome)] = ValueSketch.from_json(sketch)
        return recorder

    @classmethod
    def merge_json(cls, docs: Iterable[Mapping[str, Any]]) -> ScoreRecorder:
        """One recorder from the per-task `to_json()` documents of one step."""
        merged: ScoreRecorder | None = None
        for doc in docs:
            recorder = cls.from_json(doc)
            merged = recorder if merged is None else merged.merge(recorder)
        assert merged is not None, "merge_json needs at least one document"
        return merged

    def thresholds_for(self, score: str, lang: str) -> dict[str, float]:
        by_lang = self.thresholds.get(score, {})
        return dict(by_lang.get(lang, by_lang.get("*", {})))


class LengthRecorder:
    """Character lengths of published records, one sketch per config folder (sw, sw-instruction)."""

    unit = "characters"

    def __init__(self) -> None:
        self.sketches: dict[str, ValueSketch] = {}

    def record(self, config: str, length: int) -> None:
        sketch = self.sketches.get(config)
        if sketch is None:
            sketch = self.sketches[config] = ValueSketch()
        sketch.add(length)

    def merge(self, other: LengthRecorder) -> LengthRecorder:
        for config, sketch in other.sketches.items():
            self.sketches.setdefault(config, ValueSketch()).merge(sketch)
        return self

    def to_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "sketches": {c: s.to_json() for c, s in sorted(self.sketches.items())}}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> LengthRecorder:
        recorder = cls()
        recorder.sketches = {c: ValueSketch.from_json(s) for c, s in doc.get("sketches", {}).items()}
        return recorder

    @classmethod
    def merge_json(cls, docs: Iterable[Mapping[str, Any]]) -> LengthRecorder:
        merged = cls()
        for doc in docs:
            merged.merge(cls.from_json(doc))
        return merged


def _tidy(x: float) -> float:
    # Edges are printed in stats.json and on the page: six figures is plenty and reads well.
    return float(f"{x:.6g}")


def bin_edges(sketch: ValueSketch, bins: int = 20, include: Iterable[float] = ()) -> list[float]:
    """`bins + 1` linear edges between the sketch's robust bounds, widened to take in `include`
    (the thresholds) where that keeps the range within MAX_WIDENING times the data's."""
    assert bins >= 1, f"bins must be at least 1, got {bins}"
    points = [float(x) for x in include if x is not None and math.isfinite(x)]
    low, high = sketch.quantile(LOW_QUANTILE), sketch.quantile(HIGH_QUANTILE)
    if low is None or high is None:
        low = high = points[0] if points else 0.0
    if high > low:  # a threshold far from the data (max words 100,000) would squash it into one bin
        points = [x for x in points if max(high, x) - min(low, x) <= MAX_WIDENING * (high - low)]
    low, high = min([low, *points]), max([high, *points])
    if high == low:  # one value: centre it in a window of its own size (or of 1 around 0)
        half = abs(low) / 2 or 0.5
        low, high = low - half, high + half
    step = (high - low) / bins
    return [_tidy(low + i * step) for i in range(bins)] + [_tidy(high)]


def bin_counts(sketch: ValueSketch, edges: Sequence[float]) -> list[int]:
    """Counts of the sketch's finite values per bin; values outside the edges go to the edge bins."""
    bins = len(edges) - 1
    low, high = edges[0], edges[-1]
    width = (high - low) / bins
    counts = [0] * bins
    for value, n in sketch.counts.items():
        i = math.floor((value - low) / width) if width > 0 else 0
        counts[min(bins - 1, max(0, i))] += n
    return counts


def histogram(sketch: ValueSketch, bins: int = 20, include: Iterable[float] = ()) -> dict[str, list]:
    """{"edges": bins + 1 floats, "counts": bins ints} for one sketch."""
    edges = bin_edges(sketch, bins, include)
    return {"edges": edges, "counts": bin_counts(sketch, edges)}


def score_histogram(
    kept: ValueSketch | None, dropped: ValueSketch | None, thresholds: Mapping[str, float] | None = None,
    bins: int = 20,
) -> dict[str, Any]:
    """Kept and dropped counts over the same edges, which take in the thresholds."""
    kept, dropped = kept or ValueSketch(), dropped or ValueSketch()
    thresholds = dict(thresholds or {})
    edges = bin_edges(ValueSketch().merge(kept).merge(dropped), bins, thresholds.values())
    result: dict[str, Any] = {"edges": edges, "kept": bin_counts(kept, edges), "dropped": bin_counts(dropped, edges),
                              "thresholds": thresholds}
    nonfinite = {"kept": kept.nonfinite, "dropped": dropped.nonfinite}
    if any(nonfinite.values()):
        result["nonfinite"] = nonfinite
    return result


def build_distributions(
    score_files: Iterable[Mapping[str, Any]], length_files: Iterable[Mapping[str, Any]] = (), bins: int = 20
) -> dict[str, Any]:
    """stats.json's "distributions" section from per-task ScoreRecorder and LengthRecorder JSON."""
    by_step: dict[str, list[Mapping[str, Any]]] = {}
    for doc in score_files:
        by_step.setdefault(doc["step"], []).append(doc)
    scores: dict[str, dict[str, dict[str, Any]]] = {}
    for step, docs in by_step.items():
        recorder = ScoreRecorder.merge_json(docs)
        for score, lang in sorted({(s, lang) for s, lang, _ in recorder.sketches}):
            scores.setdefault(step, {}).setdefault(score, {})[lang] = score_histogram(
                recorder.sketches.get((score, lang, "kept")), recorder.sketches.get((score, lang, "dropped")),
                recorder.thresholds_for(score, lang), bins)
    lengths_recorder = LengthRecorder.merge_json(length_files)
    lengths = {}
    for config, sketch in sorted(lengths_recorder.sketches.items()):
        if sketch.count:
            lengths[config] = {"unit": LengthRecorder.unit, **histogram(sketch, bins), "total": sketch.count,
                               "median": sketch.median()}
    return {"lengths": lengths, "scores": scores}
