"""Column checks: formats of addresses, MACs, protocols, vocabularies, ingest errors, owners."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from schemas import netaddr as na
from schemas.checks.registry import WARNING_CHECKS, passes, register, values_at
from schemas.checks.vocab import PROTOCOL_NAMES, RESERVED_MACS
from schemas.model import PROJECT_TENANT_CONFLICT


@register("MAC address is six lower-case hex pairs separated by ':'.",
          message=lambda df, i, c, _s: [
               f"{c} {v!r} is not six ':'-separated lower-case hex pairs" for v in values_at(df, i, c)])
def mac_format(s: pd.Series) -> pd.Series:
    return passes(na.np_bool(pc.match_substring_regex(na.to_arrow(s), na.MAC_REGEX)), s.index)


@register("Value is an IPv4 or IPv6 address.",
          message=lambda df, i, c, _s: [f"{c} {v!r} is not an IP address" for v in values_at(df, i, c)])
def ip_invalid(s: pd.Series) -> pd.Series:
    return passes(~na.parse_ips(s).invalid, s.index)


@register("Value is a CIDR 'address/prefix-length' (with require_prefix false a bare address "
          "counts as /32 or /128).", statistics=["require_prefix"],
          message=lambda df, i, c, _s: [f"{c} {v!r} is not a valid CIDR" for v in values_at(df, i, c)])
def cidr_invalid(s: pd.Series, *, require_prefix: bool = True) -> pd.Series:
    return passes(~na.parse_cidrs(s, require_prefix=require_prefix).invalid, s.index)


def _host_bits_msg(df, idx, col, _stats):
    c = na.parse_cidrs(df[col].iloc[idx])
    return [f"{col} {v} has host bits set (network address is {na.fmt_network(c, k)})"
            for k, v in enumerate(values_at(df, idx, col))]


@register("CIDR has its host bits zero (10.0.0.0/24, not 10.0.0.5/24).", message=_host_bits_msg)
def cidr_host_bits(s: pd.Series) -> pd.Series:
    return passes(~na.parse_cidrs(s).host_bits_set, s.index)


@register("MTU lies in min_value..max_value bytes; 0 (Neutron's 'not set') passes as unknown.",
          statistics=["min_value", "max_value"],
          message=lambda df, i, c, s: [
               f"{c} {v} outside {s['min_value']}..{s['max_value']} (0 = unknown)"
               for v in values_at(df, i, c)])
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
    for v in values_at(df, idx, col):
        kind = ("all-zero" if v == RESERVED_MACS[0] else
                "broadcast" if v == RESERVED_MACS[1] else "multicast")
        out.append(f"{col} {v} is a {kind} address, not a NIC address")
    return out


@register("MAC address is not all-zero, broadcast (Neutron rejects both) or multicast (no NIC "
          "sends from one).", message=_mac_unusable_msg)
def mac_unusable(s: pd.Series) -> pd.Series:
    return passes(~_mac_unusable_mask(s), s.index)


def protocol_ok(s: pd.Series) -> np.ndarray:
    """Neutron's rule protocol: a known name (any case) or a number 0..255."""
    text = s.astype("string").str.lower()
    named = text.isin(PROTOCOL_NAMES).to_numpy(dtype=bool, na_value=False)
    digits = text.str.fullmatch(r"[0-9]{1,3}").to_numpy(dtype=bool, na_value=False)
    number = pd.to_numeric(text.where(digits), errors="coerce").to_numpy(dtype="float64",
                                                                        na_value=np.nan)
    return named | (digits & (number <= 255))


@register("Rule protocol is a name Neutron knows (tcp, udp, icmp, ipv6-icmp, vrrp, ... any "
          "case) or an IP protocol number 0..255.",
          message=lambda df, i, c, _s: [
               f"{c} {v!r} is neither a protocol name Neutron knows nor a number 0..255"
               for v in values_at(df, i, c)])
def protocol_invalid(s: pd.Series) -> pd.Series:
    return passes(protocol_ok(s), s.index)


def _vocab_msg(df, idx, col, stats):
    allowed = ", ".join(stats["allowed"])
    return [f"{col} {v!r} not in {{{allowed}}}" for v in values_at(df, idx, col)]


@register("direction is one of the allowed values.", statistics=["allowed"],
          message=_vocab_msg)
def direction_invalid(s: pd.Series, *, allowed: list[str]) -> pd.Series:
    return s.isin(allowed)


@register("ethertype is one of the allowed values.", statistics=["allowed"],
          message=_vocab_msg)
def ethertype_invalid(s: pd.Series, *, allowed: list[str]) -> pd.Series:
    return s.isin(allowed)


@register("Ingest could coerce every field (ingest_errors is null); the raw value is in extra.",
          message=lambda df, i, c, _s: [f"ingest: {v}" for v in values_at(df, i, c)])
def ingest_type_error(s: pd.Series) -> pd.Series:
    # pandera hands over the non-null values only: each of them is a failure, unless its only
    # error is a project/tenant conflict (ingest writes that one last: see project_tenant_conflict)
    return s.str.startswith(PROJECT_TENANT_CONFLICT).fillna(False).astype(bool)


def _conflict_part(text: str) -> str:
    return text[text.find(PROJECT_TENANT_CONFLICT):]


@register("The row's project_id and tenant_id agree (both spellings of the owning project; "
          "the tenant_id value is kept in extra).",
          message=lambda df, i, c, _s: [f"ingest: {_conflict_part(v)}" for v in values_at(df, i, c)])
def project_tenant_conflict(s: pd.Series) -> pd.Series:
    return ~s.str.contains(PROJECT_TENANT_CONFLICT, regex=False).fillna(False).astype(bool)


@register("WARNING only: device_owner is a known Neutron/Alcor owner or starts with a known "
          "prefix (compute:<zone>).", statistics=["known", "prefixes"])
def device_owner_unknown(s: pd.Series, *, known: list[str], prefixes: list[str]) -> pd.Series:
    ok = s.isin(known)
    for p in prefixes:
        ok = ok | s.str.startswith(p)
    return ok.fillna(True).astype(bool)


WARNING_CHECKS.add("device_owner_unknown")
