"""Pure parsing helpers for ingest: the bytes of one raw file -> canonical columns.

No file system access here (run.py does the I/O and the parallelism). The entry points are
`parse_payload` (a whole file's bytes), `parse_chunk` (a slice of a big file, cut by
`plan_chunks`) and `build_tables` (decoded resource objects -> arrow tables of model.TABLES).

How it stays fast on millions of objects: the decoded dicts are turned into columns with one
list comprehension per field; a column whose values all have the right Python type goes to
arrow in one call, and only columns that fail that test are coerced value by value. Callers
switch the cyclic garbage collector off while parsing (see run.py): decoded JSON has no
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
from functools import lru_cache

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from schemas import model
from pipeline.params import default


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
    "host_infos": "hosts", "nodeInfos": "hosts", "subnetpools": "subnetpools",
}
SHOW_KEYS = {
    "network": "networks", "vpc": "networks", "subnet": "subnets", "port": "ports",
    "security_group": "security_groups", "security_group_rule": "security_group_rules",
    "router": "routers", "floatingip": "floating_ips", "floating_ip": "floating_ips",
    "host_info": "hosts", "subnetpool": "subnetpools",
}
# Build order matters once: groups before rules (embedded rules join the rules table).
RESOURCE_TABLES = ("hosts", "networks", "subnetpools", "subnets", "security_groups",
                   "security_group_rules", "ports", "routers", "floating_ips")

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
    # nova-network (and nova's os-floating-ips proxy) spell the addresses `ip` / `fixed_ip`
    "floating_ips": {"floating_ip_address": ("floating_ip_address", "ip"),
                     "fixed_ip_address": ("fixed_ip_address", "fixed_ip")},
    "subnetpools": {"default_prefixlen": ("default_prefixlen", "default_prefix_length"),
                    "min_prefixlen": ("min_prefixlen", "minimum_prefix_length"),
                    "max_prefixlen": ("max_prefixlen", "maximum_prefix_length"),
                    "shared": ("shared", "is_shared")},
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
                          "availability_zones", "external_fixed_ips", "prefixes"})
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
                "Host Routes": "host_routes", "IP Version": "ip_version", "Gateway": "gateway_ip",
                "Subnet Pool": "subnetpool_id"},
    "subnetpools": {"Prefixes": "prefixes", "Default Prefix Length": "default_prefixlen",
                    "Address Scope": "address_scope_id", "Default Subnet Pool": "is_default",
                    "Shared": "shared", "IP Version": "ip_version",
                    "Min Prefix Length": "min_prefixlen", "Max Prefix Length": "max_prefixlen"},
    "security_groups": {"Description": "description", "Stateful": "stateful"},
    "security_group_rules": {"IP Protocol": "protocol", "Ethertype": "ethertype",
                             "IP Range": "remote_ip_prefix", "Direction": "direction",
                             "Remote Security Group": "remote_group_id",
                             "Security Group": "security_group_id", "Description": "description"},
    "routers": {"Distributed": "distributed", "HA": "ha", "Routes": "routes",
                "External gateway info": "external_gateway_info"},
    "floating_ips": {"Floating IP Address": "floating_ip_address",
                     "Fixed IP Address": "fixed_ip_address", "Port": "port_id",
                     "Floating Network": "floating_network_id", "Router": "router_id",
                     # nova-network's floating IP list
                     "IP": "floating_ip_address", "Fixed IP": "fixed_ip_address"},
    "hosts": {"Hypervisor Hostname": "node_name", "Host IP": "local_ip"},
}
TITLE_KEYS = {k: {**_TITLE_COMMON, **v} for k, v in TITLE_KEYS.items()}

# Title-Case (OSC) objects are recognised only by the columns that identify a resource: many
# other commands print ID/Name/Description/Shared/Network Type too (trunks, flavors, QoS
# policies, meters, segments, VPN connections). Per kind, alternatives of required columns.
_TITLE_REQUIRED: tuple[tuple[str, tuple[frozenset, ...]], ...] = (
    ("ports", (frozenset({"MAC Address", "Fixed IP Addresses"}),)),
    ("floating_ips", (frozenset({"Floating IP Address", "Fixed IP Address"}),
                      frozenset({"Floating IP Address", "Port"}),
                      frozenset({"Floating IP Address", "Floating Network"}),
                      frozenset({"IP", "Pool", "Fixed IP"}))),
    ("security_group_rules", (frozenset({"Ethertype", "IP Protocol"}),
                              frozenset({"Ethertype", "Direction"}))),
    ("hosts", (frozenset({"Hypervisor Hostname"}),)),
    ("subnetpools", (frozenset({"Prefixes"}),)),
    ("subnets", (frozenset({"Subnet", "Network"}),)),
    ("routers", (frozenset({"External gateway info"}), frozenset({"Distributed", "HA"}))),
    ("networks", (frozenset({"Subnets"}),)),
)
# `openstack security group list` prints only generic columns, so a group is recognised by
# its whole column set (a trunk adds Parent Port, a meter Shared, a flavor Enabled).
_TITLE_GROUP_COLUMNS = frozenset({"ID", "Name", "Description", "Project", "Project ID", "Tags",
                                  "Stateful"})
# `openstack router list` shows Distributed/HA only to those allowed to see them; without them
# a router row is recognised by its whole column set too.
_TITLE_ROUTER_REQUIRED = frozenset({"ID", "Name", "Status", "State", "Project"})
_TITLE_ROUTER_COLUMNS = _TITLE_ROUTER_REQUIRED | {"Distributed", "HA", "Routes", "Tags",
                                                  "External gateway info", "Availability zones"}

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
    if "ip" in d and "pool" in d and ("fixed_ip" in d or "instance_id" in d):
        return "floating_ips"  # nova-network's form
    if "prefixes" in d and any(k in d for k in _SUBNETPOOL_HINTS):
        return "subnetpools"
    if "external_gateway_info" in d:
        return "routers"
    if "security_group_rules" in d or _has_group_rules(d) or _has_printed_rules(d):
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


_SUBNETPOOL_HINTS = ("default_prefixlen", "min_prefixlen", "max_prefixlen", "address_scope_id",
                     "default_prefix_length", "minimum_prefix_length", "maximum_prefix_length")


def _has_group_rules(d: dict) -> bool:
    """OSC's `security group show` lists rules under `rules`; so do QoS policies, whose rules
    carry no ethertype: a group needs `stateful` or rules that look like security rules."""
    rules = d.get("rules")
    if type(rules) is not list:
        return False
    if "stateful" in d or "is_stateful" in d:
        return True
    return bool(rules) and all(type(r) is dict and "ethertype" in r for r in rules)


def _has_printed_rules(d: dict) -> bool:
    rules = d.get("rules")
    return type(rules) is str and "ethertype=" in rules and "id" in d


def _detect_title(d: dict) -> str | None:
    keys = d.keys()
    for kind, alternatives in _TITLE_REQUIRED:
        if any(req <= keys for req in alternatives):
            return kind
    if "Description" in d and keys <= _TITLE_GROUP_COLUMNS:
        return "security_groups"
    if _TITLE_ROUTER_REQUIRED <= keys <= _TITLE_ROUTER_COLUMNS:
        return "routers"
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
    redacted: dict = field(default_factory=dict)  # secret-like key -> values redacted

    def add(self, kind: str, obj: dict, pos: int) -> None:
        self.recs[kind].append(obj)
        self.poss[kind].append(pos)

    def add_unknown(self, reason: str, pos: int, count: int = 1) -> None:
        u = self.unknown.setdefault(reason, [0, pos])
        u[0] += count

    def add_dict(self, d: dict, pos: int, sequential: bool) -> int:
        """Route one top-level object (wrapper, show form or bare). Returns the next position:
        with `sequential`, the objects inside a wrapper take consecutive positions."""
        if not d:  # cheap path: runs of {} are a known way to exhaust a parser
            u = self.unknown.get(_EMPTY_REASON)
            if u is None:
                self.unknown[_EMPTY_REASON] = [1, pos]
            else:
                u[0] += 1
            return pos + 1
        # A wrapper has no id of its own (a bare network also has a `subnets` list).
        if "id" not in d and "ID" not in d and any(k in LIST_KEYS or k in SHOW_KEYS for k in d) and all(
                k in LIST_KEYS or k in SHOW_KEYS or k.endswith("_links")
                or type(v) is list or type(v) is dict for k, v in d.items()):
            ids = _id_lists(d)
            shows = [k for k, v in d.items() if k in SHOW_KEYS and type(v) is dict]
            for k, v in d.items():
                if k in LIST_KEYS:
                    if v is None:
                        continue
                    if type(v) is not list:
                        raise BadFile(f"'{k}' should be a list of objects, got {_tname(v)}")
                    if k in ids:
                        if len(shows) != 1:  # ids of nothing in particular: say so
                            self.add_unknown(f"'{k}' lists ids, not objects", pos, len(v))
                            pos += sequential * len(v)
                        continue  # else kept on the one object of the response (below)
                    kind = LIST_KEYS[k]
                    for i, o in enumerate(v):
                        if type(o) is not dict:
                            raise BadFile(f"'{k}' item {i} is {_tname(o)}, expected an object")
                        self.add(kind, o, pos)
                        pos += sequential
                elif k in SHOW_KEYS:
                    if type(v) is not dict:
                        raise BadFile(f"'{k}' should be an object, got {_tname(v)}")
                    if ids and len(shows) == 1:
                        v = _with_related_ids(v, {ik: d[ik] for ik in ids})
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
            if _unknown_wrapper(d):
                # items of the lists, as for a wrapper; at least the object itself
                self.add_unknown("unknown resource key(s) " + ", ".join(f"'{k}'" for k in list(d)[:5]),
                                 pos, max(1, sum(len(v) if type(v) is list else 1 for v in d.values())))
            else:
                self.add_unknown("resource kind not recognised from its keys ("
                                 + ", ".join(sorted(map(str, d))[:8]) + ")", pos)
        else:
            self.add(kind, _retitle(d, kind) if "ID" in d else d, pos)
        return pos + 1


_EMPTY_REASON = "empty object {}"


def _unknown_wrapper(d: dict) -> bool:
    """{"trunks": [{...}, ...]}: no id of its own, every value an object or a list of objects."""
    return "id" not in d and "ID" not in d and all(
        type(v) is dict or (type(v) is list and all(type(x) is dict for x in v)) for v in d.values())


def _id_lists(d: dict) -> list[str]:
    """List keys of a response holding ids rather than objects, e.g. Alcor's route manager
    answer {"router": {...}, "subnets": ["<id>", ...]} (the subnets connected to the router)."""
    return [k for k, v in d.items() if k in LIST_KEYS and type(v) is list and v
            and all(type(x) is str for x in v)]


def _with_related_ids(obj: dict, related: dict) -> dict:
    """The response's one object with the id lists that came beside it (kept in its `extra`
    under the same key, or '<key> (response)' if the object has that key already)."""
    out = dict(obj)
    for k, ids in related.items():
        out[k if k not in out else f"{k} (response)"] = ids
    return out


def _tname(v) -> str:
    if v is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "an array", dict: "an object"}.get(type(v), type(v).__name__)


# ---------------------------------------------------------------------------------------------
# Decoding bytes
# ---------------------------------------------------------------------------------------------

DEFAULT_MAX_DECOMPRESSED = default("ingest.max_decompressed_bytes")
_PIECE = 1 << 20


def gunzip_pieces(fileobj, cap: int, piece: int = _PIECE):
    """Decompressed pieces of a gzip stream (concatenated members included), streamed: memory
    holds one piece. Raises BadFile past `cap` decompressed bytes or on a corrupt stream."""
    total = 0
    try:
        with gzip.GzipFile(fileobj=fileobj) as g:
            while True:
                out = g.read(piece)
                if not out:
                    return
                total += len(out)
                if total > cap:
                    raise BadFile(f"decompresses to more than {cap:,} bytes, the cap of "
                                  "ingest.max_decompressed_bytes")
                yield out
    except (OSError, EOFError, zlib.error) as e:
        raise BadFile(f"corrupt or truncated gzip ({e})") from None


def decompress(data: bytes, cap: int = DEFAULT_MAX_DECOMPRESSED) -> tuple[bytes, bool]:
    """Gunzip when the gzip magic is there (names are not trusted). Returns (bytes, was_gzip)."""
    if data[:2] != GZIP_MAGIC:
        return data, False
    return b"".join(gunzip_pieces(io.BytesIO(data), cap)), True


def _strip(data: bytes) -> bytes:
    if data.startswith(BOM):
        data = data[3:]
    return data


def _utf8_problem(data: bytes) -> str | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return _utf8_message(data, e)
    return None


def _utf8_message(data: bytes, e: UnicodeDecodeError) -> str:
    line = data.count(b"\n", 0, e.start) + 1
    return f"not valid UTF-8 (byte 0x{data[e.start]:02x} at line {line}, offset {e.start})"


def _json_error(e: orjson.JSONDecodeError, line0: int = 0) -> str:
    msg = str(e.msg).split(":")[0] if e.msg else "invalid JSON"
    if "depth" in msg or "recursion" in msg:
        return (f"JSON nested too deeply at line {e.lineno + line0} column {e.colno} "
                "(more than 1,024 levels)")
    return f"malformed JSON at line {e.lineno + line0} column {e.colno} ({msg})"


# First bytes of a JSON document that is not an object or array (a scalar: not data either).
_SCALAR_HEADS = frozenset(b'"-0123456789tfn')


def parse_payload(data: bytes, cap: int = DEFAULT_MAX_DECOMPRESSED,
                  decompressed: bool = False) -> tuple[Collected, str, bool]:
    """A whole file's bytes -> (collected objects, format, gzipped). Raises BadFile.
    `decompressed`: the caller gunzipped the bytes already (the file was gzip)."""
    if not data:
        raise BadFile("empty file")
    if decompressed:
        gz = True
    else:
        data, gz = decompress(data, cap)
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
    # Not JSON: a CSV text, decoded once. Binary data (e.g. NUL bytes) is refused first.
    refuse_binary(data)
    if head[0] in _SCALAR_HEADS:
        try:
            doc = orjson.loads(data)  # fails at the first bad byte: cheap for a CSV
        except orjson.JSONDecodeError:
            pass
        else:
            raise BadFile(f"expected a JSON object or an array of objects, got {_tname(doc)}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadFile(_utf8_message(data, e)) from None
    del data
    parse_csv(text, col)
    return col, "csv", gz


def refuse_binary(head: bytes) -> None:
    """Raise BadFile when the first bytes of a (decompressed) file hold a NUL byte: no JSON,
    NDJSON or CSV text does."""
    nul = head.find(b"\0", 0, 1 << 16)
    if nul >= 0:
        raise BadFile(f"binary data (NUL byte at offset {nul}), not JSON, NDJSON or CSV")


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
            e.lineno = 1  # one line was parsed: the message counts lines of the file
            raise BadFile(_json_error(e, line0 + i)) from None
        if type(o) is not dict:
            raise BadFile(f"line {line0 + i + 1}: expected a JSON object, got {_tname(o)}")
        col.add_dict(o, line0 + i, sequential=False)


def parse_csv(text: str, col: Collected) -> None:
    """Host inventory (header has node_name) or labels (header project_id,profile).

    Host columns keep their header names; aliases (`mac` beside `mac_address`, `id` beside
    `node_id`) are resolved like JSON keys, so two columns that disagree are an ingest error
    on the row, never a silently dropped value. A column repeated under the same name counts
    once when the values agree; otherwise the row has an error and the other value is kept in
    `extra` as '<name> (column N)'."""
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(rows, None)
        while header is not None and not any(h.strip() for h in header):
            header = next(rows, None)
        if header is None:
            raise BadFile("empty file")
        norm = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in header]
        if "node_name" in norm:
            labels = False
        elif sorted(norm) == ["profile", "project_id"]:
            labels = True
        else:
            shown = ",".join(header)[:80]
            raise BadFile(f"unrecognized CSV header '{shown}' (expected a host inventory with "
                          "node_name, or labels project_id,profile)")
        names = norm
        first_col = {}
        repeats = []  # (column index, index of the first column of that name)
        for j, n in enumerate(names):
            if n in first_col:
                repeats.append((j, first_col[n]))
            else:
                first_col[n] = j
        pos = 0
        for cells in rows:
            if not any(c.strip() for c in cells):
                continue
            # an empty cell is simply absent (CSV cannot tell null from missing)
            rec = {}
            for j, (n, c) in enumerate(zip(names, cells)):
                c = c.strip()
                if c and n not in rec:
                    rec[n] = c
            errors = []
            for j, j0 in repeats:
                if j >= len(cells) or not cells[j].strip():
                    continue
                v = cells[j].strip()
                n = names[j]
                first = cells[j0].strip() if j0 < len(cells) else ""
                if first and v != first:
                    errors.append(f"{n}: column {j0 + 1} is {show(first)} but column {j + 1} "
                                  f"is {show(v)}")
                    rec[f"{n} (column {j + 1})"] = v
            if len(cells) != len(names):
                errors.append(f"row has {len(cells)} cells, header has {len(names)}")
                if len(cells) > len(names):
                    if labels:  # no `extra` column there: keep the surplus in the message
                        errors[-1] += f" (surplus {show(cells[len(names):])})"
                    else:
                        rec["_csv_overflow"] = cells[len(names):]
            if errors:
                rec["_csv_error"] = "; ".join(errors)
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

    if head in (b"[", b"{") and items_are_tiny(buf, np):
        return _scanned_chunks(buf, i, target, np)
    if head == b"[":
        try:
            return ranges(msgspec.json.decode(buf, type=list[msgspec.Raw]), None, 0) or None
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            return None  # deep nesting: the whole-file parse words the error
    if head != b"{":
        return None
    try:
        top = msgspec.json.decode(buf, type=dict[str, list[msgspec.Raw] | None])
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        # not one list-form document: NDJSON (one object per line, bare or wrapped) is cut at
        # line ends; anything else is parsed whole, which words the error precisely
        return _ndjson_ranges(buf, target, np) if _first_line_object(buf, i) else None
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


def _first_line_object(buf, i: int) -> bool:
    nl = buf.find(b"\n", i)
    if nl < 0:
        return False
    try:
        return type(orjson.loads(bytes(buf[i:nl]))) is dict
    except orjson.JSONDecodeError:
        return False


# msgspec's Raw slices cost ~50 bytes each: above about one item per this many bytes, the
# planner switches to pipeline.ingest.jsonscan, slower but with memory bounded by its block.
_BYTES_PER_RAW = 64


def items_are_tiny(buf, np, block: int = 16 << 20) -> bool:
    """Whether listing every item of `buf` as a msgspec Raw would take more memory than the
    file itself. Objects are counted by '{' (nested ones too: an upper bound), other values
    (numbers, strings) by commas, generously."""
    braces = commas = 0
    for start in range(0, len(buf), block):
        arr = np.frombuffer(buf, np.uint8, count=min(block, len(buf) - start), offset=start)
        braces += int(np.count_nonzero(arr == 123))
        commas += int(np.count_nonzero(arr == 44))
    return max(braces, commas // 32) * _BYTES_PER_RAW >= len(buf)


def _scanned_chunks(buf, i: int, target: int, np) -> list[Chunk] | None:
    import pipeline.ingest.jsonscan as jsonscan

    def decode_key(raw: bytes):
        try:
            k = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        return k if type(k) is str else None

    def is_list_key(k: str) -> bool:
        return k in LIST_KEYS

    res = jsonscan.plan_cuts(buf, target, decode_key, is_list_key)
    if res is None or res == jsonscan.SEVERAL_DOCUMENTS:
        return _ndjson_ranges(buf, target, np) if _first_line_object(buf, i) else None
    cuts, keys = res
    if keys and (not any(k in LIST_KEYS for k in keys)
                 or not all(k in LIST_KEYS or k.endswith("_links") for k in keys)):
        return None
    chunks = [Chunk("array", c.pos0, c.start, c.end, c.key) for c in cuts]
    if chunks:
        chunks[0].ignored_keys = tuple(k for k in keys if k.endswith("_links"))
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
        what = "nested too deeply" if "depth" in str(e.msg) else "malformed JSON"
        raise BadFile(f"{what} in the objects from position {ch.pos0} "
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


# Secrets: values under secret-like keys (at any depth of `extra`, JSON columns and messages)
# never leave ingest. Keys are compared with separators removed: "Pre-shared Key" -> presharedkey.
REDACTED = "<redacted>"
_SECRET_WORDS = ("password", "passwd", "passphrase", "secret", "token", "psk", "presharedkey",
                 "privatekey", "credential", "apikey", "accesskey", "authkey", "sessionkey",
                 "encryptionkey", "signingkey", "keymaterial", "cookie")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_URL_PASSWORD = re.compile(r"(\w[\w+.-]*://[^/\s:@]*):[^/\s@]*@")  # scheme://user:password@


@lru_cache(maxsize=8192)
def is_secret_key(key: str) -> bool:
    norm = _NOT_ALNUM.sub("", key.lower())
    return any(w in norm for w in _SECRET_WORDS)


def redact(v, counts: dict | None = None):
    """`v` with the values of secret-like keys replaced by REDACTED and passwords in URLs
    removed, at any depth; `v` itself when nothing changed. `counts`: key -> values redacted."""
    t = type(v)
    if t is dict:
        out = None
        for k, x in v.items():
            if type(k) is str and is_secret_key(k) and x is not None and x != REDACTED:
                new = REDACTED
                if counts is not None:
                    counts[k] = counts.get(k, 0) + 1
            else:
                new = redact(x, counts)
            if new is not x:
                if out is None:
                    out = dict(v)
                out[k] = new
        return v if out is None else out
    if t is list:
        out = None
        for i, x in enumerate(v):
            new = redact(x, counts)
            if new is not x:
                if out is None:
                    out = list(v)
                out[i] = new
        return v if out is None else out
    if t is str and "@" in v and "://" in v:
        new = _URL_PASSWORD.sub(r"\1:" + REDACTED + "@", v)
        if new != v:
            if counts is not None:
                counts["<url password>"] = counts.get("<url password>", 0) + 1
            return new
    return v


def show(v) -> str:
    v = redact(v)
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
        self.redacted: dict[str, int] = {}  # secret-like key -> values redacted
        # project_id vs tenant_id disagreements: their own check in validation, and written
        # after every other error of the row (schemas.checks relies on that order)
        self.conflicts: dict[int, str] = {}

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
            if col == "prefixes":  # OSC may print a pool's prefixes as one string
                vals = [_split_words(v) if type(v) is str else v for v in vals]
            red = self.redacted
            return [None if v is None else dumps(redact(v, red)) for v in vals]
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
            same = _same_mac if col in _LOWER_COLUMNS else None
            for i, (a, b) in enumerate(zip(first, other)):
                if b is None or a == b or (same is not None and same(a, b)):
                    continue
                if a is None:
                    first[i] = b
                    continue
                msg = f"{col}: '{present[0]}' is {show(a)} but '{s}' is {show(b)}"
                if msg.startswith(model.PROJECT_TENANT_CONFLICT):
                    self.conflicts[i] = msg
                else:
                    self.error(i, msg)
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
                for i, m in self.conflicts.items():
                    errs[i] = m if errs[i] is None else f"{errs[i]}; {m}"
                arrays.append(pa.array(errs, pa.string()))
            elif name == "extra":
                ex, red = self.extras, self.redacted
                arrays.append(pa.nulls(self.n, pa.string()) if ex is None else
                              pa.array([dumps(redact(e, red)) if e else None for e in ex], pa.string()))
            else:
                vals = self.cols.get(name)
                if vals is None:
                    arrays.append(pa.nulls(self.n, _ARROW[c.dtype]))
                    continue
                arr = pa.array(vals, _ARROW[c.dtype])
                if name in _LOWER_COLUMNS:
                    arr = _normalise_macs(arr)
                arrays.append(arr)
        return pa.Table.from_arrays(arrays, schema=SCHEMAS[self.table])


_MAC_COLON = r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$"
_HEX2 = "([0-9a-f]{2})"
# Other spellings netaddr (so Neutron) accepts: 00-aa-bb-cc-dd-ee, 00aa.bbcc.ddee, 00aabbccddee
_MAC_FORMS = ("^" + "-".join([_HEX2] * 6) + "$",
              "^" + r"\.".join([_HEX2 * 2] * 3) + "$",
              "^" + _HEX2 * 6 + "$")


def _normalise_macs(arr: pa.Array) -> pa.Array:
    """MACs compare case-insensitively and Neutron accepts several separators: lower case,
    ':'-separated (the other spellings are rewritten; anything else is left for validation)."""
    arr = pc.utf8_lower(arr)
    if pc.all(pc.match_substring_regex(arr, _MAC_COLON), skip_nulls=True).as_py() is not False:
        return arr
    for form in _MAC_FORMS:
        arr = pc.replace_substring_regex(arr, form, r"\1:\2:\3:\4:\5:\6")
    return arr


def _same_mac(a, b) -> bool:
    """Two spellings of one MAC (case, ':' / '-' / '.' separators) are not a conflict."""
    if type(a) is not str or type(b) is not str:
        return False
    return _MAC_SEPARATORS.sub("", a.lower()) == _MAC_SEPARATORS.sub("", b.lower())


_MAC_SEPARATORS = re.compile(r"[:.\-]")


def _split_words(v: str) -> list[str]:
    return [x for x in re.split(r"[,\s]+", v) if x]


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
        for k, v in rows.redacted.items():
            col.redacted[k] = col.redacted.get(k, 0) + v
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
            children["allocation_pools"] = _allocation_pools_table(rows, pools)
    elif table == "security_groups":
        rl = rows.pick(recs, keys, "security_group_rules", special["security_group_rules"])
        if rl is not None:
            _embedded_rules(rows, recs, rl, col)
    elif table == "routers":
        gw = rows.pick(recs, keys, "external_gateway_info", special["external_gateway_info"])
        if gw is not None:
            _gateway(rows, gw, dtypes)
    elif table == "hosts":
        if rows.cols.get("ncm_uri") is not None:  # a URI may carry user:password@
            rows.cols["ncm_uri"] = [redact(v, rows.redacted) for v in rows.cols["ncm_uri"]]
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
    return _osc_records(s, pairs)


def _osc_records(s: str, pairs=None) -> list[dict]:
    """key='value' pairs printed by OSC, one record per line (a repeated key starts the next);
    'None' is null, digits are numbers (port ranges)."""
    out, cur = [], {}
    if pairs is None:
        pairs = []
        for line in s.splitlines():
            found = _OSC_PAIR.findall(line)
            if found:
                pairs += found + [("", "")]  # a record ends with its line
        for k, v in pairs:
            if k == "":
                if cur:
                    out.append(cur)
                cur = {}
                continue
            cur[k] = None if v == "None" else int(v) if v.isdigit() else v
        if cur:
            out.append(cur)
        return out
    for k, v in pairs:
        if k in cur:
            out.append(cur)
            cur = {}
        cur[k] = v
    if cur:
        out.append(cur)
    return out


def _allocation_pools_table(rows: Rows, pools) -> pa.Table:
    ids = rows.cols.get("id") or [None] * rows.n
    sid, idx, st, en, pos = [], [], [], [], []
    for i, j, p in _unnest(rows, pools, "allocation_pools", _osc_pools, "{start, end}", _POOL_KEYS):
        sid.append(ids[i]); idx.append(j); st.append(p.get("start")); en.append(p.get("end"))
        pos.append(rows.poss[i])
    cr = Rows("allocation_pools", len(sid), pos, rows.source_file)
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
        if type(v) is str and "ethertype=" in v:  # older OSC prints rules as key='value' text
            v = _osc_records(v)
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
