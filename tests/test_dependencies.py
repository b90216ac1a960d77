"""Every runtime dependency declared in pyproject.toml is imported by the code that needs it."""

from __future__ import annotations

import ast
import re
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent
CODE = ("audit", "dashboard")


def _imported_modules() -> set[str]:
    found: set[str] = set()
    for folder in CODE:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module.split(".")[0])
    return found


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_declared_dependency_is_imported() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    distributions = {_normalise(re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0]) for d in declared}
    modules_of: dict[str, set[str]] = {}
    for module, owners in packages_distributions().items():
        for owner in owners:
            modules_of.setdefault(_normalise(owner), set()).add(module)
    imported = _imported_modules()
    unused = sorted(d for d in distributions if not modules_of.get(d, set()) & imported)
    assert not unused, f"declared in pyproject.toml but imported nowhere in {CODE}: {unused}"
