"""Run under torchrun by tests/test_training.py: train the tiny model with DDP and record this rank's
LoRA weights checksum, so the test can check the ranks agree."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import toy_domain  # noqa: E402,F401  (registers the toy domain)
from transformers import TrainerCallback  # noqa: E402

from srmzoo.recipe import Recipe  # noqa: E402
from srmzoo.train.stages import train  # noqa: E402


class RecordLora(TrainerCallback):
    def __init__(self, out: Path):
        self.out = out

    def on_train_end(self, args, state, control, model=None, **kw):
        digest = hashlib.sha256()
        for name, p in sorted(model.named_parameters()):
            if p.requires_grad:
                digest.update(name.encode())
                digest.update(p.detach().float().numpy().tobytes())
        rank = int(os.environ.get("RANK", 0))
        (self.out / f"rank{rank}.json").write_text(json.dumps({
            "rank": rank, "world_size": int(os.environ.get("WORLD_SIZE", 1)), "lora_sha256": digest.hexdigest(),
            "steps": state.global_step}))


def main() -> None:
    tiny, run_dir, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    recipe = Recipe.from_dict({
        "name": "ddp-smoke", "domain": "toy-addition",
        "model": {"base": "smollm2-135m-instruct", "path": tiny},
        "data": {"train_size": 32, "max_length": 128},
        "train": {"batch_size": 2, "max_steps": 3, "save_steps": 100, "logging_steps": 1, "lr": 1e-2},
    })
    train(recipe, run_dir, progress=False, callbacks=[RecordLora(out)])


if __name__ == "__main__":
    main()
