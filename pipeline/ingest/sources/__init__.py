"""Ingest sources: one module per wire format. They import the shared decoding and table
building, never the planner (pipeline/ingest/run.py)."""
