"""The trained model's artifact layout, defined here and nowhere else: `<models>/<task>/model.skops`
and `<models>/<task>/meta.json`, written atomically together (pipeline.io.atomic_dir).

Apart from pipeline/train/stage.py so that the stages reading a model (classify,
evaluate-synthetic) do not import the training stage's MLflow and benchmark glue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline import io
from pipeline import train as core

MODEL_FILE = "model.skops"
META_FILE = "meta.json"


def model_path(models_dir: Path, task: str) -> Path:
    return models_dir / task / MODEL_FILE


def write_model(result: core.TrainResult, models_dir: Path) -> None:
    """<models>/<task>/model.skops + meta.json."""
    blob = core.model_bytes(result.model)
    # atomic like every stage output: the model and its meta appear together or not at all
    with io.atomic_dir(models_dir / result.task) as out:
        with io.writing(model_path(models_dir, result.task)):
            (out / MODEL_FILE).write_bytes(blob)
        io.write_json({
            "task": result.task, "model": result.model_name,
            "hyperparameters": result.hyperparameters, "seed": result.seed,
            "cv_folds": result.cv_folds, "classes": result.classes,
            "feature_names": result.feature_names, "dropped_features": result.dropped_features,
            "forbidden_features": result.forbidden_features,
            "n_labelled": result.metrics["n_labelled"], "format": "skops",
        }, out / META_FILE)


def read_model(models_dir: Path, task: str) -> Any:
    """The task's trained model (only trusted types; see pipeline.train.load_model)."""
    return core.load_model(model_path(models_dir, task))
