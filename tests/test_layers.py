"""The layers run one way: the data contract (`schemas/`) sits below the pipeline and imports
nothing from it, not even inside a function (the CLI's lazy imports would hide such an arrow)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
