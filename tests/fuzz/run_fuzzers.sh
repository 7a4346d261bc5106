#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang and runs each for a
# bounded time on its seeds (corpus/<target>/) and past crashes
# (regressions/<target>/).
#
#   tests/fuzz/run_fuzzers.sh [BUILD_DIR] [TARGET...]
#
# BUILD_DIR defaults to build-fuzz at the top of the checkout; TARGET to
# every fuzz_* target built. Environment:
#   HLO_FUZZ_SECONDS  time per target (default 20)
#   HLO_FUZZ_JOBS     targets run side by side (default: the number of CPUs, at most 4)
#   HLO_FUZZ_CXX      the compiler (default clang++)
# Inputs the fuzzers find interesting stay in BUILD_DIR/corpus/<target>/, so
# later runs in the same folder start from them. A crashing input is written
# to tests/fuzz/crashes/<target>/ (not tracked by git): once understood, copy
# it into regressions/<target>/ so that fuzz_replay keeps checking it.
#
# Exit status: 0 when no target crashed; 1 when one did, or the build failed;
# 77 (skip) when clang++ or its fuzzer runtime (Debian: libclang-rt-14-dev)
# is missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(mkdir -p "${1:-$repo/build-fuzz}" && cd "${1:-$repo/build-fuzz}" && pwd)
shift || true
seconds=${HLO_FUZZ_SECONDS:-20}
cxx=${HLO_FUZZ_CXX:-clang++}
cpus=$(nproc 2>/dev/null || echo 1)
jobs=${HLO_FUZZ_JOBS:-$((cpus < 4 ? cpus : 4))}

if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "run_fuzzers: $cxx not found; skipped"
  exit 77
fi
probe="$build/fuzzer-probe"
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
  >"$probe.cc"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$probe.cc" -o "$probe" 2>"$probe.log"; then
  echo "run_fuzzers: $cxx cannot link -fsanitize=fuzzer (install libclang-rt-14-dev); skipped"
  cat "$probe.log"
  exit 77
fi

echo "run_fuzzers: building in $build"
if ! cmake -S "$repo" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DHLO_FUZZ=ON -DHLO_BUILD_TESTS=OFF -DHLO_BUILD_BENCH=OFF >"$build/configure.log" 2>&1; then
  tail -n 30 "$build/configure.log"
  exit 1
fi
if ! cmake --build "$build" --target fuzz_targets -j "$cpus" >"$build/build.log" 2>&1; then
  grep -E 'error|Error' "$build/build.log" | head -n 30
  exit 1
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for bin in "$build"/bin/fuzz_*; do targets+=("$(basename "$bin")"); done
fi

# What each target's inputs look like: the dictionary and the longest input
# worth trying.
dict_of() { case $1 in fuzz_inventory | fuzz_web_config) echo yaml ;; *) echo json ;; esac; }
max_len_of() {
  case $1 in
    fuzz_timestamp) echo 256 ;;
    fuzz_event_document) echo 16384 ;;
    *) echo 4096 ;;
  esac
}

mkdir -p "$build/logs"
run_one() {
  local t=$1
  local work="$build/corpus/$t" crashes="$here/crashes/$t"
  local seeds=()
  for d in "$here/corpus/$t" "$here/regressions/$t"; do [ -d "$d" ] && seeds+=("$d"); done
  mkdir -p "$work" "$crashes"
  UBSAN_OPTIONS=print_stacktrace=1 "$build/bin/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len_of "$t")" \
    -dict="$here/dict/$(dict_of "$t").dict" -artifact_prefix="$crashes/" -print_final_stats=1 \
    "$work" "${seeds[@]}" >"$build/logs/$t.log" 2>&1
}

# A small job pool: at most $jobs fuzzers at once; each leaves its exit
# status in logs/<target>.rc.
for t in "${targets[@]}"; do
  if [ ! -x "$build/bin/$t" ]; then
    echo "run_fuzzers: no target $t"
    exit 1
  fi
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 0.2; done
  rm -f "$build/logs/$t.rc"
  (
    rc=0
    run_one "$t" || rc=$?
    echo "$rc" >"$build/logs/$t.rc"
  ) &
done
wait

failed=0
printf '%-22s %-7s %8s %8s %10s %8s\n' target result cov features execs exec/s
for t in "${targets[@]}"; do
  rc=$(cat "$build/logs/$t.rc" 2>/dev/null || echo 1)
  log="$build/logs/$t.log"
  final_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n 1; }
  done_line=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
  result=ok
  [ "$rc" -ne 0 ] && result=CRASH
  printf '%-22s %-7s %8s %8s %10s %8s\n' "$t" "$result" "${cov:-?}" "${ft:-?}" \
    "$(final_stat number_of_executed_units)" "$(final_stat average_exec_per_sec)"
  if [ "$rc" -ne 0 ]; then
    failed=1
    echo "---- $t (exit $rc): $log"
    grep -E 'ERROR|invariant|saw:|input:|SUMMARY|runtime error|^ +#[0-9]+ ' "$log" | head -n 40
    grep -E 'Test unit written to' "$log" || true
    echo "---- reproduce: $build/bin/$t <that file>; keep it in tests/fuzz/regressions/$t/"
  fi
done
exit "$failed"
