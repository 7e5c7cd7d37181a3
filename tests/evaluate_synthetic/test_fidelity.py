"""Fidelity calibrated: constant columns and the profile mix apart, a real-vs-real baseline;
the IP overlap check fires on public addresses."""

from __future__ import annotations

import pytest

from pipeline import evaluate_synthetic as es
from pipeline import ingest, sample, validate


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    d = tmp_path_factory.mktemp("real")
    sample.write_sample(d / "raw", {"seed": 21, "zones": 2, "racks_per_zone": 2, "hosts_per_rack": 6,
                                       "projects": 24, "faults_per_kind": 0})
    t, _rep = ingest.ingest_dir(d / "raw", {"workers": 1})
    return validate.validate_tables(t, {}).valid


def test_constant_columns_are_reported_apart(real):
    shapes = es.column_shapes(real, real)
    const = shapes["constant_columns"]
    assert const["n"] > 0
    scored = {f"{t}.{c}" for t, b in shapes["tables"].items() for c in b["columns"]}
    assert not scored & set(const["columns"])
    assert shapes["n_columns"] == len(scored)


def test_real_baseline_compares_two_halves(real):
    base = es.real_baseline(real, 3)
    assert sum(base["projects"]) == len(__import__("pipeline.features", fromlist=["x"]).project_ids(real))
    assert 0.0 < base["overall"] < 1.0    # two halves of real data are not identical
    assert base == es.real_baseline(real, 3)


def test_ip_check_fires_on_public_addresses(real):
    """All sample addresses sit in exempt ranges; a public one shared with the real data counts."""
    public = real["port_ips"].copy()
    public.loc[public.index[:3], "ip_address"] = ["45.67.89.10", "45.67.89.11", "2a00:1450::1"]
    real_pub = {**real, "port_ips": public}
    synth = {k: v.iloc[0:0] for k, v in real.items()}
    synth["port_ips"] = public.iloc[:2]
    ov = es.exact_overlap(real_pub, synth)
    assert ov["ips"]["count"] == 2
    assert es.exact_overlap(real, {**synth, "port_ips": real["port_ips"].iloc[:2]})["ips"]["count"] == 0
