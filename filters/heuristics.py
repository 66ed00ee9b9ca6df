"""Gopher, C4 and FineWeb quality heuristics as one step, with per-language parameters.

`QualityFilter` tokenizes each document once (`filters.tokenize`: regex words, characters in
unspaced scripts), measures everything its enabled rules need into `doc.metadata["scores"]`
(flat keys `quality.<measure>`), then drops the document under the first rule whose threshold
the measures break. Thresholds can change later without re-scoring: the scores are the record.

Rules, in the order they are checked, with their measures and defaults (None disables a bound):

    rule                         measure (quality.*)                 default      source
    gopher_dup_paragraphs        gopher_dup_paragraph_ratio          <= 0.3       Gopher rep.
    gopher_dup_paragraph_chars   gopher_dup_paragraph_char_ratio     <= 0.2
    gopher_dup_lines             gopher_dup_line_ratio               <= 0.3
    gopher_dup_line_chars        gopher_dup_line_char_ratio          <= 0.2
    gopher_top_ngram             gopher_top_{2,3,4}gram_char_ratio   <= .20 .18 .16
    gopher_dup_ngrams            gopher_dup_{5..10}gram_char_ratio   <= .15 ... .10
    gopher_word_count            gopher_word_count                   50 .. 100000 Gopher quality
    gopher_mean_word_length      gopher_mean_word_length             3 .. 10 (per script)
    gopher_symbol_ratio          gopher_hash_ratio, gopher_ellipsis_ratio   <= 0.1
    gopher_bullet_lines          gopher_bullet_line_ratio            <= 0.9
    gopher_ellipsis_lines        gopher_ellipsis_line_ratio          <= 0.3
    gopher_alpha_ratio           gopher_alpha_word_ratio             >= 0.7 (Gopher: 0.8)
    gopher_stop_words            gopher_stop_words                   >= 2 (languages with a list)
    c4_lorem_ipsum               c4_lorem_ipsum (0/1)                == 0         C4
    c4_curly_bracket             c4_curly_bracket (0/1)              == 0
    c4_javascript                c4_javascript_line_ratio            <= 0.5
    c4_policy                    c4_policy_line_ratio                <= 0.5
    c4_sentence_count            c4_sentences                        >= 3
    fineweb_line_punct           fineweb_line_punct_ratio            >= 0.12      FineWeb
    fineweb_short_lines          fineweb_short_line_ratio            <= 0.67
    fineweb_char_dup             fineweb_char_dup_ratio              <= 0.01
    fineweb_newline_ratio        fineweb_newline_ratio               <= 0.3

Semantics follow datatrove's GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter and
FineWebQualityFilter (ratios over tokens count punctuation tokens, as theirs do). Differences:

- C4 removes lines (javascript, cookie/policy, < 3 words) and keeps the page; here nothing is
  edited. Those lines are left out of the sentence count, as C4 does, and a page mostly made of
  them is dropped (`c4_javascript`, `c4_policy`).
- `gopher_alpha_ratio` defaults to 0.7, not 0.8 (see `Thresholds.min_alpha_word_ratio`).
- `c4_sentence_count` defaults to 3, not C4's 5: a good 60-word paragraph in Yoruba or Swahili
  often has 3-4 sentences. Pass `c4_min_sentences=5` for C4's behaviour.
- Stop words are matched case-insensitively, from a list per language (`filters.stopwords`); a
  language without a list skips the rule instead of failing English's.
- Mean word length bounds depend on the script (`SCRIPT_THRESHOLDS`): characters are the
  tokens of Chinese or Thai, and Malayalam or Tamil words are long.

Short documents: the defaults suit web pages and passages (Gopher's 50-word floor keeps a
60-word paragraph). Instruction, QA and dialogue records are often shorter, lists or code; use
`QualityFilter(rules=INSTRUCTION_RULES)`, which keeps the repetition and junk-text rules and
leaves out the page-shape ones (word count, bullets, curly brackets, sentence count, line
punctuation and length).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Literal, NamedTuple

import numpy as np
from datatrove.data import Document
from datatrove.utils.text import TERMINAL_PUNCTUATION

from curation.errors import RecipeError
from curation.steps import Filter, SideOutputs, record_lang
from filters.stopwords import stop_words as builtin_stop_words
from filters.tokenize import Tokenized, text_script, tokenize

SCORE_PREFIX = "quality."

REPETITION_RULES = (
    "gopher_dup_paragraphs",
    "gopher_dup_paragraph_chars",
    "gopher_dup_lines",
    "gopher_dup_line_chars",
    "gopher_top_ngram",
    "gopher_dup_ngrams",
)
GOPHER_QUALITY_RULES = (
    "gopher_word_count",
    "gopher_mean_word_length",
    "gopher_symbol_ratio",
    "gopher_bullet_lines",
    "gopher_ellipsis_lines",
    "gopher_alpha_ratio",
    "gopher_stop_words",
)
C4_RULES = ("c4_lorem_ipsum", "c4_curly_bracket", "c4_javascript", "c4_policy", "c4_sentence_count")
FINEWEB_RULES = ("fineweb_line_punct", "fineweb_short_lines", "fineweb_char_dup", "fineweb_newline_ratio")
RULES = REPETITION_RULES + GOPHER_QUALITY_RULES + C4_RULES + FINEWEB_RULES
# For instruction/QA/dialogue records: short, often lists or code. Keeps the rules that catch
# repetition and junk text at any length; drops the ones about the shape of a web page.
INSTRUCTION_RULES = REPETITION_RULES + (
    "gopher_mean_word_length",
    "gopher_symbol_ratio",
    "gopher_ellipsis_lines",
    "gopher_stop_words",
    "c4_lorem_ipsum",
    "c4_javascript",
    "c4_policy",
)


@dataclass(frozen=True)
class Thresholds:
    """Every bound the rules use. None switches a bound off. Defaults: see the module docstring."""

    # Gopher repetition (fractions of paragraphs/lines, or of characters of the text).
    max_dup_paragraph_ratio: float | None = 0.3
    max_dup_paragraph_char_ratio: float | None = 0.2
    max_dup_line_ratio: float | None = 0.3
    max_dup_line_char_ratio: float | None = 0.2
    # (n, max fraction of characters in the most frequent n-gram)
    max_top_ngram_char_ratio: tuple[tuple[int, float], ...] = ((2, 0.20), (3, 0.18), (4, 0.16))
    # (n, max fraction of characters in n-grams seen before)
    max_dup_ngram_char_ratio: tuple[tuple[int, float], ...] = (
        (5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10),
    )
    # Gopher quality. Words are non-punctuation tokens (characters in unspaced scripts).
    min_words: int | None = 50
    max_words: int | None = 100_000
    min_mean_word_length: float | None = 3
    max_mean_word_length: float | None = 10
    max_symbol_word_ratio: float | None = 0.1  # '#' and ellipses per token
    max_bullet_line_ratio: float | None = 0.9
    max_ellipsis_line_ratio: float | None = 0.3
    # Tokens holding a letter, per token (punctuation tokens count, as in datatrove). Gopher's 0.8
    # drops ~20% of clean ~2 KB Russian or Tamil prose, whose long words make punctuation a
    # larger share of tokens; 0.7 keeps FLORES text in all 200 languages but a few documents.
    min_alpha_word_ratio: float | None = 0.7
    min_stop_words: int | None = 2  # distinct stop words; skipped for languages without a list
    stop_words: tuple[str, ...] | None = None  # None: the built-in list for the language
    # C4 (lines with fewer words, or an overlong word, are not counted, as C4 removes them).
    c4_min_sentences: int | None = 3
    c4_min_words_per_line: int = 3
    c4_max_word_length: int | None = 1000
    c4_max_javascript_line_ratio: float | None = 0.5
    c4_max_policy_line_ratio: float | None = 0.5
    # FineWeb
    fineweb_min_line_punct_ratio: float | None = 0.12
    fineweb_line_punct_exclude_zero: bool = False  # let documents with no punctuated line pass
    fineweb_max_short_line_ratio: float | None = 0.67
    fineweb_short_line_length: int = 30
    fineweb_max_char_dup_ratio: float | None = 0.01
    fineweb_max_newline_ratio: float | None = 0.3


def _scaled_ngrams(factor: int) -> dict[str, Any]:
    # Character tokens are shorter than words, so repetition is looked for in longer n-grams.
    return {
        "max_top_ngram_char_ratio": tuple((n * factor, x) for n, x in Thresholds.max_top_ngram_char_ratio),
        "max_dup_ngram_char_ratio": tuple((n * factor, x) for n, x in Thresholds.max_dup_ngram_char_ratio),
    }


# Built-in per-script thresholds (ISO 15924), applied over the global ones. Calibrated on
# FLORES-200 dev documents of ~2 KB, which these keep:
# - unspaced scripts: tokens are characters (Chinese/Japanese mean length ~1.0-1.5) or character
#   clusters with their marks (Thai, Lao, Khmer, Myanmar, Tibetan: ~1.2-2.8); n-grams are 2x
#   (Chinese, Japanese) or 3x (the others, whose words are ~3 clusters) longer than Gopher's word
#   n-grams; C4 counts words in a line with str.split, which sees one "word" in such a line.
# - Thai and Lao mark sentences with spaces, not punctuation: the punctuation rules cannot apply.
# - Korean and Ethiopic words are short (mean ~3); Dravidian and Georgian ones long (Malayalam ~10).
_CHARACTER_TOKENS = {"min_mean_word_length": 1, "max_mean_word_length": 4, "c4_min_words_per_line": 1}
_NO_SENTENCE_PUNCTUATION = {"fineweb_min_line_punct_ratio": None, "c4_min_sentences": None}
_LONG_WORDS = {"min_mean_word_length": 3, "max_mean_word_length": 15}
SCRIPT_THRESHOLDS: dict[str, dict[str, Any]] = {
    **dict.fromkeys(("Hani", "Hans", "Hant", "Jpan", "Hira", "Kana"), {**_CHARACTER_TOKENS, **_scaled_ngrams(2)}),
    **dict.fromkeys(("Khmr", "Mymr", "Tibt"), {**_CHARACTER_TOKENS, **_scaled_ngrams(3)}),
    **dict.fromkeys(("Thai", "Laoo"), {**_CHARACTER_TOKENS, **_scaled_ngrams(3), **_NO_SENTENCE_PUNCTUATION}),
    **dict.fromkeys(("Mlym", "Taml", "Knda", "Telu", "Geor"), _LONG_WORDS),
    "Hang": {"min_mean_word_length": 2},
    # Ethiopic-script languages write most function words as affixes, so a clean 90-word Amharic
    # paragraph can hold a single free-standing stop word (2 of 6 quickstart documents did).
    "Ethi": {"min_mean_word_length": 2, "min_stop_words": 1},
}

# datatrove's terminal punctuation, plus the Tibetan shad that ends Tibetan sentences.
_TERMINAL_PUNCTUATION = frozenset(TERMINAL_PUNCTUATION) | {"།", "༎"}
_PARAGRAPH_BREAK = re.compile(r"\n{2,}")
_LINE_BREAKS = re.compile(r"\n+")
_POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
# A sentence ends at . ! ? (not an ellipsis, and followed by a space) or at a script's own full
# stop (danda, Ethiopic and CJK full stops need no space), when more text follows. This counts
# what spaCy's sentencizer counts in datatrove's C4 filter, without tokenizing.
# The leading lookahead lets `re` skip ahead to candidate characters (several times faster).
_SENTENCE_BREAK = re.compile(
    r"(?=[.!?։؟۔।॥።፧。！？｡])(?:[!?]+[\"'”’)\]»]*[^\S\n]+(?=\w)"
    r"|\.(?<!\.\.)(?!\.)[\"'”’)\]»]*[^\S\n]+(?=\w)"
    r"|[։؟۔।॥።፧。！？｡။។།]+[\"'”’)\]»]*[^\S\n]*(?=\w))"
)


class Bound(NamedTuple):
    """One check: the rule fails when `score` is below a minimum / above a maximum."""

    rule: str
    score: str
    kind: Literal["min", "max"]
    limit: float
    pass_at_zero: bool = False  # a score of exactly 0 passes (FineWeb's line_punct_exclude_zero)

    def fails(self, value: float) -> bool:
        if self.pass_at_zero and value == 0:
            return False
        return value < self.limit if self.kind == "min" else value > self.limit


@dataclass(frozen=True)
class LanguageConfig:
    """What one language/script needs at run time: the bounds to check and its stop words."""

    thresholds: Thresholds
    bounds: tuple[Bound, ...]
    stop_words: frozenset[str] | None


def _bounds(t: Thresholds, rules: frozenset[str], has_stop_words: bool) -> tuple[Bound, ...]:
    """The checks the enabled rules make under `t`, in rule order, without switched-off ones."""
    candidates = [
        ("gopher_dup_paragraphs", "gopher_dup_paragraph_ratio", "max", t.max_dup_paragraph_ratio),
        ("gopher_dup_paragraph_chars", "gopher_dup_paragraph_char_ratio", "max", t.max_dup_paragraph_char_ratio),
        ("gopher_dup_lines", "gopher_dup_line_ratio", "max", t.max_dup_line_ratio),
        ("gopher_dup_line_chars", "gopher_dup_line_char_ratio", "max", t.max_dup_line_char_ratio),
        *(("gopher_top_ngram", f"gopher_top_{n}gram_char_ratio", "max", x) for n, x in t.max_top_ngram_char_ratio),
        *(("gopher_dup_ngrams", f"gopher_dup_{n}gram_char_ratio", "max", x) for n, x in t.max_dup_ngram_char_ratio),
        ("gopher_word_count", "gopher_word_count", "min", t.min_words),
        ("gopher_word_count", "gopher_word_count", "max", t.max_words),
        ("gopher_mean_word_length", "gopher_mean_word_length", "min", t.min_mean_word_length),
        ("gopher_mean_word_length", "gopher_mean_word_length", "max", t.max_mean_word_length),
        ("gopher_symbol_ratio", "gopher_hash_ratio", "max", t.max_symbol_word_ratio),
        ("gopher_symbol_ratio", "gopher_ellipsis_ratio", "max", t.max_symbol_word_ratio),
        ("gopher_bullet_lines", "gopher_bullet_line_ratio", "max", t.max_bullet_line_ratio),
        ("gopher_ellipsis_lines", "gopher_ellipsis_line_ratio", "max", t.max_ellipsis_line_ratio),
        ("gopher_alpha_ratio", "gopher_alpha_word_ratio", "min", t.min_alpha_word_ratio),
        ("gopher_stop_words", "gopher_stop_words", "min", t.min_stop_words if has_stop_words else None),
        ("c4_lorem_ipsum", "c4_lorem_ipsum", "max", 0),
        ("c4_curly_bracket", "c4_curly_bracket", "max", 0),
        ("c4_javascript", "c4_javascript_line_ratio", "max", t.c4_max_javascript_line_ratio),
        ("c4_policy", "c4_policy_line_ratio", "max", t.c4_max_policy_line_ratio),
        ("c4_sentence_count", "c4_sentences", "min", t.c4_min_sentences),
        ("fineweb_line_punct", "fineweb_line_punct_ratio", "min", t.fineweb_min_line_punct_ratio),
        ("fineweb_short_lines", "fineweb_short_line_ratio", "max", t.fineweb_max_short_line_ratio),
        ("fineweb_char_dup", "fineweb_char_dup_ratio", "max", t.fineweb_max_char_dup_ratio),
        ("fineweb_newline_ratio", "fineweb_newline_ratio", "max", t.fineweb_max_newline_ratio),
    ]
    return tuple(
        Bound(rule, SCORE_PREFIX + score, kind, limit,
              pass_at_zero=rule == "fineweb_line_punct" and t.fineweb_line_punct_exclude_zero)
        for rule, score, kind, limit in candidates
        if rule in rules and limit is not None
    )


# ---------------------------------------------------------------------------------------------
# Measures. Each function returns plain numbers; none of them decides anything.


def duplicates(items: list[str]) -> tuple[int, int]:
    """(items equal to an earlier one, characters in those items), as Gopher counts them."""
    if len(set(items)) == len(items):
        return 0, 0
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count += 1
            chars += len(item)
        else:
            seen.add(item)
    return count, chars


# Odd 64-bit multiplier for polynomial n-gram keys over Python's string hashes. The keys only
# compare n-grams within one document, so per-process hash randomization does not matter.
_NGRAM_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def ngram_keys(tokens: list[str], max_n: int) -> dict[int, np.ndarray]:
    """n -> one uint64 key per n-gram (equal n-grams, equal keys), for n = 1..max_n.

    Vectorized so that counting n-grams costs numpy passes instead of building tuples.
    """
    hashes = np.fromiter(map(hash, tokens), dtype=np.int64, count=len(tokens)).view(np.uint64)
    keys = {1: hashes}
    for n in range(2, max_n + 1):
        keys[n] = keys[n - 1][:-1] * _NGRAM_MULTIPLIER + hashes[n - 1 :]
    return keys


def top_ngram_chars(tokens: list[str], keys: np.ndarray, n: int) -> int:
    """Characters covered by the most frequent n-gram: its length (space-joined) times its count.

    Ties go to the n-gram seen first, as with datatrove's `Counter.most_common(1)`. An n-gram seen
    once is not repetition: 0 when nothing repeats (datatrove counts the first n-gram, which
    drops short texts such as a two-sentence answer for "repetition").
    """
    if len(keys) == 0:
        return 0
    order = np.argsort(keys, kind="stable")  # stable: each run of equal keys starts at its first use
    sorted_keys = keys[order]
    new_run = np.empty(len(keys), dtype=bool)
    new_run[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new_run[1:])
    run_of = np.cumsum(new_run) - 1
    counts = np.bincount(run_of)
    top_count = int(counts.max())
    if top_count == 1:
        return 0
    start = int(order[counts[run_of] == top_count].min())
    return (sum(map(len, tokens[start : start + n])) + n - 1) * top_count


def has_repeats(keys: np.ndarray) -> bool:
    """Whether any key occurs twice."""
    sorted_keys = np.sort(keys)
    return bool((sorted_keys[1:] == sorted_keys[:-1]).any())


def dup_ngram_chars(keys: np.ndarray, char_offsets: list[int], n: int) -> int:
    """Characters in n-grams that repeat an earlier one, scanning left to right and jumping past
    each repeat (Gopher's "duplicate n-gram character fraction", as datatrove computes it).

    `char_offsets[i]` is the number of characters in the first i tokens.
    """
    seen: set[int] = set()
    chars = i = 0
    key_list = keys.tolist()
    while i < len(key_list):
        key = key_list[i]
        if key in seen:
            chars += char_offsets[i + n] - char_offsets[i]
            i += n
        else:
            seen.add(key)
            i += 1
    return chars


def repetition_scores(text: str, tokens: list[str], t: Thresholds) -> dict[str, float]:
    """Gopher repetition: duplicate paragraphs/lines, top n-grams, duplicate n-grams."""
    length = len(text)
    paragraphs = _PARAGRAPH_BREAK.split(text.strip())
    dup_paragraphs, dup_paragraph_chars = duplicates(paragraphs)
    lines = _LINE_BREAKS.split(text)
    dup_lines, dup_line_chars = duplicates(lines)
    scores = {
        "quality.gopher_dup_paragraph_ratio": dup_paragraphs / len(paragraphs),
        "quality.gopher_dup_paragraph_char_ratio": dup_paragraph_chars / length,
        "quality.gopher_dup_line_ratio": dup_lines / len(lines),
        "quality.gopher_dup_line_char_ratio": dup_line_chars / length,
    }
    sizes = [n for n, _ in t.max_top_ngram_char_ratio] + [n for n, _ in t.max_dup_ngram_char_ratio]
    keys = ngram_keys(tokens, max(sizes, default=1))
    for n, _ in t.max_top_ngram_char_ratio:
        scores[f"quality.gopher_top_{n}gram_char_ratio"] = top_ngram_chars(tokens, keys[n], n) / length
    # A repeated (n+1)-gram contains a repeated n-gram: once n-grams are all distinct, so are all
    # longer ones, and a clean document costs one sort. Offsets only when something repeats.
    repeats = True
    char_offsets: list[int] = []
    for n, _ in sorted(t.max_dup_ngram_char_ratio):
        repeats = repeats and has_repeats(keys[n])
        if repeats and not char_offsets:
            char_offsets = list(accumulate(map(len, tokens), initial=0))
        chars = dup_ngram_chars(keys[n], char_offsets, n) if repeats else 0
        scores[f"quality.gopher_dup_{n}gram_char_ratio"] = chars / length
    return scores


def count_stop_words(words: list[str], text: str, stop_words: frozenset[str]) -> int:
    """Distinct stop words among `words`, case-insensitively, NFC-normalized when `text` is not."""
    lowered = map(str.lower, words)
    if not unicodedata.is_normalized("NFC", text):
        lowered = (unicodedata.normalize("NFC", word) for word in lowered)
    return len(stop_words.intersection(lowered))


def gopher_quality_scores(text: str, tok: Tokenized, stop_words: frozenset[str] | None) -> dict[str, float]:
    """Gopher quality: word count and length, symbols, bullets, ellipses, letters, stop words."""
    n_tokens = len(tok.tokens)
    words = tok.words
    lines = text.splitlines()
    scores = {
        "quality.gopher_word_count": len(words),
        "quality.gopher_mean_word_length": sum(map(len, words)) / len(words) if words else 0.0,
        "quality.gopher_hash_ratio": text.count("#") / n_tokens,
        "quality.gopher_ellipsis_ratio": (text.count("...") + text.count("…")) / n_tokens,
        "quality.gopher_bullet_line_ratio": sum(line.lstrip().startswith(("•", "-")) for line in lines) / len(lines),
        "quality.gopher_ellipsis_line_ratio": sum(line.rstrip().endswith(("...", "…")) for line in lines) / len(lines),
        "quality.gopher_alpha_word_ratio": tok.alphabetic_words / n_tokens,
    }
    if stop_words is not None:
        scores["quality.gopher_stop_words"] = count_stop_words(words, text, stop_words)
    return scores


def count_sentences(lines: list[str]) -> int:
    """Sentences in `lines` (each non-empty line holds at least one), in one regex pass."""
    return len(lines) + len(_SENTENCE_BREAK.findall("\n".join(lines)))


def _has_overlong_word(line: str, words: list[str], max_length: int | None) -> bool:
    # Only a line longer than the limit can hold such a word: skip the scan for all others.
    return max_length is not None and len(line) > max_length and any(len(w) > max_length for w in words)


def c4_scores(text: str, t: Thresholds) -> dict[str, float]:
    """C4, as keep/drop: lorem ipsum, curly brackets, javascript and policy lines, sentences.

    Only lines C4 would look at count: at least `c4_min_words_per_line` words and no word over
    `c4_max_word_length` characters. Sentences are counted in those lines except the javascript
    and policy ones, which C4 removes.
    """
    lowered = text.lower()
    # Substring checks on the whole text first: most documents skip the per-line checks.
    has_javascript = "javascript" in lowered
    has_policy = any(phrase in lowered for phrase in _POLICY_PHRASES)
    may_have_lorem = "lorem ipsum" in lowered
    may_have_bracket = "{" in text
    considered = javascript_lines = policy_lines = 0
    sentence_lines: list[str] = []
    lorem = bracket = False
    for line in lowered.splitlines():
        words = line.split()
        if len(words) < t.c4_min_words_per_line:
            continue
        if _has_overlong_word(line, words, t.c4_max_word_length):
            continue
        considered += 1
        lorem = lorem or (may_have_lorem and "lorem ipsum" in line)
        if has_javascript and "javascript" in line:
            javascript_lines += 1
            continue
        bracket = bracket or (may_have_bracket and "{" in line)
        if has_policy and any(phrase in line for phrase in _POLICY_PHRASES):
            policy_lines += 1
            continue
        sentence_lines.append(line.strip())
    return {
        "quality.c4_lorem_ipsum": int(lorem),
        "quality.c4_curly_bracket": int(bracket),
        "quality.c4_javascript_line_ratio": javascript_lines / considered if considered else 0.0,
        "quality.c4_policy_line_ratio": policy_lines / considered if considered else 0.0,
        "quality.c4_sentences": count_sentences(sentence_lines),
    }


def fineweb_scores(text: str, n_tokens: int, t: Thresholds) -> dict[str, float]:
    """FineWeb: lines ending in punctuation, short lines, duplicated line characters, newlines."""
    lines = [line for line in text.split("\n") if line.strip()]
    n_lines = len(lines)
    return {
        "quality.fineweb_line_punct_ratio": sum(line[-1] in _TERMINAL_PUNCTUATION for line in lines) / n_lines,
        "quality.fineweb_short_line_ratio": sum(len(line) <= t.fineweb_short_line_length for line in lines) / n_lines,
        "quality.fineweb_char_dup_ratio": duplicates(lines)[1] / max(len(text) - text.count("\n"), 1),
        "quality.fineweb_newline_ratio": text.count("\n") / n_tokens,
    }


# ---------------------------------------------------------------------------------------------
# The step.


def _language_and_script(lang: str | None) -> tuple[str | None, str | None]:
    if not lang:
        return None, None
    code, _, script = lang.partition("_")
    return code, script or None


class QualityFilter(Filter):
    """Gopher + C4 + FineWeb heuristics in one pass, per language. Drops with the rule's name.

    Args:
        thresholds: a `Thresholds`, or a dict of its fields; keyword arguments override it
            (`QualityFilter(min_words=20)`).
        per_language: overrides by language, `{key: {field: value}}`, where a key is a script
            (`"Ethi"`), a language (`"yor"`) or a tag (`"yor_Latn"`); applied in that order over the
            global thresholds and the built-in `SCRIPT_THRESHOLDS`. A `stop_words` list here
            replaces the built-in one (or gives one to a language that has none).
        rules: the rules to apply. Default: all of `RULES` for plain text and `INSTRUCTION_RULES`
            for chat records (`metadata["messages"]`): page-shape rules (50-word minimum, sentence
            count, line punctuation) would drop most good instruction/QA/dialogue records.
        rejects: optional writer for dropped records (see `curation.steps.Filter`).

    The language is `doc.metadata["lang"]` (`swh_Latn`); the script comes from it, else from
    `metadata["script"]`, else from the text. Without a language, the stop-word rule is skipped.
    """

    name = "quality"
    score_prefix = "quality."

    def __init__(
        self,
        thresholds: Thresholds | Mapping[str, Any] | None = None,
        *,
        per_language: Mapping[str, Mapping[str, Any]] | None = None,
        rules: Iterable[str] | None = None,
        outputs: SideOutputs | None = None,
        **threshold_overrides: Any,
    ):
        super().__init__(outputs)
        base = thresholds if isinstance(thresholds, Thresholds) else _replace(Thresholds(), thresholds or {}, "thresholds")
        self.thresholds = _replace(base, threshold_overrides, "QualityFilter")
        self.rules = _checked_rules(rules)
        self.chat_rules = self.rules if rules is not None else frozenset(INSTRUCTION_RULES)
        self.per_language = {key: dict(values) for key, values in (per_language or {}).items()}
        for key, values in self.per_language.items():
            _replace(self.thresholds, values, f"per_language.{key}")  # fail at construction
        # keyed by "lang|script" strings: datatrove dumps a step's attributes as JSON (executor.json)
        self._configs: dict[str, LanguageConfig] = {}

    def keep(self, doc: Document) -> bool | tuple[bool, str]:
        text = doc.text
        if not text or text.isspace():
            return False, "empty"
        script, rules, config = self._config_of(doc)
        scores = self.score(text, tokenize(text, script), config, rules)
        doc.metadata.setdefault("scores", {}).update(scores)
        for bound in config.bounds:
            if bound.fails(scores[bound.score]):
                return False, bound.rule
        return True

    def _config_of(self, doc: Document) -> tuple[str, frozenset[str] | None, LanguageConfig]:
        """(script, rule set, language config) that apply to `doc`."""
        lang = doc.metadata.get("lang")
        _, script = _language_and_script(lang)
        script = script or doc.metadata.get("script") or text_script(doc.text)
        rules = self.chat_rules if doc.metadata.get("messages") else self.rules
        return script, rules, self.config(lang, script, rules)

    def declare_thresholds(self, doc: Document, recorder: Any) -> None:
        if not doc.text or doc.text.isspace():
            return
        lang = record_lang(doc)
        for bound in self._config_of(doc)[2].bounds:
            recorder.declare(bound.score, lang=lang, **{bound.kind: bound.limit})

    def score(self, text: str, tok: Tokenized, config: LanguageConfig,
              rules: frozenset[str] | None = None) -> dict[str, float]:
        """The measures the enabled rules need (only those), keyed `quality.<measure>`."""
        t, rules = config.thresholds, self.rules if rules is None else rules
        scores: dict[str, float] = {}
        if not rules.isdisjoint(REPETITION_RULES):
            scores.update(repetition_scores(text, tok.tokens, t))
        if not rules.isdisjoint(GOPHER_QUALITY_RULES):
            scores.update(gopher_quality_scores(text, tok, config.stop_words))
        if not rules.isdisjoint(C4_RULES):
            scores.update(c4_scores(text, t))
        if not rules.isdisjoint(FINEWEB_RULES):
            scores.update(fineweb_scores(text, len(tok.tokens), t))
        return scores

    def config(self, lang: str | None, script: str | None, rules: frozenset[str] | None = None) -> LanguageConfig:
        """Thresholds, bounds and stop words for a language tag, script and rule set (cached)."""
        rules = self.rules if rules is None else rules
        key = f"{lang}|{script}|{'chat' if rules is self.chat_rules else 'text'}"  # (the same set when chosen)
        if key not in self._configs:
            self._configs[key] = self._resolve(lang, script, rules)
        return self._configs[key]

    def _resolve(self, lang: str | None, script: str | None, rules: frozenset[str]) -> LanguageConfig:
        code, _ = _language_and_script(lang)
        t = _replace(self.thresholds, SCRIPT_THRESHOLDS.get(script or "", {}), "SCRIPT_THRESHOLDS")
        for key in (script, code, lang):
            if key and key in self.per_language:
                t = _replace(t, self.per_language[key], f"per_language.{key}")
        if t.stop_words is not None:
            stop_words = frozenset(unicodedata.normalize("NFC", w.lower()) for w in t.stop_words)
        else:
            stop_words = builtin_stop_words(code, script) if code else None
        return LanguageConfig(t, _bounds(t, rules, stop_words is not None), stop_words)


def _replace(thresholds: Thresholds, values: Mapping[str, Any], where: str) -> Thresholds:
    """`thresholds` with `values` applied; unknown names are a recipe error naming `where`."""
    fields = {f.name for f in dataclasses.fields(Thresholds)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise RecipeError(f"{where}: unknown quality threshold(s) {unknown}; known: {sorted(fields)}")
    values = {k: _as_tuple(v) if k in _TUPLE_FIELDS else v for k, v in values.items()}
    for name, value in values.items():
        _check_not_negative(name, value, where)
    return dataclasses.replace(thresholds, **values)


_NGRAM_FIELDS = ("max_top_ngram_char_ratio", "max_dup_ngram_char_ratio")
_TUPLE_FIELDS = (*_NGRAM_FIELDS, "stop_words")


def _check_not_negative(name: str, value: Any, where: str) -> None:
    """Every threshold is a count, a length or a ratio, so none can be negative: a negative minimum
    would pass everything and a negative maximum drop everything, silently."""
    if name in _NGRAM_FIELDS:
        for pair in value or ():
            if len(pair) != 2 or pair[0] < 1 or pair[1] < 0:
                raise RecipeError(f"{where}.{name}: expected [n, ratio] pairs with n >= 1 and ratio >= 0 (got {pair})")
    elif isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        raise RecipeError(f"{where}.{name}: must be at least 0 (got {value})")


def _as_tuple(value: Any) -> Any:
    # YAML gives lists; thresholds are frozen and hashed, so nested lists become tuples.
    if value is None or isinstance(value, str):
        return value
    return tuple(_as_tuple(v) if isinstance(v, list | tuple) else v for v in value)


def _checked_rules(rules: Iterable[str] | None) -> frozenset[str]:
    if rules is None:
        return frozenset(RULES)
    chosen = frozenset(rules)
    unknown = sorted(chosen - set(RULES))
    if unknown:
        raise RecipeError(f"QualityFilter: unknown rule(s) {unknown}; known: {list(RULES)}")
    return chosen
