"""Table checks on subnets: ip_version, gateway, overlapping subnets of one network."""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas import netaddr as na
from schemas.checks.registry import WARNING_CHECKS, passes, register, str_present, values_at


def ip_versions(df) -> np.ndarray:
    return df["ip_version"].to_numpy(dtype="float64", na_value=np.nan)


def _ip_version_msg(df, idx, _col, _stats):
    fam = na.parse_cidrs(df["cidr"].iloc[idx]).version
    return [f"ip_version {v} but cidr {c} is IPv{f}"
            for v, c, f in zip(values_at(df, idx, "ip_version"), values_at(df, idx, "cidr"), fam)]


@register("ip_version (4 or 6) agrees with the family of cidr.", frame=True,
          reads=("ip_version", "cidr"), message=_ip_version_msg)
def ip_version_mismatch(df: pd.DataFrame) -> pd.Series:
    c = na.parse_cidrs(df["cidr"])
    v = ip_versions(df)
    bad = c.valid & ~np.isnan(v) & (v != c.version)
    return passes(~bad, df.index)


def _gateway_parts(df):
    c = na.parse_cidrs(df["cidr"])
    g = na.parse_ips(df["gateway_ip"])
    both = c.valid & g.valid
    return c, g, both


def _gateway_msg(what):
    def msg(df, idx, _col, _stats):
        return [f"gateway_ip {g} {what} {c}"
                for g, c in zip(values_at(df, idx, "gateway_ip"), values_at(df, idx, "cidr"))]

    return msg


@register("WARNING only: gateway_ip lies inside cidr. Neutron accepts a gateway of the same family "
          "outside the subnet (ipam utils: an off-subnet gateway cannot be checked, it is reached "
          "by a host route), so the subnet stays valid, counted with example ids.",
          frame=True, reads=("cidr", "gateway_ip"), message=_gateway_msg("outside cidr"))
def gateway_outside_subnet(df: pd.DataFrame) -> pd.Series:
    c, g, both = _gateway_parts(df)
    same_family = both & (c.version == g.version)
    return passes(~(same_family & ~na.contains(c, g)), df.index)


WARNING_CHECKS.add("gateway_outside_subnet")


@register("gateway_ip is of the subnet's IP family (Neutron refuses another family: "
          "_validate_ip_version).", frame=True, reads=("cidr", "gateway_ip"),
          message=_gateway_msg("of another IP family than"))
def gateway_family_mismatch(df: pd.DataFrame) -> pd.Series:
    c, g, both = _gateway_parts(df)
    return passes(~(both & (c.version != g.version)), df.index)


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


@register("gateway_ip is not the network or broadcast address of an IPv4 subnet (/31-/32 "
          "exempt; IPv6 may use its first address, as Neutron allows).", frame=True,
          reads=("cidr", "gateway_ip"),
          message=_gateway_msg("is the network or broadcast address of"))
def gateway_reserved(df: pd.DataFrame) -> pd.Series:
    c, g, _ = _gateway_parts(df)
    return passes(~reserved_gateway(c, g), df.index)


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
    usable = c.valid & ~c.host_bits_set & str_present(df["network_id"])
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


@register("Subnets of one network do not overlap: a subnet overlapping an earlier (kept) "
          "subnet of its network fails.", frame=True, message=_overlap_msg,
          reads=("network_id", "cidr"))
def subnet_overlap(df: pd.DataFrame) -> pd.Series:
    return passes(overlap_partners(df) < 0, df.index)
