"""Floating IPs: per project how many, which workload ports they target (eligible: behind a
router with a gateway, by the learned propensity of each role), the floating_ips table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.synthesize.arrays import run_rank, segments
from pipeline.synthesize.common import WORKLOAD_ROLES
from pipeline.synthesize.context import Context
from pipeline.synthesize.external import ExternalAddresses
from pipeline.synthesize.projects import Projects
from pipeline.synthesize.routers import Routers
from pipeline.synthesize.sampler import str_column
from pipeline.synthesize.stats import KindTables, hist, share
from pipeline.synthesize.text import LS, const_text, ip4_text, pick, where
from pipeline.synthesize.workload import Workload
from pipeline.util import stripped as _str


@dataclass
class FloatingIPs:
    """Floating IPs in project order."""

    project: np.ndarray
    port: np.ndarray  # workload port it is associated with (-1: unassociated)
    kind: np.ndarray

    @property
    def count(self) -> int:
        return len(self.project)


def _propensity(ctx: Context) -> np.ndarray:
    """(kind, workload role) -> the learned floating IPs per eligible port."""
    prop = np.zeros((len(ctx.kinds), 3))
    for k, kind in enumerate(ctx.kinds):
        d = ctx.sampler.get(kind, "fip_propensity") or {}
        for r, name in enumerate(WORKLOAD_ROLES):
            prop[k, r] = float(d.get(name) or 0.0)
    return prop


def draw_floating_ips(ctx: Context, projects: Projects, workload: Workload, routers: Routers) -> FloatingIPs:
    sampler, rng, kind_p = ctx.sampler, ctx.rng, projects.kind
    n_workload, w_proj = workload.count, workload.project
    n_fip = sampler.ints("fips_per_project", kind_p, 0)
    un = np.array(sampler.value("fip_unassociated_share", 0.0), np.float64)
    n_unassoc = rng.binomial(n_fip, un[kind_p]) if projects.count else np.zeros(0, np.int64)
    want = n_fip - n_unassoc
    w_router = routers.subnet_router[workload.subnet]
    w_elig = (w_router >= 0) & routers.gateway[np.maximum(w_router, 0)] if routers.count else np.zeros(n_workload, bool)
    wp = _propensity(ctx)[workload.kind, workload.role]
    # weighted sampling without replacement per project (Efraimidis-Spirakis keys)
    key = np.where(w_elig & (wp > 0), rng.random(n_workload) ** (1.0 / np.maximum(wp, 1e-12)), -1.0)
    order = np.lexsort((-key, w_proj))
    frank = np.empty(n_workload, np.int64)
    frank[order] = run_rank(w_proj[order])
    f_target = np.flatnonzero((key >= 0) & (frank < want[w_proj]))
    del key, frank, wp, order  # per-port temporaries: 5M ports make each one 40 MB
    f_un_proj, _ = segments(n_unassoc)
    f_proj = np.concatenate([w_proj[f_target], f_un_proj])
    f_port = np.concatenate([f_target, np.full(len(f_un_proj), -1, np.int64)])
    o = np.argsort(f_proj, kind="stable")
    f_proj, f_port = f_proj[o], f_port[o]
    return FloatingIPs(project=f_proj, port=f_port, kind=kind_p[f_proj])


def floating_ip_table(ctx: Context, fips: FloatingIPs, projects: Projects, workload: Workload, routers: Routers,
                      external: ExternalAddresses, ids: dict[str, pa.Array],
                      workload_ip_text: pa.Array) -> dict[str, pa.Array]:
    """ids: "floating_ips", "networks" (the external network last), "ports", "routers"."""
    n_fips, f_port, n_workload = fips.count, fips.port, workload.count
    f_assoc = f_port >= 0
    (fsa, fsac), = ctx.sampler.cols("fip_status_associated", fips.kind, None, "ACTIVE")
    (fsu, fsuc), = ctx.sampler.cols("fip_status_unassociated", fips.kind, None, "DOWN")
    f_status = where(f_assoc, str_column(fsa, fsac), str_column(fsu, fsuc)) if n_fips else pa.array([], LS)
    w_router = routers.subnet_router[workload.subnet]
    return {
        "id": ids["floating_ips"], "project_id": projects.ids.take(pa.array(fips.project)),
        "floating_network_id": ids["networks"].take(pa.array(np.full(n_fips, len(ids["networks"]) - 1))),
        "floating_ip_address": ip4_text(external.ip[external.n_gateways:]),
        "fixed_ip_address": pick(workload_ip_text, f_port) if n_workload else const_text(None, n_fips),
        "port_id": pick(ids["ports"], f_port),
        "router_id": (pick(ids["routers"], np.where(f_assoc, w_router[np.maximum(f_port, 0)], -1))
                      if (n_workload and routers.count) else const_text(None, n_fips)),
        "status": f_status,
    }


# ---- learning

def prepare_floating_ips(tables: dict[str, pd.DataFrame], ports: pd.DataFrame) -> pd.DataFrame:
    """floating_ips with target_role: the role of the port each one is associated with."""
    fips = tables["floating_ips"].copy()
    fips["project_id"] = _str(fips["project_id"])
    fips["port_id"] = _str(fips["port_id"]).replace("", None)
    fips["target_role"] = fips["port_id"].map(ports.set_index("id")["role"])
    return fips


def learn_stats(d: KindTables) -> dict:
    """Floating IPs per project, unassociated share, status, and per workload role the floating
    IPs per eligible port (behind a router with a gateway)."""
    fips, ports = d.floating_ips, d.ports
    out = {"fips_per_project": hist(d.per_project(fips))}
    assoc = fips["port_id"].notna()
    out["fip_unassociated_share"] = share(~assoc) if len(fips) else None
    out["fip_status_associated"] = hist(_str(fips.loc[assoc, "status"]).replace("", None))
    out["fip_status_unassociated"] = hist(_str(fips.loc[~assoc, "status"]).replace("", None))
    work = ports[ports["role"].isin(WORKLOAD_ROLES)]
    elig = work[work["eligible"]]
    tgt = fips.loc[assoc, "target_role"].value_counts()
    prop = {}
    for role in WORKLOAD_ROLES:
        n_el = int((elig["role"] == role).sum())
        if n_el:
            prop[role] = round(float(tgt.get(role, 0)) / n_el, 6)
    out["fip_propensity"] = prop
    return out
