"""Synthetic short documents with planted exact, near and contained copies, for dedup's scale bench
and tests: made-up words (so unrelated docs share almost no shingles), fast to make at 1M docs.

Of every 100 docs about 80 are originals; the rest copy an earlier original: exact copies (case and
punctuation changed), near copies (one word replaced: Jaccard ~0.8 on 5-word shingles), contained copies (a 20-word span of a
longer original), and chains of near copies (each copy edits the previous one), which make the
components that need more than one star round.
"""

from __future__ import annotations

import numpy as np

WORDS = 20_000


def _vocabulary(rng: np.random.Generator) -> np.ndarray:
    letters = rng.integers(ord("a"), ord("z") + 1, size=(WORDS, 8), dtype=np.uint8)
    lengths = rng.integers(4, 9, size=WORDS)
    return np.array([row[:n].tobytes().decode("ascii") for row, n in zip(letters, lengths.tolist(), strict=True)])


def make_corpus(docs: int, seed: int = 0, words: int = 40) -> list[tuple[str, str]]:
    """`docs` (id, text) pairs with planted copies (see the module docstring)."""
    rng = np.random.default_rng(seed)
    vocabulary = _vocabulary(rng)
    kinds = rng.choice(5, size=docs, p=[0.80, 0.05, 0.06, 0.05, 0.04])  # original, exact, near, contained, chain
    corpus: list[tuple[str, str]] = []
    originals: list[np.ndarray] = []
    last_chain: np.ndarray | None = None
    for i, kind in enumerate(kinds.tolist()):
        if kind == 0 or not originals:
            tokens = rng.integers(0, WORDS, size=words + int(rng.integers(0, 20)))
            originals.append(tokens)
            corpus.append((f"d{i}", " ".join(vocabulary[tokens].tolist())))
            continue
        source = originals[int(rng.integers(0, len(originals)))]
        if kind == 1:
            corpus.append((f"d{i}", " ".join(vocabulary[source].tolist()).upper() + " !"))
        elif kind in (2, 4):
            base = last_chain if kind == 4 and last_chain is not None and rng.random() < 0.8 else source
            edited = base.copy()
            edited[int(rng.integers(0, len(edited)))] = int(rng.integers(0, WORDS))
            last_chain = edited
            corpus.append((f"d{i}", " ".join(vocabulary[edited].tolist())))
        else:
            start = int(rng.integers(0, max(1, len(source) - 20)))
            corpus.append((f"d{i}", " ".join(vocabulary[source[start : start + 20]].tolist())))
    return corpus
