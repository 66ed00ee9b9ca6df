"""Confidence scoring (CLEAR-style) and the decisions made from it.

Fast tests run on the fake engine: its samples come from a responder function, and its scoring
log-probabilities favour response words that appear in the prompt and an end of turn after a
sentence end (`curation.llm.fake.pseudo_score`). Real records scored with vLLM: tests/test_vllm.py.
"""

from __future__ import annotations

import functools
import itertools
import math
import pickle
from pathlib import Path

import pytest
from datatrove.data import Document

from curation.errors import RecipeError, RetryableError
from curation.llm.cache import CachedEngine, RequestCache
from curation.llm.fake import FakeEngine, pseudo_score
from filters.confidence import ConfidenceFilter, agreement, percentiles, split_chat
from tests.fake_models import count_calls

ANSWERS = {  # what the fake model answers, per question
    "What is the capital of France?": "The capital of France is Paris.",
    "Name a primary colour.": "Red is a primary colour.",
    "Mji mkuu wa Kenya ni upi?": "Mji mkuu wa Kenya ni Nairobi.",
    "日本の首都はどこですか？": "日本の首都は東京です。",
}


def knowing(messages: list[dict[str, str]]) -> str:
    """A fake model that knows the answers above, and says A) to every reflection question."""
    question = messages[-1]["content"]
    return "A" if "Proposed response" in question else ANSWERS.get(question, "I do not know that one.")


def chat(question: str, answer: str, lang: str = "eng_Latn", doc_id: str | None = None) -> Document:
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return Document(text=f"{question}\n\n{answer}", id=doc_id or f"{lang}/{question}/{answer}",
                    metadata={"messages": messages, "lang": lang})


def run(step: ConfidenceFilter, docs: list[Document]) -> list[Document]:
    return list(step.run(docs))


def stats(step: ConfidenceFilter) -> dict[str, float]:
    return {key: value.total for key, value in step.stats.stats.items()}


def test_split_chat_and_agreement_across_scripts():
    assert split_chat([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]) == (
        [{"role": "user", "content": "Hi"}], "Hello.")
    assert split_chat([{"role": "user", "content": "Hi"}]) == "no_response"
    assert split_chat([{"role": "system", "content": "Be brief."}, {"role": "assistant", "content": "Ok."}]) == "no_prompt"
    assert split_chat(None) == "no_messages"
    # Casefolded character 3-grams work without word boundaries (Japanese) and across case.
    assert agreement("日本の首都は東京です。", "日本の首都は東京です。") > agreement("日本の首都は東京です。", "猫は動物です。")
    assert agreement("THE CAPITAL OF FRANCE IS PARIS", "the  capital of france is paris") == 1.0
    assert agreement("ok", "ok") < 0.5  # too short to show agreement
    assert percentiles([3.0, 1.0, None, 1.0]) == [pytest.approx(5 / 6), pytest.approx(1 / 3), 0.5, pytest.approx(1 / 3)]


def test_a_response_that_matches_the_samples_scores_higher():
    step = ConfidenceFilter(FakeEngine(responder=knowing))
    good = chat("What is the capital of France?", "The capital of France is Paris.")
    swapped = chat("Name a primary colour.", "Mji mkuu wa Kenya ni Nairobi.")
    run(step, [good, swapped])
    g, s = good.metadata["scores"], swapped.metadata["scores"]
    for name in ("consistency", "pmi", "eot_logprob", "mean_logprob"):
        assert math.isfinite(g[f"confidence.{name}"]) and math.isfinite(s[f"confidence.{name}"])
    assert "confidence.reflection" not in g  # off by default
    assert g["confidence.consistency"] > 0.9 > 0.3 > s["confidence.consistency"]
    assert g["confidence.pmi"] > s["confidence.pmi"]  # the swapped response does not belong to its prompt
    assert g["confidence"] > s["confidence"]
    assert good.metadata["confidence_decision"] == "keep"  # no thresholds: scores only, nothing dropped


def test_one_sampling_request_per_record_with_n_samples():
    engine = FakeEngine(responder=knowing)
    step = ConfidenceFilter(engine, samples=4)
    docs = [chat(q, a) for q, a in ANSWERS.items()]
    run(step, docs)
    # 4 sampling requests (n=4 each) + 4 conditional + 4 unconditional scoring requests.
    assert engine.requests_seen == 12


def test_reflection_reads_the_answer_letter():
    doubting = FakeEngine(responder=lambda m: "B" if "Proposed response" in m[-1]["content"] else "Paris.")
    for engine, expected in ((FakeEngine(responder=knowing), 1.0), (doubting, 0.0)):
        doc = chat("What is the capital of France?", "The capital of France is Paris.")
        run(ConfidenceFilter(engine, reflection=True), [doc])
        assert doc.metadata["scores"]["confidence.reflection"] == expected


def test_drop_fraction_drops_the_lowest_share_of_each_language():
    eng = [chat("What is the capital of France?", "The capital of France is Paris.", doc_id=f"e{i}") for i in range(7)]
    eng += [chat("Name a primary colour.", f"Bananas grow on trees, number {i}", doc_id=f"bad-e{i}") for i in range(3)]
    swh = [chat("Mji mkuu wa Kenya ni upi?", "Mji mkuu wa Kenya ni Nairobi.", "swh_Latn", f"s{i}") for i in range(4)]
    swh += [chat("Mji mkuu wa Kenya ni upi?", "Paka ni mnyama", "swh_Latn", "bad-s")]
    step = ConfidenceFilter(FakeEngine(responder=knowing), drop_fraction={"eng": 0.3, "*": 0.2})
    kept = run(step, eng + swh)
    dropped = {d.id for d in eng + swh} - {d.id for d in kept}
    assert dropped == {"bad-e0", "bad-e1", "bad-e2", "bad-s"}  # 30% of 10 English, 20% of 5 Swahili
    counts = stats(step)
    assert counts["dropped/eng_Latn/low_confidence"] == 3 and counts["dropped/swh_Latn/low_confidence"] == 1
    assert counts["kept/eng_Latn"] == 7 and counts["kept/swh_Latn"] == 4
    bad = next(d for d in swh if d.id == "bad-s")
    assert bad.metadata["confidence_decision"] == "drop" and "lowest 20% of swh_Latn" in bad.metadata["confidence_reason"]


def test_drop_fraction_applies_per_batch():
    docs = [chat("What is the capital of France?", "The capital of France is Paris.", doc_id=f"e{i}")
            for i in range(8)]
    step = ConfidenceFilter(FakeEngine(responder=knowing), drop_fraction=0.25, batch_size=4)
    assert len(run(step, docs)) == 6  # one of each batch of 4


def test_min_confidence_per_language_and_keep_action():
    docs = [chat("What is the capital of France?", "The capital of France is Paris.", doc_id="good"),
            chat("What is the capital of France?", "Bananas are yellow", doc_id="bad"),
            chat("日本の首都はどこですか？", "日本の首都は東京です。", "jpn_Jpan", "ja-good"),
            chat("日本の首都はどこですか？", "猫", "jpn_Jpan", "ja-bad")]
    step = ConfidenceFilter(FakeEngine(responder=knowing), min_confidence={"eng_Latn": 0.5})
    kept = {d.id for d in run(step, docs)}
    assert kept == {"good", "ja-good", "ja-bad"}  # no threshold for Japanese
    assert "< min_confidence 0.5 (eng_Latn)" in docs[1].metadata["confidence_reason"]

    flagging = ConfidenceFilter(FakeEngine(responder=knowing), min_confidence=0.5, on_low="keep")
    assert len(run(flagging, docs)) == 4
    assert docs[1].metadata["confidence_low"] and "confidence_low" not in docs[0].metadata


def test_correct_replaces_a_low_response_with_the_models_confident_answer():
    truncated = chat("What is the capital of France?", "The capital of", doc_id="cut")
    unknown = chat("Tell me a secret.", "The capital of", doc_id="unsure")
    guesses = itertools.cycle(["Perhaps zebras dream in colour.", "Nobody can know what Mars hides.",
                               "Quiet lakes freeze slowly in January."])

    def model(messages: list[dict[str, str]]) -> str:
        # For the question it does not know, every sample says something else: no confident answer.
        return ANSWERS.get(messages[-1]["content"]) or next(guesses)

    step = ConfidenceFilter(FakeEngine(responder=model), min_confidence=1.01, on_low="correct")
    kept = run(step, [truncated, unknown])
    assert [d.id for d in kept] == ["cut"]
    assert truncated.metadata["messages"][-1]["content"] == "The capital of France is Paris."
    assert truncated.metadata["original_response"] == "The capital of"
    assert truncated.metadata["corrected"] and truncated.metadata["confidence_decision"] == "correct"
    assert truncated.text == "What is the capital of France?\n\nThe capital of France is Paris."
    assert unknown.metadata["confidence_decision"] == "drop" and "original_response" not in unknown.metadata
    counts = stats(step)
    assert counts["corrected/eng_Latn"] == 1 and counts["kept/eng_Latn"] == 1
    assert counts["dropped/eng_Latn/low_confidence"] == 1


def test_records_without_prompt_or_response_are_kept_and_counted_skipped():
    no_response = Document(text="Hi", id="a", metadata={"lang": "eng_Latn",
                                                       "messages": [{"role": "user", "content": "Hi"}]})
    no_prompt = Document(text="x", id="b", metadata={"lang": "swh_Latn", "messages": [
        {"role": "system", "content": "Be kind."}, {"role": "assistant", "content": "Habari."}]})
    plain = Document(text="just text", id="c", metadata={})
    engine = FakeEngine(responder=knowing)
    step = ConfidenceFilter(engine, drop_fraction=0.9)
    assert len(run(step, [no_response, no_prompt, plain])) == 3
    assert engine.requests_seen == 0
    assert no_response.metadata["confidence_note"] == "no_response" and no_prompt.metadata["confidence_note"] == "no_prompt"
    counts = stats(step)
    assert counts["confidence_skipped/eng_Latn"] == 1 and counts["confidence_skipped/und"] == 1
    assert counts["kept/swh_Latn"] == 1 and counts["in/und"] == 1


def test_long_responses_are_cut_for_scoring_and_flagged():
    long_answer = "The capital of France is Paris. " * 100
    long_doc = chat("What is the capital of France?", long_answer)
    short_doc = chat("What is the capital of France?", "The capital of France is Paris.")
    seen = []
    engine = FakeEngine(responder=knowing, scorer=lambda r: seen.append(r.continuation) or pseudo_score(r))
    run(ConfidenceFilter(engine, max_response_tokens=20, chars_per_token=3), [long_doc, short_doc])
    assert long_doc.metadata["confidence_truncated"] is True and "confidence_truncated" not in short_doc.metadata
    assert max(len(c) for c in seen) == 60
    assert long_doc.metadata["messages"][-1]["content"] == long_answer  # only the scoring saw the cut


def cached_for_task(engine: FakeEngine, folder: Path, rank: int) -> CachedEngine:
    """An engine factory's answer for task `rank`: the engine behind that task's cache file."""
    return CachedEngine(engine, RequestCache(folder / f"cache-{rank}.sqlite"))


def test_the_cache_makes_a_second_pass_free(tmp_path):
    calls = tmp_path / "calls.jsonl"
    fake = FakeEngine(responder=knowing, calls_file=str(calls))
    docs = [chat(q, a) for q, a in ANSWERS.items()] + [chat("Name a colour.", "Blue is nice")]

    # A picklable factory, as an executor ships the step to its workers (the model loads there).
    cached = functools.partial(cached_for_task, fake, tmp_path)

    first = ConfidenceFilter(engine_factory=cached, reflection=True, drop_fraction=0.2)
    kept_first = [d.id for d in run(first, docs)]
    assert count_calls(calls) == 5 * 4  # sampling, reflection, conditional and unconditional scoring per record
    scores_first = [dict(d.metadata["scores"]) for d in docs]

    second = pickle.loads(pickle.dumps(ConfidenceFilter(engine_factory=cached, reflection=True, drop_fraction=0.2)))
    assert [d.id for d in run(second, docs)] == kept_first
    assert count_calls(calls) == 5 * 4  # zero requests reached the engine
    assert [d.metadata["scores"] for d in docs] == scores_first
    # and the step counts what the cache answered, for stats.json's llm_cache
    assert stats(first)["cache_hits/all"] == 0 and stats(second)["cache_hits/all"] == 5 * 4


def test_engine_failure_drops_the_batch_as_confidence_failed():
    class Failing(FakeEngine):
        def score(self, requests):
            raise RetryableError("engine down after 3 retries")

    docs = [chat("What is the capital of France?", "The capital of France is Paris.", doc_id="x"),
            Document(text="t", id="skip", metadata={"lang": "eng_Latn", "messages": []})]
    step = ConfidenceFilter(Failing(responder=knowing))
    kept = run(step, docs)
    assert [d.id for d in kept] == ["skip"]
    assert stats(step)["dropped/eng_Latn/confidence_failed"] == 1


def test_configuration_errors_are_caught_early():
    with pytest.raises(RecipeError, match="exactly one"):
        ConfidenceFilter()
    with pytest.raises(RecipeError, match="unknown confidence components"):
        ConfidenceFilter(FakeEngine(), weights={"nli": 1.0})


# The real engine's scores of clean and corrupted records: tests/test_vllm.py (on the model that
# module loads once for its engine tests).


@pytest.mark.slow  # `curate run` on a two-process executor (~10 s)
def test_confidence_step_in_a_recipe_scores_and_drops_per_language(tmp_path):
    """The recipe path: instruction data read as chat records, scored with the recipe's llm, the
    lowest quarter dropped, scores in the output, and the numbers adding up."""
    import json

    import pyarrow.parquet as pq

    from tests.conftest import load_stats, run_cli, step_stats, write_recipe

    rows = [{"instruction": f"Eleza jinsi ya kupanda mti wa mwembe namba {i} kwa hatua rahisi.",
             "output": f"Chimba shimo, weka mbolea, panda mche wa mwembe namba {i} na umwagilie maji kila siku."}
            for i in range(8)]
    (tmp_path / "data.json").write_text(json.dumps(rows, ensure_ascii=False))
    recipe = {"name": "conf", "output": str(tmp_path / "out"),
              "inputs": [{"path": str(tmp_path / "data.json"), "prompt_key": "instruction", "response_key": "output"}],
              "steps": [{"confidence": {"drop_fraction": 0.25, "samples": 2}}],
              "llm": {"engine": "tests.fake_models:ChattyEngine"},
              "executor": {"local": {"tasks": 2}}}
    result = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 0, result.output
    stats = load_stats(tmp_path / "out")
    assert stats["accounting"]["ok"]
    confidence = step_stats(stats, "confidence")
    assert confidence["in"] == 8 and sum(confidence["dropped"].values()) == 2  # a quarter of each task's 4
    assert confidence["dropped"] == {"low_confidence": 2}
    assert stats["confidence"] == {"und": {"in": 8, "kept": 6, "corrected": 0, "low_confidence": 2,
                                           "confidence_failed": 0, "skipped": 0, "uncalibrated": 0}}
    kept = [r for f in (tmp_path / "out" / "data").rglob("*.parquet") for r in pq.read_table(f).to_pylist()]
    assert len(kept) == 6 and all("confidence" in json.loads(r["scores"]) for r in kept)


# --- calibrated confidence: P(genuine pair) fitted against swapped/truncated copies of the batch

NOUNS = ["river", "market", "school", "harbour", "forest", "bridge", "temple", "garden", "station", "museum",
         "library", "stadium", "castle", "village", "island", "valley", "desert", "canal", "tower", "bakery"]
PLACES = ["Lagos", "Kigali", "Hanoi", "Quito", "Oslo", "Lima", "Accra", "Dakar", "Riga", "Sofia",
          "Tunis", "Suva", "Baku", "Male", "Apia", "Doha", "Rabat", "Minsk", "Cusco", "Hue"]


def genuine_pairs(n: int) -> list[tuple[str, str]]:
    return [(f"Describe the {noun} of {place} briefly.",
             f"The {noun} of {place} is old, busy and loved by the people of {place}.")
            for noun, place in zip(NOUNS[:n], PLACES[:n], strict=True)]


def test_synthetic_negatives_swap_every_response_away_and_cut_long_ones():
    from filters.calibration import synthetic_negatives

    responses = [f"Answer number {i} is a complete sentence of some length." for i in range(6)] + ["Short."]
    negatives = synthetic_negatives(responses, seed=3)
    swapped = [n for n in negatives if n.kind == "swapped"]
    assert len(swapped) == 7 and all(n.response_of != n.prompt_of for n in swapped)
    assert sorted(n.response_of for n in swapped) == list(range(7))  # a rotation: each response used once
    truncated = [n for n in negatives if n.kind == "truncated"]
    assert len(truncated) == 6  # "Short." is too short to cut
    for n in truncated:
        assert responses[n.prompt_of].startswith(n.response) and len(n.response) < 0.75 * len(responses[n.prompt_of])


def test_logistic_fit_separates_and_balances_the_classes():
    import numpy as np

    from filters.calibration import fit_logistic

    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(1.0, 0.5, (30, 2)), rng.normal(-1.0, 0.5, (90, 2))])  # 1:3 imbalance
    y = np.array([1.0] * 30 + [0.0] * 90)
    weights, bias = fit_logistic(x, y)
    p = 1 / (1 + np.exp(-(x @ weights + bias)))
    assert (weights > 0).all()
    assert p[:30].mean() > 0.8 and p[30:].mean() < 0.2
    assert abs(bias) < 0.5  # classes weighted equally: the boundary sits between them, not toward the majority


def test_calibrated_confidence_is_absolute_not_a_rank():
    """With `calibrated`, min_confidence 0.5 drops broken pairs and keeps a clean batch whole; with
    rank-based `worst`, the same threshold drops about half of any batch."""
    pairs = genuine_pairs(16)
    broken = [chat(pairs[0][0], pairs[5][1], doc_id="swapped"),
              chat(pairs[1][0], pairs[1][1][:22], doc_id="truncated")]
    clean = [chat(q, a, doc_id=f"clean-{i}") for i, (q, a) in enumerate(pairs[2:])]
    step = ConfidenceFilter(FakeEngine(responder=knowing), combination="calibrated", min_confidence=0.5, samples=1)
    kept = {d.id for d in run(step, clean + broken)}
    assert not {"swapped", "truncated"} & kept
    assert len(kept) >= 0.8 * len(clean)
    for d in broken:
        assert d.metadata["scores"]["confidence"] < 0.5

    only_clean = [chat(q, a, doc_id=f"c{i}") for i, (q, a) in enumerate(pairs)]
    calibrated = ConfidenceFilter(FakeEngine(responder=knowing), combination="calibrated", min_confidence=0.5,
                                  samples=1)
    ranked = ConfidenceFilter(FakeEngine(responder=knowing), combination="worst", min_confidence=0.5, samples=1)
    assert len(run(calibrated, [chat(q, a) for q, a in pairs])) >= 0.8 * len(pairs)
    assert len(run(ranked, only_clean)) <= 0.6 * len(pairs)


def test_calibration_falls_back_to_ranks_for_a_language_with_few_records():
    pairs = genuine_pairs(12)
    docs = [chat(q, a) for q, a in pairs] + [chat("Mji mkuu wa Kenya ni upi?", "Mji mkuu wa Kenya ni Nairobi.",
                                                   lang="swh_Latn")]
    step = ConfidenceFilter(FakeEngine(responder=knowing), combination="calibrated", samples=1)
    run(step, docs)
    assert stats(step)["confidence_uncalibrated/swh_Latn"] == 1
    assert "confidence_uncalibrated/eng_Latn" not in stats(step)
    assert docs[-1].metadata["scores"]["confidence"] == 0.5  # the median rank of a group of one
