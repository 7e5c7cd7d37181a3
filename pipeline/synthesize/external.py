"""The external network: its addresses (router gateways, then floating IPs, /24 by /24: the
documentation ranges first, then 100.64.0.0/11) and what is learned about it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.synthesize.common import EXTERNAL_BLOCKS_DOC, EXTERNAL_BULK, EXT_PER_SUBNET, SynthParamsError
from pipeline.synthesize.stats import hist, share
from pipeline.util import stripped as _str


@dataclass
class ExternalAddresses:
    block: np.ndarray      # per external subnet: its /24's address
    subnet_of: np.ndarray  # per external port (gateways, then floating IPs): its external subnet
    ip: np.ndarray         # per external port: its address (.2 - .254)
    n_gateways: int

    @property
    def n_subnets(self) -> int:
        return len(self.block)


def external_addresses(n_gateways: int, n_fips: int, shard: int | None = None, shards: int = 1
                       ) -> ExternalAddresses:
    """The /24s in order: the documentation ones, then 100.64.0.0/11's. Shard s of K takes every
    K-th of them from the s-th (disjoint by construction, a fair share of the space each)."""
    n_external = n_gateways + n_fips
    n_ext_sub = max(1, -(-n_external // EXT_PER_SUBNET))
    if shard is None:
        shard, shards = 0, 1
    n_space = len(EXTERNAL_BLOCKS_DOC) + EXTERNAL_BULK[1] // 256
    if shard + (n_ext_sub - 1) * shards >= n_space:
        raise SynthParamsError("synthesize: too many router gateways and floating IPs for the "
                               "external address space (100.64.0.0/11); lower projects")
    nth = shard + shards * np.arange(n_ext_sub, dtype=np.int64)
    n_doc = len(EXTERNAL_BLOCKS_DOC)
    ext_block = np.where(nth < n_doc, np.array(EXTERNAL_BLOCKS_DOC, np.int64)[np.minimum(nth, n_doc - 1)],
                         EXTERNAL_BULK[0] + 256 * (nth - n_doc))
    e = np.arange(n_external, dtype=np.int64)
    ext_sub_of = e // EXT_PER_SUBNET
    return ExternalAddresses(block=ext_block, subnet_of=ext_sub_of, ip=ext_block[ext_sub_of] + 2 + e % EXT_PER_SUBNET,
                             n_gateways=n_gateways)


def learn_external(networks: pd.DataFrame, subnets: pd.DataFrame, ports: pd.DataFrame) -> dict:
    """The external networks' attributes and subnets (`networks`, `subnets`: the external
    ones), and whether their ports have an owner project."""
    en, es = networks, subnets
    ext_port_roles = ports["role"].isin(["router_gateway", "floating_ip"])
    return {
        "networks": int(len(en)),
        "network": hist(pd.DataFrame({
            "type": _str(en["network_type"]).str.lower().replace("", None), "mtu": en["mtu"],
            "port_security": en["port_security_enabled"], "shared": en["shared"],
            "admin_state_up": en["admin_state_up"], "status": _str(en["status"]).replace("", None)})),
        "physical_network_share": share(_str(en["physical_network"]) != ""),
        "subnets_per_network": hist(es.groupby("network_id").size()),
        "enable_dhcp_share": share(es["enable_dhcp"].fillna(False).astype(bool)),
        "port_project_empty_share": share(ports.loc[ext_port_roles, "project_id"] == ""),
    }
