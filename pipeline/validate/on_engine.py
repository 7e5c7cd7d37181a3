"""`dcnet validate --engine dask` on a table folder: no process ever holds a whole table.

The stage process reads only the input's manifest (which files, how many rows each) and, later,
the failures, which are few; the rows stay on the workers:

1. prepare: one task per input file (a table, or one part of a table written as a folder of
   parts): read, conformed to the contract, ids normalised and the fields a row determines
   filled (schemas/copies.py, schemas/fill.py), every row given `_pos`, its position in the
   whole table, from the manifest's row counts. The partitions stay in the workers' memory
   (futures) for the steps below;
2. the ports' network_id from their fixed IPs' subnets (schemas/fill.py): the same steps as
   locally, on co-partitions of the subnet id, then of the port id; the values found go back
   to the ports' partitions by position;
3. the checks, on these partitions (dask_checks.checks_on);
4. the outputs: the failures, collapsed per position as locally, decide each partition's valid
   and quarantined rows; every output file (`<table>.parquet`, or the parts of
   `rows_per_part` rows of a bigger table, cut by row rank as io.TableParts cuts them) is
   written by a task from the partitions it spans, into the output folder (a filesystem the
   workers share with this process, as for ingest).

The files and the report are byte-identical to the local engine's (tests/validate/
test_validate_dask.py).
"""

from __future__ import annotations

import operator
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import io
from pipeline.validate.dask_checks import POS, Context, checks_on, co_partitions, pure_task

NETWORK_FILL = ("ports", "port_ips", "subnets")  # the tables the ports' network fill reads


def validate_folder(engine, input_dir: Path, out: Path, quarantine: Path,
                    rows_per_part: int | None, step) -> dict:
    """Validate the tables of `input_dir` on the engine's cluster, writing `out` and
    `quarantine` (atomically, with their manifests); returns the report. `step(name)` as each
    of core.STEPS and then "write" starts."""
    from pipeline.validate.core import STEPS
    from schemas.model import TABLES

    client = engine.client
    inputs = {name: io.table_parts(input_dir, name) or [] for name in TABLES}
    held: list = []
    try:
        step(STEPS[0])
        parts, infos = {}, {}
        for name, files in inputs.items():
            parts[name], infos[name] = _prepare_partitions(client, name, files, held)
        normalised, filled = _counts(infos)
        step(STEPS[1])
        n = _fill_port_networks(client, parts, infos, held)
        if n:
            filled.setdefault("ports", {})["network_id"] = n
        step(STEPS[2])
        sizes = {name: sum(info["rows"] for info in infos[name]) for name in TABLES}
        ctx = Context(client, {name: _frame(name, futs) for name, futs in parts.items()},
                      {name: len(futs) for name, futs in parts.items()}, sizes)
        stale, found, hits = checks_on(ctx)
        step(STEPS[3])
        plans, report = _outcome(infos, stale, found, hits, normalised, filled)
        step("write")
        _write(client, parts, plans, out, quarantine, rows_per_part)
        return report
    finally:
        for fut in held:
            fut.release()


# --- 1. prepare ------------------------------------------------------------------------------


def _prepare_partitions(client, name: str, files: list[tuple[Path, int]], held: list):
    """(partition futures, [info of each]) of table `name`: one task per file (an empty table:
    one empty partition)."""
    futures, start = [], 0
    for path, rows in files or [(None, 0)]:
        futures.append(client.submit(prepare_part, name, None if path is None else str(path),
                                     start, rows, pure=False))
        start += rows
    frames = [client.submit(operator.itemgetter(0), f, pure=False) for f in futures]
    infos = client.gather([client.submit(operator.itemgetter(1), f, pure=False) for f in futures])
    held += frames
    for fut in futures:
        fut.release()
    return frames, infos


def prepare_part(name: str, path: str | None, start: int, rows: int):
    """(partition, info) of one input file of table `name`: conformed, ids normalised, the
    fields its rows determine filled, `_pos` from `start`; info: rows, start, the counts of
    values normalised and filled, and of ports without network_id."""
    from pipeline.errors import InputError
    from pipeline.validate.core import prepare_table
    from schemas import copies, fill

    df = prepare_table(name, None if path is None else io.read_parquet(Path(path)))
    if len(df) != rows:
        raise InputError(f"{path}: {len(df)} rows, its folder's manifest says {rows}")
    tables, normalised = copies.normalise_ids({name: df})
    df, filled = fill.fill_row_fields(name, tables[name])
    df = df.assign(**{POS: np.arange(start, start + len(df), dtype=np.int64)})
    info = {"rows": len(df), "start": start, "normalised": normalised.get(name, {}),
            "filled": filled}
    if name == "ports":
        info["missing_network"] = int(df["network_id"].isna().sum())
    return df, info


def _counts(infos: dict) -> tuple[dict, dict]:
    """({table: {column: values normalised}}, {table: {column: rows filled}}) summed over
    the partitions."""
    out: tuple[dict, dict] = ({}, {})
    for name, parts in infos.items():
        for info in parts:
            for total, key in zip(out, ("normalised", "filled")):
                for col, n in info[key].items():
                    total.setdefault(name, {})[col] = total.get(name, {}).get(col, 0) + n
    return out


def _frame(name: str, futures: list):
    """The partitions of table `name` (futures) as one dask frame."""
    import dask.dataframe as dd

    meta, _ = prepare_part(name, None, 0, 0)
    return dd.from_delayed(futures, meta=meta, verify_meta=False)


# --- 2. the ports' network from their fixed IPs ----------------------------------------------------


def _fill_port_networks(client, parts: dict, infos: dict, held: list) -> int:
    """Fill the ports' null network_id as schemas.fill does, replacing parts["ports"]; the
    number of rows filled."""
    missing = sum(info.get("missing_network", 0) for info in infos["ports"])
    if not missing or not all(sum(i["rows"] for i in infos[t]) for t in NETWORK_FILL):
        return 0
    import dask.dataframe as dd

    from schemas import fill

    nparts = max(len(parts[t]) for t in NETWORK_FILL)
    subnets = _frame("subnets", parts["subnets"])[[POS, "id", "network_id"]]
    port_ips = _frame("port_ips", parts["port_ips"])[["port_id", "subnet_id"]]
    ports = _frame("ports", parts["ports"])
    wanted = ports[ports["network_id"].isna()][[POS, "id"]]
    sub_parts, ip_parts = co_partitions([(subnets, "id"), (port_ips, "subnet_id")], nparts)
    links = [pure_task(_fixed_ip_networks_task)(s, p) for s, p in zip(sub_parts, ip_parts)]
    meta = fill.fixed_ip_networks(port_ips._meta, pd.Series([], dtype=object))
    link_frame = dd.from_delayed(links, meta=meta, verify_meta=False)
    link_parts, port_parts = co_partitions([(link_frame, "port"), (wanted, "id")], nparts)
    starts = np.array([info["start"] for info in infos["ports"]], dtype=np.int64)
    found = [pure_task(_port_networks_task)(links, wanted, starts)
             for links, wanted in zip(link_parts, port_parts)]
    filled = client.compute([pure_task(_apply_networks)(part, [pure_task(operator.getitem)(f, i)
                                                               for f in found])
                             for i, part in enumerate(parts["ports"])])
    new = [client.submit(operator.itemgetter(0), f, pure=False) for f in filled]
    counts = client.gather([client.submit(operator.itemgetter(1), f, pure=False) for f in filled])
    for fut in [*filled, *parts["ports"]]:
        fut.release()
    old = {id(f) for f in parts["ports"]}
    held[:] = [f for f in held if id(f) not in old] + new
    parts["ports"] = new
    return int(sum(counts))


def _fixed_ip_networks_task(subnets: pd.DataFrame, port_ips: pd.DataFrame) -> pd.DataFrame:
    """fill.fixed_ip_networks on one co-partition of the subnet id (subnets in input order:
    the first row of an id gives its network)."""
    from schemas import fill

    subnets = subnets.sort_values(POS, kind="stable")
    return fill.fixed_ip_networks(port_ips, fill.subnet_networks(subnets))


def _port_networks_task(links: pd.DataFrame, wanted: pd.DataFrame, starts: np.ndarray) -> list:
    """For the ports without network of one co-partition of the port id: (_pos, network) of
    those whose fixed IPs lie on one network, split by the ports' partition of `_pos`."""
    from schemas import fill

    found = wanted["id"].map(fill.one_network_per_port(links)).to_numpy(dtype=object)
    keep = pd.notna(found)
    hit = pd.DataFrame({POS: wanted[POS].to_numpy(dtype=np.int64)[keep], "net": found[keep]})
    which = np.searchsorted(starts, hit[POS].to_numpy(), side="right") - 1
    return [hit[which == i] for i in range(len(starts))]


def _apply_networks(part: pd.DataFrame, pieces: list[pd.DataFrame]) -> tuple[pd.DataFrame, int]:
    """One ports partition with the networks found for its rows; (partition, rows filled)."""
    from schemas import fill

    hits = pd.concat(pieces, ignore_index=True) if pieces else None
    if hits is None or not len(hits):
        return part, 0
    # by position: a port id given twice is two rows, each filled (as fill_port_networks does
    # by id on the whole table)
    per_row = pd.Series(hits["net"].to_numpy(dtype=object), index=hits[POS].to_numpy())
    return fill.fill_port_networks(part, per_row, key=POS)


# --- 4. outputs ---------------------------------------------------------------------------------


def _outcome(infos, stale, found, hits, normalised, filled):
    """({table: (starts, rows per partition, collapsed failures)}, report)."""
    from pipeline.validate.core import all_failures, full_report, table_report
    from schemas import relations

    plans, table_reports, warns = {}, {}, []
    for name, parts in infos.items():
        f = all_failures(stale[name], found[name])
        bad = relations.collapse(f)
        rows = sum(info["rows"] for info in parts)
        plans[name] = ([info["start"] for info in parts], [info["rows"] for info in parts], bad)
        table_reports[name], w = table_report(name, rows, rows - len(bad), len(bad), f, hits[name])
        warns += w
    return plans, full_report(table_reports, warns, normalised, filled)


def _write(client, parts: dict, plans: dict, out: Path, quarantine: Path,
           rows_per_part: int | None) -> None:
    """Every table's valid and quarantined rows written by tasks into the two folders."""
    with io.writing_tables(out, rows_per_part) as valid_out, \
            io.writing_tables(quarantine, rows_per_part) as q_out:
        jobs = []  # (folder being written, table, file name, task writing it)
        for name, (starts, rows, bad) in plans.items():
            pos = bad.index.to_numpy(dtype=np.int64)
            ends = np.asarray(starts, dtype=np.int64) + np.asarray(rows, dtype=np.int64)
            lo = np.searchsorted(pos, starts, side="left")
            hi = np.searchsorted(pos, ends, side="left")
            # each partition's collapsed failures, sent to the workers once, in one call
            failing = [i for i, (a, b) in enumerate(zip(lo, hi)) if b > a]
            reasons = [None] * len(starts)
            if failing:  # (scatter refuses an empty list)
                slices = client.scatter([bad.iloc[lo[i]:hi[i]] for i in failing])
                for i, fut in zip(failing, slices):
                    reasons[i] = fut
            for folder, quarantined, counts in ((valid_out, False, np.asarray(rows) - (hi - lo)),
                                                (q_out, True, hi - lo)):
                for file, pieces in io.cut_by_rank(name, counts, rows_per_part):
                    pieces = pieces or [(0, 0, 0)]  # no rows: the columns, from partition 0
                    task = pure_task(_write_file)(
                        str(folder.folder / file), quarantined,
                        [(parts[name][i], reasons[i], a, b) for i, a, b in pieces])
                    jobs.append((folder, name, file, task))
        entries = client.gather(client.compute([task for *_, task in jobs]))
        io.record_written([(folder, name, file, entry)
                           for (folder, name, file, _), entry in zip(jobs, entries)])


def _write_file(path: str, quarantined: bool, pieces: list) -> dict:
    """One output file from slices of partitions: the valid rows of each, or the quarantined
    ones with their check and reason; its manifest entry."""
    from pipeline.validate.core import with_reasons

    frames = []
    for part, bad, lo, hi in pieces:
        failing = part[POS].isin(bad.index.to_numpy()) if bad is not None else \
            pd.Series(False, index=part.index)
        rows = part[failing.to_numpy()] if quarantined else part[~failing.to_numpy()]
        rows = rows.drop(columns=[POS]).reset_index(drop=True)
        if quarantined:
            rows = with_reasons(rows, bad if bad is not None else _NO_REASONS)
        frames.append(rows.iloc[lo:hi])
    df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    io.write_table(df.reset_index(drop=True), Path(path))
    return io.file_entry(Path(path), len(df))


_NO_REASONS = pd.DataFrame({"check": pd.Series([], dtype=object),
                            "reason": pd.Series([], dtype=object)})
