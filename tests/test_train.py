"""The training stage on a run's chat records: real TRL + PEFT LoRA on the bundled model (slow)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli, write_recipe

pytestmark = pytest.mark.slow
pytest.importorskip("trl", reason="training is installed by `make install`")
pytest.importorskip("gguf", reason="the bundled model needs the llm extra")


def test_lora_adapter_trains_on_published_chat_records_and_resumes(tmp_path):
    pairs = [{"instruction": f"Taja tunda namba {i} unalolipenda.", "output": f"Ninapenda embe, tunda namba {i}."}
             for i in range(12)]
    (tmp_path / "pairs.json").write_text(json.dumps(pairs, ensure_ascii=False))
    recipe = {"name": "tiny", "output": str(tmp_path / "out"),
              "inputs": [{"path": str(tmp_path / "pairs.json"), "prompt_key": "instruction",
                          "response_key": "output"}]}
    assert run_cli("run", write_recipe(tmp_path / "r.yaml", recipe)).exit_code == 0
    result = run_cli("train", tmp_path / "out", "--max-steps", "2", "--lora-r", "4")
    assert result.exit_code == 0, result.output
    target = tmp_path / "out" / "train" / "all"
    metrics = json.loads((target / "metrics.json").read_text())
    assert metrics["train_records"] + metrics["held_out_records"] == 12
    assert len(metrics["loss_curve"]) == 2 and all(e["loss"] > 0 for e in metrics["loss_curve"])
    assert metrics["held_out_loss_after"] > 0 and metrics["held_out_loss_before"] > 0
    assert (target / "adapter" / "adapter_config.json").exists()
    # a second run resumes from the last checkpoint rather than starting over
    again = run_cli("train", tmp_path / "out", "--max-steps", "2", "--lora-r", "4")
    assert again.exit_code == 0, again.output
    assert run_cli("train", tmp_path / "nothing").exit_code == 2
