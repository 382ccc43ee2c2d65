"""Short word problems in five scenarios: shopping, travel, sharing, ages and rates.

Each scenario has a few problem structures; each structure has several phrasings. Numbers are drawn
backwards from the answer where a division is involved (e.g. the amount to share is ``cousins × each +
given away``), so every step is an exact whole-number calculation that the solution writes out.

Train/test: 2-4 steps, the structures and phrasings in :data:`TEMPLATES`, small numbers (2-6 items at
$2-15, speeds 20-90 km/h, 2-9 boxes, horizons of 2-20 years, machines making 2-12 a minute).
OOD: 4-5 steps, one longer structure per scenario phrased only in :data:`OOD_TEMPLATES`, and numbers from
ranges train never draws for the same quantity: 7-15 items at $16-40, speeds 300-900 km/h, 10-30 crates,
a 21-40 year horizon, machines making 21-60 a minute.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .problem import Problem, pick_name

__all__ = ["OOD_TEMPLATES", "SCENARIOS", "TEMPLATES", "word_problem"]

GOODS = ("pens", "notebooks", "apples", "mugs", "candles", "cupcakes", "batteries", "postcards", "stickers")
SHARED_THINGS = ("marbles", "stickers", "pencils", "cards", "beads", "crayons")
CROPS = ("apples", "oranges", "melons", "lemons", "pears")

TEMPLATES: dict[str, tuple[str, ...]] = {
    "shopping_total": (
        "{name} buys {a} {goods1} at ${p} each and {b} {goods2} at ${q} each. How many dollars does {name} spend?",
        "At the market, {goods1} cost ${p} each and {goods2} cost ${q} each. {name} buys {a} {goods1} and {b} "
        "{goods2}. What is the total cost in dollars?",
    ),
    "shopping_change": (
        "{name} buys {a} {goods1} at ${p} each and {b} {goods2} at ${q} each, paying with a ${bill} bill. How "
        "much change does {name} get in dollars?",
        "{Goods1} cost ${p} each and {goods2} cost ${q} each. {name} pays for {a} {goods1} and {b} {goods2} with "
        "a ${bill} bill. How many dollars of change should {name} get back?",
    ),
    "travel_two_legs": (
        "A car drives at {v} km/h for {t} hours and then at {w} km/h for {s} hours. How many kilometres does it "
        "travel in total?",
        "{name} drives for {t} hours at {v} km/h, stops for lunch, then drives {s} more hours at {w} km/h. How "
        "many km does {name} drive?",
    ),
    "travel_same_speed": (
        "{name} cycles {d} km in {t} hours. At the same speed, how many km does {name} cycle in {s} hours?",
        "A boat covers {d} km in {t} hours. Going at the same speed, how many km does it cover in {s} hours?",
    ),
    "travel_trip_time": (
        "A bus travels {d1} km to a town and then {d2} km further, at a steady {v} km/h. How many hours does "
        "the whole trip take?",
        "A delivery van drives {d1} km and then another {d2} km, always at {v} km/h. How many hours is it on "
        "the road?",
    ),
    "sharing_give_then_share": (
        "{name} has {n} {things}. {name} gives {k} to a friend and shares the rest equally among {m} cousins. "
        "How many {things} does each cousin get?",
        "A teacher has {n} {things}. After keeping {k}, she splits the rest equally among {m} groups. How many "
        "{things} does each group get?",
    ),
    "sharing_boxes": (
        "There are {a} boxes with {b} {things} in each. The {things} are shared equally among {m} children. "
        "How many {things} does each child get?",
        "{name} buys {a} packs of {b} {things} and divides them equally among {m} friends. How many {things} "
        "does each friend get?",
    ),
    "sharing_bake_and_bag": (
        "{name} bakes {a} trays of {b} cookies and eats {k} of them. The rest are packed into bags of {m}. "
        "How many bags does {name} fill?",
        "A bakery makes {a} batches of {b} muffins. {k} muffins are sold at the counter and the rest go into "
        "boxes of {m}. How many boxes are filled?",
    ),
    "ages_times_older": (
        "{name} is {k} times as old as {other}. {other} is {b} years old. How old will {name} be in {n} years?",
        "{other} is {b}, and {name}'s age is {k} times {other}'s age. What will {name}'s age be {n} years "
        "from now?",
    ),
    "ages_sum_and_gap": (
        "{name} is {d} years older than {other}. Their ages add up to {s}. How old is {name}?",
        "The sum of {name}'s and {other}'s ages is {s}, and {name} is {d} years older. How old is {name}?",
    ),
    "ages_future": (
        "In {n} years, {name} will be {f} years old. {other} is {d} years younger than {name}. How old is "
        "{other} now?",
        "{name} will turn {f} in {n} years. {other} is {d} years younger than {name}. What is {other}'s age "
        "today?",
    ),
    "rates_per_minute": (
        "A machine makes {r} bottles per minute. How many bottles does it make in {h} hours?",
        "A printer prints {r} pages every minute. How many pages does it print in {h} hours?",
    ),
    "rates_wage": (
        "{name} earns ${r} per hour and works {h} hours a day. How many dollars does {name} earn in {d} days?",
        "{name} is paid ${r} an hour. Working {h} hours on each of {d} days, how much does {name} earn in "
        "dollars?",
    ),
    "rates_fill_tank": (
        "A tank holds {c} litres and already has {c0} litres in it. Water flows in at {r} litres per minute. "
        "How many minutes until the tank is full?",
        "A pool needs {c} litres of water and has {c0} litres. A hose adds {r} litres each minute. How many "
        "minutes will it take to fill?",
    ),
}

OOD_TEMPLATES: dict[str, tuple[str, ...]] = {
    "shopping_three_items": (
        "{name}'s shopping list: {a} {goods1} at ${p} each, {b} {goods2} at ${q} each and {c} {goods3} at ${r} "
        "each. {name} hands over ${bill}. What change comes back, in dollars?",
    ),
    "travel_average_speed": (
        "A plane flies {d1} km at {v1} km/h and then {d2} km at {v2} km/h. What is its average speed over the "
        "whole flight, in km/h?",
    ),
    "sharing_crates_to_shops": (
        "A farm packs {a} crates holding {b} {crops} each. {k} {crops} are bruised and thrown away, and the "
        "rest are split equally among {m} shops. Each shop then sells {s}. How many {crops} does each shop "
        "have left?",
    ),
    "ages_three_total": (
        "{third} is {d} years older than {name}, and {name} is {k} times as old as {other}. {other} is {b} "
        "years old. What will their three ages add up to in {n} years?",
    ),
    "rates_two_machines": (
        "Two machines work side by side: one caps {r1} bottles a minute and the other {r2}. They run for {h} "
        "hours, and {k} of the capped bottles fail inspection. How many bottles pass?",
    ),
}

SCENARIOS = ("shopping", "travel", "sharing", "ages", "rates")


@dataclass(frozen=True)
class _Drawn:
    structure: str
    values: dict[str, int]
    steps: list[str]
    answer: int
    # the values with interchangeable parts put in order (two items bought, two legs driven, boxes × size),
    # so that "2 pens and 3 mugs" and "3 mugs and 2 pens" are one problem on one side of the split
    content: tuple | None = None


# --------------------------------------------------------------------------------------------- train/test


def _shopping(rng: random.Random) -> _Drawn:
    a, b, p, q = rng.randint(2, 6), rng.randint(2, 6), rng.randint(2, 15), rng.randint(2, 15)
    ca, cb, total = a * p, b * q, a * p + b * q
    steps = [
        f"The {{goods1}} cost {a} × {p} = {ca} dollars.",
        f"The {{goods2}} cost {b} × {q} = {cb} dollars.",
        f"Together: {ca} + {cb} = {total} dollars.",
    ]
    purchases = tuple(sorted([(a, p), (b, q)]))
    if rng.random() < 0.5:
        return _Drawn("shopping_total", {"a": a, "b": b, "p": p, "q": q}, steps, total, purchases)
    bill = next(x for x in (20, 50, 100, 200) if x > total)
    steps.append(f"Change: {bill} - {total} = {bill - total} dollars.")
    values = {"a": a, "b": b, "p": p, "q": q, "bill": bill}
    return _Drawn("shopping_change", values, steps, bill - total, (*purchases, bill))


def _travel(rng: random.Random) -> _Drawn:
    structure = rng.choice(["travel_two_legs", "travel_same_speed", "travel_trip_time"])
    if structure == "travel_two_legs":
        v, w, t, s = 5 * rng.randint(4, 18), 5 * rng.randint(4, 18), rng.randint(2, 5), rng.randint(2, 5)
        steps = [
            f"First part: {v} × {t} = {v * t} km.",
            f"Second part: {w} × {s} = {w * s} km.",
            f"Total: {v * t} + {w * s} = {v * t + w * s} km.",
        ]
        legs = tuple(sorted([(v, t), (w, s)]))
        return _Drawn(structure, {"v": v, "w": w, "t": t, "s": s}, steps, v * t + w * s, legs)
    if structure == "travel_same_speed":
        v, t = rng.randint(5, 30), rng.randint(2, 6)
        s = rng.choice([x for x in range(2, 10) if x != t])
        steps = [f"Speed: {v * t} ÷ {t} = {v} km per hour.", f"In {s} hours: {v} × {s} = {v * s} km."]
        return _Drawn(structure, {"d": v * t, "t": t, "s": s}, steps, v * s)
    v, hours = 5 * rng.randint(4, 18), rng.randint(2, 8)
    total = v * hours
    d1 = rng.randint(10, total - 10)
    steps = [f"Total distance: {d1} + {total - d1} = {total} km.", f"Time: {total} ÷ {v} = {hours} hours."]
    return _Drawn(structure, {"d1": d1, "d2": total - d1, "v": v}, steps, hours)


def _sharing(rng: random.Random) -> _Drawn:
    structure = rng.choice(["sharing_give_then_share", "sharing_boxes", "sharing_bake_and_bag"])
    if structure == "sharing_give_then_share":
        m, each, k = rng.randint(2, 9), rng.randint(2, 15), rng.randint(1, 20)
        n = m * each + k
        steps = [f"Left to share: {n} - {k} = {n - k}.", f"Each gets {n - k} ÷ {m} = {each}."]
        return _Drawn(structure, {"n": n, "k": k, "m": m}, steps, each)
    if structure == "sharing_boxes":
        while True:
            a, b, m = rng.randint(2, 9), rng.randint(2, 12), rng.randint(2, 9)
            if a * b % m == 0 and m not in (a, b):
                break
        steps = [f"Total: {a} × {b} = {a * b}.", f"Each gets {a * b} ÷ {m} = {a * b // m}."]
        return _Drawn(structure, {"a": a, "b": b, "m": m}, steps, a * b // m, (*sorted((a, b)), m))
    while True:
        a, b, k, m = rng.randint(2, 6), rng.randint(6, 12), rng.randint(1, 10), rng.randint(2, 6)
        if (a * b - k) % m == 0 and a * b > k:
            break
    rest = a * b - k
    steps = [
        f"Baked: {a} × {b} = {a * b}.",
        f"Left: {a * b} - {k} = {rest}.",
        f"Bags: {rest} ÷ {m} = {rest // m}.",
    ]
    return _Drawn(structure, {"a": a, "b": b, "k": k, "m": m}, steps, rest // m, (*sorted((a, b)), k, m))


def _ages(rng: random.Random) -> _Drawn:
    structure = rng.choice(["ages_times_older", "ages_sum_and_gap", "ages_future"])
    if structure == "ages_times_older":
        k, b, n = rng.randint(2, 5), rng.randint(2, 14), rng.randint(2, 20)
        steps = [
            f"{{name}} is {k} × {b} = {k * b} years old now.",
            f"In {n} years: {k * b} + {n} = {k * b + n}.",
        ]
        return _Drawn(structure, {"k": k, "b": b, "n": n}, steps, k * b + n)
    if structure == "ages_sum_and_gap":
        younger, d = rng.randint(2, 40), rng.randint(1, 30)
        older, s = younger + d, 2 * younger + d
        steps = [
            f"Take away the gap: {s} - {d} = {s - d}.",
            f"{{other}} is {s - d} ÷ 2 = {younger}.",
            f"{{name}} is {younger} + {d} = {older}.",
        ]
        return _Drawn(structure, {"d": d, "s": s}, steps, older)
    now, n = rng.randint(10, 60), rng.randint(2, 15)
    d = rng.randint(1, now - 1)
    steps = [f"{{name}} is {now + n} - {n} = {now} now.", f"{{other}} is {now} - {d} = {now - d}."]
    return _Drawn(structure, {"n": n, "f": now + n, "d": d}, steps, now - d)


def _rates(rng: random.Random) -> _Drawn:
    structure = rng.choice(["rates_per_minute", "rates_wage", "rates_fill_tank"])
    if structure == "rates_per_minute":
        r, h = rng.randint(2, 12), rng.randint(2, 8)
        steps = [f"{h} hours is {h} × 60 = {h * 60} minutes.", f"{r} × {h * 60} = {r * h * 60}."]
        return _Drawn(structure, {"r": r, "h": h}, steps, r * h * 60)
    if structure == "rates_wage":
        r, h, d = rng.randint(8, 25), rng.randint(2, 9), rng.randint(2, 7)
        steps = [
            f"Per day: {r} × {h} = {r * h} dollars.",
            f"In {d} days: {r * h} × {d} = {r * h * d} dollars.",
        ]
        return _Drawn(structure, {"r": r, "h": h, "d": d}, steps, r * h * d)
    r, t, c0 = rng.randint(2, 15), rng.randint(2, 30), rng.randint(5, 100)
    c = c0 + r * t
    steps = [f"Still needed: {c} - {c0} = {r * t} litres.", f"Time: {r * t} ÷ {r} = {t} minutes."]
    return _Drawn(structure, {"c": c, "c0": c0, "r": r}, steps, t)


# --------------------------------------------------------------------------------------------------- OOD


def _shopping_ood(rng: random.Random) -> _Drawn:
    counts = [rng.randint(7, 15) for _ in range(3)]
    prices = [rng.randint(16, 40) for _ in range(3)]
    costs = [c * p for c, p in zip(counts, prices, strict=True)]
    total = sum(costs)
    bill = 1000 if total < 1000 else 2000
    steps = [
        f"The {{goods{i + 1}}} cost {c} × {p} = {c * p} dollars."
        for i, (c, p) in enumerate(zip(counts, prices, strict=True))
    ]
    steps += [
        f"Together: {costs[0]} + {costs[1]} + {costs[2]} = {total} dollars.",
        f"Change: {bill} - {total} = {bill - total} dollars.",
    ]
    values = dict(zip("abc", counts, strict=True)) | dict(zip("pqr", prices, strict=True)) | {"bill": bill}
    return _Drawn("shopping_three_items", values, steps, bill - total)


def _travel_ood(rng: random.Random) -> _Drawn:
    while True:
        v1, v2 = 10 * rng.randint(30, 90), 10 * rng.randint(30, 90)
        t1, t2 = rng.randint(2, 5), rng.randint(2, 5)
        d1, d2 = v1 * t1, v2 * t2
        if v1 != v2 and (d1 + d2) % (t1 + t2) == 0:
            break
    dist, time = d1 + d2, t1 + t2
    steps = [
        f"First leg: {d1} ÷ {v1} = {t1} hours.",
        f"Second leg: {d2} ÷ {v2} = {t2} hours.",
        f"Total distance: {d1} + {d2} = {dist} km.",
        f"Total time: {t1} + {t2} = {time} hours.",
        f"Average speed: {dist} ÷ {time} = {dist // time} km/h.",
    ]
    return _Drawn("travel_average_speed", {"d1": d1, "v1": v1, "d2": d2, "v2": v2}, steps, dist // time)


def _sharing_ood(rng: random.Random) -> _Drawn:
    while True:
        a, b, k, m = rng.randint(10, 30), rng.randint(12, 40), rng.randint(5, 50), rng.randint(3, 12)
        if (a * b - k) % m == 0:
            share = (a * b - k) // m
            s = rng.randint(1, share - 1)
            break
    steps = [
        f"Packed: {a} × {b} = {a * b}.",
        f"Kept: {a * b} - {k} = {a * b - k}.",
        f"Per shop: {a * b - k} ÷ {m} = {share}.",
        f"Left: {share} - {s} = {share - s}.",
    ]
    return _Drawn("sharing_crates_to_shops", {"a": a, "b": b, "k": k, "m": m, "s": s}, steps, share - s)


def _ages_ood(rng: random.Random) -> _Drawn:
    b, k, d, n = rng.randint(15, 30), rng.randint(2, 3), rng.randint(21, 40), rng.randint(21, 40)
    mid = k * b
    old = mid + d
    now = b + mid + old
    steps = [
        f"{{name}} is {k} × {b} = {mid}.",
        f"{{third}} is {mid} + {d} = {old}.",
        f"Now: {b} + {mid} + {old} = {now}.",
        f"In {n} years each is {n} older: 3 × {n} = {3 * n}.",
        f"Total: {now} + {3 * n} = {now + 3 * n}.",
    ]
    return _Drawn("ages_three_total", {"b": b, "k": k, "d": d, "n": n}, steps, now + 3 * n)


def _rates_ood(rng: random.Random) -> _Drawn:
    r1, r2, h, k = rng.randint(21, 60), rng.randint(21, 60), rng.randint(2, 9), rng.randint(50, 500)
    rate, minutes = r1 + r2, h * 60
    steps = [
        f"Together: {r1} + {r2} = {rate} bottles a minute.",
        f"{h} hours is {h} × 60 = {minutes} minutes.",
        f"Capped: {rate} × {minutes} = {rate * minutes}.",
        f"Passing: {rate * minutes} - {k} = {rate * minutes - k}.",
    ]
    return _Drawn("rates_two_machines", {"r1": r1, "r2": r2, "h": h, "k": k}, steps, rate * minutes - k)


_DRAW: dict[str, tuple[Callable[[random.Random], _Drawn], Callable[[random.Random], _Drawn]]] = {
    "shopping": (_shopping, _shopping_ood),
    "travel": (_travel, _travel_ood),
    "sharing": (_sharing, _sharing_ood),
    "ages": (_ages, _ages_ood),
    "rates": (_rates, _rates_ood),
}


def word_problem(rng: random.Random, *, ood: bool) -> Problem:
    """A word problem from one of :data:`SCENARIOS`, with whole-number steps.

    >>> p = word_problem(random.Random(4), ood=False)
    >>> p.meta["scenario"] in SCENARIOS and 2 <= p.meta["steps"] <= 4
    True
    """
    scenario = rng.choice(SCENARIOS)
    drawn = _DRAW[scenario][1 if ood else 0](rng)
    name = pick_name(rng)
    other = pick_name(rng, avoid=[name])
    goods = rng.sample(GOODS, 3)
    words: dict[str, Any] = {
        "name": name,
        "other": other,
        "third": pick_name(rng, avoid=[name, other]),
        "goods1": goods[0],
        "goods2": goods[1],
        "goods3": goods[2],
        "Goods1": goods[0].capitalize(),
        "things": rng.choice(SHARED_THINGS),
        "crops": rng.choice(CROPS),
    }
    templates = (OOD_TEMPLATES if ood else TEMPLATES)[drawn.structure]
    t = rng.randrange(len(templates))
    return Problem(
        question=templates[t].format(**words, **drawn.values),
        answer=Fraction(drawn.answer),
        answer_text=str(drawn.answer),
        steps=tuple(step.format(**words) for step in drawn.steps),
        key=("word_problem", drawn.structure, drawn.content or tuple(sorted(drawn.values.items()))),
        meta={"scenario": scenario, "structure": drawn.structure, "template": t, "steps": len(drawn.steps)},
    )
