# Two commands: `make repro` (set up .venv from pinned deps, run the pipeline on the sample)
# and `make test`. Everything runs from the project's own .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export DVC_NO_ANALYTICS := 1
export MPLBACKEND := Agg

.PHONY: venv repro test test-fast sample schemas emulate bench bench-ingest bench-synth bench-export bench-engines bench-shards bench-sdv bench-fuzz clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

repro: venv
	dvc repro

test: venv
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: venv
	$(BIN)/python -m pytest -n 2 -m "not slow"

sample: venv
	dcnet sample --out data/raw/sample

schemas: venv
	dcnet schemas export

# Live emulation of the sample's synthetic data center in real Mininet (root; see README).
EMULATE_HOSTS ?= 10
EMULATE_PROBES ?= 300
emulate: venv
	test -d data/synthetic || dvc repro synthesize
	dcnet emulate --input data/synthetic --max-hosts $(EMULATE_HOSTS) --probes $(EMULATE_PROBES)

# Benchmarks (results in benchmarks/results/, quoted in benchmarks/README.md)
bench: bench-ingest bench-synth bench-export

bench-ingest: venv
	$(BIN)/python benchmarks/run.py

bench-synth: venv
	$(BIN)/python benchmarks/synth_scale.py

bench-export: venv
	$(BIN)/python benchmarks/export.py

# Ingest, then validate, on the local engine vs a 2-worker Dask LocalCluster (not part of
# `make bench`)
bench-engines: venv
	$(BIN)/python benchmarks/engines.py
	$(BIN)/python benchmarks/engines.py --stage validate

# Sharded synthesis: local vs a 2-worker Dask LocalCluster, 100k hosts (not part of `make bench`)
bench-shards: venv
	$(BIN)/python benchmarks/synth_shards.py

# Ingest fuzzing, long run: 2,000 hypothesis examples per source format (5 formats = 10,000);
# `make test` runs 25 per format.
FUZZ_EXAMPLES ?= 2000
bench-fuzz: venv
	DCNET_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/ingest/test_fuzz.py -q -p no:cacheprovider -p no:xdist

# Synthesis vs SDV (benchmark only; SDV is BSL-licensed and needs pandas<3 + torch, so it
# lives in its own gitignored venv). torch first: the CPU wheel on disk, not a CUDA download.
SDV_VENV := benchmarks/.sdv-venv
SDV_BIN := $(CURDIR)/$(SDV_VENV)/bin

$(SDV_VENV)/.installed: benchmarks/sdv-requirements.txt
	test -x $(SDV_BIN)/python || python3 -m venv $(SDV_VENV)
	$(SDV_BIN)/python -m pip install --quiet torch==2.13.0
	$(SDV_BIN)/python -m pip install --quiet -r benchmarks/sdv-requirements.txt
	touch $@

bench-sdv: venv $(SDV_VENV)/.installed
	$(BIN)/python benchmarks/synth_vs_sdv.py --sdv-python $(SDV_BIN)/python

# Removes pipeline outputs (DVC restores them from its cache); committed reports stay.
clean:
	rm -rf data/interim data/validated data/quarantine data/features data/labels \
		data/predictions data/synthetic data/export
