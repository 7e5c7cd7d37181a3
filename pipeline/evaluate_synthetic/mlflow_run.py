"""The evaluation's MLflow run (experiment dcnet-synthetic)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def log_run(report: dict[str, Any], params: dict[str, Any], plots: list[Path],
            report_path: Path | None = None, data_paths: list[str] | None = None) -> str:
    """One MLflow run in experiment dcnet-synthetic: params, every metric, plots, the report."""
    import json
    import os
    import tempfile

    from pipeline import tracking
    from pipeline.io import write_json

    uri = tracking.tracking_uri()
    mlflow = tracking._mlflow(uri)
    exp_id = tracking.experiment_id(mlflow, "synthetic", uri)
    run_params = {f"evaluate_synthetic.{k}": v for k, v in sorted(
        (params.get("evaluate_synthetic") or {}).items())}
    for k, v in sorted((params.get("synthesize") or {}).items()):
        run_params[f"synthesize.{k}"] = json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
    tags = {"task": "synthetic", "passed": str(report.get("passed")).lower()}
    tags |= tracking.provenance_tags(data_paths or [])
    name = "evaluate-synthetic"
    if os.environ.get("DVC_EXP_NAME"):
        name += f"@{os.environ['DVC_EXP_NAME']}"
    with mlflow.start_run(experiment_id=exp_id, run_name=name, tags=tags) as run:
        if run_params:
            mlflow.log_params(run_params)
        mlflow.log_metrics(tracking.flat_metrics(report))
        for p in plots:
            mlflow.log_artifact(str(p), artifact_path="plots")
        if report_path is not None and Path(report_path).exists():
            mlflow.log_artifact(str(report_path))
        else:
            with tempfile.TemporaryDirectory() as tmp:
                f = Path(tmp) / "synthetic.json"
                write_json(report, f)
                mlflow.log_artifact(str(f))
        return run.info.run_id
