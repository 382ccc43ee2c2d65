"""The evaluation harness every domain shares: generate on held-out items, verify, score, compare.

One zoo entry is measured against its own base on **the same items**: the base zero-shot (with the
domain's system prompt), the base few-shot (worked examples from the train split), the adapter (with the
prompt format saved beside it) and any other bases named for comparison (few-shot). Each run writes

* ``results_<split>.json``: every model's :class:`EvalReport` side by side, plus the settings that
  reproduce it (split, n, item hash, seed, sampling, base identity, adapter sha256, versions, hardware
  and the exact ``srmzoo eval`` command);
* ``samples_<split>.jsonl``: one line per (model, item) with the question, gold answer, completions,
  predictions and verdicts, so every number can be audited.

Accuracy comes with a 95% Wilson interval: on a few hundred items a fine-tune's gain must clear it to
count. With ``samples > 1`` the report adds unbiased pass@k (Chen et al., 2021) and majority-vote accuracy.

Importing this module does not import torch.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import logging
import math
import os
import shlex
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

from .bases import load_base, resolve_base
from .budget import budget_curve, check_budgets, write_budget_plot
from .domain import Domain, Example, Verdict, get_domain, vote_keys
from .errors import SrmzooError
from .generation import GenerationStats, generate
from .prompting import PLAIN_CHAT_TEMPLATE, PromptFormat
from .recipe import EvalConfig, Recipe
from .scaling import scaling_curves, write_scaling_plot
from .store import find_adapter
from .training import ADAPTER_META_FILE, _hardware

__all__ = [
    "RESULTS_SCHEMA",
    "EvalReport",
    "FamilyScore",
    "LoadedAdapter",
    "eval_config_for",
    "evaluate",
    "few_shot_examples",
    "few_shot_format",
    "format_results_table",
    "load_adapter",
    "majority_vote",
    "pass_at_k",
    "read_adapter_meta",
    "run_eval",
    "wilson_interval",
]

log = logging.getLogger(__name__)

RESULTS_SCHEMA = "srmzoo.eval/1"
ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors"
ADAPTER_CONFIG_FILE = "adapter_config.json"
_DEFAULTS = EvalConfig()


# ------------------------------------------------------------------------------------------------ statistics


def wilson_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion (95% at the default ``z``).

    Unlike the normal approximation it stays inside [0, 1] and is not degenerate at 0/n or n/n, which is
    where small models on hard held-out sets live. With no items at all nothing is known: (0, 1).

    Args:
        correct: number of successes.
        n: number of trials.
        z: the normal quantile (1.96 for 95%).

    Raises:
        ValueError: when ``correct`` is not within ``[0, n]``.

    >>> [round(x, 4) for x in wilson_interval(5, 10)]
    [0.2366, 0.7634]
    >>> [round(x, 4) for x in wilson_interval(0, 10)]
    [0.0, 0.2775]
    """
    if n < 0 or not 0 <= correct <= n:
        raise ValueError(f"need 0 <= correct <= n, got correct={correct}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from ``n`` samples of which ``c`` are correct: ``1 - C(n-c, k) / C(n, k)``.

    The chance that at least one of ``k`` samples drawn without replacement from the ``n`` is correct
    (Chen et al., 2021, "Evaluating Large Language Models Trained on Code"). Computed exactly in integers.

    Raises:
        ValueError: unless ``0 <= c <= n`` and ``1 <= k <= n``.

    >>> pass_at_k(5, 1, 1)
    0.2
    >>> pass_at_k(5, 2, 2)
    0.7
    >>> pass_at_k(4, 3, 2)  # fewer than k wrong samples: every draw holds a correct one
    1.0
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return float(1 - Fraction(math.comb(n - c, k), math.comb(n, k)))


def majority_vote(answers: Sequence[str | None]) -> int | None:
    """Index of the first answer of the most frequent kind, or None when no sample gave an answer.

    Answers are compared with all whitespace removed (``"1 / 2"`` votes with ``"1/2"``); samples without
    an answer do not vote; ties go to the answer that occurs first.

    >>> majority_vote(["3", None, " 4", "4 ", "3"])  # 3 and 4 tie twice each; 3 came first
    0
    >>> majority_vote(["7", "1/2", "1 / 2"])
    1
    >>> majority_vote([None, None]) is None
    True
    """
    keys = ["".join(a.split()) if a is not None else None for a in answers]
    counts = Counter(k for k in keys if k is not None)
    if not counts:
        return None
    best = max(counts.values())
    return next(i for i, k in enumerate(keys) if k is not None and counts[k] == best)


# --------------------------------------------------------------------------------------------------- reports


@dataclass
class FamilyScore:
    """Accuracy on one data family (first completion per item)."""

    n: int
    correct: int
    accuracy: float
    ci_low: float
    ci_high: float


@dataclass
class EvalReport:
    """One model's results on one set of items.

    Attributes:
        model: what was evaluated (a base name, or ``<entry> (adapter)``).
        prompting: ``zero-shot``, ``few-shot (k=3)`` or ``adapter``.
        n: items evaluated.
        accuracy: share of items whose greedy completion (with ``samples > 1``: first sample) is correct.
        ci_low, ci_high: 95% Wilson interval of ``accuracy``.
        correct, wrong, unverifiable: verdict counts of those completions.
        families: per-family breakdown of the same.
        samples: completions per item; 1 is greedy decoding.
        pass_at_1: with ``samples > 1``, the mean share of correct samples (unbiased pass@1).
        pass_at_k: with ``samples > 1``, unbiased pass@k for k = ``samples``.
        majority_accuracy: with ``samples > 1``, accuracy of the majority-voted answer.
        verifier_errors: completions whose verifier raised (counted as unverifiable, and logged).
        tools: tools whose calls generation answered (empty: none).
        tool_calls, tool_failures: calls answered, and those the tool could not answer (``?``).
        new_tokens, tokens_per_second, generation_seconds: generation throughput.
        wall_seconds: the whole evaluation, verification included.
        budget: with reasoning budgets (greedy only), accuracy at each budget with budget forcing and
            without (:func:`srmzoo.budget.budget_curve`); None otherwise.
        records: per-item records (id, family, question, gold, completions, predicted, verdicts).
    """

    model: str
    prompting: str
    n: int
    accuracy: float
    ci_low: float
    ci_high: float
    correct: int
    wrong: int
    unverifiable: int
    families: dict[str, FamilyScore]
    samples: int = 1
    temperature: float | None = None
    pass_at_1: float | None = None
    pass_at_k: float | None = None
    majority_accuracy: float | None = None
    majority_ci_low: float | None = None
    majority_ci_high: float | None = None
    verifier_errors: int = 0
    tools: list[str] = field(default_factory=list)
    tool_calls: int = 0
    tool_failures: int = 0
    new_tokens: int = 0
    tokens_per_second: float = 0.0
    generation_seconds: float = 0.0
    wall_seconds: float = 0.0
    budget: dict[str, Any] | None = None
    records: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def to_dict(self, *, records: bool = False) -> dict[str, Any]:
        """The report as JSON-ready data; per-item records only when asked (they go to the samples file)."""
        data = asdict(self)
        if not records:
            data.pop("records")
        return data


# ----------------------------------------------------------------------------------------------- adapters


class LoadedAdapter(NamedTuple):
    """A base with its LoRA adapter attached: unpacks as ``model, tokenizer, prompt_format, meta``."""

    model: Any
    tokenizer: Any
    prompt_format: PromptFormat
    meta: dict[str, Any]


def read_adapter_meta(adapter_dir: str | Path) -> dict[str, Any]:
    """The ``srmzoo_adapter.json`` of an adapter directory, checked for the fields evaluation needs.

    Raises:
        SrmzooError: when the file is missing, not JSON, or lacks the domain or the base identity.

    >>> read_adapter_meta("/no/such/adapter")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: /no/such/adapter is not an srmzoo adapter: srmzoo_adapter.json is missing
      hint: pass the adapter directory written by `srmzoo train` (or its entry name in the local store)
    """
    path = Path(adapter_dir) / ADAPTER_META_FILE
    if not path.is_file():
        raise SrmzooError(
            f"{adapter_dir} is not an srmzoo adapter: {ADAPTER_META_FILE} is missing",
            hint="pass the adapter directory written by `srmzoo train` (or its entry name in the local store)",
        )
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise SrmzooError(
            f"corrupted adapter metadata {path}: {err}", hint="re-download or retrain the adapter"
        ) from None
    base = meta.get("base") if isinstance(meta, dict) else None
    if not isinstance(base, dict) or not base.get("name") or not meta.get("domain"):
        raise SrmzooError(
            f"adapter metadata {path} lacks its domain or base identity (keys 'domain', 'base.name')",
            hint="re-download or retrain the adapter",
        )
    return meta


def _check_adapter_files(adapter_dir: Path) -> None:
    """Fail before the (slow) base load when the PEFT files are missing or damaged."""
    from safetensors import safe_open

    config = adapter_dir / ADAPTER_CONFIG_FILE
    weights = adapter_dir / ADAPTER_WEIGHTS_FILE
    fix = "re-download or retrain the adapter"
    for path in (config, weights):
        if not path.is_file():
            raise SrmzooError(f"adapter {adapter_dir} is incomplete: {path.name} is missing", hint=fix)
    try:
        json.loads(config.read_text())
    except (OSError, ValueError) as err:
        raise SrmzooError(f"corrupted adapter config {config}: {err}", hint=fix) from None
    try:
        with safe_open(str(weights), "pt") as f:  # reads and checks the header: truncation shows here
            if not list(f.keys()):
                raise SrmzooError(f"adapter weights {weights} hold no tensors", hint=fix)
    except SrmzooError:
        raise
    except Exception as err:  # noqa: BLE001 — safetensors' error type is not importable by a stable name
        raise SrmzooError(f"corrupted adapter weights {weights}: {err}", hint=fix) from None


def _base_source(identity: dict[str, Any], base_path: str | os.PathLike | None) -> dict[str, Any]:
    """``load_base`` arguments that reload the base an adapter recorded (its origin says where it was)."""
    if base_path is not None:
        return {"path": base_path}
    origin = str(identity.get("origin", ""))
    kind, _, where = origin.partition(":")
    if kind in ("dir", "file"):
        if not Path(where).exists():
            raise SrmzooError(
                f"the adapter's base {identity['name']!r} was loaded from {where}, which no longer exists",
                hint="pass the base's weights explicitly (load_adapter(..., base_path=...) / --base-path)",
            )
        return {"path": where}
    if kind == "hub":
        return {"revision": identity.get("revision")}
    return {}  # an offline package or the cache: the registry name finds it


def load_adapter(
    adapter_dir: str | Path,
    *,
    device: str | None = None,
    allow_base_mismatch: bool = False,
    base_path: str | os.PathLike | None = None,
    quantize: str | None = None,
    merge: bool = False,
) -> LoadedAdapter:
    """Load an adapter onto the exact base it was trained on.

    The base named in ``srmzoo_adapter.json`` is loaded with :func:`srmzoo.bases.load_base` (fp32 on a
    CPU, bf16 on a GPU) from where training found it, its identity sha256 is compared with the one the
    adapter recorded, and the LoRA weights are attached with ``PeftModel.from_pretrained``.

    Args:
        adapter_dir: a directory written by ``srmzoo train`` (PEFT files + srmzoo metadata).
        device: ``cpu`` or ``cuda``; default: cuda when available.
        allow_base_mismatch: load even when the base's sha256 differs from the recorded one (logged).
        base_path: load the base from this local source instead of the recorded origin.
        quantize: load the base quantized (``"nf4"`` or ``"int8"``, bitsandbytes); the LoRA stays unmerged.
        merge: fold the LoRA weights into the base (``merge_and_unload``): the same function, with no
            adapter matmuls per token, so generation runs at the base's speed. Ignored when quantized.

    Returns:
        ``(model, tokenizer, prompt_format, meta)``: the PEFT model in eval mode, the base's tokenizer,
        the prompt format the adapter was trained with, and the adapter's metadata.

    Raises:
        SrmzooError: missing or corrupted files, or a base whose sha256 differs from the recorded one.

    >>> load_adapter("/no/such/adapter")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: /no/such/adapter is not an srmzoo adapter: srmzoo_adapter.json is missing
      hint: pass the adapter directory written by `srmzoo train` (or its entry name in the local store)
    """
    adapter_dir = Path(adapter_dir)
    meta = read_adapter_meta(adapter_dir)
    prompt_format = PromptFormat.load(adapter_dir)
    _check_adapter_files(adapter_dir)
    recorded = meta["base"]
    base = load_base(recorded["name"], device=device, quantize=quantize, **_base_source(recorded, base_path))
    want, got = recorded.get("sha256"), base.identity.get("sha256")
    if want != got:
        message = (
            f"adapter {adapter_dir} was trained on base {recorded['name']!r} with sha256 {want}, "
            f"but the base loaded from {base.resolved.path} has sha256 {got}"
        )
        if not allow_base_mismatch:
            del base
            _release_memory()
            raise SrmzooError(
                message,
                hint="load the base it was trained on (base_path= / --base-path), or accept the difference "
                "with allow_base_mismatch=True (--allow-base-mismatch)",
            )
        log.warning("%s; loading anyway (allow_base_mismatch)", message)
    from peft import PeftModel

    try:
        model = PeftModel.from_pretrained(base.model, str(adapter_dir), is_trainable=False)
    except Exception as err:  # noqa: BLE001 — peft raises anything from KeyError to RuntimeError here
        del base
        _release_memory()
        raise SrmzooError(
            f"cannot attach adapter {adapter_dir} to base {recorded['name']!r}: {type(err).__name__}: {err}",
            hint="the adapter does not fit this base; re-download or retrain it",
        ) from None
    if merge and not quantize:
        model = model.merge_and_unload()
    model.eval()
    return LoadedAdapter(model, base.tokenizer, prompt_format, meta)


def merge_for_generation(model: Any) -> bool:
    """Fold a PEFT model's LoRA weights into its base layers in place (``merge_adapter``); returns whether it did.

    The merged model computes the same function (up to float rounding) without the adapter's extra
    matmuls per token, which roughly doubles CPU generation speed for a 135M model. Quantized bases are
    left unmerged (merging into 4-bit weights would round them). ``unmerge_adapter`` undoes it.
    """
    if not hasattr(model, "merge_adapter") or getattr(model, "is_loaded_in_4bit", False) or getattr(
        model, "is_loaded_in_8bit", False
    ):
        return False
    model.merge_adapter()
    return True


def eval_config_for(adapter_dir: str | Path) -> EvalConfig:
    """The ``eval`` section of the recipe an adapter was trained with, else the defaults.

    The local store keeps ``recipe.yaml`` beside the adapter; a run directory keeps it one level up.

    >>> eval_config_for("/no/such/adapter").n
    300
    """
    import yaml

    adapter_dir = Path(adapter_dir)
    for path in (adapter_dir / "recipe.yaml", adapter_dir.parent / "recipe.yaml"):
        if path.is_file():
            try:
                return Recipe.from_dict(yaml.safe_load(path.read_text()), source=str(path)).eval
            except yaml.YAMLError as err:
                raise SrmzooError(f"{path}: not valid YAML: {err}") from None
    return EvalConfig()


# ---------------------------------------------------------------------------------------------- prompting


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
# stops a sequence there (and _end_of_answer cuts it off), instead of running to max_new_tokens.
PLAIN_FORMAT_STOPS = ("\nQuestion:",)


def _end_of_answer(completion: str, prompt_format: PromptFormat) -> str:
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


# ---------------------------------------------------------------------------------------------- evaluation


def _check_count(label: str, value: Any, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive" if minimum == 1 else "a non-negative"
        raise SrmzooError(
            f"{label} must be {kind} integer, got {value!r}", hint=f"e.g. {label}={max(minimum, 3)}"
        )


def _verify(
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
    model: Any,
    tokenizer: Any,
    prompt_format: PromptFormat,
    domain: Domain,
    examples: Sequence[Example],
    *,
    max_new_tokens: int,
    batch_size: int,
    samples: int = 1,
    temperature: float = 0.7,
    seed: int = 0,
    progress: bool = True,
    model_label: str = "model",
    prompting: str = "",
    budgets: Sequence[int] = (),
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
            accuracy when the reasoning is cut there and the answer forced (:mod:`srmzoo.budget`).

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
    if not examples:
        raise SrmzooError("no examples to evaluate", hint="ask for n >= 1 items")
    for label, value in (
        ("samples", samples),
        ("max_new_tokens", max_new_tokens),
        ("batch_size", batch_size),
    ):
        _check_count(label, value, minimum=1)
    sampling = samples > 1
    if budgets:
        budgets = check_budgets(budgets, max_new_tokens, domain.answer_cue, domain.name, samples=samples)
    started = time.perf_counter()
    prompts = [prompt_format.render(tokenizer, prompt_format.messages(ex.question)) for ex in examples]
    if sampling:
        import torch

        torch.manual_seed(seed)  # seeds every device; generation samples with torch alone
    stats = GenerationStats()
    outputs = generate(
        model,
        tokenizer,
        prompts,
        max_new_tokens=max_new_tokens,
        batch_size=max(1, batch_size // samples),
        do_sample=sampling,
        temperature=temperature,
        num_return_sequences=samples,
        progress=progress,
        stats=stats,
        stop_strings=PLAIN_FORMAT_STOPS if prompt_format.chat_template == PLAIN_CHAT_TEMPLATE else None,
        tools=prompt_format.tools,
    )
    if len(outputs) != len(examples) or any(len(o) != samples for o in outputs):
        raise RuntimeError(
            f"generation returned {[len(o) for o in outputs]} completions, expected {samples} each"
        )

    records: list[dict[str, Any]] = []
    first: list[Verdict] = []
    voted: list[Verdict] = []
    correct_samples: list[int] = []
    verifier_errors = 0
    for ex, completions in zip(examples, outputs, strict=True):
        completions = [_end_of_answer(c, prompt_format) for c in completions]
        verdicts, predicted, answers = [], [], []
        for completion in completions:
            verdict, pred, answer, failed = _verify(domain, completion, ex)
            verdicts.append(verdict)
            predicted.append(pred)
            answers.append(answer)
            verifier_errors += failed
        first.append(verdicts[0])
        correct_samples.append(sum(v is Verdict.CORRECT for v in verdicts))
        record: dict[str, Any] = {
            "id": ex.id,
            "family": ex.family,
            "question": ex.question,
            "gold": ex.answer,
            "verdict": verdicts[0].value,
            "completions": completions,
            "predicted": predicted,
            "verdicts": [v.value for v in verdicts],
        }
        if sampling:  # what a scaling curve needs: the answers that vote, and what each sample cost
            record["answers"] = answers
            record["vote_keys"] = keys = vote_keys(domain, answers, ex)
            record["new_tokens"] = [len(ids) for ids in tokenizer(completions, add_special_tokens=False)["input_ids"]]
            winner = majority_vote(keys)
            vote = verdicts[winner] if winner is not None else Verdict.UNVERIFIABLE
            voted.append(vote)
            record["vote"] = {
                "answer": answers[winner] if winner is not None else None,
                "verdict": vote.value,
            }
        records.append(record)

    if sampling:  # gold-free scores for best-of-N, where the domain can rank samples on its own
        flat = [c for r in records for c in r["completions"]]
        scores = domain.select_scores(flat, [ex for ex in examples for _ in range(samples)])
        if any(x is not None for x in scores):
            for i, r in enumerate(records):
                r["select_scores"] = scores[i * samples : (i + 1) * samples]
    budget = None
    if budgets:
        def right(text: str, i: int) -> bool:
            return _verify(domain, _end_of_answer(text, prompt_format), examples[i])[0] is Verdict.CORRECT

        budget = budget_curve(model, tokenizer, prompts, [r["completions"][0] for r in records], max_new_tokens,
                              budgets, domain.answer_cue, right, batch_size=batch_size)
    n = len(examples)
    counts = Counter(first)
    correct = counts[Verdict.CORRECT]
    low, high = wilson_interval(correct, n)
    families: dict[str, FamilyScore] = {}
    for fam in dict.fromkeys(ex.family for ex in examples):
        hits = [v for ex, v in zip(examples, first, strict=True) if ex.family == fam]
        fam_correct = sum(v is Verdict.CORRECT for v in hits)
        families[fam] = FamilyScore(
            len(hits), fam_correct, fam_correct / len(hits), *wilson_interval(fam_correct, len(hits))
        )
    report = EvalReport(
        model=model_label,
        prompting=prompting,
        n=n,
        accuracy=correct / n,
        ci_low=low,
        ci_high=high,
        correct=correct,
        wrong=counts[Verdict.WRONG],
        unverifiable=counts[Verdict.UNVERIFIABLE],
        families=families,
        samples=samples,
        temperature=temperature if sampling else None,
        verifier_errors=verifier_errors,
        tools=list(prompt_format.tools),
        tool_calls=stats.tool_calls,
        tool_failures=stats.tool_failures,
        new_tokens=stats.new_tokens,
        tokens_per_second=stats.tokens_per_second,
        generation_seconds=stats.seconds,
        budget=budget,
        records=records,
    )
    if sampling:
        vote_correct = sum(v is Verdict.CORRECT for v in voted)
        report.pass_at_1 = sum(c / samples for c in correct_samples) / n
        report.pass_at_k = sum(pass_at_k(samples, c, samples) for c in correct_samples) / n
        report.majority_accuracy = vote_correct / n
        report.majority_ci_low, report.majority_ci_high = wilson_interval(vote_correct, n)
    report.wall_seconds = time.perf_counter() - started
    return report


# ------------------------------------------------------------------------------------------------- run_eval


def _release_memory() -> None:
    """Return a dropped model's memory before the next one loads (callers ``del`` their references first)."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _items_digest(examples: Sequence[Example]) -> tuple[str, str]:
    """(sha256 of the item ids, sha256 of ids + questions + gold answers): which items, and what they said."""
    ids = hashlib.sha256("\n".join(e.id for e in examples).encode()).hexdigest()
    content = hashlib.sha256(
        json.dumps([[e.id, e.question, e.answer] for e in examples], ensure_ascii=False).encode()
    ).hexdigest()
    return ids, content


def _reproduce_command(target: str, settings: dict[str, Any]) -> str:
    """The ``srmzoo eval`` command line that repeats a run with these settings."""
    argv = ["srmzoo", "eval", target]
    for flag, key in (
        ("--split", "split"),
        ("--n", "n_requested"),
        ("--seed", "seed"),
        ("--few-shot", "few_shot"),
        ("--max-new-tokens", "max_new_tokens"),
        ("--batch-size", "batch_size"),
        ("--samples", "samples"),
    ):
        argv += [flag, str(settings[key])]
    if settings["samples"] > 1:
        argv += ["--temperature", str(settings["temperature"])]
    if settings.get("budgets"):
        argv += ["--budgets", ",".join(map(str, settings["budgets"]))]
    argv += ["--compare", *settings["compare"]]  # bare: none (the recipe's default would add some)
    argv += ["--compare-adapter", *(a["name"] for a in settings.get("compare_adapters", []))]
    if settings["base_path"]:
        argv += ["--base-path", settings["base_path"]]
    if not settings["include_base"]:
        argv.append("--no-base")
    if not settings.get("tool_ablation", True):
        argv.append("--no-tool-ablation")
    if settings["allow_base_mismatch"]:
        argv.append("--allow-base-mismatch")
    return shlex.join(argv)


def _read_partial(path: Path, key: str) -> tuple[dict[tuple[str, str], EvalReport], dict[str, Any]]:
    """The rows an interrupted :func:`run_eval` finished (and the compared bases' identities), if it ran on
    the same adapter, items and settings."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}, {}
    if data.get("key") != key:
        return {}, {}
    finished = {}
    for row in data.get("reports", []):
        row = dict(row)
        row["families"] = {k: FamilyScore(**v) for k, v in row["families"].items()}
        report = EvalReport(**row)
        finished[report.model, report.prompting] = report
    return finished, data.get("compare_bases", {})


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def paired_bootstrap(a: Sequence[bool], b: Sequence[bool], *, resamples: int = 10_000, seed: int = 0
                     ) -> tuple[float, float, float]:
    """Accuracy difference ``mean(a) - mean(b)`` on the same items, with a 95% paired bootstrap interval.

    Resampling items (not the two models separately) keeps the pairing, so the interval is much tighter
    than two independent Wilson intervals suggest when both models solve mostly the same items.

    >>> diff, low, high = paired_bootstrap([True] * 30 + [False] * 70, [True] * 20 + [False] * 80)
    >>> round(diff, 2), low > 0, high < 0.2
    (0.1, True, True)
    """
    import numpy as np

    if len(a) != len(b) or not a:
        raise ValueError("paired_bootstrap needs two equally long, non-empty verdict lists")
    delta = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    means = delta[rng.integers(0, len(delta), size=(resamples, len(delta)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(delta.mean()), float(low), float(high)


def paired_differences(reports: Sequence[EvalReport], adapter_label: str, *, seed: int = 0) -> list[dict[str, Any]]:
    """The adapter's row compared item by item with every other row (first completion per item)."""
    mine = next((r for r in reports if r.model == adapter_label and r.prompting == "adapter"), None)
    if mine is None or not mine.records:
        return []
    correct = lambda rep: {rec["id"]: rec["verdicts"][0] == Verdict.CORRECT.value for rec in rep.records}  # noqa: E731
    ours = correct(mine)
    out = []
    for other in reports:
        if other is mine or not other.records:
            continue
        theirs = correct(other)
        ids = [i for i in ours if i in theirs]
        if not ids:
            continue
        diff, low, high = paired_bootstrap([ours[i] for i in ids], [theirs[i] for i in ids], seed=seed)
        out.append({
            "model": other.model, "prompting": other.prompting, "n": len(ids),
            "difference": round(diff, 4), "ci_low": round(low, 4), "ci_high": round(high, 4),
            "only_adapter_correct": sum(ours[i] and not theirs[i] for i in ids),
            "only_other_correct": sum(theirs[i] and not ours[i] for i in ids),
        })
    return out


def format_results_table(results: dict[str, Any]) -> str:
    """The side-by-side table of a :func:`run_eval` result: model, prompting, accuracy, 95% CI, n.

    >>> row = {"model": "smollm2-135m-instruct", "prompting": "zero-shot", "accuracy": 0.25, "ci_low": 0.1,
    ...        "ci_high": 0.47, "n": 20, "samples": 1, "tokens_per_second": 150.0}
    >>> print(format_results_table({"reports": [row]}))
    model                  prompting  accuracy  95% CI        n   tok/s
    ---------------------  ---------  --------  ------------  --  -----
    smollm2-135m-instruct  zero-shot  25.0%     [10.0, 47.0]  20  150
    """
    reports = results["reports"]
    sampled = any(r.get("samples", 1) > 1 for r in reports)
    header = ["model", "prompting", "accuracy", "95% CI", "n"]
    if sampled:
        header += ["pass@1", "pass@k", "majority"]
    header.append("tok/s")
    pct = lambda x: "-" if x is None else f"{100 * x:.1f}%"  # noqa: E731
    rows = []
    for r in reports:
        row = [
            r["model"],
            r["prompting"],
            pct(r["accuracy"]),
            f"[{100 * r['ci_low']:.1f}, {100 * r['ci_high']:.1f}]",
            str(r["n"]),
        ]
        if sampled:
            row += [pct(r.get("pass_at_1")), pct(r.get("pass_at_k")), pct(r.get("majority_accuracy"))]
        row.append(f"{r['tokens_per_second']:.0f}")
        rows.append(row)
    widths = [max(len(x[i]) for x in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def run_eval(
    target: str | Path,
    *,
    split: str = "test",
    n: int = _DEFAULTS.n,
    samples: int = 1,
    temperature: float = 0.7,
    few_shot: int = _DEFAULTS.few_shot,
    max_new_tokens: int = _DEFAULTS.max_new_tokens,
    batch_size: int = _DEFAULTS.batch_size,
    compare: Sequence[str] = (),
    compare_adapters: Sequence[str] = (),
    out_dir: str | Path | None = None,
    include_base: bool = True,
    seed: int = 0,
    device: str | None = None,
    allow_base_mismatch: bool = False,
    base_path: str | os.PathLike | None = None,
    progress: bool = True,
    budgets: Sequence[int] = (),
    tool_ablation: bool = True,
) -> dict[str, Any]:
    """Evaluate an adapter against its base (zero- and few-shot) and other bases, on the same items.

    Models are evaluated one at a time, each freed before the next loads: the base zero-shot and the
    base few-shot (the adapter switched off, so the base's weights are the very ones under the adapter),
    the adapter with its saved prompt format (an adapter trained with tools: with them, then again without,
    doing its own arithmetic), each ``compare_adapters`` adapter with its own prompt format (e.g. the SFT
    adapter an RFT entry started from), then each ``compare`` base few-shot. The adapter is compared item
    by item with every other row (a paired bootstrap interval of the difference). Writes
    ``results_<split>.json`` and ``samples_<split>.jsonl`` and prints the side-by-side table.

    Args:
        target: an adapter directory, a run directory, or an entry name in the local store.
        split: ``test`` (held out) or ``ood`` (out of distribution); ``train`` works for diagnostics.
        n: items drawn from the split (deterministic in ``seed``).
        samples: completions per item; k > 1 adds pass@k and majority vote.
        temperature: sampling temperature when ``samples > 1``.
        few_shot: worked train examples in the bases' few-shot prompts; 0 skips the few-shot rows.
        max_new_tokens: generation budget per completion.
        batch_size: sequences generated at once.
        compare: other bases (names from ``srmzoo bases``) evaluated few-shot on the same items.
        compare_adapters: other adapters (entry names or directories) on the same base and domain,
            evaluated with their own prompt formats on the same items.
        out_dir: where the files go; default: ``<adapter dir>/eval``.
        include_base: evaluate the adapter's own base too.
        seed: seeds the item draw, the few-shot draw and sampling.
        device: ``cpu`` or ``cuda``; default: cuda when available.
        allow_base_mismatch: see :func:`load_adapter`.
        base_path: see :func:`load_adapter`.
        progress: progress bars with ETA, and the table printed at the end.
        budgets: reasoning budgets in tokens (greedy): every row also gets its accuracy-vs-budget curve with
            budget forcing (:mod:`srmzoo.budget`); written to ``results_<split>_budget.json`` and
            ``budget_<split>.png``, leaving the plain greedy results alone.
        tool_ablation: for an adapter with tools, also evaluate it without them (the ``adapter, no tools``
            row: what the tools are worth); off halves the cost of, e.g., a sampled test-time-scaling run.

    Returns:
        The results as written to ``results_<split>.json``, plus ``paths`` (the files written).

    Raises:
        SrmzooError: an unknown adapter, split or base, a corrupted adapter, a base mismatch, bad numbers.

    >>> run_eval("/no/such/adapter")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: no adapter for '/no/such/adapter': not a path with adapter_config.json, nor ...
    """
    from . import __version__

    started = time.perf_counter()
    adapter_dir = find_adapter(target)
    meta = read_adapter_meta(adapter_dir)
    domain = get_domain(meta["domain"])
    domain.check_split(split, benchmarks=True)
    for label, value, minimum in (
        ("n", n, 1),
        ("samples", samples, 1),
        ("max_new_tokens", max_new_tokens, 1),
        ("batch_size", batch_size, 1),
        ("few_shot", few_shot, 0),
        ("seed", seed, 0),
    ):
        _check_count(label, value, minimum=minimum)
    budgets = check_budgets(budgets, max_new_tokens, domain.answer_cue, domain.name, samples=samples) if budgets else []
    if samples > 1 and not temperature > 0:
        raise SrmzooError(
            f"sampling needs a temperature above 0, got {temperature}", hint="e.g. --temperature 0.7"
        )
    compare = tuple(compare)
    for name in compare:  # an unavailable base fails now, not after an hour of generation
        resolve_base(name)
    compare_adapters = tuple(compare_adapters)
    other_adapters = [find_adapter(name) for name in compare_adapters]
    for other in other_adapters:
        other_meta = read_adapter_meta(other)
        if other_meta["domain"] != meta["domain"]:
            raise SrmzooError(f"cannot compare {adapter_dir} ({meta['domain']}) with {other} "
                              f"({other_meta['domain']}) on the same items", hint="compare adapters of one domain")
    examples = domain.eval_examples(split, n, seed=seed)
    if not examples:
        raise SrmzooError(f"domain {domain.name!r} gave no {split} items", hint="check the domain's data")
    shots = few_shot_examples(domain, few_shot, seed=seed, exclude=examples)
    common = {
        "max_new_tokens": max_new_tokens,
        "batch_size": batch_size,
        "samples": samples,
        "temperature": temperature,
        "seed": seed,
        "progress": progress,
    }
    if budgets:
        common["budgets"] = budgets
    entry = meta.get("entry") or adapter_dir.name
    few_label = f"few-shot (k={few_shot})"
    compare_prompting = few_label if shots else "zero-shot"
    adapter_sha = _sha256_file(adapter_dir / ADAPTER_WEIGHTS_FILE)
    ids_sha, items_sha = _items_digest(examples)
    reports: list[EvalReport] = []
    out = Path(out_dir) if out_dir is not None else adapter_dir / "eval"
    # Each finished row is saved at once, so an interrupted hour-long evaluation resumes where it stopped
    # (same adapter, items and settings), and is deleted when the results file is written.
    # A sampled evaluation is named apart (results_test_k8.json): it never replaces the greedy one.
    stem = f"{split}_k{samples}" if samples > 1 else f"{split}_budget" if budgets else split
    partial_path = out / f".results_{stem}.partial.json"
    partial_key = hashlib.sha256(json.dumps(
        [adapter_sha, [ids_sha, items_sha], [e.id for e in shots], [_sha256_file(o / ADAPTER_WEIGHTS_FILE) for o in other_adapters],
         {k: v for k, v in common.items() if k != "progress"}, str(base_path), allow_base_mismatch],
    ).encode()).hexdigest()
    finished, finished_identities = _read_partial(partial_path, partial_key)
    compared: dict[str, Any] = {}
    resumed_seconds: list[float] = []

    def done(label: str, prompting: str) -> bool:
        return (label, prompting) in finished

    def run(model: Any, tokenizer: Any, fmt: PromptFormat, label: str, prompting: str) -> None:
        if done(label, prompting):
            log.info("resuming: %s, %s is already evaluated (%s)", label, prompting, partial_path)
            reports.append(finished[label, prompting])
            resumed_seconds.append(finished[label, prompting].wall_seconds)  # the time it took then counts too
            return
        log.info("evaluating %s, %s, on %d %s %s items", label, prompting, len(examples), domain.name, split)
        reports.append(
            evaluate(
                model, tokenizer, fmt, domain, examples, model_label=label, prompting=prompting, **common
            )
        )
        out.mkdir(parents=True, exist_ok=True)
        _write_atomic(partial_path, json.dumps(
            {"key": partial_key, "reports": [r.to_dict(records=True) for r in reports], "compare_bases": compared},
            ensure_ascii=False,
        ))

    model, tokenizer, adapter_format, meta = load_adapter(
        adapter_dir, device=device, allow_base_mismatch=allow_base_mismatch, base_path=base_path
    )
    base_name = meta["base"]["name"]
    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    if include_base:
        base_format = PromptFormat.for_tokenizer(tokenizer, system_prompt=domain.system_prompt or None)
        with model.disable_adapter():
            run(model, tokenizer, base_format, base_name, "zero-shot")
            if shots:
                run(
                    model,
                    tokenizer,
                    base_format.with_few_shot([(e.question, e.solution) for e in shots]),
                    base_name,
                    few_label,
                )
    merged = merge_for_generation(model)
    run(model, tokenizer, adapter_format, f"{entry} (adapter)", "adapter")
    if adapter_format.tools and tool_ablation:  # the same adapter doing its own arithmetic: the tools' worth
        run(model, tokenizer, replace(adapter_format, tools=()), f"{entry} (adapter)", "adapter, no tools")
    del model, tokenizer
    _release_memory()

    adapters_compared = []
    for name, other in zip(compare_adapters, other_adapters, strict=True):
        label = f"{read_adapter_meta(other).get('entry') or other.name} (adapter)"
        if label == f"{entry} (adapter)" or label in {a["label"] for a in adapters_compared}:
            label = f"{other} (adapter)"  # two copies of one entry: tell them apart by path
        adapters_compared.append({"name": str(name), "label": label, "path": str(other),
                                  "sha256": _sha256_file(other / ADAPTER_WEIGHTS_FILE)})
        if done(label, "adapter"):
            run(None, None, None, label, "adapter")
            continue
        other_model, other_tokenizer, other_format, _ = load_adapter(
            other, device=device, allow_base_mismatch=allow_base_mismatch, base_path=base_path
        )
        merge_for_generation(other_model)
        run(other_model, other_tokenizer, other_format, label, "adapter")
        del other_model, other_tokenizer
        _release_memory()

    for name in compare:
        spec_name = resolve_base(name).spec.name
        if done(spec_name, compare_prompting) and spec_name in finished_identities:
            compared[spec_name] = finished_identities[spec_name]
            run(None, None, None, spec_name, compare_prompting)
            continue
        base = load_base(name, device=device)
        compared[base.resolved.spec.name] = base.identity
        fmt = PromptFormat.for_tokenizer(base.tokenizer, system_prompt=domain.system_prompt or None)
        fmt = fmt.with_few_shot([(e.question, e.solution) for e in shots])
        run(base.model, base.tokenizer, fmt, base.resolved.spec.name, compare_prompting)
        del base
        _release_memory()

    settings: dict[str, Any] = {
        "split": split,
        "n_requested": n,
        "n": len(examples),
        "item_ids_sha256": ids_sha,
        "items_sha256": items_sha,
        "few_shot_ids": [e.id for e in shots],
        "seed": seed,
        "samples": samples,
        "temperature": temperature,
        "decoding": "sampling" if samples > 1 else "greedy",
        "budgets": budgets,
        "few_shot": few_shot,
        "max_new_tokens": max_new_tokens,
        "batch_size": batch_size,
        "compare": list(compare),
        "compare_adapters": adapters_compared,
        "include_base": include_base,
        "tool_ablation": tool_ablation,
        "allow_base_mismatch": allow_base_mismatch,
        "base_path": str(base_path) if base_path is not None else None,
        "dtype": dtype,
        "adapter_merged_for_generation": merged,
    }
    settings["command"] = _reproduce_command(str(target), settings)
    import torch
    import transformers

    results: dict[str, Any] = {
        "schema": RESULTS_SCHEMA,
        "entry": entry,
        "domain": domain.name,
        "domain_data_version": domain.data_version,
        "adapter": {
            "path": str(adapter_dir),
            "sha256": adapter_sha,
            "prompt_format": adapter_format.to_dict(),
        },
        "base": meta["base"],
        "compare_bases": compared,
        "settings": settings,
        "reports": [r.to_dict() for r in reports],
        "paired": paired_differences(reports, f"{entry} (adapter)", seed=seed),
        "scaling": scaling_curves(reports, seed=seed),
        "environment": {
            "srmzoo_version": __version__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "hardware": _hardware(),
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "wall_seconds": round(time.perf_counter() - started + sum(resumed_seconds), 2),
        },
    }
    out.mkdir(parents=True, exist_ok=True)
    results_path, samples_path = out / f"results_{stem}.json", out / f"samples_{stem}.jsonl"
    _write_atomic(results_path, json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    lines = [
        json.dumps({"model": r.model, "prompting": r.prompting, **record}, ensure_ascii=False)
        for r in reports
        for record in r.records
    ]
    _write_atomic(samples_path, "\n".join(lines) + "\n")
    partial_path.unlink(missing_ok=True)
    results["paths"] = {"results": str(results_path), "samples": str(samples_path)}
    plot = write_scaling_plot(results, out)
    if plot is not None:
        results["paths"]["scaling_plot"] = str(plot)
    plot = write_budget_plot(results, out)
    if plot is not None:
        results["paths"]["budget_plot"] = str(plot)
    if progress:
        print(f"{entry} on {domain.name}/{split}, {len(examples)} items, {settings['decoding']}:")
        print(format_results_table(results))
        print(f"written: {', '.join(results['paths'].values())}")
    return results
