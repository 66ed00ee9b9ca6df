"""Publishing a run's output folder to the Hugging Face Hub: `curate push out/<name> --repo-id user/name`.

What goes up is what a dataset repo should hold, named one by one rather than "everything but":
`data/**/*.parquet`, `README.md` (the card), `stats.json`, `report.html` and `recipe.resolved.yaml`.
The work folders (`.curate/`, `quarantine/`, `rejects/`, `failures/`) and `train/` (LoRA adapters)
stay home.

    1. check the folder locally: a finished run, and a card whose `configs` name every data/ folder
       and that carries `language` tags: before any request, so a bad card costs nothing
    2. create the dataset repo (an existing one is fine), list its files once, and skip every file
       whose content is already there (LFS sha256 / git blob sha1): a re-push of an unchanged
       folder makes no commit; nothing remote is ever deleted
    3. upload the rest in a few commits grouped by size, data first and the card last, so the card
       that advertises the configs lands after the shards it points at

Failures fall into the kinds of `curation.errors`:

    transient   HTTP 408/429/5xx, connection errors (hf_xet's included)
                -> each Hub call is retried with exponential backoff (or the server's Retry-After);
                   after `max_retries` retries -> RetryableError
    the setup   HTTP 401/403/404 and other 4xx: token, repo id, revision, a refused card, Xet
                storage refusing the upload -> RecipeError at once, one line: retrying cannot fix it
    the folder  not a finished run, a card the Hub could not load configs from -> InputError
    the rest    anything else raised inside huggingface_hub or hf_xet -> CurateError, one line
                naming the exception and where it was raised; a bug of ours keeps its traceback

The token is never logged nor put in a message (a server that echoes it gets it redacted). The
retry rules (which statuses, how long to wait, redaction) are `curation.retrying`'s, shared with the
OpenAI engine.

The transport is chosen once per push, before the first commit. huggingface_hub sends the bytes
through Xet storage whenever `hf_xet` is installed (it is a dependency) and `HF_HUB_DISABLE_XET` is
not set, whatever the endpoint supports; against an endpoint without Xet (an older Hub, a mirror, a
self-hosted server) it dies on the 404 of the Xet token request. So we ask for that token first:
refused with 404/405/501 (or answered without one) means no Xet here, and the commits go through
git LFS with one note in the log. Any other Xet failure is reported, not worked around: it names
`HF_HUB_DISABLE_XET=1` as the way to force LFS.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import logging
import os
import re
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from time import sleep
from typing import Any, TypeVar
from urllib.parse import quote

import yaml
from huggingface_hub import CommitOperationAdd, DatasetCard, HfApi, RepoFile, constants, get_token
from huggingface_hub.errors import HfHubHTTPError, HFValidationError, OfflineModeIsEnabled
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status, validate_repo_id

from curation.errors import CurateError, InputError, RecipeError, RetryableError
from curation.retrying import Transient, call_with_retries, redact, retry_after_seconds, retryable_status

logger = logging.getLogger(__name__)

DEFAULT_COMMIT_BYTES = 2 * 1024**3  # large commits, few of them: the Hub prefers that to many small ones
TOP_LEVEL_FILES = ("README.md", "stats.json", "report.html", "recipe.resolved.yaml")
REQUIRED_FILES = ("README.md", "stats.json")  # report.html and the resolved recipe are newer than some runs
LOGIN_HINT = "set HF_TOKEN or run `hf auth login`"
BACKOFF_S = 1.0  # the first retry's wait before jitter; it doubles per retry (curation.retrying)
HASH_CHUNK = 8 * 1024 * 1024
# answers to the Xet token request that mean "no Xet storage here": no such route, not for this
# method, not implemented. 401/403 are a refused token and 5xx a server in trouble: not "no Xet".
NO_XET_STATUSES = frozenset({404, 405, 501})
FORCE_LFS_HINT = "set HF_HUB_DISABLE_XET=1 to upload through git LFS instead"
# hf_xet raises the builtin ConnectionError for every failed request and says the status only in its
# text, in reqwest's words: "HTTP status client error (403 Forbidden), domain: ..."
XET_HTTP_STATUS = re.compile(r"HTTP status (?:client|server) error \((\d{3})")
HUB_PACKAGES = frozenset({"huggingface_hub", "hf_xet", "httpx2", "httpx", "requests"})

T = TypeVar("T")


@dataclass
class PushResult:
    """What a push did: paths are paths in the repo."""

    url: str
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already on the Hub with the same content
    commits: int = 0
    bytes_uploaded: int = 0
    remote_only: list[str] = field(default_factory=list)  # data files on the Hub this run lacks (not deleted)


def push_output(output: Path, repo_id: str, *, private: bool = False, token: str | None = None,
                endpoint: str | None = None, revision: str = "main", max_retries: int = 5,
                commit_bytes: int = DEFAULT_COMMIT_BYTES) -> PushResult:
    """Publish the run in `output` to the dataset repo `repo_id`; safe to re-run.

    The token is `token`, else huggingface_hub's own (`HF_TOKEN`, then `hf auth login`'s stored one);
    the endpoint is `endpoint`, else `HF_ENDPOINT`, else huggingface.co.
    """
    output = Path(output)
    files = publishable_files(output)
    check_card(output / "README.md", data_folders(output))
    try:
        validate_repo_id(repo_id)
    except HFValidationError as e:
        raise RecipeError(f"--repo-id {repo_id}: {e}") from None
    token = token or get_token()
    endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
    hub = _Hub(HfApi(endpoint=endpoint, token=token), repo_id, revision=revision, token=token,
               max_retries=max_retries)

    url = hub.create_repo(private)
    remote = hub.remote_files()
    changed = [path for path in files if not same_content(files[path], remote.get(path))]
    result = PushResult(url=url, skipped=[path for path in files if path not in changed],
                        remote_only=sorted(p for p in remote if p.startswith("data/") and p not in files))
    groups = commit_groups(changed, {path: files[path].stat().st_size for path in changed}, commit_bytes)
    for number, group in enumerate(groups, 1):
        hub.commit({path: files[path] for path in group},
                   f"curate push: {output.name} ({number}/{len(groups)}, {len(group)} files)")
        result.uploaded += group
        result.bytes_uploaded += sum(files[path].stat().st_size for path in group)
        result.commits += 1
    if result.remote_only:
        logger.warning("%d data file(s) on the Hub are not in this run and were left in place (the card's "
                       "globs still load them): %s", len(result.remote_only), ", ".join(result.remote_only[:5]))
    return result


# --- the local side: what to upload, and is the card one the Hub will load


def publishable_files(output: Path) -> dict[str, Path]:
    """Path in the repo -> local file, for a finished run; InputError for anything else."""
    if not output.is_dir():
        raise InputError(f"{output}: no such folder")
    for name in REQUIRED_FILES:
        if not (output / name).is_file():
            raise InputError(f"{output}: no {name} (not a curate output folder, or the run has not finished)")
    shards = sorted((output / "data").glob("*/*.parquet"))
    if not shards:
        raise InputError(f"{output}: no data/<config>/*.parquet shards (the run published nothing, or has not "
                         "finished)")
    files = {shard.relative_to(output).as_posix(): shard for shard in shards}
    files.update({name: output / name for name in TOP_LEVEL_FILES if (output / name).is_file()})
    return files


def data_folders(output: Path) -> set[str]:
    return {shard.parent.name for shard in (output / "data").glob("*/*.parquet")}


def check_card(readme: Path, folders: set[str]) -> None:
    """The card's YAML header must declare one config per data/ folder, each reading only that
    folder, and language tags: without them the Hub shows one undifferentiated dataset.

    Only the local half of the check. `DatasetCard.validate()` is not called: it posts to the
    endpoint huggingface_hub read from HF_ENDPOINT at import (not ours) and without the token. The
    Hub's own validation still runs, at the right endpoint and with the token: `create_commit` posts
    README.md to `/api/validate-yaml` before it uploads anything of the commit that carries the card
    (the last one; with the default commit size, the only one), and a refusal becomes an InputError
    (see `_Hub._refusal`); shards already committed then stay and are skipped by the next push. The
    Hub checks YAML types and tag values; this checks what it cannot know: configs match data/ folders.
    """
    try:
        header = DatasetCard(readme.read_text(encoding="utf-8")).data.to_dict()
    except (ValueError, yaml.YAMLError) as e:
        raise InputError(f"{readme}: the YAML header does not parse ({' '.join(str(e).split())})") from None
    configs = header.get("configs")
    if not isinstance(configs, list) or not configs:
        raise InputError(f"{readme}: the YAML header has no `configs` (one per data/ folder); "
                         "rebuild the card with `curate run` on this recipe")
    declared: dict[str, str] = {}
    for index, config in enumerate(configs):
        name, folder = _config_folder(config)
        if name is None or folder is None:
            raise InputError(f"{readme}: configs[{index}] must have a config_name and data_files under one "
                             "data/<config>/ folder")
        declared[name] = folder
    if missing := sorted(folders - set(declared.values())):
        raise InputError(f"{readme}: no config reads data/{missing[0]}/ ({len(missing)} data folder(s) not in "
                         "`configs`)")
    if dangling := sorted(set(declared.values()) - folders):
        raise InputError(f"{readme}: a config reads data/{dangling[0]}/, which has no shards")
    if not header.get("language"):
        raise InputError(f"{readme}: the YAML header has no `language` tags")


def _config_folder(config: Any) -> tuple[str | None, str | None]:
    """(config_name, the one data/ folder its data_files read) or Nones when there is no single one."""
    if not isinstance(config, dict) or not isinstance(config.get("config_name"), str):
        return None, None
    data_files = config.get("data_files")
    entries = data_files if isinstance(data_files, list) else [data_files]
    patterns: list[Any] = []
    for entry in entries:
        path = entry.get("path") if isinstance(entry, dict) else entry
        patterns += path if isinstance(path, list) else [path]
    folders = {p.split("/")[1] for p in patterns if isinstance(p, str) and p.startswith("data/") and p.count("/") >= 2}
    if (len(folders) != 1 or len(patterns) != sum(isinstance(p, str) for p in patterns)
            or any(char in next(iter(folders)) for char in "*?[")):  # a glob over folders reads several
        return config["config_name"], None
    return config["config_name"], folders.pop()


def same_content(local: Path, remote: RepoFile | None) -> bool:
    """Whether the remote file holds exactly `local`'s bytes: its LFS sha256 for LFS files, else its
    git blob id (sha1 of `blob <size>\\0<bytes>`), which is what the Hub's listing reports."""
    if remote is None or remote.size != local.stat().st_size:
        return False
    if remote.lfs is not None:
        return remote.lfs.sha256 == file_sha256(local)
    return remote.blob_id == git_blob_sha1(local)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def git_blob_sha1(path: Path) -> str:
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def commit_groups(paths: list[str], sizes: dict[str, int], commit_bytes: int) -> list[list[str]]:
    """Paths packed in order into commits of at most `commit_bytes` (a bigger file gets its own),
    data shards first, then the other top-level files, the card last: it lands after the data it describes."""
    ordered = sorted(paths, key=lambda p: (p == "README.md", p in TOP_LEVEL_FILES, p))
    groups: list[list[str]] = []
    total = 0
    for path in ordered:
        if not groups or total + sizes[path] > commit_bytes:
            groups.append([])
            total = 0
        groups[-1].append(path)
        total += sizes[path]
    return groups


# --- the remote side: each Hub call retried, every failure turned into one line


class _Hub:
    """One repo on one endpoint, through `HfApi`, with our retries around each call.

    huggingface_hub retries some calls itself (preupload, LFS transfers, listing) but not repo
    creation or the commit, and never honours a date in Retry-After: our loop is the one place that
    decides, and its error messages are the ones the user reads.
    """

    def __init__(self, api: HfApi, repo_id: str, *, revision: str, token: str | None, max_retries: int):
        if max_retries < 0:
            raise RecipeError(f"push: max_retries must be >= 0, got {max_retries}")
        self.api = api
        self.repo_id = repo_id
        self.revision = revision
        self.token = token
        self.max_retries = max_retries
        self.use_xet: bool | None = None  # decided before the first commit (`_transport`)

    def create_repo(self, private: bool) -> str:
        url = self._call("create the dataset repo", lambda: self.api.create_repo(
            self.repo_id, repo_type="dataset", private=private, exist_ok=True))
        if private and not self._call("read the repo's settings", lambda: self.api.dataset_info(self.repo_id)).private:
            # `private` is ignored for a repo that already exists: never publish into a public one by surprise
            raise RecipeError(f"{self.repo_id} already exists and is public; make it private on the Hub first, "
                              "or push without --private")
        if self.revision != "main":
            self._call(f"create the branch {self.revision}", lambda: self.api.create_branch(
                self.repo_id, branch=self.revision, repo_type="dataset", exist_ok=True))
        return str(url)

    def remote_files(self) -> dict[str, RepoFile]:
        entries = self._call("list the repo's files", lambda: list(self.api.list_repo_tree(
            self.repo_id, repo_type="dataset", revision=self.revision, recursive=True)))
        return {entry.path: entry for entry in entries if isinstance(entry, RepoFile)}

    def commit(self, files: dict[str, Path], message: str) -> None:
        # `create_commit` rather than `upload_folder`: we already know which files (a whitelist, minus
        # those the Hub has) and split them into several commits, where upload_folder makes one commit
        # of a whole folder. Fresh operations on every attempt, because huggingface_hub mutates them: a
        # retry then asks the Hub again which files it has, so a commit whose answer was lost is not made
        # twice (its files now match and the retry is a no-op), and LFS objects already sent are not resent.
        def attempt() -> None:
            operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(local))
                          for path, local in files.items()]
            self.api.create_commit(self.repo_id, operations, commit_message=message, repo_type="dataset",
                                   revision=self.revision)

        with self._transport():
            self._call(f"commit {len(files)} file(s)", attempt)

    # --- the transport: Xet storage where the endpoint has it, else git LFS

    @contextlib.contextmanager
    def _transport(self) -> Iterator[None]:
        """Commit through Xet when huggingface_hub would and the endpoint hands out Xet tokens, else
        through git LFS; decided on the first commit and said once."""
        if self.use_xet is None:
            self.use_xet = self._choose_xet()
        with contextlib.nullcontext() if self.use_xet else _xet_disabled():
            yield

    def _choose_xet(self) -> bool:
        if not xet_enabled():
            return False  # LFS already: hf_xet missing, or the user set HF_HUB_DISABLE_XET
        missing = self._call("ask for Xet storage", self._xet_missing)
        if missing is not None:
            logger.warning("Hub (%s) has no Xet storage (the Xet token request %s): uploading through git LFS",
                           self.api.endpoint, missing)
        return missing is None

    def _xet_missing(self) -> str | None:
        """Why this endpoint can take no Xet upload into the repo, or None when it can: the same
        request hf_xet makes first (`GET /api/datasets/<repo>/xet-write-token/<revision>`), asked here
        so that its answer decides the transport before any byte is sent. Any other refusal raises."""
        url = f"{self.api.endpoint}/api/datasets/{self.repo_id}/xet-write-token/{quote(self.revision, safe='')}"
        response = get_session().get(url, headers=build_hf_headers(token=self.token))
        if response.status_code in NO_XET_STATUSES:
            return f"answered HTTP {response.status_code}"
        hf_raise_for_status(response)
        if constants.HUGGINGFACE_HEADER_X_XET_ENDPOINT not in response.headers:
            return "answered without a Xet storage address"
        return None

    # --- retries and messages

    def _call(self, what: str, call: Callable[[], T]) -> T:
        def attempt() -> T:
            try:
                return call()
            except Exception as error:  # sorted into transient / refused / not ours
                raise self._classify(error, what) from None

        def pause(failure: Transient, retry: int, delay: float) -> None:
            logger.warning("Hub: %s: %s; retry %d/%d in %.1fs", what, failure.status, retry, self.max_retries, delay)
            sleep(delay)

        try:
            return call_with_retries(attempt, max_retries=self.max_retries, backoff_s=BACKOFF_S, pause=pause)
        except Transient as last:
            raise RetryableError(f"Hub ({self.api.endpoint}): could not {what} in {self.max_retries + 1} "
                                 f"attempts; last error: {last.status}") from None

    def _classify(self, error: Exception, what: str) -> Transient:
        """A failure worth retrying, else raise the CurateError the user should read (or `error`
        itself when it is not a failure of the Hub or the network: a bug should show its traceback)."""
        cause = _root_cause(error, (HfHubHTTPError, OfflineModeIsEnabled, *_transport_errors()))
        if isinstance(cause, OfflineModeIsEnabled):
            raise RecipeError("HF_HUB_OFFLINE is set: unset it to push to the Hub") from None
        if isinstance(cause, HfHubHTTPError) and cause.response is not None:
            status = cause.response.status_code
            said = redact(" ".join(str(getattr(cause, "server_message", None) or "").split())[:300], self.token)
            if retryable_status(status):
                return Transient(f"HTTP {status} {said}".rstrip(), retry_after_seconds(cause.response.headers))
            raise self._refusal(status, said, _request_url(cause.response), what) from None
        if isinstance(cause, ConnectionError) and (status := _xet_status(cause)) is not None:
            if retryable_status(status):
                return Transient(f"Xet storage: HTTP {status}")
            raise RecipeError(f"Hub: could not {what}: Xet storage refused the upload (HTTP {status}): "
                              f"{_one_line(cause, self.token)}; {FORCE_LFS_HINT}") from None
        if isinstance(cause, _transport_errors()):
            return Transient(f"{type(cause).__name__}: {_one_line(cause, self.token)}")
        if isinstance(error, ValueError):  # huggingface_hub's word for a response it could not read
            raise CurateError(f"Hub: could not {what}: {_one_line(error, self.token)}") from None
        if (place := _raised_in_hub_library(error)) is not None:
            # not a refusal we know nor a network failure: still one line, with where it happened,
            # which is what a bug report to huggingface_hub needs
            raise CurateError(f"Hub: could not {what}: {type(error).__name__}: {_one_line(error, self.token)} "
                              f"(raised in {place})") from None
        raise error  # ours: a bug should show its traceback

    def _refusal(self, status: int, said: str, url: str, what: str) -> CurateError:
        because = f" (server said: {said})" if said else ""
        if url.endswith("/api/validate-yaml"):
            return InputError(f"the Hub refused README.md's YAML header (HTTP {status}){because}")
        if status == 401:
            return RecipeError(f"the Hub refused the token (401): {LOGIN_HINT}" if self.token
                               else f"no Hub token (401): {LOGIN_HINT}")
        if status == 403:
            return RecipeError(f"the token may not write to datasets/{self.repo_id} (403): use a token with "
                               f"write access to that namespace{because}")
        if status == 404:
            return RecipeError(f"could not {what}: datasets/{self.repo_id} (revision {self.revision}) not found "
                               f"at {self.api.endpoint} (404): check --repo-id and --revision{because}")
        return RecipeError(f"the Hub refused to {what} (HTTP {status}){because}")


@contextlib.contextmanager
def _xet_disabled() -> Iterator[None]:
    """huggingface_hub uploads through git LFS while this lasts. It reads `HF_HUB_DISABLE_XET` from the
    environment once, into `constants`, and looks at that constant on every upload
    (`is_xet_available`): setting it there is the switch it reads; restored after, so that other uses
    of huggingface_hub in the process keep their transport. A push is one thread: no other commit
    runs meanwhile."""
    saved = constants.HF_HUB_DISABLE_XET
    constants.HF_HUB_DISABLE_XET = True
    try:
        yield
    finally:
        constants.HF_HUB_DISABLE_XET = saved


def xet_enabled() -> bool:
    """Whether huggingface_hub would upload through Xet: hf_xet installed and not switched off (what its
    own `is_xet_available` checks, which is not public API)."""
    return not constants.HF_HUB_DISABLE_XET and importlib.util.find_spec("hf_xet") is not None


def _xet_status(error: BaseException) -> int | None:
    """The HTTP status in the text of one of hf_xet's ConnectionErrors, None when there is none."""
    match = XET_HTTP_STATUS.search(str(error))
    return int(match.group(1)) if match else None


def _raised_in_hub_library(error: BaseException) -> str | None:
    """`module, line N` of the innermost frame of `error` inside huggingface_hub, hf_xet or their HTTP
    library; None when it never got there (a bug of ours, at our call)."""
    place = None
    for frame, line in traceback.walk_tb(error.__traceback__):
        module = frame.f_globals.get("__name__", "")
        if module.split(".")[0] in HUB_PACKAGES:
            place = f"{module}, line {line}"
    return place


def _one_line(error: BaseException, token: str | None) -> str:
    return redact(" ".join(str(error).split()), token)[:500]


def _request_url(response: Any) -> str:
    try:
        return str(response.request.url)
    except (AttributeError, RuntimeError):  # a response built without its request
        return ""


def _root_cause(error: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException:
    """The first of `kinds` down the `raise ... from` chain: huggingface_hub wraps an LFS upload's
    HTTP error in a RuntimeError and a refused card's in a ValueError."""
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, kinds):
            return current
        current = current.__cause__
    return error


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Connection-level failures of the HTTP libraries under huggingface_hub: httpx2 in 2.x, httpx in
    1.x, requests in 0.x (whichever are installed, so imported by name at run time), and hf_xet's."""
    kinds: list[type[BaseException]] = [ConnectionError, TimeoutError]  # hf_xet raises the builtins
    for module, names in (("httpx2", ("TransportError",)), ("httpx", ("TransportError",)),
                          ("requests", ("ConnectionError", "Timeout"))):
        try:
            loaded = importlib.import_module(module)
        except ImportError:
            continue
        kinds += [getattr(loaded, name) for name in names if hasattr(loaded, name)]
    return tuple(kinds)
