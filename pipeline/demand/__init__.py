"""Configuration prediction: a project's resource demand from its early configuration.

When a tenant has set up its networks and subnets, how many VMs, ports, security-group rules
and floating IPs will it need? Inputs are what exists before any VM: the project's networks
and subnets (counts, prefix lengths, allocation pool capacity, DHCP, IPv6, MTU, network types)
and its profile (the project_profile training label: ground truth, else naming). Targets are
n_vms, n_ports, n_sg_rules and n_floating_ips of the project feature table. One random forest
regressor per target on log1p(target); the baseline is the per-profile median of the training
rows (global median for a profile they lack). Metrics: MAE and MAPE (|error| / max(1, true))
per target, and the MAE reduction against the baseline (1 - MAE_model / MAE_baseline).

Projects without a profile are left out (the profile is an input).

frame.py builds the per-project training frame, model.py the model, its scores and the
evaluation (pure: tables in, dict out); stage.py is the entry point of `dcnet demand`.
"""

from __future__ import annotations

from pipeline.demand.frame import EARLY_COLUMNS, TARGETS, demand_frame, pool_capacity_log2
from pipeline.demand.model import DemandModel, cross_validate, evaluate, score

__all__ = ["DemandModel", "EARLY_COLUMNS", "TARGETS", "cross_validate", "demand_frame", "evaluate",
           "pool_capacity_log2", "score"]
