"""Schemas of the canonical tables and the validation rules.

- checks/: custom pandera checks (registered, named after their reason codes), one module per
  concern (column checks, keys, subnets, pools, networks, rules);
- models.py: one DataFrameSchema per table of schemas/model.py (single-table checks);
- relations.py: cross-table checks (references, parents, semantic checks) as data + functions;
- netaddr.py: vectorized IP/CIDR parsing used by both;
- review.py: generates the committed review files (review/<table>.yaml, DATA_DICTIONARY.md).
"""
