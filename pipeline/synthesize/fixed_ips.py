"""port_ips: the fixed IPs of every port, allocated in pool order and unique per subnet.

Workload ports: their IPv4 address, plus one in the network's first IPv6 subnet (dual stack,
at the learned share); DHCP ports: one per DHCP-enabled subnet of their network at the first
pool addresses; router interfaces: the subnet's gateway; external ports: their external IP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.synthesize.arrays import rank_by, run_rank, run_starts, segments
from pipeline.synthesize.blocks import PortBlocks
from pipeline.synthesize.context import Context
from pipeline.synthesize.external import ExternalAddresses
from pipeline.synthesize.subnets import DhcpAgents, SubnetIndex, Subnets4, Subnets6
from pipeline.synthesize.text import LS, concat, hex16_text, int_array, ip4_text, join_text, table_frame
from pipeline.synthesize.workload import Workload


def _workload_v6(ctx: Context, n_networks: int, s6: Subnets6, dhcp: DhcpAgents, workload: Workload):
    """(workload rows, IPv6 subnet, host number) of the workload ports' IPv6 addresses."""
    s6_net, s6_j, w_net = s6.network, s6.index, workload.network
    v6_first = np.full(n_networks, -1, np.int64)
    v6_first[s6_net[s6_j == 0]] = np.flatnonzero(s6_j == 0)
    w_v6 = (v6_first[w_net] >= 0) & ctx.sampler.share("v6_port_share", workload.kind, 1.0)
    w6 = np.flatnonzero(w_v6)
    s6_of = v6_first[w_net[w6]]
    k6 = dhcp.start6[s6_of] + rank_by(s6_of) + 2
    keep6 = k6 <= 0xFFFF
    return w6[keep6], s6_of[keep6], k6[keep6]


def _dhcp_addresses(s4: Subnets4, s6: Subnets6, index: SubnetIndex, dhcp: DhcpAgents, blocks: PortBlocks):
    """(port, ip_index, subnet, k-th pool address) of every DHCP-enabled subnet x its network's agents."""
    sub_net, agents = index.network, dhcp.per_network
    dsub = np.concatenate([np.flatnonzero(s4.dhcp), s4.count + np.flatnonzero(s6.dhcp)])
    dsub = dsub[np.argsort(sub_net[dsub], kind="stable")]
    d_idx = run_rank(sub_net[dsub])
    dd_sub, dd_a = segments(agents[sub_net[dsub]])
    dd_s = dsub[dd_sub]
    dd_port = blocks.dhcp_start + run_starts(agents)[sub_net[dd_s]] + dd_a
    return dd_port, d_idx[dd_sub], dd_s, dd_a


def fixed_ips(ctx: Context, n_networks: int, s4: Subnets4, s6: Subnets6, index: SubnetIndex, dhcp: DhcpAgents,
              workload: Workload, blocks: PortBlocks, interface_subnet: np.ndarray, external: ExternalAddresses,
              ids: dict[str, pa.Array]) -> tuple[pd.DataFrame, pa.Array, pa.Array]:
    """(the port_ips table, address text per workload port, per router interface). ids:
    "ports", "subnets" (tenant IPv4, tenant IPv6, external)."""
    n_subnets4, n_workload, p6_arr, ri_sub = s4.count, workload.count, s6.prefix_text, interface_subnet
    w6, s6_of, k6 = _workload_v6(ctx, n_networks, s6, dhcp, workload)
    dd_port, dd_index, dd_s, dd_a = _dhcp_addresses(s4, s6, index, dhcp, blocks)
    dd4 = dd_s < n_subnets4
    ri4 = ri_sub < n_subnets4
    # (port, ip_index, subnet, address text) per group of addresses
    ip_parts = [
        (np.arange(n_workload), np.zeros(n_workload, np.int64), workload.subnet, ip4_text(workload.ip)),
        (w6, np.ones(len(w6), np.int64), n_subnets4 + s6_of,
         join_text(p6_arr.take(pa.array(s6_of)), "::", hex16_text(k6))),
        (dd_port[dd4], dd_index[dd4], dd_s[dd4], ip4_text(s4.address_of(dd_s[dd4], dd_a[dd4]))),
        (dd_port[~dd4], dd_index[~dd4], dd_s[~dd4],
         join_text(p6_arr.take(pa.array(dd_s[~dd4] - n_subnets4)), "::", hex16_text(dd_a[~dd4] + 2))),
        (blocks.interface_start + np.flatnonzero(ri4), np.zeros(int(ri4.sum()), np.int64), ri_sub[ri4],
         ip4_text(s4.gateway_ip[ri_sub[ri4]])),
        (blocks.interface_start + np.flatnonzero(~ri4), np.zeros(int((~ri4).sum()), np.int64), ri_sub[~ri4],
         join_text(p6_arr.take(pa.array(ri_sub[~ri4] - n_subnets4)), "::1")),
        (blocks.gateway_start + np.arange(blocks.external), np.zeros(blocks.external, np.int64),
         n_subnets4 + s6.count + external.subnet_of, ip4_text(external.ip)),
    ]
    ip_port = np.concatenate([x[0] for x in ip_parts]).astype(np.int64)
    ip_index = np.concatenate([x[1] for x in ip_parts]).astype(np.int64)
    ip_sub = np.concatenate([x[2] for x in ip_parts]).astype(np.int64)
    ip_text = concat([x[3] for x in ip_parts])
    o = np.lexsort((ip_index, ip_port))
    port_ips = {"port_id": ids["ports"].take(pa.array(ip_port[o])), "ip_index": int_array(ip_index[o]),
                "subnet_id": ids["subnets"].take(pa.array(ip_sub[o])), "ip_address": ip_text.take(pa.array(o))}
    return table_frame("port_ips", port_ips), ip_parts[0][3], _ip_text_of(ip_parts, 4, 5, ri4)


def _ip_text_of(parts, i4: int, i6: int, is4: np.ndarray) -> pa.Array:
    """Addresses of rows in two ip_parts entries, back in their original interleaved order."""
    n = len(is4)
    if n == 0:
        return pa.array([], LS)
    pos = np.concatenate([np.flatnonzero(is4), np.flatnonzero(~is4)])
    inv = np.empty(n, np.int64)
    inv[pos] = np.arange(n)
    return concat([parts[i4][3], parts[i6][3]]).take(pa.array(inv))
