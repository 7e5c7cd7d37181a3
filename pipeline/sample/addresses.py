"""Address bookkeeping: blocks carved into subnets, allocation pools handing out addresses."""

from __future__ import annotations

import ipaddress
import random


class Space:
    """An address block carved, in order, into aligned non-overlapping subnets."""

    def __init__(self, block: str):
        self.block = ipaddress.ip_network(block)
        self.cursor = int(self.block.network_address)

    def _start(self, prefixlen: int) -> tuple[int, int]:
        size = 1 << (self.block.max_prefixlen - prefixlen)
        return -(-self.cursor // size) * size, size

    def has_room(self, prefixlen: int, spare: int = 0) -> bool:
        start, size = self._start(prefixlen)
        return start + size + spare - 1 <= int(self.block.broadcast_address)

    def take(self, prefixlen: int, rng: random.Random | None = None):
        start, size = self._start(prefixlen)
        if rng is not None and rng.random() < 0.2 and self.has_room(prefixlen, size):
            start += size  # a gap, as left by a deleted subnet
        if start + size - 1 > int(self.block.broadcast_address):
            raise ValueError(f"{self.block} exhausted")
        self.cursor = start + size
        return self.block.__class__((start, prefixlen))

    def spare_address(self, offset: int) -> str:
        """An address beyond everything carved so far (in no subnet); reserved from now on."""
        a = self.cursor + offset
        if a > int(self.block.broadcast_address):
            raise ValueError(f"{self.block} has no spare address")
        self.cursor = a + 1
        return str(self.block.network_address.__class__(a))


class Pool:
    """Allocation pools of one subnet; hands out addresses like Neutron's IPAM."""

    def __init__(self, cidr, ranges):
        self.cls = type(cidr.network_address)
        self.ranges = [(int(a), int(b)) for a, b in ranges]
        self.used: set[int] = set()
        self.cursor = self.ranges[0][0]

    def capacity(self) -> int:
        return sum(b - a + 1 for a, b in self.ranges) - len(self.used)

    def first(self) -> str:
        a = self.ranges[0][0]
        assert a not in self.used
        self.used.add(a)
        return str(self.cls(a))

    def alloc(self, rng: random.Random, skip: float = 0.06) -> str:
        # Walk forward leaving random holes (ports deleted since), then fall back to any gap.
        for lo, hi in self.ranges:
            a = max(lo, self.cursor)
            while a <= hi:
                if a not in self.used and rng.random() >= skip:
                    self.used.add(a)
                    self.cursor = a + 1
                    return str(self.cls(a))
                a += 1
        for lo, hi in self.ranges:
            for a in range(lo, hi + 1):
                if a not in self.used:
                    self.used.add(a)
                    return str(self.cls(a))
        raise RuntimeError("allocation pool exhausted")


def default_pools(cidr, rng: random.Random | None) -> list[tuple]:
    """Neutron's default pool (gateway excluded), sometimes with reserved or split ranges."""
    n, size = int(cidr.network_address), cidr.num_addresses
    last = n + size - (2 if cidr.version == 4 else 1)
    cls = type(cidr.network_address)
    r = rng.random() if rng is not None else 1.0
    if cidr.version == 4 and size >= 256 and r < 0.05:
        return [(cls(n + 2), cls(n + 99)), (cls(n + 150), cls(last))]
    if cidr.version == 4 and size >= 64 and r < 0.2:
        return [(cls(n + 10), cls(last))]
    return [(cls(n + 2), cls(last))]


def pool_capacity(prefixlen: int) -> int:
    """Addresses the smallest pool default_pools may give an IPv4 subnet of this size."""
    size = 1 << (32 - prefixlen)
    return size - 62 if size >= 256 else size - 12 if size >= 64 else size - 3
