"""The recipe's `llm` block as an engine: which class, with which settings, behind the request cache.

The engines themselves know nothing of tasks; generators and scorers receive what `cached_engine`
returns. The model label that keys the cache is pinned here too, so a retrained adapter or another
model never answers from a stale cache entry.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable
from pathlib import Path

from curation.errors import RecipeError
from curation.llm.bundled import resolve_model
from curation.llm.cache import CachedEngine, RequestCache
from curation.llm.openai_engine import OpenAIEngine
from curation.llm.types import Engine
from curation.llm.vllm_engine import VLLMEngine
from curation.loader import load_class
from curation.recipe import LLMSpec


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


def build_engine(llm: LLMSpec) -> Engine:
    """The recipe's engine, not yet loaded (engines load their model on first use)."""
    if llm.engine == "vllm":
        return VLLMEngine(resolve_model(llm.model), dtype=llm.dtype, max_model_len=llm.max_model_len,
                          gpu_memory_utilization=llm.gpu_memory_utilization,
                          tensor_parallel_size=llm.tensor_parallel_size, extra=llm.extra, adapter=llm.adapter)
    if llm.engine == "openai":
        if not llm.base_url:
            raise RecipeError("llm.base_url: required with engine openai")
        return OpenAIEngine(base_url=llm.base_url, model=llm.model, api_key_env=llm.api_key_env,
                            max_concurrency=llm.max_concurrency, timeout_s=llm.timeout_s, max_retries=llm.max_retries)
    if ":" in llm.engine:
        return load_class(llm.engine, "llm.engine")(model=llm.model, **llm.extra)
    raise RecipeError(f"llm.engine: unknown engine {llm.engine!r} (vllm, openai or package.module:Class)")


def cached_engine(llm: LLMSpec, cache_path: str | Path, engine: Engine | None = None,
                  read_through: str | Path | None = None) -> CachedEngine:
    """The recipe's engine (or `engine`, one already built from `llm`) behind a request cache (`cache_path`,
    reading through to `read_through`, the run's merged cache), named by its pinned model label."""
    cached = CachedEngine(engine or build_engine(llm), RequestCache(cache_path, read_through),
                          batch_size=llm.batch_size)
    cached.model_name = model_label(llm)
    return cached


class SharedEngine:
    """Builds `llm`'s engine behind the request cache for each step that asks for it, loading the model
    once per process: the steps of one stage that ask the same model (generate, the refusal check,
    preference pairs, a judge) get their own request-cache wrapper (their own hit counts) around one
    model. Two copies of a model would not fit on a GPU sized for one. The model lives while a step holds
    it (a weak reference here): once the stage's steps let go, it is freed as before, so training after
    generation in one process finds the GPU empty. Pickles without the model.

    `task_cache(rank)`: the cache file the stage's task `rank` writes; every task reads through to
    `merged_cache` (see curation.llm.cache)."""

    def __init__(self, llm: LLMSpec, task_cache: Callable[[int], Path], merged_cache: str | Path):
        self.llm = llm
        self.task_cache = task_cache
        self.merged_cache = merged_cache
        self._engine: weakref.ref[Engine] | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_engine": None}

    def __call__(self, rank: int = 0) -> CachedEngine:
        engine = self._engine() if self._engine is not None else None
        if engine is None:
            engine = build_engine(self.llm)
            self._engine = weakref.ref(engine)
        return cached_engine(self.llm, self.task_cache(rank), engine, read_through=self.merged_cache)
