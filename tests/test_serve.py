"""``srmzoo serve`` end to end: the official ``openai`` client against a uvicorn server on 127.0.0.1, on
the tiny trained adapter (exact parity with ``Reasoner.generate``), a scripted model whose output is known
to the token (tool calls, stop strings, the verifier), a stand-in for llama.cpp, and the real SmolLM2 base.

Every request here is bounded: small ``max_tokens``, client timeouts, and polling loops with deadlines.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
openai = pytest.importorskip("openai")
httpx = pytest.importorskip("httpx")

sys.path.insert(0, str(Path(__file__).parent))
from serve_helpers import SCRIPT_TEXT, fake_llama_backend, running_server, scripted_model  # noqa: E402

from srmzoo.domain import get_domain  # noqa: E402
from srmzoo.reasoner import Reasoner  # noqa: E402
from srmzoo.serve.app import STATIC_DIR  # noqa: E402
from srmzoo.serve.engine import Engine, SamplingParams  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

QUESTION = "What is 12 + 30?"
DISCLAIMER = "For research and education only; not for clinical decisions."


def wait_until(predicate, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def tiny(tiny_run):
    import srmzoo

    return srmzoo.load(tiny_run, merge=True)


def scripted(tiny, name: str = "scripted-math", **kwargs) -> Reasoner:
    """The scripted model as a math reasoner with the calculator."""
    return Reasoner(name=name, model=scripted_model(tiny.tokenizer, **kwargs), tokenizer=tiny.tokenizer,
                    prompt_format=replace(tiny.prompt_format, tools=("calculator",)), domain=get_domain("math"),
                    meta={"base": {"name": "scripted"}}, source={"kind": "test"})


@pytest.fixture(scope="module")
def served(tiny):
    """One server for most tests: the tiny adapter, the scripted model, a healthcare reasoner and a
    llama.cpp stand-in."""
    healthcare = replace(tiny, name="tiny-healthcare", domain=get_domain("healthcare"))
    llama = replace(scripted(tiny, "scripted-llama"), backend=fake_llama_backend(tiny.tokenizer))
    engine = Engine([tiny, scripted(tiny), healthcare, llama], batch_window=0.01, max_tokens=256)
    with running_server(engine, max_body_bytes=64 * 1024) as url:
        yield url, engine, llama


@pytest.fixture(scope="module")
def client(served):
    return openai.OpenAI(base_url=served[0] + "/v1", api_key="unused", max_retries=0, timeout=60)


def ask(content: str = QUESTION) -> list[dict]:
    return [{"role": "user", "content": content}]


# ------------------------------------------------------------------------------------------- the API


def test_models_lists_every_served_entry_with_its_domain(client):
    models = {m.id: m for m in client.models.list()}
    assert set(models) == {"toy-tiny", "scripted-math", "tiny-healthcare", "scripted-llama"}
    assert models["toy-tiny"].model_extra["srmzoo"]["domain"] == "toy-addition"
    assert models["scripted-math"].model_extra["srmzoo"]["tools"] == ["calculator"]
    assert models["scripted-llama"].model_extra["srmzoo"]["backend"] == "llama.cpp"
    assert models["tiny-healthcare"].model_extra["srmzoo"]["disclaimer"] == DISCLAIMER
    assert models["toy-tiny"].model_extra["srmzoo"]["disclaimer"] is None
    assert client.models.retrieve("toy-tiny").id == "toy-tiny"


def test_a_completion_is_the_reasoners_own_greedy_completion_with_exact_usage(client, tiny):
    out = client.chat.completions.create(model="toy-tiny", messages=ask(), max_tokens=12)
    expected = tiny.generate(QUESTION, max_new_tokens=12)[0][0]
    choice = out.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == expected
    assert choice.finish_reason == "length"
    assert out.usage.prompt_tokens == len(tiny.tokenizer.encode(tiny.prompt(QUESTION), add_special_tokens=False))
    assert out.usage.completion_tokens == 12
    assert out.usage.total_tokens == out.usage.prompt_tokens + 12
    assert out.model == "toy-tiny" and out.object == "chat.completion" and out.id.startswith("chatcmpl-")


def test_streamed_chunks_add_up_to_the_same_completion_and_end_with_done(served, client):
    whole = client.chat.completions.create(model="toy-tiny", messages=ask(), max_tokens=10)
    chunks = list(client.chat.completions.create(model="toy-tiny", messages=ask(), max_tokens=10, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["length"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 10
    assert chunks[-1].usage.prompt_tokens == whole.usage.prompt_tokens
    body = {"model": "toy-tiny", "messages": ask(), "max_tokens": 3, "stream": True}
    raw = httpx.post(served[0] + "/v1/chat/completions", json=body, timeout=30)
    assert raw.headers["content-type"].startswith("text/event-stream")
    events = [e for e in raw.text.split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    assert all(e.startswith("data: ") for e in events)
    assert json.loads(events[0][6:])["object"] == "chat.completion.chunk"


def test_tool_calls_run_on_the_server_and_are_reported_apart_from_the_text(client):
    out = client.chat.completions.create(model="scripted-math", messages=ask("A $70 jacket now costs $56."),
                                         max_tokens=64)
    choice = out.choices[0]
    assert choice.message.content == SCRIPT_TEXT  # " = 14" was written by the calculator, not the model
    assert choice.finish_reason == "stop"
    ext = choice.model_extra["srmzoo"]
    assert ext["tool_calls"] == [{"call": "70 - 56", "result": "14"}]
    assert ext["answer"] == "14"
    assert out.model_extra["srmzoo"] == {"domain": "math", "disclaimer": None}


def test_a_streamed_tool_call_arrives_when_the_call_closes(client):
    text, seen = "", []
    for chunk in client.chat.completions.create(model="scripted-math", messages=ask(), max_tokens=64, stream=True):
        for choice in chunk.choices:
            text += choice.delta.content or ""
            ext = (choice.model_extra or {}).get("srmzoo") or {}
            if "tool_call" in ext:
                seen.append((text, ext["tool_call"]))
            if choice.finish_reason:
                final = ext
    assert seen == [("The price drops by <<70 - 56>>", {"call": "70 - 56", "result": "14"})]
    assert text == SCRIPT_TEXT
    assert final["answer"] == "14" and final["tool_calls"] == [{"call": "70 - 56", "result": "14"}]


def test_tools_can_be_switched_off_per_request(client):
    out = client.chat.completions.create(model="scripted-math", messages=ask(), max_tokens=64,
                                         extra_body={"srmzoo_tools": False})
    ext = out.choices[0].model_extra["srmzoo"]
    # the scripted model writes " = 14" itself when nobody forces it: the same text, no call answered
    assert ext["tool_calls"] == []
    assert out.choices[0].message.content == SCRIPT_TEXT


@pytest.mark.parametrize("stream", [False, True])
def test_a_stop_string_ends_the_choice_and_is_cut_from_the_text(client, stream):
    kwargs = {"model": "scripted-math", "messages": ask(), "max_tokens": 64, "stop": ["\\boxed"]}
    if stream:
        chunks = list(client.chat.completions.create(stream=True, **kwargs))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        reason = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    else:
        out = client.chat.completions.create(**kwargs)
        text, reason = out.choices[0].message.content, [out.choices[0].finish_reason]
    assert text == "The price drops by <<70 - 56>> = 14. The answer is "
    assert reason == ["stop"]


def test_sampling_with_a_seed_repeats_and_n_gives_n_different_choices(client):
    kwargs = {"model": "toy-tiny", "messages": ask(), "max_tokens": 8, "temperature": 1.0, "top_p": 0.95,
              "n": 3, "seed": 7}
    first = [c.message.content for c in client.chat.completions.create(**kwargs).choices]
    again = [c.message.content for c in client.chat.completions.create(**kwargs).choices]
    other = [c.message.content for c in client.chat.completions.create(**{**kwargs, "seed": 8}).choices]
    assert len(first) == 3 and first == again
    assert len(set(first)) == 3
    assert other != first


def test_the_verifier_checks_an_answer(served, client):
    url = served[0]
    right = httpx.post(url + "/v1/srmzoo/check", json={"model": "scripted-math", "answer": "14", "expected": "14"})
    wrong = httpx.post(url + "/v1/srmzoo/check", json={"model": "scripted-math", "answer": "15", "expected": "14",
                                                       "question": "By how much did the price drop?"})
    whole = httpx.post(url + "/v1/srmzoo/check", json={"model": "scripted-math", "answer": SCRIPT_TEXT,
                                                       "expected": "14.0"})
    assert (right.status_code, right.json()["verdict"], right.json()["correct"]) == (200, "correct", True)
    assert (wrong.json()["verdict"], wrong.json()["correct"]) == ("wrong", False)
    assert whole.json()["verdict"] == "correct" and whole.json()["predicted"] == "14"


def test_a_healthcare_entry_carries_its_research_only_notice(client):
    out = client.chat.completions.create(model="tiny-healthcare", messages=ask(), max_tokens=2)
    assert out.model_extra["srmzoo"] == {"domain": "healthcare", "disclaimer": DISCLAIMER}


def test_concurrent_requests_are_decoded_as_one_batch_each_exactly_as_alone(tiny):
    questions = [f"What is {a} + {b}?" for a, b in ((1, 2), (13, 29), (7, 48), (40, 5))]
    alone = [tiny.generate(q, max_new_tokens=10)[0][0] for q in questions]
    engine = Engine([tiny], batch_window=1.0)  # long enough for all four to arrive
    results: dict[int, str] = {}
    with running_server(engine) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=60)
        gate = threading.Barrier(len(questions))

        def one(i: int) -> None:
            gate.wait(10)
            out = client.chat.completions.create(model="toy-tiny", messages=ask(questions[i]), max_tokens=10)
            results[i] = out.choices[0].message.content

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(questions))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        stats = engine.stats()
    assert [results[i] for i in range(len(questions))] == alone
    assert (stats["batches"], stats["largest_batch"], stats["done"]) == (1, 4, 4)
    assert stats["prefix_prefills"] == 4  # the shared system prompt was prefilled once, not four times


def test_prefix_caching_changes_no_completion(tiny):
    questions = [f"What is {a} + {b}?" for a, b in ((2, 2), (31, 9))]
    outs = {}
    for cached in (True, False):
        engine = Engine([tiny], prefix_cache=cached).start()
        try:
            outs[cached] = [engine.complete("toy-tiny", ask(q), SamplingParams(max_tokens=16)).choices[0].text
                            for q in questions]
            custom = engine.complete("toy-tiny", [{"role": "system", "content": "Be brief."}, *ask(questions[0])],
                                     SamplingParams(max_tokens=16))
            hits = engine.stats()["prefix_prefills"]
        finally:
            engine.stop()
        # a client's own system prompt does not start with the entry's prefix: prefilled whole
        assert hits == (2 if cached else 0)
        assert custom.prompt_tokens == len(tiny.tokenizer.encode(tiny.prompt_format.render(
            tiny.tokenizer, [{"role": "system", "content": "Be brief."}, *ask(questions[0])]),
            add_special_tokens=False))
    assert outs[True] == outs[False] == [tiny.generate(q, max_new_tokens=16)[0][0] for q in questions]


def test_a_request_that_joins_a_running_batch_gets_its_exact_completion(tiny):
    long_q, short_q = "What is 3 + 4?", "What is 21 + 21, please, and show the steps?"
    alone = {q: tiny.generate(q, max_new_tokens=n)[0][0] for q, n in ((long_q, 40), (short_q, 12))}
    engine = Engine([tiny], batch_window=0.0).start()
    try:
        first_token = threading.Event()
        events: list = []

        def sink(event):
            events.append(event)
            first_token.set()

        job = engine.submit("toy-tiny", ask(long_q), SamplingParams(max_tokens=40), sink)
        assert first_token.wait(30)
        joined = engine.complete("toy-tiny", ask(short_q), SamplingParams(max_tokens=12), timeout=60)
        assert job.finished.wait(60)
        stats = engine.stats()
    finally:
        engine.stop()
    assert joined.choices[0].text == alone[short_q]
    assert [e for e in events if type(e).__name__ == "ChoiceDone"][0].text == alone[long_q]
    assert (stats["batches"], stats["largest_batch"]) == (1, 2)


def test_the_llama_cpp_backend_streams_and_answers_tools_the_same_way(client, served):
    llm = served[2].backend.llm
    restarts = llm.restarts
    out = client.chat.completions.create(model="scripted-llama", messages=ask(), max_tokens=64)
    assert out.choices[0].message.content == SCRIPT_TEXT
    assert out.choices[0].model_extra["srmzoo"]["tool_calls"] == [{"call": "70 - 56", "result": "14"}]
    assert llm.restarts - restarts == 2  # the prompt, then again after the calculator's result
    sampled = client.chat.completions.create(model="scripted-llama", messages=ask(), max_tokens=5, n=2,
                                             temperature=0.5, seed=3)
    assert [c.message.content for c in sampled.choices] == ["The price drops by <<"] * 2
    assert llm.seeds[-2:] == [3, 4]


# ------------------------------------------------------------------------------------------- bad requests


def post(url: str, body, **kwargs) -> httpx.Response:
    content = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return httpx.post(url + "/v1/chat/completions", content=content,
                      headers={"Content-Type": "application/json", **kwargs.pop("headers", {})}, timeout=30, **kwargs)


BAD_REQUESTS = [
    ("malformed json", '{"model": "toy-tiny", "messages": [', 400, None, "invalid_json"),
    ("not an object", "[1, 2]", 400, None, "invalid_json"),
    ("max_tokens over the cap", {"model": "toy-tiny", "messages": ask(), "max_tokens": 10_000}, 400, "max_tokens", None),
    ("n > 1 greedy", {"model": "toy-tiny", "messages": ask(), "n": 2}, 400, "n", None),
    ("ends with the assistant", {"model": "toy-tiny", "messages": [*ask(), {"role": "assistant", "content": "4"}]},
     400, "messages", None),
    ("over the context", {"model": "toy-tiny", "messages": ask("seven " * 1000), "max_tokens": 200}, 400,
     "messages", "context_length_exceeded"),
    ("unknown model", {"model": "math-9000", "messages": ask()}, 404, "model", "model_not_found"),
    ("wrong type", {"model": "toy-tiny", "messages": ask(), "temperature": "hot"}, 422, "temperature", "invalid_value"),
    ("out of range", {"model": "toy-tiny", "messages": ask(), "top_p": 1.5}, 422, "top_p", "invalid_value"),
    ("no messages", {"model": "toy-tiny", "messages": []}, 422, "messages", "invalid_value"),
    ("a field it does not do", {"model": "toy-tiny", "messages": ask(), "tools": []}, 422, "tools", "invalid_value"),
    ("a role it does not know", {"model": "toy-tiny", "messages": [{"role": "robot", "content": "x"}]}, 422,
     "messages.0.role", "invalid_value"),
]


@pytest.mark.parametrize("what, body, status, param, code", BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_a_bad_request_gets_an_openai_error_with_its_status(served, what, body, status, param, code):
    response = post(served[0], body)
    assert response.status_code == status
    error = response.json()["error"]
    assert set(response.json()) == {"error"} and set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param and error["code"] == code
    assert error["type"] == {400: "invalid_request_error", 404: "not_found_error", 422: "invalid_request_error"}[status]
    assert error["message"] and "Traceback" not in response.text


def test_a_body_over_the_limit_is_413(served):
    response = post(served[0], {"model": "toy-tiny", "messages": ask("x" * 70_000)})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_an_unknown_route_and_an_unknown_model_are_404s_the_client_understands(served, client):
    response = httpx.get(served[0] + "/v1/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["type"] == "not_found_error"
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="math-9000", messages=ask())
    assert "math-9000" in err.value.message and "toy-tiny" in err.value.message
    assert httpx.get(served[0] + "/v1/models/math-9000").status_code == 404


def test_a_wrong_api_key_is_401_and_the_right_one_works(tiny):
    with running_server(Engine([tiny]), api_key="sesame") as url:
        wrong = openai.OpenAI(base_url=url + "/v1", api_key="open-up", max_retries=0, timeout=30)
        with pytest.raises(openai.AuthenticationError) as err:
            wrong.models.list()
        assert err.value.status_code == 401 and err.value.code == "invalid_api_key"
        assert httpx.post(url + "/v1/chat/completions", json={"model": "toy-tiny", "messages": ask()}).status_code == 401
        right = openai.OpenAI(base_url=url + "/v1", api_key="sesame", max_retries=0, timeout=30)
        assert right.chat.completions.create(model="toy-tiny", messages=ask(), max_tokens=2).usage.completion_tokens == 2
        assert httpx.get(url + "/health").json()["status"] == "ok"


def test_a_full_queue_answers_429_and_drains_when_its_clients_leave(tiny):
    slow = scripted(tiny, delay=0.05, repeat=True)
    engine = Engine([slow], max_batch=1, max_queue=1, batch_window=0.0)
    body = {"model": "scripted-math", "messages": ask(), "max_tokens": 200, "stream": True}
    with running_server(engine) as url, httpx.Client(timeout=30) as http:
        with http.stream("POST", url + "/v1/chat/completions", json=body) as running:
            next(running.iter_lines())  # its first chunk: it is decoding
            wait_until(lambda: engine.stats()["running"] == 1, what="the first request running")
            with http.stream("POST", url + "/v1/chat/completions", json=body) as waiting:
                assert waiting.status_code == 200
                wait_until(lambda: engine.stats()["pending"] == 1, what="the second request queued")
                full = http.post(url + "/v1/chat/completions", json=body)
        assert full.status_code == 429
        assert full.json()["error"]["type"] == "rate_limit_error" and full.json()["error"]["code"] == "queue_full"
        assert full.headers["retry-after"] == "1"
        wait_until(lambda: engine.stats()["running"] == 0 and engine.stats()["pending"] == 0, what="the queue draining")
        assert engine.stats()["cancelled"] == 2


def test_a_client_that_disconnects_stops_its_generation(tiny):
    slow = scripted(tiny, delay=0.02, repeat=True)
    engine = Engine([slow], batch_window=0.0)
    body = {"model": "scripted-math", "messages": ask(), "max_tokens": 400}
    with running_server(engine) as url, httpx.Client(timeout=30) as http:
        with http.stream("POST", url + "/v1/chat/completions", json={**body, "stream": True}) as response:
            lines = response.iter_lines()
            [next(lines) for _ in range(6)]
        wait_until(lambda: engine.stats()["running"] == 0, timeout=5, what="the streamed request stopping")
        tokens = engine.stats()["tokens"]
        assert tokens < 100  # of 400 asked for: it stopped soon after the client left
        with pytest.raises(httpx.ReadTimeout):  # a non-streamed request whose client gives up
            http.post(url + "/v1/chat/completions", json=body, timeout=0.5)
        wait_until(lambda: engine.stats()["running"] == 0, timeout=5, what="the non-streamed request stopping")
        stats = engine.stats()
        time.sleep(0.3)
        assert engine.stats()["tokens"] == stats["tokens"] < tokens + 150
        assert (stats["cancelled"], stats["done"]) == (2, 0)


# ------------------------------------------------------------------------------------------- the page and CLI


def test_the_page_is_served_and_loads_nothing_from_another_host(served):
    page = httpx.get(served[0] + "/")
    assert page.status_code == 200 and 'id="question"' in page.text
    for name in ("index.html", "app.js", "style.css"):
        text = (STATIC_DIR / name).read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, name
        assert httpx.get(served[0] + f"/static/{name}").text == text


@pytest.mark.parametrize("argv, message", [
    (["--base", "smollm2-135m-instruct"], "--base takes BASE:DOMAIN"),
    ([], "nothing to serve"),
    (["--base", "smollm2-135m-instruct:astrology"], "unknown domain 'astrology'"),
])
def test_the_command_names_a_bad_invocation_without_a_traceback(argv, message):
    run = subprocess.run([sys.executable, "-m", "srmzoo.serve", *argv, "--port", "0"], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.stderr


def test_add_serve_command_registers_serve_with_its_handler():
    import argparse

    from srmzoo.serve import add_serve_command, serve_command

    parser = argparse.ArgumentParser(prog="srmzoo")
    add_serve_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "math-135m", "science-135m", "--api-key", "k", "--backend", "torch"])
    assert (args.command, args.entry, args.api_key, args.backend, args.host) == (
        "serve", ["math-135m", "science-135m"], "k", "torch", "127.0.0.1")
    assert args.handler is serve_command


# ------------------------------------------------------------------------------------------- the real base


@pytest.mark.real_model
def test_the_real_smollm2_base_serves_through_the_openai_client():
    from srmzoo.serve import base_reasoner

    reasoner = base_reasoner("smollm2-135m-instruct", "math", device="cpu")
    question = "A shirt costs $40 and is 25% off. What do you pay?"
    expected = reasoner.generate(question, max_new_tokens=16)[0][0]
    with running_server(Engine([reasoner])) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=120)
        out = client.chat.completions.create(model="smollm2-135m-instruct", messages=ask(question), max_tokens=16)
        streamed = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
            model="smollm2-135m-instruct", messages=ask(question), max_tokens=16, stream=True) if c.choices)
    assert out.choices[0].message.content == expected == streamed
    assert expected.strip()
    assert out.usage.completion_tokens == 16 or out.choices[0].finish_reason == "stop"
