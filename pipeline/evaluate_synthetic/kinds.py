"""Project kinds of the real and the synthetic data (label, else prediction, else unknown) and
the fidelity report's profile mix."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.evaluate_synthetic.metrics import _r, tv_complement

UNKNOWN_KIND = "unknown"


def project_kinds(features: pd.DataFrame, labels: pd.DataFrame | None = None,
                  predictions: pd.DataFrame | None = None, model: Any = None
                  ) -> tuple[pd.Series, dict[str, int]]:
    """Kind of every project of `features` (string Series indexed by project id) and how many
    kinds came from each source: label, else prediction (given, or the model's), else unknown."""
    ids = pd.Index(features["id"].astype("string"), name="id")
    kinds = pd.Series(pd.NA, index=ids, dtype="string")
    n_label = n_pred = 0
    if labels is not None and len(labels):
        lab = labels.drop_duplicates("id")
        lab = pd.Series(lab["label"].astype("string").to_numpy(), index=lab["id"].astype("string").to_numpy())
        kinds = kinds.fillna(lab.reindex(ids))
        n_label = int(kinds.notna().sum())
    if predictions is None and model is not None and kinds.isna().any() and len(features):
        from pipeline.classify import classify

        predictions = classify(model, features)
    if predictions is not None and len(predictions):
        pr = predictions.drop_duplicates("id")
        pr = pd.Series(pr["predicted"].astype("string").to_numpy(), index=pr["id"].astype("string").to_numpy())
        before = int(kinds.notna().sum())
        kinds = kinds.fillna(pr.reindex(ids))
        n_pred = int(kinds.notna().sum()) - before
    n_unknown = int(kinds.isna().sum())
    kinds = kinds.fillna(UNKNOWN_KIND)
    return kinds, {"label": n_label, "prediction": n_pred, "unknown": n_unknown}


def profile_mix(real_kinds: pd.Series, synth_kinds: pd.Series) -> dict[str, Any]:
    def shares(k):
        v = k.value_counts(normalize=True)
        return {str(c): _r(v[c]) for c in sorted(v.index)}

    return {"tv_complement": _r(tv_complement(real_kinds.astype(object), synth_kinds.astype(object))),
            "real": shares(real_kinds), "synthetic": shares(synth_kinds)}
