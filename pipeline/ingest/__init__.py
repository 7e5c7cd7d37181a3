"""Ingest stage: a raw dump folder -> every canonical table of model.TABLES, plus a report.

The entry points are here; the work is in the package's modules, imported one way:
  run.py            finds the files, plans them into units, runs them (workers or Dask),
                    assembles the tables and the report
  formats.py        parses one file or chunk (detection, decoding, routing, table building)
  jsonscan.py       bounded-memory JSON structure scanner (cuts huge documents into chunks)
  sources/          readers of one wire format each (alcor_stream.py: Alcor request streams)
Sources never import the planner.
"""

from pipeline.ingest.run import (CHUNK_BYTES, MAX_DECOMPRESSED_BYTES, ON_BAD_FILE, POOL_MIN_BYTES,
                                 SPLIT_ABOVE_BYTES, discover, ingest_dir, ingest_payloads)

__all__ = ["CHUNK_BYTES", "MAX_DECOMPRESSED_BYTES", "ON_BAD_FILE", "POOL_MIN_BYTES",
           "SPLIT_ABOVE_BYTES", "discover", "ingest_dir", "ingest_payloads"]
