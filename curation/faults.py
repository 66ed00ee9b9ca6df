"""Named points where the fault-matrix tests (tests/test_faults.py) stop a run, and nothing else.

Inert unless the environment asks: `fault_point(name)` is one dictionary lookup when neither
variable below is set, so the points can sit in per-record loops.

    CURATE_FAULT=<pattern>@<n>[:stop]   the n-th time this process reaches a point whose name matches
                                        the fnmatch pattern, it sends itself SIGKILL (or SIGSTOP with
                                        `:stop`, to hold a run mid-stage, lock and all)
    CURATE_FAULT_TRACE=<file>           append every point reached to <file>, one name a line (the
                                        tests pick their "random point" among the names a run reaches)

SIGKILL rather than an exception: what is tested is what a killed process leaves on disk (no
`finally`, no `atexit`, no flush). Counting is per process; the tests run one worker per stage, so
one process sees every point of the run.

The points (a name says where, never which record):

    record/<step>                 a counted step decided about one record (curation.steps)
    write/<folder>/<file>         a file written whole, before it is renamed into place (workfiles)
    dedup/band, select/language   the deciding stages' loops (also dedup/stars: a star round's edges
                                  computed; dedup/guesses: a clusters task read one guesses file;
                                  components/resolve: one graph's residual resolved)
    llm/stored                    an answered batch of LLM requests is in the request cache
    publish/shard                 finalize linked one Parquet shard into data/
    mirror/pushed                 a batch of a task's files is on the output's store (an output URL)
"""

from __future__ import annotations

import fnmatch
import os
import signal

FAULT_ENV = "CURATE_FAULT"
TRACE_ENV = "CURATE_FAULT_TRACE"

_hits: dict[str, int] = {}  # per pattern: how often this process reached a matching point


def fault_point(name: str) -> None:
    """Reaching the point `name`: trace it, and stop the process here when CURATE_FAULT says so."""
    if FAULT_ENV not in os.environ and TRACE_ENV not in os.environ:
        return
    if trace := os.environ.get(TRACE_ENV):
        with open(trace, "a", encoding="utf-8") as fh:
            fh.write(name + "\n")
    if spec := os.environ.get(FAULT_ENV):
        _maybe_stop(spec, name)


def _maybe_stop(spec: str, name: str) -> None:
    where, _, how = spec.partition(":")
    pattern, _, nth = where.rpartition("@")
    if not fnmatch.fnmatchcase(name, pattern):
        return
    _hits[pattern] = _hits.get(pattern, 0) + 1
    if _hits[pattern] == int(nth):
        os.kill(os.getpid(), signal.SIGSTOP if how == "stop" else signal.SIGKILL)
