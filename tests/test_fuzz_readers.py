"""Fuzzed input for the readers: whatever a file holds, nothing escapes as an exception.

Each test writes hypothesis-made files into tmp_path and reads them with `SourceReader`, as the
curate stage does. Three things must hold for every file:

- the books balance: `in == kept + quarantined`, each kept record came out, each quarantined one
  has an entry, and where the file's records can be counted without the reader (lines, paragraphs,
  intact CSV rows and JSON arrays, Parquet rows) `in` is that count: nothing lost, nothing twice;
- damage is an entry: a truncated or corrupt archive ends in one `unreadable_file` entry, last;
- every record read can be written by the stages after it: the handoff between stages
  (datatrove's JsonlWriter, read back by IntermediateReader) and a Parquet shard row.

Settings are in tests/fuzzing.py (fixed seed; CURATE_FUZZ_EXAMPLES runs more). The end of the file
runs `curate run` itself on a few fuzzed files and checks stats.json's accounting.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import datetime
import gzip
import io
import json
import lzma
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from datatrove.data import Document
from hypothesis import given
from hypothesis import strategies as st

from curation.compile import IntermediateReader, _handoff_writer
from curation.inputs import SourceFile
from curation.readers import BINARY_SNIFF_BYTES, SourceReader, looks_binary
from curation.recipe import InputSpec, Limits
from curation.shards import SHARD_SCHEMA, document_to_row
from tests.conftest import load_stats, run_cli, step_stats, write_recipe
from tests.fuzzing import example_dir, fuzz_settings, odd_text

COMPRESS = {"": lambda b: b, ".gz": gzip.compress, ".zst": zstandard.ZstdCompressor().compress,
            ".bz2": bz2.compress, ".xz": lzma.compress}
LIMITS = [8, 64, 2_000_000]  # max_doc_bytes: most lines too large, some, none


# -- reading one file and checking the books ----------------------------------------------------------

@dataclass
class Read:
    docs: list[Document]
    entries: list[dict[str, Any]]
    counts: Counter  # in, kept, quarantined


def read_file(path: Path, max_doc_bytes: int = 2_000_000, **spec: Any) -> Read:
    """Read one file as the curate stage does; its records, its quarantine entries and the step's counters."""
    quarantine = path.parent / "quarantine"
    reader = SourceReader([InputSpec(path=str(path), **spec)], [SourceFile(str(path), 0)], str(quarantine),
                          Limits(max_doc_bytes=max_doc_bytes))
    docs = list(reader.run(None, 0, 1))
    # split at \n only: an excerpt may hold U+0085 or U+2028, which str.splitlines also splits at
    lines = (quarantine / "00000.jsonl").read_text(encoding="utf-8").split("\n")[:-1]
    counts: Counter = Counter()
    for key, metric in reader.stats.stats.items():
        counts[key.split("/")[0]] += metric.total
    return Read(docs, [json.loads(line) for line in lines], counts)


def assert_accounted(read: Read, expected_in: int | None = None) -> None:
    """The books balance, damage is one entry at the end, and (where known) `in` is the file's record count."""
    assert read.counts["in"] == read.counts["kept"] + read.counts["quarantined"]
    assert (read.counts["kept"], read.counts["quarantined"]) == (len(read.docs), len(read.entries))
    unreadable = [i for i, e in enumerate(read.entries) if e["reason"] == "unreadable_file"]
    assert unreadable in ([], [len(read.entries) - 1]), read.entries
    if expected_in is not None:
        assert read.counts["in"] == expected_in, read.entries


def assert_writable(docs: list[Document], folder: Path) -> None:
    """What the next stages do with each record: hand it to the next stage and write it as a shard row."""
    writer = _handoff_writer(folder)
    for doc in docs:
        writer.write(doc, rank=0)
    writer.close()
    back = list(IntermediateReader(str(folder)).run(rank=0))
    assert [(d.id, d.text) for d in back] == [(d.id, d.text) for d in docs]
    pa.Table.from_pylist([document_to_row(d) for d in back], schema=SHARD_SCHEMA)


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(COMPRESS[next((s for s in COMPRESS if s and name.endswith(s)), "")](data))
    return path


# -- what a file of lines holds, counted without the reader -----------------------------------------------

def holds_record(line: bytes, max_bytes: int, first: bool) -> bool:
    """A line longer than the byte bound is a record (a too_large entry); else one with non-space bytes is
    (a UTF-8 BOM opening the file is not text)."""
    if len(line) > max_bytes:
        return True
    return bool((line.removeprefix(codecs.BOM_UTF8) if first else line).strip())


def line_marks(data: bytes, max_bytes: int) -> list[bool]:
    """For each line of `data` (split at \\n, as the readers split), whether it holds a record."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [holds_record(line, max_bytes, i == 0) for i, line in enumerate(lines)]


def expected_records(data: bytes, max_bytes: int, unit: str) -> int:
    """Records in a JSONL or text file: one per line, per paragraph (a run of lines with records) or per file
    (a file over the byte bound is one too_large entry, blank or not: its bytes were never held to look)."""
    if looks_binary(data[:BINARY_SNIFF_BYTES]):
        return 1  # one binary_file entry
    marks = line_marks(data, max_bytes)
    if unit == "paragraph":
        return sum(1 for i, mark in enumerate(marks) if mark and (i == 0 or not marks[i - 1]))
    if unit == "file":
        return int(any(marks) or len(data.removeprefix(codecs.BOM_UTF8)) > max_bytes)
    return sum(marks)


# -- strategies: lines -----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | odd_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=8,
)
records = st.fixed_dictionaries({}, optional={"text": odd_text | json_values, "id": json_values,
                                              "meta": json_values})
# JSON that parsers disagree on or that cannot be written back: lone surrogates, numbers past a
# double or past 64 bits, NaN, NUL, nesting deeper than a writer recurses.
ODD_JSON = ['"\\ud800"', '"a\\udfff\\ud800b"', "1" + "0" * 30, "-" + "9" * 25, "1e400", "NaN", "-Infinity",
            '"\\u0000x"', "[" * 300 + "]" * 300, '{"a":' * 300 + "1" + "}" * 300, "[" * 1500 + "]" * 1500]


@st.composite
def odd_field_line(draw) -> str:
    """A record with one field set to something from ODD_JSON."""
    key = draw(st.sampled_from(["text", "id", "x", "\\ud800"]))
    odd = draw(st.sampled_from(ODD_JSON))
    text = "" if key == "text" else '"text": "Mvua kubwa", '
    return "{" + text + f'"{key}": {odd}' + "}"


@st.composite
def damaged(draw, line: str) -> bytes:
    """A line cut short, with bytes spliced in (invalid UTF-8, NUL, a quote, a newline), or both."""
    data = line.encode("utf-8", "surrogatepass")
    cut = draw(st.integers(0, len(data)))
    splice = draw(st.binary(max_size=4) | st.sampled_from([b"\xff", b"\xc3", b"\x00", b'"', b"\\", b"\r"]))
    return data[:cut] + splice + (data[cut:] if draw(st.booleans()) else b"")


json_lines = st.one_of(
    st.builds(lambda r, ascii_: json.dumps(r, ensure_ascii=ascii_).encode(), records, st.booleans()),
    odd_field_line().map(str.encode),
    records.map(json.dumps).flatmap(damaged),
    st.binary(max_size=40),
)
text_lines = st.one_of(odd_text.map(lambda t: t.encode("utf-8")), st.binary(max_size=30),
                       st.sampled_from([b"", b"  ", b"\r", b"\t\x0b"]))


@st.composite
def line_file(draw, lines: st.SearchStrategy[bytes]) -> bytes:
    """Lines joined by \\n or \\r\\n, with blank lines among them, maybe a BOM, maybe no final newline."""
    parts = draw(st.lists(lines | st.just(b""), max_size=12))
    data = draw(st.sampled_from([b"\n", b"\r\n"])).join(parts)
    if parts and draw(st.booleans()):
        data += b"\n"
    if draw(st.booleans()):
        data = codecs.BOM_UTF8 + data
    return data


# -- JSONL and plain text --------------------------------------------------------------------------------

@fuzz_settings(150)
@given(data=line_file(json_lines), suffix=st.sampled_from(list(COMPRESS)), max_bytes=st.sampled_from(LIMITS))
def test_jsonl_every_line_is_a_record_or_an_entry(tmp_path, data, suffix, max_bytes):
    folder = example_dir(tmp_path)
    read = read_file(write(folder, f"in.jsonl{suffix}", data), max_bytes)
    assert_accounted(read, expected_records(data, max_bytes, "line"))
    assert_writable(read.docs, folder / "handoff")


@fuzz_settings(150)
@given(data=line_file(text_lines), unit=st.sampled_from(["paragraph", "line", "file"]),
       suffix=st.sampled_from(list(COMPRESS)), max_bytes=st.sampled_from(LIMITS))
def test_text_every_unit_is_a_record_or_an_entry(tmp_path, data, unit, suffix, max_bytes):
    folder = example_dir(tmp_path)
    read = read_file(write(folder, f"in.txt{suffix}", data), max_bytes, text_unit=unit)
    assert_accounted(read, expected_records(data, max_bytes, unit))
    assert_writable(read.docs, folder / "handoff")


@fuzz_settings(60)
@given(data=line_file(json_lines), suffix=st.sampled_from([".gz", ".zst", ".bz2", ".xz"]),
       damage=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), min_size=1, max_size=3),
       cut=st.floats(0, 1))
def test_damaged_archives_keep_what_was_read(tmp_path, data, suffix, damage, cut):
    """Flipped bytes and a cut anywhere in a compressed file: no exception, at most one unreadable_file."""
    packed = bytearray(COMPRESS[suffix](data * 20))
    for where, flip in damage:
        packed[int(where * (len(packed) - 1))] ^= flip
    folder = example_dir(tmp_path)
    path = folder / f"in.jsonl{suffix}"
    path.write_bytes(bytes(packed[: max(1, int(cut * len(packed)))]))
    read = read_file(path)
    assert_accounted(read)
    assert_writable(read.docs, folder / "handoff")


# -- JSON arrays -----------------------------------------------------------------------------------------

def parses(element: str) -> bool:
    try:
        json.loads(element)
        return True
    except (ValueError, RecursionError):
        return False


@fuzz_settings(100)
@given(elements=st.lists(records.map(json.dumps) | odd_field_line() | json_values.map(json.dumps), max_size=6),
       indent=st.sampled_from(["", "\n", "\n  "]), bom=st.booleans(), cut=st.none() | st.floats(0, 1))
def test_json_array_every_element_is_a_record_or_an_entry(tmp_path, elements, indent, bom, cut):
    text = "[" + indent + ("," + indent).join(elements) + indent + "]"
    data = (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8", "surrogatepass")
    if cut is not None:
        data = data[: int(cut * len(data))]
    folder = example_dir(tmp_path)
    read = read_file(write(folder, "in.json", data))
    intact = cut is None and all(parses(e) for e in elements)
    assert_accounted(read, len(elements) if intact else None)
    assert_writable(read.docs, folder / "handoff")


# -- CSV / TSV -------------------------------------------------------------------------------------------

ids = st.from_regex(r"[a-z0-9][a-z0-9-]{0,7}", fullmatch=True)
cells = odd_text.map(lambda t: t.replace("\x00", ""))  # a NUL makes the whole file binary_file, by design


@fuzz_settings(100)
@given(rows=st.lists(st.tuples(ids, cells, cells), max_size=6), delimiter=st.sampled_from([",", "\t", ";"]),
       line_end=st.sampled_from(["\n", "\r\n"]), bom=st.booleans())
def test_csv_written_by_the_csv_module_reads_back(tmp_path, rows, delimiter, line_end, bom):
    """Rows a CSV writer wrote, whatever their text, are read back whole, each as one record or entry."""
    if line_end == "\n":  # the writer then leaves a lone \r unquoted, which every CSV reader takes as a line end
        rows = [tuple(cell.replace("\r", "") for cell in row) for row in rows]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=line_end).writerows([("id", "text", "note"), *rows])
    folder = example_dir(tmp_path)
    path = folder / "in.csv"
    path.write_bytes(out.getvalue().encode("utf-8-sig" if bom else "utf-8"))
    read = read_file(path, id_key="id", csv_delimiter=delimiter)
    assert_accounted(read, len(rows))
    wanted = [(i, t.replace("\r\n", "\n").strip()) for i, t, _ in rows]
    assert [(d.id, d.text) for d in read.docs] == [(i, t) for i, t in wanted if t]
    assert {e["reason"] for e in read.entries} <= {"empty_text"}
    assert_writable(read.docs, folder / "handoff")


CSV_TOKENS = [b'"', b'""', b",", b"\t", b";", b"\n", b"\r\n", b"\r", b" ", b"id", b"text", b"a-1", b"b2",
              "Ọjà".encode(), "हिजो".encode(), b"\xff", b"\xc3", b"\x00", codecs.BOM_UTF8]


def physical_lines(data: bytes) -> int:
    """Lines as the CSV reader numbers them (\\n, \\r\\n and \\r all end one)."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", errors="surrogateescape", newline="")
    return len(text.readlines())


@fuzz_settings(150)
@given(header=st.sampled_from([b"", b"id,text\n", b"id\ttext\r\n", b'"id","text","x"\n', b"text\n"]),
       tokens=st.lists(st.sampled_from(CSV_TOKENS) | st.binary(max_size=3), max_size=40),
       delimiter=st.sampled_from([None, ",", "\t", ";"]), suffix=st.sampled_from([".csv", ".tsv", ".csv.gz"]),
       max_bytes=st.sampled_from(LIMITS))
def test_csv_any_bytes_each_line_counted_once(tmp_path, header, tokens, delimiter, suffix, max_bytes):
    """Random quotes, delimiters, line ends and bytes: each record or entry names its own line."""
    data = header + b"".join(tokens)
    folder = example_dir(tmp_path)
    read = read_file(write(folder, f"in{suffix}", data), max_bytes, id_key="id", csv_delimiter=delimiter)
    assert_accounted(read)
    if looks_binary(data[:BINARY_SNIFF_BYTES]):
        return
    lines = [int(d.metadata["source"].rsplit(":", 1)[1]) for d in read.docs]
    lines += [e["line"] for e in read.entries if e["reason"] != "unreadable_file"]
    assert len(set(lines)) == len(lines), read.entries  # no row counted twice
    assert all(1 <= line <= physical_lines(data) for line in lines)
    assert_writable(read.docs, folder / "handoff")


# -- Parquet ---------------------------------------------------------------------------------------------

# Column types a Parquet file in the wild may hold, with values for them.
COLUMNS = {
    "string": (pa.string(), odd_text),
    "large_string": (pa.large_string(), odd_text),
    "binary": (pa.binary(), st.binary(max_size=8)),
    "int64": (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "uint64": (pa.uint64(), st.integers(0, 2**64 - 1)),
    "float64": (pa.float64(), st.floats()),
    "bool": (pa.bool_(), st.booleans()),
    "decimal": (pa.decimal128(12, 3), st.decimals(-(10**8), 10**8, places=3, allow_nan=False)),
    "duration": (pa.duration("ms"), st.timedeltas()),
    "timestamp": (pa.timestamp("us", tz="UTC"), st.datetimes(timezones=st.just(datetime.UTC))),
    "date": (pa.date32(), st.dates()),
    "list": (pa.list_(pa.string()), st.lists(odd_text, max_size=3)),
    "struct": (pa.struct([("a", pa.string()), ("b", pa.int32())]),
               st.fixed_dictionaries({"a": odd_text, "b": st.integers(-5, 5)})),
    "map": (pa.map_(pa.string(), pa.int64()), st.lists(st.tuples(odd_text, st.integers(0, 9)), max_size=2)),
    "null": (pa.null(), st.none()),
}


@st.composite
def parquet_tables(draw) -> pa.Table:
    """A few rows; a `text` column of any type (or none), and other columns of any type, with nulls."""
    rows = draw(st.integers(0, 5))
    names = draw(st.lists(st.sampled_from(["text", "id", "x", "y"]), unique=True, max_size=4))
    columns = {}
    for name in names:
        kind, values = COLUMNS[draw(st.sampled_from(sorted(COLUMNS)))]
        columns[name] = pa.array(draw(st.lists(st.none() | values, min_size=rows, max_size=rows)), type=kind)
    return pa.table(columns) if columns else pa.table({"n": pa.array([None] * rows, pa.null())})


@fuzz_settings(100)
@given(table=parquet_tables(), compression=st.sampled_from(["none", "snappy", "zstd", "gzip"]),
       damage=st.none() | st.tuples(st.floats(0, 1), st.integers(1, 255)))
def test_parquet_every_row_is_a_record_or_an_entry(tmp_path, table, compression, damage):
    folder = example_dir(tmp_path)
    path = folder / "in.parquet"
    pq.write_table(table, path, compression=compression)
    if damage is not None:
        packed = bytearray(path.read_bytes())
        packed[int(damage[0] * (len(packed) - 1))] ^= damage[1]
        path.write_bytes(bytes(packed))
    read = read_file(path, id_key="id")
    assert_accounted(read, table.num_rows if damage is None else None)
    assert_writable(read.docs, folder / "handoff")


# -- the whole run ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "unit"), [("in.jsonl", "line"), ("in.txt", "paragraph")])
@fuzz_settings(2)
@given(data=line_file(json_lines))
def test_a_run_over_a_fuzzed_file_accounts_for_every_record(tmp_path, name, unit, data):
    """`curate run` (no steps) on a fuzzed file: exit 0, stats.json's accounting holds, read's `in` is the count."""
    folder = example_dir(tmp_path)
    (folder / name).write_bytes(data)
    recipe = {"name": "fuzz", "output": str(folder / "out"), "inputs": [{"path": str(folder / name)}]}
    result = run_cli("run", write_recipe(folder / "recipe.yaml", recipe))
    assert result.exit_code == 0, result.output
    stats = load_stats(folder / "out")
    assert stats["accounting"]["ok"], stats["accounting"]
    assert step_stats(stats, "read")["in"] == expected_records(data, 2_000_000, unit)
