"""pipeline/synthesize/: learn from the embedded sample, generate data centers of other sizes.

The real input is the sample dump run through ingest + validate in-process (once per session).
Scales are small (tens to hundreds of hosts) so the file runs in seconds.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import io
from pipeline import synthesize as S
from pipeline.errors import StageFailed
from schemas.model import ROUTER_INTERFACE_OWNERS, TABLES

ROOT = Path(__file__).resolve().parents[2]
PARAMS = io.load_params(ROOT / "params.yaml")

# Every synthetic address must lie in a range any site may use (private, shared, documentation,
# ULA): then no synthetic address can point at a real public host.
SHARED = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "192.0.2.0/24",
    "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "fc00::/7")]  # and "any" (/0)


def params(hosts=60, projects=None, seed=7, **extra):
    sp = {**PARAMS["synthesize"], "hosts": hosts, "projects": projects, "seed": seed, **extra}
    return {**PARAMS, "synthesize": sp}


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def real(sample_dir):
    from pipeline.ingest import ingest_dir
    from pipeline.validate import validate_tables

    tables, _ = ingest_dir(sample_dir, PARAMS.get("ingest") or {})
    return validate_tables(tables, PARAMS.get("validate")).valid


@pytest.fixture(scope="session")
def profiles(real):
    return S.profiles_from(None, None, real, PARAMS)


@pytest.fixture(scope="session")
def model(real, profiles):
    return S.learn(real, profiles, PARAMS)


@pytest.fixture(scope="session")
def exclude(real):
    return S.Exclusions.from_tables(real)


@pytest.fixture(scope="session")
def dc300(model, exclude):
    return S.generate(model, params(hosts=300, seed=3), exclude=exclude)


def _validate(tables):
    from pipeline.validate import validate_tables

    return validate_tables(tables, PARAMS.get("validate")).report


def _s(df, col):
    return df[col].astype("string").fillna("")


# ------------------------------------------------------------------ the learned model


def test_model_learns_kinds_and_their_differences(model, profiles):
    assert model["format"] == S.MODEL_FORMAT
    kinds = set(model["kinds"])
    assert {"web", "hpc", "bigdata", "kubernetes", "database", "devtest"} <= kinds
    assert sum(model["mix"].values()) == model["source"]["tenant_projects"] == 80
    k = model["kinds"]
    # Alcor VPCs are a kubernetes trait in the sample; jumbo frames an hpc one
    assert (k["kubernetes"]["vpc_share"] or 0) > 0.5 and not k["web"]["vpc_share"]
    assert any(v[0][1] == 8950 for v in k["hpc"]["network"])
    # hpc packs VMs on few hosts, bigdata spreads them one per host
    def spread(kind):
        pairs = k[kind]["vm_spread"]
        return sum(h / v * c for (v, h), c in pairs) / sum(c for _, c in pairs)
    assert spread("hpc") < 0.5 < 0.9 < spread("bigdata")
    assert model["infra"]["zones"] == 2 and model["infra"]["network_nodes"] == 4


def test_model_is_json_counts_with_no_real_identifier(model, real):
    text = json.dumps(model, sort_keys=True)
    assert json.loads(text) == model  # plain JSON, round-trips

    strings = set()

    def walk(x):  # values: the keys are this module's field names (and the kind names)
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, str):
            strings.add(x)

    walk(model)
    real_values = set()
    for name, t in TABLES.items():
        df = real[name]
        for col in t.column_names:
            if col in ("source_file", "extra", "ingest_errors", "description"):
                continue
            if (col in ("id", "name", "node_name", "mac_address", "host_dvr_mac", "cidr",
                        "ip_address", "gateway_ip", "local_ip", "start", "end", "dns_name",
                        "device_id", "binding_host_id", "remote_ip_prefix", "floating_ip_address",
                        "fixed_ip_address", "physical_network", "ncm_id", "ncm_uri", "veth_name")
                    or col.endswith("_id")):
                real_values |= set(_s(df, col)) - {""}
    # Kind names are the profile vocabulary (labels), not identifiers; some equal a group name.
    leaked = (strings & real_values) - set(model["kinds"])
    assert not leaked, sorted(leaked)[:10]
    assert not re.search(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b", text), "an IPv4 address in the model"
    assert not re.search(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", text), "a MAC in the model"
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-|[0-9a-f]{32}", text), "an id in the model"
    # real names of things are nowhere (a few sample examples, checked explicitly)
    for name in ("az1-r01-cn01", "public", "physnet-ext", "k8s-api-vip", "ustc-web-net01"):
        assert name in real_values and name not in strings


def test_learn_without_profiles_uses_one_kind_and_unlabelled_projects_get_other(real):
    m = S.learn(real, None, PARAMS)
    assert list(m["kinds"]) == [S.FALLBACK_KIND] and m["mix"] == {"all": 80}
    one = real["project_labels"]["project_id"].astype(str).iloc[0]
    m2 = S.learn(real, pd.Series({one: "web"}), PARAMS)
    assert m2["mix"] == {"other": 79, "web": 1}


def test_profiles_prefer_labels_then_predictions():
    labels = pd.DataFrame({"id": ["p1", "p2"], "label": ["web", "hpc"], "source": ["ground_truth", "naming"]})
    preds = pd.DataFrame({"id": ["p1", "p3"], "predicted": ["devtest", "bigdata"], "probability": [0.9, 0.8]})
    got = S.profiles_from(labels, preds)
    assert got.to_dict() == {"p1": "web", "p2": "hpc", "p3": "bigdata"}
    assert len(S.profiles_from(None, None)) == 0


# ------------------------------------------------------------------ validity and structure


@pytest.mark.parametrize("hosts,seed", [(20, 1), (60, 2), (300, 3)])
def test_generated_tables_pass_validation_without_a_single_quarantined_row(model, exclude, hosts, seed):
    out = S.generate(model, params(hosts=hosts, seed=seed), exclude=exclude)
    assert list(out) == list(TABLES)
    for name, df in out.items():
        t = TABLES[name]
        assert list(df.columns) == t.column_names, name
        assert [str(d) for d in df.dtypes] == [str(pd.api.types.pandas_dtype(c.dtype)) for c in t.columns], name
        assert df["ingest_errors"].isna().all() and (df["source_file"] == "synthetic").all()
        assert df["source_pos"].tolist() == list(range(len(df)))
        if "extra" in df:
            assert df["extra"].isna().all()
    rep = _validate(out)
    assert rep["totals"]["rows_quarantined"] == 0, rep["totals"]["by_check"]
    assert rep["totals"]["warnings"] == 0
    assert len(out["ports"]) > 10 * hosts and len(out["fabric_links"]) > hosts


def test_scale_parameters_are_honoured(model, exclude):
    mix = {"web": 2, "hpc": 1, "devtest": 2}
    out = S.generate(model, params(hosts=120, projects=50, seed=5, mix=mix), exclude=exclude)
    hosts = out["hosts"]
    compute = hosts[~_s(hosts, "node_name").str.contains("-n")]
    assert len(compute) == 120
    assert len(hosts) - len(compute) == max(1, round(model["infra"]["netnode_ratio"] * 120))
    assert sorted(hosts["availability_zone"].unique()) == ["az1", "az2"]
    labels = out["project_labels"]
    assert len(labels) == 50 and labels["project_id"].is_unique
    owners = set(_s(out["networks"], "project_id")) | set(_s(out["ports"], "project_id"))
    admin = set(_s(out["networks"][out["networks"]["router_external"]], "project_id"))
    assert owners - admin - {""} <= set(labels["project_id"])
    # projects: auto scales with hosts as learned (80 projects on 240 compute hosts)
    auto = S.generate(model, params(hosts=30, projects="auto", seed=5, mix=mix), exclude=exclude)
    assert len(auto["project_labels"]) == 10


def test_projects_of_the_fallback_kind_carry_no_label(model, exclude):
    # as in the input, projects without a profile have no ground truth and no kind in names
    out = S.generate(model, params(hosts=60, projects=40, mix={"other": 1, "web": 1}), exclude=exclude)
    assert out["project_labels"]["profile"].tolist() == ["web"] * 20
    from pipeline.labels import naming_labels

    assert set(naming_labels(out, PARAMS)["label"]) == {"web"}
    nets = out["networks"]
    other = (set(_s(nets[~nets["router_external"]], "project_id"))
             - set(out["project_labels"]["project_id"]))
    names = out["subnets"][out["subnets"]["project_id"].isin(other)]["name"]
    assert len(names) and names.str.match(r"^syn-sn\d+$").all()


def test_explicit_mix_is_honoured_and_unknown_kinds_are_refused(model, exclude):
    out = S.generate(model, params(hosts=40, projects=40, mix={"web": 0.5, "hpc": 0.25, "devtest": 0.25}),
                     exclude=exclude)
    assert out["project_labels"]["profile"].value_counts().to_dict() == {"web": 20, "hpc": 10, "devtest": 10}
    # the subnet naming convention carries the kind, so the naming labeler finds it again
    from pipeline.labels import naming_labels

    named = naming_labels(out, PARAMS).set_index("id")["label"]
    truth = out["project_labels"].set_index("project_id")["profile"]
    assert len(named) > 30 and (named == truth.reindex(named.index)).all()
    with pytest.raises(S.SynthParamsError, match="unknown kind.*cloudgaming"):
        S.generate(model, params(hosts=40, mix={"cloudgaming": 1.0}))


def test_references_resolve_and_the_ip_plan_is_coherent(dc300):
    t = dc300
    ports, subs, nets = t["ports"], t["subnets"], t["networks"]
    assert set(ports["network_id"]) <= set(nets["id"])
    assert set(t["port_ips"]["port_id"]) <= set(ports["id"])
    assert set(t["port_ips"]["subnet_id"]) <= set(subs["id"])
    assert set(_s(ports, "binding_host_id")) - {""} <= set(t["hosts"]["node_name"])
    assert set(t["port_security_groups"]["security_group_id"]) <= set(t["security_groups"]["id"])
    rules = t["security_group_rules"]
    assert set(rules["remote_group_id"].dropna()) <= set(t["security_groups"]["id"])
    # rules learned as "from one of the project's own subnets" point at such a subnet
    own = set(zip(subs["project_id"], subs["cidr"]))
    with_prefix = rules.dropna(subset=["remote_ip_prefix"])
    assert sum((p, c) in own for p, c in zip(with_prefix["project_id"], with_prefix["remote_ip_prefix"])) > 5
    # a port's groups belong to its own project
    psg = t["port_security_groups"].merge(ports[["id", "project_id"]], left_on="port_id", right_on="id")
    psg = psg.merge(t["security_groups"][["id", "project_id"]], left_on="security_group_id",
                    right_on="id", suffixes=("", "_g"))
    assert (psg["project_id"] == psg["project_id_g"]).all()
    # router interfaces: ports owned by the router, at the subnet gateway
    ri = t["router_interfaces"].merge(ports, left_on="port_id", right_on="id", suffixes=("", "_p"))
    assert ri["device_owner"].isin(ROUTER_INTERFACE_OWNERS).all()
    assert (ri["device_id"] == ri["router_id"]).all() and set(ri["router_id"]) <= set(t["routers"]["id"])
    gw = subs.set_index("id")["gateway_ip"]
    assert (ri["ip_address"].to_numpy() == gw.reindex(ri["subnet_id"]).to_numpy()).all()
    assert set(subs["attached_router_id"].dropna()) <= set(t["routers"]["id"])
    # floating IPs: port, router and fixed address agree, address on the external network
    ext = set(nets.loc[nets["router_external"], "id"])
    fip = t["floating_ips"]
    assert set(fip["floating_network_id"]) <= ext and fip["port_id"].notna().any()
    a = fip.dropna(subset=["port_id"]).merge(t["port_ips"][t["port_ips"]["ip_index"] == 0],
                                             on="port_id")
    assert (a["fixed_ip_address"] == a["ip_address"]).all()
    rif = t["router_interfaces"][["router_id", "subnet_id"]]
    assert len(a.merge(rif, on=["router_id", "subnet_id"])) == len(a)
    fport = ports[ports["device_owner"] == "network:floatingip"]
    assert set(fport["device_id"]) == set(fip["id"]) and set(fport["network_id"]) <= ext
    gwp = ports[ports["device_owner"] == "network:router_gateway"]
    assert set(gwp["device_id"]) == set(t["routers"].loc[t["routers"]["gateway_network_id"].notna(), "id"])
    # fabric: every host linked once to its rack's switch
    links = t["fabric_links"]
    assert sorted(links.loc[links["dst_kind"] == "host", "dst_id"]) == sorted(t["hosts"]["id"])
    # IP plan: gateway = first host, DHCP ports at the first pool address, pools avoid the gateway
    v4 = subs[subs["ip_version"] == 4]
    for _, s in v4.iterrows():
        net = ipaddress.ip_network(s["cidr"])
        if pd.notna(s["gateway_ip"]):
            assert ipaddress.ip_address(s["gateway_ip"]) == net.network_address + 1
    pools = t["allocation_pools"].merge(subs[["id", "gateway_ip", "cidr"]], left_on="subnet_id", right_on="id")
    dh = ports[ports["device_owner"] == "network:dhcp"][["id", "network_id"]]
    dips = t["port_ips"].merge(dh, left_on="port_id", right_on="id")
    first_pool = pools[pools["pool_index"] == 0].set_index("subnet_id")["start"]
    per_subnet = dips.sort_values("ip_address").groupby("subnet_id")["ip_address"]
    assert len(dips) and all(first_pool[sid] in list(ips) for sid, ips in per_subnet)
    # every fixed IP unique in its subnet and inside one of its pools
    pi = t["port_ips"].merge(subs[["id", "cidr"]], left_on="subnet_id", right_on="id")
    assert not pi.duplicated(["subnet_id", "ip_address"]).any()
    is4 = ~pi["ip_address"].str.contains(":")
    addr = pi.loc[is4, "ip_address"].map(lambda x: int(ipaddress.ip_address(x)))
    p4 = pools[~pools["start"].str.contains(":")]
    rng = p4.assign(lo=p4["start"].map(lambda x: int(ipaddress.ip_address(x))),
                    hi=p4["end"].map(lambda x: int(ipaddress.ip_address(x))))
    joined = pd.DataFrame({"subnet_id": pi.loc[is4, "subnet_id"], "a": addr,
                           "port_id": pi.loc[is4, "port_id"]}).merge(rng[["subnet_id", "lo", "hi"]], on="subnet_id")
    inside = joined[(joined["a"] >= joined["lo"]) & (joined["a"] <= joined["hi"])]
    ri_ports = set(t["router_interfaces"]["port_id"])  # they hold the gateway, outside the pools
    want = joined[~joined["port_id"].isin(ri_ports)][["port_id", "a"]].drop_duplicates()
    assert len(inside.drop_duplicates(["port_id", "a"])) == len(want)
    # at this scale no two tenant networks share an address block
    blocks = sorted((int(n.network_address), int(n.broadcast_address))
                    for n in map(ipaddress.ip_network, v4.loc[v4["network_id"].isin(set(nets["id"]) - ext), "cidr"]))
    assert all(b[0] > a[1] for a, b in zip(blocks, blocks[1:]))


def test_host_capacity_is_respected(model, exclude):
    out = S.generate(model, params(hosts=40, projects=25, max_ports_per_host=60, seed=4), exclude=exclude)
    per_host = _s(out["ports"], "binding_host_id").value_counts().drop("", errors="ignore")
    assert per_host.max() <= 60 and per_host.sum() > 40 * 20  # tight: the cap had to bite
    # the NICs of one VM stay on one host
    vm = out["ports"][_s(out["ports"], "device_owner").str.startswith("compute:")]
    assert (vm.groupby("device_id")["binding_host_id"].nunique() == 1).all()
    assert (vm.groupby("device_id").size() > 1).any()
    assert _validate(out)["totals"]["rows_quarantined"] == 0
    with pytest.raises(S.SynthParamsError, match="max_ports_per_host"):
        S.generate(model, params(hosts=10, projects=60, max_ports_per_host=20), exclude=exclude)


def test_vm_spread_follows_the_kind(model, exclude):
    out = S.generate(model, params(hosts=200, projects=60, mix={"hpc": 0.5, "bigdata": 0.5}, seed=9),
                     exclude=exclude)
    vm = out["ports"][_s(out["ports"], "device_owner").str.startswith("compute:")]
    vm = vm.merge(out["project_labels"], on="project_id")
    g = vm.groupby(["profile", "project_id"]).agg(vms=("device_id", "nunique"),
                                                 hosts=("binding_host_id", "nunique"))
    ratio = (g["hosts"] / g["vms"]).groupby("profile").mean()
    assert ratio["hpc"] < 0.5 and ratio["bigdata"] > 0.9


# ------------------------------------------------------------------ privacy


def test_no_identifier_overlap_with_the_real_data(real, dc300):
    def values(tables, cols):
        out = set()
        for table, col in cols:
            out |= set(_s(tables[table], col)) - {""}
        return out

    id_cols = [(t, c) for t in TABLES for c in TABLES[t].column_names if c == "id" or c.endswith("_id")]
    name_cols = [("networks", "name"), ("subnets", "name"), ("ports", "name"), ("ports", "dns_name"),
                 ("security_groups", "name"), ("routers", "name")]
    mac_cols = [("hosts", "mac_address"), ("hosts", "host_dvr_mac"), ("ports", "mac_address")]
    host_cols = [("hosts", "node_name"), ("ports", "binding_host_id")]
    for cols in (id_cols + [("ports", "device_id")], mac_cols, host_cols):
        assert not values(real, cols) & values(dc300, cols)
    # Neutron's constant group name "default" is the only shared name
    assert values(real, name_cols) & values(dc300, name_cols) <= {"default"}
    macs = values(dc300, mac_cols)
    assert all(int(m[:2], 16) & 0b10 and not int(m[:2], 16) & 1 for m in macs)  # local, unicast
    assert len(dc300["ports"]["mac_address"].unique()) == len(dc300["ports"])
    # every address or prefix lies in a range any site shares
    ip_cols = [("hosts", "local_ip"), ("networks", "cidr"), ("subnets", "cidr"), ("subnets", "gateway_ip"),
               ("allocation_pools", "start"), ("allocation_pools", "end"), ("port_ips", "ip_address"),
               ("floating_ips", "floating_ip_address"), ("security_group_rules", "remote_ip_prefix")]
    addrs = values(dc300, ip_cols)
    for dns in set(_s(dc300["subnets"], "dns_nameservers")):
        addrs |= set(json.loads(dns))
    for pairs in set(_s(dc300["ports"], "allowed_address_pairs")):
        addrs |= {p["ip_address"] for p in json.loads(pairs)}
    nets = [ipaddress.ip_network(a, strict=False) for a in addrs]
    bad = [a for a in nets if a.prefixlen and not any(a.version == n.version and a.subnet_of(n) for n in SHARED)]
    assert not bad, bad[:5]


def test_exclusions_steer_names_macs_and_hosts_away_from_real_values(model):
    import pyarrow as pa

    first = S.generate(model, params(hosts=20, seed=1))
    taken_host = first["hosts"]["node_name"].iloc[0]
    taken_name = first["networks"]["name"].iloc[1]
    salt = first["ports"]["mac_address"].iloc[0][3:5]
    free = "7e" if salt != "7e" else "7f"
    ex = S.Exclusions(ids=pa.array([first["ports"]["id"].iloc[0]]), names=pa.array([taken_name]),
                      hosts=pa.array([taken_host]),
                      mac_prefixes=frozenset(f"{p}:{s:02x}" for s in range(256) for p in ("02", "06", "0a")
                                             if f"{s:02x}" != free))
    out = S.generate(model, params(hosts=20, seed=1), exclude=ex)
    assert taken_host not in set(out["hosts"]["node_name"])
    assert taken_name not in set(out["networks"]["name"])
    assert first["ports"]["id"].iloc[0] not in set(out["ports"]["id"])
    assert out["ports"]["mac_address"].str[3:5].eq(free).all()
    assert _validate(out)["totals"]["rows_quarantined"] == 0


# ------------------------------------------------------------------ determinism, stage, CLI


def test_same_seed_same_bytes_other_seed_other_data(tmp_path, model, exclude):
    for d in ("a", "b"):
        io.write_tables(S.generate(model, params(hosts=50, seed=11), exclude=exclude), tmp_path / d)
    files = sorted(p.name for p in (tmp_path / "a").glob("*.parquet"))
    assert len(files) == len(TABLES)
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    other = S.generate(model, params(hosts=50, seed=12), exclude=exclude)
    assert set(other["ports"]["id"]).isdisjoint(pd.read_parquet(tmp_path / "a" / "ports.parquet")["id"])


def test_stage_fails_on_a_single_quarantined_row(real, model):
    broken = json.loads(json.dumps(model))
    for stats in broken["kinds"].values():
        stats["network"] = [[["vxlan", 20, True, False, True, "ACTIVE"], 1]]  # MTU 20: invalid
    with pytest.raises(StageFailed, match=r"^synthetic data failed validation: .*mtu_range") as e:
        S.run(real, None, params(hosts=20), model=broken)
    assert "\n" not in str(e.value)
    m, syn, summary = S.run(real, None, params(hosts=20), model=model)
    assert summary["validation"]["rows_quarantined"] == 0 and summary["rows"]["hosts"] == len(syn["hosts"])


def test_cli_synthesize_writes_tables_and_model(tmp_path, real):
    from typer.testing import CliRunner

    from pipeline.cli import app

    io.write_tables(real, tmp_path / "validated")
    args = ["synthesize", "--input", str(tmp_path / "validated"), "--out", str(tmp_path / "syn"),
            "--labels", str(tmp_path / "nolabels"), "--predictions", str(tmp_path / "nopreds"),
            "--model-out", str(tmp_path / "models" / "synth_model.json"), "--hosts", "30",
            "--projects", "12", "--seed", "3"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert sorted(p.stem for p in (tmp_path / "syn").glob("*.parquet")) == sorted(TABLES)
    groups = pd.read_parquet(tmp_path / "syn" / "security_groups.parquet")
    assert groups["project_id"].nunique() == 12  # every project has its default group
    # ... named as Neutron names it (a shared name, not a real identifier to avoid)
    assert (groups["name"] == "default").sum() == 12
    assert len(pd.read_parquet(tmp_path / "syn" / "project_labels.parquet")) <= 12
    m = json.loads((tmp_path / "models" / "synth_model.json").read_text())
    assert m["format"] == S.MODEL_FORMAT and "web" in m["kinds"]  # kinds from the labeler
    bad = tmp_path / "params.yaml"
    bad.write_text("synthesize:\n  mix: {nosuchkind: 1}\n")
    r = CliRunner().invoke(app, [*args, "--params", str(bad)])
    assert r.exit_code == 2 and "unknown kind" in r.output and "Traceback" not in r.output


def test_ids_spelt_differently_or_blank_never_reach_synthesis(sample_dir):
    """Copies of ports under another spelling of their id (upper case, trailing blank) and
    blank ids are resolved or quarantined by validation; synthesis learns from the rest."""
    from pipeline.ingest import ingest_dir
    from pipeline.validate import validate_tables

    tables, _ = ingest_dir(sample_dir, PARAMS.get("ingest") or {})
    ports = tables["ports"]
    compute = ports[ports["device_owner"].str.startswith("compute:").fillna(False)].head(3)
    upper = compute.assign(id=compute["id"].str.upper(), mac_address="fa:16:3e:aa:bb:01")
    spaced = compute.assign(id=compute["id"] + " ", source_pos=compute["source_pos"] + 10**6)
    blank = compute.head(2).assign(id=["", "  "], mac_address=["fa:16:3e:aa:bb:02",
                                                                "fa:16:3e:aa:bb:03"])
    tables["ports"] = pd.concat([ports, upper, spaced, blank], ignore_index=True)
    res = validate_tables(tables, PARAMS.get("validate"))
    q = res.quarantine["ports"]
    assert (q["check"] == "id_missing").sum() == 2, q["check"].tolist()
    assert q["check"].isin(["duplicate_id", "superseded"]).sum() >= 6
    valid = res.valid["ports"]
    assert valid["id"].is_unique and (valid["id"] == valid["id"].str.strip().str.lower()).all()
    m, syn, summary = S.run(res.valid, None, params(hosts=20))
    assert summary["validation"]["rows_quarantined"] == 0
