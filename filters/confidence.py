"""CLEAR-style confidence for instruction/response records: score with the local model, then decide.

Chen & Mueller ("Automated Data Curation for Robust Language Model Fine-Tuning", built on
BSDetector) score a response by how well the model's own behaviour supports it. Here, per record
(`metadata["messages"]`: the last assistant turn is "the response", everything before it "the
prompt"), with only the local model and no NLI model:

    confidence.consistency   observed consistency: mean character-3-gram agreement between the
                             response and k responses sampled for the prompt (works in every script)
    confidence.reflection    self-reflection: P(correct) + 0.5 P(not sure) read from the first
                             token of the model's answer to "is this response correct?" (off by
                             default: SmolLM2-135M answers it at chance)
    confidence.mean_logprob  mean token log-probability of the response given the prompt
    confidence.pmi           that minus the same after an empty prompt: how much the instruction
                             explains the response (catches responses swapped between records)
    confidence.eot_logprob   log-probability that the turn ends where the response ends (catches
                             truncated responses and answers in another language)
    confidence               the components combined by weighted rank within the batch (below)

Why ranks, and these weights. Measured earlier with SmolLM2-135M on Alpaca with 20% of the
responses corrupted (AUROC of clean vs corrupted): PMI separates swapped responses (~0.99) but
ranks truncated ones *above* clean ones; the end-of-turn log-probability catches truncation and
wrong language (~0.98) but not swaps (~0.63); a rank average of the two gives ~0.86, and adding
sampled consistency (3 samples) ~0.95. The components live on unrelated scales (nats, nats per
token, a [0, 1] overlap), so each is turned into its percentile among the records of the same
language in the same batch, and `confidence` is the lowest of those percentiles among the
components with a positive weight (`combination="worst"`, see `combine`), or their weighted mean
(`combination="mean"`). Default weights: pmi and eot_logprob 1.0; consistency 0 (with the 135M
bundled model it lowered detection; use 1 with a 7B+ model); reflection 0.43 when enabled
(BSDetector's 0.3 : 0.7 reflection-to-consistency ratio, for `mean`); mean_logprob 0 (reported
only: it mostly measures length and style). A missing component (e.g.
the end of turn of a response truncated for scoring) counts as the median.

`combination="calibrated"` replaces ranks with a probability (see filters/calibration.py): per
language and batch, the model also scores swapped and truncated copies of the batch's own
records, a logistic fit per corruption kind learns what separates genuine pairs from them, and
`confidence` is the lowest P(genuine) over the fits. It costs one more likelihood pass (no
generation), needs 8+ records of a language in a batch (fewer: ranked as above, counted
`confidence_uncalibrated/<lang>`), and makes `min_confidence` absolute: 0.5 means "looks no
more like a broken pair than a genuine one" in every batch, and a clean batch keeps its records.

Deciding is separate from scoring: per language, a record is "low" when its `confidence` is below
`min_confidence`, or among the lowest `drop_fraction` of its language in the batch. A low record
is dropped (`low_confidence`), kept with a flag (`on_low="keep"`), or corrected (`on_low="correct"`):
replaced by the model's own most consistent sample when that sample is clearly preferred
(see `ConfidenceFilter`). Because percentiles are relative to the batch, `batch_size=None` ranks
a task's records all together (more memory, steadier ranks for rare languages).
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from datatrove.data import Document

from curation.errors import RecipeError, RetryableError
from curation.llm.cache import CachedEngine
from curation.llm.types import ChatRequest, Completion, Sampling, ScoreRequest, ScoringEngine, request_for
from curation.steps import Filter, SideOutputs, record_lang
from filters.calibration import FEATURES, MIN_RECORDS, calibrated_confidence, synthetic_negatives

logger = logging.getLogger(__name__)

DEFAULT_WEIGHTS: dict[str, float] = {
    # Measured with the bundled 135M model (bench/bench_confidence.py, 252 self-instruct pairs, 20%
    # corrupted): its sampled answers are too poor for agreement to help, and adding consistency
    # lowered the overall AUROC from 0.853 to 0.811. Give it weight 1 with a 7B+ model.
    "consistency": 0.0,
    "pmi": 1.0,
    "eot_logprob": 1.0,
    "reflection": 0.3 / 0.7,
    "mean_logprob": 0.0,
}
COMPONENTS = tuple(DEFAULT_WEIGHTS)
DECISION_KEYS = ("confidence_decision", "confidence_reason", "confidence_note", "confidence_low",
                 "confidence_truncated")

REFLECTION_PROMPT = (
    "{prompt}\n\nProposed response:\n{response}\n\n"
    "Is the proposed response correct and helpful?\nA) correct\nB) incorrect\nC) not sure\n"
    "Answer with one letter."
)

# Below this many distinct 3-grams in the shorter text, agreement is scaled down: "ok" is contained
# in almost any answer, which says nothing about agreeing with it.
MIN_NGRAMS = 20


# --- records ---------------------------------------------------------------------------------------

def split_chat(messages: Any) -> tuple[list[dict[str, str]], str] | str:
    """(prompt messages, response) of a chat record, or why it has none: `no_messages`,
    `no_response` (the last turn is not a non-empty assistant turn) or `no_prompt` (no user text)."""
    if not isinstance(messages, list) or not messages:
        return "no_messages"
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "assistant" or not str(last.get("content") or "").strip():
        return "no_response"
    prompt = [{"role": m["role"], "content": m["content"]} for m in messages[:-1]]
    if not any(m["role"] == "user" and str(m["content"]).strip() for m in prompt):
        return "no_prompt"
    return prompt, last["content"]


def render_prompt(prompt: list[dict[str, str]]) -> str:
    """The prompt as plain text for the reflection question (a single user turn stays as it is)."""
    if len(prompt) == 1:
        return prompt[0]["content"]
    return "\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in prompt)


# --- components --------------------------------------------------------------------------------------

def char_ngrams(text: str, n: int = 3) -> set[str]:
    """Character n-grams of casefolded, whitespace-collapsed text (padded, so short words count)."""
    norm = " " + " ".join(text.casefold().split()) + " "
    return {norm[i:i + n] for i in range(len(norm) - n + 1)} if len(norm.strip()) else set()


def agreement(a: str, b: str) -> float:
    """How much two texts say the same thing, in [0, 1], for any script: the share of the shorter
    text's character 3-grams found in the longer one. Containment rather than Jaccard because
    sampled answers are capped in length and a short correct answer sits inside a longer one."""
    ga, gb = char_ngrams(a), char_ngrams(b)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / max(min(len(ga), len(gb)), MIN_NGRAMS)


def consistency(response: str, samples: list[str]) -> float:
    """Observed consistency: mean agreement of the response with each non-empty sample."""
    samples = [s for s in samples if s.strip()]
    return sum(agreement(response, s) for s in samples) / len(samples) if samples else 0.0


def reflection_score(completion: Completion) -> float | None:
    """P(A) + 0.5 P(C), with P normalized over the letters A, B, C among the first generated token's
    top log-probabilities; None when none of the three is among them."""
    if not completion.top_logprobs or not completion.top_logprobs[0]:
        return None
    probs = dict.fromkeys("ABC", 0.0)
    for token, logprob in completion.top_logprobs[0][0].items():
        letter = token.strip().strip(").:").upper()
        if letter in probs:
            probs[letter] += math.exp(logprob)
    total = sum(probs.values())
    if total <= 0:
        return None
    return (probs["A"] + 0.5 * probs["C"]) / total


def percentiles(values: list[float | None]) -> list[float]:
    """Each value's mid-rank percentile in (0, 1) among the present ones (ties share their mean
    rank); None -> 0.5, the median, so a missing component neither helps nor hurts."""
    present = sorted((v, i) for i, v in enumerate(values) if v is not None)
    out = [0.5] * len(values)
    n = len(present)
    start = 0
    while start < n:
        end = start
        while end + 1 < n and present[end + 1][0] == present[start][0]:
            end += 1
        rank = (start + end) / 2
        for _, i in present[start:end + 1]:
            out[i] = (rank + 0.5) / n
        start = end + 1
    return out


def combine(components: list[dict[str, float | None]], weights: dict[str, float],
            mode: Literal["worst", "mean"] = "worst") -> list[float]:
    """Each component's percentile within `components` (one language's batch), combined.

    `worst` (default): the lowest percentile among the components with a positive weight. Each kind
    of bad record shows in one signal (a swapped response in PMI, a truncated one in the end of
    turn), and an average dilutes it: on 252 self-instruct pairs the worst of PMI and end-of-turn
    reached AUROC 0.853 against 0.822 for their mean. `mean`: the weighted mean of percentiles
    (BSDetector-style, for reflection/consistency blends with a large model).
    """
    active = {name: w for name, w in weights.items() if w > 0}
    total = sum(active.values())
    if not components or total <= 0:
        return [0.5] * len(components)
    ranked = {name: percentiles([c.get(name) for c in components]) for name in active}
    if mode == "worst":
        return [min(ranked[name][i] for name in active) for i in range(len(components))]
    return [sum(active[name] * ranked[name][i] for name in active) / total for i in range(len(components))]


# --- the step -----------------------------------------------------------------------------------------

@dataclass
class _Scored:
    """What scoring one record produced, for the decision (not written to the record)."""

    doc: Document
    prompt: list[dict[str, str]]
    response: str  # as scored (possibly truncated)
    components: dict[str, float | None]
    samples: list[str] = field(default_factory=list)  # usable samples (stopped on their own)
    all_samples: list[str] = field(default_factory=list)  # every sample, as consistency compares them


class ConfidenceFilter(Filter):
    """Scores chat records in batches with a local model and keeps, drops or corrects them.

    Engine calls per batch: one `generate` (k samples per record, `n=k` in one request, plus the
    reflection question when enabled) and one `score` (each response with and without its prompt);
    a `correct` run adds one `score` call for the candidates' best samples. All go through whatever
    the engine is (wrap it in `CachedEngine` so a rerun pays nothing).

    Accounting: records without a prompt or response are kept and counted `confidence_skipped/<lang>`
    (metadata `confidence_note`); a batch whose engine calls fail after the engine's own retries is
    dropped as `confidence_failed` (never written with an unknown decision); corrected records are
    kept and counted `corrected/<lang>`.
    """

    name = "confidence"
    score_prefix = "confidence"

    def __init__(
        self,
        engine: ScoringEngine | None = None,
        *,
        engine_factory: Callable[[], ScoringEngine] | None = None,
        samples: int = 3,
        sample_temperature: float = 1.0,
        sample_max_tokens: int = 128,
        seed: int = 0,
        reflection: bool = False,
        weights: dict[str, float] | None = None,
        combination: Literal["worst", "mean", "calibrated"] = "worst",
        min_confidence: float | dict[str, float] | None = None,
        drop_fraction: float | dict[str, float] | None = None,
        on_low: Literal["drop", "correct", "keep"] = "drop",
        correct_min_agreement: float = 0.5,
        correct_margin: float = 0.5,
        max_response_tokens: int = 384,
        max_prompt_tokens: int = 384,
        chars_per_token: float = 3.0,
        batch_size: int | None = 256,
        outputs: SideOutputs | None = None,
    ):
        """
        engine / engine_factory: the model (one of the two); a factory is called on first use, so the
            step pickles to executor workers without a loaded model.
        samples, sample_temperature, sample_max_tokens, seed: the sampled responses for consistency.
        reflection: ask the self-reflection question (one more generated token per record).
        weights: per-component weights of the combined confidence (merged over DEFAULT_WEIGHTS).
        min_confidence, drop_fraction: thresholds, one value for all languages or a dict keyed by the
            record's `lang` (`swh_Latn`), its code (`swh`) or `*` for the rest.
        on_low: what happens to a low-confidence record.
        correct_min_agreement: a replacement sample must agree this much with the other samples.
        correct_margin: ... and beat the given response by this many nats on PMI or end of turn,
            without losing more than that on the other.
        max_response_tokens, max_prompt_tokens, chars_per_token: longer texts are cut (by characters,
            `tokens * chars_per_token`) before scoring; the record gets `confidence_truncated`.
        batch_size: records per batch (percentiles are within a batch); None: the whole task at once.
        """
        super().__init__(outputs)
        if (engine is None) == (engine_factory is None):
            raise RecipeError("ConfidenceFilter needs exactly one of engine or engine_factory")
        unknown = set(weights or {}) - set(COMPONENTS)
        if unknown:
            raise RecipeError(f"unknown confidence components {sorted(unknown)}; known: {list(COMPONENTS)}")
        if on_low == "correct" and samples < 2:
            raise RecipeError("on_low='correct' needs samples >= 2 (the replacement must agree with another)")
        self.engine = engine
        self.engine_factory = engine_factory
        self.samples = samples
        self.sampling = Sampling(temperature=sample_temperature, top_p=1.0, max_tokens=sample_max_tokens,
                                 n=samples, seed=seed)
        self.reflection = reflection
        self.weights = {**DEFAULT_WEIGHTS, **(weights or {})}
        self.combination = combination
        if not reflection:
            self.weights["reflection"] = 0.0
        self.min_confidence = min_confidence
        self.drop_fraction = drop_fraction
        self.on_low = on_low
        self.correct_min_agreement = correct_min_agreement
        self.correct_margin = correct_margin
        self.max_response_chars = int(max_response_tokens * chars_per_token)
        self.max_prompt_chars = int(max_prompt_tokens * chars_per_token)
        self.batch_size = batch_size

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if self.engine_factory is not None:
            state["engine"] = None  # built again where the step runs
        return state

    def _engine(self) -> ScoringEngine:
        if self.engine is None:
            assert self.engine_factory is not None
            self.engine = self.engine_factory()
        return self.engine

    # -- the Filter contract: scoring and deciding happen per batch, `keep` reads the decision --

    def run(self, data: Iterable[Document], rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        if self.engine is None and self.engine_factory is not None:
            self.engine = self.engine_factory(rank)  # this task's request cache (the model loads when first asked)
        yield from super().run(self._decided(data), rank, world_size)

    def declare_thresholds(self, doc: Document, recorder: Any) -> None:
        lang = record_lang(doc)
        minimum = setting_for_lang(self.min_confidence, lang)
        if minimum is not None:
            recorder.declare("confidence", min=minimum, lang=lang)

    def keep(self, doc: Document) -> bool | tuple[bool, str]:
        decision = doc.metadata.get("confidence_decision")
        if decision == "drop":
            return False, "low_confidence"
        if decision == "failed":
            return False, "confidence_failed"
        return True

    def _cache_hits(self) -> int:
        return self.engine.hits if isinstance(self.engine, CachedEngine) else 0

    def _decided(self, data: Iterable[Document]) -> Iterator[Document]:
        hits_before = self._cache_hits()  # an engine given to the step may have answered before this run
        batch: list[Document] = []
        for doc in data:
            batch.append(doc)
            if self.batch_size and len(batch) >= self.batch_size:
                self.process_batch(batch)
                yield from batch
                batch = []
        if batch:
            self.process_batch(batch)
            yield from batch
        self.stat_update("cache_hits/all", value=self._cache_hits() - hits_before)

    def process_batch(self, docs: list[Document]) -> None:
        """Score and decide a batch in place (scores and `confidence_decision` in each record's metadata)."""
        try:
            scored = self.score_batch(docs)
            self.decide(scored)
        except RetryableError as e:
            logger.warning("confidence: engine failed for a batch of %d records, dropping them: %s", len(docs), e)
            for doc in docs:
                if doc.metadata.get("confidence_decision") != "skipped":
                    doc.metadata["confidence_decision"] = "failed"
                    doc.metadata["confidence_reason"] = f"engine error: {e}"

    # -- scoring --

    def score_batch(self, docs: list[Document]) -> list[_Scored]:
        """Write `confidence.*` scores into each scorable record; mark the rest skipped."""
        todo: list[_Scored] = []
        for doc in docs:
            for key in DECISION_KEYS:  # a record scored by an earlier pass is decided afresh
                doc.metadata.pop(key, None)
            parts = split_chat(doc.metadata.get("messages"))
            if isinstance(parts, str):
                doc.metadata["confidence_decision"] = "skipped"
                doc.metadata["confidence_note"] = parts
                self.stat_update(f"confidence_skipped/{record_lang(doc)}")
                continue
            prompt, response = parts
            prompt, response, truncated = self._cut(prompt, response)
            if truncated:
                doc.metadata["confidence_truncated"] = True
            todo.append(_Scored(doc, prompt, response, {}))
        if not todo:
            return []
        engine = self._engine()
        requests = [request_for(s.prompt, self.sampling) for s in todo]
        if self.reflection:
            ask = Sampling(temperature=0.0, max_tokens=1, logprobs=10, seed=None)
            requests += [ChatRequest.of([{"role": "user", "content": REFLECTION_PROMPT.format(
                prompt=render_prompt(s.prompt), response=s.response)}], ask) for s in todo]
        answers = engine.generate(requests)
        likelihoods = engine.score([ScoreRequest.of(s.prompt, s.response) for s in todo]
                                   + [ScoreRequest.unconditional(s.response) for s in todo])
        n = len(todo)
        for i, s in enumerate(todo):
            sampled = answers[i]
            conditional, unconditional = likelihoods[i], likelihoods[n + i]
            s.samples = [text for text, reason in zip(sampled.texts, sampled.finish_reasons, strict=True)
                         if text.strip() and reason != "length"]
            s.all_samples = list(sampled.texts)
            s.components = {
                "consistency": consistency(s.response, sampled.texts),
                "reflection": reflection_score(answers[n + i]) if self.reflection else None,
                "mean_logprob": conditional.mean_logprob,
                "pmi": conditional.mean_logprob - unconditional.mean_logprob,
                # Where the response was cut for scoring, the turn does not end there: no evidence.
                "eot_logprob": None if s.doc.metadata.get("confidence_truncated") else conditional.eot_logprob,
            }
            scores = s.doc.metadata.setdefault("scores", {})
            for name, value in s.components.items():
                if name == "eot_logprob":
                    value = conditional.eot_logprob  # recorded as measured, even where it is not used
                if value is not None:
                    scores[f"confidence.{name}"] = float(value)
        by_lang: dict[str, list[_Scored]] = defaultdict(list)
        for s in todo:
            by_lang[record_lang(s.doc)].append(s)
        calibrated = self._calibrate(engine, by_lang) if self.combination == "calibrated" else {}
        for lang, group in by_lang.items():
            if lang in calibrated:
                values = calibrated[lang]
            else:
                values = combine([s.components for s in group], self.weights,
                                 "worst" if self.combination == "calibrated" else self.combination)
                if self.combination == "calibrated":
                    self.stat_update(f"confidence_uncalibrated/{lang}", value=len(group))
            for s, value in zip(group, values, strict=True):
                s.doc.metadata["scores"]["confidence"] = value
        return todo

    def _calibrate(self, engine: ScoringEngine, by_lang: dict[str, list[_Scored]]) -> dict[str, list[float]]:
        """Calibrated confidence (see filters/calibration.py) for each language with enough records in
        the batch; the synthetic negatives of every language are scored in one engine call."""
        plans = {lang: synthetic_negatives([s.response for s in group], seed=self.sampling.seed or 0)
                 for lang, group in by_lang.items() if len(group) >= MIN_RECORDS}
        requests = []
        for lang, negatives in plans.items():
            group = by_lang[lang]
            for negative in negatives:
                requests.append(ScoreRequest.of(group[negative.prompt_of].prompt, negative.response))
                if negative.response_of is None:  # a new text: its likelihood without the prompt too
                    requests.append(ScoreRequest.unconditional(negative.response))
        results = iter(engine.score(requests))
        calibrated = {}
        for lang, negatives in plans.items():
            group = by_lang[lang]
            fake: dict[str, list[dict[str, float | None]]] = defaultdict(list)
            for negative in negatives:
                conditional = next(results)
                if negative.response_of is None:
                    unconditional_mean = next(results).mean_logprob
                else:
                    donor = group[negative.response_of].components
                    unconditional_mean = donor["mean_logprob"] - donor["pmi"]
                fake[negative.kind].append({"pmi": conditional.mean_logprob - unconditional_mean,
                             "eot_logprob": conditional.eot_logprob, "mean_logprob": conditional.mean_logprob,
                             "consistency": consistency(negative.response, group[negative.prompt_of].all_samples)})
            # The components the recipe weights (pmi and end of turn by default): the others are
            # noise to the fit at the batch sizes it sees (measured: 0.79 AUROC with all four).
            names = tuple(name for name in FEATURES if self.weights.get(name, 0) > 0)
            real = [s.components for s in group]
            calibrated[lang], weights = calibrated_confidence(real, fake, names)
            logger.info("confidence: calibrated %s on %d records against %s; weights %s", lang, len(group),
                        {kind: len(v) for kind, v in fake.items()}, weights)
        return calibrated

    def _cut(self, prompt: list[dict[str, str]], response: str) -> tuple[list[dict[str, str]], str, bool]:
        """Texts cut to the scoring limits (the start is kept: that is where instructions and answers
        say what they are about)."""
        truncated = len(response) > self.max_response_chars
        response = response[:self.max_response_chars]
        budget = self.max_prompt_chars
        cut = []
        for message in reversed(prompt):  # the turns nearest the response matter most
            content = message["content"][:max(budget, 0)]
            truncated |= len(content) < len(message["content"])
            budget -= len(content)
            cut.append({"role": message["role"], "content": content})
        return list(reversed(cut)), response, truncated

    # -- deciding --

    def decide(self, scored: list[_Scored]) -> None:
        """Thresholds per language -> `confidence_decision` (keep / drop / correct) and its reason."""
        by_lang: dict[str, list[_Scored]] = defaultdict(list)
        for s in scored:
            by_lang[record_lang(s.doc)].append(s)
        low: list[_Scored] = []
        for lang, group in by_lang.items():
            floor = setting_for_lang(self.min_confidence, lang)
            fraction = setting_for_lang(self.drop_fraction, lang)
            lowest: set[int] = set()
            if fraction:
                order = sorted(range(len(group)), key=lambda i: group[i].doc.metadata["scores"]["confidence"])
                lowest = set(order[:int(fraction * len(group))])
            for i, s in enumerate(group):
                value = s.doc.metadata["scores"]["confidence"]
                if floor is not None and value < floor:
                    reason = f"confidence {value:.3f} < min_confidence {floor} ({lang})"
                elif i in lowest:
                    reason = f"lowest {fraction:.0%} of {lang} in its batch (confidence {value:.3f})"
                else:
                    s.doc.metadata["confidence_decision"] = "keep"
                    continue
                s.doc.metadata["confidence_reason"] = reason
                low.append(s)
        if self.on_low == "keep":
            for s in low:
                s.doc.metadata["confidence_decision"] = "keep"
                s.doc.metadata["confidence_low"] = True
            return
        for s in low:
            s.doc.metadata["confidence_decision"] = "drop"
        if self.on_low == "correct" and low:
            self._correct(low)

    def _correct(self, low: list[_Scored]) -> None:
        """Replace a low record's response by its most consistent sample when the model clearly
        prefers that sample: it agrees with the other samples (>= correct_min_agreement), and against
        the given response it gains `correct_margin` nats on PMI or end of turn and loses no more than
        that on the other."""
        candidates = []
        for s in low:
            best = _medoid(s.samples)
            if best is not None and best[1] >= self.correct_min_agreement:
                candidates.append((s, best[0], best[1]))
        if not candidates:
            return
        try:
            results = self._engine().score([ScoreRequest.of(s.prompt, text) for s, text, _ in candidates]
                                           + [ScoreRequest.unconditional(text) for _, text, _ in candidates])
        except RetryableError as e:  # the records are already decided (dropped): correcting is a bonus
            logger.warning("confidence: could not score %d corrections, dropping those records: %s",
                           len(candidates), e)
            return
        n = len(candidates)
        for i, (s, text, agreed) in enumerate(candidates):
            pmi = results[i].mean_logprob - results[n + i].mean_logprob
            given = s.doc.metadata["scores"]
            gains = (pmi - given["confidence.pmi"], results[i].eot_logprob - given["confidence.eot_logprob"])
            if min(gains) < -self.correct_margin or max(gains) < self.correct_margin:
                continue
            self._replace_response(s.doc, text)
            s.doc.metadata["confidence_decision"] = "correct"
            s.doc.metadata["correction"] = {"agreement": agreed, "pmi": pmi, "eot_logprob": results[i].eot_logprob}
            self.stat_update(f"corrected/{record_lang(s.doc)}")

    @staticmethod
    def _replace_response(doc: Document, text: str) -> None:
        messages = doc.metadata["messages"]
        original = messages[-1]["content"]
        joined = "\n\n".join(m["content"] for m in messages)
        doc.metadata["messages"] = messages[:-1] + [{**messages[-1], "content": text}]
        doc.metadata["original_response"] = original
        doc.metadata["corrected"] = True
        if doc.text == joined:  # the chat-record convention: `text` is the turns joined
            doc.text = "\n\n".join(m["content"] for m in doc.metadata["messages"])


def _medoid(samples: list[str]) -> tuple[str, float] | None:
    """The sample that agrees most with the others, and that mean agreement (None under 2 samples)."""
    if len(samples) < 2:
        return None
    scored = [(sum(agreement(s, o) for j, o in enumerate(samples) if j != i) / (len(samples) - 1), i)
              for i, s in enumerate(samples)]
    value, index = max(scored)
    return samples[index], value


def setting_for_lang(setting: float | dict[str, float] | None, lang: str) -> float | None:
    """A threshold for `lang` (`swh_Latn`): the value itself, or a dict's entry for the label, its
    code (`swh`) or `*`."""
    if not isinstance(setting, dict):
        return setting
    for key in (lang, lang.split("_")[0], "*"):
        if key in setting:
            return setting[key]
    return None
