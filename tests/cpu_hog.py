"""A pytest plugin (`-p tests.cpu_hog`) that makes the machine busy while the tests run: one Python busy
loop per core (stress-ng's `--cpu N` does the same), started when collection ends and stopped when the
session does, so that the tests run beside it and pytest's own start does not (tests/test_busy_machine.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# spins, and ends by itself once its parent is gone (a child pytest that crashed leaves no hog behind)
HOG = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    for _ in range(1_000_000): pass"
_hogs: list[subprocess.Popen] = []


def pytest_collection_finish(session: pytest.Session) -> None:
    _hogs.extend(subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(os.cpu_count() or 1))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    while _hogs:
        hog = _hogs.pop()
        hog.kill()
        hog.wait()
