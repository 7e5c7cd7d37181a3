"""Sharded synthesis (synthesize.shards > 1, pipeline/synthesize/generate.py): shards with their
own streams, ids / MACs / addresses disjoint by construction, one fabric that every shard places
onto, the same bytes on the local engine and on a 2-worker Dask LocalCluster."""

from __future__ import annotations

import functools
import importlib
import ipaddress
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline import io
from pipeline.cli import app
from pipeline.synthesize import Exclusions, SynthParamsError
from pipeline.synthesize.context import step_rng
from pipeline.validate import validate_tables
from schemas.model import TABLES
from synth_fixtures import PARAMS, sample_model, sample_valid

G = importlib.import_module("pipeline.synthesize.generate")  # the package re-exports the function
SHARDS = 3
SMALL = {"hosts": 120, "projects": 36, "seed": 5}


def params(**synth) -> dict:
    return {**PARAMS, "synthesize": {**PARAMS["synthesize"], **SMALL, **synth}}


@functools.cache
def exclusions() -> Exclusions:
    return Exclusions.from_tables(sample_valid())


@functools.cache
def sharded() -> dict[str, pd.DataFrame]:
    return G.generate(sample_model(), params(shards=SHARDS), exclude=exclusions())


def shard_parts(table: str) -> list[pd.DataFrame]:
    """Each shard's rows of `table`, generated alone (generate_shard)."""
    return [G.generate_shard(sample_model(), params(shards=SHARDS), s, exclusions())[table] for s in range(SHARDS)]


def test_shard_streams_differ_from_each_other_and_from_the_unsharded_one():
    draws = {step_rng(5, "ports").integers(1 << 40)} | {step_rng(5, "ports", s).integers(1 << 40) for s in range(4)}
    assert len(draws) == 5  # shard 0 too: SeedSequence ignores a trailing 0, the + 1 avoids it


def test_one_shard_is_the_default_path():
    model = sample_model()
    default = G.generate(model, params(), exclude=exclusions())
    assert "shards" in PARAMS["synthesize"]  # params.yaml names it: pop it to get the definition's default
    no_key = {**PARAMS, "synthesize": {k: v for k, v in params()["synthesize"].items() if k != "shards"}}
    one = G.generate(model, no_key, exclude=exclusions())
    for name in TABLES:
        pd.testing.assert_frame_equal(default[name], one[name], obj=name)
    # and sharding changes the output (the test above would pass if shards were ignored)
    assert not sharded()["ports"]["id"].equals(default["ports"]["id"])


def test_sharded_output_passes_validation_with_no_quarantined_row():
    result = validate_tables(sharded(), PARAMS.get("validate"))
    totals = result.report["totals"]
    assert totals["rows_in"] > 5000
    assert totals["rows_quarantined"] == 0, totals["by_check"]


def test_the_tables_are_the_shards_rows_in_shard_order_each_shard_generated_alone():
    syn = sharded()
    parts = shard_parts("ports")
    assert all(len(p) for p in parts)
    pd.testing.assert_series_equal(syn["ports"]["id"], pd.concat([p["id"] for p in parts], ignore_index=True))
    assert syn["ports"]["source_pos"].tolist() == list(range(len(syn["ports"])))
    # the external network once, first; each shard's projects are distinct
    nets = syn["networks"]
    assert nets["router_external"].tolist().count(True) == 1 and bool(nets["router_external"].iloc[0])
    labels = [set(p["project_id"]) for p in shard_parts("project_labels")]
    assert not (labels[0] & labels[1]) and not (labels[1] & labels[2])


def test_ids_macs_and_addresses_are_unique_over_all_shards():
    syn = sharded()
    ids = pd.concat([syn[t]["id"] for t in TABLES if "id" in syn[t].columns and len(syn[t])], ignore_index=True)
    assert ids.notna().all() and not ids.duplicated().any()
    projects = syn["project_labels"]["project_id"]
    assert not projects.duplicated().any()
    macs = pd.concat([syn["ports"]["mac_address"], syn["hosts"]["mac_address"], syn["hosts"]["host_dvr_mac"].dropna()])
    assert not macs.duplicated().any()
    # every address of a port (tenant IPv4 and IPv6, external) once in the whole data center
    addresses = syn["port_ips"]["ip_address"].map(lambda a: ipaddress.ip_address(a))
    assert not addresses.duplicated().any()
    cidrs = syn["subnets"]["cidr"].map(ipaddress.ip_network)
    nets4 = sorted((n for n in cidrs if n.version == 4), key=lambda n: int(n.network_address))
    assert all(a.broadcast_address < b.network_address for a, b in zip(nets4, nets4[1:]))  # no overlap
    seg = syn["networks"].dropna(subset=["segmentation_id"])
    assert not seg.duplicated(["network_type", "segmentation_id"]).any()


def test_each_shard_has_its_own_id_prefix_mac_salt_and_address_space():
    parts = shard_parts("ports")
    prefixes = [set(p["id"].str[:4]) for p in parts]
    salts = [set(p["mac_address"].str[:5]) for p in parts]
    assert all(len(s) == 1 for s in prefixes + salts)
    assert len(set.union(*prefixes)) == SHARDS and len(set.union(*salts)) == SHARDS
    spaces = [set(p["ip_address"]) for p in shard_parts("port_ips")]
    assert not (spaces[0] & spaces[1]) and not (spaces[0] & spaces[2]) and not (spaces[1] & spaces[2])


def test_every_bound_port_is_on_a_host_of_the_one_fabric_within_its_capacity():
    max_ports = 40  # tight: shards must move VMs to the hosts with room left in their part
    syn = G.generate(sample_model(), params(shards=SHARDS, max_ports_per_host=max_ports), exclude=exclusions())
    hosts = set(syn["hosts"]["node_name"])
    bound = syn["ports"]["binding_host_id"].fillna("")
    bound = bound[bound != ""]
    assert len(bound) > 0.8 * len(syn["ports"])
    assert set(bound) <= hosts
    assert bound.value_counts().max() <= max_ports
    links = syn["fabric_links"]
    assert set(syn["hosts"]["id"]) <= set(links["src_id"]) | set(links["dst_id"])  # every host on the fabric
    # the hosts are the same whatever the number of shards
    one = G.generate(sample_model(), params(max_ports_per_host=max_ports), exclude=exclusions())
    assert syn["hosts"]["node_name"].tolist() == one["hosts"]["node_name"].tolist()
    # every shard uses the whole fabric (placement over all hosts, not a slice per shard)
    per_shard = [set(p["binding_host_id"].dropna()) - {""} for p in shard_parts("ports")]
    assert all(len(s) > len(hosts) // 3 for s in per_shard)


@pytest.mark.parametrize("shards", [0, 257, "two"])
def test_bad_shard_counts_are_parameter_errors(shards):
    with pytest.raises(SynthParamsError, match="synthesize.shards"):
        G.generate(sample_model(), params(shards=shards))


# --- engines -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(dask_cluster):
    return dask_cluster[0]


@pytest.fixture(scope="module")
def valid_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("valid") / "validated"
    io.write_tables(sample_valid(), out)
    return out


def _synthesize(tmp_path: Path, valid_dir: Path, name: str, *engine_args: str) -> dict[str, bytes]:
    pfile = tmp_path / f"params-{name}.yaml"
    pfile.write_text(json.dumps({"synthesize": {**SMALL, "shards": SHARDS}}))
    out = tmp_path / name
    res = CliRunner().invoke(app, ["synthesize", "--input", str(valid_dir), "--out", str(out),
                                   "--labels", str(tmp_path / "none"), "--predictions", str(tmp_path / "none"),
                                   "--model-out", str(tmp_path / f"{name}.json"), "--params", str(pfile),
                                   *engine_args])
    assert res.exit_code == 0, res.output
    files = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    files["model"] = (tmp_path / f"{name}.json").read_bytes()
    return files


@pytest.mark.dask
@pytest.mark.xdist_group("dask")
def test_local_and_a_two_worker_cluster_write_the_same_bytes(tmp_path, valid_dir, cluster):
    local = _synthesize(tmp_path, valid_dir, "local", "--engine", "local")
    dask = _synthesize(tmp_path, valid_dir, "dask", "--scheduler", cluster.client.scheduler.address)
    assert "ports.parquet" in local and len(local) == len(TABLES) + 2  # + manifest, model
    assert dask == local
    # the shards really ran on the workers
    assert any("shard_task" in str(key) for key in cluster.client.run_on_scheduler(
        lambda dask_scheduler: list(dask_scheduler.task_prefixes)))


def test_more_shards_than_projects_leaves_empty_shards_and_a_valid_data_center():
    syn = G.generate(sample_model(), params(hosts=20, projects=2, shards=4))
    assert 2 <= syn["networks"]["project_id"].nunique() <= 3  # <= 2 projects + the admin's external network
    assert len(syn["hosts"]) >= 20
    assert validate_tables(syn, PARAMS.get("validate")).report["totals"]["rows_quarantined"] == 0


def test_one_shard_on_the_dask_engine_says_so_and_starts_no_cluster(tmp_path, valid_dir, monkeypatch):
    from pipeline import engine as engines

    def no_cluster(*_args, **_kwargs):
        raise AssertionError("a cluster was started for one shard")

    monkeypatch.setattr(engines.DaskEngine, "__init__", no_cluster)
    pfile = tmp_path / "params.yaml"
    pfile.write_text(json.dumps({"synthesize": {**SMALL, "shards": 1}}))
    res = CliRunner().invoke(app, ["synthesize", "--input", str(valid_dir), "--out", str(tmp_path / "out"),
                                   "--labels", str(tmp_path / "none"), "--predictions", str(tmp_path / "none"),
                                   "--model-out", str(tmp_path / "m.json"), "--params", str(pfile),
                                   "--engine", "dask"])
    assert res.exit_code == 0, res.output
    assert "synthesize.shards is 1: one shard, generated in this process" in res.stderr
