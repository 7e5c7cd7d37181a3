"""Planted faults: rows validation must quarantine (or warn about), recorded for the manifest."""

from __future__ import annotations

import copy
import ipaddress

from pipeline.sample.files import F_UPDATES
from pipeline.sample.resources import add_port, add_subnet
from pipeline.sample.security import add_rule
from pipeline.sample.world import Project, World


# Planted faults: kind -> table of the row validation must quarantine (PLANTERS gives the order).
FAULTS = {
    "superseded": "ports", "ip_outside_subnet": "port_ips", "ip_family_mismatch": "port_ips",
    "subnet_overlap": "subnets", "ref_network_id": "ports", "mac_format": "ports",
    "port_range_invalid": "security_group_rules", "ref_remote_group_id": "security_group_rules",
    "ingest_type_error": "security_group_rules", "ref_binding_host_id": "ports",
}
WARNINGS = {"device_owner_unknown": "ports", "gateway_outside_subnet": "subnets"}


def _stray_vm(w: World, p: Project, with_ip: bool = True) -> dict:
    """A fresh, clean VM port of p on a v4 subnet (to be corrupted in exactly one way)."""
    rng = w.rng
    v4 = [s for s in p.subnets if s["ip_version"] == 4 and w.pools[s["id"]].capacity() > 2]
    sn = rng.choice(v4)
    net = w.net_by_id[sn["network_id"]]
    host = rng.choice([h for z in p.zones for h in w.zone_hosts(z)])
    ps = net["port_security_enabled"]
    port = add_port(w, p.id, net, owner=f"compute:az{w.zone_of(host)}", device_id=w.uuid(), host=host,
                    fixed=[(sn, w.alloc(sn))] if with_ip else [],
                    sgs=[p.groups["default"]["id"]] if ps else [], since=p.created, port_sec=ps)
    return port


class Planter:
    """What the planting of one fault needs: the world, candidate projects, and the bookkeeping
    that spreads faults over projects and over the paged list and the change feed."""

    def __init__(self, w: World):
        self.w = w
        self.rng = w.rng
        self.neutron_projects = [p for p in w.projects if not p.alcor]
        self.fip_ports = {f["port_id"] for f in w.fips if f["port_id"]}   # membership only
        self.big_subnet_projects = [
            p for p in self.neutron_projects
            if any(s["ip_version"] == 4 and int(s["cidr"].split("/")[1]) <= 26 for s in p.subnets)]
        self.strays = 0
        self.used_projects: list[str] = []

    def stray_file(self, port: dict) -> None:
        """Every third stray Neutron port goes to the change feed, the others to the pages."""
        if port["_fmt"] == "neutron":
            port["_file"] = F_UPDATES if self.strays % 3 == 1 else None
            self.strays += 1

    def add(self, obj, check, note, **kw) -> None:
        self.w.faults.append({"obj": obj, "check": check, "table": {**FAULTS, **WARNINGS}[check],
                              "note": note, **kw})

    def pick(self, cands: list[Project]) -> Project:
        # Spread faults over projects (no project gets two while others have none).
        fresh = [p for p in cands if p.id not in self.used_projects] or cands
        p = self.rng.choice(fresh)
        self.used_projects.append(p.id)
        return p

    def group_of_project_with_groups(self) -> tuple[Project, dict]:
        """A project with a group besides "default", and one such group (rule faults)."""
        p = self.pick([q for q in self.w.projects if len(q.groups) > 1])
        return p, self.rng.choice([g for g in p.groups.values() if g["name"] != "default"])


def superseded(pl: Planter, i: int) -> None:
    """A stale copy of a paged port in the change feed (a later file), one revision older than
    the paged copy, which validation keeps."""
    w, rng = pl.w, pl.rng
    cands = [x for x in w.ports if x["_fmt"] == "neutron" and x.get("_file") is None
             and x["device_owner"].startswith("compute:") and not x.get("_fault")
             and x["id"] not in pl.fip_ports and len(x["fixed_ips"]) == 1]
    orig = rng.choice(cands)
    dup = copy.deepcopy(orig)
    sn = w.subnet_by_id[orig["fixed_ips"][0]["subnet_id"]]
    dup["mac_address"] = w.mac()
    dup["fixed_ips"] = [{"subnet_id": sn["id"], "ip_address": w.alloc(sn)}]
    for a in dup["allowed_address_pairs"]:
        a["mac_address"] = dup["mac_address"]
    dup["revision_number"] = orig["revision_number"] - 1
    dup["_file"] = F_UPDATES
    dup["_fault"] = True
    w.ports.append(dup)
    pl.add(dup, "superseded", "port id already exported in the paged list; stale copy in the "
           "change feed (different MAC and address)", original=orig)


def ip_outside_subnet(pl: Planter, i: int) -> None:
    w = pl.w
    p = pl.pick([q for q in pl.neutron_projects if q.space.has_room(24, 64)])
    port = _stray_vm(w, p)
    sn = w.subnet_by_id[port["fixed_ips"][0]["subnet_id"]]
    bad = p.space.spare_address(17 + i)   # beyond every subnet of the project
    port["fixed_ips"][0]["ip_address"] = bad
    pl.stray_file(port)
    pl.add(port, "ip_outside_subnet", f"fixed IP {bad} is not inside subnet {sn['cidr']}", ip_address=bad)


def ip_family_mismatch(pl: Planter, i: int) -> None:
    w, rng = pl.w, pl.rng
    p = pl.pick(pl.neutron_projects)
    port = _stray_vm(w, p)
    sn = w.subnet_by_id[port["fixed_ips"][0]["subnet_id"]]
    bad = f"fd{rng.getrandbits(8):02x}:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}::{rng.randint(16, 4095):x}"
    port["fixed_ips"][0]["ip_address"] = bad
    pl.stray_file(port)
    pl.add(port, "ip_family_mismatch", f"IPv6 address {bad} in IPv4 subnet {sn['cidr']}", ip_address=bad)


def subnet_overlap(pl: Planter, i: int) -> None:
    """A sub-block of an existing subnet, listed after it, with no ports."""
    w, rng = pl.w, pl.rng
    p = pl.pick(pl.big_subnet_projects)
    sn = rng.choice([s for s in p.subnets if s["ip_version"] == 4 and int(s["cidr"].split("/")[1]) <= 26
                     and not s.get("_fault")])
    base = ipaddress.ip_network(sn["cidr"])
    sub = list(base.subnets(prefixlen_diff=2))[-1]
    bad_sn = add_subnet(w, p, w.net_by_id[sn["network_id"]], sub, w.subnet_name(p), dhcp=False,
                        pools=[(sub.network_address + 2, sub.broadcast_address - 1)], insert_after=sn)
    bad_sn["_fault"] = True
    pl.add(bad_sn, "subnet_overlap", f"{sub} overlaps {sn['cidr']} of the same network", original=sn)


def ref_network_id(pl: Planter, i: int) -> None:
    w = pl.w
    p = pl.pick(pl.neutron_projects)
    port = _stray_vm(w, p, with_ip=False)
    port["network_id"] = w.uuid()
    port["status"] = "DOWN"
    pl.stray_file(port)
    pl.add(port, "ref_network_id", "port of a network that no longer exists (no fixed IPs)")


def mac_format(pl: Planter, i: int) -> None:
    w, rng = pl.w, pl.rng
    p = pl.pick(w.projects)
    port = _stray_vm(w, p)
    if i % 2 == 0:   # an octet lost in a copy-paste
        bad = "fa:16:3e:%02x:%02x" % (rng.getrandbits(8), rng.getrandbits(8))
    else:            # a non-hex digit
        bad = "fa:16:3e:g%x:%02x:%02x" % (rng.getrandbits(4), rng.getrandbits(8), rng.getrandbits(8))
    port["mac_address"] = bad
    pl.stray_file(port)
    pl.add(port, "mac_format", f"malformed MAC {bad!r}")


# Rule faults live in the standalone rules file (top-level objects: unambiguous position).

def port_range_invalid(pl: Planter, i: int) -> None:
    p, sg = pl.group_of_project_with_groups()
    r = add_rule(pl.w, p, sg, "ingress", "IPv4", "tcp", -1, -1 if i % 2 == 0 else 65535, p.mgmt, extra=True)
    r["_fault"] = True
    pl.add(r, "port_range_invalid", f"negative port_range_min {r['port_range_min']} (AWS-style 'all ports')")


def ref_remote_group_id(pl: Planter, i: int) -> None:
    w = pl.w
    p, sg = pl.group_of_project_with_groups()
    r = add_rule(w, p, sg, "ingress", "IPv4", "tcp", 5432 + i, 5432 + i, None, w.uuid(), extra=True)
    r["_fault"] = True
    pl.add(r, "ref_remote_group_id", "remote_group_id names a deleted security group")


def ingest_type_error(pl: Planter, i: int) -> None:
    p, sg = pl.group_of_project_with_groups()
    word = ("ssh", "https")[i % 2]
    r = add_rule(pl.w, p, sg, "ingress", "IPv4", "tcp", 2200 + i, 2200 + i, p.mgmt, extra=True)
    r["port_range_min"] = r["port_range_max"] = word
    r["_fault"] = True
    pl.add(r, "ingest_type_error", f"port_range_min/max given as service name {word!r}")


def ref_binding_host_id(pl: Planter, i: int) -> None:
    w, rng = pl.w, pl.rng
    alcor = [q for q in w.projects if q.alcor]
    p = pl.pick(alcor if i % 2 == 1 and alcor else pl.neutron_projects)   # also exercise Alcor files
    port = _stray_vm(w, p)
    z = w.zone_of(port["binding:host_id"])
    racks, per_rack = int(w.cfg["racks_per_zone"]), int(w.cfg["hosts_per_rack"])
    ghost = (f"az{z}-r{racks + 1:02d}-cn{rng.randint(1, per_rack):02d}" if i % 2 == 0   # no such rack
             else f"az{z}-r{rng.randint(1, racks):02d}-cn{per_rack + 3:02d}")         # decommissioned
    port["binding:host_id"] = ghost
    pl.stray_file(port)
    pl.add(port, "ref_binding_host_id", f"bound to {ghost!r}, a host missing from the inventory")


def gateway_outside_subnet(pl: Planter, i: int) -> None:
    """A new, port-less subnet whose gateway was copy-pasted. Neutron accepts an off-subnet
    gateway of the same family, so this is a warning, not a fault."""
    w, rng = pl.w, pl.rng
    p = pl.pick([q for q in pl.neutron_projects if q.space.has_room(26, 256)])
    net = rng.choice([n for n in p.networks if any(w.subnet_by_id[s]["ip_version"] == 4 for s in n["subnets"])])
    first = next(w.subnet_by_id[s] for s in net["subnets"] if w.subnet_by_id[s]["ip_version"] == 4)
    prefixlen = int(first["cidr"].split("/")[1])
    block = p.space.take(max(prefixlen, 26))
    bad_sn = add_subnet(w, p, net, block, w.subnet_name(p), dhcp=False, gateway=first["gateway_ip"],
                        pools=[(block.network_address + 2, block.broadcast_address - 1)])
    bad_sn["_fault"] = True
    pl.add(bad_sn, "gateway_outside_subnet", f"gateway {first['gateway_ip']} (from {first['cidr']}) "
           f"is outside {block} (warning only: Neutron accepts it)", warning=True)


def device_owner_unknown(pl: Planter, i: int) -> None:
    w = pl.w
    p = pl.pick(w.projects)
    port = _stray_vm(w, p)
    port["device_owner"] = ("appliance:fw", "appliance:ids")[i % 2]
    pl.stray_file(port)
    pl.add(port, "device_owner_unknown", f"vendor appliance port, device_owner "
           f"{port['device_owner']!r} (warning only)", warning=True)


# One round plants one fault of each kind, in this order (the draws depend on it).
PLANTERS = (superseded, ip_outside_subnet, ip_family_mismatch, subnet_overlap, ref_network_id, mac_format,
            port_range_invalid, ref_remote_group_id, ingest_type_error, ref_binding_host_id,
            gateway_outside_subnet, device_owner_unknown)


def plant_faults(w: World) -> None:
    """Plant faults_per_kind faults of each kind; record which row validation must catch."""
    planter = Planter(w)
    for i in range(int(w.cfg["faults_per_kind"])):
        for plant in PLANTERS:
            plant(planter, i)
    for f in w.faults:
        f["obj"]["_fault"] = True
