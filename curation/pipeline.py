"""Compile a recipe into a short chain of datatrove stages, and run it.

    curate    read -> [steps before dedup] -> dedup signatures -> intermediate JSONL
    buckets   candidate pairs per LSH band, verified exactly            (only with dedup)
    clusters  union-find, one survivor per cluster                      (only with dedup)
    filter    intermediate JSONL -> dedup filter -> [steps between] -> select candidates
              -> intermediate JSONL                                     (only with dedup and select)
    select    greedy selection per language over every task's candidates  (only with select)
    publish   intermediate JSONL -> dedup or select filter -> [steps after] -> per-language shards
    finalize  HF layout, stats.json (checked), dataset card

Dedup and select decide over the whole run, so each ends a stage: its first part writes what the
decision needs next to the stage's records, one or more stages decide, and the next stage reads the
records back and applies the decisions. Without dedup, select candidates end `curate`. `select`
goes after `dedup` and after the step that writes the score it ranks by (checked when compiling).

Stages run on datatrove executors (local by default, Slurm or Ray from the recipe), chained
with `depends=`. Resume is datatrove's: a task that finished has a completion file and is
skipped when the same recipe runs again. The stages that write and re-read records run the same
number of tasks: records are identified between them by (task, position).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers.jsonl import JsonlWriter

from curation.card import render_card
from curation.errors import RecipeError
from curation.readers import SourceFile, SourceReader, expand_inputs
from curation.recipe import Recipe, dump_resolved
from curation.report import write_report
from curation.shards import ShardWriter, publish_shards
from curation.stats import CountedStepRef, build_stats
from curation.steps import CountedStep, Filter

logger = logging.getLogger(__name__)


@dataclass
class Stage:
    name: str
    pipeline: list[PipelineStep]
    tasks: int
    max_workers: int | None = None  # stages that load a model run llm.tasks of them at once


@dataclass
class RunLayout:
    """Every path a run uses, derived from the output folder."""

    output: Path
    work: Path = field(init=False)

    def __post_init__(self) -> None:
        self.output = Path(self.output)
        self.work = self.output / ".curate"

    def logs(self, stage: str) -> Path:
        return self.work / "logs" / stage

    @property
    def docs(self) -> Path:
        return self.work / "docs"

    @property
    def dedup(self) -> Path:
        return self.work / "dedup"

    @property
    def select(self) -> Path:
        return self.work / "select"

    @property
    def staging(self) -> Path:
        return self.work / "shards"

    @property
    def quarantine(self) -> Path:
        return self.output / "quarantine"

    def rejects(self, step: str) -> Path:
        return self.output / "rejects" / step

    @property
    def failures(self) -> Path:
        return self.output / "failures"

    @property
    def generation_progress(self) -> Path:
        return self.work / "progress" / "generate"

    @property
    def distributions(self) -> Path:
        return self.work / "distributions"

    @property
    def cache(self) -> Path:
        return self.output / "cache" / "requests.sqlite"

    @property
    def stats(self) -> Path:
        return self.output / "stats.json"

    @property
    def fingerprint(self) -> Path:
        return self.work / "fingerprint"


class IntermediateReader(PipelineStep):
    """Reads back the records task `rank` of the curate stage wrote, in the same order."""

    name = "reload"
    type = "curate"

    def __init__(self, docs_dir: str):
        super().__init__()
        self.docs_dir = docs_dir

    def run(self, data=None, rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        import gzip

        import orjson

        path = Path(self.docs_dir) / f"{rank:05d}.jsonl.gz"
        if not path.exists():  # a task whose records were all dropped writes no file
            return
        with gzip.open(path, "rb") as fh:
            for line in fh:
                obj = orjson.loads(line)
                yield Document(text=obj["text"], id=obj["id"], metadata=obj.get("metadata") or {})


class Finalize(PipelineStep):
    """One task: publish the HF layout, merge and check the stats, write the card."""

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

    def run(self, data=None, rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        layout = self.layout
        published = publish_shards(layout.staging, layout.output / "data")
        for folder, info in published.items():
            info["lang"] = self.folder_langs.get(folder, folder)
        stats = build_stats({s: layout.logs(s) for s in self.stage_names}, self.chains, published)
        stats = {"recipe": self.recipe.name, "fingerprint": self.recipe.fingerprint(), **stats,
                 "quarantine": quarantine_summary(layout.quarantine),
                 "distributions": read_distributions(layout.distributions)}
        if layout.stats.exists():  # training results belong to the data, which a rerun does not change
            training = json.loads(layout.stats.read_text()).get("training")
            if training:
                stats["training"] = training
        layout.stats.write_text(json.dumps(stats, indent=2, ensure_ascii=False))
        (layout.output / "README.md").write_text(render_card(self.recipe, stats), encoding="utf-8")
        write_report(layout.output)
        if not stats["accounting"]["ok"]:
            logger.error("accounting check failed: %s", "; ".join(stats["accounting"]["problems"]))
        yield from ()


def read_distributions(folder: Path) -> dict[str, Any]:
    """Merge every task's score and length sketches (see `curation.distributions`)."""
    from curation.distributions import build_distributions

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


def _rejects_writer(recipe: Recipe, layout: RunLayout, step: str) -> JsonlWriter | None:
    if not recipe.dataset.rejects:
        return None
    return JsonlWriter(str(layout.rejects(step)), output_filename="${rank}.jsonl.gz")


def build_step(kind: str, config: Any, recipe: Recipe, layout: RunLayout) -> PipelineStep:
    """A recipe step as a pipeline step; filters also get the rejects writer when the recipe asks."""
    step = _instantiate_step(kind, config)
    if isinstance(step, Filter) and step.rejects is None:
        step.rejects = _rejects_writer(recipe, layout, step.name)
    return step


def confidence_filter(config: Any, recipe: Recipe, layout: RunLayout) -> PipelineStep:
    """The confidence step with an engine built where it runs (the recipe's llm, behind the request cache)."""
    from functools import partial

    from curation.generation import cached_engine
    from filters.confidence import ConfidenceFilter

    return ConfidenceFilter(engine_factory=partial(cached_engine, recipe.llm, str(layout.cache)),
                            samples=config.samples, sample_max_tokens=config.sample_max_tokens,
                            reflection=config.reflection, weights=config.weights, combination=config.combination,
                            min_confidence=config.min_confidence, drop_fraction=config.drop_fraction,
                            on_low=config.on_low, batch_size=config.batch_size,
                            max_response_tokens=config.max_response_tokens)


# Steps that decide over the whole run: each ends a stage, and the stages after it decide and apply.
WHOLE_RUN_STEPS = ("dedup", "select")


def _build_step_at(index: int, spec: Any, recipe: Recipe, layout: RunLayout) -> PipelineStep | None:
    """Build recipe step `index`; a step's own complaint about its settings names the YAML path."""
    if spec.kind in WHOLE_RUN_STEPS:
        return None  # several stages each, wired by compile_recipe
    try:
        if spec.kind == "confidence":
            step = confidence_filter(spec.config, recipe, layout)
            step.rejects = _rejects_writer(recipe, layout, "confidence")
            return step
        return build_step(spec.kind, spec.config, recipe, layout)
    except RecipeError as e:
        raise RecipeError(f"steps[{index}].{spec.kind}: {e}") from None
    except ValueError as e:
        raise RecipeError(f"steps[{index}].{spec.kind}: {e}") from None


def _instantiate_step(kind: str, config: Any) -> PipelineStep:
    """The one explicit mapping from a recipe step type to the class that runs it."""
    if kind == "lid":
        from filters.lid import LanguageID

        return LanguageID(keep=config.keep, min_score=config.min_score, label_only=config.label_only,
                          per_turn=config.per_turn, short_text_chars=config.short_text_chars,
                          use_langdetect=config.use_langdetect)
    if kind == "quality":
        from filters.heuristics import QualityFilter

        return QualityFilter(rules=config.rules, thresholds=config.thresholds, per_language=config.per_language)
    if kind == "custom":
        return build_custom_step(config)
    raise RecipeError(f"steps: unknown step type {kind!r}")


def build_custom_step(config: Any) -> PipelineStep:
    """The `module:Class` escape hatch: import and instantiate, with errors that name the class."""
    import importlib

    module_name, class_name = config.use.split(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as e:
        raise RecipeError(f"custom step {config.use}: cannot import it ({e})") from None
    if not (isinstance(cls, type) and issubclass(cls, PipelineStep)):
        raise RecipeError(f"custom step {config.use}: not a datatrove PipelineStep")
    try:
        return cls(**config.args)
    except TypeError as e:
        raise RecipeError(f"custom step {config.use}: bad args ({e})") from None


def dedup_stages(config: Any, recipe: Recipe, layout: RunLayout) -> tuple[PipelineStep, list[Stage], PipelineStep]:
    """Dedup as (the step that ends a stage, the stages that decide, the filter that starts the next)."""
    from filters.dedup import DedupBuckets, DedupClusters, DedupFilter, DedupSignatures

    minhash, containment = dedup_settings(config)
    buckets = DedupBuckets(str(layout.dedup), config=minhash, jaccard_threshold=config.near.threshold,
                           containment=containment)
    deciding = [Stage("buckets", [buckets], max(1, min(recipe.executor.tasks, config.near.bands))),
                Stage("clusters", [DedupClusters(str(layout.dedup))], 1)]
    return (DedupSignatures(str(layout.dedup), config=minhash, containment=containment), deciding,
            DedupFilter(str(layout.dedup), rejects=_rejects_writer(recipe, layout, "dedup")))


def select_stages(index: int, config: Any, recipe: Recipe, layout: RunLayout) -> tuple[PipelineStep, list[Stage],
                                                                                      PipelineStep]:
    """Select as (candidates ending a stage, the one-task stage that decides, the filter starting the next)."""
    from filters.select import SelectCandidates, SelectDecide, SelectFilter

    try:
        decide = SelectDecide(str(layout.select), budget=config.budget, diversity_threshold=config.diversity_threshold)
    except ValueError as e:
        raise RecipeError(f"steps[{index}].select: {e}") from None
    candidates = SelectCandidates(str(layout.select), score_key=config.score_key, complexity_key=config.complexity_key)
    return (candidates, [Stage("select", [decide], 1)],
            SelectFilter(str(layout.select), rejects=_rejects_writer(recipe, layout, "select")))


# Scores a recipe step writes into metadata["scores"]: this name and names under "<name>.".
SCORES_WRITTEN = {"confidence": "confidence", "quality": "quality"}


def check_select_placement(recipe: Recipe) -> None:
    """`select` ranks what is left after dedup, by a score already written: say so where it is not."""
    kinds = [s.kind for s in recipe.steps]
    if "select" not in kinds:
        return
    at = kinds.index("select")
    if "dedup" in kinds[at + 1:]:
        raise RecipeError(f"steps[{at}].select: put `select` after `dedup` (steps[{kinds.index('dedup')}]): the "
                          "budget counts the records dedup keeps, and dedup after it would drop selected ones")
    config = recipe.steps[at].config
    for field_name in ("score_key", "complexity_key"):
        score = getattr(config, field_name)
        for later in range(at + 1, len(kinds)):
            written = SCORES_WRITTEN.get(kinds[later])
            if score and written and (score == written or score.startswith(written + ".")):
                raise RecipeError(f"steps[{at}].select.{field_name}: `{score}` is written by `{kinds[later]}` "
                                  f"(steps[{later}]), which runs after `select`: put `{kinds[later]}` before it")


def _handoff_writer(folder: Path) -> JsonlWriter:
    """Where a stage leaves its records for the next one (re-read in order by IntermediateReader)."""
    return JsonlWriter(str(folder), output_filename="${rank}.jsonl.gz", compression="gzip")


def dedup_settings(config: Any) -> tuple[Any, Any]:
    """The recipe's dedup block as the dedup module's MinHashConfig and ContainmentConfig."""
    from filters.dedup import ContainmentConfig
    from filters.minhash import MinHashConfig

    near = config.near
    minhash = MinHashConfig(num_bands=near.bands, rows_per_band=near.rows, ngram=near.ngram)
    containment = None
    if config.containment is not None:
        c = config.containment
        containment = ContainmentConfig(threshold=c.threshold, min_shingles=c.min_shingles,
                                        max_doc_frequency=c.max_doc_frequency)
    return minhash, containment


def language_folders(recipe: Recipe) -> dict[str, str]:
    """ISO 639-3 code -> the code the user wrote in the LID keep-list (used as the folder name)."""
    lid = recipe.step("lid")
    if lid is None or not lid.keep:
        return {}
    from curation.languages import normalize_lang

    try:
        return {normalize_lang(code): code for code in lid.keep}
    except ValueError as e:
        raise RecipeError(f"lid.keep: {e}") from None


def generation_stage(recipe: Recipe, layout: RunLayout, retry_attempt: int) -> Stage:
    """generate -> verify -> write, one task per GPU (or one on CPU), languages spread over tasks."""
    from curation.generation import GenerateStep, VerifyStep
    from curation.languages import normalize_lang

    spec = recipe.generate
    try:
        languages = {normalize_lang(code): code for code in spec.languages}
    except ValueError as e:
        raise RecipeError(f"generate.languages: {e}") from None
    generate = GenerateStep(spec, recipe.llm, languages, str(layout.cache), str(layout.failures),
                            str(layout.staging), retry_attempt=retry_attempt)
    generate.progress_dir = str(layout.generation_progress)
    verify = VerifyStep(spec.verify)
    verify.rejects = _rejects_writer(recipe, layout, "verify")
    scoring = []
    if (confidence := recipe.step("confidence")) is not None:  # generated records are scored too
        scoring.append(confidence_filter(confidence, recipe, layout))
        scoring[0].rejects = _rejects_writer(recipe, layout, "confidence-generated")
    writer = ShardWriter(str(layout.staging), languages, recipe.dataset.rows_per_shard, prefix="generated-")
    return Stage("generate", [generate, verify, *scoring, writer], max(1, min(recipe.llm.tasks, len(languages))))


def compile_recipe(recipe: Recipe, files: list[SourceFile], layout: RunLayout, retry_attempt: int = 0) -> list[Stage]:
    tasks = recipe.executor.tasks
    check_select_placement(recipe)
    built = [_build_step_at(index, spec, recipe, layout) for index, spec in enumerate(recipe.steps)]

    stages: list[Stage] = []
    name = "curate"
    pipeline: list[PipelineStep] = [SourceReader(recipe.inputs, files, str(layout.quarantine), recipe.limits)]
    handoffs = iter([layout.docs, layout.work / "docs-2"])  # at most two whole-run steps (each type once)
    for index, (spec, step) in enumerate(zip(recipe.steps, built, strict=True)):
        if spec.kind not in WHOLE_RUN_STEPS:
            pipeline.append(step)
            continue
        ending, deciding, applying = (dedup_stages(spec.config, recipe, layout) if spec.kind == "dedup"
                                      else select_stages(index, spec.config, recipe, layout))
        docs = next(handoffs)
        stages += [Stage(name, [*pipeline, ending, _handoff_writer(docs)], tasks), *deciding]
        name, pipeline = "filter", [IntermediateReader(str(docs)), applying]
    if not stages:  # nothing decides over the whole run: publish still re-reads what curate wrote
        stages.append(Stage("curate", [*pipeline, _handoff_writer(layout.docs)], tasks))
        pipeline = [IntermediateReader(str(layout.docs))]
    folders = language_folders(recipe)
    stages.append(Stage("publish", [*pipeline, ShardWriter(str(layout.staging), folders, recipe.dataset.rows_per_shard)],
                        tasks))

    for stage in stages:
        if any(step.name in ("confidence", "generate") for step in stage.pipeline):
            stage.max_workers = recipe.llm.tasks
    order = [CountedStepRef(stage.name, step.name) for stage in stages for step in stage.pipeline
             if isinstance(step, CountedStep)]
    if len(set(order)) != len(order):
        raise RecipeError("two counted steps in one stage share a name; give your custom step class its own `name`")
    chains = [order]
    folder_langs = {folder: code for code, folder in folders.items()}
    if recipe.generate is not None:
        stage = generation_stage(recipe, layout, retry_attempt)
        stages.append(stage)
        chains.append([CountedStepRef(stage.name, step.name) for step in stage.pipeline])
        for code, folder in stage.pipeline[0].languages.items():
            for task, _ in recipe.generate.tasks():
                folder_langs[f"{folder}-{task}"] = code
    for stage in stages:
        for step in stage.pipeline:
            if isinstance(step, CountedStep):
                step.distributions_dir = str(layout.distributions / stage.name)
    finalize = Finalize(recipe, layout, [s.name for s in stages], chains, folder_langs)
    stages.append(Stage("finalize", [finalize], 1))
    return stages


def prepare_output(recipe: Recipe, layout: RunLayout, fresh: bool) -> None:
    """Refuse to resume over a different recipe's run; start over when asked."""
    if fresh and layout.output.exists():
        for name in (".curate", "data", "quarantine", "rejects", "stats.json", "README.md", "recipe.resolved.yaml"):
            target = layout.output / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    fingerprint = recipe.fingerprint()
    if layout.fingerprint.exists() and layout.fingerprint.read_text().strip() != fingerprint:
        raise RecipeError(
            f"{layout.output} holds a run of a different recipe (or task count); resuming would mix the two. "
            "Pass --fresh to start over, or choose another output folder."
        )
    layout.work.mkdir(parents=True, exist_ok=True)
    layout.fingerprint.write_text(fingerprint)
    (layout.output / "recipe.resolved.yaml").write_text(dump_resolved(recipe), encoding="utf-8")
    # The finalize stage always runs again: it is cheap and rebuilds data/ and stats from the task files.
    shutil.rmtree(layout.logs("finalize") / "completions", ignore_errors=True)


def start_retry(layout: RunLayout) -> int:
    """Prepare `--retry-failures`: the generate stage runs again (answered requests come from the
    cache, failed ones are asked again with a new seed). Returns the retry attempt number."""
    attempt_file = layout.work / "retry_attempt"
    attempt = int(attempt_file.read_text()) + 1 if attempt_file.exists() else 1
    attempt_file.write_text(str(attempt))
    for stage in ("generate", "finalize"):
        shutil.rmtree(layout.logs(stage) / "completions", ignore_errors=True)
        shutil.rmtree(layout.logs(stage) / "stats", ignore_errors=True)
    return attempt


def start_ray(recipe: Recipe) -> None:
    """Connect to the recipe's Ray cluster, or start a local one (what `ray.init()` does)."""
    try:
        import ray
    except ImportError:
        raise RecipeError("executor.ray needs Ray: pip install 'curate[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=recipe.executor.ray.address, include_dashboard=False, log_to_driver=False)


def make_executors(recipe: Recipe, stages: list[Stage], layout: RunLayout) -> list[Any]:
    """One datatrove executor per stage, each depending on the previous one."""
    spec = recipe.executor
    executors: list[Any] = []
    previous = None
    for stage in stages:
        logging_dir = str(layout.logs(stage.name))
        if spec.kind == "local":
            from datatrove.executor import LocalPipelineExecutor

            workers = spec.local.workers or min(stage.tasks, os.cpu_count() or 1)
            if stage.max_workers:
                workers = min(workers, stage.max_workers)
            executor = LocalPipelineExecutor(stage.pipeline, tasks=stage.tasks, workers=min(workers, stage.tasks),
                                             logging_dir=logging_dir, depends=previous)
        elif spec.kind == "ray":
            from datatrove.executor.ray import RayPipelineExecutor

            executor = RayPipelineExecutor(stage.pipeline, tasks=stage.tasks, workers=spec.ray.workers,
                                           cpus_per_task=spec.ray.cpus_per_task, mem_per_cpu_gb=spec.ray.mem_per_cpu_gb,
                                           logging_dir=logging_dir, depends=previous)
        else:
            from datatrove.executor import SlurmPipelineExecutor

            s = spec.slurm
            executor = SlurmPipelineExecutor(stage.pipeline, tasks=stage.tasks, time=s.time, partition=s.partition,
                                             cpus_per_task=s.cpus_per_task, mem_per_cpu_gb=s.mem_per_cpu_gb,
                                             workers=s.workers, sbatch_args=s.sbatch_args, venv_path=s.venv_path,
                                             job_name=f"curate-{recipe.name}-{stage.name}", logging_dir=logging_dir,
                                             depends=previous)
        executors.append(executor)
        previous = executor
    return executors


def plan(recipe: Recipe) -> tuple[list[SourceFile], list[Stage]]:
    """Check inputs and compile, without running anything (what `curate plan` prints)."""
    files = expand_inputs(recipe.inputs)
    layout = RunLayout(Path(recipe.output))
    return files, compile_recipe(recipe, files, layout)
