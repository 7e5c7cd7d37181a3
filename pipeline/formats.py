"""Pure parsing helpers for ingest: the bytes of one raw file -> canonical columns.

No file system access here (ingest.py does the I/O and the parallelism). The entry points are
`parse_payload` (a whole file's bytes), `parse_chunk` (a slice of a big file, cut by
`plan_chunks`) and `build_tables` (decoded resource objects -> arrow tables of model.TABLES).

How it stays fast on millions of objects: the decoded dicts are turned into columns with one
list comprehension per field; a column whose values all have the right Python type goes to
arrow in one call, and only columns that fail that test are coerced value by value. Callers
switch the cyclic garbage collector off while parsing (see ingest.py): decoded JSON has no
cycles, and the collector otherwise rescans millions of fresh dicts (3x slower in practice).
"""

from __future__ import annotations

import csv
from bisect import bisect_left
import gzip
import io
import re
import zlib
from dataclasses import dataclass, field

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import model


class BadFile(Exception):
    """A file-level problem; the message says what, the caller adds which file."""


GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"
WS = b" \t\r\n"

# ---------------------------------------------------------------------------------------------
# Resource vocabulary
# ---------------------------------------------------------------------------------------------

# Top-level keys of API responses: list form {"ports": [...]} and show form {"port": {...}}.
# Alcor calls networks VPCs in places; `host_info(s)` are its node registrations.
LIST_KEYS = {
    "networks": "networks", "vpcs": "networks", "subnets": "subnets", "ports": "ports",
    "security_groups": "security_groups", "security_group_rules": "security_group_rules",
    "routers": "routers", "floatingips": "floating_ips", "floating_ips": "floating_ips",
    "host_infos": "hosts",
}
SHOW_KEYS = {
    "network": "networks", "vpc": "networks", "subnet": "subnets", "port": "ports",
    "security_group": "security_groups", "security_group_rule": "security_group_rules",
    "router": "routers", "floatingip": "floating_ips", "floating_ip": "floating_ips",
    "host_info": "hosts",
}
# Build order matters once: groups before rules (embedded rules join the rules table).
RESOURCE_TABLES = ("hosts", "networks", "subnets", "security_groups", "security_group_rules",
                   "ports", "routers", "floating_ips")

# canonical column -> source keys, in priority order (the first present wins; a different
# non-null value under a later key is an ingest error and is kept in `extra`).
_COMMON_ALIASES = {
    "project_id": ("project_id", "tenant_id"),
    "admin_state_up": ("admin_state_up", "is_admin_state_up"),
    "created_at": ("created_at", "create_at"),
    "updated_at": ("updated_at", "update_at"),
    "port_security_enabled": ("port_security_enabled", "is_port_security_enabled"),
}
_ALIASES = {
    "hosts": {"id": ("node_id", "id"), "availability_zone": ("availability_zone", "az", "zone"),
              "mac_address": ("mac_address", "mac")},
    "networks": {
        "router_external": ("router:external", "router_external", "is_router_external"),
        "network_type": ("provider:network_type", "provider_network_type", "network_type"),
        "physical_network": ("provider:physical_network", "provider_physical_network",
                             "physical_network"),
        "segmentation_id": ("provider:segmentation_id", "provider_segmentation_id",
                            "segmentation_id"),
        "shared": ("shared", "is_shared"),
    },
    "subnets": {"enable_dhcp": ("enable_dhcp", "is_dhcp_enabled"),
                "subnetpool_id": ("subnetpool_id", "subnet_pool_id")},
    "ports": {
        "binding_host_id": ("binding:host_id", "binding_host_id"),
        "binding_vif_type": ("binding:vif_type", "binding_vif_type"),
        "binding_vnic_type": ("binding:vnic_type", "binding_vnic_type"),
    },
    "security_groups": {"stateful": ("stateful", "is_stateful")},
    "routers": {"distributed": ("distributed", "is_distributed"), "ha": ("ha", "is_ha")},
}
# Keys consumed by child tables / derived columns rather than by a column of the same name.
_SPECIAL = {
    "ports": {"fixed_ips": ("fixed_ips",), "security_groups": ("security_groups", "security_group_ids")},
    "subnets": {"allocation_pools": ("allocation_pools",)},
    "security_groups": {"security_group_rules": ("security_group_rules", "rules")},
    "routers": {"external_gateway_info": ("external_gateway_info",)},
}
# Columns holding small nested values as compact JSON text.
JSON_COLUMNS = frozenset({"host_routes", "dns_nameservers", "allowed_address_pairs", "routes",
                          "availability_zones", "external_fixed_ips"})
_LOWER_COLUMNS = frozenset({"mac_address", "host_dvr_mac"})  # MACs compare case-insensitively
# Columns ingest derives itself (not read from a key of the same name).
_DERIVED = {"routers": {"gateway_network_id", "enable_snat", "external_fixed_ips"}}
_PROVENANCE = {"source_file", "source_pos", "ingest_errors", "extra"}


def _sources(table: str) -> dict[str, tuple[str, ...]]:
    t = model.TABLES[table]
    al = _ALIASES.get(table, {})
    out = {}
    for c in t.column_names:
        if c in _PROVENANCE or c in _DERIVED.get(table, ()):
            continue
        out[c] = al.get(c) or _COMMON_ALIASES.get(c) or (c,)
    return out


SOURCES = {t: _sources(t) for t in RESOURCE_TABLES}
MAPPED_KEYS = {
    t: frozenset(k for ks in list(SOURCES[t].values()) + list(_SPECIAL.get(t, {}).values()) for k in ks)
    for t in RESOURCE_TABLES
}

# `openstack ... list -f json` headers -> canonical keys, per resource. Headers not listed here
# are kept verbatim in `extra`.
_TITLE_COMMON = {"ID": "id", "Name": "name", "Status": "status", "Project": "project_id",
                 "Project ID": "project_id", "State": "admin_state_up"}
TITLE_KEYS = {
    "ports": {"MAC Address": "mac_address", "Fixed IP Addresses": "fixed_ips",
              "Security Groups": "security_groups", "Device Owner": "device_owner",
              "Device ID": "device_id", "Network": "network_id", "Network ID": "network_id",
              "Host": "binding_host_id", "Port Security": "port_security_enabled"},
    "networks": {"Shared": "shared", "Network Type": "network_type", "Router Type": "router_external",
                 "Availability Zones": "availability_zones", "MTU": "mtu"},
    "subnets": {"Network": "network_id", "Subnet": "cidr", "DHCP": "enable_dhcp",
                "Name Servers": "dns_nameservers", "Allocation Pools": "allocation_pools",
                "Host Routes": "host_routes", "IP Version": "ip_version", "Gateway": "gateway_ip"},
    "security_groups": {"Description": "description", "Stateful": "stateful"},
    "security_group_rules": {"IP Protocol": "protocol", "Ethertype": "ethertype",
                             "IP Range": "remote_ip_prefix", "Direction": "direction",
                             "Remote Security Group": "remote_group_id",
                             "Security Group": "security_group_id", "Description": "description"},
    "routers": {"Distributed": "distributed", "HA": "ha", "Routes": "routes",
                "External gateway info": "external_gateway_info"},
    "floating_ips": {"Floating IP Address": "floating_ip_address",
                     "Fixed IP Address": "fixed_ip_address", "Port": "port_id",
                     "Floating Network": "floating_network_id", "Router": "router_id"},
    "hosts": {"Hypervisor Hostname": "node_name", "Host IP": "local_ip"},
}
TITLE_KEYS = {k: {**_TITLE_COMMON, **v} for k, v in TITLE_KEYS.items()}

_NETWORK_HINTS = ("provider:network_type", "provider:physical_network", "provider:segmentation_id",
                  "provider_network_type", "provider_physical_network", "provider_segmentation_id",
                  "router:external", "is_router_external", "subnets")


def detect_kind(d: dict) -> str | None:
    """Table name for a bare resource object, from its distinctive keys (None if unknown)."""
    if "ID" in d:
        return _detect_title(d)
    if "mac_address" in d and "fixed_ips" in d:
        return "ports"
    if "node_name" in d and ("local_ip" in d or "node_id" in d):
        return "hosts"
    if "direction" in d and "ethertype" in d:
        return "security_group_rules"
    if "cidr" in d and "network_id" in d:
        return "subnets"
    if "floating_ip_address" in d:
        return "floating_ips"
    if "external_gateway_info" in d:
        return "routers"
    if "security_group_rules" in d or (type(d.get("rules")) is list
                                       and ("stateful" in d or "description" in d)):
        return "security_groups"
    if "device_owner" in d and "network_id" in d:
        return "ports"
    if "cidr" in d and "ip_version" in d:
        return "subnets"
    if any(k in d for k in _NETWORK_HINTS):
        return "networks"
    if "cidr" in d and ("mtu" in d or "admin_state_up" in d):  # an Alcor VPC
        return "networks"
    return None


def _detect_title(d: dict) -> str | None:
    if "MAC Address" in d or "Fixed IP Addresses" in d:
        return "ports"
    if "Floating IP Address" in d:
        return "floating_ips"
    if "Direction" in d or "Ethertype" in d or "IP Protocol" in d:
        return "security_group_rules"
    if "Hypervisor Hostname" in d:
        return "hosts"
    if "External gateway info" in d or "Distributed" in d or "HA" in d:
        return "routers"
    if "Subnet" in d or "IP Version" in d or "Gateway" in d or "Allocation Pools" in d:
        return "subnets"
    if "Subnets" in d or "Network Type" in d or "Router Type" in d or "Shared" in d:
        return "networks"
    if "Description" in d or "Stateful" in d:
        return "security_groups"
    return None


def _retitle(d: dict, kind: str) -> dict:
    """OSC list row -> canonical keys; 'Port Range' "22:80" becomes port_range_min/max."""
    m = TITLE_KEYS[kind]
    out = {}
    for k, v in d.items():
        if kind == "security_group_rules" and k == "Port Range":
            lo, hi = _split_port_range(v)
            out["port_range_min"], out["port_range_max"] = lo, hi
            continue
        ck = m.get(k, k)
        if ck in out and k != ck:  # both spellings present: keep the other one verbatim
            out[k] = v
        else:
            out[ck] = v
    return out


def _split_port_range(v):
    if not isinstance(v, str):
        return v, v
    s = v.strip()
    if s == "" or s.lower() in ("any", "none"):
        return None, None
    lo, sep, hi = s.partition(":")
    return lo, (hi if sep else lo)


# ---------------------------------------------------------------------------------------------
# Collecting decoded objects
# ---------------------------------------------------------------------------------------------

@dataclass
class Collected:
    """Resource objects of one file (or chunk), grouped by table, in file order."""

    recs: dict = field(default_factory=lambda: {t: [] for t in RESOURCE_TABLES})
    poss: dict = field(default_factory=lambda: {t: [] for t in RESOURCE_TABLES})
    labels: list = field(default_factory=list)  # (pos, {"project_id", "profile"})
    unknown: dict = field(default_factory=dict)  # reason -> [count, first_pos]
    ignored_keys: set = field(default_factory=set)

    def add(self, kind: str, obj: dict, pos: int) -> None:
        self.recs[kind].append(obj)
        self.poss[kind].append(pos)

    def add_unknown(self, reason: str, pos: int, count: int = 1) -> None:
        u = self.unknown.setdefault(reason, [0, pos])
        u[0] += count

    def add_dict(self, d: dict, pos: int, sequential: bool) -> int:
        """Route one top-level object (wrapper, show form or bare). Returns the next position:
        with `sequential`, the objects inside a wrapper take consecutive positions."""
        # A wrapper has no id of its own (a bare network also has a `subnets` list).
        if "id" not in d and "ID" not in d and any(k in LIST_KEYS or k in SHOW_KEYS for k in d) and all(
                k in LIST_KEYS or k in SHOW_KEYS or k.endswith("_links")
                or type(v) is list or type(v) is dict for k, v in d.items()):
            for k, v in d.items():
                if k in LIST_KEYS:
                    if v is None:
                        continue
                    if type(v) is not list:
                        raise BadFile(f"'{k}' should be a list of objects, got {_tname(v)}")
                    kind = LIST_KEYS[k]
                    for i, o in enumerate(v):
                        if type(o) is not dict:
                            raise BadFile(f"'{k}' item {i} is {_tname(o)}, expected an object")
                        self.add(kind, o, pos)
                        pos += sequential
                elif k in SHOW_KEYS:
                    if type(v) is not dict:
                        raise BadFile(f"'{k}' should be an object, got {_tname(v)}")
                    self.add(SHOW_KEYS[k], v, pos)
                    pos += sequential
                elif k.endswith("_links"):
                    self.ignored_keys.add(k)  # pagination links carry no configuration
                else:
                    n = len(v) if type(v) is list else 1
                    self.add_unknown(f"unknown resource key '{k}'", pos, n)
                    pos += sequential * n
            return pos if sequential else pos + 1
        kind = detect_kind(d)
        if kind is None:
            if d and all(type(v) is list or type(v) is dict for v in d.values()):
                self.add_unknown("unknown resource key(s) " + ", ".join(f"'{k}'" for k in list(d)[:5]),
                                 pos, sum(len(v) if type(v) is list else 1 for v in d.values()))
            else:
                self.add_unknown("resource kind not recognised from its keys ("
                                 + ", ".join(sorted(map(str, d))[:8]) + ")", pos)
        else:
            self.add(kind, _retitle(d, kind) if "ID" in d else d, pos)
        return pos + 1


def _tname(v) -> str:
    if v is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "an array", dict: "an object"}.get(type(v), type(v).__name__)


# ---------------------------------------------------------------------------------------------
# Decoding bytes
# ---------------------------------------------------------------------------------------------

def decompress(data: bytes) -> tuple[bytes, bool]:
    """Gunzip when the gzip magic is there (names are not trusted). Returns (bytes, was_gzip)."""
    if data[:2] != GZIP_MAGIC:
        return data, False
    try:
        return gzip.decompress(data), True
    except (OSError, EOFError, zlib.error) as e:
        raise BadFile(f"corrupt or truncated gzip ({e})") from None


def _strip(data: bytes) -> bytes:
    if data.startswith(BOM):
        data = data[3:]
    return data


def _utf8_problem(data: bytes) -> str | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return f"not valid UTF-8 (byte 0x{data[e.start]:02x} at line {line}, offset {e.start})"
    return None


def _json_error(e: orjson.JSONDecodeError, line0: int = 0) -> str:
    msg = str(e.msg).split(":")[0] if e.msg else "invalid JSON"
    return f"malformed JSON at line {e.lineno + line0} column {e.colno} ({msg})"


def parse_payload(data: bytes) -> tuple[Collected, str, bool]:
    """A whole file's bytes -> (collected objects, format, gzipped). Raises BadFile."""
    if not data:
        raise BadFile("empty file")
    data, gz = decompress(data)
    data = _strip(data)
    head = data.lstrip(WS)[:1]
    if not head:
        raise BadFile("empty file" + (" (after gunzip)" if gz else ""))
    col = Collected()
    if head in (b"{", b"["):
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as e:
            bad = _utf8_problem(data)
            if bad:
                raise BadFile(bad) from None
            if head == b"{" and _first_line_is_object(data):
                parse_ndjson(data, col, 0)
                return col, "ndjson", gz
            raise BadFile(_json_error(e)) from None
        walk_document(doc, col)
        return col, "json", gz
    bad = _utf8_problem(data)
    if bad:
        raise BadFile(bad)
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        parse_csv(data.decode("utf-8"), col)
        return col, "csv", gz
    raise BadFile(f"expected a JSON object or an array of objects, got {_tname(doc)}")


def _first_line_is_object(data: bytes) -> bool:
    start = len(data) - len(data.lstrip(WS))
    nl = data.find(b"\n", start)
    if nl < 0:
        return False
    try:
        return type(orjson.loads(data[start:nl])) is dict
    except orjson.JSONDecodeError:
        return False


def walk_document(doc, col: Collected, pos0: int = 0, key: str | None = None) -> None:
    """Route a decoded JSON document. `key` forces the list key (a chunk of a big list)."""
    if key is not None:
        kind = LIST_KEYS[key]
        for i, o in enumerate(doc):
            if type(o) is not dict:
                raise BadFile(f"'{key}' item {pos0 + i} is {_tname(o)}, expected an object")
            col.add(kind, o, pos0 + i)
        return
    if type(doc) is dict:
        col.add_dict(doc, pos0, sequential=True)
    elif type(doc) is list:
        for i, o in enumerate(doc):
            if type(o) is not dict:
                raise BadFile(f"expected an array of objects, item {pos0 + i} is {_tname(o)}")
            col.add_dict(o, pos0 + i, sequential=False)
    else:
        raise BadFile(f"expected a JSON object or an array of objects, got {_tname(doc)}")


def parse_ndjson(data: bytes, col: Collected, line0: int) -> None:
    """One JSON object per line; position = 0-based line index (blank lines count)."""
    for i, line in enumerate(data.split(b"\n")):
        if not line.strip(WS):
            continue
        try:
            o = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            bad = _utf8_problem(line)
            if bad:
                raise BadFile(f"line {line0 + i + 1}: {bad}") from None
            raise BadFile(f"malformed JSON at line {line0 + i + 1} column {e.colno} "
                          f"({str(e.msg).split(':')[0]})") from None
        if type(o) is not dict:
            raise BadFile(f"line {line0 + i + 1}: expected a JSON object, got {_tname(o)}")
        col.add_dict(o, line0 + i, sequential=False)


_HOST_CSV = {"node_id": "node_id", "id": "node_id", "node_name": "node_name",
             "local_ip": "local_ip", "mac_address": "mac_address", "mac": "mac_address",
             "availability_zone": "availability_zone", "az": "availability_zone",
             "zone": "availability_zone", "rack": "rack", "veth": "veth",
             "server_port": "server_port", "host_dvr_mac": "host_dvr_mac", "ncm_id": "ncm_id",
             "ncm_uri": "ncm_uri"}


def parse_csv(text: str, col: Collected) -> None:
    """Host inventory (header has node_name) or labels (header project_id,profile)."""
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(rows, None)
        while header is not None and not any(h.strip() for h in header):
            header = next(rows, None)
        if header is None:
            raise BadFile("empty file")
        norm = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in header]
        if "node_name" in norm:
            names = [_HOST_CSV.get(h, h) for h in norm]
            labels = False
        elif sorted(norm) == ["profile", "project_id"]:
            names = norm
            labels = True
        else:
            shown = ",".join(header)[:80]
            raise BadFile(f"unrecognized CSV header '{shown}' (expected a host inventory with "
                          "node_name, or labels project_id,profile)")
        pos = 0
        for cells in rows:
            if not any(c.strip() for c in cells):
                continue
            # an empty cell is simply absent (CSV cannot tell null from missing)
            rec = {n: c.strip() for n, c in zip(names, cells) if c.strip()}
            if len(cells) != len(names):
                rec["_csv_error"] = f"row has {len(cells)} cells, header has {len(names)}"
                if len(cells) > len(names):
                    if labels:  # no `extra` column there: keep the surplus in the message
                        rec["_csv_error"] += f" (surplus {show(cells[len(names):])})"
                    else:
                        rec["_csv_overflow"] = cells[len(names):]
            if labels:
                col.labels.append((pos, rec))
            else:
                col.add("hosts", rec, pos)
            pos += 1
    except csv.Error as e:
        raise BadFile(f"malformed CSV at line {rows.line_num} ({e})") from None


# ---------------------------------------------------------------------------------------------
# Splitting big files so several processes can parse one file
# ---------------------------------------------------------------------------------------------

@dataclass
class Chunk:
    """A slice of a big file: bytes [start, end) of its decoded content."""

    mode: str                  # "array" (items of a JSON array / of list key `key`) or "ndjson"
    pos0: int                  # position (or line index) of the slice's first object
    start: int
    end: int
    key: str | None = None
    data: bytes | None = None  # the slice itself; None = read the range from the file
    ignored_keys: tuple = ()


def plan_chunks(buf, target: int) -> list[Chunk] | None:
    """Cut a big document (bytes or mmap) into ranges of ~`target` bytes at object boundaries,
    with one validating scan (msgspec.Raw keeps offsets, decodes nothing).

    Returns None when the file is not a plain list form, array or NDJSON; the caller then
    parses it whole (which also produces the precise error message for malformed input).
    """
    try:
        import msgspec
        import numpy as np
    except ImportError:  # pragma: no cover - both are in the lock file
        return None
    n = len(buf)
    i = 0
    while i < n and buf[i] in WS:
        i += 1
    head = buf[i:i + 1]
    base = np.frombuffer(buf, np.uint8).ctypes.data

    def ranges(raws, key, pos0):
        per = max(1, int(len(raws) * target / max(n, 1)))
        out = []
        for a in range(0, len(raws), per):
            first, last = raws[a], raws[min(a + per, len(raws)) - 1]
            s = np.frombuffer(first, np.uint8).ctypes.data - base
            e = np.frombuffer(last, np.uint8).ctypes.data - base + memoryview(last).nbytes
            out.append(Chunk("array", pos0 + a, s, e, key))
        return out

    if head == b"[":
        try:
            return ranges(msgspec.json.decode(buf, type=list[msgspec.Raw]), None, 0) or None
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
    if head != b"{":
        return None
    try:
        top = msgspec.json.decode(buf, type=dict[str, list[msgspec.Raw] | None])
    except msgspec.ValidationError:
        return None
    except msgspec.DecodeError:  # several documents: NDJSON?
        nl = buf.find(b"\n", i)
        if nl < 0:
            return None
        try:
            if type(orjson.loads(bytes(buf[i:nl]))) is not dict:
                return None
        except orjson.JSONDecodeError:
            return None
        return _ndjson_ranges(buf, target, np)
    if not any(k in LIST_KEYS for k in top) or not all(k in LIST_KEYS or k.endswith("_links") for k in top):
        return None
    chunks: list[Chunk] = []
    pos = 0
    for k, raws in top.items():
        if k in LIST_KEYS and raws:
            chunks += ranges(raws, k, pos)
            pos += len(raws)
    if chunks:
        chunks[0].ignored_keys = tuple(k for k in top if k.endswith("_links"))
    return chunks or None


def _ndjson_ranges(buf, target: int, np) -> list[Chunk]:
    arr = np.frombuffer(buf, np.uint8)
    out, start, line0 = [], 0, 0
    while start < len(buf):
        end = buf.find(b"\n", start + target)
        end = len(buf) if end < 0 else end + 1
        out.append(Chunk("ndjson", line0, start, end))
        line0 += int(np.count_nonzero(arr[start:end] == 10))
        start = end
    return out


def parse_chunk(ch: Chunk, path: str | None = None) -> Collected:
    """Parse one slice; its bytes travel with it or are read from `path`."""
    data = ch.data
    if data is None:
        with open(path, "rb") as fh:
            fh.seek(ch.start)
            data = fh.read(ch.end - ch.start)
    col = Collected()
    col.ignored_keys.update(ch.ignored_keys)
    if ch.mode == "ndjson":
        parse_ndjson(data, col, ch.pos0)
        return col
    try:
        doc = orjson.loads(b"[" + data + b"]")
    except orjson.JSONDecodeError as e:
        raise BadFile(f"malformed JSON in the objects from position {ch.pos0} "
                      f"({str(e.msg).split(':')[0]})") from None
    walk_document(doc, col, ch.pos0, ch.key)
    return col


# ---------------------------------------------------------------------------------------------
# Coercion
# ---------------------------------------------------------------------------------------------

_NONE = type(None)
_BAD = object()
_INT_RE = re.compile(r"[+-]?\d+")
_TRUE = frozenset({"true", "yes", "y", "on", "t", "1"})
_FALSE = frozenset({"false", "no", "n", "off", "f", "0"})
# OSC list output spells some booleans as words.
_BOOL_WORDS = {"admin_state_up": {"up": True, "down": False},
               "router_external": {"external": True, "internal": False}}
_TYPE_WORD = {model.STR: "string", model.INT: "integer", model.BOOL: "boolean", model.FLOAT: "number"}
_ARROW = {model.STR: pa.string(), model.INT: pa.int64(), model.BOOL: pa.bool_(),
          model.FLOAT: pa.float64()}
_I64 = (-(2 ** 63), 2 ** 63 - 1)
_SORT = orjson.OPT_SORT_KEYS


def dumps(v) -> str:
    """Compact JSON, sorted keys (deterministic text for JSON columns and `extra`)."""
    try:
        return orjson.dumps(v, option=_SORT).decode()
    except TypeError:  # e.g. an integer beyond 64 bits from a non-orjson source
        import json
        return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def show(v) -> str:
    s = repr(v) if isinstance(v, str) else dumps(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _to_int(v):
    t = type(v)
    if t is int:
        return v if _I64[0] <= v <= _I64[1] else _BAD
    if t is float:
        return int(v) if v.is_integer() and _I64[0] <= v <= _I64[1] else _BAD
    if t is str:
        s = v.strip()
        if not s:
            return None
        if _INT_RE.fullmatch(s):
            i = int(s)
            return i if _I64[0] <= i <= _I64[1] else _BAD
    return _BAD


def _to_float(v):
    t = type(v)
    if t is int or t is float:
        return float(v)
    if t is str:
        s = v.strip()
        if not s:
            return None
        try:
            return float(s)
        except ValueError:
            return _BAD
    return _BAD


def _to_bool(v, words):
    t = type(v)
    if t is bool:
        return v
    if t is int and v in (0, 1):
        return bool(v)
    if t is str:
        s = v.strip().lower()
        if not s:
            return None
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        if words and s in words:
            return words[s]
    return _BAD


def _to_str(v):
    t = type(v)
    if t is int or t is float:
        return dumps(v)
    return _BAD  # bool, list, dict


class Rows:
    """Columns of one table under construction, with per-row errors and extras."""

    def __init__(self, table: str, n: int, poss: list, source_file: str):
        self.table = table
        self.n = n
        self.poss = poss
        self.source_file = source_file
        self.cols: dict[str, list] = {}
        self.errs: dict[int, list[str]] = {}
        self.extras: list | None = None
        self.bad_cells: set[tuple[str, int]] = set()

    def error(self, i: int, msg: str) -> None:
        self.errs.setdefault(i, []).append(msg)

    def extra(self, i: int) -> dict:
        if self.extras is None:
            self.extras = [None] * self.n
        e = self.extras[i]
        if e is None:
            e = self.extras[i] = {}
        return e

    def bad(self, i: int, col: str, raw, problem: str) -> None:
        """A value that could not be used: null in the column, raw kept in extra."""
        self.error(i, f"{col}: {problem}, got {show(raw)}")
        self.bad_cells.add((col, i))
        if model.TABLES[self.table].has_extra:
            self.extra(i)[col] = raw

    def coerce(self, col: str, vals: list, dtype: str) -> list:
        if col in JSON_COLUMNS:
            return [None if v is None else dumps(v) for v in vals]
        types = set(map(type, vals))
        types.discard(_NONE)
        if dtype == model.STR:
            if types <= {str}:
                return vals
            conv = _to_str
        elif dtype == model.INT:
            if types <= {int}:
                lo = min((v for v in vals if v is not None), default=0)
                hi = max((v for v in vals if v is not None), default=0)
                if _I64[0] <= lo and hi <= _I64[1]:
                    return vals
            conv = _to_int
        elif dtype == model.BOOL:
            if types <= {bool}:
                return vals
            words = _BOOL_WORDS.get(col)
            conv = lambda v: _to_bool(v, words)  # noqa: E731
        else:
            if types <= {float}:
                return vals
            conv = _to_float
        out = list(vals)
        want = _TYPE_WORD[dtype]
        for i, v in enumerate(vals):
            if v is None:
                continue
            if dtype == model.STR and type(v) is str:
                continue
            c = conv(v)
            if c is _BAD:
                out[i] = None
                self.bad(i, col, v, f"expected {want}")
            else:
                out[i] = c
        return out

    def pick(self, recs: list, keys: set, col: str, sources: tuple) -> list | None:
        """Values of `col` from the first present source key, filling gaps from the others."""
        present = [s for s in sources if s in keys]
        if not present:
            return None
        first = [r.get(present[0]) for r in recs]
        for s in present[1:]:
            other = [r.get(s) for r in recs]
            if other == first:
                continue
            for i, (a, b) in enumerate(zip(first, other)):
                if b is None or a == b:
                    continue
                if a is None:
                    first[i] = b
                    continue
                self.error(i, f"{col}: '{present[0]}' is {show(a)} but '{s}' is {show(b)}")
                if model.TABLES[self.table].has_extra:
                    self.extra(i)[s] = b
        return first

    def to_arrow(self) -> pa.Table:
        t = model.TABLES[self.table]
        arrays = []
        for c in t.columns:
            name = c.name
            if name == "source_file":
                arrays.append(pa.array([self.source_file] * self.n, pa.string()))
            elif name == "source_pos":
                arrays.append(pa.array(self.poss, pa.int64()))
            elif name == "ingest_errors":
                errs = [None] * self.n
                for i, m in self.errs.items():
                    errs[i] = "; ".join(m)
                arrays.append(pa.array(errs, pa.string()))
            elif name == "extra":
                ex = self.extras
                arrays.append(pa.nulls(self.n, pa.string()) if ex is None else
                              pa.array([dumps(e) if e else None for e in ex], pa.string()))
            else:
                vals = self.cols.get(name)
                if vals is None:
                    arrays.append(pa.nulls(self.n, _ARROW[c.dtype]))
                    continue
                arr = pa.array(vals, _ARROW[c.dtype])
                if name in _LOWER_COLUMNS:
                    arr = pc.utf8_lower(arr)
                arrays.append(arr)
        return pa.Table.from_arrays(arrays, schema=SCHEMAS[self.table])


SCHEMAS = {name: pa.schema([(c.name, _ARROW[c.dtype]) for c in t.columns])
           for name, t in model.TABLES.items()}


# ---------------------------------------------------------------------------------------------
# Building tables
# ---------------------------------------------------------------------------------------------

def build_tables(col: Collected, source_file: str) -> dict[str, pa.Table]:
    """Collected objects -> arrow tables (only tables with rows)."""
    out: dict[str, list[pa.Table]] = {}

    def put(name, tbl):
        if tbl is not None and tbl.num_rows:
            out.setdefault(name, []).append(tbl)

    recs, poss = col.recs, col.poss
    for table in RESOURCE_TABLES:
        r, p = recs[table], poss[table]
        if table == "security_group_rules" and col.recs.get("_embedded_rules"):
            er, ep = col.recs.pop("_embedded_rules"), col.poss.pop("_embedded_rules")
            r, p = _merge_by_pos(r, p, er, ep)
        if not r:
            continue
        rows, children = _build_resource(table, r, p, source_file, col)
        put(table, rows.to_arrow())
        for name, tbl in children.items():
            put(name, tbl)
    if col.labels:
        put("project_labels", _build_labels(col.labels, source_file))
    return {k: (v[0] if len(v) == 1 else pa.concat_tables(v)) for k, v in out.items()}


def _merge_by_pos(r1, p1, r2, p2):
    """Stable merge of two position-sorted record lists (embedded rules among listed ones)."""
    if not p1:
        return r2, p2
    items = sorted(zip(p1 + p2, range(len(p1) + len(p2)), r1 + r2), key=lambda x: (x[0], x[1]))
    return [x[2] for x in items], [x[0] for x in items]


def _build_resource(table, recs, poss, source_file, col: Collected):
    n = len(recs)
    rows = Rows(table, n, poss, source_file)
    keys = set().union(*recs)
    dtypes = model.TABLES[table].dtypes()
    for c, sources in SOURCES[table].items():
        vals = rows.pick(recs, keys, c, sources)
        if vals is not None:
            rows.cols[c] = rows.coerce(c, vals, dtypes[c])
    children: dict[str, pa.Table] = {}
    special = _SPECIAL.get(table, {})
    if table == "ports":
        fips = rows.pick(recs, keys, "fixed_ips", special["fixed_ips"])
        sgs = rows.pick(recs, keys, "security_groups", special["security_groups"])
        children.update(_port_children(rows, fips, sgs))
    elif table == "subnets":
        pools = rows.pick(recs, keys, "allocation_pools", special["allocation_pools"])
        if pools is not None:
            children["subnet_pools"] = _subnet_pools(rows, pools)
    elif table == "security_groups":
        rl = rows.pick(recs, keys, "security_group_rules", special["security_group_rules"])
        if rl is not None:
            _embedded_rules(rows, recs, rl, col)
    elif table == "routers":
        gw = rows.pick(recs, keys, "external_gateway_info", special["external_gateway_info"])
        if gw is not None:
            _gateway(rows, gw, dtypes)
    elif table == "hosts":
        ids, names = rows.cols.get("id"), rows.cols.get("node_name")
        if names is not None:  # a host without node_id is known by its name
            bad = rows.bad_cells
            rows.cols["id"] = names if ids is None else [
                a if a is not None or ("id", i) in bad else b for i, (a, b) in enumerate(zip(ids, names))]
    unmapped = keys - MAPPED_KEYS[table]
    if unmapped:
        u = tuple(sorted(unmapped))
        base = [{k: r[k] for k in u if k in r} or None for r in recs]
        if rows.extras is None:
            rows.extras = base
        else:
            for i, e in enumerate(rows.extras):
                if e:
                    base[i] = {**(base[i] or {}), **e}
            rows.extras = base
    if table == "hosts":
        for i, r in enumerate(recs):  # CSV row-shape problems
            if "_csv_error" in r:
                rows.error(i, r["_csv_error"])
                rows.extra(i).pop("_csv_error", None)
    return rows, children


def _port_children(rows: Rows, fips, sgs) -> dict[str, pa.Table]:
    n, poss = rows.n, rows.poss
    ids = rows.cols.get("id") or [None] * n
    out = {}
    # port_ips (fast path: every value a list of {subnet_id, ip_address} dicts)
    pid, idx, sub, ip, pos, par = _flat_fixed_ips(ids, poss, fips)
    if pid is None:
        pid, idx, sub, ip, pos, par = _slow_fixed_ips(rows, ids, fips)
    cr = Rows("port_ips", len(pid), pos, rows.source_file)
    cr.cols = {"port_id": pid, "ip_index": idx, "subnet_id": cr.coerce("subnet_id", sub, model.STR),
               "ip_address": cr.coerce("ip_address", ip, model.STR)}
    out["port_ips"] = cr.to_arrow()
    # port_security_groups
    spid, sgid, spos = _flat_groups(ids, poss, sgs)
    if spid is None:
        spid, sgid, spos = _slow_groups(rows, ids, sgs)
    sr = Rows("port_security_groups", len(spid), spos, rows.source_file)
    sr.cols = {"port_id": spid, "security_group_id": sgid}
    out["port_security_groups"] = sr.to_arrow()
    # router_interfaces: ports owned by a router; subnet/address of the first fixed IP
    owners = rows.cols.get("device_owner")
    if owners is not None:
        sel = [i for i, o in enumerate(owners) if o in model.ROUTER_INTERFACE_OWNERS]
        if sel:
            # child rows come grouped by parent row, in order: the first child is a bisection away
            first = {}
            for i in sel:
                k = bisect_left(par, i)
                if k < len(par) and par[k] == i:
                    first[i] = k
            dev = rows.cols.get("device_id") or [None] * n
            net = rows.cols.get("network_id") or [None] * n
            ri = Rows("router_interfaces", len(sel), [poss[i] for i in sel], rows.source_file)
            ri.cols = {
                "port_id": [ids[i] for i in sel], "router_id": [dev[i] for i in sel],
                "network_id": [net[i] for i in sel],
                "subnet_id": [cr.cols["subnet_id"][first[i]] if i in first else None for i in sel],
                "ip_address": [cr.cols["ip_address"][first[i]] if i in first else None for i in sel],
            }
            out["router_interfaces"] = ri.to_arrow()
    return out


def _flat_fixed_ips(ids, poss, fips):
    if fips is None:
        return [], [], [], [], [], []
    if not set(map(type, fips)) <= {list, _NONE}:
        return (None,) * 6
    flat = [f for v in fips if v for f in v]
    if not set(map(type, flat)) <= {dict} or not set().union(*flat) <= _FIP_KEYS:
        return (None,) * 6
    pid = [p for p, v in zip(ids, fips) if v for _ in v]
    idx = [j for v in fips if v for j in range(len(v))]
    pos = [p for p, v in zip(poss, fips) if v for _ in v]
    par = [i for i, v in enumerate(fips) if v for _ in v]
    return pid, idx, [f.get("subnet_id") for f in flat], [f.get("ip_address") for f in flat], pos, par


def _unnest(rows: Rows, values, field: str, parse_str, expect: str, keys: frozenset, item=None):
    """(row, index, item) for every object of a nested list column (`fixed_ips`,
    `allocation_pools`): OSC's one-string form is parsed first; a value that is not a list, or
    an item that is not an object, is reported on its row; a value with such items or unknown
    keys is kept verbatim in the row's `extra`. `item` may turn a non-object item into one."""
    for i, v in enumerate(values):
        if v is None:
            continue
        if type(v) is str:
            v = parse_str(v)
        if type(v) is not list:
            rows.bad(i, field, values[i], f"expected a list of {expect}")
            continue
        keep = False
        for j, f in enumerate(v):
            if type(f) is not dict and item is not None:
                f = item(f)
            if type(f) is not dict:
                rows.error(i, f"{field}[{j}]: expected an object, got {show(f)}")
                keep = True
                continue
            if not f.keys() <= keys:
                keep = True
            yield i, j, f
        if keep:
            rows.extra(i)[field] = values[i]


def _bare_ip(f):
    # a bare address string is a fixed IP without its subnet
    return {"ip_address": f} if type(f) is str else f


def _slow_fixed_ips(rows: Rows, ids, fips):
    pid, idx, sub, ip, pos, par = [], [], [], [], [], []
    if fips is None:
        return pid, idx, sub, ip, pos, par
    for i, j, f in _unnest(rows, fips, "fixed_ips", _osc_fixed_ips, "{subnet_id, ip_address}",
                           _FIP_KEYS, _bare_ip):
        pid.append(ids[i]); idx.append(j); sub.append(f.get("subnet_id")); ip.append(f.get("ip_address"))
        pos.append(rows.poss[i]); par.append(i)
    return pid, idx, sub, ip, pos, par


def _flat_groups(ids, poss, sgs):
    if sgs is None:
        return [], [], []
    if not set(map(type, sgs)) <= {list, _NONE}:
        return None, None, None
    flat = [g for v in sgs if v for g in v]
    if not set(map(type, flat)) <= {str}:
        return None, None, None
    return ([p for p, v in zip(ids, sgs) if v for _ in v], flat,
            [p for p, v in zip(poss, sgs) if v for _ in v])


def _slow_groups(rows: Rows, ids, sgs):
    spid, sgid, spos = [], [], []
    if sgs is None:
        return spid, sgid, spos
    for i, v in enumerate(sgs):
        if v is None:
            continue
        if type(v) is str:
            v = [x for x in re.split(r"[,\s]+", v) if x]
        if type(v) is not list:
            rows.bad(i, "security_groups", sgs[i], "expected a list of ids")
            continue
        keep = False
        for g in v:
            if type(g) is dict and type(g.get("id")) is str:  # some dumps embed {id, name}
                keep = keep or len(g) > 1
                g = g["id"]
            if type(g) is not str:
                rows.error(i, f"security_groups: expected an id string, got {show(g)}")
                keep = True
                continue
            spid.append(ids[i]); sgid.append(g); spos.append(rows.poss[i])
        if keep:
            rows.extra(i)["security_groups"] = sgs[i]
    return spid, sgid, spos


_FIP_KEYS = frozenset({"subnet_id", "ip_address"})
_OSC_PAIR = re.compile(r"(\w+)='([^']*)'")


def _osc_fixed_ips(s: str):
    """OSC prints fixed IPs as "ip_address='10.0.0.5', subnet_id='...'" (one per line)."""
    pairs = _OSC_PAIR.findall(s)
    if not pairs:
        return [x for x in re.split(r"[,\s]+", s) if x]  # bare addresses
    out, cur = [], {}
    for k, v in pairs:
        if k in cur:
            out.append(cur)
            cur = {}
        cur[k] = v
    if cur:
        out.append(cur)
    return out


def _subnet_pools(rows: Rows, pools) -> pa.Table:
    ids = rows.cols.get("id") or [None] * rows.n
    sid, idx, st, en, pos = [], [], [], [], []
    for i, j, p in _unnest(rows, pools, "allocation_pools", _osc_pools, "{start, end}", _POOL_KEYS):
        sid.append(ids[i]); idx.append(j); st.append(p.get("start")); en.append(p.get("end"))
        pos.append(rows.poss[i])
    cr = Rows("subnet_pools", len(sid), pos, rows.source_file)
    cr.cols = {"subnet_id": sid, "pool_index": idx, "start": cr.coerce("start", st, model.STR),
               "end": cr.coerce("end", en, model.STR)}
    return cr.to_arrow()


_POOL_KEYS = frozenset({"start", "end"})


def _osc_pools(s: str):
    out = []
    for tok in re.split(r"[,\s]+", s):
        if not tok:
            continue
        a, sep, b = tok.partition("-")
        if not sep:
            return s  # not the start-end form: reported as a type problem
        out.append({"start": a, "end": b})
    return out


def _embedded_rules(rows: Rows, recs, rl, col: Collected) -> None:
    """Rules inside a group join the rules table at the group's position."""
    er, ep = col.recs.setdefault("_embedded_rules", []), col.poss.setdefault("_embedded_rules", [])
    for i, v in enumerate(rl):
        if v is None:
            continue
        if type(v) is not list:
            rows.bad(i, "security_group_rules", v, "expected a list of rule objects")
            continue
        gid = recs[i].get("id")
        keep = False
        for j, rule in enumerate(v):
            if type(rule) is not dict:
                rows.error(i, f"security_group_rules[{j}]: expected an object, got {show(rule)}")
                keep = True
                continue
            if rule.get("security_group_id") is None and gid is not None:
                rule = {**rule, "security_group_id": gid}
            er.append(rule)
            ep.append(rows.poss[i])
        if keep:
            rows.extra(i)["security_group_rules"] = v


def _gateway(rows: Rows, gw, dtypes) -> None:
    n = rows.n
    net, snat, fips = [None] * n, [None] * n, [None] * n
    for i, g in enumerate(gw):
        if g is None:
            continue
        if type(g) is str:  # OSC list output may print the dict as JSON text
            try:
                g2 = orjson.loads(g)
            except orjson.JSONDecodeError:
                g2 = None
            if type(g2) is dict:
                g = g2
        if type(g) is not dict:
            rows.bad(i, "external_gateway_info", gw[i], "expected an object")
            continue
        net[i], snat[i], fips[i] = g.get("network_id"), g.get("enable_snat"), g.get("external_fixed_ips")
        if not g.keys() <= _GW_KEYS:
            rows.extra(i)["external_gateway_info"] = gw[i]
    rows.cols["gateway_network_id"] = rows.coerce("gateway_network_id", net, dtypes["gateway_network_id"])
    rows.cols["enable_snat"] = rows.coerce("enable_snat", snat, dtypes["enable_snat"])
    rows.cols["external_fixed_ips"] = rows.coerce("external_fixed_ips", fips, model.STR)


_GW_KEYS = frozenset({"network_id", "enable_snat", "external_fixed_ips"})


def _build_labels(labels, source_file) -> pa.Table:
    poss = [p for p, _ in labels]
    rows = Rows("project_labels", len(labels), poss, source_file)
    recs = [r for _, r in labels]
    for c in ("project_id", "profile"):
        rows.cols[c] = [r.get(c) for r in recs]
    for i, r in enumerate(recs):
        if "_csv_error" in r:
            rows.error(i, r["_csv_error"])
    return rows.to_arrow()
