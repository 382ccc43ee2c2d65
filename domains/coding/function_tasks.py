"""The catalogue of small functions the synthesis and bug-fix families ask for, each with its truth.

A :class:`FunctionTask` is a kind of function (``sum_multiples``: add the numbers divisible by k) with a
finite list of **variants**: the constants and options that change what the function must do (k = 3,
"not divisible"). A variant, built with function and parameter names drawn at random, is a
:class:`FunctionSpec`: the specification in words, the reference solution as source code, a short plan,
the reference **behaviour** (the same function as a Python callable, used to compute every test's
expected value), how to draw test arguments, the edge cases that must be tested, and typical **bugs**.

A bug is a textual edit of the reference source (``right`` -> ``wrong``) together with the behaviour of
the edited function, so the generator can prove in-process, without running any code, that the tests
it writes catch the bug. That the source and the behaviour agree is checked by running every source in
the sandbox (:mod:`.audit`, ``tests/test_domain_coding.py``).

:data:`TASKS` are used by train and test (which split them by variant, :mod:`.splits`); the tasks of
:data:`OOD_TASKS` are held out for the ``ood`` split: compositions of the same skills (nested loops,
filtered squares, pair counts) never seen in training.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["OOD_TASKS", "TASKS", "WORDS", "Bug", "FunctionSpec", "FunctionTask", "buggy_source"]

# Everyday words of 2-8 letters: test inputs for the string tasks (word lengths matter to some tasks).
WORDS = (
    "at", "go", "up", "me", "on", "cat", "sun", "map", "red", "box", "fig", "owl", "tree", "blue", "milk",
    "frog", "kite", "lamp", "song", "apple", "river", "stone", "cloud", "green", "tiger", "bread",
    "garden", "planet", "rabbit", "silver", "window", "yellow", "pencil", "kitchen", "morning", "blanket",
    "dolphin", "pumpkin", "elephant", "mountain", "sandwich", "tomorrow",
)  # fmt: skip


@dataclass(frozen=True)
class Bug:
    """One typical mistake: a textual edit of the reference source and what the edited function does.

    Attributes:
        right: a snippet of the reference source (it occurs exactly once).
        wrong: what the bug puts in its place.
        why: one or two sentences for the bug-fix solution: what is wrong and what it should be.
        behaviour: what the buggy function returns (it may raise).
    """

    right: str
    wrong: str
    why: str
    behaviour: Callable[..., Any]


@dataclass(frozen=True)
class FunctionSpec:
    """A task with its variant and names fixed: everything needed to pose, solve and test it.

    Attributes:
        task: the task's catalogue name.
        variant: the constants and options (the task's part of the train/test partition key).
        name: the function's name.
        params: its parameter names.
        does: what it does, as the end of "a function that ..." (``"returns the sum of ..."``).
        source: the reference solution.
        plan: the reasoning steps written before the code (at most four short lines).
        behaviour: the reference behaviour, called with test arguments.
        draw_args: a random tuple of arguments.
        edge_args: argument tuples every test set includes (boundaries, empty inputs).
        bugs: typical mistakes (at least one), for the bug-fix family and to make the tests strict.
    """

    task: str
    variant: tuple[Any, ...]
    name: str
    params: tuple[str, ...]
    does: str
    source: str
    plan: tuple[str, ...]
    behaviour: Callable[..., Any]
    draw_args: Callable[[random.Random], tuple[Any, ...]]
    edge_args: tuple[tuple[Any, ...], ...]
    bugs: tuple[Bug, ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)})"


@dataclass(frozen=True)
class FunctionTask:
    """A kind of function: its variants and how one variant becomes a :class:`FunctionSpec`."""

    name: str
    variants: tuple[tuple[Any, ...], ...]
    build: Callable[[random.Random, tuple[Any, ...]], FunctionSpec]


def buggy_source(spec: FunctionSpec, bug: Bug) -> str:
    """The reference source with ``bug`` applied.

    Raises:
        ValueError: the bug's snippet does not occur exactly once (a defect of the catalogue).

    >>> spec = TASKS["clamp"].build(random.Random(0), (0, 10))
    >>> buggy_source(spec, spec.bugs[0]) != spec.source
    True
    """
    if spec.source.count(bug.right) != 1:
        raise ValueError(
            f"bug snippet {bug.right!r} occurs {spec.source.count(bug.right)} times in {spec.task}"
        )
    return spec.source.replace(bug.right, bug.wrong)


# ------------------------------------------------------------------------------------------- input helpers


def _ints(rng: random.Random, lo: int, hi: int, min_len: int, max_len: int) -> list[int]:
    return [rng.randint(lo, hi) for _ in range(rng.randint(min_len, max_len))]


def _words(rng: random.Random, min_len: int, max_len: int) -> list[str]:
    return [rng.choice(WORDS) for _ in range(rng.randint(min_len, max_len))]


def _pick(rng: random.Random, options: Sequence[str]) -> str:
    return rng.choice(options)


def _ord(k: int) -> str:
    return f"{k}{'th' if 10 <= k % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th')}"


# ------------------------------------------------------------------------------ tasks of train and test


def _sum_multiples(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    k, keep = variant
    name = _pick(
        rng,
        ("sum_multiples", "total_divisible", "add_multiples")
        if keep
        else ("sum_others", "total_indivisible", "add_non_multiples"),
    )
    p = _pick(rng, ("nums", "values", "numbers", "xs"))
    op, other = ("==", "!=") if keep else ("!=", "==")
    src = (
        f"def {name}({p}):\n    total = 0\n    for x in {p}:\n        if x % {k} {op} 0:\n"
        "            total += x\n    return total\n"
    )

    def picks(xs: list[int]) -> list[int]:
        return [x for x in xs if (x % k == 0) == keep]

    return FunctionSpec(
        "sum_multiples", variant, name, (p,),
        f"returns the sum of the numbers in the list `{p}` that are {'' if keep else 'not '}divisible by {k}",
        src,
        ("Start a total at 0.", f"Loop over `{p}` and add each x with x % {k} {op} 0.", "Return the total."),
        lambda xs: sum(picks(xs)),
        lambda r: (_ints(r, 0, 40, 3, 7),),
        (([],), ([k, k + 1, 2 * k, 2 * k + 1],)),
        (
            Bug("total = 0", "total = 1", "The total must start at 0, not 1.", lambda xs: 1 + sum(picks(xs))),
            Bug("total += x", "total += 1", "`total += 1` counts the numbers; it should add them: `total += x`.",
                lambda xs: len(picks(xs))),
            Bug(f"x % {k} {op} 0", f"x % {k} {other} 0",
                f"The condition is inverted: it should be `x % {k} {op} 0`.",
                lambda xs: sum(xs) - sum(picks(xs))),
        ),
    )  # fmt: skip


_CHAR_CLASSES = {"vowels": ('ch in "aeiou"', "vowels (a, e, i, o, u)"), "digits": ("ch.isdigit()", "digits")}


def _count_chars(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    what = variant[0]
    cond, desc = _CHAR_CLASSES.get(what, (f'ch == "{what}"', f'the letter "{what}"'))
    name = _pick(
        rng,
        ("count_chars", "count_matches", "tally")
        if what not in _CHAR_CLASSES
        else (f"count_{what}", "count_chars", "tally"),
    )
    s = _pick(rng, ("text", "s", "word", "line"))
    src = (
        f"def {name}({s}):\n    count = 0\n    for ch in {s}:\n        if {cond}:\n"
        "            count += 1\n    return count\n"
    )

    def hits(t: str) -> list[bool]:
        if what == "vowels":
            return [ch in "aeiou" for ch in t]
        if what == "digits":
            return [ch.isdigit() for ch in t]
        return [ch == what for ch in t]

    def draw(r: random.Random) -> tuple[str]:
        if what == "digits":
            return ("".join(r.choice("ab12c3d45e67f89x0") for _ in range(r.randint(3, 10))),)
        return (" ".join(_words(r, 1, 3)),)

    sample = {"vowels": "banana", "digits": "a1b22"}.get(what, f"{what}a{what}")
    return FunctionSpec(
        "count_chars", variant, name, (s,),
        f"returns how many characters of the string `{s}` are {desc}",
        src,
        ("Start a count at 0.", f"Loop over the characters ch of `{s}`; add 1 when {cond}.", "Return the count after the loop."),
        lambda t: sum(hits(t)),
        draw,
        (("",), (sample,)),
        (
            Bug("count += 1", "count = 1", "`count = 1` sets the count to 1 each time; it should add 1: `count += 1`.",
                lambda t: int(any(hits(t)))),
            Bug("            count += 1\n    return count", "            count += 1\n        return count",
                "`return count` is inside the loop, so the function returns after the first character; "
                "it belongs after the loop.",
                lambda t: int(hits(t)[0]) if t else None),
        ),
    )  # fmt: skip


def _clamp(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    lo, hi = variant
    name = _pick(rng, ("clamp", "limit", "bound", "clip"))
    x = _pick(rng, ("x", "value", "n", "level"))
    src = f"def {name}({x}):\n    if {x} < {lo}:\n        return {lo}\n    if {x} > {hi}:\n        return {hi}\n    return {x}\n"

    def clamp(v: int) -> int:
        return lo if v < lo else hi if v > hi else v

    return FunctionSpec(
        "clamp", variant, name, (x,),
        f"returns `{x}` limited to the range {lo} to {hi} ({lo} if it is below, {hi} if it is above)",
        src,
        (f"If `{x}` is below {lo}, return {lo}.", f"If it is above {hi}, return {hi}.", f"Otherwise return `{x}`."),
        clamp,
        lambda r: (r.randint(lo - 30, hi + 30),),
        ((lo - 1,), (lo,), (hi,), (hi + 1,)),
        (
            Bug(f"        return {hi}", f"        return {lo}",
                f"Above the range it must return the upper bound {hi}, not {lo}.",
                lambda v: lo if v < lo or v > hi else v),
            Bug(f"if {x} > {hi}:", f"if {x} < {hi}:",
                f"The second test must catch values above {hi}: `if {x} > {hi}:`.",
                lambda v: lo if v < lo else hi if v < hi else v),
        ),
    )  # fmt: skip


def _fizzbuzz(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    a, b, word_a, word_b = variant
    ab = a * b  # the pairs are coprime, so divisible by both means divisible by the product
    name = _pick(rng, ("fizzbuzz", "say", "label", "game_word"))
    n = _pick(rng, ("n", "number", "i"))
    both = f'    if {n} % {ab} == 0:\n        return "{word_a}{word_b}"\n'
    only_a = f'    if {n} % {a} == 0:\n        return "{word_a}"\n'
    src = f'def {name}({n}):\n{both}{only_a}    if {n} % {b} == 0:\n        return "{word_b}"\n    return str({n})\n'

    def say(m: int, *, both_last: bool = False, as_text: bool = True) -> Any:
        if m % ab == 0 and not both_last:
            return word_a + word_b
        if m % a == 0:
            return word_a
        if m % b == 0:
            return word_b
        return str(m) if as_text else m

    return FunctionSpec(
        "fizzbuzz", variant, name, (n,),
        f'returns "{word_a}{word_b}" if `{n}` is divisible by both {a} and {b}, "{word_a}" if only by {a}, '
        f'"{word_b}" if only by {b}, and otherwise `{n}` as a string',
        src,
        (f"Divisible by both {a} and {b} means divisible by {ab}; test that first.",
         f'Then test {a} alone ("{word_a}") and {b} alone ("{word_b}").',
         f"Otherwise return str({n})."),
        say,
        lambda r: (r.randint(1, 100),),
        ((ab,), (a,), (b,), (1,)),
        (
            Bug(both + only_a, only_a + both,
                f"A multiple of {ab} is also a multiple of {a}, so the test for {ab} must come first.",
                lambda m: say(m, both_last=True)),
            Bug(f"return str({n})", f"return {n}", "The other numbers must be returned as strings: `return str(...)`.",
                lambda m: say(m, as_text=False)),
        ),
    )  # fmt: skip


def _running(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    (op,) = variant
    name = _pick(
        rng,
        {
            "max": ("running_max", "prefix_max", "best_so_far"),
            "min": ("running_min", "prefix_min", "lowest_so_far"),
            "sum": ("running_sum", "prefix_sums", "cumulative"),
            "product": ("running_product", "prefix_products"),
        }[op],
    )
    p = _pick(rng, ("nums", "values", "xs", "readings"))
    if op in ("max", "min"):
        cmp, flipped = (">", "<") if op == "max" else ("<", ">")
        desc = "largest" if op == "max" else "smallest"
        src = (
            f"def {name}({p}):\n    result = []\n    best = None\n    for x in {p}:\n"
            f"        if best is None or x {cmp} best:\n            best = x\n        result.append(best)\n    return result\n"
        )
        plan = (
            f"Keep the {desc} value so far in `best` (None before the first).",
            f"For each x, replace best when x {cmp} best, then append best.",
            "Return the list.",
        )
        pick = max if op == "max" else min
        other = min if op == "max" else max
        bugs = (
            Bug(
                f"x {cmp} best",
                f"x {flipped} best",
                f"The comparison is reversed: it should be `x {cmp} best`.",
                lambda xs: [other(xs[: i + 1]) for i in range(len(xs))],
            ),
        )
        behaviour = lambda xs: [pick(xs[: i + 1]) for i in range(len(xs))]  # noqa: E731
        draw = lambda r: (_ints(r, -20, 20, 2, 7),)  # noqa: E731
        desc = f"the {desc} of"
    else:
        start, upd, desc = ("0", "+=", "the sum of") if op == "sum" else ("1", "*=", "the product of")
        src = (
            f"def {name}({p}):\n    result = []\n    total = {start}\n    for x in {p}:\n"
            f"        total {upd} x\n        result.append(total)\n    return result\n"
        )
        plan = (
            f"Keep a running total starting at {start}.",
            f"For each x, do total {upd} x, then append total.",
            "Return the list.",
        )

        def prefix(xs: list[int], *, shift: bool = False) -> list[int]:
            out, total = [], int(start)
            for x in xs:
                if shift:
                    out.append(total)
                total = total + x if op == "sum" else total * x
                if not shift:
                    out.append(total)
            return out

        behaviour = prefix
        bugs = (
            Bug(
                f"        total {upd} x\n        result.append(total)",
                f"        result.append(total)\n        total {upd} x",
                "It appends the total before updating it, so each item misses its own number; update first.",
                lambda xs: prefix(xs, shift=True),
            ),
        )
        if op == "product":
            bugs += (
                Bug(
                    "total = 1",
                    "total = 0",
                    "A product must start at 1; starting at 0 keeps it 0.",
                    lambda xs: [0] * len(xs),
                ),
            )
        draw = (lambda r: (_ints(r, -20, 20, 2, 7),)) if op == "sum" else (lambda r: (_ints(r, -4, 5, 2, 6),))
    return FunctionSpec(
        "running", variant, name, (p,),
        f"returns a list whose item i is {desc} the first i + 1 numbers of `{p}`",
        src, plan, behaviour, draw, (([],), ([3, -1, 4, 2],)), bugs,
    )  # fmt: skip


def _dedupe(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    items, order = variant
    name = _pick(rng, ("dedupe", "unique", "distinct", "remove_repeats"))
    p = _pick(rng, ("nums", "values", "xs") if items == "numbers" else ("words", "names", "items"))
    ret = "seen" if order == "first" else "sorted(seen)"
    src = (
        f"def {name}({p}):\n    seen = []\n    for x in {p}:\n        if x not in seen:\n"
        f"            seen.append(x)\n    return {ret}\n"
    )
    if order == "first":
        does = f"returns the {items} of the list `{p}` without repeats, keeping the first occurrence of each, in order"
    else:
        does = f"returns the distinct {items} of the list `{p}` in {'increasing' if items == 'numbers' else 'alphabetical'} order"

    def unique(xs: list[Any]) -> list[Any]:
        out = list(dict.fromkeys(xs))
        return out if order == "first" else sorted(out)

    def draw(r: random.Random) -> tuple[list[Any]]:
        pool = [r.randint(0, 9) for _ in range(4)] if items == "numbers" else r.sample(WORDS, 4)
        return ([r.choice(pool) for _ in range(r.randint(3, 8))],)

    sample = [3, 1, 3, 2, 1] if items == "numbers" else ["fig", "cat", "fig", "apple", "cat"]
    return FunctionSpec(
        "dedupe", variant, name, (p,), does, src,
        ("Collect items in `seen`, a list, which keeps their order.", "Append x only if it is not in seen yet.",
         "Return seen." if order == "first" else "Return sorted(seen)."),
        unique, draw, (([],), (sample,)),
        (Bug("if x not in seen", "if x in seen", "The test is inverted: x must be added when it is not in `seen` yet.",
             lambda xs: []),),
    )  # fmt: skip


_SEPARATORS = {" ": "single spaces", ",": 'commas (",")', "-": 'hyphens ("-")', "/": 'slashes ("/")'}


def _words_transform(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    mode, sep = variant
    name = _pick(
        rng,
        {
            "order": ("reverse_words", "flip_order", "backwards_words"),
            "letters": ("reverse_each", "mirror_words", "flip_letters"),
            "capitalize": ("capitalize_words", "title_words", "cap_each"),
        }[mode],
    )
    s = _pick(rng, ("text", "s", "sentence", "line"))
    step, does, plan = {
        "order": (
            "words = words[::-1]",
            "with the order of the words reversed",
            "Reverse the list of words with [::-1].",
        ),
        "letters": (
            "words = [w[::-1] for w in words]",
            "with the letters of each word reversed",
            "Reverse each word with w[::-1].",
        ),
        "capitalize": (
            "words = [w.capitalize() for w in words]",
            "with the first letter of each word in upper case",
            "Capitalize each word with w.capitalize().",
        ),
    }[mode]
    src = f'def {name}({s}):\n    words = {s}.split("{sep}")\n    {step}\n    return "{sep}".join(words)\n'

    def transform(t: str, *, glue: str = sep, split_sep: str | None = sep) -> str:
        ws = t.split(split_sep)
        ws = (
            ws[::-1]
            if mode == "order"
            else [w[::-1] for w in ws]
            if mode == "letters"
            else [w.capitalize() for w in ws]
        )
        return glue.join(ws)

    bugs = (
        Bug(
            f'return "{sep}".join(words)',
            'return "".join(words)',
            f'The words must be joined with the same separator: `"{sep}".join(words)`.',
            lambda t: transform(t, glue=""),
        ),
    )
    if sep != " ":
        bugs += (
            Bug(
                f'{s}.split("{sep}")',
                f"{s}.split()",
                f'`split()` splits on spaces; it must split on "{sep}".',
                lambda t: transform(t, split_sep=None),
            ),
        )
    return FunctionSpec(
        "words_transform", variant, name, (s,),
        f"takes a string `{s}` of words separated by {_SEPARATORS[sep]} and returns it {does}",
        src, (f'Split `{s}` on "{sep}".', plan, f'Join the words again with "{sep}".'),
        transform, lambda r: (sep.join(_words(r, 2, 5)),), ((sep.join(["red", "fig", "owl"]),),), bugs,
    )  # fmt: skip


def _count_by_length(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    k, more = variant
    name = _pick(
        rng,
        ("count_long", "long_words", "count_longer")
        if more
        else ("count_short", "short_words", "count_shorter"),
    )
    p = _pick(rng, ("words", "names", "tokens"))
    cmp, edge_cmp, desc = (
        (">", ">=", f"more than {k} letters") if more else ("<=", "<", f"at most {k} letters")
    )
    src = f"def {name}({p}):\n    count = 0\n    for w in {p}:\n        if len(w) {cmp} {k}:\n            count += 1\n    return count\n"

    def ok(w: str, c: str = cmp) -> bool:
        return {">": len(w) > k, ">=": len(w) >= k, "<=": len(w) <= k, "<": len(w) < k}[c]

    exact = next(w for w in WORDS if len(w) == k)
    longer = next(w for w in WORDS if len(w) == k + 1)
    return FunctionSpec(
        "count_by_length", variant, name, (p,), f"returns how many words in the list `{p}` have {desc}", src,
        ("Start a count at 0.", f"Add 1 for each word w with len(w) {cmp} {k}.", "Return the count."),
        lambda ws: sum(ok(w) for w in ws),
        lambda r: (_words(r, 0, 6),),
        (([],), ([exact, longer, "go"],)),
        (
            Bug(f"len(w) {cmp} {k}", f"len(w) {edge_cmp} {k}",
                f"A word of exactly {k} letters {'must not' if more else 'must'} count: use `len(w) {cmp} {k}`.",
                lambda ws: sum(ok(w, edge_cmp) for w in ws)),
            Bug("count += 1", "count += len(w)", "It adds the word's length; it should add 1 per word.",
                lambda ws: sum(len(w) for w in ws if ok(w))),
        ),
    )  # fmt: skip


_COMPARISONS = {">": "greater than", "<": "less than", ">=": "at least", "<=": "at most"}
_BOUNDARY_SLIP = {">": ">=", ">=": ">", "<": "<=", "<=": "<"}


def _compare(x: int, op: str, t: int) -> bool:
    return {">": x > t, "<": x < t, ">=": x >= t, "<=": x <= t}[op]


def _filter_compare(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    op, t = variant
    slip = _BOUNDARY_SLIP[op]
    name = _pick(
        rng,
        ("keep_big", "select", "filter_values", "above")
        if ">" in op
        else ("keep_small", "select", "filter_values", "below"),
    )
    p = _pick(rng, ("nums", "values", "scores", "xs"))
    src = f"def {name}({p}):\n    return [x for x in {p} if x {op} {t}]\n"
    return FunctionSpec(
        "filter_compare", variant, name, (p,),
        f"returns a new list of the numbers in `{p}` that are {_COMPARISONS[op]} {t}, in their original order", src,
        (f"Keep each x of `{p}` with x {op} {t}.", "A list comprehension keeps the original order."),
        lambda xs: [x for x in xs if _compare(x, op, t)],
        lambda r: (_ints(r, t - 15, t + 15, 0, 7),),
        (([t - 1, t, t + 1],),),
        (Bug(f"x {op} {t}", f"x {slip} {t}",
             f"Numbers equal to {t} {'must' if '=' in op else 'must not'} be kept: use `x {op} {t}`.",
             lambda xs: [x for x in xs if _compare(x, slip, t)]),),
    )  # fmt: skip


def _bulk_price(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    price, at_least, off = variant
    name = _pick(rng, ("order_cost", "total_price", "bill", "checkout"))
    n = _pick(rng, ("n", "count", "quantity", "items"))
    src = f"def {name}({n}):\n    cost = {n} * {price}\n    if {n} >= {at_least}:\n        cost -= {off}\n    return cost\n"

    def cost(q: int, *, strict: bool = False, added: bool = False) -> int:
        base = q + price if added else q * price
        return base - off if (q > at_least if strict else q >= at_least) else base

    return FunctionSpec(
        "bulk_price", variant, name, (n,),
        f"returns the cost of `{n}` items at {price} each, with {off} taken off the total when `{n}` is at least {at_least}",
        src,
        (f"The cost is `{n}` * {price}.", f"If `{n}` >= {at_least}, subtract {off}.", "Return the cost."),
        cost,
        lambda r: (r.randint(0, 20),),
        ((0,), (at_least - 1,), (at_least,)),
        (
            Bug(f"{n} >= {at_least}", f"{n} > {at_least}", f"The discount applies at exactly {at_least} items too: use `>=`.",
                lambda q: cost(q, strict=True)),
            Bug(f"cost = {n} * {price}", f"cost = {n} + {price}", "The cost is the number of items times the price, not plus.",
                lambda q: cost(q, added=True)),
        ),
    )  # fmt: skip


def _digit_sum(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    which = variant[0]
    name = _pick(rng, ("digit_sum", "add_digits", "sum_digits"))
    n = _pick(rng, ("n", "number", "num"))
    cond, desc = {
        "all": (None, "the digits"),
        "even": ("int(d) % 2 == 0", "the even digits"),
        "odd": ("int(d) % 2 == 1", "the odd digits"),
        "at_least": (f"int(d) >= {variant[-1]}", f"the digits that are at least {variant[-1]}"),
        "below": (f"int(d) < {variant[-1]}", f"the digits that are less than {variant[-1]}"),
    }[which]
    body = (
        "        total += int(d)\n" if cond is None else f"        if {cond}:\n            total += int(d)\n"
    )
    src = f"def {name}({n}):\n    total = 0\n    for d in str({n}):\n{body}    return total\n"

    def keep(d: int) -> bool:
        if which in ("all", "even", "odd"):
            return which == "all" or d % 2 == (which == "odd")
        return d >= variant[-1] if which == "at_least" else d < variant[-1]

    def total(m: int, *, skip_first: bool = False) -> int:
        digits = [int(d) for d in str(m)][1 if skip_first else 0 :]
        return sum(d for d in digits if keep(d))

    return FunctionSpec(
        "digit_sum", variant, name, (n,), f"returns the sum of {desc} of the non-negative integer `{n}`", src,
        (f"Turn `{n}` into a string to visit its digits d.",
         "Add int(d) for every digit." if cond is None else f"Add int(d) when {cond}.", "Return the total."),
        total,
        lambda r: (r.randint(0, 99999),),
        ((0,), (9081726354,)),
        (Bug(f"str({n})", f"str({n})[1:]", f"`str({n})[1:]` skips the first digit; loop over all of `str({n})`.",
             lambda m: total(m, skip_first=True)),),
    )  # fmt: skip


def _caesar(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    (k,) = variant
    name = _pick(rng, ("caesar", "shift_letters", "encode", "rotate"))
    s = _pick(rng, ("text", "message", "s"))
    src = (
        f'def {name}({s}):\n    out = ""\n    for ch in {s}:\n        if "a" <= ch <= "z":\n'
        f"            ch = chr((ord(ch) - 97 + {k}) % 26 + 97)\n        out += ch\n    return out\n"
    )

    def shift(t: str, *, wrap: bool = True, keep_last: bool = False) -> str:
        out = ""
        for ch in t:
            if "a" <= ch <= "z":
                ch = chr((ord(ch) - 97 + k) % 26 + 97) if wrap else chr(ord(ch) + k)
            out = ch if keep_last else out + ch
        return out

    return FunctionSpec(
        "caesar", variant, name, (s,),
        f"returns `{s}` with each lowercase letter moved {k} places forward in the alphabet (z wraps round "
        "to a); other characters stay the same",
        src,
        ("Build the result one character at a time.",
         f"A lowercase letter's position is ord(ch) - 97; add {k} and wrap with % 26.",
         "Other characters are added unchanged."),
        shift,
        lambda r: (" ".join(_words(r, 1, 3)) + r.choice(("", "!", ".")),),
        (("",), ("xyz, ab!",)),
        (
            Bug(" % 26", "", "Without `% 26` letters near z run past the alphabet instead of wrapping round to a.",
                lambda t: shift(t, wrap=False)),
            Bug("        out += ch", "        out = ch", "`out = ch` keeps only the last character; it should add: `out += ch`.",
                lambda t: shift(t, keep_last=True)),
        ),
    )  # fmt: skip


def _first_index(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    cond_kind, t = variant
    name = _pick(rng, ("first_index", "find_first", "position"))
    p = _pick(rng, ("nums", "values", "xs"))
    cond, desc = {
        "greater": (f"{p}[i] > {t}", f"greater than {t}"),
        "less": (f"{p}[i] < {t}", f"less than {t}"),
        "divisible": (f"{p}[i] % {t} == 0", f"divisible by {t}"),
    }[cond_kind]
    src = f"def {name}({p}):\n    for i in range(len({p})):\n        if {cond}:\n            return i\n    return -1\n"

    def hit(x: int) -> bool:
        return {"greater": x > t, "less": x < t, "divisible": x % t == 0}[cond_kind]

    def find(xs: list[int], *, start: int = 0, missing: int = -1) -> int:
        return next((i for i in range(start, len(xs)) if hit(xs[i])), missing)

    match = {"greater": t + 1, "less": t - 1, "divisible": t}[cond_kind]
    miss = {"greater": t, "less": t, "divisible": t + 1}[cond_kind]
    return FunctionSpec(
        "first_index", variant, name, (p,),
        f"returns the index of the first number in `{p}` that is {desc}, or -1 if there is none", src,
        (f"Loop over the positions i of `{p}`.", f"Return i at the first item with {cond}.", "If none matches, return -1 after the loop."),
        find,
        lambda r: (_ints(r, max(0, t - 12), t + 12, 1, 7),),
        (([],), ([match, miss],), ([miss, miss],)),
        (
            Bug(f"range(len({p}))", f"range(1, len({p}))", "`range(1, ...)` skips the first item; start at index 0.",
                lambda xs: find(xs, start=1)),
            Bug("    return -1", "    return 0", "With no match it must return -1; 0 is a valid index.",
                lambda xs: find(xs, missing=0)),
        ),
    )  # fmt: skip


def _sum_extremes(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    k, end = variant
    name = _pick(
        rng,
        ("top_sum", "sum_largest", "best_total")
        if end == "largest"
        else ("bottom_sum", "sum_smallest", "low_total"),
    )
    p = _pick(rng, ("nums", "values", "scores"))
    part, wrong_part = (
        (f"ordered[-{k}:]", f"ordered[:{k}]") if end == "largest" else (f"ordered[:{k}]", f"ordered[{k}:]")
    )
    src = f"def {name}({p}):\n    ordered = sorted({p})\n    return sum({part})\n"

    def pick(xs: list[int], *, slip: bool = False) -> int:
        s = sorted(xs)
        if end == "largest":
            return sum(s[:k] if slip else s[-k:])
        return sum(s[k:] if slip else s[:k])

    why = (
        f"`{wrong_part}` takes the smallest numbers; the {k} largest are the last {k}: `{part}`."
        if end == "largest"
        else f"`{wrong_part}` skips the {k} smallest instead of taking them: `{part}`."
    )
    return FunctionSpec(
        "sum_extremes", variant, name, (p,),
        f"returns the sum of the {k} {end} numbers in `{p}` (it has at least {k} numbers)", src,
        (f"Sort `{p}` in increasing order.", f"The {k} {end} are {'the last' if end == 'largest' else 'the first'} {k}: {part}.",
         "Return their sum."),
        pick,
        lambda r: (_ints(r, -20, 50, k, k + 4),),
        ((list(range(k + 2)),),),
        (Bug(part, wrong_part, why, lambda xs: pick(xs, slip=True)),),
    )  # fmt: skip


# ------------------------------------------------------------------------------ held-out tasks (ood only)


def _sum_of_powers(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    parity, power = variant
    name = _pick(
        rng,
        ("sum_of_squares", "power_total", "square_sum")
        if power == 2
        else ("sum_of_cubes", "power_total", "cube_sum"),
    )
    p = _pick(rng, ("nums", "values", "xs"))
    term = " * ".join(["x"] * power)
    cond = {"even": "x % 2 == 0", "odd": "x % 2 == 1"}[parity]
    src = f"def {name}({p}):\n    total = 0\n    for x in {p}:\n        if {cond}:\n            total += {term}\n    return total\n"
    return FunctionSpec(
        "sum_of_powers", variant, name, (p,),
        f"returns the sum of the {'squares' if power == 2 else 'cubes'} of the {parity} numbers in `{p}`", src,
        ("Start a total at 0.", f"For each x with {cond}, add {term}.", "Return the total."),
        lambda xs: sum(x**power for x in xs if x % 2 == (parity == "odd")),
        lambda r: (_ints(r, -9, 12, 2, 7),),
        (([],), ([1, 2, 3, 4],)),
        (Bug(f"total += {term}", f"total += x * {power}", f"`x * {power}` doubles or triples x; the power is `{term}`.",
             lambda xs: sum(x * power for x in xs if x % 2 == (parity == "odd"))),),
    )  # fmt: skip


def _count_affix(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    letter, where = variant
    method = "startswith" if where == "start" else "endswith"
    name = _pick(
        rng,
        ("count_prefixed", "count_initial", "how_many")
        if where == "start"
        else ("count_suffixed", "count_final", "how_many"),
    )
    p = _pick(rng, ("words", "names", "tokens"))
    src = f'def {name}({p}):\n    count = 0\n    for w in {p}:\n        if w.{method}("{letter}"):\n            count += 1\n    return count\n'

    def has(w: str) -> bool:
        return w.startswith(letter) if where == "start" else w.endswith(letter)

    sample = (
        [f"{letter}ox", f"{letter}ig", "owl"] if where == "start" else [f"ox{letter}", f"ig{letter}", "owl"]
    )
    return FunctionSpec(
        "count_affix", variant, name, (p,), f'returns how many words in `{p}` {where} with the letter "{letter}"', src,
        ("Start a count at 0.", f'Add 1 for each word w with w.{method}("{letter}").', "Return the count."),
        lambda ws: sum(has(w) for w in ws),
        lambda r: (_words(r, 1, 7),),
        (([],), (sample,)),
        (Bug("count += 1", "count = 1", "`count = 1` resets the count; it should add 1: `count += 1`.",
             lambda ws: int(any(has(w) for w in ws))),),
    )  # fmt: skip


def _longest_word(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    (tie,) = variant
    name = _pick(rng, ("longest", "longest_word", "pick_longest"))
    p = _pick(rng, ("words", "names", "tokens"))
    cmp, slip = (">", ">=") if tie == "first" else (">=", ">")
    src = f'def {name}({p}):\n    best = ""\n    for w in {p}:\n        if len(w) {cmp} len(best):\n            best = w\n    return best\n'

    def longest(ws: list[str], c: str = cmp) -> str:
        best = ""
        for w in ws:
            if (len(w) > len(best)) if c == ">" else (len(w) >= len(best)):
                best = w
        return best

    return FunctionSpec(
        "longest_word", variant, name, (p,),
        f'returns the longest word in `{p}` (the {tie} one if several are longest), or "" for an empty list', src,
        ('Start with best = "".', f"Replace best with w when len(w) {cmp} len(best), so the {tie} of equal lengths wins.",
         "Return best."),
        longest,
        lambda r: (_words(r, 0, 6),),
        (([],), (["cat", "owl", "go"],)),
        (Bug(f"len(w) {cmp} len(best)", f"len(w) {slip} len(best)",
             f"With `{slip}` a tie picks the wrong word; use `{cmp}` to keep the {tie} longest.",
             lambda ws: longest(ws, slip)),),
    )  # fmt: skip


def _pair_count(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    (t,) = variant
    name = _pick(rng, ("count_pairs", "pairs_to", "matching_pairs"))
    p = _pick(rng, ("nums", "values", "xs"))
    src = (
        f"def {name}({p}):\n    count = 0\n    for i in range(len({p})):\n        for j in range(i + 1, len({p})):\n"
        f"            if {p}[i] + {p}[j] == {t}:\n                count += 1\n    return count\n"
    )

    def pairs(xs: list[int], *, same: bool = False) -> int:
        return sum(
            1 for i in range(len(xs)) for j in range(i if same else i + 1, len(xs)) if xs[i] + xs[j] == t
        )

    return FunctionSpec(
        "pair_count", variant, name, (p,), f"returns how many pairs of positions i < j in `{p}` have {p}[i] + {p}[j] == {t}",
        src,
        ("Loop over i, and over j from i + 1, so each pair counts once.", f"Add 1 when the two items sum to {t}.", "Return the count."),
        pairs,
        lambda r: (_ints(r, 0, t, 2, 7),),
        (([],), ([t // 2, t - t // 2, 0, t],)),
        (Bug("range(i + 1, ", "range(i, ", "`range(i, ...)` also pairs an item with itself; j must start at i + 1.",
             lambda xs: pairs(xs, same=True)),),
    )  # fmt: skip


def _every_kth(rng: random.Random, variant: tuple[Any, ...]) -> FunctionSpec:
    k, start = variant
    name = _pick(rng, ("every_kth", "sample_items", "stride"))
    p = _pick(rng, ("items", "values", "xs"))
    src = f"def {name}({p}):\n    return {p}[{start}::{k}]\n"
    where = "the first item (index 0)" if start == 0 else "the second item (index 1)"
    return FunctionSpec(
        "every_kth", variant, name, (p,), f"returns every {_ord(k)} item of the list `{p}`, starting with {where}", src,
        (f"A slice with step {k} takes every {_ord(k)} item.", f"Start the slice at index {start}: [{start}::{k}]."),
        lambda xs: xs[start::k],
        lambda r: (_ints(r, 0, 30, 0, 9),),
        (([],), (list(range(10)),)),
        (Bug(f"[{start}::{k}]", f"[{start}:{k}]", f"`[{start}:{k}]` is a range of positions; every {_ord(k)} item needs a step: `[{start}::{k}]`.",
             lambda xs: xs[start:k]),),
    )  # fmt: skip


TASKS: dict[str, FunctionTask] = {
    task.name: task
    for task in (
        FunctionTask("sum_multiples", tuple((k, keep) for k in range(2, 10) for keep in (True, False)), _sum_multiples),
        FunctionTask("count_chars", (("vowels",), ("digits",), *((c,) for c in "bcdfghklmnprst")), _count_chars),
        FunctionTask("clamp", tuple((lo, lo + w) for lo in (-10, -5, 0, 1, 5, 10, 20) for w in (5, 10, 20, 50, 100)), _clamp),
        FunctionTask(
            "fizzbuzz",
            tuple((a, b, *words) for a, b in ((2, 3), (2, 5), (3, 4), (3, 5), (3, 7), (2, 7), (4, 5), (5, 7), (4, 7), (5, 6))
                  for words in (("Fizz", "Buzz"), ("Foo", "Bar"), ("Ping", "Pong"), ("Tic", "Tac"))),
            _fizzbuzz,
        ),
        FunctionTask("running", (("max",), ("min",), ("sum",), ("product",)), _running),
        FunctionTask("dedupe", tuple((i, o) for i in ("numbers", "words") for o in ("first", "sorted")), _dedupe),
        FunctionTask("words_transform", tuple((m, s) for m in ("order", "letters", "capitalize") for s in _SEPARATORS), _words_transform),
        FunctionTask("count_by_length", tuple((k, more) for k in range(2, 8) for more in (True, False)), _count_by_length),
        FunctionTask("filter_compare", tuple((op, t) for op in _COMPARISONS for t in (0, 3, 5, 10, 15, 20, 50)), _filter_compare),
        FunctionTask(
            "bulk_price",
            tuple((p, m, d) for p in (2, 3, 4, 5, 6, 8, 10, 12) for m, d in ((3, 5), (4, 5), (5, 10), (10, 15), (6, 10))),
            _bulk_price,
        ),
        FunctionTask(
            "digit_sum",
            (("all",), ("even",), ("odd",), *(("at_least", k) for k in range(3, 8)), *(("below", k) for k in range(3, 8))),
            _digit_sum,
        ),
        FunctionTask("caesar", tuple((k,) for k in range(1, 26)), _caesar),
        FunctionTask(
            "first_index",
            (*(("greater", t) for t in (3, 5, 10, 20)), *(("less", t) for t in (3, 5, 10, 20)), *(("divisible", t) for t in (2, 3, 4, 5, 7))),
            _first_index,
        ),
        FunctionTask("sum_extremes", tuple((k, e) for k in range(2, 7) for e in ("largest", "smallest")), _sum_extremes),
    )
}  # fmt: skip

OOD_TASKS: dict[str, FunctionTask] = {
    task.name: task
    for task in (
        FunctionTask("sum_of_powers", tuple((par, pw) for par in ("even", "odd") for pw in (2, 3)), _sum_of_powers),
        FunctionTask("count_affix", tuple((c, w) for c in "bcdfgmprst" for w in ("start", "end")), _count_affix),
        FunctionTask("longest_word", (("first",), ("last",)), _longest_word),
        # even targets: an item can pair with itself, so the tests can catch the j-from-i bug
        FunctionTask("pair_count", tuple((t,) for t in (6, 8, 10, 12, 16, 20)), _pair_count),
        FunctionTask("every_kth", tuple((k, s) for k in range(2, 6) for s in (0, 1)), _every_kth),
    )
}  # fmt: skip
