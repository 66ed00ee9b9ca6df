"""A deterministic engine for unit tests of prompt building, parsing and caching.

It answers from a `responder(messages) -> text` function (default: echo the last user message
inside a template) and counts what it was asked, so tests can assert how many requests reached
the engine. Never used by a recipe unless named explicitly (`engine: curation.llm.fake:FakeEngine`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from curation.llm.types import ChatRequest, Completion


def echo(messages: list[dict[str, str]]) -> str:
    return f"ECHO: {messages[-1]['content']}"


class FakeEngine:
    model_name = "fake"

    def __init__(self, responder: Callable[[list[dict[str, str]]], str] = echo, delay: float = 0.0,
                 calls_file: str | None = None, model: str = "fake", **_: object):
        self.responder = responder
        self.delay = delay
        self.calls_file = calls_file  # one line per request sent, shared by processes (kill tests)
        self.model_name = model
        self.requests_seen = 0

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        results = []
        for request in requests:
            if self.delay:
                time.sleep(self.delay)
            messages = request.message_dicts()
            texts = [self.responder(messages) for _ in range(request.sampling.n)]
            prompt_tokens = sum(len(m["content"].split()) for m in messages)
            results.append(Completion(texts=texts, prompt_tokens=prompt_tokens,
                                      completion_tokens=sum(len(t.split()) for t in texts),
                                      finish_reasons=["stop"] * len(texts)))
            self.requests_seen += 1
            if self.calls_file:
                with open(self.calls_file, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(request.cache_key(self.model_name)) + "\n")  # which request, exactly
                    fh.flush()
        return results


def count_calls(calls_file: str | Path) -> int:
    path = Path(calls_file)
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0
