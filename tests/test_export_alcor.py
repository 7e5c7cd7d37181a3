"""Alcor request stream: setup order, round trip through dcnet's ingest, and the K6 replay."""

from __future__ import annotations

import json
import shutil
import subprocess

import orjson
import pytest

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


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_k6_script_replays_the_whole_stream_in_order(tmp_path):
    export(small_dc(), tmp_path, {"k6": {"rate": 3, "vus": 2, "p95_ms": {"port": 250}}})
    reqs = read_stream(tmp_path / "alcor_requests.ndjson")
    script = (tmp_path / "alcor_k6.js").read_text()
    env = {"STREAM": "./alcor_requests.ndjson",
           "ALCOR_PORT_MANAGER_URL": "http://10.0.0.9:19006"}
    res = run_k6_script(tmp_path, script, env)
    calls = res["calls"]
    assert [(c["method"], c["body"]) for c in calls] == [(r["method"], r["body"]) for r in reqs]
    port_calls = [c for c in calls if c["resource"] == "port"]
    assert port_calls and all(c["url"].startswith("http://10.0.0.9:19006/project/") for c in port_calls)
    assert calls[0]["url"] == "http://localhost:9001/segments/createDefaultTable"
    sc = res["options"]["scenarios"]
    assert [s["tags"]["resource"] for s in sc.values()] == PHASES
    assert {s["rate"] for s in sc.values()} == {3} and {s["maxVUs"] for s in sc.values()} == {2}
    starts = [int(s["startTime"].rstrip("s")) for s in sc.values()]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    th = res["options"]["thresholds"]
    assert th["http_req_duration{resource:port}"] == ["p(95)<250"]
    assert th["dropped_iterations"] == ["count==0"] and "checks" in th

    # rate and concurrency from the environment, phases can be skipped
    res2 = run_k6_script(tmp_path, script, {**env, "RATE": "100", "VUS": "7", "SKIP": "floatingip"})
    sc2 = res2["options"]["scenarios"]
    assert {s["rate"] for s in sc2.values()} == {100} and {s["maxVUs"] for s in sc2.values()} == {7}
    assert "floatingip" not in {s["tags"]["resource"] for s in sc2.values()}
    assert len(res2["calls"]) == len(reqs) - sum(resource_of(r["path"]) == "floatingip" for r in reqs)
