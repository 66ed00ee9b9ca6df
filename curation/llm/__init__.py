"""LLM engines behind one small protocol, and the request cache in front of them.

    Engine.generate(requests) -> results        (one result per request, same order)

A request is chat messages plus sampling parameters; a result carries the text, token counts,
the finish reason and, when asked, log-probabilities. Implementations: `vllm` (offline batched
`vllm.LLM`, imported only when used), `openai` (any OpenAI-compatible server) and a
deterministic `fake` engine for unit tests of prompt building and parsing.
"""

from curation.llm.types import ChatRequest, Completion, Engine, Sampling

__all__ = ["ChatRequest", "Completion", "Engine", "Sampling"]
