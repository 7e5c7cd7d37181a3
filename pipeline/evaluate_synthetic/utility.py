"""Utility: TSTR (train on synthetic, test on real) against TRTR with the training stage's
model registry, hyperparameters and seed."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.evaluate_synthetic.metrics import _r
from pipeline.params import default

TASK = "project_profile"


def _exclude(lab: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    excluded = [str(c) for c in ((params.get("tasks") or {}).get(TASK) or {}).get("exclude_classes") or []]
    return lab[~lab["label"].astype(str).isin(excluded)] if excluded else lab


def utility(real_features: pd.DataFrame, real_labels: pd.DataFrame, synth_features: pd.DataFrame,
            synth_labels: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """macro-F1 of TSTR (fit on every labelled synthetic project, score every labelled real one)
    and TRTR (out-of-fold, `dcnet train`'s own cross-validation), both also on the ground-truth
    labelled real projects alone."""
    from pipeline import train

    p = dict(params or {})
    p["tasks"] = {**(p.get("tasks") or {}), TASK: dict(((p.get("tasks") or {}).get(TASK)) or {})}
    eval_source = p["tasks"][TASK].get("evaluate_on_source", "ground_truth")
    out: dict[str, Any] = {"model": None, "tstr_macro_f1": None, "trtr_macro_f1": None,
                           "tstr_trtr_ratio": None, "eval_source": eval_source}
    try:
        model_name, hp = train.model_choice(TASK, p)
        out["model"] = model_name
    except train.InputError as e:
        out["error"] = str(e)
        return out

    # TRTR: exactly what `dcnet train` reports (same folds, seed, model).
    try:
        res = train.train_task(TASK, real_features, real_labels, None, p)
        out["trtr_macro_f1"] = res.metrics["model"]["macro_f1"]
        out["trtr_macro_f1_eval"] = (res.metrics.get("eval") or {}).get("model_macro_f1")
        out["n_real_labelled"] = int(res.metrics["n_labelled"])
    except (train.InputError, train.StageFailed) as e:
        out["trtr_error"] = str(e)

    # TSTR: the registry's model, fitted on the synthetic projects, scored on the real ones.
    try:
        # The columns the task may learn from (no name tokens when labels come from names).
        Xs, _d, _w = train.feature_matrix(train.task_features(synth_features, TASK, p)[0])
        Xr, _d, _w = train.feature_matrix(train.task_features(real_features, TASK, p)[0])
        slab = _exclude(synth_labels, p)
        slab = slab[slab["id"].astype(str).isin(Xs.index)]
        rlab = _exclude(real_labels, p)
        rlab = rlab[rlab["id"].astype(str).isin(Xr.index)]
        ys = slab["label"].astype(str).to_numpy()
        if len(set(ys)) < 2:
            raise train.LabelsError(f"{len(ys)} labelled synthetic projects with fewer than 2 "
                                    "kinds: nothing to train on")
        cols = list(Xr.columns)  # the real feature space; a column the synthesizer lacks is 0
        Xs = Xs.reindex(columns=cols, fill_value=0.0)
        model = train.build_model(model_name, hp, int((p.get("train") or {}).get("seed", default("train.seed"))))
        model = train.fit_to_size(model, len(ys), len(set(ys)))
        model.fit(Xs.loc[slab["id"].astype(str).to_numpy()], ys)
        yr = rlab["label"].astype(str).to_numpy()
        pred = model.predict(Xr.loc[rlab["id"].astype(str).to_numpy()])
        s = train.scores(yr, pred)
        out["tstr_macro_f1"] = _r(s.get("macro_f1"))
        out["tstr_per_class_f1"] = {k: _r(v) for k, v in sorted((s.get("per_class_f1") or {}).items())}
        m = (rlab["source"].astype(str) == eval_source).to_numpy()
        out["tstr_macro_f1_eval"] = _r(train.scores(yr[m], pred[m])["macro_f1"]) if m.any() else None
        out["n_synthetic_labelled"] = int(len(ys))
        out["synthetic_classes"] = sorted(set(ys))
    except (train.InputError, train.StageFailed) as e:
        out["tstr_error"] = str(e)
    if out["tstr_macro_f1"] is not None and out["trtr_macro_f1"]:
        out["tstr_trtr_ratio"] = _r(out["tstr_macro_f1"] / out["trtr_macro_f1"])
    return out
