"""A ready reasoner: base + adapter + the prompt format it was trained with + its domain's verifier.

>>> from srmzoo import load                                   # doctest: +SKIP
>>> m = load("math-135m")                                     # doctest: +SKIP
>>> s = m.solve("A shirt costs $40 and is 25% off. What do you pay?")   # doctest: +SKIP
>>> s.answer, m.check(s.answer, "30").correct                  # doctest: +SKIP
('30', True)

:func:`load` resolves a name in this order: an explicit path (an adapter or run directory), the local zoo
store (``srmzoo train`` installs there), the Hub (the entry's published repo at its pinned commit, or an
``org/name`` repo id given directly), else one error that says how to obtain the entry.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .artifacts import is_adapter_dir
from .domain import Check, Domain, Example, vote_keys
from .errors import SrmzooError
from .eval.scaling import best_of_n
from .prompting import PromptFormat
from .user_data import adapter_domain

__all__ = ["Reasoner", "Solution", "load"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Solution:
    """A reasoner's answer to one problem.

    Attributes:
        problem: the problem as asked.
        completion: the model's whole output (reasoning, then the final answer).
        answer: the final answer the domain's extractor parsed from it (None: it gave none).
        completions: every sampled completion when solved with ``samples > 1`` (the answer is their
            majority vote); just ``[completion]`` otherwise.
        disclaimer: for healthcare, the research-only statement, which every caller should show.
    """

    problem: str
    completion: str
    answer: str | None
    completions: tuple[str, ...] = ()
    disclaimer: str | None = None

    @property
    def reasoning(self) -> str:
        r"""The completion before its final-answer line (``The answer is \boxed{...}``)."""
        text = self.completion.rstrip()
        cut = text.rfind("\n")
        return text[:cut].rstrip() if cut >= 0 and "\\boxed{" in text[cut:] else text


@dataclass
class Reasoner:
    """A loaded zoo entry. Build it with :func:`load`.

    Attributes:
        name: the entry name (or the adapter directory's name).
        model: the PEFT model (LoRA attached; merged into the base when loaded with ``merge=True``).
        tokenizer: the base's tokenizer.
        prompt_format: the chat template + system prompt the adapter was trained with.
        domain: the domain plug-in (generators, answer extractor, verifier).
        meta: the adapter's ``srmzoo_adapter.json`` (entry, base identity, LoRA, training).
        source: where it was loaded from (``path``, ``store`` or ``hub``) and its location/revision.
        backend: None for torch generation, else the generator that completes prompts instead
            (:class:`srmzoo.backends.llamacpp.LlamaCppGenerator` for ``load(..., backend="llama.cpp")``).
    """

    name: str
    model: Any
    tokenizer: Any
    prompt_format: PromptFormat
    domain: Domain
    meta: dict[str, Any]
    source: dict[str, Any] = field(default_factory=dict)
    backend: Any = None

    @property
    def disclaimer(self) -> str | None:
        """The domain's statement of what its outputs must not be used for (healthcare: research and
        education only, not clinical decisions), else None."""
        return self.domain.disclaimer

    def __repr__(self) -> str:
        base = self.meta.get("base", {}).get("name", "?")
        where = self.source.get("kind", "?")
        note = f", {self.disclaimer!r}" if self.disclaimer else ""
        return f"Reasoner({self.name!r}, domain={self.domain.name!r}, base={base!r}, from={where}{note})"

    def prompt(self, problem: str) -> str:
        """The exact text the model sees for ``problem``."""
        return self.prompt_format.render(self.tokenizer, self.prompt_format.messages(problem))

    def generate(
        self,
        problems: str | list[str],
        *,
        max_new_tokens: int = 256,
        batch_size: int = 16,
        do_sample: bool = False,
        temperature: float = 0.7,
        num_return_sequences: int = 1,
        progress: bool = False,
        tools: bool = True,
    ) -> list[list[str]]:
        """Completions for one or many problems (greedy by default): per problem, a list of
        ``num_return_sequences`` completions. An entry trained with tools (``prompt_format.tools``) has its
        tool calls answered unless ``tools=False``."""
        from .backends.hf import generate

        if isinstance(problems, str):
            problems = [problems]
        if self.backend is not None:
            return self.backend.generate(
                [self.prompt(p) for p in problems], max_new_tokens=max_new_tokens, do_sample=do_sample,
                temperature=temperature, num_return_sequences=num_return_sequences,
                tools=self.prompt_format.tools if tools else (),
            )
        return generate(
            self.model,
            self.tokenizer,
            [self.prompt(p) for p in problems],
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            do_sample=do_sample,
            temperature=temperature,
            num_return_sequences=num_return_sequences,
            progress=progress,
            tools=self.prompt_format.tools if tools else (),
        )

    def chat(self, message: str, *, max_new_tokens: int = 256) -> str:
        """One greedy reply to a free-form message, through the entry's prompt format."""
        return self.generate(message, max_new_tokens=max_new_tokens)[0][0]

    def solve(
        self,
        problem: str | Example,
        *,
        samples: int = 1,
        temperature: float = 0.7,
        max_new_tokens: int = 256,
        tools: bool = True,
        select: bool = True,
        budget: int | None = None,
    ) -> Solution:
        """Reason about ``problem`` and parse the final answer.

        With ``samples > 1`` it samples that many completions and answers by majority vote over their
        parsed answers (self-consistency); the returned ``completion`` is one that gave that answer. Where the
        domain can rank samples without knowing the answer (:meth:`~srmzoo.domain.Domain.select_scores`,
        e.g. code run against the example calls its question shows) and ``select`` is on, the vote is among
        the samples it ranks highest (best-of-N). An entry trained with tools calls them (e.g.
        ``<<70 - 56>> = 14``: the reasoner wrote ``14``) unless ``tools=False``.

        With a reasoning ``budget`` (tokens), the reasoning stops there and a completion that has not
        answered yet is made to (budget forcing, :mod:`srmzoo.eval.budget`: the domain's answer cue, then a few
        greedy tokens).

        Args:
            problem: the question, or an :class:`~srmzoo.domain.Example` (its question is asked, and a
                selector may use its family and metadata).
        """
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
            raise SrmzooError(f"samples must be a positive integer, got {samples!r}", hint="e.g. samples=5")
        example = problem if isinstance(problem, Example) else None
        question = example.question if example is not None else str(problem)
        if budget is not None:
            from .eval.budget import check_budgets

            check_budgets([budget], budget, self.domain.answer_cue, self.domain.name)
            max_new_tokens = budget
        outs = self.generate(
            question,
            max_new_tokens=max_new_tokens,
            do_sample=samples > 1,
            temperature=temperature,
            num_return_sequences=samples,
            tools=tools,
        )[0]
        if budget is not None:
            outs = self._force_unanswered(question, outs)
        answers = [self.domain.extract_answer(o) for o in outs]
        scores = None
        if samples > 1 and select:
            item = example or Example(id="solve", family="", question=question, answer="", solution="")
            scores = self.domain.select_scores(outs, [item] * len(outs))
        chosen_at = best_of_n(vote_keys(self.domain, answers, example or Example("solve", "", question, "", "")), scores)
        answer = answers[chosen_at] if chosen_at is not None else None
        chosen = outs[chosen_at] if chosen_at is not None else outs[0]
        return Solution(question, chosen, answer, tuple(outs), self.disclaimer)

    def _force_unanswered(self, question: str, outs: list[str]) -> list[str]:
        """Completions that stopped without an answer (out of budget), continued with the answer cue."""
        from .eval.budget import force_answers

        pending = [i for i, o in enumerate(outs) if self.domain.extract_answer(o) is None]
        forced, _ = force_answers(self.model, self.tokenizer, [self.prompt(question)] * len(pending),
                                  [outs[i] for i in pending], self.domain.answer_cue)
        outs = list(outs)
        for i, text in zip(pending, forced, strict=True):
            outs[i] = text
        return outs

    def check(
        self, answer: str | None, gold: str | Example, *, family: str = "", meta: dict[str, Any] | None = None
    ) -> Check:
        """Verify a final answer against the truth with the domain's verifier.

        Args:
            answer: a final answer (as :meth:`solve` parses it), or a whole completion.
            gold: the true answer in the domain's canonical form, or an :class:`~srmzoo.domain.Example`.
            family: the problem family, for domains whose check depends on it.
            meta: what the domain's check needs beyond the answer (tolerances, unit tests).
        """
        if isinstance(gold, Example):
            example = gold
        else:
            example = Example(id="check", family=family, question="", answer=str(gold), solution="", meta=meta or {})
        if answer is None:
            return self.domain.check("", example)
        text = answer if self.domain.extract_answer(answer) is not None else self.domain.answer_completion(answer)
        return self.domain.check(text, example)


def _adapter_location(
    name: str | os.PathLike,
    revision: str | None,
    *,
    token: str | None,
    endpoint: str | None,
    cache_dir: str | os.PathLike | None,
) -> tuple[Path, dict[str, Any]]:
    """Find the adapter directory for ``name`` (see the module docstring for the order)."""
    from .registry import entries
    from .store import find_adapter, store_dir

    text = str(name)
    path = Path(text).expanduser()
    if path.exists():
        return find_adapter(path), {"kind": "path", "location": str(path)}
    known = entries()
    entry = known.get(text)
    if revision is None and is_adapter_dir(store_dir() / text):
        return store_dir() / text, {"kind": "store", "location": str(store_dir() / text)}
    repo = None
    if entry is not None and entry.hub_revision is not None:
        repo, revision = entry.hub_repo, revision or entry.hub_revision
    elif entry is None and text.count("/") == 1 and not text.startswith((".", "/", "~")):
        repo = text  # an org/name Hub repo id
    if repo is not None:
        from .publish.hub import pull

        local = pull(repo, revision, token=token, endpoint=endpoint, cache_dir=cache_dir)
        return local, {"kind": "hub", "repo": repo, "revision": revision, "location": str(local)}
    if entry is not None:
        raise SrmzooError(
            f"zoo entry {text!r} is not in the local store ({store_dir()}) and has no published adapter",
            hint=entry.how_to_obtain(),
        )
    from .errors import UnknownNameError

    raise UnknownNameError(
        "zoo entry",
        text,
        known,
        hint="see `srmzoo list` for the entries; or pass an adapter directory or an org/name Hub repo",
    )


def load(
    name: str | os.PathLike,
    revision: str | None = None,
    quantize: str | None = None,
    device: str | None = None,
    *,
    merge: bool = False,
    allow_base_mismatch: bool = False,
    base_path: str | os.PathLike | None = None,
    token: str | None = None,
    endpoint: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    backend: str = "torch",
    gguf_quantization: str = "f16",
) -> Reasoner:
    """A ready reasoner for a zoo entry, an adapter directory, or a Hub repo.

    Args:
        name: an entry name (``srmzoo list``), an adapter or run directory, or an ``org/name`` Hub repo.
        revision: a Hub branch, tag or commit; default: the commit the entry was published at (or main
            for a bare repo id). Given for an entry, the Hub is asked even if the store has a copy.
        quantize: ``"nf4"`` or ``"int8"`` to load the base quantized (bitsandbytes; a GPU).
        device: ``cpu`` or ``cuda``; default: cuda when available.
        merge: fold the LoRA into the base weights: the same outputs, faster generation.
        allow_base_mismatch: load even if the base's sha256 differs from the one the adapter recorded.
        base_path: load the base from this local directory instead of its recorded origin.
        token, endpoint, cache_dir: Hub access (default: huggingface_hub's usual token, endpoint, cache).
        backend: ``"torch"`` (default) or ``"llama.cpp"``: generate with llama.cpp on the entry's GGUF
            export (made once and cached; :mod:`srmzoo.backends.llamacpp`), several times faster at batch 1
            on a CPU. Needs llama-cpp-python (``pip install -e ".[llama]"``).
        gguf_quantization: the export's weights for the llama.cpp backend: ``f16`` (default), ``q8_0``
            (smaller, faster, a little less exact) or ``f32``.

    Raises:
        SrmzooError: an unknown name (with the closest names), an entry that is neither trained here nor
            published (saying how to train it), a corrupted adapter or download, or a base mismatch.
    """
    from .artifacts import load_adapter

    if backend not in ("torch", "llama.cpp"):
        raise SrmzooError(f"unknown backend {backend!r}", hint="use 'torch' (default) or 'llama.cpp'")
    if backend == "llama.cpp":
        from .backends.llamacpp import import_llama_cpp

        import_llama_cpp()  # a missing package fails now, not after the model loads
    adapter_dir, source = _adapter_location(name, revision, token=token, endpoint=endpoint, cache_dir=cache_dir)
    model, tokenizer, fmt, meta = load_adapter(
        adapter_dir,
        device=device,
        allow_base_mismatch=allow_base_mismatch,
        base_path=base_path,
        quantize=quantize,
        merge=merge,
    )
    reasoner = Reasoner(
        name=meta.get("entry") or adapter_dir.name,
        model=model,
        tokenizer=tokenizer,
        prompt_format=fmt,
        domain=adapter_domain(meta),
        meta=meta,
        source=source,
    )
    if backend == "llama.cpp":
        from .backends.llamacpp import LlamaCppGenerator
        from .publish.export import gguf_for

        reasoner.backend = LlamaCppGenerator(gguf_for(adapter_dir, gguf_quantization, base_path=base_path), tokenizer)
    if reasoner.disclaimer:
        log.warning("%s: %s", reasoner.name, reasoner.disclaimer)
    return reasoner
