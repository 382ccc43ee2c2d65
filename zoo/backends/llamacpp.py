"""Generation through llama.cpp on an entry's GGUF export: the reasoner's fast path on a CPU at batch 1.

``srmzoo.load(entry, backend="llama.cpp")`` exports the merged entry once (:func:`srmzoo.publish.export.gguf_for`,
cached under ``$SRMZOO_CACHE/gguf/<entry>-<adapter sha>-<quantization>/``) and generates with
llama-cpp-python (``pip install -e ".[llama]"``; it builds llama.cpp from source). A 135M model in fp32
torch is memory-bound at batch 1 on a small CPU; llama.cpp reads half (f16) or a quarter (q8_0) of the
bytes (``bench/llama_cpp_speed.py``: 4.3x and 5.4x transformers' tokens/s here).

The decoding loop is srmzoo's, token by token, so tool calls work exactly as in torch generation: the
vocabulary is the same, :class:`srmzoo.tools.ToolCaller` answers a call when it closes, and the result's
tokens are fed to llama.cpp (which keeps the evaluated prefix) before sampling goes on.

:class:`LlamaCppSampler` draws several samples of one prompt together (distillation's k samples per
question): the prompt is evaluated once, and each step decodes one token of every live sequence in one
llama.cpp batch, so the weights are read once per step for all of them (``bench/distill_throughput.py``).
:class:`LlamaCppBatchGenerator` does the same for many different prompts (an evaluation's items): each
prompt gets a sequence of its own, and a sequence that ends hands its slot to the next prompt at once
(continuous batching), so a long answer never holds the short ones back.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SrmzooError
from ..tools import ToolCaller

__all__ = ["LlamaCppBatchGenerator", "LlamaCppGenerator", "LlamaCppSampler", "Sampled", "import_llama_cpp"]

log = logging.getLogger(__name__)


def import_llama_cpp():
    try:
        import llama_cpp
    except ImportError:
        raise SrmzooError("backend 'llama.cpp' needs llama-cpp-python, which is not installed",
                          hint='pip install -e ".[llama]" (it builds llama.cpp from source: cmake and a C++ '
                          "compiler), or use the default torch backend") from None
    return llama_cpp


class LlamaCppGenerator:
    """Completes rendered prompts with llama.cpp, one sequence at a time, answering tool calls.

    Args:
        gguf: the model file (an entry's export: its vocabulary is the tokenizer's).
        tokenizer: the entry's tokenizer (same vocabulary), used to read calls and write results.
        threads: CPU threads (default: torch's thread count, so both backends compare alike).
        n_ctx: context length llama.cpp allocates.
    """

    def __init__(self, gguf: Path, tokenizer: Any, *, threads: int | None = None, n_ctx: int = 2048):
        llama_cpp = import_llama_cpp()
        if threads is None:
            import torch

            threads = torch.get_num_threads()
        self.gguf = Path(gguf)
        self.tokenizer = tokenizer
        self.llm = llama_cpp.Llama(model_path=str(gguf), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                                   verbose=False, seed=0)
        self.eos = {t for t in (self.llm.token_eos(), tokenizer.eos_token_id) if t is not None and t >= 0}

    def __repr__(self) -> str:
        return f"LlamaCppGenerator({self.gguf.name!r})"

    def _one(self, prompt_ids: list[int], max_new_tokens: int, sampling: dict[str, Any],
             caller: ToolCaller | None) -> list[int]:
        new: list[int] = []
        stream = self.llm.generate(prompt_ids, **sampling)
        while len(new) < max_new_tokens:
            token = next(stream)
            if token in self.eos:
                break
            new.append(token)
            forced = caller.after(new) if caller is not None else []
            if forced:  # the call's result goes in as text the model reads next, then sampling resumes
                new += forced[: max_new_tokens - len(new)]
                stream = self.llm.generate(prompt_ids + new, **sampling)
        return new

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int = 256, do_sample: bool = False,
                 temperature: float = 0.7, top_p: float = 1.0, num_return_sequences: int = 1,
                 tools: Sequence[str] = (), seed: int = 0) -> list[list[str]]:
        """Per prompt, ``num_return_sequences`` completions (greedy unless ``do_sample``)."""
        if num_return_sequences > 1 and not do_sample:
            raise ValueError("num_return_sequences > 1 needs do_sample=True (greedy completions would be identical)")
        sampling = ({"temp": temperature, "top_p": top_p, "top_k": 0, "repeat_penalty": 1.0} if do_sample
                    else {"temp": 0.0, "top_k": 1, "top_p": 1.0, "repeat_penalty": 1.0})
        caller = ToolCaller(self.tokenizer, tools) if tools else None
        results: list[list[str]] = []
        for p, prompt in enumerate(prompts):
            prompt_ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
            outs = []
            for s in range(num_return_sequences):
                if do_sample:
                    self.llm.set_seed(seed + 1000 * p + s)
                outs.append(self.tokenizer.decode(self._one(prompt_ids, max_new_tokens, sampling, caller),
                                                  skip_special_tokens=True))
            results.append(outs)
        return results


@dataclass(frozen=True)
class Sampled:
    """One sampled completion: its text, how many tokens it took (tool results included, the end token not)
    and whether it ended on its own (an end-of-turn token or a stop string) rather than at the budget."""

    text: str
    new_tokens: int
    finished: bool


class LlamaCppSampler:
    """Samples of one prompt decoded together: the k sequences share one llama.cpp batch per step.

    The prompt is evaluated once into KV cells that every sequence shares (a token may belong to several
    sequences); then each step puts the next token of every live sequence into one batch and one
    ``llama_decode``, so at batch sizes a CPU is memory-bound at, k tokens cost little more than one.
    Each sample draws from its own sampler (temperature, then top-p, then a draw seeded by its own seed),
    and each call starts from an empty cache: what a sample is depends on its seed, the prompt and the
    grouping (``parallel``) alone, never on what was decoded before. Tool calls are answered as in
    :class:`LlamaCppGenerator`: the result's tokens are fed to that sequence, one per step, in place of a
    sampled token (they count towards the budget).

    Args:
        gguf: the model file.
        tokenizer: a tokenizer with the GGUF's vocabulary (to tokenize prompts, read calls, decode).
        parallel: sequences decoded together; more samples than this go in groups of ``parallel``.
        n_ctx: KV cells shared by all sequences: the prompt once, plus each live sequence's new tokens.
        threads: CPU threads (default: torch's thread count).
        n_batch: prompt tokens evaluated per ``llama_decode``.
    """

    def __init__(self, gguf: Path, tokenizer: Any, *, parallel: int, n_ctx: int, threads: int | None = None,
                 n_batch: int = 512):
        if parallel < 1:
            raise ValueError(f"parallel must be at least 1, got {parallel}")
        self.gguf, self.tokenizer, self.parallel, self.n_ctx = Path(gguf), tokenizer, parallel, n_ctx
        self._lc, self.llm, threads = _load_model(gguf, threads)
        self.ctx = _new_context(self._lc, self.llm, n_ctx=n_ctx, n_batch=n_batch, n_seq=parallel, threads=threads)
        self.n_batch = n_batch
        self.batch = self._lc.llama_batch_init(max(n_batch, parallel), 0, parallel)
        self.vocab = self._lc.llama_model_get_vocab(self.llm.model)
        self.eos = {t for t in (tokenizer.eos_token_id,) if t is not None}

    def __repr__(self) -> str:
        return f"LlamaCppSampler({self.gguf.name!r}, parallel={self.parallel})"

    def close(self) -> None:
        """Free llama.cpp's context, batch and model (also done when the object is collected)."""
        if getattr(self, "ctx", None):
            self._lc.llama_batch_free(self.batch)
            self._lc.llama_free(self.ctx)
            self.ctx = None
            self.llm.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter exit llama_cpp may already be gone
            self.close()

    def _decode(self, items: Sequence[tuple[int, int, Sequence[int], bool]]) -> None:
        _decode(self._lc, self.ctx, self.batch, items)

    def _sampler(self, seed: int, temperature: float, top_p: float) -> Any:
        return _sampler_chain(self._lc, temperature, top_p, seed)

    def _ends(self, token: int) -> bool:
        return _is_end(self._lc, self.vocab, self.eos, token)

    def sample(self, prompt: str, seeds: Sequence[int], *, max_new_tokens: int, temperature: float = 0.7,
               top_p: float = 1.0, tools: Sequence[str] = (), stop_strings: Sequence[str] = ()) -> list[Sampled]:
        """One completion per seed of the rendered ``prompt``, ``parallel`` sequences at a time.

        ``temperature`` 0 decodes greedily (every seed then gives the same completion).
        """
        lc = self._lc
        prompt_ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if not prompt_ids:
            raise SrmzooError("an empty prompt cannot be sampled from", hint="render the question first")
        need = len(prompt_ids) + min(self.parallel, len(seeds)) * max_new_tokens
        if need > self.n_ctx:
            raise SrmzooError(f"a prompt of {len(prompt_ids)} tokens and {min(self.parallel, len(seeds))} x "
                              f"{max_new_tokens} new tokens need {need} KV cells, the context has {self.n_ctx}",
                              hint="make the sampler with a larger n_ctx, or lower parallel or max_new_tokens")
        caller = ToolCaller(self.tokenizer, tools) if tools else None
        longest_stop = max((len(s) for s in stop_strings), default=0)
        memory = lc.llama_get_memory(self.ctx)
        lc.llama_memory_clear(memory, True)
        group = min(self.parallel, len(seeds))
        n_prompt = len(prompt_ids)
        for start in range(0, n_prompt - 1, self.n_batch):  # all but the last token, once, for every sequence
            chunk = prompt_ids[start : min(start + self.n_batch, n_prompt - 1)]
            self._decode([(t, start + i, range(group), False) for i, t in enumerate(chunk)])
        results: list[Sampled] = []
        for first in range(0, len(seeds), group):
            wave = list(seeds[first : first + group])
            for seq in range(group):  # what the previous group generated goes; the shared prompt stays
                lc.llama_memory_seq_rm(memory, seq, n_prompt - 1, -1)
            self._decode([(prompt_ids[-1], n_prompt - 1, range(len(wave)), True)])
            samplers = [self._sampler(seed, temperature, top_p) for seed in wave]
            try:
                results += self._decode_group(samplers, n_prompt, max_new_tokens, caller, stop_strings, longest_stop)
            finally:
                for sampler in samplers:
                    lc.llama_sampler_free(sampler)
        return results

    def _decode_group(self, samplers: list[Any], n_prompt: int, max_new_tokens: int, caller: ToolCaller | None,
                      stop_strings: Sequence[str], longest_stop: int) -> list[Sampled]:
        lc = self._lc
        k = len(samplers)
        new: list[list[int]] = [[] for _ in range(k)]
        finished = [False] * k
        forced: dict[int, list[int]] = {}
        alive = list(range(k))
        rows = {seq: 0 for seq in alive}  # each live sequence's row of logits in the last batch
        while alive:
            step = []
            for seq in list(alive):
                if forced.get(seq):
                    token = forced[seq].pop(0)
                else:
                    token = lc.llama_sampler_sample(samplers[seq], self.ctx, rows[seq])
                if self._ends(token):
                    finished[seq] = True
                    alive.remove(seq)
                    continue
                new[seq].append(token)
                if longest_stop and not forced.get(seq):
                    tail = self.tokenizer.decode(new[seq][-longest_stop - 8 :], skip_special_tokens=True)
                    if any(stop in tail for stop in stop_strings):
                        finished[seq] = True
                if caller is not None and not finished[seq] and not forced.get(seq):
                    forced[seq] = caller.after(new[seq])
                if finished[seq] or len(new[seq]) >= max_new_tokens:
                    alive.remove(seq)
                    continue
                step.append((token, n_prompt + len(new[seq]) - 1, (seq,), True))
            if not step:
                break
            self._decode(step)
            rows = {item[2][0]: i for i, item in enumerate(step)}
        return [Sampled(self.tokenizer.decode(ids, skip_special_tokens=True), len(ids), done)
                for ids, done in zip(new, finished, strict=True)]


def _load_model(gguf: Path, threads: int | None) -> tuple[Any, Any, int]:
    """(llama_cpp, the loaded model, threads): threads default to torch's count. llama-cpp-python loads the
    model (and quiets llama.cpp's log); its own small one-sequence context stays unused."""
    lc = import_llama_cpp()
    if threads is None:
        import torch

        threads = torch.get_num_threads()
    llm = lc.Llama(model_path=str(gguf), n_ctx=16, n_batch=16, n_threads=threads, n_threads_batch=threads,
                   verbose=False)
    return lc, llm, threads


def _new_context(lc: Any, llm: Any, *, n_ctx: int, n_batch: int, n_seq: int, threads: int) -> Any:
    """A context of ``n_ctx`` KV cells in one cache that ``n_seq`` sequences share (so a prompt's cells can
    serve several, and a finished sequence's cells serve the next)."""
    params = lc.llama_context_default_params()
    params.n_ctx, params.n_batch, params.n_ubatch = n_ctx, n_batch, n_batch
    params.n_seq_max, params.kv_unified = n_seq, True
    params.n_threads = params.n_threads_batch = threads
    params.no_perf = True
    ctx = lc.llama_init_from_model(llm.model, params)
    if not ctx:
        raise SrmzooError(f"llama.cpp could not make a context of {n_ctx} cells for {n_seq} sequences",
                          hint="lower the parallel sequences or the token budget")
    return ctx


def _decode(lc: Any, ctx: Any, batch: Any, items: Sequence[tuple[int, int, Sequence[int], bool]]) -> None:
    """One ``llama_decode`` of ``(token, position, sequences, wants logits)`` items."""
    batch.n_tokens = len(items)
    for i, (token, pos, seqs, logits) in enumerate(items):
        batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = token, pos, len(seqs), logits
        for j, seq in enumerate(seqs):
            batch.seq_id[i][j] = seq
    code = lc.llama_decode(ctx, batch)
    if code != 0:
        raise SrmzooError(f"llama.cpp failed to decode a batch of {len(items)} tokens (code {code})",
                          hint="the KV cache may be full: lower the parallel sequences or the token budget")


def _is_end(lc: Any, vocab: Any, eos: set[int], token: int) -> bool:
    """The tokenizer's end token or any end-of-generation token of the GGUF's vocabulary."""
    return token in eos or bool(lc.llama_vocab_is_eog(vocab, token))


def _sampler_chain(lc: Any, temperature: float, top_p: float, seed: int) -> Any:
    """Greedy at ``temperature`` 0; else temperature, then top-p, then a draw seeded by ``seed``."""
    chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
    if temperature <= 0:
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_greedy())
        return chain
    lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_temp(temperature))
    if top_p < 1.0:
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_top_p(top_p, 1))
    lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_dist(seed & 0x7FFFFFFF))
    return chain


@dataclass
class _Slot:
    """One prompt's sequence in :class:`LlamaCppBatchGenerator`: what is cached, what is new, what comes next."""

    job: tuple[int, int]  # (prompt index, sample index)
    prompt: list[int]
    sampler: Any
    fed: int = 0  # prompt tokens already in the cache
    new: list[int] | None = None
    pending: int | None = None  # the last token taken, fed at the next step
    forced: list[int] | None = None

    def __post_init__(self) -> None:
        self.new, self.forced = [], []


class LlamaCppBatchGenerator:
    """Completes many prompts with llama.cpp, ``parallel`` sequences at a time, continuously batched.

    Each step is one ``llama_decode`` holding the next token of every live sequence plus, in the room left
    of ``n_batch``, prompt tokens of sequences that have just been admitted; a sequence that ends (an
    end-of-turn token, a stop string or the budget) frees its cells and its slot takes the next prompt.
    Greedy by default; sampled completions draw from their own seeded sampler (``seed + 1000 * prompt +
    sample``, as :class:`LlamaCppGenerator`), so a completion depends on its prompt and seed alone. Tool
    calls are answered as in :class:`LlamaCppGenerator`.

    Its :meth:`generate` takes :func:`srmzoo.backends.hf.generate`'s arguments (``batch_size`` aside), so
    :func:`srmzoo.eval.harness.evaluate` runs on it unchanged.

    Args:
        gguf: the model file.
        tokenizer: a tokenizer with the GGUF's vocabulary.
        parallel: sequences decoded together.
        threads: CPU threads (default: torch's thread count).
        n_batch: most tokens in one ``llama_decode``.
    """

    def __init__(self, gguf: Path, tokenizer: Any, *, parallel: int = 8, threads: int | None = None,
                 n_batch: int = 512):
        if parallel < 1:
            raise ValueError(f"parallel must be at least 1, got {parallel}")
        self.gguf, self.tokenizer, self.parallel = Path(gguf), tokenizer, parallel
        self._lc, self.llm, self.threads = _load_model(gguf, threads)
        lc = self._lc
        self.n_batch = max(n_batch, parallel)
        self.vocab = lc.llama_model_get_vocab(self.llm.model)
        self.eos = {t for t in (tokenizer.eos_token_id,) if t is not None}
        self.ctx, self.n_ctx = None, 0
        self.batch = lc.llama_batch_init(self.n_batch, 0, 1)

    def __repr__(self) -> str:
        return f"LlamaCppBatchGenerator({self.gguf.name!r}, parallel={self.parallel})"

    def close(self) -> None:
        """Free llama.cpp's context, batch and model (also done when the object is collected)."""
        if getattr(self, "batch", None) is not None:
            if self.ctx:
                self._lc.llama_free(self.ctx)
            self._lc.llama_batch_free(self.batch)
            self.ctx, self.batch = None, None
            self.llm.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def _context(self, cells: int) -> Any:
        """A context of at least ``cells`` KV cells, shared by all sequences (made again only to grow)."""
        if self.ctx and self.n_ctx >= cells:
            return self.ctx
        if self.ctx:
            self._lc.llama_free(self.ctx)
        self.ctx, self.n_ctx = None, 0
        self.ctx = _new_context(self._lc, self.llm, n_ctx=cells, n_batch=self.n_batch, n_seq=self.parallel,
                                threads=self.threads)
        self.n_ctx = cells
        return self.ctx


    def generate(self, prompts: Sequence[str], *, max_new_tokens: int = 256, do_sample: bool = False,
                 temperature: float = 0.7, top_p: float = 1.0, num_return_sequences: int = 1,
                 tools: Sequence[str] = (), seed: int = 0, stop_strings: Sequence[str] | None = None,
                 stats: Any = None, progress: bool = False, batch_size: int | None = None) -> list[list[str]]:
        """Per prompt, ``num_return_sequences`` completions (greedy unless ``do_sample``); a completion that
        meets one of ``stop_strings`` ends there, the stop string kept. ``stats`` (a
        :class:`~srmzoo.backends.hf.GenerationStats`) gets the counts; ``batch_size`` is ignored
        (``parallel`` is the batch)."""
        import time
        from collections import deque

        from tqdm.auto import tqdm

        del batch_size
        if num_return_sequences > 1 and not do_sample:
            raise ValueError("num_return_sequences > 1 needs do_sample=True (greedy completions would be identical)")
        lc = self._lc
        ids = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        if any(not i for i in ids):
            raise SrmzooError("an empty prompt cannot be completed", hint="render the question first")
        jobs = deque((p, s) for p in range(len(prompts)) for s in range(num_return_sequences))
        results: list[list[str]] = [[""] * num_return_sequences for _ in prompts]
        if not jobs:
            return results
        live_max = min(self.parallel, len(jobs))
        cells = live_max * (max(len(i) for i in ids) + max_new_tokens + 1)
        ctx = self._context(-(-cells // 256) * 256)
        memory = lc.llama_get_memory(ctx)
        lc.llama_memory_clear(memory, True)
        caller = ToolCaller(self.tokenizer, tools) if tools else None
        stops = tuple(stop_strings or ())
        longest_stop = max((len(s) for s in stops), default=0)
        free, slots = list(range(self.parallel)), {}
        started, new_tokens = time.perf_counter(), 0
        bar = tqdm(total=len(jobs), desc="generating", unit="completion", disable=not progress)
        try:
            while jobs or slots:
                while free and jobs:
                    p, s = jobs.popleft()
                    slots[free.pop(0)] = _Slot((p, s), ids[p], _sampler_chain(lc, temperature if do_sample else 0.0, top_p,
                                                                          seed + 1000 * p + s))
                items, rows = [], {}
                for seq, slot in slots.items():  # the next token of every sequence that is generating
                    if slot.pending is not None:
                        rows[seq] = len(items)
                        items.append((slot.pending, len(slot.prompt) + len(slot.new) - 1, (seq,), True))
                for seq, slot in slots.items():  # then prompt tokens, as many as the batch has room for
                    room = self.n_batch - len(items)
                    if slot.fed == len(slot.prompt) or room <= 0:
                        continue
                    chunk = slot.prompt[slot.fed : slot.fed + room]
                    items += [(t, slot.fed + i, (seq,), False) for i, t in enumerate(chunk)]
                    slot.fed += len(chunk)
                    if slot.fed == len(slot.prompt):
                        rows[seq] = len(items) - 1
                        items[-1] = items[-1][:3] + (True,)
                _decode(lc, ctx, self.batch, items)
                for seq, row in rows.items():
                    slot = slots[seq]
                    token = slot.forced.pop(0) if slot.forced else lc.llama_sampler_sample(slot.sampler, ctx, row)
                    done = _is_end(lc, self.vocab, self.eos, token)
                    if not done:
                        slot.new.append(token)
                        if longest_stop:
                            tail = self.tokenizer.decode(slot.new[-longest_stop - 8 :], skip_special_tokens=True)
                            done = any(stop in tail for stop in stops)
                        if caller is not None and not done and not slot.forced:
                            slot.forced = caller.after(slot.new)
                        done = done or len(slot.new) >= max_new_tokens
                    if done:
                        p, s = slot.job
                        results[p][s] = self.tokenizer.decode(slot.new, skip_special_tokens=True)
                        new_tokens += len(slot.new)
                        lc.llama_memory_seq_rm(memory, seq, -1, -1)
                        lc.llama_sampler_free(slot.sampler)
                        del slots[seq]
                        free.append(seq)
                        bar.update(1)
                        if progress:
                            bar.set_postfix(tok_s=f"{new_tokens / (time.perf_counter() - started):.0f}")
                    else:
                        slot.pending = token
        finally:
            for slot in slots.values():
                lc.llama_sampler_free(slot.sampler)
            bar.close()
        if stats is not None:
            stats.prompts += len(prompts)
            stats.new_tokens += new_tokens
            stats.seconds += time.perf_counter() - started
            if caller is not None:
                stats.tool_calls += caller.calls
                stats.tool_failures += caller.failed
        return results

