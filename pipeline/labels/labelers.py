"""Labelers: `fn(tables, params) -> DataFrame[id, label, source]` of candidate labels, one
source each (device_owner for port roles; ground truth and the subnet naming convention for
project profiles); LABELERS maps params.yaml's `tasks.<task>.labeler` names to them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd

from pipeline.params import default
from pipeline.roles import owner_roles
from pipeline.util import stripped as _str

LABEL_COLUMNS = ["id", "label", "source"]


class LabelConfigError(ValueError):
    """params.yaml asks for something impossible (unknown labeler, bad naming pattern)."""


def _frame(ids, labels, source: str) -> pd.DataFrame:
    df = pd.DataFrame({"id": pd.Series(list(ids), dtype="string"),
                       "label": pd.Series(list(labels), dtype="string")})
    df["source"] = pd.Series([source] * len(df), dtype="string")
    return df.sort_values("id", kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Port roles from device_owner (the mapping itself is pipeline/roles.py)

def port_role(tables: dict[str, pd.DataFrame], params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Port role from device_owner (source=device_owner); ports with a null owner get none."""
    ports = tables["ports"].drop_duplicates("id")
    roles = owner_roles(ports["device_owner"])
    keep = (roles != "missing").to_numpy()
    return _frame(ports["id"].astype("string")[keep], roles[keep], "device_owner")


# ---------------------------------------------------------------------------------------------
# Project profiles: ground truth and the subnet naming convention

def _label_params(params: dict[str, Any] | None) -> dict[str, Any]:
    p = params or {}
    return dict(p.get("labels", p) or {})


def ground_truth_labels(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    gt = tables.get("project_labels")
    if gt is None or not len(gt):
        return _frame([], [], "ground_truth")
    df = pd.DataFrame({"id": _str(gt["project_id"]), "label": _str(gt["profile"]).str.lower()})
    df = df[(df["id"] != "") & (df["label"] != "")].drop_duplicates("id", keep="first")
    return _frame(df["id"], df["label"], "ground_truth")


def subnet_name_labels(names: pd.Series, params: dict[str, Any] | None = None) -> pd.Series:
    """Label encoded in each subnet name (named group `label`, aliases applied); NA when none."""
    lp = _label_params(params)
    pattern = lp.get("naming_pattern")
    if not pattern:
        return pd.Series(pd.NA, index=names.index, dtype="string")
    try:
        rx = re.compile(pattern)
    except re.error as e:
        raise LabelConfigError(f"labels.naming_pattern {pattern!r} is not a valid regex ({e})") from e
    if "label" not in rx.groupindex:
        raise LabelConfigError(f"labels.naming_pattern {pattern!r} has no named group 'label'")
    aliases = {str(k).lower(): str(v).lower() for k, v in (lp.get("naming_aliases") or {}).items()}

    def one(name: str) -> str | None:
        m = rx.search(name.lower())
        if not m or not m.group("label"):
            return None
        lab = m.group("label").lower()
        return aliases.get(lab, lab)

    s = names.astype("string").fillna("")
    cache = {n: one(n) for n in s.unique()}
    return s.map(cache).astype("string")


def naming_vocabulary(tables: dict[str, pd.DataFrame], params: dict[str, Any] | None = None) -> set[str]:
    """Classes a naming label may take: `labels.classes`, the alias targets, and the classes
    of the ground-truth labels file."""
    lp = _label_params(params)
    vocab = {str(c).lower() for c in (lp.get("classes") or [])}
    vocab |= {str(v).lower() for v in (lp.get("naming_aliases") or {}).values()}
    gt = tables.get("project_labels")
    if gt is not None and len(gt):
        vocab |= set(_str(gt["profile"]).str.lower()) - {""}
    return vocab


def naming_labels(tables: dict[str, pd.DataFrame], params: dict[str, Any] | None = None) -> pd.DataFrame:
    """A project's weak label: the majority label over its subnets whose name matches the
    pattern, kept when its share of those subnets is >= min_naming_share (ties are dropped)."""
    lp = _label_params(params)
    min_share = float(lp.get("min_naming_share", default("labels.min_naming_share")))
    subs = tables["subnets"]
    df = pd.DataFrame({"project_id": _str(subs["project_id"]),
                       "label": subnet_name_labels(subs["name"], params)})
    # Only tokens that name a known class count: any other token is a fragment of a real
    # name, which must not become a class (it would travel into models, MLflow and synthetic
    # data as a "kind", and it identifies the few projects that use it).
    vocab = naming_vocabulary(tables, params)
    df = df[(df["project_id"] != "") & df["label"].isin(vocab)]
    if not len(df):
        return _frame([], [], "naming")
    counts = df.groupby(["project_id", "label"]).size().rename("n").reset_index()
    counts["total"] = counts.groupby("project_id")["n"].transform("sum")
    counts = counts.sort_values(["project_id", "n", "label"], ascending=[True, False, True],
                                kind="stable")
    counts["rank"] = counts.groupby("project_id").cumcount()
    first = counts[counts["rank"] == 0].set_index("project_id")
    second = counts[counts["rank"] == 1].set_index("project_id")["n"].reindex(first.index)
    tie = (first["n"] == second).fillna(False).to_numpy(dtype=bool)
    share = first["n"] / first["total"]
    keep = (share >= min_share).to_numpy() & ~tie
    chosen = first[keep]
    return _frame(chosen.index, chosen["label"], "naming")


def project_profile(tables: dict[str, pd.DataFrame], params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Candidates: ground truth (project_labels table) and the subnet naming convention."""
    return pd.concat([ground_truth_labels(tables), naming_labels(tables, params)],
                     ignore_index=True)


LABELERS: dict[str, Callable[[dict[str, pd.DataFrame], dict[str, Any] | None], pd.DataFrame]] = {
    "project_profile": project_profile,
    "port_role": port_role,
}
