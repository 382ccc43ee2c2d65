"""The HTTP protocol of ``srmzoo serve``: OpenAI's chat-completions request and response shapes, srmzoo's
extension fields, and the one error body every failure answers with.

Nothing here knows the engine or the models: :mod:`srmzoo.serve.app` validates a request body with these
models, hands the engine plain values, and writes the engine's results back in these shapes. The shapes
follow OpenAI's API reference (and what vLLM's and llama.cpp's servers send), so the official ``openai``
client reads them; srmzoo's additions sit under a ``srmzoo`` key that OpenAI's clients keep as an extra.

>>> req = ChatCompletionRequest.model_validate({"model": "math-135m", "messages": [{"role": "user", "content": "1+1?"}]})
>>> req.max_tokens is None, req.n, req.stream, req.stop_strings()
(True, 1, False, ())
>>> error_body("unknown model 'x'", "not_found_error", param="model", code="model_not_found")
{'error': {'message': "unknown model 'x'", 'type': 'not_found_error', 'param': 'model', 'code': 'model_not_found'}}
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "ChatCompletionRequest",
    "ChatMessage",
    "CheckRequest",
    "ERROR_TYPES",
    "StreamOptions",
    "TextPart",
    "completion_id",
    "error_body",
    "now",
]

MAX_STOP_STRINGS = 4  # as OpenAI
MAX_STOP_CHARS = 64
MAX_N = 8

# HTTP status -> the OpenAI error ``type`` that goes with it.
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "server_error",
}


def error_body(message: str, type_: str, *, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    """The JSON body of every error this server sends, OpenAI's shape: ``{"error": {message, type, param,
    code}}``; ``message`` says what was wrong and how to fix it, never a traceback."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def completion_id() -> str:
    """A fresh ``chatcmpl-...`` id, as OpenAI's."""
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def now() -> int:
    """Seconds since the epoch: the ``created`` field."""
    return int(time.time())


class _Strict(BaseModel):
    # An unknown field is a 422 naming it, not silently ignored: a client that sends ``tools`` or
    # ``logprobs`` expecting them honoured learns at once that this server does not do that.
    model_config = ConfigDict(extra="forbid")


class TextPart(_Strict):
    """One part of a message's content given as a list (``[{"type": "text", "text": ...}]``)."""

    type: Literal["text"]
    text: str


class ChatMessage(_Strict):
    """One turn of the conversation. A system turn replaces the entry's own system prompt."""

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart]
    name: str | None = None

    def text(self) -> str:
        """The content as one string (text parts joined)."""
        return self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)


class StreamOptions(_Strict):
    include_usage: bool = False


class ChatCompletionRequest(_Strict):
    """``POST /v1/chat/completions``: OpenAI's fields that srmzoo honours.

    ``temperature`` left out or 0 decodes greedily (how zoo entries are evaluated); above 0 it samples.
    ``max_completion_tokens`` is OpenAI's newer name for ``max_tokens``. ``seed`` makes sampling
    repeatable: the same request with the same seed gives the same completions. ``srmzoo_tools: false``
    leaves an entry's tool calls unanswered.
    """

    model: str
    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = None
    top_p: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    n: Annotated[int, Field(ge=1, le=MAX_N)] = 1
    stop: str | Annotated[list[Annotated[str, Field(min_length=1, max_length=MAX_STOP_CHARS)]],
                          Field(max_length=MAX_STOP_STRINGS)] | None = None
    seed: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = None
    # Accepted at their defaults only: a client library may send them, but any other value asks for
    # something this server does not do.
    presence_penalty: Literal[0, 0.0] | None = None
    frequency_penalty: Literal[0, 0.0] | None = None
    logprobs: Literal[False] | None = None
    srmzoo_tools: bool = True

    @field_validator("stop")
    @classmethod
    def _stop_not_empty(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, str) and not 0 < len(value) <= MAX_STOP_CHARS:
            raise ValueError(f"a stop string has 1 to {MAX_STOP_CHARS} characters")
        return value

    @model_validator(mode="after")
    def _one_token_limit(self) -> ChatCompletionRequest:
        if self.max_tokens is not None and self.max_completion_tokens is not None \
                and self.max_tokens != self.max_completion_tokens:
            raise ValueError("max_tokens and max_completion_tokens disagree; send one of them")
        return self

    def token_limit(self) -> int | None:
        """The completion's token budget the client asked for (None: the server's default)."""
        return self.max_tokens if self.max_tokens is not None else self.max_completion_tokens

    def stop_strings(self) -> tuple[str, ...]:
        """``stop`` as a tuple (empty when none)."""
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)

    def include_usage(self) -> bool:
        """Whether a streamed response ends with a usage chunk (OpenAI's ``stream_options``)."""
        return bool(self.stream_options and self.stream_options.include_usage)


class CheckRequest(_Strict):
    """``POST /v1/srmzoo/check``: verify an answer with the entry's domain verifier.

    ``answer`` is a final answer (``14``) or a whole completion; ``expected`` the true answer in the domain's
    canonical form; ``family`` and ``meta`` are what some domains' checks need (a problem family, unit tests).
    """

    model: str
    answer: str
    expected: str
    question: str | None = None
    family: str = ""
    meta: dict[str, Any] | None = None
