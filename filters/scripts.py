"""Which writing system a text is in: ISO 15924 codes from a numpy lookup over code points.

`dominant_script` is on the hot path of language ID (it runs once per document and once per
chat turn), so it avoids per-character Python: the text is viewed as an array of code points
and mapped through a table built once, lazily, from Unicode block ranges. Only letters and
combining marks count (vowel signs in Indic scripts are marks); digits, punctuation and
symbols inside a block do not, so "١٢٣" or "।" do not make a text Arabic or Devanagari.
"""

from __future__ import annotations

import functools
import unicodedata

import numpy as np

NO_SCRIPT = "Zyyy"

# Scripts written without spaces between words: tokenizers and shingling take their characters one
# by one. The one definition: filters/tokenize.py and filters/shingles.py derive theirs from it.
UNSPACED_SCRIPTS = frozenset({"Hani", "Jpan", "Kana", "Thai", "Laoo", "Khmr", "Mymr", "Tibt"})
# Their Unicode script property names (for `regex`'s \p{...}); Jpan is Han and kana together.
UNSPACED_PROPERTIES = {"Hani": ("Han",), "Kana": ("Hiragana", "Katakana"), "Thai": ("Thai",), "Laoo": ("Lao",),
                       "Khmr": ("Khmer",), "Mymr": ("Myanmar",), "Tibt": ("Tibetan",)}

# Inclusive code point ranges per script (the Unicode blocks where each script's letters live).
SCRIPT_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "Latn": (
        (0x0041, 0x005A), (0x0061, 0x007A), (0x00C0, 0x024F), (0x0250, 0x02AF),
        (0x1D00, 0x1DBF), (0x1E00, 0x1EFF), (0x2C60, 0x2C7F), (0xA720, 0xA7FF),
        (0xAB30, 0xAB6F), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A),
    ),
    "Grek": ((0x0370, 0x03FF), (0x1F00, 0x1FFF)),
    "Cyrl": ((0x0400, 0x052F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F)),
    "Armn": ((0x0530, 0x058F), (0xFB13, 0xFB17)),
    "Hebr": ((0x0590, 0x05FF), (0xFB1D, 0xFB4F)),
    "Arab": (
        (0x0600, 0x06FF), (0x0750, 0x077F), (0x0870, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF),
    ),
    "Syrc": ((0x0700, 0x074F),),
    "Thaa": ((0x0780, 0x07BF),),
    "Nkoo": ((0x07C0, 0x07FF),),
    "Deva": ((0x0900, 0x097F), (0xA8E0, 0xA8FF)),
    "Beng": ((0x0980, 0x09FF),),
    "Guru": ((0x0A00, 0x0A7F),),
    "Gujr": ((0x0A80, 0x0AFF),),
    "Orya": ((0x0B00, 0x0B7F),),
    "Taml": ((0x0B80, 0x0BFF),),
    "Telu": ((0x0C00, 0x0C7F),),
    "Knda": ((0x0C80, 0x0CFF),),
    "Mlym": ((0x0D00, 0x0D7F),),
    "Sinh": ((0x0D80, 0x0DFF),),
    "Thai": ((0x0E00, 0x0E7F),),
    "Laoo": ((0x0E80, 0x0EFF),),
    "Tibt": ((0x0F00, 0x0FFF),),
    "Mymr": ((0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F)),
    "Geor": ((0x10A0, 0x10FF), (0x1C90, 0x1CBF), (0x2D00, 0x2D2F)),
    "Hang": (
        (0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF), (0xFFA0, 0xFFDC),
    ),
    "Ethi": ((0x1200, 0x139F), (0x2D80, 0x2DDF), (0xAB00, 0xAB2F)),
    "Cher": ((0x13A0, 0x13FF),),
    "Cans": ((0x1400, 0x167F),),
    "Khmr": ((0x1780, 0x17FF), (0x19E0, 0x19FF)),
    "Mong": ((0x1800, 0x18AF),),
    "Bali": ((0x1B00, 0x1B7F),),
    "Sund": ((0x1B80, 0x1BBF),),
    "Olck": ((0x1C50, 0x1C7F),),
    "Tfng": ((0x2D30, 0x2D7F),),
    "Hani": (
        (0x2E80, 0x2FDF), (0x3005, 0x3005), (0x3007, 0x3007), (0x3021, 0x3029), (0x3400, 0x4DBF),
        (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF),  # planes 2-3: CJK extensions B..J
    ),
    # Kana alone; `dominant_script` folds Han into Jpan when kana is present.
    "Kana": ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)),
    "Bopo": ((0x3100, 0x312F), (0x31A0, 0x31BF)),
    "Vaii": ((0xA500, 0xA63F),),
    "Bamu": ((0xA6A0, 0xA6FF),),
    "Java": ((0xA980, 0xA9DF),),
    "Mtei": ((0xABC0, 0xABFF),),
    "Adlm": ((0x1E900, 0x1E95F),),
}

SCRIPT_NAMES: tuple[str, ...] = (NO_SCRIPT, *SCRIPT_RANGES)
_SCRIPT_INDEX = {name: i for i, name in enumerate(SCRIPT_NAMES)}
# Japanese mixes Han and kana; this share of kana among both marks a text as Japanese.
_KANA_SHARE_FOR_JAPANESE = 0.05


@functools.cache
def _script_table() -> np.ndarray:
    """Code point -> script index (0: not a letter). Built on first use, ~0.1 s, ~200 KB."""
    size = max(end for ranges in SCRIPT_RANGES.values() for _, end in ranges) + 2
    table = np.zeros(size, dtype=np.uint8)  # the last entry stays 0: out-of-range code points clip to it
    for name, ranges in SCRIPT_RANGES.items():
        index = _SCRIPT_INDEX[name]
        for start, end in ranges:
            table[start : end + 1] = index
    _clear_non_letters(table)
    return table


def _clear_non_letters(table: np.ndarray) -> None:
    # Blocks also hold digits, punctuation and symbols; only letters (L*) and marks (M*) vote.
    for cp in np.flatnonzero(table):
        if unicodedata.category(chr(cp))[0] not in "LM":
            table[cp] = 0


def script_counts(text: str) -> np.ndarray:
    """Letters per script, indexed like `SCRIPT_NAMES` (index 0 counts nothing)."""
    code_points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)  # JSON can carry lone surrogates
    indices = _script_table().take(code_points, mode="clip")
    counts = np.bincount(indices, minlength=len(SCRIPT_NAMES))
    counts[0] = 0
    return counts


def dominant_script(text: str) -> tuple[str, float]:
    """The ISO 15924 code of most letters in `text`, and the fraction of letters in it.

    Chinese characters are `Hani`; with kana present, Han and kana together are `Jpan`.
    A text without letters is `("Zyyy", 0.0)`.
    """
    counts = script_counts(text)
    total = int(counts.sum())
    if total == 0:
        return NO_SCRIPT, 0.0
    kana, han = _SCRIPT_INDEX["Kana"], _SCRIPT_INDEX["Hani"]
    if counts[kana] and counts[kana] >= _KANA_SHARE_FOR_JAPANESE * (counts[kana] + counts[han]):
        counts[kana] += counts[han]
        counts[han] = 0
    best = int(counts.argmax())
    name = "Jpan" if best == kana else SCRIPT_NAMES[best]
    return name, float(counts[best]) / total


def unspaced_ranges() -> tuple[tuple[int, int], ...]:
    """The code point ranges of the unspaced scripts' letters, sorted."""
    return tuple(sorted(r for script in UNSPACED_SCRIPTS for r in SCRIPT_RANGES.get(script, ())))


def is_unspaced_script(script: str) -> bool:
    """True for scripts written without spaces between words (Chinese, Japanese, Thai, ...)."""
    return script in UNSPACED_SCRIPTS
