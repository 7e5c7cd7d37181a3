"""Validation stage (pipeline/validate + schemas/): every reason code, failing and passing.

A small clean data center is built with model.conform; each case changes one thing and checks
which row lands in quarantine with which code (and that nothing else does, cascades aside).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import StageFailed
from schemas.model import TABLES, conform
from pipeline.validate import enforce_limits, validate_tables

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "raw" / "sample"


def rows(*dicts) -> list[dict]:
    return [dict(d) for d in dicts]


def baseline() -> dict[str, list[dict]]:
    """A small, fully valid data center (raw dicts; `build` adds provenance and conforms)."""
    return {
        "hosts": rows({"id": "node-1", "node_name": "host-1", "local_ip": "192.168.0.1",
                       "mac_address": "02:00:00:00:00:01"}),
        "networks": rows(
            {"id": "n1", "network_type": "vxlan", "segmentation_id": 100, "mtu": 1450,
             "cidr": "10.0.0.0/16"},
            {"id": "n2", "network_type": "vlan", "segmentation_id": 10, "mtu": 1500},
        ),
        "subnets": rows(
            {"id": "s1", "network_id": "n1", "cidr": "10.0.1.0/24", "ip_version": 4,
             "gateway_ip": "10.0.1.1"},
            {"id": "s2", "network_id": "n1", "cidr": "10.0.2.0/24", "ip_version": 4,
             "gateway_ip": "10.0.2.1"},
            {"id": "s6", "network_id": "n2", "cidr": "2001:db8::/64", "ip_version": 6,
             "gateway_ip": "2001:db8::1"},
        ),
        "allocation_pools": rows(
            {"subnet_id": "s1", "pool_index": 0, "start": "10.0.1.2", "end": "10.0.1.254"},
            {"subnet_id": "s6", "pool_index": 0, "start": "2001:db8::2", "end": "2001:db8::ffff"},
        ),
        "ports": rows(
            {"id": "p1", "network_id": "n1", "mac_address": "fa:16:3e:00:00:01",
             "device_owner": "compute:nova", "binding_host_id": "host-1"},
            {"id": "p2", "network_id": "n1", "mac_address": "fa:16:3e:00:00:02",
             "device_owner": "network:router_interface", "device_id": "r1"},
            {"id": "p3", "network_id": "n2", "mac_address": "fa:16:3e:00:00:03",
             "device_owner": "network:dhcp", "binding_host_id": ""},
        ),
        "port_ips": rows(
            {"port_id": "p1", "ip_index": 0, "subnet_id": "s1", "ip_address": "10.0.1.10"},
            {"port_id": "p1", "ip_index": 1, "subnet_id": "s2", "ip_address": "10.0.2.10"},
            {"port_id": "p2", "ip_index": 0, "subnet_id": "s1", "ip_address": "10.0.1.1"},
            {"port_id": "p3", "ip_index": 0, "subnet_id": "s6", "ip_address": "2001:db8::10"},
        ),
        "port_security_groups": rows({"port_id": "p1", "security_group_id": "sg1"},
                                     {"port_id": "p3", "security_group_id": "sg2"}),
        "security_groups": rows({"id": "sg1"}, {"id": "sg2"}),
        "security_group_rules": rows(
            {"id": "ru1", "security_group_id": "sg1", "direction": "ingress", "ethertype": "IPv4",
             "protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
             "remote_ip_prefix": "0.0.0.0/0"},
            {"id": "ru2", "security_group_id": "sg1", "direction": "egress", "ethertype": "IPv6"},
            {"id": "ru3", "security_group_id": "sg1", "direction": "ingress", "ethertype": "IPv4",
             "protocol": "icmp", "port_range_min": 8, "port_range_max": 0,
             "remote_group_id": "sg2"},
        ),
        "routers": rows({"id": "r1", "gateway_network_id": "n2"}),
        "router_interfaces": rows({"port_id": "p2", "router_id": "r1", "network_id": "n1",
                                   "subnet_id": "s1", "ip_address": "10.0.1.1"}),
        "floating_ips": rows({"id": "f1", "floating_network_id": "n2", "port_id": "p1",
                              "router_id": "r1", "floating_ip_address": "203.0.113.5",
                              "fixed_ip_address": "10.0.1.10"}),
        "project_labels": rows({"project_id": "proj-a", "profile": "web"}),
    }


def build(raw: dict[str, list[dict]]) -> dict[str, pd.DataFrame]:
    out = {}
    for name in TABLES:
        recs = [{"source_file": f"{name}.json", "source_pos": i, **r}
                for i, r in enumerate(raw.get(name, []))]
        if recs:  # rows may bring their own provenance (see `namespaced`); keep file order
            recs.sort(key=lambda r: (r["source_file"], r["source_pos"]))
        df = pd.DataFrame(recs) if recs else pd.DataFrame(columns=["source_file"])
        out[name] = conform(df, name)
    return out


def run(raw, params=None):
    return validate_tables(build(raw), params or {})


def quarantined(result) -> dict[tuple[str, int], str]:
    """(table, source_pos) -> check string of every quarantined row."""
    out = {}
    for name, q in result.quarantine.items():
        for pos, chk in zip(q["source_pos"], q["check"]):
            out[(name, int(pos))] = chk
    return out


def edit(raw, table, pos, **changes):
    """Change row `pos` of `table`; pos == len(table) appends `changes` as a new row."""
    if pos == len(raw[table]):
        raw[table].append(dict(changes))
    else:
        raw[table][pos].update(changes)
    return raw


# --- the clean baseline ----------------------------------------------------------------------


def test_baseline_is_fully_valid_and_keeps_model_columns_dtypes_and_order():
    raw = baseline()
    res = run(raw)
    assert quarantined(res) == {}
    for name, t in TABLES.items():
        v = res.valid[name]
        assert list(v.columns) == t.column_names
        assert {c: str(d) for c, d in v.dtypes.items()} == {
            c.name: str(pd.Series([], dtype=c.dtype).dtype) for c in t.columns}
        assert list(v["source_pos"]) == list(range(len(raw.get(name, []))))
        q = res.quarantine[name]
        assert list(q.columns) == t.column_names + ["check", "reason"]
    assert res.report["totals"]["rows_quarantined"] == 0
    assert res.report["warnings"] == []


# --- one failing case and its passing counterpart per check -----------------------------------

# (case id, table, source_pos, changes, expected code or None = row stays valid)
ROW_CASES = [
    # MAC
    ("mac_upper", "ports", 0, {"mac_address": "FA:16:3E:00:00:01"}, "mac_format"),
    ("mac_dashes", "ports", 0, {"mac_address": "fa-16-3e-00-00-01"}, "mac_format"),
    ("mac_short", "ports", 0, {"mac_address": "fa:16:3e:00:00"}, "mac_format"),
    ("mac_ok", "ports", 0, {"mac_address": "0a:1b:2c:3d:4e:5f"}, None),
    ("mac_dup_net", "ports", 1, {"mac_address": "fa:16:3e:00:00:01"}, "mac_duplicate_in_network"),
    ("mac_dup_other_net_ok", "ports", 2, {"mac_address": "fa:16:3e:00:00:01"}, None),
    ("host_mac_bad", "hosts", 0, {"mac_address": "02:00:00:00:00:0g"}, "mac_format"),
    ("mac_zero", "ports", 0, {"mac_address": "00:00:00:00:00:00"}, "mac_unusable"),
    ("mac_broadcast", "ports", 0, {"mac_address": "ff:ff:ff:ff:ff:ff"}, "mac_unusable"),
    ("mac_multicast", "ports", 0, {"mac_address": "01:00:5e:00:00:fb"}, "mac_unusable"),
    ("mac_multicast_3", "ports", 0, {"mac_address": "33:33:00:00:00:01"}, "mac_unusable"),
    ("mac_local_unicast_ok", "ports", 0, {"mac_address": "02:00:5e:00:00:fb"}, None),
    ("host_mac_multicast", "hosts", 0, {"mac_address": "03:00:00:00:00:01"}, "mac_unusable"),
    # hosts
    ("host_name_dup", "hosts", 1, {"id": "node-2", "node_name": "host-1"}, "host_name_duplicate"),
    ("host_other_name_ok", "hosts", 1, {"id": "node-2", "node_name": "host-2"}, None),
    # subnets
    ("cidr_bad_len", "subnets", 1, {"cidr": "10.0.2.0/33"}, "cidr_invalid"),
    ("cidr_garbage", "subnets", 1, {"cidr": "ten.0.2.0/24"}, "cidr_invalid"),
    ("cidr_no_len", "subnets", 1, {"cidr": "10.0.2.0"}, "cidr_invalid"),
    ("cidr_host_bits", "subnets", 1, {"cidr": "10.0.2.5/24"}, "cidr_host_bits"),
    ("ip_version_mismatch", "subnets", 1, {"ip_version": 6}, "ip_version_mismatch"),
    ("ip_version_v6_mismatch", "subnets", 2, {"ip_version": 4}, "ip_version_mismatch"),
    # Neutron accepts an off-subnet gateway of the same family: a warning, not a quarantine
    ("gw_outside_ok", "subnets", 1, {"gateway_ip": "10.0.3.1"}, None),
    ("gw_other_family", "subnets", 1, {"gateway_ip": "2001:db8::1"}, "gateway_family_mismatch"),
    ("gw_invalid", "subnets", 1, {"gateway_ip": "10.0.2.256"}, "ip_invalid"),
    ("gw_none_ok", "subnets", 1, {"gateway_ip": None}, None),
    ("gw_last_ok", "subnets", 1, {"gateway_ip": "10.0.2.254"}, None),
    ("gw_network", "subnets", 1, {"gateway_ip": "10.0.2.0"}, "gateway_reserved"),
    ("gw_broadcast", "subnets", 1, {"gateway_ip": "10.0.2.255"}, "gateway_reserved"),
    ("gw_slash31_ok", "subnets", 3, {"id": "s9", "network_id": "n1", "cidr": "10.0.9.0/31",
                                     "ip_version": 4, "gateway_ip": "10.0.9.0"}, None),
    ("gw_slash32_ok", "subnets", 3, {"id": "s9", "network_id": "n1", "cidr": "10.0.9.7/32",
                                     "ip_version": 4, "gateway_ip": "10.0.9.7"}, None),
    ("gw_slash30_network", "subnets", 3, {"id": "s9", "network_id": "n1", "cidr": "10.0.9.4/30",
                                          "ip_version": 4, "gateway_ip": "10.0.9.4"},
     "gateway_reserved"),
    ("gw_v6_network_ok", "subnets", 2, {"gateway_ip": "2001:db8::"}, None),  # as Neutron
    ("gw_v6_top_ok", "subnets", 2, {"gateway_ip": "2001:db8::ffff:ffff:ffff:ffff"}, None),
    ("gw_v6_outside_ok", "subnets", 2, {"gateway_ip": "2001:db9::1"}, None),
    ("gw_v4_in_v6", "subnets", 2, {"gateway_ip": "10.0.0.1"}, "gateway_family_mismatch"),
    ("overlap_later", "subnets", 1, {"cidr": "10.0.1.128/25", "gateway_ip": "10.0.1.129"},
     "subnet_overlap"),
    ("overlap_containing", "subnets", 1, {"cidr": "10.0.0.0/22", "gateway_ip": "10.0.0.1"},
     "subnet_overlap"),
    ("same_cidr_other_net_ok", "subnets", 3, {"id": "s9", "network_id": "n2", "cidr": "10.0.1.0/24",
                                              "ip_version": 4, "gateway_ip": "10.0.1.1"}, None),
    ("outside_net_cidr", "subnets", 1, {"cidr": "10.1.2.0/24", "gateway_ip": "10.1.2.1"},
     "subnet_outside_network_cidr"),
    ("net_without_cidr_ok", "subnets", 3, {"id": "s9", "network_id": "n2", "cidr": "172.16.0.0/24",
                                           "ip_version": 4, "gateway_ip": "172.16.0.1"}, None),
    # pools
    ("pool_reversed", "allocation_pools", 0, {"start": "10.0.1.200", "end": "10.0.1.100"}, "pool_invalid"),
    ("pool_garbage", "allocation_pools", 0, {"start": "x"}, "pool_invalid"),
    ("pool_missing_end", "allocation_pools", 0, {"end": None}, "pool_invalid"),
    ("pool_mixed_family", "allocation_pools", 0, {"end": "2001:db8::9"}, "pool_invalid"),
    ("pool_single_ok", "allocation_pools", 0, {"start": "10.0.1.7", "end": "10.0.1.7"}, None),
    ("pool_outside", "allocation_pools", 0, {"end": "10.0.2.5"}, "pool_outside_cidr"),
    ("pool_v6_outside", "allocation_pools", 1, {"end": "2001:db8:1::5"}, "pool_outside_cidr"),
    ("pool_covers_gw", "allocation_pools", 0, {"start": "10.0.1.1"}, "pool_covers_gateway"),
    ("pool_v6_covers_gw", "allocation_pools", 1, {"start": "2001:db8::1"}, "pool_covers_gateway"),
    # fixed IPs
    ("ip_bad_octet", "port_ips", 0, {"ip_address": "10.0.1.300"}, "ip_invalid"),
    ("ip_leading_zero", "port_ips", 0, {"ip_address": "10.0.1.010"}, "ip_invalid"),
    ("ip_v6_garbage", "port_ips", 3, {"ip_address": "2001:db8::zz"}, "ip_invalid"),
    ("ip_v6_zone_id", "port_ips", 3, {"ip_address": "2001:db8::10%eth0"}, "ip_invalid"),
    ("ip_family", "port_ips", 0, {"ip_address": "2001:db8::5"}, "ip_family_mismatch"),
    ("ip_family_v6_subnet", "port_ips", 3, {"ip_address": "10.0.1.99"}, "ip_family_mismatch"),
    ("ip_outside", "port_ips", 0, {"ip_address": "10.9.0.5"}, "ip_outside_subnet"),
    ("ip_v6_outside", "port_ips", 3, {"ip_address": "2001:db8:1::10"}, "ip_outside_subnet"),
    ("ip_v6_other_spelling_ok", "port_ips", 3, {"ip_address": "2001:0db8:0:0::0011"}, None),
    ("ip_subnet_net_mismatch", "port_ips", 3,
     {"subnet_id": "s2", "ip_address": "10.0.2.77"}, "ip_subnet_network_mismatch"),
    ("ip_other_subnet_same_net_ok", "port_ips", 0,
     {"subnet_id": "s2", "ip_address": "10.0.2.11"}, None),
    # networks
    ("vlan_4095", "networks", 1, {"segmentation_id": 4095}, "segmentation_id_range"),
    ("vlan_0", "networks", 1, {"segmentation_id": 0}, "segmentation_id_range"),
    ("vlan_4094_ok", "networks", 1, {"segmentation_id": 4094}, None),
    ("vxlan_2_24", "networks", 0, {"segmentation_id": 2**24}, "segmentation_id_range"),
    ("vxlan_max_ok", "networks", 0, {"segmentation_id": 2**24 - 1}, None),
    ("geneve_2_24", "networks", 0, {"network_type": "geneve", "segmentation_id": 2**24},
     "segmentation_id_range"),
    ("gre_2_32", "networks", 0, {"network_type": "gre", "segmentation_id": 2**32},
     "segmentation_id_range"),
    ("gre_big_ok", "networks", 0, {"network_type": "gre", "segmentation_id": 2**32 - 1}, None),
    ("mtu_67", "networks", 0, {"mtu": 67}, "mtu_range"),
    ("mtu_65536", "networks", 0, {"mtu": 65536}, "mtu_range"),
    ("mtu_negative", "networks", 0, {"mtu": -1}, "mtu_range"),
    ("mtu_bounds_ok", "networks", 0, {"mtu": 68}, None),
    ("mtu_jumbo_ok", "networks", 1, {"mtu": 9216}, None),
    ("mtu_9217_ok", "networks", 1, {"mtu": 9217}, None),  # Neutron sets no upper bound
    ("mtu_0_unknown_ok", "networks", 0, {"mtu": 0}, None),  # Neutron's "not set"
    ("mtu_absent_ok", "networks", 0, {"mtu": None}, None),
    ("flat_with_segment", "networks", 1, {"network_type": "flat", "segmentation_id": 10},
     "segmentation_id_range"),
    ("local_with_segment", "networks", 1, {"network_type": "local", "segmentation_id": 3},
     "segmentation_id_range"),
    ("flat_ok", "networks", 1, {"network_type": "flat", "segmentation_id": None}, None),
    ("net_cidr_host_bits", "networks", 0, {"cidr": "10.0.0.1/16"}, "cidr_host_bits"),
    # rules
    ("direction", "security_group_rules", 0, {"direction": "inbound"}, "direction_invalid"),
    ("ethertype", "security_group_rules", 0, {"ethertype": "ipv4"}, "ethertype_invalid"),
    ("ethertype_prefix", "security_group_rules", 0, {"remote_ip_prefix": "::/0"},
     "ethertype_prefix_mismatch"),
    ("ethertype_prefix_v6_ok", "security_group_rules", 1, {"remote_ip_prefix": "2001:db8::/32"}, None),
    ("prefix_bare_address_ok", "security_group_rules", 0, {"remote_ip_prefix": "198.51.100.7"}, None),
    ("prefix_garbage", "security_group_rules", 0, {"remote_ip_prefix": "anywhere"}, "cidr_invalid"),
    ("range_reversed", "security_group_rules", 0, {"port_range_min": 80, "port_range_max": 22},
     "port_range_invalid"),
    ("range_zero", "security_group_rules", 0, {"port_range_min": 0}, "port_range_invalid"),
    ("range_too_big_numeric_proto", "security_group_rules", 0,
     {"protocol": "6", "port_range_max": 70000}, "port_range_invalid"),
    ("range_udp_full_ok", "security_group_rules", 0,
     {"protocol": "udp", "port_range_min": 1, "port_range_max": 65535}, None),
    ("range_sctp_number_ok", "security_group_rules", 0, {"protocol": "132"}, None),
    ("icmp_type_256", "security_group_rules", 2, {"port_range_min": 256}, "port_range_invalid"),
    ("icmp_code_without_type", "security_group_rules", 2, {"port_range_min": None},
     "port_range_invalid"),
    ("icmp_type_only_ok", "security_group_rules", 2, {"port_range_max": None}, None),
    ("icmpv6_ok", "security_group_rules", 2, {"protocol": "icmpv6", "ethertype": "IPv6",
                                             "port_range_min": 128, "port_range_max": 0}, None),
    ("range_any_protocol", "security_group_rules", 0, {"protocol": None}, "port_range_protocol"),
    ("proto_300", "security_group_rules", 1, {"protocol": "300"}, "protocol_invalid"),
    ("proto_foo", "security_group_rules", 1, {"protocol": "foo"}, "protocol_invalid"),
    ("proto_negative", "security_group_rules", 1, {"protocol": "-1"}, "protocol_invalid"),
    ("proto_255_ok", "security_group_rules", 1, {"protocol": "255"}, None),
    ("proto_0_ok", "security_group_rules", 1, {"protocol": "0"}, None),
    ("proto_name_upper_ok", "security_group_rules", 1, {"protocol": "VRRP"}, None),
    ("proto_any_ok", "security_group_rules", 1, {"protocol": "any"}, None),
    ("range_gre", "security_group_rules", 0, {"protocol": "gre"}, "port_range_protocol"),
    ("gre_without_range_ok", "security_group_rules", 0,
     {"protocol": "gre", "port_range_min": None, "port_range_max": None}, None),
    ("remote_group_missing", "security_group_rules", 2, {"remote_group_id": "sg-nope"},
     "ref_remote_group_id"),
    # references
    ("ref_network", "ports", 0, {"network_id": "n-nope"}, "ref_network_id"),
    ("ref_host", "ports", 0, {"binding_host_id": "host-nope"}, "ref_binding_host_id"),
    ("ref_host_null_ok", "ports", 0, {"binding_host_id": None}, None),
    ("ref_subnet", "port_ips", 0, {"subnet_id": "s-nope"}, "ref_subnet_id"),
    ("ref_port_psg", "port_security_groups", 0, {"port_id": "p-nope"}, "ref_port_id"),
    ("ref_sg", "port_security_groups", 0, {"security_group_id": "sg-nope"}, "ref_security_group_id"),
    ("ref_rule_group", "security_group_rules", 0, {"security_group_id": "sg-nope"},
     "ref_security_group_id"),
    ("ref_router", "router_interfaces", 0, {"router_id": "r-nope"}, "ref_router_id"),
    ("ref_fip_port", "floating_ips", 0, {"port_id": "p-nope"}, "ref_port_id"),
    ("fip_unassociated_ok", "floating_ips", 0, {"port_id": None, "fixed_ip_address": None}, None),
    ("ref_gateway_network", "routers", 0, {"gateway_network_id": "n-nope"}, "ref_gateway_network_id"),
    # ids and ingest
    ("id_missing", "security_group_rules", 1, {"id": None}, "id_missing"),
    ("label_missing", "project_labels", 0, {"profile": None}, "id_missing"),
    ("child_key_missing", "port_security_groups", 0, {"security_group_id": None}, "id_missing"),
    ("ingest_error", "networks", 1, {"mtu": None, "ingest_errors": "mtu: not an integer ('big')"},
     "ingest_type_error"),
    ("fip_ip_invalid", "floating_ips", 0, {"floating_ip_address": "203.0.113"}, "ip_invalid"),
    # fields every stored object has (filled first where another field determines them)
    ("subnet_cidr_null", "subnets", 1, {"cidr": None}, "required_missing"),
    ("subnet_ip_version_from_cidr_ok", "subnets", 2, {"ip_version": None}, None),
    ("port_mac_null", "ports", 0, {"mac_address": None}, "required_missing"),
    ("port_network_null_ok", "ports", 2, {"network_id": None}, None),  # `port list --long`
    ("fixed_ip_null", "port_ips", 0, {"ip_address": None}, "required_missing"),
    ("rule_direction_null", "security_group_rules", 0, {"direction": None}, "required_missing"),
    ("rule_ethertype_from_prefix_ok", "security_group_rules", 0, {"ethertype": None}, None),
    ("rule_ethertype_null", "security_group_rules", 1, {"ethertype": None}, "required_missing"),
    ("fip_address_null", "floating_ips", 0, {"floating_ip_address": None}, "required_missing"),
]


# Every id and reference value, so that cases can share one validation run without meeting.
ID_COLUMNS = {"id", "node_name", "network_id", "subnet_id", "port_id", "security_group_id",
              "remote_group_id", "router_id", "gateway_network_id", "floating_network_id",
              "binding_host_id", "device_id", "project_id"}


def namespaced(raw, ns: str):
    """The case's data with ids prefixed by `ns` and its own source file."""
    out = {}
    for name, recs in raw.items():
        out[name] = []
        for i, r in enumerate(recs):
            r = {k: (f"{ns}/{v}" if k in ID_COLUMNS and v not in (None, "") else v)
                 for k, v in r.items()}
            out[name].append({**r, "source_file": f"{ns}/{name}.json", "source_pos": i})
    return out


@pytest.fixture(scope="module")
def all_cases():
    """All ROW_CASES in one dataset (namespaced), validated once: the file stays fast."""
    combined: dict[str, list[dict]] = {name: [] for name in TABLES}
    for case_id, table, pos, changes, _ in ROW_CASES:
        raw = namespaced(edit(baseline(), table, pos, **changes), case_id)
        for name, recs in raw.items():
            combined[name] += recs
    return run(combined)


def case_quarantine(res, case_id) -> dict[tuple[str, int], str]:
    out = {}
    for name, q in res.quarantine.items():
        mine = q[q["source_file"].str.startswith(f"{case_id}/")]
        for pos, chk in zip(mine["source_pos"], mine["check"]):
            out[(name, int(pos))] = chk
    return out


def test_cases_in_one_run_match_a_separate_run(all_cases):
    # The shared run is only a speed-up: a case validated alone gives the same verdict.
    for case_id in ("overlap_later", "ip_outside", "ref_host", "gw_slash31_ok"):
        _, table, pos, changes, _ = next(c for c in ROW_CASES if c[0] == case_id)
        alone = quarantined(run(namespaced(edit(baseline(), table, pos, **changes), case_id)))
        assert alone == case_quarantine(all_cases, case_id)


@pytest.mark.parametrize("case", ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_check(case, all_cases):
    case_id, table, pos, changes, expected = case
    res = all_cases
    q = case_quarantine(res, case_id)
    if expected is None:
        assert q == {}
        return
    assert expected in q.get((table, pos), "").split(";"), q
    # Only the target row and parent_quarantined cascades of it fail.
    others = {k: v for k, v in q.items() if k != (table, pos)}
    assert all(set(v.split(";")) == {"parent_quarantined"} for v in others.values()), q
    for name, t in res.report["tables"].items():
        assert t["rows_in"] == t["rows_valid"] + t["rows_quarantined"], name


# --- reasons, duplicates, cascade --------------------------------------------------------------


def test_reason_names_value_subnet_and_cidr():
    res = run(edit(baseline(), "port_ips", 0, ip_address="10.9.0.5"))
    q = res.quarantine["port_ips"]
    assert list(q["check"]) == ["ip_outside_subnet"]
    assert q["reason"].iat[0] == "ip_address 10.9.0.5 outside subnet 10.0.1.0/24 (subnet s1)"
    # Quarantine keeps the original columns and provenance.
    assert q["port_id"].iat[0] == "p1" and q["source_file"].iat[0] == "port_ips.json"


def test_duplicate_id_quarantines_the_later_row_only():
    raw = baseline()
    raw["security_groups"].append({"id": "sg1"})  # position 2 repeats position 0
    res = run(raw)
    assert quarantined(res) == {("security_groups", 2): "duplicate_id"}
    assert list(res.valid["security_groups"]["source_pos"]) == [0, 1]
    assert "kept copy at security_groups.json#0" in res.quarantine["security_groups"]["reason"].iat[0]


def test_duplicate_composite_key_and_duplicate_ip_in_subnet():
    raw = baseline()
    raw["port_ips"].append({"port_id": "p1", "ip_index": 0, "subnet_id": "s1",
                            "ip_address": "10.0.1.11"})  # repeats key (p1, 0)
    raw["port_ips"].append({"port_id": "p2", "ip_index": 1, "subnet_id": "s1",
                            "ip_address": "10.0.1.10"})  # p1 holds it already
    raw["port_ips"].append({"port_id": "p3", "ip_index": 1, "subnet_id": "s6",
                            "ip_address": "2001:db8:0::10"})  # same address, other spelling
    res = run(raw)
    assert quarantined(res) == {("port_ips", 4): "duplicate_id",
                                ("port_ips", 5): "ip_duplicate_in_subnet",
                                ("port_ips", 6): "ip_duplicate_in_subnet"}
    reasons = list(res.quarantine["port_ips"]["reason"])
    assert "already used in subnet s1 by port p1" in reasons[1]


def test_mac_duplicate_keeps_the_first_port():
    res = run(edit(baseline(), "ports", 1, mac_address="fa:16:3e:00:00:01"))
    assert ("ports", 0) not in quarantined(res)
    assert res.quarantine["ports"]["reason"].iat[0].startswith(
        "mac_address fa:16:3e:00:00:01 already used in network n1 by id p1")


def test_subnet_overlap_keeps_the_first_and_greedy_keeps_disjoint_later_ones():
    raw = baseline()
    # s1 10.0.1.0/24 (kept), s2 -> 10.0.0.0/16 overlaps s1 (quarantined); s7 10.0.2.0/24 only
    # overlaps the quarantined s2, so it stays.
    edit(raw, "subnets", 1, cidr="10.0.0.0/16", gateway_ip="10.0.0.1")
    raw["subnets"].append({"id": "s7", "network_id": "n1", "cidr": "10.0.2.0/24",
                           "ip_version": 4, "gateway_ip": "10.0.2.1"})
    res = run(raw)
    q = quarantined(res)
    assert q[("subnets", 1)] == "subnet_overlap"
    assert ("subnets", 0) not in q and ("subnets", 3) not in q
    reason = res.quarantine["subnets"]["reason"].iat[0]
    assert "overlaps earlier subnet s1 (10.0.1.0/24)" in reason


def test_off_subnet_gateway_of_the_same_family_is_a_warning_not_a_quarantine():
    # neutron ipam utils: an off-subnet gateway cannot be checked, so Neutron accepts it
    res = run(edit(baseline(), "subnets", 0, gateway_ip="10.0.9.1"))
    assert ("subnets", 0) not in quarantined(res)
    warned = [w for w in res.report["warnings"] if w["check"] == "gateway_outside_subnet"]
    assert warned and warned[0]["count"] == 1 and warned[0]["examples"] == ["s1"]


def test_cascade_from_quarantined_subnet_to_pools_and_ips():
    res = run(edit(baseline(), "subnets", 0, gateway_ip="2001:db8::1"))
    q = quarantined(res)
    assert q[("subnets", 0)] == "gateway_family_mismatch"
    assert q[("allocation_pools", 0)] == "parent_quarantined"
    assert q[("port_ips", 0)] == "parent_quarantined"
    assert q[("port_ips", 2)] == "parent_quarantined"
    pool = res.quarantine["allocation_pools"]
    assert pool["reason"].iat[0] == "parent subnet s1 quarantined (gateway_family_mismatch)"
    # The subnet's other children and unrelated rows stay valid.
    assert ("port_ips", 1) not in q and ("ports", 0) not in q


def test_cascade_reaches_a_fixpoint_through_several_levels():
    res = run(edit(baseline(), "networks", 0, segmentation_id=2**24))
    q = quarantined(res)
    assert q[("networks", 0)] == "segmentation_id_range"
    for key in [("subnets", 0), ("subnets", 1), ("ports", 0), ("ports", 1),  # children
                ("allocation_pools", 0), ("port_ips", 0), ("port_ips", 1), ("port_ips", 2),
                ("port_security_groups", 0), ("router_interfaces", 0), ("floating_ips", 0)]:
        assert q[key] == "parent_quarantined", key
    # n2's side is untouched.
    assert ("subnets", 2) not in q and ("ports", 2) not in q and ("port_ips", 3) not in q
    reason = res.quarantine["port_ips"].set_index("source_pos")["reason"][0]
    assert "parent port p1 quarantined (parent_quarantined)" in reason


def test_children_of_a_quarantined_duplicate_row_follow_it():
    # A stale second copy of port p1 (other file, later) brings a security group the valid
    # copy does not have: by id it would attach to the valid p1, so it leaves with its row.
    raw = baseline()
    raw["ports"].append({"id": "p1", "network_id": "n1", "mac_address": "fa:16:3e:00:00:09",
                         "source_file": "z_feed.json", "source_pos": 0})
    raw["port_security_groups"].append({"port_id": "p1", "security_group_id": "sg2",
                                        "source_file": "z_feed.json", "source_pos": 0})
    res = run(raw)
    q = quarantined(res)
    assert q == {("ports", 0): "duplicate_id", ("port_security_groups", 0): "parent_quarantined"}
    assert res.quarantine["port_security_groups"]["source_file"].iat[0] == "z_feed.json"
    assert res.quarantine["port_security_groups"]["reason"].iat[0] == (
        "parent port p1 at z_feed.json#0 quarantined (duplicate_id)")
    # The valid copy keeps its own children.
    assert len(res.valid["port_security_groups"]) == 2


def test_dangling_reference_is_ref_not_parent_quarantined():
    raw = baseline()
    raw["port_ips"].append({"port_id": "p-gone", "ip_index": 0, "subnet_id": "s1",
                            "ip_address": "10.0.1.50"})
    res = run(raw)
    assert quarantined(res) == {("port_ips", 4): "ref_port_id"}
    assert res.quarantine["port_ips"]["reason"].iat[0] == "port_id p-gone not found in ports.id"


def test_semantic_checks_skip_rows_whose_parent_is_quarantined():
    # s1's cidr is broken: its addresses are not also reported as outside it.
    res = run(edit(baseline(), "subnets", 0, cidr="10.0.1.0/40"))
    q = quarantined(res)
    assert q[("subnets", 0)] == "cidr_invalid"
    assert q[("port_ips", 0)] == "parent_quarantined"


def test_several_checks_on_one_row_are_sorted_and_joined():
    res = run(edit(baseline(), "ports", 0, mac_address="bad", network_id="n-nope"))
    q = res.quarantine["ports"]
    assert q["check"].iat[0] == "mac_format;ref_network_id"
    assert q["reason"].iat[0] == ("mac_address 'bad' is not six ':'-separated lower-case hex "
                                  "pairs; network_id n-nope not found in networks.id")


def test_binding_host_unchecked_without_hosts_table():
    raw = baseline()
    raw["hosts"] = []
    edit(raw, "ports", 0, binding_host_id="host-anything")
    assert quarantined(run(raw)) == {}


def test_ingest_error_reason_is_the_ingest_message():
    res = run(edit(baseline(), "ports", 2, ingest_errors="admin_state_up: not a boolean ('maybe')"))
    q = res.quarantine["ports"]
    assert q["check"].iat[0] == "ingest_type_error"
    assert "admin_state_up: not a boolean ('maybe')" in q["reason"].iat[0]


# --- warnings, report, limits --------------------------------------------------------------------


def test_unknown_device_owner_is_a_warning_never_quarantined():
    raw = baseline()
    edit(raw, "ports", 0, device_owner="network:mystery")
    edit(raw, "ports", 1, device_owner="network:mystery")
    edit(raw, "ports", 2, device_owner="compute:zone-b")  # prefix match: known
    res = run(raw)
    assert quarantined(res) == {}
    assert res.report["warnings"] == [{"table": "ports", "check": "device_owner_unknown",
                                       "column": "device_owner", "count": 2,
                                       "examples": ["network:mystery"]}]
    assert res.report["tables"]["ports"]["warnings"] == 2


def test_report_accounting_is_exact_json_able_and_deterministic():
    raw = baseline()
    edit(raw, "subnets", 0, gateway_ip="2001:db8::1")
    edit(raw, "ports", 2, mac_address="nope")
    a, b = run(raw).report, run(raw).report
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    for name, t in a["tables"].items():
        assert t["rows_in"] == t["rows_valid"] + t["rows_quarantined"]
        assert set(t) == {"rows_in", "rows_valid", "rows_quarantined", "quarantine_fraction",
                          "warnings", "by_check"}
    assert set(a["tables"]) == set(TABLES)
    pi = a["tables"]["port_ips"]
    assert pi["rows_quarantined"] == 3 and pi["by_check"] == {"parent_quarantined": 3}
    assert a["tables"]["ports"]["quarantine_fraction"] == round(1 / 3, 6)
    tot = a["totals"]
    assert tot["rows_in"] == sum(t["rows_in"] for t in a["tables"].values())
    assert tot["rows_in"] == tot["rows_valid"] + tot["rows_quarantined"]
    assert tot["by_check"]["gateway_family_mismatch"] == 1


def test_missing_tables_come_back_empty_in_both_outputs():
    res = validate_tables({"networks": build(baseline())["networks"]}, {})
    assert set(res.valid) == set(TABLES) == set(res.quarantine)
    assert len(res.valid["networks"]) == 2 and len(res.valid["ports"]) == 0
    assert res.report["tables"]["ports"]["quarantine_fraction"] == 0.0


def test_enforce_limits():
    raw = baseline()
    edit(raw, "ports", 2, mac_address="nope")  # 1 of 3 ports
    rep = run(raw).report
    enforce_limits(rep, {"max_quarantine_fraction": 0.5})  # 33% <= 50%: fine
    with pytest.raises(StageFailed) as e:
        enforce_limits(rep, {"max_quarantine_fraction": 0.05})
    msg = str(e.value)
    assert "\n" not in msg
    assert "ports 33.3%" in msg and "5.0%" in msg and "data/quarantine/ports.parquet" in msg
    with pytest.raises(StageFailed, match="q/ports.parquet"):
        enforce_limits(rep, {"max_quarantine_fraction": 0.05}, quarantine_dir="q")
    enforce_limits(run(baseline()).report, {})  # nothing quarantined: default limit holds


# --- the embedded sample: planted faults land in quarantine, nothing else does -------------------


def test_sample_planted_faults_are_quarantined_with_their_check():
    from pipeline.ingest import ingest_dir

    manifest = SAMPLE.parent / f"{SAMPLE.name}_faults.json"
    assert manifest.exists(), "embedded sample manifest missing: run `make sample`"
    faults = json.loads(manifest.read_text())
    tables, _ = ingest_dir(SAMPLE, {"workers": 1})
    res = validate_tables(tables, {})
    got = {}
    for name, q in res.quarantine.items():
        for f, p, chk in zip(q["source_file"], q["source_pos"], q["check"]):
            got.setdefault((name, f, int(p)), set()).update(chk.split(";"))
    planted = {}
    for f in faults:
        if not f.get("warning"):
            planted.setdefault((f["table"], f["source_file"], f["source_pos"]), set()).add(f["check"])
    for key, checks in planted.items():
        assert checks <= got.get(key, set()), key
    # Any other quarantined row is a cascade from a planted fault (a child row of the same
    # resource object also repeats the child key of the valid copy: duplicate_id).
    for key, checks in got.items():
        if key not in planted:
            assert "parent_quarantined" in checks and checks <= {"parent_quarantined",
                                                                 "duplicate_id"}, (key, checks)
    warned = {w["check"]: w["count"] for w in res.report["warnings"]}
    planted_warnings: dict = {}
    for f in faults:
        if f.get("warning"):
            planted_warnings[f["check"]] = planted_warnings.get(f["check"], 0) + 1
    assert warned == planted_warnings
    for t in res.report["tables"].values():
        assert t["rows_in"] == t["rows_valid"] + t["rows_quarantined"]


# --- identities: ids compared as Neutron compares them (schemas/copies.py) -----------------------

UUID = "3f2c9a4e-7b1d-4c55-9e8a-0d6b2f1a9c10"


def test_ids_are_stripped_and_uuids_lower_cased_then_copies_are_seen():
    raw = baseline()
    edit(raw, "ports", 0, id=UUID)
    for r in raw["port_ips"][:2] + raw["port_security_groups"][:1]:
        r["port_id"] = UUID.upper()  # a reference spelt in upper case still resolves
    edit(raw, "floating_ips", 0, port_id=f" {UUID} ")
    # Conflicting copies: trailing blank, upper case (other MAC each, no version: first wins).
    raw["ports"].append({"id": f"{UUID} ", "network_id": "n1", "mac_address": "fa:16:3e:00:00:07"})
    raw["ports"].append({"id": UUID.upper(), "network_id": "n1",
                         "mac_address": "fa:16:3e:00:00:08"})
    res = run(raw)
    assert quarantined(res) == {("ports", 3): "duplicate_id", ("ports", 4): "duplicate_id"}
    assert list(res.valid["ports"]["id"])[0] == UUID
    assert set(res.valid["port_ips"]["port_id"]) >= {UUID}
    assert res.valid["floating_ips"]["port_id"].iat[0] == UUID
    assert res.report["normalised_ids"]["ports"] == {"id": 2}
    assert res.report["normalised_ids"]["port_ips"] == {"port_id": 2}


def test_other_ids_keep_their_case():
    raw = baseline()
    edit(raw, "hosts", 0, id="Node-1", node_name="Host-1")
    edit(raw, "ports", 0, binding_host_id="Host-1 ")  # blanks stripped, case kept
    res = run(raw)
    assert quarantined(res) == {}
    assert res.valid["hosts"]["node_name"].iat[0] == "Host-1"
    assert res.valid["ports"]["binding_host_id"].iat[0] == "Host-1"


@pytest.mark.parametrize("blank", ["", " ", "\t "])
def test_blank_ids_are_quarantined_as_missing(blank):
    raw = baseline()
    raw["security_groups"].append({"id": blank})
    raw["port_ips"].append({"port_id": blank, "ip_index": 0, "subnet_id": "s1",
                            "ip_address": "10.0.1.77"})
    res = run(raw)
    assert quarantined(res) == {("security_groups", 2): "id_missing", ("port_ips", 4): "id_missing"}
    assert res.quarantine["security_groups"]["reason"].iat[0].startswith("id is blank")
    assert "port_id is blank" in res.quarantine["port_ips"]["reason"].iat[0]


# --- conflicting copies: the newest is kept -----------------------------------------------------


def _port_copy(mac, source_file, source_pos, **kw):
    return {"id": "p1", "network_id": "n1", "mac_address": mac, "device_owner": "compute:nova",
            "binding_host_id": "host-1", "source_file": source_file, "source_pos": source_pos,
            **kw}


def test_newer_copy_in_a_later_file_is_kept_and_the_older_superseded():
    raw = baseline()
    # p1 and its nested rows come from one object (ports.json#0), as ingest writes them.
    here = {"source_file": "ports.json", "source_pos": 0}
    edit(raw, "ports", 0, updated_at="2026-01-01T10:00:00Z")
    for r in raw["port_ips"][:2] + raw["port_security_groups"][:1]:
        r.update(here)
    # The change feed holds a newer p1: same MAC, another address, another group.
    feed = {"source_file": "z_feed.ndjson", "source_pos": 3}
    raw["ports"].append(_port_copy("fa:16:3e:00:00:01", **feed, updated_at="2026-01-02T08:00:00Z"))
    raw["port_ips"].append({"port_id": "p1", "ip_index": 0, "subnet_id": "s1",
                            "ip_address": "10.0.1.20", **feed})
    raw["port_security_groups"].append({"port_id": "p1", "security_group_id": "sg2", **feed})
    raw["floating_ips"][0]["fixed_ip_address"] = "10.0.1.20"
    res = run(raw)
    q = {name: sorted(zip(df["source_file"], df["check"])) for name, df in res.quarantine.items()
         if len(df)}
    assert q == {"ports": [("ports.json", "superseded")],
                 "port_ips": [("ports.json", "parent_quarantined")] * 2,
                 "port_security_groups": [("ports.json", "parent_quarantined")]}
    reason = res.quarantine["ports"]["reason"].iat[0]
    assert reason.startswith("superseded: id=p1 has a newer copy at z_feed.ndjson#3")
    assert "2026-01-02T08:00:00Z vs 2026-01-01T10:00:00Z" in reason
    assert res.quarantine["port_ips"]["reason"].iat[0] == (
        "parent port p1 at ports.json#0 quarantined (superseded)")
    kept = res.valid["ports"].set_index("id").loc["p1"]
    assert kept["source_file"] == "z_feed.ndjson"
    ips = res.valid["port_ips"]
    assert list(ips[ips["port_id"] == "p1"]["ip_address"]) == ["10.0.1.20"]
    psg = res.valid["port_security_groups"]
    assert list(psg[psg["port_id"] == "p1"]["security_group_id"]) == ["sg2"]
    # Every row accounted for.
    for t in res.report["tables"].values():
        assert t["rows_in"] == t["rows_valid"] + t["rows_quarantined"]


def test_revision_number_breaks_an_updated_at_tie_and_position_breaks_a_full_tie():
    raw = baseline()
    stamp = "2026-01-01T10:00:00Z"
    raw["security_groups"] = [
        {"id": "sg1", "extra": json.dumps({"updated_at": stamp, "revision_number": 2})},
        {"id": "sg2"},
        {"id": "sg1", "extra": json.dumps({"updated_at": stamp, "revision_number": 5})},
        {"id": "sg1", "extra": json.dumps({"updated_at": stamp, "revision_number": 5})},
    ]
    res = run(raw)
    assert quarantined(res) == {("security_groups", 0): "superseded",
                                ("security_groups", 3): "duplicate_id"}
    assert list(res.valid["security_groups"]["source_pos"]) == [1, 2]


def test_a_copy_without_version_loses_to_one_with_a_version():
    raw = baseline()
    raw["ports"].append(_port_copy("fa:16:3e:00:00:01", "z_feed.ndjson", 0,
                                   updated_at="2026-01-02T08:00:00+00:00"))
    res = run(raw)
    assert quarantined(res) == {("ports", 0): "superseded"}
    assert "updated_at 2026-01-02T08:00:00+00:00 vs missing" in res.quarantine["ports"]["reason"].iat[0]


def test_fields_determined_by_another_are_filled_and_counted():
    raw = baseline()
    edit(raw, "subnets", 2, ip_version=None)  # 2001:db8::/64
    edit(raw, "security_group_rules", 0, ethertype=None)  # remote prefix 0.0.0.0/0
    res = run(raw)
    assert quarantined(res) == {}
    assert res.valid["subnets"]["ip_version"].iat[2] == 6
    assert res.valid["security_group_rules"]["ethertype"].iat[0] == "IPv4"
    assert res.report["filled_fields"] == {"security_group_rules": {"ethertype": 1},
                                           "subnets": {"ip_version": 1}}


def test_port_network_is_filled_from_its_fixed_ips_subnets():
    # `openstack port list --long` has no network column: p1's fixed IPs are in s1 and s2, both
    # of n1; p2's in s1 (n1); a port without fixed IPs keeps an unknown network.
    raw = baseline()
    for p in raw["ports"][:2]:
        p["network_id"] = None
    raw["ports"].append({"id": "p4", "mac_address": "fa:16:3e:00:00:04"})
    res = run(raw)
    assert quarantined(res) == {}
    nets = res.valid["ports"].set_index("id")["network_id"]
    assert nets["p1"] == "n1" and nets["p2"] == "n1" and pd.isna(nets["p4"])
    assert res.report["filled_fields"] == {"ports": {"network_id": 2}}
    # the one left unknown is a warning, not a quarantine
    assert res.report["warnings"] == [{"table": "ports", "check": "network_id_unknown",
                                       "column": "network_id", "count": 1, "examples": ["p4"]}]


def test_port_network_is_not_filled_when_its_subnets_disagree():
    raw = baseline()
    edit(raw, "ports", 0, network_id=None)
    edit(raw, "port_ips", 1, subnet_id="s6", ip_address="2001:db8::77")  # s6 is on n2
    res = run(raw)
    assert pd.isna(res.valid["ports"].set_index("id")["network_id"]["p1"])
    assert "ports" not in res.report["filled_fields"]


def test_required_missing_reason_names_the_fields():
    res = run(edit(baseline(), "security_group_rules", 1, direction=None, ethertype=None))
    assert res.quarantine["security_group_rules"]["reason"].iat[0] == (
        "direction, ethertype are missing (every stored object has them)")


def test_stage_reports_every_step_in_order(tmp_path):
    """The progress bar of `dcnet validate` sees read, each phase of the checks, and write."""
    from pipeline import io
    from pipeline.validate import stage

    io.write_tables(build(baseline()), tmp_path / "in")
    seen = []
    stage.run(tmp_path / "in", tmp_path / "valid", tmp_path / "quarantine", tmp_path / "r.json",
              on_step=lambda name, i, n: seen.append((name, i, n)))
    n = len(stage.RUN_STEPS)
    assert seen == [(name, i, n) for i, name in enumerate(stage.RUN_STEPS)]
    assert seen[0][0] == "read" and seen[-1][0] == "write" and "checks" in stage.RUN_STEPS
