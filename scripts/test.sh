#!/usr/bin/env bash
# The whole test suite:
#   1. Release build in build/, then ctest;
#   2. ASan+UBSan build (Debug, -DHLO_SANITIZE=ON) in build-asan/, then ctest.
# Set HLO_SKIP_ASAN=1 to skip step 2 for a quick local run.
#
# Exits non-zero if any build or test fails. The last line is the total over
# both ctest runs: `N passed, M failed` (`, K skipped` is added when tests
# were skipped or disabled). A step that fails before ctest can report (a
# configure or build error, or ctest dying) counts as one failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs=$(nproc 2>/dev/null || echo 2)
logdir=$(mktemp -d "${TMPDIR:-/tmp}/hlo-test.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

total_passed=0
total_failed=0
total_skipped=0
status=0

log() { printf '\n==> %s\n' "$*"; }

# count_ctest LOG: add the counts from ctest's closing summary in LOG to the
# totals. Returns 1 when LOG holds no such summary.
count_ctest() {
  local file=$1 line failed total skipped disabled
  # e.g. "75% tests passed, 1 tests failed out of 4"
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$file" | tail -n 1 || true)
  [[ -n "$line" ]] || return 1
  [[ "$line" =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]] || return 1
  failed=${BASH_REMATCH[1]}
  total=${BASH_REMATCH[2]}
  # ctest counts skipped tests as passed and leaves disabled ones out of the
  # total; both are listed under "The following tests did not run:".
  skipped=$(grep -cE '^[[:space:]]+[0-9]+ - .* \(Skipped\)$' "$file" || true)
  disabled=$(grep -cE '^[[:space:]]+[0-9]+ - .* \(Disabled\)$' "$file" || true)
  total_passed=$((total_passed + total - failed - skipped))
  total_failed=$((total_failed + failed))
  total_skipped=$((total_skipped + skipped + disabled))
}

# suite NAME DIR CMAKE_ARGS...: configure, build and test one build tree.
suite() {
  local name=$1 dir=$2 rc
  shift 2
  local out="$logdir/$name.log"

  log "[$name] configure $dir/ ($*)"
  if ! cmake -S . -B "$dir" "$@"; then
    echo "[$name] configure FAILED" >&2
    total_failed=$((total_failed + 1)); status=1; return
  fi
  log "[$name] build (-j$jobs)"
  if ! cmake --build "$dir" -j"$jobs"; then
    echo "[$name] build FAILED" >&2
    total_failed=$((total_failed + 1)); status=1; return
  fi
  log "[$name] ctest"
  rc=0
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j2 2>&1 | tee "$out" || rc=$?
  if ! count_ctest "$out"; then
    echo "[$name] ctest gave no summary (exit $rc)" >&2
    total_failed=$((total_failed + 1)); status=1; return
  fi
  if ((rc != 0)); then
    echo "[$name] ctest FAILED (exit $rc)" >&2
    status=1
  fi
}

suite release build -DCMAKE_BUILD_TYPE=Release

if [[ "${HLO_SKIP_ASAN:-0}" == 1 ]]; then
  log "[asan] skipped (HLO_SKIP_ASAN=1)"
else
  # Exported for the build too: gtest_discover_tests runs the sanitized test
  # binaries while building.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  suite asan build-asan -DCMAKE_BUILD_TYPE=Debug -DHLO_SANITIZE=ON
fi

echo
if ((status != 0)); then
  echo "Test suite FAILED."
else
  echo "Test suite passed."
fi
summary="$total_passed passed, $total_failed failed"
if ((total_skipped > 0)); then
  summary+=", $total_skipped skipped"
fi
echo "$summary"
exit "$status"
