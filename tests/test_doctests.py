"""Every docstring example in srmzoo and its domains runs, under the modules' installed names.

(pytest's --doctest-modules would import zoo/ as ``zoo.*`` beside ``srmzoo.*``: two copies of each
module and of each registry. Walking the installed package avoids that.)
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import srmzoo
import srmzoo.domains

SKIP = {"srmzoo.cli", "srmzoo.sandbox.__main__"}  # entry points; covered by tests/test_cli.py, tests/test_sandbox.py


def _modules() -> list[str]:
    names = []
    for pkg in (srmzoo, srmzoo.domains):
        names.append(pkg.__name__)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=pkg.__name__ + "."):
            if info.name.startswith("srmzoo.domains.") and pkg is srmzoo:
                continue
            if info.name not in SKIP:
                names.append(info.name)
    return sorted(set(names))


@pytest.mark.parametrize("module_name", _modules())
def test_docstring_examples(module_name):
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctests failed in {module_name}"
