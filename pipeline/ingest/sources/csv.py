"""CSV dumps: a host inventory (header with node_name) or project labels (project_id,
profile)."""

from __future__ import annotations

import csv
import io

from pipeline.ingest.collect import Collected
from pipeline.ingest.decode import BadFile
from pipeline.ingest.redact import show


def parse_csv(text: str, col: Collected) -> None:
    """Host inventory (header has node_name) or labels (header project_id,profile).

    Host columns keep their header names; aliases (`mac` beside `mac_address`, `id` beside
    `node_id`) are resolved like JSON keys, so two columns that disagree are an ingest error
    on the row, never a silently dropped value. A column repeated under the same name counts
    once when the values agree; otherwise the row has an error and the other value is kept in
    `extra` as '<name> (column N)'."""
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(rows, None)
        while header is not None and not any(h.strip() for h in header):
            header = next(rows, None)
        if header is None:
            raise BadFile("empty file")
        names, labels = _read_header(header)
        repeats = _repeated_columns(names)
        pos = 0
        for cells in rows:
            if not any(c.strip() for c in cells):
                continue
            rec = _record(cells, names, repeats, labels)
            if labels:
                col.labels.append((pos, rec))
            else:
                col.add("hosts", rec, pos)
            pos += 1
    except csv.Error as e:
        raise BadFile(f"malformed CSV at line {rows.line_num} ({e})") from None


def _read_header(header: list[str]) -> tuple[list[str], bool]:
    """(normalised column names, whether the file holds labels rather than hosts)."""
    norm = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in header]
    if "node_name" in norm:
        return norm, False
    if sorted(norm) == ["profile", "project_id"]:
        return norm, True
    shown = ",".join(header)[:80]
    raise BadFile(f"unrecognized CSV header '{shown}' (expected a host inventory with "
                  "node_name, or labels project_id,profile)")


def _repeated_columns(names: list[str]) -> list[tuple[int, int]]:
    """(column index, index of the first column of that name) for every repeated name."""
    first_col = {}
    repeats = []
    for j, n in enumerate(names):
        if n in first_col:
            repeats.append((j, first_col[n]))
        else:
            first_col[n] = j
    return repeats


def _record(cells: list[str], names: list[str], repeats: list, labels: bool) -> dict:
    """One row as a record; row-shape problems go to its `_csv_error`."""
    # an empty cell is simply absent (CSV cannot tell null from missing)
    rec = {}
    for j, (n, c) in enumerate(zip(names, cells)):
        c = c.strip()
        if c and n not in rec:
            rec[n] = c
    errors = []
    for j, j0 in repeats:
        if j >= len(cells) or not cells[j].strip():
            continue
        v = cells[j].strip()
        n = names[j]
        first = cells[j0].strip() if j0 < len(cells) else ""
        if first and v != first:
            errors.append(f"{n}: column {j0 + 1} is {show(first)} but column {j + 1} "
                          f"is {show(v)}")
            rec[f"{n} (column {j + 1})"] = v
    if len(cells) != len(names):
        errors.append(f"row has {len(cells)} cells, header has {len(names)}")
        if len(cells) > len(names):
            if labels:  # no `extra` column there: keep the surplus in the message
                errors[-1] += f" (surplus {show(cells[len(names):])})"
            else:
                rec["_csv_overflow"] = cells[len(names):]
    if errors:
        rec["_csv_error"] = "; ".join(errors)
    return rec
