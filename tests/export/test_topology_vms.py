"""VM nodes and NIC links, built column-wise in Arrow, equal a row-by-row reading of the rule
(pipeline/export/topology/__init__.py) on random tables full of the awkward cases: non-compute
and null owners, empty device ids, unknown and null bindings, repeated host names, VMs spread
over hosts, missing and tied ip_index, IPv6, null addresses, unknown subnets and bad CIDRs."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.export.topology.vms import vm_nodes_and_links

S = "string"


def _reference(tables: dict, hosts: pd.DataFrame):
    """The rule, one port at a time (what the export did before it was vectorised)."""
    def rows_of(df):
        return [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in df.to_dict("records")]

    host_of_name: dict = {}
    for h in rows_of(hosts):
        host_of_name.setdefault(h["node_name"], h["id"])
    placed, n_compute = [], 0
    for p in rows_of(tables["ports"]):
        if p["device_owner"] is None or not p["device_owner"].startswith("compute:"):
            continue
        n_compute += 1
        host = host_of_name.get(p["binding_host_id"])
        if host is not None:
            placed.append((p["device_id"] or p["id"], p["id"], host, p))
    placed.sort(key=lambda r: (r[0], r[1]))
    prefix = {}
    for s in rows_of(tables["subnets"]):
        try:
            import ipaddress
            prefix[s["id"]] = ipaddress.ip_network(s["cidr"], strict=False).prefixlen
        except (ValueError, TypeError):
            pass
    best: dict = {}
    wanted = {r[1] for r in placed}
    for ip in rows_of(tables["port_ips"]):
        if ip["port_id"] not in wanted:
            continue
        index = ip["ip_index"] if ip["ip_index"] is not None else 1 << 30
        slots = [("subnet", ip["subnet_id"])]
        if ip["ip_address"] is not None:
            v6 = ":" in ip["ip_address"]
            slots.append(("ip6" if v6 else "ip",
                          f"{ip['ip_address']}/{prefix.get(ip['subnet_id'], 128 if v6 else 32)}"))
        for slot, value in slots:
            key = (ip["port_id"], slot)
            if key not in best or index < best[key][0]:
                best[key] = (index, value)
    nodes, links, hosts_of_vm = [], [], {}
    for i, (vm, pid, host, p) in enumerate(placed):
        hosts_of_vm.setdefault(vm, set()).add(host)
        if i == 0 or vm != placed[i - 1][0]:
            nodes.append((vm, host, p["project_id"]))
        links.append((vm, host, pid, p["mac_address"],
                      *(best.get((pid, s), (0, None))[1] for s in ("ip", "ip6", "subnet")),
                      p["network_id"], p["project_id"]))
    stats = {"compute_ports": n_compute, "compute_ports_unplaced": n_compute - len(placed)}
    if placed:
        stats["vms_multi_host"] = sum(len(h) > 1 for h in hosts_of_vm.values())
    return nodes, links, stats


ids = st.sampled_from(["p1", "p2", "p3", "p4", "p5", "p6", "é7", "p10"])
maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731


@st.composite
def tables(draw):
    names = st.sampled_from(["n1", "n2", "n3", None])
    hosts = draw(st.lists(st.tuples(st.sampled_from(["h1", "h2", "h3", "h4"]), names), max_size=5))
    port_ids = draw(st.lists(ids, unique=True, max_size=8))
    ports = [(pid, draw(maybe(st.sampled_from(["compute:az1", "compute:", "network:dhcp", "x"]))),
              draw(maybe(st.sampled_from(["", "vm-a", "vm-b", "p3"]))),
              draw(maybe(st.sampled_from(["n1", "n2", "n3", "n9", ""]))),
              draw(maybe(st.sampled_from(["02:00:00:00:00:01", "bad"]))),
              draw(maybe(st.sampled_from(["net1", "net2"]))), draw(maybe(st.sampled_from(["t1", "t2"]))))
             for pid in port_ids]
    subnets = draw(st.lists(st.tuples(st.sampled_from(["s1", "s2", "s3"]),
                                      st.sampled_from(["10.0.0.0/24", "10.1.0.0/16", "fd00::/64",
                                                       "nonsense", "10.2.0.0"])), max_size=4))
    port_ips = draw(st.lists(st.tuples(ids, maybe(st.integers(0, 3)),
                                       maybe(st.sampled_from(["s1", "s2", "s3", "s9"])),
                                       maybe(st.sampled_from(["10.0.0.5", "10.0.0.6", "fd00::5",
                                                              "fd00::6"]))), max_size=12))
    frame = lambda rows, cols, types: pd.DataFrame(  # noqa: E731
        {c: pd.Series([r[i] for r in rows], dtype=t) for i, (c, t) in enumerate(zip(cols, types))})
    return {
        "hosts": frame(hosts, ["id", "node_name"], [S, S]),
        "ports": frame(ports, ["id", "device_owner", "device_id", "binding_host_id", "mac_address",
                               "network_id", "project_id"], [S] * 7),
        "subnets": frame(subnets, ["id", "cidr"], [S, S]),
        "port_ips": frame(port_ips, ["port_id", "ip_index", "subnet_id", "ip_address"],
                          [S, "Int64", S, S]),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_vm_nodes_and_links_follow_the_rule(t):
    nodes, links, stats = vm_nodes_and_links(t, t["hosts"])
    want_nodes, want_links, want_stats = _reference(t, t["hosts"])
    assert stats == want_stats
    assert list(zip(nodes["ref_id"], nodes["host_key"], nodes["project_id"])) == \
        [(vm, "host:" + h, p) for vm, h, p in want_nodes]
    assert list(nodes["key"]) == ["vm:" + vm for vm, _, _ in want_nodes]
    assert list(nodes["name"]) == list(nodes["ref_id"])
    got = list(zip(links["src"], links["dst"], links["ref_id"], links["mac"], links["ip"],
                   links["ip6"], links["subnet_id"], links["network_id"], links["project_id"]))
    assert got == [("vm:" + vm, "host:" + h, *rest) for vm, h, *rest in want_links]
    assert (links["kind"] == "nic").all() and links["bandwidth_gbps"].isna().all()


def test_no_ports_and_no_placed_ports():
    empty = {"hosts": pd.DataFrame({"id": pd.Series(["h1"], dtype=S),
                                    "node_name": pd.Series(["n1"], dtype=S)})}
    nodes, links, stats = vm_nodes_and_links(empty, empty["hosts"])
    assert len(nodes) == len(links) == 0 and stats == {"compute_ports": 0, "compute_ports_unplaced": 0}
    empty["ports"] = pd.DataFrame({c: pd.Series(["x"], dtype=S) for c in (
        "id", "device_owner", "device_id", "binding_host_id", "mac_address", "network_id", "project_id")})
    empty["ports"]["device_owner"] = pd.Series(["compute:a"], dtype=S)
    nodes, links, stats = vm_nodes_and_links(empty, empty["hosts"])
    assert len(links) == 0 and stats == {"compute_ports": 1, "compute_ports_unplaced": 1}
