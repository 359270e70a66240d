#!/usr/bin/env bash
# Runs a command with one busy loop per core beside it (UNWIND_HOGS to change the count), so the
# suite is proven on a machine busy with other work: no test may depend on the machine's speed.
#   bash scripts/with-cpu-hog.sh npm test
set -euo pipefail
if [ $# -eq 0 ]; then
  echo "usage: bash scripts/with-cpu-hog.sh <command> [args…]   (UNWIND_HOGS=N busy loops, default: one per core)" >&2
  exit 2
fi
hogs="${UNWIND_HOGS:-$(nproc)}"
pids=()
stop_hogs() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; }
trap stop_hogs EXIT
for _ in $(seq 1 "$hogs"); do
  nice -n 0 bash -c 'while :; do :; done' &
  pids+=("$!")
done
echo "with-cpu-hog: ${hogs} busy loop(s) running beside: $*" >&2
"$@"
