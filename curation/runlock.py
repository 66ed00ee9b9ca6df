"""One `curate run` at a time per output folder: an OS lock on `.curate/lock`, held by the CLI process.

Two runs into one folder would both run every stage over the same work files, and `--fresh` would
delete them under the other run. The lock is `flock` on the file, so the kernel drops it when its
holder exits however it exits (kill -9 too): a lock left behind never blocks the next run, and the
pid a dead run wrote is only reported. The file's text (pid, host, start time) says who holds it.

`flock` rather than POSIX record locks (`lockf`, what fasteners uses on Linux): a record lock is
dropped as soon as its process closes *any* descriptor of the file, so merely reading the holder's
text in the holding process would release it. The lock belongs to the CLI process, which waits for
every stage: the local executor's workers (forkserver) and Ray's tasks do not touch it. With Slurm
the CLI only submits the jobs, so the lock ends with the submission.

A flock belongs to the open file, which a forked child shares: datatrove's local executor forks a
Manager process that outlives a SIGKILLed `curate` (it is reparented, not killed), and with the file
it would keep the folder locked for good. So a forked child closes its copy at once (closing a copy
does not unlock; only the last close or LOCK_UN does), and the lock ends with the `curate` process.

Where the file system cannot lock (some network file systems refuse flock) the text decides: a run
named there whose pid is alive on this host, or any run on another host, holds the folder.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import time
from typing import IO, Any, Literal

from curation.errors import OutputInUseError
from curation.layout import RunLayout

# What a non-blocking flock raises while another process holds the lock; any other error means the
# file system cannot lock at all.
HELD_ELSEWHERE = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES)


_HELD: set[OutputLock] = set()  # the locks this process holds; a forked child drops its copies
_fork_hook = False


def _drop_in_forked_child() -> None:
    for lock in list(_HELD):
        lock._drop_copy()


class OutputLock:
    """The lock on one output folder. `acquire` raises OutputInUseError while another run holds it."""

    def __init__(self, layout: RunLayout):
        self.layout = layout
        self._file: IO[str] | None = None

    def acquire(self) -> str | None:
        """Take the folder for this process; returns a note when an earlier run's lock was left behind."""
        self.layout.work.mkdir(parents=True, exist_ok=True)
        handle = os.fdopen(os.open(self.layout.lock, os.O_RDWR | os.O_CREAT, 0o644), "r+", encoding="utf-8")
        state = _flock(handle)
        previous = _read_holder(handle)
        if state == "held" or (state == "unsupported" and previous and _holder_alive(previous)):
            handle.close()
            raise OutputInUseError(in_use_message(self.layout, previous))
        _write_holder(handle, {"pid": os.getpid(), "host": socket.gethostname(),
                               "started": time.strftime("%Y-%m-%d %H:%M:%S")})
        self._file = handle  # held open until release(): closing it would unlock
        _hold(self)
        if previous:
            return (f"{self.layout.output}: the run of pid {previous.get('pid')} on host {previous.get('host')} "
                    f"since {previous.get('started')} ended without releasing its lock; taking it over")
        return None

    def release(self) -> None:
        """Clear the holder's text (so the next run reports no leftover) and unlock."""
        if self._file is None:
            return
        with contextlib.suppress(OSError):
            self._file.truncate(0)
            self._file.flush()
            fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
        self._file = None
        _HELD.discard(self)

    def in_place(self) -> bool:
        """Is the held lock file still the one at `.curate/lock`? Not when the output folder was deleted
        (or moved, or unmounted) under the run: the work files then went with it."""
        if self._file is None:
            return False
        try:
            held, there = os.fstat(self._file.fileno()), os.stat(self.layout.lock)
        except OSError:
            return False
        return (held.st_dev, held.st_ino) == (there.st_dev, there.st_ino)

    def _drop_copy(self) -> None:
        """In a forked child: close the inherited descriptor without unlocking the parent's lock."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()  # nothing buffered (the holder's text was flushed): a plain close
            self._file = None
        _HELD.discard(self)

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class ObjectLock:
    """The lock of an output on object storage (`output: s3://...`): the object `.curate/lock`, created only
    where none exists (a conditional PUT, `If-None-Match: *`, which S3 and its look-alikes honour), holding
    the same text as the file lock. Nothing releases it when its holder dies: a lock of a dead process of
    this host is taken over, one of another host is reported with the command that removes it."""

    def __init__(self, layout: RunLayout):
        self.layout = layout
        self.remote = layout.remote
        self._text: bytes | None = None

    @property
    def _path(self) -> str:
        return self.remote.remote_path(self.layout.lock)

    def acquire(self) -> str | None:
        text = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                           "started": time.strftime("%Y-%m-%d %H:%M:%S")}).encode()
        note = None
        if not self._create(text):
            previous = self._holder()
            if previous and _holder_alive(previous):
                raise OutputInUseError(in_use_message(self.layout, previous) + (
                    f" (if that run is gone, delete {self.remote.url_of(self.layout.lock)})"
                    if previous.get("host") != socket.gethostname() else ""))
            with contextlib.suppress(FileNotFoundError):  # a dead run's lock: take it over
                self.remote.fs.rm(self._path)
            if not self._create(text):  # another run took it over first
                raise OutputInUseError(in_use_message(self.layout, self._holder()))
            note = (f"{self.layout.where}: the run of pid {previous.get('pid')} on host {previous.get('host')} "
                    f"since {previous.get('started')} ended without releasing its lock; taking it over")
        self._text = text
        return note

    def _create(self, text: bytes) -> bool:
        try:
            self.remote.fs.pipe_file(self._path, text, mode="create")
        except FileExistsError:
            return False
        return True

    def _holder(self) -> dict[str, Any]:
        try:
            holder = json.loads(self.remote.fs.cat_file(self._path) or b"{}")
        except FileNotFoundError:
            return {}
        except ValueError:
            return {"pid": "?", "host": "?", "started": "?"}
        return holder if isinstance(holder, dict) else {}

    def release(self) -> None:
        if self._text is not None and self.in_place():
            with contextlib.suppress(OSError):
                self.remote.fs.rm(self._path)
        self._text = None

    def in_place(self) -> bool:
        """Is the lock object still this run's (not deleted with the output under it)?"""
        try:
            return self._text is not None and self.remote.fs.cat_file(self._path) == self._text
        except OSError:
            return False


def output_lock(layout: RunLayout) -> OutputLock | ObjectLock:
    """The lock of an output: flock on a folder, a conditionally created object on a store."""
    return ObjectLock(layout) if layout.remote is not None else OutputLock(layout)


def _hold(lock: OutputLock) -> None:
    global _fork_hook
    _HELD.add(lock)
    if not _fork_hook:  # once per process, on the first lock taken (no import-time side effect)
        os.register_at_fork(after_in_child=_drop_in_forked_child)
        _fork_hook = True


def in_use_message(layout: RunLayout, holder: dict[str, Any]) -> str:
    """The one line a refused run prints; the holder may not have written its text yet."""
    who = (f"curate run pid {holder.get('pid')} on host {holder.get('host')} since {holder.get('started')}"
           if holder else "another curate run")
    return f"{layout.where} is in use by {who}; wait for it or stop it"


def _flock(handle: IO[str]) -> Literal["locked", "held", "unsupported"]:
    """Lock without waiting: locked, held by another process, or unsupported by the file system."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        return "held" if e.errno in HELD_ELSEWHERE else "unsupported"
    return "locked"


def _read_holder(handle: IO[str]) -> dict[str, Any]:
    """The holder's text; {} when there is none (released, or the holder has not written it yet)."""
    handle.seek(0)
    try:
        holder = json.loads(handle.read() or "{}")
    except ValueError:
        return {"pid": "?", "host": "?", "started": "?"}  # half-written or foreign: someone wrote it
    return holder if isinstance(holder, dict) else {}


def _write_holder(handle: IO[str], holder: dict[str, Any]) -> None:
    handle.seek(0)
    handle.truncate(0)
    handle.write(json.dumps(holder))
    handle.flush()


def _holder_alive(holder: dict[str, Any]) -> bool:
    """Without an OS lock: is the run the text names still there? Another host's pid cannot be checked."""
    if holder.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(holder["pid"]), 0)
    except (KeyError, ValueError, TypeError, ProcessLookupError):
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
