"""Port features: one row per port; never read `device_owner` or anything derived from it."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from pipeline.features.common import (OPENSTACK_OUI, PORT_STATUSES, VIF_TYPES, VNIC_TYPES,
                                      _UUID_RE, _finish, _flag, _ip_ints, _json_ips, _json_len,
                                      _subnet_geometry, _tri)
from pipeline.features.docs import _buckets, feature_docs
from pipeline.features.tokens import _token_counts
from pipeline.util import stripped as _str


def port_features(tables: dict[str, pd.DataFrame], params: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per port; `id`, `project_id` (grouping only), then numeric features.

    Reads no `device_owner` and no `router_interfaces`: see the module docstring.
    """
    buckets = _buckets(params)
    ports = tables["ports"]
    p = pd.DataFrame({"id": ports["id"].astype("string"),
                      "project_id": _str(ports["project_id"]),
                      "network_id": _str(ports["network_id"])}).drop_duplicates("id")
    p = p.reset_index(drop=True)
    pid_idx = pd.Index(p["id"])
    pr = ports.drop_duplicates("id")
    pr = pr.set_index(pr["id"].astype("string")).reindex(pid_idx)

    # Each group adds its columns to f; _finish puts them in the documented order.
    f = p[["id", "project_id"]].copy()
    _add_fixed_ip_features(f, tables, pid_idx)
    dev = _add_device_features(f, tables, p, pr)
    _add_security_state_features(f, tables, p, pr, pid_idx)
    _add_network_features(f, tables, p)
    _add_name_features(f, pr, buckets)
    f["project_id"] = _grouping_project(f, tables, dev)

    cols = [c for c in feature_docs(buckets)["ports"] if c not in ("id", "project_id")]
    return _finish(f, cols, ("id", "project_id"))


def _port_ips(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every fixed IP with its subnet geometry and where it sits in the subnet and its pool."""
    geo = _subnet_geometry(tables["subnets"], tables["allocation_pools"])
    ips = tables["port_ips"]
    ip = pd.DataFrame({"port_id": ips["port_id"].astype("string"),
                       "ip_index": ips["ip_index"].fillna(0).astype("int64"),
                       "subnet_id": ips["subnet_id"].astype("string"),
                       "addr": _str(ips["ip_address"])})
    ip["ip"] = _ip_ints(ip["addr"])
    ip = ip.merge(geo, on="subnet_id", how="left")
    for c in ("net_lo", "net_hi", "gateway", "pool_first", "pool_last", "pool_size"):
        ip[c] = ip[c].astype(object).where(ip[c].notna(), -1)
    ip["prefix"] = ip["prefix"].fillna(-1).astype("int64")
    ip["version"] = ip["version"].fillna(0).astype("int64")
    ip["dhcp"] = ip["dhcp"].fillna(-1).astype("int64")
    ok = np.array([a != -1 and lo != -1 and lo <= a <= hi
                   for a, lo, hi in zip(ip["ip"], ip["net_lo"], ip["net_hi"])], dtype=bool)
    ip["is_v6"] = (ip["addr"].str.contains(":", regex=False)).astype("int64")
    ip["is_gw"] = np.array([a != -1 and a == g for a, g in zip(ip["ip"], ip["gateway"])],
                           dtype="int64")
    ip["off"] = [math.log2(1 + a - lo) if k else -1.0 for a, lo, k in zip(ip["ip"], ip["net_lo"], ok)]
    ip["off_end"] = [math.log2(1 + hi - a) if k else -1.0 for a, hi, k in zip(ip["ip"], ip["net_hi"], ok)]
    ip["pool_first_hit"] = [int(k and a == s) for a, s, k in zip(ip["ip"], ip["pool_first"], ok)]
    ip["pool_last_hit"] = [int(k and a == e) for a, e, k in zip(ip["ip"], ip["pool_last"], ok)]
    ip["rel"] = [((a - s) / (e - s) if e > s else 0.0) if k and s != -1 and s <= a <= e else -1.0
                 for a, s, e, k in zip(ip["ip"], ip["pool_first"], ip["pool_last"], ok)]
    return ip


def _first_ips(tables: dict[str, pd.DataFrame], ip: pd.DataFrame) -> pd.DataFrame:
    """Each port's first fixed IP (by ip_index), indexed by port id, with `in_pool`."""
    # in any pool: check each pool of the subnet (few per subnet)
    pools = tables["allocation_pools"]
    pl = pd.DataFrame({"subnet_id": pools["subnet_id"].astype("string"),
                       "start": _ip_ints(pools["start"]), "end": _ip_ints(pools["end"])})
    pl = pl[(pl["start"] != -1) & (pl["end"] != -1)]
    first = ip.sort_values(["port_id", "ip_index"], kind="stable").drop_duplicates("port_id")
    fp = first[["port_id", "subnet_id", "ip"]].reset_index(drop=True)
    fp["row"] = np.arange(len(fp))
    hit = fp.merge(pl, on="subnet_id", how="inner")
    in_pool = np.zeros(len(fp), dtype="int64")
    if len(hit):
        m = np.array([a != -1 and s <= a <= e for a, s, e in zip(hit["ip"], hit["start"], hit["end"])],
                     dtype=bool)
        in_pool[hit["row"].to_numpy()[m]] = 1
    return first.assign(in_pool=in_pool).set_index("port_id")


def _add_fixed_ip_features(f: pd.DataFrame, tables: dict[str, pd.DataFrame], pid_idx: pd.Index) -> None:
    """Fixed IPs, with their subnet geometry, and addresses owned elsewhere."""
    ip = _port_ips(tables)
    first = _first_ips(tables, ip)
    subnet_ports = ip.groupby("subnet_id")["port_id"].nunique()

    # addresses owned elsewhere: floating IP addresses and router gateway addresses
    fips = tables["floating_ips"]
    fip_addr = set(_str(fips["floating_ip_address"]).unique()) - {""}
    rext = _json_ips(tables["routers"]["external_fixed_ips"])
    ip["is_fip_addr"] = ip["addr"].isin(fip_addr).astype("int64")
    ip["is_rext"] = ip["addr"].isin(rext).astype("int64")
    per = ip.groupby("port_id").agg(n_fixed_ips=("ip_index", "size"), n_ipv6=("is_v6", "sum"),
                                    ip_is_gateway=("is_gw", "max"),
                                    ip_is_floating_address=("is_fip_addr", "max"),
                                    ip_is_router_external_ip=("is_rext", "max"))
    per = per.reindex(pid_idx, fill_value=0)
    fr = first.reindex(pid_idx)

    for c in per.columns:
        f[c] = per[c].to_numpy().astype("int64")
    f["ip_offset_log"] = fr["off"].fillna(-1.0).to_numpy(dtype="float64")
    f["ip_offset_end_log"] = fr["off_end"].fillna(-1.0).to_numpy(dtype="float64")
    f["ip_in_pool"] = fr["in_pool"].fillna(0).to_numpy().astype("int64")
    f["ip_is_pool_first"] = fr["pool_first_hit"].fillna(0).to_numpy().astype("int64")
    f["ip_is_pool_last"] = fr["pool_last_hit"].fillna(0).to_numpy().astype("int64")
    f["ip_pool_rel_pos"] = fr["rel"].fillna(-1.0).to_numpy(dtype="float64")
    f["subnet_prefix_len"] = fr["prefix"].fillna(-1).to_numpy().astype("int64")
    f["subnet_is_v6"] = (fr["version"].fillna(0).to_numpy() == 6).astype("int64")
    f["subnet_dhcp"] = fr["dhcp"].fillna(-1).to_numpy().astype("int64")
    f["subnet_has_gateway"] = np.array([g is not None and not pd.isna(g) and g != -1
                                        for g in fr["gateway"]], dtype="int64")
    f["subnet_n_ports"] = (fr["subnet_id"].map(subnet_ports).fillna(0).to_numpy().astype("int64"))


def _add_device_features(f: pd.DataFrame, tables: dict[str, pd.DataFrame], p: pd.DataFrame,
                         pr: pd.DataFrame) -> np.ndarray:
    """Binding and device; returns the ports' device ids (the grouping column reads them)."""
    fips = tables["floating_ips"]
    dev = _str(pr["device_id"]).to_numpy()
    f["is_bound"] = (_str(pr["binding_host_id"]) != "").to_numpy().astype("int64")
    f["device_id_empty"] = (dev == "").astype("int64")
    router_ids = set(_str(tables["routers"]["id"])) - {""}
    fip_ids = set(_str(fips["id"])) - {""}
    f["device_is_router"] = np.isin(dev, list(router_ids)).astype("int64") if router_ids else 0
    f["device_is_floating_ip"] = np.isin(dev, list(fip_ids)).astype("int64") if fip_ids else 0
    f["device_id_is_uuid"] = np.array([bool(_UUID_RE.match(d.lower())) for d in dev], dtype="int64")
    f["device_id_has_network_id"] = np.array(
        [bool(nid) and nid in d for d, nid in zip(dev, p["network_id"])], dtype="int64")
    dd = pd.DataFrame({"dev": dev, "net": p["network_id"].to_numpy()})
    dd = dd[dd["dev"] != ""]
    dn = dd.groupby("dev").agg(n=("net", "size"), nets=("net", "nunique"))
    f["device_n_ports"] = pd.Series(dev).map(dn["n"]).fillna(0).to_numpy().astype("int64")
    f["device_n_networks"] = pd.Series(dev).map(dn["nets"]).fillna(0).to_numpy().astype("int64")
    return dev


def _add_security_state_features(f: pd.DataFrame, tables: dict[str, pd.DataFrame], p: pd.DataFrame,
                                 pr: pd.DataFrame, pid_idx: pd.Index) -> None:
    """Security groups, states, binding types, allowed address pairs, floating IP."""
    fips = tables["floating_ips"]
    psg = tables["port_security_groups"]
    sgc = psg.groupby(psg["port_id"].astype("string"))["security_group_id"].nunique()
    f["n_security_groups"] = pd.Series(pid_idx).map(sgc).fillna(0).to_numpy().astype("int64")
    f["port_security"] = _tri(pr["port_security_enabled"]).to_numpy()
    f["admin_state_up"] = _tri(pr["admin_state_up"]).to_numpy()
    status = _str(pr["status"]).str.upper().to_numpy()
    for s in PORT_STATUSES:
        f[f"status_{s.lower()}"] = (status == s).astype("int64")
    f["status_other"] = (~np.isin(status, PORT_STATUSES)).astype("int64")
    vnic = _str(pr["binding_vnic_type"]).str.lower().to_numpy()
    for v in VNIC_TYPES:
        f[f"vnic_{v.replace('-', '_')}"] = (vnic == v).astype("int64")
    f["vnic_other"] = (~np.isin(vnic, VNIC_TYPES)).astype("int64")
    vif = _str(pr["binding_vif_type"]).str.lower().to_numpy()
    for v in VIF_TYPES:
        f[f"vif_{v}"] = (vif == v).astype("int64")
    f["vif_other"] = (~np.isin(vif, VIF_TYPES)).astype("int64")
    f["n_allowed_address_pairs"] = _json_len(pr["allowed_address_pairs"]).to_numpy()
    fip_ports = set(_str(fips["port_id"])) - {""}
    f["has_floating_ip"] = p["id"].isin(fip_ports).to_numpy().astype("int64")


def _add_network_features(f: pd.DataFrame, tables: dict[str, pd.DataFrame], p: pd.DataFrame) -> None:
    """The port's network, and whether the port's project differs from it."""
    nets = tables["networks"].drop_duplicates("id")
    nets = nets.set_index(nets["id"].astype("string"))
    netx = nets.reindex(pd.Index(p["network_id"]))
    f["net_router_external"] = _flag(netx["router_external"]).to_numpy()
    f["net_shared"] = _flag(netx["shared"]).to_numpy()
    net_ports = p.loc[p["network_id"] != "", "network_id"].value_counts()
    f["net_n_ports"] = p["network_id"].map(net_ports).fillna(0).to_numpy().astype("int64")
    f["net_port_security"] = _tri(netx["port_security_enabled"]).to_numpy()
    net_proj = _str(netx["project_id"]).to_numpy()
    f["project_empty"] = (p["project_id"] == "").to_numpy().astype("int64")
    f["project_differs_from_network"] = (
        (net_proj != "") & (p["project_id"].to_numpy() != net_proj)).astype("int64")


def _add_name_features(f: pd.DataFrame, pr: pd.DataFrame, buckets: int) -> None:
    """Names, DNS, MAC, Alcor extras, hashed name tokens."""
    name = _str(pr["name"])
    f["name_empty"] = (name == "").to_numpy().astype("int64")
    f["dns_name_set"] = (_str(pr["dns_name"]) != "").to_numpy().astype("int64")
    mac = _str(pr["mac_address"]).str.lower()
    f["mac_openstack_oui"] = mac.str.startswith(OPENSTACK_OUI).to_numpy().astype("int64")
    first_octet = pd.Series([int(x, 16) if re.match(r"^[0-9a-f]{2}$", x) else -1
                             for x in mac.str.slice(0, 2)], dtype="int64")
    f["mac_local_admin"] = ((first_octet >= 0) & ((first_octet & 2) > 0)).to_numpy().astype("int64")
    f["mac_missing"] = (mac == "").to_numpy().astype("int64")
    f["veth_set"] = (_str(pr["veth_name"]) != "").to_numpy().astype("int64")
    f["network_ns_set"] = (_str(pr["network_ns"]) != "").to_numpy().astype("int64")
    tok = _token_counts(name, buckets)
    for i in range(buckets):
        f[f"name_tok_{i:02d}"] = tok[:, i]


def _grouping_project(f: pd.DataFrame, tables: dict[str, pd.DataFrame], dev: np.ndarray) -> np.ndarray:
    """The grouping column: Neutron creates router gateway and floating IP ports without a
    project. Group them with the project of the router / floating IP their device_id names, so
    that a project's ports land in one cross-validation fold instead of forming one giant ''
    group."""
    rt = tables["routers"]
    fips = tables["floating_ips"]
    owner = pd.concat([pd.Series(_str(rt["project_id"]).to_numpy(), index=_str(rt["id"]).to_numpy()),
                       pd.Series(_str(fips["project_id"]).to_numpy(), index=_str(fips["id"]).to_numpy())])
    owner = owner[(owner.index != "") & (owner != "")]
    owner = owner[~owner.index.duplicated()]
    # object first: with no router or floating IP, map() gives float NaN, which "" cannot fill
    fallback = pd.Series(dev).map(owner).astype(object).fillna("").to_numpy()
    return np.where(f["project_id"].to_numpy() == "", fallback, f["project_id"].to_numpy())
