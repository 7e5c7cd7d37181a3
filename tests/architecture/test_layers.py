"""The layers run one way: the data contract (`schemas/`) sits below the pipeline and imports
nothing from it, not even inside a function (the CLI's lazy imports would hide such an arrow)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def project_imports(path: Path) -> set[str]:
    """Top-level package names of every import statement anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_schemas_import_nothing_from_pipeline():
    upward = {p.relative_to(ROOT).as_posix() for p in (ROOT / "schemas").rglob("*.py")
              if "pipeline" in project_imports(p)}
    assert upward == set(), "schemas/ must not import pipeline/ (the contract is the bottom layer)"


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from pipeline import io\n    return io\n")
    assert "pipeline" in project_imports(f)


def project_graph() -> dict[str, set[str]]:
    """{module: project modules it imports anywhere (module level or inside functions)}."""
    modules = {}
    for path in [*ROOT.glob("pipeline/**/*.py"), *ROOT.glob("schemas/**/*.py")]:
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                targets.add(base)
                targets.update(f"{base}.{a.name}" for a in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def test_no_import_cycles_between_project_modules():
    import networkx as nx

    cycles = list(nx.simple_cycles(nx.DiGraph(
        [(a, b) for a, targets in project_graph().items() for b in targets])))
    assert cycles == [], f"import cycles (lazy imports included): {cycles[:5]}"
