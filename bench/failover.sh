#!/usr/bin/env bash
# Failover benchmark: keepalived pair vs vigil pair on the shared namespace harness
# (../shared/bench/vrrp), same run, same machine. Prints one JSON object:
#   { "keepalived": {variant: headline}, "vigil": {variant: headline}, "targets": … }
# Usage: sudo bench/failover.sh [vrrp_bench.py options, e.g. --variants v3 --reps 5 --idle 20]
# vigil runs from dist/ (npm run build first).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
harness=$root/../shared/bench/vrrp/run.sh
[ -x "$harness" ] || { echo "missing $harness" >&2; exit 2; }
[ -f dist/src/cli/main.js ] || npm run build >&2
out=$root/bench/out/failover-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
chmod 700 "$root/bench/out" "$out"   # notify scripts under enable_script_security want a root-only path

vigil_cmd="node $root/dist/src/cli/main.js -n -f {conf} -p {pidfile} --control-socket {dir}/{node}.sock"
echo "bench: keepalived pair" >&2
OUTDIR=$out/keepalived NS_PREFIX=kbk- "$harness" "$@" >"$out/keepalived.json"
echo "bench: vigil pair" >&2
PEER1_CMD="$vigil_cmd" PEER2_CMD="$vigil_cmd" OUTDIR=$out/vigil NS_PREFIX=kbv- "$harness" "$@" >"$out/vigil.json"

node -e '
const fs = require("fs");
const read = (f) => JSON.parse(fs.readFileSync(f, "utf8"));
const pick = (r) => Object.fromEntries(Object.entries(r.variants).map(([v, x]) => [v, { headline: x.headline, errors: x.errors }]));
const k = read(process.argv[1]), v = read(process.argv[2]);
console.log(JSON.stringify({
  bench: "failover", outdir: process.argv[3], host: k.host, nproc: k.nproc, params: k.params,
  keepalived: pick(k), vigil: pick(v),
  targets: {
    kill: "backup VIP within Master_Down_Interval + 10 ms of the last advert",
    term: "backup VIP within Skew_Time + 10 ms of the priority-0 advert",
    garp: "first gratuitous ARP within 1 ms of the VIP add",
    advert_jitter: "p99 < 1 ms, max < 5 ms",
  },
}, null, 2));
' "$out/keepalived.json" "$out/vigil.json" "$out" | tee "$out/summary.json"
