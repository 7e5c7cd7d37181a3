"""alcor: the request stream (`alcor_requests.ndjson`) checked against Alcor's own contract.

Two layers, both from futurewei-cloud/alcor's code:
- every line against the vendored JSON Schema (`schemas/consumers/alcor.requests.schema.json`,
  Draft 2020-12): the endpoint is picked from method + path, then the line is validated against
  that endpoint's branch of the schema (compiled once per endpoint with jsonschema-rs; a line
  that fails is re-validated with jsonschema to name the failing constraint). The rule id is the
  `[TAG]` in the failing subschema's `$comment` (e.g. `A-PORT-VIF`), `A-SCHEMA` when none;
- the cross-request rules of `alcor-rules.md` (ids `R-...`), one function per rule below, each
  with the Alcor file and line it comes from (`EVIDENCE`), plus the stream format itself:
  `phase`/`resource` keys, phases in order, captures (`STREAM-FORMAT`, `STREAM-CAPTURE`) and
  `R-PHASE-ORDER`: a request may only reference what an earlier phase created.

Captures: a line's `capture` {variable: JSON pointer} makes `{{variable}}` in later lines a
reference to what the capturing line's response holds (for the default-group capture, the
project's default security group). For the schema, placeholders are replaced by a fixed UUID.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import orjson

from pipeline.check_export.core import ConsumerReport, load_contract
from pipeline.check_export.fastschema import compile_gate

STREAM = "alcor_requests.ndjson"
SCHEMA = "alcor.requests.schema.json"
DUMMY_ID = "00000000-0000-4000-8000-000000000000"  # placeholders, for the schema only
PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}")
PLACEHOLDER_BYTES = re.compile(rb'\{\{[^{}"]+\}\}')  # inside a JSON string of a raw line
DUMMY_BYTES = DUMMY_ID.encode()
LINE_KEYS = frozenset({"service", "method", "path", "body", "phase", "resource", "capture"})
VIF_TYPES = frozenset({"ovs", "macvtap", "hw_veb", "hostdev_physical", "vhostuser",
                       "distributed", "other"})
URL_UNSAFE = re.compile(r"[&=#+%{}\s]")
ALLOW_ALL_PREFIXES = (None, "0.0.0.0/0", "::/0")
# endpoint (schema name) -> the `resource` a line of it must carry
RESOURCE_OF_ENDPOINT = {
    "segments.createDefaultTable": "segment", "ncms.register": "ncm", "nodes.create": "node",
    "nodes.bulk": "node", "vpcs.create": "vpc", "subnets.create": "subnet",
    "security_groups.create": "security_group",
    "security_group_rules.create": "security_group_rule", "routers.create": "router",
    "routers.add_router_interface": "router_interface", "ports.create": "port",
    "elasticip_ranges.create": "elasticip_range", "elasticips.create": "elasticip",
}

# Where each rule comes from: alcor @ 21f11b5 (futurewei-cloud/alcor), `path:line`.
EVIDENCE = {
    "R-SVC-NEUTRON": (
        "services/api_gateway/application.properties:15",
        "services/api_gateway/application.properties:25",
        "services/api_gateway/.../filter/KeystoneConfiguration.java:38",
        "services/elastic_ip_manager/.../controller/ElasticIpController.java:67",
    ),
    "R-SEG-ONCE": (
        "services/vpc_manager/.../service/Impl/SegmentServiceImpl.java:473-491",
        "services/vpc_manager/.../dao/VxlanRangeRepository.java:206",
        "services/vpc_manager/.../service/Impl/SegmentServiceImpl.java:150",
    ),
    "R-VPC-SEGID": (
        "services/vpc_manager/.../service/Impl/VpcServiceImpl.java:99-108",
    ),
    "R-SUBNET-VPC": (
        "services/subnet_manager/.../service/implement/SubnetServiceImp.java:132-139",
    ),
    "R-SUBNET-INSIDE": (
        "services/subnet_manager/.../service/implement/SubnetServiceImp.java:332-358",
    ),
    "R-SUBNET-GW-RANGE": (
        "services/subnet_manager/.../utils/SubnetManagementUtil.java:167",
        "services/subnet_manager/.../controller/SubnetController.java:208",
    ),
    "R-IPV6": (
        "services/subnet_manager/.../service/implement/SubnetServiceImp.java:238",
        "services/subnet_manager/.../service/implement/SubnetServiceImp.java:246",
        "services/subnet_manager/.../utils/SubnetManagementUtil.java:196-198",
        "services/subnet_manager/.../controller/SubnetController.java:208",
    ),
    "R-GW-PORT": (
        "services/subnet_manager/.../controller/SubnetController.java:177",
        "services/subnet_manager/.../controller/SubnetController.java:251-257",
        "services/subnet_manager/.../config/ConstantsConfig.java:24",
        "services/private_ip_manager/.../entity/IpAddrRange.java:44",
        "services/private_ip_manager/.../entity/IpAddrRange.java:77",
    ),
    "R-RIF-BY-SUBNET": (
        "services/route_manager/.../service/Impl/NeutronRouterToSubnetServiceImpl.java:49",
        "services/route_manager/.../service/Impl/NeutronRouterServiceImpl.java:146",
        "scripts/busybox-ping-test-alcor-apis/02_two_subnets/03_router_interface:4",
    ),
    "R-RIF-ORDER": (
        "services/subnet_manager/.../controller/SubnetController.java:119-121",
        "services/route_manager/.../service/Impl/NeutronRouterServiceImpl.java:162",
        "services/route_manager/.../service/Impl/NeutronRouterServiceImpl.java:172",
    ),
    "R-RIF-ATTACHED": (
        "services/route_manager/.../service/Impl/NeutronRouterServiceImpl.java:180-181",
    ),
    "R-ROUTER-ONE-VPC": (
        "services/route_manager/.../service/Impl/NeutronRouterServiceImpl.java:191-198",
    ),
    "R-ROUTER-ROUTES": (
        "services/route_manager/.../controller/NeutronRouterController.java:425",
    ),
    "R-NCM-FIRST": (
        "services/node_manager/.../service/implement/NodeServiceImpl.java:112-127",
        "services/node_manager/.../service/implement/NodeServiceImpl.java:277",
    ),
    "R-NCM-NONE": (
        "services/node_manager/.../service/implement/NodeServiceImpl.java:115",
    ),
    "R-NCM-ONE-PER-BULK": (
        "services/node_manager/.../service/implement/NodeServiceImpl.java:108",
        "web/.../restclient/NetworkConfigManagerRestClient.java:89",
    ),
    "R-NODE-NAME": (
        "web/.../restclient/NodeManagerRestClient.java:46",
        "web/.../restclient/NodeManagerRestClient.java:51",
        "services/port_manager/.../request/FetchNodeRequest.java:50",
    ),
    "R-NODE-NAME-URL": (
        "web/.../restclient/AbstractRestClient.java:52-55",
    ),
    "R-NODE-UNBOUND": (
        "services/port_manager/.../processor/NodeProcessor.java:53",
    ),
    "R-SG-DEFAULT-OWNED": (
        "services/security_group_manager/.../service/implement/SecurityGroupServiceImpl.java:100-104",
        "services/security_group_manager/.../service/implement/SecurityGroupServiceImpl.java:250-259",
        "services/security_group_manager/.../service/implement/SecurityGroupServiceImpl.java:68",
    ),
    "R-SG-DEFAULT-EXPORT": (
        "services/port_manager/.../processor/SecurityGroupProcessor.java:62-68",
        "services/port_manager/.../processor/SecurityGroupProcessor.java:113",
        "services/security_group_manager/.../controller/SecurityGroupController.java:128",
    ),
    "R-SG-AUTO-RULES": (
        "services/security_group_manager/.../service/implement/SecurityGroupServiceImpl.java:47-64",
        "services/security_group_manager/.../service/implement/SecurityGroupServiceImpl.java:112",
        "services/security_group_manager/.../service/implement/SecurityGroupServiceImpl.java:75",
    ),
    "R-SGR-ORDER": (
        "services/security_group_manager/.../service/implement/SecurityGroupRuleServiceImpl.java:47-56",
    ),
    "R-SGR-MINMAX": (
        "services/security_group_manager/.../utils/RestParameterValidator.java:117",
    ),
    "R-PORT-SG": (
        "services/port_manager/.../request/FetchSecurityGroupRequest.java:47-68",
    ),
    "R-PORT-FIXEDIP": (
        "services/port_manager/.../processor/FixedIpsProcessor.java:452-506",
    ),
    "R-EIP-RANGE-FIRST": (
        "services/elastic_ip_manager/.../service/implement/ElasticIpServiceImpl.java:84-93",
    ),
    "R-EIP-ONE-RANGE": (
        "services/elastic_ip_manager/.../service/implement/ElasticIpServiceImpl.java:87",
        "services/elastic_ip_manager/.../dao/ElasticIpAllocator.java:187",
    ),
    "R-EIP-RANGE-ORDER": (
        "services/elastic_ip_manager/.../utils/ElasticIpControllerUtils.java:68",
    ),
    "R-EIP-PROJECT": (
        "services/elastic_ip_manager/.../utils/ElasticIpControllerUtils.java:100",
        "services/vpc_manager/.../controller/VpcController.java:151",
    ),
    "R-EIP-PORT": (
        "services/elastic_ip_manager/.../service/implement/ElasticIpServiceImpl.java:304",
        "services/elastic_ip_manager/.../service/implement/ElasticIpServiceImpl.java:323",
        "services/elastic_ip_manager/.../service/implement/ElasticIpServiceImpl.java:340",
    ),
    "R-UNKNOWN-KEYS": (
        "web/.../entity/port/PortEntity.java:92",
    ),
    "R-SUBNET-BULK": (
        "services/subnet_manager/.../controller/SubnetController.java:157-162",
    ),
    "R-VPC-FLAT": (
        "services/vpc_manager/.../service/Impl/VpcServiceImpl.java:136",
        "services/vpc_manager/.../controller/VpcController.java:187",
    ),
    "R-PORT-VIF": (
        "services/port_manager/.../util/RestParameterValidator.java:79",
        "web/.../web/entity/port/VifType.java:19",
    ),
    "R-PHASE-ORDER": (
        "scripts/busybox-ping-test-alcor-apis/02_two_subnets (file-name order: VPC, nodes, "
        "subnets, router, interfaces, groups, ports)",
    ),
    "STREAM-FORMAT": ("dcnet stream format: pipeline/export/alcor.py module doc",),
    "STREAM-CAPTURE": ("dcnet stream format: pipeline/export/alcor.py module doc",),
}
# Facts of alcor-rules.md that no stream can violate (Alcor overwrites exported VNIs; unknown
# keys are ignored): kept for their evidence, checked by no function.
INFORMATIONAL = ("R-VPC-SEGID", "R-UNKNOWN-KEYS")
EVIDENCE = {rule: "alcor " + "; ".join(parts) if not rule.startswith("STREAM") else "; ".join(parts)
            for rule, parts in EVIDENCE.items()}


# ---------------------------------------------------------------------------------------------
# Schema: one compiled validator per endpoint
# ---------------------------------------------------------------------------------------------

ENDPOINT_COMMENT = re.compile(r"\[A-ENDPOINT\] (\S+): ")
TAG = re.compile(r"\[([A-Z][A-Z0-9-]+)\]")


@dataclass
class Endpoint:
    """One setup endpoint of the schema: its method, path pattern and own schema."""

    name: str
    method: str
    path: re.Pattern
    schema: dict
    any_path: re.Pattern  # what the schema asks of every line's path
    fast: object = None  # compiled (jsonschema-rs) yes/no check of the body, built on first use
    slow: object = None  # jsonschema validator of the line, built on the first failing line

    def valid(self, line: dict) -> bool:
        """Whether the line (method and path already matched to this endpoint) passes the
        endpoint's schema: the envelope checked here, the body by a compiled validator."""
        then = self.schema["allOf"][1]
        if self.fast is None:
            body = then.get("properties", {}).get("body", {})
            self.fast = compile_gate({"$schema": self.schema["$schema"],
                                      "$defs": self.schema["$defs"], **body})
        if line.get("service") != then["properties"]["service"]["const"] \
                or not self.any_path.match(line["path"]):
            return False
        if "body" not in line:
            return "body" not in then.get("required", ())
        return self.fast(line["body"])

    def errors(self, line: dict) -> list[tuple[str, str]]:
        """(tag, message) of every schema error of the line."""
        import jsonschema

        if self.slow is None:
            self.slow = jsonschema.Draft202012Validator(self.schema)
        out = []
        for err in self.slow.iter_errors(line):
            leaves = [err]
            while leaves[0].context:  # oneOf/anyOf: the deepest causes name the constraint
                leaves = sorted(leaves[0].context, key=lambda e: -len(e.absolute_schema_path))
            tag = _tag_of(self.schema, list(leaves[0].absolute_schema_path)) or \
                _tag_of(self.schema, list(err.absolute_schema_path)) or "A-SCHEMA"
            where = "/".join(str(p) for p in leaves[0].absolute_path)
            out.append((tag, f"{where}: {leaves[0].message}"))
        return out


def _tag_of(schema: dict, path: list) -> str | None:
    """The deepest `[TAG]` in a `$comment` along a schema path ($refs followed)."""
    node, tag = schema, None
    for key in path:
        if isinstance(node, dict):
            m = TAG.search(node.get("$comment", "") or "")
            if m:
                tag = m.group(1)
            if key not in node and "$ref" in node:
                node = _resolve(schema, node["$ref"])
            node = node.get(key) if isinstance(node, dict) else None
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            break
        if node is None:
            break
    if isinstance(node, dict):
        m = TAG.search(node.get("$comment", "") or "")
        if m:
            tag = m.group(1)
    return tag


def _resolve(schema: dict, ref: str):
    node = schema
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@lru_cache(maxsize=1)
def endpoints() -> tuple[Endpoint, ...]:
    """The schema's endpoints, each with its own schema: the line-level properties plus that
    endpoint's `oneOf` branch and the `then` of its `allOf` entry."""
    contract = load_contract(SCHEMA)
    thens = {item["$comment"].split(" ", 1)[1]: item["then"] for item in contract["allOf"]}
    base = {k: contract[k] for k in ("$schema", "type", "required", "properties", "$defs")}
    out = []
    for branch in contract["oneOf"]:
        name = ENDPOINT_COMMENT.search(branch["$comment"]).group(1)
        schema = {**base, "allOf": [branch, thens[name]]}
        out.append(Endpoint(name, branch["properties"]["method"]["const"],
                            re.compile(branch["properties"]["path"]["pattern"]), schema,
                            re.compile(contract["properties"]["path"]["pattern"])))
    frequent = ("ports.create", "security_group_rules.create")  # most lines: tried first
    return tuple(sorted(out, key=lambda ep: ep.name not in frequent))


def endpoint_of(method, path) -> Endpoint | None:
    if isinstance(path, str):
        for ep in endpoints():
            if ep.method == method and ep.path.match(path):
                return ep
    return None


def _placeholders(value, found: list) -> list:
    if isinstance(value, str):
        found.extend(PLACEHOLDER.findall(value))
    elif isinstance(value, dict):
        for v in value.values():
            _placeholders(v, found)
    elif isinstance(value, list):
        for v in value:
            _placeholders(v, found)
    return found


# ---------------------------------------------------------------------------------------------
# Reading the stream
# ---------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Line:
    n: int  # 1-based line number
    phase: int
    resource: str
    endpoint: str
    path: str
    body: object
    project: str | None  # the path's project, when it has one
    key: str | None = None  # the body's wrapper key (e.g. "port") ...
    obj: dict = field(default_factory=dict)  # ... and the object under it

    def where(self) -> str:
        return f"line {self.n} (phase {self.phase}, {self.endpoint})"


PROJECT_IN_PATH = re.compile(r"^/(?:project|v4)/([^/]+)/")
WRAPPER = {"ncms.register": "ncm_info", "vpcs.create": "network", "subnets.create": "subnet",
           "security_groups.create": "security_group",
           "security_group_rules.create": "security_group_rule", "routers.create": "router",
           "ports.create": "port", "elasticip_ranges.create": "elasticip-range",
           "elasticips.create": "elasticip"}


@dataclass
class Stream:
    lines: list[Line] = field(default_factory=list)
    by_endpoint: dict[str, list[Line]] = field(default_factory=dict)
    captures: dict[str, tuple[Line, str]] = field(default_factory=dict)  # var -> (line, pointer)

    def of(self, endpoint: str) -> list[Line]:
        return self.by_endpoint.get(endpoint, [])


def read_stream(path: Path, report: ConsumerReport, schema_found: list | None = None) -> Stream:
    """Parse and check the line format; the lines that parse, for the rules. With
    `schema_found`, each line is also checked against the schema in the same pass (one parse
    per line), its (rule, example) findings appended in line order."""
    stream = Stream()
    last_phase = 0
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as e:
                report.violate("STREAM-FORMAT", f"line {n}: not JSON ({e})", EVIDENCE["STREAM-FORMAT"])
                continue
            report.checked += 1
            if not isinstance(obj, dict):
                report.violate("STREAM-FORMAT", f"line {n}: not an object", EVIDENCE["STREAM-FORMAT"])
                continue
            ep = endpoint_of(obj.get("method"), obj.get("path"))
            if schema_found is not None:
                if b"{{" in raw:  # placeholders: the schema sees a fixed UUID in their place
                    schema_found.extend(_schema(n, orjson.loads(PLACEHOLDER_BYTES.sub(DUMMY_BYTES, raw))))
                else:
                    schema_found.extend(_schema(n, obj, ep))
            line = _line(n, obj, ep, report)
            if line is None:
                continue
            if line.phase < last_phase:
                report.violate("STREAM-FORMAT", f"{line.where()}: after phase {last_phase}; "
                               f"lines must be sorted by phase", EVIDENCE["STREAM-FORMAT"])
            last_phase = max(last_phase, line.phase)
            _capture(line, obj.get("capture"), stream, report)
            stream.lines.append(line)
            stream.by_endpoint.setdefault(line.endpoint, []).append(line)
    return stream


def _line(n: int, obj: dict, ep, report: ConsumerReport) -> Line | None:
    bad = sorted(set(obj) - LINE_KEYS)
    phase, resource = obj.get("phase"), obj.get("resource")
    phase_ok = isinstance(phase, int) and not isinstance(phase, bool) and phase >= 1
    problem = None
    if bad:
        problem = f"unknown keys {bad}"
    elif not phase_ok:
        problem = f"phase {phase!r} is not an integer >= 1"
    elif not isinstance(resource, str) or not resource:
        problem = "no resource"
    if problem is None and ep is not None and RESOURCE_OF_ENDPOINT.get(ep.name, resource) != resource:
        problem = f"resource {resource!r} for {ep.name} (expected {RESOURCE_OF_ENDPOINT[ep.name]!r})"
    if problem:
        report.violate("STREAM-FORMAT", f"line {n}: {problem}", EVIDENCE["STREAM-FORMAT"])
    if not phase_ok:
        if phase is not None:
            return None  # cannot be placed in the order
        phase = n  # a line without phase: replayed in stream order, so its own phase
    path = obj.get("path") if isinstance(obj.get("path"), str) else ""
    m = PROJECT_IN_PATH.match(path)
    body = obj.get("body")
    key = WRAPPER.get(ep.name) if ep else None
    inner = body.get(key) if key and isinstance(body, dict) else None
    return Line(n, phase, resource if isinstance(resource, str) else "",
                ep.name if ep else f"{obj.get('method')} {path}", path, body,
                m.group(1) if m else None, key, inner if isinstance(inner, dict) else {})


def schema_violations(path: Path) -> list[tuple[str, str]]:
    """(rule, example) for every schema violation of the stream, in line order; placeholders
    are replaced by DUMMY_ID first. One count per rule and line."""
    out = []
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(PLACEHOLDER_BYTES.sub(DUMMY_BYTES, raw) if b"{{" in raw else raw)
            except orjson.JSONDecodeError:
                continue  # reported as STREAM-FORMAT
            if isinstance(obj, dict):
                out.extend(_schema(n, obj))
    return out


def _schema(n: int, obj: dict, ep=False) -> list[tuple[str, str]]:
    """(rule, example) of the line's schema violations; `ep`: its endpoint when known."""
    ep = endpoint_of(obj.get("method"), obj.get("path")) if ep is False else ep
    if ep is None:
        return [("A-ENDPOINT", f"line {n}: {obj.get('method')} {obj.get('path')} is not a setup "
                 f"endpoint of Alcor")]
    request = {k: obj[k] for k in ("service", "method", "path", "body") if k in obj}
    if ep.valid(request):
        return []
    found: dict = {}
    for tag, message in ep.errors(request):
        found.setdefault(tag, f"line {n} ({ep.name}): {message}")
    return list(found.items())


def _capture(line: Line, capture, stream: Stream, report: ConsumerReport) -> None:
    if capture is None:
        return
    if not isinstance(capture, dict) or not capture:
        report.violate("STREAM-CAPTURE", f"{line.where()}: capture is not an object",
                       EVIDENCE["STREAM-CAPTURE"])
        return
    for var, pointer in capture.items():
        if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")) \
                or not var or "{" in var or "}" in var:
            report.violate("STREAM-CAPTURE", f"{line.where()}: capture {var!r}: {pointer!r} is not "
                           f"a variable name and a JSON pointer", EVIDENCE["STREAM-CAPTURE"])
        elif var in stream.captures:
            report.violate("STREAM-CAPTURE", f"{line.where()}: {var!r} is captured twice",
                           EVIDENCE["STREAM-CAPTURE"])
        else:
            stream.captures[var] = (line, pointer)


# ---------------------------------------------------------------------------------------------
# What the stream creates, and references to it
# ---------------------------------------------------------------------------------------------

def _obj(line: Line, key: str) -> dict:
    """The object under `key` in the line's body ({} when there is none)."""
    if line.key == key:
        return line.obj
    body = line.body if isinstance(line.body, dict) else {}
    inner = body.get(key)
    return inner if isinstance(inner, dict) else {}


@dataclass
class Created:
    """Ids created by the stream, per kind: id -> the creating line."""
    vpcs: dict = field(default_factory=dict)
    subnets: dict = field(default_factory=dict)
    routers: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)
    default_groups: dict = field(default_factory=dict)  # groups POSTed with name default
    ports: dict = field(default_factory=dict)
    ncms: dict = field(default_factory=dict)
    nodes: dict = field(default_factory=dict)  # node_name -> line


def created(stream: Stream) -> Created:
    c = Created()
    for line in stream.of("vpcs.create"):
        c.vpcs.setdefault(_key(_obj(line, "network").get("id")), line)
    for line in stream.of("subnets.create"):
        c.subnets.setdefault(_key(_obj(line, "subnet").get("id")), line)
    for line in stream.of("routers.create"):
        c.routers.setdefault(_key(_obj(line, "router").get("id")), line)
    for line in stream.of("security_groups.create"):
        group = _obj(line, "security_group")
        target = c.default_groups if group.get("name") == "default" else c.groups
        target.setdefault(_key(group.get("id")), line)
    for line in stream.of("ports.create"):
        c.ports.setdefault(_key(_obj(line, "port").get("id")), line)
    for line in stream.of("ncms.register"):
        c.ncms.setdefault(_key(_obj(line, "ncm_info").get("id")), line)
    for line in stream.of("nodes.bulk") + stream.of("nodes.create"):
        for host in _hosts(line):
            if _key(host.get("node_name")):
                c.nodes.setdefault(host["node_name"], line)
    for table in (c.vpcs, c.subnets, c.routers, c.groups, c.default_groups, c.ports, c.ncms):
        table.pop(None, None)
    return c


def _hosts(line: Line) -> list[dict]:
    body = line.body if isinstance(line.body, dict) else {}
    hosts = body.get("host_infos") if "host_infos" in body else [body.get("host_info")]
    return [h for h in _items(hosts) if isinstance(h, dict)]


class Refs:
    """Resolves a reference from a line: to an id some earlier line created, or to a captured
    `{{variable}}` (which stands for what its capturing line created)."""

    def __init__(self, stream: Stream, report: ConsumerReport):
        self.stream, self.report = stream, report

    def ok(self, value, table: dict, line: Line, rule: str, what: str) -> bool:
        """True when `value` was created before `line`'s phase; else one violation (of `rule`
        when it does not exist at all, R-PHASE-ORDER when it comes too late)."""
        source = table.get(value) if isinstance(value, str) else None
        if source is not None and source.phase < line.phase:
            return True  # the common case, first
        if isinstance(value, str) and "{{" in value:
            names = PLACEHOLDER.findall(value)
            maker = [self.stream.captures[v][0] for v in names if v in self.stream.captures]
            if len(maker) < len(names) or not names:
                self.report.violate("STREAM-CAPTURE", f"{line.where()}: {what} {value!r} uses a "
                                    f"variable no line captures", EVIDENCE["STREAM-CAPTURE"])
                return False
            source = max(maker, key=lambda m: m.phase)
        else:
            if source is None:
                self.report.violate(rule, f"{line.where()}: {what} {value!r} is never created",
                                    EVIDENCE.get(rule, ""))
                return False
        if source.phase >= line.phase:
            self.report.violate("R-PHASE-ORDER", f"{line.where()}: {what} {value!r} is created by "
                                f"{source.where()}, not in an earlier phase", EVIDENCE["R-PHASE-ORDER"])
            return False
        return True


def _net(cidr):
    return _parse_net(cidr) if isinstance(cidr, str) else None


def _addr(text):
    return _parse_addr(text) if isinstance(text, str) else None


@lru_cache(maxsize=None)
def _parse_net(cidr: str):
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=None)
def _parse_addr(text: str):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


# Values read from the stream may have any JSON type (the schema reports wrong ones): the rules
# look at them through these, so a malformed line is a violation, never a crash.
def _key(value):
    """An id usable as a dict key (strings only), else None."""
    return value if isinstance(value, str) else None


def _items(value) -> list:
    return value if isinstance(value, list) else []


# ---------------------------------------------------------------------------------------------
# Cross-request rules (alcor-rules.md), one function each
# ---------------------------------------------------------------------------------------------

def _violate(report: ConsumerReport, rule: str, line: Line, text: str) -> None:
    report.violate(rule, f"{line.where()}: {text}", EVIDENCE[rule])


def seg_once(s: Stream, c: Created, refs: Refs, report: ConsumerReport) -> None:
    """R-SEG-ONCE: createDefaultTable at most once, alone in the first phase."""
    segs = s.of("segments.createDefaultTable")
    for line in segs[1:]:
        _violate(report, "R-SEG-ONCE", line, "createDefaultTable sent again")
    if segs:
        first = segs[0]
        if any(line.phase <= first.phase and line is not first for line in s.lines):
            _violate(report, "R-SEG-ONCE", first, "not alone in the first phase")


def ncm_first(s, c, refs, report) -> None:
    """R-NCM-FIRST: a host's non-null ncm_id names an NCM registered in an earlier phase."""
    for line in s.of("nodes.bulk") + s.of("nodes.create"):
        for ncm in sorted({_key(h.get("ncm_id")) or repr(h["ncm_id"]) for h in _hosts(line)
                           if h.get("ncm_id")}):
            refs.ok(ncm, c.ncms, line, "R-NCM-FIRST", "ncm_id")


def ncm_none(s, c, refs, report) -> None:
    """R-NCM-NONE: no host carries ncm_id "" (it is not read as absent)."""
    for line in s.of("nodes.bulk") + s.of("nodes.create"):
        if any(h.get("ncm_id") == "" for h in _hosts(line)):
            _violate(report, "R-NCM-NONE", line, 'a host has ncm_id ""')


def ncm_one_per_bulk(s, c, refs, report) -> None:
    """R-NCM-ONE-PER-BULK: the hosts of one bulk share one NCM (or none)."""
    for line in s.of("nodes.bulk"):
        ncms = {_key(h.get("ncm_id")) or None for h in _hosts(line)}
        if len(ncms) > 1:
            _violate(report, "R-NCM-ONE-PER-BULK", line,
                     f"one bulk mixes NCMs {sorted(map(str, ncms))}")


def node_name(s, c, refs, report) -> None:
    """R-NODE-NAME: node names non-empty and unique; a port's binding:host_id names a node
    registered in an earlier phase."""
    seen: set = set()
    for line in s.of("nodes.bulk") + s.of("nodes.create"):
        for h in _hosts(line):
            name = h.get("node_name")
            if not name:
                _violate(report, "R-NODE-NAME", line, f"node {h.get('node_id')!r} without node_name")
            elif not isinstance(name, str) or name in seen:
                _violate(report, "R-NODE-NAME", line, f"node_name {name!r} registered twice")
            seen.add(_key(name))
    for line in s.of("ports.create"):
        host = _obj(line, "port").get("binding:host_id")
        if host:
            refs.ok(host, c.nodes, line, "R-NODE-NAME", "binding:host_id")


def node_name_url(s, c, refs, report) -> None:
    """R-NODE-NAME-URL: node names go unescaped into a query string."""
    for line in s.of("nodes.bulk") + s.of("nodes.create"):
        for h in _hosts(line):
            if isinstance(h.get("node_name"), str) and URL_UNSAFE.search(h["node_name"]):
                _violate(report, "R-NODE-NAME-URL", line, f"node_name {h['node_name']!r}")


def node_unbound(s, c, refs, report) -> None:
    """R-NODE-UNBOUND: an unbound port omits binding:host_id, never \"\"."""
    for line in s.of("ports.create"):
        if _obj(line, "port").get("binding:host_id") == "":
            _violate(report, "R-NODE-UNBOUND", line, 'binding:host_id ""')


def ipv6(s, c, refs, report) -> None:
    """R-IPV6: no IPv6 subnet, no IPv6 fixed IP."""
    for line in s.of("subnets.create"):
        sub = _obj(line, "subnet")
        if sub.get("ip_version") == 6 or ":" in str(sub.get("cidr") or ""):
            _violate(report, "R-IPV6", line, f"IPv6 subnet {sub.get('cidr')!r}")
    for line in s.of("ports.create"):
        for ip in _items(_obj(line, "port").get("fixed_ips")):
            if isinstance(ip, dict) and ":" in str(ip.get("ip_address") or ""):
                _violate(report, "R-IPV6", line, f"IPv6 fixed IP {ip['ip_address']!r}")


def _gateway(sub: dict):
    """The address of the gateway port Alcor creates with the subnet."""
    net = _net(sub.get("cidr"))
    if net is None or net.version != 4:
        return None
    return _addr(sub["gateway_ip"]) if sub.get("gateway_ip") else net.network_address + 1


def gw_port(s, c, refs, report) -> None:
    """R-GW-PORT: no port of the stream at a subnet's gateway address."""
    gateways = {sid: str(_gateway(_obj(line, "subnet"))) for sid, line in c.subnets.items()}
    for line in s.of("ports.create"):
        for ip in _items(_obj(line, "port").get("fixed_ips")):
            if isinstance(ip, dict) and ip.get("ip_address") and \
                    gateways.get(_key(ip.get("subnet_id"))) == ip["ip_address"]:
                _violate(report, "R-GW-PORT", line, f"port at gateway {ip['ip_address']}")


def subnet_vpc(s, c, refs, report) -> None:
    """R-SUBNET-VPC: a subnet's VPC exists, created earlier under the same path project."""
    for line in s.of("subnets.create"):
        vpc = _obj(line, "subnet").get("network_id")
        made = c.vpcs.get(_key(vpc))
        if refs.ok(vpc, c.vpcs, line, "R-SUBNET-VPC", "network_id") and made is not None \
                and made.project != line.project:
            _violate(report, "R-SUBNET-VPC", line, f"VPC {vpc!r} is in project "
                     f"{made.project!r}, not {line.project!r}")


def subnet_inside(s, c, refs, report) -> None:
    """R-SUBNET-INSIDE: a subnet lies inside its VPC's cidr and overlaps no other subnet of it."""
    by_vpc: dict = {}
    for line in s.of("subnets.create"):
        sub = _obj(line, "subnet")
        net = _net(sub.get("cidr"))
        vpc_line = c.vpcs.get(_key(sub.get("network_id")))
        if net is None or vpc_line is None:
            continue
        vpc_net = _net(_obj(vpc_line, "network").get("cidr") or None)
        if vpc_net is not None and (vpc_net.version != net.version or not net.subnet_of(vpc_net)):
            _violate(report, "R-SUBNET-INSIDE", line, f"{net} outside VPC cidr {vpc_net}")
        others = by_vpc.setdefault(_key(sub.get("network_id")), [])
        if any(o.version == net.version and net.overlaps(o) for o in others):
            _violate(report, "R-SUBNET-INSIDE", line, f"{net} overlaps another subnet of its VPC")
        others.append(net)


def subnet_gw_range(s, c, refs, report) -> None:
    """R-SUBNET-GW-RANGE: a non-empty gateway_ip is a usable host of the cidr."""
    for line in s.of("subnets.create"):
        sub = _obj(line, "subnet")
        net, gw = _net(sub.get("cidr")), sub.get("gateway_ip")
        if not gw or net is None or net.version != 4:
            continue
        ip = _addr(gw)
        if ip is None or not (net.network_address < ip < net.broadcast_address):
            _violate(report, "R-SUBNET-GW-RANGE", line, f"gateway {gw} outside the hosts of {net}")


def subnet_bulk(s, c, refs, report) -> None:
    """R-SUBNET-BULK: the subnet bulk endpoint creates nothing."""
    for line in s.lines:
        if "/subnets/bulk" in line.path and re.search(r"/subnets/bulk/?$", line.path):
            _violate(report, "R-SUBNET-BULK", line, "POST .../subnets/bulk is a stub")


def vpc_flat(s, c, refs, report) -> None:
    """R-VPC-FLAT (A7): a flat VPC carries an integer segmentation id, or the response is 500."""
    for line in s.of("vpcs.create"):
        net = _obj(line, "network")
        if net.get("provider:network_type") == "flat" and \
                not isinstance(net.get("provider:segmentation_id"), int):
            _violate(report, "R-VPC-FLAT", line, "flat network without provider:segmentation_id")


def rif_by_subnet(s, c, refs, report) -> None:
    """R-RIF-BY-SUBNET: routers are attached by subnet_id."""
    for line in s.of("routers.add_router_interface"):
        body = line.body if isinstance(line.body, dict) else {}
        if body.get("port_id") is not None:
            _violate(report, "R-RIF-BY-SUBNET", line, "attached by port_id")


def _rif_target(line: Line) -> tuple:
    m = re.match(r"^/project/[^/]+/routers/([^/]+)/add_router_interface", line.path)
    body = line.body if isinstance(line.body, dict) else {}
    return (m.group(1) if m else None), _key(body.get("subnet_id"))


def rif_order(s, c, refs, report) -> None:
    """R-RIF-ORDER: the router and the subnet exist before the interface."""
    for line in s.of("routers.add_router_interface"):
        router, subnet = _rif_target(line)
        refs.ok(router, c.routers, line, "R-RIF-ORDER", "router")
        if subnet is not None:
            refs.ok(subnet, c.subnets, line, "R-RIF-ORDER", "subnet_id")


def rif_attached(s, c, refs, report) -> None:
    """R-RIF-ATTACHED: an attached subnet was created without attached_router_id, and is
    attached once."""
    attached: set = set()
    for line in s.of("routers.add_router_interface"):
        _, subnet = _rif_target(line)
        if subnet is None:
            continue
        if subnet in attached:
            _violate(report, "R-RIF-ATTACHED", line, f"subnet {subnet!r} attached twice")
        attached.add(subnet)
        made = c.subnets.get(subnet)
        if made is not None and _obj(made, "subnet").get("attached_router_id"):
            _violate(report, "R-RIF-ATTACHED", line,
                     f"subnet {subnet!r} was created with attached_router_id")


def router_one_vpc(s, c, refs, report) -> None:
    """R-ROUTER-ONE-VPC: all subnets of one router are in one VPC."""
    vpc_of_router: dict = {}
    for line in s.of("routers.add_router_interface"):
        router, subnet = _rif_target(line)
        made = c.subnets.get(subnet)
        if made is None:
            continue
        vpc = _obj(made, "subnet").get("network_id")
        first = vpc_of_router.setdefault(router, vpc)
        if first != vpc:
            _violate(report, "R-ROUTER-ONE-VPC", line,
                     f"router {router!r} spans VPCs {first!r} and {vpc!r}")


def router_routes(s, c, refs, report) -> None:
    """R-ROUTER-ROUTES: routes sent at router creation are dropped."""
    for line in s.of("routers.create"):
        if _obj(line, "router").get("routes"):
            _violate(report, "R-ROUTER-ROUTES", line, "routes at creation are ignored")


def sg_default_export(s, c, refs, report) -> None:
    """R-SG-DEFAULT-EXPORT: no group named default is POSTed."""
    for line in c.default_groups.values():
        _violate(report, "R-SG-DEFAULT-EXPORT", line, "POST of a group named default")


def sg_default_owned(s, c, refs, report) -> None:
    """R-SG-DEFAULT-OWNED: nothing references the id of a POSTed default group (Alcor never
    stores it under that id)."""
    if not c.default_groups:
        return
    for line in s.of("ports.create"):
        for g in _items(_obj(line, "port").get("security_groups")):
            if _key(g) in c.default_groups:
                _violate(report, "R-SG-DEFAULT-OWNED", line, f"port references default group {g!r}")
    for line in s.of("security_group_rules.create"):
        rule = _obj(line, "security_group_rule")
        for key in ("security_group_id", "remote_group_id"):
            if _key(rule.get(key)) in c.default_groups:
                _violate(report, "R-SG-DEFAULT-OWNED", line, f"{key} is a POSTed default group")


def _allow_all(rule: dict, direction: str) -> bool:
    return (rule.get("direction") == direction and rule.get("protocol") is None
            and rule.get("port_range_min") is None and rule.get("port_range_max") is None
            and rule.get("remote_group_id") is None
            and rule.get("remote_ip_prefix") in ALLOW_ALL_PREFIXES
            and rule.get("ethertype") in ("IPv4", "IPv6", None))


def sg_auto_rules(s, c, refs, report) -> None:
    """R-SG-AUTO-RULES: no rule duplicates the allow-all rules Alcor adds itself (egress for a
    new group, ingress for the tenant default); a group's embedded rules are discarded."""
    for line in s.of("security_groups.create"):
        if _obj(line, "security_group").get("security_group_rules"):
            _violate(report, "R-SG-AUTO-RULES", line, "embedded security_group_rules are discarded")
    for line in s.of("security_group_rules.create"):
        rule = _obj(line, "security_group_rule")
        group = rule.get("security_group_id")
        default = isinstance(group, str) and "{{" in group
        if _allow_all(rule, "ingress" if default else "egress"):
            _violate(report, "R-SG-AUTO-RULES", line, f"allow-all {rule.get('direction')} rule "
                     f"({rule.get('ethertype')}) duplicates Alcor's own")


def sgr_order(s, c, refs, report) -> None:
    """R-SGR-ORDER: a rule's group and remote group exist before it."""
    for line in s.of("security_group_rules.create"):
        rule = _obj(line, "security_group_rule")
        for key in ("security_group_id", "remote_group_id"):
            if rule.get(key) is not None and _key(rule.get(key)) not in c.default_groups:
                refs.ok(rule[key], c.groups, line, "R-SGR-ORDER", key)


def sgr_minmax(s, c, refs, report) -> None:
    """R-SGR-MINMAX: tcp/udp port_range_min <= port_range_max."""
    for line in s.of("security_group_rules.create"):
        rule = _obj(line, "security_group_rule")
        lo, hi = rule.get("port_range_min"), rule.get("port_range_max")
        if rule.get("protocol") in ("tcp", "udp") and isinstance(lo, int) and isinstance(hi, int) \
                and lo > hi:
            _violate(report, "R-SGR-MINMAX", line, f"port range {lo} > {hi}")


def port_sg(s, c, refs, report) -> None:
    """R-PORT-SG: every group of a port exists, created earlier. (The group is fetched by id
    alone: security_group_manager's getSecurityGroup ignores the path's project, so a group of
    another project is found.)"""
    for line in s.of("ports.create"):
        for g in _items(_obj(line, "port").get("security_groups")):
            if _key(g) is None or g not in c.default_groups:  # those are R-SG-DEFAULT-OWNED
                refs.ok(g, c.groups, line, "R-PORT-SG", "security group")


def port_fixedip(s, c, refs, report) -> None:
    """R-PORT-FIXEDIP: a fixed IP names an earlier subnet, lies inside it and is free."""
    used: set = set()
    nets = {sid: _bounds(_net(_obj(line, "subnet").get("cidr"))) for sid, line in c.subnets.items()}
    for line in s.of("ports.create"):
        for ip in _items(_obj(line, "port").get("fixed_ips")):
            if not isinstance(ip, dict) or ip.get("subnet_id") is None:
                continue
            sid, text = ip["subnet_id"], ip.get("ip_address")
            if not refs.ok(sid, c.subnets, line, "R-PORT-FIXEDIP", "fixed_ips subnet_id") \
                    or not isinstance(text, str):
                continue
            bounds = nets.get(sid)
            if bounds is not None and not _inside(text, bounds):
                _violate(report, "R-PORT-FIXEDIP", line, f"{text} outside its subnet {bounds[3]}")
            elif (sid, text) in used:
                _violate(report, "R-PORT-FIXEDIP", line, f"{text} already taken in its subnet")
            used.add((sid, text))


def _bounds(net):
    """(version, first, last address as integers, the network) of a subnet; None if unparsable."""
    if net is None:
        return None
    return net.version, int(net.network_address), int(net.broadcast_address), net


def _inside(text: str, bounds) -> bool:
    """Whether address `text` lies in the subnet of `bounds` (IPv4 compared as integers:
    hundreds of thousands of ports)."""
    version, lo, hi, _ = bounds
    if version == 4 and ":" not in text:
        try:
            value = int.from_bytes(socket.inet_aton(text), "big")
        except OSError:
            return False
        return lo <= value <= hi
    addr = _addr(text)
    return addr is not None and addr.version == version and lo <= int(addr) <= hi


def port_vif(s, c, refs, report) -> None:
    """R-PORT-VIF (A4): binding:vif_type is one of Alcor's VifType values."""
    for line in s.of("ports.create"):
        vif = _obj(line, "port").get("binding:vif_type")
        if vif is not None and (not isinstance(vif, str) or vif not in VIF_TYPES):
            _violate(report, "R-PORT-VIF", line, f"vif_type {vif!r}")


def _ranges(s: Stream) -> dict:
    """ip_version -> [lines of elastic-IP ranges], in stream order."""
    out: dict = {}
    for line in s.of("elasticip_ranges.create"):
        out.setdefault(_version(_obj(line, "elasticip-range").get("ip_version")), []).append(line)
    return out


def _version(value):
    """An IP version as Alcor reads it (null -> 4); other types kept apart, as text."""
    return 4 if value is None else value if isinstance(value, int) else repr(value)


def _eip_version(eip: dict):
    return _version(eip.get("elastic_ip_version"))


def eip_range_first(s, c, refs, report) -> None:
    """R-EIP-RANGE-FIRST: a range of the elastic IP's version exists in an earlier phase."""
    ranges = _ranges(s)
    for line in s.of("elasticips.create"):
        version = _eip_version(_obj(line, "elasticip"))
        if not any(r.phase < line.phase for r in ranges.get(version, ())):
            _violate(report, "R-EIP-RANGE-FIRST", line, f"no IPv{version} range before it")


def eip_one_range(s, c, refs, report) -> None:
    """R-EIP-ONE-RANGE: one range per version, holding every requested address."""
    ranges = _ranges(s)
    for version, lines in ranges.items():
        for line in lines[1:]:
            _violate(report, "R-EIP-ONE-RANGE", line, f"second IPv{version} range (only the "
                     f"first is used)")
    for line in s.of("elasticips.create"):
        eip = _obj(line, "elasticip")
        addr = _addr(eip.get("elastic_ip")) if eip.get("elastic_ip") else None
        first = ranges.get(_eip_version(eip), [None])[0]
        if addr is None or first is None:
            continue
        ranges_of_first = _items(_obj(first, "elasticip-range").get("allocation_ranges"))
        if not any(_in_range(addr, r) for r in ranges_of_first):
            _violate(report, "R-EIP-ONE-RANGE", line, f"{addr} outside the first IPv{addr.version} range")


def _in_range(addr, rng) -> bool:
    if not isinstance(rng, dict):
        return False
    lo, hi = _addr(rng.get("start")), _addr(rng.get("end"))
    return lo is not None and hi is not None and lo.version == hi.version == addr.version \
        and lo <= addr <= hi


def eip_range_order(s, c, refs, report) -> None:
    """R-EIP-RANGE-ORDER: each allocation range has start <= end."""
    for lines in _ranges(s).values():
        for line in lines:
            for rng in _items(_obj(line, "elasticip-range").get("allocation_ranges")):
                if not isinstance(rng, dict):
                    continue
                lo, hi = _addr(rng.get("start")), _addr(rng.get("end"))
                if lo is not None and hi is not None and (lo.version != hi.version or lo > hi):
                    _violate(report, "R-EIP-RANGE-ORDER", line, f"range {lo} .. {hi}")


def eip_project(s, c, refs, report) -> None:
    """R-EIP-PROJECT: a non-null body project_id equals the path's project."""
    from urllib.parse import unquote

    for line in s.of("elasticips.create"):
        project = _obj(line, "elasticip").get("project_id")
        if project is not None and line.project is not None and project != unquote(line.project):
            _violate(report, "R-EIP-PROJECT", line, f"project_id {project!r} in path {line.project!r}")


def eip_port(s, c, refs, report) -> None:
    """R-EIP-PORT: an elastic IP's port exists (earlier, same project); private_ip is one of its
    fixed IPs and not used by another elastic IP."""
    used: set = set()
    for line in s.of("elasticips.create"):
        eip = _obj(line, "elasticip")
        port = eip.get("port_id")
        if not port:
            continue
        if not refs.ok(port, c.ports, line, "R-EIP-PORT", "port_id"):
            continue
        made = c.ports[port] if port in c.ports else None
        if made is not None and made.project != line.project:
            _violate(report, "R-EIP-PORT", line, f"port {port!r} is in project {made.project!r}")
        private = eip.get("private_ip")
        if not isinstance(private, str) or made is None:
            continue
        fixed = {ip.get("ip_address") for ip in _items(_obj(made, "port").get("fixed_ips"))
                 if isinstance(ip, dict)}
        if private not in fixed:
            _violate(report, "R-EIP-PORT", line, f"private_ip {private} is not a fixed IP of {port!r}")
        elif (port, private) in used:
            _violate(report, "R-EIP-PORT", line, f"private_ip {private} of {port!r} used twice")
        used.add((port, private))


def svc_neutron(s, c, refs, report) -> None:
    """R-SVC-NEUTRON: no Neutron /v2.0 path (only behind the API gateway with Keystone)."""
    for line in s.lines:
        if line.path.startswith("/v2.0/") or line.path == "/v2.0":
            _violate(report, "R-SVC-NEUTRON", line, f"Neutron path {line.path}")


def phase_order(s, c, refs, report) -> None:
    """R-PHASE-ORDER: references of ports to their VPC, and of VPC-scoped lines, come from
    earlier phases (the other references are checked by their own rules)."""
    for line in s.of("ports.create"):
        refs.ok(_obj(line, "port").get("network_id"), c.vpcs, line, "R-PHASE-ORDER", "network_id")
    for line in s.lines:
        for var in _placeholders(line.path, []) if "{{" in line.path else ():
            if var not in s.captures:
                report.violate("STREAM-CAPTURE", f"{line.where()}: path uses {var!r}, never captured",
                               EVIDENCE["STREAM-CAPTURE"])


RULES = (seg_once, ncm_first, ncm_none, ncm_one_per_bulk, node_name, node_name_url, node_unbound,
         ipv6, gw_port, subnet_vpc, subnet_inside, subnet_gw_range, subnet_bulk, vpc_flat,
         rif_by_subnet, rif_order, rif_attached, router_one_vpc, router_routes,
         sg_default_export, sg_default_owned, sg_auto_rules, sgr_order, sgr_minmax, port_sg,
         port_fixedip, port_vif, eip_range_first, eip_one_range, eip_range_order, eip_project,
         eip_port, svc_neutron, phase_order)


def check(folder: Path) -> ConsumerReport:
    report = ConsumerReport(consumer="alcor", unit="requests")
    path = Path(folder) / STREAM
    if not path.is_file():
        report.violate("STREAM-FORMAT", f"{path}: no request stream", EVIDENCE["STREAM-FORMAT"])
        return report
    from pipeline.util import no_gc

    with no_gc():  # hundreds of thousands of decoded lines, no cycles among them
        found: list = []
        stream = read_stream(path, report, found)
        made, refs = created(stream), Refs(stream, report)
        for rule in RULES:
            rule(stream, made, refs, report)
    for rule, example in found:
        report.violate(rule, example, "schemas/consumers/" + SCHEMA)
    return report
