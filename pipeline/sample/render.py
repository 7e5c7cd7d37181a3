"""The files' bytes: Neutron, openstack-CLI and Alcor wire formats, CSV inventories, gzip; the
fault manifest (file and position of each planted row)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import random

from pipeline.sample.files import (F_ALCOR_PORTS, F_ALCOR_SUBNETS, F_ALCOR_VPCS, F_FIPS, F_INVENTORY,
                                   F_LABELS, F_NETWORKS, F_NODES, F_ROUTERS, F_RULES, F_SGS, F_SUBNETS,
                                   F_UPDATES)
from pipeline.sample.readme import readme
from pipeline.sample.world import World


NEUTRON_URL = "https://network.dc.ustc.example:9696"


def _strip(d: dict) -> dict:
    return {k: v for k, v in d.items() if not k.startswith("_")}


def _sg_wire(sg: dict) -> dict:
    out = _strip(sg)
    out["security_group_rules"] = [_strip(r) for r in sg["security_group_rules"]]
    return out


def _osc_port(d: dict) -> dict:
    """`openstack port show -f json`: renamed keys, no tenant_id, sorted keys."""
    ren = {"binding:host_id": "binding_host_id", "binding:vif_type": "binding_vif_type",
           "binding:vnic_type": "binding_vnic_type", "binding:profile": "binding_profile",
           "binding:vif_details": "binding_vif_details", "admin_state_up": "is_admin_state_up",
           "port_security_enabled": "is_port_security_enabled"}
    out = {ren.get(k, k): v for k, v in _strip(d).items() if k != "tenant_id"}
    out.update({"data_plane_status": None, "propagate_uplink_status": None,
                "numa_affinity_policy": None, "trunk_details": None, "location": None})
    return dict(sorted(out.items()))


def _osc_network(d: dict) -> dict:
    ren = {"router:external": "is_router_external", "port_security_enabled": "is_port_security_enabled",
           "admin_state_up": "is_admin_state_up", "provider:network_type": "provider_network_type",
           "provider:segmentation_id": "provider_segmentation_id",
           "provider:physical_network": "provider_physical_network"}
    out = {ren.get(k, k): v for k, v in _strip(d).items() if k != "tenant_id"}
    out.update({"is_default": None, "is_vlan_transparent": None, "location": None})
    return dict(sorted(out.items()))


def _alcor_port(d: dict) -> dict:
    out = {}
    for k, v in _strip(d).items():
        out[{"created_at": "create_at", "updated_at": "update_at"}.get(k, k)] = v
    short = d["id"][:11]
    out.update({"veth_name": f"veth{short}", "fast_path": True,
                "network_ns": f"/var/run/netns/{short}" if d["binding:host_id"] else "",
                "mac_learning_enabled": False, "uplink_status_propagation": False})
    return out


def _dumps(obj, indent=None, sort_keys=False) -> str:
    if indent is None:
        return json.dumps(obj, separators=(",", ":"), sort_keys=sort_keys)
    return json.dumps(obj, indent=indent, sort_keys=sort_keys)


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
        f.write(data)
    return buf.getvalue()


def _csv(rows: list[list], header: list[str]) -> str:
    s = io.StringIO()
    wr = csv.writer(s, lineterminator="\n")
    wr.writerow(header)
    wr.writerows(rows)
    return s.getvalue()

def render(w: World, files: dict[str, list[dict]]) -> dict[str, bytes]:
    out: dict[str, str] = {}
    pages = sorted(k for k in files if k.startswith("neutron_ports_page"))
    limit = len(files[pages[0]]) if pages else 0
    for name, objs in files.items():
        if name.startswith("neutron_ports_page"):
            i = pages.index(name)
            links = []
            if i < len(pages) - 1:
                links.append({"rel": "next", "href": f"{NEUTRON_URL}/v2.0/ports?limit={limit}&marker={objs[-1]['id']}"})
            if i > 0:
                links.append({"rel": "previous", "href": f"{NEUTRON_URL}/v2.0/ports?limit={limit}"
                              f"&marker={objs[0]['id']}&page_reverse=True"})
            doc = {"ports": [_strip(x) for x in objs]}
            if links:
                doc["ports_links"] = links
            out[name] = _dumps(doc) + "\n"
        elif name == F_UPDATES:
            out[name] = "".join(_dumps(_strip(x)) + "\n" for x in objs)
        elif name.startswith("neutron_port_show_"):
            out[name] = _dumps({"port": _strip(objs[0])}) + "\n"
        elif name.startswith("osc_port_show_"):
            out[name] = _dumps(_osc_port(objs[0]), indent=2) + "\n"
        elif name.startswith("osc_network_show_"):
            out[name] = _dumps(_osc_network(objs[0]), indent=2) + "\n"
        elif name.startswith("neutron_router_show_"):
            out[name] = _dumps({"router": _strip(objs[0])}) + "\n"
        elif name == F_ALCOR_PORTS:
            out[name] = _dumps({"ports": [_alcor_port(x) for x in objs]}) + "\n"
        elif name == F_SGS:
            out[name] = _dumps({"security_groups": [_sg_wire(x) for x in objs]}) + "\n"
        else:
            key = {F_NETWORKS: "networks", F_ALCOR_VPCS: "networks", F_SUBNETS: "subnets",
                   F_ALCOR_SUBNETS: "subnets", F_RULES: "security_group_rules",
                   F_ROUTERS: "routers", F_FIPS: "floatingips"}[name]
            out[name] = _dumps({key: [_strip(x) for x in objs]}) + "\n"

    z1 = [h for h in w.hosts if h["_zone"] == 1]
    out[F_NODES] = _dumps({"host_infos": [_strip(h) for h in z1]}, indent=2) + "\n"
    rest = [h for h in w.hosts if h["_zone"] != 1]
    if rest:
        rng = random.Random(int(w.cfg["seed"]) + 1)   # inventory-only attributes
        rows = []
        for h in rest:
            big = h["_role"] == "compute" and rng.random() < 0.3
            rows.append([h["node_name"], h["local_ip"], h["mac_address"], f"az{h['_zone']}",
                         f"r{h['_rack']:02d}", h["_role"], rng.choice(("PowerEdge R650", "ThinkSystem SR650")),
                         96 if big else 64, 768 if big else 512, f"SN{rng.getrandbits(40):010X}"])
        out[F_INVENTORY] = _csv(rows, ["node_name", "local_ip", "mac_address", "availability_zone",
                                       "rack", "role", "model", "cpu_cores", "memory_gb", "serial"])
    out[F_LABELS] = _csv([[p.id, p.listed or p.kind] for p in sorted(w.projects, key=lambda p: p.id) if p.labelled],
                         ["project_id", "profile"])
    out["README.md"] = readme(w, files)
    return {k: (_gzip(v.encode()) if k.endswith(".gz") else v.encode()) for k, v in sorted(out.items())}


def manifest(w: World, files: dict[str, list[dict]]) -> list[dict]:
    where = {id(o): (name, i) for name, objs in files.items() for i, o in enumerate(objs)}
    rows = []
    for f in w.faults:
        name, pos = where[id(f["obj"])]
        row = {"table": f["table"], "source_file": name, "source_pos": pos, "check": f["check"],
               "note": f["note"], "id": f["obj"]["id"]}
        if "ip_address" in f:
            row["ip_address"] = f["ip_address"]
        if f.get("warning"):
            row["warning"] = True
        if "original" in f:
            # The planted row must be the later one in canonical order (file, then position).
            assert where[id(f["original"])] < (name, pos), (f["check"], where[id(f["original"])], name, pos)
            row["note"] += f" (first: {where[id(f['original'])][0]} #{where[id(f['original'])][1]})"
        rows.append(row)
    return sorted(rows, key=lambda r: (r["source_file"], r["source_pos"], r["check"]))
