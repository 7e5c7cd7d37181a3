"""Subnets: IPv4 subnets and the address plan, IPv6 subnets, DHCP agents per network, and the
subnets and allocation_pools tables.

Address plan: each network gets one aligned block (its VPC `cidr` when it is an Alcor VPC, else
the smallest power of two holding its subnets) in the learned RFC 1918 range, packed largest
first; subnets of a network are packed largest first inside its block. Pools start at the
learned offset, one or two of them (around a gap); the gateway is the first host."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.synthesize.arrays import run_rank, run_starts, segments
from pipeline.synthesize.common import PRIVATE_DNS, PRIVATE_DNS6, PUBLIC_DNS, PUBLIC_DNS6, RFC1918
from pipeline.synthesize.context import Context
from pipeline.synthesize.exclusions import avoid_names
from pipeline.synthesize.networks import Networks
from pipeline.synthesize.projects import Projects
from pipeline.synthesize.sampler import int_values, str_column
from pipeline.synthesize.stats import KindTables, hist, share
from pipeline.synthesize.text import (LS, bool_array, concat, const_text, int_array, ip4_text, join_text, num_text,
                                      pick, where)
from pipeline.util import stripped as _str


DNS_POOLS = {"private": PRIVATE_DNS, "public": PUBLIC_DNS, "private6": PRIVATE_DNS6, "public6": PUBLIC_DNS6}


@dataclass
class Subnets4:
    """IPv4 subnets in network order, placed in the address plan."""

    network: np.ndarray
    prefix: np.ndarray
    workload: np.ndarray      # workload ports to place in the subnet
    gateway: np.ndarray       # has a gateway_ip (its first host)
    dhcp: np.ndarray          # enable_dhcp
    pool_offset: np.ndarray   # first pool address - subnet address
    dns: tuple                # (codes, patterns) of the learned DNS server pattern
    size: np.ndarray          # addresses in the subnet
    two_pools: np.ndarray
    gap_at: np.ndarray        # pool position where the gap between two pools starts
    gap_len: np.ndarray
    usable: np.ndarray        # addresses in the pools
    address: np.ndarray       # subnet address (integer)
    block_base: np.ndarray    # per network: its block's address
    block_prefix: np.ndarray  # per network: its block's prefix length (-1: no block)

    @property
    def count(self) -> int:
        return len(self.network)

    @property
    def gateway_ip(self) -> np.ndarray:
        return self.address + 1

    def address_of(self, sub: np.ndarray, k: np.ndarray) -> np.ndarray:
        """The k-th pool address of subnets `sub` (skipping the gap)."""
        return self.address[sub] + self.pool_offset[sub] + k + (k >= self.gap_at[sub]) * self.gap_len[sub]


@dataclass
class Subnets6:
    """IPv6 subnets: a random RFC 4193 /48 per dual-stack network (fd<shard>:... when sharded),
    /64 subnets in it."""

    network: np.ndarray
    index: np.ndarray       # j-th IPv6 subnet of its network
    modes: list             # sampler columns: ipv6_address_mode, ipv6_ra_mode
    gateway: np.ndarray
    dhcp: np.ndarray
    prefix_text: pa.Array   # "fdxx:xxxx:xxxx:j" (the /64 without "::")
    pool_end: list[str]

    @property
    def count(self) -> int:
        return len(self.network)


@dataclass
class DhcpAgents:
    """DHCP ports: per network `per_network` agents, one IP in each DHCP-enabled subnet at the
    first pool addresses (workload addresses start after them)."""

    per_network: np.ndarray
    start4: np.ndarray      # per IPv4 subnet: first pool position left for workload ports
    start6: np.ndarray      # per IPv6 subnet: the same


@dataclass
class SubnetIndex:
    """All tenant subnets in one index space: IPv4 [0, n4), IPv6 [n4, n4 + n6)."""

    network: np.ndarray
    project: np.ndarray
    kind: np.ndarray
    gateway: np.ndarray

    @property
    def count(self) -> int:
        return len(self.network)


def draw_subnets4(ctx: Context, networks: Networks) -> Subnets4:
    sampler, rng = ctx.sampler, ctx.rng
    s4_net, _ = segments(networks.v4_subnets)
    n_subnets4 = len(s4_net)
    s4_kind = networks.kind[s4_net]
    (pc_, pcats), (wc, wcats) = sampler.cols("subnet_v4", s4_kind, 2, [24, 10])
    prefix = np.clip(int_values(pc_, pcats, 24), 8, 30)
    work = int_values(wc, wcats, 0).astype(np.float64)
    # a little multiplicative noise: sizes like the real ones, not copies of them
    work = np.maximum(np.rint(work * np.exp(rng.normal(0.0, 0.1, n_subnets4))), 0).astype(np.int64)
    gw4 = sampler.share("gateway_share", s4_kind, 1.0)
    dhcp4 = sampler.share("enable_dhcp_v4", s4_kind, 1.0)
    poff = sampler.ints("pool_offset", s4_kind, 2)
    npool = sampler.ints("pools_per_subnet", s4_kind, 1)
    dns = sampler.cols("dns", s4_kind, None, "")[0]
    size = np.left_shift(np.int64(1), 32 - prefix)
    lo_min = np.where(gw4, 2, 1)
    poff = np.where((poff < lo_min) | (poff > size - 2), lo_min, poff)
    pool_len = size - 1 - poff
    two = (npool >= 2) & (pool_len >= 8)
    gap_at = np.where(two, pool_len * 45 // 100, pool_len)
    gap_len = np.where(two, np.maximum(1, pool_len * 15 // 100), 0)
    address, block_base, block_prefix = _address_plan(ctx, networks, s4_net, size)
    return Subnets4(network=s4_net, prefix=prefix, workload=work, gateway=gw4, dhcp=dhcp4, pool_offset=poff,
                    dns=dns, size=size, two_pools=two, gap_at=gap_at, gap_len=gap_len, usable=pool_len - gap_len,
                    address=address, block_base=block_base, block_prefix=block_prefix)


def address_ranges(ctx: Context) -> list[tuple[int, int]]:
    """(base, bits) of the RFC 1918 ranges this plan packs into. A shard of K packs into its own
    aligned 1/2^ceil(log2 K) of each range: shards never share an address (until a single
    network block is larger than a shard's part of 10/8)."""
    if ctx.shard is None or not ctx.sharded:
        return list(RFC1918)
    cut = int(np.ceil(np.log2(ctx.shards)))
    return [(base + (ctx.shard << (bits - cut)), bits - cut) for base, bits in RFC1918]


def _address_plan(ctx: Context, networks: Networks, s4_net: np.ndarray, size: np.ndarray):
    """(subnet addresses, block address per network, block prefix per network)."""
    n_networks, n_subnets4, vpc = networks.count, len(s4_net), networks.vpc
    # subnets of a network packed largest first inside the network's block (aligned: sizes are
    # powers of two and decreasing)
    order = np.lexsort((-size, s4_net))
    sz = size[order]
    cs = np.cumsum(sz) - sz
    grp_first = run_starts(np.bincount(s4_net, minlength=n_networks))
    inner = np.empty(n_subnets4, np.int64)
    inner[order] = cs - cs[np.minimum(grp_first[s4_net[order]], max(n_subnets4 - 1, 0))] if n_subnets4 else cs
    total = np.bincount(s4_net, weights=size, minlength=n_networks).astype(np.int64)
    env = np.where(total > 0, np.left_shift(np.int64(1), np.ceil(np.log2(np.maximum(total, 1))).astype(np.int64)), 0)
    vpc_size = np.left_shift(np.int64(1), 32 - networks.vpc_prefix)
    block = np.where(vpc, np.maximum(vpc_size, env), env)
    slots = np.where(vpc & (env > 0), block // np.maximum(env, 1), 1)
    slot_off = np.floor(ctx.rng.random(n_networks) * slots).astype(np.int64) * env
    ranges = address_ranges(ctx)
    pool_size = np.array([1 << b for _, b in ranges], np.int64)
    fam = np.where(block > pool_size[networks.address_range], 0, networks.address_range)
    net_base = np.zeros(n_networks, np.int64)
    for f, (base, bits) in enumerate(ranges):
        sel = np.flatnonzero((fam == f) & (block > 0))
        if not len(sel):
            continue
        sel = sel[np.lexsort((sel, -block[sel]))]
        off = np.cumsum(block[sel]) - block[sel]
        net_base[sel] = base + off % (1 << bits)  # wraps around once the range is full
    block_prefix = np.where(block > 0, 32 - np.log2(np.maximum(block, 1)).astype(np.int64), -1)
    return net_base[s4_net] + slot_off[s4_net] + inner, net_base, block_prefix


def draw_subnets6(ctx: Context, networks: Networks) -> Subnets6:
    sampler, rng, n_networks = ctx.sampler, ctx.rng, networks.count
    s6_net, s6_j = segments(networks.v6_subnets)
    s6_kind = networks.kind[s6_net]
    v6_modes = sampler.cols("v6_modes", s6_kind, 2, [None, None])
    gw6 = sampler.share("gateway_share", s6_kind, 1.0)
    dhcp6 = sampler.share("enable_dhcp_v6", s6_kind, 1.0)
    g = rng.integers(0, 256, n_networks) | 0xFD00
    if ctx.shard is not None and ctx.sharded:
        g[:] = 0xFD00 | ctx.shard  # the ULA's first random byte is the shard: disjoint prefixes
    h1 = rng.integers(1, 65536, n_networks)
    h2 = rng.integers(1, 65536, n_networks)
    p6 = [f"{g[n]:x}:{h1[n]:x}:{h2[n]:x}" + (f":{j:x}" if j else "") for n, j in zip(s6_net, s6_j)]
    s6_end = [f"{g[n]:x}:{h1[n]:x}:{h2[n]:x}:{j:x}:ffff:ffff:ffff:ffff" for n, j in zip(s6_net, s6_j)]
    return Subnets6(network=s6_net, index=s6_j, modes=v6_modes, gateway=gw6, dhcp=dhcp6,
                    prefix_text=pa.array(p6, LS), pool_end=s6_end)


def draw_dhcp_agents(ctx: Context, networks: Networks, s4: Subnets4, s6: Subnets6) -> DhcpAgents:
    """DHCP agents per network; also caps each IPv4 subnet's workload to the addresses left."""
    sampler, n_networks = ctx.sampler, networks.count
    has_dhcp_sub = (np.bincount(s4.network, weights=s4.dhcp, minlength=n_networks)
                    + np.bincount(s6.network, weights=s6.dhcp, minlength=n_networks)) > 0
    agents = np.where(has_dhcp_sub & sampler.share("dhcp_share", networks.kind, 1.0),
                      np.maximum(sampler.ints("dhcp_ports_per_network", networks.kind, 1), 1), 0)
    min_usable = np.full(n_networks, 1 << 40, np.int64)
    np.minimum.at(min_usable, s4.network[s4.dhcp], s4.usable[s4.dhcp])
    agents = np.minimum(agents, np.maximum(min_usable, 0))
    start4 = np.where(s4.dhcp, agents[s4.network], 0)
    start6 = np.where(s6.dhcp, agents[s6.network], 0)
    s4.workload = np.clip(s4.workload, 0, np.maximum(s4.usable - start4, 0))
    return DhcpAgents(per_network=agents, start4=start4, start6=start6)


def subnet_index(projects: Projects, networks: Networks, s4: Subnets4, s6: Subnets6) -> SubnetIndex:
    sub_net = np.concatenate([s4.network, s6.network])
    sub_proj = networks.project[sub_net]
    return SubnetIndex(network=sub_net, project=sub_proj, kind=projects.kind[sub_proj],
                       gateway=np.concatenate([s4.gateway, s6.gateway]))


def _dns_texts(patterns: list) -> list[str]:
    """dns_nameservers JSON per learned pattern ("private,public6": fixed documentation addresses)."""
    out = []
    for pattern in patterns:
        parts, cnt = [], {"private": 0, "public": 0, "private6": 0, "public6": 0}
        for p in [x for x in str(pattern or "").split(",") if x]:
            pool = DNS_POOLS.get(p)
            if pool:
                parts.append(pool[cnt[p] % len(pool)])
                cnt[p] += 1
        out.append(json.dumps(parts, separators=(",", ":")))
    return out


def subnet_tables(ctx: Context, projects: Projects, s4: Subnets4, s6: Subnets6, index: SubnetIndex,
                  ext_block: np.ndarray, ids: dict[str, pa.Array], subnet_router: np.ndarray,
                  attached_router_id: np.ndarray) -> tuple[dict[str, pa.Array], dict[str, pa.Array]]:
    """(subnets, allocation_pools). Subnets by network, IPv4 before IPv6, the external network's
    /24s (`ext_block`) last. ids: "subnets" (tenant then external), "networks" (tenant then
    external), "routers"; subnet_router / attached_router_id: per tenant subnet, its router and
    whether the subnet names it (Alcor)."""
    n_subnets4, n_subnets6, n_ext_sub = s4.count, s6.count, len(ext_block)
    n_tenant, p6_arr = n_subnets4 + n_subnets6, s6.prefix_text
    sub_ver = np.concatenate([np.full(n_subnets4, 4), np.full(n_subnets6, 6)])
    so = np.lexsort((sub_ver, index.network))
    sub_rank = np.empty(n_tenant, np.int64)
    sub_rank[so] = run_rank(index.project[so])
    ext_o = np.arange(n_ext_sub)
    cidr_all = concat([join_text(ip4_text(s4.address), "/", num_text(s4.prefix)), join_text(p6_arr, "::/64"),
                       join_text(ip4_text(ext_block), "/24")])
    gw_txt = concat([where(s4.gateway, ip4_text(s4.gateway_ip), const_text(None, n_subnets4)),
                     (where(s6.gateway, join_text(p6_arr, "::1"), const_text(None, n_subnets6)) if n_subnets6
                      else pa.array([], LS)),
                     ip4_text(ext_block + 1)])
    dns4c, dnscats = s4.dns
    dns_txt = concat([pick(_dns_texts(dnscats), dns4c), const_text("[]", n_subnets6 + n_ext_sub)])
    v6am, v6ra = s6.modes
    ext_dhcp = float(ctx.external.get("enable_dhcp_share") or 0.0)
    sub_all_proj = np.concatenate([index.project, np.full(n_ext_sub, projects.count)])
    sub_all_net = np.concatenate([index.network, np.full(n_ext_sub, len(ids["networks"]) - 1)])
    tokens = projects.token.take(pa.array(index.project)) if n_tenant else pa.array([], LS)
    sub_names = concat([join_text("syn-", tokens, "sn", num_text(sub_rank + 1)),
                        join_text("syn-ext", num_text(ext_o + 1))])
    router_ids = ids["routers"]
    att_txt = concat([where(attached_router_id, router_ids.take(pa.array(np.maximum(subnet_router, 0)))
                            if len(router_ids) else const_text(None, n_tenant), const_text(None, n_tenant)),
                      const_text(None, n_ext_sub)])
    t_sub = {
        "id": ids["subnets"], "network_id": ids["networks"].take(pa.array(sub_all_net)),
        "project_id": projects.owners().take(pa.array(sub_all_proj)), "name": avoid_names(sub_names, ctx.exclude),
        "cidr": cidr_all, "ip_version": int_array(np.concatenate([sub_ver, np.full(n_ext_sub, 4)])),
        "gateway_ip": gw_txt,
        "enable_dhcp": bool_array(np.concatenate([s4.dhcp, s6.dhcp, np.full(n_ext_sub, ext_dhcp >= 0.5)])),
        "host_routes": const_text("[]", n_tenant + n_ext_sub), "dns_nameservers": dns_txt,
        "ipv6_address_mode": concat([const_text(None, n_subnets4), str_column(*v6am), const_text(None, n_ext_sub)]),
        "ipv6_ra_mode": concat([const_text(None, n_subnets4), str_column(*v6ra), const_text(None, n_ext_sub)]),
        "attached_router_id": att_txt,
    }
    sub_order = np.concatenate([so, n_tenant + ext_o])
    t_sub = {k: v.take(pa.array(sub_order)) for k, v in t_sub.items()}
    return t_sub, _pool_table(s4, s6, ext_block, ids["subnets"], sub_order)


def _pool_table(s4: Subnets4, s6: Subnets6, ext_block: np.ndarray, sub_ids: pa.Array,
                sub_order: np.ndarray) -> dict[str, pa.Array]:
    """Pools: IPv4 one or two (around a gap), IPv6 one, external one; in subnet table order."""
    n_subnets4, n_subnets6, n_ext_sub = s4.count, s6.count, len(ext_block)
    s4_addr, size, two = s4.address, s4.size, s4.two_pools
    p0_start = s4_addr + s4.pool_offset
    p0_end = np.where(two, p0_start + s4.gap_at - 1, s4_addr + size - 2)
    p1_start = p0_start + s4.gap_at + s4.gap_len
    p1_end = s4_addr + size - 2
    two_idx = np.flatnonzero(two)
    pool_sub = np.concatenate([np.arange(n_subnets4), two_idx, n_subnets4 + np.arange(n_subnets6),
                               n_subnets4 + n_subnets6 + np.arange(n_ext_sub)])
    pool_i = np.concatenate([np.zeros(n_subnets4, np.int64), np.ones(len(two_idx), np.int64),
                             np.zeros(n_subnets6 + n_ext_sub, np.int64)])
    pool_start = concat([ip4_text(p0_start), ip4_text(p1_start[two_idx]), join_text(s6.prefix_text, "::2"),
                         ip4_text(ext_block + 2)])
    pool_end = concat([ip4_text(p0_end), ip4_text(p1_end[two_idx]), pa.array(s6.pool_end, LS),
                       ip4_text(ext_block + 254)])
    pos_of_sub = np.empty(n_subnets4 + n_subnets6 + n_ext_sub, np.int64)
    pos_of_sub[sub_order] = np.arange(len(sub_order))
    po = np.lexsort((pool_i, pos_of_sub[pool_sub]))
    return {"subnet_id": sub_ids.take(pa.array(pool_sub[po])), "pool_index": int_array(pool_i[po]),
            "start": pool_start.take(pa.array(po)), "end": pool_end.take(pa.array(po))}


# ---- learning

def learn_stats(d: KindTables) -> dict:
    """IPv4/IPv6 subnets per network, (prefix, workload ports) per IPv4 subnet, IPv6 modes,
    DHCP, gateways, pools, DNS pattern, DHCP ports per network."""
    nets, subs = d.networks, d.subnets
    out = {}
    vpc = nets["vpc_prefix"].notna()
    v4 = subs[subs["version"] == 4]
    v6 = subs[subs["version"] == 6]
    out["v4_subnets_per_network"] = hist(v4.groupby("network_id").size().reindex(nets["id"], fill_value=0))
    n6 = v6.groupby("network_id").size().reindex(nets["id"], fill_value=0)
    # an Alcor VPC is one IPv4 block: IPv6 is learned (and generated) on the other networks
    out["v6_share"] = share(n6[~vpc.to_numpy()] > 0)
    out["v6_subnets_per_network"] = hist(n6[n6 > 0])
    out["v6_prefix"] = hist(v6["prefix"])
    out["v6_modes"] = hist(pd.DataFrame({"address_mode": _str(v6["ipv6_address_mode"]).replace("", None),
                                         "ra_mode": _str(v6["ipv6_ra_mode"]).replace("", None)}))
    out["subnet_v4"] = hist(pd.DataFrame({"prefix": v4["prefix"], "workload_ports": v4["workload"]}))
    out["enable_dhcp_v4"] = share(v4["enable_dhcp"].fillna(False).astype(bool))
    out["enable_dhcp_v6"] = share(v6["enable_dhcp"].fillna(False).astype(bool))
    out["gateway_share"] = share(subs["gateway"])
    out["pool_offset"] = hist(v4["pool_offset"].dropna())
    out["pools_per_subnet"] = hist(subs["n_pools"])
    out["dns"] = hist(subs["dns"])
    out["host_routes_share"] = share(subs["n_routes"] > 0)
    dh = nets[nets["has_dhcp_subnet"]]
    out["dhcp_share"] = share(dh["n_dhcp"] > 0)
    out["dhcp_ports_per_network"] = hist(dh.loc[dh["n_dhcp"] > 0, "n_dhcp"])
    return out
