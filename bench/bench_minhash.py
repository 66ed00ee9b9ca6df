"""MinHash signature throughput and duplicates found: curate vs rensa, datasketch, datatrove.

    PYTHONPATH=. python bench/bench_minhash.py [--docs 4000] [--planted 400]

Builds ~2.3 KB English documents from FLORES-200 dev sentences (../shared/data relative to the
repo root; a built-in generator otherwise), plants near-duplicates (a few words replaced) and
measures, in one process and one run, signature docs/s of every method and what a 14 x 8 LSH
over its signatures finds (candidate pairs vs the planted ones; no verification). Also prints
curate's docs/s on other scripts and its Jaccard estimate error vs exact Jaccard.
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from filters.minhash import MinHashConfig, band_hashes, estimate_jaccard, signature
from filters.shingles import document_shingles, shingle_hashes

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "flores200-dev"
DOC_CHARS = 2300
CONFIG = MinHashConfig()
WORD = re.compile(r"\w+")


def load_sentences(lang: str) -> list[str]:
    path = DATA / f"{lang}.dev"
    if path.exists():
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(lang)
    vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(3000)]
    return [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(8, 30))) + "." for _ in range(1000)]


def build_docs(sentences: Sequence[str], count: int, rng: random.Random) -> list[str]:
    docs = []
    for _ in range(count):
        parts: list[str] = []
        while sum(map(len, parts)) < DOC_CHARS:
            parts.append(rng.choice(sentences))
        docs.append(" ".join(parts))
    return docs


def plant_near_duplicates(docs: list[str], count: int, rng: random.Random) -> tuple[list[str], set[tuple[int, int]]]:
    """Appends `count` edited copies (3% of words replaced); returns the planted (orig, copy) pairs."""
    planted = set()
    all_docs = list(docs)
    for original in rng.sample(range(len(docs)), count):
        words = docs[original].split()
        for position in rng.sample(range(len(words)), max(1, len(words) * 3 // 100)):
            words[position] = rng.choice(words)
        planted.add((original, len(all_docs)))
        all_docs.append(" ".join(words))
    return all_docs, planted


def lsh_pairs(band_keys: list[Sequence]) -> set[tuple[int, int]]:
    """Candidate pairs: docs that share any band (band_keys[doc][band] is hashable)."""
    pairs = set()
    for band in range(CONFIG.num_bands):
        buckets = defaultdict(list)
        for doc, keys in enumerate(band_keys):
            buckets[keys[band]].append(doc)
        for members in buckets.values():
            pairs.update((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
    return pairs


def bands_of(digest: Sequence[int]) -> list[tuple]:
    rows = CONFIG.rows_per_band
    return [tuple(digest[b * rows : (b + 1) * rows]) for b in range(CONFIG.num_bands)]


def word_5grams(text: str) -> list[str]:
    words = text.lower().split()
    return [" ".join(words[i : i + 5]) for i in range(max(1, len(words) - 4))]


# ----------------------------------------------------------------------------- methods


def curate_method(docs: list[str]) -> list[Sequence]:
    return [band_hashes(signature(document_shingles(doc, CONFIG.ngram)[2], CONFIG), CONFIG).tolist() for doc in docs]


def rensa_method(tokens: Callable[[str], list[str]]) -> Callable[[list[str]], list[Sequence]]:
    from rensa import RMinHash

    def run(docs: list[str]) -> list[Sequence]:
        keys = []
        for doc in docs:
            minhash = RMinHash(num_perm=CONFIG.num_hashes, seed=CONFIG.seed)
            minhash.update(tokens(doc))
            keys.append(bands_of(minhash.digest()))
        return keys

    return run


def datasketch_method(docs: list[str]) -> list[Sequence]:
    from datasketch import MinHash

    keys = []
    for doc in docs:
        minhash = MinHash(num_perm=CONFIG.num_hashes, seed=CONFIG.seed)
        minhash.update_batch([gram.encode() for gram in word_5grams(doc)])
        keys.append(bands_of(minhash.hashvalues.tolist()))
    return keys


class _RegexTokenizer:
    def word_tokenize(self, text: str) -> list[str]:
        return WORD.findall(text)


def datatrove_method(regex: bool) -> Callable[[list[str]], list[Sequence]]:
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature

    def run(docs: list[str]) -> list[Sequence]:
        with tempfile.TemporaryDirectory() as folder:
            step = MinhashDedupSignature(folder, config=MinhashConfig(num_buckets=CONFIG.num_bands,
                                                                      hashes_per_bucket=CONFIG.rows_per_band))
            if regex:
                step.word_tokenizer = _RegexTokenizer()
            return [[tuple(band) for band in step.get_signature(step.get_shingles(doc))] for doc in docs]

    return run


def measure(name: str, method: Callable[[list[str]], list[Sequence]], docs: list[str],
            planted: set[tuple[int, int]]) -> dict:
    method(docs[:20])  # warm-up: tables, imports, spaCy model
    start = time.perf_counter()
    keys = method(docs)
    seconds = time.perf_counter() - start
    found = lsh_pairs(keys)
    hits = len(found & planted)
    return {"name": name, "docs_s": len(docs) / seconds, "pairs": len(found),
            "recall": hits / len(planted), "precision": hits / len(found) if found else 1.0}


def estimator_error(docs: list[str], rng: random.Random, pairs: int = 300) -> tuple[float, float]:
    """Bias and RMSE of the signature's Jaccard estimate vs exact Jaccard over edited copies."""
    errors = []
    for _ in range(pairs):
        words = rng.choice(docs).split()
        edited = list(words)
        for position in rng.sample(range(len(words)), int(len(words) * rng.uniform(0.0, 0.15))):
            edited[position] = rng.choice(words)
        first, second = shingle_hashes(" ".join(words)), shingle_hashes(" ".join(edited))
        true = len(np.intersect1d(first, second)) / len(np.union1d(first, second))
        errors.append(estimate_jaccard(signature(first, CONFIG), signature(second, CONFIG)) - true)
    errors_array = np.array(errors)
    return float(errors_array.mean()), float(np.sqrt((errors_array**2).mean()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=4000)
    parser.add_argument("--planted", type=int, default=400)
    parser.add_argument("--skip-spacy", action="store_true", help="skip datatrove's default (spaCy) tokenizer")
    args = parser.parse_args()
    rng = random.Random(0)
    base = build_docs(load_sentences("eng_Latn"), args.docs - args.planted, rng)
    docs, planted = plant_near_duplicates(base, args.planted, rng)
    print(f"{len(docs)} docs, mean {np.mean([len(d) for d in docs]):.0f} chars, {len(planted)} planted near-duplicates")
    print(f"LSH {CONFIG.num_bands} bands x {CONFIG.rows_per_band} rows (threshold ~{CONFIG.lsh_threshold:.2f})\n")

    methods = [
        ("curate (5-gram, one-permutation)", curate_method),
        ("rensa RMinHash, 5-gram strings", rensa_method(word_5grams)),
        ("rensa RMinHash, words (README)", rensa_method(str.split)),
        ("datasketch MinHash.update_batch", datasketch_method),
        ("datatrove, regex tokenizer", datatrove_method(regex=True)),
    ]
    if not args.skip_spacy:
        methods.append(("datatrove, default (spaCy)", datatrove_method(regex=False)))
    results = [measure(name, method, docs, planted) for name, method in methods]
    ours = results[0]["docs_s"]
    print(f"{'method':36s} {'docs/s':>9s} {'vs curate':>9s} {'pairs':>7s} {'recall':>7s} {'precision':>9s}")
    for row in results:
        print(f"{row['name']:36s} {row['docs_s']:9.0f} {row['docs_s'] / ours:9.2f} {row['pairs']:7d} "
              f"{row['recall']:7.3f} {row['precision']:9.3f}")

    print("\ncurate on other scripts (same doc size):")
    for lang in ("rus_Cyrl", "hin_Deva", "zho_Hans", "tha_Thai"):
        sample = build_docs(load_sentences(lang), 500, rng)
        curate_method(sample[:10])
        start = time.perf_counter()
        curate_method(sample)
        print(f"  {lang}: {len(sample) / (time.perf_counter() - start):7.0f} docs/s")
    bias, rmse = estimator_error(base, rng)
    print(f"\nJaccard estimate vs exact (300 edited pairs, J 0.4-1.0): bias {bias:+.4f}, RMSE {rmse:.4f} "
          f"(binomial bound sqrt(J(1-J)/{CONFIG.num_hashes}) <= {0.5 / np.sqrt(CONFIG.num_hashes):.3f})")


if __name__ == "__main__":
    main()
