"""The port requests of a range of ports as NDJSON text, built a column at a time with Arrow's
string kernels instead of a dict per port: the same bytes as encoding each port's request
tuple (ports.port_bodies, security.port_groups_value, stream._encode: the reference, which
the tests compare with, and the path taken for columns of another type than string/boolean).
Ports are ~80% of a stream's requests; building them row by row was the bulk of the export's
Alcor time (measured in benchmarks/README.md, "Export")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.export.alcor.accepts import MAC, VIF_TYPES, VIF_UNBOUND, VNIC_ALIASES, VNIC_TYPES, Counts
from pipeline.export.alcor.fields import FIELDS, _json_value, _p, default_sg_var, placeholder, row_order
from pipeline.export.alcor.security import NO_CAPTURE, NOT_EXPORTED, port_groups_value
from pipeline.export.wire import dumps

# MAC as RE2 reads it: `$` is the end of the text only, so a match here is a match of
# accepts.MAC (whose `$` also allows a final newline); the rest are decided by MAC itself
_MAC_RE2 = r"^[0-9A-Fa-f]{2}(?:[-,:][0-9A-Fa-f]{2}){5}$"
_NULL = pa.scalar(None, pa.string())


@dataclass
class Encoded:
    """Ready NDJSON lines (each ending in a newline) of `requests` requests."""

    data: bytes
    requests: int

    def lines(self) -> list[bytes]:
        return self.data.split(b"\n")[:-1]


def port_table(ports: pd.DataFrame) -> pa.Table | None:
    """The columns that port bodies are made of, as Arrow (frame row order), or None when one
    is of a type only the reference path handles (canonical tables are string and boolean)."""
    columns = list(dict.fromkeys(c for c, _, _ in FIELDS["ports"]))
    if any(c not in ports.columns for c in columns):
        return None
    arrays = {}
    for c in columns:
        try:  # nulls as the reference reads them (NaN, None, NA: missing)
            values = pa.array(ports[c], from_pandas=True)
            if pa.types.is_null(values.type):
                values = values.cast(pa.string())
            if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
                    or pa.types.is_boolean(values.type)):
                return None
            arrays[c] = _whole(values).cast(pa.bool_() if pa.types.is_boolean(values.type) else pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None  # mixed Python objects, or text past 32-bit offsets
    return pa.table(arrays)


@dataclass
class GroupPieces:
    """Every port's security_groups piece (id-order position), as port_groups_value gives it,
    and per port the groups it leaves out, per reason."""

    pieces: pa.Array  # ',"security_groups":[...]' or null (key left out)
    no_capture: np.ndarray
    not_exported: np.ndarray

    def take(self, rows: list, counts: Counts) -> pa.Array:
        counts.out(NO_CAPTURE, int(self.no_capture[rows].sum()))
        counts.out(NOT_EXPORTED, int(self.not_exported[rows].sum()))
        return self.pieces.take(pa.array(rows, pa.int64()))


@dataclass
class GroupRows:
    """The (port, group) rows of the ports in the stream, in (port id, group id) order."""

    ports: int  # ports in the stream (id-order positions)
    position: np.ndarray  # per row: its port's position
    group_ids: pa.Array
    projects: pa.Array  # per row: its port's project
    rows: np.ndarray  # per port: its rows

    def defaults(self, defaults: dict) -> tuple[np.ndarray, pa.Array, np.ndarray]:
        """Per row: whether the group is a default one, that group's project (null when not),
        whether it is the default of the port's own project (None equal to None, as in Python)."""
        ids = pa.array(list(defaults), pa.string())
        is_default = pc.is_in(self.group_ids, value_set=ids)
        default_of = pa.array(list(defaults.values()), pa.string()).take(
            pc.index_in(self.group_ids, value_set=ids))
        same = pc.or_kleene(pc.equal(default_of, self.projects),
                            pc.and_(pc.is_null(default_of), pc.is_null(self.projects)))
        return _np(is_default), default_of, _np(pc.and_kleene(is_default, pc.fill_null(same, False)))

    def per_port(self, mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.position[mask], minlength=self.ports)


def group_rows(screened, links) -> GroupRows | None:
    """GroupRows, or None where the data leaves the column-wise way (ids or projects not text,
    ids not unique)."""
    try:
        ids = pa.array(screened.ids, pa.string())
        projects = pa.array(screened.projects, pa.string())
        order = row_order(links, ("port_id", "security_group_id")) if len(links) else None
        port_ids = _whole(pa.array(links["port_id"], pa.string()))
        group_ids = _whole(pa.array(links["security_group_id"], pa.string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError):
        return None
    if ids.null_count or group_ids.null_count or _repeats(ids):
        return None
    if order is not None:
        port_ids, group_ids = port_ids.take(order), group_ids.take(order)
    position = pc.index_in(port_ids, value_set=ids)  # null: a port not in the table
    group_ids = group_ids.filter(pc.is_valid(position))
    position = position.filter(pc.is_valid(position)).to_numpy().astype(np.int64)
    return GroupRows(len(ids), position, group_ids, projects.take(pa.array(position)),
                     np.bincount(position, minlength=len(ids)))


def probe_candidates(rows: GroupRows, kept: np.ndarray, projects: list, defaults: dict) -> tuple:
    """security._default_sg_probes's three findings over the rows at once: the projects whose
    default group a kept port names beside other groups or from another project, and per
    project the first kept port whose only group is its default, and the first without groups."""
    is_default, default_of, own = rows.defaults(defaults)
    referenced = is_default & kept[rows.position] & ((rows.rows[rows.position] > 1) | ~own)
    needed = set(default_of.filter(pa.array(referenced)).to_pylist())
    firsts = []
    for ports in (kept & (rows.rows == 1) & (rows.per_port(own) == 1), kept & (rows.rows == 0)):
        first: dict = {}
        for position in np.flatnonzero(ports).tolist():
            first.setdefault(projects[position], position)
        firsts.append(first)
    return needed, firsts[0], firsts[1]


def group_pieces(plan) -> GroupPieces | None:
    """GroupPieces from the (port, group) rows at once, or None where the data leaves the
    column-wise way (no GroupRows, a group listed twice for a port)."""
    rows = plan.group_rows
    if rows is None:
        return None
    try:
        captured = sorted(plan.captured, key=str)
        captured_pieces = pa.array([orjson.dumps(placeholder(default_sg_var(p))).decode() for p in captured],
                                   pa.string())
        captured = pa.array(captured, pa.string())
        posted = pa.array(list(plan.posted), pa.string())
        is_default, default_of, own = rows.defaults(plan.defaults)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    is_captured = is_default & _np(pc.fill_null(pc.is_in(default_of, value_set=captured), False))
    is_posted = ~is_default & _np(pc.is_in(rows.group_ids, value_set=posted))
    sent = pc.if_else(pa.array(is_captured), captured_pieces.take(pc.index_in(default_of, value_set=captured)),
                      pc.if_else(pa.array(is_posted), _strings(rows.group_ids, None), _NULL))

    all_own = (rows.rows > 0) & (rows.per_port(own) == rows.rows)  # Alcor binds its own default
    counted = ~all_own[rows.position]
    no_capture = rows.per_port(is_default & ~is_captured) * ~all_own
    not_exported = rows.per_port(~is_default & ~is_posted)  # never a port of own defaults only
    listed = counted & _np(pc.is_valid(sent))
    values, at = sent.filter(pa.array(listed)), rows.position[listed]
    codes = pc.dictionary_encode(values).indices.to_numpy().astype(np.int64)
    if len(np.unique(at * (int(codes.max(initial=0)) + 1) + codes)) != len(at):
        return None  # a value twice for a port: dict.fromkeys would drop one
    offsets = np.concatenate([[0], np.cumsum(np.bincount(at, minlength=rows.ports))]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), values)
    pieces = pc.binary_join_element_wise(',"security_groups":[', pc.binary_join(lists, ","), "]", "")
    return GroupPieces(pc.if_else(pa.array(all_own), _NULL, pieces), no_capture, not_exported)


def port_lines(table: pa.Table, plan, positions: range, phase: int, counts: Counts,
               groups: GroupPieces | None = None) -> Encoded:
    """The port requests of the kept ports at `positions` (id order), capture probes left out
    (their step posts them), with the bindings fixed and counted as port_bodies does (probes
    included, as there) and the security groups as port_groups_value gives them."""
    screened = plan.screened
    rows = [i for i in positions if screened.kept[i] is not None]
    if not rows:
        return Encoded(b"", 0)
    taken = table.take(screened.order[rows])
    cols = {c: _whole(taken.column(c)) for c in taken.column_names}
    cols.update(_binding(cols, plan.node_names, counts))
    keep = [i not in plan.probe_at for i in rows]
    if not all(keep):
        mask = pa.array(keep)
        cols = {c: values.filter(mask) for c, values in cols.items()}
        rows = [i for i, k in zip(rows, keep) if k]
    if not rows:
        return Encoded(b"", 0)

    pieces = {}
    for column, key, is_json in FIELDS["ports"]:
        values = cols[column]
        if is_json:
            pieces[key] = _json_texts(values, key)
        elif pa.types.is_boolean(values.type):
            pieces[key] = pc.if_else(values, f',"{key}":true', f',"{key}":false')
        else:
            pieces[key] = _strings(values, key)
    pieces["fixed_ips"] = pa.array([',"fixed_ips":' + dumps(screened.kept[i]).decode()
                                    if screened.kept[i] else None for i in rows], pa.string())
    pieces["security_groups"] = groups.take(rows, counts) if groups else _groups(plan, rows, counts)
    body = pc.binary_join_element_wise(*(pc.fill_null(pieces[k], "") for k in sorted(pieces)), "")
    paths = pa.array([f'"/project/{_p(screened.projects[i])}/ports"' for i in rows], pa.string())
    lines = pc.binary_join_element_wise(
        '{"body":{"port":{', pc.utf8_slice_codeunits(body, 1), '}},"method":"POST","path":', paths,
        f',"phase":{phase},"resource":"port","service":"port_manager"}}\n', "")
    return Encoded(_text(lines), len(rows))


def _binding(cols: dict, node_names: set, counts: Counts) -> dict:
    """{column: values as sent} for the binding and MAC columns, changed and counted as
    ports._port_binding does per port."""
    host = cols["binding_host_id"]
    known = pa.array([n for n in node_names if isinstance(n, str)], pa.string())
    unknown = pc.and_kleene(pc.is_valid(host), pc.invert(pc.is_in(host, value_set=known)))
    empty = pc.and_kleene(unknown, pc.equal(host, ""))
    counts.change("empty binding:host_id omitted: unbound port (R-NODE-UNBOUND)", _count(empty))
    counts.change("binding:host_id naming no registered node omitted (R-NODE-NAME)",
                  _count(unknown) - _count(empty))

    vif = cols["binding_vif_type"]
    bad_vif = pc.and_kleene(pc.is_valid(vif), pc.invert(pc.is_in(vif, value_set=pa.array(sorted(VIF_TYPES)))))
    for value, n in _value_counts(vif, bad_vif):
        counts.change(f"vif_type {value!r} omitted: Alcor's default applies (A4)" if value in VIF_UNBOUND
                      else f"vif_type {value!r} sent as 'other' (A4)", n)
    unbound = pc.is_in(vif, value_set=pa.array(sorted(VIF_UNBOUND)))

    vnic = cols["binding_vnic_type"]
    bad_vnic = pc.and_kleene(pc.is_valid(vnic), pc.invert(pc.is_in(vnic, value_set=pa.array(sorted(VNIC_TYPES)))))
    vnic_sent = pc.if_else(bad_vnic, _NULL, vnic)
    for value, n in _value_counts(vnic, bad_vnic):
        if value in VNIC_ALIASES:
            counts.change(f"vnic_type {value!r} sent as {VNIC_ALIASES[value]!r}", n)
            vnic_sent = pc.if_else(pc.equal(vnic, value), VNIC_ALIASES[value], vnic_sent)
        else:
            counts.change(f"vnic_type {value!r} not an Alcor value: omitted", n)

    mac = cols["mac_address"]
    unsure = pc.and_kleene(pc.is_valid(mac), pc.invert(pc.match_substring_regex(mac, _MAC_RE2)))
    bad_mac = np.zeros(len(mac), dtype=bool)
    for i in np.flatnonzero(unsure.to_numpy(zero_copy_only=False)):
        bad_mac[i] = not MAC.match(mac[int(i)].as_py())
    counts.change("port mac_address malformed: left to Alcor", int(bad_mac.sum()))

    return {"binding_host_id": pc.if_else(unknown, _NULL, host),
            "binding_vif_type": pc.if_else(unbound, _NULL, pc.if_else(bad_vif, "other", vif)),
            "binding_vnic_type": vnic_sent,
            "mac_address": pc.if_else(pa.array(bad_mac), _NULL, mac)}


def _groups(plan, rows: list, counts: Counts) -> pa.Array:
    """The security_groups pieces one port at a time (where group_pieces cannot)."""
    screened, out = plan.screened, []
    for i in rows:
        value = port_groups_value(plan.port_groups.get(screened.ids[i], []), screened.projects[i],
                                  plan.defaults, plan.posted, plan.captured, counts)
        out.append(None if value is None else ',"security_groups":' + dumps(value).decode())
    return pa.array(out, pa.string())


def _strings(values: pa.Array, key: str | None) -> pa.Array:
    """',"key":"value"' per row (without a key: '"value"'), null for null; JSON-escaped by
    orjson where needed."""
    head = f',"{key}":' if key else ""
    if _may_need_escapes(values):
        return pa.array([None if v is None else head + orjson.dumps(v).decode()
                         for v in values.to_pylist()], pa.string())
    return pc.binary_join_element_wise(head + '"', values, '"', "")


def _json_texts(values: pa.Array, key: str) -> pa.Array:
    """A column of JSON texts sent as the values they hold (fields._json_value), once per
    distinct text; null where the text is null or holds null."""
    coded = pc.dictionary_encode(values)
    pieces = [None if (v := _json_value(text)) is None else f',"{key}":' + dumps(v).decode()
              for text in coded.dictionary.to_pylist()]
    return pa.array(pieces, pa.string()).take(coded.indices)


def _may_need_escapes(values: pa.Array) -> bool:
    """Whether a byte of the array's data buffer is one orjson escapes in a string (", \\ or
    a C0 control); the whole buffer is scanned, so a false alarm only costs the slow path."""
    data = values.buffers()[2]
    if data is None:
        return False
    octets = np.frombuffer(data, dtype=np.uint8)
    return bool(((octets < 0x20) | (octets == 0x22) | (octets == 0x5C)).any())


def _value_counts(values: pa.Array, mask: pa.Array) -> list:
    """(value, rows) of `values` where `mask`, in order of value."""
    counted = pc.value_counts(values.filter(mask)).to_pylist()
    return sorted((c["values"], c["counts"]) for c in counted)


def _count(mask: pa.Array) -> int:
    return int(pc.sum(mask).as_py() or 0)


def _repeats(ids: pa.Array) -> bool:
    """Whether a value repeats in `ids`, which are sorted (equal ones are neighbours)."""
    return len(ids) > 1 and bool(pc.any(pc.equal(ids.slice(1), ids.slice(0, len(ids) - 1))).as_py())


def _np(mask: pa.Array) -> np.ndarray:
    """A boolean array without nulls as numpy."""
    return _whole(mask).to_numpy(zero_copy_only=False).astype(bool)


def _whole(values) -> pa.Array:
    """One contiguous array (kernels then return arrays, not chunked arrays)."""
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _text(lines: pa.Array) -> bytes:
    """The bytes of a string array's values, back to back (no nulls here)."""
    lines = _whole(lines)
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    start, stop = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    return lines.buffers()[2].slice(start, stop - start).to_pybytes()
