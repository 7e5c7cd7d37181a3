"""Model keys: every key a family's generation reads is one the learning writes.

The model is plain JSON, so a key is a string written by `learn_stats` and read back by the
draws; a typo on either side would silently fall back to a default. The reads are found
statically (sampler calls, ctx.infra / ctx.external lookups), the writes by learning the sample.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tests.synthesize import synth_fixtures as fx

# the module, not the function the package re-exports under the same name
learn_module = importlib.import_module("pipeline.synthesize.learn")

PACKAGE = Path(__file__).resolve().parents[2] / "pipeline" / "synthesize"
SAMPLER_METHODS = {"ints", "cols", "share", "value", "get"}


def _is_sampler(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "sampler") or (
        isinstance(node, ast.Attribute) and node.attr == "sampler")


def _literal_key(node: ast.AST) -> str | None:
    """"key", or the first part of ("key", role)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Tuple) and node.elts and isinstance(node.elts[0], ast.Constant):
        return node.elts[0].value
    return None


def model_reads(source: str) -> dict[str, set[str]]:
    """{"kinds": keys read through the sampler, "infra": ..., "external": ...} of a module."""
    reads: dict[str, set[str]] = {"kinds": set(), "infra": set(), "external": set()}
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
            continue
        func = node.func
        if func.attr in SAMPLER_METHODS and _is_sampler(func.value):
            arg = node.args[1] if func.attr == "get" and len(node.args) > 1 else node.args[0]
            key = _literal_key(arg)
            if key is not None:
                reads["kinds"].add(key)
        elif (func.attr == "get" and isinstance(func.value, ast.Attribute)
              and func.value.attr in ("infra", "external")):
            key = _literal_key(node.args[0])
            if key is not None:
                reads[func.value.attr].add(key)
    return reads


def package_reads() -> dict[str, dict[str, set[str]]]:
    return {p.name: model_reads(p.read_text()) for p in sorted(PACKAGE.glob("*.py"))}


def test_the_scan_finds_reads_and_a_misspelled_key():
    reads = package_reads()
    assert "networks_per_project" in reads["networks.py"]["kinds"]
    assert "port_attrs" in reads["ports.py"]["kinds"]  # ("port_attrs", role)
    assert "fip_propensity" in reads["floating_ips.py"]["kinds"]  # sampler.get(kind, key)
    assert "hosts_per_rack" in reads["placement.py"]["infra"]
    assert "network" in reads["networks.py"]["external"]
    assert sum(len(r["kinds"]) for r in reads.values()) >= 40
    bad = model_reads("def f(ctx, k):\n    return ctx.sampler.ints('networks_per_projet', k)\n")
    assert bad["kinds"] == {"networks_per_projet"}


def test_every_key_read_is_learned():
    sample_model = fx.sample_model()
    learned = {"kinds": set(sample_model["global"]), "infra": set(sample_model["infra"]),
               "external": set(sample_model["external"])}
    missing = sorted((module, part, key) for module, reads in package_reads().items()
                     for part, keys in reads.items() for key in keys - learned[part])
    assert missing == []


def test_families_learn_disjoint_keys_in_model_order(monkeypatch):
    written: dict[str, list[str]] = {}

    def recording(stats):
        def wrapped(d):
            out = stats(d)
            written.setdefault(stats.__module__, list(out))
            return out
        return wrapped

    monkeypatch.setattr(learn_module, "FAMILY_STATS", tuple(recording(f) for f in learn_module.FAMILY_STATS))
    model = learn_module.learn(fx.sample_valid(), None, fx.PARAMS)
    keys = [k for module in written for k in written[module]]  # in call order: FAMILY_STATS'
    assert len(written) == len(learn_module.FAMILY_STATS)
    assert len(keys) == len(set(keys)), "two families write the same model key"
    # a kind's statistics: its project count, then each family's keys in FAMILY_STATS order
    assert list(model["global"]) == ["projects"] + keys


@pytest.mark.parametrize("module", ["networks", "subnets", "workload", "ports", "security_groups", "routers",
                                    "floating_ips"])
def test_each_family_learns_next_to_its_generation(module):
    source = (PACKAGE / f"{module}.py").read_text()
    names = {n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}
    assert "learn_stats" in names
    assert any(n.startswith("draw_") or n.endswith("_table") for n in names)
