"""The evaluator's shape: packages, not name prefixes; no import cycles; benchmarks beside it.

Every ``import`` statement of the evaluator's modules is read (module level and inside
functions alike), so a cycle hidden in a function body is found too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import evaluator

PACKAGE = Path(evaluator.__file__).parent
ROOT = PACKAGE.parent
# The top level: the public entry points and the shared vocabulary; everything else is a package.
TOP_LEVEL = {
    "__init__",
    "__main__",
    "architectures",
    "cli",
    "errors",
    "hardware",
    "layout",
    "metrics",
    "scoring",
    "spec",
}
PACKAGES = {"bench", "datasets", "formats", "inference", "insights", "robustness", "sandbox"}
PACKAGES |= {"check", "shards"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(root: Path) -> dict[str, Path]:
    return {_module_name(p): p for p in root.rglob("*.py") if "__pycache__" not in p.parts}


def _imports(path: Path, known: set[str]) -> Iterator[str]:
    """The modules ``path`` imports: ``from a import b`` is ``a.b`` where that is a module."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (
                f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known
            )


def _graph() -> dict[str, set[str]]:
    modules = _modules(PACKAGE)
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        graph[name] = {m for m in _imports(path, known) if m in known and m not in ancestors}
        graph[name].discard(name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_in_the_evaluator() -> None:
    assert _cycles(_graph()) == []


def test_the_top_level_holds_entry_points_and_packages() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert modules == TOP_LEVEL
    assert packages == PACKAGES


# The benchmarks, and the bridge through which the site's own benchmarks reach theirs.
BENCHMARKS = ("evaluator.bench", "leaderboard.evaluation.bench")


def test_nothing_but_the_benchmarks_imports_the_benchmarks() -> None:
    for root in (PACKAGE, ROOT / "leaderboard", ROOT / "baselines"):
        for name, path in _modules(root).items():
            if name.startswith(BENCHMARKS):
                continue
            known = {"evaluator.bench"}
            imported = [m for m in _imports(path, known) if m.startswith("evaluator.bench")]
            assert imported == [], name


def test_the_evaluator_imports_no_framework_and_nothing_of_baselines() -> None:
    for name, path in _modules(PACKAGE).items():
        for module in _imports(path, set()):
            top = module.split(".")[0]
            assert top not in ("django", "celery", "leaderboard", "baselines"), (name, module)


def test_no_module_is_over_400_lines() -> None:
    long = {
        name: n
        for name, path in _modules(PACKAGE).items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}


def test_importing_the_packages_does_not_import_torch() -> None:
    """The command line and the web process import these; torch is loaded only on use."""
    names = ["evaluator.cli", "evaluator.scoring", "evaluator.architectures"]
    names += [f"evaluator.{p}" for p in sorted(PACKAGES)]
    code = f"import sys\nfor n in {names!r}: __import__(n)\nprint('torch' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "False", done.stderr
