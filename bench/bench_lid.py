"""Language-ID accuracy on FLORES-200 dev by text length: raw lid.176, langdetect, and curate's.

    python bench/bench_lid.py [--per-lang 100] [--lang swh --lang yor ...] [--verbose]

Counts only FLORES languages lid.176 can output, in a script the language is written in
(`arb_Latn` is left out, `zho_Hans` counts as Chinese). Each sentence is scored whole, and cut
at a word boundary to at most 40 and 20 characters (character cut for unspaced scripts).
langdetect is scored on its own 55 languages only; the summary also gives all three systems on
that shared subset, so the comparison with it is like for like. Throughput is measured on
~2.3 KB documents made of consecutive sentences. Needs `../shared/data/flores200-dev` next to the
repository; prints a message and exits 0 without it.
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curation.languages import LID_LABEL_PREFIX, language, lid176_label_to_code  # noqa: E402
from filters import fasttext_lid, lid  # noqa: E402

FLORES_DIR = REPO.parent / "shared" / "data" / "flores200-dev"
LENGTHS: tuple[int | None, ...] = (None, 40, 20)  # None: the whole sentence
FLORES_SCRIPT_ALIASES = {"Hans": "Hani", "Hant": "Hani"}
DOC_CHARS = 2300

Predictor = Callable[[str], str]  # text -> canonical ISO 639-3 code


def cut_at_word(text: str, max_chars: int | None) -> str:
    """At most `max_chars` characters, ending at a space when there is one to end at."""
    if max_chars is None or len(text) <= max_chars:
        return text
    head = text[: max_chars + 1]
    space = head.rfind(" ")
    return head[:space] if space > 0 else text[:max_chars]


def load_flores(per_lang: int, only: set[str] | None) -> dict[str, list[str]]:
    """FLORES file stem (`swh_Latn`) -> a fixed random sample of its sentences."""
    samples = {}
    for path in sorted(FLORES_DIR.glob("*.dev")):
        code, script = path.stem.split("_")
        if not _lid176_writes(code, FLORES_SCRIPT_ALIASES.get(script, script)):
            continue
        if only and code not in only:
            continue
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        random.Random(0).shuffle(lines)
        samples[path.stem] = lines[:per_lang]
    return samples


def _lid176_writes(code: str, script: str) -> bool:
    try:
        lang = language(code)
    except ValueError:
        return False
    return lang.code == code and lang.lid_label is not None and script in lang.scripts


def raw_lid176(text: str) -> str:
    labels, _ = fasttext_lid.load_lid176().predict(text.replace("\n", " "), k=1)
    return lid176_label_to_code()[labels[0].removeprefix(LID_LABEL_PREFIX)]


def langdetect_alone(text: str) -> str:
    dist = lid.langdetect_distribution(text)
    return max(dist, key=dist.__getitem__) if dist else lid.UNDETERMINED


def ours(identifier: lid.LanguageIdentifier) -> Predictor:
    return lambda text: identifier.identify(text).code


def accuracy(predict: Predictor, code: str, texts: list[str]) -> float:
    return sum(predict(text) == code for text in texts) / len(texts)


def measure(samples: dict[str, list[str]], systems: dict[str, Predictor]) -> dict[tuple[str, str, int | None], float]:
    """(stem, system, length) -> accuracy; langdetect only on languages it knows."""
    known = lid.langdetect_languages()
    results = {}
    for stem, sentences in samples.items():
        code = stem.split("_")[0]
        for length in LENGTHS:
            texts = [cut_at_word(s, length) for s in sentences]
            for name, predict in systems.items():
                if name == "langdetect" and code not in known:
                    continue
                results[stem, name, length] = accuracy(predict, code, texts)
    return results


def docs_per_second(predict: Predictor, docs: list[str]) -> float:
    start = time.perf_counter()
    for doc in docs:
        predict(doc)
    return len(docs) / (time.perf_counter() - start)


def make_documents(samples: dict[str, list[str]], count: int) -> list[str]:
    docs = []
    stems = sorted(samples)
    for i in range(count):
        sentences = samples[stems[i % len(stems)]]
        doc, j = "", i
        while len(doc) < DOC_CHARS:
            doc += sentences[j % len(sentences)] + "\n"
            j += 1
        docs.append(doc[:DOC_CHARS])
    return docs


def macro(results: dict, system: str, length: int | None, stems: list[str]) -> float:
    values = [results[s, system, length] for s in stems if (s, system, length) in results]
    return sum(values) / len(values) if values else float("nan")


def length_name(length: int | None) -> str:
    return "full" if length is None else f"<={length}"


def print_table(results: dict, stems: list[str], systems: list[str]) -> None:
    header = f"{'language':<10}" + "".join(f"{f'{s[:8]} {length_name(n)}':>15}" for s in systems for n in LENGTHS)
    print(header)
    for stem in stems:
        cells = [results.get((stem, s, n)) for s in systems for n in LENGTHS]
        print(f"{stem:<10}" + "".join(f"{'-' if c is None else f'{c:.2f}':>15}" for c in cells))


def print_summary(results: dict, stems: list[str], systems: list[str]) -> None:
    known = lid.langdetect_languages()
    ld_stems = [s for s in stems if s.split("_")[0] in known]
    print(f"\nmacro accuracy over {len(stems)} FLORES variants (langdetect: the {len(ld_stems)} it knows)")
    for system in systems:
        cells = "  ".join(f"{length_name(n)} {macro(results, system, n, stems):.3f}" for n in LENGTHS)
        print(f"  {system:<11} {cells}")
    print(f"macro accuracy over the {len(ld_stems)} variants langdetect knows")
    for system in systems:
        cells = "  ".join(f"{length_name(n)} {macro(results, system, n, ld_stems):.3f}" for n in LENGTHS)
        print(f"  {system:<11} {cells}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-lang", type=int, default=100, help="sentences sampled per language")
    parser.add_argument("--lang", action="append", help="only these ISO 639-3 codes (repeatable)")
    parser.add_argument("--docs", type=int, default=2000, help="documents for the throughput measure")
    parser.add_argument("--verbose", action="store_true", help="print the per-language table")
    args = parser.parse_args()
    if not FLORES_DIR.is_dir():
        print(f"FLORES-200 dev not found at {FLORES_DIR}; nothing to measure.")
        return 0

    samples = load_flores(args.per_lang, set(args.lang) if args.lang else None)
    # langdetect runs alone and inside ours on the same short texts: pay for each text once.
    lid.langdetect_distribution = functools.cache(lid.langdetect_distribution)
    identifier = lid.LanguageIdentifier()
    systems = {"lid176": raw_lid176, "ours": ours(identifier), "langdetect": langdetect_alone}
    start = time.perf_counter()
    results = measure(samples, systems)
    elapsed = time.perf_counter() - start

    stems = sorted(samples)
    names = list(systems)
    if args.verbose or args.lang:
        print_table(results, stems, names)
    print_summary(results, stems, names)

    docs = make_documents(samples, args.docs)
    raw_rate = docs_per_second(raw_lid176, docs)
    our_rate = docs_per_second(ours(identifier), docs)
    # Without langdetect on long texts fastText is unsure of (Somali...): the price of that opinion.
    sure_rate = docs_per_second(ours(lid.LanguageIdentifier(unsure_below=0.0)), docs)
    print(f"throughput on {len(docs)} docs of {DOC_CHARS} chars: lid176 {raw_rate:,.0f} docs/s, "
          f"ours {our_rate:,.0f} docs/s ({our_rate / raw_rate:.2f}x), "
          f"ours with unsure_below=0 {sure_rate:,.0f} docs/s ({sure_rate / raw_rate:.2f}x)")
    print(
        "summary: macro acc full/<=40/<=20 "
        + " | ".join(
            f"{s} {'/'.join(f'{macro(results, s, n, stems):.3f}' for n in LENGTHS)}" for s in ("lid176", "ours")
        )
        + f" | accuracy pass took {elapsed:.0f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
