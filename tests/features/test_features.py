"""Feature tables on a small hand-built canonical dataset (pipeline/features/)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import zlib

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from pipeline import features as F
from pipeline import io
from schemas.model import TABLE_NAMES, conform, empty_frame

N1 = "11111111-1111-4111-8111-111111111111"
NEXT = "22222222-2222-4222-8222-222222222222"
NB = "33333333-3333-4333-8333-333333333333"
VM1 = "aaaaaaaa-0000-4000-8000-000000000001"
VM2 = "aaaaaaaa-0000-4000-8000-000000000002"
R1 = "bbbbbbbb-0000-4000-8000-000000000001"
FIP1 = "cccccccc-0000-4000-8000-000000000001"
PARAMS = {"features": {"name_hash_buckets": 16}}


def _tables(rows: dict[str, list[dict]]) -> dict[str, pd.DataFrame]:
    out = {}
    for name in TABLE_NAMES:
        if rows.get(name):
            out[name] = conform(pd.DataFrame(rows[name]), name)
        else:
            out[name] = empty_frame(name)
    return out


def _port(pid, project, net, device, owner, host=None, name=None, mac="fa:16:3e:00:00:01", **kw):
    return {"id": pid, "project_id": project, "network_id": net, "device_id": device,
            "device_owner": owner, "binding_host_id": host, "name": name, "mac_address": mac,
            "status": "ACTIVE", "admin_state_up": True, "port_security_enabled": True,
            "binding_vnic_type": "normal", "binding_vif_type": "ovs", **kw}


def _rule(rid, direction, proto, lo=None, hi=None, prefix=None, group=None, ethertype="IPv4",
          project="pA", sg="sg1"):
    return {"id": rid, "security_group_id": sg, "project_id": project, "direction": direction,
            "ethertype": ethertype, "protocol": proto, "port_range_min": lo, "port_range_max": hi,
            "remote_ip_prefix": prefix, "remote_group_id": group}


def dataset() -> dict[str, pd.DataFrame]:
    return _tables({
        "hosts": [{"id": "h1", "node_name": "h1", "rack": "r1", "availability_zone": "z1"},
                  {"id": "h2", "node_name": "h2", "rack": "r2", "availability_zone": "z1"}],
        "networks": [
            {"id": N1, "project_id": "pA", "name": "web-net", "mtu": 1500, "network_type": "vxlan"},
            {"id": NEXT, "project_id": "pAdmin", "name": "public", "router_external": True,
             "shared": True, "network_type": "flat", "mtu": 1500},
            {"id": NB, "project_id": "pB", "name": "pb-hpc-net", "mtu": 9000,
             "network_type": "vlan", "cidr": "10.8.0.0/16"},
        ],
        "subnets": [
            {"id": "s1", "network_id": N1, "project_id": "pA", "name": "pa-web-01",
             "cidr": "10.0.0.0/24", "ip_version": 4, "gateway_ip": "10.0.0.1", "enable_dhcp": True},
            {"id": "s6", "network_id": N1, "project_id": "pA", "name": "pa-web-v6",
             "cidr": "fd00::/64", "ip_version": 6, "gateway_ip": "fd00::1", "enable_dhcp": True},
            {"id": "sx", "network_id": NEXT, "project_id": "pAdmin", "name": "public-sub",
             "cidr": "203.0.113.0/24", "ip_version": 4, "gateway_ip": "203.0.113.1",
             "enable_dhcp": False},
        ],
        "allocation_pools": [
            {"subnet_id": "s1", "pool_index": 0, "start": "10.0.0.2", "end": "10.0.0.254"},
            {"subnet_id": "s6", "pool_index": 0, "start": "fd00::2", "end": "fd00::ffff"},
            {"subnet_id": "sx", "pool_index": 0, "start": "203.0.113.10", "end": "203.0.113.250"},
        ],
        "ports": [
            _port("p-vm1a", "pA", N1, VM1, "compute:nova", "h1", "web-01-eth0",
                  mac="fa:16:3e:00:00:0a", dns_name="web-01"),
            _port("p-vm1b", "pA", N1, VM1, "compute:nova", "h1", "web-01-eth1",
                  mac="fa:16:3e:00:00:0b",
                  allowed_address_pairs='[{"ip_address": "10.0.0.100"}]'),
            _port("p-vm2", "pA", N1, VM2, "compute:nova", "h2", None, mac="02:00:00:00:00:01",
                  binding_vnic_type="direct", port_security_enabled=None),
            _port("p-dhcp", "pA", N1, f"dhcpdeadbeef-{N1}", "network:dhcp", "h1", "",
                  mac="fa:16:3e:00:00:0d"),
            _port("p-rif", "pA", N1, R1, "network:router_interface", None, "",
                  mac="fa:16:3e:00:00:0e", status="DOWN"),
            _port("p-lb", "pA", N1, "lb-0001", "Octavia", None, "octavia-lb-vip",
                  mac="fa:16:3e:00:00:0f"),
            _port("p-unb", "pA", N1, "", "", None, "spare", mac="fa:16:3e:00:00:10",
                  status="DOWN", binding_vif_type="unbound"),
            _port("p-rgw", "", NEXT, R1, "network:router_gateway", None, "",
                  mac="fa:16:3e:00:00:11"),
            _port("p-fip", "", NEXT, FIP1, "network:floatingip", None, "",
                  mac="fa:16:3e:00:00:12"),
        ],
        "port_ips": [
            {"port_id": "p-vm1a", "ip_index": 0, "subnet_id": "s1", "ip_address": "10.0.0.5"},
            {"port_id": "p-vm1b", "ip_index": 0, "subnet_id": "s1", "ip_address": "10.0.0.6"},
            {"port_id": "p-vm1b", "ip_index": 1, "subnet_id": "s6", "ip_address": "fd00::6"},
            {"port_id": "p-vm2", "ip_index": 0, "subnet_id": "s1", "ip_address": "10.0.0.7"},
            {"port_id": "p-dhcp", "ip_index": 0, "subnet_id": "s1", "ip_address": "10.0.0.2"},
            {"port_id": "p-rif", "ip_index": 0, "subnet_id": "s1", "ip_address": "10.0.0.1"},
            {"port_id": "p-lb", "ip_index": 0, "subnet_id": "s1", "ip_address": "10.0.0.254"},
            {"port_id": "p-rgw", "ip_index": 0, "subnet_id": "sx", "ip_address": "203.0.113.10"},
            {"port_id": "p-fip", "ip_index": 0, "subnet_id": "sx", "ip_address": "203.0.113.20"},
        ],
        "port_security_groups": [{"port_id": "p-vm1a", "security_group_id": "sg1"},
                                 {"port_id": "p-vm1a", "security_group_id": "sg2"},
                                 {"port_id": "p-vm1b", "security_group_id": "sg1"}],
        "security_groups": [{"id": "sg1", "project_id": "pA", "name": "web-sg"},
                            {"id": "sg2", "project_id": "pA", "name": "default"},
                            {"id": "sgB", "project_id": "pB", "name": "mpi"}],
        "security_group_rules": [
            _rule("ru1", "ingress", "tcp", 22, 22, "0.0.0.0/0"),
            _rule("ru2", "ingress", "tcp", 80, 80, "0.0.0.0/0"),
            _rule("ru3", "ingress", "tcp", 443, 443, "::/0", ethertype="IPv6"),
            _rule("ru4", "ingress", "tcp", 3306, 3306, group="sg1"),
            _rule("ru5", "ingress", "tcp", 30000, 32767, "10.0.0.0/8"),
            _rule("ru6", "ingress", "tcp", 40000, 50000, "10.0.0.0/8"),
            _rule("ru7", "ingress", "icmp"),
            _rule("ru8", "egress", None),
            _rule("ru9", "ingress", "udp", prefix="0.0.0.0/0"),
            # no project_id on the rule: it belongs to its group's project (pB)
            _rule("rB1", "ingress", "tcp", 2049, 2049, "10.8.0.0/16", project=None, sg="sgB"),
            _rule("rB2", "ingress", "tcp", 50070, 50070, "10.8.0.0/16", project=None, sg="sgB"),
        ],
        "routers": [{"id": R1, "project_id": "pA", "name": "r1", "gateway_network_id": NEXT,
                     "external_fixed_ips": json.dumps([{"subnet_id": "sx",
                                                        "ip_address": "203.0.113.10"}]),
                     "routes": "[]"}],
        "router_interfaces": [{"port_id": "p-rif", "router_id": R1, "network_id": N1,
                               "subnet_id": "s1", "ip_address": "10.0.0.1"}],
        "floating_ips": [{"id": FIP1, "project_id": "pA", "floating_network_id": NEXT,
                          "floating_ip_address": "203.0.113.20", "fixed_ip_address": "10.0.0.5",
                          "port_id": "p-vm1a", "router_id": R1}],
    })


@pytest.fixture(scope="module")
def tables():
    return dataset()


@pytest.fixture(scope="module")
def projects(tables):
    return F.project_features(tables, PARAMS).set_index("id")


@pytest.fixture(scope="module")
def ports(tables):
    return F.port_features(tables, PARAMS).set_index("id")


def _assert_clean(df: pd.DataFrame, keep: tuple[str, ...]):
    assert list(df.columns[: len(keep)]) == list(keep)
    feats = df.drop(columns=list(keep))
    assert all(str(t) in ("int64", "float64") for t in feats.dtypes), feats.dtypes.value_counts()
    assert not feats.isna().any().any()
    assert np.isfinite(feats.to_numpy(dtype="float64")).all()
    assert df["id"].is_monotonic_increasing and df["id"].is_unique


# ---- projects

def test_project_rows_and_shape(tables):
    df = F.project_features(tables, PARAMS)
    _assert_clean(df, ("id",))
    assert df["id"].tolist() == ["pA", "pAdmin", "pB"]  # '' (gateway/FIP ports) is not a project
    assert list(df.columns[1:]) == [c for c in F.FEATURE_DOCS["projects"] if c != "id"]


def test_project_structure_counts(projects):
    a = projects.loc["pA"]
    assert a["n_networks"] == 1 and a["n_subnets"] == 2 and a["n_subnets_v6"] == 1
    assert a["share_subnets_v6"] == 0.5
    assert a["n_ports"] == 7
    assert (a["n_ports_vm"], a["n_ports_dhcp"], a["n_ports_router_interface"], a["n_ports_lb_vip"],
            a["n_ports_unbound"], a["n_ports_router_gateway"]) == (3, 1, 1, 1, 1, 0)
    assert a["n_vms"] == 2 and a["ports_per_vm_max"] == 2 and a["ports_per_vm_mean"] == 1.5
    assert a["share_vms_multi_nic"] == 0.5
    assert a["n_ports_sriov"] == 1 and a["n_ports_aap"] == 1
    assert a["sg_per_port_mean"] == pytest.approx(3 / 7)
    # s1 holds 6 of pA's ports, s6 one
    assert a["ports_per_subnet_max"] == 6 and a["ports_per_subnet_mean"] == 3.5
    assert a["prefix_v4_min"] == a["prefix_v4_max"] == 24
    assert a["pool_fill_mean"] == pytest.approx(6 / 253)
    assert a["n_routers"] == 1 and a["n_routers_gateway"] == 1
    assert a["n_floating_ips"] == 1 and a["n_floating_ips_associated"] == 1
    assert a["fip_per_vm"] == 0.5
    assert projects.loc["pAdmin", "n_networks_external"] == 1
    assert projects.loc["pAdmin", "n_networks_shared"] == 1
    b = projects.loc["pB"]
    assert b["mtu_max"] == 9000 and b["n_networks_vlan"] == 1 and b["n_networks_alcor_cidr"] == 1
    assert b["n_ports"] == 0 and b["n_vms"] == 0 and b["ports_per_vm_mean"] == 0


def test_project_placement(projects):
    a = projects.loc["pA"]
    # bound ports: h1 x3 (vm1a, vm1b, dhcp), h2 x1
    assert a["n_hosts"] == 2 and a["n_racks"] == 2 and a["n_zones"] == 1
    assert a["ports_per_host_max"] == 3 and a["ports_per_host_mean"] == 2
    expected = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)) / math.log(2)
    assert a["host_entropy"] == pytest.approx(expected)
    assert projects.loc["pB", "host_entropy"] == 0.0


def test_security_group_profile(projects):
    a = projects.loc["pA"]
    assert a["n_security_groups"] == 2 and a["n_sg_rules"] == 9
    assert a["n_sg_ingress"] == 8 and a["n_sg_egress"] == 1
    assert a["sg_open_ssh"] == 1 and a["sg_open_http"] == 2 and a["sg_open_sql"] == 1
    assert a["sg_open_nodeport"] == 1 and a["sg_open_high_range"] == 1
    assert a["sg_open_k8s"] == 0 and a["sg_open_hadoop"] == 0
    assert a["sg_open_all_ports"] == 1  # the udp rule without a range
    assert a["n_sg_icmp"] == 1 and a["n_sg_udp"] == 1
    # world: ru1, ru2, ru3 (::/0), ru7 and ru9 (no prefix, no group / 0.0.0.0/0) of 8 ingress
    assert a["sg_ingress_world_share"] == pytest.approx(5 / 8)
    assert a["sg_remote_group_share"] == pytest.approx(1 / 8)
    b = projects.loc["pB"]
    assert b["n_sg_rules"] == 2 and b["sg_open_nfs"] == 1 and b["sg_open_hadoop"] == 1


def test_project_name_tokens_are_shares(projects):
    tok = projects[[c for c in projects.columns if c.startswith("name_tok_")]]
    assert tok.shape[1] == 16
    assert np.allclose(tok.sum(axis=1), 1.0)  # every project here has named things


# ---- ports

def test_port_rows_and_shape(tables):
    df = F.port_features(tables, PARAMS)
    _assert_clean(df, ("id", "project_id"))
    assert len(df) == 9
    assert list(df.columns[2:]) == [c for c in F.FEATURE_DOCS["ports"]
                                    if c not in ("id", "project_id")]
    # gateway / FIP ports have no project: grouped with their router's / floating IP's project
    d = df.set_index("id")
    assert d.loc["p-rgw", "project_id"] == "pA" and d.loc["p-fip", "project_id"] == "pA"
    assert d.loc["p-rgw", "project_empty"] == 1


def test_port_group_column_without_owner(tables):
    t = {k: v.copy() for k, v in tables.items()}
    t["routers"] = empty_frame("routers")
    d = F.port_features(t, PARAMS).set_index("id")
    assert d.loc["p-rgw", "project_id"] == "" and d.loc["p-fip", "project_id"] == "pA"


def test_ip_position(ports):
    rif, dhcp, lb, vm1a = (ports.loc[i] for i in ("p-rif", "p-dhcp", "p-lb", "p-vm1a"))
    assert rif["ip_is_gateway"] == 1 and rif["ip_in_pool"] == 0 and rif["ip_pool_rel_pos"] == -1
    assert rif["ip_offset_log"] == 1.0  # 10.0.0.1 - 10.0.0.0 = 1 -> log2(2)
    assert rif["ip_offset_end_log"] == math.log2(1 + 254)
    assert dhcp["ip_is_pool_first"] == 1 and dhcp["ip_in_pool"] == 1 and dhcp["ip_pool_rel_pos"] == 0
    assert lb["ip_is_pool_last"] == 1 and lb["ip_pool_rel_pos"] == 1.0
    assert vm1a["ip_pool_rel_pos"] == pytest.approx(3 / 252)
    assert vm1a["ip_is_gateway"] == 0 and vm1a["ip_is_pool_first"] == 0
    assert vm1a["subnet_prefix_len"] == 24 and vm1a["subnet_n_ports"] == 6
    assert vm1a["subnet_dhcp"] == 1 and ports.loc["p-fip", "subnet_dhcp"] == 0
    unb = ports.loc["p-unb"]
    assert unb["n_fixed_ips"] == 0 and unb["ip_offset_log"] == -1 and unb["subnet_prefix_len"] == -1


def test_ipv6_and_multi_ip(ports):
    b = ports.loc["p-vm1b"]
    assert b["n_fixed_ips"] == 2 and b["n_ipv6"] == 1 and b["subnet_is_v6"] == 0  # first IP is v4
    assert b["n_allowed_address_pairs"] == 1


def test_ipv6_position(tables):
    t = {k: v.copy() for k, v in tables.items()}
    # make the v6 address the port's first IP
    ips = t["port_ips"]
    sel = ips["port_id"] == "p-vm1b"
    ips.loc[sel, "ip_index"] = ips.loc[sel, "ip_index"].map({0: 1, 1: 0})
    b = F.port_features(t, PARAMS).set_index("id").loc["p-vm1b"]
    assert b["subnet_is_v6"] == 1 and b["subnet_prefix_len"] == 64
    assert b["ip_offset_log"] == math.log2(1 + 6)
    assert b["ip_offset_end_log"] == pytest.approx(64.0)
    assert b["ip_in_pool"] == 1 and 0 < b["ip_pool_rel_pos"] < 0.001


def test_device_features(ports):
    assert ports.loc["p-vm1a", "device_n_ports"] == 2 and ports.loc["p-vm2", "device_n_ports"] == 1
    assert ports.loc["p-vm1a", "device_id_is_uuid"] == 1
    assert ports.loc["p-rif", "device_is_router"] == 1 and ports.loc["p-rgw", "device_is_router"] == 1
    assert ports.loc["p-vm1a", "device_is_router"] == 0
    assert ports.loc["p-fip", "device_is_floating_ip"] == 1
    assert ports.loc["p-dhcp", "device_id_has_network_id"] == 1
    assert ports.loc["p-dhcp", "device_id_is_uuid"] == 0
    assert ports.loc["p-unb", "device_id_empty"] == 1 and ports.loc["p-unb", "device_n_ports"] == 0
    # the router's two ports are on two networks
    assert ports.loc["p-rif", "device_n_networks"] == 2


def test_address_ownership_and_network(ports):
    assert ports.loc["p-vm1a", "has_floating_ip"] == 1 and ports.loc["p-vm2", "has_floating_ip"] == 0
    assert ports.loc["p-fip", "ip_is_floating_address"] == 1
    assert ports.loc["p-vm1a", "ip_is_floating_address"] == 0
    assert ports.loc["p-rgw", "ip_is_router_external_ip"] == 1
    assert ports.loc["p-fip", "ip_is_router_external_ip"] == 0
    assert ports.loc["p-fip", "net_router_external"] == 1 and ports.loc["p-fip", "net_shared"] == 1
    assert ports.loc["p-fip", "project_empty"] == 1
    assert ports.loc["p-fip", "project_differs_from_network"] == 1
    assert ports.loc["p-vm1a", "project_differs_from_network"] == 0
    assert ports.loc["p-vm1a", "net_n_ports"] == 7


def test_port_state_and_onehots(ports):
    assert ports.loc["p-vm1a", "n_security_groups"] == 2
    assert ports.loc["p-vm2", "port_security"] == -1 and ports.loc["p-vm1a", "port_security"] == 1
    assert ports.loc["p-vm2", "vnic_direct"] == 1 and ports.loc["p-vm2", "vnic_normal"] == 0
    assert ports.loc["p-unb", "vif_unbound"] == 1 and ports.loc["p-unb", "status_down"] == 1
    onehots = [c for c in ports.columns if c.startswith("vnic_")]
    assert (ports[onehots].sum(axis=1) == 1).all()
    assert ports.loc["p-vm1a", "is_bound"] == 1 and ports.loc["p-rif", "is_bound"] == 0
    assert ports.loc["p-vm1a", "dns_name_set"] == 1
    assert ports.loc["p-vm1a", "mac_openstack_oui"] == 1 and ports.loc["p-vm2", "mac_openstack_oui"] == 0
    assert ports.loc["p-vm2", "mac_local_admin"] == 1  # 02:... has the local bit
    assert ports.loc["p-vm2", "name_empty"] == 1 and ports.loc["p-rif", "name_empty"] == 1


# ---- scrubbed device_owner, determinism, hashing

def test_port_features_ignore_device_owner(tables):
    base = F.port_features(tables, PARAMS)
    scrubbed = {k: v.copy() for k, v in tables.items()}
    scrubbed["ports"]["device_owner"] = pd.Series(pd.NA, index=scrubbed["ports"].index, dtype="string")
    scrubbed["router_interfaces"] = empty_frame("router_interfaces")
    pdt.assert_frame_equal(F.port_features(scrubbed, PARAMS), base)
    # and a lying owner changes nothing either
    lying = {k: v.copy() for k, v in scrubbed.items()}
    lying["ports"]["device_owner"] = "compute:nova"
    pdt.assert_frame_equal(F.port_features(lying, PARAMS), base)
    # while project features do see it (sanity check that the scrub did something)
    assert not F.project_features(scrubbed, PARAMS).equals(F.project_features(tables, PARAMS))


def test_deterministic_under_row_shuffle(tables):
    shuffled = {k: v.sample(frac=1.0, random_state=3) for k, v in tables.items()}
    pdt.assert_frame_equal(F.port_features(shuffled, PARAMS), F.port_features(tables, PARAMS))
    pdt.assert_frame_equal(F.project_features(shuffled, PARAMS), F.project_features(tables, PARAMS))


def test_name_tokens_and_stable_hash():
    assert F.name_tokens("Web-01_eth0") == ["web", "eth"]
    assert F.name_tokens("k8s-node-3") == ["k8s", "node"]
    assert F.name_tokens("port-1a2b3c4d5e6f") == ["port"]  # hex fragments dropped
    assert F.name_tokens(None) == []
    # crc32 is fixed: these values must never change between runs or machines
    assert F.token_bucket("web", 16) == zlib.crc32(b"web") % 16 == 1
    assert F.token_bucket("dhcp", 16) == zlib.crc32(b"dhcp") % 16


def test_hash_stable_across_processes():
    code = ("from pipeline.features import token_bucket;"
            "print([token_bucket(t, 16) for t in ('web','db','hpc','k8s','dhcp')])")
    # another process with another str-hash salt must bucket the same way as this one
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONHASHSEED": "12345", "PATH": ""}, check=True)
    here = [F.token_bucket(t, 16) for t in ("web", "db", "hpc", "k8s", "dhcp")]
    assert r.stdout.strip() == str(here)


def test_port_name_token_counts(ports):
    web = f"name_tok_{F.token_bucket('web', 16):02d}"
    eth = f"name_tok_{F.token_bucket('eth', 16):02d}"
    assert ports.loc["p-vm1a", web] >= 1 and ports.loc["p-vm1a", eth] >= 1
    tok = ports[[c for c in ports.columns if c.startswith("name_tok_")]]
    assert tok.loc["p-vm1a"].sum() == 2 and tok.loc["p-rif"].sum() == 0


def test_bucket_param_changes_width(tables):
    df = F.port_features(tables, {"features": {"name_hash_buckets": 4}})
    assert [c for c in df.columns if c.startswith("name_tok_")] == [f"name_tok_{i:02d}" for i in range(4)]


def test_no_raw_names_in_output(tables, tmp_path):
    io.write_tables(F.build_features(tables, PARAMS), tmp_path)
    raw = set()
    for t in ("networks", "subnets", "ports", "security_groups", "routers"):
        raw |= set(tables[t]["name"].dropna().astype(str)) - {""}
    for f in ("projects", "ports"):
        df = pd.read_parquet(tmp_path / f"{f}.parquet")
        text_cols = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
        assert set(text_cols) <= {"id", "project_id"}
        values = set(df[text_cols].astype(str).to_numpy().ravel())
        assert not (values & raw)
        assert not any(n in c for n in raw for c in df.columns)


def test_empty_tables():
    t = _tables({})
    p = F.project_features(t, PARAMS)
    q = F.port_features(t, PARAMS)
    assert len(p) == 0 and len(q) == 0
    assert list(q.columns[2:]) == [c for c in F.FEATURE_DOCS["ports"] if c not in ("id", "project_id")]


def test_cli_features(tmp_path, tables, monkeypatch):
    from typer.testing import CliRunner

    from pipeline.cli import app

    io.write_tables(tables, tmp_path / "validated")
    (tmp_path / "params.yaml").write_text("features:\n  name_hash_buckets: 8\n")
    r = CliRunner().invoke(app, ["features", "--input", str(tmp_path / "validated"),
                                 "--out", str(tmp_path / "features"),
                                 "--params", str(tmp_path / "params.yaml")])
    assert r.exit_code == 0, r.output
    ports = pd.read_parquet(tmp_path / "features" / "ports.parquet")
    assert len(ports) == 9 and "name_tok_07" in ports and "name_tok_08" not in ports
    assert len(pd.read_parquet(tmp_path / "features" / "projects.parquet")) == 3
    r = CliRunner().invoke(app, ["features", "--input", str(tmp_path / "nope"),
                                 "--out", str(tmp_path / "f2")])
    assert r.exit_code == 2 and "does not exist" in r.output


def test_vectorized_token_counts_match_name_tokens():
    names = ["Web-01_eth0", "k8s-node-3", "port-1a2b3c4d5e6f", "", None, "a--b..c9", "123-456",
             "DB_primary.replica2", "deadbeefcafe-x"]
    m = F._token_counts(pd.Series(names, dtype="string"), 8)
    for row, n in zip(m, names):
        expected = np.zeros(8, dtype="int64")
        for t in F.name_tokens(n):
            expected[F.token_bucket(t, 8)] += 1
        assert row.tolist() == expected.tolist(), n


def test_rule_profile_protocol_spellings():
    rules = conform(pd.DataFrame([
        _rule("a", "ingress", "any"),                 # spelled-out "any": all ports
        _rule("b", "ingress", "icmp", 8, 0),          # ICMP type/code are not ports
        _rule("c", "ingress", "6", 20, 25),           # tcp by number, covers 22
        _rule("d", "egress", "tcp", 22, 22),          # egress never "opens" a port
        _rule("e", "ingress", "tcp", 1024, 1100),     # 77 ports: not a high range
    ]), "security_group_rules")
    r = F._rule_profile(rules).set_index(rules["id"].to_numpy())
    assert r["sg_open_all_ports"].tolist() == [1, 0, 0, 0, 0]
    assert r["sg_open_ssh"].tolist() == [0, 0, 1, 0, 0]
    assert r["n_sg_icmp"].tolist() == [0, 1, 0, 0, 0]
    assert r["sg_open_high_range"].sum() == 0


# ------------------------------------------------------------------ declared sources

def _scrub(tables, what: str) -> dict[str, pd.DataFrame]:
    """The tables with one source blanked: names, ids (device_id) or device_owner."""
    out = {k: v.copy() for k, v in tables.items()}
    if what == "names":
        for t in ("networks", "subnets", "ports", "security_groups", "routers"):
            out[t]["name"] = pd.Series(["x"] * len(out[t]), dtype="string", index=out[t].index)
        out["ports"]["dns_name"] = pd.Series([""] * len(out["ports"]), dtype="string",
                                             index=out["ports"].index)
    elif what == "ids":
        out["ports"]["device_id"] = pd.Series(["d"] * len(out["ports"]), dtype="string",
                                              index=out["ports"].index)
    elif what == "device_owner":
        out["ports"]["device_owner"] = pd.Series(["?"] * len(out["ports"]), dtype="string",
                                                 index=out["ports"].index)
    return out


@pytest.mark.parametrize("source", ["names", "ids", "device_owner"])
def test_columns_that_change_with_a_source_declare_it(tables, source):
    """Blank a source: every column that changes must declare that it reads it."""
    for entity, build in (("projects", F.project_features), ("ports", F.port_features)):
        before, after = build(tables, PARAMS), build(_scrub(tables, source), PARAMS)
        changed = [c for c in before.columns if c not in ("id", "project_id")
                   and not before[c].equals(after[c])]
        undeclared = [c for c in changed if source not in F.feature_sources(entity, c)]
        assert not undeclared, f"{entity}: {undeclared} read {source} but do not declare it"
    assert F.feature_sources("ports", "name_tok_03") == {"names"}
