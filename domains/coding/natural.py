r"""The ``natural`` split of coding: small functions as people ask for them, checked by hidden tests. Evaluation only.

Every family here is a kind of function that no training data asks for (:data:`NATURAL_FAMILIES`; none is
a trained family, nor one of the tasks of :data:`~.function_tasks.TASKS` or :data:`~.function_tasks.OOD_TASKS`):
querying a list of records (dicts), grouping and counting, cleaning up text, dates as strings, small
matrices, validating input, intervals and ranges, and parsing small text formats.

How they read: a request in a person's words, often with the data's shape told by example ("a list of dicts
like ``{'name': 'Ann', 'age': 31}``"), the function's name and parameters always stated, the rules a test
relies on (ties, empty input, inclusive bounds) said in plain words, sometimes one example call, and no
code skeleton. Several phrasings per request; function, parameter and field names drawn per item.

Truth: each request has a reference solution (the item's ``solution``), which is this project's code,
run in-process here to compute the tests' expected values on edge cases and random inputs. Each request
also lists typical wrong solutions (a strict ``>`` for ``>=``, forgetting to sort, not merging touching
intervals); the generator draws further inputs until each of them fails some test, so the tests are known
to reject them (they are kept as ``meta["near_misses"]``). The tests are plain ``assert fn(args) == expected``
lines in ``meta["tests"]``, run on a completion by the coding verifier in the sandbox like every generated
function task. Capacity: about 100 distinct requests per family (``n`` up to 800).

Determinism: item ``i`` of a family draws from ``random.Random`` seeded by the SHA-256 of
``"coding|natural|<family>|<seed>|<i>"``; a draw whose request reads like an earlier item's of the same call
(the same words, ignoring case, punctuation and the example call) is redrawn from the same stream.

>>> items = natural_examples(16)
>>> len({e.question for e in items}), items[0].id, items[0].meta["answer_kind"]
(16, 'coding/natural/records_query/00000', 'code')
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import random
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from srmzoo.domain import Example, check_counts

from .answer_format import python_block

__all__ = ["NATURAL_FAMILIES", "NATURAL_SEED_NOTE", "natural_examples", "reference_function"]

NATURAL_FAMILIES: dict[str, str] = {
    "records_query": "a list of dicts (people, books, products, cities) told by an example record: names passing a "
    "threshold sorted, the name with the largest value (first on ties), names by value descending with ties "
    "alphabetical, how many fall in an inclusive range",
    "grouping_counts": "totals per category from (category, amount) pairs, words grouped by first letter, the "
    "most common item (first seen on ties), inverting a person -> team dict into sorted lists",
    "text_cleanup": "URL slugs from titles, collapsing whitespace, initials from a full name, case-insensitive "
    "word counts ignoring punctuation, truncating with an ellipsis, headline case with small words kept lower",
    "date_strings": "dates as strings: day-first dates to ISO, days between two ISO dates, the weekday's name, "
    "adding days, counting weekend dates, a person's age in whole years on a given day",
    "matrix_grid": "lists of lists: transpose, the index of the row with the largest sum, a diagonal's sum, "
    "rotating a grid a quarter turn clockwise, column totals",
    "input_validation": "True/False checks: password rules, #rrggbb colour codes, dotted IPv4 addresses, balanced "
    "brackets, usernames with allowed characters and length",
    "intervals_ranges": "merging overlapping or touching intervals, total time covered, free slots in a working "
    "day between (overlapping) meetings, compressing integers into a '1-3,5,7-8' range string",
    "text_formats": "parsing small formats: key=value pairs, durations like '1h 30m', prices like '$1,234.50' to "
    "cents, comparing version strings, a header-first CSV text to a list of dicts",
}
NATURAL_SEED_NOTE = (
    "item i of family f for seed s draws from random.Random seeded by the first 8 bytes of "
    'SHA-256("coding|natural|<f>|<s>|<i>"); families are dealt round-robin in NATURAL_FAMILIES order; a repeated '
    "request (same wording, ignoring case, punctuation and the example call) is redrawn from the same stream"
)

RANDOM_CASES = 6  # random test inputs on top of a request's edge cases
_MAX_DRAWS = 400


@dataclass(frozen=True)
class _Draft:
    """One request with its names and constants fixed, before its tests are drawn.

    ``asks`` are phrasings with ``{example}`` where an example call may go; ``source`` is the reference
    solution and ``near_misses`` typical wrong versions of it (same function name); ``draw`` gives random
    argument tuples, ``edge`` the argument tuples every test set includes.
    """

    structure: str
    function: str
    asks: tuple[str, ...]
    source: str
    plan: tuple[str, ...]
    edge: tuple[tuple[Any, ...], ...]
    draw: Callable[[random.Random], tuple[Any, ...]]
    near_misses: tuple[str, ...]


@cache
def reference_function(source: str, name: str) -> Callable[..., Any]:
    """The function ``name`` defined by ``source``: this module's own reference code (never model output),
    run in-process to compute expected values.

    >>> reference_function("def twice(x):\\n    return 2 * x\\n", "twice")(4)
    8
    """
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<natural:{name}>", "exec"), namespace)  # noqa: S102 — trusted reference code
    return namespace[name]


def _call(fn: str, args: tuple[Any, ...]) -> str:
    return f"{fn}({', '.join(repr(a) for a in args)})"


def _outcome(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
    try:
        return "ok", fn(*copy.deepcopy(args))
    except Exception as err:  # a near miss may raise where the reference returns
        return "raised", type(err).__name__


def _pick(rng: random.Random, options: Sequence[Any]) -> Any:
    return rng.choice(options)


# ------------------------------------------------------------------------------------------- records_query

PEOPLE = (
    "Ann", "Bo", "Carlos", "Dana", "Eli", "Fatima", "George", "Hana", "Ivan", "Jin", "Kofi", "Lena", "Mateo",
    "Nia", "Omar", "Pia", "Ravi", "Sofia", "Tariq", "Yuki",
)  # fmt: skip
BOOKS = (
    "Dune",
    "Emma",
    "Beloved",
    "Ulysses",
    "Rebecca",
    "Persuasion",
    "Middlemarch",
    "Kindred",
    "Solaris",
    "Matilda",
)
PRODUCTS = ("kettle", "lamp", "desk", "chair", "router", "blender", "monitor", "toaster", "drill", "tent")
CITIES = ("Lyon", "Porto", "Graz", "Turku", "Bergen", "Utrecht", "Ghent", "Cork", "Brno", "Split", "Basel")

# (what the list holds, its label key, its number key, label pool, value range, how a threshold reads)
_RECORDS = (
    ("people", "name", "age", PEOPLE, (1, 90), "aged {t} or over", "younger than {t}"),
    ("books", "title", "year", BOOKS, (1900, 2024), "published in {t} or later", "published before {t}"),
    ("products", "product", "price", PRODUCTS, (1, 400), "costing {t} or more", "costing less than {t}"),
    ("cities", "city", "population", CITIES, (1000, 90000), "with a population of {t} or more",
     "with a population under {t}"),
)  # fmt: skip


def _rows(rng: random.Random, label: str, value: str, pool: Sequence[str], lo: int, hi: int) -> list[dict]:
    names = rng.sample(pool, rng.randint(2, min(7, len(pool))))
    values = [rng.randint(lo, hi) for _ in names]
    if len(values) > 2 and rng.random() < 0.5:  # a tie, so the tie rules are tested
        values[rng.randrange(1, len(values))] = values[0]
    return [{label: n, value: v} for n, v in zip(names, values, strict=True)]


def _records_query(rng: random.Random) -> _Draft:
    what, label, value, pool, (lo, hi), at_least, below = _pick(rng, _RECORDS)
    p = _pick(rng, (what, "rows", "records", "data"))
    shape = f"{{'{label}': {pool[0]!r}, '{value}': {(lo + hi) // 2 + 3}}}"
    labels = "cities" if label == "city" else f"{label}s"
    structure = _pick(rng, ("names_passing", "top_label", "ranked_labels", "count_in_range"))

    def draw(r: random.Random) -> tuple[Any, ...]:
        return (_rows(r, label, value, pool, lo, hi),)

    if structure == "names_passing":
        t = rng.randint(lo + (hi - lo) // 5, hi - (hi - lo) // 5)
        keep = rng.random() < 0.6
        op, wrong_op = (">=", ">") if keep else ("<", "<=")
        fn = _pick(
            rng,
            ("select_names", "names_passing", "filter_names")
            if keep
            else ("names_below", "select_names", "filter_names"),
        )
        rule = (at_least if keep else below).format(t=t)
        source = f"def {fn}({p}):\n    return sorted(r[{label!r}] for r in {p} if r[{value!r}] {op} {t})\n"
        misses = (
            source.replace(f" {op} {t}", f" {wrong_op} {t}"),
            f"def {fn}({p}):\n    return [r[{label!r}] for r in {p} if r[{value!r}] {op} {t}]\n",
        )
        at_edge = [{label: pool[2], value: t}, {label: pool[1], value: t - 1}, {label: pool[0], value: t + 1}]
        edge: tuple[tuple[Any, ...], ...] = (([],), (at_edge,))
        asks = (
            f"I have a list of dicts like {shape}. Can you write a Python function `{fn}({p})` that returns the "
            f"{labels} of the {what} {rule}, sorted alphabetically? {{example}}",
            f"Need a helper `{fn}({p})`: `{p}` is a list of {what}, each a dict with '{label}' and '{value}' keys. "
            f"Give me back just the {labels} of those {rule}, in alphabetical order (an empty list if none). "
            "{example}",
        )
        plan = (f"Keep the records whose '{value}' is {op} {t}.", f"Take their '{label}' and sort them.")
    elif structure == "top_label":
        fn = _pick(rng, ("top", "largest", "best", f"max_{value}"))
        source = (
            f"def {fn}({p}):\n    best = None\n    for r in {p}:\n"
            f"        if best is None or r[{value!r}] > best[{value!r}]:\n            best = r\n"
            f"    return None if best is None else best[{label!r}]\n"
        )
        misses = (source.replace(f"r[{value!r}] > best", f"r[{value!r}] >= best"),
                  f"def {fn}({p}):\n    return max({p}, key=lambda r: r[{value!r}])[{label!r}]\n")  # fmt: skip
        edge = (([],), ([{label: pool[3], value: lo + 5}, {label: pool[1], value: lo + 5}],))
        asks = (
            f"Given a list of {what} as dicts ({shape}), write `{fn}({p})` returning the {label} with the highest "
            f"{value}. If two tie, pick whichever comes first in the list; for an empty list return None. {{example}}",
            f"Which of my {what} has the biggest {value}? I'd like a function `{fn}({p})` that takes a list of "
            f"dicts with '{label}' and '{value}' and returns that {label} (first one wins a tie, None if the list "
            "is empty). {example}",
        )
        plan = (f"Walk the list keeping the record with the largest '{value}' seen so far.",
                "Replace it only on a strictly larger value, so the first of a tie stays.")  # fmt: skip
    elif structure == "ranked_labels":
        fn = _pick(rng, ("ranked", "leaderboard", f"by_{value}", "order_names"))
        source = (
            f"def {fn}({p}):\n    ordered = sorted({p}, key=lambda r: (-r[{value!r}], r[{label!r}]))\n"
            f"    return [r[{label!r}] for r in ordered]\n"
        )
        misses = (
            f"def {fn}({p}):\n    return [r[{label!r}] for r in sorted({p}, key=lambda r: -r[{value!r}])]\n",
            f"def {fn}({p}):\n    return [r[{label!r}] for r in sorted({p}, key=lambda r: (r[{value!r}], r[{label!r}]))]\n",
        )
        edge = (
            ([],),
            (
                [
                    {label: pool[4], value: lo + 3},
                    {label: pool[2], value: lo + 3},
                    {label: pool[0], value: lo},
                ],
            ),
        )
        asks = (
            f"Could you write `{fn}({p})`? It gets a list of dicts like {shape} and should return the {labels} "
            f"ordered from the largest {value} to the smallest; {what} with the same {value} go in alphabetical "
            "order. {example}",
            f"I want to list my {what} by {value}, biggest first. Write a Python function `{fn}({p})` that returns "
            f"the '{label}' values in that order, breaking ties alphabetically by {label}. {{example}}",
        )
        plan = (f"Sort by '{value}' descending, then '{label}' ascending.", f"Return the '{label}' of each.")
    else:
        a = rng.randint(lo, (lo + hi) // 2)
        b = rng.randint(a + 1, hi)
        fn = _pick(rng, ("count_between", "how_many", "in_range"))
        source = f"def {fn}({p}):\n    return sum(1 for r in {p} if {a} <= r[{value!r}] <= {b})\n"
        misses = (source.replace(f"{a} <= r", f"{a} < r"), source.replace(f"<= {b})", f"< {b})"))
        edge = (
            ([],),
            ([{label: pool[0], value: a}, {label: pool[1], value: b}, {label: pool[2], value: b + 1}],),
        )
        asks = (
            f"How many of my {what} have a {value} between {a} and {b}, both ends included? Please write "
            f"`{fn}({p})` for a list of dicts like {shape}. {{example}}",
            f"Write a function `{fn}({p})` that counts the {what} (dicts with '{label}' and '{value}') whose "
            f"{value} is at least {a} and at most {b}. {{example}}",
        )
        plan = (f"Count the records with {a} <= '{value}' <= {b}.",)
    return _Draft(structure, fn, asks, source, plan, edge, draw, misses)


# ----------------------------------------------------------------------------------------- grouping_counts

_SPENDING = ("groceries", "rent", "travel", "books", "gym", "coffee")
_TEAMS = ("red", "blue", "green", "gold")
_FRUIT = ("apple", "pear", "fig", "plum", "kiwi", "lime")


def _grouping_counts(rng: random.Random) -> _Draft:
    structure = _pick(rng, ("totals_by_category", "group_by_initial", "most_common", "invert_teams"))
    if structure == "totals_by_category":
        fn, p = (
            _pick(rng, ("totals", "sum_by_category", "spend_per_category", "category_totals")),
            _pick(rng, ("pairs", "expenses", "entries", "rows")),
        )
        source = (
            f"def {fn}({p}):\n    totals = {{}}\n    for category, amount in {p}:\n"
            "        totals[category] = totals.get(category, 0) + amount\n    return totals\n"
        )
        misses = (source.replace("totals.get(category, 0) + amount", "amount"),)

        def draw(r: random.Random) -> tuple[Any, ...]:
            return ([(r.choice(_SPENDING), r.randint(1, 120)) for _ in range(r.randint(1, 8))],)

        edge: tuple[tuple[Any, ...], ...] = (([],), ([("rent", 5), ("coffee", 3), ("rent", 7)],))
        asks = (
            f"I log my spending as a list of (category, amount) tuples, like [('coffee', 4), ('rent', 900), "
            f"('coffee', 3)]. Write `{fn}({p})` that returns a dict from each category to its total. {{example}}",
            f"Can you give me a Python function `{fn}({p})` that adds up the amounts per category? The input is a "
            "list of 2-tuples (category, amount); the output a dict category -> total. {example}",
        )
        plan = ("Start an empty dict.", "Add each amount to its category's running total.")
    elif structure == "group_by_initial":
        fn, p = (
            _pick(rng, ("by_first_letter", "group_words", "index_words", "bucket_by_letter")),
            _pick(rng, ("words", "names", "items", "vocab")),
        )
        source = (
            f"def {fn}({p}):\n    groups = {{}}\n    for w in {p}:\n"
            "        groups.setdefault(w[0].lower(), []).append(w)\n    return groups\n"
        )
        misses = (source.replace("w[0].lower()", "w[0]"),)

        def draw(r: random.Random) -> tuple[Any, ...]:
            words = [r.choice(_FRUIT + PEOPLE[:8]) for _ in range(r.randint(1, 7))]
            return ([w.capitalize() if r.random() < 0.3 else w for w in words],)

        edge = (([],), (["apple", "Avocado", "fig"],))
        asks = (
            f"Write `{fn}({p})`: given a list of words, return a dict mapping each lowercase first letter to the "
            "list of words starting with it (upper or lower case), in the order they appear. {example}",
            f"I need to bucket words by their first letter, ignoring case. `{fn}({p})` should return something "
            "like {'a': ['apple', 'Avocado'], 'f': ['fig']} - words keep their original spelling and order. "
            "{example}",
        )
        plan = ("Key each word by its first letter in lower case.", "Append it to that key's list.")
    elif structure == "most_common":
        fn, p = (
            _pick(rng, ("most_common", "mode", "top_item", "favourite")),
            _pick(rng, ("items", "votes", "answers", "choices")),
        )
        source = (
            f"def {fn}({p}):\n    counts = {{}}\n    for x in {p}:\n        counts[x] = counts.get(x, 0) + 1\n"
            "    best = None\n    for x in counts:\n        if best is None or counts[x] > counts[best]:\n"
            "            best = x\n    return best\n"
        )
        misses = (source.replace("counts[x] > counts[best]", "counts[x] >= counts[best]"),)

        def draw(r: random.Random) -> tuple[Any, ...]:
            return ([r.choice(_FRUIT[:4]) for _ in range(r.randint(1, 8))],)

        edge = (([],), (["plum", "fig", "fig", "plum"],))
        asks = (
            f"People voted for their favourite fruit and I have the votes as a list of strings. Write "
            f"`{fn}({p})` that returns the most common one; if there's a tie, the one that appeared first in the "
            "list wins, and an empty list gives None. {example}",
            f"Quick one: `{fn}({p})` should return the value that occurs most often in a list (the earliest to "
            "first appear, when several are equally common; None for an empty list). {example}",
        )
        plan = ("Count each value in order of first appearance.", "Keep the first value with the top count.")
    else:
        fn, p = (
            _pick(rng, ("members_by_team", "invert", "team_rosters", "by_team")),
            _pick(rng, ("assignments", "teams", "who", "team_of")),
        )
        source = (
            f"def {fn}({p}):\n    rosters = {{}}\n    for person, team in {p}.items():\n"
            "        rosters.setdefault(team, []).append(person)\n"
            "    return {team: sorted(people) for team, people in rosters.items()}\n"
        )
        misses = (
            f"def {fn}({p}):\n    rosters = {{}}\n    for person, team in {p}.items():\n"
            "        rosters.setdefault(team, []).append(person)\n    return rosters\n",
        )

        def draw(r: random.Random) -> tuple[Any, ...]:
            return ({n: r.choice(_TEAMS) for n in r.sample(PEOPLE, r.randint(1, 7))},)

        edge = (({},), ({"Omar": "red", "Ann": "red", "Bo": "blue"},))
        asks = (
            f"I have a dict of person -> team, e.g. {{'Omar': 'red', 'Ann': 'red', 'Bo': 'blue'}}. Write "
            f"`{fn}({p})` that flips it into team -> list of people, each list sorted alphabetically. {{example}}",
            f"Can you write `{fn}({p})`? It takes a dict mapping names to team colours and returns a dict from "
            "each team to the alphabetically sorted names on it. {example}",
        )
        plan = ("Collect the people of each team.", "Sort each team's list.")
    return _Draft(structure, fn, asks, source, plan, edge, draw, misses)


# --------------------------------------------------------------------------------------------- text_cleanup

_TITLE_WORDS = ("Hello", "world", "Python", "tips", "for", "the", "10", "best", "Coffee", "shops", "in", "2024",
                "a", "guide", "to", "of", "and", "Why", "I", "love", "Rust")  # fmt: skip
_PUNCT = ("", "", "!", "?", ",", ":", "'s", " -", " &")


def _messy_text(r: random.Random, *, punct: bool = True) -> str:
    """A title-like string with stray spacing; with ``punct=False`` only words and spaces (no tabs, no newlines)."""
    words = []
    for _ in range(r.randint(1, 6)):
        words.append(r.choice(_TITLE_WORDS) + (r.choice(_PUNCT) if punct else ""))
    gaps = [r.choice((" ", " ", "  ", "\t", " \n ") if punct else (" ", " ", "  ")) for _ in words]
    text = "".join(w + g for w, g in zip(words, gaps, strict=True))
    return r.choice(("", " ", "  ")) + text


def _text_cleanup(rng: random.Random) -> _Draft:
    structure = _pick(
        rng, ("slugify", "squash_spaces", "initials", "word_counts", "truncate", "headline_case")
    )
    p = _pick(rng, ("text", "s", "title", "line"))

    def draw(r: random.Random) -> tuple[Any, ...]:
        return (_messy_text(r),)

    if structure == "slugify":
        fn = _pick(rng, ("slugify", "make_slug", "url_slug"))
        source = (
            f'import re\n\n\ndef {fn}({p}):\n    slug = re.sub(r"[^a-z0-9]+", "-", {p}.lower())\n'
            '    return slug.strip("-")\n'
        )
        misses = (
            f'def {fn}({p}):\n    return {p}.strip().lower().replace(" ", "-")\n',
            f'import re\n\n\ndef {fn}({p}):\n    return re.sub(r"[^a-z0-9]+", "-", {p}.lower())\n',
        )
        edge: tuple[tuple[Any, ...], ...] = (("Hello, World!",), ("  10 Tips -- for you  ",), ("",))
        asks = (
            f"For my blog I need URL slugs. Write `{fn}({p})` that lowercases the title, turns every run of "
            "characters that aren't letters or digits into a single hyphen, and drops hyphens at the ends, so "
            "'Hello, World!' becomes 'hello-world'. {example}",
            f"How would I turn a post title into a slug in Python? I want a function `{fn}({p})`: lowercase "
            "a-z and 0-9 kept, anything else (spaces, punctuation) collapsed into one '-', no leading or "
            "trailing '-'. {example}",
        )
        plan = (
            "Lowercase the text.",
            "Replace each run of non [a-z0-9] characters by '-'.",
            "Strip '-' at the ends.",
        )
    elif structure == "squash_spaces":
        fn = _pick(rng, ("squash_spaces", "normalize_whitespace", "tidy"))
        source = f'def {fn}({p}):\n    return " ".join({p}.split())\n'
        misses = (f"def {fn}({p}):\n    return {p}.strip()\n",
                  f"def {fn}({p}):\n    return {p}.replace(\"  \", \" \").strip()\n")  # fmt: skip
        edge = (("  a   b \n c ",), ("",), ("one",))
        asks = (
            f"Users paste text with random spaces, tabs and newlines. Write `{fn}({p})` that returns it with "
            "every run of whitespace turned into one space and nothing at the start or end. {example}",
            f"I want `{fn}({p})` to clean up whitespace: '  a   b \\n c ' should come back as 'a b c'. "
            "{example}",
        )
        plan = ("Split on any whitespace.", "Join the pieces with single spaces.")
    elif structure == "initials":
        dots = rng.random() < 0.5
        fn, p = _pick(rng, ("initials", "monogram", "short_name")), _pick(rng, ("name", "full_name"))
        dot = ' + "."' if dots else ""
        source = f'def {fn}({p}):\n    return "".join(w[0].upper(){dot} for w in {p}.split())\n'
        misses = (source.replace("w[0].upper()", "w[0]"), source.replace(f"{p}.split()", f'{p}.split(" ")'))

        def draw(r: random.Random) -> tuple[Any, ...]:
            parts = [n.lower() if r.random() < 0.4 else n for n in r.sample(PEOPLE, r.randint(1, 3))]
            return (r.choice(("", " ")) + r.choice((" ", "  ")).join(parts),)

        edge = (("ada lovelace",), ("  Grace  Brewer Hopper ",))
        shown = "A.L." if dots else "AL"
        asks = (
            f"Write a Python function `{fn}({p})` that turns a full name like 'ada lovelace' into its initials, "
            f"'{shown}': the first letter of each word in upper case{', each followed by a dot' if dots else ''}. "
            "Names may have extra spaces. {example}",
            f"I need initials for name badges. `{fn}({p})` should give '{shown}' for 'ada lovelace' (upper case"
            f"{', a dot after each letter' if dots else ', no dots'}; ignore extra spaces). {{example}}",
        )
        plan = (
            "Split the name on whitespace.",
            "Upper-case each word's first letter" + (" and add a dot." if dots else "."),
        )
    elif structure == "word_counts":
        fn = _pick(rng, ("word_counts", "count_words", "frequencies"))
        source = (
            f"def {fn}({p}):\n    counts = {{}}\n    for word in {p}.lower().split():\n"
            '        word = word.strip(".,!?;:\'\\"")\n        if word:\n'
            "            counts[word] = counts.get(word, 0) + 1\n    return counts\n"
        )
        misses = (source.replace(f"{p}.lower().split()", f"{p}.split()"),
                  source.replace("        word = word.strip(\".,!?;:'\\\"\")\n", ""))  # fmt: skip

        def draw(r: random.Random) -> tuple[Any, ...]:
            words = [r.choice(("the", "The", "cat", "sat", "mat", "Cat", "on")) + r.choice(("", "", ",", ".", "!"))
                     for _ in range(r.randint(1, 9))]  # fmt: skip
            return (" ".join(words),)

        edge = (("The cat, the hat.",), ("",))
        asks = (
            f"Write `{fn}({p})` that counts how often each word appears in a piece of text, ignoring case and "
            "any punctuation (.,!?;:'\") stuck to the start or end of a word. Return a dict word -> count with "
            "lowercase words. {example}",
            f"I'd like a word-frequency function, `{fn}({p})`: 'The cat, the hat.' should give "
            "{'the': 2, 'cat': 1, 'hat': 1}. Words are separated by whitespace. {example}",
        )
        plan = (
            "Lowercase and split on whitespace.",
            "Strip punctuation from each word's ends.",
            "Count the words.",
        )
    elif structure == "truncate":
        n = rng.randint(8, 30)
        fn = _pick(rng, ("truncate", "shorten", "preview"))
        source = (
            f'def {fn}({p}):\n    if len({p}) <= {n}:\n        return {p}\n    return {p}[:{n - 3}] + "..."\n'
        )
        misses = (source.replace(f"[:{n - 3}]", f"[:{n}]"), source.replace(f"<= {n}", f"< {n}"))

        def draw(r: random.Random) -> tuple[Any, ...]:
            return (" ".join(r.choice(_TITLE_WORDS) for _ in range(r.randint(1, 9))),)

        edge = (("x" * n,), ("y" * (n + 1),), ("",))
        asks = (
            f"For a list view I need previews of at most {n} characters. Write `{fn}({p})`: text that fits is "
            f"returned as is; longer text is cut so that, with '...' added at the end, the result is exactly {n} "
            "characters long. {example}",
            f"Can you write `{fn}({p})`? If the string is longer than {n} characters, keep the first {n - 3} and "
            f"add '...'; otherwise return it unchanged. {{example}}",
        )
        plan = ("Return short text unchanged.", f"Otherwise keep {n - 3} characters and add '...'.")
    else:
        fn = _pick(rng, ("headline_case", "title_case", "headline"))
        source = (
            f'def {fn}({p}):\n    small = {{"a", "an", "the", "of", "and", "in", "to", "for"}}\n'
            f"    words = {p}.lower().split()\n"
            '    return " ".join(w if i > 0 and w in small else w.capitalize() for i, w in enumerate(words))\n'
        )
        misses = (f"def {fn}({p}):\n    return \" \".join(w.capitalize() for w in {p}.split())\n",
                  source.replace("i > 0 and w in small", "w in small"))  # fmt: skip

        def draw(r: random.Random) -> tuple[Any, ...]:
            return (_messy_text(r, punct=False),)

        edge = (("the lord OF the rings",), ("",))
        asks = (
            f"Write `{fn}({p})` to format headlines: words separated by single spaces, each word capitalised "
            "(first letter upper, rest lower) except the small words a, an, the, of, and, in, to, for - those "
            "stay lowercase unless they are the first word. {example}",
            f"I want 'the lord OF the rings' to become 'The Lord of the Rings'. Please write `{fn}({p})`: "
            "capitalise every word except a/an/the/of/and/in/to/for (lowercase, but the first word is always "
            "capitalised), and squash extra spaces. {example}",
        )
        plan = (
            "Lowercase and split.",
            "Capitalise each word except small words after the first.",
            "Join with spaces.",
        )
    return _Draft(structure, fn, asks, source, plan, edge, draw, misses)


# --------------------------------------------------------------------------------------------- date_strings


def _random_date(r: random.Random) -> datetime.date:
    return datetime.date(1990, 1, 1) + datetime.timedelta(days=r.randint(0, 15000))


def _date_strings(rng: random.Random) -> _Draft:
    structure = _pick(
        rng, ("day_first_to_iso", "days_between", "weekday_name", "add_days", "count_weekends", "age_on")
    )
    if structure == "day_first_to_iso":
        sep = _pick(rng, ("/", ".", "-"))
        fn, p = (
            _pick(rng, ("to_iso", "convert_date", "iso_date", "dmy_to_iso")),
            _pick(rng, ("date", "s", "text")),
        )
        source = f'def {fn}({p}):\n    day, month, year = {p}.split({sep!r})\n    return f"{{year}}-{{month}}-{{day}}"\n'
        misses = (source.replace('f"{year}-{month}-{day}"', 'f"{year}-{day}-{month}"'),
                  source.replace('f"{year}-{month}-{day}"', 'f"{day}-{month}-{year}"'))  # fmt: skip

        def draw(r: random.Random) -> tuple[Any, ...]:
            return (_random_date(r).strftime(f"%d{sep}%m{sep}%Y"),)

        edge: tuple[tuple[Any, ...], ...] = ((f"05{sep}03{sep}2024",),)
        asks = (
            f"Our export writes dates day first, like '05{sep}03{sep}2024' for 5 March 2024 (always two digits for "
            f"day and month). Write `{fn}({p})` that returns the ISO form 'YYYY-MM-DD'. {{example}}",
            f"How do I convert '31{sep}12{sep}1999' style dates (DD{sep}MM{sep}YYYY) into '1999-12-31'? I'd like a "
            f"function `{fn}({p})`. {{example}}",
        )
        plan = (f"Split on {sep!r} into day, month, year.", "Join them as year-month-day.")
    elif structure == "days_between":
        fn = _pick(rng, ("days_between", "day_gap", "days_apart", "count_days"))
        a, b = _pick(rng, (("a", "b"), ("start", "end"), ("first", "second")))
        source = (
            f"from datetime import date\n\n\ndef {fn}({a}, {b}):\n"
            f"    return abs((date.fromisoformat({b}) - date.fromisoformat({a})).days)\n"
        )
        misses = (
            source.replace("abs(", "(", 1),
            f"def {fn}({a}, {b}):\n    return abs(int({b}[8:]) - int({a}[8:]))\n",
        )

        def draw(r: random.Random) -> tuple[Any, ...]:
            first = _random_date(r)
            return (first.isoformat(), (first + datetime.timedelta(days=r.randint(-400, 400))).isoformat())

        edge = (("2024-03-01", "2024-02-28"), ("2023-01-10", "2023-01-10"))
        asks = (
            f"Write `{fn}({a}, {b})` that takes two dates as 'YYYY-MM-DD' strings and returns how many days apart "
            "they are, as a non-negative number whichever comes first. Leap years should work. {example}",
            f"How many days are there between two ISO dates? I want `{fn}({a}, {b})` to return the gap in days "
            "(never negative). {example}",
        )
        plan = ("Parse both with date.fromisoformat.", "Return the absolute difference in days.")
    elif structure == "weekday_name":
        fn, p = (
            _pick(rng, ("weekday_name", "day_of_week", "which_day", "weekday_of")),
            _pick(rng, ("iso", "date_string", "day", "when")),
        )
        source = (
            f'from datetime import date\n\nDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", '
            f'"Saturday", "Sunday"]\n\n\ndef {fn}({p}):\n    return DAYS[date.fromisoformat({p}).weekday()]\n'
        )
        misses = (source.replace(".weekday()]", ".isoweekday() % 7]"),)

        def draw(r: random.Random) -> tuple[Any, ...]:
            return (_random_date(r).isoformat(),)

        edge = (("2024-02-29",), ("2023-01-01",))
        asks = (
            f"Given a date string like '2024-02-29', I need the English name of the weekday ('Thursday'). Write "
            f"`{fn}({p})`. {{example}}",
            f"Write a Python function `{fn}({p})` returning which day of the week ('Monday' ... 'Sunday') an ISO "
            "date 'YYYY-MM-DD' falls on. {example}",
        )
        plan = ("Parse the date.", "Index a list of day names Monday..Sunday by weekday().")
    elif structure == "add_days":
        fn = _pick(rng, ("add_days", "shift_date", "due_date", "days_later"))
        start, days = _pick(rng, (("start", "days"), ("issued", "n"), ("day", "offset")))
        source = (
            f"from datetime import date, timedelta\n\n\ndef {fn}({start}, {days}):\n"
            f"    return (date.fromisoformat({start}) + timedelta(days={days})).isoformat()\n"
        )
        misses = (
            f"def {fn}({start}, {days}):\n    return {start}[:8] + str(int({start}[8:]) + {days}).zfill(2)\n",
        )

        def draw(r: random.Random) -> tuple[Any, ...]:
            return (_random_date(r).isoformat(), r.randint(-60, 400))

        edge = (("2024-02-28", 1), ("2023-12-31", 1), ("2024-03-01", -1))
        asks = (
            f"Invoices are due a number of days after they're issued. Write `{fn}({start}, {days})` that takes "
            "the issue date as 'YYYY-MM-DD' and a number of days (could be negative) and returns the resulting "
            "date in the same format. {example}",
            f"I need `{fn}({start}, {days})`: add `{days}` days to an ISO date string and return the new ISO date "
            "string, handling month ends and leap years. {example}",
        )
        plan = ("Parse the date and add a timedelta.", "Format it back with isoformat().")
    elif structure == "count_weekends":
        fn, p = (
            _pick(rng, ("count_weekends", "weekend_days", "how_many_weekends", "weekend_count")),
            _pick(rng, ("dates", "days", "shifts")),
        )
        source = (
            f"from datetime import date\n\n\ndef {fn}({p}):\n"
            f"    return sum(1 for d in {p} if date.fromisoformat(d).weekday() >= 5)\n"
        )
        misses = (
            source.replace("weekday() >= 5", "weekday() >= 6"),
            source.replace("weekday() >= 5", "isoweekday() >= 5"),
        )

        def draw(r: random.Random) -> tuple[Any, ...]:
            return ([_random_date(r).isoformat() for _ in range(r.randint(1, 7))],)

        edge = (([],), (["2024-06-01", "2024-06-02", "2024-06-03"],))
        asks = (
            f"I have a list of dates as 'YYYY-MM-DD' strings (days someone worked). Write `{fn}({p})` that returns "
            "how many of them fall on a Saturday or a Sunday. {example}",
            f"Count weekend days: `{fn}({p})` gets a list of ISO date strings and returns how many are Saturdays "
            "or Sundays. {example}",
        )
        plan = ("Parse each date.", "Count those with weekday() 5 or 6.")
    else:
        fn = _pick(rng, ("age_on", "age_at", "years_old", "age"))
        birthday, on = _pick(rng, (("birthday", "on"), ("born", "today"), ("dob", "when")))
        source = (
            f"from datetime import date\n\n\ndef {fn}({birthday}, {on}):\n"
            f"    b, d = date.fromisoformat({birthday}), date.fromisoformat({on})\n"
            "    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))\n"
        )
        misses = (
            f"from datetime import date\n\n\ndef {fn}({birthday}, {on}):\n"
            f"    return date.fromisoformat({on}).year - date.fromisoformat({birthday}).year\n",
            source.replace("(d.month, d.day) < (b.month, b.day)", "(d.month, d.day) <= (b.month, b.day)"),
        )

        def draw(r: random.Random) -> tuple[Any, ...]:
            born = _random_date(r)
            return (born.isoformat(), (born + datetime.timedelta(days=r.randint(0, 30000))).isoformat())

        edge = (("2000-06-15", "2024-06-15"), ("2000-06-15", "2024-06-14"), ("2010-01-01", "2010-12-31"))
        asks = (
            f"Write `{fn}({birthday}, {on})` returning how old someone is, in whole years, on the date `{on}`. "
            "Both dates are 'YYYY-MM-DD' strings; on their birthday they've just turned the new age. {example}",
            f"How old is a person on a given day? I need `{fn}({birthday}, {on})` with ISO date strings; count "
            "only completed years (the birthday itself counts as completed). {example}",
        )
        plan = ("Subtract the years.", "Take one off if the birthday has not come yet that year.")
    return _Draft(structure, fn, asks, source, plan, edge, draw, misses)


# ---------------------------------------------------------------------------------------------- matrix_grid


def _matrix(r: random.Random, *, square: bool = False) -> list[list[int]]:
    rows = r.randint(1, 4)
    cols = rows if square else r.randint(1, 4)
    return [[r.randint(-9, 20) for _ in range(cols)] for _ in range(rows)]


def _matrix_grid(rng: random.Random) -> _Draft:
    structure = _pick(rng, ("transpose", "heaviest_row", "diagonal_sum", "rotate_clockwise", "column_totals"))
    p = _pick(rng, ("matrix", "grid", "m", "rows"))

    def draw(r: random.Random) -> tuple[Any, ...]:
        return (_matrix(r, square=structure == "diagonal_sum"),)

    if structure == "transpose":
        fn = _pick(rng, ("transpose", "flip", "swap_axes"))
        source = f"def {fn}({p}):\n    return [list(column) for column in zip(*{p})]\n"
        misses = (
            f"def {fn}({p}):\n    return list(zip(*{p}))\n",
            f"def {fn}({p}):\n    return [row[::-1] for row in {p}]\n",
        )
        edge: tuple[tuple[Any, ...], ...] = (([],), ([[1, 2, 3], [4, 5, 6]],))
        asks = (
            f"I've got a table stored as a list of rows (lists of numbers, all the same length). Write "
            f"`{fn}({p})` that returns it transposed, as a list of lists, so columns become rows. An empty table "
            "gives []. {example}",
            f"Write `{fn}({p})` that swaps rows and columns of a rectangular list-of-lists: [[1, 2, 3], "
            "[4, 5, 6]] should give [[1, 4], [2, 5], [3, 6]]. {example}",
        )
        plan = ("zip(*rows) yields the columns.", "Turn each into a list.")
    elif structure == "heaviest_row":
        fn = _pick(rng, ("heaviest_row", "best_row", "max_row_index"))
        source = (
            f"def {fn}({p}):\n    best = 0\n    for i, row in enumerate({p}):\n"
            f"        if sum(row) > sum({p}[best]):\n            best = i\n    return best\n"
        )
        misses = (source.replace(f"sum(row) > sum({p}[best])", f"sum(row) >= sum({p}[best])"),
                  f"def {fn}({p}):\n    return max(sum(row) for row in {p})\n")  # fmt: skip
        edge = (([[1, 2], [3, 0], [0, 1]],), ([[5]],))
        asks = (
            f"Each row of my grid is a list of scores. Write `{fn}({p})` that returns the index of the row with "
            "the largest total; if several rows tie, the first of them. The grid has at least one row. {example}",
            f"Which row adds up to the most? `{fn}({p})` takes a non-empty list of lists of ints and returns that "
            "row's position (0-based, earliest wins a tie). {example}",
        )
        plan = ("Track the index of the best row so far.", "Move it only on a strictly larger sum.")
    elif structure == "diagonal_sum":
        anti = rng.random() < 0.5
        fn = _pick(rng, ("anti_diagonal_sum", "other_diagonal") if anti else ("diagonal_sum", "trace"))
        pick = f"{p}[i][len({p}) - 1 - i]" if anti else f"{p}[i][i]"
        source = f"def {fn}({p}):\n    return sum({pick} for i in range(len({p})))\n"
        other = f"{p}[i][i]" if anti else f"{p}[i][len({p}) - 1 - i]"
        misses = (source.replace(pick, other), f"def {fn}({p}):\n    return sum(sum(row) for row in {p})\n")
        edge = (([],), ([[1, 2], [3, 4]],))
        which = (
            "the other diagonal, from the top-right corner to the bottom-left"
            if anti
            else ("the main diagonal, top-left to bottom-right")
        )
        asks = (
            f"For a square matrix given as a list of lists, write `{fn}({p})` returning the sum of {which}. "
            "An empty matrix sums to 0. {example}",
            f"Can you write `{fn}({p})`? Add up the numbers on {which} of an n×n list-of-lists. {{example}}",
        )
        plan = (f"Sum {pick} over each row index i.",)
    elif structure == "rotate_clockwise":
        fn = _pick(rng, ("rotate", "rotate_right", "turn_clockwise"))
        source = f"def {fn}({p}):\n    return [list(row) for row in zip(*{p}[::-1])]\n"
        misses = (f"def {fn}({p}):\n    return [list(row) for row in zip(*{p})][::-1]\n",
                  f"def {fn}({p}):\n    return [list(row) for row in zip(*{p})]\n")  # fmt: skip
        edge = (([[1, 2], [3, 4], [5, 6]],), ([],))
        asks = (
            f"I'm writing a little puzzle game. Write `{fn}({p})` that rotates a rectangular grid (list of lists) "
            "90 degrees clockwise and returns the new list of lists. {example}",
            f"How do I turn a grid a quarter turn to the right in Python? `{fn}({p})` should map [[1, 2], [3, 4], "
            "[5, 6]] to [[5, 3, 1], [6, 4, 2]]. {example}",
        )
        plan = ("Reverse the rows.", "Zip them: each column of the reversed grid is a new row.")
    else:
        fn = _pick(rng, ("column_totals", "col_sums", "totals_per_column"))
        source = f"def {fn}({p}):\n    return [sum(column) for column in zip(*{p})]\n"
        misses = (f"def {fn}({p}):\n    return [sum(row) for row in {p}]\n",)
        edge = (([],), ([[1, 2, 3], [4, 5, 6]],))
        asks = (
            f"My spreadsheet rows come in as lists of numbers of equal length. Write `{fn}({p})` that returns a "
            "list with the total of each column. An empty sheet gives []. {example}",
            f"Write `{fn}({p})`: sum each column of a list-of-lists, e.g. [[1, 2, 3], [4, 5, 6]] -> [5, 7, 9]. "
            "{example}",
        )
        plan = ("zip(*rows) gives the columns.", "Sum each.")
    return _Draft(structure, fn, asks, source, plan, edge, draw, misses)


# ---------------------------------------------------------------------------------------- input_validation


def _input_validation(rng: random.Random) -> _Draft:
    structure = _pick(rng, ("password_ok", "hex_colour", "ipv4", "balanced_brackets", "username_ok"))
    p = _pick(rng, ("s", "text", "value"))
    if structure == "password_ok":
        n = rng.choice((8, 10, 12))
        fn, p = (
            _pick(rng, ("strong_password", "password_ok", "is_valid_password")),
            _pick(rng, ("password", "pw")),
        )
        source = (
            f"def {fn}({p}):\n    return (\n        len({p}) >= {n}\n        and any(c.isdigit() for c in {p})\n"
            f"        and any(c.isupper() for c in {p})\n        and any(c.islower() for c in {p})\n    )\n"
        )
        misses = (source.replace(f"len({p}) >= {n}", f"len({p}) > {n}"),
                  source.replace(f"        and any(c.isupper() for c in {p})\n", ""))  # fmt: skip

        def draw(r: random.Random) -> tuple[Any, ...]:
            pools = [string.ascii_lowercase, string.ascii_uppercase, string.digits, "!#$%"]
            chosen = [c for c in pools if r.random() < 0.75] or pools[:1]
            return ("".join(r.choice(r.choice(chosen)) for _ in range(r.randint(n - 3, n + 4))),)

        edge: tuple[tuple[Any, ...], ...] = (("a" * (n - 2) + "B1",), ("a" * (n - 3) + "B1",), ("A" * (n - 1) + "1",),
                                             ("a" * (n - 1) + "1",))  # fmt: skip
        asks = (
            f"Sign-up form rules: a password needs at least {n} characters, at least one digit, one uppercase and "
            f"one lowercase letter. Write `{fn}({p})` returning True if it follows all the rules, else False. "
            "{example}",
            f"Can you write a Python check `{fn}({p})`? Valid means: length {n} or more, contains a number, an "
            "upper-case letter and a lower-case letter. {example}",
        )
        plan = (
            f"Check the length is at least {n}.",
            "Check for a digit, an upper-case and a lower-case letter.",
        )
    elif structure == "hex_colour":
        fn = _pick(rng, ("is_hex_colour", "valid_colour", "is_color_code"))
        source = (
            f'import re\n\n\ndef {fn}({p}):\n    return re.fullmatch(r"#[0-9a-fA-F]{{6}}", {p}) is not None\n'
        )
        misses = (source.replace("fullmatch", "match"), source.replace("[0-9a-fA-F]", "[0-9a-f]"))

        def draw(r: random.Random) -> tuple[Any, ...]:
            digits = "".join(
                r.choice("0123456789abcdefABCDEFgz") for _ in range(r.choice((3, 5, 6, 6, 6, 7)))
            )
            return (r.choice(("#", "#", "#", "")) + digits,)

        edge = (("#A1b2C3",), ("#a1b2c3d",), ("a1b2c3",), ("#a1b2cg",))
        asks = (
            f"Users type colours into a settings page. Write `{fn}({p})` that returns True only for codes like "
            "'#1a2B3c': a '#' followed by exactly six hex digits (either case). {example}",
            f"I need `{fn}({p})` to check whether a string is a valid #rrggbb colour - hash, then six characters "
            "0-9 or a-f/A-F, nothing else. {example}",
        )
        plan = ("Match the whole string against #[0-9a-fA-F]{6}.",)
    elif structure == "ipv4":
        fn = _pick(rng, ("is_ipv4", "valid_ip", "looks_like_ip"))
        source = (
            f'def {fn}({p}):\n    parts = {p}.split(".")\n    if len(parts) != 4:\n        return False\n'
            "    return all(part.isdigit() and int(part) <= 255 for part in parts)\n"
        )
        misses = (source.replace("int(part) <= 255", "int(part) <= 256"),
                  f"def {fn}({p}):\n    return len({p}.split(\".\")) == 4\n")  # fmt: skip

        def draw(r: random.Random) -> tuple[Any, ...]:
            parts = [
                str(r.choice((r.randint(0, 255), r.randint(0, 255), r.randint(256, 400))))
                for _ in range(r.choice((3, 4, 4, 4, 5)))
            ]
            if r.random() < 0.2:
                parts[0] = r.choice(("a", "", "-1"))
            return (".".join(parts),)

        edge = (("192.168.0.1",), ("256.1.1.1",), ("1.2.3",), ("1.2.3.x",), ("255.255.255.255",))
        asks = (
            f"Write `{fn}({p})` that says whether a string is an IPv4 address: four whole numbers from 0 to 255 "
            "separated by dots, like '192.168.0.1'. Return True or False. {example}",
            f"Is this a valid dotted IPv4 address? `{fn}({p})` should return True for '10.0.0.255' and False for "
            "things like '256.1.1.1', '1.2.3' or '1.2.3.x'. {example}",
        )
        plan = ("Split on dots; there must be four parts.", "Each must be digits with a value at most 255.")
    elif structure == "balanced_brackets":
        fn = _pick(rng, ("balanced", "brackets_ok", "is_balanced"))
        source = (
            f'def {fn}({p}):\n    pairs = {{")": "(", "]": "[", "}}": "{{"}}\n    stack = []\n'
            f'    for ch in {p}:\n        if ch in "([{{":\n            stack.append(ch)\n'
            "        elif ch in pairs:\n            if not stack or stack.pop() != pairs[ch]:\n"
            "                return False\n    return not stack\n"
        )
        misses = (
            f'def {fn}({p}):\n    return all({p}.count(a) == {p}.count(b) for a, b in ("()", "[]", "{{}}"))\n',
            source.replace("    return not stack\n", "    return True\n"),
        )

        def draw(r: random.Random) -> tuple[Any, ...]:
            return ("".join(r.choice("()[]{}x") for _ in range(r.randint(0, 10))),)

        edge = (("([]{x})",), (")(",), ("([)]",), ("((",), ("",))
        asks = (
            f"Write `{fn}({p})` that checks whether the brackets (), [] and {{}} in a string are balanced and "
            "properly nested; other characters don't matter. Return True or False. {example}",
            f"I'm validating formulas users type. `{fn}({p})` should return True for '([]{{x}})' and False for "
            "')(' or '([)]' - every bracket closed by the matching kind, in the right order. {example}",
        )
        plan = (
            "Push opening brackets on a stack.",
            "A closing one must match the top.",
            "The stack must end empty.",
        )
    else:
        lo, hi = rng.choice(((3, 16), (4, 12), (5, 20)))
        fn, p = (
            _pick(rng, ("valid_username", "username_ok", "check_handle")),
            _pick(rng, ("name", "username")),
        )
        source = (
            f"import re\n\n\ndef {fn}({p}):\n"
            f'    return re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{{{lo - 1},{hi - 1}}}", {p}) is not None\n'
        )
        misses = (
            f"import re\n\n\ndef {fn}({p}):\n"
            f'    return re.fullmatch(r"[A-Za-z0-9_]{{{lo},{hi}}}", {p}) is not None\n',
            source.replace(f"{{{lo - 1},{hi - 1}}}", f"{{{lo - 1},{hi}}}"),
        )

        def draw(r: random.Random) -> tuple[Any, ...]:
            chars = string.ascii_letters + string.digits + "_" * 3 + "-. "
            return ("".join(r.choice(chars) for _ in range(r.randint(lo - 2, hi + 2))),)

        edge = (("a" * hi,), ("a" * (hi + 1),), ("1" + "a" * lo,), ("a" * lo,), ("a" * (lo - 1),))
        asks = (
            f"Usernames on our site must be {lo} to {hi} characters long, use only letters, digits and "
            f"underscores, and start with a letter. Write `{fn}({p})` that returns True if a name is allowed. "
            "{example}",
            f"Write a validator `{fn}({p})`: True when the string starts with a letter, has only A-Z, a-z, 0-9 "
            f"or _, and is between {lo} and {hi} characters (inclusive). {{example}}",
        )
        plan = (f"Match [A-Za-z] then {lo - 1} to {hi - 1} of [A-Za-z0-9_], over the whole string.",)
    return _Draft(structure, fn, asks, source, plan, edge, draw, misses)


# ---------------------------------------------------------------------------------------- intervals_ranges


def _intervals(r: random.Random, lo: int = 0, hi: int = 30) -> list[list[int]]:
    out = []
    for _ in range(r.randint(1, 6)):
        a = r.randint(lo, hi - 1)
        out.append([a, r.randint(a + 1, min(hi, a + 8))])
    return out


def _intervals_ranges(rng: random.Random) -> _Draft:
    structure = _pick(rng, ("merge_intervals", "covered_length", "free_slots", "range_string"))
    p = _pick(rng, ("intervals", "spans", "bookings", "periods"))

    def draw(r: random.Random) -> tuple[Any, ...]:
        return (_intervals(r),)

    if structure == "merge_intervals":
        fn = _pick(rng, ("merge", "merge_intervals", "combine", "merge_overlaps"))
        source = (
            f"def {fn}({p}):\n    merged = []\n    for start, end in sorted({p}):\n"
            "        if merged and start <= merged[-1][1]:\n            merged[-1][1] = max(merged[-1][1], end)\n"
            "        else:\n            merged.append([start, end])\n    return merged\n"
        )
        misses = (source.replace(f"sorted({p})", p), source.replace("start <= merged[-1][1]", "start < merged[-1][1]"),
                  source.replace("max(merged[-1][1], end)", "end"))  # fmt: skip
        edge: tuple[tuple[Any, ...], ...] = (([],), ([[5, 8], [1, 3], [3, 4]],), ([[1, 10], [2, 3]],))
        asks = (
            f"I have a list of [start, end] pairs (ints, start < end), in no particular order. Write `{fn}({p})` "
            "that merges the ones that overlap or touch (like [1, 3] and [3, 4]) and returns the result as a list "
            "of [start, end] lists sorted by start. {example}",
            f"Classic one: `{fn}({p})` should take [[5, 8], [1, 3], [3, 4]] and return [[1, 4], [5, 8]] - merge "
            "overlapping or touching intervals, output sorted, each as a two-item list. {example}",
        )
        plan = (
            "Sort by start.",
            "Extend the last merged interval while the next one starts at or before its end.",
        )
    elif structure == "covered_length":
        fn = _pick(rng, ("covered", "total_covered", "busy_time", "covered_length"))
        source = (
            f"def {fn}({p}):\n    total = 0\n    reach = None\n    for start, end in sorted({p}):\n"
            "        if reach is None or start > reach:\n            total += end - start\n            reach = end\n"
            "        elif end > reach:\n            total += end - reach\n            reach = end\n    return total\n"
        )
        misses = (f"def {fn}({p}):\n    return sum(end - start for start, end in {p})\n",
                  source.replace(f"sorted({p})", p))  # fmt: skip
        edge = (([],), ([[0, 5], [3, 7], [10, 11]],), ([[1, 10], [2, 3]],))
        asks = (
            f"Our sensor logs busy periods as [start, end] minute pairs that can overlap. Write `{fn}({p})` "
            "returning how many minutes are covered in total, counting overlapping time once. {example}",
            f"Given a list of [start, end] intervals, possibly overlapping and unsorted, how much of the line do "
            f"they cover? I need `{fn}({p})` to return that length. {{example}}",
        )
        plan = ("Sort by start.", "Add only the part of each interval beyond the furthest end so far.")
    elif structure == "free_slots":
        day_start, day_end = rng.choice(((9, 17), (8, 18), (10, 16)))
        fn, p = _pick(rng, ("free_slots", "gaps", "open_times")), _pick(rng, ("meetings", "busy", "bookings"))
        source = (
            f"def {fn}({p}):\n    free = []\n    t = {day_start}\n    for start, end in sorted({p}):\n"
            "        if start > t:\n            free.append([t, start])\n        t = max(t, end)\n"
            f"    if t < {day_end}:\n        free.append([t, {day_end}])\n    return free\n"
        )
        misses = (
            source.replace("        t = max(t, end)\n", "        t = end\n"),
            source.replace(f"sorted({p})", p),
        )

        def draw(r: random.Random) -> tuple[Any, ...]:
            return (_intervals(r, day_start, day_end),)

        edge = (([],), ([[day_start, day_start + 3], [day_start + 1, day_start + 2], [day_end - 1, day_end]],),
                ([[day_start + 3, day_start + 4], [day_start, day_start + 1]],))  # fmt: skip
        asks = (
            f"My calendar gives me meetings as [start_hour, end_hour] pairs inside a working day from {day_start} "
            f"to {day_end}; they may overlap and aren't sorted. Write `{fn}({p})` that returns the free gaps as a "
            "list of [start, end] lists in time order. {example}",
            f"Write `{fn}({p})`: given meetings as [start, end] hours (all within {day_start}-{day_end}, maybe "
            f"overlapping, any order), return the free [start, end] periods of the {day_start}-{day_end} day, "
            "earliest first. {example}",
        )
        plan = (f"Sort the meetings; walk from {day_start} keeping the latest end so far.",
                f"Each gap before a meeting's start is free, and so is the time after the last end up to {day_end}.")  # fmt: skip
    else:
        fn, p = (
            _pick(rng, ("compress_ranges", "ranges", "summarize", "page_ranges")),
            _pick(rng, ("numbers", "pages", "ids", "values")),
        )
        source = (
            f"def {fn}({p}):\n    parts = []\n    values = sorted(set({p}))\n    i = 0\n    while i < len(values):\n"
            "        j = i\n        while j + 1 < len(values) and values[j + 1] == values[j] + 1:\n            j += 1\n"
            '        parts.append(str(values[i]) if i == j else f"{values[i]}-{values[j]}")\n        i = j + 1\n'
            '    return ",".join(parts)\n'
        )
        misses = (
            source.replace(f"sorted(set({p}))", f"list({p})"),
            source.replace(f"sorted(set({p}))", f"sorted({p})"),
        )

        def draw(r: random.Random) -> tuple[Any, ...]:
            return ([r.randint(1, 20) for _ in range(r.randint(1, 10))],)

        edge = (([],), ([8, 1, 2, 3, 5, 7],), ([4, 4, 5],))
        asks = (
            f"For printing page selections I want `{fn}({p})` to turn a list of page numbers into a short string: "
            "sorted, duplicates dropped, runs of consecutive numbers written as 'first-last', separated by commas, "
            "so [8, 1, 2, 3, 5, 7] gives '1-3,5,7-8'. {example}",
            f"Write `{fn}({p})` that compresses integers into ranges: sort them, remove repeats, and join runs "
            "like 1,2,3 as '1-3' (a lone number stays as is) with commas and no spaces. Empty list -> ''. "
            "{example}",
        )
        plan = (
            "Sort the distinct values.",
            "Find each run of consecutive values.",
            "Write runs as a-b, singles as a.",
        )
    return _Draft(structure, fn, asks, source, plan, edge, draw, misses)


# -------------------------------------------------------------------------------------------- text_formats


def _text_formats(rng: random.Random) -> _Draft:
    structure = _pick(
        rng, ("key_values", "duration_minutes", "price_cents", "compare_versions", "csv_records")
    )
    p = _pick(rng, ("text", "s", "raw", "line"))
    if structure == "key_values":
        sep = rng.choice((";", "&", ","))
        fn = _pick(rng, ("parse_pairs", "parse_settings", "to_dict", "parse_config"))
        source = (
            f'def {fn}({p}):\n    result = {{}}\n    for item in {p}.split({sep!r}):\n        if "=" in item:\n'
            '            key, value = item.split("=", 1)\n            result[key.strip()] = value.strip()\n'
            "    return result\n"
        )
        misses = (source.replace("result[key.strip()] = value.strip()", "result[key] = value"),
                  source.replace('item.split("=", 1)', 'item.split("=")[:2]'))  # fmt: skip

        def draw(r: random.Random) -> tuple[Any, ...]:
            keys = r.sample(("name", "city", "mode", "lang", "size", "theme"), r.randint(1, 4))
            items = [f"{r.choice(('', ' '))}{k}{r.choice(('=', ' = '))}{r.choice(('dark', 'en', 'Oslo', 'a=b', '42'))}"
                     for k in keys]  # fmt: skip
            return (sep.join(items),)

        edge: tuple[tuple[Any, ...], ...] = (("",), (f"name = Ann{sep} url=a=b",))
        asks = (
            f"A config string looks like 'name=Ann{sep} city = Oslo'. Write `{fn}({p})` that returns a dict of the "
            f"pairs: items separated by '{sep}', key and value split at the first '=', surrounding spaces removed; "
            "skip items without '='. {example}",
            f"Can you write `{fn}({p})` to parse 'key=value' pairs joined by '{sep}' into a dict of strings? Trim "
            "spaces around keys and values, split only on the first '=' (values may contain '='), and ignore "
            "empty or '='-less pieces. {example}",
        )
        plan = (f"Split on {sep!r}.", "Split each item at its first '=' and strip both sides.")
    elif structure == "duration_minutes":
        fn = _pick(rng, ("to_minutes", "parse_duration", "duration_in_minutes", "minutes"))
        source = (
            f"import re\n\n\ndef {fn}({p}):\n    total = 0\n"
            f'    for number, unit in re.findall(r"(\\d+)\\s*([hm])", {p}):\n'
            '        total += int(number) * (60 if unit == "h" else 1)\n    return total\n'
        )
        misses = (source.replace('(60 if unit == "h" else 1)', "1"),
                  f"def {fn}({p}):\n    return int({p}.split(\"h\")[0]) * 60 if \"h\" in {p} else int({p}.rstrip(\"m\"))\n")  # fmt: skip

        def draw(r: random.Random) -> tuple[Any, ...]:
            parts = []
            if r.random() < 0.7:
                parts.append(f"{r.randint(1, 12)}h")
            if r.random() < 0.7 or not parts:
                parts.append(f"{r.randint(1, 59)}m")
            return (r.choice((" ", "", "  ")).join(parts),)

        edge = (("1h 30m",), ("45m",), ("2h",))
        asks = (
            f"Timesheets have durations like '1h 30m', '45m' or '2h'. Write `{fn}({p})` that returns the total "
            "number of minutes as an int. {example}",
            f"I need `{fn}({p})` to parse strings such as '2h 5m' (hours and/or minutes, maybe no space between) "
            "into minutes. {example}",
        )
        plan = ("Find each number with its unit h or m.", "Add hours × 60 and minutes.")
    elif structure == "price_cents":
        fn = _pick(rng, ("to_cents", "price_in_cents", "parse_price", "cents"))
        source = (
            f'def {fn}({p}):\n    dollars, _, cents = {p}.replace("$", "").replace(",", "").partition(".")\n'
            '    return int(dollars) * 100 + int(cents.ljust(2, "0") or 0)\n'
        )
        misses = (f"def {fn}({p}):\n    return int({p}.replace(\"$\", \"\").replace(\",\", \"\").replace(\".\", \"\"))\n",
                  source.replace('int(cents.ljust(2, "0") or 0)', "int(cents or 0)"))  # fmt: skip

        def draw(r: random.Random) -> tuple[Any, ...]:
            dollars = r.choice((r.randint(0, 99), r.randint(100, 99999)))
            cents = r.choice(("", f".{r.randint(0, 99):02d}", f".{r.randint(1, 9)}"))
            return (f"${dollars:,}{cents}",)

        edge = (("$1,234.50",), ("$7",), ("$0.99",), ("$3.5",))
        asks = (
            f"Prices come in as strings like '$1,234.50', '$7' or '$3.5'. Write `{fn}({p})` that returns the "
            "amount as an integer number of cents (123450, 700, 350), without going through floats. {example}",
            f"Write `{fn}({p})`: turn a dollar string with an optional thousands comma and optional cents (one "
            "or two digits) into whole cents. {example}",
        )
        plan = (
            "Drop '$' and commas; split at the dot.",
            "Dollars × 100 plus the cents, padded to two digits.",
        )
    elif structure == "compare_versions":
        fn = _pick(rng, ("compare_versions", "version_cmp", "cmp_versions", "compare"))
        a, b = _pick(rng, (("a", "b"), ("v1", "v2"), ("left", "right")))
        source = (
            f'def {fn}({a}, {b}):\n    x = [int(part) for part in {a}.split(".")]\n'
            f'    y = [int(part) for part in {b}.split(".")]\n'
            "    size = max(len(x), len(y))\n    x += [0] * (size - len(x))\n    y += [0] * (size - len(y))\n"
            "    return (x > y) - (x < y)\n"
        )
        misses = (f"def {fn}({a}, {b}):\n    return ({a} > {b}) - ({a} < {b})\n",
                  source.replace("    size = max(len(x), len(y))\n    x += [0] * (size - len(x))\n    y += [0] * (size - len(y))\n", ""))  # fmt: skip

        def draw(r: random.Random) -> tuple[Any, ...]:
            def version() -> str:
                return ".".join(str(r.choice((0, 1, 2, 9, 10, 11))) for _ in range(r.randint(1, 3)))

            return (version(), version())

        edge = (("1.10", "1.9"), ("1.0", "1"), ("2.0.1", "2.1"))
        asks = (
            f"Write `{fn}({a}, {b})` that compares two version strings like '1.10.2' and '1.9': return 1 if {a} "
            f"is newer, -1 if {b} is newer, 0 if they're the same. Compare number by number, and treat missing parts as "
            "0 ('1.0' equals '1'). {example}",
            f"String comparison gets '1.10' vs '1.9' wrong. Can you write `{fn}({a}, {b})` returning -1, 0 or 1 by "
            "comparing the dot-separated numbers in order (a shorter version is padded with zeros)? {example}",
        )
        plan = ("Split both into integer lists.", "Pad the shorter with zeros.", "Compare the lists.")
    else:
        sep = rng.choice((",", ";"))
        fn = _pick(rng, ("parse_csv", "read_rows", "csv_to_dicts", "load_table"))
        source = (
            f"def {fn}({p}):\n    lines = [line for line in {p}.splitlines() if line.strip()]\n    if not lines:\n"
            f"        return []\n    header = lines[0].split({sep!r})\n"
            f"    return [dict(zip(header, line.split({sep!r}))) for line in lines[1:]]\n"
        )
        misses = (source.replace("for line in lines[1:]", "for line in lines"),
                  source.replace(f"{p}.splitlines() if line.strip()", f"{p}.splitlines()"))  # fmt: skip

        def draw(r: random.Random) -> tuple[Any, ...]:
            cols = r.sample(("name", "age", "city", "team"), r.randint(1, 3))
            rows = [
                sep.join(r.choice(("Ann", "7", "Oslo", "red", "x")) for _ in cols)
                for _ in range(r.randint(0, 4))
            ]
            return ("\n".join([sep.join(cols), *rows]) + r.choice(("", "\n", "\n\n")),)

        edge = (("",), (f"name{sep}age\nAnn{sep}31\n\nBo{sep}4\n",))
        asks = (
            f"Write `{fn}({p})` that takes CSV text separated by '{sep}' (first line is the header, no quoting) and "
            "returns a list of dicts, one per data row, mapping header names to the row's string values. Skip "
            "blank lines; empty text gives []. {example}",
            f"I get small exports like 'name{sep}age\\nAnn{sep}31\\nBo{sep}4'. Can you write `{fn}({p})` that "
            f"turns that into [{{'name': 'Ann', 'age': '31'}}, {{'name': 'Bo', 'age': '4'}}]? Values stay strings, blank "
            "lines are ignored. {example}",
        )
        plan = ("Drop blank lines; the first is the header.", "Zip each other line's fields with the header.")
    return _Draft(structure, fn, asks, source, plan, edge, draw, misses)


# ----------------------------------------------------------------------------------------------- assembly

_GENERATORS: dict[str, Callable[[random.Random], _Draft]] = {
    "records_query": _records_query,
    "grouping_counts": _grouping_counts,
    "text_cleanup": _text_cleanup,
    "date_strings": _date_strings,
    "matrix_grid": _matrix_grid,
    "input_validation": _input_validation,
    "intervals_ranges": _intervals_ranges,
    "text_formats": _text_formats,
}
assert list(_GENERATORS) == list(NATURAL_FAMILIES)

_EXAMPLE_SENTENCES = ("E.g. `{call}` should return `{result}`.", "So `{call}` would give `{result}`.",
                      "For instance, `{call}` -> `{result}`.")  # fmt: skip


def _test_cases(rng: random.Random, draft: _Draft) -> list[tuple[tuple[Any, ...], Any]]:
    """Edge cases, then random ones, then more random ones until every near miss fails one of them."""
    reference = reference_function(draft.source, draft.function)
    cases: list[tuple[tuple[Any, ...], Any]] = []
    seen: set[str] = set()

    def add(args: tuple[Any, ...]) -> None:
        if repr(args) not in seen:
            seen.add(repr(args))
            cases.append((args, reference(*copy.deepcopy(args))))

    for args in draft.edge:
        add(args)
    for _ in range(_MAX_DRAWS):
        if len(cases) >= len(draft.edge) + RANDOM_CASES:
            break
        add(draft.draw(rng))
    for miss in draft.near_misses:
        wrong = reference_function(miss, draft.function)
        for _ in range(_MAX_DRAWS):
            if any(_outcome(wrong, args) != ("ok", expected) for args, expected in cases):
                break
            add(draft.draw(rng))
        else:
            raise RuntimeError(f"no test rejects a near miss of {draft.structure}:\n{miss}")
    return cases


def _normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def natural_examples(n: int, *, seed: int = 0) -> list[Example]:
    """``n`` natural coding requests, dealt round-robin over :data:`NATURAL_FAMILIES`; ids count within each
    family (``coding/natural/<family>/00000``). The answer is the function's name, as for generated tasks.

    Raises:
        SrmzooError: ``n`` or ``seed`` is not a non-negative integer.

    >>> ex = natural_examples(3)[2]
    >>> ex.id, ex.meta["function"] in ex.question, ex.meta["tests"].startswith(f"assert {ex.answer}(")
    ('coding/natural/text_cleanup/00000', True, True)
    """
    check_counts(n=n, seed=seed, example=200)
    families = list(NATURAL_FAMILIES)
    seen: set[str] = set()
    out = []
    for i in range(n):
        family, index = families[i % len(families)], i // len(families)
        digest = hashlib.sha256(f"coding|natural|{family}|{seed}|{index}".encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], "big"))
        for _ in range(_MAX_DRAWS):
            draft = _GENERATORS[family](rng)
            t = rng.randrange(len(draft.asks))
            request = _normalised(draft.asks[t].replace("{example}", ""))
            if request not in seen:
                break
        else:
            raise RuntimeError(
                f"no new {family} request in {_MAX_DRAWS} draws: the family's space is too small"
            )
        seen.add(request)
        cases = _test_cases(rng, draft)
        example = ""
        if rng.random() < 0.6:
            args, result = cases[min(len(draft.edge), len(cases) - 1)]
            example = rng.choice(_EXAMPLE_SENTENCES).format(
                call=_call(draft.function, args), result=repr(result)
            )
        question = draft.asks[t].replace("{example}", example).strip()
        tests = "".join(f"assert {_call(draft.function, args)} == {expected!r}\n" for args, expected in cases)
        out.append(
            Example(
                id=f"coding/natural/{family}/{index:05d}",
                family=family,
                question=question,
                answer=draft.function,
                solution="\n".join([*draft.plan, python_block(draft.source)]),
                meta={
                    "answer_kind": "code",
                    "tests": tests,
                    "function": draft.function,
                    "structure": draft.structure,
                    "template": t,
                    "near_misses": list(draft.near_misses),
                    "split": "natural",
                },
            )
        )
    return out
