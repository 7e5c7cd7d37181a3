"""Workload ports (VMs, LB VIPs, unbound): one per workload address of each IPv4 subnet, their
roles per project, and the VMs they belong to (multi-NIC VMs)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.synthesize.arrays import run_rank, run_starts, segments
from pipeline.synthesize.context import Context
from pipeline.synthesize.networks import Networks
from pipeline.synthesize.projects import Projects
from pipeline.synthesize.stats import KindTables, hist
from pipeline.synthesize.subnets import DhcpAgents, Subnets4


VM, LB, UB = 0, 1, 2  # role codes: common.WORKLOAD_ROLES order


@dataclass
class Workload:
    """Workload ports in subnet order (the first block of the port table)."""

    subnet: np.ndarray      # IPv4 subnet index
    network: np.ndarray
    project: np.ndarray
    kind: np.ndarray
    ip: np.ndarray          # IPv4 address (integer)
    role: np.ndarray        # VM, LB or UB
    rank: np.ndarray        # position within its project (random order): LB VIPs first, then unbound
    lb_per_project: np.ndarray
    vm_pos: np.ndarray      # rows of the VM ports
    vm_net: np.ndarray      # per VM port: its network
    secondary: np.ndarray   # per VM port: a second NIC of a VM of the project's first network
    vm_of: np.ndarray       # per VM port: its VM
    vm_project: np.ndarray  # per VM
    vm_weight: np.ndarray   # per VM: its ports
    vm_rank: np.ndarray     # per VM: position within its project

    @property
    def count(self) -> int:
        return len(self.subnet)

    @property
    def n_vms(self) -> int:
        return len(self.vm_project)

    def vm_of_port(self) -> np.ndarray:
        """Per workload port: its VM (0 for the ports that are not VMs)."""
        full = np.zeros(self.count, np.int64)
        full[self.vm_pos] = self.vm_of
        return full


def draw_workload(ctx: Context, projects: Projects, networks: Networks, s4: Subnets4,
                  dhcp: DhcpAgents) -> Workload:
    sampler, rng, kind_p = ctx.sampler, ctx.rng, projects.kind
    w_sub, w_r = segments(s4.workload)
    n_workload = len(w_sub)
    w_net = s4.network[w_sub]
    w_proj = networks.project[w_net]
    w_ip = s4.address_of(w_sub, dhcp.start4[w_sub] + w_r)
    n_lb = sampler.ints("lb_vip_per_project", kind_p, 0)
    n_ub = sampler.ints("unbound_per_project", kind_p, 0)
    order = np.lexsort((rng.random(n_workload), w_proj))
    rank = np.empty(n_workload, np.int64)
    rank[order] = run_rank(w_proj[order])
    role = np.where(rank < n_lb[w_proj], LB, np.where(rank < (n_lb + n_ub)[w_proj], UB, VM))
    vm_pos = np.flatnonzero(role == VM)
    vnet = w_net[vm_pos]
    secondary, vm_of = _vm_nics(ctx, projects, networks, vnet)
    vproj = networks.project[vnet]
    vm_proj = vproj[~secondary]
    return Workload(subnet=w_sub, network=w_net, project=w_proj, kind=kind_p[w_proj], ip=w_ip, role=role,
                    rank=rank, lb_per_project=n_lb, vm_pos=vm_pos, vm_net=vnet, secondary=secondary, vm_of=vm_of,
                    vm_project=vm_proj, vm_weight=np.bincount(vm_of, minlength=len(vm_proj)),
                    vm_rank=run_rank(vm_proj))


def _vm_nics(ctx: Context, projects: Projects, networks: Networks, vnet: np.ndarray):
    """(secondary, vm_of) per VM port. Multi-NIC VMs: the j-th VM port of a project's other
    networks joins the j-th VM of its first network, with the learned share of secondary NICs."""
    n_projects, n_networks = projects.count, networks.count
    j = run_rank(vnet)
    vproj = networks.project[vnet]
    net0 = run_starts(networks.per_project)[vproj]
    c_net = np.bincount(vnet, minlength=n_networks)
    elig = (networks.index[vnet] > 0) & (j < c_net[net0])
    q = np.array(ctx.sampler.value("secondary_nic_share", 0.0), np.float64)
    vm_per_p = np.bincount(vproj, minlength=n_projects)
    el_per_p = np.bincount(vproj[elig], minlength=n_projects)
    qp = np.clip(q[projects.kind] * vm_per_p / np.maximum(el_per_p, 1), 0, 1)
    secondary = elig & (ctx.rng.random(len(vnet)) < qp[vproj])
    first_vm_of_net = np.full(n_networks, -1, np.int64)
    first_vm_of_net[vnet[j == 0]] = np.flatnonzero(j == 0)
    primary = np.where(secondary, first_vm_of_net[net0] + j, np.arange(len(vnet)))
    vm_of = np.empty(len(vnet), np.int64)
    prim = ~secondary
    vm_of[prim] = np.arange(int(prim.sum()))
    vm_of[secondary] = vm_of[primary[secondary]]
    return secondary, vm_of


# ---- learning

def learn_stats(d: KindTables) -> dict:
    """LB VIPs and unbound ports per project, secondary NICs, how VMs spread over hosts."""
    ports = d.ports
    roles = ports["role"]
    out = {}
    for role in ("lb_vip", "unbound"):
        out[f"{role}_per_project"] = hist(d.per_project(ports[roles == role]))
    out["other_role_ports"] = int((roles == "other").sum())
    vm = ports[roles == "vm"]
    out["secondary_nic_share"] = (round(1 - vm["device"].nunique() / len(vm), 6) if len(vm) else None)
    out["vm_spread"] = hist(d.spread)
    return out
