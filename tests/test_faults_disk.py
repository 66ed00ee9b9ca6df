"""The fault matrix, the output's file system (issue 15): the disk filling up mid-run, a read-only output
folder, and an output folder deleted mid-run each end in one line naming the problem, never a
traceback, and nothing looks finished that is not.

A full disk is real: a tmpfs of a fixed size mounted over the output's parent, in a user and mount
namespace of the test's own (`unshare --map-root-user --mount`: no root needed where unprivileged
user namespaces are allowed; the test is skipped where they are not). A script run inside the
namespace makes the disk full, runs `curate`, snapshots what it left, makes room and runs again.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.fault_matrix import assert_same_output, child_env, matrix_recipe, requests_sent
from tests.test_faults_lock import stopped_run


def namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--map-root-user", "--mount", "sh", "-c",
                            "mount -t tmpfs -o size=64k tmpfs /mnt 2>/dev/null || mount -t tmpfs -o size=64k tmpfs /tmp"],
                           capture_output=True)
    return probe.returncode == 0


needs_namespaces = pytest.mark.skipif(not namespaces_work(), reason="no user+mount namespaces here (unshare -rm)")


def in_namespace(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a shell script as root of a new user+mount namespace: its mounts vanish with it."""
    return subprocess.run(["unshare", "--map-root-user", "--mount", "sh", "-eu", "-c", script], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)  # a hang guard: the script takes seconds


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert lines and lines[0].startswith("error:"), stderr
    return " ".join(" ".join(lines).split())


@needs_namespaces
@pytest.mark.slow  # two `curate run`s on a small tmpfs, compared with the shared reference run
def test_a_full_disk_is_one_line_publishes_nothing_and_a_rerun_with_room_completes(tmp_path, matrix_reference):
    reference, _ = matrix_reference
    disk, snapshots = tmp_path / "disk", tmp_path / "snapshots"
    disk.mkdir()
    snapshots.mkdir()
    recipe = matrix_recipe(tmp_path, "out", output=disk / "out")
    # The whole output takes ~2 MB (most of it work files): 768 KiB fills up mid-run.
    script = f"""
        mount -t tmpfs -o size=768k tmpfs {disk}
        {sys.executable} -m curation.cli run {recipe} > {snapshots}/first.out 2> {snapshots}/first.err \
            && echo 0 > {snapshots}/first.rc || echo $? > {snapshots}/first.rc
        cp -a {disk}/out {snapshots}/first
        mount -o remount,size=64m {disk}
        {sys.executable} -m curation.cli run {recipe} > {snapshots}/second.out 2> {snapshots}/second.err \
            && echo 0 > {snapshots}/second.rc || echo $? > {snapshots}/second.rc
        cp -a {disk}/out {snapshots}/second
    """
    done = in_namespace(script, child_env())
    assert done.returncode == 0, done.stderr

    first_rc = int((snapshots / "first.rc").read_text())
    first_err = (snapshots / "first.err").read_text()
    assert first_rc == 1, first_err
    message = one_line_error(first_err)
    assert "No space left on device" in message and "rerun to resume" in message, message
    first = snapshots / "first"
    assert not (first / "stats.json").exists() and not (first / "README.md").exists(), "half-published"
    assert not list(first.rglob("*.partial")) or not (first / "data").exists()

    assert int((snapshots / "second.rc").read_text()) == 0, (snapshots / "second.err").read_text()
    assert_same_output(snapshots / "second", reference, "full disk")
    assert requests_sent(tmp_path / "out") == requests_sent(reference)


@needs_namespaces
def test_a_read_only_output_file_system_is_one_line_before_anything_runs(tmp_path):
    """Root writes through a folder's permission bits, not through a read-only mount."""
    disk = tmp_path / "disk"
    disk.mkdir()
    recipe = matrix_recipe(tmp_path, "out", output=disk / "out")
    script = f"""
        mount -t tmpfs -o size=1m tmpfs {disk}
        mount -o remount,ro {disk}
        {sys.executable} -m curation.cli run {recipe} 2>&1 && echo "rc=0" || echo "rc=$?"
    """
    done = in_namespace(script, child_env())
    assert done.stdout.strip().endswith("rc=2"), done.stdout + done.stderr
    assert "Traceback" not in done.stdout
    assert f"cannot write the output folder {disk / 'out'}: Read-only file system" in " ".join(done.stdout.split())


@pytest.mark.slow  # one `curate run` held mid-stage while its output folder is deleted (~8 s)
def test_an_output_folder_deleted_mid_run_is_one_line(tmp_path):
    recipe = matrix_recipe(tmp_path, "out")
    with open(tmp_path / "stderr", "w+") as stderr:
        process = stopped_run(recipe, "record/quality@20", stderr=stderr)  # mid-curate
        shutil.rmtree(tmp_path / "out")
        process.send_signal(signal.SIGCONT)
        assert process.wait(timeout=600) == 1  # a hang guard: the run fails within seconds
        stderr.seek(0)
        message = one_line_error(stderr.read())
    assert f"the output folder {tmp_path / 'out'} disappeared" in message, message
