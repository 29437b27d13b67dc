#!/usr/bin/env bash
# Key latency while a log search runs: a finished job's log padded to SIZE bytes
# (`gitaiops sim --frozen`, `POST /-/sim/trace-padding`), a search for text that is not there
# (the whole log is scanned), then `k` at once: how long until the cursor's line number moves,
# and how long until the search says "not found". Also `e` (first error) the same way, and the
# RSS before opening the log, with it open (peak) and 3 s after closing it.
#
#   cargo build --release && SIZE=50000000 scripts/measure_search.sh
#   BIN=/path/to/old/gitaiops SIM_BIN=target/release/gitaiops scripts/measure_search.sh
set -euo pipefail

BIN=${BIN:-target/release/gitaiops}
SIM_BIN=${SIM_BIN:-$BIN}
SIZE=${SIZE:-50000000}
JOB=${JOB:-11402880016}
work=$(mktemp -d)
sock="gitaiops-search-$$"
tm() { tmux -L "$sock" -f /dev/null "$@"; }
sim_pid=
cleanup() {
  tm kill-server 2>/dev/null || true
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$SIM_BIN" sim --frozen >"$work/url" 2>/dev/null &
sim_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
url=$(head -1 "$work/url")
curl -s -X POST "$url/-/sim/trace-padding?bytes=$SIZE" >/dev/null

tm new-session -d -s m -x 120 -y 40 \
  "exec env HOME=$work XDG_CONFIG_HOME=$work/config XDG_STATE_HOME=$work/state TERM=xterm-256color GITLAB_HOST=$url GITLAB_TOKEN=sim-token $BIN --project acme/platform"
for _ in $(seq 300); do tm capture-pane -p -t m | grep -q live && break; sleep 0.1; done
sleep 2
pid=$(tm list-panes -t m -F '#{pane_pid}')
rss() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status"; }
rss0=$(rss)
tm send-keys -t m ':'; sleep 0.3
tm send-keys -t m "log $JOB" Enter
for _ in $(seq 600); do tm capture-pane -p -t m | grep -q ' line [0-9]*/' && break; sleep 0.1; done
sleep 2
cur() { tm capture-pane -p -t m | grep -o ' line [0-9]*/' | head -1; }

# measure KEYS... : sends the keys, then `k` at once; prints the key latency and the time until
# the status line shows $DONE.
measure() {
  local label=$1; shift
  local before; before=$(cur)
  local t0; t0=$(date +%s.%N)
  tm send-keys -t m "$@"
  tm send-keys -t m k
  local moved= done= started=
  for _ in $(seq 3000); do
    local now; now=$(date +%s.%N)
    local screen; screen=$(tm capture-pane -p -t m)
    if [ -z "$started" ] && grep -q "${STARTED:-$DONE}" <<<"$screen"; then started=$now; fi
    if [ -z "$moved" ] && [ "$(grep -o ' line [0-9]*/' <<<"$screen" | head -1)" != "$before" ]; then moved=$now; fi
    if [ -z "$done" ] && grep -q "$DONE" <<<"$screen"; then done=$now; fi
    [ -n "$moved" ] && [ -n "$done" ] && break
    sleep 0.01
  done
  python3 -c "
t0, m, d, s = $t0, ${moved:-0}, ${done:-0}, ${started:-0}
# After the scan started: what a frozen UI task would show (typing the query is before it).
after = f', {max(m - s, 0) * 1000:.0f} ms after the scan showed it started' if s else ''
print(f'$label: key latency {(m - t0) * 1000:.0f} ms{after}, result after {(d - t0) * 1000:.0f} ms' if m and d else '$label: timed out')"
}
# The floor: `k` alone, nothing running (tmux's round trip and this loop's polling).
DONE=' line ' measure "floor, k alone" ""
sleep 1
STARTED='searching\|not found' DONE='not found' measure "search, no match" / "zz-not-in-this-log" Enter
sleep 1
DONE='first error\|no error line' measure "first error (e)" e
sleep 1
rss1=$(rss); hwm=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
tm send-keys -t m Escape; sleep 0.3; tm send-keys -t m Escape
sleep 3
echo "RSS before opening ${rss0} MiB, open ${rss1} MiB (peak ${hwm}), 3 s after closing $(rss) MiB"
