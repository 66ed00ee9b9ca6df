"""Word tokenization for quality heuristics: regex words in spaced scripts, characters elsewhere.

One precompiled pattern tokenizes every script, deciding per character:

    what                                                   becomes
    letters, marks, digits of spaced scripts (Latin,       a word; combining marks, viramas and
    Cyrillic, Arabic, Devanagari, Bengali, Ethiopic,       ZWJ/ZWNJ stay inside it, so नमस्ते or
    Tamil, Hangul...)                                      می‌خواهم is one word, never broken
    Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar,    one token per character, with its
    Tibetan (written without spaces between words)         combining marks (Thai vowels, tones)
    numbers: "1990", "10,000", "3.5", "9:30"               one number token (a word, not alphabetic)
    URLs, "U.S.", "e.g."                                   one word
    a clitic after a word: "don't", "it's"                 two words, "don" + "'t" (as spaCy)
    runs of dots or dashes: "...", "--"                    one symbol token
    any other non-space character: "#", ",", "("           one symbol token

Because the choice is per character, mixed text (Japanese with English product names) is right
in both parts, and no script detector has to run first. The token stream follows what
datatrove's spaCy tokenizers give on spaced scripts closely enough that Gopher/C4/FineWeb ratios
agree (bench/bench_heuristics.py measures it) at several times the speed.

Speed: the `regex` module is needed for \\p{...} classes but is slow with set operations, so text
without any unspaced-script character (a stdlib-`re` check, ~5 us per 2 KB) takes a simpler
pattern; only Chinese, Japanese, Thai... text pays for the full one.
"""

from __future__ import annotations

import operator
import re
from itertools import compress
from typing import NamedTuple

import regex

from filters.scripts import UNSPACED_PROPERTIES, dominant_script, is_unspaced_script, unspaced_ranges

# Scripts written without spaces between words (filters/scripts.py); each of their characters is a
# token. Matched by Unicode script property, so a Thai digit stays a number and ฿ a symbol.
_UNSPACED = "".join(rf"\p{{{name}}}" for names in UNSPACED_PROPERTIES.values() for name in names)
# The Unicode blocks of those scripts, for a fast stdlib check. A superset is harmless (it only
# selects the slower pattern); the blocks cover every character \p{...} above matches in practice.
_UNSPACED_BLOCKS = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in unspaced_ranges()) + "]")
# Word characters. ZWNJ/ZWJ (U+200C/D) sit inside Persian and Indic words.
_WORD_CHAR = r"[\p{L}\p{M}\p{N}\u200c\u200d]"
_WORD_CHAR_SPACED_ONLY = rf"[[\p{{L}}\p{{M}}\p{{N}}\u200c\u200d]--[{_UNSPACED}]]"  # needs VERSION1


def _token_pattern(word_char: str, unspaced_char: str | None) -> str:
    # Three groups, so findall tells numbers, words and symbols apart without a Python pass:
    # (number) | (word) | (symbol). Number and word alternatives start with different characters.
    unspaced = rf"[{unspaced_char}]\p{{M}}*|" if unspaced_char else ""
    return rf"""
      (\p{{N}}+(?:[.,:]\p{{N}}+)*(?!{word_char}))           # 1990  10,000  3.5  9:30
    | ( https?://\S+ | www\.\S+                           # a URL is one word, as in spaCy
      | {unspaced}                                         # one character of an unspaced script
        {word_char}+(?:(?:\.\p{{L}})+\.)?                   # a word; U.S. and e.g. stay whole
      | (?<={word_char})['’]{word_char}+ )                 # a clitic: 's 't 're
    | ( \.{{2,}} | -{{2,}} | \S )                              # ellipsis, double dash, any symbol
    """


_SPACED_PATTERN = regex.compile(_token_pattern(_WORD_CHAR, None), regex.VERBOSE)
_MIXED_PATTERN = regex.compile(
    _token_pattern(_WORD_CHAR_SPACED_ONLY, _UNSPACED), regex.VERBOSE | regex.VERSION1
)


class Tokenized(NamedTuple):
    """A text's token stream, split once and shared by every rule."""

    tokens: list[str]  # words and symbol tokens, in order: the stream n-gram rules look at
    words: list[str]  # tokens holding a letter, mark or digit (numbers included), in order
    alphabetic_words: int  # words that are not numbers


def _pattern_for(text: str, script: str | None) -> regex.Pattern:
    if (script is not None and is_unspaced(script)) or _UNSPACED_BLOCKS.search(text):
        return _MIXED_PATTERN
    return _SPACED_PATTERN


def tokenize(text: str, script: str | None = None) -> Tokenized:
    """Tokens, words and the count of alphabetic words of `text`, from one regex pass.

    `script` (ISO 15924) is a hint: an unspaced script skips the check for unspaced characters.
    Tokenization does not otherwise depend on it, because each character's own script decides.
    """
    groups = _pattern_for(text, script).findall(text)
    if not groups:
        return Tokenized([], [], 0)
    _, word_tokens, symbols = zip(*groups, strict=True)
    tokens = list(map("".join, groups))
    words = list(compress(tokens, map(operator.not_, symbols)))  # C-level: no Python loop per token
    return Tokenized(tokens, words, len(word_tokens) - word_tokens.count(""))


def tokens(text: str) -> list[str]:
    """Words and symbol tokens of `text`, in order."""
    return tokenize(text).tokens


def words(text: str, script: str | None = None) -> list[str]:
    """The words of `text` (numbers included, punctuation and symbols left out), in order.

    Spaced scripts split into words, unspaced ones (Chinese, Japanese, Thai, Lao, Khmer, Myanmar,
    Tibetan) into characters; see the module docstring. `script` is only a hint (see `tokenize`).
    """
    return tokenize(text, script).words


def text_script(text: str) -> str:
    """The ISO 15924 code of most letters in `text` (`Zyyy` when it has none)."""
    return dominant_script(text)[0]


def is_unspaced(script: str) -> bool:
    """True for scripts tokenized into characters (Chinese, Japanese, Thai, Lao, Khmer...)."""
    return is_unspaced_script(script) or script in ("Hira", "Kana", "Hrkt", "Hans", "Hant")
