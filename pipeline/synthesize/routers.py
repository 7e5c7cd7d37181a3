"""Routers per project, which subnets they attach (router interfaces), which have an external
gateway; the routers and router_interfaces tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.synthesize.arrays import run_starts, segments
from pipeline.synthesize.blocks import PortBlocks
from pipeline.synthesize.context import Context
from pipeline.synthesize.exclusions import avoid_names
from pipeline.synthesize.external import ExternalAddresses
from pipeline.synthesize.networks import Networks
from pipeline.synthesize.projects import Projects
from pipeline.synthesize.sampler import bool_column, str_column
from pipeline.synthesize.stats import KindTables, hist, share
from pipeline.synthesize.subnets import SubnetIndex
from pipeline.synthesize.text import LS, bool_array, const_text, ip4_text, join_text, num_text, pick, where
from pipeline.util import stripped as _str


@dataclass
class Routers:
    """Routers in project order, and per tenant subnet (SubnetIndex) the router it attaches to."""

    project: np.ndarray
    index: np.ndarray               # position within its project
    kind: np.ndarray
    attrs: list                     # sampler columns: admin state, status, distributed, ha
    gateway: np.ndarray             # has an external gateway
    snat: np.ndarray
    subnet_router: np.ndarray       # per subnet: its router (-1: not attached)
    interface_subnet: np.ndarray    # per router interface: its subnet
    attached_router_id: np.ndarray  # per subnet: names its router (Alcor VPC subnets)

    @property
    def count(self) -> int:
        return len(self.project)

    @property
    def gateway_routers(self) -> np.ndarray:
        """Routers with a gateway: one gateway port each, in router order."""
        return np.flatnonzero(self.gateway)

    @property
    def interface_router(self) -> np.ndarray:
        return self.subnet_router[self.interface_subnet]


def draw_routers(ctx: Context, projects: Projects, networks: Networks, index: SubnetIndex) -> Routers:
    sampler, kind_p = ctx.sampler, projects.kind
    n_rt = np.maximum(sampler.ints("routers_per_project", kind_p, 0), 0)
    r_proj, r_k = segments(n_rt)
    r_kind = kind_p[r_proj]
    r_attr = sampler.cols("router", r_kind, 4, [True, "ACTIVE", False, False])
    r_gw = sampler.share("gateway_router_share", r_kind, 1.0)
    r_snat = sampler.share("snat_share", r_kind, 1.0)
    r_start = run_starts(n_rt)
    sub_proj = index.project
    attached = index.gateway & (n_rt[sub_proj] > 0) & sampler.share("attach_share", index.kind, 1.0)
    sub_router = np.where(attached, r_start[sub_proj] + np.floor(ctx.rng.random(index.count)
                                                                 * np.maximum(n_rt[sub_proj], 1)).astype(np.int64), -1)
    sub_vpc = networks.vpc[index.network]
    att_rid = attached & sub_vpc & sampler.share("attached_router_id_share", index.kind, 0.0)
    return Routers(project=r_proj, index=r_k, kind=r_kind, attrs=r_attr, gateway=r_gw, snat=r_snat,
                   subnet_router=sub_router, interface_subnet=np.flatnonzero(attached), attached_router_id=att_rid)


def router_table(ctx: Context, routers: Routers, projects: Projects, external: ExternalAddresses,
                 ids: dict[str, pa.Array], n_tenant_subnets: int) -> dict[str, pa.Array]:
    """ids: "routers", "networks" (the external network last), "subnets" (external ones after
    the n_tenant_subnets tenant ones)."""
    n_routers, n_gateways, r_gw = routers.count, external.n_gateways, routers.gateway
    ext_net = len(ids["networks"]) - 1
    g_ext = external.subnet_of[:n_gateways]
    efi = join_text('[{"ip_address":"', ip4_text(external.ip[:n_gateways]), '","subnet_id":"',
                    ids["subnets"].take(pa.array(n_tenant_subnets + g_ext)), '"}]')
    gw_of_router = np.full(n_routers, -1, np.int64)
    gw_of_router[routers.gateway_routers] = np.arange(n_gateways)
    ra, rs, rd, rh = routers.attrs
    names = join_text("syn-", projects.token.take(pa.array(routers.project)) if n_routers else pa.array([], LS),
                      "router", num_text(routers.index + 1))
    return {
        "id": ids["routers"], "project_id": projects.ids.take(pa.array(routers.project)),
        "name": avoid_names(names, ctx.exclude),
        "admin_state_up": bool_column(*ra), "status": str_column(*rs),
        "distributed": bool_column(*rd), "ha": bool_column(*rh),
        "gateway_network_id": (where(r_gw, ids["networks"].take(pa.array(np.full(n_routers, ext_net))),
                                     const_text(None, n_routers)) if n_routers else pa.array([], LS)),
        "enable_snat": bool_array(routers.snat, ~r_gw),
        "external_fixed_ips": (where(r_gw, pick(efi, np.maximum(gw_of_router, 0)) if n_gateways
                                     else const_text("[]", n_routers), const_text("[]", n_routers))
                               if n_routers else pa.array([], LS)),
        "routes": const_text("[]", n_routers),
    }


def interface_table(routers: Routers, index: SubnetIndex, blocks: PortBlocks, ids: dict[str, pa.Array],
                    ip_text: pa.Array) -> dict[str, pa.Array]:
    """router_interfaces: one port per attached subnet (the interface block of the port table)."""
    ri_sub = routers.interface_subnet
    ri_port = blocks.interface_start + np.arange(blocks.router_interfaces)
    return {"port_id": ids["ports"].take(pa.array(ri_port)),
            "router_id": ids["routers"].take(pa.array(routers.interface_router)),
            "network_id": ids["networks"].take(pa.array(index.network[ri_sub])),
            "subnet_id": ids["subnets"].take(pa.array(ri_sub)), "ip_address": ip_text}


# ---- learning

def learn_stats(d: KindTables) -> dict:
    """Routers per project, their attributes, gateways, SNAT, which subnets they attach."""
    rts, subs = d.routers, d.subnets
    out = {"routers_per_project": hist(d.per_project(rts))}
    out["router"] = hist(pd.DataFrame({"admin_state_up": rts["admin_state_up"],
                                       "status": _str(rts["status"]).replace("", None),
                                       "distributed": rts["distributed"], "ha": rts["ha"]}))
    out["gateway_router_share"] = share(rts["has_gw"])
    gw = rts[rts["has_gw"]]
    out["snat_share"] = share(gw["enable_snat"].fillna(True).astype(bool)) if len(gw) else None
    cand = subs[subs["gateway"] & subs["project_has_router"]]
    out["attach_share"] = share(cand["attached"]) if len(cand) else None
    out["ri_owner"] = hist(d.ri_owners)
    att_vpc = subs[subs["attached"] & subs["in_vpc"]]
    out["attached_router_id_share"] = share(att_vpc["attached_router_id"].notna()) if len(att_vpc) else None
    return out
