#!/usr/bin/env python3
"""Every dashboard query returns data from a real Prometheus scraping the example.

Usage: promql_against_prometheus.py BINARY SOURCE_DIR SCRATCH_DIR

1. Copies examples/homelab to SCRATCH_DIR and runs
   `BINARY run --root COPY --inventory COPY --now 2026-05-13T09:00:00Z` on a
   free local port; waits for /readyz.
2. Runs `prometheus` (from PATH, or $PROMETHEUS) scraping it every second,
   with alerts/homelab.rules.yml loaded when that file exists.
3. While Prometheus collects >= 10 scrapes, appends a few node heartbeats to
   the copy's events/ (so rate() panels see non-zero rates, as on a live
   homelab), and one heartbeat dated an hour back in a file of its own: a
   late event (more than --events.max-lateness behind the newest one), so
   that homelab_observer_late_events_total{file}, which has no series until
   something is late, exists and the late-event panels are checked against
   the real metric rather than only their `or vector(0)` fallback. Waits
   until Prometheus has scraped that series.
4. Evaluates, at the current time:
   - every `expr` of every target of every dashboards/*.json panel, with the
     Grafana variables substituted ($__rate_interval, $__interval -> 1m,
     $__range -> 5m, $node and other multi-value variables -> .*): each must
     return a non-empty result that is not all NaN (a panel that would say
     "No data" on the example fails the test);
   - every metric name (homelab_*, process_*) those queries use must have a
     series;
   - every `label_values(metric, label)` variable query (the metric may
     carry a selector with variables, substituted as above) must find
     series (`count by (label)`); the `site` label is absent here, as on a
     single homelab, so $site's All (`.*`) must match series without it
     (tests/multisite checks three real sites);
   - every Prometheus annotation query of the dashboards must evaluate
     without error (it may be empty: annotations mark changes);
   - every rule Prometheus loaded (read back through /api/v1/rules) must be
     healthy and evaluate without error; rules that would fire on the example
     are listed, not failed.
Both processes are stopped at the end, also on failure.

Exit 0 on success, 1 on failure, 77 (skip) when prometheus is not installed.
Python 3 standard library only.
"""
import json
import math
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

NOW = "2026-05-13T09:00:00Z"
MIN_SCRAPES = 10
DEADLINE_S = 45  # for the whole wait (startup + scrapes)
LATE_DEADLINE_S = 40  # for the late event to show up in Prometheus, once written
# An hour before the example's newest event (08:55): later than any
# --events.max-lateness the daemon could be started with here (default 5m).
LATE_EVENT = {"timestamp": "2026-05-13T07:55:00Z", "type": "node_heartbeat", "node": "saturn"}
LATE_FILE = "zz-promql-late.jsonl"

VARIABLE_VALUES = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "5m",
    "__range_s": "300",
    "__interval_ms": "60000",
}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    """(status, body) or (None, error text)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        return None, str(e)


class Prom:
    def __init__(self, base):
        self.base = base

    def api(self, path, **params):
        url = f"{self.base}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        status, body = http_get(url, timeout=10)
        if status is None:
            return {"status": "error", "error": body}
        try:
            return json.loads(body)
        except ValueError:
            return {"status": "error", "error": f"HTTP {status}: {body[:200]}"}

    def query(self, expr):
        return self.api("query", query=expr, time=f"{time.time():.3f}")


def substitute(expr, variables):
    """Grafana variables -> values Prometheus accepts; unknown ones -> '.*'."""
    def repl(m):
        name = m.group(1) or m.group(2)
        if name in VARIABLE_VALUES:
            return VARIABLE_VALUES[name]
        if name == "datasource":
            return ""
        if name in variables:
            return ".*"
        raise KeyError(name)

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", repl, expr)


def walk_panels(panels):
    for panel in panels or []:
        yield panel
        yield from walk_panels(panel.get("panels"))


def dashboard_queries(source):
    """[(where, raw expr, kind)] with kind 'expr' or 'label_values'."""
    out = []
    for path in sorted((source / "dashboards").glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        variables = {v.get("name") for v in (board.get("templating") or {}).get("list") or []}
        for v in (board.get("templating") or {}).get("list") or []:
            if v.get("type") != "query":
                continue
            q = v.get("query")
            if isinstance(q, dict):
                q = q.get("query")
            out.append((f"{path.name}: variable {v.get('name')}", q or "", "variable", variables))
        for i, ann in enumerate((board.get("annotations") or {}).get("list") or []):
            if isinstance(ann.get("expr"), str) and ann["expr"].strip():
                out.append((f"{path.name}: annotation {i} {ann.get('name')!r}", ann["expr"], "annotation",
                            variables))
        for panel in walk_panels(board.get("panels")):
            for target in panel.get("targets") or []:
                if "expr" in target:
                    where = f"{path.name}: panel {panel.get('id')} {panel.get('title')!r} target {target.get('refId')}"
                    out.append((where, target["expr"], "expr", variables))
    return out


def result_has_data(data):
    """(has data, description) for a /api/v1/query 'data' member."""
    rtype = data.get("resultType")
    result = data.get("result")
    if rtype in ("scalar", "string"):
        value = result[1]
        return (rtype == "string" or not math.isnan(float(value))), f"{rtype} {value}"
    if not result:
        return False, "empty result"
    values = []
    for series in result:
        if "value" in series:
            values.append(series["value"][1])
        else:
            values.extend(v for _, v in series.get("values", []))
    real = [v for v in values if v.lower() not in ("nan", "+nan", "-nan")]
    if not real:
        return False, f"{len(result)} series, all NaN"
    if len(result) == 1 and "value" in result[0]:
        return True, f"1 series = {result[0]['value'][1]}"
    return True, f"{len(result)} series"


def stop(proc, name, log):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        log(f"{name} ignored SIGTERM; killing it")
        proc.kill()
        proc.wait(timeout=5)


def tail(path, lines=30):
    try:
        return "\n".join(pathlib.Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main(argv):
    if len(argv) != 4:
        print(f"usage: {argv[0]} BINARY SOURCE_DIR SCRATCH_DIR", file=sys.stderr)
        return 2
    binary = pathlib.Path(argv[1]).resolve()
    source = pathlib.Path(argv[2]).resolve()
    scratch = pathlib.Path(argv[3]).resolve()
    prometheus = os.environ.get("PROMETHEUS") or shutil.which("prometheus")
    if not prometheus:
        print("SKIP: prometheus is not installed (set $PROMETHEUS or put it on PATH)")
        return 77
    if not binary.is_file():
        print(f"FAIL: no program at {binary}")
        return 1

    started = time.monotonic()

    def log(message):
        print(f"[{time.monotonic() - started:5.1f}s] {message}", flush=True)

    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    root = scratch / "homelab"
    shutil.copytree(source / "examples" / "homelab", root, symlinks=True)
    for generated in ("world", "state/observer_checkpoint.json", "state/rejected-events.jsonl"):
        p = root / generated
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()

    rules = source / "alerts" / "homelab.rules.yml"
    observer = prom = None
    failures = []
    try:
        obs_port = free_port()
        obs_log = open(scratch / "observer.log", "wb")
        observer = subprocess.Popen(
            [str(binary), "run", "--root", str(root), "--inventory", str(root), "--now", NOW,
             "--web.listen-address", f"127.0.0.1:{obs_port}"],
            stdout=obs_log, stderr=subprocess.STDOUT)
        while True:
            status, _ = http_get(f"http://127.0.0.1:{obs_port}/readyz", timeout=1)
            if status == 200:
                break
            if observer.poll() is not None:
                print(f"FAIL: homelab-observer exited with {observer.returncode}:\n"
                      f"{tail(scratch / 'observer.log')}")
                return 1
            if time.monotonic() - started > 15:
                print(f"FAIL: /readyz not 200 after 15 s:\n{tail(scratch / 'observer.log')}")
                return 1
            time.sleep(0.1)
        log(f"homelab-observer ready on 127.0.0.1:{obs_port}")

        prom_port = free_port()
        config = [
            "global:",
            "  scrape_interval: 1s",
            "  evaluation_interval: 1s",
        ]
        if rules.exists():
            config += ["rule_files:", f"  - {json.dumps(str(rules))}"]
            log(f"loading rules from {rules}")
        config += [
            "scrape_configs:",
            "  - job_name: homelab-observer",
            "    static_configs:",
            f"      - targets: ['127.0.0.1:{obs_port}']",
        ]
        (scratch / "prometheus.yml").write_text("\n".join(config) + "\n")
        prom_log = open(scratch / "prometheus.log", "wb")
        prom = subprocess.Popen(
            [prometheus, f"--config.file={scratch / 'prometheus.yml'}",
             f"--storage.tsdb.path={scratch / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
            stdout=prom_log, stderr=subprocess.STDOUT)
        api = Prom(f"http://127.0.0.1:{prom_port}")

        # Heartbeats after the example's last event (08:55) and before --now.
        extra = root / "events" / "zz-promql-test.jsonl"
        beats = 0
        late_written = None
        next_beat = time.monotonic()
        scrapes = 0
        while True:
            if prom.poll() is not None:
                print(f"FAIL: prometheus exited with {prom.returncode}:\n{tail(scratch / 'prometheus.log')}")
                return 1
            if observer.poll() is not None:
                print(f"FAIL: homelab-observer exited with {observer.returncode}:\n"
                      f"{tail(scratch / 'observer.log')}")
                return 1
            if beats < 4 and time.monotonic() >= next_beat:
                if beats == 1:
                    with open(root / "events" / LATE_FILE, "a", encoding="utf-8") as f:
                        f.write(json.dumps(LATE_EVENT) + "\n")
                    late_written = time.monotonic()
                with open(extra, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"timestamp": f"2026-05-13T08:56:{beats * 10:02d}Z",
                                        "type": "node_heartbeat", "node": "saturn",
                                        "payload": {"uptime_s": 1047360 + beats * 10}}) + "\n")
                beats += 1
                next_beat = time.monotonic() + 2
            r = api.query('count_over_time(up{job="homelab-observer"}[1m])')
            up = api.query('up{job="homelab-observer"}')
            if r.get("status") == "success" and r["data"]["result"]:
                scrapes = int(float(r["data"]["result"][0]["value"][1]))
            is_up = (up.get("status") == "success" and up["data"]["result"]
                     and up["data"]["result"][0]["value"][1] == "1")
            if is_up and scrapes >= MIN_SCRAPES and beats >= 4:
                break
            if time.monotonic() - started > DEADLINE_S:
                print(f"FAIL: after {DEADLINE_S} s: up={up.get('data', {}).get('result')}, "
                      f"{scrapes} scrapes\n{tail(scratch / 'prometheus.log')}")
                return 1
            time.sleep(0.5)
        # The late event: counted when it is read (a replay follows, at most
        # one per --events.replay-min-interval).
        while True:
            r = api.query(f'homelab_observer_late_events_total{{file="{LATE_FILE}"}}')
            if r.get("status") == "success" and r["data"]["result"]:
                log(f"late event counted: {r['data']['result'][0]['value'][1]} in {LATE_FILE}")
                break
            if observer.poll() is not None:
                print(f"FAIL: homelab-observer exited with {observer.returncode}:\n"
                      f"{tail(scratch / 'observer.log')}")
                return 1
            if time.monotonic() - late_written > LATE_DEADLINE_S:
                print(f"FAIL: {LATE_DEADLINE_S} s after a late event was appended to events/{LATE_FILE}, "
                      f"Prometheus has no homelab_observer_late_events_total{{file=\"{LATE_FILE}\"}}:\n"
                      f"{tail(scratch / 'observer.log')}")
                return 1
            time.sleep(0.5)
        # One more rule evaluation and scrape after the last heartbeat batch.
        time.sleep(1.5)
        log(f"prometheus on 127.0.0.1:{prom_port} has {scrapes} scrapes; evaluating")

        checked = 0
        metric_names = set()
        for where, raw, kind, variables in dashboard_queries(source):
            if kind == "variable":
                m = re.fullmatch(r"\s*label_values\(\s*([a-zA-Z_:][\w:]*(?:\{[^}]*\})?)\s*,\s*(\w+)\s*\)\s*", raw)
                if not m:
                    failures.append(f"{where}: unsupported variable query {raw!r}")
                    continue
                try:
                    selector = substitute(m.group(1), variables)
                except KeyError as e:
                    failures.append(f"{where}: unknown variable ${e.args[0]} in {raw!r}")
                    continue
                expr = f"count by ({m.group(2)}) ({selector})"
            else:
                try:
                    expr = substitute(raw, variables)
                except KeyError as e:
                    failures.append(f"{where}: unknown variable ${e.args[0]} in {raw!r}")
                    continue
            metric_names.update(re.findall(r"\b(?:homelab|process)_\w+", expr))
            r = api.query(expr)
            checked += 1
            if r.get("status") != "success":
                failures.append(f"{where}: error {r.get('errorType', '')}: {r.get('error')}\n    {expr}")
                continue
            ok, what = result_has_data(r["data"])
            if kind == "annotation":
                # Annotations mark changes (an incident open, a deployment
                # running or finishing): empty most of the time, so they
                # only have to evaluate.
                print(f"  ok   {where}: {what if ok else 'evaluates (no events now)'}")
                continue
            if not ok:
                failures.append(f"{where}: no data ({what})\n    {expr}")
            else:
                print(f"  ok   {where}: {what}")
        for name in sorted(metric_names):
            r = api.query(f"count({name})")
            if r.get("status") != "success" or not r["data"]["result"]:
                failures.append(f"metric {name} (used by a dashboard) has no series")
        log(f"{checked} dashboard queries, {len(metric_names)} metric names checked")

        if rules.exists():
            r = api.api("rules")
            if r.get("status") != "success":
                failures.append(f"/api/v1/rules: {r.get('error')}")
            else:
                groups = r["data"]["groups"]
                if not groups:
                    failures.append(f"{rules} exists but Prometheus loaded no rule groups "
                                    f"(see {scratch / 'prometheus.log'})")
                for group in groups:
                    for rule in group.get("rules", []):
                        name = rule.get("name")
                        where = f"rule {group.get('name')}/{name}"
                        if rule.get("health") == "err":
                            failures.append(f"{where}: {rule.get('lastError')}")
                        q = api.query(rule["query"])
                        if q.get("status") != "success":
                            failures.append(f"{where}: error {q.get('error')}\n    {rule['query']}")
                            continue
                        n = len(q["data"]["result"]) if isinstance(q["data"]["result"], list) else 1
                        if rule.get("type") == "alerting":
                            state = "would fire" if n else "quiet"
                            print(f"  {state:10s} {where} ({n} series; state {rule.get('state')})")
                        else:
                            print(f"  recording  {where}: {n} series")
        else:
            log(f"no {rules.relative_to(source)}; no rules to check")
    finally:
        stop(prom, "prometheus", log)
        stop(observer, "homelab-observer", log)

    for f in failures:
        print(f"FAIL: {f}")
    if failures:
        print(f"{len(failures)} failure(s); logs in {scratch}")
        return 1
    log("ok: every dashboard query returns data")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
