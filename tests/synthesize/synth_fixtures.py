"""The embedded sample, validated, and the model learned from it: shared by the synthesize
package's unit tests (computed once per session). Not a conftest.py: tests import `conftest`
by name, and a second one here would shadow tests/conftest.py."""

from __future__ import annotations

import functools
from pathlib import Path

from pipeline import io
from pipeline import synthesize as S

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "raw" / "sample"
PARAMS = io.load_params(ROOT / "params.yaml")


@functools.cache
def sample_valid() -> dict:
    from pipeline.ingest import ingest_dir
    from pipeline.validate import validate_tables

    assert SAMPLE.is_dir(), "embedded sample missing: run `make sample`"
    tables, _ = ingest_dir(SAMPLE, PARAMS.get("ingest") or {})
    return validate_tables(tables, PARAMS.get("validate")).valid


@functools.cache
def sample_model() -> dict:
    valid = sample_valid()
    return S.learn(valid, S.profiles_from(None, None, valid, PARAMS), PARAMS)
