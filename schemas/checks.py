"""Custom pandera checks, registered so they survive `schema.to_yaml()` / `from_yaml()`.

Each registered check is NAMED AFTER THE REASON CODE it produces when it fails (the codes in
.notes/CONTEXT.md), so a quarantined row's `check` column, the review YAML and this module
use the same words. A check returns True for rows that pass. Column checks receive non-null
values only (pandera's ignore_na); table checks see the whole frame and handle nulls
themselves (ignore_na=False saves pandera an all-columns null scan on big tables).

Every check is vectorized (numpy / pyarrow kernels, see schemas.netaddr): validation must
handle a million ports in seconds. Python-level loops only touch failing rows (messages) or
small groups (overlapping subnets of one network).

Alongside each check: DOCS (one line for the data dictionary) and MESSAGES (builds the
human-readable `reason` of failing rows).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow.compute as pc
from pandera.api.checks import Check
from pandera.extensions import register_check_method

from schemas.model import DEVICE_OWNER_PREFIXES, DEVICE_OWNERS, PROJECT_TENANT_CONFLICT
from schemas import netaddr as na

# --- vocabularies (shared with models.py; kept here so messages can quote them) -------------

# Values and ranges follow what Neutron itself accepts and reports (neutron-lib constants and
# API validators), so that no object Neutron stored is quarantined.
DIRECTIONS = ["egress", "ingress"]
ETHERTYPES = ["IPv4", "IPv6"]
# neutron-lib IPV4_MIN_MTU .. the largest MTU a Linux/OVS interface takes. Neutron's `mtu`
# attribute is any non-negative integer and 0 (its default) or an absent value means "not
# known": both pass.
MTU_RANGE = (68, 65535)
# Provider segmentation id ranges per network type (neutron-lib: VLAN 1..4094, VXLAN and
# Geneve VNI 1..2^24-1, GRE key 1..2^32-1). Flat and local networks have no segmentation id.
SEGMENTATION_RANGES = {
    "geneve": [1, 2**24 - 1],
    "gre": [1, 2**32 - 1],
    "vlan": [1, 4094],
    "vxlan": [1, 2**24 - 1],
}
UNSEGMENTED_TYPES = ["flat", "local"]
# Rule protocols Neutron accepts by name (neutron-lib IP_PROTOCOL_MAP, case-insensitive; 'any'
# is Neutron's spelling of null); any other value must be an IP protocol number 0..255.
PROTOCOL_NAMES = ["ah", "any", "dccp", "egp", "esp", "gre", "hopopt", "icmp", "icmpv6", "igmp",
                  "ip", "ipip", "ipv6-encap", "ipv6-frag", "ipv6-icmp", "ipv6-nonxt",
                  "ipv6-opts", "ipv6-route", "ospf", "pgm", "rsvp", "sctp", "tcp", "udp",
                  "udplite", "vrrp"]
# neutron-lib INVALID_MAC_ADDRESSES; multicast addresses (low bit of the first octet set) can be
# no NIC's source address (IEEE 802.3) and Neutron refuses them in allowed address pairs.
RESERVED_MACS = ["00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"]
# Fields every stored object has (Neutron's database columns are NOT NULL), per table. A null
# here is a broken or partial record; validation derives ip_version and ethertype first where
# another field determines them (schemas/fill.py).
REQUIRED_FIELDS = {
    "subnets": ["cidr", "ip_version"],
    "ports": ["mac_address"],
    "port_ips": ["ip_address"],
    "security_group_rules": ["direction", "ethertype"],
    "floating_ips": ["floating_ip_address"],
}
# Protocols whose port_range_min/max are ports (names and IANA numbers as Neutron accepts them).
PORT_PROTOCOLS = ["6", "17", "33", "132", "136", "dccp", "sctp", "tcp", "udp", "udplite"]
# Protocols whose port_range_min/max are ICMP type/code.
ICMP_PROTOCOLS = ["1", "58", "icmp", "icmpv6", "ipv6-icmp"]
KNOWN_DEVICE_OWNERS = sorted(DEVICE_OWNERS)
DEVICE_OWNER_PREFIX_LIST = list(DEVICE_OWNER_PREFIXES)

DOCS: dict[str, str] = {}
# Columns a table check reads (data dictionary), when its statistics do not name them.
READS: dict[str, tuple[str, ...]] = {}
# code -> fn(frame, failing positions, column or None, check statistics) -> one reason per row
MESSAGES: dict[str, Callable[[pd.DataFrame, np.ndarray, str | None, dict], list[str]]] = {}
# Checks that only warn (reported with counts and examples, never quarantine).
WARNING_CHECKS: set[str] = set()


def _register(name_doc: str, statistics=(), frame: bool = False, message=None, reads=()):
    """Register `fn` as Check.<fn name> (once: module reloads must not fail) and document it."""

    def deco(fn):
        DOCS[fn.__name__] = name_doc
        if reads:
            READS[fn.__name__] = tuple(reads)
        if message is not None:
            MESSAGES[fn.__name__] = message
        if fn.__name__ not in Check.REGISTERED_CUSTOM_CHECKS:
            register_check_method(
                fn, statistics=list(statistics),
                supported_types=pd.DataFrame if frame else pd.Series,
            )
        return fn

    return deco


def _ok(mask, index) -> pd.Series:
    return pd.Series(np.asarray(mask, dtype=bool), index=index)


def _v(df: pd.DataFrame, idx: np.ndarray, col: str) -> list:
    """Values of `col` at positions `idx` as Python objects (None for NA)."""
    s = df[col].iloc[idx]
    return [None if pd.isna(x) else x for x in s.tolist()]


def _str_present(s: pd.Series) -> np.ndarray:
    """Non-null and non-empty: an empty string means 'not set' in Neutron dumps."""
    return (s.notna() & (s != "")).to_numpy(dtype=bool, na_value=False)


# --- column checks --------------------------------------------------------------------------


@_register("MAC address is six lower-case hex pairs separated by ':'.",
           message=lambda df, i, c, _s: [
               f"{c} {v!r} is not six ':'-separated lower-case hex pairs" for v in _v(df, i, c)])
def mac_format(s: pd.Series) -> pd.Series:
    return _ok(na.np_bool(pc.match_substring_regex(na.to_arrow(s), na.MAC_REGEX)), s.index)


@_register("Value is an IPv4 or IPv6 address.",
           message=lambda df, i, c, _s: [f"{c} {v!r} is not an IP address" for v in _v(df, i, c)])
def ip_invalid(s: pd.Series) -> pd.Series:
    return _ok(~na.parse_ips(s).invalid, s.index)


@_register("Value is a CIDR 'address/prefix-length' (with require_prefix false a bare address "
           "counts as /32 or /128).", statistics=["require_prefix"],
           message=lambda df, i, c, _s: [f"{c} {v!r} is not a valid CIDR" for v in _v(df, i, c)])
def cidr_invalid(s: pd.Series, *, require_prefix: bool = True) -> pd.Series:
    return _ok(~na.parse_cidrs(s, require_prefix=require_prefix).invalid, s.index)


def _host_bits_msg(df, idx, col, _stats):
    c = na.parse_cidrs(df[col].iloc[idx])
    return [f"{col} {v} has host bits set (network address is {na.fmt_network(c, k)})"
            for k, v in enumerate(_v(df, idx, col))]


@_register("CIDR has its host bits zero (10.0.0.0/24, not 10.0.0.5/24).", message=_host_bits_msg)
def cidr_host_bits(s: pd.Series) -> pd.Series:
    return _ok(~na.parse_cidrs(s).host_bits_set, s.index)


@_register("MTU lies in min_value..max_value bytes; 0 (Neutron's 'not set') passes as unknown.",
           statistics=["min_value", "max_value"],
           message=lambda df, i, c, s: [
               f"{c} {v} outside {s['min_value']}..{s['max_value']} (0 = unknown)"
               for v in _v(df, i, c)])
def mtu_range(s: pd.Series, *, min_value: int, max_value: int) -> pd.Series:
    return (s == 0) | ((s >= min_value) & (s <= max_value))


def _mac_unusable_mask(s: pd.Series) -> np.ndarray:
    arr = na.to_arrow(s)
    well_formed = na.np_bool(pc.match_substring_regex(arr, na.MAC_REGEX))
    reserved = na.np_bool(pc.is_in(arr, value_set=na.to_arrow(RESERVED_MACS)))
    # multicast: the low bit of the first octet (second hex digit odd)
    odd = na.np_bool(pc.match_substring_regex(arr, r"^.[13579bdf]"))
    return well_formed & (reserved | odd)


def _mac_unusable_msg(df, idx, col, _stats):
    out = []
    for v in _v(df, idx, col):
        kind = ("all-zero" if v == RESERVED_MACS[0] else
                "broadcast" if v == RESERVED_MACS[1] else "multicast")
        out.append(f"{col} {v} is a {kind} address, not a NIC address")
    return out


@_register("MAC address is not all-zero, broadcast (Neutron rejects both) or multicast (no NIC "
           "sends from one).", message=_mac_unusable_msg)
def mac_unusable(s: pd.Series) -> pd.Series:
    return _ok(~_mac_unusable_mask(s), s.index)


def protocol_ok(s: pd.Series) -> np.ndarray:
    """Neutron's rule protocol: a known name (any case) or a number 0..255."""
    text = s.astype("string").str.lower()
    named = text.isin(PROTOCOL_NAMES).to_numpy(dtype=bool, na_value=False)
    digits = text.str.fullmatch(r"[0-9]{1,3}").to_numpy(dtype=bool, na_value=False)
    number = pd.to_numeric(text.where(digits), errors="coerce").to_numpy(dtype="float64",
                                                                        na_value=np.nan)
    return named | (digits & (number <= 255))


@_register("Rule protocol is a name Neutron knows (tcp, udp, icmp, ipv6-icmp, vrrp, ... any "
           "case) or an IP protocol number 0..255.",
           message=lambda df, i, c, _s: [
               f"{c} {v!r} is neither a protocol name Neutron knows nor a number 0..255"
               for v in _v(df, i, c)])
def protocol_invalid(s: pd.Series) -> pd.Series:
    return _ok(protocol_ok(s), s.index)


def _vocab_msg(df, idx, col, stats):
    allowed = ", ".join(stats["allowed"])
    return [f"{col} {v!r} not in {{{allowed}}}" for v in _v(df, idx, col)]


@_register("direction is one of the allowed values.", statistics=["allowed"],
           message=_vocab_msg)
def direction_invalid(s: pd.Series, *, allowed: list[str]) -> pd.Series:
    return s.isin(allowed)


@_register("ethertype is one of the allowed values.", statistics=["allowed"],
           message=_vocab_msg)
def ethertype_invalid(s: pd.Series, *, allowed: list[str]) -> pd.Series:
    return s.isin(allowed)


@_register("Ingest could coerce every field (ingest_errors is null); the raw value is in extra.",
           message=lambda df, i, c, _s: [f"ingest: {v}" for v in _v(df, i, c)])
def ingest_type_error(s: pd.Series) -> pd.Series:
    # pandera hands over the non-null values only: each of them is a failure, unless its only
    # error is a project/tenant conflict (ingest writes that one last: see project_tenant_conflict)
    return s.str.startswith(PROJECT_TENANT_CONFLICT).fillna(False).astype(bool)


def _conflict_part(text: str) -> str:
    return text[text.find(PROJECT_TENANT_CONFLICT):]


@_register("The row's project_id and tenant_id agree (both spellings of the owning project; "
           "the tenant_id value is kept in extra).",
           message=lambda df, i, c, _s: [f"ingest: {_conflict_part(v)}" for v in _v(df, i, c)])
def project_tenant_conflict(s: pd.Series) -> pd.Series:
    return ~s.str.contains(PROJECT_TENANT_CONFLICT, regex=False).fillna(False).astype(bool)


@_register("WARNING only: device_owner is a known Neutron/Alcor owner or starts with a known "
           "prefix (compute:<zone>).", statistics=["known", "prefixes"])
def device_owner_unknown(s: pd.Series, *, known: list[str], prefixes: list[str]) -> pd.Series:
    ok = s.isin(known)
    for p in prefixes:
        ok = ok | s.str.startswith(p)
    return ok.fillna(True).astype(bool)


WARNING_CHECKS.add("device_owner_unknown")


# --- table checks: keys and duplicates -------------------------------------------------------


def first_holders(keys: pd.DataFrame, usable: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Position of the first usable row sharing the key of each row in `idx` (-1 if none)."""
    keys = keys.reset_index(drop=True)
    cols = list(keys.columns)
    sub = keys[usable]
    firsts = sub[~sub.duplicated(keep="first")].assign(_first=lambda d: d.index.to_numpy())
    probe = keys.iloc[idx].assign(_order=np.arange(len(idx)))
    hit = probe.merge(firsts, on=cols, how="left").sort_values("_order")
    return hit["_first"].fillna(-1).to_numpy(dtype=np.int64)


def _later_duplicates(keys: pd.DataFrame, usable: np.ndarray) -> np.ndarray:
    """Rows (among `usable`) whose key already appeared in an earlier usable row."""
    dup = np.zeros(len(keys), dtype=bool)
    if usable.any():
        dup[usable] = keys[usable].duplicated(keep="first").to_numpy()
    return dup


def _where(df, f) -> str:
    return f"{df['source_file'].iat[f]}#{df['source_pos'].iat[f]}"


def _key_usable(df: pd.DataFrame, key: list[str]) -> np.ndarray:
    """No key part null or blank (those rows are id_missing)."""
    usable = np.ones(len(df), dtype=bool)
    for k in key:
        usable &= _str_present(df[k]) if df[k].dtype == "string" else df[k].notna().to_numpy()
    return usable


def _dup_id_msg(df, idx, _col, stats):
    key = list(stats["key"])
    first = first_holders(df[key], _key_usable(df, key), idx)
    out = []
    for i, f in zip(idx, first):
        label = ", ".join(f"{k}={df[k].iat[i]}" for k in key)
        out.append(f"duplicate {label}" + (f" (first at {_where(df, f)})" if f >= 0 else ""))
    return out


@_register("The key is unique: a row repeating the key of an EARLIER row (input order = "
           "source_file, source_pos, child index) fails; the first one stays valid. Rows with a "
           "null or blank key part are left to id_missing. (Validation resolves copies first, "
           "newest kept: schemas/copies.py; this check is the schema's own safety net.)",
           statistics=["key"], frame=True,
           message=_dup_id_msg)
def duplicate_id(df: pd.DataFrame, *, key: list[str]) -> pd.Series:
    key = list(key)
    usable = _key_usable(df, key)
    return _ok(~_later_duplicates(df[key], usable), df.index)


def _mac_usable(df, column, scope):
    return _str_present(df[scope]) & na.np_bool(
        pc.match_substring_regex(na.to_arrow(df[column]), na.MAC_REGEX))


def _mac_dup_msg(df, idx, _col, stats):
    column, scope = stats["column"], stats["scope"]
    first = first_holders(df[[scope, column]], _mac_usable(df, column, scope), idx)
    where = scope.removesuffix("_id")
    return [f"{column} {df[column].iat[i]} already used in {where} {df[scope].iat[i]} by "
            f"id {df['id'].iat[f]} ({_where(df, f)})" for i, f in zip(idx, first)]


@_register("A MAC address is unique within its network (scope): a later port repeating it fails.",
           statistics=["column", "scope"], frame=True, message=_mac_dup_msg)
def mac_duplicate_in_network(df: pd.DataFrame, *, column: str, scope: str) -> pd.Series:
    usable = _mac_usable(df, column, scope)
    return _ok(~_later_duplicates(df[[scope, column]], usable), df.index)


def ip_keys(df: pd.DataFrame, scope: str, column: str) -> tuple[pd.DataFrame, np.ndarray]:
    """(scope, version, hi, lo) per row: equal addresses compare equal whatever their spelling."""
    a = na.parse_ips(df[column])
    keys = pd.DataFrame({"s": df[scope].array, "v": a.version, "h": a.hi, "l": a.lo})
    return keys, _str_present(df[scope]) & a.valid


def _ip_dup_msg(df, idx, _col, _stats):
    keys, usable = ip_keys(df, "subnet_id", "ip_address")
    first = first_holders(keys, usable, idx)
    return [f"ip_address {df['ip_address'].iat[i]} already used in subnet {df['subnet_id'].iat[i]} "
            f"by port {df['port_id'].iat[f]} ({_where(df, f)})" for i, f in zip(idx, first)]


@_register("An address is unique within its subnet: a later fixed IP repeating it fails.",
           frame=True, message=_ip_dup_msg, reads=("subnet_id", "ip_address"))
def ip_duplicate_in_subnet(df: pd.DataFrame) -> pd.Series:
    keys, usable = ip_keys(df, "subnet_id", "ip_address")
    return _ok(~_later_duplicates(keys, usable), df.index)


# --- table checks: subnets -------------------------------------------------------------------


def _ipver(df) -> np.ndarray:
    return df["ip_version"].to_numpy(dtype="float64", na_value=np.nan)


def _ip_version_msg(df, idx, _col, _stats):
    fam = na.parse_cidrs(df["cidr"].iloc[idx]).version
    return [f"ip_version {v} but cidr {c} is IPv{f}"
            for v, c, f in zip(_v(df, idx, "ip_version"), _v(df, idx, "cidr"), fam)]


@_register("ip_version (4 or 6) agrees with the family of cidr.", frame=True,
           reads=("ip_version", "cidr"), message=_ip_version_msg)
def ip_version_mismatch(df: pd.DataFrame) -> pd.Series:
    c = na.parse_cidrs(df["cidr"])
    v = _ipver(df)
    bad = c.valid & ~np.isnan(v) & (v != c.version)
    return _ok(~bad, df.index)


def _gateway_parts(df):
    c = na.parse_cidrs(df["cidr"])
    g = na.parse_ips(df["gateway_ip"])
    both = c.valid & g.valid
    return c, g, both


def _gateway_msg(what):
    def msg(df, idx, _col, _stats):
        return [f"gateway_ip {g} {what} {c}"
                for g, c in zip(_v(df, idx, "gateway_ip"), _v(df, idx, "cidr"))]

    return msg


@_register("WARNING only: gateway_ip lies inside cidr. Neutron accepts a gateway of the same family "
           "outside the subnet (ipam utils: an off-subnet gateway cannot be checked, it is reached "
           "by a host route), so the subnet stays valid, counted with example ids.",
           frame=True, reads=("cidr", "gateway_ip"), message=_gateway_msg("outside cidr"))
def gateway_outside_subnet(df: pd.DataFrame) -> pd.Series:
    c, g, both = _gateway_parts(df)
    same_family = both & (c.version == g.version)
    return _ok(~(same_family & ~na.contains(c, g)), df.index)


WARNING_CHECKS.add("gateway_outside_subnet")


@_register("gateway_ip is of the subnet's IP family (Neutron refuses another family: "
           "_validate_ip_version).", frame=True, reads=("cidr", "gateway_ip"),
           message=_gateway_msg("of another IP family than"))
def gateway_family_mismatch(df: pd.DataFrame) -> pd.Series:
    c, g, both = _gateway_parts(df)
    return _ok(~(both & (c.version != g.version)), df.index)


def reserved_gateway(c: na.Cidrs, g: na.Addrs) -> np.ndarray:
    """Gateway is the network or broadcast address of an IPv4 subnet.

    As Neutron (ipam utils): an IPv6 gateway may be the subnet's first address (the
    subnet-router anycast address routers answer on). /31 and /32 have no network/broadcast
    addresses (RFC 3021), so any address of theirs is a usable gateway.
    """
    inside = na.contains(c, g)
    big = (c.version == 4) & (c.prefix <= 30)
    is_net = na.eq(g.hi, g.lo, c.hi, c.lo)
    is_bcast = na.eq(g.hi, g.lo, c.last_hi, c.last_lo)
    return inside & big & (is_net | is_bcast)


@_register("gateway_ip is not the network or broadcast address of an IPv4 subnet (/31-/32 "
           "exempt; IPv6 may use its first address, as Neutron allows).", frame=True,
           reads=("cidr", "gateway_ip"),
           message=_gateway_msg("is the network or broadcast address of"))
def gateway_reserved(df: pd.DataFrame) -> pd.Series:
    c, g, _ = _gateway_parts(df)
    return _ok(~reserved_gateway(c, g), df.index)


def overlap_partners(df: pd.DataFrame) -> np.ndarray:
    """For each subnet, the position of an earlier KEPT subnet of the same network whose block
    overlaps it, or -1.

    Greedy in input order: a subnet is kept unless it overlaps a subnet kept before it, so the
    kept set never overlaps and the first of two overlapping subnets stays. Detection is
    vectorized (sort by start, running max of ends per network); the greedy pass only visits
    networks that do have an overlap.
    """
    n = len(df)
    partner = np.full(n, -1, dtype=np.int64)
    c = na.parse_cidrs(df["cidr"])
    usable = c.valid & ~c.host_bits_set & _str_present(df["network_id"])
    pos = np.flatnonzero(usable)
    if len(pos) < 2:
        return partner
    # Dense 128-bit ranks of starts and ends so one int64 cummax works for both families.
    pts = np.empty(2 * len(pos), dtype=[("v", "i1"), ("h", "u8"), ("l", "u8")])
    pts["v"] = np.concatenate([c.version[pos], c.version[pos]])
    pts["h"] = np.concatenate([c.hi[pos], c.last_hi[pos]])
    pts["l"] = np.concatenate([c.lo[pos], c.last_lo[pos]])
    _, rank = np.unique(pts, return_inverse=True)
    start_r, end_r = rank[: len(pos)], rank[len(pos):]
    net = df["network_id"].to_numpy(dtype=object)[pos]
    frame = pd.DataFrame({"net": net, "v": c.version[pos], "s": start_r, "e": end_r,
                          "p": -c.prefix[pos].astype(np.int64)})
    frame = frame.sort_values(["net", "v", "s", "p"], kind="stable")
    prev_end = frame.groupby(["net", "v"], sort=False)["e"].cummax().groupby(
        [frame["net"], frame["v"]], sort=False).shift(1)
    hit = (frame["s"] <= prev_end).fillna(False).to_numpy(dtype=bool)
    if not hit.any():
        return partner
    bad_nets = set(frame["net"].to_numpy()[hit])
    for key, grp in pd.DataFrame({"net": net, "v": c.version[pos], "s": start_r, "e": end_r,
                                  "pos": pos})[np.isin(net, list(bad_nets))].groupby(["net", "v"]):
        kept: list[tuple[int, int, int]] = []
        for s, e, p in zip(grp["s"].to_numpy(), grp["e"].to_numpy(), grp["pos"].to_numpy()):
            other = next((kp for ks, ke, kp in kept if ks <= e and s <= ke), None)
            if other is None:
                kept.append((s, e, p))
            else:
                partner[p] = other
    return partner


def _overlap_msg(df, idx, _col, _stats):
    partner = overlap_partners(df)
    return [f"cidr {df['cidr'].iat[i]} overlaps earlier subnet {df['id'].iat[partner[i]]} "
            f"({df['cidr'].iat[partner[i]]}) of network {df['network_id'].iat[i]}" for i in idx]


@_register("Subnets of one network do not overlap: a subnet overlapping an earlier (kept) "
           "subnet of its network fails.", frame=True, message=_overlap_msg,
           reads=("network_id", "cidr"))
def subnet_overlap(df: pd.DataFrame) -> pd.Series:
    return _ok(overlap_partners(df) < 0, df.index)


# --- table checks: pools, networks, rules ------------------------------------------------------


def pool_problem(df: pd.DataFrame) -> tuple[np.ndarray, na.Addrs, na.Addrs]:
    """(bad, start, end): start/end missing or not addresses, mixed families, or start > end."""
    s, e = na.parse_ips(df["start"]), na.parse_ips(df["end"])
    bad = (~s.valid | ~e.valid | (s.version != e.version)
           | ~na.le(s.hi, s.lo, e.hi, e.lo))
    return bad, s, e


def _pool_msg(df, idx, _col, _stats):
    return [f"pool {a}-{b} invalid (start and end must be addresses of one family, start <= end)"
            for a, b in zip(_v(df, idx, "start"), _v(df, idx, "end"))]


@_register("Allocation pool start and end are addresses of one family with start <= end.",
           frame=True, reads=("start", "end"), message=_pool_msg)
def pool_invalid(df: pd.DataFrame) -> pd.Series:
    return _ok(~pool_problem(df)[0], df.index)


def _seg_msg(df, idx, _col, stats):
    out = []
    for t, v in zip(_v(df, idx, "network_type"), _v(df, idx, "segmentation_id")):
        if str(t).lower() in stats.get("unsegmented", []):
            out.append(f"segmentation_id {v} given for a {t} network, which has none")
            continue
        lo, hi = stats["ranges"][str(t).lower()]
        out.append(f"segmentation_id {v} out of range {lo}..{hi} for {t}")
    return out


@_register("segmentation_id lies in the range of network_type (vlan 1..4094, vxlan/geneve "
           "1..2^24-1, gre 1..2^32-1); flat and local networks have none; other types are not "
           "checked.", statistics=["ranges", "unsegmented"],
           frame=True, message=_seg_msg, reads=("network_type", "segmentation_id"))
def segmentation_id_range(df: pd.DataFrame, *, ranges: dict[str, list[int]],
                          unsegmented: list[str] = ()) -> pd.Series:
    t = df["network_type"].astype("string").str.lower()
    seg = df["segmentation_id"].to_numpy(dtype="float64", na_value=np.nan)
    bad = np.zeros(len(df), dtype=bool)
    for name, (lo, hi) in ranges.items():
        of_type = (t == name).to_numpy(dtype=bool, na_value=False)
        bad |= of_type & ~np.isnan(seg) & ((seg < lo) | (seg > hi))
    bad |= t.isin(list(unsegmented)).to_numpy(dtype=bool, na_value=False) & ~np.isnan(seg)
    return _ok(~bad, df.index)


def _prefix_family(df):
    c = na.parse_cidrs(df["remote_ip_prefix"], require_prefix=False)
    want = df["ethertype"].map({"IPv4": 4, "IPv6": 6}).astype("Float64").to_numpy(
        dtype="float64", na_value=np.nan)
    return c, want


def _ethertype_msg(df, idx, _col, _stats):
    fam = na.parse_cidrs(df["remote_ip_prefix"].iloc[idx], require_prefix=False).version
    return [f"ethertype {et} but remote_ip_prefix {p} is IPv{f}"
            for et, p, f in zip(_v(df, idx, "ethertype"), _v(df, idx, "remote_ip_prefix"), fam)]


@_register("ethertype agrees with the family of remote_ip_prefix.", frame=True,
           reads=("ethertype", "remote_ip_prefix"), message=_ethertype_msg)
def ethertype_prefix_mismatch(df: pd.DataFrame) -> pd.Series:
    c, want = _prefix_family(df)
    bad = c.valid & ~np.isnan(want) & (c.version != want)
    return _ok(~bad, df.index)


def _proto(df) -> pd.Series:
    return df["protocol"].astype("string").str.lower()


def port_range_bad(df, port_protocols, icmp_protocols) -> np.ndarray:
    p = _proto(df)
    lo = df["port_range_min"].astype("Float64")
    hi = df["port_range_max"].astype("Float64")
    is_port = p.isin(port_protocols).to_numpy(dtype=bool, na_value=False)
    is_icmp = p.isin(icmp_protocols).to_numpy(dtype=bool, na_value=False)
    lo_n = lo.to_numpy(dtype="float64", na_value=np.nan)
    hi_n = hi.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        def out(x, a, b):
            return ~np.isnan(x) & ((x < a) | (x > b))
        port_bad = out(lo_n, 1, 65535) | out(hi_n, 1, 65535) | (lo_n > hi_n)
        # ICMP: min = type, max = code, each 0..255; a code needs a type (Neutron rule).
        icmp_bad = out(lo_n, 0, 255) | out(hi_n, 0, 255) | (np.isnan(lo_n) & ~np.isnan(hi_n))
    return (is_port & port_bad) | (is_icmp & icmp_bad)


def port_range_wrong_protocol(df, port_protocols, icmp_protocols) -> np.ndarray:
    p = _proto(df)
    has_range = (df["port_range_min"].notna() | df["port_range_max"].notna()).to_numpy(dtype=bool)
    known = (p.isin(port_protocols) | p.isin(icmp_protocols)).to_numpy(dtype=bool, na_value=False)
    return has_range & ~known


_RULE_COLS = ("protocol", "port_range_min", "port_range_max")


def _range_msg(kind):
    def msg(df, idx, _c, _stats):
        out = []
        for p, a, b in zip(_v(df, idx, "protocol"), _v(df, idx, "port_range_min"),
                           _v(df, idx, "port_range_max")):
            if kind == "invalid":
                icmp = str(p).lower() in ICMP_PROTOCOLS
                limits = "type/code 0..255" if icmp else "1..65535, min <= max"
                out.append(f"port range [{a}, {b}] invalid for protocol {p} ({limits})")
            else:
                proto = p if p is not None else "any (null)"
                out.append(f"port range [{a}, {b}] given for protocol {proto}, which has no ports")
        return out

    return msg


@_register("Port ranges of tcp/udp/sctp/dccp/udplite (or 6/17/132/33/136) are 1..65535 with "
           "min <= max; for icmp/icmpv6 min/max are type/code 0..255 (code needs a type).",
           statistics=["port_protocols", "icmp_protocols"], frame=True,
           message=_range_msg("invalid"), reads=_RULE_COLS)
def port_range_invalid(df: pd.DataFrame, *, port_protocols: list[str],
                       icmp_protocols: list[str]) -> pd.Series:
    return _ok(~port_range_bad(df, port_protocols, icmp_protocols), df.index)


@_register("A port range is given only for protocols that have ports or for ICMP (not for "
           "'any' or e.g. gre).", statistics=["port_protocols", "icmp_protocols"], frame=True,
           message=_range_msg("protocol"), reads=_RULE_COLS)
def port_range_protocol(df: pd.DataFrame, *, port_protocols: list[str],
                        icmp_protocols: list[str]) -> pd.Series:
    return _ok(~port_range_wrong_protocol(df, port_protocols, icmp_protocols), df.index)


# --- table checks: required fields, hosts ------------------------------------------------------


def _required_msg(df, idx, _col, stats):
    cols = list(stats["columns"])
    out = []
    for i in idx:
        gone = [c for c in cols if pd.isna(df[c].iat[i])]
        out.append(", ".join(gone) + (" is missing" if len(gone) == 1 else " are missing")
                   + " (every stored object has " + ("it" if len(gone) == 1 else "them") + ")")
    return out


@_register("Fields every stored Neutron object has are present (subnet cidr/ip_version, port "
           "mac_address, fixed IP address, rule direction/ethertype, floating IP address).",
           statistics=["columns"], frame=True, message=_required_msg)
def required_missing(df: pd.DataFrame, *, columns: list[str]) -> pd.Series:
    return _ok(~df[list(columns)].isna().any(axis=1).to_numpy(dtype=bool), df.index)


def _host_name_usable(df) -> np.ndarray:
    return _str_present(df["node_name"])


def _host_dup_msg(df, idx, _col, _stats):
    first = first_holders(df[["node_name"]], _host_name_usable(df), idx)
    return [f"node_name {df['node_name'].iat[i]} already used by host {df['id'].iat[f]} "
            f"({_where(df, f)})" for i, f in zip(idx, first)]


@_register("Host names are unique (ports bind to a host by node_name): a later host repeating "
           "one fails.", frame=True, message=_host_dup_msg, reads=("node_name",))
def host_name_duplicate(df: pd.DataFrame) -> pd.Series:
    return _ok(~_later_duplicates(df[["node_name"]], _host_name_usable(df)), df.index)


# --- codes produced outside the registered checks --------------------------------------------

# pandera built-ins and cross-table codes, documented here so the data dictionary covers every
# code a quarantine file can hold.
OTHER_DOCS: dict[str, str] = {
    "id_missing": "A required (non-nullable) column is null: pandera `nullable: false`; "
                  "key columns above all.",
    "ref_<column>": "The reference names a row that does not exist anywhere in the input.",
    "parent_quarantined": "The referenced parent exists but was quarantined itself; the reason "
                          "names the parent and its checks (cascades to a fixpoint). Rows "
                          "unnested from a stale copy of their parent leave with it.",
    "network_id_unknown": "WARNING only: a port has no network_id and its fixed IPs name no "
                          "single network (`openstack port list --long` omits the column): it "
                          "stays valid, counted with example ids.",
    "superseded": "Another copy of the object (same key) is newer: later updated_at, else higher "
                  "revision_number; the newest copy is kept (schemas/copies.py). Copies of one "
                  "version are `duplicate_id` (the first is kept).",
}

BUILTIN_CODES = {"not_nullable": "id_missing"}


def reason_code(check_name: str) -> str:
    """The quarantine code of a pandera check name (registered names are codes already)."""
    return BUILTIN_CODES.get(check_name, check_name)


def message(code: str, df: pd.DataFrame, idx: np.ndarray, column: str | None,
            stats: dict | None = None) -> list[str]:
    """Human-readable reasons for the rows at positions `idx` failing `code`."""
    if code == "id_missing":
        return [f"{column} is missing"] * len(idx)
    fn = MESSAGES.get(code)
    if fn is None:
        return [f"{code} failed" + (f" on {column}" if column else "")] * len(idx)
    return fn(df, idx, column, stats or {})


# --- table checks: Neutron subnet pools (subnetpools) -------------------------------------------


def _pool_prefixes(text) -> list | None:
    """The prefixes of one pool (JSON list text), or None when the value is not a list of
    strings."""
    import json

    if text is None or pd.isna(text):
        return []
    try:
        v = json.loads(text)
    except ValueError:
        return None
    return v if isinstance(v, list) and all(isinstance(x, str) for x in v) else None


def subnetpool_prefix_problems(df: pd.DataFrame) -> list[str | None]:
    """Per pool: why its prefixes are invalid (None when fine). Pools are few: plain Python."""
    out: list[str | None] = []
    versions = _ipver(df)
    for text, ver in zip(df["prefixes"].tolist(), versions):
        prefixes = _pool_prefixes(text)
        if prefixes is None:
            out.append(f"prefixes {text!r} is not a list of CIDRs")
            continue
        c = na.parse_cidrs(pd.Series(prefixes, dtype="string"))
        problem = None
        for p, ok, hb, v in zip(prefixes, c.valid, c.host_bits_set, c.version):
            if not ok:
                problem = f"prefix {p!r} is not a valid CIDR"
            elif hb:
                problem = f"prefix {p} has host bits set"
            elif not np.isnan(ver) and v != ver:
                problem = f"prefix {p} is IPv{v} but ip_version is {int(ver)}"
            if problem:
                break
        out.append(problem)
    return out


@_register("Every prefix of a subnet pool is a CIDR with host bits zero, of the pool's "
           "ip_version.", frame=True, reads=("prefixes", "ip_version"),
           message=lambda df, i, _c, _s: [subnetpool_prefix_problems(df.iloc[i])[k]
                                          for k in range(len(i))])
def subnetpool_prefix_invalid(df: pd.DataFrame) -> pd.Series:
    return _ok([p is None for p in subnetpool_prefix_problems(df)], df.index)


_PREFIXLEN_COLS = ("min_prefixlen", "default_prefixlen", "max_prefixlen")


def prefixlen_bad(df: pd.DataFrame) -> np.ndarray:
    """Prefix lengths outside 0..32 (IPv4) / 0..128 (IPv6, or unknown family), or not ordered
    min <= default <= max (nulls are not compared)."""
    ver = _ipver(df)
    limit = np.where(ver == 4, 32, 128)
    vals = [df[c].to_numpy(dtype="float64", na_value=np.nan) for c in _PREFIXLEN_COLS]
    bad = np.zeros(len(df), dtype=bool)
    with np.errstate(invalid="ignore"):
        for v in vals:
            bad |= ~np.isnan(v) & ((v < 0) | (v > limit))
        for a, b in ((vals[0], vals[1]), (vals[1], vals[2]), (vals[0], vals[2])):
            bad |= ~np.isnan(a) & ~np.isnan(b) & (a > b)
    return bad


@_register("Subnet pool prefix lengths lie in 0..32 (IPv4) or 0..128 (IPv6) with "
           "min_prefixlen <= default_prefixlen <= max_prefixlen.", frame=True,
           reads=_PREFIXLEN_COLS + ("ip_version",),
           message=lambda df, i, _c, _s: [
               f"prefix lengths min {a} default {b} max {c} invalid for IPv{v}"
               for a, b, c, v in zip(_v(df, i, "min_prefixlen"), _v(df, i, "default_prefixlen"),
                                     _v(df, i, "max_prefixlen"), _v(df, i, "ip_version"))])
def prefixlen_range(df: pd.DataFrame) -> pd.Series:
    return _ok(~prefixlen_bad(df), df.index)
