"""dcnet check-export, Distrinet: the module is built as `mn --custom` does; every rule fails on
a bad example; dcnet's own export passes."""

from __future__ import annotations

import json

import pytest

from export_fixtures import small_dc
from pipeline.export import mininet as export_mininet
from pipeline.check_export import distrinet
from pipeline.export.topology import build_topology

pytest.importorskip("mininet.topo")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("mininet")
    export_mininet.write(build_topology(small_dc()), out, {"mininet_inline_max_hosts": 0})
    return json.loads((out / "dcnet_topo.json").read_text())


def run(tmp_path, data, module_edit=None) -> dict:
    """Write the module + its data (optionally with the module text edited) and check it."""
    topo = build_topology(small_dc())
    export_mininet.write(topo, tmp_path, {"mininet_inline_max_hosts": 0})
    (tmp_path / "dcnet_topo.json").write_text(json.dumps(data))
    if module_edit:
        path = tmp_path / "dcnet_topo.py"
        path.write_text(module_edit(path.read_text()))
    return distrinet.check(tmp_path).violations


def test_dcnet_export_passes(tmp_path, data):
    assert run(tmp_path, data) == {}
    assert distrinet.check(tmp_path).checked > 0


def _rename(data, old_to_new):
    def swap(name):
        return old_to_new.get(name, name)

    data["switches"] = [[swap(n), d] for n, d in data["switches"]]
    data["hosts"] = [[swap(n), *rest] for n, *rest in data["hosts"]]
    data["links"] = [[swap(a), swap(b), *rest] for a, b, *rest in data["links"]]


def _bad_name(data):
    _rename(data, {data["hosts"][0][0]: "va8e76_2"})


def _long_name(data):
    _rename(data, {data["switches"][-1][0]: "h12345678901"})  # h12345678901-eth1: 17 characters


BAD = {
    "D-NAME-LXD": (_bad_name, None),
    "D-INTF-LEN": (_long_name, None),
    "D-DPID": (lambda d: d["switches"][0].__setitem__(1, "1" * 17), None),
    "D-IP": (lambda d: d["hosts"][0].__setitem__(1, "10.0.0.300/24"), None),
    "D-MAC": (lambda d: d["hosts"][0].__setitem__(2, "fa:16:3e:00:00"), None),
    "D-BW": (lambda d: d["links"][0].__setitem__(2, None), None),
    # the module as dcnet wrote it before: the NIC's address as a params1 link option
    "D-LINK-PARAMS": (None, lambda src: src.replace(
        'opts["cls1"] = _dcnet_partial(_DcnetIntf, ip=ip1)', 'opts["params1"] = {"ip": ip1}')),
    "D-LOAD": (None, lambda src: src.replace('topos = {"dcnet": DcnetTopo, "dcnet_tenant": DcnetTenantTopo}', "topos = {}")),
}


@pytest.mark.parametrize("rule", sorted(BAD))
def test_each_rule_fails_on_a_bad_example(tmp_path, data, rule):
    edit_data, edit_module = BAD[rule]
    bad = json.loads(json.dumps(data))
    if edit_data:
        edit_data(bad)
    violations = run(tmp_path, bad, edit_module)
    assert rule in violations, violations
    assert "mininet" in violations[rule].evidence


def test_ip_of_a_nic_link_is_checked(tmp_path, data):
    bad = json.loads(json.dumps(data))
    nic = next(link for link in bad["links"] if link[3])
    nic[3] = "not-an-ip"
    assert "D-IP" in run(tmp_path, bad)
