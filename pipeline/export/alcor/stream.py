"""The stream: every step's requests in Alcor's setup order, encoded as NDJSON lines and
written with the K6 replayer; and the stream read back as a dump of resource bodies."""

from __future__ import annotations

from pathlib import Path

import orjson

from pipeline.export.alcor.accepts import Counts
from pipeline.export.alcor.elastic_ips import _elastic_ips
from pipeline.export.alcor.fields import _children, _p, _req, _sorted, default_sg_var, resources
from pipeline.export.alcor.k6 import k6_script
from pipeline.export.alcor.networks import _routers, _subnets, _vpc_requests, _vpcs
from pipeline.export.alcor.nodes import _nodes
from pipeline.export.alcor.ports import _port_objects
from pipeline.export.alcor.security import (_default_groups, _default_sg_probes, _port_security_groups, _rules,
                          _security_groups)
from pipeline.export.topology import pylist
from pipeline.export.wire import dumps
from schemas.model import empty_frame

STREAM = "alcor_requests.ndjson"
K6 = "alcor_k6.js"

# Setup steps in Alcor's order: (step, resource). Each non-empty step is one phase.
STEPS = (("segment", "segment"), ("ncm", "ncm"), ("node", "node"), ("vpc", "vpc"),
         ("subnet", "subnet"), ("router", "router"), ("router_interface", "router_interface"),
         ("security_group", "security_group"), ("default_sg_capture", "port"),
         ("security_group_rule", "security_group_rule"), ("port", "port"),
         ("elasticip_range", "elasticip_range"), ("elasticip", "elasticip"))
RESOURCE_OF_STEP = dict(STEPS)


def build_stream(tables: dict, params: dict | None = None) -> list[dict]:
    """The ordered request list for the canonical tables (see the module doc), as the dicts
    written to the NDJSON stream."""
    return [orjson.loads(line) for line in stream_lines(tables, params)]


def stream_lines(tables: dict, params: dict | None = None, counts: Counts | None = None):
    """The stream's lines (bytes, without newline), in order."""
    phase, prev = 0, None
    for step, batch in iter_requests(tables, params, counts):
        if not batch:
            continue
        if step != prev:
            phase, prev = phase + 1, step
        yield from _encode(batch, phase)


def iter_requests(tables: dict, params: dict | None = None, counts: Counts | None = None):
    """(step, [request tuple]) in Alcor's setup order; a step may come in several batches
    (ports), so a writer can serialise and drop each before the next is built. Request tuple:
    (resource, service, method, path, body, capture or None)."""
    cfg = dict((params or {}).get("alcor") or {})
    counts = counts if counts is not None else Counts()

    def get(name, sort=True):
        df = tables.get(name)
        df = df if df is not None else empty_frame(name)
        return _sorted(df) if sort and "id" in df.columns else df

    yield "segment", [_req("segment", "vpc_manager", "POST", "/segments/createDefaultTable", {})]
    ncms, bulks, node_names = _nodes(get("hosts"), cfg, counts)
    yield "ncm", ncms
    yield "node", bulks
    del bulks
    vpcs = _vpcs(get("networks"), cfg, counts)
    subnet_reqs, subnets = _subnets(get("subnets"), get("allocation_pools"), vpcs, counts)
    yield "vpc", _vpc_requests(vpcs)
    yield "subnet", subnet_reqs
    routers, ifaces = _routers(get("routers"), get("router_interfaces"), vpcs, subnets, counts)
    yield "router", routers
    yield "router_interface", ifaces
    del routers, ifaces

    sg_objs = resources(get("security_groups"), "security_groups")
    defaults = _default_groups(sg_objs)
    port_objs = _port_objects(get("ports", sort=False), get("port_ips"), node_names, vpcs, subnets, counts)
    port_groups = _children(get("port_security_groups"), "port_id", "security_group_id",
                            ("security_group_id",), single=True)
    rule_objs = resources(get("security_group_rules"), "security_group_rules")
    probes, needed = _default_sg_probes(port_objs, port_groups, rule_objs, defaults, counts)
    renamed = {g for g, project in defaults.items() if project in needed and project not in probes}
    sg_reqs, posted = _security_groups(sg_objs, defaults, renamed, counts)
    defaults = {g: project for g, project in defaults.items() if g not in renamed}
    yield "security_group", sg_reqs
    del sg_objs, sg_reqs
    captured = set(probes)
    probe_ids = {obj["id"] for obj in probes.values()}
    yield "default_sg_capture", [
        _req("port", "port_manager", "POST", f"/project/{_p(project)}/ports", {"port": obj},
             {default_sg_var(project): "/port/security_groups/0"})
        for project, obj in sorted(probes.items(), key=lambda kv: kv[1]["id"])]
    yield "security_group_rule", _rules(rule_objs, defaults, posted, captured, counts)
    del rule_objs

    eip_ports = {}
    fips = get("floating_ips")
    fip_ports = set(pylist(fips["port_id"])) if len(fips) else set()  # the few a floating IP names
    batch = []
    for i, obj in enumerate(port_objs):
        port_objs[i] = None  # the batch holds it now; written and dropped chunk by chunk
        if obj["id"] in fip_ports:
            eip_ports[obj["id"]] = (obj.get("project_id"),
                                    {ip.get("ip_address") for ip in obj.get("fixed_ips", ())})
        if obj["id"] in probe_ids:
            continue
        _port_security_groups(obj, port_groups.get(obj["id"], []), defaults, posted, captured, counts)
        batch.append(_req("port", "port_manager", "POST",
                          f"/project/{_p(obj.get('project_id'))}/ports", {"port": obj}))
        if len(batch) >= 20_000:
            yield "port", batch
            batch = []
    yield "port", batch
    del port_objs, port_groups
    ranges, eips = _elastic_ips(fips, eip_ports, counts)
    yield "elasticip_range", ranges
    yield "elasticip", eips


def _encode(batch: list, phase: int) -> list:
    """NDJSON lines of one batch, keys sorted, compact, without building a dict per line: the
    wrapper's keys are fixed and its values (service, method, percent-encoded path) plain; the
    text around body and path is made once per (resource, service, method)."""
    tail_phase = b',"phase":' + str(phase).encode()
    around: dict = {}
    out = []
    for resource, service, method, path, body, capture in batch:
        key = (resource, service, method)
        pieces = around.get(key)
        if pieces is None:
            pieces = around[key] = (b',"method":"' + method.encode() + b'","path":',
                                    tail_phase + b',"resource":"' + resource.encode()
                                    + b'","service":"' + service.encode() + b'"}')
        cap = b',"capture":' + dumps(capture) if capture else b""
        out.append(b'{"body":' + dumps(body) + cap + pieces[0] + orjson.dumps(path) + pieces[1])
    return out


def stream_to_dump(lines) -> bytes:
    """NDJSON dump of the stream's resource bodies (what the controller would hold), in stream
    order; action bodies (segment table, NCMs, router interfaces, elastic-IP ranges) are left
    out, elastic IPs are written as Neutron floating IPs. Placeholders stay as text."""
    from pipeline.ingest.sources.neutron import LIST_KEYS, SHOW_KEYS

    out = []
    for line in lines:
        if isinstance(line, (bytes, str)):
            if not line.strip():
                continue
            line = orjson.loads(line)
        body = line.get("body")
        if isinstance(body, dict) and isinstance(body.get("elasticip"), dict):
            body = {"floatingip": _floating_ip(body["elasticip"])}
        if isinstance(body, dict) and body and all(k in SHOW_KEYS or k in LIST_KEYS for k in body):
            out.append(dumps(body))
    return b"\n".join(out) + b"\n"


def _floating_ip(eip: dict) -> dict:
    keys = {"id": "id", "project_id": "project_id", "tenant_id": "tenant_id",
            "elastic_ip": "floating_ip_address", "private_ip": "fixed_ip_address",
            "port_id": "port_id"}
    return {new: eip[old] for old, new in keys.items() if eip.get(old) is not None}


def write(topo, out: Path, params: dict) -> dict:
    counts = Counts()
    by_resource: dict[str, int] = {}
    n = phases = 0
    with open(out / STREAM, "wb") as fh:
        prev = None
        for step, batch in iter_requests(topo.tables, params, counts):
            if not batch:
                continue
            if step != prev:
                phases, prev = phases + 1, step
            fh.write(b"\n".join(_encode(batch, phases)) + b"\n")
            n += len(batch)
            resource = RESOURCE_OF_STEP[step]  # a step's requests are all of its resource (tested)
            by_resource[resource] = by_resource.get(resource, 0) + len(batch)
    (out / K6).write_text(k6_script(params))
    return {"files": [K6, STREAM], "requests": n, "phases": phases,
            "by_resource": dict(sorted(by_resource.items())),
            "left_out": dict(sorted(counts.left_out.items())),
            "changed": dict(sorted(counts.changed.items()))}
