"""Learning: the synthesis model (counts and shares only) of validated tables.

`learn` annotates the real tables (roles, first subnets, address ranges, templates, ...),
splits the tenant projects by kind and asks each family module for its statistics of a kind
(`learn_stats(KindTables)`); the external network and the infrastructure are learned once."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import numpy as np
import pandas as pd

from pipeline.synthesize.common import FALLBACK_KIND, MODEL_FORMAT, UNLABELLED_KIND, WORKLOAD_ROLES
from pipeline.synthesize.external import learn_external
from pipeline.synthesize.floating_ips import learn_stats as floating_ip_stats, prepare_floating_ips
from pipeline.synthesize.networks import learn_stats as network_stats
from pipeline.synthesize.placement import learn_infra
from pipeline.synthesize.ports import learn_stats as port_stats
from pipeline.synthesize.routers import learn_stats as router_stats
from pipeline.synthesize.security_groups import learn_stats as group_stats, prepare_groups
from pipeline.synthesize.stats import KindTables
from pipeline.synthesize.subnets import learn_stats as subnet_stats
from pipeline.synthesize.workload import learn_stats as workload_stats
from pipeline.util import stripped as _str
from schemas import netaddr as na
from schemas.model import TABLES, empty_frame


# Each family's statistics of a kind, in the order of the model's keys.
FAMILY_STATS = (network_stats, subnet_stats, workload_stats, port_stats, group_stats, router_stats,
                floating_ip_stats)


def profiles_from(labels: pd.DataFrame | None, predictions: pd.DataFrame | None,
                  tables: dict[str, pd.DataFrame] | None = None, params: dict | None = None) -> pd.Series:
    """project_id -> profile kind: training labels (ground truth, then naming) first, the
    classifier's predictions for the rest. Without a labels table (None) the labels are
    computed from `tables` as the labels stage does. Empty when nothing is available."""
    if labels is None and tables is not None:
        from pipeline.labels import training_labels

        labels = training_labels(tables, params)
    parts = []
    if labels is not None and len(labels) and {"id", "label"} <= set(labels.columns):
        parts.append(pd.Series(_str(labels["label"]).to_numpy(), index=_str(labels["id"]).to_numpy()))
    if predictions is not None and len(predictions) and {"id", "predicted"} <= set(predictions.columns):
        parts.append(pd.Series(_str(predictions["predicted"]).to_numpy(),
                               index=_str(predictions["id"]).to_numpy()))
    if not parts:
        return pd.Series([], dtype="string")
    s = pd.concat(parts)
    s = s[(s.index != "") & (s != "")]
    s = s[~s.index.duplicated(keep="first")]
    return s.sort_index().astype("string")


def _range_name(addr_lo: np.ndarray, version: np.ndarray) -> np.ndarray:
    out = np.full(len(addr_lo), "10", dtype=object)
    a = addr_lo.astype(np.uint64)
    out[(version == 4) & ((a >> np.uint64(20)) == np.uint64((172 << 4) | 1))] = "172"
    out[(version == 4) & ((a >> np.uint64(16)) == np.uint64((192 << 8) | 168))] = "192"
    return out


def _json_list_len(v, default):
    """Length of a JSON list text; `default` for empty, invalid or non-list text."""
    try:
        x = json.loads(v) if v else None
    except (TypeError, ValueError):
        return default
    return len(x) if isinstance(x, list) else default


def _dns_pattern(v) -> str:
    """dns_nameservers abstracted: "private,public6,..." (no address kept)."""
    try:
        xs = json.loads(v) if v else []
    except (TypeError, ValueError):
        return ""
    kinds = []
    for x in xs if isinstance(xs, list) else []:
        try:
            a = ipaddress.ip_address(str(x))
        except ValueError:
            continue
        fam = "6" if a.version == 6 else ""
        kinds.append(("private" if a.is_private else "public") + fam)
    return ",".join(kinds)


def _prepare_networks(t: dict[str, pd.DataFrame]):
    """(networks + vpc_prefix, n_zones; external mask; parsed cidrs)."""
    nets = t["networks"].copy()
    nets["id"] = _str(nets["id"])
    nets["project_id"] = _str(nets["project_id"])
    ext = nets["router_external"].fillna(False).astype(bool).to_numpy()
    nc = na.parse_cidrs(nets["cidr"].where(_str(nets["cidr"]) != ""))
    nets["vpc_prefix"] = pd.array(np.where(nc.valid, nc.prefix, -1), dtype="Int64")
    nets.loc[~nc.valid, "vpc_prefix"] = pd.NA
    nets["n_zones"] = _str(nets["availability_zones"]).map(lambda v: _json_list_len(v, None))
    return nets, ext, nc


def _prepare_subnets(t: dict[str, pd.DataFrame], nets: pd.DataFrame, nc) -> pd.DataFrame:
    """Valid subnets + version, prefix, gateway, n_pools, pool_offset, dns, n_routes; also
    sets nets["range"]: the network block's RFC 1918 range (the VPC cidr, else its first IPv4
    subnet)."""
    subs = t["subnets"].copy()
    subs["id"] = _str(subs["id"])
    subs["network_id"] = _str(subs["network_id"])
    sc = na.parse_cidrs(subs["cidr"])
    subs["version"] = sc.version.astype(np.int64)
    subs["prefix"] = sc.prefix.astype(np.int64)
    subs = subs[sc.valid].reset_index(drop=True)
    sc = na.take(sc, np.flatnonzero(sc.valid))
    subs["gateway"] = (_str(subs["gateway_ip"]) != "").to_numpy()
    pools = t["allocation_pools"]
    subs["n_pools"] = _str(subs["id"]).map(_str(pools["subnet_id"]).value_counts()).fillna(0).astype(int)
    first_pool = pools[pools["pool_index"] == pools.groupby("subnet_id")["pool_index"].transform("min")]
    fp = first_pool.drop_duplicates("subnet_id").set_index(_str(first_pool.drop_duplicates("subnet_id")["subnet_id"]))
    start = na.parse_ips(subs["id"].map(fp["start"]).astype("string"))
    off = np.where((start.version == 4) & (sc.version == 4), start.lo.astype(np.int64) - sc.lo.astype(np.int64), -1)
    subs["pool_offset"] = pd.array(np.where(off >= 0, off, 0), dtype="Int64")
    subs.loc[off < 0, "pool_offset"] = pd.NA
    subs["dns"] = _str(subs["dns_nameservers"]).map(_dns_pattern)
    subs["n_routes"] = _str(subs["host_routes"]).map(lambda v: _json_list_len(v, None) or 0)
    first4 = subs[subs["version"] == 4].drop_duplicates("network_id")
    f4 = na.parse_cidrs(first4["cidr"])
    rng_by_net = pd.Series(_range_name(f4.lo, f4.version), index=first4["network_id"].to_numpy())
    nets["range"] = nets["id"].map(rng_by_net)
    has_vpc = nc.valid & (nc.version == 4)
    nets.loc[has_vpc, "range"] = _range_name(nc.lo[has_vpc], nc.version[has_vpc])
    return subs


def _prepare_ports(t: dict[str, pd.DataFrame], nets: pd.DataFrame, subs: pd.DataFrame):
    """(ports + role, first_subnet, has_v6, dual_stack, in_vpc, alcor, device, n_aap, n_sg;
    workload mask: workload roles whose first address is IPv4). Also sets subs["workload"]
    (such ports per subnet) and subs["in_vpc"]."""
    from pipeline.roles import owner_roles

    ports, pips = t["ports"].copy(), t["port_ips"]
    ports["id"] = _str(ports["id"])
    ports["network_id"] = _str(ports["network_id"])
    ports["project_id"] = _str(ports["project_id"])
    ports["role"] = owner_roles(ports["device_owner"]).to_numpy()
    pi = pips.assign(port_id=_str(pips["port_id"]), subnet_id=_str(pips["subnet_id"]))
    pi = pi.sort_values(["port_id", "ip_index"], kind="stable")
    pv = na.parse_ips(pi["ip_address"]).version
    pi = pi.assign(version=pv)
    first_sub = pi.drop_duplicates("port_id").set_index("port_id")["subnet_id"]
    v6_ports = set(pi.loc[pi["version"] == 6, "port_id"])
    ports["first_subnet"] = ports["id"].map(first_sub)
    ports["has_v6"] = ports["id"].isin(v6_ports)
    sub_ver = subs.set_index("id")["version"]
    ports["first_version"] = ports["first_subnet"].map(sub_ver)
    work_mask = ports["role"].isin(WORKLOAD_ROLES) & (ports["first_version"] == 4)
    wl = ports[work_mask].groupby("first_subnet").size()
    subs["workload"] = subs["id"].map(wl).fillna(0).astype(int)
    nets_v6 = set(subs.loc[subs["version"] == 6, "network_id"])
    ports["dual_stack"] = ports["network_id"].isin(nets_v6)
    vpc_nets = set(nets.loc[nets["vpc_prefix"].notna(), "id"])
    ports["in_vpc"] = ports["network_id"].isin(vpc_nets)
    subs["in_vpc"] = subs["network_id"].isin(vpc_nets)
    ports["alcor"] = (_str(ports["veth_name"]) != "").to_numpy()
    ports["device"] = _str(ports["device_id"]).where(_str(ports["device_id"]) != "", ports["id"])
    ports["n_aap"] = _str(ports["allowed_address_pairs"]).map(lambda v: _json_list_len(v, 0)).astype(int)
    psg = t["port_security_groups"]
    ports["n_sg"] = ports["id"].map(_str(psg["port_id"]).value_counts()).fillna(0).astype(int)
    return ports, work_mask


def _allowed_pair_kinds(ports: pd.DataFrame, subs: pd.DataFrame) -> list[tuple[str, str]]:
    """(project, abstract kind) per allowed address pair: inside the port's own subnet
    ("subnet"), or a private/public block of its length."""
    aap_rows: list[tuple[str, str]] = []
    with_aap = ports[ports["n_aap"] > 0]
    if not len(with_aap):
        return aap_rows
    sub_cidr = subs.set_index("id")["cidr"]
    for v, fs, proj in zip(_str(with_aap["allowed_address_pairs"]), with_aap["first_subnet"],
                           with_aap["project_id"]):
        try:
            own = ipaddress.ip_network(str(sub_cidr.get(fs)), strict=False) if isinstance(fs, str) else None
        except ValueError:
            own = None
        for pair in json.loads(v):
            ip = str(pair.get("ip_address", "")) if isinstance(pair, dict) else ""
            try:
                net = ipaddress.ip_network(ip, strict=False)
            except ValueError:
                continue
            if own is not None and net.version == own.version and net.subnet_of(own):
                aap_rows.append((proj, "subnet"))
            else:
                aap_rows.append((proj, f"{'private' if net.is_private else 'public'}/{net.prefixlen}"))
    return aap_rows


def _prepare_routers(t: dict[str, pd.DataFrame], subs: pd.DataFrame, ports: pd.DataFrame, work_mask: pd.Series,
                     replaced: dict[str, int]):
    """(routers + has_gw, device_owner of the router interface ports). Also sets
    subs["attached"], ports["eligible"] (workload ports behind a router with a gateway: floating
    IP candidates) and closes ports["device_owner"] (counted in `replaced`)."""
    rts = t["routers"].copy()
    rts["id"] = _str(rts["id"])
    rts["project_id"] = _str(rts["project_id"])
    rts["has_gw"] = (_str(rts["gateway_network_id"]) != "").to_numpy()
    ri = t["router_interfaces"]
    attached = set(_str(ri["subnet_id"]))
    subs["attached"] = subs["id"].isin(attached)
    gw_routers = set(rts.loc[rts["has_gw"], "id"])
    routed_subnets = set(_str(ri["subnet_id"])[_str(ri["router_id"]).isin(gw_routers)])
    ports["eligible"] = ports["first_subnet"].isin(routed_subnets) & work_mask
    ports["device_owner"], n_owner = _close_owners(ports)
    if n_owner:
        replaced["ports.device_owner"] = n_owner
    return rts, ports.loc[ports["role"] == "router_interface", "device_owner"]


def _tenant_networks(nets: pd.DataFrame, ext: np.ndarray, subs: pd.DataFrame, ports: pd.DataFrame) -> pd.DataFrame:
    """Tenant networks + n_dhcp (DHCP ports), has_dhcp_subnet."""
    tenant_nets = nets[~ext].copy()
    tenant_nets["n_dhcp"] = tenant_nets["id"].map(
        ports[ports["role"] == "dhcp"].groupby("network_id").size()).fillna(0).astype(int)
    dhcp_nets = set(subs.loc[subs["enable_dhcp"].fillna(False).astype(bool), "network_id"])
    tenant_nets["has_dhcp_subnet"] = tenant_nets["id"].isin(dhcp_nets)
    return tenant_nets


def _project_kinds(nets: pd.DataFrame, ext: np.ndarray, tenant_nets: pd.DataFrame, ports: pd.DataFrame,
                   owned: list[pd.DataFrame], profiles: pd.Series | None) -> dict[str, str]:
    """Tenant project -> kind: owners of tenant networks, tenant ports and of `owned` rows (not
    the admin owning only the external network); the profile, else the fallback kind."""
    ext_ids = set(nets.loc[ext, "id"])
    admin = set(nets.loc[ext, "project_id"]) - {""}
    owners = set(tenant_nets["project_id"]) | set(ports.loc[~ports["network_id"].isin(ext_ids), "project_id"])
    for frame in owned:
        owners |= set(frame["project_id"])
    owners -= {""}
    owners -= (admin - set(tenant_nets["project_id"]) - set(ports["project_id"]))
    projects = sorted(owners)
    prof = profiles if profiles is not None else pd.Series([], dtype="string")
    prof = prof[[isinstance(k, str) for k in prof.index]] if len(prof) else prof
    fallback = UNLABELLED_KIND if len(prof) else FALLBACK_KIND
    return {p: (str(prof.get(p)) if p in prof.index and str(prof.get(p)) else fallback) for p in projects}


def _kind_stats(d: KindTables) -> dict[str, Any]:
    """Everything learned about one set of projects (a kind, or all of them)."""
    out: dict[str, Any] = {"projects": int(len(d.projects))}
    for family_stats in FAMILY_STATS:
        out.update(family_stats(d))
    return out


def learn(tables: dict[str, pd.DataFrame], profiles: pd.Series | None = None,
          params: dict | None = None) -> dict[str, Any]:
    """The synthesis model of validated tables; see the package docstring."""
    from pipeline.vocab import close_tables

    t = {n: (tables[n] if tables.get(n) is not None else empty_frame(n)) for n in TABLES}
    # Categorical values only from the data model's vocabularies: free text never gets learned.
    t, replaced = close_tables({n: df.reset_index(drop=True) for n, df in t.items()})
    nets, ext, nc = _prepare_networks(t)
    ext_ids = set(nets.loc[ext, "id"])
    subs = _prepare_subnets(t, nets, nc)
    ports, work_mask = _prepare_ports(t, nets, subs)
    aap_rows = _allowed_pair_kinds(ports, subs)
    rts, ri_owners = _prepare_routers(t, subs, ports, work_mask, replaced)
    fips = prepare_floating_ips(t, ports)
    sgs = prepare_groups(t, subs)  # before subnets take their network's project (below)
    tenant_nets = _tenant_networks(nets, ext, subs, ports)
    kind_of = _project_kinds(nets, ext, tenant_nets, ports, [sgs, rts, fips], profiles)
    projects = sorted(kind_of)
    net_proj = nets.set_index("id")["project_id"]
    subs["project_id"] = subs["network_id"].map(net_proj).fillna(_str(subs["project_id"]))
    subs["project_has_router"] = subs["project_id"].isin(set(rts["project_id"]))
    tenant_subs = subs[~subs["network_id"].isin(ext_ids)]
    tenant_ports = ports[~ports["network_id"].isin(ext_ids)]
    vm = ports[(ports["role"] == "vm") & (_str(ports["binding_host_id"]) != "")]
    spread = vm.groupby("project_id").agg(vms=("device", "nunique"),
                                          hosts=("binding_host_id", "nunique")).reset_index()

    def for_kind(k: str | None) -> dict[str, Any]:
        ps = [p for p in projects if k is None or kind_of[p] == k]
        sel = set(ps)
        aap_for = [a for p, a in aap_rows if k is None or p in sel]
        return _kind_stats(KindTables(
            projects=ps,
            networks=tenant_nets[tenant_nets["project_id"].isin(sel)],
            subnets=tenant_subs[tenant_subs["project_id"].isin(sel)],
            ports=tenant_ports[tenant_ports["project_id"].isin(sel)],
            security_groups=sgs[sgs["project_id"].isin(sel)],
            routers=rts[rts["project_id"].isin(sel)],
            floating_ips=fips[fips["project_id"].isin(sel)],
            ri_owners=ri_owners[ports.loc[ri_owners.index, "project_id"].isin(sel)],
            spread=spread[spread["project_id"].isin(sel)][["vms", "hosts"]],
            aap_kinds=pd.Series(aap_for, dtype=object),
        ))

    kinds = sorted(set(kind_of.values()))
    model: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "kinds": {k: for_kind(k) for k in kinds},
        "global": for_kind(None),
    }
    if not kinds:
        model["kinds"] = {FALLBACK_KIND: model["global"]}
    model["external"] = learn_external(nets[ext], subs[subs["network_id"].isin(ext_ids)], ports)
    model["infra"] = learn_infra(t["hosts"], ports, len(projects))
    model["source"] = {name: int(len(t[name])) for name in TABLES}
    model["source"]["tenant_projects"] = len(projects)
    model["mix"] = {k: model["kinds"][k]["projects"] for k in model["kinds"]}
    # values outside the vocabularies, replaced by a neutral value before learning
    model["replaced_values"] = dict(sorted(replaced.items()))
    return model


def _close_owners(ports: pd.DataFrame) -> tuple[pd.Series, int]:
    """device_owner of the roles whose owner string is learned, closed to their vocabulary."""
    from pipeline.vocab import OWNER_VOCABULARIES, close

    owners, total = ports["device_owner"].astype("string"), 0
    for role, (vocab, neutral) in OWNER_VOCABULARIES.items():
        mine = (ports["role"] == role).to_numpy()
        if mine.any():
            closed, n = close(owners[mine], vocab, neutral)
            owners[mine] = closed
            total += n
    return owners, total
