"""Benchmark decontamination on real text: what curate's `decontaminate` catches, and what it does not.

    PYTHONPATH=. python bench/bench_decontamination.py [--ratios]

Data (../shared/data relative to the repo root, or $CURATE_SHARED_DATA; the bench stops when it is missing):

- the benchmark: XQuAD (240 Wikipedia paragraphs, each with ~5 questions, human-translated into
  12 languages). Indexed: en, de, ru, zh, hi, ar, th, one benchmark per language (`xquad-<lang>`),
  an item per paragraph with fields [context, questions] (the question list indexed string by string);
- clean text: FLORES-200 dev sentences of the same languages (and es, el, tr, vi, ro), four
  consecutive sentences per record: the carriers the test items are planted into, and, unplanted,
  the false-positive check;
- planted kinds, each in its own carrier record (the item's text inserted between its sentences):
  verbatim question; verbatim context (whole paragraph); partial context (one sentence of it, 15+
  words or 25+ characters in Chinese/Thai); question with case and punctuation changed; question with
  one word replaced; context with three words replaced; translated: the same paragraph's question and
  context in es/el/tr/vi/ro, languages no benchmark holds (the English XQuAD item is their source).

Tuned on the even paragraphs (n-gram length and the short-field minimum), reported on the odd ones.
The same records go through datatrove's NGramsDecontIndexer/NGramsDecontFilter (13-grams, its spaCy
word tokenizers, label-only n-grams) for the languages its tokenizers load offline, with ratios.
`--ratios` prints the tokens per English word per unspaced script on FLORES (filters/decontaminate.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from datatrove.data import Document

from curation.inputs import expand_inputs
from curation.recipe import BenchmarkSpec, Limits
from filters.decontaminate import BuildDecontaminationIndex, Decontaminate

DATA = Path(os.environ.get("CURATE_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
INDEXED = {"en": "eng_Latn", "de": "deu_Latn", "ru": "rus_Cyrl", "zh": "zho_Hans", "hi": "hin_Deva", "ar": "arb_Arab",
           "th": "tha_Thai"}
TRANSLATED = {"es": "spa_Latn", "el": "ell_Grek", "tr": "tur_Latn", "vi": "vie_Latn", "ro": "ron_Latn"}
UNSPACED = {"zh", "th"}
KINDS = ("verbatim_question", "verbatim_context", "partial_context", "edited_case_punct", "edited_question_1word",
         "edited_context_3words", "translated")


def paragraphs(lang: str) -> list[dict]:
    data = json.loads((DATA / "xquad" / f"xquad.{lang}.json").read_text())["data"]
    return [{"context": p["context"], "questions": [q["question"] for q in p["qas"]]}
            for article in data for p in article["paragraphs"]]


def flores(code: str) -> list[str]:
    return (DATA / "flores200-dev" / f"{code}.dev").read_text().splitlines()


def carriers(code: str, start: int) -> list[str]:
    """Records of four consecutive FLORES sentences, from sentence `start` on (halves do not share any)."""
    lines = flores(code)
    return [" ".join(lines[i:i + 4]) for i in range(start, len(lines) - 3, 8)]


def split_words(text: str, lang: str) -> list[str]:
    return list(text) if lang in UNSPACED else text.split()


def join_words(words: list[str], lang: str) -> str:
    return "".join(words) if lang in UNSPACED else " ".join(words)


def replace_words(text: str, lang: str, count: int, rng: random.Random, vocabulary: list[str]) -> str:
    words = split_words(text, lang)
    for position in rng.sample(range(len(words)), min(count, len(words))):
        words[position] = rng.choice(vocabulary)
    return join_words(words, lang)


def a_sentence(context: str, lang: str) -> str | None:
    sentences = [s for s in re.split(r"(?<=[.!?。])\s*", context) if s]
    long = [s for s in sentences if len(split_words(s, lang)) >= (25 if lang in UNSPACED else 15)]
    return long[len(long) // 2] if long else None


def plant(carrier: str, text: str, lang: str) -> str:
    sep = "" if lang in UNSPACED else " "
    middle = len(carrier) // 2
    cut = carrier.find(" ", middle) if lang not in UNSPACED else middle
    cut = middle if cut < 0 else cut
    return carrier[:cut] + sep + text + sep + carrier[cut:]


def planted_records(half: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, lang, text) for the paragraphs of one half (0: even, 1: odd)."""
    out = []
    by_lang = {lang: paragraphs(lang) for lang in [*INDEXED, *TRANSLATED]}
    for lang, code in {**INDEXED, **TRANSLATED}.items():
        pool = carriers(code, 4 * half)
        vocabulary = [w for line in flores(code)[:200] for w in split_words(line, lang)]
        for number, para in enumerate(by_lang[lang]):
            if number % 2 != half:
                continue
            carrier = pool[(number // 2) % len(pool)]
            question = para["questions"][number % len(para["questions"])]
            if lang in TRANSLATED:
                out.append(("translated", lang, plant(carrier, question + " " + para["context"], lang)))
                continue
            sentence = a_sentence(para["context"], lang)
            kinds = {"verbatim_question": question, "verbatim_context": para["context"],
                     "partial_context": sentence,
                     "edited_case_punct": re.sub(r"[?？,，.。]", "", question).upper() + " ?!",
                     "edited_question_1word": replace_words(question, lang, 1, rng, vocabulary),
                     "edited_context_3words": replace_words(para["context"], lang, 3, rng, vocabulary)}
            out += [(kind, lang, plant(carrier, text, lang)) for kind, text in kinds.items() if text]
    return out


def clean_records(half: int) -> list[tuple[str, str, str]]:
    """Unplanted FLORES records (the other offset from the carriers): every drop is a false positive."""
    return [("clean", lang, text) for lang, code in {**INDEXED, **TRANSLATED}.items()
            for text in carriers(code, 4 * half + 2)]


def build_curate_index(folder: Path, jsonl: dict[str, Path], ngram: int, min_ngram: int) -> tuple[float, dict]:
    specs = [BenchmarkSpec(name=f"xquad-{lang}", path=str(path), fields=["context", "questions"])
             for lang, path in jsonl.items()]
    step = BuildDecontaminationIndex(str(folder), specs, [expand_inputs([s.as_input()]) for s in specs], ngram,
                                     min_ngram, str(folder / "quarantine"), Limits())
    started = time.perf_counter()
    list(step.run())
    return time.perf_counter() - started, json.loads((folder / "index.json").read_text())


def run_curate(folder: Path, records: list[tuple[str, str, str]], **policy) -> tuple[list[bool], float, int]:
    """Caught flags, records/s, and the peak Python-heap bytes of checking (the index is memory-mapped)."""
    step = Decontaminate(str(folder), "bench", **policy)
    tracemalloc.start()
    started = time.perf_counter()
    caught = [step.keep(Document(text=text, id=str(i))) is not True for i, (_, _, text) in enumerate(records)]
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return caught, len(records) / elapsed, peak


def table(records: list[tuple[str, str, str]], caught: list[bool]) -> dict[str, tuple[int, int]]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (kind, _, _), hit in zip(records, caught, strict=True):
        totals[kind][0] += hit
        totals[kind][1] += 1
    return {kind: tuple(totals[kind]) for kind in (*KINDS, "clean") if kind in totals}


def datatrove_caught(folder: Path, jsonl_paras: dict[str, list[dict]], records: list[tuple[str, str, str]],
                     ) -> tuple[dict[str, list[bool | None]], float]:
    """datatrove's indexer (compute_hashes, run without lighteval) and filter, per language its tokenizer loads."""
    from datatrove.pipeline.decont.n_grams import NGramsDecontConfig, NGramsDecontFilter, NGramsDecontIndexer
    from datatrove.utils.hashing import create_hash_func
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    config = NGramsDecontConfig(n_grams=13, find_query_ngrams=True, find_overlap_ngrams=False)
    languages = {"en": "eng_Latn", "de": "deu_Latn", "ru": "rus_Cyrl", "hi": "hin_Deva", "ar": "arb_Arab",
                 "zh": "zho_Hans", "th": "tha_Thai"}
    filters, elapsed, checked = {}, 0.0, 0
    for lang, code in languages.items():
        try:
            tokenizer = load_word_tokenizer(code)
            tokenizer.word_tokenize("test sentence")
        except Exception as e:  # noqa: BLE001 (a tokenizer that needs a package or a download: left out, said so)
            print(f"  datatrove: no {code} tokenizer offline ({type(e).__name__}); left out")
            continue
        # this xxhash takes bytes only, and datatrove hands it str: encode on the way (else nothing runs)
        hash_func = create_hash_func(config.hash_config)
        indexer = SimpleNamespace(tokenizer=tokenizer, config=config, hash_func=lambda s, h=hash_func: h(s.encode()))
        hashes = set()
        for para in jsonl_paras[lang]:
            for text in [para["context"], *para["questions"]]:
                hashes.update(NGramsDecontIndexer.compute_hashes(indexer, text))
        lang_folder = folder / f"dt-{lang}"
        lang_folder.mkdir(parents=True, exist_ok=True)
        np.array(sorted(hashes), dtype=config.hash_config.np_descr).tofile(lang_folder / f"xquad-{lang}.index.hashes")
        filters[lang] = NGramsDecontFilter(str(lang_folder), config=config, language=code)
        filters[lang].hash_func = indexer.hash_func
    caught: dict[str, list[bool | None]] = {lang: [] for lang in filters}
    for lang, flt in filters.items():
        started = time.perf_counter()
        for kind, record_lang, text in records:
            # translated records are in other languages: check them with every indexed language's filter
            if record_lang == lang or kind == "translated" or record_lang in TRANSLATED:
                caught[lang].append(flt.filter(Document(text=text, id="x")) is not True)
                checked += 1
            else:
                caught[lang].append(None)
        elapsed += time.perf_counter() - started
    return caught, checked / elapsed if elapsed else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ratios", action="store_true", help="print tokens per English word on FLORES and stop")
    parser.add_argument("--no-datatrove", action="store_true")
    parser.add_argument("--no-tune", action="store_true", help="skip the TUNE half's sweep (report the defaults)")
    args = parser.parse_args()
    if not (DATA / "xquad").is_dir():
        sys.exit(f"{DATA} is missing (XQuAD, FLORES-200 dev): this bench needs the shared data")
    if args.ratios:
        print_ratios()
        return
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        paras = {lang: paragraphs(lang) for lang in INDEXED}
        jsonl = {}
        for lang, items in paras.items():
            jsonl[lang] = tmp_path / f"xquad-{lang}.jsonl"
            jsonl[lang].write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in items))
        halves = {half: planted_records(half, rng) + clean_records(half) for half in (0, 1)}

        print("TUNE half (even paragraphs): n-gram length x short-field minimum, min_matches 1")
        for ngram, min_ngram in () if args.no_tune else ((13, 8), (13, 6), (10, 6)):
            folder = tmp_path / f"idx-{ngram}-{min_ngram}"
            build_curate_index(folder, jsonl, ngram, min_ngram)
            caught, _, _ = run_curate(folder, halves[0])
            print(f"  ngram {ngram:2d} min_ngram {min_ngram}: " + ", ".join(
                f"{kind} {hit}/{total}" for kind, (hit, total) in table(halves[0], caught).items()))

        print("\nREPORT half (odd paragraphs), the defaults (ngram 13, min_ngram 8, min_matches 1):")
        folder = tmp_path / "idx-default"
        seconds, meta = build_curate_index(folder, jsonl, 13, 8)
        caught, speed, peak = run_curate(folder, halves[1])
        report = table(halves[1], caught)
        for kind, (hit, total) in report.items():
            print(f"  {kind:24s} {hit:4d}/{total:<4d} {hit / total:6.1%}")
        too_short = sum(b["fields_too_short"] for b in meta["benchmarks"].values())
        indexed = sum(b["fields_indexed"] for b in meta["benchmarks"].values())
        index_bytes = sum(b["bytes"] for b in meta["benchmarks"].values())
        print(f"  index: {indexed} fields indexed, {too_short} too short, "
              f"{sum(b['keys'] for b in meta['benchmarks'].values()):,} keys, {index_bytes / 1e6:.2f} MB on disk "
              f"(memory-mapped), built in {seconds:.1f} s; window lengths {meta['lengths'][:6]}...")
        print(f"  check: {speed:,.0f} records/s on one core, peak Python heap {peak / 1e6:.1f} MB")
        by_lang = Counter(lang for (kind, lang, _), hit in zip(halves[1], caught, strict=True)
                          if kind == "clean" and hit)
        print(f"  false positives by language: {dict(by_lang) or 'none'}")

        if not args.no_datatrove:
            print("\ndatatrove NGramsDecontFilter (13-grams, spaCy tokenizers), same REPORT records:")
            dt, dt_speed = datatrove_caught(tmp_path, paras, halves[1])
            for kind in (*KINDS, "clean"):
                ours, theirs = 0, 0
                total = 0
                for index, (k, _lang, _) in enumerate(halves[1]):
                    if k != kind:
                        continue
                    verdicts = [dt[lg][index] for lg in dt if dt[lg][index] is not None]
                    if not verdicts:
                        continue  # a language datatrove could not tokenize
                    total += 1
                    theirs += any(verdicts)
                    ours += caught[index]
                if total:
                    ratio = f"{ours / theirs:.2f}x" if theirs else "-"
                    print(f"  {kind:24s} curate {ours:4d}/{total:<4d} datatrove {theirs:4d}/{total:<4d} ratio {ratio}")
            print(f"  datatrove checks {dt_speed:,.0f} records/s per language filter; curate {speed:,.0f} "
                  f"records/s against all 7 benchmarks at once (ratio {speed / dt_speed:.1f}x)" if dt_speed else "")


def print_ratios() -> None:
    from filters.shingles import tokenize_codepoints

    def tokens(code: str) -> np.ndarray:
        return np.array([len(tokenize_codepoints(line)[1]) for line in flores(code)])

    english = tokens("eng_Latn")
    half = len(english) // 2
    for code in ("zho_Hans", "zho_Hant", "jpn_Jpan", "tha_Thai", "lao_Laoo", "khm_Khmr", "mya_Mymr", "bod_Tibt"):
        t = tokens(code)
        print(f"{code}: tune {t[:half].sum() / english[:half].sum():.2f}, "
              f"report {t[half:].sum() / english[half:].sum():.2f} tokens per English word")


if __name__ == "__main__":
    main()
