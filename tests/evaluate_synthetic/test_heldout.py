"""Held-out TSTR: the synthesizer learns from some projects, both models are scored on others."""

from __future__ import annotations

import pytest

from pipeline import evaluate_synthetic as es
from pipeline import ingest, sample, validate
from pipeline.evaluate_synthetic import heldout
from pipeline.features import project_ids

PARAMS = {
    "tasks": {"project_profile": {"features": "projects", "labeler": "project_profile",
                                  "label_sources": ["ground_truth", "naming"],
                                  "forbid_sources": ["names"], "evaluate_on_source": "ground_truth"}},
    "train": {"model": "random_forest", "seed": 1, "models": {"random_forest": {"n_estimators": 20}}},
    "labels": {"naming_pattern": "^[a-z0-9]+-(?P<label>[a-z0-9]+)-",
               "classes": list(sample.KINDS), "min_naming_share": 0.6},
    "synthesize": {"seed": 7, "hosts": 40, "projects": "auto", "mix": "as_learned",
                   "max_ports_per_host": 500, "zones": 2},
    "fabric": {"topology": "auto", "hosts_per_rack": 20, "spines": "auto", "host_link_gbps": 25,
               "uplink_gbps": 100},
    "evaluate_synthetic": {"tstr_seeds": [3, 4], "tstr_holdout_share": 0.3, "tstr_max_gap": 0.05},
    "benchmark": {"targets": {"tstr_gap": 0.02}},
}


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    d = tmp_path_factory.mktemp("real")
    sample.write_sample(d / "raw", {"seed": 9, "zones": 2, "racks_per_zone": 2, "hosts_per_rack": 8,
                                       "projects": 40, "faults_per_kind": 0, "realism": "hard",
                                       "labelled": 0.9})
    t, _rep = ingest.ingest_dir(d / "raw", {"workers": 1})
    return validate.validate_tables(t, {}).valid


def test_subset_keeps_only_the_chosen_projects(real):
    nets = real["networks"]
    external = nets["router_external"].astype("boolean").fillna(False).to_numpy()
    admin = set(nets["project_id"].astype(str)[external])   # owns the external network
    keep = set(project_ids(real)[:6]) - admin
    sub = heldout.subset(real, keep)
    assert set(project_ids(sub)) <= keep | admin
    assert len(sub["ports"]) < len(real["ports"])
    # the external network stays (routers of kept projects still have a gateway network)
    assert sub["networks"]["router_external"].astype("boolean").fillna(False).any()
    assert validate.validate_tables(sub, {}).report["tables"]["ports"]["rows_quarantined"] == 0


def test_heldout_tstr_and_trtr_per_seed_and_gate(real):
    out = heldout.evaluate(real, PARAMS, other=real)
    assert [r["seed"] for r in out["runs"]] == [3, 4]
    for r in out["runs"]:
        assert r["n_heldout"] > 0 and r["n_synthetic"] > 0
        assert 0.0 <= r["tstr_heldout"] <= 1.0 and 0.0 <= r["trtr_heldout"] <= 1.0
    assert out["gap_heldout"] == pytest.approx(out["trtr_heldout_mean"] - out["tstr_heldout_mean"], abs=1e-6)
    gate = out["gate"]
    assert gate["passed"] == (gate["value"] <= 0.05)
    assert out["target"] == {"tstr_gap": 0.02, "value": out["gap_heldout"], "met": out["gap_heldout"] <= 0.02}
    report = {"gates": {"fidelity": {"passed": True}, "exact_overlap": {"passed": True},
                        "tstr_heldout": {"passed": False, "value": 0.2, "max": 0.05}}}
    assert es.gate_failures(report) == ["held-out TSTR is 0.2 below TRTR, more than tstr_max_gap 0.05"]
