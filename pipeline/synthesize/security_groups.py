"""Security groups per project (a default one at the learned share), their rules from the
learned rule-set templates with concrete remotes (the project's own subnets, private/public
blocks, groups), which groups each port uses; the security_groups, security_group_rules and
port_security_groups tables."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.synthesize.arrays import run_starts, segments
from pipeline.synthesize.common import EXTERNAL_BLOCKS_DOC, EXTERNAL_BULK, WORKLOAD_ROLES
from pipeline.synthesize.context import Context
from pipeline.synthesize.exclusions import avoid_names
from pipeline.synthesize.networks import Networks
from pipeline.synthesize.projects import Projects
from pipeline.synthesize.sampler import int_column, str_column
from pipeline.synthesize.stats import KindTables, hist, json_scalar, share, template_hist
from pipeline.synthesize.subnets import Subnets4
from pipeline.synthesize.text import LS, bool_array, const_text, ip4_text, join_text, num_text, pick, where
from pipeline.synthesize.workload import Workload
from pipeline.util import stripped as _str


@dataclass
class SecurityGroups:
    """Groups in project order, and their rules in group order."""

    project: np.ndarray
    index: np.ndarray          # position within its project (the default group is 0)
    per_project: np.ndarray
    default: np.ndarray
    stateful: np.ndarray
    rule_group: np.ndarray     # per rule: its group
    rule_columns: list         # (codes, values) of direction, ethertype, protocol, port min, port max
    remote_prefix: np.ndarray  # per rule: remote_ip_prefix text or None
    remote_group: np.ndarray   # per rule: remote group (-1: none)

    @property
    def count(self) -> int:
        return len(self.project)

    @property
    def start(self) -> np.ndarray:
        """Per project: its first group."""
        return run_starts(self.per_project)


def draw_security_groups(ctx: Context, projects: Projects, networks: Networks, s4: Subnets4) -> SecurityGroups:
    sampler, kind_p = ctx.sampler, projects.kind
    n_sg = np.maximum(sampler.ints("sg_per_project", kind_p, 1), 0)
    has_def = sampler.share("default_sg_share", kind_p, 1.0) & (n_sg >= 1)
    sg_proj, sg_k = segments(n_sg)
    sg_kind = kind_p[sg_proj]
    sg_default = (sg_k == 0) & has_def[sg_proj]
    sg_stateful = sampler.share("sg_stateful_share", sg_kind, 1.0)
    rule_sg, columns = _rules(ctx, sg_kind, sg_default)
    rem_kind, rem_len, eth6 = _remote_kinds(columns, len(rule_sg))
    prefix_txt = _remote_prefixes(ctx, networks, s4, sg_proj[rule_sg], rem_kind, rem_len, eth6)
    groups = SecurityGroups(project=sg_proj, index=sg_k, per_project=n_sg, default=sg_default, stateful=sg_stateful,
                            rule_group=rule_sg, rule_columns=columns[:5], remote_prefix=prefix_txt,
                            remote_group=np.zeros(0, np.int64))
    groups.remote_group = _remote_groups(ctx, groups, rem_kind)
    return groups


def _rules(ctx: Context, sg_kind: np.ndarray, sg_default: np.ndarray) -> tuple[np.ndarray, list]:
    """(group per rule, [(codes, values)] of the 6 rule columns: direction, ethertype, protocol,
    port min, port max, abstract remote), each group's rules from a drawn template."""
    n_groups = len(sg_kind)
    registry: dict[str, int] = {}
    templates: list[list] = []
    tid = np.zeros(n_groups, np.int64)
    for key_name, mask in (("sg_templates_default", sg_default), ("sg_templates", ~sg_default)):
        rows = np.flatnonzero(mask)
        (tc, tcats), = ctx.sampler.cols(key_name, sg_kind[rows], None, [])
        glob = []
        for t in tcats:
            text = json.dumps(t)
            if text not in registry:
                registry[text] = len(templates)
                templates.append(t or [])
            glob.append(registry[text])
        tid[rows] = np.array(glob, np.int64)[tc] if len(rows) else tid[rows]
    t_len = np.array([len(t) for t in templates] or [0], np.int64)
    t_start = run_starts(t_len)
    flat = [r for t in templates for r in t]
    rule_sg, rule_i = segments(t_len[tid] if n_groups else np.zeros(0, np.int64))
    rule_row = t_start[tid[rule_sg]] + rule_i

    def rule_col(c):
        cats = sorted({json.dumps(r[c]) for r in flat})
        idx = {t: i for i, t in enumerate(cats)}
        codes = np.array([idx[json.dumps(r[c])] for r in flat] or [0], np.int64)[rule_row]
        return codes, [json.loads(t) for t in cats]

    return rule_sg, [rule_col(c) for c in range(6)]


def _remote_kinds(columns: list, n_rules: int):
    """(remote kind, prefix length, is IPv6) per rule, from its abstract remote."""
    reth, rrem = columns[1], columns[5]
    if not n_rules:
        return np.array([], dtype=object), np.zeros(0, np.int64), np.zeros(0, bool)
    eth6 = np.array(reth[1] or ["IPv4"], dtype=object)[reth[0]] == "IPv6"
    rem_kind = np.array([str(x).split("/")[0] for x in (rrem[1] or ["any"])], dtype=object)[rrem[0]]
    rem_len = np.array([int(str(x).split("/")[1]) if "/" in str(x) else 0 for x in (rrem[1] or ["any"])],
                       np.int64)[rrem[0]]
    return rem_kind, rem_len, eth6


def _own_subnets(networks: Networks, s4: Subnets4, prefix_txt: np.ndarray, rule_proj: np.ndarray,
                 rem_kind: np.ndarray, rem_len: np.ndarray, eth6: np.ndarray) -> None:
    """subnet/<len>: one of the group's project's own IPv4 subnets of that length (else any of
    its subnets, else an unrelated private block: the kind becomes private). In place."""
    own = np.flatnonzero((rem_kind == "subnet") & ~eth6)
    if not len(own):
        return
    s4_proj = networks.project[s4.network]
    skey = s4_proj * 64 + s4.prefix
    ukey, first = np.unique(skey, return_index=True)
    pkey, pfirst = np.unique(s4_proj, return_index=True)
    rp = rule_proj[own]
    want = rp * 64 + np.clip(rem_len[own], 0, 32)
    at = np.clip(np.searchsorted(ukey, want), 0, max(len(ukey) - 1, 0))
    hit = (ukey[at] == want) if len(ukey) else np.zeros(len(own), bool)
    pat = np.clip(np.searchsorted(pkey, rp), 0, max(len(pkey) - 1, 0))
    phit = (pkey[pat] == rp) if len(pkey) else np.zeros(len(own), bool)
    sub = np.where(hit, first[at] if len(ukey) else 0, np.where(phit, pfirst[pat] if len(pkey) else 0, -1))
    found = sub >= 0
    if found.any():
        sf = sub[found]
        prefix_txt[own[found]] = np.array(join_text(ip4_text(s4.address[sf]), "/", num_text(s4.prefix[sf])).to_pylist(),
                                          dtype=object)
    rem_kind[own[~found]] = "private"


def _remote_prefixes(ctx: Context, networks: Networks, s4: Subnets4, rule_proj: np.ndarray, rem_kind: np.ndarray,
                     rem_len: np.ndarray, eth6: np.ndarray) -> np.ndarray:
    """remote_ip_prefix per rule: 0.0.0.0/0 or ::/0, an own subnet, or a random block of the
    learned length (private: 10/8 or fd00::/8; public: 100.64.0.0/11, a documentation range)."""
    n_rules = len(rem_kind)
    prefix_txt = np.full(n_rules, None, dtype=object)
    anyc = rem_kind == "cidr:any"
    prefix_txt[anyc & ~eth6] = "0.0.0.0/0"
    prefix_txt[anyc & eth6] = "::/0"
    _own_subnets(networks, s4, prefix_txt, rule_proj, rem_kind, rem_len, eth6)
    rand = ctx.rng.integers(0, 2 ** 32, n_rules) if n_rules else np.zeros(0, np.int64)
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
        netw = np.where(doc, EXTERNAL_BLOCKS_DOC[0] + ((rand[v4p] % np.left_shift(np.int64(1), plen - 24).clip(1))
                                                       << host_bits), netw)
        plen = np.where(priv, np.maximum(plen, 8), np.where(doc, plen, np.maximum(plen, 11)))
        prefix_txt[v4p] = np.array(join_text(ip4_text(netw), "/", num_text(plen)).to_pylist(), dtype=object)
    for i in np.flatnonzero(np.isin(rem_kind, ["private", "public"]) & eth6):
        plen = int(min(max(rem_len[i], 0), 128))
        base = ipaddress.ip_network("fd00::/8" if rem_kind[i] == "private" else "2001:db8::/32")
        plen = max(plen, base.prefixlen)
        bits = (int(rand[i]) << 96) >> base.prefixlen
        net = ipaddress.ip_network((int(base.network_address) | (bits & ((1 << (128 - base.prefixlen)) - 1)))
                                   >> (128 - plen) << (128 - plen))
        prefix_txt[i] = f"{ipaddress.IPv6Address(int(net.network_address))}/{plen}"
    return prefix_txt


def _remote_groups(ctx: Context, groups: SecurityGroups, rem_kind: np.ndarray) -> np.ndarray:
    """remote group per rule: the rule's own group (group:self), another group of its project
    (group:other, the own one when it has no other), else -1."""
    n_rules, rule_sg, sg_start = len(groups.rule_group), groups.rule_group, groups.start
    if not n_rules:
        return np.zeros(0, np.int64)
    selfg = rem_kind == "group:self"
    otherg = rem_kind == "group:other"
    rsg_proj = groups.project[rule_sg]
    gcount = groups.per_project[rsg_proj]
    step = np.floor(ctx.rng.random(n_rules) * np.maximum(gcount - 1, 1)).astype(np.int64)
    other_k = (groups.index[rule_sg] + 1 + step) % np.maximum(gcount, 1)
    return np.where(selfg, rule_sg, np.where(otherg, np.where(gcount > 1, sg_start[rsg_proj] + other_k, rule_sg), -1))


def group_tables(ctx: Context, groups: SecurityGroups, projects: Projects, ids: dict[str, pa.Array]
                 ) -> tuple[dict[str, pa.Array], dict[str, pa.Array]]:
    """(security_groups, security_group_rules); ids: "security_groups", "rules"."""
    n_groups, n_rules, sg_proj, sg_default = groups.count, len(groups.rule_group), groups.project, groups.default
    sg_ids = ids["security_groups"]
    sg_names = where(sg_default, const_text("default", n_groups),
                     join_text("syn-", projects.token.take(pa.array(sg_proj)) if n_groups else pa.array([], LS),
                               "sg", num_text(groups.index + 1))) if n_groups else pa.array([], LS)
    t_sg = {"id": sg_ids, "project_id": projects.ids.take(pa.array(sg_proj)),
            "name": avoid_names(sg_names, ctx.exclude),
            "description": (where(sg_default, const_text("Default security group", n_groups), const_text("", n_groups))
                            if n_groups else pa.array([], LS)),
            "stateful": bool_array(groups.stateful)}
    if not n_rules:
        return t_sg, {}
    rdir, reth, rproto, rlo, rhi = groups.rule_columns
    t_rule = {
        "id": ids["rules"], "security_group_id": sg_ids.take(pa.array(groups.rule_group)),
        "project_id": projects.ids.take(pa.array(sg_proj[groups.rule_group])),
        "direction": str_column(*rdir), "ethertype": str_column(*reth), "protocol": str_column(*rproto),
        "port_range_min": int_column(*rlo), "port_range_max": int_column(*rhi),
        "remote_ip_prefix": pa.array(list(groups.remote_prefix), LS),
        "remote_group_id": pick(sg_ids, groups.remote_group),
        "description": const_text("", n_rules),
    }
    return t_sg, t_rule


def port_groups_table(ctx: Context, groups: SecurityGroups, workload: Workload, port_project: np.ndarray,
                      port_security: np.ndarray, ids: dict[str, pa.Array], n_projects: int) -> dict[str, pa.Array]:
    """port_security_groups: ports with port security get k of their project's groups (a window
    from a random offset), k as learned. ids: "ports", "security_groups"."""
    n_ports, n_workload, n_sg, w_proj = len(port_project), workload.count, groups.per_project, workload.project
    k_sg = np.zeros(n_ports, np.int64)
    wk = np.minimum(ctx.sampler.ints("sg_per_port", workload.kind, 1), n_sg[w_proj])
    k_sg[:n_workload] = np.where(port_security[:n_workload], wk, 0)
    ps_port, ps_i = segments(k_sg)
    pproj = port_project[ps_port]
    sg_off = np.floor(ctx.rng.random(n_ports) * np.maximum(n_sg[np.minimum(port_project, n_projects - 1)]
                                                           if n_projects else 1, 1)).astype(np.int64)
    grp = (groups.start[pproj] + (sg_off[ps_port] + ps_i) % np.maximum(n_sg[pproj], 1) if len(ps_port)
           else np.zeros(0, np.int64))
    return {"port_id": ids["ports"].take(pa.array(ps_port)),
            "security_group_id": ids["security_groups"].take(pa.array(grp))}


# ---- learning

def _remote_kind(prefixes: pd.Series) -> pd.Series:
    """Abstract remote prefix: cidr:any, private/<len>, public/<len> (no address kept)."""
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


def canonical_prefix(values: pd.Series) -> pd.Series:
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
        own = (_str(r["project_id"]) + "|" + canonical_prefix(prefix).fillna("")).isin(own_subnets)
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
    texts = [json.dumps([json_scalar(x) for x in row]) for row in frame.itertuples(index=False, name=None)]
    per = pd.DataFrame({"g": gid.to_numpy(), "t": texts}).sort_values(["g", "t"], kind="stable")
    joined = per.groupby("g", sort=True)["t"].agg(lambda s: "[" + ",".join(s) + "]")
    ids = _str(groups["id"])
    return pd.Series(ids.map(joined).fillna("[]").to_numpy(), index=ids.to_numpy())


def prepare_groups(tables: dict[str, pd.DataFrame], subs: pd.DataFrame) -> pd.DataFrame:
    """security_groups with is_default and template (their rules abstracted, remote subnets
    recognised among `subs`, the subnets of their project)."""
    sgs = tables["security_groups"].copy()
    sgs["id"] = _str(sgs["id"])
    sgs["project_id"] = _str(sgs["project_id"])
    sgs["is_default"] = (_str(sgs["name"]) == "default").to_numpy()  # Neutron's constant name
    own = set(_str(subs["project_id"]) + "|" + canonical_prefix(subs["cidr"]).fillna(""))
    sgs["template"] = _rule_templates(sgs, tables["security_group_rules"], own).to_numpy()
    return sgs


def learn_stats(d: KindTables) -> dict:
    """Groups per project, default groups, statefulness, rule-set templates, groups per port."""
    sgs, proj = d.security_groups, d.projects
    out = {"sg_per_project": hist(d.per_project(sgs))}
    has_default = sgs[sgs["is_default"]]["project_id"].unique()
    out["default_sg_share"] = share(pd.Index(proj).isin(has_default)) if len(proj) else None
    out["sg_stateful_share"] = share(sgs["stateful"].fillna(True).astype(bool))
    out["sg_templates_default"] = template_hist(sgs.loc[sgs["is_default"], "template"])
    out["sg_templates"] = template_hist(sgs.loc[~sgs["is_default"], "template"])
    work = d.ports[d.ports["role"].isin(WORKLOAD_ROLES)]
    secured = work[work["port_security_enabled"].fillna(False).astype(bool)]
    out["sg_per_port"] = hist(secured["n_sg"])
    return out
