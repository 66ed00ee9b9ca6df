"""Readers: every input record is kept or quarantined with its file and line, in every format."""

from __future__ import annotations

import csv
import datetime
import decimal
import gzip
import json
import lzma
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from curation.inputs import expand_inputs
from curation.readers import SourceReader
from curation.recipe import InputSpec, Limits
from tests.conftest import load_stats, run_cli, step_stats

SW = "Mvua kubwa ilinyesha jana usiku na wakulima wamefurahi sana."
YO = "Ọjà ńlá ni ìlú wa, àwọn ènìyàn máa ń wá láti ibi gbogbo."
NE = "हिजो राति ठूलो पानी पर्‍यो र किसानहरू धेरै खुसी भए।"


def read_all(spec: InputSpec, tmp_path: Path, limits: Limits | None = None):
    files = expand_inputs([spec])
    reader = SourceReader([spec], files, str(tmp_path / "q"), limits or Limits())
    docs = list(reader.run(None, 0, 1))
    quarantine = [json.loads(line) for line in (tmp_path / "q" / "00000.jsonl").read_text().splitlines()]
    return docs, quarantine, reader.stats


def test_jsonl_bad_lines_are_quarantined_with_line_numbers(tmp_path):
    path = tmp_path / "in.jsonl"
    lines = [json.dumps({"text": SW}), '{"text": "unterminated', "[1, 2]", json.dumps({"body": YO}),
             json.dumps({"text": "   "}), "", json.dumps({"text": 42}), json.dumps({"text": NE, "url": "u"})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(path, "ab") as fh:
        fh.write(b'{"text": "caf\xe9 \xff"}\n')
    docs, quarantine, stats = read_all(InputSpec(path=str(path)), tmp_path)
    assert [d.text for d in docs] == [SW, NE]
    assert docs[1].metadata["extra"] == {"url": "u"}
    assert docs[0].id == f"{path}:1" and docs[0].metadata["source"] == f"{path}:1"
    reasons = {q["line"]: q["reason"] for q in quarantine}
    assert reasons == {2: "bad_json", 3: "not_an_object", 4: "missing_text", 5: "empty_text",
                       7: "text_not_string", 9: "bad_utf8"}
    assert all(q["file"] == str(path) for q in quarantine)
    assert stats["in/und"].total == 8 and stats["kept/und"].total == 2


def test_oversized_line_is_skipped_without_loading_it(tmp_path):
    path = tmp_path / "big.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": SW}) + "\n")
        fh.write(json.dumps({"text": "x" * 5_000_000}) + "\n")
        fh.write(json.dumps({"text": YO}) + "\n")
    docs, quarantine, _ = read_all(InputSpec(path=str(path)), tmp_path, Limits(max_doc_bytes=100_000))
    assert [d.text for d in docs] == [SW, YO]
    assert quarantine == [{"file": str(path), "line": 2, "reason": "too_large",
                           "detail": "line over 100000 bytes", "excerpt": ""}]


def test_compressed_jsonl_and_field_mapping(tmp_path):
    records = [{"doc": {"body": SW}, "uid": 7}, {"doc": {"body": YO}, "uid": 8}]
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(payload))
    (tmp_path / "b.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(payload))
    spec = InputSpec(path=str(tmp_path / "*.jsonl.*"), text_key="doc.body", id_key="uid")
    docs, quarantine, _ = read_all(spec, tmp_path)
    assert [d.text for d in docs] == [SW, YO, SW, YO]
    assert [d.id for d in docs] == ["7", "8", "7", "8"]
    assert quarantine == []


def test_truncated_gzip_keeps_what_was_read_and_quarantines_the_rest(tmp_path):
    payload = "".join(json.dumps({"text": f"{SW} {i}"}) + "\n" for i in range(2000)).encode()
    data = gzip.compress(payload)
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    docs, quarantine, stats = read_all(InputSpec(path=str(tmp_path / "cut.jsonl.gz")), tmp_path)
    assert 0 < len(docs) < 2000
    assert [q["reason"] for q in quarantine] == ["unreadable_file"]
    assert stats["in/und"].total == len(docs) + 1


def test_parquet_csv_text_and_json_array(tmp_path):
    pq.write_table(pa.table({"content": [SW, None, YO]}), tmp_path / "p.parquet")
    with open(tmp_path / "c.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["post_id", "body"])
        writer.writerow(["1", f"{NE}\nline two, with a comma"])
        writer.writerow(["2", ""])
    (tmp_path / "t.txt").write_text(f"{SW}\nsecond line\n\n\n{YO}\n", encoding="utf-8")
    (tmp_path / "a.json").write_text(json.dumps([{"instruction": SW}, {"instruction": YO}, {"other": 1}]))

    docs, quarantine, _ = read_all(InputSpec(path=str(tmp_path / "p.parquet"), text_key="content"), tmp_path)
    assert [d.text for d in docs] == [SW, YO] and [q["line"] for q in quarantine] == [2]
    docs, quarantine, _ = read_all(InputSpec(path=str(tmp_path / "c.csv"), text_key="body", id_key="post_id"), tmp_path)
    assert docs[0].text == f"{NE}\nline two, with a comma" and docs[0].id == "1"
    assert [q["reason"] for q in quarantine] == ["empty_text"]
    docs, _, _ = read_all(InputSpec(path=str(tmp_path / "t.txt")), tmp_path)
    assert [d.text for d in docs] == [f"{SW}\nsecond line", YO]
    assert docs[1].metadata["source"].endswith("t.txt:5")
    docs, quarantine, _ = read_all(InputSpec(path=str(tmp_path / "a.json"), text_key="instruction"), tmp_path)
    assert [d.text for d in docs] == [SW, YO] and [q["reason"] for q in quarantine] == ["missing_text"]


def test_chat_records_in_sharegpt_form(tmp_path):
    rows = [{"conversations": [{"from": "human", "value": "Habari?"}, {"from": "gpt", "value": "Nzuri sana."}]},
            {"conversations": [{"from": "alien", "value": "?"}]}]
    path = tmp_path / "chat.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    docs, quarantine, _ = read_all(InputSpec(path=str(path), messages_key="conversations"), tmp_path)
    assert docs[0].metadata["messages"] == [{"role": "user", "content": "Habari?"},
                                            {"role": "assistant", "content": "Nzuri sana."}]
    assert docs[0].text == "Habari?\n\nNzuri sana."
    assert quarantine[0]["reason"] == "bad_messages" and quarantine[0]["line"] == 2


def test_binary_file_is_one_quarantine_entry(tmp_path):
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 10)
    docs, quarantine, _ = read_all(InputSpec(path=str(tmp_path / "image.txt")), tmp_path)
    assert docs == [] and [q["reason"] for q in quarantine] == ["binary_file"]


def test_files_are_sharded_across_tasks(tmp_path):
    for i in range(5):
        (tmp_path / f"{i}.jsonl").write_text(json.dumps({"text": f"{SW} {i}"}) + "\n")
    spec = InputSpec(path=str(tmp_path / "*.jsonl"))
    files = expand_inputs([spec])
    seen = []
    for rank in range(2):
        reader = SourceReader([spec], files, str(tmp_path / "q"), Limits())
        seen += [d.text for d in reader.run(None, rank, 2)]
    assert sorted(seen) == sorted(f"{SW} {i}" for i in range(5))


def test_alpaca_style_instruction_records_become_chat_records(tmp_path):
    rows = [{"instruction": "Taja matunda matatu.", "input": "", "output": "Embe, ndizi na nanasi."},
            {"instruction": "Tafsiri kwa Kiingereza:", "input": "Habari ya asubuhi", "output": "Good morning"},
            {"instruction": "Eleza mvua.", "output": ""}]
    path = tmp_path / "alpaca.json"
    path.write_text(json.dumps(rows, ensure_ascii=False))
    spec = InputSpec(path=str(path), prompt_key="instruction", input_key="input", response_key="output")
    docs, quarantine, _ = read_all(spec, tmp_path)
    assert docs[0].metadata["messages"] == [{"role": "user", "content": "Taja matunda matatu."},
                                            {"role": "assistant", "content": "Embe, ndizi na nanasi."}]
    assert docs[1].metadata["messages"][0]["content"] == "Tafsiri kwa Kiingereza:\n\nHabari ya asubuhi"
    assert "extra" not in docs[0].metadata
    assert [(q["line"], q["reason"]) for q in quarantine] == [(3, "missing_response")]


# c-2's text opens a quote that never closes; c-3 (~1 KB, two lines) and c-4 must survive it.
C3_TEXT = (f"{SW} " * 16).strip() + "\n" + (f"{SW} " * 2).strip()
DAMAGED_CSV = (
    "id,text,lang\n"
    f'c-1,"{SW}\n{YO}\n{NE}",mixed\n'  # lines 2-4: a legitimate multi-line quoted field
    f'c-2,"{YO} the quote is never closed,yo\n'  # line 5
    f'c-3,"{C3_TEXT}",sw\n'  # lines 6-7
    f'c-4,"{NE}",ne\n'  # line 8
)


def test_csv_unclosed_quote_is_quarantined_and_the_next_rows_survive(tmp_path):
    path = tmp_path / "damaged.csv"
    path.write_text(DAMAGED_CSV, encoding="utf-8")
    docs, quarantine, stats = read_all(InputSpec(path=str(path), id_key="id"), tmp_path)
    assert [d.id for d in docs] == ["c-1", "c-3", "c-4"]
    assert [d.text for d in docs] == [f"{SW}\n{YO}\n{NE}", C3_TEXT, NE]
    assert len(docs[1].text.encode()) > 1000
    assert [d.metadata["source"] for d in docs] == [f"{path}:2", f"{path}:6", f"{path}:8"]  # first lines
    assert [(q["file"], q["line"], q["reason"]) for q in quarantine] == [(str(path), 5, "bad_csv")]
    assert "line 5" in quarantine[0]["detail"] and quarantine[0]["excerpt"].startswith("c-2,")
    assert stats["in/und"].total == 4 and stats["kept/und"].total == 3
    assert stats["quarantined/und/bad_csv"].total == 1


def test_a_run_over_a_damaged_csv_accounts_for_every_row(tmp_path, recipe_file):
    (tmp_path / "damaged.csv").write_text(DAMAGED_CSV, encoding="utf-8")
    recipe = {"name": "csv", "output": str(tmp_path / "out"),
              "inputs": [{"path": str(tmp_path / "damaged.csv"), "id_key": "id"}]}
    result = run_cli("run", recipe_file(recipe))
    assert result.exit_code == 0, result.output
    stats = load_stats(tmp_path / "out")
    assert stats["accounting"]["ok"], stats["accounting"]
    read = step_stats(stats, "read")
    assert (read["in"], read["kept"], read["quarantined"]) == (4, 3, {"bad_csv": 1})
    assert stats["quarantine"]["by_reason"] == {"bad_csv": 1}
    entry = json.loads((tmp_path / "out" / "quarantine" / "00000.jsonl").read_text())
    assert (entry["line"], entry["reason"]) == (5, "bad_csv") and entry["file"].endswith("damaged.csv")


def test_csv_damage_without_a_closing_quote_and_wrong_field_counts(tmp_path):
    """An unclosed quote in the last row, rows swallowed with no quote to end them, a stray delimiter
    in an unquoted field, a malformed quote inside one line: each is one entry at its first line."""
    path = tmp_path / "rows.csv"
    path.write_text(
        "id,text\n"
        f"a-1,{SW}\n"  # 2: kept
        f'a-2,"{YO} unclosed\n'  # 3: open until...
        f"a-3,{NE}\n"  # 4: ...a row with no quote at all
        f'a-4,"{SW}" and more\n'  # 5: a quote closing a field, then text
        f"a-5,{SW},extra\n"  # 6: three fields, the header has two
        f'a-6,"{NE}\n',  # 7: open at the end of the file
        encoding="utf-8")
    docs, quarantine, stats = read_all(InputSpec(path=str(path), id_key="id"), tmp_path)
    assert [d.id for d in docs] == ["a-1", "a-3"]
    assert [d.metadata["source"] for d in docs] == [f"{path}:2", f"{path}:4"]
    assert [(q["line"], q["reason"]) for q in quarantine] == [(3, "bad_csv"), (5, "bad_csv"), (6, "bad_csv"),
                                                               (7, "bad_csv")]
    assert "3 fields, the header has 2" in quarantine[2]["detail"]
    assert "end of the file" in quarantine[3]["detail"]
    assert stats["in/und"].total == 6


def test_csv_quoting_that_is_right_stays_one_record(tmp_path):
    """Doubled quotes, a delimiter and lines inside a quoted field, a TSV, a BOM, CRLF line ends."""
    path = tmp_path / "ok.tsv"
    rows = [["id", "text"], ["t-1", f'{SW}\nShe said "ndiyo"\tand left,\n\n{YO}'], ["t-2", NE]]
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh, delimiter="\t", lineterminator="\r\n").writerows(rows)
    docs, quarantine, _ = read_all(InputSpec(path=str(path), id_key="id"), tmp_path)
    assert quarantine == []
    assert [(d.id, d.text) for d in docs] == [("t-1", rows[1][1]), ("t-2", NE)]
    assert [d.metadata["source"] for d in docs] == [f"{path}:2", f"{path}:6"]


# -- found by fuzzing (tests/test_fuzz_readers.py), each as its smallest example --------------------------

def test_corrupt_gzip_and_xz_are_one_unreadable_entry(tmp_path):
    """Corrupt data raises zlib.error (gzip) and LZMAError (xz), neither an OSError: they stopped the run."""
    payload = "".join(json.dumps({"text": f"{SW} {i}"}) + "\n" for i in range(200)).encode()
    gz = bytearray(gzip.compress(payload))
    gz[10] = 0xFF  # the first deflate block: a reserved block type
    xz = bytearray(lzma.compress(payload))
    xz[0] ^= 0xFF  # the stream's magic: "Input format not supported by decoder"
    for name, data in (("bad.jsonl.gz", gz), ("bad.jsonl.xz", xz)):
        (tmp_path / name).write_bytes(bytes(data))
        docs, quarantine, stats = read_all(InputSpec(path=str(tmp_path / name)), tmp_path)
        assert [q["reason"] for q in quarantine] == ["unreadable_file"], name
        assert stats["in/und"].total == len(docs) + 1


def test_a_bom_opening_a_file_is_not_text(tmp_path):
    """A UTF-8 BOM made the first JSONL line bad_json, a JSON array unreadable and a paragraph start with U+FEFF."""
    bom = "\ufeff"
    (tmp_path / "a.jsonl").write_text(bom + json.dumps({"text": SW}) + "\n", encoding="utf-8")
    (tmp_path / "b.json").write_text(bom + json.dumps([{"text": YO}]), encoding="utf-8")
    (tmp_path / "c.txt").write_text(bom + NE + "\n", encoding="utf-8")
    for name, text in (("a.jsonl", SW), ("b.json", YO), ("c.txt", NE)):
        docs, quarantine, _ = read_all(InputSpec(path=str(tmp_path / name)), tmp_path)
        assert ([d.text for d in docs], quarantine) == ([text], []), name


def test_a_too_long_line_does_not_take_the_next_line_with_it(tmp_path):
    """text_unit: line: the line after a too_large one was dropped uncounted."""
    (tmp_path / "t.txt").write_text("x" * 20 + "\nok\n", encoding="utf-8")
    docs, quarantine, stats = read_all(InputSpec(path=str(tmp_path / "t.txt"), text_unit="line"), tmp_path,
                                       Limits(max_doc_bytes=8))
    assert [d.text for d in docs] == ["ok"]
    assert [(q["line"], q["reason"]) for q in quarantine] == [(1, "too_large")]
    assert stats["in/und"].total == 2


def test_json_array_elements_are_judged_like_jsonl_lines(tmp_path):
    """json took lone surrogates, NaN and ints past 64 bits that the stage handoff (orjson) cannot write, and
    raised RecursionError on deep nesting."""
    elements = ['{"text": "ok", "x": "\\ud800"}', '{"text": "ok", "x": NaN}', '{"text": "ok", "x": 1' + "0" * 30 + "}",
                json.dumps({"text": SW})]
    (tmp_path / "a.json").write_text("[" + ",".join(elements) + "]", encoding="utf-8")
    docs, quarantine, _ = read_all(InputSpec(path=str(tmp_path / "a.json")), tmp_path)
    assert [d.text for d in docs] == ["ok", SW]  # orjson reads the big int as a float, as on a JSONL line
    assert [(q["line"], q["reason"]) for q in quarantine] == [(1, "bad_json"), (2, "bad_json")]
    (tmp_path / "deep.json").write_text("[" + "[" * 5000 + "]" * 5000 + "]", encoding="utf-8")
    docs, quarantine, _ = read_all(InputSpec(path=str(tmp_path / "deep.json")), tmp_path)
    assert docs == [] and [(q["line"], q["reason"]) for q in quarantine] == [(1, "bad_json")]


def test_fields_json_cannot_hold_are_written_as_text(tmp_path, recipe_file):
    """Parquet's bytes, decimals and durations in other columns failed the stage handoff (orjson) for every
    record; a field nested deeper than orjson writes failed it for one."""
    table = pa.table({"text": [SW, YO], "raw": pa.array([b"\xff\x00", None], pa.binary()),
                      "price": pa.array([decimal.Decimal("1.50"), None], pa.decimal128(5, 2)),
                      "took": pa.array([datetime.timedelta(seconds=3), None], pa.duration("s"))})
    pq.write_table(table, tmp_path / "p.parquet")
    (tmp_path / "deep.jsonl").write_text(json.dumps({"text": NE}) + "\n" + '{"text": "ok", "x": ' + "[" * 300
                                         + "]" * 300 + "}\n", encoding="utf-8")
    docs, _, _ = read_all(InputSpec(path=str(tmp_path / "p.parquet")), tmp_path)
    assert docs[0].metadata["extra"] == {"raw": "b'\\xff\\x00'", "price": "1.50", "took": "0:00:03"}
    docs, quarantine, _ = read_all(InputSpec(path=str(tmp_path / "deep.jsonl")), tmp_path)
    assert [d.text for d in docs] == [NE] and [(q["line"], q["reason"]) for q in quarantine] == [(2, "bad_json")]
    recipe = {"name": "odd", "output": str(tmp_path / "out"),
              "inputs": [{"path": str(tmp_path / "p.parquet")}, {"path": str(tmp_path / "deep.jsonl")}]}
    result = run_cli("run", recipe_file(recipe))
    assert result.exit_code == 0, result.output
    assert step_stats(load_stats(tmp_path / "out"), "read")["kept"] == 3


def test_invalid_utf8_in_a_csv_header_is_bad_utf8(tmp_path):
    """A header name with invalid UTF-8 became a field name the stage handoff (orjson) could not write."""
    (tmp_path / "h.csv").write_bytes(b"id,text,n\xffote\n1," + SW.encode() + b",x\n")
    docs, quarantine, _ = read_all(InputSpec(path=str(tmp_path / "h.csv")), tmp_path)
    assert docs == [] and [(q["line"], q["reason"]) for q in quarantine] == [(2, "bad_utf8")]


def test_an_empty_id_is_no_id(tmp_path):
    """An id column holding "" gave the record id "", which datatrove's writer drops as empty: the next stage
    found no `id` (KeyError) and the run failed."""
    (tmp_path / "e.csv").write_text(f"id,text\n,{SW}\n", encoding="utf-8")
    docs, _, _ = read_all(InputSpec(path=str(tmp_path / "e.csv"), id_key="id"), tmp_path)
    assert [d.id for d in docs] == [f"{tmp_path / 'e.csv'}:2"]


def test_a_crlf_cut_by_the_size_bound_is_not_a_line(tmp_path):
    """readline's bound split a CRLF after a line of exactly max_doc_bytes characters: the LF became a line of its
    own and every later row was named one line too far."""
    (tmp_path / "c.csv").write_bytes(b"id,t\r\n" + b"a,bcdefg\r\n" + b"b,ok\r\n")  # line 2: 8 characters
    docs, quarantine, _ = read_all(InputSpec(path=str(tmp_path / "c.csv"), id_key="id", text_key="t"), tmp_path,
                                   Limits(max_doc_bytes=8))
    assert [(q["line"], q["reason"]) for q in quarantine] == [(2, "too_large")]  # the row, its CRLF counted
    assert [(d.id, d.metadata["source"].rsplit(":", 1)[1]) for d in docs] == [("b", "3")]


def test_a_file_name_that_is_not_utf8(tmp_path):
    """A name's bytes that are not UTF-8 reached the record's source and the quarantine entry as lone
    surrogates: the entry could not be written (UnicodeEncodeError) and the reader failed."""
    path = os.path.join(os.fsencode(tmp_path), b"caf\xe9.jsonl")
    with open(path, "wb") as fh:
        fh.write(json.dumps({"text": SW}).encode() + b"\nnot json\n")
    docs, quarantine, _ = read_all(InputSpec(path=str(tmp_path / "*.jsonl")), tmp_path)
    assert [d.metadata["source"] for d in docs] == [f"{tmp_path}/caf\\xe9.jsonl:1"]
    assert [(q["file"], q["reason"]) for q in quarantine] == [(f"{tmp_path}/caf\\xe9.jsonl", "bad_json")]
