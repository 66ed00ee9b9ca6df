"""Verification of generated records: the last word before a generated record is written.

The most common silent failure of multilingual generation is an answer in English, so every
turn long enough to judge must be in the language the record was asked for (`in_language`, the
same check LID applies to chat turns). Generated records of one language must not repeat each
other (character-shingle Jaccard, every script), and turns must be within the length bounds.

Two optional record fields let a generator say more (math's cross-lingual formats and its several
solutions per question use them): `turn_target_langs`, the language each turn must be in when they
differ (question in English, reasoning in Swahili); `novelty_turn`, the turn the near-duplicate
check compares (the solution, not the question several solutions share).
"""

from __future__ import annotations

from typing import Any

from datatrove.data import Document

from curation.novelty import NoveltyFilter
from curation.steps import Filter, SideOutputs
from filters.lid import default_min_score, in_language


class VerifyStep(Filter):
    """Keeps a generated record only if every turn is in its target language, it is not a near
    duplicate of one kept before it, and its turns are within the length bounds.

    The keyword arguments are the recipe's `generate.verify` fields (see `VerifySpec`). Drop
    reasons: `too_short`, `too_long`, `wrong_language`, `low_lang_score`, `near_duplicate`.
    """

    name = "verify"

    def __init__(self, min_lang_score: float | None = None, dedup_threshold: float = 0.7, min_chars: int = 2,
                 max_chars: int = 20000, outputs: SideOutputs | None = None):
        super().__init__(outputs)
        self.min_lang_score = min_lang_score
        self.dedup_threshold = dedup_threshold
        self.min_chars = min_chars
        self.max_chars = max_chars
        self._novelty: dict[str, NoveltyFilter] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_novelty": {}}

    def _min_score(self, code: str) -> float:
        return self.min_lang_score if self.min_lang_score is not None else default_min_score(code)

    def keep(self, doc: Document) -> bool | tuple[bool, str]:
        target = doc.metadata["target_lang"]
        turns = [m["content"] for m in doc.metadata.get("messages") or []] or [doc.text]
        if any(len(t.strip()) < self.min_chars for t in turns):
            return False, "too_short"
        if any(len(t) > self.max_chars for t in turns):
            return False, "too_long"
        detected = []
        turn_targets = doc.metadata.get("turn_target_langs") or [target] * len(turns)
        for turn, turn_target in zip(turns, turn_targets, strict=True):
            check = in_language(turn, turn_target)
            if not check.judged:
                continue
            detected.append(check.found.lang)
            if not check.matches:
                return False, "wrong_language"
            if check.found.score < self._min_score(turn_target):
                return False, "low_lang_score"
        doc.metadata["turn_langs"] = detected
        novelty_turn = doc.metadata.get("novelty_turn")
        if not self._is_novel(target, doc.text if novelty_turn is None else turns[novelty_turn]):
            return False, "near_duplicate"
        return True

    def _is_novel(self, lang: str, text: str) -> bool:
        if lang not in self._novelty:
            self._novelty[lang] = NoveltyFilter(self.dedup_threshold)
        return self._novelty[lang].add_if_novel(text)
