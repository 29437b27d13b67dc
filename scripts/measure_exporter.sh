#!/usr/bin/env bash
# Exporter figures for BENCHMARKS.md: GitLab requests per minute at steady state, /metrics
# render time and size, exporter RSS, against `gitaiops sim --scale N` on loopback.
#
#   scripts/measure_exporter.sh [BIN] [SCALE] [MINUTES] [POLLERS]
#
# POLLERS > 1 watches the simulator's one project under that many spellings (the simulator,
# like GitLab, matches a project path case-insensitively): that many independent pollers, each
# paying a project's request cost. Their CI series coincide (one project), so only the request
# and memory figures mean "POLLERS projects".
#
# Requests are the exporter's own counter (gitaiops_gitlab_requests_sent_total), read after a
# one-minute warm-up and again MINUTES later. Render time is curl's time_total over 10 scrapes
# (min and median). The simulator's clock is real: pipelines start and finish meanwhile.
set -euo pipefail
bin="${1:-target/debug/gitaiops}"
scale="${2:-0}"
minutes="${3:-2}"
pollers="${4:-1}"
projects="$(python3 -c "
import itertools, sys
n = int(sys.argv[1]); base = 'acme/platform'
idx = [i for i, c in enumerate(base) if c.isalpha()]
out = []
for k in range(n):
    s = list(base)
    for b, i in enumerate(idx):
        if k >> b & 1:
            s[i] = s[i].upper()
    out.append(''.join(s))
print(','.join(out))" "$pollers")"
dir="$(mktemp -d)"
export HOME="$dir" XDG_CONFIG_HOME="$dir/config" XDG_STATE_HOME="$dir/state" NO_PROXY=127.0.0.1
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT

"$bin" sim --listen 127.0.0.1:0 --scale "$scale" >"$dir/sim.out" 2>/dev/null &
pids+=($!)
until [ -s "$dir/sim.out" ]; do sleep 0.1; done
url="$(head -1 "$dir/sim.out")"

GITLAB_TOKEN=sim GITLAB_HOST="$url" GITAIOPS_PROJECT="$projects" \
    "$bin" exporter --listen 127.0.0.1:0 2>"$dir/exp.err" >/dev/null &
exp=$!
pids+=($exp)
until grep -q serving "$dir/exp.err" 2>/dev/null; do sleep 0.1; done
addr="$(sed -n 's#.*serving http://\(.*\)/metrics#\1#p' "$dir/exp.err" | head -1)"

sent() {
    curl -s "http://$addr/metrics" | awk '/^gitaiops_gitlab_requests_sent_total/ {print $2}'
}
until curl -sf "http://$addr/readyz" >/dev/null; do sleep 0.2; done
cold="$(sent)"
sleep 60
a="$(sent)"
sleep $((minutes * 60))
b="$(sent)"
times=()
for _ in $(seq 10); do
    times+=("$(curl -s -o "$dir/m.txt" -w '%{time_total}' -H 'Accept: application/openmetrics-text' "http://$addr/metrics")")
done
sorted="$(printf '%s\n' "${times[@]}" | sort -n)"
min="$(echo "$sorted" | head -1)"
med="$(echo "$sorted" | sed -n 5p)"
size="$(wc -c <"$dir/m.txt")"
series="$(grep -vc '^#' "$dir/m.txt")"
rss="$(awk '/VmRSS/ {print $2}' /proc/$exp/status)"
hwm="$(awk '/VmHWM/ {print $2}' /proc/$exp/status)"
echo "scale=$scale pollers=$pollers cold_start_requests=$cold requests_per_min=$(echo "scale=1; ($b - $a) / $minutes" | bc) render_s_min=$min render_s_median=$med bytes=$size series=$series rss_kb=$rss peak_rss_kb=$hwm"
