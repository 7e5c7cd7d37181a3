"""Synthetic-data evaluation: the metrics on hand-computable inputs, that the evaluation sees
what it must see (identical data scores 1, distorted data scores clearly lower, copied records
and planted real identifiers are caught), and the CLI's report, plots and MLflow run.

"Real" and "faithful synthetic" data are two small reference data centers from the sample
generator with different seeds (same distribution, independent draws); the synthetic one is
re-keyed (new ids, MACs, host names and names) so that it shares no identifier with the real one.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import uuid

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from pipeline import evaluate_synthetic as es
from pipeline import ingest, io, sample, validate
from pipeline.evaluate_synthetic.overlap import _id_columns
from pipeline.features import project_features

SMALL = dict(zones=2, racks_per_zone=2, hosts_per_rack=6, projects=36, faults_per_kind=0)
# A small forest keeps the utility part fast; the registry and code path are the real ones.
PARAMS = {
    "tasks": {"project_profile": {"features": "projects", "labeler": "project_profile",
                                  "label_sources": ["ground_truth", "naming"],
                                  "forbid_sources": ["names"],
                                  "evaluate_on_source": "ground_truth"}},
    "train": {"model": "random_forest", "cv_folds": 3, "seed": 42,
              "models": {"random_forest": {"n_estimators": 25}}},
    "labels": {"naming_pattern": "^[a-z0-9]+-(?P<label>[a-z0-9]+)-",
               "naming_aliases": {"k8s": "kubernetes", "db": "database"},
               "min_naming_share": 0.6},
    "evaluate_synthetic": {"seed": 11, "holdout_share": 0.3, "min_fidelity": 0.9},
}


def _dc(tmp_path_factory, seed: int) -> dict[str, pd.DataFrame]:
    d = tmp_path_factory.mktemp(f"dc{seed}")
    sample.write_sample(d / "raw", {**SMALL, "seed": seed})
    tables, _rep = ingest.ingest_dir(d / "raw", {"workers": 1})
    return validate.validate_tables(tables, {}).valid


# ------------------------------------------------------------------ re-keying (test helper)

def _h(kind: str, v: str) -> str:
    return hashlib.sha256(f"{kind}:{v}".encode()).hexdigest()


def rekey(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Same data, no shared identifier: ids -> new uuids (references kept), MACs -> locally
    administered ones, host names and resource names renamed. Addresses stay (private ranges)."""
    id_cols = _id_columns(tables)
    id_cols["ports"] = id_cols["ports"] + ["device_id"]
    mac_rx = re.compile(r"([0-9a-f]{2}(?::[0-9a-f]{2}){5})", re.I)

    def new_id(v):
        return None if v is None or v is pd.NA else str(uuid.UUID(_h("id", v)[:32]))

    def new_mac(v):
        d = _h("mac", v.lower())
        return "02:" + ":".join(d[i:i + 2] for i in range(0, 10, 2))

    out = {}
    for name, df in tables.items():
        df = df.copy()
        for c in id_cols.get(name, []):
            df[c] = df[c].astype("string").map(new_id, na_action="ignore").astype("string")
        for c in ("mac_address", "host_dvr_mac"):
            if c in df.columns:
                df[c] = df[c].astype("string").map(new_mac, na_action="ignore").astype("string")
        if name == "ports":
            df["allowed_address_pairs"] = df["allowed_address_pairs"].astype("string").map(
                lambda s: mac_rx.sub(lambda m: new_mac(m.group(1)), s), na_action="ignore")
        for c in ("node_name", "binding_host_id"):
            if c in df.columns:
                df[c] = ("syn-" + df[c].astype("string")).where(df[c].astype("string") != "", "")
        for c in ("name", "dns_name", "description"):  # free text of its own
            if c in df.columns and name != "hosts":
                s = df[c].astype("string")
                df[c] = (s + "_syn").where(s.fillna("") != "", s)
        out[name] = df
    return out


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def real(tmp_path_factory):
    return _dc(tmp_path_factory, 101)


@pytest.fixture(scope="module")
def faithful(tmp_path_factory):
    return rekey(_dc(tmp_path_factory, 202))


def distort(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Wrong in ways a blind metric would miss: every IPv4 subnet a /30, every subnet's ports
    quadrupled (copies of its ports on new ids), one protocol and one network type everywhere."""
    t = {k: v.copy() for k, v in tables.items()}
    subs = t["subnets"]
    v4 = subs["ip_version"] == 4
    subs.loc[v4, "cidr"] = subs.loc[v4, "cidr"].str.replace(r"/\d+$", "/30", regex=True)
    ports, pips = t["ports"], t["port_ips"]
    copies_p, copies_i = [ports], [pips]
    for k in range(1, 4):
        p = ports.copy()
        p["id"] = p["id"] + f"-c{k}"
        i = pips.copy()
        i["port_id"] = i["port_id"] + f"-c{k}"
        copies_p.append(p)
        copies_i.append(i)
    t["ports"] = pd.concat(copies_p, ignore_index=True)
    t["port_ips"] = pd.concat(copies_i, ignore_index=True)
    t["security_group_rules"]["protocol"] = "tcp"
    t["networks"]["network_type"] = "vlan"
    return t


@pytest.fixture(scope="module")
def ev_faithful(real, faithful):
    return es.evaluate(real, faithful, PARAMS)


# ------------------------------------------------------------------ the metrics themselves

def test_ks_complement_hand_computed():
    # ECDFs of [1,2,3,4] and [3,4,5,6] differ by at most 0.5 (at x in [2, 3)): KS = 0.5.
    assert es.ks_complement([1, 2, 3, 4], [3, 4, 5, 6]) == pytest.approx(0.5)
    assert es.ks_complement([1, 2, 3], [1, 2, 3]) == 1.0
    assert es.ks_complement([1, 2], [10, 20]) == 0.0
    # Missing values are dropped, as SDMetrics does.
    assert es.ks_complement([1, None, 2, np.nan], [1, 2]) == 1.0
    assert es.ks_complement([], [1]) is None
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=200), rng.normal(0.3, 1.2, size=150)
    assert es.ks_complement(a, b) == pytest.approx(1 - ks_2samp(a, b).statistic)


def test_tv_complement_hand_computed():
    # real a:0.5 b:0.5, synthetic a:0.25 b:0.75: TVD = (0.25 + 0.25) / 2 = 0.25.
    assert es.tv_complement(list("ab"), list("abbb")) == pytest.approx(0.75)
    # A category only the synthetic data has counts fully: real a:1, synthetic a:0.5 c:0.5.
    assert es.tv_complement(["a"], ["a", "c"]) == pytest.approx(0.5)
    assert es.tv_complement(["x", "y"], ["y", "x"]) == 1.0
    assert es.tv_complement(["x"], ["y"]) == 0.0
    assert es.tv_complement([True, False, None], [True, False]) == 1.0  # missing dropped
    assert es.tv_complement([], ["a"]) is None


def test_wasserstein_matches_definition():
    w, wn = es.wasserstein([0, 0, 4], [0, 4, 4])
    # Mass 1/3 moves from 0 to 4: W1 = 4/3; the real range is 4.
    assert w == pytest.approx(4 / 3)
    assert wn == pytest.approx(1 / 3)


def test_shared_address_ranges():
    for a in ("10.1.2.3", "172.31.0.1", "192.168.1.1", "100.64.0.9", "203.0.113.5",
              "2001:db8::1", "fe80::1", "fd00::5", "127.0.0.1", "0.0.0.0/0", "::/0",
              "10.0.0.0/24"):
        assert es.is_shared_address(a), a
    for a in ("8.8.8.8", "45.67.89.10", "2a00:1450::1", "172.32.0.1", "45.67.0.0/16"):
        assert not es.is_shared_address(a), a


# ------------------------------------------------------------------ the evaluation

def test_identical_tables_score_one(real):
    ev = es.evaluate(real, real, PARAMS)
    fid = ev.report["fidelity"]
    assert fid["overall"] == 1.0
    assert fid["parts"] == {"column_shapes": 1.0, "structure": 1.0}
    assert fid["profile_mix"]["tv_complement"] == 1.0   # reported apart, not in the overall
    cols = [c for t in fid["column_shapes"]["tables"].values() for c in t["columns"].values()]
    assert len(cols) >= 30 and all(s == 1.0 for s in cols)
    # Identical data is a total copy: the privacy side must say so loudly.
    ov = ev.report["privacy"]["exact_overlap"]
    assert ov["ids"]["count"] > 1000 and ov["macs"]["count"] > 1000 and ov["host_names"]["count"] > 0
    assert ev.report["privacy"]["dcr"]["share_synthetic_exact_copies"] > 0.5
    assert ev.report["passed"] is False


def test_faithful_synthetic_is_close_and_clean(ev_faithful):
    r = ev_faithful.report
    assert r["fidelity"]["overall"] > 0.85
    assert r["fidelity"]["parts"]["column_shapes"] > 0.85
    assert r["privacy"]["exact_overlap"]["total"] == 0, r["privacy"]["exact_overlap"]
    d = r["privacy"]["dcr"]
    assert d["share_synthetic_exact_copies"] == 0
    assert d["share_synthetic_below_holdout_p5"] < 0.3
    u = r["utility"]
    assert u["tstr_macro_f1"] is not None and u["trtr_macro_f1"] is not None
    assert u["tstr_macro_f1"] > 0.5  # an independent draw of the same kinds transfers


def test_distorted_synthetic_scores_clearly_lower(real, faithful, ev_faithful):
    bad = es.evaluate(real, distort(faithful), PARAMS).report["fidelity"]
    good = ev_faithful.report["fidelity"]
    assert bad["overall"] < good["overall"] - 0.05
    gs, bs = good["column_shapes"]["tables"], bad["column_shapes"]["tables"]
    # Each distortion is seen where it was made.
    assert bs["subnets"]["columns"]["prefixlen_v4"] < 0.2 < gs["subnets"]["columns"]["prefixlen_v4"]
    assert (bs["security_group_rules"]["columns"]["protocol"]
            < gs["security_group_rules"]["columns"]["protocol"] - 0.2)
    assert bs["networks"]["columns"]["network_type"] < 0.1
    gd, bd = good["structure"]["distributions"], bad["structure"]["distributions"]
    assert bd["ports_per_subnet"]["ks_complement"] < gd["ports_per_subnet"]["ks_complement"] - 0.3
    assert bd["ports_per_host"]["ks_complement"] < gd["ports_per_host"]["ks_complement"] - 0.15


def test_profile_mix_sees_a_skewed_mix(real, faithful):
    # Keep only one kind's labels and projects in the synthetic set: the mix collapses.
    skew = {k: v.copy() for k, v in faithful.items()}
    lab = skew["project_labels"]
    keep = set(lab.loc[lab["profile"] == lab["profile"].iloc[0], "project_id"])
    for name in ("networks", "subnets", "ports", "security_groups", "security_group_rules",
                 "routers", "floating_ips", "project_labels"):
        df = skew[name]
        skew[name] = df[df["project_id"].isin(keep)].reset_index(drop=True)
    mix = es.evaluate(real, skew, PARAMS).report["fidelity"]["profile_mix"]
    assert mix["tv_complement"] < 0.5
    assert set(mix["synthetic"]) <= {lab["profile"].iloc[0], "unknown"}


def test_planted_identifiers_are_detected(real, faithful):
    real = {k: v.copy() for k, v in real.items()}
    syn = {k: v.copy() for k, v in faithful.items()}
    # A real floating IP outside the shared ranges, and a shared private address in both.
    real["floating_ips"].loc[0, "floating_ip_address"] = "45.67.89.10"
    syn["floating_ips"].loc[0, "floating_ip_address"] = "45.67.89.10"
    syn["port_ips"].loc[0, "ip_address"] = real["port_ips"]["ip_address"].iloc[0]  # 10.x: shared
    syn["networks"].loc[0, "id"] = real["networks"]["id"].iloc[3]
    syn["ports"].loc[0, "mac_address"] = real["ports"]["mac_address"].iloc[5].upper()
    syn["ports"].loc[1, "device_id"] = real["ports"]["device_id"].iloc[7]
    syn["hosts"].loc[0, "node_name"] = real["hosts"]["node_name"].iloc[2]
    ov = es.exact_overlap(real, syn)
    assert ov["ips"]["count"] == 1 and ov["ips"]["by_column"] == {"floating_ips.floating_ip_address": 1}
    assert ov["ids"]["count"] == 1 and ov["ids"]["by_column"] == {"networks.id": 1}
    assert ov["macs"]["count"] == 1  # case does not hide a MAC
    assert ov["device_ids"]["count"] == 1
    assert ov["host_names"]["count"] == 1
    assert ov["total"] == 5
    assert "5 real values reappear" in es.gate_failures(
        {"gates": {"fidelity": {"passed": True}, "exact_overlap": {"passed": False}},
         "privacy": {"exact_overlap": ov}})[0]


def test_names_only_count_when_they_identify_one_project(real, faithful):
    syn = {k: v.copy() for k, v in faithful.items()}
    sg_names = real["security_groups"].groupby("name")["project_id"].nunique()
    shared = sg_names.index[sg_names > 1][0]        # e.g. "default": vocabulary
    subn = real["subnets"].groupby("name")["project_id"].nunique()
    own = subn.index[subn == 1][0]                   # one tenant's name
    syn["security_groups"].loc[0, "name"] = shared
    syn["subnets"].loc[0, "name"] = own
    ov = es.exact_overlap(real, syn)
    assert ov["names"]["count"] == 1 and ov["names"]["by_column"] == {"subnets.name": 1}


def test_dcr_flags_copied_records(real, faithful):
    # Half the synthetic projects are real projects (re-keyed): their feature vectors are the
    # real ones (names aside), far closer to the real training split than a holdout project.
    copied = rekey(real)
    d_copy = es.dcr(project_features(real, PARAMS), project_features(copied, PARAMS), 0.3, 11)
    d_ok = es.dcr(project_features(real, PARAMS), project_features(faithful, PARAMS), 0.3, 11)
    assert d_copy["share_synthetic_below_holdout_p5"] > 0.5
    assert d_copy["share_synthetic_below_holdout_p5"] > 3 * d_ok["share_synthetic_below_holdout_p5"]
    assert d_copy["median_synthetic"] < d_ok["median_synthetic"]


def test_report_is_deterministic_and_json(real, faithful, ev_faithful):
    again = es.evaluate(real, faithful, PARAMS).report
    a = json.dumps(ev_faithful.report, sort_keys=True)
    assert a == json.dumps(again, sort_keys=True)
    assert "NaN" not in a
    # Row order does not matter.
    shuffled = {k: v.sample(frac=1.0, random_state=1).reset_index(drop=True) for k, v in faithful.items()}
    assert es.evaluate(real, shuffled, PARAMS).report["fidelity"] == ev_faithful.report["fidelity"]


def test_missing_synthetic_table_scores_zero(real, faithful):
    syn = {k: v for k, v in faithful.items() if k != "floating_ips"}
    shapes = es.column_shapes(real, syn)
    assert all(c == 0.0 for c in shapes["tables"]["floating_ips"]["columns"].values())
    assert "fabric_switches" in shapes["skipped_tables"]  # empty in the real data


# ------------------------------------------------------------------ CLI, files, MLflow

@pytest.mark.slow
def test_cli_writes_report_plots_and_mlflow_run(tmp_path, real, faithful, monkeypatch):
    from typer.testing import CliRunner

    from pipeline.cli import app

    io.write_tables(real, tmp_path / "real")
    io.write_tables(faithful, tmp_path / "syn")
    (tmp_path / "params.yaml").write_text(json.dumps(PARAMS))  # JSON is YAML
    db = tmp_path / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    monkeypatch.chdir(tmp_path)
    args = ["evaluate-synthetic", "--real", "real", "--synthetic", "syn", "--labels", "nolabels",
            "--predictions", "nopreds", "--models", "nomodels", "--report", "out/synthetic.json",
            "--plots", "out/plots", "--params", "params.yaml", "--no-enforce"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "out" / "synthetic.json").read_text())
    assert 0 < rep["score"] <= 1 and rep["privacy"]["exact_overlap"]["total"] == 0
    pngs = sorted(p.name for p in (tmp_path / "out" / "plots").glob("*.png"))
    assert pngs == sorted(es.plot_names()) and len(pngs) == 7
    assert all((tmp_path / "out" / "plots" / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)
    con = sqlite3.connect(db)
    exp = con.execute("select experiment_id from experiments where name='dcnet-synthetic'").fetchall()
    assert len(exp) == 1
    runs = con.execute("select run_uuid from runs where experiment_id=?", exp[0]).fetchall()
    assert len(runs) == 1
    metrics = dict(con.execute("select key, value from metrics where run_uuid=?", runs[0]).fetchall())
    assert metrics["fidelity.overall"] == pytest.approx(rep["fidelity"]["overall"])
    assert metrics["privacy.exact_overlap.total"] == 0
    assert "utility.tstr_macro_f1" in metrics
    # Same inputs, same report bytes (a DVC metric); the enforced gate fails on a copy.
    first = (tmp_path / "out" / "synthetic.json").read_bytes()
    res = CliRunner().invoke(app, [*args[:-1], "--no-track"])
    assert res.exit_code == 0 and (tmp_path / "out" / "synthetic.json").read_bytes() == first
    res = CliRunner().invoke(app, [*args[:4], "real", *args[5:-1], "--no-track"])
    assert res.exit_code == 1
    assert "real values reappear in the synthetic data" in res.output
