"""A recipe compiled into a short chain of datatrove stages, through one table of step types.

    index     benchmark n-gram index, 1 task                            (only with decontaminate)
    curate    read -> [steps before dedup] -> dedup signatures -> intermediate JSONL
    buckets   candidate pairs per (LSH band, hash range)                (only with dedup)
    verify    each candidate pair checked exactly, by the task owning it  (only with dedup)
    links .. resolve  connected components in star rounds + exact finish  (only with dedup)
    clusters  one survivor per cluster, per partition of cluster labels (only with dedup)
    filter    intermediate JSONL -> dedup filter -> [steps between] -> select candidates
              -> intermediate JSONL                                     (only with dedup and select)
    select    greedy selection per language, languages spread over tasks  (only with select)
    publish   intermediate JSONL -> dedup or select filter -> [steps after] -> per-language shards
    generate  generators -> verify -> [refusal check] -> [preference pairs] -> [confidence, judge] -> shards
              (with `generate`)
    finalize  HF layout, stats.json (checked), dataset card, report
    train     (Slurm/Ray, with `train`) LoRA adapters, one task (and GPU) per adapter
    push      (Slurm/Ray, with `push`) the output to the Hub, one task

STEP_TYPES is the one place a recipe step type is wired: its recipe model, the class that runs it
(built with the model's fields as keyword arguments, so a setting is spelled in the model and the
class, nowhere else), whether it decides over the whole run, whether it needs a stage of its own
before the run (decontaminate's index), whether generated records pass it too, and what it needs
(an engine). A new step type is a class, a recipe model with its field in `StepSpec`, and one row.

Whole-run steps (dedup, select) end a stage: their first part writes what the decision needs next
to the stage's records, one or more stages decide, and the next stage reads the records back
(`IntermediateReader`) and applies the decisions. Stages that write and re-read records run the
same number of tasks: records are identified between them by (task, position).

This is the only module of the core that imports the wings (filters/, generators/); training asks
LID too. See tests/test_layout.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path

from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers.jsonl import JsonlWriter

from curation.after_run import PushStep, TrainStep
from curation.errors import InputError, RecipeError
from curation.handoff import IntermediateReader
from curation.inputs import SourceFile, expand_inputs
from curation.languages import normalize_lang
from curation.layout import RunLayout, config_folder
from curation.llm.engines import SharedEngine
from curation.loader import load_class
from curation.readers import SourceReader
from curation.recipe import (
    ConfidenceStep,
    CustomStep,
    DecontaminateStep,
    DedupStep,
    JudgeStep,
    LidStep,
    PiiStep,
    QualityStep,
    Recipe,
    SelectStep,
    StepSpec,
    Strict,
)
from curation.remote import recipe_layout
from curation.shards import ShardWriter
from curation.stats import CountedStepRef, Finalize
from curation.steps import CountedStep, Filter, RedactingJsonlWriter, SideOutputs
from curation.train import adapter_tasks
from filters.confidence import ConfidenceFilter
from filters.decontaminate import BuildDecontaminationIndex, Decontaminate
from filters.dedup import ContainmentConfig, DedupFilter, DedupSignatures
from filters.dedup_buckets import DedupBuckets
from filters.dedup_clusters import deciding_pipelines
from filters.heuristics import QualityFilter
from filters.judge import JudgeFilter
from filters.lid import LanguageID, language_table
from filters.minhash import MinHashConfig
from filters.preference import PreferencePairs
from filters.redact import PIIFilter, Redactor
from filters.refusal import RefusalCheck
from filters.select import SelectCandidates, SelectDecide, SelectFilter
from filters.verify import VerifyStep
from generators.stage import GenerateStep, estimate_requests

# `curate plan` shows the generators' own estimate, `curate lid --list` the LID step's languages,
# through here (the CLI does not import the wings).
__all__ = ["STEP_TYPES", "Stage", "compile_recipe", "estimate_requests", "language_table", "plan"]


@dataclass
class Stage:
    name: str
    pipeline: list[PipelineStep]
    tasks: int
    max_workers: int | None = None  # stages that load a model run llm.tasks of them at once
    loads_model: bool = False  # a step asks the recipe's model: on a cluster its tasks get GPUs
    trains: bool = False  # the train stage (cluster executors): its tasks get GPUs too


@dataclass(frozen=True)
class Compiling:
    """What building a step may look at: the recipe, its paths, and the stage the step lands in."""

    recipe: Recipe
    layout: RunLayout
    engines: dict[str, SharedEngine] = field(default_factory=dict, compare=False, repr=False)  # by model spec

    @cached_property
    def redactor(self) -> Redactor | None:
        """The recipe's `pii` settings as a Redactor, for what is written outside the records' path
        (rejects, quarantine excerpts); None without a `pii` step."""
        spec = self.recipe.step("pii")
        if spec is None:
            return None
        try:
            return Redactor(spec.kinds, spec.tokens, spec.regions, spec.private_ips)
        except RecipeError as e:
            index = [s.kind for s in self.recipe.steps].index("pii")
            raise RecipeError(f"steps[{index}].pii: {e}") from None

    def outputs(self, step: str, stage: str, rejects_folder: str | None = None, drops: bool = True) -> SideOutputs:
        """The side outputs of step `step` in stage `stage`: rejects when the step drops records and the
        recipe asks for them (under `rejects/<rejects_folder or step>/`), the report's sketches always.
        With a `pii` step, every rejects writer redacts: records dropped before `pii` are still raw."""
        rejects = None
        if drops and self.recipe.dataset.rejects:
            folder, name = str(self.layout.rejects(rejects_folder or step)), "${rank}.jsonl.gz"
            rejects = (JsonlWriter(folder, output_filename=name) if self.redactor is None
                       else RedactingJsonlWriter(folder, self.redactor.redact_document, output_filename=name))
        return SideOutputs(rejects=rejects, distributions=str(self.layout.distributions(stage)))

    def engine_factory(self, stage: str, block: str = "llm") -> Callable[[int], object]:
        """The engine of the recipe's `llm` (or `judge_llm`, which defaults to it) behind the request cache of
        stage `stage`'s task (called with its rank), built where the task runs (it pickles). Every step of a
        stage asking the same model gets the same factory, so a task loads that model once (see SharedEngine)."""
        llm = getattr(self.recipe, block) or self.recipe.llm
        key = f"{stage}/{llm.model_dump_json()}"
        if key not in self.engines:
            self.engines[key] = SharedEngine(llm, partial(self.layout.task_cache, stage), self.layout.cache)
        return self.engines[key]


# A whole-run step as (the step that ends a stage, the stages that decide, the filter starting the next).
WholeRun = tuple[PipelineStep, list[Stage], PipelineStep]


@dataclass(frozen=True)
class StepType:
    """How one recipe step type becomes pipeline steps.

    spec: its recipe model (and `StepSpec`'s field of the same name).
    step: the class built as `step(**spec fields, outputs=..., [engine_factory=...])`.
    build: instead of `step`, a function (spec, compiling, stage, rejects folder or None) -> step.
    whole_run: instead of either, a function (spec, compiling, index, applying stage) -> WholeRun.
    before_run: a function (spec, compiling, index) -> a Stage that runs once, before the run's first stage.
    on_generated: generated records pass the step too (in the generate stage, after verify, in table order).
    needs_engine: the step gets `engine_factory`, the recipe's llm behind the request cache.
    engine_block: which recipe block that engine comes from (`judge_llm` falls back to `llm`).
    scores: the name it writes into metadata["scores"] (and names under "<scores>."), for `select`.
    """

    spec: type[Strict]
    step: type[PipelineStep] | None = None
    build: Callable[[Strict, Compiling, str, str | None], PipelineStep] | None = None
    whole_run: Callable[[Strict, Compiling, int, str], WholeRun] | None = None
    before_run: Callable[[Strict, Compiling, int], Stage] | None = None
    on_generated: bool = False
    needs_engine: bool = False
    engine_block: str = "llm"
    scores: str | None = None


def custom_step(spec: CustomStep, compiling: Compiling, stage: str, rejects_folder: str | None = None) -> PipelineStep:
    """The `module:Class` escape hatch: import and instantiate, with errors that name the class."""
    cls = load_class(spec.use, "custom step")
    if not issubclass(cls, PipelineStep):
        raise RecipeError(f"custom step {spec.use}: not a datatrove PipelineStep")
    try:
        step = cls(**spec.args)
    except TypeError as e:
        raise RecipeError(f"custom step {spec.use}: bad args ({e})") from None
    if isinstance(step, CountedStep):
        # A user's class need not pass `outputs` on to our base: its filter still gets rejects and sketches.
        step.outputs = compiling.outputs(step.name, stage, rejects_folder, drops=isinstance(step, Filter))
    return step


def dedup_stages(spec: DedupStep, compiling: Compiling, index: int, applying_stage: str) -> WholeRun:
    """Dedup: signatures end the stage; buckets and clusters decide; a filter applies the decision."""
    recipe, layout = compiling.recipe, compiling.layout
    near = spec.near
    try:
        minhash = MinHashConfig(num_bands=near.bands, rows_per_band=near.rows, ngram=near.ngram)
    except RecipeError as e:
        raise RecipeError(f"steps[{index}].dedup: {e}") from None
    containment = None
    if spec.containment is not None:
        c = spec.containment
        containment = ContainmentConfig(threshold=c.threshold, min_shingles=c.min_shingles,
                                        max_doc_frequency=c.max_doc_frequency)
    buckets = DedupBuckets(str(layout.dedup), config=minhash, jaccard_threshold=near.threshold,
                           containment=containment)
    deciding = [Stage(name, steps, tasks) for name, steps, tasks in deciding_pipelines(buckets, recipe.executor.tasks)]
    return (DedupSignatures(str(layout.dedup), config=minhash, containment=containment), deciding,
            DedupFilter(str(layout.dedup), outputs=compiling.outputs("dedup", applying_stage)))


def select_stages(spec: SelectStep, compiling: Compiling, index: int, applying_stage: str) -> WholeRun:
    """Select: candidates end the stage; one task decides per language; a filter applies it."""
    layout = compiling.layout
    try:
        decide = SelectDecide(str(layout.select), budget=spec.budget, diversity_threshold=spec.diversity_threshold)
    except RecipeError as e:
        raise RecipeError(f"steps[{index}].select: {e}") from None
    candidates = SelectCandidates(str(layout.select), score_key=spec.score_key, complexity_key=spec.complexity_key)
    return (candidates, [Stage("select", [decide], compiling.recipe.executor.tasks)],
            SelectFilter(str(layout.select), outputs=compiling.outputs("select", applying_stage)))


def decontamination_index(spec: DecontaminateStep, compiling: Compiling, index: int) -> Stage:
    """Decontaminate's index: every benchmark read and hashed once, by one task, before anything else runs."""
    try:
        files = [expand_inputs([benchmark.as_input()]) for benchmark in spec.benchmarks]
    except InputError as e:  # name the benchmark, not an input
        where = f"steps[{index}].decontaminate.benchmarks"
        raise InputError(str(e).replace("inputs[0]", where, 1)) from None
    layout = compiling.layout
    build = BuildDecontaminationIndex(str(layout.decontamination), spec.benchmarks, files, spec.ngram,
                                      spec.min_ngram, str(layout.benchmark_quarantine), compiling.recipe.limits)
    return Stage("index", [build], 1)


def decontamination_filter(spec: DecontaminateStep, compiling: Compiling, stage: str,
                           rejects_folder: str | None) -> PipelineStep:
    """The check itself, wherever it runs: the index memory-mapped, records dropped as `contaminated`."""
    return Decontaminate(str(compiling.layout.decontamination), stage, min_matches=spec.min_matches,
                         min_fraction=spec.min_fraction,
                         outputs=compiling.outputs("decontaminate", stage, rejects_folder))


STEP_TYPES: dict[str, StepType] = {
    "lid": StepType(LidStep, step=LanguageID),
    "quality": StepType(QualityStep, step=QualityFilter, scores="quality"),
    "dedup": StepType(DedupStep, whole_run=dedup_stages),
    # Generated records pass the `on_generated` rows in this order: the model-free checks first (pii before
    # anything sees or writes the text), then the safety/preference judges, then confidence and judge.
    "pii": StepType(PiiStep, step=PIIFilter, on_generated=True),
    "decontaminate": StepType(DecontaminateStep, build=decontamination_filter, before_run=decontamination_index,
                              on_generated=True),
    "confidence": StepType(ConfidenceStep, step=ConfidenceFilter, needs_engine=True, scores="confidence",
                           on_generated=True),
    "judge": StepType(JudgeStep, step=JudgeFilter, needs_engine=True, engine_block="judge_llm", scores="judge",
                      on_generated=True),
    "select": StepType(SelectStep, whole_run=select_stages),
    "custom": StepType(CustomStep, build=custom_step),
}


def build_step(kind: str, spec: Strict, compiling: Compiling, stage: str, rejects_folder: str | None = None,
               ) -> PipelineStep:
    """One recipe step that runs inside a stage, from its row of STEP_TYPES."""
    row = STEP_TYPES[kind]
    if row.build is not None:
        return row.build(spec, compiling, stage, rejects_folder)
    needs = {"engine_factory": compiling.engine_factory(stage, row.engine_block)} if row.needs_engine else {}
    return row.step(**dict(spec), **needs, outputs=compiling.outputs(kind, stage, rejects_folder))


def _build_step_at(index: int, spec: StepSpec, compiling: Compiling, stage: str) -> PipelineStep:
    """Build recipe step `index`; a step's own complaint about its settings names the YAML path."""
    try:
        return build_step(spec.kind, spec.config, compiling, stage)
    except RecipeError as e:
        raise RecipeError(f"steps[{index}].{spec.kind}: {e}") from None


def _handoff_writer(folder: Path) -> JsonlWriter:
    """Where a stage leaves its records for the next one (re-read in order by IntermediateReader)."""
    return JsonlWriter(str(folder), output_filename="${rank}.jsonl.gz", compression="gzip")


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
            written = STEP_TYPES[kinds[later]].scores
            if score and written and (score == written or score.startswith(written + ".")):
                raise RecipeError(f"steps[{at}].select.{field_name}: `{score}` is written by `{kinds[later]}` "
                                  f"(steps[{later}]), which runs after `select`: put `{kinds[later]}` before it")


def check_pii_placement(recipe: Recipe) -> None:
    """`pii` before every step that writes records or their text outside the published output: a
    whole-run step hands records on through work files under .curate/, and a step with an engine
    sends them to the model and keeps the requests in the cache. Steps before `pii` (lid, quality)
    only drop records, and their rejects are redacted on the way out."""
    kinds = [s.kind for s in recipe.steps]
    if "pii" not in kinds:
        return
    at = kinds.index("pii")
    for index, kind in enumerate(kinds[:at]):
        row = STEP_TYPES[kind]
        if row.whole_run is not None or row.needs_engine:
            where = "work files under .curate/" if row.whole_run is not None else "the LLM request cache"
            raise RecipeError(f"steps[{at}].pii: put `pii` before `{kind}` (steps[{index}]): {where} would "
                              "keep the original text")


def language_folders(recipe: Recipe) -> dict[str, str]:
    """ISO 639-3 code -> the code the user wrote in the LID keep-list (used as the folder name)."""
    lid = recipe.step("lid")
    if lid is None or not lid.keep:
        return {}
    try:
        return {normalize_lang(code): code for code in lid.keep}
    except ValueError as e:
        raise RecipeError(f"lid.keep: {e}") from None


def generation_stage(compiling: Compiling, retry_attempt: int) -> Stage:
    """generate -> verify -> [pii, decontaminate] -> [refusal check] -> [preference pairs] -> [confidence] ->
    [judge] -> write, in `llm.tasks` tasks (one per model replica: `tensor_parallel_size` GPUs each; one on
    CPU). Every task runs every language; each (language, generator) item belongs to one task by a hash of
    its identity (generators.base.owner), so the records are the same whatever the task count."""
    recipe, layout = compiling.recipe, compiling.layout
    spec = recipe.generate
    try:
        languages = {normalize_lang(code): code for code in spec.languages}
    except ValueError as e:
        raise RecipeError(f"generate.languages: {e}") from None
    generate = GenerateStep(spec, recipe.llm, languages, compiling.engine_factory("generate"), str(layout.failures),
                            str(layout.staging), retry_attempt=retry_attempt,
                            progress_dir=str(layout.generation_progress))
    estimate_requests(spec)  # builds each generator and reads its files: complaints before anything runs
    verify = VerifyStep(**dict(spec.verify), outputs=compiling.outputs("verify", "generate"))
    def passing(model_free: bool) -> list[PipelineStep]:
        """The recipe's steps that generated records pass too (table order): model-free checks or the scorers."""
        return [build_step(kind, config, compiling, "generate", rejects_folder=f"{kind}-generated")
                for kind, row in STEP_TYPES.items()
                if row.on_generated and row.needs_engine != model_free and (config := recipe.step(kind)) is not None]

    scoring = passing(model_free=True)  # pii, decontaminate: before anything judges or writes the text
    if spec.safety is not None:  # harmful requests must be refused, look-alikes answered: judged with judge_llm
        scoring.append(RefusalCheck(threshold=spec.safety.refusal_threshold,
                                    engine_factory=compiling.engine_factory("generate", "judge_llm"),
                                    outputs=compiling.outputs("refusal", "generate")))
    if spec.preference is not None:  # candidates -> chosen/rejected pairs, judged with judge_llm
        task = spec.preference
        scoring.append(PreferencePairs(min_margin=task.min_margin, pairwise_check=task.pairwise_check,
                                       criteria=task.criteria, min_chars=spec.verify.min_chars,
                                       max_chars=spec.verify.max_chars,
                                       engine_factory=compiling.engine_factory("generate", "judge_llm"),
                                       outputs=compiling.outputs("preference", "generate")))
    scoring += passing(model_free=False)  # confidence, judge
    writer = ShardWriter(str(layout.staging), languages, recipe.dataset.rows_per_shard, prefix="generated-",
                         outputs=compiling.outputs("write", "generate", drops=False))
    return Stage("generate", [generate, verify, *scoring, writer], recipe.llm.tasks)


def _stage_of_each_step(recipe: Recipe) -> list[str]:
    """The stage each recipe step runs in: `curate` before the first whole-run step, `filter` between
    two, `publish` after the last (a whole-run step's own part ends the stage it is listed in)."""
    whole_run = [i for i, s in enumerate(recipe.steps) if STEP_TYPES[s.kind].whole_run is not None]
    stages = []
    for index in range(len(recipe.steps)):
        before = sum(1 for w in whole_run if w < index)
        if before == 0:
            stages.append("curate")
        elif before < len(whole_run):
            stages.append("filter")
        else:
            stages.append("publish")
    return stages


def compile_recipe(recipe: Recipe, files: list[SourceFile], layout: RunLayout, retry_attempt: int = 0) -> list[Stage]:
    tasks = recipe.executor.tasks
    check_select_placement(recipe)
    check_pii_placement(recipe)
    compiling = Compiling(recipe, layout)
    stage_of = _stage_of_each_step(recipe)
    whole_run_after = [i for i, s in enumerate(recipe.steps) if STEP_TYPES[s.kind].whole_run is not None]

    stages: list[Stage] = [row.before_run(spec.config, compiling, index) for index, spec in enumerate(recipe.steps)
                           if (row := STEP_TYPES[spec.kind]).before_run is not None]
    name = "curate"
    scrub = compiling.redactor.scrub if compiling.redactor is not None else None
    pipeline: list[PipelineStep] = [SourceReader(recipe.inputs, files, str(layout.quarantine), recipe.limits, scrub)]
    for index, spec in enumerate(recipe.steps):
        row = STEP_TYPES[spec.kind]
        if row.whole_run is None:
            pipeline.append(_build_step_at(index, spec, compiling, stage_of[index]))
            continue
        applying_stage = "filter" if index != whole_run_after[-1] else "publish"
        ending, deciding, applying = row.whole_run(spec.config, compiling, index, applying_stage)
        docs = layout.handoff(whole_run_after.index(index))
        stages += [Stage(name, [*pipeline, ending, _handoff_writer(docs)], tasks), *deciding]
        name, pipeline = "filter", [IntermediateReader(str(docs)), applying]
    if not any(stage.name == "curate" for stage in stages):
        # nothing decides over the whole run: publish still re-reads what curate wrote
        stages.append(Stage("curate", [*pipeline, _handoff_writer(layout.docs)], tasks))
        pipeline = [IntermediateReader(str(layout.docs))]
    folders = language_folders(recipe)
    writer = ShardWriter(str(layout.staging), folders, recipe.dataset.rows_per_shard,
                         outputs=compiling.outputs("write", "publish", drops=False))
    stages.append(Stage("publish", [*pipeline, writer], tasks))

    order = [CountedStepRef(stage.name, step.name) for stage in stages for step in stage.pipeline
             if isinstance(step, CountedStep)]
    if len(set(order)) != len(order):
        raise RecipeError("two counted steps in one stage share a name; give your custom step class its own `name`")
    chains = [order]
    folder_langs = {folder: code for code, folder in folders.items()}
    if recipe.generate is not None:
        stage = generation_stage(compiling, retry_attempt)
        stages.append(stage)
        chains.append([CountedStepRef(stage.name, step.name) for step in stage.pipeline])
        for code, folder in stage.pipeline[0].languages.items():
            for task, spec in recipe.generate.tasks():
                folder_langs[config_folder(folder, task)] = code
                for query_code in getattr(spec, "query_languages", None) or []:  # retrieval: a config per pair
                    folder_langs[f"{config_folder(folder, task)}-{query_code}"] = code
    for stage in stages:
        if any(step.name in ("confidence", "judge", "preference", "refusal", "generate") for step in stage.pipeline):
            stage.max_workers = recipe.llm.tasks
            stage.loads_model = True
    finalize = Finalize(recipe, layout, [s.name for s in stages], chains, folder_langs)
    stages.append(Stage("finalize", [finalize], 1))
    return stages + after_run_stages(recipe, layout)


def after_run_stages(recipe: Recipe, layout: RunLayout) -> list[Stage]:
    """On Slurm and Ray, the `train:` and `push:` blocks as stages after finalize, so a cluster run needs
    no follow-up command (curation/after_run.py). The local executor runs them in the CLI process."""
    if recipe.executor.kind == "local":
        return []
    stages = []
    if recipe.train is not None:
        tasks = adapter_tasks(recipe.train, published_languages(recipe))
        stages.append(Stage("train", [TrainStep(str(layout.output), recipe.train)], tasks, trains=True))
    if recipe.push is not None:
        stages.append(Stage("push", [PushStep(str(layout.output), recipe.push)], 1))
    return stages


def published_languages(recipe: Recipe) -> list[str] | None:
    """The language folders a run can publish when the recipe fixes them (the LID keep-list and the
    generate languages), or None when curated records may be in any language."""
    lid = recipe.step("lid")
    curated = list(lid.keep) if lid is not None and lid.keep else None
    if recipe.inputs and curated is None:
        return None
    return sorted(set(curated or []) | set(recipe.generate.languages if recipe.generate is not None else []))


def plan(recipe: Recipe) -> tuple[list[SourceFile], list[Stage]]:
    """Check inputs and compile, without running anything (what `curate plan` prints)."""
    files = expand_inputs(recipe.inputs)
    return files, compile_recipe(recipe, files, recipe_layout(recipe))
