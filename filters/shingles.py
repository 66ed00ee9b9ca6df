"""Text normalization and shingling for deduplication, vectorized over code points.

What a document looks like to dedup:

    text -> code points -> one table lookup each: class + NFKC, casefolded, accent-free value
    (texts holding a code point whose NFKC expands or composes go through unicodedata first)

    class     what                                                      becomes
    sep       whitespace, punctuation, symbols, controls                a token boundary
    word      letters and marks of spaced scripts (Latin, Cyrillic,     part of a word token
              Devanagari, Arabic, Hangul...), ZWJ/ZWNJ
    digit     any decimal digit                                         "0"; a run of digits is one "0",
                                                                        like datatrove's simplify_text
    unspaced  Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar        a token of its own

Latin, Greek and Cyrillic letters also lose their diacritics (é -> e), as simplify_text does;
combining marks of other scripts (Devanagari matras, Thai vowels) are letters there and stay.

Tokens are therefore words in spaced scripts and single characters in unspaced ones, so one
`n` gives WORD n-grams for English and CHARACTER n-grams for Chinese or Thai, and a mixed
document (Chinese with English product names) is shingled correctly in each part. The class
is decided per code point, not per document, which is why this module needs no script
detector (filters/scripts.py decides a document's script for LID; dedup does not need it).

Speed: everything after the two C-level string calls is a handful of numpy passes, no per-token
Python loop. Word hashes are polynomial hashes over code points (uint64, wrapping), normalized
by the inverse power of the word's start so a word hashes the same wherever it occurs; n-gram
hashes combine n consecutive word hashes the same way; the signature (filters/minhash.py) mixes
them with splitmix64. All constants are fixed, so hashes agree across processes and machines
(Python's `hash()` would not). Casefolding is per code point (ß stays ß rather than "ss").
"""

from __future__ import annotations

import functools
import unicodedata

import numpy as np
import xxhash

from filters.scripts import unspaced_ranges

__all__ = ["exact_hash", "normalize_for_dedup", "shingle_hashes", "tokenize_codepoints"]

# Table value: the folded code point (21 bits) plus flag bits; 0 means "separator".
_WORD_BIT = 1 << 21  # letters, marks and digits of spaced scripts
_DIGIT_BIT = 1 << 22  # a decimal digit, folded to "0"; repeats collapse
_UNSPACED_BIT = 1 << 23  # a character of an unspaced script: a token on its own
_NEEDS_NFKC_BIT = 1 << 24  # NFKC of this code point is not one code point, or it composes
_CODEPOINT_MASK = (1 << 21) - 1
_BMP = 0x10000  # the table is built for the BMP at first use (~0.1 s), astral pages lazily
_PAGE_BITS = 8
_NUM_CODEPOINTS = 0x110000

# Scripts written without spaces between words (filters/scripts.py): each character is a token.
_UNSPACED_RANGES = unspaced_ranges()
# Scripts whose combining marks are accents that simplify_text strips (é -> e).
_STRIP_DIACRITICS_BELOW = 0x0530  # Latin, Greek, Cyrillic blocks
_LATIN_EXTENDED_ADDITIONAL = (0x1E00, 0x1FFF)  # Vietnamese letters, polytonic Greek
_WORD_FORMAT_CHARS = (0x200C, 0x200D)  # ZWNJ/ZWJ sit inside Persian and Indic words

# Fixed odd multipliers (odd, so they are invertible modulo 2**64).
_CHAR_BASE = 0x9E3779B97F4A7C15
_NGRAM_BASE = 0xC2B2AE3D27D4EB4F
_U64 = (1 << 64) - 1


def _is_unspaced(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _UNSPACED_RANGES)


def _fold(char: str) -> int:
    # Single-code-point case folding; casefolds that expand (ß -> ss) keep the lowercase
    # letter, so the fold stays a table lookup. Accents of Latin/Greek/Cyrillic letters go.
    folded = char.casefold()
    if len(folded) != 1:
        folded = char.lower() if len(char.lower()) == 1 else char
    cp = ord(folded)
    if cp < _STRIP_DIACRITICS_BELOW or _LATIN_EXTENDED_ADDITIONAL[0] <= cp <= _LATIN_EXTENDED_ADDITIONAL[1]:
        base = unicodedata.normalize("NFD", folded)[0]
        if unicodedata.category(base)[0] == "L":
            cp = ord(base)
    return cp


def _table_value(cp: int, composes: frozenset[int]) -> int:
    """The table value for one code point: 0 (separator) or fold(NFKC(cp)) | flags.

    NFKC is folded into the table where it maps one code point to one (fullwidth forms,
    compatibility letters); code points whose NFKC expands (ﬁ -> fi) or that compose with
    their neighbour (combining marks) get `_NEEDS_NFKC_BIT`, and a text holding one is run
    through `unicodedata.normalize` first (which is slow, ~100 us per 2 KB of CJK).
    """
    if 0xD800 <= cp <= 0xDFFF:
        return 0
    normalized = unicodedata.normalize("NFKC", chr(cp))
    if len(normalized) != 1:
        # "…" -> "..." changes nothing for dedup; "ﬁ" -> "fi" does.
        expands_to_text = any(_token_value(ord(part)) for part in normalized)
        return _NEEDS_NFKC_BIT if expands_to_text else 0
    value = _token_value(ord(normalized))
    return value | _NEEDS_NFKC_BIT if value and cp in composes else value


def _token_value(cp: int) -> int:
    """0 for a separator, else fold(cp) | class flags, for an NFKC-stable code point."""
    char = chr(cp)
    category = unicodedata.category(char)
    if category == "Nd":
        return _WORD_BIT | _DIGIT_BIT | ord("0")
    if category[0] in "LMN" and _is_unspaced(cp):
        return _UNSPACED_BIT | cp
    if category[0] in "LMN" or cp in _WORD_FORMAT_CHARS:
        return _WORD_BIT | _fold(char)
    return 0


def _composing_codepoints() -> frozenset[int]:
    """Code points that canonical composition may merge into the previous one (the second
    and later parts of every canonical decomposition), e.g. U+0301, Tamil U+0BBE."""
    composing = set()
    for cp in range(_NUM_CODEPOINTS):
        decomposition = unicodedata.decomposition(chr(cp))
        if decomposition and not decomposition.startswith("<"):
            composing.update(int(part, 16) for part in decomposition.split()[1:])
    composing.update(range(0x1160, 0x11FF + 1))  # Hangul medial/final jamo compose into syllables
    composing.update(cp for cp in range(_NUM_CODEPOINTS) if unicodedata.combining(chr(cp)))
    return frozenset(composing)


class _CodePointTable:
    """code point -> table value. The BMP is filled at first use; astral code points (rare:
    CJK extensions, emoji) one 256-code-point page at a time."""

    def __init__(self) -> None:
        self.values = np.zeros(_NUM_CODEPOINTS, dtype=np.uint32)
        self.page_ready = np.zeros(_NUM_CODEPOINTS >> _PAGE_BITS, dtype=bool)
        self.composes = _composing_codepoints()
        self._fill(0, _BMP)

    def lookup(self, codepoints: np.ndarray) -> np.ndarray:
        if codepoints.dtype != np.uint8 and len(codepoints) and codepoints.max() >= _BMP:
            pages = codepoints >> _PAGE_BITS
            for page in np.unique(pages[~self.page_ready[pages]]).tolist():
                self._fill(page << _PAGE_BITS, (page + 1) << _PAGE_BITS)
        return self.values[codepoints]

    def _fill(self, first: int, stop: int) -> None:
        self.values[first:stop] = [_table_value(cp, self.composes) for cp in range(first, stop)]
        self.page_ready[first >> _PAGE_BITS : stop >> _PAGE_BITS] = True


@functools.cache
def _table() -> _CodePointTable:
    return _CodePointTable()


class _Powers:
    """base**i and base**-i modulo 2**64 for i < capacity, grown by doubling when needed."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.inverse = pow(base, -1, 1 << 64)
        self.forward = _power_series(base, 4096)
        self.backward = _power_series(self.inverse, 4096)

    def ensure(self, length: int) -> None:
        if length > len(self.forward):
            capacity = max(length, 2 * len(self.forward))
            self.forward = _power_series(self.base, capacity)
            self.backward = _power_series(self.inverse, capacity)


def _power_series(base: int, length: int) -> np.ndarray:
    series = np.full(length, base, dtype=np.uint64)
    series[0] = 1
    return np.cumprod(series, dtype=np.uint64)  # wraps modulo 2**64, which is what we want


@functools.cache
def _char_powers() -> _Powers:
    return _Powers(_CHAR_BASE)


@functools.cache
def _ngram_powers() -> _Powers:
    return _Powers(_NGRAM_BASE)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: a bijection on uint64 that spreads every input bit."""
    x = x ^ (x >> np.uint64(30))
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _codepoints(text: str) -> np.ndarray:
    if text.isascii():  # most text in the wild; 1 byte per char is 4x cheaper to encode
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _table_values(text: str) -> tuple[np.ndarray, int]:
    """Table values for the NFKC form of `text`, and the OR of all their flags."""
    table = _table()
    values = table.lookup(_codepoints(text))
    flags = int(np.bitwise_or.reduce(values)) if len(values) else 0
    if flags & _NEEDS_NFKC_BIT:
        values = table.lookup(_codepoints(unicodedata.normalize("NFKC", text)))
        flags = int(np.bitwise_or.reduce(values)) if len(values) else 0
    return values, flags


def tokenize_codepoints(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The normalized text as (folded code points, token start positions), separators removed.

    A token is a word (spaced scripts; a digit run is the word "0") or one character
    (unspaced scripts). NFKC (mostly), casefolding and accent stripping happen in the lookup.
    """
    values, flags = _table_values(text)
    if flags & _DIGIT_BIT:
        # Every digit after a digit becomes a separator: a run of digits is one "0" token.
        # (A word glued to the end of a number, "12th", is thus the two tokens "0" "th".)
        is_digit = (values & np.uint32(_DIGIT_BIT)) != 0
        values[1:][is_digit[1:] & is_digit[:-1]] = 0
    positions = np.flatnonzero(values)  # separators are 0
    chars = values[positions]
    if len(chars) == 0:
        return chars, positions
    is_start = np.empty(len(chars), dtype=bool)
    is_start[0] = True
    np.greater(positions[1:] - positions[:-1], 1, out=is_start[1:])  # a separator came before
    if flags & _UNSPACED_BIT:
        unspaced = (chars & np.uint32(_UNSPACED_BIT)) != 0
        is_start |= unspaced
        is_start[1:] |= unspaced[:-1]
    return chars & np.uint32(_CODEPOINT_MASK), np.flatnonzero(is_start)


def normalize_for_dedup(text: str) -> str:
    """The text dedup compares, readable: tokens joined by single spaces."""
    chars, starts = tokenize_codepoints(text)
    if len(chars) == 0:
        return ""
    pieces = np.split(chars, starts[1:])
    return " ".join(piece.tobytes().decode("utf-32-le") for piece in pieces)


def exact_hash(text: str) -> int:
    """64-bit xxhash of the normalized text (its code points and token boundaries): equal for
    case, whitespace, punctuation and accent variants."""
    return _exact_hash_of(*tokenize_codepoints(text))


def _exact_hash_of(chars: np.ndarray, starts: np.ndarray) -> int:
    hasher = xxhash.xxh3_64(chars.tobytes())
    hasher.update(starts.astype(np.uint32).tobytes())
    return hasher.intdigest()


def token_hashes(chars: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """A polynomial hash per token, the same wherever the token occurs.

    Not mixed: the n-gram hash mixes, and a polynomial over code points already differs for
    different words (code points are < 2**21, the base is a 64-bit odd constant).
    """
    if len(chars) == 0:
        return np.zeros(0, dtype=np.uint64)
    powers = _char_powers()
    powers.ensure(len(chars))
    # sum_j c_j * B**j over each token, times B**-start: sum_j c_j * B**(j - start)
    weighted = chars * powers.forward[: len(chars)]
    return np.add.reduceat(weighted, starts) * powers.backward[starts]


def ngram_hashes(tokens: np.ndarray, n: int) -> np.ndarray:
    """Hashes of every n consecutive tokens, in text order (one hash of all if fewer than n).

    Same trick one level up: prefix sums of t_i * Q**i, differences over windows of n, times
    Q**-start. Not mixed here: these are set members and winnowing keys (both fine with a
    polynomial hash); the signature mixes them with its seed.
    """
    if len(tokens) == 0:
        return tokens
    n = min(n, len(tokens))
    powers = _ngram_powers()
    powers.ensure(len(tokens) + 1)
    prefix = np.empty(len(tokens) + 1, dtype=np.uint64)
    prefix[0] = 0
    np.cumsum(tokens * powers.forward[: len(tokens)], out=prefix[1:])
    count = len(tokens) - n + 1
    return (prefix[n:] - prefix[:count]) * powers.backward[:count]


def ngram_hashes_of_lengths(tokens: np.ndarray, lengths: list[int]) -> list[np.ndarray]:
    """`ngram_hashes(tokens, n)` for every n in `lengths` (each at most len(tokens)), in that order, from one
    prefix sum (decontamination looks up windows of several lengths per text)."""
    if not lengths:
        return []
    powers = _ngram_powers()
    powers.ensure(len(tokens) + 1)
    prefix = np.empty(len(tokens) + 1, dtype=np.uint64)
    prefix[0] = 0
    np.cumsum(tokens * powers.forward[: len(tokens)], out=prefix[1:])
    return [(prefix[n:] - prefix[: len(tokens) - n + 1]) * powers.backward[: len(tokens) - n + 1] for n in lengths]


def sorted_unique(hashes: np.ndarray) -> np.ndarray:
    """np.unique without its overhead (~20 us on 400 values; this is ~4 us)."""
    ordered = np.sort(hashes)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def shingle_hashes(text: str, n: int = 5) -> np.ndarray:
    """Sorted unique uint64 hashes of the token n-grams of `text` (words, or characters in
    unspaced scripts). A text with fewer than `n` tokens gives one shingle; an empty one none."""
    return sorted_unique(ngram_hashes(token_hashes(*tokenize_codepoints(text)), n))


def document_shingles(text: str, n: int = 5) -> tuple[int, np.ndarray, np.ndarray]:
    """(exact hash, n-gram hashes in text order, sorted unique shingles) in one pass over `text`.

    The text-order hashes are what winnowing (containment fingerprints) needs.
    """
    chars, starts = tokenize_codepoints(text)
    ordered = ngram_hashes(token_hashes(chars, starts), n)
    return _exact_hash_of(chars, starts), ordered, sorted_unique(ordered)
