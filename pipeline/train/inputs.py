"""Training inputs: the task's errors, leak-free feature selection (no feature may read the source
its labels come from) and the checks that turn feature and label tables into X and y."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.errors import InputError

NON_FEATURE_COLUMNS = ("id", "project_id")
LABEL_COLUMNS = ("id", "label", "source")


class FeaturesError(InputError):
    """The feature table is unusable (the CLI prefixes the feature file)."""


class LabelsError(InputError):
    """The label table is unusable (the CLI prefixes the label file)."""


class ParamsError(InputError):
    """params.yaml asks for something impossible (the CLI prefixes the params file)."""


# ---------------------------------------------------------------- leak-free feature selection

def forbidden_sources(task_name: str, params: dict[str, Any]) -> set[str]:
    """tasks.<t>.forbid_sources, checked: a task whose labels are made from a source (naming:
    names, device_owner: device_owner) must forbid it, else ParamsError."""
    from pipeline.features import LABEL_SOURCE_READS, SOURCES

    cfg = dict((params.get("tasks") or {}).get(task_name) or {})
    forbid = {str(s) for s in cfg.get("forbid_sources") or []}
    unknown = sorted(forbid - set(SOURCES))
    if unknown:
        raise ParamsError(f"tasks.{task_name}.forbid_sources: unknown source(s) {', '.join(unknown)}; "
                          f"valid: {', '.join(SOURCES)}")
    for src in cfg.get("label_sources") or []:
        reads = LABEL_SOURCE_READS.get(str(src))
        if reads and reads not in forbid:
            raise ParamsError(
                f"tasks.{task_name}: labels come from {reads} (label source {src}), so no feature "
                f"may read {reads}: add {reads} to tasks.{task_name}.forbid_sources")
    return forbid


def allowed_features(features_df: pd.DataFrame, entity: str, forbid: set[str]
                     ) -> tuple[pd.DataFrame, list[str]]:
    """(the feature table without columns reading a forbidden source, the columns left out)."""
    from pipeline.features import feature_sources

    out = [c for c in features_df.columns
           if c not in NON_FEATURE_COLUMNS and feature_sources(entity, c) & forbid]
    return features_df.drop(columns=out), out


def task_features(features_df: pd.DataFrame, task_name: str, params: dict[str, Any]
                  ) -> tuple[pd.DataFrame, list[str]]:
    """The columns a task may learn from (see forbidden_sources)."""
    cfg = dict((params.get("tasks") or {}).get(task_name) or {})
    return allowed_features(features_df, str(cfg.get("features", task_name)),
                            forbidden_sources(task_name, params))


# ---------------------------------------------------------------- input checks

def feature_matrix(features_df: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """(X float64 indexed by id, dropped all-null columns, warnings); X's columns are the features.

    All-null columns are dropped (nothing to learn, and imputers choke on them); +-inf
    becomes NaN. Non-numeric feature columns are an error: the feature stage must encode them.
    """
    if "id" not in features_df.columns:
        raise FeaturesError("feature table has no `id` column")
    ids = features_df["id"]
    if ids.isna().any():
        raise FeaturesError(f"{int(ids.isna().sum())} feature rows have no id")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise FeaturesError(f"{len(dup)} duplicate ids in the feature table, e.g. {_examples(dup)}")
    cols = [c for c in features_df.columns if c not in NON_FEATURE_COLUMNS]
    bad = [c for c in cols if not (pd.api.types.is_numeric_dtype(features_df[c])
                                   or pd.api.types.is_bool_dtype(features_df[c]))]
    if bad:
        raise FeaturesError(
            f"non-numeric feature column(s) {', '.join(bad[:5])}: feature tables hold id, "
            "project_id and numeric columns only (fix pipeline/features/)")
    warns = []
    data = {}
    dropped = []
    for c in cols:
        v = features_df[c].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        if np.isnan(v).all():
            dropped.append(c)
            continue
        inf = np.isinf(v)
        if inf.any():
            v = np.where(inf, np.nan, v)
            warns.append(f"feature {c}: {int(inf.sum())} infinite values treated as missing")
        data[c] = v
    if dropped:
        warns.insert(0, f"dropped {len(dropped)} all-null feature column(s): {', '.join(dropped)}")
    if not data:
        raise FeaturesError("feature table has no usable (non-null numeric) feature columns")
    X = pd.DataFrame(data, index=pd.Index(ids.astype(str).to_numpy(), name="id"))
    return X, dropped, warns


def _examples(values, n: int = 3) -> str:
    vals = [str(v) for v in list(values)[:n]]
    return ", ".join(vals)


def _labelled(labels_df: pd.DataFrame, X: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    missing = [c for c in LABEL_COLUMNS if c not in labels_df.columns]
    if missing:
        raise LabelsError(f"label table lacks column(s) {', '.join(missing)}: expected id, label, source")
    lab = labels_df.loc[:, list(LABEL_COLUMNS)].copy()
    warns = []
    lab["id"] = lab["id"].astype("string")
    null = lab["label"].isna() | lab["id"].isna()
    if null.any():
        warns.append(f"ignored {int(null.sum())} label rows without an id or label")
        lab = lab[~null]
    lab["label"] = lab["label"].astype(str)
    lab["source"] = lab["source"].astype("string").fillna("unknown").astype(str)
    dup = lab["id"][lab["id"].duplicated()]
    if len(dup):
        raise LabelsError(f"{dup.nunique()} ids are labelled more than once, e.g. {_examples(dup.unique())}: "
                          "keep one training label per id")
    unknown = lab["id"][~lab["id"].isin(X.index)]
    if len(unknown):
        raise LabelsError(f"labels name {len(unknown)} ids not in the feature table, e.g. "
                          f"{_examples(unknown)}: fix the labels file")
    return lab.reset_index(drop=True), warns


def _check_classes(y: pd.Series, folds: int, task: str) -> None:
    counts = y.value_counts()
    if not len(counts):
        raise LabelsError("no labelled rows: give the dataset a labels.csv (project_id,profile) or "
                          "subnet names matching labels.naming_pattern")
    if len(counts) < 2:
        only = f" (only '{counts.index[0]}')"
        raise LabelsError(f"{len(y)} labelled rows but fewer than 2 classes{only}: "
                          "a classifier needs at least two classes")
    small = counts[counts < folds].sort_values(kind="stable")
    if len(small):
        cls, n = small.index[0], int(small.iloc[0])
        more = f" (and {len(small) - 1} more class(es))" if len(small) > 1 else ""
        raise LabelsError(f"class '{cls}' has {n} labelled rows{more}, fewer than cv_folds={folds}: "
                          "lower train.cv_folds or drop/merge the class "
                          f"(tasks.{task}.exclude_classes: [{cls}])")
