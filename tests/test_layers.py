"""The import graph of audit/, dashboard/ and suites/ has no cycle and points one way.

Every import (at module level or inside a function: a lazy import is still a dependency) is
read from the source with `ast`, never by importing it. `LAYERS` declares the order once,
lowest first; a module belongs to the layer of the longest prefix that names it, and may
import only modules of its own layer or a lower one. A registry entry written as a
"module:object" string is not an import: that is how the registry names what it loads
without depending on it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("audit", "dashboard", "suites")

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Helpers with no knowledge of models or runs: errors, paths, hashing, statistics,
    # evidence grades, text cleaning and value formatting, energy metering, downloads.
    ("foundation", ("audit", "audit.errors", "audit.paths", "audit.integrity",
                    "audit.yamlfile", "audit.stats", "audit.metrics", "audit.evidence",
                    "audit.redaction", "audit.environment", "audit.energy", "audit.fetch",
                    "audit.runlock", "audit.policies", "audit.text", "audit.formatting",
                    "audit.families", "audit.progress", "audit.quiet", "audit.sequential")),
    # What a run is asked to do, and the option and result types every model plugin shares.
    ("config", ("audit.config", "audit.models.base")),
    ("registry", ("audit.registry",)),
    # The numerical kernels a model backend wraps weights in (no knowledge of suites or runs).
    ("engine", ("audit.engine",)),
    ("models", ("audit.models",)),
    ("suites", ("audit.suites", "audit.data", "audit.bias", "audit.multilingual",
                "audit.misuse", "audit.judges", "suites")),
    ("execution", ("audit.execution", "audit.request_store", "audit.decision")),
    ("runfolder", ("audit.runfolder",)),
    ("runs", ("audit.runstart", "audit.runner", "audit.rescore")),
    ("policy", ("audit.policy",)),
    ("report", ("audit.report",)),
    ("dashboard", ("dashboard",)),
    ("cli", ("audit.cli",)),
)


def module_name(path: Path) -> str:
    """`audit/report/build.py` -> `audit.report.build`; a package's `__init__` is the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    """Every Python module of the three packages, by dotted name."""
    return {module_name(path): path for package in PACKAGES
            for path in sorted((ROOT / package).rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project modules `path` imports (`from a import b` counts as `a.b` when that is a
    module, else as `a`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            targets = {f"{node.module}.{alias.name}" for alias in node.names}
            submodules = targets & known
            found.update(submodules)
            if submodules != targets:
                found.add(node.module)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (itself left out)."""
    modules = project_modules()
    known = set(modules)
    return {name: imports_of(path, known) - {name} for name, path in modules.items()}


def layer_of(module: str) -> int:
    """The index in `LAYERS` of the longest declared prefix of `module`."""
    best, best_length = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    return best


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import from a module to a module of a higher layer, as readable lines."""
    return [f"{source} ({LAYERS[layer_of(source)][0]}) imports {target} "
            f"({LAYERS[layer_of(target)][0]})"
            for source in sorted(graph) for target in sorted(graph[source])
            if layer_of(target) > layer_of(source)]


def test_every_module_has_a_layer() -> None:
    unplaced = [name for name in project_modules() if layer_of(name) < 0]
    assert not unplaced, f"modules in no declared layer: {unplaced}"


def test_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_imports_point_down() -> None:
    upward = upward_imports(import_graph())
    assert not upward, "imports that point up the layers:\n" + "\n".join(upward)


def test_the_checks_see_a_cycle_and_an_upward_import() -> None:
    """The two checks themselves: a made-up graph with a cycle and an upward arrow."""
    graph = {"audit.stats": {"audit.policy"}, "audit.policy": {"audit.stats"},
             "audit.cli": {"audit.errors"}, "audit.errors": set()}
    assert cycles(graph) == [["audit.policy", "audit.stats"]]
    assert upward_imports(graph) == ["audit.stats (foundation) imports audit.policy (policy)"]


def test_dashboard_reads_run_folders_only_through_frames() -> None:
    """README: the dashboard reads run folders only through `audit.report.frames`."""
    graph = import_graph()
    direct = sorted(f"{source} imports {target}" for source in graph
                    if source.startswith("dashboard") for target in graph[source]
                    if target.startswith("audit.runfolder") or target == "audit.report.runfolder")
    assert not direct, "\n".join(direct)
