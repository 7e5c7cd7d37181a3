"""Privacy, end to end: no real identifier of the embedded sample reaches the synthetic tables,
the synthesis model, the emulator exports or MLflow (runs logged from the real sample).

House rule: "Real identifiers (IDs, names, MACs, IPs) never reach synthetic outputs, exports or
MLflow artifacts." test_synthesize.py compares synthetic and real *columns* value by value;
this file scans every written *file* as text, the way a reviewer would grep them:

- ids (UUIDs with or without dashes, 32-hex project ids) and MACs (any separator or none), also
  when nested in JSON (extra, external_fixed_ips, gateway_port_detail ...);
- host names (node_name, binding_host_id), hardware serials (hosts.extra), non-hex ids, and
  names that identify one project, also as a dash/underscore/dot-separated part of a longer
  name (a real host name inside "h-az1-r01-cn04-vm1");
- IP addresses outside the ranges every site shares, and the real hosts' underlay addresses.

Fast: the sample is ingested and validated in-process, the synthetic data center is small.
"""

from __future__ import annotations

import io as _io
import ipaddress
import json
import re
import sqlite3
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import ROOT, SAMPLE
from pipeline import io
from pipeline import synthesize as S

PARAMS = io.load_params(ROOT / "params.yaml")
HOSTS = 40

# Ranges any site may use: a coincidence there identifies nobody (evaluate_synthetic agrees).
SHARED = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "192.0.2.0/24",
    "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "fc00::/7", "fe80::/10",
    "169.254.0.0/16", "127.0.0.0/8", "0.0.0.0/8", "::/128", "::1/128")]

_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
_MAC = re.compile(r"(?<![0-9a-f:])(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}(?![0-9a-f:])")
_V4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?!\d)")
_V6 = re.compile(r"(?<![0-9a-f:])([0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7})(?![0-9a-f:])")
_TOKEN = re.compile(r"[a-z0-9_.\-]+")
_SEP = re.compile(r"([-_.])")


def _shared(a) -> bool:
    return any(a.version == n.version and a in n for n in SHARED)


def _ips(text: str) -> set:
    out = set()
    for m in _V4.findall(text):
        try:
            out.add(ipaddress.ip_address(m))
        except ValueError:
            pass
    for m in _V6.findall(text):
        if re.search(r"[0-9a-f]", m):
            try:
                out.add(ipaddress.ip_address(m))
            except ValueError:
                pass
    return out


def _str(df: pd.DataFrame, col: str) -> pd.Series:
    return df[col].astype("string").str.strip().fillna("")


@dataclass
class RealIds:
    hex32: set = field(default_factory=set)    # ids, dashes dropped, lower case
    hex12: set = field(default_factory=set)    # MACs, separators dropped
    words: dict = field(default_factory=dict)  # lower-cased name/host/serial -> where it comes from
    public_ips: set = field(default_factory=set)
    local_ips: set = field(default_factory=set)

    @classmethod
    def of(cls, real: dict[str, pd.DataFrame]) -> "RealIds":
        r = cls()
        cells = []
        for df in real.values():
            for c in df.columns:
                if c != "source_file" and (pd.api.types.is_string_dtype(df[c]) or df[c].dtype == object):
                    cells.extend(v for v in _str(df, c).str.lower() if v)
        blob = "\n".join(cells)
        r.hex32 = {m.replace("-", "") for m in _UUID.findall(blob)}
        r.hex12 = {re.sub(r"[:-]", "", m) for m in _MAC.findall(blob)} - {"000000000000", "ffffffffffff"}
        r.public_ips = {a for a in _ips(blob) if not _shared(a)}
        r.local_ips = {ipaddress.ip_address(v) for v in _str(real["hosts"], "local_ip") if v}

        def add(values, where):
            for v in values:
                v = v.lower()
                # distinctive only: a digit and 5+ characters ("az1-r01-cn04", "jdoe41");
                # plain words ("lab", "internal") are vocabulary and match everything
                if len(v) >= 5 and re.search(r"\d", v) and not re.fullmatch(r"[0-9a-f-]{32,36}", v):
                    r.words.setdefault(v, where)

        add(_str(real["hosts"], "node_name"), "hosts.node_name")
        add(_str(real["ports"], "binding_host_id"), "ports.binding_host_id")
        for t, df in real.items():  # ids that are not UUIDs (host ids = node names, lb-<uuid> ...)
            for c in df.columns:
                if (c == "id" or c.endswith("_id")) and pd.api.types.is_string_dtype(df[c]):
                    add(_str(df, c), f"{t}.{c}")
        for v in _str(real["hosts"], "extra"):
            if v:
                add([str(json.loads(v).get("serial") or "")], "hosts.extra.serial")
        owners = defaultdict(set)  # names of one project only identify it (evaluate_synthetic)
        for t, cols in {"networks": ["name"], "subnets": ["name"], "ports": ["name", "dns_name"],
                        "security_groups": ["name"], "routers": ["name"]}.items():
            for c in cols:
                for n, p in zip(_str(real[t], c), _str(real[t], "project_id")):
                    if n:
                        owners[(n, f"{t}.{c}")].add(p)
        per_name = defaultdict(set)
        for (n, _), ps in owners.items():
            per_name[n] |= ps
        add([n for n, ps in per_name.items() if len(ps) == 1], "name of one project")
        return r

    def scan(self, text: str, allowed_ips: frozenset = frozenset()) -> dict[str, set]:
        """Real identifiers found in `text` (any case, any MAC/UUID separator)."""
        hits = defaultdict(set)
        low = text.lower()
        for run in re.findall(r"[0-9a-f]{12,}", re.sub(r"[:\-]", "", low)):
            for i in range(len(run) - 31):
                if run[i:i + 32] in self.hex32:
                    hits["id"].add(run[i:i + 32])
            for i in range(len(run) - 11):
                if run[i:i + 12] in self.hex12:
                    hits["mac"].add(run[i:i + 12])
        for a in _ips(low):
            if a in self.public_ips:
                hits["public ip"].add(str(a))
            if a in self.local_ips and a not in allowed_ips:
                hits["host local_ip"].add(str(a))
        for tok in set(_TOKEN.findall(low)):
            parts = _SEP.split(tok)
            segs = len(parts[0::2])
            for i in range(segs):
                for j in range(i, segs):
                    sub = "".join(parts[2 * i:2 * j + 1])
                    if sub in self.words:
                        hits[self.words[sub]].add(sub)
        return dict(hits)


def _file_texts(root: Path):
    """(relative path, text) of every file under root: parquet as its cells, zip members
    unpacked, anything else as bytes (latin-1 keeps every byte)."""
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        rel = str(p.relative_to(root))
        if p.suffix == ".parquet":
            df = pd.read_parquet(p)
            yield rel, "\n".join(df[c].dropna().astype(str).str.cat(sep="\n") for c in df.columns)
            continue
        data = p.read_bytes()
        yield rel, data.decode("latin-1")
        if zipfile.is_zipfile(_io.BytesIO(data)):
            with zipfile.ZipFile(_io.BytesIO(data)) as z:
                for n in z.namelist():
                    yield f"{rel}!{n}", z.read(n).decode("latin-1")


def _leaks(ids: RealIds, root: Path, allowed_ips=frozenset()) -> dict[str, dict]:
    out = {}
    for rel, text in _file_texts(root):
        hits = ids.scan(text, allowed_ips)
        if hits:
            out[rel] = {k: sorted(v)[:5] for k, v in hits.items()}
    return out


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def real():
    from pipeline.ingest import ingest_dir
    from pipeline.validate import validate_tables

    tables, _ = ingest_dir(SAMPLE, {"workers": 1})
    return validate_tables(tables, PARAMS.get("validate")).valid


@pytest.fixture(scope="module")
def real_ids(real):
    return RealIds.of(real)


def _params(hosts=HOSTS, seed=5):
    return {**PARAMS, "synthesize": {**PARAMS["synthesize"], "hosts": hosts, "seed": seed},
            "export": {**PARAMS["export"], "workers": 1}}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, real):
    """The synthesize and export stages' files, as `dcnet synthesize` / `dcnet export` write them."""
    from pipeline.export import FORMATS, export_tables

    root = tmp_path_factory.mktemp("privacy")
    profiles = S.profiles_from(None, None, real, PARAMS)
    model, syn, _ = S.run(real, profiles, _params())
    io.write_tables(syn, root / "data" / "synthetic")
    io.write_json(model, root / "models" / "synth_model.json")
    export_tables(syn, list(FORMATS), root / "data" / "export", _params())
    return root, syn


def _tenant_addresses(syn) -> frozenset:
    """Addresses the synthetic data center itself uses for tenants (RFC 1918 space may
    coincide with a real site's underlay: that is the synthetic plan, not a copy)."""
    vals = set(_str(syn["port_ips"], "ip_address")) | set(_str(syn["subnets"], "gateway_ip"))
    vals |= set(_str(syn["router_interfaces"], "ip_address"))
    return frozenset(ipaddress.ip_address(v) for v in vals if v)


# ------------------------------------------------------------------ tests


def test_the_scanner_finds_planted_identifiers(real, real_ids, tmp_path):
    """The scan itself: real values in other spellings are found, synthetic-looking text is not."""
    h, p = real["hosts"], real["ports"]
    uuid = p["id"].iloc[7]
    mac = p["mac_address"].iloc[5]
    host = h["node_name"].iloc[3]
    serial = json.loads(h["extra"].dropna().iloc[0])["serial"]
    public = next(iter(real_ids.public_ips))
    (tmp_path / "plant.txt").write_text(
        f"node h-{host}-vm1 mac {mac.replace(':', '-').upper()} id {uuid.replace('-', '')}\n"
        f"dns {public} sn {serial} underlay {h['local_ip'].iloc[9]}\n")
    hits = _leaks(real_ids, tmp_path)["plant.txt"]
    assert set(hits) >= {"id", "mac", "public ip", "host local_ip", "hosts.node_name",
                         "hosts.extra.serial"}, hits
    (tmp_path / "plant.txt").write_text("syn-web-net1 02:f5:00:00:00:01 10.0.0.1 az1-r001-h0001 default\n")
    assert _leaks(real_ids, tmp_path) == {}
    # the identifier sets are not trivially empty
    assert len(real_ids.hex32) > 7000 and len(real_ids.hex12) > 7000 and len(real_ids.words) > 300
    assert len(real_ids.local_ips) == len(real["hosts"])


def test_synthetic_tables_model_and_exports_carry_no_real_identifier(outputs, real_ids):
    root, syn = outputs
    files = [rel for rel, _ in _file_texts(root)]
    assert any(f.startswith("data/synthetic/") for f in files)
    assert "models/synth_model.json" in files
    for fmt in ("mininet", "merak", "alcor", "containerlab", "graphml"):
        assert any(f.startswith(f"data/export/{fmt}/") for f in files), fmt
    leaks = _leaks(real_ids, root, _tenant_addresses(syn))
    assert leaks == {}, json.dumps(leaks, indent=1)[:3000]


def test_host_underlay_and_tenant_address_plan_are_not_copied(real, outputs):
    _, syn = outputs
    real_local = set(_str(real["hosts"], "local_ip"))
    syn_local = set(_str(syn["hosts"], "local_ip"))
    assert syn_local and not syn_local & real_local
    # Tenant addresses are RFC 1918 on both sides, so single addresses may coincide; the same
    # (address, subnet) pairs in bulk would mean a copied address plan (0 on the sample).
    def pairs(t):
        cidr = t["subnets"].set_index("id")["cidr"].astype(str)
        pi = t["port_ips"]
        return set(zip(pi["ip_address"].astype(str), pi["subnet_id"].map(cidr).astype(str)))
    same = pairs(syn) & pairs(real)
    assert len(same) <= 0.01 * len(pairs(syn)), sorted(same)[:5]


def test_a_naming_label_of_one_real_project_does_not_reach_synthetic_outputs(real):
    from pipeline import labels as L

    token = "zephyrcorp"
    gt = set(_str(real["project_labels"], "project_id"))
    subs = real["subnets"].copy()
    victim = next(p for p in _str(subs, "project_id").unique() if p and p not in gt)
    mine = _str(subs, "project_id") == victim
    subs.loc[mine, "name"] = [f"acme-{token}-sn{i:02d}" for i in range(int(mine.sum()))]
    tables = {**real, "subnets": subs}
    lab, _ = L.build_labels(L.project_profile(tables, PARAMS), ["ground_truth", "naming"])
    # A naming token outside the class vocabulary (labels.classes, aliases, ground truth) is a
    # name fragment, not a label.
    assert lab.loc[lab["id"] == victim, "label"].tolist() == []
    free = {**PARAMS, "labels": {**PARAMS["labels"], "classes": [token]}}
    lab_free, _ = L.build_labels(L.project_profile(tables, free), ["ground_truth", "naming"])
    assert lab_free.loc[lab_free["id"] == victim, "label"].tolist() == [token]  # the test can fail
    model, syn, _ = S.run(tables, S.profiles_from(lab, None, tables, PARAMS), _params(hosts=240))
    assert token not in json.dumps(model)
    for name, df in syn.items():
        for c in df.columns:
            assert not _str(df, c).str.contains(token, regex=False).any(), f"{name}.{c}"


@pytest.mark.slow
@pytest.mark.xdist_group("mlflow")
@pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy")
def test_mlflow_runs_on_the_real_sample_carry_no_real_identifier(tmp_path, real, real_ids, outputs,
                                                                  monkeypatch):
    """`dcnet train` (project_profile, on the sample's features and labels) and
    `dcnet evaluate-synthetic` (sample vs the synthetic data center) logged to a fresh MLflow
    store: every text column of every table, the raw DB bytes and every artifact (models
    unzipped, input examples, CSV/JSON, PNG metadata) are scanned."""
    from pipeline.cli import app

    _, syn = outputs
    io.write_tables(real, tmp_path / "validated")
    io.write_tables(syn, tmp_path / "synthetic")
    params = {**PARAMS, "train": {**PARAMS["train"], "cv_folds": 3,
                                  "models": {**PARAMS["train"]["models"],
                                             "random_forest": {"n_estimators": 20}}}}
    (tmp_path / "params.yaml").write_text(json.dumps(params))  # JSON is YAML
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    cli = CliRunner()
    p = ["--params", "params.yaml"]
    for args in (["features", "--input", "validated", "--out", "features"],
                 ["labels", "--input", "validated", "--out", "labels", "--report", "labels.json"],
                 ["train", "--task", "project_profile", "--features", "features", "--labels", "labels",
                  "--validated", "validated", "--models", "models", "--report", "train.json",
                  "--plots", "plots"],
                 ["evaluate-synthetic", "--real", "validated", "--synthetic", "synthetic",
                  "--labels", "labels", "--predictions", "nopreds", "--models", "models",
                  "--report", "synthetic.json", "--plots", "plots", "--no-enforce"]):
        res = cli.invoke(app, args + p)
        assert res.exit_code == 0, (args[0], res.output)

    con = sqlite3.connect(tmp_path / "mlflow.db")
    assert con.execute("select count(*) from runs").fetchone()[0] == 2
    assert con.execute("select count(*) from datasets").fetchone()[0] >= 1
    leaks = {}
    for (t,) in con.execute("select name from sqlite_master where type='table'"):
        for row in con.execute(f'select * from "{t}"'):
            hits = real_ids.scan(" ".join(v.decode("latin-1") if isinstance(v, bytes) else str(v)
                                          for v in row))
            if hits:
                leaks[f"mlflow.db:{t}"] = hits
    con.close()
    raw = real_ids.scan((tmp_path / "mlflow.db").read_bytes().decode("latin-1"))
    if raw:
        leaks["mlflow.db (raw bytes)"] = raw
    art = tmp_path / "mlartifacts"
    assert sum(1 for f in art.rglob("*") if f.is_file()) > 10
    assert any(f.name == "input_example.json" for f in art.rglob("*"))
    leaks |= {f"mlartifacts/{k}": v for k, v in _leaks(real_ids, art).items()}
    assert leaks == {}, json.dumps({k: {c: sorted(v)[:5] for c, v in h.items()} for k, h in leaks.items()},
                                   indent=1, default=list)[:3000]


# ------------------------------------------------------------------ planted free text

# Columns whose values are addresses, MACs, ids (the scans above), validated vocabularies
# (direction, ethertype, protocol: validation quarantines anything else), class labels, or
# provenance: no free text to plant there.
_NOT_FREE = {"node_name", "binding_host_id", "mac_address", "host_dvr_mac", "local_ip", "cidr",
             "gateway_ip", "ip_address", "start", "end", "floating_ip_address",
             "fixed_ip_address", "remote_ip_prefix", "source_file", "ingest_errors",
             "direction", "ethertype", "protocol", "profile", "allowed_address_pairs",
             "host_routes", "dns_nameservers", "external_fixed_ips", "routes"}
_MARK = re.compile(r"zqx\d{4}plant")


def _free_text_columns(real) -> dict[str, list[str]]:
    from schemas.model import STR, TABLES

    return {t: [c.name for c in TABLES[t].columns
                if c.dtype == STR and c.name not in _NOT_FREE and c.name != "id"
                and not c.name.endswith("_id")]
            for t in TABLES if len(real[t])}


def _planted(real) -> tuple[dict, list[str]]:
    """A copy of the validated tables with a unique marker in every free-text column."""
    tables, marks = {}, []
    for t, df in real.items():
        df = df.copy()
        for c in _free_text_columns(real).get(t, []):
            mark = f"zqx{len(marks):04d}plant"
            marks.append(f"{t}.{c}={mark}")
            if c == "extra":
                df[c] = [json.dumps({**(json.loads(v) if isinstance(v, str) and v else {}),
                                     "note": mark}) for v in df[c]]
            elif c == "availability_zones":
                df[c] = json.dumps([mark])
            elif c == "device_owner":  # the zone part of compute owners is free text
                vm = df[c].str.startswith("compute:").fillna(False)
                df.loc[vm, c] = f"compute:{mark}"
            else:
                df[c] = mark
        tables[t] = df
    return tables, marks


def test_planted_free_text_reaches_no_synthetic_table_model_or_export(real, tmp_path):
    from pipeline.export import FORMATS, export_tables

    planted, marks = _planted(real)
    cols = {m.split("=")[0] for m in marks}
    # every kind of free text is planted: statuses, types, names, descriptions, zones,
    # timestamps, JSON (extra, availability_zones)
    assert {"ports.status", "ports.binding_vif_type", "ports.binding_vnic_type", "ports.extra",
            "networks.network_type", "networks.availability_zones", "ports.created_at",
            "security_groups.description", "floating_ips.status", "routers.status",
            "hosts.availability_zone", "subnets.ipv6_address_mode", "ports.device_owner"} <= cols
    profiles = S.profiles_from(None, None, planted, PARAMS)
    model, syn, summary = S.run(planted, profiles, _params())
    io.write_tables(syn, tmp_path / "data" / "synthetic")
    io.write_json(model, tmp_path / "models" / "synth_model.json")
    export_tables(syn, list(FORMATS), tmp_path / "data" / "export", _params())
    found = {}
    for rel, text in _file_texts(tmp_path):
        hits = set(_MARK.findall(text))
        if hits:
            found[rel] = sorted(hits)[:5]
    assert found == {}, (found, [m for m in marks if any(m.split("=")[1] in h for h in found.values())])
    # the out-of-vocabulary values were replaced, and counted
    assert summary["replaced_values"]["ports.status"] == len(real["ports"])
    assert model["replaced_values"]["networks.network_type"] == len(real["networks"])


def test_evaluate_synthetic_counts_free_text_found_anywhere_in_the_synthetic_tables(real):
    from pipeline.evaluate_synthetic import exact_overlap

    rules = real["security_group_rules"].copy()
    rules.loc[rules.index[0], "description"] = "allow backup from zqx-vault-7731"
    syn = {k: v.iloc[0:0] for k, v in real.items()}
    from schemas.model import conform

    ports = conform(pd.DataFrame({"id": ["p"], "source_file": ["synthetic"], "source_pos": [0],
                                  "extra": [json.dumps({"note": ["allow backup from zqx-vault-7731"]})]}),
                    "ports")
    syn["ports"] = ports
    ov = exact_overlap({**real, "security_group_rules": rules}, syn)
    assert ov["free_text"] == {"count": 1, "by_column": {"ports.extra": 1}}
    assert ov["total"] == 1
