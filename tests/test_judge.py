"""The judge: scores read from log-probabilities (or parsed), failures counted, the recipe step."""

import json
import math

import pytest
from datatrove.data import Document

from curation.llm.fake import FakeEngine
from curation.llm.types import Completion
from filters.judge import Judge, Judged, JudgeFilter, answer_score, expected_score, parsed_score
from tests.fake_models import ChattyModel


def completion(text: str, first_token: dict[str, float] | None) -> Completion:
    top = [[{k: math.log(v) for k, v in first_token.items()}]] if first_token else None
    return Completion(texts=[text], prompt_tokens=1, completion_tokens=1, finish_reasons=["stop"], top_logprobs=top)


def test_the_score_is_the_expected_digit_under_the_first_tokens_probabilities():
    assert expected_score(completion("4", {"4": 0.6, "5": 0.4})) == pytest.approx(4.4)
    # non-digits and digits off the scale are ignored; " 3" (a leading space) is a 3
    assert expected_score(completion("3", {" 3": 0.5, "1": 0.3, "The": 0.15, "9": 0.05})) == pytest.approx(
        (3 * 0.5 + 1 * 0.3) / 0.8)
    assert expected_score(completion("Sure", {"Sure": 0.9, "I": 0.1})) is None
    assert expected_score(completion("4", None)) is None


def test_without_log_probabilities_the_digit_is_parsed():
    assert parsed_score("Score: 4/5") == 4.0 and parsed_score('{"score": 2}') == 2.0
    assert parsed_score("I rate it 12 out of 10") is None and parsed_score("3.5") is None
    assert answer_score(completion("I would say 5.", None)) == 5.0


def chat(response: str) -> Document:
    messages = [{"role": "user", "content": "Eleza jinsi ya kupanda mti."}, {"role": "assistant", "content": response}]
    return Document(text=response, id=response[:20], metadata={"messages": messages, "lang": "swh_Latn"})


def test_judge_rates_each_criterion_and_retries_then_counts_an_unusable_answer():
    engine = FakeEngine(responder=ChattyModel(strict=False))
    judge = Judge(engine)
    good = Judged([{"role": "user", "content": "Eleza."}], "Chimba shimo — hili ni jibu la kina kwa Kiswahili.", "swh")
    weak = Judged([{"role": "user", "content": "Eleza."}], "Sawa.", "swh")
    unusable = Judged([{"role": "user", "content": "Eleza."}], "Kwa nini swali?", "swh")
    scores = judge.rate([good, weak, unusable])
    assert scores[0] == {"helpfulness": 4.0, "correctness": 4.0, "fluency": 5.0}
    assert scores[1] == {"helpfulness": 2.0, "correctness": 2.0, "fluency": 2.0}
    assert scores[2] == {}  # never a default score
    assert judge.failures == 3
    assert engine.requests_seen == 9 + 3  # every criterion once, the unusable ones asked a second time


def test_pairwise_comparison_asks_both_orders():
    engine = FakeEngine(responder=ChattyModel(strict=False))
    judge = Judge(engine)
    prompt = [{"role": "user", "content": "Eleza."}]
    p = judge.compare(prompt, "Hili ni jibu la kina.", "Sawa.")
    assert p == 1.0 and engine.requests_seen == 2
    assert judge.compare(prompt, "Sawa.", "Hili ni jibu la kina.") == 0.0


def test_judge_filter_drops_the_low_ones_per_language_and_keeps_the_unscored():
    step = JudgeFilter(min_score=3.0, engine=FakeEngine(responder=ChattyModel(strict=False)))
    docs = [chat("Chimba shimo — hili ni jibu la kina kwa Kiswahili."), chat("Sawa."), chat("Kwa nini swali?"),
            Document(text="no chat", id="plain", metadata={"lang": "swh_Latn"})]
    kept = list(step.run(docs))
    assert [d.id for d in kept] == [docs[0].id, docs[2].id, "plain"]
    assert kept[0].metadata["scores"]["judge"] == pytest.approx(13 / 3, abs=1e-3)
    assert "judge" not in (kept[1].metadata.get("scores") or {})
    counters = step.stats.stats
    assert counters["dropped/swh_Latn/low_judge_score"].total == 1
    assert counters["judge_failed/swh_Latn"].total == 1 and counters["judge_skipped/swh_Latn"].total == 1


def test_judge_step_in_a_recipe_writes_scores_select_can_rank_by(tmp_path):
    import pyarrow.parquet as pq

    from tests.conftest import load_stats, run_cli, step_stats, write_recipe

    rows = [{"instruction": f"Eleza jinsi ya kupanda mti namba {i}.",
             "output": f"Panda mti namba {i} — hili ni jibu la kina kwa Kiswahili." if i % 2 else f"Sawa {i}."}
            for i in range(6)]
    (tmp_path / "data.json").write_text(json.dumps(rows, ensure_ascii=False))
    recipe = {"name": "judged", "output": str(tmp_path / "out"),
              "inputs": [{"path": str(tmp_path / "data.json"), "prompt_key": "instruction", "response_key": "output"}],
              "steps": [{"judge": {"min_score": 3}}],
              "judge_llm": {"engine": "tests.fake_models:ChattyEngine"}}
    result = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 0, result.output
    stats = load_stats(tmp_path / "out")
    assert stats["accounting"]["ok"]
    assert step_stats(stats, "judge")["dropped"] == {"low_judge_score": 3}
    kept = [r for f in (tmp_path / "out" / "data").rglob("*.parquet") for r in pq.read_table(f).to_pylist()]
    assert len(kept) == 3
    assert all(json.loads(r["scores"])["judge.fluency"] == 5.0 for r in kept)


def test_per_language_settings_take_any_code_and_a_default():
    step = JudgeFilter(min_score={"sw": 4.5, "*": 1.5}, engine=FakeEngine(responder=ChattyModel(strict=False)))
    assert step.min_score == {"swh": 4.5, "*": 1.5}
    kept = list(step.run([chat("Chimba shimo — hili ni jibu la kina kwa Kiswahili.")]))
    assert kept == []  # 4.33 < Swahili's 4.5
