"""Generation: a synthetic data center from a model (see the package docstring)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.model import ROUTER_INTERFACE_OWNERS, TABLES, conform
from pipeline.synthesize.arrays import _largest_remainder, _rank, _rank_by, _seg, _starts, _unique_ints
from pipeline.synthesize.common import BINDINGS, EXTERNAL_BLOCKS_DOC, EXTERNAL_BULK, EXT_PER_SUBNET, FALLBACK_KIND, MAC_PREFIX, MODEL_FORMAT, PRIVATE_DNS, PRIVATE_DNS6, PUBLIC_DNS, PUBLIC_DNS6, RANGE_NAMES, RFC1918, SEGMENTATION_RANGES, SynthParamsError, UNDERLAY, UNLABELLED_KIND, WORKLOAD_ROLES
from pipeline.synthesize.blocks import PortBlocks
from pipeline.synthesize.exclusions import Exclusions, _Ids, _avoid_names, _clashes
from pipeline.synthesize.params import _mix, _params
from pipeline.synthesize.placement import _fit
from pipeline.synthesize.sampler import _Sampler, _bool_col, _int_col, _int_values, _str_col
from pipeline.synthesize.text import LS, _bools, _concat, _const, _frame, _hex16, _ints, _join, _mac_text, _num_text, _pick, _provenance, _time_text, _where, ip4_text


# =============================================================================================
# Generation

STEPS = ("plan", "networks", "subnets", "ports", "routers", "floating IPs", "hosts",
         "security groups", "tables", "fabric")


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
    sampler = _Sampler(model, kinds, rng)
    ids = _Ids(rng, exclude)
    step = 0

    def tick(name):
        nonlocal step
        if progress:
            progress(name, step, len(STEPS))
        step += 1

    tick("plan")
    n_projects, n_compute, n_zones, host_capacity = sp["projects"], sp["hosts"], sp["zones"], sp["max_ports_per_host"]
    counts = _largest_remainder(_mix(sp["mix"], model, kinds), n_projects)
    kind_p = rng.permutation(np.repeat(np.arange(len(kinds), dtype=np.int64), counts))
    proj_ids = ids.hex32(n_projects)
    admin_id = ids.hex32(1)
    # Names carry the kind as their second dash-separated field (syn-web-sn1), as the naming
    # labeler expects; projects of the fallback kinds (no profile) get none (syn-sn1).
    labelled = np.array([k not in (FALLBACK_KIND, UNLABELLED_KIND) for k in kinds] or [False])
    tok = [(("".join(ch for ch in k.lower() if ch.isalnum()) or "x") + "-") if labelled[i] else ""
           for i, k in enumerate(kinds)]
    tok_p = _pick(tok, kind_p)
    zone_names = [f"az{z + 1}" for z in range(n_zones)]

    # --- networks -------------------------------------------------------------------------------
    tick("networks")
    n_net = np.maximum(sampler.ints("networks_per_project", kind_p, 1), 0)
    net_proj, net_k = _seg(n_net)
    n_networks = len(net_proj)
    net_kind = kind_p[net_proj]
    net_attr = sampler.cols("network", net_kind, 6, ["vxlan", 1450, True, False, True, "ACTIVE"])
    vpc = sampler.share("vpc_share", net_kind)
    vpc_prefix = np.clip(sampler.ints("vpc_prefix", net_kind, 16), 8, 30)
    (rc, rcats), = sampler.cols("address_range", net_kind, None, "10")
    fam = np.array([RANGE_NAMES.index(v) if v in RANGE_NAMES else 0 for v in rcats], np.int64)[rc]
    n4 = np.maximum(sampler.ints("v4_subnets_per_network", net_kind, 1), 0)
    dual = sampler.share("v6_share", net_kind) & ~vpc
    n6 = np.where(dual, np.maximum(sampler.ints("v6_subnets_per_network", net_kind, 1), 1), 0)
    n_zone = sampler.ints("network_zones", net_kind, -1)

    # --- IPv4 subnets and the address plan ------------------------------------------------------
    tick("subnets")
    s4_net, _ = _seg(n4)
    n_subnets4 = len(s4_net)
    s4_kind = net_kind[s4_net]
    (pc_, pcats), (wc, wcats) = sampler.cols("subnet_v4", s4_kind, 2, [24, 10])
    prefix = np.clip(_int_values(pc_, pcats, 24), 8, 30)
    work = _int_values(wc, wcats, 0).astype(np.float64)
    # a little multiplicative noise: sizes like the real ones, not copies of them
    work = np.maximum(np.rint(work * np.exp(rng.normal(0.0, 0.1, n_subnets4))), 0).astype(np.int64)
    gw4 = sampler.share("gateway_share", s4_kind, 1.0)
    dhcp4 = sampler.share("enable_dhcp_v4", s4_kind, 1.0)
    poff = sampler.ints("pool_offset", s4_kind, 2)
    npool = sampler.ints("pools_per_subnet", s4_kind, 1)
    (dns4c, dnscats), = sampler.cols("dns", s4_kind, None, "")
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
    grp_first = _starts(np.bincount(s4_net, minlength=n_networks))
    inner = np.empty(n_subnets4, np.int64)
    inner[order] = cs - cs[np.minimum(grp_first[s4_net[order]], max(n_subnets4 - 1, 0))] if n_subnets4 else cs
    total = np.bincount(s4_net, weights=size, minlength=n_networks).astype(np.int64)
    env = np.where(total > 0, np.left_shift(np.int64(1), np.ceil(np.log2(np.maximum(total, 1))).astype(np.int64)), 0)
    vpc_size = np.left_shift(np.int64(1), 32 - vpc_prefix)
    block = np.where(vpc, np.maximum(vpc_size, env), env)
    slots = np.where(vpc & (env > 0), block // np.maximum(env, 1), 1)
    slot_off = np.floor(rng.random(n_networks) * slots).astype(np.int64) * env
    pool_size = np.array([1 << b for _, b in RFC1918], np.int64)
    fam = np.where(block > pool_size[fam], 0, fam)
    net_base = np.zeros(n_networks, np.int64)
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
    n_subnets6 = len(s6_net)
    s6_kind = net_kind[s6_net]
    v6_modes = sampler.cols("v6_modes", s6_kind, 2, [None, None])
    gw6 = sampler.share("gateway_share", s6_kind, 1.0)
    dhcp6 = sampler.share("enable_dhcp_v6", s6_kind, 1.0)
    g = rng.integers(0, 256, n_networks) | 0xFD00
    h1 = rng.integers(1, 65536, n_networks)
    h2 = rng.integers(1, 65536, n_networks)
    p6 = [f"{g[n]:x}:{h1[n]:x}:{h2[n]:x}" + (f":{j:x}" if j else "") for n, j in zip(s6_net, s6_j)]
    s6_end = [f"{g[n]:x}:{h1[n]:x}:{h2[n]:x}:{j:x}:ffff:ffff:ffff:ffff" for n, j in zip(s6_net, s6_j)]
    p6_arr = pa.array(p6, LS)

    # --- DHCP ports: per network, one IP in each DHCP-enabled subnet at the first pool addresses
    has_dhcp_sub = (np.bincount(s4_net, weights=dhcp4, minlength=n_networks) + np.bincount(s6_net, weights=dhcp6, minlength=n_networks)) > 0
    agents = np.where(has_dhcp_sub & sampler.share("dhcp_share", net_kind, 1.0),
                      np.maximum(sampler.ints("dhcp_ports_per_network", net_kind, 1), 1), 0)
    min_usable = np.full(n_networks, 1 << 40, np.int64)
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
    n_workload = len(w_sub)
    w_net = s4_net[w_sub]
    w_proj = net_proj[w_net]
    w_kind = kind_p[w_proj]
    w_ip = addr4(w_sub, start4[w_sub] + w_r)
    n_lb = sampler.ints("lb_vip_per_project", kind_p, 0)
    n_ub = sampler.ints("unbound_per_project", kind_p, 0)
    order = np.lexsort((rng.random(n_workload), w_proj))
    rank = np.empty(n_workload, np.int64)
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
    c_net = np.bincount(vnet, minlength=n_networks)
    elig = (net_k[vnet] > 0) & (j < c_net[net0])
    q = np.array(sampler.value("secondary_nic_share", 0.0), np.float64)
    vm_per_p = np.bincount(vproj, minlength=n_projects)
    el_per_p = np.bincount(vproj[elig], minlength=n_projects)
    qp = np.clip(q[kind_p] * vm_per_p / np.maximum(el_per_p, 1), 0, 1)
    secondary = elig & (rng.random(len(vm_pos)) < qp[vproj])
    first_vm_of_net = np.full(n_networks, -1, np.int64)
    first_vm_of_net[vnet[j == 0]] = np.flatnonzero(j == 0)
    primary = np.where(secondary, first_vm_of_net[net0] + j, np.arange(len(vm_pos)))
    vm_of = np.empty(len(vm_pos), np.int64)
    prim = ~secondary
    n_vms = int(prim.sum())
    vm_of[prim] = np.arange(n_vms)
    vm_of[secondary] = vm_of[primary[secondary]]
    vm_proj = vproj[prim]
    vm_weight = np.bincount(vm_of, minlength=n_vms)
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
    zc = np.array([n_compute // n_zones + (z < n_compute % n_zones) for z in range(n_zones)], np.int64)
    h_zone, h_in_zone = _seg(zc)
    h_rack = h_in_zone // hpr
    h_slot = h_in_zone % hpr
    rack_id = _starts(-(-zc // hpr))[h_zone] + h_rack
    # Host load: each compute host gets a target load drawn from the learned VM ports per
    # compute host, heavier targets clustered into racks (noisily), as schedulers fill racks
    load_h = infra.get("vm_ports_per_compute_host") or []
    tgt = (np.array([float(v) for v, _ in load_h])[sampler._idx(load_h, n_compute)] if load_h else np.ones(n_compute))
    tgt = np.sort(tgt)[::-1]
    racks_order = rng.permutation(int(rack_id.max()) + 1 if n_compute else 0)
    rank_of_rack = np.empty(len(racks_order), np.int64)
    rank_of_rack[racks_order] = np.arange(len(racks_order))
    slot_order = np.lexsort((rng.random(n_compute), rank_of_rack[rack_id])) if n_compute else np.zeros(0, np.int64)
    noisy = np.argsort(-(np.log1p(tgt) + rng.normal(0.0, 0.5, n_compute)), kind="stable")
    load_target = np.empty(n_compute, np.float64)
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
    (sv, svc), (sh, shc) = sampler.cols("vm_spread", kind_p, 2, [1, 1])
    ratio = _int_values(sh, shc, 1) / np.maximum(_int_values(sv, svc, 1), 1)
    v_p = np.bincount(vm_proj, minlength=n_projects)
    h_p = np.where(v_p > 0, np.clip(np.rint(ratio * v_p), 1, np.maximum(np.minimum(v_p, n_compute), 1)), 0).astype(np.int64)
    cum2 = np.cumsum(np.concatenate([load_target, load_target]))
    line = cum2[n_compute - 1]
    s_proj, s_k = _seg(h_p)
    start_p = rng.random(n_projects) * line if n_projects else np.zeros(0)
    hk = np.searchsorted(cum2, start_p[s_proj] + (s_k + 0.5) * (line / n_compute), side="right")
    big = 4 * n_compute
    hu = np.maximum.accumulate(hk - s_k + s_proj * big) - s_proj * big + s_k if len(hk) else hk
    hu = np.minimum(hu, 2 * n_compute - 1)
    first_slot = _starts(h_p)
    vh = h_p[vm_proj]
    s0 = hu[first_slot[vm_proj]] if n_vms else np.zeros(0, np.int64)
    s1 = hu[first_slot[vm_proj] + np.maximum(vh - 1, 0)] if n_vms else np.zeros(0, np.int64)
    lo = np.where(s0 > 0, cum2[np.maximum(s0 - 1, 0)], 0.0)
    extra = np.clip(np.searchsorted(cum2, lo + rng.random(n_vms) * (cum2[s1] - lo), side="right"), s0, s1)
    vm_host = np.where(vm_rank < vh, hu[first_slot[vm_proj] + np.minimum(vm_rank, np.maximum(vh - 1, 0))] if n_vms else 0,
                       extra) % n_compute

    # --- network nodes and host capacity -------------------------------------------------------
    ratio_nn = float(infra.get("netnode_ratio") or 0.0)
    n_netnodes = max(1, int(round(ratio_nn * n_compute))) if ratio_nn > 0 else 0
    room = np.full(n_compute + n_netnodes, host_capacity, np.int64)
    vm_host = _fit(vm_host, vm_weight, room[:n_compute], "VMs") if n_vms else vm_host  # updates room[:C]

    # --- routers and interfaces ------------------------------------------------------------------
    tick("routers")
    n_rt = np.maximum(sampler.ints("routers_per_project", kind_p, 0), 0)
    r_proj, r_k = _seg(n_rt)
    n_routers = len(r_proj)
    r_kind = kind_p[r_proj]
    r_attr = sampler.cols("router", r_kind, 4, [True, "ACTIVE", False, False])
    r_gw = sampler.share("gateway_router_share", r_kind, 1.0)
    r_snat = sampler.share("snat_share", r_kind, 1.0)
    r_start = _starts(n_rt)
    # all subnets in one index space: IPv4 [0, S4), IPv6 [S4, S4 + S6)
    sub_net = np.concatenate([s4_net, s6_net])
    sub_proj = net_proj[sub_net]
    sub_kind = kind_p[sub_proj]
    sub_gw = np.concatenate([gw4, gw6])
    attached = sub_gw & (n_rt[sub_proj] > 0) & sampler.share("attach_share", sub_kind, 1.0)
    sub_router = np.where(attached, r_start[sub_proj] + np.floor(rng.random(n_subnets4 + n_subnets6) * np.maximum(n_rt[sub_proj], 1)).astype(np.int64), -1)
    ri_sub = np.flatnonzero(attached)
    n_interfaces = len(ri_sub)
    sub_vpc = vpc[sub_net]
    att_rid = attached & sub_vpc & sampler.share("attached_router_id_share", sub_kind, 0.0)

    # --- floating IPs ----------------------------------------------------------------------------
    tick("floating IPs")
    n_fip = sampler.ints("fips_per_project", kind_p, 0)
    un = np.array(sampler.value("fip_unassociated_share", 0.0), np.float64)
    n_unassoc = rng.binomial(n_fip, un[kind_p]) if n_projects else np.zeros(0, np.int64)
    want = n_fip - n_unassoc
    w_router = sub_router[w_sub]
    w_elig = (w_router >= 0) & r_gw[np.maximum(w_router, 0)] if n_routers else np.zeros(n_workload, bool)
    prop = np.zeros((len(kinds), 3))
    for k, kind in enumerate(kinds):
        d = sampler.get(kind, "fip_propensity") or {}
        for r, name in enumerate(WORKLOAD_ROLES):
            prop[k, r] = float(d.get(name) or 0.0)
    wp = prop[w_kind, role]
    key = np.where(w_elig & (wp > 0), rng.random(n_workload) ** (1.0 / np.maximum(wp, 1e-12)), -1.0)
    order = np.lexsort((-key, w_proj))
    frank = np.empty(n_workload, np.int64)
    frank[order] = _rank(w_proj[order])
    f_target = np.flatnonzero((key >= 0) & (frank < want[w_proj]))
    del key, frank, wp, order  # per-port temporaries: 5M ports make each one 40 MB
    f_assoc_proj = w_proj[f_target]
    f_un_proj, _ = _seg(n_unassoc)
    f_proj = np.concatenate([f_assoc_proj, f_un_proj])
    f_port = np.concatenate([f_target, np.full(len(f_un_proj), -1, np.int64)])
    o = np.argsort(f_proj, kind="stable")
    f_proj, f_port = f_proj[o], f_port[o]
    n_fips = len(f_proj)
    f_kind = kind_p[f_proj]

    # --- external network: router gateways then floating IPs, /24 by /24 ---------------------
    g_router = np.flatnonzero(r_gw)
    n_gateways = len(g_router)
    n_external = n_gateways + n_fips
    n_ext_sub = max(1, -(-n_external // EXT_PER_SUBNET))
    if n_ext_sub > len(EXTERNAL_BLOCKS_DOC) + EXTERNAL_BULK[1] // 256:
        raise SynthParamsError("synthesize: too many router gateways and floating IPs for the "
                               "external address space (100.64.0.0/11); lower projects")
    ext_block = np.array(list(EXTERNAL_BLOCKS_DOC) + [EXTERNAL_BULK[0] + 256 * i for i in range(max(0, n_ext_sub - 2))],
                         np.int64)[:n_ext_sub]
    e = np.arange(n_external, dtype=np.int64)
    ext_sub_of = e // EXT_PER_SUBNET
    ext_ip = ext_block[ext_sub_of] + 2 + e % EXT_PER_SUBNET

    # --- hosts -----------------------------------------------------------------------------------
    tick("hosts")
    nn_zone = np.arange(n_netnodes, dtype=np.int64) % n_zones
    nn_k = np.arange(n_netnodes, dtype=np.int64) // n_zones
    rack_w = max(3, len(str(int(h_rack.max()) + 1 if n_compute else 1)))
    zone_arr = pa.array(zone_names, LS)

    def host_names(prefix: str) -> pa.Array:
        comp = _join(prefix, "az", _num_text(h_zone + 1), "-r", pc.utf8_lpad(_num_text(h_rack + 1), rack_w, "0"),
                     "-h", pc.utf8_lpad(_num_text(h_slot + 1), 4, "0"))
        nn = _join(prefix, "az", _num_text(nn_zone + 1), "-r", pc.utf8_lpad(_num_text(np.zeros(n_netnodes, np.int64) + 1), rack_w, "0"),
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
        cat = np.array([BINDINGS.index(c) if c in BINDINGS else 2 for c in cats])[sampler._idx(h, n)] if h and n else np.full(n, 2)
        cat = np.where((cat == 1) & (n_netnodes == 0), 0, cat)
        host = np.where(cat == 0, rng.integers(0, n_compute, n) if n else 0,
                        np.where(cat == 1, n_compute + (rng.integers(0, max(n_netnodes, 1), n) if n else 0), -1))
        return host.astype(np.int64)

    d_net, _ = _seg(agents)
    n_dhcp = len(d_net)
    blocks = PortBlocks(workload=n_workload, dhcp=n_dhcp, router_interfaces=n_interfaces,
                        gateways=n_gateways, floating_ips=n_fips)
    # workload ports that are not VMs (LB VIPs, unbound) and the infrastructure ports
    w_host = np.full(n_workload, -1, np.int64)
    w_host[vm_pos] = vm_host[vm_of]
    for code, name in ((LB, "lb_vip"), (UB, "unbound")):
        sel = np.flatnonzero(role == code)
        w_host[sel] = bind(name, len(sel))
    d_host, ri_host, g_host, f_host = bind("dhcp", n_dhcp), bind("router_interface", n_interfaces), bind("router_gateway", n_gateways), bind("floating_ip", n_fips)
    all_host = np.concatenate([w_host, d_host, ri_host, g_host, f_host])
    bound_other = np.flatnonzero((all_host >= 0) & (np.concatenate([role != VM, np.ones(blocks.infrastructure, bool)])))
    if len(bound_other):
        all_host[bound_other] = _fit(all_host[bound_other], np.ones(len(bound_other), np.int64), room,
                                     "network ports")

    # --- security groups and rules ------------------------------------------------------------
    tick("security groups")
    n_sg = np.maximum(sampler.ints("sg_per_project", kind_p, 1), 0)
    has_def = sampler.share("default_sg_share", kind_p, 1.0) & (n_sg >= 1)
    sg_proj, sg_k = _seg(n_sg)
    n_groups = len(sg_proj)
    sg_kind = kind_p[sg_proj]
    sg_default = (sg_k == 0) & has_def[sg_proj]
    sg_stateful = sampler.share("sg_stateful_share", sg_kind, 1.0)
    sg_start = _starts(n_sg)
    registry: dict[str, int] = {}
    templates: list[list] = []
    tid = np.zeros(n_groups, np.int64)
    for key_name, mask in (("sg_templates_default", sg_default), ("sg_templates", ~sg_default)):
        rows = np.flatnonzero(mask)
        (tc, tcats), = sampler.cols(key_name, sg_kind[rows], None, [])
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
    rule_sg, rule_i = _seg(t_len[tid] if n_groups else np.zeros(0, np.int64))
    n_rules = len(rule_sg)
    rule_row = t_start[tid[rule_sg]] + rule_i

    def rule_col(c):
        cats = sorted({json.dumps(r[c]) for r in flat})
        idx = {t: i for i, t in enumerate(cats)}
        codes = np.array([idx[json.dumps(r[c])] for r in flat] or [0], np.int64)[rule_row]
        return codes, [json.loads(t) for t in cats]

    rdir, reth, rproto, rlo, rhi, rrem = (rule_col(c) for c in range(6))
    eth6 = (np.array(reth[1] or ["IPv4"], dtype=object)[reth[0]] == "IPv6") if n_rules else np.zeros(0, bool)
    rem_kind = np.array([str(x).split("/")[0] for x in (rrem[1] or ["any"])], dtype=object)[rrem[0]] if n_rules else np.array([], dtype=object)
    rem_len = np.array([int(str(x).split("/")[1]) if "/" in str(x) else 0 for x in (rrem[1] or ["any"])], np.int64)[rrem[0]] if n_rules else np.zeros(0, np.int64)
    prefix_txt = np.full(n_rules, None, dtype=object)
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
    rand = rng.integers(0, 2 ** 32, n_rules) if n_rules else np.zeros(0, np.int64)
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
    rsg_proj = sg_proj[rule_sg] if n_rules else np.zeros(0, np.int64)
    gcount = n_sg[rsg_proj] if n_rules else np.zeros(0, np.int64)
    other_k = (sg_k[rule_sg] + 1 + np.floor(rng.random(n_rules) * np.maximum(gcount - 1, 1)).astype(np.int64)) % np.maximum(gcount, 1) if n_rules else np.zeros(0, np.int64)
    rgroup = np.where(selfg, rule_sg, np.where(otherg, np.where(gcount > 1, sg_start[rsg_proj] + other_k, rule_sg), -1)) if n_rules else np.zeros(0, np.int64)

    # --- the port table -------------------------------------------------------------------------
    tick("tables")
    n_ports = blocks.total
    port_ids = ids.uuids(n_ports)
    net_ids = ids.uuids(n_networks + 1)  # the last one is the external network
    ext_net = n_networks
    sub_ids = ids.uuids(n_subnets4 + n_subnets6 + n_ext_sub)
    router_ids = ids.uuids(n_routers)
    fip_ids = ids.uuids(n_fips)
    sg_ids = ids.uuids(n_groups)
    rule_ids = ids.uuids(n_rules)
    vm_ids = ids.uuids(n_vms)
    n_lb_ports = int((role == LB).sum())
    lb_ids = ids.uuids(n_lb_ports)
    agent_ids = ids.uuids(n_netnodes + 1)
    host_ids = ids.uuids(n_compute + n_netnodes)
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
        p_net = np.concatenate([w_net, d_net, sub_net[ri_sub], np.full(blocks.external, ext_net)])
        p_proj = np.concatenate([w_proj, net_proj[d_net], sub_proj[ri_sub],
                                 np.full(n_gateways, n_projects + 1 if ext_empty else n_projects), np.full(n_fips, n_projects + 1 if ext_empty else n_projects)])
        p_kind = np.concatenate([w_kind, net_kind[d_net], sub_kind[ri_sub], r_kind[g_router], f_kind]).astype(np.int16)
        ROLE_NAMES = ("vm", "lb_vip", "unbound", "dhcp", "router_interface", "router_gateway", "floating_ip")
        p_role = np.concatenate([role, np.full(n_dhcp, 3), np.full(n_interfaces, 4), np.full(n_gateways, 5), np.full(n_fips, 6)])

        # per-role attributes (status, admin, port security, vnic, vif), drawn per the port's kind:
        # one code array per column over all ports, decoded once from a small category list
        attr_cats: list[list] = [[] for _ in range(5)]
        attr_codes = np.zeros((5, n_ports), np.int16)
        role_rows = []
        for r, name in enumerate(ROLE_NAMES):
            rows = np.flatnonzero(p_role == r)
            role_rows.append(rows)
            drawn = sampler.cols(("port_attrs", name), p_kind[rows], 5,
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
        named = np.zeros(n_ports, bool)
        dns_named = np.zeros(n_ports, bool)
        for r, name in enumerate(ROLE_NAMES):
            rows = role_rows[r]
            named[rows] = sampler.share(("port_named", name), p_kind[rows], 0.0)
            dns_named[rows] = sampler.share(("dns_named", name), p_kind[rows], 0.0)
        w_tok = tok_p.take(pa.array(w_proj)) if n_workload else pa.array([], LS)
        vm_rank_port = np.zeros(n_workload, np.int64)
        vm_rank_port[vm_pos] = vm_rank[vm_of] + 1
        nic = np.zeros(n_workload, np.int64)
        nic[vm_pos[secondary]] = np.minimum(net_k[vnet[secondary]], 9)  # ethN: N = network index
        lb_rank = np.zeros(n_workload, np.int64)
        lb_rows = np.flatnonzero(role == LB)
        lb_rank[lb_rows] = np.arange(len(lb_rows))
        ub_rank = rank - n_lb[w_proj] + 1
        lb_text = _pick(lb_ids, np.where(role == LB, lb_rank, -1))
        name_w = _where(role == VM, _join("syn-", w_tok, "vm", _num_text(vm_rank_port), "-eth", _num_text(nic)),
                        _where(role == LB, _join("octavia-lb-", lb_text), _join("syn-", w_tok, "vip", _num_text(ub_rank)))) if n_workload else pa.array([], LS)
        dev_w = _where(role == VM, _pick(vm_ids, np.where(role == VM, _vm_of_full(vm_pos, vm_of, n_workload), -1)),
                       _where(role == LB, _join("lb-", lb_text), _const("", n_workload))) if n_workload else pa.array([], LS)
        owner_w = _where(role == VM, _join("compute:", _pick(zone_arr, host_zone[np.maximum(all_host[:n_workload], 0)])),
                         _where(role == LB, _str_col(*sampler.cols("lb_owner", w_kind, None, "Octavia")[0]), _const("", n_workload))) if n_workload else pa.array([], LS)
        d_dev = _join("dhcp", _pick(agent_ids, np.where(d_host >= n_compute, d_host - n_compute, n_netnodes)), "-", net_ids.take(pa.array(d_net))) if n_dhcp else pa.array([], LS)
        (ric, ricats), = sampler.cols("ri_owner", sub_kind[ri_sub], None, "network:router_interface")
        ricats = [c if c in ROUTER_INTERFACE_OWNERS else "network:router_interface" for c in ricats]
        name_other = _join("syn-", _pick(["dhcp", "rif", "gw", "fip"], np.repeat([0, 1, 2, 3], [n_dhcp, n_interfaces, n_gateways, n_fips])), "-",
                           _num_text(np.concatenate([np.arange(n_dhcp), np.arange(n_interfaces), np.arange(n_gateways), np.arange(n_fips)]) + 1))
        p_name = _where(named, _concat([name_w, name_other]), _const("", n_ports)) if n_ports else pa.array([], LS)
        p_name = _avoid_names(p_name, exclude)
        p_dns = _where(dns_named & (p_role == 0), _concat([_join("syn-", w_tok, "vm", _num_text(vm_rank_port)), _const("", n_ports - n_workload)]), _const("", n_ports)) if n_ports else pa.array([], LS)
        p_dns = _avoid_names(p_dns, exclude)
        p_dev = _concat([dev_w, d_dev, router_ids.take(pa.array(ri_router)), router_ids.take(pa.array(g_router)), fip_ids])
        p_owner = _concat([owner_w, _const("network:dhcp", n_dhcp), _str_col(ric, ricats),
                           _const("network:router_gateway", n_gateways), _const("network:floatingip", n_fips)])
        host_all_names = _concat([names_h, pa.array([""], LS)])
        p_host = host_all_names.take(pa.array(np.where(all_host >= 0, all_host, n_compute + n_netnodes)))

        a_mul, a_add = int(rng.integers(0, 2 ** 31)) * 2 + 1, int(rng.integers(0, 2 ** 32))
        counter = (np.arange(n_ports, dtype=np.uint64) * np.uint64(a_mul) + np.uint64(a_add)) & np.uint64(0xFFFFFFFF)
        p_mac = _mac_text(MAC_PREFIX["port"], salt, counter)

        # allowed address pairs (VMs and unbound ports): a VIP in the port's subnet or a private
        # block per project (e.g. a pod network)
        aap = np.zeros(n_ports, bool)
        aap[:n_workload] = (role != LB) & sampler.share("aap_share", w_kind, 0.0)
        aap_rows = np.flatnonzero(aap)
        p_aap = _const("[]", n_ports)
        if len(aap_rows):
            (ak, akc), = sampler.cols("aap_kind", w_kind[aap_rows], None, "subnet")
            kind_txt = np.array([str(x) for x in akc], dtype=object)[ak]
            proj_rand = rng.integers(0, 2 ** 24, n_projects)
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
            full = np.full(n_ports, -1, np.int64)
            full[aap_rows] = np.arange(len(aap_rows))
            p_aap = _where(aap, _pick(txt, np.maximum(full, 0)) if len(txt) else p_aap, p_aap)

        # Alcor-style ports (in VPC networks): veth name derived from the port id, fast path flag
        alcor = np.zeros(n_ports, bool)
        in_vpc = np.concatenate([vpc, [False]])[p_net]
        alcor[in_vpc] = sampler.share("alcor_port_share", p_kind[in_vpc], 0.0)
        p_veth = _where(alcor, _join("veth", pc.utf8_slice_codeunits(port_ids, 0, 11)), _const(None, n_ports)) if n_ports else pa.array([], LS)
        fast = alcor & sampler.share("fast_path_share", p_kind, 0.0)
        p_fast = _bools(np.ones(n_ports, bool), ~fast)
        created = rng.integers(0, 2 * 365 * 86400, n_ports)
        updated = created + rng.integers(0, 60 * 86400, n_ports)
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
    ri4 = ri_sub < n_subnets4

    def fixed_ips():
        v6_first = np.full(n_networks, -1, np.int64)
        v6_first[s6_net[s6_j == 0]] = np.flatnonzero(s6_j == 0)
        w_v6 = (v6_first[w_net] >= 0) & sampler.share("v6_port_share", w_kind, 1.0)
        w6 = np.flatnonzero(w_v6)
        s6_of = v6_first[w_net[w6]]
        k6 = start6[s6_of] + _rank_by(s6_of) + 2
        keep6 = k6 <= 0xFFFF
        w6, s6_of, k6 = w6[keep6], s6_of[keep6], k6[keep6]
        # DHCP addresses: every DHCP-enabled subnet x its network's agents
        dsub = np.concatenate([np.flatnonzero(dhcp4), n_subnets4 + np.flatnonzero(dhcp6)])
        dsub = dsub[np.argsort(sub_net[dsub], kind="stable")]
        d_idx = _rank(sub_net[dsub])
        dd_sub, dd_a = _seg(agents[sub_net[dsub]])
        dd_s = dsub[dd_sub]
        dd_port = blocks.dhcp_start + _starts(agents)[sub_net[dd_s]] + dd_a
        dd_index = d_idx[dd_sub]
        dd4 = dd_s < n_subnets4
        ip_parts = [
            (np.arange(n_workload), np.zeros(n_workload, np.int64), w_sub, ip4_text(w_ip)),
            (w6, np.ones(len(w6), np.int64), n_subnets4 + s6_of, _join(p6_arr.take(pa.array(s6_of)), "::", _hex16(k6))),
            (dd_port[dd4], dd_index[dd4], dd_s[dd4], ip4_text(addr4(dd_s[dd4], dd_a[dd4]))),
            (dd_port[~dd4], dd_index[~dd4], dd_s[~dd4],
             _join(p6_arr.take(pa.array(dd_s[~dd4] - n_subnets4)), "::", _hex16(dd_a[~dd4] + 2))),
            (blocks.interface_start + np.flatnonzero(ri4), np.zeros(int(ri4.sum()), np.int64), ri_sub[ri4], ip4_text(gw_ip4[ri_sub[ri4]])),
            (blocks.interface_start + np.flatnonzero(~ri4), np.zeros(int((~ri4).sum()), np.int64), ri_sub[~ri4],
             _join(p6_arr.take(pa.array(ri_sub[~ri4] - n_subnets4)), "::1")),
            (blocks.gateway_start + np.arange(blocks.external), np.zeros(blocks.external, np.int64), n_subnets4 + n_subnets6 + ext_sub_of, ip4_text(ext_ip)),
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
    sub_ver = np.concatenate([np.full(n_subnets4, 4), np.full(n_subnets6, 6)])
    so = np.lexsort((sub_ver, sub_net))
    sub_rank = np.empty(n_subnets4 + n_subnets6, np.int64)
    sub_rank[so] = _rank(sub_proj[so])
    ext_o = np.arange(n_ext_sub)
    cidr_all = _concat([_join(ip4_text(s4_addr), "/", _num_text(prefix)),
                        _join(p6_arr, "::/64"),
                        _join(ip4_text(ext_block), "/24")])
    gw_txt = _concat([_where(gw4, ip4_text(gw_ip4), _const(None, n_subnets4)),
                      _where(gw6, _join(p6_arr, "::1"), _const(None, n_subnets6)) if n_subnets6 else pa.array([], LS),
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
    dns_txt = _concat([_pick([dns_json[c] for c in dnscats], dns4c), _const("[]", n_subnets6 + n_ext_sub)])
    v6am, v6ra = v6_modes
    ext_dhcp = float((model.get("external") or {}).get("enable_dhcp_share") or 0.0)
    sub_all_proj = np.concatenate([sub_proj, np.full(n_ext_sub, n_projects)])
    sub_all_net = np.concatenate([sub_net, np.full(n_ext_sub, ext_net)])
    sub_names = _concat([_join("syn-", tok_p.take(pa.array(sub_proj)) if n_subnets4 + n_subnets6 else pa.array([], LS),
                               "sn", _num_text(sub_rank + 1)),
                         _join("syn-ext", _num_text(ext_o + 1))])
    att_txt = _concat([_where(att_rid, router_ids.take(pa.array(np.maximum(sub_router, 0))) if n_routers else _const(None, n_subnets4 + n_subnets6),
                              _const(None, n_subnets4 + n_subnets6)), _const(None, n_ext_sub)])
    t_sub = {
        "id": sub_ids, "network_id": net_ids.take(pa.array(sub_all_net)),
        "project_id": proj_all.take(pa.array(sub_all_proj)), "name": _avoid_names(sub_names, exclude),
        "cidr": cidr_all, "ip_version": _ints(np.concatenate([sub_ver, np.full(n_ext_sub, 4)])),
        "gateway_ip": gw_txt,
        "enable_dhcp": _bools(np.concatenate([dhcp4, dhcp6, np.full(n_ext_sub, ext_dhcp >= 0.5)])),
        "host_routes": _const("[]", n_subnets4 + n_subnets6 + n_ext_sub), "dns_nameservers": dns_txt,
        "ipv6_address_mode": _concat([_const(None, n_subnets4), _str_col(*v6am), _const(None, n_ext_sub)]),
        "ipv6_ra_mode": _concat([_const(None, n_subnets4), _str_col(*v6ra), _const(None, n_ext_sub)]),
        "attached_router_id": att_txt,
    }
    sub_order = np.concatenate([so, n_subnets4 + n_subnets6 + ext_o])
    t_sub = {k: v.take(pa.array(sub_order)) for k, v in t_sub.items()}
    # pools: IPv4 one or two (around a gap), IPv6 one, external one
    p0_start = s4_addr + poff
    p0_end = np.where(two, p0_start + gap_at - 1, s4_addr + size - 2)
    p1_start = p0_start + gap_at + gap_len
    p1_end = s4_addr + size - 2
    two_idx = np.flatnonzero(two)
    pool_sub = np.concatenate([np.arange(n_subnets4), two_idx, n_subnets4 + np.arange(n_subnets6), n_subnets4 + n_subnets6 + ext_o])
    pool_i = np.concatenate([np.zeros(n_subnets4, np.int64), np.ones(len(two_idx), np.int64), np.zeros(n_subnets6 + n_ext_sub, np.int64)])
    pool_start = _concat([ip4_text(p0_start), ip4_text(p1_start[two_idx]), _join(p6_arr, "::2"), ip4_text(ext_block + 2)])
    pool_end = _concat([ip4_text(p0_end), ip4_text(p1_end[two_idx]), pa.array(s6_end, LS), ip4_text(ext_block + 254)])
    pos_of_sub = np.empty(n_subnets4 + n_subnets6 + n_ext_sub, np.int64)
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
    seg = np.zeros(n_networks + 1, np.int64)
    seg_null = np.ones(n_networks + 1, bool)
    for tname, (lo, hi) in SEGMENTATION_RANGES.items():
        sel = np.flatnonzero(type_arr[:n_networks] == tname)
        if len(sel):
            seg[sel] = _unique_ints(rng, len(sel), lo, hi)
            seg_null[sel] = False
    physnet = np.isin(type_arr, ["flat", "vlan"])
    ext_phys = float((model.get("external") or {}).get("physical_network_share") or 0.0) >= 0.5
    physnet[-1] = ext_phys and ext_row[0] in ("flat", "vlan")
    zjson = ['[]'] + [json.dumps(zone_names[:k], separators=(",", ":")) for k in range(1, n_zones + 1)]
    zone_start = rng.integers(0, n_zones, n_networks)
    nz_txt = []
    for k in range(0, n_zones + 1):
        nz_txt.append(json.dumps(zone_names[:k], separators=(",", ":")))
    single = [json.dumps([z], separators=(",", ":")) for z in zone_names]
    zone_pick = np.where(n_zone == 1, 1 + n_zones + zone_start, np.clip(n_zone, -1, n_zones))
    ztab = [None] + nz_txt + single  # index: -1 -> None via +1 shift
    del zjson
    net_created = rng.integers(0, 365 * 86400, n_networks + 1)
    t_net = {
        "id": net_ids, "project_id": proj_all.take(pa.array(np.concatenate([net_proj, [n_projects]]))),
        "name": _avoid_names(_concat([_join("syn-", tok_p.take(pa.array(net_proj)) if n_networks else pa.array([], LS),
                                            "net", _num_text(net_k + 1)), pa.array(["syn-external"], LS)]), exclude),
        "admin_state_up": _concat([_bool_col(*n_admin), _bools([bool(ext_row[4]) if ext_row[4] is not None else True])]),
        "status": _concat([_str_col(*n_status), pa.array([ext_row[5]], LS)]),
        "shared": _concat([_bool_col(*n_shared), _bools([bool(ext_row[3]) if ext_row[3] is not None else False])]),
        "mtu": _concat([_int_col(*n_mtu), _ints([int(ext_row[1]) if ext_row[1] is not None else 1500])]),
        "router_external": _bools(np.arange(n_networks + 1) == n_networks),
        "port_security_enabled": _concat([_bool_col(*n_ps), _bools([bool(ext_row[2]) if ext_row[2] is not None else True])]),
        "network_type": pa.array(list(type_arr), LS),
        "physical_network": _where(physnet, _join("physnet", _num_text(np.where(np.arange(n_networks + 1) == n_networks, 0, 1))), _const(None, n_networks + 1)),
        "segmentation_id": _ints(seg, seg_null),
        "cidr": _concat([_where(vpc, _join(ip4_text(net_base), "/", _num_text(np.maximum(block_prefix, 0))), _const(None, n_networks)),
                         _const(None, 1)]),
        "availability_zones": _concat([_pick(ztab, np.where(zone_pick < 0, 0, zone_pick + 1)) if n_networks else pa.array([], LS),
                                       pa.array([nz_txt[n_zones]], LS)]),
        "created_at": _time_text(net_created), "updated_at": _time_text(net_created + rng.integers(0, 60 * 86400, n_networks + 1)),
    }
    # the external network first (the admin's), then tenant networks in project order
    net_order = np.concatenate([[n_networks], np.arange(n_networks)])
    t_net = {k: v.take(pa.array(net_order)) for k, v in t_net.items()}

    # --- routers, interfaces, floating IPs -----------------------------------------------------
    g_ext = ext_sub_of[:n_gateways]
    efi = _join('[{"ip_address":"', ip4_text(ext_ip[:n_gateways]), '","subnet_id":"', sub_ids.take(pa.array(n_subnets4 + n_subnets6 + g_ext)), '"}]')
    gw_of_router = np.full(n_routers, -1, np.int64)
    gw_of_router[g_router] = np.arange(n_gateways)
    ra, rs, rd, rh = r_attr
    t_rt = {
        "id": router_ids, "project_id": proj_ids.take(pa.array(r_proj)),
        "name": _avoid_names(_join("syn-", tok_p.take(pa.array(r_proj)) if n_routers else pa.array([], LS), "router", _num_text(r_k + 1)), exclude),
        "admin_state_up": _bool_col(*ra), "status": _str_col(*rs), "distributed": _bool_col(*rd), "ha": _bool_col(*rh),
        "gateway_network_id": _where(r_gw, net_ids.take(pa.array(np.full(n_routers, ext_net))), _const(None, n_routers)) if n_routers else pa.array([], LS),
        "enable_snat": _bools(r_snat, ~r_gw),
        "external_fixed_ips": _where(r_gw, _pick(efi, np.maximum(gw_of_router, 0)) if n_gateways else _const("[]", n_routers), _const("[]", n_routers)) if n_routers else pa.array([], LS),
        "routes": _const("[]", n_routers),
    }
    ri_port = blocks.interface_start + np.arange(n_interfaces)
    t_ri = {"port_id": port_ids.take(pa.array(ri_port)), "router_id": router_ids.take(pa.array(ri_router)),
            "network_id": net_ids.take(pa.array(sub_net[ri_sub])), "subnet_id": sub_ids.take(pa.array(ri_sub)),
            "ip_address": ri_ip}
    f_assoc = f_port >= 0
    (fsa, fsac), = sampler.cols("fip_status_associated", f_kind, None, "ACTIVE")
    (fsu, fsuc), = sampler.cols("fip_status_unassociated", f_kind, None, "DOWN")
    f_status = _where(f_assoc, _str_col(fsa, fsac), _str_col(fsu, fsuc)) if n_fips else pa.array([], LS)
    t_fip = {
        "id": fip_ids, "project_id": proj_ids.take(pa.array(f_proj)),
        "floating_network_id": net_ids.take(pa.array(np.full(n_fips, ext_net))),
        "floating_ip_address": ip4_text(ext_ip[n_gateways:]),
        "fixed_ip_address": _pick(w_ip_text, f_port) if n_workload else _const(None, n_fips),
        "port_id": _pick(port_ids, f_port),
        "router_id": _pick(router_ids, np.where(f_assoc, w_router[np.maximum(f_port, 0)], -1)) if (n_workload and n_routers) else _const(None, n_fips),
        "status": f_status,
    }

    # --- security groups, rules, port groups ---------------------------------------------------
    sg_names = _where(sg_default, _const("default", n_groups),
                      _join("syn-", tok_p.take(pa.array(sg_proj)) if n_groups else pa.array([], LS), "sg", _num_text(sg_k + 1))) if n_groups else pa.array([], LS)
    t_sg = {"id": sg_ids, "project_id": proj_ids.take(pa.array(sg_proj)), "name": _avoid_names(sg_names, exclude),
            "description": _where(sg_default, _const("Default security group", n_groups), _const("", n_groups)) if n_groups else pa.array([], LS),
            "stateful": _bools(sg_stateful)}
    t_rule = {
        "id": rule_ids, "security_group_id": sg_ids.take(pa.array(rule_sg)),
        "project_id": proj_ids.take(pa.array(sg_proj[rule_sg])) if n_rules else pa.array([], LS),
        "direction": _str_col(*rdir), "ethertype": _str_col(*reth), "protocol": _str_col(*rproto),
        "port_range_min": _int_col(*rlo), "port_range_max": _int_col(*rhi),
        "remote_ip_prefix": pa.array(list(prefix_txt), LS),
        "remote_group_id": _pick(sg_ids, rgroup) if n_rules else pa.array([], LS),
        "description": _const("", n_rules),
    } if n_rules else {}
    # groups per port: ports with port security get k of their project's groups (a window)
    k_sg = np.zeros(n_ports, np.int64)
    wk = np.minimum(sampler.ints("sg_per_port", w_kind, 1), n_sg[w_proj])
    k_sg[:n_workload] = np.where(ps_np[:n_workload], wk, 0)
    ps_port, ps_i = _seg(k_sg)
    pproj = p_proj[ps_port]
    sg_off = np.floor(rng.random(n_ports) * np.maximum(n_sg[np.minimum(p_proj, n_projects - 1)] if n_projects else 1, 1)).astype(np.int64)
    grp = sg_start[pproj] + (sg_off[ps_port] + ps_i) % np.maximum(n_sg[pproj], 1) if len(ps_port) else np.zeros(0, np.int64)
    t_psg = {"port_id": port_ids.take(pa.array(ps_port)), "security_group_id": sg_ids.take(pa.array(grp))}

    # --- hosts ---------------------------------------------------------------------------------
    hosts_per_zone = np.bincount(h_zone, minlength=n_zones)
    rack_global = _starts(-(-hosts_per_zone // hpr))[h_zone] + h_rack
    n_racks = int(rack_global.max()) + 1 if n_compute else 0
    if n_racks + n_zones <= UNDERLAY[1] // 256 and hpr + 10 <= 254 and (n_netnodes // n_zones + 10) <= 254:
        ip_c = UNDERLAY[0] + (rack_global << 8) + 10 + h_slot
        ip_n = UNDERLAY[0] + ((n_racks + nn_zone) << 8) + 10 + nn_k
        host_ip = np.concatenate([ip_c, ip_n])
    else:
        host_ip = UNDERLAY[0] + 1 + np.arange(n_compute + n_netnodes)
    alcor_h = rng.random(n_compute + n_netnodes) < float(infra.get("alcor_host_share") or 0.0)
    sp_h = infra.get("server_port") or [[50001, 1]]
    server_port = int(max(sp_h, key=lambda x: x[1])[0])
    dvr = rng.random(n_compute + n_netnodes) < float(infra.get("dvr_mac_share") or 0.0)
    ncm = alcor_h & (rng.random(n_compute + n_netnodes) < (float(infra.get("ncm_share") or 0.0) / max(float(infra.get("alcor_host_share") or 1.0), 1e-9)))
    hcount = np.arange(n_compute + n_netnodes, dtype=np.uint64)
    t_host = {
        "id": host_ids, "node_name": names_h, "local_ip": ip4_text(host_ip),
        "mac_address": _mac_text(MAC_PREFIX["host"], salt, hcount),
        "veth": _where(alcor_h, _const("veth0", n_compute + n_netnodes), _const(None, n_compute + n_netnodes)),
        "server_port": _ints(np.full(n_compute + n_netnodes, server_port), ~alcor_h),
        "host_dvr_mac": _where(dvr, _mac_text(MAC_PREFIX["dvr"], salt, hcount), _const(None, n_compute + n_netnodes)),
        "ncm_id": _where(ncm, _join("syn-ncm-", _pick(zone_arr, host_zone)), _const(None, n_compute + n_netnodes)),
        "availability_zone": _pick(zone_arr, host_zone),
        "rack": _join("r", pc.utf8_lpad(_num_text(np.concatenate([h_rack + 1, np.ones(n_netnodes, np.int64)])), rack_w, "0")),
    }
    # ground truth for the projects of real kinds (fallback kinds are "no label", as in the input)
    lab = np.flatnonzero(labelled[kind_p]) if n_projects else np.zeros(0, np.int64)
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


def _vm_of_full(vm_pos: np.ndarray, vm_of: np.ndarray, n_workload: int) -> np.ndarray:
    full = np.zeros(n_workload, np.int64)
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
