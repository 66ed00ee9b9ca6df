"""`curate push` against a real HTTP server on loopback that speaks the Hub's API (tests/hub_server.py):
what lands, re-push, retries, refusals, the card check, and the pushed files loading with `datasets`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import huggingface_hub.constants as constants
import pytest
import yaml
from huggingface_hub import HfApi

import curation.hub as hub_module
from curation.errors import InputError, RecipeError, RetryableError
from curation.hub import push_output
from tests.conftest import REPO, load_stats, run_cli, write_jsonl, write_recipe
from tests.hub_server import FakeHub

# huggingface_hub's LFS upload hands httpx2 a file as `data=`, which httpx2 deprecates: not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

TOKEN = "hf_pushTEST0k3nZq8xVb3kLm0pRt7uWy2a"
USER = "curator"
TEXTS = [
    "Mvua kubwa ilinyesha jana usiku na wakulima katika kijiji chetu wamefurahi sana kwa sababu mazao yatastawi.",
    "Ọjà ńlá ni ìlú wa, àwọn ènìyàn máa ń wá láti ibi gbogbo láti ra nǹkan àti láti ta ọjà wọn.",
    "Вчера вечером шёл сильный дождь, и фермеры нашей деревни очень обрадовались хорошему урожаю.",
    "昨天晚上下了一场大雨，我们村里的农民都非常高兴，因为今年的庄稼会长得很好。",
]
TOP_LEVEL = {"README.md", "stats.json", "report.html", "recipe.resolved.yaml"}


@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> Path:
    """One small finished run with LID (so the card has one config and one tag per language), built
    once, plus what a run leaves beside its data that must never be pushed."""
    root = tmp_path_factory.mktemp("push-run")
    (root / "in").mkdir()
    for i in range(3):
        write_jsonl(root / "in" / f"part-{i}.jsonl",
                    [{"id": f"{i}-{j}", "text": f"{text} ({i}.{j})"} for j, text in enumerate(TEXTS)])
    output = root / "pushme"
    recipe = {"name": "pushme", "output": str(output), "inputs": [{"path": str(root / "in" / "*.jsonl"), "id_key": "id"}],
              "steps": [{"lid": {"keep": ["sw", "yo", "ru", "zh"], "min_score": 0.3}}],
              "executor": {"local": {"tasks": 2, "workers": 1}}}
    result = run_cli("run", write_recipe(root / "recipe.yaml", recipe))
    assert result.exit_code == 0, result.output
    assert len(load_stats(output)["languages"]) >= 3
    (output / "failures").mkdir()
    (output / "failures" / "generate.jsonl").write_text('{"raw": "unparsed"}\n')
    (output / "train" / "all" / "adapter").mkdir(parents=True)
    (output / "train" / "all" / "adapter" / "adapter_model.safetensors").write_bytes(b"\0" * 64)
    return output


@pytest.fixture
def run_dir(curated: Path, tmp_path: Path) -> Path:
    """A copy of the run that a test may change."""
    return Path(shutil.copytree(curated, tmp_path / "pushme"))


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No real login, token or endpoint reaches a test."""
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))
    for variable in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def hub(isolated, monkeypatch):
    """A loopback Hub, and a client that uploads through git LFS (as with `HF_HUB_DISABLE_XET=1`)."""
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    yield from serve(FakeHub(token=TOKEN, user=USER, page_size=4))  # small pages: the listing is paged


@pytest.fixture
def xet_hub(isolated, monkeypatch, request):
    """A loopback Hub, and a client that uploads through Xet when it can (hf_xet installed and on, the
    default). The parameter is what the Hub's Xet token endpoint answers (tests/hub_server.py)."""
    pytest.importorskip("hf_xet")
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    # hf_xet posts usage reports to the endpoint, maybe after the test: not to a later test's server
    monkeypatch.setenv("HF_XET_TELEMETRY_ENABLED", "false")
    yield from serve(FakeHub(token=TOKEN, user=USER, xet=getattr(request, "param", 404)))


def serve(server: FakeHub):
    with server:
        yield server
    assert server.unrouted == [], "huggingface_hub called an endpoint the loopback Hub does not serve"


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Our retry waits, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(hub_module, "sleep", recorded.append)
    return recorded


def publishable(output: Path) -> dict[str, bytes]:
    files = {p.relative_to(output).as_posix(): p.read_bytes() for p in (output / "data").glob("*/*.parquet")}
    return files | {name: (output / name).read_bytes() for name in TOP_LEVEL}


def push(output: Path, hub: FakeHub, repo: str = f"{USER}/pushme", **options) -> hub_module.PushResult:
    return push_output(output, repo, token=TOKEN, endpoint=hub.url, **options)


def error_lines(output: str) -> list[str]:
    """The `error:` lines of a command's output (hf_xet's progress bars may end without a newline)."""
    assert "Traceback" not in output
    return [line[line.index("error:"):] for line in output.splitlines() if "error:" in line]


# --- what lands


def test_push_lands_every_file_with_identical_bytes_in_one_private_commit(run_dir, hub, tmp_path):
    result = push(run_dir, hub, private=True)

    expected = publishable(run_dir)
    landed = hub.materialize(f"{USER}/pushme", tmp_path / "landed")
    assert {p.relative_to(landed).as_posix() for p in landed.rglob("*") if p.is_file()} == {*expected, ".gitattributes"}
    assert all((landed / path).read_bytes() == content for path, content in expected.items())
    assert hub.repos[f"{USER}/pushme"].private
    commits = hub.commits(f"{USER}/pushme")
    assert len(commits) == 2 and result.commits == 1  # the repo's initial commit, then ours
    assert sorted(result.uploaded) == sorted(expected) and result.skipped == []
    assert result.bytes_uploaded == sum(len(c) for c in expected.values())
    assert result.url == f"{hub.url}/datasets/{USER}/pushme"
    # both upload paths were taken: shards through LFS, the card inline
    head = commits[-1].files
    assert all(head[p].lfs_sha256 for p in expected if p.endswith(".parquet")) and head["README.md"].lfs_sha256 is None
    assert len(hub.seen("PUT", "/lfs-objects/")) == sum(p.endswith(".parquet") for p in expected)
    assert [r.status for r in hub.seen("POST", "/api/validate-yaml")] == [200]  # the Hub checked the card too


def test_a_second_push_of_the_same_folder_uploads_nothing_and_makes_no_commit(run_dir, hub):
    push(run_dir, hub)
    before = len(hub.requests)

    again = push(run_dir, hub)

    assert again.commits == 0 and again.uploaded == [] and again.bytes_uploaded == 0
    assert sorted(again.skipped) == sorted(publishable(run_dir))
    assert len(hub.commits(f"{USER}/pushme")) == 2
    # one look at the repo (its listing, in pages), nothing hashed remotely, nothing sent
    assert {f"{r.method} {r.path}" for r in hub.requests[before:]} == {
        "POST /api/repos/create", f"GET /api/datasets/{USER}/pushme/tree/main"}


def test_a_changed_file_alone_is_uploaded_and_remote_extras_are_left_alone(run_dir, hub):
    push(run_dir, hub)
    (run_dir / "report.html").write_text("<html>rebuilt</html>", encoding="utf-8")
    # a language that now has one shard fewer: its config still exists, the old shard stays on the Hub
    shards = next(s for s in (sorted(d.glob("*.parquet")) for d in (run_dir / "data").iterdir()) if len(s) > 1)
    shards[-1].unlink()

    result = push(run_dir, hub)

    assert result.uploaded == ["report.html"] and result.commits == 1
    assert result.remote_only == [shards[-1].relative_to(run_dir).as_posix()]  # reported, not deleted
    head = hub.commits(f"{USER}/pushme")[-1].files
    assert head["report.html"].content == b"<html>rebuilt</html>" and result.remote_only[0] in head


def test_small_commit_budget_makes_several_commits_with_the_card_last(run_dir, hub):
    sizes = {path: len(content) for path, content in publishable(run_dir).items()}
    result = push(run_dir, hub, commit_bytes=max(sizes.values()) * 2)

    commits = hub.commits(f"{USER}/pushme")[1:]
    assert result.commits == len(commits) > 1
    assert "README.md" in commits[-1].files and "README.md" not in commits[-2].files
    assert all(path in commits[-2].files for path in sizes if path.startswith("data/"))


def test_a_branch_other_than_main_is_created_and_main_left_alone(run_dir, hub):
    push(run_dir, hub, revision="v1")
    assert len(hub.commits(f"{USER}/pushme", "v1")) == 2
    assert len(hub.commits(f"{USER}/pushme", "main")) == 1


# --- retries


def test_429_then_503_on_the_commit_are_retried_honouring_retry_after(run_dir, hub, waits, caplog):
    hub.fail_next("POST", "/commit/", 429, retry_after="7")
    hub.fail_next("POST", "/commit/", 503)

    result = push(run_dir, hub)

    assert result.commits == 1 and len(hub.commits(f"{USER}/pushme")) == 2
    assert [r.status for r in hub.seen("POST", "/commit/")] == [429, 503, 200]
    assert waits[0] == 7 and 0 < waits[1] <= 2 * hub_module.BACKOFF_S  # Retry-After, then backoff (2nd retry)
    assert TOKEN not in caplog.text


def test_a_failing_preupload_is_retried(run_dir, hub, waits):
    # huggingface_hub retries this endpoint itself (about 1 s); the push still goes through
    hub.fail_next("POST", "/preupload/", 503)
    assert push(run_dir, hub).commits == 1
    assert [r.status for r in hub.seen("POST", "/preupload/")] == [503, 200]


def test_a_dropped_connection_is_retried(run_dir, hub, waits):
    hub.fail_next("POST", "/api/repos/create", "drop")
    assert push(run_dir, hub).commits == 1
    assert [r.status for r in hub.seen("POST", "/api/repos/create")] == ["drop", 200] and len(waits) == 1


def test_a_commit_whose_answer_was_lost_is_not_made_twice(run_dir, hub, waits):
    hub.fail_next("POST", "/commit/", "lost")

    result = push(run_dir, hub)

    assert result.commits == 1 and len(hub.commits(f"{USER}/pushme")) == 2
    assert len(hub.seen("POST", "/commit/")) == 1  # the retry found every file there: nothing to commit


# What a `curate push` SIGKILLed mid-request leaves (issue 15's fault matrix): the request is held open on
# the loopback Hub, the client process is killed, and a plain rerun must end with the repo an
# uninterrupted push makes, every LFS object uploaded once over both pushes, and the commit made once.
KILLED_PUSHES = {
    "mid-upload of a shard": ("PUT", "/lfs-objects/", "hold"),
    "before the commit is made": ("POST", "/commit/", "hold"),
    "after the commit is made, before its answer": ("POST", "/commit/", "done-then-hold"),
}


@pytest.mark.slow  # a `curate push` child process killed, then a push (~8 s)
@pytest.mark.parametrize("case", list(KILLED_PUSHES))
def test_a_push_killed_mid_request_is_finished_by_a_rerun_with_nothing_sent_twice(run_dir, hub, tmp_path, case):
    method, path_part, outcome = KILLED_PUSHES[case]
    hub.fail_next(method, path_part, outcome)
    # not what earlier tests of this process set (the bundled model sets HF_HUB_OFFLINE=1 in-process)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING_FACE"))}
    env |= {"PYTHONPATH": str(REPO), "HF_TOKEN": TOKEN, "HF_HUB_DISABLE_XET": "1", "HF_HOME": str(tmp_path / "hf")}
    child = subprocess.Popen([sys.executable, "-m", "curation.cli", "push", str(run_dir), "--repo-id",
                              f"{USER}/pushme", "--endpoint", hub.url], cwd=REPO, env=env, start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # the child reaches the held request in seconds (an import and a few requests); 300 s is a hang guard
        for _ in range(300):
            if hub.holding.wait(timeout=1) or child.poll() is not None:
                break
        assert hub.holding.is_set(), f"{case}: the push ended before the held request: {child.communicate()[0][-2000:]}"
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        hub.release.set()
    assert child.returncode == -signal.SIGKILL

    rerun = push(run_dir, hub)

    expected = publishable(run_dir)
    landed = hub.materialize(f"{USER}/pushme", tmp_path / "landed")
    assert {p.relative_to(landed).as_posix() for p in landed.rglob("*") if p.is_file()} == {*expected, ".gitattributes"}
    assert all((landed / path).read_bytes() == content for path, content in expected.items())
    uploads = Counter(r.path for r in hub.seen("PUT", "/lfs-objects/") if r.status == 200)
    assert sorted(uploads.values()) == [1] * sum(p.endswith(".parquet") for p in expected), f"{case}: {uploads}"
    made = hub.commits(f"{USER}/pushme")[1:]  # after the repo's initial commit
    assert len(made) == 1, f"{case}: {len(made)} commits"
    assert rerun.commits == (0 if outcome == "done-then-hold" else 1)


def test_retries_give_up_with_a_retryable_error(run_dir, hub, waits):
    hub.fail_next("POST", "/commit/", 503, 503, 503)
    with pytest.raises(RetryableError) as error:
        push(run_dir, hub, max_retries=2)
    assert "3 attempts" in str(error.value) and "HTTP 503" in str(error.value) and TOKEN not in str(error.value)
    assert len(waits) == 2 and len(hub.commits(f"{USER}/pushme")) == 1


# --- the transport: Xet storage where the Hub has it, else git LFS (no Xet server here: see hub_server.py)


def xet_notes(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "has no Xet storage" in r.getMessage()]


@pytest.mark.parametrize("xet_hub", [404, 501], indirect=True)
def test_a_hub_without_xet_gets_every_commit_through_lfs_and_one_note(run_dir, xet_hub, tmp_path, caplog):
    sizes = {path: len(content) for path, content in publishable(run_dir).items()}

    result = push(run_dir, xet_hub, commit_bytes=max(sizes.values()) * 2)

    assert result.commits > 1  # several commits, one question and one note
    landed = xet_hub.materialize(f"{USER}/pushme", tmp_path / "landed")
    assert all((landed / path).read_bytes() == content for path, content in publishable(run_dir).items())
    assert len(xet_hub.seen("GET", "/xet-write-token/main")) == 1
    assert len(xet_hub.seen("PUT", "/lfs-objects/")) == sum(p.endswith(".parquet") for p in sizes)
    [note] = xet_notes(caplog)
    assert f"answered HTTP {xet_hub.xet}" in note and "uploading through git LFS" in note and "\n" not in note
    assert constants.HF_HUB_DISABLE_XET is False  # the switch is put back for the rest of the process


def test_curate_push_to_a_hub_without_xet_succeeds(run_dir, xet_hub, monkeypatch, caplog):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    result = run_cli("push", run_dir, "--repo-id", f"{USER}/cli", "--endpoint", xet_hub.url)
    assert result.exit_code == 0, result.output
    assert "commits 1" in result.output and len(xet_notes(caplog)) == 1


def test_nothing_to_upload_asks_nothing_about_xet(run_dir, xet_hub, caplog):
    push(run_dir, xet_hub)
    caplog.clear()
    assert push(run_dir, xet_hub).commits == 0
    assert len(xet_hub.seen("GET", "/xet-write-token/")) == 1 and xet_notes(caplog) == []


@pytest.mark.parametrize("xet_hub", ["granted"], indirect=True)
def test_xet_storage_refusing_the_upload_is_one_line_naming_the_lfs_switch(run_dir, xet_hub, monkeypatch, waits):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    result = run_cli("push", run_dir, "--repo-id", f"{USER}/cli", "--endpoint", xet_hub.url)
    assert result.exit_code == 2
    [line] = error_lines(result.output)
    assert "Xet storage refused the upload (HTTP 403)" in line and "HF_HUB_DISABLE_XET=1" in line
    assert TOKEN not in result.output and waits == []
    assert xet_hub.seen("POST", "/cas/") and xet_hub.seen("PUT", "/lfs-objects/") == []  # no quiet fallback
    assert len(xet_hub.commits(f"{USER}/cli")) == 1


def test_a_xet_storage_server_error_is_retried_then_one_line(waits):
    # hf_xet's words for a 503 from its storage server (a builtin ConnectionError, status in the text);
    # not served by the loopback Hub, where hf_xet would retry it for minutes on its own first
    said = ("Server error: Request error: HTTP status server error (503 Service Unavailable), domain: "
            "https://cas.example/v1/xorbs/default/0123")
    calls = []

    def upload() -> None:
        calls.append(1)
        raise ConnectionError(said)

    remote = hub_module._Hub(HfApi(endpoint="http://127.0.0.1:9", token=TOKEN), f"{USER}/pushme",
                             revision="main", token=TOKEN, max_retries=2)
    with pytest.raises(RetryableError, match=r"in 3 attempts; last error: Xet storage: HTTP 503$"):
        remote._call("commit 1 file(s)", upload)
    assert len(calls) == 3 and len(waits) == 2


# --- refusals: one line, an exit code, never the token


def test_a_wrong_token_fails_at_once_without_leaking_it(run_dir, hub, waits, caplog):
    wrong = "hf_WRONGtok3n_do_not_print_me_9xQ"
    with pytest.raises(RecipeError) as error:
        push_output(run_dir, f"{USER}/pushme", token=wrong, endpoint=hub.url)
    message = str(error.value)
    assert message.startswith("the Hub refused the token (401)") and "HF_TOKEN" in message and "\n" not in message
    assert error.value.exit_code == 2 and waits == []
    assert wrong not in message and wrong not in caplog.text and TOKEN not in message
    assert f"{USER}/pushme" not in hub.repos


def test_no_token_says_so(run_dir, hub):
    with pytest.raises(RecipeError, match=r"no Hub token \(401\)"):
        push_output(run_dir, f"{USER}/pushme", endpoint=hub.url)


def test_a_namespace_the_token_cannot_write_is_refused(run_dir, hub):
    with pytest.raises(RecipeError, match=r"may not write to datasets/someone-else/pushme \(403\)") as error:
        push(run_dir, hub, repo="someone-else/pushme")
    assert TOKEN not in str(error.value)


def test_offline_mode_is_named_not_retried(run_dir, hub, waits, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(RecipeError, match="HF_HUB_OFFLINE is set"):
        push(run_dir, hub)
    assert waits == [] and hub.requests == []


def test_private_push_into_an_existing_public_repo_is_refused(run_dir, hub):
    HfApi(endpoint=hub.url, token=TOKEN).create_repo(f"{USER}/pushme", repo_type="dataset")
    with pytest.raises(RecipeError, match="already exists and is public"):
        push(run_dir, hub, private=True)
    assert len(hub.commits(f"{USER}/pushme")) == 1


@pytest.mark.parametrize("remove", ["stats.json", "data", "README.md"])
def test_a_folder_that_is_not_a_finished_run_is_refused(run_dir, hub, remove):
    target = run_dir / remove
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(InputError, match=remove.split(".")[0]):
        push(run_dir, hub)
    assert hub.requests == []


# --- the card


def edit_card(readme: Path, change) -> None:
    text = readme.read_text(encoding="utf-8")
    _, header, body = text.split("---\n", 2)
    data = yaml.safe_load(header)
    change(data)
    readme.write_text(f"---\n{yaml.safe_dump(data, allow_unicode=True)}---\n{body}", encoding="utf-8")


def drop_first_config(card: dict) -> None:
    card["configs"].pop(0)


def point_first_config_elsewhere(card: dict) -> None:
    card["configs"][0]["data_files"][0]["path"] = "data/*/train-*.parquet"


@pytest.mark.parametrize("change, complaint", [
    (lambda card: card.pop("configs"), "no `configs`"),
    (lambda card: card.pop("language"), "no `language` tags"),
    (drop_first_config, "no config reads data/"),
    (point_first_config_elsewhere, r"configs\[0\] must have"),
])
def test_a_card_the_hub_could_not_load_configs_from_is_refused_before_any_request(run_dir, hub, change, complaint):
    edit_card(run_dir / "README.md", change)
    with pytest.raises(InputError, match=complaint):
        push(run_dir, hub)
    assert hub.requests == []


def test_a_card_the_hub_refuses_is_reported_and_nothing_is_committed(run_dir, hub):
    edit_card(run_dir / "README.md", lambda card: card.update(language=["not a code!"]))
    with pytest.raises(InputError, match=r"refused README.md's YAML header \(HTTP 400\).*ISO 639") as error:
        push(run_dir, hub)
    assert error.value.exit_code == 2 and len(hub.commits(f"{USER}/pushme")) == 1


# --- the pushed repo is a dataset


def test_the_pushed_files_load_offline_with_the_row_counts_of_stats_json(run_dir, hub, tmp_path, monkeypatch):
    push(run_dir, hub)
    landed = hub.materialize(f"{USER}/pushme", tmp_path / "landed")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets

    languages = json.loads((landed / "stats.json").read_text())["languages"]
    for config, info in languages.items():
        loaded = datasets.load_dataset(str(landed), config, cache_dir=str(tmp_path / "cache"))
        assert loaded["train"].num_rows == info["rows"], config


# --- the command line


def test_curate_push_prints_a_summary_and_a_rerun_skips_everything(run_dir, hub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    files = len(publishable(run_dir))

    first = run_cli("push", run_dir, "--repo-id", f"{USER}/cli", "--endpoint", hub.url, "--private")
    assert first.exit_code == 0, first.output
    assert f"uploaded {files} file(s)" in first.output and "commits 1" in first.output
    assert f"{hub.url}/datasets/{USER}/cli" in first.output and hub.repos[f"{USER}/cli"].private

    monkeypatch.setenv("HF_ENDPOINT", hub.url)  # the endpoint as huggingface_hub users set it
    second = run_cli("push", run_dir, "--repo-id", f"{USER}/cli")
    assert second.exit_code == 0, second.output
    assert "uploaded 0 file(s)" in second.output and f"skipped {files}" in second.output
    assert "commits 0" in second.output


def test_curate_push_with_a_wrong_token_exits_2_with_one_line(run_dir, hub, monkeypatch):
    wrong = "hf_WRONGtok3n_do_not_print_me_9xQ"
    monkeypatch.setenv("HF_TOKEN", wrong)
    result = run_cli("push", run_dir, "--repo-id", f"{USER}/cli", "--endpoint", hub.url)
    assert result.exit_code == 2
    assert "the Hub refused the token (401)" in result.output
    assert wrong not in result.output and "Traceback" not in result.output


def test_curate_push_gives_up_on_a_failing_commit_with_one_line_and_exit_1(run_dir, hub, monkeypatch, waits):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hub.fail_next("POST", "/commit/", *[500] * 6)  # the first try and push_output's 5 retries
    result = run_cli("push", run_dir, "--repo-id", f"{USER}/cli", "--endpoint", hub.url)
    assert result.exit_code == 1
    [line] = error_lines(result.output)
    assert "could not commit" in line and "6 attempts" in line and "HTTP 500" in line


def test_curate_push_refused_on_create_repo_exits_2_with_one_line(run_dir, hub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hub.fail_next("POST", "/api/repos/create", 403)
    result = run_cli("push", run_dir, "--repo-id", f"{USER}/cli", "--endpoint", hub.url)
    assert result.exit_code == 2
    [line] = error_lines(result.output)
    assert "(403)" in line and TOKEN not in result.output


def test_an_answer_huggingface_hub_cannot_read_is_one_line_saying_where(run_dir, hub, monkeypatch, waits):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hub.fail_next("POST", "/api/repos/create", "garbled")
    result = run_cli("push", run_dir, "--repo-id", f"{USER}/cli", "--endpoint", hub.url)
    assert result.exit_code == 1
    [line] = error_lines(result.output)
    assert "could not create the dataset repo" in line and "raised in huggingface_hub" in line


def test_a_repo_id_the_hub_cannot_take_is_refused_before_any_request(run_dir, hub):
    with pytest.raises(RecipeError, match=r"--repo-id curator/bad\.\.name") as error:
        push(run_dir, hub, repo=f"{USER}/bad..name")
    assert error.value.exit_code == 2 and hub.requests == []


def test_a_recipe_push_block_publishes_after_the_run(hub, tmp_path, monkeypatch):
    """`push:` in a recipe: the run ends by pushing its output, with the token from `token_env`."""
    monkeypatch.setenv("MY_HUB_TOKEN", TOKEN)
    write_jsonl(tmp_path / "in.jsonl", [{"id": str(i), "text": text} for i, text in enumerate(TEXTS)])
    recipe = {"name": "pushed", "output": str(tmp_path / "pushed"), "inputs": [{"path": str(tmp_path / "in.jsonl")}],
              "steps": [{"lid": {"keep": ["sw", "yo", "ru", "zh"], "min_score": 0.3}}],
              "push": {"repo_id": f"{USER}/from-recipe", "private": True, "endpoint": hub.url,
                       "token_env": "MY_HUB_TOKEN"}}
    result = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 0, result.output
    assert "commits 1" in result.output and TOKEN not in result.output
    repo = hub.repos[f"{USER}/from-recipe"]
    assert repo.private
    materialized = hub.materialize(f"{USER}/from-recipe", tmp_path / "pulled")
    assert publishable(tmp_path / "pushed") == publishable(materialized)


def test_a_push_block_that_fails_after_the_run_exits_1_and_says_the_data_is_there(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_not_the_right_one_0000000000000")
    write_jsonl(tmp_path / "in.jsonl", [{"id": str(i), "text": text} for i, text in enumerate(TEXTS)])
    recipe = {"name": "pushed", "output": str(tmp_path / "pushed"), "inputs": [{"path": str(tmp_path / "in.jsonl")}],
              "steps": [{"lid": {"keep": ["sw", "yo", "ru", "zh"], "min_score": 0.3}}],
              "push": {"repo_id": f"{USER}/refused", "endpoint": hub.url}}
    result = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 1  # the run itself succeeded: not 2, which says nothing ran
    assert "the Hub refused the token (401)" in result.output and "data is complete" in result.output
    assert "hf_not_the_right_one" not in result.output
    assert load_stats(tmp_path / "pushed")["accounting"]["ok"]
