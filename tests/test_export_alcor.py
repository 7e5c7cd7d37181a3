"""Alcor request stream: setup order and round trip through dcnet's ingest (the K6 replay:
test_alcor_k6.py)."""

from __future__ import annotations

import orjson

from export_fixtures import alcor_round_trip, sample_tables, small_dc  # noqa: F401
from pipeline import export_alcor
from pipeline.topology import build_topology

PHASES = ["segment", "node", "vpc", "subnet", "security_group", "security_group_rule", "router",
          "port", "router_interface", "port", "floatingip"]


def resource_of(path: str) -> str:
    if path.startswith("/segments/"):
        return "segment"
    if path.startswith("/nodes"):
        return "node"
    last = path.rsplit("/", 1)[-1]
    return {"add_router_interface": "router_interface", "security-group-rules": "security_group_rule",
            "security-groups": "security_group", "vpcs": "vpc", "subnets": "subnet",
            "routers": "router", "ports": "port", "floatingips": "floatingip"}[last]


def export(tables, out, params=None):
    out.mkdir(parents=True, exist_ok=True)
    return export_alcor.write(build_topology(tables, require_fabric=False), out, params or {})


def read_stream(path):
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_stream_follows_alcor_setup_order(tmp_path):
    tables = small_dc()
    export(tables, tmp_path)
    reqs = read_stream(tmp_path / "alcor_requests.ndjson")
    assert all(set(r) == {"service", "method", "path", "body"} for r in reqs)
    runs = []
    for r in reqs:
        res = resource_of(r["path"])
        if not runs or runs[-1] != res:
            runs.append(res)
    assert runs == PHASES
    # interface ports exist before add_router_interface names them, which follows the router
    iface = [r for r in reqs if r["path"].endswith("add_router_interface")]
    assert sorted(r["body"]["port_id"] for r in iface) == ["port-if-a", "port-if-b"]
    assert all(r["method"] == "PUT" and r["path"] == "/project/pa/routers/rtr-1/add_router_interface"
               for r in iface)
    # node registration: node_name equals the ports' binding:host_id
    nodes = {h["node_name"] for r in reqs if r["path"] == "/nodes/bulk" for h in r["body"]["host_infos"]}
    bound = {r["body"]["port"]["binding:host_id"] for r in reqs if "port" in r["body"]}
    assert bound and bound <= nodes
    ports = [r["body"]["port"] for r in reqs if "port" in r["body"]]
    vm = next(p for p in ports if p["id"] == "port-00001")
    assert vm["fixed_ips"] == [{"ip_address": "192.168.5.61", "subnet_id": "sub-b"},
                               {"ip_address": "fd00:5::11", "subnet_id": "sub-b6"}]
    assert vm["security_groups"] == ["sg-db"] and vm["tenant_id"] == vm["project_id"] == "pa"
    rtr = next(r["body"]["router"] for r in reqs if "router" in r["body"])
    assert rtr["external_gateway_info"] == {
        "network_id": "net-ext", "enable_snat": True,
        "external_fixed_ips": [{"ip_address": "203.0.113.5", "subnet_id": "sub-ext"}]}
    services = {resource_of(r["path"]): r["service"] for r in reqs}
    assert services["port"] == "port_manager" and services["node"] == "node_manager"
    assert services["security_group_rule"] == "security_group_manager"


def test_node_registration_is_chunked(tmp_path):
    export(small_dc(), tmp_path, {"alcor": {"nodes_per_request": 4}})
    bulks = [r for r in read_stream(tmp_path / "alcor_requests.ndjson") if r["path"] == "/nodes/bulk"]
    assert [len(r["body"]["host_infos"]) for r in bulks] == [4, 2]


def test_round_trip_through_ingest_small(tmp_path):
    tables = small_dc()
    export(tables, tmp_path / "out")
    alcor_round_trip(tmp_path / "out" / "alcor_requests.ndjson", tables, tmp_path)


def test_round_trip_through_ingest_sample(tmp_path, sample_tables):  # noqa: F811
    export(sample_tables, tmp_path / "out")
    back = alcor_round_trip(tmp_path / "out" / "alcor_requests.ndjson", sample_tables, tmp_path)
    assert len(back["ports"]) == len(sample_tables["ports"]) > 1000


def test_path_segments_from_data_are_escaped_and_output_deterministic(tmp_path):
    tables = small_dc()
    for name in ("networks", "subnets", "ports", "security_groups", "security_group_rules",
                 "routers", "floating_ips"):
        df = tables[name]
        df.loc[df["project_id"] == "pa", "project_id"] = "p/../a?x=1"
    export(tables, tmp_path / "a")
    paths = [r["path"] for r in read_stream(tmp_path / "a" / "alcor_requests.ndjson")]
    assert "/project/p%2F..%2Fa%3Fx%3D1/vpcs" in paths
    assert not any("/../" in p or "?" in p for p in paths)
    alcor_round_trip(tmp_path / "a" / "alcor_requests.ndjson", tables, tmp_path)
    # same tables in another row order: byte-identical stream
    for name in ("hosts", "ports", "port_ips", "security_group_rules"):
        tables[name] = tables[name].iloc[::-1].reset_index(drop=True)
    export(tables, tmp_path / "b")
    a = (tmp_path / "a" / "alcor_requests.ndjson").read_bytes()
    assert a == (tmp_path / "b" / "alcor_requests.ndjson").read_bytes()
    assert b", " not in a and b'": ' not in a  # compact separators
