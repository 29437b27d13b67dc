#!/usr/bin/env bash
# Diagnoses a ~200 MB GitLab trace with the release binary: wall time and peak RSS.
#
#   cargo build --release && benches/diagnose_big_log.sh [SIZE_MB] [RUNS]
#
# The trace is real runner output: the 2.8 MB gitlab.com trace of
# ../shared/fixtures/gitlab/job_trace_runner13_cr.log repeated (its `Job succeeded` lines
# dropped), then the failing end of a corpus case (a rustc error and the runner's
# `ERROR: Job failed`), so there is something to diagnose at the very end.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-200}
runs=${2:-3}
bin=${BIN:-target/release/gitaiops}
shared=../shared
[ -d "$shared" ] || shared=/work/shared
unit="$shared/fixtures/gitlab/job_trace_runner13_cr.log"
tail_case=tests/corpus/ci-logs/cases/rust-e0308-mismatched-types/trace.log
out=${TMPDIR:-/tmp}/gitaiops-big-$size_mb.log

python3 - "$unit" "$tail_case" "$out" "$size_mb" <<'PY'
import sys
unit, tail, out, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
body = b"".join(l for l in open(unit, "rb").read().splitlines(True) if b"Job succeeded" not in l)
end = open(tail, "rb").read()
target = size * 1024 * 1024 - len(end)
with open(out, "wb") as f:
    n = 0
    while n + len(body) <= target:
        f.write(body)
        n += len(body)
    f.write(body[: target - n])
    f.write(b"\n")
    f.write(end)
PY
bytes=$(stat -c %s "$out")
lines=$(wc -l < "$out")
echo "input: $out, $bytes bytes, $lines lines"
for i in $(seq "$runs"); do
  /usr/bin/time -f "%e %M" -o /tmp/gitaiops-big-time.txt "$bin" diagnose --log "$out" > /tmp/gitaiops-big-out.txt
  read -r wall rss_kb < /tmp/gitaiops-big-time.txt
  ratio=$(python3 -c "print(f'{$rss_kb * 1024 / $bytes:.2f}')")
  echo "run $i: wall ${wall} s, max RSS $((rss_kb / 1024)) MB (${ratio}x the log)"
done
head -1 /tmp/gitaiops-big-out.txt
