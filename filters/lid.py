"""Language identification: an ensemble of fastText lid.176, CLD2 and lingua.

`LanguageIdentifier.identify`, measured on FLORES-200 dev by text length
(`bench/bench_lid_ensemble.py`, README):

1. Script. The dominant script of the text (`filters.scripts`) restricts the candidates to
   languages written in it; a script only one known language uses (Greek, Hangul, Thai...)
   decides alone.
2. fastText, script-consistent: the model's probabilities renormalized over the candidates
   written in the text's script, with orthography hints (Yoruba's dot-below letters) for
   languages lid.176 under-detects.
3. The vote (`filters.lid_vote`): fastText's best label, CLD2's, and on texts under 25
   characters lingua's choice among their candidates, each weighted by that detector's measured
   precision for the label at the text's length. The union of their labels can be kept: CLD2
   knows languages lid.176 lacks (Hausa, Igbo, Zulu...).

A plugged fastText model (`model:`) answers alone (steps 1-2) unless `ensemble: true`: the vote's
weights were measured for lid.176. langdetect can still be blended into the model's distribution
on short or unsure texts (`use_langdetect`), as before the ensemble.

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
from filters.detectors import cld2_languages, cld2_top, lingua_languages, lingua_top, require_detectors
from filters.fasttext_lid import FastTextLID, LabelStyle
from filters.lid_reliability import MIN_SCORES, RELIABILITY
from filters.lid_vote import LINGUA_BELOW, Ballot, Reliability, confidence, length_class, tally
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

# lingua chooses among this many of the model's best candidates (with CLD2's and their neighbours).
LINGUA_FROM_MODEL = 3

# Scripts no lid.176 language is written in, but which name one language in practice.
SCRIPT_ONLY_LANGUAGES = {"Olck": "sat", "Nkoo": "nqo", "Tfng": "tzm"}

_LANGDETECT_LABELS = {"zh-cn": "zho", "zh-tw": "zho"}


@dataclass(frozen=True)
class Identification:
    """The language of one text: `lang` is `<iso639_3>_<Script>` (`swh_Latn`), `und_Zyyy` if unknown.

    `score` is how sure the identifier is; `candidates` are the model's best labels with its
    probabilities, `lang` first (the ensemble may choose a label the model ranked lower).
    """

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


@functools.lru_cache(maxsize=8192)
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
    """Script, script-consistent fastText with hints, then the vote of fastText, CLD2 and lingua.

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
        ensemble: bool | None = None,
        reliability: Reliability | None = None,
    ):
        self.model = model or _bundled_model()
        # The vote's weights were measured for lid.176; a plugged model answers alone unless asked.
        self.ensemble = model is None if ensemble is None else ensemble
        if self.ensemble:
            require_detectors()
        self.reliability = RELIABILITY if reliability is None else reliability
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
        dist = self.distribution(text, script)
        ranked = sorted(dist.items(), key=lambda item: item[1], reverse=True)[: self.top_candidates]
        if not self.ensemble or not ranked:
            candidates = [(lang_tag(code, tag_script(code, script)), p) for code, p in ranked]
            if not candidates:
                return Identification(lang_tag(UNDETERMINED, script), 0.0, script)
            return Identification(*candidates[0], script, candidates)
        ballots = self.ballots(text, [code for code, _ in ranked])
        cls = length_class(text)
        winner = tally(ballots, cls, self.reliability)[0][0]
        score = confidence(winner, ballots, dist)
        # The winner first, then fastText's other candidates, each with fastText's probability:
        # `confusable_pair` compares the top two on one scale.
        ranked = [(winner, dist.get(winner, 0.0)), *((code, p) for code, p in ranked if code != winner)]
        candidates = [(lang_tag(code, tag_script(code, script)), p) for code, p in ranked]
        return Identification(candidates[0][0], score, script, candidates)

    def ballots(self, text: str, model_ranked: list[str]) -> list[Ballot]:
        """Each voter's label for `text`, given the model's ranked candidates (see `filters.lid_vote`)."""
        ballots = [Ballot("fasttext", model_ranked[0])]
        cld2 = cld2_top(text)
        if cld2 is not None:
            ballots.append(Ballot("cld2", cld2))
        if len(text.strip()) < LINGUA_BELOW:
            named = [*model_ranked[:LINGUA_FROM_MODEL], *([cld2] if cld2 else [])]
            candidates = frozenset(c for code in named for c in (code, *confusable_with(code)))
            found = lingua_top(text, candidates)
            if found is not None:
                ballots.append(Ballot("lingua", found[0]))
        return ballots

    def languages(self) -> frozenset[str]:
        """Every code this identifier can answer: the model's, CLD2's in the ensemble, and
        those a script names alone."""
        voters = cld2_languages() if self.ensemble else frozenset()
        return self.model.languages() | voters | frozenset(SCRIPT_ONLY_LANGUAGES.values())

    def distribution(self, text: str, script: str) -> dict[str, float]:
        """The model's probabilities by canonical code, script-consistent, hinted (and with
        langdetect's opinion blended in when asked)."""
        short = len(text.strip()) < self.short_text_chars
        hinted = hinted_languages(text) if self.use_hints else []
        dist = self.model.distribution(text, -1 if short or hinted else _TOP_K_LONG)
        if self.use_script:
            dist = script_consistent(dist, script)
        dist = apply_hints(dist, hinted)
        if self._wants_second_opinion(dist, script, short):
            second = langdetect_distribution(text[:LANGDETECT_MAX_CHARS])
            dist = blend_langdetect(dist, second, self.langdetect_weight)
        return dist

    def _wants_second_opinion(self, dist: dict[str, float], script: str, short: bool) -> bool:
        if not self.use_langdetect or not self._langdetect_can_help(script) or not dist:
            return False
        # langdetect can only vote for its own 55 languages, so a text fastText puts in another
        # language (Asturian, Malay, Yoruba...) would only be pulled towards a neighbour it knows.
        best, p_best = max(dist.items(), key=lambda item: item[1])
        if best not in langdetect_languages():
            return False
        return short or p_best < self.unsure_below

    def _script_languages(self, script: str) -> frozenset[str]:
        """The languages this identifier can answer that are written in `script`."""
        known = languages_in_script(script, self.model)
        return known | cld2_in_script(script) if self.ensemble else known

    def _decide_by_script(self, script: str, share: float) -> Identification | None:
        # A script only one known language is written in names the language; the score is the
        # share of letters in that script, since the rest of the text may be something else.
        if script in SCRIPT_ONLY_LANGUAGES:
            code = SCRIPT_ONLY_LANGUAGES[script]
        else:
            candidates = self._script_languages(script)
            if len(candidates) > 1:
                return None
            code = next(iter(candidates), UNDETERMINED)
        tag = lang_tag(code, script if code == UNDETERMINED else tag_script(code, script))
        score = 0.0 if code == UNDETERMINED else share
        return Identification(tag, score, script, [(tag, score)])

    def _langdetect_can_help(self, script: str) -> bool:
        return len(languages_in_script(script, self.model) & langdetect_languages()) > 1


@functools.cache
def cld2_in_script(script: str) -> frozenset[str]:
    """The languages CLD2 can output that are written in `script`."""
    return frozenset(code for code in cld2_languages() if written_in(code, script))


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


# Minimum LID score per language. The ensemble's are calibrated on its own score
# (`filters.lid_reliability.MIN_SCORES`, made by bench/calibrate_lid.py on the TUNE half of
# FLORES-200 dev: see there for how). One global threshold is wrong for most languages: the
# ensemble is surer of English than of Swahili when both are right. A language the calibration
# did not measure, and every language of a plugged model answering alone, gets GENERIC_MIN_SCORE.
GENERIC_MIN_SCORE = 0.5


def default_min_score(code: str, ensemble: bool = True) -> float:
    """The built-in minimum score for a canonical code."""
    return MIN_SCORES.get(code, GENERIC_MIN_SCORE) if ensemble else GENERIC_MIN_SCORE


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
        (`default_min_score`), with `default` for the languages the map does not name. None: the defaults.
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
        ensemble: bool | None = None,
        model: str | None = None,
        labels: LabelStyle = "auto",
        outputs: SideOutputs | None = None,
    ):
        super().__init__(outputs)
        self.identifier = LanguageIdentifier(short_text_chars=short_text_chars, use_langdetect=use_langdetect,
                                             ensemble=ensemble, model=FastTextLID(model, labels) if model else None)
        known = self.identifier.languages()
        self.keep_langs = None if keep is None else [_parse_keep(code, known) for code in keep]
        self.min_score = min_score if isinstance(min_score, float | int | None) else {
            code if code == "default" else _recipe_code(code, known): float(score) for code, score in min_score.items()
        }
        self.label_only = label_only
        self.per_turn = per_turn

    def threshold(self, code: str) -> float:
        """The minimum score a record in language `code` needs."""
        if isinstance(self.min_score, float | int):
            return float(self.min_score)
        if isinstance(self.min_score, dict) and code in self.min_score:
            return self.min_score[code]
        if isinstance(self.min_score, dict) and "default" in self.min_score:
            return self.min_score["default"]
        return default_min_score(code, self.identifier.ensemble)

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


def language_table(model: str | None = None, labels: LabelStyle = "auto",
                   ensemble: bool | None = None) -> list[dict[str, str]]:
    """Every language the `lid` step can keep with this model, and the detectors that can name it
    (what `curate lid --list` prints): code, name, scripts, detectors (`lid.176 CLD2 lingua`,
    `script` for a script that names its language alone)."""
    identifier = LanguageIdentifier(model=FastTextLID(model, labels) if model else None, ensemble=ensemble)
    model_name = Path(model).name if model else "lid.176"
    voters = [(model_name, identifier.model.languages())]
    if identifier.ensemble:
        voters += [("CLD2", cld2_languages()), ("lingua", lingua_languages())]
    rows = []
    for code in sorted(identifier.languages()):
        names = " ".join(name for name, known in voters if code in known) or "script"
        try:
            lang = language(code)
            name, scripts = lang.name, " ".join(lang.scripts)
        except ValueError:  # a plugged model's label curate's table does not know
            name, scripts = code, "?"
        rows.append({"code": code, "name": name, "scripts": scripts, "detectors": names})
    return rows
