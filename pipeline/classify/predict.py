"""Predictions of a trained task model for every row of a feature table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.errors import InputError

OUTPUT_COLUMNS = ("id", "project_id", "predicted", "probability")


def classify(model: Any, features_df: pd.DataFrame) -> pd.DataFrame:
    """id[, project_id], predicted, probability for every row of `features_df`, in its order.

    The model must have been fitted on a DataFrame (it then knows its feature names, see
    `feature_names_in_`); extra columns in `features_df` are ignored, missing ones are an error.
    """
    names = list(getattr(model, "feature_names_in_", []))
    if not names:
        raise InputError("model does not record its feature names: retrain it with dcnet train")
    missing = [c for c in names if c not in features_df.columns]
    if missing:
        raise InputError(f"feature table lacks {len(missing)} column(s) the model was trained on "
                         f"({', '.join(missing[:5])}): rerun dcnet features or retrain")
    out = pd.DataFrame({"id": features_df["id"].astype("string").to_numpy()})
    if "project_id" in features_df.columns:
        out["project_id"] = features_df["project_id"].astype("string").to_numpy()
    if len(features_df) == 0:
        out["predicted"] = pd.Series([], dtype="string")
        out["probability"] = pd.Series([], dtype="Float64")
        return out
    # Same conversion as training (nullable -> float64 NaN, inf -> NaN); columns that are
    # all-null here are fine, so build the matrix column by column rather than drop them.
    X = pd.DataFrame({c: _floats(features_df[c]) for c in names})
    proba = model.predict_proba(X)
    best = proba.argmax(axis=1)
    out["predicted"] = pd.array(np.asarray(model.classes_, dtype=object)[best].astype(str), dtype="string")
    out["probability"] = pd.array(np.round(proba[np.arange(len(X)), best], 6), dtype="Float64")
    return out


def _floats(s: pd.Series) -> np.ndarray:
    try:
        v = s.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as e:
        raise InputError(f"feature column {s.name} is not numeric ({s.dtype})") from e
    return np.where(np.isinf(v), np.nan, v)
