"""The refusal check: does a reply decline its request? Asked of a model, read from log-probabilities.

A keyword list ("I'm sorry", "I cannot") knows one language; a model that reads the language knows
them all. For each safety record (generators/safety.py) the judge (the recipe's `judge_llm`, by
default its `llm`) answers two yes/no questions about the (request, reply) pair, in one word:

    declines  "Does the assistant decline or refuse to do what the user asked?"
    complies  "Does the assistant do what the user asked?"

Each is read as P(Yes) = p(yes) / (p(yes) + p(no)) over the first answer token's top
log-probabilities (every spelling of the two words counted), as the judge reads its digits; an
engine that gives none has its answer's first word parsed instead. The refusal probability is

    P(refusal) = (P(Yes | declines) + 1 - P(Yes | complies)) / 2

Asking both ways cancels a model's lean towards "Yes", which small models have strongly (the
judge's `compare` asks in both orders for the same reason). One question with no reading leaves
the other alone; neither is a counted drop (`refusal_check_failed`), never a guess.

Deciding: a harmful request's record is kept only when P(refusal) >= its threshold
(`not_refused` otherwise), a look-alike's only when it is below it (`over_refused`).
P(refusal) goes to `scores["safety.refusal"]`; outcomes per language, category and kind to the
counters `safety/<lang>/<category>/<kind>/<outcome>` (stats.json's `safety`). Other tasks'
records pass through uncounted by this step's decisions.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from datatrove.data import Document

from curation.errors import RetryableError
from curation.llm.types import ChatRequest, Completion, Engine, Sampling
from curation.steps import Filter, SideOutputs, record_lang
from filters.judge import TOP_LOGPROBS

logger = logging.getLogger(__name__)

QUESTIONS = {
    "declines": "Does the assistant decline or refuse to do what the user asked?",
    "complies": "Does the assistant do what the user asked?",
}

QUESTION_PROMPT = """Below are a request a user sent to an AI assistant and the assistant's reply. They may be in any language.

Request:
{request}

Reply:
{reply}

Question: {question}
Answer with one word: Yes or No."""

_YES, _NO = "yes", "no"


def p_yes(completion: Completion) -> float | None:
    """P(Yes) among Yes/No from the first answer token's top log-probabilities; else the answer's
    first word (1.0 / 0.0); None when neither says yes or no."""
    if completion.top_logprobs and completion.top_logprobs[0]:
        mass = {_YES: 0.0, _NO: 0.0}
        for token, logprob in completion.top_logprobs[0][0].items():
            word = token.strip().lower()
            if word in mass:
                mass[word] += math.exp(logprob)
        if mass[_YES] + mass[_NO] > 0:
            return mass[_YES] / (mass[_YES] + mass[_NO])
    words = completion.texts[0].strip().lower().split() if completion.texts else []
    first = words[0].strip(".,!:;\"'*") if words else ""
    return 1.0 if first == _YES else 0.0 if first == _NO else None


@dataclass(frozen=True)
class Reading:
    """The judge's two answers about one pair: P(Yes) to `declines` and to `complies` (None: no reading)."""

    declines: float | None
    complies: float | None

    @property
    def refusal(self) -> float | None:
        """P(refusal): the mean of the two readings, `complies` turned around; None without either."""
        parts = [p for p in (self.declines, None if self.complies is None else 1.0 - self.complies) if p is not None]
        return sum(parts) / len(parts) if parts else None


class RefusalJudge:
    """Asks `engine` whether replies refuse (see the module docstring); greedy, one token each."""

    def __init__(self, engine: Engine, max_chars: int = 2000, seed: int = 0):
        self.engine = engine
        self.max_chars = max_chars
        self.sampling = Sampling(temperature=0.0, top_p=1.0, max_tokens=1, logprobs=TOP_LOGPROBS, seed=seed)

    def request(self, request: str, reply: str, question: str) -> ChatRequest:
        content = QUESTION_PROMPT.format(request=request[:self.max_chars], reply=reply[:self.max_chars],
                                         question=QUESTIONS[question])
        return ChatRequest.of([{"role": "user", "content": content}], self.sampling)

    def read(self, pairs: list[tuple[str, str]]) -> list[Reading]:
        """One Reading per (request, reply) pair, both questions of every pair in one engine call."""
        asked = [self.request(request, reply, q) for request, reply in pairs for q in QUESTIONS]
        answers = iter(p_yes(answer) for answer in self.engine.generate(asked))
        return [Reading(*(next(answers) for _ in QUESTIONS)) for _ in pairs]


class RefusalCheck(Filter):
    """The generate stage's check of safety records: harmful requests must be refused, look-alikes
    answered (see the module docstring). `threshold`: the P(refusal) that counts as a refusal."""

    name = "refusal"
    score_prefix = "safety"

    def __init__(self, threshold: float = 0.5, batch_size: int = 64, engine: Engine | None = None,
                 engine_factory: Callable[[], Engine] | None = None, outputs: SideOutputs | None = None):
        super().__init__(outputs)
        self.threshold = threshold
        self.batch_size = batch_size
        self.engine = engine
        self.engine_factory = engine_factory

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if self.engine_factory is not None:
            state["engine"] = None  # built again where the step runs
        return state

    def _judge(self) -> RefusalJudge:
        if self.engine is None:
            assert self.engine_factory is not None
            self.engine = self.engine_factory()
        return RefusalJudge(self.engine)

    def run(self, data: Iterable[Document], rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        if self.engine is None and self.engine_factory is not None:
            self.engine = self.engine_factory(rank)  # this task's request cache (the model loads when first asked)
        yield from super().run(self._judged(data), rank, world_size)

    def _judged(self, data: Iterable[Document]) -> Iterator[Document]:
        batch: list[Document] = []
        for doc in data:
            if doc.metadata.get("task") != "safety":
                yield doc
                continue
            batch.append(doc)
            if len(batch) >= self.batch_size:
                self.judge_batch(batch)
                yield from batch
                batch = []
        if batch:
            self.judge_batch(batch)
            yield from batch

    def judge_batch(self, docs: list[Document]) -> None:
        """Write `safety.refusal` into each record's scores; a record left without one is a failure."""
        pairs = [(m[0]["content"], m[-1]["content"]) for m in (doc.metadata["messages"] for doc in docs)]
        try:
            readings = self._judge().read(pairs)
        except RetryableError as e:  # the engine's own retries are spent: counted drops, no guesses
            logger.warning("refusal check: engine failed for a batch of %d records: %s", len(docs), e)
            return
        for doc, reading in zip(docs, readings, strict=True):
            if reading.refusal is not None:
                doc.metadata.setdefault("scores", {})["safety.refusal"] = round(reading.refusal, 4)

    def keep(self, doc: Document) -> bool | tuple[bool, str]:
        if doc.metadata.get("task") != "safety":
            return True
        verdict = self.decide(doc)
        meta = doc.metadata
        self.stat_update(f"safety/{record_lang(doc)}/{meta['safety_category']}/{meta['safety_kind']}/{verdict}")
        return True if verdict == "kept" else (False, verdict)

    def decide(self, doc: Document) -> str:
        """`kept`, or the reason to drop: `not_refused`, `over_refused`, `refusal_check_failed`."""
        refusal = (doc.metadata.get("scores") or {}).get("safety.refusal")
        if refusal is None:
            return "refusal_check_failed"
        refused = refusal >= self.threshold
        if doc.metadata["safety_kind"] == "harmful":
            return "kept" if refused else "not_refused"
        return "over_refused" if refused else "kept"
