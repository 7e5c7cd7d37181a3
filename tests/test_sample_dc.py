"""The embedded sample dataset: fresh, deterministic, coherent, and faulty exactly where it says.

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
import statistics
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from pipeline import sample
from schemas.model import DEVICE_OWNER_PREFIXES, DEVICE_OWNERS, ROUTER_INTERFACE_OWNERS

ROOT = Path(__file__).resolve().parents[1]
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


@pytest.fixture(scope="module")
def committed() -> dict:
    assert SAMPLE.is_dir() and MANIFEST.is_file(), "run `dcnet sample` to create the committed sample"
    return read_dataset(SAMPLE)


@pytest.fixture(scope="module")
def faults() -> list[dict]:
    return json.loads(MANIFEST.read_text())


# ------------------------------------------------------------------ freshness and determinism

def test_committed_sample_is_what_the_generator_writes(tmp_path):
    out = tmp_path / "sample"
    sample.write_sample(out, sample_params())
    fresh = sorted(p.name for p in out.iterdir())
    assert fresh == sorted(p.name for p in SAMPLE.iterdir()), "committed sample is stale: run `make sample`"
    for name in fresh:
        a, b = (out / name).read_bytes(), (SAMPLE / name).read_bytes()
        if name.endswith(".gz"):
            # Compressed bytes depend on the zlib build; the content must be identical.
            a, b = gzip.decompress(a), gzip.decompress(b)
        assert a == b, f"{name} is stale: run `make sample`"
    assert (tmp_path / "sample_faults.json").read_bytes() == MANIFEST.read_bytes()


def test_same_params_give_identical_bytes_and_deterministic_gzip(tmp_path):
    sample.write_sample(tmp_path / "a", SMALL)
    sample.write_sample(tmp_path / "b", SMALL)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert any(n.endswith(".gz") for n in names)
    for n in names:
        blob = (tmp_path / "a" / n).read_bytes()
        assert blob == (tmp_path / "b" / n).read_bytes(), n
        if n.endswith(".gz"):
            flags, mtime = blob[3], int.from_bytes(blob[4:8], "little")
            assert mtime == 0 and not flags & 0x08, f"{n}: gzip header carries a time or a name"
    assert (tmp_path / "a_faults.json").read_bytes() == (tmp_path / "b_faults.json").read_bytes()


def test_other_seed_gives_other_content():
    a, _, _ = sample.generate(SMALL)
    b, _, _ = sample.generate({**SMALL, "seed": 8})
    assert a["neutron_networks.json"] != b["neutron_networks.json"]
    assert a[sample.F_LABELS] != b[sample.F_LABELS]


def test_rewrite_removes_files_of_an_earlier_generation(tmp_path):
    out = tmp_path / "s"
    sample.write_sample(out, SMALL)
    first = {p.name for p in out.iterdir()}
    (out / "notes.txt").write_text("mine")   # not ours: must survive
    sample.write_sample(out, {**SMALL, "seed": 8})
    names = {p.name for p in out.iterdir()}
    assert "notes.txt" in names
    assert names - {"notes.txt"} == set(sample.generate({**SMALL, "seed": 8})[0])
    assert any(n.startswith("osc_port_show_") for n in first - names)   # ids in names changed


# ------------------------------------------------------------------ coherence and faults

def test_clean_rows_have_no_defect_and_each_fault_exactly_its_own(committed, faults):
    found = defects(committed)
    planted = {manifest_key(m): m["check"] for m in faults}
    for key, checks in found.items():
        if key in planted:
            continue
        if key[0] == "port_ips" and ("ports",) + key[1:3] in planted:
            continue   # addresses of a planted bad port (cascade), checked through the port
        raise AssertionError(f"unplanted defect {sorted(checks)} at {key}")
    for key, check in planted.items():
        assert found.get(key) == {check}, f"{key}: expected only {check}, found {found.get(key)}"


def test_manifest_shape_and_counts(faults):
    per = sample_params()["faults_per_kind"]
    by_check = defaultdict(int)
    for m in faults:
        assert set(m) >= {"table", "source_file", "source_pos", "check", "note"}
        assert (SAMPLE / m["source_file"]).is_file()
        assert m["table"] == {**sample.FAULTS, **sample.WARNINGS}[m["check"]]
        assert m.get("warning", False) == (m["check"] in sample.WARNINGS)
        assert ("ip_address" in m) == (m["table"] == "port_ips")
        by_check[m["check"]] += 1
    assert dict(by_check) == {c: per for c in list(sample.FAULTS) + list(sample.WARNINGS)}
    # Faults are spread over several files and formats, Alcor included.
    assert len({m["source_file"] for m in faults}) >= 5
    assert any(m["source_file"].startswith("alcor_") for m in faults)
    assert any(".ndjson" in m["source_file"] for m in faults)


def test_faults_per_kind_is_honoured():
    for per in (0, 1):
        _, faults, _ = sample.generate({**SMALL, "faults_per_kind": per})
        assert len(faults) == per * (len(sample.FAULTS) + len(sample.WARNINGS))


def test_small_world_is_coherent_too(tmp_path):
    sample.write_sample(tmp_path / "s", SMALL)
    found = defects(read_dataset(tmp_path / "s"))
    planted = {manifest_key(m): m["check"] for m in json.loads((tmp_path / "s_faults.json").read_text())}
    for key, checks in found.items():
        if key[0] == "port_ips" and ("ports",) + key[1:3] in planted:
            continue
        assert planted.get(key) is not None and checks == {planted[key]}, (key, checks)
    assert set(planted) <= set(found)


# ------------------------------------------------------------------ the reference data center

def test_hosts_zones_and_racks(committed):
    p = sample_params()
    names = [r["o"]["node_name"] for r in committed["hosts"]]
    assert len(names) == len(set(names))
    compute = [n for n in names if "-cn" in n]
    assert len(compute) == p["zones"] * p["racks_per_zone"] * p["hosts_per_rack"]
    assert all(re.fullmatch(r"az\d-r\d\d-(cn|nn)\d\d", n) for n in names)
    alcor = [r["o"] for r in committed["hosts"] if r["file"] == sample.F_NODES]
    inv = [r["o"] for r in committed["hosts"] if r["file"] == sample.F_INVENTORY]
    assert alcor and all(h["node_name"].startswith("az1-") and h["server_port"] == 50001 for h in alcor)
    assert inv and all(h["node_name"].startswith(h["availability_zone"] + "-" + h["rack"]) for h in inv)
    macs = [h["mac_address"] for h in alcor + inv]
    assert len(set(macs)) == len(macs) and all(MAC_RE.match(m) for m in macs)
    # VM ports live on a host of their zone.
    for r in committed["ports"]:
        o = r["o"]
        if o["device_owner"].startswith("compute:") and host_of(o) in names:
            assert host_of(o).startswith(o["device_owner"].split(":")[1] + "-")


def test_formats_present(committed):
    files = {r["file"] for rows in committed.values() for r in rows}
    pages = sorted(f for f in files if f.startswith("neutron_ports_page"))
    assert len(pages) >= 2
    for f in pages[:-1]:
        doc = json.loads(gzip.decompress((SAMPLE / f).read_bytes()))
        assert any(l["rel"] == "next" and "marker=" + doc["ports"][-1]["id"] in l["href"] for l in doc["ports_links"])
    assert any(f.startswith("osc_port_show_") for f in files)
    assert any(f.startswith("osc_network_show_") for f in files)
    assert any(f.startswith("neutron_port_show_") for f in files)
    assert any(".ndjson" in f for f in files)
    assert committed["rules"] and any(r["file"] == sample.F_RULES for r in committed["rules"])
    alcor_ports = [r["o"] for r in committed["ports"] if r["file"].startswith("alcor_")]
    assert alcor_ports and all("create_at" in p and "veth_name" in p and "fast_path" in p for p in alcor_ports)
    assert all(r["o"].get("cidr") for r in committed["networks"] if r["file"].startswith("alcor_"))
    neutron = [r["o"] for r in committed["ports"] if r["file"].startswith("neutron_ports")]
    assert all(p["tenant_id"] == p["project_id"] for p in neutron)
    assert not any("tenant_id" in r["o"] for rows in committed.values() for r in rows if r["file"].startswith("osc_"))
    ports = len({r["o"]["id"] for r in committed["ports"]})
    assert 5000 <= ports <= 15000
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) <= 10 * 2 ** 20


def test_infrastructure_ports(committed):
    ports = [r["o"] for r in committed["ports"]]
    subnets = {r["o"]["id"]: r["o"] for r in committed["subnets"]}
    ext = {r["o"]["id"] for r in committed["networks"]
           if r["o"].get("router:external", r["o"].get("is_router_external"))}
    assert len(ext) == 1
    owners = defaultdict(int)
    for p in ports:
        owners[p["device_owner"].split(":")[0] if p["device_owner"].startswith("compute:") else p["device_owner"]] += 1
        if p["device_owner"] == "network:dhcp":
            for fx in p["fixed_ips"]:   # DHCP sits at the start of the pool
                assert fx["ip_address"] == subnets[fx["subnet_id"]]["allocation_pools"][0]["start"]
        if p["device_owner"] in ("network:router_gateway", "network:floatingip"):
            assert p["network_id"] in ext
    for o in ("compute", "network:dhcp", "network:router_interface", "network:router_gateway",
              "network:floatingip", "Octavia", ""):
        assert owners[o] > 0, o
    assert owners[""] < 0.01 * len(ports)   # a few unbound ports
    port_ips = {p["id"]: {f["ip_address"] for f in p["fixed_ips"]} for p in ports}
    for r in committed["fips"]:
        f = r["o"]
        if f["port_id"]:
            assert f["fixed_ip_address"] in port_ips[f["port_id"]]
            assert f["router_id"]


def projects_by_kind(committed) -> dict[str, list[str]]:
    out = defaultdict(list)
    for r in committed["labels"]:
        out[r["o"]["profile"]].append(r["o"]["project_id"])
    return out


def test_labels_and_naming_convention(committed):
    labels = {r["o"]["project_id"]: r["o"]["profile"] for r in committed["labels"]}
    projects = {r["o"]["project_id"] for r in committed["networks"]} - {""}
    tenants = {r["o"]["project_id"] for r in committed["security_groups"]}
    assert set(labels) <= tenants and set(sample.KINDS) == set(labels.values())
    assert 0.5 <= len(labels) / len(tenants) <= 0.7
    assert tenants <= projects
    named = {}
    for r in committed["subnets"]:
        parts = r["o"]["name"].split("-")
        if len(parts) >= 3 and parts[0] == sample.SITE:
            named[r["o"]["project_id"]] = parts[1]
    assert 0.35 <= len(named) / len(tenants) <= 0.65
    both = [p for p in named if p in labels]
    wrong = [p for p in both if named[p] != labels[p]]
    assert 1 <= len(wrong) <= 3 and len(both) - len(wrong) >= 10
    assert set(named) - set(labels) and set(labels) - set(named)   # partial overlap


def test_kinds_show_their_typical_structure(committed):
    kinds = projects_by_kind(committed)
    rules = defaultdict(list)
    for r in committed["rules"]:
        rules[r["o"]["project_id"]].append(r["o"])
    prefixes = defaultdict(list)
    for r in committed["subnets"]:
        if r["o"]["ip_version"] == 4:
            prefixes[r["o"]["project_id"]].append(int(r["o"]["cidr"].split("/")[1]))
    fip_projects = {r["o"]["project_id"] for r in committed["fips"]}
    ports = defaultdict(list)
    for r in committed["ports"]:
        ports[r["o"]["project_id"]].append(r["o"])

    def opens(p, port, prefix=None, group=False):
        return any(x["port_range_min"] == port and (prefix is None or x["remote_ip_prefix"] == prefix)
                   and (not group or x["remote_group_id"]) for x in rules[p])

    def median_prefix(kind):
        return statistics.median(pl for p in kinds[kind] for pl in prefixes[p])

    assert all(opens(p, 443, "0.0.0.0/0") for p in kinds["web"])
    assert sum(opens(p, 3306, group=True) for p in kinds["web"]) >= len(kinds["web"]) // 2
    assert any(x["device_owner"] == "Octavia" for p in kinds["web"] for x in ports[p])
    assert all(opens(p, 22, "0.0.0.0/0") for p in kinds["devtest"])
    assert all(opens(p, 6443) for p in kinds["kubernetes"])
    assert all(any(x["allowed_address_pairs"] for x in ports[p]) for p in kinds["kubernetes"])
    assert all(opens(p, 8020, group=True) for p in kinds["bigdata"])
    assert all(any(opens(p, port) for port in (3306, 5432, 27017)) for p in kinds["database"])
    assert not fip_projects & set(kinds["hpc"] + kinds["database"])
    assert all(p in fip_projects for p in kinds["web"] + kinds["kubernetes"]
               if any(x["device_owner"] == "Octavia" for x in ports[p]) or p in kinds["kubernetes"])
    # Subnet sizes order the kinds (with overlap: medians of the labelled projects may tie).
    assert median_prefix("hpc") <= 22 and median_prefix("bigdata") <= 23
    assert 24 <= median_prefix("web") <= median_prefix("database")
    assert median_prefix("devtest") >= 24
    vms = {k: statistics.median(sum(x["device_owner"].startswith("compute:") for x in ports[p]) for p in kinds[k])
           for k in kinds}
    assert vms["hpc"] > vms["bigdata"] > vms["web"] > max(vms["database"], vms["devtest"])
    # hpc packs many VMs per host; bigdata spreads them (a VM may have several ports).
    def per_host(p):
        vm = {x["device_id"]: host_of(x) for x in ports[p] if x["device_owner"].startswith("compute:")}
        return len(vm) / len(set(vm.values()))
    assert min(per_host(p) for p in kinds["hpc"]) > 10 > 2 > max(per_host(p) for p in kinds["bigdata"])


# ------------------------------------------------------------------ realism mode (harder benchmark)

HARD = {"seed": 31, "zones": 2, "racks_per_zone": 3, "hosts_per_rack": 10, "projects": 60,
        "faults_per_kind": 0, "realism": "hard"}


def _hard_world(**over):
    return sample.build_world({**sample.DEFAULTS, **HARD, **over})


def test_realism_is_deterministic_and_leaves_the_default_alone():
    a, _, _ = sample.generate(HARD)
    b, _, _ = sample.generate(HARD)
    assert a == b
    plain, _, _ = sample.generate({**HARD, "realism": "off"})
    assert plain != a


def test_realism_has_no_kind_exclusive_artefacts():
    w = _hard_world()
    kind_of = {p.id: p.kind for p in w.projects}
    kinds_with = defaultdict(set)
    for port in w.ports:
        kind = kind_of.get(port["project_id"])
        if kind is None:
            continue
        if port["device_owner"] == "Octavia":
            kinds_with["octavia"].add(kind)
        if port["allowed_address_pairs"]:
            kinds_with["aap"].add(kind)
    for net in w.networks:
        if net["_fmt"] == "alcor":
            kinds_with["alcor"].add(kind_of[net["project_id"]])
    for artefact, kinds in kinds_with.items():
        assert len(kinds) >= 2, f"{artefact} only in {kinds}"
    # security groups carry no kind word; unconventionally named projects no kind in any name
    words = set(sample.KINDS) | {"k8s", "hadoop", "spark", "dev", "db", "cluster-net"}
    assert not {sg["name"] for sg in w.sgs} & (words - {"cluster"})
    for p in w.projects:
        if p.named:
            continue
        names = [n["name"] for n in p.networks] + [s["name"] for s in p.subnets]
        assert not any(k in name for name in names for k in sample.KINDS), p.kind


def test_realism_label_noise_at_the_stated_rate_and_mixed_use():
    w = _hard_world()
    listed = [p for p in w.projects if p.labelled]
    wrong = [p for p in listed if p.listed and p.listed != p.kind]
    assert len(wrong) == round(len(listed) * sample.LABEL_NOISE)
    # a mixed-use tenant owns groups of a kind template other than its own
    own = {k: set(sample.PROFILES[k]["groups"]) | {"default"} for k in sample.KINDS}
    mixed = [p for p in w.projects if set(p.groups) - own[p.kind]]
    assert len(mixed) >= 0.1 * len(w.projects)


def test_variant_b_uses_another_naming_convention():
    import re

    w = _hard_world(variant="b")
    pattern = re.compile(yaml.safe_load((ROOT / "params.yaml").read_text())["labels"]["naming_pattern"])
    named = [s["name"] for p in w.projects if p.named for s in p.subnets]
    assert named and all(s.split("_")[1] == "dcb" for s in named)
    assert not any(pattern.search(s) for s in named)


def test_cli_sample_realism_variants(tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"sample": SMALL, "benchmark": {
        "b": {"seed": 77, "projects": 12, "labelled": 1.0}}}))
    res = CliRunner().invoke(app, ["sample", "--realism", "hard", "--variant", "b", "--params", str(params),
                                   "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    labels = (tmp_path / "b" / sample.F_LABELS).read_text().splitlines()
    assert len(labels) == 1 + 12                 # every project listed (labelled: 1.0)
    assert json.loads((tmp_path / "b_faults.json").read_text()) == []   # no planted faults
    res = CliRunner().invoke(app, ["sample", "--variant", "b", "--params", str(params),
                                   "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "--variant b needs --realism hard" in res.output
