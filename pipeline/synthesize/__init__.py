"""Synthesis: learn the structure of a real data center, generate new ones of any size.

Two pure functions and a stage around them:

- `learn(tables, profiles, params) -> model`: per project kind (profile: labels first, the
  classifier's predictions fill the rest; projects with neither are kind "other", and all of
  them "all" when no project has a profile) the empirical distributions of everything that
  shapes a tenant: networks per project, subnets per network, (prefix length, workload ports)
  per subnet, role mix, security groups and abstracted rule-set templates (remote: any,
  cidr:any, subnet/<len> = one of the project's own subnets, private/<len>, public/<len>,
  group:self, group:other), routers and gateways, floating IPs, network types/MTU, Alcor VPC
  blocks, IPv6, allowed address pairs; and the infrastructure: zones, hosts per rack, network
  nodes, where each port role binds, VM ports per compute host, how a project's VMs spread over
  hosts. The model is plain JSON of COUNTS and shares only: no id, name, MAC or address of the
  real data (models/synth_model.json is meant to be reviewed for privacy). Histograms are
  `[[value, count], ...]`; joint ones have a list as value.
- `generate(model, params) -> tables`: a data center at the scale and mix of params.yaml
  `synthesize:`, every model table conformed, every reference resolving, passing validation.
  Vectorized over numpy/pyarrow arrays, no per-row Python: ~5M ports in tens of seconds.
- `run(...)`: learn, generate, validate; one quarantined row fails the stage.

Generated values are synthetic by construction, and checked against the real values anyway
(`Exclusions`): ids are seeded UUIDs (redrawn on a clash with a real id), names are
`syn-<kind>-...` counters (`syn-...` for projects without a profile, which also get no
project_labels row, as in the input), MACs are locally administered (02:/06:/0a: + a salt byte
no real MAC uses + a bijective counter), tenant addresses come from RFC 1918 space, external
addresses from the documentation ranges then 100.64.0.0/11, host underlay from 100.96.0.0/11,
IPv6 from random RFC 4193 ULA prefixes, DNS servers from fixed private/documentation addresses.

Address plan: each network gets one aligned block (its VPC `cidr` when it is an Alcor VPC, else
the smallest power of two holding its subnets) in 10/8, 172.16/12 or 192.168/16 as learned.
Blocks are packed largest first, so they never overlap until the space is exhausted; then the
allocation wraps around (networks of different projects may then overlap, as tenants' private
addresses do in any real cloud; subnets of one network never do). Gateway = first host,
DHCP ports at the first pool addresses, pools never cover the gateway, fixed IPs are allocated
in pool order and are unique per subnet.

Placement: compute hosts get target loads drawn from the learned VM ports per compute host
(busy ones clustered into racks); a project spans as many hosts as learned for its kind, its
slots drawn along a "capacity line" so busy hosts attract more projects; the NICs of a VM share
its host; `max_ports_per_host` is enforced by moving whole VMs (and single network ports) off
full hosts. Network nodes (as many per compute host as learned) carry the DHCP, router
interface and gateway ports where the real data binds them there.

Package layout. `learn.py` prepares the real tables and asks each family for its statistics;
`generate.py` orchestrates the families' draws (each call its own random stream) into a
`Plan`, then their tables; `stage.py` is `run`. One module per family, its learn side
(`learn_stats`: the model keys it writes) next to its generate side (`draw_*`, `*_table`, which
read them): `projects.py`, `networks.py`, `subnets.py` (IPv4 address plan, IPv6, DHCP agents,
subnets and pools), `workload.py` (workload ports, multi-NIC VMs), `placement.py` (hosts, VM
placement, bindings, the hosts table, `learn_infra`), `routers.py`, `external.py` (external
addresses, `learn_external`), `floating_ips.py`, `security_groups.py`, `ports.py` (the ports
table), `fixed_ips.py` (port_ips). Shared: `context.py` (model, settings, rng, sampler, ids),
`blocks.py` (`PortBlocks`: the port table's blocks and offsets), `common.py` (constants),
`params.py` (the `synthesize:` parameters and mix), `sampler.py`, `exclusions.py` (real values
to avoid; seeded ids), `text.py` (vectorized text, frames), `stats.py` (histograms,
`KindTables`), `arrays.py` (segment and rank helpers).
"""

from __future__ import annotations

from pipeline.synthesize.common import (BINDINGS, FALLBACK_KIND, INFRA_ROLES, MODEL_FORMAT, SOURCE_FILE,
                                        UNLABELLED_KIND, WORKLOAD_ROLES, SynthParamsError)
from pipeline.synthesize.exclusions import GENERIC_NAMES, Exclusions
from pipeline.synthesize.generate import STEPS, generate
from pipeline.synthesize.learn import learn, profiles_from
from pipeline.synthesize.params import DEFAULTS
from pipeline.synthesize.stage import RUN_STEPS, run
from pipeline.synthesize.stats import hist
from pipeline.synthesize.text import ip4_text

__all__ = ["BINDINGS", "DEFAULTS", "FALLBACK_KIND", "GENERIC_NAMES", "INFRA_ROLES", "MODEL_FORMAT",
           "RUN_STEPS", "SOURCE_FILE", "STEPS", "UNLABELLED_KIND", "WORKLOAD_ROLES", "Exclusions",
           "SynthParamsError", "generate", "hist", "ip4_text", "learn", "profiles_from", "run"]
