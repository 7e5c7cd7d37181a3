"""Alcor request streams in the phased format, and a fake Alcor that answers them.

The stream format (one JSON object a line): service, method, path, body, phase (1-based step
of Alcor's setup order), resource, and optionally capture {variable: JSON pointer into the
response}; `{{variable}}` in a later line's path or body is replaced by the captured value.

`phased(lines)` re-derives phase/resource from the paths (one phase per run of one resource
type: the exporter's own phases, read independently); `hand_stream()` is a small hand-written stream that uses
captures in paths and bodies; `fake_answer()` is the fake Alcor's reply, shared by the Node
stub and the Python HTTP server so both tests check the same thing.
"""

from __future__ import annotations

import copy
import re
from urllib.parse import quote, unquote

RESOURCE_BY_LAST = {"add_router_interface": "router_interface", "add_extraroutes": "extraroute",
                    "security-group-rules": "security_group_rule",
                    "security-groups": "security_group", "vpcs": "vpc", "subnets": "subnet",
                    "routers": "router", "ports": "port", "elasticips": "elasticip",
                    "floatingips": "floatingip"}
PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}")


def resource_of(path: str) -> str:
    for prefix, name in (("/segments/", "segment"), ("/ncms", "ncm"), ("/nodes", "node"),
                         ("/elasticip-ranges", "elasticip_range")):
        if path.startswith(prefix):
            return name
    return RESOURCE_BY_LAST[path.rsplit("/", 1)[-1]]


def phased(lines: list[dict]) -> list[dict]:
    """Add `phase` (one per run of consecutive resource types) and `resource` to each line."""
    out, phase, last = [], 0, None
    for line in lines:
        res = resource_of(line["path"])
        if res != last:
            phase, last = phase + 1, res
        out.append({**line, "phase": phase, "resource": res})
    return out


def _line(phase, resource, service, method, path, body, capture=None):
    d = {"service": service, "method": method, "path": path, "body": body, "phase": phase,
         "resource": resource}
    if capture:
        d["capture"] = capture
    return d


def hand_stream(n_ports: int = 16, fail_port: bool = False) -> list[dict]:
    """A small data center as a phased stream with captures:
    - the projects' default groups are read from Alcor (GET .../default/...), captured as
      `default_sg.<project>` and used whole in rule and port bodies;
    - the router's id is captured from its response and used inside add_router_interface paths;
    - one port captures the group Alcor bound to it (`/port/security_groups/0`) and an elastic
      IP's description uses it inside a longer string.
    With `fail_port`, the fake Alcor answers one port with HTTP 500."""
    L = []
    L.append(_line(1, "segment", "vpc_manager", "POST", "/segments/createDefaultTable", {}))
    for i in range(2):
        hosts = [{"node_id": f"node-{i}{k}", "node_name": f"cn{i}{k}", "local_ip": f"10.1.{i}.{k + 1}",
                  "mac_address": f"3c:fd:fe:00:0{i}:0{k}"} for k in range(3)]
        L.append(_line(2, "node", "node_manager", "POST", "/nodes/bulk", {"host_infos": hosts}))
    for p in ("pa", "pb"):
        L.append(_line(3, "vpc", "vpc_manager", "POST", f"/project/{p}/vpcs",
                       {"network": {"id": f"net-{p}", "project_id": p, "name": f"net {p}",
                                    "cidr": "10.0.0.0/8"}}))
    for p, n in (("pa", 1), ("pa", 2), ("pb", 3)):
        L.append(_line(4, "subnet", "subnet_manager", "POST", f"/project/{p}/subnets",
                       {"subnet": {"id": f"sub-{n}", "network_id": f"net-{p}", "project_id": p,
                                   "cidr": f"10.{n}.0.0/24", "ip_version": 4,
                                   "gateway_ip": f"10.{n}.0.1"}}))
    L.append(_line(5, "router", "route_manager", "POST", "/project/pa/routers",
                   {"router": {"name": "edge", "project_id": "pa"}},
                   capture={"router.edge": "/router/id"}))
    for n in (1, 2):
        L.append(_line(6, "router_interface", "route_manager", "PUT",
                       "/project/pa/routers/{{router.edge}}/add_router_interface",
                       {"subnet_id": f"sub-{n}"}))
    for p in ("pa", "pb"):
        L.append(_line(7, "security_group", "security_group_manager", "POST",
                       f"/project/{p}/security-groups",
                       {"security_group": {"id": f"sg-web-{p}", "name": "web", "project_id": p}}))
    for p in ("pa", "pb"):
        L.append(_line(8, "security_group", "security_group_manager", "GET",
                       f"/project/{p}/security-groups/default/{p}", None,
                       capture={f"default_sg.{p}": "/security_group/id"}))
    for k in range(6):
        p = ("pa", "pb")[k % 2]
        rule = {"id": f"rule-{k}", "project_id": p, "direction": "ingress", "ethertype": "IPv4",
                "security_group_id": f"{{{{default_sg.{p}}}}}" if k < 4 else f"sg-web-{p}"}
        if k % 3 == 0:
            rule["remote_group_id"] = f"{{{{default_sg.{p}}}}}"
        L.append(_line(9, "security_group_rule", "security_group_manager", "POST",
                       f"/project/{p}/security-group-rules", {"security_group_rule": rule}))
    for k in range(n_ports):
        p = ("pa", "pb")[k % 2]
        port = {"id": f"port-{k:03d}", "project_id": p, "network_id": f"net-{p}",
                "name": "fail-me" if fail_port and k == 5 else f"vm{k}",
                "fixed_ips": [{"subnet_id": "sub-3" if p == "pb" else "sub-1",
                               "ip_address": f"10.{3 if p == 'pb' else 1}.0.{k + 10}"}],
                "binding:host_id": f"cn0{k % 3}"}
        capture = None
        if k == 0:
            capture = {"bound_sg.pa": "/port/security_groups/0"}  # Alcor binds the default
        elif k % 4 == 1:
            port["security_groups"] = [f"{{{{default_sg.{p}}}}}", f"sg-web-{p}"]
        else:
            port["security_groups"] = [f"sg-web-{p}"]
        L.append(_line(10, "port", "port_manager", "POST", f"/project/{p}/ports", {"port": port},
                       capture=capture))
    L.append(_line(11, "elasticip_range", "elastic_ip_manager", "POST", "/elasticip-ranges",
                   {"elasticip-range": {"id": "range-4", "ip_version": 4,
                                        "allocation_ranges": [{"start": "203.0.113.10",
                                                               "end": "203.0.113.99"}]}}))
    L.append(_line(12, "elasticip", "elastic_ip_manager", "POST", "/project/pa/elasticips",
                   {"elasticip": {"id": "fip-1", "project_id": "pa", "elastic_ip": "203.0.113.20",
                                  "port_id": "port-000",
                                  "description": "bound to {{bound_sg.pa}} by Alcor"}}))
    return L


def fake_answer(method: str, path: str, body) -> tuple[int, dict]:
    """What the fake Alcor answers: the body echoed back, with the fields Alcor fills in
    (a router id, the default group bound to a port without groups); ports named fail-me
    get HTTP 500."""
    parts = [unquote(s) for s in path.split("/")]
    project = parts[2] if len(parts) > 2 and parts[1] == "project" else ""
    if method == "GET" and "/security-groups/default/" in path:
        return 200, {"security_group": {"id": f"alcor-default-{project}", "name": "default"}}
    if not isinstance(body, dict) or len(body) != 1:
        return 200, {}
    key, obj = next(iter(body.items()))
    if not isinstance(obj, dict):
        return 200, copy.deepcopy(body)
    obj = copy.deepcopy(obj)
    if obj.get("name") == "fail-me":
        return 500, {"error": "planted failure"}
    if key == "router" and "id" not in obj:
        obj["id"] = f"alcor-router-{obj.get('name')}"
    if key == "port" and not obj.get("security_groups"):
        obj["security_groups"] = [f"alcor-default-{project}"]
    return 200, {key: obj}


def expected_requests(lines: list[dict]) -> list[tuple]:
    """(phase, method, path, body) each line should reach Alcor as, after substitution with
    what the fake Alcor answers, in stream order. A line using a variable that was never
    captured is not sent, so it is not listed."""
    vars_: dict = {}
    out = []

    def sub(v, in_path=False):
        if isinstance(v, str):
            m = PLACEHOLDER.fullmatch(v)
            if m and not in_path:
                return vars_[m.group(1)]
            value = (lambda m: quote(str(vars_[m.group(1)]), safe="")) if in_path else (
                lambda m: str(vars_[m.group(1)]))
            return PLACEHOLDER.sub(value, v)
        if isinstance(v, list):
            return [sub(x) for x in v]
        if isinstance(v, dict):
            return {k: sub(x) for k, x in v.items()}
        return v

    for line in lines:
        try:
            path, body = sub(line["path"], True), sub(line["body"])
        except KeyError:
            continue
        out.append((line.get("phase"), line["method"], path, body))
        status, answer = fake_answer(line["method"], path, body)
        for name, pointer in (line.get("capture") or {}).items():
            cur = answer
            try:
                for key in pointer.split("/")[1:]:
                    cur = cur[int(key)] if isinstance(cur, list) else cur[key]
            except (KeyError, IndexError, ValueError):
                continue
            vars_[name] = cur
    return out


def default_var(project: str) -> str:
    """The exporter's capture variable for a project's default group."""
    return f"default_sg.{project}"
