"""MLflow glue: where runs go, what a training run records, and reading runs back.

Where: MLFLOW_TRACKING_URI when set, else `sqlite:///<root>/mlflow.db` where root is DVC_ROOT
(set by DVC for every stage command; for `dvc exp run --temp` and queued experiments DVC sets
it to the *parent* repository, not the temporary copy, so those runs land in the repo's DB),
else the git toplevel of the current directory, else the current directory. Artifacts go
beside a sqlite DB in `mlartifacts/` (MLflow's default, ./mlruns under the current directory,
would vanish with a temporary experiment copy). Both are gitignored and never DVC outputs.

What: one experiment per task (`dcnet-<task>`); per run the model choice and hyperparameters,
the CV metrics of the model and both baselines, provenance tags (git commit, DVC experiment
and stage, md5 of the input data from dvc.lock), the labelled training set as a dataset input,
the confusion matrix, feature importances and the model (skops). Nothing logged carries an
entity id, name, MAC or IP: frames are logged without `id`/`project_id`.

`import mlflow` costs seconds, so it happens inside the functions that need it.
"""

from __future__ import annotations

import numbers
import os
import re
import subprocess
import warnings
from pathlib import Path
from typing import Any

EXPERIMENT_PREFIX = "dcnet-"
MODEL_ARTIFACT = "model"
INPUT_EXAMPLE_ROWS = 5
SORT_METRIC = "model_macro_f1"


# ---------------------------------------------------------------- where

def repo_root(cwd: Path | None = None) -> Path:
    """DVC_ROOT, else the git toplevel of `cwd`, else `cwd`."""
    if os.environ.get("DVC_ROOT"):
        return Path(os.environ["DVC_ROOT"]).resolve()
    cwd = Path(cwd or Path.cwd())
    top = _git(["rev-parse", "--show-toplevel"], cwd)
    return Path(top).resolve() if top else cwd.resolve()


def tracking_uri(cwd: Path | None = None) -> str:
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    return f"sqlite:///{repo_root(cwd) / 'mlflow.db'}"


def sqlite_path(uri: str) -> Path | None:
    """The DB file of a sqlite:/// URI, None for other stores."""
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri[len("sqlite:///"):])


def _mlflow(uri: str | None = None):
    """Import mlflow, point it at the tracking store (creating a sqlite DB's folder)."""
    import logging

    uri = uri or tracking_uri()
    db = sqlite_path(uri)
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
    import mlflow

    # MLflow/alembic narrate DB migrations at INFO (mlflow sets its level on import); the
    # CLI prints its own summary.
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    mlflow.set_tracking_uri(uri)
    return mlflow


def _artifact_location(uri: str, experiment: str) -> str | None:
    db = sqlite_path(uri)
    return (db.parent / "mlartifacts" / experiment).resolve().as_uri() if db is not None else None


def experiment_id(mlflow, task: str, uri: str) -> str:
    """The task's experiment, created (or restored when deleted) as needed."""
    name = EXPERIMENT_PREFIX + task
    exp = mlflow.get_experiment_by_name(name)
    if exp is None:
        return mlflow.create_experiment(name, artifact_location=_artifact_location(uri, name),
                                        tags={"task": task})
    if exp.lifecycle_stage == "deleted":
        mlflow.tracking.MlflowClient().restore_experiment(exp.experiment_id)
    return exp.experiment_id


# ---------------------------------------------------------------- provenance

def _git(args: list[str], cwd: Path) -> str | None:
    try:
        p = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return p.stdout.strip() if p.returncode == 0 and p.stdout.strip() else None


def dvc_lock_md5(paths: list[str], stage: str | None = None, lock: Path = Path("dvc.lock")
                 ) -> dict[str, str]:
    """md5 per path as dvc.lock records it: the producing stage's output (written as soon as
    that stage finished, so current while a later stage runs), else `stage`'s own deps.
    dvc.lock is read from the working directory: in `dvc exp run --temp` that is the
    temporary copy being reproduced, which is the lock that matches the data used."""
    import yaml

    lock = Path(lock)
    if not lock.exists():
        return {}
    try:
        stages = (yaml.safe_load(lock.read_text()) or {}).get("stages") or {}
    except yaml.YAMLError:
        return {}
    found: dict[str, str] = {}
    for entry in stages.values():
        for out in entry.get("outs") or []:
            if out.get("path") in paths and out.get("md5"):
                found[out["path"]] = out["md5"]
    if stage and stage in stages:
        for dep in stages[stage].get("deps") or []:
            if dep.get("path") in paths and dep.get("md5"):
                found.setdefault(dep["path"], dep["md5"])
    return found


def provenance_tags(data_paths: list[str], cwd: Path | None = None) -> dict[str, str]:
    cwd = Path(cwd or Path.cwd())
    commit = _git(["rev-parse", "HEAD"], cwd)
    tags = {
        "git_commit": commit or os.environ.get("DVC_EXP_BASELINE_REV") or "none",
        "dvc_exp_name": os.environ.get("DVC_EXP_NAME", ""),
        "dvc_exp_baseline_rev": os.environ.get("DVC_EXP_BASELINE_REV", ""),
        "dvc_stage": os.environ.get("DVC_STAGE", ""),
    }
    if commit:
        # Tracked files edited since the commit (e.g. params set by `dvc exp run -S`).
        dirty = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
        tags["git_dirty"] = "true" if dirty else "false"
    for path, md5 in dvc_lock_md5(data_paths, os.environ.get("DVC_STAGE"), cwd / "dvc.lock").items():
        tags[f"dvc_md5.{path}"] = md5
    return {k: v for k, v in tags.items() if v != ""}


def pip_requirements() -> list[str]:
    """Pinned requirements of a logged model: what loading and predicting needs."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for pkg in ("scikit-learn", "skops", "numpy", "pandas", "scipy"):
        try:
            out.append(f"{pkg}=={version(pkg)}")
        except PackageNotFoundError:  # pragma: no cover - all are dependencies
            pass
    return out


def metric_name(name: str) -> str:
    # MLflow metric names: word characters, '.', '-', '/', ' ' only.
    return re.sub(r"[^\w.\-/ ]", "_", name)


def flat_metrics(report: dict[str, Any], sep: str = ".") -> dict[str, float]:
    """Numeric leaves of a nested report as {MLflow-safe name: value}, the path joined by
    `sep` (e.g. model_macro_f1 with sep="_"); booleans become 0/1, NaN leaves are dropped."""
    out: dict[str, float] = {}

    def walk(prefix, d):
        for k, v in d.items():
            key = f"{prefix}{sep}{k}" if prefix else str(k)
            if isinstance(v, dict):
                walk(key, v)
            elif isinstance(v, numbers.Real) and v == v:  # numpy scalars are Real too
                out[metric_name(key)] = float(v)

    walk("", report)
    return out


# ---------------------------------------------------------------- reports shared with the CLI

def confusion_figure(result):
    """Confusion matrix (CV, out-of-fold) as a matplotlib Figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.util import plot_text

    cm = result.confusion
    n = len(cm)
    size = max(4.0, 0.6 * n + 2.5)
    fig, ax = plt.subplots(figsize=(size, size * 0.85), dpi=100)
    vals = cm.to_numpy()
    ax.imshow(vals, cmap="Blues")
    ax.set_xticks(range(n), [plot_text(c) for c in cm.columns], rotation=45, ha="right")
    ax.set_yticks(range(n), [plot_text(c) for c in cm.index])
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    macro = result.metrics["model"].get("macro_f1", float("nan"))
    ax.set_title(f"{plot_text(result.task)}: {plot_text(result.model_name)}\n"
                 f"{result.cv_folds}-fold CV, "
                 f"out-of-fold macro-F1 {macro:.3f}", fontsize=10)
    top = vals.max() if vals.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(int(vals[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if top and vals[i, j] > top / 2 else "black")
    fig.tight_layout()
    return fig


def write_confusion_png(result, path: Path) -> Path:
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = confusion_figure(result)
    # Fixed metadata so the PNG bytes depend only on the numbers.
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path


# ---------------------------------------------------------------- logging a training run

def log_training(result, params: dict[str, Any], *, dataset_source: str | None = None,
                 data_paths: list[str] | None = None, confusion_png: Path | None = None,
                 model_blob: bytes | None = None) -> str:
    """Record one trained task as an MLflow run; returns the run id."""
    import tempfile

    from pipeline.io import write_json
    from pipeline.train import model_bytes, trusted_types

    uri = tracking_uri()
    mlflow = _mlflow(uri)
    import mlflow.data
    import mlflow.sklearn
    from mlflow.models import infer_signature

    task_cfg = dict((params.get("tasks") or {}).get(result.task) or {})
    exp_id = experiment_id(mlflow, result.task, uri)
    exp_name = os.environ.get("DVC_EXP_NAME")
    run_name = f"{result.model_name}@{exp_name}" if exp_name else result.model_name

    run_params: dict[str, Any] = {"model": result.model_name, "cv_folds": result.cv_folds,
                                  "seed": result.seed, "n_features": len(result.feature_names)}
    run_params |= {f"hp.{k}": v for k, v in sorted(result.hyperparameters.items())}
    for k, v in sorted(task_cfg.items()):
        run_params[f"task.{k}"] = ",".join(map(str, v)) if isinstance(v, (list, tuple)) else v
    metrics = flat_metrics(result.metrics, sep="_")
    tags = {"task": result.task} | provenance_tags(data_paths or [])
    if result.dropped_features:
        tags["dropped_features"] = ",".join(result.dropped_features)[:4000]
    if result.warnings:
        tags["warnings"] = " | ".join(result.warnings)[:4000]

    X = result.train_frame.drop(columns=["label"])
    example = X.head(INPUT_EXAMPLE_ROWS)
    blob = model_blob or model_bytes(result.model)

    with mlflow.start_run(experiment_id=exp_id, run_name=run_name, tags=tags) as run:
        mlflow.log_params(run_params)
        mlflow.log_metrics(metrics)
        with warnings.catch_warnings():
            # A relative file path resolves to two equivalent local sources (either is fine),
            # and MLflow's digest code trips pandas deprecation notices.
            warnings.simplefilter("ignore")
            ds = mlflow.data.from_pandas(result.train_frame, source=dataset_source or "unknown",
                                         targets="label", name=f"{result.task}-labelled")
        mlflow.log_input(ds, context="training")
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            png = Path(confusion_png) if confusion_png else write_confusion_png(
                result, tmp / f"confusion_{result.task}.png")
            mlflow.log_artifact(str(png), artifact_path="plots")
            result.importances.to_csv(tmp / "feature_importances.csv", index=False)
            mlflow.log_artifact(str(tmp / "feature_importances.csv"))
            write_json(result.metrics, tmp / "metrics.json")
            mlflow.log_artifact(str(tmp / "metrics.json"))
            if result.warnings:
                (tmp / "warnings.txt").write_text("\n".join(result.warnings) + "\n")
                mlflow.log_artifact(str(tmp / "warnings.txt"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            signature = infer_signature(example, result.model.predict(example))
            mlflow.sklearn.log_model(
                result.model, name=MODEL_ARTIFACT, signature=signature, input_example=example,
                pip_requirements=pip_requirements(), serialization_format="skops",
                skops_trusted_types=trusted_types(blob))
        return run.info.run_id


# ---------------------------------------------------------------- config prediction (regression)

DEMAND_TASK = "config_demand"


def log_demand(report: dict[str, Any], model, params: dict[str, Any], *,
               data_paths: list[str] | None = None) -> str:
    """Record a config-prediction run in experiment dcnet-config_demand; returns the run id.
    Metrics: the report's numeric leaves (cv_*, benchmark_*); `model_mae_reduction` is the
    CV MAE reduction against the per-profile median (what `dcnet runs` ranks by)."""
    import tempfile

    import mlflow.sklearn

    from pipeline.io import write_json
    from pipeline.train import model_bytes, trusted_types

    uri = tracking_uri()
    mlflow = _mlflow(uri)
    exp_id = experiment_id(mlflow, DEMAND_TASK, uri)
    metrics = flat_metrics({k: v for k, v in report.items() if k in ("cv", "benchmark")}, sep="_")
    metrics["model_mae_reduction"] = float(report["cv"]["mae_reduction"])
    tags = {"task": DEMAND_TASK} | provenance_tags(data_paths or [])
    exp_name = os.environ.get("DVC_EXP_NAME")
    with mlflow.start_run(experiment_id=exp_id, tags=tags,
                          run_name=f"random_forest_regressor@{exp_name}" if exp_name else "random_forest_regressor") as run:
        mlflow.log_params({"model": "random_forest_regressor", "seed": report["seed"],
                           "n_estimators": report["n_estimators"], "cv_folds": report["cv"]["folds"],
                           "inputs": ",".join(report["inputs"]), "targets": ",".join(report["targets"])})
        mlflow.log_metrics(metrics)
        with tempfile.TemporaryDirectory() as tmp:
            write_json(report, Path(tmp) / "metrics.json")
            mlflow.log_artifact(str(Path(tmp) / "metrics.json"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, forest in model.forests.items():   # one regressor per target, no ids
                blob = model_bytes(forest)
                mlflow.sklearn.log_model(forest, name=f"{MODEL_ARTIFACT}_{name}",
                                         pip_requirements=pip_requirements(),
                                         serialization_format="skops",
                                         skops_trusted_types=trusted_types(blob))
        return run.info.run_id


# ---------------------------------------------------------------- reading runs back

def list_runs(task: str | None = None, limit: int | None = None, uri: str | None = None):
    """Finished training runs as a DataFrame ranked by CV macro-F1 within each task;
    None when the tracking DB does not exist yet (nothing is created)."""
    import pandas as pd

    uri = uri or tracking_uri()
    db = sqlite_path(uri)
    if db is not None and not db.exists():
        return None
    mlflow = _mlflow(uri)
    if task:
        exps = [e for e in [mlflow.get_experiment_by_name(EXPERIMENT_PREFIX + task)] if e]
    else:
        exps = mlflow.search_experiments(filter_string=f"name LIKE '{EXPERIMENT_PREFIX}%'")
    frames = []
    for e in sorted(exps, key=lambda e: e.name):
        # config prediction ranks by its MAE reduction (can be negative), classifiers by macro-F1
        regression = e.name == EXPERIMENT_PREFIX + DEMAND_TASK
        metric = "model_mae_reduction" if regression else SORT_METRIC
        floor = "> -1e308" if regression else ">= 0"
        df = mlflow.search_runs(experiment_ids=[e.experiment_id],
                                # training runs only (dcnet-synthetic holds other runs)
                                filter_string=f"attributes.status = 'FINISHED' AND metrics.{metric} {floor}",
                                order_by=[f"metrics.{metric} DESC", "attributes.start_time DESC"],
                                max_results=limit or 1000)
        if len(df):
            frames.append(df.assign(task=e.name[len(EXPERIMENT_PREFIX):]))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)
