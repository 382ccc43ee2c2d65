"""The HTTP layer of ``srmzoo serve``: FastAPI routes that validate a request, queue it on the
:class:`~srmzoo.serve.engine.Engine` and write its events back as OpenAI's JSON or server-sent events.

Routes: ``GET /v1/models`` (and ``/v1/models/{id}``), ``POST /v1/chat/completions`` (``stream`` true: SSE
chunks ending with ``data: [DONE]``), ``POST /v1/srmzoo/check`` (the domain verifier's verdict on an
answer), ``GET /health``, and the web page at ``/``. Every failure answers OpenAI's error body
(:func:`srmzoo.serve.protocol.error_body`) with its status: 400 a body that is not JSON or asks for more
than the server allows, 401 a missing or wrong API key, 404 an unknown model or route, 413 a body over the
limit, 422 a field of the wrong type or range, 429 a full queue, 500 a failure of the server itself (its
log has the traceback; the client never gets one).

>>> from srmzoo.serve.engine import Engine                # doctest: +SKIP
>>> app = create_app(Engine([reasoner]), api_key="secret")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..domain import Example
from ..errors import SrmzooError
from ..reasoner import Reasoner, Solution
from ..version import __version__
from .engine import (
    ChoiceDone,
    Engine,
    EngineStopped,
    JobDone,
    JobFailed,
    QueueFullError,
    RequestError,
    SamplingParams,
    TextDelta,
    ToolCallEvent,
    UnknownModelError,
)
from .protocol import ERROR_TYPES, ChatCompletionRequest, CheckRequest, completion_id, error_body, now

__all__ = ["ApiError", "STATIC_DIR", "create_app"]

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
DISCONNECT_POLL_S = 0.25  # how often a non-streamed request checks that its client is still there


class ApiError(Exception):
    """A request that gets an error response: its HTTP status and OpenAI's error fields."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.headers = status, message, param, code, headers

    def response(self) -> JSONResponse:
        body = error_body(self.message, ERROR_TYPES.get(self.status, "invalid_request_error"), param=self.param,
                          code=self.code)
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def _explain(err: SrmzooError) -> str:
    return err.message if not err.hint else f"{err.message} (hint: {err.hint})"


def _engine_error(err: SrmzooError) -> ApiError:
    """The HTTP error for an engine's refusal."""
    if isinstance(err, UnknownModelError):
        return ApiError(404, _explain(err), param="model", code="model_not_found")
    if isinstance(err, RequestError):
        return ApiError(400, _explain(err), param=err.param, code=err.code)
    if isinstance(err, QueueFullError):
        return ApiError(429, _explain(err), code="queue_full", headers={"Retry-After": "1"})
    if isinstance(err, EngineStopped):
        return ApiError(503, _explain(err), code="shutting_down")
    return ApiError(400, _explain(err))


def _sse(data: dict[str, Any] | str) -> str:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"data: {text}\n\n"


def _model_card(reasoner: Reasoner, created: int) -> dict[str, Any]:
    return {
        "id": reasoner.name,
        "object": "model",
        "created": created,
        "owned_by": "srmzoo",
        "srmzoo": {
            "domain": reasoner.domain.name,
            "base": reasoner.meta.get("base", {}).get("name"),
            "backend": "torch" if reasoner.backend is None else "llama.cpp",
            "tools": list(reasoner.prompt_format.tools),
            "source": reasoner.source.get("kind"),
            "disclaimer": reasoner.disclaimer,
        },
    }


def _choice_extension(reasoner: Reasoner, question: str, done: ChoiceDone) -> dict[str, Any]:
    """srmzoo's reading of one finished choice: the final answer, the reasoning before it, the tool calls."""
    answer = reasoner.domain.extract_answer(done.text)
    return {
        "answer": answer,
        "reasoning": Solution(question, done.text, answer).reasoning,
        "tool_calls": [{"call": call, "result": result} for call, result in done.tool_calls],
    }


def create_app(engine: Engine, *, api_key: str | None = None, max_body_bytes: int = 256 * 1024,
               max_concurrent_checks: int = 2) -> FastAPI:
    """The FastAPI app serving ``engine``'s reasoners; it starts the engine on startup and stops it on
    shutdown.

    Args:
        engine: the engine (started by the app's lifespan if it is not yet).
        api_key: when set, every ``/v1`` route wants ``Authorization: Bearer <api_key>``.
        max_body_bytes: the largest request body (413 past it).
        max_concurrent_checks: verifier calls (``/v1/srmzoo/check``) run at once; others wait.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine.start()
        yield
        await asyncio.to_thread(engine.stop)

    # No /docs or /redoc: their pages load scripts from a CDN. /openapi.json stays.
    app = FastAPI(title="srmzoo serve", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None)
    started = now()
    checks = asyncio.Semaphore(max_concurrent_checks)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> JSONResponse:
        return err.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        message = {404: f"no route {request.method} {request.url.path}; see GET /v1/models and "
                        "POST /v1/chat/completions",
                   405: f"{request.method} is not allowed on {request.url.path}"}.get(err.status_code, str(err.detail))
        return ApiError(err.status_code, message, code="not_found" if err.status_code == 404 else None).response()

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, err: RequestValidationError) -> JSONResponse:
        return ApiError(422, str(err.errors()[:1])).response()

    @app.exception_handler(Exception)
    async def _server_error(request: Request, err: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=err)
        return ApiError(500, "the server failed on this request; its log says why", code="internal_error").response()

    def authorize(request: Request) -> None:
        if api_key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), api_key.encode()):
            raise ApiError(401, "missing or wrong API key: send the header 'Authorization: Bearer <key>' with "
                           "the key the server was started with (--api-key)", code="invalid_api_key")

    async def read_body(request: Request, schema: type[BaseModel]) -> Any:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
            raise ApiError(413, f"the request body has {int(declared):,} bytes; this server takes at most "
                           f"{max_body_bytes:,}", code="request_too_large")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body_bytes:
                raise ApiError(413, f"the request body is over this server's {max_body_bytes:,} bytes",
                               code="request_too_large")
        try:
            data = json.loads(body)
        except ValueError as err:
            raise ApiError(400, f"the request body is not valid JSON: {err}", code="invalid_json") from None
        if not isinstance(data, dict):
            raise ApiError(400, f"the request body must be a JSON object, got {type(data).__name__}",
                           code="invalid_json")
        try:
            return schema.model_validate(data)
        except ValidationError as err:
            first = err.errors()[0]
            param = ".".join(str(part) for part in first["loc"]) or None
            more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
            raise ApiError(422, f"{param}: {first['msg']}{more}", param=param, code="invalid_value") from None

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "models": list(engine.reasoners), "engine": engine.stats()}

    @app.get("/v1/models")
    async def list_models(request: Request) -> dict[str, Any]:
        authorize(request)
        return {"object": "list", "data": [_model_card(r, started) for r in engine.reasoners.values()]}

    @app.get("/v1/models/{model}")
    async def get_model(model: str, request: Request) -> dict[str, Any]:
        authorize(request)
        try:
            return _model_card(engine.reasoner(model), started)
        except UnknownModelError as err:
            raise _engine_error(err) from None

    @app.post("/v1/srmzoo/check")
    async def check(request: Request) -> dict[str, Any]:
        authorize(request)
        req: CheckRequest = await read_body(request, CheckRequest)
        try:
            reasoner = engine.reasoner(req.model)
        except UnknownModelError as err:
            raise _engine_error(err) from None
        gold = Example(id="check", family=req.family, question=req.question or "", answer=req.expected,
                       solution="", meta=req.meta or {})
        async with checks:  # a verifier may run code in the sandbox: a few at a time
            try:
                verdict = await asyncio.to_thread(reasoner.check, req.answer, gold)
            except SrmzooError as err:
                raise ApiError(400, _explain(err)) from None
        return {"object": "srmzoo.check", "model": reasoner.name, "verdict": verdict.verdict.value,
                "correct": verdict.correct, "predicted": verdict.predicted, "detail": verdict.detail,
                "disclaimer": reasoner.disclaimer}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        authorize(request)
        req: ChatCompletionRequest = await read_body(request, ChatCompletionRequest)
        params = SamplingParams(max_tokens=req.token_limit(), temperature=req.temperature or 0.0,
                                top_p=req.top_p if req.top_p is not None else 1.0, n=req.n,
                                stop=req.stop_strings(), seed=req.seed, tools=req.srmzoo_tools)
        messages = [{"role": m.role, "content": m.text()} for m in req.messages]
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[Any] = asyncio.Queue()

        def sink(event: Any) -> None:  # called from the engine's thread
            loop.call_soon_threadsafe(events.put_nowait, event)

        try:
            job = engine.submit(req.model, messages, params, sink)
        except SrmzooError as err:
            raise _engine_error(err) from None
        reasoner = engine.reasoner(req.model)
        cid, created = completion_id(), now()
        extension = {"domain": reasoner.domain.name, "disclaimer": reasoner.disclaimer}

        if req.stream:
            return StreamingResponse(
                _stream(job, events, reasoner, req, cid, created, extension), media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        choices: dict[int, ChoiceDone] = {}
        checked = loop.time()
        try:
            while True:
                try:
                    event = await asyncio.wait_for(events.get(), DISCONNECT_POLL_S)
                except asyncio.TimeoutError:
                    event = None
                # by the clock, not on a quiet queue: text events keep coming while the client is gone
                if loop.time() - checked >= DISCONNECT_POLL_S:
                    checked = loop.time()
                    if await request.is_disconnected():
                        job.cancel()
                        return Response(status_code=499)  # nobody reads it; ends the handler
                if isinstance(event, ChoiceDone):
                    choices[event.choice] = event
                elif isinstance(event, JobDone):
                    break
                elif isinstance(event, JobFailed):
                    raise ApiError(500, f"generation failed: {event.message}", code="generation_failed")
        finally:
            if not job.finished.is_set():
                job.cancel()
        return JSONResponse({
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": req.model,
            "choices": [{
                "index": i,
                "message": {"role": "assistant", "content": done.text},
                "finish_reason": done.finish_reason,
                "logprobs": None,
                "srmzoo": _choice_extension(reasoner, job.question, done),
            } for i, done in sorted(choices.items())],
            "usage": {"prompt_tokens": event.prompt_tokens, "completion_tokens": event.completion_tokens,
                      "total_tokens": event.prompt_tokens + event.completion_tokens},
            "srmzoo": extension,
        })

    async def _stream(job: Any, events: asyncio.Queue, reasoner: Reasoner, req: ChatCompletionRequest, cid: str,
                      created: int, extension: dict[str, Any]) -> AsyncIterator[str]:
        def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
            return _sse({"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model,
                         "choices": choices, **extra})

        try:
            yield chunk([{"index": i, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                         for i in range(req.n)], srmzoo=extension)
            while True:
                event = await events.get()
                if isinstance(event, TextDelta):
                    yield chunk([{"index": event.choice, "delta": {"content": event.text}, "finish_reason": None}])
                elif isinstance(event, ToolCallEvent):
                    yield chunk([{"index": event.choice, "delta": {}, "finish_reason": None,
                                  "srmzoo": {"tool_call": {"call": event.call, "result": event.result}}}])
                elif isinstance(event, ChoiceDone):
                    yield chunk([{"index": event.choice, "delta": {}, "finish_reason": event.finish_reason,
                                  "srmzoo": _choice_extension(reasoner, job.question, event)}])
                elif isinstance(event, JobDone):
                    if req.include_usage():
                        yield chunk([], usage={"prompt_tokens": event.prompt_tokens,
                                               "completion_tokens": event.completion_tokens,
                                               "total_tokens": event.prompt_tokens + event.completion_tokens})
                    break
                elif isinstance(event, JobFailed):
                    yield _sse(error_body(f"generation failed: {event.message}", "server_error",
                                          code="generation_failed"))
                    break
            yield _sse("[DONE]")
        finally:  # the client went away (the stream is cancelled) or the server stops: stop decoding
            if not job.finished.is_set():
                job.cancel()

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
