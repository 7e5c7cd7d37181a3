"""`dcnet export` end to end: the real sample (validated + --derive-fabric) and a synthetic
data center, every format checked; clear messages for missing tables."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from export_fixtures import (alcor_round_trip, check_containerlab, check_graphml, check_merak,
                             check_mininet, sample_tables, small_dc)  # noqa: F401
from pipeline import io
from pipeline.cli import app
from pipeline.export import FORMATS
from pipeline.export.topology import build_topology


def run(*args):
    return CliRunner().invoke(app, ["export", *map(str, args)])


def check_all(out, tables, derive, tmp_path, fabric=None, clab=True):
    topo = build_topology(tables, fabric or {}, derive_fabric=derive)
    rep = json.loads((out / "_export_report.json").read_text())
    assert set(rep["formats"]) == set(FORMATS)
    assert rep["topology"]["vms"] == topo.count("vm") > 0
    check_mininet(out, topo)
    if clab:
        assert check_containerlab(out) == len(topo.links)
    else:
        assert list((out / "containerlab").glob("*.clab.yml"))
    check_merak(json.loads((out / "merak" / "dcnet_scenario.json").read_text()), topo, out / "merak")
    alcor_round_trip(out / "alcor" / "alcor_requests.ndjson", tables, tmp_path)
    assert (out / "alcor" / "alcor_k6.js").exists()
    check_graphml(out, topo)
    return topo


def test_sample_validated_tables_with_derived_fabric(tmp_path, sample_tables):  # noqa: F811
    inp = tmp_path / "validated"
    io.write_tables(sample_tables, inp)
    res = run("--input", inp, "--out", tmp_path / "export", "--params", tmp_path / "none.yaml")
    assert res.exit_code == 2
    assert "fabric_switches and fabric_links tables are empty or missing" in res.output
    assert "--derive-fabric" in res.output and len(res.output.strip().splitlines()) == 1
    res = run("--input", inp, "--out", tmp_path / "export", "--derive-fabric",
              "--params", tmp_path / "none.yaml")
    assert res.exit_code == 0, res.output
    # what a consumer cannot take as exported is printed, counted per reason
    assert "merak: left out:" in res.output and "containerlab: changed:" in res.output
    rep = json.loads((tmp_path / "export" / "_export_report.json").read_text())
    assert rep["formats"]["merak"]["left_out"] and rep["formats"]["containerlab"]["changed"]
    # (the sample's lab files take ~10 s to parse and schema-check: test_export_containerlab
    # does it once)
    check_all(tmp_path / "export", sample_tables, True, tmp_path, clab=False)


def test_single_format_and_missing_hosts(tmp_path):
    tables = small_dc(with_fabric=False)
    io.write_tables(tables, tmp_path / "in")
    # the Alcor stream needs no physical fabric
    res = run("--format", "alcor", "--input", tmp_path / "in", "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["_export_report.json", "alcor"]
    # A folder written without a hosts table (the manifest does not list it): empty hosts.
    io.write_tables({k: v for k, v in tables.items() if k != "hosts"}, tmp_path / "in")
    res = run("--format", "mininet", "--input", tmp_path / "in", "--out", tmp_path / "out",
              "--derive-fabric")
    assert res.exit_code == 2
    assert "hosts table is empty or missing: export needs hosts.parquet" in res.output
    # A table listed by the manifest but gone from disk: the folder is broken, not empty.
    (tmp_path / "in" / "ports.parquet").unlink()
    res = run("--format", "alcor", "--input", tmp_path / "in", "--out", tmp_path / "out")
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert "ports.parquet: table missing" in res.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["_export_report.json", "alcor"]
    res = run("--format", "netbox", "--input", tmp_path / "in")
    assert res.exit_code == 2 and "unknown format" in res.output


def test_stale_files_are_removed(tmp_path):
    io.write_tables(small_dc(), tmp_path / "in")
    out = tmp_path / "out"
    p = {"export": {"mininet_inline_max_hosts": 0}}
    (tmp_path / "p.yaml").write_text(json.dumps(p))
    assert run("-f", "mininet", "-i", tmp_path / "in", "-o", out, "--params", tmp_path / "p.yaml").exit_code == 0
    assert (out / "mininet" / "dcnet_topo.json").exists()
    assert run("-f", "mininet", "-i", tmp_path / "in", "-o", out).exit_code == 0  # inline now
    assert not (out / "mininet" / "dcnet_topo.json").exists()


@pytest.fixture(scope="module")
def synthetic(sample_tables):  # noqa: F811
    synth = pytest.importorskip("pipeline.synthesize")
    model = synth.learn(sample_tables)
    return synth.generate(model, {"synthesize": {"seed": 3, "hosts": 30, "projects": 8},
                                  "fabric": {"topology": "auto", "hosts_per_rack": 10}})


def test_synthetic_data_center_all_formats_deterministic(tmp_path, synthetic):
    inp = tmp_path / "synthetic"
    io.write_tables(synthetic, inp)
    assert len(synthetic["fabric_switches"]) > 0
    for out in ("a", "b"):
        res = run("--input", inp, "--out", tmp_path / out, "--params", tmp_path / "none.yaml")
        assert res.exit_code == 0, res.output
    check_all(tmp_path / "a", io.read_tables(inp), False, tmp_path)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    for f in files_a:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_names_that_start_a_formula_are_neutralised_in_csv_files(tmp_path):
    import csv

    injected = ["=HYPERLINK(\"http://x\")", "+1+2", "-3+cmd", "@SUM(A1)"]
    tables = small_dc(host_names=["=cn00", "+cn01", "-cn02", "@cn03", "cn04", "cn05"])
    nets = tables["networks"].copy()
    nets.loc[:, "name"] = injected[: len(nets)]
    tables["networks"] = nets
    ports = tables["ports"].copy()
    ports.loc[ports.index[:4], "name"] = injected
    tables["ports"] = ports
    io.write_tables(tables, tmp_path / "in")
    res = run("--input", tmp_path / "in", "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    files = sorted((tmp_path / "out").rglob("*.csv"))
    assert {f.parent.name for f in files} >= {"mininet", "merak", "containerlab"}
    seen = set()
    for f in files:
        for row in csv.reader(f.read_text().splitlines()):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@")), (f, cell)
                seen.add(cell)
    # kept readable: the apostrophe-prefixed value is there
    assert "'=cn00" in seen and "'@cn03" in seen and "'=HYPERLINK(\"http://x\")" in seen


def test_every_registered_exporter_is_a_plug_in_with_write():
    import importlib

    from pipeline.export import EXPORTERS

    assert FORMATS == tuple(EXPORTERS)
    for fmt, module_name in EXPORTERS.items():
        module = importlib.import_module(module_name)
        assert callable(module.write), fmt
        assert isinstance(getattr(module, "NEEDS_FABRIC", True), bool), fmt  # default: needs one
