"""Labels for classification tasks: candidate labels per source, precedence, rule baselines.

A labeler is `fn(tables, params) -> DataFrame[id, label, source]` of candidate labels (any
number of sources, at most one label per id and source). LABELERS maps the names used in
params.yaml (`tasks.<task>.labeler`) to them, so a new task is configuration plus one small
function. `build_labels` picks the training label by source precedence and reports counts and
conflicts between sources.

Rule baselines (RULE_BASELINES) are what a person would do without a model: the subnet naming
convention for projects, a keyword map over port names for ports. The trainer compares the
model against them and fills None with the majority class.

The package: labelers.py (the labelers and LABELERS), precedence.py (build_labels, task_labels,
training_labels), baselines.py (RULE_BASELINES, port_rule); stage.py the entry point of
`dcnet labels` (reads and writes the files).
"""

from __future__ import annotations

# The names other code and the tests use, from the modules that define them.
from pipeline.labels.baselines import (PORT_NAME_KEYWORDS, RULE_BASELINES, port_name_role,
                                       port_rule, rule_baseline)
from pipeline.labels.labelers import (LABEL_COLUMNS, LABELERS, LabelConfigError,
                                      ground_truth_labels, naming_labels, naming_vocabulary,
                                      port_role, project_profile, subnet_name_labels)
from pipeline.labels.precedence import (MAX_CONFLICT_EXAMPLES, build_labels, task_labels,
                                        training_labels)

__all__ = [
    "LABELERS", "LABEL_COLUMNS", "LabelConfigError", "MAX_CONFLICT_EXAMPLES",
    "PORT_NAME_KEYWORDS", "RULE_BASELINES", "build_labels", "ground_truth_labels",
    "naming_labels", "naming_vocabulary", "port_name_role", "port_role", "port_rule",
    "project_profile", "rule_baseline", "subnet_name_labels", "task_labels", "training_labels",
]
