"""Short Python programs whose printed output the model predicts, each with a step-by-step trace.

Where the truth comes from: **a trusted reference evaluation**, not a sandbox run. Every program kind
here builds the program text and, from the very same randomly drawn values, computes what it prints
with ordinary Python arithmetic, slicing and list operations (nothing is ``exec``-ed or ``eval``-ed),
writing the intermediate values into the trace as it goes. Generation therefore needs no sandbox, is
deterministic on every platform, and takes microseconds per program. That the reference evaluation
agrees with real Python is checked by running the generated programs in the sandbox
(:func:`srmzoo.domains.coding.audit.audit_examples`, run by the test suite on every split).

The programs use small non-negative integers, short lowercase words and lists of them, and print one
line: nothing whose output depends on the Python version, the platform or hash seeds (no floats, sets or
dict ordering). :data:`KINDS` serve train and test; :data:`OOD_KINDS` (nested loops, character-by-
character string building, two accumulators, a loop inside a function, and 4-5 line arithmetic
chains) are held out for ``ood``.
"""

from __future__ import annotations

import ast
import builtins
import operator
import random
from collections.abc import Callable
from dataclasses import dataclass

from .function_tasks import WORDS

__all__ = ["KINDS", "OOD_KINDS", "TracedProgram", "program_shape"]


@dataclass(frozen=True)
class TracedProgram:
    """A program, what it prints, and the worked trace that gets there.

    Attributes:
        code: the program's source.
        output: what it prints, without the final newline.
        steps: the trace, one short line per step, without the final answer line.
    """

    code: str
    output: str
    steps: tuple[str, ...]


_BUILTIN_NAMES = frozenset(dir(builtins))


class _Canonical(ast.NodeTransformer):
    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _rename(self, name: str) -> str:
        return name if name in _BUILTIN_NAMES else self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self._rename(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self._rename(node.arg)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.name = self._rename(node.name)
        self.generic_visit(node)
        return node


def program_shape(code: str) -> str:
    """The program with its variable and function names replaced by ``v0, v1, ...`` in order of appearance.

    Two programs that differ only in names have one shape; the shape decides a program's side of the
    train/test partition, so a test program is never a renamed training program.

    >>> program_shape("x = 2\\nprint(x)") == program_shape("total = 2\\nprint(total)")
    True
    >>> program_shape("x = 2\\nprint(x)") == program_shape("x = 3\\nprint(x)")
    False
    """
    return ast.dump(_Canonical().visit(ast.parse(code)))


# ---------------------------------------------------------------------------------------- shared pieces

_SCALARS = (
    ("x", "y", "z", "w", "v"),
    ("a", "b", "c", "d", "e"),
    ("m", "n", "p", "q", "r"),
    ("u", "v", "w", "s", "t"),
)
_ACCUMULATORS = ("total", "result", "acc", "value")
_LOOP_VARS = ("i", "j", "k", "n")
_LISTS = ("nums", "values", "xs", "data")
_OPS: dict[str, Callable[[int, int], int]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "//": operator.floordiv,
    "%": operator.mod,
}
_TIGHT = ("*", "//", "%")  # bind tighter than + and -
_LIMIT = 2000  # keep every intermediate value small enough to work out by hand


def _join(values: list[int] | list[str], sep: str = ", ") -> str:
    return sep.join(str(v) for v in values)


def _fits(a: int, op: str, b: int) -> bool:
    # Floor division and remainder only of a number at least as large as the (positive) divisor: no sign
    # puzzles, and no steps that just give 0 or the number back; no multiplying 0 either.
    if op in ("//", "%"):
        return 0 < b <= a
    return not (op == "*" and a == 0)


def _expression(
    rng: random.Random, first: tuple[str, int], others: list[tuple[str, int]], n_ops: int
) -> tuple[str, str, int]:
    """An expression over variables and constants: its text, its worked evaluation, and its value."""
    for _ in range(100):
        ops = rng.choices(tuple(_OPS), weights=(3, 3, 3, 1, 1), k=n_ops)
        terms = [first]
        for op in ops:
            if op in ("//", "%"):
                c = rng.randint(2, 9)
            elif op == "*":
                c = rng.randint(2, 6)
            else:
                c = rng.randint(1, 20)
            use_var = bool(others) and op in ("+", "-") and rng.random() < 0.4
            terms.append(rng.choice(others) if use_var else (str(c), c))
        texts, values = [t for t, _ in terms], [v for _, v in terms]
        if n_ops == 1:
            if not _fits(values[0], ops[0], values[1]):
                continue
            value = _OPS[ops[0]](values[0], values[1])
            worked = f"{values[0]} {ops[0]} {values[1]} = {value}"
        else:
            (a, b, c), (op1, op2) = values, ops
            if op2 in _TIGHT and op1 not in _TIGHT:
                if not _fits(b, op2, c):
                    continue
                inner = _OPS[op2](b, c)
                if not _fits(a, op1, inner):
                    continue
                value = _OPS[op1](a, inner)
                worked = f"{a} {op1} {b} {op2} {c} = {a} {op1} {inner} = {value}"
            else:
                if not _fits(a, op1, b):
                    continue
                inner = _OPS[op1](a, b)
                if not _fits(inner, op2, c):
                    continue
                value = _OPS[op2](inner, c)
                worked = f"{a} {op1} {b} {op2} {c} = {inner} {op2} {c} = {value}"
        if abs(value) <= _LIMIT:
            text = (
                f" {ops[0]} ".join(texts[:2])
                if n_ops == 1
                else f"{texts[0]} {ops[0]} {texts[1]} {ops[1]} {texts[2]}"
            )
            return text, worked, value
    raise RuntimeError("no small expression in 100 draws")  # unreachable: + and - always fit


def _arithmetic_chain(rng: random.Random, n_lines: int, two_ops: float) -> TracedProgram:
    names = rng.choice(_SCALARS)
    start = rng.randint(2, 20)
    lines, steps, env = [f"{names[0]} = {start}"], [f"{names[0]} = {start}."], [(names[0], start)]
    for i in range(1, n_lines):
        n_ops = 2 if rng.random() < two_ops else 1
        text, worked, value = _expression(rng, env[-1], env[:-1], n_ops)
        lines.append(f"{names[i]} = {text}")
        steps.append(f"{names[i]} = {worked}.")
        env.append((names[i], value))
    lines.append(f"print({names[n_lines - 1]})")
    return TracedProgram("\n".join(lines) + "\n", str(env[-1][1]), tuple(steps))


# ------------------------------------------------------------------------------------- train/test kinds


def arithmetic(rng: random.Random) -> TracedProgram:
    """2-3 assignments, each one or two operations, then a print.

    >>> print(arithmetic(random.Random(1)).code, end="")
    x = 10
    y = x * 5 - 7
    print(y)
    """
    return _arithmetic_chain(rng, rng.choice((2, 3)), two_ops=0.5)


def loop_accumulate(rng: random.Random) -> TracedProgram:
    """An accumulator updated in a ``for`` loop over a short ``range``.

    >>> loop_accumulate(random.Random(0)).output
    '3'
    """
    acc, i = rng.choice(_ACCUMULATORS), rng.choice(_LOOP_VARS)
    form = rng.choice(("stop", "start_stop", "step"))
    if form == "stop":
        stop = rng.randint(3, 5)
        args, vals = f"{stop}", list(range(stop))
    elif form == "start_stop":
        start = rng.randint(1, 5)
        stop = start + rng.randint(3, 5)
        args, vals = f"{start}, {stop}", list(range(start, stop))
    else:
        start, step = rng.randint(0, 4), rng.randint(2, 3)
        stop = start + step * rng.randint(3, 4) - rng.randint(0, 1)
        args, vals = f"{start}, {stop}, {step}", list(range(start, stop, step))
    updates = ["plus_i", "plus_ki", "plus_k", "minus_i"]
    if form == "start_stop" and len(vals) <= 4 and vals[-1] <= 6:
        updates.append("times_i")
    update = rng.choice(updates)
    k = rng.randint(2, 5)
    c0 = 1 if update == "times_i" else rng.randint(0, 20)
    body, terms, verb, op = {
        "plus_i": (f"{acc} += {i}", vals, "gains", "+"),
        "plus_ki": (f"{acc} += {i} * {k}", [v * k for v in vals], "gains", "+"),
        "plus_k": (f"{acc} += {k}", [k] * len(vals), "gains", "+"),
        "minus_i": (f"{acc} -= {i}", vals, "loses", "-"),
        "times_i": (f"{acc} *= {i}", vals, "is multiplied by", "*"),
    }[update]
    if op == "*":
        change = 1
        for t in terms:
            change *= t
        result = c0 * change
        how = f"{acc} {verb} {_join(terms, ' * ')} = {change}."
    else:
        change = sum(terms)
        result = c0 + change if op == "+" else c0 - change
        how = (
            f"{acc} {verb} {k} each time: {len(terms)} * {k} = {change}."
            if update == "plus_k"
            else f"{acc} {verb} {_join(terms, ' + ')} = {change}."
        )
    code = f"{acc} = {c0}\nfor {i} in range({args}):\n    {body}\nprint({acc})\n"
    steps = (f"{i} takes the values {_join(vals)}.", how, f"{acc} = {c0} {op} {change} = {result}.")
    return TracedProgram(code, str(result), steps)


def count_matches(rng: random.Random) -> TracedProgram:
    """Count (or add up) the numbers of a ``range`` that leave a given remainder.

    >>> count_matches(random.Random(0)).steps
    ('n runs from 6 to 10.', 'Only 7 has n % 4 == 3.', 'total = 7.')
    """
    acc, n = rng.choice((("count", "n"), ("hits", "i"), ("found", "k"), ("total", "n")))
    start = rng.randint(0, 10)
    stop = start + rng.randint(5, 10)
    k = rng.randint(2, 5)
    r = rng.randint(0, k - 1)
    adds_number = acc == "total"
    matches = [v for v in range(start, stop) if v % k == r]
    result = sum(matches) if adds_number else len(matches)
    code = f"{acc} = 0\nfor {n} in range({start}, {stop}):\n    if {n} % {k} == {r}:\n        {acc} += {n if adds_number else 1}\nprint({acc})\n"
    if len(matches) > 1:
        found = f"The values with {n} % {k} == {r} are {_join(matches)}."
    else:
        found = f"Only {matches[0]} has {n} % {k} == {r}." if matches else f"No value has {n} % {k} == {r}."
    if adds_number:
        tally = f"{acc} = {_join(matches, ' + ')} = {result}." if len(matches) > 1 else f"{acc} = {result}."
    else:
        tally = f"That is {result} value{'s' if result != 1 else ''}, so {acc} = {result}."
    return TracedProgram(code, str(result), (f"{n} runs from {start} to {stop - 1}.", found, tally))


def _string_op(rng: random.Random, var: str, value: str, *, last: bool) -> tuple[str, str, str]:
    """One string operation on ``var`` (holding ``value``): its text, its result, and the trace line."""
    ops = ["upper", "reverse", "slice", "repeat", "index", "replace"]
    if last:
        ops += ["len", "count"]
    op = rng.choice(ops)
    if op == "upper":
        res = value.upper()
        return f"{var}.upper()", res, f'{var}.upper() turns "{value}" into "{res}".'
    if op == "reverse":
        res = value[::-1]
        return f"{var}[::-1]", res, f'{var}[::-1] reverses "{value}" into "{res}".'
    if op == "slice":
        a = rng.randint(0, max(0, len(value) - 3))
        b = rng.randint(a + 2, len(value))
        res = value[a:b]
        return f"{var}[{a}:{b}]", res, f'{var}[{a}:{b}] takes positions {a} to {b - 1} of "{value}": "{res}".'
    if op == "repeat":
        res = value * 2
        return f"{var} * 2", res, f'{var} * 2 joins two copies: "{res}".'
    if op == "index":
        i = rng.choice((rng.randint(0, len(value) - 1), -rng.randint(1, min(3, len(value)))))
        res = value[i]
        where = f"Counting from 0, position {i}" if i >= 0 else f"Position {i} (from the end)"
        return f"{var}[{i}]", res, f'{where} of "{value}" is "{res}".'
    if op == "replace":
        old = rng.choice(sorted(set(value)))
        new = rng.choice([c for c in "aeiouxyz" if c != old])
        res = value.replace(old, new)
        return (
            f'{var}.replace("{old}", "{new}")',
            res,
            f'replace("{old}", "{new}") turns "{value}" into "{res}".',
        )
    if op == "len":
        return f"len({var})", str(len(value)), f'"{value}" has {len(value)} characters.'
    letter = rng.choice(sorted(set(value)))
    res = str(value.count(letter))
    return (
        f'{var}.count("{letter}")',
        res,
        f'"{value}" contains "{letter}" {res} time{"s" if res != "1" else ""}.',
    )


def string_method(rng: random.Random) -> TracedProgram:
    """A word, one or two string operations (slicing, ``upper``, ``replace``, ``len``, ...), a print.

    >>> string_method(random.Random(0)).code.splitlines()
    ['text = "dolphin"', 'piece = text.upper()', 'print(piece[-2])']
    """
    first, second = rng.choice((("word", "part"), ("s", "t"), ("name", "short"), ("text", "piece")))
    value = rng.choice([w for w in WORDS if len(w) >= 4])
    if rng.random() < 0.5:
        expr, res, step = _string_op(rng, first, value, last=True)
        return TracedProgram(f'{first} = "{value}"\nprint({expr})\n', res, (step,))
    expr1, mid, step1 = _string_op(rng, first, value, last=False)
    if len(mid) < 2:
        expr1, mid, step1 = (
            f"{first}.upper()",
            value.upper(),
            f'{first}.upper() turns "{value}" into "{value.upper()}".',
        )
    expr2, res, step2 = _string_op(rng, second, mid, last=True)
    code = f'{first} = "{value}"\n{second} = {expr1}\nprint({expr2})\n'
    return TracedProgram(code, res, (f'{second} = "{mid}": {step1}', step2))


def list_method(rng: random.Random) -> TracedProgram:
    """A list, at most one change (``append``, ``pop``, ``sort``, ...), then a query (``sum``, ``max``, an index).

    >>> list_method(random.Random(0)).output
    '[1, 8, 9, 12, 15]'
    """
    xs = rng.choice(_LISTS)
    items = [rng.randint(0, 15) for _ in range(rng.randint(3, 5))]
    code = [f"{xs} = {items}"]
    steps = []
    change = rng.choice(("none", "append", "pop", "remove", "sort", "reverse", "insert"))
    value = rng.randint(0, 15)
    now = list(items)
    if change == "append":
        now.append(value)
        code.append(f"{xs}.append({value})")
    elif change == "pop":
        now.pop()
        code.append(f"{xs}.pop()")
    elif change == "remove":
        value = rng.choice(items)
        now.remove(value)
        code.append(f"{xs}.remove({value})")
    elif change == "sort":
        now.sort()
        code.append(f"{xs}.sort()")
    elif change == "reverse":
        now.reverse()
        code.append(f"{xs}.reverse()")
    elif change == "insert":
        now.insert(0, value)
        code.append(f"{xs}.insert(0, {value})")
    if change != "none":
        steps.append(f"After {code[-1]}, {xs} is {now}.")
    query = rng.choice(("sum", "max", "min", "len", "whole", "index", "last", "sorted", "slice"))
    if query == "sum":
        expr, out = f"sum({xs})", str(sum(now))
        steps.append(f"sum({xs}) = {_join(now, ' + ')} = {out}.")
    elif query in ("max", "min"):
        expr, out = f"{query}({xs})", str(max(now) if query == "max" else min(now))
        steps.append(f"The {'largest' if query == 'max' else 'smallest'} item of {now} is {out}.")
    elif query == "len":
        expr, out = f"len({xs})", str(len(now))
        steps.append(f"{now} has {out} items.")
    elif query == "index":
        i = rng.randint(0, len(now) - 1)
        expr, out = f"{xs}[{i}]", str(now[i])
        steps.append(f"Counting from 0, {xs}[{i}] is {out}.")
    elif query == "last":
        expr, out = f"{xs}[-1]", str(now[-1])
        steps.append(f"{xs}[-1] is the last item, {out}.")
    elif query == "sorted":
        expr, out = f"sorted({xs})", str(sorted(now))
        steps.append(f"sorted({xs}) puts the items in increasing order: {out}.")
    elif query == "slice":
        expr, out = f"{xs}[1:3]", str(now[1:3])
        steps.append(f"{xs}[1:3] holds the items at positions 1 and 2: {out}.")
    else:
        expr, out = xs, str(now)
        if not steps:
            steps.append(f"{xs} is unchanged: {out}.")
    code.append(f"print({expr})")
    return TracedProgram("\n".join(code) + "\n", out, tuple(steps))


def branch(rng: random.Random) -> TracedProgram:
    """An ``if``/``else`` on a number that either assigns and prints, or prints a word.

    >>> branch(random.Random(0)).steps
    ('27 % 4 = 3, not 0, so the else branch runs.', 'b = 27 * 9 = 243.')
    """
    x, y = rng.choice((("x", "y"), ("n", "m"), ("score", "bonus"), ("a", "b")))
    value = rng.randint(1, 40)
    test = rng.choice(("divisible", "greater", "less"))
    if test == "divisible":
        k = rng.randint(2, 6)
        cond, holds = f"{x} % {k} == 0", value % k == 0
        why = f"{value} % {k} = {value % k}, {'which is' if holds else 'not'} 0"
    else:
        t = rng.randint(5, 35)
        sign = ">" if test == "greater" else "<"
        cond, holds = f"{x} {sign} {t}", value > t if sign == ">" else value < t
        why = f"{value} {sign} {t} is {holds}"
    taken = "if" if holds else "else"
    if rng.random() < 0.5:
        yes, no = rng.choice(
            (("yes", "no"), ("big", "small"), ("even", "odd"), ("pass", "fail"), ("high", "low"))
        )
        code = f'{x} = {value}\nif {cond}:\n    print("{yes}")\nelse:\n    print("{no}")\n'
        return TracedProgram(code, yes if holds else no, (f"{why}, so the {taken} branch runs.",))
    (then_op, then_c), (else_op, else_c) = (
        (rng.choice(("+", "-", "*", "//")), rng.randint(2, 9)) for _ in range(2)
    )
    op, c = (then_op, then_c) if holds else (else_op, else_c)
    result = _OPS[op](value, c)
    code = f"{x} = {value}\nif {cond}:\n    {y} = {x} {then_op} {then_c}\nelse:\n    {y} = {x} {else_op} {else_c}\nprint({y})\n"
    return TracedProgram(
        code, str(result), (f"{why}, so the {taken} branch runs.", f"{y} = {value} {op} {c} = {result}.")
    )


_FUNCTION_BODIES: tuple[tuple[str, Callable[[int, int, int], int], Callable[[int, int, int], str]], ...] = (
    ("{n} * {a} + {b}", lambda v, a, b: v * a + b, lambda v, a, b: f"{v} * {a} + {b} = {v * a} + {b}"),
    ("{n} * {n} - {a}", lambda v, a, b: v * v - a, lambda v, a, b: f"{v} * {v} - {a} = {v * v} - {a}"),
    ("({n} + {a}) * {b}", lambda v, a, b: (v + a) * b, lambda v, a, b: f"({v} + {a}) * {b} = {v + a} * {b}"),
    ("{n} // {a} + {b}", lambda v, a, b: v // a + b, lambda v, a, b: f"{v} // {a} + {b} = {v // a} + {b}"),
)


def function_call(rng: random.Random) -> TracedProgram:
    """A one-line function of one number, called once, twice, or on its own result.

    >>> print(function_call(random.Random(0)).code, end="")
    def step(v):
        return v // 2 + 5
    <BLANKLINE>
    print(step(4) + step(3))
    """
    f, n = rng.choice((("f", "n"), ("g", "x"), ("calc", "x"), ("step", "v"), ("score", "n")))
    text, value_of, work = rng.choice(_FUNCTION_BODIES)
    a, b = rng.randint(2, 5), rng.randint(1, 9)
    body = text.format(n=n, a=a, b=b)

    def call(v: int) -> tuple[int, str]:
        res = value_of(v, a, b)
        return res, f"{f}({v}) = {work(v, a, b)} = {res}."

    c, d = rng.randint(0, 6), rng.randint(0, 6)
    form = rng.choice(("once", "sum", "nested"))
    first, step1 = call(c)
    if form == "once":
        printed, steps = f"{f}({c})", (step1,)
        out = first
    elif form == "sum":
        second, step2 = call(d)
        out = first + second
        printed, steps = f"{f}({c}) + {f}({d})", (step1, step2, f"{first} + {second} = {out}.")
    else:  # arguments and the // body's results are >= 0, so no floor division of a negative number
        out, step2 = call(first)
        printed, steps = f"{f}({f}({c}))", (step1, step2)
    return TracedProgram(f"def {f}({n}):\n    return {body}\n\nprint({printed})\n", str(out), steps)


def comprehension(rng: random.Random) -> TracedProgram:
    """A list comprehension with a map and an optional filter, printed as a list or summed.

    >>> comprehension(random.Random(0)).output
    '[0, 16, 64]'
    """
    xs, x = rng.choice((("nums", "x"), ("values", "v"), ("data", "d"), ("xs", "x")))
    items = [rng.randint(0, 12) for _ in range(rng.randint(3, 5))]
    k = rng.randint(2, 5)
    mapping, fn = rng.choice(
        (
            (f"{x} * {k}", lambda v: v * k),
            (f"{x} + {k}", lambda v: v + k),
            (f"{x} * {x}", lambda v: v * v),
            (f"{x} - {k}", lambda v: v - k),
        )
    )
    t = rng.randint(2, 9)
    filters = {
        "none": ("", lambda v: True, ""),
        "greater": (f" if {x} > {t}", lambda v: v > t, f"{x} > {t}"),
        "even": (f" if {x} % 2 == 0", lambda v: v % 2 == 0, f"{x} % 2 == 0"),
        "odd": (f" if {x} % 2 == 1", lambda v: v % 2 == 1, f"{x} % 2 == 1"),
    }
    clause, keep, said = filters[rng.choice(tuple(filters))]
    kept = [v for v in items if keep(v)]
    mapped = [fn(v) for v in kept]
    steps = []
    if clause:
        steps.append(f"The items with {said} are {_join(kept)}." if kept else f"No item has {said}.")
    if kept:
        steps.append(f"{mapping} maps {'them' if clause else _join(kept)} to {_join(mapped)}.")
    comp = f"[{mapping} for {x} in {xs}{clause}]"
    if rng.random() < 0.3:
        out = str(sum(mapped))
        if len(mapped) > 1:
            steps.append(f"Their sum is {_join(mapped, ' + ')} = {out}.")
        return TracedProgram(f"{xs} = {items}\nprint(sum({comp}))\n", out, tuple(steps))
    return TracedProgram(f"{xs} = {items}\nprint({comp})\n", str(mapped), tuple(steps))


def while_loop(rng: random.Random) -> TracedProgram:
    """A ``while`` loop that halves or counts down a number, counting its steps.

    >>> while_loop(random.Random(0)).steps[0]
    'm takes the values 63, 31, 15; the loop stops at 15 because 15 > 17 is False.'
    """
    n, count = rng.choice((("n", "steps"), ("x", "count"), ("left", "rounds"), ("m", "turns")))
    for _ in range(100):
        start = rng.randint(10, 100)
        update = rng.choice(("// 2", "// 3", "- k"))
        k = rng.randint(3, 15)
        stop = rng.randint(1, 20)
        trace = [start]
        while trace[-1] > stop and len(trace) <= 6:
            v = trace[-1]
            trace.append(v // 2 if update == "// 2" else v // 3 if update == "// 3" else v - k)
        if trace[-1] <= stop and 2 <= len(trace) <= 6:
            break
    else:
        raise RuntimeError("no short while loop in 100 draws")
    rhs = f"{n} {update}" if update != "- k" else f"{n} - {k}"
    times = len(trace) - 1
    shown = rng.choice(("count", "number", "both"))
    printed, out = {
        "count": (count, str(times)),
        "number": (n, str(trace[-1])),
        "both": (f"{n}, {count}", f"{trace[-1]} {times}"),
    }[shown]
    code = f"{n} = {start}\n{count} = 0\nwhile {n} > {stop}:\n    {n} = {rhs}\n    {count} += 1\nprint({printed})\n"
    steps = (
        f"{n} takes the values {_join(trace)}; the loop stops at {trace[-1]} because {trace[-1]} > {stop} is False.",
        f"The body ran {times} time{'s' if times != 1 else ''}, so {count} = {times}.",
    )
    return TracedProgram(code, out, steps)


# --------------------------------------------------------------------------------------- ood-only kinds


def nested_loop(rng: random.Random) -> TracedProgram:
    """Two nested ``for`` loops adding up a product, sum or difference of the loop variables.

    >>> nested_loop(random.Random(0)).output
    '9'
    """
    acc, i, j = rng.choice((("total", "i", "j"), ("s", "a", "b"), ("acc", "r", "c")))
    outer, inner = rng.randint(2, 4), rng.randint(2, 4)
    text, fn = rng.choice(
        ((f"{i} * {j}", operator.mul), (f"{i} + {j}", operator.add), (f"{j} - {i}", lambda p, q: q - p))
    )
    per_row = []
    steps = []
    for p in range(outer):
        terms = [fn(p, q) for q in range(inner)]
        per_row.append(sum(terms))
        steps.append(f"{i} = {p} adds {_join(terms, ' + ')} = {per_row[-1]}.")
    total = sum(per_row)
    steps.append(f"{acc} = {_join(per_row, ' + ')} = {total}.")
    code = f"{acc} = 0\nfor {i} in range({outer}):\n    for {j} in range({inner}):\n        {acc} += {text}\nprint({acc})\n"
    return TracedProgram(code, str(total), tuple(steps))


def string_loop(rng: random.Random) -> TracedProgram:
    """A string built character by character: vowels upper-cased, vowels dropped, or the word reversed.

    >>> string_loop(random.Random(0)).output
    'dlphn'
    """
    out, ch = rng.choice((("out", "ch"), ("result", "c"), ("new", "letter")))
    word = rng.choice([w for w in WORDS if len(w) >= 4])
    vowels = [c for c in word if c in "aeiou"]
    listed = ", ".join(vowels) if vowels else "none"
    mode = rng.choice(("upper_vowels", "drop_vowels", "reverse"))
    if mode == "upper_vowels":
        body = f'    if {ch} in "aeiou":\n        {out} += {ch}.upper()\n    else:\n        {out} += {ch}\n'
        res = "".join(c.upper() if c in "aeiou" else c for c in word)
        steps = (f'The vowels of "{word}" are {listed}.', f'Upper-casing them gives "{res}".')
    elif mode == "drop_vowels":
        body = f'    if {ch} not in "aeiou":\n        {out} += {ch}\n'
        res = "".join(c for c in word if c not in "aeiou")
        steps = (f'The vowels of "{word}" are {listed}.', f'Keeping only the other letters gives "{res}".')
    else:
        body = f"    {out} = {ch} + {out}\n"
        res = word[::-1]
        steps = (
            "Each character goes in front of the ones before it, which reverses the word.",
            f'"{word}" becomes "{res}".',
        )
    code = f'{out} = ""\nfor {ch} in "{word}":\n{body}print({out})\n'
    return TracedProgram(code, res, steps)


def two_accumulators(rng: random.Random) -> TracedProgram:
    """One loop over a list feeding two accumulators through an ``if``/``else``; both are printed.

    >>> two_accumulators(random.Random(0)).output
    '44 9'
    """
    items = [rng.randint(0, 20) for _ in range(rng.randint(4, 6))]
    x = rng.choice(("x", "v", "item"))
    if rng.random() < 0.5:
        (yes, no), cond, keep, said = (
            ("evens", "odds"),
            f"{x} % 2 == 0",
            (lambda v: v % 2 == 0),
            f"{x} % 2 == 0",
        )
    else:
        t = rng.randint(5, 15)
        (yes, no), cond, keep, said = ("big", "small"), f"{x} > {t}", (lambda v, t=t: v > t), f"{x} > {t}"
    counting = rng.random() < 0.5
    add = "1" if counting else x
    code = (
        f"{yes} = 0\n{no} = 0\nfor {x} in {items}:\n    if {cond}:\n        {yes} += {add}\n"
        f"    else:\n        {no} += {add}\nprint({yes}, {no})\n"
    )
    a = [v for v in items if keep(v)]
    b = [v for v in items if not keep(v)]

    def tally(vs: list[int]) -> tuple[int, str]:
        if counting:
            return len(vs), f"{len(vs)} item{'s' if len(vs) != 1 else ''}"
        return sum(vs), f"sum {sum(vs)}"

    ya, ta = tally(a)
    yb, tb = tally(b)
    steps = (
        f"Items with {said}: {_join(a) if a else 'none'}; {ta}, so {yes} = {ya}.",
        f"The others: {_join(b) if b else 'none'}; {tb}, so {no} = {yb}.",
        "print with two arguments puts a space between them.",
    )
    return TracedProgram(code, f"{ya} {yb}", steps)


def function_loop(rng: random.Random) -> TracedProgram:
    """A function that sums a ``range`` in a loop, called once or twice.

    >>> function_loop(random.Random(0)).steps[0]
    'total(4) = 0 + 1 + 2 + 3 = 6.'
    """
    f, n, t, i = rng.choice((("f", "n", "t", "i"), ("total", "n", "s", "k"), ("build", "m", "acc", "j")))
    k = rng.randint(2, 4)
    text, fn = rng.choice(
        ((i, lambda v: v), (f"{i} * {k}", lambda v: v * k), (f"{i} + {k}", lambda v: v + k))
    )

    def call(m: int) -> tuple[int, str]:
        terms = [fn(v) for v in range(m)]
        body = " + ".join(str(v) for v in terms) + f" = {sum(terms)}" if len(terms) > 1 else str(sum(terms))
        return sum(terms), f"{f}({m}) = {body}."

    a, b = rng.randint(2, 6), rng.randint(2, 6)
    ra, sa = call(a)
    if rng.random() < 0.5:
        printed, out, steps = f"{f}({a})", ra, (sa,)
    else:
        rb, sb = call(b)
        printed, out, steps = f"{f}({a}) + {f}({b})", ra + rb, (sa, sb, f"{ra} + {rb} = {ra + rb}.")
    code = f"def {f}({n}):\n    {t} = 0\n    for {i} in range({n}):\n        {t} += {text}\n    return {t}\n\nprint({printed})\n"
    return TracedProgram(code, str(out), steps)


def long_arithmetic(rng: random.Random) -> TracedProgram:
    """4-5 assignments, each of two operations: longer than any training program.

    >>> len(long_arithmetic(random.Random(0)).code.splitlines()) >= 5
    True
    """
    return _arithmetic_chain(rng, rng.choice((4, 5)), two_ops=1.0)


KINDS: dict[str, Callable[[random.Random], TracedProgram]] = {
    fn.__name__: fn
    for fn in (arithmetic, loop_accumulate, count_matches, string_method, list_method, branch, function_call,
               comprehension, while_loop)
}  # fmt: skip
OOD_KINDS: dict[str, Callable[[random.Random], TracedProgram]] = {
    fn.__name__: fn for fn in (nested_loop, string_loop, two_accumulators, function_loop, long_arithmetic)
}
