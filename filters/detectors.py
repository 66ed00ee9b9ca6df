"""The second opinions curate's LID asks, each shipping its model inside its PyPI package.

    CLD2     `pycld2`: Chromium's compact detector of ~160 languages, fast (~20 us a text) and, in
             best-effort mode, strong on short text; it knows languages lid.176 lacks (Hausa, Igbo,
             Zulu, Xhosa, Shona, Sesotho, Chichewa, Akan, Fijian, Oromo...).
    lingua   `lingua-language-detector`: n-gram models of 75 languages, the strongest on single
             words; asked only to choose among the few candidates the fast detectors name
             (restricted to them it reads a short text in ~0.1-0.2 ms, against ~0.5 ms over all 75).

Each maps its labels to curate's canonical ISO 639-3 codes; a label that does not map is no
answer (None), never a guess. Detectors load on first use, once per process, so the steps that
hold them pickle to executor workers.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from curation.errors import RecipeError
from curation.languages import normalize_lang

# Both are dependencies of curate; a broken or trimmed install gets one line from
# `require_detectors` (the lid step's constructor asks) instead of a traceback at import.
try:
    import pycld2
except ImportError:
    pycld2 = None
try:
    from lingua import Language, LanguageDetectorBuilder
except ImportError:
    Language = LanguageDetectorBuilder = None


def require_detectors() -> None:
    """Refuse, in one line, an ensemble whose detector packages are not installed."""
    missing = [name for name, module in (("pycld2", pycld2), ("lingua-language-detector", Language)) if module is None]
    if missing:
        raise RecipeError(f"the LID ensemble needs {' and '.join(missing)}: pip install {' '.join(missing)} "
                          "(or set `ensemble: false` on the lid step to use the fastText model alone)")

# CLD2 labels `normalize_lang` does not read: withdrawn ISO 639-1 codes and CLD2's own names.
_CLD2_LABELS = {"iw": "heb", "jw": "jav", "sr-ME": "srp", "zh-Hant": "zho", "bh": "bho", "tl": "tgl"}
CLD2_UNDETERMINED = ("un", "xxx", "")
CLD2_MAX_CHARS = 2000  # it reads this much of a text: enough to decide, bounded cost
# CLD2 refuses text with C0 control characters or lone surrogates (pycld2.error: invalid UTF-8).
_CLD2_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


@functools.lru_cache(maxsize=1024)  # a label that does not map is slow to refuse (a fuzzy "did you mean")
def cld2_code(label: str) -> str | None:
    """A CLD2 label as a canonical code; None for `un` and labels curate cannot name (Klingon...)."""
    if label in CLD2_UNDETERMINED:
        return None
    if label in _CLD2_LABELS:
        return _CLD2_LABELS[label]
    try:
        return normalize_lang(label)
    except ValueError:
        return None


@functools.cache
def cld2_languages() -> frozenset[str]:
    """The canonical codes CLD2 can output."""
    name_to_label = dict(pycld2.LANGUAGES)
    labels = (name_to_label[name] for name in pycld2.DETECTED_LANGUAGES if name in name_to_label)
    return frozenset(code for label in labels if (code := cld2_code(label)) is not None)


def cld2_top(text: str) -> str | None:
    """CLD2's best language for `text` in best-effort mode (it answers short texts too), or None."""
    clean = _CLD2_UNSAFE.sub(" ", text[:CLD2_MAX_CHARS])
    try:
        _, _, details = pycld2.detect(clean, bestEffort=True)
    except pycld2.error:  # what the sanitizing above missed: no answer, never a crash
        return None
    return cld2_code(details[0][1])


@functools.cache
def _lingua_codes() -> dict[str, Language]:
    """Canonical code -> lingua's Language, for its 75 languages."""
    return {normalize_lang(lang.iso_code_639_1.name.lower()): lang for lang in Language.all()}


def lingua_languages() -> frozenset[str]:
    """The canonical codes lingua can output."""
    return frozenset(_lingua_codes())


@functools.cache
def _lingua_to_code() -> dict[Language, str]:
    return {lang: code for code, lang in _lingua_codes().items()}


# Candidate sets seen in a run number a few thousand; each detector is small (the models are shared).
@functools.lru_cache(maxsize=8192)
def _lingua_among(candidates: frozenset[str]) -> Any:
    # A detector restricted to a few languages is built in ~0.1 ms and reads only their models (each
    # loaded once per process, on first use): far faster than one over all 75.
    return LanguageDetectorBuilder.from_languages(*(_lingua_codes()[c] for c in sorted(candidates))).build()


def lingua_top(text: str, candidates: frozenset[str]) -> tuple[str, float] | None:
    """lingua's best among the `candidates` it knows, with its confidence; None when it knows none.
    A single known candidate is the answer without asking."""
    known = frozenset(c for c in candidates if c in _lingua_codes())
    if not known:
        return None
    if len(known) == 1:
        return next(iter(known)), 1.0
    values = _lingua_among(known).compute_language_confidence_values(text)
    if not values or values[0].value <= 0:
        return None
    return _lingua_to_code()[values[0].language], float(values[0].value)
