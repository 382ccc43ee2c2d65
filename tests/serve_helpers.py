"""Helpers of the serve tests: a scripted language model whose output is known to the token, a stand-in for
llama-cpp-python's ``Llama`` that writes the same script, and a uvicorn server on 127.0.0.1 in a thread."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any

SCRIPT_PARTS = ("The price drops by <<70 - 56>>", " = 14", ". The answer is \\boxed{14}.")
SCRIPT_TEXT = "".join(SCRIPT_PARTS)


def script_ids(tokenizer: Any) -> list[int]:
    """The script's tokens as the decoder will see them: the tool result ``" = 14"`` tokenized the way
    :class:`srmzoo.tools.ToolCaller` writes it (on its own), so forcing it keeps the script aligned."""
    return [t for part in SCRIPT_PARTS for t in tokenizer.encode(part, add_special_tokens=False)]


def _generated(tokens: Sequence[int], tokenizer: Any) -> int:
    """How many tokens follow the prompt's last ``<|im_start|>assistant\\n`` (the generation prompt)."""
    start = tokenizer.convert_tokens_to_ids("<|im_start|>")
    header = len(tokenizer.encode("assistant\n", add_special_tokens=False))
    last = max(i for i, t in enumerate(tokens) if t == start)
    return len(tokens) - (last + 1 + header)


def scripted_model(tokenizer: Any, *, delay: float = 0.0, repeat: bool = False) -> Any:
    """A causal LM (the engine's interface: ``model(input_ids, attention_mask, position_ids, cache, ...)``)
    that writes :data:`SCRIPT_TEXT` after any chat prompt, then its end token, whatever the batch.

    It keeps each row's tokens in the KV cache itself (one layer whose keys are the token ids), so rows
    leaving, joining and being trimmed go through the engine's real cache handling. ``delay`` seconds per
    forward make a slow model; ``repeat`` writes the script over and over instead of ending.
    """
    import torch
    from transformers import GenerationConfig, LlamaConfig

    script = script_ids(tokenizer)
    eos = tokenizer.eos_token_id
    vocab = len(tokenizer)

    class Scripted(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(1))
            self.config = LlamaConfig(vocab_size=vocab, hidden_size=8, intermediate_size=8, num_hidden_layers=1,
                                      num_attention_heads=1, num_key_value_heads=1, max_position_embeddings=2048)
            self.generation_config = GenerationConfig(eos_token_id=eos)
            self.forwards = 0

        def forward(self, input_ids, attention_mask, position_ids=None, cache=None, use_cache=True,
                    logits_to_keep=0):
            self.forwards += 1
            if delay:
                time.sleep(delay)
            ids = input_ids.float()[:, None, :, None]
            keys, _ = cache.update(ids, ids, 0)
            logits = torch.zeros((input_ids.shape[0], 1, vocab))
            for row in range(input_ids.shape[0]):
                real = keys[row, 0, attention_mask[row].bool(), 0].long().tolist()
                k = _generated(real, tokenizer)
                k = k % len(script) if repeat else k
                logits[row, 0, script[k] if k < len(script) else eos] = 100.0
            return SimpleNamespace(logits=logits)

    return Scripted().eval()


class FakeLlama:
    """What the engine uses of llama-cpp-python's ``Llama``, writing the same script as
    :func:`scripted_model` after the given tokens (``generate`` restarts from them, as llama.cpp does)."""

    def __init__(self, tokenizer: Any, *, n_ctx: int = 2048):
        self.tokenizer, self._n_ctx = tokenizer, n_ctx
        self.script = script_ids(tokenizer)
        self.seeds: list[int] = []
        self.restarts = 0

    def n_ctx(self) -> int:
        return self._n_ctx

    def token_eos(self) -> int:
        return self.tokenizer.eos_token_id

    def set_seed(self, seed: int) -> None:
        self.seeds.append(seed)

    def generate(self, tokens: Sequence[int], **sampling: Any) -> Iterator[int]:
        self.restarts += 1
        k = _generated(list(tokens), self.tokenizer)
        while True:
            yield self.script[k] if k < len(self.script) else self.tokenizer.eos_token_id
            k += 1


def fake_llama_backend(tokenizer: Any) -> Any:
    """An object shaped like :class:`srmzoo.backends.llamacpp.LlamaCppGenerator` around a :class:`FakeLlama`."""
    llm = FakeLlama(tokenizer)
    return SimpleNamespace(llm=llm, tokenizer=tokenizer, eos={llm.token_eos()})


@contextlib.contextmanager
def running_server(engine: Any, **app_kwargs: Any) -> Iterator[str]:
    """Serve ``engine`` with uvicorn on 127.0.0.1 (a free port) in a thread; yields the base URL and shuts
    the server down (and so the engine) on exit."""
    import uvicorn

    from srmzoo.serve.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(engine, **app_kwargs), host="127.0.0.1", port=0,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start in 30 s")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
