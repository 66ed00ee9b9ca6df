"""The fault matrix, two runs into one output folder (issue 15): the second is refused in one line
while the first holds the folder, whichever of `run` and `run --fresh` it is; the first then finishes
untouched; a run SIGKILLed mid-stage leaves a lock that the next run takes over (test_runstate.py
covers the same with a lock file written by hand and with a test process as the holder)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from curation.layout import RunLayout
from curation.runlock import OutputLock
from tests.conftest import REPO, load_stats, run_cli
from tests.fault_matrix import ORPHANED_GROUPS, child_env, matrix_recipe, shard_rows

HANG_GUARD_S = 600  # a stopped run stops within seconds; this only ends a test that would hang


def wait_until_stopped(process: subprocess.Popen) -> None:
    """Until the child has stopped itself (SIGSTOP at its fault point): state T in /proc."""
    deadline = time.monotonic() + HANG_GUARD_S
    while Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":
        assert process.poll() is None, "the run ended before its stop point"
        assert time.monotonic() < deadline, "the run never reached its stop point"
        time.sleep(0.05)


def stopped_run(recipe: Path, point: str, stderr: Any = subprocess.DEVNULL) -> subprocess.Popen:
    """`curate run recipe` in a child process, once it has stopped itself at `point` (`pattern@n`)."""
    process = subprocess.Popen([sys.executable, "-m", "curation.cli", "run", str(recipe)], cwd=REPO,
                               env=child_env(CURATE_FAULT=f"{point}:stop"), stdout=subprocess.DEVNULL,
                               stderr=stderr, start_new_session=True)
    ORPHANED_GROUPS.append(process.pid)
    wait_until_stopped(process)
    return process


def refused_in_one_line(result, holder_pid: int) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert f"is in use by curate run pid {holder_pid} on host" in " ".join(result.output.split()), result.output


@pytest.mark.slow  # a run held mid-stage while two others are refused, then finished; one killed (~20 s)
def test_a_second_run_is_refused_while_the_first_finishes_and_a_killed_runs_lock_is_taken_over(tmp_path,
                                                                                                matrix_reference):
    reference, _ = matrix_reference

    recipe = matrix_recipe(tmp_path, "out")
    first = stopped_run(recipe, "record/lid@40")  # mid-curate, the lock held
    refused_in_one_line(run_cli("run", recipe), first.pid)
    refused_in_one_line(run_cli("run", recipe, "--fresh"), first.pid)  # would delete its work files
    os.kill(first.pid, signal.SIGCONT)
    assert first.wait(timeout=HANG_GUARD_S) == 0
    assert shard_rows(tmp_path / "out") == shard_rows(reference)
    assert load_stats(tmp_path / "out")["accounting"]["ok"]

    # the other order: a run arriving second, --fresh, finds the folder held and leaves it alone
    again = stopped_run(recipe, "write/*/README.md@1")  # finalize of a rerun, the old stats in place
    refused_in_one_line(run_cli("run", recipe, "--fresh"), again.pid)
    assert (tmp_path / "out" / "stats.json").exists(), "the refused --fresh deleted nothing"
    os.kill(again.pid, signal.SIGKILL)  # killed while stopped: its lock file still names it
    again.wait()
    taken = run_cli("run", recipe)  # its forked helpers may still be alive: they must not hold the lock
    assert taken.exit_code == 0, taken.output
    assert f"the run of pid {again.pid} on host" in " ".join(taken.output.split())
    assert "taking it over" in taken.output
    assert shard_rows(tmp_path / "out") == shard_rows(reference)


def test_a_forked_child_of_a_killed_holder_does_not_keep_the_lock(tmp_path):
    """Regression: datatrove's forked Manager outlived a SIGKILLed `curate` and kept its flock for good."""
    layout = RunLayout(tmp_path / "out")
    holder = subprocess.Popen([sys.executable, "-c", f"""
import os, signal, time
from curation.layout import RunLayout
from curation.runlock import OutputLock
OutputLock(RunLayout({str(layout.output)!r})).acquire()
if os.fork() == 0:  # a forked helper that outlives its parent, as datatrove's Manager does
    time.sleep(600)
    os._exit(0)
os.kill(os.getpid(), signal.SIGKILL)
"""], cwd=REPO, env=child_env(), start_new_session=True)
    ORPHANED_GROUPS.append(holder.pid)
    assert holder.wait(timeout=HANG_GUARD_S) == -signal.SIGKILL
    lock = OutputLock(layout)
    assert "taking it over" in lock.acquire()
    lock.release()
