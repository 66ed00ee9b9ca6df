"""An output on object storage (`output: s3://bucket/run`, any fsspec URL): every task works in a local mirror.

The stages' code reads and writes local files (memory maps, SQLite, pyarrow, atomic renames: none of it
works on an object store), so a run whose output is a URL keeps its layout in a local **mirror** folder
(`output_storage.mirror`, on each machine that runs a task) and the store holds the run:

    a task     pulls what its stage reads (`reads(rank, world_size)` of its steps: its own rank's handoff
               file, the deciding stages' files, its decisions), runs, then pushes what it wrote, and only
               then does datatrove write its completion marker, which lives on the store with the task
               logs and stats (the executors' `logging_dir` is the store's). A task killed mid-way leaves
               nothing pushed that a completion vouches for, and a rerun on any machine redoes it.
    finalize   pushes the published files with `stats.json` last (it says a run is finished) and makes
               the store's `data/` equal to the mirror's (a rebuilt layout may have fewer shards).

"What it wrote" is what changed in the mirror while the task ran (new or modified files, by size, mtime
and inode), not `.partial` files (half-written) and not files some task pulled (they carry the mtime
`PULLED_MTIME_NS`, which no write gives). Tasks of one machine share the mirror, so a task may push a file
another is still writing; pushes on one machine take turns (a flock), so the owner's push, which reads
the finished file, always lands after. Uploads are whole objects (an S3 PUT replaces an object
atomically). A pull downloads to a temporary name and renames, so nothing reads half a download.

The mirror is a cache: a file is pulled again when the store's size differs; deleting the mirror is
always safe (a resume pulls what it needs; `--fresh` empties it).
"""

from __future__ import annotations

import contextlib
import fcntl
import fnmatch
import hashlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from datatrove.data import Document
from datatrove.io import DataFolder
from datatrove.pipeline.base import PipelineStep
from fsspec.core import url_to_fs

from curation.errors import RecipeError
from curation.faults import fault_point
from curation.layout import RunLayout

PULLED_MTIME_NS = 946_684_800 * 10**9  # 2000-01-01: the mark of a pulled file (never pushed back)
PUSH_LOCK = ".curate/mirror-push.lock"  # under the mirror: one machine's pushes take turns
# half-written files, local locks, and SQLite's side files: a database is pushed as one consistent snapshot
SKIPPED_SUFFIXES = (".partial", ".lock", "-wal", "-shm", "-journal")
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
LOCAL_ONLY = (".curate/logs/",)  # datatrove's logs are the store's already; console.log stays local
# Stores whose folders are only key prefixes: creating one is a no-op that s3fs still pays a request for
# (a bucket check) before each of datatrove's writes into a logging dir (~4 per task).
FOLDERLESS_PROTOCOLS = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss")


def is_url(output: str) -> bool:
    return "://" in output


def default_mirror(name: str, url: str) -> Path:
    """<temp dir>/curate-mirror/<name>-<8 hex of the URL>: one folder per output, the same on every run."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:8]
    return Path(tempfile.gettempdir()) / "curate-mirror" / f"{name}-{digest}"


def one_line(error: BaseException) -> str:
    """An fsspec/botocore error as one line: its first line, with the class when the text is empty."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


class RemoteOutput:
    """A run's output URL, the local mirror standing for it, and the moves between the two.

    Paths on the store are the mirror's, relative to the mirror root, under the URL. The file system
    is built where it is used (it does not pickle across processes with its connections).
    """

    def __init__(self, url: str, mirror: str | os.PathLike[str], storage_options: dict[str, Any] | None = None):
        self.url = url.rstrip("/")
        self.mirror = Path(mirror).absolute()
        # Every process lists what other processes wrote (completions, handoff files): a cached listing
        # would hide them, so listings are not cached unless the recipe says otherwise.
        self.storage_options = {"use_listings_cache": False, **(storage_options or {})}
        self._fs: Any = None
        self._root: str | None = None
        # The run's id (RUN_ID), once this process has started or resumed the run: its tasks, given the
        # pipeline after that, need not each read it from the store again.
        self.run_id: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_fs": None, "_root": None}

    def __repr__(self) -> str:
        return f"RemoteOutput({self.url!r}, mirror={str(self.mirror)!r})"

    # ------------------------------------------------------------------ paths

    @property
    def fs(self) -> Any:
        if self._fs is None:
            try:
                self._fs, self._root = url_to_fs(self.url, **self.storage_options)
            except (ImportError, ValueError) as e:  # no backend for the protocol (s3 needs s3fs)
                raise RecipeError(f"output {self.url}: {one_line(e)}") from None
        return self._fs

    @property
    def root(self) -> str:
        self.fs  # noqa: B018 (sets _root)
        return str(self._root).rstrip("/")

    def relative(self, local: str | os.PathLike[str]) -> str:
        """A mirror path as the run's relative path (`.curate/docs/00000.jsonl.gz`)."""
        return Path(local).absolute().relative_to(self.mirror).as_posix()

    def remote_path(self, local: str | os.PathLike[str]) -> str:
        return f"{self.root}/{self.relative(local)}"

    def url_of(self, local: str | os.PathLike[str]) -> str:
        """The URL of a mirror path (what datatrove's logging dir is given)."""
        relative = self.relative(local)
        return self.url if relative == "." else f"{self.url}/{relative}"

    def logging_dir(self, local_logs: str | os.PathLike[str]) -> DataFolder:
        """A stage's datatrove logging dir on the store: completions, stats and task logs live there,
        so a resume from any machine sees which tasks finished."""
        folderless = self.url.split("://", 1)[0] in FOLDERLESS_PROTOCOLS
        return DataFolder(self.url_of(local_logs), auto_mkdir=not folderless, **self.storage_options)

    # ------------------------------------------------------------------ pull

    def pull(self, patterns: Iterable[str | os.PathLike[str]]) -> int:
        """Download the store's files matching mirror paths or globs (`*` crosses folders) that the
        mirror lacks or holds with another size; returns how many were downloaded."""
        wanted: dict[str, int] = {}
        for pattern in patterns:
            wanted.update(self._matching(str(pattern)))
        todo = [(remote, self.mirror / rel) for rel, size in sorted(wanted.items())
                for remote in [f"{self.root}/{rel}"] if _size(self.mirror / rel) != size]
        if not todo:
            return 0
        temporary = [local.with_name(f"{local.name}.pulling-{os.getpid()}") for _, local in todo]
        for path in temporary:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.fs.get([remote for remote, _ in todo], [str(t) for t in temporary])
        for (_, local), temp in zip(todo, temporary, strict=True):
            os.utime(temp, ns=(PULLED_MTIME_NS, PULLED_MTIME_NS))
            for side in SQLITE_SIDE_FILES:  # a local database's journal must not be replayed into the store's
                Path(f"{local}{side}").unlink(missing_ok=True)
            os.replace(temp, local)
        return len(todo)

    def _matching(self, pattern: str) -> dict[str, int]:
        """Relative path -> size of the store's files matching one mirror path or glob."""
        relative = self.relative(pattern)
        if not any(ch in relative for ch in "*?["):
            try:
                info = self.fs.info(f"{self.root}/{relative}")
            except FileNotFoundError:  # e.g. a task whose records were all dropped wrote no handoff file
                return {}
            return {relative: int(info["size"])} if info.get("type") == "file" else {}
        fixed = relative.split("*")[0].split("?")[0].split("[")[0].rpartition("/")[0]
        found = self._listing(fixed)
        return {rel: size for rel, size in found.items() if fnmatch.fnmatchcase(rel, relative)}

    def _listing(self, folder: str) -> dict[str, int]:
        """Every file under a relative folder of the store, with its size."""
        base = f"{self.root}/{folder}".rstrip("/")
        try:
            entries = self.fs.find(base, detail=True)
        except FileNotFoundError:
            return {}
        prefix = self.root + "/"
        return {name.removeprefix(prefix): int(info["size"]) for name, info in entries.items()
                if info.get("type") == "file" and name.startswith(prefix)}

    # ------------------------------------------------------------------ push

    def snapshot(self) -> dict[str, tuple[int, int, int]]:
        """Relative path -> (size, mtime_ns, inode) of every file in the mirror."""
        state: dict[str, tuple[int, int, int]] = {}
        for folder, _, names in os.walk(self.mirror):
            for name in names:
                path = os.path.join(folder, name)
                with contextlib.suppress(FileNotFoundError):  # renamed or deleted while we walk
                    st = os.stat(path)
                    state[os.path.relpath(path, self.mirror)] = (st.st_size, st.st_mtime_ns, st.st_ino)
        return state

    def written_since(self, before: dict[str, tuple[int, int, int]]) -> list[str]:
        """The mirror's files a task wrote since `before` (its snapshot at the start), relative paths."""
        written = []
        for rel, state in self.snapshot().items():
            if state == before.get(rel) or state[1] == PULLED_MTIME_NS:
                continue
            if rel.endswith(SKIPPED_SUFFIXES) or ".pulling-" in rel or rel.startswith(LOCAL_ONLY):
                continue
            written.append(rel)
        return sorted(written)

    def push(self, relatives: Iterable[str], last: Iterable[str] = ()) -> int:
        """Upload mirror files (relative paths), then the ones in `last` (each after all the others):
        whole objects, one machine's pushes taking turns. Returns how many were uploaded."""
        first = [rel for rel in relatives if rel not in set(last)]
        ordered = [first, *[[rel] for rel in last if (self.mirror / rel).is_file()]]
        count = 0
        with self._push_turn(), tempfile.TemporaryDirectory(prefix="curate-push-") as scratch:  # not in the mirror
            for batch in ordered:
                sources = {rel: _upload_source(self.mirror / rel, Path(scratch)) for rel in batch}
                sources = {rel: source for rel, source in sources.items() if source is not None}
                if sources:
                    self.fs.put([str(p) for p in sources.values()], [f"{self.root}/{rel}" for rel in sources])
                    count += len(sources)
                    fault_point("mirror/pushed")
        return count

    @contextlib.contextmanager
    def _push_turn(self) -> Iterator[None]:
        lock = self.mirror / PUSH_LOCK
        lock.parent.mkdir(parents=True, exist_ok=True)
        with open(lock, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def mirror_folder(self, local_folder: str | os.PathLike[str]) -> None:
        """Make the store's copy of a folder the mirror's: upload every file, delete what the mirror lacks."""
        relative = self.relative(local_folder)
        local = {p.relative_to(self.mirror).as_posix() for p in Path(local_folder).rglob("*") if p.is_file()}
        stale = [f"{self.root}/{rel}" for rel in self._listing(relative) if rel not in local]
        if stale:
            self.fs.rm(stale)
        self.push(sorted(local))

    # ------------------------------------------------------------------ the run as a whole

    def delete(self, relatives: Iterable[str], keep: Iterable[str] = ()) -> None:
        """Delete relative paths (files, or folders with everything under them) from the store, but `keep`."""
        doomed: set[str] = set()
        for rel in relatives:
            doomed.update(self._listing(rel))
            if self.fs.isfile(f"{self.root}/{rel}"):
                doomed.add(rel)
        doomed -= set(keep)
        if doomed:
            self.fs.rm([f"{self.root}/{rel}" for rel in sorted(doomed)])

    def check_writable(self) -> None:
        """Write and delete one object now, so a wrong endpoint, bucket or credential is one line (exit 2)
        before any work, not a traceback from the first task."""
        probe = f"{self.root}/.curate/write-probe-{os.getpid()}"
        try:
            self.fs.pipe_file(probe, b"curate")
            self.fs.rm(probe)
        except RecipeError:
            raise
        except Exception as e:  # botocore, aiohttp and fsspec each raise their own: all are "cannot write"
            raise RecipeError(f"cannot write the output {self.url}: {one_line(e)}") from None


def _upload_source(path: Path, scratch: Path) -> Path | None:
    """What to upload for a mirror file: the file itself; for an SQLite database (the request cache, which a
    task may still hold open with a write-ahead log beside it) a consistent copy made by SQLite's backup;
    None when the file is gone (a task's temporary file)."""
    if not path.is_file():
        return None
    if path.suffix not in (".sqlite", ".db"):
        return path
    copy = scratch / f"{path.name}.{len(list(scratch.iterdir()))}"
    source, target = sqlite3.connect(path), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return copy


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


# ---------------------------------------------------------------------- the steps around a stage


class MirrorPull(PipelineStep):
    """First step of a task when the output is a URL: pulls what the stage's steps read, before any of
    them starts (`__call__`, not the lazy `run`: steps set up before their first record), and takes the
    snapshot that `MirrorPush` compares with."""

    type = "mirror"
    name = "pull"

    def __init__(self, remote: RemoteOutput, steps: list[PipelineStep], extra_reads: list[str] | None = None):
        super().__init__()
        self.remote = remote
        self.steps = steps
        self.extra_reads = list(extra_reads or [])
        self.before: dict[str, tuple[int, int, int]] = {}

    def reads(self, rank: int, world_size: int) -> list[str]:
        """What the stage's steps read that earlier stages wrote (each step's own `reads`)."""
        wanted = list(self.extra_reads)
        for step in self.steps:
            if hasattr(step, "reads"):
                wanted += step.reads(rank, world_size)
        return wanted

    def __call__(self, data: Any = None, rank: int = 0, world_size: int = 1) -> Any:
        claim_mirror(self.remote)
        self.stat_update("pulled_files", value=self.remote.pull(self.reads(rank, world_size)))
        self.before = self.remote.snapshot()
        return data

    def run(self, data: Any = None, rank: int = 0, world_size: int = 1) -> Any:
        return self(data, rank, world_size)


class MirrorPush(PipelineStep):
    """Last step of a task when the output is a URL: once every record has passed (the steps before it
    have closed their files), pushes what the task wrote; datatrove marks the task complete after."""

    type = "mirror"
    name = "push"

    def __init__(self, pull: MirrorPull, mirrored: list[str] | None = None, last: list[str] | None = None):
        super().__init__()
        self.pull = pull
        self.mirrored = list(mirrored or [])  # folders the store must hold exactly as the mirror does
        self.last = list(last or [])  # relative paths pushed after everything else (stats.json)

    def run(self, data: Iterable[Document] | None = None, rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        if data is not None:
            yield from data
        remote = self.pull.remote
        written = remote.written_since(self.pull.before)
        for folder in self.mirrored:
            remote.mirror_folder(remote.mirror / folder)
            written = [rel for rel in written if not rel.startswith(folder.rstrip("/") + "/")]
        self.stat_update("pushed_files", value=remote.push(written, last=self.last))


def mirrored_pipeline(pipeline: list[PipelineStep], remote: RemoteOutput, extra_reads: list[str] | None = None,
                      mirrored: list[str] | None = None, last: list[str] | None = None) -> list[PipelineStep]:
    """A stage's pipeline between a pull and a push."""
    pull = MirrorPull(remote, pipeline, extra_reads)
    return [pull, *pipeline, MirrorPush(pull, mirrored, last)]


def output_layout(output: str, name: str, mirror: str | None = None,
                  storage_options: dict[str, Any] | None = None) -> RunLayout:
    """The RunLayout of an output: the folder itself, or, for a URL, its mirror with the RemoteOutput."""
    if not is_url(output):
        return RunLayout(Path(output))
    folder = Path(mirror).absolute() if mirror else default_mirror(name, output)
    return RunLayout(folder, RemoteOutput(output, folder, storage_options))


def recipe_layout(recipe: Any) -> RunLayout:
    """The RunLayout of a recipe's output (`output` and `output_storage`)."""
    storage = recipe.output_storage
    return output_layout(recipe.output, recipe.name, storage.mirror, storage.storage_options)


# ---------------------------------------------------------------------- which run a mirror holds

RUN_ID = ".curate/run_id"  # a new id per run (a first run, or --fresh); resumes keep it


def claim_mirror(remote: RemoteOutput) -> None:
    """Make the mirror this run's: a mirror that holds another run's files (an earlier `--fresh`, another
    recipe, changed inputs, on this machine or a node) is emptied first, since a pull trusts a file of the
    right size. The tasks of one machine check in turn, so only the first empties it."""
    remote.mirror.mkdir(parents=True, exist_ok=True)
    with remote._push_turn():
        run_id = remote.run_id or remote.fs.cat_file(f"{remote.root}/{RUN_ID}").decode()
        local = remote.mirror / RUN_ID
        if local.is_file() and local.read_text() == run_id:
            return
        empty_mirror(remote)
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text(run_id)


def empty_mirror(remote: RemoteOutput) -> None:
    """Delete the mirror's files but its lock (held by the caller)."""
    for entry in remote.mirror.iterdir() if remote.mirror.exists() else []:
        if entry.name == ".curate":
            for inner in entry.iterdir():
                if inner.name != Path(PUSH_LOCK).name:
                    shutil.rmtree(inner) if inner.is_dir() and not inner.is_symlink() else inner.unlink()
        elif entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


# ---------------------------------------------------------------------- what the CLI reads of a run

PUBLISHED = ("stats.json", "README.md", "report.html", "recipe.resolved.yaml")


def completed_tasks(layout: RunLayout, stage: str) -> int:
    """How many tasks of a stage have finished (datatrove's completion files, wherever the logs live)."""
    folder = layout.logs(stage) / "completions"
    if layout.remote is None:
        return len(list(folder.iterdir())) if folder.exists() else 0
    return len(layout.remote._listing(layout.remote.relative(folder)))


def pull_published(layout: RunLayout, with_data: bool = True) -> None:
    """Bring a finished run's published files (stats.json, card, report, resolved recipe, and data/) into
    the mirror: what `curate push`, `curate train` and `curate report` read."""
    remote = layout.remote
    wanted = [str(layout.output / name) for name in PUBLISHED]
    remote.pull([*wanted, str(layout.output / "data" / "*")] if with_data else wanted)


def push_training(layout: RunLayout) -> None:
    """After training in the mirror: the adapters and metrics (train/) and stats.json, which records them."""
    remote = layout.remote
    train = layout.output / "train"
    written = [p.relative_to(remote.mirror).as_posix() for p in train.rglob("*") if p.is_file()]
    remote.push(written, last=[remote.relative(layout.stats)])


def command_layout(output: str) -> RunLayout:
    """The layout a command given an output (a folder, or a run's URL) works on. A URL's published files are
    pulled into its default mirror first; its file system's options come from the environment
    (AWS_ENDPOINT_URL, AWS_PROFILE...), since the recipe is not at hand."""
    if not is_url(output):
        return output_layout(output, "")
    layout = output_layout(output, "pulled")
    shutil.rmtree(layout.output / "data", ignore_errors=True)  # an earlier pull's shards may be gone since
    try:
        remote = layout.remote
        if not remote.fs.isfile(remote.remote_path(layout.stats)):
            raise RecipeError(f"{output}: no stats.json (not a curate output, or its run has not finished)")
        pull_published(layout)
    except RecipeError:
        raise
    except Exception as e:  # the store's own errors, as one line
        raise RecipeError(f"cannot read the output {output}: {one_line(e)}") from None
    return layout
