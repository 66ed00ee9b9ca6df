"""Deita-style data selection: the best records per language under a budget, without near repeats.

Records are ranked by a score already in `metadata["scores"]` (`confidence` by default, from the
confidence step; any named score works), optionally multiplied by a complexity score, and taken
greedily from the top: a record is selected unless it is a near duplicate (character-shingle
Jaccard at or above `diversity_threshold`, so it works in every script) of one already selected,
until the language's budget is reached. Everything else is dropped with a reason:
`over_budget` or `near_selected`.

Selection ranks all of a task's records of a language, so this step holds them in memory until
its input ends (the records, not the corpus: put it after the filters). The budget is per task:
with several tasks each keeps `ceil(budget / tasks)`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator

from datatrove.data import Document

from curation.steps import Filter, record_lang


class SelectFilter(Filter):
    """Keeps the top `budget` records per language by `score_key` (x `complexity_key`), diverse."""

    name = "select"

    def __init__(self, budget: int | dict[str, int], score_key: str = "confidence",
                 complexity_key: str | None = None, diversity_threshold: float | None = 0.7):
        super().__init__()
        if isinstance(budget, dict):  # keys in any code the user likes: sw, swa, swh, swh_Latn
            from filters.languages import normalize_lang

            budget = {key if key == "*" else normalize_lang(key): value for key, value in budget.items()}
        self.budget = budget
        self.score_key = score_key
        self.complexity_key = complexity_key
        self.diversity_threshold = diversity_threshold

    def language_budget(self, lang: str, world_size: int) -> int:
        if isinstance(self.budget, int):
            total = self.budget
        else:
            total = self.budget.get(lang.split("_")[0], self.budget.get("*", 0))
        return math.ceil(total / world_size)

    def value(self, doc: Document) -> float:
        """The ranking value; records without the score rank last."""
        scores = doc.metadata.get("scores") or {}
        score = scores.get(self.score_key)
        if score is None or (isinstance(score, float) and math.isnan(score)):
            return -math.inf
        if self.complexity_key:
            score *= scores.get(self.complexity_key, 1.0)
        return float(score)

    def keep(self, doc: Document) -> bool | tuple[bool, str]:
        return doc.metadata.pop("_select_verdict", True)

    def run(self, data: Iterable[Document], rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        from generators.novelty import NoveltyFilter

        by_language: dict[str, list[Document]] = defaultdict(list)
        for doc in data:
            by_language[record_lang(doc)].append(doc)
        decided: list[Document] = []
        for lang, docs in sorted(by_language.items()):
            budget = self.language_budget(lang, world_size)
            novelty = NoveltyFilter(self.diversity_threshold) if self.diversity_threshold else None
            selected = 0
            # stable order for ties: the input order (sorted() keeps it)
            for doc in sorted(docs, key=self.value, reverse=True):
                if selected >= budget:
                    doc.metadata["_select_verdict"] = (False, "over_budget")
                elif novelty is not None and not novelty.add_if_novel(doc.text):
                    doc.metadata["_select_verdict"] = (False, "near_selected")
                else:
                    selected += 1
                decided.append(doc)
        yield from super().run(iter(decided), rank, world_size)
