"""Generators: parsing model output in several scripts, novelty in every script, and each generator's
flow against a fake engine that answers like a chatty model (preambles, bold, duplicates, refusals)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from curation.errors import ParseError, RecipeError
from curation.llm.cache import CachedEngine, RequestCache
from curation.llm.fake import FakeEngine
from curation.novelty import NoveltyFilter, similarity
from generators.base import Asker, Item
from generators.dialogue import DialogueGenerator, parse_turns
from generators.instruction import InstructionGenerator, parse_numbered_list, parse_response
from generators.qa import QAGenerator, answer_in_passage
from generators.translate import TranslateGenerator, parse_translation
from tests.fake_models import PASSAGE_SW, SWAHILI_TASKS, ChattyModel

# -- a fake model ------------------------------------------------------------------------------

def run(generator, lang: str, model: ChattyModel, engine=None) -> tuple[list, Asker]:
    asker = Asker(engine or FakeEngine(model), model="fake")
    return list(generator.generate(lang, asker)), asker


# -- parsing numbered lists ---------------------------------------------------------------------


def test_numbered_list_survives_a_chatty_answer():
    answer = """Hizi hapa kazi mpya kwa Kiswahili:

**1.** Eleza jinsi ya kupika ugali.
2) Andika shairi fupi kuhusu mvua.

- Taja matunda matatu ya kitropiki.
3. Tafsiri sentensi hii kwa Kiingereza:
   "Habari za asubuhi"
4. Kazi ya nne:
5. <task>
6. Give three tips for drinking enough water.
Natumaini hizi zitasaidia!"""
    items = parse_numbered_list(answer, examples=["Give three tips for drinking enough water."])
    assert items == [
        "Eleza jinsi ya kupika ugali.",
        "Andika shairi fupi kuhusu mvua.",
        "Taja matunda matatu ya kitropiki.",
        'Tafsiri sentensi hii kwa Kiingereza:\n"Habari za asubuhi"',
    ]


@pytest.mark.parametrize(("answer", "expected"), [
    ("१. नेपालको राजधानीको बारेमा छोटो अनुच्छेद लेख्नुहोस्।\n२) स्वस्थ खानाका तीन सुझाव दिनुहोस्।",
     ["नेपालको राजधानीको बारेमा छोटो अनुच्छेद लेख्नुहोस्।", "स्वस्थ खानाका तीन सुझाव दिनुहोस्।"]),
    ("以下是新任务：\n１．请写一首关于秋天的诗。\n2、请列出三种常见的水果。\n\n三、解释为什么天空是蓝色的。",
     ["请写一首关于秋天的诗。", "请列出三种常见的水果。", "解释为什么天空是蓝色的。"]),
    ("إليك المهام:\n١- اكتب قصيدة قصيرة عن المطر.\n٢. اذكر ثلاثة أنواع من الفاكهة.",
     ["اكتب قصيدة قصيرة عن المطر.", "اذكر ثلاثة أنواع من الفاكهة."]),
])
def test_numbered_list_in_other_scripts(answer, expected):
    assert parse_numbered_list(answer) == expected


def test_numbered_list_failures_name_their_reason():
    with pytest.raises(ParseError) as prose:
        parse_numbered_list("Samahani, siwezi kuandika kazi hizo.")
    assert prose.value.reason == "bad_format"
    with pytest.raises(ParseError) as junk:
        parse_numbered_list("1. Andika yafuatayo:\n2. ab\n3. <instruction>")
    assert junk.value.reason == "no_instructions"
    assert "ends_with_colon" in junk.value.detail and "too_short" in junk.value.detail


def test_list_numbers_are_not_confused_with_decimals():
    assert parse_numbered_list("1. Pima unga kilo 2.\n3.5 kilo za sukari ni nyingi mno.") == ["Pima unga kilo 2."]


# -- novelty ------------------------------------------------------------------------------------


def _rouge_default_tokens(text: str) -> list[str]:
    """What ROUGE's default tokenizer (as Self-Instruct uses it) keeps: lowercase ASCII words."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).split()


@pytest.mark.parametrize(("first", "near_duplicate", "different"), [
    ("请写一首关于秋天的诗。", "写一首关于秋天的诗", "请列出三种常见的水果。"),
    ("एक स्वस्थ नाश्ते के लिए तीन सुझाव दीजिए।", "स्वस्थ नाश्ते के लिए तीन सुझाव दीजिए।",
     "अपने दोस्त को जन्मदिन की बधाई का संदेश लिखिए।"),
])
def test_novelty_rejects_near_duplicates_that_word_overlap_misses(first, near_duplicate, different):
    # Word-level ROUGE-L sees no tokens at all in these scripts, so it could never reject anything.
    assert _rouge_default_tokens(first) == _rouge_default_tokens(near_duplicate) == []
    novelty = NoveltyFilter(threshold=0.7)
    assert novelty.add_if_novel(first)
    assert similarity(first, near_duplicate) >= 0.7
    assert not novelty.add_if_novel(near_duplicate)
    assert novelty.add_if_novel(different)
    assert not novelty.add_if_novel(different + "  ")  # whitespace/punctuation variants are copies
    assert len(novelty) == 2


def test_novelty_is_deterministic_and_rejects_empty_text():
    texts = SWAHILI_TASKS + [t.upper() for t in SWAHILI_TASKS[:4]] + ["", "!!!"]
    decisions = [[NoveltyFilter(0.7).add_if_novel(t) for t in texts] for _ in range(2)]
    one = NoveltyFilter(0.7)
    assert decisions[0] == decisions[1]
    assert [one.add_if_novel(t) for t in texts] == [True] * len(SWAHILI_TASKS) + [False] * 6


# -- responses and translations -----------------------------------------------------------------


def test_response_parsing_strips_echo_and_rejects_refusals():
    request = "Eleza jinsi ya kupika ugali."
    assert parse_response(f"{request}\nResponse: Chemsha maji, ongeza unga.", request) == "Chemsha maji, ongeza unga."
    for answer, reason in [("  ", "empty_field"), ("eleza jinsi ya kupika ugali", "echoed_prompt"),
                           ("As an AI, I cannot cook.", "refusal"), ("I'm sorry, but I can't help.", "refusal")]:
        with pytest.raises(ParseError) as error:
            parse_response(answer, request)
        assert error.value.reason == reason


def test_translation_parsing_keeps_only_the_translation():
    source = "Explain how to cook rice."
    messy = "Sure! Here is the translation:\n\n```\n«Eleza jinsi ya kupika wali.»\n```\n\nNote: formal register."
    assert parse_translation(messy, source) == "Eleza jinsi ya kupika wali."
    assert parse_translation("**Translation:** 请解释如何煮米饭。", source) == "请解释如何煮米饭。"
    with pytest.raises(ParseError) as echoed:
        parse_translation('"Explain how to cook rice"', source)
    assert echoed.value.reason == "echoed_prompt"


# -- instruction bootstrapping ------------------------------------------------------------------


def test_instruction_bootstrapping_yields_exactly_count_records():
    generator = InstructionGenerator(count=8, rounds=3, per_prompt=3, examples_per_prompt=3)
    model = ChattyModel()
    records, asker = run(generator, "sw", model)
    assert len(records) == 8
    assert len({r.id for r in records}) == 8
    for record in records:
        user, assistant = record.metadata["messages"]
        assert user["role"] == "user" and user["content"] in SWAHILI_TASKS
        assert assistant["role"] == "assistant"
        assert assistant["content"] == f"{user['content'].rstrip('.?')} — hili ni jibu la kina kwa Kiswahili."
        assert record.metadata["target_lang"] == "swh" and record.metadata["task"] == "instruction"
    # Every accepted instruction is distinct; the near-duplicate bullet and the copied example never are.
    assert len({r.metadata["messages"][0]["content"] for r in records}) == 8
    # Bootstrapping: later rounds show the model tasks it wrote in Swahili earlier.
    list_prompts = [p for p in model.prompts if "NEW tasks" in p]
    assert len(list_prompts) >= 2
    assert any(task in list_prompts[-1] for task in SWAHILI_TASKS)
    assert {r.metadata["generation_round"] for r in records} == {0, 1, 2}
    assert len(model.prompts) == generator.estimate_prompts("swh")
    assert asker.failures == []


def test_instruction_failures_are_recorded_with_reasons():
    model = ChattyModel(refuse=SWAHILI_TASKS[1])
    records, asker = run(InstructionGenerator(count=4, rounds=1, per_prompt=4), "swh", model)
    assert len(records) == 3
    assert [(f.reason, f.item_id, f.generator) for f in asker.failures] == [("refusal", "r0-p0-1", "instruction")]
    assert SWAHILI_TASKS[1] in asker.failures[0].prompt[0]["content"]
    assert asker.failures[0].answer.startswith("As an AI")


SEEDS = [{"instruction": "Give three tips for drinking enough water during a hot day."},
         {"instruction": "Explain in simple words why the sky looks blue during the day."}]


@pytest.mark.parametrize(("answer", "reason"), [
    # copies of the examples the prompt showed: dropped while parsing
    ("1. Give three tips for drinking enough water during a hot day.\n"
     "2. Explain in simple words why the sky looks blue during the day.", "no_instructions"),
    # near-copies of the seeds: parsed, then refused by the novelty filter
    ("1. Give 3 tips for drinking enough water during a hot day!\n"
     "2. Explain in simple words why the sky is blue during the day.", "no_novel_instructions"),
])
def test_a_list_with_nothing_new_is_a_failure(answer, reason):
    asker = Asker(FakeEngine(lambda messages: answer), model="fake")
    generator = InstructionGenerator(count=2, rounds=2, per_prompt=2, seeds=SEEDS)
    assert list(generator.generate("swh", asker)) == []
    assert [f.reason for f in asker.failures] == [reason, reason]  # one per round; no response asked for


def test_custom_seeds_must_have_instructions(tmp_path: Path):
    with pytest.raises(RecipeError, match="seed tasks"):
        InstructionGenerator(seeds=[{"response": "no instruction"}])
    path = tmp_path / "seeds.jsonl"
    path.write_text('{"instruction": "Eleza maana ya urafiki."}\n', encoding="utf-8")
    assert InstructionGenerator(seeds=str(path)).seeds == ["Eleza maana ya urafiki."]
    assert InstructionGenerator(seeds=["Eleza maana ya urafiki. "]).seeds == ["Eleza maana ya urafiki."]
    assert len(InstructionGenerator().seeds) == 12  # the bundled ones


# -- QA -----------------------------------------------------------------------------------------


def test_qa_extractive_drops_answers_not_in_the_passage():
    passages = [{"id": "nile", "text": PASSAGE_SW, "lang": "swh_Latn"},
                {"id": "other", "text": "The Nile flows north.", "lang": "en"}]
    generator = QAGenerator(passages, per_passage=3)
    records, asker = run(generator, "swh", ChattyModel())
    assert generator.estimate_prompts("swh") == 1
    answers = [r.metadata["messages"][1]["content"] for r in records]
    assert answers == ["kaskazini", "Bahari ya Mediterania."]  # "kilomita elfu sita" is not in the passage
    for record in records:
        user = record.metadata["messages"][0]["content"]
        assert user.startswith(PASSAGE_SW) and user.endswith("?")
        assert record.metadata["passage_id"] == "nile"
    assert [r.id for r in records] == ["qa/swh/nile/0", "qa/swh/nile/1"]
    assert asker.failures == []


def test_qa_passage_without_a_supported_answer_fails_with_the_reason():
    engine = FakeEngine(lambda messages: "Q: Mto Nile una urefu gani?\nA: kilomita elfu sita")
    asker = Asker(engine, model="fake")
    generator = QAGenerator([{"id": "nile", "text": PASSAGE_SW, "lang": "sw"}])
    assert list(generator.generate("swh", asker)) == []
    assert [(f.reason, f.item_id) for f in asker.failures] == [("answer_not_in_passage", "nile")]


def test_qa_abstractive_keeps_free_answers_but_not_the_copied_example():
    engine = FakeEngine(lambda messages: "Q: Which sea does the Nile empty into?\nA: the Mediterranean Sea\n"
                                         "Q: Mto Nile una urefu gani?\nA: Ni mrefu sana, kama kilomita elfu sita.")
    asker = Asker(engine, model="fake")
    generator = QAGenerator([{"id": "nile", "text": PASSAGE_SW, "lang": "swh"}], mode="abstractive")
    records = list(generator.generate("swh", asker))
    assert [r.metadata["messages"][1]["content"] for r in records] == ["Ni mrefu sana, kama kilomita elfu sita."]


def test_qa_summarize_first_asks_from_the_summary():
    model = ChattyModel()
    generator = QAGenerator([{"id": "nile", "text": PASSAGE_SW, "lang": "swh"}], summarize_first=True)
    records, _ = run(generator, "swh", model)
    assert generator.estimate_prompts("swh") == 2 == len(model.prompts)
    summary = "Mto Nile hutiririka kaskazini hadi Bahari ya Mediterania."
    assert "Summarize the main point" in model.prompts[0]
    assert f"Summary: {summary}" in model.prompts[1] and PASSAGE_SW in model.prompts[1]
    assert len(records) == 2 and all(r.metadata["summary"] == summary for r in records)


def test_answer_matching_ignores_case_space_and_punctuation():
    assert answer_in_passage("bahari ya  MEDITERANIA!", PASSAGE_SW)
    assert answer_in_passage("秋天的诗", "请写一首关于秋天的诗。")
    assert not answer_in_passage("kilomita", PASSAGE_SW)
    assert not answer_in_passage("...", PASSAGE_SW)


# -- dialogue -----------------------------------------------------------------------------------


def test_dialogue_turns_tolerate_bold_names_and_continuations():
    text = """Haya ni mazungumzo:

**A:** Habari za asubuhi, jirani!
**B:** Nzuri sana. Na wewe je?
A: Salama. Unaenda sokoni leo?
Nataka kununua nyanya.
A: Twende pamoja.
B - Sawa, tuonane saa tatu.

(Mwisho wa mazungumzo)"""
    assert parse_turns(text) == [
        ("A", "Habari za asubuhi, jirani!"),
        ("B", "Nzuri sana. Na wewe je?"),
        ("A", "Salama. Unaenda sokoni leo?\nNataka kununua nyanya.\nTwende pamoja."),
        ("B", "Sawa, tuonane saa tatu."),
    ]
    named = "Haya ni mazungumzo:\nAmina: Umechelewa leo.\nJuma: Samahani, basi lilichelewa.\nAmina: Usijali."
    assert [who for who, _ in parse_turns(named)] == ["A", "B", "A"]
    with pytest.raises(ParseError) as third:
        parse_turns(named + "\nHalima: Karibuni!")
    assert third.value.reason == "bad_format"


def test_dialogue_records_alternate_and_carry_the_scenario():
    generator = DialogueGenerator(count=3, turns=6)
    model = ChattyModel(dialogue_turns=7)  # an odd last turn is trimmed
    records, asker = run(generator, "swh", model)
    assert len(records) == 3 and asker.failures == []
    for record in records:
        roles = [m["role"] for m in record.metadata["messages"]]
        assert roles == ["user", "assistant"] * 3
        assert all(m["content"].startswith("Sentensi ya") for m in record.metadata["messages"])
        persona_a, persona_b = record.metadata["personas"]
        assert persona_a != persona_b and record.metadata["speech_event"] and record.metadata["common_ground"]
    assert [r.metadata["speech_event"] for r in records] == generator.speech_events[:3]
    assert records[0].metadata["personas"][0] in model.prompts[0]


def test_dialogue_too_short_is_a_failure():
    records, asker = run(DialogueGenerator(count=2, turns=6), "swh", ChattyModel(dialogue_turns=3))
    assert records == []
    assert [f.reason for f in asker.failures] == ["too_few_turns", "too_few_turns"]


# -- translate ----------------------------------------------------------------------------------


def test_translate_translates_the_instruction_then_answers_it_natively():
    source = [{"instruction": "Give three tips for staying healthy.", "output": "Eat well, sleep, exercise."},
              {"instruction": "Name the capital of", "input": "Kenya", "output": "Nairobi"},
              {"instruction": "", "output": "skipped: nothing to translate"}]
    model = ChattyModel()
    generator = TranslateGenerator(source)
    records, asker = run(generator, "swahili", model)
    assert generator.estimate_prompts("swh") == 4 == len(model.prompts)
    translate_prompts, respond_prompts = model.prompts[:2], model.prompts[2:]
    assert all("Translate the following text" in p for p in translate_prompts)
    assert "Toa vidokezo vitatu vya kuwa na afya njema." in respond_prompts[0]
    assert "Give three tips" not in respond_prompts[0]  # the answer is written from the translation
    first = records[0]
    assert first.metadata["messages"][0]["content"] == "Toa vidokezo vitatu vya kuwa na afya njema."
    assert "Eat well" not in first.metadata["messages"][1]["content"]
    assert first.metadata["source_instruction"] == "Give three tips for staying healthy."
    assert first.metadata["task"] == "translate" and first.metadata["target_lang"] == "swh"
    assert [r.id for r in records] == ["translate/swh/00000", "translate/swh/00001"]
    assert asker.failures == []


# -- every generator, every prompt --------------------------------------------------------------


def _all_generators(lang: str) -> list:
    return [
        InstructionGenerator(count=3, rounds=2, per_prompt=2),
        QAGenerator([{"id": "p", "text": PASSAGE_SW, "lang": lang}], summarize_first=True),
        DialogueGenerator(count=2),
        TranslateGenerator([{"instruction": "Give three tips for staying healthy.", "output": "..."}]),
    ]


def test_every_prompt_names_the_language_and_asks_only_for_it():
    model = ChattyModel()
    for generator in _all_generators("ne"):
        run(generator, "ne", model)
    kinds = ["NEW tasks", "Respond to", "Summarize", "question-and-answer", "conversation", "Translate"]
    assert all(any(kind in p for p in model.prompts) for kind in kinds)
    for text in model.prompts:
        assert "Nepali" in text
        assert re.search(r"only in Nepali", text), text[:120]
        assert not re.search(r"\{\w+\}", text)  # every placeholder was filled (JSON examples have quotes)


def test_second_run_through_the_cache_sends_nothing(tmp_path: Path):
    outputs = []
    for attempt in range(2):
        engine = FakeEngine(ChattyModel())
        cached = CachedEngine(engine, RequestCache(tmp_path / "cache.sqlite"))
        records = []
        for generator in _all_generators("swh"):
            records += run(generator, "swh", ChattyModel(), engine=cached)[0]
        outputs.append([(r.id, r.text) for r in records])
        if attempt == 0:
            assert engine.requests_seen > 0
        else:
            assert engine.requests_seen == 0
    assert outputs[0] == outputs[1] and len(outputs[0]) > 0


def test_an_echoed_prompt_is_not_a_list_of_tasks():
    def echo_rules(messages: list[dict[str, str]]) -> str:
        return "\n".join(line for line in messages[-1]["content"].splitlines() if line.startswith("- "))

    asker = Asker(FakeEngine(echo_rules), model="fake")
    assert list(InstructionGenerator(count=2, rounds=1, per_prompt=2).generate("yo", asker)) == []
    assert [f.reason for f in asker.failures] == ["no_instructions"]
    assert "Yoruba" in asker.failures[0].prompt[0]["content"]


def test_a_structured_task_list_is_read_and_checked_like_a_numbered_one():
    from generators.instruction import parse_task_list, task_list_schema

    examples = ["Eleza jinsi ya kupika ugali."]
    text = json.dumps({"tasks": ["Andika shairi fupi kuhusu mvua.", "Eleza jinsi ya kupika ugali.", "Taja"]})
    assert parse_task_list(text, examples) == ["Andika shairi fupi kuhusu mvua."]  # the copy and the stub dropped
    assert parse_task_list("1. Taja wanyama watatu wa baharini.\n2. Eleza faida za mvua.") == [
        "Taja wanyama watatu wa baharini.", "Eleza faida za mvua."]  # not JSON: the engine could not constrain
    with pytest.raises(ParseError, match="bad_format"):
        parse_task_list('{"items": ["Andika shairi."]}')
    schema = json.loads(task_list_schema(5))
    assert schema["properties"]["tasks"]["maxItems"] == 5 and schema["required"] == ["tasks"]
    plain = InstructionGenerator(count=2, structured=False)
    assert "numbered list" in plain.build_prompt(Item("x", "swh", {"examples": examples}))[0]["content"]
