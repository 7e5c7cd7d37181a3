"""Labels for classification tasks: candidate labels per source, precedence, rule baselines.

A labeler is `fn(tables, params) -> DataFrame[id, label, source]` of candidate labels (any
number of sources, at most one label per id and source). LABELERS maps the names used in
params.yaml (`tasks.<task>.labeler`) to them, so a new task is configuration plus one small
function. `build_labels` picks the training label by source precedence and reports counts and
conflicts between sources.

Rule baselines (RULE_BASELINES) are what a person would do without a model: the subnet naming
convention for projects, a keyword map over port names for ports. The trainer compares the
model against them and fills None with the majority class.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd

from pipeline.roles import owner_roles
from pipeline.params import default
from pipeline.util import stripped as _str

LABEL_COLUMNS = ["id", "label", "source"]
MAX_CONFLICT_EXAMPLES = 20


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
    n_labels = wide.notna().sum(axis=1)
    n_distinct = wide.nunique(axis=1)
    conflict_ids = wide.index[(n_labels > 1) & (n_distinct > 1)]
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


# ---------------------------------------------------------------------------------------------
# Rule baselines

# Keyword -> role, first match over the name's tokens in this order wins.
PORT_NAME_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("dhcp", "dhcp"),
    ("fip", "floating_ip"), ("floating", "floating_ip"), ("floatingip", "floating_ip"),
    ("lb", "lb_vip"), ("vip", "lb_vip"), ("octavia", "lb_vip"), ("lbaas", "lb_vip"),
    ("gw", "router_gateway"), ("gateway", "router_gateway"),
    ("router", "router_interface"), ("rtr", "router_interface"),
)


def port_name_role(name: str | None) -> str | None:
    from pipeline.features import name_tokens

    toks = set(name_tokens(name))
    for kw, role in PORT_NAME_KEYWORDS:
        if kw in toks:
            return role
    return None


def _naming_baseline(tables, params) -> pd.Series:
    from pipeline.features import project_ids

    ids = project_ids(tables)
    lab = naming_labels(tables, params).set_index("id")["label"]
    return pd.Series([lab.get(i) if i in lab.index else None for i in ids],
                     index=pd.Index(ids, name="id", dtype="string"), dtype=object)


def _port_name_baseline(tables, params) -> pd.Series:
    ports = tables["ports"].drop_duplicates("id")
    ids = ports["id"].astype("string")
    vals = [port_name_role(n) for n in ports["name"].astype("string").fillna("")]
    s = pd.Series(vals, index=pd.Index(ids, name="id"), dtype=object)
    return s.sort_index(kind="stable")


def port_rule(features: pd.DataFrame) -> pd.Series:
    """The rule an engineer writes without a model, over the port feature table: Neutron's
    device_id conventions (router / floating IP ids, DHCP device ids naming the network,
    Octavia's non-UUID `lb-...` ids, empty for unbound ports), then addresses (router external
    IP, floating IP address, subnet gateway, first pool address of a DHCP subnet). Without the
    device_id columns (the scrubbed view) only the address part remains. Indexed by port id."""
    f = features.set_index(features["id"].astype("string"))
    has = set(f.columns)

    def col(c):
        return f[c].to_numpy() == 1 if c in has else pd.Series(False, index=f.index).to_numpy()

    out = pd.Series("vm", index=f.index, dtype=object)
    if "device_id_empty" in has:   # lowest precedence first: later lines override
        out[~col("device_id_is_uuid")] = "lb_vip"
        out[col("device_id_has_network_id")] = "dhcp"
        out[col("device_id_empty")] = "unbound"
    else:
        out[~col("is_bound")] = "unbound"
        out[col("ip_is_pool_first") & (f["subnet_dhcp"].to_numpy() == 1)] = "dhcp"
    out[col("ip_is_gateway") | col("device_is_router")] = "router_interface"
    out[col("ip_is_floating_address") | col("device_is_floating_ip")] = "floating_ip"
    out[col("ip_is_router_external_ip")] = "router_gateway"
    return out.sort_index(kind="stable")


def _device_address_baseline(tables, params) -> pd.Series:
    from pipeline.features import port_features

    return port_rule(port_features(tables, params))


RULE_BASELINES: dict[str, Callable[..., pd.Series]] = {
    "naming": _naming_baseline,
    "port_name": _port_name_baseline,
    "device_address": _device_address_baseline,
}


def rule_baseline(name: str, tables: dict[str, pd.DataFrame], params: dict[str, Any] | None = None
                  ) -> pd.Series:
    """Rule predictions indexed by entity id (None where the rule says nothing)."""
    if name not in RULE_BASELINES:
        raise KeyError(f"unknown rule baseline {name!r} (known: {sorted(RULE_BASELINES)})")
    return RULE_BASELINES[name](tables, params)


def run(params: dict[str, Any], validated, out, report, params_file
        ) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The labels stage: label every task in params `tasks:`, write <out>/<task>.parquet and
    <task>_all.parquet (every candidate) and the report; (tables written, report)."""
    from pipeline import io
    from pipeline.errors import InputError

    tasks = params.get("tasks") or {}
    if not tasks:
        raise InputError(f"{params_file}: no `tasks:` section, nothing to label")
    tables = io.read_tables(validated)
    written, rep = {}, {}
    for task in tasks:
        try:
            lab, cand, rep[task] = task_labels(tables, params, task)
        except LabelConfigError as e:
            raise InputError(f"{params_file}: tasks.{task}: {e}") from e
        written[task], written[f"{task}_all"] = lab, cand
    io.write_tables(written, out)
    io.write_json(rep, report)
    return written, rep
