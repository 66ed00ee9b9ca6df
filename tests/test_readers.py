"""Readers: every input record is kept or quarantined with its file and line, in every format."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from curation.readers import SourceReader, expand_inputs
from curation.recipe import InputSpec, Limits

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
