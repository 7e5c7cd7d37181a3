"""Columns of one table under construction (Rows): type coercion with per-row errors, the
raw value kept in `extra`, source keys that disagree, MAC spellings; and the arrow schemas.

How it stays fast on millions of objects: the decoded dicts are turned into columns with one
list comprehension per field; a column whose values all have the right Python type goes to
arrow in one call, and only columns that fail that test are coerced value by value."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from schemas import model
from pipeline.ingest.redact import dumps, redact, show
from pipeline.ingest.sources.neutron import JSON_COLUMNS, LOWER_COLUMNS
from pipeline.ingest.sources.openstack_cli import split_words


_NONE = type(None)
_BAD = object()
_INT_RE = re.compile(r"[+-]?\d+")
_TRUE = frozenset({"true", "yes", "y", "on", "t", "1"})
_FALSE = frozenset({"false", "no", "n", "off", "f", "0"})
# OSC list output spells some booleans as words.
_BOOL_WORDS = {"admin_state_up": {"up": True, "down": False},
               "router_external": {"external": True, "internal": False}}
_TYPE_WORD = {model.STR: "string", model.INT: "integer", model.BOOL: "boolean", model.FLOAT: "number"}
_ARROW = {model.STR: pa.string(), model.INT: pa.int64(), model.BOOL: pa.bool_(),
          model.FLOAT: pa.float64()}
_I64 = (-(2 ** 63), 2 ** 63 - 1)


def _to_int(v):
    t = type(v)
    if t is int:
        return v if _I64[0] <= v <= _I64[1] else _BAD
    if t is float:
        return int(v) if v.is_integer() and _I64[0] <= v <= _I64[1] else _BAD
    if t is str:
        s = v.strip()
        if not s:
            return None
        if _INT_RE.fullmatch(s):
            i = int(s)
            return i if _I64[0] <= i <= _I64[1] else _BAD
    return _BAD


def _to_float(v):
    t = type(v)
    if t is int or t is float:
        return float(v)
    if t is str:
        s = v.strip()
        if not s:
            return None
        try:
            return float(s)
        except ValueError:
            return _BAD
    return _BAD


def _to_bool(v, words):
    t = type(v)
    if t is bool:
        return v
    if t is int and v in (0, 1):
        return bool(v)
    if t is str:
        s = v.strip().lower()
        if not s:
            return None
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        if words and s in words:
            return words[s]
    return _BAD


def _to_str(v):
    t = type(v)
    if t is int or t is float:
        return dumps(v)
    return _BAD  # bool, list, dict


class Rows:
    """Columns of one table under construction, with per-row errors and extras."""

    def __init__(self, table: str, n: int, poss: list, source_file: str):
        self.table = table
        self.n = n
        self.poss = poss
        self.source_file = source_file
        self.cols: dict[str, list] = {}
        self.errs: dict[int, list[str]] = {}
        self.extras: list | None = None
        self.bad_cells: set[tuple[str, int]] = set()
        self.redacted: dict[str, int] = {}  # secret-like key -> values redacted
        # project_id vs tenant_id disagreements: their own check in validation, and written
        # after every other error of the row (schemas.checks relies on that order)
        self.conflicts: dict[int, str] = {}

    def error(self, i: int, msg: str) -> None:
        self.errs.setdefault(i, []).append(msg)

    def extra(self, i: int) -> dict:
        if self.extras is None:
            self.extras = [None] * self.n
        e = self.extras[i]
        if e is None:
            e = self.extras[i] = {}
        return e

    def bad(self, i: int, col: str, raw, problem: str) -> None:
        """A value that could not be used: null in the column, raw kept in extra."""
        self.error(i, f"{col}: {problem}, got {show(raw)}")
        self.bad_cells.add((col, i))
        if model.TABLES[self.table].has_extra:
            self.extra(i)[col] = raw

    def coerce(self, col: str, vals: list, dtype: str) -> list:
        if col in JSON_COLUMNS:
            if col == "prefixes":  # OSC may print a pool's prefixes as one string
                vals = [split_words(v) if type(v) is str else v for v in vals]
            red = self.redacted
            return [None if v is None else dumps(redact(v, red)) for v in vals]
        types = set(map(type, vals))
        types.discard(_NONE)
        if dtype == model.STR:
            if types <= {str}:
                return vals
            conv = _to_str
        elif dtype == model.INT:
            if types <= {int}:
                lo = min((v for v in vals if v is not None), default=0)
                hi = max((v for v in vals if v is not None), default=0)
                if _I64[0] <= lo and hi <= _I64[1]:
                    return vals
            conv = _to_int
        elif dtype == model.BOOL:
            if types <= {bool}:
                return vals
            words = _BOOL_WORDS.get(col)
            conv = lambda v: _to_bool(v, words)  # noqa: E731
        else:
            if types <= {float}:
                return vals
            conv = _to_float
        out = list(vals)
        want = _TYPE_WORD[dtype]
        for i, v in enumerate(vals):
            if v is None:
                continue
            if dtype == model.STR and type(v) is str:
                continue
            c = conv(v)
            if c is _BAD:
                out[i] = None
                self.bad(i, col, v, f"expected {want}")
            else:
                out[i] = c
        return out

    def pick(self, recs: list, keys: set, col: str, sources: tuple) -> list | None:
        """Values of `col` from the first present source key, filling gaps from the others."""
        present = [s for s in sources if s in keys]
        if not present:
            return None
        first = [r.get(present[0]) for r in recs]
        for s in present[1:]:
            other = [r.get(s) for r in recs]
            if other == first:
                continue
            same = _same_mac if col in LOWER_COLUMNS else None
            for i, (a, b) in enumerate(zip(first, other)):
                if b is None or a == b or (same is not None and same(a, b)):
                    continue
                if a is None:
                    first[i] = b
                    continue
                msg = f"{col}: '{present[0]}' is {show(a)} but '{s}' is {show(b)}"
                if msg.startswith(model.PROJECT_TENANT_CONFLICT):
                    self.conflicts[i] = msg
                else:
                    self.error(i, msg)
                if model.TABLES[self.table].has_extra:
                    self.extra(i)[s] = b
        return first

    def to_arrow(self) -> pa.Table:
        t = model.TABLES[self.table]
        arrays = []
        for c in t.columns:
            name = c.name
            if name == "source_file":
                arrays.append(pa.array([self.source_file] * self.n, pa.string()))
            elif name == "source_pos":
                arrays.append(pa.array(self.poss, pa.int64()))
            elif name == "ingest_errors":
                errs = [None] * self.n
                for i, m in self.errs.items():
                    errs[i] = "; ".join(m)
                for i, m in self.conflicts.items():
                    errs[i] = m if errs[i] is None else f"{errs[i]}; {m}"
                arrays.append(pa.array(errs, pa.string()))
            elif name == "extra":
                ex, red = self.extras, self.redacted
                arrays.append(pa.nulls(self.n, pa.string()) if ex is None else
                              pa.array([dumps(redact(e, red)) if e else None for e in ex], pa.string()))
            else:
                vals = self.cols.get(name)
                if vals is None:
                    arrays.append(pa.nulls(self.n, _ARROW[c.dtype]))
                    continue
                arr = pa.array(vals, _ARROW[c.dtype])
                if name in LOWER_COLUMNS:
                    arr = _normalise_macs(arr)
                arrays.append(arr)
        return pa.Table.from_arrays(arrays, schema=SCHEMAS[self.table])


_MAC_COLON = r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$"
_HEX2 = "([0-9a-f]{2})"
# Other spellings netaddr (so Neutron) accepts: 00-aa-bb-cc-dd-ee, 00aa.bbcc.ddee, 00aabbccddee
_MAC_FORMS = ("^" + "-".join([_HEX2] * 6) + "$",
              "^" + r"\.".join([_HEX2 * 2] * 3) + "$",
              "^" + _HEX2 * 6 + "$")


def _normalise_macs(arr: pa.Array) -> pa.Array:
    """MACs compare case-insensitively and Neutron accepts several separators: lower case,
    ':'-separated (the other spellings are rewritten; anything else is left for validation)."""
    arr = pc.utf8_lower(arr)
    if pc.all(pc.match_substring_regex(arr, _MAC_COLON), skip_nulls=True).as_py() is not False:
        return arr
    for form in _MAC_FORMS:
        arr = pc.replace_substring_regex(arr, form, r"\1:\2:\3:\4:\5:\6")
    return arr


def _same_mac(a, b) -> bool:
    """Two spellings of one MAC (case, ':' / '-' / '.' separators) are not a conflict."""
    if type(a) is not str or type(b) is not str:
        return False
    return _MAC_SEPARATORS.sub("", a.lower()) == _MAC_SEPARATORS.sub("", b.lower())


_MAC_SEPARATORS = re.compile(r"[:.\-]")


SCHEMAS = {name: pa.schema([(c.name, _ARROW[c.dtype]) for c in t.columns])
           for name, t in model.TABLES.items()}
