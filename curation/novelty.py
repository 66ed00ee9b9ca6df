"""Is a generated instruction new? Self-Instruct's role for ROUGE-L, done so it works in every script.

Self-Instruct keeps an instruction only when its ROUGE-L against every kept one is below 0.7. With
the default ROUGE tokenizer (lowercase ASCII words) two Chinese, Hindi or Arabic instructions score
0 whatever they say, so nothing is ever rejected outside Latin script. Here the similarity is the
Jaccard of CHARACTER 3-5-gram shingles of the normalized text (casefolded, NFKC, punctuation and
symbols gone, whitespace collapsed): the same measure for spaced and unspaced scripts, with no
tokenizer or script detector. datasketch's MinHashLSH finds candidate neighbours without comparing
against every kept text; the exact Jaccard of the shingle sets then decides, so the answer does
not depend on LSH luck near the threshold.

What 0.7 means in practice (measured): "请写一首关于秋天的诗。" vs "写一首关于秋天的诗" 0.86,
Hindi with one word dropped 0.92, "Give three tips..." vs "Give five tips..." 0.71, unrelated
instructions in any script ~0.0-0.05. Lower thresholds are stricter ("...诗" vs "...短诗" is 0.67).
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datasketch import MinHash

SHINGLE_SIZES = (3, 4, 5)
# Fixed so signatures (and therefore which texts are candidates) agree across runs and processes.
MINHASH_SEED = 1


def normalize_text(text: str, keep_spaces: bool = True) -> str:
    """Casefolded NFKC text with punctuation, symbols and controls removed.

    Combining marks stay: they are letters in Devanagari, Arabic or Thai. With `keep_spaces`
    word boundaries survive as single spaces; without, all whitespace goes too (for "does this
    answer occur in the passage" checks that must not care about spacing).
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in folded)
    return " ".join(kept.split()) if keep_spaces else "".join(kept.split())


def char_shingles(text: str, sizes: tuple[int, ...] = SHINGLE_SIZES) -> frozenset[str]:
    """Character n-grams of the normalized text; a text shorter than the smallest n is one shingle."""
    norm = normalize_text(text)
    grams = {norm[i:i + n] for n in sizes for i in range(len(norm) - n + 1)}
    return frozenset(grams or ({norm} if norm else set()))


def jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    if not first and not second:
        return 1.0
    return len(first & second) / len(first | second)


def similarity(first: str, second: str) -> float:
    """Jaccard similarity of two texts' character shingles (what the threshold is compared to)."""
    return jaccard(char_shingles(first), char_shingles(second))


class NoveltyFilter:
    """Keeps a pool of accepted texts; `add_if_novel` accepts a text unless it is too similar to one.

    `threshold` is the shingle Jaccard at or above which a text counts as a near-duplicate. The LSH
    index is built for a lower threshold than that, so it over-proposes candidates (cheap: they are
    checked exactly) rather than missing true near-duplicates.
    """

    def __init__(self, threshold: float = 0.7, num_perm: int = 64):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"novelty threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self.num_perm = num_perm
        # datasketch imports scipy (~0.5 s): only the runs that check novelty (generation) load it
        from datasketch import MinHashLSH

        self._lsh = MinHashLSH(threshold=max(0.1, threshold - 0.2), num_perm=num_perm)
        self._shingles: dict[str, frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self._shingles)

    def add_if_novel(self, text: str) -> bool:
        """Accept (and remember) `text` unless it is empty or a near-duplicate of an accepted text."""
        shingles = char_shingles(text)
        if not shingles:
            return False
        minhash = self._minhash(shingles)
        for key in self._lsh.query(minhash):
            if jaccard(shingles, self._shingles[key]) >= self.threshold:
                return False
        key = str(len(self._shingles))
        self._lsh.insert(key, minhash)
        self._shingles[key] = shingles
        return True

    def _minhash(self, shingles: frozenset[str]) -> MinHash:
        from datasketch import MinHash

        minhash = MinHash(num_perm=self.num_perm, seed=MINHASH_SEED)
        # Sorted, so the update order (and anything order-sensitive) never depends on set iteration.
        minhash.update_batch([s.encode("utf-8") for s in sorted(shingles)])
        return minhash
