"""The port table's row blocks: sizes and offsets by name instead of sums of counts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PortBlocks:
    """Rows of the port table, in table order: workload ports (VMs, LB VIPs, unbound), DHCP
    ports, router interfaces, router gateways, floating IP ports. Row i of a block is port
    `<block>_start + i`."""

    workload: int
    dhcp: int
    router_interfaces: int
    gateways: int
    floating_ips: int

    @property
    def dhcp_start(self) -> int:
        return self.workload

    @property
    def interface_start(self) -> int:
        return self.dhcp_start + self.dhcp

    @property
    def gateway_start(self) -> int:
        return self.interface_start + self.router_interfaces

    @property
    def floating_ip_start(self) -> int:
        return self.gateway_start + self.gateways

    @property
    def external(self) -> int:
        """Ports on the external network: router gateways, then floating IPs."""
        return self.gateways + self.floating_ips

    @property
    def infrastructure(self) -> int:
        """Every port after the workload block."""
        return self.total - self.workload

    @property
    def total(self) -> int:
        return self.floating_ip_start + self.floating_ips
