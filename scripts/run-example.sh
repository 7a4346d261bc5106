#!/usr/bin/env bash
# Run the observer once over the bundled example homelab (examples/homelab)
# with a fixed clock, then show where the world files are and print the
# runtime summary. Needs a build: run `bash scripts/setup.sh` first.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=build/bin/homelab-observer
example=examples/homelab
now=2026-05-13T09:00:00Z

if [[ ! -x "$bin" ]]; then
  echo "run-example.sh: $bin not found; build it first with: bash scripts/setup.sh" >&2
  exit 1
fi
if [[ ! -d "$example" ]]; then
  echo "run-example.sh: the example homelab $example/ is missing" >&2
  exit 1
fi

echo "==> $bin once --root $example --inventory $example --now $now"
"$bin" once --root "$example" --inventory "$example" --now "$now"

echo
echo "==> World files in $example/world/:"
for f in "$example"/world/*.json; do
  [[ -e "$f" ]] && echo "    $f"
done
echo "    rejected events: $example/state/rejected-events.jsonl"
echo "    checkpoint:      $example/state/observer_checkpoint.json"

summary="$example/world/runtime-summary.json"
echo
echo "==> $summary"
if [[ -f "$summary" ]]; then
  cat "$summary"
  echo
else
  echo "run-example.sh: $summary was not written" >&2
  exit 1
fi
