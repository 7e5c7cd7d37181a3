"""Deterministic JSON text and secrets: values under secret-like keys never leave ingest."""

from __future__ import annotations

import re
from functools import lru_cache

import orjson


_SORT = orjson.OPT_SORT_KEYS


def dumps(v) -> str:
    """Compact JSON, sorted keys (deterministic text for JSON columns and `extra`)."""
    try:
        return orjson.dumps(v, option=_SORT).decode()
    except TypeError:  # e.g. an integer beyond 64 bits from a non-orjson source
        import json
        return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


# Secrets: values under secret-like keys (at any depth of `extra`, JSON columns and messages)
# never leave ingest. Keys are compared with separators removed: "Pre-shared Key" -> presharedkey.
REDACTED = "<redacted>"
_SECRET_WORDS = ("password", "passwd", "passphrase", "secret", "token", "psk", "presharedkey",
                 "privatekey", "credential", "apikey", "accesskey", "authkey", "sessionkey",
                 "encryptionkey", "signingkey", "keymaterial", "cookie")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_URL_PASSWORD = re.compile(r"(\w[\w+.-]*://[^/\s:@]*):[^/\s@]*@")  # scheme://user:password@


@lru_cache(maxsize=8192)
def is_secret_key(key: str) -> bool:
    norm = _NOT_ALNUM.sub("", key.lower())
    return any(w in norm for w in _SECRET_WORDS)


def redact(v, counts: dict | None = None):
    """`v` with the values of secret-like keys replaced by REDACTED and passwords in URLs
    removed, at any depth; `v` itself when nothing changed. `counts`: key -> values redacted."""
    t = type(v)
    if t is dict:
        out = None
        for k, x in v.items():
            if type(k) is str and is_secret_key(k) and x is not None and x != REDACTED:
                new = REDACTED
                if counts is not None:
                    counts[k] = counts.get(k, 0) + 1
            else:
                new = redact(x, counts)
            if new is not x:
                if out is None:
                    out = dict(v)
                out[k] = new
        return v if out is None else out
    if t is list:
        out = None
        for i, x in enumerate(v):
            new = redact(x, counts)
            if new is not x:
                if out is None:
                    out = list(v)
                out[i] = new
        return v if out is None else out
    if t is str and "@" in v and "://" in v:
        new = _URL_PASSWORD.sub(r"\1:" + REDACTED + "@", v)
        if new != v:
            if counts is not None:
                counts["<url password>"] = counts.get("<url password>", 0) + 1
            return new
    return v


def show(v) -> str:
    v = redact(v)
    s = repr(v) if isinstance(v, str) else dumps(v)
    return s if len(s) <= 60 else s[:57] + "..."
