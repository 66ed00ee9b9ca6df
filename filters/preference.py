"""Preference candidates -> chosen/rejected pairs: verify each answer, judge them, pair the extremes.

A candidate (from generators/preference.py) is a prompt with several answers in
`metadata["responses"]`. Per candidate:

1. each answer is verified like any generated turn: within the length bounds and, when long
   enough to judge, in the target language (`in_language`, the one LID check);
2. fewer than two usable answers: dropped, `too_few_responses` (counted, never a pair);
3. the judge rates the usable ones (mean over the rubric's criteria, 1-5; an answer the judge
   gave no usable score is left out, never given a default);
4. the best and the worst: a gap under `min_margin` is a tie, dropped as `no_margin`;
5. with `pairwise_check`, the judge also compares the two in both orders; a pair it does not
   prefer the chosen side of (P < 0.5) is dropped as `pairwise_disagrees`.

A kept pair's `messages` become prompt + chosen answer (so LID, dedup and the writer see a chat
record) and `metadata["rejected"]` the rejected answer; `preference.chosen`, `.rejected` and
`.margin` go to its scores (the report draws their distributions). The writer turns it into
TRL's preference columns (`prompt`, `chosen`, `rejected`). Records of other tasks pass through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from datatrove.data import Document

from curation.errors import RetryableError
from curation.llm.types import Engine
from curation.steps import Filter, SideOutputs, record_lang
from filters.judge import DEFAULT_CRITERIA, Judge, Judged, mean_score
from filters.lid import in_language

logger = logging.getLogger(__name__)


class PreferencePairs(Filter):
    name = "preference"
    score_prefix = "preference"

    def __init__(self, min_margin: float = 0.5, pairwise_check: bool = False, criteria: dict[str, str] | None = None,
                 min_chars: int = 2, max_chars: int = 20000, batch_size: int = 32, engine: Engine | None = None,
                 engine_factory: Callable[[], Engine] | None = None, outputs: SideOutputs | None = None):
        super().__init__(outputs)
        self.min_margin = min_margin
        self.pairwise_check = pairwise_check
        self.criteria = dict(criteria) if criteria else dict(DEFAULT_CRITERIA)
        self.min_chars = min_chars
        self.max_chars = max_chars
        self.batch_size = batch_size
        self.engine = engine
        self.engine_factory = engine_factory

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if self.engine_factory is not None:
            state["engine"] = None
        return state

    def _judge(self) -> Judge:
        if self.engine is None:
            assert self.engine_factory is not None
            self.engine = self.engine_factory()
        return Judge(self.engine, self.criteria)

    def run(self, data: Iterable[Document], rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        if self.engine is None and self.engine_factory is not None:
            self.engine = self.engine_factory(rank)  # this task's request cache (the model loads when first asked)
        yield from super().run(self._paired(data), rank, world_size)

    def keep(self, doc: Document) -> bool | tuple[bool, str]:
        reason = doc.metadata.pop("preference_drop", None)
        return (False, reason) if reason else True

    def _paired(self, data: Iterable[Document]) -> Iterator[Document]:
        batch: list[Document] = []
        for doc in data:
            if doc.metadata.get("task") != "preference":
                yield doc
                continue
            batch.append(doc)
            if len(batch) >= self.batch_size:
                self.pair_batch(batch)
                yield from batch
                batch = []
        if batch:
            self.pair_batch(batch)
            yield from batch

    def usable(self, doc: Document) -> list[str]:
        """The candidate's answers that pass verification (length, target language); the rest counted."""
        target = doc.metadata["target_lang"]
        kept = []
        for answer in doc.metadata.get("responses") or []:
            if not (self.min_chars <= len(answer.strip()) and len(answer) <= self.max_chars):
                self.stat_update(f"answer_bad_length/{record_lang(doc)}")
                continue
            check = in_language(answer, target)
            if check.judged and not check.matches:
                self.stat_update(f"answer_wrong_language/{record_lang(doc)}")
                continue
            kept.append(answer)
        return kept

    def pair_batch(self, docs: list[Document]) -> None:
        """Decide every candidate of the batch in place: a pair, or `preference_drop` with the reason."""
        todo: list[tuple[Document, list[str]]] = []
        for doc in docs:
            answers = self.usable(doc)
            if len(answers) < 2:
                doc.metadata["preference_drop"] = "too_few_responses"
            else:
                todo.append((doc, answers))
        if not todo:
            return
        judge = self._judge()
        items = [Judged(doc.metadata["messages"], answer, doc.metadata["target_lang"])
                 for doc, answers in todo for answer in answers]
        try:
            rated = iter(judge.rate(items))
        except RetryableError as e:  # the engine's retries are spent: no pairs from this batch, counted
            logger.warning("preference: judge failed for a batch of %d candidates: %s", len(todo), e)
            for doc, _ in todo:
                doc.metadata["preference_drop"] = "judge_failed"
            return
        for doc, answers in todo:
            scored = [(mean_score(next(rated)), answer) for answer in answers]
            self._pair(doc, judge, [(score, answer) for score, answer in scored if score is not None])

    def _pair(self, doc: Document, judge: Judge, scored: list[tuple[float, str]]) -> None:
        if len(scored) < 2:
            doc.metadata["preference_drop"] = "too_few_judged"
            return
        scored.sort(key=lambda item: item[0], reverse=True)
        (best, chosen), (worst, rejected) = scored[0], scored[-1]
        if best - worst < self.min_margin:
            doc.metadata["preference_drop"] = "no_margin"
            return
        prompt = doc.metadata["messages"]
        if self.pairwise_check:
            p = judge.compare(prompt, chosen, rejected, lang=doc.metadata["target_lang"])
            if p is None or p < 0.5:
                doc.metadata["preference_drop"] = "pairwise_disagrees"
                return
        doc.metadata["messages"] = [*prompt, {"role": "assistant", "content": chosen}]
        doc.metadata["rejected"] = rejected
        doc.metadata.pop("responses", None)
        doc.text = "\n\n".join(m["content"] for m in doc.metadata["messages"])
        doc.metadata.setdefault("scores", {}).update({
            "preference.chosen": round(best, 4), "preference.rejected": round(worst, 4),
            "preference.margin": round(best - worst, 4)})
