"""`dcnet train / classify / runs` end to end on synthetic tables, with real MLflow (a sqlite
DB in a temporary folder), real skops files and real parquet files."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from conftest import ROOT, run, tool_env
from pipeline import io, tracking
from pipeline.cli import app
from schemas.model import conform

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("mlflow"),
              # inside MLflow's own SQLAlchemy store; nothing this project can change
              pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy")]

N_PROJECTS = 45
N_PORTS = 120
PROFILES = ("database", "hpc", "web")
ROLES = ("dhcp", "router_interface", "vm")
FAKE_MD5 = {"data/features": "0123456789abcdef0123456789abcdef.dir",
            "data/labels": "fedcba9876543210fedcba9876543210.dir"}


def project_id(i: int) -> str:
    return f"prjsecret{i:04d}"


def port_id(i: int) -> str:
    return f"portsecret{i:05d}"


def build_workspace(ws: Path) -> dict:
    """Feature/label/validated tables for both tasks, params, a dvc.lock and a git commit."""
    rng = np.random.default_rng(3)
    prof = np.array(PROFILES)[np.arange(N_PROJECTS + 6) % 3]
    pids = [project_id(i) for i in range(N_PROJECTS + 6)]      # 6 projects stay unlabelled
    projects = pd.DataFrame({
        "id": pids,
        "web_ports": (prof == "web") * 3.0 + rng.normal(size=len(pids)),
        "db_ports": (prof == "database") * 3.0 + rng.normal(size=len(pids)),
        "empty": pd.array([pd.NA] * len(pids), dtype="Float64"),
    })
    role = np.array(ROLES)[np.arange(N_PORTS + 10) % 3]
    ports = pd.DataFrame({
        "id": [port_id(i) for i in range(N_PORTS + 10)],
        "project_id": [pids[i % N_PROJECTS] for i in range(N_PORTS + 10)],
        "n_ips": (role == "router_interface") * 2.0 + rng.normal(size=N_PORTS + 10),
        "has_sg": (role == "vm") * 2.0 + rng.normal(size=N_PORTS + 10),
    })
    io.write_tables({"projects": projects, "ports": ports}, ws / "data" / "features")
    io.write_tables({
        "project_profile": pd.DataFrame({"id": pids[:N_PROJECTS], "label": prof[:N_PROJECTS],
                                         "source": np.where(np.arange(N_PROJECTS) % 2 == 0,
                                                            "ground_truth", "naming")}),
        "port_role": pd.DataFrame({"id": ports["id"][:N_PORTS], "label": role[:N_PORTS],
                                   "source": "device_owner"}),
    }, ws / "data" / "labels")
    # Validated tables the rule baselines read: subnet names carry the profile for 2/3 of
    # the projects; port names say "dhcp" for a third of the DHCP ports.
    sub_names = [f"az1-{p}-net" if i % 3 else f"az1-n{i}" for i, p in enumerate(prof)]
    subnets = conform(pd.DataFrame({"id": [f"s{i}" for i in range(len(pids))], "project_id": pids,
                                    "name": sub_names, "source_file": "x", "source_pos": 0}),
                      "subnets")
    pnames = [f"dhcp-{i}" if r == "dhcp" and i % 9 == 0 else f"p{i}" for i, r in enumerate(role)]
    vports = conform(pd.DataFrame({"id": ports["id"], "project_id": ports["project_id"],
                                   "name": pnames, "source_file": "x", "source_pos": 0}), "ports")
    io.write_tables({"subnets": subnets, "ports": vports}, ws / "data" / "validated")

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["train"] |= {"cv_folds": 3, "model": "random_forest"}
    params["train"]["models"]["random_forest"]["n_estimators"] = 15
    params["train"]["models"]["hist_gradient_boosting"]["max_iter"] = 15
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    lr = json.loads(json.dumps(params))
    lr["train"]["model"] = "logistic_regression"
    (ws / "params_lr.yaml").write_text(yaml.safe_dump(lr, sort_keys=False))
    (ws / "dvc.lock").write_text(yaml.safe_dump({"schema": "2.0", "stages": {
        "features": {"outs": [{"path": "data/features", "md5": FAKE_MD5["data/features"]}]},
        "labels": {"outs": [{"path": "data/labels", "md5": FAKE_MD5["data/labels"]}]},
    }}))
    (ws / ".gitignore").write_text("data/\nmodels/\nreports/\nmlflow.db\nmlartifacts/\n")
    run(["git", "init", "-q", "-b", "main"], ws)
    run(["git", "add", "-A"], ws)
    run(["git", "commit", "-q", "-m", "synthetic"], ws)
    return params


def invoke(args, ws: Path, **env):
    """Run the CLI in-process from `ws` (cwd matters: dvc.lock and git are read from it)."""
    old = Path.cwd()
    os.chdir(ws)
    try:
        return CliRunner().invoke(app, args, env={"MLFLOW_TRACKING_URI": f"sqlite:///{ws}/mlflow.db",
                                                  **env})
    finally:
        os.chdir(old)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = tmp_path_factory.mktemp("ws")
    build_workspace(ws)
    r = invoke(["train", "--task", "all", "--plots", "reports/plots"], ws,
               DVC_EXP_NAME="exp-rf", DVC_STAGE="train@all")
    assert r.exit_code == 0, r.output + str(r.exception)
    return ws


@pytest.fixture(scope="module")
def client(ws):
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{ws}/mlflow.db")
    return mlflow.MlflowClient()


def runs_of(client, task):
    exp = client.get_experiment_by_name(f"dcnet-{task}")
    assert exp is not None, f"no experiment for {task}"
    return client.search_runs([exp.experiment_id], order_by=["attributes.start_time ASC"])


# ---------------------------------------------------------------- files written by train

@pytest.mark.parametrize("task,n", [("project_profile", N_PROJECTS), ("port_role", N_PORTS)])
def test_train_writes_model_meta_report_and_plots(ws, task, n):
    from pipeline.train import load_model

    meta = json.loads((ws / "models" / task / "meta.json").read_text())
    assert meta["model"] == "random_forest" and meta["cv_folds"] == 3 and meta["n_labelled"] == n
    assert "id" not in meta["feature_names"] and "project_id" not in meta["feature_names"]
    rep = json.loads((ws / "reports" / f"train_{task}.json").read_text())
    assert rep["n_labelled"] == n
    assert rep["model"]["macro_f1"] > rep["majority"]["macro_f1"]
    assert {"macro_f1", "accuracy"} <= set(rep["rule"])
    assert rep["eval"]["n"] == (len(range(0, N_PROJECTS, 2)) if task == "project_profile" else n)
    cm = pd.read_csv(ws / "reports" / "plots" / f"confusion_{task}.csv")
    assert list(cm.columns) == ["actual", "predicted"] and len(cm) == n
    assert (cm["actual"] == cm["predicted"]).mean() == pytest.approx(rep["model"]["accuracy"], abs=1e-6)
    assert (ws / "reports" / "plots" / f"confusion_{task}.png").read_bytes()[:4] == b"\x89PNG"
    model = load_model(ws / "models" / task / "model.skops")
    assert list(model.feature_names_in_) == meta["feature_names"]
    assert sorted(model.classes_) == meta["classes"]


def test_dropped_column_reported(ws):
    meta = json.loads((ws / "models" / "project_profile" / "meta.json").read_text())
    assert meta["dropped_features"] == ["empty"]


# ---------------------------------------------------------------- what MLflow recorded

def test_run_params_metrics_and_tags(ws, client):
    (run_,) = [r for r in runs_of(client, "project_profile") if r.data.tags.get("dvc_exp_name") == "exp-rf"]
    assert run_.info.status == "FINISHED"
    p, m, t = run_.data.params, run_.data.metrics, run_.data.tags
    assert p["model"] == "random_forest" and p["hp.n_estimators"] == "15"
    assert p["cv_folds"] == "3" and p["seed"] == "42"
    assert p["task.evaluate_on_source"] == "ground_truth" and p["task.rule_baseline"] == "naming"
    rep = json.loads((ws / "reports" / "train_project_profile.json").read_text())
    assert m["model_macro_f1"] == pytest.approx(rep["model"]["macro_f1"])
    assert m["majority_macro_f1"] == pytest.approx(rep["majority"]["macro_f1"])
    assert m["rule_macro_f1"] == pytest.approx(rep["rule"]["macro_f1"])
    assert m["eval_model_macro_f1"] == pytest.approx(rep["eval"]["model_macro_f1"])
    assert m["eval_rule_macro_f1"] == pytest.approx(rep["eval"]["rule_macro_f1"])
    assert set(f"model_per_class_f1_{c}" for c in PROFILES) <= set(m)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ws, capture_output=True, text=True).stdout.strip()
    assert t["git_commit"] == head and t["git_dirty"] == "false"
    assert t["task"] == "project_profile"
    assert t["dvc_exp_name"] == "exp-rf" and t["dvc_stage"] == "train@all"
    assert t["dvc_md5.data/features"] == FAKE_MD5["data/features"]
    assert t["dvc_md5.data/labels"] == FAKE_MD5["data/labels"]
    assert "empty" in t["warnings"] and t["dropped_features"] == "empty"
    assert run_.info.run_name == "random_forest@exp-rf"


def test_dataset_artifacts_and_model(ws, client, monkeypatch):
    import mlflow
    import mlflow.sklearn

    (run_,) = runs_of(client, "port_role")
    (dsi,) = run_.inputs.dataset_inputs
    assert dsi.dataset.name == "port_role-labelled"
    cols = [c["name"] for c in json.loads(dsi.dataset.schema)["mlflow_colspec"]]
    assert cols == ["n_ips", "has_sg", "label"]          # no id, no project_id
    assert json.loads(dsi.dataset.profile)["num_rows"] == N_PORTS
    assert {t.key: t.value for t in dsi.tags}.get("mlflow.data.context") == "training"

    top = {a.path for a in client.list_artifacts(run_.info.run_id)}
    assert {"feature_importances.csv", "metrics.json", "plots"} <= top
    assert [a.path for a in client.list_artifacts(run_.info.run_id, "plots")] == ["plots/confusion_port_role.png"]

    (lm,) = mlflow.search_logged_models(experiment_ids=[run_.info.experiment_id],
                                        filter_string=f"source_run_id='{run_.info.run_id}'",
                                        output_format="list")
    local = Path(lm.artifact_location.removeprefix("file://"))
    mlmodel = yaml.safe_load((local / "MLmodel").read_text())
    assert mlmodel["flavors"]["sklearn"]["serialization_format"] == "skops"
    assert mlmodel["signature"]["inputs"] and "n_ips" in mlmodel["signature"]["inputs"]
    reqs = (local / "requirements.txt").read_text()
    from importlib.metadata import version
    for pkg in ("scikit-learn", "skops", "numpy", "pandas"):
        assert f"{pkg}=={version(pkg)}" in reqs
    example = json.loads((local / "input_example.json").read_text())
    assert example["columns"] == ["n_ips", "has_sg"] and 0 < len(example["data"]) <= 5

    # The logged model predicts like the DVC-tracked one (MLflow gates skops loading).
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    logged = mlflow.sklearn.load_model(lm.model_uri)
    from pipeline.train import load_model
    ours = load_model(ws / "models" / "port_role" / "model.skops")
    X = pd.read_parquet(ws / "data" / "features" / "ports.parquet")[["n_ips", "has_sg"]]
    assert (logged.predict(X) == ours.predict(X)).all()
    # Artifacts live beside the DB, not in ./mlruns of whatever the cwd was.
    assert str(local).startswith(str(ws / "mlartifacts"))
    assert not (ws / "mlruns").exists()


def test_no_identifiers_reach_mlflow(ws):
    ids = [project_id(i) for i in range(N_PROJECTS + 6)] + [port_id(i) for i in range(N_PORTS + 10)]
    needles = [b"prjsecret", b"portsecret"]
    assert all(any(n in i.encode() for n in needles) for i in ids)
    files = [p for p in (ws / "mlartifacts").rglob("*") if p.is_file()]
    assert len(files) > 10
    for p in files:
        data = p.read_bytes()
        assert not any(n in data for n in needles), p
    con = sqlite3.connect(ws / "mlflow.db")
    tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
    for t in tables:
        for row in con.execute(f'select * from "{t}"'):
            text = repr(row).encode()
            assert not any(n in text for n in needles), (t, row)


# ---------------------------------------------------------------- runs, classify, errors

def test_runs_lists_runs_ranked_by_macro_f1(ws, client):
    r = invoke(["train", "--task", "project_profile", "--params", "params_lr.yaml",
                "--report", "reports/lr.json", "--models", "models_lr"], ws, DVC_EXP_NAME="exp-lr")
    assert r.exit_code == 0, r.output
    runs = runs_of(client, "project_profile")
    assert len(runs) == 2
    ranked = sorted(runs, key=lambda x: -x.data.metrics["model_macro_f1"])
    out = invoke(["runs", "--task", "project_profile"], ws)
    assert out.exit_code == 0, out.output
    pos = [out.stdout.find(x.info.run_id[:8]) for x in ranked]
    assert all(p >= 0 for p in pos) and pos == sorted(pos), out.stdout
    assert "exp-lr" in out.stdout and "logistic_regression" in out.stdout
    f1 = f"{ranked[0].data.metrics['model_macro_f1']:.3f}"
    assert f1 in out.stdout
    # Another stage's experiment under the same prefix (dcnet-synthetic) is not a training run.
    other = client.create_experiment("dcnet-synthetic")
    syn_run = client.create_run(other).info.run_id
    client.log_metric(syn_run, "tstr_macro_f1", 0.5)
    client.set_terminated(syn_run)
    both = invoke(["runs", "--limit", "1"], ws)
    assert "port_role" in both.stdout and both.stdout.count("project_profile") >= 1
    assert ranked[1].info.run_id[:8] not in both.stdout          # --limit is per task
    assert "synthetic" not in both.stdout


def test_runs_without_db_says_so_and_creates_nothing(tmp_path):
    r = CliRunner().invoke(app, ["runs"], env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/none.db"})
    assert r.exit_code == 0 and "no MLflow runs yet" in r.stdout
    assert not (tmp_path / "none.db").exists()


def test_classify_covers_every_row(ws):
    r = invoke(["classify"], ws)
    assert r.exit_code == 0, r.output
    pp = pd.read_parquet(ws / "data" / "predictions" / "project_profile.parquet")
    pr = pd.read_parquet(ws / "data" / "predictions" / "port_role.parquet")
    assert list(pp.columns) == ["id", "predicted", "probability"] and len(pp) == N_PROJECTS + 6
    assert list(pr.columns) == ["id", "project_id", "predicted", "probability"]
    assert len(pr) == N_PORTS + 10 and pr["id"].is_unique
    assert set(pp["predicted"]) <= set(PROFILES) and set(pr["predicted"]) <= set(ROLES)
    assert pr["probability"].between(0, 1).all()


def _bad_labels(ws: Path, tmp: Path, mutate) -> Path:
    d = tmp / "labels_bad"
    tables = {}
    for f in (ws / "data" / "labels").glob("*.parquet"):
        df = pd.read_parquet(f)
        tables[f.stem] = mutate(df) if f.stem == "project_profile" else df
    io.write_tables(tables, d)
    return d


def test_cli_errors_are_one_line_without_traceback(ws, tmp_path):
    def ghost(df):
        return pd.concat([df, pd.DataFrame({"id": ["ghost-a"], "label": ["web"], "source": ["naming"]})])

    bad = _bad_labels(ws, tmp_path, ghost)
    # A real process: exit code and the exact stderr a DVC stage would show.
    p = subprocess.run([str(Path(sys.executable).parent / "dcnet"), "train", "--task", "project_profile",
                        "--labels", str(bad), "--no-track", "--models", str(tmp_path / "m"),
                        "--report", str(tmp_path / "r.json")],
                       cwd=ws, capture_output=True, text=True, env=tool_env(), timeout=300)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr
    assert lines[0] == (f"error: {bad}/project_profile.parquet: labels name 1 ids not in the feature "
                        "table, e.g. ghost-a: fix the labels file")

    def tiny(df):
        df = df.copy()
        df.loc[df.index[:2], "label"] = "gpu"
        return df

    bad2 = _bad_labels(ws, tmp_path / "second", tiny)
    r = invoke(["train", "--task", "project_profile", "--labels", str(bad2), "--no-track",
                "--models", str(tmp_path / "m"), "--report", str(tmp_path / "r.json")], ws)
    assert r.exit_code == 2
    assert re.fullmatch(r"error: .*project_profile\.parquet: class 'gpu' has 2 labelled rows, "
                        r"fewer than cv_folds=3: lower train\.cv_folds or drop/merge the class "
                        r"\(tasks\.project_profile\.exclude_classes: \[gpu\]\)\n", r.stderr)

    params = yaml.safe_load((ws / "params.yaml").read_text())
    params["train"]["model"] = "svm"
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(params))
    r = invoke(["train", "--params", str(tmp_path / "p.yaml"), "--no-track",
                "--models", str(tmp_path / "m")], ws)
    assert r.exit_code == 2
    assert r.stderr == (f"error: {tmp_path / 'p.yaml'}: train.model 'svm' is not a known model; "
                        "valid: logistic_regression, random_forest, hist_gradient_boosting\n")
    r = invoke(["train", "--task", "nope", "--no-track"], ws)
    assert r.exit_code == 2 and "unknown task 'nope'" in r.stderr
    r = invoke(["classify", "--models", str(tmp_path / "none")], ws)
    assert r.exit_code == 2 and "model file missing" in r.stderr


# ---------------------------------------------------------------- where runs go (no mlflow)

def test_tracking_uri_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path / "parent"))
    assert tracking.tracking_uri() == f"sqlite:///{(tmp_path / 'parent').resolve()}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere/x.db")
    assert tracking.tracking_uri() == "sqlite:////elsewhere/x.db"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    monkeypatch.delenv("DVC_ROOT")
    (tmp_path / "repo" / "sub").mkdir(parents=True)
    run(["git", "init", "-q"], tmp_path / "repo")
    assert tracking.tracking_uri(tmp_path / "repo" / "sub") == \
        f"sqlite:///{(tmp_path / 'repo').resolve()}/mlflow.db"


def test_dvc_lock_md5_prefers_the_producing_stage(tmp_path):
    lock = tmp_path / "dvc.lock"
    lock.write_text(yaml.safe_dump({"stages": {
        "features": {"outs": [{"path": "data/features", "md5": "new.dir"}]},
        "train@t": {"deps": [{"path": "data/features", "md5": "old.dir"},
                             {"path": "data/validated", "md5": "val.dir"}]},
    }}))
    got = tracking.dvc_lock_md5(["data/features", "data/validated", "data/labels"], "train@t", lock)
    assert got == {"data/features": "new.dir", "data/validated": "val.dir"}
    assert tracking.dvc_lock_md5(["data/features"], None, tmp_path / "missing.lock") == {}


def test_class_names_with_mathtext_characters_are_drawn_as_written(ws, tmp_path):
    # '$', '^' and '_' start or break matplotlib's mathtext: a class named so used to crash
    # `train` after the model was written.
    def dollar(df):
        df = df.copy()
        df["label"] = df["label"].replace({"web": "$w^^e_b$", "hpc": "a$b"})
        return df

    bad = _bad_labels(ws, tmp_path, dollar)
    plots = tmp_path / "plots"
    r = invoke(["train", "--task", "project_profile", "--labels", str(bad), "--no-track",
                "--models", str(tmp_path / "m"), "--report", str(tmp_path / "r.json"),
                "--plots", str(plots)], ws)
    assert r.exit_code == 0, r.output + str(r.exception)
    assert (plots / "confusion_project_profile.png").read_bytes()[:4] == b"\x89PNG"
    assert "$w^^e_b$" in pd.read_csv(plots / "confusion_project_profile.csv")["actual"].tolist()
