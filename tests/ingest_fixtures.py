"""Shared by the ingest tests (tests/ingest/ and test_engine.py): canonical objects of every
resource, writing a dump folder, and running ingest on in-memory files."""

from __future__ import annotations

import json
from pathlib import Path

from schemas import model
from pipeline.errors import InputError
from pipeline.ingest import ingest_payloads

SERIAL = {"workers": 1}


def write(root: Path, files: dict) -> Path:
    """Write {relative path: bytes | str | JSON-able} under root."""
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        elif isinstance(content, str):
            p.write_text(content)
        else:
            p.write_text(json.dumps(content))
    return root


PORT = {
    "id": "p1", "network_id": "n1", "project_id": "proj", "tenant_id": "proj", "name": "vm1",
    "mac_address": "FA:16:3E:AA:BB:01", "admin_state_up": True, "status": "ACTIVE",
    "device_id": "vm-1", "device_owner": "compute:nova",
    "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.5"},
                  {"subnet_id": "s2", "ip_address": "fd00::5"}],
    "security_groups": ["g1", "g2"], "binding:host_id": "host-1", "binding:vif_type": "ovs",
    "binding:vnic_type": "normal", "port_security_enabled": True,
    "allowed_address_pairs": [{"mac_address": "fa:16:3e:00:00:09", "ip_address": "10.0.0.9"}],
    "binding:vif_details": {"port_filter": True, "bridge_name": "br-int"}, "revision_number": 4,
    "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z",
}
NETWORK = {"id": "n1", "project_id": "proj", "name": "net1", "admin_state_up": True, "status": "ACTIVE",
           "shared": False, "mtu": 1450, "router:external": False, "port_security_enabled": True,
           "provider:network_type": "vxlan", "provider:physical_network": None,
           "provider:segmentation_id": 1001, "subnets": ["s1"], "availability_zones": ["nova"]}
SUBNET = {"id": "s1", "network_id": "n1", "project_id": "proj", "name": "sub-web-1", "cidr": "10.0.0.0/24",
          "ip_version": 4, "gateway_ip": "10.0.0.1", "enable_dhcp": True,
          "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.100"},
                               {"start": "10.0.0.150", "end": "10.0.0.254"}],
          "host_routes": [{"nexthop": "10.0.0.254", "destination": "0.0.0.0/0"}],
          "dns_nameservers": ["8.8.8.8"]}
RULE = {"id": "r1", "security_group_id": "g1", "direction": "ingress", "ethertype": "IPv4",
        "protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
        "remote_ip_prefix": "0.0.0.0/0", "remote_group_id": None}
GROUP = {"id": "g1", "project_id": "proj", "name": "default", "stateful": True,
         "security_group_rules": [RULE]}
ROUTER = {"id": "rt1", "project_id": "proj", "name": "router1", "admin_state_up": True,
          "distributed": False, "ha": False, "routes": [],
          "external_gateway_info": {"network_id": "ext", "enable_snat": True,
                                    "external_fixed_ips": [{"subnet_id": "es", "ip_address": "203.0.113.5"}]}}
FIP = {"id": "f1", "project_id": "proj", "floating_network_id": "ext", "floating_ip_address": "203.0.113.9",
       "fixed_ip_address": "10.0.0.5", "port_id": "p1", "router_id": "rt1", "status": "ACTIVE"}
HOST = {"node_id": "node-1", "node_name": "host-1", "local_ip": "192.168.1.1",
        "mac_address": "AA:BB:CC:00:00:01", "veth": "veth0", "server_port": 50001,
        "host_dvr_mac": "FA:16:3F:00:00:01", "ncm_id": "ncm-1"}


def assert_conformed(tables: dict) -> None:
    assert set(tables) == set(model.TABLES)
    for name, df in tables.items():
        assert list(df.columns) == model.TABLES[name].column_names
        assert {c: str(t) for c, t in df.dtypes.items()} == model.TABLES[name].dtypes(), name


def run(payloads: dict):
    """ingest_payloads, which may only fail with InputError (anything else fails the test)."""
    try:
        tables, report = ingest_payloads(payloads, {})
    except InputError as e:
        msg = str(e)
        assert "\n" not in msg and msg.startswith("<memory>/"), msg
        return None, None
    assert_conformed(tables)
    json.dumps(report)  # JSON-able
    return tables, report


def row(df, **match) -> dict:
    """The one row of `df` matching every column=value, with NA as None."""
    import pandas as pd

    sel = df
    for k, v in match.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, f"expected one row matching {match}, got {len(sel)}"
    return {k: (None if pd.isna(v) else v) for k, v in sel.iloc[0].to_dict().items()}


def extra(r: dict) -> dict:
    """A row's `extra` JSON as a dict."""
    return json.loads(r["extra"]) if r["extra"] is not None else {}
