"""Detector labels -> curate's canonical ISO 639-3 codes, for bench/bench_lid_detectors.py.

Every detector labels in its own vocabulary (lingua: ISO 639-3 macro codes; CLD3 and CLD2: ISO
639-1 with a few legacy and romanized labels; langdetect: ISO 639-1 with zh-cn/zh-tw; lid.176:
its own 176 labels, mapped by `curation.languages`). A label with no canonical code is kept as
`<detector>:<label>` so it is counted (always as a wrong answer, never as `und`), not dropped.
"""

from __future__ import annotations

import functools

import pycld2
from lingua import Language

from curation.languages import lid176_label_to_code, normalize_lang

UNDETERMINED = "und"


def _canonical(label: str) -> str | None:
    try:
        return normalize_lang(label)
    except ValueError:
        return None


# lingua: all 75 languages map through normalize_lang. Macro codes become curate's (FLORES')
# individual ones: ara -> arb, aze -> azj, fas -> pes, lav -> lvs, mon -> khk, msa -> zsm,
# sqi -> als, swa -> swh. So lingua's "Persian" answers count as Iranian Persian (pes) on Dari
# (prs) text, its "Arabic" as Standard Arabic, its "Malay" as zsm. Latin (lat) is not in FLORES.
@functools.cache
def lingua_to_code() -> dict[Language, str]:
    table = {}
    for lang in Language.all():
        code = _canonical(lang.iso_code_639_3.name.lower())
        if code is None:  # none today; kept so a new lingua release cannot silently drop one
            code = f"lingua:{lang.iso_code_639_3.name.lower()}"
        table[lang] = code
    return table


@functools.cache
def code_to_lingua() -> dict[str, Language]:
    return {code: lang for lang, code in lingua_to_code().items()}


def lingua_codes() -> frozenset[str]:
    return frozenset(lingua_to_code().values())


# CLD3 (gcld3 / cld3-py): its 107 labels (the model's task_context; gcld3 has no list API).
CLD3_LABELS = ["af", "am", "ar", "bg", "bg-Latn", "bn", "bs", "ca", "ceb", "co", "cs", "cy", "da", "de", "el", "el-Latn", "en", "eo", "es", "et", "eu", "fa", "fi", "fil", "fr", "fy", "ga", "gd", "gl", "gu", "ha", "haw", "hi", "hi-Latn", "hmn", "hr", "ht", "hu", "hy", "id", "ig", "is", "it", "iw", "ja", "ja-Latn", "jv", "ka", "kk", "km", "kn", "ko", "ku", "ky", "la", "lb", "lo", "lt", "lv", "mg", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "ne", "nl", "no", "ny", "pa", "pl", "ps", "pt", "ro", "ru", "ru-Latn", "sd", "si", "sk", "sl", "sm", "sn", "so", "sq", "sr", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "tr", "uk", "ur", "uz", "vi", "xh", "yi", "yo", "zh", "zh-Latn", "zu"]
# Labels normalize_lang does not take: iw (Hebrew's withdrawn ISO 639-1 code) and jw (Javanese's,
# CLD2 uses it). fil (Filipino) is curate's alias for tgl; mg -> plt, ms -> zsm, ku -> kmr,
# no -> nob, ne -> npi, ny -> nya, sm -> smo, co -> cos (Corsican: normalizes, but no FLORES set).
LEGACY_LABELS = {"iw": "heb", "jw": "jav"}
# Labels that do NOT map, kept as "cld3:<label>":
#   zh-Latn, ja-Latn, ru-Latn, bg-Latn, el-Latn, hi-Latn: romanized text. The language is right but
#     the script is not the one FLORES writes it in (and normalize_lang would silently read `zh-Latn`
#     as `zh`), so they stay apart; on FLORES they only ever appear as wrong answers.
#   haw (Hawaiian), hmn (Hmong): not in curate's tables, no FLORES set.
# CLD3 also answers on text with no letters at all ("" or "123 456" -> ja, p=0.78, reliable): an
# ensemble must not ask it about letter-less text.
CLD3_UNMAPPED = ("zh-Latn", "ja-Latn", "ru-Latn", "bg-Latn", "el-Latn", "hi-Latn", "haw", "hmn")


def cld3_code(label: str) -> str:
    if label in ("und", ""):
        return UNDETERMINED
    if label in CLD3_UNMAPPED:
        return f"cld3:{label}"
    return LEGACY_LABELS.get(label) or _canonical(label) or f"cld3:{label}"


# CLD2 (pycld2): the codes of the 165 DETECTED_LANGUAGES. "un" (Unknown) and "xxx" are
# undetermined. iw -> heb, jw -> jav; sr-ME (Montenegrin) -> srp, zh-Hant -> zho, bh -> bho,
# tl -> tgl, ks -> kas, lg -> lug, rw -> kin, om -> gaz. Labels that do NOT map, kept as
# "cld2:<label>" (none has a FLORES set): ab aa bi chr kl haw hmn iu ik kha lif mfe na nr crs syr
# to ve za tlh (Klingon), zzp, xx-Bugi, xx-Goth (script-only "languages").
CLD2_UNDETERMINED = ("un", "xxx", "")


@functools.cache
def cld2_labels() -> tuple[str, ...]:
    name_to_code = dict(pycld2.LANGUAGES)
    return tuple(name_to_code[name] for name in pycld2.DETECTED_LANGUAGES if name in name_to_code)


def cld2_code(label: str) -> str:
    if label in CLD2_UNDETERMINED:
        return UNDETERMINED
    if label.startswith("xx-") or label in ("zzp", "tlh"):
        return f"cld2:{label}"  # normalize_lang would fail anyway; explicit for the reader
    return LEGACY_LABELS.get(label) or _canonical(label) or f"cld2:{label}"


@functools.cache
def cld3_codes() -> frozenset[str]:
    return frozenset(c for c in map(cld3_code, CLD3_LABELS) if ":" not in c)


@functools.cache
def cld2_codes() -> frozenset[str]:
    return frozenset(c for c in map(cld2_code, cld2_labels()) if ":" not in c and c != UNDETERMINED)


def lid176_codes() -> frozenset[str]:
    return frozenset(lid176_label_to_code().values())


def unmapped_labels() -> dict[str, list[str]]:
    """Every label a detector can emit that has no canonical code (for the JSON report)."""
    return {
        "lingua": sorted(c for c in lingua_to_code().values() if ":" in c),
        "cld3": sorted(label for label in CLD3_LABELS if ":" in cld3_code(label)),
        "cld2": sorted(label for label in cld2_labels() if ":" in cld2_code(label)),
    }
