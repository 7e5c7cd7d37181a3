"""Model files: byte-identical skops serialization and loading that trusts only sklearn/numpy."""

from __future__ import annotations

from typing import Any

from pipeline.errors import InputError

# ---------------------------------------------------------------- model files

# Types a model file may ask to load beyond skops' defaults: scikit-learn's own compiled
# tree structures and numpy dtypes. Anything else in a model file is refused.
TRUSTED_PREFIXES = ("sklearn.", "numpy.")


def trusted_types(data: bytes) -> list[str]:
    """The non-default types in a skops blob, when every one is from sklearn/numpy."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(data=data)
    bad = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if bad:
        raise InputError(f"model file asks to load untrusted type(s) {', '.join(bad)}: "
                         "retrain it with dcnet train")
    return untrusted


def model_bytes(model) -> bytes:
    """skops serialization, made byte-identical across runs (see _canonical_skops)."""
    import skops.io as sio

    raw = sio.dumps(model)
    try:
        canon = _canonical_skops(raw)
        sio.loads(canon, trusted=trusted_types(canon))
        return canon
    except Exception:  # an unexpected skops layout: keep the plain (valid) bytes
        return raw


def _canonical_skops(raw: bytes) -> bytes:
    """skops names members and memo ids after id(obj) and stamps the zip with the current time;
    renumber both in order of appearance and fix the timestamps so the same model gives the
    same bytes (DVC then sees an unchanged output)."""
    import io
    import re
    import zipfile

    zin = zipfile.ZipFile(io.BytesIO(raw))
    schema = zin.read("schema.json").decode()
    mapping: dict[str, str] = {}
    for m in re.finditer(r'"__id__": (\d+)|"(\d+)\.npy"', schema):
        old = m.group(1) or m.group(2)
        mapping.setdefault(old, str(len(mapping) + 1))

    def sub(m):
        if m.group(1):
            return f'"__id__": {mapping[m.group(1)]}'
        return f'"{mapping[m.group(2)]}.npy"'

    new_schema = re.sub(r'"__id__": (\d+)|"(\d+)\.npy"', sub, schema)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            name = info.filename
            if name.endswith(".npy") and name[:-4] in mapping:
                name = f"{mapping[name[:-4]]}.npy"
            elif name.endswith(".npy"):
                raise ValueError(f"unreferenced member {name}")
            data = new_schema.encode() if info.filename == "schema.json" else zin.read(info.filename)
            zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = info.compress_type
            zi.external_attr = info.external_attr
            zout.writestr(zi, data)
    return out.getvalue()


def load_model(path) -> Any:
    """Load a model.skops written by `dcnet train`, trusting only sklearn/numpy types."""
    from pathlib import Path

    import skops.io as sio

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: model file missing: run dcnet train")
    data = path.read_bytes()
    try:
        types = trusted_types(data)
        return sio.loads(data, trusted=types)
    except InputError as e:
        raise InputError(f"{path}: {e}") from e
    except Exception as e:
        raise InputError(f"{path}: not a readable skops model ({str(e).splitlines()[0]}): "
                         "retrain it with dcnet train") from e
