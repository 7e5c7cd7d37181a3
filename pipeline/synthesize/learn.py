"""Learning: the synthesis model (counts and shares only) of validated tables."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from schemas.model import TABLES, empty_frame
from pipeline.util import stripped as _str
from schemas import netaddr as na
from pipeline.synthesize.common import FALLBACK_KIND, INFRA_ROLES, MODEL_FORMAT, UNLABELLED_KIND, WORKLOAD_ROLES
from pipeline.synthesize.stats import _py, _share, _template_hist, hist


# =============================================================================================
# Learning

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


def _remote_kind(prefixes: pd.Series) -> pd.Series:
    """Abstract remote prefix: cidr:any, private/<len>, public/<len> (no address kept)."""
    import ipaddress

    private4 = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                  "100.64.0.0/10")]
    cache = {}
    for v in prefixes.dropna().unique():
        try:
            net = ipaddress.ip_network(str(v).strip(), strict=False)
        except ValueError:
            cache[v] = None
            continue
        if net.prefixlen == 0:
            cache[v] = "cidr:any"
        elif net.version == 4:
            priv = any(net.subnet_of(p) for p in private4 if p.prefixlen <= net.prefixlen)
            cache[v] = f"{'private' if priv else 'public'}/{net.prefixlen}"
        else:
            priv = net.subnet_of(ipaddress.ip_network("fc00::/7")) if net.prefixlen >= 7 else False
            cache[v] = f"{'private' if priv else 'public'}/{net.prefixlen}"
    return prefixes.map(cache)


def _canonical_prefix(values: pd.Series) -> pd.Series:
    import ipaddress

    cache = {}
    for v in values.dropna().unique():
        try:
            cache[v] = str(ipaddress.ip_network(str(v).strip(), strict=False))
        except ValueError:
            cache[v] = None
    return values.map(cache)


def _rule_templates(groups: pd.DataFrame, rules: pd.DataFrame,
                    own_subnets: set[str] | None = None) -> pd.Series:
    """Per security group id: its rule set abstracted to a JSON text (sorted rules).

    Remote prefixes become cidr:any, subnet/<len> (one of the project's own subnets),
    private/<len> or public/<len>; remote groups group:self or group:other."""
    if not len(rules):
        return pd.Series(["[]"] * len(groups), index=_str(groups["id"]).to_numpy())
    r = rules
    gid = _str(r["security_group_id"])
    rg = _str(r["remote_group_id"])
    prefix = r["remote_ip_prefix"].where(_str(r["remote_ip_prefix"]) != "")
    remote = _remote_kind(prefix)
    if own_subnets:
        own = (_str(r["project_id"]) + "|" + _canonical_prefix(prefix).fillna("")).isin(own_subnets)
        remote = remote.where(~(own.to_numpy() & remote.fillna("").str.startswith("private/").to_numpy()),
                              "subnet/" + remote.fillna("").str.partition("/")[2])
    remote = remote.where(rg == "", np.where(rg == gid, "group:self", "group:other"))
    remote = remote.fillna("any")
    proto = _str(r["protocol"]).str.lower()

    def num(col):
        return r[col].astype("Int64").astype(object).where(r[col].notna(), None)

    frame = pd.DataFrame({"direction": _str(r["direction"]).str.lower(),
                          "ethertype": _str(r["ethertype"]), "protocol": proto.where(proto != "", None),
                          "lo": num("port_range_min"), "hi": num("port_range_max"), "remote": remote})
    texts = [json.dumps([_py(x) for x in row]) for row in frame.itertuples(index=False, name=None)]
    per = pd.DataFrame({"g": gid.to_numpy(), "t": texts}).sort_values(["g", "t"], kind="stable")
    joined = per.groupby("g", sort=True)["t"].agg(lambda s: "[" + ",".join(s) + "]")
    ids = _str(groups["id"])
    return pd.Series(ids.map(joined).fillna("[]").to_numpy(), index=ids.to_numpy())


def _kind_stats(d: dict[str, Any]) -> dict[str, Any]:
    """Everything learned about one set of projects (a kind, or all of them)."""
    proj, nets, subs, ports = d["projects"], d["networks"], d["subnets"], d["ports"]
    out: dict[str, Any] = {"projects": int(len(proj))}
    n_per = nets.groupby("project_id").size().reindex(proj, fill_value=0)
    out["networks_per_project"] = hist(n_per)
    out["network"] = hist(pd.DataFrame({
        "type": _str(nets["network_type"]).str.lower().replace("", None),
        "mtu": nets["mtu"], "port_security": nets["port_security_enabled"],
        "shared": nets["shared"], "admin_state_up": nets["admin_state_up"],
        "status": _str(nets["status"]).replace("", None)}))
    out["network_zones"] = hist(nets["n_zones"])
    vpc = nets["vpc_prefix"].notna()
    out["vpc_share"] = _share(vpc)
    out["vpc_prefix"] = hist(nets.loc[vpc, "vpc_prefix"])
    out["address_range"] = hist(nets["range"].dropna())
    v4 = subs[subs["version"] == 4]
    v6 = subs[subs["version"] == 6]
    out["v4_subnets_per_network"] = hist(v4.groupby("network_id").size().reindex(nets["id"], fill_value=0))
    n6 = v6.groupby("network_id").size().reindex(nets["id"], fill_value=0)
    # an Alcor VPC is one IPv4 block: IPv6 is learned (and generated) on the other networks
    out["v6_share"] = _share(n6[~vpc.to_numpy()] > 0)
    out["v6_subnets_per_network"] = hist(n6[n6 > 0])
    out["v6_prefix"] = hist(v6["prefix"])
    out["v6_modes"] = hist(pd.DataFrame({"address_mode": _str(v6["ipv6_address_mode"]).replace("", None),
                                         "ra_mode": _str(v6["ipv6_ra_mode"]).replace("", None)}))
    out["subnet_v4"] = hist(pd.DataFrame({"prefix": v4["prefix"], "workload_ports": v4["workload"]}))
    out["enable_dhcp_v4"] = _share(v4["enable_dhcp"].fillna(False).astype(bool))
    out["enable_dhcp_v6"] = _share(v6["enable_dhcp"].fillna(False).astype(bool))
    out["gateway_share"] = _share(subs["gateway"])
    out["pool_offset"] = hist(v4["pool_offset"].dropna())
    out["pools_per_subnet"] = hist(subs["n_pools"])
    out["dns"] = hist(subs["dns"])
    out["host_routes_share"] = _share(subs["n_routes"] > 0)
    dh = nets[nets["has_dhcp_subnet"]]
    out["dhcp_share"] = _share(dh["n_dhcp"] > 0)
    out["dhcp_ports_per_network"] = hist(dh.loc[dh["n_dhcp"] > 0, "n_dhcp"])
    roles = ports["role"]
    for role in ("lb_vip", "unbound"):
        out[f"{role}_per_project"] = hist(ports[roles == role].groupby("project_id").size()
                                          .reindex(proj, fill_value=0))
    out["other_role_ports"] = int((roles == "other").sum())
    vm = ports[roles == "vm"]
    out["secondary_nic_share"] = (round(1 - vm["device"].nunique() / len(vm), 6) if len(vm) else None)
    out["vm_spread"] = hist(d["spread"])
    work = ports[roles.isin(WORKLOAD_ROLES)]
    dual = work["dual_stack"]
    out["v6_port_share"] = _share(work.loc[dual, "has_v6"]) if dual.any() else None
    out["port_attrs"], out["port_named"], out["dns_named"] = {}, {}, {}
    for role in WORKLOAD_ROLES + INFRA_ROLES:
        p = ports[roles == role]
        out["port_attrs"][role] = hist(pd.DataFrame({
            "status": _str(p["status"]).replace("", None), "admin_state_up": p["admin_state_up"],
            "port_security": p["port_security_enabled"],
            "vnic_type": _str(p["binding_vnic_type"]).replace("", None),
            "vif_type": _str(p["binding_vif_type"]).replace("", None)}))
        out["port_named"][role] = _share(_str(p["name"]) != "")
        out["dns_named"][role] = _share(_str(p["dns_name"]) != "")
    out["lb_owner"] = hist(ports.loc[roles == "lb_vip", "device_owner"])
    out["aap_share"] = _share(work["n_aap"] > 0)
    out["aap_pairs"] = hist(work.loc[work["n_aap"] > 0, "n_aap"])
    out["aap_kind"] = hist(d["aap_kinds"])
    in_vpc = ports["in_vpc"]
    out["alcor_port_share"] = _share(ports.loc[in_vpc, "alcor"]) if in_vpc.any() else None
    alc = ports[ports["alcor"]]
    out["fast_path_share"] = _share(alc["fast_path"].fillna(False).astype(bool)) if len(alc) else None
    sgs = d["security_groups"]
    out["sg_per_project"] = hist(sgs.groupby("project_id").size().reindex(proj, fill_value=0))
    has_default = sgs[sgs["is_default"]]["project_id"].unique()
    out["default_sg_share"] = _share(pd.Index(proj).isin(has_default)) if len(proj) else None
    out["sg_stateful_share"] = _share(sgs["stateful"].fillna(True).astype(bool))
    out["sg_templates_default"] = _template_hist(sgs.loc[sgs["is_default"], "template"])
    out["sg_templates"] = _template_hist(sgs.loc[~sgs["is_default"], "template"])
    secured = work[work["port_security_enabled"].fillna(False).astype(bool)]
    out["sg_per_port"] = hist(secured["n_sg"])
    rts = d["routers"]
    out["routers_per_project"] = hist(rts.groupby("project_id").size().reindex(proj, fill_value=0))
    out["router"] = hist(pd.DataFrame({"admin_state_up": rts["admin_state_up"],
                                       "status": _str(rts["status"]).replace("", None),
                                       "distributed": rts["distributed"], "ha": rts["ha"]}))
    out["gateway_router_share"] = _share(rts["has_gw"])
    gw = rts[rts["has_gw"]]
    out["snat_share"] = _share(gw["enable_snat"].fillna(True).astype(bool)) if len(gw) else None
    cand = subs[subs["gateway"] & subs["project_has_router"]]
    out["attach_share"] = _share(cand["attached"]) if len(cand) else None
    out["ri_owner"] = hist(d["ri_owners"])
    att_vpc = subs[subs["attached"] & subs["in_vpc"]]
    out["attached_router_id_share"] = _share(att_vpc["attached_router_id"].notna()) if len(att_vpc) else None
    fips = d["floating_ips"]
    out["fips_per_project"] = hist(fips.groupby("project_id").size().reindex(proj, fill_value=0))
    assoc = fips["port_id"].notna()
    out["fip_unassociated_share"] = _share(~assoc) if len(fips) else None
    out["fip_status_associated"] = hist(_str(fips.loc[assoc, "status"]).replace("", None))
    out["fip_status_unassociated"] = hist(_str(fips.loc[~assoc, "status"]).replace("", None))
    elig = work[work["eligible"]]
    tgt = fips.loc[assoc, "target_role"].value_counts()
    prop = {}
    for role in WORKLOAD_ROLES:
        n_el = int((elig["role"] == role).sum())
        if n_el:
            prop[role] = round(float(tgt.get(role, 0)) / n_el, 6)
    out["fip_propensity"] = prop
    return out


def learn(tables: dict[str, pd.DataFrame], profiles: pd.Series | None = None,
          params: dict | None = None) -> dict[str, Any]:
    """The synthesis model of validated tables; see the module docstring."""
    from pipeline.roles import owner_roles
    from pipeline.vocab import close_tables

    t = {n: (tables[n] if tables.get(n) is not None else empty_frame(n)) for n in TABLES}
    # Categorical values only from the data model's vocabularies: free text never gets learned.
    t, replaced = close_tables({n: df.reset_index(drop=True) for n, df in t.items()})
    nets, subs, ports = t["networks"].copy(), t["subnets"].copy(), t["ports"].copy()
    pips, hosts = t["port_ips"], t["hosts"]

    # --- networks: external vs tenant --------------------------------------------------------
    nets["id"] = _str(nets["id"])
    nets["project_id"] = _str(nets["project_id"])
    ext = nets["router_external"].fillna(False).astype(bool).to_numpy()
    ext_ids = set(nets.loc[ext, "id"])
    admin = set(nets.loc[ext, "project_id"]) - {""}
    nc = na.parse_cidrs(nets["cidr"].where(_str(nets["cidr"]) != ""))
    nets["vpc_prefix"] = pd.array(np.where(nc.valid, nc.prefix, -1), dtype="Int64")
    nets.loc[~nc.valid, "vpc_prefix"] = pd.NA

    def n_zones(v):
        try:
            x = json.loads(v) if v else None
        except (TypeError, ValueError):
            return None
        return len(x) if isinstance(x, list) else None

    nets["n_zones"] = _str(nets["availability_zones"]).map(n_zones)

    # --- subnets --------------------------------------------------------------------------------
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

    def dns_pattern(v):
        import ipaddress

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

    subs["dns"] = _str(subs["dns_nameservers"]).map(dns_pattern)
    subs["n_routes"] = _str(subs["host_routes"]).map(lambda v: n_zones(v) or 0)
    # the network block's RFC 1918 range: the VPC cidr, else the first IPv4 subnet
    first4 = subs[subs["version"] == 4].drop_duplicates("network_id")
    f4 = na.parse_cidrs(first4["cidr"])
    rng_by_net = pd.Series(_range_name(f4.lo, f4.version), index=first4["network_id"].to_numpy())
    nets["range"] = nets["id"].map(rng_by_net)
    has_vpc = nc.valid & (nc.version == 4)
    nets.loc[has_vpc, "range"] = _range_name(nc.lo[has_vpc], nc.version[has_vpc])

    # --- ports: roles, first subnet, project ---------------------------------------------------
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

    def n_aap(v):
        try:
            x = json.loads(v) if v else []
        except (TypeError, ValueError):
            return 0
        return len(x) if isinstance(x, list) else 0

    ports["n_aap"] = _str(ports["allowed_address_pairs"]).map(n_aap).astype(int)
    psg = t["port_security_groups"]
    ports["n_sg"] = ports["id"].map(_str(psg["port_id"]).value_counts()).fillna(0).astype(int)

    # allowed address pairs, abstracted: inside the port's own subnet, or a private/public block
    aap_rows: list[tuple[str, str]] = []  # (project, abstract kind)
    with_aap = ports[ports["n_aap"] > 0]
    if len(with_aap):
        import ipaddress

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

    # --- routers, interfaces, floating IPs ------------------------------------------------------
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
    ri_owners = ports.loc[ports["role"] == "router_interface", "device_owner"]
    fips = t["floating_ips"].copy()
    fips["project_id"] = _str(fips["project_id"])
    fips["port_id"] = _str(fips["port_id"]).replace("", None)
    fips["target_role"] = fips["port_id"].map(ports.set_index("id")["role"])

    sgs = t["security_groups"].copy()
    sgs["id"] = _str(sgs["id"])
    sgs["project_id"] = _str(sgs["project_id"])
    sgs["is_default"] = (_str(sgs["name"]) == "default").to_numpy()  # Neutron's constant name
    own = set(_str(subs["project_id"]) + "|" + _canonical_prefix(subs["cidr"]).fillna(""))
    sgs["template"] = _rule_templates(sgs, t["security_group_rules"], own).to_numpy()

    # --- tenant projects and their kinds ----------------------------------------------------
    tenant_nets = nets[~ext].copy()
    tenant_nets["n_dhcp"] = tenant_nets["id"].map(
        ports[ports["role"] == "dhcp"].groupby("network_id").size()).fillna(0).astype(int)
    dhcp_nets = set(subs.loc[subs["enable_dhcp"].fillna(False).astype(bool), "network_id"])
    tenant_nets["has_dhcp_subnet"] = tenant_nets["id"].isin(dhcp_nets)
    owners = set(tenant_nets["project_id"]) | set(ports.loc[~ports["network_id"].isin(ext_ids), "project_id"])
    owners |= set(sgs["project_id"]) | set(rts["project_id"]) | set(fips["project_id"])
    owners -= {""}
    owners -= (admin - set(tenant_nets["project_id"]) - set(ports["project_id"]))
    projects = sorted(owners)
    prof = profiles if profiles is not None else pd.Series([], dtype="string")
    prof = prof[[isinstance(k, str) for k in prof.index]] if len(prof) else prof
    fallback = UNLABELLED_KIND if len(prof) else FALLBACK_KIND
    kind_of = {p: (str(prof.get(p)) if p in prof.index and str(prof.get(p)) else fallback) for p in projects}
    net_proj = nets.set_index("id")["project_id"]
    subs["project_id"] = subs["network_id"].map(net_proj).fillna(_str(subs["project_id"]))
    rproj = set(rts["project_id"])
    subs["project_has_router"] = subs["project_id"].isin(rproj)
    tenant_subs = subs[~subs["network_id"].isin(ext_ids)]
    tenant_ports = ports[~ports["network_id"].isin(ext_ids)]

    vm = ports[(ports["role"] == "vm") & (_str(ports["binding_host_id"]) != "")]
    spread = vm.groupby("project_id").agg(vms=("device", "nunique"),
                                          hosts=("binding_host_id", "nunique")).reset_index()

    def for_kind(k: str | None) -> dict[str, Any]:
        ps = [p for p in projects if k is None or kind_of[p] == k]
        sel = set(ps)
        aap_for = [a for p, a in aap_rows if k is None or p in sel]
        return _kind_stats({
            "projects": ps,
            "networks": tenant_nets[tenant_nets["project_id"].isin(sel)],
            "subnets": tenant_subs[tenant_subs["project_id"].isin(sel)],
            "ports": tenant_ports[tenant_ports["project_id"].isin(sel)],
            "security_groups": sgs[sgs["project_id"].isin(sel)],
            "routers": rts[rts["project_id"].isin(sel)],
            "floating_ips": fips[fips["project_id"].isin(sel)],
            "ri_owners": ri_owners[ports.loc[ri_owners.index, "project_id"].isin(sel)],
            "spread": spread[spread["project_id"].isin(sel)][["vms", "hosts"]],
            "aap_kinds": pd.Series(aap_for, dtype=object),
        })

    kinds = sorted(set(kind_of.values()))
    model: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "kinds": {k: for_kind(k) for k in kinds},
        "global": for_kind(None),
    }
    if not kinds:
        model["kinds"] = {FALLBACK_KIND: model["global"]}

    # --- external network ----------------------------------------------------------------------
    en = nets[ext]
    es = subs[subs["network_id"].isin(ext_ids)]
    ext_port_roles = ports["role"].isin(["router_gateway", "floating_ip"])
    model["external"] = {
        "networks": int(len(en)),
        "network": hist(pd.DataFrame({
            "type": _str(en["network_type"]).str.lower().replace("", None), "mtu": en["mtu"],
            "port_security": en["port_security_enabled"], "shared": en["shared"],
            "admin_state_up": en["admin_state_up"], "status": _str(en["status"]).replace("", None)})),
        "physical_network_share": _share(_str(en["physical_network"]) != ""),
        "subnets_per_network": hist(es.groupby("network_id").size()),
        "enable_dhcp_share": _share(es["enable_dhcp"].fillna(False).astype(bool)),
        "port_project_empty_share": _share(ports.loc[ext_port_roles, "project_id"] == ""),
    }

    # --- infrastructure --------------------------------------------------------------------
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
    model["infra"] = {
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
        "projects_per_compute_host": round(len(projects) / n_compute, 6) if n_compute else None,
        "alcor_host_share": _share(_str(hosts["veth"]) != ""),
        "server_port": hist(alcor_hosts["server_port"].dropna()),
        "dvr_mac_share": _share(_str(hosts["host_dvr_mac"]) != ""),
        "ncm_share": _share(_str(hosts["ncm_id"]) != ""),
    }
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
