r"""The healthcare domain: clinical calculations in the style of MedCalc-Bench, and medical multiple choice.

For research and education only; not for clinical decisions (:data:`RESEARCH_DISCLAIMER`).

* Generated data (:mod:`.calculator_tasks`): 17 calculators, each a family -- BMI, BSA, MAP, anion gap,
  corrected calcium, QTc (Bazett, Fridericia), Cockcroft-Gault, Devine ideal and adjusted body weight,
  4-2-1 maintenance fluids, CHA2DS2-VASc, HAS-BLED, CURB-65, Wells (PE), GCS and MELD-Na. A short note in
  mixed units with distractors, a question stating the conventions, a worked solution ending in
  ``\boxed{value}``. How the train/test/ood splits are kept apart is documented there.
* Verifiers: :mod:`.verify` (numbers, exact or within the stated tolerance) and
  :mod:`.benchmarks` (option letters).
* Hub data, when online: :func:`load_medical_qa` turns MedQA / MedMCQA / PubMedQA rows into the same
  :class:`~srmzoo.domain.Example` rows; no medical QA data ships with the package.
* Cross-check of the gold values against the ``medcalc-bench`` package: :mod:`.crosscheck`, whose table
  is ``CROSSCHECK.md``.

Usage::

    from srmzoo.domain import get_domain
    hc = get_domain("healthcare")
    train = hc.examples("train", 5000)          # round-robin over the 17 calculators
    hc.check(completion, train[0]).verdict
"""

from __future__ import annotations

from srmzoo.domain import register_reward

from .benchmarks import QA_SOURCES, load_medical_qa
from .domain import RESEARCH_DISCLAIMER, HealthcareDomain
from .rewards import healthcare_correct, healthcare_format

__all__ = [
    "QA_SOURCES",
    "RESEARCH_DISCLAIMER",
    "HealthcareDomain",
    "healthcare_correct",
    "healthcare_format",
    "load_medical_qa",
]

register_reward("healthcare_correct")(healthcare_correct)
register_reward("healthcare_format")(healthcare_format)
