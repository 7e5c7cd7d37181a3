"""Training: cross-validated classifiers per task, beside the baselines they must beat.

Pure core: DataFrames in, a TrainResult out; no files, no MLflow (see pipeline/tracking.py).

For a task (params.tasks.<t>) the feature table (`id`, optional `project_id`, numeric features)
is joined to the label table (`id`, `label`, `source`); columns reading a source the task
forbids (tasks.<t>.forbid_sources, see forbidden_sources) are left out first. Stratified
K-fold CV (grouped by `project_id` when the table has it: ports) gives out-of-fold predictions
for the model and, on the very same folds, for three baselines: the majority class of the
training fold, the task's rule (e.g. the subnet-naming convention), where a row the rule says
nothing about falls back to the fold's majority class, and a tree rule (one leaf per class).
Every macro-F1 gets a bootstrap 95% interval (train.bootstrap resamples, of whole projects
when grouped). Metrics are reported over all
labelled rows and over the rows whose label came from `evaluate_on_source` (e.g. ground truth:
weak labels say how well the model mimics the rule, ground truth how good it is). The final
model is then fitted on every labelled row.

Bad input raises InputError subclasses (one line, what to fix); the CLI names the file.
"""

# The package's modules, re-exported: callers import everything from `pipeline.train` (the
# errors too, as when this was one module).
from pipeline.errors import InputError, StageFailed
from pipeline.train.evaluation import (DEFAULT_BOOTSTRAP, _metric_block, _r, bootstrap_ci,
                                       cv_splits, fit_tree_rule, row_groups, scores)
from pipeline.train.inputs import (LABEL_COLUMNS, NON_FEATURE_COLUMNS, FeaturesError, LabelsError,
                                   ParamsError, _check_classes, _examples, _labelled,
                                   allowed_features, feature_matrix, forbidden_sources,
                                   task_features)
from pipeline.train.model_files import (TRUSTED_PREFIXES, _canonical_skops, load_model,
                                        model_bytes, trusted_types)
from pipeline.train.models import (MODELS, PERMUTATION_MAX_ROWS, PERMUTATION_REPEATS,
                                   _importances, _quiet_fit, build_model, fit_to_size,
                                   model_choice)
from pipeline.train.task import TrainResult, _train_task, train_task

__all__ = [
    "InputError", "StageFailed", "DEFAULT_BOOTSTRAP", "LABEL_COLUMNS", "MODELS", "NON_FEATURE_COLUMNS", "PERMUTATION_MAX_ROWS",
    "PERMUTATION_REPEATS", "TRUSTED_PREFIXES", "FeaturesError", "LabelsError", "ParamsError",
    "TrainResult", "allowed_features", "bootstrap_ci", "build_model", "cv_splits",
    "feature_matrix", "fit_to_size", "fit_tree_rule", "forbidden_sources", "load_model",
    "model_bytes", "model_choice", "row_groups", "scores", "task_features", "train_task",
    "trusted_types", "_canonical_skops", "_check_classes", "_examples", "_importances",
    "_labelled", "_metric_block", "_quiet_fit", "_r", "_train_task",
]
