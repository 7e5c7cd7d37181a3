"""Generation: a synthetic data center from a model (see the package docstring).

`generate` orchestrates the families, each a module with its draws (`draw_*`, returning a
dataclass of arrays) and its tables (`*_table`, returning arrow columns):

    projects -> networks -> subnets (IPv4 plan, IPv6, DHCP agents) -> workload ports
    -> placement (hosts, VMs) -> routers -> floating IPs (+ external addresses) -> bindings
    -> security groups -> ids -> tables (ports, fixed IPs, subnets, networks, routers,
    floating IPs, groups, hosts, labels) -> fabric

Every step draws from its own random stream (`Context.step(name)`: the seed and the step's
name): a step that draws more, fewer or later leaves the other steps' output as it was; the
ids of each table come from their own stream too.

Shards (`synthesize.shards` K > 1). The projects are cut into K consecutive ranges by index
(their kinds drawn once for the whole data center); shard s generates its projects' networks,
subnets, ports, routers, floating IPs and groups (`generate_shard`) with every step on its own
stream (seed, step name, s): the result depends on (model, params) only, never on which worker
runs a shard or how many there are. What the shards share is derived from (model, params) alone
and recomputed by each shard (`Shared`: the hosts and racks, their names and target loads, the
admin project, the external network, the DHCP agents, the MAC salts). Unique by construction:

- ids: the first two bytes of every id name the shard (Context.id_prefix; the shared part has
  its own value), the rest is random as before;
- MACs: each shard's ports take their own salt byte (02:<salt s>:...; hosts 06:/0a:<salt 0>);
- tenant IPv4: each shard packs its networks into its own aligned 1/2^ceil(log2 K) of each
  RFC 1918 range; IPv6: the ULA prefix's first random byte is the shard (fd<s>:...);
  external addresses: shard s takes every K-th /24 from the s-th; segmentation ids: shard s
  takes the s-th of K parts of each type's range.

Placement: every shard places onto all hosts of the one fabric, along the same capacity line
(the data center's host target loads), with its own part of each host's capacity (host h gives
shard s max_ports_per_host // K, plus one for K's remainder in rotation): no host ever takes more
than max_ports_per_host, and no shard waits for another. The tables are the shards' rows in shard
order (the external network's row once, first); hosts and the fabric are built once.
`run_shards(fn, items)` runs `fn` per item (in order): the engine's tasks, or in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
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
from pipeline.synthesize.placement import (HostLayout, bind_ports, host_layout, host_names, host_table, load_targets,
                                           place_vms)
from pipeline.synthesize.ports import port_rows, port_table
from pipeline.synthesize.projects import Projects, draw_kinds, draw_projects, labels_table, shard_projects
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


def _mac_salts(ctx: Context) -> list[int]:
    """MACs: locally administered, a salt byte no real MAC uses, a bijective counter (unique).
    The usable salts in a seeded order: the first for the whole data center, or the s-th for
    shard s's ports."""
    used = ctx.exclude.mac_prefixes if ctx.exclude else frozenset()
    salts = [s for s in ctx.rng.permutation(256) if all(f"{MAC_PREFIX[k]:02x}:{s:02x}" not in used for k in MAC_PREFIX)]
    if not salts:
        raise RuntimeError("every locally administered MAC prefix is used by the real data")
    return [int(s) for s in salts]


def _mac_salt(ctx: Context) -> int:
    return _mac_salts(ctx)[0]


@dataclass
class Shared:
    """What the shards of a sharded data center share; derived from (model, params) alone, so
    each shard computes it again (cheap: per host and per project, not per port)."""

    layout: HostLayout
    host_names: pa.Array
    load_target: np.ndarray   # per compute host (placement's capacity line)
    kinds: np.ndarray         # kind per project of the whole data center
    admin_id: pa.Array
    external_network_id: pa.Array
    agent_ids: pa.Array       # one per network node, then the compute hosts' shared one
    salts: list[int]          # MAC salts; salts[s]: shard s's ports, salts[0]: hosts

    def projects_of(self, shard: int, shards: int) -> tuple[int, int]:
        """[start, end) of shard's projects: consecutive, sizes differing by one at most."""
        n = len(self.kinds)
        return n * shard // shards, n * (shard + 1) // shards

    def capacity(self, shard: int, shards: int, max_ports: int) -> np.ndarray:
        """Ports each host takes from this shard: max_ports // shards, one more on the hosts
        where (host + shard) % shards falls in the remainder; the shards' parts sum to max_ports."""
        host = np.arange(self.layout.n_hosts, dtype=np.int64)
        return max_ports // shards + ((host + shard) % shards < max_ports % shards)


def _shared(ctx: Context) -> Shared:
    """ctx: the data center's (shard None) context of a sharded generation."""
    layout = host_layout(ctx.step("host_layout"))
    salts = _mac_salts(ctx.step("mac_salt"))
    if len(salts) < ctx.shards:
        raise SynthParamsError(f"synthesize.shards: at most {len(salts)} shards (one MAC salt byte "
                               f"each that no real MAC uses), got {ctx.shards}")
    return Shared(layout=layout, host_names=host_names(ctx.step("host_names"), layout),
                  load_target=load_targets(ctx.step("vm_placement"), layout),
                  kinds=draw_kinds(ctx.step("projects")), admin_id=ctx.step("admin_project").ids.hex32(1),
                  external_network_id=ctx.step("ids.external_network").ids.uuids(1),
                  agent_ids=ctx.step("ids.agents").ids.uuids(layout.n_netnodes + 1), salts=salts)


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


def _plan(ctx: Context, tick: Callable[[str], None], shared: Shared | None = None) -> Plan:
    """The whole data center's draws (shared None), or one shard's (ctx.shard)."""
    tick("plan")
    if shared is None:
        projects = draw_projects(ctx.step("projects"))
    else:
        start, end = shared.projects_of(ctx.shard, ctx.shards)
        projects = shard_projects(ctx.step("projects"), shared.kinds[start:end], shared.admin_id)
    tick("networks")
    networks = draw_networks(ctx.step("networks"), projects)
    tick("subnets")
    s4 = draw_subnets4(ctx.step("subnets4"), networks)
    s6 = draw_subnets6(ctx.step("subnets6"), networks)
    dhcp = draw_dhcp_agents(ctx.step("dhcp_agents"), networks, s4, s6)
    tick("ports")
    workload = draw_workload(ctx.step("workload"), projects, networks, s4, dhcp)
    if shared is None:
        layout = host_layout(ctx.step("host_layout"))
        vm_host, room = place_vms(ctx.step("vm_placement"), projects, workload, layout)
    else:
        layout = shared.layout
        vm_host, room = place_vms(ctx.step("vm_placement"), projects, workload, layout, shared.load_target,
                                  shared.capacity(ctx.shard, ctx.shards, ctx.settings["max_ports_per_host"]))
    tick("routers")
    index = subnet_index(projects, networks, s4, s6)
    routers = draw_routers(ctx.step("routers"), projects, networks, index)
    tick("floating IPs")
    fips = draw_floating_ips(ctx.step("floating_ips"), projects, workload, routers)
    external = external_addresses(int(routers.gateway.sum()), fips.count, ctx.shard, ctx.shards)
    tick("hosts")
    names_h = host_names(ctx.step("host_names"), layout) if shared is None else shared.host_names
    dhcp_net, _ = segments(dhcp.per_network)
    blocks = PortBlocks(workload=workload.count, dhcp=len(dhcp_net), router_interfaces=len(routers.interface_subnet),
                        gateways=external.n_gateways, floating_ips=fips.count)
    port_host, dhcp_host = bind_ports(ctx.step("port_binding"), layout, workload, vm_host, blocks, room)
    tick("security groups")
    groups = draw_security_groups(ctx.step("security_groups"), projects, networks, s4)
    return Plan(projects=projects, networks=networks, subnets4=s4, subnets6=s6, dhcp=dhcp, workload=workload,
                layout=layout, index=index, routers=routers, floating_ips=fips, external=external, blocks=blocks,
                host_names=names_h, port_host=port_host, dhcp_net=dhcp_net, dhcp_host=dhcp_host, groups=groups)


def _tables(ctx: Context, plan: Plan, shared: Shared | None = None) -> dict[str, Any]:
    """Every table but the fabric's: arrow columns, or a DataFrame (ports, port_ips). A shard's
    (shared given): no hosts table; its networks table starts with the external network's row."""
    projects, networks, s4, s6, workload = plan.projects, plan.networks, plan.subnets4, plan.subnets6, plan.workload
    routers, fips, external, groups, blocks, layout = (plan.routers, plan.floating_ips, plan.external, plan.groups,
                                                       plan.blocks, plan.layout)
    sizes = {
        "ports": blocks.total, "networks": networks.count + 1,  # the last one is the external network
        "subnets": s4.count + s6.count + external.n_subnets, "routers": routers.count,
        "floating_ips": fips.count, "security_groups": groups.count, "rules": len(groups.rule_group),
        "vms": workload.n_vms, "lbs": int((workload.role == LB).sum()),
        "agents": layout.n_netnodes + 1, "hosts": layout.n_hosts}
    if shared is None:
        ids = _draw_ids(ctx, sizes)
        salt = _mac_salt(ctx.step("mac_salt"))
    else:
        sizes["networks"] -= 1
        ids = _draw_ids(ctx, {k: v for k, v in sizes.items() if k not in ("agents", "hosts")})
        ids["networks"] = pa.concat_arrays([ids["networks"], shared.external_network_id])
        ids["agents"] = shared.agent_ids
        salt = shared.salts[ctx.shard]
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
    out = {
        "networks": t_net, "subnets": t_sub, "allocation_pools": t_pools, "ports": ports,
        "port_ips": port_ips, "port_security_groups": t_psg, "security_groups": t_sg,
        "security_group_rules": t_rule, "routers": t_rt, "router_interfaces": t_ri,
        "floating_ips": t_fip, "project_labels": labels_table(projects, ctx.kinds),
    }
    if shared is None:
        out["hosts"] = host_table(ctx.step("host_table"), layout, plan.host_names, ids["hosts"], salt)
    return out


FABRIC_TABLES = ("fabric_switches", "fabric_links")


def _context(model: dict[str, Any], params: dict | None, exclude: Exclusions | None,
             shard: int | None = None) -> Context:
    if model.get("format") != MODEL_FORMAT:
        raise SynthParamsError(f"model format {model.get('format')!r} is not {MODEL_FORMAT}")
    settings = checked_params(params, model)
    kinds = sorted(model["kinds"])
    rng = step_rng(settings["seed"], "generate")  # replaced per step (Context.step)
    return Context(model=model, params=params, settings=settings, kinds=kinds, rng=rng,
                   sampler=Sampler(model, kinds, rng), ids=IdDrawer(rng, exclude), exclude=exclude,
                   seed=settings["seed"], shards=settings["shards"], shard=shard)


def _frames(arrays: dict[str, Any], skip: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    return {name: (t if isinstance(t, pd.DataFrame) else table_frame(name, t))
            for name, t in ((n, arrays.get(n, {})) for n in TABLES) if name not in skip}


def generate_shard(model: dict[str, Any], params: dict | None, shard: int,
                   exclude: Exclusions | None = None) -> dict[str, pd.DataFrame]:
    """Shard `shard` of a sharded data center (synthesize.shards > 1): every model table but
    hosts and the fabric's, its networks table starting with the external network's row."""
    ctx = _context(model, params, exclude, shard)
    if not 0 <= shard < ctx.shards:
        raise SynthParamsError(f"shard {shard} of synthesize.shards {ctx.shards}")
    shared = _shared(replace(ctx, shard=None))
    plan = _plan(ctx, lambda _name: None, shared)
    return _frames(_tables(ctx, plan, shared), ("hosts",) + FABRIC_TABLES)


def shard_task(args: tuple) -> dict[str, pd.DataFrame]:
    """generate_shard(*args): one engine task."""
    return generate_shard(*args)


def _in_process(fn: Callable, items) -> Iterator:
    return map(fn, items)


def _generate_sharded(ctx: Context, progress: Callable[[str, int, int], None] | None,
                      run_shards: Callable | None) -> dict[str, pd.DataFrame]:
    """Every table but the fabric's: the shards' rows in shard order, the hosts table once."""
    shared = _shared(ctx)
    n_shards, n_steps = ctx.shards, len(STEPS)
    if progress:
        progress("plan", 0, n_steps)
    items = [(ctx.model, ctx.params, shard, ctx.exclude) for shard in range(n_shards)]
    parts: dict[str, list[pd.DataFrame]] = {}
    for shard, frames in enumerate((run_shards or _in_process)(shard_task, items)):
        for name, df in frames.items():
            if name == "networks" and shard:  # the external network's row: once, from shard 0
                df = df.iloc[1:]
            parts.setdefault(name, []).append(df)
        if progress:
            progress(f"shards {shard + 1}/{n_shards}", 1 + (n_steps - 3) * (shard + 1) // n_shards, n_steps)
    if progress:
        progress("tables", n_steps - 2, n_steps)
    out = {}
    for name in list(parts):
        dfs = parts.pop(name)  # let each table's parts go as soon as they are joined
        df = pd.concat(dfs, ignore_index=True) if len(dfs) > 1 else dfs[0].reset_index(drop=True)
        del dfs
        df["source_pos"] = pd.array(np.arange(len(df), dtype=np.int64), dtype="Int64")
        out[name] = df
    layout = shared.layout
    out["hosts"] = table_frame("hosts", host_table(ctx.step("host_table"), layout, shared.host_names,
                                                   ctx.step("ids.hosts").ids.uuids(layout.n_hosts), shared.salts[0]))
    return out


def generate(model: dict[str, Any], params: dict | None = None,
             progress: Callable[[str, int, int], None] | None = None,
             exclude: Exclusions | None = None,
             build_fabric: Callable | None = None,
             run_shards: Callable | None = None) -> dict[str, pd.DataFrame]:
    """A synthetic data center: every model table, conformed; see the package docstring.

    params: the whole params dict (sections `synthesize` and `fabric`). exclude: real values
    to stay clear of (Exclusions.from_tables). build_fabric defaults to pipeline.fabric's.
    run_shards(fn, items): yields fn(item) per item, in order (synthesize.shards > 1; default:
    in this process); e.g. the dask engine's tasks (stage.shard_runner)."""
    ctx = _context(model, params, exclude)
    step = 0

    def tick(name):
        nonlocal step
        if progress:
            progress(name, step, len(STEPS))
        step += 1

    if ctx.sharded:
        out = _generate_sharded(ctx, progress, run_shards)
    else:
        plan = _plan(ctx, tick)
        tick("tables")
        out = _frames(_tables(ctx, plan), FABRIC_TABLES)
    if progress:
        progress("fabric", len(STEPS) - 1, len(STEPS))
    if build_fabric is None:
        from pipeline.fabric import build_fabric
    sw, links = build_fabric(out["hosts"], (params or {}).get("fabric") or {})
    out["fabric_switches"] = with_provenance(conform(sw, "fabric_switches"), "fabric_switches")
    out["fabric_links"] = with_provenance(conform(links, "fabric_links"), "fabric_links")
    if progress:
        progress("done", len(STEPS), len(STEPS))
    return {name: out[name] for name in TABLES}
