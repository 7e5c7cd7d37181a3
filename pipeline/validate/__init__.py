"""Validation stage: every canonical table split into valid rows and quarantined rows.

- core.py: the steps (identities and copies, single-table checks, cross-table checks,
  assembly) and the report; `validate_tables` is the pure entry point;
- rules.py: the per-table rules both engines run (pandera failures, warnings);
- parallel.py: the local engine's single-table checks on forked processes (validate.workers);
- dask_checks.py: the checks on a Dask cluster, per partition and co-partitioned on keys;
- on_engine.py: a folder validated on the Dask workers (reading, checks, writing);
- stage.py: file I/O of `dcnet validate`.
"""

from pipeline.validate.core import (DEFAULT_MAX_QUARANTINE_FRACTION, ValidationResult, _prepare,
                                    enforce_limits, validate_tables)
from pipeline.validate.rules import UNKNOWN_WARNINGS, WARNING_EXAMPLES, single_table_failures

__all__ = ["DEFAULT_MAX_QUARANTINE_FRACTION", "UNKNOWN_WARNINGS", "ValidationResult",
           "WARNING_EXAMPLES", "_prepare", "enforce_limits", "single_table_failures",
           "validate_tables"]
