"""The bundled training stage: LoRA SFT on a run's chat records (TRL SFTTrainer + PEFT), or DPO on
its preference pairs (TRL DPOTrainer + PEFT), thin.

    curate train out/<name> --base bundled --lang sw --max-steps 50
    train: {mode: mixed, weights: {sw: 3}, max_steps: 50}        # or a recipe block, run after the run

Reads the `messages` of the run's published records, holds out a share of each language,
measures held-out loss before and after, trains a LoRA adapter on all linear layers, and asks
the model a few held-out prompts per language before and after training to measure the share of
answers that come out in the target language (LID). Everything goes to
`out/<name>/train/<all|lang>/` (adapter/, metrics.json, checkpoints) and into stats.json and the
report. Re-running resumes from the last checkpoint. With `method: dpo` the records are the
`<lang>-preference` configs' chosen/rejected pairs, and the held-out measures are DPO's loss, reward
accuracy (the share of pairs whose chosen answer the trained model prefers over the base model's
preference) and reward margin, before (the base model: loss ln 2, margin 0) and after. The same code trains a 7B model on a GPU
(`base: <hub id or folder>`); the adapter loads into the vLLM engine with `llm.adapter`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import math
import shutil
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from curation.errors import InputError, RecipeError
from curation.faults import fault_point
from curation.hardware import has_cuda
from curation.layout import config_language
from curation.llm.bundled import resolve_model
from curation.recipe import TrainSpec
from curation.report import write_report
from curation.steps import UNKNOWN_LANG
from curation.workfiles import atomic_write_text
from filters.lid import in_language  # training asks LID whether its sample answers are in the language

logger = logging.getLogger(__name__)

EXAMPLES_KEPT = 2
Progress = Callable[[str, int, int, "float | None"], None]


def published_languages(output: Path) -> dict[str, str]:
    """Output config folder -> its LID label (`sw-instruction` -> `swh_Latn`), from stats.json."""
    stats = output / "stats.json"
    if not stats.exists():
        raise InputError(f"{output}: no stats.json (not a curate output, or the run has not finished)")
    return {folder: info.get("lang") or folder for folder, info in json.loads(stats.read_text())["languages"].items()}


def chat_datasets(output: Path, languages: list[str] | None) -> dict[str, Any]:
    """The run's published chat records that end with an assistant turn, per language code, as
    memory-mapped Arrow datasets (`id`, `messages`, `target`: the config's LID label), so a run of
    millions of records trains without holding them in Python. Only `languages`' configs, when given.
    Arrow files are cached under the run's work folder (`.curate/train-cache`)."""
    return _datasets(output, languages, ["id", "messages"], preference=False)


def preference_datasets(output: Path, languages: list[str] | None) -> dict[str, Any]:
    """The run's preference pairs (`id`, `prompt`, `chosen`, `rejected`, `target`) per language code."""
    return _datasets(output, languages, ["id", "prompt", "chosen", "rejected"], preference=True)


def _is_preference_config(files: list[Path]) -> bool:
    return bool(files) and "chosen" in pq.read_schema(files[0]).names


def _has_columns(files: list[Path], columns: list[str]) -> bool:
    return bool(files) and set(columns) <= set(pq.read_schema(files[0]).names)


def _datasets(output: Path, languages: list[str] | None, columns: list[str], preference: bool) -> dict[str, Any]:
    labels = published_languages(output)
    data = output / "data"
    shards: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))  # code -> target -> files
    for folder in sorted(p for p in data.iterdir() if p.is_dir()) if data.exists() else []:
        code = config_language(folder.name)
        files = sorted(folder.glob("*.parquet"))
        # A config is of the kind asked for when it has its columns (retrieval configs have neither kind's).
        if (not languages or code in languages) and _is_preference_config(files) == preference \
                and _has_columns(files, columns):
            shards[code][labels.get(folder.name, code)] += [str(f) for f in files]
    from datasets import Dataset, concatenate_datasets  # ~3 s to import: only when training runs

    cache = str(output / ".curate" / "train-cache")
    by_lang = {}
    for code, by_target in sorted(shards.items()):
        parts = []
        for target, files in sorted(by_target.items()):
            table = Dataset.from_parquet(files, columns=columns, cache_dir=cache)
            if not preference:
                table = table.filter(_ends_with_an_answer, batched=True)
            parts.append(table.map(lambda batch, t=target: {"target": [t] * len(batch["id"])}, batched=True))
        by_lang[code] = concatenate_datasets(parts) if len(parts) > 1 else parts[0]
    return by_lang


def _ends_with_an_answer(batch: dict[str, list]) -> list[bool]:
    return [bool(messages) and messages[-1]["role"] == "assistant" for messages in batch["messages"]]


def split(records: Any, held_out: float, seed: int) -> tuple[Any, Any]:
    """(train, held out) of a dataset: a seeded shuffle of the records sorted by id, so a rerun
    holds out the same records whatever order the shards were read in."""
    with warnings.catch_warnings():  # pyarrow's deprecation notice about datasets' own sort options
        warnings.simplefilter("ignore", FutureWarning)
        shuffled = records.sort("id").shuffle(seed=seed)
    n_eval = max(1, round(len(shuffled) * held_out)) if len(shuffled) > 1 else 0
    return shuffled.select(range(n_eval, len(shuffled))), shuffled.select(range(n_eval))


def mix(train_by_lang: dict[str, Any], weights: dict[str, float], seed: int) -> Any:
    """One training dataset where language L's records appear `weights[L]` times on average: whole
    repeats, then a seeded sample for the fraction (0.5 keeps half, 2.5 repeats twice and adds half)."""
    from datasets import concatenate_datasets

    parts = []
    for lang, records in sorted(train_by_lang.items()):
        weight = weights.get(lang, 1.0)
        whole, fraction = int(weight), weight - int(weight)
        parts += [records] * whole
        extra = round(len(records) * fraction)
        if extra:
            parts.append(records.shuffle(seed=seed).select(range(extra)))
    return concatenate_datasets(parts).shuffle(seed=seed)


def plan_runs(by_lang: dict[str, Any], spec: TrainSpec) -> list[tuple[str, dict[str, Any]]]:
    """(adapter name, that adapter's languages) for each adapter to train."""
    if spec.mode == "per_language":
        return [(lang, {lang: rows}) for lang, rows in sorted(by_lang.items())]
    return [("all", by_lang)]


def adapter_tasks(spec: TrainSpec, languages: list[str] | None) -> int:
    """How many tasks a cluster's train stage runs: one per language with `per_language` when the
    languages are known before the run (`train.languages`, else the recipe's `languages`), else one.
    Each task trains its share of the adapters (`train(rank=, world_size=)`), so a guess that is
    too high leaves a task idle and one too low makes a task train two adapters: never one skipped."""
    if spec.mode != "per_language":
        return 1
    known = spec.languages or languages
    return max(1, len(set(known))) if known else 1


def train(output: Path, spec: TrainSpec | None = None, progress: Progress | None = None,
          rank: int = 0, world_size: int = 1) -> dict[str, dict[str, Any]]:
    """Train the adapters `spec` asks for on the run's chat records; returns (and writes) their metrics.
    `progress(adapter, step, max_steps, loss)` is called after every logged optimizer step. With
    `world_size` > 1 (a cluster's train stage) this call trains every `world_size`-th adapter from
    `rank` on, in name order."""
    spec = spec or TrainSpec()
    _quiet_libraries()
    dpo = spec.method == "dpo"
    loaded = (preference_datasets if dpo else chat_datasets)(output, spec.languages)
    by_lang = {lang: rows for lang, rows in loaded.items() if len(rows) >= 2}
    if not by_lang:
        which = f" in {', '.join(spec.languages)}" if spec.languages else ""
        what = "preference pairs (generate.preference)" if dpo else "chat records (instruction/QA/dialogue)"
        raise InputError(f"{output}: no language{which} has 2+ {what} to train on")
    unknown = sorted(set(spec.weights) - set(by_lang))
    if unknown:
        raise RecipeError(f"train.weights: no {'pairs' if dpo else 'chat records'} in {', '.join(unknown)} "
                          f"(have: {', '.join(sorted(by_lang))})")
    results = {}
    for name, languages in plan_runs(by_lang, spec)[rank::world_size]:
        report = (lambda step, total, loss, name=name: progress(name, step, total, loss)) if progress else None
        trainer = train_dpo_adapter if dpo else train_adapter
        results[name] = _json_safe(trainer(output / "train" / name, languages, spec, report))
        atomic_write_text(output / "train" / name / "metrics.json", json.dumps(results[name], indent=2, ensure_ascii=False))
    if results:
        record_in_stats(output, results)
    return results


def train_adapter(target: Path, by_lang: dict[str, Any], spec: TrainSpec,
                  progress: Callable[[int, int, float | None], None] | None = None) -> dict[str, Any]:
    """One LoRA adapter on `by_lang`'s records (mixed by `spec.weights`), measured before and after."""
    try:
        from peft import LoraConfig
        from trl import SFTConfig, SFTTrainer
    except ImportError:
        raise RecipeError("training needs TRL and PEFT: pip install 'curate[train]'") from None

    from datasets import concatenate_datasets

    started = time.time()
    splits = {lang: split(rows, spec.held_out, spec.seed) for lang, rows in by_lang.items()}
    train_rows = mix({lang: s[0] for lang, s in splits.items()}, spec.weights, spec.seed)
    eval_rows = concatenate_datasets([held for _, held in splits.values()])
    config = SFTConfig(output_dir=str(target), max_steps=spec.max_steps, per_device_train_batch_size=spec.batch_size,
                       per_device_eval_batch_size=spec.batch_size, learning_rate=spec.learning_rate, logging_steps=1,
                       save_steps=max(1, spec.max_steps // 2), save_total_limit=2, report_to=[], seed=spec.seed,
                       max_length=spec.max_length, use_cpu=not has_cuda(), bf16=False, eval_strategy="no",
                       disable_tqdm=True)
    lora = LoraConfig(r=spec.lora_r, lora_alpha=2 * spec.lora_r, target_modules="all-linear", task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=resolve_model(spec.base), args=config, peft_config=lora,
                         train_dataset=train_rows.select_columns(["messages"]),
                         eval_dataset=eval_rows.select_columns(["messages"]))
    _report_progress_to(trainer, spec.max_steps, progress)
    prompts = {lang: list(held.select(range(min(spec.samples, len(held))))) for lang, (_, held) in splits.items()}
    samples_before = sample_generations(trainer.model, trainer.processing_class, prompts, spec, adapter=False)
    before = trainer.evaluate()["eval_loss"]
    trainer.train(resume_from_checkpoint=last_complete_checkpoint(target))
    after = trainer.evaluate()["eval_loss"]
    trainer.save_model(str(target / "adapter"))
    samples_after = sample_generations(trainer.model, trainer.processing_class, prompts, spec, adapter=True)
    return {
        "base": spec.base, "mode": spec.mode, "languages": sorted(by_lang),
        "train_records": len(train_rows), "held_out_records": len(eval_rows),
        "records_per_language": {lang: {"train": len(s[0]), "held_out": len(s[1]),
                                        "weight": spec.weights.get(lang, 1.0)} for lang, s in splits.items()},
        "max_steps": spec.max_steps, "lora_r": spec.lora_r, "learning_rate": spec.learning_rate,
        "held_out_loss_before": before, "held_out_loss_after": after,
        "loss_curve": [{"step": e["step"], "loss": e["loss"]} for e in trainer.state.log_history if "loss" in e],
        "samples_before": samples_before, "samples": samples_after,
        "adapter": str(target / "adapter"), "seconds": round(time.time() - started, 1),
    }


def train_dpo_adapter(target: Path, by_lang: dict[str, Any], spec: TrainSpec,
                      progress: Callable[[int, int, float | None], None] | None = None) -> dict[str, Any]:
    """One LoRA adapter trained with DPO on `by_lang`'s pairs; the reference model is the base (the
    adapter switched off), so no second copy of the model is loaded."""
    try:
        from peft import LoraConfig
        from trl import DPOConfig, DPOTrainer
    except ImportError:
        raise RecipeError("training needs TRL and PEFT: pip install 'curate[train]'") from None

    from datasets import concatenate_datasets

    started = time.time()
    splits = {lang: split(rows, spec.held_out, spec.seed) for lang, rows in by_lang.items()}
    train_rows = mix({lang: s[0] for lang, s in splits.items()}, spec.weights, spec.seed)
    eval_rows = concatenate_datasets([held for _, held in splits.values()])
    config = DPOConfig(output_dir=str(target), max_steps=spec.max_steps, per_device_train_batch_size=spec.batch_size,
                       per_device_eval_batch_size=spec.batch_size, learning_rate=spec.learning_rate, logging_steps=1,
                       save_steps=max(1, spec.max_steps // 2), save_total_limit=2, report_to=[], seed=spec.seed,
                       max_length=spec.max_length, use_cpu=not has_cuda(), bf16=False, eval_strategy="no",
                       disable_tqdm=True, beta=spec.beta)
    lora = LoraConfig(r=spec.lora_r, lora_alpha=2 * spec.lora_r, target_modules="all-linear", task_type="CAUSAL_LM")
    pair_columns = ["prompt", "chosen", "rejected"]
    trainer = DPOTrainer(model=resolve_model(spec.base), args=config, peft_config=lora,
                         train_dataset=train_rows.select_columns(pair_columns),
                         eval_dataset=eval_rows.select_columns(pair_columns))
    _report_progress_to(trainer, spec.max_steps, progress)
    # The LID-checked samples answer held-out prompts; the chosen answer stands in as the record's turn.
    prompts = {lang: [{"messages": [*row["prompt"], *row["chosen"]], "target": row["target"]}
                      for row in held.select(range(min(spec.samples, len(held))))]
               for lang, (_, held) in splits.items()}
    samples_before = sample_generations(trainer.model, trainer.processing_class, prompts, spec, adapter=False)
    before = trainer.evaluate()
    trainer.train(resume_from_checkpoint=last_complete_checkpoint(target))
    after = trainer.evaluate()
    trainer.save_model(str(target / "adapter"))
    samples_after = sample_generations(trainer.model, trainer.processing_class, prompts, spec, adapter=True)
    return {
        "method": "dpo", "beta": spec.beta, "base": spec.base, "mode": spec.mode, "languages": sorted(by_lang),
        "train_records": len(train_rows), "held_out_records": len(eval_rows),
        "records_per_language": {lang: {"train": len(s[0]), "held_out": len(s[1]),
                                        "weight": spec.weights.get(lang, 1.0)} for lang, s in splits.items()},
        "max_steps": spec.max_steps, "lora_r": spec.lora_r, "learning_rate": spec.learning_rate,
        "held_out_loss_before": before["eval_loss"], "held_out_loss_after": after["eval_loss"],
        "reward_accuracy_before": before.get("eval_rewards/accuracies"),
        "reward_accuracy_after": after.get("eval_rewards/accuracies"),
        "reward_margin_before": before.get("eval_rewards/margins"),
        "reward_margin_after": after.get("eval_rewards/margins"),
        "loss_curve": [{"step": e["step"], "loss": e["loss"]} for e in trainer.state.log_history if "loss" in e],
        "samples_before": samples_before, "samples": samples_after,
        "adapter": str(target / "adapter"), "seconds": round(time.time() - started, 1),
    }


def _quiet_libraries() -> None:
    """The CLI shows one bar for the training steps; the libraries' own bars and notices (reading
    parquet, loading weights, "process group initialized" when vLLM ran in this process) would bury it."""
    try:
        from datasets.utils.logging import disable_progress_bar
        from transformers.utils import logging as transformers_logging
    except ImportError:
        return
    disable_progress_bar()
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()


def last_complete_checkpoint(target: Path) -> str | None:
    """The newest `checkpoint-N` folder the Trainer finished writing, to resume from; newer ones that a
    killed run left half-written are removed (they are this run's own files).

    The Trainer writes a checkpoint in place, weights first and `trainer_state.json` last: a folder without
    that file, or with it cut short, was being written when the run stopped, and resuming from it fails
    (no state) or resumes without its optimizer."""
    checkpoints = sorted((p for p in target.glob("checkpoint-*") if p.name.split("-")[1].isdigit()),
                         key=lambda p: int(p.name.split("-")[1]), reverse=True)
    for folder in checkpoints:
        try:
            json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            logger.warning("training: %s was left half-written by an interrupted run; removed", folder.name)
            shutil.rmtree(folder, ignore_errors=True)
            continue
        return str(folder)
    return None


def _report_progress_to(trainer: Any, max_steps: int, progress: Callable[[int, int, float | None], None] | None) -> None:
    """Replace the trainer's console output (printed dicts or tqdm bars) with our progress callback, and
    mark each finished checkpoint as a fault point (the fault-matrix tests stop training there)."""
    from transformers import PrinterCallback, ProgressCallback, TrainerCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)

    class CheckpointPoint(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            fault_point("train/checkpoint")

    trainer.add_callback(CheckpointPoint())
    if progress is None:
        return

    class StepReporter(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if "loss" in (logs or {}):  # evaluation logs carry eval_loss only
                progress(state.global_step, max_steps, logs["loss"])

    trainer.add_callback(StepReporter())
    progress(0, max_steps, None)


def sample_generations(model: Any, tokenizer: Any, prompts: dict[str, list[dict[str, Any]]], spec: TrainSpec,
                       adapter: bool) -> dict[str, Any]:
    """Answer held-out prompts greedily (with the adapter, or with it disabled: the base model) and
    count the answers LID puts in the record's language. Short answers, and answers to records
    whose language is unknown (no LID step), are generated but not judged."""
    import torch

    by_lang: dict[str, dict[str, Any]] = {}
    switch = contextlib.nullcontext() if adapter else model.disable_adapter()
    model.eval()
    with switch, torch.no_grad():
        for lang, rows in sorted(prompts.items()):
            entry = {"generated": 0, "judged": 0, "in_target_language": 0, "examples": []}
            answers = _answers(model, tokenizer, [row["messages"][:-1] for row in rows], spec.sample_max_tokens)
            for row, answer in zip(rows, answers, strict=True):
                entry["generated"] += 1
                target = row["target"].split("_")[0]  # `und`: a record no LID step labelled
                check = in_language(answer, target) if target != UNKNOWN_LANG else None
                found = check.found.lang if check is not None and check.judged else None
                if found is not None:
                    entry["judged"] += 1
                    entry["in_target_language"] += check.matches
                if len(entry["examples"]) < EXAMPLES_KEPT:
                    entry["examples"].append({"prompt": row["messages"][-2]["content"][:300], "response": answer[:500],
                                              "lang": found, "target": row["target"]})
            entry["share"] = round(entry["in_target_language"] / entry["judged"], 3) if entry["judged"] else None
            by_lang[lang] = entry
    model.train()
    totals = {key: sum(e[key] for e in by_lang.values()) for key in ("generated", "judged", "in_target_language")}
    share = totals["in_target_language"] / totals["judged"] if totals["judged"] else None
    return {**totals, "share": None if share is None else round(share, 3), "by_language": by_lang,
            "examples": [x for e in by_lang.values() for x in e["examples"]][:4]}


def _answers(model: Any, tokenizer: Any, conversations: list[list[dict[str, str]]], max_tokens: int) -> list[str]:
    """Greedy answers to a language's held-out prompts in one `generate` batch: decoding a small model on a
    CPU is bound by reading the weights, so 4 prompts together cost about what one costs alone.

    Prompts are left-padded by hand (the pad id, or EOS where the tokenizer has none) so that every answer
    starts at the same position and the trainer's tokenizer, saved with the adapter, is left as it is."""
    import torch

    if not conversations:
        return []
    prompts = [tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True)
               ["input_ids"] for messages in conversations]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    width = max(len(ids) for ids in prompts)
    input_ids = torch.tensor([[pad] * (width - len(ids)) + list(ids) for ids in prompts], device=model.device)
    attention_mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in prompts], device=model.device)
    output = model.generate(input_ids=input_ids, attention_mask=attention_mask, max_new_tokens=max_tokens,
                            do_sample=False, pad_token_id=pad)
    return [tokenizer.decode(row[width:], skip_special_tokens=True).strip() for row in output]


def record_in_stats(output: Path, results: dict[str, dict[str, Any]]) -> None:
    """Add the training metrics to stats.json (under `training`) and rebuild the report. The tasks of a
    cluster's train stage finish at their own times: each reads and rewrites stats.json under one lock,
    so none writes over another's adapters."""
    stats_path = output / "stats.json"
    with _locked(output / ".curate" / "train-stats.lock"):
        stats = json.loads(stats_path.read_text())
        stats.setdefault("training", {}).update(results)
        atomic_write_text(stats_path, json.dumps(stats, indent=2, ensure_ascii=False))
        write_report(output)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive flock on `path`, held for the block (the kernel drops it if the holder dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _json_safe(value: Any) -> Any:
    """NaN losses (a diverged run) as null: stats.json stays valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


