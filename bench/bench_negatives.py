"""Hard-negative mining for retrieval pairs: curate's miner (bm25s) beside rank-bm25, same tokens.

    PYTHONPATH=. python bench/bench_negatives.py [--k 3]

Data: XQuAD (/work/shared/data/xquad, not shipped with the project): 240 Wikipedia paragraphs
from 48 articles, in each of 12 languages (8 scripts, Chinese and Thai unspaced). Each
language's paragraphs are one corpus; every paragraph is mined as a positive. Nothing was tuned
on it (the miner's defaults, `near_duplicate` 0.5 and a candidate depth of 3k+1, were set before).

Measured, one process, per language then in total:
- passages mined per second and seconds per 1k passages, curate's HardNegativeMiner (bm25s
  index + batched retrieve) vs rank-bm25's BM25Okapi (get_scores per query), ratio printed;
- agreement: the share of curate's negatives also in rank-bm25's top k (both are BM25 variants
  with the same tokens, so they should mostly agree);
- hardness: the share of negatives from the positive's own article (same topic, different
  paragraph) vs what random paragraphs give (about 4/239): the reason to mine at all.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np

from generators.negatives import HardNegativeMiner, bm25_tokens

XQUAD = Path("/work/shared/data/xquad")


def paragraphs(path: Path) -> tuple[list[str], list[int]]:
    """The paragraphs of one language's file and the article each comes from."""
    texts, articles = [], []
    for index, article in enumerate(json.loads(path.read_text(encoding="utf-8"))["data"]):
        for paragraph in article["paragraphs"]:
            texts.append(paragraph["context"])
            articles.append(index)
    return texts, articles


def mine_rank_bm25(texts: list[str], k: int) -> list[list[int]]:
    """The peer: rank-bm25 over the same tokens, the top k other passages by score."""
    from rank_bm25 import BM25Okapi

    tokens = [bm25_tokens(t) for t in texts]
    index = BM25Okapi(tokens)
    found = []
    for i, query in enumerate(tokens):
        scores = index.get_scores(query)
        order = [int(j) for j in np.argsort(-scores) if j != i and scores[j] > 0]
        found.append(order[:k])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()
    totals = {"n": 0, "ours": 0.0, "peer": 0.0, "agree": 0, "negs": 0, "same": 0, "random_same": 0, "random": 0}
    rng = random.Random(0)
    print(f"{'lang':5} {'passages':>8} {'bm25s p/s':>10} {'rank-bm25 p/s':>14} {'ratio':>6} {'agree':>6} "
          f"{'same-article':>12} {'random':>7}")
    for path in sorted(XQUAD.glob("xquad.*.json")):
        lang = path.stem.split(".")[1]
        texts, articles = paragraphs(path)
        started = time.perf_counter()
        ours = HardNegativeMiner(texts).mine(range(len(texts)), args.k)
        ours_s = time.perf_counter() - started
        started = time.perf_counter()
        peer = mine_rank_bm25(texts, args.k)
        peer_s = time.perf_counter() - started
        negs = sum(len(n) for n in ours)
        agree = sum(len(set(a) & set(b)) for a, b in zip(ours, peer, strict=True))
        same = sum(articles[j] == articles[i] for i, n in enumerate(ours) for j in n)
        random_same = sum(articles[rng.choice([j for j in range(len(texts)) if j != i])] == articles[i]
                          for i in range(len(texts)) for _ in range(args.k))
        print(f"{lang:5} {len(texts):8d} {len(texts) / ours_s:10.0f} {len(texts) / peer_s:14.0f} "
              f"{peer_s / ours_s:6.1f} {agree / max(negs, 1):6.2f} {same / max(negs, 1):12.2f} "
              f"{random_same / (len(texts) * args.k):7.2f}")
        for key, value in (("n", len(texts)), ("ours", ours_s), ("peer", peer_s), ("agree", agree), ("negs", negs),
                           ("same", same), ("random_same", random_same), ("random", len(texts) * args.k)):
            totals[key] += value
    n = totals["n"]
    print(f"\nall {n} passages, k={args.k}: curate/bm25s {1000 * totals['ours'] / n:.2f} s per 1k passages, "
          f"rank-bm25 {1000 * totals['peer'] / n:.2f} s per 1k ({totals['peer'] / totals['ours']:.1f}x slower); "
          f"agreement {totals['agree'] / totals['negs']:.2f}; negatives from the positive's own article "
          f"{totals['same'] / totals['negs']:.2f} vs random {totals['random_same'] / totals['random']:.2f}")


if __name__ == "__main__":
    main()
