#!/usr/bin/env python3
"""Writes the event files of the example homelab (examples/homelab/events/).

Deterministic: no randomness, no clock. Running it twice gives the same bytes,
so the committed files can be checked with `git diff --exit-code` after a run.

    python3 examples/generate_homelab_events.py            # rewrite the files
    python3 examples/generate_homelab_events.py --check    # exit 1 if stale

The story (see examples/homelab/README.md) runs from 2026-05-12T00:00Z to
2026-05-13T08:55Z. Files are processed in byte-wise order of their names, so
the names below sort in the order the story needs:

    2026-05-12-pluto-backup.ndjson      ('-' sorts before '.')
    2026-05-12.jsonl                    day 1: heartbeats, health checks, ...
    2026-05-12T21-nightly-deploys.json  ('.' sorts before 'T')
    2026-05-13.jsonl                    day 2, up to 08:55Z
"""

import argparse
import datetime as dt
import json
import pathlib
import sys

UTC = dt.timezone.utc
EVENTS_DIR = pathlib.Path(__file__).resolve().parent / "homelab" / "events"

DAY1 = dt.datetime(2026, 5, 12, tzinfo=UTC)
DAY2 = dt.datetime(2026, 5, 13, tzinfo=UTC)
END = dt.datetime(2026, 5, 13, 9, 0, tzinfo=UTC)  # the README's --now

# Heartbeats every 30 minutes, at this minute offset within each half hour.
# The last ones land between 08:51 and 08:55, inside the default 10m staleness.
HEARTBEAT_OFFSET_MIN = {
    "saturn": 25,
    "jupiter": 24,
    "mars": 23,
    "venus": 22,
    "lab-pi": 21,
    "pluto": 20,
}

# Services that get a healthcheck_passed every three hours at hh:10.
CHECKED_SERVICES = {
    "saturn": ["mosquitto", "home-assistant", "zigbee2mqtt"],
    "jupiter": ["samba", "jellyfin", "nextcloud"],
    "mars": ["traefik", "k3s"],
    "venus": ["k3s-agent", "grafana"],
    # pluto/restic never gets a health signal: it stays `unknown`.
}

MARS_MAINTENANCE_FROM = dt.datetime(2026, 5, 12, 13, 58, tzinfo=UTC)
MARS_DOWN_AT = dt.datetime(2026, 5, 12, 14, 10, tzinfo=UTC)
MARS_BACK_AT = dt.datetime(2026, 5, 12, 15, 5, tzinfo=UTC)
MARS_MAINTENANCE_UNTIL = dt.datetime(2026, 5, 12, 15, 12, tzinfo=UTC)
PLUTO_LAST_HEARTBEAT = dt.datetime(2026, 5, 12, 2, 20, tzinfo=UTC)
LAB_PI_FIRST_HEARTBEAT = dt.datetime(2026, 5, 13, 6, 21, tzinfo=UTC)


def at(day, hh, mm, ss=0):
    return day.replace(hour=hh, minute=mm, second=ss)


def ts(t):
    """RFC 3339 in UTC with Z, whole seconds unless there is a fraction."""
    if t.microsecond:
        frac = f"{t.microsecond:06d}".rstrip("0")
        return t.strftime("%Y-%m-%dT%H:%M:%S") + "." + frac + "Z"
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def ts_local(t, hours):
    """The same instant written with a +HH:00 offset (a tool on local time)."""
    local = t.astimezone(dt.timezone(dt.timedelta(hours=hours)))
    s = local.strftime("%Y-%m-%dT%H:%M:%S")
    if local.microsecond:
        s += "." + f"{local.microsecond:06d}".rstrip("0")
    return s + f"{hours:+03d}:00"


class Stream:
    """Events of one file. Lines are written sorted by event time (stable)."""

    def __init__(self):
        self.items = []  # (time, seq, line)

    def add(self, t, event):
        event = dict(event)
        event.setdefault("timestamp", ts(t))
        # Field order as a writer would put it: timestamp and type first.
        ordered = {"timestamp": event.pop("timestamp"), "type": event.pop("type")}
        ordered.update(event)
        self.raw(t, json.dumps(ordered, separators=(", ", ": ")))

    def raw(self, t, line):
        self.items.append((t, len(self.items), line))

    def lines(self):
        return [line for _, _, line in sorted(self.items)]


def half_hours(start, stop, offset_min):
    """Times start+offset, +30m, ... strictly before stop."""
    t = start + dt.timedelta(minutes=offset_min)
    while t < stop:
        yield t
        t += dt.timedelta(minutes=30)


def heartbeat(stream, node, t, boot):
    uptime = int((t - boot).total_seconds())
    stream.add(t, {"type": "node_heartbeat", "node": node,
                   "payload": {"uptime_s": uptime}})


def latency_ms(node, service, t):
    # A fixed, plausible-looking number: no randomness.
    return 3 + (len(node) * 7 + len(service) * 13 + t.hour * 5 + t.day) % 40


def add_heartbeats(day1, day2):
    boot = {n: dt.datetime(2026, 5, 1, 6, 0, tzinfo=UTC) for n in HEARTBEAT_OFFSET_MIN}
    boot["mars"] = dt.datetime(2026, 5, 9, 22, 14, tzinfo=UTC)
    for node, offset in HEARTBEAT_OFFSET_MIN.items():
        for t in half_hours(DAY1, END, offset):
            stream = day1 if t < DAY2 else day2
            if node == "pluto" and t > PLUTO_LAST_HEARTBEAT:
                continue  # pluto goes silent early on day 1
            if node == "lab-pi" and t < LAB_PI_FIRST_HEARTBEAT:
                continue  # someone plugs in a Raspberry Pi on day 2
            if node == "mars" and MARS_DOWN_AT - dt.timedelta(minutes=15) < t < MARS_BACK_AT:
                continue  # mars is powered off for maintenance
            if node == "mars" and t > MARS_BACK_AT:
                heartbeat(stream, node, t, MARS_BACK_AT - dt.timedelta(seconds=48))
            else:
                heartbeat(stream, node, t, boot[node])


def skip_healthcheck(node, service, t):
    if node == "mars" and MARS_DOWN_AT <= t < MARS_BACK_AT:
        return True
    # jupiter/nextcloud is broken from the failed deploy (day 1, 21:06) until
    # the retry (day 2, 06:35). The day-2 slots are written as failures by
    # add_nextcloud_aftermath. The day-1 21:10 slot is left out: the deploy
    # batch file is processed after the whole day-1 file, and a failure there
    # would open the incident before the deployment that caused it.
    if (node, service) == ("jupiter", "nextcloud") and at(DAY1, 21, 0) <= t < at(DAY2, 6, 40):
        return True
    # saturn/mosquitto fails at the day-2 03:10 check (see add_mosquitto).
    if (node, service) == ("saturn", "mosquitto") and t == at(DAY2, 3, 10):
        return True
    # (jupiter/jellyfin fails from 07:50 on day 2: there is no slot after it.)
    return False


def add_healthchecks(day1, day2):
    t = DAY1 + dt.timedelta(minutes=10)
    while t < END:
        stream = day1 if t < DAY2 else day2
        for node, services in CHECKED_SERVICES.items():
            for service in services:
                if skip_healthcheck(node, service, t):
                    continue
                stream.add(t, {"type": "healthcheck_passed", "node": node,
                               "service": service,
                               "payload": {"latency_ms": latency_ms(node, service, t)}})
        t += dt.timedelta(hours=3)


def add_mars_outage(day1):
    # A planned kernel update: the whole node is in maintenance around the
    # reboot, so its alerts stay quiet. The watchdog does not know and still
    # reports it down: maintenance hides nothing in the world files.
    day1.add(MARS_MAINTENANCE_FROM, {
        "type": "maintenance_started", "node": "mars",
        "message": "kernel 6.1.0-21 -> 6.1.0-22, reboot"})
    # Draining k3s before the reboot takes traefik down: the checker on
    # saturn opens an incident (maintenance does not stop that; the incident
    # gets during_maintenance). It comes before the node_down: any event
    # naming mars would count as mars being seen and end the node_down.
    traefik = {"node": "mars", "service": "traefik"}
    day1.add(at(DAY1, 14, 4), {
        "type": "healthcheck_failed", **traefik, "severity": "warning",
        "message": "GET https://mars.lan/ping: 503 (node draining)"})
    day1.add(MARS_DOWN_AT, {
        "type": "node_down", "node": "mars", "severity": "warning",
        "message": "no heartbeat since 13:53 and ping 192.168.10.13 failed",
        "source": "watchdog@saturn"})  # an unknown extra field: ignored
    # The first heartbeat after the reboot brings mars back up.
    heartbeat(day1, "mars", MARS_BACK_AT, MARS_BACK_AT - dt.timedelta(seconds=48))
    day1.add(at(DAY1, 15, 8), {
        "type": "service_recovered", **traefik, "message": "GET https://mars.lan/ping: 200"})
    day1.add(MARS_MAINTENANCE_UNTIL, {
        "type": "maintenance_ended", "node": "mars",
        "message": "k3s node Ready, traefik answering"})


def add_mosquitto(day1, day2):
    base = {"node": "saturn", "service": "mosquitto"}
    # Day 1, morning: the broker flaps three times -> one incident, count 3.
    day1.add(at(DAY1, 9, 40), {"type": "service_unhealthy", **base, "severity": "warning",
                                "message": "connection refused on :1883"})
    day1.add(at(DAY1, 9, 45), {"type": "healthcheck_failed", **base,
                                "message": "MQTT CONNECT timed out after 5s"})
    day1.add(at(DAY1, 9, 52), {"type": "service_unhealthy", **base, "severity": "warning",
                                "message": "connection refused on :1883"})
    day1.add(at(DAY1, 10, 5), {"type": "service_recovered", **base,
                               "message": "broker restarted, clients reconnected"})
    # Day 2, night: it fails again -> a new incident with repeat_of.
    day2.add(at(DAY2, 3, 10), {"type": "healthcheck_failed", **base, "severity": "warning",
                               "message": "MQTT CONNECT timed out after 5s"})
    day2.add(at(DAY2, 3, 25), {"type": "service_unhealthy", **base, "severity": "error",
                               "message": "zigbee2mqtt lost its broker connection"})
    # Recovered without a node: resolves mosquitto wherever it is unhealthy.
    day2.add(at(DAY2, 3, 40), {"type": "service_recovered", "service": "mosquitto",
                               "message": "alertmanager: MosquittoDown resolved"})


def nightly_deploys():
    """2026-05-12T21-nightly-deploys.json: one array, written by the CI job."""
    events = []

    def ev(t, typ, cid, node, service, **extra):
        e = {"timestamp": ts(t), "type": typ, "correlation_id": cid,
             "node": node, "service": service}
        e.update(extra)
        events.append(e)

    cid = "deploy-nextcloud-42"
    ev(at(DAY1, 21, 0), "deployment_started", cid, "jupiter", "nextcloud",
       message="nextcloud 29.0.1 -> 29.0.2")
    ev(at(DAY1, 21, 1, 12), "deployment_stage", cid, "jupiter", "nextcloud",
       payload={"stage": "pull"})
    ev(at(DAY1, 21, 3, 40), "deployment_stage", cid, "jupiter", "nextcloud",
       payload={"stage": "migrate"})
    ev(at(DAY1, 21, 6, 2), "deployment_failed", cid, "jupiter", "nextcloud",
       severity="error",
       message="occ upgrade failed: relation oc_filecache_extended already exists",
       payload={"diagnostics": [
           "deploy-nextcloud-42.log",             # -> logs/deploy-nextcloud-42.log
           "./deploy-nextcloud-42-compose.txt",   # -> logs/deploy-nextcloud-42-compose.txt
           "nextcloud/occ-upgrade-42.txt",        # -> logs/nextcloud/occ-upgrade-42.txt
           "../../etc/passwd",                    # outside logs/: dropped
       ]})

    cid = "deploy-traefik-17"
    ev(at(DAY1, 21, 10), "deployment_started", cid, "mars", "traefik",
       message="traefik v3.0.0 -> v3.0.1")
    ev(at(DAY1, 21, 10, 31), "deployment_stage", cid, "mars", "traefik",
       payload={"stage": "pull"})
    ev(at(DAY1, 21, 11, 50), "deployment_stage", cid, "mars", "traefik",
       payload={"stage": "rollout"})
    ev(at(DAY1, 21, 12, 45), "deployment_succeeded", cid, "mars", "traefik")

    cid = "deploy-grafana-8"
    t0 = at(DAY1, 21, 15)
    ev(t0, "deployment_started", cid, "venus", "grafana",
       message="grafana 10.4.2 -> 11.0.0")
    ev(t0 + dt.timedelta(seconds=22), "deployment_stage", cid, "venus", "grafana",
       payload={"stage": "pull"})
    ev(t0 + dt.timedelta(seconds=51), "deployment_stage", cid, "venus", "grafana",
       payload={"stage": "rollout"})
    ev(t0 + dt.timedelta(seconds=80, milliseconds=500), "deployment_succeeded", cid,
       "venus", "grafana")
    return events


def add_nextcloud_aftermath(day2):
    base = {"node": "jupiter", "service": "nextcloud"}
    # The health checker keeps failing while nextcloud is in maintenance mode:
    # these add occurrences to the incident the failed deployment opened.
    for hh in (0, 3, 6):
        day2.add(at(DAY2, hh, 10), {"type": "healthcheck_failed", **base,
                                    "severity": "warning",
                                    "message": "HTTP 503: instance in maintenance mode"})
    # The retry: same correlation_id, so it is attempt 2 of the same deployment.
    cid = "deploy-nextcloud-42"
    dep = {"correlation_id": cid, **base}
    day2.add(at(DAY2, 6, 30), {"type": "deployment_started", **dep,
                               "message": "retry after fixing oc_filecache_extended"})
    day2.add(at(DAY2, 6, 31, 5), {"type": "deployment_stage", **dep,
                                  "payload": {"stage": "pull"}})
    day2.add(at(DAY2, 6, 32, 40), {"type": "deployment_stage", **dep,
                                   "payload": {"stage": "migrate"}})
    day2.add(at(DAY2, 6, 34, 55), {"type": "deployment_stage", **dep,
                                   "payload": {"stage": "restart"}})
    day2.add(at(DAY2, 6, 35, 30), {"type": "deployment_succeeded", **dep})
    # A deployment never resolves an incident; the health checker does.
    day2.add(at(DAY2, 6, 40), {"type": "service_recovered", **base,
                               "message": "HTTP 200 on /status.php"})
    day2.add(at(DAY2, 6, 45), {"type": "healthcheck_passed", **base,
                               "payload": {"latency_ms": 41}})


def add_jellyfin(day2):
    base = {"node": "jupiter", "service": "jellyfin"}
    day2.add(at(DAY2, 7, 50), {"type": "healthcheck_failed", **base, "severity": "warning",
                               "message": "GET /health took 9.8s"})
    day2.add(at(DAY2, 8, 5), {"type": "service_unhealthy", **base, "severity": "critical",
                              "message": "container restarting in a loop (exit 139)"})
    day2.add(at(DAY2, 8, 20), {"type": "healthcheck_failed", **base,
                               "message": "connection refused on :8096"})
    day2.add(at(DAY2, 8, 35), {"type": "service_unhealthy", **base, "severity": "critical",
                               "message": "container restarting in a loop (exit 139)"})


def add_lab_pi(day2):
    # Not in the inventory: it still shows up, with in_inventory false.
    for hh in (6, 7, 8):
        t = at(DAY2, hh, 30)
        day2.add(t, {"type": "healthcheck_passed", "node": "lab-pi", "service": "pihole",
                     "payload": {"latency_ms": latency_ms("lab-pi", "pihole", t)}})


def add_home_assistant_deploy(day2):
    # Written by a tool on local time (+02:00); still running at the end.
    # The deploy script puts the service (not the node) in maintenance first,
    # and ends it after the rollout: at the end it is still in maintenance.
    cid = "deploy-home-assistant-93"
    dep = {"correlation_id": cid, "node": "saturn", "service": "home-assistant"}
    t = at(DAY2, 8, 44, 30)
    day2.add(t, {"timestamp": ts_local(t, 2), "type": "maintenance_started",
                 "node": "saturn", "service": "home-assistant",
                 "message": "deploy-home-assistant-93"})
    t = at(DAY2, 8, 45)
    day2.add(t, {"timestamp": ts_local(t, 2), "type": "deployment_started", **dep,
                 "message": "home-assistant 2026.5.0 -> 2026.5.1"})
    t = at(DAY2, 8, 46, 10) + dt.timedelta(milliseconds=250)
    day2.add(t, {"timestamp": ts_local(t, 2), "type": "deployment_stage", **dep,
                 "payload": {"stage": "pull"}})


def add_malformed(day1, day2):
    """Five bad lines, one defect each. They are rejected; processing goes on."""
    # bad_json: a writer died half-way through a line.
    day1.raw(at(DAY1, 7, 15), '{"timestamp": "2026-05-12T07:15:00Z", "type": "node_heart')
    # mistyped_field: node must be a string.
    day1.raw(at(DAY1, 11, 0),
             '{"timestamp": "2026-05-12T11:00:00Z", "type": "node_heartbeat", "node": 42}')
    # bad_severity: only info, warning, error, critical.
    day1.raw(at(DAY1, 18, 30),
             '{"timestamp": "2026-05-12T18:30:00Z", "type": "healthcheck_failed", '
             '"node": "venus", "service": "grafana", "severity": "fatal"}')
    # bad_timestamp: a space instead of T, no zone.
    day2.raw(at(DAY2, 2, 0),
             '{"timestamp": "2026-05-13 02:00:00", "type": "node_heartbeat", '
             '"node": "venus"}')
    # missing_field: service_unhealthy needs a service.
    day2.raw(at(DAY2, 4, 0),
             '{"timestamp": "2026-05-13T04:00:00Z", "type": "service_unhealthy", '
             '"node": "venus", "message": "disk 91% full"}')


def pluto_backup():
    """2026-05-12-pluto-backup.ndjson: the backup tool's own log, in NDJSON.

    backup_started / backup_completed are not in the contract's table: they
    are accepted, counted as type "unknown", and mark pluto as seen.
    """
    s = Stream()
    base = {"node": "pluto", "service": "restic"}
    s.add(at(DAY1, 2, 0), {"type": "backup_started", **base,
                           "payload": {"repository": "sftp:jupiter:/tank/restic"}})
    s.add(at(DAY1, 2, 31, 7), {"type": "backup_completed", **base, "severity": "info",
                               "message": "snapshot 4f1c2a9e saved",
                               "payload": {"files_new": 1284, "bytes_added": 734003200,
                                           "duration_s": 1867}})
    return s.lines()


def build():
    day1, day2 = Stream(), Stream()
    add_heartbeats(day1, day2)
    add_healthchecks(day1, day2)
    add_mars_outage(day1)
    add_mosquitto(day1, day2)
    add_nextcloud_aftermath(day2)
    add_jellyfin(day2)
    add_lab_pi(day2)
    add_home_assistant_deploy(day2)
    add_malformed(day1, day2)

    files = {
        "2026-05-12-pluto-backup.ndjson": "".join(l + "\n" for l in pluto_backup()),
        "2026-05-12.jsonl": "".join(l + "\n" for l in day1.lines()),
        "2026-05-12T21-nightly-deploys.json": json.dumps(nightly_deploys(), indent=2) + "\n",
        "2026-05-13.jsonl": "".join(l + "\n" for l in day2.lines()),
    }
    return files


def count_events(files):
    n = 0
    for name, text in files.items():
        if name.endswith(".json"):
            n += len(json.loads(text))
        else:
            n += sum(1 for line in text.split("\n") if line.strip())
    return n


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 when the files differ")
    parser.add_argument("--out", type=pathlib.Path, default=EVENTS_DIR,
                        help="events folder (default: %(default)s)")
    args = parser.parse_args()

    files = build()
    stale = []
    for name, text in sorted(files.items()):
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name("." + name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # writers rename into place (CONTRACT §4)
    if stale:
        print("stale: " + ", ".join(stale), file=sys.stderr)
        return 1
    print(f"{len(files)} files, {count_events(files)} lines/elements in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
