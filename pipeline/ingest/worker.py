"""One work unit -> ("ok", tables, summary) or ("bad", problem): runs in a worker process
or a Dask task, so it imports the parsing modules itself and reads its file or range."""

from __future__ import annotations

from pipeline.ingest.files import name_problem
from pipeline.ingest.plan import Unit
from pipeline.util import no_gc


def run_unit_task(u: Unit):
    """run_unit as a Dask task, the collector paused while it runs (the local pool pauses it
    for good in its workers; a Dask worker runs its own code between tasks)."""
    with no_gc():
        return run_unit(u)


def run_unit(u: Unit):
    """Parse one unit. Returns ("ok", tables, summary) or ("bad", problem)."""
    import pipeline.ingest.parse as parse
    from pipeline.ingest.decode import DEFAULT_MAX_DECOMPRESSED, BadFile
    from pipeline.ingest.sources import alcor_stream
    from pipeline.ingest.tables import build_tables

    try:
        problem = u.problem or name_problem(u.rel)
        if problem:
            raise BadFile(problem)
        if u.chunk is not None:
            col = parse.parse_chunk(u.chunk, u.path)
            fmt, gz = u.fmt, u.gz
        else:
            data = u.data
            if data is None:
                with open(u.path, "rb") as fh:
                    data = fh.read()
            cap = u.cap or DEFAULT_MAX_DECOMPRESSED
            stream = alcor_stream.parse_unit(data, u.rel, cap)
            if stream is not None:
                return stream
            col, fmt, gz = parse.parse_payload(data, cap, decompressed=u.decompressed)
            del data
        kinds = {t: len(r) for t, r in col.recs.items() if r}
        if col.labels:
            kinds["project_labels"] = len(col.labels)
        tables = build_tables(col, u.rel)
    except BadFile as e:
        if u.chunk is None and not u.spilled and alcor_stream.beside_stream(u.path):
            return alcor_stream.unknown_file()  # e.g. the K6 script
        return ("bad", str(e))
    except OSError as e:
        return ("bad", f"cannot read the file ({e.strerror or e})")
    except RecursionError:  # a value nested too deeply to store (orjson reads 1,024 levels)
        return ("bad", "JSON nested too deeply to store")
    except MemoryError:
        return ("bad", "out of memory while parsing the file (split it, or lower "
                       "ingest.chunk_bytes)")
    summary = {"format": fmt, "gzip": gz, "objects": kinds,
               "rows": {t: tbl.num_rows for t, tbl in tables.items()},
               "unknown": col.unknown, "ignored_keys": sorted(col.ignored_keys),
               "redacted": col.redacted}
    return ("ok", tables, summary)
