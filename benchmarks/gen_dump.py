"""Generate a large Neutron-style dump for benchmarks (not the sample, not the synthesizer).

Shape: ports in paginated list files (100k per page, like a real API dump), networks with one
or two subnets each, security groups with embedded rules, Alcor host registrations. Values are
plain and valid; the point is volume. Usage:

    python benchmarks/gen_dump.py --ports 1000000 --out benchmarks/.work/1m/raw
"""

from __future__ import annotations

import argparse
import random
import uuid
from pathlib import Path

import orjson

PAGE = 100_000


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def generate(n_ports: int, out: Path, seed: int = 1) -> dict:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    ports_per_net = 50
    n_nets = max(1, n_ports // ports_per_net)
    n_hosts = max(1, n_ports // 40)
    n_projects = max(1, n_nets // 10)
    projects = [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(n_projects)]
    hosts = [{"node_id": _uuid(rng), "node_name": f"cn{i:06d}", "local_ip": f"172.{16 + i // 65536 % 16}.{i // 256 % 256}.{i % 256}",
              "mac_address": "00:1b:21:%02x:%02x:%02x" % (i >> 16 & 255, i >> 8 & 255, i & 255),
              "veth": "vehost", "server_port": 50001, "host_dvr_mac": "fe:16:11:00:00:01",
              "ncm_id": "ncm-1", "ncm_uri": "ncm.default"} for i in range(n_hosts)]
    (out / "hosts.json").write_bytes(orjson.dumps({"host_infos": hosts}))

    nets, subnets, groups, ports = [], [], [], []
    page = 0

    def flush():
        nonlocal ports, page
        if ports:
            (out / f"ports_{page:04d}.json").write_bytes(orjson.dumps(
                {"ports": ports, "ports_links": [{"rel": "next", "href": f"/v2.0/ports?page={page + 1}"}]}))
            page += 1
            ports = []

    mac_n = 0
    for n in range(n_nets):
        proj = projects[n % n_projects]
        net_id = _uuid(rng)
        # /16 per network from 10.0.0.0/8 wraps every 256 networks: fine, only subnets of one
        # network must not overlap.
        b = n % 256
        nets.append({"id": net_id, "project_id": proj, "tenant_id": proj, "name": f"net-{n}",
                     "admin_state_up": True, "status": "ACTIVE", "shared": False, "mtu": 1450,
                     "router:external": False, "port_security_enabled": True,
                     "provider:network_type": "vxlan", "provider:segmentation_id": 1000 + n % 16_000_000,
                     "subnets": [], "created_at": "2026-01-01T00:00:00Z"})
        sg_id = _uuid(rng)
        groups.append({"id": sg_id, "project_id": proj, "tenant_id": proj, "name": f"sg-{n}",
                       "stateful": True, "security_group_rules": [
                           {"id": _uuid(rng), "security_group_id": sg_id, "direction": d, "ethertype": "IPv4",
                            "protocol": p, "port_range_min": lo, "port_range_max": hi,
                            "remote_ip_prefix": pre, "remote_group_id": None, "project_id": proj}
                           for d, p, lo, hi, pre in (("egress", None, None, None, None),
                                                     ("ingress", "tcp", 22, 22, "0.0.0.0/0"),
                                                     ("ingress", "tcp", 443, 443, "0.0.0.0/0"),
                                                     ("ingress", "icmp", None, None, "10.0.0.0/8"))]})
        n_sub = 1 + (n % 2)
        sub_ids = []
        for s in range(n_sub):
            sid = _uuid(rng)
            sub_ids.append(sid)
            nets[-1]["subnets"].append(sid)
            subnets.append({"id": sid, "network_id": net_id, "project_id": proj, "tenant_id": proj,
                            "name": f"sn-{n}-{s}", "cidr": f"10.{b}.{s}.0/24", "ip_version": 4,
                            "gateway_ip": f"10.{b}.{s}.1", "enable_dhcp": True,
                            "allocation_pools": [{"start": f"10.{b}.{s}.2", "end": f"10.{b}.{s}.254"}],
                            "host_routes": [], "dns_nameservers": []})
        for k in range(ports_per_net):
            s = k % n_sub
            host = hosts[rng.randrange(n_hosts)]["node_name"]
            mac_n += 1
            ports.append({"id": _uuid(rng), "network_id": net_id, "project_id": proj, "tenant_id": proj,
                          "name": "", "mac_address": "fa:16:3e:%02x:%02x:%02x" % (mac_n >> 16 & 255, mac_n >> 8 & 255, mac_n & 255),
                          "fixed_ips": [{"subnet_id": sub_ids[s], "ip_address": f"10.{b}.{s}.{2 + k // n_sub}"}],
                          "device_id": _uuid(rng), "device_owner": "compute:nova",
                          "security_groups": [sg_id], "port_security_enabled": True,
                          "admin_state_up": True, "status": "ACTIVE", "binding:host_id": host,
                          "binding:vif_type": "ovs", "binding:vnic_type": "normal",
                          "allowed_address_pairs": [], "created_at": "2026-01-01T00:00:00Z"})
            if len(ports) >= PAGE:
                flush()
    flush()
    (out / "networks.json").write_bytes(orjson.dumps({"networks": nets}))
    (out / "subnets.json").write_bytes(orjson.dumps({"subnets": subnets}))
    (out / "security_groups.json").write_bytes(orjson.dumps({"security_groups": groups}))
    return {"ports": n_ports, "networks": n_nets, "subnets": len(subnets), "hosts": n_hosts,
            "security_groups": len(groups), "rules": 4 * len(groups),
            "bytes": sum(p.stat().st_size for p in out.iterdir())}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ports", type=int, default=100_000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    print(generate(a.ports, a.out, a.seed))
