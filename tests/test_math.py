"""The math generator: translation that keeps the numbers, k samples per question, only solutions
whose final answer equals the gold one, cross-lingual formats, counts that add up; verification of
digit-heavy solutions; the recipe; a run through the CLI; and the bundled model end to end (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datatrove.data import Document

from curation.errors import RecipeError
from curation.llm.cache import CachedEngine, RequestCache
from curation.llm.fake import FakeEngine
from curation.recipe import load_recipe
from filters.verify import VerifyStep
from generators.base import Asker
from generators.math import MathGenerator, parse_solution
from tests.conftest import QUICKSTART_DATA, load_stats, run_cli, step_stats, write_recipe
from tests.fake_models import BUNDLED_MATH_GOLDS, MathModel
from tests.vllm_server import served_llm

QUESTIONS = [
    {"id": "a", "question": "Amina has 3 mangoes and gets 4 more. How many mangoes?", "answer": "3 + 4 = 7\n#### 7"},
    {"id": "b", "question": "A bus has 20 seats and 12 are taken. How many are empty?", "answer": 8},
    {"id": "c", "question": "5 rows of 6 plants. How many plants?", "answer": "30"},
    {"id": "d", "question": "A question without a gold answer: 2 and 2?", "answer": "four"},
]
PLANS = {(3, 4): ["right", "wrong", "right_plain", "right"], (20, 12): ["none", "bare", "wrong", "right"],
         (5, 6): ["wrong"]}


def run(generator: MathGenerator, lang: str, model: MathModel, engine=None) -> tuple[list[Document], Asker]:
    asker = Asker(engine or FakeEngine(model), model="fake")
    return list(generator.generate(lang, asker)), asker


def test_only_solutions_with_the_gold_answer_are_kept_and_counted():
    model = MathModel(BUNDLED_MATH_GOLDS, PLANS)
    generator = MathGenerator(QUESTIONS, samples=4, source_lang="sw")  # asked as written: no translation
    records, asker = run(generator, "sw", model)
    assert len(model.prompts) == generator.estimate_prompts("sw") == 3 * 4
    # a: samples 0, 2 and 3 right, but 3 repeats 0 word for word -> 2 kept, 1 duplicate; b: sample 3
    assert [r.id for r in records] == ["math/swh/a/0", "math/swh/a/2", "math/swh/b/3"]
    assert [r.metadata["answer_found_by"] for r in records] == ["marker", "last_number", "marker"]
    assert all(r.metadata["extracted_answer"] == r.metadata["gold_answer"] for r in records)
    first = records[0]
    assert first.metadata["messages"][0]["content"] == QUESTIONS[0]["question"]
    assert first.metadata["messages"][1]["content"].endswith("#### 7")
    assert first.metadata["task"] == "math" and first.metadata["target_lang"] == "swh"
    reasons = sorted(f.reason for f in asker.failures)  # a: 1 wrong; b: none, bare, wrong; c: 4 wrong
    assert reasons == ["no_answer", "no_reasoning"] + ["wrong_answer"] * 6
    assert asker.counts["swh"] == {"math.attempted": 3, "math.without_gold": 1, "math.solved": 2,
                                   "math.kept": 3, "math.duplicates": 1}
    # every sample is accounted for: kept + duplicates + failures
    assert 3 + 1 + len(asker.failures) == 3 * 4


def test_samples_are_distinct_requests_and_a_rerun_asks_nothing(tmp_path: Path):
    seeds = []
    for attempt in range(2):
        inner = FakeEngine(MathModel(BUNDLED_MATH_GOLDS, PLANS))
        original = inner.generate
        inner.generate = lambda requests, original=original: (seeds.extend(r.sampling.seed for r in requests)
                                                              or original(requests))
        cached = CachedEngine(inner, RequestCache(tmp_path / "cache.sqlite"))
        records, _ = run(MathGenerator(QUESTIONS[:2], samples=3, source_lang="sw"), "sw", None, engine=cached)
        if attempt == 0:
            assert inner.requests_seen == 6 and len(set(seeds)) == 6  # 2 questions x 3 samples, 6 seeds
            first = [r.id for r in records]
        else:
            assert inner.requests_seen == 0 and [r.id for r in records] == first


def test_every_sample_is_asked_in_one_engine_call():
    """k samples are one batch, not k calls that each wait on their longest answer."""
    inner = FakeEngine(MathModel(BUNDLED_MATH_GOLDS, PLANS))
    calls = []
    original = inner.generate
    inner.generate = lambda requests: calls.append(len(requests)) or original(requests)
    records, _ = run(MathGenerator(QUESTIONS, samples=4, source_lang="sw"), "sw", None, engine=inner)
    assert calls == [3 * 4]  # 3 questions with a gold answer x 4 samples
    assert [r.id for r in records] == ["math/swh/a/0", "math/swh/a/2", "math/swh/b/3"]  # as sample by sample


def test_questions_are_translated_and_a_translation_that_loses_a_number_fails():
    model = MathModel(BUNDLED_MATH_GOLDS, PLANS)
    records, asker = run(MathGenerator(QUESTIONS[:2], samples=1), "sw", model)
    assert sum(p.startswith("Translate") and "Swahili" in p for p in model.prompts) == 2
    assert records[0].metadata["messages"][0]["content"] == "Swali: mtu ana vitu 3 na 4. Je, jibu ni nini?"
    assert records[0].metadata["source_question"] == QUESTIONS[0]["question"]

    lossy = MathModel(BUNDLED_MATH_GOLDS, PLANS, lose_numbers=True)
    records, asker = run(MathGenerator(QUESTIONS[:2], samples=1), "sw", lossy)
    assert records == [] and [f.reason for f in asker.failures] == ["numbers_changed", "numbers_changed"]
    assert asker.counts["swh"]["math.attempted"] == 2 and asker.counts["swh"]["math.solved"] == 0


def test_answers_in_another_digit_script_match_the_gold():
    model = MathModel(BUNDLED_MATH_GOLDS, {(3, 4): ["right"]}, digits="deva")
    records, asker = run(MathGenerator(QUESTIONS[:1], samples=1, source_lang="hi"), "hi", model)
    assert records[0].metadata["messages"][1]["content"].endswith("#### ७")
    assert records[0].metadata["extracted_answer"] == "7" and asker.failures == []


def test_cross_lingual_formats_put_question_and_reasoning_in_different_languages():
    model = MathModel(BUNDLED_MATH_GOLDS, {(3, 4): ["right"]})
    generator = MathGenerator(QUESTIONS[:1], samples=1, cross_lingual=["source_question", "source_reasoning"])
    records, _ = run(generator, "sw", model)
    by_format = {r.metadata["format"]: r for r in records}
    assert set(by_format) == {"native", "source_question", "source_reasoning"}
    assert by_format["source_question"].metadata["messages"][0]["content"] == QUESTIONS[0]["question"]
    assert by_format["source_question"].metadata["turn_target_langs"] == ["eng", "swh"]
    assert by_format["source_reasoning"].metadata["turn_target_langs"] == ["swh", "eng"]
    solve_prompts = [p for p in model.prompts if p.startswith("Solve")]
    assert sum("reasoning only in English" in p for p in solve_prompts) == 1
    assert sum("reasoning only in Swahili" in p for p in solve_prompts) == 2
    # in the source language itself there is nothing cross-lingual to write
    records, _ = run(generator, "en", MathModel(BUNDLED_MATH_GOLDS, {(3, 4): ["right"]}))
    assert [r.metadata["format"] for r in records] == ["native"]


def test_a_task_for_some_languages_asks_nothing_for_the_others():
    generator = MathGenerator(QUESTIONS, languages=["sw"])
    model = MathModel(BUNDLED_MATH_GOLDS, PLANS)
    assert generator.estimate_prompts("yo") == 0 and run(generator, "yo", model)[0] == [] and model.prompts == []


def test_parse_solution_reasons():
    assert parse_solution("Tunaongeza 3 na 4 tunapata saba.\n#### 7", "q", 7).answer == "7"
    for text, reason in [("Amina has 3 mangoes", "echoed_prompt"), ("hakuna jibu hapa kabisa", "no_answer"),
                         ("#### 7", "no_reasoning"), ("Tunaongeza 3 na 4 tunapata nane.\n#### 8", "wrong_answer")]:
        with pytest.raises(Exception) as error:
            parse_solution(text, "Amina has 3 mangoes", 7)
        assert error.value.reason == reason


def test_bad_settings_are_one_line_errors(tmp_path: Path):
    with pytest.raises(RecipeError, match="temperature"):
        MathGenerator(QUESTIONS, samples=2, temperature=0)
    with pytest.raises(RecipeError, match="cross_lingual"):
        MathGenerator(QUESTIONS, cross_lingual=["both"])
    with pytest.raises(RecipeError, match="numeric 'answer'"):
        MathGenerator([{"question": "What?", "answer": "many"}]).estimate_prompts("sw")
    base = {"name": "m", "output": "out/m", "inputs": [{"path": "x.jsonl"}]}
    with pytest.raises(RecipeError, match="math.languages"):
        load_recipe(write_recipe(tmp_path / "a.yaml", {**base, "generate": {
            "languages": ["sw"], "math": {"languages": ["yo"]}}}))
    with pytest.raises(RecipeError, match="temperature"):
        load_recipe(write_recipe(tmp_path / "b.yaml", {**base, "generate": {
            "languages": ["sw"], "math": {"samples": 3, "temperature": 0}}}))


def test_mgsm_tsv_and_gsm8k_jsonl_sources(tmp_path: Path):
    tsv = tmp_path / "mgsm_sw.tsv"
    tsv.write_text("Amina ana maembe 3 na anapata 4 zaidi. Ana maembe mangapi?\t7\n"
                   "Basi lina viti 20 na 12 vimekaliwa. Viti vingapi viko wazi?\t8\n", encoding="utf-8")
    generator = MathGenerator(str(tsv), source_lang="sw", samples=1)
    assert generator.estimate_prompts("sw") == 2  # already in Swahili: no translation
    gsm8k = tmp_path / "gsm8k.jsonl"
    gsm8k.write_text("\n".join(json.dumps(q) for q in QUESTIONS[:2]), encoding="utf-8")
    assert MathGenerator(str(gsm8k), samples=2).estimate_prompts("sw") == 2 + 2 * 2
    assert MathGenerator(samples=1).estimate_prompts("en") == 12  # the bundled dozen


# -- verification of math records (the real LID) -------------------------------------------------

SOLUTIONS = {  # digit-heavy worked solutions, each in its script's own digits
    "hin": ("अमीना के पास ३ आम हैं।", "अमीना के पास ३ आम हैं। भाई ४ और देता है। ३ + ४ = ७ आम।\n#### ७"),
    "arb": ("لدى أمينة ٣ حبات مانجو.", "لدى أمينة ٣ حبات مانجو. أعطاها أخوها ٤ أخرى. ٣ + ٤ = ٧.\n#### ٧"),
    "tha": ("อามีนามีมะม่วง ๓ ผล", "อามีนามีมะม่วง ๓ ผล พี่ชายให้อีก ๔ ผล ๓ + ๔ = ๗ ผล\n#### ๗"),
    "ben": ("আমিনার কাছে ৩টি আম আছে।", "আমিনার কাছে ৩টি আম আছে। ভাই আরও ৪টি দেয়। ৩ + ৪ = ৭টি আম।\n#### ৭"),
    "swh": ("Hatua kwa hatua:", "Hatua 1: 4 * 30 = 120\nHatua 2: 120 - 7 = 113\n#### 113"),
}


def math_record(lang: str, question: str, solution: str, turn_langs: list[str] | None = None) -> Document:
    return Document(text=f"{question}\n\n{solution}", id=f"math/{lang}/{len(solution)}", metadata={
        "messages": [{"role": "user", "content": question}, {"role": "assistant", "content": solution}],
        "target_lang": lang, "task": "math", "turn_target_langs": turn_langs or [lang, lang], "novelty_turn": 1})


def test_verify_keeps_digit_heavy_solutions_in_every_script():
    verify = VerifyStep()
    for lang, (question, solution) in SOLUTIONS.items():
        assert verify.keep(math_record(lang, question, solution)) is True, lang


def test_verify_checks_each_turn_in_its_own_language_and_dedups_on_the_solution():
    question_en = "Amina has 3 mangoes and her brother gives her 4 more. How many mangoes does she have?"
    reasoning_sw = ("Kwanza, Amina alikuwa na maembe 3. Kisha kaka yake akampa maembe 4 zaidi. Kwa hiyo tunajumlisha: "
                    "3 + 4 = 7. Sasa Amina ana maembe 7.\n#### 7")
    verify = VerifyStep()
    assert verify.keep(math_record("swh", question_en, reasoning_sw, ["eng", "swh"])) is True
    # the same turns with the languages the other way round are wrong
    assert verify.keep(math_record("swh", question_en, reasoning_sw + " ", ["swh", "eng"])) == (False, "wrong_language")
    # a second, different solution of the same question is not a near duplicate...
    other = "Tunaongeza: tatu jumlisha nne ni sawa na saba, kwa hiyo Amina ana maembe saba.\n#### 7"
    assert verify.keep(math_record("swh", question_en, other, ["eng", "swh"])) is True
    # ...but the same solution under another question is
    assert verify.keep(math_record("swh", "Another question entirely, about buses and seats?", reasoning_sw,
                                   ["eng", "swh"])) == (False, "near_duplicate")


# -- through the CLI -----------------------------------------------------------------------------


def test_math_run_publishes_verified_solutions_and_counts_them(tmp_path: Path):
    recipe = {
        "name": "m", "output": str(tmp_path / "m"),
        "inputs": [{"path": str(QUICKSTART_DATA / "web_sample.jsonl"), "id_key": "id"}],
        "steps": [{"lid": {"keep": ["sw"]}}],
        "llm": {"engine": "tests.fake_models:MathEngine"},
        "generate": {"languages": ["sw"], "math": {"count": 3, "samples": 3}},
    }
    result = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 0, result.output
    output = tmp_path / "m"
    stats = load_stats(output)
    assert stats["accounting"]["ok"], stats["accounting"]
    generation = stats["generation"]["swh_Latn"]
    assert generation["counts"] == {"math.attempted": 3, "math.solved": 2, "math.kept": 4}
    assert generation["failed"] == {"wrong_answer": 5}
    generate, verify = step_stats(stats, "generate"), step_stats(stats, "verify")
    assert generate["kept"] == verify["in"] == 4
    published = [r for shard in sorted((output / "data" / "sw-math").glob("*.parquet"))
                 for r in pq.read_table(shard).to_pylist()]
    assert len(published) == verify["kept"]
    for row in published:
        meta = json.loads(row["metadata"])
        assert meta["extracted_answer"] == meta["gold_answer"] and row["messages"][0]["role"] == "user"
    card = (output / "README.md").read_text(encoding="utf-8")
    assert "swh_Latn: 3 attempted, 2 solved, 4 solutions kept" in card


# -- the bundled model (slow) --------------------------------------------------------------------


@pytest.mark.slow  # 8 solutions of <= 96 tokens from the session's served bundled model (tests/vllm_server.py)
def test_bundled_model_math_run_keeps_only_matching_solutions(tmp_path: Path, vllm_server: str):
    """SmolLM2-135M rarely solves a word problem: the test asserts what holds whatever it writes."""
    recipe = {
        "name": "math-vllm", "output": str(tmp_path / "out"),
        "llm": served_llm(vllm_server),
        "generate": {"languages": ["en"], "math": {"count": 4, "samples": 2, "max_tokens": 96}},
        "executor": {"local": {"tasks": 1, "workers": 1}},
    }
    result = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 0, result.output
    output = tmp_path / "out"
    stats = load_stats(output)
    assert stats["accounting"]["ok"], stats["accounting"]
    generation = stats["generation"]["eng_Latn"]
    counts, failed = generation["counts"], generation["failed"]
    assert generation["prompts"] == 4 * 2 and counts["math.attempted"] == 4
    assert set(failed) <= {"wrong_answer", "no_answer", "no_reasoning", "echoed_prompt", "empty_answer"}
    kept = counts.get("math.kept", 0)
    assert kept + counts.get("math.duplicates", 0) + sum(failed.values()) == 4 * 2  # every sample accounted for
    assert counts.get("math.solved", 0) <= min(4, kept)
    assert step_stats(stats, "generate")["kept"] == kept
    rows = [r for shard in sorted((output / "data").glob("en-math/*.parquet")) for r in pq.read_table(shard).to_pylist()]
    assert len(rows) == step_stats(stats, "verify")["kept"]
    for row in rows:  # whatever the model wrote, a published solution's final answer is the gold one
        meta = json.loads(row["metadata"])
        assert meta["extracted_answer"] == meta["gold_answer"]
    failures = [json.loads(line) for f in (output / "failures").glob("*.jsonl") for line in f.read_text().splitlines()]
    assert len(failures) == sum(failed.values()) and all(f["answer"] for f in failures if f["reason"] != "empty_answer")
