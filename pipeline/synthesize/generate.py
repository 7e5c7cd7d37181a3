"""Generation: a synthetic data center from a model (see the package docstring).

`generate` orchestrates the families, each a module with its draws (`draw_*`, returning a
dataclass of arrays) and its tables (`*_table`, returning arrow columns):

    projects -> networks -> subnets (IPv4 plan, IPv6, DHCP agents) -> workload ports
    -> placement (hosts, VMs) -> routers -> floating IPs (+ external addresses) -> bindings
    -> security groups -> ids -> tables (ports, fixed IPs, subnets, networks, routers,
    floating IPs, groups, hosts, labels) -> fabric

Every step draws from its own random stream (`Context.step(name)`: the seed and the step's
name): a step that draws more, fewer or later leaves the other steps' output as it was; the
ids of each table come from their own stream too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.synthesize.arrays import segments
from pipeline.synthesize.blocks import PortBlocks
from pipeline.synthesize.common import MAC_PREFIX, MODEL_FORMAT, SynthParamsError
from pipeline.synthesize.context import Context, step_rng
from pipeline.synthesize.exclusions import Exclusions, IdDrawer
from pipeline.synthesize.external import ExternalAddresses, external_addresses
from pipeline.synthesize.fixed_ips import fixed_ips
from pipeline.synthesize.floating_ips import FloatingIPs, draw_floating_ips, floating_ip_table
from pipeline.synthesize.networks import Networks, draw_networks, network_table
from pipeline.synthesize.params import checked_params
from pipeline.synthesize.placement import HostLayout, bind_ports, host_layout, host_names, host_table, place_vms
from pipeline.synthesize.ports import port_rows, port_table
from pipeline.synthesize.projects import Projects, draw_projects, labels_table
from pipeline.synthesize.routers import Routers, draw_routers, interface_table, router_table
from pipeline.synthesize.sampler import Sampler
from pipeline.synthesize.security_groups import SecurityGroups, draw_security_groups, group_tables, port_groups_table
from pipeline.synthesize.subnets import (DhcpAgents, SubnetIndex, Subnets4, Subnets6, draw_dhcp_agents,
                                         draw_subnets4, draw_subnets6, subnet_index, subnet_tables)
from pipeline.synthesize.text import table_frame, with_provenance
from pipeline.synthesize.workload import LB, Workload, draw_workload
from schemas.model import TABLES, conform


STEPS = ("plan", "networks", "subnets", "ports", "routers", "floating IPs", "hosts",
         "security groups", "tables", "fabric")


def _draw_ids(ctx: Context, sizes: dict[str, int]) -> dict[str, pa.Array]:
    """Seeded UUIDs per table, each table from its own stream (one table's count does not
    shift another's ids)."""
    return {name: ctx.step(f"ids.{name}").ids.uuids(n) for name, n in sizes.items()}


def _mac_salt(ctx: Context) -> int:
    """MACs: locally administered, a salt byte no real MAC uses, a bijective counter (unique)."""
    used = ctx.exclude.mac_prefixes if ctx.exclude else frozenset()
    salts = [s for s in ctx.rng.permutation(256) if all(f"{MAC_PREFIX[k]:02x}:{s:02x}" not in used for k in MAC_PREFIX)]
    if not salts:
        raise RuntimeError("every locally administered MAC prefix is used by the real data")
    return int(salts[0])


@dataclass
class Plan:
    """Everything drawn before the tables are written: the families' results."""

    projects: Projects
    networks: Networks
    subnets4: Subnets4
    subnets6: Subnets6
    dhcp: DhcpAgents
    workload: Workload
    layout: HostLayout
    index: SubnetIndex
    routers: Routers
    floating_ips: FloatingIPs
    external: ExternalAddresses
    blocks: PortBlocks
    host_names: pa.Array
    port_host: np.ndarray  # host per port of the port table (-1: unbound)
    dhcp_net: np.ndarray   # network per DHCP port
    dhcp_host: np.ndarray  # host drawn per DHCP port (its agent), before fitting
    groups: SecurityGroups


def _plan(ctx: Context, tick: Callable[[str], None]) -> Plan:
    tick("plan")
    projects = draw_projects(ctx.step("projects"))
    tick("networks")
    networks = draw_networks(ctx.step("networks"), projects)
    tick("subnets")
    s4 = draw_subnets4(ctx.step("subnets4"), networks)
    s6 = draw_subnets6(ctx.step("subnets6"), networks)
    dhcp = draw_dhcp_agents(ctx.step("dhcp_agents"), networks, s4, s6)
    tick("ports")
    workload = draw_workload(ctx.step("workload"), projects, networks, s4, dhcp)
    layout = host_layout(ctx.step("host_layout"))
    vm_host, room = place_vms(ctx.step("vm_placement"), projects, workload, layout)
    tick("routers")
    index = subnet_index(projects, networks, s4, s6)
    routers = draw_routers(ctx.step("routers"), projects, networks, index)
    tick("floating IPs")
    fips = draw_floating_ips(ctx.step("floating_ips"), projects, workload, routers)
    external = external_addresses(int(routers.gateway.sum()), fips.count)
    tick("hosts")
    names_h = host_names(ctx.step("host_names"), layout)
    dhcp_net, _ = segments(dhcp.per_network)
    blocks = PortBlocks(workload=workload.count, dhcp=len(dhcp_net), router_interfaces=len(routers.interface_subnet),
                        gateways=external.n_gateways, floating_ips=fips.count)
    port_host, dhcp_host = bind_ports(ctx.step("port_binding"), layout, workload, vm_host, blocks, room)
    tick("security groups")
    groups = draw_security_groups(ctx.step("security_groups"), projects, networks, s4)
    return Plan(projects=projects, networks=networks, subnets4=s4, subnets6=s6, dhcp=dhcp, workload=workload,
                layout=layout, index=index, routers=routers, floating_ips=fips, external=external, blocks=blocks,
                host_names=names_h, port_host=port_host, dhcp_net=dhcp_net, dhcp_host=dhcp_host, groups=groups)


def _tables(ctx: Context, plan: Plan) -> dict[str, Any]:
    """Every table but the fabric's: arrow columns, or a DataFrame (ports, port_ips)."""
    projects, networks, s4, s6, workload = plan.projects, plan.networks, plan.subnets4, plan.subnets6, plan.workload
    routers, fips, external, groups, blocks, layout = (plan.routers, plan.floating_ips, plan.external, plan.groups,
                                                       plan.blocks, plan.layout)
    ids = _draw_ids(ctx, {
        "ports": blocks.total, "networks": networks.count + 1,  # the last one is the external network
        "subnets": s4.count + s6.count + external.n_subnets, "routers": routers.count,
        "floating_ips": fips.count, "security_groups": groups.count, "rules": len(groups.rule_group),
        "vms": workload.n_vms, "lbs": int((workload.role == LB).sum()),
        "agents": layout.n_netnodes + 1, "hosts": layout.n_hosts})
    salt = _mac_salt(ctx.step("mac_salt"))
    rows = port_rows(ctx.step("port_rows"), projects, networks, plan.index, workload, blocks, plan.dhcp_net, routers, fips)
    ports, port_security = port_table(ctx.step("port_table"), projects, networks, s4, workload, rows, blocks, routers, layout,
                                      plan.host_names, plan.port_host, (plan.dhcp_net, plan.dhcp_host), ids, salt)
    port_ips, workload_ip_text, interface_ip_text = fixed_ips(
        ctx.step("fixed_ips"), networks.count, s4, s6, plan.index, plan.dhcp, workload, blocks, routers.interface_subnet, external, ids)
    t_sub, t_pools = subnet_tables(ctx.step("subnet_tables"), projects, s4, s6, plan.index, external.block, ids, routers.subnet_router,
                                   routers.attached_router_id)
    t_net = network_table(ctx.step("network_table"), networks, projects, ids["networks"], s4.block_base, s4.block_prefix, layout.zone_names)
    t_rt = router_table(ctx.step("router_table"), routers, projects, external, ids, plan.index.count)
    t_ri = interface_table(routers, plan.index, blocks, ids, interface_ip_text)
    t_fip = floating_ip_table(ctx.step("floating_ip_table"), fips, projects, workload, routers, external, ids, workload_ip_text)
    t_sg, t_rule = group_tables(ctx.step("group_tables"), groups, projects, ids)
    t_psg = port_groups_table(ctx.step("port_groups_table"), groups, workload, rows.project, port_security, ids, projects.count)
    t_host = host_table(ctx.step("host_table"), layout, plan.host_names, ids["hosts"], salt)
    return {
        "hosts": t_host, "networks": t_net, "subnets": t_sub, "allocation_pools": t_pools, "ports": ports,
        "port_ips": port_ips, "port_security_groups": t_psg, "security_groups": t_sg,
        "security_group_rules": t_rule, "routers": t_rt, "router_interfaces": t_ri,
        "floating_ips": t_fip, "project_labels": labels_table(projects, ctx.kinds),
    }


def generate(model: dict[str, Any], params: dict | None = None,
             progress: Callable[[str, int, int], None] | None = None,
             exclude: Exclusions | None = None,
             build_fabric: Callable | None = None) -> dict[str, pd.DataFrame]:
    """A synthetic data center: every model table, conformed; see the package docstring.

    params: the whole params dict (sections `synthesize` and `fabric`). exclude: real values
    to stay clear of (Exclusions.from_tables). build_fabric defaults to pipeline.fabric's."""
    if model.get("format") != MODEL_FORMAT:
        raise SynthParamsError(f"model format {model.get('format')!r} is not {MODEL_FORMAT}")
    settings = checked_params(params, model)
    kinds = sorted(model["kinds"])
    rng = step_rng(settings["seed"], "generate")  # replaced per step (Context.step)
    ctx = Context(model=model, params=params, settings=settings, kinds=kinds, rng=rng,
                  sampler=Sampler(model, kinds, rng), ids=IdDrawer(rng, exclude), exclude=exclude,
                  seed=settings["seed"])
    step = 0

    def tick(name):
        nonlocal step
        if progress:
            progress(name, step, len(STEPS))
        step += 1

    plan = _plan(ctx, tick)
    tick("tables")
    out_arrays = _tables(ctx, plan)
    out = {name: (t if isinstance(t, pd.DataFrame) else table_frame(name, t))
           for name, t in ((n, out_arrays.get(n, {})) for n in TABLES)
           if name not in ("fabric_switches", "fabric_links")}
    tick("fabric")
    if build_fabric is None:
        from pipeline.fabric import build_fabric
    sw, links = build_fabric(out["hosts"], (params or {}).get("fabric") or {})
    out["fabric_switches"] = with_provenance(conform(sw, "fabric_switches"), "fabric_switches")
    out["fabric_links"] = with_provenance(conform(links, "fabric_links"), "fabric_links")
    if progress:
        progress("done", len(STEPS), len(STEPS))
    return {name: out[name] for name in TABLES}
