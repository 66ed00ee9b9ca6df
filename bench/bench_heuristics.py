"""Speed and agreement of `filters.heuristics.QualityFilter` against datatrove's default chain.

    python bench/bench_heuristics.py [--datatrove-docs 300] [--docs 3000]

datatrove's chain: GopherRepetitionFilter + GopherQualityFilter +
C4QualityFilter(filter_no_terminal_punct=False) + FineWebQualityFilter, with their default
(spaCy) word tokenizers. Ours: one QualityFilter with thresholds set to datatrove's where our
defaults differ (`c4_min_sentences=5`, `min_alpha_word_ratio=0.8`), so the agreement compares
the same rules.

Documents are ~2 KB: FLORES-200 dev sentences (../shared/data/flores200-dev, when present)
grouped into paragraphs, and, for English, the same documents turned into junk in the ways
each rule is meant to catch (repeated lines, lists, hashtags, code, cookie banners...), so the
agreement is measured on both kept and dropped documents. Without FLORES, a small built-in
generator makes the text. Prints docs/s for each chain, the ratio, and the agreement.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from datatrove.data import Document

from filters.heuristics import QualityFilter

FLORES = Path(__file__).resolve().parents[2] / "shared" / "data" / "flores200-dev"
LANGUAGES = ("eng_Latn", "swh_Latn", "yor_Latn", "hau_Latn", "hin_Deva", "npi_Deva", "amh_Ethi", "arb_Arab",
             "rus_Cyrl", "tam_Taml", "zho_Hans", "jpn_Jpan", "tha_Thai", "khm_Khmr", "mya_Mymr", "bod_Tibt")
DOC_CHARS = 2000


def sentences(lang: str) -> list[str]:
    path = FLORES / f"{lang}.dev"
    if path.exists():
        return path.read_text(encoding="utf-8").splitlines()
    return _generated_sentences(random.Random(lang))


def _generated_sentences(rng: random.Random, count: int = 500) -> list[str]:
    # Fallback when FLORES is absent: English-like sentences from a small vocabulary.
    words = ["the", "of", "and", "to", "in", "is", "was", "for", "that", "with", "on", "as", "by", "it", "at", "from", "this", "have", "be", "are", "not", "river", "city", "people", "market", "school", "water", "report", "council", "farmers", "season", "rain", "road", "children", "health", "new", "local", "government", "said", "year", "first", "after", "more", "than"]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(8, 24))).capitalize() + "."
            for _ in range(count)]


def clean_documents(lang: str, rng: random.Random, count: int) -> list[str]:
    """~2 KB documents: paragraphs of 2-4 consecutive sentences, one paragraph a line."""
    pool = sentences(lang)
    docs = []
    for _ in range(count):
        i = rng.randrange(len(pool))
        paragraphs: list[str] = []
        while sum(map(len, paragraphs)) < DOC_CHARS:
            size = rng.randint(2, 4)
            paragraphs.append(" ".join(pool[(i + k) % len(pool)] for k in range(size)))
            i += size
        docs.append("\n".join(paragraphs))
    return docs


# Ways to turn a clean document into junk (each aims at one or more rules).
def _repeat_lines(doc: str, rng: random.Random) -> str:
    lines = doc.split("\n")
    return "\n".join(lines + lines[: max(1, len(lines) // 2)])


def _one_repeated_line(doc: str, rng: random.Random) -> str:
    return doc + "\nShare this article\nShare this article"


def _bullets(doc: str, rng: random.Random) -> str:
    words = doc.split()
    return "\n".join("- " + " ".join(words[i : i + rng.randint(2, 5)]) for i in range(0, len(words), 4))


def _hashtags(doc: str, rng: random.Random) -> str:
    return " ".join(w if rng.random() > 0.3 else f"#{w}" for w in doc.split(" "))


def _ellipsis_lines(doc: str, rng: random.Random) -> str:
    return "\n".join(line[: rng.randint(40, 120)] + "..." for line in doc.split("\n"))


def _numbers(doc: str, rng: random.Random) -> str:
    table = "\n".join(" | ".join(str(rng.randint(0, 9999)) for _ in range(6)) for _ in range(25))
    return doc[: len(doc) // 3] + "\n" + table


def _lorem(doc: str, rng: random.Random) -> str:
    return doc + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod."


def _code(doc: str, rng: random.Random) -> str:
    return doc + "\nfunction add(a, b) { return a + b; } // add two numbers"


def _cookies(doc: str, rng: random.Random) -> str:
    banner = ["This website uses cookies to improve your experience.", "Read our privacy policy.",
              "By continuing you accept the terms of use and cookie policy.", "Please enable JavaScript in your browser."]
    return "\n".join(banner * 3 + doc.split("\n")[:1])


def _short(doc: str, rng: random.Random) -> str:
    return " ".join(doc.split()[: rng.randint(10, 45)])


def _menu(doc: str, rng: random.Random) -> str:
    words = doc.split()
    return "\n".join(" ".join(words[i : i + 2]).strip(".,") for i in range(0, min(len(words), 120), 2))


def _repeated_sentence(doc: str, rng: random.Random) -> str:
    sentence = doc.split(". ")[0]
    return doc[: len(doc) // 2] + " " + ". ".join([sentence] * 6)


def _long_words(doc: str, rng: random.Random) -> str:
    words = doc.split()
    return " ".join("".join(words[i : i + 3]) for i in range(0, len(words), 3))


JUNK: tuple[Callable[[str, random.Random], str], ...] = (
    _repeat_lines, _one_repeated_line, _bullets, _hashtags, _ellipsis_lines, _numbers, _lorem,
    _code, _cookies, _short, _menu, _repeated_sentence, _long_words,
)


def english_documents(rng: random.Random, count: int) -> list[str]:
    """Half clean, half junk (each junk kind equally often)."""
    clean = clean_documents("eng_Latn", rng, count)
    return [doc if i % 2 == 0 else JUNK[(i // 2) % len(JUNK)](doc, rng) for i, doc in enumerate(clean)]


def datatrove_chain() -> list:
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    return [GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(filter_no_terminal_punct=False),
            FineWebQualityFilter()]


def datatrove_keeps(chain: list, text: str) -> tuple[bool, str]:
    doc = Document(text=text, id="0")
    for step in chain:
        verdict = step.filter(doc)
        if verdict is not True and not (isinstance(verdict, tuple) and verdict[0]):
            return False, f"{step.name}: {verdict[1] if isinstance(verdict, tuple) else ''}"
    return True, ""


def ours_keeps(step: QualityFilter, text: str, lang: str) -> tuple[bool, str]:
    verdict = step.keep(Document(text=text, id="0", metadata={"lang": lang}))
    return (True, "") if verdict is True else (False, verdict[1])


def throughput(keep: Callable[[str], object], texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        keep(text)
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datatrove-docs", type=int, default=300, help="documents for datatrove's chain (slow)")
    parser.add_argument("--docs", type=int, default=3000, help="documents per language for ours")
    args = parser.parse_args()
    rng = random.Random(0)
    print(f"data: {'FLORES-200 dev' if FLORES.exists() else 'built-in generator (no ../shared/data)'}")

    # datatrove's thresholds where our defaults differ, for a like-for-like agreement.
    ours = QualityFilter(c4_min_sentences=5, min_alpha_word_ratio=0.8)
    chain = datatrove_chain()
    english = english_documents(rng, args.datatrove_docs)
    datatrove_keeps(chain, english[0])  # load spaCy outside the timing

    # Speed on clean ~2 KB English (the brief's comparison), same documents for both.
    clean = clean_documents("eng_Latn", rng, args.datatrove_docs)
    dt_speed = throughput(lambda text: datatrove_keeps(chain, text), clean)
    our_speed = throughput(lambda text: ours_keeps(ours, text, "eng_Latn"), clean * max(1, args.docs // len(clean)))
    print(f"\nclean English ~{sum(map(len, clean)) // len(clean)} chars/doc, one process:")
    print(f"  datatrove default chain  {dt_speed:8.0f} docs/s")
    print(f"  curate QualityFilter     {our_speed:8.0f} docs/s   ratio {our_speed / dt_speed:.1f}x")
    mixed_speed = throughput(lambda text: datatrove_keeps(chain, text), english)
    our_mixed = throughput(lambda text: ours_keeps(ours, text, "eng_Latn"), english * max(1, args.docs // len(english)))
    print(f"  half-junk English: datatrove {mixed_speed:.0f} docs/s, curate {our_mixed:.0f} docs/s "
          f"({our_mixed / mixed_speed:.1f}x)")

    # Agreement on English, clean and junk.
    theirs = [datatrove_keeps(chain, text) for text in english]
    mine = [ours_keeps(ours, text, "eng_Latn") for text in english]
    agree = sum(a[0] == b[0] for a, b in zip(theirs, mine, strict=True))
    print(f"\nagreement on {len(english)} English docs (half junk): {agree / len(english):.1%} "
          f"(datatrove keeps {sum(a[0] for a in theirs)}, curate keeps {sum(b[0] for b in mine)})")
    disagreements = Counter((a[1] or "keep", b[1] or "keep") for a, b in zip(theirs, mine, strict=True) if a[0] != b[0])
    for (their_reason, our_reason), n in disagreements.most_common(10):
        print(f"  {n:4d}  datatrove: {their_reason:45s} curate: {our_reason}")
    reasons = Counter(b[1] for b in mine if not b[0])
    print("  curate drop reasons:", dict(reasons.most_common()))

    print(f"\ncurate on other languages (~2 KB clean docs, {args.docs} each, default thresholds):")
    default = QualityFilter()
    for lang in LANGUAGES:
        docs = clean_documents(lang, rng, args.docs)
        speed = throughput(lambda text, lang=lang: ours_keeps(default, text, lang), docs)
        kept = sum(ours_keeps(default, text, lang)[0] for text in docs[:300])
        drops = Counter(ours_keeps(default, text, lang)[1] for text in docs[:300])
        drops.pop("", None)
        print(f"  {lang:9s} {speed:7.0f} docs/s   kept {kept}/300 {dict(drops) if drops else ''}")


if __name__ == "__main__":
    main()
