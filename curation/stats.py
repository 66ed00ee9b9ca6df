"""Merge datatrove's per-task stats into stats.json and check that the numbers add up.

Every counted step records `in/<lang>`, `kept/<lang>`, `dropped/<lang>/<reason>` and
`quarantined/<lang>/<reason>` (see curation.steps). Here those counters from every task of every
stage become one long table (stage, step, lang, outcome, reason, count) that polars aggregates,
and two checks run:

1. per step and language: in == kept + dropped + quarantined;
2. along the pipeline: each counted step's `in` equals the previous counted step's `kept`, and
   the rows found in the published Parquet files equal the writer's `kept`.

A failed check is recorded in stats.json under `accounting.problems`; the CLI turns it into a
non-zero exit. `Finalize`, the run's last one-task stage, publishes the staged shards, writes
stats.json from these numbers, the dataset card and the report.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep

from curation.card import render_card
from curation.distributions import build_distributions
from curation.layout import RunLayout
from curation.llm.cache import merge_caches
from curation.recipe import Recipe
from curation.report import write_report
from curation.shards import publish_shards
from curation.steps import ACCOUNT_PREFIXES
from curation.workfiles import atomic_write_text

if TYPE_CHECKING:
    import polars as pl

logger = logging.getLogger(__name__)

COLUMNS = ("stage", "step", "lang", "outcome", "reason")  # the counters' key columns; "count" is the value


@dataclass(frozen=True)
class CountedStepRef:
    """Where a counted step lives: its stage and its datatrove step name (`type: name`)."""

    stage: str
    step: str


def _metric_total(value: Any) -> int:
    return int(value["total"] if isinstance(value, dict) else value)


def read_stage_counters(stage: str, logging_dir: Path) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Accounting rows and other counters (e.g. `confusable/...`) from one stage's per-task stats files."""
    rows: list[dict[str, Any]] = []
    extra: dict[str, int] = {}
    for stats_file in sorted((logging_dir / "stats").glob("*.json")):
        for step in json.loads(stats_file.read_text()):
            step_name = step["name"].split(": ", 1)[-1]
            for key, value in (step.get("stats") or {}).items():
                total = _metric_total(value)
                if key.startswith(ACCOUNT_PREFIXES):
                    outcome, lang, *reason = key.split("/", 2)
                    rows.append({"stage": stage, "step": step_name, "lang": lang, "outcome": outcome,
                                 "reason": reason[0] if reason else None, "count": total})
                elif "/" in key:
                    extra[f"{stage}.{step_name}.{key}"] = extra.get(f"{stage}.{step_name}.{key}", 0) + total
    return rows, extra


def counters_frame(rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    import polars as pl  # ~0.3 s to import: only finalize needs it, not every `curate` command's start-up

    schema = {**dict.fromkeys(COLUMNS, pl.Utf8), "count": pl.Int64}
    frame = pl.DataFrame(list(rows), schema=schema)
    return frame.group_by(list(COLUMNS)).agg(pl.col("count").sum())


def _totals(frame: pl.DataFrame) -> dict[str, Any]:
    import polars as pl

    def outcome_sum(name: str) -> int:
        return int(frame.filter(pl.col("outcome") == name)["count"].sum() or 0)

    def by_reason(name: str) -> dict[str, int]:
        part = frame.filter(pl.col("outcome") == name).group_by("reason").agg(pl.col("count").sum()).sort("reason")
        return {r: int(c) for r, c in part.iter_rows()}

    return {"in": outcome_sum("in"), "kept": outcome_sum("kept"), "dropped": by_reason("dropped"),
            "quarantined": by_reason("quarantined")}


def summarize_steps(frame: pl.DataFrame, order: list[CountedStepRef]) -> list[dict[str, Any]]:
    import polars as pl

    """One entry per counted step, in pipeline order, with totals and a per-language breakdown."""
    steps = []
    for ref in order:
        part = frame.filter((pl.col("stage") == ref.stage) & (pl.col("step") == ref.step))
        entry = {"stage": ref.stage, "step": ref.step, **_totals(part), "by_language": {}}
        for lang in sorted(part["lang"].unique().to_list()):
            entry["by_language"][lang] = _totals(part.filter(pl.col("lang") == lang))
        steps.append(entry)
    return steps


def check_accounting(chains: list[list[dict[str, Any]]], written_rows: int | None) -> list[str]:
    """Every way the numbers fail to add up, as sentences; empty when all is well.

    A chain is the counted steps one record passes through in order (curation is one chain,
    generation another); the last step of every chain writes Parquet rows.
    """
    problems = []
    for steps in chains:
        for entry in steps:
            where = f"{entry['stage']}/{entry['step']}"
            for lang, t in entry["by_language"].items():
                out = t["kept"] + sum(t["dropped"].values()) + sum(t["quarantined"].values())
                if t["in"] != out:
                    problems.append(f"{where} [{lang}]: {t['in']} in but {out} out (kept + dropped + quarantined)")
        for before, after in zip(steps, steps[1:], strict=False):
            if before["kept"] != after["in"]:
                problems.append(
                    f"{after['stage']}/{after['step']}: received {after['in']} records but "
                    f"{before['stage']}/{before['step']} kept {before['kept']}"
                )
    writers_kept = sum(steps[-1]["kept"] for steps in chains if steps)
    if written_rows is not None and writers_kept != written_rows:
        problems.append(f"published Parquet files hold {written_rows} rows but the writers kept {writers_kept}")
    return problems


def language_funnel(steps: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per language: records kept after each step (a funnel), with drop reasons summed over steps."""
    funnel: dict[str, dict[str, Any]] = {}
    for entry in steps:
        for lang, t in entry["by_language"].items():
            f = funnel.setdefault(lang, {"kept_after": {}, "dropped": {}, "quarantined": {}})
            f["kept_after"][entry["step"]] = t["kept"]
            for kind in ("dropped", "quarantined"):
                for reason, n in t[kind].items():
                    f[kind][f"{entry['step']}.{reason}"] = f[kind].get(f"{entry['step']}.{reason}", 0) + n
    return funnel


def confidence_summary(steps: list[dict[str, Any]], extra: dict[str, int]) -> dict[str, dict[str, int]]:
    """Per language, what the confidence step decided: records in, kept as they were, corrected
    (kept with the model's answer), dropped as low confidence, failed (engine errors), skipped (no
    prompt or response: kept unscored), and scored by rank because too few to calibrate."""
    summary: dict[str, dict[str, int]] = {}
    for entry in steps:
        if entry["step"] != "confidence":
            continue
        for lang, t in entry["by_language"].items():
            row = summary.setdefault(lang, dict.fromkeys(
                ("in", "kept", "corrected", "low_confidence", "confidence_failed", "skipped", "uncalibrated"), 0))
            row["in"] += t["in"]
            row["kept"] += t["kept"]
            for reason in ("low_confidence", "confidence_failed"):
                row[reason] += t["dropped"].get(reason, 0)
    for key, count in extra.items():
        stage_step, _, rest = key.partition("/")
        counter = stage_step.rsplit(".", 1)[-1]
        names = {"corrected": "corrected", "confidence_skipped": "skipped", "confidence_uncalibrated": "uncalibrated"}
        if ".confidence." in f".{stage_step}" and counter in names and rest in summary:
            summary[rest][names[counter]] += count
    for row in summary.values():
        row["kept"] -= row["corrected"]  # kept as given; corrected ones are counted apart
    return summary


def generation_summary(extra: dict[str, int]) -> dict[str, Any]:
    """Per target language: prompts sent, tokens in and out, failures per reason, the generators' own
    counts (math's questions attempted/solved/kept); plus throughput."""
    summary: dict[str, Any] = {}
    milliseconds = 0
    for key, count in extra.items():
        if not key.startswith("generate.generate."):
            continue
        kind, lang, *reason = key.removeprefix("generate.generate.").split("/")
        if kind == "generation_ms":
            milliseconds += count
            continue
        if kind == "cache_hits":
            continue  # llm_cache_summary's
        entry = summary.setdefault(lang, {"prompts": 0, "tokens_prompt": 0, "tokens_generated": 0, "failed": {}})
        if kind in ("failed", "counts"):
            entry.setdefault(kind, {})
            entry[kind][reason[0]] = entry[kind].get(reason[0], 0) + count
        elif kind in entry:
            entry[kind] += count
    if summary:
        generated = sum(v["tokens_generated"] for v in summary.values())
        summary["_total"] = {"seconds": round(milliseconds / 1000, 2), "tokens_generated": generated,
                             "generated_tokens_per_second": round(generated * 1000 / milliseconds, 1)
                             if milliseconds else None}
    return summary


def safety_summary(extra: dict[str, int]) -> dict[str, Any]:
    """What the refusal check decided about safety records, per language, harm category and kind
    (`harmful` | `benign`): `{lang: {category: {kind: {"kept": n, "not_refused": n, ...}}}}`."""
    summary: dict[str, Any] = {}
    for key, count in extra.items():
        where, _, rest = key.partition("/")
        if not where.endswith(".refusal.safety"):
            continue
        lang, category, kind, outcome = rest.split("/")
        outcomes = summary.setdefault(lang, {}).setdefault(category, {}).setdefault(kind, {})
        outcomes[outcome] = outcomes.get(outcome, 0) + count
    return {lang: dict(sorted(categories.items())) for lang, categories in sorted(summary.items())}


def llm_cache_summary(extra: dict[str, int]) -> dict[str, Any]:
    """Requests answered from the run's request cache instead of the model, in all and per step
    (`stage/step`): what a resumed run or `--retry-failures` did not pay for."""
    by_step: dict[str, int] = {}
    for key, count in extra.items():
        where, _, _ = key.partition("/")
        if where.endswith(".cache_hits"):
            stage, step = where.removesuffix(".cache_hits").split(".", 1)
            by_step[f"{stage}/{step}"] = by_step.get(f"{stage}/{step}", 0) + count
    return {"hits": sum(by_step.values()), "by_step": by_step}


def pii_summary(extra: dict[str, int]) -> dict[str, Any]:
    """What the `pii` step found (curated and generated records together): per language, the values
    of each kind and the records holding any (`records`); per kind over all languages; and in all."""
    by_language: dict[str, dict[str, int]] = {}
    for key, count in extra.items():
        where, _, lang = key.partition("/")
        stage_step, _, counter = where.rpartition(".")
        if not (stage_step.endswith(".pii") and counter.startswith("pii_")):
            continue
        kind = counter.removeprefix("pii_")
        row = by_language.setdefault(lang, {})
        row[kind] = row.get(kind, 0) + count
    by_kind: dict[str, int] = {}
    for row in by_language.values():
        for kind, count in row.items():
            if kind != "records":
                by_kind[kind] = by_kind.get(kind, 0) + count
    return {"records": sum(row.get("records", 0) for row in by_language.values()),
            "by_kind": dict(sorted(by_kind.items())),
            "by_language": {lang: dict(sorted(row.items())) for lang, row in sorted(by_language.items())}}


def decontamination_summary(folder: Path, extra: dict[str, int]) -> dict[str, Any]:
    """Per benchmark: what its index holds (index.json: items, quarantined items, fields indexed and too
    short, keys, bytes), records dropped as contaminated per language and stage (`<stage>.decontaminate.
    contaminated/<benchmark>/<lang>` counters), and the distinct items found in the data (the tasks'
    `found/*.json`). Empty when the run has no decontaminate step."""
    meta_path = folder / "index.json"
    if not meta_path.exists():
        return {}
    meta = json.loads(meta_path.read_text())
    benchmarks = {name: {**info, "contaminated": {}, "contaminated_by_stage": {}, "items_found": 0}
                  for name, info in meta["benchmarks"].items()}
    for key, count in extra.items():
        where, _, rest = key.partition("/")
        if not where.endswith(".decontaminate.contaminated"):
            continue
        name, lang = rest.split("/", 1)
        stage = where.split(".", 1)[0]
        entry = benchmarks[name]
        entry["contaminated"][lang] = entry["contaminated"].get(lang, 0) + count
        entry["contaminated_by_stage"][stage] = entry["contaminated_by_stage"].get(stage, 0) + count
    found: dict[str, set[str]] = {}
    for path in sorted((folder / "found").glob("*.json")):
        for name, items in json.loads(path.read_text()).items():
            found.setdefault(name, set()).update(items)
    for name, items in found.items():
        benchmarks[name]["items_found"] = len(items)
    return {"ngram": meta["ngram"], "min_ngram": meta["min_ngram"], "window_lengths": meta["lengths"],
            "benchmarks": benchmarks}


def build_stats(
    stage_logs: dict[str, Path], chains: list[list[CountedStepRef]], published: dict[str, dict[str, int]]
) -> dict[str, Any]:
    """Everything stats.json holds about the counts; `published` is rows and shards per output folder."""
    rows: list[dict[str, Any]] = []
    extra: dict[str, int] = {}
    for stage, logging_dir in stage_logs.items():
        stage_rows, stage_extra = read_stage_counters(stage, logging_dir)
        rows.extend(stage_rows)
        extra.update(stage_extra)
    frame = counters_frame(rows)
    chain_steps = [summarize_steps(frame, chain) for chain in chains]
    steps = [entry for chain in chain_steps for entry in chain]
    written = sum(v["rows"] for v in published.values())
    problems = check_accounting(chain_steps, written)
    confusable: dict[str, int] = {}
    for key, count in extra.items():
        if "confusable/" in key:
            pair = key.split("confusable/", 1)[1]
            confusable[pair] = confusable.get(pair, 0) + count
    return {
        "steps": steps,
        "languages": published,
        "funnel": language_funnel(steps),
        "confusable_pairs": dict(sorted(confusable.items(), key=lambda x: -x[1])),
        "generation": generation_summary(extra),
        "confidence": confidence_summary(steps, extra),
        "llm_cache": llm_cache_summary(extra),
        "pii": pii_summary(extra),
        "safety": safety_summary(extra),
        "other_counters": dict(sorted(extra.items())),
        "accounting": {"ok": not problems, "problems": problems},
    }


class Finalize(PipelineStep):
    """One task: publish the HF layout, merge and check the stats, write the card and the report."""

    name = "finalize"
    type = "curate"

    def __init__(self, recipe: Recipe, layout: RunLayout, stage_names: list[str],
                 chains: list[list[CountedStepRef]], folder_langs: dict[str, str]):
        super().__init__()
        self.recipe = recipe
        self.layout = layout
        self.stage_names = stage_names
        self.chains = chains
        self.folder_langs = folder_langs

    def reads(self, rank: int, world_size: int) -> list[str]:
        """Every stage's staged shards, task stats, sketches, quarantine and decontamination counts."""
        layout = self.layout
        return [str(layout.staging / "*"), str(layout.work / "logs" / "*" / "stats" / "*"),
                str(layout.distributions() / "*"), str(layout.quarantine / "*"),
                str(layout.decontamination / "index.json"), str(layout.decontamination / "found" / "*"),
                str(layout.stats)]

    def run(self, data=None, rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        layout = self.layout
        merge_task_caches(layout)
        published = publish_shards(layout.staging, layout.output / "data")
        for folder, info in published.items():
            info["lang"] = self.folder_langs.get(folder, folder)
        stats = build_stats({s: layout.logs(s) for s in self.stage_names}, self.chains, published)
        stats = {"recipe": self.recipe.name, "fingerprint": self.recipe.fingerprint(), **stats,
                 "decontamination": decontamination_summary(layout.decontamination, stats["other_counters"]),
                 "quarantine": quarantine_summary(layout.quarantine),
                 "distributions": read_distributions(layout.distributions())}
        if layout.stats.exists():  # training results belong to the data, which a rerun does not change
            training = json.loads(layout.stats.read_text()).get("training")
            if training:
                stats["training"] = training
        # Whole files or none, and stats.json last: it says the run is complete (`curate push` and
        # `curate train` read it), so a finalize killed before it leaves no finished-looking run.
        text = json.dumps(stats, indent=2, ensure_ascii=False)
        atomic_write_text(layout.output / "README.md", render_card(self.recipe, stats))
        write_report(layout.output, json.loads(text))  # what a rebuild from stats.json would draw
        atomic_write_text(layout.stats, text)
        if not stats["accounting"]["ok"]:
            logger.error("accounting check failed: %s", "; ".join(stats["accounting"]["problems"]))
        yield from ()


def merge_task_caches(layout: RunLayout) -> None:
    """Fold every task's request cache into the run's merged cache (`cache/requests.sqlite`). Here, because
    finalize is the one task that runs after every stage that asks a model, and runs on every rerun: a
    single writer, with no task reading. A run that stops before it leaves the task files for its rerun."""
    sources = sorted(layout.task_caches.glob("*.sqlite"))
    if sources:
        added = merge_caches(sources, layout.cache)
        logger.info("request cache: %d answer(s) of %d task(s) merged into %s", added, len(sources), layout.cache)


def read_distributions(folder: Path) -> dict[str, Any]:
    """Merge every task's score and length sketches (see `curation.distributions`)."""
    score_files, length_files = [], []
    for path in sorted(folder.glob("*/*.json")):
        sketch = json.loads(path.read_text())
        (score_files if "step" in sketch else length_files).append(sketch)
    return build_distributions(score_files, length_files)


def quarantine_summary(folder: Path) -> dict[str, Any]:
    by_reason: dict[str, int] = {}
    for path in sorted(folder.glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                reason = json.loads(line)["reason"]
                by_reason[reason] = by_reason.get(reason, 0) + 1
    return {"total": sum(by_reason.values()), "by_reason": by_reason, "folder": "quarantine/"}
