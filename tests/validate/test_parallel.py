"""The local engine's single-table checks on several forked processes
(pipeline/validate/parallel.py): the same valid rows, quarantine and report as in one process,
on a dump holding every planted fault."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from pipeline.errors import InputError
from pipeline.validate import parallel, validate_tables
from test_validate_dask import faulty_tables  # noqa: F401  (a fixture)


def _same(a, b) -> None:
    assert a.report == b.report
    for name in a.valid:
        pd.testing.assert_frame_equal(a.valid[name], b.valid[name])
        pd.testing.assert_frame_equal(a.quarantine[name], b.quarantine[name])


@pytest.fixture
def checking_pids(monkeypatch, tmp_path):
    """A function giving the pids of the processes that ran single-table checks so far."""
    pids = tmp_path / "pids"
    pids.write_text("")
    checks = parallel.single_table_failures

    def recording(name, df):
        with open(pids, "a") as fh:  # the wrapper is inherited by the forked children
            fh.write(f"{os.getpid()}\n")
        return checks(name, df)

    monkeypatch.setattr(parallel, "single_table_failures", recording)
    return lambda: set(pids.read_text().split())


@pytest.mark.parametrize("workers", [2, 3])
def test_forked_checks_give_the_one_process_result(faulty_tables, monkeypatch,  # noqa: F811
                                                   checking_pids, workers):
    one = validate_tables(faulty_tables, {"workers": 1})
    assert one.report["totals"]["rows_quarantined"] > 20  # the planted faults are there
    assert checking_pids() == {str(os.getpid())}
    monkeypatch.setattr(parallel, "MIN_ROWS", 0)  # the fixture is small
    many = validate_tables(faulty_tables, {"workers": workers})
    assert len(checking_pids()) == workers  # the checks did run in the children
    _same(one, many)


def test_small_inputs_stay_in_this_process(faulty_tables, checking_pids):  # noqa: F811
    validate_tables(faulty_tables, {"workers": 2})  # far below MIN_ROWS: no fork
    assert checking_pids() == {str(os.getpid())}


def test_groups_balance_rows_biggest_first():
    rows = {"a": 5, "b": 3, "c": 3, "d": 1}
    assert parallel.row_balanced_groups(rows, 2) == [["a", "d"], ["b", "c"]]
    assert parallel.row_balanced_groups(rows, 1) == [["a", "b", "c", "d"]]
    assert parallel.row_balanced_groups({"a": 1, "b": 1}, 4) == [["a"], ["b"]]  # no empty group


@pytest.mark.parametrize("bad", [0, -1, "two", True, 1.5])
def test_workers_must_be_a_positive_integer(faulty_tables, bad):  # noqa: F811
    with pytest.raises(InputError, match="validate.workers must be a positive integer"):
        validate_tables(faulty_tables, {"workers": bad})


def _validate_in_a_pool_worker(tables):
    return validate_tables(tables, {"workers": 2}).report


def test_a_pool_worker_checks_in_its_own_process(faulty_tables, monkeypatch):  # noqa: F811
    # multiprocessing.Pool workers are daemonic and may not start children: no fork there
    import multiprocessing as mp

    monkeypatch.setattr(parallel, "MIN_ROWS", 0)
    with mp.get_context("fork").Pool(1) as pool:
        report = pool.apply(_validate_in_a_pool_worker, (faulty_tables,))
    assert report == validate_tables(faulty_tables, {"workers": 1}).report
