"""A minimal in-test domain (two-number addition) so the fine-tune core is tested without any real domain."""

from __future__ import annotations

import random

from srmzoo.domain import Check, Domain, Example, Verdict, last_boxed, register_domain


@register_domain
class ToyAddition(Domain):
    name = "toy-addition"
    description = "add two numbers (test fixture)"
    system_prompt = "Add the numbers. End with \\boxed{sum}."
    families = ("add",)

    def examples(self, split, n, *, seed=0, families=None):
        self.check_split(split)
        rng = random.Random(f"{split}:{seed}")
        out = []
        for i in range(n):
            a, b = rng.randint(1, 50), rng.randint(1, 50)
            out.append(Example(id=f"toy/{split}/{i:05d}", family="add", question=f"What is {a} + {b}?",
                               answer=str(a + b), solution=f"{a} + {b} = {a + b}.\n\\boxed{{{a + b}}}"))
        return out

    def extract_answer(self, completion):
        return last_boxed(completion)

    def check(self, completion, example):
        got = self.extract_answer(completion)
        if got is None:
            return Check(Verdict.UNVERIFIABLE)
        return Check(Verdict.CORRECT if got.strip() == example.answer else Verdict.WRONG, predicted=got)
