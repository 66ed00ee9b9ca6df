"""Preference data: several answers per prompt, verified, judged, paired in TRL's layout."""

import json

import pyarrow.parquet as pq
import pytest
from datatrove.data import Document

from curation.llm.fake import FakeEngine
from filters.preference import PreferencePairs
from tests.conftest import load_stats, run_cli, step_stats, write_recipe
from tests.fake_models import ChattyModel

PROMPT = [{"role": "user", "content": "Eleza jinsi ya kupanda mti wa mwembe."}]
DETAILED = "Chimba shimo, weka mbolea na panda mche — hili ni jibu la kina kwa Kiswahili."
SHORT = "Panda mche wa mwembe shambani kwako leo."


def candidate(answers: list[str], doc_id: str = "c") -> Document:
    return Document(text=PROMPT[0]["content"], id=doc_id, metadata={
        "messages": list(PROMPT), "responses": answers, "target_lang": "swh", "task": "preference",
        "lang": "swh_Latn"})


def test_the_best_and_worst_answers_become_a_pair_with_their_margin():
    step = PreferencePairs(engine=FakeEngine(responder=ChattyModel(strict=False)))
    kept = list(step.run([candidate([SHORT, DETAILED, "The answer is in English, which the check refuses."])]))
    assert len(kept) == 1
    pair = kept[0].metadata
    assert pair["messages"] == [*PROMPT, {"role": "assistant", "content": DETAILED}] and pair["rejected"] == SHORT
    assert pair["scores"]["preference.margin"] > 2 and "responses" not in pair
    assert step.stats.stats["answer_wrong_language/swh_Latn"].total == 1


def test_ties_and_too_few_answers_are_counted_never_paired():
    step = PreferencePairs(engine=FakeEngine(responder=ChattyModel(strict=False)))
    docs = [candidate([DETAILED], "one"), candidate([SHORT, SHORT.replace("leo", "kesho")], "tie"),
            candidate([DETAILED, "Kwa nini swali hili? swali?"], "unjudged"),
            Document(text="other task", id="other", metadata={"task": "instruction", "lang": "swh_Latn"})]
    kept = list(step.run(docs))
    assert [d.id for d in kept] == ["other"]
    counters = step.stats.stats
    assert counters["dropped/swh_Latn/too_few_responses"].total == 1
    assert counters["dropped/swh_Latn/no_margin"].total == 1
    assert counters["dropped/swh_Latn/too_few_judged"].total == 1


def test_pairwise_check_asks_both_orders_and_drops_a_pair_it_reverses():
    step = PreferencePairs(pairwise_check=True, engine=FakeEngine(responder=ChattyModel(strict=False)))
    assert [d.id for d in step.run([candidate([SHORT, DETAILED])])] == ["c"]
    assert step.engine.requests_seen == 2 * 3 + 2  # two answers x three criteria, then both orders

    def contrary(messages):  # rates like ChattyModel, but compares the other way round
        text = messages[-1]["content"]
        answer = ChattyModel(strict=False)(messages)
        return {"A": "B", "B": "A"}[answer] if text.startswith("Two responses") else answer

    reversed_judge = PreferencePairs(pairwise_check=True, engine=FakeEngine(responder=contrary))
    assert list(reversed_judge.run([candidate([SHORT, DETAILED])])) == []
    assert reversed_judge.stats.stats["dropped/swh_Latn/pairwise_disagrees"].total == 1


def test_a_preference_recipe_writes_trl_columns_per_language(tmp_path):
    prompts = [{"instruction": "Eleza jinsi ya kupanda mti wa mwembe.", "lang": "sw"},
               {"instruction": "Eleza faida za kunywa maji safi kila siku kwa afya ya mwili na akili.", "lang": "sw"},
               {"instruction": "Eleza kwa nini ukimya ni muhimu — kimya.", "lang": "sw"},
               {"instruction": "Give three tips for staying healthy."}]  # English: translated first
    (tmp_path / "prompts.jsonl").write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in prompts))
    recipe = {"name": "pref", "output": str(tmp_path / "out"),
              "generate": {"languages": ["sw"], "preference": {"prompts": str(tmp_path / "prompts.jsonl"),
                                                               "responses": 3}},
              "llm": {"engine": "tests.fake_models:PreferenceEngine"}}
    result = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 0, result.output
    stats = load_stats(tmp_path / "out")
    assert stats["accounting"]["ok"]
    rows = [r for f in sorted((tmp_path / "out" / "data" / "sw-preference").glob("*.parquet"))
            for r in pq.read_table(f).to_pylist()]
    assert len(rows) == 3 and {"prompt", "chosen", "rejected"} <= set(rows[0])
    for row in rows:
        assert row["prompt"][0]["role"] == "user" and row["chosen"][0]["role"] == "assistant"
        assert "jibu la kina" in row["chosen"][0]["content"] and "jibu fupi" in row["rejected"][0]["content"]
        assert json.loads(row["scores"])["preference.margin"] >= 0.5
    assert any(r["prompt"][0]["content"] == "Toa vidokezo vitatu vya kuwa na afya njema." for r in rows)
    assert step_stats(stats, "preference")["dropped"] == {"too_few_responses": 1}
    card = (tmp_path / "out" / "README.md").read_text()
    assert "TRL's preference columns" in card


@pytest.mark.slow
@pytest.mark.model
def test_dpo_trains_a_lora_adapter_on_the_pairs_and_measures_it(tmp_path):
    """Real TRL DPO on the bundled model (CPU): the pairs of a preference run, held out before/after."""
    prompts = [{"instruction": text, "lang": "sw"} for text in (
        "Eleza jinsi ya kupanda mti wa mwembe shambani kwako.",
        "Taja faida tatu za kunywa maji safi kila siku kwa afya ya mwili.",
        "Andika barua fupi kwa rafiki yako kuhusu safari ya kwenda Mombasa.",
        "Kwa nini watoto wanapaswa kwenda shuleni kila asubuhi pamoja na wenzao?",
        "Elezea namna ya kupika chai ya tangawizi nyumbani kwa hatua rahisi.",
        "Ni mambo gani muhimu ya kuzingatia unapofuga kuku wa kienyeji kijijini?")]
    (tmp_path / "prompts.jsonl").write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in prompts))
    recipe = {"name": "dpo", "output": str(tmp_path / "out"),
              "generate": {"languages": ["sw"], "preference": {"prompts": str(tmp_path / "prompts.jsonl"),
                                                               "responses": 2}},
              "llm": {"engine": "tests.fake_models:PreferenceEngine"},
              "train": {"method": "dpo", "max_steps": 2, "batch_size": 2, "max_length": 96, "samples": 1,
                        "sample_max_tokens": 8, "held_out": 0.34}}
    result = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 0, result.output
    metrics = load_stats(tmp_path / "out")["training"]["all"]
    assert metrics["method"] == "dpo" and metrics["train_records"] == 4 and metrics["held_out_records"] == 2
    # Before training the policy is the reference: DPO's loss is ln 2 and no pair has a margin.
    assert metrics["held_out_loss_before"] == pytest.approx(0.6931, abs=1e-3)
    assert metrics["reward_margin_before"] == pytest.approx(0.0, abs=1e-6)
    assert metrics["reward_margin_after"] is not None and metrics["held_out_loss_after"] is not None
    assert (tmp_path / "out" / "train" / "all" / "adapter" / "adapter_config.json").exists()
    assert "held-out reward margin (DPO)" in (tmp_path / "out" / "report.html").read_text()
