"""Live emulation of a data center's tenant networks in real Mininet, checked against the
reachability its configuration tables imply.

- config.py: the configuration tables as plain objects (VMs, routers, floating IPs, security
  groups), optionally a slice of them (whole projects on a set of compute hosts). Pure.
- expected.py: the reachability a probe should see, with the reason. Pure, no Mininet.
- plan.py: what to build: one bridge per network, node names, addresses, routes, NAT and
  security-group rules (iptables-restore text). Pure, no Mininet.
- sampling.py: a stratified, seeded sample of probes.
- live.py: builds a plan in Mininet, waits for convergence, runs probes, always cleans up.
- report.py: the JSON report and a readable Markdown table.
- run.py: the whole `dcnet emulate` run.
"""
