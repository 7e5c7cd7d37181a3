"""DVC deps that cannot drift: every project file a stage's command imports is one of its deps.

`dvc repro` skips a stage whose deps are unchanged, so a module that a stage imports but does
not list would let a code change go unnoticed. The imports are read statically (ast) from the
CLI command the stage runs, then followed through every `pipeline`/`schemas` module, including
imports inside functions (the CLI imports lazily).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("pipeline", "schemas")
MODULE_NAME = re.compile(r"(?:pipeline|schemas)(?:\.[a-z_][a-z0-9_]*)+")


def module_path(name: str) -> Path | None:
    """`pipeline.export` -> pipeline/export/__init__.py (or the package's __init__.py); None if absent."""
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(tree: ast.AST, package: str) -> set[str]:
    """Project modules named by the import statements anywhere in `tree`."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import inside a package
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            # `from pipeline import export` names a module, not an attribute
            found.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                MODULE_NAME.fullmatch(node.value):
            found.add(node.value)  # a registry entry imported with importlib (exporters, checkers)
    return {m for m in found if m.split(".")[0] in PACKAGES and module_path(m)}


def closure(start: set[str]) -> set[Path]:
    """Files of `start` and of every project module they import, transitively."""
    seen: set[Path] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        path = module_path(name)
        if path is None or path in seen:
            continue
        seen.add(path)
        # a submodule import also runs its parent packages' __init__.py
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        todo.extend(parents)
        todo.extend(imported_modules(ast.parse(path.read_text()), package))
    return seen


CLI = ROOT / "pipeline" / "cli"   # the `dcnet` app: one package, its commands in several modules


def cli_files() -> list[Path]:
    return sorted(CLI.glob("*.py"))


def is_cli(name: str) -> bool:
    return name == "pipeline.cli" or name.startswith("pipeline.cli.")


def cli_functions() -> dict[str, ast.FunctionDef]:
    """Top-level functions of every pipeline/cli module, by name (commands and helpers)."""
    functions = {}
    for path in cli_files():
        for n in ast.parse(path.read_text()).body:
            if isinstance(n, ast.FunctionDef):
                assert n.name not in functions, f"pipeline/cli: two functions named {n.name}"
                functions[n.name] = n
    return functions


def command_function(command: str) -> ast.FunctionDef:
    """The pipeline/cli function behind `dcnet <command>` (decorator name, else the function
    name); top-level commands only (`@app.command`), not a sub-app's (`dcnet schemas export`)."""
    for fn in cli_functions().values():
        for deco in fn.decorator_list:
            if (isinstance(deco, ast.Call) and getattr(deco.func, "attr", "") == "command"
                    and getattr(deco.func.value, "id", "") == "app"):
                declared = deco.args[0].value if deco.args else fn.name.replace("_", "-")
                if declared == command:
                    return fn
    raise AssertionError(f"dcnet {command}: no such command in pipeline/cli/")


def cli_module_level_imports() -> set[str]:
    """Project modules the pipeline/cli modules import at module level (their functions import
    lazily, per command)."""
    found = set()
    for path in cli_files():
        tree = ast.parse(path.read_text())
        top = ast.Module(body=[n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef))],
                         type_ignores=[])
        found |= imported_modules(top, "pipeline.cli")
    return found


def called_cli_functions(fn: ast.FunctionDef, functions: dict[str, ast.FunctionDef]) -> set[str]:
    """CLI functions `fn` calls: by name (`fail(...)`) or through a CLI module (`render.print_x(...)`)."""
    modules = {p.stem for p in cli_files()}
    called = set()
    for n in ast.walk(fn):
        if not isinstance(n, ast.Call):
            continue
        if isinstance(n.func, ast.Name) and n.func.id in functions:
            called.add(n.func.id)
        elif (isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)
              and n.func.value.id in modules and n.func.attr in functions):
            called.add(n.func.attr)
    return called


def command_imports(command: str) -> set[Path]:
    """Project files that `dcnet <command>` loads: the pipeline/cli files with their module-level
    imports, the command's function and the CLI helpers it calls (the other commands' lazy
    imports are not run)."""
    functions = cli_functions()
    todo, done, modules = [command_function(command)], set(), cli_module_level_imports()
    while todo:
        fn = todo.pop()
        if fn.name in done:
            continue
        done.add(fn.name)
        modules |= imported_modules(fn, "pipeline")
        todo.extend(functions[name] for name in called_cli_functions(fn, functions))
    return closure({m for m in modules if not is_cli(m)}) | set(cli_files())


def stages() -> dict[str, dict]:
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    return {name: stage.get("do", stage) for name, stage in spec.items()}


def covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return any(rel == d.rstrip("/") or rel.startswith(d.rstrip("/") + "/") for d in deps)


def missing_deps(stage: dict) -> list[str]:
    deps = [d for d in stage.get("deps", []) if isinstance(d, str)]
    files = set()
    for command in re.findall(r"\bdcnet\s+([a-z][a-z-]*)", stage["cmd"]):
        files |= command_imports(command)
    return sorted(p.relative_to(ROOT).as_posix() for p in files if not covered(p, deps))


@pytest.mark.parametrize("name", sorted(stages()))
def test_stage_deps_cover_its_imports(name):
    assert missing_deps(stages()[name]) == [], (
        f"dvc.yaml stage {name}: add these to its deps (imported by its command)")


def test_the_check_follows_registries_of_module_names():
    # the export dispatcher imports its plug-ins with importlib, by the names in EXPORTERS
    found = closure({"pipeline.export"})
    assert ROOT / "pipeline" / "export" / "mininet.py" in found
    assert ROOT / "pipeline" / "emulate" / "plan.py" in found  # imported by the mininet plug-in


def test_the_check_finds_an_uncovered_import():
    # The export command imports pipeline/export/__init__.py; a stage listing nothing must miss it.
    assert "pipeline/export/__init__.py" in missing_deps({"cmd": "dcnet export --input x", "deps": []})
    # and a folder dep covers everything below it
    assert missing_deps({"cmd": "dcnet export", "deps": ["pipeline", "schemas"]}) == []
