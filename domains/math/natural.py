r"""The ``natural`` split of math: held-out question families, phrased the way people ask. Evaluation only.

Every family here is a kind of problem that no training data poses (:data:`NATURAL_FAMILIES`; none is one
of the trained families, nor one of the structures inside ``word_problem`` or ``percentages``): scaling a
recipe and converting its units, jobs shared between workers who each take a stated time, a restaurant bill
with tip (and tax) split between friends, simple interest over months, clock and calendar spans, running
paces and speeds in mixed units, counting two kinds of things from a head count and a total, age puzzles
with a ratio at two points in time, materials for a floor, wall or fence, and multi-buy shop offers.

How they read: a short story before the question or the question first, several phrasings per structure,
small numbers sometimes in words ("the four of us", "two dozen"), an irrelevant sentence (with numbers of
its own) in most items, mixed units that the question asks to convert (grams and kilograms, minutes and
hours, centimetres and metres, cents and dollars), and no hint of the formula. Answers are exact
(``Fraction`` arithmetic, ``datetime`` for dates), drawn so that each is an integer or a decimal that
terminates within three places; the unit the answer is wanted in is always stated.

Determinism: item ``i`` of a family draws from ``random.Random`` seeded by the SHA-256 of
``"math|natural|<family>|<seed>|<i>"``; a draw whose mathematical content (``key``) or wording repeats an
earlier item of the same request is redrawn from the same stream, so ``natural_examples(n, seed=s)`` holds
``n`` distinct problems and is a prefix of ``natural_examples(m, seed=s)`` for ``m > n``.

>>> items = natural_examples(20)
>>> len({e.question for e in items}), items[0].id, items[0].meta["answer_kind"]
(20, 'math/natural/recipe_scaling/00000', 'number')
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import itertools
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from srmzoo.domain import Example, check_counts

from .problem import fmt, pick_name, solution_text

__all__ = ["NATURAL_FAMILIES", "NATURAL_SEED_NOTE", "TEMPLATES", "natural_examples", "number_words"]

NATURAL_FAMILIES: dict[str, str] = {
    "recipe_scaling": "scale a recipe from the servings (or dozens of cookies) it makes to the number wanted and "
    "give an ingredient in another unit (g -> kg, ml -> litres); a cook asking, servings often in words, "
    "other ingredients and oven settings as distractors",
    "combined_work": "two or three workers (or a tap against a leak) who each take a stated time for a whole job, "
    "working at once: how many minutes; times mixed in hours and minutes, job details as distractors",
    "bill_split": "a restaurant bill of several dishes with a percentage tip (sometimes after tax) shared evenly by "
    "a group, the group size often in words: what each person pays, in dollars",
    "monthly_interest": "simple yearly interest on savings or a loan over a span given in months or years in words "
    "(a year and a half): the interest, the balance, or the equal monthly repayment",
    "elapsed_time": "clock and calendar spans: an overnight trip between 12-hour clock times in minutes, the days "
    "between two dates of a stated year (inclusive or not), weekly hours of a shift with an unpaid break",
    "pace_and_speed_units": "running pace in minutes and seconds per km, speeds in m/s or km/h over minutes or "
    "metres, stride lengths in cm over km: one unit conversion at the heart of each",
    "two_kinds_count": "two kinds of coins, tickets, animals or vehicles: the total count and the total value (or "
    "legs, wheels) are given, how many of one kind (a system of two equations told as a story)",
    "age_ratio_puzzle": "ages with a ratio at two points in time (now k times as old, in n years j times; or years "
    "ago), or a sum of ages now and a ratio later: one person's age now",
    "area_materials": "floor boxes (whole boxes, sometimes 10% extra), wall tiles in cm over a wall in metres, "
    "fencing a garden less a gate at a price per metre, paint tins for two coats",
    "multibuy_offers": "shop offers: 3 for 2, every second item half price, a multipack against singles, loose "
    "produce priced per kg bought in grams: what is paid or saved, in dollars",
}
NATURAL_SEED_NOTE = (
    "item i of family f for seed s draws from random.Random seeded by the first 8 bytes of "
    'SHA-256("math|natural|<f>|<s>|<i>"); families are dealt round-robin in NATURAL_FAMILIES order; a repeated '
    "problem (same content or wording) is redrawn from the same stream"
)

_MAX_DRAWS = 2000

_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def number_words(n: int) -> str:
    """A whole number from 0 to 999 in English words.

    >>> number_words(7), number_words(42), number_words(300), number_words(115)
    ('seven', 'forty-two', 'three hundred', 'one hundred and fifteen')
    """
    if not 0 <= n <= 999:
        raise ValueError(f"number_words covers 0-999, not {n}")
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _ONES[n % 10])
    rest = n % 100
    return f"{_ONES[n // 100]} hundred" + ("" if rest == 0 else f" and {number_words(rest)}")


def _say(rng: random.Random, n: int, p: float = 0.4) -> str:
    """``n`` in words with probability ``p`` (small numbers only), else in digits."""
    return number_words(n) if n <= 20 and rng.random() < p else f"{n:,}"


def _dollars(x: Fraction) -> str:
    """An amount of money as a person writes it: ``$12``, ``$12.50``, ``$1,234.05``."""
    cents = x * 100
    if cents.denominator != 1:
        raise ValueError(f"{x} is not a whole number of cents")
    whole, part = divmod(int(cents), 100)
    return f"${whole:,}" + (f".{part:02d}" if part else "")


def _dec(x: Fraction) -> str:
    """A terminating decimal as it appears in a question: ``4.5``, ``2``, ``1,250``."""
    text = fmt(x)
    if "/" in text:
        raise ValueError(f"{x} does not terminate")
    whole, dot, frac = text.partition(".")
    return f"{int(whole):,}{dot}{frac}"


def _terminates(x: Fraction, places: int = 3) -> bool:
    """Whether ``x`` is a decimal with at most ``places`` places."""
    return (x * 10**places).denominator == 1


@dataclass(frozen=True)
class _Item:
    structure: str
    template: int
    question: str
    answer: Fraction
    steps: tuple[str, ...]
    key: tuple[Any, ...]


# Phrasings per structure; ``{aside}`` is a distractor sentence (or nothing), placed where a person might.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "recipe_mass": (
        "I'm making {dish} for {t} people this weekend, but my recipe only serves {s}. It needs {g} grams of "
        "{ing}. {aside}How many kilograms of {ing} should I buy?",
        "How many kilograms of {ing} do I need? My {dish} recipe feeds {s} and uses {g} g of {ing}, and I'm "
        "feeding {t}. {aside}",
        "{name} is scaling up a {dish} recipe for a party of {t}. The original serves {s} and calls for {g} g "
        "of {ing}. {aside}How many kilograms of {ing} does {name} need?",
    ),
    "recipe_volume": (
        "My {dish} recipe uses {g} ml of {ing} and makes enough for {s}. {aside}We're expecting {t} guests. "
        "How many litres of {ing} will I need?",
        "Quick kitchen question: how many litres of {ing} for {t} servings of {dish}, if {g} ml is enough for "
        "{s} servings? {aside}",
        "{name} found a {dish} recipe for {s} that takes {g} millilitres of {ing}. {aside}{name} wants to make "
        "it for {t}. How much {ing} is that in litres?",
    ),
    "recipe_cookies": (
        "My cookie recipe makes {d} dozen and uses {b} g of butter. {aside}For the bake sale I need {c} cookies. "
        "How many grams of butter will that take?",
        "How many grams of butter for {c} cookies? The recipe gives {d} dozen cookies from {b} grams. {aside}",
        "{name} wants to bake exactly {c} biscuits. {aside}The family recipe uses {b} g of butter for {d} "
        "dozen. How much butter, in grams, does {name} need?",
    ),
    "work_two": (
        "{a_name} can {job} alone in {ta}, and {b_name} can do it alone in {tb}. {aside}If they work on it "
        "together, how many minutes will it take?",
        "How long, in minutes, will it take {a_name} and {b_name} to {job} together? On their own, {a_name} "
        "needs {ta} and {b_name} needs {tb}. {aside}",
        "We have to {job} before the weekend. {aside}I'd take {ta} on my own and my partner would take {tb}. "
        "Working side by side, how many minutes should it take us?",
    ),
    "work_leak": (
        "The tap fills our {vessel} in {ta}, but the plug leaks and a full {vessel} drains in {tb}. {aside}With "
        "the tap on and the leak going, how many minutes until the empty {vessel} is full?",
        "How many minutes does it take to fill an empty {vessel} when the tap fills it in {ta} but a leak would "
        "empty a full one in {tb}? {aside}",
        "{aside}A hose fills the {vessel} in {ta}. A crack lets a full {vessel} drain away in {tb}. Starting from "
        "empty with both happening at once, how long does filling take, in minutes?",
    ),
    "work_three": (
        "Three volunteers are {job_ing}. Alone, {a_name} would take {ta}, {b_name} {tb} and {c_name} {tc}. "
        "{aside}How many minutes will it take if all three work together?",
        "If {a_name}, {b_name} and {c_name} {job} together, how many minutes will it take? Alone they'd need "
        "{ta}, {tb} and {tc} respectively. {aside}",
    ),
    "bill_tip": (
        "{group} went out for dinner. We had {dishes}. {aside}We want to add {p}% for the tip and split "
        "everything evenly. How much does each person pay, in dollars?",
        "How much should each of us pay? {group} shared {dishes}, and we're leaving {p}% on top as a tip. {aside}",
        "Dinner for {n_people}: {dishes}. {aside}With {p} percent added as a tip, split equally, what is each person's "
        "share in dollars?",
    ),
    "bill_tax_tip": (
        "{group} had lunch: {dishes}. {aside}Sales tax is {tax}% and we tip {p}% of the pre-tax amount. If we "
        "split the total evenly, what does each person pay in dollars?",
        "What does each person owe? The food for {n_people} was {dishes}; add {tax}% tax, and a tip of {p}% "
        "worked out on the bill before tax. {aside}We're splitting it evenly.",
    ),
    "interest_earned": (
        "I put {P} into a savings account that pays {r}% a year in simple interest. {aside}How much interest "
        "will I have earned after {span}?",
        "How much interest, in dollars, does {P} earn in {span} at a simple interest rate of {r}% per year? "
        "{aside}",
        "{name} saved {P} from a summer job and left it in the bank for {span}. {aside}The bank pays simple "
        "interest of {r}% per year. How many dollars of interest did it earn?",
    ),
    "interest_balance": (
        "{name} deposits {P} at {r}% per year simple interest and doesn't touch it for {span}. {aside}What is "
        "the balance then, in dollars?",
        "What will my account hold after {span} if I deposit {P} today at {r}% simple interest a year? {aside}",
    ),
    "loan_instalment": (
        "I'm borrowing {P} from my uncle for a used car. {aside}He charges simple interest of {r}% a year and "
        "I'll repay it all in equal monthly instalments over {span}. How much is each instalment, in dollars?",
        "What's the monthly payment on a {P} loan at {r}% simple interest per year, paid off in equal "
        "instalments over {span}? {aside}",
    ),
    "overnight": (
        "My {trip} leaves at {start} and arrives at {end} the next morning, same time zone. {aside}How many "
        "minutes is the journey?",
        "How many minutes long is a {trip} that departs at {start} and gets in at {end} the following day? "
        "{aside}",
        "{name} set off at {start} and arrived at {end} the next day. {aside}How long was the {trip}, in "
        "minutes?",
    ),
    "days_between": (
        "{aside}In {year}, how many days after {d1} is {d2}?",
        "I booked a hotel from {d1}, {year} and check out on {d2}, {year}. {aside}How many nights is that?",
        "How many days long is a festival that runs from {d1} to {d2} {year}, counting both the first and the "
        "last day? {aside}",
    ),
    "shift_hours": (
        "I work from {start} to {end} with a {brk}-minute unpaid lunch, {days} days a week. {aside}How many "
        "hours am I paid for each week?",
        "How many paid hours a week does {name} work? {name}'s shift is {start} until {end}, {days} days a "
        "week, minus a {brk}-minute unpaid break each day. {aside}",
    ),
    "pace": (
        "I run at a steady {pace} per kilometre. {aside}How many minutes will the {d} km race take me?",
        "At {pace} per km, how many minutes does {name} need for {d} kilometres? {aside}",
        "{aside}{name} is training for a {d} km run at an even pace of {pace} per kilometre. How long will it "
        "take, in minutes?",
    ),
    "ms_over_minutes": (
        "A {mover} keeps up {v} metres per second. {aside}How many kilometres does it cover in {t} minutes?",
        "How many km does a {mover} going {v} m/s travel in {t} minutes? {aside}",
    ),
    "walk_minutes": (
        "The {place} is {m} metres from our house. {aside}If I {move} at {k} km/h, how many minutes will it "
        "take?",
        "How many minutes does it take to {move} {m} m at {k} kilometres per hour? {aside}",
    ),
    "kmh_to_ms": (
        "A {vehicle} is doing {k} km/h on the motorway. {aside}How many metres does it travel each second?",
        "{aside}What is {k} kilometres per hour in metres per second?",
    ),
    "strides": (
        "My stride is about {cm} cm. {aside}How many steps will I take walking {km} km?",
        "How many steps is {km} kilometres for someone whose stride is {cm} centimetres? {aside}",
    ),
    "two_kinds": (
        "{story} {aside}How many {ask} {verb}?",
        "How many {ask}? {story} {aside}",
        "{aside}{story} Can you work out how many {ask} {verb}?",
        "I'm stuck on this one. {story} {aside}How many of them are {ask}?",
    ),
    "age_future_ratio": (
        "{a_name} is {k} as old as {b_name}. In {n} years, {a_name} will be {j} as old as {b_name}. "
        "{aside}How old is {ask} now?",
        "How old is {ask} today? Right now {a_name} is {k} {b_name}'s age, and {n} years from now "
        "{a_name} will be only {j} as old. {aside}",
    ),
    "age_past_ratio": (
        "{M} years ago, {a_name} was {k} as old as {b_name}. Now {a_name} is {j} as old. {aside}"
        "How old is {ask} now?",
        "{aside}How old is {ask}, if {a_name} is now {j} as old as {b_name} but was {k} as old "
        "{m} years ago?",
    ),
    "age_sum_ratio": (
        "{a_name} and {b_name} are {s} years old between them. In {n} years, {a_name} will be {j} as old "
        "as {b_name}. {aside}How old is {ask} now?",
        "How old is {ask}? The ages of {a_name} and {b_name} add up to {s}, and in {n} years {a_name} will be "
        "{j} as old as {b_name}. {aside}",
    ),
    "floor_boxes": (
        "Our {room} is {L} m by {W} m. {aside}The flooring comes in boxes that cover {c} square metres each, "
        "and the shop only sells whole boxes.{extra} How many boxes do I need?",
        "How many boxes of laminate should I buy for a {L} m × {W} m {room}? Each box covers {c} m² and I "
        "can't buy part of a box.{extra} {aside}",
    ),
    "wall_tiles": (
        "I'm tiling a wall that is {Wm} m wide and {Hm} m high with square tiles {t} cm on each side. {aside}"
        "How many tiles will cover it exactly?",
        "How many {t} cm square tiles does it take to cover a {Wm} m by {Hm} m splashback wall? {aside}",
    ),
    "fence_cost": (
        "Our garden is a {L} m by {W} m rectangle. We want to fence all the way round except for a {g} m "
        "gate, and fencing costs {price} per metre. {aside}How much will the fencing cost, in dollars?",
        "What does it cost, in dollars, to fence a {L} m × {W} m garden at {price} a metre, leaving a gap "
        "of {g} m for the gate? {aside}",
    ),
    "paint_tins": (
        "I'm painting the four walls of a {L} m by {W} m room; the walls are {h} m high. {aside}It needs two "
        "coats, a litre covers {c} square metres, and paint comes in {tin}-litre tins. How many tins should I "
        "buy? (Ignore the door and window.)",
        "How many {tin} L tins of paint for two coats on the walls of a {L} m × {W} m room with {h} m "
        "ceilings, if one litre covers {c} m²? Don't subtract the door or window. {aside}",
    ),
    "three_for_two": (
        "{goods} are {p} each, or 3 for the price of 2. {aside}I need {q}. How much will I pay, in dollars?",
        "How much do {q} {goods_l} cost when they are {p} each but any 3 go for the price of 2? {aside}",
    ),
    "half_price_second": (
        "The shop has a deal on {goods_l}: {p} each, and every second one is half price. {aside}How many "
        "dollars do I pay for {q}?",
        "{aside}With {goods_l} at {p} each and every second one half price, what do {q} of them cost, in "
        "dollars?",
    ),
    "multipack": (
        "{goods} cost {p} each, or {P} for a pack of {k}. {aside}How much do I save, in dollars, buying {N} "
        "in packs instead of singly?",
        "How much cheaper is it to buy {N} {goods_l} in packs of {k} at {P} a pack, rather than one at a time "
        "at {p} each? {aside}",
    ),
    "per_kg": (
        "{produce} are {x} per kilogram. {aside}{name} buys {g} grams. How many dollars does that cost?",
        "What do {g} g of {produce_l} cost at {x} a kilo? {aside}",
    ),
}

_CLEAN_SPACES = re.compile(r"[ \t]+")
# irrelevant sentences that fit any story; a guessed number is the distractor people actually add
_GENERIC_ASIDES = (
    "A friend guessed {r2}, but I'm not convinced.",
    "I need this for a worksheet due in {r1} days.",
)


def _pose(
    rng: random.Random, structure: str, fields: dict[str, Any], asides: tuple[str, ...]
) -> tuple[int, str]:
    """A phrasing of ``structure`` with ``fields``, and an irrelevant sentence from ``asides`` (most of the
    time: one item in four has none)."""
    t = rng.randrange(len(TEMPLATES[structure]))
    aside = rng.choice((*asides, *_GENERIC_ASIDES)).format(
        **fields, r1=rng.randint(2, 9), r2=rng.randint(10, 95)
    )
    aside += " "
    if rng.random() < 0.25:
        aside = ""
    text = TEMPLATES[structure][t].format(**fields, aside=aside)
    return t, _CLEAN_SPACES.sub(" ", text).strip()


def _times(rng: random.Random, k: int) -> str:
    """A multiple as people say it: "twice", "three times", "4 times"."""
    return "twice" if k == 2 else f"{_say(rng, k, 0.6)} times"


def _names(rng: random.Random, k: int) -> list[str]:
    chosen: list[str] = []
    for _ in range(k):
        chosen.append(pick_name(rng, avoid=chosen))
    return chosen


# ------------------------------------------------------------------------------------------- recipe_scaling

_SOLIDS = (
    ("banana bread", "flour"), ("chili", "minced beef"), ("risotto", "arborio rice"), ("apple crumble", "apples"),
    ("potato salad", "potatoes"), ("pasta bake", "pasta"), ("curry", "chicken thighs"), ("shortbread", "butter"),
    ("dal", "red lentils"), ("fruit cake", "raisins"),
)  # fmt: skip
_LIQUIDS = (
    ("pumpkin soup", "vegetable stock"), ("pancakes", "milk"), ("lemonade", "water"), ("custard", "cream"),
    ("fruit punch", "orange juice"), ("porridge", "oat milk"), ("hot chocolate", "milk"), ("gravy", "beef stock"),
)  # fmt: skip
_RECIPE_ASIDES = (
    "It also takes {r1} eggs and a pinch of salt.",
    "The oven has to be at 180 degrees for {r2} minutes.",
    "There's already a {r1} kg bag of sugar in the cupboard.",
    "It usually takes about {r2} minutes to make.",
    "The recipe card is from {name}'s grandmother, who made it every Sunday.",
)


def _recipe_scaling(rng: random.Random) -> _Item:
    structure = rng.choice(("recipe_mass", "recipe_volume", "recipe_cookies"))
    name = pick_name(rng)
    if structure == "recipe_cookies":
        while True:
            d, b, c = rng.randint(1, 3), 10 * rng.randint(10, 30), rng.randint(10, 120)
            answer = Fraction(b * c, 12 * d)
            if c != 12 * d and _terminates(answer, 2):
                break
        fields = {"d": _say(rng, d, 0.8), "b": b, "c": c, "name": name}
        steps = (
            f"{d} dozen is {d} × 12 = {12 * d} cookies.",
            f"Butter per cookie: {b} ÷ {12 * d} = {fmt(Fraction(b, 12 * d))} g.",
            f"For {c} cookies: {fmt(Fraction(b, 12 * d))} × {c} = {fmt(answer)} g.",
        )
        t, question = _pose(rng, structure, fields, _RECIPE_ASIDES)
        return _Item(structure, t, question, answer, steps, (structure, d, b, c))
    dish, ing = rng.choice(_SOLIDS if structure == "recipe_mass" else _LIQUIDS)
    unit, big = ("g", "kg") if structure == "recipe_mass" else ("ml", "litres")
    while True:
        s, t_people, g = rng.choice((2, 3, 4, 5, 6, 8)), rng.randint(6, 40), 25 * rng.randint(4, 36)
        scaled = Fraction(g * t_people, s)
        answer = scaled / 1000
        if t_people != s and _terminates(answer, 3):
            break
    fields = {"dish": dish, "ing": ing, "s": _say(rng, s), "t": _say(rng, t_people), "g": g, "name": name}
    steps = (
        f"Per serving: {g} ÷ {s} = {fmt(Fraction(g, s))} {unit}.",
        f"For {t_people}: {fmt(Fraction(g, s))} × {t_people} = {fmt(scaled)} {unit}.",
        f"In {big}: {fmt(scaled)} ÷ 1000 = {fmt(answer)}.",
    )
    t, question = _pose(rng, structure, fields, _RECIPE_ASIDES)
    return _Item(structure, t, question, answer, steps, (structure, s, t_people, g))


# -------------------------------------------------------------------------------------------- combined_work

_JOBS = (
    ("paint the garden fence", "painting the garden fence"), ("mow the big lawn", "mowing the big lawn"),
    ("fold all the flyers", "folding all the flyers"), ("weed the allotment", "weeding the allotment"),
    ("clean the whole house", "cleaning the whole house"), ("wash every car in the drive", "washing the cars"),
    ("stack the firewood", "stacking the firewood"), ("sort the donated books", "sorting the donated books"),
)  # fmt: skip
_VESSELS = ("bathtub", "paddling pool", "water trough", "fish tank", "rain barrel")
_WORK_ASIDES = (
    "The job pays {r2} dollars.",
    "The forecast says it will be {r2} degrees.",
    "We're starting at {r1} o'clock.",
    "The hardware shop is {r2} minutes away.",
)
_LEAK_ASIDES = (
    "It holds about {r2}0 litres.",
    "The water comes out at about {r2} degrees.",
    "We bought it {r1} years ago.",
)


def _duration(rng: random.Random, minutes: int) -> str:
    """A span as a person says it: "2 hours", "90 minutes", "an hour and a half", "1 hour 15 minutes"."""
    h, m = divmod(minutes, 60)
    if m == 0:
        return (
            ("an hour" if h == 1 else f"{_say(rng, h)} hours") if rng.random() < 0.8 else f"{minutes} minutes"
        )
    if m == 30 and rng.random() < 0.5:
        return (
            "half an hour"
            if h == 0
            else ("an hour and a half" if h == 1 else f"{_say(rng, h)} and a half hours")
        )
    if h and rng.random() < 0.5:
        return f"{h} hour{'s' if h > 1 else ''} {m} minutes"
    return f"{minutes} minutes"


@functools.cache
def _work_times(structure: str) -> tuple[tuple[int, ...], ...]:
    """Every set of times (minutes, 5-minute steps) whose job takes a whole number of minutes, at most a day."""
    if structure == "work_three":
        candidates = itertools.combinations(range(20, 601, 10), 3)
    else:
        candidates = itertools.combinations(range(15, 601, 5), 2)  # increasing: the leak is the slower
    sign = -1 if structure == "work_leak" else 1
    found = []
    for times in candidates:
        rate = Fraction(1, times[0]) + sum((sign * Fraction(1, x) for x in times[1:]), Fraction(0))
        if rate > 0 and (1 / rate).denominator == 1 and 1 / rate <= 24 * 60:
            found.append(times)
    return tuple(found)


def _combined_work(rng: random.Random) -> _Item:
    structure = rng.choice(("work_two", "work_two", "work_leak", "work_three"))
    a_name, b_name, c_name = _names(rng, 3)
    job, job_ing = rng.choice(_JOBS)
    times = list(rng.choice(_work_times(structure)))
    if structure != "work_leak":
        rng.shuffle(times)
    ta, tb, tc = (*times, 0)[:3]
    signed = [Fraction(1, ta), *((-1 if structure == "work_leak" else 1) * Fraction(1, x) for x in times[1:])]
    rate = sum(signed, Fraction(0))
    answer = 1 / rate
    fields = {
        "a_name": a_name, "b_name": b_name, "c_name": c_name, "job": job, "job_ing": job_ing,
        "vessel": rng.choice(_VESSELS), "ta": _duration(rng, ta), "tb": _duration(rng, tb),
        "tc": _duration(rng, tc) if tc else "",
    }  # fmt: skip
    steps = [f"In minutes the times are {', '.join(str(x) for x in times)}."]
    if structure == "work_leak":
        steps.append(
            f"Each minute: 1/{ta} filled and 1/{tb} drained: 1/{ta} - 1/{tb} = {fmt(rate)} of the job."
        )
    else:
        steps.append(f"Each minute together: {' + '.join(f'1/{x}' for x in times)} = {fmt(rate)} of the job.")
    steps.append(f"Time: 1 ÷ {fmt(rate)} = {fmt(answer)} minutes.")
    t, question = _pose(rng, structure, fields, _LEAK_ASIDES if structure == "work_leak" else _WORK_ASIDES)
    key = (structure, *(times if structure == "work_leak" else sorted(times)))
    return _Item(structure, t, question, answer, tuple(steps), key)


# ------------------------------------------------------------------------------------------------ bill_split

_DISHES = (
    "pizza", "lasagne", "burger", "steak", "pad thai", "curry", "salad", "fish and chips", "risotto",
    "tacos", "ramen", "paella",
)  # fmt: skip
_BILL_ASIDES = (
    "The restaurant is {r2} minutes from my flat.",
    "Two of us had dessert, but we're sharing everything anyway.",
    "We got there at {r1} pm and the place was packed.",
    "Parking was free after {r1}.",
    "{name} had just turned {r2} that week.",
)


def _bill_split(rng: random.Random) -> _Item:
    structure = rng.choice(("bill_tip", "bill_tax_tip"))
    name = pick_name(rng)
    while True:
        n = rng.randint(2, 8)
        prices = [Fraction(rng.randint(24, 140) * 25, 100) for _ in range(rng.randint(2, 4))]
        subtotal = sum(prices, Fraction(0))
        p = rng.choice((10, 15, 18, 20, 25))
        tax = rng.choice((5, 6, 8, 10)) if structure == "bill_tax_tip" else 0
        total = subtotal * (100 + p + tax) / 100
        answer = total / n
        if (total * 100).denominator == 1 and (answer * 100).denominator == 1:
            break
    dishes = rng.sample(_DISHES, len(prices))
    listed = [f"{d} for {_dollars(x)}" for d, x in zip(dishes, prices, strict=True)]
    fields = {
        "name": name, "p": p, "tax": tax,
        "dishes": ", ".join(listed[:-1]) + " and " + listed[-1],
        "group": rng.choice((f"The {number_words(n)} of us", f"{number_words(n).capitalize()} of us",
                             f"A group of {n} friends")),
        "n_people": _say(rng, n, 0.5),
    }  # fmt: skip
    steps = [f"Food: {' + '.join(fmt(x) for x in prices)} = {fmt(subtotal)} dollars."]
    if tax:
        steps.append(f"Tax and tip together are {tax}% + {p}% = {tax + p}% of {fmt(subtotal)}.")
    steps += [
        f"Total: {fmt(subtotal)} × {100 + p + tax} ÷ 100 = {fmt(total)} dollars.",
        f"Each of {n}: {fmt(total)} ÷ {n} = {fmt(answer)} dollars.",
    ]
    t, question = _pose(rng, structure, fields, _BILL_ASIDES)
    return _Item(structure, t, question, answer, tuple(steps), (structure, n, p, tax, *sorted(prices)))


# ------------------------------------------------------------------------------------------ monthly_interest

_INTEREST_ASIDES = (
    "My brother says his bank only pays {r1}%, but that's a different account.",
    "The bank branch is open {r1} days a week.",
    "I was {r1} when I opened my first account.",
    "The account has a {r1}-digit PIN.",
)


def _span(rng: random.Random, months: int) -> str:
    if months % 12 == 0 and rng.random() < 0.7:
        return "a year" if months == 12 else f"{_say(rng, months // 12, 0.7)} years"
    if months == 18 and rng.random() < 0.7:
        return "a year and a half"
    if months % 12 == 6 and months > 12 and rng.random() < 0.5:
        return f"{number_words(months // 12)} and a half years"
    return f"{_say(rng, months, 0.5)} months"


def _monthly_interest(rng: random.Random) -> _Item:
    structure = rng.choice(("interest_earned", "interest_balance", "loan_instalment"))
    name = pick_name(rng)
    while True:
        P = 50 * rng.randint(4, 200) if structure != "loan_instalment" else 100 * rng.randint(10, 120)
        r = Fraction(rng.choice((3, 4, 5, 6, 7, 8, 9, 10, 12)), 2)
        months = rng.choice((3, 4, 6, 8, 9, 10, 15, 18, 20, 24, 30, 36))
        interest = P * r * months / 1200
        answer = {"interest_earned": interest, "interest_balance": P + interest}.get(
            structure, (P + interest) / months
        )
        if (interest * 100).denominator == 1 and (answer * 100).denominator == 1:
            break
    fields = {"P": _dollars(Fraction(P)), "r": fmt(r), "span": _span(rng, months), "name": name}
    steps = [
        f"{months} months is {months} ÷ 12 = {fmt(Fraction(months, 12))} years.",
        f"Interest: {P} × {fmt(r)} ÷ 100 × {fmt(Fraction(months, 12))} = {fmt(interest)} dollars.",
    ]
    if structure == "interest_balance":
        steps.append(f"Balance: {P} + {fmt(interest)} = {fmt(answer)} dollars.")
    elif structure == "loan_instalment":
        steps += [
            f"Owed in all: {P} + {fmt(interest)} = {fmt(P + interest)} dollars.",
            f"Each of {months} instalments: {fmt(P + interest)} ÷ {months} = {fmt(answer)} dollars.",
        ]
    t, question = _pose(rng, structure, fields, _INTEREST_ASIDES)
    return _Item(structure, t, question, answer, tuple(steps), (structure, P, r, months))


# -------------------------------------------------------------------------------------------- elapsed_time

_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TRIPS = ("night bus", "overnight train", "red-eye flight", "ferry crossing", "coach trip")
_TRIP_ASIDES = (
    "The ticket cost {r2} dollars.",
    "I'll have {r1} bags with me.",
    "It's about {r2}0 km in all.",
)
_DATE_ASIDES = (
    "The first of those days is a {weekday}.",
    "We'll be {r1} people.",
    "It costs {r2} dollars a day.",
)
_SHIFT_ASIDES = (
    "My commute is {r2} minutes each way.",
    "I've been in this job for {r1} years.",
    "The office has {r2} desks.",
)


def _clock(rng: random.Random, minutes: int, *, words: bool = True) -> str:
    """A time of day (minutes after midnight) on the 12-hour clock, sometimes (with ``words``) in words."""
    h24, m = divmod(minutes, 60)
    h = h24 % 12 or 12
    half = "pm" if h24 >= 12 else "am"
    if words and m in (15, 30, 45) and rng.random() < 0.4:
        when = (
            "at night"
            if h24 >= 21
            else "in the evening"
            if h24 >= 18
            else "in the afternoon"
            if h24 >= 12
            else "in the morning"
        )
        nxt = h % 12 + 1
        word = {15: f"quarter past {number_words(h)}", 30: f"half past {number_words(h)}",
                45: f"quarter to {number_words(nxt)}"}[m]  # fmt: skip
        return f"{word} {when}"
    return f"{h}:{m:02d} {half}"


def _date_words(rng: random.Random, day: datetime.date) -> str:
    month = _MONTHS[day.month - 1]
    return f"{month} {day.day}" if rng.random() < 0.5 else f"{day.day} {month}"


def _elapsed_time(rng: random.Random) -> _Item:
    structure = rng.choice(("overnight", "days_between", "shift_hours"))
    name = pick_name(rng)
    if structure == "overnight":
        start, end = 5 * rng.randint(18 * 12, 24 * 12 - 1), 5 * rng.randint(12, 9 * 12)
        answer = Fraction(24 * 60 - start + end)
        # the arrival in digits with "am": "quarter past six" alone would not say which six
        fields = {"trip": rng.choice(_TRIPS), "start": _clock(rng, start), "end": _clock(rng, end, words=False),
                  "name": name}  # fmt: skip
        steps = (
            f"From the start to midnight: {24 * 60} - {start} = {24 * 60 - start} minutes.",
            f"From midnight to the arrival: {end} minutes.",
            f"Total: {24 * 60 - start} + {end} = {fmt(answer)} minutes.",
        )
        t, question = _pose(rng, structure, fields, _TRIP_ASIDES)
        return _Item(structure, t, question, answer, steps, (structure, start, end))
    if structure == "days_between":
        year = rng.choice((2023, 2024, 2025, 2026, 2027, 2028))
        first = datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randint(0, 300))
        last = first + datetime.timedelta(days=rng.randint(5, 64))
        if last.year != year:
            last = datetime.date(year, 12, 31)
        t, question = _pose(
            rng, structure,
            {"d1": _date_words(rng, first), "d2": _date_words(rng, last), "year": year,
             "weekday": _WEEKDAYS[first.weekday()]},
            _DATE_ASIDES,
        )  # fmt: skip
        gap = (last - first).days
        inclusive = t == 2
        answer = Fraction(gap + inclusive)
        steps = [f"From {first.isoformat()} to {last.isoformat()} is {gap} days."]
        if inclusive:
            steps.append(f"Counting both ends: {gap} + 1 = {gap + 1} days.")
        return _Item(
            structure, t, question, answer, tuple(steps), (structure, first.isoformat(), last.isoformat(), t)
        )
    while True:
        start, end = 15 * rng.randint(26, 40), 15 * rng.randint(60, 76)
        brk, days = rng.choice((30, 45, 60)), rng.randint(3, 6)
        daily = end - start - brk
        answer = Fraction(daily * days, 60)
        if _terminates(answer, 2):
            break
    fields = {"start": _clock(rng, start), "end": _clock(rng, end), "brk": brk, "days": _say(rng, days, 0.6),
              "name": name, "weekday": rng.choice(_WEEKDAYS)}  # fmt: skip
    steps = (
        f"Each day: {end} - {start} - {brk} = {daily} minutes.",
        f"Each week: {daily} × {days} = {daily * days} minutes.",
        f"In hours: {daily * days} ÷ 60 = {fmt(answer)}.",
    )
    t, question = _pose(rng, structure, fields, _SHIFT_ASIDES)
    return _Item(structure, t, question, answer, steps, (structure, start, end, brk, days))


# ------------------------------------------------------------------------------------- pace_and_speed_units

_MOVERS = (
    ("cyclist", 5, 12),
    ("train", 20, 60),
    ("racing pigeon", 15, 25),
    ("drone", 8, 20),
    ("speedboat", 10, 25),
)
_MOVES = (("walk", (3, 4, 5, 6)), ("cycle", (12, 15, 16, 18, 20)), ("jog", (8, 9, 10, 12)))
_PLACES = ("station", "library", "school", "swimming pool", "bakery", "park gate")
_SPEED_ASIDES = (
    "It's {r2} degrees out today.",
    "I looked this up {r1} times and keep getting confused.",
    "The route has {r1} traffic lights.",
)


def _pace_and_speed_units(rng: random.Random) -> _Item:
    structure = rng.choice(("pace", "ms_over_minutes", "walk_minutes", "kmh_to_ms", "strides"))
    name = pick_name(rng)
    if structure == "pace":
        while True:
            m, s, d = (
                rng.randint(4, 7),
                rng.choice((0, 10, 15, 20, 30, 40, 45, 50)),
                rng.choice((3, 5, 8, 10, 12, 15, 21)),
            )
            answer = Fraction((60 * m + s) * d, 60)
            if _terminates(answer, 2):
                break
        pace = f"{m} minutes" + (f" {s} seconds" if s else "") if rng.random() < 0.5 else f"{m}:{s:02d}"
        fields: dict[str, Any] = {"pace": pace, "d": _say(rng, d), "name": name}
        steps: tuple[str, ...] = (
            f"The pace is {m} × 60 + {s} = {60 * m + s} seconds per km.",
            f"For {d} km: {60 * m + s} × {d} = {(60 * m + s) * d} seconds.",
            f"In minutes: {(60 * m + s) * d} ÷ 60 = {fmt(answer)}.",
        )
        key: tuple[Any, ...] = (structure, m, s, d)
    elif structure == "ms_over_minutes":
        mover, lo, hi = rng.choice(_MOVERS)
        v, tm = rng.randint(lo, hi), rng.randint(2, 90)
        answer = Fraction(v * 60 * tm, 1000)
        fields = {"mover": mover, "v": v, "t": _say(rng, tm), "name": name}
        steps = (
            f"{tm} minutes is {tm} × 60 = {60 * tm} seconds.",
            f"Distance: {v} × {60 * tm} = {v * 60 * tm} metres.",
            f"In km: {v * 60 * tm} ÷ 1000 = {fmt(answer)}.",
        )
        key = (structure, v, tm)
    elif structure == "walk_minutes":
        move, speeds = rng.choice(_MOVES)
        while True:
            k, metres = rng.choice(speeds), 50 * rng.randint(8, 120)
            answer = Fraction(metres * 60, 1000 * k)
            if _terminates(answer, 1):
                break
        fields = {"move": move, "k": k, "m": f"{metres:,}", "place": rng.choice(_PLACES), "name": name}
        steps = (
            f"{metres} m is {metres} ÷ 1000 = {fmt(Fraction(metres, 1000))} km.",
            f"Time: {fmt(Fraction(metres, 1000))} ÷ {k} = {fmt(Fraction(metres, 1000 * k))} hours.",
            f"In minutes: {fmt(Fraction(metres, 1000 * k))} × 60 = {fmt(answer)}.",
        )
        key = (structure, k, metres)
    elif structure == "kmh_to_ms":
        k = 18 * rng.randint(2, 8) if rng.random() < 0.7 else 9 * rng.randint(3, 15)
        answer = Fraction(k * 1000, 3600)
        fields = {"vehicle": rng.choice(("car", "coach", "lorry", "motorbike")), "k": k, "name": name}
        steps = (
            f"{k} km/h is {k} × 1000 = {k * 1000} metres per hour.",
            f"Per second: {k * 1000} ÷ 3600 = {fmt(answer)} metres.",
        )
        key = (structure, k)
    else:
        while True:
            cm, km = rng.randint(55, 90), Fraction(rng.choice((2, 3, 4, 5, 6, 8, 10, 12, 15)), 2)
            answer = km * 100_000 / cm
            if answer.denominator == 1:
                break
        fields = {"cm": cm, "km": _dec(km), "name": name}
        steps = (
            f"{fmt(km)} km is {fmt(km)} × 100000 = {fmt(km * 100_000)} cm.",
            f"Steps: {fmt(km * 100_000)} ÷ {cm} = {fmt(answer)}.",
        )
        key = (structure, cm, km)
    t, question = _pose(rng, structure, fields, _SPEED_ASIDES)
    return _Item(structure, t, question, answer, steps, key)


# ------------------------------------------------------------------------------------------ two_kinds_count

# (story, cheap kind, dear kind, cheap value, dear value, how the total is stated)
_KINDS = (
    ("coins", "5-cent coins", "20-cent coins", 5, 20, "cents"),
    ("coins", "10-cent coins", "50-cent coins", 10, 50, "cents"),
    ("coins", "20-cent coins", "50-cent coins", 20, 50, "cents"),
    ("coins", "one-dollar coins", "two-dollar coins", 100, 200, "cents"),
    ("tickets", "child tickets", "adult tickets", 700, 1200, "cents"),
    ("tickets", "student tickets", "full-price tickets", 850, 1400, "cents"),
    ("animals", "chickens", "goats", 2, 4, "legs"),
    ("animals", "ducks", "sheep", 2, 4, "legs"),
    ("vehicles", "bicycles", "tricycles", 2, 3, "wheels"),
    ("vehicles", "motorbikes", "cars", 2, 4, "wheels"),
)
_TWO_KINDS_ASIDES = (
    "It took me {r2} minutes to count them.",
    "This was {r1} weeks ago.",
    "It rained for {r1} hours that day.",
)


def _two_kinds_count(rng: random.Random) -> _Item:
    kind, cheap, dear, a, b, unit = rng.choice(_KINDS)
    x, y = rng.randint(3, 40), rng.randint(3, 40)
    total, value = x + y, a * x + b * y
    ask_dear = rng.random() < 0.5
    name = pick_name(rng)
    money, price_a, price_b = (_dollars(Fraction(v, 100)) for v in (value, a, b))
    story = rng.choice(
        {
            "coins": (
                f"{name}'s piggy bank holds only {cheap} and {dear}: {total} coins worth {money} altogether.",
                f"There are {total} coins in the jar by the till, all {cheap} or {dear}, and they add up to {money}.",
            ),
            "tickets": (
                f"A school play sold {total} tickets and took {money}. {cheap.capitalize()} cost {price_a} and "
                f"{dear} cost {price_b}.",
                f"The school play sold {total} tickets, {cheap} at {price_a} each and {dear} at {price_b} each, "
                f"for {money} in all.",
            ),
            "animals": (
                f"On a farm there are only {cheap} and {dear}. I counted {total} heads and {value} legs.",
                f"A farmer keeps {cheap} and {dear}; together they have {total} heads and {value} legs.",
            ),
            "vehicles": (
                f"In the yard there are {cheap} and {dear}, {total} of them in all, with {value} wheels between "
                "them.",
                f"A shop has {total} {cheap} and {dear} on display, with {value} wheels altogether.",
            ),
        }[kind]
    )
    answer = Fraction(y if ask_dear else x)
    per = "cents" if unit == "cents" else unit
    steps = (
        f"If all {total} were {cheap}: {total} × {a} = {total * a} {per}.",
        f"The rest, {value} - {total * a} = {value - total * a}, comes from the {dear}, each adding {b} - {a} = {b - a}.",
        f"{dear.capitalize()}: {value - total * a} ÷ {b - a} = {y}.",
        *([] if ask_dear else [f"{cheap.capitalize()}: {total} - {y} = {x}."]),
    )
    verb = "were sold" if kind == "tickets" else "are there"
    fields = {"story": story, "ask": dear if ask_dear else cheap, "name": name, "verb": verb}
    t, question = _pose(rng, "two_kinds", fields, _TWO_KINDS_ASIDES)
    return _Item("two_kinds", t, question, answer, steps, ("two_kinds", cheap, x, y, ask_dear))


# ----------------------------------------------------------------------------------------- age_ratio_puzzle

_ELDERS = ("mum", "dad", "grandma", "grandpa", "aunt", "uncle", "big sister", "godmother")
_AGE_ASIDES = (
    "Their dog is {r1} years old.",
    "They live {r2} km from the coast.",
    "{b_name} started school at {r1}.",
    "They share a birthday month.",
)


def _age_ratio_puzzle(rng: random.Random) -> _Item:
    structure = rng.choice(("age_future_ratio", "age_past_ratio", "age_sum_ratio"))
    if rng.random() < 0.5:  # "Maya's grandpa" and "Maya"
        b_name = pick_name(rng)
        a_name = f"{b_name}'s {rng.choice(_ELDERS)}"
    else:
        a_name, b_name = _names(rng, 2)
    while True:
        if structure == "age_future_ratio":
            young, k = rng.randint(2, 20), rng.randint(3, 7)
            j = rng.randint(2, k - 1)
            n_num = young * (k - j)
            if n_num % (j - 1) == 0 and 0 < n_num // (j - 1) <= 40 and 18 <= k * young <= 85:
                n = n_num // (j - 1)
                old = k * young
                fields = {"k": _times(rng, k), "j": _times(rng, j), "n": _say(rng, n)}
                steps = (
                    f"Say {b_name} is b now, so {a_name} is {k}b.",
                    f"In {n} years: {k}b + {n} = {j}(b + {n}), so {k - j}b = {j * n} - {n} = {(j - 1) * n}.",
                    f"b = {(j - 1) * n} ÷ {k - j} = {young}; {a_name} is {k} × {young} = {old}.",
                )
                key: tuple[Any, ...] = (structure, young, k, j)
                break
        elif structure == "age_past_ratio":
            young, k = rng.randint(6, 30), rng.randint(3, 8)
            j = rng.randint(2, k - 1)
            m_num = young * (k - j)
            if m_num % (k - 1) == 0 and 0 < m_num // (k - 1) < young and 18 <= j * young <= 90:
                m = m_num // (k - 1)
                old = j * young
                said = _say(rng, m)
                fields = {"k": _times(rng, k), "j": _times(rng, j), "m": said, "M": said.capitalize()}
                steps = (
                    f"Say {b_name} is b now, so {a_name} is {j}b.",
                    f"{m} years ago: {j}b - {m} = {k}(b - {m}), so {k - j}b = {k * m} - {m} = {(k - 1) * m}.",
                    f"b = {(k - 1) * m} ÷ {k - j} = {young}; {a_name} is {j} × {young} = {old}.",
                )
                key = (structure, young, k, j)
                break
        else:
            young, j, n = rng.randint(3, 30), rng.randint(2, 4), rng.randint(2, 20)
            old = j * (young + n) - n
            if old <= 90:
                s = old + young
                fields = {"s": s, "j": _times(rng, j), "n": _say(rng, n)}
                steps = (
                    f"Say {b_name} is b now, so {a_name} is {s} - b.",
                    f"In {n} years: {s} - b + {n} = {j}(b + {n}), so {j + 1}b = {s + n} - {j * n} = {s + n - j * n}.",
                    f"b = {s + n - j * n} ÷ {j + 1} = {young}; {a_name} is {s} - {young} = {old}.",
                )
                key = (structure, young, j, n)
                break
    ask_old = rng.random() < 0.5
    fields |= {"a_name": a_name, "b_name": b_name, "ask": a_name if ask_old else b_name}
    t, question = _pose(rng, structure, fields, _AGE_ASIDES)
    answer = Fraction(old if ask_old else young)
    return _Item(structure, t, question, answer, steps, (*key, ask_old))


# ------------------------------------------------------------------------------------------- area_materials

_ROOMS = ("living room", "bedroom", "hallway", "kitchen", "study", "playroom")
_AREA_ASIDES = (
    "The skirting boards are {r1} years old.",
    "The house was built in 19{r2}.",
    "The shop is {r2} minutes' drive away.",
    "We have {r1} cats who will want to inspect everything.",
)


def _area_materials(rng: random.Random) -> _Item:
    structure = rng.choice(("floor_boxes", "wall_tiles", "fence_cost", "paint_tins"))
    if structure == "floor_boxes":
        L, W = Fraction(rng.randint(25, 80), 10), Fraction(rng.randint(20, 60), 10)
        c = Fraction(rng.choice((15, 16, 18, 20, 22, 24, 25)), 10)
        extra = rng.random() < 0.4
        need = L * W * (Fraction(11, 10) if extra else 1)
        answer = Fraction(math.ceil(need / c))
        fields: dict[str, Any] = {
            "room": rng.choice(_ROOMS), "L": _dec(L), "W": _dec(W), "c": _dec(c),
            "extra": " I want 10% extra for cutting waste." if extra else "",
        }  # fmt: skip
        steps: tuple[str, ...] = (
            f"Floor area: {fmt(L)} × {fmt(W)} = {fmt(L * W)} m².",
            *([f"With 10% extra: {fmt(L * W)} × 1.1 = {fmt(need)} m²."] if extra else []),
            f"Boxes: {fmt(need)} ÷ {fmt(c)} = {fmt(need / c)}, rounded up to {fmt(answer)}.",
        )
        key: tuple[Any, ...] = (structure, *sorted((L, W)), c, extra)
    elif structure == "wall_tiles":
        while True:
            t_cm = rng.choice((10, 15, 20, 25, 30))
            Wm, Hm = Fraction(t_cm * rng.randint(5, 24), 100), Fraction(t_cm * rng.randint(3, 12), 100)
            if _terminates(Wm, 2) and _terminates(Hm, 2) and Wm != Hm:
                break
        across, up = Wm * 100 / t_cm, Hm * 100 / t_cm
        answer = across * up
        fields = {"Wm": _dec(Wm), "Hm": _dec(Hm), "t": t_cm}
        steps = (
            f"Across: {fmt(Wm)} m = {fmt(Wm * 100)} cm, and {fmt(Wm * 100)} ÷ {t_cm} = {fmt(across)} tiles.",
            f"Up: {fmt(Hm)} m = {fmt(Hm * 100)} cm, and {fmt(Hm * 100)} ÷ {t_cm} = {fmt(up)} tiles.",
            f"Tiles: {fmt(across)} × {fmt(up)} = {fmt(answer)}.",
        )
        key = (structure, Wm, Hm, t_cm)
    elif structure == "fence_cost":
        L, W = rng.randint(6, 40), rng.randint(4, 30)
        g = Fraction(rng.choice((2, 3, 4, 5, 6)), 2)
        price = Fraction(rng.randint(30, 140) * 25, 100)
        length = 2 * (L + W) - g
        answer = length * price
        fields = {"L": L, "W": W, "g": _dec(g), "price": _dollars(price)}
        steps = (
            f"Perimeter: 2 × ({L} + {W}) = {2 * (L + W)} m.",
            f"Less the gate: {2 * (L + W)} - {fmt(g)} = {fmt(length)} m.",
            f"Cost: {fmt(length)} × {fmt(price)} = {fmt(answer)} dollars.",
        )
        key = (structure, *sorted((L, W)), g, price)
    else:
        L, W = Fraction(rng.randint(25, 70), 10), Fraction(rng.randint(20, 50), 10)
        h = Fraction(rng.choice((24, 25, 26, 27, 28, 30)), 10)
        c, tin = rng.choice((8, 10, 12, 14)), Fraction(rng.choice((5, 25, 50)), 10)
        walls = 2 * (L + W) * h
        litres = 2 * walls / c
        answer = Fraction(math.ceil(litres / tin))
        fields = {"L": _dec(L), "W": _dec(W), "h": _dec(h), "c": c, "tin": _dec(tin)}
        steps = (
            f"Wall area: 2 × ({fmt(L)} + {fmt(W)}) × {fmt(h)} = {fmt(walls)} m².",
            f"Two coats: 2 × {fmt(walls)} ÷ {c} = {fmt(litres)} litres.",
            f"Tins: {fmt(litres)} ÷ {fmt(tin)} = {fmt(litres / tin)}, rounded up to {fmt(answer)}.",
        )
        key = (structure, *sorted((L, W)), h, c, tin)
    t, question = _pose(rng, structure, fields, _AREA_ASIDES)
    return _Item(structure, t, question, answer, steps, key)


# ------------------------------------------------------------------------------------------ multibuy_offers

_SHOP_GOODS = ("Shampoo bottles", "Tins of tomatoes", "Notebooks", "Candles", "Jars of honey", "Tennis balls")
_PRODUCE = ("Tomatoes", "Cherries", "Green beans", "Grapes", "Mushrooms", "Apples")
_SHOP_ASIDES = (
    "The shop closes at {r1} pm.",
    "I have a {r2}-dollar note in my wallet.",
    "Last month they were {r1} dollars more.",
    "The queue had {r1} people in it.",
)


def _multibuy_offers(rng: random.Random) -> _Item:
    structure = rng.choice(("three_for_two", "half_price_second", "multipack", "per_kg"))
    goods = rng.choice(_SHOP_GOODS)
    name = pick_name(rng)
    fields: dict[str, Any] = {"goods": goods, "goods_l": goods.lower(), "name": name}
    if structure in ("three_for_two", "half_price_second"):
        p, q = Fraction(rng.randint(4, 60) * 25, 100), rng.randint(4, 14)
        fields |= {"p": _dollars(p), "q": _say(rng, q)}
        if structure == "three_for_two":
            free = q // 3
            answer = p * (q - free)
            steps: tuple[str, ...] = (
                f"Every 3 has one free: {q} ÷ 3 gives {free} free.",
                f"Paid for: {q} - {free} = {q - free}.",
                f"Cost: {q - free} × {fmt(p)} = {fmt(answer)} dollars.",
            )
        else:
            halves = q // 2
            answer = p * (q - halves) + p * halves / 2
            steps = (
                f"Full price: {q - halves}, half price: {halves}.",
                f"Cost: {q - halves} × {fmt(p)} + {halves} × {fmt(p / 2)} = {fmt(answer)} dollars.",
            )
        key: tuple[Any, ...] = (structure, p, q)
    elif structure == "multipack":
        while True:
            p, k = Fraction(rng.randint(3, 40) * 25, 100), rng.choice((4, 6, 8, 10, 12))
            P = Fraction(rng.randint(int(p * k * 12), int(p * k * 19)), 20)  # 60-95% of singles, in 5 cents
            packs = rng.randint(2, 6)
            if p * k > P and (P * 100).denominator == 1:
                break
        N = k * packs
        answer = N * p - packs * P
        fields |= {"p": _dollars(p), "k": k, "P": _dollars(P), "N": N}
        steps = (
            f"Singly: {N} × {fmt(p)} = {fmt(N * p)} dollars.",
            f"In packs: {N} ÷ {k} = {packs} packs, {packs} × {fmt(P)} = {fmt(packs * P)} dollars.",
            f"Saving: {fmt(N * p)} - {fmt(packs * P)} = {fmt(answer)} dollars.",
        )
        key = (structure, p, k, P, packs)
    else:
        while True:
            x, g = Fraction(rng.randint(6, 48) * 25, 100), 50 * rng.randint(3, 40)
            answer = x * g / 1000
            if (answer * 100).denominator == 1:
                break
        produce = rng.choice(_PRODUCE)
        fields |= {"produce": produce, "produce_l": produce.lower(), "x": _dollars(x), "g": f"{g:,}"}
        steps = (
            f"{g} g is {g} ÷ 1000 = {fmt(Fraction(g, 1000))} kg.",
            f"Cost: {fmt(Fraction(g, 1000))} × {fmt(x)} = {fmt(answer)} dollars.",
        )
        key = (structure, x, g)
    t, question = _pose(rng, structure, fields, _SHOP_ASIDES)
    return _Item(structure, t, question, answer, steps, key)


# ----------------------------------------------------------------------------------------------- assembly

_GENERATORS: dict[str, Callable[[random.Random], _Item]] = {
    "recipe_scaling": _recipe_scaling,
    "combined_work": _combined_work,
    "bill_split": _bill_split,
    "monthly_interest": _monthly_interest,
    "elapsed_time": _elapsed_time,
    "pace_and_speed_units": _pace_and_speed_units,
    "two_kinds_count": _two_kinds_count,
    "age_ratio_puzzle": _age_ratio_puzzle,
    "area_materials": _area_materials,
    "multibuy_offers": _multibuy_offers,
}
assert list(_GENERATORS) == list(NATURAL_FAMILIES)


def _rng(family: str, seed: int, index: int) -> random.Random:
    digest = hashlib.sha256(f"math|natural|{family}|{seed}|{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def natural_examples(n: int, *, seed: int = 0) -> list[Example]:
    r"""``n`` natural-phrasing items, dealt round-robin over :data:`NATURAL_FAMILIES`; ids count within each
    family (``math/natural/<family>/00000``).

    Raises:
        SrmzooError: ``n`` or ``seed`` is not a non-negative integer.

    >>> ex = natural_examples(3)[2]
    >>> ex.id, ex.solution.endswith(f"\\boxed{{{ex.answer}}}.")
    ('math/natural/bill_split/00000', True)
    """
    check_counts(n=n, seed=seed, example=200)
    families = list(NATURAL_FAMILIES)
    seen: set[Any] = set()
    out = []
    for i in range(n):
        family, index = families[i % len(families)], i // len(families)
        rng = _rng(family, seed, index)
        for _ in range(_MAX_DRAWS):
            item = _GENERATORS[family](rng)
            if item.key not in seen and _normalised(item.question) not in seen:
                break
        else:
            raise RuntimeError(f"no new {family} item in {_MAX_DRAWS} draws: the family's space is too small")
        seen |= {item.key, _normalised(item.question)}
        text = fmt(item.answer)
        out.append(
            Example(
                id=f"math/natural/{family}/{index:05d}",
                family=family,
                question=item.question,
                answer=text,
                solution=solution_text(item.steps, text),
                meta={
                    "answer_kind": "number",
                    "lowest_terms": False,
                    "steps": len(item.steps),
                    "structure": item.structure,
                    "template": item.template,
                    "split": "natural",
                },
            )
        )
    return out
