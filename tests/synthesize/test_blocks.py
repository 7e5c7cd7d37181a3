"""PortBlocks: the port table's row blocks, in the order the generated ports table has them."""

from __future__ import annotations

import pytest

from pipeline import synthesize as S
from pipeline.synthesize.blocks import PortBlocks
from tests.synthesize import synth_fixtures as fx


def test_offsets_follow_the_block_order():
    b = PortBlocks(workload=10, dhcp=3, router_interfaces=4, gateways=2, floating_ips=5)
    assert (b.dhcp_start, b.interface_start, b.gateway_start, b.floating_ip_start) == (10, 13, 17, 19)
    assert (b.external, b.infrastructure, b.total) == (7, 14, 24)
    empty = PortBlocks(0, 0, 0, 0, 0)
    assert (empty.floating_ip_start, empty.total) == (0, 0)


@pytest.fixture(scope="module")
def synthetic():
    sp = {**fx.PARAMS["synthesize"], "hosts": 40, "projects": 12, "seed": 5}
    return S.generate(fx.sample_model(), {**fx.PARAMS, "synthesize": sp})


def test_generated_ports_are_laid_out_in_blocks(synthetic):
    ports = synthetic["ports"]
    owner = ports["device_owner"].astype(str)
    blocks = PortBlocks(workload=int((~owner.str.startswith("network:")).sum()),
                        dhcp=int((owner == "network:dhcp").sum()),
                        router_interfaces=len(synthetic["router_interfaces"]),
                        gateways=int((owner == "network:router_gateway").sum()),
                        floating_ips=int((owner == "network:floatingip").sum()))
    assert blocks.total == len(ports)
    assert blocks.router_interfaces and blocks.gateways and blocks.floating_ips  # every block present
    rows = {"dhcp": slice(blocks.dhcp_start, blocks.interface_start),
            "gateways": slice(blocks.gateway_start, blocks.floating_ip_start),
            "floating_ips": slice(blocks.floating_ip_start, blocks.total)}
    assert (owner.iloc[rows["dhcp"]] == "network:dhcp").all()
    assert (owner.iloc[rows["gateways"]] == "network:router_gateway").all()
    assert (owner.iloc[rows["floating_ips"]] == "network:floatingip").all()
    assert not owner.iloc[:blocks.workload].str.startswith("network:").any()
    # the interface block is exactly the router_interfaces table's ports, in its order
    interface_ids = ports["id"].iloc[blocks.interface_start:blocks.gateway_start].tolist()
    assert interface_ids == synthetic["router_interfaces"]["port_id"].tolist()
    # external ports: the gateway block carries the routers' gateways, the last block the FIPs
    fip_ports = ports["id"].iloc[rows["floating_ips"]].tolist()
    assert fip_ports == synthetic["floating_ips"]["id"].map(
        dict(zip(ports["device_id"], ports["id"]))).tolist()
