"""The generate stage's first step: the recipe's generators for each target language, through the cache.

    generate   GenerateStep: every configured generator for every target language, asking about this
               task's share of the items (generators.base.owner: a stable hash of an item's
               identity), through the task's request cache; unusable answers go to
               failures/<task>.jsonl (retried by `curate run --retry-failures`), token counts to the stats
    verify     filters.verify.VerifyStep: each turn in the target language, no near duplicates
    write      the shard writer, into data/<lang>-<task>/

Generated records are counted under their target language from the start, so a record in the
wrong language is a `wrong_language` drop of the language it was asked for.

GENERATORS is the one table of generator types: a recipe task name (a field of `GenerateSpec`)
-> the class that runs it, built from the task's recipe model. A new generator is a class, a
recipe model with its field in `GenerateSpec`, and a row here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from datatrove.data import Document

from curation.errors import RecipeError
from curation.languages import language
from curation.llm.engines import model_label
from curation.llm.rounds import run_merged
from curation.llm.types import Engine, Sampling
from curation.recipe import GenerateSpec, LLMSpec, Strict
from curation.steps import CountedStep
from curation.workfiles import atomic_write_text
from generators.base import Asker, Generator, Share
from generators.dialogue import DialogueGenerator
from generators.instruction import InstructionGenerator
from generators.math import MathGenerator
from generators.preference import PreferenceGenerator
from generators.qa import QAGenerator
from generators.retrieval import RetrievalGenerator
from generators.safety import SafetyGenerator
from generators.translate import TranslateGenerator

logger = logging.getLogger(__name__)

GENERATORS: dict[str, type[Generator]] = {
    "instruction": InstructionGenerator,
    "qa": QAGenerator,
    "dialogue": DialogueGenerator,
    "translate": TranslateGenerator,
    "preference": PreferenceGenerator,
    "safety": SafetyGenerator,
    "math": MathGenerator,
    "retrieval": RetrievalGenerator,
}


def build_generator(name: str, task: Strict, sampling: Sampling, passages: list[dict[str, Any]] | None = None,
                    ) -> Generator:
    """Generator `name` from its recipe model: the model's fields are the class's keyword arguments;
    a generator that reads passages gets them resolved (None: not known yet, at plan time)."""
    fields = dict(task)
    if GENERATORS[name].reads_passages:
        fields["passages"] = passages
    try:
        return GENERATORS[name](**fields, sampling=sampling)
    except RecipeError as e:
        raise RecipeError(f"generate.{name}: {e}") from None


def sampling_of(spec: GenerateSpec) -> Sampling:
    return Sampling(temperature=spec.temperature, max_tokens=spec.max_tokens, n=spec.n, seed=spec.seed)


def estimate_requests(spec: GenerateSpec) -> dict[str, dict[str, int]]:
    """Per task: prompts per language (at most, when every answer parses) and the generated-token
    bound, from the generators' own `estimate_prompts` (passages of this run count as planned)."""
    lang = spec.languages[0]
    estimate: dict[str, dict[str, int]] = {}
    for name, task in spec.tasks():
        generator = build_generator(name, task, sampling_of(spec))
        try:
            prompts = generator.estimate_prompts(lang)  # reads the files the task names (translate's source)
        except RecipeError as e:
            raise RecipeError(f"generate.{name}: {e}") from None
        estimate[name] = {"prompts": prompts, "max_generated_tokens": prompts * spec.max_tokens * spec.n}
    return estimate


def target_tag(code: str) -> str:
    """`swh` -> `swh_Latn`: the LID label a record in that language gets."""
    return f"{code}_{language(code).script}"


def read_passages(source: str, staging_dir: Path, folder: str, lang: str, limit: int | None) -> list[dict[str, Any]]:
    """QA passages of one language: this run's curated records (its staging shards) or a JSONL file."""
    passages: list[dict[str, Any]] = []
    if source == "curated":
        for shard in sorted((staging_dir / folder).glob("*.parquet")):
            for row in pq.read_table(shard, columns=["id", "text", "lang"]).to_pylist():
                passages.append({"id": row["id"], "text": row["text"], "lang": lang})
                if limit and len(passages) >= limit:
                    return passages
        return passages
    with open(source, encoding="utf-8") as fh:
        for index, line in enumerate(fh):
            row = json.loads(line)
            passages.append({"id": str(row.get("id", index)), "text": row["text"], "lang": row.get("lang", lang)})
            if limit and len(passages) >= limit:
                break
    return passages


class GenerateStep(CountedStep):
    """The first step of the generate stage: every generator in every language, for this task's share
    of the items (task `rank` of `world_size` asks about the items `owner` gives it).

    `engine_factory(rank)`: the recipe's model behind task `rank`'s request cache; the stage's later
    steps that ask the same model get the same factory (one model per task).
    `progress_dir`: where each task rewrites how many prompts it has answered, for the CLI's bar.
    """

    name = "generate"

    def __init__(self, spec: GenerateSpec, llm: LLMSpec, languages: dict[str, str],
                 engine_factory: Callable[[int], Engine], failures_dir: str, staging_dir: str,
                 retry_attempt: int = 0, progress_dir: str | None = None):
        super().__init__()
        self.spec = spec
        self.llm = llm
        self.languages = languages  # canonical code -> output folder (the user's code)
        self.engine_factory = engine_factory
        self.failures_dir = failures_dir
        self.staging_dir = staging_dir
        self.retry_attempt = retry_attempt
        self.progress_dir = progress_dir

    def generators(self, lang: str) -> list[Generator]:
        """The recipe's tasks as generator objects for one language."""
        built = []
        for name, task in self.spec.tasks():
            passages = None
            if GENERATORS[name].reads_passages:
                passages = read_passages(task.passages, Path(self.staging_dir), self.languages[lang], lang,
                                         GENERATORS[name].passage_limit(task))
            built.append(build_generator(name, task, sampling_of(self.spec), passages))
        return built

    def reads(self, rank: int, world_size: int) -> list[str]:
        """The curated shards (QA passages). The request cache every model stage reads is pulled by the
        stage (curation.pipeline), since the engine, not this step, opens it."""
        return [str(Path(self.staging_dir) / "*")]

    def run(self, data: Iterable[Document] | None = None, rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        if data:
            yield from data
        engine = self.engine_factory(rank)
        share = Share(rank, world_size)
        # Every (language, task) generator runs at once and their rounds reach the engine as one
        # batch (curation/llm/rounds.py): small rounds one after another leave vLLM mostly idle.
        askers: list[Asker] = []
        jobs = []
        planned = 0
        for lang in sorted(self.languages):
            for generator in self.generators(lang):
                asker = Asker(None, model_label(self.llm), retry_attempt=self.retry_attempt, share=share)
                askers.append(asker)
                jobs.append(partial(self._generate, generator, lang, asker))
                # this task's even share of the plan: the bar's bound, not a promise (hashing is not even)
                planned += -(-generator.estimate_prompts(lang) // world_size)
        started = time.perf_counter()
        for doc in run_merged(engine, jobs, after_call=lambda: self.report_progress(rank, askers, planned)):
            yield self.keep_record(doc)
        self._record_usage_and_failures(askers, rank, time.perf_counter() - started)
        self.stat_update("cache_hits/all", value=engine.hits)
        self.report_progress(rank, askers, planned, done=True)

    @staticmethod
    def _generate(generator: Generator, lang: str, asker: Asker, engine: Engine) -> Iterator[Document]:
        """One generator's records, asking through `engine` (this generator's share of the merged calls)."""
        asker.engine = engine
        tag = target_tag(lang)
        for doc in generator.generate(lang, asker):
            doc.metadata["lang"] = tag
            yield doc

    def report_progress(self, rank: int, askers: list[Asker], planned: int, done: bool = False) -> None:
        """Prompts answered so far out of the most this task may send, for the CLI's progress bar
        (`progress_dir/<rank>.json`; the plan is an upper bound: failed rounds send fewer)."""
        if self.progress_dir is None:
            return
        answered = sum(usage.prompts for asker in askers for usage in asker.usage.values())
        atomic_write_text(Path(self.progress_dir) / f"{rank:05d}.json",
                          json.dumps({"answered": answered, "planned": max(planned, answered), "done": done}))

    def _record_usage_and_failures(self, askers: list[Asker], rank: int, seconds: float) -> None:
        for asker in askers:
            for lang, usage in asker.usage.items():
                tag = target_tag(lang)
                self.stat_update(f"prompts/{tag}", value=usage.prompts)
                self.stat_update(f"tokens_prompt/{tag}", value=usage.prompt_tokens)
                self.stat_update(f"tokens_generated/{tag}", value=usage.completion_tokens)
            for lang, counts in asker.counts.items():
                for name, value in counts.items():
                    self.stat_update(f"counts/{target_tag(lang)}/{name}", value=value)
        self.stat_update("generation_ms/all", value=int(seconds * 1000))
        Path(self.failures_dir).mkdir(parents=True, exist_ok=True)
        with open(Path(self.failures_dir) / f"{rank:05d}.jsonl", "w", encoding="utf-8") as fh:
            for failure in (f for asker in askers for f in asker.failures):
                self.stat_update(f"failed/{target_tag(failure.lang)}/{failure.reason}")
                fh.write(json.dumps(failure.__dict__, ensure_ascii=False) + "\n")
