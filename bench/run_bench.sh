#!/usr/bin/env bash
# run_bench.sh: the benchmark suite in one command (see docs/performance.md).
#
#   bench/run_bench.sh [--quick] [--large] [--profile] [--build-dir DIR] [--sanitized 0|1]
#
# Builds Release into build-bench/ (or, with --build-dir, uses the binaries
# already built there), generates deterministic workloads with bench_generate
# into $HLO_BENCH_DIR (default /tmp/hlo-bench), measures, and prints every
# figure as the MEDIAN of $HLO_BENCH_RUNS runs (default 5) with the command
# behind it, then a table of figure | value | target | met/missed, also
# written to $HLO_BENCH_DIR/results.md.
#
#   --quick      small sizes, one run: a smoke test (figures not comparable)
#   --large      also 10M events (RSS flatness; ~2 GB of disk) and a 30 s
#                /metrics run at 100k series
#   --profile    also profile one cold replay (perf record, cpu-clock) and a
#                50k-event replay under callgrind (inclusive costs)
#   --build-dir  use DIR/bin/* as built (no build step)
#   --sanitized  1/ON when DIR is a sanitizer build: figures would be
#                meaningless, so the script exits 77 (skipped)
#
# Cold replays run over three workloads of the same size: the default mix,
# the same events in per-host files, and a "realistic mix" (25% of
# service_recovered without a node, failures twice as frequent). When mtail
# is installed, it counts the events of the default and realistic workloads
# by type (bench/mtail/events.mtail, --one_shot) for a side-by-side figure;
# its counters must add up to the files' line count.
#
# Environment: HLO_BENCH_RUNS, HLO_BENCH_DIR, HLO_BENCH_LAG_EVENTS (50).
# Needs GNU time (/usr/bin/time), wrk and mtail for some figures; without them
# those figures are reported as "n/a" rather than failing. Exit: 0 when every step
# ran (missed targets are findings, not failures), 1 when a step failed,
# 2 on a usage error, 77 when skipped.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${HLO_BENCH_RUNS:-5}
SCRATCH=${HLO_BENCH_DIR:-/tmp/hlo-bench}
LAG_EVENTS=${HLO_BENCH_LAG_EVENTS:-50}
QUICK=0 LARGE=0 PROFILE=0 BUILD_DIR="" SANITIZED=""
NOW=2026-01-01T00:00:00Z

usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}"; }
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --large) LARGE=1 ;;
    --profile) PROFILE=1 ;;
    --build-dir) BUILD_DIR=${2:?--build-dir needs a folder}; shift ;;
    --sanitized) SANITIZED=${2:?--sanitized needs 0 or 1}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run_bench.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "run_bench.sh: HLO_BENCH_RUNS=$RUNS is not a count" >&2; exit 2; }

die() { echo "run_bench.sh: FAILED: $*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }

# A sanitized binary runs several times slower and with another allocator:
# its figures would mislead, so there is nothing to measure.
is_on() { [[ ${1^^} =~ ^(1|ON|TRUE|YES|Y)$ ]]; }
if [[ -n $SANITIZED ]] && is_on "$SANITIZED"; then
  echo "run_bench.sh: skipped: sanitizer build (figures would be meaningless)"; exit 77
fi
if [[ -n $BUILD_DIR && -f $BUILD_DIR/CMakeCache.txt ]] &&
   grep -Eq '^HLO_SANITIZE:BOOL=(ON|1|TRUE|YES)$' "$BUILD_DIR/CMakeCache.txt"; then
  echo "run_bench.sh: skipped: $BUILD_DIR is a sanitizer build"; exit 77
fi

# --- sizes -----------------------------------------------------------------
NODES=1000 SERVICES=10
if ((QUICK)); then
  RUNS=1 NODES=50 LAG_EVENTS=5
  REPLAY_EVENTS=20000 REPLAY_FILES=20
  INCR_SMALL=2000 INCR_SMALL_FILES=2
  SERIES_TARGETS="1000" WRK_SECS=2
  JSON_FILES=2000
  CORE_FLAGS=(--hlo_quick --benchmark_min_time=0.01)
  CORE_WORLD="20x10, 20k-event"
else
  REPLAY_EVENTS=1000000 REPLAY_FILES=1000
  INCR_SMALL=100000 INCR_SMALL_FILES=100
  SERIES_TARGETS="1000 10000 100000" WRK_SECS=10
  JSON_FILES=200000
  CORE_FLAGS=(--benchmark_min_time=0.5)
  CORE_WORLD="1000x10, 1M-event"
fi
LARGE_EVENTS=10000000 LARGE_FILES=10000

# --- cleanup ---------------------------------------------------------------
DAEMON_PID=""
cleanup() {
  if [[ -n $DAEMON_PID ]]; then
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
    DAEMON_PID=""
  fi
}
trap cleanup EXIT
trap 'echo "run_bench.sh: interrupted" >&2; exit 130' INT TERM

mkdir -p "$SCRATCH" || die "cannot create $SCRATCH"
SCRATCH=$(cd "$SCRATCH" && pwd)
LOG=$SCRATCH/logs
mkdir -p "$LOG"

# --- build -----------------------------------------------------------------
if [[ -z $BUILD_DIR ]]; then
  BUILD_DIR=$REPO/build-bench
  step "build (Release) in $BUILD_DIR"
  cmake -S "$REPO" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DHLO_BUILD_BENCH=ON \
    >"$LOG/cmake.log" 2>&1 || die "cmake configure (see $LOG/cmake.log)"
  targets=(homelab-observer bench_generate bench_probe)
  # (Captured first: `grep -q` closing the pipe early would fail it under pipefail.)
  known_targets=$(cmake --build "$BUILD_DIR" --target help 2>/dev/null || true)
  if grep -q bench_core <<<"$known_targets"; then targets+=(bench_core); fi
  cmake --build "$BUILD_DIR" -j2 --target "${targets[@]}" >"$LOG/build.log" 2>&1 ||
    die "build (see $LOG/build.log)"
fi
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
OBS=$BUILD_DIR/bin/homelab-observer
GEN=$BUILD_DIR/bin/bench_generate
PROBE=$BUILD_DIR/bin/bench_probe
CORE=$BUILD_DIR/bin/bench_core
for b in "$OBS" "$GEN" "$PROBE"; do [[ -x $b ]] || die "$b is missing (build it first)"; done
if [[ -f $BUILD_DIR/CMakeCache.txt ]]; then
  build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt")
  [[ $build_type == Release ]] || note "warning: $BUILD_DIR is a '$build_type' build, not Release"
fi

GNU_TIME=""
if /usr/bin/time -f %M true >/dev/null 2>&1; then GNU_TIME=/usr/bin/time; fi
WRK=$(command -v wrk || true)
MTAIL=$(command -v mtail || true)

# --- helpers ---------------------------------------------------------------
# Repo-relative paths, for printing commands.
rel() { local s=$*; s=${s//$BUILD_DIR\/bin\//${BUILD_DIR#"$REPO"/}/bin/}; echo "${s//$REPO\//}"; }

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {
  if (NR == 0) print "nan"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
now_ns() { date +%s%N; }

# Generates a workload once: the stamp holds the flags and the size of
# events/ afterwards, so a changed or damaged copy is generated again.
generate() {
  local dir=$1; shift
  local flags="$*" bytes
  if [[ -f $dir/.bench-stamp && -d $dir/events ]]; then
    bytes=$(du -sb "$dir/events" | cut -f1)
    if [[ "$(cat "$dir/.bench-stamp")" == "$flags $bytes" ]]; then
      note "workload $(rel "$dir") already generated"; return 0
    fi
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  note "$(rel "$GEN") --out $(rel "$dir") $flags"
  "$GEN" --out "$dir" "$@" >"$LOG/generate.log" 2>&1 || die "bench_generate (see $LOG/generate.log)"
  note "$(cat "$LOG/generate.log")"
  echo "$flags $(du -sb "$dir/events" | cut -f1)" >"$dir/.bench-stamp"
}

# What a cold start must not find: the checkpoint, the rejected log and the
# world files (the stage markers under state/stages/ stay: they are input).
reset_state() {
  rm -rf "$1/world"
  rm -f "$1/state/observer_checkpoint.json" "$1/state/rejected-events.jsonl" "$1"/state/.*.tmp
}

# Extra flags for timed_once (the retention step sets them), and its clock.
ONCE_EXTRA=() ONCE_NOW=""
ONCE_CMD_TEMPLATE="homelab-observer once --root DIR --inventory DIR --now $NOW"
# Runs `once` on $1; sets WALL (s), RSS_KB and CPU (s, user+sys).
timed_once() {
  local dir=$1 t0 t1
  local cmd=("$OBS" once --root "$dir" --inventory "$dir" --now "${ONCE_NOW:-$NOW}" "${ONCE_EXTRA[@]}")
  t0=$(now_ns)
  if [[ -n $GNU_TIME ]]; then
    "$GNU_TIME" -f '%M %U %S' -o "$LOG/time.out" "${cmd[@]}" >"$LOG/once.log" 2>&1 ||
      die "$(rel "${cmd[*]}") (see $LOG/once.log)"
  else
    "${cmd[@]}" >"$LOG/once.log" 2>&1 || die "$(rel "${cmd[*]}") (see $LOG/once.log)"
  fi
  t1=$(now_ns)
  WALL=$(calc "($t1 - $t0) / 1e9" 3)
  if [[ -n $GNU_TIME ]]; then
    read -r RSS_KB user sys < <(tail -1 "$LOG/time.out")
    CPU=$(calc "$user + $sys" 2)
  else
    RSS_KB=nan CPU=nan
  fi
}

newest() { ls "$1/events" | LC_ALL=C sort | tail -1; }
# Appends one valid event for an existing node to the newest file of $1.
append_one() {
  local dir=$1 i=$2 last
  last=$(newest "$dir")
  printf '{"timestamp": "2026-01-01T00:%02d:%02d.000Z", "type": "node_heartbeat", "node": "node-0001", "severity": "info", "message": "one more"}\n' \
    $((i / 60 % 60)) $((i % 60)) >>"$dir/events/$last"
}

PORT=""
start_daemon() {
  local dir=$1
  # Emptied here, before the fork: the child's own truncation may come after
  # the first grep below, which would then read the previous daemon's port.
  : >"$LOG/daemon.log"
  "$OBS" run --root "$dir" --inventory "$dir" --now "$NOW" --web.listen-address 127.0.0.1:0 \
    >"$LOG/daemon.log" 2>&1 &
  DAEMON_PID=$!
  PORT=""
  for _ in $(seq 1 300); do
    PORT=$(grep -o '(port [0-9]*)' "$LOG/daemon.log" | head -1 | tr -dc 0-9 || true)
    [[ -n $PORT ]] && break
    kill -0 "$DAEMON_PID" 2>/dev/null || die "the daemon exited: $(tail -3 "$LOG/daemon.log")"
    sleep 0.1
  done
  [[ -n $PORT ]] || die "the daemon did not report its port (see $LOG/daemon.log)"
  "$PROBE" wait-ready --addr "127.0.0.1:$PORT" --timeout-s 1200 ||
    die "the daemon never became ready (see $LOG/daemon.log)"
}
stop_daemon() {
  kill -TERM "$DAEMON_PID" 2>/dev/null || true
  wait "$DAEMON_PID" || die "the daemon did not stop cleanly (see $LOG/daemon.log)"
  DAEMON_PID=""
}

# The result table: figure | value | target | status, and the commands.
FIG_NAMES=() FIG_VALUES=() FIG_TARGETS=() FIG_STATUS=() COMMANDS=()
figure() { FIG_NAMES+=("$1"); FIG_VALUES+=("$2"); FIG_TARGETS+=("${3:--}"); FIG_STATUS+=("${4:--}"); }
command_used() { COMMANDS+=("$1: $(rel "$2")"); note "command: $(rel "$2")"; }
# status VALUE OP LIMIT → met | missed | n/a
status() { [[ $1 == nan || $1 == n/a ]] && { echo n/a; return; }
  awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? v >= t : (op == "<=") ? v <= t : v < t
    print ok ? "met" : "missed" }'; }

START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "homelab-observer benchmarks: $START, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
  "runs=$RUNS$( ((QUICK)) && echo ', QUICK (smoke test: figures not comparable)')"
echo "binaries: $(rel "$BUILD_DIR")/bin, scratch: $SCRATCH"
[[ -n $GNU_TIME ]] || note "GNU time not found (apt-get install time): peak RSS is n/a"
[[ -n $WRK ]] || note "wrk not found (apt-get install wrk): /metrics under load is n/a"
[[ -n $MTAIL ]] || note "mtail not found (apt-get install mtail): the side-by-side figures are n/a"

# cold_replays DIR: $RUNS cold `once` runs over DIR's $REPLAY_EVENTS events;
# sets COLD_RATE, COLD_CPU_RATE (events per CPU-second), COLD_RSS_KB and
# COLD_RSS_MB, medians.
cold_replays() {
  local dir=$1 r rates=() rsss=() cpu_rates=()
  for r in $(seq 1 "$RUNS"); do
    reset_state "$dir"
    timed_once "$dir"
    rates+=("$(calc "$REPLAY_EVENTS / $WALL" 0)")
    rsss+=("$RSS_KB")
    [[ $CPU == nan ]] || cpu_rates+=("$(calc "$REPLAY_EVENTS / $CPU" 0)")
    note "run $r: ${WALL} s wall, ${CPU} s cpu, peak RSS ${RSS_KB} KB"
  done
  COLD_RATE=$(median "${rates[@]}")
  COLD_RSS_KB=$(median "${rsss[@]}")
  COLD_RSS_MB=$( [[ $COLD_RSS_KB == nan ]] && echo nan || calc "$COLD_RSS_KB / 1024" 0)
  COLD_CPU_RATE=$(median "${cpu_rates[@]:-nan}")
  note "median: $COLD_RATE events/s (by CPU time: $COLD_CPU_RATE events/s), peak RSS $COLD_RSS_MB MB"
}

# --- 1. cold replay ----------------------------------------------------------
REPLAY=$SCRATCH/replay-$REPLAY_EVENTS
step "cold replay: $REPLAY_EVENTS events, $REPLAY_FILES .jsonl files, $NODES nodes x $SERVICES services"
generate "$REPLAY" --nodes $NODES --services $SERVICES --events $REPLAY_EVENTS --files $REPLAY_FILES \
  --layout jsonl --seed 1 --invalid-per-million 100
cold_replays "$REPLAY"
REPLAY_RATE=$COLD_RATE REPLAY_RSS_KB=$COLD_RSS_KB REPLAY_RSS_MB=$COLD_RSS_MB
REPLAY_CPU_RATE=$COLD_CPU_RATE
command_used "cold replay" "rm -rf $REPLAY/world $REPLAY/state/observer_checkpoint.json $REPLAY/state/rejected-events.jsonl; /usr/bin/time -f %M $OBS once --root $REPLAY --inventory $REPLAY --now $NOW"
figure "cold replay, $REPLAY_EVENTS events (events/s)" "$REPLAY_RATE" ">= 2000000" "$(status "$REPLAY_RATE" '>=' 2000000)"
# Events per CPU-second (user + sys): steadier than wall time on a shared machine.
figure "cold replay, events per CPU-second" "$REPLAY_CPU_RATE"
figure "cold replay, peak RSS (MB)" "$REPLAY_RSS_MB" "<= 150" "$(status "$REPLAY_RSS_MB" '<=' 150)"

# --- 1b. cold replay, one file per host ---------------------------------------
# The same events round-robin over files that each span the whole time range
# (the per-host layout): nothing is in name order, everything is sorted.
INTER=$SCRATCH/interleaved-$REPLAY_EVENTS
step "cold replay, interleaved: $REPLAY_EVENTS events over $REPLAY_FILES per-host files"
generate "$INTER" --nodes $NODES --services $SERVICES --events $REPLAY_EVENTS --files $REPLAY_FILES \
  --layout interleaved --seed 1 --invalid-per-million 100
cold_replays "$INTER"
command_used "cold replay, interleaved" "bench_generate --layout interleaved; then as the cold replay"
figure "cold replay, per-host files (events/s)" "$COLD_RATE" ">= 2000000" "$(status "$COLD_RATE" '>=' 2000000)"
figure "cold replay, per-host files, events per CPU-second" "$COLD_CPU_RATE"
figure "cold replay, per-host files, peak RSS (MB)" "$COLD_RSS_MB" "<= 150" "$(status "$COLD_RSS_MB" '<=' 150)"

# --- 1c. cold replay, realistic mix --------------------------------------------
# A quarter of the recoveries without a node (each recovers its service on
# every node that has it: 1,000 entries here) and failures, with their
# recoveries, twice as frequent as in the default mix.
REALISTIC_FLAGS=(--nodeless-recovery-percent 25 --failure-rate 2)
REALISTIC=$SCRATCH/realistic-$REPLAY_EVENTS
step "cold replay, realistic mix (${REALISTIC_FLAGS[*]}): $REPLAY_EVENTS events, $REPLAY_FILES .jsonl files"
generate "$REALISTIC" --nodes $NODES --services $SERVICES --events $REPLAY_EVENTS \
  --files $REPLAY_FILES --layout jsonl --seed 1 --invalid-per-million 100 "${REALISTIC_FLAGS[@]}"
cold_replays "$REALISTIC"
REALISTIC_RATE=$COLD_RATE REALISTIC_CPU_RATE=$COLD_CPU_RATE
command_used "cold replay, realistic mix" "bench_generate ${REALISTIC_FLAGS[*]}; then as the cold replay"
figure "cold replay, realistic mix, $REPLAY_EVENTS events (events/s)" "$COLD_RATE" ">= 2000000" \
  "$(status "$COLD_RATE" '>=' 2000000)"
figure "cold replay, realistic mix, events per CPU-second" "$COLD_CPU_RATE"
figure "cold replay, realistic mix, peak RSS (MB)" "$COLD_RSS_MB" "<= 150" "$(status "$COLD_RSS_MB" '<=' 150)"

# --- 1d. mtail side by side ------------------------------------------------------
# mtail reading the same files and counting lines by type: what a generic
# log-to-metrics tool costs on this input, for scale. --one_shot reads every
# file from its start to EOF, prints the counters and exits; the port is
# any free loopback one, as a one-shot mtail still listens. The counters
# (by type, plus lines without one) must add up to the files' line count.
MTAIL_PROG_DIR=$REPO/bench/mtail
# mtail_runs DIR: sets MTAIL_RATE and MTAIL_CPU_RATE (medians) over DIR/events/*.jsonl.
mtail_runs() {
  local dir=$1 r t0 t1 wall lines counted user sys rates=() cpu_rates=()
  local cmd=("$MTAIL" --one_shot --one_shot_format prometheus --progs "$MTAIL_PROG_DIR"
             --logs "$dir/events/*.jsonl" --logtostderr --address 127.0.0.1 --port 0)
  lines=$(cat "$dir"/events/*.jsonl | wc -l)
  for r in $(seq 1 "$RUNS"); do
    t0=$(now_ns)
    if [[ -n $GNU_TIME ]]; then
      "$GNU_TIME" -f '%U %S' -o "$LOG/mtail-time.out" "${cmd[@]}" >"$LOG/mtail.out" 2>"$LOG/mtail.err" ||
        die "mtail (see $LOG/mtail.err)"
    else
      "${cmd[@]}" >"$LOG/mtail.out" 2>"$LOG/mtail.err" || die "mtail (see $LOG/mtail.err)"
    fi
    t1=$(now_ns)
    wall=$(calc "($t1 - $t0) / 1e9" 3)
    counted=$(awk '/^hlo_(events_by_type|lines_without_type)[{ ]/ { s += $NF } END { printf "%d", s }' \
      "$LOG/mtail.out")
    ((counted == lines)) ||
      die "mtail counted $counted lines of $lines in $(rel "$dir")/events (see $LOG/mtail.out)"
    rates+=("$(calc "$lines / $wall" 0)")
    if [[ -n $GNU_TIME ]]; then
      read -r user sys < <(tail -1 "$LOG/mtail-time.out")
      cpu_rates+=("$(calc "$lines / ($user + $sys)" 0)")
    fi
    note "run $r: ${wall} s wall, $counted of $lines lines counted"
  done
  MTAIL_RATE=$(median "${rates[@]}")
  MTAIL_CPU_RATE=$(median "${cpu_rates[@]:-nan}")
  note "median: $MTAIL_RATE events/s (by CPU time: $MTAIL_CPU_RATE events/s)"
  MTAIL_CMD="${cmd[*]}"
  MTAIL_CMD=${MTAIL_CMD/"--logs $dir/events/*.jsonl"/"--logs '$dir/events/*.jsonl'"}
}
step "mtail, counting events by type, over the cold replays' files"
MTAIL_NAMES=("cold replay" "realistic mix") MTAIL_DIRS=("$REPLAY" "$REALISTIC")
HLO_RATES=("$REPLAY_RATE" "$REALISTIC_RATE") HLO_CPU_RATES=("$REPLAY_CPU_RATE" "$REALISTIC_CPU_RATE")
for i in "${!MTAIL_NAMES[@]}"; do
  name=${MTAIL_NAMES[$i]} dir=${MTAIL_DIRS[$i]}
  hlo_rate=${HLO_RATES[$i]} hlo_cpu_rate=${HLO_CPU_RATES[$i]}
  if [[ -z $MTAIL ]]; then
    figure "mtail, counting events by type, $name workload (events/s)" "n/a (mtail not installed)"
    figure "homelab-observer / mtail, $name workload" "n/a (mtail not installed)"
    continue
  fi
  note "$name workload ($(rel "$dir")):"
  mtail_runs "$dir"
  command_used "mtail, $name" "$MTAIL_CMD"
  figure "mtail, counting events by type, $name workload (events/s)" "$MTAIL_RATE"
  figure "homelab-observer / mtail, $name workload" "$(awk -v a="$hlo_rate" -v b="$MTAIL_RATE" \
    -v c="$hlo_cpu_rate" -v d="$MTAIL_CPU_RATE" 'BEGIN {
      printf "x%.2f (wall)", a / b
      if (c != "nan" && d != "nan" && d > 0) printf ", x%.2f (per CPU-second)", c / d }')"
done

# --- 2. RSS flatness (--large) -----------------------------------------------
if ((LARGE)); then
  BIG=$SCRATCH/replay-$LARGE_EVENTS
  step "RSS flatness: $LARGE_EVENTS events vs $REPLAY_EVENTS"
  generate "$BIG" --nodes $NODES --services $SERVICES --events $LARGE_EVENTS --files $LARGE_FILES \
    --layout jsonl --seed 1 --invalid-per-million 100
  big_rss=() big_rates=()
  for r in $(seq 1 "$RUNS"); do
    reset_state "$BIG"
    timed_once "$BIG"
    big_rss+=("$RSS_KB"); big_rates+=("$(calc "$LARGE_EVENTS / $WALL" 0)")
    note "run $r: ${WALL} s wall, peak RSS ${RSS_KB} KB"
  done
  reset_state "$BIG"
  BIG_RSS_KB=$(median "${big_rss[@]}")
  ratio=$( [[ $BIG_RSS_KB == nan || $REPLAY_RSS_KB == nan ]] && echo nan || calc "$BIG_RSS_KB / $REPLAY_RSS_KB" 2)
  note "median peak RSS $(calc "$BIG_RSS_KB / 1024" 0) MB, $(median "${big_rates[@]}") events/s; ratio $ratio"
  command_used "RSS flatness" "/usr/bin/time -f %M $OBS once --root $BIG --inventory $BIG --now $NOW (cold)"
  figure "peak RSS ${LARGE_EVENTS} / ${REPLAY_EVENTS} events" "$ratio" "<= 1.10" "$(status "$ratio" '<=' 1.10)"
  figure "cold replay, $LARGE_EVENTS events (events/s)" "$(median "${big_rates[@]}")"

  # With --history.retention 30d memory follows the history kept: 1M events
  # over a year against 10M over ten years (the same density, a ten times
  # longer history: the target) and 10M over one year (ten times as dense).
  LONG=$SCRATCH/replay-$LARGE_EVENTS-10y
  step "RSS with --history.retention 30d: $REPLAY_EVENTS events over a year, $LARGE_EVENTS over ten years and over one"
  generate "$LONG" --nodes $NODES --services $SERVICES --events $LARGE_EVENTS --files $LARGE_FILES \
    --layout jsonl --seed 1 --invalid-per-million 100 --span-days 3650
  ONCE_EXTRA=(--history.retention 30d)
  declare -A RET_RSS_KB
  for pair in "1m:$REPLAY:" "10m-10y:$LONG:2036-01-01T00:00:00Z" "10m-1y:$BIG:"; do
    IFS=: read -r label dir when <<<"$pair"
    ONCE_NOW=$when rsss=()
    for r in $(seq 1 "$RUNS"); do
      reset_state "$dir"
      timed_once "$dir"
      rsss+=("$RSS_KB")
      note "$label run $r: ${WALL} s wall, peak RSS ${RSS_KB} KB"
    done
    reset_state "$dir"
    RET_RSS_KB[$label]=$(median "${rsss[@]}")
  done
  ONCE_EXTRA=() ONCE_NOW=""
  ret_ratio() { [[ ${RET_RSS_KB[$1]} == nan ]] && echo nan || calc "${RET_RSS_KB[$1]} / ${RET_RSS_KB[1m]}" 2; }
  command_used "RSS with retention" "/usr/bin/time -f %M $OBS once --root DIR --inventory DIR --now NOW --history.retention 30d (cold; DIR from bench_generate ... [--span-days 3650])"
  figure "peak RSS, --history.retention 30d, $LARGE_EVENTS events over 10 years / $REPLAY_EVENTS over 1 year" \
    "$(ret_ratio 10m-10y) ($(calc "${RET_RSS_KB[10m-10y]} / 1024" 0) / $(calc "${RET_RSS_KB[1m]} / 1024" 0) MB)" \
    "<= 1.5" "$(status "$(ret_ratio 10m-10y)" '<=' 1.5)"
  figure "peak RSS, --history.retention 30d, $LARGE_EVENTS events over 1 year / $REPLAY_EVENTS over 1 year" \
    "$(ret_ratio 10m-1y) ($(calc "${RET_RSS_KB[10m-1y]} / 1024" 0) MB)"
else
  figure "peak RSS 10M / 1M events" "not run" "<= 1.10" "run with --large"
fi

# --- 3. one new event: once (incremental) ------------------------------------
step "one new event on an existing world: once after appending one line"
SMALL=$SCRATCH/replay-$INCR_SMALL
generate "$SMALL" --nodes $NODES --services $SERVICES --events $INCR_SMALL --files $INCR_SMALL_FILES \
  --layout jsonl --seed 1 --invalid-per-million 100
declare -A INCR_MS NOOP_MS
for pair in "$INCR_SMALL:$SMALL" "$REPLAY_EVENTS:$REPLAY"; do
  n=${pair%%:*} dir=${pair#*:}
  last=$(newest "$dir")
  orig_size=$(stat -c %s "$dir/events/$last")
  reset_state "$dir"
  timed_once "$dir"  # the checkpoint to start from
  walls=() noops=()
  for r in $(seq 1 "$RUNS"); do
    append_one "$dir" "$r"
    timed_once "$dir"
    grep -q '^applied 1 new event' "$LOG/once.log" || die "incremental once did not apply exactly one event (see $LOG/once.log)"
    walls+=("$(calc "$WALL * 1000" 0)")
  done
  for r in $(seq 1 "$RUNS"); do
    timed_once "$dir"
    noops+=("$(calc "$WALL * 1000" 0)")
  done
  INCR_MS[$n]=$(median "${walls[@]}") NOOP_MS[$n]=$(median "${noops[@]}")
  note "history $n events: one new event ${INCR_MS[$n]} ms, nothing new ${NOOP_MS[$n]} ms (medians; checkpoint $(du -k "$dir/state/observer_checkpoint.json" | cut -f1) KB)"
  # The live-lag step goes on from the big world's checkpoint; the small one
  # is put back as generated at once.
  if [[ $dir == "$SMALL" ]]; then truncate -s "$orig_size" "$dir/events/$last"; reset_state "$dir"; fi
  REPLAY_ORIG_SIZE=$orig_size
done
command_used "one new event" "printf '{...one event...}\\n' >> DIR/events/<newest>.jsonl; $OBS once --root DIR --inventory DIR --now $NOW"
command_used "nothing new" "$OBS once --root DIR --inventory DIR --now $NOW (right after a once)"
figure "once, 1 new event, history $INCR_SMALL (ms)" "${INCR_MS[$INCR_SMALL]}"
figure "once, 1 new event, history $REPLAY_EVENTS (ms)" "${INCR_MS[$REPLAY_EVENTS]}" \
  "flat in history" "$(awk -v a="${INCR_MS[$INCR_SMALL]}" -v b="${INCR_MS[$REPLAY_EVENTS]}" \
    'BEGIN { printf "%s (x%.1f)", (b <= 1.5 * a ? "met" : "missed"), b / a }')"
figure "once, nothing new (world + checkpoint write), history $REPLAY_EVENTS (ms)" "${NOOP_MS[$REPLAY_EVENTS]}"

# --- 4. live lag with run -------------------------------------------------------
step "live lag with run: $LAG_EVENTS events on the $REPLAY_EVENTS-event world"
LAST=$(newest "$REPLAY")
start_daemon "$REPLAY"
lag_cmd=("$PROBE" lag --addr "127.0.0.1:$PORT" --append "$REPLAY/events/$LAST"
         --world "$REPLAY/world/nodes.json" --count "$LAG_EVENTS" --tag "lagprobe-$$")
"${lag_cmd[@]}" >"$LOG/lag.log" 2>&1 || die "lag probe (see $LOG/lag.log)"
stop_daemon
summary=$(tail -1 "$LOG/lag.log")
note "$summary"
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$summary"; }
LAG_M_MED=$(kv metrics_median_ms) LAG_M_P99=$(kv metrics_p99_ms)
LAG_W_MED=$(kv world_median_ms) LAG_W_P99=$(kv world_p99_ms)
command_used "live lag" "$OBS run --root $REPLAY --inventory $REPLAY --now $NOW --web.listen-address 127.0.0.1:0 & ${lag_cmd[*]}"
figure "run: event -> /metrics, median / p99 (ms)" "$LAG_M_MED / $LAG_M_P99" "p99 < 100" "$(status "$LAG_M_P99" '<' 100)"
figure "run: event -> world files, median / p99 (ms)" "$LAG_W_MED / $LAG_W_P99" "p99 < 1000" "$(status "$LAG_W_P99" '<' 1000)"
# Undo the appended lines so the workload stays as generated.
truncate -s "$REPLAY_ORIG_SIZE" "$REPLAY/events/$LAST"
reset_state "$REPLAY"

# --- 5. /metrics under 4 concurrent scrapers ----------------------------------
step "/metrics latency and size with 4 concurrent scrapers"
to_ms() { awk '{ v = $1; if (v ~ /us$/) printf "%.2f", v / 1000; else if (v ~ /ms$/) printf "%.2f", v + 0;
  else if (v ~ /m$/) printf "%.2f", v * 60000; else printf "%.2f", v * 1000 }' <<<"$1"; }
for target in $SERIES_TARGETS; do
  # ~60 series per node of 10 services (see bench_core's BM_RenderExposition).
  nodes=$(( target / 60 > 1 ? target / 60 : 1 ))
  events=$(( nodes * SERVICES * 50 ))
  files=$(( events / 1000 > 1 ? events / 1000 : 1 ))
  dir=$SCRATCH/series-$target
  generate "$dir" --nodes $nodes --services $SERVICES --events $events --files $files --layout jsonl --seed 1
  reset_state "$dir"
  start_daemon "$dir"
  scrape=$("$PROBE" scrape --addr "127.0.0.1:$PORT") || die "scrape failed: $scrape"
  gz=$("$PROBE" scrape --addr "127.0.0.1:$PORT" --gzip) || die "gzip scrape failed: $gz"
  series=$(sed -n 's/.*series=\([0-9]*\).*/\1/p' <<<"$scrape")
  bytes=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<<"$scrape")
  gzbytes=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<<"$gz")
  secs=$WRK_SECS; ((LARGE && target >= 100000)) && secs=30
  note "world: $nodes nodes x $SERVICES services, $events events -> $series series, $bytes bytes ($gzbytes gzipped)"
  for enc in identity gzip; do
    [[ $enc == gzip && $target -lt 100000 && $QUICK == 0 ]] && continue
    if [[ -z $WRK ]]; then
      figure "/metrics $series series, $enc, 4 scrapers: median (ms)" "n/a" \
        "$( ((target >= 100000)) && echo '< 100, no errors' || echo -)" "n/a (no wrk)"
      continue
    fi
    hdr=(); [[ $enc == gzip ]] && hdr=(-H "Accept-Encoding: gzip")
    wrk_cmd=("$WRK" -t4 -c4 -d"${secs}s" --timeout 10s --latency "${hdr[@]}" "http://127.0.0.1:$PORT/metrics")
    "${wrk_cmd[@]}" >"$LOG/wrk-$target-$enc.log" 2>&1 || die "wrk (see $LOG/wrk-$target-$enc.log)"
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$LOG/wrk-$target-$enc.log")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$LOG/wrk-$target-$enc.log")")
    rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$LOG/wrk-$target-$enc.log")
    non2xx=$(awk -F': *' '/Non-2xx/ { print $2 }' "$LOG/wrk-$target-$enc.log"); non2xx=${non2xx:-0}
    sockerr=$(awk '/Socket errors/ { s = 0; for (i = 4; i <= NF; i += 2) s += $i; print s }' \
      "$LOG/wrk-$target-$enc.log"); sockerr=${sockerr:-0}
    note "$enc: median $p50 ms, p99 $p99 ms, $rps req/s, non-2xx $non2xx, socket errors $sockerr"
    command_used "/metrics $target $enc" "${wrk_cmd[*]}"
    value="$p50 ($series series, $( [[ $enc == gzip ]] && echo "$gzbytes" || echo "$bytes") B, errors $((non2xx + sockerr)))"
    if ((target >= 100000)); then
      st=$(status "$p50" '<' 100)
      ((non2xx + sockerr == 0)) || st=missed
      figure "/metrics ~100k series, $enc, 4 scrapers: median (ms)" "$value" "< 100, no errors" "$st"
    else
      figure "/metrics ~$target series, $enc, 4 scrapers: median (ms)" "$value"
    fi
  done
  stop_daemon
  reset_state "$dir"
done

# --- 6. .json layout ----------------------------------------------------------------
step ".json layout: $JSON_FILES files of one event each"
JSONDIR=$SCRATCH/json-$JSON_FILES
generate "$JSONDIR" --nodes $NODES --services $SERVICES --events $JSON_FILES --layout json --seed 1 \
  --invalid-per-million 100
rates=()
for r in $(seq 1 "$RUNS"); do
  reset_state "$JSONDIR"
  timed_once "$JSONDIR"
  rates+=("$(calc "$JSON_FILES / $WALL" 0)")
  note "run $r: ${WALL} s wall, ${CPU} s cpu"
done
reset_state "$JSONDIR"
JSON_RATE=$(median "${rates[@]}")
note "median: $JSON_RATE events/s"
command_used ".json layout" "$OBS once --root $JSONDIR --inventory $JSONDIR --now $NOW (cold)"
figure ".json layout, $JSON_FILES files (events/s)" "$JSON_RATE" ">= 200000" "$(status "$JSON_RATE" '>=' 200000)"

# --- 7. in-process parts (Google Benchmark) --------------------------------------
step "in-process parts: bench_core"
if [[ -x $CORE ]]; then
  core_cmd=("$CORE" "${CORE_FLAGS[@]}" --benchmark_repetitions="$RUNS"
            --benchmark_report_aggregates_only=true
            --benchmark_out="$LOG/bench_core.json" --benchmark_out_format=json)
  "${core_cmd[@]}" >"$LOG/bench_core.txt" 2>"$LOG/bench_core.err" ||
    die "bench_core (see $LOG/bench_core.err)"
  command_used "bench_core" "${core_cmd[*]}"
  # Times are CPU times (single-threaded code, so they equal wall time on an
  # idle machine and hold up better on a busy one); rates derive from them too.
  # Google Benchmark's JSON has one field per line: no JSON tool needed. With
  # one repetition there is no "_median" aggregate: the run itself is taken.
  core() {  # core NAME FIELD → that field of NAME's median, or ""
    awk -v n="$1" -v f="$2" '
      /"name":/ { v = $0; sub(/^[^:]*: *"/, "", v); sub(/",?$/, "", v); cur = v; next }
      (cur == n "_median" || cur == n) && index($0, "\"" f "\":") {
        v = $0; sub(/^[^:]*: */, "", v); sub(/,$/, "", v); gsub(/"/, "", v); found[cur] = v }
      END { if ((n "_median") in found) print found[n "_median"]; else if (n in found) print found[n] }' \
      "$LOG/bench_core.json"; }
  core_num() {  # NAME FIELD DIVISOR DECIMALS → the number, or n/a
    local v; v=$(core "$1" "$2")
    if [[ -z $v ]]; then echo n/a; else calc "$v / $3" "$4"; fi; }
  figure "ParseEventLine (events/s)" "$(core_num BM_ParseEventLine items_per_second 1 0)"
  figure "ParseEventLine (MB/s)" "$(core_num BM_ParseEventLine bytes_per_second 1e6 1)"
  figure "Apply, pre-parsed (events/s)" "$(core_num BM_Apply items_per_second 1 0)"
  for b in BuildSnapshot BuildSnapshotKeptHistory SerializeWorld SerializeCheckpoint ParseCheckpoint; do
    figure "$b, $CORE_WORLD world (ms)" "$(core_num "BM_$b" cpu_time 1 1)"
  done
  figure "DigestWorldFiles, $CORE_WORLD world (ms)" "$(core_num BM_DigestWorldFiles cpu_time 1 1)"
  for target in $SERIES_TARGETS; do
    name=BM_RenderExposition/target_series:$target
    figure "RenderExposition, $(core_num "$name" series 1 0) series (ms)" "$(core_num "$name" cpu_time 1 2)"
  done
  # One service_recovered, resolving one incident, with its node and without
  # (every node that has the service): manual time, per recovery (real_time).
  # (Outside --quick they set their own minimum time, which is in their names.)
  mt=$( ((QUICK)) || echo /min_time:0.050)
  for n in $( ((QUICK)) && echo "10 100" || echo "10 100 1000"); do
    with=$(core_num "BM_ServiceRecovered/with_node/nodes:$n$mt/manual_time" real_time 1 0)
    without=$(core_num "BM_ServiceRecovered/without_node/nodes:$n$mt/manual_time" real_time 1 0)
    ratio=n/a
    [[ $with == n/a || $without == n/a ]] || ratio=x$(calc "$without / $with" 1)
    figure "service_recovered, service on $n nodes: with a node / without (ns per recovery)" \
      "$with / $without (without = $ratio)"
  done
  # The same as a replay applies them (bulk mode), failures and catching up
  # included; the target: without a node at most 10x with one, on 1,000 nodes.
  for n in $( ((QUICK)) && echo "10 100" || echo "10 100 1000"); do
    with=$(core_num "BM_ServiceRecoveredReplay/with_node/nodes:$n$mt/manual_time" real_time 1 0)
    without=$(core_num "BM_ServiceRecoveredReplay/without_node/nodes:$n$mt/manual_time" real_time 1 0)
    ratio=n/a
    [[ $with == n/a || $without == n/a ]] || ratio=$(calc "$without / $with" 1)
    target=-; state=-
    if ((n == 1000)); then target="without <= 10x with"; state=$(status "$ratio" '<=' 10); fi
    figure "replay: failure + service_recovered, service on $n nodes: with a node / without (ns per recovery)" \
      "$with / $without (without = x$ratio)" "$target" "$state"
  done
  { grep -E '_median|^BM_' "$LOG/bench_core.txt" || true; } | sed 's/^/   /'
else
  note "bench_core not built (libbenchmark-dev missing): skipped"
fi

# --- 8. profile (--profile) -------------------------------------------------------
if ((PROFILE)); then
  step "profile of one cold replay"
  reset_state "$REPLAY"
  # Reports are written to files first and cut with sed: `head` closing a
  # pipe early would fail the pipeline under pipefail. Template arguments are
  # stripped from the C++ names to keep the lines readable.
  tidy() { grep -v '^#' | grep -v '^ *$' | sed -E 's/ +-? +-? *$//; :a; s/<[^<>]*>//g; ta' | cut -c1-150 || true; }
  if perf record -e cpu-clock -F 999 -o "$LOG/perf.data" -- "$OBS" once --root "$REPLAY" \
      --inventory "$REPLAY" --now "$NOW" >"$LOG/perf-once.log" 2>&1; then
    perf report -i "$LOG/perf.data" --stdio --no-children --sort dso,symbol --percent-limit 0.7 \
      >"$LOG/perf-report.txt" 2>/dev/null || true
    tidy <"$LOG/perf-report.txt" | sed -n '1,30p' >"$LOG/perf-top.txt"
    sed 's/^/   /' "$LOG/perf-top.txt"
    command_used "perf" "perf record -e cpu-clock -F 999 -- $OBS once --root $REPLAY --inventory $REPLAY --now $NOW; perf report --stdio --no-children --sort dso,symbol"
  else
    note "perf record failed (see $LOG/perf-once.log)"
  fi
  reset_state "$REPLAY"
  if command -v valgrind >/dev/null; then
    CG=$SCRATCH/replay-50000
    generate "$CG" --nodes $NODES --services $SERVICES --events 50000 --files 50 --layout jsonl \
      --seed 1 --invalid-per-million 100
    reset_state "$CG"
    valgrind --tool=callgrind --callgrind-out-file="$LOG/callgrind.out" "$OBS" once --root "$CG" \
      --inventory "$CG" --now "$NOW" >"$LOG/callgrind.log" 2>&1 || die "callgrind (see $LOG/callgrind.log)"
    callgrind_annotate --inclusive=yes "$LOG/callgrind.out" >"$LOG/callgrind-report.txt" 2>/dev/null || true
    sed -n '/^Ir/,$p' "$LOG/callgrind-report.txt" | tidy | sed -n '1,45p' >"$LOG/callgrind-top.txt"
    sed 's/^/   /' "$LOG/callgrind-top.txt"
    command_used "callgrind" "valgrind --tool=callgrind $OBS once --root $CG --inventory $CG --now $NOW; callgrind_annotate --inclusive=yes"
    reset_state "$CG"
  else
    note "valgrind not found: no callgrind profile"
  fi
fi

# --- results ------------------------------------------------------------------------
{
  echo "| figure | value | target | status |"
  echo "|---|---|---|---|"
  for i in "${!FIG_NAMES[@]}"; do
    echo "| ${FIG_NAMES[$i]} | ${FIG_VALUES[$i]} | ${FIG_TARGETS[$i]} | ${FIG_STATUS[$i]} |"
  done
  echo
  echo "Commands:"
  for c in "${COMMANDS[@]}"; do echo "- $c"; done
} >"$SCRATCH/results.md"
step "results (medians of $RUNS run(s); $START; $(nproc) cores)"
cat "$SCRATCH/results.md"
((QUICK)) && echo "(quick mode: a smoke test; these figures are not comparable with the targets)"
echo "written to $SCRATCH/results.md"
