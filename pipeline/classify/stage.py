"""The classify stage's entry point: read each task's model and feature table, predict, write
the predictions."""

from __future__ import annotations

from typing import Any

from pipeline import io
from pipeline.classify.predict import classify
from pipeline.errors import InputError


def run(params: dict[str, Any], task: str, features_dir, models_dir, out,
        params_file) -> dict[str, int]:
    """The classify stage: predict each task named by `task` (or `all`) with its trained model,
    write <out>/<task>.parquet; the predicted rows per task."""
    from pipeline.train.artifacts import read_model

    counts = {}
    preds = {}
    for name in io.task_names(params, task, params_file):
        cfg = dict(params["tasks"][name] or {})
        feat_path = features_dir / f"{cfg.get('features', name)}.parquet"
        model = read_model(models_dir, name)
        try:
            preds[name] = classify(model, io.read_frame(feat_path, "features table"))
        except InputError as e:
            raise InputError(f"{feat_path}: {e}") from e
        counts[name] = len(preds[name])
    # one task replaces its own table and keeps the others' predictions
    io.write_tables(preds, out, keep_existing=task != "all")
    return counts
