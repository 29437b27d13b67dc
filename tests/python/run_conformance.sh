#!/usr/bin/env bash
# Builds gitaiops, starts `gitaiops sim` on a loopback port, runs the python-gitlab conformance
# script against it and stops the simulator. Exit status is the script's.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${GITAIOPS_BIN:-$root/target/debug/gitaiops}"
token="conformance-$$"

# The interpreter with python-gitlab: GITAIOPS_PYTHON, else the venv scripts/test makes, else
# python3. Installing is scripts/test's job (it knows how on a PEP 668 system).
py="${GITAIOPS_PYTHON:-}"
if [ -z "$py" ]; then
    py=python3
    if ! "$py" -c 'import gitlab' 2>/dev/null && [ -x "$root/target/python-venv/bin/python" ]; then
        py="$root/target/python-venv/bin/python"
    fi
fi
if ! "$py" -c 'import gitlab' 2>/dev/null; then
    echo "python-gitlab is missing for $py: run scripts/test (it installs it)" >&2
    exit 1
fi
if [ -z "${GITAIOPS_BIN:-}" ]; then
    (cd "$root" && cargo build --quiet --bin gitaiops)
fi

out="$(mktemp)"
"$bin" sim --listen 127.0.0.1:0 --token "$token" >"$out" &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; rm -f "$out"' EXIT

url=""
for _ in $(seq 1 100); do
    url="$(head -n 1 "$out" 2>/dev/null || true)"
    [ -n "$url" ] && break
    kill -0 "$sim_pid" 2>/dev/null || { echo "gitaiops sim exited before printing its URL" >&2; exit 1; }
    sleep 0.1
done
[ -n "$url" ] || { echo "gitaiops sim printed no URL within 10 s" >&2; exit 1; }

status=0
GITAIOPS_SIM_TOKEN="$token" NO_PROXY="127.0.0.1,localhost" no_proxy="127.0.0.1,localhost" \
    "$py" "$here/conformance.py" "$url" || status=$?

# SIGTERM must end the simulator cleanly with status 0.
kill -TERM "$sim_pid"
sim_status=0
wait "$sim_pid" || sim_status=$?
trap 'rm -f "$out"' EXIT
if [ "$sim_status" -ne 0 ]; then
    echo "gitaiops sim exited with $sim_status after SIGTERM" >&2
    status=1
fi
exit "$status"
