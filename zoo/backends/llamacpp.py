"""Generation through llama.cpp on an entry's GGUF export: the reasoner's fast path on a CPU at batch 1.

``srmzoo.load(entry, backend="llama.cpp")`` exports the merged entry once (:func:`srmzoo.publish.export.gguf_for`,
cached under ``$SRMZOO_CACHE/gguf/<entry>-<adapter sha>-<quantization>/``) and generates with
llama-cpp-python (``pip install -e ".[llama]"``; it builds llama.cpp from source). A 135M model in fp32
torch is memory-bound at batch 1 on a small CPU; llama.cpp reads half (f16) or a quarter (q8_0) of the
bytes (``bench/llama_cpp_speed.py``: 4.3x and 5.4x transformers' tokens/s here).

The decoding loop is srmzoo's, token by token, so tool calls work exactly as in torch generation: the
vocabulary is the same, :class:`srmzoo.tools.ToolCaller` answers a call when it closes, and the result's
tokens are fed to llama.cpp (which keeps the evaluated prefix) before sampling goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import SrmzooError
from ..tools import ToolCaller

__all__ = ["LlamaCppGenerator", "import_llama_cpp"]

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
