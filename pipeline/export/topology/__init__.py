"""The emulation topology, built once from the canonical tables; every exporter reads it.

Nodes (one row each, `key` unique):
- fabric switches (kind "switch", role spine/leaf/edge/aggregation/core) from fabric_switches;
- one virtual switch per compute host (kind "host", role "compute") from hosts;
- VMs (kind "vm"): ports whose device_owner is `compute:*` and whose binding_host_id names a
  known host, grouped by device_id (the port id when device_id is empty). A VM's `host_key`
  is the host of its first port (ports sorted by id).
Links (one row each):
- kind "fabric": fabric_links (switch-switch and switch-host), with bandwidth_gbps;
- kind "nic": one per VM port, VM -> its port's host switch, carrying the port's MAC, first
  IPv4 address as ip/prefix (`ip`) and first IPv6 (`ip6`).
Compute ports that cannot be placed (no binding, unknown host) are counted in `summary`, never
silently dropped from the accounting.

Names. Exporters never print raw strings from the data as code or unescaped markup; they use
two generated names per node (the mapping back to id/name travels in each format's map file):
- `short` (<= 8 characters, [a-z0-9-], starting with a letter, never ending with "-"): valid
  LXD container names (Distrinet creates one container per node: letters, digits and dashes,
  not starting with a digit or dash), and short enough for Linux interface names
  (`<short>-eth<n>`, `<short>e<n>` <= 15). Fabric switches: role prefix +
  index within the role (sp1, lf12, co3, ag7, ed40); compute hosts: h + index (h1 ...);
  VMs: v + the first 7 alphanumerics of the VM id (v3f2a9c1), so they can be matched to the
  controller's records by eye.
- `label` (<= 40 characters, [a-z0-9-], DNS-label safe): the real name, lower-cased, other
  characters replaced by "-", truncated.
Collisions after shortening are resolved by `unique_names`: nodes are taken in canonical order
(switches by role layer then id, hosts by id, VMs by id); the first holder of a candidate keeps
it, every later one gets the candidate cut short plus a separator and a counter (`-2`, `-3`, ...
for both short names and labels), skipping names already taken. Same input, same names.

Modules: `model` (Topology, pylist, name_map), `names` (generated names), `build`
(build_topology), `views` (to_networkx), `partition` (partitions for node-limited formats).
"""

from __future__ import annotations

# the names exporters and tests import
from pipeline.export.topology.build import build_topology, fabric_missing, require_tables
from pipeline.export.topology.model import (
    LABEL_MAX, ROLE_LAYER, ROLE_PREFIX, SHORT_MAX, Topology, TopologyInputError, arrow_column, name_map,
    pylist)
from pipeline.export.topology.names import label_candidates, unique_names
from pipeline.export.topology.partition import partitions
from pipeline.export.topology.views import to_networkx
