"""Layers import downward only (design.md §2): knowledge → domain → engine → assess → adapters.

Walks the AST of every module and fails on an import of a higher layer, so the direction is a
test, not a convention. ``errors`` sits below everything; ``registry`` and ``simulation`` (ADR 0024) sit above
``assess``, beside each other and below the adapters.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "cmvcds"

#: Rank of each top-level part; a module may import parts of equal or lower rank only.
RANK = {
    "errors": 0,
    "knowledge": 1,
    "domain": 2,
    "engine": 3,
    "assess": 4,
    "registry": 5,
    "simulation": 5,
    "adapters": 6,
    "__init__": 7,
    "__main__": 7,
}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name == "cmvcds" or name.startswith("cmvcds.")]


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_downward(path: Path) -> None:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    own = _part(".".join(relative.parts))
    for line, name in _imports(path):
        target = _part(name) if name != "cmvcds" else "__init__"
        assert RANK[target] <= RANK[own], (
            f"{path.relative_to(PACKAGE)}:{line} imports {name}: layer {own!r} may not import {target!r}"
        )


def test_no_relative_imports() -> None:
    """Relative imports would escape the layer check above (it reads absolute module names)."""
    relative = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in _modules()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]
    assert relative == []


def test_every_part_has_a_rank() -> None:
    parts = {
        p.name.removesuffix(".py") for p in PACKAGE.iterdir() if p.suffix == ".py" or p.is_dir()
    }
    parts -= {"__pycache__", "py.typed"}
    assert parts <= set(RANK), f"unranked parts: {parts - set(RANK)}"


def test_an_upward_import_is_caught(tmp_path: Path) -> None:
    """The check itself can fail: an engine module importing an adapter is reported."""
    module = tmp_path / "bad.py"
    module.write_text("from cmvcds.adapters.cli import main\n")
    assert _imports(module) == [(1, "cmvcds.adapters.cli")]
    assert RANK[_part("cmvcds.adapters.cli")] > RANK["engine"]
