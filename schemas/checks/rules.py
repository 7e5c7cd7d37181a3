"""Table checks on security group rules: ethertype vs remote prefix, port ranges per protocol."""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas import netaddr as na
from schemas.checks.registry import passes, register, values_at
from schemas.checks.vocab import ICMP_PROTOCOLS


def _prefix_family(df):
    c = na.parse_cidrs(df["remote_ip_prefix"], require_prefix=False)
    want = df["ethertype"].map({"IPv4": 4, "IPv6": 6}).astype("Float64").to_numpy(
        dtype="float64", na_value=np.nan)
    return c, want


def _ethertype_msg(df, idx, _col, _stats):
    fam = na.parse_cidrs(df["remote_ip_prefix"].iloc[idx], require_prefix=False).version
    return [f"ethertype {et} but remote_ip_prefix {p} is IPv{f}"
            for et, p, f in zip(values_at(df, idx, "ethertype"), values_at(df, idx, "remote_ip_prefix"), fam)]


@register("ethertype agrees with the family of remote_ip_prefix.", frame=True,
          reads=("ethertype", "remote_ip_prefix"), message=_ethertype_msg)
def ethertype_prefix_mismatch(df: pd.DataFrame) -> pd.Series:
    c, want = _prefix_family(df)
    bad = c.valid & ~np.isnan(want) & (c.version != want)
    return passes(~bad, df.index)


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
        for p, a, b in zip(values_at(df, idx, "protocol"), values_at(df, idx, "port_range_min"),
                           values_at(df, idx, "port_range_max")):
            if kind == "invalid":
                icmp = str(p).lower() in ICMP_PROTOCOLS
                limits = "type/code 0..255" if icmp else "1..65535, min <= max"
                out.append(f"port range [{a}, {b}] invalid for protocol {p} ({limits})")
            else:
                proto = p if p is not None else "any (null)"
                out.append(f"port range [{a}, {b}] given for protocol {proto}, which has no ports")
        return out

    return msg


@register("Port ranges of tcp/udp/sctp/dccp/udplite (or 6/17/132/33/136) are 1..65535 with "
          "min <= max; for icmp/icmpv6 min/max are type/code 0..255 (code needs a type).",
          statistics=["port_protocols", "icmp_protocols"], frame=True,
          message=_range_msg("invalid"), reads=_RULE_COLS)
def port_range_invalid(df: pd.DataFrame, *, port_protocols: list[str],
                       icmp_protocols: list[str]) -> pd.Series:
    return passes(~port_range_bad(df, port_protocols, icmp_protocols), df.index)


@register("A port range is given only for protocols that have ports or for ICMP (not for "
          "'any' or e.g. gre).", statistics=["port_protocols", "icmp_protocols"], frame=True,
          message=_range_msg("protocol"), reads=_RULE_COLS)
def port_range_protocol(df: pd.DataFrame, *, port_protocols: list[str],
                        icmp_protocols: list[str]) -> pd.Series:
    return passes(~port_range_wrong_protocol(df, port_protocols, icmp_protocols), df.index)
