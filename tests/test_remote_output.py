"""`output: s3://bucket/run` against a real S3-compatible server on loopback (moto's standalone server, its
own process, reached over HTTP by s3fs exactly as an S3 endpoint would be): the run's
published files, counts and card equal a local folder's, a run killed mid-way resumes from the bucket on
an empty mirror, and a wrong endpoint or bucket is one line. Nothing is read from the network but it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from tests.cluster_runs import make_inputs
from tests.conftest import run_cli, write_recipe
from tests.fault_matrix import ORPHANED_GROUPS, assert_same_output, kill_group, killed_at

pytest.importorskip("s3fs")
MOTO_SERVER = Path(sys.executable).parent / "moto_server"  # moto[server]'s command (a dev dependency)
if not MOTO_SERVER.exists():
    pytest.skip("moto[server] is installed by `make install`", allow_module_level=True)

BUCKET = "curate-test"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
               "AWS_EC2_METADATA_DISABLED": "true"}  # never ask an instance metadata service for credentials


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """An S3 server on a free loopback port with one bucket; yields (endpoint URL, an s3fs on it)."""
    import s3fs

    saved = {key: os.environ.get(key) for key in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    # Its own process, not moto's ThreadedMotoServer: that imports Flask into the test process, and vLLM's
    # kernel registration then trips over Flask's `current_app` proxy in every later in-process engine.
    port = free_port()
    server = subprocess.Popen([str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    wait_until_listening(port, server)
    fs = s3fs.S3FileSystem(endpoint_url=endpoint, use_listings_cache=False)
    fs.mkdir(BUCKET)
    try:
        yield endpoint, fs
    finally:
        server.terminate()
        server.wait(timeout=30)
        assert "flask" not in sys.modules, "moto's Flask app was imported into the test process"
        for group in ORPHANED_GROUPS:  # what the killed runs left (datatrove's Manager)
            kill_group(group)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def wait_until_listening(port: int, server: subprocess.Popen, seconds: float = 120) -> None:
    """Until the server accepts connections (it starts in ~2 s alone; the bound is a hang guard for a busy
    machine), or fail with why."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"moto_server exited with {server.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    server.kill()
    pytest.fail(f"moto_server did not listen on port {port} within {seconds} s")


def recipe(tmp_path: Path, output: str, endpoint: str | None = None, mirror: Path | None = None,
           inputs: Path | None = None) -> Path:
    """lid + dedup + select over four scripts' texts (exact and near duplicates across files and tasks),
    read from `inputs` (made under tmp_path when not given: a record's `source` names its file)."""
    inputs = inputs or tmp_path / "inputs"
    if not inputs.exists():
        make_inputs(inputs)
    spec = {
        "name": "remote",
        "output": output,
        "inputs": [{"path": str(inputs / "*.jsonl"), "id_key": "id"}],
        "steps": [{"lid": {"keep": ["sw", "ne", "ru", "zh"]}}, {"dedup": {}},
                  {"select": {"budget": {"*": 2}}}],
        "executor": {"local": {"tasks": 2, "workers": 1}},
        "dataset": {"rejects": True, "rows_per_shard": 1},
    }
    if endpoint is not None:
        spec["output_storage"] = {"mirror": str(mirror), "storage_options": {"endpoint_url": endpoint}}
    name = output.rstrip("/").rsplit("/", 1)[-1]
    return write_recipe(tmp_path / f"{name}.yaml", spec)


def download(fs, prefix: str, into: Path) -> Path:
    """Everything under s3://<BUCKET>/<prefix>, as files under `into`."""
    fs.get(f"{BUCKET}/{prefix}/", str(into) + "/", recursive=True)
    return into


@pytest.fixture(scope="module")
def runs(s3, tmp_path_factory):
    """The recipe into a local folder and into the bucket (tracing the fault points it reaches)."""
    endpoint, fs = s3
    tmp = tmp_path_factory.mktemp("runs")
    local = run_cli("run", recipe(tmp, str(tmp / "local")))
    assert local.exit_code == 0, local.output
    trace = tmp / "trace"
    os.environ["CURATE_FAULT_TRACE"] = str(trace)
    try:
        remote = run_cli("run", recipe(tmp, f"s3://{BUCKET}/reference", endpoint, tmp / "mirror"))
    finally:
        del os.environ["CURATE_FAULT_TRACE"]
    assert remote.exit_code == 0, remote.output
    return tmp / "local", download(fs, "reference", tmp / "downloaded"), trace.read_text().splitlines()


def test_a_run_into_a_bucket_publishes_what_a_local_run_publishes(runs, s3):
    local, downloaded, _ = runs
    assert_same_output(downloaded, local, "s3")  # rows, stats counts, card, quarantine and rejects
    assert json.loads((downloaded / "stats.json").read_text())["accounting"]["ok"]
    logs = downloaded / ".curate" / "logs"  # datatrove's completions live on the store: a resume reads them
    assert sorted(p.name for p in (logs / "filter" / "completions").iterdir()) == ["00000", "00001"]
    assert (logs / "finalize" / "completions" / "00000").exists()
    assert not (downloaded / ".curate" / "lock").exists(), "the run's lock object was not released"
    # only what a stage reads is pulled: the mirror's filter-stage inputs are the handoff files, not the shards
    assert {p.name for p in (downloaded / "data").iterdir()} == {"sw", "ne", "ru", "zh"}


@pytest.mark.parametrize("where", ["record/dedup@5", pytest.param(
    "finalize: all but stats.json pushed", marks=pytest.mark.slow)])  # ~20 s a case on the 2-core machine
def test_a_run_killed_mid_way_resumes_from_the_bucket_on_an_empty_mirror(runs, s3, tmp_path, where):
    local, _, trace = runs
    endpoint, fs = s3
    # finalize: the last batch a run pushes is stats.json alone; stop just before it
    point = f"mirror/pushed@{trace.count('mirror/pushed') - 1}" if where.startswith("finalize") else where
    prefix = f"killed-{where.split('/')[0].split(':')[0]}"
    path = recipe(tmp_path, f"s3://{BUCKET}/{prefix}", endpoint, tmp_path / "mirror", local.parent / "inputs")
    killed_at(path, point)
    assert not fs.exists(f"{BUCKET}/{prefix}/stats.json"), f"{point}: a killed run looks finished on the store"
    if where.startswith("finalize"):
        assert fs.exists(f"{BUCKET}/{prefix}/README.md") and fs.find(f"{BUCKET}/{prefix}/data")

    shutil.rmtree(tmp_path / "mirror")  # resume from another machine: nothing local survives
    rerun = run_cli("run", path)
    assert rerun.exit_code == 0, rerun.output
    assert "taking it over" in rerun.output  # the killed run's lock object, its pid gone
    assert_same_output(download(fs, prefix, tmp_path / "downloaded"), local, point)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("problem", ["no server", "no bucket"])
def test_a_wrong_endpoint_or_bucket_is_one_line_before_anything_runs(s3, tmp_path, problem):
    endpoint, _ = s3
    if problem == "no server":
        output, endpoint = f"s3://{BUCKET}/run", f"http://127.0.0.1:{free_port()}"  # nothing listens there
    else:
        output = "s3://no-such-bucket/run"
    result = run_cli("run", recipe(tmp_path, output, endpoint, tmp_path / "mirror"))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot write the output {output}:"), result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "mirror").exists()  # nothing ran


def test_the_bucket_lock_refuses_a_second_run_and_names_its_holder(s3, tmp_path):
    endpoint, fs = s3
    fs.pipe_file(f"{BUCKET}/locked/.curate/lock",
                 json.dumps({"pid": 1, "host": "node-7", "started": "2026-01-01 00:00:00"}).encode())
    result = run_cli("run", recipe(tmp_path, f"s3://{BUCKET}/locked", endpoint, tmp_path / "mirror"))
    assert result.exit_code == 2, result.output
    assert "in use by curate run pid 1 on host node-7" in result.output
    assert f"delete s3://{BUCKET}/locked/.curate/lock" in result.output
    assert not fs.exists(f"{BUCKET}/locked/stats.json")


def test_report_of_a_run_in_a_bucket_is_rebuilt_there(runs, s3, tmp_path, monkeypatch):
    endpoint, fs = s3
    fs.rm(f"{BUCKET}/reference/report.html")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)  # a command given a URL takes its endpoint from there
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # its default mirror: under the test's folder
    result = run_cli("report", f"s3://{BUCKET}/reference")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "curate-mirror").is_dir()
    assert fs.cat(f"{BUCKET}/reference/report.html").startswith(b"<!DOCTYPE html>")


@pytest.mark.slow  # two runs with generation (~30 s each on the 2-core machine)
def test_a_run_with_generation_into_a_bucket_equals_a_local_one_and_its_cache_is_one_database(s3, tmp_path):
    """The generate stage through the bucket: the request cache is pulled before and pushed after as one
    consistent SQLite file (the fake engine: no model; what is tested is where the files go)."""
    import sqlite3

    from tests.fault_matrix import matrix_recipe

    endpoint, fs = s3
    local = run_cli("run", matrix_recipe(tmp_path, "local"))
    assert local.exit_code == 0, local.output
    path = matrix_recipe(tmp_path, "remote", output=tmp_path / "local")  # the same fake engine's calls file
    spec = yaml.safe_load(path.read_text())
    spec["output"] = f"s3://{BUCKET}/generated"
    spec["output_storage"] = {"mirror": str(tmp_path / "mirror"), "storage_options": {"endpoint_url": endpoint}}
    remote = run_cli("run", write_recipe(path, spec))
    assert remote.exit_code == 0, remote.output
    downloaded = download(fs, "generated", tmp_path / "downloaded")
    assert_same_output(downloaded, tmp_path / "local", "generation")
    assert not fs.exists(f"{BUCKET}/generated/cache/requests.sqlite-wal")
    with contextlib.closing(sqlite3.connect(downloaded / "cache" / "requests.sqlite")) as cache:
        assert cache.execute("select count(*) from completions").fetchone()[0] > 0


def test_the_mirror_pulls_what_it_lacks_and_pushes_only_what_a_task_wrote(s3, tmp_path):
    """The moves under a task, on the bucket: a pull fetches files the mirror lacks or holds with another
    size (and drops a stale SQLite journal); the push after sends new and changed files, not pulled ones
    nor half-written ones; a mirrored folder loses on the store what the mirror no longer has."""
    from curation.remote import RemoteOutput

    endpoint, fs = s3
    root = f"{BUCKET}/moves"
    for name, data in {"work/a.bin": b"aaaa", "work/b.bin": b"bb", "cache/c.sqlite": b"x" * 8,
                       "data/old.parquet": b"old"}.items():
        fs.pipe_file(f"{root}/{name}", data)
    mirror = tmp_path / "mirror"
    (mirror / "work").mkdir(parents=True)
    (mirror / "work" / "b.bin").write_bytes(b"BB")  # same size as the store's: trusted, not fetched again
    (mirror / "cache").mkdir()
    (mirror / "cache" / "c.sqlite-wal").write_bytes(b"a journal of another database")
    remote = RemoteOutput(f"s3://{root}", mirror, {"endpoint_url": endpoint})

    assert remote.pull([str(mirror / "work" / "*"), str(mirror / "cache" / "c.sqlite"),
                        str(mirror / "work" / "missing.bin")]) == 2
    assert (mirror / "work" / "a.bin").read_bytes() == b"aaaa" and (mirror / "work" / "b.bin").read_bytes() == b"BB"
    assert not (mirror / "cache" / "c.sqlite-wal").exists()

    before = remote.snapshot()
    (mirror / "work" / "new.bin").write_bytes(b"new")
    (mirror / "work" / "b.bin").write_bytes(b"B2!")  # changed
    (mirror / "work" / "half.bin.partial").write_bytes(b"half")
    (mirror / "data").mkdir()
    (mirror / "data" / "new.parquet").write_bytes(b"new")
    remote.pull([str(mirror / "data" / "old.parquet")])  # pulled while the task ran: not its own
    written = remote.written_since(before)
    assert written == ["data/new.parquet", "work/b.bin", "work/new.bin"]

    (mirror / "data" / "old.parquet").unlink()
    remote.mirror_folder(mirror / "data")
    remote.push([rel for rel in written if not rel.startswith("data/")])
    assert sorted(fs.find(f"{root}/data")) == [f"{root}/data/new.parquet"]
    assert fs.cat(f"{root}/work/b.bin") == b"B2!" and fs.cat(f"{root}/work/new.bin") == b"new"
    assert not fs.exists(f"{root}/work/half.bin.partial")


def test_push_of_a_run_in_a_bucket_uploads_its_published_files_to_the_hub(runs, s3, tmp_path, monkeypatch):
    """`curate push s3://...`: the run's published files are pulled from the bucket and land on a loopback
    Hub byte for byte (the endpoint of the bucket from AWS_ENDPOINT_URL: the recipe is not at hand)."""
    import huggingface_hub.constants as constants

    from tests.hub_server import FakeHub

    local, downloaded, _ = runs
    endpoint, _ = s3
    token = "hf_remoteTEST0k3nZq8xVb3kLm0pRt7uWy"
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_TOKEN", token)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with FakeHub(token=token, user="curator") as hub:
        result = run_cli("push", f"s3://{BUCKET}/reference", "--repo-id", "curator/remote", "--endpoint", hub.url)
        assert result.exit_code == 0, result.output
        landed = hub.materialize("curator/remote", tmp_path / "landed")
    published = sorted(p.relative_to(downloaded).as_posix() for p in (downloaded / "data").rglob("*.parquet"))
    assert published and all((landed / rel).read_bytes() == (downloaded / rel).read_bytes() for rel in published)
    assert (landed / "README.md").read_bytes() == (downloaded / "README.md").read_bytes()
    assert not (landed / ".curate").exists()
