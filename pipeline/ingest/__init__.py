"""Ingest stage: a raw dump folder -> every canonical table of model.TABLES, plus a report.

The entry points are here; the work is in the package's modules, imported one way
(nothing imports run.py but this file; sources never import the planner):
  run.py        runs the units (worker processes or Dask), assembles the tables and the report
  files.py      which files of the folder are data (the rest is listed with its reason)
  plan.py       files -> work units (a file, or chunks of a big one; gzip streamed, capped)
  worker.py     one unit -> tables and its summary
  parse.py      one file's bytes or one chunk -> collected objects (JSON, NDJSON or CSV)
  chunks.py     cutting big files at object boundaries; jsonscan.py its bounded-memory scanner
  decode.py     gzip (capped), BOM, UTF-8, and the BadFile messages
  collect.py    routing decoded objects to tables (Collected)
  tables.py     collected objects -> arrow tables, child tables unnested
  rows.py       one table's columns under construction (coercion, per-row errors, schemas)
  redact.py     deterministic JSON text, secrets redacted
  sources/      one module per wire format: neutron.py (Neutron API JSON and the key maps),
                openstack_cli.py (`openstack -f json` Title-Case output), alcor.py (Alcor
                service responses), alcor_stream.py (Alcor request streams, its placeholders in
                alcor_variables.py), csv.py
"""

from pipeline.ingest.files import discover
from pipeline.ingest.run import (CHUNK_BYTES, MAX_DECOMPRESSED_BYTES, ON_BAD_FILE, POOL_MIN_BYTES,
                                 SPLIT_ABOVE_BYTES, ingest_dir, ingest_payloads)

__all__ = ["CHUNK_BYTES", "MAX_DECOMPRESSED_BYTES", "ON_BAD_FILE", "POOL_MIN_BYTES",
           "SPLIT_ABOVE_BYTES", "discover", "ingest_dir", "ingest_payloads"]
