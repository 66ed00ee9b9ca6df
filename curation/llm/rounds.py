"""Run several generators at once and send their rounds to the engine together.

A generator works in rounds: build prompts, ask, parse, build the next prompts from the answers.
Run one after another, each round is a small batch (a few prompts of one language), and vLLM's
throughput on small batches is a fraction of what it reaches on large ones (on a CPU, ~40 against
~380 tokens/s for 64 prompts). Here every generator runs in its own thread, and their requests meet
in the calling thread: when every generator that is still running is waiting for answers, their
requests go to the engine as one call. The engine and its cache are only ever used from the
calling thread (SQLite connections and vLLM's in-process engine stay where they were made).

Output order does not depend on thread timing: each generator's records are released in
generator order (all of the first's, then the second's, ...), so downstream steps that depend
on order (verification's near-duplicate check) decide the same way on every run. Records of a
generator that finishes before an earlier one are held until then (generated records are few).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Ticket:
    """One generator's pending call, answered by the calling thread."""

    requests: list[Any]
    answered: threading.Event = field(default_factory=threading.Event)
    answers: list[Any] | None = None
    error: BaseException | None = None


class _SharedEngine:
    """What each generator thread sees as its engine: `generate` posts the requests and waits."""

    def __init__(self, events: queue.Queue, worker: int, model_name: str, stopped: threading.Event):
        self.events = events
        self.worker = worker
        self.model_name = model_name
        self.stopped = stopped  # the caller gave up (an error, or its consumer stopped reading)

    def generate(self, requests: list[Any]) -> list[Any]:
        ticket = _Ticket(list(requests))
        self.events.put(("ask", self.worker, ticket))
        while not ticket.answered.wait(0.5):
            if self.stopped.is_set():
                raise RuntimeError("generation stopped")
        if ticket.error is not None:
            raise ticket.error
        return ticket.answers or []


def run_merged(engine: Any, jobs: list[Callable[[Any], Iterable[Any]]],
               after_call: Callable[[], None] | None = None) -> Iterator[Any]:
    """Run each job (`job(shared_engine)` -> iterable of records) in its own thread; their engine
    calls are merged into one `engine.generate` per step; records are yielded in job order.
    `after_call` runs in the calling thread after every merged call (progress reporting)."""
    events: queue.Queue = queue.Queue()
    stopped = threading.Event()
    threads = [threading.Thread(target=_work, args=(job, _SharedEngine(events, i, engine.model_name, stopped), i,
                                                    events), daemon=True, name=f"generator-{i}")
               for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    held: list[list[Any]] = [[] for _ in jobs]
    finished = [False] * len(jobs)
    waiting: dict[int, _Ticket] = {}
    released = 0  # jobs whose records have all been yielded
    try:
        while released < len(jobs):
            kind, worker, payload = events.get()
            if kind == "record":
                held[worker].append(payload)
            elif kind == "ask":
                waiting[worker] = payload
            elif kind == "done":
                finished[worker] = True
            else:  # "error": stop, and let every waiting generator raise too
                raise payload
            while released < len(jobs) and (held[released] or finished[released]):
                yield from held[released]
                held[released] = []
                if not finished[released]:
                    break
                released += 1
            running = sum(not f for f in finished)
            if waiting and len(waiting) == running:
                _answer_together(engine, waiting)
                waiting.clear()
                if after_call is not None:
                    after_call()
    finally:
        stopped.set()
        for ticket in waiting.values():
            ticket.error = RuntimeError("generation stopped")
            ticket.answered.set()


def _work(job: Callable[[Any], Iterable[Any]], shared: _SharedEngine, worker: int, events: queue.Queue) -> None:
    try:
        for record in job(shared):
            events.put(("record", worker, record))
        events.put(("done", worker, None))
    except BaseException as error:  # handed to the calling thread, which raises it
        events.put(("error", worker, error))


def _answer_together(engine: Any, waiting: dict[int, _Ticket]) -> None:
    """One engine call for every waiting generator's requests, answers handed back in order."""
    order = sorted(waiting)
    merged = [request for worker in order for request in waiting[worker].requests]
    try:
        answers = engine.generate(merged)
    except BaseException as error:
        for worker in order:
            waiting[worker].error = error
            waiting[worker].answered.set()
        return
    start = 0
    for worker in order:
        ticket = waiting[worker]
        ticket.answers = answers[start:start + len(ticket.requests)]
        start += len(ticket.requests)
        ticket.answered.set()
