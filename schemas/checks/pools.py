"""Table checks on allocation pools and Neutron subnet pools (subnetpools)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from schemas import netaddr as na
from schemas.checks.registry import passes, register, values_at
from schemas.checks.subnets import ip_versions


def pool_problem(df: pd.DataFrame) -> tuple[np.ndarray, na.Addrs, na.Addrs]:
    """(bad, start, end): start/end missing or not addresses, mixed families, or start > end."""
    s, e = na.parse_ips(df["start"]), na.parse_ips(df["end"])
    bad = (~s.valid | ~e.valid | (s.version != e.version)
           | ~na.le(s.hi, s.lo, e.hi, e.lo))
    return bad, s, e


def _pool_msg(df, idx, _col, _stats):
    return [f"pool {a}-{b} invalid (start and end must be addresses of one family, start <= end)"
            for a, b in zip(values_at(df, idx, "start"), values_at(df, idx, "end"))]


@register("Allocation pool start and end are addresses of one family with start <= end.",
          frame=True, reads=("start", "end"), message=_pool_msg)
def pool_invalid(df: pd.DataFrame) -> pd.Series:
    return passes(~pool_problem(df)[0], df.index)


def _pool_prefixes(text) -> list | None:
    """The prefixes of one pool (JSON list text), or None when the value is not a list of
    strings."""
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
    versions = ip_versions(df)
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


@register("Every prefix of a subnet pool is a CIDR with host bits zero, of the pool's "
          "ip_version.", frame=True, reads=("prefixes", "ip_version"),
          message=lambda df, i, _c, _s: [subnetpool_prefix_problems(df.iloc[i])[k]
                                         for k in range(len(i))])
def subnetpool_prefix_invalid(df: pd.DataFrame) -> pd.Series:
    return passes([p is None for p in subnetpool_prefix_problems(df)], df.index)


_PREFIXLEN_COLS = ("min_prefixlen", "default_prefixlen", "max_prefixlen")


def prefixlen_bad(df: pd.DataFrame) -> np.ndarray:
    """Prefix lengths outside 0..32 (IPv4) / 0..128 (IPv6, or unknown family), or not ordered
    min <= default <= max (nulls are not compared)."""
    ver = ip_versions(df)
    limit = np.where(ver == 4, 32, 128)
    vals = [df[c].to_numpy(dtype="float64", na_value=np.nan) for c in _PREFIXLEN_COLS]
    bad = np.zeros(len(df), dtype=bool)
    with np.errstate(invalid="ignore"):
        for v in vals:
            bad |= ~np.isnan(v) & ((v < 0) | (v > limit))
        for a, b in ((vals[0], vals[1]), (vals[1], vals[2]), (vals[0], vals[2])):
            bad |= ~np.isnan(a) & ~np.isnan(b) & (a > b)
    return bad


@register("Subnet pool prefix lengths lie in 0..32 (IPv4) or 0..128 (IPv6) with "
          "min_prefixlen <= default_prefixlen <= max_prefixlen.", frame=True,
          reads=_PREFIXLEN_COLS + ("ip_version",),
          message=lambda df, i, _c, _s: [
               f"prefix lengths min {a} default {b} max {c} invalid for IPv{v}"
               for a, b, c, v in zip(values_at(df, i, "min_prefixlen"), values_at(df, i, "default_prefixlen"),
                                     values_at(df, i, "max_prefixlen"), values_at(df, i, "ip_version"))])
def prefixlen_range(df: pd.DataFrame) -> pd.Series:
    return passes(~prefixlen_bad(df), df.index)
