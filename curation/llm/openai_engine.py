"""An engine for any OpenAI-compatible chat server: `vllm serve`, llama.cpp's server, hosted APIs.

Each request is one POST to `{base_url}/chat/completions`; up to `max_concurrency` are in flight at
once (a server batches concurrent requests itself, so concurrency is what keeps it busy). Failures
fall into the three kinds of `curation.errors`:

    transient   connect errors, timeouts, dropped connections, HTTP 408/429/5xx, an unreadable body
                -> retried with exponential backoff and jitter (or the server's Retry-After);
                   after `max_retries` retries -> RetryableError naming the URL and last status
    the setup   HTTP 401/403 (key), 404 (URL or model), other 4xx (a parameter the server refuses),
                a server that ignores `n` or `logprobs`
                -> RecipeError at once, one line, no retries: retrying cannot fix it

The API key is never logged or put in a message (a server that echoes it back gets it redacted).
A key taken from the environment is read when the HTTP client is created, so it does not travel
inside the pickled engine; an explicit `api_key` does. The client is created lazily because the
engine must pickle: datatrove ships steps (and the engine inside them) to worker processes. The
retry rules (which statuses, how long to wait, redaction) are `curation.retrying`'s, shared with
the Hub push.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any

import httpx

from curation.errors import RecipeError, RetryableError
from curation.llm.types import ChatRequest, Completion
from curation.retrying import Transient, call_with_retries, redact, retry_after_seconds, retryable_status

logger = logging.getLogger(__name__)


class _Aborted(Exception):
    """Another request of the same batch failed for good; stop retrying this one."""


class _Batch:
    """Shared by the workers of one generate() call: the first failure for good stops the rest."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.errors: list[BaseException] = []  # append is atomic; errors[0] came first

    def fail(self, error: BaseException) -> None:
        self.errors.append(error)  # recorded before `stop` is set, so a stopped worker implies an error
        self.stop.set()


class OpenAIEngine:
    """Chat completions from an OpenAI-compatible server, behind the `Engine` protocol.

    `base_url` is the API root including its version (`http://127.0.0.1:8000/v1`,
    `https://api.openai.com/v1`). `model` is sent as-is and is the engine's `model_name` (so it keys
    the request cache). The key is `api_key`, else the variable named by `api_key_env`, else none
    (local servers usually need none). `extra_body` is merged into every request body: use it for
    server-specific parameters (vLLM's `top_k`, `repetition_penalty`); a `None` value removes a
    field this engine would send (e.g. `{"max_tokens": None, "max_completion_tokens": 512}` for
    APIs that renamed it).
    """

    def __init__(self, base_url: str, model: str, api_key: str | None = None,
                 api_key_env: str | None = "OPENAI_API_KEY", max_concurrency: int = 8,
                 timeout_s: float = 120, max_retries: int = 5, backoff_s: float = 1.0,
                 extra_body: dict[str, Any] | None = None):
        if not base_url.startswith(("http://", "https://")):
            raise RecipeError(f"openai engine: base_url must start with http:// or https://, got {base_url!r}")
        if max_concurrency < 1:
            raise RecipeError(f"openai engine: max_concurrency must be >= 1, got {max_concurrency}")
        if max_retries < 0:
            raise RecipeError(f"openai engine: max_retries must be >= 0, got {max_retries}")
        self.base_url = base_url.rstrip("/")
        self.model_name = model
        self.api_key = api_key
        self.api_key_env = api_key_env
        self.max_concurrency = max_concurrency
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.extra_body = dict(extra_body or {})
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()
        self._key: str | None = None  # the key the client actually sends, for redaction
        self.refuses_schemas = False  # set when the server turns a response_format down: said once, not retried
        self._schema_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def __repr__(self) -> str:  # never the key
        return f"OpenAIEngine(base_url={self.base_url!r}, model={self.model_name!r})"

    # --- pickling: locks and sockets stay behind; a worker builds its own client on first use

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_client=None, _client_lock=None, _key=None, _schema_lock=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._client_lock = threading.Lock()
        self._schema_lock = threading.Lock()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # --- the protocol

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        """Send every request, at most `max_concurrency` at a time; answers come back in order.

        The first request that fails for good (retries exhausted, or an error retrying cannot fix)
        fails the whole call: requests not yet started are cancelled and those in flight stop
        retrying, so a wrong key costs one round trip, not one per request.
        """
        if not requests:
            return []
        for request in requests:
            if request.sampling.prompt_logprobs:
                raise RecipeError(
                    f"openai engine ({self.model_name} at {self.base_url}): prompt_logprobs are not "
                    "available from the chat completions API; use the vllm engine for scoring passes")
        client = self._get_client()
        batch = _Batch()
        pool = ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(requests)),
                                  thread_name_prefix="openai-engine")
        try:
            futures = [pool.submit(self._complete, client, request, batch) for request in requests]
            wait(futures, return_when=FIRST_EXCEPTION)
            if batch.errors:
                raise batch.errors[0]
            return [future.result() for future in futures]
        except BaseException as error:
            if not batch.errors:  # interrupted here (Ctrl-C), not by a worker
                batch.fail(error)
            raise
        finally:
            # On failure, don't wait for requests in flight (up to timeout_s each): they check
            # `batch.stop` before any retry, and their threads end on their own.
            pool.shutdown(wait=not batch.stop.is_set(), cancel_futures=True)

    # --- one request

    def _complete(self, client: httpx.Client, request: ChatRequest, batch: _Batch) -> Completion:
        try:
            return self._complete_with_retries(client, request, batch.stop)
        except _Aborted:
            raise
        except BaseException as error:
            # Recorded here rather than in generate(): this worker thread would otherwise pick up and
            # send the next queued request before generate() has even seen the failure.
            batch.fail(error)
            raise

    def _complete_with_retries(self, client: httpx.Client, request: ChatRequest,
                               abort: threading.Event) -> Completion:
        body = self._body(request)

        def attempt() -> Completion:
            if abort.is_set():
                raise _Aborted
            try:
                return self._parse(self._post(client, body), request)
            except RecipeError as refused:
                if "response_format" not in body or not _about_response_format(str(refused)):
                    raise
                self._refuse_schemas(str(refused))  # plain text from now on; the parsers still check
                body.pop("response_format")
                return self._parse(self._post(client, body), request)

        def pause(failure: Transient, retry: int, delay: float) -> None:
            logger.warning("POST %s: %s; retry %d/%d in %.2fs", self.url, failure.status, retry,
                           self.max_retries, delay)
            if abort.wait(delay):  # another request of the batch failed for good: stop waiting
                raise _Aborted

        try:
            return call_with_retries(attempt, max_retries=self.max_retries, backoff_s=self.backoff_s, pause=pause)
        except Transient as last:
            raise RetryableError(f"POST {self.url} (model {self.model_name}) failed after "
                                 f"{self.max_retries + 1} attempts; last error: {last.status}") from None

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        s = request.sampling
        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": request.message_dicts(),
            "temperature": s.temperature,
            "top_p": s.top_p,
            "max_tokens": s.max_tokens,
            "n": s.n,
        }
        if s.seed is not None:
            body["seed"] = s.seed
        if s.stop:
            body["stop"] = list(s.stop)
        if s.logprobs is not None:
            body["logprobs"] = True
            body["top_logprobs"] = s.logprobs
        if s.json_schema and not self.refuses_schemas:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "answer", "schema": json.loads(s.json_schema)}}
        for key, value in self.extra_body.items():
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        return body

    def _refuse_schemas(self, why: str) -> None:
        with self._schema_lock:
            if not self.refuses_schemas:
                self.refuses_schemas = True
                logger.warning("openai engine: %s does not take a JSON schema (response_format); asking for "
                               "plain text instead, checked by the parsers (%s)", self.url, why[:200])

    def _post(self, client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
        """One attempt: the decoded JSON of a 2xx answer, Transient, or RecipeError."""
        try:
            response = client.post(self.url, json=body)
        except httpx.TimeoutException as err:
            raise Transient(f"timeout after {self.timeout_s}s ({type(err).__name__})") from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as err:
            raise Transient(f"{type(err).__name__}: {redact(str(err), self._key)}") from None
        status = response.status_code
        if retryable_status(status):
            raise Transient(f"HTTP {status} {self._server_message(response)}".rstrip(),
                            retry_after_seconds(response.headers))
        if status >= 400:
            raise RecipeError(self._client_error(status, self._server_message(response)))
        try:
            return response.json()
        except ValueError:
            # A proxy's HTML error page or a truncated body: most often transient.
            raise Transient(f"HTTP {status} with a body that is not JSON") from None

    def _client_error(self, status: int, message: str) -> str:
        where = f"openai engine: POST {self.url} (model {self.model_name}) -> HTTP {status}"
        if status in (401, 403):
            source = f"${self.api_key_env} or api_key" if self.api_key_env and not self.api_key else "api_key"
            hint = (f"the server rejected the API key; check {source}" if self._key
                    else f"no API key was sent; set {source}")
        elif status == 404:
            hint = ("wrong model name or wrong base_url (it should end at the API version, e.g. "
                    "http://host:8000/v1)")
        else:
            hint = "the server refused the request; check the sampling parameters and extra_body"
        return f"{where}: {hint}" + (f" (server said: {message})" if message else "")

    def _server_message(self, response: httpx.Response) -> str:
        """The server's own explanation, short and with the key redacted."""
        try:
            data = response.json()
            error = data.get("error", data) if isinstance(data, dict) else data
            message = error.get("message", "") if isinstance(error, dict) else str(error)
        except ValueError:
            message = response.text
        return redact(" ".join(str(message).split())[:300], self._key)

    def _parse(self, data: dict[str, Any], request: ChatRequest) -> Completion:
        sampling = request.sampling
        try:
            choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
            texts = [c["message"].get("content") or "" for c in choices]
            finish_reasons = [c.get("finish_reason") or "unknown" for c in choices]
        except (KeyError, TypeError, AttributeError):
            raise Transient(f"malformed response: {redact(str(data)[:200], self._key)}") from None
        if len(choices) != sampling.n:
            raise RecipeError(f"openai engine: {self.url} returned {len(choices)} choices for n={sampling.n}; "
                              "the server may not support n > 1")
        usage = data.get("usage") or {}
        completion = Completion(texts=texts, prompt_tokens=int(usage.get("prompt_tokens") or 0),
                                completion_tokens=int(usage.get("completion_tokens") or 0),
                                finish_reasons=finish_reasons)
        if sampling.logprobs is not None:
            completion.token_logprobs, completion.top_logprobs = [], []
            for choice in choices:
                content = (choice.get("logprobs") or {}).get("content")
                if content is None:
                    raise RecipeError(f"openai engine: {self.url} returned no logprobs for model "
                                      f"{self.model_name}; the server may not support them")
                completion.token_logprobs.append([float(t["logprob"]) for t in content])
                # The sampled token is always in its own top set, as in vLLM's offline output.
                completion.top_logprobs.append([
                    {**{alt["token"]: float(alt["logprob"]) for alt in t.get("top_logprobs") or []},
                     t["token"]: float(t["logprob"])}
                    for t in content])
        return completion

    # --- the HTTP client, built on first use in each process

    def _get_client(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                key = self.api_key or (os.environ.get(self.api_key_env) if self.api_key_env else None)
                self._key = key or None
                headers = {"Authorization": f"Bearer {key}"} if key else {}
                self._client = httpx.Client(
                    headers=headers,
                    # `pool=None`: waiting for a free connection is not the server being slow.
                    timeout=httpx.Timeout(self.timeout_s, pool=None),
                    limits=httpx.Limits(max_connections=self.max_concurrency,
                                        max_keepalive_connections=self.max_concurrency))
            return self._client


def _about_response_format(error: str) -> bool:
    """Whether a server's refusal names structured output (vLLM, llama.cpp, TGI and OpenAI word it so)."""
    text = error.lower()
    return any(word in text for word in ("response_format", "json_schema", "structured", "guided", "grammar"))
