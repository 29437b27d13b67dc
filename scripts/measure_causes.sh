#!/usr/bin/env bash
# What the background diagnosis of failed jobs (issue 19) costs at the server: runs the TUI in
# tmux against `gitaiops sim --scale SCALE` for SECONDS, then reads the simulator's request log
# (`/-/sim/requests`) and re-fetches each trace that was read to count its bytes.
#   scripts/measure_causes.sh [SCALE] [SECONDS]       (debug binary: cargo build first)
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-0}
SECS=${2:-60}
BIN=${BIN:-target/debug/gitaiops}
PORT=$((20000 + RANDOM % 20000))
"$BIN" sim --listen 127.0.0.1:$PORT --scale "$SCALE" >/dev/null 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null; tmux kill-session -t causes$PORT 2>/dev/null || true' EXIT
sleep 1
STATE=$(mktemp -d)
tmux new -d -s causes$PORT -x 120 -y 40 \
    "XDG_STATE_HOME=$STATE GITLAB_TOKEN=x $PWD/$BIN --gitlab-url http://127.0.0.1:$PORT --project acme/platform"
sleep "$SECS"
curl -s "http://127.0.0.1:$PORT/-/sim/requests" > "$STATE/requests.json"
python3 - "$PORT" "$STATE/requests.json" <<'PY'
import json, sys, urllib.request
from datetime import datetime
port, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
ts = [datetime.fromisoformat(x["time"].replace("Z", "+00:00")) for x in r]
traces = [x["path"] for x in r if x["path"].endswith("/trace")]
total = 0
for p in traces:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{p}", headers={"PRIVATE-TOKEN": "x"})
    total += len(urllib.request.urlopen(req).read())
t0 = ts[0]
later = [x for x, t in zip(r, ts) if (t - t0).total_seconds() >= 30]
span = max((ts[-1] - t0).total_seconds() - 30, 1)
print(f"requests {len(r)}; trace reads {len(traces)} (distinct {len(set(traces))}), {total} bytes")
print(f"after the first 30 s: {len(later)} requests ({len(later) / span * 60:.1f}/min), "
      f"{sum(1 for x in later if x['path'].endswith('/trace'))} trace reads")
PY
