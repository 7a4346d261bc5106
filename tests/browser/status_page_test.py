#!/usr/bin/env python3
"""The status page at / in a real headless Chromium, against the real daemon.

Usage: status_page_test.py BINARY SOURCE_DIR OUTPUT_DIR

1. Copies examples/homelab to a temporary folder with every event and
   stage-marker time moved forward by the same amount, so that the example's
   "now" (2026-05-13T09:00:00Z) is the wall clock's now: the page then shows
   the example as a live homelab (nodes seen minutes ago) and an event stamped
   now lands after every other one. Starts `BINARY run --root COPY
   --inventory COPY --web.listen-address 127.0.0.1:PORT` and waits for
   /readyz.
2. Opens / in Debian's headless Chromium (chromium + chromium-driver, driven
   by python3-selenium) with the browser console and the network recorded.
3. Asserts:
   - the page loads with no console error, no Content-Security-Policy
     violation, no failed (>= 400) response, and no request to any origin but
     the daemon's; / is served with a Content-Security-Policy;
   - landmarks, one h1, a heading for every section, an aria-live summary;
     Tab reaches a visible skip link that moves focus to <main>;
   - without --web.site-name nothing site-related shows: the header's
     site box is hidden and empty, the document title names no site;
   - every open incident of world/incidents.json is shown, by id, under
     "Open incidents";
   - a service_unhealthy event for a new node/service, appended to a file in
     events/ with the time now, shows up on the page (its open incident, its
     service and its node) within 2 s of the append, without a reload (a
     marker set on window survives);
   - the example's maintenance shows: saturn/home-assistant (in a service
     maintenance window at the end) has a "maintenance" badge, and the
     resolved mars/traefik incident (failed during mars's window) is marked
     "during maintenance" with how long it lasted (1 h 4 min);
   - v1.2 states arrive live, without a reload: after appending a
     node-wide maintenance_started for venus, a node_down for mars and 23
     alternating failures and recoveries of a new service, venus and its
     services carry "maintenance" badges, mars's services show as "stale"
     (a look of their own: neither healthy nor unhealthy), the new service
     "flapping 100%", its open incident "flapping", and its last resolved
     incident "flapping" with its duration;
   - at 390 px wide there is no horizontal scroll and the open incidents are
     visible;
   - dark mode (prefers-color-scheme) gives a dark background, light text;
   - after SIGTERM to the daemon the page says it is stale and stays up with
     its data; when the daemon is back on the same port, with a recovery
     written while it was down, the page says live again and shows the
     recovery, still without a reload;
   - that restart passes --web.site-name: the page, still without a reload,
     shows the site's name in the header (inside the h1) and the document
     title ("homelab-observer — NAME"), and at 390 px the long name wraps
     without a horizontal scroll, with no Content-Security-Policy violation.
4. Writes screenshots (desktop, the v1.2 states, 390 px, dark, the stale
   state, and the site name at 390 px) to OUTPUT_DIR and prints their paths.

Exit 0 on success, 1 on failure, 77 (skip) when chromium, chromedriver or
python3-selenium is missing (Debian: apt-get install chromium chromium-driver
python3-selenium; see scripts/setup.sh). Set $CHROMIUM / $CHROMEDRIVER to
use other binaries.
"""
import datetime
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

EXAMPLE_NOW = datetime.datetime(2026, 5, 13, 9, 0, 0, tzinfo=datetime.timezone.utc)
LIVE_DEADLINE_S = 2.0      # the bound: appended event visible on the page
LOAD_DEADLINE_S = 15.0
STALE_DEADLINE_S = 10.0
RECONNECT_DEADLINE_S = 15.0  # EventSource retries every 2 s (the server's "retry:")
NEW_NODE = "browser-test-node"
NEW_SERVICE = "browser-test-svc"
FLAPPY_SERVICE = "browser-test-flappy"
V12_DEADLINE_S = 5.0
# Long, with a space and non-ASCII letters: it must wrap at 390 px.
SITE_NAME = "Ærøskøbing summer cabin by the lake"
DESKTOP = (1280, 900)
PHONE_WIDTH = 390
PHONE_HEIGHT = 844
TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})")

# Collects Content-Security-Policy violations from the first script on, before
# the page's own: CSP reports them as events, not always as console errors.
CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'}` +
                              ` at ${e.sourceFile}:${e.lineNumber}`);
});
"""


def skip(message):
    print(f"SKIP: {message}")
    return 77


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    """(status, headers, body) or (None, {}, error text)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        return None, {}, str(e)


def tail(path, lines=40):
    try:
        return "\n".join(pathlib.Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def shift_times(text, delta):
    """Every RFC 3339 'T' timestamp in text moved by delta, in its own offset
    and with its own fraction; anything else (the example's deliberately bad
    timestamps) left as it is."""
    def repl(m):
        base = datetime.datetime.fromisoformat(m.group(1) + (
            "+00:00" if m.group(3) == "Z" else m.group(3)))
        return (base + delta).strftime("%Y-%m-%dT%H:%M:%S") + (m.group(2) or "") + m.group(3)
    return TIMESTAMP.sub(repl, text)


def copy_example(source, root, delta):
    shutil.copytree(source / "examples" / "homelab", root, symlinks=True)
    for generated in ("world", "state/observer_checkpoint.json", "state/rejected-events.jsonl"):
        p = root / generated
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    for folder in (root / "events", root / "state" / "stages"):
        for path in folder.rglob("*"):
            if path.is_file():
                stat = path.stat()
                path.write_bytes(shift_times(path.read_bytes().decode("utf-8", "surrogateescape"),
                                             delta).encode("utf-8", "surrogateescape"))
                os.utime(path, (stat.st_atime + delta.total_seconds(),
                                stat.st_mtime + delta.total_seconds()))


def start_observer(binary, root, port, log_path, extra_args=()):
    with open(log_path, "ab") as out:
        return subprocess.Popen(
            [str(binary), "run", "--root", str(root), "--inventory", str(root),
             "--web.listen-address", f"127.0.0.1:{port}", *extra_args],
            stdout=out, stderr=subprocess.STDOUT)


def wait_ready(observer, base, log_path, timeout=15):
    """None once /readyz answers 200, else what went wrong."""
    deadline = time.monotonic() + timeout
    while True:
        status, _, _ = http_get(f"{base}/readyz", timeout=1)
        if status == 200:
            return None
        if observer.poll() is not None:
            return f"homelab-observer exited with {observer.returncode}:\n{tail(log_path)}"
        if time.monotonic() > deadline:
            return f"/readyz not 200 after {timeout} s:\n{tail(log_path)}"
        time.sleep(0.1)


class Failures:
    def __init__(self, log):
        self.items = []
        self.log = log

    def check(self, ok, message):
        if ok:
            self.log(f"ok: {message}")
        else:
            self.log(f"FAIL: {message}")
            self.items.append(message)
        return ok


def main(argv):
    if len(argv) != 4:
        print(f"usage: {argv[0]} BINARY SOURCE_DIR OUTPUT_DIR", file=sys.stderr)
        return 2
    binary = pathlib.Path(argv[1]).resolve()
    source = pathlib.Path(argv[2]).resolve()
    output = pathlib.Path(argv[3]).resolve()

    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    chromedriver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys
    except ImportError:
        return skip(f"python3-selenium is not importable by {sys.executable} "
                    "(Debian: apt-get install python3-selenium, then run with /usr/bin/python3)")
    if not os.access(chromium, os.X_OK):
        return skip(f"no Chromium at {chromium} (Debian: apt-get install chromium; or set $CHROMIUM)")
    if not os.access(chromedriver, os.X_OK):
        return skip(f"no chromedriver at {chromedriver} (Debian: apt-get install chromium-driver; "
                    "or set $CHROMEDRIVER)")
    if not binary.is_file():
        print(f"FAIL: no program at {binary}")
        return 1

    started = time.monotonic()

    def log(message):
        print(f"[{time.monotonic() - started:5.2f}s] {message}", flush=True)

    failures = Failures(log)
    output.mkdir(parents=True, exist_ok=True)
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="hlo-browser-"))
    root = scratch / "homelab"
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    copy_example(source, root, now - EXAMPLE_NOW)
    log(f"example copied to {root}, times moved by {now - EXAMPLE_NOW}")

    observer = driver = None
    observer_log = scratch / "observer.log"
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        observer = start_observer(binary, root, port, observer_log)
        error = wait_ready(observer, base, observer_log)
        if error:
            print(f"FAIL: {error}")
            return 1
        log(f"homelab-observer ready at {base}")

        status, headers, body = http_get(f"{base}/")
        csp = {k.lower(): v for k, v in headers.items()}.get("content-security-policy", "")
        failures.check(status == 200 and "text/html" in headers.get("Content-Type", ""),
                       f"GET / is the page (HTTP {status}, {headers.get('Content-Type')})")
        failures.check("script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp,
                       f"GET / sets a strict Content-Security-Policy ({csp or 'none'})")

        incidents = json.loads((root / "world" / "incidents.json").read_text())
        open_ids = sorted(i for i, inc in incidents.items() if inc["status"] == "active")
        if not failures.check(open_ids, f"the example has open incidents: {open_ids}"):
            return 1

        options = Options()
        options.binary_location = chromium
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-default-apps", "--lang=en-US",
                    f"--window-size={DESKTOP[0]},{DESKTOP[1]}"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        driver = webdriver.Chrome(service=Service(chromedriver), options=options)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_PROBE})
        log(f"Chromium {driver.capabilities.get('browserVersion')} started")

        driver.get(f"{base}/")
        loaded = wait_for(lambda: driver.execute_script(
            "return document.body.dataset.loaded === 'true' && document.body.dataset.connection === 'live'"),
            LOAD_DEADLINE_S)
        says = driver.execute_script("return document.getElementById('connection').textContent.trim()")
        failures.check(loaded, f"the page loads every endpoint and says it is live (it says {says!r})")

        # Structure for screen readers and keyboards: landmarks, headings,
        # a live summary; Tab reaches a visible skip link that moves focus
        # to the main content.
        problems = driver.execute_script("""
            const problems = [];
            if (!document.documentElement.lang) problems.push('no lang on <html>');
            for (const tag of ['header', 'main', 'nav']) {
              if (!document.querySelector(tag)) problems.push(`no <${tag}>`);
            }
            if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one <h1>');
            for (const s of document.querySelectorAll('section')) {
              const heading = document.getElementById(s.getAttribute('aria-labelledby') || '');
              if (!heading || !/^H[1-6]$/.test(heading.tagName)) problems.push(`section without heading`);
            }
            if (!document.querySelector('#summary[aria-live]')) problems.push('summary not aria-live');
            return problems;""")
        failures.check(not problems, f"landmarks, headings and a live summary ({problems or 'all there'})")
        ActionChains(driver).send_keys(Keys.TAB).perform()
        skip_link = driver.execute_script("""
            const e = document.activeElement, r = e.getBoundingClientRect();
            return [e.className, r.top >= 0 && r.bottom <= innerHeight && r.width > 0];""")
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        focused = driver.execute_script("return document.activeElement.id")
        failures.check(skip_link == ["skip-link", True] and focused == "main",
                       f"Tab shows the skip link and Enter moves focus to main ({skip_link}, {focused!r})")

        # No --web.site-name: nothing about a site.
        site = driver.execute_script(SITE_PROBE)
        failures.check(site["hidden"] and not site["displayed"] and site["text"] == "" and site["data"] == ""
                       and "—" not in site["title"],
                       f"without --web.site-name no site shows in the header or the title ({site})")

        # The example's open incidents, by id, under "Open incidents".
        shown = driver.execute_script(
            "return [...document.querySelectorAll('#incidents-open [data-incident-id]')]"
            ".map((e) => e.dataset.incidentId)")
        for incident_id in open_ids:
            card = driver.execute_script(
                "return [...document.querySelectorAll('#incidents-open [data-incident-id]')]"
                ".find((e) => e.dataset.incidentId === arguments[0]) || null", incident_id)
            failures.check(card is not None and card.is_displayed() and incident_id in card.text,
                           f"open incident {incident_id} is shown (page shows {shown})")
            if card is not None:
                inc = incidents[incident_id]
                failures.check(inc["service"] in card.text and inc["node"] in card.text
                               and inc["severity"] in card.text,
                               f"its card names {inc['service']}, {inc['node']} and {inc['severity']}")

        check_example_maintenance(driver, incidents, failures)

        # The example as it is (docs/status-page.png is this one).
        shots = [full_page_screenshot(driver, output / "status-page-desktop.png", DESKTOP[0])]

        # Live: an event appended now shows up without a reload.
        marker = secrets.token_hex(8)
        driver.execute_script("window.__hloMarker = arguments[0];", marker)
        event = {"timestamp": rfc3339(datetime.datetime.now(datetime.timezone.utc)),
                 "type": "service_unhealthy", "node": NEW_NODE, "service": NEW_SERVICE,
                 "severity": "critical", "message": "appended by the browser test"}
        with open(root / "events" / "zz-browser-test.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")
        appended = time.monotonic()
        seen = wait_for(lambda: driver.execute_script("""
            const incident = [...document.querySelectorAll('#incidents-open [data-incident-id]')]
              .some((e) => e.dataset.incidentId.endsWith(arguments[0]));
            const service = document.querySelector(`#services [data-service="${arguments[1]}"]`);
            const node = document.querySelector(`#nodes [data-node="${arguments[2]}"]`);
            return incident && service !== null && node !== null;
            """, f"-{NEW_NODE}-{NEW_SERVICE}", f"{NEW_NODE}/{NEW_SERVICE}", NEW_NODE),
            LIVE_DEADLINE_S + 3, interval=0.02)
        elapsed = time.monotonic() - appended
        failures.check(seen and elapsed <= LIVE_DEADLINE_S,
                       f"the appended event's incident, service and node are on the page "
                       f"{elapsed:.3f} s after the append (bound {LIVE_DEADLINE_S} s)")
        failures.check(driver.execute_script("return window.__hloMarker") == marker,
                       "without a reload (the window's marker survived)")
        failures.check(driver.execute_script("return document.body.dataset.connection") == "live",
                       "the page still says live")

        # Maintenance, stale and flapping, live.
        check_live_v12_states(driver, root, marker, failures)
        shots.append(full_page_screenshot(driver, output / "status-page-v12.png", DESKTOP[0]))

        # Console, CSP and network, for everything so far.
        time.sleep(0.3)
        check_console_and_network(driver, base, failures)


        # 390 px: no horizontal scroll, the incidents visible.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": PHONE_WIDTH, "height": PHONE_HEIGHT, "deviceScaleFactor": 1, "mobile": True})
        time.sleep(0.3)
        scroll_width, inner_width = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        failures.check(inner_width == PHONE_WIDTH and scroll_width <= inner_width,
                       f"no horizontal scroll at {PHONE_WIDTH} px (scrollWidth {scroll_width}, "
                       f"innerWidth {inner_width})")
        rects = driver.execute_script("""
            return [...document.querySelectorAll('#incidents-open [data-incident-id]')].map((e) => {
              const r = e.getBoundingClientRect();
              return [e.dataset.incidentId, r.left, r.right, r.width, r.height];
            });""")
        for incident_id in open_ids:
            rect = next((r for r in rects if r[0] == incident_id), None)
            failures.check(rect is not None and rect[1] >= 0 and rect[2] <= inner_width and rect[4] > 0,
                           f"open incident {incident_id} is inside the {PHONE_WIDTH} px viewport ({rect})")
        driver.save_screenshot(str(output / "status-page-390px.png"))
        shots.append(output / "status-page-390px.png")
        shots.append(full_page_screenshot(driver, output / "status-page-390px-full.png", PHONE_WIDTH,
                                          mobile=True))
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.set_window_size(*DESKTOP)

        # Dark mode follows prefers-color-scheme.
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
            "features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        background, text_colour = driver.execute_script(
            "const s = getComputedStyle(document.body); return [s.backgroundColor, s.color]")
        failures.check(luminance(background) < 0.05 and luminance(text_colour) > 0.6,
                       f"dark mode: a dark background ({background}) under light text ({text_colour})")
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(output / "status-page-dark.png"))
        shots.append(output / "status-page-dark.png")
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})

        # The daemon stops: the page says stale and keeps its data.
        observer.send_signal(signal.SIGTERM)
        try:
            rc = observer.wait(timeout=10)
            failures.check(rc == 0, f"homelab-observer stopped on SIGTERM with exit code {rc}")
        except subprocess.TimeoutExpired:
            failures.check(False, "homelab-observer stopped within 10 s of SIGTERM")
            observer.kill()
            observer.wait(timeout=5)
        stopped = time.monotonic()
        stale = wait_for(lambda: driver.execute_script(
            "return document.body.dataset.connection === 'stale' && "
            "/stale/i.test(document.getElementById('connection').textContent)"), STALE_DEADLINE_S)
        text = driver.execute_script("return document.getElementById('connection').textContent.trim()")
        failures.check(stale, f"the page says stale {time.monotonic() - stopped:.2f} s after the stop: {text!r}")
        still = driver.execute_script(
            "return document.querySelectorAll('#incidents-open [data-incident-id]').length")
        failures.check(driver.execute_script("return window.__hloMarker") == marker and still >= len(open_ids),
                       f"the page stayed up with its data ({still} open incidents still shown)")
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(output / "status-page-stale.png"))
        shots.append(output / "status-page-stale.png")

        # Back on the same port, with an event written while it was down: the
        # page reconnects by itself, says live again and catches up (the test
        # service recovered: its incident leaves "Open incidents"), no reload.
        with open(root / "events" / "zz-browser-test.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps({"timestamp": rfc3339(datetime.datetime.now(datetime.timezone.utc)),
                                "type": "service_recovered", "node": NEW_NODE,
                                "service": NEW_SERVICE}) + "\n")
        observer = start_observer(binary, root, port, observer_log, ["--web.site-name", SITE_NAME])
        error = wait_ready(observer, base, observer_log)
        if not failures.check(error is None, f"homelab-observer restarts on port {port} with --web.site-name "
                                             f"({error or 'ready'})"):
            raise RuntimeError("no daemon to reconnect to")
        restarted = time.monotonic()
        back = wait_for(lambda: driver.execute_script("""
            return document.body.dataset.connection === 'live' &&
              ![...document.querySelectorAll('#incidents-open [data-incident-id]')]
                .some((e) => e.dataset.incidentId.endsWith(arguments[0])) &&
              [...document.querySelectorAll('#incidents-resolved [data-incident-id]')]
                .some((e) => e.dataset.incidentId.endsWith(arguments[0]));
            """, f"-{NEW_NODE}-{NEW_SERVICE}"), RECONNECT_DEADLINE_S)
        text = driver.execute_script("return document.getElementById('connection').textContent.trim()")
        failures.check(back, f"live again {time.monotonic() - restarted:.2f} s after the restart, with the "
                             f"recovery written meanwhile (it says {text!r})")
        failures.check(driver.execute_script("return window.__hloMarker") == marker,
                       "still without a reload (the window's marker survived)")
        check_site_name(driver, output, shots, failures)

        for shot in shots:
            print(f"screenshot: {shot}")
    except Exception as e:  # a broken driver or page: report it as a failure with the logs
        failures.check(False, f"{type(e).__name__}: {e}")
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:
                pass
        if observer is not None and observer.poll() is None:
            observer.send_signal(signal.SIGTERM)
            try:
                observer.wait(timeout=10)
            except subprocess.TimeoutExpired:
                observer.kill()
                observer.wait(timeout=5)

    if failures.items:
        print(f"\nhomelab-observer log ({observer_log}):\n{tail(observer_log)}")
        print(f"\nFAIL: {len(failures.items)} check(s) failed in {time.monotonic() - started:.1f} s:")
        for item in failures.items:
            print(f"  - {item}")
        print(f"(scratch kept in {scratch})")
        return 1
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"PASS in {time.monotonic() - started:.1f} s")
    return 0


# What the page shows of one element, for the checks below: its text, its
# badges (data-badge -> text) and its data attributes.
DESCRIBE = """
const describe = (e) => e === null ? null : {
  text: e.textContent.replace(/\\s+/g, ' ').trim(),
  badges: Object.fromEntries([...e.querySelectorAll('.badge')].map((b) => [b.dataset.badge, b.textContent])),
  data: Object.assign({}, e.dataset),
};
"""


def page_element(driver, selector, attribute, value):
    """describe() of the first element matching selector whose data attribute
    equals value (compared in script, not in the selector: names may hold
    quotes)."""
    return driver.execute_script(DESCRIBE + """
        const e = [...document.querySelectorAll(arguments[0])]
          .find((x) => x.dataset[arguments[1]] === arguments[2]) || null;
        return describe(e);""", selector, attribute, value)


def incident_cards(driver, section, suffix):
    """describe() of every incident card in #incidents-<section> whose id
    ends in suffix."""
    return driver.execute_script(DESCRIBE + """
        return [...document.querySelectorAll(`#incidents-${arguments[0]} [data-incident-id]`)]
          .filter((e) => e.dataset.incidentId.endsWith(arguments[1])).map(describe);""",
        section, suffix)


def fact(card, term):
    """The text after a facts term ("Lasted") in a described card, or None."""
    m = re.search(re.escape(term) + r"\s*([^A-Z]+)", card["text"])
    return m.group(1).strip() if m else None


def check_example_maintenance(driver, incidents, failures):
    """The example's maintenance windows, as the page first shows them."""
    service = page_element(driver, "#services [data-service]", "service", "saturn/home-assistant")
    failures.check(service is not None and service["badges"].get("maintenance") == "maintenance"
                   and service["data"].get("status") == "healthy",
                   f"saturn/home-assistant is healthy with a maintenance badge ({service})")
    saturn = page_element(driver, "#nodes [data-node]", "node", "saturn")
    failures.check(saturn is not None and "maintenance" not in saturn["badges"],
                   f"saturn itself has no maintenance badge ({saturn and saturn['badges']})")
    traefik = [i for i, inc in incidents.items()
               if inc["node"] == "mars" and inc["service"] == "traefik" and inc["during_maintenance"]]
    if failures.check(len(traefik) == 1,
                      f"the example has mars/traefik's incident during maintenance ({traefik})"):
        cards = incident_cards(driver, "resolved", traefik[0])
        failures.check(len(cards) == 1
                       and cards[0]["badges"].get("during-maintenance") == "during maintenance"
                       and fact(cards[0], "Lasted") == "1 h 4 min",
                       f"its resolved card says during maintenance and lasted 1 h 4 min ({cards})")


def check_live_v12_states(driver, root, marker, failures):
    """Maintenance, stale and flapping, appended now, on the page without a
    reload."""
    # First the node-wide maintenance alone: nothing in the services' own
    # entries changes, yet every service of venus must show it.
    path = root / "events" / "zz-browser-test-v12.jsonl"
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"timestamp": rfc3339(datetime.datetime.now(datetime.timezone.utc)),
                            "type": "maintenance_started", "node": "venus",
                            "message": "browser test: the whole node"}) + "\n")
    appended = time.monotonic()
    venus_services = []

    def venus_in_maintenance():
        node = page_element(driver, "#nodes [data-node]", "node", "venus")
        venus_services[:] = driver.execute_script(DESCRIBE + """
            return [...document.querySelectorAll('#services [data-service]')]
              .filter((e) => e.dataset.service.startsWith('venus/')).map(describe);""")
        return (node is not None and node["badges"].get("maintenance") == "maintenance"
                and node["data"].get("maintenance") == "true" and bool(venus_services)
                and all(s["badges"].get("maintenance") == "maintenance"
                        and s["data"].get("maintenance") == "true" for s in venus_services))

    failures.check(wait_for(venus_in_maintenance, V12_DEADLINE_S),
                   f"a maintenance_started for venus puts a maintenance badge on venus and on each of "
                   f"its services {time.monotonic() - appended:.2f} s after the append (bound "
                   f"{V12_DEADLINE_S} s; {[(s['data']['service'], s['badges']) for s in venus_services]})")

    now = datetime.datetime.now(datetime.timezone.utc)
    events = [{"timestamp": rfc3339(now), "type": "node_down", "node": "mars",
               "message": "browser test: its services turn stale"}]
    # 23 results a second apart, the last now: failure, recovery, failure, …
    # The 21st (a failure) makes the service flap (100%); the 22nd resolves
    # that incident; the 23rd opens one more, flapping too.
    for i in range(23):
        events.append({
            "timestamp": rfc3339(now - datetime.timedelta(seconds=22 - i)),
            "type": "healthcheck_failed" if i % 2 == 0 else "service_recovered",
            "node": NEW_NODE, "service": FLAPPY_SERVICE})
    with open(path, "a", encoding="utf-8") as f:
        f.write("".join(json.dumps(e) + "\n" for e in events))
    appended = time.monotonic()
    flappy = f"{NEW_NODE}/{FLAPPY_SERVICE}"
    suffix = f"-{NEW_NODE}-{FLAPPY_SERVICE}"
    last = {}

    def probe():
        service = lambda name: page_element(driver, "#services [data-service]", "service", name)  # noqa: E731
        last.update({
            "traefik": service("mars/traefik"),
            "k3s": service("mars/k3s"),
            "flappy": service(flappy),
            "open": incident_cards(driver, "open", suffix),
            "resolved": incident_cards(driver, "resolved", suffix),
        })
        s = last
        return (all(s[k] is not None and s[k]["data"].get("status") == "stale" for k in ("traefik", "k3s"))
                and s["flappy"] is not None and s["flappy"]["badges"].get("flapping") == "flapping 100%"
                and len(s["open"]) == 1 and len(s["resolved"]) >= 1)

    seen = wait_for(probe, V12_DEADLINE_S)
    failures.check(seen, f"stale and flapping appended now are on the page "
                         f"{time.monotonic() - appended:.2f} s after the append (bound {V12_DEADLINE_S} s; "
                         f"{json.dumps(last)[:1500]})")
    if not seen:
        return
    for key in ("traefik", "k3s"):
        s = last[key]
        failures.check(s["badges"].get("status") == "stale"
                       and not {"healthy", "unhealthy"} & set(s["badges"].values()),
                       f"{s['data']['service']} on the down mars shows as stale, neither healthy nor "
                       f"unhealthy ({s['badges']})")
    look = driver.execute_script("""
        const li = [...document.querySelectorAll('#services [data-service]')]
          .find((e) => e.dataset.service === 'mars/traefik');
        const b = li.querySelector('.badge[data-badge="status"]');
        return [b.dataset.tone, getComputedStyle(b).borderTopStyle];""")
    failures.check(look == ["stale", "dashed"], f"a stale badge has a look of its own (tone, border: {look})")
    flap = last["flappy"]
    failures.check(flap["data"].get("flapping") == "true" and flap["data"].get("status") == "unhealthy",
                   f"{flappy}: unhealthy and flapping 100% ({flap['badges']})")
    failures.check(last["open"][0]["badges"].get("flapping") == "flapping",
                   f"its open incident is marked flapping ({last['open'][0]['badges']})")
    newest = max(last["resolved"], key=lambda c: c["data"]["incidentId"])
    failures.check(newest["badges"].get("flapping") == "flapping" and fact(newest, "Lasted") == "1 s",
                   f"its last resolved incident is marked flapping and lasted 1 s ({newest['text'][:200]})")
    failures.check(driver.execute_script("return window.__hloMarker") == marker,
                   "the v1.2 states came without a reload (the window's marker survived)")


# The header's site box and the document title, as the page shows them.
SITE_PROBE = """
const e = document.getElementById('site'), r = e.getBoundingClientRect();
return {
  hidden: e.hidden, displayed: r.width > 0 && r.height > 0 && getComputedStyle(e).display !== 'none',
  text: e.textContent, visible_text: e.innerText, data: e.dataset.site || '',
  in_h1: e.closest('h1') !== null, left: r.left, right: r.right, title: document.title,
};
"""


def check_site_name(driver, output, shots, failures):
    """The daemon now runs with --web.site-name SITE_NAME: header and title name it."""
    shown = wait_for(lambda: driver.execute_script(SITE_PROBE)["data"] == SITE_NAME, RECONNECT_DEADLINE_S)
    site = driver.execute_script(SITE_PROBE)
    failures.check(shown and site["displayed"] and not site["hidden"] and site["in_h1"]
                   and SITE_NAME in site["visible_text"],
                   f"with --web.site-name the header shows {SITE_NAME!r} in the h1 ({site})")
    failures.check(site["title"].endswith(f"homelab-observer — {SITE_NAME}"),
                   f"the document title names the site: {site['title']!r}")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": PHONE_WIDTH, "height": PHONE_HEIGHT, "deviceScaleFactor": 1, "mobile": True})
    try:
        time.sleep(0.3)
        driver.execute_script("window.scrollTo(0, 0)")
        scroll_width, inner_width = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        site = driver.execute_script(SITE_PROBE)
        failures.check(scroll_width <= inner_width and site["left"] >= 0 and site["right"] <= inner_width,
                       f"at {PHONE_WIDTH} px the site name wraps inside the viewport (scrollWidth "
                       f"{scroll_width}, innerWidth {inner_width}, box {site['left']:.0f}-{site['right']:.0f})")
        driver.save_screenshot(str(output / "status-page-site-390px.png"))
        shots.append(output / "status-page-site-390px.png")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    violations = driver.execute_script("return window.__cspViolations || []")
    failures.check(not violations, "no Content-Security-Policy violations with the site shown" + "".join(
        f"\n      {v}" for v in violations))


def wait_for(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return True
        except Exception:  # the page is between renders; ask again
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def check_console_and_network(driver, base, failures):
    origin = urllib.parse.urlsplit(base)
    errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    failures.check(not errors, "no console errors" + "".join(
        f"\n      {e.get('message')}" for e in errors))
    violations = driver.execute_script("return window.__cspViolations || []")
    failures.check(not violations, "no Content-Security-Policy violations" + "".join(
        f"\n      {v}" for v in violations))
    outside, failed, requests = [], [], 0
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            requests += 1
            parts = urllib.parse.urlsplit(url)
            if parts.scheme == "data":
                continue
            if (parts.scheme, parts.hostname, parts.port) != (origin.scheme, origin.hostname, origin.port):
                outside.append(url)
        elif message.get("method") == "Network.responseReceived":
            response = params.get("response", {})
            if response.get("status", 0) >= 400:
                failed.append(f"{response.get('status')} {response.get('url')}")
    failures.check(requests > 0 and not outside,
                   f"all {requests} requests went to {base} only" + "".join(f"\n      {u}" for u in outside))
    failures.check(not failed, "no failed responses" + "".join(f"\n      {f}" for f in failed))


def luminance(css_colour):
    """Relative luminance (WCAG) of an "rgb(r, g, b)" or "rgba(...)" colour."""
    r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css_colour)[:3])
    f = lambda c: c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4  # noqa: E731
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b)


def full_page_screenshot(driver, path, width, mobile=False):
    """The whole page, not only the viewport, at `width` CSS pixels."""
    height = driver.execute_script(
        "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
    time.sleep(0.3)
    driver.save_screenshot(str(path))
    if mobile:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": PHONE_HEIGHT, "deviceScaleFactor": 1, "mobile": True})
    else:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path


if __name__ == "__main__":
    sys.exit(main(sys.argv))
