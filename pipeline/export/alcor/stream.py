"""The stream: every step's requests in Alcor's setup order, encoded as NDJSON lines and
written with the K6 replayer; and the stream read back as a dump of resource bodies."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np
import orjson

from pipeline.export.alcor.accepts import Counts
from pipeline.export.alcor.elastic_ips import _elastic_ips
from pipeline.export.alcor.fields import _children, _p, _req, _sorted, default_sg_var, resources
from pipeline.export.alcor.k6 import k6_script
from pipeline.export.alcor.networks import _routers, _subnets, _vpc_requests, _vpcs
from pipeline.export.alcor.nodes import _nodes
from pipeline.export.alcor.port_lines import (Encoded, group_pieces, group_rows, port_lines, port_table,
                                              probe_candidates)
from pipeline.export.alcor.ports import port_bodies, screen_ports
from pipeline.export.alcor.security import (_default_groups, _default_sg_probes, _port_security_groups,
                                           _probe_candidates, _rules, _security_groups)
from pipeline.export.topology import pylist
from pipeline.export.wire import dumps, join_parts, part_name
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
    for phase, _, batch in part_requests(tables, params, counts, encoded=True):
        yield from _lines(batch, phase)


def iter_requests(tables: dict, params: dict | None = None, counts: Counts | None = None):
    """(step, [request tuple]) of the whole stream in Alcor's setup order, non-empty batches
    only; a step may come in several batches (ports), so a writer can serialise and drop each
    before the next is built. Request tuple: (resource, service, method, path, body, capture
    or None)."""
    for _, step, batch in part_requests(tables, params, counts):
        yield step, batch


PORT_BATCH = 20_000  # port bodies built, serialised and dropped this many at a time


def part_requests(tables: dict, params: dict | None = None, counts: Counts | None = None,
                  part: int = 0, parts: int = 1, encoded: bool = False):
    """(phase, step, [request tuple]) of part `part` of `parts` of the stream: part 0 holds
    every step before the ports, each part the port requests of its range of the ports (id
    order, positions [part * n // parts, (part + 1) * n // parts)), the last part the elastic
    IPs. The parts in order are the whole stream, whatever `parts` is (tested). Every part
    plans the whole stream (_Plan: which ports Alcor keeps, the capture probes, the phases),
    builds bodies only for its range, and counts what it alone decides: its ports' bodies, and
    for part 0 everything else (the last part: the elastic IPs). With `encoded`, port batches
    come as ready NDJSON text (port_lines.Encoded) where the port columns allow it."""
    counts = counts if counts is not None else Counts()
    plan = _Plan(tables, params, counts if part == 0 else Counts(), with_captures=part == 0)
    if part == 0:
        for step, batch in plan.head:
            if batch:
                yield plan.phase_of[step], step, batch
    plan.head = []
    total = len(plan.screened.ids)
    yield from _port_requests(plan, range(part * total // parts, (part + 1) * total // parts), counts,
                              encoded)
    if part == parts - 1:
        yield from _elastic_ip_requests(plan, counts)


class _Plan:
    """What every part of the stream needs of the whole: the requests before the ports (`head`,
    [(step, batch)]), the ports screened (which Alcor keeps, with which fixed IPs), their
    groups and the capture probes, and the phase number of each step up to the ports.
    `counts`: where these decisions are counted (part 0's, else thrown away)."""

    def __init__(self, tables: dict, params: dict | None, counts: Counts, with_captures: bool):
        cfg = dict((params or {}).get("alcor") or {})
        self.get = lambda name, sort=True: _get(tables, name, sort)
        get = self.get
        head = [("segment", [_req("segment", "vpc_manager", "POST", "/segments/createDefaultTable", {})])]
        ncms, bulks, self.node_names = _nodes(get("hosts"), cfg, counts)
        head += [("ncm", ncms), ("node", bulks)]
        vpcs = _vpcs(get("networks"), cfg, counts)
        subnet_reqs, subnets = _subnets(get("subnets"), get("allocation_pools"), vpcs, counts)
        head += [("vpc", _vpc_requests(vpcs)), ("subnet", subnet_reqs)]
        routers, ifaces = _routers(get("routers"), get("router_interfaces"), vpcs, subnets, counts)
        head += [("router", routers), ("router_interface", ifaces)]

        sg_objs = resources(get("security_groups"), "security_groups")
        defaults = _default_groups(sg_objs)
        self.ports = get("ports", sort=False)
        self.screened = screen_ports(self.ports, get("port_ips"), vpcs, subnets, counts)
        self.kept = [(i, self.screened.ids[i], self.screened.projects[i])
                     for i, ips in enumerate(self.screened.kept) if ips is not None]
        self.group_rows = group_rows(self.screened, get("port_security_groups", sort=False))
        if self.group_rows is not None:
            kept = np.array([ips is not None for ips in self.screened.kept], dtype=bool)
            found = probe_candidates(self.group_rows, kept, self.screened.projects, defaults)
        else:
            found = _probe_candidates(self.kept, self.port_groups, defaults)
        rule_objs = resources(get("security_group_rules"), "security_group_rules")
        probes, needed = _default_sg_probes(found, rule_objs, defaults, counts)
        renamed = {g for g, project in defaults.items() if project in needed and project not in probes}
        sg_reqs, self.posted = _security_groups(sg_objs, defaults, renamed, counts)
        self.defaults = {g: project for g, project in defaults.items() if g not in renamed}
        self.captured = set(probes)
        self.probe_at = set(probes.values())
        head.append(("security_group", sg_reqs))
        # a part without the capture step only needs to know whether it is empty
        head.append(("default_sg_capture", self._captures(probes) if with_captures else list(probes)))
        head.append(("security_group_rule", _rules(rule_objs, self.defaults, self.posted,
                                                   self.captured, counts)))
        self.head = head
        steps = [step for step, batch in head if batch]
        if any(i not in self.probe_at for i, _, _ in self.kept):
            steps.append("port")
        self.phase_of = {step: n for n, step in enumerate(steps, 1)}

    @cached_property
    def port_groups(self) -> dict:
        """{port id: its group ids}, for the one-port-at-a-time paths."""
        return _children(self.get("port_security_groups"), "port_id", "security_group_id",
                         ("security_group_id",), single=True)

    def _captures(self, probes: dict) -> list:
        """The capture probes' requests, in port id order: each posts its port without security
        groups and captures the id of the project's default group Alcor binds. Their bindings
        are counted with the other ports of their range, so not here."""
        bodies = dict(port_bodies(self.ports, self.screened, sorted(probes.values()),
                                  self.node_names, Counts()))
        return [_req("port", "port_manager", "POST", f"/project/{_p(project)}/ports",
                     {"port": bodies[position]}, {default_sg_var(project): "/port/security_groups/0"})
                for project, position in sorted(probes.items(), key=lambda kv: kv[1])]


def _get(tables: dict, name: str, sort: bool = True):
    df = tables.get(name)
    df = df if df is not None else empty_frame(name)
    return _sorted(df) if sort and "id" in df.columns else df


def _port_requests(plan: _Plan, positions: range, counts: Counts, encoded: bool = False):
    """The port requests of the ports at `positions` (id order), PORT_BATCH at a time, as
    request tuples or (`encoded`) as NDJSON text when the port columns allow it."""
    table = port_table(plan.ports) if encoded else None
    groups = group_pieces(plan) if table is not None else None
    for start in range(positions.start, positions.stop, PORT_BATCH):
        chunk = range(start, min(start + PORT_BATCH, positions.stop))
        if table is not None:
            lines = port_lines(table, plan, chunk, plan.phase_of.get("port", 0), counts, groups)
            if lines.requests:
                yield plan.phase_of["port"], "port", lines
            continue
        batch = []
        for i, obj in port_bodies(plan.ports, plan.screened, chunk, plan.node_names, counts):
            if i in plan.probe_at:
                continue  # posted in the capture step
            _port_security_groups(obj, plan.port_groups.get(obj["id"], []), plan.defaults, plan.posted,
                                  plan.captured, counts)
            batch.append(_req("port", "port_manager", "POST",
                              f"/project/{_p(obj.get('project_id'))}/ports", {"port": obj}))
        if batch:
            yield plan.phase_of["port"], "port", batch


def _elastic_ip_requests(plan: _Plan, counts: Counts):
    fips = plan.get("floating_ips")
    fip_ports = set(pylist(fips["port_id"])) if len(fips) else set()  # the few a floating IP names
    kept = plan.screened.kept
    eip_ports = {port: (project, {ip.get("ip_address") for ip in kept[i]})
                 for i, port, project in plan.kept if port in fip_ports}
    ranges, eips = _elastic_ips(fips, eip_ports, counts)
    phase = len(plan.phase_of)
    for step, batch in (("elasticip_range", ranges), ("elasticip", eips)):
        if batch:
            phase += 1
            yield phase, step, batch


def _lines(batch, phase: int) -> list:
    """NDJSON lines of a batch of request tuples or of ready text."""
    return batch.lines() if isinstance(batch, Encoded) else _encode(batch, phase)


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
    return finish(out, [write_group(topo, out, params, 0, 1)])


def write_group(topo, out: Path, params: dict, group: int, groups: int) -> dict:
    """Part `group` of `groups` of the stream (part_requests), written to the stream file
    itself when there is one part, else to `<stream>.partNNNNN` for `finish` to join in order
    (the dask engine writes the parts side by side). Part 0 also writes the K6 replayer."""
    counts = Counts()
    by_resource: dict[str, int] = {}
    phases: set = set()
    n = 0
    target = out / part_name(STREAM, group, groups)
    with open(target, "wb") as fh:
        for phase, step, batch in part_requests(topo.tables, params, counts, group, groups, encoded=True):
            text = batch if isinstance(batch, Encoded) else Encoded(b"\n".join(_encode(batch, phase)) + b"\n",
                                                                    len(batch))
            fh.write(text.data)
            size = text.requests
            phases.add(phase)
            n += size
            resource = RESOURCE_OF_STEP[step]  # a step's requests are all of its resource (tested)
            by_resource[resource] = by_resource.get(resource, 0) + size
    if group == 0:
        (out / K6).write_text(k6_script(params))
    return {"file": target.name, "requests": n, "phases": sorted(phases), "by_resource": by_resource,
            "left_out": counts.left_out, "changed": counts.changed}


def finish(out: Path, results: list[dict]) -> dict:
    """The stream file from the parts (in part order) and the format's summary."""
    join_parts(out, STREAM, [r["file"] for r in results])
    summary = {"requests": 0, "by_resource": {}, "left_out": {}, "changed": {}}
    for r in results:
        summary["requests"] += r["requests"]
        for key in ("by_resource", "left_out", "changed"):
            for name, count in r[key].items():
                summary[key][name] = summary[key].get(name, 0) + count
    return {"files": [K6, STREAM], "requests": summary["requests"],
            "phases": len({p for r in results for p in r["phases"]}),
            "by_resource": dict(sorted(summary["by_resource"].items())),
            "left_out": dict(sorted(summary["left_out"].items())),
            "changed": dict(sorted(summary["changed"].items()))}
