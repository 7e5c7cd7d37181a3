"""Vectorized IP address and CIDR parsing for validation.

Per-row `ipaddress` costs seconds on millions of rows, so addresses become numbers here:
every address is (version, hi, lo) with `hi`/`lo` the upper/lower 64 bits as uint64 (IPv4 uses
`lo` only). IPv4 is parsed with pyarrow string kernels (regex + split); the rows that look like IPv6
go through the C library's parser one by one, `ipaddress` deciding the texts it refuses. All functions are pure and
return numpy arrays aligned with their input.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

U64 = np.uint64
ALL_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)

# Dotted quad with no leading zeros: the same rule as ipaddress.IPv4Address (Python >= 3.9.5).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_REGEX = rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"
MAC_REGEX = r"^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$"
_CIDR_REGEX = r"^(?P<addr>[^/]+)/(?P<plen>[0-9]{1,3})$"


def to_arrow(values) -> pa.Array:
    """Any string-like Series/array/list as one pyarrow string array (nulls kept)."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values
    else:
        arr = pa.array(values, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_null(arr.type):
        arr = arr.cast(pa.string())
    return arr


def np_bool(arr) -> np.ndarray:
    """A pyarrow boolean array as numpy, null -> False."""
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


class _Parsed:
    """Validity shared by Addrs and Cidrs (both have `version` and `present`)."""

    @property
    def valid(self) -> np.ndarray:
        return self.version > 0

    @property
    def invalid(self) -> np.ndarray:
        """Present but not parsable (what `ip_invalid` / `cidr_invalid` flag)."""
        return self.present & (self.version == 0)


@dataclass(frozen=True)
class Addrs(_Parsed):
    """Parsed addresses; `version` is 0 where the input is null or not an address."""

    version: np.ndarray  # int8: 0, 4 or 6
    hi: np.ndarray  # uint64
    lo: np.ndarray  # uint64
    present: np.ndarray  # bool: input was not null


def parse_ips(values) -> Addrs:
    arr = to_arrow(values)
    n = len(arr)
    present = np_bool(pc.is_valid(arr))
    is4 = np_bool(pc.match_substring_regex(arr, IPV4_REGEX))
    version = np.zeros(n, dtype=np.int8)
    hi = np.zeros(n, dtype=U64)
    lo = np.zeros(n, dtype=U64)
    if is4.any():
        sub = arr.filter(pa.array(is4))
        parts = pc.cast(pc.list_flatten(pc.split_pattern(sub, ".")), pa.uint64())
        p = parts.to_numpy().reshape(-1, 4)
        lo[is4] = (p[:, 0] << U64(24)) | (p[:, 1] << U64(16)) | (p[:, 2] << U64(8)) | p[:, 3]
        version[is4] = 4
    maybe6 = present & ~is4 & np_bool(pc.match_substring(arr, ":"))
    idx = np.flatnonzero(maybe6)
    if len(idx):
        ok, words = _ipv6_words(arr.take(pa.array(idx)).to_pylist())
        version[idx[ok]] = 6
        hi[idx[ok]] = words[ok, 0]
        lo[idx[ok]] = words[ok, 1]
    return Addrs(version, hi, lo, present)


def _ipv6_words(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(parsed, (n, 2) uint64 upper and lower 64 bits) of IPv6 texts; unparsed rows are 0.

    The C parser (inet_pton, ~20x faster than ipaddress per address) first; a text it refuses
    is decided by ipaddress, whose RFC 4291 parsing is the rule (inet_pton accepted no text
    ipaddress refuses in 258k generated ones, tests/schemas/test_netaddr.py). A zone id
    ('fe80::1%eth0') names an interface of one host, never a stored address: Neutron's
    validator (netaddr) refuses it, so it is invalid here too.
    """
    chunks, ok = [], np.zeros(len(texts), dtype=bool)
    for k, text in enumerate(texts):
        packed = None
        if "%" not in text:
            try:
                packed = socket.inet_pton(socket.AF_INET6, text)
            except (OSError, ValueError):  # ValueError: NUL or non-ASCII characters
                try:
                    packed = ipaddress.IPv6Address(text).packed
                except ValueError:
                    pass
        if packed is not None:
            ok[k] = True
        chunks.append(packed or _ZERO16)
    words = np.frombuffer(b"".join(chunks), dtype=">u8").reshape(-1, 2).astype(U64)
    return ok, words


_ZERO16 = bytes(16)


def as_ints(a: Addrs) -> np.ndarray:
    """Addresses as Python ints in an object array (IPv6 needs 128 bits); -1 where invalid."""
    out = np.full(len(a.version), -1, dtype=object)
    is4 = a.version == 4
    out[is4] = a.lo[is4].tolist()
    for i in np.flatnonzero(a.version == 6):
        out[i] = (int(a.hi[i]) << 64) | int(a.lo[i])
    return out


def low_ones(bits: np.ndarray) -> np.ndarray:
    """uint64 with the lowest `bits` (0..64) bits set."""
    b = np.asarray(bits, dtype=np.int64)
    small = (U64(1) << np.minimum(b, 63).astype(U64)) - U64(1)
    return np.where(b >= 64, ALL_ONES, small).astype(U64)


def host_masks(version: np.ndarray, prefix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hi, lo) masks of the host bits of a prefix; zero where version is 0."""
    width = np.where(version == 6, 128, np.where(version == 4, 32, 0))
    h = np.clip(width - prefix, 0, 128)
    h = np.where(version > 0, h, 0)
    return low_ones(np.clip(h - 64, 0, 64)), low_ones(np.minimum(h, 64))


@dataclass(frozen=True)
class Cidrs(_Parsed):
    """Parsed CIDR blocks; `version` is 0 where null or malformed.

    `hi`/`lo` hold the network address with host bits cleared, so a block with host bits set
    (`host_bits_set`) still has a well-defined range.
    """

    version: np.ndarray
    prefix: np.ndarray  # int16, -1 when invalid
    hi: np.ndarray
    lo: np.ndarray
    host_hi: np.ndarray
    host_lo: np.ndarray
    host_bits_set: np.ndarray
    present: np.ndarray

    @property
    def last_hi(self) -> np.ndarray:
        return self.hi | self.host_hi

    @property
    def last_lo(self) -> np.ndarray:
        return self.lo | self.host_lo


def parse_cidrs(values, require_prefix: bool = True) -> Cidrs:
    """Parse 'addr/len'. With require_prefix=False a bare address means /32 or /128."""
    arr = to_arrow(values)
    present = np_bool(pc.is_valid(arr))
    m = pc.extract_regex(arr, _CIDR_REGEX)
    addr_txt = pc.struct_field(m, "addr")
    plen_txt = pc.struct_field(m, "plen")
    has_slash = np_bool(pc.is_valid(m))
    if not require_prefix:
        addr_txt = pc.if_else(pa.array(has_slash), addr_txt, arr)
    a = parse_ips(addr_txt)
    plen = pc.fill_null(pc.cast(plen_txt, pa.int16()), -1)
    plen = plen.to_numpy(zero_copy_only=False).astype(np.int16)
    width = np.where(a.version == 6, 128, 32)
    if not require_prefix:
        plen = np.where(has_slash, plen, width).astype(np.int16)
    ok = a.valid & (plen >= 0) & (plen <= width)
    version = np.where(ok, a.version, 0).astype(np.int8)
    prefix = np.where(ok, plen, -1).astype(np.int16)
    hh, hl = host_masks(version, prefix)
    hi = np.where(ok, a.hi & ~hh, U64(0)).astype(U64)
    lo = np.where(ok, a.lo & ~hl, U64(0)).astype(U64)
    bits_set = ok & (((a.hi & hh) | (a.lo & hl)) != 0)
    return Cidrs(version, prefix, hi, lo, hh, hl, bits_set, present)


def contains(c: Cidrs, a: Addrs) -> np.ndarray:
    """Row-wise: address a[i] lies in block c[i] (False when either is invalid)."""
    return ((c.version > 0) & (a.version == c.version)
            & ((a.hi & ~c.host_hi) == c.hi) & ((a.lo & ~c.host_lo) == c.lo))


def le(a_hi, a_lo, b_hi, b_lo) -> np.ndarray:
    """(a_hi, a_lo) <= (b_hi, b_lo) as 128-bit unsigned numbers."""
    return (a_hi < b_hi) | ((a_hi == b_hi) & (a_lo <= b_lo))


def eq(a_hi, a_lo, b_hi, b_lo) -> np.ndarray:
    return (a_hi == b_hi) & (a_lo == b_lo)


def fmt(version: int, hi: int, lo: int) -> str:
    """One address as text (for messages on the few failing rows)."""
    if version == 4:
        return str(ipaddress.IPv4Address(int(lo)))
    if version == 6:
        return str(ipaddress.IPv6Address((int(hi) << 64) | int(lo)))
    return "?"


def fmt_network(c: Cidrs, i: int) -> str:
    return f"{fmt(int(c.version[i]), c.hi[i], c.lo[i])}/{int(c.prefix[i])}"


def take(parsed, idx: np.ndarray):
    """Rows `idx` of an Addrs/Cidrs (e.g. a parent table's parsed column aligned to children)."""
    from dataclasses import fields

    return type(parsed)(**{f.name: getattr(parsed, f.name)[idx] for f in fields(parsed)})
