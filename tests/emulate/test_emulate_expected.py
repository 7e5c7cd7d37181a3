"""The expected-reachability function, on its own (pure, no Mininet)."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline.emulate.config import load_config, normalise_protocol
from pipeline.emulate.expected import expect
from pipeline.emulate.plan import build_plan, rule_matches
from pipeline.emulate.sampling import CLASSES, sample_probes
from tests import emulate_fixtures as fx


@pytest.fixture(scope="module")
def cfg():
    return load_config(fx.tables())


@pytest.mark.parametrize("key", list(fx.EXPECTED), ids=lambda k: "-".join(str(x) for x in k))
def test_expected_reachability_of_the_hand_made_dc(cfg, key):
    got = expect(cfg, fx.probe(*key))
    assert (got.reachable, got.code) == fx.EXPECTED[key], got.reason


def test_reasons_name_the_router_and_the_floating_ip(cfg):
    assert "router ra" in expect(cfg, fx.probe("a1", "a3")).reason
    assert "same project" in expect(cfg, fx.probe("a1", "a3")).reason
    fip = expect(cfg, fx.probe("ext", "203.0.113.50")).reason
    assert "203.0.113.50" in fip and "ra" in fip and "10.0.1.5" in fip
    blocked = expect(cfg, fx.probe("b1", "b2")).reason
    assert "sgb2" in blocked and "default deny" in blocked


def test_security_groups_off_lets_blocked_traffic_through(cfg):
    assert expect(cfg, fx.probe("b1", "b2"), security_groups=False).reachable
    assert expect(cfg, fx.probe("ext", "203.0.113.50", "tcp", 22), security_groups=False).reachable


def test_port_without_port_security_is_not_filtered(cfg):
    b2 = cfg.ports["b2"]
    open_cfg = dataclasses.replace(cfg, ports={**cfg.ports, "b2": dataclasses.replace(b2, secured=False)})
    assert expect(open_cfg, fx.probe("b1", "b2")).reachable


def test_remote_group_rule_needs_membership(cfg):
    # a1 -> a3 tcp/22 passes (a1 is in sga); moved to another group, a1 is no member any more
    a1 = cfg.ports["a1"]
    moved = dataclasses.replace(cfg, ports={**cfg.ports, "a1": dataclasses.replace(a1, groups=("other",))},
                                _members={})
    assert expect(cfg, fx.probe("a1", "a3", "tcp", 22)).reachable
    got = expect(moved, fx.probe("a1", "a3", "tcp", 22))
    assert (got.reachable, got.code) == (False, "sg_ingress")


def test_wrong_gateway_in_the_tables_breaks_routing():
    tables = fx.tables()
    subnets = tables["subnets"].copy()
    subnets.loc[subnets["id"] == "sa2", "gateway_ip"] = "10.0.1.99"
    tables["subnets"] = subnets
    got = expect(load_config(tables), fx.probe("a1", "a3"))
    assert (got.reachable, got.code) == (False, "no_return")
    assert "10.0.1.99" in got.reason


def test_egress_rules_only_when_asked(cfg):
    # no group of the hand-made DC has an egress rule: with egress filtering all is blocked
    assert expect(cfg, fx.probe("a1", "a2")).reachable
    got = expect(cfg, fx.probe("a1", "a2"), egress=True)
    assert (got.reachable, got.code) == (False, "sg_egress")


def test_slice_keeps_whole_config_of_the_chosen_projects():
    cfg = load_config(fx.tables(), projects=["pb"])
    assert sorted(v.id for v in cfg.vms.values()) == ["vm-b1", "vm-b2"]
    assert sorted(cfg.routers) == ["rb"]
    assert not cfg.fips
    cfg = load_config(fx.tables(), max_hosts=1)
    assert {v.host for v in cfg.vms.values()} == {"h1"}


def test_unknown_project_is_an_input_error():
    from pipeline.errors import InputError

    with pytest.raises(InputError, match="--projects: no VM of project nope"):
        load_config(fx.tables(), projects=["nope"])


def test_sampling_is_seeded_stratified_and_agrees_with_expect(cfg):
    one = sample_probes(cfg, 40, seed=3)
    assert one == sample_probes(cfg, 40, seed=3)
    classes = {p.cls for p, _ in one}
    assert classes == set(CLASSES)
    for probe, exp in one:
        assert expect(cfg, probe) == exp
        if probe.cls == "sg_blocked":
            assert exp.code == "sg_ingress"


def test_protocol_names_and_rule_matches(cfg):
    assert normalise_protocol("TCP") == 6 and normalise_protocol(None) is None
    assert normalise_protocol("112") == 112 and normalise_protocol("weird") == "weird"
    rules = {r.id: r for rs in cfg.rules.values() for r in rs}
    assert rule_matches(rules["r4"], cfg) == ["-p tcp --dport 80:80"]
    assert rule_matches(rules["r2"], cfg) == ["-p tcp --dport 22:22 -s 10.0.0.5/32",
                                              "-p tcp --dport 22:22 -s 10.0.0.6/32",
                                              "-p tcp --dport 22:22 -s 10.0.1.5/32"]
    assert rule_matches(rules["r3"], cfg) == ["-s 10.0.0.0/24"]


def test_plan_isolates_networks_and_names_fit_linux(cfg):
    plan = build_plan(cfg, "dzz")
    assert len(set(plan.bridges.values())) == 4  # na1, na2, nb1 and the external network
    a1, b1 = plan.names[("vm", "vm-a1")], plan.names[("vm", "vm-b1")]
    assert plan.node(a1).links[0][1] != plan.node(b1).links[0][1]  # same CIDR, other segment
    assert all(len(intf) <= 15 for n in plan.nodes for intf, _, _ in n.links)
    ra = plan.node(plan.names[("router", "ra")])
    assert "-A PREROUTING -d 203.0.113.50/32 -j DNAT --to-destination 10.0.1.5" in ra.nat_rules
    assert any("ip route add default via 10.0.0.1" in c for c in plan.node(a1).setup)


def test_report_lists_mismatches_with_both_endpoints_and_reason(cfg):
    from pipeline.emulate.live import Observed
    from pipeline.emulate.report import build_report, markdown

    plan = build_plan(cfg, "dzz")
    probes = [fx.probe("a1", "a3"), fx.probe("b1", "b2"), fx.probe("ext", "203.0.113.50")]
    expected = [expect(cfg, p) for p in probes]
    observed = [Observed(False, "no echo reply"), Observed(False, "no echo reply"),
                Observed(True, "echo reply")]
    rep = build_report(cfg, plan, probes, expected, observed,
                       {"switch": "lxbr", "security_groups": True, "timings": {}})
    assert rep["mismatches_total"] == 1 and rep["probes_total"] == 3
    (m,) = rep["mismatches"]
    assert m["src"]["node"] == plan.names[("vm", "vm-a1")] and m["src"]["ip"] == "10.0.0.5"
    assert m["dst"]["port_id"] == "a3" and m["dst"]["project_id"] == "pa"
    assert m["expected"] is True and m["observed"] is False and "router ra" in m["reason"]
    assert rep["classes"]["same_subnet"]["probes"] == 0
    text = markdown(rep)
    assert "**1 mismatches**" in text and "## Mismatches" in text and "router ra" in text


@pytest.mark.parametrize("table, column, value, message", [
    ("subnets", "cidr", "10.0.0.0/33", "subnets: subnet sa1: not a CIDR"),
    ("routers", "external_fixed_ips", "[{", "routers: router ra: external_fixed_ips is not JSON"),
])
def test_broken_tables_are_one_line_input_errors(table, column, value, message):
    from pipeline.errors import InputError

    tables = fx.tables()
    df = tables[table].copy()
    df.loc[df.index[0], column] = value
    tables[table] = df
    with pytest.raises(InputError, match=message):
        load_config(tables)
