"""The suite on a busy machine (issue 15, item 4): the checks most exposed to timing pass with a CPU hog
beside them, one Python busy loop per core (stress-ng's `--cpu N` does the same, where installed).

Run under the hog, in a pytest child process: the loopback servers with their timeouts, retries and
Retry-After waits (OpenAI engine, retry helper), the merged generation rounds and their threads, the
output folder's lock, the fault hook's kill of a generation mid-round and a small pipeline run.
The hog runs from the end of the child's collection (tests/cpu_hog.py). No model runs under it: on 2 shared cores
a model load alone would take minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

TIMING_SENSITIVE = [
    "tests/test_openai_engine.py", "tests/test_retrying.py", "tests/test_rounds.py", "tests/test_runstate.py",
    "tests/test_generation.py::test_a_killed_generation_resumes_without_repeating_answered_requests",
    "tests/test_pipeline.py::test_progress_is_printed_as_plain_lines_when_stdout_is_not_a_terminal",
]

# In those files but with no clock, thread or lock in play: a recipe refused before anything starts
# (its two cases were ~5 s of the child's run alone, ~3x that under the hog).
NOT_TIMING_SENSITIVE = ["tests/test_runstate.py::test_a_refused_recipe_leaves_the_output_folder_untouched"]

@pytest.mark.slow  # the checks above with every core busy (~1 min on 2 cores)
def test_timing_sensitive_checks_pass_beside_a_cpu_hog():
    # the hog (tests/cpu_hog.py) runs from the end of the child's collection to the end of its session
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.cpu_hog",
                             *TIMING_SENSITIVE, *(f"--deselect={test}" for test in NOT_TIMING_SENSITIVE)],
                            cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
