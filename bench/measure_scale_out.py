#!/usr/bin/env python3
"""The figures of docs/scale-out.md, measured on this machine.

Usage: measure_scale_out.py BUILD_BIN_DIR SCRATCH_DIR [--nodes 50] [--services 10]
                            [--events 200000] [--sites 10] [--minutes 2]

1. bench_generate writes a homelab of NODES x SERVICES with EVENTS events;
   `homelab-observer run --web.site-name s0` serves it. Series per site:
   the sample lines of its /metrics.
2. A site Prometheus scrapes it (external_labels site=s0); its /federate
   (the match[] of deploy/multi-site/global-prometheus.yml) is timed and
   weighed, plain and gzipped.
3. SITES simulated sites: that /federate body, relabelled s0..s{SITES-1},
   served from here; a global Prometheus federates all of them as
   global-prometheus.yml does. Reported: its scrape durations, samples per
   scrape, head series and memory.
4. A Prometheus agent scrapes the observer every 15 s and remote-writes to
   the global Prometheus for MINUTES minutes: bytes sent per minute
   (prometheus_remote_storage_bytes_total, compressed, as on the wire).
Prints a Markdown summary. Needs prometheus; Python 3 standard library.
"""
import argparse
import gzip
import http.server
import json
import pathlib
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

MATCH = ['{__name__=~"homelab_.*"}', 'up{job="homelab-observer"}']


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, gz=False, timeout=30):
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gz else {})
    start = time.monotonic()
    with urllib.request.urlopen(req, timeout=timeout) as r:
        body = r.read()
    return body, time.monotonic() - start


def wait(what, pred, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}")


def query(port, expr):
    body, _ = get(f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    return json.loads(body)["data"]["result"]


def metric(text, name):
    """Sum of the samples of `name` (any labels) in an exposition."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin", type=pathlib.Path)
    ap.add_argument("scratch", type=pathlib.Path)
    ap.add_argument("--nodes", type=int, default=50)
    ap.add_argument("--services", type=int, default=10)
    ap.add_argument("--events", type=int, default=200000)
    ap.add_argument("--sites", type=int, default=10)
    ap.add_argument("--minutes", type=float, default=2)
    a = ap.parse_args()
    prometheus = shutil.which("prometheus") or sys.exit("prometheus not installed")
    scratch = a.scratch.resolve()
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    procs = []

    def start(name, argv):
        log = open(scratch / f"{name}.log", "wb")
        procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT))

    out = []
    try:
        home = scratch / "homelab"
        subprocess.run([str(a.bin / "bench_generate"), "--out", str(home), "--nodes", str(a.nodes),
                        "--services", str(a.services), "--events", str(a.events), "--files", "4"],
                       check=True, stdout=subprocess.DEVNULL)
        obs = free_port()
        start("observer", [str(a.bin / "homelab-observer"), "run", "--root", str(home), "--inventory", str(home),
                           "--now", "2026-01-01T00:00:00Z", "--web.listen-address", f"127.0.0.1:{obs}",
                           "--web.site-name", "s0"])
        wait("observer", lambda: get(f"http://127.0.0.1:{obs}/readyz")[0] is not None)
        text = get(f"http://127.0.0.1:{obs}/metrics")[0].decode()
        samples = [l for l in text.splitlines() if l and not l.startswith("#")]
        families = {}
        for l in samples:
            fam = re.sub(r"_(bucket|count|sum)$", "", re.split(r"[{ ]", l, 1)[0])
            families[fam] = families.get(fam, 0) + 1
        top = sorted(families.items(), key=lambda kv: -kv[1])[:6]
        out.append(f"- {a.nodes} nodes x {a.services} services ({a.events} events): "
                   f"**{len(samples)} series** per site, /metrics {len(text.encode()) / 1024:.0f} KiB; "
                   f"largest families: " + ", ".join(f"{k} {v}" for k, v in top))

        # 2. a site Prometheus and its /federate
        site_port = free_port()
        (scratch / "site.yml").write_text(
            "global: {scrape_interval: 5s, external_labels: {site: s0}}\n"
            "scrape_configs:\n  - job_name: homelab-observer\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{obs}']}}]\n")
        start("site", [prometheus, f"--config.file={scratch / 'site.yml'}",
                       f"--storage.tsdb.path={scratch / 'site-tsdb'}", f"--web.listen-address=127.0.0.1:{site_port}"])
        wait("site scrapes", lambda: query(site_port, 'count_over_time(up{job="homelab-observer"}[1m]) >= 2'))
        fed_url = f"http://127.0.0.1:{site_port}/federate?" + urllib.parse.urlencode([("match[]", m) for m in MATCH])
        plain, times_gz = None, []
        for _ in range(10):
            plain, _t = get(fed_url)
            body_gz, t = get(fed_url, gz=True)
            times_gz.append(t)
        fed_series = len([l for l in plain.splitlines() if l and not l.startswith(b"#")])
        out.append(f"- /federate of one site: {len(plain) / 1024:.0f} KiB plain, "
                   f"{len(body_gz) / 1024:.0f} KiB gzipped, {fed_series} series; "
                   f"answered in {statistics.median(times_gz) * 1000:.0f} ms (median of 10, gzip)")

        # 3. SITES simulated sites federated by a global Prometheus
        bodies = {f"s{i}": gzip.compress(plain.replace(b'site="s0"', f'site="s{i}"'.encode()))
                  for i in range(a.sites)}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                site = self.path.split("/")[1]
                body = bodies.get(site)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        fake = server.server_address[1]
        glob = free_port()
        jobs = "".join(
            f"  - job_name: federate-s{i}\n    honor_labels: true\n    honor_timestamps: false\n"
            f"    metrics_path: /s{i}/federate\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{fake}'], labels: {{site: s{i}}}}}]\n"
            for i in range(a.sites))
        (scratch / "global.yml").write_text("global: {scrape_interval: 15s}\nscrape_configs:\n" + jobs)
        start("global", [prometheus, f"--config.file={scratch / 'global.yml'}", "--web.enable-remote-write-receiver",
                         f"--storage.tsdb.path={scratch / 'global-tsdb'}", f"--web.listen-address=127.0.0.1:{glob}"])
        wait("global scrapes", lambda: len(query(glob, 'count_over_time(up{job=~"federate.*"}[5m]) >= 3')) == a.sites,
             timeout=180)
        durations = [float(r["value"][1]) for r in query(glob, 'max_over_time(scrape_duration_seconds{job=~"federate.*"}[5m])')]
        per_scrape = [float(r["value"][1]) for r in query(glob, 'scrape_samples_scraped{job=~"federate.*"}')]
        own = get(f"http://127.0.0.1:{glob}/metrics")[0].decode()  # not scraped by itself
        head = f"{metric(own, 'prometheus_tsdb_head_series'):.0f}"
        rss = metric(own, "process_resident_memory_bytes")
        out.append(f"- {a.sites} sites federated every 15 s: {sum(per_scrape):.0f} samples per round "
                   f"({statistics.mean(per_scrape):.0f} per site, {len(bodies['s0']) / 1024:.0f} KiB gzipped each, "
                   f"{len(bodies['s0']) * a.sites * 4 / 1024 / 1024:.1f} MiB per minute in all); "
                   f"slowest scrape {max(durations) * 1000:.0f} ms; global head series {head}, "
                   f"resident memory {rss / 1024 / 1024:.0f} MiB")
        server.shutdown()

        # 4. an agent remote-writing the site
        agent = free_port()
        (scratch / "agent.yml").write_text(
            "global: {scrape_interval: 15s, external_labels: {site: s0}}\n"
            "scrape_configs:\n  - job_name: homelab-observer\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{obs}']}}]\n"
            f"remote_write:\n  - url: http://127.0.0.1:{glob}/api/v1/write\n"
            "    write_relabel_configs: [{source_labels: [__name__, job], "
            "regex: 'homelab_.*;.*|up;homelab-observer', action: keep}]\n")
        start("agent", [prometheus, "--enable-feature=agent", f"--config.file={scratch / 'agent.yml'}",
                        f"--storage.agent.path={scratch / 'agent-wal'}", f"--web.listen-address=127.0.0.1:{agent}"])

        def agent_metrics():
            return get(f"http://127.0.0.1:{agent}/metrics")[0].decode()
        wait("agent sending", lambda: metric(agent_metrics(), "prometheus_remote_storage_samples_total") > 0)
        t0, m0 = time.monotonic(), agent_metrics()
        time.sleep(a.minutes * 60)
        t1, m1 = time.monotonic(), agent_metrics()
        minutes = (t1 - t0) / 60
        sent = (metric(m1, "prometheus_remote_storage_bytes_total") - metric(m0, "prometheus_remote_storage_bytes_total")) / minutes
        samples_min = (metric(m1, "prometheus_remote_storage_samples_total")
                       - metric(m0, "prometheus_remote_storage_samples_total")) / minutes
        meta = (metric(m1, "prometheus_remote_storage_metadata_bytes_total")
                - metric(m0, "prometheus_remote_storage_metadata_bytes_total")) / minutes
        out.append(f"- remote-write of one site, scraped every 15 s: {samples_min:.0f} samples/min, "
                   f"**{sent / 1024:.0f} KiB/min** of samples on the wire (snappy-compressed protobuf), "
                   f"+ {meta / 1024:.1f} KiB/min metadata; {sent * 60 * 24 * 30 / 1024 / 1024 / 1024:.2f} GiB a month")
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
    print("\n".join(out))


if __name__ == "__main__":
    main()
