"""The evaluation harness every domain shares: prompt (zero- or few-shot), generate, cut, verify, score.

:func:`evaluate` measures one model in one prompt format on a list of items and returns an
:class:`~srmzoo.eval.results.EvalReport`; :func:`verify_completion` is the verifier call that RFT reuses.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..backends.hf import GenerationStats, generate
from ..domain import Domain, Example, Verdict, vote_keys
from ..errors import SrmzooError
from ..prompting import PLAIN_CHAT_TEMPLATE, PromptFormat
from .budget import budget_curve, check_budgets
from .results import EvalReport
from .stats import family_scores, majority_vote, sampling_scores, wilson_interval

log = logging.getLogger(__name__)


def few_shot_examples(
    domain: Domain, k: int, *, seed: int = 0, exclude: Iterable[Example] = ()
) -> list[Example]:
    """``k`` worked examples from the domain's train split, none of them among ``exclude``.

    Always the train split, so a few-shot prompt never shows an evaluated item (an item counts as shown
    when its id or its question matches); deterministic in (domain, k, seed).

    >>> from srmzoo.domain import get_domain
    >>> [e.id for e in few_shot_examples(get_domain("math"), 2)]
    ['math/train/arithmetic/00000', 'math/train/fractions/00000']
    """
    if k <= 0:
        return []
    excluded = list(exclude)
    ids, questions = {e.id for e in excluded}, {e.question for e in excluded}
    pool = domain.examples("train", k, seed=seed)
    chosen = [e for e in pool if e.id not in ids and e.question not in questions]
    if len(chosen) < k and excluded:  # evaluating on train: draw past the evaluated items
        pool = domain.examples("train", k + len(excluded), seed=seed)
        chosen = [e for e in pool if e.id not in ids and e.question not in questions]
    if len(chosen) < k:
        raise SrmzooError(
            f"the {domain.name} train split has only {len(chosen)} examples to show as few-shot turns, need {k}",
            hint="lower few_shot (--few-shot)",
        )
    return chosen[:k]


def few_shot_format(
    prompt_format: PromptFormat, domain: Domain, k: int, *, seed: int = 0, exclude: Iterable[Example] = ()
) -> PromptFormat:
    """``prompt_format`` with ``k`` worked train examples (question → full solution) as prior turns.

    >>> from srmzoo.domain import get_domain
    >>> plain = PromptFormat(chat_template=PLAIN_CHAT_TEMPLATE, system_prompt="Box the answer.")
    >>> fmt = few_shot_format(plain, get_domain("math"), 2)
    >>> [m["role"] for m in fmt.messages("What is 2 + 2?")]
    ['system', 'user', 'assistant', 'user', 'assistant', 'user']
    """
    shots = few_shot_examples(domain, k, seed=seed, exclude=exclude)
    return prompt_format.with_few_shot([(e.question, e.solution) for e in shots])


# A pretrained base in the plain format goes on to invent the next "Question:" after answering; generation
# stops a sequence there (and end_of_answer cuts it off), instead of running to max_new_tokens.
PLAIN_FORMAT_STOPS = ("\nQuestion:",)


def end_of_answer(completion: str, prompt_format: PromptFormat) -> str:
    """Cut a plain-format completion where the model starts inventing the next question.

    Chat models end their turn with an end-of-turn token that generation stops at; a pretrained base in
    the plain format often goes on with ``Question: ...`` and a boxed answer to its own question, which
    the verifier would otherwise take as its final answer.
    """
    if prompt_format.chat_template == PLAIN_CHAT_TEMPLATE:
        cut = completion.find("\nQuestion:")
        if cut >= 0:
            return completion[:cut]
    return completion


def check_count(label: str, value: Any, *, minimum: int) -> None:
    """Refuse ``value`` unless it is an integer (not a bool) of at least ``minimum``, naming ``label``.

    >>> check_count("n", 0, minimum=1)
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: n must be a positive integer, got 0
      hint: e.g. n=3
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive" if minimum == 1 else "a non-negative"
        raise SrmzooError(
            f"{label} must be {kind} integer, got {value!r}", hint=f"e.g. {label}={max(minimum, 3)}"
        )


def verify_completion(
    domain: Domain, completion: str, example: Example
) -> tuple[Verdict, str | None, str | None, bool]:
    """(verdict, verifier's prediction, extracted answer for voting, whether the verifier raised)."""
    try:
        check = domain.check(completion, example)
        answer = domain.extract_answer(completion)
    except Exception as err:  # noqa: BLE001 — one bad completion must not lose a whole evaluation
        log.warning(
            "verifier of %s raised on item %s: %s: %s", domain.name, example.id, type(err).__name__, err
        )
        return Verdict.UNVERIFIABLE, None, None, True
    return check.verdict, check.predicted, answer, False


def evaluate(
    model: Any, tokenizer: Any, prompt_format: PromptFormat, domain: Domain, examples: Sequence[Example], *,
    max_new_tokens: int, batch_size: int, samples: int = 1, temperature: float = 0.7, seed: int = 0,
    progress: bool = True, model_label: str = "model", prompting: str = "", budgets: Sequence[int] = (),
    generator: Any = None,
) -> EvalReport:
    """Generate on every example, verify every completion with the domain's checker, and score.

    Args:
        model: a causal LM (a base, or a PEFT model).
        tokenizer: its tokenizer (with a pad token).
        prompt_format: how each question is put to the model.
        domain: supplies the verifier (:meth:`Domain.check`) and the answer extractor for voting.
        examples: the items, in a fixed order.
        max_new_tokens: generation budget per completion.
        batch_size: sequences generated at once (with ``samples = k``: ``batch_size // k`` prompts).
        samples: 1 decodes greedily; k > 1 samples k completions per item at ``temperature``.
        temperature: sampling temperature (unused when greedy).
        seed: seeds sampling, so a run repeats.
        progress: show a progress bar with ETA and tokens/s.
        model_label, prompting: names recorded in the report.
        budgets: reasoning budgets in tokens (greedy only): the report's ``budget`` curve, each budget's
            accuracy when the reasoning is cut there and the answer forced (:mod:`srmzoo.eval.budget`).
        generator: completes the prompts instead of torch generation on ``model``: an object whose
            ``generate`` takes :func:`srmzoo.backends.hf.generate`'s keywords (e.g.
            :class:`srmzoo.backends.llamacpp.LlamaCppBatchGenerator` on a GGUF); ``model`` may then be None.

    Returns:
        An :class:`EvalReport` with per-item records.

    Raises:
        SrmzooError: no examples, or ``samples``, ``max_new_tokens`` or ``batch_size`` below 1.

    >>> from srmzoo.domain import get_domain
    >>> fmt = PromptFormat(chat_template=PLAIN_CHAT_TEMPLATE)
    >>> evaluate(None, None, fmt, get_domain("math"), [], max_new_tokens=64, batch_size=8)
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: no examples to evaluate
      hint: ask for n >= 1 items
    """
    _check_settings(examples, samples=samples, max_new_tokens=max_new_tokens, batch_size=batch_size)
    if budgets:
        if generator is not None:
            raise SrmzooError("the budget curve is measured with torch generation only",
                              hint="drop the budgets, or evaluate with the torch backend")
        budgets = check_budgets(budgets, max_new_tokens, domain.answer_cue, domain.name, samples=samples)
    started = time.perf_counter()
    prompts = [prompt_format.render(tokenizer, prompt_format.messages(ex.question)) for ex in examples]
    stats = GenerationStats()
    outputs = _generate_completions(
        model, tokenizer, prompt_format, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size,
        samples=samples, temperature=temperature, seed=seed, progress=progress, stats=stats, generator=generator,
    )
    scored = [_score_item(domain, tokenizer, prompt_format, ex, completions, sampling=samples > 1)
              for ex, completions in zip(examples, outputs, strict=True)]
    if samples > 1:
        _add_select_scores(domain, examples, [s.record for s in scored], samples)
    budget = None
    if budgets:
        budget = _budget_curve(model, tokenizer, prompt_format, domain, examples, prompts, scored,
                               max_new_tokens=max_new_tokens, budgets=budgets, batch_size=batch_size)
    report = _report(scored, examples, stats, model_label=model_label, prompting=prompting, samples=samples,
                     temperature=temperature, tools=prompt_format.tools, budget=budget)
    report.wall_seconds = time.perf_counter() - started
    return report


def _check_settings(examples: Sequence[Example], *, samples: int, max_new_tokens: int, batch_size: int) -> None:
    if not examples:
        raise SrmzooError("no examples to evaluate", hint="ask for n >= 1 items")
    for label, value in (
        ("samples", samples),
        ("max_new_tokens", max_new_tokens),
        ("batch_size", batch_size),
    ):
        check_count(label, value, minimum=1)


def _generate_completions(
    model: Any,
    tokenizer: Any,
    prompt_format: PromptFormat,
    prompts: Sequence[str],
    *,
    max_new_tokens: int,
    batch_size: int,
    samples: int,
    temperature: float,
    seed: int,
    progress: bool,
    stats: GenerationStats,
    generator: Any = None,
) -> list[list[str]]:
    """``samples`` completions per prompt: greedy for one, else sampled at ``temperature`` from ``seed``."""
    sampling = samples > 1
    stops = PLAIN_FORMAT_STOPS if prompt_format.chat_template == PLAIN_CHAT_TEMPLATE else None
    if generator is not None:
        outputs = generator.generate(
            prompts, max_new_tokens=max_new_tokens, batch_size=batch_size, do_sample=sampling,
            temperature=temperature, num_return_sequences=samples, seed=seed, progress=progress, stats=stats,
            stop_strings=stops, tools=prompt_format.tools,
        )
    else:
        if sampling:
            import torch

            torch.manual_seed(seed)  # seeds every device; generation samples with torch alone
        outputs = generate(
            model, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=max(1, batch_size // samples),
            do_sample=sampling, temperature=temperature, num_return_sequences=samples, progress=progress,
            stats=stats, stop_strings=stops, tools=prompt_format.tools,
        )
    if len(outputs) != len(prompts) or any(len(o) != samples for o in outputs):
        raise RuntimeError(
            f"generation returned {[len(o) for o in outputs]} completions, expected {samples} each"
        )
    return outputs


@dataclass
class _ScoredItem:
    """One item's record for the samples file, with the verdicts the report counts."""

    record: dict[str, Any]
    verdicts: list[Verdict]
    vote: Verdict | None  # the majority-voted answer's verdict; None when greedy
    verifier_errors: int


def _score_item(
    domain: Domain,
    tokenizer: Any,
    prompt_format: PromptFormat,
    example: Example,
    completions: Sequence[str],
    *,
    sampling: bool,
) -> _ScoredItem:
    """Cut and verify each completion of one item; sampled, also the vote and what each sample cost."""
    completions = [end_of_answer(c, prompt_format) for c in completions]
    checked = [verify_completion(domain, completion, example) for completion in completions]
    verdicts = [verdict for verdict, _, _, _ in checked]
    answers = [answer for _, _, answer, _ in checked]
    record: dict[str, Any] = {
        "id": example.id,
        "family": example.family,
        "question": example.question,
        "gold": example.answer,
        "verdict": verdicts[0].value,
        "completions": completions,
        "predicted": [predicted for _, predicted, _, _ in checked],
        "verdicts": [v.value for v in verdicts],
    }
    vote = None
    if sampling:  # what a scaling curve needs: the answers that vote, and what each sample cost
        record["answers"] = answers
        record["vote_keys"] = keys = vote_keys(domain, answers, example)
        record["new_tokens"] = [len(ids) for ids in tokenizer(completions, add_special_tokens=False)["input_ids"]]
        winner = majority_vote(keys)
        vote = verdicts[winner] if winner is not None else Verdict.UNVERIFIABLE
        record["vote"] = {
            "answer": answers[winner] if winner is not None else None,
            "verdict": vote.value,
        }
    return _ScoredItem(record, verdicts, vote, sum(failed for _, _, _, failed in checked))


def _add_select_scores(
    domain: Domain, examples: Sequence[Example], records: Sequence[dict[str, Any]], samples: int
) -> None:
    """Gold-free scores for best-of-N on each record, where the domain can rank samples on its own."""
    flat = [c for r in records for c in r["completions"]]
    scores = domain.select_scores(flat, [ex for ex in examples for _ in range(samples)])
    if any(x is not None for x in scores):
        for i, r in enumerate(records):
            r["select_scores"] = scores[i * samples : (i + 1) * samples]


def _budget_curve(
    model: Any,
    tokenizer: Any,
    prompt_format: PromptFormat,
    domain: Domain,
    examples: Sequence[Example],
    prompts: Sequence[str],
    scored: Sequence[_ScoredItem],
    *,
    max_new_tokens: int,
    budgets: Sequence[int],
    batch_size: int,
) -> dict[str, Any]:
    """The accuracy-vs-budget curve of the greedy completions, judged by the same verifier."""

    def right(text: str, i: int) -> bool:
        return verify_completion(domain, end_of_answer(text, prompt_format), examples[i])[0] is Verdict.CORRECT

    completions = [s.record["completions"][0] for s in scored]
    return budget_curve(model, tokenizer, prompts, completions, max_new_tokens, budgets, domain.answer_cue, right,
                        batch_size=batch_size)


def _report(
    scored: Sequence[_ScoredItem],
    examples: Sequence[Example],
    stats: GenerationStats,
    *,
    model_label: str,
    prompting: str,
    samples: int,
    temperature: float,
    tools: Sequence[str],
    budget: dict[str, Any] | None,
) -> EvalReport:
    """Counts, the Wilson interval and per-family scores of the first completions; sampled, pass@k and vote."""
    n = len(examples)
    first = [s.verdicts[0] for s in scored]
    counts = Counter(first)
    correct = counts[Verdict.CORRECT]
    low, high = wilson_interval(correct, n)
    sampled: dict[str, float] = {}
    if samples > 1:
        correct_samples = [sum(v is Verdict.CORRECT for v in s.verdicts) for s in scored]
        sampled = sampling_scores(correct_samples, [s.vote for s in scored], samples)
    return EvalReport(
        model=model_label,
        prompting=prompting,
        n=n,
        accuracy=correct / n,
        ci_low=low,
        ci_high=high,
        correct=correct,
        wrong=counts[Verdict.WRONG],
        unverifiable=counts[Verdict.UNVERIFIABLE],
        families=family_scores([ex.family for ex in examples], first),
        samples=samples,
        temperature=temperature if samples > 1 else None,
        verifier_errors=sum(s.verifier_errors for s in scored),
        tools=list(tools),
        tool_calls=stats.tool_calls,
        tool_failures=stats.tool_failures,
        new_tokens=stats.new_tokens,
        tokens_per_second=stats.tokens_per_second,
        generation_seconds=stats.seconds,
        budget=budget,
        records=[s.record for s in scored],
        **sampled,
    )
