"""The Mininet export's tenant view (`--topo dcnet_tenant`): built in real Mininet from the
exported files alone, the hand-made data center answers every probe as its configuration says.

Needs root and Mininet (`.ci/run` installs it); shares the live-emulation xdist group so two
Mininet runs never overlap.
"""

from __future__ import annotations

import gzip
import json
import os
import runpy
import subprocess

import pytest

from pipeline.emulate.config import load_config
from pipeline.emulate.expected import expect
from pipeline.emulate.live import interpret, preflight, probe_command
from pipeline.export import mininet
from pipeline.export.topology import build_topology
from tests import emulate_fixtures as fx

pytestmark = [pytest.mark.xdist_group("mininet"), pytest.mark.mininet]


def export(tmp_path, params=None):
    out = tmp_path / "mininet"
    summary = mininet.write(build_topology(fx.tables(), require_fabric=False), out, params or {})
    return out, summary


def test_tenant_view_is_written_as_data_and_registered(tmp_path):
    out, summary = export(tmp_path)
    data = json.loads(gzip.decompress((out / mininet.TENANT).read_bytes()))
    assert data["format"] == mininet.TENANT_FORMAT_TAG
    assert data["counts"] == {"vms": 5, "routers": 2, "outside_clients": 1, "segments": 4, "links": 11}
    # overlapping tenant CIDRs stay apart: one bridge per network
    assert len(set(data["bridges"])) == len(fx.tables()["networks"])
    module = (out / mininet.MODULE).read_text()
    assert '"dcnet_tenant": DcnetTenantTopo' in module
    # deterministic bytes (gzip without a timestamp)
    again, _ = export(tmp_path / "again")
    assert (again / mininet.TENANT).read_bytes() == (out / mininet.TENANT).read_bytes()


def test_tenant_view_left_out_above_the_limit_and_counted(tmp_path):
    out, summary = export(tmp_path, {"mininet_tenant_max_vms": 2})
    assert not (out / mininet.TENANT).exists()
    assert summary["left_out"] == {"tenant view: VMs above export.mininet_tenant_max_vms": 5}


@pytest.mark.skipif(os.geteuid() != 0 or preflight("lxbr") is not None,
                    reason="needs root and Mininet")
def test_tenant_view_built_by_mininet_gives_the_expected_reachability(tmp_path):
    from mininet.log import setLogLevel
    from mininet.net import Mininet

    out, _ = export(tmp_path)
    module = runpy.run_path(str(out / mininet.MODULE))  # as `mn --custom` loads it
    data = json.loads(gzip.decompress((out / mininet.TENANT).read_bytes()))
    names = {(n["kind"], n["ref"]): n["name"] for n in data["nodes"]}
    cfg = load_config(fx.tables())
    setLogLevel("error")
    net = Mininet(topo=module["topos"]["dcnet_tenant"](), controller=None,
                  autoSetMacs=False, autoStaticArp=False, waitConnected=False)
    try:
        net.start()
        observed = {}
        for key in fx.EXPECTED:
            probe = fx.probe(*key)
            kind, ref = probe.src
            node = net.get(names[("vm", cfg.ports[ref].vm_id)] if kind == "vm" else names[("ext", ref)])
            for _ in range(2):  # the first packet may be lost while ARP settles
                p = node.popen(probe_command(probe), text=True)
                out_text, err = p.communicate()
                reached, _ = interpret(probe, p.returncode, out_text + err)
                if reached:
                    break
            observed[key] = reached
    finally:
        net.stop()
    expected = {key: expect(cfg, fx.probe(*key)).reachable for key in fx.EXPECTED}
    assert observed == expected
    assert observed == {key: v[0] for key, v in fx.EXPECTED.items()}
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    assert "dcn1" not in links and "dcv1-eth0" not in links  # Mininet removed what it built
