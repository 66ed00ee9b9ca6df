"""Instruction data with known, labelled corruptions, for measuring confidence filters (CLEAR-style).

    python bench/noisy_instructions.py [--clean 300] [--rate 0.2] [--seed 0] [--lang en|de|zh|...]

Real (prompt, response) pairs are taken from public data, and a random `corruption_rate` share of
them is corrupted in one of four ways, each on a disjoint random subset of about equal size:

- `swapped`: the response belongs to another, unrelated prompt (a different app / article, and the
  least character-3-gram overlap among 20 random candidates).
- `truncated`: the response is cut at 30-60% of its length, at a word boundary that does not end a
  sentence (a character boundary for unspaced scripts).
- `wrong_language`: the response is replaced by fluent text in another language on a related topic
  (English data: FLORES-200 dev sentences whose English side shares the most content words with the
  pair, taken from fra/deu/spa/swh/zho/rus/jpn; XQuAD data: the same answer sentence in another
  XQuAD language, so the content is right and only the language is wrong).
- `factual_error`: 1-3 local edits to the response: a number changed (3 -> 7, years +-13, others
  scaled), a month/weekday or a mid-sentence named entity swapped, or a statement negated
  (`is` -> `is not`; English only). For XQuAD the answer span itself is changed first. Records
  where no edit is possible are not eligible, and another record is picked.

Sources (next to the repository, see ../shared/data/README.md):
`build_noisy_set` uses self-instruct's 252 user-oriented instructions (English; instruction plus
input as the user turn, the reference output as the assistant turn); `build_noisy_multilingual`
uses XQuAD (question -> the context sentence that contains the answer; 1,190 pairs per language).
Every record is `{"id", "messages", "lang", "label", "meta"}`; `meta` says what was done.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import random
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
SELF_INSTRUCT = SHARED / "self-instruct" / "user_oriented_instructions.jsonl"
FLORES_DIR = SHARED / "flores200-dev"
XQUAD_DIR = SHARED / "xquad"

CORRUPTIONS = ("swapped", "truncated", "wrong_language", "factual_error")
# Order in which the corrupted subsets are drawn: the ones with eligibility rules first.
_DRAW_ORDER = ("factual_error", "truncated", "wrong_language", "swapped")
WRONG_LANGS = ("fra_Latn", "deu_Latn", "spa_Latn", "swh_Latn", "zho_Hans", "rus_Cyrl", "jpn_Jpan")
XQUAD_LANGS = {"ar": "arb", "de": "deu", "el": "ell", "en": "eng", "es": "spa", "hi": "hin",
               "ro": "ron", "ru": "rus", "th": "tha", "tr": "tur", "vi": "vie", "zh": "zho"}
SWAP_CANDIDATES = 20


class DataMissing(FileNotFoundError):
    """The reference data under ../shared/data is not there (a fresh clone has none)."""


@dataclass
class Pair:
    """One real (prompt, response) pair before corruption."""

    id: str
    prompt: str
    response: str
    group: str  # swapped responses come from another group (self-instruct app, XQuAD article)
    answer: str = ""  # XQuAD: the answer span inside `response`
    article_answers: list[str] = field(default_factory=list)  # XQuAD: other answers, same article


def _require(path: Path) -> Path:
    if not path.exists():
        raise DataMissing(f"{path} not found: the noisy-instruction benchmark needs ../shared/data next to "
                          "the repository (see ../shared/data/README.md)")
    return path


# --------------------------------------------------------------------------- sources


def load_self_instruct(path: Path = SELF_INSTRUCT) -> list[Pair]:
    """Self-instruct user-oriented tasks: instruction (+ blank line + input) -> reference output."""
    pairs = []
    for line in _require(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        task = json.loads(line)
        for k, inst in enumerate(task["instances"]):
            prompt = task["instruction"].strip()
            if inst.get("input", "").strip():
                prompt += "\n\n" + inst["input"].strip()
            response = inst["output"].strip()
            if response:
                pairs.append(Pair(f"{task['id']}_{k}", prompt, response, task.get("motivation_app", task["id"])))
    return pairs


_SENT_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？!?।])")
_ABBREV = re.compile(r"(?:\b[A-Z][a-z]?|\b[A-Z]\.[A-Z]|\b(?:e\.g|i\.e|etc|vs|ca|c))\.$")  # St. U.S. e.g.


def answer_sentence(context: str, start: int, answer: str, window: int = 150) -> str | None:
    """The sentence of `context` that contains the answer at `start` (None if the span is not there).

    Sentences end at . ! ? (followed by space), 。！？ and । ; a sentence longer than 400 characters
    (Thai has no full stops) is cut to `window` characters either side of the answer, at spaces.
    """
    if context[start:start + len(answer)] != answer:
        start = context.find(answer)
        if start < 0 or not answer:
            return None
    end = start + len(answer)
    bounds = [0] + [m.end() for m in _SENT_END.finditer(context)
                    if not _ABBREV.search(context[:m.start()])] + [len(context)]
    left = max(b for b in bounds if b <= start)
    right = min(b for b in bounds if b >= end)
    if right - left > 400:
        lo, hi = max(left, start - window), min(right, end + window)
        lo_space, hi_space = context.rfind(" ", left, lo + 1), context.find(" ", hi)
        left = lo_space + 1 if lo_space >= 0 else lo
        right = hi_space if 0 <= hi_space < right else hi
    sentence = context[left:right].strip()
    return sentence if answer in sentence else None


@functools.cache
def _xquad(lang: str) -> dict[str, tuple[str, str, str, str]]:
    """qa id -> (article number, question, answer sentence, answer) for one XQuAD language."""
    data = json.loads(_require(XQUAD_DIR / f"xquad.{lang}.json").read_text(encoding="utf-8"))
    out = {}
    for a, article in enumerate(data["data"]):
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                ans = qa["answers"][0]
                sentence = answer_sentence(paragraph["context"], ans["answer_start"], ans["text"])
                if sentence:
                    out[qa["id"]] = (f"article{a}", qa["question"].strip(), sentence, ans["text"])
    return out


def load_xquad(lang: str) -> list[Pair]:
    """XQuAD in `lang`: question -> the context sentence containing the answer.

    Groups are articles (by position, the same in every language), and each pair knows the other
    answers of its article.
    """
    if lang not in XQUAD_LANGS:
        raise ValueError(f"unknown XQuAD language {lang!r} (one of {', '.join(XQUAD_LANGS)})")
    rows = _xquad(lang)
    by_group: dict[str, list[str]] = {}
    for title, _, _, answer in rows.values():
        by_group.setdefault(title, []).append(answer)
    return [Pair(qid, q, s, title, answer=ans, article_answers=[x for x in by_group[title] if x != ans])
            for qid, (title, q, s, ans) in rows.items()]


@functools.cache
def _flores(tag: str) -> list[str]:
    return _require(FLORES_DIR / f"{tag}.dev").read_text(encoding="utf-8").splitlines()


# --------------------------------------------------------------------------- corruptions


def char_trigrams(text: str) -> set[str]:
    t = " ".join(text.lower().split())
    return {t[i:i + 3] for i in range(len(t) - 2)}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def swap_response(pair: Pair, pool: list[Pair], rng: random.Random) -> tuple[str, dict] | None:
    """The response of the least similar of 20 random pairs from another group."""
    others = [p for p in pool if p.group != pair.group and p.response != pair.response]
    if not others:
        return None
    mine = char_trigrams(pair.prompt + " " + pair.response)
    cands = rng.sample(others, min(SWAP_CANDIDATES, len(others)))
    donor = min(cands, key=lambda p: _jaccard(mine, char_trigrams(p.prompt + " " + p.response)))
    return donor.response, {"donor": donor.id}


def _unspaced(text: str) -> bool:
    return text.count(" ") < len(text) / 25


_CUT_BAD_END = re.compile(r"[.!?。！？।:;]\s*$")


def truncate(text: str, rng: random.Random) -> tuple[str, dict] | None:
    """Cut at 30-60% of the length, mid-sentence: at a word boundary (character for unspaced text)
    whose left side does not end a sentence. None for responses under 6 words / 20 characters."""
    n = len(text)
    lo, hi = math.ceil(0.3 * n), math.floor(0.6 * n)
    target = rng.uniform(0.3, 0.6) * n
    if _unspaced(text):
        if n < 20:
            return None
        cuts = list(range(lo, hi + 1))
    else:
        if len(text.split()) < 6:
            return None
        cuts = [m.start() for m in re.finditer(r"\s+", text) if lo <= m.start() <= hi]
    cuts = [c for c in cuts if text[:c].strip() and not _CUT_BAD_END.search(text[:c])]
    if not cuts:
        return None
    cut = min(cuts, key=lambda c: (abs(c - target), c))
    out = text[:cut].rstrip(" ,;-\n")
    return (out, {"kept": round(len(out) / n, 3)}) if out and out != text else None


_WORD = re.compile(r"[a-z]{4,}")
_STOP = frozenset(["this", "that", "with", "from", "have", "will", "your", "what", "which", "their", "there", "about", "would", "could", "should", "they", "them", "then", "than", "were", "been", "being", "into", "also", "more", "most", "some", "such", "only", "other", "these", "those", "when", "where", "while", "each", "many", "much", "very", "make", "made", "just", "like", "over", "after", "before", "because", "give", "given", "following", "write", "text", "list", "sentence", "answer", "question", "please", "using", "used", "words", "word", "based", "example"])


@functools.cache
def _flores_index() -> tuple[list[set[str]], dict[str, float]]:
    eng = [set(_WORD.findall(s.lower())) - _STOP for s in _flores("eng_Latn")]
    df = Counter(w for ws in eng for w in ws)
    return eng, {w: math.log(len(eng) / c) for w, c in df.items()}


def flores_text(topic: str, length: int, tag: str, rng: random.Random) -> tuple[str, dict]:
    """Consecutive FLORES-200 dev sentences in `tag`, starting at the sentence whose English side
    shares the most (idf-weighted) content words with `topic`, until the English side is at least
    `length` characters (1-8 sentences). No shared word: a random start."""
    eng_words, idf = _flores_index()
    words = set(_WORD.findall(topic.lower())) - _STOP
    scores = [sum(idf[w] for w in ws & words) + rng.random() * 1e-3 for ws in eng_words]
    best = max(range(len(scores)), key=scores.__getitem__)
    start = best if scores[best] >= 1.0 else rng.randrange(len(scores))
    eng, target = _flores("eng_Latn"), _flores(tag)
    end, got = start, 0
    while end < len(target) and end - start < 8 and (end == start or got < length):
        got += len(eng[end]) + 1
        end += 1
    sep = "" if tag.endswith(("Hans", "Hant", "Jpan")) else " "
    return sep.join(target[start:end]), {"lang": tag, "flores_lines": [start, end]}


def wrong_language_self_instruct(pair: Pair, rng: random.Random) -> tuple[str, dict] | None:
    tag = rng.choice(WRONG_LANGS)
    return flores_text(pair.prompt + " " + pair.response, len(pair.response), tag, rng)


def wrong_language_xquad(lang: str) -> Callable[[Pair, random.Random], tuple[str, dict] | None]:
    """The same answer sentence from another XQuAD language (FLORES when that one lacks it)."""

    def corrupt(pair: Pair, rng: random.Random) -> tuple[str, dict] | None:
        others = [x for x in XQUAD_LANGS if x != lang]
        rng.shuffle(others)
        for other in others:
            row = _xquad(other).get(pair.id)
            if row and row[2].strip() != pair.response.strip():
                return row[2], {"lang": XQUAD_LANGS[other], "source": f"xquad.{other}"}
        tags = [t for t in WRONG_LANGS if not t.startswith(XQUAD_LANGS[lang])]
        return flores_text("", len(pair.response), rng.choice(tags), rng)

    return corrupt


# factual edits: each finder yields (start, end, replacement, kind) candidates over `text`

# not inside a Latin word or a longer number, but "1830年" is a year
_YEAR = re.compile(r"(?<![A-Za-z\d.,])(1[5-9]\d\d|20[0-4]\d)(?![A-Za-z\d])")
_NUMBER = re.compile(r"(?<![A-Za-z\d.,])(\d+(?:[.,]\d+)?)(?![A-Za-z\d])")
_LIST_MARK = re.compile(r"(?m)^\s*\d+[.):-]\s")
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# auxiliaries only: negating "have"/"do" as main verbs ("you have any questions") is ungrammatical
_NEGATE = [(r"\b(is|are|was|were|will|should|must|can)\b(?! not\b)(?!n't)",
            lambda m: "cannot" if m.group(1) == "can" else m.group(1) + " not"),
           (r"\b(is|are|was|were|does|do|did|will|should|must) not\b", lambda m: m.group(1)),
           (r"\b(isn't|aren't|wasn't|doesn't|don't|didn't|can't|won't)\b",
            lambda m: {"isn't": "is", "aren't": "are", "wasn't": "was", "doesn't": "does", "don't": "do",
                       "didn't": "did", "can't": "can", "won't": "will"}[m.group(1)])]
_MID_ENTITY = re.compile(r"(?<=[a-z,] )([A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})?)\b")


def _change_number(token: str, rng: random.Random, year: bool) -> str:
    if year:
        return str(int(token) + rng.choice((-13, 13)))
    if "." in token or "," in token:
        digits = [i for i, ch in enumerate(token) if ch.isdigit()]
        i = rng.choice(digits)
        return token[:i] + rng.choice([d for d in "123456789" if d != token[i]]) + token[i + 1:]
    n = int(token)
    if n < 10:
        return str(rng.choice([d for d in range(2, 10) if d != n]))
    return str(max(n + 1, round(n * rng.choice((1.5, 2, 3)))) if rng.random() < 0.5 else max(1, round(n * 0.5)))


def _factual_candidates(text: str, rng: random.Random, english: bool,
                        entity_pool: list[str]) -> list[tuple[int, int, str, str]]:
    cands = []
    listed = {m.end() - 2 for m in _LIST_MARK.finditer(text)}  # "1. " item numbers are not facts
    for m in _YEAR.finditer(text):
        cands.append((m.start(), m.end(), _change_number(m.group(), rng, True), "year"))
    years = {m.start() for m in _YEAR.finditer(text)}
    for m in _NUMBER.finditer(text):
        if m.start() not in years and m.end() - 1 not in listed and m.end() not in listed:
            new = _change_number(m.group(1), rng, False)
            if new != m.group(1):
                cands.append((m.start(), m.end(), new, "number"))
    for names, kind in ((MONTHS, "month"), (DAYS, "weekday")):
        for m in re.finditer(r"\b(" + "|".join(names) + r")\b", text):
            cands.append((m.start(), m.end(), rng.choice([x for x in names if x != m.group()]), kind))
    if english:
        for pattern, repl in _NEGATE:
            for m in re.finditer(pattern, text):
                cands.append((m.start(), m.end(), repl(m), "negation"))
    if entity_pool and not _unspaced(text):
        pool = set(entity_pool)
        for m in _MID_ENTITY.finditer(text):
            if m.group() in pool:  # a proper name: swap it for another with as many words
                same = [e for e in entity_pool if e.count(" ") == m.group().count(" ") and e not in text]
                if same:
                    cands.append((m.start(), m.end(), rng.choice(same), "entity"))
    return cands


def factual_edit(text: str, rng: random.Random, english: bool, entity_pool: list[str],
                 forced: list[tuple[int, int, str, str]] | None = None) -> tuple[str, dict] | None:
    """1 edit (2 over 300 characters, 3 over 800) at non-overlapping random candidate spans,
    `forced` ones first. None when there is nothing to edit."""
    cands = _factual_candidates(text, rng, english, entity_pool)
    rng.shuffle(cands)
    # numbers, dates and entities are the clearest factual errors: prefer them over negation
    cands.sort(key=lambda c: c[3] == "negation")
    want = 1 + (len(text) > 300) + (len(text) > 800)
    chosen: list[tuple[int, int, str, str]] = []
    for c in (forced or []) + cands:
        if len(chosen) < want and all(c[1] <= s or c[0] >= e for s, e, _, _ in chosen):
            chosen.append(c)
    if not chosen:
        return None
    out = text
    for s, e, new, _ in sorted(chosen, reverse=True):
        out = out[:s] + new + out[e:]
    if out == text:
        return None
    return out, {"edits": [f"{k}: {text[s:e]!r} -> {new!r}" for s, e, new, k in sorted(chosen)]}


def _entity_pool(pairs: list[Pair]) -> list[str]:
    """Capitalized mid-sentence words (1-2) none of which the data ever writes in lower case:
    proper names (`Santa Monica`), not title-cased common words (`Section`)."""
    lower = {w for p in pairs for w in re.findall(r"\b[^\W\d_]+\b", p.prompt + " " + p.response) if w.islower()}
    found = {m.group() for p in pairs for m in _MID_ENTITY.finditer(p.response)}
    return sorted(e for e in found if e not in MONTHS + DAYS and all(w.lower() not in lower for w in e.split()))


def factual_xquad(pair: Pair, rng: random.Random, english: bool, pool: list[str]) -> tuple[str, dict] | None:
    """Change the answer span first: its numbers, or else another answer from the same article."""
    s = pair.response.find(pair.answer)
    forced = []
    if s >= 0 and pair.answer:
        if _NUMBER.search(pair.answer):
            edited = factual_edit(pair.answer, rng, english, [])
            if edited:
                forced.append((s, s + len(pair.answer), edited[0], "answer_number"))
        if not forced:
            digits = bool(re.search(r"\d", pair.answer))  # a date for a date, a name for a name
            others = [a for a in pair.article_answers if a not in pair.response and pair.answer not in a
                      and 0.3 <= len(a) / max(1, len(pair.answer)) <= 3 and bool(re.search(r"\d", a)) == digits]
            if others:
                forced.append((s, s + len(pair.answer), rng.choice(others), "answer_swap"))
    return factual_edit(pair.response, rng, english, pool, forced)


# --------------------------------------------------------------------------- assembly


def _quotas(n_corrupt: int, rng: random.Random) -> dict[str, int]:
    base, extra = divmod(n_corrupt, len(CORRUPTIONS))
    lucky = set(rng.sample(CORRUPTIONS, extra))
    return {c: base + (c in lucky) for c in CORRUPTIONS}


Corruptor = Callable[[Pair, random.Random], "tuple[str, dict] | None"]


def _assemble(pairs: list[Pair], n_clean: int, rate: float, seed: int, lang: str,
              corruptors: dict[str, Corruptor], matched: bool = False) -> list[dict]:
    if not 0 <= rate <= 1:
        raise ValueError(f"corruption_rate must be in [0, 1], got {rate}")
    if matched:  # clean records from the population the constrained corruptions can be drawn from
        probe = random.Random(seed + 1)
        pairs = [p for p in pairs if all(corruptors[k](p, probe) for k in ("truncated", "factual_error"))]
    rng = random.Random(seed)
    if n_clean > len(pairs):
        print(f"note: only {len(pairs)} source pairs available, using all of them (asked for {n_clean})",
              file=sys.stderr)
    chosen = rng.sample(pairs, min(n_clean, len(pairs)))
    quotas = _quotas(round(len(chosen) * rate), rng)
    labels: dict[int, tuple[str, str, dict]] = {}
    for kind in _DRAW_ORDER:
        order = [i for i in range(len(chosen)) if i not in labels]
        rng.shuffle(order)
        got = 0
        for i in order:
            if got == quotas[kind]:
                break
            result = corruptors[kind](chosen[i], rng)
            if result is not None and result[0].strip() and result[0] != chosen[i].response:
                labels[i] = (kind, result[0], result[1])
                got += 1
        if got < quotas[kind]:
            print(f"note: only {got} of {quotas[kind]} {kind} corruptions were possible", file=sys.stderr)
    records = []
    for i, pair in enumerate(chosen):
        label, response, meta = labels.get(i, ("clean", pair.response, {}))
        records.append({"id": pair.id,
                        "messages": [{"role": "user", "content": pair.prompt},
                                     {"role": "assistant", "content": response}],
                        "lang": lang, "label": label, "meta": meta})
    return records


def build_noisy_set(n_clean: int, corruption_rate: float = 0.2, seed: int = 0, matched: bool = False) -> list[dict]:
    """`n_clean` self-instruct pairs (at most 252), a `corruption_rate` share of them corrupted.

    Deterministic for a seed. Truncation needs 6+ words and factual edits need a number, date,
    name or auxiliary verb, so corrupted records are longer than clean ones on average (a length
    confound); `matched=True` draws every record from pairs that allow both (150 of 252), so
    clean and corrupted come from the same population. Raises DataMissing when ../shared/data is absent.
    """
    pairs = load_self_instruct()
    pool = _entity_pool(pairs)
    return _assemble(pairs, n_clean, corruption_rate, seed, "eng", {
        "swapped": lambda p, r: swap_response(p, pairs, r),
        "truncated": lambda p, r: truncate(p.response, r),
        "wrong_language": wrong_language_self_instruct,
        "factual_error": lambda p, r: factual_edit(p.response, r, True, pool),
    }, matched)


def build_noisy_multilingual(n_clean: int, corruption_rate: float = 0.2, seed: int = 0,
                             lang: str = "de", matched: bool = False) -> list[dict]:
    """The same benchmark on XQuAD in `lang` (ar de el en es hi ro ru th tr vi zh): question ->
    answer sentence. `lang` on the records is the ISO 639-3 code (`deu`); `matched` as in
    `build_noisy_set`."""
    pairs = load_xquad(lang)
    pool = _entity_pool(pairs)
    english = lang == "en"
    return _assemble(pairs, n_clean, corruption_rate, seed, XQUAD_LANGS[lang], {
        "swapped": lambda p, r: swap_response(p, pairs, r),
        "truncated": lambda p, r: truncate(p.response, r),
        "wrong_language": wrong_language_xquad(lang),
        "factual_error": lambda p, r: factual_xquad(p, r, english, pool),
    }, matched)


def build(n_clean: int, corruption_rate: float = 0.2, seed: int = 0, lang: str = "en",
          matched: bool = False) -> list[dict]:
    """`en`: self-instruct; any other XQuAD language code: XQuAD (use `xquad-en` for English XQuAD)."""
    if lang == "en":
        return build_noisy_set(n_clean, corruption_rate, seed, matched)
    return build_noisy_multilingual(n_clean, corruption_rate, seed, lang.removeprefix("xquad-"), matched)


def summarize(records: list[dict], examples: bool = True) -> str:
    """Counts and median response length per label, and one example of each corruption."""
    lines = []
    by_label: dict[str, list[dict]] = {}
    for r in records:
        by_label.setdefault(r["label"], []).append(r)
    lines.append(f"{len(records)} records, lang {sorted({r['lang'] for r in records})}")
    for label in ("clean", *CORRUPTIONS):
        rs = by_label.get(label, [])
        lens = sorted(len(r["messages"][1]["content"]) for r in rs)
        median = lens[len(lens) // 2] if lens else 0
        lines.append(f"  {label:<15} {len(rs):>4}   median response {median:>5} chars")
    if examples:
        for label in CORRUPTIONS:
            if by_label.get(label):
                r = by_label[label][0]
                clip = lambda s: " ".join(s.split())[:140]  # noqa: E731
                lines.append(f"\n[{label}] {r['id']} {json.dumps(r['meta'], ensure_ascii=False)[:160]}")
                lines.append(f"  user:      {clip(r['messages'][0]['content'])}")
                lines.append(f"  assistant: {clip(r['messages'][1]['content'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clean", type=int, default=300, help="source pairs to draw (corrupted ones included)")
    ap.add_argument("--rate", type=float, default=0.2, help="share of them to corrupt")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lang", default="en", help="en (self-instruct) or an XQuAD language (de, zh, xquad-en, ...)")
    ap.add_argument("--matched", action="store_true", help="only pairs every corruption applies to")
    ap.add_argument("--out", type=Path, help="write the records here as JSONL")
    args = ap.parse_args(argv)
    try:
        records = build(args.clean, args.rate, args.seed, args.lang, args.matched)
    except DataMissing as e:
        print(f"skipped: {e}")
        return 0
    print(summarize(records))
    if args.out:
        args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
