"""Ingest stage: a raw dump folder -> every canonical table of model.TABLES, plus a report.

The entry points are here; the work is in the package's modules, imported one way
(run.py imports the rest; nothing imports run.py but this file):
  run.py        finds the files, plans them into units (a file, or chunks of a big one), runs
                them (worker processes or Dask), assembles the tables and the report
  parse.py      one file's bytes or one chunk -> collected objects (JSON, NDJSON or CSV)
  chunks.py     cutting big files at object boundaries; jsonscan.py its bounded-memory scanner
  decode.py     gzip (capped), BOM, UTF-8, and the BadFile messages
  collect.py    routing decoded objects to tables (Collected)
  tables.py     collected objects -> arrow tables, child tables unnested
  rows.py       one table's columns under construction (coercion, per-row errors, schemas)
  redact.py     deterministic JSON text, secrets redacted
  sources/      one module per wire format: neutron.py (Neutron API JSON and the key maps),
                openstack_cli.py (`openstack -f json` Title-Case output), alcor.py (Alcor
                service responses), alcor_stream.py (Alcor request streams), csv.py
Sources never import the planner.
"""

from pipeline.ingest.run import (CHUNK_BYTES, MAX_DECOMPRESSED_BYTES, ON_BAD_FILE, POOL_MIN_BYTES,
                                 SPLIT_ABOVE_BYTES, discover, ingest_dir, ingest_payloads)

__all__ = ["CHUNK_BYTES", "MAX_DECOMPRESSED_BYTES", "ON_BAD_FILE", "POOL_MIN_BYTES",
           "SPLIT_ABOVE_BYTES", "discover", "ingest_dir", "ingest_payloads"]
