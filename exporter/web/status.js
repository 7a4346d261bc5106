// The status page's logic (index.html). Fetches the world from the
// same-origin API (docs/api.md), renders it with DOM calls — never by parsing HTML:
// node and service names come from the hosts' events — and stays live through
// the Server-Sent Events of /api/v1/stream:
//   hello {sequence}          a (re)connected stream: fetch everything
//   world {summary, changed}  one published change: fetch what changed
//   reset                     the feed lost track: fetch everything
// Fetches are debounced and never overlap. While the stream is down the page
// says "stale" and keeps the last data; EventSource reconnects by itself, and
// when it gives up for good the stream is recreated with a backoff.
// For tests and scripts: <body data-connection="connecting|live|stale"
// data-loaded="true" data-sequence="N">; #site[data-site] is the site's name
// (empty, and the element hidden, without --web.site-name).
'use strict';

(() => {
  const ENDPOINTS = {
    summary: '/api/v1/world/runtime-summary',
    observer: '/api/v1/observer',
    active: '/api/v1/incidents?status=active&limit=1000',
    resolved: '/api/v1/incidents?status=resolved&limit=20',
    nodes: '/api/v1/world/nodes',
    services: '/api/v1/world/services',
    deployments: '/api/v1/deployments?limit=20',
  };
  const ALL = Object.keys(ENDPOINTS);
  // Which fetches a "changed" list of a world event calls for (the daemon's
  // WorldChanges, exporter/api_publisher.h: nodes, services, incidents,
  // deployments, and history {incidents, deployments}). A node's change
  // refetches the services too: a service shows its node's maintenance and
  // turns stale when its node is down, which its own entry may not list.
  const CHANGED_TO_KEYS = {
    nodes: ['nodes', 'services'],
    services: ['services'],
    incidents: ['active', 'resolved'],
    deployments: ['deployments'],
  };
  const STALE_NODE_MS = 5 * 60 * 1000;  // "stale" styling for an up node not seen for this long
  const DEBOUNCE_MS = 100;
  const TICK_MS = 15 * 1000;            // relative ages and the observer strip
  const BACKOFF_MIN_MS = 1000;
  const BACKOFF_MAX_MS = 30 * 1000;

  const SEVERITY_RANK = { critical: 3, error: 2, warning: 1, info: 0 };
  const SEVERITY_TONE = { critical: 'crit', error: 'bad', warning: 'warn', info: 'info' };
  const NODE_TONE = { up: 'ok', down: 'bad', unknown: 'idle' };
  // stale has a look of its own (dashed, neither green nor red): it was
  // healthy when last heard of, and that is too long ago.
  const SERVICE_TONE = { healthy: 'ok', unhealthy: 'bad', stale: 'stale', unknown: 'idle' };
  const SERVICE_RANK = { unhealthy: 0, stale: 1, unknown: 2, healthy: 3 };
  const DEPLOYMENT_TONE = { succeeded: 'ok', failed: 'bad', running: 'info' };

  const data = {};               // endpoint key -> parsed JSON
  const errors = {};             // endpoint key -> message of its last failed fetch
  let dirty = new Set(ALL);      // keys to fetch on the next refresh
  let refreshTimer = null;
  let fetching = false;
  let streamLive = false;        // a hello or world event arrived since the last error
  let everLoaded = false;
  let lastDataAt = null;         // Date of the last successful refresh
  let source = null;
  let backoffMs = BACKOFF_MIN_MS;
  let reconnectTimer = null;
  let sequence = 0;
  const seen = { active: null, deployments: null };  // ids rendered last time, to mark new ones

  // ---- small DOM helpers -------------------------------------------------

  // h('p', {className: 'x', dataset: {a: 'b'}}, 'text', child, ...): strings
  // become text nodes, null/false children are skipped.
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key in node) node[key] = value;
      else node.setAttribute(key, value);
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
    }
    return node;
  }

  // kind: a stable name for scripts and tests (data-badge), title: what the
  // word means, on hover.
  function badge(text, tone, kind, title) {
    return h('span', {
      className: 'badge', title, dataset: { tone: tone || 'idle', badge: kind || text },
    }, text);
  }

  const MEANING = {
    maintenance: 'In maintenance: its alerts are quiet; failures still open incidents',
    stale: 'No health result it can vouch for: its node is down, or its last check is too old',
    flapping: 'Changing between OK and failing over its last 21 health results',
    incidentFlapping: 'Its service was flapping when it failed',
    incidentMaintenance: 'It failed while its service or node was in maintenance',
  };

  function flappingBadge(percent) {
    const text = typeof percent === 'number' ? `flapping ${percent}%` : 'flapping';
    return badge(text, 'warn', 'flapping', MEANING.flapping);
  }

  function facts(pairs) {
    const list = h('dl', { className: 'facts' });
    for (const [term, value] of pairs) {
      if (value === null || value === undefined || value === false || value === '') continue;
      list.append(h('dt', null, term), h('dd', null, value));
    }
    return list;
  }

  // Replaces a container's children, keeping keyboard focus on the element
  // with the same data-focus-key if it had it.
  function replace(container, children) {
    const active = document.activeElement;
    const focusKey = active && container.contains(active) ? active.dataset.focusKey : undefined;
    container.replaceChildren(...children);
    if (focusKey !== undefined) {
      for (const el of container.querySelectorAll('[data-focus-key]')) {
        if (el.dataset.focusKey === focusKey) { el.focus(); break; }
      }
    }
  }

  function $(id) { return document.getElementById(id); }

  // ---- formatting ---------------------------------------------------------

  function values(doc) {
    if (!doc) return [];
    if (Array.isArray(doc)) return doc;
    if (Array.isArray(doc.items)) return doc.items;
    return Object.values(doc);
  }

  function parseTime(iso) {
    if (typeof iso !== 'string') return null;
    const t = Date.parse(iso);
    return Number.isNaN(t) ? null : t;
  }

  function duration(seconds) {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '–';
    const s = Math.abs(seconds);
    if (s < 1) return `${Math.round(s * 1000)} ms`;
    if (s < 60) return `${Number(s.toFixed(s < 10 ? 1 : 0))} s`;
    if (s < 3600) {
      const m = Math.floor(s / 60), r = Math.round(s % 60);
      return r ? `${m} min ${r} s` : `${m} min`;
    }
    if (s < 86400) {
      const hours = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
      return m ? `${hours} h ${m} min` : `${hours} h`;
    }
    const d = Math.floor(s / 86400), hours = Math.floor((s % 86400) / 3600);
    return hours ? `${d} d ${hours} h` : `${d} d`;
  }

  // "just now", "42 s ago", "6 min ago", "2 h 5 min ago", "3 d 4 h ago":
  // no seconds once it is minutes, so a glance reads it.
  function ageText(ms) {
    const seconds = (Date.now() - ms) / 1000;
    if (seconds < -5) return `in ${duration(coarse(-seconds))}`;
    if (seconds < 5) return 'just now';
    return `${duration(coarse(seconds))} ago`;
  }

  function coarse(seconds) {
    return seconds < 60 ? Math.round(seconds) : Math.floor(seconds / 60) * 60;
  }

  // A <time> that says how long ago `iso` was, the exact time in its title;
  // ages are refreshed in place by tick().
  function age(iso, prefix) {
    const ms = parseTime(iso);
    if (ms === null) return h('span', { className: 'age' }, 'never');
    return h('time', {
      className: 'age', dateTime: iso, title: new Date(ms).toLocaleString(),
      dataset: { prefix: prefix || '' },
    }, (prefix || '') + ageText(ms));
  }

  function rate(r) {
    if (typeof r !== 'number' || !Number.isFinite(r)) return '–';
    return r >= 100 ? number(Math.round(r)) : String(Number(r.toFixed(r >= 10 ? 1 : 2)));
  }

  function number(n) {
    return typeof n === 'number' ? n.toLocaleString('en') : '–';
  }

  // ---- sections ------------------------------------------------------------

  function renderSummary() {
    const s = data.summary;
    if (!s) return;
    const n = s.nodes || {}, sv = s.services || {}, inc = s.incidents || {}, d = s.deployments || {};
    const bySeverity = Object.entries(inc.active_by_severity || {})
      .filter(([, count]) => count > 0)
      .sort((a, b) => (SEVERITY_RANK[b[0]] ?? -1) - (SEVERITY_RANK[a[0]] ?? -1))
      .map(([severity, count]) => `${count} ${severity}`);
    const tiles = [
      ['Incidents', `${number(inc.active)} open`,
        [bySeverity.join(' · '), `${number(inc.resolved)} resolved`].filter(Boolean).join(' · '),
        inc.active > 0],
      ['Nodes', `${number(n.up)} up`,
        `${number(n.down)} down · ${number(n.unknown)} unknown · ${number(n.total)} total`, n.down > 0],
      ['Services', `${number(sv.healthy)} healthy`,
        [`${number(sv.unhealthy)} unhealthy`, sv.stale !== undefined && `${number(sv.stale)} stale`,
          `${number(sv.unknown)} unknown`].filter(Boolean).join(' · '), sv.unhealthy > 0],
      ['Deployments', `${number(d.running)} running`,
        `${number(d.succeeded)} succeeded · ${number(d.failed)} failed`, false],
    ];
    // Rebuilt only when the words change, so that screen readers (aria-live)
    // hear a change and not every refresh.
    const signature = JSON.stringify(tiles);
    const container = $('summary');
    if (container.dataset.signature === signature) return;
    container.dataset.signature = signature;
    replace(container, tiles.map(([title, main, detail, alert]) =>
      h('div', { className: 'tile', dataset: { alert: String(Boolean(alert)) } },
        h('p', { className: 'tile-title' }, title),
        h('p', { className: 'tile-main' }, main),
        h('p', { className: 'tile-detail' }, detail))));
  }

  function renderObserver() {
    const o = data.observer;
    if (!o) return;
    const pairs = [
      ['Events/s', rate(o.events_per_second)],
      ['Last event', age(o.last_event_at)],
      ['Lag', typeof o.lag_seconds === 'number' ? duration(o.lag_seconds) : '–'],
      ['Processed', number(o.events_processed)],
      ['Rejected', number(o.events_rejected)],
      ['Duplicates', number(o.events_duplicate)],
      ['Ready', o.ready === undefined ? '–' : (o.ready ? 'yes' : 'no')],
    ];
    if (o.pending_bytes) pairs.push(['Pending', `${number(o.pending_bytes)} bytes`]);
    if (o.ingest_enabled !== undefined) pairs.push(['Ingest', o.ingest_enabled ? 'on' : 'off']);
    replace($('observer'), pairs.map(([term, value]) =>
      h('div', null, h('dt', null, term), h('dd', null, value))));
    $('version').textContent = o.version ? `homelab-observer ${o.version}` : '';
    renderSite();
  }

  // The --web.site-name (null without it), so that tabs and screens of
  // several sites tell themselves apart; without it nothing shows.
  function siteName() {
    const site = data.observer && data.observer.site;
    return typeof site === 'string' && site !== '' ? site : null;
  }

  function renderSite() {
    const site = siteName();
    const el = $('site');
    if (el.dataset.site === (site || '')) return;
    el.dataset.site = site || '';
    replace(el, site === null ? [] : [h('span', { className: 'visually-hidden' }, ', site '), site]);
    el.hidden = site === null;
  }

  function incidentCard(inc, resolved, fresh) {
    const sev = inc.severity || 'error';
    const badges = [badge(sev, SEVERITY_TONE[sev], 'severity'),
      badge(resolved ? 'resolved' : 'open', resolved ? 'ok' : 'bad', 'status')];
    if (inc.flapping) badges.push(badge('flapping', 'warn', 'flapping', MEANING.incidentFlapping));
    if (inc.during_maintenance) {
      badges.push(badge('during maintenance', 'info', 'during-maintenance', MEANING.incidentMaintenance));
    }
    const diagnostics = Array.isArray(inc.diagnostics) && inc.diagnostics.length
      ? h('ul', { className: 'paths' }, inc.diagnostics.map((p) => h('li', null, String(p))))
      : null;
    const when = resolved
      ? [['Resolved', age(inc.resolved_at)],
        ['Lasted', typeof inc.duration_seconds === 'number' ? duration(inc.duration_seconds)
          : (parseTime(inc.resolved_at) !== null && parseTime(inc.started_at) !== null
            ? duration((parseTime(inc.resolved_at) - parseTime(inc.started_at)) / 1000) : null)]]
      : [['Opened', age(inc.started_at)]];
    return h('article', {
      className: `card incident${resolved ? ' resolved' : ''}${fresh ? ' fresh' : ''}`,
      id: resolved ? undefined : `incident-${inc.id}`,
      dataset: { incidentId: inc.id, severity: sev },
    },
    h('div', { className: 'card-head' },
      h('h3', null, `${inc.service} on ${inc.node}`),
      h('span', { className: 'badges' }, badges)),
    h('p', { className: 'meta mono' }, inc.id),
    facts([
      ...when,
      ['Occurrences', h('span', null, number(inc.occurrence_count), ', last ', age(inc.last_occurrence))],
      ['Deployment', inc.correlation_id || null],
      ['Repeat of', inc.repeat_of || null],
      ['Diagnostics', diagnostics],
    ]));
  }

  function renderIncidents() {
    if (data.active) {
      const active = values(data.active).slice().sort((a, b) =>
        (SEVERITY_RANK[b.severity] ?? 2) - (SEVERITY_RANK[a.severity] ?? 2) ||
        (parseTime(b.last_occurrence) ?? 0) - (parseTime(a.last_occurrence) ?? 0) ||
        String(a.id).localeCompare(String(b.id)));
      const before = seen.active;
      seen.active = new Set(active.map((i) => i.id));
      $('open-count').textContent = `(${active.length})`;
      replace($('incidents-open'), active.length
        ? active.map((i) => incidentCard(i, false, before !== null && !before.has(i.id)))
        : [h('p', { className: 'empty' }, 'No open incidents.')]);
    }
    if (data.resolved) {
      const resolved = values(data.resolved).slice().sort((a, b) =>
        (parseTime(b.resolved_at) ?? 0) - (parseTime(a.resolved_at) ?? 0));
      replace($('incidents-resolved'), resolved.length
        ? resolved.map((i) => incidentCard(i, true, false))
        : [h('p', { className: 'empty' }, 'No resolved incidents yet.')]);
    }
  }

  function nodeIsStale(node) {
    const seenAt = parseTime(node.last_seen);
    return node.status === 'up' && seenAt !== null && Date.now() - seenAt > STALE_NODE_MS;
  }

  function renderNodes() {
    if (!data.nodes) return;
    const rank = (n) => (n.status === 'down' ? 0 : n.status === 'unknown' || nodeIsStale(n) ? 1 : 2);
    const nodes = values(data.nodes).slice().sort((a, b) =>
      rank(a) - rank(b) || String(a.name).localeCompare(String(b.name)));
    $('nodes-count').textContent = `(${nodes.length})`;
    replace($('nodes'), nodes.length ? nodes.map((node) => {
      const stale = nodeIsStale(node);
      const badges = [badge(node.status || 'unknown', NODE_TONE[node.status], 'status')];
      if (stale) badges.push(badge('stale', 'warn', 'stale', 'Up, but not seen for 5 minutes'));
      if (node.maintenance) badges.push(badge('maintenance', 'info', 'maintenance', MEANING.maintenance));
      if (node.in_inventory === false) badges.push(badge('not in inventory', 'idle', 'not-in-inventory'));
      const roles = Array.isArray(node.roles) && node.roles.length
        ? h('ul', { className: 'roles', 'aria-label': 'roles' }, node.roles.map((r) => h('li', null, String(r))))
        : h('p', { className: 'meta' }, 'no roles');
      const stages = Array.isArray(node.stages) && node.stages.length
        ? node.stages.map((s) => s.name).join(', ') : null;
      return h('article', {
        className: 'card node',
        dataset: {
          node: node.name, status: node.status || 'unknown', stale: String(stale),
          maintenance: String(Boolean(node.maintenance)),
        },
      },
      h('div', { className: 'card-head' }, h('h3', null, node.name), h('span', { className: 'badges' }, badges)),
      roles,
      facts([['Last seen', age(node.last_seen)], ['Stages', stages]]));
    }) : [h('p', { className: 'empty' }, 'No nodes yet.')]);
  }

  function renderServices() {
    if (!data.services) return;
    const byNode = new Map();
    for (const s of values(data.services)) {
      if (!byNode.has(s.node)) byNode.set(s.node, []);
      byNode.get(s.node).push(s);
    }
    const worst = (list) => Math.min(...list.map((s) => SERVICE_RANK[s.status] ?? 2));
    const groups = [...byNode.entries()].sort((a, b) =>
      worst(a[1]) - worst(b[1]) || String(a[0]).localeCompare(String(b[0])));
    $('services-count').textContent = `(${values(data.services).length})`;
    replace($('services'), groups.length ? groups.map(([node, list]) => {
      list.sort((a, b) => (SERVICE_RANK[a.status] ?? 2) - (SERVICE_RANK[b.status] ?? 2) ||
        String(a.service).localeCompare(String(b.service)));
      const count = (status) => list.filter((s) => s.status === status).length;
      const troubles = [[count('unhealthy'), 'unhealthy'], [count('stale'), 'stale']]
        .filter(([n]) => n > 0).map(([n, word]) => `${n} ${word}`);
      return h('article', { className: 'card service-group', dataset: { node } },
        h('div', { className: 'card-head' },
          h('h3', null, node),
          h('span', { className: 'meta' },
            troubles.length ? `${troubles.join(', ')} of ${list.length}`
              : `${list.length} service${list.length === 1 ? '' : 's'}`)),
        h('ul', { className: 'service-list' }, list.map((s) => {
          const status = s.status || 'unknown';
          const badges = [badge(status, SERVICE_TONE[status], 'status',
            status === 'stale' ? MEANING.stale : undefined)];
          if (s.flapping) badges.push(flappingBadge(s.flap_percent));
          if (s.maintenance) badges.push(badge('maintenance', 'info', 'maintenance', MEANING.maintenance));
          const meta = [h('span', null, 'checked ', age(s.last_check))];
          if (s.active_incident) {
            meta.push(' · incident ', h('a', {
              href: `#incident-${s.active_incident}`, className: 'mono',
              dataset: { focusKey: `svc-inc-${s.node}/${s.service}` },
            }, s.active_incident));
          }
          if (s.last_deployment) meta.push(` · deployed by ${s.last_deployment}`);
          if (s.in_inventory === false) meta.push(' · not in inventory');
          return h('li', {
            dataset: {
              service: `${s.node}/${s.service}`, status,
              flapping: String(Boolean(s.flapping)), maintenance: String(Boolean(s.maintenance)),
            },
          },
            h('span', { className: 'service-name' }, s.service),
            h('span', { className: 'badges' }, badges),
            h('span', { className: 'meta' }, meta));
        })));
    }) : [h('p', { className: 'empty' }, 'No services yet.')]);
  }

  function renderDeployments() {
    if (!data.deployments) return;
    const list = values(data.deployments).slice().sort((a, b) =>
      (parseTime(b.started_at ?? b.finished_at) ?? 0) - (parseTime(a.started_at ?? a.finished_at) ?? 0));
    const before = seen.deployments;
    seen.deployments = new Set(list.map((d) => d.correlation_id));
    replace($('deployments'), list.length ? list.map((d) => {
      const status = d.status || 'running';
      const stages = Array.isArray(d.stages) && d.stages.length ? d.stages.map((s) => s.name).join(' → ') : null;
      const diagnostics = Array.isArray(d.diagnostics) && d.diagnostics.length
        ? h('ul', { className: 'paths' }, d.diagnostics.map((p) => h('li', null, String(p)))) : null;
      const target = [d.service, d.node].filter(Boolean).join(' on ') || 'no service yet';
      const took = status === 'running'
        ? (parseTime(d.started_at) !== null ? h('span', null, 'running, started ', age(d.started_at)) : 'running')
        : duration(d.duration_seconds);
      return h('article', {
        className: `card deployment${before !== null && !before.has(d.correlation_id) ? ' fresh' : ''}`,
        dataset: { deployment: d.correlation_id, status },
      },
      h('div', { className: 'card-head' },
        h('h3', null, target),
        h('span', { className: 'badges' }, badge(status, DEPLOYMENT_TONE[status], 'status'))),
      h('p', { className: 'meta mono' }, d.correlation_id),
      facts([
        ['Started', d.started_at ? age(d.started_at) : 'unknown'],
        ['Duration', took],
        ['Attempts', d.attempts > 1 ? number(d.attempts) : null],
        ['Stages', stages],
        ['Diagnostics', diagnostics],
      ]));
    }) : [h('p', { className: 'empty' }, 'No deployments yet.')]);
  }

  function render() {
    renderSummary();
    updateConnection();
    renderObserver();
    renderIncidents();
    renderNodes();
    renderServices();
    renderDeployments();
  }

  // Every 15 s: ages say "3 min ago" truthfully, nodes turn stale.
  function tick() {
    for (const el of document.querySelectorAll('time.age')) {
      const ms = parseTime(el.dateTime);
      if (ms !== null) el.textContent = (el.dataset.prefix || '') + ageText(ms);
    }
    renderNodes();
    updateConnection();
  }

  // ---- connection state ----------------------------------------------------

  function updateConnection() {
    const failed = Object.keys(errors);
    let state, text;
    if (streamLive && failed.length === 0) {
      state = 'live';
      text = 'Live';
    } else if (!everLoaded) {
      state = failed.length ? 'stale' : 'connecting';
      text = failed.length ? `Cannot load the status — retrying (${errors[failed[0]]})` : 'Connecting…';
    } else {
      state = 'stale';
      text = `Stale — reconnecting${lastDataAt ? `; data from ${ageText(lastDataAt.getTime())}` : ''}`;
      if (failed.length) text += ` (${errors[failed[0]]})`;
    }
    const open = data.summary && data.summary.incidents ? data.summary.incidents.active : 0;
    const site = siteName();
    const title = `${open > 0 ? `(${open} open) ` : ''}homelab-observer${site ? ` — ${site}` : ''}` +
      `${state === 'stale' ? ' — stale' : ''}`;
    if (document.title !== title) document.title = title;
    const p = $('connection');
    if (p.dataset.state !== state) p.dataset.state = state;
    if ($('connection-text').textContent !== text) $('connection-text').textContent = text;
    document.body.dataset.connection = state;
  }

  // ---- fetching ------------------------------------------------------------

  function request(keys) {
    for (const key of keys) dirty.add(key);
    if (refreshTimer === null && !fetching) refreshTimer = setTimeout(refresh, DEBOUNCE_MS);
  }

  async function fetchJson(key) {
    const response = await fetch(ENDPOINTS[key], {
      cache: 'no-cache', headers: { Accept: 'application/json' }, credentials: 'same-origin',
    });
    if (!response.ok) throw new Error(`${ENDPOINTS[key].split('?')[0]}: HTTP ${response.status}`);
    return response.json();
  }

  async function refresh() {
    refreshTimer = null;
    if (fetching || dirty.size === 0) return;
    fetching = true;
    const keys = [...dirty];
    dirty = new Set();
    const results = await Promise.allSettled(keys.map(fetchJson));
    let anyOk = false;
    results.forEach((result, i) => {
      const key = keys[i];
      if (result.status === 'fulfilled') {
        data[key] = result.value;
        delete errors[key];
        anyOk = true;
      } else {
        // Fetched again with the next stream event (a reconnect says hello).
        errors[key] = result.reason && result.reason.message ? result.reason.message : 'fetch failed';
        dirty.add(key);
      }
    });
    if (anyOk) {
      lastDataAt = new Date();
      render();
      if (ALL.every((key) => data[key] !== undefined)) {
        everLoaded = true;
        document.body.dataset.loaded = 'true';
      }
    }
    fetching = false;
    updateConnection();
    // What was asked for while fetching; failures wait for the stream.
    const failedOnly = keys.filter((k) => errors[k]);
    if ([...dirty].some((k) => !failedOnly.includes(k))) request([]);
  }

  // ---- the stream ----------------------------------------------------------

  function onWorld(event) {
    let change = null;
    try { change = JSON.parse(event.data); } catch (e) { change = null; }
    streamLive = true;
    if (!change || typeof change !== 'object') { request(ALL); return; }
    if (typeof change.sequence === 'number') {
      sequence = change.sequence;
      document.body.dataset.sequence = String(sequence);
    }
    const keys = new Set(['observer']);
    if (change.summary && typeof change.summary === 'object') {
      data.summary = change.summary;
      renderSummary();
      updateConnection();
    } else {
      keys.add('summary');
    }
    const changed = change.changed;
    if (!changed || typeof changed !== 'object') {
      ALL.forEach((k) => keys.add(k));
    } else {
      const history = changed.history && typeof changed.history === 'object' ? changed.history : {};
      for (const [name, targets] of Object.entries(CHANGED_TO_KEYS)) {
        // A missing list is read as "may have changed"; history.<name>: the
        // history file moved (a resolved incident, a deployment's stage).
        if (!Array.isArray(changed[name]) || changed[name].length > 0 || history[name]) {
          targets.forEach((k) => keys.add(k));
        }
      }
    }
    request(keys);
  }

  function connect() {
    reconnectTimer = null;
    if (source) source.close();
    source = new EventSource('/api/v1/stream');
    source.addEventListener('hello', (event) => {
      streamLive = true;
      backoffMs = BACKOFF_MIN_MS;
      try {
        const hello = JSON.parse(event.data);
        if (typeof hello.sequence === 'number') {
          sequence = hello.sequence;
          document.body.dataset.sequence = String(sequence);
        }
      } catch (e) { /* a hello without data still means the stream is up */ }
      request(ALL);
      updateConnection();
    });
    source.addEventListener('world', onWorld);
    source.addEventListener('reset', () => { streamLive = true; request(ALL); });
    source.addEventListener('error', () => {
      streamLive = false;
      updateConnection();
      // CONNECTING: the browser retries by itself. CLOSED: it gave up (an
      // HTTP error or a wrong content type); start over later.
      if (source.readyState === EventSource.CLOSED && reconnectTimer === null) {
        source.close();
        reconnectTimer = setTimeout(connect, backoffMs);
        backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
      }
    });
  }

  function start() {
    request(ALL);
    if ('EventSource' in window) {
      connect();
    } else {
      setInterval(() => request(ALL), 10 * 1000);
    }
    setInterval(() => {
      tick();
      if (streamLive) request(['observer']);
    }, TICK_MS);
  }

  start();
})();
