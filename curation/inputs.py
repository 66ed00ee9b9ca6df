"""Which files a recipe's inputs name, how records name them, and whether they changed since a run began.

`expand_inputs` turns globs, fsspec URLs and Hub ids into the sorted list of files the reader
shards across tasks; a missing input is one line, found before any work starts.
`input_identities` records what says a file is still the one a run read (resume refuses changed inputs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fsspec.core import url_to_fs

from curation.errors import InputError
from curation.recipe import InputSpec


@dataclass(frozen=True)
class SourceFile:
    """One unit of reading work: a file (or a whole Hub dataset) and the input spec it came from."""

    path: str
    input_index: int

    @property
    def label(self) -> str:
        """How records name their file: relative to the working directory when under it (no home paths in data)."""
        return path_label(self.path)


def path_label(path: str) -> str:
    """A path relative to the working directory when under it; URLs and other paths as they are. A file
    name that is not UTF-8 (its bytes decoded as surrogate escapes) shows them escaped (`\\xff`): the label
    is written into records and quarantine entries, which are UTF-8."""
    if "://" in path:
        return path
    try:
        label = str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        label = path
    return label.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def expand_inputs(inputs: list[InputSpec]) -> list[SourceFile]:
    """Resolve globs to a sorted file list; raise InputError (one line) for an input that matches nothing."""
    files: list[SourceFile] = []
    for index, spec in enumerate(inputs):
        if spec.hf is not None:
            files.append(SourceFile(f"hf://{spec.hf}", index))
            continue
        try:
            fs, _ = url_to_fs(spec.path)
            matches = sorted(fs.glob(spec.path)) if any(c in spec.path for c in "*?[") else [spec.path]
            matches = [m for m in matches if fs.isfile(m)]
        except (OSError, ValueError, ImportError) as e:
            raise InputError(f"inputs[{index}].path: cannot list {spec.path} ({e.__class__.__name__}: {e})") from None
        if not matches:
            raise InputError(f"inputs[{index}].path: no file matches {spec.path}")
        protocol = spec.path.split("://", 1)[0] + "://" if "://" in spec.path else ""
        files.extend(SourceFile(m if m.startswith(protocol) else protocol + m, index) for m in matches)
    return files


# What a remote file system's `info` may say about a file's version besides its size (s3fs, gcsfs, adlfs,
# HfFileSystem, memory spell them differently); whichever are present are recorded.
REMOTE_VERSION_KEYS = ("mtime", "LastModified", "last_modified", "updated", "created", "ETag", "etag", "md5Hash",
                       "generation", "VersionId", "blob_id")


def file_identity(path: str) -> dict[str, Any]:
    """What says a file is still the one a run read: size and modification time, as make and rsync judge
    it (hashing the content of large inputs would cost as much as reading them). Local files give
    nanosecond mtimes; remote ones what their file system's `info` gives (size, and mtime/etag if any)."""
    if "://" not in path or path.startswith("file://"):
        stat = os.stat(path.removeprefix("file://"))
        return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    fs, fs_path = url_to_fs(path)
    info = fs.info(fs_path)
    return {"size": info.get("size"), **{key: str(info[key]) for key in REMOTE_VERSION_KEYS if info.get(key)}}


def input_identities(inputs: list[InputSpec], files: list[SourceFile]) -> dict[str, dict[str, Any]]:
    """Each input file's identity (`file_identity`), by path. A Hub dataset (`hf:`) is streamed by
    `datasets`, not listed: it is recorded by name only, so a new revision of it is not noticed."""
    identities: dict[str, dict[str, Any]] = {}
    for entry in files:
        if inputs[entry.input_index].hf is not None:
            identities[entry.path] = {}
            continue
        try:
            identities[entry.path] = file_identity(entry.path)
        except (OSError, ValueError) as e:
            raise InputError(f"inputs[{entry.input_index}]: cannot stat {entry.path} "
                             f"({e.__class__.__name__}: {e})") from None
    return identities
