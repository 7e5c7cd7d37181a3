"""The ports table: rows of every block (PortBlocks), their per-role attributes, names, device
ids and owners, bindings, MACs, allowed address pairs and Alcor fields."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.synthesize.blocks import PortBlocks
from pipeline.synthesize.common import EXTERNAL_BLOCKS_DOC, EXTERNAL_BULK, INFRA_ROLES, MAC_PREFIX, WORKLOAD_ROLES
from pipeline.synthesize.context import Context
from pipeline.synthesize.exclusions import avoid_names
from pipeline.synthesize.floating_ips import FloatingIPs
from pipeline.synthesize.networks import Networks
from pipeline.synthesize.placement import HostLayout
from pipeline.synthesize.projects import Projects
from pipeline.synthesize.routers import Routers
from pipeline.synthesize.sampler import bool_column, str_column
from pipeline.synthesize.stats import KindTables, hist, share
from pipeline.synthesize.subnets import SubnetIndex, Subnets4
from pipeline.synthesize.text import (LS, bool_array, concat, const_text, ip4_text, join_text, mac_text, num_text,
                                      pick, table_frame, time_text, where)
from pipeline.synthesize.workload import LB, VM, Workload
from pipeline.util import stripped as _str
from schemas.model import ROUTER_INTERFACE_OWNERS


ROLE_NAMES = WORKLOAD_ROLES + INFRA_ROLES  # role code -> name over all ports (workload codes first)


@dataclass
class PortRows:
    """Per port of the table: network (the external one is n_networks), owner project (index
    into Projects.owners()), kind and role code."""

    network: np.ndarray
    project: np.ndarray
    kind: np.ndarray
    role: np.ndarray

    @property
    def count(self) -> int:
        return len(self.network)


def port_rows(ctx: Context, projects: Projects, networks: Networks, index: SubnetIndex, workload: Workload,
              blocks: PortBlocks, dhcp_net: np.ndarray, routers: Routers, fips: FloatingIPs) -> PortRows:
    ri_sub, n_projects = routers.interface_subnet, projects.count
    # external ports belong to the admin project, or to '' where the real data leaves it empty
    ext_owner = n_projects + 1 if float(ctx.external.get("port_project_empty_share") or 0.0) >= 0.5 else n_projects
    p_net = np.concatenate([workload.network, dhcp_net, index.network[ri_sub],
                            np.full(blocks.external, networks.count)])
    p_proj = np.concatenate([workload.project, networks.project[dhcp_net], index.project[ri_sub],
                             np.full(blocks.gateways, ext_owner), np.full(blocks.floating_ips, ext_owner)])
    p_kind = np.concatenate([workload.kind, networks.kind[dhcp_net], index.kind[ri_sub],
                             routers.kind[routers.gateway_routers], fips.kind]).astype(np.int16)
    p_role = np.concatenate([workload.role, np.full(blocks.dhcp, 3), np.full(blocks.router_interfaces, 4),
                             np.full(blocks.gateways, 5), np.full(blocks.floating_ips, 6)])
    return PortRows(network=p_net, project=p_proj, kind=p_kind, role=p_role)


def _attributes(ctx: Context, rows: PortRows) -> tuple[dict[str, pa.Array], np.ndarray, list[np.ndarray]]:
    """(status, admin state, port security, vnic, vif columns; port security as numpy; rows of
    each role). Drawn per role and the port's kind: one code array per column over all ports,
    decoded once from a small category list."""
    attr_cats: list[list] = [[] for _ in range(5)]
    attr_codes = np.zeros((5, rows.count), np.int16)
    role_rows = []
    for r, name in enumerate(ROLE_NAMES):
        sel = np.flatnonzero(rows.role == r)
        role_rows.append(sel)
        drawn = ctx.sampler.cols(("port_attrs", name), rows.kind[sel], 5,
                                 ["ACTIVE", True, name in WORKLOAD_ROLES, "normal",
                                  "ovs" if name in ("vm", "dhcp", "router_interface") else "unbound"])
        for c, (codes, cats) in enumerate(drawn):
            remap = []
            for v in cats:
                if v not in attr_cats[c]:
                    attr_cats[c].append(v)
                remap.append(attr_cats[c].index(v))
            attr_codes[c, sel] = np.array(remap, np.int16)[codes]
    cols = {"status": str_column(attr_codes[0], attr_cats[0]),
            "admin_state_up": bool_column(attr_codes[1], attr_cats[1]),
            "port_security_enabled": bool_column(attr_codes[2], attr_cats[2]),
            "binding_vnic_type": str_column(attr_codes[3], attr_cats[3]),
            "binding_vif_type": str_column(attr_codes[4], attr_cats[4])}
    port_security = np.array([bool(v) for v in attr_cats[2]] or [False])[attr_codes[2]]
    return cols, port_security, role_rows


def _workload_texts(ctx: Context, projects: Projects, networks: Networks, workload: Workload,
                    ids: dict[str, pa.Array], owner_zone: pa.Array):
    """(name, device_id, device_owner, VM number per port) of the workload ports: VMs
    syn-<kind>-vm<n>-eth<k> on compute:<zone>, LB VIPs octavia-lb-<lb id>, unbound syn-...-vip<n>."""
    n_workload, role, w_proj = workload.count, workload.role, workload.project
    vm_pos, secondary = workload.vm_pos, workload.secondary
    w_tok = projects.token.take(pa.array(w_proj)) if n_workload else pa.array([], LS)
    vm_rank_port = np.zeros(n_workload, np.int64)
    vm_rank_port[vm_pos] = workload.vm_rank[workload.vm_of] + 1
    nic = np.zeros(n_workload, np.int64)
    nic[vm_pos[secondary]] = np.minimum(networks.index[workload.vm_net[secondary]], 9)  # ethN: N = network index
    lb_rank = np.zeros(n_workload, np.int64)
    lb_rows = np.flatnonzero(role == LB)
    lb_rank[lb_rows] = np.arange(len(lb_rows))
    ub_rank = workload.rank - workload.lb_per_project[w_proj] + 1
    lb_text = pick(ids["lbs"], np.where(role == LB, lb_rank, -1))
    if not n_workload:
        empty = pa.array([], LS)
        return empty, empty, empty, w_tok, vm_rank_port
    name_w = where(role == VM, join_text("syn-", w_tok, "vm", num_text(vm_rank_port), "-eth", num_text(nic)),
                   where(role == LB, join_text("octavia-lb-", lb_text),
                         join_text("syn-", w_tok, "vip", num_text(ub_rank))))
    dev_w = where(role == VM, pick(ids["vms"], np.where(role == VM, workload.vm_of_port(), -1)),
                  where(role == LB, join_text("lb-", lb_text), const_text("", n_workload)))
    lb_owner = str_column(*ctx.sampler.cols("lb_owner", workload.kind, None, "Octavia")[0])
    owner_w = where(role == VM, join_text("compute:", owner_zone),
                    where(role == LB, lb_owner, const_text("", n_workload)))
    return name_w, dev_w, owner_w, w_tok, vm_rank_port


def _macs(ctx: Context, n_ports: int, salt: int) -> pa.Array:
    """Locally administered MACs: the salt byte, then an affine bijection of the row number."""
    a_mul, a_add = int(ctx.rng.integers(0, 2 ** 31)) * 2 + 1, int(ctx.rng.integers(0, 2 ** 32))
    counter = (np.arange(n_ports, dtype=np.uint64) * np.uint64(a_mul) + np.uint64(a_add)) & np.uint64(0xFFFFFFFF)
    return mac_text(MAC_PREFIX["port"], salt, counter)


def _allowed_address_pairs(ctx: Context, workload: Workload, s4: Subnets4, p_mac: pa.Array, n_ports: int,
                           n_projects: int) -> pa.Array:
    """allowed_address_pairs (VMs and unbound ports): a VIP in the port's subnet or a private
    block per project (e.g. a pod network)."""
    w_kind, w_sub = workload.kind, workload.subnet
    aap = np.zeros(n_ports, bool)
    aap[:workload.count] = (workload.role != LB) & ctx.sampler.share("aap_share", w_kind, 0.0)
    aap_rows = np.flatnonzero(aap)
    p_aap = const_text("[]", n_ports)
    if not len(aap_rows):
        return p_aap
    (ak, akc), = ctx.sampler.cols("aap_kind", w_kind[aap_rows], None, "subnet")
    kind_txt = np.array([str(x) for x in akc], dtype=object)[ak]
    proj_rand = ctx.rng.integers(0, 2 ** 24, n_projects)
    ip = np.empty(len(aap_rows), dtype=object)
    sub_rows = kind_txt == "subnet"
    vip = s4.address_of(w_sub[aap_rows], np.maximum(s4.usable[w_sub[aap_rows]] - 1, 0))
    ip[sub_rows] = np.array(ip4_text(vip[sub_rows]).to_pylist(), dtype=object)
    rest = np.flatnonzero(~sub_rows)
    if len(rest):
        kind_s = np.array([str(x).partition("/")[0] for x in akc], dtype=object)[ak[rest]]
        plen = np.clip(np.array([int(str(x).partition("/")[2] or 32) for x in akc], np.int64)[ak[rest]], 8, 32)
        r = proj_rand[workload.project[aap_rows[rest]]]
        priv = kind_s == "private"
        doc = ~priv & (plen >= 24)
        base = np.where(priv, (10 << 24) | ((r % np.left_shift(np.int64(1), plen - 8)) << (32 - plen)),
                        np.where(doc, EXTERNAL_BLOCKS_DOC[1]
                                 + ((r % np.left_shift(np.int64(1), np.maximum(plen - 24, 0))) << (32 - plen)),
                                 EXTERNAL_BULK[0]))
        plen = np.where(priv | doc, plen, 11)
        text = where(plen < 32, join_text(ip4_text(base), "/", num_text(plen)), ip4_text(base))
        ip[rest] = np.array(text.to_pylist(), dtype=object)
    txt = join_text('[{"ip_address":"', pa.array(ip, LS), '","mac_address":"', p_mac.take(pa.array(aap_rows)), '"}]')
    full = np.full(n_ports, -1, np.int64)
    full[aap_rows] = np.arange(len(aap_rows))
    return where(aap, pick(txt, np.maximum(full, 0)) if len(txt) else p_aap, p_aap)


def port_table(ctx: Context, projects: Projects, networks: Networks, s4: Subnets4, workload: Workload,
               rows: PortRows, blocks: PortBlocks, routers: Routers, layout: HostLayout, host_names: pa.Array,
               port_host: np.ndarray, dhcp: tuple[np.ndarray, np.ndarray], ids: dict[str, pa.Array],
               salt: int) -> tuple[pd.DataFrame, np.ndarray]:
    """(the ports table, port security per port). port_host: host per port (-1: unbound); dhcp:
    (network, agent host) per DHCP port; ids: "ports", "networks", "routers", "floating_ips",
    "vms", "lbs", "agents" (one per network node, then the compute hosts' shared one)."""
    n_ports, n_workload, n_compute, n_netnodes = rows.count, workload.count, layout.n_compute, layout.n_netnodes
    d_net, d_host = dhcp
    attrs, port_security, role_rows = _attributes(ctx, rows)
    # names, device ids and owners per block
    named = np.zeros(n_ports, bool)
    dns_named = np.zeros(n_ports, bool)
    for r, name in enumerate(ROLE_NAMES):
        sel = role_rows[r]
        named[sel] = ctx.sampler.share(("port_named", name), rows.kind[sel], 0.0)
        dns_named[sel] = ctx.sampler.share(("dns_named", name), rows.kind[sel], 0.0)
    owner_zone = pick(pa.array(layout.zone_names, LS), layout.host_zone[np.maximum(port_host[:n_workload], 0)])
    name_w, dev_w, owner_w, w_tok, vm_rank_port = _workload_texts(ctx, projects, networks, workload, ids, owner_zone)
    d_dev = (join_text("dhcp", pick(ids["agents"], np.where(d_host >= n_compute, d_host - n_compute, n_netnodes)), "-",
                       ids["networks"].take(pa.array(d_net))) if blocks.dhcp else pa.array([], LS))
    ri_kind = rows.kind[blocks.interface_start:blocks.gateway_start]
    (ric, ricats), = ctx.sampler.cols("ri_owner", ri_kind, None, "network:router_interface")
    ricats = [c if c in ROUTER_INTERFACE_OWNERS else "network:router_interface" for c in ricats]
    counts = [blocks.dhcp, blocks.router_interfaces, blocks.gateways, blocks.floating_ips]
    name_other = join_text("syn-", pick(["dhcp", "rif", "gw", "fip"], np.repeat([0, 1, 2, 3], counts)), "-",
                           num_text(np.concatenate([np.arange(c) for c in counts]) + 1))
    p_name = where(named, concat([name_w, name_other]), const_text("", n_ports)) if n_ports else pa.array([], LS)
    vm_dns = concat([join_text("syn-", w_tok, "vm", num_text(vm_rank_port)), const_text("", n_ports - n_workload)])
    p_dns = where(dns_named & (rows.role == VM), vm_dns, const_text("", n_ports)) if n_ports else pa.array([], LS)
    p_dev = concat([dev_w, d_dev, ids["routers"].take(pa.array(routers.interface_router)),
                    ids["routers"].take(pa.array(routers.gateway_routers)), ids["floating_ips"]])
    p_owner = concat([owner_w, const_text("network:dhcp", blocks.dhcp), str_column(ric, ricats),
                      const_text("network:router_gateway", blocks.gateways),
                      const_text("network:floatingip", blocks.floating_ips)])
    unbound = n_compute + n_netnodes  # the '' after the host names
    p_host = concat([host_names, pa.array([""], LS)]).take(pa.array(np.where(port_host >= 0, port_host, unbound)))
    p_mac = _macs(ctx, n_ports, salt)
    p_aap = _allowed_address_pairs(ctx, workload, s4, p_mac, n_ports, projects.count)
    # Alcor-style ports (in VPC networks): veth name derived from the port id, fast path flag
    alcor = np.zeros(n_ports, bool)
    in_vpc = np.concatenate([networks.vpc, [False]])[rows.network]
    alcor[in_vpc] = ctx.sampler.share("alcor_port_share", rows.kind[in_vpc], 0.0)
    port_ids = ids["ports"]
    p_veth = (where(alcor, join_text("veth", pc.utf8_slice_codeunits(port_ids, 0, 11)), const_text(None, n_ports))
              if n_ports else pa.array([], LS))
    fast = alcor & ctx.sampler.share("fast_path_share", rows.kind, 0.0)
    created = ctx.rng.integers(0, 2 * 365 * 86400, n_ports)
    updated = created + ctx.rng.integers(0, 60 * 86400, n_ports)
    ports = {
        "id": port_ids, "network_id": ids["networks"].take(pa.array(rows.network)),
        "project_id": projects.owners().take(pa.array(rows.project)),
        "name": avoid_names(p_name, ctx.exclude), "mac_address": p_mac, "device_id": p_dev, "device_owner": p_owner,
        **attrs, "binding_host_id": p_host, "dns_name": avoid_names(p_dns, ctx.exclude),
        "allowed_address_pairs": p_aap, "veth_name": p_veth, "fast_path": bool_array(np.ones(n_ports, bool), ~fast),
        "created_at": time_text(created), "updated_at": time_text(updated),
    }
    return table_frame("ports", ports), port_security


# ---- learning

def learn_stats(d: KindTables) -> dict:
    """Per role: attributes, named shares; dual-stack ports, LB owners, allowed address pairs,
    Alcor ports."""
    ports = d.ports
    roles = ports["role"]
    work = ports[roles.isin(WORKLOAD_ROLES)]
    dual = work["dual_stack"]
    out = {"v6_port_share": share(work.loc[dual, "has_v6"]) if dual.any() else None}
    out["port_attrs"], out["port_named"], out["dns_named"] = {}, {}, {}
    # the text columns read once, then cut per role (per role they cost 5 conversions x roles)
    attrs = pd.DataFrame({
        "status": _str(ports["status"]).replace("", None), "admin_state_up": ports["admin_state_up"],
        "port_security": ports["port_security_enabled"],
        "vnic_type": _str(ports["binding_vnic_type"]).replace("", None),
        "vif_type": _str(ports["binding_vif_type"]).replace("", None)})
    named, dns_named = _str(ports["name"]) != "", _str(ports["dns_name"]) != ""
    for role in ROLE_NAMES:
        of_role = (roles == role).to_numpy(dtype=bool)
        out["port_attrs"][role] = hist(attrs[of_role])
        out["port_named"][role] = share(named[of_role])
        out["dns_named"][role] = share(dns_named[of_role])
    out["lb_owner"] = hist(ports.loc[roles == "lb_vip", "device_owner"])
    out["aap_share"] = share(work["n_aap"] > 0)
    out["aap_pairs"] = hist(work.loc[work["n_aap"] > 0, "n_aap"])
    out["aap_kind"] = hist(d.aap_kinds)
    in_vpc = ports["in_vpc"]
    out["alcor_port_share"] = share(ports.loc[in_vpc, "alcor"]) if in_vpc.any() else None
    alc = ports[ports["alcor"]]
    out["fast_path_share"] = share(alc["fast_path"].fillna(False).astype(bool)) if len(alc) else None
    return out
