"""The package layout holds: imports run one way, read from the source with `ast`.

Rules (README, "How the code is laid out"): no import circles; each subpackage imports only the
ones below it (`ALLOWED`); `batch` and `calibration` never import each other; no module imports
another module's `_private` name; the CLI uses only what the subpackages export; measuring
agreement never imports the fitter; no module over 400 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mtqa"
MAX_LINES = 400

#: Subpackage -> the subpackages (itself included) its modules may import.
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "models": {"core", "models"},
    "checks": {"core", "checks"},
    "source": {"core", "models", "checks", "source"},
    "scoring": {"core", "models", "checks", "source", "scoring"},
    "corpus": {"core", "corpus"},
    "report": {"core", "report"},
    "batch": {"core", "models", "checks", "source", "scoring", "corpus", "report", "batch"},
    "calibration": {"core", "models", "checks", "source", "scoring", "calibration"},
}
TOP_LEVEL = {"mtqa", "mtqa.cli"}  # with mtqa.cli.*: may import any subpackage's exports


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, str]]:
    """(imported module, imported name or "") for every import outside TYPE_CHECKING blocks."""
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, "") for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.extend((target, alias.name) for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, list[tuple[str, str]]]:
    """Module -> its imports of mtqa modules (a `from pkg import module` counts as the module)."""
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, list[tuple[str, str]]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges = []
        for target, name in _imports(tree, module, path.name == "__init__.py"):
            if target != "mtqa" and not target.startswith("mtqa."):
                continue
            if f"{target}.{name}" in files:  # `from .report import html`: the module itself
                target, name = f"{target}.{name}", ""
            edges.append((target, name))
        graph[module] = edges
    return graph


def subpackage(module: str) -> str | None:
    parts = module.split(".")
    if module in TOP_LEVEL or module.startswith("mtqa.cli."):
        return None
    return parts[1] if len(parts) > 1 else None


def find_cycle(graph: dict[str, list[tuple[str, str]]]) -> list[str] | None:
    """One import circle among modules, or None. A package's `__init__` importing its own
    modules is not a circle by itself; a module importing its package's `__init__` back is."""
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for target, _ in graph.get(node, []):
            if target not in graph or target == node:
                continue
            if colour.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if colour.get(target) is None:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        colour[node] = 2
        return None

    for node in sorted(graph):
        if node not in colour:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def violations(graph: dict[str, list[tuple[str, str]]]) -> list[str]:
    """Every broken layout rule, in words."""
    problems = []
    cycle = find_cycle(graph)
    if cycle:
        problems.append("import circle: " + " -> ".join(cycle))
    for module, edges in sorted(graph.items()):
        mine = subpackage(module)
        for target, name in edges:
            if target not in graph:
                problems.append(f"{module} imports {target}, which does not exist")
                continue
            theirs = subpackage(target) if target != "mtqa" else "mtqa"
            if mine is not None and theirs not in ALLOWED[mine]:
                problems.append(f"{module} imports {target}: {mine} may not import {theirs}")
            if name.startswith("_") and not name.startswith("__") and target != module:
                problems.append(f"{module} imports the private name {name} from {target}")
            cli = module.startswith("mtqa.cli")
            if cli and not target.startswith("mtqa.cli") and target.count(".") > 1:
                problems.append(f"{module} imports {target}: use what the subpackage exports")
            if module == "mtqa.calibration.agreement" and target == "mtqa.calibration.fit":
                problems.append("agreement imports the fitter")
    return problems


def test_the_package_keeps_its_layout() -> None:
    assert violations(import_graph()) == []


def test_a_circle_is_caught() -> None:
    graph = import_graph()
    graph["mtqa.core.errors"] = graph["mtqa.core.errors"] + [("mtqa.core.result", "Span")]
    graph["mtqa.core.result"] = graph["mtqa.core.result"] + [("mtqa.core.errors", "MtqaError")]
    assert any(p.startswith("import circle") for p in violations(graph))


@pytest.mark.parametrize(
    ("module", "target", "name"),
    [
        ("mtqa.core.config", "mtqa.scoring.scorer", "Scorer"),  # core imports nothing above
        ("mtqa.scoring.judge", "mtqa.batch.store", "read_log"),  # nothing below imports batch
        ("mtqa.batch.summary", "mtqa.calibration.agreement", "kendall"),  # siblings stay apart
        ("mtqa.calibration.agreement", "mtqa.calibration.fit", "fit_logistic"),
        ("mtqa.batch.runner", "mtqa.corpus.base", "_private_helper"),
        ("mtqa.cli.batch", "mtqa.batch.runner", "run_batch"),  # the CLI uses exports only
        ("mtqa.corpus.hf_dataset", "mtqa.corpus.model", "quiet_third_party"),  # moved away
    ],
)
def test_a_forbidden_import_is_caught(module: str, target: str, name: str) -> None:
    graph = import_graph()
    graph[module] = graph[module] + [(target, name)]
    assert violations(graph)


def test_relative_imports_resolve_to_modules() -> None:
    graph = import_graph()
    assert ("mtqa.core.errors", "InputError") in graph["mtqa.core.config"]
    assert ("mtqa.report.html", "") in graph["mtqa.report"] or any(
        target == "mtqa.report.html" for target, _ in graph["mtqa.report"]
    )


def test_no_module_is_too_long() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
