"""Export a zoo entry for use outside srmzoo, with the LoRA merged into the base weights: a standalone
transformers model (safetensors), or one GGUF file for llama.cpp-style edge runtimes."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..artifacts import ADAPTER_WEIGHTS_FILE, read_adapter_meta, sha256_file
from ..errors import SrmzooError

__all__ = [
    "GGUF_ARCHITECTURES",
    "GGUF_QUANTIZATIONS",
    "QWEN2_SPLIT_REGEX",
    "export_gguf",
    "export_merged",
    "gguf_for",
    "template_with_system_prompt",
]

log = logging.getLogger(__name__)

#: What ``export_gguf(quantization=...)`` accepts. Every 2-D weight is stored in the named type; norms
#: (1-D) stay F32, as llama.cpp's converter keeps them. ``q8_0`` stores blocks of 32 weights as int8 plus
#: one f16 scale (8.5 bits a weight).
GGUF_QUANTIZATIONS = ("f16", "q8_0", "f32")

#: transformers architectures ``export_gguf`` writes, and the GGUF ``general.architecture`` of each.
GGUF_ARCHITECTURES = {"LlamaForCausalLM": "llama", "Qwen2ForCausalLM": "qwen2"}

# llama.cpp's name for a byte-level BPE pre-tokenizer (``tokenizer.ggml.pre``), keyed by the
# ``tokenizer.json`` pre_tokenizer that splits text the same way. srmzoo's SmolLM2 tokenizer comes from
# transformers' GGUF loader, which drops the Hub tokenizer's digit split; SmolLM2's vocabulary has no token
# holding a digit beside another character, so both spellings tokenize it alike.
_BYTE_LEVEL = {"type": "ByteLevel", "use_regex": True}
_DIGITS = {"type": "Digits", "individual_digits": True}
# Qwen2's split (Qwen's tokenizer.json, llama.cpp's "qwen2", transformers' qwen2 PRETOKENIZE_REGEX): one
# digit per piece, letters with at most one leading non-letter, punctuation runs, newline runs.
QWEN2_SPLIT_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
_PRE_TOKENIZERS = {
    "gpt-2": [_BYTE_LEVEL],  # the GPT-2 regex alone
    "smollm": [_DIGITS, _BYTE_LEVEL],  # digits one by one, then the GPT-2 regex (SmolLM2 on the Hub)
    "qwen2": [  # Qwen2's regex, then bytes to characters without a second split
        {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT_REGEX}, "behavior": "Isolated"},
        {"type": "ByteLevel", "use_regex": False},
    ],
}


def export_merged(
    target: str | Path,
    out: str | Path,
    *,
    device: str | None = None,
    base_path: str | os.PathLike | None = None,
) -> Path:
    """Merge an adapter into its base and save a standalone model that ``AutoModelForCausalLM`` loads.

    Writes ``model.safetensors`` + config + tokenizer (with the chat template the adapter was trained
    with), ``srmzoo_prompt.json`` (the full prompt format, system prompt included) and
    ``srmzoo_export.json`` (which adapter and base it was made from).

    Raises:
        SrmzooError: an unknown entry, or an output directory that exists and is not empty.

    >>> export_merged("/no/such/adapter", "/tmp/x")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: no adapter for '/no/such/adapter': not a path with adapter_config.json, nor ...
    """
    adapter_dir, out = _check_target(target, out)
    model, tokenizer, fmt, meta = _load_merged(adapter_dir, device=device, base_path=base_path)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    fmt.save(out)
    record = _export_record(adapter_dir, meta) | {
        "format": "safetensors",
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
    }
    (out / "srmzoo_export.json").write_text(json.dumps(record, indent=2) + "\n")
    return out


def export_gguf(
    target: str | Path,
    out: str | Path,
    *,
    quantization: str = "f16",
    device: str | None = None,
    base_path: str | os.PathLike | None = None,
) -> Path:
    """Merge an adapter into its base and write it as one GGUF file, for llama.cpp-style runtimes.

    Writes ``<entry>-<quantization>.gguf`` (weights, model shape, tokenizer tables and the chat template
    the adapter was trained with), ``srmzoo_prompt.json`` (the full prompt format: the system prompt is
    not part of the chat template) and ``srmzoo_export.json`` (adapter, base, quantization, the file's
    sha256 and its tensor types). The layout follows llama.cpp's ``convert_hf_to_gguf.py``: for the Llama
    family (``llama``) q/k projections permuted for its rotary layout; for Qwen2 (``qwen2``) no permutation
    (llama.cpp rotates it NEOX-style, as transformers does) and the q/k/v biases kept in F32; a tied
    output written once as ``token_embd``; a byte-level BPE vocabulary with merges and the pre-tokenizer's
    llama.cpp name (``smollm``, ``gpt-2``, ``qwen2``). The chat template is the one the adapter was trained
    with, made to insert the trained system prompt when a conversation brings none (so a runtime that only
    reads the GGUF prompts the model as it was trained). transformers reads the file back with
    ``AutoModelForCausalLM.from_pretrained(out, gguf_file=name)``.

    Args:
        target: entry name in the local store, adapter directory, or run directory.
        out: output directory; must not exist or be empty.
        quantization: one of :data:`GGUF_QUANTIZATIONS`: ``"f16"`` (default), ``"q8_0"`` (about half of
            f16's size) or ``"f32"`` (the merged weights exactly). A weight whose rows do not split into
            blocks of 32 is stored as f16 under ``q8_0`` (as llama.cpp does; logged and recorded).
        device: where to load and merge (``cpu``/``cuda``); default: cuda when available.
        base_path: load the base from this local source instead of its recorded origin.

    Returns:
        The path of the written ``.gguf`` file.

    Raises:
        SrmzooError: an unknown quantization or entry, an output directory that is not empty, a base
            architecture or tokenizer GGUF export does not cover, or a quantized base.

    >>> export_gguf("math-135m", "/tmp/x", quantization="q4_k_m")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: unknown GGUF quantization 'q4_k_m'
      hint: choose one of: f16, q8_0, f32
    """
    if quantization not in GGUF_QUANTIZATIONS:
        raise SrmzooError(
            f"unknown GGUF quantization {quantization!r}",
            hint=f"choose one of: {', '.join(GGUF_QUANTIZATIONS)}",
        )
    adapter_dir, out = _check_target(target, out)
    model, tokenizer, fmt, meta = _load_merged(adapter_dir, device=device, base_path=base_path)
    architecture = (model.config.architectures or [type(model).__name__])[0]
    if architecture not in GGUF_ARCHITECTURES:
        raise SrmzooError(
            f"GGUF export does not cover base {meta['base']['name']!r} ({architecture}); it supports "
            f"{', '.join(GGUF_ARCHITECTURES)} (SmolLM2; Qwen2.5 and Qwen2.5-Coder)",
            hint="export it as a transformers model instead: srmzoo export ENTRY --format safetensors --out DIR",
        )
    arch = GGUF_ARCHITECTURES[architecture]
    _check_config(model.config, arch)
    tokenizer.chat_template = template_with_system_prompt(tokenizer.chat_template, fmt.system_prompt)
    name = meta.get("entry") or adapter_dir.name
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}-{quantization}.gguf"
    try:
        tensor_types = _write_gguf(
            model, tokenizer, path, arch=arch, quantization=quantization, name=name, base=meta["base"]
        )
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        else:
            for leftover in out.iterdir():
                leftover.unlink()
        raise
    fmt.save(out)

    record = _export_record(adapter_dir, meta) | {
        "format": "gguf",
        "quantization": quantization,
        "file": path.name,
        "sha256": sha256_file(path),
        "size_bytes": path.stat().st_size,
        "tensor_types": tensor_types,
        "architecture": arch,
        "chat_template_system_prompt": fmt.system_prompt,
    }
    (out / "srmzoo_export.json").write_text(json.dumps(record, indent=2) + "\n")
    return path


def _check_target(target: str | Path, out: str | Path) -> tuple[Path, Path]:
    """The adapter directory for ``target``, and ``out`` once it is known to be free to write."""
    from ..store import find_adapter

    adapter_dir = find_adapter(target)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SrmzooError(f"{out} exists and is not an empty directory", hint="pick a new --out directory")
    return adapter_dir, out


def _load_merged(adapter_dir: Path, *, device: str | None, base_path: str | os.PathLike | None) -> Any:
    """``(model, tokenizer, prompt_format, meta)`` with the LoRA folded into the base weights and the
    tokenizer carrying the chat template the adapter was trained with."""
    from ..artifacts import load_adapter

    model, tokenizer, fmt, meta = load_adapter(adapter_dir, device=device, base_path=base_path, merge=True)
    if hasattr(model, "peft_config"):  # merge was refused (quantized base)
        raise SrmzooError(
            "cannot merge an adapter into a quantized base", hint="export on an unquantized base"
        )
    tokenizer.chat_template = fmt.chat_template
    return model, tokenizer, fmt, meta


def _export_record(adapter_dir: Path, meta: dict[str, Any]) -> dict[str, Any]:

    return {
        "entry": meta.get("entry"),
        "adapter": str(adapter_dir),
        "adapter_sha256": sha256_file(adapter_dir / ADAPTER_WEIGHTS_FILE),
        "base": meta["base"],
        "merged": True,
    }


# ------------------------------------------------------------------------------------------------- GGUF


def _write_gguf(
    model: Any, tokenizer: Any, path: Path, *, arch: str, quantization: str, name: str, base: dict[str, Any]
) -> dict[str, int]:
    """Write a merged Llama or Qwen2 model as GGUF; returns how many tensors each GGML type holds."""
    import gguf

    config = model.config
    hidden, heads = config.hidden_size, config.num_attention_heads
    kv_heads = config.num_key_value_heads or heads
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    vocab_size = model.get_input_embeddings().weight.shape[0]
    file_type = {
        "f32": gguf.LlamaFileType.ALL_F32,
        "f16": gguf.LlamaFileType.MOSTLY_F16,
        "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
    }[quantization]

    tmp = path.with_name(path.name + ".partial")
    writer = gguf.GGUFWriter(tmp, arch)
    writer.add_type(gguf.GGUFType.MODEL)
    writer.add_name(name)
    if base.get("hub_id"):
        writer.add_base_model_count(1)
        writer.add_base_model_name(0, base["hub_id"])
        writer.add_base_model_repo_url(0, f"https://huggingface.co/{base['hub_id']}")
    writer.add_block_count(config.num_hidden_layers)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(hidden)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_freq_base(float(_rope_theta(config)))
    writer.add_layer_norm_rms_eps(float(config.rms_norm_eps))
    writer.add_vocab_size(vocab_size)
    writer.add_rope_dimension_count(head_dim)
    if head_dim != hidden // heads:  # llama.cpp otherwise derives the head size from these two
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    writer.add_file_type(file_type)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    _add_gpt2_tokenizer(writer, tokenizer, vocab_size)

    qtype = {
        "f32": gguf.GGMLQuantizationType.F32,
        "f16": gguf.GGMLQuantizationType.F16,
        "q8_0": gguf.GGMLQuantizationType.Q8_0,
    }[quantization]
    types: Counter[str] = Counter()
    for tensor_name, data in _gguf_tensors(model, arch=arch, heads=heads, kv_heads=kv_heads):
        # norms and biases (1-D) stay F32: llama.cpp adds biases in F32 and converts them so itself
        want = gguf.GGMLQuantizationType.F32 if data.ndim <= 1 else qtype
        try:
            stored = gguf.quants.quantize(data, want)
        except gguf.QuantError as err:
            log.warning("%s: %s; storing it as F16", tensor_name, err)
            want = gguf.GGMLQuantizationType.F16
            stored = gguf.quants.quantize(data, want)
        writer.add_tensor(tensor_name, stored, raw_dtype=want)
        types[want.name] += 1

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(tmp, path)
    return dict(sorted(types.items()))


def _check_config(config: Any, arch: str) -> None:
    """Refuse what a plain ``llama`` or ``qwen2`` GGUF cannot state, rather than write a file that
    computes otherwise."""
    rope = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    unsupported = []
    if rope.get("rope_type", rope.get("type", "default")) != "default":
        unsupported.append(f"rope scaling {rope.get('rope_type', rope.get('type'))!r}")
    if _rope_theta(config) is None:
        unsupported.append("no rope_theta")
    if arch == "llama" and (getattr(config, "attention_bias", False) or getattr(config, "mlp_bias", False)):
        unsupported.append("bias terms in attention or MLP")
    if arch == "qwen2" and getattr(config, "use_sliding_window", False):
        unsupported.append("sliding-window attention")
    if getattr(config, "hidden_act", "silu") != "silu":
        unsupported.append(f"activation {config.hidden_act!r}")
    if unsupported:
        raise SrmzooError(
            f"GGUF export covers plain {'Llama' if arch == 'llama' else 'Qwen2'} models; this base has "
            f"{', '.join(unsupported)}",
            hint="export it as a transformers model instead: srmzoo export ENTRY --format safetensors --out DIR",
        )


def _rope_theta(config: Any) -> float | None:
    rope = getattr(config, "rope_parameters", None) or {}  # transformers 5; 4.x kept it on the config
    return rope.get("rope_theta", getattr(config, "rope_theta", None))


def _gguf_tensors(model: Any, *, arch: str, heads: int, kv_heads: int) -> Iterator[tuple[str, Any]]:
    """``(gguf_name, float32 array)`` for every weight, in llama.cpp's names and layout."""
    import gguf
    import torch

    model_arch = {"llama": gguf.MODEL_ARCH.LLAMA, "qwen2": gguf.MODEL_ARCH.QWEN2}[arch]
    name_map = gguf.get_tensor_name_map(model_arch, model.config.num_hidden_layers)
    state = model.state_dict()
    embed = model.get_input_embeddings().weight
    output = model.get_output_embeddings()
    # tied (SmolLM2, Qwen2.5-0.5B/1.5B): llama.cpp reuses token_embd as the output projection when
    # output.weight is absent
    tied = output is None or output.weight is embed or torch.equal(output.weight, embed)
    for hf_name, tensor in state.items():
        if tied and hf_name == "lm_head.weight":
            continue
        gguf_name = name_map.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise SrmzooError(
                f"GGUF export has no llama.cpp name for tensor {hf_name!r}",
                hint=f"this base has parts a plain {arch} model does not; export with --format safetensors",
            )
        data = tensor.detach().to(device="cpu", dtype=torch.float32)
        if arch == "llama" and hf_name.endswith("self_attn.q_proj.weight"):
            data = _rope_permute(data, heads, heads)
        elif arch == "llama" and hf_name.endswith("self_attn.k_proj.weight"):
            data = _rope_permute(data, heads, kv_heads)
        yield gguf_name, data.numpy()


def template_with_system_prompt(chat_template: str | None, system_prompt: str | None) -> str | None:
    """A chat template that puts ``system_prompt`` first when a conversation has no system turn.

    The trained system prompt otherwise lives only in ``srmzoo_prompt.json``; a runtime that reads just
    the GGUF (llama.cpp's server, Ollama) would fall back to the base's default (Qwen's "You are Qwen,
    created by Alibaba Cloud...") and prompt the model unlike its training. A conversation that brings
    its own system turn renders exactly as under the original template.

    >>> from jinja2 import Template
    >>> t = template_with_system_prompt("{% for m in messages %}[{{ m['content'] }}]{% endfor %}", "Be brief.")
    >>> Template(t).render(messages=[{"role": "user", "content": "hi"}])
    '[Be brief.][hi]'
    >>> Template(t).render(messages=[{"role": "system", "content": "S"}, {"role": "user", "content": "hi"}])
    '[S][hi]'
    """
    if not chat_template or not system_prompt:
        return chat_template
    # a JSON string is a valid Jinja string literal (its escapes are Python's)
    literal = json.dumps(system_prompt, ensure_ascii=False)
    return (
        "{%- if not messages or messages[0]['role'] != 'system' -%}"
        f"{{%- set messages = [{{'role': 'system', 'content': {literal}}}] + messages -%}}"
        "{%- endif -%}" + chat_template
    )


def _rope_permute(weights: Any, n_head: int, n_head_kv: int) -> Any:
    """Reorder a q/k projection's rows from transformers' rotary layout (each head's first half rotated
    with its second half) to llama.cpp's (adjacent pairs), as ``convert_hf_to_gguf.py``'s ``permute``.

    >>> import torch
    >>> _rope_permute(torch.arange(4.0).reshape(4, 1), 1, 1).flatten().tolist()
    [0.0, 2.0, 1.0, 3.0]
    """
    if n_head != n_head_kv:
        n_head = n_head_kv
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def _add_gpt2_tokenizer(writer: Any, tokenizer: Any, vocab_size: int) -> None:
    """Write a byte-level BPE tokenizer as llama.cpp's ``gpt2`` tokenizer: tokens by id, their types,
    merges, special ids, whether BOS/EOS are added, and the chat template."""
    import gguf

    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    pre = _pre_tokenizer_name(spec)
    by_id = {index: token for token, index in tokenizer.get_vocab().items()}
    if len(by_id) > vocab_size or max(by_id) >= vocab_size:
        raise SrmzooError(
            f"the tokenizer has {len(by_id)} tokens but the model's embedding only {vocab_size} rows",
            hint="the tokenizer does not belong to this model",
        )
    added = tokenizer.added_tokens_decoder
    tokens, types = [], []
    for index in range(vocab_size):
        # Rows past the tokenizer's vocabulary: llama.cpp's converter names them [PAD<id>] and marks them
        # unused. Qwen2.5's GGUFs carry those names, so a tokenizer read from one has them as plain tokens.
        if index not in by_id or (by_id[index] == f"[PAD{index}]" and index not in added):
            tokens.append(f"[PAD{index}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        tokens.append(by_id[index])
        if index in added:
            types.append(gguf.TokenType.CONTROL if added[index].special else gguf.TokenType.USER_DEFINED)
        else:
            types.append(gguf.TokenType.NORMAL)
    merges = spec["model"].get("merges") or []
    # tokenizers >= 0.20 writes merges as pairs; GGUF as "a b", with a space inside a part moved to U+0120
    merges = [m if isinstance(m, str) else " ".join(p.replace(" ", "\u0120") for p in m) for m in merges]
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    framed = tokenizer("a")["input_ids"]
    extra = len(framed) > len(plain)

    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    for kind in ("bos", "eos", "unk", "pad"):
        token_id = getattr(tokenizer, f"{kind}_token_id")
        if token_id is not None:
            getattr(writer, f"add_{kind}_token_id")(token_id)
    writer.add_add_bos_token(extra and framed[0] == tokenizer.bos_token_id)
    writer.add_add_eos_token(extra and framed[-1] == tokenizer.eos_token_id)
    if tokenizer.chat_template:
        writer.add_chat_template(tokenizer.chat_template)


def _pre_tokenizer_name(spec: dict[str, Any]) -> str:
    """llama.cpp's ``tokenizer.ggml.pre`` for a ``tokenizer.json``, or an error naming what it is.

    >>> _pre_tokenizer_name({"model": {"type": "BPE"}, "pre_tokenizer": {"type": "ByteLevel",
    ...     "add_prefix_space": False, "trim_offsets": True, "use_regex": True}})
    'gpt-2'
    """
    model_type = spec.get("model", {}).get("type")
    pre = spec.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", [pre]) if pre.get("type") == "Sequence" else [pre]
    if model_type == "BPE":
        for name, shape in _PRE_TOKENIZERS.items():
            if len(steps) == len(shape) and all(
                all(step.get(k) == v for k, v in want.items()) for step, want in zip(steps, shape)
            ):
                return name
    raise SrmzooError(
        f"GGUF export writes byte-level BPE tokenizers split like GPT-2, SmolLM2 or Qwen2; this one is a "
        f"{model_type} model with pre-tokenizer {json.dumps(pre)}",
        hint="export it as a transformers model instead: srmzoo export ENTRY --format safetensors --out DIR",
    )


def gguf_for(adapter_dir: Path, quantization: str = "f16", *, base_path: Any = None) -> Path:
    """The entry's GGUF export, written once into srmzoo's cache and reused while the adapter is unchanged."""
    from ..bases import cache_dir

    meta = read_adapter_meta(adapter_dir)
    sha = sha256_file(adapter_dir / ADAPTER_WEIGHTS_FILE)
    name = meta.get("entry") or adapter_dir.name
    out = cache_dir() / "gguf" / f"{name}-{sha[:12]}-{quantization}"
    record = out / "srmzoo_export.json"
    if record.is_file():
        done = json.loads(record.read_text())
        path = out / done["file"]
        if path.is_file() and sha256_file(path) == done["sha256"]:
            return path
    if out.is_dir() and any(out.iterdir()):  # an interrupted or altered export: start it over
        log.warning("the cached GGUF export in %s is incomplete or changed; exporting again", out)
        for leftover in out.iterdir():
            leftover.unlink()
    log.info("exporting %s to GGUF (%s) for llama.cpp, once: %s", name, quantization, out)
    return export_gguf(adapter_dir, out, quantization=quantization, device="cpu", base_path=base_path)
