"""Generators run at once with their rounds merged into single engine calls (curation/llm/rounds.py)."""

from __future__ import annotations

import threading
import time

import pytest

from curation.llm.rounds import run_merged


class RecordingEngine:
    """Answers each request with its text upper-cased; remembers every call and its thread."""

    model_name = "recording"

    def __init__(self, fail_on_call: int | None = None):
        self.calls: list[list[str]] = []
        self.threads: set[int] = set()
        self.fail_on_call = fail_on_call

    def generate(self, requests: list[str]) -> list[str]:
        self.threads.add(threading.get_ident())
        self.calls.append(list(requests))
        if self.fail_on_call is not None and len(self.calls) == self.fail_on_call:
            raise RuntimeError("engine down")
        return [r.upper() for r in requests]


def job(name: str, rounds: int, per_round: int, delay: float = 0.0):
    """A generator: `rounds` rounds of `per_round` prompts, one record per answer."""
    def run(engine):
        for round_no in range(rounds):
            time.sleep(delay)  # uneven work between rounds must not change what is merged or yielded
            answers = engine.generate([f"{name}-{round_no}-{i}" for i in range(per_round)])
            yield from answers
    return run


def generator_threads_left() -> list[threading.Thread]:
    """The generator threads still alive once each had its chance to end. Joined, not slept on: a
    fixed sleep fails on a busy machine; the join's bound only ends a test that would hang."""
    threads = [t for t in threading.enumerate() if t.name.startswith("generator-")]
    for thread in threads:
        thread.join(timeout=120)
    return [t for t in threads if t.is_alive()]


def test_rounds_of_running_generators_are_sent_together_and_records_come_in_job_order():
    engine = RecordingEngine()
    jobs = [job("sw", rounds=2, per_round=2, delay=0.02), job("yo", rounds=3, per_round=1), job("en", 1, 3)]
    records = list(run_merged(engine, jobs))
    # round 1 of all three in one call; round 2 of sw and yo; round 3 of yo alone
    assert [len(c) for c in engine.calls] == [6, 3, 1]
    assert engine.calls[0] == ["sw-0-0", "sw-0-1", "yo-0-0", "en-0-0", "en-0-1", "en-0-2"]
    assert records == ["SW-0-0", "SW-0-1", "SW-1-0", "SW-1-1", "YO-0-0", "YO-1-0", "YO-2-0",
                       "EN-0-0", "EN-0-1", "EN-0-2"]
    assert engine.threads == {threading.get_ident()}  # the engine (and its SQLite cache) stays in this thread


def test_an_engine_error_reaches_the_caller_and_stops_every_generator():
    engine = RecordingEngine(fail_on_call=2)
    with pytest.raises(RuntimeError, match="engine down"):
        list(run_merged(engine, [job("sw", 3, 1), job("yo", 3, 1)]))
    assert not generator_threads_left()


def test_a_generator_error_is_raised_in_the_caller():
    def broken(engine):
        engine.generate(["x"])
        raise ValueError("bad template")
        yield  # a generator function

    with pytest.raises(ValueError, match="bad template"):
        list(run_merged(RecordingEngine(), [job("sw", 2, 1), broken]))


def test_after_call_runs_once_per_merged_call():
    engine, seen = RecordingEngine(), []
    list(run_merged(engine, [job("sw", 2, 1), job("yo", 2, 1)], after_call=lambda: seen.append(len(engine.calls))))
    assert seen == [1, 2]


def test_a_consumer_that_stops_reading_stops_the_generators():
    records = run_merged(RecordingEngine(), [job("sw", 50, 1, delay=0.01), job("yo", 50, 1, delay=0.01)])
    assert next(records) == "SW-0-0"
    records.close()  # e.g. the step downstream failed
    assert not generator_threads_left()
