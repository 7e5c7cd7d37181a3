"""The single-table checks of the local engine on every core: the tables are split into groups
of about equal rows and each group beyond the first is checked in a forked process while this
process checks the first.

fork, not spawn: the children inherit the tables copy-on-write (never pickled); only their
failures, usually a handful of rows, travel back. The result is the same dict, in the same
table order, as checking the tables one after the other (tests/validate/test_parallel.py).
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from pipeline.validate.rules import single_table_failures

# Below this many rows in all, a fork (~0.1 s with the pool's start) costs more than it saves.
MIN_ROWS = 200_000

_tables: dict[str, pd.DataFrame] = {}  # set in a forked child by its pool's initializer


def all_single_table_failures(tables: dict[str, pd.DataFrame], workers: int) -> dict:
    """{table: single_table_failures(table, frame)} for every table, on up to `workers`
    processes."""
    groups = row_balanced_groups({name: len(df) for name, df in tables.items()}, workers)
    # a daemonic process (a multiprocessing.Pool worker) may not start children
    if len(groups) < 2 or sum(len(df) for df in tables.values()) < MIN_ROWS \
            or "fork" not in mp.get_all_start_methods() or mp.current_process().daemon:
        return {name: single_table_failures(name, df) for name, df in tables.items()}
    found: dict = {}
    with ProcessPoolExecutor(len(groups) - 1, mp_context=mp.get_context("fork"),
                             initializer=_inherit, initargs=(tables,)) as pool:
        futures = [pool.submit(_check_group, group) for group in groups[1:]]
        found.update(_check_group(groups[0], tables))
        for future in futures:
            found.update(future.result())
    return {name: found[name] for name in tables}


def row_balanced_groups(rows: dict[str, int], workers: int) -> list[list[str]]:
    """The table names in at most `workers` non-empty groups, the biggest table first into the
    group with the fewest rows so far (ties: the first such group)."""
    groups: list[list[str]] = [[] for _ in range(max(1, workers))]
    load = [0] * len(groups)
    for name in sorted(rows, key=lambda n: (-rows[n], n)):
        k = load.index(min(load))
        groups[k].append(name)
        load[k] += rows[name]
    return [g for g in groups if g]


def _inherit(tables: dict[str, pd.DataFrame]) -> None:
    global _tables
    _tables = tables  # fork: the parent's frames, not a pickled copy


def _check_group(names: list[str], tables: dict[str, pd.DataFrame] | None = None) -> dict:
    tables = _tables if tables is None else tables
    return {name: single_table_failures(name, tables[name]) for name in names}
