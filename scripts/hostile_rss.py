#!/usr/bin/env python3
"""Peak memory of gitaiops under hostile GitLab answers (BENCHMARKS.md, "Hostile inputs").

A fake GitLab on loopback (standard library only) answers one scenario at a time; the binary
runs as a child process and its peak RSS comes from wait4() (ru_maxrss), the TUI's from
/proc/<pid>/status (VmHWM) while it runs in a tmux pty. Nothing is asserted: the figures are
printed, one line per scenario, for the table in BENCHMARKS.md.

    cargo build && python3 scripts/hostile_rss.py --bin target/debug/gitaiops
    python3 scripts/hostile_rss.py --bin /path/to/older/gitaiops --only gzip-bomb,trace-200mb

Scenarios:
  gzip-bomb       GET /user answers ~1 MB of gzip that inflates to 1 GiB      (status)
  endless         the MR list streams JSON for up to 30 s without an end      (status)
  mrs-100k        100,000 real-shaped MRs in one page (~250 MB of JSON)        (status)
  mrs-100k-small  100,000 minimal MRs in one page (~14 MB: under the cap)      (status)
  mrs-100k-tui    the small page, in the TUI for 20 s                          (gitaiops, tmux)
  mrs-20k-paged   20,000 real-shaped MRs over 200 pages of 100 (GitLab's most) (status)
  mrs-20k-tui     the same, in the TUI for 20 s                                (gitaiops, tmux)
  trace-200mb     a 200 MB job log                                             (diagnose --job)
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MIB = 1024 * 1024
FIXTURES = Path(os.environ.get("FIXTURES", "/work/shared/fixtures/gitlab"))


def gzip_bomb(inflated: int, cache: Path) -> bytes:
    """`inflated` bytes of spaces as one gzip member, built in 1 MiB steps (cached)."""
    if cache.exists():
        return cache.read_bytes()
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = []
    block = b" " * MIB
    for _ in range(inflated // MIB):
        out.append(z.compress(block))
    out.append(z.flush())
    data = b"".join(out)
    cache.write_bytes(data)
    return data


def mr_template() -> dict:
    try:
        return json.loads((FIXTURES / "merge_requests_list.json").read_text())[0]
    except (OSError, ValueError, IndexError, KeyError):
        return {"title": "x" * 200, "description": "y" * 1500, "state": "opened"}


class Scenario:
    def __init__(self, name: str, bomb: bytes):
        self.name = name
        self.bomb = bomb
        self.mr = mr_template()


def make_handler(sc: Scenario):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *a):
            pass

        def send_json(self, obj, status=200):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def stream(self, content_type, chunks, gz=False):
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            if gz:
                self.send_header("Content-Encoding", "gzip")
            self.end_headers()
            try:
                for c in chunks:
                    self.wfile.write(c)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/api/v4/user":
                if sc.name == "gzip-bomb":
                    return self.stream("application/json", [sc.bomb], gz=True)
                return self.send_json({"id": 1, "username": "me", "name": "Me"})
            if re.fullmatch(r"/api/v4/projects/[^/]+", path):
                return self.send_json({"id": 1, "name": "app", "path_with_namespace": "acme/app",
                                       "default_branch": "main"})
            if path.endswith("/merge_requests"):
                if "updated_after" in self.path:
                    return self.send_json([])
                if sc.name == "endless":
                    deadline = time.time() + 30
                    item = json.dumps(sc.mr).encode() + b","

                    def forever():
                        yield b"["
                        while time.time() < deadline:
                            yield item * 64
                    return self.stream("application/json", forever())
                if sc.name == "mrs-100k":
                    def full():
                        yield b"["
                        for i in range(1, 100_001):
                            m = dict(sc.mr, id=i, iid=i, title=f"MR {i} " + sc.mr.get("title", ""))
                            yield (b"," if i > 1 else b"") + json.dumps(m).encode()
                        yield b"]"
                    return self.stream("application/json", full())
                if sc.name.startswith("mrs-20k"):
                    page = int((re.search(r"[?&]page=(\d+)", self.path) or [0, 1])[1])
                    items = [dict(sc.mr, id=i, iid=i, project_id=1, title=f"MR {i}")
                             for i in range((page - 1) * 100 + 1, page * 100 + 1)]
                    body = json.dumps(items).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    if page < 200:
                        host = self.headers.get("Host", "127.0.0.1")
                        self.send_header("Link", f'<http://{host}{path}?state=opened&per_page=100&page={page + 1}>; rel="next"')
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if sc.name.startswith("mrs-100k-"):
                    def small():
                        yield b"["
                        for i in range(1, 100_001):
                            yield (b"," if i > 1 else b"") + json.dumps(
                                {"id": i, "iid": i, "project_id": 1, "title": f"MR {i}", "state": "opened",
                                 "updated_at": "2026-01-01T00:00:00Z", "source_branch": f"b{i}",
                                 "target_branch": "main"}).encode()
                        yield b"]"
                    return self.stream("application/json", small())
                return self.send_json([])
            if path.endswith("/approvals"):
                return self.send_json({"approved": False, "approved_by": [],
                                       "user_has_approved": False, "user_can_approve": True})
            if path.endswith("/pipelines"):
                return self.send_json([])
            m = re.fullmatch(r"/api/v4/projects/[^/]+/jobs/(\d+)", path)
            if m:
                return self.send_json({"id": int(m.group(1)), "name": "build", "stage": "test",
                                       "status": "failed", "failure_reason": "script_failure",
                                       "pipeline": {"id": 9}})
            if path.endswith("/trace"):
                line = b"\x1b[0;m$ make -j8 all   compiling module with a fairly long log line\n"
                n = 200 * MIB // len(line)

                def log():
                    for i in range(0, n, 4096):
                        yield line * min(4096, n - i)
                    yield b"error: linker failed: undefined reference to `main'\n"
                return self.stream("text/plain", log())
            return self.send_json({"message": "404 Not found"}, 404)

    return H


def serve(sc: Scenario):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(sc))
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def env_for(state: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and not k.startswith("GITAIOPS")}
    env.update({
        "GITLAB_TOKEN": "glpat-benchmark-0000000000",
        "GITAIOPS_CONFIG": str(state / "absent.toml"),
        "GITAIOPS_STATE_DIR": str(state),
        "GITAIOPS_PROVIDER": "rules",
        "HOME": str(state),
    })
    env.pop("GEMINI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    return env


def run_child(bin_, args, env, timeout=300):
    t = time.time()
    p = subprocess.Popen([bin_] + args, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    killer = threading.Timer(timeout, p.kill)
    killer.start()
    err = p.stderr.read().decode(errors="replace")
    _, status, ru = os.wait4(p.pid, 0)
    killer.cancel()
    code = os.waitstatus_to_exitcode(status)
    return code, ru.ru_maxrss / 1024, time.time() - t, err.strip().splitlines()[-1:] or [""]


def run_tui(bin_, base, env, seconds=20):
    if not shutil.which("tmux"):
        return None, None, 0, ["tmux not installed"]
    sock = f"hostile-rss-{os.getpid()}"
    cmd = " ".join([bin_, "--gitlab-url", base, "--project", "acme/app"])
    envs = " ".join(f"{k}='{v}'" for k, v in env.items() if k.startswith(("GITLAB", "GITAIOPS", "HOME")))
    t = time.time()
    subprocess.run(["tmux", "-L", sock, "-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "40",
                    f"env {envs} {cmd}"], check=True)
    try:
        pid = int(subprocess.check_output(["tmux", "-L", sock, "list-panes", "-F", "#{pane_pid}"]).split()[0])
        hwm = 0
        end = time.time() + seconds
        while time.time() < end:
            try:
                s = Path(f"/proc/{pid}/status").read_text()
                hwm = max(hwm, int(re.search(r"VmHWM:\s+(\d+)", s).group(1)))
            except (OSError, AttributeError):
                break
            time.sleep(0.5)
        screen = subprocess.run(["tmux", "-L", sock, "capture-pane", "-p"], capture_output=True, text=True).stdout
        mrs = re.search(r"(\d[\d,]*) (?:open )?(?:MRs|merge requests)", screen)
        return 0, hwm / 1024, time.time() - t, [mrs.group(0) if mrs else screen.strip().splitlines()[0][:100] if screen.strip() else ""]
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)


SCENARIOS = {
    "gzip-bomb": lambda b: ["status"],
    "endless": lambda b: ["status"],
    "mrs-100k": lambda b: ["status"],
    "mrs-100k-small": lambda b: ["status"],
    "mrs-100k-tui": None,
    "mrs-20k-paged": lambda b: ["status"],
    "mrs-20k-tui": None,
    "trace-200mb": lambda b: ["diagnose", "--job", "7"],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/debug/gitaiops")
    ap.add_argument("--only", default="")
    ap.add_argument("--tui-seconds", type=int, default=20)
    ap.add_argument("--max-trace-mb", type=int, default=0,
                    help="sets [gitlab] max_trace_mb (GITAIOPS__GITLAB__MAX_TRACE_MB)")
    a = ap.parse_args()
    bin_ = str(Path(a.bin).resolve())
    names = [n for n in SCENARIOS if not a.only or n in a.only.split(",")]
    cache = Path(tempfile.gettempdir()) / "gitaiops-gzip-bomb-1g.gz"
    bomb = gzip_bomb(1024 * MIB, cache) if "gzip-bomb" in names else b""
    if bomb:
        print(f"# gzip bomb: {len(bomb)} bytes compressed, 1024 MiB inflated", flush=True)
    print(f"# binary: {bin_}", flush=True)
    print(f"{'scenario':16} {'exit':>4} {'peak RSS MiB':>12} {'seconds':>8}  last stderr line / screen")
    for name in names:
        sc = Scenario(name, bomb)
        srv = serve(sc)
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        with tempfile.TemporaryDirectory() as state:
            env = env_for(Path(state))
            if a.max_trace_mb:
                env["GITAIOPS__GITLAB__MAX_TRACE_MB"] = str(a.max_trace_mb)
            if SCENARIOS[name] is None:
                code, rss, secs, tail = run_tui(bin_, base, env, a.tui_seconds)
            else:
                args = SCENARIOS[name](base) + ["--gitlab-url", base, "--project", "acme/app"]
                code, rss, secs, tail = run_child(bin_, args, env)
        srv.shutdown()
        rss_s = f"{rss:12.1f}" if rss is not None else f"{'-':>12}"
        print(f"{name:16} {code if code is not None else '-':>4} {rss_s} {secs:8.1f}  {tail[0][:110]}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
