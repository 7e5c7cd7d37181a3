"""Small helpers shared by stages (no heavy imports: the CLI imports stages lazily)."""

from __future__ import annotations

import gc
import re
from contextlib import contextmanager


@contextmanager
def no_gc():
    """Pause the cyclic garbage collector around bulk object building.

    Decoded JSON and the exporters' dicts/lists hold no reference cycles, yet the collector
    rescans millions of fresh containers again and again (measured: ingest parsing ~3x slower,
    export ~25% slower with it on).
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def stripped(s):
    """A pandas column as text: stripped strings, missing values as ""."""
    return s.astype("string").fillna("").str.strip()


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection, OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A value for a CSV file people open in a spreadsheet: text that would start a formula
    gets a leading apostrophe (shown as text, never run); None becomes ""."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_column(values: list) -> list:
    """[csv_cell(v) for v in values], without a call for the usual plain string."""
    return [v if type(v) is str and not v.startswith(FORMULA_STARTS) else csv_cell(v) for v in values]


def csv_text(header: list[str], columns: list[list]) -> str:
    """CSV text (csv module dialect, "\\n" line ends) of equal-length columns. Columns of plain
    strings (no comma, quote or line break anywhere) are joined directly: the csv module
    checks every field, which took most of the time of a 300k-row file."""
    import csv
    import io

    try:  # (one column: the csv module writes an empty field as "")
        plain = len(header) > 1 and not any(_CSV_SPECIAL.search("".join(col))
                                            for col in [header, *columns])
    except TypeError:  # a value that is not a string: the csv module formats it
        plain = False
    if plain:
        return "\n".join(map(",".join, [header, *zip(*columns)])) + "\n"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(zip(*columns))
    return buf.getvalue()


CSV_SPECIAL = ',"\r\n'  # a field holding one of these must be quoted
_CSV_SPECIAL = re.compile("[" + re.escape(CSV_SPECIAL) + "]")


def plot_text(value) -> str:
    """Text for a matplotlib label shown as written: an unescaped '$' starts mathtext, where
    '^', '_' or an unbalanced '$' in a class name would make drawing fail."""
    return str(value).replace("$", r"\$")
