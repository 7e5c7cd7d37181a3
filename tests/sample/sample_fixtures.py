"""Shared by the sample generator's tests: a tiny independent reader of the written files and
the defects it finds.

The checks read the files with json/csv/gzip/ipaddress only (independent of the ingest stage),
so they test the generator's output, not the pipeline's reading of it.
"""

from __future__ import annotations

import csv
import gzip
import io
import ipaddress
import json
import re
from collections import defaultdict
from pathlib import Path

import yaml

from schemas.model import DEVICE_OWNER_PREFIXES, DEVICE_OWNERS, ROUTER_INTERFACE_OWNERS

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "raw" / "sample"
MANIFEST = ROOT / "data" / "raw" / "sample_faults.json"
SMALL = {"seed": 7, "zones": 2, "racks_per_zone": 2, "hosts_per_rack": 6, "projects": 14,
         "faults_per_kind": 1}
MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def sample_params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())["sample"]

# ------------------------------------------------------------------ a tiny independent reader

def read_dataset(folder: Path) -> dict:
    """Every resource as {"file", "pos", "idx", "o"} (idx = child index for embedded rules)."""
    d = defaultdict(list)

    def add(table, f, pos, o, idx=0):
        d[table].append({"file": f, "pos": pos, "idx": idx, "o": o})

    for path in sorted(folder.iterdir()):
        f = path.name
        if f.startswith("README"):
            continue
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if f.endswith(".gz") else raw).decode()
        if f.endswith(".csv"):
            rows = list(csv.DictReader(io.StringIO(text)))
            table = "labels" if "profile" in rows[0] else "hosts"
            for i, r in enumerate(rows):
                add(table, f, i, r)
            continue
        if ".ndjson" in f:
            for i, line in enumerate(text.splitlines()):
                add("ports", f, i, json.loads(line))
            continue
        doc = json.loads(text)
        if "host_infos" in doc:
            for i, h in enumerate(doc["host_infos"]):
                add("hosts", f, i, h)
        elif "binding_host_id" in doc:   # openstack port show -f json
            add("ports", f, 0, doc)
        elif "is_router_external" in doc:   # openstack network show -f json
            add("networks", f, 0, doc)
        elif len(doc) == 1 and isinstance(next(iter(doc.values())), dict):   # {"port": {...}}
            (key, o), = doc.items()
            add(key + "s", f, 0, o)
        elif "security_groups" in doc:
            for i, g in enumerate(doc["security_groups"]):
                add("security_groups", f, i, g)
                for j, r in enumerate(g["security_group_rules"]):
                    add("rules", f, i, r, j)
        elif "security_group_rules" in doc:
            for i, r in enumerate(doc["security_group_rules"]):
                add("rules", f, i, r)
        elif any(k in doc for k in ("networks", "subnets", "ports", "routers", "floatingips")):
            (key,) = [k for k in doc if not k.endswith("_links")]
            for i, o in enumerate(doc[key]):
                add({"floatingips": "fips"}.get(key, key), f, i, o)
        else:
            raise AssertionError(f"unrecognised file {f}")
    return d


def host_of(port: dict) -> str:
    return port.get("binding:host_id", port.get("binding_host_id")) or ""


def canon(row) -> tuple:
    return (row["file"], row["pos"], row["idx"])


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def defects(ds: dict) -> dict[tuple, set[str]]:
    """(table, file, pos[, ip]) -> reason codes, with the shared vocabulary of CONTEXT.md."""
    out = defaultdict(set)
    nets = {r["o"]["id"]: r["o"] for r in ds["networks"]}
    subnets = {}
    hosts = {r["o"]["node_name"] for r in ds["hosts"]}
    sgs = {r["o"]["id"] for r in ds["security_groups"]}
    routers = {r["o"]["id"] for r in ds["routers"]}

    for r in sorted(ds["networks"], key=canon):
        o, k = r["o"], ("networks", r["file"], r["pos"])
        seg = o.get("provider:segmentation_id", o.get("provider_segmentation_id"))
        if seg is not None and not 1 <= seg < 2 ** 24:
            out[k].add("segmentation_id_range")
        if not 68 <= o["mtu"] <= 9216:
            out[k].add("mtu_range")

    seen_by_net = defaultdict(list)
    for r in sorted(ds["subnets"], key=canon):
        o, k = r["o"], ("subnets", r["file"], r["pos"])
        subnets.setdefault(o["id"], o)
        cidr = ipaddress.ip_network(o["cidr"])
        if cidr.version != o["ip_version"]:
            out[k].add("ip_version_mismatch")
        gw = ipaddress.ip_address(o["gateway_ip"])
        if gw.version != cidr.version:
            out[k].add("gateway_family_mismatch")
        elif gw not in cidr:
            out[k].add("gateway_outside_subnet")  # a warning: Neutron accepts it
        elif cidr.version == 4 and gw in (cidr.network_address, cidr.broadcast_address):
            out[k].add("gateway_reserved")
        for p in o["allocation_pools"]:
            a, b = ipaddress.ip_address(p["start"]), ipaddress.ip_address(p["end"])
            if a not in cidr or b not in cidr:
                out[k].add("pool_outside_cidr")
            if a > b:
                out[k].add("pool_invalid")
            if a <= gw <= b:
                out[k].add("pool_covers_gateway")
        net = nets.get(o["network_id"])
        if net is None:
            out[k].add("ref_network_id")
        elif net.get("cidr") and not cidr.subnet_of(ipaddress.ip_network(net["cidr"])):
            out[k].add("subnet_outside_network_cidr")
        if any(cidr.version == c.version and cidr.overlaps(c) for c in seen_by_net[o["network_id"]]):
            out[k].add("subnet_overlap")
        seen_by_net[o["network_id"]].append(cidr)

    seen_ids, macs, ips = {}, defaultdict(set), defaultdict(set)
    for r in sorted(ds["ports"], key=canon):
        o, k = r["o"], ("ports", r["file"], r["pos"])
        version = (o.get("updated_at", ""), o.get("revision_number", -1))
        if o["id"] in seen_ids:  # the sample's later copies are never newer than the first
            out[k].add("superseded" if version < seen_ids[o["id"]] else "duplicate_id")
        seen_ids.setdefault(o["id"], version)
        if not MAC_RE.match(o["mac_address"]):
            out[k].add("mac_format")
        elif o["mac_address"] in macs[o["network_id"]]:
            out[k].add("mac_duplicate_in_network")
        macs[o["network_id"]].add(o["mac_address"])
        if o["network_id"] not in nets:
            out[k].add("ref_network_id")
        if host_of(o) and host_of(o) not in hosts:
            out[k].add("ref_binding_host_id")
        if any(g not in sgs for g in o["security_groups"]):
            out[k].add("ref_security_group_id")
        owner = o["device_owner"]
        if owner not in DEVICE_OWNERS and not owner.startswith(DEVICE_OWNER_PREFIXES):
            out[k].add("device_owner_unknown")
        if owner in ROUTER_INTERFACE_OWNERS and o["device_id"] not in routers:
            out[k].add("ref_router_id")
        for fx in o["fixed_ips"]:
            ki = ("port_ips", r["file"], r["pos"], fx["ip_address"])
            sn = subnets.get(fx["subnet_id"])
            ip = ipaddress.ip_address(fx["ip_address"])
            if sn is None:
                out[ki].add("ref_subnet_id")
                continue
            cidr = ipaddress.ip_network(sn["cidr"])
            if ip.version != cidr.version:
                out[ki].add("ip_family_mismatch")
            elif ip not in cidr:
                out[ki].add("ip_outside_subnet")
            elif ip in ips[sn["id"]]:
                out[ki].add("ip_duplicate_in_subnet")
            elif sn["network_id"] != o["network_id"]:
                out[ki].add("ip_subnet_network_mismatch")
            ips[sn["id"]].add(ip)
            # Not a validation check, a promise of the generator: addresses come from the pools
            # except router interfaces, which hold the gateway.
            if ip.version == cidr.version and ip in cidr:
                if owner in ROUTER_INTERFACE_OWNERS:
                    if fx["ip_address"] != sn["gateway_ip"]:
                        out[ki].add("router_interface_not_gateway")
                elif not any(ipaddress.ip_address(p["start"]) <= ip <= ipaddress.ip_address(p["end"])
                             for p in sn["allocation_pools"]):
                    out[ki].add("ip_outside_pool")

    for r in sorted(ds["rules"], key=canon):
        o, k = r["o"], ("rules", r["file"], r["pos"]) if r["file"].startswith("neutron_security_group_rules") \
            else ("rules", r["file"], r["pos"], r["idx"])
        lo, hi = o["port_range_min"], o["port_range_max"]
        if any(v is not None and not is_int(v) for v in (lo, hi)):
            out[k].add("ingest_type_error")
        elif (lo is None) != (hi is None) or (lo is not None and not (0 <= lo <= hi <= 65535)):
            out[k].add("port_range_invalid")
        if o["remote_ip_prefix"] is not None:
            fam = ipaddress.ip_network(o["remote_ip_prefix"]).version
            if {"IPv4": 4, "IPv6": 6}[o["ethertype"]] != fam:
                out[k].add("ethertype_prefix_mismatch")
        if o["remote_group_id"] is not None and o["remote_group_id"] not in sgs:
            out[k].add("ref_remote_group_id")
        if o["security_group_id"] not in sgs:
            out[k].add("ref_security_group_id")
        if o["direction"] not in ("ingress", "egress"):
            out[k].add("direction_invalid")
    return out


def manifest_key(m: dict) -> tuple:
    table = {"security_group_rules": "rules"}.get(m["table"], m["table"])
    if table == "port_ips":
        return (table, m["source_file"], m["source_pos"], m["ip_address"])
    return (table, m["source_file"], m["source_pos"])


def read_committed() -> dict:
    assert SAMPLE.is_dir() and MANIFEST.is_file(), "run `dcnet sample` to create the committed sample"
    return read_dataset(SAMPLE)


def read_manifest() -> list[dict]:
    return json.loads(MANIFEST.read_text())
