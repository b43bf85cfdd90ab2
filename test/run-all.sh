#!/usr/bin/env bash
# Runs every suite and prints the closing line `N passed, N failed, N skipped`.
#  1. unit, integration and system tests (ava, TAP output), then those that load the host on
#     purpose, alone;
#  2. kernel tests (IPVS): directly when this kernel has IPVS, else inside ../shared/kernel-vm/run.
set -uo pipefail
cd "$(dirname "$0")/.."
out_dir=$(mktemp -d)
trap 'rm -rf "$out_dir"' EXIT

npx ava --tap 2>&1 | tee "$out_dir/main.tap"
main_rc=${PIPESTATUS[0]}
# tests that load the host on purpose, with nothing beside them
npx ava --config ava.alone.config.js --tap 2>&1 | tee "$out_dir/alone.tap"
alone_rc=${PIPESTATUS[0]}

kernel_rc=0
if ls test/kernel/*.test.ts >/dev/null 2>&1; then
  if modprobe ip_vs 2>/dev/null && [ -e /proc/net/ip_vs ]; then
    npx ava --config ava.kernel.config.js --tap 2>&1 | tee "$out_dir/kernel.tap"
    kernel_rc=${PIPESTATUS[0]}
  elif [ -x ../shared/kernel-vm/run ]; then
    # The VM emulates the CPU: vigil runs from dist/ there when it was built (.ci/run builds).
    VIGIL_TEST_DIST=1 ../shared/kernel-vm/run --timeout 3000 -- npx ava --config ava.kernel.config.js --tap 2>&1 | tee "$out_dir/kernel.tap"
    kernel_rc=${PIPESTATUS[0]}
  else
    echo "not ok - kernel suite: this kernel has no IPVS and ../shared/kernel-vm/run is missing" | tee "$out_dir/kernel.tap"
    echo "# fail 1" >> "$out_dir/kernel.tap"
    kernel_rc=1
  fi
fi

sum() { awk -v k="$1" '$1=="#" && $2==k {n+=$3} END {print n+0}' "$out_dir"/*.tap; }
pass=$(sum pass); fail=$(sum fail); skip=$(sum skip); todo=$(sum todo)
# ava reports a crashed or timed-out file without a "not ok" line; count a non-zero exit with no failure as one.
if [ "$main_rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
if [ "$alone_rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
if [ "$kernel_rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
echo "$pass passed, $fail failed, $((skip + todo)) skipped"
[ "$fail" -eq 0 ]
