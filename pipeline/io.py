"""Catalog layer: reading and writing canonical tables and parameters.

Stage logic never touches files; the CLI calls these around it. Parquet files are written
deterministically (no index, fixed compression, rows in the order given) so the same inputs
give byte-identical outputs.

Stage outputs are atomic: a folder of tables is written into a temporary folder next to its
target, with a `_manifest.json` (every table, its rows, bytes and md5) written last, and is
renamed into place only when complete. A killed or failing stage (disk full, Ctrl-C) leaves the
previous output untouched and no half-written folder behind. Readers refuse a folder without a
manifest, or one whose tables do not match it (one line, exit 2): a missing table is never read
as an empty one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.errors import InputError, OutputError

PARAMS_FILE = Path("params.yaml")
MANIFEST = "_manifest.json"
MANIFEST_FORMAT = 1


def load_params(path: Path | str = PARAMS_FILE) -> dict[str, Any]:
    """params.yaml checked against its definition (pipeline/params.py), as plain dicts with every
    default filled in. A missing file gives the defaults; an unknown key or a wrong type is an
    InputError naming the file and the dotted key."""
    import yaml

    from pipeline.params import as_dict, defaults, validate

    p = Path(path)
    if not p.exists():
        return defaults()
    try:
        raw = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        raise InputError(f"{p}: invalid YAML ({str(e).splitlines()[0]})") from e
    return as_dict(validate(raw, str(p)))


def section(params: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(params.get(name) or {})


def task_names(params: dict[str, Any], task: str, params_file: Path | str) -> list[str]:
    """The tasks a command runs: `task` from params.yaml `tasks:`, or every one for `all`."""
    tasks = params.get("tasks") or {}
    if not tasks:
        raise InputError(f"{params_file}: no `tasks:` section, nothing to do")
    if task == "all":
        return list(tasks)
    if task not in tasks:
        raise InputError(f"{params_file}: unknown task '{task}'; tasks: {', '.join(tasks)}, all")
    return [task]


# --- atomic writing ------------------------------------------------------------------------------


def _os_detail(e: OSError) -> str:
    if e.strerror:
        return e.strerror
    return str(e).splitlines()[0] if str(e) else type(e).__name__


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an OSError while writing `path` (disk full, read-only, ...) into one OutputError."""
    try:
        yield
    except OutputError:
        raise
    except OSError as e:
        raise OutputError(f"{path}: cannot write ({_os_detail(e)})") from e


@contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder next to `target`; rename it to `target` on success.

    On any error (or interrupt) the temporary folder is removed and `target` keeps its previous
    content. The old folder is moved aside before the new one moves in, so a reader sees either
    the old or the new folder, never a mix.
    """
    target = Path(target)
    with writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; outputs are shared like any folder
    try:
        yield tmp
        with writing(target):
            _swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove_leftovers(target: Path) -> None:
    """Temporary folders of an earlier write of `target` that was killed (kill -9, power loss)."""
    for pattern in (f".{target.name}.tmp-*", f".{target.name}.old-*"):
        for old in target.parent.glob(pattern):
            shutil.rmtree(old, ignore_errors=True)


def _swap_in(tmp: Path, target: Path) -> None:
    old = None
    if target.exists() or target.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rename(target, old / "x")
    os.rename(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _atomic_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    path = Path(path)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; keep the usual mode of a new file
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def write_json(obj: Any, path: Path) -> None:
    text = json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n"
    _atomic_file(Path(path), text.encode())


def write_table(df, path: Path) -> None:
    """One parquet file (inside a folder being written by `write_tables`)."""
    path = Path(path)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        df.to_parquet(path, index=False, compression="zstd", engine="pyarrow")


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_entry(path: Path, rows: int) -> dict[str, Any]:
    """A written file's manifest entry: rows, bytes, md5."""
    return {"rows": int(rows), "bytes": path.stat().st_size, "md5": _md5(path)}


def partition_rows(params: dict[str, Any] | None) -> int:
    """params `engine.partition_rows`, checked (the one reader of it): rows per Dask partition
    (pipeline/engine.py), and on disk a table with more rows is written as a folder of parts."""
    from pipeline.params import default

    section = (params or {}).get("engine") or {}
    rows = section.get("partition_rows", default("engine.partition_rows")) \
        if isinstance(section, dict) else default("engine.partition_rows")
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise InputError(f"params engine.partition_rows must be a positive integer, got {rows!r}")
    return rows


WRITE_THREADS = 2  # tables written side by side by write_tables
PART = "part-{:05d}.parquet"  # zero-padded: every reader's name order is the row order


class TableParts:
    """One table written piece by piece, in row order, into an output folder being written: at
    most `rows_per_part` rows give `<name>.parquet`, more a folder `<name>/` of parts of
    `rows_per_part` rows. Holds at most about two parts' rows, so a stage can write a table
    bigger than its memory; the files are the same however the rows were cut into pieces."""

    def __init__(self, folder: Path, name: str, rows_per_part: int | None):
        self.folder, self.name, self.rows_per_part = Path(folder), name, rows_per_part
        self.pending: list = []  # frames not yet written
        self.pending_rows = self.rows = 0
        self.parts: list[dict[str, Any]] = []
        self.entry: dict[str, Any] | None = None

    def append(self, df) -> None:
        if len(df):
            if not self.pending_rows:
                self.pending = []  # drop an empty piece kept for its columns
            self.pending.append(df)
        elif not self.pending:  # an empty table still has its columns
            self.pending.append(df)
        self.pending_rows += len(df)
        self.rows += len(df)
        while self.rows_per_part is not None and self.pending_rows > self.rows_per_part:
            self._write_part(self.rows_per_part)

    def close(self) -> dict[str, Any]:
        """Write what is left; the table's manifest entry (the same entry when asked again)."""
        if self.entry is None:
            self.entry = self._close()
        return self.entry

    def _close(self) -> dict[str, Any]:
        if not self.parts:  # never more than rows_per_part rows: one file
            path = self.folder / f"{self.name}.parquet"
            write_table(self._take(self.pending_rows), path)
            return file_entry(path, self.rows)
        if self.pending_rows:
            self._write_part(self.pending_rows)
        return {"rows": self.rows, "bytes": sum(p["bytes"] for p in self.parts), "parts": self.parts}

    def _take(self, n: int):
        """The first `n` pending rows as one frame, the rest kept pending."""
        import pandas as pd

        df = self.pending[0] if len(self.pending) == 1 else pd.concat(self.pending, ignore_index=True)
        if len(df) == n:  # all of it (a table written in one go: no copy)
            self.pending, self.pending_rows = [], 0
            return df
        head, rest = df.iloc[:n].reset_index(drop=True), df.iloc[n:].reset_index(drop=True)
        self.pending = [rest] if len(rest) else []
        self.pending_rows = len(rest)
        return head

    def _write_part(self, n: int) -> None:
        path = self.folder / self.name / PART.format(len(self.parts))
        write_table(self._take(n), path)
        self.parts.append({"file": f"{self.name}/{path.name}", **file_entry(path, n)})


def write_tables(tables: dict[str, Any], out_dir: Path, files: dict[str, Any] | None = None,
                 keep_existing: bool = False, rows_per_part: int | None = None) -> None:
    """Write every table as `<out_dir>/<name>.parquet`, atomically, with its manifest.

    `rows_per_part`: a table with more rows is written as a folder `<out_dir>/<name>/` of parts
    `part-00000.parquet`, ... (row order = part order; pandas, pyarrow, polars and DuckDB read
    the folder or `<name>/*.parquet` as one table). The layout depends only on this number,
    never on the engine, so every engine writes the same bytes (TableParts).
    `files`: extra JSON documents written into the folder in the same step (e.g. the ingest
    report), as {file name: object}. `keep_existing`: also keep the tables of the current
    folder that `tables` does not replace (writing one table of several). Tables of an old
    folder are otherwise gone: the new folder replaces it whole.
    """
    from concurrent.futures import ThreadPoolExecutor

    with writing_tables(out_dir, rows_per_part, keep_existing, replaced=set(tables)) as out:
        parts = [out.table(name) for name in tables]  # created here: TablesOut is not thread-safe

        def write(job) -> None:
            table, df = job
            table.append(df.reset_index(drop=True))
            table.close()

        jobs = sorted(zip(parts, tables.values()), key=lambda job: -len(job[1]))  # biggest first
        if len(jobs) > 1:
            # two tables at a time: parquet encoding, compression and the md5 release the GIL
            # (validate's outputs at 1M ports: 1.8 -> 1.3 s; each file is the same)
            with ThreadPoolExecutor(WRITE_THREADS) as pool:
                list(pool.map(write, jobs))
        else:
            for job in jobs:
                write(job)
        out.files.update(files or {})


class TablesOut:
    """A table folder being written (see `writing_tables`): `table(name)` gives the table's
    TableParts; `files` the extra JSON documents to write beside them."""

    def __init__(self, folder: Path, rows_per_part: int | None):
        self.folder, self.rows_per_part = folder, rows_per_part
        self.tables: dict[str, TableParts] = {}
        self.files: dict[str, Any] = {}

    def table(self, name: str) -> TableParts:
        if name not in self.tables:
            self.tables[name] = TableParts(self.folder, name, self.rows_per_part)
        return self.tables[name]

    def written(self, name: str, files: list[tuple[str, dict[str, Any]]]) -> None:
        """Table `name` as files other processes (Dask workers) wrote into `folder`, cut as
        TableParts cuts them: [(file name relative to `folder`, `file_entry` of it)], one
        `<name>.parquet` or the parts in row order."""
        self.tables[name] = _Written(files)


def record_written(files: list[tuple[TablesOut, str, str, dict[str, Any]]]) -> None:
    """Files other processes wrote, (folder being written, table, file, `file_entry`) in row
    order per table, recorded in their folders' manifests (TablesOut.written)."""
    grouped: dict[tuple[int, str], tuple[TablesOut, str, list]] = {}
    for out, name, file, entry in files:
        grouped.setdefault((id(out), name), (out, name, []))[2].append((file, entry))
    for out, name, listed in grouped.values():
        out.written(name, listed)


def cut_by_rank(name: str, counts, rows_per_part: int | None) -> list[tuple[str, list]]:
    """The files of table `name` whose rows come in pieces of `counts` rows, in order, cut as
    TableParts cuts them (one `<name>.parquet` up to `rows_per_part` rows, else parts of
    `rows_per_part`): [(file, [(piece, first row, end row) of the piece in it])]. A table
    without rows: one file and no piece."""
    import numpy as np

    total = int(np.sum(counts)) if len(counts) else 0
    if rows_per_part is None or total <= rows_per_part:
        edges, names = [0, total], [f"{name}.parquet"]
    else:
        edges = list(range(0, total, rows_per_part)) + [total]
        names = [f"{name}/{PART.format(k)}" for k in range(len(edges) - 1)]
    firsts = [0, *np.cumsum(counts).tolist()]
    out = []
    for file, lo, hi in zip(names, edges[:-1], edges[1:]):
        out.append((file, [(i, max(lo, firsts[i]) - firsts[i], min(hi, firsts[i + 1]) - firsts[i])
                           for i in range(len(counts)) if firsts[i] < hi and firsts[i + 1] > lo]))
    return out


class _Written:
    """A table whose files other processes wrote: its manifest entry, as TableParts.close."""

    def __init__(self, files: list[tuple[str, dict[str, Any]]]):
        self.files = files

    def close(self) -> dict[str, Any]:
        if len(self.files) == 1 and "/" not in self.files[0][0]:
            return dict(self.files[0][1])
        parts = [{"file": file, **entry} for file, entry in self.files]
        return {"rows": sum(p["rows"] for p in parts), "bytes": sum(p["bytes"] for p in parts),
                "parts": parts}


@contextmanager
def writing_tables(out_dir: Path, rows_per_part: int | None = None, keep_existing: bool = False,
                   replaced: set[str] | None = None) -> Iterator[TablesOut]:
    """A table folder written piece by piece, atomically: the tables appended to, the files
    given and the manifest appear together when the block ends, or nothing changes."""
    out_dir = Path(out_dir)
    kept = _existing_tables(out_dir, replaced or set()) if keep_existing else {}
    with atomic_dir(out_dir) as tmp:
        manifest: dict[str, Any] = {}
        for name, src in kept.items():
            with writing(tmp / src.name):
                if src.is_dir():
                    shutil.copytree(src, tmp / src.name)
                else:
                    shutil.copy2(src, tmp / src.name)
            manifest[name] = _read_manifest(out_dir)["tables"][name]
        out = TablesOut(tmp, rows_per_part)
        yield out
        for name, parts in out.tables.items():
            manifest[name] = parts.close()
        for fname, obj in out.files.items():
            write_json(obj, tmp / fname)
        # Last: a folder with a manifest is complete.
        write_json({"format": MANIFEST_FORMAT, "tables": dict(sorted(manifest.items()))},
                   tmp / MANIFEST)


def _existing_tables(out_dir: Path, replaced: set[str]) -> dict[str, Path]:
    if not (out_dir / MANIFEST).exists():
        return {}
    listed = _read_manifest(out_dir)["tables"]
    return {name: out_dir / (name if "parts" in listed[name] else f"{name}.parquet")
            for name in sorted(listed) if name not in replaced}


# --- reading -------------------------------------------------------------------------------------


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.exists():
        raise InputError(f"{folder}: no {MANIFEST} (not a complete stage output: the stage "
                         f"that writes it was interrupted or never ran)")
    try:
        manifest = json.loads(path.read_text())
        tables = manifest["tables"]
        if not isinstance(tables, dict):
            raise TypeError("tables is not an object")
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(f"{path}: unreadable manifest ({e})") from e
    except OSError as e:  # no permission, a folder in its place, an I/O error
        raise InputError(f"{path}: cannot read the manifest ({_os_detail(e)})") from e
    return manifest


def check_table(folder: Path, name: str) -> bool:
    """Is table `name` part of the complete output in `folder`? Raises on a broken folder.

    False when the manifest does not list it (the stage wrote no such table); InputError when it
    is listed but missing or changed on disk.
    """
    return table_files(folder, name) is not None


def table_files(folder: Path, name: str) -> list[Path] | None:
    """The parquet file(s) of table `name` in `folder`, in row order (one, or the parts of a
    partitioned table); None when the manifest does not list it; InputError when a listed file
    is missing or changed on disk."""
    listed = table_parts(folder, name)
    return None if listed is None else [path for path, _ in listed]


def table_parts(folder: Path, name: str) -> list[tuple[Path, int]] | None:
    """(file, rows) of each parquet file of table `name`, in row order, as the manifest lists
    them (what a distributed reader plans with, before any file is opened); None and
    InputError as `table_files`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: input folder does not exist")
    entry = _read_manifest(folder)["tables"].get(name)
    if entry is None:
        return None
    parts = entry.get("parts") if isinstance(entry, dict) else None
    if parts is None:
        entry = entry if isinstance(entry, dict) else {}
        listed = [(folder / f"{name}.parquet", entry.get("bytes"), entry.get("rows"))]
    elif isinstance(parts, list) and all(isinstance(p, dict) and isinstance(p.get("file"), str)
                                         for p in parts):
        listed = [(folder / p["file"], p.get("bytes"), p.get("rows")) for p in parts]
    else:
        raise InputError(f"{folder / MANIFEST}: table {name}: unreadable list of parts")
    for path, size, rows in listed:
        if not path.is_file():
            raise InputError(f"{path}: table missing (listed in {folder / MANIFEST})")
        if path.stat().st_size != size:
            raise InputError(f"{path}: {path.stat().st_size} bytes, {folder / MANIFEST} says "
                             f"{size} (truncated or replaced)")
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise InputError(f"{folder / MANIFEST}: {path.name}: rows {rows!r} is not a row count")
    return [(path, rows) for path, _, rows in listed]


def _read_files(paths: list[Path]):
    """One table from its file(s), parts concatenated in order."""
    import pandas as pd

    frames = [read_parquet(p) for p in paths]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def read_parquet(path: Path):
    """One parquet file as a DataFrame; an unreadable file is an InputError naming it."""
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except Exception as e:  # pyarrow raises several types for corrupt files
        raise InputError(f"{path}: not a readable parquet file ({e})") from e


def read_table(path: Path):
    """One table of a stage output folder (checked against the folder's manifest)."""
    path = Path(path)
    files = table_files(path.parent, path.stem)
    if files is None:
        raise InputError(f"{path}: table missing (not listed in {path.parent / MANIFEST})")
    return _read_files(files)


def read_frame(path: Path, what: str, required: bool = True):
    """A parquet file, or a one-line error; None for a missing optional one."""
    if not path.exists() and not path.with_suffix("").is_dir():  # one file, or a folder of parts
        if not required:
            return None
        raise InputError(f"{path}: {what} missing: run dcnet {what.split()[0]}")
    return read_table(path)


def read_tables(in_dir: Path, names: list[str] | None = None) -> dict[str, Any]:
    """Read canonical tables from a complete stage output folder.

    A model table the manifest does not list was not written by the stage and comes back
    empty; a listed table must be there, unchanged.
    """
    from schemas.model import TABLES, conform, empty_frame

    in_dir = Path(in_dir)
    names = names or list(TABLES)
    out = {}
    for name in names:
        files = table_files(in_dir, name)
        if files is not None:
            df = _read_files(files)
            out[name] = conform(df, name) if name in TABLES else df
        elif name in TABLES:
            out[name] = empty_frame(name)
        else:
            raise InputError(f"{in_dir / (name + '.parquet')}: table missing (not listed in "
                             f"{in_dir / MANIFEST})")
    return out
