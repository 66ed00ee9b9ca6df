"""The retry rules the Hub push and the OpenAI engine share: statuses, waits, the loop, redaction."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from curation.retrying import (
    MAX_BACKOFF_S,
    Transient,
    call_with_retries,
    redact,
    retry_after_seconds,
    retry_delay,
    retryable_status,
)

# --- which failures are worth another try


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599])
def test_busy_or_broken_servers_are_retried(status):
    assert retryable_status(status)


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 409, 422])
def test_refusals_are_not_retried(status):
    assert not retryable_status(status)


# --- how long to wait


def test_retry_after_forms():
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds(httpx.Headers({"Retry-After": "2"})) == 2
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "250", "Retry-After": "9"})) == 0.25
    assert 25 < retry_after_seconds(httpx.Headers({"Retry-After": soon})) <= 30
    assert retry_after_seconds(httpx.Headers({"Retry-After": "soon-ish"})) is None
    assert retry_after_seconds(httpx.Headers({})) is None
    assert retry_after_seconds(httpx.Headers({"Retry-After": "99999"})) == 300


def test_retry_after_in_the_past_or_negative_means_now():
    past = format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True)
    assert retry_after_seconds(httpx.Headers({"Retry-After": past})) == 0
    assert retry_after_seconds(httpx.Headers({"Retry-After": "-3"})) == 0
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "-40"})) == 0


def test_an_unreadable_retry_after_ms_falls_back_to_retry_after():
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "later", "Retry-After": "3"})) == 3
    assert retry_after_seconds(httpx.Headers({"RETRY-AFTER-MS": "1500"})) == 1.5  # names are case-insensitive


def test_backoff_doubles_up_to_the_cap_with_jitter_in_half_to_whole(monkeypatch):
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    assert [retry_delay(attempt, 1.0) for attempt in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    monkeypatch.setattr(random, "uniform", lambda low, high: low)
    assert [retry_delay(attempt, 0.25) for attempt in range(3)] == [0.125, 0.25, 0.5]


def test_backoff_stays_within_its_bounds():
    for attempt in range(12):
        ceiling = min(MAX_BACKOFF_S, 2.0 * 2**attempt)
        delays = [retry_delay(attempt, 2.0) for _ in range(200)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays), (attempt, min(delays), max(delays))
        assert len(set(delays)) > 1, "no jitter: callers limited together would retry in step"


# --- the loop


def scripted(*outcomes):
    """An attempt that raises or returns each outcome in turn, and the list of calls made."""
    calls: list[int] = []

    def attempt():
        calls.append(len(calls))
        outcome = outcomes[len(calls) - 1]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return attempt, calls


def test_transient_failures_are_retried_with_the_servers_wait_else_backoff(monkeypatch):
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    attempt, calls = scripted(Transient("HTTP 429", wait_s=7.0), Transient("HTTP 503"), Transient("timeout"), "ok")
    pauses: list[tuple[str, int, float]] = []

    result = call_with_retries(attempt, max_retries=5, backoff_s=0.5,
                               pause=lambda failure, retry, delay: pauses.append((failure.status, retry, delay)))

    assert result == "ok" and len(calls) == 4
    # Retry-After first; then the backoff of the 2nd and 3rd attempts (0.5 * 2, 0.5 * 4)
    assert pauses == [("HTTP 429", 1, 7.0), ("HTTP 503", 2, 1.0), ("timeout", 3, 2.0)]


def test_retries_run_out_into_the_last_transient():
    attempt, calls = scripted(*(Transient(f"HTTP 50{i}") for i in range(4)))
    pauses: list[int] = []
    with pytest.raises(Transient) as error:
        call_with_retries(attempt, max_retries=2, backoff_s=0.01, pause=lambda f, retry, d: pauses.append(retry))
    assert error.value.status == "HTTP 502" and len(calls) == 3 and pauses == [1, 2]


def test_no_retries_means_one_attempt():
    attempt, calls = scripted(Transient("HTTP 503"))
    with pytest.raises(Transient):
        call_with_retries(attempt, max_retries=0, backoff_s=1, pause=lambda *a: pytest.fail("paused"))
    assert len(calls) == 1


def test_other_errors_are_not_retried():
    attempt, calls = scripted(PermissionError("HTTP 401"), "never")
    with pytest.raises(PermissionError):
        call_with_retries(attempt, max_retries=5, backoff_s=1, pause=lambda *a: pytest.fail("paused"))
    assert len(calls) == 1


def test_a_pause_that_raises_stops_the_retries():
    class Stop(Exception):
        pass

    def pause(failure, retry, delay):
        raise Stop

    attempt, calls = scripted(Transient("HTTP 503"), "never")
    with pytest.raises(Stop):
        call_with_retries(attempt, max_retries=5, backoff_s=1, pause=pause)
    assert len(calls) == 1


# --- secrets


TOKEN = "hf_s3cr3tT0ken_xyz"


def test_a_token_in_a_url_is_redacted_everywhere():
    url = f"https://user:{TOKEN}@hub.example/api/datasets/x?token={TOKEN}"
    assert redact(url, TOKEN) == "https://user:***@hub.example/api/datasets/x?token=***"


@pytest.mark.parametrize("message", [
    f"Invalid credentials in Authorization header: Bearer {TOKEN}",
    f"認証に失敗しました: {TOKEN} は無効です",
    f"Неверный ключ {TOKEN}; проверьте настройки",
])
def test_a_token_echoed_in_a_server_message_is_redacted(message):
    redacted = redact(message, TOKEN)
    assert TOKEN not in redacted and "***" in redacted
    assert redacted.replace("***", TOKEN) == message  # nothing else changed


@pytest.mark.parametrize("secret", [None, ""])
def test_no_secret_leaves_the_text_alone(secret):
    assert redact("HTTP 503 Service Unavailable", secret) == "HTTP 503 Service Unavailable"
