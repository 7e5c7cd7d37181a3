"""An Alcor request stream (`alcor_requests.ndjson`, written by `dcnet export`) as an ingest source.

Recognised by content: NDJSON whose first line is a request `{"service", "method", "path",
"body", ...}`. The stream is read whole (captures link lines far apart, so it is never cut
into chunks) and turned back into the resources the controller would hold:

- resource bodies (`{"network": ...}`, `{"port": ...}`, `{"host_infos": [...]}`, ...) are
  routed exactly like a dump's objects (collect.Collected), position = line index;
- `{{variable}}` placeholders are resolved the way the replayer resolves them, with the
  request standing in for the response: a captured value the request itself carries (an id
  it sends) comes back as that value; a value only Alcor assigns (the project's `default`
  security group, read with a GET or bound to a port sent without groups) comes back as the
  variable's name, and such a group is added as the project's security group named `default`;
  a port that captures `/port/security_groups/N` gets that group in its list, and a port
  posted without `security_groups` gets its project's default group (`default_sg.<project>`),
  as Alcor binds it (`"security_groups": []` means no group);
- elastic IPs (`{"elasticip": ...}`, Alcor's names) become floating_ips (`elastic_ip` ->
  floating_ip_address, `private_ip` -> fixed_ip_address);
- `add_router_interface` by `subnet_id` becomes a router_interfaces row (network and address
  from the subnet: Alcor attaches the subnet's gateway port, whose id it makes up itself, so
  the row's port_id is `gateway-port:<subnet id>`); by `port_id` the row comes from the
  interface port, as for any dump;
- `add_extraroutes` fills the router's `routes`;
- the segment table, NCM registrations and elastic-IP ranges are not tables: they are named
  under `ignored_keys` in the file's report entry; a node of a registered NCM gets that
  NCM's uri as its ncm_uri (node_manager fills it the same way).

Files that are not data (the K6 script, a README under another name) in a folder holding a
stream are reported as unknown files instead of failing the ingest (`beside_stream`).
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

import orjson

from pipeline.ingest.sources.alcor_variables import (MISSING, pointer_keys, put_at, substitute,
                                                    value_at)

REQUEST_KEYS = ("method", "path", "service")
HEAD_LIMIT = 16 << 20  # the first line (one request) is read up to this many bytes
NOT_TABLES = {"segment": "segment table (not a table)", "ncm": "ncm (not a table)",
              "elasticip_range": "elasticip_range (not a table)"}
FORMAT = "alcor-stream"
GATEWAY_PORT_PREFIX = "gateway-port:"
_RESOURCE_BY_LAST = {"add_router_interface": "router_interface", "add_extraroutes": "extraroute",
                     "security-group-rules": "security_group_rule",
                     "security-groups": "security_group", "vpcs": "vpc", "subnets": "subnet",
                     "routers": "router", "ports": "port", "elasticips": "elasticip",
                     "floatingips": "floatingip"}


def is_request(obj) -> bool:
    return type(obj) is dict and all(type(obj.get(k)) is str for k in REQUEST_KEYS)


_NON_SPACE = re.compile(rb"[^ \t\r\n]")


def _first_line(data: bytes) -> bytes:
    """The first non-blank line, at most HEAD_LIMIT bytes, without copying the rest."""
    start = 3 if data[:3] == b"\xef\xbb\xbf" else 0
    m = _NON_SPACE.search(data, start)
    if m is None:
        return b""
    begin = m.start()
    end = data.find(b"\n", begin, begin + HEAD_LIMIT)
    return data[begin:end if end >= 0 else begin + HEAD_LIMIT]


def _gunzip_head(data: bytes) -> bytes:
    """The start of a gzip member's content, up to its first line break (or HEAD_LIMIT)."""
    d = zlib.decompressobj(31)
    out, tail = b"", data
    try:
        while len(out) < HEAD_LIMIT and b"\n" not in out:
            piece = d.decompress(tail, 1 << 16)
            if not piece:
                break
            out += piece
            tail = d.unconsumed_tail
    except zlib.error:
        return b""
    return out


def sniff(data: bytes) -> bool:
    """True when these (possibly gzipped) bytes start with an Alcor request line. Reads only
    the first line: every file of a dump is asked."""
    if data[:2] == b"\x1f\x8b":
        data = _gunzip_head(data)
    line = _first_line(data)
    if line[:1] != b"{" or b'"method"' not in line or b'"path"' not in line:
        return False
    try:
        return is_request(orjson.loads(line))
    except orjson.JSONDecodeError:
        return False


def is_stream_file(path) -> bool:
    """Sniff a file on disk from its first line only (cheap for big files): its first
    HEAD_LIMIT bytes read in one call (readline is ~4x slower on a dump's one-line list files,
    and sniff finds the first non-blank line itself, as for bytes in memory)."""
    try:
        with open(path, "rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
        opener = gzip.open if gz else open
        with opener(path, "rb") as fh:
            head = fh.read(HEAD_LIMIT)
    except (OSError, EOFError, zlib.error):
        return False
    return sniff(head)


@lru_cache(maxsize=1024)
def _streams_in(folder: str) -> tuple[str, ...]:
    """Names of the Alcor request streams directly in `folder` (cached: asked once per file)."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return ()
    return tuple(n for n in names if not n.startswith(".")
                 and os.path.isfile(os.path.join(folder, n)) and is_stream_file(os.path.join(folder, n)))


def beside_stream(path) -> bool:
    """True when another file of `path`'s folder is an Alcor request stream."""
    if path is None:
        return False
    p = Path(path)
    return any(name != p.name for name in _streams_in(str(p.parent)))


def unknown_file() -> tuple:
    """The result of a non-data file beside a stream: listed as unknown, not fatal."""
    reason = "not a data file (beside an Alcor request stream)"
    summary = {"format": "other", "gzip": False, "objects": {}, "rows": {},
               "unknown": {reason: [1, 0]}, "ignored_keys": [], "redacted": {}}
    return ("ok", {}, summary)


def resource_of(line: dict) -> str:
    """The line's resource type: its `resource` field, else read from the path."""
    res = line.get("resource")
    if type(res) is str and res:
        return res
    path = line["path"]
    for prefix, name in (("/segments/", "segment"), ("/ncms", "ncm"), ("/v4/ncms", "ncm"),
                         ("/nodes", "node"), ("/v4/nodes", "node"),
                         ("/elasticip-ranges", "elasticip_range")):
        if path.startswith(prefix):
            return name
    return _RESOURCE_BY_LAST.get(path.rstrip("/").rsplit("/", 1)[-1], "other")


def _project(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) > 2 and parts[1] in ("project", "v4"):
        return unquote(parts[2])
    return None


def _router_of(path: str) -> str | None:
    m = re.match(r"^/project/[^/]+/routers/([^/]+)/", path)
    return unquote(m.group(1)) if m else None


def _elastic_ip(obj: dict) -> dict:
    """Alcor's elastic IP -> the floating-IP keys ingest reads."""
    out = {k: v for k, v in obj.items()
           if k not in ("elastic_ip", "private_ip", "elastic_ip_version", "private_ip_version")}
    if "elastic_ip" in obj:
        out["floating_ip_address"] = obj["elastic_ip"]
    if "private_ip" in obj:
        out["fixed_ip_address"] = obj["private_ip"]
    return out


def _routes(body) -> list | None:
    if type(body) is dict:
        for doc in (body, body.get("router")):
            if type(doc) is dict and type(doc.get("routes")) is list:
                return doc["routes"]
    return None


class _Reader:
    """Walks the stream lines in order, keeping the captured variables."""

    def __init__(self, col):
        self.col = col
        self.variables: dict = {}
        self.default_groups: dict = {}  # variable -> (project, position)
        self.interfaces: list = []      # (pos, router_id, subnet_id)
        self.routes: dict = {}          # router id -> routes
        self.routers: dict = {}         # router id -> its object in col
        self.not_tables: dict = {}
        self.ncm_uris: dict = {}        # NCM id -> uri from its registration

    def line(self, line: dict, pos: int) -> None:
        from pipeline.ingest.sources.neutron import LIST_KEYS, SHOW_KEYS

        resource = resource_of(line)
        path = substitute(line["path"], self.variables, in_path=True)
        body = substitute(line.get("body"), self.variables)
        self._capture(line.get("capture"), body, path, resource, pos)
        if resource in NOT_TABLES:
            self.not_tables[resource] = self.not_tables.get(resource, 0) + 1
            info = body.get("ncm_info") if resource == "ncm" and type(body) is dict else None
            if type(info) is dict and type(info.get("id")) is str and type(info.get("uri")) is str:
                self.ncm_uris[info["id"]] = info["uri"]
            return
        if resource == "router_interface":
            router = _router_of(path)
            subnet = body.get("subnet_id") if type(body) is dict else None
            if type(subnet) is str and subnet and router:
                self.interfaces.append((pos, router, subnet))
            elif not (type(body) is dict and type(body.get("port_id")) is str):
                # neither a subnet id nor a port id: Alcor would refuse it, nothing to read back
                self.col.add_unknown("add_router_interface without a subnet_id or port_id string", pos)
            return  # by port_id: the interface port already gives the row
        if resource == "extraroute":
            router, routes = _router_of(path), _routes(body)
            if router and routes is not None:
                self.routes.setdefault(router, []).extend(routes)
            return
        if type(body) is dict and type(body.get("elasticip")) is dict:
            body = {"floatingip": _elastic_ip(body["elasticip"])}
        if body is None and line["method"] == "GET":
            return  # a read, there only for its captures
        if resource == "port" and line["method"] == "POST" and type(body) is dict:
            self._bind_default(body.get("port"), path, pos)
        if type(body) is dict and len(body) == 1:
            key, obj = next(iter(body.items()))
            if key in SHOW_KEYS and type(obj) is dict:
                self.col.add(SHOW_KEYS[key], obj, pos)
                # only a string id can be named by a later request's path (a list is not
                # even hashable: a hostile stream must not crash the reader)
                if SHOW_KEYS[key] == "routers" and type(obj.get("id")) is str:
                    self.routers[obj["id"]] = obj
                return
            if key in LIST_KEYS and type(obj) is list and all(type(o) is dict for o in obj):
                for o in obj:
                    self.col.add(LIST_KEYS[key], o, pos)
                return
        self.col.add_unknown(f"Alcor request not read back ({line['method']} {resource})", pos)

    def _bind_default(self, port, path: str, pos: int) -> None:
        """A port posted without `security_groups` is bound by Alcor's port_manager to its
        project's default group (`[]` means none): the group comes back as `default_sg.<project>`."""
        if type(port) is not dict or "security_groups" in port:
            return
        project = port.get("project_id") or _project(path)
        if type(project) is not str:
            return
        name = "default_sg." + project
        port["security_groups"] = [name]
        self.default_groups.setdefault(name, (project, pos))

    def _capture(self, capture, body, path: str, resource: str, pos: int) -> None:
        if type(capture) is not dict:
            return
        for name, pointer in capture.items():
            if type(pointer) is not str:
                continue
            keys = pointer_keys(pointer)
            value = value_at(body, keys)
            if value is not MISSING and value is not None:
                self.variables[name] = value  # the request carries it: Alcor echoes it
                continue
            # Alcor assigns it: the variable's name stands for the value
            self.variables[name] = name
            if type(body) is dict and keys:
                put_at(body, keys, name)
            if "security_groups" in keys or resource == "security_group":
                self.default_groups.setdefault(name, (_project(path), pos))

    def finish(self) -> None:
        # node_manager fills a node's ncm_uri from its NCM's registration, as Alcor holds it
        for host in self.col.recs["hosts"]:
            ncm = host.get("ncm_id")
            if type(ncm) is str and ncm in self.ncm_uris and host.get("ncm_uri") is None:
                host["ncm_uri"] = self.ncm_uris[ncm]
        for group, (project, pos) in self.default_groups.items():
            self.col.add("security_groups", {"id": group, "project_id": project,
                                             "name": "default"}, pos)
        for router, routes in self.routes.items():
            if router in self.routers:
                self.routers[router]["routes"] = routes


def parse_unit(data: bytes, rel: str, cap: int | None = None) -> tuple | None:
    """ingest's unit result ("ok", tables, summary) for a stream file, None if `data` is not one.
    Raises BadFile for a malformed line."""
    from pipeline.ingest.collect import Collected
    from pipeline.ingest.decode import DEFAULT_MAX_DECOMPRESSED, BadFile, decompress
    from pipeline.ingest.tables import build_tables

    if not sniff(data):
        return None
    data, gz = decompress(data, cap or DEFAULT_MAX_DECOMPRESSED)
    col = Collected()
    reader = _Reader(col)
    n_lines = 0
    for i, raw in enumerate(data.split(b"\n")):
        if not raw.strip():
            continue
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise BadFile(f"line {i + 1}: malformed JSON at column {e.colno} "
                          f"({str(e.msg).split(':')[0]})") from None
        if not is_request(line):
            raise BadFile(f"line {i + 1}: not an Alcor request (needs string "
                          f"{', '.join(REQUEST_KEYS)})")
        reader.line(line, i)
        n_lines += 1
    reader.finish()
    tables = build_tables(col, rel)
    if reader.interfaces:
        tables["router_interfaces"] = _with_subnet_interfaces(tables, reader.interfaces, rel)
    kinds = {t: len(r) for t, r in col.recs.items() if r}
    summary = {"format": FORMAT, "gzip": gz, "objects": kinds,
               "rows": {t: tbl.num_rows for t, tbl in tables.items()},
               "unknown": col.unknown,
               "ignored_keys": sorted(f"{NOT_TABLES[k]}: {n} requests"
                                      for k, n in reader.not_tables.items())}
    summary.setdefault("redacted", {})  # ingest's report sums redacted values per key
    return ("ok", tables, summary)


def _with_subnet_interfaces(tables: dict, interfaces: list, rel: str):
    """router_interfaces with one row per add_router_interface by subnet_id that no interface
    port of the stream already gives."""
    import pyarrow as pa

    from pipeline.ingest.rows import Rows

    subnets = tables.get("subnets")
    net_of, gw_of = {}, {}
    if subnets is not None and subnets.num_rows:
        ids = subnets.column("id").to_pylist()
        net_of = dict(zip(ids, subnets.column("network_id").to_pylist()))
        gw_of = dict(zip(ids, subnets.column("gateway_ip").to_pylist()))
    have = tables.get("router_interfaces")
    seen = set()
    if have is not None and have.num_rows:
        seen = set(zip(have.column("router_id").to_pylist(), have.column("subnet_id").to_pylist()))
    rows = []
    for pos, router, subnet in interfaces:
        if (router, subnet) not in seen:
            seen.add((router, subnet))
            rows.append((pos, router, subnet))
    ri = Rows("router_interfaces", len(rows), [p for p, _, _ in rows], rel)
    ri.cols = {"port_id": [GATEWAY_PORT_PREFIX + s for _, _, s in rows],
               "router_id": [r for _, r, _ in rows], "network_id": [net_of.get(s) for _, _, s in rows],
               "subnet_id": [s for _, _, s in rows], "ip_address": [gw_of.get(s) for _, _, s in rows]}
    added = ri.to_arrow()
    if have is None or not have.num_rows:
        return added
    return pa.concat_tables([have, added])
