"""The surface forms of healthcare training questions (``data.phrasing: varied``, :mod:`srmzoo.phrasing`).

A question is a note, then the ask (what to calculate, the convention, the answer's unit and precision).
Varied wordings put a request around it, may put the ask before the note and may add a sentence that no
calculator scores (who came to the visit, what the patient does for a living). The note's values stay in
digits and units as written: the traces quote them (``grounded``) and convert them.
"""

from __future__ import annotations

from srmzoo.phrasing import SurfaceForms

__all__ = ["SURFACE_FORMS"]

OPENERS = (
    "", "Clinical question: ", "Can you help with this calculation? ", "Please work this out from the note. ",
    "From the ward: ", "Quick check, please. ", "I need this for the chart. ", "Here is a case. ",
    "A colleague asked me this. ", "Case for review: ", "Help me with this patient. ",
)  # fmt: skip
CLOSERS = (
    "", " Thanks.", " Please show the working.", " Double-check the units.", " Show each step briefly.",
    " Thank you!",
)  # fmt: skip
DISTRACTORS = (
    "A relative came along to the visit.", "The visit took place on a weekend.", "The patient works as a teacher.",
    "The patient has {k} grandchildren.", "The patient lives with a partner and a dog.",
    "The clinic was busy this morning.", "The patient asks whether they can drive home.",
    "The patient travelled {k} km to the appointment.",
)  # fmt: skip

SURFACE_FORMS = SurfaceForms(openers=OPENERS, closers=CLOSERS, distractors=DISTRACTORS)
