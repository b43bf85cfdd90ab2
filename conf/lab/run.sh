#!/usr/bin/env bash
# vigil lab: two routers and a client on one segment, in network namespaces.
#   sudo npm run lab            interactive: watch the VIP, press Enter to kill the master
#   sudo npm run lab -- --auto  the same story without a keyboard; exits 0 when it all happened
# Everything lives in namespaces named vlab-*, removed on exit (also on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
auto=0; [ "${1:-}" = "--auto" ] && auto=1
[ "$(id -u)" -eq 0 ] || { echo "the lab needs root (namespaces, raw sockets): sudo npm run lab" >&2; exit 1; }
for ns in $(ip netns list | awk '/^vlab-/{print $1}'); do echo "removing a stale $ns" >&2; ip netns del "$ns"; done

VIP=10.99.0.100
work=$(mktemp -d /tmp/vigil-lab.XXXXXX)
declare -A pids=()

cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for ns in vlab-r1 vlab-r2 vlab-c vlab-sw; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  # the last run's logs stay readable after the lab is gone
  rm -rf /tmp/vigil-lab-last && cp -r "$work" /tmp/vigil-lab-last 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add vlab-sw
ip -n vlab-sw link add br0 type bridge stp_state 0 mcast_snooping 0
ip -n vlab-sw link set br0 up
i=0
for node in r1 r2 c; do
  ns=vlab-$node
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n vlab-sw link add "p$i" type veth peer name eth0 netns "$ns"
  ip -n vlab-sw link set "p$i" master br0 up
  ip -n "$ns" link set eth0 up
  i=$((i + 1))
done
ip -n vlab-r1 addr add 10.99.0.1/24 dev eth0
ip -n vlab-r2 addr add 10.99.0.2/24 dev eth0
ip -n vlab-c addr add 10.99.0.10/24 dev eth0

conf() { # name state priority
  cat > "$work/$1.conf" <<EOC
global_defs {
    router_id lab_$1
}
vrrp_instance VI_1 {
    state $2
    interface eth0
    virtual_router_id 51
    priority $3
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        $VIP/24
    }
}
EOC
}
conf r1 MASTER 150
conf r2 BACKUP 100

if [ -f dist/src/cli/main.js ]; then vigil=(node "$root/dist/src/cli/main.js"); else vigil=(node --import tsx "$root/src/cli/main.ts"); fi
start() { # node
  ip netns exec "vlab-$1" "${vigil[@]}" -n -f "$work/$1.conf" -p "$work/$1.pid" --control-socket "$work/$1.sock" \
    --log-format pretty >>"$work/$1.log" 2>&1 &
  pids[$1]=$!
  disown "${pids[$1]}"
}
holder() {
  # A router whose link is down (the "dead" one) holds nothing the client can reach.
  local h=()
  # (no `| grep -q`: under pipefail its early exit can fail the pipeline with SIGPIPE)
  for n in r1 r2; do [[ "$(ip -n "vlab-$n" -o addr show dev eth0 up)" == *" $VIP/"* ]] && h+=("$n"); done
  local IFS=+; echo "${h[*]:-none}"
}
client() { ip netns exec vlab-c ping -c1 -W1 "$VIP" >/dev/null 2>&1 && echo "reaches $VIP" || echo "cannot reach $VIP"; }
show() { printf '%s  VIP %s held by: %-4s  client %s\n' "$(date +%T)" "$VIP" "$(holder)" "$(client)"; }
wait_holder() { # node seconds
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do [ "$(holder)" = "$1" ] && return 0; sleep 0.2; done
  echo "lab: $1 did not take $VIP within $2 s; logs in $work" >&2; tail -n 20 "$work"/*.log >&2; return 1
}

echo "lab: routers r1 (10.99.0.1, MASTER, priority 150) and r2 (10.99.0.2, BACKUP, priority 100), client c (10.99.0.10)"
echo "lab: starting vigil on both routers; logs: $work/r1.log, $work/r2.log (kept in /tmp/vigil-lab-last/ afterwards)"
start r1; start r2
wait_holder r1 20
show

if [ $auto -eq 0 ]; then
  echo "Press Enter to kill the master (r1: SIGKILL and its link goes down), Ctrl-C to leave."
  while ! read -r -t 1; do show; done
fi
echo "lab: killing r1 (SIGKILL, link down)"
kill -KILL "${pids[r1]}"; unset 'pids[r1]'
ip -n vlab-r1 link set eth0 down
t0=$(date +%s.%N)
wait_holder r2 10
echo "lab: r2 took over after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s"
show
if [ $auto -eq 0 ]; then
  echo "Press Enter to bring r1 back (it preempts: higher priority), Ctrl-C to leave."
  while ! read -r -t 1; do show; done
fi
echo "lab: r1 returns"
ip -n vlab-r1 addr flush dev eth0 scope global; ip -n vlab-r1 addr add 10.99.0.1/24 dev eth0
ip -n vlab-r1 link set eth0 up
start r1
wait_holder r1 20
show
if [ $auto -eq 0 ]; then
  echo "Press Enter to stop the lab."
  while ! read -r -t 1; do show; done
fi
echo "lab: done"
