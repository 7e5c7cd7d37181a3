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

Package layout: `learn.py` (the model), `generate.py` (the orchestrator of the generation),
`stage.py` (`run`); shared pieces: `common.py` (constants), `params.py` (the `synthesize:`
parameters and mix), `sampler.py` (draws from the model), `exclusions.py` (real values to avoid;
seeded ids), `text.py` (vectorized text and frames), `stats.py` (histograms), `arrays.py`
(segment and rank helpers), `placement.py` (host capacity).
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
