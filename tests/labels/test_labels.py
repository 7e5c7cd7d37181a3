"""Labelers, source precedence, conflict report and rule baselines (pipeline/labels/)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipeline import io
from pipeline import labels as L
from pipeline import roles
from schemas.model import DEVICE_OWNERS, TABLE_NAMES, conform, empty_frame

LABEL_PARAMS = {
    "naming_pattern": "^[a-z0-9]+-(?P<label>[a-z0-9]+)-",
    "naming_aliases": {"k8s": "kubernetes", "kube": "kubernetes", "db": "database",
                       "dev": "devtest", "test": "devtest", "batch": "hpc"},
    "min_naming_share": 0.6,
}
PARAMS = {
    "labels": LABEL_PARAMS,
    "tasks": {
        "project_profile": {"features": "projects", "labeler": "project_profile",
                            "label_sources": ["ground_truth", "naming"]},
        "port_role": {"features": "ports", "labeler": "port_role",
                      "label_sources": ["device_owner"]},
    },
}


def _tables(rows: dict[str, list[dict]]) -> dict[str, pd.DataFrame]:
    return {n: conform(pd.DataFrame(rows[n]), n) if rows.get(n) else empty_frame(n)
            for n in TABLE_NAMES}


def _subnets(project: str, names: list[str]) -> list[dict]:
    return [{"id": f"{project}-s{i}", "project_id": project, "name": n}
            for i, n in enumerate(names)]


SUBNETS = (
    _subnets("pA", ["pa-k8s-01", "pa-kube-02", "pa-web-03"])       # 2/3 kubernetes (aliases)
    + _subnets("pB", ["pb-db-1", "pb-web-1"])                        # tie -> none
    + _subnets("pC", ["pc-dev-1", "pc-test-2", "pc-x-3"])           # 2/3 devtest
    + _subnets("pD", ["nomatch", "also_no_match", None])             # nothing named
    + _subnets("pE", ["pe-batch-1", "PE-HPC-2", "unnamed"])         # hpc, case folded; 2/2 named
    + _subnets("pF", ["pf-web-1", "pf-web-2", "pf-web-3", "pf-db-1", "pf-db-2"])  # 3/5 = 0.6
    + _subnets("pG", ["pg-web-1", "pg-web-2", "pg-db-1", "pg-hpc-1", "pg-x-1"])  # 2/5 < 0.6
)


@pytest.fixture(scope="module")
def tables():
    return _tables({
        "subnets": SUBNETS,
        "networks": [{"id": "nH", "project_id": "pH", "name": "lonely"}],
        "project_labels": [{"project_id": "pA", "profile": "kubernetes"},
                           {"project_id": "pC", "profile": "Web"},
                           {"project_id": "pG", "profile": "bigdata"}],
    })


# ---- naming convention

def test_subnet_name_regex_and_aliases():
    names = pd.Series(["pa-k8s-01", "x-kube-1", "a-db-2", "a-batch-1", "a-hpc", "A-Web-9", None,
                       "web"], dtype="string")
    got = L.subnet_name_labels(names, {"labels": LABEL_PARAMS}).tolist()
    assert [None if pd.isna(x) else x for x in got] == [
        "kubernetes", "kubernetes", "database", "hpc", None, "web", None, None]


def test_pattern_without_label_group_is_rejected():
    with pytest.raises(L.LabelConfigError, match="named group 'label'"):
        L.subnet_name_labels(pd.Series(["a-b-c"]), {"labels": {"naming_pattern": "^(.*)-"}})


def test_naming_majority_and_min_share(tables):
    got = dict(zip(*L.naming_labels(tables, PARAMS)[["id", "label"]].to_numpy().T))
    assert got == {"pA": "kubernetes", "pC": "devtest", "pE": "hpc", "pF": "web"}
    # a stricter share drops the 2/3 and 3/5 majorities; pC's "x" names no class, so pC's
    # named subnets are 2/2 devtest
    strict = {"labels": {**LABEL_PARAMS, "min_naming_share": 0.7}}
    assert set(L.naming_labels(tables, strict)["id"]) == {"pC", "pE"}
    # a token becomes a label only when it names a class (labels.classes, alias target,
    # ground truth): "x" is a fragment of a name until declared
    only_x = _tables({"subnets": _subnets("pX", ["px-x-1", "px-x-2"])})
    assert len(L.naming_labels(only_x, PARAMS)) == 0
    declared = {"labels": {**LABEL_PARAMS, "classes": ["x"]}}
    assert L.naming_labels(only_x, declared)["label"].tolist() == ["x"]
    # a lenient share keeps pG's plurality (2/5) but never a tie (pB)
    lenient = {"labels": {**LABEL_PARAMS, "min_naming_share": 0.3}}
    got = dict(zip(*L.naming_labels(tables, lenient)[["id", "label"]].to_numpy().T))
    assert got["pG"] == "web" and "pB" not in got


def test_project_profile_candidates(tables):
    c = L.LABELERS["project_profile"](tables, PARAMS)
    assert list(c.columns) == ["id", "label", "source"]
    gt = c[c["source"] == "ground_truth"].set_index("id")["label"]
    assert gt.to_dict() == {"pA": "kubernetes", "pC": "web", "pG": "bigdata"}  # lower-cased
    assert set(c["source"]) == {"ground_truth", "naming"}


# ---- precedence and report

def test_precedence_and_conflicts(tables):
    cand = L.project_profile(tables, PARAMS)
    labels, rep = L.build_labels(cand, ["ground_truth", "naming"])
    got = {r.id: (r.label, r.source) for r in labels.itertuples()}
    assert got == {"pA": ("kubernetes", "ground_truth"), "pC": ("web", "ground_truth"),
                   "pE": ("hpc", "naming"), "pF": ("web", "naming"),
                   "pG": ("bigdata", "ground_truth")}
    assert labels["id"].tolist() == sorted(got)
    assert rep["conflicts"]["count"] == 1
    assert rep["conflicts"]["examples"] == [
        {"id": "pC", "labels": {"ground_truth": "web", "naming": "devtest"}}]
    assert rep["agreement"] == {"ground_truth~naming": {"both": 2, "agree": 1}}
    assert rep["candidates_per_source"] == {"ground_truth": 3, "naming": 4}
    assert rep["labels_per_source"] == {"ground_truth": 3, "naming": 2}
    assert rep["labels_per_class"] == {"bigdata": 1, "hpc": 1, "kubernetes": 1, "web": 2}
    json.dumps(rep)  # JSON-serializable as is

    rev, rep2 = L.build_labels(cand, ["naming", "ground_truth"])
    r = rev.set_index("id")
    assert r.loc["pC", "label"] == "devtest" and r.loc["pC", "source"] == "naming"
    assert r.loc["pG", "source"] == "ground_truth"
    assert rep2["conflicts"]["count"] == 1


def test_sources_not_in_order_are_ignored():
    cand = pd.DataFrame({"id": ["a", "a", "b"], "label": ["x", "y", "z"],
                         "source": ["ground_truth", "guess", "guess"]})
    labels, rep = L.build_labels(cand, ["ground_truth"])
    assert labels.to_dict("records") == [{"id": "a", "label": "x", "source": "ground_truth"}]
    assert rep["ignored_sources"] == ["guess"] and rep["conflicts"]["count"] == 0


def test_conflict_examples_are_capped():
    n = L.MAX_CONFLICT_EXAMPLES + 5
    ids = [f"p{i:03d}" for i in range(n)]
    cand = pd.DataFrame({"id": ids * 2, "label": ["a"] * n + ["b"] * n,
                         "source": ["s1"] * n + ["s2"] * n})
    _, rep = L.build_labels(cand, ["s1", "s2"])
    assert rep["conflicts"]["count"] == n
    assert len(rep["conflicts"]["examples"]) == L.MAX_CONFLICT_EXAMPLES
    assert rep["conflicts"]["examples"][0]["id"] == "p000"


# ---- port roles

EXPECTED_ROLES = {
    "": "unbound",
    "compute:nova": "vm", "compute:az-2": "vm",
    "network:router_interface": "router_interface",
    "network:router_interface_distributed": "router_interface",
    "network:ha_router_replicated_interface": "router_interface",
    "network:router_gateway": "router_gateway",
    "network:dhcp": "dhcp",
    "network:floatingip": "floating_ip",
    "Octavia": "lb_vip", "neutron:LOADBALANCERV2": "lb_vip", "neutron:LOADBALANCER": "lb_vip",
    "network:router_centralized_snat": "other", "network:distributed": "other",
    "network:local_ip": "other", "network:routed": "other", "trunk:subport": "other",
    "baremetal:none": "other", "network:router_ha_interface": "other", "made:up": "other",
}


def test_every_owner_kind_has_a_role():
    for owner in sorted(DEVICE_OWNERS):
        assert owner in EXPECTED_ROLES, owner
    for owner, role in EXPECTED_ROLES.items():
        assert roles.owner_role(owner) == role, owner
    assert roles.owner_role(None) is None and roles.owner_role(pd.NA) is None


def test_port_role_labeler():
    owners = list(EXPECTED_ROLES) + [None]
    t = _tables({"ports": [{"id": f"port{i:02d}", "device_owner": o} for i, o in enumerate(owners)]})
    got = L.port_role(t, PARAMS)
    assert got["source"].unique().tolist() == ["device_owner"]
    assert len(got) == len(EXPECTED_ROLES)  # the null (scrubbed) owner gets no label
    assert dict(zip(got["id"], got["label"])) == {
        f"port{i:02d}": EXPECTED_ROLES[o] for i, o in enumerate(owners) if o is not None}
    assert set(got["label"]) == set(roles.PORT_ROLES)


# ---- task wiring and rule baselines

def test_task_labels_unknown_labeler(tables):
    params = {"tasks": {"t": {"labeler": "nope"}}}
    with pytest.raises(L.LabelConfigError, match="unknown labeler"):
        L.task_labels(tables, params, "t")
    with pytest.raises(L.LabelConfigError, match="no task"):
        L.task_labels(tables, params, "missing")
    bad = {"labels": {"naming_pattern": "(?P<label>"}, "tasks": {"p": {"labeler": "project_profile"}}}
    with pytest.raises(L.LabelConfigError, match="not a valid regex"):
        L.task_labels(tables, bad, "p")


def test_rule_baseline_naming(tables):
    s = L.rule_baseline("naming", tables, PARAMS)
    # every project that owns anything, naming label or None
    assert s.index.tolist() == ["pA", "pB", "pC", "pD", "pE", "pF", "pG", "pH"]
    assert s.to_dict() == {"pA": "kubernetes", "pB": None, "pC": "devtest", "pD": None,
                           "pE": "hpc", "pF": "web", "pG": None, "pH": None}


def test_rule_baseline_port_name():
    names = {"a": "dhcp-port", "b": "router-1", "c": "ext-gw", "d": "fip-203",
             "e": "octavia-lb-vip", "f": "web-01-eth0", "g": None, "h": "GATEWAY"}
    t = _tables({"ports": [{"id": k, "name": v} for k, v in names.items()]})
    s = L.rule_baseline("port_name", t, PARAMS)
    assert s.to_dict() == {"a": "dhcp", "b": "router_interface", "c": "router_gateway",
                           "d": "floating_ip", "e": "lb_vip", "f": None, "g": None,
                           "h": "router_gateway"}
    with pytest.raises(KeyError):
        L.rule_baseline("nope", t, PARAMS)


def test_cli_labels(tmp_path, tables):
    from typer.testing import CliRunner

    import yaml

    from pipeline.cli import app

    t = dict(tables)
    t["ports"] = conform(pd.DataFrame([{"id": "p1", "device_owner": "compute:nova"},
                                       {"id": "p2", "device_owner": "network:dhcp"}]), "ports")
    io.write_tables(t, tmp_path / "validated")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    args = ["labels", "--input", str(tmp_path / "validated"), "--out", str(tmp_path / "labels"),
            "--report", str(tmp_path / "labels.json"), "--params", str(tmp_path / "params.yaml")]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    out = tmp_path / "labels"
    assert sorted(p.name for p in out.iterdir()) == [
        "_manifest.json", "port_role.parquet", "port_role_all.parquet", "project_profile.parquet",
        "project_profile_all.parquet"]
    pp = pd.read_parquet(out / "project_profile.parquet")
    assert list(pp.columns) == ["id", "label", "source"] and len(pp) == 5
    assert len(pd.read_parquet(out / "project_profile_all.parquet")) == 7
    roles = pd.read_parquet(out / "port_role.parquet")
    assert roles["label"].tolist() == ["vm", "dhcp"]
    rep = json.loads((tmp_path / "labels.json").read_text())
    assert rep["project_profile"]["conflicts"]["count"] == 1
    assert rep["port_role"]["labels_per_class"] == {"dhcp": 1, "vm": 1}
    # byte-identical on a rerun
    before = (out / "project_profile.parquet").read_bytes()
    assert CliRunner().invoke(app, args).exit_code == 0
    assert (out / "project_profile.parquet").read_bytes() == before
    # a task naming an unknown labeler fails with a one-line message
    bad = {**PARAMS, "tasks": {"x": {"labeler": "nope"}}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(bad))
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and "unknown labeler" in r.output


def test_labels_outside_the_declared_classes_are_reported(tables):
    params = {**PARAMS, "labels": {**LABEL_PARAMS, "classes": ["kubernetes", "web", "devtest", "hpc"]}}
    _, _, rep = L.task_labels(tables, params, "project_profile")
    # ground truth says pG is "bigdata", not a declared class: a likely typo, reported
    assert rep["classes_outside_vocabulary"] == {"bigdata": 1}
    declared_all = {**PARAMS, "labels": {**LABEL_PARAMS, "classes": ["kubernetes", "web", "bigdata"]}}
    _, _, rep = L.task_labels(tables, declared_all, "project_profile")
    assert rep["classes_outside_vocabulary"] == {"hpc": 1}  # pE, labelled by its subnet names
