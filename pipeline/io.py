"""Catalog layer: reading and writing canonical tables and parameters.

Stage logic never touches files; the CLI calls these around it. Parquet files are written
deterministically (no index, fixed compression, rows in the order given) so the same inputs
give byte-identical outputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.errors import InputError

PARAMS_FILE = Path("params.yaml")


def load_params(path: Path | str = PARAMS_FILE) -> dict[str, Any]:
    """params.yaml as a dict; {} when the file is missing (commands then use defaults)."""
    import yaml

    p = Path(path)
    if not p.exists():
        return {}
    try:
        return yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        raise InputError(f"{p}: invalid YAML ({str(e).splitlines()[0]})") from e


def section(params: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(params.get(name) or {})


def write_table(df, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path, index=False, compression="zstd", engine="pyarrow")


def write_tables(tables: dict[str, Any], out_dir: Path) -> None:
    """Write every table as `<out_dir>/<name>.parquet`, removing stale tables first."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.parquet"):
        if old.stem not in tables:
            old.unlink()
    for name, df in tables.items():
        write_table(df.reset_index(drop=True), out_dir / f"{name}.parquet")


def read_parquet(path: Path):
    """One parquet file as a DataFrame; an unreadable file is an InputError naming it."""
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except Exception as e:  # pyarrow raises several types for corrupt files
        raise InputError(f"{path}: not a readable parquet file ({e})") from e


def read_tables(in_dir: Path, names: list[str] | None = None) -> dict[str, Any]:
    """Read canonical tables from a folder; tables missing on disk come back empty."""
    from pipeline.model import TABLES, conform, empty_frame

    in_dir = Path(in_dir)
    if not in_dir.is_dir():
        raise InputError(f"{in_dir}: input folder does not exist")
    names = names or list(TABLES)
    out = {}
    for name in names:
        path = in_dir / f"{name}.parquet"
        if path.exists():
            df = read_parquet(path)
            out[name] = conform(df, name) if name in TABLES else df
        else:
            out[name] = empty_frame(name)
    return out


def write_json(obj: Any, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
