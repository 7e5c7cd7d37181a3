"""Configuration prediction: inputs are early configuration only, baseline is the per-profile
median, runs land in MLflow and `dcnet runs` lists them."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline import demand, features, ingest, sample, tracking, validate

PARAMS = {
    "tasks": {"project_profile": {"labeler": "project_profile",
                                  "label_sources": ["ground_truth", "naming"]}},
    "labels": {"naming_pattern": "^[a-z0-9]+-(?P<label>[a-z0-9]+)-",
               "classes": list(sample.KINDS), "min_naming_share": 0.6},
    "demand": {"seed": 3, "cv_folds": 3, "n_estimators": 20},
}


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    d = tmp_path_factory.mktemp("dc")
    sample.write_sample(d / "raw", {"seed": 4, "zones": 2, "racks_per_zone": 2,
                                       "hosts_per_rack": 8, "projects": 30, "faults_per_kind": 0})
    t, _rep = ingest.ingest_dir(d / "raw", {"workers": 1})
    return validate.validate_tables(t, {}).valid


def test_inputs_read_nothing_a_vm_creates():
    vm_made = {"n_ports", "n_vms", "n_sg_rules", "n_floating_ips", "n_hosts", "pool_fill_mean",
               "ports_per_subnet_mean", "ports_per_subnet_max"}
    assert not vm_made & set(demand.EARLY_COLUMNS)
    docs = features.feature_docs()["projects"]
    assert set(demand.EARLY_COLUMNS) <= set(docs)


def test_baseline_is_the_per_profile_median(tables):
    df = demand.demand_frame(tables, PARAMS)
    assert len(df) and df["profile"].notna().all()
    model = demand.DemandModel(0, 10).fit(df)
    base = model.baseline(df)
    for prof, grp in df.groupby("profile"):
        m = (df["profile"] == prof).to_numpy()
        assert np.all(base["vms"][m] == grp["target_vms"].median())
    unknown = df.head(1).assign(profile="never-seen")
    assert model.baseline(unknown)["vms"][0] == np.median(df["target_vms"])


def test_report_and_mlflow_run_listed(tables, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    rep, model, frame = demand.evaluate(tables, PARAMS)
    cv = rep["cv"]
    assert cv["n"] == len(frame) and cv["folds"] == 3
    for name, t in cv["targets"].items():
        assert t["mae_reduction"] == pytest.approx(1 - t["model"]["mae"] / t["baseline"]["mae"], abs=1e-5)
    run_id = tracking.log_demand(rep, model, PARAMS)
    runs = tracking.list_runs()
    row = runs[runs["run_id"] == run_id].iloc[0]
    assert row["task"] == "config_demand"
    assert row["metrics.model_mae_reduction"] == pytest.approx(cv["mae_reduction"])
