"""Every hostile input of tests/hostile/cases.py's modules gives exactly the outcome its case states."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("hostile_cases", Path(__file__).parent / "hostile" / "cases.py")
cases = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = cases
_spec.loader.exec_module(cases)

CASES = cases.load_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hostile_input_gets_its_stated_outcome(case, tmp_path):
    assert case.run(tmp_path) == case.expected
