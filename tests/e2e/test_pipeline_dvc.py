"""End to end: real `dvc repro` and `dvc exp run` in a temporary git repo copy of the project,
real MLflow on that copy's sqlite database. One repo is shared by the tests of this module
(the full pipeline takes a while); they run in order in one xdist group."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import copy_repo, run, tool_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dvc_e2e")]


# session, not module: xdist's worker may run another module's tests between two of these, and
# a module fixture would then be torn down and the whole pipeline run again (~95 s, measured)
def turn_down_scale(repo) -> None:
    """The repeat knobs of params.yaml turned down in the copy (cross-validation folds, trees,
    held-out TSTR seeds): these tests check the real pipeline's wiring, row accounting and
    tracking, not its figures (`make repro` measures those with params.yaml as it is). `dvc repro`
    alone: 146 s -> 79 s, the exp run below 94 s -> 62 s (measured on the 2-core machine)."""
    import yaml

    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params["train"]["cv_folds"] = params["demand"]["cv_folds"] = 3
    params["train"]["models"]["random_forest"]["n_estimators"] = 50
    params["demand"]["n_estimators"] = 50
    params["evaluate_synthetic"]["tstr_seeds"] = params["evaluate_synthetic"]["tstr_seeds"][:2]
    # two seeds are too few for the gap gate; the gate is tested in evaluate_synthetic/test_heldout.py
    params["evaluate_synthetic"]["tstr_max_gap"] = 1.0
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "commit", "-q", "-am", "test scale"], repo)


@pytest.fixture(scope="session")
def repro(tmp_path_factory):
    repo = copy_repo(tmp_path_factory.mktemp("e2e") / "repo")
    turn_down_scale(repo)
    # No MLFLOW_TRACKING_URI: stages must find <DVC_ROOT>/mlflow.db by themselves.
    env = tool_env()
    env.pop("MLFLOW_TRACKING_URI", None)
    first = run(["dvc", "repro"], repo, env)
    return repo, env, first


def test_repro_accounts_for_every_row(repro):
    repo, _, _ = repro
    interim = repo / "data" / "interim"
    report = json.loads((repo / "reports" / "validation.json").read_text())
    assert report["tables"], "empty validation report"
    for table, r in report["tables"].items():
        rows_in = len(pd.read_parquet(interim / f"{table}.parquet"))
        valid = len(pd.read_parquet(repo / "data" / "validated" / f"{table}.parquet"))
        quarantined = len(pd.read_parquet(repo / "data" / "quarantine" / f"{table}.parquet"))
        assert (r["rows_in"], r["rows_valid"], r["rows_quarantined"]) == (rows_in, valid, quarantined)
        assert rows_in == valid + quarantined, table
    assert report["tables"]["ports"]["rows_in"] > 1000
    assert sum(r["rows_quarantined"] for r in report["tables"].values()) > 0  # planted faults


def test_repro_writes_every_stage_output(repro):
    repo, _, _ = repro
    for path in ["data/features/projects.parquet", "data/features/ports.parquet",
                 "data/labels/project_profile.parquet", "models/project_profile/model.skops",
                 "models/port_role/model.skops", "reports/train_project_profile.json",
                 "reports/train_port_role.json", "data/predictions/project_profile.parquet",
                 "data/predictions/port_role.parquet", "data/synthetic/ports.parquet",
                 "reports/synthetic.json"]:
        assert (repo / path).exists(), path
    assert any((repo / "data" / "export").iterdir())
    # Every project and every port gets a prediction, labelled or not.
    for entity, task in (("projects", "project_profile"), ("ports", "port_role")):
        feats = pd.read_parquet(repo / "data" / "features" / f"{entity}.parquet")
        pred = pd.read_parquet(repo / "data" / "predictions" / f"{task}.parquet")
        assert sorted(pred["id"]) == sorted(feats["id"])


def test_second_repro_does_nothing(repro):
    repo, env, _ = repro
    again = run(["dvc", "repro"], repo, env)
    assert "Data and pipelines are up to date" in again.stdout + again.stderr
    status = run(["dvc", "status"], repo, env)
    assert "up to date" in status.stdout


def test_port_role_predictions_ignore_device_owner(repro):
    """Scrub device_owner (and router_interfaces, which ingest derives from it): same predictions."""
    from pipeline import classify, features, io, train

    repo, _, _ = repro
    params = io.load_params(repo / "params.yaml")
    tables = io.read_tables(repo / "data" / "validated")
    model = train.load_model(repo / "models" / "port_role" / "model.skops")
    before = classify.classify(model, features.port_features(tables, params))
    scrubbed = dict(tables)
    scrubbed["ports"] = tables["ports"].assign(device_owner=pd.Series(pd.NA, index=tables["ports"].index,
                                                                      dtype="string"))
    scrubbed["router_interfaces"] = tables["router_interfaces"].iloc[0:0]
    after = classify.classify(model, features.port_features(scrubbed, params))
    assert len(before) == len(tables["ports"])
    pd.testing.assert_frame_equal(before, after)


def test_exp_run_with_changed_param_is_a_second_mlflow_run(repro):
    # --temp runs the experiment in a temporary copy under .dvc/tmp: the train stage must
    # still log to the repo's own mlflow.db (found through DVC_ROOT).
    repo, env, _ = repro
    # the task's own model override (`+`: a key params.yaml does not have yet): only this
    # task's stages are stale (train.model would retrain every task). The target stops the run
    # at the training stage: what is checked here is its MLflow run, and the stages below it
    # (classify, synthesize, evaluate_synthetic, export: ~30 s) add nothing to that
    run(["dvc", "exp", "run", "--temp", "-n", "lr", "-S", "+tasks.project_profile.model=logistic_regression",
         "train@project_profile"], repo, env)
    out = run(["dcnet", "runs", "--task", "project_profile"], repo, env).stdout
    assert "logistic_regression" in out and "random_forest" in out, out

    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{repo}/mlflow.db")
    runs = mlflow.search_runs(experiment_names=["dcnet-project_profile"])
    models = set(runs["params.model"])
    assert {"logistic_regression", "random_forest"} <= models
    assert "lr" in set(runs["tags.dvc_exp_name"].dropna())
