#!/usr/bin/env python3
"""Measures `gitaiops sim` as a process: start-up time to the URL line, resident memory, and
request latency for the calls a poller makes, at a given --scale. Standard library only.

Usage: benches/sim_scale.py [--bin target/release/gitaiops] [--scale 1000] [--rounds 30]
Prints one line per figure; results go in BENCHMARKS.md under "Simulator".
"""

import argparse
import statistics
import subprocess
import time
import urllib.request


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/gitaiops")
    ap.add_argument("--scale", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=30)
    a = ap.parse_args()

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    t0 = time.perf_counter()
    proc = subprocess.Popen([a.bin, "sim", "--scale", str(a.scale)], stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        startup = time.perf_counter() - t0
        print(f"scale={a.scale} startup_to_url_ms={startup * 1000:.1f}")
        print(f"rss_after_start_mib={rss_kib(proc.pid) / 1024:.1f}")
        api = f"{url}/api/v4/projects/1"
        calls = {
            "mr_list_100": f"{api}/merge_requests?state=opened&order_by=updated_at&sort=desc&per_page=100",
            "mr_delta_empty": f"{api}/merge_requests?state=all&updated_after=2999-01-01T00:00:00Z&per_page=100",
            "pipelines_20": f"{api}/pipelines?order_by=id&sort=desc&per_page=20",
            "pipeline_jobs": f"{api}/pipelines/7500/jobs?per_page=100",
            "job_trace": f"{api}/jobs/31000/trace",
            "project_jobs_failed": f"{api}/jobs?scope[]=failed&per_page=100",
        }
        for name, u in calls.items():
            times, size = [], 0
            for _ in range(a.rounds):
                s = time.perf_counter()
                try:
                    with opener.open(u, timeout=30) as r:
                        size = len(r.read())
                except urllib.error.HTTPError as e:
                    size = len(e.read())
                times.append((time.perf_counter() - s) * 1000)
            times.sort()
            p95 = times[int(len(times) * 0.95) - 1]
            print(f"{name}: median_ms={statistics.median(times):.2f} p95_ms={p95:.2f} bytes={size}")
        # walk every MR page (what a full reconcile costs the server)
        s = time.perf_counter()
        pages = 0
        for page in range(1, a.scale // 100 + 2):
            with opener.open(f"{api}/merge_requests?state=all&per_page=100&page={page}", timeout=30) as r:
                r.read()
                pages += 1
        print(f"all_mr_pages={pages} total_ms={(time.perf_counter() - s) * 1000:.1f}")
        print(f"rss_after_requests_mib={rss_kib(proc.pid) / 1024:.1f}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
