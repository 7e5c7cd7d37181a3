"""Evaluation of a synthetic data center against the real (validated) one: fidelity, utility,
privacy.

Pure core: two dicts of canonical tables (schemas/model.py) in, an `Evaluation` out (the
report dict that becomes reports/synthetic.json, plus the arrays the plots draw; evaluate.py).
Plots (plots.py) and MLflow (mlflow_run.py) are thin edges; stage.py is the entry point of
`dcnet evaluate-synthetic` and the only module that reads or writes files. One module per part:
metrics.py (KS/TV complement, Wasserstein), column_shapes.py, structure.py, kinds.py (profile
mix), utility.py (TSTR vs TRTR), heldout.py (held-out TSTR), overlap.py and dcr.py (privacy).

Fidelity (each part in [0, 1], 1 = indistinguishable)
- column_shapes: per table and column, KSComplement for numeric columns and TVComplement for
  categorical ones, as SDMetrics defines them (implemented here: sdmetrics pins pandas<3). Only
  columns whose distribution means something are compared (COLUMN_SPECS): vocabularies and
  flags, sizes, prefix lengths, port ranges; never ids, names, addresses, MACs, free text or
  provenance. Some are derived (prefix length from cidr, rule remote kind, IPs per port).
  The part's score is the plain mean over all scored columns (SDMetrics' "Column Shapes").
- structure: KSComplement of per-entity count distributions (STRUCTURES: subnets per
  network, ports per subnet, ports per host, rules per group, networks and ports per project);
  the 1-Wasserstein distance, raw and normalized by the real range, is reported beside it.
  Score: the mean KSComplement over the distributions.
- profile_mix: TVComplement between the real and synthetic shares of project kinds. Real kinds:
  the training labels (data/labels: ground truth, then naming), else the classifier's prediction
  (data/predictions). Synthetic kinds: the same labeler on the synthetic tables (its
  project_labels table, then the subnet naming convention; a label naming a kind the real labels
  do not have is dropped), else the trained model applied to the synthetic project features,
  else "unknown".
- overall = mean(column_shapes, structure), equal weights; the gate is
  params.evaluate_synthetic.min_fidelity. The profile mix (matched by construction with
  mix: as_learned) and columns constant in the real data are reported apart. real_baseline:
  the same parts between two random halves of the real projects (what real data reaches
  against itself); relative_to_real = overall / that.

Utility: the project-profile classifier of pipeline/train/ (same registry, hyperparameters
and seed as `dcnet train`, the task's allowed features) trained on synthetic projects and
tested on the real labelled ones (TSTR), beside train-real-test-real cross-validated exactly as
`dcnet train` does (TRTR). Both on data the synthesizer learned from; the held-out version
(heldout.py, `--bench`) adds the tstr_heldout gate.

Privacy
- exact overlap (distinct values present in both datasets; every count must be zero): ids (every
  text `id`/`*_id` column but device_id and binding_host_id, pooled across tables), device ids,
  host names (node_name, binding_host_id), MAC addresses, IP addresses and prefixes outside the
  ranges every site shares (SHARED_RANGES), and identifying names: resource names that exactly
  one real project uses (a name two or more real tenants use, such as "default" or "private",
  is vocabulary and identifies nobody), and free text: every other string of every real column
  (statuses, types, descriptions, zones, `extra` and other JSON, taken leaf by leaf) that one
  real project alone uses, is distinctive (5+ characters with a letter and a digit; not an
  address, nor an ISO timestamp, which the synthesizer draws itself) and is found in ANY string
  column of the synthetic tables, JSON leaves included. A chance collision counts too: a synthesizer must
  exclude real values, not just draw from a large space.
- distance to closest record (DCR) on project feature vectors standardized with the real
  training split: synthetic -> real train against real holdout -> real train (the holdout is
  `holdout_share` of the real projects, seeded). A synthesizer that copies records has many
  synthetic projects closer to a real one than real projects ever are to each other: the share
  of synthetic records below the holdout's 5th percentile is the number to watch (about 0.05
  when synthetic records are as novel as unseen real ones).

Every float in the report is rounded to 6 digits; the report has no timestamps: same inputs and
params give the same bytes (a DVC metric).
"""

from __future__ import annotations

# The names other code and the tests use, from the modules that define them.
from pipeline.evaluate_synthetic.column_shapes import (COLUMN_SPECS, CROSS_TABLE_COLUMNS,
                                                       column_shapes, column_values)
from pipeline.evaluate_synthetic.dcr import DCR_PERCENTILE, dcr
from pipeline.evaluate_synthetic.evaluate import (DEFAULT_HOLDOUT_SHARE, DEFAULT_MIN_FIDELITY,
                                                  DEFAULT_SEED, Evaluation, evaluate,
                                                  gate_failures, real_baseline)
from pipeline.evaluate_synthetic.kinds import UNKNOWN_KIND, profile_mix, project_kinds
from pipeline.evaluate_synthetic.metrics import ks_complement, tv_complement, wasserstein
from pipeline.evaluate_synthetic.mlflow_run import log_run
from pipeline.evaluate_synthetic.overlap import (OVERLAP_CATEGORIES, SHARED_RANGES, exact_overlap,
                                                 is_shared_address)
from pipeline.evaluate_synthetic.plots import PLOT_PREFIX, plot_names, write_plots
from pipeline.evaluate_synthetic.structure import STRUCTURES, structural_counts, structure
from pipeline.evaluate_synthetic.utility import TASK, utility

__all__ = [
    "COLUMN_SPECS", "CROSS_TABLE_COLUMNS", "DCR_PERCENTILE", "DEFAULT_HOLDOUT_SHARE",
    "DEFAULT_MIN_FIDELITY", "DEFAULT_SEED", "Evaluation", "OVERLAP_CATEGORIES", "PLOT_PREFIX",
    "SHARED_RANGES", "STRUCTURES", "TASK", "UNKNOWN_KIND", "column_shapes", "column_values",
    "dcr", "evaluate", "exact_overlap", "gate_failures", "is_shared_address", "ks_complement",
    "log_run", "plot_names", "profile_mix", "project_kinds", "real_baseline", "structural_counts",
    "structure", "tv_complement", "utility", "wasserstein", "write_plots",
]
