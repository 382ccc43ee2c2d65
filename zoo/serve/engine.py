"""The serving engine: one scheduler thread that batches concurrent requests onto a reasoner's backend and
reports each request's text, tool calls and end as events, token by token. It knows nothing of HTTP.

A request (:meth:`Engine.submit`) is rendered through the entry's own prompt format, tokenized, checked
against the model's context and put in a bounded queue (:class:`QueueFullError` past ``max_queue``). The
scheduler waits ``batch_window`` seconds after the first request for others to arrive, prefills them as one
left-padded batch and decodes them together; a request that arrives while a batch decodes joins it at the
next step (its prompt is prefilled and its cache rows are padded onto the batch's), so a burst of clients
is batched without anyone waiting for the batch before theirs to end. A sequence leaves the batch, with its
cache rows, when it ends, when its client goes away (:meth:`Job.cancel`, checked between tokens) or at its
token budget. Tool calls are answered during decoding by :class:`srmzoo.tools.ToolCaller`, as in
:func:`srmzoo.backends.hf.generate`, and reported as they happen.

Why not :func:`srmzoo.backends.hf.greedy_decode` itself: one batch here mixes requests with their own
temperature, ``top_p``, seed, stop strings and budget, which must be honoured per row, and must say after
every token what each row wrote; the cache handling (positions counted past left padding, finished rows
dropped with ``batch_select_indices``) is the same, and tests/test_serve.py checks that a served greedy
completion equals ``Reasoner.generate``'s token for token.

A reasoner loaded with ``backend="llama.cpp"`` decodes one sequence at a time (llama.cpp keeps one context),
through the same per-token bookkeeping.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import SrmzooError, UnknownNameError
from ..reasoner import Reasoner
from ..tools import CALL_CLOSE, CALL_OPEN, ToolCaller

__all__ = [
    "ChoiceDone",
    "Completion",
    "Engine",
    "Event",
    "EngineStopped",
    "Job",
    "JobDone",
    "JobFailed",
    "QueueFullError",
    "RequestError",
    "SamplingParams",
    "TextDelta",
    "ToolCallEvent",
    "UnknownModelError",
]


log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------- errors


class RequestError(SrmzooError):
    """A request the engine cannot serve as asked (too long for the context, over a limit).

    Attributes:
        param: the request field at fault (``max_tokens``, ``messages``, ...), or None.
        code: a short machine-readable reason (``context_length_exceeded``), or None.
    """

    def __init__(self, message: str, *, hint: str | None = None, param: str | None = None, code: str | None = None):
        super().__init__(message, hint=hint)
        self.param, self.code = param, code


class UnknownModelError(UnknownNameError):
    """The request names a model this engine does not serve."""


class QueueFullError(SrmzooError):
    """The queue of waiting requests is full: the client should retry later."""


class EngineStopped(SrmzooError):
    """The engine has stopped (the server is shutting down)."""


# ------------------------------------------------------------------------------------------------- events


@dataclass(frozen=True)
class TextDelta:
    """New text of choice ``choice`` (what a streamed chunk carries)."""

    choice: int
    text: str


@dataclass(frozen=True)
class ToolCallEvent:
    """A tool call of choice ``choice`` was answered: ``call`` is the expression the model wrote between
    ``<<`` and ``>>``, ``result`` what the tool wrote after it (``?``: the tool could not answer)."""

    choice: int
    call: str
    result: str


@dataclass(frozen=True)
class ChoiceDone:
    """Choice ``choice`` ended: its whole text, why (``stop``: an end token or a stop string; ``length``:
    the token budget), its tokens (tool results and an end token included) and its tool calls."""

    choice: int
    text: str
    finish_reason: str
    completion_tokens: int
    tool_calls: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class JobDone:
    """Every choice of the request ended (the last event of a job)."""

    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class JobFailed:
    """The backend failed on this request (the last event of a job); the server logged why."""

    message: str


Event = TextDelta | ToolCallEvent | ChoiceDone | JobDone | JobFailed


@dataclass(frozen=True)
class SamplingParams:
    """How one request is decoded.

    ``max_tokens`` None is the engine's default budget. ``temperature`` 0 decodes greedily; above 0 each
    token is sampled from ``softmax(logits / temperature)`` within the ``top_p`` nucleus, with a generator
    seeded from ``seed`` (choice ``i`` uses ``seed + i``; no seed: a random one). ``stop`` strings end a
    choice and are cut from its text, as in OpenAI's API. ``tools=False`` leaves an entry's tool calls
    unanswered.

    >>> SamplingParams(max_tokens=32, temperature=0.7, n=2, seed=1).greedy
    False
    """

    max_tokens: int | None = None
    temperature: float = 0.0
    top_p: float = 1.0
    n: int = 1
    stop: tuple[str, ...] = ()
    seed: int | None = None
    tools: bool = True

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0


@dataclass
class Completion:
    """A finished request as :meth:`Engine.complete` returns it: per choice, its :class:`ChoiceDone`."""

    choices: list[ChoiceDone]
    prompt_tokens: int
    completion_tokens: int


# --------------------------------------------------------------------------------------------------- jobs


class Job:
    """One submitted request: its prompt, parameters and the sink its events go to (from the engine's
    thread). :meth:`cancel` stops it between two tokens."""

    def __init__(self, job_id: int, model: str, prompt: str, prompt_ids: list[int], question: str,
                 params: SamplingParams, sink: Callable[[Event], None]):
        self.id, self.model, self.prompt, self.prompt_ids = job_id, model, prompt, prompt_ids
        self.question, self.params = question, params
        self._sink = sink
        self.cancelled = threading.Event()
        self.finished = threading.Event()
        self.completion_tokens = 0
        self._choices_done = 0
        self.submitted_at = time.monotonic()

    @property
    def prompt_tokens(self) -> int:
        return len(self.prompt_ids)

    def cancel(self) -> None:
        """Stop generating for this request (its client went away); no more events are sent."""
        self.cancelled.set()

    def send(self, event: Event) -> None:
        if self.cancelled.is_set() and not isinstance(event, (JobDone, JobFailed)):
            return
        try:
            self._sink(event)
        except Exception:  # noqa: BLE001 — a broken sink (its event loop closed) ends this job, not the engine
            log.warning("job %d: its sink failed; cancelling it", self.id, exc_info=True)
            self.cancel()

    def choice_done(self, event: ChoiceDone) -> None:
        self.completion_tokens += event.completion_tokens
        self._choices_done += 1
        self.send(event)
        if self._choices_done == self.params.n:
            self.finished.set()  # before the last event, so that whoever reads it sees the job finished
            self.send(JobDone(self.prompt_tokens, self.completion_tokens))

    def fail(self, message: str) -> None:
        if not self.finished.is_set():
            self.finished.set()
            self.send(JobFailed(message))


def _first_stop(text: str, stops: Sequence[str], start: int) -> int | None:
    """Where the earliest stop string begins in ``text`` (searched from ``start``), else None."""
    hits = [at for at in (text.find(s, start) for s in stops) if at >= 0]
    return min(hits) if hits else None


def _held_back(text: str, stops: Sequence[str]) -> int:
    """How many trailing characters of ``text`` could begin a stop string (not to be sent yet).

    >>> _held_back("The answer is \\\\bo", ["\\\\boxed"]), _held_back("abc", ["xyz"])
    (3, 0)
    """
    held = 0
    for stop in stops:
        for k in range(min(len(stop) - 1, len(text)), held, -1):
            if text.endswith(stop[:k]):
                held = k
                break
    return held


class _Sequence:
    """One choice of one job as it is decoded: its tokens, the text sent so far, forced tool results."""

    def __init__(self, job: Job, index: int, tokenizer: Any, eos: frozenset[int], tools: Sequence[str]):
        self.job, self.index, self.tokenizer, self.eos = job, index, tokenizer, eos
        self.params = job.params
        self.caller = ToolCaller(tokenizer, tools) if tools and self.params.tools else None
        self.ids: list[int] = []
        self.forced: list[int] = []
        self.text = ""
        self.sent = 0
        self.tool_calls: list[tuple[str, str]] = []
        self.longest_stop = max((len(s) for s in self.params.stop), default=0)
        self.seed = (self.params.seed + index if self.params.seed is not None
                     else random.SystemRandom().getrandbits(62))
        self.generator: Any = None  # a torch.Generator for sampled torch rows

    def _decode(self) -> str:
        # No clean-up of tokenization spaces: with it, a later token could change text already sent.
        return self.tokenizer.decode(self.ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    def _send_up_to(self, end: int) -> None:
        if end > self.sent:
            self.job.send(TextDelta(self.index, self.text[self.sent:end]))
            self.sent = end

    def feed(self, token: int) -> bool:
        """Take the next token; True when the sequence has ended."""
        self.ids.append(int(token))
        if token in self.eos:
            return self.finish("stop")
        text = self._decode()
        if self.params.stop:
            hit = _first_stop(text, self.params.stop, max(0, self.sent - self.longest_stop))
            if hit is not None:
                self.text = text[:hit]
                return self.finish("stop")
        self.text = text
        if len(self.ids) >= self.params.max_tokens:
            return self.finish("length")
        safe = len(text.rstrip("\ufffd"))  # a character whose bytes have not all come yet
        safe -= _held_back(text[:safe], self.params.stop)
        self._send_up_to(max(self.sent, safe))
        if self.caller is not None and not self.forced:
            forced = self.caller.after(self.ids)
            if forced:
                opened = text.rfind(CALL_OPEN)
                closed = text.find(CALL_CLOSE, opened + len(CALL_OPEN))
                call = text[opened + len(CALL_OPEN):closed].strip()
                result = self.tokenizer.decode(forced, skip_special_tokens=True).split("=", 1)[-1].strip()
                self.tool_calls.append((call, result))
                self._send_up_to(len(text))
                self.job.send(ToolCallEvent(self.index, call, result))
                self.forced = forced[: self.params.max_tokens - len(self.ids)]
        return False

    def finish(self, reason: str) -> bool:
        if reason == "stop" and not self.params.stop:
            self.text = self._decode()
        self._send_up_to(len(self.text))
        self.job.choice_done(ChoiceDone(self.index, self.text, reason, len(self.ids), tuple(self.tool_calls)))
        return True


# ---------------------------------------------------------------------------------------- torch batching


def _eos_ids(model: Any, tokenizer: Any) -> frozenset[int]:
    """Every token that ends a turn: the generation config's EOS id(s) and the tokenizer's."""
    ids = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = list(ids) if isinstance(ids, (list, tuple)) else [] if ids is None else [ids]
    if tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    return frozenset(int(i) for i in ids)


def _sample(logits: Any, temperature: float, top_p: float, generator: Any) -> int:
    """One token from ``softmax(logits / temperature)`` within the ``top_p`` nucleus (as
    :func:`srmzoo.backends.hf.generate` samples), drawn with this row's own generator."""
    import torch

    logits = logits.float() / temperature
    if top_p < 1.0:
        sorted_logits, order = logits.sort(descending=True)
        probs = sorted_logits.softmax(-1)
        drop = probs.cumsum(-1) - probs >= top_p
        logits = torch.full_like(logits, float("-inf")).scatter(0, order, sorted_logits.masked_fill(drop, float("-inf")))
    return int(torch.multinomial(logits.softmax(-1), 1, generator=generator))


class _TorchBatch:
    """The rows decoding together on one torch model, and their KV cache."""

    def __init__(self, reasoner: Reasoner):
        self.model, self.tokenizer = reasoner.model, reasoner.tokenizer
        self.tools = reasoner.prompt_format.tools
        self.eos = _eos_ids(self.model, self.tokenizer)
        self.device = next(self.model.parameters()).device
        self.seqs: list[_Sequence] = []
        self.cache: Any = None
        self.mask: Any = None
        self.next_pos: Any = None
        self.logits: Any = None
        self.joinable = True
        self.prefix: _Prefix | None = None

    @property
    def rows(self) -> int:
        return len(self.seqs)

    def add(self, jobs: Sequence[Job], prefix: _Prefix | None = None) -> bool:
        """Prefill ``jobs`` (one row per prompt, then one per choice) and put them into the batch. With a
        ``prefix`` that every job's prompt starts with, only the rest of each prompt is prefilled (returns
        whether it was)."""
        import torch
        from transformers import DynamicCache
        from transformers.cache_utils import DynamicLayer

        if prefix is not None and not all(prefix.starts(job.prompt_ids) for job in jobs):
            prefix = None
        start = len(prefix.ids) if prefix is not None else 0
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        width = max(len(j.prompt_ids) for j in jobs) - start
        ids = torch.full((len(jobs), width), pad, dtype=torch.long)
        mask = torch.zeros((len(jobs), start + width), dtype=torch.long)
        mask[:, :start] = 1
        for i, job in enumerate(jobs):  # padding on the left of each prompt's own part: the model continues on the right
            rest = job.prompt_ids[start:]
            ids[i, width - len(rest):] = torch.tensor(rest)
            mask[i, start + width - len(rest):] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        position_ids = ((mask.cumsum(-1) - 1).clamp(min=0))[:, start:]
        cache = DynamicCache(config=self.model.config)
        if prefix is not None:  # the shared prefix's keys and values, one copy per row
            for layer, (keys, values) in enumerate(prefix.kv):
                cache.update(keys.repeat(len(jobs), 1, 1, 1), values.repeat(len(jobs), 1, 1, 1), layer)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=position_ids, cache=cache,
                         use_cache=True, logits_to_keep=1)
        logits, next_pos = out.logits[:, -1, :], position_ids[:, -1] + 1
        rows = [i for i, job in enumerate(jobs) for _ in range(job.params.n)]
        if len(rows) > len(jobs):  # one prefill per prompt, then a copy of its cache per choice
            index = torch.tensor(rows, device=self.device)
            cache.batch_select_indices(index)
            logits, next_pos, mask = logits[index], next_pos[index], mask[index]
        seqs = [_Sequence(job, c, self.tokenizer, self.eos, self.tools) for job in jobs for c in range(job.params.n)]
        for seq in seqs:
            if not seq.params.greedy:
                seq.generator = torch.Generator(device=self.device).manual_seed(seq.seed)
        # Joining a running batch pads the caches' tensors themselves: only plain full-attention layers
        # are known to be laid out [batch, heads, length, dim].
        self.joinable = self.joinable and all(type(layer) is DynamicLayer for layer in cache.layers)
        if self.cache is None:
            self.cache, self.mask, self.next_pos, self.logits, self.seqs = cache, mask, next_pos, logits, seqs
            return prefix is not None
        old, new = self.mask.shape[1], mask.shape[1]
        length = max(old, new)
        for mine, theirs in zip(self.cache.layers, cache.layers, strict=True):
            mine.keys = torch.cat([_pad_left(mine.keys, length - old, 2), _pad_left(theirs.keys, length - new, 2)])
            mine.values = torch.cat([_pad_left(mine.values, length - old, 2),
                                     _pad_left(theirs.values, length - new, 2)])
        self.mask = torch.cat([_pad_left(self.mask, length - old, 1), _pad_left(mask, length - new, 1)])
        self.next_pos = torch.cat([self.next_pos, next_pos])
        self.logits = torch.cat([self.logits, logits])
        self.seqs += seqs
        return prefix is not None

    def step(self) -> None:
        """One token for every row: pick it, report it, drop the rows that ended, run the model once."""
        import torch

        tokens = self.logits.argmax(-1)
        for j, seq in enumerate(self.seqs):
            if seq.forced:
                tokens[j] = seq.forced.pop(0)
            elif not seq.params.greedy:
                tokens[j] = _sample(self.logits[j], seq.params.temperature, seq.params.top_p, seq.generator)
        done = [seq.job.cancelled.is_set() or seq.feed(tok) for seq, tok in zip(self.seqs, tokens.tolist(), strict=True)]
        if all(done):
            self.seqs, self.cache = [], None
            return
        if any(done):
            keep = torch.tensor([j for j, d in enumerate(done) if not d], device=self.device)
            self.cache.batch_select_indices(keep)
            self.seqs = [s for s, d in zip(self.seqs, done, strict=True) if not d]
            tokens, self.mask, self.next_pos = tokens[keep], self.mask[keep], self.next_pos[keep]
            self._trim()
        self.mask = torch.cat([self.mask, self.mask.new_ones((self.mask.shape[0], 1))], dim=1)
        out = self.model(input_ids=tokens[:, None], attention_mask=self.mask, position_ids=self.next_pos[:, None],
                         cache=self.cache, use_cache=True)
        self.logits = out.logits[:, -1, :]
        self.next_pos = self.next_pos + 1

    def _trim(self) -> None:
        """Drop cache columns that no remaining row attends to (padding left by rows that ended), so a
        batch that rows keep joining does not grow without bound."""
        if not self.joinable:
            return
        first = int(self.mask.any(0).nonzero()[0])
        if first > 0:
            for layer in self.cache.layers:
                layer.keys, layer.values = layer.keys[:, :, first:], layer.values[:, :, first:]
            self.mask = self.mask[:, first:]


class _Prefix:
    """The tokens every default prompt of a reasoner starts with (system prompt, few-shot turns, the user
    turn's header) and their keys and values, computed once: a request whose prompt starts with them is
    prefilled from the end of the prefix on (prefix caching, as vLLM's and llama.cpp's servers do)."""

    def __init__(self, ids: list[int], kv: list[tuple[Any, Any]]):
        self.ids, self.kv = ids, kv

    def starts(self, prompt_ids: Sequence[int]) -> bool:
        return len(prompt_ids) > len(self.ids) and list(prompt_ids[: len(self.ids)]) == self.ids

    @classmethod
    def of(cls, reasoner: Reasoner, min_tokens: int = 16) -> _Prefix | None:
        """The reasoner's shared prefix, or None when it is too short to be worth it or its cache is not
        made of plain full-attention layers."""
        import torch
        from transformers import DynamicCache
        from transformers.cache_utils import DynamicLayer

        probes = [reasoner.prompt_format.render(reasoner.tokenizer, Engine.conversation(reasoner, [
            {"role": "user", "content": text}])) for text in ("0", "Z")]
        a, b = (reasoner.tokenizer.encode(p, add_special_tokens=False) for p in probes)
        common = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        ids = a[: common - 1]  # one token short: a question's first characters may merge with the last one
        if len(ids) < min_tokens:
            return None
        device = next(reasoner.model.parameters()).device
        cache = DynamicCache(config=reasoner.model.config)
        reasoner.model(input_ids=torch.tensor([ids], device=device), attention_mask=torch.ones((1, len(ids)),
                       dtype=torch.long, device=device), cache=cache, use_cache=True, logits_to_keep=1)
        if not all(type(layer) is DynamicLayer for layer in cache.layers):
            return None
        return cls(ids, [(layer.keys, layer.values) for layer in cache.layers])


def _pad_left(tensor: Any, amount: int, dim: int) -> Any:
    import torch

    if amount == 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = amount
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)


# ------------------------------------------------------------------------------------------------- engine


class Engine:
    """Serves requests for one or more reasoners from one scheduler thread.

    Args:
        reasoners: the models to serve, by name (a sequence is keyed by each reasoner's ``name``).
        max_batch: rows (choices) decoded together at most.
        batch_window: seconds the scheduler waits after a first request for others to batch with it.
        max_queue: requests waiting at most; one more is a :class:`QueueFullError`.
        max_tokens: the largest ``max_tokens`` a request may ask for.
        default_max_tokens: the budget of a request that names none.
        prefix_cache: prefill the prompt prefix every request shares (the entry's system prompt and few-shot
            turns) once, not for every request.

    >>> engine = Engine([])  # doctest: +SKIP
    >>> engine.start(); engine.complete("math-135m", [{"role": "user", "content": "2+2?"}])  # doctest: +SKIP
    """

    def __init__(self, reasoners: Mapping[str, Reasoner] | Sequence[Reasoner], *, max_batch: int = 16,
                 batch_window: float = 0.02, max_queue: int = 64, max_tokens: int = 1024,
                 default_max_tokens: int = 256, prefix_cache: bool = True):
        self.reasoners: dict[str, Reasoner] = (dict(reasoners) if isinstance(reasoners, Mapping)
                                               else {r.name: r for r in reasoners})
        if max_batch < 1 or max_queue < 1 or max_tokens < 1 or default_max_tokens < 1:
            raise SrmzooError("max_batch, max_queue, max_tokens and default_max_tokens must be at least 1",
                              hint="e.g. --max-batch 16 --max-queue 64 --max-tokens 1024")
        self.max_batch, self.batch_window, self.max_queue = max_batch, batch_window, max_queue
        self.max_tokens, self.default_max_tokens = max_tokens, min(default_max_tokens, max_tokens)
        self.prefix_cache = prefix_cache
        self._prefixes: dict[str, _Prefix | None] = {}
        self._pending: deque[Job] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._next_id = 0
        self._running = 0
        self._active: list[Job] = []
        self.counts = {"jobs": 0, "done": 0, "cancelled": 0, "failed": 0, "batches": 0, "largest_batch": 0,
                       "steps": 0, "tokens": 0, "prefix_prefills": 0}

    # ---- lifecycle
    def start(self) -> Engine:
        """Start the scheduler thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="srmzoo-serve-engine", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop accepting requests, cancel those in flight and wait for the scheduler to end."""
        with self._cond:
            self._stopping = True
            pending, self._pending = list(self._pending), deque()
            self._cond.notify_all()
        for job in pending:
            job.fail("the server is shutting down")
        if self._thread is not None:
            self._thread.join(timeout)

    # ---- requests
    def reasoner(self, model: str) -> Reasoner:
        """The reasoner served as ``model``."""
        if model not in self.reasoners:
            raise UnknownModelError("model", model, self.reasoners,
                                    hint=f"this server serves {', '.join(self.reasoners) or 'no model'} (GET /v1/models)")
        return self.reasoners[model]

    def context_length(self, reasoner: Reasoner) -> int | None:
        """Tokens of prompt plus completion the reasoner's backend holds (None: unknown)."""
        limits = [getattr(getattr(reasoner.model, "config", None), "max_position_embeddings", None)]
        if reasoner.backend is not None and hasattr(getattr(reasoner.backend, "llm", None), "n_ctx"):
            limits.append(reasoner.backend.llm.n_ctx())
        limits = [int(x) for x in limits if isinstance(x, int)]
        return min(limits) if limits else None

    @staticmethod
    def conversation(reasoner: Reasoner, messages: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
        """The turns the model sees: the entry's system prompt (or the client's, which replaces it), its
        few-shot turns, then the client's user and assistant turns, ending with a user turn."""
        system = [m["content"] for m in messages if m["role"] in ("system", "developer")]
        turns = [{"role": m["role"], "content": m["content"]} for m in messages if m["role"] in ("user", "assistant")]
        if not turns or turns[-1]["role"] != "user":
            raise RequestError("the conversation must end with a user message", param="messages",
                               hint='e.g. "messages": [{"role": "user", "content": "What is 7 x 8?"}]')
        if turns[0]["role"] != "user":
            raise RequestError("the conversation must start (after any system message) with a user message",
                               param="messages")
        msgs = reasoner.prompt_format.messages(turns[0]["content"])
        if system:
            msgs = [{"role": "system", "content": "\n\n".join(system)}] + [m for m in msgs if m["role"] != "system"]
        return msgs + turns[1:]

    def submit(self, model: str, messages: Sequence[Mapping[str, str]], params: SamplingParams,
               sink: Callable[[Event], None]) -> Job:
        """Queue a request; its events go to ``sink`` from the engine's thread.

        Raises :class:`UnknownModelError`,
        :class:`RequestError` (over a limit, too long for the context), :class:`QueueFullError` or
        :class:`EngineStopped`.
        """
        reasoner = self.reasoner(model)
        if params.max_tokens is not None and params.max_tokens > self.max_tokens:
            raise RequestError(f"max_tokens {params.max_tokens} is over this server's limit of {self.max_tokens}",
                               param="max_tokens", hint=f"ask for at most {self.max_tokens} tokens")
        if params.n > 1 and params.greedy:
            raise RequestError(f"n={params.n} needs sampling: greedy completions would all be the same",
                               param="n", hint="set a temperature above 0, or n=1")
        if params.n > self.max_batch:
            raise RequestError(f"n={params.n} is over this server's batch of {self.max_batch}", param="n")
        msgs = self.conversation(reasoner, messages)
        prompt = reasoner.prompt_format.render(reasoner.tokenizer, msgs)
        prompt_ids = reasoner.tokenizer.encode(prompt, add_special_tokens=False)
        context = self.context_length(reasoner)
        room = context - len(prompt_ids) if context is not None else None
        if params.max_tokens is None:
            budget = self.default_max_tokens if room is None else min(self.default_max_tokens, room)
            params = replace(params, max_tokens=budget)
        if room is not None and (params.max_tokens > room or room < 1):
            raise RequestError(
                f"the prompt has {len(prompt_ids)} tokens and {params.max_tokens} more were asked for: over "
                f"the model's context of {context}", param="messages", code="context_length_exceeded",
                hint="shorten the messages or ask for fewer max_tokens")
        with self._cond:
            if self._stopping:
                raise EngineStopped("the server is shutting down", hint="retry against a running server")
            if len(self._pending) >= self.max_queue:
                raise QueueFullError(f"the server's queue is full ({self.max_queue} requests waiting)",
                                     hint="retry in a moment")
            self._next_id += 1
            job = Job(self._next_id, model, prompt, prompt_ids, msgs[-1]["content"], params, sink)
            self._pending.append(job)
            self.counts["jobs"] += 1
            self._cond.notify_all()
        return job

    def complete(self, model: str, messages: Sequence[Mapping[str, str]], params: SamplingParams | None = None,
                 *, timeout: float = 600.0) -> Completion:
        """Submit a request and wait for its end (the engine must be started)."""
        events: queue.Queue[Event] = queue.Queue()
        job = self.submit(model, messages, params or SamplingParams(), events.put)
        choices: dict[int, ChoiceDone] = {}
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                job.cancel()
                raise TimeoutError(f"request {job.id} did not finish in {timeout:.0f} s") from None
            if isinstance(event, ChoiceDone):
                choices[event.choice] = event
            elif isinstance(event, JobDone):
                return Completion([choices[i] for i in sorted(choices)], event.prompt_tokens, event.completion_tokens)
            elif isinstance(event, JobFailed):
                raise SrmzooError(f"generation failed: {event.message}")

    def stats(self) -> dict[str, int]:
        """Counters: requests waiting and decoding, and totals since the start."""
        with self._cond:
            return {"pending": len(self._pending), "running": self._running, "max_queue": self.max_queue,
                    **self.counts}

    # ---- the scheduler thread
    def _take(self, model: str, room: int, limit: int | None = None) -> list[Job]:
        """Waiting jobs for ``model`` that fit in ``room`` rows, from the head of the queue. It stops at a
        job for another model or one that does not fit, so that no request is overtaken for ever."""
        taken: list[Job] = []
        with self._cond:
            while self._pending and (limit is None or len(taken) < limit):
                job = self._pending[0]
                if job.cancelled.is_set():  # its client left while it waited
                    self._pending.popleft()
                    self.counts["cancelled"] += 1
                    job.finished.set()
                    continue
                if job.model != model or job.params.n > room:
                    break
                taken.append(self._pending.popleft())
                room -= job.params.n
            self._active += taken
            self._running = len(self._active)
        return taken

    def _reap(self) -> None:
        """Count the active jobs that ended: finished, or cancelled (their rows have left the batch)."""
        with self._cond:
            still = []
            for job in self._active:
                if job.finished.is_set():
                    self.counts["done"] += 1
                elif job.cancelled.is_set():
                    self.counts["cancelled"] += 1
                    job.finished.set()
                else:
                    still.append(job)
            self._active = still
            self._running = len(still)

    def _fail_active(self, message: str) -> None:
        self._reap()
        with self._cond:
            for job in self._active:
                job.fail(message)
                self.counts["failed"] += 1
            self._active, self._running = [], 0

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                model = self._pending[0].model
                deadline = time.monotonic() + self.batch_window
                while (not self._stopping and self._pending and time.monotonic() < deadline
                       and sum(j.params.n for j in self._pending if j.model == model) < self.max_batch):
                    self._cond.wait(max(0.0, deadline - time.monotonic()))
                if self._stopping:
                    return
            reasoner = self.reasoners[model]
            try:
                if reasoner.backend is not None:
                    for job in self._take(model, self.max_batch, limit=1):
                        self._run_llama(reasoner, job)
                else:
                    self._run_torch(reasoner, model)
            except Exception as err:  # noqa: BLE001 — one bad batch fails its requests, not the server
                log.exception("generation failed")
                self._fail_active(f"{type(err).__name__}: {err}")
            self._fail_active("the server stopped before the request finished" if self._stopping
                              else "generation ended before the request finished")

    def _run_torch(self, reasoner: Reasoner, model: str) -> None:
        import torch

        jobs = self._take(model, self.max_batch)
        if not jobs:  # those waiting were cancelled
            return
        batch = _TorchBatch(reasoner)
        with torch.inference_mode():
            if self.prefix_cache and model not in self._prefixes:
                self._prefixes[model] = _Prefix.of(reasoner)
            batch.prefix = self._prefixes.get(model)
            self._join(batch, jobs)
            self.counts["batches"] += 1
            while batch.rows and not self._stopping:
                self.counts["tokens"] += batch.rows
                batch.step()
                self.counts["steps"] += 1
                self._reap()
                room = self.max_batch - batch.rows
                if batch.rows and room > 0 and batch.joinable and self._pending:
                    self._join(batch, self._take(model, room))

    def _join(self, batch: _TorchBatch, jobs: list[Job]) -> None:
        if jobs:
            if batch.add(jobs, batch.prefix):
                self.counts["prefix_prefills"] += len(jobs)
            self.counts["largest_batch"] = max(self.counts["largest_batch"], batch.rows)

    def _run_llama(self, reasoner: Reasoner, job: Job) -> None:
        """One request on llama.cpp: its choices one after the other, token by token."""
        backend, p = reasoner.backend, job.params
        sampling = ({"temp": 0.0, "top_k": 1, "top_p": 1.0, "repeat_penalty": 1.0} if p.greedy
                    else {"temp": p.temperature, "top_p": p.top_p, "top_k": 0, "repeat_penalty": 1.0})
        self.counts["batches"] += 1
        self.counts["largest_batch"] = max(self.counts["largest_batch"], 1)
        eos = frozenset(int(t) for t in backend.eos)
        for c in range(p.n):
            seq = _Sequence(job, c, backend.tokenizer, eos, reasoner.prompt_format.tools)
            if not p.greedy:
                backend.llm.set_seed(seq.seed)
            stream = backend.llm.generate(job.prompt_ids, **sampling)
            done = False
            while not done and not job.cancelled.is_set() and not self._stopping:
                token = next(stream, None)
                done = seq.finish("length") if token is None else seq.feed(token)
                self.counts["steps"] += 1
                self.counts["tokens"] += 1
                if seq.forced and not done:  # the call's result goes in as text the model reads next
                    while seq.forced and not done and not job.cancelled.is_set():
                        done = seq.feed(seq.forced.pop(0))
                        self.counts["tokens"] += 1
                    stream = backend.llm.generate(job.prompt_ids + seq.ids, **sampling)
            if not done:
                break
        self._reap()
