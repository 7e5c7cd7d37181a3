"""Synthesis: learn the structure of a real data center, generate new ones of any size.

Two pure functions and a stage around them:

- `learn(tables, profiles, params) -> model`: per project kind (profile: labels first, the
  classifier's predictions fill the rest; projects with neither are kind "other", and all of
  them "all" when no project has a profile) the empirical distributions of everything that
  shapes a tenant: networks per project, subnets per network, (prefix length, workload ports)
  per subnet, role mix, security groups and abstracted rule-set templates (remote: any,
  cidr:any, subnet/<len> = one of the project's own subnets, private/<len>, public/<len>,
  group:self, group:other), routers and gateways, floating IPs, network types/MTU, Alcor VPC
  blocks, IPv6, allowed address pairs; and the infrastructure: zones, hosts per rack, network
  nodes, where each port role binds, VM ports per compute host, how a project's VMs spread over
  hosts. The model is plain JSON of COUNTS and shares only: no id, name, MAC or address of the
  real data (models/synth_model.json is meant to be reviewed for privacy). Histograms are
  `[[value, count], ...]`; joint ones have a list as value.
- `generate(model, params) -> tables`: a data center at the scale and mix of params.yaml
  `synthesize:`, every model table conformed, every reference resolving, passing validation.
  Vectorized over numpy/pyarrow arrays, no per-row Python: ~5M ports in tens of seconds.
- `run(...)`: learn, generate, validate; one quarantined row fails the stage.

Generated values are synthetic by construction, and checked against the real values anyway
(`Exclusions`): ids are seeded UUIDs (redrawn on a clash with a real id), names are
`syn-<kind>-...` counters (`syn-...` for projects without a profile, which also get no
project_labels row, as in the input), MACs are locally administered (02:/06:/0a: + a salt byte
no real MAC uses + a bijective counter), tenant addresses come from RFC 1918 space, external
addresses from the documentation ranges then 100.64.0.0/11, host underlay from 100.96.0.0/11,
IPv6 from random RFC 4193 ULA prefixes, DNS servers from fixed private/documentation addresses.

Address plan: each network gets one aligned block (its VPC `cidr` when it is an Alcor VPC, else
the smallest power of two holding its subnets) in 10/8, 172.16/12 or 192.168/16 as learned.
Blocks are packed largest first, so they never overlap until the space is exhausted; then the
allocation wraps around (networks of different projects may then overlap, as tenants' private
addresses do in any real cloud; subnets of one network never do). Gateway = first host,
DHCP ports at the first pool addresses, pools never cover the gateway, fixed IPs are allocated
in pool order and are unique per subnet.

Placement: compute hosts get target loads drawn from the learned VM ports per compute host
(busy ones clustered into racks); a project spans as many hosts as learned for its kind, its
slots drawn along a "capacity line" so busy hosts attract more projects; the NICs of a VM share
its host; `max_ports_per_host` is enforced by moving whole VMs (and single network ports) off
full hosts. Network nodes (as many per compute host as learned) carry the DHCP, router
interface and gateway ports where the real data binds them there.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.model import ROUTER_INTERFACE_OWNERS, TABLES, conform, empty_frame
from pipeline.util import stripped as _str
from schemas import netaddr as na

MODEL_FORMAT = "dcnet-synth-model/1"
SOURCE_FILE = "synthetic"
WORKLOAD_ROLES = ("vm", "lb_vip", "unbound")
INFRA_ROLES = ("dhcp", "router_interface", "router_gateway", "floating_ip")
BINDINGS = ("compute", "netnode", "none")
FALLBACK_KIND = "all"      # no profile for any project
UNLABELLED_KIND = "other"  # some projects have a profile, these do not
DEFAULTS: dict[str, Any] = {"seed": 7, "hosts": 240, "projects": None, "mix": "as_learned",
                            "max_ports_per_host": 500, "zones": None}

# Address spaces (see the module docstring).
RFC1918 = ((10 << 24, 24), ((172 << 24) | (16 << 16), 20), ((192 << 24) | (168 << 16), 16))
RANGE_NAMES = ("10", "172", "192")
EXTERNAL_BLOCKS_DOC = ((198 << 24) | (51 << 16) | (100 << 8), (203 << 24) | (113 << 8))
EXTERNAL_BULK = ((100 << 24) | (64 << 16), 2 ** 21)   # 100.64.0.0/11
UNDERLAY = ((100 << 24) | (96 << 16), 2 ** 21)        # 100.96.0.0/11
EXT_PER_SUBNET = 253                                  # .2 - .254 of a /24
PRIVATE_DNS = ("10.255.255.53", "10.255.254.53", "10.255.253.53")
PUBLIC_DNS = ("192.0.2.53", "192.0.2.54", "192.0.2.55")
PRIVATE_DNS6 = ("fd00:53::53", "fd00:53::54")
PUBLIC_DNS6 = ("2001:db8::53", "2001:db8::54")
# Provider segmentation ids per network type (as schemas/checks.py validates them).
SEGMENTATION_RANGES = {"geneve": (1, 2**24 - 1), "gre": (1, 2**32 - 1), "vlan": (1, 4094),
                       "vxlan": (1, 2**24 - 1)}
MAC_PREFIX = {"port": 0x02, "host": 0x06, "dvr": 0x0A}  # locally administered, unicast
TIME_BASE = 1_704_067_200  # 2024-01-01T00:00:00Z: synthetic timestamps fall in 2024-2025


class SynthParamsError(ValueError):
    """A bad `synthesize:` parameter (or a model that cannot serve it); names the key."""


# =============================================================================================
# Small helpers

def _py(v):
    """A JSON-able Python scalar (NA/NaN -> None)."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    return str(v)


def _hist_key(v):
    # numbers numerically, then text, then joint rows (by their JSON): stable, readable order
    if isinstance(v, bool) or v is None:
        return (0, 0.0 if v is None else float(v) + 1, "")
    if isinstance(v, (int, float)):
        return (1, float(v), "")
    if isinstance(v, str):
        return (2, 0.0, v)
    return (3, 0.0, json.dumps(v))


def _sorted_hist(pairs) -> list:
    return sorted(([v, int(c)] for v, c in pairs if c > 0), key=lambda x: _hist_key(x[0]))


def hist(values) -> list:
    """[[value, count], ...] of a Series (nulls as None) or a DataFrame (joint rows)."""
    if isinstance(values, pd.DataFrame):
        if not len(values):
            return []
        vc = values.astype(object).where(values.notna(), None).value_counts(dropna=False)
        return _sorted_hist(([_py(x) for x in k], c) for k, c in vc.items())
    s = pd.Series(values)
    if not len(s):
        return []
    vc = s.astype(object).where(s.notna(), None).value_counts(dropna=False)
    return _sorted_hist((_py(k), c) for k, c in vc.items())


def _share(mask) -> float | None:
    m = np.asarray(mask, dtype=bool)
    return round(float(m.mean()), 6) if len(m) else None


def _starts(counts: np.ndarray) -> np.ndarray:
    c = np.asarray(counts, dtype=np.int64)
    out = np.zeros(len(c), dtype=np.int64)
    if len(c) > 1:
        np.cumsum(c[:-1], out=out[1:])
    return out


def _rank(groups: np.ndarray) -> np.ndarray:
    """0-based position of each row within its run of equal (sorted) group values."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.ones(n, dtype=bool)
    first[1:] = groups[1:] != groups[:-1]
    idx = np.arange(n, dtype=np.int64)
    return idx - np.maximum.accumulate(np.where(first, idx, 0))


def _seg(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, rank): expand `counts[i]` rows per i; rank = 0..counts[i]-1."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    return owner, np.arange(len(owner), dtype=np.int64) - _starts(counts)[owner]


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


def _template_hist(texts: pd.Series) -> list:
    vc = texts.value_counts()
    return _sorted_hist((json.loads(k), c) for k, c in vc.items())


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


# =============================================================================================
# Vectorized text: ids, MACs, addresses, timestamps (numpy bytes / pyarrow kernels)

# pandas keeps string columns as arrow large_string: build them so, or every column is re-cast
LS = pa.large_string()
_IP_HI = None  # "a.b." for the upper 16 bits, built on first use
_IP_LO = None  # "c.d"
_HEX16 = None  # "%x" of 0..65535 (IPv6 host part)


def _from_bytes(buf: np.ndarray) -> pa.Array:
    """Fixed-width ASCII rows (n, w) uint8 -> a pyarrow string array, without Python strings."""
    n, w = buf.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
    data = pa.py_buffer(np.ascontiguousarray(buf).reshape(-1))
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), data)


def _hex(b: np.ndarray) -> np.ndarray:
    """(n, k) bytes -> (n, 2k) lower-case hex ASCII (bytes.hex is the fastest path numpy has)."""
    b = np.ascontiguousarray(b, dtype=np.uint8)
    return np.frombuffer(b.tobytes().hex().encode(), np.uint8).reshape(len(b), 2 * b.shape[1])


def _uuid_text(b: np.ndarray) -> pa.Array:
    """(n, 16) random bytes -> RFC 4122 version-4 UUID texts."""
    b = b.copy()
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    h = _hex(b)
    out = np.full((len(b), 36), ord("-"), dtype=np.uint8)
    out[:, 0:8], out[:, 9:13], out[:, 14:18] = h[:, 0:8], h[:, 8:12], h[:, 12:16]
    out[:, 19:23], out[:, 24:36] = h[:, 16:20], h[:, 20:32]
    return _from_bytes(out)


def _mac_text(first: int, salt: int, counter: np.ndarray) -> pa.Array:
    c = np.asarray(counter, dtype=np.uint64)
    b = np.empty((len(c), 6), dtype=np.uint8)
    b[:, 0], b[:, 1] = first, salt
    for i in range(4):
        b[:, 2 + i] = (c >> np.uint64(8 * (3 - i))) & np.uint64(255)
    h = _hex(b)
    out = np.full((len(c), 17), ord(":"), dtype=np.uint8)
    for i in range(6):
        out[:, 3 * i:3 * i + 2] = h[:, 2 * i:2 * i + 2]
    return _from_bytes(out)


def ip4_text(x) -> pa.Array:
    """IPv4 integers -> dotted quads (two table lookups and one join)."""
    global _IP_HI, _IP_LO
    if _IP_HI is None:
        _IP_HI = pa.array([f"{i >> 8}.{i & 255}." for i in range(65536)], LS)
        _IP_LO = pa.array([f"{i >> 8}.{i & 255}" for i in range(65536)], LS)
    x = np.asarray(x, dtype=np.int64)
    if len(x) == 0:
        return pa.array([], LS)
    return pc.binary_join_element_wise(_IP_HI.take(pa.array(x >> 16)), _IP_LO.take(pa.array(x & 65535)), pa.scalar("", LS))


def _hex16(x) -> pa.Array:
    global _HEX16
    if _HEX16 is None:
        _HEX16 = pa.array([f"{i:x}" for i in range(65536)], LS)
    return _HEX16.take(pa.array(np.asarray(x, dtype=np.int64)))


_DATES = None


def _time_text(seconds: np.ndarray) -> pa.Array:
    """Seconds since TIME_BASE -> 'YYYY-MM-DDTHH:MM:SSZ' (fixed width, from lookup tables)."""
    global _DATES
    if _DATES is None:
        days = np.datetime64("2024-01-01") + np.arange(3 * 366)
        _DATES = np.frombuffer("".join(str(d) + "T" for d in days).encode(), np.uint8).reshape(-1, 11)
    s = np.asarray(seconds, dtype=np.int64)
    day, sod = s // 86400, s % 86400
    hh, mm, ss = sod // 3600, (sod // 60) % 60, sod % 60
    out = np.empty((len(s), 20), dtype=np.uint8)
    out[:, 0:11] = _DATES[day]
    for col, v in ((11, hh), (14, mm), (17, ss)):
        out[:, col] = 48 + v // 10
        out[:, col + 1] = 48 + v % 10
    out[:, 13] = out[:, 16] = ord(":")
    out[:, 19] = ord("Z")
    return _from_bytes(out)


def _const(value: str | None, n: int) -> pa.Array:
    if value is None:
        return pa.nulls(n, LS)
    return pa.array([value], LS).take(pa.array(np.zeros(n, dtype=np.int32)))


def _pick(strings, idx) -> pa.Array:
    """strings[idx] (strings: a list or pyarrow array); idx < 0 gives null."""
    arr = strings if isinstance(strings, pa.Array) else pa.array(list(strings), LS)
    idx = np.asarray(idx, dtype=np.int64)
    if len(idx) == 0:
        return pa.array([], arr.type)
    if len(arr) == 0:
        return pa.nulls(len(idx), arr.type)
    mask = idx < 0
    return arr.take(pa.array(np.where(mask, 0, idx), mask=mask if mask.any() else None))


def _num_text(x) -> pa.Array:
    return pc.cast(pa.array(np.asarray(x, dtype=np.int64)), LS)


def _join(*parts) -> pa.Array:
    parts = [pa.scalar(p, LS) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*parts, pa.scalar("", LS))


def _where(mask, a, b) -> pa.Array:
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), a, b)


def _bools(values, null=None) -> pa.Array:
    v = np.asarray(values, dtype=bool)
    return pa.array(v, pa.bool_(), mask=None if null is None else np.asarray(null, dtype=bool))


def _ints(values, null=None) -> pa.Array:
    v = np.asarray(values, dtype=np.int64)
    return pa.array(v, pa.int64(), mask=None if null is None else np.asarray(null, dtype=bool))


def _concat(parts: list[pa.Array]) -> pa.Array:
    parts = [p for p in parts if p is not None]
    return pa.concat_arrays([p.cast(parts[0].type) if p.type != parts[0].type else p for p in parts])


# =============================================================================================
# Exclusions: real values the synthetic data must not reuse (never stored in the model)

# Names every cloud uses (Neutron's per-project default security group): never identifying.
GENERIC_NAMES = frozenset({"default"})


@dataclass
class Exclusions:
    ids: pa.Array
    names: pa.Array
    hosts: pa.Array
    mac_prefixes: frozenset[str]  # first two octets ("02:ab") of every real MAC

    @classmethod
    def from_tables(cls, tables: dict[str, pd.DataFrame]) -> "Exclusions":
        def vals(pairs):
            out = []
            for table, col in pairs:
                df = tables.get(table)
                if df is not None and len(df) and col in df.columns:
                    s = df[col].astype("string").str.strip()
                    out.append(pa.array(s[s.notna() & (s != "")].unique(), LS))
            return pc.unique(pa.concat_arrays(out)) if out else pa.array([], LS)

        id_cols = [(t, c) for t in TABLES for c in TABLES[t].column_names
                   if c == "id" or c.endswith("_id")]
        names = [(t, c) for t, cols in {"networks": ["name"], "subnets": ["name"],
                                        "ports": ["name", "dns_name"], "security_groups": ["name"],
                                        "routers": ["name"], "fabric_switches": ["name"]}.items()
                 for c in cols]
        macs = vals([("hosts", "mac_address"), ("hosts", "host_dvr_mac"), ("ports", "mac_address")])
        real_names = vals(names)
        # Neutron names every project's default group "default": it identifies nobody, and
        # renaming it would hide the default groups from anyone learning from the output.
        real_names = pc.filter(real_names, pc.invert(pc.is_in(real_names, pa.array(sorted(GENERIC_NAMES), LS))))
        return cls(ids=vals(id_cols), names=real_names,
                   hosts=vals([("hosts", "node_name"), ("ports", "binding_host_id")]),
                   mac_prefixes=frozenset(str(m).lower()[:5] for m in macs.to_pylist()))


def _clashes(values: pa.Array, pool: pa.Array | None) -> np.ndarray:
    if pool is None or len(pool) == 0 or len(values) == 0:
        return np.zeros(len(values), dtype=bool)
    return np.asarray(pc.fill_null(pc.is_in(values, value_set=pool), False).to_numpy(zero_copy_only=False),
                      dtype=bool)


# =============================================================================================
# Sampling from the model

class _Sampler:
    """Draws per row from the histogram of the row's kind (the pooled one when the kind has none)."""

    def __init__(self, model: dict, kinds: list[str], rng: np.random.Generator):
        self.model, self.kinds, self.rng = model, kinds, rng

    def get(self, kind: str, key):
        def look(d):
            for k in (key if isinstance(key, tuple) else (key,)):
                if not isinstance(d, dict):
                    return None
                d = d.get(k)
            return d

        v = look(self.model["kinds"].get(kind, {}))
        if v is None or (isinstance(v, (list, dict)) and not v):
            v = look(self.model.get("global", {}))
        return v

    def _idx(self, h: list, n: int) -> np.ndarray:
        c = np.array([x[1] for x in h], dtype=np.float64)
        return self.rng.choice(len(h), size=n, p=c / c.sum())

    def cols(self, key, kind_rows: np.ndarray, ncols: int | None = None, default=None):
        """[(codes, categories)] per column (ncols None: one scalar column)."""
        n = len(kind_rows)
        width = ncols or 1
        present = np.unique(kind_rows)
        hs = {k: (self.get(self.kinds[k], key) or []) for k in present}
        cats: list[list] = [[] for _ in range(width)]
        index: list[dict] = [{} for _ in range(width)]

        def code(c, v):
            t = json.dumps(v)
            if t not in index[c]:
                index[c][t] = len(cats[c])
                cats[c].append(v)
            return index[c][t]

        dflt = [code(c, default if ncols is None else (default[c] if default else None))
                for c in range(width)]
        codes = np.tile(np.array(dflt, dtype=np.int64)[:, None], (1, n))
        for k in present:
            h = hs[k]
            if not h:
                continue
            rows = np.flatnonzero(kind_rows == k)
            table = np.array([[code(c, (x[0] if ncols is None else x[0][c])) for c in range(width)]
                              for x in h], dtype=np.int64)
            codes[:, rows] = table[self._idx(h, len(rows))].T
        return [(codes[c], cats[c]) for c in range(width)]

    def ints(self, key, kind_rows: np.ndarray, default: int = 0) -> np.ndarray:
        (codes, cats), = self.cols(key, kind_rows, None, default)
        return _int_values(codes, cats, default)

    def share(self, key, kind_rows: np.ndarray, default: float = 0.0) -> np.ndarray:
        p = np.array(self.value(key, default), dtype=np.float64)
        return self.rng.random(len(kind_rows)) < p[kind_rows] if len(kind_rows) else np.zeros(0, bool)

    def value(self, key, default=None) -> list:
        """The scalar `key` (a share) per kind, `default` where neither kind nor pool has one."""
        vals = [self.get(k, key) for k in self.kinds]
        return [default if v is None else v for v in vals]


def _int_values(codes, cats, default=0) -> np.ndarray:
    vals = np.array([default if v is None else int(v) for v in cats], dtype=np.int64)
    return vals[codes]


def _str_col(codes, cats) -> pa.Array:
    return _pick([None if v is None else str(v) for v in cats], codes)


def _bool_col(codes, cats) -> pa.Array:
    vals = np.array([bool(v) if v is not None else False for v in cats])
    nulls = np.array([v is None for v in cats])
    return _bools(vals[codes], nulls[codes] if nulls.any() else None)


def _int_col(codes, cats) -> pa.Array:
    vals = np.array([int(v) if v is not None else 0 for v in cats], dtype=np.int64)
    nulls = np.array([v is None for v in cats])
    return _ints(vals[codes], nulls[codes] if nulls.any() else None)


def _largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    raw = shares / shares.sum() * total
    base = np.floor(raw).astype(np.int64)
    rest = total - base.sum()
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return base


def _fit(host: np.ndarray, weight: np.ndarray, room: np.ndarray, what: str) -> np.ndarray:
    """Move units (VMs, ports) off hosts they would overfill, onto hosts with room.

    Units keep their host in order until it is full; the rest are laid, in order, on a line of
    the remaining room per host, each host's room shortened by (largest unit - 1) so no unit
    straddles past a host's capacity. `room` is updated in place."""
    host = host.copy()
    if len(host) == 0:
        return host
    order = np.argsort(host, kind="stable")
    h_sorted = host[order]
    w_sorted = weight[order]
    cum = np.cumsum(w_sorted)
    start = _starts(np.bincount(h_sorted, minlength=len(room)))
    before = np.concatenate([[0], cum])[start]  # cumulative weight before each host's run
    over = (cum - before[h_sorted]) > room[h_sorted]
    kept = ~over
    load = np.bincount(h_sorted[kept], weights=w_sorted[kept], minlength=len(room)).astype(np.int64)
    room -= load
    if not over.any():
        return host
    ev = order[over]
    need = weight[ev]
    eff = np.maximum(room - (int(weight.max()) - 1), 0)
    if need.sum() > eff.sum():
        raise SynthParamsError(f"synthesize.max_ports_per_host is too small for the {what}: "
                               f"raise it or the number of hosts")
    line = np.cumsum(eff)
    starts = np.cumsum(need) - need
    dest = np.searchsorted(line, starts, side="right")
    host[ev] = dest
    room -= np.bincount(dest, weights=need, minlength=len(room)).astype(np.int64)
    return host


# =============================================================================================
# Generation

STEPS = ("plan", "networks", "subnets", "ports", "routers", "floating IPs", "hosts",
         "security groups", "tables", "fabric")


class _Ids:
    """Seeded UUIDs (and 32-hex project ids), redrawn where they equal a real id."""

    def __init__(self, rng: np.random.Generator, exclude: Exclusions | None):
        self.rng, self.exclude = rng, exclude

    def _draw(self, n: int, fmt: Callable[[np.ndarray], pa.Array]) -> pa.Array:
        b = np.frombuffer(self.rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
        out = fmt(b)
        for _ in range(8):
            bad = _clashes(out, self.exclude.ids if self.exclude else None)
            if not bad.any():
                return out
            b[bad] = np.frombuffer(self.rng.bytes(16 * int(bad.sum())), np.uint8).reshape(-1, 16)
            out = fmt(b)
        raise RuntimeError("could not draw ids distinct from the real ones")  # 2^-122 per draw

    def uuids(self, n: int) -> pa.Array:
        return self._draw(n, _uuid_text)

    def hex32(self, n: int) -> pa.Array:
        def fmt(b):
            b = b.copy()
            b[:, 6] = (b[:, 6] & 0x0F) | 0x40
            b[:, 8] = (b[:, 8] & 0x3F) | 0x80
            return _from_bytes(_hex(b))
        return self._draw(n, fmt)


def _avoid_names(names: pa.Array, exclude: Exclusions | None) -> pa.Array:
    """Append '-s' to any generated name that equals a real one (until none does)."""
    for _ in range(8):
        bad = _clashes(names, exclude.names if exclude else None)
        if not bad.any():
            return names
        names = _where(bad, _join(names, "-s"), names)
    return names


def _params(params: dict | None, model: dict) -> dict[str, Any]:
    sp = {**DEFAULTS, **{k: v for k, v in ((params or {}).get("synthesize") or {}).items() if v is not None}}
    out = dict(sp)
    for key in ("seed", "hosts", "max_ports_per_host"):
        try:
            out[key] = int(sp[key])
        except (TypeError, ValueError):
            raise SynthParamsError(f"synthesize.{key} must be an integer, got {sp[key]!r}") from None
    if out["hosts"] < 1:
        raise SynthParamsError(f"synthesize.hosts must be >= 1, got {out['hosts']}")
    if out["max_ports_per_host"] < 1:
        raise SynthParamsError(f"synthesize.max_ports_per_host must be >= 1, got {out['max_ports_per_host']}")
    if sp["projects"] in (None, "auto"):
        ratio = (model.get("infra") or {}).get("projects_per_compute_host") or 1 / 3
        out["projects"] = max(1, int(round(out["hosts"] * ratio)))
    else:
        try:
            out["projects"] = int(sp["projects"])
        except (TypeError, ValueError):
            raise SynthParamsError(f"synthesize.projects must be an integer or auto, got {sp['projects']!r}") from None
        if out["projects"] < 0:
            raise SynthParamsError(f"synthesize.projects must be >= 0, got {out['projects']}")
    zones = sp.get("zones")
    if zones in (None, "auto", "as_learned"):
        zones = (model.get("infra") or {}).get("zones") or 1
    try:
        out["zones"] = max(1, min(int(zones), out["hosts"]))
    except (TypeError, ValueError):
        raise SynthParamsError(f"synthesize.zones must be an integer, got {zones!r}") from None
    return out


def _mix(mix, model: dict, kinds: list[str]) -> np.ndarray:
    if mix in (None, "as_learned"):
        shares = np.array([float(model["kinds"][k].get("projects") or 0) for k in kinds])
        return shares if shares.sum() > 0 else np.ones(len(kinds))
    if not isinstance(mix, dict) or not mix:
        raise SynthParamsError(f"synthesize.mix must be as_learned or a mapping kind: share, got {mix!r}")
    unknown = sorted(set(map(str, mix)) - set(kinds))
    if unknown:
        raise SynthParamsError(f"synthesize.mix: unknown kind(s) {', '.join(unknown)}; the model "
                               f"knows {', '.join(kinds)}")
    try:
        shares = np.array([float(mix.get(k, 0) or 0) for k in kinds])
    except (TypeError, ValueError):
        raise SynthParamsError(f"synthesize.mix shares must be numbers, got {mix!r}") from None
    if (shares < 0).any() or shares.sum() <= 0:
        raise SynthParamsError("synthesize.mix shares must be >= 0 and not all zero")
    return shares


def generate(model: dict[str, Any], params: dict | None = None,
             progress: Callable[[str, int, int], None] | None = None,
             exclude: Exclusions | None = None,
             build_fabric: Callable | None = None) -> dict[str, pd.DataFrame]:
    """A synthetic data center: every model table, conformed; see the module docstring.

    params: the whole params dict (sections `synthesize` and `fabric`). exclude: real values
    to stay clear of (Exclusions.from_tables). build_fabric defaults to pipeline.fabric's."""
    if model.get("format") != MODEL_FORMAT:
        raise SynthParamsError(f"model format {model.get('format')!r} is not {MODEL_FORMAT}")
    sp = _params(params, model)
    kinds = sorted(model["kinds"])
    rng = np.random.default_rng(sp["seed"])
    S = _Sampler(model, kinds, rng)
    ids = _Ids(rng, exclude)
    step = 0

    def tick(name):
        nonlocal step
        if progress:
            progress(name, step, len(STEPS))
        step += 1

    tick("plan")
    P, C, Z, cap = sp["projects"], sp["hosts"], sp["zones"], sp["max_ports_per_host"]
    counts = _largest_remainder(_mix(sp["mix"], model, kinds), P)
    kind_p = rng.permutation(np.repeat(np.arange(len(kinds), dtype=np.int64), counts))
    proj_ids = ids.hex32(P)
    admin_id = ids.hex32(1)
    # Names carry the kind as their second dash-separated field (syn-web-sn1), as the naming
    # labeler expects; projects of the fallback kinds (no profile) get none (syn-sn1).
    labelled = np.array([k not in (FALLBACK_KIND, UNLABELLED_KIND) for k in kinds] or [False])
    tok = [(("".join(ch for ch in k.lower() if ch.isalnum()) or "x") + "-") if labelled[i] else ""
           for i, k in enumerate(kinds)]
    tok_p = _pick(tok, kind_p)
    zone_names = [f"az{z + 1}" for z in range(Z)]

    # --- networks -------------------------------------------------------------------------------
    tick("networks")
    n_net = np.maximum(S.ints("networks_per_project", kind_p, 1), 0)
    net_proj, net_k = _seg(n_net)
    N = len(net_proj)
    net_kind = kind_p[net_proj]
    net_attr = S.cols("network", net_kind, 6, ["vxlan", 1450, True, False, True, "ACTIVE"])
    vpc = S.share("vpc_share", net_kind)
    vpc_prefix = np.clip(S.ints("vpc_prefix", net_kind, 16), 8, 30)
    (rc, rcats), = S.cols("address_range", net_kind, None, "10")
    fam = np.array([RANGE_NAMES.index(v) if v in RANGE_NAMES else 0 for v in rcats], np.int64)[rc]
    n4 = np.maximum(S.ints("v4_subnets_per_network", net_kind, 1), 0)
    dual = S.share("v6_share", net_kind) & ~vpc
    n6 = np.where(dual, np.maximum(S.ints("v6_subnets_per_network", net_kind, 1), 1), 0)
    n_zone = S.ints("network_zones", net_kind, -1)

    # --- IPv4 subnets and the address plan ------------------------------------------------------
    tick("subnets")
    s4_net, _ = _seg(n4)
    S4 = len(s4_net)
    s4_kind = net_kind[s4_net]
    (pc_, pcats), (wc, wcats) = S.cols("subnet_v4", s4_kind, 2, [24, 10])
    prefix = np.clip(_int_values(pc_, pcats, 24), 8, 30)
    work = _int_values(wc, wcats, 0).astype(np.float64)
    # a little multiplicative noise: sizes like the real ones, not copies of them
    work = np.maximum(np.rint(work * np.exp(rng.normal(0.0, 0.1, S4))), 0).astype(np.int64)
    gw4 = S.share("gateway_share", s4_kind, 1.0)
    dhcp4 = S.share("enable_dhcp_v4", s4_kind, 1.0)
    poff = S.ints("pool_offset", s4_kind, 2)
    npool = S.ints("pools_per_subnet", s4_kind, 1)
    (dns4c, dnscats), = S.cols("dns", s4_kind, None, "")
    size = np.left_shift(np.int64(1), 32 - prefix)
    lo_min = np.where(gw4, 2, 1)
    poff = np.where((poff < lo_min) | (poff > size - 2), lo_min, poff)
    pool_len = size - 1 - poff
    two = (npool >= 2) & (pool_len >= 8)
    gap_at = np.where(two, pool_len * 45 // 100, pool_len)
    gap_len = np.where(two, np.maximum(1, pool_len * 15 // 100), 0)
    usable = pool_len - gap_len

    # subnets of a network packed largest first inside the network's block (aligned: sizes are
    # powers of two and decreasing)
    order = np.lexsort((-size, s4_net))
    sz = size[order]
    cs = np.cumsum(sz) - sz
    grp_first = _starts(np.bincount(s4_net, minlength=N))
    inner = np.empty(S4, np.int64)
    inner[order] = cs - cs[np.minimum(grp_first[s4_net[order]], max(S4 - 1, 0))] if S4 else cs
    total = np.bincount(s4_net, weights=size, minlength=N).astype(np.int64)
    env = np.where(total > 0, np.left_shift(np.int64(1), np.ceil(np.log2(np.maximum(total, 1))).astype(np.int64)), 0)
    vpc_size = np.left_shift(np.int64(1), 32 - vpc_prefix)
    block = np.where(vpc, np.maximum(vpc_size, env), env)
    slots = np.where(vpc & (env > 0), block // np.maximum(env, 1), 1)
    slot_off = np.floor(rng.random(N) * slots).astype(np.int64) * env
    pool_size = np.array([1 << b for _, b in RFC1918], np.int64)
    fam = np.where(block > pool_size[fam], 0, fam)
    net_base = np.zeros(N, np.int64)
    for f, (base, bits) in enumerate(RFC1918):
        sel = np.flatnonzero((fam == f) & (block > 0))
        if not len(sel):
            continue
        sel = sel[np.lexsort((sel, -block[sel]))]
        off = np.cumsum(block[sel]) - block[sel]
        net_base[sel] = base + off % (1 << bits)  # wraps around once the range is full
    block_prefix = np.where(block > 0, 32 - np.log2(np.maximum(block, 1)).astype(np.int64), -1)
    s4_addr = net_base[s4_net] + slot_off[s4_net] + inner

    # --- IPv6 subnets: a random RFC 4193 /48 per dual-stack network, /64 subnets in it -----------
    s6_net, s6_j = _seg(n6)
    S6 = len(s6_net)
    s6_kind = net_kind[s6_net]
    v6_modes = S.cols("v6_modes", s6_kind, 2, [None, None])
    gw6 = S.share("gateway_share", s6_kind, 1.0)
    dhcp6 = S.share("enable_dhcp_v6", s6_kind, 1.0)
    g = rng.integers(0, 256, N) | 0xFD00
    h1 = rng.integers(1, 65536, N)
    h2 = rng.integers(1, 65536, N)
    p6 = [f"{g[n]:x}:{h1[n]:x}:{h2[n]:x}" + (f":{j:x}" if j else "") for n, j in zip(s6_net, s6_j)]
    s6_end = [f"{g[n]:x}:{h1[n]:x}:{h2[n]:x}:{j:x}:ffff:ffff:ffff:ffff" for n, j in zip(s6_net, s6_j)]
    p6_arr = pa.array(p6, LS)

    # --- DHCP ports: per network, one IP in each DHCP-enabled subnet at the first pool addresses
    has_dhcp_sub = (np.bincount(s4_net, weights=dhcp4, minlength=N) + np.bincount(s6_net, weights=dhcp6, minlength=N)) > 0
    agents = np.where(has_dhcp_sub & S.share("dhcp_share", net_kind, 1.0),
                      np.maximum(S.ints("dhcp_ports_per_network", net_kind, 1), 1), 0)
    min_usable = np.full(N, 1 << 40, np.int64)
    np.minimum.at(min_usable, s4_net[dhcp4], usable[dhcp4])
    agents = np.minimum(agents, np.maximum(min_usable, 0))
    start4 = np.where(dhcp4, agents[s4_net], 0)
    start6 = np.where(dhcp6, agents[s6_net], 0)
    work = np.clip(work, 0, np.maximum(usable - start4, 0))

    def addr4(sub, k):
        return s4_addr[sub] + poff[sub] + k + (k >= gap_at[sub]) * gap_len[sub]

    # --- workload ports (VMs, LB VIPs, unbound) -----------------------------------------------
    tick("ports")
    w_sub, w_r = _seg(work)
    W = len(w_sub)
    w_net = s4_net[w_sub]
    w_proj = net_proj[w_net]
    w_kind = kind_p[w_proj]
    w_ip = addr4(w_sub, start4[w_sub] + w_r)
    n_lb = S.ints("lb_vip_per_project", kind_p, 0)
    n_ub = S.ints("unbound_per_project", kind_p, 0)
    order = np.lexsort((rng.random(W), w_proj))
    rank = np.empty(W, np.int64)
    rank[order] = _rank(w_proj[order])
    VM, LB, UB = 0, 1, 2
    role = np.where(rank < n_lb[w_proj], LB, np.where(rank < (n_lb + n_ub)[w_proj], UB, VM))

    # multi-NIC VMs: the j-th VM port of a project's other networks joins the j-th VM of its
    # first network, with the learned share of secondary NICs
    vm_pos = np.flatnonzero(role == VM)
    vnet = w_net[vm_pos]
    j = _rank(vnet)
    vproj = net_proj[vnet]
    net0 = _starts(n_net)[vproj]
    c_net = np.bincount(vnet, minlength=N)
    elig = (net_k[vnet] > 0) & (j < c_net[net0])
    q = np.array(S.value("secondary_nic_share", 0.0), np.float64)
    vm_per_p = np.bincount(vproj, minlength=P)
    el_per_p = np.bincount(vproj[elig], minlength=P)
    qp = np.clip(q[kind_p] * vm_per_p / np.maximum(el_per_p, 1), 0, 1)
    secondary = elig & (rng.random(len(vm_pos)) < qp[vproj])
    first_vm_of_net = np.full(N, -1, np.int64)
    first_vm_of_net[vnet[j == 0]] = np.flatnonzero(j == 0)
    primary = np.where(secondary, first_vm_of_net[net0] + j, np.arange(len(vm_pos)))
    vm_of = np.empty(len(vm_pos), np.int64)
    prim = ~secondary
    V = int(prim.sum())
    vm_of[prim] = np.arange(V)
    vm_of[secondary] = vm_of[primary[secondary]]
    vm_proj = vproj[prim]
    vm_weight = np.bincount(vm_of, minlength=V)
    vm_rank = _rank(vm_proj)
    # compute hosts: zones of racks of hpr hosts (the learned usual rack size)
    infra = model.get("infra") or {}
    hpr_h = infra.get("hosts_per_rack") or []
    fab = (params or {}).get("fabric") or {}
    if hpr_h:
        hpr = int(max(hpr_h, key=lambda x: (x[1], -x[0]))[0])
    else:
        hpr = int(fab.get("hosts_per_rack") or 20)
    hpr = max(1, hpr)
    zc = np.array([C // Z + (z < C % Z) for z in range(Z)], np.int64)
    h_zone, h_in_zone = _seg(zc)
    h_rack = h_in_zone // hpr
    h_slot = h_in_zone % hpr
    rack_id = _starts(-(-zc // hpr))[h_zone] + h_rack
    # Host load: each compute host gets a target load drawn from the learned VM ports per
    # compute host, heavier targets clustered into racks (noisily), as schedulers fill racks
    load_h = infra.get("vm_ports_per_compute_host") or []
    tgt = (np.array([float(v) for v, _ in load_h])[S._idx(load_h, C)] if load_h else np.ones(C))
    tgt = np.sort(tgt)[::-1]
    racks_order = rng.permutation(int(rack_id.max()) + 1 if C else 0)
    rank_of_rack = np.empty(len(racks_order), np.int64)
    rank_of_rack[racks_order] = np.arange(len(racks_order))
    slot_order = np.lexsort((rng.random(C), rank_of_rack[rack_id])) if C else np.zeros(0, np.int64)
    noisy = np.argsort(-(np.log1p(tgt) + rng.normal(0.0, 0.5, C)), kind="stable")
    load_target = np.empty(C, np.float64)
    load_target[slot_order] = tgt[noisy]
    if load_target.sum() <= 0:
        load_target[:] = 1.0
    # The capacity line: host h is a segment of length load_target[h] (twice over, to wrap).
    # A project spans H_p hosts (H_p as learned for its kind: a rack for packed kinds, a zone
    # for spread ones): its H_p slots are evenly spaced points (one average host apart) from a
    # random start, so busy hosts are hit more often; a slot landing on the host of the previous
    # one moves on to the next host (a running max per project), keeping the H_p hosts distinct.
    # The first H_p VMs take one slot each; further VMs (packed kinds) go to the hosts between
    # the first and last slot in proportion to their load targets.
    (sv, svc), (sh, shc) = S.cols("vm_spread", kind_p, 2, [1, 1])
    ratio = _int_values(sh, shc, 1) / np.maximum(_int_values(sv, svc, 1), 1)
    v_p = np.bincount(vm_proj, minlength=P)
    h_p = np.where(v_p > 0, np.clip(np.rint(ratio * v_p), 1, np.maximum(np.minimum(v_p, C), 1)), 0).astype(np.int64)
    cum2 = np.cumsum(np.concatenate([load_target, load_target]))
    line = cum2[C - 1]
    s_proj, s_k = _seg(h_p)
    start_p = rng.random(P) * line if P else np.zeros(0)
    hk = np.searchsorted(cum2, start_p[s_proj] + (s_k + 0.5) * (line / C), side="right")
    big = 4 * C
    hu = np.maximum.accumulate(hk - s_k + s_proj * big) - s_proj * big + s_k if len(hk) else hk
    hu = np.minimum(hu, 2 * C - 1)
    first_slot = _starts(h_p)
    vh = h_p[vm_proj]
    s0 = hu[first_slot[vm_proj]] if V else np.zeros(0, np.int64)
    s1 = hu[first_slot[vm_proj] + np.maximum(vh - 1, 0)] if V else np.zeros(0, np.int64)
    lo = np.where(s0 > 0, cum2[np.maximum(s0 - 1, 0)], 0.0)
    extra = np.clip(np.searchsorted(cum2, lo + rng.random(V) * (cum2[s1] - lo), side="right"), s0, s1)
    vm_host = np.where(vm_rank < vh, hu[first_slot[vm_proj] + np.minimum(vm_rank, np.maximum(vh - 1, 0))] if V else 0,
                       extra) % C

    # --- network nodes and host capacity -------------------------------------------------------
    ratio_nn = float(infra.get("netnode_ratio") or 0.0)
    M = max(1, int(round(ratio_nn * C))) if ratio_nn > 0 else 0
    room = np.full(C + M, cap, np.int64)
    vm_host = _fit(vm_host, vm_weight, room[:C], "VMs") if V else vm_host  # updates room[:C]

    # --- routers and interfaces ------------------------------------------------------------------
    tick("routers")
    n_rt = np.maximum(S.ints("routers_per_project", kind_p, 0), 0)
    r_proj, r_k = _seg(n_rt)
    R = len(r_proj)
    r_kind = kind_p[r_proj]
    r_attr = S.cols("router", r_kind, 4, [True, "ACTIVE", False, False])
    r_gw = S.share("gateway_router_share", r_kind, 1.0)
    r_snat = S.share("snat_share", r_kind, 1.0)
    r_start = _starts(n_rt)
    # all subnets in one index space: IPv4 [0, S4), IPv6 [S4, S4 + S6)
    sub_net = np.concatenate([s4_net, s6_net])
    sub_proj = net_proj[sub_net]
    sub_kind = kind_p[sub_proj]
    sub_gw = np.concatenate([gw4, gw6])
    attached = sub_gw & (n_rt[sub_proj] > 0) & S.share("attach_share", sub_kind, 1.0)
    sub_router = np.where(attached, r_start[sub_proj] + np.floor(rng.random(S4 + S6) * np.maximum(n_rt[sub_proj], 1)).astype(np.int64), -1)
    ri_sub = np.flatnonzero(attached)
    I = len(ri_sub)
    sub_vpc = vpc[sub_net]
    att_rid = attached & sub_vpc & S.share("attached_router_id_share", sub_kind, 0.0)

    # --- floating IPs ----------------------------------------------------------------------------
    tick("floating IPs")
    n_fip = S.ints("fips_per_project", kind_p, 0)
    un = np.array(S.value("fip_unassociated_share", 0.0), np.float64)
    n_unassoc = rng.binomial(n_fip, un[kind_p]) if P else np.zeros(0, np.int64)
    want = n_fip - n_unassoc
    w_router = sub_router[w_sub]
    w_elig = (w_router >= 0) & r_gw[np.maximum(w_router, 0)] if R else np.zeros(W, bool)
    prop = np.zeros((len(kinds), 3))
    for k, kind in enumerate(kinds):
        d = S.get(kind, "fip_propensity") or {}
        for r, name in enumerate(WORKLOAD_ROLES):
            prop[k, r] = float(d.get(name) or 0.0)
    wp = prop[w_kind, role]
    key = np.where(w_elig & (wp > 0), rng.random(W) ** (1.0 / np.maximum(wp, 1e-12)), -1.0)
    order = np.lexsort((-key, w_proj))
    frank = np.empty(W, np.int64)
    frank[order] = _rank(w_proj[order])
    f_target = np.flatnonzero((key >= 0) & (frank < want[w_proj]))
    del key, frank, wp, order  # per-port temporaries: 5M ports make each one 40 MB
    f_assoc_proj = w_proj[f_target]
    f_un_proj, _ = _seg(n_unassoc)
    f_proj = np.concatenate([f_assoc_proj, f_un_proj])
    f_port = np.concatenate([f_target, np.full(len(f_un_proj), -1, np.int64)])
    o = np.argsort(f_proj, kind="stable")
    f_proj, f_port = f_proj[o], f_port[o]
    F = len(f_proj)
    f_kind = kind_p[f_proj]

    # --- external network: router gateways then floating IPs, /24 by /24 ---------------------
    g_router = np.flatnonzero(r_gw)
    Gw = len(g_router)
    E = Gw + F
    n_ext_sub = max(1, -(-E // EXT_PER_SUBNET))
    if n_ext_sub > len(EXTERNAL_BLOCKS_DOC) + EXTERNAL_BULK[1] // 256:
        raise SynthParamsError("synthesize: too many router gateways and floating IPs for the "
                               "external address space (100.64.0.0/11); lower projects")
    ext_block = np.array(list(EXTERNAL_BLOCKS_DOC) + [EXTERNAL_BULK[0] + 256 * i for i in range(max(0, n_ext_sub - 2))],
                         np.int64)[:n_ext_sub]
    e = np.arange(E, dtype=np.int64)
    ext_sub_of = e // EXT_PER_SUBNET
    ext_ip = ext_block[ext_sub_of] + 2 + e % EXT_PER_SUBNET

    # --- hosts -----------------------------------------------------------------------------------
    tick("hosts")
    nn_zone = np.arange(M, dtype=np.int64) % Z
    nn_k = np.arange(M, dtype=np.int64) // Z
    rack_w = max(3, len(str(int(h_rack.max()) + 1 if C else 1)))
    zone_arr = pa.array(zone_names, LS)

    def host_names(prefix: str) -> pa.Array:
        comp = _join(prefix, "az", _num_text(h_zone + 1), "-r", pc.utf8_lpad(_num_text(h_rack + 1), rack_w, "0"),
                     "-h", pc.utf8_lpad(_num_text(h_slot + 1), 4, "0"))
        nn = _join(prefix, "az", _num_text(nn_zone + 1), "-r", pc.utf8_lpad(_num_text(np.zeros(M, np.int64) + 1), rack_w, "0"),
                   "-n", pc.utf8_lpad(_num_text(nn_k + 1), 4, "0"))
        return _concat([comp, nn])

    names_h = host_names("")
    for attempt in range(1, 9):
        if not _clashes(names_h, exclude.hosts if exclude else None).any():
            break
        names_h = host_names("syn-" if attempt == 1 else f"syn{attempt}-")
    host_zone = np.concatenate([h_zone, nn_zone])

    # --- bindings of the other ports (learned per role) --------------------------------------
    def bind(role_name: str, n: int) -> np.ndarray:
        h = (infra.get("binding") or {}).get(role_name) or []
        cats = [x[0] for x in h] or ["none"]
        cat = np.array([BINDINGS.index(c) if c in BINDINGS else 2 for c in cats])[S._idx(h, n)] if h and n else np.full(n, 2)
        cat = np.where((cat == 1) & (M == 0), 0, cat)
        host = np.where(cat == 0, rng.integers(0, C, n) if n else 0,
                        np.where(cat == 1, C + (rng.integers(0, max(M, 1), n) if n else 0), -1))
        return host.astype(np.int64)

    d_net, _ = _seg(agents)
    D = len(d_net)
    # workload ports that are not VMs (LB VIPs, unbound) and the infrastructure ports
    w_host = np.full(W, -1, np.int64)
    w_host[vm_pos] = vm_host[vm_of]
    for code, name in ((LB, "lb_vip"), (UB, "unbound")):
        sel = np.flatnonzero(role == code)
        w_host[sel] = bind(name, len(sel))
    d_host, ri_host, g_host, f_host = bind("dhcp", D), bind("router_interface", I), bind("router_gateway", Gw), bind("floating_ip", F)
    all_host = np.concatenate([w_host, d_host, ri_host, g_host, f_host])
    bound_other = np.flatnonzero((all_host >= 0) & (np.concatenate([role != VM, np.ones(D + I + Gw + F, bool)])))
    if len(bound_other):
        all_host[bound_other] = _fit(all_host[bound_other], np.ones(len(bound_other), np.int64), room,
                                     "network ports")

    # --- security groups and rules ------------------------------------------------------------
    tick("security groups")
    n_sg = np.maximum(S.ints("sg_per_project", kind_p, 1), 0)
    has_def = S.share("default_sg_share", kind_p, 1.0) & (n_sg >= 1)
    sg_proj, sg_k = _seg(n_sg)
    G = len(sg_proj)
    sg_kind = kind_p[sg_proj]
    sg_default = (sg_k == 0) & has_def[sg_proj]
    sg_stateful = S.share("sg_stateful_share", sg_kind, 1.0)
    sg_start = _starts(n_sg)
    registry: dict[str, int] = {}
    templates: list[list] = []
    tid = np.zeros(G, np.int64)
    for key_name, mask in (("sg_templates_default", sg_default), ("sg_templates", ~sg_default)):
        rows = np.flatnonzero(mask)
        (tc, tcats), = S.cols(key_name, sg_kind[rows], None, [])
        glob = []
        for t in tcats:
            text = json.dumps(t)
            if text not in registry:
                registry[text] = len(templates)
                templates.append(t or [])
            glob.append(registry[text])
        tid[rows] = np.array(glob, np.int64)[tc] if len(rows) else tid[rows]
    t_len = np.array([len(t) for t in templates] or [0], np.int64)
    t_start = _starts(t_len)
    flat = [r for t in templates for r in t]
    rule_sg, rule_i = _seg(t_len[tid] if G else np.zeros(0, np.int64))
    RR = len(rule_sg)
    rule_row = t_start[tid[rule_sg]] + rule_i

    def rule_col(c):
        cats = sorted({json.dumps(r[c]) for r in flat})
        idx = {t: i for i, t in enumerate(cats)}
        codes = np.array([idx[json.dumps(r[c])] for r in flat] or [0], np.int64)[rule_row]
        return codes, [json.loads(t) for t in cats]

    rdir, reth, rproto, rlo, rhi, rrem = (rule_col(c) for c in range(6))
    eth6 = (np.array(reth[1] or ["IPv4"], dtype=object)[reth[0]] == "IPv6") if RR else np.zeros(0, bool)
    rem_kind = np.array([str(x).split("/")[0] for x in (rrem[1] or ["any"])], dtype=object)[rrem[0]] if RR else np.array([], dtype=object)
    rem_len = np.array([int(str(x).split("/")[1]) if "/" in str(x) else 0 for x in (rrem[1] or ["any"])], np.int64)[rrem[0]] if RR else np.zeros(0, np.int64)
    prefix_txt = np.full(RR, None, dtype=object)
    anyc = rem_kind == "cidr:any"
    prefix_txt[anyc & ~eth6] = "0.0.0.0/0"
    prefix_txt[anyc & eth6] = "::/0"
    # subnet/<len>: one of the group's project's own IPv4 subnets of that length (else any of its
    # subnets, else an unrelated private block)
    own = np.flatnonzero((rem_kind == "subnet") & ~eth6)
    if len(own):
        s4_proj = net_proj[s4_net]
        skey = s4_proj * 64 + prefix
        ukey, first = np.unique(skey, return_index=True)
        pkey, pfirst = np.unique(s4_proj, return_index=True)
        rp = sg_proj[rule_sg[own]]
        want = rp * 64 + np.clip(rem_len[own], 0, 32)
        at = np.clip(np.searchsorted(ukey, want), 0, max(len(ukey) - 1, 0))
        hit = (ukey[at] == want) if len(ukey) else np.zeros(len(own), bool)
        pat = np.clip(np.searchsorted(pkey, rp), 0, max(len(pkey) - 1, 0))
        phit = (pkey[pat] == rp) if len(pkey) else np.zeros(len(own), bool)
        sub = np.where(hit, first[at] if len(ukey) else 0, np.where(phit, pfirst[pat] if len(pkey) else 0, -1))
        found = sub >= 0
        if found.any():
            sf = sub[found]
            prefix_txt[own[found]] = np.array(_join(ip4_text(s4_addr[sf]), "/", _num_text(prefix[sf])).to_pylist(), dtype=object)
        rem_kind[own[~found]] = "private"
    rand = rng.integers(0, 2 ** 32, RR) if RR else np.zeros(0, np.int64)
    v4p = np.flatnonzero(np.isin(rem_kind, ["private", "public"]) & ~eth6)
    if len(v4p):
        plen = np.clip(rem_len[v4p], 0, 32)
        priv = rem_kind[v4p] == "private"
        # private: a block of 10/8; public: of 100.64.0.0/11 (or a documentation /24)
        lo_bits = np.where(priv, np.maximum(plen - 8, 0), np.maximum(plen - 11, 0))
        base = np.where(priv, 10 << 24, EXTERNAL_BULK[0])
        host_bits = 32 - plen
        netw = base + ((rand[v4p] % (np.left_shift(np.int64(1), lo_bits))) << host_bits)
        doc = ~priv & (plen >= 24)
        netw = np.where(doc, EXTERNAL_BLOCKS_DOC[0] + ((rand[v4p] % np.left_shift(np.int64(1), plen - 24).clip(1)) << host_bits), netw)
        plen = np.where(priv, np.maximum(plen, 8), np.where(doc, plen, np.maximum(plen, 11)))
        prefix_txt[v4p] = np.array(_join(ip4_text(netw), "/", _num_text(plen)).to_pylist(), dtype=object)
    for i in np.flatnonzero(np.isin(rem_kind, ["private", "public"]) & eth6):
        import ipaddress

        plen = int(min(max(rem_len[i], 0), 128))
        base = ipaddress.ip_network("fd00::/8" if rem_kind[i] == "private" else "2001:db8::/32")
        plen = max(plen, base.prefixlen)
        bits = (int(rand[i]) << 96) >> base.prefixlen
        net = ipaddress.ip_network((int(base.network_address) | (bits & ((1 << (128 - base.prefixlen)) - 1))) >> (128 - plen) << (128 - plen))
        prefix_txt[i] = f"{ipaddress.IPv6Address(int(net.network_address))}/{plen}"
    selfg = rem_kind == "group:self"
    otherg = rem_kind == "group:other"
    rsg_proj = sg_proj[rule_sg] if RR else np.zeros(0, np.int64)
    gcount = n_sg[rsg_proj] if RR else np.zeros(0, np.int64)
    other_k = (sg_k[rule_sg] + 1 + np.floor(rng.random(RR) * np.maximum(gcount - 1, 1)).astype(np.int64)) % np.maximum(gcount, 1) if RR else np.zeros(0, np.int64)
    rgroup = np.where(selfg, rule_sg, np.where(otherg, np.where(gcount > 1, sg_start[rsg_proj] + other_k, rule_sg), -1)) if RR else np.zeros(0, np.int64)

    # --- the port table -------------------------------------------------------------------------
    tick("tables")
    NP = W + D + I + Gw + F
    port_ids = ids.uuids(NP)
    net_ids = ids.uuids(N + 1)  # the last one is the external network
    ext_net = N
    sub_ids = ids.uuids(S4 + S6 + n_ext_sub)
    router_ids = ids.uuids(R)
    fip_ids = ids.uuids(F)
    sg_ids = ids.uuids(G)
    rule_ids = ids.uuids(RR)
    vm_ids = ids.uuids(V)
    n_lb_ports = int((role == LB).sum())
    lb_ids = ids.uuids(n_lb_ports)
    agent_ids = ids.uuids(M + 1)
    host_ids = ids.uuids(C + M)
    proj_all = _concat([proj_ids, admin_id, pa.array([""], LS)])  # P: admin, P+1: ''
    ext_empty = float((model.get("external") or {}).get("port_project_empty_share") or 0.0) >= 0.5

    # MACs: locally administered, a salt byte no real MAC uses, a bijective counter (unique)
    used = exclude.mac_prefixes if exclude else frozenset()
    salts = [s for s in rng.permutation(256) if all(f"{MAC_PREFIX[k]:02x}:{s:02x}" not in used for k in MAC_PREFIX)]
    if not salts:
        raise RuntimeError("every locally administered MAC prefix is used by the real data")
    salt = int(salts[0])
    ri_router = sub_router[ri_sub]

    def port_table():
        # a function: its per-port intermediates are freed once the table is built
        p_net = np.concatenate([w_net, d_net, sub_net[ri_sub], np.full(Gw + F, ext_net)])
        p_proj = np.concatenate([w_proj, net_proj[d_net], sub_proj[ri_sub],
                                 np.full(Gw, P + 1 if ext_empty else P), np.full(F, P + 1 if ext_empty else P)])
        p_kind = np.concatenate([w_kind, net_kind[d_net], sub_kind[ri_sub], r_kind[g_router], f_kind]).astype(np.int16)
        ROLE_NAMES = ("vm", "lb_vip", "unbound", "dhcp", "router_interface", "router_gateway", "floating_ip")
        p_role = np.concatenate([role, np.full(D, 3), np.full(I, 4), np.full(Gw, 5), np.full(F, 6)])

        # per-role attributes (status, admin, port security, vnic, vif), drawn per the port's kind:
        # one code array per column over all ports, decoded once from a small category list
        attr_cats: list[list] = [[] for _ in range(5)]
        attr_codes = np.zeros((5, NP), np.int16)
        role_rows = []
        for r, name in enumerate(ROLE_NAMES):
            rows = np.flatnonzero(p_role == r)
            role_rows.append(rows)
            drawn = S.cols(("port_attrs", name), p_kind[rows], 5,
                           ["ACTIVE", True, name in WORKLOAD_ROLES, "normal",
                            "ovs" if name in ("vm", "dhcp", "router_interface") else "unbound"])
            for c, (codes, cats) in enumerate(drawn):
                remap = []
                for v in cats:
                    if v not in attr_cats[c]:
                        attr_cats[c].append(v)
                    remap.append(attr_cats[c].index(v))
                attr_codes[c, rows] = np.array(remap, np.int16)[codes]
        p_status, p_vnic, p_vif = (_str_col(attr_codes[c], attr_cats[c]) for c in (0, 3, 4))
        p_admin, p_ps = (_bool_col(attr_codes[c], attr_cats[c]) for c in (1, 2))
        ps_np = np.array([bool(v) for v in attr_cats[2]] or [False])[attr_codes[2]]

        # names, device ids and owners per segment
        named = np.zeros(NP, bool)
        dns_named = np.zeros(NP, bool)
        for r, name in enumerate(ROLE_NAMES):
            rows = role_rows[r]
            named[rows] = S.share(("port_named", name), p_kind[rows], 0.0)
            dns_named[rows] = S.share(("dns_named", name), p_kind[rows], 0.0)
        w_tok = tok_p.take(pa.array(w_proj)) if W else pa.array([], LS)
        vm_rank_port = np.zeros(W, np.int64)
        vm_rank_port[vm_pos] = vm_rank[vm_of] + 1
        nic = np.zeros(W, np.int64)
        nic[vm_pos[secondary]] = np.minimum(net_k[vnet[secondary]], 9)  # ethN: N = network index
        lb_rank = np.zeros(W, np.int64)
        lb_rows = np.flatnonzero(role == LB)
        lb_rank[lb_rows] = np.arange(len(lb_rows))
        ub_rank = rank - n_lb[w_proj] + 1
        lb_text = _pick(lb_ids, np.where(role == LB, lb_rank, -1))
        name_w = _where(role == VM, _join("syn-", w_tok, "vm", _num_text(vm_rank_port), "-eth", _num_text(nic)),
                        _where(role == LB, _join("octavia-lb-", lb_text), _join("syn-", w_tok, "vip", _num_text(ub_rank)))) if W else pa.array([], LS)
        dev_w = _where(role == VM, _pick(vm_ids, np.where(role == VM, _vm_of_full(vm_pos, vm_of, W), -1)),
                       _where(role == LB, _join("lb-", lb_text), _const("", W))) if W else pa.array([], LS)
        owner_w = _where(role == VM, _join("compute:", _pick(zone_arr, host_zone[np.maximum(all_host[:W], 0)])),
                         _where(role == LB, _str_col(*S.cols("lb_owner", w_kind, None, "Octavia")[0]), _const("", W))) if W else pa.array([], LS)
        d_dev = _join("dhcp", _pick(agent_ids, np.where(d_host >= C, d_host - C, M)), "-", net_ids.take(pa.array(d_net))) if D else pa.array([], LS)
        (ric, ricats), = S.cols("ri_owner", sub_kind[ri_sub], None, "network:router_interface")
        ricats = [c if c in ROUTER_INTERFACE_OWNERS else "network:router_interface" for c in ricats]
        name_other = _join("syn-", _pick(["dhcp", "rif", "gw", "fip"], np.repeat([0, 1, 2, 3], [D, I, Gw, F])), "-",
                           _num_text(np.concatenate([np.arange(D), np.arange(I), np.arange(Gw), np.arange(F)]) + 1))
        p_name = _where(named, _concat([name_w, name_other]), _const("", NP)) if NP else pa.array([], LS)
        p_name = _avoid_names(p_name, exclude)
        p_dns = _where(dns_named & (p_role == 0), _concat([_join("syn-", w_tok, "vm", _num_text(vm_rank_port)), _const("", NP - W)]), _const("", NP)) if NP else pa.array([], LS)
        p_dns = _avoid_names(p_dns, exclude)
        p_dev = _concat([dev_w, d_dev, router_ids.take(pa.array(ri_router)), router_ids.take(pa.array(g_router)), fip_ids])
        p_owner = _concat([owner_w, _const("network:dhcp", D), _str_col(ric, ricats),
                           _const("network:router_gateway", Gw), _const("network:floatingip", F)])
        host_all_names = _concat([names_h, pa.array([""], LS)])
        p_host = host_all_names.take(pa.array(np.where(all_host >= 0, all_host, C + M)))

        a_mul, a_add = int(rng.integers(0, 2 ** 31)) * 2 + 1, int(rng.integers(0, 2 ** 32))
        counter = (np.arange(NP, dtype=np.uint64) * np.uint64(a_mul) + np.uint64(a_add)) & np.uint64(0xFFFFFFFF)
        p_mac = _mac_text(MAC_PREFIX["port"], salt, counter)

        # allowed address pairs (VMs and unbound ports): a VIP in the port's subnet or a private
        # block per project (e.g. a pod network)
        aap = np.zeros(NP, bool)
        aap[:W] = (role != LB) & S.share("aap_share", w_kind, 0.0)
        aap_rows = np.flatnonzero(aap)
        p_aap = _const("[]", NP)
        if len(aap_rows):
            (ak, akc), = S.cols("aap_kind", w_kind[aap_rows], None, "subnet")
            kind_txt = np.array([str(x) for x in akc], dtype=object)[ak]
            proj_rand = rng.integers(0, 2 ** 24, P)
            ip = np.empty(len(aap_rows), dtype=object)
            sub_rows = kind_txt == "subnet"
            vip = addr4(w_sub[aap_rows], np.maximum(usable[w_sub[aap_rows]] - 1, 0))
            ip[sub_rows] = np.array(ip4_text(vip[sub_rows]).to_pylist(), dtype=object)
            rest = np.flatnonzero(~sub_rows)
            if len(rest):
                kind_s = np.array([str(x).partition("/")[0] for x in akc], dtype=object)[ak[rest]]
                plen = np.clip(np.array([int(str(x).partition("/")[2] or 32) for x in akc], np.int64)[ak[rest]], 8, 32)
                r = proj_rand[w_proj[aap_rows[rest]]]
                priv = kind_s == "private"
                doc = ~priv & (plen >= 24)
                base = np.where(priv, (10 << 24) | ((r % np.left_shift(np.int64(1), plen - 8)) << (32 - plen)),
                                np.where(doc, EXTERNAL_BLOCKS_DOC[1] + ((r % np.left_shift(np.int64(1), np.maximum(plen - 24, 0))) << (32 - plen)),
                                         EXTERNAL_BULK[0]))
                plen = np.where(priv | doc, plen, 11)
                text = _where(plen < 32, _join(ip4_text(base), "/", _num_text(plen)), ip4_text(base))
                ip[rest] = np.array(text.to_pylist(), dtype=object)
            txt = _join('[{"ip_address":"', pa.array(ip, LS), '","mac_address":"', p_mac.take(pa.array(aap_rows)), '"}]')
            full = np.full(NP, -1, np.int64)
            full[aap_rows] = np.arange(len(aap_rows))
            p_aap = _where(aap, _pick(txt, np.maximum(full, 0)) if len(txt) else p_aap, p_aap)

        # Alcor-style ports (in VPC networks): veth name derived from the port id, fast path flag
        alcor = np.zeros(NP, bool)
        in_vpc = np.concatenate([vpc, [False]])[p_net]
        alcor[in_vpc] = S.share("alcor_port_share", p_kind[in_vpc], 0.0)
        p_veth = _where(alcor, _join("veth", pc.utf8_slice_codeunits(port_ids, 0, 11)), _const(None, NP)) if NP else pa.array([], LS)
        fast = alcor & S.share("fast_path_share", p_kind, 0.0)
        p_fast = _bools(np.ones(NP, bool), ~fast)
        created = rng.integers(0, 2 * 365 * 86400, NP)
        updated = created + rng.integers(0, 60 * 86400, NP)
        ports = {
            "id": port_ids, "network_id": net_ids.take(pa.array(p_net)), "project_id": proj_all.take(pa.array(p_proj)),
            "name": p_name, "mac_address": p_mac, "device_id": p_dev, "device_owner": p_owner,
            "port_security_enabled": p_ps, "admin_state_up": p_admin, "status": p_status,
            "binding_host_id": p_host, "binding_vif_type": p_vif, "binding_vnic_type": p_vnic,
            "dns_name": p_dns, "allowed_address_pairs": p_aap, "veth_name": p_veth, "fast_path": p_fast,
            "created_at": _time_text(created), "updated_at": _time_text(updated),
        }
        return _frame("ports", ports), p_proj, ps_np

    ports, p_proj, ps_np = port_table()

    # --- fixed IPs -----------------------------------------------------------------------------
    gw_ip4 = s4_addr + 1
    ri4 = ri_sub < S4

    def fixed_ips():
        v6_first = np.full(N, -1, np.int64)
        v6_first[s6_net[s6_j == 0]] = np.flatnonzero(s6_j == 0)
        w_v6 = (v6_first[w_net] >= 0) & S.share("v6_port_share", w_kind, 1.0)
        w6 = np.flatnonzero(w_v6)
        s6_of = v6_first[w_net[w6]]
        k6 = start6[s6_of] + _rank_by(s6_of) + 2
        keep6 = k6 <= 0xFFFF
        w6, s6_of, k6 = w6[keep6], s6_of[keep6], k6[keep6]
        # DHCP addresses: every DHCP-enabled subnet x its network's agents
        dsub = np.concatenate([np.flatnonzero(dhcp4), S4 + np.flatnonzero(dhcp6)])
        dsub = dsub[np.argsort(sub_net[dsub], kind="stable")]
        d_idx = _rank(sub_net[dsub])
        dd_sub, dd_a = _seg(agents[sub_net[dsub]])
        dd_s = dsub[dd_sub]
        dd_port = W + _starts(agents)[sub_net[dd_s]] + dd_a
        dd_index = d_idx[dd_sub]
        dd4 = dd_s < S4
        ip_parts = [
            (np.arange(W), np.zeros(W, np.int64), w_sub, ip4_text(w_ip)),
            (w6, np.ones(len(w6), np.int64), S4 + s6_of, _join(p6_arr.take(pa.array(s6_of)), "::", _hex16(k6))),
            (dd_port[dd4], dd_index[dd4], dd_s[dd4], ip4_text(addr4(dd_s[dd4], dd_a[dd4]))),
            (dd_port[~dd4], dd_index[~dd4], dd_s[~dd4],
             _join(p6_arr.take(pa.array(dd_s[~dd4] - S4)), "::", _hex16(dd_a[~dd4] + 2))),
            (W + D + np.flatnonzero(ri4), np.zeros(int(ri4.sum()), np.int64), ri_sub[ri4], ip4_text(gw_ip4[ri_sub[ri4]])),
            (W + D + np.flatnonzero(~ri4), np.zeros(int((~ri4).sum()), np.int64), ri_sub[~ri4],
             _join(p6_arr.take(pa.array(ri_sub[~ri4] - S4)), "::1")),
            (W + D + I + np.arange(Gw + F), np.zeros(Gw + F, np.int64), S4 + S6 + ext_sub_of, ip4_text(ext_ip)),
        ]
        ip_port = np.concatenate([x[0] for x in ip_parts]).astype(np.int64)
        ip_index = np.concatenate([x[1] for x in ip_parts]).astype(np.int64)
        ip_sub = np.concatenate([x[2] for x in ip_parts]).astype(np.int64)
        ip_text = _concat([x[3] for x in ip_parts])
        o = np.lexsort((ip_index, ip_port))
        port_ips = {"port_id": port_ids.take(pa.array(ip_port[o])), "ip_index": _ints(ip_index[o]),
                    "subnet_id": sub_ids.take(pa.array(ip_sub[o])), "ip_address": ip_text.take(pa.array(o))}
        w_ip_text = ip_parts[0][3]
        return _frame("port_ips", port_ips), w_ip_text, _ip_text_of(ip_parts, 4, 5, ri4)

    port_ips, w_ip_text, ri_ip = fixed_ips()

    # --- subnets and pools (table order: by network, IPv4 before IPv6; external last) ------
    sub_ver = np.concatenate([np.full(S4, 4), np.full(S6, 6)])
    so = np.lexsort((sub_ver, sub_net))
    sub_rank = np.empty(S4 + S6, np.int64)
    sub_rank[so] = _rank(sub_proj[so])
    ext_o = np.arange(n_ext_sub)
    cidr_all = _concat([_join(ip4_text(s4_addr), "/", _num_text(prefix)),
                        _join(p6_arr, "::/64"),
                        _join(ip4_text(ext_block), "/24")])
    gw_txt = _concat([_where(gw4, ip4_text(gw_ip4), _const(None, S4)),
                      _where(gw6, _join(p6_arr, "::1"), _const(None, S6)) if S6 else pa.array([], LS),
                      ip4_text(ext_block + 1)])
    dns_json = {}
    for pattern in dnscats:
        parts, cnt = [], {"private": 0, "public": 0, "private6": 0, "public6": 0}
        for p in [x for x in str(pattern or "").split(",") if x]:
            pool = {"private": PRIVATE_DNS, "public": PUBLIC_DNS, "private6": PRIVATE_DNS6, "public6": PUBLIC_DNS6}.get(p)
            if pool:
                parts.append(pool[cnt[p] % len(pool)])
                cnt[p] += 1
        dns_json[pattern] = json.dumps(parts, separators=(",", ":"))
    dns_txt = _concat([_pick([dns_json[c] for c in dnscats], dns4c), _const("[]", S6 + n_ext_sub)])
    v6am, v6ra = v6_modes
    ext_dhcp = float((model.get("external") or {}).get("enable_dhcp_share") or 0.0)
    sub_all_proj = np.concatenate([sub_proj, np.full(n_ext_sub, P)])
    sub_all_net = np.concatenate([sub_net, np.full(n_ext_sub, ext_net)])
    sub_names = _concat([_join("syn-", tok_p.take(pa.array(sub_proj)) if S4 + S6 else pa.array([], LS),
                               "sn", _num_text(sub_rank + 1)),
                         _join("syn-ext", _num_text(ext_o + 1))])
    att_txt = _concat([_where(att_rid, router_ids.take(pa.array(np.maximum(sub_router, 0))) if R else _const(None, S4 + S6),
                              _const(None, S4 + S6)), _const(None, n_ext_sub)])
    t_sub = {
        "id": sub_ids, "network_id": net_ids.take(pa.array(sub_all_net)),
        "project_id": proj_all.take(pa.array(sub_all_proj)), "name": _avoid_names(sub_names, exclude),
        "cidr": cidr_all, "ip_version": _ints(np.concatenate([sub_ver, np.full(n_ext_sub, 4)])),
        "gateway_ip": gw_txt,
        "enable_dhcp": _bools(np.concatenate([dhcp4, dhcp6, np.full(n_ext_sub, ext_dhcp >= 0.5)])),
        "host_routes": _const("[]", S4 + S6 + n_ext_sub), "dns_nameservers": dns_txt,
        "ipv6_address_mode": _concat([_const(None, S4), _str_col(*v6am), _const(None, n_ext_sub)]),
        "ipv6_ra_mode": _concat([_const(None, S4), _str_col(*v6ra), _const(None, n_ext_sub)]),
        "attached_router_id": att_txt,
    }
    sub_order = np.concatenate([so, S4 + S6 + ext_o])
    t_sub = {k: v.take(pa.array(sub_order)) for k, v in t_sub.items()}
    # pools: IPv4 one or two (around a gap), IPv6 one, external one
    p0_start = s4_addr + poff
    p0_end = np.where(two, p0_start + gap_at - 1, s4_addr + size - 2)
    p1_start = p0_start + gap_at + gap_len
    p1_end = s4_addr + size - 2
    two_idx = np.flatnonzero(two)
    pool_sub = np.concatenate([np.arange(S4), two_idx, S4 + np.arange(S6), S4 + S6 + ext_o])
    pool_i = np.concatenate([np.zeros(S4, np.int64), np.ones(len(two_idx), np.int64), np.zeros(S6 + n_ext_sub, np.int64)])
    pool_start = _concat([ip4_text(p0_start), ip4_text(p1_start[two_idx]), _join(p6_arr, "::2"), ip4_text(ext_block + 2)])
    pool_end = _concat([ip4_text(p0_end), ip4_text(p1_end[two_idx]), pa.array(s6_end, LS), ip4_text(ext_block + 254)])
    pos_of_sub = np.empty(S4 + S6 + n_ext_sub, np.int64)
    pos_of_sub[sub_order] = np.arange(len(sub_order))
    po = np.lexsort((pool_i, pos_of_sub[pool_sub]))
    t_pools = {"subnet_id": sub_ids.take(pa.array(pool_sub[po])), "pool_index": _ints(pool_i[po]),
               "start": pool_start.take(pa.array(po)), "end": pool_end.take(pa.array(po))}

    # --- networks -------------------------------------------------------------------------------
    ext_attr = ((model.get("external") or {}).get("network") or [[["flat", 1500, True, False, True, "ACTIVE"], 1]])
    ext_row = max(ext_attr, key=lambda x: x[1])[0]
    n_type, n_mtu, n_ps, n_shared, n_admin, n_status = net_attr
    types = [None if v is None else str(v) for v in n_type[1]]
    type_arr = np.array(types + [None], dtype=object)[np.concatenate([n_type[0], [len(types)]])]
    type_arr[-1] = ext_row[0]
    seg = np.zeros(N + 1, np.int64)
    seg_null = np.ones(N + 1, bool)
    for tname, (lo, hi) in SEGMENTATION_RANGES.items():
        sel = np.flatnonzero(type_arr[:N] == tname)
        if len(sel):
            seg[sel] = _unique_ints(rng, len(sel), lo, hi)
            seg_null[sel] = False
    physnet = np.isin(type_arr, ["flat", "vlan"])
    ext_phys = float((model.get("external") or {}).get("physical_network_share") or 0.0) >= 0.5
    physnet[-1] = ext_phys and ext_row[0] in ("flat", "vlan")
    zjson = ['[]'] + [json.dumps(zone_names[:k], separators=(",", ":")) for k in range(1, Z + 1)]
    zone_start = rng.integers(0, Z, N)
    nz_txt = []
    for k in range(0, Z + 1):
        nz_txt.append(json.dumps(zone_names[:k], separators=(",", ":")))
    single = [json.dumps([z], separators=(",", ":")) for z in zone_names]
    zone_pick = np.where(n_zone == 1, 1 + Z + zone_start, np.clip(n_zone, -1, Z))
    ztab = [None] + nz_txt + single  # index: -1 -> None via +1 shift
    del zjson
    net_created = rng.integers(0, 365 * 86400, N + 1)
    t_net = {
        "id": net_ids, "project_id": proj_all.take(pa.array(np.concatenate([net_proj, [P]]))),
        "name": _avoid_names(_concat([_join("syn-", tok_p.take(pa.array(net_proj)) if N else pa.array([], LS),
                                            "net", _num_text(net_k + 1)), pa.array(["syn-external"], LS)]), exclude),
        "admin_state_up": _concat([_bool_col(*n_admin), _bools([bool(ext_row[4]) if ext_row[4] is not None else True])]),
        "status": _concat([_str_col(*n_status), pa.array([ext_row[5]], LS)]),
        "shared": _concat([_bool_col(*n_shared), _bools([bool(ext_row[3]) if ext_row[3] is not None else False])]),
        "mtu": _concat([_int_col(*n_mtu), _ints([int(ext_row[1]) if ext_row[1] is not None else 1500])]),
        "router_external": _bools(np.arange(N + 1) == N),
        "port_security_enabled": _concat([_bool_col(*n_ps), _bools([bool(ext_row[2]) if ext_row[2] is not None else True])]),
        "network_type": pa.array(list(type_arr), LS),
        "physical_network": _where(physnet, _join("physnet", _num_text(np.where(np.arange(N + 1) == N, 0, 1))), _const(None, N + 1)),
        "segmentation_id": _ints(seg, seg_null),
        "cidr": _concat([_where(vpc, _join(ip4_text(net_base), "/", _num_text(np.maximum(block_prefix, 0))), _const(None, N)),
                         _const(None, 1)]),
        "availability_zones": _concat([_pick(ztab, np.where(zone_pick < 0, 0, zone_pick + 1)) if N else pa.array([], LS),
                                       pa.array([nz_txt[Z]], LS)]),
        "created_at": _time_text(net_created), "updated_at": _time_text(net_created + rng.integers(0, 60 * 86400, N + 1)),
    }
    # the external network first (the admin's), then tenant networks in project order
    net_order = np.concatenate([[N], np.arange(N)])
    t_net = {k: v.take(pa.array(net_order)) for k, v in t_net.items()}

    # --- routers, interfaces, floating IPs -----------------------------------------------------
    g_ext = ext_sub_of[:Gw]
    efi = _join('[{"ip_address":"', ip4_text(ext_ip[:Gw]), '","subnet_id":"', sub_ids.take(pa.array(S4 + S6 + g_ext)), '"}]')
    gw_of_router = np.full(R, -1, np.int64)
    gw_of_router[g_router] = np.arange(Gw)
    ra, rs, rd, rh = r_attr
    t_rt = {
        "id": router_ids, "project_id": proj_ids.take(pa.array(r_proj)),
        "name": _avoid_names(_join("syn-", tok_p.take(pa.array(r_proj)) if R else pa.array([], LS), "router", _num_text(r_k + 1)), exclude),
        "admin_state_up": _bool_col(*ra), "status": _str_col(*rs), "distributed": _bool_col(*rd), "ha": _bool_col(*rh),
        "gateway_network_id": _where(r_gw, net_ids.take(pa.array(np.full(R, ext_net))), _const(None, R)) if R else pa.array([], LS),
        "enable_snat": _bools(r_snat, ~r_gw),
        "external_fixed_ips": _where(r_gw, _pick(efi, np.maximum(gw_of_router, 0)) if Gw else _const("[]", R), _const("[]", R)) if R else pa.array([], LS),
        "routes": _const("[]", R),
    }
    ri_port = W + D + np.arange(I)
    t_ri = {"port_id": port_ids.take(pa.array(ri_port)), "router_id": router_ids.take(pa.array(ri_router)),
            "network_id": net_ids.take(pa.array(sub_net[ri_sub])), "subnet_id": sub_ids.take(pa.array(ri_sub)),
            "ip_address": ri_ip}
    f_assoc = f_port >= 0
    (fsa, fsac), = S.cols("fip_status_associated", f_kind, None, "ACTIVE")
    (fsu, fsuc), = S.cols("fip_status_unassociated", f_kind, None, "DOWN")
    f_status = _where(f_assoc, _str_col(fsa, fsac), _str_col(fsu, fsuc)) if F else pa.array([], LS)
    t_fip = {
        "id": fip_ids, "project_id": proj_ids.take(pa.array(f_proj)),
        "floating_network_id": net_ids.take(pa.array(np.full(F, ext_net))),
        "floating_ip_address": ip4_text(ext_ip[Gw:]),
        "fixed_ip_address": _pick(w_ip_text, f_port) if W else _const(None, F),
        "port_id": _pick(port_ids, f_port),
        "router_id": _pick(router_ids, np.where(f_assoc, w_router[np.maximum(f_port, 0)], -1)) if (W and R) else _const(None, F),
        "status": f_status,
    }

    # --- security groups, rules, port groups ---------------------------------------------------
    sg_names = _where(sg_default, _const("default", G),
                      _join("syn-", tok_p.take(pa.array(sg_proj)) if G else pa.array([], LS), "sg", _num_text(sg_k + 1))) if G else pa.array([], LS)
    t_sg = {"id": sg_ids, "project_id": proj_ids.take(pa.array(sg_proj)), "name": _avoid_names(sg_names, exclude),
            "description": _where(sg_default, _const("Default security group", G), _const("", G)) if G else pa.array([], LS),
            "stateful": _bools(sg_stateful)}
    t_rule = {
        "id": rule_ids, "security_group_id": sg_ids.take(pa.array(rule_sg)),
        "project_id": proj_ids.take(pa.array(sg_proj[rule_sg])) if RR else pa.array([], LS),
        "direction": _str_col(*rdir), "ethertype": _str_col(*reth), "protocol": _str_col(*rproto),
        "port_range_min": _int_col(*rlo), "port_range_max": _int_col(*rhi),
        "remote_ip_prefix": pa.array(list(prefix_txt), LS),
        "remote_group_id": _pick(sg_ids, rgroup) if RR else pa.array([], LS),
        "description": _const("", RR),
    } if RR else {}
    # groups per port: ports with port security get k of their project's groups (a window)
    k_sg = np.zeros(NP, np.int64)
    wk = np.minimum(S.ints("sg_per_port", w_kind, 1), n_sg[w_proj])
    k_sg[:W] = np.where(ps_np[:W], wk, 0)
    ps_port, ps_i = _seg(k_sg)
    pproj = p_proj[ps_port]
    sg_off = np.floor(rng.random(NP) * np.maximum(n_sg[np.minimum(p_proj, P - 1)] if P else 1, 1)).astype(np.int64)
    grp = sg_start[pproj] + (sg_off[ps_port] + ps_i) % np.maximum(n_sg[pproj], 1) if len(ps_port) else np.zeros(0, np.int64)
    t_psg = {"port_id": port_ids.take(pa.array(ps_port)), "security_group_id": sg_ids.take(pa.array(grp))}

    # --- hosts ---------------------------------------------------------------------------------
    hosts_per_zone = np.bincount(h_zone, minlength=Z)
    rack_global = _starts(-(-hosts_per_zone // hpr))[h_zone] + h_rack
    n_racks = int(rack_global.max()) + 1 if C else 0
    if n_racks + Z <= UNDERLAY[1] // 256 and hpr + 10 <= 254 and (M // Z + 10) <= 254:
        ip_c = UNDERLAY[0] + (rack_global << 8) + 10 + h_slot
        ip_n = UNDERLAY[0] + ((n_racks + nn_zone) << 8) + 10 + nn_k
        host_ip = np.concatenate([ip_c, ip_n])
    else:
        host_ip = UNDERLAY[0] + 1 + np.arange(C + M)
    alcor_h = rng.random(C + M) < float(infra.get("alcor_host_share") or 0.0)
    sp_h = infra.get("server_port") or [[50001, 1]]
    server_port = int(max(sp_h, key=lambda x: x[1])[0])
    dvr = rng.random(C + M) < float(infra.get("dvr_mac_share") or 0.0)
    ncm = alcor_h & (rng.random(C + M) < (float(infra.get("ncm_share") or 0.0) / max(float(infra.get("alcor_host_share") or 1.0), 1e-9)))
    hcount = np.arange(C + M, dtype=np.uint64)
    t_host = {
        "id": host_ids, "node_name": names_h, "local_ip": ip4_text(host_ip),
        "mac_address": _mac_text(MAC_PREFIX["host"], salt, hcount),
        "veth": _where(alcor_h, _const("veth0", C + M), _const(None, C + M)),
        "server_port": _ints(np.full(C + M, server_port), ~alcor_h),
        "host_dvr_mac": _where(dvr, _mac_text(MAC_PREFIX["dvr"], salt, hcount), _const(None, C + M)),
        "ncm_id": _where(ncm, _join("syn-ncm-", _pick(zone_arr, host_zone)), _const(None, C + M)),
        "availability_zone": _pick(zone_arr, host_zone),
        "rack": _join("r", pc.utf8_lpad(_num_text(np.concatenate([h_rack + 1, np.ones(M, np.int64)])), rack_w, "0")),
    }
    # ground truth for the projects of real kinds (fallback kinds are "no label", as in the input)
    lab = np.flatnonzero(labelled[kind_p]) if P else np.zeros(0, np.int64)
    t_labels = {"project_id": proj_ids.take(pa.array(lab)), "profile": _pick(kinds, kind_p[lab])}

    out_arrays = {
        "hosts": t_host, "networks": t_net, "subnets": t_sub, "allocation_pools": t_pools, "ports": ports,
        "port_ips": port_ips, "port_security_groups": t_psg, "security_groups": t_sg,
        "security_group_rules": t_rule, "routers": t_rt, "router_interfaces": t_ri,
        "floating_ips": t_fip, "project_labels": t_labels,
    }
    out = {name: (t if isinstance(t, pd.DataFrame) else _frame(name, t))
           for name, t in ((n, out_arrays.get(n, {})) for n in TABLES)
           if name not in ("fabric_switches", "fabric_links")}
    tick("fabric")
    if build_fabric is None:
        from pipeline.fabric import build_fabric
    sw, links = build_fabric(out["hosts"], fab)
    out["fabric_switches"] = _provenance(conform(sw, "fabric_switches"), "fabric_switches")
    out["fabric_links"] = _provenance(conform(links, "fabric_links"), "fabric_links")
    if progress:
        progress("done", len(STEPS), len(STEPS))
    return {name: out[name] for name in TABLES}


def _vm_of_full(vm_pos: np.ndarray, vm_of: np.ndarray, W: int) -> np.ndarray:
    full = np.zeros(W, np.int64)
    full[vm_pos] = vm_of
    return full


def _ip_text_of(parts, i4: int, i6: int, is4: np.ndarray) -> pa.Array:
    """Addresses of rows in two ip_parts entries, back in their original interleaved order."""
    n = len(is4)
    if n == 0:
        return pa.array([], LS)
    pos = np.concatenate([np.flatnonzero(is4), np.flatnonzero(~is4)])
    inv = np.empty(n, np.int64)
    inv[pos] = np.arange(n)
    return _concat([parts[i4][3], parts[i6][3]]).take(pa.array(inv))


def _rank_by(keys: np.ndarray) -> np.ndarray:
    """0-based rank of each row among rows with the same key, in row order (keys unsorted)."""
    if len(keys) == 0:
        return np.zeros(0, np.int64)
    o = np.argsort(keys, kind="stable")
    r = np.empty(len(keys), np.int64)
    r[o] = _rank(keys[o])
    return r


def _unique_ints(rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
    """n distinct integers in [lo, hi] (repeats only when the range is smaller than n)."""
    span = hi - lo + 1
    if n >= span:
        return lo + np.arange(n, dtype=np.int64) % span
    v = rng.integers(lo, hi + 1, n)
    for _ in range(64):
        _, first = np.unique(v, return_index=True)
        dup = np.ones(n, bool)
        dup[first] = False
        if not dup.any():
            break
        v[dup] = rng.integers(lo, hi + 1, int(dup.sum()))
    return v


_TYPES = None


def _types_mapper(t):
    global _TYPES
    if _TYPES is None:
        _TYPES = {LS: pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow"),
                  pa.bool_(): pd.BooleanDtype(), pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype()}
    return _TYPES.get(t)


_ARROW = {"string": LS, "Int64": pa.int64(), "boolean": pa.bool_(), "Float64": pa.float64()}


def _frame(name: str, cols: dict[str, pa.Array]) -> pd.DataFrame:
    """A conformed DataFrame from arrow columns; absent columns null, provenance filled."""
    t = TABLES[name]
    n = len(next(iter(cols.values()))) if cols else 0
    arrays = {}
    for c in t.columns:
        if c.name == "source_file":
            arrays[c.name] = _const(SOURCE_FILE, n)
        elif c.name == "source_pos":
            arrays[c.name] = pa.array(np.arange(n, dtype=np.int64))
        elif c.name in cols:
            a = cols[c.name]
            arrays[c.name] = a if a.type == _ARROW[c.dtype] else a.cast(_ARROW[c.dtype])
        else:
            arrays[c.name] = pa.nulls(n, _ARROW[c.dtype])
    df = pa.table(arrays).to_pandas(types_mapper=_types_mapper)
    return df


def _provenance(df: pd.DataFrame, name: str) -> pd.DataFrame:
    df = df.reset_index(drop=True).copy()
    df["source_file"] = pd.array([SOURCE_FILE] * len(df), dtype="string")
    df["source_pos"] = pd.array(np.arange(len(df)), dtype="Int64")
    return conform(df, name)


# =============================================================================================
# The stage: learn, generate, validate

RUN_STEPS = ("learn",) + STEPS + ("validate",)


def run(tables: dict[str, pd.DataFrame], profiles: pd.Series | None, params: dict | None,
        progress: Callable[[str, int, int], None] | None = None, model: dict | None = None
        ) -> tuple[dict[str, Any], dict[str, pd.DataFrame], dict[str, Any]]:
    """(model, synthetic tables, summary). Raises StageFailed when validation quarantines a
    single synthetic row: generated data must be valid by construction. `model`: generate from
    this (e.g. a reviewed, hand-edited model) instead of learning one from `tables`."""
    from pipeline.errors import StageFailed
    from pipeline.validate import validate_tables

    total = len(RUN_STEPS)

    def prog(name, i, _n):
        if progress:
            progress(name, 1 + i, total)

    if progress:
        progress("learn", 0, total)
    model = model if model is not None else learn(tables, profiles, params)
    syn = generate(model, params, prog, exclude=Exclusions.from_tables(tables))
    if progress:
        progress("validate", total - 1, total)
    result = validate_tables(syn, (params or {}).get("validate"))
    totals = result.report["totals"]
    if totals["rows_quarantined"]:
        name, q = next((n, q) for n, q in result.quarantine.items() if len(q))
        checks = ", ".join(f"{k} {v}" for k, v in totals["by_check"].items())
        raise StageFailed(f"synthetic data failed validation: {totals['rows_quarantined']:,} rows "
                          f"quarantined ({checks}); first: {name}: {q['reason'].iloc[0]}")
    if progress:
        progress("done", total, total)
    kinds = syn["project_labels"]["profile"].value_counts().sort_index()
    summary = {
        "rows": {name: int(len(df)) for name, df in syn.items()},
        "kinds": {str(k): int(v) for k, v in kinds.items()},
        "validation": {k: totals[k] for k in ("rows_in", "rows_valid", "rows_quarantined")},
        "replaced_values": dict(model.get("replaced_values") or {}),
    }
    return model, syn, summary
