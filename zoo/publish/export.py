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

__all__ = ["GGUF_ARCHITECTURES", "GGUF_QUANTIZATIONS", "export_gguf", "export_merged", "gguf_for"]

log = logging.getLogger(__name__)

#: What ``export_gguf(quantization=...)`` accepts. Every 2-D weight is stored in the named type; norms
#: (1-D) stay F32, as llama.cpp's converter keeps them. ``q8_0`` stores blocks of 32 weights as int8 plus
#: one f16 scale (8.5 bits a weight).
GGUF_QUANTIZATIONS = ("f16", "q8_0", "f32")

#: transformers architectures ``export_gguf`` writes, and the GGUF ``general.architecture`` of each.
GGUF_ARCHITECTURES = {"LlamaForCausalLM": "llama"}

# llama.cpp's name for a byte-level BPE pre-tokenizer (``tokenizer.ggml.pre``), keyed by the
# ``tokenizer.json`` pre_tokenizer that splits text the same way. srmzoo's SmolLM2 tokenizer comes from
# transformers' GGUF loader, which drops the Hub tokenizer's digit split; SmolLM2's vocabulary has no token
# holding a digit beside another character, so both spellings tokenize it alike.
_BYTE_LEVEL = {"type": "ByteLevel", "use_regex": True}
_DIGITS = {"type": "Digits", "individual_digits": True}
_PRE_TOKENIZERS = {
    "gpt-2": [_BYTE_LEVEL],  # the GPT-2 regex alone
    "smollm": [_DIGITS, _BYTE_LEVEL],  # digits one by one, then the GPT-2 regex (SmolLM2 on the Hub)
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
    sha256 and its tensor types). The layout follows llama.cpp's ``convert_hf_to_gguf.py`` for the Llama
    family: q/k projections permuted for its rotary layout, tied output written once as ``token_embd``,
    a GPT-2-style BPE vocabulary with merges. transformers reads it back with
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
            f"{', '.join(GGUF_ARCHITECTURES)} (the Llama family: SmolLM2)",
            hint="export it as a transformers model instead: srmzoo export ENTRY --format safetensors --out DIR",
        )
    _check_llama_config(model.config)
    name = meta.get("entry") or adapter_dir.name
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}-{quantization}.gguf"
    try:
        tensor_types = _write_llama_gguf(
            model, tokenizer, path, quantization=quantization, name=name, base=meta["base"]
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


def _write_llama_gguf(
    model: Any, tokenizer: Any, path: Path, *, quantization: str, name: str, base: dict[str, Any]
) -> dict[str, int]:
    """Write a merged Llama-family model as GGUF; returns how many tensors each GGML type holds."""
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
    writer = gguf.GGUFWriter(tmp, GGUF_ARCHITECTURES["LlamaForCausalLM"])
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
    for tensor_name, data in _llama_tensors(model, heads=heads, kv_heads=kv_heads):
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


def _check_llama_config(config: Any) -> None:
    """Refuse what a plain ``llama`` GGUF cannot state, rather than write a file that computes otherwise."""
    rope = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    unsupported = []
    if rope.get("rope_type", rope.get("type", "default")) != "default":
        unsupported.append(f"rope scaling {rope.get('rope_type', rope.get('type'))!r}")
    if _rope_theta(config) is None:
        unsupported.append("no rope_theta")
    if getattr(config, "attention_bias", False) or getattr(config, "mlp_bias", False):
        unsupported.append("bias terms in attention or MLP")
    if getattr(config, "hidden_act", "silu") != "silu":
        unsupported.append(f"activation {config.hidden_act!r}")
    if unsupported:
        raise SrmzooError(
            f"GGUF export covers plain Llama models; this base has {', '.join(unsupported)}",
            hint="export it as a transformers model instead: srmzoo export ENTRY --format safetensors --out DIR",
        )


def _rope_theta(config: Any) -> float | None:
    rope = getattr(config, "rope_parameters", None) or {}  # transformers 5; 4.x kept it on the config
    return rope.get("rope_theta", getattr(config, "rope_theta", None))


def _llama_tensors(model: Any, *, heads: int, kv_heads: int) -> Iterator[tuple[str, Any]]:
    """``(gguf_name, float32 array)`` for every weight, in llama.cpp's names and layout."""
    import gguf
    import torch

    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, model.config.num_hidden_layers)
    state = model.state_dict()
    embed = model.get_input_embeddings().weight
    output = model.get_output_embeddings()
    # tied (SmolLM2): llama.cpp reuses token_embd as the output projection when output.weight is absent
    tied = output is None or output.weight is embed or torch.equal(output.weight, embed)
    for hf_name, tensor in state.items():
        if tied and hf_name == "lm_head.weight":
            continue
        gguf_name = name_map.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise SrmzooError(
                f"GGUF export has no llama.cpp name for tensor {hf_name!r}",
                hint="this base has parts a plain Llama does not; export with --format safetensors",
            )
        data = tensor.detach().to(device="cpu", dtype=torch.float32)
        if hf_name.endswith("self_attn.q_proj.weight"):
            data = _rope_permute(data, heads, heads)
        elif hf_name.endswith("self_attn.k_proj.weight"):
            data = _rope_permute(data, heads, kv_heads)
        yield gguf_name, data.numpy()


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
        if index not in by_id:  # rows past the tokenizer's vocabulary: llama.cpp names them this way
            tokens.append(f"[PAD{index}]")
            types.append(gguf.TokenType.USER_DEFINED)
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
        f"GGUF export writes byte-level BPE tokenizers split like GPT-2 or SmolLM2; this one is a "
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
