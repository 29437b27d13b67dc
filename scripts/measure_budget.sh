#!/usr/bin/env bash
# Steady-state request rate of a TUI session on a project where nothing changes, counted at the
# server: `gitaiops sim --frozen` (the simulated clock stands still), the TUI in a 120x40 tmux
# pty against it, the server's request log (`/-/sim/requests`) cleared after the warm-up and
# read once a minute. Prints requests per minute and the endpoints they went to.
#
#   cargo build --release && scripts/measure_budget.sh
#   BIN=/path/to/old/gitaiops SIM_BIN=target/release/gitaiops scripts/measure_budget.sh  # before
#   WARM=60 MINUTES=6 scripts/measure_budget.sh
#
# SIM_BIN must know `sim --frozen`; BIN is the client measured.
set -euo pipefail

BIN=${BIN:-target/release/gitaiops}
SIM_BIN=${SIM_BIN:-$BIN}
WARM=${WARM:-60}
MINUTES=${MINUTES:-6}
work=$(mktemp -d)
sock="gitaiops-budget-$$"
tm() { tmux -L "$sock" -f /dev/null "$@"; }
sim_pid=
cleanup() {
  tm kill-server 2>/dev/null || true
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$SIM_BIN" sim --frozen >"$work/url" 2>/dev/null &
sim_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
url=$(head -1 "$work/url")
[ -n "$url" ] || { echo "the simulator did not start"; exit 1; }

tm new-session -d -s m -x 120 -y 40 \
  "exec env HOME=$work XDG_CONFIG_HOME=$work/config XDG_STATE_HOME=$work/state TERM=xterm-256color GITLAB_HOST=$url GITLAB_TOKEN=sim-token $BIN --project acme/platform"
sleep "$WARM"
curl -s -X DELETE "$url/-/sim/requests" >/dev/null
total=0
for m in $(seq "$MINUTES"); do
  sleep 60
  n=$(curl -s "$url/-/sim/requests" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  echo "minute $m: $((n - total)) requests"
  total=$n
done
echo "after ${WARM}s warm-up: $total requests in $MINUTES min = $(python3 -c "print(round($total / $MINUTES, 1))")/min"
curl -s "$url/-/sim/requests" | python3 -c '
import json, re, sys, collections
c = collections.Counter(re.sub(r"/\d+", "/:id", r["path"]) + ("?" + r["query"].split("&")[0] if r["query"] else "") for r in json.load(sys.stdin))
for k, v in c.most_common():
    print(f"  {v:5d}  {k}")'
tm capture-pane -p -t m | head -3 | cut -c1-120
