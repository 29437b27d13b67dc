#!/usr/bin/env bash
# Following a running job's big log: bytes the TUI reads from GitLab (counted by a loopback
# proxy, scripts/count_proxy.py) and CPU it spends in one minute while the log grows, against `gitaiops sim --frozen` whose job
# logs are padded to SIZE bytes (`POST /-/sim/trace-padding`). The simulated clock moves 0.2 s
# per second, so the running job's log grows (a prefix, as GitLab's does) and does not finish.
#
#   cargo build --release && SIZE=50000000 scripts/measure_follow.sh
#   BIN=/path/to/old/gitaiops SIM_BIN=target/release/gitaiops SIZE=3000000 scripts/measure_follow.sh
#
# SIM_BIN must know `sim --frozen` and the trace-padding control; BIN is the client measured.
set -euo pipefail

BIN=${BIN:-target/release/gitaiops}
SIM_BIN=${SIM_BIN:-$BIN}
SIZE=${SIZE:-3000000}
SECS=${SECS:-60}
JOB=${JOB:-}
TICK=$(getconf CLK_TCK)
work=$(mktemp -d)
sock="gitaiops-follow-$$"
tm() { tmux -L "$sock" -f /dev/null "$@"; }
sim_pid=
proxy_pid=
cleanup() {
  tm kill-server 2>/dev/null || true
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$SIM_BIN" sim --frozen >"$work/url" 2>/dev/null &
sim_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
url=$(head -1 "$work/url")
curl -s -X POST "$url/-/sim/trace-padding?bytes=$SIZE" >/dev/null
python3 "$(dirname "$0")/count_proxy.py" "${url#http://}" "$work/count" >"$work/port" &
proxy_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
proxy="http://127.0.0.1:$(head -1 "$work/port")"
api() { curl -s -H "PRIVATE-TOKEN: sim-token" "$url/api/v4/projects/1/$1"; }
# The simulator's job ids are GitLab-sized (11 digits): the first running job, unless JOB names one.
[ -n "$JOB" ] || JOB=$(api 'jobs?scope[]=running' | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
# Authenticated, as GitLab answers 404 to an anonymous read of a private project's trace.
trace_len() { curl -s -H "PRIVATE-TOKEN: sim-token" "$url/api/v4/projects/1/jobs/$JOB/trace" -o /dev/null -w '%{size_download}'; }

tm new-session -d -s m -x 120 -y 40 \
  "exec env HOME=$work XDG_CONFIG_HOME=$work/config XDG_STATE_HOME=$work/state TERM=xterm-256color GITLAB_HOST=$proxy GITLAB_TOKEN=sim-token $BIN --project acme/platform"
for _ in $(seq 300); do tm capture-pane -p -t m | grep -q live && break; sleep 0.1; done
pid=$(tm list-panes -t m -F '#{pane_pid}')
sleep 3
tm send-keys -t m ':' ; sleep 0.3
tm send-keys -t m "log $JOB" Enter
# The first fetch and parse of the log, then the window.
sleep 8
rchar() { sleep 0.6; cat "$work/count"; }
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
r0=$(rchar); c0=$(cpu); l0=$(trace_len)
for _ in $(seq "$SECS"); do
  curl -s -X POST "$url/-/sim/advance?seconds=0.2" >/dev/null
  sleep 1
done
r1=$(rchar); c1=$(cpu); l1=$(trace_len)
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
python3 - "$r0" "$r1" "$c0" "$c1" "$l0" "$l1" "$hwm" "$TICK" "$SECS" "$SIZE" <<'PY'
import sys
r0, r1, c0, c1, l0, l1, hwm, tick, secs, size = map(int, sys.argv[1:])
moved, growth = r1 - r0, l1 - l0
per_min = 60 / secs
print(f"padding {size / 1e6:.0f} MB, log {l0 / 1e6:.1f} -> {l1 / 1e6:.1f} MB in {secs}s")
print(f"read {moved / 1e6:.1f} MB ({moved * per_min / 1e6:.1f} MB/min), growth {growth / 1e6:.2f} MB, "
      f"beyond growth {(moved - growth) * per_min / 1e6:.1f} MB/min")
print(f"cpu {(c1 - c0) / tick:.2f} s ({(c1 - c0) / tick * per_min:.2f} s/min), peak RSS {hwm / 1024:.1f} MiB")
PY
tm capture-pane -p -t m | tail -3 | cut -c1-120
