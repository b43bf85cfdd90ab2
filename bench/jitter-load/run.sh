#!/usr/bin/env bash
# Advert timing under load: the shared namespace harness (../shared/bench/vrrp), VRRPv3 at
# 100 ms, with every node also running 500 HTTP_GET checks against a backend that accepts and
# never answers (connect_timeout 5 s, delay_loop 1 s) and 40 tracked vrrp_scripts that time out
# (sleep 30, timeout 1 s). Same config for both pairs; keepalived runs with -P (VRRP only): its
# checker process shuts keepalived down where the kernel has no IPVS (as here), so its figure is
# under the script load alone, while vigil carries the checks too. Prints one JSON object with
# each pair's advert jitter and CPU.
# Usage: sudo [RT_PRIORITY=50] bench/jitter-load/run.sh [--idle 30]
#   RT_PRIORITY adds `vrrp_rt_priority N` to global_defs (both daemons: SCHED_RR for VRRP).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
harness=$root/../shared/bench/vrrp/run.sh
[ -f "$root/dist/src/cli/main.js" ] || (cd "$root" && npm run build >&2)
out=$root/bench/out/jitter-load-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"; chmod 700 "$root/bench/out" "$out"
tmpl=$out/keepalived.conf.tmpl
{
  sed '/^vrrp_instance/,$d' "$root/../shared/bench/vrrp/keepalived.conf.tmpl" |
    if [ -n "${RT_PRIORITY:-}" ]; then sed "s/^global_defs {/global_defs {\n    vrrp_rt_priority $RT_PRIORITY/"; else cat; fi
  for i in $(seq 1 40); do printf 'vrrp_script hang_%d {\n    script "/bin/sleep 30"\n    interval 1\n    timeout 1\n    weight 1\n}\n' "$i"; done
  sed -n '/^vrrp_instance/,/^}/p' "$root/../shared/bench/vrrp/keepalived.conf.tmpl" | sed '$d'
  printf '    track_script {\n'; for i in $(seq 1 40); do printf '        hang_%d\n' "$i"; done; printf '    }\n}\n'
  printf 'virtual_server 10.211.0.200 80 {\n    delay_loop 1\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n'
  for i in $(seq 0 499); do
    printf '    real_server 127.0.%d.%d 18080 {\n        HTTP_GET {\n            url {\n                path /\n                status_code 200\n            }\n            connect_timeout 5\n            retry 0\n        }\n    }\n' $((i / 250)) $((i % 250 + 1))
  done
  printf '}\n'
} > "$tmpl"
hang="python3 $here/hang-server.py 18080"
ka="sh -c '$hang & exec keepalived -n -l -D -P -f {conf} -p {pidfile} -r {vrrp_pid} -c {check_pid} -b {bfd_pid}'"
vg="sh -c '$hang & exec node $root/dist/src/cli/main.js -n -f {conf} -p {pidfile} --control-socket {dir}/{node}.sock'"
echo "bench: keepalived pair under load" >&2
CONF_TEMPLATE=$tmpl PEER1_CMD=$ka PEER2_CMD=$ka OUTDIR=$out/keepalived NS_PREFIX=kjk- "$harness" --variants v3 --reps 1 --startup-reps 1 --kinds term "$@" >"$out/keepalived.json"
echo "bench: vigil pair under load" >&2
CONF_TEMPLATE=$tmpl PEER1_CMD=$vg PEER2_CMD=$vg OUTDIR=$out/vigil NS_PREFIX=kjv- "$harness" --variants v3 --reps 1 --startup-reps 1 --kinds term "$@" >"$out/vigil.json"
node -e '
const fs = require("fs");
const r = (f) => JSON.parse(fs.readFileSync(f, "utf8")).variants.v3;
const pick = (x) => ({ advert_jitter_ms: x.headline.advert_jitter_ms, idle_cpu_pct: x.headline.idle_cpu_pct, idle_rss_kb: x.headline.idle_rss_kb, errors: x.errors });
console.log(JSON.stringify({ bench: "jitter-load", vrrp_rt_priority: process.env.RT_PRIORITY || null, load: { vigil: "500 hung HTTP_GET + 40 timing-out vrrp_scripts per node", keepalived: "40 timing-out vrrp_scripts per node (-P: its checker stops keepalived without IPVS)" }, outdir: process.argv[3],
  keepalived: pick(r(process.argv[1])), vigil: pick(r(process.argv[2])), target: "p99 < 1 ms, max < 5 ms" }, null, 2));
' "$out/keepalived.json" "$out/vigil.json" "$out" | tee "$out/summary.json"
