"""A deterministic engine for unit tests of prompt building, parsing and caching.

It answers from a `responder(messages) -> text` function (default: echo the last user message
inside a template) and counts what it was asked, so tests can assert how many requests reached
the engine. Never used by a recipe unless named explicitly (`engine: curation.llm.fake:FakeEngine`).
"""

from __future__ import annotations

import hashlib
import json
import math
import string
import time
from collections.abc import Callable

from curation.llm.types import ChatRequest, Completion, ScoreRequest, ScoreResult

SENTENCE_END = (".", "!", "?", "。", "！", "？", "।", "»", '"')


def _unit(text: str) -> float:
    """A stable pseudo-random number in [0, 1) from a string."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") / 2**32


def pseudo_score(request: ScoreRequest, fit_bonus: float = 2.0) -> ScoreResult:
    """Deterministic log-probabilities with the shape of a real model's:

    - a token (a whitespace-separated word) costs between -1 and -4 nats, from its hash;
    - a token that also appears in the prompt costs `fit_bonus` nats less (a response "fits" its
      instruction the way PMI sees it: likelier with the instruction than without);
    - the turn ends likely (-0.2) after sentence-final punctuation, unlikely (-6.0) elsewhere,
      so a response cut mid-sentence has a low end-of-turn log-probability.
    """
    def words(text: str) -> list[str]:
        return [w.strip(string.punctuation).casefold() for w in text.split()]

    prompt_words = {w for _, content in request.messages for w in words(content)}
    logprobs = []
    for word in words(request.continuation):
        lp = -1.0 - 3.0 * _unit(word)
        if word in prompt_words:
            lp = min(-0.05, lp + fit_bonus)
        logprobs.append(lp)
    eot = -0.2 if request.continuation.rstrip().endswith(SENTENCE_END) else -6.0
    return ScoreResult(token_logprobs=logprobs, eot_logprob=eot)


def echo(messages: list[dict[str, str]]) -> str:
    return f"ECHO: {messages[-1]['content']}"


class FakeEngine:
    model_name = "fake"

    def __init__(self, responder: Callable[[list[dict[str, str]]], str] = echo, delay: float = 0.0,
                 calls_file: str | None = None, model: str = "fake",
                 scorer: Callable[[ScoreRequest], ScoreResult] = pseudo_score, **_: object):
        self.responder = responder
        self.delay = delay
        self.calls_file = calls_file  # one line per request sent, shared by processes (kill tests)
        self.model_name = model
        self.scorer = scorer  # `score` answers from it (default: `pseudo_score`)
        self.requests_seen = 0

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        results = []
        for request in requests:
            if self.delay:
                time.sleep(self.delay)
            messages = request.message_dicts()
            texts = [self.responder(messages) for _ in range(request.sampling.n)]
            prompt_tokens = sum(len(m["content"].split()) for m in messages)
            token_logprobs = top_logprobs = None
            if request.sampling.logprobs is not None:
                # Each word is a token the "model" was sure of (p = 0.9); enough for readers of the
                # first token's top log-probabilities (self-reflection) to see which answer it gave.
                token_logprobs = [[math.log(0.9)] * len(t.split()) for t in texts]
                top_logprobs = [[{word: math.log(0.9)} for word in t.split()] for t in texts]
            results.append(Completion(texts=texts, prompt_tokens=prompt_tokens,
                                      completion_tokens=sum(len(t.split()) for t in texts),
                                      finish_reasons=["stop"] * len(texts),
                                      token_logprobs=token_logprobs, top_logprobs=top_logprobs))
            self.requests_seen += 1
            if self.calls_file:
                with open(self.calls_file, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(request.cache_key(self.model_name)) + "\n")  # which request, exactly
                    fh.flush()
        return results

    def score(self, requests: list[ScoreRequest]) -> list[ScoreResult]:
        results = []
        for request in requests:
            results.append(self.scorer(request))
            self.requests_seen += 1
            if self.calls_file:
                with open(self.calls_file, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(request.cache_key(self.model_name)) + "\n")
        return results
