"""Benchmark decontamination: the n-gram index, the filter, and the step in real runs through the CLI.

Benchmark items and texts are written here (several scripts); planted copies must be caught, clean
text must not be, and the counts must reach stats.json, the card and the report.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from datatrove.data import Document

from curation.inputs import expand_inputs
from curation.recipe import BenchmarkSpec, Limits
from filters.decontaminate import BuildDecontaminationIndex, Decontaminate, field_ngrams
from tests.conftest import load_stats, run_cli, step_stats, write_jsonl, write_recipe

MATH = [
    {"question": "A baker makes 48 loaves of bread every morning and sells three quarters of them before noon. "
                 "How many loaves are left for the afternoon customers?", "answer": "12"},
    {"question": "Amina walks to the market at four kilometres an hour and the market is six kilometres from "
                 "her house. How long does the walk take her in minutes?", "answer": "90"},
    {"question": "Mkulima ana ng'ombe kumi na wawili na anauza theluthi moja yao sokoni kila mwezi wa mavuno. "
                 "Atabaki na ng'ombe wangapi baada ya mwezi mmoja?", "answer": "8"},
    {"question": "一家书店上午卖出了三十五本书，下午又卖出了上午的两倍，晚上卖出了二十本，这家书店今天一共卖出了多少本书？",
     "answer": "125"},
    {"question": "ร้านค้าแห่งหนึ่งขายมะม่วงวันละสี่สิบผลและขายกล้วยมากกว่ามะม่วงสองเท่าในแต่ละวันร้านนี้ขายผลไม้ทั้งหมดกี่ผล",
     "answer": "120"},
    {"question": "Which river flows through the capital city of Egypt today?", "answer": "The Nile"},  # 10 words
    {"question": "What is two plus two?", "answer": "4"},  # too short to index
]

CLEAN = [
    "The village council met on Tuesday to discuss the new water pipes and the cost of repairing the old well.",
    "A baker in our town sells fresh bread every morning, and the loaves are usually gone before noon.",
    "Wakulima wa kijiji hiki wamepanda mahindi mapema mwaka huu kwa sababu mvua ilianza kunyesha mapema.",
    "今天上午，学校的图书馆来了很多学生，他们安静地读书，有的还在做作业。",
    "วันนี้อากาศดีมาก เด็กๆ ไปเล่นฟุตบอลที่สนามหลังโรงเรียนจนถึงเย็น",
]


def build_index(tmp_path: Path, items: list[dict], ngram: int = 13, min_ngram: int = 8,
                fields: tuple[str, ...] = ("question", "answer"), name: str = "math") -> Path:
    path = write_jsonl(tmp_path / f"{name}.jsonl", items)
    spec = BenchmarkSpec(name=name, path=str(path), fields=list(fields))
    folder = tmp_path / "index"
    step = BuildDecontaminationIndex(str(folder), [spec], [expand_inputs([spec.as_input()])], ngram, min_ngram,
                                     str(tmp_path / "quarantine"), Limits())
    list(step.run())
    return folder


def verdicts(folder: Path, texts: list[str], **policy) -> list[bool]:
    """True where the filter keeps the text."""
    step = Decontaminate(str(folder), "curate", **policy)
    return [step.keep(Document(text=t, id=str(i))) is True for i, t in enumerate(texts)]


def test_fields_shorter_than_n_are_indexed_in_min_ngram_windows_and_skipped_below():
    long = field_ngrams(MATH[0]["question"], 13, 8)
    assert long is not None and long[0] == 13 and len(long[1]) == len(MATH[0]["question"].split()) - 13 + 1
    short = field_ngrams(MATH[5]["question"], 13, 8)  # 10 words: its 8-word windows
    assert short is not None and short[0] == 8 and len(short[1]) == 10 - 8 + 1
    assert field_ngrams(MATH[6]["question"], 13, 8) is None and field_ngrams("125", 13, 8) is None
    chinese = field_ngrams(MATH[3]["question"], 13, 8)
    assert chinese is not None and chinese[0] == 21  # 13 words are ~21 Chinese characters
    thai = field_ngrams(MATH[4]["question"], 13, 8)
    assert thai is not None and thai[0] == 69  # and ~69 Thai code points


def test_index_counts_items_fields_and_what_was_too_short(tmp_path):
    folder = build_index(tmp_path, [*MATH, {"other": "no question here"}, "not an object"])
    meta = json.loads((folder / "index.json").read_text())
    math = meta["benchmarks"]["math"]
    assert math["items"] == len(MATH)
    assert math["quarantined"] == {"missing_fields": 1, "not_an_object": 1}
    assert math["fields_indexed"] == 6 and math["fields_too_short"] == len(MATH) + 1  # answers and one question
    assert set(meta["lengths"]) == {13, 8, 21, 69}
    quarantined = (tmp_path / "quarantine" / "math" / "00000.jsonl").read_text().splitlines()
    assert [json.loads(q)["reason"] for q in quarantined] == ["missing_fields", "not_an_object"]


def test_planted_items_are_caught_verbatim_case_punctuation_and_embedded_in_every_script(tmp_path):
    folder = build_index(tmp_path, MATH)
    english, swahili, chinese, thai, short = (MATH[i]["question"] for i in (0, 2, 3, 4, 5))
    planted = [
        english,
        english.upper().replace(",", "").replace("?", " ?!"),  # case and punctuation: normalized away
        f"Here is a word problem for you. {english} Think step by step and show the working.",
        f"Swali la leo: {swahili}",
        f"请回答：{chinese}谢谢。",
        f"Translate this Chinese sentence: {chinese}",  # Chinese quoted in English text
        f"โจทย์: {thai}",
        f"Quiz night! {short} Answers on the back.",  # a short question: its 8-word windows
    ]
    assert verdicts(folder, planted) == [False] * len(planted)
    assert verdicts(folder, CLEAN) == [True] * len(CLEAN)


def test_edits_every_few_words_and_translations_are_not_caught(tmp_path):
    folder = build_index(tmp_path, MATH)
    edited = ("A baker bakes 48 loaves of bread each morning and sells three quarters of those before noon. "
              "How many loaves remain for the afternoon shoppers?")
    translated = "一位面包师每天早上做四十八个面包，中午前卖掉四分之三。下午的顾客还剩多少个面包？"
    assert verdicts(folder, [edited, translated]) == [True, True]  # the limits the README states


def test_chat_turns_are_checked_each_on_its_own_and_the_reject_names_the_item(tmp_path):
    folder = build_index(tmp_path, MATH)
    step = Decontaminate(str(folder), "curate")
    question = MATH[1]["question"]
    doc = Document(text="ignored", id="chat", metadata={"messages": [
        {"role": "user", "content": question}, {"role": "assistant", "content": "It takes ninety minutes."}]})
    assert step.keep(doc) == (False, "contaminated")
    contamination = doc.metadata["contamination"]
    assert contamination["benchmark"] == "math" and contamination["item"].endswith("math.jsonl:2")
    assert contamination["matched"] == contamination["item_ngrams"] == len(question.split()) - 13 + 1
    # a window never spans two turns: half a question in each is not a match
    words = question.split()
    split = Document(text="x", id="split", metadata={"messages": [
        {"role": "user", "content": " ".join(words[:10])}, {"role": "assistant", "content": " ".join(words[10:20])}]})
    assert step.keep(split) is True


def test_min_matches_and_min_fraction_raise_the_bar(tmp_path):
    folder = build_index(tmp_path, MATH)
    words = MATH[0]["question"].split()
    fragment = " ".join(words[:15])  # 15 words: 3 of the item's 15 n-grams
    assert verdicts(folder, [fragment]) == [False]
    assert verdicts(folder, [fragment], min_matches=4) == [True]
    assert verdicts(folder, [fragment], min_fraction=0.5) == [True]
    assert verdicts(folder, [MATH[0]["question"]], min_matches=4, min_fraction=0.5) == [False]


def _decontamination_recipe(tmp_path: Path, inputs: list[dict], benchmark: Path, **extra) -> Path:
    recipe = {
        "name": "decon", "output": str(tmp_path / "out"),
        "inputs": inputs,
        "steps": [{"lid": {}}, {"decontaminate": {"benchmarks": [
            {"name": "math", "path": str(benchmark), "fields": ["question", "answer"]}]}}],
        "dataset": {"rejects": True}, "executor": {"local": {"tasks": 1}}, **extra,
    }
    return write_recipe(tmp_path / "recipe.yaml", recipe)


def test_a_run_drops_planted_records_and_counts_them_per_benchmark_and_language(tmp_path):
    benchmark = write_jsonl(tmp_path / "math.jsonl", MATH)
    planted = {"p-en": f"Homework: {MATH[0]['question']} Please help me with it, I am stuck.",
               "p-sw": f"Swali: {MATH[2]['question']} Naomba msaada wenu.",
               "p-zh": f"题目：{MATH[3]['question']}请详细解答。"}
    records = [{"id": k, "text": v} for k, v in planted.items()] + [{"id": f"c{i}", "text": t} for i, t in enumerate(CLEAN)]
    write_jsonl(tmp_path / "a.jsonl", records[:4])
    write_jsonl(tmp_path / "b.jsonl", records[4:])
    result = run_cli("run", _decontamination_recipe(tmp_path, [{"path": str(tmp_path / "*.jsonl"), "id_key": "id"}],
                                                    benchmark))
    assert result.exit_code == 0, result.output
    output = tmp_path / "out"
    stats = load_stats(output)
    assert stats["accounting"]["ok"], stats["accounting"]
    assert step_stats(stats, "decontaminate")["dropped"] == {"contaminated": 3}
    math = stats["decontamination"]["benchmarks"]["math"]
    assert math["contaminated"] == {"eng_Latn": 1, "swh_Latn": 1, "zho_Hani": 1}
    assert math["items_found"] == 3 and math["items"] == len(MATH)
    rejects = [json.loads(line) for f in (output / "rejects" / "decontaminate").glob("*.jsonl.gz")
               for line in gzip.decompress(f.read_bytes()).decode().splitlines()]
    assert {r["id"] for r in rejects} == set(planted)
    assert all(r["metadata"]["contamination"]["benchmark"] == "math" for r in rejects)
    published = stats["languages"]
    assert sum(info["rows"] for info in published.values()) == len(CLEAN)
    card = (output / "README.md").read_text()
    assert "**Decontamination**" in card and "| math | 7 | 6 | 8 | eng_Latn: 1, swh_Latn: 1, zho_Hani: 1 | 3 |" in card
    page = (output / "report.html").read_text()
    assert "<h2>Decontamination</h2>" in page and 'data-label="math / zho_Hani"' in page


def test_a_missing_benchmark_file_or_a_bad_setting_is_one_line_before_anything_runs(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"text": CLEAN[0]}])
    recipe = _decontamination_recipe(tmp_path, [{"path": str(tmp_path / "in.jsonl")}], tmp_path / "nowhere.jsonl")
    result = run_cli("run", recipe)
    assert result.exit_code == 2
    assert "steps[1].decontaminate.benchmarks.path: no file matches" in result.output
    assert not (tmp_path / "out" / ".curate" / "logs").exists()
    result = run_cli("validate", recipe, "--set", "steps[1].decontaminate.min_ngram=20")
    assert result.exit_code == 2 and "`min_ngram` must not exceed `ngram`" in result.output


def test_generated_records_are_decontaminated_in_the_generate_stage(tmp_path):
    # the fake model's dialogue turns are "Sentensi ya <n> katika mazungumzo haya." (tests/fake_models.py)
    benchmark = write_jsonl(tmp_path / "dialogue.jsonl", [{"question": "Sentensi ya 2 katika mazungumzo haya."}])
    write_jsonl(tmp_path / "in.jsonl", [{"text": CLEAN[2]}])
    recipe = {
        "name": "gen", "output": str(tmp_path / "out"), "inputs": [{"path": str(tmp_path / "in.jsonl")}],
        "steps": [{"decontaminate": {"min_ngram": 5, "benchmarks": [
            {"name": "dlg", "path": str(benchmark), "fields": ["question"]}]}}],
        "llm": {"engine": "tests.fake_models:ChattyEngine"},
        "generate": {"languages": ["sw"], "dialogue": {"count": 2, "turns": 4}},
        "dataset": {"rejects": True},
    }
    result = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 0, result.output
    stats = load_stats(tmp_path / "out")
    assert stats["accounting"]["ok"], stats["accounting"]
    generated = [s for s in stats["steps"] if s["stage"] == "generate" and s["step"] == "decontaminate"]
    assert generated and generated[0]["dropped"].get("contaminated", 0) == generated[0]["in"] > 0
    dlg = stats["decontamination"]["benchmarks"]["dlg"]
    assert dlg["contaminated_by_stage"] == {"generate": generated[0]["in"]}
    assert list((tmp_path / "out" / "rejects" / "decontaminate-generated").glob("*.jsonl.gz"))
