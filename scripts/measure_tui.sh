#!/usr/bin/env bash
# Measures the TUI binary in a real pty (tmux): bytes written to the terminal while idle and for
# one changed row, CPU time while idle, RSS at --scale 1000. Figures go to stdout; BENCHMARKS.md
# ("## TUI") records them.
#
#   cargo build --release && scripts/measure_tui.sh            # IDLE=60 by default
#   BIN=target/debug/gitaiops IDLE=10 scripts/measure_tui.sh   # quick look
#
# Bytes are what the program writes to its pty, captured with `tmux pipe-pane`.
set -euo pipefail

BIN=${BIN:-target/release/gitaiops}
IDLE=${IDLE:-60}
# The request rate in the header counts the last minute: the cold start's burst (details for
# every visible row) takes a minute to age out. Idle is measured after that.
WARM=${WARM:-70}
TICK=$(getconf CLK_TCK)
work=$(mktemp -d)
runs=0
sock="gitaiops-measure-$$-0"
tm() { tmux -L "$sock" -f /dev/null "$@"; }
cleanup() { tm kill-server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release)"; exit 1; }

size() { stat -c %s "$work/out.bin" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# Waits until the pane output has not grown for $1 seconds (at most 60 s).
settle() {
  local quiet=$1 last=-1 same=0 n=0
  while [ "$n" -lt 600 ]; do
    local s; s=$(size)
    if [ "$s" = "$last" ]; then same=$((same + 1)); else same=0; last=$s; fi
    [ "$same" -ge $((quiet * 10)) ] && return 0
    sleep 0.1; n=$((n + 1))
  done
}

wait_screen() {
  local n=0
  until tm capture-pane -p -t m | grep -q "$1"; do
    sleep 0.1; n=$((n + 1))
    [ "$n" -lt 300 ] || { echo "timeout waiting for '$1'"; tm capture-pane -p -t m; exit 1; }
  done
}

# start <demo args...>: the demo in a 120x40 pty with isolated XDG dirs; sets $pid and $url.
start() {
  # A fresh tmux server per run: reusing a socket races the old server's exit.
  tm kill-server 2>/dev/null || true
  runs=$((runs + 1)); sock="gitaiops-measure-$$-$runs"
  rm -rf "$work/state" "$work/out.bin"
  tm new-session -d -s m -x 120 -y 40 \
    "exec env HOME=$work XDG_CONFIG_HOME=$work/config XDG_STATE_HOME=$work/state TERM=xterm-256color $BIN demo $*"
  tm pipe-pane -t m -o "cat >> $work/out.bin"
  wait_screen "live"
  pid=$(tm display -p -t m '#{pane_pid}')
  url=$(grep -ho 'url=http://[0-9.:]*' "$work"/state/gitaiops/logs/* | head -1 | cut -d= -f2)
}

echo "# gitaiops TUI measurements ($BIN, 120x40, idle window ${IDLE}s after ${WARM}s warm-up)"

# 1. Frozen world: nothing changes unless someone acts. Idle bytes and CPU.
start --frozen
settle 3
sleep "$WARM"
b0=$(size); c0=$(cpu_ticks "$pid")
sleep "$IDLE"
b1=$(size); c1=$(cpu_ticks "$pid")
echo "frozen demo, idle ${IDLE}s: $((b1 - b0)) bytes written, CPU $(echo "scale=2; ($c1 - $c0) / $TICK" | bc) s (polls every 12 s continue)"

# 2. One changed row: sort by iid (a stable order), then relabel the top MR through the API;
#    the next refresh repaints that row's label cell.
tm send-keys -t m ':' ; tm send-keys -t m -l 'sort iid'; tm send-keys -t m Enter
settle 3
iid=$(curl -s "$url/api/v4/projects/1/merge_requests?state=opened&per_page=100" \
  | python3 -c 'import json,sys; print(max(m["iid"] for m in json.load(sys.stdin)))')
b0=$(size)
curl -s -o /dev/null -X PUT -H 'PRIVATE-TOKEN: demo' \
  "$url/api/v4/projects/1/merge_requests/$iid?add_labels=measured"
wait_screen "measured"
settle 2
b1=$(size)
echo "one changed row (label added to !$iid, picked up by the next refresh): $((b1 - b0)) bytes"

# 2b. One key press moving the selection (two rows repainted).
b0=$(size); tm send-keys -t m j; settle 1; b1=$(size)
echo "selection moved one row (key j): $((b1 - b0)) bytes"

# 3. The live demo: the simulated world moves (jobs progress, new pipelines arrive).
start
settle 3
sleep "$WARM"
b0=$(size); c0=$(cpu_ticks "$pid")
sleep "$IDLE"
b1=$(size); c1=$(cpu_ticks "$pid")
echo "live demo (world changing), ${IDLE}s without input: $((b1 - b0)) bytes, CPU $(echo "scale=2; ($c1 - $c0) / $TICK" | bc) s (simulator included, in-process)"
echo "live demo RSS: $(( $(rss_kb "$pid") / 1024 )) MB"

# 4. Scale 1000: 1000 MRs and 1000 pipelines in the simulated project.
start --scale 1000
settle 3
sleep 5
echo "demo --scale 1000 RSS: $(( $(rss_kb "$pid") / 1024 )) MB (peak $(( $(hwm_kb "$pid") / 1024 )) MB), simulator included"
tm kill-server 2>/dev/null || true

# The simulator alone at the same scale, to separate its share.
"$BIN" sim --scale 1000 > "$work/sim.out" 2>/dev/null &
simpid=$!
n=0; until [ -s "$work/sim.out" ] || [ $n -ge 300 ]; do sleep 0.1; n=$((n + 1)); done
sleep 1
echo "sim --scale 1000 alone RSS: $(( $(rss_kb "$simpid") / 1024 )) MB"
kill "$simpid"; wait "$simpid" 2>/dev/null || true
