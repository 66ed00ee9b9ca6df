"""The bundled training stage: LoRA SFT on a run's chat records (TRL SFTTrainer + PEFT), thin.

    curate train out/<name> --base bundled --lang sw --max-steps 50

Reads the `messages` of the run's published records (one language's configs, or all), holds out
a split, measures held-out loss before and after, trains a LoRA adapter on all linear layers and
writes it with the loss curve to `out/<name>/train/<lang|all>/`. Re-running resumes from the last
checkpoint. The same code trains a 7B model on a GPU (`--base <hub id or folder>`).
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path
from typing import Any

from curation.errors import InputError, RecipeError

logger = logging.getLogger(__name__)


def chat_rows(output: Path, lang: str | None) -> list[dict[str, Any]]:
    """Every published chat record of the run (of the configs for `lang`, when given)."""
    import pyarrow.parquet as pq

    data = output / "data"
    if not data.exists():
        raise InputError(f"{output}: no data/ folder (not a curate output, or the run has not finished)")
    rows = []
    for folder in sorted(p for p in data.iterdir() if p.is_dir()):
        if lang and folder.name.split("-")[0] != lang:
            continue
        for shard in sorted(folder.glob("*.parquet")):
            for row in pq.read_table(shard, columns=["id", "messages"]).to_pylist():
                if row["messages"] and any(m["role"] == "assistant" for m in row["messages"]):
                    rows.append({"id": row["id"], "messages": row["messages"]})
    return rows


def split(rows: list[dict[str, Any]], held_out: float, seed: int) -> tuple[list, list]:
    shuffled = sorted(rows, key=lambda r: r["id"])
    random.Random(seed).shuffle(shuffled)
    n_eval = max(1, round(len(shuffled) * held_out)) if len(shuffled) > 1 else 0
    return shuffled[n_eval:], shuffled[:n_eval]


def train(output: Path, base: str = "bundled", lang: str | None = None, max_steps: int = 50,
          lora_r: int = 16, learning_rate: float = 2e-4, batch_size: int = 2, max_length: int = 256,
          held_out: float = 0.1, seed: int = 0) -> dict[str, Any]:
    """Train a LoRA adapter on the run's chat records; returns (and writes) the metrics."""
    try:
        from datasets import Dataset
        from peft import LoraConfig
        from trl import SFTConfig, SFTTrainer
    except ImportError:
        raise RecipeError("training needs TRL and PEFT: pip install 'curate[train]'") from None
    from curation.llm.bundled import resolve_model

    rows = chat_rows(output, lang)
    if len(rows) < 2:
        raise InputError(f"{output}: {len(rows)} chat record(s){' in ' + lang if lang else ''}; training needs 2+")
    train_rows, eval_rows = split(rows, held_out, seed)
    target = output / "train" / (lang or "all")
    config = SFTConfig(output_dir=str(target), max_steps=max_steps, per_device_train_batch_size=batch_size,
                       per_device_eval_batch_size=batch_size, learning_rate=learning_rate, logging_steps=1,
                       save_steps=max(1, max_steps // 2), save_total_limit=2, report_to=[], seed=seed,
                       max_length=max_length, use_cpu=not _has_cuda(), bf16=False, eval_strategy="no")
    lora = LoraConfig(r=lora_r, lora_alpha=2 * lora_r, target_modules="all-linear", task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=resolve_model(base), args=config, peft_config=lora,
                         train_dataset=Dataset.from_list([{"messages": r["messages"]} for r in train_rows]),
                         eval_dataset=Dataset.from_list([{"messages": r["messages"]} for r in eval_rows]))
    before = trainer.evaluate()["eval_loss"]
    checkpoints = sorted(target.glob("checkpoint-*"))
    trainer.train(resume_from_checkpoint=str(checkpoints[-1]) if checkpoints else None)
    after = trainer.evaluate()["eval_loss"]
    trainer.save_model(str(target / "adapter"))
    metrics = {"base": base, "lang": lang, "train_records": len(train_rows), "held_out_records": len(eval_rows),
               "max_steps": max_steps, "held_out_loss_before": before, "held_out_loss_after": after,
               "loss_curve": [{"step": e["step"], "loss": e["loss"]} for e in trainer.state.log_history if "loss" in e]}
    (target / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()
