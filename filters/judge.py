"""LLM-as-a-judge: rate chat records on a rubric, read the score from log-probabilities.

The judge (the recipe's `judge_llm`, or its `llm`) is asked, per record and criterion, to rate the
last assistant turn from 1 to 5 and to answer with the digit alone. Where the engine returns
log-probabilities (vLLM, the OpenAI engine against servers that give `top_logprobs`), the score
is the expected value over the digit tokens of the first answer token:

    score = sum(k * p(k)) / sum(p(k)) over k in 1..5 among the token's top log-probabilities

so "4 (p .6) or 5 (p .4)" reads 4.4, not 4: finer than the sampled digit and free of sampling
noise (G-Eval's probability-weighted scoring). Where it does not, the digit is parsed from the
answer. An answer with no usable score is asked again once with another seed, constrained to
`{"score": <1-5>}` where the engine can (structured output); still nothing is a
counted failure (`judge_failed/<lang>`), never a default score, and the record keeps no score
for that criterion.

Scores go to `metadata["scores"]["judge.<criterion>"]` (1-5) and their mean to `["judge"]`, which
`select` can rank by. Deciding mirrors `confidence`: per language, a record is low when its
`judge` is under `min_score`, or among the lowest `drop_fraction` of its language in the batch;
low records are dropped (`low_judge_score`) or kept with a flag (`on_low: keep`).

`compare` asks the judge which of two responses is better in both orders and averages, so the
position the judge favours cancels out (used to confirm preference pairs).
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from datatrove.data import Document

from curation.errors import RecipeError, RetryableError
from curation.languages import language, normalize_lang
from curation.llm.types import ChatRequest, Completion, Engine, Sampling, schema_text
from curation.steps import Filter, SideOutputs, record_lang
from filters.confidence import render_prompt, setting_for_lang, split_chat

logger = logging.getLogger(__name__)

# The rubric: criterion -> what it means. `{language}` is the record's language, by name.
DEFAULT_CRITERIA: dict[str, str] = {
    "helpfulness": "how well the response does what the request asks: relevant, complete and useful",
    "correctness": "whether what the response states is true and its reasoning sound",
    "fluency": "whether the response is written fluently and naturally in {language}, the language of the request",
}
SCALE = (1, 2, 3, 4, 5)
TOP_LOGPROBS = 20  # enough for every digit of the scale to show among the first token's candidates

JUDGE_PROMPT = """You rate a response to a request on one criterion.

Criterion: {criterion}, that is {description}.

Request:
{prompt}

Response:
{response}

Rate the response's {criterion} from 1 (very poor) to 5 (excellent). Answer with one digit."""

COMPARE_PROMPT = """Two responses to the same request. Which is better ({description})?

Request:
{prompt}

Response A:
{first}

Response B:
{second}

Answer with one letter: A or B."""

# The retry's answer, where the engine constrains decoding: {"score": 4}.
SCORE_SCHEMA = schema_text({"type": "object", "required": ["score"], "additionalProperties": False,
                            "properties": {"score": {"type": "integer", "enum": list(SCALE)}}})
_DIGIT = re.compile(r"(?<!\d)(?<!\d\.)([1-5])(?!\d|\.\d)")  # "5." ends a sentence; "3.5" and "12" are not digits


def expected_score(completion: Completion) -> float | None:
    """The expected digit under the first answer token's top log-probabilities; None when no digit
    of the scale is among them (or the engine gave none)."""
    if not completion.top_logprobs or not completion.top_logprobs[0]:
        return None
    first = completion.top_logprobs[0][0]
    mass: dict[int, float] = defaultdict(float)
    for token, logprob in first.items():
        digit = token.strip()
        if digit.isdigit() and int(digit) in SCALE:
            mass[int(digit)] += math.exp(logprob)
    total = sum(mass.values())
    return sum(k * p for k, p in mass.items()) / total if total > 0 else None


def parsed_score(text: str) -> float | None:
    """The first standalone digit of the scale in an answer ("4", "Score: 4/5", '{"score": 4}')."""
    match = _DIGIT.search(text)
    return float(match.group(1)) if match else None


def answer_score(completion: Completion) -> float | None:
    """What the judge answered: the log-probability reading where there is one, else the parsed digit."""
    score = expected_score(completion)
    if score is None and completion.texts:
        score = parsed_score(completion.texts[0])
    return score


@dataclass(frozen=True)
class Judged:
    """One response to rate: the prompt turns, the response, the canonical language code."""

    prompt: list[dict[str, str]]
    response: str
    lang: str


class Judge:
    """Rates responses on a rubric through `engine` (see the module docstring)."""

    def __init__(self, engine: Engine, criteria: Mapping[str, str] | None = None, max_response_chars: int = 3000,
                 seed: int = 0):
        self.engine = engine
        self.criteria = dict(criteria or DEFAULT_CRITERIA)
        self.max_response_chars = max_response_chars
        self.sampling = Sampling(temperature=0.0, top_p=1.0, max_tokens=2, logprobs=TOP_LOGPROBS, seed=seed)
        self.failures = 0

    def request(self, item: Judged, criterion: str, sampling: Sampling | None = None) -> ChatRequest:
        description = self.criteria[criterion].replace("{language}", _language_name(item.lang))
        content = JUDGE_PROMPT.format(criterion=criterion, description=description, prompt=render_prompt(item.prompt),
                                      response=item.response[:self.max_response_chars])
        return ChatRequest.of([{"role": "user", "content": content}], sampling or self.sampling)

    def rate(self, items: list[Judged]) -> list[dict[str, float]]:
        """Per item, criterion -> score (1-5); a criterion the judge gave no usable answer for, twice,
        is missing (and counted in `failures`)."""
        asked = [(i, criterion) for i in range(len(items)) for criterion in self.criteria]
        answers = self.engine.generate([self.request(items[i], c) for i, c in asked])
        scores: list[dict[str, float]] = [{} for _ in items]
        again = []
        for (i, criterion), answer in zip(asked, answers, strict=True):
            score = answer_score(answer)
            if score is None:
                again.append((i, criterion))
            else:
                scores[i][criterion] = score
        if again:  # one more sample: another seed, a little temperature, and the answer constrained to a score
            retry = replace(self.sampling, seed=(self.sampling.seed or 0) + 1, temperature=0.7, max_tokens=16,
                            json_schema=SCORE_SCHEMA)
            answers = self.engine.generate([self.request(items[i], c, retry) for i, c in again])
            for (i, criterion), answer in zip(again, answers, strict=True):
                score = answer_score(answer)
                if score is None:
                    self.failures += 1
                else:
                    scores[i][criterion] = score
        return scores

    def compare(self, prompt: list[dict[str, str]], first: str, second: str, criterion: str = "helpfulness",
                lang: str = "eng") -> float | None:
        """P(first is better than second), asked in both orders and averaged (position bias cancels);
        None when either order gives no usable answer."""
        description = self.criteria.get(criterion, criterion).replace("{language}", _language_name(lang))
        sampling = replace(self.sampling, max_tokens=1)
        requests = [ChatRequest.of([{"role": "user", "content": COMPARE_PROMPT.format(
            description=description, prompt=render_prompt(prompt), first=a[:self.max_response_chars],
            second=b[:self.max_response_chars])}], sampling) for a, b in ((first, second), (second, first))]
        ab, ba = (_p_first(answer) for answer in self.engine.generate(requests))
        if ab is None or ba is None:
            return None
        return (ab + (1.0 - ba)) / 2


def _p_first(completion: Completion) -> float | None:
    """P(answer A) among the A/B tokens of the first answer token, or from the text."""
    if completion.top_logprobs and completion.top_logprobs[0]:
        mass = {"A": 0.0, "B": 0.0}
        for token, logprob in completion.top_logprobs[0][0].items():
            letter = token.strip().upper()
            if letter in mass:
                mass[letter] += math.exp(logprob)
        if sum(mass.values()) > 0:
            return mass["A"] / (mass["A"] + mass["B"])
    text = completion.texts[0].strip().upper() if completion.texts else ""
    return 1.0 if text.startswith("A") else 0.0 if text.startswith("B") else None


def _language_name(code: str) -> str:
    try:
        return language(code).name
    except ValueError:
        return code


def mean_score(scores: Mapping[str, float]) -> float | None:
    return sum(scores.values()) / len(scores) if scores else None


class JudgeFilter(Filter):
    """The `judge` step: rates chat records in batches, writes `judge.<criterion>` and `judge`, and
    drops (or flags) the low ones per language. Records without a response are kept unscored
    (`judge_skipped/<lang>`); a record the judge could not rate on any criterion is kept unscored
    too (`judge_failed/<lang>`): no default score is ever written."""

    name = "judge"
    score_prefix = "judge"

    def __init__(self, criteria: dict[str, str] | None = None, min_score: float | dict[str, float] | None = None,
                 drop_fraction: float | dict[str, float] | None = None, on_low: Literal["drop", "keep"] = "drop",
                 batch_size: int = 64, max_response_chars: int = 3000, seed: int = 0,
                 engine: Engine | None = None, engine_factory: Callable[[], Engine] | None = None,
                 outputs: SideOutputs | None = None):
        super().__init__(outputs)
        if (engine is None) == (engine_factory is None):
            raise RecipeError("JudgeFilter needs exactly one of engine or engine_factory")
        self.criteria = dict(criteria) if criteria else dict(DEFAULT_CRITERIA)
        self.min_score = by_code(min_score)
        self.drop_fraction = by_code(drop_fraction)
        self.on_low = on_low
        self.batch_size = batch_size
        self.max_response_chars = max_response_chars
        self.seed = seed
        self.engine = engine
        self.engine_factory = engine_factory

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if self.engine_factory is not None:
            state["engine"] = None  # built again where the step runs
        return state

    def judge(self) -> Judge:
        if self.engine is None:
            assert self.engine_factory is not None
            self.engine = self.engine_factory()
        return Judge(self.engine, self.criteria, self.max_response_chars, self.seed)

    def run(self, data: Iterable[Document], rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        if self.engine is None and self.engine_factory is not None:
            self.engine = self.engine_factory(rank)  # this task's request cache (the model loads when first asked)
        yield from super().run(self._decided(data), rank, world_size)

    def declare_thresholds(self, doc: Document, recorder: Any) -> None:
        lang = record_lang(doc)
        minimum = setting_for_lang(self.min_score, lang)
        if minimum is not None:
            recorder.declare("judge", min=minimum, lang=lang)

    def keep(self, doc: Document) -> bool | tuple[bool, str]:
        if doc.metadata.get("judge_low") and self.on_low == "drop":
            return False, "low_judge_score"
        return True

    def _decided(self, data: Iterable[Document]) -> Iterator[Document]:
        batch: list[Document] = []
        for doc in data:
            batch.append(doc)
            if len(batch) >= self.batch_size:
                self.process_batch(batch)
                yield from batch
                batch = []
        if batch:
            self.process_batch(batch)
            yield from batch

    def process_batch(self, docs: list[Document]) -> None:
        """Rate and decide a batch in place."""
        todo: list[tuple[Document, Judged]] = []
        for doc in docs:
            doc.metadata.pop("judge_low", None)
            parts = split_chat(doc.metadata.get("messages"))
            if isinstance(parts, str):
                self.stat_update(f"judge_skipped/{record_lang(doc)}")
                continue
            todo.append((doc, Judged(parts[0], parts[1], record_lang(doc).split("_")[0])))
        if not todo:
            return
        judge = self.judge()
        try:
            rated = judge.rate([item for _, item in todo])
        except RetryableError as e:  # the engine's own retries are spent: the batch stays unscored, counted
            logger.warning("judge: engine failed for a batch of %d records: %s", len(todo), e)
            for doc, _ in todo:
                self.stat_update(f"judge_failed/{record_lang(doc)}")
            return
        by_lang: dict[str, list[tuple[Document, float]]] = defaultdict(list)
        for (doc, _), scores in zip(todo, rated, strict=True):
            if not scores:
                self.stat_update(f"judge_failed/{record_lang(doc)}")
                continue
            if len(scores) < len(self.criteria):
                self.stat_update(f"judge_partial/{record_lang(doc)}")
            record_scores = doc.metadata.setdefault("scores", {})
            for criterion, value in scores.items():
                record_scores[f"judge.{criterion}"] = round(value, 4)
            overall = mean_score(scores)
            record_scores["judge"] = round(overall, 4)
            by_lang[record_lang(doc)].append((doc, overall))
        for lang, group in by_lang.items():
            for doc in low_records(group, setting_for_lang(self.min_score, lang), setting_for_lang(self.drop_fraction, lang)):
                doc.metadata["judge_low"] = True


def by_code(setting: float | Mapping[str, float] | None) -> float | dict[str, float] | None:
    """A per-language map from the recipe with its keys as canonical codes (`sw` -> `swh`; `*` stays)."""
    if not isinstance(setting, Mapping):
        return setting
    try:
        return {key if key == "*" else normalize_lang(key): value for key, value in setting.items()}
    except ValueError as e:
        raise RecipeError(str(e)) from None


def low_records(group: list[tuple[Document, float]], minimum: float | None, fraction: float | None) -> list[Document]:
    """The records of one language that are low: under `minimum`, or among the lowest `fraction`."""
    low = {id(doc) for doc, score in group if minimum is not None and score < minimum}
    if fraction:
        ranked = sorted(group, key=lambda item: item[1])
        low |= {id(doc) for doc, _ in ranked[:int(len(ranked) * fraction)]}
    return [doc for doc, _ in group if id(doc) in low]
