"""Alcor request stream: setup order, round trip through dcnet's ingest, and the K6 replay."""

from __future__ import annotations

import json
import shutil
import subprocess

import orjson
import pytest

from export_fixtures import alcor_round_trip, sample_tables, small_dc  # noqa: F401
from pipeline.export import alcor as export_alcor
from pipeline.export.topology import build_topology

PHASES = ["segment", "node", "vpc", "subnet", "router", "router_interface", "security_group",
          "security_group_rule", "port", "elasticip_range", "elasticip"]
LINE_KEYS = {"service", "method", "path", "body", "phase", "resource"}


def export(tables, out, params=None):
    out.mkdir(parents=True, exist_ok=True)
    return export_alcor.write(build_topology(tables, require_fabric=False), out, params or {})


def read_stream(path):
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def of(reqs, resource):
    return [r for r in reqs if r["resource"] == resource]


def bodies(reqs, resource):
    return [next(iter(r["body"].values())) for r in of(reqs, resource)]


def test_stream_follows_alcor_setup_order(tmp_path):
    export(small_dc(), tmp_path)
    reqs = read_stream(tmp_path / "alcor_requests.ndjson")
    assert all(LINE_KEYS <= set(r) <= LINE_KEYS | {"capture"} for r in reqs)
    phases = [r["phase"] for r in reqs]
    assert phases == sorted(phases) and phases[0] == 1
    assert sorted(set(phases)) == list(range(1, max(phases) + 1))  # consecutive
    runs = []
    for r in reqs:
        if not runs or runs[-1] != (r["phase"], r["resource"]):
            runs.append((r["phase"], r["resource"]))
    assert [res for _, res in runs] == PHASES
    services = {r["resource"]: r["service"] for r in reqs}
    assert services["port"] == "port_manager" and services["node"] == "node_manager"
    assert services["elasticip"] == services["elasticip_range"] == "elastic_ip_manager"
    # node registration: node_name equals the ports' binding:host_id
    nodes = {h["node_name"] for b in of(reqs, "node") for h in b["body"]["host_infos"]}
    bound = {p["binding:host_id"] for p in bodies(reqs, "port") if "binding:host_id" in p}
    assert bound and bound <= nodes
    vm = next(p for p in bodies(reqs, "port") if p["id"] == "port-00001")
    # dual stack: the IPv6 address is left out, the IPv4 one kept
    assert vm["fixed_ips"] == [{"ip_address": "192.168.5.61", "subnet_id": "sub-b"}]
    assert vm["security_groups"] == ["sg-db"] and vm["tenant_id"] == vm["project_id"] == "pa"


def test_routers_attach_by_subnet_one_vpc_each(tmp_path):
    """rtr-1 has interfaces in net-a and net-b: split into one router per VPC, attached by
    subnet_id; no interface ports of dcnet's own (Alcor creates the gateway port)."""
    summary = export(small_dc(), tmp_path)
    reqs = read_stream(tmp_path / "alcor_requests.ndjson")
    routers = bodies(reqs, "router")
    assert [r["id"] for r in routers][0] == "rtr-1" and len(routers) == 2
    assert "external_gateway_info" in routers[0] and "external_gateway_info" not in routers[1]
    ifaces = {r["path"].split("/")[4]: r["body"] for r in of(reqs, "router_interface")}
    assert ifaces == {"rtr-1": {"subnet_id": "sub-a"}, routers[1]["id"]: {"subnet_id": "sub-b"}}
    assert not {"port-if-a", "port-if-b"} & {p["id"] for p in bodies(reqs, "port")}
    assert summary["left_out"]["router interface port (Alcor creates the gateway port with the "
                               "subnet, R-GW-PORT)"] == 2
    assert summary["changed"]["router split: extra router for a further VPC (R-ROUTER-ONE-VPC)"] == 1
    assert all("routes" not in r for r in routers)


def test_ipv6_and_unsupported_values_left_out_and_counted(tmp_path):
    tables = small_dc()
    ports = tables["ports"]
    ports.loc[ports["id"] == "port-00002", "binding_vif_type"] = "unbound"
    ports.loc[ports["id"] == "port-00003", "binding_vif_type"] = "bridge"
    ports.loc[ports["id"] == "port-dhcp", "binding_host_id"] = ""
    summary = export(tables, tmp_path)
    reqs = read_stream(tmp_path / "alcor_requests.ndjson")
    assert "sub-b6" not in {s["id"] for s in bodies(reqs, "subnet")}
    assert not any(":" in ip["ip_address"] for p in bodies(reqs, "port") for ip in p.get("fixed_ips", ()))
    by_id = {p["id"]: p for p in bodies(reqs, "port")}
    assert "binding:vif_type" not in by_id["port-00002"]
    assert by_id["port-00003"]["binding:vif_type"] == "other"
    assert "binding:host_id" not in by_id["port-dhcp"]
    flat = next(n for n in bodies(reqs, "vpc") if n["id"] == "net-ext")
    assert flat["provider:network_type"] == "flat" and flat["provider:segmentation_id"] == 0
    assert all("attached_router_id" not in s for s in bodies(reqs, "subnet"))
    left, changed = summary["left_out"], summary["changed"]
    assert left["IPv6 subnet (Alcor subnets are IPv4 only, R-IPV6)"] == 1
    assert left["IPv6 fixed IP of a port (R-IPV6)"] == sum(
        1 for p in by_id.values() if p.get("fixed_ips", [{}])[0].get("subnet_id") == "sub-b")
    assert changed["vif_type 'unbound' omitted: Alcor's default applies (A4)"] == 1
    assert changed["vif_type 'bridge' sent as 'other' (A4)"] == 1
    assert changed["empty binding:host_id omitted: unbound port (R-NODE-UNBOUND)"] == 1
    assert changed["flat network given provider:segmentation_id (A7)"] == 1


def test_ncms_registered_before_nodes_one_ncm_per_bulk(tmp_path):
    tables = small_dc()
    hosts = tables["hosts"]
    hosts["ncm_id"] = ["ncm-b", "ncm-a", None, "ncm-a", "", "ncm-b"]
    hosts.loc[1, "ncm_uri"] = "http://10.0.0.7:9014"
    hosts["server_port"] = [50001, None, 50001, None, 50001, 50001]
    hosts["server_port"] = hosts["server_port"].astype("Int64")
    summary = export(tables, tmp_path, {"alcor": {"nodes_per_request": 1000, "server_port": 6000}})
    reqs = read_stream(tmp_path / "alcor_requests.ndjson")
    ncms = of(reqs, "ncm")
    assert [r["body"]["ncm_info"] for r in ncms] == [
        {"id": "ncm-a", "uri": "http://10.0.0.7:9014"}, {"id": "ncm-b", "uri": "http://localhost:9014"}]
    bulks = [r["body"]["host_infos"] for r in of(reqs, "node")]
    assert [sorted({h.get("ncm_id") for h in b}, key=str) for b in bulks] == [["ncm-a"], ["ncm-b"], [None]]
    assert all("ncm_id" not in h for h in bulks[2]) and len(bulks[2]) == 2  # None and "" alike
    assert max(r["phase"] for r in ncms) < min(r["phase"] for r in of(reqs, "node"))
    assert sorted(h["server_port"] for b in bulks for h in b) == [6000, 6000] + [50001] * 4
    assert summary["changed"]["host server_port set to export.alcor.server_port"] == 2


def test_node_registration_is_chunked(tmp_path):
    export(small_dc(), tmp_path, {"alcor": {"nodes_per_request": 4}})
    bulks = of(read_stream(tmp_path / "alcor_requests.ndjson"), "node")
    assert [len(r["body"]["host_infos"]) for r in bulks] == [4, 2]


def test_default_groups_resolved_through_a_capture(tmp_path):
    """No `default` group is posted. A project whose default group is referenced gets one port
    (its only group being the default) sent first without security_groups, capturing the id
    Alcor answers; rules and multi-group ports use {{default_sg.<project>}}; ports whose only
    group is the default omit security_groups."""
    tables = small_dc()
    psg = tables["port_security_groups"]
    psg.loc[psg["port_id"] == "port-00000", "security_group_id"] = "sg-default-a"  # only default
    psg.loc[len(psg)] = ["port-00002", "sg-default-a"] + [None] * (psg.shape[1] - 2)
    rules = tables["security_group_rules"]
    rules.loc[rules["id"] == "r1", "remote_ip_prefix"] = None
    rules.loc[rules["id"] == "r1", "remote_group_id"] = "sg-default-a"
    rules.loc[rules["id"] == "r2", "security_group_id"] = "sg-default-a"  # default's egress: kept
    summary = export(tables, tmp_path)
    reqs = read_stream(tmp_path / "alcor_requests.ndjson")
    assert "default" not in {g["name"] for g in bodies(reqs, "security_group")}
    probe = [r for r in reqs if "capture" in r]
    assert len(probe) == 1 and probe[0]["capture"] == {"default_sg.pa": "/port/security_groups/0"}
    assert probe[0]["body"]["port"]["id"] == "port-00000"
    assert "security_groups" not in probe[0]["body"]["port"]
    rule_phase = of(reqs, "security_group_rule")[0]["phase"]
    assert probe[0]["phase"] < rule_phase < max(r["phase"] for r in of(reqs, "port"))
    by_rule = {r["id"]: r for r in bodies(reqs, "security_group_rule")}
    assert by_rule["r1"]["remote_group_id"] == by_rule["r2"]["security_group_id"] == "{{default_sg.pa}}"
    two = next(p for p in bodies(reqs, "port") if p["id"] == "port-00002")
    assert set(two["security_groups"]) == {"sg-db", "{{default_sg.pa}}"}  # a pb port, pa default
    assert summary["changed"]["security group named default not posted: Alcor's own default "
                              "group of the project is used (R-SG-DEFAULT-EXPORT)"] == 2


def test_default_group_renamed_when_nothing_can_capture_it(tmp_path):
    tables = small_dc()
    rules = tables["security_group_rules"]
    rules.loc[rules["id"] == "r3", "remote_group_id"] = "sg-default-b"  # no port of pb has it alone
    ports = tables["ports"]
    # every port of pb has a group, so no port can be the capture probe
    summary = export(tables, tmp_path)
    reqs = read_stream(tmp_path / "alcor_requests.ndjson")
    groups = {g["id"]: g["name"] for g in bodies(reqs, "security_group")}
    assert groups["sg-default-b"] == "dcnet-default" and "sg-default-a" not in groups
    assert not [r for r in reqs if "capture" in r] and len(ports)
    r3 = next(r for r in bodies(reqs, "security_group_rule") if r["id"] == "r3")
    assert r3["remote_group_id"] == "sg-default-b"
    assert any("dcnet-default" in k for k in summary["changed"])


def test_allow_all_egress_rules_left_to_alcor(tmp_path):
    summary = export(small_dc(), tmp_path)  # r2: sg-web egress, any protocol, any peer
    reqs = read_stream(tmp_path / "alcor_requests.ndjson")
    assert "r2" not in {r["id"] for r in bodies(reqs, "security_group_rule")}
    assert summary["left_out"]["allow-all rule Alcor creates with the group itself (R-SG-AUTO-RULES)"] == 1


def test_floating_ips_as_elastic_ips_after_one_range_per_version(tmp_path):
    export(small_dc(), tmp_path)
    reqs = read_stream(tmp_path / "alcor_requests.ndjson")
    assert not any(r["path"].startswith("/v2.0") for r in reqs)
    (rng,) = bodies(reqs, "elasticip_range")
    assert rng["ip_version"] == 4 and rng["allocation_ranges"] == [
        {"start": "203.0.113.20", "end": "203.0.113.20"}]
    (eip,) = of(reqs, "elasticip")
    assert eip["path"] == "/project/pa/elasticips"
    assert eip["body"]["elasticip"] == {
        "id": "fip-1", "project_id": "pa", "tenant_id": "pa", "elastic_ip_version": 4,
        "elastic_ip": "203.0.113.20", "port_id": "port-00000", "private_ip": "10.10.1.60"}


def test_round_trip_through_ingest_small(tmp_path):
    tables = small_dc()
    export(tables, tmp_path / "out")
    alcor_round_trip(tmp_path / "out" / "alcor_requests.ndjson", tables, tmp_path)


def test_round_trip_through_ingest_sample(tmp_path, sample_tables):  # noqa: F811
    summary = export(sample_tables, tmp_path / "out")
    back = alcor_round_trip(tmp_path / "out" / "alcor_requests.ndjson", sample_tables, tmp_path)
    assert len(back["ports"]) == summary["by_resource"]["port"] > 1000


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


RUNNER = r"""
import fs from 'node:fs';
const calls = [];
const baseEnv = JSON.parse(process.env.K6ENV || '{}');
globalThis.__ENV = Object.assign({}, baseEnv);
globalThis.open = (p) => fs.readFileSync(p, 'utf8');
const execState = { scenario: { iterationInTest: 0 } };
globalThis.__k6 = {
  http: { request: (method, url, body, params) => {
    calls.push({ method, url, body: JSON.parse(body), resource: params.tags.resource });
    return { status: 201 }; } },
  check: (res, checks) => Object.values(checks).every((f) => f(res)),
  exec: execState,
  SharedArray: function (name, fn) { return fn(); },
};
const mod = await import('./script.mjs');
for (const sc of Object.values(mod.options.scenarios)) {
  // what constant-arrival-rate does: rate x duration iterations, each with the scenario env
  const total = sc.rate * parseInt(sc.duration, 10);
  for (let i = 0; i < total; i++) {
    globalThis.__ENV = Object.assign({}, baseEnv, sc.env);
    execState.scenario.iterationInTest = i;
    mod[sc.exec]();
  }
}
console.log(JSON.stringify({ options: mod.options, calls }));
"""


def run_k6_script(tmp_path, script: str, env: dict) -> dict:
    shimmed = (script
               .replace("import http from 'k6/http';", "const http = globalThis.__k6.http;")
               .replace("import { check } from 'k6';", "const { check } = globalThis.__k6;")
               .replace("import exec from 'k6/execution';", "const exec = globalThis.__k6.exec;")
               .replace("import { SharedArray } from 'k6/data';",
                        "const { SharedArray } = globalThis.__k6;"))
    assert "import " not in shimmed.split("const http")[1].split("\n")[0]
    (tmp_path / "script.mjs").write_text(shimmed)
    (tmp_path / "runner.mjs").write_text(RUNNER)
    p = subprocess.run(["node", "runner.mjs"], cwd=tmp_path, capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin", "K6ENV": json.dumps(env)}, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_each_step_holds_requests_of_its_resource(tmp_path, sample_tables):  # noqa: F811
    """write() counts requests per resource by step (RESOURCE_OF_STEP): every request of a step
    is of that resource, and the summary's counts are the stream's."""
    from collections import Counter

    from pipeline.export.alcor.stream import RESOURCE_OF_STEP, iter_requests

    for tables in (small_dc(), sample_tables):
        for step, batch in iter_requests(tables, {}):
            assert {r[0] for r in batch} <= {RESOURCE_OF_STEP[step]}, step
        summary = export(tables, tmp_path)
        lines = read_stream(tmp_path / "alcor_requests.ndjson")
        assert summary["by_resource"] == dict(sorted(Counter(r["resource"] for r in lines).items()))


def _tricky_dc():
    """small_dc with what ties the ports of the stream together: a capture probe (a port whose
    only group is its project's default, referenced by a rule), a fixed IP taken twice (the
    later port loses it), a port at its subnet's gateway, a floating IP on a port."""
    tables = small_dc(n_hosts=8, vms_per_host=3)
    psg = tables["port_security_groups"]
    psg.loc[psg["port_id"] == "port-00000", "security_group_id"] = "sg-default-a"
    rules = tables["security_group_rules"]
    rules.loc[rules["id"] == "r1", "remote_ip_prefix"] = None
    rules.loc[rules["id"] == "r1", "remote_group_id"] = "sg-default-a"
    ips = tables["port_ips"]
    on_a = ips[(ips["subnet_id"] == "sub-a") & ips["port_id"].str.startswith("port-0")]
    first, twice, at_gateway = on_a["port_id"].iloc[[1, -1, 2]]
    taken = on_a["ip_address"].iloc[1]
    ips.loc[ips["port_id"] == twice, "ip_address"] = taken  # the later port loses it
    gateway = tables["subnets"].set_index("id").loc["sub-a", "gateway_ip"]
    ips.loc[(ips["port_id"] == at_gateway) & (ips["subnet_id"] == "sub-a"), "ip_address"] = gateway
    tables["_expect"] = (first, twice, at_gateway)
    ports = tables["ports"]
    ports.loc[ports["id"] == "port-00007", "binding_vif_type"] = "unbound"
    return tables


@pytest.mark.parametrize("parts", [2, 5, 40])
def test_stream_parts_in_order_are_the_whole_stream(tmp_path, sample_tables, parts):  # noqa: F811
    """write_group/finish (the dask engine's Alcor tasks): any number of parts gives the stream
    file and the summary of one write, counts included; parts may finish in any order."""
    tricky = _tricky_dc()
    first, twice, at_gateway = tricky.pop("_expect")
    # 40 parts: a port or none per part (the sample only with fewer)
    cases = [("tricky", tricky)] + ([("sample", sample_tables)] if parts < 40 else [])
    for name, tables in cases:
        topo = build_topology(tables, require_fabric=False)
        whole = tmp_path / name / "whole"
        summary = export(tables, whole)
        split = tmp_path / name / "parts"
        split.mkdir()
        results = [export_alcor.write_group(topo, split, {}, g, parts) for g in range(parts)]
        assert export_alcor.finish(split, results[::-1]) == summary
        assert sorted(p.name for p in split.iterdir()) == ["alcor_k6.js", "alcor_requests.ndjson"]
        stream = "alcor_requests.ndjson"
        assert (split / stream).read_bytes() == (whole / stream).read_bytes()
    # the tricky cases are there
    reqs = read_stream(whole.parent.parent / "tricky" / "whole" / "alcor_requests.ndjson")
    assert [r["body"]["port"]["id"] for r in reqs if "capture" in r] == ["port-00000"]
    port_ips = {p["id"]: [ip["ip_address"] for ip in p.get("fixed_ips", ())] for p in bodies(reqs, "port")}
    assert first in port_ips and twice not in port_ips and at_gateway not in port_ips
    assert of(reqs, "elasticip")[0]["body"]["elasticip"]["port_id"] == "port-00000"
