#!/usr/bin/env python3
"""Many sites, one view: the configs of deploy/multi-site/ on loopback.

Usage: multisite_test.py BINARY SOURCE_DIR SCRATCH_DIR

Three sites, each a copy of examples/homelab with events of its own and its
own `homelab-observer run --web.site-name SITE`:
  home, cabin  a Prometheus each (deploy/multi-site/site-prometheus.yml),
               federated by the global one (pull);
  vps          a Prometheus in agent mode (site-agent.yml and the flags of
               prometheus-agent.default) remote-writing to the global one
               (push);
  global       deploy/multi-site/global-prometheus.yml with the flags of
               prometheus-global.default, the rules rendered by
               alerts/mixin/generate.py (short `for:` durations), sending
               alerts to
  two Alertmanagers in a cluster (alertmanager-1.default,
               alertmanager-2.default) running alerts/alertmanager.example.yml,
               whose receivers point at a webhook this test serves.
The deploy files are used as they are, except for what only a test changes:
host names and ports (the *.example names -> 127.0.0.1 and free ports),
storage paths, shorter intervals, and a second site's `site` label.

Checks:
  1. every query of every dashboards/*.json returns data through the global
     Prometheus for each site alone ($site = that site), only that site's
     series; with All, queries that keep a site label show all three sites;
     the sites dashboard's table shows exactly the three sites;
  2. an incident at cabin -> exactly one notification (pager, firing) from
     the two-member cluster; its resolution -> exactly one resolved one;
  3. the vps observer killed -> HomelabSiteDown fires for vps, and for no
     other site.

Exit 0 on success, 1 on failure, 77 (skip) when prometheus or alertmanager
is not installed. Needs python3-yaml (scripts/setup.sh installs it).
"""
import http.server
import json
import os
import pathlib
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "assets"))
from promql_against_prometheus import (  # noqa: E402  (shares the dashboard query helpers)
    Prom, dashboard_queries, free_port, http_get, result_has_data, substitute, tail)

NOW = "2026-05-13T09:00:00Z"
SITES = ("home", "cabin", "vps")
PULL_SITES = ("home", "cabin")
PUSH_SITE = "vps"
KILLED = PUSH_SITE
INCIDENT_SITE = "cabin"
INCIDENT = {"node": "mstest", "service": "canary"}

# Rule settings for the test (alerts/mixin/settings.yml keys): short `for:`.
RULE_SETTINGS = {"for": {"incident_open": "0s", "site_down": "10s"}}
# Alertmanager timings for the test (the example waits 10-30 s and 5 m).
# group_interval must stay well above the cluster's peer timeout, as the
# defaults are (5m and 15s): the second member sends what it flushed one
# peer timeout earlier unless the first one's notification log says it was
# sent, so a member still holding a firing snapshot from before a resolution
# would notify "firing" again after the first member sent "resolved".
AM_TIMING = {"group_wait": "1s", "group_interval": "15s", "repeat_interval": "1h"}
PEER_TIMEOUT = "5s"   # how long the second cluster member waits for the first
QUIET_S = 12          # no second notification within this long (> PEER_TIMEOUT)
MIN_SAMPLES = 10      # samples per site in the global Prometheus before querying

STARTED = time.monotonic()


def log(message):
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


class Failure(Exception):
    pass


def wait_for(what, predicate, timeout, interval=0.5, procs=()):
    """Polls predicate() until it returns something truthy; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        for proc in procs:
            proc.check_alive()
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Proc:
    """A child process with its log file."""

    def __init__(self, name, argv, scratch):
        self.name = name
        self.log_path = scratch / f"{name}.log"
        self.argv = argv
        with open(self.log_path, "wb") as logf:
            self.proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT)

    def check_alive(self):
        if self.proc.poll() is not None:
            raise Failure(f"{self.name} exited with {self.proc.returncode}:\n"
                          f"  {' '.join(self.argv)}\n{tail(self.log_path)}")

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


class Webhook:
    """Alertmanager's webhook receiver: records every notification."""

    def __init__(self):
        self.notifications = []  # (monotonic time, path, payload)
        self.lock = threading.Lock()
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {"unparsable": body.decode("utf-8", "replace")}
                with hook.lock:
                    hook.notifications.append((time.monotonic(), self.path, payload))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def matching(self, group_labels, status=None):
        with self.lock:
            return [(t, path, p) for t, path, p in self.notifications
                    if all(p.get("groupLabels", {}).get(k) == v for k, v in group_labels.items())
                    and (status is None or p.get("status") == status)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def default_args(path):
    """The ARGS="..." of a deploy/multi-site/*.default file, split."""
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r'\s*ARGS="(.*)"\s*', line)
        if m:
            return shlex.split(m.group(1))
    raise Failure(f"{path}: no ARGS= line")


def replace_all(text, replacements, where):
    """Every key must occur: a deploy file that changed its names fails here
    instead of silently testing something else."""
    for old, new in replacements.items():
        if old not in text:
            raise Failure(f"{where}: expected {old!r} in it (the test maps it to {new!r})")
        text = text.replace(old, new)
    return text


def write_yaml(yaml, path, doc):
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def prepare_site(source, scratch, site, index):
    """A copy of the example with events of the site's own: a heartbeat of a
    node only this site has (so the sites' worlds differ) and, at one site,
    a second deployment."""
    root = scratch / site / "homelab"
    shutil.copytree(source / "examples" / "homelab", root, symlinks=True)
    for generated in ("world", "state/observer_checkpoint.json", "state/rejected-events.jsonl"):
        p = root / generated
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    events = [{"timestamp": f"2026-05-13T08:56:{index * 10:02d}Z", "type": "node_heartbeat",
               "node": f"{site}-gw"}]
    if site == "home":
        events.append({"timestamp": "2026-05-13T08:56:30Z", "type": "deployment_started",
                       "correlation_id": "multisite-home-1", "node": "home-gw", "service": "unbound"})
    (root / "events" / f"zz-{site}.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return root


def check_dashboards(source, api, failures):
    """Check 1."""
    queries = dashboard_queries(source)
    checked = 0
    for where, raw, kind, variables in queries:
        if kind == "variable":
            m = re.fullmatch(r"\s*label_values\(\s*([a-zA-Z_:][\w:]*(?:\{[^}]*\})?)\s*,\s*(\w+)\s*\)\s*", raw)
            if not m:
                failures.append(f"{where}: unsupported variable query {raw!r}")
                continue
            template = f"count by ({m.group(2)}) ({m.group(1)})"
            if m.group(2) == "site":
                expr = substitute(template, variables)
                r = api.query(expr)
                got = sorted(s["metric"].get("site", "") for s in r.get("data", {}).get("result", []))
                if got != sorted(SITES):
                    failures.append(f"{where}: sites {got}, expected {sorted(SITES)}")
                checked += 1
                continue
        else:
            template = raw
        # Each site alone: data, and only that site's.
        for site in SITES:
            try:
                expr = substitute(template.replace("${site}", site).replace("$site", site), variables)
            except KeyError as e:
                failures.append(f"{where}: unknown variable ${e.args[0]}")
                break
            r = api.query(expr)
            checked += 1
            if r.get("status") != "success":
                failures.append(f"{where} [site {site}]: error {r.get('error')}\n    {expr}")
                continue
            if kind == "annotation":
                continue
            ok, what = result_has_data(r["data"])
            if not ok:
                failures.append(f"{where} [site {site}]: no data ({what})\n    {expr}")
                continue
            result = r["data"]["result"]
            others = sorted({s["metric"].get("site") for s in result if isinstance(s, dict)
                             and s.get("metric", {}).get("site") not in (None, site)})
            if others:
                failures.append(f"{where} [site {site}]: series of other sites {others}\n    {expr}")
        if kind != "expr" or "topk(" in raw:
            continue
        # All sites: a query that keeps the site label shows all three.
        expr = substitute(template, variables)
        r = api.query(expr)
        checked += 1
        result = r.get("data", {}).get("result", [])
        if r.get("status") == "success" and result and all(isinstance(s, dict) for s in result):
            sites = {s["metric"].get("site") for s in result}
            if sites != {None} and sites != set(SITES):
                failures.append(f"{where} [All]: sites {sorted(map(str, sites))}, expected {list(SITES)}\n    {expr}")
    log(f"{len(queries)} dashboard queries, {checked} evaluations, per site and for All")

    # The sites dashboard: three sites, each row complete.
    board = json.loads((source / "dashboards" / "homelab-sites.json").read_text(encoding="utf-8"))
    table = [p for p in board["panels"] if p.get("type") == "table" and p.get("title") == "Sites"]
    if not table:
        failures.append("homelab-sites.json: no table 'Sites'")
        return
    for target in table[0]["targets"]:
        expr = substitute(target["expr"], {"site"})
        r = api.query(expr)
        got = sorted(s["metric"].get("site", "") for s in r.get("data", {}).get("result", []))
        if got != sorted(SITES):
            failures.append(f"homelab-sites.json 'Sites' {target['refId']}: rows for {got}, expected "
                            f"{sorted(SITES)}\n    {expr}")
    reporting = [p for p in board["panels"] if p.get("title") == "Sites reporting"]
    if reporting:
        r = api.query(substitute(reporting[0]["targets"][0]["expr"], {"site"}))
        value = r.get("data", {}).get("result", [{}])[0].get("value", [0, "?"])[1]
        if value != "3":
            failures.append(f"homelab-sites.json 'Sites reporting' = {value}, expected 3")
    log("sites dashboard: three sites, every column")


def diagnose(api, am_urls, node, hook):
    """What the global Prometheus, each Alertmanager and the webhook know of
    the alerts of `node`, for a failure message."""
    lines = []
    r = api.query(f'ALERTS{{node="{node}"}} or homelab_incident_open{{node="{node}"}}')
    lines.append(f"  global Prometheus: {[s['metric'] for s in r.get('data', {}).get('result', [])]}")
    now = time.time()
    r = api.api("query_range", query=f'ALERTS{{node="{node}"}}', start=f"{now - 180:.3f}", end=f"{now:.3f}",
                step="0.5")
    for s in r.get("data", {}).get("result", []):
        times = [float(v[0]) - now for v in s["values"]]
        lines.append(f"  ALERTS {s['metric'].get('severity')} {s['metric'].get('alertstate')}: "
                     f"{times[0]:.1f}s .. {times[-1]:.1f}s ({len(times)} points)")
    for url in am_urls:
        status, body = http_get(f"{url}/api/v2/alerts?filter=node%3D%22{node}%22", 5)
        try:
            alerts = [(a['labels'].get('alertname'), a['labels'].get('severity'), a['status']['state'],
                       a.get('endsAt')) for a in json.loads(body)]
        except (ValueError, KeyError, TypeError):
            alerts = body[:300]
        lines.append(f"  {url}: {alerts}")
    for at, path, p in hook.matching({}):
        lines.append(f"  webhook at {at - STARTED:.1f}s from {p.get('externalURL')}: {path} {p.get('status')} "
                     f"{p.get('groupLabels')} "
                     f"{[(a.get('status'), a.get('startsAt'), a.get('endsAt')) for a in p.get('alerts', [])]}")
    return "\n".join(lines)


def check_incident_notifies_once(root, api, am_urls, hook, procs):
    """Check 2."""
    group = {"alertname": "HomelabIncidentOpen", "site": INCIDENT_SITE, **INCIDENT}
    events = root / "events" / "zz-multisite-incident.jsonl"
    with open(events, "a", encoding="utf-8") as f:
        f.write(json.dumps({"timestamp": "2026-05-13T08:57:00Z", "type": "service_unhealthy",
                            "severity": "critical", "message": "multisite test", **INCIDENT}) + "\n")
    log(f"incident opened at {INCIDENT_SITE}: {INCIDENT['node']}/{INCIDENT['service']}, critical")
    try:
        first = wait_for("the incident's firing notification",
                         lambda: hook.matching(group, "firing"), 90, procs=procs)
    except Failure as e:
        raise Failure(f"{e}\n{diagnose(api, am_urls, INCIDENT['node'], hook)}") from None
    log(f"notified: {first[0][1]} ({len(first[0][2].get('alerts', []))} alert(s)); "
        f"watching {QUIET_S} s for a duplicate")
    time.sleep(QUIET_S)
    firing = hook.matching(group, "firing")
    incident_ids = {a["labels"].get("incident_id") for _, _, p in firing for a in p.get("alerts", [])}
    # Every notification about this incident, whatever its route.
    about = [(path, p.get("status")) for _, path, p in hook.matching({})
             if any(a["labels"].get("incident_id") in incident_ids and a["labels"].get("site") == INCIDENT_SITE
                    for a in p.get("alerts", []))]
    if len(firing) != 1 or len(about) != 1:
        raise Failure(f"expected exactly one notification for the incident, got {about}")
    severities = sorted(a["labels"].get("severity") for a in firing[0][2]["alerts"])
    if firing[0][1] != "/pager" or severities != ["critical"]:
        raise Failure(f"expected the critical alert on /pager, got {firing[0][1]} {severities}")

    with open(events, "a", encoding="utf-8") as f:
        f.write(json.dumps({"timestamp": "2026-05-13T08:58:00Z", "type": "service_recovered",
                            **INCIDENT}) + "\n")
    log("incident resolved")
    try:
        wait_for("the incident's resolved notification", lambda: hook.matching(group, "resolved"), 90,
                 procs=procs)
    except Failure as e:
        raise Failure(f"{e}\n{diagnose(api, am_urls, INCIDENT['node'], hook)}") from None
    time.sleep(QUIET_S)
    about = [(path, p.get("status")) for _, path, p in hook.matching({})
             if any(a["labels"].get("incident_id") in incident_ids and a["labels"].get("site") == INCIDENT_SITE
                    for a in p.get("alerts", []))]
    if about != [("/pager", "firing"), ("/pager", "resolved")]:
        raise Failure(f"expected one firing and one resolved notification, got {about}\n"
                      f"{diagnose(api, am_urls, INCIDENT['node'], hook)}")
    log("exactly one firing and one resolved notification from the two-member cluster")


def check_site_down(observers, api, hook, procs):
    """Check 3."""
    observers[KILLED].stop(signal.SIGKILL)
    log(f"killed the observer of {KILLED}")

    def fired():
        r = api.query('ALERTS{alertname="HomelabSiteDown"}')
        return r.get("status") == "success" and [
            (s["metric"].get("site"), s["metric"].get("alertstate")) for s in r["data"]["result"]]

    def firing_for_killed():
        alerts = fired() or []
        return (KILLED, "firing") in alerts and alerts

    alerts = wait_for(f"HomelabSiteDown firing for {KILLED}", firing_for_killed, 120, procs=procs)
    if sorted(alerts) != [(KILLED, "firing")]:
        raise Failure(f"HomelabSiteDown for {alerts}, expected only ({KILLED!r}, 'firing')")
    log(f"HomelabSiteDown fires for {KILLED} only")
    wait_for("the HomelabSiteDown notification",
             lambda: hook.matching({"alertname": "HomelabSiteDown", "site": KILLED}, "firing"), 60, procs=procs)
    alerts = fired()
    if sorted(alerts) != [(KILLED, "firing")]:
        raise Failure(f"HomelabSiteDown later for {alerts}, expected only ({KILLED!r}, 'firing')")
    log("notified; the other sites stay quiet")


def run(binary, source, scratch, yaml, prometheus, alertmanager):
    deploy = source / "deploy" / "multi-site"
    procs = []
    hook = Webhook()
    try:
        # --- the observers
        observers, roots, obs_ports = {}, {}, {}
        for i, site in enumerate(SITES):
            roots[site] = prepare_site(source, scratch, site, i)
            obs_ports[site] = free_port()
            observers[site] = Proc(f"observer-{site}", [
                str(binary), "run", "--root", str(roots[site]), "--inventory", str(roots[site]),
                "--now", NOW, "--web.listen-address", f"127.0.0.1:{obs_ports[site]}",
                "--web.site-name", site], scratch)
            procs.append(observers[site])
        for site in SITES:
            wait_for(f"{site}'s observer /readyz",
                     lambda: http_get(f"http://127.0.0.1:{obs_ports[site]}/readyz", 1)[0] == 200,
                     30, 0.2, procs)
            status, body = http_get(f"http://127.0.0.1:{obs_ports[site]}/api/v1/observer", 2)
            if status != 200 or json.loads(body).get("site") != site:
                raise Failure(f"{site}: /api/v1/observer says site {body[:200]!r}")
        log("three observers ready")

        # --- the Alertmanager cluster, with the example configuration
        am_text = (source / "alerts" / "alertmanager.example.yml").read_text(encoding="utf-8")
        am_text = replace_all(am_text, {"http://127.0.0.1:9095/": f"http://127.0.0.1:{hook.port}/"},
                              "alerts/alertmanager.example.yml")
        am_config = yaml.safe_load(am_text)

        def timings(route, root=False):
            for key, value in AM_TIMING.items():
                if root or key in route:
                    route[key] = value
            for child in route.get("routes") or []:
                timings(child)
        timings(am_config["route"], root=True)
        am_path = write_yaml(yaml, scratch / "alertmanager.yml", am_config)
        am_web = {n: free_port() for n in (1, 2)}
        am_cluster = {n: free_port() for n in (1, 2)}
        for n in (1, 2):
            other = 3 - n
            args = default_args(deploy / f"alertmanager-{n}.default")
            args = [replace_all(a, {"0.0.0.0:9094": f"127.0.0.1:{am_cluster[n]}"}, f"alertmanager-{n}.default")
                    if a.startswith("--cluster.listen-address") else
                    replace_all(a, {f"alertmanager-{other}.global.example:9094": f"127.0.0.1:{am_cluster[other]}"},
                                f"alertmanager-{n}.default")
                    if a.startswith("--cluster.peer=") else a for a in args]
            (scratch / f"am{n}").mkdir()
            procs.append(Proc(f"alertmanager-{n}", [
                alertmanager, *args, f"--config.file={am_path}", f"--storage.path={scratch / f'am{n}'}",
                f"--web.listen-address=127.0.0.1:{am_web[n]}", f"--cluster.peer-timeout={PEER_TIMEOUT}"],
                scratch))

        def cluster_ready():
            for n in (1, 2):
                status, body = http_get(f"http://127.0.0.1:{am_web[n]}/api/v2/status", 2)
                if status != 200:
                    return False
                cluster = json.loads(body).get("cluster", {})
                if cluster.get("status") != "ready" or len(cluster.get("peers") or []) != 2:
                    return False
            return True
        wait_for("a two-member Alertmanager cluster", cluster_ready, 60, procs=procs)
        log("Alertmanager cluster of two ready")

        # --- the rules, rendered with short `for:`
        settings = write_yaml(yaml, scratch / "rule-settings.yml", RULE_SETTINGS)
        rules = scratch / "homelab.rules.yml"
        subprocess.run([sys.executable, str(source / "alerts" / "mixin" / "generate.py"),
                        "--settings", str(settings), "--output", str(rules)], check=True)

        # --- the global Prometheus
        prom_ports = {name: free_port() for name in (*PULL_SITES, "global")}
        text = replace_all((deploy / "global-prometheus.yml").read_text(encoding="utf-8"), {
            "/etc/prometheus/rules/homelab.rules.yml": str(rules),
            "alertmanager-1.global.example:9093": f"127.0.0.1:{am_web[1]}",
            "alertmanager-2.global.example:9093": f"127.0.0.1:{am_web[2]}",
            "prometheus.home.example:9090": f"127.0.0.1:{prom_ports['home']}",
            "prometheus.cabin.example:9090": f"127.0.0.1:{prom_ports['cabin']}",
        }, "deploy/multi-site/global-prometheus.yml")
        config = yaml.safe_load(text)
        config["global"].update(scrape_interval="2s", evaluation_interval="1s")
        for job in config["scrape_configs"]:
            if job["job_name"] == "federate":
                job.update(scrape_interval="2s", scrape_timeout="2s")
        path = write_yaml(yaml, scratch / "global-prometheus.yml", config)
        procs.append(Proc("prometheus-global", [
            prometheus, *default_args(deploy / "prometheus-global.default"), f"--config.file={path}",
            f"--storage.tsdb.path={scratch / 'global-tsdb'}",
            f"--web.listen-address=127.0.0.1:{prom_ports['global']}"], scratch))
        api = Prom(f"http://127.0.0.1:{prom_ports['global']}")

        # --- the pulled sites' Prometheus
        for site in PULL_SITES:
            text = replace_all((deploy / "site-prometheus.yml").read_text(encoding="utf-8"),
                               {"localhost:9847": f"127.0.0.1:{obs_ports[site]}"}, "site-prometheus.yml")
            config = yaml.safe_load(text)
            config["global"].update(scrape_interval="1s", evaluation_interval="1s")
            config["global"]["external_labels"]["site"] = site
            path = write_yaml(yaml, scratch / f"prometheus-{site}.yml", config)
            procs.append(Proc(f"prometheus-{site}", [
                prometheus, f"--config.file={path}", f"--storage.tsdb.path={scratch / site / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_ports[site]}"], scratch))

        # --- the pushing site's agent
        text = replace_all((deploy / "site-agent.yml").read_text(encoding="utf-8"), {
            "localhost:9847": f"127.0.0.1:{obs_ports[PUSH_SITE]}",
            "prometheus.global.example:9090": f"127.0.0.1:{prom_ports['global']}",
        }, "site-agent.yml")
        config = yaml.safe_load(text)
        config["global"]["scrape_interval"] = "1s"
        config["global"]["external_labels"]["site"] = PUSH_SITE
        config["remote_write"][0]["queue_config"]["batch_send_deadline"] = "1s"
        path = write_yaml(yaml, scratch / "prometheus-agent.yml", config)
        args = [f"--storage.agent.path={scratch / PUSH_SITE / 'agent'}"
                if a.startswith("--storage.agent.path=") else a
                for a in default_args(deploy / "prometheus-agent.default")]
        procs.append(Proc("prometheus-agent", [
            prometheus, *args, f"--config.file={path}",
            f"--web.listen-address=127.0.0.1:{free_port()}"], scratch))

        # --- wait for every site in the global view
        seen = {}

        def samples():
            r = api.query("max by (site) (count_over_time(homelab_observer_build_info[1m]))")
            got = {s["metric"].get("site"): int(float(s["value"][1]))
                   for s in r.get("data", {}).get("result", [])} if r.get("status") == "success" else {}
            up = api.query('count by (site) (up{job="homelab-observer"} == 1)')
            ups = {s["metric"].get("site") for s in up.get("data", {}).get("result", [])}
            seen.update(samples=got, up=sorted(map(str, ups)))
            if all(got.get(s, 0) >= MIN_SAMPLES for s in SITES) and ups >= set(SITES):
                return got
            return None
        try:
            got = wait_for(f"{MIN_SAMPLES} samples of each site in the global Prometheus", samples, 120,
                           procs=procs)
        except Failure as e:
            raise Failure(f"{e}; last seen: {seen}") from None
        log(f"global Prometheus has every site: {got} samples of homelab_observer_build_info")

        failures = []
        check_dashboards(source, api, failures)
        if failures:
            raise Failure("\n".join(failures))
        check_incident_notifies_once(roots[INCIDENT_SITE], api,
                                     [f"http://127.0.0.1:{am_web[n]}" for n in (1, 2)], hook, procs)
        check_site_down(observers, api, hook, [p for p in procs if p is not observers[KILLED]])
    finally:
        for proc in reversed(procs):
            proc.stop()
        hook.close()


def main(argv):
    if len(argv) != 4:
        print(f"usage: {argv[0]} BINARY SOURCE_DIR SCRATCH_DIR", file=sys.stderr)
        return 2
    binary = pathlib.Path(argv[1]).resolve()
    source = pathlib.Path(argv[2]).resolve()
    scratch = pathlib.Path(argv[3]).resolve()
    prometheus = os.environ.get("PROMETHEUS") or shutil.which("prometheus")
    alertmanager = (os.environ.get("ALERTMANAGER") or shutil.which("prometheus-alertmanager")
                    or shutil.which("alertmanager"))
    missing = [name for name, path in (("prometheus", prometheus), ("alertmanager", alertmanager)) if not path]
    if missing:
        print(f"SKIP: {' and '.join(missing)} not installed (Debian: prometheus, prometheus-alertmanager; "
              f"or set $PROMETHEUS / $ALERTMANAGER)")
        return 77
    if not binary.is_file():
        print(f"FAIL: no program at {binary}")
        return 1
    try:
        import yaml
    except ImportError:
        print("FAIL: python3-yaml is missing (scripts/setup.sh installs it)")
        return 1
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    try:
        run(binary, source, scratch, yaml, prometheus, alertmanager)
    except Failure as e:
        print(f"FAIL: {e}\nlogs in {scratch}")
        return 1
    log("ok: three sites in one view; one notification per change; HomelabSiteDown for the dead site only")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
