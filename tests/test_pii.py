"""The pii step: validated detection in several scripts, numbers that are not personal left alone,
and a real run whose output folder, work files, rejects and quarantine included, holds none of the
planted values."""

from __future__ import annotations

import contextlib
import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datatrove.data import Document

from curation.errors import RecipeError
from curation.recipe import load_recipe
from filters.pii import find_pii, to_ascii_forms
from filters.redact import Redactor
from tests.conftest import load_stats, run_cli, step_stats, write_jsonl, write_recipe

FOUND_IN_EVERY_SCRIPT = [
    # (text, regions, kind, the value)
    ("Mwandikie amina.juma@shule.ac.tz kesho.", (), "email", "amina.juma@shule.ac.tz"),
    ("लिखें: अमित@उदाहरण.भारत पर।", (), "email", "अमित@उदाहरण.भारत"),
    ("邮箱：ｚｈａｎｇ．ｗｅｉ＠ｅｘａｍｐｌｅ．ｃｎ。", (), "email", "ｚｈａｎｇ．ｗｅｉ＠ｅｘａｍｐｌｅ．ｃｎ"),
    ("Piga simu 0754 123 456 leo.", ("TZ",), "phone", "0754 123 456"),
    ("Call +255 754 123 456 today.", (), "phone", "+255 754 123 456"),
    ("اتصل بنا على ٠١٠ ١٢٣٤ ٥٦٧٨ اليوم", ("EG",), "phone", "٠١٠ ١٢٣٤ ٥٦٧٨"),
    ("تماس: ۰۹۱۲ ۳۴۵ ۶۷۸۹", ("IR",), "phone", "۰۹۱۲ ۳۴۵ ۶۷۸۹"),
    ("फ़ोन करें ९८७६५ ४३२१० पर", ("IN",), "phone", "९८७६५ ४३२१०"),
    ("電話は０３－１２３４－５６７８です", ("JP",), "phone", "０３－１２３４－５６７８"),
    ("Звоните: 8 (495) 123-45-67.", ("RU",), "phone", "8 (495) 123-45-67"),
    ("Kadi 4111 1111 1111 1111 12/27 imeibiwa.", (), "credit_card", "4111 1111 1111 1111"),
    ("Карта 5500-0000-0000-0004 заблокирована.", (), "credit_card", "5500-0000-0000-0004"),
    ("IBAN DE89 3704 0044 0532 0130 00 AND NOTHING ELSE", (), "iban", "DE89 3704 0044 0532 0130 00"),
    ("رقم الحساب SA0380000000608010167519 للتحويل", (), "iban", "SA0380000000608010167519"),
    ("Server 41.222.176.5 is down; also 2001:4860:4860::8888.", (), "ip", "41.222.176.5"),
    ("सर्वर 2001:4860:4860::8888 बंद है", (), "ip", "2001:4860:4860::8888"),
    ("see https://bob:hunter2@files.example.com/x.zip now", (), "url", "https://bob:hunter2@files.example.com/x.zip"),
    ("参见 https://api.example.com/v1/items?access_token=ya29a0AfH6SMB 谢谢", (), "url",
     "https://api.example.com/v1/items?access_token=ya29a0AfH6SMB"),
]

NOT_PERSONAL = [
    "The meeting is on 12.05.2024 at 14:30, or 2024-05-12, or ١٢/٠٥/٢٠٢٤, or १२-०५-२०२४.",
    "It costs $1,299.00 (KSh 167,500) or ¥12,800; the population was 1,234,567 in 2019.",
    "ISBN 978-3-16-148410-0 and 9783161484100; ISSN 0317-8471; DOI 10.1000/182.",
    "Update to version 1.2.3 or 10.0.19045.3803; build 20240512.1; Python 3.11.4.",
    "Order #4111111111111112 failed (Luhn) and DE89 3704 0044 0532 0130 01 is a typo.",
    "The router at 192.168.1.1 and 127.0.0.1 are local; 0.0.0.0 listens everywhere.",
    "Reference numbers 12345678 and 9876543210123 appear in the annual report of 2023.",
    "See https://example.com/search?q=kilimo&key=value and https://example.com/a?page=2.",
    "Contact: info at example dot com; user@localhost is not an address on the internet.",
]


@pytest.mark.parametrize(("text", "regions", "kind", "value"), FOUND_IN_EVERY_SCRIPT)
def test_personal_data_is_found_in_every_script(text, regions, kind, value):
    found = [(f.kind, text[f.start:f.end]) for f in find_pii(text, regions=regions)]
    assert (kind, value) in found


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_numbers_that_are_not_personal_are_left_alone(text):
    assert find_pii(text, regions=("US", "GB", "DE", "IN", "TZ", "KE", "EG", "JP")) == []


def test_digits_of_other_scripts_map_one_character_for_one():
    text = "٠١٢ ۳۴۵ ६७८ ๙ ０ １２＠"
    assert to_ascii_forms(text) == "012 345 678 9 0 12@"
    assert len(to_ascii_forms(text)) == len(text)


def test_a_record_is_redacted_everywhere_and_each_value_counted_once():
    doc = Document(text="Mail juma@example.org or call +255 754 123 456.", id="x",
                   metadata={"lang": "swh_Latn", "source": "in.jsonl:1",
                             "messages": [{"role": "user", "content": "Mail juma@example.org"},
                                          {"role": "assistant", "content": "Piga 0754 123 456."}],
                             "extra": {"contact": ["juma@example.org"]}})
    counts = Redactor().redact_document(doc)
    assert doc.text == "Mail <EMAIL> or call <PHONE>."
    assert doc.metadata["messages"][0]["content"] == "Mail <EMAIL>"
    assert doc.metadata["messages"][1]["content"] == "Piga <PHONE>."  # Swahili: Tanzanian national format
    assert doc.metadata["extra"] == {"contact": ["<EMAIL>"]}
    assert doc.metadata["source"] == "in.jsonl:1"
    assert counts == {"email": 1, "phone": 2}


def test_tokens_kinds_and_regions_come_from_the_recipe():
    redactor = Redactor(kinds=["email"], tokens={"email": "[email]"}, regions=["ke"])
    text, found = redactor.redact_text("a@b.io 0712 345 678")
    assert text == "[email] 0712 345 678" and found == [("email", "a@b.io")]
    with pytest.raises(RecipeError, match="`XX` is not a region"):
        Redactor(regions=["XX"])
    with pytest.raises(RecipeError, match="looks like personal data"):
        Redactor(tokens={"email": "someone@example.com"})


def _recipe(tmp_path: Path, steps: list, **extra) -> Path:
    recipe = {"name": "pii", "output": str(tmp_path / "out"), "dataset": {"rejects": True},
              "inputs": [{"path": str(tmp_path / "in.jsonl"), "id_key": "id"}], "steps": steps, **extra}
    return write_recipe(tmp_path / "recipe.yaml", recipe)


def test_pii_after_a_whole_run_step_is_refused_in_one_line(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "x"}])
    result = run_cli("validate", _recipe(tmp_path, [{"dedup": {}}, {"pii": {}}]))
    assert result.exit_code == 2
    assert "steps[1].pii: put `pii` before `dedup` (steps[0])" in result.output
    with pytest.raises(RecipeError, match="tokens"):
        load_recipe(_recipe(tmp_path, [{"pii": {"tokens": {"name": "<NAME>"}}}]))


# --- a real run --------------------------------------------------------------------------------

SWAHILI = ("Wakulima wa kijiji cha Mlimani wameanza kutumia mbegu bora za mahindi zinazostahimili ukame, "
           "na wanasema mavuno ya mwaka huu yatakuwa mazuri zaidi kuliko ya mwaka uliopita. ")
PLANTED = {
    "email": "amina.juma@shule.ac.tz",
    "phone_tz": "0754 123 456",
    "phone_intl": "+255 22 211 4567",
    "card": "4111 1111 1111 1111",
    "iban": "DE89 3704 0044 0532 0130 00",
    "phone_ar": "٠١٠ ١٢٣٤ ٥٦٧٨",
    "url": "https://bob:hunter2@files.example.com/x.zip",
}


def _inputs(tmp_path: Path) -> None:
    records = [
        {"id": "sw-1", "text": SWAHILI + "Viongozi wa kijiji wanatarajia kwamba chakula kitatosha familia zote. "
                               f"Kwa maelezo zaidi andika {PLANTED['email']} au piga "
                                              f"{PLANTED['phone_tz']}."},
        {"id": "sw-2", "text": SWAHILI + f"Lipa kwa kadi {PLANTED['card']} au akaunti {PLANTED['iban']}."
                               + " Ofisi kuu inapatikana katika jiji la Dar es Salaam karibu na soko kuu."},
        # English: the lid step drops it before pii runs; its reject must be redacted all the same
        {"id": "en-1", "text": "The farmers of the village say that this year's harvest will be better than "
                               f"last year's. Call {PLANTED['phone_intl']} or see {PLANTED['url']} for details."},
        {"id": "ar-1", "text": "قال المزارعون في القرية إن حصاد هذا العام سيكون أفضل من حصاد العام الماضي بكثير. "
                               f"للاستفسار اتصلوا على {PLANTED['phone_ar']} في أي وقت خلال ساعات العمل."},
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    # a broken line: its quarantine excerpt must not show the number either
    lines.insert(2, '{"id": "bad-1", "text": "Piga ' + PLANTED["phone_intl"] + ' leo')
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def every_text_in(folder: Path) -> dict[str, str]:
    """Each file under `folder` (work files too) as text: Parquet as its rows, gzip unpacked, JSON lines
    also re-dumped unescaped (a writer escaping non-ASCII would otherwise hide a value from a search)."""
    texts = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            text = json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False, default=str)
        else:
            raw = path.read_bytes()
            text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8", "replace")
        decoded = []
        for line in text.splitlines():
            with contextlib.suppress(ValueError):
                decoded.append(json.dumps(json.loads(line), ensure_ascii=False))
        texts[str(path.relative_to(folder))] = text + "\n".join(decoded)
    return texts


def leaks(folder: Path, values: dict[str, str]) -> list[str]:
    return [f"{name} in {path}" for path, text in every_text_in(folder).items() for name, value in values.items()
            if value in text]


@pytest.mark.parametrize("action", ["redact", "drop"])
def test_a_run_publishes_rejects_and_quarantines_nothing_it_redacted(tmp_path, action):
    _inputs(tmp_path)
    steps = [{"lid": {"keep": ["sw", "ar"]}}, {"pii": {"action": action}},
             {"quality": {"thresholds": {"min_words": 20}}}, {"dedup": {}}]
    result = run_cli("run", _recipe(tmp_path, steps))
    assert result.exit_code == 0, result.output
    output = tmp_path / "out"
    stats = load_stats(output)
    assert stats["accounting"]["ok"]
    assert stats["quarantine"]["total"] == 1
    assert (output / "rejects" / "lid").exists()
    assert leaks(output, PLANTED) == []

    assert stats["pii"]["by_language"]["swh_Latn"] == {"credit_card": 1, "email": 1, "iban": 1, "phone": 1,
                                                       "records": 2}
    assert stats["pii"]["by_language"]["arb_Arab"] == {"phone": 1, "records": 1}
    pii = step_stats(stats, "pii")
    rows = [row for p in sorted((output / "data").rglob("*.parquet")) for row in pq.read_table(p).to_pylist()]
    if action == "redact":
        assert pii["kept"] == 3 and {r["id"] for r in rows} == {"sw-1", "sw-2"}  # ar-1: two sentences, c4
        assert "<EMAIL>" in next(r["text"] for r in rows if r["id"] == "sw-1")
        assert "<IBAN>" in next(r["text"] for r in rows if r["id"] == "sw-2")
        assert "<PHONE>" in every_text_in(output / "rejects" / "quality")["00000.jsonl.gz"]
    else:
        assert pii["dropped"] == {"contains_pii": 3} and rows == []
        rejected = every_text_in(output / "rejects" / "pii")
        assert sum(t.count('"drop_reason":"contains_pii"') for t in rejected.values()) >= 1
    assert "**Personal data**" in (output / "README.md").read_text()
    assert "<h2>Personal data</h2>" in (output / "report.html").read_text()


def test_generated_records_are_redacted_after_verify_and_before_they_are_judged(tmp_path):
    from curation.compile import compile_recipe
    from curation.layout import RunLayout

    recipe = load_recipe(write_recipe(tmp_path / "r.yaml", {
        "name": "gen", "output": str(tmp_path / "out"), "steps": [{"pii": {}}, {"judge": {"min_score": 3}}],
        "generate": {"languages": ["sw"], "instruction": {"count": 2}}}))
    stages = compile_recipe(recipe, [], RunLayout(tmp_path / "out"))
    generate = next(s for s in stages if s.name == "generate")
    assert [step.name for step in generate.pipeline][:4] == ["generate", "verify", "pii", "judge"]
