"""Percentages: a percent of an amount, a percent change, and a discounted price.

Numbers are drawn so that every step is an integer: ``p% of n`` is worked as ``n × p`` then ``÷ 100``, a
percent change as ``change × 100 ÷ old``. Answers that are percentages are given as the number of percent
(25 for 25%), as the system prompt says.

Train/test: one of three kinds (percent of, percent change, discount; 3-4 steps), amounts and prices
10-200, percents 1-99 (multiples of 5 for changes and discounts), phrasings :data:`TEMPLATES`.
OOD: two successive percent changes, or the price before a discount and a coupon worked back from what
was paid (4 steps each), prices 220-2000, phrasings :data:`OOD_TEMPLATES`.
"""

from __future__ import annotations

import random
from fractions import Fraction

from .problem import Problem, fmt, pick_name

__all__ = ["ITEMS", "OOD_TEMPLATES", "TEMPLATES", "percentages"]

ITEMS = ("jacket", "bike", "lamp", "backpack", "chair", "kettle", "guitar", "tent", "watch", "printer")

TEMPLATES = {
    "percent_of": (
        "What is {p}% of {n}?",
        "Find {p}% of {n}.",
        "A school has {n} students and {p}% of them walk to school. How many students walk to school?",
    ),
    "percent_change": (
        "The price of a {item} goes from ${old} to ${new}. By what percent did the price {direction}?",
        "{name}'s savings went from ${old} to ${new}. What was the percent {direction}?",
    ),
    "discount": (
        "A {item} costs ${price}. It is on sale for {p}% off. What is the sale price in dollars?",
        "{name} buys a ${price} {item} with a {p}% discount. How many dollars does {name} pay?",
    ),
}
OOD_TEMPLATES = {
    "two_changes": (
        "A shop prices a {item} at ${price}. It raises the price by {a}%, and later cuts the new price by {b}%. "
        "What is the final price in dollars?",
    ),
    "reverse_discount": (
        "{name} paid ${paid} for a {item} after a {p}% reduction and then a ${coupon} coupon. What was the "
        "price in dollars before the reduction?",
    ),
}


def _percent_of_steps(n: int, p: int) -> tuple[list[str], int]:
    value = n * p // 100
    return [f"{p}% of {n} is {n} × {p} ÷ 100.", f"{n} × {p} = {n * p}.", f"{n * p} ÷ 100 = {value}."], value


def _percent_of(rng: random.Random) -> tuple[dict, list[str], int]:
    while True:
        n, p = rng.randint(10, 200), rng.randint(1, 99)
        if n * p % 100 == 0:
            steps, value = _percent_of_steps(n, p)
            return {"n": n, "p": p}, steps, value


def _percent_change(rng: random.Random) -> tuple[dict, list[str], int]:
    while True:
        old, p = rng.randint(10, 200), 5 * rng.randint(1, 19)
        up = rng.random() < 0.5
        change = old * p
        if change % 100 == 0:
            delta = change // 100
            new = old + delta if up else old - delta
            if new > 200:
                continue
            diff = f"{new} - {old} = {delta}" if up else f"{old} - {new} = {delta}"
            steps = [
                f"The price changed by {diff}.",
                f"{delta} × 100 = {delta * 100}.",
                f"{delta * 100} ÷ {old} = {p}, so it is a {p}% {'increase' if up else 'decrease'}.",
            ]
            return {"old": old, "new": new, "up": up}, steps, p


def _discount(rng: random.Random) -> tuple[dict, list[str], int]:
    while True:
        price, p = rng.randint(10, 200), 5 * rng.randint(1, 18)
        if price * p % 100 == 0:
            break
    off = price * p // 100
    steps = [
        f"The discount is {price} × {p} ÷ 100.",
        f"{price} × {p} = {price * p}.",
        f"{price * p} ÷ 100 = {off}.",
    ]
    steps.append(f"The sale price is {price} - {off} = {price - off}.")
    return {"price": price, "p": p}, steps, price - off


def percentages(rng: random.Random, *, ood: bool) -> Problem:
    """A percent problem with integer steps.

    >>> p = percentages(random.Random(1), ood=False)
    >>> p.answer.denominator == 1 and p.meta["kind"] in {"percent_of", "percent_change", "discount"}
    True
    """
    name, item = pick_name(rng), rng.choice(ITEMS)
    if ood:
        kind = rng.choice(sorted(OOD_TEMPLATES))
        if kind == "two_changes":
            while True:
                price, a, b = rng.randint(220, 2000), 5 * rng.randint(1, 10), 5 * rng.randint(1, 10)
                if price * a % 100 == 0 and price * (100 + a) * b % 10_000 == 0:
                    break
            raised = price * (100 + a) // 100
            cut = raised * b // 100
            steps = [
                f"The rise is {price} × {a} ÷ 100 = {price * a // 100}.",
                f"The raised price is {price} + {price * a // 100} = {raised}.",
                f"The cut is {raised} × {b} ÷ 100 = {cut}.",
                f"The final price is {raised} - {cut} = {raised - cut}.",
            ]
            values, answer = {"price": price, "a": a, "b": b}, Fraction(raised - cut)
        else:
            while True:
                # a whole number of tens keeps 1% of the original to one decimal place
                p, before = 5 * rng.randint(1, 18), 10 * rng.randint(22, 200)
                if before * (100 - p) % 100 == 0:
                    break
            sale = before * (100 - p) // 100  # at least 22, so a coupon of at most half of it exists
            coupon = 5 * rng.randint(1, min(10, sale // 10))
            one_percent = fmt(Fraction(sale, 100 - p))
            steps = [
                f"Before the coupon: {sale - coupon} + {coupon} = {sale}.",
                f"That is {100 - p}% of the original, since 100 - {p} = {100 - p}.",
                f"1% of the original is {sale} ÷ {100 - p} = {one_percent}.",
                f"The original is {one_percent} × 100 = {before}.",
            ]
            values, answer = {"p": p, "paid": sale - coupon, "coupon": coupon}, Fraction(before)
        templates = OOD_TEMPLATES[kind]
    else:
        kind = rng.choice(sorted(TEMPLATES))
        if kind == "percent_of":
            values, steps, value = _percent_of(rng)
        elif kind == "percent_change":
            values, steps, value = _percent_change(rng)
        else:
            values, steps, value = _discount(rng)
        answer = Fraction(value)
        templates = TEMPLATES[kind]
    t = rng.randrange(len(templates))
    up = values.get("up", True)
    question = templates[t].format(
        name=name,
        item=item,
        direction="increase" if up else "decrease",
        **{k: v for k, v in values.items() if k != "up"},
    )
    return Problem(
        question=question,
        answer=answer,
        answer_text=fmt(answer),
        steps=tuple(steps),
        key=("percentages", kind, *sorted(values.items())),
        meta={"kind": kind, "template": t},
    )
