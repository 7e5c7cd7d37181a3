"""Project features: one row per project that owns anything."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.features.common import (ANY_PROTOCOLS, HIGH_RANGE_MIN_WIDTH, ICMP_PROTOCOLS,
                                      NODEPORT, PORT_PROTOCOLS, WELL_KNOWN_PORTS, WORLD_PREFIXES,
                                      _finish, _flag, _json_len, _safe_div, _subnet_geometry,
                                      project_ids)
from pipeline.features.docs import _buckets, feature_docs
from pipeline.features.tokens import _token_counts
from pipeline.util import stripped as _str


def _rule_profile(rules: pd.DataFrame) -> pd.DataFrame:
    """Per-rule indicator columns for the security-group profile."""
    direction = _str(rules["direction"]).str.lower()
    proto = _str(rules["protocol"]).str.lower()
    lo = rules["port_range_min"].astype("Int64")
    hi = rules["port_range_max"].astype("Int64")
    ingress = direction == "ingress"
    port_proto = proto.isin(PORT_PROTOCOLS)
    explicit = port_proto & lo.notna()
    lo_v = lo.fillna(0).astype("int64")
    hi_v = hi.fillna(lo).fillna(0).astype("int64")
    prefix = _str(rules["remote_ip_prefix"])
    group = _str(rules["remote_group_id"])
    out = pd.DataFrame({"project_id": _str(rules["project_id"])}, index=rules.index)
    out["n_sg_rules"] = 1
    out["n_sg_ingress"] = ingress.astype("int64")
    out["n_sg_egress"] = (direction == "egress").astype("int64")
    for k, ports in WELL_KNOWN_PORTS.items():
        cover = np.zeros(len(rules), dtype=bool)
        for p in ports:
            cover |= ((lo_v <= p) & (hi_v >= p)).to_numpy()
        out[f"sg_open_{k}"] = (ingress & explicit & cover).astype("int64")
    nodeport = (lo_v <= NODEPORT[1]) & (hi_v >= NODEPORT[0])
    out["sg_open_nodeport"] = (ingress & explicit & nodeport).astype("int64")
    wide = (lo_v >= 1024) & (hi_v - lo_v + 1 >= HIGH_RANGE_MIN_WIDTH)
    out["sg_open_high_range"] = (ingress & explicit & wide & ~nodeport).astype("int64")
    out["sg_open_all_ports"] = (ingress & (proto.isin(ANY_PROTOCOLS) | (port_proto & lo.isna()))
                                ).astype("int64")
    world = prefix.isin(WORLD_PREFIXES) | ((prefix == "") & (group == ""))
    out["_world"] = (ingress & world).astype("int64")
    out["_group"] = (ingress & (group != "")).astype("int64")
    out["n_sg_icmp"] = proto.isin(ICMP_PROTOCOLS).astype("int64")
    out["n_sg_udp"] = proto.isin({"udp", "17"}).astype("int64")
    out["_v6"] = (_str(rules["ethertype"]).str.lower() == "ipv6").astype("int64")
    return out


def project_features(tables: dict[str, pd.DataFrame], params: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per project that owns anything; `id` = project_id, then numeric features."""
    buckets = _buckets(params)
    ids = project_ids(tables)
    idx = pd.Index(ids, name="id", dtype="string")
    # Each group adds its columns to f; _finish puts them in the documented order.
    f = pd.DataFrame(index=idx)
    _add_network_features(f, idx, tables)
    _add_subnet_features(f, idx, tables)
    pid, role = _add_port_features(f, idx, tables)
    _add_vm_host_features(f, idx, tables, pid, role)
    _add_security_features(f, idx, tables)
    _add_router_features(f, idx, tables)
    _add_name_token_features(f, idx, tables, buckets)

    f = f.reset_index()
    cols = [c for c in feature_docs(buckets)["projects"] if c != "id"]
    return _finish(f, cols, ("id",))


def _count(idx: pd.Index, df: pd.DataFrame, mask=None) -> pd.Series:
    """Rows of `df` per project of `idx` (those where `mask` holds)."""
    pid = _str(df["project_id"])
    if mask is not None:
        pid = pid[np.asarray(mask, dtype=bool)]
    return pid.value_counts().reindex(idx, fill_value=0).astype("int64")


def _agg(idx: pd.Index, keys: pd.Series, vals: pd.Series, how: str, fill: float = 0.0) -> pd.Series:
    """`how` of `vals` per project of `idx` (`keys` the project of each value); `fill` for none."""
    s = pd.Series(np.asarray(vals, dtype="float64"), index=pd.Index(np.asarray(keys, dtype=object)))
    r = s.groupby(level=0).agg(how)
    return r.reindex(idx).fillna(fill).astype("float64")


def _add_network_features(f: pd.DataFrame, idx: pd.Index, tables: dict[str, pd.DataFrame]) -> None:
    nets = tables["networks"]
    ntype = _str(nets["network_type"]).str.lower()
    f["n_networks"] = _count(idx, nets)
    f["n_networks_shared"] = _count(idx, nets, _flag(nets["shared"]))
    f["n_networks_external"] = _count(idx, nets, _flag(nets["router_external"]))
    f["n_networks_vlan"] = _count(idx, nets, ntype == "vlan")
    f["n_networks_flat"] = _count(idx, nets, ntype == "flat")
    f["n_networks_overlay"] = _count(idx, nets, ntype.isin({"vxlan", "gre", "geneve"}))
    f["n_networks_alcor_cidr"] = _count(idx, nets, _str(nets["cidr"]) != "")
    mtu = nets["mtu"].astype("Int64")
    has_mtu = mtu.notna().to_numpy()
    f["mtu_max"] = _agg(idx, _str(nets["project_id"])[has_mtu], mtu[has_mtu], "max")
    f["mtu_mean"] = _agg(idx, _str(nets["project_id"])[has_mtu], mtu[has_mtu], "mean")


def _add_subnet_features(f: pd.DataFrame, idx: pd.Index, tables: dict[str, pd.DataFrame]) -> None:
    subs, pools, pips = tables["subnets"], tables["allocation_pools"], tables["port_ips"]
    geo = _subnet_geometry(subs, pools)
    sub = pd.DataFrame({"subnet_id": subs["id"].astype("string"),
                        "project_id": _str(subs["project_id"])})
    sub = sub.merge(geo[["subnet_id", "prefix", "version", "pool_size"]], on="subnet_id", how="left")
    port_count = pips.groupby(pips["subnet_id"].astype("string"))["port_id"].nunique()
    sub["n_ports"] = sub["subnet_id"].map(port_count).fillna(0).astype("int64")
    f["n_subnets"] = _count(idx, subs)
    f["n_subnets_v6"] = _count(idx, sub, sub["version"] == 6)
    f["share_subnets_v6"] = _safe_div(f["n_subnets_v6"], f["n_subnets"])
    f["subnets_per_network"] = _safe_div(f["n_subnets"], f["n_networks"])
    f["ports_per_subnet_mean"] = _agg(idx, sub["project_id"], sub["n_ports"], "mean")
    f["ports_per_subnet_max"] = _agg(idx, sub["project_id"], sub["n_ports"], "max")
    v4 = sub[(sub["version"] == 4) & (sub["prefix"] >= 0)]
    v4_pool = v4[np.array([x > 0 for x in v4["pool_size"]], dtype=bool)]
    f["pool_fill_mean"] = _agg(idx, v4_pool["project_id"],
                               v4_pool["n_ports"] / v4_pool["pool_size"].astype("float64"), "mean")
    f["prefix_v4_min"] = _agg(idx, v4["project_id"], v4["prefix"], "min")
    f["prefix_v4_mean"] = _agg(idx, v4["project_id"], v4["prefix"], "mean")
    f["prefix_v4_max"] = _agg(idx, v4["project_id"], v4["prefix"], "max")
    f["n_subnets_dhcp"] = _count(idx, subs, _flag(subs["enable_dhcp"]))
    f["share_subnets_dhcp"] = _safe_div(f["n_subnets_dhcp"], f["n_subnets"])
    f["n_subnets_no_gateway"] = _count(idx, subs, _str(subs["gateway_ip"]) == "")
    f["n_host_routes"] = _agg(idx, _str(subs["project_id"]), _json_len(subs["host_routes"]), "sum")
    f["n_subnets_dns"] = _count(idx, subs, _json_len(subs["dns_nameservers"]) > 0)


def _add_port_features(f: pd.DataFrame, idx: pd.Index, tables: dict[str, pd.DataFrame]
                       ) -> tuple[pd.Series, pd.Series]:
    """Ports by role and kind (device_owner is fine here: the project task's labels do not come
    from it); returns each port's project and role."""
    from pipeline.roles import owner_roles

    ports = tables["ports"]
    pid = _str(ports["project_id"])
    role = owner_roles(ports["device_owner"])
    vnic = _str(ports["binding_vnic_type"]).str.lower()
    f["n_ports"] = _count(idx, ports)
    for r in ("vm", "router_interface", "router_gateway", "dhcp", "floating_ip", "lb_vip",
              "unbound"):
        f[f"n_ports_{r}"] = _count(idx, ports, role == r)
    f["n_ports_other"] = _count(idx, ports, ~role.isin(
        {"vm", "router_interface", "router_gateway", "dhcp", "floating_ip", "lb_vip", "unbound"}))
    f["n_ports_sriov"] = _count(idx, ports, vnic.isin({"direct", "direct-physical", "macvtap"}))
    f["n_ports_baremetal"] = _count(idx, ports, vnic == "baremetal")
    no_ps = ports["port_security_enabled"].astype("boolean").eq(False).fillna(False)
    f["share_ports_no_port_security"] = _safe_div(_count(idx, ports, no_ps), f["n_ports"])
    f["n_ports_aap"] = _count(idx, ports, _json_len(ports["allowed_address_pairs"]) > 0)
    psg = tables["port_security_groups"]
    sg_n = ports["id"].astype("string").map(psg.groupby(psg["port_id"].astype("string")).size())
    f["sg_per_port_mean"] = _agg(idx, pid, sg_n.fillna(0), "mean")
    return pid, role


def _add_vm_host_features(f: pd.DataFrame, idx: pd.Index, tables: dict[str, pd.DataFrame],
                          pid: pd.Series, role: pd.Series) -> None:
    """VMs (devices of VM ports) and the hosts, racks and zones the project's ports are bound to."""
    ports = tables["ports"]
    dev = _str(ports["device_id"])
    vm = pd.DataFrame({"project_id": pid, "device_id": dev})[(role == "vm") & (dev != "")]
    per_vm = vm.groupby(["project_id", "device_id"]).size().reset_index(name="n")
    f["n_vms"] = per_vm["project_id"].value_counts().reindex(idx, fill_value=0).astype("int64")
    f["ports_per_vm_mean"] = _agg(idx, per_vm["project_id"], per_vm["n"], "mean")
    f["ports_per_vm_max"] = _agg(idx, per_vm["project_id"], per_vm["n"], "max")
    f["share_vms_multi_nic"] = _agg(idx, per_vm["project_id"], per_vm["n"] > 1, "mean")

    host = _str(ports["binding_host_id"])
    bound = pd.DataFrame({"project_id": pid, "host": host})[host != ""]
    per_host = bound.groupby(["project_id", "host"]).size().reset_index(name="n")
    f["n_hosts"] = per_host["project_id"].value_counts().reindex(idx, fill_value=0).astype("int64")
    hosts = tables["hosts"]
    h = pd.DataFrame({"host": _str(hosts["node_name"]), "rack": _str(hosts["rack"]),
                      "zone": _str(hosts["availability_zone"])}).drop_duplicates("host")
    ph = per_host.merge(h, on="host", how="left").fillna({"rack": "", "zone": ""})
    for col, name in (("rack", "n_racks"), ("zone", "n_zones")):
        known = ph[ph[col] != ""]
        f[name] = known.groupby("project_id")[col].nunique().reindex(idx, fill_value=0).astype("int64")
    f["ports_per_host_mean"] = _agg(idx, per_host["project_id"], per_host["n"], "mean")
    f["ports_per_host_max"] = _agg(idx, per_host["project_id"], per_host["n"], "max")
    tot = per_host.groupby("project_id")["n"].transform("sum")
    pr = per_host["n"] / tot
    ent = (-(pr * np.log(pr))).groupby(per_host["project_id"]).sum()
    nh = f["n_hosts"].reindex(ent.index)
    norm = ent / np.log(nh.where(nh > 1))
    f["host_entropy"] = norm.reindex(idx).fillna(0.0).astype("float64")


def _add_security_features(f: pd.DataFrame, idx: pd.Index, tables: dict[str, pd.DataFrame]) -> None:
    sgs, rules = tables["security_groups"], tables["security_group_rules"]
    f["n_security_groups"] = _count(idx, sgs)
    rp = _rule_profile(rules)
    # A rule without its own project_id belongs to its group's project.
    grp_owner = pd.Series(_str(sgs["project_id"]).to_numpy(), index=sgs["id"].astype("string"))
    grp_owner = grp_owner[~grp_owner.index.duplicated()]
    missing = rp["project_id"] == ""
    if missing.any():
        rp.loc[missing, "project_id"] = (rules["security_group_id"].astype("string")[missing]
                                         .map(grp_owner).fillna(""))
    rsum = rp.groupby("project_id").sum(numeric_only=True).reindex(idx, fill_value=0)
    for c in ["n_sg_rules", "n_sg_ingress", "n_sg_egress", *[f"sg_open_{k}" for k in WELL_KNOWN_PORTS],
              "sg_open_nodeport", "sg_open_high_range", "sg_open_all_ports", "n_sg_icmp", "n_sg_udp"]:
        f[c] = rsum[c].astype("int64")
    f["sg_rules_per_group"] = _safe_div(f["n_sg_rules"], f["n_security_groups"])
    f["sg_ingress_world_share"] = _safe_div(rsum["_world"], rsum["n_sg_ingress"])
    f["sg_remote_group_share"] = _safe_div(rsum["_group"], rsum["n_sg_ingress"])
    f["sg_ipv6_share"] = _safe_div(rsum["_v6"], rsum["n_sg_rules"])


def _add_router_features(f: pd.DataFrame, idx: pd.Index, tables: dict[str, pd.DataFrame]) -> None:
    """Routers and floating IPs."""
    rt, fips = tables["routers"], tables["floating_ips"]
    f["n_routers"] = _count(idx, rt)
    f["n_routers_gateway"] = _count(idx, rt, _str(rt["gateway_network_id"]) != "")
    f["n_routers_distributed"] = _count(idx, rt, _flag(rt["distributed"]))
    f["n_routers_ha"] = _count(idx, rt, _flag(rt["ha"]))
    f["n_router_routes"] = _agg(idx, _str(rt["project_id"]), _json_len(rt["routes"]), "sum")
    f["n_floating_ips"] = _count(idx, fips)
    f["n_floating_ips_associated"] = _count(idx, fips, _str(fips["port_id"]) != "")
    f["fip_per_vm"] = _safe_div(f["n_floating_ips_associated"], f["n_vms"])


def _add_name_token_features(f: pd.DataFrame, idx: pd.Index, tables: dict[str, pd.DataFrame],
                             buckets: int) -> None:
    """Hashed name tokens (shares, so a project's size does not swamp its vocabulary)."""
    nets, subs = tables["networks"], tables["subnets"]
    ports, sgs = tables["ports"], tables["security_groups"]
    names = pd.concat([
        pd.DataFrame({"project_id": _str(df["project_id"]), "name": _str(df["name"])})
        for df in (nets, subs, ports, sgs)], ignore_index=True)
    names = names[(names["project_id"] != "") & (names["name"] != "")]
    tok = pd.DataFrame(_token_counts(names["name"], buckets),
                       columns=[f"name_tok_{i:02d}" for i in range(buckets)])
    tok["project_id"] = names["project_id"].to_numpy()
    tsum = tok.groupby("project_id").sum().reindex(idx, fill_value=0)
    total = tsum.sum(axis=1)
    for c in tsum.columns:
        f[c] = _safe_div(tsum[c], total)
