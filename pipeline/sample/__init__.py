"""The embedded sample dataset: a documented reference data center, generated deterministically.

`dcnet sample` writes it to data/raw/sample/; it is the default input of the pipeline and the
data that classification work trains on. It is *not* a synthesizer: the structure of every
user-profile kind is written out by hand in profiles.py (PROFILES), the output mimics what a real dump
of such a cloud looks like (mixed Neutron / openstack-CLI / Alcor wire formats, paginated
lists, NDJSON, CSV inventories, gzip), and a handful of faults are planted on purpose and
listed in a manifest beside the folder (`<out>_faults.json`) so validation can be tested
against known answers.

The data center
- `zones` availability zones (az1, az2, ...), `racks_per_zone` racks of `hosts_per_rack`
  compute hosts named `az<z>-r<rr>-cn<hh>`, plus two network nodes per zone
  (`az<z>-r01-nn0<k>`) that run the DHCP and L3 agents (DHCP and router ports bind there).
  Zone 1 is an Alcor bulk node registration; the other zones are a CSV inventory.
- An admin project owns the external provider network (`public`, flat, router:external);
  router gateway and floating IP ports live there with an empty project, as in Neutron.
- `projects` tenant projects of six kinds (web, hpc, bigdata, kubernetes, database, devtest),
  each built from its profile with random variation and deliberate overlap between kinds.
- About half the projects name their subnets by the site convention `ustc-<kind>-<suffix>`
  (a few with the wrong kind: realistic label noise); `labels.csv` gives the true kind of ~60%.

Determinism: one `random.Random(seed)`, no set/dict-order dependence, fixed timestamps derived
from the seed, compact JSON, gzip with mtime=0 and no file name. Same params => same bytes
(given the same zlib build; the decompressed content is identical everywhere).

Package layout (each module's draws happen in the order of the old single module, so the
sample's bytes are unchanged): `profiles.py` (PROFILES, vocabularies, realism mode),
`addresses.py` (Space, Pool), `world.py` (World: ids, names, hosts, placement; Project),
`resources.py` (networks, subnets, ports, routers, floating IPs), `security.py` (groups and
rules), `kinds.py` (one builder per kind, BUILDERS), `build.py` (projects and the clean world),
`faults.py` (planted faults), `files.py` (file names and layout), `render.py` (wire formats, the
fault manifest), `readme.py` (README.md, counts), `stage.py` (generate, write_sample).
"""

from __future__ import annotations

from pipeline.sample.build import build_world
from pipeline.sample.faults import FAULTS, WARNINGS
from pipeline.sample.files import F_INVENTORY, F_LABELS, F_NODES, F_RULES
from pipeline.sample.profiles import DEFAULTS, KINDS, LABEL_NOISE, PROFILES, SITE, VARIANTS
from pipeline.sample.stage import generate, write_sample

__all__ = ["DEFAULTS", "FAULTS", "F_INVENTORY", "F_LABELS", "F_NODES", "F_RULES", "KINDS", "LABEL_NOISE",
           "PROFILES", "SITE", "VARIANTS", "WARNINGS", "build_world", "generate", "write_sample"]
