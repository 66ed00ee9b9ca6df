"""OpenAIEngine against a real HTTP server on loopback: a tiny OpenAI-compatible chat endpoint that
echoes the last message, and can be scripted to answer 429, 503, slowly, or not at all."""

from __future__ import annotations

import json
import pickle
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from curation.errors import RecipeError, RetryableError
from curation.llm.openai_engine import OpenAIEngine
from curation.llm.types import ChatRequest, Sampling

MODEL = "tiny-chat"
PROMPTS = ["Habari ya asubuhi", "नमस्ते दुनिया", "你好，世界", "Merħba lil kulħadd", "Привет, мир"]


class ChatServer:
    """POST /v1/chat/completions, deterministic: each choice is `echo: <last message>` (plus ` #i`
    when n > 1), usage counts words, logprobs are made up per word.

    Switches: `script` is consumed one entry per request before normal service (an int is that
    HTTP status, "slow" sleeps `slow_s` first); `api_key` demands that bearer token; `ignore`
    names request fields the server pretends not to support ("n", "logprobs").
    """

    def __init__(self) -> None:
        self.script: list[int | str] = []
        self.slow_s = 5.0  # far beyond any timeout_s below; teardown cuts it short
        self.delay_s = 0.0  # every request
        self.api_key: str | None = None
        self.ignore: set[str] = set()
        self.bodies: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self.stopping = threading.Event()  # cuts sleeps short at teardown
        self.httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def handle(self, path: str, auth: str | None, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            self.bodies.append(body)
            self.auth.append(auth)
            step = self.script.pop(0) if self.script else None
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if path != "/v1/chat/completions":
                return 404, {}, {"error": {"message": "Not Found"}}
            if self.api_key and auth != f"Bearer {self.api_key}":
                # Like a careless server, echo what was sent: the engine must redact it.
                return 401, {}, {"error": {"message": f"Incorrect API key provided: {auth}"}}
            if isinstance(step, int):
                return step, {"Retry-After": "0"} if step == 429 else {}, {"error": {"message": "busy"}}
            self.stopping.wait(self.slow_s if step == "slow" else self.delay_s)
            if body["model"] != MODEL:
                return 404, {}, {"error": {"message": f"The model `{body['model']}` does not exist."}}
            if "response_format" in body and "response_format" in self.ignore:  # an older server refuses it
                return 400, {}, {"error": {"message": "response_format type json_schema is not supported"}}
            return 200, {}, self.answer(body)
        finally:
            with self._lock:  # before the response is written, so a freed client slot is never counted twice
                self._in_flight -= 1

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        last = body["messages"][-1]["content"]
        n = 1 if "n" in self.ignore else body.get("n", 1)
        texts = [f"echo: {last}" if n == 1 else f"echo: {last} #{i}" for i in range(n)]
        choices = []
        for i, text in enumerate(texts):
            choice: dict[str, Any] = {"index": i, "message": {"role": "assistant", "content": text},
                                      "finish_reason": "stop"}
            if body.get("logprobs") and "logprobs" not in self.ignore:
                tokens = [{"token": word, "logprob": -0.5 * (j + 1), "bytes": None,
                           "top_logprobs": [{"token": word, "logprob": -0.5 * (j + 1)},
                                            {"token": "<alt>", "logprob": -9.0}][:body["top_logprobs"]]}
                          for j, word in enumerate(text.split())]
                choice["logprobs"] = {"content": tokens}
            choices.append(choice)
        prompt_tokens = sum(len(m["content"].split()) for m in body["messages"])
        completion_tokens = sum(len(t.split()) for t in texts)
        return {"id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
                "choices": choices[::-1],  # out of order on purpose: `index` is what counts
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                          "total_tokens": prompt_tokens + completion_tokens}}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is expected here


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like real servers

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, headers, payload = server.handle(self.path, self.headers.get("Authorization"), body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def server():
    chat = ChatServer()
    thread = threading.Thread(target=chat.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield chat
    chat.stopping.set()
    chat.httpd.shutdown()
    chat.httpd.server_close()


def make_engine(server: ChatServer, **kwargs: Any) -> OpenAIEngine:
    base_url = kwargs.pop("base_url", server.base_url)
    options: dict[str, Any] = {"api_key_env": None, "backoff_s": 0.01, "timeout_s": 5} | kwargs
    return OpenAIEngine(base_url, MODEL, **options)


def ask(text: str, **sampling: Any) -> ChatRequest:
    return ChatRequest.of([{"role": "user", "content": text}], Sampling(**sampling))


def test_answers_keep_request_order_and_report_usage(server):
    prompts = [f"{PROMPTS[i % len(PROMPTS)]} {i}" for i in range(20)]
    results = make_engine(server, max_concurrency=4).generate([ask(p) for p in prompts])
    assert [r.text for r in results] == [f"echo: {p}" for p in prompts]
    assert all(r.finish_reasons == ["stop"] for r in results)
    assert results[0].prompt_tokens == len(prompts[0].split())
    assert results[0].completion_tokens == len(prompts[0].split()) + 1


def test_concurrency_is_bounded_and_used(server):
    server.delay_s = 0.03
    make_engine(server, max_concurrency=3).generate([ask(f"{PROMPTS[0]} {i}") for i in range(20)])
    assert 1 < server.max_in_flight <= 3


def test_body_carries_sampling_and_extra_body(server):
    sampling = {"temperature": 0.2, "top_p": 0.9, "max_tokens": 17, "seed": 7, "stop": ("\n\n",)}
    engine = make_engine(server, extra_body={"top_k": 5, "max_tokens": None, "max_completion_tokens": 17})
    engine.generate([ask(PROMPTS[1], **sampling)])
    body = server.bodies[0]
    assert body["model"] == MODEL
    assert body["messages"] == [{"role": "user", "content": PROMPTS[1]}]
    assert (body["temperature"], body["top_p"], body["seed"], body["stop"], body["n"]) == (0.2, 0.9, 7, ["\n\n"], 1)
    assert body["top_k"] == 5 and body["max_completion_tokens"] == 17 and "max_tokens" not in body
    assert "logprobs" not in body
    assert server.auth == [None]  # no key configured, none sent


def test_n_returns_n_texts_in_index_order(server):
    [result] = make_engine(server).generate([ask(PROMPTS[2], n=3)])
    assert result.texts == [f"echo: {PROMPTS[2]} #{i}" for i in range(3)]
    assert result.finish_reasons == ["stop"] * 3


def test_logprobs_are_parsed(server):
    [result] = make_engine(server).generate([ask("jambo rafiki", logprobs=2, n=2)])
    assert server.bodies[0]["logprobs"] is True and server.bodies[0]["top_logprobs"] == 2
    assert result.token_logprobs == [[-0.5, -1.0, -1.5, -2.0]] * 2  # "echo: jambo rafiki #i"
    assert result.top_logprobs is not None
    assert [list(top) for top in result.top_logprobs[1]] == [[w, "<alt>"] for w in ["echo:", "jambo", "rafiki", "#1"]]
    assert result.top_logprobs[0][1] == {"jambo": -1.0, "<alt>": -9.0}


def test_429_waits_for_retry_after_not_backoff(server):
    server.script = [429, 429]
    engine = make_engine(server, backoff_s=20)  # were Retry-After: 0 ignored, this would take >= 30 s
    start = time.monotonic()
    [result] = engine.generate([ask(PROMPTS[3])])
    assert result.text == f"echo: {PROMPTS[3]}"
    assert len(server.bodies) == 3
    assert time.monotonic() - start < 5


def test_503_then_success(server):
    server.script = [503, 502]
    results = make_engine(server).generate([ask(p) for p in PROMPTS])
    assert [r.text for r in results] == [f"echo: {p}" for p in PROMPTS]
    assert len(server.bodies) == len(PROMPTS) + 2


def test_retries_run_out_into_retryable_error(server):
    server.script = [503] * 10
    with pytest.raises(RetryableError, match="HTTP 503") as err:
        make_engine(server, max_retries=2).generate([ask(PROMPTS[0])])
    assert server.base_url + "/chat/completions" in str(err.value)
    assert len(server.bodies) == 3  # the first attempt and two retries


def test_slow_answer_times_out_and_is_retried(server):
    server.script = ["slow"]
    # Generous: the retry's normal answer must not time out too on a loaded CI machine.
    [result] = make_engine(server, timeout_s=1.0).generate([ask(PROMPTS[4])])
    assert result.text == f"echo: {PROMPTS[4]}"
    assert len(server.bodies) == 2


def test_timeouts_run_out_into_retryable_error(server):
    server.script = ["slow"] * 5
    start = time.monotonic()
    with pytest.raises(RetryableError, match="timeout"):
        make_engine(server, timeout_s=0.3, max_retries=1).generate([ask(PROMPTS[4])])
    assert len(server.bodies) == 2
    assert time.monotonic() - start < 4  # not slow_s: the timeout cut each attempt short


def test_connection_refused_is_retried_then_retryable():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = OpenAIEngine(f"http://127.0.0.1:{port}/v1", MODEL, api_key_env=None, max_retries=2, backoff_s=0.01)
    with pytest.raises(RetryableError, match="ConnectError"):
        engine.generate([ask(PROMPTS[0])])


def test_wrong_key_fails_fast_and_is_never_shown(server):
    server.api_key = "sk-right"
    secret = "sk-wrong-secret-123"
    engine = make_engine(server, api_key=secret, max_concurrency=2, backoff_s=20)
    start = time.monotonic()
    with pytest.raises(RecipeError, match="HTTP 401") as err:
        engine.generate([ask(p) for p in PROMPTS * 4])
    assert time.monotonic() - start < 5  # one retry would have slept >= 10 s
    assert len(server.bodies) <= 2  # no retries; requests not yet started were cancelled
    assert "API key" in str(err.value)
    assert secret not in str(err.value) and secret not in repr(engine)


def test_missing_key_says_where_to_set_it(server):
    server.api_key = "sk-right"
    with pytest.raises(RecipeError, match=r"no API key was sent; set \$CURATE_TEST_KEY"):
        make_engine(server, api_key_env="CURATE_TEST_KEY").generate([ask(PROMPTS[0])])


@pytest.mark.parametrize("where, expected", [
    ("url", "wrong model name or wrong base_url.*Not Found"),
    ("model", "does not exist"),
])
def test_wrong_url_or_model_is_a_recipe_error(server, where, expected):
    if where == "url":
        engine = make_engine(server, base_url=server.base_url.removesuffix("/v1"))
    else:
        engine = OpenAIEngine(server.base_url, "no-such-model", api_key_env=None, backoff_s=5)
    with pytest.raises(RecipeError, match=expected):
        engine.generate([ask(PROMPTS[0])])
    assert len(server.bodies) == 1


@pytest.mark.parametrize("unsupported", ["n", "logprobs"])
def test_server_ignoring_a_parameter_is_a_recipe_error(server, unsupported):
    server.ignore = {unsupported}
    with pytest.raises(RecipeError, match="may not support"):
        make_engine(server).generate([ask(PROMPTS[0], n=2, logprobs=1)])


def test_prompt_logprobs_are_refused_before_any_request(server):
    with pytest.raises(RecipeError, match="prompt_logprobs"):
        make_engine(server).generate([ask(PROMPTS[0]), ask(PROMPTS[1], prompt_logprobs=True)])
    assert server.bodies == []


def test_engine_pickles_after_use_without_an_env_key(server, monkeypatch):
    monkeypatch.setenv("CURATE_TEST_KEY", "sk-from-env-456")
    server.api_key = "sk-from-env-456"
    engine = make_engine(server, api_key_env="CURATE_TEST_KEY")
    assert engine.generate([ask(PROMPTS[0])])[0].text == f"echo: {PROMPTS[0]}"
    data = pickle.dumps(engine)
    assert b"sk-from-env-456" not in data  # the worker reads its own environment
    clone = pickle.loads(data)
    assert clone.generate([ask(PROMPTS[1])])[0].text == f"echo: {PROMPTS[1]}"
    assert server.auth == ["Bearer sk-from-env-456"] * 2
    engine.close()
    clone.close()


def test_no_requests_no_traffic(server):
    assert make_engine(server).generate([]) == []
    assert server.bodies == []


SCORE_SCHEMA = '{"properties":{"score":{"type":"integer"}},"required":["score"],"type":"object"}'


def test_a_json_schema_is_sent_as_response_format(server):
    engine = make_engine(server)
    engine.generate([ask("rate it", json_schema=SCORE_SCHEMA)])
    assert server.bodies[0]["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "answer", "schema": json.loads(SCORE_SCHEMA)}}


def test_a_server_refusing_schemas_gets_plain_requests_said_once(server, caplog):
    server.ignore = {"response_format"}
    engine = make_engine(server, max_concurrency=1)
    with caplog.at_level("WARNING"):
        answers = engine.generate([ask(f"rate {i}", json_schema=SCORE_SCHEMA) for i in range(3)])
    assert [a.text for a in answers] == ["echo: rate 0", "echo: rate 1", "echo: rate 2"]
    assert ["response_format" in body for body in server.bodies] == [True, False, False, False]
    assert sum("does not take a JSON schema" in r.message for r in caplog.records) == 1
