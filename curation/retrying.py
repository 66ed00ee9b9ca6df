"""Retrying a call to a remote service: which failures are worth another try, how long to wait,
and keeping the secret out of what the user reads.

The Hub push (`curation/hub.py`) and the OpenAI engine (`curation/llm/openai_engine.py`) follow
the same rules, kept here once:

    retryable   HTTP 408, 429 and every 5xx (`retryable_status`), plus the connection failures
                each caller names (they differ: the engine speaks httpx, the Hub push whatever
                HTTP library huggingface_hub uses); the caller raises `Transient` for them
    the wait    the server's Retry-After when it sent one (`retry_after_seconds`), else
                exponential backoff with jitter (`retry_delay`)
    giving up   after `max_retries` retries `call_with_retries` re-raises the last `Transient`;
                the caller turns it into the `RetryableError` the user reads, in its own words
    secrets     a token or API key is never put in a message: `redact` it from anything a server
                or a library said before that text goes into an error or the log
"""

from __future__ import annotations

import email.utils
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TypeVar

RETRY_STATUSES = frozenset({408, 429})  # plus every 5xx
MAX_BACKOFF_S = 60.0  # the exponential backoff stops growing here
MAX_RETRY_AFTER_S = 300.0  # a Retry-After beyond this is a misconfigured server, not advice
REDACTED = "***"

T = TypeVar("T")


class Transient(Exception):
    """One attempt failed in a way worth retrying; `status` says how (it ends up in the log and in
    the final error), `wait_s` is the server's Retry-After, if it sent one."""

    def __init__(self, status: str, wait_s: float | None = None):
        super().__init__(status)
        self.status = status
        self.wait_s = wait_s


def retryable_status(status: int) -> bool:
    """Whether an HTTP status is the server being busy or broken for now (408, 429, 5xx), rather
    than a refusal of this request that asking again cannot change (the other 4xx)."""
    return status in RETRY_STATUSES or status >= 500


def retry_delay(attempt: int, backoff_s: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (0 for the first): `backoff_s`
    doubled per attempt up to `MAX_BACKOFF_S`, times a random factor in [0.5, 1] so that many
    callers rate-limited at once don't retry in step."""
    return min(MAX_BACKOFF_S, backoff_s * 2**attempt) * random.uniform(0.5, 1.0)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms` (OpenAI), `Retry-After` as seconds or
    as an HTTP date; None when absent or unreadable. Clamped to [0, MAX_RETRY_AFTER_S].

    `headers` must look names up case-insensitively, as httpx's `Headers` and requests'
    `CaseInsensitiveDict` do.
    """
    if "retry-after-ms" in headers:
        try:
            return min(MAX_RETRY_AFTER_S, max(0.0, float(headers["retry-after-ms"]) / 1000))
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (email.utils.parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(MAX_RETRY_AFTER_S, max(0.0, seconds))


def call_with_retries(attempt: Callable[[], T], *, max_retries: int, backoff_s: float,
                      pause: Callable[[Transient, int, float], None]) -> T:
    """`attempt()`'s result, trying it up to `max_retries + 1` times.

    A `Transient` from `attempt` is retried: first `pause(failure, retry, delay_s)` runs, with
    `retry` counting from 1 and the delay from the server's Retry-After or else `retry_delay`.
    `pause` is the caller's: it logs in the caller's words and waits (`time.sleep`, or an event's
    `wait` so that a cancelled batch stops waiting); it may raise to stop. Any other exception
    from `attempt` propagates at once. When the retries run out, the last `Transient` is raised.
    """
    retry = 0
    while True:
        try:
            return attempt()
        except Transient as failure:
            if retry >= max_retries:
                raise
            last = failure
        delay = last.wait_s if last.wait_s is not None else retry_delay(retry, backoff_s)
        retry += 1
        pause(last, retry, delay)


def redact(text: str, secret: str | None) -> str:
    """`text` with every occurrence of `secret` replaced by `***`: for server messages and library
    errors, which may echo a token or key back (in a URL, a header dump, an error body)."""
    return text.replace(secret, REDACTED) if secret else text
