"""Everything together: fidelity, utility and privacy of a synthetic data center in one report,
the real-against-real baseline, and the gates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipeline.evaluate_synthetic.column_shapes import column_shapes
from pipeline.evaluate_synthetic.dcr import dcr
from pipeline.evaluate_synthetic.kinds import profile_mix, project_kinds
from pipeline.evaluate_synthetic.metrics import _mean, _r
from pipeline.evaluate_synthetic.overlap import OVERLAP_CATEGORIES, exact_overlap
from pipeline.evaluate_synthetic.structure import structural_counts, structure
from pipeline.evaluate_synthetic.utility import TASK, utility
from pipeline.params import default

DEFAULT_HOLDOUT_SHARE = default("evaluate_synthetic.holdout_share")
DEFAULT_SEED = default("evaluate_synthetic.seed")
DEFAULT_MIN_FIDELITY = default("evaluate_synthetic.min_fidelity")


@dataclass
class Evaluation:
    report: dict[str, Any]
    real_counts: dict[str, np.ndarray] = field(default_factory=dict)
    synth_counts: dict[str, np.ndarray] = field(default_factory=dict)
    real_kinds: pd.Series | None = None
    synth_kinds: pd.Series | None = None


def evaluate(real: dict[str, pd.DataFrame], synthetic: dict[str, pd.DataFrame],
             params: dict[str, Any] | None = None, *, real_labels: pd.DataFrame | None = None,
             real_predictions: pd.DataFrame | None = None, model: Any = None) -> Evaluation:
    """Fidelity, utility and privacy of `synthetic` against `real`; see the package docstring (__init__.py).

    real_labels / real_predictions: the project_profile label and prediction tables of the real
    data (computed by the labeler when labels are None); model: the trained project_profile
    model, used to give a kind to synthetic (and real, without predictions) projects that have
    no label.
    """
    from pipeline.features import project_features

    params = dict(params or {})
    ep = dict(params.get("evaluate_synthetic") or {})
    seed = int(ep.get("seed", DEFAULT_SEED))
    holdout = float(ep.get("holdout_share", DEFAULT_HOLDOUT_SHARE))
    min_fid = float(ep.get("min_fidelity", DEFAULT_MIN_FIDELITY))

    shapes = column_shapes(real, synthetic)
    rc, sc = structural_counts(real), structural_counts(synthetic)
    struct = structure(rc, sc)

    rfeat = project_features(real, params)
    sfeat = project_features(synthetic, params)
    from pipeline.labels import training_labels

    rlab = real_labels if real_labels is not None else training_labels(real, params, TASK)
    slab = training_labels(synthetic, params, TASK)
    # A synthetic label naming a kind the real data does not have (e.g. the naming convention
    # read off the synthesizer's own external network name) is no kind: the model decides.
    known = set(rlab["label"].astype(str))
    foreign = ~slab["label"].astype(str).isin(known) if known else pd.Series(False, index=slab.index)
    slab = slab[~foreign.to_numpy()]
    rk, rsrc = project_kinds(rfeat, rlab, real_predictions, model)
    sk, ssrc = project_kinds(sfeat, slab, None, model)
    ssrc["foreign_label"] = int(foreign.sum())
    mix = profile_mix(rk, sk) | {"sources": {"real": rsrc, "synthetic": ssrc}}

    # The profile mix (matched by construction when the mix is as learned) and columns constant
    # in the real data are reported apart: in the overall they would only inflate it.
    parts = {"column_shapes": shapes["score"], "structure": struct["score"]}
    overall = _mean(parts.values())
    baseline = real_baseline(real, seed)

    util = utility(rfeat, rlab, sfeat, slab, params)
    overlap = exact_overlap(real, synthetic)
    dist = dcr(rfeat, sfeat, holdout, seed)

    gates = {
        "fidelity": {"passed": overall is not None and overall >= min_fid,
                     "value": overall, "min": min_fid},
        "exact_overlap": {"passed": overlap["total"] == 0, "value": overlap["total"], "max": 0},
    }
    report = {
        "score": overall,
        "fidelity": {"overall": overall, "parts": parts, "column_shapes": shapes,
                     "structure": struct, "profile_mix": mix, "real_baseline": baseline,
                     "relative_to_real": _r(overall / baseline["overall"])
                     if overall is not None and baseline.get("overall") else None},
        "utility": util,
        "privacy": {"exact_overlap": overlap, "dcr": dist},
        "gates": gates,
        "passed": all(g["passed"] for g in gates.values()),
        "sizes": {"real": _sizes(real), "synthetic": _sizes(synthetic),
                  "real_projects": int(len(rfeat)), "synthetic_projects": int(len(sfeat))},
        "params": {"seed": seed, "holdout_share": holdout, "min_fidelity": min_fid},
    }
    return Evaluation(report, rc, sc, rk, sk)


def real_baseline(real: dict[str, pd.DataFrame], seed: int) -> dict[str, Any]:
    """The same fidelity parts between two random halves of the real projects: what real data
    reaches against itself, so the synthetic score reads as a fraction of it."""
    from pipeline.features import project_ids
    from pipeline.evaluate_synthetic.heldout import subset

    ids = np.array(project_ids(real))
    if len(ids) < 4:
        return {"overall": None, "note": "fewer than 4 projects"}
    half = set(np.random.default_rng(seed).permutation(ids)[: len(ids) // 2])
    a, b = subset(real, half), subset(real, set(ids) - half)
    parts = {"column_shapes": column_shapes(a, b)["score"],
             "structure": structure(structural_counts(a), structural_counts(b))["score"]}
    return {"overall": _mean(parts.values()), "parts": parts, "projects": [len(half), len(ids) - len(half)]}


def _sizes(tables: dict[str, pd.DataFrame]) -> dict[str, int]:
    from schemas.model import TABLES

    return {n: int(len(tables[n])) if tables.get(n) is not None else 0 for n in TABLES}


def gate_failures(report: dict[str, Any]) -> list[str]:
    """One line per failed gate (the CLI fails the stage with them after writing everything)."""
    msgs = []
    g = report["gates"]
    if not g["fidelity"]["passed"]:
        msgs.append(f"fidelity {g['fidelity']['value']} below min_fidelity {g['fidelity']['min']}")
    if not g["exact_overlap"]["passed"]:
        ov = report["privacy"]["exact_overlap"]
        parts = [f"{k} {ov[k]['count']}" for k in OVERLAP_CATEGORIES if ov.get(k, {}).get("count")]
        msgs.append(f"{ov['total']} real values reappear in the synthetic data ({', '.join(parts)})")
    held = g.get("tstr_heldout")   # set by `dcnet evaluate-synthetic --bench` (heldout.py)
    if held and not held["passed"]:
        msgs.append(f"held-out TSTR is {held['value']} below TRTR, more than tstr_max_gap {held['max']}")
    return msgs
