"""Export a zoo entry as a standalone transformers model (LoRA merged into the base weights)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import SrmzooError

__all__ = ["export_merged"]


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
    from .evaluation import ADAPTER_WEIGHTS_FILE, _sha256_file, load_adapter
    from .store import find_adapter

    adapter_dir = find_adapter(target)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SrmzooError(f"{out} exists and is not an empty directory", hint="pick a new --out directory")
    model, tokenizer, fmt, meta = load_adapter(adapter_dir, device=device, base_path=base_path, merge=True)
    if hasattr(model, "peft_config"):  # merge was refused (quantized base)
        raise SrmzooError("cannot merge an adapter into a quantized base", hint="export on an unquantized base")
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.chat_template = fmt.chat_template
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    fmt.save(out)
    record = {
        "entry": meta.get("entry"),
        "adapter": str(adapter_dir),
        "adapter_sha256": _sha256_file(adapter_dir / ADAPTER_WEIGHTS_FILE),
        "base": meta["base"],
        "merged": True,
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
    }
    (out / "srmzoo_export.json").write_text(json.dumps(record, indent=2) + "\n")
    return out
