"""Evaluation of a synthetic data center against the real (validated) one: fidelity, utility,
privacy.

Pure core: two dicts of canonical tables (schemas/model.py) in, an `Evaluation` out (the
report dict that becomes reports/synthetic.json, plus the arrays the plots draw). Files, plots
and MLflow are thin edges at the bottom of this module, called by `dcnet evaluate-synthetic`.

Fidelity (each part in [0, 1], 1 = indistinguishable)
- column_shapes: per table and column, KSComplement for numeric columns and TVComplement for
  categorical ones, as SDMetrics defines them (implemented here: sdmetrics pins pandas<3). Only
  columns whose distribution means something are compared (COLUMN_SPECS): vocabularies and
  flags, sizes, prefix lengths, port ranges; never ids, names, addresses, MACs, free text or
  provenance. Some are derived (prefix length from cidr, rule remote kind, IPs per port).
  The part's score is the plain mean over all scored columns (SDMetrics' "Column Shapes").
- structure: KSComplement of per-entity count distributions (STRUCTURES: subnets per
  network, ports per subnet, ports per host, rules per group, networks and ports per project);
  the 1-Wasserstein distance, raw and normalized by the real range, is reported beside it.
  Score: the mean KSComplement over the distributions.
- profile_mix: TVComplement between the real and synthetic shares of project kinds. Real kinds:
  the training labels (data/labels: ground truth, then naming), else the classifier's prediction
  (data/predictions). Synthetic kinds: the same labeler on the synthetic tables (its
  project_labels table, then the subnet naming convention; a label naming a kind the real labels
  do not have is dropped), else the trained model applied to the synthetic project features,
  else "unknown".
- overall = mean(column_shapes, structure), equal weights; the gate is
  params.evaluate_synthetic.min_fidelity. The profile mix (matched by construction with
  mix: as_learned) and columns constant in the real data are reported apart. real_baseline:
  the same parts between two random halves of the real projects (what real data reaches
  against itself); relative_to_real = overall / that.

Utility: the project-profile classifier of pipeline/train/ (same registry, hyperparameters
and seed as `dcnet train`, the task's allowed features) trained on synthetic projects and
tested on the real labelled ones (TSTR), beside train-real-test-real cross-validated exactly as
`dcnet train` does (TRTR). Both on data the synthesizer learned from; the held-out version
(pipeline/tstr.py, `--bench`) adds the tstr_heldout gate.

Privacy
- exact overlap (distinct values present in both datasets; every count must be zero): ids (every
  text `id`/`*_id` column but device_id and binding_host_id, pooled across tables), device ids,
  host names (node_name, binding_host_id), MAC addresses, IP addresses and prefixes outside the
  ranges every site shares (SHARED_RANGES), and identifying names: resource names that exactly
  one real project uses (a name two or more real tenants use, such as "default" or "private",
  is vocabulary and identifies nobody), and free text: every other string of every real column
  (statuses, types, descriptions, zones, `extra` and other JSON, taken leaf by leaf) that one
  real project alone uses, is distinctive (5+ characters with a letter and a digit; not an
  address, nor an ISO timestamp, which the synthesizer draws itself) and is found in ANY string
  column of the synthetic tables, JSON leaves included. A chance collision counts too: a synthesizer must
  exclude real values, not just draw from a large space.
- distance to closest record (DCR) on project feature vectors standardized with the real
  training split: synthetic -> real train against real holdout -> real train (the holdout is
  `holdout_share` of the real projects, seeded). A synthesizer that copies records has many
  synthetic projects closer to a real one than real projects ever are to each other: the share
  of synthetic records below the holdout's 5th percentile is the number to watch (about 0.05
  when synthetic records are as novel as unseen real ones).

Every float in the report is rounded to 6 digits; the report has no timestamps: same inputs and
params give the same bytes (a DVC metric).
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from pipeline.params import default
from schemas import netaddr

TASK = "project_profile"
DEFAULT_HOLDOUT_SHARE = default("evaluate_synthetic.holdout_share")
DEFAULT_SEED = default("evaluate_synthetic.seed")
DEFAULT_MIN_FIDELITY = default("evaluate_synthetic.min_fidelity")
DCR_PERCENTILE = 5.0
UNKNOWN_KIND = "unknown"
PLOT_PREFIX = "synthetic_"


def _r(x: float | None) -> float | None:
    # 6 digits: stable reports, far below any sampling noise of these metrics.
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    return round(float(x), 6)


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return _r(float(np.mean(xs))) if xs else None


# =============================================================================================
# Metrics, as SDMetrics defines them
#
# KSComplement (sdmetrics/single_column/statistical/kscomplement.py): drop missing values, then
# 1 - D where D is the two-sample Kolmogorov-Smirnov statistic (scipy.stats.ks_2samp), the
# largest distance between the two empirical CDFs. 1 = same distribution, 0 = disjoint supports.
# TVComplement (sdmetrics/single_column/statistical/tv_complement.py): drop missing values, then
# 1 - TVD with TVD = 1/2 * sum over categories of |share_real - share_synthetic|; SDMetrics
# adds a category seen only in the synthetic data to the real counts with weight 1e-6 (to avoid
# dividing by zero), which we take as exactly 0: the results differ by < 1e-6 / n_real.


def ks_complement(real, synthetic) -> float | None:
    """1 - two-sample KS statistic of two numeric samples (missing dropped); None if one is empty."""
    # SDMetrics rounds to sys.float_info.dig - 1 decimals first (float noise is no difference).
    a = np.round(_numeric(real), 14)
    b = np.round(_numeric(synthetic), 14)
    if len(a) == 0 or len(b) == 0:
        return None
    a.sort()
    b.sort()
    # D = sup_x |F_a(x) - F_b(x)|; the sup is reached at one of the sample points.
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(1.0 - np.max(np.abs(fa - fb)))


def tv_complement(real, synthetic) -> float | None:
    """1 - total variation distance between category shares (missing dropped)."""
    a = pd.Series(real, dtype=object).dropna()
    b = pd.Series(synthetic, dtype=object).dropna()
    if len(a) == 0 or len(b) == 0:
        return None
    pa = a.astype(str).value_counts(normalize=True)
    pb = b.astype(str).value_counts(normalize=True)
    cats = pa.index.union(pb.index)
    tvd = 0.5 * float(np.abs(pa.reindex(cats, fill_value=0.0).to_numpy()
                             - pb.reindex(cats, fill_value=0.0).to_numpy()).sum())
    return float(1.0 - tvd)


def wasserstein(real, synthetic) -> tuple[float | None, float | None]:
    """(1-Wasserstein distance, the same divided by the real range and capped at 1).

    W1 = integral of |F_real(x) - F_synthetic(x)| dx over the empirical CDFs (what
    scipy.stats.wasserstein_distance computes; importing scipy.stats costs seconds)."""
    a = np.sort(_numeric(real))
    b = np.sort(_numeric(synthetic))
    if len(a) == 0 or len(b) == 0:
        return None, None
    grid = np.unique(np.concatenate([a, b]))
    fa = np.searchsorted(a, grid[:-1], side="right") / len(a)
    fb = np.searchsorted(b, grid[:-1], side="right") / len(b)
    w = float(np.sum(np.abs(fa - fb) * np.diff(grid)))
    span = float(a.max() - a.min())
    if span > 0:
        norm = min(1.0, w / span)
    else:
        norm = 0.0 if w == 0 else 1.0
    return w, norm


def _numeric(x) -> np.ndarray:
    s = pd.Series(x)
    if not len(s):
        return np.array([], dtype="float64")
    v = pd.to_numeric(s, errors="coerce").astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    return v[~np.isnan(v)].copy()


# =============================================================================================
# Column shapes: which columns, how derived

def _s(df: pd.DataFrame, col: str) -> pd.Series:
    return df[col].astype("string").str.strip()


def _raw(col: str) -> Callable[[pd.DataFrame, dict], pd.Series]:
    return lambda df, t: df[col]


def _filled(col: str, value: str) -> Callable[[pd.DataFrame, dict], pd.Series]:
    # A null that is a value of the domain (protocol null = any, no IPv6 mode) becomes a category.
    return lambda df, t: _s(df, col).replace("", pd.NA).fillna(value)


def _present(col: str) -> Callable[[pd.DataFrame, dict], pd.Series]:
    return lambda df, t: (_s(df, col).fillna("") != "").map({True: "yes", False: "no"})


def _prefixlen(col: str, version: int | None = None) -> Callable[[pd.DataFrame, dict], pd.Series]:
    def fn(df, t):
        s = _s(df, col).fillna("")
        n = pd.to_numeric(s.str.extract(r"/(\d+)$", expand=False), errors="coerce")
        if version is not None:
            is6 = s.str.contains(":", regex=False)
            n = n.where(is6 if version == 6 else ~is6)
        return n
    return fn


def _json_len(col: str) -> Callable[[pd.DataFrame, dict], pd.Series]:
    def fn(df, t):
        import orjson

        s = _s(df, col).fillna("")
        cache: dict[str, float] = {}
        for v in s.unique():
            try:
                x = orjson.loads(v) if v else []
                cache[v] = float(len(x)) if isinstance(x, (list, dict)) else np.nan
            except orjson.JSONDecodeError:
                cache[v] = np.nan
        return s.map(cache)
    return fn


def _child_count(child: str, child_col: str, key: str = "id") -> Callable[[pd.DataFrame, dict], pd.Series]:
    def fn(df, t):
        c = t.get(child)
        if c is None or not len(c):
            return pd.Series(0.0, index=df.index)
        counts = c[child_col].astype("string").value_counts()
        return df[key].astype("string").map(counts).fillna(0).astype("float64")
    return fn


def _port_role(df, t):
    from pipeline.roles import owner_roles

    return owner_roles(df["device_owner"])


def _ip_family(col: str) -> Callable[[pd.DataFrame, dict], pd.Series]:
    def fn(df, t):
        s = _s(df, col)
        return s.str.contains(":", regex=False).map({True: "v6", False: "v4"})
    return fn


def _pool_size_log2(df, t):
    start = netaddr.as_ints(netaddr.parse_ips(_s(df, "start")))
    end = netaddr.as_ints(netaddr.parse_ips(_s(df, "end")))
    out = np.full(len(df), np.nan)
    for i, (a, b) in enumerate(zip(start, end)):
        if a != -1 and b != -1 and b >= a:
            out[i] = math.log2(b - a + 1)  # IPv6 pools exceed 64 bits; ranks are what KS uses
    return pd.Series(out, index=df.index)


def _port_width(df, t):
    lo = pd.to_numeric(df["port_range_min"], errors="coerce").astype("Float64")
    hi = pd.to_numeric(df["port_range_max"], errors="coerce").astype("Float64")
    return (hi - lo + 1).astype("Float64")


def _rule_remote(df, t):
    prefix = _s(df, "remote_ip_prefix").fillna("") != ""
    group = _s(df, "remote_group_id").fillna("") != ""
    return pd.Series(np.where(group, "group", np.where(prefix, "prefix", "any")), index=df.index)


NUM, CAT = "numeric", "categorical"
# Derived columns that count rows of another table: they measure references as much as values
# (a single-table synthesizer cannot get them right), so the report also gives the column-shape
# score without them (`score_single_table`).
CROSS_TABLE_COLUMNS = {("subnets", "n_allocation_pools"), ("ports", "n_fixed_ips"),
                       ("ports", "n_security_groups")}

# table -> [(column as reported, numeric|categorical, how to get it from the table)].
# A raw column name means that column as is; derived columns are documented by their name.
COLUMN_SPECS: dict[str, list[tuple[str, str, Callable[[pd.DataFrame, dict], pd.Series]]]] = {
    "networks": [
        ("status", CAT, _raw("status")),
        ("network_type", CAT, _filled("network_type", "none")),
        ("admin_state_up", CAT, _raw("admin_state_up")),
        ("shared", CAT, _raw("shared")),
        ("router_external", CAT, _raw("router_external")),
        ("port_security_enabled", CAT, _raw("port_security_enabled")),
        ("alcor_vpc", CAT, _present("cidr")),
        ("mtu", NUM, _raw("mtu")),
        ("cidr_prefixlen", NUM, _prefixlen("cidr")),
    ],
    "subnets": [
        ("ip_version", CAT, _raw("ip_version")),
        ("enable_dhcp", CAT, _raw("enable_dhcp")),
        ("has_gateway", CAT, _present("gateway_ip")),
        ("ipv6_address_mode", CAT, _filled("ipv6_address_mode", "none")),
        ("ipv6_ra_mode", CAT, _filled("ipv6_ra_mode", "none")),
        ("prefixlen_v4", NUM, _prefixlen("cidr", 4)),
        ("prefixlen_v6", NUM, _prefixlen("cidr", 6)),
        ("n_dns_nameservers", NUM, _json_len("dns_nameservers")),
        ("n_host_routes", NUM, _json_len("host_routes")),
        ("n_allocation_pools", NUM, _child_count("allocation_pools", "subnet_id")),
    ],
    "allocation_pools": [
        ("pool_size_log2", NUM, _pool_size_log2),
    ],
    "ports": [
        ("role", CAT, _port_role),
        ("status", CAT, _raw("status")),
        ("admin_state_up", CAT, _raw("admin_state_up")),
        ("port_security_enabled", CAT, _raw("port_security_enabled")),
        ("binding_vif_type", CAT, _raw("binding_vif_type")),
        ("binding_vnic_type", CAT, _raw("binding_vnic_type")),
        ("bound", CAT, _present("binding_host_id")),
        ("n_fixed_ips", NUM, _child_count("port_ips", "port_id")),
        ("n_security_groups", NUM, _child_count("port_security_groups", "port_id")),
        ("n_allowed_address_pairs", NUM, _json_len("allowed_address_pairs")),
    ],
    "port_ips": [
        ("ip_family", CAT, _ip_family("ip_address")),
    ],
    "security_groups": [
        ("stateful", CAT, _raw("stateful")),
    ],
    "security_group_rules": [
        ("direction", CAT, _raw("direction")),
        ("ethertype", CAT, _raw("ethertype")),
        ("protocol", CAT, _filled("protocol", "any")),
        ("remote", CAT, _rule_remote),
        ("port_range_min", NUM, _raw("port_range_min")),
        ("port_range_max", NUM, _raw("port_range_max")),
        ("port_range_width", NUM, _port_width),
        ("remote_prefixlen", NUM, _prefixlen("remote_ip_prefix")),
    ],
    "routers": [
        ("admin_state_up", CAT, _raw("admin_state_up")),
        ("status", CAT, _raw("status")),
        ("distributed", CAT, _raw("distributed")),
        ("ha", CAT, _raw("ha")),
        ("enable_snat", CAT, _raw("enable_snat")),
        ("has_gateway", CAT, _present("gateway_network_id")),
        ("n_routes", NUM, _json_len("routes")),
    ],
    "floating_ips": [
        ("status", CAT, _raw("status")),
        ("associated", CAT, _present("port_id")),
    ],
    "fabric_switches": [
        ("role", CAT, _raw("role")),
        ("pod", NUM, _raw("pod")),
    ],
    "fabric_links": [
        ("dst_kind", CAT, _raw("dst_kind")),
        ("bandwidth_gbps", NUM, _raw("bandwidth_gbps")),
    ],
}


def column_values(tables: dict[str, pd.DataFrame], table: str, column: str) -> pd.Series:
    """The values compared for one spec column (derived columns computed)."""
    for name, _kind, fn in COLUMN_SPECS[table]:
        if name == column:
            df = tables.get(table)
            if df is None or not len(df):
                return pd.Series([], dtype=object)
            return fn(df, tables)
    raise KeyError(f"{table}.{column} is not a compared column")


def _to_object(s: pd.Series) -> pd.Series:
    # Nullable extension values -> plain Python objects with NA as None (TV counts them as str).
    return pd.Series(s.astype(object).where(s.notna(), None).to_numpy(), dtype=object)


def column_shapes(real: dict[str, pd.DataFrame], synthetic: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Per table and column the score (KSComplement for NUM columns, TVComplement for CAT ones,
    see COLUMN_SPECS), per table their mean, and the mean over all scored columns.

    Tables empty in the real data are skipped (nothing to imitate). A column the real data has
    values for but the synthetic data has none (or a missing table) scores 0: omitting a thing
    is as wrong as it gets.
    """
    out: dict[str, Any] = {}
    scores: list[float] = []
    single: list[float] = []
    skipped: list[str] = []
    constant: dict[str, float] = {}   # one value in the real data: trivially matched, apart
    for table, specs in COLUMN_SPECS.items():
        rdf = real.get(table)
        if rdf is None or not len(rdf):
            skipped.append(table)
            continue
        sdf = synthetic.get(table)
        cols = {}
        for name, kind, fn in specs:
            rv = fn(rdf, real)
            sv = fn(sdf, synthetic) if sdf is not None and len(sdf) else pd.Series([], dtype=object)
            rv = rv.dropna()
            sv = sv.dropna()
            if not len(rv):
                continue  # nothing in the real data to compare with
            if not len(sv):
                score = 0.0
            elif kind == NUM:
                score = ks_complement(rv, sv)
            else:
                score = tv_complement(_to_object(rv), _to_object(sv))
            if _to_object(rv).nunique() <= 1:
                constant[f"{table}.{name}"] = _r(score)
                continue
            cols[name] = _r(score)
            scores.append(float(score))
            if (table, name) not in CROSS_TABLE_COLUMNS:
                single.append(float(score))
        out[table] = {"score": _mean(cols.values()), "columns": cols}
    return {"score": _mean(scores), "score_single_table": _mean(single), "n_columns": len(scores),
            "tables": out, "skipped_tables": skipped,
            "constant_columns": {"n": len(constant), "score": _mean(constant.values()),
                                 "columns": constant}}


# =============================================================================================
# Structure: per-entity count distributions

def _counts(keys: pd.Series, of: pd.Series) -> np.ndarray:
    """How many times each key occurs in `of` (0 for keys that never occur), in key order."""
    keys = keys.astype("string").fillna("")
    counts = of.astype("string").value_counts()
    return keys.map(counts).fillna(0).to_numpy(dtype="float64")


def _subnets_per_network(t):
    return _counts(t["networks"]["id"], t["subnets"]["network_id"])


def _ports_per_subnet(t):
    pips = t["port_ips"][["port_id", "subnet_id"]].astype("string").drop_duplicates()
    return _counts(t["subnets"]["id"], pips["subnet_id"])


def _ports_per_host(t):
    hosts = t["hosts"]["node_name"].astype("string").drop_duplicates()
    return _counts(hosts, t["ports"]["binding_host_id"])


def _rules_per_group(t):
    return _counts(t["security_groups"]["id"], t["security_group_rules"]["security_group_id"])


def _per_project(table):
    def fn(t):
        from pipeline.features import project_ids

        return _counts(pd.Series(project_ids(t), dtype="string"), t[table]["project_id"])
    return fn


STRUCTURES: dict[str, tuple[str, Callable[[dict], np.ndarray]]] = {
    "subnets_per_network": ("Subnets of each network.", _subnets_per_network),
    "ports_per_subnet": ("Distinct ports with an address in each subnet.", _ports_per_subnet),
    "ports_per_host": ("Ports bound to each host (hosts.node_name).", _ports_per_host),
    "rules_per_group": ("Rules of each security group.", _rules_per_group),
    "networks_per_project": ("Networks of each project (projects owning anything).",
                             _per_project("networks")),
    "ports_per_project": ("Ports of each project.", _per_project("ports")),
}


def structural_counts(tables: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    from schemas.model import TABLES, empty_frame

    t = {n: (tables[n] if n in tables and tables[n] is not None else empty_frame(n)) for n in TABLES}
    return {name: fn(t) for name, (_doc, fn) in STRUCTURES.items()}


def _summary(v: np.ndarray) -> dict[str, Any]:
    if not len(v):
        return {"n": 0}
    return {"n": int(len(v)), "mean": _r(v.mean()), "median": _r(np.median(v)),
            "p90": _r(np.percentile(v, 90)), "max": _r(v.max())}


def compare_distribution(real: np.ndarray, synthetic: np.ndarray) -> dict[str, Any]:
    ks = ks_complement(real, synthetic)
    if ks is None and len(real):
        ks = 0.0  # the real data has the entities, the synthetic data none
    w, wn = wasserstein(real, synthetic)
    return {"ks_complement": _r(ks), "wasserstein": _r(w), "wasserstein_norm": _r(wn),
            "real": _summary(np.asarray(real)), "synthetic": _summary(np.asarray(synthetic))}


def structure(real_counts: dict[str, np.ndarray], synth_counts: dict[str, np.ndarray]) -> dict[str, Any]:
    out = {}
    for name in STRUCTURES:
        r, s = real_counts[name], synth_counts[name]
        if not len(r):
            continue
        out[name] = compare_distribution(r, s)
    return {"score": _mean([d["ks_complement"] for d in out.values()]),
            "distributions": out}


# =============================================================================================
# Profile mix

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


# =============================================================================================
# Utility: TSTR vs TRTR with the training stage's model

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


# =============================================================================================
# Privacy: exact overlap

# Ranges every site uses, so sharing an address in them says nothing about the real data.
SHARED_RANGES = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",          # RFC 1918 private
    "100.64.0.0/10",                                           # RFC 6598 shared (CGN)
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",       # RFC 5737 documentation
    "2001:db8::/32",                                           # RFC 3849 documentation
    "169.254.0.0/16", "fe80::/10",                             # link-local
    "127.0.0.0/8", "::1/128",                                  # loopback
    "fc00::/7",                                                # RFC 4193 unique local (IPv6 private)
    "0.0.0.0/8", "::/128",                                     # unspecified ("any" prefixes)
))

ID_EXCLUDE = {"device_id", "binding_host_id"}  # their own categories below
NAME_COLUMNS = {"networks": ["name"], "subnets": ["name"], "ports": ["name", "dns_name"],
                "security_groups": ["name"], "routers": ["name"], "fabric_switches": ["name"]}
HOST_NAME_COLUMNS = {"hosts": ["node_name"], "ports": ["binding_host_id"]}
MAC_COLUMNS = {"hosts": ["mac_address", "host_dvr_mac"], "ports": ["mac_address"]}
IP_COLUMNS = {"hosts": ["local_ip"], "networks": ["cidr"], "subnets": ["cidr", "gateway_ip"],
              "allocation_pools": ["start", "end"], "port_ips": ["ip_address"],
              "router_interfaces": ["ip_address"],
              "floating_ips": ["floating_ip_address", "fixed_ip_address"],
              "security_group_rules": ["remote_ip_prefix"]}
# JSON columns holding addresses: (table, column, key).
JSON_VALUES = {"ips": [("routers", "external_fixed_ips", "ip_address"),
                       ("ports", "allowed_address_pairs", "ip_address")],
               "macs": [("ports", "allowed_address_pairs", "mac_address")]}
TRIVIAL_MACS = {"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"}
OVERLAP_CATEGORIES = ("ids", "device_ids", "host_names", "names", "macs", "ips", "free_text")
# Columns the other categories own, and provenance (file names are not data).
_NOT_FREE_TEXT = {"source_file", "ingest_errors"}
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _json_leaves(text: str) -> list[str]:
    """String leaves of a JSON text (keys are field names, not data); [text] when not JSON."""
    import json

    t = text.strip()
    if not t or t[0] not in "[{":
        return [t]
    try:
        obj = json.loads(t)
    except ValueError:
        return [t]
    out, stack = [], [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            stack += list(x.values())
        elif isinstance(x, list):
            stack += x
        elif isinstance(x, str):
            out.append(x.strip())
    return out


_ID_OR_MAC = re.compile(r"^(?:[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}"
                        r"|[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5})$")


def _distinctive(v: str) -> bool:
    if (_TIMESTAMP.match(v) or not is_shared_address(v) or _is_address(v)
            or _ID_OR_MAC.match(v)):
        # timestamps are drawn by the synthesizer; ids, MACs and addresses have categories
        return False
    # Like the privacy tests' scanner: plain words and phrases ("rules for spark") are
    # vocabulary that any site may write; a value with a digit among letters names something.
    return len(v) >= 5 and bool(re.search(r"\d", v)) and bool(re.search(r"[A-Za-z]", v))


def _is_address(v: str) -> bool:
    try:
        ipaddress.ip_interface(v)
    except ValueError:
        return False
    return True


def _string_columns(tables: dict[str, pd.DataFrame], skip: set[str]):
    """(table, column, frame) of every string column not in `skip` (nor provenance)."""
    for table, df in tables.items():
        if df is None or not len(df):
            continue
        for col in df.columns:
            if f"{table}.{col}" in skip or col in _NOT_FREE_TEXT:
                continue
            if pd.api.types.is_string_dtype(df[col]) or df[col].dtype == object:
                yield table, col, df


def _strings(tables: dict[str, pd.DataFrame], skip: set[str]) -> dict[str, set[str]]:
    """{"table.column": distinct string values, JSON texts split into leaves}."""
    out = {}
    for table, col, _ in _string_columns(tables, skip):
        vals = set()
        for v in _values(tables, table, col).unique():
            vals.update(_json_leaves(str(v)))
        vals.discard("")
        if vals:
            out[f"{table}.{col}"] = vals
    return out


def _free_text_pool(real: dict[str, pd.DataFrame]) -> set[str]:
    """Identifying free-text values of the real tables: distinctive, and used by one real
    project only (one row, in tables without projects). Text many tenants share, such as
    Neutron's "Default security group" or a zone name, identifies nobody."""
    from schemas.model import DEVICE_OWNERS
    from pipeline.vocab import VOCABULARIES

    owned = {f"{t}.{c}" for spec in (_id_columns(real), {"ports": ["device_id"]}, HOST_NAME_COLUMNS,
                                     MAC_COLUMNS, IP_COLUMNS, NAME_COLUMNS)
             for t, cols in spec.items() for c in cols}
    owners: dict[str, set] = {}
    for table, col, df in _string_columns(real, owned):
        text = df[col].astype("string").str.strip()
        who = (df["project_id"].astype("string").fillna("") if "project_id" in df.columns
               else pd.Series([f"{table}#{i}" for i in range(len(df))], index=df.index))
        ok = (text.notna() & (text != "")).to_numpy(dtype=bool)
        for v, w in zip(text[ok].tolist(), who[ok].tolist()):
            for leaf in _json_leaves(v):
                if leaf:
                    owners.setdefault(leaf, set()).add(w)
    vocabulary = set(DEVICE_OWNERS).union(*[set(v) for v, _ in VOCABULARIES.values()])
    return {v for v, who in owners.items()
            if len(who) == 1 and v not in vocabulary and _distinctive(v)}


def _id_columns(tables: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    from schemas.model import STR, TABLES

    # String columns only: segmentation_id is a VLAN/VNI number from a small space, no identity.
    return {t: [c.name for c in TABLES[t].columns
                if (c.name == "id" or c.name.endswith("_id")) and c.name not in ID_EXCLUDE
                and c.dtype == STR]
            for t in TABLES}


def _values(tables: dict[str, pd.DataFrame], table: str, col: str) -> pd.Series:
    df = tables.get(table)
    if df is None or not len(df) or col not in df.columns:
        return pd.Series([], dtype="string")
    s = df[col].astype("string").str.strip()
    return s[s.notna() & (s != "")]


def _json_values(tables, table, col, key) -> pd.Series:
    s = _values(tables, table, col)
    if not len(s):
        return s
    rx = re.compile(r'"' + re.escape(key) + r'"\s*:\s*"([^"]*)"')
    vals = [m for v in s.unique() for m in rx.findall(v)]
    return pd.Series(vals, dtype="string")


def is_shared_address(value: str) -> bool:
    """True for an address or prefix inside SHARED_RANGES (and for anything unparsable)."""
    v = str(value).strip()
    try:
        addr = ipaddress.ip_interface(v).ip if "/" in v else ipaddress.ip_address(v)
    except ValueError:
        return True  # not an address: not an address leak (ids/names are checked elsewhere)
    return any(addr.version == n.version and addr in n for n in SHARED_RANGES)


def _category_values(tables: dict[str, pd.DataFrame], category: str) -> dict[str, pd.Series]:
    """{"table.column": distinct normalized values} of one overlap category."""
    spec = {"ids": _id_columns(tables), "device_ids": {"ports": ["device_id"]},
            "host_names": HOST_NAME_COLUMNS, "macs": MAC_COLUMNS, "ips": IP_COLUMNS,
            "names": NAME_COLUMNS}[category]
    out = {}
    for table, cols in spec.items():
        for col in cols:
            v = _values(tables, table, col)
            if len(v):
                out[f"{table}.{col}"] = v
    for table, col, key in JSON_VALUES.get(category, []):
        v = _json_values(tables, table, col, key)
        if len(v):
            out[f"{table}.{col}[{key}]"] = v
    norm = (lambda s: s.str.lower()) if category in ("macs", "ips") else (lambda s: s)
    return {k: pd.Series(norm(v).unique(), dtype="string") for k, v in out.items()}


def _identifying_names(tables: dict[str, pd.DataFrame]) -> set[str]:
    """Names that exactly one real project uses (see the module docstring)."""
    rows = []
    for table, cols in NAME_COLUMNS.items():
        df = tables.get(table)
        if df is None or not len(df):
            continue
        pid = (df["project_id"].astype("string").fillna("") if "project_id" in df.columns
               else pd.Series(f"<{table}>", index=df.index, dtype="string"))
        for col in cols:
            v = df[col].astype("string").str.strip()
            ok = v.notna() & (v != "")
            rows.append(pd.DataFrame({"name": v[ok], "project": pid[ok]}))
    if not rows:
        return set()
    allnames = pd.concat(rows, ignore_index=True)
    per = allnames.groupby("name")["project"].nunique()
    return set(per.index[per == 1])


def exact_overlap(real: dict[str, pd.DataFrame], synthetic: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Distinct values present in both datasets, per category and per synthetic column."""
    out: dict[str, Any] = {}
    total = 0
    for cat in OVERLAP_CATEGORIES:
        if cat == "free_text":
            pool = _free_text_pool(real)
            by_col = {}
            found = set()
            for key, sv in _strings(synthetic, set()).items():
                hit = sv & pool
                if hit:
                    by_col[key] = len(hit)
                    found |= hit
            out[cat] = {"count": len(found), "by_column": dict(sorted(by_col.items()))}
            total += len(found)
            continue
        rvals = _category_values(real, cat)
        pool = set().union(*[set(v) for v in rvals.values()]) if rvals else set()
        if cat == "names":
            pool &= _identifying_names(real)
        elif cat == "macs":
            pool -= TRIVIAL_MACS
        by_col = {}
        found: set[str] = set()
        for key, sv in _category_values(synthetic, cat).items():
            hit = {x for x in sv if x in pool}
            if cat == "ips":
                hit = {x for x in hit if not is_shared_address(x)}
            if hit:
                by_col[key] = len(hit)
                found |= hit
        out[cat] = {"count": len(found), "by_column": dict(sorted(by_col.items()))}
        total += len(found)
    out["total"] = total
    return out


# =============================================================================================
# Privacy: distance to closest record

def _nearest(a: np.ndarray, b: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Euclidean distance from each row of a to its nearest row of b."""
    out = np.empty(len(a))
    bb = (b * b).sum(axis=1)
    for i in range(0, len(a), chunk):
        x = a[i:i + chunk]
        d2 = (x * x).sum(axis=1)[:, None] + bb[None, :] - 2.0 * x @ b.T
        out[i:i + chunk] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return out


def dcr(real_features: pd.DataFrame, synth_features: pd.DataFrame, holdout_share: float,
        seed: int) -> dict[str, Any]:
    """Distance to closest record; see the module docstring."""
    from pipeline.train import feature_matrix

    Xr, _d, _w = feature_matrix(real_features)
    n = len(Xr)
    n_hold = int(round(n * holdout_share))
    if n < 4 or n_hold < 2 or n - n_hold < 2 or not len(synth_features):
        return {"error": f"{n} real and {len(synth_features)} synthetic projects: too few for DCR"}
    Xs, _d, _w = feature_matrix(synth_features)
    cols = list(Xr.columns)
    Xs = Xs.reindex(columns=cols, fill_value=0.0)
    # Sorted by id first: the split depends on the seed and the data, not on the row order.
    Xr = Xr.sort_index()
    perm = np.random.default_rng(seed).permutation(n)
    hold, train_idx = np.sort(perm[:n_hold]), np.sort(perm[n_hold:])
    tr = Xr.iloc[train_idx].to_numpy(dtype="float64")
    mu = np.nanmean(tr, axis=0)
    sd = np.nanstd(tr, axis=0)
    keep = sd > 0  # a feature constant in the real training split carries no distance

    def z(X):
        v = (np.asarray(X, dtype="float64") - mu) / np.where(sd > 0, sd, 1.0)
        return np.nan_to_num(v[:, keep])

    d_hold = _nearest(z(Xr.iloc[hold].to_numpy()), z(tr))
    d_syn = _nearest(z(Xs.to_numpy()), z(tr))
    p5 = float(np.percentile(d_hold, DCR_PERCENTILE))
    med_h, med_s = float(np.median(d_hold)), float(np.median(d_syn))
    return {
        "n_real_train": int(len(train_idx)), "n_real_holdout": int(n_hold),
        "n_synthetic": int(len(d_syn)), "n_features": int(keep.sum()),
        "median_synthetic": _r(med_s), "median_holdout": _r(med_h),
        "median_ratio": _r(med_s / med_h) if med_h > 0 else None,
        "holdout_p5": _r(p5),
        "share_synthetic_below_holdout_p5": _r(float(np.mean(d_syn < p5))),
        "share_holdout_below_holdout_p5": _r(float(np.mean(d_hold < p5))),
        # Float noise of the distance expansion: "exact" = closer than 1e-6 standard deviations.
        "share_synthetic_exact_copies": _r(float(np.mean(d_syn < 1e-6))),
    }


# =============================================================================================
# Everything together

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
    """Fidelity, utility and privacy of `synthetic` against `real`; see the module docstring.

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
    from pipeline.tstr import subset

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
    held = g.get("tstr_heldout")   # set by `dcnet evaluate-synthetic --bench` (pipeline/tstr.py)
    if held and not held["passed"]:
        msgs.append(f"held-out TSTR is {held['value']} below TRTR, more than tstr_max_gap {held['max']}")
    return msgs


# =============================================================================================
# Edges: plots, files, MLflow (everything above is pure)

def distribution_figure(name: str, real: np.ndarray, synthetic: np.ndarray, score: float | None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    real = np.asarray(real, dtype="float64")
    synthetic = np.asarray(synthetic, dtype="float64")
    both = np.concatenate([real, synthetic]) if len(real) + len(synthetic) else np.zeros(1)
    hi = float(both.max()) if len(both) else 1.0
    fig, ax = plt.subplots(figsize=(6.0, 3.8), dpi=100)
    if hi <= 40:
        bins = np.arange(-0.5, hi + 1.5, 1.0)  # one bar per count
        log = False
    else:  # heavy tail: log-spaced bins, zeros in their own bin
        bins = np.concatenate([[-0.5, 0.5], np.geomspace(0.5, hi + 1, 30)[1:]])
        log = True
    for data, label, color in ((real, f"real (n={len(real)})", "#1f77b4"),
                               (synthetic, f"synthetic (n={len(synthetic)})", "#ff7f0e")):
        if len(data):
            w = np.full(len(data), 1.0 / len(data))
            ax.hist(data, bins=bins, weights=w, alpha=0.55, label=label, color=color,
                    edgecolor="white", linewidth=0.4)
    if log:
        ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlabel(name.replace("_", " "))
    ax.set_ylabel("share")
    s = "n/a" if score is None else f"{score:.3f}"
    ax.set_title(f"{name}: KS complement {s}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def mix_figure(mix: dict[str, Any]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.util import plot_text

    kinds = sorted(set(mix["real"]) | set(mix["synthetic"]))
    x = np.arange(len(kinds))
    fig, ax = plt.subplots(figsize=(6.0, 3.8), dpi=100)
    ax.bar(x - 0.2, [mix["real"].get(k, 0) or 0 for k in kinds], 0.4, label="real", color="#1f77b4")
    ax.bar(x + 0.2, [mix["synthetic"].get(k, 0) or 0 for k in kinds], 0.4, label="synthetic",
           color="#ff7f0e")
    ax.set_xticks(x, [plot_text(k) for k in kinds], rotation=30, ha="right")
    ax.set_ylabel("share of projects")
    tv = mix.get("tv_complement")
    ax.set_title(f"profile mix: TV complement {'n/a' if tv is None else f'{tv:.3f}'}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_names() -> list[str]:
    """File names of the plots, in a fixed order (dvc.yaml declares the same)."""
    return [f"{PLOT_PREFIX}{n}.png" for n in STRUCTURES] + [f"{PLOT_PREFIX}profile_mix.png"]


def write_plots(ev: Evaluation, out_dir: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dists = ev.report["fidelity"]["structure"]["distributions"]
    written = []
    for name in STRUCTURES:
        r = ev.real_counts.get(name, np.array([]))
        s = ev.synth_counts.get(name, np.array([]))
        fig = distribution_figure(name, r, s, (dists.get(name) or {}).get("ks_complement"))
        path = out_dir / f"{PLOT_PREFIX}{name}.png"
        fig.savefig(path, metadata={"Software": None})  # bytes depend only on the numbers
        plt.close(fig)
        written.append(path)
    fig = mix_figure(ev.report["fidelity"]["profile_mix"])
    path = out_dir / f"{PLOT_PREFIX}profile_mix.png"
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    written.append(path)
    return written


def log_run(report: dict[str, Any], params: dict[str, Any], plots: list[Path],
            report_path: Path | None = None, data_paths: list[str] | None = None) -> str:
    """One MLflow run in experiment dcnet-synthetic: params, every metric, plots, the report."""
    import json
    import os
    import tempfile

    from pipeline import tracking
    from pipeline.io import write_json

    uri = tracking.tracking_uri()
    mlflow = tracking._mlflow(uri)
    exp_id = tracking.experiment_id(mlflow, "synthetic", uri)
    run_params = {f"evaluate_synthetic.{k}": v for k, v in sorted(
        (params.get("evaluate_synthetic") or {}).items())}
    for k, v in sorted((params.get("synthesize") or {}).items()):
        run_params[f"synthesize.{k}"] = json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
    tags = {"task": "synthetic", "passed": str(report.get("passed")).lower()}
    tags |= tracking.provenance_tags(data_paths or [])
    name = "evaluate-synthetic"
    if os.environ.get("DVC_EXP_NAME"):
        name += f"@{os.environ['DVC_EXP_NAME']}"
    with mlflow.start_run(experiment_id=exp_id, run_name=name, tags=tags) as run:
        if run_params:
            mlflow.log_params(run_params)
        mlflow.log_metrics(tracking.flat_metrics(report))
        for p in plots:
            mlflow.log_artifact(str(p), artifact_path="plots")
        if report_path is not None and Path(report_path).exists():
            mlflow.log_artifact(str(report_path))
        else:
            with tempfile.TemporaryDirectory() as tmp:
                f = Path(tmp) / "synthetic.json"
                write_json(report, f)
                mlflow.log_artifact(str(f))
        return run.info.run_id
