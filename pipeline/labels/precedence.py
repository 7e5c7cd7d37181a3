"""The training label of each id by source precedence, with the label report (counts,
agreement between sources, conflicts)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.labels.labelers import LABEL_COLUMNS, LABELERS, LabelConfigError, _label_params

MAX_CONFLICT_EXAMPLES = 20


# ---------------------------------------------------------------------------------------------
# Precedence and report

def build_labels(candidates: pd.DataFrame, sources_order: list[str]
                 ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Training label per id = the first source in `sources_order` that has one.

    Returns (labels[id, label, source] sorted by id, report). The report counts candidates per
    source, final labels per class and per source, agreement between each pair of sources on
    the ids both label, and conflicts (ids where sources disagree) with examples.
    """
    order = list(sources_order)
    c = candidates[LABEL_COLUMNS].astype("string")
    c = c[c["id"].notna() & c["label"].notna() & c["source"].notna()]
    ignored = sorted(set(c["source"].unique()) - set(order))
    c = c[c["source"].isin(order)]
    c = c.drop_duplicates(["id", "source"], keep="first")
    rank = {s: i for i, s in enumerate(order)}
    c = c.assign(_rank=c["source"].map(rank).astype("int64"))
    c = c.sort_values(["id", "_rank"], kind="stable")
    labels = c.drop_duplicates("id", keep="first")[LABEL_COLUMNS].reset_index(drop=True)

    wide = c.pivot(index="id", columns="source", values="label")
    pairs = {}
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            if a in wide and b in wide:
                both = wide[a].notna() & wide[b].notna()
                agree = both & (wide[a] == wide[b]).fillna(False)
                pairs[f"{a}~{b}"] = {"both": int(both.sum()), "agree": int(agree.sum())}
    # ids whose sources disagree: more than one distinct label (a grouped count; the wide
    # frame's row-wise nunique took 1.7 s of the port_role training on the sample)
    distinct = c.groupby("id", sort=True)["label"].nunique()
    conflict_ids = distinct.index[distinct > 1]
    examples = []
    for i in conflict_ids[:MAX_CONFLICT_EXAMPLES]:
        row = wide.loc[i]
        examples.append({"id": str(i), "labels": {s: str(row[s]) for s in order
                                                  if s in row.index and pd.notna(row[s])}})
    report = {
        "sources_order": order,
        "ignored_sources": ignored,
        "candidates_per_source": {s: int((c["source"] == s).sum()) for s in order},
        "labels": int(len(labels)),
        "labels_per_source": {s: int((labels["source"] == s).sum()) for s in order},
        "labels_per_class": {str(k): int(v) for k, v in
                             sorted(labels["label"].value_counts().items())},
        "agreement": pairs,
        "conflicts": {"count": int(len(conflict_ids)), "examples": examples},
    }
    return labels, report


def task_labels(tables: dict[str, pd.DataFrame], params: dict[str, Any], task: str
                ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(training labels, all candidates, report) of one task in params['tasks']."""
    tasks = params.get("tasks") or {}
    if task not in tasks:
        raise LabelConfigError(f"no task {task!r} in tasks (known: {sorted(tasks)})")
    t = tasks[task] or {}
    name = t.get("labeler", task)
    if name not in LABELERS:
        raise LabelConfigError(f"unknown labeler {name!r} (known: {sorted(LABELERS)})")
    cand = LABELERS[name](tables, params)
    cand = cand.sort_values(["id", "source"], kind="stable").reset_index(drop=True)
    sources = list(t.get("label_sources") or sorted(cand["source"].unique()))
    labels, report = build_labels(cand, sources)
    report = {"labeler": name, **report}
    declared = {str(c).lower() for c in (_label_params(params).get("classes") or [])}
    if declared and name == "project_profile":  # labels.classes is the profile vocabulary
        # A class outside labels.classes is usually a typo in the labels file ("webb"): say
        # so here rather than let it surface later as a class too small for the folds.
        outside = labels[~labels["label"].str.lower().isin(declared)]
        report["classes_outside_vocabulary"] = {str(k): int(v) for k, v in
                                                outside["label"].value_counts().sort_index().items()}
    return labels, cand, report


def training_labels(tables: dict[str, pd.DataFrame], params: dict[str, Any] | None,
                    task: str = "project_profile") -> pd.DataFrame:
    """A task's training labels (id, label, source) exactly as `dcnet labels` makes them; a
    task absent from params falls back to its labeler's name and sources ground_truth, naming."""
    p = dict(params or {})
    tasks = dict(p.get("tasks") or {})
    tasks.setdefault(task, {"labeler": task, "label_sources": ["ground_truth", "naming"]})
    lab, _cand, _rep = task_labels(tables, {**p, "tasks": tasks}, task)
    return lab
