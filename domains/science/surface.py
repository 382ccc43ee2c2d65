"""The surface forms of science training questions (``data.phrasing: varied``, :mod:`srmzoo.phrasing`).

A request around the question, the ask moved before or after what it is about, and a sentence that does not
matter to the answer. SMILES, sequences and every token with a digit or a bond symbol are never touched.
"""

from __future__ import annotations

from srmzoo.phrasing import SurfaceForms

__all__ = ["SURFACE_FORMS"]

OPENERS = (
    "", "Quick question: ", "For my lab report: ", "Homework help, please. ", "I'm revising for an exam. ",
    "Can you work this out? ", "Please help. ", "Here's one I'm unsure about: ", "Check this for me: ",
    "Question: ", "Hi! ", "I'd like a second opinion. ",
)  # fmt: skip
CLOSERS = ("", " Thanks!", " Keep it short.", " Show your reasoning.", " Thanks a lot.", " Explain briefly.")
DISTRACTORS = (
    "{name} and I disagree on this one.", "It came up in last week's tutorial.",
    "My textbook doesn't explain it well.", "This is for a problem set due Friday.", "{name} gave me this one.",
    "We covered this in lecture {k}.",
)  # fmt: skip
# a SMILES, a sequence, a formula or anything else with a digit or a bond symbol, without the punctuation
# that ends its sentence
PROTECT = r"\S*[\d()=#\[\]@+\\/]\S*?(?=[.,;:?!]*(?:\s|$))|\b[ACGTU]{4,}\b"

SURFACE_FORMS = SurfaceForms(openers=OPENERS, closers=CLOSERS, distractors=DISTRACTORS, protect=PROTECT)
