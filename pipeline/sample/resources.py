"""Neutron resources added to the world: networks, subnets, ports, routers, floating IPs."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import datetime, timezone

from pipeline.sample.addresses import Pool, Space, default_pools
from pipeline.sample.profiles import DNS_CHOICES, EXT_BLOCKS, GENERIC_PORTS
from pipeline.sample.world import Project, World


def add_network(w: World, p: Project | None, name: str, *, mtu=1450, port_sec=True, cidr=None,
                external=False, since=None) -> dict:
    """A network of p (None: the admin's external network); an Alcor VPC when it has a cidr."""
    alcor_any = w.realism and p is not None and p.alcor and cidr is None and not external
    if alcor_any:   # realism: Alcor VPCs are not a kubernetes artefact
        cidr = f"10.{w.rng.randint(0, 255)}.0.0/16"
    c, u = w.stamps(since or (p.created if p else w.t0), 30 if p is None else 200)
    nid = w.uuid()
    proj = p.id if p else w.admin
    net = {
        "id": nid, "name": name, "tenant_id": proj, "admin_state_up": True, "mtu": mtu,
        "status": "ACTIVE", "subnets": [], "shared": False, "availability_zone_hints": [],
        "availability_zones": [], "ipv4_address_scope": None, "ipv6_address_scope": None,
        "router:external": external, "description": "", "port_security_enabled": port_sec,
        "qos_policy_id": None, "l2_adjacency": True, "dns_domain": "", "tags": [],
        "created_at": c, "updated_at": u, "revision_number": w.rng.randint(1, 6),
        "provider:network_type": "flat" if external else "vxlan",
        "provider:physical_network": "physnet-ext" if external else None,
        "provider:segmentation_id": None if external else w.vni(),
        "project_id": proj,
        "_fmt": "alcor" if cidr else "neutron",
    }
    if external:
        net["is_default"] = True
    if cidr:
        # Alcor VPC: the block all its subnets must lie in.
        net.update({"cidr": cidr, "default": False, "segments": None,
                    "vlan_transparent": False, "routers": []})
    if alcor_any:
        net["_space"] = Space(cidr)
    w.networks.append(net)
    w.net_by_id[nid] = net
    if p:
        p.networks.append(net)
    return net


def add_subnet(w: World, p: Project | None, net: dict, cidr, name: str, *, dhcp=True, pools=None,
               gateway=None, insert_after: dict | None = None, dns=None) -> dict:
    """A subnet of net and its allocation pools; insert_after lists it right after that subnet."""
    rng = w.rng
    c, u = w.stamps(datetime.strptime(net["created_at"], "%Y-%m-%dT%H:%M:%SZ")
                    .replace(tzinfo=timezone.utc), 2)
    v6 = cidr.version == 6
    gw = gateway if gateway is not None else str(cidr.network_address + 1)
    pools = pools if pools is not None else default_pools(cidr, None if v6 else rng)
    proj = net["project_id"]
    sid = w.uuid()
    sn = {
        "id": sid, "name": name, "tenant_id": proj, "network_id": net["id"],
        "ip_version": cidr.version, "subnetpool_id": None, "enable_dhcp": dhcp,
        "ipv6_ra_mode": "dhcpv6-stateful" if v6 else None,
        "ipv6_address_mode": "dhcpv6-stateful" if v6 else None,
        "gateway_ip": gw, "cidr": str(cidr),
        "allocation_pools": [{"start": str(a), "end": str(b)} for a, b in pools],
        "host_routes": [],
        "dns_nameservers": [] if v6 else list(dns if dns is not None else rng.choice(DNS_CHOICES)),
        "description": "", "service_types": [], "tags": [], "created_at": c, "updated_at": u,
        "revision_number": rng.randint(0, 3), "segment_id": None, "project_id": proj,
        "_fmt": net["_fmt"],
    }
    if net["_fmt"] == "alcor":
        sn.update({"gateway_port_id": None, "gateway_port_detail": None,
                   "attached_router_id": None, "dns_publish_fixed_ip": False,
                   "use_default_subnetpool": False})
    if insert_after is not None:
        w.subnets.insert(w.subnets.index(insert_after) + 1, sn)
    else:
        w.subnets.append(sn)
    w.subnet_by_id[sid] = sn
    w.pools[sid] = Pool(cidr, pools)
    net["subnets"].append(sid)
    if v6:
        w.v6_of_net[net["id"]] = sn
    if p:
        p.subnets.append(sn)
    return sn


def add_tenant_subnet(w: World, p: Project, net: dict, prefixlen: int, hint: str = "") -> dict:
    """A subnet carved from the project's address space (or its VPC's block)."""
    space = p.space if net["_fmt"] == "neutron" else net["_space"]
    return add_subnet(w, p, net, space.take(prefixlen, w.rng), w.subnet_name(p, hint))


def add_subnet6(w: World, p: Project, net: dict) -> dict:
    """The network's IPv6 /64, from the project's /48."""
    return add_subnet(w, p, net, p.space6.take(64), w.subnet_name(p, "v6"))


def add_port(w: World, proj: str, net: dict, *, owner: str, device_id: str, host: str,
             fixed: list[tuple[dict, str]], sgs: list[str], since: datetime, name: str = "",
             aap=None, vnic: str = "normal", status: str = "ACTIVE", admin: bool = True,
             port_sec: bool | None = None, dns_name: str = "", mac: str | None = None) -> dict:
    """A port in Neutron's shape; realism mode gives it a name no kind owns."""
    if w.realism and name and not name.startswith("octavia-lb-"):
        name = w.rng.choice(GENERIC_PORTS)   # no kind word in port names
    mac = mac or w.mac()
    bound = bool(host)
    if vnic == "direct":
        vif, details = "hw_veb", {"port_filter": False, "vlan": "0", "connectivity": "l2"}
    elif bound:
        vif, details = "ovs", {"port_filter": True, "connectivity": "l2", "ovs_hybrid_plug": False,
                               "datapath_type": "system", "bridge_name": "br-int"}
    else:
        vif, details = "unbound", {}
    c, u = w.stamps(since, 120)
    p = {
        "id": w.uuid(), "name": name, "network_id": net["id"] if net else w.uuid(),
        "tenant_id": proj, "mac_address": mac, "admin_state_up": admin, "status": status,
        "device_id": device_id, "device_owner": owner,
        "fixed_ips": [{"subnet_id": s["id"], "ip_address": ip} for s, ip in fixed],
        "allowed_address_pairs": [{"ip_address": a, "mac_address": mac} for a in (aap or [])],
        "extra_dhcp_opts": [], "security_groups": list(sgs), "description": "",
        "binding:vnic_type": vnic, "binding:profile": {}, "binding:host_id": host,
        "binding:vif_type": vif, "binding:vif_details": details,
        "port_security_enabled": (net["port_security_enabled"] if net else True)
        if port_sec is None else port_sec,
        "dns_name": dns_name, "qos_policy_id": None, "qos_network_policy_id": None,
        "ip_allocation": "immediate", "resource_request": None, "tags": [],
        "created_at": c, "updated_at": u, "revision_number": w.rng.randint(1, 9),
        "project_id": proj, "_fmt": net["_fmt"] if net else "neutron",
    }
    w.ports.append(p)
    return p


def add_dhcp_ports(w: World, p: Project) -> None:
    """One DHCP port per Neutron network, at the start of each DHCP subnet's pool."""
    for net in p.networks:
        if net["_fmt"] != "neutron" or net.get("_dhcp"):
            continue
        net["_dhcp"] = True   # a mixed-use tenant's second workload must not add another
        subs = [w.subnet_by_id[s] for s in net["subnets"] if w.subnet_by_id[s]["enable_dhcp"]]
        if not subs:
            continue
        z = w.rng.choice(p.zones)
        host = w.rng.choice(w.netnodes[z])
        net["availability_zones"] = [f"az{z}"]
        dev = f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, host)}-{net['id']}"
        add_port(w, p.id, net, owner="network:dhcp", device_id=dev, host=host,
                 fixed=[(s, w.pools[s["id"]].first()) for s in subs], sgs=[],
                 since=p.created, port_sec=False)


def external_ip(w: World) -> tuple[dict, str]:
    """A free external address; the next public /24 opens when the last is full."""
    for sn in w.ext_subnets:
        if w.pools[sn["id"]].capacity() > 0:
            return sn, w.alloc(sn, 0.0)
    block = ipaddress.ip_network(EXT_BLOCKS[len(w.ext_subnets)])
    sn = add_subnet(w, None, w.ext_net, block, f"public-subnet{len(w.ext_subnets) + 1}",
                    dhcp=False, pools=[(block.network_address + 2, block.broadcast_address - 1)],
                    dns=())
    w.ext_subnets.append(sn)
    return sn, w.alloc(sn, 0.0)


def add_router(w: World, p: Project, gateway: bool) -> dict:
    """A router of p in its first zone, with an external gateway port when asked."""
    rng = w.rng
    c, u = w.stamps(p.created, 5)
    z = p.zones[0]
    rid = w.uuid()
    host = rng.choice(w.netnodes[z])
    r = {
        "id": rid, "name": (w.conv(p.label, "router") if p.named else
                            rng.choice(("router1", "router", "gw", "rtr-main", "ext-router"))),
        "tenant_id": p.id, "admin_state_up": True, "status": "ACTIVE",
        "external_gateway_info": None, "description": "", "availability_zones": [f"az{z}"],
        "availability_zone_hints": [], "routes": [], "flavor_id": None, "distributed": False,
        "ha": False, "tags": [], "created_at": c, "updated_at": u,
        "revision_number": rng.randint(3, 12), "project_id": p.id, "_host": host,
    }
    if gateway:
        sn, ip = external_ip(w)
        r["external_gateway_info"] = {"network_id": w.ext_net["id"], "enable_snat": True,
                                      "external_fixed_ips": [{"subnet_id": sn["id"], "ip_address": ip}]}
        # Neutron creates gateway ports without a project.
        add_port(w, "", w.ext_net, owner="network:router_gateway", device_id=rid, host=host,
                 fixed=[(sn, ip)], sgs=[], since=p.created, port_sec=False)
    w.routers.append(r)
    p.routers.append(r)
    return r


def attach_router(w: World, p: Project, r: dict, sn: dict) -> None:
    """Router interface: a port holding the subnet's gateway address."""
    if sn.get("_attached"):   # a mixed-use tenant's second workload reuses the subnet's router
        return
    sn["_attached"] = True
    net = w.net_by_id[sn["network_id"]]
    port = add_port(w, p.id, net, owner="network:router_interface", device_id=r["id"],
                    host=r["_host"], fixed=[(sn, sn["gateway_ip"])], sgs=[],
                    since=p.created, port_sec=False)
    if sn["_fmt"] == "alcor":
        sn["attached_router_id"] = r["id"]
        sn["gateway_port_id"] = port["id"]
        sn["gateway_port_detail"] = {"gateway_macAddress": port["mac_address"],
                                     "gateway_port_id": port["id"]}
        if r["id"] not in net["routers"]:
            net["routers"].append(r["id"])


def add_fip(w: World, p: Project, router: dict | None, port: dict | None) -> dict:
    """A floating IP on `port` through `router` (None: unassociated), and its external port."""
    sn, ip = external_ip(w)
    fid = w.uuid()
    c, u = w.stamps(p.created, 200)
    fixed = None
    if port is not None:
        fixed = next(f["ip_address"] for f in port["fixed_ips"] if ":" not in f["ip_address"])
    f = {
        "id": fid, "tenant_id": p.id, "floating_network_id": w.ext_net["id"],
        "router_id": router["id"] if port is not None else None, "fixed_ip_address": fixed,
        "floating_ip_address": ip, "port_id": port["id"] if port is not None else None,
        "status": "ACTIVE" if port is not None else "DOWN", "description": "",
        "dns_domain": "", "dns_name": "", "port_forwardings": [], "qos_policy_id": None,
        "port_details": None if port is None else {
            "name": port["name"], "network_id": port["network_id"],
            "mac_address": port["mac_address"], "admin_state_up": port["admin_state_up"],
            "status": port["status"], "device_id": port["device_id"],
            "device_owner": port["device_owner"]},
        "tags": [], "created_at": c, "updated_at": u, "revision_number": w.rng.randint(0, 4),
        "project_id": p.id,
    }
    w.fips.append(f)
    add_port(w, "", w.ext_net, owner="network:floatingip", device_id=fid, host="",
             fixed=[(sn, ip)], sgs=[], since=p.created, status="N/A", port_sec=False)
    return f


def add_vm_port(w: World, p: Project, net: dict, subs: list[dict], host: str, sgs: list[str], *,
                vm: str | None = None, name: str = "", dns: str = "", aap=None, vnic="normal") -> dict:
    """A VM NIC: bound to a compute host, owner compute:<zone>, one address per subnet."""
    if p.sriov and vnic == "normal":
        vnic = "direct"
    fixed = [(s, w.alloc(s)) for s in subs]
    v6 = w.v6_of_net.get(net["id"])
    if p.dual and v6 is not None and v6 not in subs:
        fixed.append((v6, w.alloc(v6)))
    ps = net["port_security_enabled"] and vnic != "direct"
    port = add_port(w, p.id, net, owner=f"compute:az{w.zone_of(host)}", device_id=vm or w.uuid(),
                    host=host, fixed=fixed, sgs=sgs if ps else [], since=p.created, name=name,
                    aap=aap, vnic=vnic, status="ACTIVE" if w.chance(0.95) else "DOWN",
                    port_sec=ps, dns_name=dns)
    p.vm_ports.append(port)
    return port
