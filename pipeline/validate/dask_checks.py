"""Validation's checks on a Dask cluster: the local rules, run on partitions (issue 14).

No check sees a whole table. Each table is cut into partitions of about `partition_rows` rows,
every row carrying `_pos`, its position in the table, and:

- row checks (the pandera schema without its row-comparing checks, and the warnings) run on
  each partition as it is (pipeline/validate/rules.py);
- a rule comparing rows or tables runs on co-partitions of its key: `co_partitions` hash-
  shuffles the rows of every side on the key column (`DataFrame.shuffle` on `_part`, the key's
  hash modulo the partition count; dask places equal `_part` values in the same partition
  index on every side), so rows sharing a key value meet in partition i of every side, and
  the pandas rule runs once per i, rows sorted by `_pos` (input order, which the
  rules' "earlier row wins" needs). Keys: the table key for copies and `duplicate_id`, the
  scope for MAC / address uniqueness, network_id for subnet overlaps, the reference column and
  the parent key for references (a reference fails or passes on equal keys only);
- the parent cascade joins each partition of a parent with its quarantined positions (a small
  Series scattered to the workers), so a child sees whether its parent is quarantined;
- cross-table checks (fixed IPs inside their subnet, pools inside theirs, ...) join the child
  rows with the columns of their valid parent, carried out of the reference step, on `_pos`
  (`dd.merge`), then run per partition.

Only failures (position, check, reason) and warning hits come back to the caller; they hold
table positions, so the assembly (core._assemble for tables in memory, on_engine.py's output
tasks for a folder) gives the local engine's outputs, byte for byte.
"""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd

from pipeline.validate.rules import (group_check_failures, group_checks, row_schema,
                                     single_table_failures, warning_hits)

POS = "_pos"    # the row's position in its whole table
PART = "_part"  # the co-partition of the row's key

# Columns the cross-table checks (schemas/relations.py CROSS_CHECKS) read, per parent and per
# child table: only these travel through the joins.
CROSS_PARENT_COLUMNS = {"networks": ["cidr"], "subnets": ["cidr", "gateway_ip", "network_id"],
                        "ports": ["network_id"]}
CROSS_CHILD_COLUMNS = {"subnets": ["cidr", "network_id"],
                       "allocation_pools": ["start", "end", "subnet_id"],
                       "port_ips": ["ip_address", "subnet_id", "port_id"]}


def run_checks(engine, tables: dict[str, pd.DataFrame], partition_rows: int):
    """(stale copies, other failures, warning hits) per table, as `core._check_locally`, for
    tables held here: cut into partitions scattered to the workers."""
    import dask.dataframe as dd

    client = engine.client
    nparts = {name: max(1, -(-len(df) // max(1, partition_rows))) for name, df in tables.items()}
    frames, held = {}, []
    for name, df in tables.items():
        # Partitions scattered to the workers once (futures), not embedded in every graph.
        bounds = np.linspace(0, len(df), nparts[name] + 1).astype(np.int64)
        chunks = [df.iloc[lo:hi].assign(**{POS: np.arange(lo, hi, dtype=np.int64)})
                  for lo, hi in zip(bounds[:-1], bounds[1:])]
        futures = client.scatter(chunks)
        held += futures
        frames[name] = dd.from_delayed(futures, meta=chunks[0].iloc[:0], verify_meta=False)
    sizes = {name: len(df) for name, df in tables.items()}
    try:
        return checks_on(Context(client, frames, nparts, sizes))
    finally:
        for fut in held:
            fut.release()


def checks_on(ctx: "Context"):
    """(stale copies, other failures, warning hits) per table of `ctx.frames` (dask frames
    whose rows carry POS, their table positions)."""
    from schemas import relations

    sizes = dict(ctx.sizes)
    stale = _stale_copies(ctx)
    work = {}
    for name, frame in ctx.frames.items():
        gone = stale[name]["pos"].to_numpy(dtype=np.int64)
        work[name] = frame[~frame[POS].isin(gone)] if len(gone) else frame
        sizes[name] -= len(np.unique(gone))
    ctx = Context(ctx.client, ctx.frames, ctx.nparts, sizes)
    single, hits = _single_table(ctx, work)

    found: dict[str, pd.DataFrame] = {}
    bad: dict[str, pd.Series] = {}
    for level in _levels():  # a table's parents are final before it is checked
        more = _references_and_cross_checks(ctx, [n for n in level if sizes[n]], work, bad)
        for name in level:
            found[name] = pd.concat([single[name], *more.get(name, [])], ignore_index=True)
            bad[name] = relations.collapse(found[name])["check"]
    return stale, found, hits


def _levels() -> list[list[str]]:
    """Tables by depth in the reference graph (parents first); one Dask round per depth."""
    from schemas.relations import REFERENCES, table_order

    depth: dict[str, int] = {}
    for name in table_order():
        depth[name] = 1 + max((depth[r.parent] for r in REFERENCES
                               if r.table == name and r.parent != name), default=-1)
    return [[n for n in depth if depth[n] == d] for d in range(max(depth.values()) + 1)]


class Context:
    """What the checks run on: the client, the tables as dask frames (rows carrying POS), the
    partitions per shuffle, and each table's row count."""

    def __init__(self, client, frames, nparts, sizes):
        self.client, self.frames, self.nparts, self.sizes = client, frames, nparts, sizes

    def gather(self, tasks: list) -> list:
        """Results of delayed tasks, computed on the cluster, in task order."""
        if not tasks:
            return []
        futures = self.client.compute(tasks)
        try:
            return self.client.gather(futures)
        finally:
            for fut in futures:
                fut.release()


# --- partitioning ------------------------------------------------------------------------------


def _with_part(df: pd.DataFrame, column: str, nparts: int) -> pd.DataFrame:
    # Values hashed as strings (nulls as ""): equal keys of both sides land together whatever
    # their dtypes, as the rules compare them (schemas/relations.first_position).
    values = df[column].astype("string").fillna("").to_numpy(dtype=object)
    hashed = pd.util.hash_array(values) if len(values) else np.zeros(0, dtype=np.uint64)
    return df.assign(**{PART: (hashed % np.uint64(nparts)).astype(np.int64)})


def co_partitions(sides: list, nparts: int) -> list[list]:
    """Per side (dask frame, key column): its `nparts` partitions (delayed) after a hash
    shuffle on the key; rows sharing a key value are in the same partition index on every side."""
    out = []
    for frame, column in sides:
        meta = frame._meta.assign(**{PART: pd.Series([], dtype="int64")})
        keyed = frame.map_partitions(_with_part, column, nparts, meta=meta)
        # "tasks": as fast as "p2p" at 1M rows here (benchmarks/README.md), without p2p's
        # scheduler-side log lines
        shuffled = keyed.shuffle(on=PART, npartitions=nparts, force=True, shuffle_method="tasks")
        out.append(shuffled.to_delayed())
    return out


def _local(part: pd.DataFrame) -> pd.DataFrame:
    """A partition in input order, positions 0..n-1 (what the pandas rules expect)."""
    part = part.drop(columns=[PART], errors="ignore")
    return part.sort_values(POS, kind="stable").reset_index(drop=True)


def _to_table_pos(f: pd.DataFrame, pos: np.ndarray) -> pd.DataFrame:
    if len(f) == 0:
        return f
    return f.assign(pos=pos[f["pos"].to_numpy(dtype=np.int64)])


def pure_task(fn):
    """`fn` as a dask.delayed task function whose key depends only on its inputs."""
    import dask

    return dask.delayed(fn, pure=True)


# --- copies --------------------------------------------------------------------------------------


def _repeated_keys_task(key: list[str], part: pd.DataFrame, gone: np.ndarray) -> np.ndarray:
    """Positions of the rows (not `gone`, no blank key part) whose key another row repeats:
    the rows schemas/copies.resolve_key_copies looks at (copies are rare: only these travel)."""
    from schemas import copies

    usable = ~np.isin(part[POS].to_numpy(dtype=np.int64), gone)
    for k in key:
        usable &= ~copies._blank(part[k])
    keys = part[key][usable]
    repeated = (keys.iloc[:, 0].duplicated(keep=False) if len(key) == 1
                else keys.duplicated(keep=False)).to_numpy()
    return part[POS].to_numpy(dtype=np.int64)[usable][repeated]


def _stale_children_task(ref, child: pd.DataFrame, parent: pd.DataFrame,
                         parent_stale: pd.DataFrame) -> pd.DataFrame:
    """schemas/copies._stale_children on one co-partition of the reference key: `parent` holds
    the stale parent rows of this partition, `parent_stale` the failures of all of them."""
    from schemas import copies

    child, parent = _local(child), _local(parent)
    cpos, ppos = child[POS].to_numpy(dtype=np.int64), parent[POS].to_numpy(dtype=np.int64)
    mine = parent_stale[parent_stale["pos"].isin(ppos)]
    local = mine.assign(pos=pd.Series(np.arange(len(ppos)), index=ppos)
                        .loc[mine["pos"].to_numpy()].to_numpy())
    return _to_table_pos(copies._stale_children(ref, child.drop(columns=[POS]),
                                                parent.drop(columns=[POS]), local), cpos)


def _resolve_copies_task(name: str, part: pd.DataFrame) -> pd.DataFrame:
    """schemas/copies.resolve_key_copies on one co-partition of the rows of repeated keys."""
    from schemas import copies

    part = _local(part)
    pos = part[POS].to_numpy(dtype=np.int64)
    return _to_table_pos(copies.resolve_key_copies(name, part.drop(columns=[POS]),
                                                   np.zeros(len(part), dtype=bool)), pos)


def _stale_copies(ctx: Context) -> dict[str, pd.DataFrame]:
    """schemas/copies.stale_copies, parents first: repeated keys found on co-partitions of the
    key (only the key columns travel), then the local rule on co-partitions of the whole rows
    of those keys; nested children of stale parent rows found on co-partitions of the
    reference key (children with the stale parent rows)."""
    from schemas.model import TABLES
    from schemas.relations import REFERENCES, no_failures

    out: dict[str, pd.DataFrame] = {}
    for level in _levels():
        found: dict[str, list] = {name: [] for name in level}
        nested_tasks, scattered = [], []
        for name in level:
            for ref in (r for r in REFERENCES if r.table == name and r.nested):
                parent_stale = out[ref.parent]
                if not ctx.sizes[name] or not len(parent_stale):
                    continue
                parent = ctx.frames[ref.parent]
                cols = [POS, ref.parent_column, "source_file", "source_pos"]
                stale_rows = parent[parent[POS].isin(parent_stale["pos"].to_numpy())][cols]
                child = ctx.frames[name][[POS, ref.column, "source_file", "source_pos"]]
                nparts = max(ctx.nparts[name], ctx.nparts[ref.parent])
                child_parts, parent_parts = co_partitions(
                    [(child, ref.column), (stale_rows, ref.parent_column)], nparts)
                stale_future = ctx.client.scatter(parent_stale, broadcast=True)
                scattered.append(stale_future)
                task = pure_task(_stale_children_task)
                nested_tasks += [(name, task(ref, c, p, stale_future))
                                 for c, p in zip(child_parts, parent_parts)]
        for (name, _), f in zip(nested_tasks, ctx.gather([t for _, t in nested_tasks])):
            found[name].append(f)
        for fut in scattered:
            fut.release()
        repeat_tasks = []
        for name in level:
            gone = np.unique(np.concatenate(
                [f["pos"].to_numpy(dtype=np.int64) for f in found[name]]
                or [np.zeros(0, np.int64)]))
            keyed_by_nested = any(r.column in TABLES[name].key for r in REFERENCES
                                  if r.table == name and r.nested)
            if ctx.sizes[name] - len(gone) >= 2 and not keyed_by_nested:
                key = list(TABLES[name].key)
                (shuffled,) = co_partitions([(ctx.frames[name][[POS, *key]], key[0])],
                                            ctx.nparts[name])
                task = pure_task(_repeated_keys_task)
                repeat_tasks += [(name, task(key, p, gone)) for p in shuffled]
        repeated: dict[str, list] = {}
        for (name, _), pos in zip(repeat_tasks, ctx.gather([t for _, t in repeat_tasks])):
            repeated.setdefault(name, []).append(pos)
        resolve_tasks = []
        for name, arrays in repeated.items():
            pos = np.concatenate(arrays)
            if not len(pos):
                continue
            # the copies' whole rows, co-partitioned on the key: the local rule keeps the
            # newest of each key
            frame = ctx.frames[name]
            (shuffled,) = co_partitions([(frame[frame[POS].isin(pos)], TABLES[name].key[0])],
                                        ctx.nparts[name])
            task = pure_task(_resolve_copies_task)
            resolve_tasks += [(name, task(name, p)) for p in shuffled]
        for (name, _), f in zip(resolve_tasks, ctx.gather([t for _, t in resolve_tasks])):
            found[name].append(f)
        for name in level:
            parts = [f for f in found[name] if len(f)]
            out[name] = pd.concat(parts, ignore_index=True) if parts else no_failures()
    return out


# --- single-table checks ---------------------------------------------------------------------------


def _rows_task(name: str, part: pd.DataFrame):
    part = _local(part)
    pos = part[POS].to_numpy(dtype=np.int64)
    df = part.drop(columns=[POS])
    f = single_table_failures(name, df, row_schema(name))
    return _to_table_pos(f, pos), warning_hits(name, df, pos)


def _group_task(name: str, number: int, part: pd.DataFrame) -> pd.DataFrame:
    part = _local(part)
    pos = part[POS].to_numpy(dtype=np.int64)
    chk = group_checks(name)[number][0]
    return _to_table_pos(group_check_failures(part.drop(columns=[POS]), chk), pos)


def _single_table(ctx: Context, work: dict):
    """Per table: the pandera failures (row checks per partition, row-comparing checks on
    co-partitions of their key) and the warning hits of each partition."""
    from schemas.model import empty_frame
    from schemas.relations import no_failures

    row_tasks, group_tasks = {}, {}
    for name, frame in work.items():
        if not ctx.sizes[name]:
            continue
        row_tasks[name] = [pure_task(_rows_task)(name, p) for p in frame.to_delayed()]
        for number, (_, column, reads) in enumerate(group_checks(name)):
            (shuffled,) = co_partitions([(frame[[POS, *reads]], column)], ctx.nparts[name])
            group_tasks[(name, number)] = [pure_task(_group_task)(name, number, p)
                                           for p in shuffled]
    flat = [t for ts in row_tasks.values() for t in ts] + [t for ts in group_tasks.values()
                                                           for t in ts]
    results = iter(ctx.gather(flat))
    single, hits = {}, {}
    for name, ts in row_tasks.items():
        got = [next(results) for _ in ts]
        single[name] = [f for f, _ in got]
        hits[name] = [h for _, h in got]
    for (name, _), ts in group_tasks.items():
        single[name] += [next(results) for _ in ts]
    for name in work:
        parts = [f for f in single.get(name, []) if len(f)]
        single[name] = pd.concat(parts, ignore_index=True) if parts else no_failures()
        if name not in hits:  # an empty table: its (empty) hits, as the local engine has them
            hits[name] = [warning_hits(name, empty_frame(name))]
    return single, hits


# --- references, cascade and cross-table checks ----------------------------------------------------


def _reference_task(ref, child: pd.DataFrame, parent: pd.DataFrame, parent_bad: pd.Series,
                    carry: list[str]):
    """schemas/relations.check_reference on one co-partition; also, for child rows whose parent
    stays valid, the `carry` columns of that parent (for the cross-table checks)."""
    from schemas import relations

    child, parent = _local(child), _local(parent)
    cpos, ppos = child[POS].to_numpy(dtype=np.int64), parent[POS].to_numpy(dtype=np.int64)
    # The cascade: the parent rows of this partition that are quarantined, with their checks.
    checks = parent_bad.reindex(ppos)
    local_bad = pd.Series(checks.to_numpy(), index=np.arange(len(parent))).dropna()
    f, vpos = relations.check_reference(ref, child.drop(columns=[POS]),
                                        parent.drop(columns=[POS]), local_bad)
    links = None
    if carry:
        ok = np.flatnonzero(vpos >= 0)
        links = pd.DataFrame({POS: cpos[ok]})
        for col in carry:
            links[_carried(ref.column, col)] = parent[col].iloc[vpos[ok]].to_numpy()
            links[_carried(ref.column, col)] = links[_carried(ref.column, col)].astype(
                parent[col].dtype)
    return _to_table_pos(f, cpos), links


def _carried(via: str, col: str) -> str:
    return f"_{via}.{col}"


def _cross_task(part: pd.DataFrame, codes: list[str], vias: tuple[str, ...],
                carry: dict[str, list[str]], child_columns: list[str]) -> pd.DataFrame:
    """The cross-table checks `codes` (all via `vias`) on rows joined with their parents."""
    from schemas.relations import CROSS_CHECKS, failures, no_failures

    if len(part) == 0:
        return no_failures()
    part = part.sort_values(POS, kind="stable").reset_index(drop=True)
    pos = part[POS].to_numpy(dtype=np.int64)
    rows = part[child_columns]
    parents = {via: (pd.DataFrame({c: part[_carried(via, c)] for c in carry[via]}),
                     np.arange(len(part))) for via in vias}
    out = []
    for cc in (c for c in CROSS_CHECKS if c.code in codes):
        bad, msg = cc.fn(rows, parents)
        i = np.flatnonzero(bad)
        if len(i):
            out.append(failures(pos[i], cc.code, msg(i)))
    return pd.concat(out, ignore_index=True) if out else no_failures()


def _references_and_cross_checks(ctx: Context, names: list[str], work: dict,
                                 bad: dict[str, pd.Series]) -> dict[str, list[pd.DataFrame]]:
    """Failures of the references and cross-table checks of `names` (whose parents are final),
    per table: one round of reference tasks, then one of cross-table checks."""
    import dask.dataframe as dd

    from schemas.model import TABLES
    from schemas.relations import CROSS_CHECKS, REFERENCES

    out: dict[str, list[pd.DataFrame]] = {name: [] for name in names}
    carry: dict[tuple[str, str], list[str]] = {}
    submitted = []  # (table, column, futures of (failures, links) per co-partition)
    scattered = {}
    for name in names:
        vias_needed = {v for c in CROSS_CHECKS if c.table == name for v in c.via}
        for ref in (r for r in REFERENCES if r.table == name):
            if ref.only_if_parent_present and ctx.sizes[ref.parent] == 0:
                continue
            cols = CROSS_PARENT_COLUMNS[ref.parent] if ref.column in vias_needed else []
            carry[(name, ref.column)] = cols
            child = work[name][[POS, ref.column, "source_file", "source_pos"]]
            parent = work[ref.parent][list(dict.fromkeys(
                [POS, ref.parent_column, "source_file", "source_pos", *cols]))]
            nparts = max(ctx.nparts[name], ctx.nparts[ref.parent])
            child_parts, parent_parts = co_partitions(
                [(child, ref.column), (parent, ref.parent_column)], nparts)
            if ref.parent not in scattered:
                scattered[ref.parent] = ctx.client.scatter(bad[ref.parent], broadcast=True)
            task = pure_task(_reference_task)
            futures = ctx.client.compute([task(ref, c, p, scattered[ref.parent], cols)
                                          for c, p in zip(child_parts, parent_parts)])
            submitted.append((name, ref.column, futures))
    firsts = [[ctx.client.submit(operator.itemgetter(0), f, pure=False) for f in futs]
              for _, _, futs in submitted]
    gathered = ctx.client.gather(firsts)
    links: dict[tuple[str, str], list] = {}
    for (name, column, futs), fails in zip(submitted, gathered):
        out[name] += [f for f in fails if len(f)]
        if carry[(name, column)]:
            links[(name, column)] = [ctx.client.submit(operator.itemgetter(1), f, pure=False)
                                     for f in futs]

    tasks = []
    for name in names:
        groups: dict[tuple[str, ...], list[str]] = {}
        for cc in (c for c in CROSS_CHECKS if c.table == name):
            if all((name, v) in links for v in cc.via):
                groups.setdefault(cc.via, []).append(cc.code)
        child_columns = CROSS_CHILD_COLUMNS.get(name, TABLES[name].column_names)
        for vias, codes in groups.items():
            joined = work[name][child_columns + [POS]]
            for via in vias:
                meta = pd.DataFrame({POS: pd.Series([], dtype="int64")})
                for col in carry[(name, via)]:
                    meta[_carried(via, col)] = pd.Series(
                        [], dtype=work[_parent_of(name, via)][col].dtype)
                frame = dd.from_delayed(links[(name, via)], meta=meta, verify_meta=False)
                joined = joined.merge(frame, on=POS, how="inner")
            task = pure_task(_cross_task)
            carried = {via: carry[(name, via)] for via in vias}
            tasks += [(name, task(p, codes, vias, carried, child_columns))
                      for p in joined.to_delayed()]
    for (name, _), f in zip(tasks, ctx.gather([t for _, t in tasks])):
        if len(f):
            out[name].append(f)
    for futs in [*firsts, *links.values(), *(f for _, _, f in submitted)]:
        for fut in futs:
            fut.release()
    for fut in scattered.values():
        fut.release()
    return out


def _parent_of(table: str, column: str) -> str:
    from schemas.relations import REFERENCES

    return next(r.parent for r in REFERENCES if r.table == table and r.column == column)
