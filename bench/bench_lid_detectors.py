"""Every language identifier curate could ensemble, on FLORES-200 dev by text length; ensemble
decision rules tuned on one half of the data and reported on the other (issue 10).

    PYTHONPATH=. python bench/bench_lid_detectors.py [--per-lang 30] [--docs-per-lang 10] [--jobs 2]
        [--speed-texts 200] [--lang swh --lang hau ...] [--out /tmp/lid_detectors.json]

~6 minutes on 2 idle cores with the defaults (~9.5 with another process busy); 60/20 about twice that.

Data: `../shared/data/flores200-dev` (prints a message and exits 0 without it). Every file's
non-empty lines are split by 0-based line index: TUNE = even indices, REPORT = odd ones. Rule
thresholds are chosen on TUNE only; every number is printed for both halves.

Buckets, per language and half, fixed seeds: `words` (a random word of >= 3 letters; 2-4
characters for unspaced scripts), `pairs` (two consecutive words; 4-8 characters unspaced),
`<=40` (a sentence cut at a word boundary, as bench_lid.py cuts), `sent` (whole sentences) and
`docs` (consecutive sentences of the half cut to bench_lid's DOC_CHARS). Unspaced = more than
UNSPACED_CHARS_PER_TOKEN characters per space-separated token (zho, yue, jpn, tha, khm, lao, mya,
shn, bod, dzo on FLORES).

Detectors (labels mapped to curate's ISO 639-3 codes by bench/lid_labels.py):
  ft           lid.176 top-1, the model called directly on prepare_for_fasttext(text) (one line, lowercased)
  curate       filters.lid.LanguageIdentifier(), as the library has it when the bench runs (at
               a175d07: script-aware lid.176, CLD3 vouching, lingua re-ranking, langdetect off)
  curate_nold  the same with langdetect, CLD3 vouching and lingua off (lid.176 + script + hints):
               the fast first stage every rule here is built on
  lingua_all   lingua, all 75 languages, high accuracy, preloaded models
  lingua_low   lingua, all 75 languages, low-accuracy mode
  cld3         gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)
  cld2         pycld2.detect(text); cld2_best: the same with bestEffort=True
  langdetect   filters.lid.langdetect_distribution(text[:LANGDETECT_MAX_CHARS]), as curate calls it

Languages scored: the FLORES sets at least one detector can output (in the script FLORES writes
them in). Macro accuracy per bucket over (a) the sets lid.176 knows (bench_lid.py's selection),
(b) lingua's languages, (c) the sets the detector (or the rule's detectors) knows, (d) all scored.
Precision of L = of the scored texts labelled L, the share that are L: a language no detector
knows (the Arabic dialects, Fon...) is left out, so it cannot lower anyone's precision.

Speed: texts/s per detector per bucket measured in this one process on --speed-texts texts per
bucket and half, after the accuracy pass (which runs in --jobs worker processes), each text through
every detector in turn. A rule's speed is estimated from those per-text times and how often the
rule consults each detector; lingua restricted to candidate sets is timed as such (cached
detectors, the preloaded all-language one alive). Timings move by ~20% from run to run.

Rules (simulated from the recorded labels and confidences; thresholds grid-searched on TUNE):
  cascade  a base identifier first; lingua, restricted to the candidate languages (the base's top-k
           that lingua knows, their confusable groups, optionally the CLD3/CLD2 label), when the
           text is short (< N chars), the base is unsure (p < t) or its top two are a confusable
           pair; lingua's answer is taken when its renormalized confidence is > c.
  addon    after a rule: a language lid.176 lacks that CLD3 (or CLD2) names with confidence > p.
  vote     weighted votes, each detector's weight its TUNE precision for the label it gives, per
           text-length class (LENGTH_EDGES); optionally `lingua_r` votes too on texts < N chars:
           lingua restricted to the labels the fast detectors name, with their confusable groups.
  switch   table-free baseline: CLD2 (bestEffort) when it answers (reliably), else curate_nold.
TUNE objective: mean over the five buckets of the mean of macro accuracy over (a), (b) and (d).
Feasible: faster than lingua_all on words, pairs and <=40, and >= 0.5x ft on docs (issue 10).
"""

from __future__ import annotations

import argparse
import functools
import inspect
import itertools
import json
import math
import multiprocessing as mp
import random
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import gcld3  # noqa: E402
import pycld2  # noqa: E402
from lingua import LanguageDetectorBuilder  # noqa: E402

from bench.bench_lid import DOC_CHARS, FLORES_DIR, FLORES_SCRIPT_ALIASES, _lid176_writes, cut_at_word  # noqa: E402
from bench.lid_labels import (  # noqa: E402
    UNDETERMINED,
    cld2_code,
    cld2_codes,
    cld3_code,
    cld3_codes,
    code_to_lingua,
    lid176_codes,
    lingua_codes,
    lingua_to_code,
    unmapped_labels,
)
from curation.languages import (  # noqa: E402
    CONFUSABLE_GROUPS,
    LID_LABEL_PREFIX,
    are_confusable,
    language,
    lid176_label_to_code,
    split_tag,
)
from filters import lid  # noqa: E402

try:
    from filters.fasttext_lid import load_lid176, prepare_for_fasttext  # noqa: E402
except ImportError:  # the library before 32e3f29
    from filters.lid import load_lid176, prepare_for_fasttext  # type: ignore[attr-defined,no-redef]  # noqa: E402

BUCKETS = ("words", "pairs", "le40", "sent", "docs")
BUCKET_NAMES = {"words": "words", "pairs": "pairs", "le40": "<=40", "sent": "sent", "docs": "docs"}
SHORT_BUCKETS = ("words", "pairs", "le40")
HALVES = ("tune", "report")
DETECTORS = ("ft", "curate", "curate_nold", "lingua_all", "lingua_low", "cld3", "cld2", "cld2_best", "langdetect")
UNSPACED_CHARS_PER_TOKEN = 12
LINGUA_KEEP = 12  # lingua confidences kept per text (the top ones above LINGUA_MIN)
LINGUA_MIN = 1e-4
SEED = "lid-detectors-v1"
# Text-length classes for per-detector reliability (the vote rule): a rule sees the length, never the bucket.
LENGTH_EDGES = (10, 25, 45, 400)
LINGUA_VOTE_MAX = 200  # lingua_r (the restricted lingua voter) is computed for texts shorter than this


# --------------------------------------------------------------------------- data


@dataclass
class Sample:
    """Every scored text: parallel lists over items; `texts` holds each distinct text once."""

    stems: list[str]
    texts: list[str] = field(default_factory=list)
    item_stem: list[int] = field(default_factory=list)
    item_bucket: list[int] = field(default_factory=list)
    item_half: list[int] = field(default_factory=list)
    item_text: list[int] = field(default_factory=list)
    unspaced: list[str] = field(default_factory=list)


def read_halves(path: Path) -> tuple[list[str], list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    tune = [line for i, line in enumerate(lines) if i % 2 == 0 and line.strip()]
    report = [line for i, line in enumerate(lines) if i % 2 == 1 and line.strip()]
    return tune, report


def is_unspaced(lines: Sequence[str]) -> bool:
    chars = sum(len(line.replace(" ", "")) for line in lines)
    tokens = sum(len(line.split()) for line in lines)
    return chars > UNSPACED_CHARS_PER_TOKEN * max(tokens, 1)


def _word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LM"


def _edge_strip(token: str, left: bool = True, right: bool = True) -> str:
    start, end = 0, len(token)
    while left and start < end and not _word_char(token[start]):
        start += 1
    while right and end > start and not _word_char(token[end - 1]):
        end -= 1
    return token[start:end]


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def spaced_words(rng: random.Random, pool: list[str], n: int, pair: bool) -> list[str]:
    out: list[str] = []
    for _ in range(n * 50):
        if len(out) == n:
            break
        tokens = rng.choice(pool).split()
        if pair:
            if len(tokens) < 2:
                continue
            i = rng.randrange(len(tokens) - 1)
            first, second = _edge_strip(tokens[i], right=False), _edge_strip(tokens[i + 1], left=False)
            if _letters(first) and _letters(second) and _letters(first + second) >= 3:
                out.append(f"{first} {second}")
        else:
            words = [w for w in (_edge_strip(t) for t in tokens) if _letters(w) >= 3]
            if words:
                out.append(rng.choice(words))
    return out


def unspaced_chunks(rng: random.Random, pool: list[str], n: int, lo: int, hi: int) -> list[str]:
    out: list[str] = []
    for _ in range(n * 50):
        if len(out) == n:
            break
        sentence, k = rng.choice(pool), rng.randint(lo, hi)
        ok = [_word_char(ch) for ch in sentence]
        starts = [i for i in range(len(sentence) - k + 1) if all(ok[i : i + k])]
        if starts:
            start = rng.choice(starts)
            out.append(sentence[start : start + k])
    return out


def documents(rng: random.Random, pool: list[str], n: int) -> list[str]:
    docs = []
    for _ in range(n):
        j, doc = rng.randrange(len(pool)), ""
        while len(doc) < DOC_CHARS:
            doc += pool[j % len(pool)] + "\n"
            j += 1
        docs.append(doc[:DOC_CHARS])
    return docs


def bucket_texts(stem: str, half: str, pool: list[str], unspaced: bool, per_lang: int, per_doc: int) -> dict[str, list[str]]:
    def rng(bucket: str) -> random.Random:
        return random.Random(f"{SEED}/{stem}/{half}/{bucket}")

    n = min(per_lang, len(pool))
    if unspaced:
        words = unspaced_chunks(rng("words"), pool, per_lang, 2, 4)
        pairs = unspaced_chunks(rng("pairs"), pool, per_lang, 4, 8)
    else:
        words = spaced_words(rng("words"), pool, per_lang, pair=False)
        pairs = spaced_words(rng("pairs"), pool, per_lang, pair=True)
    return {
        "words": words,
        "pairs": pairs,
        "le40": [cut_at_word(s, 40) for s in rng("le40").sample(pool, n)],
        "sent": rng("sent").sample(pool, n),
        "docs": documents(rng("docs"), pool, per_doc),
    }


def stem_code_script(stem: str) -> tuple[str, str]:
    code, script = stem.split("_")
    return code, FLORES_SCRIPT_ALIASES.get(script, script)


def written_in(code: str, script: str) -> bool:
    try:
        return script in language(code).scripts
    except (ValueError, KeyError):
        return True  # a code curate has no table entry for: trust the detector's label set


@functools.cache
def detector_codes(name: str) -> frozenset[str]:
    if name in ("ft", "curate", "curate_nold"):
        return lid176_codes()
    if name.startswith("lingua"):
        return lingua_codes()
    if name == "cld3":
        return cld3_codes()
    if name.startswith("cld2"):
        return cld2_codes()
    if name == "langdetect":
        return lid.langdetect_languages()
    raise KeyError(name)


def knows_stem(name: str, stem: str) -> bool:
    code, script = stem_code_script(stem)
    if name in ("ft", "curate", "curate_nold"):
        return _lid176_writes(code, script)
    return code in detector_codes(name) and written_in(code, script)


def load_sample(per_lang: int, per_doc: int, only: set[str] | None) -> Sample:
    stems = []
    for path in sorted(FLORES_DIR.glob("*.dev")):
        if only and path.stem.split("_")[0] not in only:
            continue
        if any(knows_stem(name, path.stem) for name in DETECTORS):
            stems.append(path.stem)
    sample = Sample(stems)
    index: dict[str, int] = {}
    for s, stem in enumerate(stems):
        halves = read_halves(FLORES_DIR / f"{stem}.dev")
        unspaced = is_unspaced(halves[0])
        if unspaced:
            sample.unspaced.append(stem)
        for h, pool in enumerate(halves):
            for b, texts in enumerate(bucket_texts(stem, HALVES[h], pool, unspaced, per_lang, per_doc).values()):
                for text in texts:
                    if text not in index:
                        index[text] = len(sample.texts)
                        sample.texts.append(text)
                    sample.item_stem.append(s)
                    sample.item_bucket.append(b)
                    sample.item_half.append(h)
                    sample.item_text.append(index[text])
    return sample


# --------------------------------------------------------------------------- detectors

Result = tuple[str, float, Any]  # canonical label, confidence, detector-specific extra


class Detectors:
    """One instance of every detector; `run(name, text)` -> (label, confidence, extra)."""

    def __init__(self) -> None:
        self.load_s: dict[str, float] = {}
        start = time.perf_counter()
        self.lingua_all = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()
        self.load_s["lingua_all"] = time.perf_counter() - start
        start = time.perf_counter()
        self.lingua_low = (
            LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().with_preloaded_language_models().build()
        )
        self.load_s["lingua_low"] = time.perf_counter() - start
        start = time.perf_counter()
        self.lid176 = load_lid176()
        self.load_s["ft"] = time.perf_counter() - start
        start = time.perf_counter()
        lid.langdetect_languages()
        self.load_s["langdetect"] = time.perf_counter() - start
        self.cld3 = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)
        self.curate = lid.LanguageIdentifier()
        # The first stage alone: lid.176 + script consistency + hints; no langdetect, and (where the
        # library has them) no CLD3 vouching and no lingua, so rules are simulated on a clean base.
        params = inspect.signature(lid.LanguageIdentifier).parameters
        off = {name: False for name in ("use_langdetect", "vouch", "use_lingua", "ensemble") if name in params}
        self.curate_nold = lid.LanguageIdentifier(**off)
        self.cld2_errors: Counter[str] = Counter()
        self.calls: dict[str, Callable[[str], Result]] = {
            "ft": self.ft,
            "curate": functools.partial(self.identify, self.curate),
            "curate_nold": functools.partial(self.identify, self.curate_nold),
            "lingua_all": functools.partial(self.lingua, self.lingua_all),
            "lingua_low": functools.partial(self.lingua, self.lingua_low),
            "cld3": self.cld3_detect,
            "cld2": functools.partial(self.cld2, False),
            "cld2_best": functools.partial(self.cld2, True),
            "langdetect": self.langdetect,
        }

    def ft(self, text: str) -> Result:
        # The model directly (not filters.lid.fasttext_distribution, whose FastTextLID.model property
        # resolves the bundled file's path on every call: ~110 us a call against ~16 us here).
        labels, probs = self.lid176.predict(prepare_for_fasttext(text), k=5)
        to_code, prefix = lid176_label_to_code(), len(LID_LABEL_PREFIX)
        ranked = tuple((to_code[label[prefix:]], round(float(p), 5)) for label, p in zip(labels, probs, strict=True))
        return ranked[0][0], float(probs[0]), ranked  # top-1 is the answer; top-5 kept for a cascade base

    @staticmethod
    def identify(identifier: lid.LanguageIdentifier, text: str) -> Result:
        found = identifier.identify(text)
        cands = tuple((split_tag(tag)[0], round(p, 5)) for tag, p in found.candidates)
        return found.code, found.score, cands

    @staticmethod
    def lingua(detector: Any, text: str) -> Result:
        values = detector.compute_language_confidence_values(text)
        if not values or values[0].value <= 0:
            return UNDETERMINED, 0.0, ()
        to_code = lingua_to_code()
        dist = tuple((to_code[v.language], round(v.value, 5)) for v in values[:LINGUA_KEEP] if v.value >= LINGUA_MIN)
        return to_code[values[0].language], values[0].value, dist

    def cld3_detect(self, text: str) -> Result:
        found = self.cld3.FindLanguage(text=text)
        return cld3_code(found.language), found.probability, bool(found.is_reliable)

    def cld2(self, best_effort: bool, text: str) -> Result:
        try:
            reliable, _, details = pycld2.detect(text, bestEffort=best_effort)
        except pycld2.error:  # invalid UTF-8 or similar: undetermined, counted
            self.cld2_errors["best" if best_effort else "plain"] += 1
            return UNDETERMINED, 0.0, False
        return cld2_code(details[0][1]), details[0][2] / 100.0, bool(reliable)

    @staticmethod
    def langdetect(text: str) -> Result:
        dist = lid.langdetect_distribution(text[: lid.LANGDETECT_MAX_CHARS])
        if not dist:
            return UNDETERMINED, 0.0, None
        code = max(dist, key=dist.__getitem__)
        return code, dist[code], None

    def run_all(self, text: str) -> dict[str, Result]:
        # langdetect before curate: with the worker's cache, curate's langdetect call is then free.
        order = ("langdetect", *(d for d in DETECTORS if d != "langdetect"))
        return {name: self.calls[name](text) for name in order}


_DETECTORS: Detectors | None = None


def _init_worker() -> None:
    # Only in the accuracy workers: curate and the langdetect detector ask langdetect the same
    # question (text[:400]), so it is answered once. Timings come from the main process, uncached.
    lid.langdetect_distribution = functools.cache(lid.langdetect_distribution)


def _detect_chunk(texts: list[str]) -> tuple[list[dict[str, Result]], Counter[str]]:
    assert _DETECTORS is not None
    before = Counter(_DETECTORS.cld2_errors)
    results = [_DETECTORS.run_all(text) for text in texts]
    return results, _DETECTORS.cld2_errors - before


def detect_everything(dets: Detectors, texts: list[str], jobs: int) -> tuple[dict[str, list[Result]], Counter[str]]:
    global _DETECTORS
    _DETECTORS = dets
    chunks = [texts[i : i + 250] for i in range(0, len(texts), 250)]
    out: dict[str, list[Result]] = {name: [] for name in DETECTORS}
    errors: Counter[str] = Counter()
    ctx = mp.get_context("fork")
    with ctx.Pool(jobs, initializer=_init_worker) as pool:
        for results, errs in pool.imap(_detect_chunk, chunks):
            errors += errs
            for result in results:
                for name in DETECTORS:
                    out[name].append(result[name])
    return out, errors


class RestrictedLingua:
    """lingua restricted to a candidate set: one detector per set, built on first use and cached.

    lingua keeps its language models in a process-wide cache while a detector holds them: with the
    preloaded all-language detector alive, a new restricted detector costs well under a millisecond
    to build; without one, each build reloads its models (tens of ms)."""

    def __init__(self, low: bool):
        self.low = low
        self.detectors: dict[frozenset[str], Any] = {}
        self.first_use_s: list[float] = []

    def get(self, allowed: frozenset[str]) -> Any:
        if allowed not in self.detectors:
            start = time.perf_counter()
            builder = LanguageDetectorBuilder.from_languages(*(code_to_lingua()[c] for c in sorted(allowed)))
            detector = (builder.with_low_accuracy_mode() if self.low else builder).build()
            detector.compute_language_confidence_values("warm up")
            self.first_use_s.append(time.perf_counter() - start)
            self.detectors[allowed] = detector
        return self.detectors[allowed]

    def top(self, allowed: frozenset[str], text: str) -> tuple[str, float] | None:
        if not allowed:
            return None  # nothing lingua knows among the candidates: lingua is not asked
        if len(allowed) == 1:
            return next(iter(allowed)), 1.0
        values = self.get(allowed).compute_language_confidence_values(text)
        if not values or values[0].value <= 0:
            return None
        return lingua_to_code()[values[0].language], values[0].value


def typical_candidates(cands: tuple, k: int = 3) -> frozenset[str]:
    """The set a k=3 cascade offers lingua: the base's top-k that lingua knows and their groups."""
    found: set[str] = set()
    for code, _ in cands[:k]:
        if code in lingua_codes():
            found.add(code)
        found |= group_expansion(code)
    return frozenset(found)


def time_detectors(dets: Detectors, sample: Sample, raw: dict[str, list[Result]], per_bucket: int) -> tuple[dict, dict]:
    """half -> bucket -> detector -> seconds per text, on a fixed subsample; and the subsamples.

    Interleaved: each text goes through every detector in turn, so a background load slows all of
    them alike and the ratios between them hold. `lingua_all|restricted` (and `lingua_low|...`) is
    lingua restricted to the base's top-3 candidates and their confusable groups (`curate_nold`'s),
    cached per set, built outside the clock (0 s where the set has one language: no call needed)."""
    secs: dict[str, dict[str, dict[str, float]]] = {}
    chosen: dict[str, dict[str, list[int]]] = {}
    restricted = {"lingua_all|restricted": RestrictedLingua(low=False), "lingua_low|restricted": RestrictedLingua(low=True)}
    for h, half in enumerate(HALVES):
        secs[half], chosen[half] = {}, {}
        for b, bucket in enumerate(BUCKETS):
            items = [i for i in range(len(sample.item_text)) if sample.item_half[i] == h and sample.item_bucket[i] == b]
            rng = random.Random(f"{SEED}/speed/{half}/{bucket}")
            picked = rng.sample(items, min(per_bucket, len(items)))
            chosen[half][bucket] = picked
            texts = [sample.texts[sample.item_text[i]] for i in picked]
            sets = [typical_candidates(raw["curate_nold"][sample.item_text[i]][2]) for i in picked]
            total = dict.fromkeys((*DETECTORS, *restricted), 0.0)
            for text in texts[:10]:  # warm-up
                for name in DETECTORS:
                    dets.calls[name](text)
            for allowed in sets:
                if len(allowed) > 1:
                    for r in restricted.values():
                        r.get(allowed)
            for text, allowed in zip(texts, sets, strict=True):
                for name in DETECTORS:
                    call = dets.calls[name]
                    start = time.perf_counter()
                    call(text)
                    total[name] += time.perf_counter() - start
                for name, r in restricted.items():
                    start = time.perf_counter()
                    r.top(allowed, text)
                    total[name] += time.perf_counter() - start
            secs[half][bucket] = {name: t / max(len(texts), 1) for name, t in total.items()}
    secs["first_use_s"] = {name: float(np.mean(r.first_use_s)) if r.first_use_s else None
                           for name, r in restricted.items()}
    secs["restricted_sets"] = {name: len(r.detectors) for name, r in restricted.items()}
    return secs, chosen


# --------------------------------------------------------------------------- scoring


class Labels:
    """Label strings <-> ints, so predictions are numpy arrays."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.names: list[str] = []

    def id(self, label: str) -> int:
        if label not in self.ids:
            self.ids[label] = len(self.names)
            self.names.append(label)
        return self.ids[label]

    def encode(self, labels: Sequence[str]) -> np.ndarray:
        return np.fromiter((self.id(x) for x in labels), dtype=np.int64, count=len(labels))


@dataclass
class Half:
    """One half's items as arrays, and what is needed to score a prediction array on them."""

    name: str
    items: np.ndarray  # indices into the sample's item lists
    stem: np.ndarray
    bucket: np.ndarray
    text: np.ndarray
    truth: np.ndarray
    length: np.ndarray
    cell_count: np.ndarray  # per (stem, bucket)


class Scorer:
    def __init__(self, sample: Sample, labels: Labels):
        self.sample, self.labels = sample, labels
        self.n_stems = len(sample.stems)
        self.codes = [stem_code_script(s)[0] for s in sample.stems]
        truth_ids = np.array([labels.id(c) for c in self.codes])
        self.halves = []
        for h, half in enumerate(HALVES):
            idx = np.array([i for i, x in enumerate(sample.item_half) if x == h])
            stem = np.array(sample.item_stem)[idx]
            bucket = np.array(sample.item_bucket)[idx]
            text = np.array(sample.item_text)[idx]
            length = np.array([len(sample.texts[t].strip()) for t in text])
            cells = np.bincount(stem * len(BUCKETS) + bucket, minlength=self.n_stems * len(BUCKETS))
            self.halves.append(Half(half, idx, stem, bucket, text, truth_ids[stem], length, cells))
        self.groups = {
            "lid176": np.array([knows_stem("ft", s) for s in sample.stems]),
            "lingua": np.array([knows_stem("lingua_all", s) for s in sample.stems]),
            "all": np.ones(self.n_stems, dtype=bool),
        }
        self.score_codes = sorted(set(self.codes))

    def own_group(self, names: Sequence[str]) -> np.ndarray:
        return np.array([any(knows_stem(n, s) for n in names) for s in self.sample.stems])

    def accuracy(self, half: Half, pred: np.ndarray) -> np.ndarray:
        """(stem, bucket) accuracy matrix."""
        correct = (pred == half.truth).astype(float)
        sums = np.bincount(half.stem * len(BUCKETS) + half.bucket, weights=correct, minlength=half.cell_count.size)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (sums / half.cell_count).reshape(self.n_stems, len(BUCKETS))

    @staticmethod
    def macro(acc: np.ndarray, group: np.ndarray) -> list[float]:
        sub = acc[group]
        return [float(np.nanmean(sub[:, b])) if sub.size else float("nan") for b in range(len(BUCKETS))]

    def objective(self, half: Half, pred: np.ndarray) -> float:
        acc = self.accuracy(half, pred)
        parts = [self.macro(acc, self.groups[g]) for g in ("lid176", "lingua", "all")]
        return float(np.mean(parts))

    def precision_recall(self, half: Half, pred: np.ndarray) -> dict[str, dict[str, dict[str, float | None]]]:
        """code -> bucket -> {p, r, labelled, n}."""
        out: dict[str, dict[str, dict[str, float | None]]] = {c: {} for c in self.score_codes}
        n_labels = len(self.labels.names)
        for b, bucket in enumerate(BUCKETS):
            mask = half.bucket == b
            truth, p = half.truth[mask], pred[mask]
            total = np.bincount(truth, minlength=n_labels)
            labelled = np.bincount(p, minlength=n_labels)
            correct = np.bincount(truth[truth == p], minlength=n_labels)
            for code in self.score_codes:
                i = self.labels.ids[code]
                out[code][bucket] = {
                    "p": round(correct[i] / labelled[i], 4) if labelled[i] else None,
                    "r": round(correct[i] / total[i], 4) if total[i] else None,
                    "labelled": int(labelled[i]),
                    "n": int(total[i]),
                }
        return out

    def report(self, half: Half, pred: np.ndarray, own: np.ndarray, secs: list[float] | None) -> dict:
        acc = self.accuracy(half, pred)
        groups = {**self.groups, "own": own}
        return {
            "macro": {g: dict(zip(BUCKETS, self.macro(acc, mask), strict=True)) for g, mask in groups.items()},
            "group_sizes": {g: int(mask.sum()) for g, mask in groups.items()},
            "per_stem": {
                stem: dict(zip(BUCKETS, (None if math.isnan(v) else round(float(v), 4) for v in acc[s]), strict=True))
                for s, stem in enumerate(self.sample.stems)
            },
            "per_language": self.precision_recall(half, pred),
            "texts_per_s": None if secs is None else dict(zip(BUCKETS, (1 / s for s in secs), strict=True)),
            "objective": self.objective(half, pred),
        }


# --------------------------------------------------------------------------- rules


@functools.cache
def group_expansion(code: str) -> frozenset[str]:
    """The lingua languages in any confusable group of `code`."""
    members = set()
    for group in CONFUSABLE_GROUPS:
        if code in group:
            members |= group
    return frozenset(members & lingua_codes())


@dataclass(frozen=True)
class Cascade:
    base: str = "curate_nold"
    k: int | None = 3  # base candidates offered to lingua; None: all of lingua's languages
    need_top: bool = True  # consult only when the base's top answer is a lingua language
    extra: tuple[str, ...] = ()  # detectors whose label joins the candidates when lingua knows it
    mode: str = "lingua_all"
    short: int = 40  # N: consult below this many characters
    unsure: float = 0.5  # t: consult when the base's score is below this
    confusable: bool = True  # consult when the base's top two are a confusable pair
    confident: float = 0.5  # c: take lingua's answer when its renormalized confidence is above

    def structure(self) -> tuple:
        return self.base, self.k, self.need_top, self.extra, self.mode

    def describe(self) -> str:
        k = "all" if self.k is None else self.k
        extra = "+".join(self.extra) or "-"
        return (f"cascade base={self.base} k={k} need_top={self.need_top} extra={extra} {self.mode} "
                f"N={self.short} t={self.unsure} conf={self.confusable} c={self.confident}")


def lingua_cost(rule: Cascade) -> str:
    """Which timing a cascade's lingua calls cost: restricted, unless it offers every language."""
    return rule.mode if rule.k is None else f"{rule.mode}|restricted"


@dataclass(frozen=True)
class Addon:
    source: tuple[str, ...] = ("cld3",)
    p: float = 0.9
    reliable: bool = False
    model_below: float = 2.0  # only when raw lid.176's top-1 probability is below this (2: always)

    def describe(self) -> str:
        below = "" if self.model_below > 1 else f" ft<{self.model_below}"
        return f"addon {'|'.join(self.source)} p>{self.p} reliable={self.reliable}{below}"


@dataclass(frozen=True)
class Vote:
    detectors: tuple[str, ...]
    weight: str = "prec"  # or "logodds"
    times_conf: bool = False
    classes: bool = True  # reliability per text-length class (False: one table per detector)
    lingua_below: int = 0  # N: lingua, restricted to the voters' candidates, votes too below N chars

    def describe(self) -> str:
        extra = f" +lingua_r<{self.lingua_below}" if self.lingua_below else ""
        return (f"vote {'+'.join(self.detectors)}{extra} w={self.weight} x_conf={self.times_conf} "
                f"by_length={self.classes}")


@dataclass
class RuleResult:
    name: str
    rule: Any
    addon: Addon | None
    preds: list[np.ndarray]  # per half
    uses: list[dict[str, np.ndarray]]  # per half: detector -> per-bucket share of texts it was asked
    detectors: tuple[str, ...]
    objective_tune: float = 0.0


class Simulator:
    def __init__(self, sample: Sample, raw: dict[str, list[Result]], scorer: Scorer, secs: dict):
        self.sample, self.raw, self.scorer, self.secs = sample, raw, scorer, secs
        self.labels = scorer.labels
        self.pred = {
            name: [self.labels.encode([raw[name][t][0] for t in half.text]) for half in scorer.halves]
            for name in DETECTORS
        }
        self.conf = {
            name: [np.array([raw[name][t][1] for t in half.text], dtype=float) for half in scorer.halves]
            for name in DETECTORS
        }
        self.reliable = {
            name: [np.array([bool(raw[name][t][2]) for t in half.text]) for half in scorer.halves]
            for name in ("cld3", "cld2", "cld2_best")
        }
        self.extra_secs: dict[str, list[np.ndarray]] = {}
        self.lingua_set = lingua_codes()
        self.lid176 = lid176_codes()
        self._parts: dict[tuple, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}

    # per-bucket seconds per text of a detector, per half
    def det_secs(self, h: int, name: str) -> np.ndarray:
        return np.array([self.secs[HALVES[h]][b][name] for b in BUCKETS])

    def share(self, h: int, mask: np.ndarray) -> np.ndarray:
        counts = np.bincount(self.scorer.halves[h].bucket, minlength=len(BUCKETS))
        return np.bincount(self.scorer.halves[h].bucket, weights=mask, minlength=len(BUCKETS)) / counts

    def rule_secs(self, result: RuleResult, h: int, lingua_secs: np.ndarray | None = None) -> list[float]:
        total = np.zeros(len(BUCKETS))
        for name, share in result.uses[h].items():
            if name in self.extra_secs:
                per_text = self.extra_secs[name][h]
            elif lingua_secs is not None and name.startswith("lingua"):
                per_text = lingua_secs
            else:
                per_text = self.det_secs(h, name)
            total += share * per_text
        return list(total)

    # ---- cascade
    def candidates(self, cands: tuple, k: int | None, extra_labels: Sequence[str]) -> frozenset[str]:
        if k is None:
            return self.lingua_set
        found: set[str] = set()
        for code, _ in cands[:k]:
            if code in self.lingua_set:
                found.add(code)
            found |= group_expansion(code)
        found.update(e for e in extra_labels if e in self.lingua_set)
        return frozenset(found)

    def cascade_parts(self, rule: Cascade) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Per half: consultable, lingua's answer over the candidates, its confidence, the confusable flag."""
        key = rule.structure()
        if key in self._parts:
            return self._parts[key]
        parts = []
        for half in self.scorer.halves:
            n = len(half.text)
            can, answer, q, pair = np.zeros(n, bool), np.zeros(n, np.int64), np.zeros(n), np.zeros(n, bool)
            for i, t in enumerate(half.text):
                code, _, cands = self.raw[rule.base][t]
                if len(cands) >= 2:
                    (a, p1), (b, p2) = cands[:2]
                    pair[i] = are_confusable(a, b) and p2 >= lid.CONFUSABLE_RATIO * p1
                if rule.need_top and code not in self.lingua_set:
                    continue
                extra = [self.raw[e][t][0] for e in rule.extra]
                allowed = self.candidates(cands, rule.k, extra)
                if not allowed:
                    continue
                dist = [(c, v) for c, v in self.raw[rule.mode][t][2] if c in allowed]
                total = sum(v for _, v in dist)
                if total <= 0:
                    continue
                best, value = max(dist, key=lambda cv: cv[1])
                can[i], answer[i], q[i] = True, self.labels.id(best), value / total
            parts.append((can, answer, q, pair))
        self._parts[key] = parts
        return parts

    def run_cascade(self, rule: Cascade, halves: Sequence[int] = (0, 1)) -> tuple[list[np.ndarray], list[np.ndarray]]:
        preds, consulted = [], []
        for h in halves:
            can, answer, q, pair = self.cascade_parts(rule)[h]
            half = self.scorer.halves[h]
            base_conf = self.conf[rule.base][h]
            ask = can & ((half.length < rule.short) | (base_conf < rule.unsure) | (rule.confusable & pair))
            take = ask & (q > rule.confident)
            preds.append(np.where(take, answer, self.pred[rule.base][h]))
            consulted.append(ask)
        return preds, consulted

    def cascade_result(self, rule: Cascade, addon: Addon | None = None) -> RuleResult:
        preds, consulted = self.run_cascade(rule)
        uses = []
        for h in range(len(HALVES)):
            use = {rule.base: np.ones(len(BUCKETS)), lingua_cost(rule): self.share(h, consulted[h])}
            for e in rule.extra:
                use[e] = np.ones(len(BUCKETS))
            uses.append(use)
        dets = (rule.base, rule.mode, *rule.extra)
        result = RuleResult(rule.describe(), rule, None, preds, uses, dets)
        return self.with_addon(result, addon) if addon else result

    # ---- addon
    def with_addon(self, result: RuleResult, addon: Addon) -> RuleResult:
        preds, uses = [], []
        for h in range(len(HALVES)):
            pred = result.preds[h].copy()
            decided = np.zeros(len(pred), bool)
            for source in addon.source:
                gains = np.array([self.labels.id(c) for c in detector_codes(source) - self.lid176])
                p = self.pred[source][h]
                conf = self.conf[source][h]
                ok = np.isin(p, gains) & (conf > addon.p) & ~decided & (self.conf["ft"][h] < addon.model_below)
                if addon.reliable:
                    ok &= self.reliable[source][h]
                pred = np.where(ok, p, pred)
                decided |= ok
            preds.append(pred)
            use = dict(result.uses[h])
            for source in addon.source:
                use[source] = np.ones(len(BUCKETS))
            uses.append(use)
        dets = tuple(dict.fromkeys((*result.detectors, *addon.source)))
        return RuleResult(f"{result.name} + {addon.describe()}", result.rule, addon, preds, uses, dets)

    # ---- votes
    def length_class(self, half: Half) -> np.ndarray:
        return np.searchsorted(np.array(LENGTH_EDGES), half.length, side="right")

    def reliability(self, name: str, classes: bool = True) -> dict[tuple[int, int], float]:
        """(length class, label id) -> smoothed TUNE precision of `name` when it says that label."""
        half = self.scorer.halves[0]
        pred = self.pred[name][0]
        cls = self.length_class(half) if classes else np.zeros(len(pred), np.int64)
        correct = pred == half.truth
        said = Counter(zip(cls.tolist(), pred.tolist(), strict=True))
        right = Counter(zip(cls[correct].tolist(), pred[correct].tolist(), strict=True))
        return {key: (right[key] + 1) / (n + 2) for key, n in said.items()}

    def lingua_voter(self, dets: Detectors) -> None:
        """`lingua_r`: lingua (all-language models, high accuracy) restricted per text to the candidates
        the fast detectors name (lid.176's top 3, CLD3's and CLD2's labels) that lingua knows, with their
        confusable groups; asked for texts under LINGUA_VOTE_MAX characters. Exact restricted detectors
        (cached per set), timed per call in this process."""
        cache = RestrictedLingua(low=False)
        und = self.labels.id(UNDETERMINED)
        preds, confs, called, secs = [], [], [], []
        for half in self.scorer.halves:
            n = len(half.text)
            pred, conf, asked = np.full(n, und, np.int64), np.zeros(n), np.zeros(n, bool)
            spent = np.zeros(len(BUCKETS))
            for i, t in enumerate(half.text):
                if half.length[i] >= LINGUA_VOTE_MAX:
                    continue
                allowed = set(typical_candidates(self.raw["ft"][t][2]))
                for name in ("cld3", "cld2_best"):
                    code = self.raw[name][t][0]
                    if code in self.lingua_set:
                        allowed.add(code)
                        allowed |= group_expansion(code)
                allowed_set = frozenset(allowed)
                if len(allowed_set) > 1:
                    cache.get(allowed_set)  # built outside the clock
                start = time.perf_counter()
                found = cache.top(allowed_set, self.sample.texts[t])
                spent[half.bucket[i]] += time.perf_counter() - start
                asked[i] = len(allowed_set) > 1
                if found is not None:
                    pred[i], conf[i] = self.labels.id(found[0]), found[1]
            per_bucket = np.bincount(half.bucket, weights=asked, minlength=len(BUCKETS))
            secs.append(np.divide(spent, per_bucket, out=np.zeros(len(BUCKETS)), where=per_bucket > 0))
            preds.append(pred)
            confs.append(conf)
            called.append(asked)
        self.pred["lingua_r"], self.conf["lingua_r"] = preds, confs
        self.lingua_r_called = called
        self.extra_secs["lingua_r"] = secs
        self.lingua_r_info = {"distinct_sets": len(cache.detectors),
                              "first_use_s_mean": float(np.mean(cache.first_use_s)) if cache.first_use_s else None}

    def vote_result(self, rule: Vote) -> RuleResult:
        voters = (*rule.detectors, "lingua_r") if rule.lingua_below else rule.detectors
        tables = {name: self.reliability(name, rule.classes) for name in voters}
        und = self.labels.id(UNDETERMINED)
        preds, uses = [], []
        for h, half in enumerate(self.scorer.halves):
            cls = (self.length_class(half) if rule.classes else np.zeros(len(half.text), np.int64)).tolist()
            columns = [(self.pred[n][h].tolist(), self.conf[n][h].tolist(), tables[n]) for n in rule.detectors]
            if rule.lingua_below:
                short = half.length < rule.lingua_below
                columns.append((np.where(short, self.pred["lingua_r"][h], und).tolist(),
                                self.conf["lingua_r"][h].tolist(), tables["lingua_r"]))
            out = np.empty(len(half.text), np.int64)
            for i in range(len(out)):
                scores: dict[int, float] = {}
                for labels, confs, table in columns:
                    label = labels[i]
                    if label == und:
                        continue
                    prec = table.get((cls[i], label), 0.5)
                    w = math.log(prec / (1 - prec)) if rule.weight == "logodds" else prec
                    if rule.times_conf:
                        w *= confs[i]
                    scores[label] = scores.get(label, 0.0) + w
                out[i] = max(scores, key=scores.__getitem__) if scores else und
            preds.append(out)
            use = {n: np.ones(len(BUCKETS)) for n in rule.detectors}
            if rule.lingua_below:
                use["lingua_r"] = self.share(h, self.lingua_r_called[h] & (half.length < rule.lingua_below))
            uses.append(use)
        dets = (*rule.detectors, "lingua_all") if rule.lingua_below else rule.detectors
        return RuleResult(rule.describe(), rule, None, preds, uses, dets)

    def switch_result(self, primary: str, fallback: str, need_reliable: bool) -> RuleResult:
        """No table: `primary`'s answer when it has one (and calls it reliable), else `fallback`'s."""
        und = self.labels.id(UNDETERMINED)
        preds = []
        for h in range(len(HALVES)):
            ok = self.pred[primary][h] != und
            if need_reliable:
                ok &= self.reliable[primary][h]
            preds.append(np.where(ok, self.pred[primary][h], self.pred[fallback][h]))
        uses = [{primary: np.ones(len(BUCKETS)), fallback: np.ones(len(BUCKETS))} for _ in HALVES]
        name = f"switch {primary}{' if reliable' if need_reliable else ''} else {fallback}"
        return RuleResult(name, name, None, preds, uses, (primary, fallback))

    def vote_tables(self, rule: Vote) -> dict[str, dict[str, dict[str, float]]]:
        """The recommended vote's weights: detector -> length class -> label -> TUNE precision."""
        voters = (*rule.detectors, "lingua_r") if rule.lingua_below else rule.detectors
        edges = ("<" + str(LENGTH_EDGES[0]), *(f"{a}-{b - 1}" for a, b in itertools.pairwise(LENGTH_EDGES)),
                 f">={LENGTH_EDGES[-1]}")
        out: dict[str, dict[str, dict[str, float]]] = {}
        for name in voters:
            table = self.reliability(name, rule.classes)
            out[name] = {}
            for (cls, label), prec in sorted(table.items()):
                key = edges[cls] if rule.classes else "all"
                out[name].setdefault(key, {})[self.labels.names[label]] = round(prec, 4)
        return out

    def detector_result(self, name: str) -> RuleResult:
        uses = [{name: np.ones(len(BUCKETS))} for _ in HALVES]
        return RuleResult(name, name, None, self.pred[name], uses, (name,))


def feasible(sim: Simulator, result: RuleResult, h: int = 0) -> bool:
    secs = sim.rule_secs(result, h)
    lingua, ft = sim.det_secs(h, "lingua_all"), sim.det_secs(h, "ft")
    short_ok = all(secs[BUCKETS.index(b)] < lingua[BUCKETS.index(b)] for b in SHORT_BUCKETS)
    return short_ok and secs[BUCKETS.index("docs")] <= 2 * ft[BUCKETS.index("docs")]


CASCADE_GRID = {
    "short": (0, 16, 25, 40, 60, 100, 200),
    "unsure": (0.0, 0.3, 0.5, 0.7, 0.9, 0.99),
    "confusable": (False, True),
    "confident": (0.0, 0.3, 0.5, 0.7, 0.9),
}


def search_cascades(sim: Simulator, structures: list[dict], log: list) -> list[tuple[float, bool, Cascade]]:
    """Every threshold combination for every structure, scored on TUNE."""
    scored = []
    tune = sim.scorer.halves[0]
    for structure in structures:
        sim.cascade_parts(Cascade(**structure))
        for short, unsure, confusable, confident in itertools.product(*CASCADE_GRID.values()):
            rule = Cascade(**structure, short=short, unsure=unsure, confusable=confusable, confident=confident)
            preds, consulted = sim.run_cascade(rule, halves=(0,))
            result = RuleResult(rule.describe(), rule, None, preds, [
                {rule.base: np.ones(len(BUCKETS)), lingua_cost(rule): sim.share(0, consulted[0]),
                 **{e: np.ones(len(BUCKETS)) for e in rule.extra}}
            ], ())
            scored.append((sim.scorer.objective(tune, preds[0]), feasible(sim, result), rule))
    scored.sort(key=lambda x: -x[0])
    log.extend({"rule": r.describe(), "objective_tune": round(o, 4), "feasible": f} for o, f, r in scored[:40])
    return scored


def best_of(scored: list[tuple[float, bool, Any]], need_feasible: bool) -> Any:
    for objective, ok, rule in scored:
        if ok or not need_feasible:
            return rule, objective
    return None, float("nan")


# --------------------------------------------------------------------------- lingua restricted


def restricted_lingua(sim: Simulator, dets: Detectors, rule: Cascade, result: RuleResult) -> dict:
    """The chosen cascade with lingua's restricted detectors (cached per candidate set) instead of the
    renormalized all-language confidences: accuracy on both halves, and what each way costs per text."""
    low = rule.mode == "lingua_low"
    cache = RestrictedLingua(low)
    detector = cache.get

    out: dict[str, Any] = {"halves": {}}
    lingua_full = dets.lingua_low if low else dets.lingua_all
    for h, half in enumerate(sim.scorer.halves):
        can, _, _, pair = sim.cascade_parts(rule)[h]
        base_conf = sim.conf[rule.base][h]
        ask = can & ((half.length < rule.short) | (base_conf < rule.unsure) | (rule.confusable & pair))
        pred = sim.pred[rule.base][h].copy()
        jobs = []
        for i in np.flatnonzero(ask):
            t = half.text[i]
            code, _, cands = sim.raw[rule.base][t]
            allowed = sim.candidates(cands, rule.k, [sim.raw[e][t][0] for e in rule.extra])
            jobs.append((i, t, allowed))
        for i, t, allowed in jobs:
            found = cache.top(allowed, sim.sample.texts[t])
            if found is None:
                continue
            answer, conf = found
            if conf > rule.confident:
                pred[i] = sim.labels.id(answer)
        # time both ways on the consulted texts of the speed subsample, per bucket
        timing = {}
        speed_items = {b: set(sim_speed_items(sim, h, b)) for b in BUCKETS}
        for bucket in BUCKETS:
            mine = [(t, allowed) for i, t, allowed in jobs if half.items[i] in speed_items[bucket]]
            if not mine:
                timing[bucket] = {"consulted": 0}
                continue
            for _, allowed in mine:
                if len(allowed) > 1:
                    detector(allowed)  # steady state: build outside the clock (first use measured apart)
            start = time.perf_counter()
            for t, allowed in mine:
                if len(allowed) > 1:
                    detector(allowed).compute_language_confidence_values(sim.sample.texts[t])
            restricted = (time.perf_counter() - start) / len(mine)
            start = time.perf_counter()
            for t, _ in mine:
                lingua_full.compute_language_confidence_values(sim.sample.texts[t])
            full = (time.perf_counter() - start) / len(mine)
            timing[bucket] = {"consulted": len(mine), "restricted_s": restricted, "all_languages_s": full}
        out["halves"][HALVES[h]] = {"pred": pred, "timing": timing}
    if result.addon is not None:
        plain = RuleResult("", rule, None, [out["halves"][h]["pred"] for h in HALVES], result.uses, ())
        for h, half_name in enumerate(HALVES):
            out["halves"][half_name]["pred"] = sim.with_addon(plain, result.addon).preds[h]
    out["distinct_sets"] = len(cache.detectors)
    out["first_use_s_mean"] = float(np.mean(cache.first_use_s)) if cache.first_use_s else None
    out["first_use_s_total"] = float(np.sum(cache.first_use_s))
    return out


_SPEED_ITEMS: dict = {}


def sim_speed_items(sim: Simulator, h: int, bucket: str) -> list[int]:
    return _SPEED_ITEMS[HALVES[h]][bucket]


# --------------------------------------------------------------------------- printing


def fmt(x: float | None, digits: int = 3) -> str:
    return "  -  " if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def print_summary(rows: list[tuple[str, dict]], half: str, sizes: dict[str, int]) -> None:
    cols = " ".join(f"{BUCKET_NAMES[b]:>5}" for b in BUCKETS)
    print(f"\n== {half.upper()} half ({'even' if half == 'tune' else 'odd'} line indices) ==")
    print(f"{'':<34} macro acc, lid.176's {sizes['lid176']:<4}       | macro acc, lingua's {sizes['lingua']:<4}        "
          f"| macro acc, all {sizes['all']:<4}            | texts/s")
    print(f"{'rule / detector':<34} {cols} | {cols} | {cols} | {' '.join(f'{BUCKET_NAMES[b]:>7}' for b in BUCKETS)}")
    for name, rep in rows:
        cells = []
        for g in ("lid176", "lingua", "all"):
            cells.append(" ".join(f"{fmt(rep['macro'][g][b]):>5}" for b in BUCKETS))
        speed = rep["texts_per_s"]
        rate = " ".join(f"{(speed[b] if speed else 0):>7,.0f}" for b in BUCKETS)
        print(f"{name[:34]:<34} " + " | ".join(cells) + f" | {rate}")


def print_languages(title: str, codes: Sequence[str], reps: dict[str, dict], half: str) -> None:
    print(f"\n{title} ({half.upper()} half): recall/precision per bucket {'/'.join(BUCKET_NAMES[b] for b in BUCKETS)}")
    for code in codes:
        for name, rep in reps.items():
            per = rep["per_language"].get(code)
            if per is None:
                continue
            cells = " ".join(f"{fmt(per[b]['r'], 2)}/{fmt(per[b]['p'], 2)}" for b in BUCKETS)
            print(f"  {code:<4} {name[:12]:<12} {cells}")


# --------------------------------------------------------------------------- main


CONFUSABLE_FOCUS = ("hrv", "srp", "bos", "ind", "zsm", "nob", "nno", "dan", "spa", "glg", "por", "hin", "mar",
                    "npi", "pes", "prs", "swh")


def jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        return None if math.isnan(x) else round(float(x), 5)
    return x


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 30/10 keeps the whole bench under ~10 minutes on 2 cores (langdetect, inside curate, costs
    # ~7 ms a single word; lingua ~13 ms a document); 60/20 takes about twice as long.
    parser.add_argument("--per-lang", type=int, default=30, help="texts per language, bucket and half (not docs)")
    parser.add_argument("--docs-per-lang", type=int, default=10, help="~2 KB documents per language and half")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for the accuracy pass")
    parser.add_argument("--speed-texts", type=int, default=200, help="texts per bucket and half timed per detector")
    parser.add_argument("--lang", action="append", help="only these FLORES ISO 639-3 codes (repeatable)")
    parser.add_argument("--out", default="/tmp/lid_detectors.json")
    args = parser.parse_args()
    if not FLORES_DIR.is_dir():
        print(f"FLORES-200 dev not found at {FLORES_DIR}; nothing to measure.")
        return 0
    wall = time.perf_counter()

    sample = load_sample(args.per_lang, args.docs_per_lang, set(args.lang) if args.lang else None)
    n_items = len(sample.item_text)
    print(f"{len(sample.stems)} FLORES sets scored, {n_items} texts ({len(sample.texts)} distinct), "
          f"unspaced: {' '.join(sample.unspaced)}")
    dets = Detectors()
    print("load s: " + ", ".join(f"{k} {v:.1f}" for k, v in dets.load_s.items()))

    start = time.perf_counter()
    raw, cld2_errors = detect_everything(dets, sample.texts, args.jobs)
    accuracy_s = time.perf_counter() - start
    print(f"accuracy pass: {accuracy_s:.0f}s with {args.jobs} workers; cld2 errors: {dict(cld2_errors) or 0}")

    start = time.perf_counter()
    secs, chosen = time_detectors(dets, sample, raw, args.speed_texts)
    _SPEED_ITEMS.update(chosen)
    print(f"speed pass: {time.perf_counter() - start:.0f}s")

    labels = Labels()
    scorer = Scorer(sample, labels)
    sim = Simulator(sample, raw, scorer, secs)
    start = time.perf_counter()

    results: dict[str, RuleResult] = {name: sim.detector_result(name) for name in DETECTORS}
    log: dict[str, Any] = {}

    # a. cascades: structure A (lingua_all, no extra) over bases, k and need_top
    structures = [
        {"base": base, "k": k, "need_top": need_top}
        for base in ("curate_nold", "ft", "curate") for k in (1, 3, 5, None) for need_top in (True, False)
    ]
    log["cascade_a"] = []
    scored = search_cascades(sim, structures, log["cascade_a"])
    best_a_any, _ = best_of(scored, need_feasible=False)
    best_a = best_of(scored, need_feasible=True)[0] or best_a_any
    # then the best feasible structure with lingua_low and with CLD3 / CLD2 labels as candidates
    stage_b = [
        {"base": best_a.base, "k": best_a.k, "need_top": best_a.need_top, "extra": extra, "mode": mode}
        for extra in ((), ("cld3",), ("cld3", "cld2_best")) for mode in ("lingua_all", "lingua_low")
        if (extra, mode) != ((), "lingua_all")
    ]
    log["cascade_b"] = []
    scored_b = search_cascades(sim, stage_b, log["cascade_b"])
    best_b = best_of(scored_b, need_feasible=True)[0] or best_of(scored_b, need_feasible=False)[0]
    results["cascade"] = sim.cascade_result(best_a)
    results["cascade_unconstrained"] = sim.cascade_result(best_a_any)
    results["cascade_b"] = sim.cascade_result(best_b)

    # c. addon for languages lid.176 lacks, over the best cascades and over curate alone
    addon_grid = [Addon(src, p, rel, below) for src in (("cld3",), ("cld2_best",), ("cld3", "cld2_best"))
                  for p in (0.5, 0.7, 0.9, 0.95, 0.99) for rel in (False, True) for below in (2.0, 0.8, 0.5)]
    tune = scorer.halves[0]
    for key in ("cascade", "cascade_b", "curate_nold"):
        base = results[key]
        trials = sorted(((scorer.objective(tune, sim.with_addon(base, a).preds[0]), a) for a in addon_grid),
                        key=lambda x: -x[0])
        log[f"addon_on_{key}"] = [{"addon": a.describe(), "objective_tune": round(o, 4)} for o, a in trials[:10]]
        results[f"{key}+addon"] = sim.with_addon(base, trials[0][1])

    # b. votes (prec weights measured best in a first full run: logodds and x conf are kept as checks)
    start_l = time.perf_counter()
    sim.lingua_voter(dets)
    print(f"lingua_r (restricted lingua voter) computed in {time.perf_counter() - start_l:.0f}s")
    vote_sets = (
        ("curate_nold", "cld3", "cld2_best"),
        ("ft", "cld3", "cld2_best"),
        ("ft", "cld2_best"),
        ("curate_nold", "cld2_best"),
        ("ft", "lingua_low", "cld3", "cld2_best"),
        ("curate_nold", "lingua_all", "cld3", "cld2_best"),
        ("curate", "lingua_all", "cld3", "cld2_best", "langdetect"),
        ("ft", "lingua_all", "cld3", "cld2", "langdetect"),
    )
    vote_rules = [Vote(d) for d in vote_sets]
    vote_rules += [Vote(vote_sets[i], weight=w, times_conf=x, classes=c)
                   for i in (0, 1, 3) for w, x, c in (("logodds", False, True), ("prec", True, True), ("prec", False, False))]
    vote_rules += [Vote(vote_sets[i], lingua_below=n) for i in (0, 1, 3) for n in (25, 40, 60, 100, 200)]
    votes = []
    for rule in vote_rules:
        result = sim.vote_result(rule)
        votes.append((scorer.objective(tune, result.preds[0]), feasible(sim, result), result))
    votes.sort(key=lambda x: -x[0])
    log["votes"] = [{"rule": r.name, "objective_tune": round(o, 4), "feasible": f} for o, f, r in votes]
    log["lingua_r"] = sim.lingua_r_info
    results["vote"] = votes[0][2]
    feasible_votes = [r for _, f, r in votes if f]
    if feasible_votes:
        results["vote_feasible"] = feasible_votes[0]
    fast = [r for _, _, r in votes if not r.rule.lingua_below and set(r.detectors) <= {"ft", "cld3", "cld2", "cld2_best"}]
    results["vote_fast"] = fast[0]  # raw lid.176 instead of curate_nold: no Python-side overhead
    with_lingua = [r for _, _, r in votes if r.rule.lingua_below]
    results["vote+lingua_r"] = with_lingua[0]
    # table-free baselines for the vote: CLD2 (bestEffort) first, curate_nold when it has nothing
    switches = [sim.switch_result("cld2_best", "curate_nold", rel) for rel in (False, True)]
    results["switch"] = max(switches, key=lambda r: scorer.objective(tune, r.preds[0]))

    for result in results.values():
        result.objective_tune = scorer.objective(tune, result.preds[0])
    candidates = [n for n in results if n not in DETECTORS and feasible(sim, results[n])]
    recommended = max(candidates, key=lambda n: results[n].objective_tune) if candidates else "cascade"
    results["RECOMMENDED"] = results[recommended]
    print(f"rule search: {time.perf_counter() - start:.0f}s; recommended (best feasible on TUNE): "
          f"{results[recommended].name}")

    # lingua restricted vs renormalized: the best cascade that restricts lingua (k = 1, 3 or 5),
    # simulated with renormalized all-language confidences, rerun with real restricted detectors
    restricted = None
    best_k = next((r for _, f, r in scored if r.k is not None and f), None) or next(r for _, _, r in scored if r.k)
    results["cascade_k"] = sim.cascade_result(best_k)
    if best_k is not None:
        start = time.perf_counter()
        restricted = restricted_lingua(sim, dets, best_k, results["cascade_k"])
        rr = RuleResult(f"{results['cascade_k'].name} [lingua restricted]", best_k, None,
                        [restricted["halves"][h]["pred"] for h in HALVES], results["cascade_k"].uses,
                        results["cascade_k"].detectors)
        results["cascade_k_restricted"] = rr
        print(f"lingua restricted check: {time.perf_counter() - start:.0f}s, {restricted['distinct_sets']} "
              f"candidate sets, first use {fmt(restricted['first_use_s_mean'], 4)} s each")

    for result in results.values():
        result.objective_tune = scorer.objective(tune, result.preds[0])

    # reports
    reports: dict[str, dict[str, dict]] = {}
    for name, result in results.items():
        own = scorer.own_group(result.detectors)
        reports[name] = {}
        for h, half in enumerate(scorer.halves):
            lingua_secs = None
            if name == "cascade_k_restricted" and restricted is not None:
                timing = restricted["halves"][HALVES[h]]["timing"]
                lingua_secs = np.array([timing[b].get("restricted_s", 0.0) for b in BUCKETS])
            reports[name][half.name] = scorer.report(half, result.preds[h], own, sim.rule_secs(result, h, lingua_secs))
            reports[name][half.name]["consulted_share"] = {d: dict(zip(BUCKETS, s.tolist(), strict=True))
                                                         for d, s in result.uses[h].items()}

    shown = [*DETECTORS, "cascade", "cascade_b", "cascade+addon", "cascade_b+addon", "curate_nold+addon", "switch",
             "vote", "vote_feasible", "vote_fast", "vote+lingua_r", "cascade_k", "cascade_k_restricted", "RECOMMENDED"]
    shown = [s for s in shown if s in reports]
    for half in HALVES:
        sizes = reports["ft"][half]["group_sizes"]
        print_summary([(s, reports[s][half]) for s in shown], half, sizes)
    print("\nrules:")
    for s in shown:
        if s not in DETECTORS:
            print(f"  {s}: {results[s].name}  (TUNE objective {results[s].objective_tune:.4f}, "
                  f"feasible {feasible(sim, results[s])})")

    lacking = sorted({scorer.codes[s] for s in range(scorer.n_stems)} - lid176_codes())
    focus_reps = ["ft", "curate", "lingua_all", "cld3", "cld2_best", "RECOMMENDED"]
    for half in HALVES:
        print_languages("confusable groups", CONFUSABLE_FOCUS, {n: reports[n][half] for n in focus_reps}, half)
    for half in HALVES:
        print_languages("languages lid.176 lacks", lacking, {n: reports[n][half] for n in ("cld3", "cld2_best",
                        "lingua_all", "RECOMMENDED")}, half)
    # false positives into the lid.176-lacking languages, per bucket, for the rules with an addon
    fp: dict[str, dict[str, dict[str, int]]] = {}
    lacking_ids = np.array([labels.id(c) for c in lacking])
    for name in ("curate_nold", "cascade", "cascade+addon", "cascade_b+addon", "curate_nold+addon", "RECOMMENDED"):
        if name not in results:
            continue
        fp[name] = {}
        for h, half in enumerate(scorer.halves):
            wrong = np.isin(results[name].preds[h], lacking_ids) & (results[name].preds[h] != half.truth)
            fp[name][half.name] = {b: int(wrong[half.bucket == i].sum()) for i, b in enumerate(BUCKETS)}
    print("\ntexts wrongly labelled as a language lid.176 lacks (false positives), per bucket "
          + "/".join(BUCKET_NAMES[b] for b in BUCKETS))
    for name, per in fp.items():
        print(f"  {name:<20} " + "  ".join(f"{h.upper()} {'/'.join(str(v) for v in per[h].values())}" for h in HALVES))
    if restricted is not None:
        print("\nlingua for cascade_k, per consulted text (speed subsample), ms: "
              "restricted (cached per candidate set) vs all-language + renormalize")
        for half in HALVES:
            timing = restricted["halves"][half]["timing"]
            cells = "  ".join(
                f"{BUCKET_NAMES[b]} {timing[b]['restricted_s'] * 1e3:.3f}/{timing[b]['all_languages_s'] * 1e3:.3f}"
                if timing[b].get("consulted") else f"{BUCKET_NAMES[b]} -" for b in BUCKETS)
            print(f"  {half.upper():<7} {cells}")

    payload = {
        "config": vars(args) | {"doc_chars": DOC_CHARS, "seed": SEED, "length_edges": LENGTH_EDGES,
                                "cascade_grid": CASCADE_GRID},
        "stems": sample.stems,
        "unspaced": sample.unspaced,
        "groups": {g: [s for s, keep in zip(sample.stems, mask, strict=True) if keep] for g, mask in scorer.groups.items()},
        "detector_codes": {n: sorted(detector_codes(n)) for n in DETECTORS},
        "unmapped_labels": unmapped_labels(),
        "load_s": dets.load_s,
        "cld2_errors": dict(cld2_errors),
        "seconds_per_text": secs,
        "search_log": log,
        "recommended": results[recommended].name,
        "recommended_vote_tables": (sim.vote_tables(results[recommended].rule)
                                    if isinstance(results[recommended].rule, Vote) else None),
        "rules": {n: r.name for n, r in results.items()},
        "reports": reports,
        "false_positives_into_lid176_lacking": fp,
        "restricted_lingua": None if restricted is None else {
            k: v for k, v in restricted.items() if k != "halves"
        } | {"timing": {h: restricted["halves"][h]["timing"] for h in HALVES}},
        "items": {
            "stem": sample.item_stem, "bucket": sample.item_bucket, "half": sample.item_half, "text": sample.item_text,
        },
        "predictions": {n: [[r[0], round(r[1], 4)] for r in raw[n]] for n in DETECTORS},
    }
    Path(args.out).write_text(json.dumps(jsonable(payload)))
    print(f"\nwrote {args.out}; whole bench {time.perf_counter() - wall:.0f}s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
