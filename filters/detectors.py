"""The second opinions curate's LID asks, each shipping its model inside its PyPI package.

    CLD3     `cld3-py` (imported as gcld3): a small neural model of ~107 languages, among them
             African languages lid.176 lacks (Hausa, Igbo, Zulu, Xhosa, Shona, Sesotho,
             Chichewa) and Maori and Samoan. curate asks it to vouch for those languages only.
    lingua   `lingua-language-detector`: n-gram models of 75 languages, the strongest on short
             text; asked to choose among the few candidates fastText found (restricted to them it
             reads ~1,000 short texts/s, against ~1,400/s over all 75 in high-accuracy mode).

Each maps its labels to curate's canonical ISO 639-3 codes; a label that does not map is left
out of the answer (and listed in `unmapped`), never guessed. Detectors load on first use, once
per process, so the steps that hold them pickle to executor workers.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import gcld3
from lingua import Language, LanguageDetectorBuilder

from curation.languages import normalize_lang

logger = logging.getLogger(__name__)

# CLD3 labels `normalize_lang` does not read (old ISO 639-1 codes, romanized variants).
_CLD3_LABELS = {"iw": "heb", "jw": "jav", "fil": "tgl", "zh-Latn": None, "ja-Latn": None, "hi-Latn": None,
                "ru-Latn": None, "bg-Latn": None, "el-Latn": None, "haw": None, "hmn": None, "und": None}
# Every label CLD3 can output (its documented list).
CLD3_LABELS = ["af", "am", "ar", "bg", "bg-Latn", "bn", "bs", "ca", "ceb", "co", "cs", "cy", "da", "de", "el", "el-Latn", "en", "eo", "es", "et", "eu", "fa", "fi", "fil", "fr", "fy", "ga", "gd", "gl", "gu", "ha", "haw", "hi", "hi-Latn", "hmn", "hr", "ht", "hu", "hy", "id", "ig", "is", "it", "iw", "ja", "ja-Latn", "jv", "ka", "kk", "km", "kn", "ko", "ku", "ky", "la", "lb", "lo", "lt", "lv", "mg", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "ne", "nl", "no", "ny", "pa", "pl", "ps", "pt", "ro", "ru", "ru-Latn", "sd", "si", "sk", "sl", "sm", "sn", "so", "sq", "sr", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "tr", "uk", "ur", "uz", "vi", "xh", "yi", "yo", "zh", "zh-Latn", "zu"]
CLD3_MAX_BYTES = 1000  # it reads this much of a text: enough to decide, bounded cost


def cld3_code(label: str) -> str | None:
    """A CLD3 label as a canonical code; None for romanized variants and labels curate cannot name."""
    if label in _CLD3_LABELS:
        return _CLD3_LABELS[label]
    try:
        return normalize_lang(label)
    except ValueError:
        return None


@functools.cache
def cld3_languages() -> frozenset[str]:
    """The canonical codes CLD3 can output."""
    return frozenset(code for label in CLD3_LABELS if (code := cld3_code(label)) is not None)


@functools.cache
def _cld3() -> Any:
    return gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=CLD3_MAX_BYTES)


def cld3_top(text: str) -> tuple[str | None, float, bool]:
    """CLD3's best language for `text`: (code or None, probability, is_reliable)."""
    result = _cld3().FindLanguage(text=text)
    return cld3_code(result.language), float(result.probability), bool(result.is_reliable)


@functools.cache
def _lingua_codes() -> dict[str, Language]:
    """Canonical code -> lingua's Language, for its 75 languages."""
    return {normalize_lang(lang.iso_code_639_1.name.lower()): lang for lang in Language.all()}


def lingua_languages() -> frozenset[str]:
    """The canonical codes lingua can output."""
    return frozenset(_lingua_codes())


@functools.lru_cache(maxsize=512)
def _lingua_among(candidates: frozenset[str]) -> Any:
    # A detector restricted to a few languages is built in ~0.1 ms and reads only their models (each
    # loaded once per process, on first use): far faster than one over all 75.
    return LanguageDetectorBuilder.from_languages(*(_lingua_codes()[c] for c in sorted(candidates))).build()


def lingua_confidences(text: str, candidates: frozenset[str]) -> dict[str, float]:
    """lingua's confidence (summing to 1) over the `candidates` it knows; empty when it knows fewer than two."""
    known = frozenset(c for c in candidates if c in _lingua_codes())
    if len(known) < 2:
        return {}
    by_language = {lang: code for code, lang in _lingua_codes().items()}
    return {by_language[v.language]: float(v.value) for v in _lingua_among(known).compute_language_confidence_values(text)}
