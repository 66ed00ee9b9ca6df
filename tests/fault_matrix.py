"""Helpers of the fault matrix (tests/test_faults_*.py): one recipe that reaches every stage, a `curate
run` in a child process stopped at a named point (`curation.faults`), and what "the same output" means.

The recipe: the quickstart's bundled inputs (JSONL with a bad-UTF-8 file, CSV, text: records are
kept, dropped and quarantined), lid -> quality -> dedup (with containment) -> select, then
instruction, QA and dialogue generation in Swahili through a fake engine whose answers depend on
the request alone (so a resumed process answers what an uninterrupted one did) and which writes
one line per request it receives (so the tests can count them). Two tasks, one worker: the stages
run one task after the other in the `curate` process, so a point's n-th hit is the same in every run.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from tests.conftest import QUICKSTART_DATA, REPO, write_recipe

# The "random point" of each case is drawn from this seed, so a failure reproduces; set
# CURATE_FAULT_SEED to draw other points (the drawn point is in every assertion message).
SEED = int(os.environ.get("CURATE_FAULT_SEED", "15"))

# Stats that legitimately differ between a resumed run and an uninterrupted one: the recipe's
# fingerprint covers the output path, a resumed generate stage reads answers from the cache (that is
# the point), and timings are timings.
VOLATILE_STATS = ("fingerprint", "llm_cache")


def matrix_recipe(tmp_path: Path, name: str, output: Path | None = None) -> Path:
    """The recipe tmp_path/name.yaml, writing into `output` (default tmp_path/name), its fake engine's
    requests into tmp_path/name.calls."""
    recipe = {
        "name": "matrix",
        "output": str(output or tmp_path / name),
        "inputs": [{"path": str(QUICKSTART_DATA / "web_sample*.jsonl"), "id_key": "id"},
                   {"path": str(QUICKSTART_DATA / "forum_posts.csv"), "text_key": "body", "id_key": "post_id"},
                   {"path": str(QUICKSTART_DATA / "notes.txt"), "text_unit": "paragraph"}],
        "steps": [{"lid": {"keep": ["sw", "yo", "ne", "hi", "ar", "ru", "zh", "th", "el"]}}, {"quality": None},
                  {"dedup": {"containment": {"threshold": 0.5}}},
                  {"select": {"budget": {"sw": 8, "*": 3}, "score_key": "quality.gopher_word_count"}}],
        "executor": {"local": {"tasks": 2, "workers": 1}},
        "dataset": {"rejects": True, "rows_per_shard": 4},
        "llm": {"engine": "tests.fake_models:StatelessChattyEngine", "batch_size": 2,
                "extra": {"calls_file": str(calls_file(tmp_path / name))}},
        "generate": {"languages": ["sw"], "instruction": {"count": 6, "rounds": 2, "per_prompt": 3},
                     "qa": {"per_passage": 1, "max_passages": 2}, "dialogue": {"count": 2, "turns": 4}},
    }
    return write_recipe(tmp_path / f"{name}.yaml", recipe)


def reference_run(tmp_path: Path) -> tuple[Path, list[str]]:
    """An uninterrupted run of the matrix recipe into tmp_path/out, and every point it reached, in order."""
    from tests.conftest import run_cli

    trace = tmp_path / "trace"
    os.environ["CURATE_FAULT_TRACE"] = str(trace)
    try:
        result = run_cli("run", matrix_recipe(tmp_path, "out"))
    finally:
        del os.environ["CURATE_FAULT_TRACE"]
    assert result.exit_code == 0, result.output
    return tmp_path / "out", trace.read_text().splitlines()


def calls_file(output: Path) -> Path:
    return output.with_name(output.name + ".calls")


def requests_sent(output: Path) -> Counter[str]:
    """Every request the fake engine received for this output's runs, with how often."""
    path = calls_file(output)
    return Counter(path.read_text().splitlines() if path.exists() else [])


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CURATE_FAULT")}
    return {**env, "PYTHONPATH": str(REPO), "CURATE_PROGRESS_EVERY": "0", **extra}


def run_child(args: list[str], env: dict[str, str], timeout: float = 600,
              leave_orphans: bool = False) -> subprocess.CompletedProcess:
    """`curate <args>` in a child process of its own session; whatever it leaves running is killed after.
    Output goes through files, not pipes: datatrove's Manager process, orphaned by a SIGKILL, would hold
    a pipe open. The timeout is a hang guard only (a killed run ends in seconds), generous for a busy machine."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen([sys.executable, "-m", "curation.cli", *args], cwd=REPO, env=env, text=True,
                                   stdout=out, stderr=err, start_new_session=True)
        try:
            process.wait(timeout=timeout)
        finally:
            if not leave_orphans or process.returncode is None:
                kill_group(process.pid)
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(process.args, process.returncode, out.read(), err.read())
        result.pid = process.pid  # type: ignore[attr-defined]
        return result


ORPHANED_GROUPS: list[int] = []  # process groups of killed runs, killed by the `orphans` fixture


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def killed_at(recipe: Path, point: str, **env: str) -> subprocess.CompletedProcess:
    """Run the recipe in a child process that SIGKILLs itself at `point` (`pattern@n`); assert it did."""
    # What a killed run leaves running stays until the test ends (the `orphans` fixture): the rerun must
    # not depend on it being gone (datatrove's Manager process outlives its parent).
    result = run_child(["run", str(recipe)], child_env(CURATE_FAULT=point, **env), leave_orphans=True)
    ORPHANED_GROUPS.append(result.pid)
    assert result.returncode == -signal.SIGKILL, (f"{point}: the run was not killed there "
                                                  f"(exit {result.returncode})\n{result.stderr[-2000:]}")
    return result


def draw_point(trace: list[str], patterns: list[str], case: str) -> str:
    """A point inside a stage, `pattern@n`: one of the stage's point patterns the reference run reached,
    and a hit of it drawn uniformly, from SEED and the case's name (the same draw every run)."""
    import fnmatch

    rng = random.Random(f"{SEED}/{case}")
    counts = {p: sum(fnmatch.fnmatchcase(name, p) for name in trace) for p in patterns}
    reached = sorted(p for p, n in counts.items() if n)
    assert reached, f"{case}: the reference run reached none of {patterns}"
    pattern = rng.choice(reached)
    return f"{pattern}@{rng.randint(1, counts[pattern])}"


# ----------------------------------------------------------------------------- what "the same output" is


def shard_rows(output: Path) -> dict[str, list[dict[str, Any]]]:
    return {str(p.relative_to(output)): pq.read_table(p).to_pylist() for p in sorted((output / "data").rglob("*.parquet"))}


def comparable_stats(output: Path) -> dict[str, Any]:
    stats = json.loads((output / "stats.json").read_text())
    for key in VOLATILE_STATS:
        stats.pop(key)
    stats["other_counters"] = {k: v for k, v in stats["other_counters"].items()
                               if "cache_hits" not in k and "_ms/" not in k}  # cache hits; milliseconds
    for summary in stats["generation"].values():
        for key in ("seconds", "generated_tokens_per_second"):
            summary.pop(key, None)
    return stats


def side_outputs(output: Path) -> dict[str, list[str]]:
    """Quarantine, rejects and failures, line by line per file."""
    files: dict[str, list[str]] = {}
    for path in sorted(output.glob("quarantine/*.jsonl")) + sorted(output.glob("failures/*.jsonl")):
        files[str(path.relative_to(output))] = path.read_text().splitlines()
    for path in sorted(output.glob("rejects/*/*.jsonl.gz")):
        files[str(path.relative_to(output))] = gzip.decompress(path.read_bytes()).decode().splitlines()
    return files


def card(output: Path) -> str:
    return (output / "README.md").read_text()


def assert_same_output(resumed: Path, reference: Path, case: str) -> None:
    """Parquet rows, stats.json but for fingerprint/cache/timings, the card and the side outputs."""
    assert shard_rows(resumed) == shard_rows(reference), f"{case}: the published rows differ"
    assert comparable_stats(resumed) == comparable_stats(reference), f"{case}: stats.json differs"
    assert card(resumed) == card(reference), f"{case}: the card differs"
    assert side_outputs(resumed) == side_outputs(reference), f"{case}: quarantine/rejects/failures differ"
    assert not list(resumed.rglob("*.partial")), f"{case}: a half-written file was left behind"
