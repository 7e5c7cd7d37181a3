"""The external network's addresses: router gateways, then floating IPs, /24 by /24 (the
documentation ranges first, then 100.64.0.0/11)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.synthesize.common import EXT_PER_SUBNET, EXTERNAL_BLOCKS_DOC, EXTERNAL_BULK, SynthParamsError


@dataclass
class ExternalAddresses:
    block: np.ndarray      # per external subnet: its /24's address
    subnet_of: np.ndarray  # per external port (gateways, then floating IPs): its external subnet
    ip: np.ndarray         # per external port: its address (.2 - .254)
    n_gateways: int

    @property
    def n_subnets(self) -> int:
        return len(self.block)


def external_addresses(n_gateways: int, n_fips: int) -> ExternalAddresses:
    n_external = n_gateways + n_fips
    n_ext_sub = max(1, -(-n_external // EXT_PER_SUBNET))
    if n_ext_sub > len(EXTERNAL_BLOCKS_DOC) + EXTERNAL_BULK[1] // 256:
        raise SynthParamsError("synthesize: too many router gateways and floating IPs for the "
                               "external address space (100.64.0.0/11); lower projects")
    ext_block = np.array(list(EXTERNAL_BLOCKS_DOC) + [EXTERNAL_BULK[0] + 256 * i for i in range(max(0, n_ext_sub - 2))],
                         np.int64)[:n_ext_sub]
    e = np.arange(n_external, dtype=np.int64)
    ext_sub_of = e // EXT_PER_SUBNET
    return ExternalAddresses(block=ext_block, subnet_of=ext_sub_of, ip=ext_block[ext_sub_of] + 2 + e % EXT_PER_SUBNET,
                             n_gateways=n_gateways)
