"""A small Hugging Face Hub on loopback, for the push tests: exactly the endpoints huggingface_hub
calls to create a dataset repo, read it, and commit files to it, with real hashes.

    POST /api/repos/create                                  create (409 with the url when it exists)
    GET  /api/datasets/{repo}[/revision/{rev}]              repo info: sha, private, siblings
    POST /api/datasets/{repo}/branch/{branch}               a branch from main (409 when it exists)
    GET  /api/datasets/{repo}/tree/{rev}[/{path}]           the listing, recursive or not, paged by Link header
    POST /api/validate-yaml                                 the card's YAML header (a minimal, strict subset)
    POST /api/datasets/{repo}/preupload/{rev}               regular or LFS per file, and the oid already there
    POST /datasets/{repo}.git/info/lfs/objects/batch        LFS upload instructions (hrefs back to this server)
    PUT  /lfs-objects/{oid}?size=&signature=                the object, like a presigned S3 URL: no token
    POST /datasets/{repo}.git/info/lfs/objects/verify       the object arrived whole
    POST /api/datasets/{repo}/commit/{rev}                  the ndjson commit: base64 files and LFS pointers
    GET  /api/datasets/{repo}/xet-{read,write}-token/{rev}  Xet storage, as `xet` says (see below)
    *    /cas/...                                           a Xet storage server that refuses everything
    POST /v1/telemetry                                      hf_xet's usage reports: taken and dropped

Blob ids are git's (sha1 of `blob <size>\\0<bytes>`, of the pointer file for LFS files) and LFS objects
are keyed by their sha256, so a client's skip-what-is-there logic meets real numbers. One token (for
`user`) is valid; another gets 401, a repo outside `user`'s namespace 403. `fail_next` makes the next
requests to a path fail with a status (429 with Retry-After, 503...), a dropped connection, a lost
answer (done, but never answered), or a garbled one (200 and an empty JSON object, not done). Every request is recorded in `requests`; one no route matches is
answered 404 and also kept in `unrouted`.

Xet storage (what huggingface_hub uploads through when `hf_xet` is installed) is not implemented:
there is no Xet server to test against. `xet` sets what the token endpoint answers: an HTTP status
(404 by default: the route does not exist, as on an older Hub, a mirror or a self-hosted endpoint;
501; 401...), or "granted": a token for the storage server under /cas, which answers every request 403
(hf_xet gives up at once on a 4xx; on a 5xx it retries for minutes).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import yaml

LFS_PATTERNS = ("*.parquet", "*.arrow", "*.bin", "*.gz", "*.zst", "*.safetensors", "*.pt", "*.zip", "*.tar")
GITATTRIBUTES = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in LFS_PATTERNS).encode()
LFS_MIN_BYTES = 10 * 1024 * 1024  # bigger files go to LFS whatever their name, as on the Hub
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
FRONT_MATTER = re.compile(r"\A\s*---\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
REPO = r"(?P<repo>[^/]+/[^/]+)"


def git_blob_id(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass(frozen=True)
class Blob:
    size: int
    oid: str  # git blob id (of the pointer, for an LFS file)
    lfs_sha256: str | None = None
    content: bytes | None = None  # regular files; LFS content lives in FakeHub.lfs_objects

    @classmethod
    def regular(cls, content: bytes) -> Blob:
        return cls(size=len(content), oid=git_blob_id(content), content=content)

    @classmethod
    def lfs(cls, sha256: str, size: int) -> Blob:
        return cls(size=size, oid=git_blob_id(lfs_pointer(sha256, size)), lfs_sha256=sha256)


@dataclass
class Commit:
    oid: str
    message: str
    files: dict[str, Blob]  # the whole tree after this commit


@dataclass
class Repo:
    repo_id: str
    private: bool
    branches: dict[str, list[Commit]] = field(default_factory=dict)  # history per branch, head last

    def head(self, revision: str) -> Commit | None:
        history = self.branches.get(revision)
        return history[-1] if history else None


@dataclass
class Seen:
    method: str
    path: str
    status: int | str = 0  # an HTTP status, "drop" or "lost"


class HubError(Exception):
    """An HTTP error answer, in the Hub's shape: a JSON `error` plus the X-Error-* headers."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None,
                 body: dict[str, Any] | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.headers, self.body = headers or {}, body or {}


class FakeHub:
    """The Hub's state (repos, LFS objects) and the HTTP server in front of it; a context manager."""

    def __init__(self, token: str, user: str = "curator", page_size: int = 1000, xet: int | str = 404):
        self.token = token
        self.user = user
        self.page_size = page_size
        self.xet = xet
        self.repos: dict[str, Repo] = {}
        self.lfs_objects: dict[str, bytes] = {}
        self.requests: list[Seen] = []
        self.unrouted: list[Seen] = []
        self._failures: list[tuple[str, str, list[int | str], str | None]] = []
        # "hold" outcomes: the handler sets `holding` and waits for `release` (a test kills the client between)
        self.holding = threading.Event()
        self.release = threading.Event()
        self._secret = hashlib.sha256(token.encode() + b"signing").digest()
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.hub = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # a short poll: shutdown() waits for it, once per test
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- for tests

    def fail_next(self, method: str, path_part: str, *outcomes: int | str, retry_after: str | None = None) -> None:
        """The next requests `method` to a path containing `path_part` get `outcomes` in turn: an HTTP
        status (with `Retry-After: retry_after` when given), "drop" (connection closed unanswered),
        "lost" (the request is carried out, then the connection closed unanswered) or "garbled" (200
        with `{}`, which no client can read an answer from; the request is not carried out), "hold" (the
        request is not carried out; the answer waits for `release`) or "done-then-hold" (carried out, then
        the answer waits): both set `holding`, so a test can kill the client mid-request."""
        with self._lock:
            self._failures.append((method, path_part, list(outcomes), retry_after))

    def seen(self, method: str, path_part: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    def commits(self, repo_id: str, revision: str = "main") -> list[Commit]:
        """The branch's history, oldest first; [0] is the repo's initial commit (.gitattributes)."""
        return list(self.repos[repo_id].branches[revision])

    def materialize(self, repo_id: str, folder: Path, revision: str = "main") -> Path:
        """Write the files of the branch's head into `folder`, LFS files from their stored objects."""
        head = self.repos[repo_id].head(revision)
        assert head is not None, f"{repo_id} has no branch {revision}"
        for path, blob in head.files.items():
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.content if blob.lfs_sha256 is None else self.lfs_objects[blob.lfs_sha256])
        return folder

    # --- failure injection and auth, used by the handler

    def _take_failure(self, method: str, path: str) -> tuple[int | str, str | None] | None:
        with self._lock:
            for rule_method, part, outcomes, retry_after in self._failures:
                if rule_method == method and part in path and outcomes:
                    return outcomes.pop(0), retry_after
        return None

    def _caller(self, authorization: str | None) -> str | None:
        """The user behind the request, None when anonymous; HubError 401 for a wrong token."""
        if not authorization:
            return None
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.encode(), self.token.encode()):
            raise HubError(401, "Invalid credentials in Authorization header")
        return self.user

    def _signature(self, oid: str, size: int) -> str:
        return hmac.new(self._secret, f"{oid}:{size}".encode(), hashlib.sha256).hexdigest()

    # --- repos

    def _repo(self, repo_id: str, caller: str | None, write: bool = False) -> Repo:
        repo = self.repos.get(repo_id)
        if repo is None or (repo.private and caller is None):
            raise HubError(404, "Repository not found", "RepoNotFound")
        if write and caller is None:
            raise HubError(401, "You must be authenticated to write to a repo")
        if write and repo_id.split("/")[0] != caller:
            raise HubError(403, f"You don't have the rights to write to datasets/{repo_id}")
        return repo

    def _head(self, repo: Repo, revision: str) -> Commit:
        head = repo.head(revision)
        if head is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return head

    def _commit(self, repo: Repo, revision: str, message: str, changes: dict[str, Blob]) -> Commit:
        parent = repo.head(revision)
        files = {**(parent.files if parent else {}), **changes}
        listing = "".join(f"{path} {blob.oid}\n" for path, blob in sorted(files.items()))
        oid = hashlib.sha1(f"{parent.oid if parent else ''}\n{message}\n{listing}".encode()).hexdigest()
        commit = Commit(oid=oid, message=message, files=files)
        repo.branches.setdefault(revision, []).append(commit)
        return commit

    def _repo_url(self, repo_id: str) -> str:
        return f"{self.url}/datasets/{repo_id}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the Hub: every answer carries a Content-Length
    server: Any

    ROUTES = (
        ("POST", r"/api/repos/create", "create_repo"),
        ("GET", rf"/api/datasets/{REPO}(?:/revision/(?P<rev>[^/]+))?", "repo_info"),
        ("POST", rf"/api/datasets/{REPO}/branch/(?P<rev>[^/]+)", "create_branch"),
        ("GET", rf"/api/datasets/{REPO}/tree/(?P<rev>[^/]+)(?:/(?P<sub>.+))?", "tree"),
        ("POST", r"/api/validate-yaml", "validate_yaml"),
        ("POST", rf"/api/datasets/{REPO}/preupload/(?P<rev>[^/]+)", "preupload"),
        ("POST", rf"/datasets/{REPO}\.git/info/lfs/objects/batch", "lfs_batch"),
        ("PUT", r"/lfs-objects/(?P<oid>[0-9a-f]{64})", "lfs_put"),
        ("POST", rf"/datasets/{REPO}\.git/info/lfs/objects/verify", "lfs_verify"),
        ("POST", rf"/api/datasets/{REPO}/commit/(?P<rev>[^/]+)", "commit"),
        ("GET", rf"/api/datasets/{REPO}/xet-(?P<kind>read|write)-token/(?P<rev>[^/]+)", "xet_token"),
        ("GET", r"/cas/.*", "cas"),
        ("POST", r"/cas/.*", "cas"),
        ("PUT", r"/cas/.*", "cas"),
        ("POST", r"/v1/telemetry", "telemetry"),
    )

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read `requests`
        pass

    @property
    def hub(self) -> FakeHub:
        return self.server.hub

    # --- plumbing

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.body = self._read_body()  # always, so that a keep-alive connection stays in step
        seen = Seen(method, url.path)
        self.hub.requests.append(seen)
        injected = self.hub._take_failure(method, url.path)
        if injected is not None and injected[0] == "drop":
            seen.status = "drop"
            self.close_connection = True
            return
        if injected is not None and injected[0] == "garbled":
            seen.status = "garbled"
            self._answer(200, {}, {})
            return
        if injected is not None and injected[0] == "hold":
            self._hold(seen)
            return
        handler, params = self._route(method, url.path)
        try:
            if handler is None:
                self.hub.unrouted.append(seen)
                raise HubError(404, f"no route for {method} {url.path}")
            if isinstance(injected, tuple) and isinstance(injected[0], int):
                raise HubError(injected[0], "injected failure",
                               headers={"Retry-After": injected[1]} if injected[1] is not None else None)
            with self.hub._lock:
                status, payload, headers = getattr(self, f"_{handler}")(**params)
        except HubError as e:
            status, payload, headers = e.status, {"error": e.message, **e.body}, {"X-Error-Message": e.message,
                                                                                  **e.headers}
            if e.code:
                headers["X-Error-Code"] = e.code
        if injected is not None and injected[0] == "lost":
            seen.status = "lost"
            self.close_connection = True
            return
        if injected is not None and injected[0] == "done-then-hold":
            self._hold(seen)
            return
        seen.status = status
        self._answer(status, payload, headers)

    def _hold(self, seen: Seen) -> None:
        """Answer nothing until the test releases the request (or a minute passes), then hang up."""
        seen.status = "held"
        self.hub.holding.set()
        self.hub.release.wait(timeout=60)
        self.close_connection = True

    def _route(self, method: str, path: str) -> tuple[str | None, dict[str, str]]:
        for route_method, pattern, handler in self.ROUTES:
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                return handler, {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
        return None, {}

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        headers = {"Content-Type": "application/json", **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise HubError(400, "the body is not JSON") from None

    def _caller(self) -> str | None:
        return self.hub._caller(self.headers.get("Authorization"))

    # --- endpoints

    def _create_repo(self) -> tuple[int, Any, dict[str, str]]:
        caller = self._caller()
        body = self._json()
        if caller is None:
            raise HubError(401, "You must be authenticated to create a repo")
        namespace = body.get("organization") or caller
        repo_id = f"{namespace}/{body['name']}"
        if body.get("type") != "dataset":
            raise HubError(400, "this server only holds dataset repos")
        if namespace != caller:
            raise HubError(403, f'You don\'t have the rights to create a dataset under the namespace "{namespace}"')
        url = self.hub._repo_url(repo_id)
        if repo_id in self.hub.repos:
            raise HubError(409, "You already created this dataset repo", body={"url": url})
        repo = Repo(repo_id=repo_id, private=body.get("visibility") == "private" or body.get("private") is True)
        self.hub.repos[repo_id] = repo
        self.hub._commit(repo, "main", "initial commit", {".gitattributes": Blob.regular(GITATTRIBUTES)})
        return 200, {"url": url, "name": repo_id, "id": repo_id}, {}

    def _repo_info(self, repo: str, rev: str = "main") -> tuple[int, Any, dict[str, str]]:
        found = self.hub._repo(repo, self._caller())
        head = self.hub._head(found, rev)
        return 200, {"id": repo, "author": repo.split("/")[0], "sha": head.oid, "private": found.private,
                     "siblings": [{"rfilename": path} for path in sorted(head.files)]}, {}

    def _create_branch(self, repo: str, rev: str) -> tuple[int, Any, dict[str, str]]:
        found = self.hub._repo(repo, self._caller(), write=True)
        if rev in found.branches:
            raise HubError(409, f"Reference already exists: refs/heads/{rev}")
        start = self.hub._head(found, (self._json() or {}).get("startingPoint") or "main")
        found.branches[rev] = [start]
        return 200, {}, {}

    def _tree(self, repo: str, rev: str, sub: str = "") -> tuple[int, Any, dict[str, str]]:
        head = self.hub._head(self.hub._repo(repo, self._caller()), rev)
        entries = _tree_entries(head.files, sub.strip("/"), recursive=self.query.get("recursive", "").lower() == "true")
        start = int(self.query.get("cursor", 0))
        page = entries[start:start + self.hub.page_size]
        headers = {}
        if start + self.hub.page_size < len(entries):
            query = "&".join(f"{k}={quote(v)}" for k, v in {**self.query, "cursor": str(start + len(page))}.items())
            headers["Link"] = f'<{self.hub.url}{urlsplit(self.path).path}?{query}>; rel="next"'
        return 200, page, headers

    def _validate_yaml(self) -> tuple[int, Any, dict[str, str]]:
        self._caller()
        body = self._json()
        errors, warnings = _card_problems(body.get("content", ""), body.get("repoType", "model"))
        messages = {"errors": [{"message": m} for m in errors], "warnings": [{"message": m} for m in warnings]}
        return (400 if errors else 200), messages, {}

    def _preupload(self, repo: str, rev: str) -> tuple[int, Any, dict[str, str]]:
        head = self.hub._head(self.hub._repo(repo, self._caller(), write=True), rev)
        lfs_patterns = _lfs_patterns(head)
        answers = []
        for item in self._json()["files"]:
            sample = base64.b64decode(item["sample"])
            lfs = (item["size"] >= LFS_MIN_BYTES or b"\0" in sample
                   or any(_matches(item["path"], p) for p in lfs_patterns))
            there = head.files.get(item["path"])
            answers.append({"path": item["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False,
                            "oid": None if there is None else there.lfs_sha256 or there.oid})
        return 200, {"files": answers, "commitOid": head.oid}, {}

    def _lfs_batch(self, repo: str) -> tuple[int, Any, dict[str, str]]:
        self.hub._repo(repo, self._caller(), write=True)
        body = self._json()
        if body.get("operation") != "upload":
            raise HubError(400, "only uploads are served")
        objects = []
        for item in body["objects"]:
            oid, size = item["oid"], item["size"]
            stored = self.hub.lfs_objects.get(oid)
            entry: dict[str, Any] = {"oid": oid, "size": size}
            if stored is None or len(stored) != size:
                sign = self.hub._signature(oid, size)
                entry["authenticated"] = True
                entry["actions"] = {
                    "upload": {"href": f"{self.hub.url}/lfs-objects/{oid}?size={size}&signature={sign}"},
                    "verify": {"href": f"{self.hub.url}/datasets/{repo}.git/info/lfs/objects/verify"}}
            objects.append(entry)
        return 200, {"transfer": "basic", "objects": objects}, {"Content-Type": "application/vnd.git-lfs+json"}

    def _lfs_put(self, oid: str) -> tuple[int, Any, dict[str, str]]:
        size = int(self.query.get("size", -1))
        if not hmac.compare_digest(self.query.get("signature", ""), self.hub._signature(oid, size)):
            raise HubError(403, "SignatureDoesNotMatch")
        if len(self.body) != size or hashlib.sha256(self.body).hexdigest() != oid:
            raise HubError(400, f"the body is not the object {oid} of {size} bytes")
        self.hub.lfs_objects[oid] = self.body
        return 200, {}, {"ETag": f'"{hashlib.md5(self.body).hexdigest()}"'}

    def _lfs_verify(self, repo: str) -> tuple[int, Any, dict[str, str]]:
        self.hub._repo(repo, self._caller(), write=True)
        body = self._json()
        stored = self.hub.lfs_objects.get(body["oid"])
        if stored is None or len(stored) != body["size"]:
            raise HubError(404, f"LFS object {body['oid']} not found")
        return 200, {}, {}

    def _commit(self, repo: str, rev: str) -> tuple[int, Any, dict[str, str]]:
        found = self.hub._repo(repo, self._caller(), write=True)
        self.hub._head(found, rev)
        if not self.headers.get("Content-Type", "").startswith("application/x-ndjson"):
            raise HubError(400, "a commit is application/x-ndjson")
        lines = [json.loads(line) for line in self.body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "the first line of a commit is its header")
        changes = dict(self._commit_operation(line) for line in lines[1:])
        commit = self.hub._commit(found, rev, lines[0]["value"]["summary"], changes)
        return 200, {"success": True, "commitOid": commit.oid, "commitMessage": commit.message, "hookOutput": "",
                     "commitUrl": f"{self.hub._repo_url(repo)}/commit/{commit.oid}", "pullRequestUrl": None}, {}

    def _commit_operation(self, line: dict[str, Any]) -> tuple[str, Blob]:
        value = line.get("value", {})
        if line.get("key") == "file" and value.get("encoding") == "base64":
            return value["path"], Blob.regular(base64.b64decode(value["content"]))
        if line.get("key") == "lfsFile" and value.get("algo") == "sha256":
            stored = self.hub.lfs_objects.get(value["oid"])
            if stored is None or ("size" in value and len(stored) != value["size"]):
                raise HubError(400, f"LFS object {value['oid']} for {value['path']} was never uploaded")
            return value["path"], Blob.lfs(value["oid"], len(stored))
        raise HubError(400, f"unsupported commit operation: {line.get('key')}")

    def _xet_token(self, repo: str, kind: str, rev: str) -> tuple[int, Any, dict[str, str]]:
        if isinstance(self.hub.xet, int):
            raise HubError(self.hub.xet, f"this server hands out no Xet {kind} tokens")
        self.hub._head(self.hub._repo(repo, self._caller(), write=kind == "write"), rev)
        # the Hub says it twice, in headers (huggingface_hub reads them) and in the body (hf_xet reads it)
        cas, token, expires = f"{self.hub.url}/cas", "xet-loopback-token", str(int(time.time()) + 3600)
        return 200, {"casUrl": cas, "accessToken": token, "exp": int(expires)}, {
            "X-Xet-Cas-Url": cas, "X-Xet-Access-Token": token, "X-Xet-Token-Expiration": expires}

    def _cas(self) -> tuple[int, Any, dict[str, str]]:
        raise HubError(403, "this loopback Hub has no Xet storage server")

    def _telemetry(self) -> tuple[int, Any, dict[str, str]]:
        return 200, {}, {}


def _tree_entries(files: dict[str, Blob], sub: str, recursive: bool) -> list[dict[str, Any]]:
    """The Hub's tree listing: files and folders under `sub`, direct children unless `recursive`."""
    prefix = f"{sub}/" if sub else ""
    below = {path: blob for path, blob in files.items() if path.startswith(prefix)}
    if sub and not below:
        raise HubError(404, f"{sub} does not exist", "EntryNotFound")
    folders: dict[str, list[str]] = {}
    entries: list[dict[str, Any]] = []
    for path, blob in sorted(below.items()):
        parts = path[len(prefix):].split("/")
        for depth in range(1, len(parts)):
            folders.setdefault(prefix + "/".join(parts[:depth]), []).append(f"{path} {blob.oid}")
        if recursive or len(parts) == 1:
            entry: dict[str, Any] = {"type": "file", "oid": blob.oid, "size": blob.size, "path": path}
            if blob.lfs_sha256 is not None:
                entry["lfs"] = {"oid": blob.lfs_sha256, "size": blob.size,
                                "pointerSize": len(lfs_pointer(blob.lfs_sha256, blob.size))}
            entries.append(entry)
    for folder, members in sorted(folders.items()):
        if recursive or "/" not in folder[len(prefix):]:
            tree_id = hashlib.sha1("\n".join(sorted(members)).encode()).hexdigest()
            entries.append({"type": "directory", "oid": tree_id, "size": 0, "path": folder})
    return entries


def _lfs_patterns(head: Commit) -> list[str]:
    attributes = head.files.get(".gitattributes")
    text = (attributes.content or b"").decode() if attributes else ""
    return [line.split()[0] for line in text.splitlines() if "filter=lfs" in line]


def _matches(path: str, pattern: str) -> bool:
    # git: a pattern without a slash matches the file name at any depth
    return fnmatch.fnmatch(path if "/" in pattern else path.rsplit("/", 1)[-1], pattern)


def _card_problems(content: str, repo_type: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) for a card: valid YAML mapping, and for datasets well-formed `configs`,
    `language` and `license`. The Hub checks more; these are the fields curate writes."""
    match = FRONT_MATTER.match(content)
    if match is None:
        return [], ["empty or missing yaml metadata in repo card"]
    try:
        header = yaml.safe_load(match.group(1))
    except yaml.YAMLError as e:
        return [f"Invalid YAML: {' '.join(str(e).split())}"], []
    if not isinstance(header, dict):
        return ["the YAML metadata must be a mapping"], []
    errors = []
    languages = header.get("language", [])
    for code in languages if isinstance(languages, list) else [languages]:
        if not isinstance(code, str) or not LANGUAGE_CODE.match(code):
            errors.append(f'"language" must be ISO 639 codes; got {code!r}')
    if "license" in header and not isinstance(header["license"], (str, list)):
        errors.append('"license" must be a string or a list of strings')
    if repo_type == "dataset":
        errors += _config_problems(header.get("configs"))
    return errors, []


def _config_problems(configs: Any) -> list[str]:
    if configs is None:
        return []
    if not isinstance(configs, list):
        return ['"configs" must be a list']
    errors, names = [], set()
    for index, config in enumerate(configs):
        name = config.get("config_name") if isinstance(config, dict) else None
        if not isinstance(name, str):
            errors.append(f'"configs[{index}].config_name" must be a string')
            continue
        if name in names:
            errors.append(f'"configs": the config name {name!r} appears twice')
        names.add(name)
        data_files = config.get("data_files")
        entries = data_files if isinstance(data_files, list) else [data_files]
        for entry in entries:
            path = entry.get("path") if isinstance(entry, dict) else entry
            if not (isinstance(path, str) or (isinstance(path, list) and all(isinstance(p, str) for p in path))):
                errors.append(f'"configs[{index}].data_files" must be paths or {{split, path}} entries')
    return errors
