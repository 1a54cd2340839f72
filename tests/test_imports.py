"""The import graph of interpkit: no circle, and the training package's one-way rules.

Counts every relative or absolute import of an interpkit module, at module level or inside a
function (a function-level import that closes a circle is still a circle a reader has to hold
in mind, and an import-order trap when someone moves it up).
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "interpkit"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    name = _module_name(path)
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            targets = [module] + [f"{module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in modules and t != name}
    return found


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: _imports(path, set(paths)) for name, path in paths.items()}


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), list(graph[start])
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph[name])
    return seen


def test_no_import_circle():
    graph = _graph()
    circles = sorted(name for name in graph if name in _reachable(graph, name))
    assert circles == [], f"modules on an import circle: {circles}"


def test_the_training_package_imports_run_one_way():
    graph = _graph()
    train = [name for name in graph if name.startswith("interpkit.train.")]
    assert "interpkit.train.variants" in train
    for name in train:
        if name != "interpkit.train.variants":
            assert "interpkit.train.variants" not in graph[name], name  # nothing imports it
    assert not any(n.startswith("interpkit.train") for n in _reachable(graph, "interpkit.models"))
    assert not any(
        n.startswith(("interpkit.explainers", "interpkit.metrics"))
        for n in graph["interpkit.train"] | graph["interpkit.train.fine_tune"]
    )
