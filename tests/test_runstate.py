"""Running into an output folder again: what resumes, what is refused before anything is touched, and one
run at a time per folder."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from curation import runlock
from curation.errors import OutputInUseError
from curation.inputs import expand_inputs
from curation.layout import RunLayout
from curation.pipeline import prepare_output
from curation.recipe import load_recipe
from curation.runlock import OutputLock
from tests.conftest import REPO, load_stats, run_cli, write_jsonl

TEXTS = [
    "Mvua kubwa ilinyesha jana usiku na wakulima katika kijiji chetu wamefurahi sana.",
    "Ọjà ńlá ni ìlú wa, àwọn ènìyàn máa ń wá láti ibi gbogbo láti ra nǹkan.",
    "Вчера вечером шёл сильный дождь, и фермеры нашей деревни очень обрадовались.",
]


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    write_jsonl(folder / "part-0.jsonl", [{"text": t} for t in TEXTS])
    return folder


def small_recipe(tmp_path: Path, steps: list | None = None) -> dict:
    return {"name": "small", "output": str(tmp_path / "out"), "inputs": [{"path": str(tmp_path / "in" / "*.jsonl")}],
            "steps": steps or [], "executor": {"local": {"tasks": 1}}}


@pytest.mark.parametrize(("bad_step", "good_step", "complaint"), [
    ({"lid": {"keep": ["sw", "xx"]}}, {"lid": {"keep": ["sw", "yo"]}}, "unknown language code 'xx'"),
    ({"quality": {"thresholds": {"min_wrds": 3}}}, {"quality": {"thresholds": {"min_words": 3}}}, "min_wrds"),
])
def test_a_refused_recipe_leaves_the_output_folder_untouched(tmp_path, recipe_file, inputs, bad_step, good_step,
                                                             complaint):
    refused = run_cli("run", recipe_file(small_recipe(tmp_path, [bad_step])))
    assert refused.exit_code == 2 and complaint in refused.output, refused.output
    assert not (tmp_path / "out").exists(), "nothing ran, so nothing may claim the folder"
    fixed = run_cli("run", recipe_file(small_recipe(tmp_path, [good_step])))  # no --fresh needed
    assert fixed.exit_code == 0, fixed.output
    assert load_stats(tmp_path / "out")["accounting"]["ok"]


def test_a_rerun_over_changed_inputs_is_refused_until_fresh(tmp_path, recipe_file, inputs):
    path = recipe_file(small_recipe(tmp_path))
    assert run_cli("run", path).exit_code == 0
    again = run_cli("run", path)  # unchanged inputs: resumes (here: nothing left to do) as before
    assert again.exit_code == 0, again.output

    write_jsonl(inputs / "part-0.jsonl", [{"text": t} for t in [*TEXTS, "Habari ya asubuhi, rafiki yangu mpendwa."]])
    appended = run_cli("run", path)
    assert appended.exit_code == 2, appended.output
    assert "inputs changed since the last run" in appended.output and "part-0.jsonl: size" in appended.output
    assert "--fresh" in appended.output and "Traceback" not in appended.output

    write_jsonl(inputs / "part-1.jsonl", [{"text": TEXTS[0] + " (2)"}])  # a new file matching the glob
    added = run_cli("run", path)
    assert added.exit_code == 2 and "part-1.jsonl: new" in added.output, added.output

    fresh = run_cli("run", path, "--fresh")
    assert fresh.exit_code == 0, fresh.output
    assert load_stats(tmp_path / "out")["languages"]["und"]["rows"] == 5  # every record of today's inputs
    assert run_cli("run", path).exit_code == 0  # and what --fresh read is the new reference


def test_same_size_rewrites_and_remote_files_are_noticed(tmp_path):
    """Local files: size and mtime_ns (what make and rsync compare); fsspec files: what `info` gives."""
    import fsspec

    from curation.inputs import expand_inputs, input_identities, path_label
    from curation.pipeline import input_changes
    from curation.recipe import InputSpec

    local = tmp_path / "a.txt"
    local.write_text("abc")
    remote, folder = fsspec.filesystem("memory"), f"/{tmp_path.name}"  # one memory file system per process
    remote.pipe(f"{folder}/b.jsonl", b'{"text": "abc"}\n')
    specs = [InputSpec(path=str(local)), InputSpec(path=f"memory://{folder}/*.jsonl")]
    files = expand_inputs(specs)
    url = f"memory://{folder}/b.jsonl"
    before = input_identities(specs, files)
    assert set(before[str(local)]) == {"size", "mtime_ns"} and before[url]["size"] == 16
    assert input_changes(before, input_identities(specs, files)) == []

    local.write_text("xyz")
    os.utime(local, ns=(1, 1))
    remote.pipe(f"{folder}/b.jsonl", b'{"text": "abcd"}\n')
    try:
        assert input_changes(before, input_identities(specs, files)) == [
            f"{path_label(str(local))}: modified (same size)", f"{url}: size 16 -> 17"]
    finally:
        remote.rm(folder, recursive=True)


# ----------------------------------------------------------------------------- one run at a time


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_held_output_refuses_a_second_run_and_fresh(tmp_path, recipe_file, inputs):
    path = recipe_file(small_recipe(tmp_path))
    assert run_cli("run", path).exit_code == 0
    layout = RunLayout(tmp_path / "out")
    published = sorted(p.name for p in (tmp_path / "out" / "data").rglob("*.parquet"))
    with OutputLock(layout):  # this test process stands in for a run in progress
        second = subprocess.run([sys.executable, "-m", "curation.cli", "run", str(path)], cwd=REPO,
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stdout + second.stderr
        message = " ".join(second.stderr.split())  # rich wraps long lines
        assert f"{tmp_path / 'out'} is in use by curate run pid {os.getpid()} on host {socket.gethostname()} since" \
               in message and "wait for it or stop it" in message
        assert "Traceback" not in second.stderr
        fresh = run_cli("run", path, "--fresh")  # would delete the work files under the running run
        assert fresh.exit_code == 2 and "is in use by curate run" in fresh.output, fresh.output
        assert sorted(p.name for p in (tmp_path / "out" / "data").rglob("*.parquet")) == published
        assert (tmp_path / "out" / "stats.json").exists()
    after = run_cli("run", path, "--fresh")
    assert after.exit_code == 0 and "taking it over" not in after.output, after.output
    assert layout.lock.read_text() == "", "released at the end of the run"


def test_a_lock_left_by_a_dead_run_is_taken_over(tmp_path, recipe_file, inputs):
    layout = RunLayout(tmp_path / "out")
    layout.work.mkdir(parents=True)
    pid = dead_pid()
    layout.lock.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started": "2025-01-01 10:00:00"}))
    result = run_cli("run", recipe_file(small_recipe(tmp_path)))
    assert result.exit_code == 0, result.output
    assert f"the run of pid {pid} on host {socket.gethostname()} since 2025-01-01 10:00:00 ended without " \
           "releasing its lock; taking it over" in " ".join(result.output.split())
    with OutputLock(layout):  # released at the end
        pass


def test_fresh_keeps_the_lock_its_run_holds(tmp_path, recipe_file, inputs):
    path = recipe_file(small_recipe(tmp_path))
    assert run_cli("run", path).exit_code == 0
    recipe = load_recipe(path)
    layout = RunLayout(tmp_path / "out")
    with OutputLock(layout):
        prepare_output(recipe, expand_inputs(recipe.inputs), layout, fresh=True)
        assert not (tmp_path / "out" / "data").exists()
        with pytest.raises(OutputInUseError):  # the lock file was not deleted (a new one would lock anew)
            OutputLock(layout).acquire()


def test_without_os_locks_the_holders_pid_decides(tmp_path, monkeypatch):
    """Some network file systems refuse flock: then a live pid on this host holds the folder, a dead one does not."""
    def refuse(*args):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(runlock.fcntl, "flock", refuse)
    layout = RunLayout(tmp_path / "out")
    layout.work.mkdir(parents=True)
    host = socket.gethostname()
    layout.lock.write_text(json.dumps({"pid": os.getppid(), "host": host, "started": "2025-01-01 10:00:00"}))
    with pytest.raises(OutputInUseError, match=f"in use by curate run pid {os.getppid()} on host {host}"):
        OutputLock(layout).acquire()
    layout.lock.write_text(json.dumps({"pid": dead_pid(), "host": host, "started": "2025-01-01 10:00:00"}))
    lock = OutputLock(layout)
    assert "taking it over" in lock.acquire()
    assert json.loads(layout.lock.read_text())["pid"] == os.getpid()
    lock.release()
    assert layout.lock.read_text() == ""
