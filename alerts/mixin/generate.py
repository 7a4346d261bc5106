#!/usr/bin/env python3
"""Renders alerts/homelab.rules.yml from alerts/mixin/settings.yml.

    python3 alerts/mixin/generate.py [--settings FILE] [--output FILE] [--check]

--settings  the settings (default: settings.yml next to this script); keys it
            leaves out take the defaults of that file
--output    where to write (default: alerts/homelab.rules.yml); "-" = stdout
--check     write nothing; exit 1 (with a diff) when --output differs from
            what the settings render, 0 when it is up to date

The rules are data below (RULES); the settings fill in selectors, thresholds,
`for` durations, the runbook URL prefix and the incident severity mapping.
The output is formatted by hand (not yaml.dump) so that it keeps comments and
reads like a hand-written rule file; it is parsed back with PyYAML before it
is written, as a guard. Needs python3 and python3-yaml (Debian packages).
"""
import argparse
import difflib
import pathlib
import re
import sys
import textwrap

import yaml

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_SETTINGS = HERE / "settings.yml"
DEFAULT_OUTPUT = REPO / "alerts" / "homelab.rules.yml"

UNHEALTHY, FAILED, UP_OR_DOWN = 'status="unhealthy"', 'status="failed"', 'status=~"up|down"'
SEVERITIES = ["info", "warning", "error", "critical"]  # incident severities, rising
ALERT_SEVERITIES = ["info", "warning", "critical"]      # the mixin vocabulary, rising


# --------------------------------------------------------------- settings
def merge(defaults, override, where="settings"):
    if override is None:
        return defaults
    if not isinstance(defaults, dict):
        return override
    if not isinstance(override, dict):
        raise SystemExit(f"{where}: expected a mapping, got {override!r}")
    out = dict(defaults)
    for key, value in override.items():
        if key not in defaults:
            raise SystemExit(f"{where}.{key}: unknown setting (known: {', '.join(defaults)})")
        out[key] = merge(defaults[key], value, f"{where}.{key}")
    return out


DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def seconds(text):
    m = DURATION.match(str(text))
    if not m or not any(m.groups()):
        raise SystemExit(f"not a duration: {text!r} (use e.g. 90s, 5m, 1h30m)")
    d, h, mi, s = (int(g or 0) for g in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def human(text):
    """'5m' -> '5 minutes', '1h30m' -> '1 hour 30 minutes'."""
    total = seconds(text)
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        n, total = divmod(total, size)
        if n:
            parts.append(f"{n} {unit}{'s' if n != 1 else ''}")
    return " ".join(parts) or "0 seconds"


class Settings:
    def __init__(self, raw):
        self.raw = raw
        self.prefix = raw["runbook_url_prefix"]
        self.sel = raw["selectors"]
        self.join = list(raw["join_labels"] or [])
        self.thr = raw["thresholds"]
        self.fors = raw["for"]
        sev_map = raw["incident_severity_map"]
        for sev in SEVERITIES:
            if sev_map.get(sev) not in ALERT_SEVERITIES:
                raise SystemExit(f"incident_severity_map.{sev}: must be one of {ALERT_SEVERITIES}")
        self.sev_map = sev_map
        for key in self.fors:
            seconds(self.fors[key])

    def m(self, metric, kind="world", *matchers):
        """metric{matchers..., selector}"""
        parts = [x for x in matchers if x]
        if self.sel.get(kind):
            parts.append(self.sel[kind])
        return f"{metric}{{{', '.join(parts)}}}" if parts else metric

    def on(self, *labels):
        return f"on({', '.join(list(labels) + [x for x in self.join if x not in labels])})"

    def tmpl(self, metric, kind, *labels):
        """(selector, args) for a template `query`: `metric` with label=%q
        for each of `labels` and the join labels, and the `$labels.X` that
        fill them in, so that the query finds this alert's own series even
        when several sites or observers share names and incident ids."""
        names = list(labels) + [x for x in self.join if x not in labels]
        return self.m(metric, kind, *(f"{n}=%q" for n in names)), " ".join(f"$labels.{n}" for n in names)

    def for_(self, key):
        return self.fors[key]

    def incident_severities_at_least(self, tier):
        rank = ALERT_SEVERITIES.index(tier)
        return [s for s in SEVERITIES if ALERT_SEVERITIES.index(self.sev_map[s]) >= rank]


# ------------------------------------------------------------------ rules
def world_rules(s):
    svc_maint = f"unless {s.on('node', 'service')} {s.m('homelab_service_maintenance')} == 1"
    node_maint = f"unless {s.on('node')} {s.m('homelab_node_maintenance')} == 1"
    down = s.m("homelab_node_status", "world", 'status="down"')
    rules = []
    rules.append(dict(
        alert="HomelabNodeDown",
        comment="""The state set, not homelab_node_up == 0: a node never seen (status
unknown, e.g. a spare in the inventory) is not paged as down. A node in
maintenance is not paged either.""",
        expr=f"max without (status) ({down} == 1)\n  {node_maint}",
        for_=s.for_("node_down"), severity="critical",
        summary="Homelab node {{ $labels.node }} is down.",
        description=f"""Node {{{{ $labels.node }}}} has been down for more than
{human(s.for_('node_down'))}: it sent no event within --node-stale-after, or a
node_down event marked it down.""",
    ))
    share = s.thr["many_nodes_down_share"]
    min_nodes = s.thr["many_nodes_down_min_nodes"]
    down_not_maint = f"sum without (node, status) ({down} {node_maint})"
    seen = f"sum without (node, status) ({s.m('homelab_node_status', 'world', UP_OR_DOWN)})"
    rules.append(dict(
        alert="HomelabManyNodesDown",
        comment=f"""A share of the nodes that have been seen is down at once: a switch, the
power or the network, rather than {min_nodes} separate failures. Alertmanager
inhibits the per-node HomelabNodeDown while this fires (see
alertmanager.example.yml), so a dead switch pages once. Nodes in
maintenance do not count as down. The value is the share.""",
        expr=f"""(
    {down_not_maint}
  /
    {seen}
) >= {share}
and
  {down_not_maint} >= {min_nodes}""",
        for_=s.for_("many_nodes_down"), severity="critical",
        summary="{{ $value | humanizePercentage }} of the homelab's nodes are down.",
        description=f"""{{{{ $value | humanizePercentage }}}} of the nodes that
homelab-observer has seen are down (at least {min_nodes} nodes, for more than
{human(s.for_('many_nodes_down'))}). Something they share is the likely cause:
a switch, a power strip, the uplink, or the event pipeline itself (see
HomelabNoEvents). The per-node HomelabNodeDown alerts are inhibited while this
fires.""",
    ))
    rules.append(dict(
        alert="HomelabServiceUnhealthy",
        expr=f"{s.m('homelab_service_status', 'world', UNHEALTHY)} == 1\n  {svc_maint}",
        for_=s.for_("service_unhealthy"), severity="warning",
        summary="Service {{ $labels.service }} on {{ $labels.node }} is unhealthy.",
        description=f"""Service {{{{ $labels.service }}}} on node {{{{ $labels.node }}}} has been
unhealthy for more than {human(s.for_('service_unhealthy'))}: it has an active
incident that no service_recovered event has resolved yet.""",
    ))
    rules.append(dict(
        alert="HomelabServiceStale",
        comment="""Stale while its node is up: no health signal within --service-stale-after
(its checker died). Services stale because their node is down are left to
HomelabNodeDown.""",
        expr=f"""{s.m('homelab_service_status', 'world', 'status="stale"')} == 1
  unless {s.on('node')} {down} == 1
  {svc_maint}""",
        for_=s.for_("service_stale"), severity="warning",
        summary="Service {{ $labels.service }} on {{ $labels.node }} has no recent health check.",
        description=f"""Service {{{{ $labels.service }}}} on node {{{{ $labels.node }}}} had no
health signal within --service-stale-after for more than
{human(s.for_('service_stale'))}, although its node is up: whatever runs its
health check (a cron job, a timer, uptime-kuma...) has probably stopped.""",
    ))
    flap_sel, flap_args = s.tmpl("homelab_service_flap_percent", "world", "node", "service")
    rules.append(dict(
        alert="HomelabServiceFlapping",
        comment="""Nagios' flap detection, computed by the observer over the last 21 health
results (--flap.high / --flap.low). Alertmanager inhibits the service's
warning and info incident alerts while this fires: one notification
instead of one per open/resolve cycle.""",
        expr=f"{s.m('homelab_service_flapping')} == 1\n  {svc_maint}",
        for_=s.for_("service_flapping"), severity="warning",
        summary="Service {{ $labels.service }} on {{ $labels.node }} is flapping.",
        description=f"""Service {{{{ $labels.service }}}} on node {{{{ $labels.node }}}} keeps
changing between healthy and failing (flap percent
{{{{ with printf `{flap_sel}` {flap_args} | query }}}}{{{{ . | first | value }}}}{{{{ end }}}}%)
for more than {human(s.for_('service_flapping'))}.""",
    ))
    # HomelabIncidentOpen: one rule per alert severity; see alerts/README.md.
    info_sel, info_args = s.tmpl("homelab_incident_info", "world", "incident_id")
    # Backquotes: a raw string in Go templates, so selectors may hold quotes.
    severity_of = (f'{{{{ with printf `{info_sel}` {info_args} | query }}}}'
                   f'{{{{ . | first | label "severity" }}}}{{{{ end }}}}')
    first = True
    for tier in ALERT_SEVERITIES:
        sevs = s.incident_severities_at_least(tier)
        if not sevs:
            continue
        matcher = f'severity="{sevs[0]}"' if len(sevs) == 1 else f'severity=~"{"|".join(sevs)}"'
        comment = None
        if first:
            first = False
            mapping = ", ".join(f"{k} -> {v}" for k, v in s.sev_map.items())
            comment = f"""One alert per active incident and alert severity at or below the
incident's (mapped {mapping}): a critical incident fires all three
rules, a warning one the warning and the info rule. The labels never carry
the incident's own severity, so an escalation (warning -> critical) only
adds the critical alert: the others stay firing with the same labels, no
RESOLVED is sent for an incident that is still open. Alertmanager inhibits
the lower ones (alertmanager.example.yml). The incident's severity is
joined in from homelab_incident_info ({s.on('incident_id')}), and shown
in the annotations. Nothing pages while the service or its node is in
maintenance. The rules come in rising order on purpose: Prometheus sends
each rule's alerts right after evaluating it, so when an incident resolves,
Alertmanager learns that the lower alerts resolved before the higher one
that mutes them does, and never sees them firing and unmuted."""
        rules.append(dict(
            alert="HomelabIncidentOpen",
            comment=comment,
            expr=f"""{s.m('homelab_incident_open')} == 1
  and {s.on('incident_id')} {s.m('homelab_incident_info', 'world', matcher)} == 1
  {svc_maint}""",
            for_=s.for_("incident_open"), severity=tier,
            summary=f"Incident {{{{ $labels.incident_id }}}} is open ({severity_of}).",
            description=f"""Incident {{{{ $labels.incident_id }}}} of service {{{{ $labels.service }}}}
on node {{{{ $labels.node }}}} is active with severity {severity_of}. See
world/incidents.json for its occurrences and diagnostics.""",
        ))
    rules.append(dict(
        alert="HomelabDeploymentFailed",
        comment="""The latest deployment of a service on a node failed. Resolves when a
new attempt or a new deployment of that service on that node starts.""",
        expr=f"{s.m('homelab_deployment_status', 'world', FAILED)} == 1\n  {svc_maint}",
        for_=s.for_("deployment_failed"), severity="warning",
        summary="Deployment of {{ $labels.service }} on {{ $labels.node }} failed.",
        description="""The latest deployment of service {{ $labels.service }} on node
{{ $labels.node }} failed. See world/deployments.json for its stages and
diagnostics.""",
    ))
    last_run = s.m("homelab_observer_last_run_timestamp_seconds")
    rules.append(dict(
        alert="HomelabNoEvents",
        comment="""No event at all for a while (by event time), although the observer is
alive: it computed its world recently (the daemon does every batch; a
textfile is fresh). The writers or whatever carries their events into
events/ (send, a shared folder) have stopped.""",
        expr=f"""time() - {s.m('homelab_observer_last_event_timestamp_seconds')} > {seconds(s.thr['no_events_after'])}
  and {s.on('job', 'instance')} time() - {last_run} < {seconds(s.thr['textfile_stale_after'])}""",
        for_=s.for_("no_events"), severity="warning",
        summary="homelab-observer has received no event for {{ $value | humanizeDuration }}.",
        description=f"""The last event homelab-observer on {{{{ $labels.instance }}}} processed is
dated {{{{ $value | humanizeDuration }}}} ago (more than
{human(s.thr['no_events_after'])}), although the observer itself is running.
Nothing writes to events/ any more: check the hosts' senders, their spool,
and the folder the events arrive in.""",
    ))
    rules.append(dict(
        alert="HomelabTextfileStale",
        comment="""For `once --textfile` users: node_exporter keeps serving the last file,
so the world alerts would go on judging a frozen world. The daemon is
excluded by the textfile selector (HomelabObserverStalled watches it).""",
        expr=f"time() - {s.m('homelab_observer_last_run_timestamp_seconds', 'textfile')} > {seconds(s.thr['textfile_stale_after'])}",
        for_=s.for_("textfile_stale"), severity="warning",
        summary="The homelab-observer textfile on {{ $labels.instance }} is stale.",
        description=f"""The homelab metrics that {{{{ $labels.instance }}}} serves were computed
{{{{ $value | humanizeDuration }}}} ago (more than
{human(s.thr['textfile_stale_after'])}): `homelab-observer once --textfile`
has not run or has failed since. Every homelab alert judges that old world
until it runs again.""",
    ))
    return rules


def observer_rules(s):
    up = s.m("up", "observer")
    stalled = seconds(s.thr["observer_stalled_after"])
    replays = s.thr["replays_per_hour"]
    rebuilds_sel, rebuilds_args = s.tmpl("homelab_observer_rebuilds_total", "world", "job", "instance")
    return [
        dict(
            alert="HomelabObserverDown",
            expr=f"{up} == 0 or absent({up})",
            for_=s.for_("observer_down"), severity="critical",
            summary="homelab-observer cannot be scraped.",
            description=f"""Prometheus has not scraped homelab-observer (job {{{{ $labels.job }}}})
successfully for more than {human(s.for_('observer_down'))}. Every other homelab
alert is blind while it is down.""",
        ),
        dict(
            alert="HomelabObserverStalled",
            comment="""The daemon finishes a batch at least every 5 seconds even when no
event arrives, so a last batch minutes old means its loop is stuck.""",
            expr=f"time() - {s.m('homelab_observer_last_batch_timestamp_seconds', 'observer')} > {stalled}",
            for_=s.for_("observer_stalled"), severity="critical",
            summary="homelab-observer has stopped processing events.",
            description="""homelab-observer on {{ $labels.instance }} finished its last batch
{{ $value | humanizeDuration }} ago; it normally finishes one every
5 seconds. The world files and metrics are frozen.""",
        ),
        dict(
            alert="HomelabObserverEventsStuck",
            comment="""Bytes left unconsumed after every batch for 30 minutes: an event file
whose last line never got its newline, or a file that cannot be read.""",
            expr=f"min_over_time({s.m('homelab_observer_events_pending_bytes', 'observer')}[15m]) > 0",
            for_=s.for_("events_stuck"), severity="warning",
            summary="homelab-observer leaves bytes in events/ unconsumed.",
            description="""For more than 30 minutes, at least {{ $value | humanize1024 }}B in
events/ stayed unconsumed after every batch on
{{ $labels.instance }}: most likely a last line without its newline,
or an unreadable file.""",
        ),
        dict(
            alert="HomelabObserverRejectingEvents",
            expr=f"increase({s.m('homelab_observer_events_rejected_total')}[15m]) > 0",
            for_=None, severity="warning",
            summary="homelab-observer is rejecting events ({{ $labels.reason }}).",
            description="""homelab-observer rejected events with reason {{ $labels.reason }} in
the last 15 minutes. They are listed in state/rejected-events.jsonl.""",
        ),
        dict(
            alert="HomelabObserverInventoryBroken",
            expr=f"{s.m('homelab_observer_inventory_ok', 'observer')} == 0",
            for_=s.for_("inventory_broken"), severity="warning",
            summary="homelab-observer's inventory has problems.",
            description=f"""The inventory in use on {{{{ $labels.instance }}}} did not load cleanly
for more than {human(s.for_('inventory_broken'))} (a broken or missing
topology.yaml or services.yaml). After a broken edit the last good inventory
stays in use.""",
        ),
        dict(
            alert="HomelabObserverConfigReloadFailed",
            comment="""The last reload (SIGHUP, `systemctl reload homelab-observer`) of the
inventory or the web config (TLS certificates included) failed: the old
one stays in use, so renewed certificates are not picked up.""",
            expr=f"{s.m('homelab_observer_config_reload_success', 'observer')} == 0",
            for_=s.for_("config_reload_failed"), severity="warning",
            summary="homelab-observer could not reload its configuration.",
            description=f"""The last configuration reload of homelab-observer on
{{{{ $labels.instance }}}} failed, more than {human(s.for_('config_reload_failed'))}
ago, and none has succeeded since: it keeps running with the configuration
it had before (old certificates, old inventory). Its log says what was
wrong.""",
        ),
        dict(
            alert="HomelabObserverWorldWriteFailing",
            expr=f"increase({s.m('homelab_observer_world_write_failures_total', 'observer')}[15m]) > 0",
            for_=None, severity="warning",
            summary="homelab-observer cannot write its world files.",
            description="""homelab-observer on {{ $labels.instance }} failed to write the world
files or its checkpoint in the last 15 minutes. It retries every
batch; until it succeeds, world/*.json are stale.""",
        ),
        dict(
            alert="HomelabObserverNotReady",
            expr=f"{s.m('homelab_observer_ready', 'observer')} == 0",
            for_=s.for_("not_ready"), severity="warning",
            summary="homelab-observer has not finished its first replay.",
            description=f"""homelab-observer on {{{{ $labels.instance }}}} has been running for more
than {human(s.for_('not_ready'))} without finishing its first pass over events/
(/readyz answers 503).""",
        ),
        dict(
            alert="HomelabObserverLateEvents",
            comment="""Events that arrive later than --events.max-lateness (default 5m)
behind the latest applied event time, per file in events/. Each one
forces a full replay (coalesced to one per
--events.replay-min-interval). A steady stream of them from one file
is the signature of a writer whose clock is behind; `for: 15m` keeps
a single late batch (a host catching up on a backlog) from notifying,
since one increase keeps the expression true for less than 15
minutes. Note that a file's first late event creates its series,
which increase() cannot see: the alert needs late events to go on.""",
            expr=f"increase({s.m('homelab_observer_late_events_total')}[15m]) > 0",
            for_=s.for_("late_events"), severity="warning",
            summary="Events in events/{{ $labels.file }} arrive too late; its writer's clock is probably skewed.",
            description=f"""For more than {human(s.for_('late_events'))}, homelab-observer on {{{{ $labels.instance }}}}
kept receiving events in events/{{{{ $labels.file }}}} dated further
behind the latest applied event than --events.max-lateness allows.
Each forces a full replay of the history (at most one per
--events.replay-min-interval). The clock of the host writing
{{{{ $labels.file }}}} is probably skewed: check its NTP/chrony.""",
        ),
        dict(
            alert="HomelabObserverFrequentReplays",
            comment="""Replays rebuild the world from zero; a few a day are harmless, many
mean something keeps changing history: late events (a skewed clock,
see HomelabObserverLateEvents), or event files that shrink or are
rewritten. The counter has a `reason` label (late_event, checkpoint,
file_shrank, file_rewritten); the alert adds the reasons up per
instance, so it fires once, and lists them in its description.
For dashboards, no page.""",
            expr=f"sum without (reason) (increase({s.m('homelab_observer_rebuilds_total')}[1h])) > {replays}",
            for_=None, severity="info",
            summary="homelab-observer keeps rebuilding its world from zero.",
            description=f"""homelab-observer on {{{{ $labels.instance }}}} replayed its whole
history more than {replays} times in the last hour (by reason:
{{{{ range $i, $r := query (printf `sum by (reason) (round(increase({rebuilds_sel}[1h]))) > 0` {rebuilds_args}) | sortByLabel "reason" }}}}{{{{ if $i }}}}, {{{{ end }}}}{{{{ $r.Labels.reason }}}} {{{{ $r.Value }}}}{{{{ end }}}}).
late_event: events dated further back than --events.max-lateness
(a skewed clock); file_shrank, file_rewritten: event files
truncated or rewritten after they were read; checkpoint: a
checkpoint that did not match the world files.""",
        ),
    ]


def site_rules(s):
    info = s.m("homelab_observer_build_info", "world", 'site!=""')
    return [
        dict(
            alert="HomelabSiteDown",
            comment=f"""For a Prometheus that gathers many sites (federation or remote-write;
docs/scale-out.md): a site whose observer reported within
{s.thr['site_forgotten_after']} sends nothing now. Whether the observer,
the site's Prometheus (or agent) or the link between them stopped, the
site's series went stale or stopped arriving. Quiet where the series carry
no `site` label (one homelab, one Prometheus).""",
            expr=f"""max by (site) (max_over_time({info}[{s.thr['site_forgotten_after']}]))
  unless max by (site) ({info})""",
            for_=s.for_("site_down"), severity="critical",
            summary="Site {{ $labels.site }} has stopped reporting.",
            description=f"""No homelab metric of site {{{{ $labels.site }}}} has reached this
Prometheus for more than {human(s.for_('site_down'))}, although it reported
within the last {human(s.thr['site_forgotten_after'])}: its observer, its
Prometheus (or agent) or the link to it is down. Its other alerts cannot
fire meanwhile.""",
        ),
    ]


HEADER = """\
# Prometheus alerting rules for homelab-observer.
#
# GENERATED by alerts/mixin/generate.py from alerts/mixin/settings.yml: do not
# edit by hand; change the settings (selectors, thresholds, `for` durations,
# runbook URL prefix, incident severity mapping) and run
#   python3 alerts/mixin/generate.py
# tests/alerts/run_alert_tests.sh fails when this file is out of date.
#
# Conventions (monitoring-mixins): CamelCase alert names, a `severity` label
# (critical pages, warning goes to chat, info is for dashboards only), and the
# annotations summary, description and runbook_url. Every runbook_url points
# at a section of docs/runbooks.md.
#
# The world alerts (group homelab) work wherever the homelab_* metrics come
# from: the daemon's /metrics or `once --textfile` through node_exporter.
# Incident and service alerts stay quiet while the service or its node is in
# maintenance (homelab_*_maintenance). The self-monitoring alerts (group
# homelab-observer) need the daemon (`run`) scraped by a job named
# "homelab-observer"; see docs/runbooks.md. The group homelab-sites is for a
# Prometheus that gathers many sites (docs/scale-out.md) and stays quiet
# elsewhere.
#
# Check and test:  bash tests/alerts/run_alert_tests.sh
"""


# ----------------------------------------------------------------- output
def scalar(text):
    """A one-line YAML scalar: plain when that is unambiguous, else quoted."""
    plain_ok = (text and text == text.strip() and ": " not in text and " #" not in text
                and not text.startswith(("{", "[", "'", '"', "&", "*", "!", "|", ">", "%", "@", "`", "-", "?", "#"))
                and not text.endswith(":"))
    if plain_ok:
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    return "'" + text.replace("'", "''") + "'"


NBSP = "\x00"


def wrap(text, width):
    """The words of `text` in lines of at most `width`, never breaking inside a
    {{ template action }} (YAML would fold it back, but it reads badly)."""
    words = " ".join(text.split())
    words = re.sub(r"\{\{.*?\}\}", lambda m: m.group(0).replace(" ", NBSP), words)
    lines = textwrap.wrap(words, width=width, break_long_words=False, break_on_hyphens=False)
    return [line.replace(NBSP, " ") for line in lines]


def folded(text, indent):
    """A `>-` block: the words of `text` wrapped; YAML folds them back."""
    pad = " " * indent
    return ">-\n" + "\n".join(pad + line for line in wrap(text, max(40, 80 - indent)))


def render_rule(rule, prefix):
    out = []
    if rule.get("comment"):
        out.extend(f"      # {line}" for line in wrap(rule["comment"], 72))
    out.append(f"      - alert: {rule['alert']}")
    expr = rule["expr"]
    if "\n" in expr:
        out.append("        expr: |-")
        out.extend(f"          {line}" for line in expr.splitlines())
    else:
        out.append(f"        expr: {scalar(expr)}")
    if rule.get("for_"):
        out.append(f"        for: {rule['for_']}")
    out.append("        labels:")
    out.append(f"          severity: {rule['severity']}")
    out.append("        annotations:")
    out.append(f"          summary: {scalar(rule['summary'])}")
    out.append(f"          description: {folded(rule['description'], 12)}")
    out.append(f"          runbook_url: {prefix}{rule['alert'].lower()}")
    return "\n".join(out)


def render(settings):
    groups = [("homelab", world_rules(settings)), ("homelab-observer", observer_rules(settings)),
              ("homelab-sites", site_rules(settings))]
    text = [HEADER, "groups:"]
    for gi, (name, rules) in enumerate(groups):
        if gi:
            text.append("")
        text.append(f"  - name: {name}")
        text.append("    rules:")
        text.append("\n\n".join(render_rule(r, settings.prefix) for r in rules))
    rendered = "\n".join(text) + "\n"
    check_parse(rendered, groups)
    return rendered


def check_parse(rendered, groups):
    """The hand-made YAML must read back as exactly the rules it was made of."""
    doc = yaml.safe_load(rendered)
    for (name, rules), group in zip(groups, doc["groups"]):
        assert group["name"] == name
        for rule, got in zip(rules, group["rules"]):
            assert got["alert"] == rule["alert"], got
            assert got["expr"] == rule["expr"], (got["expr"], rule["expr"])
            assert got["annotations"]["summary"] == rule["summary"], got
            assert got["annotations"]["description"] == " ".join(rule["description"].split()), got
        assert len(rules) == len(group["rules"])


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", type=pathlib.Path, default=DEFAULT_SETTINGS)
    ap.add_argument("--output", default=str(DEFAULT_OUTPUT))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv[1:])

    defaults = yaml.safe_load(DEFAULT_SETTINGS.read_text(encoding="utf-8"))
    raw = defaults
    if args.settings.resolve() != DEFAULT_SETTINGS:
        raw = merge(defaults, yaml.safe_load(args.settings.read_text(encoding="utf-8")))
    rendered = render(Settings(raw))

    if args.check:
        path = pathlib.Path(args.output)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == rendered:
            print(f"ok: {path} is what {args.settings} renders")
            return 0
        sys.stdout.writelines(difflib.unified_diff(
            current.splitlines(True), rendered.splitlines(True),
            str(path), "rendered from " + str(args.settings)))
        print(f"FAIL: {path} differs from what {args.settings} renders; "
              f"run: python3 alerts/mixin/generate.py")
        return 1
    if args.output == "-":
        sys.stdout.write(rendered)
    else:
        pathlib.Path(args.output).write_text(rendered, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
