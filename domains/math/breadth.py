"""Opt-in math training families for breadth: averages, sharing in a ratio, and unit conversions.

They widen what a math entry trains on (``data.families`` names them; the default mix does not, so entries
trained before them reproduce). Each is a skill that people's questions combine, not one of the natural
split's question families (:mod:`.natural`: recipe scaling, shared work, bills, interest, clock spans,
paces, head counts, age ratios, materials, shop offers), and ``tests/test_domain_math.py`` checks that none
of their questions is a natural item.

Train/test (split by the SHA-256 of the problem's content, as every family, :mod:`.splits`):

* ``averages``: the mean of 3-5 whole values from 10-100, or the value a last item must have for a target
  mean (scores, prices, rainfall, laps);
* ``ratio_share``: an amount shared between two people in a ratio ``a:b`` (parts 1-9), asking for one share
  or the difference of the shares;
* ``unit_conversion``: a mixed quantity into its smaller unit (``3 m 45 cm`` to cm, ``2 h 15 min`` to
  minutes, ``4 kg 250 g`` to grams, ``5 L 300 mL`` to millilitres), or a whole number of a larger unit.

OOD: means of 6-8 values from 101-500 (and targets over them), three-way ratios ``a:b:c`` with amounts over
1,000, and three-unit conversions (``1 h 20 min 30 s`` to seconds, ``2 km 350 m 40 cm`` to centimetres),
in phrasings train/test never use.
"""

from __future__ import annotations

import random
from fractions import Fraction

from .problem import Problem, fmt, pick_name

__all__ = ["BREADTH_FAMILIES", "averages", "ratio_share", "unit_conversion"]

THINGS = {
    "scores": ("test scores", "points", "{name}'s test scores are {values}."),
    "prices": ("prices", "dollars", "A shop sells {n} lamps priced at {values} dollars."),
    "rain": ("rainfall figures", "mm", "Over {n} days the rainfall was {values} mm."),
    "laps": ("lap times", "seconds", "{name}'s lap times were {values} seconds."),
}

AVERAGE_ASKS = (
    "What is the mean, in {unit}?",
    "What is the average of these {what}, in {unit}?",
    "Find the mean of the {what} in {unit}.",
)
TARGET_ASKS = (
    "{name} has scored {values} on {k} tests. What must {name} score on the next test for a mean of {target}?",
    "After {k} games {name}'s points are {values}. How many points does the next game need so that the "
    "average over {n} games is {target}?",
    "The first {k} numbers are {values}. What must the next number be for the mean of all {n} to be {target}?",
)
OOD_AVERAGE_ASKS = (
    "A warehouse logged {n} deliveries weighing {values} kg. Work out the mean delivery weight in kg.",
    "Across {n} months a shop took in {values} dollars. Taking all {n} months together, what were the "
    "typical (mean) monthly takings in dollars?",
)
OOD_TARGET_ASKS = (
    "A runner has logged {values} metres on {k} training days. To average {target} metres a day over {n} "
    "days, how many metres must the next day be?",
)

RATIO_ASKS = (
    "{name} and {other} share ${total} in the ratio {a}:{b}. How much does {who} get, in dollars?",
    "${total} is split between {name} and {other} in the ratio {a} to {b}. How many dollars does {who} receive?",
    "A prize of ${total} is divided {a}:{b} between {name} and {other}. What is {who}'s share in dollars?",
)
RATIO_DIFF_ASKS = (
    "{name} and {other} share ${total} in the ratio {a}:{b}. How many more dollars does {more} get than {less}?",
    "${total} is divided between {name} and {other} in the ratio {a}:{b}. What is the difference between "
    "their shares, in dollars?",
)
OOD_RATIO_ASKS = (
    "Three partners, {name}, {other} and {third}, put money in at {a}:{b}:{c} and split a ${total} profit "
    "the same way. What is {who}'s part of the profit in dollars?",
)

UNITS = {
    # name: (large unit, small unit, factor, what is measured, range of the large part)
    "length": ("m", "cm", 100, "a ribbon", (1, 9)),
    "time": ("h", "min", 60, "a film", (1, 5)),
    "mass": ("kg", "g", 1000, "a bag of flour", (1, 9)),
    "volume": ("L", "mL", 1000, "a bottle of juice", (1, 6)),
}
UNIT_WORDS = {"m": "metres", "cm": "centimetres", "h": "hours", "min": "minutes", "kg": "kilograms", "g": "grams",
              "L": "litres", "mL": "millilitres"}
CONVERT_ASKS = (
    "{thing} measures {big} {U} {small} {u}. How many {uw} is that?",
    "Convert {big} {U} {small} {u} to {uw}.",
    "{Thing} is {big} {U} and {small} {u}. Write it in {uw} only.",
)
WHOLE_ASKS = (
    "How many {uw} are there in {big} {Uw}?",
    "Convert {big} {Uw} into {uw}.",
)
OOD_THREE_UNITS = (  # (units, factors of the first two to the third, ranges of the three parts, the ask)
    (("h", "min", "s"), (3600, 60), ((1, 9), (1, 59), (1, 59)),
     "A race took {0} h {1} min {2} s. Express the time in seconds."),
    (("km", "m", "cm"), (100_000, 100), ((1, 20), (1, 999), (1, 99)),
     "A hiking trail is {0} km {1} m {2} cm long. Give its length in centimetres."),
)


def _values_text(values: list[int]) -> str:
    return ", ".join(str(v) for v in values[:-1]) + f" and {values[-1]}"


def averages(rng: random.Random, *, ood: bool) -> Problem:
    """A mean, or the value that brings a set to a target mean; every step exact.

    >>> p = averages(random.Random(3), ood=False)
    >>> p.meta["kind"] in {"mean", "target"} and p.steps[-1].endswith(f"{fmt(p.answer)}.")
    True
    """
    name = pick_name(rng)
    lo, hi = (101, 500) if ood else (10, 100)
    n = rng.randint(6, 8) if ood else rng.randint(3, 5)
    if rng.random() < 0.5:
        while True:
            values = [rng.randint(lo, hi) for _ in range(n)]
            if sum(values) % n == 0 or rng.random() < 0.3:  # mostly whole means, some decimals
                mean = Fraction(sum(values), n)
                if (mean * 100).denominator == 1:  # terminates within two places
                    break
        total = sum(values)
        steps = [f"The sum is {' + '.join(map(str, values))} = {total}.", f"The mean is {total} ÷ {n} = {fmt(mean)}."]
        if ood:
            template = rng.randrange(len(OOD_AVERAGE_ASKS))
            question = OOD_AVERAGE_ASKS[template].format(n=n, values=_values_text(values))
        else:
            what = rng.choice(sorted(THINGS))
            label, unit, lead = THINGS[what]
            template = rng.randrange(len(AVERAGE_ASKS))
            question = lead.format(name=name, n=n, values=_values_text(values)) + " " + AVERAGE_ASKS[template].format(
                unit=unit, what=label)
        return Problem(question, mean, fmt(mean), tuple(steps), ("averages", "mean", tuple(sorted(values))),
                       {"kind": "mean", "template": template})
    k = n - 1
    while True:
        values = [rng.randint(lo, hi) for _ in range(k)]
        target = rng.randint(lo, hi)
        need = target * n - sum(values)
        if lo <= need <= hi:
            break
    steps = [
        f"A mean of {target} over {n} means a total of {target} × {n} = {target * n}.",
        f"So far: {' + '.join(map(str, values))} = {sum(values)}.",
        f"The next one must be {target * n} - {sum(values)} = {need}.",
    ]
    asks = OOD_TARGET_ASKS if ood else TARGET_ASKS
    template = rng.randrange(len(asks))
    question = asks[template].format(name=name, values=_values_text(values), k=k, n=n, target=target)
    return Problem(question, Fraction(need), str(need), tuple(steps),
                   ("averages", "target", tuple(sorted(values)), target), {"kind": "target", "template": template})


def ratio_share(rng: random.Random, *, ood: bool) -> Problem:
    """An amount shared in a ratio: one share, or (train/test) the difference of two shares.

    >>> p = ratio_share(random.Random(2), ood=True)
    >>> p.meta["kind"], p.answer.denominator
    ('three_way', 1)
    """
    name = pick_name(rng)
    other = pick_name(rng, avoid=[name])
    if ood:
        third = pick_name(rng, avoid=[name, other])
        a, b, c = (rng.randint(1, 9) for _ in range(3))
        parts = a + b + c
        total = parts * rng.randint(60, 400)
        who, part = rng.choice([(name, a), (other, b), (third, c)])
        one = total // parts
        steps = [f"There are {a} + {b} + {c} = {parts} parts.", f"One part is {total} ÷ {parts} = {one} dollars.",
                 f"{who} gets {part} × {one} = {part * one} dollars."]
        template = rng.randrange(len(OOD_RATIO_ASKS))
        question = OOD_RATIO_ASKS[template].format(name=name, other=other, third=third, a=a, b=b, c=c, total=total,
                                                   who=who)
        return Problem(question, Fraction(part * one), str(part * one), tuple(steps),
                       ("ratio_share", "three_way", a, b, c, total, part), {"kind": "three_way", "template": template})
    while True:
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        if a != b:
            break
    parts = a + b
    total = parts * rng.randint(2, 40)
    one = total // parts
    steps = [f"There are {a} + {b} = {parts} parts.", f"One part is {total} ÷ {parts} = {one} dollars."]
    if rng.random() < 0.6:
        who, part = rng.choice([(name, a), (other, b)])
        steps.append(f"{who} gets {part} × {one} = {part * one} dollars.")
        template = rng.randrange(len(RATIO_ASKS))
        question = RATIO_ASKS[template].format(name=name, other=other, a=a, b=b, total=total, who=who)
        return Problem(question, Fraction(part * one), str(part * one), tuple(steps),
                       ("ratio_share", "share", a, b, total, part == a), {"kind": "share", "template": template})
    more, less = (name, other) if a > b else (other, name)
    gap = abs(a - b)
    steps.append(f"The shares differ by {max(a, b)} - {min(a, b)} = {gap} parts, so {gap} × {one} = {gap * one} dollars.")
    template = rng.randrange(len(RATIO_DIFF_ASKS))
    question = RATIO_DIFF_ASKS[template].format(name=name, other=other, a=a, b=b, total=total, more=more, less=less)
    return Problem(question, Fraction(gap * one), str(gap * one), tuple(steps),
                   ("ratio_share", "difference", a, b, total), {"kind": "difference", "template": template})


def unit_conversion(rng: random.Random, *, ood: bool) -> Problem:
    """A mixed quantity (or whole larger units) into the smaller unit.

    >>> p = unit_conversion(random.Random(0), ood=False)
    >>> p.meta["kind"] in {"mixed", "whole"} and p.answer.denominator == 1
    True
    """
    if ood:
        template = rng.randrange(len(OOD_THREE_UNITS))
        units, factors, ranges, ask = OOD_THREE_UNITS[template]
        parts = [rng.randint(*r) for r in ranges]
        converted = [part * factor for part, factor in zip(parts, factors)]
        value = sum(converted) + parts[2]
        steps = [f"{part} {unit} is {part} × {factor} = {c} {units[2]}."
                 for part, unit, factor, c in zip(parts, units, factors, converted)]
        steps.append(f"Total: {converted[0]} + {converted[1]} + {parts[2]} = {value} {units[2]}.")
        return Problem(ask.format(*parts), Fraction(value), str(value), tuple(steps),
                       ("unit_conversion", units[0], *parts), {"kind": "three_unit", "template": template})
    quantity = rng.choice(sorted(UNITS))
    big_unit, small_unit, factor, thing, (lo, hi) = UNITS[quantity]
    big = rng.randint(lo, hi)
    if rng.random() < 0.7:
        small = rng.randint(1, factor - 1)
        value = big * factor + small
        steps = [f"{big} {big_unit} is {big} × {factor} = {big * factor} {small_unit}.",
                 f"{big * factor} + {small} = {value} {small_unit}."]
        template = rng.randrange(len(CONVERT_ASKS))
        question = CONVERT_ASKS[template].format(thing=thing, Thing=thing[0].upper() + thing[1:], big=big, U=big_unit,
                                                 small=small, u=small_unit, uw=UNIT_WORDS[small_unit])
        return Problem(question, Fraction(value), str(value), tuple(steps),
                       ("unit_conversion", quantity, big, small), {"kind": "mixed", "template": template})
    value = big * factor
    steps = [f"{big} {UNIT_WORDS[big_unit]} is {big} × {factor} = {value} {small_unit}."]
    template = rng.randrange(len(WHOLE_ASKS))
    question = WHOLE_ASKS[template].format(big=big, Uw=UNIT_WORDS[big_unit], uw=UNIT_WORDS[small_unit])
    return Problem(question, Fraction(value), str(value), tuple(steps), ("unit_conversion", quantity, big),
                   {"kind": "whole", "template": template})


BREADTH_FAMILIES = {"averages": averages, "ratio_share": ratio_share, "unit_conversion": unit_conversion}
