"""The surface forms of coding training questions (``data.phrasing: varied``, :mod:`srmzoo.phrasing`).

A request around the task, the ask after the code instead of before it, a sentence of context that does not
change the task, and small numbers of the task's description in words ("at two each"). Code blocks and
inline code are never touched.
"""

from __future__ import annotations

from srmzoo.phrasing import SurfaceForms

__all__ = ["SURFACE_FORMS"]

OPENERS = (
    "", "I'm working on a small script. ", "Can you help with this Python task? ", "Python question: ",
    "Quick one: ", "Interview practice: ", "Please help. ", "Here's a task for you. ", "I need this for work. ",
    "Could you do this for me? ", "Hi! ",
)  # fmt: skip
CLOSERS = ("", " Thanks!", " Keep it simple.", " Explain briefly.", " Thanks in advance.")
DISTRACTORS = (
    "{name} wrote the first version of this.", "It's part of a larger project.",
    "The code runs inside a Jupyter notebook.", "Speed doesn't matter here.", "I've been at this for {k} minutes.",
    "This is for a class assignment.",
)  # fmt: skip

SURFACE_FORMS = SurfaceForms(
    openers=OPENERS, closers=CLOSERS, distractors=DISTRACTORS, number_words=True, protect=r"`[^`\n]+`"
)
