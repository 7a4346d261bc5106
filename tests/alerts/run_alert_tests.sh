#!/usr/bin/env bash
# Checks the alerting assets in alerts/ with the real Prometheus and
# Alertmanager tools (Debian 12: packages prometheus and
# prometheus-alertmanager):
#
#   0. alerts/homelab.rules.yml is what alerts/mixin/generate.py renders from
#      alerts/mixin/settings.yml (skipped, with a note, without python3-yaml)
#   1. promtool check rules  alerts/homelab.rules.yml
#   2. promtool test rules   alerts/homelab.rules.test.yml
#   3. consistency: every alert has a runbook section in docs/runbooks.md
#      that its runbook_url points at, and a unit test; every homelab_*
#      metric the rules use is in docs/metrics.md
#   4. the rules against the real exposition of the bundled example
#      (tests/golden/exposition/example_homelab.prom): exactly the expected
#      alerts fire
#   5. amtool check-config alerts/alertmanager.example.yml
#   6. every `route` case of alerts/alertmanager.routes.test with
#      `amtool config routes test`
#   7. every `inhibit` case of alerts/alertmanager.routes.test against a
#      throwaway Alertmanager on 127.0.0.1 (skipped, with a note, when the
#      alertmanager binary is missing)
#
#   bash tests/alerts/run_alert_tests.sh [REPO_ROOT]
#
# Exit 0 when everything passed, 1 when something failed (each failure is
# printed), 77 when promtool or amtool is missing (CTest reports a skip).
set -uo pipefail

root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
root=$(cd "$root" && pwd) || exit 1

rules=$root/alerts/homelab.rules.yml
rules_test=$root/alerts/homelab.rules.test.yml
am_config=$root/alerts/alertmanager.example.yml
am_cases=$root/alerts/alertmanager.routes.test
runbooks=$root/docs/runbooks.md
metrics_doc=$root/docs/metrics.md
exposition=$root/tests/golden/exposition/example_homelab.prom
runbook_base=https://github.com/homelab-observer/homelab-observer/blob/main/docs/runbooks.md

# PROMTOOL / AMTOOL override the tools found on PATH (CTest passes what
# find_program found, "...-NOTFOUND" when nothing).
promtool=${PROMTOOL:-promtool}
amtool=${AMTOOL:-amtool}
for tool in "$promtool" "$amtool"; do
  if [[ "$tool" == *-NOTFOUND ]] || ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: ${tool%-NOTFOUND} not found (install Debian's prometheus and prometheus-alertmanager)"
    exit 77
  fi
done

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
pass() { echo "ok:   $*"; }

tmp=$(mktemp -d)
am_pid=
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  if [[ -n "$am_pid" ]]; then
    kill "$am_pid" 2>/dev/null
    wait "$am_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Runs a command; passes when it exits 0, else fails showing its output.
run_step() {
  local name=$1
  shift
  if "$@" >"$tmp/out" 2>&1; then
    pass "$name"
  else
    fail "$name"
    sed 's/^/      /' "$tmp/out"
  fi
}

# --- 0: the committed rules are the generator's output ------------------------
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import yaml' 2>/dev/null; then
  echo "note: python3-yaml missing; not checking that alerts/homelab.rules.yml is generated"
else
  run_step "alerts/homelab.rules.yml is what alerts/mixin/generate.py renders from settings.yml" \
    python3 "$root/alerts/mixin/generate.py" --check --output "$rules"
fi

# --- 1, 2: promtool ----------------------------------------------------------
run_step "promtool check rules alerts/homelab.rules.yml" "$promtool" check rules "$rules"
run_step "promtool test rules alerts/homelab.rules.test.yml" "$promtool" test rules "$rules_test"

# --- 3: consistency -------------------------------------------------------------
mapfile -t alerts < <(sed -n 's/^[[:space:]]*- alert:[[:space:]]*\([A-Za-z0-9_]*\).*/\1/p' "$rules")
mapfile -t urls < <(sed -n 's/^[[:space:]]*runbook_url:[[:space:]]*\(.*\)$/\1/p' "$rules")
if ((${#alerts[@]} == 0)); then
  fail "no alerts found in $rules"
elif ((${#alerts[@]} != ${#urls[@]})); then
  fail "${#alerts[@]} alerts but ${#urls[@]} runbook_url annotations in alerts/homelab.rules.yml"
else
  consistent=1
  for i in "${!alerts[@]}"; do
    name=${alerts[$i]}
    anchor=$(tr '[:upper:]' '[:lower:]' <<<"$name")
    if [[ "${urls[$i]}" != "$runbook_base#$anchor" ]]; then
      fail "$name: runbook_url is ${urls[$i]}, expected $runbook_base#$anchor"
      consistent=0
    fi
    if ! grep -qx "## $name" "$runbooks" 2>/dev/null; then
      fail "$name: docs/runbooks.md has no section '## $name' (anchor #$anchor)"
      consistent=0
    fi
    if ! grep -Eq "^[[:space:]]*alertname:[[:space:]]*${name}[[:space:]]*$" "$rules_test"; then
      fail "$name: no test in alerts/homelab.rules.test.yml"
      consistent=0
    fi
  done
  mapfile -t metrics < <(grep -v '^[[:space:]]*#' "$rules" | grep -o 'homelab_[a-z0-9_]*' | sort -u)
  for metric in "${metrics[@]}"; do
    if ! grep -q "\`$metric\`" "$metrics_doc"; then
      fail "alerts/homelab.rules.yml uses $metric, which docs/metrics.md does not list"
      consistent=0
    fi
  done
  ((consistent)) && pass "${#alerts[@]} alerts: runbook sections, runbook_urls, unit tests and metric names agree"
fi

# --- 4: the rules against the example's real exposition --------------------------
# Every sample of the exposition becomes a constant series with the labels a
# scrape by job "homelab-observer" adds; `up` is 1. After 10 minutes (longer
# than any `for:` of the world alerts) exactly these alerts must fire.
{
  echo "rule_files:"
  echo "  - $rules"
  echo "evaluation_interval: 1m"
  echo "tests:"
  echo "  - name: the rules on the example's exposition ($(basename "$exposition"))"
  echo "    interval: 1m"
  echo "    input_series:"
  echo "      - series: 'up{job=\"homelab-observer\",instance=\"example:9847\"}'"
  echo "        values: '1x20'"
  grep -v '^#' "$exposition" | grep -v '^[[:space:]]*$' | while read -r series value; do
    case "$series" in
      *'{'*) series="${series%%\{*}{job=\"homelab-observer\",instance=\"example:9847\",${series#*\{}" ;;
      *) series="$series{job=\"homelab-observer\",instance=\"example:9847\"}" ;;
    esac
    echo "      - series: '$series'"
    echo "        values: '${value}x20'"
  done
  cat <<'EOF'
    promql_expr_test:
      - expr: ALERTS{alertstate="firing"}
        eval_time: 10m
        exp_samples:
          - labels: 'ALERTS{alertname="HomelabNodeDown",alertstate="firing",severity="critical",job="homelab-observer",instance="example:9847",node="pluto"}'
            value: 1
          - labels: 'ALERTS{alertname="HomelabServiceUnhealthy",alertstate="firing",severity="warning",job="homelab-observer",instance="example:9847",node="jupiter",service="jellyfin",status="unhealthy"}'
            value: 1
          - labels: 'ALERTS{alertname="HomelabIncidentOpen",alertstate="firing",severity="critical",job="homelab-observer",instance="example:9847",incident_id="inc-1778658600-jupiter-jellyfin",node="jupiter",service="jellyfin"}'
            value: 1
          - labels: 'ALERTS{alertname="HomelabIncidentOpen",alertstate="firing",severity="warning",job="homelab-observer",instance="example:9847",incident_id="inc-1778658600-jupiter-jellyfin",node="jupiter",service="jellyfin"}'
            value: 1
          - labels: 'ALERTS{alertname="HomelabIncidentOpen",alertstate="firing",severity="info",job="homelab-observer",instance="example:9847",incident_id="inc-1778658600-jupiter-jellyfin",node="jupiter",service="jellyfin"}'
            value: 1
EOF
} >"$tmp/example.test.yml"
if [[ ! -f "$exposition" ]]; then
  fail "missing $exposition"
else
  run_step "the rules on the example's exposition fire exactly HomelabNodeDown (pluto; ceres was never seen), HomelabServiceUnhealthy and HomelabIncidentOpen at critical, warning and info (jupiter/jellyfin, a critical incident)" \
    "$promtool" test rules "$tmp/example.test.yml"
fi

# --- 5: amtool check-config -------------------------------------------------------
run_step "amtool check-config alerts/alertmanager.example.yml" "$amtool" check-config "$am_config"

# --- 6: routing cases ---------------------------------------------------------------
routes=0
route_failures=0
inhibit_cases=()
lineno=0
while IFS= read -r line || [[ -n "$line" ]]; do
  lineno=$((lineno + 1))
  [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
  read -r -a fields <<<"$line"
  kind=${fields[0]}
  case "$kind" in
    route)
      if ((${#fields[@]} < 2)); then
        fail "alerts/alertmanager.routes.test:$lineno: route needs a receiver"
        continue
      fi
      expected=${fields[1]}
      labels=("${fields[@]:2}")
      routes=$((routes + 1))
      if ! got=$("$amtool" config routes test --config.file="$am_config" "${labels[@]}" 2>"$tmp/err"); then
        fail "route ${labels[*]}: amtool failed: $(cat "$tmp/err")"
        route_failures=$((route_failures + 1))
      elif [[ "$got" != "$expected" ]]; then
        fail "route ${labels[*]:-(no labels)} -> '$got', expected '$expected' (alerts/alertmanager.routes.test:$lineno)"
        route_failures=$((route_failures + 1))
      fi
      ;;
    inhibit)
      if ((${#fields[@]} < 3)) || [[ "${fields[1]}" != yes && "${fields[1]}" != no ]]; then
        fail "alerts/alertmanager.routes.test:$lineno: expected 'inhibit yes|no label=value...'"
        continue
      fi
      inhibit_cases+=("$lineno ${fields[*]:1}")
      ;;
    *)
      fail "alerts/alertmanager.routes.test:$lineno: unknown case kind '$kind'"
      ;;
  esac
done <"$am_cases"
if ((routes == 0)); then
  fail "no route cases in alerts/alertmanager.routes.test"
elif ((route_failures == 0)); then
  pass "$routes routing cases checked with amtool config routes test"
fi

# --- 7: inhibition, on a real Alertmanager ---------------------------------------------
am_bin=
for candidate in prometheus-alertmanager alertmanager; do
  if command -v "$candidate" >/dev/null 2>&1; then
    am_bin=$candidate
    break
  fi
done
if ((${#inhibit_cases[@]} == 0)); then
  :
elif [[ -z "$am_bin" ]]; then
  echo "note: no alertmanager binary; ${#inhibit_cases[@]} inhibition cases not checked"
else
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000)))
  url=http://127.0.0.1:$port
  mkdir -p "$tmp/am"
  "$am_bin" --config.file="$am_config" --storage.path="$tmp/am" \
    --web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
    --log.level=warn >"$tmp/am.log" 2>&1 &
  am_pid=$!
  up=0
  for _ in $(seq 100); do
    if "$amtool" --alertmanager.url="$url" alert query >/dev/null 2>&1; then
      up=1
      break
    fi
    kill -0 "$am_pid" 2>/dev/null || break
    sleep 0.1
  done
  if ((!up)); then
    fail "alertmanager did not start on $url:"
    sed 's/^/      /' "$tmp/am.log"
  else
    posted=1
    for case in "${inhibit_cases[@]}"; do
      read -r -a fields <<<"$case"
      if ! "$amtool" --alertmanager.url="$url" alert add "${fields[@]:2}" >"$tmp/out" 2>&1; then
        fail "amtool alert add ${fields[*]:2}: $(cat "$tmp/out")"
        posted=0
      fi
    done
    # Alerts matching a case's labels that are inhibited / not inhibited.
    count() {
      "$amtool" --alertmanager.url="$url" alert query "$1" "${@:2}" 2>/dev/null | tail -n +2 | grep -c .
    }
    inhibit_failures=0
    if ((posted)); then
      for case in "${inhibit_cases[@]}"; do
        read -r -a fields <<<"$case"
        lineno=${fields[0]}
        want=${fields[1]}
        labels=("${fields[@]:2}")
        # The inhibitor sees new alerts asynchronously: allow it a moment.
        state=
        for _ in $(seq 30); do
          inhibited=$(count --inhibited "${labels[@]}")
          active=$(count --active "${labels[@]}")
          if [[ "$inhibited" == 1 && "$active" == 0 ]]; then
            state=yes
          elif [[ "$inhibited" == 0 && "$active" == 1 ]]; then
            state=no
          else
            state="unclear ($inhibited inhibited, $active active alerts match)"
          fi
          [[ "$state" == "$want" ]] && break
          sleep 0.1
        done
        if [[ "$state" != "$want" ]]; then
          fail "inhibit ${labels[*]}: inhibited=$state, expected $want (alerts/alertmanager.routes.test:$lineno)"
          inhibit_failures=$((inhibit_failures + 1))
        fi
      done
      ((inhibit_failures == 0)) &&
        pass "${#inhibit_cases[@]} inhibition cases checked on a live $am_bin ($("$am_bin" --version 2>&1 | head -1 | awk '{print $3}'))"
    fi
  fi
fi

echo
if ((failures > 0)); then
  echo "$failures check(s) FAILED"
  exit 1
fi
echo "all alerting checks passed"
exit 0
