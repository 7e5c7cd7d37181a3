"""pipeline/ingest/jsonscan.py: the bounded-memory structure scanner cuts arrays and list-form
wrappers exactly where msgspec would (item boundaries), whatever the block size, strings with
brackets, commas, quotes and backslashes included."""

from __future__ import annotations

import json

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.ingest import jsonscan as J


def decode_key(raw: bytes):
    try:
        k = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return k if isinstance(k, str) else None


text = st.text(alphabet=st.sampled_from(list('ab,[]{}:"\\ \n') + ["é"]), max_size=8)
values = st.recursive(st.none() | st.integers(-1000, 1000) | text,
                      lambda c: st.lists(c, max_size=3) | st.dictionaries(text, c, max_size=3),
                      max_leaves=6)
objects = st.lists(st.dictionaries(text, values, max_size=3), max_size=10)
BLOCKS = st.sampled_from([1, 2, 3, 7, 64, 1 << 20])


def items_of(doc: bytes, target: int, block: int) -> list:
    res = J.plan_cuts(doc, target, decode_key, lambda k: not k.endswith("_links"), block)
    assert res not in (None, J.SEVERAL_DOCUMENTS), doc
    got = []
    for c in res[0]:
        assert c.pos0 == len(got)
        got += [(c.key, o) for o in orjson.loads(b"[" + doc[c.start:c.end] + b"]")]
    return got


@settings(max_examples=60, deadline=None)
@given(items=objects, target=st.integers(1, 60), block=BLOCKS, indent=st.booleans())
def test_array_cuts_give_back_every_item_in_order(items, target, block, indent):
    doc = json.dumps(items, indent=1 if indent else None, ensure_ascii=False).encode()
    assert items_of(doc, target, block) == [(None, o) for o in items]


@settings(max_examples=60, deadline=None)
@given(a=objects, b=objects, target=st.integers(1, 60), block=BLOCKS, null=st.booleans())
def test_wrapper_cuts_give_back_every_item_with_its_key(a, b, target, block, null):
    w = {"ports": a, "ports_links": [{"rel": "next", "href": "x]"}], "networks": b}
    if null:
        w["subnets"] = None
    assert items_of(json.dumps(w).encode(), target, block) == (
        [("ports", o) for o in a] + [("networks", o) for o in b])


def test_what_the_scanner_does_not_cut():
    always = lambda k: True  # noqa: E731
    assert J.plan_cuts(b'{"a": 1}', 5, decode_key, always) is None
    assert J.plan_cuts(b'{"a": {"b": []}}', 5, decode_key, always) is None
    assert J.plan_cuts(b'{"a": []}\n{"a": []}\n', 5, decode_key, always) == J.SEVERAL_DOCUMENTS
    assert J.plan_cuts(b'[{}] x', 5, decode_key, always) in (None, J.SEVERAL_DOCUMENTS)
    assert J.plan_cuts(b'[{}, {}', 5, decode_key, always) is None  # unterminated
    assert J.plan_cuts(b"[]", 5, decode_key, always) == ([], [])
