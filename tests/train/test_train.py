"""Training core, model files and classification on small synthetic frames (no MLflow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from pipeline import classify as classify_mod
from pipeline import train
from pipeline.errors import InputError

CLASSES = ("database", "hpc", "web")


def make_frames(n: int = 90, seed: int = 0, ports: bool = False):
    """Features with signal for the label, an all-null and a nullable Int64 column; labels
    from two sources (every other row ground truth); a rule right on 2 of 3 rows it covers,
    silent on a quarter; and 15 unlabelled rows."""
    rng = np.random.default_rng(seed)
    cls = np.array(CLASSES)[np.arange(n + 15) % 3]
    ids = [f"ent-{i:04d}" for i in range(n + 15)]
    ints = pd.array(rng.integers(0, 5, n + 15), dtype="Int64")
    ints[::7] = pd.NA
    f = pd.DataFrame({
        "id": ids,
        "sig_web": (cls == "web") * 2.5 + rng.normal(size=n + 15),
        "sig_db": pd.array((cls == "database") * 2.5 + rng.normal(size=n + 15), dtype="Float64"),
        "noise": rng.normal(size=n + 15),
        "all_null": pd.array([pd.NA] * (n + 15), dtype="Float64"),
        "count": ints,
    })
    if ports:
        f.insert(1, "project_id", [f"proj-{i % 7}" for i in range(n + 15)])
    labels = pd.DataFrame({"id": ids[:n], "label": cls[:n],
                           "source": np.where(np.arange(n) % 2 == 0, "ground_truth", "naming")})
    r = rng.random(n + 15)
    wrong = np.array(CLASSES)[(np.arange(n + 15) + 1) % 3]
    rule_vals = np.where(r < 0.25, None, np.where(r < 0.75, cls, wrong))
    rule = pd.Series(rule_vals, index=pd.Index(ids, name="id"), dtype=object)
    return f, labels, rule


def make_params(model: str = "random_forest", folds: int = 3, task_model: str | None = None,
                **task_extra):
    if task_model:
        task_extra["model"] = task_model
    return {
        "tasks": {"t": {"features": "projects", "label_sources": ["ground_truth", "naming"],
                        "forbid_sources": ["names"], "evaluate_on_source": "ground_truth", "rule_baseline": "naming",
                        **task_extra}},
        "train": {"model": model, "cv_folds": folds, "seed": 7, "models": {
            "logistic_regression": {"C": 1.0, "max_iter": 500},
            "random_forest": {"n_estimators": 15, "min_samples_leaf": 1, "max_features": "sqrt"},
            "hist_gradient_boosting": {"max_iter": 20, "learning_rate": 0.1, "max_leaf_nodes": 15},
        }},
    }


@pytest.fixture(scope="module")
def frames():
    return make_frames()


@pytest.fixture(scope="module")
def rf_result(frames):
    f, lab, rule = frames
    return train.train_task("t", f, lab, rule, make_params())


def test_metrics_present_sane_and_recomputable_from_oof(rf_result, frames):
    m, oof = rf_result.metrics, rf_result.oof
    assert m["n_labelled"] == 90 and m["n_classes"] == 3
    assert rf_result.classes == sorted(CLASSES)
    for block in ("model", "majority", "rule"):
        assert 0.0 <= m[block]["macro_f1"] <= 1.0 and 0.0 <= m[block]["accuracy"] <= 1.0
    assert set(m["model"]["per_class_f1"]) == set(CLASSES)
    # The features carry the label: the model must clearly beat the majority class.
    assert m["model"]["macro_f1"] > m["majority"]["macro_f1"] + 0.3
    assert m["majority"]["accuracy"] == pytest.approx(1 / 3, abs=0.02)
    # The report is what the out-of-fold predictions say.
    assert m["model"]["macro_f1"] == pytest.approx(
        f1_score(oof["label"], oof["model"], average="macro"), abs=1e-6)
    assert m["rule"]["macro_f1"] == pytest.approx(
        f1_score(oof["label"], oof["rule"], average="macro"), abs=1e-6)
    gt = oof[oof["source"] == "ground_truth"]
    assert m["eval"]["n"] == len(gt) == 45
    assert m["eval"]["model_macro_f1"] == pytest.approx(
        f1_score(gt["label"], gt["model"], average="macro"), abs=1e-6)
    assert m["eval"]["rule_macro_f1"] == pytest.approx(
        f1_score(gt["label"], gt["rule"], average="macro"), abs=1e-6)
    assert m["rule"]["coverage"] == pytest.approx(
        frames[2].reindex(frames[1]["id"]).notna().mean(), abs=1e-6)
    assert rf_result.confusion.to_numpy().sum() == 90
    assert np.trace(rf_result.confusion.to_numpy()) == (oof["label"] == oof["model"]).sum()


def test_baselines_use_the_same_folds(rf_result, frames):
    oof = rf_result.oof
    rule = frames[2]
    assert sorted(oof["fold"].unique()) == [0, 1, 2]
    for k in range(3):
        test_rows = oof[oof["fold"] == k]
        train_labels = oof[oof["fold"] != k]["label"]
        counts = train_labels.value_counts()
        # DummyClassifier breaks ties by class order
        fold_majority = sorted(counts[counts == counts.max()].index)[0]
        assert (test_rows["majority"] == fold_majority).all()
        r = rule.reindex(test_rows["id"]).to_numpy()
        expected = np.where(pd.isna(r), fold_majority, r)
        assert list(test_rows["rule"]) == list(expected)


def test_all_null_column_dropped_with_warning(rf_result):
    assert "all_null" not in rf_result.feature_names
    assert rf_result.dropped_features == ["all_null"]
    assert any("all_null" in w for w in rf_result.warnings)
    assert "id" not in rf_result.train_frame.columns
    assert list(rf_result.train_frame.columns) == rf_result.feature_names + ["label"]


def test_impurity_importances_for_random_forest(rf_result):
    imp = rf_result.importances
    assert set(imp["method"]) == {"impurity"}
    assert imp["importance"].sum() == pytest.approx(1.0, abs=1e-3)
    assert set(imp["feature"].head(2)) == {"sig_web", "sig_db"}


@pytest.mark.parametrize("model", ["logistic_regression", "hist_gradient_boosting"])
def test_other_models_train_with_permutation_importance(frames, model):
    f, lab, rule = frames
    a = train.train_task("t", f, lab, rule, make_params(model))
    b = train.train_task("t", f, lab, rule, make_params(model))
    assert a.model_name == model
    assert a.metrics["model"]["macro_f1"] > a.metrics["majority"]["macro_f1"] + 0.3
    assert set(a.importances["method"]) == {"permutation"}
    assert set(a.importances["feature"].head(2)) == {"sig_web", "sig_db"}
    pd.testing.assert_frame_equal(a.importances, b.importances)  # deterministic
    pd.testing.assert_frame_equal(a.oof, b.oof)


def test_task_model_overrides_train_model(frames):
    f, lab, rule = frames
    p = make_params("random_forest", task_model="logistic_regression")
    assert train.train_task("t", f, lab, rule, p).model_name == "logistic_regression"


def test_no_rule_baseline_and_eval_source_missing(frames):
    f, lab, _ = frames
    p = make_params(evaluate_on_source="nowhere")
    r = train.train_task("t", f, lab, None, p)
    assert "rule" not in r.metrics and "rule" not in r.oof.columns
    assert r.metrics["eval"] == {"n": 0}
    assert any("nowhere" in w for w in r.warnings)


def test_rule_predicting_an_unlabelled_class_counts_as_error(frames):
    f, lab, rule = frames
    rule = rule.copy()
    rule.iloc[:30] = "gpu"
    r = train.train_task("t", f, lab, rule, make_params())
    assert any("gpu" in w for w in r.warnings)
    assert (r.oof["rule"].iloc[:30] == "gpu").all()
    assert r.metrics["rule"]["accuracy"] < r.metrics["model"]["accuracy"]


# ---------------------------------------------------------------- clear errors

def _err(frames_or_params, match):
    f, lab, rule, params = frames_or_params
    with pytest.raises(InputError, match=match) as e:
        train.train_task("t", f, lab, rule, params)
    assert "\n" not in str(e.value)
    return e.value


def test_error_labels_name_unknown_ids(frames):
    f, lab, rule = frames
    lab = pd.concat([lab, pd.DataFrame({"id": ["ghost-1", "ghost-2"], "label": ["web", "hpc"],
                                        "source": ["naming", "naming"]})], ignore_index=True)
    e = _err((f, lab, rule, make_params()),
             r"labels name 2 ids not in the feature table, e\.g\. ghost-1, ghost-2: fix the labels file")
    assert isinstance(e, train.LabelsError)


def test_error_class_smaller_than_folds(frames):
    f, lab, rule = frames
    lab = lab.copy()
    lab.loc[lab.index[:2], "label"] = "gpu"
    _err((f, lab, rule, make_params(folds=5)),
         r"class 'gpu' has 2 labelled rows, fewer than cv_folds=5: lower train.cv_folds "
         r"or drop/merge the class \(tasks.t.exclude_classes: \[gpu\]\)$")


def test_excluded_classes_are_left_out_with_a_warning(frames):
    f, lab, rule = frames
    lab = lab.copy()
    lab.loc[lab.index[:2], "label"] = "gpu"
    r = train.train_task("t", f, lab, rule, make_params(folds=5, exclude_classes=["gpu"]))
    assert r.classes == sorted(CLASSES) and r.metrics["n_labelled"] == 88
    assert "gpu" not in set(r.oof["label"])
    assert any("left out 2 labelled rows of excluded class(es) gpu" in w for w in r.warnings)


def test_error_fewer_than_two_classes(frames):
    f, lab, rule = frames
    lab = lab.assign(label="web")
    _err((f, lab, rule, make_params()), r"fewer than 2 classes \(only 'web'\)")


def test_error_unknown_model_lists_valid_ones(frames):
    f, lab, rule = frames
    e = _err((f, lab, rule, make_params("xgboost")),
             r"train.model 'xgboost' is not a known model; valid: logistic_regression, "
             r"random_forest, hist_gradient_boosting")
    assert isinstance(e, train.ParamsError)
    _err((f, lab, rule, make_params(task_model="svm")), r"tasks.t.model 'svm'")


def test_error_unknown_hyperparameter(frames):
    f, lab, rule = frames
    p = make_params()
    p["train"]["models"]["random_forest"]["n_trees"] = 10
    _err((f, lab, rule, p), r"train.models.random_forest: unknown hyperparameter\(s\) n_trees; valid: .*n_estimators")


def test_error_bad_feature_and_label_tables(frames):
    f, lab, rule = frames
    _err((f.assign(kind="x"), lab, rule, make_params()), r"non-numeric feature column\(s\) kind")
    _err((pd.concat([f, f.head(1)]), lab, rule, make_params()), r"1 duplicate ids in the feature table")
    _err((f, pd.concat([lab, lab.head(2)]), rule, make_params()), r"2 ids are labelled more than once")
    _err((f, lab.drop(columns="source"), rule, make_params()), r"lacks column\(s\) source")
    _err((f, lab, rule, make_params(folds=1)), r"cv_folds=1")


def test_never_a_sklearn_traceback_on_unfittable_hyperparameters(frames):
    f, lab, rule = frames
    p = make_params()
    p["train"]["models"]["random_forest"]["n_estimators"] = -3
    with pytest.raises((InputError, train.StageFailed)) as e:
        train.train_task("t", f, lab, rule, p)
    assert "\n" not in str(e.value) and "n_estimators" in str(e.value)


# ---------------------------------------------------------------- model files and classify

def test_model_file_is_deterministic_and_round_trips(tmp_path, rf_result, frames):
    f, lab, rule = frames
    again = train.train_task("t", f, lab, rule, make_params())
    blob = train.model_bytes(rf_result.model)
    assert blob == train.model_bytes(again.model)  # byte-identical output for DVC
    path = tmp_path / "model.skops"
    path.write_bytes(blob)
    loaded = train.load_model(path)
    X = rf_result.train_frame.drop(columns="label")
    assert (loaded.predict(X) == rf_result.model.predict(X)).all()
    np.testing.assert_allclose(loaded.predict_proba(X), rf_result.model.predict_proba(X))


class NotAModel:  # a type skops does not trust by default and train.load_model must refuse
    def __init__(self):
        self.x = 1


def test_load_model_refuses_untrusted_types_and_garbage(tmp_path):
    import skops.io as sio

    bad = tmp_path / "bad.skops"
    bad.write_bytes(sio.dumps(NotAModel()))
    with pytest.raises(InputError, match=r"untrusted type\(s\) .*NotAModel"):
        train.load_model(bad)
    junk = tmp_path / "junk.skops"
    junk.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable skops model"):
        train.load_model(junk)
    with pytest.raises(InputError, match="model file missing"):
        train.load_model(tmp_path / "none.skops")


def test_classify_covers_every_row(rf_result, frames):
    f = frames[0]
    out = classify_mod.classify(rf_result.model, f)
    assert list(out.columns) == ["id", "predicted", "probability"]
    assert list(out["id"]) == list(f["id"]) and len(out) == 105  # 90 labelled + 15 not
    assert out["predicted"].isin(CLASSES).all()
    assert ((out["probability"] >= 1 / 3 - 1e-9) & (out["probability"] <= 1)).all()
    # on the unlabelled rows the signal still decides
    tail = out.iloc[90:]
    truth = np.array(CLASSES)[np.arange(90, 105) % 3]
    assert (tail["predicted"].to_numpy() == truth).mean() > 0.6


def test_classify_ports_keeps_project_id_and_checks_columns():
    f, lab, rule = make_frames(ports=True)
    r = train.train_task("t", f, lab, rule, make_params())
    assert "project_id" not in r.feature_names
    out = classify_mod.classify(r.model, f)
    assert list(out.columns) == ["id", "project_id", "predicted", "probability"]
    assert list(out["project_id"]) == list(f["project_id"])
    with pytest.raises(InputError, match=r"lacks 1 column\(s\) the model was trained on \(sig_web\)"):
        classify_mod.classify(r.model, f.drop(columns="sig_web"))
    empty = classify_mod.classify(r.model, f.head(0))
    assert len(empty) == 0 and list(empty.columns) == ["id", "project_id", "predicted", "probability"]


# ---- leak-free features

def test_a_task_labelled_from_names_must_forbid_names(frames):
    f, lab, rule = frames
    params = make_params()
    params["tasks"]["t"]["forbid_sources"] = []
    _err((f, lab, rule, params), r"tasks.t: labels come from names \(label source naming\).*"
                                 r"add names to tasks.t.forbid_sources")
    params["tasks"]["t"]["forbid_sources"] = ["names", "colour"]
    _err((f, lab, rule, params), r"tasks.t.forbid_sources: unknown source\(s\) colour")


def test_forbidden_columns_never_reach_the_model(frames):
    f, lab, rule = frames
    leaky = f.assign(name_tok_00=(lab["label"].reindex(range(len(f))) == "web").astype(float),
                     n_ports_vm=1.0)
    res = train.train_task("t", leaky, lab, rule, make_params())
    assert "name_tok_00" not in res.feature_names and "name_tok_00" in res.forbidden_features
    assert "n_ports_vm" in res.feature_names   # reads device_owner, allowed for this task
    assert res.metrics["n_features_forbidden"] == 1


# ---- grouped CV, bootstrap intervals, tree rule

def test_port_rows_are_grouped_by_project_in_cv():
    f, lab, rule = make_frames(ports=True)
    res = train.train_task("t", f, lab, rule, make_params())
    assert res.metrics["cv"] == "grouped by project"
    folds = res.oof.merge(f[["id", "project_id"]], on="id").groupby("project_id")["fold"].nunique()
    assert (folds == 1).all()


def test_bootstrap_interval_brackets_the_estimate_and_is_deterministic(rf_result):
    m = rf_result.metrics
    for name in ("model", "majority", "rule", "tree_rule"):
        assert m[name]["macro_f1_ci_low"] <= m[name]["macro_f1"] <= m[name]["macro_f1_ci_high"]
    y = np.array(list("abcabcabca"))
    p = np.array(list("abcabcabcb"))
    a = train.bootstrap_ci(y, p, None, 200, 3)
    assert a == train.bootstrap_ci(y, p, None, 200, 3)
    perfect = train.bootstrap_ci(y, y, np.arange(10) % 3, 200, 3)
    assert perfect == {"macro_f1_ci_low": 1.0, "macro_f1_ci_high": 1.0}
    assert train.bootstrap_ci(y, p, None, 0, 3) == {}


def test_tree_rule_is_a_small_tree(frames):
    f, lab, _rule = frames
    X, _d, _w = train.feature_matrix(f)
    X = X.loc[lab["id"]]
    tree = train.fit_tree_rule(X, lab["label"].to_numpy(), 0)
    assert tree[-1].get_n_leaves() <= 3


def test_gradient_boosting_does_not_collapse_on_few_rows():
    """47 rows, 6 classes: with min_samples_leaf=20 every tree was the majority class."""
    f, lab, rule = make_frames(n=48)
    params = make_params(model="hist_gradient_boosting")
    params["train"]["models"]["hist_gradient_boosting"] = {"max_iter": 30}
    res = train.train_task("t", f, lab, rule, params)
    assert res.metrics["model"]["macro_f1"] > res.metrics["majority"]["macro_f1"] + 0.3
    assert any("min_samples_leaf 20 lowered" in w for w in res.warnings)
