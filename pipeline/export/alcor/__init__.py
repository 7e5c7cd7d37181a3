"""Alcor controller API request stream (NDJSON) and a K6 script that replays it.

Output (folder `alcor/`):
- alcor_requests.ndjson: one request per line. Line format (shared with the K6 replayer and
  the ingest round trip; keys sorted, compact JSON):

    {"body": {...}, "capture": {...}?, "method": "POST", "path": "/project/p1/ports",
     "phase": 11, "resource": "port", "service": "port_manager"}

  `service`, `method`, `path`, `body` are the request (Alcor's contract,
  schemas/consumers/alcor.requests.schema.json); `phase` is the 1-based step of Alcor's setup
  order: every request of phase k must be answered before any request of phase k+1 is sent,
  and lines are sorted by phase; `resource` names what the line creates (segment, ncm, node,
  vpc, subnet, router, router_interface, security_group, security_group_rule, port,
  elasticip_range, elasticip). An optional `capture` maps a variable name to an RFC 6901
  JSON pointer into the JSON response body; a later line uses the captured value by writing
  `{{<variable>}}` inside any string of its `path` or `body`, and the replayer substitutes it.
  Phases, in order (empty ones are skipped, the numbering stays consecutive):
    segment             POST /segments/createDefaultTable                  vpc_manager
    ncm                 POST /ncms {"ncm_info"}, one per NCM                node_manager
    node                POST /nodes/bulk {"host_infos"}, one NCM per bulk  node_manager
    vpc                 POST /project/{p}/vpcs {"network"}                 vpc_manager
    subnet              POST /project/{p}/subnets {"subnet"}, IPv4 only    subnet_manager
    router              POST /project/{p}/routers {"router"}, one VPC each route_manager
    router_interface    PUT  /project/{p}/routers/{r}/add_router_interface {"subnet_id"}
    security_group      POST /project/{p}/security-groups, no `default`    security_group_manager
    port (capture)      one port per project whose default group is referenced, sent without
                        security_groups; captures `default_sg.<p>` = /port/security_groups/0
    security_group_rule POST /project/{p}/security-group-rules             security_group_manager
    port                POST /project/{p}/ports {"port"}                    port_manager
    elasticip_range     POST /elasticip-ranges, one per IP version           elastic_ip_manager
    elasticip           POST /project/{p}/elasticips {"elasticip"}          elastic_ip_manager
  Within a phase requests are sorted by id. Path segments taken from the data are
  percent-encoded. A resource without a project goes under project `none`.
- alcor_k6.js: replays the stream phase by phase (k6.py).

What Alcor cannot take is left out or changed, never silently: every case is counted per
reason in the summary (`left_out`, `changed`; `data/export/_export_report.json`, section
`formats.alcor`, printed by `dcnet export`). The reasons follow Alcor's code, see
schemas/consumers/ and `dcnet check-export`: IPv6 subnets and fixed IPs (Alcor's subnets are
IPv4 only; ports left with no address are left out), router-interface ports (Alcor creates
the gateway port with the subnet; routers are attached by subnet_id), routers spanning VPCs
(split, one router per VPC), static routes (add_extraroutes is outside the contract), groups
named `default` (Alcor owns the tenant's default group; references go through the captured
id, and a port whose only group is the default omits security_groups), allow-all rules that
Alcor adds to every new group itself, rule protocols Alcor's data plane cannot map, vif/vnic
types outside Alcor's enums, empty or unknown binding:host_id (omitted: unbound port).

Round trip: every resource body is in the Neutron/Alcor wire format that dcnet's own ingest
reads (`{"network": {...}}`, `{"host_infos": [...]}`, ...); `stream_to_dump` writes those bodies
as one NDJSON dump (elastic IPs as Neutron floating IPs), and ingesting it gives back the
exported tables for what the stream carries (placeholders stay as text). List positions
(ip_index, pool_index) are renumbered 0.. in list order.

Modules: `fields` (rows as wire objects), `accepts` (Alcor's enums, what is counted), one per
step group (`nodes`, `networks`, `security`, `ports`, `elastic_ips`), `stream` (the order,
the encoding, `write`; the stream in parts, `write_group` and `finish`, for the dask engine),
`k6` (the replayer script).
"""

from __future__ import annotations

# the plug-in's interface (NEEDS_FABRIC, write) and the names callers and tests import
from pipeline.export.alcor.accepts import Counts
from pipeline.export.alcor.fields import FIELDS, resources
from pipeline.export.alcor.networks import FLAT_SEGMENTATION_ID
from pipeline.export.alcor.nodes import ACA_SERVER_PORT, NCM_URI, NODES_PER_BULK
from pipeline.export.alcor.security import RENAMED_DEFAULT
from pipeline.export.alcor.stream import (
    K6, STEPS, STREAM, build_stream, finish, iter_requests, stream_lines, stream_to_dump, write,
    write_group)

NEEDS_FABRIC = False  # the controller API knows no physical fabric
NEEDS_TOPOLOGY = False  # reads only topo.tables: forked before the topology is built
