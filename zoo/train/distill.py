"""Distillation from a stronger teacher: verified traces that SFT trains a student on (``srmzoo distill``).

As in the distillation recipes of the reasoning literature (DeepSeek-R1-Distill, s1, LIMO), a stronger
model writes the reasoning and a verifier filters it; here:

1. **questions**: ``distill.questions`` training-split questions of the recipe's domain (by default the very
   questions template SFT trains on: ``data.train_size``, ``data.seed``, ``data.families``);
2. **teacher**: any registered base or zoo entry, run by llama.cpp on its GGUF when llama-cpp-python is
   installed (the k samples of a question decoded together, :class:`~srmzoo.backends.llamacpp.LlamaCppSampler`),
   else by torch; tool calls are answered during decoding through the same protocol as at inference
   (``data.tools``, :mod:`srmzoo.tools`);
3. **verifier**: each completion is judged by the domain's checker (:meth:`Domain.check`, the one evaluation
   and RL use); the correct ones that ended within the budget are kept, deduplicated (white space aside),
   the shortest first, at most ``distill.keep_per_question`` per question;
4. **output** (one directory, ``distill.out``): ``samples.jsonl`` (every question's completions with their
   verdicts, one JSON line appended and fsync'ed per finished question), ``dataset/`` (the kept traces, a
   ``datasets`` dataset written with ``save_to_disk``, columns as :class:`~srmzoo.domain.Example` plus
   ``sample`` and ``new_tokens``) and ``distill_manifest.json`` (teacher and its sha256, sampling settings,
   acceptance per question family, tokens/s, traces/hour, wall time), written last.

Kill-safe and resumable: a run killed at any point (``kill -9`` included) and started again with
``--resume`` goes on after the last question whose line is complete, and yields the same dataset, because
every sample is seeded by the SHA-256 of (seed, question id, question, sample index) and every question
is decoded from an empty cache. ``srmzoo train`` with ``distill.use`` distills first (or reuses the
finished traces) and its SFT stage trains on the kept traces.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..artifacts import ADAPTER_WEIGHTS_FILE, read_adapter_meta, read_jsonl, sha256_file
from ..domain import Domain, Example, Verdict
from ..errors import SrmzooError, UnknownNameError
from ..hardware import describe_hardware
from ..prompting import PLAIN_CHAT_TEMPLATE, PromptFormat
from ..recipe import Recipe
from ..user_data import recipe_domain
from ..version import __version__

__all__ = [
    "DATASET_DIR",
    "MANIFEST_FILE",
    "SAMPLES_FILE",
    "DistillResult",
    "distill_dir",
    "distilled_traces",
    "finished_manifest",
    "kept_samples",
    "load_traces",
    "run_distill",
    "sample_seed",
    "trace_contamination",
]

log = logging.getLogger(__name__)

SAMPLES_FILE = "samples.jsonl"
SETTINGS_FILE = "distill_settings.json"
DATASET_DIR = "dataset"
MANIFEST_FILE = "distill_manifest.json"
SEEDING = "sha256(seed, question id, question, sample index); torch: one generator per question"

EntryGguf = Callable[[Path], Path]  # an entry's adapter directory -> its GGUF export


@dataclass
class DistillResult:
    """A finished distillation: its directory, the dataset's directory and the manifest."""

    out_dir: Path
    dataset_dir: Path
    manifest: dict[str, Any]


def distill_dir(recipe: Recipe) -> Path:
    """Where a recipe's traces go: ``distill.out``, else ``runs/distill/<name>``.

    >>> distill_dir(Recipe.from_dict({"name": "m", "domain": "math", "model": {"base": "s"}})).as_posix()
    'runs/distill/m'
    """
    return Path(recipe.distill.out) if recipe.distill.out else Path("runs") / "distill" / recipe.name


def sample_seed(seed: int, example: Example, index: int) -> int:
    """The seed of one sample: the SHA-256 of (seed, question id, question, sample index), 31 bits.

    It depends on nothing else, so a question sampled after a restart draws what it would have drawn.

    >>> ex = Example("math/train/add/00001", "add", "What is 2 + 3?", "5", "")
    >>> sample_seed(0, ex, 0) == sample_seed(0, ex, 0), sample_seed(0, ex, 0) == sample_seed(0, ex, 1)
    (True, False)
    """
    text = json.dumps([seed, example.id, example.question, index], ensure_ascii=False)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") & 0x7FFFFFFF


def kept_samples(record: dict[str, Any], keep: int) -> list[int]:
    """Indices of a question's kept completions: correct, ended within the budget, not empty, distinct
    (white space aside), the shortest first (by tokens, then characters, then sample index).

    >>> rec = {"completions": ["long  answer", "long answer", "x", "wrong", "cut"], "new_tokens": [4, 3, 9, 1, 2],
    ...        "verdicts": ["correct", "correct", "correct", "wrong", "correct"],
    ...        "finished": [True, True, True, True, False]}
    >>> kept_samples(rec, 2)
    [1, 2]
    """
    order = sorted(
        range(len(record["completions"])),
        key=lambda i: (record["new_tokens"][i], len(record["completions"][i]), i),
    )
    kept, seen = [], set()
    for i in order:
        text = " ".join(record["completions"][i].split())
        if (
            record["verdicts"][i] != Verdict.CORRECT.value
            or not record["finished"][i]
            or not text
            or text in seen
        ):
            continue
        seen.add(text)
        kept.append(i)
        if len(kept) == keep:
            break
    return kept


# ------------------------------------------------------------------------------------------------ teachers


@dataclass
class _Teacher:
    """A teacher ready to sample: how it is prompted, and a sampler with ``sample(prompt, seeds, ...)``."""

    tokenizer: Any
    prompt_format: PromptFormat
    sampler: Any
    gguf: Path | None = None

    def close(self) -> None:
        if hasattr(self.sampler, "close"):
            self.sampler.close()


class _TorchSampler:
    """The torch fallback: a question's samples decoded together by :func:`srmzoo.backends.hf.greedy_decode`
    (one prefill, the cache repeated), drawn from torch's generator seeded by the first sample's seed."""

    def __init__(self, model: Any, tokenizer: Any):
        self.model, self.tokenizer = model, tokenizer
        ids = getattr(model.generation_config, "eos_token_id", None)
        ids = list(ids) if isinstance(ids, (list, tuple)) else [] if ids is None else [ids]
        self.eos = sorted({*ids, *([tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else [])})

    def sample(
        self,
        prompt: str,
        seeds: Sequence[int],
        *,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        tools: Sequence[str] = (),
        stop_strings: Sequence[str] = (),
    ) -> list[Any]:
        import torch

        from ..backends.hf import greedy_decode
        from ..backends.llamacpp import Sampled
        from ..tools import ToolCaller

        torch.manual_seed(seeds[0])
        device = next(self.model.parameters()).device
        batch = self.tokenizer([prompt], return_tensors="pt", add_special_tokens=False).to(device)
        with torch.inference_mode():
            rows = greedy_decode(
                self.model,
                batch["input_ids"],
                batch["attention_mask"],
                max_new_tokens=max_new_tokens,
                eos_token_ids=self.eos,
                stop_strings=list(stop_strings) or None,
                tokenizer=self.tokenizer,
                tool_caller=ToolCaller(self.tokenizer, tools) if tools else None,
                temperature=temperature if temperature > 0 else None,
                top_p=top_p,
                num_return_sequences=len(seeds),
            )
        out = []
        for ids in rows:
            ended = bool(ids) and ids[-1] in self.eos
            body = ids[:-1] if ended else ids
            out.append(
                Sampled(
                    self.tokenizer.decode(body, skip_special_tokens=True),
                    len(body),
                    ended or len(ids) < max_new_tokens,
                )
            )
        return out


def _llama_cpp_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def _teacher_source(
    recipe: Recipe, entry_gguf: EntryGguf | None, *, backend: str | None = None, check: bool = True
) -> dict[str, Any]:
    """Which teacher, with which weights (their sha256), on which backend: resolved without loading a model.

    ``backend`` overrides ``distill.backend`` (a resumed run keeps the one it started with); with ``check``
    off, a backend that cannot run here is not refused (finished traces are reused without generating).
    """
    from ..bases import base_gguf, get_base_spec, resolve_base
    from ..store import find_adapter

    d = recipe.distill
    want = backend or d.backend
    llama = _llama_cpp_installed()
    try:
        spec = get_base_spec(d.teacher)
    except UnknownNameError:
        spec = None
    if spec is None:
        try:
            adapter_dir = find_adapter(d.teacher)
        except SrmzooError:
            raise SrmzooError(
                f"distill.teacher {d.teacher!r} is neither a registered base{_closest(d.teacher)} nor a zoo entry "
                "in the local store or an adapter directory",
                hint="`srmzoo bases` lists the bases; train the entry first (srmzoo train ENTRY) or name its adapter "
                "directory",
            ) from None
        meta = read_adapter_meta(adapter_dir)
        source = {
            "kind": "entry",
            "name": d.teacher,
            "adapter_dir": adapter_dir,
            "identity": {
                "entry": meta.get("entry"),
                "sha256": sha256_file(adapter_dir / ADAPTER_WEIGHTS_FILE),
                "base": {"name": meta["base"]["name"], "sha256": meta["base"].get("sha256")},
            },
        }
        fast, why = llama and entry_gguf is not None, "no way to export the entry to GGUF was given"
    else:
        path = Path(d.teacher_path).expanduser() if d.teacher_path else None
        gguf = None
        if path is not None and path.suffix == ".gguf":
            if not path.is_file():
                raise SrmzooError(
                    f"distill.teacher_path {path} does not exist", hint="name an existing .gguf file"
                )
            gguf, sha = path, sha256_file(path)
        elif path is None and want != "torch" and (found := base_gguf(spec.name)) is not None:
            gguf, sha = found[0], found[1]["sha256"]
        else:  # the torch path: converting (or downloading) now is what loading would do anyway
            sha = resolve_base(spec.name, path=path).identity["sha256"]
        source = {
            "kind": "base",
            "name": spec.name,
            "path": path,
            "gguf": gguf,
            "identity": {"name": spec.name, "hub_id": spec.hub_id, "sha256": sha},
        }
        fast, why = llama and gguf is not None, f"{spec.name} has no GGUF here"
    if not llama:
        why = "llama-cpp-python is not installed"
    source["backend"] = ("llama.cpp" if fast else "torch") if want == "auto" else want
    if check and source["backend"] == "llama.cpp" and not fast:
        raise SrmzooError(
            f"distill.backend llama.cpp: {why}",
            hint='pip install -e ".[llama]" (or make llama); srmzoo bases install NAME, or '
            "distill.teacher_path: a .gguf file; or distill.backend: torch",
        )
    return source


def _closest(name: str) -> str:
    from ..bases import BASES
    from ..errors import close_names

    close = close_names(name, BASES)
    return f" (closest: {', '.join(close)})" if close else ""


def _teacher_format(
    recipe: Recipe,
    domain: Domain,
    fmt: PromptFormat,
    questions: Sequence[Example],
    *,
    own_system_prompt: bool,
) -> PromptFormat:
    """The teacher's prompt: its template, the system prompt (``distill.system_prompt``; else an entry's own,
    else the domain's with the tool protocol's sentence), the student's tools, and few-shot turns."""
    from ..eval.harness import few_shot_examples
    from ..tools import describe

    d, tools = recipe.distill, tuple(recipe.data.tools)
    system = d.system_prompt
    if system is None:
        system = (
            fmt.system_prompt
            if own_system_prompt
            else " ".join(s for s in (domain.system_prompt, describe(tools)) if s) or None
        )
    fmt = replace(fmt, system_prompt=system, tools=tools)
    if d.few_shot:
        shots = few_shot_examples(domain, d.few_shot, seed=_seed(recipe), exclude=questions)
        fmt = fmt.with_few_shot(
            [
                (e.question, domain.tool_solution(e, tools, recipe.data.traces) if tools else e.solution)
                for e in shots
            ]
        )
    return fmt


def _load_teacher(
    recipe: Recipe,
    source: dict[str, Any],
    domain: Domain,
    questions: Sequence[Example],
    entry_gguf: EntryGguf | None,
) -> _Teacher:
    from transformers import AutoTokenizer

    d = recipe.distill
    gguf = source.get("gguf")
    if source["kind"] == "entry":
        adapter_dir = source["adapter_dir"]
        saved = PromptFormat.load(adapter_dir)
        if source["backend"] == "llama.cpp":
            assert entry_gguf is not None
            gguf = entry_gguf(adapter_dir)
            tokenizer = AutoTokenizer.from_pretrained(adapter_dir)
            tokenizer.chat_template = saved.chat_template
            sampler = None
        else:
            from ..artifacts import load_adapter

            model, tokenizer, saved, _ = load_adapter(adapter_dir, merge=True)
            sampler = _TorchSampler(model, tokenizer)
        fmt = _teacher_format(recipe, domain, saved, questions, own_system_prompt=True)
    else:
        if source["backend"] == "llama.cpp":
            from ..bases import gguf_tokenizer

            tokenizer = gguf_tokenizer(source["name"], gguf)
            sampler = None
        else:
            from ..bases import load_base

            base = load_base(source["name"], path=source.get("path"))
            tokenizer, sampler = base.tokenizer, _TorchSampler(base.model, base.tokenizer)
        fmt = _teacher_format(
            recipe, domain, PromptFormat.for_tokenizer(tokenizer), questions, own_system_prompt=False
        )
    if sampler is None:
        from ..backends.llamacpp import LlamaCppSampler

        longest = max(
            len(
                tokenizer(fmt.render(tokenizer, fmt.messages(q.question)), add_special_tokens=False)[
                    "input_ids"
                ]
            )
            for q in questions
        )
        parallel = min(d.parallel or d.samples, d.samples)
        n_ctx = -(-(longest + parallel * d.max_new_tokens + 8) // 256) * 256
        sampler = LlamaCppSampler(gguf, tokenizer, parallel=parallel, n_ctx=n_ctx, threads=d.threads)
    return _Teacher(tokenizer, fmt, sampler, gguf)


# ------------------------------------------------------------------------------------------------ the stage


def _seed(recipe: Recipe) -> int:
    return recipe.data.seed if recipe.distill.seed is None else recipe.distill.seed


def _questions(recipe: Recipe, domain: Domain) -> list[Example]:
    d = recipe.distill
    n = recipe.data.train_size if d.questions is None else d.questions
    families = d.families if d.families is not None else recipe.data.families
    questions = domain.training_examples(n, seed=_seed(recipe), families=families, phrasing=recipe.data.phrasing)
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise SrmzooError(
            f"the {domain.name} domain gave {len(ids) - len(set(ids))} repeated question ids",
            hint="each question's id must be unique: resuming finds finished questions by id",
        )
    return questions


def _settings(recipe: Recipe, domain: Domain, source: dict[str, Any]) -> dict[str, Any]:
    """What the samples depend on; a run resumes or reuses its traces only under the same settings."""
    d = recipe.distill
    return {
        "domain": recipe.domain,
        "data_version": domain.data_version,
        "teacher": {
            "name": d.teacher,
            "kind": source["kind"],
            "backend": source["backend"],
            "identity": _plain(source["identity"]),
        },
        "questions": {
            "split": "train",
            "n": recipe.data.train_size if d.questions is None else d.questions,
            "seed": _seed(recipe),
            "families": list(d.families or recipe.data.families or []) or None,
            # the wording of the questions (training data v2); template, the default, is left unsaid, as in
            # the traces distilled before the key existed
            **({"phrasing": recipe.data.phrasing} if recipe.data.phrasing != "template" else {}),
        },
        "sampling": {
            "samples": d.samples,
            "temperature": d.temperature,
            "top_p": d.top_p,
            "max_new_tokens": d.max_new_tokens,
            "seeding": SEEDING,
            "parallel": min(d.parallel or d.samples, d.samples) if source["backend"] == "llama.cpp" else None,
        },
        "prompt": {
            "system_prompt": d.system_prompt,
            "few_shot": d.few_shot,
            "tools": list(recipe.data.tools),
            "traces": recipe.data.traces if d.few_shot else None,
        },
    }


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """The dotted keys whose values differ.

    >>> _differences({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}, "d": 4})
    ['a.c', 'd']
    """
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(prefix + key)
    return out


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def finished_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest of the finished distillation in ``out``, or None (unfinished, or none there)."""
    manifest = out / MANIFEST_FILE
    if manifest.is_file() and (out / DATASET_DIR).is_dir():
        return json.loads(manifest.read_text())
    return None


def run_distill(
    recipe: Recipe,
    out_dir: str | Path | None = None,
    *,
    resume: bool = False,
    progress: bool = True,
    entry_gguf: EntryGguf | None = None,
) -> DistillResult:
    """Distill the recipe's teacher into verified traces in ``out_dir`` (default: :func:`distill_dir`).

    A directory that holds finished traces of the same settings is reused as it is; an unfinished one
    continues with ``resume`` (after the last question whose line is complete); other settings are refused.

    Args:
        recipe: a validated recipe whose ``distill.teacher`` is set.
        out_dir: the traces' directory.
        resume: continue an interrupted run in ``out_dir``.
        progress: a progress bar with ETA, acceptance rate and tokens/s.
        entry_gguf: how a zoo entry teacher becomes a GGUF for llama.cpp (``srmzoo distill`` passes
            :func:`srmzoo.publish.export.gguf_for`, which the training layer may not import); without it an
            entry teacher runs on torch.

    Raises:
        SrmzooError: no teacher, an unknown teacher, a directory of other settings, an unfinished directory
            without ``resume``, or a backend that cannot run here.
    """
    d = recipe.distill
    if not d.teacher:
        raise SrmzooError(
            f"{recipe.source or recipe.name}: distill.teacher is not set",
            hint="name a registered base or a zoo entry, e.g. distill.teacher=qwen2.5-coder-1.5b-instruct",
        )
    out = Path(out_dir) if out_dir is not None else distill_dir(recipe)
    domain = recipe_domain(recipe)
    saved = json.loads((out / SETTINGS_FILE).read_text()) if (out / SETTINGS_FILE).is_file() else None
    finished = finished_manifest(out)
    keep_backend = saved["teacher"]["backend"] if saved and d.backend == "auto" else None
    source = _teacher_source(recipe, entry_gguf, backend=keep_backend, check=finished is None)
    settings = _settings(recipe, domain, source)
    if saved is not None and saved != settings:
        raise SrmzooError(
            f"{out} holds traces distilled with other settings ({', '.join(_differences(saved, settings))})",
            hint="use another directory (distill.out or --out), or delete it to distill again",
        )
    if finished is not None and finished.get("keep_per_question") == d.keep_per_question:
        log.info("the traces in %s are finished; reusing them", out)
        if "evaluation_sets" not in finished:  # finished by a srmzoo before the traces' contamination check
            finished["evaluation_sets"] = trace_contamination(domain, load_traces(out), n=recipe.eval.n)
            _write_atomically(out / MANIFEST_FILE, json.dumps(finished, indent=2, ensure_ascii=False) + "\n")
        return DistillResult(out, out / DATASET_DIR, finished)
    if saved is None and out.exists() and any(out.iterdir()):
        raise SrmzooError(
            f"{out} is not empty and holds no distillation",
            hint="use another directory (distill.out or --out)",
        )
    if saved is not None and finished is None and not resume:
        raise SrmzooError(
            f"{out} holds an unfinished distillation",
            hint="pass --resume to continue it, or use another directory (distill.out or --out)",
        )
    out.mkdir(parents=True, exist_ok=True)
    if saved is None:
        _write_atomically(out / SETTINGS_FILE, json.dumps(settings, indent=2) + "\n")
    return _distill(recipe, domain, source, settings, out, progress=progress, entry_gguf=entry_gguf)


def _read_records(path: Path, questions: Sequence[Example]) -> dict[str, dict[str, Any]]:
    """The finished questions' records; the file is rewritten without a torn last line (a kill mid-write),
    atomically, so what is appended next starts on a line of its own."""
    wanted = {q.id for q in questions}
    records = {r["id"]: r for r in read_jsonl(path) if r.get("id") in wanted}
    if path.is_file():
        _write_atomically(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records.values()))
    return records


def _distill(
    recipe: Recipe,
    domain: Domain,
    source: dict[str, Any],
    settings: dict[str, Any],
    out: Path,
    *,
    progress: bool,
    entry_gguf: EntryGguf | None,
) -> DistillResult:
    from tqdm.auto import tqdm

    from ..eval.harness import PLAIN_FORMAT_STOPS, end_of_answer, verify_completion

    d = recipe.distill
    session_started = time.perf_counter()
    questions = _questions(recipe, domain)
    shard = out / SAMPLES_FILE
    records = _read_records(shard, questions)
    todo = [q for q in questions if q.id not in records]
    if records:
        log.info("resuming: %d of %d questions already distilled in %s", len(records), len(questions), out)
    teacher = None
    if todo:
        log.info(
            "distilling %d questions x %d samples from %s (%s)",
            len(todo),
            d.samples,
            d.teacher,
            source["backend"],
        )
        teacher = _load_teacher(recipe, source, domain, questions, entry_gguf)
    load_seconds = time.perf_counter() - session_started
    stops = (
        PLAIN_FORMAT_STOPS if teacher and teacher.prompt_format.chat_template == PLAIN_CHAT_TEMPLATE else ()
    )
    counts = _Counts.of(records.values())
    bar = tqdm(
        total=len(questions), initial=len(records), desc="distill", unit="question", disable=not progress
    )
    seed = _seed(recipe)
    try:
        with shard.open("a", encoding="utf-8") as f:
            for q in todo:
                assert teacher is not None
                fmt = teacher.prompt_format
                started = time.perf_counter()
                samples = teacher.sampler.sample(
                    fmt.render(teacher.tokenizer, fmt.messages(q.question)),
                    [sample_seed(seed, q, i) for i in range(d.samples)],
                    max_new_tokens=d.max_new_tokens,
                    temperature=d.temperature,
                    top_p=d.top_p,
                    tools=fmt.tools,
                    stop_strings=stops,
                )
                generated = time.perf_counter()
                completions = [end_of_answer(s.text, fmt) for s in samples]
                record = {
                    "id": q.id,
                    "family": q.family,
                    "completions": completions,
                    "verdicts": [verify_completion(domain, c, q)[0].value for c in completions],
                    "finished": [s.finished for s in samples],
                    "new_tokens": [s.new_tokens for s in samples],
                    "seconds": round(generated - started, 3),
                    "verify_seconds": round(time.perf_counter() - generated, 3),
                }
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
                records[q.id] = record
                counts.add(record)
                bar.update(1)
                bar.set_postfix(
                    accepted=f"{counts.accepted / max(counts.samples, 1):.0%}",
                    tok_s=f"{counts.new_tokens / max(counts.seconds, 1e-9):.0f}",
                )
    finally:
        bar.close()
        if teacher is not None:
            teacher.close()
    ordered = [records[q.id] for q in questions]
    rows = _dataset_rows(questions, ordered, d.keep_per_question)
    dataset_dir = out / DATASET_DIR
    _save_dataset(rows, dataset_dir, progress=progress)
    manifest = _manifest(
        recipe,
        domain,
        settings,
        source,
        questions,
        ordered,
        rows,
        out,
        session_seconds=time.perf_counter() - session_started,
        load_seconds=load_seconds,
    )
    _write_atomically(out / MANIFEST_FILE, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    a = manifest["acceptance"]
    log.info(
        "distilled %s: %d traces for %d of %d questions (%.0f%% of %d samples accepted) -> %s",
        recipe.name,
        len(rows),
        a["questions_with_a_trace"],
        a["questions"],
        100 * a["acceptance_rate"],
        a["samples"],
        out,
    )
    return DistillResult(out, dataset_dir, manifest)


@dataclass
class _Counts:
    samples: int = 0
    accepted: int = 0
    new_tokens: int = 0
    seconds: float = 0.0

    @classmethod
    def of(cls, records: Any) -> _Counts:
        counts = cls()
        for r in records:
            counts.add(r)
        return counts

    def add(self, r: dict[str, Any]) -> None:
        self.samples += len(r["verdicts"])
        self.accepted += sum(_accepted(r))
        self.new_tokens += sum(r["new_tokens"])
        self.seconds += r["seconds"]


def _accepted(r: dict[str, Any]) -> list[bool]:
    return [v == Verdict.CORRECT.value and done for v, done in zip(r["verdicts"], r["finished"], strict=True)]


COLUMNS = ("id", "family", "question", "answer", "solution", "meta", "sample", "new_tokens")


def _dataset_rows(
    questions: Sequence[Example], records: Sequence[dict[str, Any]], keep: int
) -> list[dict[str, Any]]:
    rows = []
    for q, r in zip(questions, records, strict=True):
        for i in kept_samples(r, keep):
            rows.append(
                {
                    "id": q.id,
                    "family": q.family,
                    "question": q.question,
                    "answer": q.answer,
                    "solution": r["completions"][i],
                    "meta": json.dumps(q.meta, sort_keys=True),
                    "sample": i,
                    "new_tokens": r["new_tokens"][i],
                }
            )
    return rows


def _rows_sha256(rows: Sequence[dict[str, Any]]) -> str:
    text = "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _save_dataset(rows: list[dict[str, Any]], target: Path, *, progress: bool) -> None:
    """``save_to_disk`` into a temporary directory that replaces ``target`` in one rename."""
    import datasets
    from datasets import Dataset, Features, Value

    features = Features(
        {c: Value("int32") if c in ("sample", "new_tokens") else Value("string") for c in COLUMNS}
    )
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    bars = datasets.is_progress_bar_enabled()
    if not progress:
        datasets.disable_progress_bars()
    try:
        Dataset.from_dict({c: [r[c] for r in rows] for c in COLUMNS}, features=features).save_to_disk(
            str(tmp)
        )
    finally:
        if bars:
            datasets.enable_progress_bars()
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


def _manifest(
    recipe: Recipe,
    domain: Domain,
    settings: dict[str, Any],
    source: dict[str, Any],
    questions: Sequence[Example],
    records: Sequence[dict[str, Any]],
    rows: Sequence[dict[str, Any]],
    out: Path,
    *,
    session_seconds: float,
    load_seconds: float,
) -> dict[str, Any]:
    families: dict[str, dict[str, Any]] = {}
    kept_ids = {r["id"] for r in rows}
    for r in records:
        f = families.setdefault(
            r["family"],
            {
                "questions": 0,
                "samples": 0,
                "correct": 0,
                "accepted": 0,
                "truncated": 0,
                "questions_with_a_trace": 0,
                "traces": 0,
            },
        )
        f["questions"] += 1
        f["samples"] += len(r["verdicts"])
        f["correct"] += sum(v == Verdict.CORRECT.value for v in r["verdicts"])
        f["accepted"] += sum(_accepted(r))
        f["truncated"] += sum(not done for done in r["finished"])
        f["questions_with_a_trace"] += r["id"] in kept_ids
    for row in rows:
        families[row["family"]]["traces"] += 1
    total = {
        k: sum(f[k] for f in families.values())
        for k in (
            "questions",
            "samples",
            "correct",
            "accepted",
            "truncated",
            "questions_with_a_trace",
            "traces",
        )
    }
    for f in [*families.values(), total]:
        f["acceptance_rate"] = round(f["accepted"] / max(f["samples"], 1), 4)
    new_tokens = sum(sum(r["new_tokens"]) for r in records)
    generate_s = sum(r["seconds"] for r in records)
    verify_s = sum(r.get("verify_seconds", 0.0) for r in records)
    busy_h = (generate_s + verify_s) / 3600
    command = f"srmzoo distill {recipe.source or recipe.name} --out {out}"
    return {
        "kind": "srmzoo-distill",
        "entry": recipe.name,
        "command": command,
        **settings,
        "keep_per_question": recipe.distill.keep_per_question,
        "acceptance": {**total, "by_family": dict(sorted(families.items()))},
        "dataset": {
            "path": DATASET_DIR,
            "rows": len(rows),
            "columns": list(COLUMNS),
            "sha256": _rows_sha256(rows),
            "format": "datasets save_to_disk",
        },
        "throughput": {
            "new_tokens": new_tokens,
            "generation_seconds": round(generate_s, 1),
            "verification_seconds": round(verify_s, 1),
            "tokens_per_s": round(new_tokens / generate_s, 1) if generate_s else None,
            "samples_per_hour": round(total["samples"] / busy_h, 1) if busy_h else None,
            "traces_per_hour": round(len(rows) / busy_h, 1) if busy_h else None,
            "wall_seconds_last_session": round(session_seconds, 1),
            "teacher_load_seconds_last_session": round(load_seconds, 1),
        },
        "evaluation_sets": trace_contamination(
            domain, [Example(r["id"], r["family"], r["question"], r["answer"], r["solution"]) for r in rows],
            n=recipe.eval.n,
        ),
        "hardware": describe_hardware(),
        "srmzoo_version": __version__,
    }


def trace_contamination(domain: Domain, traces: Sequence[Example], *, n: int) -> dict[str, Any]:
    """The kept traces (questions and the teacher's completions) against every evaluation-only set of the
    domain, as a data manifest records its training data's (:func:`srmzoo.contamination.evaluation_sets_block`):
    a teacher that recites an evaluation item verbatim shows up here, ``disjoint`` false."""
    from ..contamination import evaluation_sets_block

    return evaluation_sets_block(domain, traces, n=n, seed=0)  # seed 0: srmzoo eval's default items


def load_traces(out_dir: str | Path) -> list[Example]:
    """The kept traces of a finished distillation, as examples whose ``solution`` is the teacher's completion.

    Raises:
        SrmzooError: ``out_dir`` holds no finished distillation.

    >>> load_traces("/no/such/distill")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: /no/such/distill holds no finished distillation (no distill_manifest.json and dataset/)
      hint: run it: srmzoo distill RECIPE --out /no/such/distill
    """
    from datasets import load_from_disk

    out = Path(out_dir)
    manifest = finished_manifest(out)
    if manifest is None:
        raise SrmzooError(
            f"{out} holds no finished distillation (no {MANIFEST_FILE} and {DATASET_DIR}/)",
            hint=f"run it: srmzoo distill RECIPE --out {out}",
        )
    if not manifest["dataset"]["rows"]:  # datasets 5 cannot load back a dataset of no rows
        return []
    rows = load_from_disk(str(out / DATASET_DIR))
    return [
        Example(
            id=r["id"],
            family=r["family"],
            question=r["question"],
            answer=r["answer"],
            solution=r["solution"],
            meta=json.loads(r["meta"] or "{}"),
        )
        for r in rows
    ]


def distilled_traces(
    recipe: Recipe, *, progress: bool = True, entry_gguf: EntryGguf | None = None
) -> tuple[list[Example], dict[str, Any]]:
    """The SFT data of a recipe with ``distill.use``: its traces (distilled now, continued, or reused when
    finished), and what the adapter records about them.

    Raises:
        SrmzooError: as :func:`run_distill`, or no trace was accepted.
    """
    result = run_distill(recipe, resume=True, progress=progress, entry_gguf=entry_gguf)
    traces = load_traces(result.out_dir)
    m = result.manifest
    if not traces:
        raise SrmzooError(
            f"the teacher {recipe.distill.teacher} had no verified completion on any of the "
            f"{m['acceptance']['questions']} questions ({result.out_dir})",
            hint="raise distill.samples or distill.max_new_tokens, add distill.few_shot, or pick a "
            "stronger teacher",
        )
    info = {
        "traces": len(traces),
        "dir": str(result.out_dir),
        "teacher": m["teacher"],
        "dataset_sha256": m["dataset"]["sha256"],
        "acceptance_rate": m["acceptance"]["acceptance_rate"],
    }
    return traces, info
