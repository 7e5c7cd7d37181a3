"""Constants and small helpers shared by the project and port feature builders."""

from __future__ import annotations


import ipaddress
import re


import numpy as np
import pandas as pd

from pipeline.util import stripped as _str
from schemas import netaddr

# Security-group profile: ingress rules whose explicit port range covers one of these ports.
WELL_KNOWN_PORTS: dict[str, tuple[int, ...]] = {
    "ssh": (22,),
    "http": (80, 443),
    "sql": (3306, 5432),
    "k8s": (6443, 10250, 2379),
    "nfs": (2049,),
    "mongo": (27017,),
    "hadoop": (8020, 9000, 9870, 50070),
}
NODEPORT = (30000, 32767)
HIGH_RANGE_MIN_WIDTH = 100  # an explicit range this wide above 1023 (not NodePort) = "high range"
PORT_PROTOCOLS = {"tcp", "udp", "sctp", "6", "17", "132"}
ICMP_PROTOCOLS = {"icmp", "icmpv6", "ipv6-icmp", "1", "58"}
ANY_PROTOCOLS = {"", "any", "0"}  # null protocol = any; some clients spell it out
WORLD_PREFIXES = {"0.0.0.0/0", "::/0"}

VNIC_TYPES = ("normal", "direct", "direct-physical", "macvtap", "baremetal", "virtio-forwarder",
              "smart-nic")
VIF_TYPES = ("ovs", "bridge", "vhostuser", "hw_veb", "hostdev_physical", "distributed",
             "unbound", "binding_failed")
PORT_STATUSES = ("ACTIVE", "DOWN", "BUILD", "ERROR")
OPENSTACK_OUI = "fa:16:3e"

_UUID_RE = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
_HEXISH_RE = re.compile(r"^[0-9a-f]{8,}$")


# ---------------------------------------------------------------------------------------------
# Small helpers (nullable columns in, plain numpy-backed values out).

def _flag(s: pd.Series) -> pd.Series:
    """Nullable boolean -> 1/0 with NA = 0."""
    return s.astype("boolean").fillna(False).astype("int64")


def _tri(s: pd.Series) -> pd.Series:
    """Nullable boolean -> 1 true, 0 false, -1 unknown."""
    b = s.astype("boolean")
    return pd.Series(np.where(b.isna(), -1, b.fillna(False).astype("int64")), index=s.index,
                     dtype="int64")


def _json_len(s: pd.Series) -> pd.Series:
    """Length of a JSON list column; 0 for null, empty or unreadable values."""
    import orjson

    cache: dict[str, int] = {}

    def one(v: str) -> int:
        if v not in cache:
            try:
                x = orjson.loads(v)
                cache[v] = len(x) if isinstance(x, (list, dict)) else 0
            except orjson.JSONDecodeError:
                cache[v] = 0
        return cache[v]

    v = _str(s)
    return pd.Series([one(x) if x else 0 for x in v], index=s.index, dtype="int64")


def _json_ips(s: pd.Series) -> set[str]:
    """Every `ip_address` in a JSON list-of-objects column (routers.external_fixed_ips)."""
    import orjson

    out: set[str] = set()
    for v in _str(s).unique():
        if not v:
            continue
        try:
            x = orjson.loads(v)
        except orjson.JSONDecodeError:
            continue
        for item in x if isinstance(x, list) else []:
            if isinstance(item, dict) and item.get("ip_address"):
                out.add(str(item["ip_address"]).strip())
    return out


def _ip_ints(s: pd.Series) -> np.ndarray:
    """Addresses as Python ints in an object array; -1 when missing or invalid (vectorized
    parsing: dumps have millions of port addresses)."""
    return netaddr.as_ints(netaddr.parse_ips(_str(s)))


def _subnet_geometry(subnets: pd.DataFrame, pools: pd.DataFrame) -> pd.DataFrame:
    """Per subnet id: network/last address ints, prefix, version, gateway, pool bounds/size."""
    rows = []
    for sid, cidr in zip(subnets["id"], _str(subnets["cidr"])):
        try:
            net = ipaddress.ip_network(cidr, strict=False)
            rows.append((sid, int(net.network_address), int(net.broadcast_address), net.prefixlen,
                         net.version))
        except ValueError:
            rows.append((sid, -1, -1, -1, 0))
    geo = pd.DataFrame(rows, columns=["subnet_id", "net_lo", "net_hi", "prefix", "version"])
    geo = geo.astype({"net_lo": object, "net_hi": object})
    geo["gateway"] = _ip_ints(subnets["gateway_ip"])
    geo["dhcp"] = _tri(subnets["enable_dhcp"]).to_numpy()
    p = pd.DataFrame({"subnet_id": pools["subnet_id"].astype("string"),
                      "pool_index": pools["pool_index"].fillna(0).astype("int64"),
                      "start": _ip_ints(pools["start"]), "end": _ip_ints(pools["end"])})
    p = p[(p["start"] != -1) & (p["end"] != -1)]
    p = p.sort_values(["subnet_id", "pool_index"], kind="stable")
    p["size"] = [e - s + 1 for s, e in zip(p["start"], p["end"])]
    agg = p.groupby("subnet_id", sort=False).agg(
        pool_first=("start", "first"), pool_last=("end", "last"), pool_size=("size", "sum"))
    geo = geo.merge(agg, left_on="subnet_id", right_index=True, how="left")
    for c in ("pool_first", "pool_last", "pool_size"):
        geo[c] = geo[c].astype(object).where(geo[c].notna(), -1)
    return geo.drop_duplicates("subnet_id")


def _finish(df: pd.DataFrame, cols: list[str], keep: tuple[str, ...]) -> pd.DataFrame:
    """Fixed column order, numeric dtypes (int64 stays int64, else float64), rows by id."""
    out = df[list(keep) + cols].copy()
    for c in cols:
        s = out[c]
        if pd.api.types.is_integer_dtype(s) or pd.api.types.is_bool_dtype(s):
            out[c] = s.astype("int64")
        else:
            out[c] = s.astype("float64")
    for c in keep:
        out[c] = out[c].astype("string").fillna("")
    return out.sort_values("id", kind="stable").reset_index(drop=True)



def project_ids(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Projects that own anything (network, subnet, port, group, rule, router, floating IP)."""
    ids: set[str] = set()
    for t in ("networks", "subnets", "ports", "security_groups", "security_group_rules",
              "routers", "floating_ips"):
        df = tables.get(t)
        if df is not None and len(df):
            ids.update(x for x in _str(df["project_id"]).unique() if x)
    return sorted(ids)



def _safe_div(a: pd.Series, b: pd.Series) -> pd.Series:
    a = a.astype("float64")
    b = b.astype("float64")
    return (a / b.where(b > 0)).fillna(0.0)
