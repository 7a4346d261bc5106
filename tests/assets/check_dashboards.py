#!/usr/bin/env python3
"""Static checks of the Grafana dashboards in dashboards/*.json.

Usage: check_dashboards.py SOURCE_DIR

The dashboards must work both when provisioned from files and when imported
through the UI, on any Grafana with any Prometheus data source name. So every
dashboard must:
  - be valid JSON with a non-empty, unique `uid` and `id: null`;
  - have a template variable `datasource` of type `datasource`, query
    `prometheus`, and route EVERY panel and EVERY target (and every query
    variable) through it: {"type": "prometheus", "uid": "${datasource}"};
  - hold no `__inputs` and no `${DS_...}` placeholders (the export-for-sharing
    format, which provisioning does not understand);
  - give every panel, including panels nested in rows, a unique id;
  - give every target a refId unique within its panel and a non-empty expr;
  - give every Prometheus annotation a name, an expr and a titleFormat;
  - have a template variable `site` (a query variable, multi-value, with
    All as `.*`, so that series without a site label match too), and filter
    every metric selector of every query (targets, annotations, query
    variables other than `site` itself) by it: `site=~"$site"`;
  - keep sites apart: every aggregation (sum, avg, min, max, count, group)
    keeps `site` (`by (site, ...)` or `without (...)`), except a `count` of
    `group by (site)`, which counts the sites; every `on(...)` join matches
    on `site` too (two sites may share node names and incident ids).

Exit 0 when all is well, 1 with one line per problem otherwise.
Python 3 standard library only.
"""
import json
import pathlib
import re
import sys

WANT_DS = {"type": "prometheus", "uid": "${datasource}"}
BUILTIN_GRAFANA_UIDS = {"-- Grafana --", "grafana"}


def walk_panels(panels):
    """Every panel, depth first, including those nested in (collapsed) rows."""
    for panel in panels or []:
        yield panel
        yield from walk_panels(panel.get("panels"))


def find_strings(node, path=""):
    """(json path, string) for every string in the document, keys included."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", key
            yield from find_strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from find_strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


SITE_FILTER = 'site=~"$site"'
AGGREGATION = re.compile(r"\b(sum|avg|min|max|count|group)\s*(?=\(|by\b|without\b)")


def site_problems(expr):
    """What keeps `expr` from being filtered by, and split by, $site."""
    problems = []
    for m in re.finditer(r"\b([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?", expr):
        name, selector = m.group(1), m.group(2)
        if not (name.startswith(("homelab_", "process_")) or name == "up") or expr[m.end():].lstrip().startswith("("):
            continue
        if not selector or SITE_FILTER not in selector:
            problems.append(f"selector {m.group(0)!r} lacks {SITE_FILTER}")
    for m in AGGREGATION.finditer(expr):
        rest = expr[m.end():].lstrip()
        if rest.startswith("without"):
            continue
        by = re.match(r"by\s*\(([^)]*)\)", rest)
        if by:
            if "site" not in [x.strip() for x in by.group(1).split(",")]:
                problems.append(f"{m.group(1)} by ({by.group(1)}) mixes sites: add site")
        elif not (m.group(1) == "count" and re.match(r"\(\s*group by \(site\)", rest)):
            problems.append(f"{m.group(1)}(...) without by (site, ...) mixes sites")
    for m in re.finditer(r"\bon\s*\(([^)]*)\)", expr):
        labels = [x.strip() for x in m.group(1).split(",") if x.strip()]
        if labels and "site" not in labels:
            problems.append(f"on({m.group(1)}) joins across sites: add site")
    return problems


def ds_ok(ds):
    return isinstance(ds, dict) and ds.get("type") == WANT_DS["type"] and ds.get("uid") == WANT_DS["uid"]


def check_dashboard(path, problems, uids):
    def bad(message):
        problems.append(f"{path.name}: {message}")

    try:
        with open(path, encoding="utf-8") as f:
            board = json.load(f)
    except (OSError, ValueError) as e:
        bad(f"not valid JSON: {e}")
        return
    if not isinstance(board, dict):
        bad("the top level is not an object")
        return

    uid = board.get("uid")
    if not isinstance(uid, str) or not uid:
        bad("no uid")
    elif uid in uids:
        bad(f"uid {uid!r} is also used by {uids[uid]}")
    else:
        uids[uid] = path.name
        if len(uid) > 40:
            bad(f"uid {uid!r} is longer than Grafana's 40 characters")
    if "id" not in board or board["id"] is not None:
        bad("id must be present and null (Grafana assigns it)")
    if not board.get("title"):
        bad("no title")
    if "homelab" not in (board.get("tags") or []):
        bad('tags must include "homelab"')
    if not isinstance(board.get("schemaVersion"), int):
        bad("no schemaVersion")

    if "__inputs" in board or "__requires" in board or "__elements" in board:
        bad('holds "__inputs"/"__requires"/"__elements" (export-for-sharing format)')
    for where, text in find_strings(board):
        if "${DS_" in text or "$DS_" in text:
            bad(f"{where}: data source placeholder {text!r}")

    variables = (board.get("templating") or {}).get("list") or []
    names = [v.get("name") for v in variables]
    for name in set(n for n in names if names.count(n) > 1):
        bad(f"template variable {name!r} defined more than once")
    ds_vars = [v for v in variables if v.get("name") == "datasource"]
    if not ds_vars:
        bad('no template variable "datasource"')
    else:
        v = ds_vars[0]
        if v.get("type") != "datasource":
            bad(f'variable "datasource" has type {v.get("type")!r}, want "datasource"')
        if v.get("query") != "prometheus":
            bad(f'variable "datasource" has query {v.get("query")!r}, want "prometheus"')
    for v in variables:
        if v.get("type") == "query" and not ds_ok(v.get("datasource")):
            bad(f'query variable {v.get("name")!r} does not use the datasource variable: '
                f'{v.get("datasource")!r}')
    site_vars = [v for v in variables if v.get("name") == "site"]
    if not site_vars:
        bad('no template variable "site"')
    else:
        v = site_vars[0]
        if v.get("type") != "query" or not v.get("multi") or not v.get("includeAll") or v.get("allValue") != ".*":
            bad('variable "site" must be a multi-value query variable with All = ".*"')
    for v in variables:
        if v.get("type") == "query" and v.get("name") != "site":
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            for problem in site_problems(q or ""):
                bad(f"query variable {v.get('name')!r}: {problem}")

    for i, ann in enumerate((board.get("annotations") or {}).get("list") or []):
        ds = ann.get("datasource")
        builtin = isinstance(ds, dict) and ds.get("uid") in BUILTIN_GRAFANA_UIDS
        if not builtin and not ds_ok(ds):
            bad(f"annotation {i} ({ann.get('name')!r}) uses data source {ds!r}")
        if not builtin:
            # A Prometheus annotation: its query and how it is labelled.
            expr = ann.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                bad(f"annotation {i} ({ann.get('name')!r}) has no expr")
            if not ann.get("name"):
                bad(f"annotation {i} has no name")
            if not ann.get("titleFormat"):
                bad(f"annotation {i} ({ann.get('name')!r}) has no titleFormat")
            for problem in site_problems(expr or ""):
                bad(f"annotation {i} ({ann.get('name')!r}): {problem}")

    panels = list(walk_panels(board.get("panels")))
    if not panels:
        bad("no panels")
    seen_ids = {}
    for panel in panels:
        title = panel.get("title", "")
        label = f"panel {panel.get('id')!r} ({title!r})"
        pid = panel.get("id")
        if not isinstance(pid, int):
            bad(f"{label}: id is not an integer")
        elif pid in seen_ids:
            bad(f"{label}: id also used by panel {seen_ids[pid]!r}")
        else:
            seen_ids[pid] = title
        if not isinstance(panel.get("gridPos"), dict):
            bad(f"{label}: no gridPos")
        if panel.get("type") != "row" and not title:
            bad(f"{label}: no title")

        targets = panel.get("targets")
        if panel.get("type") == "row":
            if targets:
                bad(f"{label}: a row with targets")
            continue
        if not targets:
            if "datasource" in panel and panel.get("type") != "text":
                if not ds_ok(panel.get("datasource")):
                    bad(f"{label}: data source {panel.get('datasource')!r}")
            continue
        if not ds_ok(panel.get("datasource")):
            bad(f"{label}: data source {panel.get('datasource')!r}, want {WANT_DS!r}")
        refids = []
        for target in targets:
            ref = target.get("refId")
            if not ref:
                bad(f"{label}: a target without refId")
            refids.append(ref)
            if not ds_ok(target.get("datasource")):
                bad(f"{label}: target {ref!r} data source {target.get('datasource')!r}, want {WANT_DS!r}")
            expr = target.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                bad(f"{label}: target {ref!r} has no expr")
                continue
            for problem in site_problems(expr):
                bad(f"{label}: target {ref!r}: {problem}")
        for ref in set(r for r in refids if refids.count(r) > 1):
            bad(f"{label}: refId {ref!r} used twice")


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} SOURCE_DIR", file=sys.stderr)
        return 2
    folder = pathlib.Path(argv[1]) / "dashboards"
    files = sorted(folder.glob("*.json"))
    if not files:
        print(f"FAIL: no dashboards in {folder}")
        return 1
    problems = []
    uids = {}
    for path in files:
        check_dashboard(path, problems, uids)
    for p in problems:
        print(f"FAIL: {p}")
    if problems:
        print(f"{len(problems)} problem(s) in {len(files)} dashboard(s)")
        return 1
    print(f"ok: {len(files)} dashboards ({', '.join(sorted(uids))})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
