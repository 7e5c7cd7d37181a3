"""Tenant networks: per project how many, their attributes, VPC blocks and subnet counts; the
networks table (the external network first, then tenant networks in project order)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.synthesize.arrays import segments, unique_ints
from pipeline.synthesize.common import RANGE_NAMES, SEGMENTATION_RANGES
from pipeline.synthesize.context import Context
from pipeline.synthesize.exclusions import avoid_names
from pipeline.synthesize.projects import Projects
from pipeline.synthesize.sampler import bool_column, int_column, str_column
from pipeline.synthesize.stats import KindTables, hist, share
from pipeline.synthesize.text import (LS, bool_array, concat, const_text, int_array, ip4_text, join_text, num_text,
                                      pick, time_text, where)
from pipeline.util import stripped as _str


# the external network's attributes when the model has none
EXTERNAL_DEFAULT = [["flat", 1500, True, False, True, "ACTIVE"], 1]


@dataclass
class Networks:
    """Tenant networks in project order (network i belongs to project `project[i]`)."""

    per_project: np.ndarray    # networks of each project
    project: np.ndarray
    index: np.ndarray          # position of the network within its project (0 = first)
    kind: np.ndarray
    attrs: list                # sampler columns: type, mtu, port security, shared, admin state, status
    vpc: np.ndarray            # an Alcor VPC (one IPv4 block, its `cidr`)
    vpc_prefix: np.ndarray
    address_range: np.ndarray  # index into common.RFC1918
    v4_subnets: np.ndarray     # IPv4 subnets per network
    v6_subnets: np.ndarray     # IPv6 subnets per network (0 unless dual stack)
    zones: np.ndarray          # availability zones listed (-1: none)

    @property
    def count(self) -> int:
        return len(self.project)


def draw_networks(ctx: Context, projects: Projects) -> Networks:
    sampler, kind_p = ctx.sampler, projects.kind
    n_net = np.maximum(sampler.ints("networks_per_project", kind_p, 1), 0)
    net_proj, net_k = segments(n_net)
    net_kind = kind_p[net_proj]
    net_attr = sampler.cols("network", net_kind, 6, ["vxlan", 1450, True, False, True, "ACTIVE"])
    vpc = sampler.share("vpc_share", net_kind)
    vpc_prefix = np.clip(sampler.ints("vpc_prefix", net_kind, 16), 8, 30)
    (rc, rcats), = sampler.cols("address_range", net_kind, None, "10")
    fam = np.array([RANGE_NAMES.index(v) if v in RANGE_NAMES else 0 for v in rcats], np.int64)[rc]
    n4 = np.maximum(sampler.ints("v4_subnets_per_network", net_kind, 1), 0)
    dual = sampler.share("v6_share", net_kind) & ~vpc
    n6 = np.where(dual, np.maximum(sampler.ints("v6_subnets_per_network", net_kind, 1), 1), 0)
    n_zone = sampler.ints("network_zones", net_kind, -1)
    return Networks(per_project=n_net, project=net_proj, index=net_k, kind=net_kind, attrs=net_attr, vpc=vpc,
                    vpc_prefix=vpc_prefix, address_range=fam, v4_subnets=n4, v6_subnets=n6, zones=n_zone)


def _segmentation(ctx: Context, type_arr: np.ndarray, n_networks: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct segmentation ids per network type, in its valid range (null for other types);
    a shard draws in its own part of the range."""
    seg = np.zeros(n_networks + 1, np.int64)
    seg_null = np.ones(n_networks + 1, bool)
    for tname, (lo, hi) in SEGMENTATION_RANGES.items():
        lo, hi = ctx.part(lo, hi)
        sel = np.flatnonzero(type_arr[:n_networks] == tname)
        if len(sel):
            seg[sel] = unique_ints(ctx.rng, len(sel), lo, hi)
            seg_null[sel] = False
    return seg, seg_null


def _zone_texts(ctx: Context, networks: Networks, zone_names: list[str]) -> tuple[pa.Array, str]:
    """availability_zones per tenant network (one zone: a random one; k zones: the first k),
    and the external network's (all zones)."""
    n_zones, n_networks, n_zone = len(zone_names), networks.count, networks.zones
    zone_start = ctx.rng.integers(0, n_zones, n_networks)
    nz_txt = [json.dumps(zone_names[:k], separators=(",", ":")) for k in range(0, n_zones + 1)]
    single = [json.dumps([z], separators=(",", ":")) for z in zone_names]
    zone_pick = np.where(n_zone == 1, 1 + n_zones + zone_start, np.clip(n_zone, -1, n_zones))
    ztab = [None] + nz_txt + single  # index: -1 -> None via +1 shift
    tenant = pick(ztab, np.where(zone_pick < 0, 0, zone_pick + 1)) if n_networks else pa.array([], LS)
    return tenant, nz_txt[n_zones]


def network_table(ctx: Context, networks: Networks, projects: Projects, net_ids: pa.Array,
                  block_base: np.ndarray, block_prefix: np.ndarray, zone_names: list[str]) -> dict[str, pa.Array]:
    """The networks table; `net_ids` has one id per tenant network then the external network's;
    block_base / block_prefix: each network's address block (its VPC cidr)."""
    n_networks, net_proj, vpc = networks.count, networks.project, networks.vpc
    rng, proj_all = ctx.rng, projects.owners()
    ext_attr = ctx.external.get("network") or [EXTERNAL_DEFAULT]
    ext_row = max(ext_attr, key=lambda x: x[1])[0]
    n_type, n_mtu, n_ps, n_shared, n_admin, n_status = networks.attrs
    types = [None if v is None else str(v) for v in n_type[1]]
    type_arr = np.array(types + [None], dtype=object)[np.concatenate([n_type[0], [len(types)]])]
    type_arr[-1] = ext_row[0]
    seg, seg_null = _segmentation(ctx, type_arr, n_networks)
    physnet = np.isin(type_arr, ["flat", "vlan"])
    ext_phys = float(ctx.external.get("physical_network_share") or 0.0) >= 0.5
    physnet[-1] = ext_phys and ext_row[0] in ("flat", "vlan")
    zones_tenant, zones_external = _zone_texts(ctx, networks, zone_names)
    net_created = rng.integers(0, 365 * 86400, n_networks + 1)
    is_ext = np.arange(n_networks + 1) == n_networks
    tenant_names = (join_text("syn-", projects.token.take(pa.array(net_proj)) if n_networks else pa.array([], LS),
                              "net", num_text(networks.index + 1)))
    t_net = {
        "id": net_ids, "project_id": proj_all.take(pa.array(np.concatenate([net_proj, [projects.count]]))),
        "name": avoid_names(concat([tenant_names, pa.array(["syn-external"], LS)]), ctx.exclude),
        "admin_state_up": concat([bool_column(*n_admin),
                                  bool_array([bool(ext_row[4]) if ext_row[4] is not None else True])]),
        "status": concat([str_column(*n_status), pa.array([ext_row[5]], LS)]),
        "shared": concat([bool_column(*n_shared), bool_array([bool(ext_row[3]) if ext_row[3] is not None else False])]),
        "mtu": concat([int_column(*n_mtu), int_array([int(ext_row[1]) if ext_row[1] is not None else 1500])]),
        "router_external": bool_array(is_ext),
        "port_security_enabled": concat([bool_column(*n_ps),
                                         bool_array([bool(ext_row[2]) if ext_row[2] is not None else True])]),
        "network_type": pa.array(list(type_arr), LS),
        "physical_network": where(physnet, join_text("physnet", num_text(np.where(is_ext, 0, 1))),
                                  const_text(None, n_networks + 1)),
        "segmentation_id": int_array(seg, seg_null),
        "cidr": concat([where(vpc, join_text(ip4_text(block_base), "/", num_text(np.maximum(block_prefix, 0))),
                              const_text(None, n_networks)), const_text(None, 1)]),
        "availability_zones": concat([zones_tenant, pa.array([zones_external], LS)]),
        "created_at": time_text(net_created),
        "updated_at": time_text(net_created + rng.integers(0, 60 * 86400, n_networks + 1)),
    }
    # the external network first (the admin's), then tenant networks in project order
    net_order = np.concatenate([[n_networks], np.arange(n_networks)])
    return {k: v.take(pa.array(net_order)) for k, v in t_net.items()}


# ---- learning

def learn_stats(d: KindTables) -> dict:
    """Networks per project, their attributes, zones, VPC blocks and address ranges."""
    nets = d.networks
    out = {"networks_per_project": hist(d.per_project(nets))}
    out["network"] = hist(pd.DataFrame({
        "type": _str(nets["network_type"]).str.lower().replace("", None),
        "mtu": nets["mtu"], "port_security": nets["port_security_enabled"],
        "shared": nets["shared"], "admin_state_up": nets["admin_state_up"],
        "status": _str(nets["status"]).replace("", None)}))
    out["network_zones"] = hist(nets["n_zones"])
    vpc = nets["vpc_prefix"].notna()
    out["vpc_share"] = share(vpc)
    out["vpc_prefix"] = hist(nets.loc[vpc, "vpc_prefix"])
    out["address_range"] = hist(nets["range"].dropna())
    return out
