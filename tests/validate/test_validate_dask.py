"""Validation on Dask (`dcnet validate --engine dask`) gives the local engine's outputs, byte for
byte: the checks run per partition and on hash co-partitions of their keys
(pipeline/validate/dask_checks.py), so rows sharing a key must meet whatever partition they
start in. Inputs are shuffled so the rows of one planted fault start in different partitions.

The 2-worker LocalCluster of every Dask test (tests/conftest.py `dask_cluster`), in the `dask` xdist group.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import test_validate as tv
from pipeline import engine as engines
from pipeline import io
from pipeline.cli import app
from pipeline.errors import InputError, StageFailed
from pipeline.validate import rules, validate_tables
from schemas.model import TABLES

pytestmark = [pytest.mark.dask, pytest.mark.xdist_group("dask")]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cluster(dask_cluster):
    return dask_cluster[0]


def _namespaced(raw, ns):
    """tv.namespaced, keeping each row's own provenance (copies are matched by it)."""
    out = {}
    for name, recs in raw.items():
        out[name] = []
        for i, r in enumerate(recs):
            r = dict(r)
            source = r.pop("source_file", f"{name}.json")
            pos = r.pop("source_pos", i)
            r = {k: (f"{ns}/{v}" if k in tv.ID_COLUMNS and v not in (None, "") else v)
                 for k, v in r.items()}
            out[name].append({**r, "source_file": f"{ns}/{source}", "source_pos": pos})
    return out


def _copies_case():
    """tests/test_validate.py's newer-copy case: a superseded port and its nested rows."""
    raw = tv.baseline()
    here = {"source_file": "ports.json", "source_pos": 0}
    tv.edit(raw, "ports", 0, updated_at="2026-01-01T10:00:00Z", **here)
    for r in raw["port_ips"][:2] + raw["port_security_groups"][:1]:
        r.update(here)
    feed = {"source_file": "z_feed.ndjson", "source_pos": 3}
    raw["ports"].append(tv._port_copy("fa:16:3e:00:00:01", **feed,
                                      updated_at="2026-01-02T08:00:00Z"))
    raw["port_ips"].append({"port_id": "p1", "ip_index": 0, "subnet_id": "s1",
                            "ip_address": "10.0.1.20", **feed})
    raw["port_security_groups"].append({"port_id": "p1", "security_group_id": "sg2", **feed})
    return raw


def _revisions_case():
    raw = tv.baseline()
    stamp = "2026-01-01T10:00:00Z"
    raw["security_groups"] += [
        {"id": "sg1", "extra": json.dumps({"updated_at": stamp, "revision_number": 5})},
        {"id": "sg1", "extra": json.dumps({"updated_at": stamp, "revision_number": 5})},
    ]
    return raw


def _unknown_network_case():
    raw = tv.baseline()
    raw["ports"][0]["network_id"] = None  # filled from its fixed IPs
    raw["ports"].append({"id": "p4", "mac_address": "fa:16:3e:00:00:04"})  # a warning
    return raw


@pytest.fixture(scope="module")
def faulty_tables():
    """Every planted fault of tests/test_validate.py plus copies, in one shuffled dump."""
    combined: dict[str, list[dict]] = {name: [] for name in TABLES}
    cases = [(case_id, tv.edit(tv.baseline(), table, pos, **changes))
             for case_id, table, pos, changes, _ in tv.ROW_CASES]
    cases += [("copies", _copies_case()), ("revisions", _revisions_case()),
              ("unknown_net", _unknown_network_case())]
    for ns, raw in cases:
        for name, recs in _namespaced(raw, ns).items():
            combined[name] += recs
    tables = tv.build(combined)
    # Shuffled rows: the two rows of a duplicate, a subnet and its overlapping sibling, a
    # child and its parent start in different partitions.
    return {name: df.sample(frac=1.0, random_state=7).reset_index(drop=True)
            for name, df in tables.items()}


def _md5s(folder: Path) -> dict[str, str]:
    """md5 per file, folders of parts included."""
    return {str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_dask_gives_the_local_result_on_every_planted_fault(cluster, faulty_tables, tmp_path):
    local = validate_tables(faulty_tables, {})
    by_check = local.report["totals"]["by_check"]
    # the dump exercises every kind of rule that needs its key's rows together
    for code in ("superseded", "duplicate_id", "parent_quarantined", "subnet_overlap",
                 "mac_duplicate_in_network", "host_name_duplicate", "ip_outside_subnet",
                 "ip_subnet_network_mismatch", "pool_covers_gateway", "ref_network_id"):
        assert by_check.get(code), code
    assert local.report["filled_fields"]["ports"]["network_id"] >= 1
    assert local.report["totals"]["warnings"] >= 1
    for partition_rows in (90, 10_000):  # several partitions per table, then one
        got = validate_tables(faulty_tables, {}, engine=cluster, partition_rows=partition_rows)
        assert got.report == local.report
        for name in TABLES:
            pd.testing.assert_frame_equal(got.valid[name], local.valid[name])
            pd.testing.assert_frame_equal(got.quarantine[name], local.quarantine[name])
    for label, res in (("local", local), ("dask", got)):
        io.write_tables(res.valid, tmp_path / label / "valid")
        io.write_tables(res.quarantine, tmp_path / label / "quarantine")
    for part in ("valid", "quarantine"):
        assert _md5s(tmp_path / "dask" / part) == _md5s(tmp_path / "local" / part)


def _with_ids_to_normalise(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """A network whose id is an upper-case UUID with spaces around it, and its subnet naming it
    in lower case: both spellings become one id (schemas/copies.normalise_ids)."""
    net = tables["networks"].iloc[[0]].assign(
        id=" 3F2504E0-4F89-11D3-9A0C-0305E82C3301 ", source_file="norm/networks.json")
    sub = tables["subnets"].iloc[[0]].assign(
        id="norm-s1", network_id="3f2504e0-4f89-11d3-9a0c-0305e82c3301", cidr="10.250.0.0/24",
        gateway_ip="10.250.0.1", source_file="norm/subnets.json")
    out = dict(tables)
    out["networks"] = pd.concat([tables["networks"], net], ignore_index=True)
    out["subnets"] = pd.concat([tables["subnets"], sub], ignore_index=True)
    return out


def test_a_folder_of_parts_validated_on_dask_gives_the_local_files(cluster, faulty_tables,
                                                                   tmp_path, monkeypatch):
    # The stage reads the folder's parts on the workers: this process reads no table.
    from pipeline.validate import stage

    tables = _with_ids_to_normalise(faulty_tables)
    io.write_tables(tables, tmp_path / "in", rows_per_part=150)  # 2-4 parts per big table
    outs, reports = {}, {}
    for label, engine in (("local", None), ("dask", cluster)):
        d = tmp_path / label
        with monkeypatch.context() as m:
            if engine is not None:
                def refuse(*args, **kwargs):
                    raise AssertionError("the stage process read a table")

                m.setattr(io, "read_tables", refuse)
                m.setattr(io, "read_parquet", refuse)
            stage.run(tmp_path / "in", d / "valid", d / "quarantine", d / "report.json", {},
                      engine=engine, rows_per_part=30)
        outs[label] = {part: _md5s(d / part) for part in ("valid", "quarantine")}
        reports[label] = (d / "report.json").read_bytes()
    assert outs["dask"] == outs["local"]
    assert reports["dask"] == reports["local"]
    report = json.loads(reports["dask"])
    # what runs before the checks is exercised: ids normalised, fields filled per row and
    # ports' networks filled across tables
    assert report["normalised_ids"]["networks"]["id"] == 1
    assert report["filled_fields"]["ports"]["network_id"] >= 1
    assert report["filled_fields"]["subnets"]["ip_version"] >= 1
    assert report["totals"]["rows_quarantined"] > 30  # the quarantine cut into parts too
    assert any("/part-" in name for name in outs["dask"]["quarantine"])
    assert any("/part-" in name for name in outs["dask"]["valid"])
    assert report["totals"]["rows_in"] == (report["totals"]["rows_valid"]
                                           + report["totals"]["rows_quarantined"])


def test_a_damaged_part_read_on_a_worker_is_a_one_line_error_naming_it(cluster, tmp_path):
    from pipeline.validate import stage

    tables = tv.build(tv.baseline())
    io.write_tables(tables, tmp_path / "in", rows_per_part=2)
    part = tmp_path / "in" / "ports" / "part-00001.parquet"
    part.write_bytes(b"x" * part.stat().st_size)  # same size: only reading it finds out
    with pytest.raises(InputError, match=f"{part}: not a readable parquet file"):
        stage.run(tmp_path / "in", tmp_path / "valid", tmp_path / "q", tmp_path / "r.json", {},
                  engine=cluster, rows_per_part=2)
    assert not (tmp_path / "valid").exists()  # nothing half-written


def test_rows_sharing_a_key_meet_across_partitions(cluster):
    # Two ports with one MAC in one network, far apart: a per-partition check would miss it.
    raw = tv.baseline()
    for i in range(40):
        raw["ports"].append({"id": f"px{i}", "network_id": "n1",
                             "mac_address": f"fa:16:3e:00:10:{i:02x}"})
    raw["ports"].append({"id": "late", "network_id": "n1", "mac_address": "fa:16:3e:00:10:00"})
    tables = tv.build(raw)
    got = validate_tables(tables, {}, engine=cluster, partition_rows=8)
    q = got.quarantine["ports"]
    assert list(q["id"]) == ["late"] and list(q["check"]) == ["mac_duplicate_in_network"]
    assert "by id px0" in q["reason"].iat[0]


def test_a_repeated_export_gives_the_local_result(cluster):
    # Every object twice (a dump exported twice): half of every table is a copy, resolved on
    # co-partitions of the keys, with the copies' nested rows following them.
    once = _namespaced(tv.baseline(), "a")
    twice = {name: recs + [{**r, "source_file": "b/" + r["source_file"]} for r in recs]
             for name, recs in once.items()}
    tables = {name: df.sample(frac=1.0, random_state=3).reset_index(drop=True)
              for name, df in tv.build(twice).items()}
    local = validate_tables(tables, {})
    assert local.report["totals"]["by_check"]["duplicate_id"] >= 10
    got = validate_tables(tables, {}, engine=cluster, partition_rows=3)
    assert got.report == local.report
    for name in TABLES:
        pd.testing.assert_frame_equal(got.quarantine[name], local.quarantine[name])
        pd.testing.assert_frame_equal(got.valid[name], local.valid[name])


def test_cli_validate_on_dask_writes_the_local_files(cluster, tmp_path):
    runner = CliRunner()
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["engine"]["partition_rows"] = 1500  # the sample's big tables in 5-7 partitions, on
    # disk too: both engines write them as folders of parts
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(params))
    interim = tmp_path / "interim"
    res = runner.invoke(app, ["ingest", "-i", str(ROOT / "data" / "raw" / "sample"),
                              "-o", str(interim), "--params", str(params_file)])
    assert res.exit_code == 0, res.output
    outs = {}
    for label, extra in (("local", ["--engine", "local"]),
                         ("dask", ["--scheduler", cluster.client.scheduler.address])):
        d = tmp_path / label
        res = runner.invoke(app, ["validate", "-i", str(interim), "-o", str(d / "valid"),
                                  "--quarantine", str(d / "quarantine"),
                                  "--report", str(d / "validation.json"),
                                  "--params", str(params_file), *extra])
        assert res.exit_code == 0, res.output
        outs[label] = {part: _md5s(d / part) for part in ("valid", "quarantine")}
        outs[label]["report"] = hashlib.md5((d / "validation.json").read_bytes()).hexdigest()
    assert outs["dask"] == outs["local"]
    assert any("/part-" in name for name in outs["local"]["valid"])
    report = json.loads((tmp_path / "dask" / "validation.json").read_text())
    # the sample's planted faults, copies included, are there
    assert report["totals"]["by_check"].get("superseded")
    assert report["totals"]["by_check"].get("subnet_overlap")
    assert report["totals"]["rows_in"] == (report["totals"]["rows_valid"]
                                           + report["totals"]["rows_quarantined"])


def test_every_table_check_is_classified_for_partitions(monkeypatch):
    for name in TABLES:
        rules.group_checks(name)  # raises on a table check in neither list
    monkeypatch.setattr(rules, "ROW_CHECKS", rules.ROW_CHECKS - {"gateway_reserved"})
    with pytest.raises(StageFailed, match="gateway_reserved is not classified"):
        rules.group_checks("subnets")


def test_row_schema_keeps_row_checks_and_drops_row_comparing_ones():
    names = [c.name for c in rules.row_schema("subnets").checks]
    assert "gateway_reserved" in names and "subnet_overlap" not in names
    assert "duplicate_id" not in names


@pytest.mark.parametrize("bad", [0, -5, "many", True])
def test_partition_rows_must_be_a_positive_integer(bad):
    with pytest.raises(InputError, match="engine.partition_rows"):
        engines.spec_from_params({"engine": {"kind": "dask", "partition_rows": bad}})


def test_partition_rows_reaches_the_engine():
    spec = engines.spec_from_params({"engine": {"kind": "dask", "partition_rows": 123}})
    assert spec.partition_rows == 123
    assert engines.spec_from_params({}).partition_rows == 250_000
