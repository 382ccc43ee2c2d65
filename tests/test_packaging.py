"""The built wheel carries the whole product: core, domains, recipes, card templates, manifests, configs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"zoo": "srmzoo", "domains": "srmzoo/domains", "recipes": "srmzoo/recipes",
           "model_cards": "srmzoo/model_cards", "data_manifests": "srmzoo/data_manifests"}
SHIPPED_SUFFIXES = {".py", ".json", ".yaml", ".md"}


def test_wheel_contains_every_source_and_data_file(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    wheel = next(tmp_path.glob("srmzoo-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = set()
    for src, dst in MAPPING.items():
        for path in (ROOT / src).rglob("*"):
            if path.suffix in SHIPPED_SUFFIXES and "__pycache__" not in path.parts and path.is_file():
                rel = path.relative_to(ROOT / src)
                if src == "zoo" and rel.parts[0] not in ("base_configs", "testing") and len(rel.parts) > 1:
                    continue
                if path.suffix == ".md" and src in ("zoo", "recipes"):
                    continue
                expected.add(f"{dst}/{rel.as_posix()}")
    assert expected, "nothing to check"
    missing = sorted(expected - names)
    assert not missing, f"missing from the wheel: {missing}"
    assert any(n.startswith("srmzoo/recipes/") and n.endswith(".yaml") for n in names)
