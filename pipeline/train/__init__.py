"""Training: cross-validated classifiers per task, beside the baselines they must beat.

Pure core: DataFrames in, a TrainResult out; no files, no MLflow (see pipeline/tracking.py).

For a task (params.tasks.<t>) the feature table (`id`, optional `project_id`, numeric features)
is joined to the label table (`id`, `label`, `source`); columns reading a source the task
forbids (tasks.<t>.forbid_sources, see forbidden_sources) are left out first. Stratified
K-fold CV (grouped by `project_id` when the table has it: ports) gives out-of-fold predictions
for the model and, on the very same folds, for three baselines: the majority class of the
training fold, the task's rule (e.g. the subnet-naming convention), where a row the rule says
nothing about falls back to the fold's majority class, and a tree rule (one leaf per class).
Every macro-F1 gets a bootstrap 95% interval (train.bootstrap resamples, of whole projects
when grouped). Metrics are reported over all
labelled rows and over the rows whose label came from `evaluate_on_source` (e.g. ground truth:
weak labels say how well the model mimics the rule, ground truth how good it is). The final
model is then fitted on every labelled row.

Bad input raises InputError subclasses (one line, what to fix); the CLI names the file.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from pipeline.errors import InputError, StageFailed
from pipeline.params import default

# Columns of a feature table that identify or group rows; everything else is a feature.
NON_FEATURE_COLUMNS = ("id", "project_id")
LABEL_COLUMNS = ("id", "label", "source")
# Permutation importance on more rows than this buys precision nobody needs.
PERMUTATION_MAX_ROWS = 1000
PERMUTATION_REPEATS = 3


class FeaturesError(InputError):
    """The feature table is unusable (the CLI prefixes the feature file)."""


class LabelsError(InputError):
    """The label table is unusable (the CLI prefixes the label file)."""


class ParamsError(InputError):
    """params.yaml asks for something impossible (the CLI prefixes the params file)."""


# ---------------------------------------------------------------- model registry

def _logistic_regression(hp: dict[str, Any], seed: int):
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    # Linear models need complete, comparable inputs; trees below take NaN as is.
    return Pipeline([
        ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
        ("scale", StandardScaler()),
        ("clf", LogisticRegression(random_state=seed, **hp)),
    ])


def _random_forest(hp: dict[str, Any], seed: int):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(random_state=seed, **hp)


def _hist_gradient_boosting(hp: dict[str, Any], seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=seed, **hp)


def _lr_class():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression


def _rf_class():
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier


def _hgb_class():
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier


# name -> (builder(hyperparameters, seed), estimator class whose parameters the
# hyperparameters must name, importance method)
MODELS: dict[str, tuple[Callable, Callable, str]] = {
    "logistic_regression": (_logistic_regression, _lr_class, "permutation"),
    "random_forest": (_random_forest, _rf_class, "impurity"),
    "hist_gradient_boosting": (_hist_gradient_boosting, _hgb_class, "permutation"),
}


def model_choice(task_name: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(model name, hyperparameters) for a task: tasks.<t>.model overrides train.model."""
    train = dict(params.get("train") or {})
    task = dict((params.get("tasks") or {}).get(task_name) or {})
    name = task.get("model") or train.get("model") or default("train.model")
    where = f"tasks.{task_name}.model" if task.get("model") else "train.model"
    if name not in MODELS:
        raise ParamsError(f"{where} '{name}' is not a known model; valid: {', '.join(MODELS)}")
    hp = dict((train.get("models") or {}).get(name) or {})
    valid = set(MODELS[name][1]()().get_params()) - {"random_state"}
    unknown = sorted(set(hp) - valid)
    if unknown:
        raise ParamsError(
            f"train.models.{name}: unknown hyperparameter(s) {', '.join(unknown)}; "
            f"valid: {', '.join(sorted(valid))}")
    return name, hp


def build_model(name: str, hp: dict[str, Any], seed: int):
    if name not in MODELS:
        raise ParamsError(f"model '{name}' is not a known model; valid: {', '.join(MODELS)}")
    try:
        return MODELS[name][0](hp, seed)
    except (TypeError, ValueError) as e:
        raise ParamsError(f"train.models.{name}: {str(e).splitlines()[0]}") from e


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


# ---------------------------------------------------------------- result

@dataclass
class TrainResult:
    task: str
    model_name: str
    hyperparameters: dict[str, Any]
    seed: int
    cv_folds: int
    evaluate_on_source: str | None
    model: Any                      # fitted on every labelled row
    feature_names: list[str]
    classes: list[str]
    metrics: dict[str, Any]         # nested; see tracking.flat_metrics() for the flat names
    oof: pd.DataFrame               # id, label, source, fold, model, model_proba, majority[, rule]
    confusion: pd.DataFrame         # counts, index = actual, columns = predicted (model, CV)
    importances: pd.DataFrame       # feature, importance, std, method (sorted, descending)
    train_frame: pd.DataFrame       # features + label of the labelled rows, WITHOUT ids
    dropped_features: list[str] = field(default_factory=list)
    forbidden_features: list[str] = field(default_factory=list)   # read a forbidden source
    warnings: list[str] = field(default_factory=list)


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
            "project_id and numeric columns only (fix pipeline/features.py)")
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


# ---------------------------------------------------------------- metrics

def scores(y_true, y_pred) -> dict[str, Any]:
    """macro-F1, accuracy and per-class F1 over the classes present in truth or prediction."""
    from sklearn.metrics import accuracy_score, f1_score

    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    if len(y_true) == 0:
        return {"n": 0}
    labels = sorted(set(y_true) | set(y_pred))
    per = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {
        "n": int(len(y_true)),
        "macro_f1": float(np.mean(per)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "per_class_f1": {str(c): float(f) for c, f in zip(labels, per)},
    }


def _r(x: float) -> float:
    # Rounded so reports stay stable and readable; 6 digits is far below CV noise.
    return round(float(x), 6)


def _metric_block(s: dict[str, Any], per_class: bool) -> dict[str, Any]:
    if not s.get("n"):
        return {}
    out = {"macro_f1": _r(s["macro_f1"]), "accuracy": _r(s["accuracy"])}
    if per_class:
        out["per_class_f1"] = {k: _r(v) for k, v in s["per_class_f1"].items()}
    return out


# ---------------------------------------------------------------- folds, rules, intervals

DEFAULT_BOOTSTRAP = default("train.bootstrap")


def row_groups(features_df: pd.DataFrame, ids: pd.Series) -> np.ndarray | None:
    """Project of each labelled row when the feature table has `project_id` (ports): CV folds
    and bootstrap resamples then keep a project's rows together. None for project rows."""
    if "project_id" not in features_df.columns:
        return None
    g = pd.Series(features_df["project_id"].astype("string").fillna("").to_numpy(),
                  index=features_df["id"].astype(str).to_numpy())
    g = g[~g.index.duplicated()]
    return g.reindex(ids.astype(str).to_numpy()).fillna("").to_numpy(dtype=object)


def cv_splits(X: pd.DataFrame, y: np.ndarray, groups: np.ndarray | None, folds: int, seed: int):
    """Stratified K folds; grouped (no project in two folds) when groups are given."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    if groups is None:
        return list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(X, y))
    n_groups = len(set(groups))
    if n_groups < folds:
        raise ParamsError(f"{n_groups} projects, fewer than cv_folds={folds}: lower train.cv_folds")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # a class in fewer projects than folds: some folds lack it
        return list(StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
                    .split(X, y, groups))


def fit_tree_rule(X: pd.DataFrame, y: np.ndarray, seed: int):
    """The strongest *simple* learned rule: a decision tree with one leaf per class (a rule
    list of at most n_classes threshold paths over the same allowed features)."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.tree import DecisionTreeClassifier

    leaves = max(2, len(set(y)))
    return Pipeline([
        ("fill", SimpleImputer(strategy="constant", fill_value=-1.0, keep_empty_features=True)),
        ("tree", DecisionTreeClassifier(max_leaf_nodes=leaves, random_state=seed)),
    ]).fit(X, y)


def bootstrap_ci(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray | None,
                 n_boot: int, seed: int) -> dict[str, float]:
    """Percentile 95% interval of macro-F1 over `n_boot` resamples of the rows (of whole
    groups when given). Empty when n_boot is 0 or there are no rows."""
    if n_boot <= 0 or len(y_true) == 0:
        return {}
    labels = sorted(set(y_true) | set(y_pred))
    code = {c: i for i, c in enumerate(labels)}
    k = len(labels)
    cell = np.array([code[t] * k + code[p] for t, p in zip(y_true, y_pred)])
    # Confusion counts per resampling unit (a row, or a group of rows); a resample is a
    # multinomial draw of unit weights, so its confusion matrix is weights @ unit counts.
    unit = (np.arange(len(cell)) if groups is None
            else np.unique(np.asarray(groups).astype(str), return_inverse=True)[1])
    n_units = int(unit.max()) + 1
    per_unit = np.zeros((n_units, k * k))
    np.add.at(per_unit, (unit, cell), 1.0)
    rng = np.random.default_rng(seed)
    vals = np.empty(n_boot)
    chunk = max(1, 2_000_000 // n_units)
    for start in range(0, n_boot, chunk):
        m = min(chunk, n_boot - start)
        w = rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=m)
        cms = (w @ per_unit).reshape(m, k, k)
        tp = np.diagonal(cms, axis1=1, axis2=2)
        denom = cms.sum(axis=1) + cms.sum(axis=2)
        f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
        present = denom > 0
        vals[start:start + m] = (f1 * present).sum(axis=1) / present.sum(axis=1)
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return {"macro_f1_ci_low": _r(lo), "macro_f1_ci_high": _r(hi)}


# ---------------------------------------------------------------- training

def fit_to_size(est, n_rows: int, n_classes: int, warns: list[str] | None = None):
    """Gradient boosting on few rows: with its default min_samples_leaf=20, 37 training rows
    of 6 classes leave no split to make and every tree predicts the majority class. Cap the
    leaf size at rows / (4 x classes) (at least 2), saying so."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    if isinstance(est, HistGradientBoostingClassifier):
        leaf = int(est.get_params()["min_samples_leaf"])
        cap = max(2, n_rows // (4 * max(1, n_classes)))
        if leaf > cap:
            est.set_params(min_samples_leaf=cap)
            msg = (f"hist_gradient_boosting: min_samples_leaf {leaf} lowered to {cap} for "
                   f"{n_rows} training rows of {n_classes} classes (else no tree could split)")
            if warns is not None and not any(w.startswith("hist_gradient_boosting: min_samples_leaf") for w in warns):
                warns.append(msg)
    return est


def _quiet_fit(est, X, y, warns: list[str]):
    """Fit, keeping scikit-learn's warnings (convergence, ...) as result warnings."""
    est = fit_to_size(est, len(y), len(set(y)), warns)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(X, y)
        except (ValueError, FloatingPointError, MemoryError) as e:
            raise StageFailed(f"fitting {type(est).__name__} failed: {str(e).splitlines()[0]}") from e
    for w in caught:
        msg = f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
        if msg not in warns:
            warns.append(msg)
    return est


def train_task(task_name: str, features_df: pd.DataFrame, labels_df: pd.DataFrame,
               rule_pred: pd.Series | None, params: dict[str, Any]) -> TrainResult:
    """Cross-validate, score beside the baselines, fit the final model. See module docstring."""
    from threadpoolctl import threadpool_limits

    # OpenMP/BLAS threads (train.threads, default 1): on a small shared machine, spinning
    # OpenMP workers of HistGradientBoosting made a 65-row task take 3 minutes instead of 9 s.
    threads = int((params.get("train") or {}).get("threads", default("train.threads")))
    with threadpool_limits(limits=max(1, threads)):
        return _train_task(task_name, features_df, labels_df, rule_pred, params)


def _train_task(task_name, features_df, labels_df, rule_pred, params) -> TrainResult:
    from sklearn.base import clone
    from sklearn.dummy import DummyClassifier
    from sklearn.metrics import confusion_matrix

    tasks = params.get("tasks") or {}
    if task_name not in tasks:
        raise ParamsError(f"unknown task '{task_name}'; tasks in params: {', '.join(tasks) or 'none'}")
    task_cfg = dict(tasks[task_name] or {})
    train_cfg = dict(params.get("train") or {})
    folds = int(train_cfg.get("cv_folds", default("train.cv_folds")))
    seed = int(train_cfg.get("seed", default("train.seed")))
    if folds < 2:
        raise ParamsError(f"train.cv_folds={folds}: cross-validation needs at least 2 folds")
    model_name, hp = model_choice(task_name, params)
    base = build_model(model_name, hp, seed)
    eval_source = task_cfg.get("evaluate_on_source")

    features_df, forbidden_cols = task_features(features_df, task_name, params)
    X_all, dropped, warns = feature_matrix(features_df)
    feature_names = list(X_all.columns)
    lab, lwarns = _labelled(labels_df, X_all)
    warns += lwarns
    excluded = [str(c) for c in task_cfg.get("exclude_classes") or []]
    if excluded:
        out = lab["label"].isin(excluded)
        if out.any():
            warns.append(f"left out {int(out.sum())} labelled rows of excluded class(es) "
                         f"{', '.join(sorted(set(lab['label'][out])))} (tasks.{task_name}.exclude_classes)")
        lab = lab[~out].reset_index(drop=True)
    y = lab["label"]
    _check_classes(y, folds, task_name)
    if task_cfg.get("label_sources"):
        extra = sorted(set(lab["source"]) - set(task_cfg["label_sources"]))
        if extra:
            warns.append(f"label sources not in tasks.{task_name}.label_sources: {', '.join(extra)}")

    X = X_all.loc[lab["id"].to_numpy()]
    y_arr = y.to_numpy(dtype=object)
    classes = sorted(set(y_arr))
    n = len(lab)

    has_rule = rule_pred is not None
    if has_rule:
        rp = pd.Series(rule_pred, copy=True)
        rp.index = rp.index.astype(str)
        rp = rp[~rp.index.duplicated()]
        rule_raw = rp.reindex(lab["id"].to_numpy()).astype(object).to_numpy()
        rule_raw = np.array([None if (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)))
                             else str(v) for v in rule_raw], dtype=object)
        foreign = sorted({v for v in rule_raw if v is not None} - set(classes))
        if foreign:
            warns.append(f"rule baseline predicts class(es) never labelled: {', '.join(foreign)} "
                         "(counted as errors)")

    pred = np.empty(n, dtype=object)
    proba = np.zeros(n, dtype="float64")
    maj = np.empty(n, dtype=object)
    rule = np.empty(n, dtype=object)
    tree_rule = np.empty(n, dtype=object)
    fold_of = np.zeros(n, dtype="int64")
    fold_f1 = []
    groups = row_groups(features_df, lab["id"])
    for k, (tr, te) in enumerate(cv_splits(X, y_arr, groups, folds, seed)):
        est = _quiet_fit(clone(base), X.iloc[tr], y_arr[tr], warns)
        pred[te] = est.predict(X.iloc[te])
        proba[te] = est.predict_proba(X.iloc[te]).max(axis=1)
        dummy = DummyClassifier(strategy="most_frequent").fit(X.iloc[tr], y_arr[tr])
        maj[te] = dummy.predict(X.iloc[te])
        if has_rule:
            rule[te] = [m if r is None else r for r, m in zip(rule_raw[te], maj[te])]
        tree_rule[te] = fit_tree_rule(X.iloc[tr], y_arr[tr], seed).predict(X.iloc[te])
        fold_of[te] = k
        fold_f1.append(scores(y_arr[te], pred[te])["macro_f1"])

    oof = pd.DataFrame({"id": lab["id"].to_numpy(), "label": y_arr, "source": lab["source"].to_numpy(),
                        "fold": fold_of, "model": pred, "model_proba": proba, "majority": maj,
                        "tree_rule": tree_rule})
    if has_rule:
        oof["rule"] = rule

    # Metrics: overall and restricted to the evaluated source, model and baselines side by side,
    # each with a bootstrap 95% interval (resampling projects when rows are grouped).
    boot = int(train_cfg.get("bootstrap", DEFAULT_BOOTSTRAP))
    s_model = scores(y_arr, pred)

    def ci(p, mask=None):
        m = np.ones(n, dtype=bool) if mask is None else mask
        return bootstrap_ci(y_arr[m], p[m], None if groups is None else groups[m], boot, seed)

    metrics: dict[str, Any] = {
        "n_labelled": n, "n_features": len(feature_names), "n_classes": len(classes),
        "n_features_forbidden": len(forbidden_cols),
        "cv": "grouped by project" if groups is not None else "stratified",
        "model": _metric_block(s_model, per_class=True)
        | {"macro_f1_std": _r(np.std(fold_f1))} | ci(pred),
        "majority": _metric_block(scores(y_arr, maj), per_class=False) | ci(maj),
        "tree_rule": _metric_block(scores(y_arr, tree_rule), per_class=False) | ci(tree_rule),
    }
    if has_rule:
        metrics["rule"] = _metric_block(scores(y_arr, rule), per_class=False) | {
            "coverage": _r(np.mean([v is not None for v in rule_raw]))} | ci(rule)
    if eval_source:
        m = (lab["source"] == eval_source).to_numpy()
        ev: dict[str, Any] = {"n": int(m.sum())}
        if m.any():
            for name, p in (("model", pred), ("majority", maj), ("tree_rule", tree_rule)) + (
                    (("rule", rule),) if has_rule else ()):
                b = _metric_block(scores(y_arr[m], p[m]), per_class=(name == "model")) | ci(p, m)
                ev |= {f"{name}_{k}": v for k, v in b.items()}
        else:
            warns.append(f"no labelled rows from source '{eval_source}' "
                         f"(tasks.{task_name}.evaluate_on_source): eval metrics are empty")
        metrics["eval"] = ev

    cm_labels = classes
    cm = confusion_matrix(y_arr, pred, labels=cm_labels)
    confusion = pd.DataFrame(cm, index=pd.Index(cm_labels, name="actual"),
                             columns=pd.Index(cm_labels, name="predicted"))

    final = _quiet_fit(clone(base), X, y_arr, warns)
    importances = _importances(final, model_name, X, y_arr, seed)
    train_frame = X.reset_index(drop=True).assign(label=y_arr)

    return TrainResult(
        task=task_name, model_name=model_name, hyperparameters=hp, seed=seed, cv_folds=folds,
        evaluate_on_source=eval_source, model=final, feature_names=feature_names,
        classes=classes, metrics=metrics, oof=oof, confusion=confusion,
        importances=importances, train_frame=train_frame, dropped_features=dropped,
        forbidden_features=forbidden_cols, warnings=warns)


def _importances(model, model_name: str, X: pd.DataFrame, y: np.ndarray, seed: int) -> pd.DataFrame:
    method = MODELS[model_name][2]
    if method == "impurity":
        est = model
        imp = np.asarray(est.feature_importances_, dtype="float64")
        std = np.std([t.feature_importances_ for t in est.estimators_], axis=0)
    else:
        from sklearn.inspection import permutation_importance

        # On a seeded subsample of the training rows: deterministic and bounded in time.
        if len(X) > PERMUTATION_MAX_ROWS:
            idx = np.sort(np.random.default_rng(seed).choice(len(X), PERMUTATION_MAX_ROWS, replace=False))
            X, y = X.iloc[idx], y[idx]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = permutation_importance(model, X, y, scoring="f1_macro", n_repeats=PERMUTATION_REPEATS,
                                       random_state=seed, n_jobs=1)
        imp, std = r.importances_mean, r.importances_std
    out = pd.DataFrame({"feature": list(X.columns), "importance": np.round(imp, 6),
                        "std": np.round(std, 6), "method": method})
    return out.sort_values(["importance", "feature"], ascending=[False, True],
                           kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- model files

# Types a model file may ask to load beyond skops' defaults: scikit-learn's own compiled
# tree structures and numpy dtypes. Anything else in a model file is refused.
TRUSTED_PREFIXES = ("sklearn.", "numpy.")


def trusted_types(data: bytes) -> list[str]:
    """The non-default types in a skops blob, when every one is from sklearn/numpy."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(data=data)
    bad = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if bad:
        raise InputError(f"model file asks to load untrusted type(s) {', '.join(bad)}: "
                         "retrain it with dcnet train")
    return untrusted


def model_bytes(model) -> bytes:
    """skops serialization, made byte-identical across runs (see _canonical_skops)."""
    import skops.io as sio

    raw = sio.dumps(model)
    try:
        canon = _canonical_skops(raw)
        sio.loads(canon, trusted=trusted_types(canon))
        return canon
    except Exception:  # an unexpected skops layout: keep the plain (valid) bytes
        return raw


def _canonical_skops(raw: bytes) -> bytes:
    """skops names members and memo ids after id(obj) and stamps the zip with the current time;
    renumber both in order of appearance and fix the timestamps so the same model gives the
    same bytes (DVC then sees an unchanged output)."""
    import io
    import re
    import zipfile

    zin = zipfile.ZipFile(io.BytesIO(raw))
    schema = zin.read("schema.json").decode()
    mapping: dict[str, str] = {}
    for m in re.finditer(r'"__id__": (\d+)|"(\d+)\.npy"', schema):
        old = m.group(1) or m.group(2)
        mapping.setdefault(old, str(len(mapping) + 1))

    def sub(m):
        if m.group(1):
            return f'"__id__": {mapping[m.group(1)]}'
        return f'"{mapping[m.group(2)]}.npy"'

    new_schema = re.sub(r'"__id__": (\d+)|"(\d+)\.npy"', sub, schema)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            name = info.filename
            if name.endswith(".npy") and name[:-4] in mapping:
                name = f"{mapping[name[:-4]]}.npy"
            elif name.endswith(".npy"):
                raise ValueError(f"unreferenced member {name}")
            data = new_schema.encode() if info.filename == "schema.json" else zin.read(info.filename)
            zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = info.compress_type
            zi.external_attr = info.external_attr
            zout.writestr(zi, data)
    return out.getvalue()


def load_model(path) -> Any:
    """Load a model.skops written by `dcnet train`, trusting only sklearn/numpy types."""
    from pathlib import Path

    import skops.io as sio

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: model file missing: run dcnet train")
    data = path.read_bytes()
    try:
        types = trusted_types(data)
        return sio.loads(data, trusted=types)
    except InputError as e:
        raise InputError(f"{path}: {e}") from e
    except Exception as e:
        raise InputError(f"{path}: not a readable skops model ({str(e).splitlines()[0]}): "
                         "retrain it with dcnet train") from e
