"""The package layout as a test: read zoo/ with ``ast`` (nothing is imported) and fail on an import cycle,
on a layer importing one above it (docs/architecture.md draws them), on the core naming a domain, and on
a module importing another module's ``_private`` name."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ZOO = Path(__file__).resolve().parent.parent / "zoo"

# Lower layers never import higher ones; a layer may import itself and everything below it.
# Data flows recipe -> data -> model -> trainer -> adapter -> eval -> card -> hub.
LAYERS: dict[str, int] = {
    "core": 0,  # errors, version, hardware, tools, prompting, recipe, bases, store, artifacts, domain, registry, ...
    "sandbox": 0,
    "backends": 1,
    "eval": 2,
    "train": 3,
    "publish": 3,
    "app": 4,  # reasoner, reproduce, cli, testing, serve: they put the stages together for a user
}
APP_MODULES = {"srmzoo.reasoner", "srmzoo.reproduce", "srmzoo.cli"}
# Pairs of layers on one level that must still not meet.
FORBIDDEN = {("eval", "train"), ("eval", "publish"), ("train", "publish"), ("publish", "train")}


def module_name(path: Path) -> str:
    rel = path.relative_to(ZOO).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(["srmzoo", *parts])


def layer(module: str) -> str:
    if module in APP_MODULES:
        return "app"
    parts = module.split(".")
    if len(parts) > 2 and parts[1] in LAYERS:
        return parts[1]
    if len(parts) > 1 and parts[1] in ("testing", "serve"):
        return "app"
    return "core"


def _type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(path: Path) -> Iterator[tuple[str, str, int]]:
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    return parse_imports(path.read_text(), package)


def parse_imports(source: str, package: str) -> Iterator[tuple[str, str, int]]:
    """(imported module, imported name or "", line) for every import in ``source`` (a module of
    ``package``), function-level ones included (a lazy import is still a dependency); ``if TYPE_CHECKING:``
    blocks are left out."""
    tree = ast.parse(source)
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _type_checking(node)
            for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, "", node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                yield target, alias.name, node.lineno


MODULES = {module_name(p): p for p in sorted(ZOO.rglob("*.py"))}


def resolve(target: str, name: str) -> str | None:
    """The zoo module an import reaches: ``from srmzoo.eval import run`` reaches ``srmzoo.eval.run``."""
    if name and f"{target}.{name}" in MODULES:
        return f"{target}.{name}"
    return target if target in MODULES else None


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for target, name, _ in imports(path):
            reached = resolve(target, name)
            if reached and reached != module and reached != "srmzoo":
                edges[module].add(reached)
    return edges


def test_the_tree_is_read():
    assert len(MODULES) > 30 and {"srmzoo.artifacts", "srmzoo.eval.run", "srmzoo.train.sft"} <= set(MODULES)
    assert sum(len(v) for v in graph().values()) > 50


def test_no_import_cycle_between_modules():
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_every_import_goes_down_the_layers():
    wrong = []
    for module, targets in graph().items():
        for target in targets:
            a, b = layer(module), layer(target)
            if LAYERS[b] > LAYERS[a] or (a, b) in FORBIDDEN:
                wrong.append(f"{module} ({a}) imports {target} ({b})")
    assert not wrong, "\n".join(sorted(wrong))


def test_eval_never_imports_train():
    wrong = [f"{m} -> {t}" for m, ts in graph().items() for t in ts
             if m.startswith("srmzoo.eval") and t.startswith("srmzoo.train")]
    assert not wrong


def test_only_the_command_line_imports_serve():
    """serve imports the reasoner, never the reverse: the server is a layer over the library."""
    wrong = [f"{m} -> {t}" for m, ts in graph().items() for t in ts
             if t.startswith("srmzoo.serve") and not m.startswith("srmzoo.serve") and m != "srmzoo.cli"]
    assert not wrong, "\n".join(sorted(wrong))


def test_the_core_names_no_domain():
    wrong = []
    for path in MODULES.values():
        for target, name, line in imports(path):
            full = f"{target}.{name}" if name else target
            if full.startswith("srmzoo.domains.") or target.startswith("domains"):
                wrong.append(f"{path.relative_to(ZOO.parent)}:{line} imports {full}")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_another_modules_private_name():
    wrong = []
    for path in MODULES.values():
        for target, name, line in imports(path):
            if resolve(target, name) and name.startswith("_") and not name.startswith("__"):
                wrong.append(f"{path.relative_to(ZOO.parent)}:{line} imports {target}.{name}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("source, expected", [
    ("from .errors import X\n", {("srmzoo.train.errors", "X")}),
    ("from ..errors import X\n", {("srmzoo.errors", "X")}),
    ("def f():\n    from ..eval import run\n", {("srmzoo.eval", "run")}),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..cli import main\n", {("typing", "TYPE_CHECKING")}),
])
def test_the_reader_resolves_relative_lazy_and_type_checking_imports(source, expected):
    assert {(t, n) for t, n, _ in parse_imports(source, "srmzoo.train")} == expected
