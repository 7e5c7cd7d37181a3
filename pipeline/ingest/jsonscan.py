"""Bounded-memory scan of a big JSON document's structure, for cutting it into chunks.

chunks.plan_chunks normally lets msgspec decode the document into a list of `Raw` slices:
one validating pass at C speed, but ~50 bytes of memory per item, so an array of a billion tiny
objects (`[{},{},...]`) would need tens of GB. When items are that small, this scanner finds
the same item boundaries with numpy, one block at a time: memory grows with the block, not the
file. It does not validate JSON: each chunk is parsed (and validated) by a worker afterwards,
and anything the scanner cannot place (garbage between values, several documents) makes it
give up, so that the caller parses the file whole and words the error precisely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK = 1 << 20

_QUOTE, _BACKSLASH = 34, 92
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")
_STRUCT = np.zeros(256, dtype=bool)
_STRUCT[list(b"[]{},:")] = True
_DELTA = np.zeros(256, dtype=np.int8)
_DELTA[list(b"[{")] = 1
_DELTA[list(b"]}")] = -1


def structure(buf, max_depth: int, block: int = BLOCK):
    """Structural bytes ([ ] { } , :) outside strings whose depth after them is <= max_depth
    (closing a deeper container included), in file order, as arrays (offsets, bytes, depths
    after them) per block. Memory: a few arrays of the block's size."""
    n = len(buf)
    in_string = False
    depth = 0
    trailing_backslashes = 0  # run of backslashes ending the previous block
    for start in range(0, n, block):
        arr = np.frombuffer(buf, np.uint8, count=min(block, n - start), offset=start)
        quotes = np.flatnonzero(arr == _QUOTE)
        if len(quotes):
            quotes = quotes[~_escaped(arr, quotes, trailing_backslashes)]
        struct = np.flatnonzero(_STRUCT[arr])
        if len(struct):
            # a structural byte is inside a string when an odd number of quotes precede it
            before = np.searchsorted(quotes, struct) + int(in_string)
            struct = struct[before % 2 == 0]
            chars = arr[struct]
            after = depth + np.cumsum(_DELTA[chars], dtype=np.int64)
            keep = after <= max_depth
            yield struct[keep] + start, chars[keep], after[keep]
            if len(after):
                depth = int(after[-1])
            if depth < 0:
                return  # unbalanced: not a document the scanner can cut
        in_string = bool((len(quotes) + int(in_string)) % 2)
        trailing_backslashes = _trailing_run(arr, trailing_backslashes)


def _escaped(arr: np.ndarray, quotes: np.ndarray, carry: int) -> np.ndarray:
    """Quotes preceded by an odd run of backslashes (the run may start in the previous block)."""
    prev = quotes - 1
    cand = np.zeros(len(quotes), dtype=bool)
    ok = prev >= 0
    cand[ok] = arr[prev[ok]] == _BACKSLASH
    cand[~ok] = carry > 0
    if not cand.any():
        return cand
    idx = np.arange(len(arr))
    last_other = np.maximum.accumulate(np.where(arr != _BACKSLASH, idx, -1))
    out = np.zeros(len(quotes), dtype=bool)
    for k in np.flatnonzero(cand).tolist():
        q = int(quotes[k])
        lo = int(last_other[q - 1]) if q > 0 else -1
        run = q - 1 - lo + (carry if lo < 0 else 0)
        out[k] = run % 2 == 1
    return out


def _trailing_run(arr: np.ndarray, carry: int) -> int:
    other = np.flatnonzero(arr != _BACKSLASH)
    if len(other) == 0:
        return carry + len(arr)
    return len(arr) - 1 - int(other[-1])


@dataclass
class Cut:
    """Items [start, end) of one list: `key` (None for a top-level array), first item index."""

    key: str | None
    pos0: int
    start: int
    end: int


SEVERAL_DOCUMENTS = "several documents"


class _Lists:
    """Cuts the lists whose items are separated by commas at one depth."""

    def __init__(self, buf, target: int):
        self.buf, self.target = buf, target
        self.cuts: list[Cut] = []
        self.pos = 0  # index of the next item in the file (consecutive over the lists)
        self.key = None
        self.body = -1  # offset of the current list's body; -1: not in a list to cut

    def open(self, key, offset: int) -> None:
        self.key, self.body = key, offset + 1
        self.chunk_start, self.chunk_pos0, self.items = offset + 1, self.pos, 0

    def separators(self, offsets: np.ndarray) -> None:
        """Item separators (sorted offsets): cut at the first one ~target bytes on, repeatedly."""
        if self.body < 0:
            return
        i, n = 0, len(offsets)
        while i < n:
            j = i + int(np.searchsorted(offsets[i:], self.chunk_start + self.target))
            if j >= n:
                self.items += n - i
                return
            self.items += j - i + 1
            self._cut(int(offsets[j]))
            i = j + 1

    def close(self, offset: int) -> None:
        if self.body < 0:
            return
        if _skip_ws(self.buf, self.chunk_start) < offset:  # a last (or only) chunk
            self.items += 1
            self._cut(offset)
        self.body = -1

    def _cut(self, offset: int) -> None:
        self.cuts.append(Cut(self.key, self.chunk_pos0, self.chunk_start, offset))
        self.pos = self.chunk_pos0 + self.items
        self.chunk_start, self.chunk_pos0, self.items = offset + 1, self.pos, 0


class _Done(Exception):
    """The scan is decided early: `result` is what plan_cuts returns."""

    def __init__(self, result):
        self.result = result


class _Planner:
    """State of plan_cuts between special events (brackets of lists and of the document,
    keys of the wrapper); item separators go straight to _Lists."""

    def __init__(self, buf, first: int, target: int, decode_key, is_list_key):
        self.buf, self.first = buf, first
        self.array = buf[first] == ord("[")
        self.decode_key, self.is_list_key = decode_key, is_list_key
        self.lists = _Lists(buf, target)
        self.keys: list[str] = []
        self.member_start = first + 1  # wrapper: where the current "key": value member starts
        self.value_start = -1          # wrapper: offset after the member's ':'
        self.value_is_list = False
        self.end = -1                  # offset of the document's closing bracket

    def step(self, offset: int, char: int, depth: int) -> None:
        if self.end >= 0:
            raise _Done(SEVERAL_DOCUMENTS if char in _OPEN else None)
        if depth == 0:
            if char not in _CLOSE or (not self.array and not self._member_ok(offset)):
                raise _Done(None)
            self.lists.close(offset)
            self.end = offset
        elif self.array:
            if offset == self.first:
                self.lists.open(None, offset)
        elif depth == 1:
            self._wrapper_level(offset, char)
        elif char == ord("[") and self.value_start >= 0 and not self.value_is_list \
                and _skip_ws(self.buf, self.value_start) == offset:
            self.value_is_list = True
            if self.is_list_key(self.keys[-1]):
                self.lists.open(self.keys[-1], offset)
        elif char == ord("{") and not self.value_is_list:
            raise _Done(None)  # an object value: not the list form

    def _wrapper_level(self, offset: int, char: int) -> None:
        if char == ord(":"):
            key = self.decode_key(bytes(self.buf[self.member_start:offset]))
            if key is None:
                raise _Done(None)
            self.keys.append(key)
            self.value_start, self.value_is_list = offset + 1, False
        elif char == ord(","):
            if not self._member_ok(offset):
                raise _Done(None)
            self.member_start, self.value_start = offset + 1, -1
        elif char == ord("]"):
            self.lists.close(offset)
        elif offset != self.first:
            raise _Done(None)

    def _member_ok(self, offset: int) -> bool:
        """The member ending here held a list or null (or there was none: '{}')."""
        if self.value_start < 0 or self.value_is_list:
            return True
        return bytes(self.buf[self.value_start:offset]).strip(b" \t\r\n") == b"null"


_COMMA = ord(",")
_IS_OPEN = np.zeros(256, dtype=bool)
_IS_OPEN[list(_OPEN)] = True
_IS_CLOSE = np.zeros(256, dtype=bool)
_IS_CLOSE[list(_CLOSE)] = True


def plan_cuts(buf, target: int, decode_key, is_list_key, block: int = BLOCK):
    """Cuts of ~target bytes at item boundaries of a top-level array, or of the lists of a
    `{"<key>": [...], ...}` wrapper whose keys pass `is_list_key` (other keys must hold a list
    or null). Returns (cuts, wrapper keys), SEVERAL_DOCUMENTS when more follows the first
    document, or None when the scanner cannot place the content (the caller parses whole)."""
    n = len(buf)
    first = _skip_ws(buf, 0)
    if first >= n or buf[first] not in _OPEN:
        return None
    plan = _Planner(buf, first, target, decode_key, is_list_key)
    items_depth = 1 if plan.array else 2
    try:
        for offs, chars, deps in structure(buf, items_depth, block):
            # Separators and item ends are most events: handled as arrays; the few others
            # (brackets of lists and of the document, keys) one by one, in order.
            at_items = deps == items_depth
            sep = at_items & (chars == _COMMA)
            special = np.flatnonzero(~sep & ~(at_items & _IS_CLOSE[chars])).tolist()
            prev = 0
            for k in special + [len(chars)]:
                if k > prev and sep[prev:k].any():
                    if plan.end >= 0:
                        return None  # a separator after the end of the document
                    plan.lists.separators(offs[prev:k][sep[prev:k]])
                if k < len(chars):
                    plan.step(int(offs[k]), int(chars[k]), int(deps[k]))
                prev = k + 1
    except _Done as done:
        return done.result
    if plan.end < 0:
        return None
    if _skip_ws(buf, plan.end + 1) < n:
        return SEVERAL_DOCUMENTS
    return plan.lists.cuts, plan.keys


def _skip_ws(buf, i: int) -> int:
    n = len(buf)
    while i < n and buf[i] in b" \t\r\n":
        i += 1
    return i
