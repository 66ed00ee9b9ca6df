"""The generate stage: synthetic records per target language, verified before they are written.

    generate   GenerateStep: every configured generator for this task's languages, through the
               request cache; unusable answers go to failures/<task>.jsonl (retried by
               `curate run --retry-failures`), token counts to the stats
    verify     VerifyStep: each turn in the target language (LID), no near duplicates among the
               generated records of a language, lengths within bounds
    write      the shard writer, into data/<lang>-<task>/

Generated records are counted under their target language from the start, so a record in the
wrong language is a `wrong_language` drop of the language it was asked for.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import time
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from datatrove.data import Document

from curation.errors import RecipeError
from curation.llm.cache import CachedEngine, RequestCache
from curation.llm.types import Sampling
from curation.recipe import GenerateSpec, LLMSpec, VerifySpec
from curation.steps import CountedStep, Filter

logger = logging.getLogger(__name__)


def model_label(llm: LLMSpec) -> str:
    """The model's name in cache keys and record sources (`bundled` is pinned to what it is); with an
    adapter, also a hash of its weights, so answers of a retrained adapter are never served from the cache."""
    label = "bundled:SmolLM2-135M-Instruct" if llm.model == "bundled" else llm.model
    if llm.adapter:
        label += f"+lora:{adapter_digest(llm.adapter)}"
    return label


def adapter_digest(adapter: str) -> str:
    """A short hash of a LoRA adapter folder's files (config and weights)."""
    digest = hashlib.sha256()
    folder = Path(adapter)
    if not folder.is_dir():
        raise RecipeError(f"llm.adapter: {adapter} is not a folder (expected e.g. out/<name>/train/all/adapter)")
    for path in sorted(folder.glob("adapter_*")):
        digest.update(path.name.encode())
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


def build_engine(llm: LLMSpec) -> Any:
    """The recipe's engine, not yet loaded (engines load their model on first use)."""
    if llm.engine == "vllm":
        from curation.llm.bundled import resolve_model
        from curation.llm.vllm_engine import VLLMEngine

        return VLLMEngine(resolve_model(llm.model), dtype=llm.dtype, max_model_len=llm.max_model_len,
                          gpu_memory_utilization=llm.gpu_memory_utilization,
                          tensor_parallel_size=llm.tensor_parallel_size, extra=llm.extra, adapter=llm.adapter)
    if llm.engine == "openai":
        from curation.llm.openai_engine import OpenAIEngine

        if not llm.base_url:
            raise RecipeError("llm.base_url: required with engine openai")
        return OpenAIEngine(base_url=llm.base_url, model=llm.model, api_key_env=llm.api_key_env,
                            max_concurrency=llm.max_concurrency, timeout_s=llm.timeout_s, max_retries=llm.max_retries)
    if ":" in llm.engine:
        module_name, class_name = llm.engine.split(":", 1)
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as e:
            raise RecipeError(f"llm.engine {llm.engine}: cannot import it ({e})") from None
        return cls(model=llm.model, **llm.extra)
    raise RecipeError(f"llm.engine: unknown engine {llm.engine!r} (vllm, openai or package.module:Class)")


def cached_engine(llm: LLMSpec, cache_path: str) -> CachedEngine:
    """The recipe's engine behind the run's request cache, named by its pinned model label."""
    engine = CachedEngine(build_engine(llm), RequestCache(cache_path), batch_size=llm.batch_size)
    engine.model_name = model_label(llm)
    return engine


def target_tag(code: str) -> str:
    """`swh` -> `swh_Latn`: the LID label a record in that language gets."""
    from curation.languages import language

    return f"{code}_{language(code).script}"


def read_passages(source: str, staging_dir: Path, folder: str, lang: str, limit: int | None) -> list[dict[str, Any]]:
    """QA passages of one language: this run's curated records (its staging shards) or a JSONL file."""
    passages: list[dict[str, Any]] = []
    if source == "curated":
        import pyarrow.parquet as pq

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


def estimate_requests(spec: GenerateSpec) -> dict[str, dict[str, int]]:
    """Per task: prompts per language (at most, when every answer parses) and the generated-token bound."""
    from generators.instruction import InstructionGenerator

    estimate: dict[str, dict[str, int]] = {}
    for name, task in spec.tasks():
        if name == "instruction":
            prompts = InstructionGenerator(count=task.count, rounds=task.rounds,
                                           per_prompt=task.per_prompt).estimate_prompts("eng")
        elif name == "qa":
            prompts = (task.max_passages or 100) * (2 if task.summarize_first else 1)
        elif name == "dialogue":
            prompts = task.count
        else:  # translate: one translation and one answer per source record
            prompts = 2 * (task.count or 100)
        estimate[name] = {"prompts": prompts, "max_generated_tokens": prompts * spec.max_tokens * spec.n}
    return estimate


class GenerateStep(CountedStep):
    """The first step of the generate stage: runs the generators for languages[rank::world_size]."""

    name = "generate"
    progress_dir: str | None = None  # set by the pipeline: where the CLI reads prompts answered so far

    def __init__(self, spec: GenerateSpec, llm: LLMSpec, languages: dict[str, str], cache_path: str,
                 failures_dir: str, staging_dir: str, retry_attempt: int = 0):
        super().__init__()
        self.spec = spec
        self.llm = llm
        self.languages = languages  # canonical code -> output folder (the user's code)
        self.cache_path = cache_path
        self.failures_dir = failures_dir
        self.staging_dir = staging_dir
        self.retry_attempt = retry_attempt

    def sampling(self) -> Sampling:
        return Sampling(temperature=self.spec.temperature, max_tokens=self.spec.max_tokens, n=self.spec.n,
                        seed=self.spec.seed)

    def generators(self, lang: str) -> list[Any]:
        """The recipe's tasks as generator objects for one language."""
        from generators.dialogue import DialogueGenerator
        from generators.instruction import InstructionGenerator
        from generators.qa import QAGenerator
        from generators.translate import TranslateGenerator

        sampling = self.sampling()
        built = []
        for name, task in self.spec.tasks():
            if name == "instruction":
                built.append(InstructionGenerator(count=task.count, seeds=task.seeds, rounds=task.rounds,
                                                  per_prompt=task.per_prompt, novelty_threshold=task.novelty_threshold,
                                                  response_max_tokens=task.response_max_tokens, sampling=sampling))
            elif name == "qa":
                passages = read_passages(task.passages, Path(self.staging_dir), self.languages[lang], lang,
                                         task.max_passages)
                built.append(QAGenerator(passages=passages, per_passage=task.per_passage, mode=task.mode,
                                         summarize_first=task.summarize_first, max_passages=task.max_passages,
                                         sampling=sampling))
            elif name == "dialogue":
                built.append(DialogueGenerator(count=task.count, turns=task.turns, speech_events=task.speech_events,
                                               personas=task.personas, sampling=sampling))
            elif name == "translate":
                built.append(TranslateGenerator(source=task.source, count=task.count,
                                                instruction_key=task.instruction_key,
                                                response_key=task.response_key, sampling=sampling))
        return built

    def run(self, data: Iterable[Document] | None = None, rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        from generators.base import Asker

        if data:
            yield from data
        from curation.llm.rounds import run_merged

        engine = cached_engine(self.llm, self.cache_path)
        mine = sorted(self.languages)[rank::world_size]
        planned = len(mine) * sum(v["prompts"] for v in estimate_requests(self.spec).values())
        # Every (language, task) generator runs at once and their rounds reach the engine as one
        # batch (curation/llm/rounds.py): small rounds one after another leave vLLM mostly idle.
        askers: list[Any] = []
        jobs = []
        for lang in mine:
            for generator in self.generators(lang):
                asker = Asker(None, model_label(self.llm), retry_attempt=self.retry_attempt)
                askers.append(asker)
                jobs.append(partial(self._generate, generator, lang, asker))
        started = time.perf_counter()
        for doc in run_merged(engine, jobs, after_call=lambda: self.report_progress(rank, askers, planned)):
            yield self.keep_record(doc)
        self._record_usage_and_failures(askers, rank, time.perf_counter() - started)
        self.report_progress(rank, askers, planned, done=True)

    @staticmethod
    def _generate(generator: Any, lang: str, asker: Any, engine: Any) -> Iterator[Document]:
        """One generator's records, asking through `engine` (this generator's share of the merged calls)."""
        asker.engine = engine
        tag = target_tag(lang)
        for doc in generator.generate(lang, asker):
            doc.metadata["lang"] = tag
            yield doc

    def report_progress(self, rank: int, askers: list[Any], planned: int, done: bool = False) -> None:
        """Prompts answered so far out of the most this task may send, for the CLI's progress bar
        (`progress_dir/<rank>.json`; the plan is an upper bound: failed rounds send fewer)."""
        if self.progress_dir is None:
            return
        answered = sum(usage.prompts for asker in askers for usage in asker.usage.values())
        folder = Path(self.progress_dir)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f"{rank:05d}.json.partial"
        partial.write_text(json.dumps({"answered": answered, "planned": max(planned, answered), "done": done}))
        partial.replace(folder / f"{rank:05d}.json")

    def _record_usage_and_failures(self, askers: list[Any], rank: int, seconds: float) -> None:
        for asker in askers:
            for lang, usage in asker.usage.items():
                tag = target_tag(lang)
                self.stat_update(f"prompts/{tag}", value=usage.prompts)
                self.stat_update(f"tokens_prompt/{tag}", value=usage.prompt_tokens)
                self.stat_update(f"tokens_generated/{tag}", value=usage.completion_tokens)
        self.stat_update("generation_ms/all", value=int(seconds * 1000))
        Path(self.failures_dir).mkdir(parents=True, exist_ok=True)
        with open(Path(self.failures_dir) / f"{rank:05d}.jsonl", "w", encoding="utf-8") as fh:
            for failure in (f for asker in askers for f in asker.failures):
                self.stat_update(f"failed/{target_tag(failure.lang)}/{failure.reason}")
                fh.write(json.dumps(failure.__dict__, ensure_ascii=False) + "\n")


class VerifyStep(Filter):
    """Keeps a generated record only if every turn is in its target language, it is not a near
    duplicate of one kept before it, and its turns are within the length bounds."""

    name = "verify"
    MIN_LETTERS_FOR_LID = 20  # shorter turns ("Habari?") are too short to judge

    def __init__(self, spec: VerifySpec):
        super().__init__()
        self.spec = spec
        self._identifier: Any = None
        self._novelty: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_identifier": None, "_novelty": {}}

    def _min_score(self, code: str) -> float:
        from filters.lid import default_min_score

        return self.spec.min_lang_score if self.spec.min_lang_score is not None else default_min_score(code)

    def _lid(self) -> Any:
        if self._identifier is None:
            from filters.lid import LanguageIdentifier

            self._identifier = LanguageIdentifier()
        return self._identifier

    def keep(self, doc: Document) -> bool | tuple[bool, str]:
        from filters.lid import letter_count

        target = doc.metadata["target_lang"]
        turns = [m["content"] for m in doc.metadata.get("messages") or []] or [doc.text]
        if any(len(t.strip()) < self.spec.min_chars for t in turns):
            return False, "too_short"
        if any(len(t) > self.spec.max_chars for t in turns):
            return False, "too_long"
        detected = []
        for turn in turns:
            if letter_count(turn) < self.MIN_LETTERS_FOR_LID:
                continue
            found = self._lid().identify(turn)
            detected.append(found.lang)
            if found.code != target:
                return False, "wrong_language"
            if found.score < self._min_score(target):
                return False, "low_lang_score"
        doc.metadata["turn_langs"] = detected
        if not self._is_novel(target, doc.text):
            return False, "near_duplicate"
        return True

    def _is_novel(self, lang: str, text: str) -> bool:
        from curation.novelty import NoveltyFilter

        if lang not in self._novelty:
            self._novelty[lang] = NoveltyFilter(self.spec.dedup_threshold)
        return self._novelty[lang].add_if_novel(text)
