#!/usr/bin/env bash
# Memory of the TUI process alone (issue 17, item 4): for each scale, `gitaiops sim --scale N
# --frozen` in its own process, the TUI on its project in a 120x40 tmux pty; once the MR pane's
# count has stopped growing, SETTLE more seconds (refreshes every 12 s run meanwhile), then its
# peak RSS (VmHWM) and settled RSS (VmRSS). Prints a table and the KiB per additional open MR
# between the two largest scales. Scale 0 is the scenario as written (the stand-in for a small
# real project).
#
#   cargo build --release && scripts/measure_memory.sh
#   BIN=target/release/gitaiops SCALES="0 1000 5000" scripts/measure_memory.sh
#   BIN=/path/to/old/gitaiops SIM_BIN=target/release/gitaiops scripts/measure_memory.sh
#
# TUI_ENV adds environment to the TUI's (e.g. TUI_ENV=MALLOC_ARENA_MAX=1).
# SIM_BIN is the simulator's binary (defaults to BIN; a build without the `sim` feature needs
# another one). RUNS repeats each scale and keeps every run's figures.
set -euo pipefail

BIN=${BIN:-target/release/gitaiops}
SIM_BIN=${SIM_BIN:-$BIN}
SCALES=${SCALES:-0 1000 5000}
SETTLE=${SETTLE:-30}
RUNS=${RUNS:-1}
work=$(mktemp -d)
sock="gitaiops-mem-$$"
tm() { tmux -L "$sock" -f /dev/null "$@"; }
sim_pid=
cleanup() {
  tm kill-server 2>/dev/null || true
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

[ -x "$BIN" ] || { echo "no binary at $BIN"; exit 1; }

kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
count() { tm capture-pane -p -t m | grep -o 'Merge requests ([0-9]*' | head -1 | tr -dc 0-9; }

echo "# TUI memory ($BIN; simulator $SIM_BIN; settled = ${SETTLE}s after the MR count stopped growing)"
printf '%-6s %-4s %8s %10s %12s %10s %10s\n' scale run "open MRs" "peak MiB" "settled MiB" "anon MiB" "file MiB"
results=()
for scale in $SCALES; do
  for run in $(seq "$RUNS"); do
    rm -f "$work/url"
    "$SIM_BIN" sim --scale "$scale" --frozen >"$work/url" 2>/dev/null &
    sim_pid=$!
    for _ in $(seq 600); do [ -s "$work/url" ] && break; sleep 0.1; done
    url=$(head -1 "$work/url")
    rm -rf "$work/home"
    mkdir -p "$work/home"
    tm new-session -d -s m -x 120 -y 40 \
      "exec env HOME=$work/home XDG_CONFIG_HOME=$work/home/config XDG_STATE_HOME=$work/home/state TERM=xterm-256color GITLAB_HOST=$url GITLAB_TOKEN=sim-token ${TUI_ENV:-} $BIN --project acme/platform"
    pid=$(tm list-panes -t m -F '#{pane_pid}')
    # Until the count has been the same for 5 s (the later pages of a big list come behind the
    # first), at most 3 minutes.
    last= same=0
    for _ in $(seq 1800); do
      n=$(count || true)
      if [ -n "$n" ] && [ "$n" = "$last" ]; then same=$((same + 1)); else same=0; last=$n; fi
      [ "$same" -ge 50 ] && break
      sleep 0.1
    done
    sleep "$SETTLE"
    peak=$(kib "$pid" VmHWM) rss=$(kib "$pid" VmRSS)
    # The settled RSS split: anonymous pages (heap, stacks, relocated data) and file pages
    # (the binary's code and read-only data that were touched).
    anon=$(kib "$pid" RssAnon) file=$(kib "$pid" RssFile)
    printf '%-6s %-4s %8s %10.1f %12.1f %10.1f %10.1f\n' "$scale" "$run" "${last:-?}" \
      "$(echo "$peak / 1024" | bc -l)" "$(echo "$rss / 1024" | bc -l)" \
      "$(echo "$anon / 1024" | bc -l)" "$(echo "$file / 1024" | bc -l)"
    results+=("$scale ${last:-0} $peak $rss")
    tm kill-server 2>/dev/null || true
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
    sim_pid=
  done
done

# KiB per additional open MR between the two largest scales (their last runs).
n=${#results[@]}
if [ "$n" -ge 2 ]; then
  read -r s1 m1 p1 r1 <<<"${results[$((n - RUNS - 1))]}"
  read -r s2 m2 p2 r2 <<<"${results[$((n - 1))]}"
  if [ "$m2" -gt "$m1" ]; then
    python3 -c "
d = $m2 - $m1
print(f'per additional open MR, scale $s1 -> $s2 ({d} MRs): peak {($p2 - $p1) / d:.2f} KiB, settled {($r2 - $r1) / d:.2f} KiB')"
  fi
fi
