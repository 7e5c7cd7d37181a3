"""Placement: compute hosts in zones and racks, network nodes, which host each port binds to,
and the hosts table.

Compute hosts get target loads drawn from the learned VM ports per compute host (busy ones
clustered into racks); a project spans as many hosts as learned for its kind, its slots drawn
along a "capacity line" so busy hosts attract more projects; the NICs of a VM share its host;
`max_ports_per_host` is enforced by moving whole VMs (and single network ports) off full hosts.
Network nodes (as many per compute host as learned) carry the DHCP, router interface and gateway
ports where the real data binds them there. Host i < n_compute is a compute host, the rest are
network nodes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.params import default
from pipeline.synthesize.arrays import run_starts, segments
from pipeline.synthesize.blocks import PortBlocks
from pipeline.synthesize.common import BINDINGS, INFRA_ROLES, MAC_PREFIX, SynthParamsError, UNDERLAY, WORKLOAD_ROLES
from pipeline.synthesize.context import Context
from pipeline.synthesize.exclusions import clashes
from pipeline.synthesize.projects import Projects
from pipeline.synthesize.sampler import int_values
from pipeline.synthesize.stats import hist, share
from pipeline.synthesize.text import (LS, concat, const_text, int_array, ip4_text, join_text, mac_text, num_text,
                                      pick, where)
from pipeline.synthesize.workload import LB, UB, VM, Workload
from pipeline.util import stripped as _str


@dataclass
class HostLayout:
    """Compute hosts: zones of racks of `hosts_per_rack` hosts (the learned usual rack size);
    then `n_netnodes` network nodes, spread over the zones."""

    n_compute: int
    n_netnodes: int
    zone_names: list[str]
    hosts_per_rack: int
    zone: np.ndarray     # per compute host
    rack: np.ndarray     # per compute host: rack within its zone
    slot: np.ndarray     # per compute host: position within its rack
    rack_id: np.ndarray  # per compute host: rack over all zones

    @property
    def n_zones(self) -> int:
        return len(self.zone_names)

    @property
    def n_hosts(self) -> int:
        return self.n_compute + self.n_netnodes

    @property
    def netnode_zone(self) -> np.ndarray:
        return np.arange(self.n_netnodes, dtype=np.int64) % self.n_zones

    @property
    def netnode_index(self) -> np.ndarray:
        """Position of each network node within its zone."""
        return np.arange(self.n_netnodes, dtype=np.int64) // self.n_zones

    @property
    def host_zone(self) -> np.ndarray:
        return np.concatenate([self.zone, self.netnode_zone])

    @property
    def rack_width(self) -> int:
        """Digits of rack numbers in names."""
        return max(3, len(str(int(self.rack.max()) + 1 if self.n_compute else 1)))


def host_layout(ctx: Context) -> HostLayout:
    n_compute, n_zones = ctx.settings["hosts"], ctx.settings["zones"]
    hpr_h = ctx.infra.get("hosts_per_rack") or []
    fab = (ctx.params or {}).get("fabric") or {}
    if hpr_h:
        hpr = int(max(hpr_h, key=lambda x: (x[1], -x[0]))[0])
    else:
        hpr = int(fab.get("hosts_per_rack") or default("fabric.hosts_per_rack"))
    hpr = max(1, hpr)
    zc = np.array([n_compute // n_zones + (z < n_compute % n_zones) for z in range(n_zones)], np.int64)
    h_zone, h_in_zone = segments(zc)
    h_rack = h_in_zone // hpr
    rack_id = run_starts(-(-zc // hpr))[h_zone] + h_rack
    ratio_nn = float(ctx.infra.get("netnode_ratio") or 0.0)
    n_netnodes = max(1, int(round(ratio_nn * n_compute))) if ratio_nn > 0 else 0
    return HostLayout(n_compute=n_compute, n_netnodes=n_netnodes, zone_names=[f"az{z + 1}" for z in range(n_zones)],
                      hosts_per_rack=hpr, zone=h_zone, rack=h_rack, slot=h_in_zone % hpr, rack_id=rack_id)


def load_targets(ctx: Context, layout: HostLayout) -> np.ndarray:
    """Host load: each compute host gets a target load drawn from the learned VM ports per
    compute host, heavier targets clustered into racks (noisily), as schedulers fill racks."""
    rng, n_compute, rack_id = ctx.rng, layout.n_compute, layout.rack_id
    load_h = ctx.infra.get("vm_ports_per_compute_host") or []
    tgt = (np.array([float(v) for v, _ in load_h])[ctx.sampler._idx(load_h, n_compute)] if load_h
           else np.ones(n_compute))
    tgt = np.sort(tgt)[::-1]
    racks_order = rng.permutation(int(rack_id.max()) + 1 if n_compute else 0)
    rank_of_rack = np.empty(len(racks_order), np.int64)
    rank_of_rack[racks_order] = np.arange(len(racks_order))
    slot_order = np.lexsort((rng.random(n_compute), rank_of_rack[rack_id])) if n_compute else np.zeros(0, np.int64)
    noisy = np.argsort(-(np.log1p(tgt) + rng.normal(0.0, 0.5, n_compute)), kind="stable")
    load_target = np.empty(n_compute, np.float64)
    load_target[slot_order] = tgt[noisy]
    if load_target.sum() <= 0:
        load_target[:] = 1.0
    return load_target


def place_vms(ctx: Context, projects: Projects, workload: Workload, layout: HostLayout,
              load_target: np.ndarray | None = None, capacity: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """(host per VM, room left per host) with every VM fitted under max_ports_per_host.

    load_target: the hosts' target loads (default: drawn here, `load_targets`); capacity:
    ports each host may take (default: max_ports_per_host each). A shard passes the data
    center's load targets and its own part of the capacity (generate.py).

    The capacity line: host h is a segment of length load_target[h] (twice over, to wrap).
    A project spans H_p hosts (H_p as learned for its kind: a rack for packed kinds, a zone
    for spread ones): its H_p slots are evenly spaced points (one average host apart) from a
    random start, so busy hosts are hit more often; a slot landing on the host of the previous
    one moves on to the next host (a running max per project), keeping the H_p hosts distinct.
    The first H_p VMs take one slot each; further VMs (packed kinds) go to the hosts between
    the first and last slot in proportion to their load targets."""
    rng, n_compute, n_projects = ctx.rng, layout.n_compute, projects.count
    vm_proj, vm_rank, n_vms = workload.vm_project, workload.vm_rank, workload.n_vms
    if load_target is None:
        load_target = load_targets(ctx, layout)
    (sv, svc), (sh, shc) = ctx.sampler.cols("vm_spread", projects.kind, 2, [1, 1])
    ratio = int_values(sh, shc, 1) / np.maximum(int_values(sv, svc, 1), 1)
    v_p = np.bincount(vm_proj, minlength=n_projects)
    h_p = np.where(v_p > 0, np.clip(np.rint(ratio * v_p), 1, np.maximum(np.minimum(v_p, n_compute), 1)),
                   0).astype(np.int64)
    cum2 = np.cumsum(np.concatenate([load_target, load_target]))
    line = cum2[n_compute - 1]
    s_proj, s_k = segments(h_p)
    start_p = rng.random(n_projects) * line if n_projects else np.zeros(0)
    hk = np.searchsorted(cum2, start_p[s_proj] + (s_k + 0.5) * (line / n_compute), side="right")
    big = 4 * n_compute
    hu = np.maximum.accumulate(hk - s_k + s_proj * big) - s_proj * big + s_k if len(hk) else hk
    hu = np.minimum(hu, 2 * n_compute - 1)
    first_slot = run_starts(h_p)
    vh = h_p[vm_proj]
    s0 = hu[first_slot[vm_proj]] if n_vms else np.zeros(0, np.int64)
    s1 = hu[first_slot[vm_proj] + np.maximum(vh - 1, 0)] if n_vms else np.zeros(0, np.int64)
    lo = np.where(s0 > 0, cum2[np.maximum(s0 - 1, 0)], 0.0)
    extra = np.clip(np.searchsorted(cum2, lo + rng.random(n_vms) * (cum2[s1] - lo), side="right"), s0, s1)
    vm_host = np.where(vm_rank < vh,
                       hu[first_slot[vm_proj] + np.minimum(vm_rank, np.maximum(vh - 1, 0))] if n_vms else 0,
                       extra) % n_compute
    room = (np.full(layout.n_hosts, ctx.settings["max_ports_per_host"], np.int64) if capacity is None
            else np.array(capacity, np.int64))
    if n_vms:
        vm_host = _fit(vm_host, workload.vm_weight, room[:n_compute], "VMs")  # updates room[:n_compute]
    return vm_host, room


def host_names(ctx: Context, layout: HostLayout) -> pa.Array:
    """az<z>-r<rack>-h<slot> (compute) and az<z>-r001-n<k> (network nodes); prefixed syn- when
    such a name is a real host's."""
    rack_w, nn_zone = layout.rack_width, layout.netnode_zone

    def names(prefix: str) -> pa.Array:
        comp = join_text(prefix, "az", num_text(layout.zone + 1),
                         "-r", pc.utf8_lpad(num_text(layout.rack + 1), rack_w, "0"),
                         "-h", pc.utf8_lpad(num_text(layout.slot + 1), 4, "0"))
        nn = join_text(prefix, "az", num_text(nn_zone + 1), "-r",
                       pc.utf8_lpad(num_text(np.zeros(layout.n_netnodes, np.int64) + 1), rack_w, "0"),
                       "-n", pc.utf8_lpad(num_text(layout.netnode_index + 1), 4, "0"))
        return concat([comp, nn])

    names_h = names("")
    for attempt in range(1, 9):
        if not clashes(names_h, ctx.exclude.hosts if ctx.exclude else None).any():
            break
        names_h = names("syn-" if attempt == 1 else f"syn{attempt}-")
    return names_h


def _bind(ctx: Context, layout: HostLayout, role_name: str, n: int) -> np.ndarray:
    """Hosts of n ports of a role: compute, network node or none (-1), as learned for the role."""
    rng, n_compute, n_netnodes = ctx.rng, layout.n_compute, layout.n_netnodes
    h = (ctx.infra.get("binding") or {}).get(role_name) or []
    cats = [x[0] for x in h] or ["none"]
    cat = (np.array([BINDINGS.index(c) if c in BINDINGS else 2 for c in cats])[ctx.sampler._idx(h, n)]
           if h and n else np.full(n, 2))
    cat = np.where((cat == 1) & (n_netnodes == 0), 0, cat)
    host = np.where(cat == 0, rng.integers(0, n_compute, n) if n else 0,
                    np.where(cat == 1, n_compute + (rng.integers(0, max(n_netnodes, 1), n) if n else 0), -1))
    return host.astype(np.int64)


def bind_ports(ctx: Context, layout: HostLayout, workload: Workload, vm_host: np.ndarray, blocks: PortBlocks,
               room: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(host per port of the port table (-1: unbound), host drawn per DHCP port before fitting:
    its agent). A VM's ports go to its host; the others bind as learned per role, moved off full
    hosts one by one (`room` is updated)."""
    role = workload.role
    w_host = np.full(workload.count, -1, np.int64)
    w_host[workload.vm_pos] = vm_host[workload.vm_of]
    for code, name in ((LB, "lb_vip"), (UB, "unbound")):
        sel = np.flatnonzero(role == code)
        w_host[sel] = _bind(ctx, layout, name, len(sel))
    d_host = _bind(ctx, layout, "dhcp", blocks.dhcp)
    ri_host = _bind(ctx, layout, "router_interface", blocks.router_interfaces)
    g_host = _bind(ctx, layout, "router_gateway", blocks.gateways)
    f_host = _bind(ctx, layout, "floating_ip", blocks.floating_ips)
    all_host = np.concatenate([w_host, d_host, ri_host, g_host, f_host])
    bound_other = np.flatnonzero((all_host >= 0) & (np.concatenate([role != VM, np.ones(blocks.infrastructure, bool)])))
    if len(bound_other):
        all_host[bound_other] = _fit(all_host[bound_other], np.ones(len(bound_other), np.int64), room,
                                     "network ports")
    return all_host, d_host


def host_table(ctx: Context, layout: HostLayout, names_h: pa.Array, host_ids: pa.Array,
               salt: int) -> dict[str, pa.Array]:
    """The hosts table: underlay addresses per rack (network nodes in racks of their own),
    Alcor agents, DVR MACs and NCMs at the learned shares."""
    rng, infra, n_zones = ctx.rng, ctx.infra, layout.n_zones
    n_compute, n_netnodes, n_hosts, hpr = layout.n_compute, layout.n_netnodes, layout.n_hosts, layout.hosts_per_rack
    nn_zone, nn_k, host_zone = layout.netnode_zone, layout.netnode_index, layout.host_zone
    zone_arr = pa.array(layout.zone_names, LS)
    hosts_per_zone = np.bincount(layout.zone, minlength=n_zones)
    rack_global = run_starts(-(-hosts_per_zone // hpr))[layout.zone] + layout.rack
    n_racks = int(rack_global.max()) + 1 if n_compute else 0
    if n_racks + n_zones <= UNDERLAY[1] // 256 and hpr + 10 <= 254 and (n_netnodes // n_zones + 10) <= 254:
        ip_c = UNDERLAY[0] + (rack_global << 8) + 10 + layout.slot
        ip_n = UNDERLAY[0] + ((n_racks + nn_zone) << 8) + 10 + nn_k
        host_ip = np.concatenate([ip_c, ip_n])
    else:
        host_ip = UNDERLAY[0] + 1 + np.arange(n_hosts)
    alcor_share = float(infra.get("alcor_host_share") or 0.0)
    alcor_h = rng.random(n_hosts) < alcor_share
    sp_h = infra.get("server_port") or [[50001, 1]]
    server_port = int(max(sp_h, key=lambda x: x[1])[0])
    dvr = rng.random(n_hosts) < float(infra.get("dvr_mac_share") or 0.0)
    ncm = alcor_h & (rng.random(n_hosts) < (float(infra.get("ncm_share") or 0.0)
                                            / max(float(infra.get("alcor_host_share") or 1.0), 1e-9)))
    hcount = np.arange(n_hosts, dtype=np.uint64)
    return {
        "id": host_ids, "node_name": names_h, "local_ip": ip4_text(host_ip),
        "mac_address": mac_text(MAC_PREFIX["host"], salt, hcount),
        "veth": where(alcor_h, const_text("veth0", n_hosts), const_text(None, n_hosts)),
        "server_port": int_array(np.full(n_hosts, server_port), ~alcor_h),
        "host_dvr_mac": where(dvr, mac_text(MAC_PREFIX["dvr"], salt, hcount), const_text(None, n_hosts)),
        "ncm_id": where(ncm, join_text("syn-ncm-", pick(zone_arr, host_zone)), const_text(None, n_hosts)),
        "availability_zone": pick(zone_arr, host_zone),
        "rack": join_text("r", pc.utf8_lpad(num_text(np.concatenate([layout.rack + 1, np.ones(n_netnodes, np.int64)])),
                                            layout.rack_width, "0")),
    }


# ---- learning

def learn_infra(hosts: pd.DataFrame, ports: pd.DataFrame, n_projects: int) -> dict:
    """Hosts, network nodes (hosts with bound ports but no VM), zones, rack sizes, host load,
    where each role binds, Alcor / DVR / NCM shares."""
    hosts = hosts.assign(node_name=_str(hosts["node_name"]))
    bound = ports[_str(ports["binding_host_id"]) != ""]
    vm_hosts = set(_str(bound.loc[bound["role"] == "vm", "binding_host_id"]))
    port_hosts = set(_str(bound["binding_host_id"]))
    netnodes = (port_hosts - vm_hosts) & set(hosts["node_name"])
    n_compute = max(len(hosts) - len(netnodes), 0)
    rack = _str(hosts["rack"])
    zone = _str(hosts["availability_zone"])
    inferred = hosts["node_name"].str.rsplit("-", n=1).str[0].where(hosts["node_name"].str.contains("-"), "")
    key = np.where(rack != "", zone + "/" + rack, inferred.fillna(""))
    rk = pd.Series(key)
    rk = rk[rk != ""]
    zones_seen = set(zone[zone != ""])
    owners_s = _str(ports["device_owner"])
    zones_seen |= set(owners_s[owners_s.str.startswith("compute:")].str[len("compute:"):]) - {""}
    per_host = _str(bound["binding_host_id"]).value_counts().reindex(hosts["node_name"], fill_value=0)
    cat = np.where(_str(ports["binding_host_id"]) == "", "none",
                   np.where(_str(ports["binding_host_id"]).isin(vm_hosts), "compute", "netnode"))
    binding = {}
    for role in WORKLOAD_ROLES + INFRA_ROLES:
        binding[role] = hist(pd.Series(cat[(ports["role"] == role).to_numpy()]))
    alcor_hosts = hosts[_str(hosts["veth"]) != ""]
    return {
        "hosts": int(len(hosts)),
        "compute_hosts": int(n_compute),
        "network_nodes": int(len(netnodes)),
        "netnode_ratio": round(len(netnodes) / n_compute, 6) if n_compute else 0.0,
        "zones": int(len(zones_seen)) or 1,
        "hosts_per_rack": hist(rk.value_counts()) if rk.duplicated().any() else [],
        "ports_per_host": hist(per_host),
        # VM ports on each compute host (idle ones count 0): the shape of host load
        "vm_ports_per_compute_host": hist(
            _str(bound.loc[bound["role"] == "vm", "binding_host_id"]).value_counts()
            .reindex(sorted(set(hosts["node_name"]) - netnodes), fill_value=0)),
        "binding": binding,
        "projects_per_compute_host": round(n_projects / n_compute, 6) if n_compute else None,
        "alcor_host_share": share(_str(hosts["veth"]) != ""),
        "server_port": hist(alcor_hosts["server_port"].dropna()),
        "dvr_mac_share": share(_str(hosts["host_dvr_mac"]) != ""),
        "ncm_share": share(_str(hosts["ncm_id"]) != ""),
    }


# ---- capacity

def _fit(host: np.ndarray, weight: np.ndarray, room: np.ndarray, what: str) -> np.ndarray:
    """Move units (VMs, ports) off hosts they would overfill, onto hosts with room.

    Units keep their host in order until it is full; the rest are laid, in order, on a line of
    the remaining room per host, each host's room shortened by (largest unit - 1) so no unit
    straddles past a host's capacity. `room` is updated in place."""
    host = host.copy()
    if len(host) == 0:
        return host
    order = np.argsort(host, kind="stable")
    h_sorted = host[order]
    w_sorted = weight[order]
    cum = np.cumsum(w_sorted)
    start = run_starts(np.bincount(h_sorted, minlength=len(room)))
    before = np.concatenate([[0], cum])[start]  # cumulative weight before each host's run
    over = (cum - before[h_sorted]) > room[h_sorted]
    kept = ~over
    load = np.bincount(h_sorted[kept], weights=w_sorted[kept], minlength=len(room)).astype(np.int64)
    room -= load
    if not over.any():
        return host
    ev = order[over]
    need = weight[ev]
    eff = np.maximum(room - (int(weight.max()) - 1), 0)
    if need.sum() > eff.sum():
        raise SynthParamsError(f"synthesize.max_ports_per_host is too small for the {what}: "
                               f"raise it or the number of hosts")
    line = np.cumsum(eff)
    starts = np.cumsum(need) - need
    dest = np.searchsorted(line, starts, side="right")
    host[ev] = dest
    room -= np.bincount(dest, weights=need, minlength=len(room)).astype(np.int64)
    return host
