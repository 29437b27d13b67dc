"""GitLab runner trace framing and the labelling helpers of the CI-log corpus.

A job's script runs for real (see gen.py); this module wraps its output the way
gitlab-runner 16/17 writes a job trace: the runner preamble, `section_start`/`section_end`
markers with `\\r\\e[0K`, ANSI colours, `$ cmd` echoes, after_script, artifact upload, the
cleanup section and the final `ERROR: Job failed: exit code N`. Optionally with
FF_TIMESTAMPS prefixes (`2026-01-21T09:49:05.237211Z 01O `, `+` for the continuation of a
line split at `\\r`), as runner 17 writes them.
"""

import hashlib
import random
import re

ESC = "\x1b"
R = ESC + "[0;m"
CYAN = ESC + "[36;1m"
GREEN = ESC + "[32;1m"
RED = ESC + "[31;1m"
YELLOW = ESC + "[0;33m"
EL = ESC + "[0K"

ANSI = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


class Trace:
    """Builds a trace as logical lines; each logical line may hold `\\r` (marker joins)."""

    def __init__(self, name, seed_text, start_ts, timestamps=False):
        self.rng = random.Random(hashlib.sha256(seed_text.encode()).digest())
        self.ts = start_ts
        self.lines = []  # (stream, text) text without the final \n
        self.pending = ""  # a marker prefix waiting for the next line (section_end ... \r\e[0K)
        self.timestamps = timestamps
        self.name = name
        self.micro = self.rng.randrange(10**6)

    def hex(self, n):
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def tick(self, secs):
        self.ts += secs

    def raw(self, text, stream="00O"):
        self.lines.append((stream, self.pending + text))
        self.pending = ""

    def out(self, text):
        """Script output (one logical line, no newline)."""
        self.raw(text, "01O")

    def start(self, name, header, opts=""):
        self.pending += f"section_start:{self.ts}:{name}{opts}\r{EL}"
        self.raw(f"{EL}{CYAN}{header}{R}{R}")

    def end(self, name):
        self.pending += f"section_end:{self.ts}:{name}\r{EL}"

    def flush(self):
        if self.pending:
            self.raw("")

    def render(self):
        self.flush()
        out = []
        t = self.ts_base if hasattr(self, "ts_base") else None
        for i, (stream, text) in enumerate(self.lines):
            if not self.timestamps:
                out.append(text + "\n")
                continue
            # The runner splits a line at `\r` and flags the continuation with `+`.
            parts = text.split("\r")
            for j, p in enumerate(parts):
                self.micro += self.rng.randrange(20, 4000)
                stamp = self._stamp(i)
                flag = "+" if j > 0 else " "
                body = p if j == 0 else p
                out.append(f"{stamp} {stream}{flag}{body}\n")
        return "".join(out).encode("utf-8", "surrogateescape")

    def _stamp(self, i):
        secs = self.ts + self.micro // 10**6
        frac = self.micro % 10**6
        import datetime

        d = datetime.datetime.fromtimestamp(secs, datetime.timezone.utc)
        return d.strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:06d}Z"


def prologue(t, job):
    v = job.get("runner", "17.11.1 (96856197)")
    t.raw(f"{EL}Running with gitlab-runner {v}{R}")
    t.raw(f"{EL}  on {job['runner_name']} t3_{t.hex(6)}, system ID: s_{t.hex(12)}{R}")
    if job.get("feature_flags"):
        t.raw(f"{EL}  feature flags: {job['feature_flags']}{R}")
    t.start("prepare_executor", f'Preparing the "{job.get("executor", "docker")}" executor')
    image = job["image"]
    t.raw(f"{EL}Using Docker executor with image {image} ...{R}")
    for svc in job.get("services", []):
        t.raw(f"{EL}Starting service {svc} ...{R}")
        t.raw(f"{EL}Pulling docker image {svc} ...{R}")
        t.raw(f"{EL}Using docker image sha256:{t.hex(64)} for {svc} with digest {svc.split(':')[0]}@sha256:{t.hex(64)} ...{R}")
    if job.get("services"):
        t.raw(f"{EL}Waiting for services to be up and running (timeout 30 seconds)...{R}")
    t.raw(f"{EL}Pulling docker image {image} ...{R}")
    t.raw(f"{EL}Using docker image sha256:{t.hex(64)} for {image} with digest {image.split(':')[0]}@sha256:{t.hex(64)} ...{R}")
    t.tick(t.rng.randrange(3, 40))
    t.end("prepare_executor")
    t.start("prepare_script", "Preparing environment")
    t.raw(f"Running on runner-{t.hex(8)}-project-{job['project_id']}-concurrent-0 via {job['runner_name']}...")
    t.tick(t.rng.randrange(1, 4))
    t.end("prepare_script")


def sources(t, job):
    t.start("get_sources", "Getting source from Git repository")
    t.raw(f"{GREEN}Fetching changes with git depth set to 20...{R}")
    t.raw(f"Initialized empty Git repository in {job['dir']}/.git/")
    t.raw(f"{GREEN}Created fresh repository.{R}")
    t.raw(f"{GREEN}Checking out {t.hex(8)} as detached HEAD (ref is {job.get('ref', 'main')})...{R}")
    t.raw("")
    t.raw(f"{GREEN}Skipping Git submodules setup{R}")
    t.tick(t.rng.randrange(1, 6))
    t.end("get_sources")
    if job.get("cache"):
        t.start("restore_cache", "Restoring cache", "[collapsed=true]")
        key = job["cache"]
        t.raw(f"{GREEN}Checking cache for {key}-protected...{R}")
        t.raw(f"Downloading cache from https://storage.googleapis.com/acme-runner-cache/project/{job['project_id']}/{key}-protected{R}  ETag=\"{t.hex(32)}\"")
        t.raw(f"{GREEN}Successfully extracted cache{R}")
        t.tick(t.rng.randrange(1, 9))
        t.end("restore_cache")


def step_script_header(t, job):
    t.start("step_script", 'Executing "step_script" stage of the job script')
    image = job["image"]
    t.raw(f"{EL}Using docker image sha256:{t.hex(64)} for {image} with digest {image.split(':')[0]}@sha256:{t.hex(64)} ...{R}")


def epilogue(t, job, after_output, exit_line):
    """after_script (its output already captured), artifacts, cleanup, the final status."""
    t.end("step_script")
    if after_output is not None:
        t.start("after_script", "Running after_script")
        t.raw(f"{GREEN}Running after script...{R}", "01O")
        for stream, line in after_output:
            t.lines.append((stream, t.pending + line))
            t.pending = ""
        t.tick(1)
        t.end("after_script")
    if job.get("artifacts"):
        t.start("upload_artifacts_on_failure", "Uploading artifacts for failed job")
        t.raw(f"{GREEN}Uploading artifacts...{R}")
        for a in job["artifacts"]:
            t.raw(f"{a}: found {t.rng.randrange(1, 40)} matching artifact files and directories{R} ")
        t.raw(
            f"Uploading artifacts as \"archive\" to coordinator... 201 Created{R}  id{R}={job['job_id']} "
            f"responseStatus{R}=201 Created token{R}=glcbt-64"
        )
        t.tick(2)
        t.end("upload_artifacts_on_failure")
    t.start("cleanup_file_variables", "Cleaning up project directory and file based variables")
    t.tick(1)
    t.end("cleanup_file_variables")
    t.raw(f"{RED}{exit_line}")
    t.raw(R)


def plain(line):
    """Plain text of one logical line, like LogIndex::plain: a tiny terminal where `\\r`
    returns to column 0, `\\e[K`/`\\e[0K` erase to the end, other escapes are dropped."""
    buf = []
    cur = 0
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\r":
            cur = 0
            i += 1
            continue
        if c == "\x1b":
            m = ANSI.match(line, i)
            if m:
                seq = m.group(0)
                if seq in ("\x1b[K", "\x1b[0K"):
                    del buf[cur:]
                i = m.end()
                continue
            i += 1
            continue
        # Other control characters (a vertical tab a CSV carried into an error message) move
        # a terminal's cursor or do nothing: LogIndex shows none of them.
        if (c < " " and c != "\t") or "\x7f" <= c <= "\x9f":
            i += 1
            continue
        if cur < len(buf):
            buf[cur] = c
        else:
            buf.append(c)
        cur += 1
        i += 1
    return "".join(buf)


TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z [0-9a-f]{2}[OE][ +]")


def logical_lines(data):
    """The trace's logical lines as LogIndex counts them (timestamp continuations joined)."""
    text = data.decode("utf-8", "replace")
    phys = text.split("\n")
    if phys and phys[-1] == "":
        phys.pop()
    out = []
    for p in phys:
        m = TS_RE.match(p)
        if m:
            body = p[m.end():]
            if m.group(0)[-1] == "+" and out:
                out[-1] += body  # appended to the previous logical line
                continue
            out.append(body)
        else:
            out.append(p)
    return out
