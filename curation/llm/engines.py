"""The recipe's `llm` block as an engine: which class, with which settings, behind the request cache.

The engines themselves know nothing of tasks; generators and scorers receive what `cached_engine`
returns. The model label that keys the cache is pinned here too, so a retrained adapter or another
model never answers from a stale cache entry.
"""

from __future__ import annotations

import hashlib
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


def cached_engine(llm: LLMSpec, cache_path: str) -> CachedEngine:
    """The recipe's engine behind the run's request cache, named by its pinned model label."""
    engine = CachedEngine(build_engine(llm), RequestCache(cache_path), batch_size=llm.batch_size)
    engine.model_name = model_label(llm)
    return engine
