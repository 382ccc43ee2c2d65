"""Recipes: one YAML file per zoo entry, mapped 1:1 onto nested frozen dataclasses.

A recipe file is headed by the command that runs it, and has the sections ``model``, ``lora``, ``data``,
``train``, ``rft``, ``grpo``, ``eval`` and ``publish`` besides ``name``, ``domain``, ``description`` and
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

Importing this module does not import torch.
"""

from __future__ import annotations

import dataclasses
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
    "DataConfig",
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
    "recipe_paths",
]


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


@dataclass(frozen=True)
class DataConfig:
    """Training data from the recipe's domain.

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
    """

    train_size: int = 2000
    families: tuple[str, ...] | None = None
    seed: int = 0
    max_length: int = 512
    system_prompt: str | None = None
    tools: tuple[str, ...] = ()
    traces: str | None = None


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
            raise SrmzooError(f"{source}: data.tools: {err.message}", hint=err.hint) from None
        _check_stages(recipe, source)
        return dataclasses.replace(recipe, source=source)


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
            raise SrmzooError(f"{source}: stages: unknown stage {stage!r}" + _suggest(stage, list(STAGES)), hint=hint)
    if not stages:
        raise SrmzooError(f"{source}: stages: empty", hint=hint)
    if list(stages) != sorted(set(stages), key=STAGES.index):
        raise SrmzooError(f"{source}: stages: {list(stages)} repeats a stage or is out of order", hint=hint)
    if stages[0] != "sft" and not recipe.model.adapter:
        raise SrmzooError(
            f"{source}: stages: [{', '.join(stages)}] has no SFT stage and no model.adapter to start from",
            hint=f"add sft first (stages: [sft, {', '.join(stages)}]) or name a trained adapter in model.adapter",
        )
    if stages[0] == "sft" and recipe.model.adapter:
        raise SrmzooError(
            f"{source}: model.adapter ({recipe.model.adapter}) is where post-SFT stages start, but stages "
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


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
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
                f"{source}: unknown key {prefix}{key}" + _suggest(str(key), allowed),
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
            raise SrmzooError(f"{source}: {key}: expected a list, got {type(value).__name__} {value!r}")
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
    raise SrmzooError(f"{source}: {key}: expected {getattr(tp, '__name__', tp)}, got {type(value).__name__} {value!r}")


def apply_overrides(data: dict[str, Any], overrides: list[str], source: str = "<command line>") -> dict[str, Any]:
    """Apply ``section.key=value`` overrides (values parsed as YAML) to raw recipe data.

    >>> apply_overrides({"train": {"lr": 1.0}}, ["train.lr=0.001", "data.families=[a, b]"])
    {'train': {'lr': 0.001}, 'data': {'families': ['a', 'b']}}
    """
    out = _plain(data)
    for item in overrides:
        if "=" not in item:
            raise SrmzooError(f"override {item!r} is not KEY=VALUE", hint="e.g. train.lr=1e-4")
        key, raw = item.split("=", 1)
        value = yaml.safe_load(raw) if raw.strip() else None
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SrmzooError(f"{source}: override {key}: {part} is not a section")
        node[parts[-1]] = value
    return out


def load_recipe(path: str | Path, overrides: list[str] | None = None) -> Recipe:
    """Read, override and validate a recipe file.

    Raises:
        SrmzooError: for a missing file, invalid YAML, unknown keys or wrong types.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SrmzooError(f"recipe not found: {path}", hint="list the zoo's recipes with `srmzoo list`") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SrmzooError(f"{path}: not valid YAML: {err}") from None
    if overrides:
        data = apply_overrides(data or {}, overrides)
    return Recipe.from_dict(data, source=str(path))


def recipe_root() -> Path:
    """The directory of the recipes that ship with srmzoo."""
    return Path(str(resources.files("srmzoo.recipes")))


def recipe_paths() -> list[Path]:
    """Every shipped recipe file (``recipes/**/*.yaml``, recursively), sorted."""
    return sorted(p for p in recipe_root().rglob("*.yaml") if p.parent.name != "accelerate")


def find_recipe(name_or_path: str) -> Path:
    """A recipe file from a path or a zoo entry name such as ``math-135m``."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    by_name = {p.stem: p for p in recipe_paths()}
    if name_or_path in by_name:
        return by_name[name_or_path]
    raise UnknownNameError("zoo entry", name_or_path, by_name)
