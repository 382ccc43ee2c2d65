"""The surface forms of math training questions (``data.phrasing: varied``, :mod:`srmzoo.phrasing`).

Word problems and percentages get every form: a paraphrased request around the question, the ask moved
first, an irrelevant sentence, dollars, percent signs and kilometres spelled out, small numbers in words.
Arithmetic, fraction and equation items keep their expression as written (the ``direct`` traces copy it into
the calculator call, and "thirteen minus sixteen divided by four" is not how people write one), so they vary
by the request around it and by a distractor.
"""

from __future__ import annotations

from dataclasses import replace

from srmzoo.phrasing import SurfaceForms

__all__ = ["EXPRESSION_FAMILIES", "EXPRESSION_FORMS", "SURFACE_FORMS"]

EXPRESSION_FAMILIES = ("arithmetic", "fractions", "linear_equation")

OPENERS = (
    "", "Quick question: ", "Can you help me with this? ", "Here's one from my homework: ",
    "I'm stuck on this problem. ", "Please solve this. ", "Hi! ", "Help me work this out: ", "Math problem: ",
    "I want to check my answer. ", "My teacher gave us this one. ", "Try this one: ",
)  # fmt: skip
CLOSERS = (
    "", " Thanks!", " Please show your steps.", " Walk me through it.", " What do you get?",
    " Thanks in advance.", " I keep getting it wrong.",
)  # fmt: skip
DISTRACTORS = (
    "{name} is saving up for a new bike.", "{name} has {k} cousins.", "It is a rainy Saturday morning.",
    "{name}'s dog is {k} years old.", "The shop opens at {k} o'clock.", "{name} keeps notes in a blue notebook.",
    "Last week was cold and windy.", "{name} walks {k} minutes to school.",
)  # fmt: skip
UNITS = (
    (r"\ba \$(\d+) ", r"a \1-dollar "),  # "a $100 bill" -> "a 100-dollar bill"
    (r"\$(\d+(?:\.\d+)?)", r"\1 dollars"),
    (r"(\d)%", r"\1 percent"),
    (r"\bkm/h\b", "kilometres per hour"),
    (r"\bkm\b", "kilometres"),
    (r"\blitres\b", "liters"),
)

SURFACE_FORMS = SurfaceForms(
    openers=OPENERS, closers=CLOSERS, distractors=DISTRACTORS, units=UNITS, number_words=True
)
EXPRESSION_FORMS = replace(SURFACE_FORMS, units=(), number_words=False)
