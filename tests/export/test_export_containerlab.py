"""containerlab lab files: valid under containerlab's schema, endpoints name nodes, splits."""

from __future__ import annotations

import jsonschema
import pytest
import yaml

from export_fixtures import (INJECTION, check_containerlab, load_schema, sample_tables,  # noqa: F401
                             small_dc)
from pipeline.export import containerlab as export_containerlab
from pipeline.errors import InputError
from pipeline.export.topology import build_topology


def export(tables, out, derive=False, fabric=None, **params):
    out.mkdir(parents=True, exist_ok=True)
    topo = build_topology(tables, fabric, derive_fabric=derive)
    return topo, export_containerlab.write(topo, out, params)


def load(path):
    return yaml.load(path.read_text(), Loader=yaml.CSafeLoader)


def test_small_lab_is_valid_and_complete(tmp_path):
    tables = small_dc()
    topo, summary = export(tables, tmp_path / "containerlab")
    assert summary["parts"] == 1
    assert check_containerlab(tmp_path) == len(topo.links)
    doc = load(tmp_path / "containerlab" / "dcnet.clab.yml")
    nodes = doc["topology"]["nodes"]
    kinds = {}
    for n in nodes.values():
        kinds[n["kind"]] = kinds.get(n["kind"], 0) + 1
    assert kinds == {"linux": 12, "bridge": len(tables["fabric_switches"]) + len(tables["hosts"])}
    assert doc["topology"]["kinds"]["linux"]["image"] == "alpine:3.20"
    # VM endpoints carry the port's MAC; the addresses are set by the VM node's exec commands
    # (linux nodes ignore endpoint ipv4/ipv6, and containerlab < 0.71 refuses them)
    vm_links = [l for l in doc["topology"]["links"] if isinstance(l["endpoints"][0], dict)]
    assert len(vm_links) == 13
    ep = next(l["endpoints"][0] for l in vm_links if l["endpoints"][0].get("mac") == "fa:16:3e:00:00:01")
    assert ep["interface"] == "eth2" and "ipv4" not in ep and "ipv6" not in ep
    assert nodes[ep["node"]]["exec"] == ["ip addr add 10.10.1.60/24 dev eth1",
                                         "ip addr add 192.168.5.61/24 dev eth2",
                                         "ip -6 addr add fd00:5::11/64 dev eth2"]
    assert summary["changed"] == {
        "VM addresses set by node exec (ip addr add), not endpoint ipv4/ipv6 keys": 13 + 7}
    # its own management network, sized to the lab (21 nodes + network, broadcast, gateway)
    assert doc["mgmt"] == {"network": "dcnet-mgmt", "ipv4-subnet": "100.64.0.0/27"}
    # bridge-side interfaces are host interfaces: unique and at most 15 characters
    bridge_ifs = []
    for l in doc["topology"]["links"]:
        for e in l["endpoints"]:
            node, intf = (e.split(":") if isinstance(e, str) else (e["node"], e["interface"]))
            if nodes[node]["kind"] == "bridge":
                bridge_ifs.append(intf)
    assert len(bridge_ifs) == len(set(bridge_ifs)) and max(map(len, bridge_ifs)) <= 15
    # the bridges script creates exactly the bridge nodes, with STP
    script = (tmp_path / "containerlab" / "dcnet.bridges.sh").read_text()
    created = {l.split()[3] for l in script.splitlines() if l.startswith("ip link show")}
    assert created == {n for n, v in nodes.items() if v["kind"] == "bridge"}
    assert "stp_state 1" in script


def test_ovs_bridge_kind(tmp_path):
    export(small_dc(), tmp_path / "containerlab", containerlab_switch_kind="ovs-bridge")
    check_containerlab(tmp_path)
    doc = load(tmp_path / "containerlab" / "dcnet.clab.yml")
    assert {n["kind"] for n in doc["topology"]["nodes"].values()} == {"linux", "ovs-bridge"}
    assert "stp_enable=true" in (tmp_path / "containerlab" / "dcnet.bridges.sh").read_text()
    with pytest.raises(InputError, match="containerlab_switch_kind"):
        export(small_dc(), tmp_path / "x", containerlab_switch_kind="cisco")


def test_real_names_are_escaped_labels(tmp_path):
    tables = small_dc(host_names=[INJECTION, "naïve\u2028host", "cn02", "cn03", "cn04", "cn05"])
    for old, new in (("cn00", INJECTION), ("cn01", "naïve\u2028host")):
        tables["ports"].loc[tables["ports"]["binding_host_id"] == old, "binding_host_id"] = new
    export(tables, tmp_path / "containerlab")
    check_containerlab(tmp_path)
    doc = load(tmp_path / "containerlab" / "dcnet.clab.yml")
    names = {n["labels"].get("dcnet.name") for n in doc["topology"]["nodes"].values()}
    assert INJECTION in names and "naïve\u2028host" in names


def test_split_above_the_node_limit(tmp_path):
    tables = small_dc(n_hosts=12, vms_per_host=3, hosts_per_rack=3)
    topo, summary = export(tables, tmp_path / "containerlab", containerlab_max_nodes=20)
    assert summary["parts"] > 1 and not (tmp_path / "containerlab" / "dcnet.clab.yml").exists()
    assert check_containerlab(tmp_path) == len(topo.links)  # every link exactly once
    seen: dict = {}
    for f in sorted((tmp_path / "containerlab").glob("dcnet-part*.clab.yml")):
        doc = load(f)
        assert len(doc["topology"]["nodes"]) <= 20
        for n, v in doc["topology"]["nodes"].items():
            seen.setdefault(n, []).append(v["labels"]["dcnet.role"])
    assert len(seen) == len(topo.nodes)
    repeated = {n for n, roles in seen.items() if len(roles) > 1}
    assert repeated and all(seen[n][0] == "spine" for n in repeated)  # only the top layer repeats


def test_each_part_has_its_own_management_subnet(tmp_path):
    import ipaddress

    tables = small_dc(n_hosts=12, vms_per_host=3, hosts_per_rack=3)
    _, summary = export(tables, tmp_path / "containerlab", containerlab_max_nodes=20,
                        containerlab_mgmt_ipv4_base="10.10.0.0/16")
    docs = [load(f) for f in sorted((tmp_path / "containerlab").glob("dcnet-part*.clab.yml"))]
    nets = [ipaddress.ip_network(d["mgmt"]["ipv4-subnet"]) for d in docs]
    assert len({d["mgmt"]["network"] for d in docs}) == len(docs) > 1
    for doc, net in zip(docs, nets):
        assert net.num_addresses - 3 >= len(doc["topology"]["nodes"])
        assert not net.overlaps(ipaddress.ip_network("10.10.1.0/24"))  # the VMs' own subnet
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
    assert summary["mgmt_ipv4_subnets"] == [str(n) for n in nets]
    with pytest.raises(InputError, match="containerlab_mgmt_ipv4_base"):
        export(tables, tmp_path / "x", containerlab_max_nodes=20, containerlab_mgmt_ipv4_base="10.0.0.0/28")
    with pytest.raises(InputError, match="containerlab_mgmt_ipv4_base"):
        export(tables, tmp_path / "y", containerlab_mgmt_ipv4_base="fd00::/64")


def test_split_goes_below_racks_and_fails_clearly_when_impossible(tmp_path):
    # racks of 6 hosts x 3 VMs = 24 nodes: a limit of 15 forces splitting inside racks
    tables = small_dc(n_hosts=12, vms_per_host=3, hosts_per_rack=6)
    topo, summary = export(tables, tmp_path / "a" / "containerlab", containerlab_max_nodes=15)
    assert check_containerlab(tmp_path / "a") == len(topo.links)
    with pytest.raises(InputError, match="limit of 4 nodes"):
        export(tables, tmp_path / "b" / "containerlab", containerlab_max_nodes=4)


def test_fat_tree_split(tmp_path):
    tables = small_dc(n_hosts=16, vms_per_host=1, with_fabric=False)
    topo, summary = export(tables, tmp_path / "containerlab", derive=True,
                           fabric={"topology": "fat_tree"}, containerlab_max_nodes=25)
    assert topo.fabric_kind == "fat_tree" and summary["parts"] > 1
    assert check_containerlab(tmp_path) == len(topo.links)


def test_schema_rejects_what_we_must_not_write():
    # guard: the schema check in these tests is real (a bad node name is refused)
    bad = {"name": "x", "topology": {"nodes": {"-bad": {"kind": "linux"}}}}
    errors = list(jsonschema.Draft7Validator(load_schema()).iter_errors(bad))
    assert errors


def test_sample_with_derived_fabric(tmp_path, sample_tables):  # noqa: F811
    topo, summary = export(sample_tables, tmp_path / "containerlab", derive=True)
    assert summary["parts"] >= 2  # 5k nodes > 2500 per lab
    assert check_containerlab(tmp_path) == len(topo.links)


def test_network_range_matches_ipaddress():
    """The fast a.b.c.d/len path of the management-subnet planner equals ipaddress's reading."""
    import ipaddress

    from hypothesis import given, settings, strategies as st

    from pipeline.export.containerlab import _ipv4_network_range

    part = st.one_of(st.integers(0, 300).map(str), st.sampled_from(["00", "01", "007"]))
    prefix = st.one_of(st.integers(0, 40).map(str), st.sampled_from(["08", "255.255.0.0", "", "x"]))

    @settings(max_examples=2000, deadline=None)
    @given(st.lists(part, min_size=4, max_size=4), prefix)
    def check(octets, length):
        text = ".".join(octets) + "/" + length
        try:
            net = ipaddress.ip_interface(text).network
            expected = (int(net.network_address), int(net.broadcast_address))
        except ValueError:
            expected = None
        assert _ipv4_network_range(text) == expected

    check()
    assert _ipv4_network_range("2001:db8::1/64") is None


def test_column_helpers_equal_their_one_value_rules():
    """The whole-column helpers (Arrow/numpy) give exactly what the one-value rules give, on
    lists mixing plain values with every kind that takes the slow path."""
    from hypothesis import given, settings, strategies as st

    from pipeline.export.containerlab import _ipv4_network_range, _ipv4_network_ranges, _jq_all, jq

    part = st.one_of(st.integers(0, 300).map(str), st.sampled_from(["00", "01", "007"]))
    prefix = st.one_of(st.integers(0, 40).map(str), st.sampled_from(["08", "255.255.0.0", "", "x"]))
    address = st.one_of(st.builds(lambda o, p: ".".join(o) + "/" + p,
                                  st.lists(part, min_size=4, max_size=4), prefix),
                        st.sampled_from(["2001:db8::1/64", "10.0.0.1", "", "10.0.0.1/24\n"]))
    texts = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["a\u2028b", "q\"", "\\", "é"]))

    @settings(max_examples=300, deadline=None)
    @given(st.lists(address, max_size=30), st.lists(texts, max_size=30))
    def check(addresses, values):
        assert _ipv4_network_ranges(addresses) == [_ipv4_network_range(a) for a in addresses]
        assert _jq_all(values) == [jq(v) for v in values]

    check()
