"""Language identification: lid.176 made script-aware, with langdetect as a second opinion.

`LanguageIdentifier.identify` improves on raw fastText lid.176 in three measured ways
(`bench/bench_lid.py` prints the numbers on FLORES-200 dev):

1. Script consistency. The dominant script of the text (`filters.scripts`) restricts the
   candidates to languages written in it, and fastText's probabilities are renormalized over
   them. A script only one lid.176 language uses (Greek, Hangul, Thai, Ethiopic...) decides alone.
2. Orthography hints. A few letters mark a language that lid.176.ftz under-detects: Yoruba's
   dotted ẹ ọ ṣ. A hint multiplies that language's probability; it never forces it.
3. langdetect on short texts. fastText's character n-grams have little to go on under ~40
   characters; langdetect (55 languages, fixed seed) re-divides, among its own languages, the
   probability fastText gives them. Languages langdetect does not know keep fastText's
   probability, so a short Yoruba text is never pushed to a language langdetect happens to know.

`LanguageID` is the pipeline step: it labels records (`metadata["lang"]`, `["lang_score"]`,
`["script"]`), identifies chat records turn by turn, keeps the languages asked for above
per-language minimum scores, and counts confusable pairs instead of merging them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datatrove.data import Document
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from curation.errors import RecipeError
from curation.languages import (
    are_confusable,
    confusable_with,
    lang_tag,
    language,
    normalize_lang,
    split_tag,
)
from curation.steps import Filter, SideOutputs, record_lang
from filters.detectors import cld3_languages, cld3_top, lingua_confidences, lingua_languages
from filters.fasttext_lid import FastTextLID, LabelStyle
from filters.scripts import NO_SCRIPT, dominant_script, script_counts

UNDETERMINED = "und"

# Below this many characters a text is "short": fastText is unreliable there and langdetect helps.
DEFAULT_SHORT_TEXT_CHARS = 40
# How far langdetect moves the probability among its languages (0: not at all, 1: all the way).
LANGDETECT_WEIGHT = 0.5
# Longer texts get langdetect's opinion too when fastText's best candidate is below this.
UNSURE_BELOW = 0.5
# langdetect reads this much of a long text: enough to be sure, bounded cost (~1 ms).
LANGDETECT_MAX_CHARS = 400
# fastText candidates kept for long texts; short texts and hinted texts get all 176 (cheap there).
_TOP_K_LONG = 10
# Top two candidates in one confusable group with the second at least this share of the first
# are reported as a confusable pair.
CONFUSABLE_RATIO = 1 / 3
# A chat turn needs this many letters before its language can contradict the record's.
# Fewer letters than this say too little to judge a text's language ("Habari?", "Ndiyo.").
MIN_LETTERS_TO_JUDGE = 20

# Letters that mark a language lid.176.ftz under-detects, and how much they multiply its
# probability. Yoruba: ẹ ọ ṣ (dot below) and ǹ (a syllabic n with a low tone: "nǹkan"). lid.176
# puts short Yoruba at ~1e-3 behind Catalan (0.97 for "Ṣe àlàyé bí a ṣe ń gbin àgbàdo."), so the
# boost must be large: on FLORES yor, x1000 reads 0.78/0.65/0.47 (full/<=40/<=20 chars) against
# 0.74/0.51/0.39 for x50. Vietnamese also has ẹ ọ, but lid.176 is sure of Vietnamese (~1e-6 for
# Yoruba there): its accuracy is unchanged even at x5000.
ORTHOGRAPHY_HINTS: dict[str, tuple[re.Pattern[str], float]] = {
    "yor": (re.compile("[ẹọṣẸỌṢǹǸ]"), 1000.0),
}

# lingua is asked among fastText's best LINGUA_CANDIDATES (and the best one's confusable group)
# when a text is short, fastText's best is below LINGUA_WHEN_BELOW, or the best two are confusable.
LINGUA_CANDIDATES = 10
LINGUA_WHOLE_SCRIPT_BELOW = 0.5
LINGUA_WHEN_BELOW = 0.9
LINGUA_WEIGHT = 0.8

# CLD3 vouches for a language the model cannot output (Hausa, Igbo, Zulu... for lid.176) when it is
# at least this sure and the model's best guess is below VOUCH_WHEN_MODEL_BELOW (lid.176 gives
# Hausa sentences 0.1-0.4 spread over English, Swahili, Esperanto...; CLD3 names 499/500 of them).
VOUCH_MIN_PROBABILITY = 0.9
VOUCH_WHEN_MODEL_BELOW = 0.8

# Scripts no lid.176 language is written in, but which name one language in practice.
SCRIPT_ONLY_LANGUAGES = {"Olck": "sat", "Nkoo": "nqo", "Tfng": "tzm"}

_LANGDETECT_LABELS = {"zh-cn": "zho", "zh-tw": "zho"}


@dataclass(frozen=True)
class Identification:
    """The language of one text: `lang` is `<iso639_3>_<Script>` (`swh_Latn`), `und_Zyyy` if unknown."""

    lang: str
    score: float
    script: str
    candidates: list[tuple[str, float]] = field(default_factory=list)

    @property
    def code(self) -> str:
        """The ISO 639-3 part of `lang`."""
        return split_tag(self.lang)[0]

    def confusable_pair(self) -> tuple[str, str] | None:
        """The top two candidates, sorted, when they are a close call inside one confusable group."""
        if len(self.candidates) < 2:
            return None
        (first, p1), (second, p2) = self.candidates[:2]
        a, b = split_tag(first)[0], split_tag(second)[0]
        if are_confusable(a, b) and p2 >= CONFUSABLE_RATIO * p1:
            return (a, b) if a < b else (b, a)
        return None


@functools.cache
def _langdetect_factory() -> Any:
    # A private factory with its own seed, so we neither mutate nor depend on langdetect's global.

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)
    return factory


@functools.cache
def langdetect_languages() -> frozenset[str]:
    """Canonical codes of the languages langdetect knows."""
    return frozenset(_langdetect_code(label) for label in _langdetect_factory().get_lang_list())


def _langdetect_code(label: str) -> str:
    return _LANGDETECT_LABELS.get(label) or normalize_lang(label)


def fasttext_distribution(text: str, k: int) -> dict[str, float]:
    """The bundled lid.176's top-k probabilities by canonical code (-1: all 176)."""
    return _bundled_model().distribution(text, k)


@functools.cache
def _bundled_model() -> FastTextLID:
    return FastTextLID()


def langdetect_distribution(text: str) -> dict[str, float]:
    """langdetect's probabilities by canonical code; empty when it finds no features."""
    detector = _langdetect_factory().create()
    detector.append(text)
    try:
        return {_langdetect_code(p.lang): p.prob for p in detector.get_probabilities()}
    except LangDetectException:
        return {}


def written_in(code: str, script: str) -> bool:
    """Whether `code` is written in `script`; a code curate's table does not know (a plugged
    model's verbatim label) could be written in any."""
    try:
        return script in language(code).scripts
    except ValueError:
        return True


def script_consistent(dist: dict[str, float], script: str) -> dict[str, float]:
    """The candidates written in `script`, renormalized; `dist` itself when none is."""
    kept = {code: p for code, p in dist.items() if written_in(code, script)}
    total = sum(kept.values())
    if total <= 0:
        return dist
    return {code: p / total for code, p in kept.items()}


@functools.cache
def languages_in_script(script: str, model: FastTextLID | None = None) -> frozenset[str]:
    """The languages a model (default: lid.176) can output that are written in `script`."""
    return frozenset(code for code in (model or _bundled_model()).languages() if written_in(code, script))


def hinted_languages(text: str) -> list[str]:
    """Languages whose marking letters appear in the text (NFC, so e + U+0323 counts as ẹ)."""
    if text.isascii():
        return []
    nfc = unicodedata.normalize("NFC", text)
    return [code for code, (pattern, _) in ORTHOGRAPHY_HINTS.items() if pattern.search(nfc)]


def apply_hints(dist: dict[str, float], hinted: list[str]) -> dict[str, float]:
    if not hinted:
        return dist
    boosted = dict(dist)
    for code in hinted:
        boosted[code] = boosted.get(code, 0.0) * ORTHOGRAPHY_HINTS[code][1]
    total = sum(boosted.values())
    return {code: p / total for code, p in boosted.items()}


def blend(dist: dict[str, float], second: dict[str, float], weight: float) -> dict[str, float]:
    """Re-divide the mass `dist` gives `second`'s languages by `second`'s opinion (weight 0: not at
    all, 1: all the way); every other language keeps its probability, and the total stays 1."""
    mass = sum(dist.get(code, 0.0) for code in second)
    total = sum(second.values())
    if total <= 0 or mass <= 0:
        return dist
    blended = dict(dist)
    for code, p in second.items():
        blended[code] = (1 - weight) * dist.get(code, 0.0) + weight * mass * p / total
    return blended


def blend_langdetect(dist: dict[str, float], second: dict[str, float], weight: float) -> dict[str, float]:
    """Re-divide fastText's mass on langdetect's languages by langdetect's opinion.

    Each langdetect language gets `(1 - weight) * p_fasttext + weight * mass * p_langdetect`,
    where `mass` is what fastText gives langdetect's languages together; every other language
    keeps its fastText probability. The total stays 1.
    """
    second = {code: p for code, p in second.items() if code in dist}  # script-consistent ones
    total = sum(second.values())
    if total <= 0:
        return dist
    known = langdetect_languages()
    mass = sum(p for code, p in dist.items() if code in known)
    blended = {code: (1 - weight) * p if code in known else p for code, p in dist.items()}
    for code, p in second.items():
        blended[code] += weight * mass * p / total
    return blended


def tag_script(code: str, script: str) -> str:
    """The script written in a tag: the text's, except that Han text in Japanese is Jpan."""
    if script == NO_SCRIPT:
        return language(code).script
    if code == "jpn" and script == "Hani":
        return "Jpan"
    return script


class LanguageIdentifier:
    """lid.176 + script consistency + orthography hints + langdetect on short texts.

    Picklable: the models load on first `identify`, once per process.
    """

    def __init__(
        self,
        short_text_chars: int = DEFAULT_SHORT_TEXT_CHARS,
        use_langdetect: bool = False,
        langdetect_weight: float = LANGDETECT_WEIGHT,
        unsure_below: float = UNSURE_BELOW,
        use_script: bool = True,
        use_hints: bool = True,
        top_candidates: int = 5,
        model: FastTextLID | None = None,
        vouch: bool = True,
        use_lingua: bool = True,
        lingua_weight: float = LINGUA_WEIGHT,
    ):
        self.use_lingua = use_lingua
        self.lingua_weight = lingua_weight
        self.model = model or _bundled_model()
        # Languages only CLD3 knows: it vouches for them (see `_vouched`); their scripts bound when it is asked.
        self.vouch_for = cld3_languages() - self.model.languages() if vouch else frozenset()
        self._vouch_scripts = frozenset(s for code in self.vouch_for for s in language(code).scripts)
        self.short_text_chars = short_text_chars
        self.use_langdetect = use_langdetect
        self.langdetect_weight = langdetect_weight
        self.unsure_below = unsure_below
        self.use_script = use_script
        self.use_hints = use_hints
        self.top_candidates = top_candidates

    def identify(self, text: str) -> Identification:
        script, share = dominant_script(text)
        if script == NO_SCRIPT:
            return Identification(lang_tag(UNDETERMINED, NO_SCRIPT), 0.0, NO_SCRIPT)
        if self.use_script:
            decided = self._decide_by_script(script, share)
            if decided is not None:
                return decided
        short = len(text.strip()) < self.short_text_chars
        hinted = hinted_languages(text) if self.use_hints else []
        raw = self._model_distribution(text, short or bool(hinted))
        dist = self._corrected(raw, text, script, short, hinted)
        ranked = sorted(dist.items(), key=lambda item: item[1], reverse=True)[: self.top_candidates]
        candidates = [(lang_tag(code, tag_script(code, script)), p) for code, p in ranked]
        lang, score = candidates[0]
        # The model's own certainty decides whether CLD3 is asked: a hint (Yoruba's dot-below
        # letters) makes the corrected answer sure of a guess when the text is Igbo.
        vouched = self._vouched(text, script, max(raw.values(), default=0.0), candidates)
        return vouched or Identification(lang, score, script, candidates)

    def languages(self) -> frozenset[str]:
        """Every code this identifier can answer: the model's, and those CLD3 vouches for."""
        return self.model.languages() | self.vouch_for | frozenset(SCRIPT_ONLY_LANGUAGES.values())

    def _vouched(self, text: str, script: str, best: float,
                 candidates: list[tuple[str, float]]) -> Identification | None:
        """CLD3's answer when it names, surely, a language the model cannot output (Hausa for
        lid.176) while the model is unsure: the model's answer for such a text is a guess."""
        if best >= VOUCH_WHEN_MODEL_BELOW or script not in self._vouch_scripts:
            return None
        code, p, reliable = cld3_top(text)
        if code not in self.vouch_for or p < VOUCH_MIN_PROBABILITY or not reliable:
            return None
        tag = lang_tag(code, script)
        return Identification(tag, p, script, [(tag, p), *candidates])

    def distribution(self, text: str, script: str) -> dict[str, float]:
        """Probabilities by canonical code after every enabled correction."""
        short = len(text.strip()) < self.short_text_chars
        hinted = hinted_languages(text) if self.use_hints else []
        return self._corrected(self._model_distribution(text, short or bool(hinted)), text, script, short, hinted)

    def _model_distribution(self, text: str, every_label: bool) -> dict[str, float]:
        return self.model.distribution(text, -1 if every_label else _TOP_K_LONG)

    def _corrected(self, dist: dict[str, float], text: str, script: str, short: bool,
                   hinted: list[str]) -> dict[str, float]:
        """The model's distribution after script consistency, orthography hints and langdetect."""
        if self.use_script:
            dist = script_consistent(dist, script)
        dist = apply_hints(dist, hinted)
        if self.use_lingua:
            dist = self._ask_lingua(dist, text, script, short)
        if self._wants_second_opinion(dist, script, short):
            second = langdetect_distribution(text[:LANGDETECT_MAX_CHARS])
            dist = blend_langdetect(dist, second, self.langdetect_weight)
        return dist

    def _ask_lingua(self, dist: dict[str, float], text: str, script: str, short: bool) -> dict[str, float]:
        """lingua's opinion among fastText's candidates, when the text is short, fastText is unsure
        or its two best are confusable neighbours: the mass of the candidates lingua knows is
        re-divided by lingua's confidence (weighted by `lingua_weight`)."""
        if not dist:
            return dist
        ranked = sorted(dist.items(), key=lambda item: item[1], reverse=True)[:LINGUA_CANDIDATES]
        (best, p_best), second = ranked[0], ranked[1] if len(ranked) > 1 else (None, 0.0)
        if not (short or p_best < LINGUA_WHEN_BELOW or (second[0] and are_confusable(best, second[0]))):
            return dist
        candidates = frozenset(code for code, _ in ranked) | confusable_with(best)
        if short and p_best < LINGUA_WHOLE_SCRIPT_BELOW:  # fastText's top list often misses a word's language
            candidates |= lingua_languages() & languages_in_script(script, self.model)
        confidences = lingua_confidences(text[:LANGDETECT_MAX_CHARS], candidates)
        return blend(dist, confidences, self.lingua_weight) if confidences else dist

    def _wants_second_opinion(self, dist: dict[str, float], script: str, short: bool) -> bool:
        if not self.use_langdetect or not self._langdetect_can_help(script) or not dist:
            return False
        # langdetect can only vote for its own 55 languages, so a text fastText puts in another
        # language (Asturian, Malay, Yoruba...) would only be pulled towards a neighbour it knows.
        best, p_best = max(dist.items(), key=lambda item: item[1])
        if best not in langdetect_languages():
            return False
        return short or p_best < self.unsure_below

    def _decide_by_script(self, script: str, share: float) -> Identification | None:
        # A script only one lid.176 language is written in names the language; the score is the
        # share of letters in that script, since the rest of the text may be something else.
        if script in SCRIPT_ONLY_LANGUAGES:
            code = SCRIPT_ONLY_LANGUAGES[script]
        else:
            candidates = languages_in_script(script, self.model)
            if len(candidates) > 1:
                return None
            code = next(iter(candidates), UNDETERMINED)
        tag = lang_tag(code, script if code == UNDETERMINED else tag_script(code, script))
        score = 0.0 if code == UNDETERMINED else share
        return Identification(tag, score, script, [(tag, score)])

    def _langdetect_can_help(self, script: str) -> bool:
        return len(languages_in_script(script, self.model) & langdetect_languages()) > 1


def letter_count(text: str) -> int:
    return int(script_counts(text).sum())


@dataclass(frozen=True)
class LanguageCheck:
    """What `in_language` found for one text: `found` is None when it was too short to judge."""

    target: str
    found: Identification | None

    @property
    def judged(self) -> bool:
        return self.found is not None

    @property
    def matches(self) -> bool:
        """Judged, and identified as the target language."""
        return self.found is not None and self.found.code == self.target


@functools.cache
def default_identifier() -> LanguageIdentifier:
    """One identifier per process for `in_language` (models load on first use)."""
    return LanguageIdentifier()


def is_judgeable(text: str, min_letters: int = MIN_LETTERS_TO_JUDGE) -> bool:
    """Whether a text has letters enough for LID to say something about its language."""
    return letter_count(text) >= min_letters


def in_language(text: str, code: str, min_letters: int = MIN_LETTERS_TO_JUDGE,
                identifier: LanguageIdentifier | None = None) -> LanguageCheck:
    """Is `text` in language `code` (canonical ISO 639-3)? The one check that LID's per-turn rule,
    the verification of generated records and training's sample answers all ask."""
    if not is_judgeable(text, min_letters):
        return LanguageCheck(code, None)
    return LanguageCheck(code, (identifier or default_identifier()).identify(text))


# Minimum LID score per language, below the generic default where lid.176 is measurably less
# sure of correct answers: the 10th percentile of our score on correctly identified FLORES-200 dev
# sentences (bench/bench_lid.py data, 100 per language), floored to 0.05 and to 0.25. A single
# 0.65 (FineWeb's English threshold) keeps only 42% of correctly identified Swahili sentences and
# 65% of Yoruba ones; these keep ~90%. Documents are longer than sentences and score higher, so
# the table errs towards keeping.
DEFAULT_MIN_SCORE = 0.65
# Languages lid.176 knows but FLORES does not measure are mostly small ones: a middle default.
UNMEASURED_MIN_SCORE = 0.5
MEASURED_MIN_SCORES: dict[str, float] = {
    "grn": 0.25, "hat": 0.25, "jav": 0.25, "lim": 0.25, "lmo": 0.25, "min": 0.25, "plt": 0.25,
    "quy": 0.25, "scn": 0.25, "sun": 0.25, "uzn": 0.25, "vec": 0.25, "gla": 0.35, "hrv": 0.35,
    "war": 0.35, "yor": 0.35, "ast": 0.4, "gle": 0.4, "mlt": 0.4, "nno": 0.4, "pbt": 0.4, "som": 0.4,
    "tuk": 0.4, "azb": 0.45, "ilo": 0.45, "oci": 0.45, "afr": 0.5, "ltz": 0.5, "san": 0.5, "slv": 0.5,
    "snd": 0.5, "swh": 0.5, "zsm": 0.5, "bak": 0.55, "ceb": 0.55, "glg": 0.55, "ind": 0.55,
    "nob": 0.55, "tgk": 0.55, "kir": 0.6, "npi": 0.6, "slk": 0.6,
}
# Measured at or above DEFAULT_MIN_SCORE: the well-served languages keep the generic threshold.
_MEASURED_AT_DEFAULT = frozenset(
    [
        "als", "amh", "arb", "asm", "azj", "bel", "ben", "bod", "bul", "cat", "ces", "ckb", "cym",
        "dan", "deu", "ell", "eng", "epo", "est", "eus", "fin", "fra", "guj", "heb", "hin", "hun",
        "hye", "isl", "ita", "jpn", "kan", "kat", "kaz", "khk", "khm", "kmr", "kor", "lao", "lit",
        "lvs", "mal", "mar", "mkd", "mya", "nld", "ory", "pan", "pes", "pol", "por", "ron", "rus",
        "sin", "spa", "srp", "swe", "tam", "tat", "tel", "tgl", "tha", "tur", "uig", "ukr", "urd",
        "vie", "ydd", "zho",
    ]
)


def default_min_score(code: str) -> float:
    """The built-in minimum score for a canonical code (see MEASURED_MIN_SCORES)."""
    if code in MEASURED_MIN_SCORES:
        return MEASURED_MIN_SCORES[code]
    return DEFAULT_MIN_SCORE if code in _MEASURED_AT_DEFAULT else UNMEASURED_MIN_SCORE


class LanguageID(Filter):
    """Label every record with its language; keep the languages asked for, above their minimum score.

    Writes `metadata["lang"]` (`swh_Latn`), `["lang_score"]` and `["script"]`. Chat records
    (`metadata["messages"]`) are identified turn by turn (`metadata["turn_langs"]`) and take the
    language of most characters of their non-system turns. Drop reasons: `lang_not_kept`,
    `lang_low_score`, `turn_lang_mismatch` (a turn of >= 20 letters confidently in a language
    outside the record's confusable group). Close calls between confusable languages are counted
    as `confusable/<a>~<b>`, never merged.

    keep: codes in any form `normalize_lang` takes (`sw`, `swh`, `swh_Latn`); a script in the code
        restricts to that script. None keeps every language that passes its minimum score.
    min_score: one threshold for all languages, or per-language overrides of the defaults
        (`default_min_score`). None: the defaults.
    label_only: label and keep everything (scoring without deciding).
    """

    name = "lid"
    score_prefix = "lid."  # its one score is `lang_score`, recorded as `lid.score` for the report

    def __init__(
        self,
        keep: list[str] | None = None,
        min_score: float | dict[str, float] | None = None,
        label_only: bool = False,
        per_turn: bool = True,
        short_text_chars: int = DEFAULT_SHORT_TEXT_CHARS,
        use_langdetect: bool = False,
        use_lingua: bool = True,
        model: str | None = None,
        labels: LabelStyle = "auto",
        outputs: SideOutputs | None = None,
    ):
        super().__init__(outputs)
        self.identifier = LanguageIdentifier(short_text_chars=short_text_chars, use_langdetect=use_langdetect,
                                             use_lingua=use_lingua, model=FastTextLID(model, labels) if model else None)
        known = self.identifier.languages()
        self.keep_langs = None if keep is None else [_parse_keep(code, known) for code in keep]
        self.min_score = min_score if isinstance(min_score, float | int | None) else {
            _recipe_code(code, known): float(score) for code, score in min_score.items()
        }
        self.label_only = label_only
        self.per_turn = per_turn

    def threshold(self, code: str) -> float:
        """The minimum score a record in language `code` needs."""
        if isinstance(self.min_score, float | int):
            return float(self.min_score)
        if isinstance(self.min_score, dict) and code in self.min_score:
            return self.min_score[code]
        return default_min_score(code)

    def scores_to_record(self, doc: Document) -> dict[str, float]:
        score = doc.metadata.get("lang_score")
        return {} if score is None or self.label_only else {"lid.score": score}

    def declare_thresholds(self, doc: Document, recorder: Any) -> None:
        lang = record_lang(doc)
        if not self.label_only and self._is_kept_language(lang):
            recorder.declare("lid.score", min=self.threshold(lang.split("_")[0]), lang=lang)

    def keep(self, doc: Document) -> bool | tuple[bool, str]:
        record = self.label(doc)
        if self.label_only:
            return True
        if not self._is_kept_language(record.lang):
            return False, "lang_not_kept"
        if record.score < self.threshold(record.code):
            return False, "lang_low_score"
        if self._has_foreign_turn(doc, record.code):
            return False, "turn_lang_mismatch"
        return True

    def label(self, doc: Document) -> Identification:
        """Identify the record and write its language to metadata."""
        messages = doc.metadata.get("messages") if self.per_turn else None
        if isinstance(messages, list) and messages:
            record = self._identify_turns(doc, messages)
        else:
            record = self.identifier.identify(doc.text)
            self._count_confusable(record)
        doc.metadata["lang"] = record.lang
        doc.metadata["lang_score"] = round(record.score, 4)
        doc.metadata["script"] = record.script
        return record

    def _identify_turns(self, doc: Document, messages: list[dict]) -> Identification:
        turns = [self.identifier.identify(_content(m)) for m in messages]
        for turn in turns:
            self._count_confusable(turn)
        doc.metadata["turn_langs"] = [turn.lang for turn in turns]
        doc.metadata["turn_lang_scores"] = [round(turn.score, 4) for turn in turns]
        # The record's language is the one most characters of the conversation are in.
        chars: dict[str, int] = defaultdict(int)
        for message, turn in zip(messages, turns, strict=True):
            if message.get("role") != "system":
                chars[turn.lang] += len(_content(message))
        if not chars or max(chars.values()) == 0:
            return self.identifier.identify(doc.text)
        lang = max(chars, key=chars.__getitem__)
        # Scored on its turns together: a short question beside a long answer says little alone.
        together = " ".join(
            _content(m) for m, t in zip(messages, turns, strict=True) if m.get("role") != "system" and t.lang == lang
        )
        joint = self.identifier.identify(together)
        score = joint.score if joint.lang == lang else min(t.score for t in turns if t.lang == lang)
        return Identification(lang, score, split_tag(lang)[1], [(lang, score)])

    def _has_foreign_turn(self, doc: Document, code: str) -> bool:
        messages = doc.metadata.get("messages") if self.per_turn else None
        langs, scores = doc.metadata.get("turn_langs"), doc.metadata.get("turn_lang_scores")
        if not isinstance(messages, list) or not langs:
            return False
        for message, lang, score in zip(messages, langs, scores, strict=True):
            turn_code = split_tag(lang)[0]
            if message.get("role") == "system" or turn_code in (code, UNDETERMINED):
                continue
            if are_confusable(turn_code, code) or not is_judgeable(_content(message)):
                continue
            if score >= self.threshold(turn_code):
                return True
        return False

    def _is_kept_language(self, lang: str) -> bool:
        if self.keep_langs is None:
            return split_tag(lang)[0] != UNDETERMINED
        code, script = split_tag(lang)
        return any(code == want and (want_script is None or script == want_script)
                   for want, want_script in self.keep_langs)

    def _count_confusable(self, identification: Identification) -> None:
        pair = identification.confusable_pair()
        if pair is not None:
            self.stat_update(f"confusable/{pair[0]}~{pair[1]}")


def _content(message: dict) -> str:
    content = message.get("content")
    return content if isinstance(content, str) else ""


_SCRIPT_ALIASES = {"Hans": "Hani", "Hant": "Hani"}


def _recipe_code(code: str, known: frozenset[str] = frozenset()) -> str:
    """A language code from the recipe, canonical (or as a plugged model writes it); an unknown one
    is the recipe's error."""
    try:
        return normalize_lang(code)
    except ValueError as e:
        if code.strip().lower() in known:  # a plugged model's label curate's table does not name
            return code.strip().lower()
        raise RecipeError(str(e)) from None


def _parse_keep(code: str, known: frozenset[str]) -> tuple[str, str | None]:
    """A keep-list entry -> (canonical code, script or None); refuses languages no detector can see."""
    canonical = _recipe_code(code, known)
    if canonical not in known:
        raise RecipeError(
            f"no language detector of this step can identify {_name(canonical)} ({canonical}), so keeping {code!r} "
            "would drop every record; plug a LID model that covers it (`model:` a GlotLID or OpenLID file) or "
            "remove it from `keep` (`curate lid --list` shows the languages)"
        )
    parts = code.strip().replace("-", "_").split("_")
    script = parts[1] if len(parts) == 2 and len(parts[1]) == 4 and parts[1].istitle() else None
    return canonical, _SCRIPT_ALIASES.get(script, script) if script else None


def _name(code: str) -> str:
    try:
        return language(code).name
    except ValueError:
        return code


def language_table(model: str | None = None, labels: LabelStyle = "auto") -> list[dict[str, str]]:
    """Every language the `lid` step can keep with this model, and which detector vouches for it
    (what `curate lid --list` prints): code, name, scripts, `model` or `CLD3` or `script`."""
    identifier = LanguageIdentifier(model=FastTextLID(model, labels) if model else None)
    model_name = Path(model).name if model else "lid.176"
    rows = []
    for code in sorted(identifier.languages()):
        if code in identifier.model.languages():
            source = model_name
        elif code in identifier.vouch_for:
            source = "CLD3"
        else:
            source = "script"
        try:
            lang = language(code)
            name, scripts = lang.name, " ".join(lang.scripts)
        except ValueError:  # a plugged model's label curate's table does not know
            name, scripts = code, "?"
        rows.append({"code": code, "name": name, "scripts": scripts, "vouched by": source})
    return rows
