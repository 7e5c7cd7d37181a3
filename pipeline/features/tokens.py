"""The name tokenizer: names split into tokens, hashed (zlib.crc32, stable across runs and
machines) into `features.name_hash_buckets` buckets."""

from __future__ import annotations


import re
import zlib

import numpy as np
import pandas as pd

from pipeline.features.common import _HEXISH_RE
from pipeline.util import stripped as _str

def name_tokens(name: str | None) -> list[str]:
    """Lower-case word tokens of a name; trailing digits and UUID/hex fragments are dropped."""
    if not name:
        return []
    out = []
    for tok in re.split(r"[^a-z0-9]+", str(name).lower()):
        if _HEXISH_RE.match(tok):
            continue
        tok = tok.rstrip("0123456789")
        if tok:
            out.append(tok)
    return out


def token_bucket(token: str, buckets: int) -> int:
    """Stable bucket of a token (crc32; Python's hash() is salted per process)."""
    return zlib.crc32(token.encode("utf-8")) % buckets


def _token_counts(names: pd.Series, buckets: int) -> np.ndarray:
    """(len(names), buckets) int64 matrix of hashed token counts (same tokens as name_tokens,
    vectorized: port names are mostly distinct, so per-name caching does not help)."""
    out = np.zeros((len(names), buckets), dtype="int64")
    s = pd.Series(_str(names).str.lower().to_numpy(), dtype="string")
    toks = s.str.split(r"[^a-z0-9]+", regex=True).explode().dropna().astype("string")
    toks = toks[~toks.str.match(_HEXISH_RE.pattern)].str.rstrip("0123456789")
    toks = toks[toks != ""]
    if len(toks):
        bucket = {t: token_bucket(t, buckets) for t in toks.unique()}
        np.add.at(out, (toks.index.to_numpy(), toks.map(bucket).to_numpy(dtype="int64")), 1)
    return out
