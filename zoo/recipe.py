"""Recipes: one YAML file per zoo entry, mapped 1:1 onto nested frozen dataclasses.

A recipe file is headed by the command that runs it, and has the sections ``model``, ``lora``, ``data``,
``train``, ``rft``, ``grpo``, ``distill``, ``eval`` and ``publish`` besides ``name``, ``domain``, ``description`` and
``stages`` (what training runs, in order: ``[sft]`` by default, ``[sft, rft]`` for SFT followed by
rejection-sampling fine-tuning, ``[sft, grpo]`` or ``[sft, rft, grpo]`` with RL on verifiable rewards, or
any of them without ``sft`` from the trained adapter named in ``model.adapter``)::

    # srmzoo train recipes/math/math-135m.yaml
    name: math-135m
    domain: math
    model: {base: smollm2-135m-instruct}
    train: {lr: 2.0e-4, epochs: 2}

Unknown or mistyped keys are errors that name the key, the file and the allowed keys. Command-line
overrides use dotted keys: ``train.lr=1e-4 data.train_size=500``.

Recipes are read from places an attacker can write (a pulled adapter's ``recipe.yaml``, a shared file), so
every recipe YAML goes through :func:`load_yaml`: at most 1 MiB, no anchors or aliases (an alias bomb turns
a few hundred bytes into gigabytes; a recipe needs none), at most 32 levels deep. Errors that echo a value
shorten it, so no input makes a long message.

Importing this module does not import torch.
"""

from __future__ import annotations

import dataclasses
import reprlib
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import SrmzooError, UnknownNameError
from .tools import check_tools

__all__ = [
    "DATASET_DOMAIN",
    "REPORT_TO",
    "ColumnsConfig",
    "DataConfig",
    "DataSourceConfig",
    "DatasetConfig",
    "DistillConfig",
    "EvalConfig",
    "LoraConfig",
    "ModelConfig",
    "PublishConfig",
    "GrpoConfig",
    "Recipe",
    "RftConfig",
    "STAGES",
    "TrainConfig",
    "apply_overrides",
    "find_recipe",
    "load_recipe",
    "load_yaml",
    "read_yaml",
    "recipe_paths",
]

MAX_YAML_BYTES = 1 << 20  # shipped recipes are about 1 KiB
MAX_YAML_DEPTH = 32  # a recipe is three levels deep (section, key, list)

_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 60
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 6
_SHORT.maxlevel = 3
_SHORT_CHARS = 120  # reprlib bounds each level, not the whole: 6 x 6 x 6 strings of 60 are 13 K


def _short(value: Any) -> str:
    """``repr(value)``, cut to a few dozen characters however large or self-referential the value is.

    >>> _short("x" * 10_000)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxxxxxxxxxxxx'"
    >>> loop = []
    >>> loop.append(loop)
    >>> _short(loop)
    '[[[[...]]]]'
    >>> len(_short([[["lol" * 40] * 9] * 9] * 9))
    120
    """
    text = _SHORT.repr(value)
    return text if len(text) <= _SHORT_CHARS else text[: _SHORT_CHARS - 3] + "..."


def _clip(text: str, limit: int = 300) -> str:
    """``text`` itself, or its start and how long it was (for messages that quote a parser's error)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


class _YamlRefused(Exception):
    def __init__(self, line: int, message: str, hint: str):
        super().__init__(message)
        self.line, self.message, self.hint = line, message, hint


class _RecipeYamlLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader without anchors and aliases, and with a depth limit (checked as nodes are
    composed, before anything is built, so a bomb is refused at its first anchor)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if event.anchor is not None:  # `&name` on a node, or an alias event `*name`
            sign = "*" if isinstance(event, yaml.AliasEvent) else "&"
            raise _YamlRefused(
                line, f"YAML anchors and aliases are not allowed (found {sign}{_clip(event.anchor, 40)})",
                "write each value out in full: a recipe needs no anchors, and an alias can expand a few bytes "
                "into gigabytes",
            )
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise _YamlRefused(line, f"YAML nested deeper than {MAX_YAML_DEPTH} levels",
                               "a recipe's sections are at most three levels deep (section, key, list)")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _too_large(source: str, size: int) -> SrmzooError:
    return SrmzooError(f"{source}: {size:,} bytes of YAML, more than the {MAX_YAML_BYTES:,} a recipe may have",
                       hint="a recipe is a few kilobytes; check that this is the right file")


def load_yaml(text: str, *, source: str) -> Any:
    r"""Parse untrusted recipe YAML (a recipe file, a pulled adapter's ``recipe.yaml``, an override value).

    Like ``yaml.safe_load``, but at most 1 MiB, without anchors or aliases, and at most 32 levels deep;
    every failure is one :class:`SrmzooError` naming ``source`` (the file) and the fix.

    >>> load_yaml("train: {lr: 1.0e-4}", source="r.yaml")
    {'train': {'lr': 0.0001}}
    >>> load_yaml("a: &x [1, 2]\nb: *x", source="r.yaml")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: r.yaml: line 1: YAML anchors and aliases are not allowed (found &x)
      hint: write each value out in full: a recipe needs no anchors, and an alias can expand a few bytes into gigabytes

    Raises:
        SrmzooError: for a document over 1 MiB, an anchor or alias, nesting beyond 32 levels, invalid YAML.
    """
    if len(text) > MAX_YAML_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_YAML_BYTES:
        raise _too_large(source, len(text.encode("utf-8", "surrogatepass")))
    loader = _RecipeYamlLoader(text)
    try:
        return loader.get_single_data()
    except _YamlRefused as err:
        raise SrmzooError(f"{source}: line {err.line}: {err.message}", hint=err.hint) from None
    except yaml.YAMLError as err:
        raise SrmzooError(f"{source}: not valid YAML: {_clip(str(err))}") from None
    except RecursionError:  # the caller's own stack was nearly full: still one clear error
        raise SrmzooError(f"{source}: YAML nested too deeply to read",
                          hint="a recipe's sections are at most three levels deep") from None
    finally:
        loader.dispose()


def read_yaml(path: str | Path, *, source: str | None = None) -> Any:
    """:func:`load_yaml` of a file, refused by its size before it is read; ``source`` defaults to the path.

    >>> read_yaml("/no/such/recipe.yaml")
    Traceback (most recent call last):
    ...
    FileNotFoundError: [Errno 2] No such file or directory: '/no/such/recipe.yaml'
    """
    path = Path(path)
    source = source or str(path)
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise _too_large(source, size)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise SrmzooError(f"{source}: not UTF-8 text ({err.reason} at byte {err.start})",
                          hint="a recipe is a YAML text file") from None
    return load_yaml(text, source=source)


@dataclass(frozen=True)
class ModelConfig:
    """The base model.

    Attributes:
        base: base name from ``srmzoo bases`` (name, alias or Hub id).
        path: explicit local source for the base (transformers dir or .gguf); overrides the registry lookup.
        revision: Hub revision, for Hub-sourced bases.
        dtype: weights dtype: ``auto`` (fp32 on CPU, bf16 on GPU), ``float32``, ``bfloat16``.
        quantize: ``nf4`` for QLoRA (4-bit NF4, double quantization), ``int8``, or null.
        adapter: start from this trained adapter (a zoo entry in the local store, or an adapter directory)
            instead of a fresh LoRA; for recipes whose stages begin after SFT (``stages: [rft]``).
    """

    base: str
    path: str | None = None
    revision: str | None = None
    dtype: str = "auto"
    quantize: str | None = None
    adapter: str | None = None


@dataclass(frozen=True)
class LoraConfig:
    """LoRA adapter shape (peft)."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str | tuple[str, ...] = "all-linear"


DATASET_DOMAIN = "dataset"  # a recipe's domain when its data is the user's own (data.dataset)
PHRASINGS = ("template", "varied", "unhinted")  # data.phrasing: how training questions are worded
REPORT_TO = ("none", "tensorboard", "trackio")
DATASET_SPLITS = ("train", "test", "ood")


@dataclass(frozen=True)
class ColumnsConfig:
    """Which column of a user's dataset holds what (:class:`DataSourceConfig`).

    Attributes:
        question: the problem as put to the model.
        answer: the gold final answer the verifier compares with (for ``code-tests``: the unit tests).
        solution: a worked solution or reasoning trace ending in the answer, which SFT trains on; null: a
            column named ``solution`` if the file has one, else SFT trains on the answer alone.
        id: a unique id per row; null: the row number.
        family: a group name per row, reported per family in evaluations; null: one family.
    """

    question: str = "question"
    answer: str = "answer"
    solution: str | None = None
    id: str | None = None
    family: str | None = None


@dataclass(frozen=True)
class DataSourceConfig:
    """One split of a user's dataset: a local file or a Hub dataset, read with ``datasets``.

    Attributes:
        path: a local JSON Lines, JSON, CSV or Parquet file (relative paths: from the current directory).
        hub: a Hub dataset id (``org/name``) instead of ``path``.
        config: the Hub dataset's configuration (subset), if it has several.
        revision: the Hub dataset's branch, tag or commit; pin a commit for a reproducible entry.
        split: the Hub dataset's split to read (default ``train``); a local file is one split.
        columns: the column mapping; null: the train source's (for ``test`` and ``ood``), else the defaults.
    """

    path: str | None = None
    hub: str | None = None
    config: str | None = None
    revision: str | None = None
    split: str | None = None
    columns: ColumnsConfig | None = None


@dataclass(frozen=True)
class DatasetConfig:
    """The user's own data instead of a domain's generators (``domain: dataset``).

    Attributes:
        train: the rows SFT trains on.
        test: the held-out rows evaluated as the ``test`` split; null: the ``holdout`` share of ``train``.
        ood: optional rows evaluated as the ``ood`` split (e.g. harder questions).
        holdout: without ``test``, the share of ``train`` held out as ``test``, chosen by the SHA-256 of
            each question (case and white space folded), so one question never lands on both sides.
        verifier: the registered verifier that checks answers (``srmzoo verifiers`` lists them).
        verifier_options: the verifier's options, e.g. ``{rel_tol: 0.01}`` for ``numeric``.
        license: the data's license, recorded in the data manifest and the model card.
    """

    train: DataSourceConfig
    test: DataSourceConfig | None = None
    ood: DataSourceConfig | None = None
    holdout: float = 0.2
    verifier: str = "exact"
    verifier_options: dict | None = None
    license: str = "unspecified"

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<dict>") -> DatasetConfig:
        """Validate and build a ``data.dataset`` section (as a trained adapter records it)."""
        return _build(cls, data, source, "data.dataset.")

    def sources(self) -> dict[str, DataSourceConfig]:
        """The splits given as sources of their own, by split name (``train`` first)."""
        return {s: getattr(self, s) for s in DATASET_SPLITS if getattr(self, s) is not None}

    def splits(self) -> tuple[str, ...]:
        """Every split this data has: ``train``, ``test`` (given or held out), and ``ood`` if given.

        >>> DatasetConfig(train=DataSourceConfig(path="q.jsonl")).splits()
        ('train', 'test')
        """
        held_out = self.test is not None or self.holdout > 0
        return tuple(s for s in DATASET_SPLITS if getattr(self, s) is not None or (s == "test" and held_out))


@dataclass(frozen=True)
class DataConfig:
    """Training data from the recipe's domain, or the user's own (``dataset``).

    Attributes:
        train_size: number of training examples generated (spread over the families).
        families: restrict to these families; null means all of the domain's families.
        seed: data seed (the generators are deterministic in it).
        max_length: examples longer than this many tokens are dropped (and counted), never truncated.
        system_prompt: the system prompt the entry trains and infers with (saved with the adapter); null
            means the domain's own. A trained entry needs less instruction than a prompted base, and every
            prompt token is paid for in training and at inference.
        tools: tools the entry learns to call (``calculator``): the worked solutions are rewritten with
            calls (:func:`srmzoo.tools.annotate`) and generation answers them (:mod:`srmzoo.tools`).
        traces: the domain's style of tool traces (its ``trace_styles``, e.g. healthcare's ``grounded``);
            null for its default ones.
        phrasing: ``template``: each question as its generator's templates word it; ``varied``: each
            training question restyled into one of many surface forms (openers and closers, the ask first
            or last, distractors, units spelled out, numbers in words; the domain's ``surface_forms``), the
            solution unchanged; ``unhinted``: ``varied``'s wordings, and most questions without the formula
            or convention they state (the domain's ``hints``: healthcare's ``Use BMI = ...``), the trace
            still applying it. Evaluation splits are never restyled.
        general_size: general prompts (:mod:`srmzoo.general`, everyday requests on topics no probe uses)
            answered greedily by the base itself before training and mixed into the SFT data, against
            forgetting; 0 (the default) trains on the domain alone. ``srmzoo forgetting`` measures the drift.
        dataset: the user's own questions and answers (files or a Hub dataset, :class:`DatasetConfig`) with
            ``domain: dataset``; ``train_size`` then caps the rows trained on (a seeded sample when the file
            has more).
    """

    train_size: int = 2000
    families: tuple[str, ...] | None = None
    seed: int = 0
    max_length: int = 512
    system_prompt: str | None = None
    tools: tuple[str, ...] = ()
    traces: str | None = None
    phrasing: str = "template"
    general_size: int = 0
    dataset: DatasetConfig | None = None


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation. ``batch_size`` counts examples per device; batches group examples of similar length."""

    method: str = "sft"
    epochs: float = 1.0
    max_steps: int = -1
    lr: float = 2e-4
    batch_size: int = 8
    grad_accum: int = 1
    scheduler: str = "cosine"
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    seed: int = 0
    bf16: str | bool = "auto"  # auto: bf16 autocast where the CPU/GPU is fast at it, else fp32
    gradient_checkpointing: bool = False
    logging_steps: int = 5
    save_steps: int = 50
    save_total_limit: int = 2
    report_to: str = "none"  # also log to tensorboard or trackio (installed separately); srmzoo's own records stay


@dataclass(frozen=True)
class RftConfig:
    """Rejection-sampling fine-tuning (self-distillation with a verifier), the ``rft`` stage.

    Each round samples ``samples`` completions for each of ``problems`` fresh training-split problems from
    the current adapter, keeps those the domain's verifier accepts (deduplicated, at most
    ``keep_per_problem`` per problem), and fine-tunes the adapter on them.

    Attributes:
        rounds: sample-filter-train rounds; each starts from the previous round's adapter.
        problems: training-split problems sampled per round (round r draws them with ``seed + r - 1``).
        seed: problem and sampling seed; keep it apart from ``data.seed`` so the problems are new to the
            adapter (both are drawn from the train split, never from test or ood).
        samples: completions sampled per problem.
        temperature: sampling temperature.
        max_new_tokens: generation budget per completion.
        batch_size: sequences generated at once.
        keep_per_problem: distinct verified completions kept per problem.
        lr, epochs, train_batch_size: the fine-tuning on the kept completions (other optimiser settings
            come from ``train``).
        reference_fallback: problems none of whose samples was verified correct contribute their reference
            solution instead (the domain's tool trace when the entry has tools), as RFT papers mix the SFT
            data back in: without it a round only reinforces what the adapter already solves.
    """

    rounds: int = 1
    problems: int = 400
    seed: int = 1
    samples: int = 4
    temperature: float = 0.8
    max_new_tokens: int = 192
    batch_size: int = 32
    keep_per_problem: int = 2
    lr: float = 2e-4
    epochs: float = 1.0
    train_batch_size: int = 8
    reference_fallback: bool = False


@dataclass(frozen=True)
class GrpoConfig:
    """GRPO with verifiable rewards on the LoRA adapter (TRL's ``GRPOTrainer``), the ``grpo`` stage.

    Attributes:
        steps: optimizer steps.
        problems: training-split problems to draw prompts from (seeded by ``seed``).
        seed: problem and sampling seed (keep it apart from ``data.seed`` for problems new to the adapter).
        num_generations: completions per problem (the group whose rewards are normalised together).
        batch_size: completions per step, a multiple of ``num_generations``.
        max_completion_length: generation budget per completion.
        temperature: sampling temperature.
        rewards: reward functions by registered name (``srmzoo rewards`` lists them), e.g. ``math_correct``.
        reward_weights: one weight per reward (empty: all 1).
        lr: learning rate (constant after ``warmup_steps``).
        warmup_steps: linear warm-up steps.
        beta: KL coefficient against the base (0: no reference pass, TRL's default).
        loss_type: TRL's loss (``dapo``, ``grpo``, ``dr_grpo``, ``bnpo``).
        mask_truncated_completions: completions cut off at the budget take no loss.
        save_steps: checkpoint interval.
    """

    steps: int = 50
    problems: int = 400
    seed: int = 2
    num_generations: int = 4
    batch_size: int = 16
    max_completion_length: int = 160
    temperature: float = 0.8
    rewards: tuple[str, ...] = ()
    reward_weights: tuple[float, ...] = ()
    lr: float = 2e-5
    warmup_steps: int = 2
    beta: float = 0.0
    loss_type: str = "dapo"
    mask_truncated_completions: bool = True
    save_steps: int = 10


DISTILL_BACKENDS = ("auto", "llama.cpp", "torch")


@dataclass(frozen=True)
class DistillConfig:
    """Distillation from a stronger teacher: ``srmzoo distill``, and with ``use`` the data of the SFT stage.

    The teacher answers ``questions`` training-split questions ``samples`` times each; the domain's verifier
    keeps the correct completions that ended within the budget, deduplicated, the shortest first (at most
    ``keep_per_question`` per question); they are written as a ``datasets`` dataset with a manifest
    (:mod:`srmzoo.train.distill`).

    Attributes:
        use: ``srmzoo train`` distills first (or reuses the finished traces in ``out``) and SFT trains on the
            accepted traces instead of the domain's worked solutions.
        teacher: a registered base (``srmzoo bases``) or a zoo entry (in the local store, or an adapter
            directory).
        teacher_path: an explicit local source of a base teacher: a ``.gguf`` file (llama.cpp runs it as is)
            or a transformers directory (torch).
        backend: ``auto``: llama.cpp on the teacher's GGUF when llama-cpp-python is installed and the teacher
            has one, else torch; or ``llama.cpp`` or ``torch``.
        questions: training-split questions asked; null: ``data.train_size``.
        seed: question and sampling seed; null: ``data.seed`` (with ``questions`` null, the very questions
            template SFT trains on).
        families: question families; null: ``data.families``.
        samples: completions sampled per question.
        temperature: sampling temperature (0: greedy, with ``samples: 1``).
        top_p: nucleus sampling mass.
        max_new_tokens: token budget per completion; a completion cut off there is never kept.
        keep_per_question: distinct verified completions kept per question, the shortest first.
        parallel: sequences llama.cpp decodes together in one batch (null: ``samples``; 1: one at a time).
        system_prompt: the teacher's system prompt; null: an entry's own, or for a base the domain's (with
            the tool protocol's sentence when ``data.tools`` is set).
        few_shot: worked training examples shown to the teacher before each question.
        threads: llama.cpp CPU threads; null: torch's thread count.
        out: the traces' directory; null: ``runs/distill/<name>`` (from the current directory).
    """

    use: bool = False
    teacher: str | None = None
    teacher_path: str | None = None
    backend: str = "auto"
    questions: int | None = None
    seed: int | None = None
    families: tuple[str, ...] | None = None
    samples: int = 4
    temperature: float = 0.7
    top_p: float = 1.0
    max_new_tokens: int = 384
    keep_per_question: int = 1
    parallel: int | None = None
    system_prompt: str | None = None
    few_shot: int = 0
    threads: int | None = None
    out: str | None = None


STAGES = ("sft", "rft", "grpo")


@dataclass(frozen=True)
class EvalConfig:
    """How ``srmzoo eval`` measures this entry.

    Attributes:
        splits: held-out splits to evaluate.
        n: items per split.
        max_new_tokens: generation budget per item.
        batch_size: generation batch size.
        few_shot: worked examples (from the train split) in the base's few-shot prompt.
        compare: other bases evaluated few-shot on the same items, for the card.
        compare_adapters: other trained adapters (entries) evaluated on the same items, each with its own
            prompt, e.g. the SFT entry an RFT entry started from.
    """

    splits: tuple[str, ...] = ("test", "ood")
    n: int = 300
    max_new_tokens: int = 256
    batch_size: int = 16
    few_shot: int = 3
    compare: tuple[str, ...] = ()
    compare_adapters: tuple[str, ...] = ()


@dataclass(frozen=True)
class PublishConfig:
    """Where ``srmzoo publish`` puts the adapter."""

    repo: str | None = None
    private: bool = False
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipe:
    """A zoo entry's complete, reproducible definition."""

    name: str
    domain: str
    model: ModelConfig
    description: str = ""
    lora: LoraConfig = field(default_factory=LoraConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    stages: tuple[str, ...] = ("sft",)
    rft: RftConfig = field(default_factory=RftConfig)
    grpo: GrpoConfig = field(default_factory=GrpoConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    publish: PublishConfig = field(default_factory=PublishConfig)
    source: str | None = field(default=None, compare=False)  # the file it was read from

    def to_dict(self) -> dict[str, Any]:
        """Plain data (tuples as lists), suitable for YAML/JSON and for :meth:`from_dict`."""
        data = _plain(dataclasses.asdict(self))
        data.pop("source")
        return data

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<dict>") -> Recipe:
        """Validate and build a recipe; every error names the key, the file and what is allowed.

        >>> Recipe.from_dict({"name": "x", "domain": "math", "model": {"base": "smollm2"}}).train.lr
        0.0002
        >>> Recipe.from_dict({"name": "x", "domain": "math", "model": {"base": "s"}, "train": {"lr": "fast"}})
        Traceback (most recent call last):
        ...
        srmzoo.errors.SrmzooError: <dict>: train.lr: expected float, got str 'fast'
        """
        recipe = _build(cls, data, source, "")
        try:
            check_tools(recipe.data.tools)
        except UnknownNameError as err:
            raise SrmzooError(f"{source}: data.tools: {_clip(err.message)}", hint=_clip(err.hint or "")) from None
        _check_stages(recipe, source)
        _check_train(recipe, source)
        _check_dataset(recipe, source)
        _check_phrasing(recipe, source)
        _check_general(recipe, source)
        _check_distill(recipe, source)
        return dataclasses.replace(recipe, source=source)


def _check_train(recipe: Recipe, source: str) -> None:
    """``train.report_to`` names a tracker srmzoo passes to the trainers.

    >>> Recipe.from_dict({"name": "x", "domain": "math", "model": {"base": "s"}, "train": {"report_to": "wandb"}})
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: <dict>: train.report_to: unknown tracker 'wandb'
      hint: use one of: none, tensorboard, trackio (metrics.jsonl and loss_curve.png are written either way)
    """
    if recipe.train.report_to not in REPORT_TO:
        raise SrmzooError(f"{source}: train.report_to: unknown tracker {_short(recipe.train.report_to)}"
                          + _suggest(recipe.train.report_to, list(REPORT_TO)),
                          hint=f"use one of: {', '.join(REPORT_TO)} (metrics.jsonl and loss_curve.png are written "
                          "either way)")


def _check_phrasing(recipe: Recipe, source: str) -> None:
    """``data.phrasing`` is a known wording, and ``varied`` restyles generated questions, not the user's own.

    >>> base = {"name": "x", "domain": "math", "model": {"base": "s"}}
    >>> Recipe.from_dict({**base, "data": {"phrasing": "varied"}}).data.phrasing
    'varied'
    >>> Recipe.from_dict({**base, "data": {"phrasing": "varid"}})
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: <dict>: data.phrasing: unknown phrasing 'varid' (did you mean varied?)
      hint: use one of: template, varied, unhinted
    """
    phrasing = recipe.data.phrasing
    if phrasing not in PHRASINGS:
        raise SrmzooError(f"{source}: data.phrasing: unknown phrasing {_short(phrasing)}"
                          + _suggest(phrasing, list(PHRASINGS)), hint=f"use one of: {', '.join(PHRASINGS)}")
    if phrasing != "template" and recipe.data.dataset is not None:
        raise SrmzooError(f"{source}: data.phrasing: {phrasing} restyles the questions a domain generates, and "
                          "data.dataset is the user's own", hint="remove data.phrasing (your questions keep "
                          "their wording), or reword them in the file")


def _check_general(recipe: Recipe, source: str) -> None:
    """``data.general_size`` is a count the general-prompt pool can serve.

    >>> base = {"name": "x", "domain": "math", "model": {"base": "s"}}
    >>> Recipe.from_dict({**base, "data": {"general_size": 200}}).data.general_size
    200
    >>> Recipe.from_dict({**base, "data": {"general_size": 5000}})
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: <dict>: data.general_size: 5000 is more than the 600 general training prompts
      hint: use 0 to 600 (a tenth of train_size is common)
    """
    capacity = _general_capacity()
    size = recipe.data.general_size
    if size < 0 or size > capacity:
        raise SrmzooError(f"{source}: data.general_size: {size} is "
                          + ("negative" if size < 0 else f"more than the {capacity} general training prompts"),
                          hint=f"use 0 to {capacity} (a tenth of train_size is common)")


def _general_capacity() -> int:
    # imported here: srmzoo.general imports the domain machinery, which imports this module
    from .general import TASKS, TOPIC_SPLITS

    return len(TASKS) * len(TOPIC_SPLITS["train"])


def _check_dataset(recipe: Recipe, source: str) -> None:
    """``domain: dataset`` and ``data.dataset`` go together, each source names one place, and the evaluated
    splits exist. The files themselves are read (and checked) when training or evaluation draws them.

    >>> base = {"name": "x", "model": {"base": "s"}, "eval": {"splits": ["test"]}}
    >>> Recipe.from_dict({**base, "domain": "dataset", "data": {"dataset": {"train": {"path": "q.jsonl"}}}}).data.dataset.verifier
    'exact'
    >>> Recipe.from_dict({**base, "domain": "dataset", "data": {"dataset": {"train": {}}}})
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: <dict>: data.dataset.train: give a local file (path:) or a Hub dataset id (hub:)
      hint: e.g. train: {path: questions.jsonl} or train: {hub: ORG/NAME, split: train}
    """
    data = recipe.data.dataset
    if data is None:
        if recipe.domain == DATASET_DOMAIN:
            raise SrmzooError(f"{source}: domain: {DATASET_DOMAIN} trains on the user's data, and data.dataset is missing",
                              hint="add data: {dataset: {train: {path: questions.jsonl}, verifier: exact}} "
                              "(docs/bring-your-own.md)")
        return
    if recipe.domain != DATASET_DOMAIN:
        raise SrmzooError(f"{source}: data.dataset is the user's own data, but the recipe's domain is "
                          f"{_short(recipe.domain)} (a generated domain)",
                          hint=f"set domain: {DATASET_DOMAIN}, or remove data.dataset")
    for split, src in data.sources().items():
        where = f"data.dataset.{split}"
        if (src.path is None) == (src.hub is None):
            raise SrmzooError(f"{source}: {where}: give a local file (path:) or a Hub dataset id (hub:)"
                              + (", not both" if src.path is not None else ""),
                              hint=f"e.g. {split}: {{path: questions.jsonl}} or {split}: {{hub: ORG/NAME, split: train}}")
        if src.path is not None:
            for key in ("config", "revision", "split"):
                if getattr(src, key) is not None:
                    raise SrmzooError(f"{source}: {where}.{key} applies to a Hub dataset, and {where} is a local "
                                      f"file ({_clip(src.path, 80)})",
                                      hint=f"remove {where}.{key}: a local file is one split, read as it is")
    if not 0 <= data.holdout < 1:
        raise SrmzooError(f"{source}: data.dataset.holdout must be in [0, 1), got {data.holdout}",
                          hint="e.g. holdout: 0.2 (a fifth of the train rows evaluated as test)")
    if data.test is not None and data.holdout != DatasetConfig.holdout:
        raise SrmzooError(f"{source}: data.dataset.holdout is set, and so is data.dataset.test",
                          hint="hold out part of train (holdout) or give test rows of their own (test), not both")
    known = data.splits()
    for split in recipe.eval.splits:
        if split not in known:
            raise SrmzooError(
                f"{source}: eval.splits names {_short(split)}, which data.dataset does not have",
                hint=f"its splits: {', '.join(known)} (ood needs data.dataset.ood); e.g. eval: {{splits: [test]}}")
        if split == "train":
            raise SrmzooError(f"{source}: eval.splits: evaluating on the train rows says nothing about new questions",
                              hint="evaluate the held-out split: eval: {splits: [test]}")


def _check_distill(recipe: Recipe, source: str) -> None:
    """The ``distill`` section's values are in range, and ``use`` has a teacher and an SFT stage to feed.

    >>> base = {"name": "x", "domain": "math", "model": {"base": "s"}}
    >>> Recipe.from_dict({**base, "distill": {"teacher": "qwen2.5-coder-1.5b", "samples": 8}}).distill.samples
    8
    >>> Recipe.from_dict({**base, "distill": {"use": True}})
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: <dict>: distill.use: no distill.teacher to distill from
      hint: name a registered base or a zoo entry, e.g. distill.teacher=qwen2.5-coder-1.5b-instruct
    >>> Recipe.from_dict({**base, "distill": {"teacher": "t", "samples": 2, "keep_per_question": 3}})
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: <dict>: distill.keep_per_question (3) is more than distill.samples (2)
      hint: keep at most as many completions per question as are sampled
    """
    d = recipe.distill
    if d.backend not in DISTILL_BACKENDS:
        raise SrmzooError(f"{source}: distill.backend: unknown backend {_short(d.backend)}"
                          + _suggest(d.backend, list(DISTILL_BACKENDS)), hint=f"use one of: {', '.join(DISTILL_BACKENDS)}")
    for key in ("samples", "max_new_tokens", "keep_per_question", "questions", "parallel", "threads"):
        value = getattr(d, key)
        if value is not None and value < 1:
            raise SrmzooError(f"{source}: distill.{key} must be at least 1, got {value}")
    for key in ("seed", "few_shot"):
        if getattr(d, key) is not None and getattr(d, key) < 0:
            raise SrmzooError(f"{source}: distill.{key} must not be negative, got {getattr(d, key)}")
    if d.keep_per_question > d.samples:
        raise SrmzooError(f"{source}: distill.keep_per_question ({d.keep_per_question}) is more than "
                          f"distill.samples ({d.samples})",
                          hint="keep at most as many completions per question as are sampled")
    if d.temperature < 0 or (d.temperature == 0 and d.samples > 1):
        raise SrmzooError(f"{source}: distill.temperature must be positive to sample {d.samples} completions, "
                          f"got {d.temperature}", hint="e.g. distill.temperature=0.7 (0 is greedy: samples: 1)")
    if not 0 < d.top_p <= 1:
        raise SrmzooError(f"{source}: distill.top_p must be in (0, 1], got {d.top_p}", hint="e.g. distill.top_p=0.95")
    if d.teacher is not None and not d.teacher.strip():
        raise SrmzooError(f"{source}: distill.teacher is empty", hint="name a registered base or a zoo entry")
    if d.use and not d.teacher:
        raise SrmzooError(f"{source}: distill.use: no distill.teacher to distill from",
                          hint="name a registered base or a zoo entry, e.g. distill.teacher=qwen2.5-coder-1.5b-instruct")
    if d.use and recipe.stages[0] != "sft":
        raise SrmzooError(f"{source}: distill.use trains the SFT stage on the teacher's traces, and stages "
                          f"[{', '.join(recipe.stages)}] has no SFT stage",
                          hint="add sft first (stages: [sft, ...]) or drop distill.use")


def _check_stages(recipe: Recipe, source: str) -> None:
    """Stages are known, in order, unrepeated, and start from something: SFT or ``model.adapter``.

    >>> base = {"name": "x", "domain": "math", "model": {"base": "s"}}
    >>> Recipe.from_dict({**base, "stages": ["sft", "rtf"]})
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: <dict>: stages: unknown stage 'rtf' (did you mean rft?)
      hint: stages run in this order: sft, rft, grpo
    >>> Recipe.from_dict({**base, "stages": ["rft"]})
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: <dict>: stages: [rft] has no SFT stage and no model.adapter to start from
      hint: add sft first (stages: [sft, rft]) or name a trained adapter in model.adapter
    """
    stages = recipe.stages
    hint = f"stages run in this order: {', '.join(STAGES)}"
    for stage in stages:
        if stage not in STAGES:
            raise SrmzooError(f"{source}: stages: unknown stage {_short(stage)}" + _suggest(stage, list(STAGES)),
                              hint=hint)
    if not stages:
        raise SrmzooError(f"{source}: stages: empty", hint=hint)
    if list(stages) != sorted(set(stages), key=STAGES.index):
        raise SrmzooError(f"{source}: stages: {_short(list(stages))} repeats a stage or is out of order", hint=hint)
    if stages[0] != "sft" and not recipe.model.adapter:
        raise SrmzooError(
            f"{source}: stages: [{', '.join(stages)}] has no SFT stage and no model.adapter to start from",
            hint=f"add sft first (stages: [sft, {', '.join(stages)}]) or name a trained adapter in model.adapter",
        )
    if stages[0] == "sft" and recipe.model.adapter:
        raise SrmzooError(
            f"{source}: model.adapter ({_clip(recipe.model.adapter, 80)}) is where post-SFT stages start, but stages "
            "begin with sft (a fresh LoRA)",
            hint="drop sft from stages to continue that adapter, or drop model.adapter",
        )
    r = recipe.rft
    for key in ("rounds", "problems", "samples", "max_new_tokens", "batch_size", "keep_per_problem",
                "train_batch_size"):
        if getattr(r, key) < 1:
            raise SrmzooError(f"{source}: rft.{key} must be at least 1, got {getattr(r, key)}")
    if r.temperature <= 0:
        raise SrmzooError(f"{source}: rft.temperature must be positive, got {r.temperature}",
                          hint="RFT samples; e.g. rft.temperature=0.8")
    g = recipe.grpo
    if "grpo" in stages:
        if not g.rewards:
            raise SrmzooError(f"{source}: grpo.rewards: name at least one reward function",
                              hint=f"e.g. grpo.rewards: [{recipe.domain}_correct] (srmzoo rewards lists them)")
        if g.reward_weights and len(g.reward_weights) != len(g.rewards):
            raise SrmzooError(f"{source}: grpo.reward_weights has {len(g.reward_weights)} weights for "
                              f"{len(g.rewards)} rewards", hint="give one weight per reward, or none")
        for key in ("steps", "problems", "num_generations", "batch_size", "max_completion_length", "save_steps"):
            if getattr(g, key) < 1:
                raise SrmzooError(f"{source}: grpo.{key} must be at least 1, got {getattr(g, key)}")
        if g.num_generations < 2 or g.batch_size % g.num_generations:
            raise SrmzooError(
                f"{source}: grpo.batch_size ({g.batch_size}) must be a multiple of grpo.num_generations "
                f"({g.num_generations}), which must be at least 2 (advantages compare completions in a group)",
                hint="e.g. num_generations: 4, batch_size: 16")
        if g.temperature <= 0:
            raise SrmzooError(f"{source}: grpo.temperature must be positive, got {g.temperature}")


def _plain(value: Any, source: str = "<recipe>", depth: int = 0) -> Any:
    """Dicts, lists and scalars only (tuples as lists), refusing data nested deeper than a recipe can be
    (a value that contains itself would otherwise recurse until the interpreter gives up)."""
    if depth > MAX_YAML_DEPTH:
        raise SrmzooError(f"{source}: recipe data nested deeper than {MAX_YAML_DEPTH} levels "
                          "(a value that contains itself?)",
                          hint="a recipe's sections are at most three levels deep (section, key, list)")
    if isinstance(value, dict):
        return {k: _plain(v, source, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, source, depth + 1) for v in value]
    return value


def _build(cls: type, data: Any, source: str, prefix: str) -> Any:
    where = prefix.rstrip(".") or "recipe"
    if not isinstance(data, dict):
        raise SrmzooError(f"{source}: {where}: expected a mapping of keys, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    allowed = [f.name for f in fields(cls) if f.name != "source"]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in allowed:
            raise SrmzooError(
                f"{source}: unknown key {prefix}{_clip(str(key), 60)}" + _suggest(str(key), allowed),
                hint=f"allowed keys in {where}: {', '.join(allowed)}",
            )
        kwargs[key] = _coerce(hints[key], value, source, f"{prefix}{key}")
    missing = [
        f.name for f in fields(cls)
        if f.name in allowed and f.name not in kwargs
        and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise SrmzooError(f"{source}: missing required key {prefix}{missing[0]}",
                          hint=f"add `{missing[0]}:` to the {where} section")
    return cls(**kwargs)


def _suggest(key: str, allowed: list[str]) -> str:
    from .errors import close_names

    if len(key) > 64:  # no key that long is a typo of a short one
        return ""
    close = close_names(key, allowed)
    return f" (did you mean {close[0]}?)" if close else ""


def _coerce(tp: Any, value: Any, source: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    if is_dataclass(tp):
        return _build(tp, value, source, key + ".")
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(option, value, source, key)
            except SrmzooError as err:
                errors.append(err)
        raise errors[-1]
    if origin is tuple:
        if isinstance(value, str):  # a single name where a list is allowed
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise SrmzooError(f"{source}: {key}: expected a list, got {type(value).__name__} {_short(value)}")
        item = typing.get_args(tp)[0]
        return tuple(_coerce(item, v, source, f"{key}[{i}]") for i, v in enumerate(value))
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str):  # YAML reads 1e-4 (no dot) as a string
        try:
            return float(value)
        except ValueError:
            pass
    if tp is Any or (isinstance(tp, type) and isinstance(value, tp) and not (tp is int and isinstance(value, bool))):
        return value
    raise SrmzooError(
        f"{source}: {key}: expected {getattr(tp, '__name__', tp)}, got {type(value).__name__} {_short(value)}")


def apply_overrides(data: dict[str, Any], overrides: list[str], source: str = "<command line>") -> dict[str, Any]:
    """Apply ``section.key=value`` overrides (values parsed as YAML) to raw recipe data.

    >>> apply_overrides({"train": {"lr": 1.0}}, ["train.lr=0.001", "data.families=[a, b]"])
    {'train': {'lr': 0.001}, 'data': {'families': ['a', 'b']}}
    """
    try:
        out = _plain(data, source)
    except RecursionError:  # the depth limit is far below the interpreter's, unless the stack was full already
        raise SrmzooError(f"{source}: recipe data nested too deeply to override",
                          hint="a recipe's sections are at most three levels deep") from None
    for item in overrides:
        if "=" not in item:
            raise SrmzooError(f"override {_short(item)} is not KEY=VALUE", hint="e.g. train.lr=1e-4")
        key, raw = item.split("=", 1)
        key = key.strip()
        value = load_yaml(raw, source=f"{source}: override {_clip(key, 60)}") if raw.strip() else None
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SrmzooError(f"{source}: override {_clip(key, 60)}: {_clip(part, 60)} is not a section")
        node[parts[-1]] = value
    return out


def load_recipe(path: str | Path, overrides: list[str] | None = None) -> Recipe:
    """Read, override and validate a recipe file.

    Raises:
        SrmzooError: for a missing file, invalid YAML, unknown keys or wrong types.
    """
    path = Path(path)
    try:
        data = read_yaml(path)
    except FileNotFoundError:
        raise SrmzooError(f"recipe not found: {path}", hint="list the zoo's recipes with `srmzoo list`") from None
    if overrides and (data is None or isinstance(data, dict)):  # anything else: from_dict says what is wrong
        data = apply_overrides(data or {}, overrides)
    return Recipe.from_dict(data, source=str(path))


def recipe_root() -> Path:
    """The directory of the recipes that ship with srmzoo."""
    return Path(str(resources.files("srmzoo.recipes")))


def recipe_paths() -> list[Path]:
    """Every shipped recipe file (``recipes/**/*.yaml``, recursively, so ``recipes/<domain>/ablations/``
    too), sorted; the launcher configs in ``recipes/accelerate/`` are not recipes.

    >>> sorted({p.relative_to(recipe_root()).parts[0] for p in recipe_paths()})
    ['coding', 'healthcare', 'math', 'science']
    """
    root = recipe_root()
    return sorted(p for p in root.rglob("*.yaml") if p.relative_to(root).parts[0] != "accelerate")


def find_recipe(name_or_path: str) -> Path:
    """A recipe file from a path or a zoo entry name such as ``math-135m`` (headline or ablation).

    Raises:
        UnknownNameError: neither a recipe file nor a shipped entry's name.
        SrmzooError: a missing ``.yaml`` path whose file name is a shipped recipe's that lives elsewhere
            (e.g. one moved to ``recipes/<domain>/ablations/``); the hint names where it is now.

    >>> find_recipe("math-135m-plain").relative_to(recipe_root()).as_posix()
    'math/ablations/math-135m-plain.yaml'
    """
    path = Path(name_or_path)
    if path.exists():
        return path
    by_name = {p.stem: p for p in recipe_paths()}
    if path.suffix in (".yaml", ".yml"):
        if path.stem in by_name:
            shipped = "recipes/" + by_name[path.stem].relative_to(recipe_root()).as_posix()
            raise SrmzooError(f"recipe not found: {path}",
                              hint=f"{path.stem}'s recipe is {shipped} (from the repository root); "
                              f"or pass the entry name {path.stem}")
        return path  # load_recipe says it is not found
    if name_or_path in by_name:
        return by_name[name_or_path]
    raise UnknownNameError("zoo entry", name_or_path, by_name)
