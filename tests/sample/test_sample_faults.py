"""Planted faults: every clean row is clean, each planted row has exactly its own defect."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from pipeline import sample
from pipeline.sample.faults import PLANTERS
from tests.sample import sample_fixtures as fx
from tests.sample.sample_fixtures import SAMPLE, SMALL, defects, manifest_key, read_dataset, sample_params


@pytest.fixture(scope="module")
def committed() -> dict:
    return fx.read_committed()


@pytest.fixture(scope="module")
def faults() -> list[dict]:
    return fx.read_manifest()


def test_clean_rows_have_no_defect_and_each_fault_exactly_its_own(committed, faults):
    found = defects(committed)
    planted = {manifest_key(m): m["check"] for m in faults}
    for key, checks in found.items():
        if key in planted:
            continue
        if key[0] == "port_ips" and ("ports",) + key[1:3] in planted:
            continue   # addresses of a planted bad port (cascade), checked through the port
        raise AssertionError(f"unplanted defect {sorted(checks)} at {key}")
    for key, check in planted.items():
        assert found.get(key) == {check}, f"{key}: expected only {check}, found {found.get(key)}"


def test_manifest_shape_and_counts(faults):
    per = sample_params()["faults_per_kind"]
    by_check = defaultdict(int)
    for m in faults:
        assert set(m) >= {"table", "source_file", "source_pos", "check", "note"}
        assert (SAMPLE / m["source_file"]).is_file()
        assert m["table"] == {**sample.FAULTS, **sample.WARNINGS}[m["check"]]
        assert m.get("warning", False) == (m["check"] in sample.WARNINGS)
        assert ("ip_address" in m) == (m["table"] == "port_ips")
        by_check[m["check"]] += 1
    assert dict(by_check) == {c: per for c in list(sample.FAULTS) + list(sample.WARNINGS)}
    # Faults are spread over several files and formats, Alcor included.
    assert len({m["source_file"] for m in faults}) >= 5
    assert any(m["source_file"].startswith("alcor_") for m in faults)
    assert any(".ndjson" in m["source_file"] for m in faults)


def test_faults_per_kind_is_honoured():
    for per in (0, 1):
        _, faults, _ = sample.generate({**SMALL, "faults_per_kind": per})
        assert len(faults) == per * (len(sample.FAULTS) + len(sample.WARNINGS))


def test_small_world_is_coherent_too(tmp_path):
    sample.write_sample(tmp_path / "s", SMALL)
    found = defects(read_dataset(tmp_path / "s"))
    planted = {manifest_key(m): m["check"] for m in json.loads((tmp_path / "s_faults.json").read_text())}
    for key, checks in found.items():
        if key[0] == "port_ips" and ("ports",) + key[1:3] in planted:
            continue
        assert planted.get(key) is not None and checks == {planted[key]}, (key, checks)
    assert set(planted) <= set(found)


def test_one_planter_per_check_in_manifest_order():
    # The planting order is part of the sample's bytes; every listed check has its planter.
    assert sorted(plant.__name__ for plant in PLANTERS) == sorted([*sample.FAULTS, *sample.WARNINGS])
    _, faults, _ = sample.generate({**SMALL, "faults_per_kind": 1})
    assert {m["check"] for m in faults} == {plant.__name__ for plant in PLANTERS}
