"""Streaming readers: JSONL/JSON (.gz/.zst), Parquet, CSV/TSV, plain text, HTML/WARC and Hub datasets.

Nothing here reads a whole file into memory: lines are read with a byte bound, Parquet in
record batches, JSON arrays element by element. A record that cannot be used becomes a
quarantine entry (file, line, reason) and is counted; the run goes on. Only a missing input
path is fatal, and that is found before any work starts (`curation.inputs.expand_inputs`).
Web pages are read by `curation.web`, labelled records through prompt templates by `curation.templates`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import logging
import lzma
import os
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import fsspec
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard
from datatrove.data import Document

from curation import web
from curation.csv_rows import csv_rows, text_lines
from curation.errors import RecipeError, RecordError
from curation.inputs import SourceFile
from curation.recipe import InputSpec, Limits, WebSpec
from curation.steps import UNKNOWN_LANG, CountedStep
from curation.templates import TemplateSet, load_template_set, render_record

logger = logging.getLogger(__name__)

BINARY_SNIFF_BYTES = 8192
# What reading a damaged file raises. gzip and xz raise their decompressor's own error on corrupt data
# (zlib.error, LZMAError: neither is an OSError), and some of Arrow's errors on a damaged Parquet file
# are neither ValueError nor OSError (ArrowNotImplementedError, ArrowTypeError...).
UNREADABLE = (OSError, EOFError, ValueError, io.UnsupportedOperation, zstandard.ZstdError, zlib.error,
              lzma.LZMAError, pa.ArrowException)
EXCERPT_CHARS = 200
ROLE_ALIASES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "bot": "assistant",
                "model": "assistant", "system": "system"}


def detect_format(path: str, declared: str) -> str:
    if declared != "auto":
        return declared
    name = path.lower()
    for suffix in (".gz", ".zst", ".zstd", ".bz2", ".xz"):
        name = name.removesuffix(suffix)
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".json"):
        return "json"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    if name.endswith((".html", ".htm", ".xhtml")):
        return "html"
    if name.endswith(".warc"):
        return "warc"
    return "text"


def get_field(obj: dict[str, Any], dotted: str) -> Any:
    node: Any = obj
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def normalize_messages(raw: Any) -> list[dict[str, str]]:
    """[{role, content}] or ShareGPT [{from, value}] -> [{role, content}] with user/assistant/system roles."""
    if not isinstance(raw, list) or not raw:
        raise RecordError("bad_messages", "expected a non-empty list of turns")
    turns = []
    for turn in raw:
        if not isinstance(turn, dict):
            raise RecordError("bad_messages", "a turn is not an object")
        role = turn.get("role", turn.get("from"))
        content = turn.get("content", turn.get("value"))
        if not isinstance(role, str) or role.lower() not in ROLE_ALIASES:
            raise RecordError("bad_messages", f"unknown role {role!r}")
        if not isinstance(content, str) or not content.strip():
            raise RecordError("bad_messages", "a turn has no text")
        turns.append({"role": ROLE_ALIASES[role.lower()], "content": content.strip()})
    return turns


def instruction_messages(obj: dict[str, Any], spec: InputSpec) -> list[dict[str, str]]:
    """Alpaca-style {instruction, input, output} -> [user, assistant] turns."""
    prompt, response = get_field(obj, spec.prompt_key), get_field(obj, spec.response_key)
    extra = get_field(obj, spec.input_key) if spec.input_key else None
    if not isinstance(prompt, str) or not prompt.strip():
        raise RecordError("missing_prompt", f"no text in {spec.prompt_key!r}")
    if not isinstance(response, str) or not response.strip():
        raise RecordError("missing_response", f"no text in {spec.response_key!r}")
    if isinstance(extra, str) and extra.strip():
        prompt = f"{prompt.strip()}\n\n{extra.strip()}"
    return [{"role": "user", "content": prompt.strip()}, {"role": "assistant", "content": response.strip()}]


def json_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A record's other fields as the stages after the reader can write them: records pass between stages
    as JSON (orjson), so Parquet's bytes, decimals and durations, which JSON has no form for, become their
    str(), as they do in the output's `metadata` column. Fields nested deeper than orjson writes (254
    levels) are a bad_json record, not a failed stage."""
    try:
        return orjson.loads(orjson.dumps(fields, default=str))
    except orjson.JSONEncodeError as e:
        raise RecordError("bad_json", f"a field cannot be written as JSON ({e})") from None


def make_document(obj: Any, spec: InputSpec, source: str, line: int, limits: Limits,
                  messages: list[dict[str, str]] | None = None) -> Document:
    """Build one record from a parsed object, or raise RecordError naming what is wrong with it.
    `messages`: the chat turns when the caller made them (templates), the object's fields kept beside them."""
    if not isinstance(obj, dict):
        raise RecordError("not_an_object", type(obj).__name__)
    metadata: dict[str, Any] = {"source": f"{source}:{line}"}
    consumed = {spec.text_key.split(".")[0]}
    if messages is not None:
        text = "\n\n".join(t["content"] for t in messages)
        metadata["messages"] = messages
        consumed = set()
    elif spec.prompt_key:
        messages = instruction_messages(obj, spec)
        text = "\n\n".join(t["content"] for t in messages)
        metadata["messages"] = messages
        consumed |= {k.split(".")[0] for k in (spec.prompt_key, spec.response_key, spec.input_key) if k}
    elif spec.messages_key:
        messages = normalize_messages(get_field(obj, spec.messages_key))
        text = "\n\n".join(t["content"] for t in messages)
        metadata["messages"] = messages
        consumed.add(spec.messages_key.split(".")[0])
    else:
        text = get_field(obj, spec.text_key)
        if text is None:
            raise RecordError("missing_text", f"no field {spec.text_key!r}")
        if not isinstance(text, str):
            raise RecordError("text_not_string", type(text).__name__)
    text = text.replace("\r\n", "\n").strip()
    if len(text) < limits.min_text_chars:
        raise RecordError("empty_text")
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_doc_bytes:
        raise RecordError("too_large", f"over {limits.max_doc_bytes} bytes")
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise RecordError("bad_utf8", "invalid UTF-8 in text")
    if spec.id_key:
        consumed.add(spec.id_key.split(".")[0])
    extra = {k: v for k, v in obj.items() if k not in consumed}
    if extra:
        metadata["extra"] = json_fields(extra)
    return Document(text=text, id=record_id(obj, spec, source, line), metadata=metadata)


def record_id(obj: dict[str, Any], spec: InputSpec, source: str, line: int) -> str:
    """The record's `id_key` value, else `<file>:<line>`. An empty id is no id: datatrove's writer drops
    empty values, and the next stage would find none."""
    value = get_field(obj, spec.id_key) if spec.id_key else None
    return str(value) if value is not None and value != "" else f"{source}:{line}"


class _TooLarge:
    """Marker for a line that exceeded the byte bound (its bytes were skipped, never held)."""


def bounded_lines(fh: io.BufferedIOBase, max_bytes: int) -> Iterator[tuple[int, bytes | type[_TooLarge]]]:
    """(line number, raw line) pairs from the start of a file; a line over `max_bytes` is skipped in chunks
    and reported as _TooLarge. A UTF-8 BOM opening the file (Windows editors write one) is not text."""
    line_no = 0
    while True:
        line = fh.readline(max_bytes + 1)
        if not line:
            return
        line_no += 1
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while chunk := fh.readline(1 << 20):
                if chunk.endswith(b"\n"):
                    break
            yield line_no, _TooLarge
            continue
        yield line_no, line.removeprefix(codecs.BOM_UTF8) if line_no == 1 else line


def looks_binary(head: bytes) -> bool:
    """A NUL byte in the first block (and no UTF-16 BOM) means this is not a text file."""
    return b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


@contextlib.contextmanager
def open_binary(path: str) -> Iterator[io.BufferedIOBase]:
    """Open a local or remote file for reading bytes, decompressing by extension, with readline()."""
    if path.lower().endswith((".zst", ".zstd")):
        # fsspec's zstd file has no readline(); zstandard's stream reader wrapped in a buffer does.
        with fsspec.open(path, "rb") as raw:
            yield io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True))
        return
    with fsspec.open(path, "rb", compression="infer") as fh:
        yield fh


# What turns a parsed object into a record: (object, spec, file label, line, limits) -> Document, or RecordError.
RecordMaker = Callable[[Any, InputSpec, str, int, Limits], Document]


class SourceReader(CountedStep):
    """The first step of the curate stage: reads this task's share of the input files.

    Files are sharded across tasks as `files[rank::world_size]`. Each record is kept (a
    `Document` with `metadata["source"] = "<file>:<line>"`) or quarantined: written to
    `<quarantine_dir>/<rank>.jsonl` with file, line, reason and an excerpt, and counted.
    `scrub`, when given (a recipe with a `pii` step), redacts excerpts and details before they are
    written: an unreadable line's personal data must not survive in the quarantine either.
    `make_record` builds a record from a parsed object (default `make_document`); the
    decontamination index reads benchmark items through the same formats with its own.
    """

    name = "read"

    def __init__(self, inputs: list[InputSpec], files: list[SourceFile], quarantine_dir: str, limits: Limits,
                 scrub: Callable[[str], str] | None = None, make_record: RecordMaker = make_document):
        super().__init__()
        self.inputs = inputs
        self.files = files
        self.quarantine_dir = quarantine_dir
        self.limits = limits
        self.scrub = scrub
        self.make_record = make_record
        self._quarantine: io.TextIOBase | None = None
        self.template_sets: dict[int, TemplateSet] = {}  # by input index
        self._templates: TemplateSet | None = None  # the set of the input being read
        for index, spec in enumerate(inputs):
            if spec.templates is not None:
                try:
                    self.template_sets[index] = load_template_set(spec.templates)
                except RecipeError as e:
                    raise RecipeError(f"inputs[{index}].templates: {e}") from None

    # -- quarantine ---------------------------------------------------------------------------
    def _quarantine_entry(self, source: str, line: int, reason: str, detail: str = "", excerpt: bytes | str = b"") -> None:
        if isinstance(excerpt, bytes):
            excerpt = excerpt[: EXCERPT_CHARS * 4].decode("utf-8", "backslashreplace")
        if self.scrub is not None:  # before cutting: a value cut in two would no longer be recognised
            excerpt, detail = self.scrub(excerpt), self.scrub(detail)
        entry = {"file": source, "line": line, "reason": reason, "detail": detail, "excerpt": excerpt[:EXCERPT_CHARS]}
        self._quarantine.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.quarantine_record(UNKNOWN_LANG, reason)

    def _record(self, obj: Any, spec: InputSpec, source: str, line: int, raw: bytes | str) -> Iterator[Document]:
        try:
            docs = (self._templated(obj, spec, source, line) if spec.templates is not None
                    else [self.make_record(obj, spec, source, line, self.limits)])
        except RecordError as e:
            self._quarantine_entry(source, line, e.reason, e.detail, raw)
            return
        for doc in docs:
            yield self.keep_record(doc)

    def _templated(self, obj: Any, spec: InputSpec, source: str, line: int) -> list[Document]:
        """A labelled record through its input's templates: one chat record per template it drew (all or none)."""
        if not isinstance(obj, dict):
            raise RecordError("not_an_object", type(obj).__name__)
        base_id = record_id(obj, spec, source, line)
        docs = []
        for rendered in render_record(obj, self._templates, base_id):
            turns = [{"role": "user", "content": rendered.prompt}, {"role": "assistant", "content": rendered.answer}]
            doc = make_document(obj, spec, source, line, self.limits, messages=turns)
            doc.id = f"{base_id}#{rendered.template}"
            doc.metadata["template"] = rendered.template
            docs.append(doc)
        return docs

    # -- formats --------------------------------------------------------------------------------
    def _read_jsonl(self, fh, spec: InputSpec, source: str) -> Iterator[Document]:
        for line_no, raw in bounded_lines(fh, self.limits.max_doc_bytes):
            if raw is _TooLarge:
                self._quarantine_entry(source, line_no, "too_large", f"line over {self.limits.max_doc_bytes} bytes")
                continue
            if not raw.strip():
                continue  # blank lines are not records
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                self._quarantine_entry(source, line_no, "bad_utf8", str(e), raw)
                continue
            try:
                obj = orjson.loads(text)
            except orjson.JSONDecodeError as e:
                self._quarantine_entry(source, line_no, "bad_json", str(e).split(":")[0], raw)
                continue
            yield from self._record(obj, spec, source, line_no, raw)

    def _read_json_array(self, fh, spec: InputSpec, source: str) -> Iterator[Document]:
        """A JSON file holding one array of objects (Alpaca style), decoded element by element.

        json's decoder finds where an element ends; orjson decodes it, so an element is accepted exactly
        when the same object on a JSONL line would be (json alone takes lone surrogates, NaN and numbers
        past 64 bits, which the stages after this one cannot write)."""
        reader = io.TextIOWrapper(fh, encoding="utf-8-sig")
        decoder = json.JSONDecoder()
        buffer, pos, item, started = "", 0, 0, False
        while True:
            chunk = reader.read(1 << 16)
            buffer = buffer[pos:] + chunk
            pos = 0
            while True:
                while pos < len(buffer) and buffer[pos] in " \t\r\n,":
                    pos += 1
                if not started:
                    if pos < len(buffer) and buffer[pos] == "[":
                        started, pos = True, pos + 1
                        continue
                    if pos < len(buffer):
                        self._quarantine_entry(source, 1, "bad_json", "a .json file must hold one array of records")
                        return
                    break
                if pos < len(buffer) and buffer[pos] == "]":
                    return
                try:
                    _, end = decoder.raw_decode(buffer, pos)
                except RecursionError:  # nested deeper than json's decoder recurses: where it ends is unknown
                    self._quarantine_entry(source, item + 1, "bad_json", "nested too deep", buffer[pos:pos + 200])
                    return
                except json.JSONDecodeError:
                    if not chunk or len(buffer) - pos > self.limits.max_doc_bytes:
                        self._quarantine_entry(source, item + 1, "bad_json", "undecodable element", buffer[pos:pos + 200])
                        return
                    break  # need more data
                item += 1
                raw = buffer[pos:end]
                pos = end
                try:
                    obj = orjson.loads(raw)
                except orjson.JSONDecodeError as e:
                    self._quarantine_entry(source, item, "bad_json", str(e).split(":")[0], raw)
                    continue
                yield from self._record(obj, spec, source, item, raw)
            if not chunk:
                return

    def _read_parquet(self, fh, spec: InputSpec, source: str) -> Iterator[Document]:
        row = 0
        for batch in pq.ParquetFile(fh).iter_batches(batch_size=1024):
            for obj in batch.to_pylist():
                row += 1
                yield from self._record(obj, spec, source, row, "")

    def _read_csv(self, fh, spec: InputSpec, source: str) -> Iterator[Document]:
        """Rows by the line they start on; a damaged quote or a wrong field count is `bad_csv` (csv_rows)."""
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="surrogateescape", newline="")
        delimiter = spec.csv_delimiter or ("\t" if ".tsv" in source.lower() else ",")
        limit = self.limits.max_doc_bytes
        csv.field_size_limit(max(limit, csv.field_size_limit()))  # rows are bounded by csv_rows, not by csv
        for row in csv_rows(text_lines(text, limit), delimiter, limit):
            if row.values is None:
                # bytes again: a damaged row may hold invalid UTF-8, which the excerpt shows escaped
                self._quarantine_entry(source, row.line, row.reason, row.detail,
                                       row.excerpt.encode("utf-8", "surrogateescape"))
                continue
            if any(any("\udc80" <= ch <= "\udcff" for ch in v) for v in (*row.values, *row.values.values())):
                # the header's names too: they become the record's field names
                self._quarantine_entry(source, row.line, "bad_utf8", "invalid UTF-8 in the row or the header")
                continue
            yield from self._record(row.values, spec, source, row.line, "")

    def _read_text(self, fh, spec: InputSpec, source: str) -> Iterator[Document]:
        """Plain text: one record per paragraph (blank-line separated), per line, or per file."""
        limit = self.limits.max_doc_bytes
        parts: list[bytes] = []
        size, start_line, too_large = 0, 1, False

        def flush(end_line: int) -> Iterator[Document]:
            nonlocal parts, size, too_large
            raw = b"".join(parts)
            first = start_line
            parts, size, was_large, too_large = [], 0, too_large, False
            if was_large:
                self._quarantine_entry(source, first, "too_large", f"over {limit} bytes")
                return
            if not raw.strip():
                return
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                self._quarantine_entry(source, first, "bad_utf8", str(e), raw)
                return
            yield from self._record({"text": text}, spec.model_copy(update={"text_key": "text", "messages_key": None}),
                                    source, first, raw)

        line_no = 0
        for line_no, raw in bounded_lines(fh, limit):
            if raw is _TooLarge:
                too_large = True
                if spec.text_unit != "line":
                    continue
                raw = b""  # a line is its own record: flushed now as too_large, not carried into the next line's
            boundary = spec.text_unit == "line" or (spec.text_unit == "paragraph" and not raw.strip())
            if boundary:
                if spec.text_unit == "line":
                    parts.append(raw)
                yield from flush(line_no)
                start_line = line_no + 1
                continue
            if size + len(raw) > limit:
                too_large = True
                parts = []
            else:
                parts.append(raw)
            size += len(raw)
        yield from flush(line_no)

    def _read_hf(self, spec: InputSpec, source: str) -> Iterator[Document]:
        import datasets  # ~3 s to import: only Hub inputs pay for it
        stream = datasets.load_dataset(spec.hf, spec.hf_config, split=spec.split, streaming=True)
        for row_no, obj in enumerate(stream, start=1):
            yield from self._record(obj, spec, source, row_no, "")

    def _read_web(self, path: str, spec: InputSpec, fmt: str, label: str) -> Iterator[Document]:
        """HTML pages and WARC archives (curation.web): FAQ pairs become chat records, main text plain ones;
        broken markup is quarantined at its line (HTML) or record offset (WARC); the rest is tallied."""
        options = spec.web or WebSpec()
        as_records = spec.model_copy(update={"prompt_key": "question", "response_key": "answer", "input_key": None}
                                     if options.extract == "faq" else {"text_key": "text"})
        opened = fsspec.open(path, "rb") if fmt == "warc" else open_binary(path)  # warcio reads .warc.gz itself
        with opened as fh:
            read = web.read_warc if fmt == "warc" else web.read_html_file
            for item in read(fh, label, options, self.limits.max_doc_bytes):
                if item.tally:
                    self.stat_update(f"web/{item.tally}")
                elif item.error is not None:
                    self._quarantine_entry(label, item.position, item.error.reason, item.error.detail, item.excerpt)
                else:
                    yield from self._record(item.fields, as_records, item.url, item.position, "")

    # -- driver ---------------------------------------------------------------------------------
    def _read_file(self, entry: SourceFile) -> Iterator[Document]:
        spec = self.inputs[entry.input_index]
        self._templates = self.template_sets.get(entry.input_index)
        if entry.path.startswith("hf://"):
            yield from self._read_hf(spec, entry.path)
            return
        fmt = detect_format(entry.path, spec.format)
        try:
            if fmt in ("html", "warc"):  # no binary sniff: a WARC holds images and other binary payloads
                yield from self._read_web(entry.path, spec, fmt, entry.label)
                return
            with open_binary(entry.path) as fh:
                head = fh.read(BINARY_SNIFF_BYTES)
            if fmt != "parquet" and looks_binary(head):
                self._quarantine_entry(entry.label, 0, "binary_file", "not a text file", head[:64])
                return
            with open_binary(entry.path) as fh:
                if fmt == "json" and head.removeprefix(codecs.BOM_UTF8).lstrip()[:1] != b"[":
                    fmt = "jsonl"  # .json files holding one object per line
                reader = {"jsonl": self._read_jsonl, "json": self._read_json_array, "parquet": self._read_parquet,
                          "csv": self._read_csv, "text": self._read_text}[fmt]
                yield from reader(fh, spec, entry.label)
        except UNREADABLE as e:
            # A truncated archive or an unreadable file: what was read so far stands; the rest is one entry.
            logger.warning("%s: unreadable after some records (%s)", entry.path, e)
            self._quarantine_entry(entry.label, -1, "unreadable_file", f"{e.__class__.__name__}: {e}")

    def run(self, data=None, rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        if data:
            yield from data
        os.makedirs(self.quarantine_dir, exist_ok=True)
        with open(os.path.join(self.quarantine_dir, f"{rank:05d}.jsonl"), "w", encoding="utf-8") as self._quarantine:
            for entry in self.files[rank::world_size]:
                yield from self._read_file(entry)
