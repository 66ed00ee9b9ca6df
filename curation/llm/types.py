"""The engine protocol's data: what goes in (ChatRequest) and what comes out (Completion)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import ClassVar, Protocol


@dataclass(frozen=True)
class Sampling:
    """Sampling parameters, the subset every engine understands."""

    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 256
    n: int = 1
    seed: int | None = 0
    stop: tuple[str, ...] = ()
    logprobs: int | None = None  # top log-probabilities per generated token
    prompt_logprobs: bool = False  # log-probability of every prompt token (scoring passes)
    # A JSON schema (as canonical JSON text, so the request stays hashable and its cache key stable)
    # the answer must follow: engines that can constrain decoding to it do (vLLM's structured outputs,
    # an OpenAI-compatible server's response_format); others answer freely and the parser checks.
    json_schema: str | None = None


@dataclass(frozen=True)
class ChatRequest:
    """Chat messages ([{role, content}]) and how to sample a reply; `continuation` scores an assistant
    turn instead of generating one (its tokens' log-probabilities come back, nothing is sampled)."""

    messages: tuple[tuple[str, str], ...]
    sampling: Sampling = field(default_factory=Sampling)

    @classmethod
    def of(cls, messages: list[dict[str, str]], sampling: Sampling | None = None) -> ChatRequest:
        return cls(tuple((m["role"], m["content"]) for m in messages), sampling or Sampling())

    def message_dicts(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages]

    def cache_key(self, model: str) -> str:
        """Stable across processes and runs: a hash of (model, messages, sampling incl. seed)."""
        payload = {"model": model, "messages": self.messages, "sampling": asdict(self.sampling)}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def schema_text(schema: dict) -> str:
    """A JSON schema as `Sampling.json_schema` holds it: canonical JSON (sorted keys, no spaces)."""
    return json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_for(prompt: list[dict[str, str]], sampling: Sampling) -> ChatRequest:
    """A request whose seed is the round's seed mixed with the prompt: reproducible, yet every prompt
    of a batch draws its own random numbers (one shared seed gave 2-3 distinct openings per 8 answers).
    Generators and the confidence scorer ask through this, so the same prompt is the same request."""
    digest = hashlib.sha256(repr([(m["role"], m["content"]) for m in prompt]).encode()).digest()
    seed = (int.from_bytes(digest[:4], "little") + (sampling.seed or 0)) % (2**31 - 1)
    return ChatRequest.of(prompt, replace(sampling, seed=seed))


@dataclass
class Completion:
    """One request's answer: `texts` has `n` samples; token counts cover all of them."""

    texts: list[str]
    prompt_tokens: int
    completion_tokens: int
    finish_reasons: list[str]
    token_logprobs: list[list[float]] | None = None  # per sample: log-probability of each generated token
    top_logprobs: list[list[dict[str, float]]] | None = None  # per sample, per token: {token: logprob}
    prompt_logprobs: list[float] | None = None  # per prompt token (first is None-like 0.0)

    @property
    def text(self) -> str:
        return self.texts[0]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str) -> Completion:
        return cls(**json.loads(data))


class Engine(Protocol):
    """What generators and scorers need from an LLM."""

    model_name: str

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        """Answer every request; order is kept. Raise RetryableError for transient failures."""
        ...


@dataclass(frozen=True)
class ScoreRequest:
    """Score a given assistant turn instead of sampling one: how likely is `continuation` as the
    reply to `messages`, token by token, and how likely does the turn end right after it?"""

    messages: tuple[tuple[str, str], ...]
    continuation: str

    # The "without instruction" context for PMI: an empty user turn. A neutral turn keeps the chat
    # template's framing (system prompt, assistant header) identical to the conditional pass, so the
    # difference between the two measures the instruction alone.
    NEUTRAL: ClassVar[tuple[tuple[str, str], ...]] = (("user", ""),)

    @classmethod
    def of(cls, messages: list[dict[str, str]], continuation: str) -> ScoreRequest:
        return cls(tuple((m["role"], m["content"]) for m in messages), continuation)

    @classmethod
    def unconditional(cls, continuation: str) -> ScoreRequest:
        """The same continuation after the neutral prompt (the PMI baseline)."""
        return cls(cls.NEUTRAL, continuation)

    def message_dicts(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages]

    def cache_key(self, model: str) -> str:
        """A hash of (model, messages, continuation); `kind` keeps it apart from generation keys."""
        payload = {"kind": "score", "model": model, "messages": self.messages, "continuation": self.continuation}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class ScoreResult:
    """Log-probabilities of a scored continuation: one per token, and the end-of-turn token's."""

    token_logprobs: list[float]
    eot_logprob: float
    truncated: bool = False  # the engine cut the continuation (or the prompt's start) to fit the context

    @property
    def mean_logprob(self) -> float:
        """Mean over the continuation's tokens (0.0 for an empty continuation)."""
        return sum(self.token_logprobs) / len(self.token_logprobs) if self.token_logprobs else 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: str) -> ScoreResult:
        return cls(**json.loads(data))


class ScoringEngine(Engine, Protocol):
    """An engine that can also score given continuations (vLLM, the fake engine, the cache over them)."""

    def score(self, requests: list[ScoreRequest]) -> list[ScoreResult]:
        """Score every request; order is kept. Raise RetryableError for transient failures."""
        ...
