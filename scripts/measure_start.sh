#!/usr/bin/env bash
# Start to readable rows at scale: `gitaiops sim --scale N`, then the TUI in a 120x40 tmux pty;
# the time from launching it until the MR pane's title shows a count (rows drawn), polled every
# 10 ms; the count shown then, and the full count later. Repeats RUNS times.
#
#   cargo build --release && SCALE=10000 scripts/measure_start.sh
#   BIN=/path/to/old/gitaiops SIM_BIN=target/release/gitaiops SCALE=5000 scripts/measure_start.sh
set -euo pipefail

BIN=${BIN:-target/release/gitaiops}
SIM_BIN=${SIM_BIN:-$BIN}
SCALE=${SCALE:-10000}
RUNS=${RUNS:-3}
work=$(mktemp -d)
sock="gitaiops-start-$$"
tm() { tmux -L "$sock" -f /dev/null "$@"; }
sim_pid=
cleanup() {
  tm kill-server 2>/dev/null || true
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$SIM_BIN" sim --scale "$SCALE" >"$work/url" 2>/dev/null &
sim_pid=$!
for _ in $(seq 300); do [ -s "$work/url" ] && break; sleep 0.1; done
url=$(head -1 "$work/url")
tm new-session -d -s idle -x 120 -y 40 "sleep 3600"
for run in $(seq "$RUNS"); do
  t0=$(date +%s.%N)
  tm new-window -d -t idle -n "r$run" \
    "exec env HOME=$work XDG_CONFIG_HOME=$work/config XDG_STATE_HOME=$work/state TERM=xterm-256color GITLAB_HOST=$url GITLAB_TOKEN=sim-token $BIN --project acme/platform"
  shown=
  for _ in $(seq 1500); do
    shown=$(tm capture-pane -p -t "idle:r$run" | grep -o 'Merge requests ([1-9][0-9]*' | head -1 || true)
    [ -n "$shown" ] && break
    sleep 0.01
  done
  t1=$(date +%s.%N)
  sleep ${FILL:-20}
  full=$(tm capture-pane -p -t "idle:r$run" | grep -o 'Merge requests ([1-9][0-9]*' | head -1 || true)
  python3 -c "print(f'run $run: rows after {($t1 - $t0) * 1000:.0f} ms showing ${shown#Merge requests (}, then ${full#Merge requests (}')"
  tm kill-window -t "idle:r$run"
done
