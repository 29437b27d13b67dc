#!/usr/bin/env python3
"""python-gitlab conformance check against a running `gitaiops sim`.

A real GitLab client (python-gitlab, from PyPI) lists MRs, pipelines and jobs, reads a trace,
retries a job, posts a note and changes labels against the simulator, then checks that the state
changed and that the simulator's request log saw exactly those writes.

Usage: conformance.py [BASE_URL]   (or GITAIOPS_SIM_URL); token from GITAIOPS_SIM_TOKEN.
Prints one line per check and a summary `N passed, M failed`; exits 1 on any failure.
"""

import json
import os
import sys
import traceback
import urllib.request

import gitlab

URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("GITAIOPS_SIM_URL", "")
TOKEN = os.environ.get("GITAIOPS_SIM_TOKEN", "conformance-token")
PROJECT = "acme/platform"

results = []


def check(name):
    def wrap(fn):
        try:
            fn()
            results.append((name, None))
            print(f"ok   {name}")
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
            results.append((name, e))
            print(f"FAIL {name}: {type(e).__name__}: {e}")
            if os.environ.get("CONFORMANCE_VERBOSE"):
                traceback.print_exc()
        return fn

    return wrap


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def sim_get(path):
    # The control endpoints are not GitLab API; plain urllib, no proxy for loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(URL.rstrip("/") + path, timeout=10) as r:
        return json.loads(r.read())


def main():
    if not URL:
        print("usage: conformance.py BASE_URL (or set GITAIOPS_SIM_URL)", file=sys.stderr)
        return 2
    gl = gitlab.Gitlab(URL, private_token=TOKEN, per_page=100, timeout=15)
    gl.session.trust_env = False  # loopback: never through a proxy
    state = {}

    @check("auth: GET /user with PRIVATE-TOKEN")
    def _():
        gl.auth()
        expect(gl.user.username == "dwhitfield", f"user is {gl.user.username}")

    @check("a wrong token is refused with 401")
    def _():
        bad = gitlab.Gitlab(URL, private_token="wrong-" + TOKEN)
        bad.session.trust_env = False
        try:
            bad.auth()
        except gitlab.exceptions.GitlabAuthenticationError as e:
            expect(e.response_code == 401, f"code {e.response_code}")
            return
        raise AssertionError("wrong token accepted")

    @check("project by URL-encoded path")
    def _():
        p = gl.projects.get(PROJECT)
        expect(p.id == 1, f"id {p.id}")
        expect(p.default_branch == "main", p.default_branch)
        expect(p.path_with_namespace == PROJECT, p.path_with_namespace)
        state["project"] = p

    project = state.get("project") or gl.projects.get(1)

    @check("membership projects list")
    def _():
        ps = gl.projects.list(membership=True, get_all=True)
        expect([p.path_with_namespace for p in ps] == [PROJECT], [p.path_with_namespace for p in ps])

    @check("members/all")
    def _():
        ms = project.members_all.list(get_all=True)
        expect(len(ms) >= 8, f"{len(ms)} members")
        expect(all(isinstance(m.access_level, int) for m in ms), "access_level is an int")

    @check("open MRs across pages (per_page=4, Link pagination)")
    def _():
        lazy = project.mergerequests.list(state="opened", per_page=4, iterator=True)
        mrs = list(lazy)
        expect(lazy.total == len(mrs), f"x-total {lazy.total} vs {len(mrs)} listed")
        expect(len(mrs) >= 15, f"{len(mrs)} open MRs")
        expect(len({m.iid for m in mrs}) == len(mrs), "no duplicates across pages")
        expect(all(m.state == "opened" for m in mrs), "state filter")
        expect(not hasattr(mrs[0], "head_pipeline"), "list items are slim")
        state["open_count"] = len(mrs)

    @check("single MR: mergeable, changes_count string, head_pipeline")
    def _():
        mr = project.mergerequests.get(9)
        expect(mr.detailed_merge_status == "mergeable", mr.detailed_merge_status)
        expect(isinstance(mr.changes_count, str), type(mr.changes_count))
        expect(mr.head_pipeline["status"] == "success", mr.head_pipeline["status"])
        expect(mr.diff_refs["head_sha"] == mr.sha, "diff_refs.head_sha == sha")

    @check("MR approvals")
    def _():
        a = project.mergerequests.get(7).approvals.get()
        expect(a.approvals_required == 2 and a.approvals_left == 1, (a.approvals_required, a.approvals_left))
        expect(len(a.approved_by) == 1, a.approved_by)

    @check("MR list filters: updated_after, iids[], order_by")
    def _():
        got = project.mergerequests.list(iids=[8, 9, 10], order_by="updated_at", sort="asc", get_all=True)
        expect(sorted(m.iid for m in got) == [8, 9, 10], [m.iid for m in got])
        times = [m.updated_at for m in got]
        expect(times == sorted(times), "ascending updated_at")
        none = project.mergerequests.list(updated_after="2999-01-01T00:00:00Z", get_all=True)
        expect(none == [], f"{len(none)} MRs updated in the future")

    @check("pipelines list, single pipeline")
    def _():
        pls = project.pipelines.list(get_all=True)
        expect(len(pls) >= 20, f"{len(pls)} pipelines")
        ids = [p.id for p in pls]
        expect(ids == sorted(ids, reverse=True), "newest first")
        failed = project.pipelines.list(status="failed", get_all=True)
        expect(failed and all(p.status == "failed" for p in failed), "status filter")
        pl = project.pipelines.get(project.mergerequests.get(9).head_pipeline["id"])
        expect(isinstance(pl.coverage, str), f"coverage {pl.coverage!r}")
        expect(isinstance(pl.duration, int), f"duration {pl.duration!r}")
        expect(pl.detailed_status["group"] == "success", pl.detailed_status)

    @check("pipeline jobs and project jobs with scope[]")
    def _():
        mr = project.mergerequests.get(10)
        pl = project.pipelines.get(mr.head_pipeline["id"])
        jobs = pl.jobs.list(get_all=True)
        expect(len(jobs) >= 4, f"{len(jobs)} jobs")
        flaky = [j for j in jobs if j.status == "failed"]
        expect(len(flaky) == 1 and flaky[0].failure_reason == "runner_system_failure",
               [(j.name, j.status, getattr(j, "failure_reason", None)) for j in jobs])
        expect(isinstance(flaky[0].duration, float), f"job duration {flaky[0].duration!r}")
        state["flaky_job"] = flaky[0].id
        state["flaky_pipeline"] = pl.id
        failed = project.jobs.list(scope=["failed"], get_all=True)
        expect(failed and all(j.status == "failed" for j in failed), "scope filter")
        expect(state["flaky_job"] in [j.id for j in failed], "flaky job among failed jobs")

    @check("job trace is bytes with sections and a verdict")
    def _():
        job = project.jobs.get(state["flaky_job"])
        log = job.trace()
        expect(isinstance(log, bytes), type(log))
        expect(b"\x1b[0Ksection_start:" in log, "section markers")
        expect(b"ERROR: Job failed (system failure)" in log, "verdict line")

    @check("retry a job: new pending job, old one retried")
    def _():
        job = project.jobs.get(state["flaky_job"])
        new = job.retry()
        expect(new["id"] != job.id, "retry returns a new job id")
        expect(new["status"] == "pending", new["status"])
        expect(new["name"] == job.name, new["name"])
        pl = project.pipelines.get(state["flaky_pipeline"])
        visible = [j.id for j in pl.jobs.list(get_all=True)]
        expect(new["id"] in visible and job.id not in visible, "retried job hidden by default")
        every = [j.id for j in pl.jobs.list(get_all=True, include_retried=True)]
        expect(job.id in every, "include_retried shows the old attempt")
        expect(pl.status in ("running", "pending"), f"pipeline restarted: {pl.status}")
        state["retried_job"] = new["id"]

    @check("post a note; it appears and counts")
    def _():
        mr = project.mergerequests.get(8)
        before = mr.user_notes_count
        note = mr.notes.create({"body": "conformance: looking at the JPY rounding failure"})
        expect(note.body.startswith("conformance:"), note.body)
        expect(note.noteable_type == "MergeRequest", note.noteable_type)
        notes = mr.notes.list(get_all=True)
        expect(note.id in [n.id for n in notes], "note listed")
        expect(project.mergerequests.get(8).user_notes_count == before + 1, "user_notes_count grew")

    @check("empty note body is refused with 400")
    def _():
        try:
            project.mergerequests.get(8).notes.create({"body": ""})
        except gitlab.exceptions.GitlabCreateError as e:
            expect(e.response_code == 400, e.response_code)
            return
        raise AssertionError("empty note accepted")

    @check("update labels and reviewers with save()")
    def _():
        mr = project.mergerequests.get(11)
        mr.labels = mr.labels + ["needs-review"]
        mr.reviewer_ids = [12]
        mr.save()
        again = project.mergerequests.get(11)
        expect("needs-review" in again.labels, again.labels)
        expect([r["username"] for r in again.reviewers] == ["priya"], again.reviewers)

    @check("merge: wrong sha is 409, unmergeable is 405, ready MR merges")
    def _():
        ready = project.mergerequests.get(9)
        try:
            ready.merge(sha="0" * 40)
            raise AssertionError("merge with a stale sha accepted")
        except gitlab.exceptions.GitlabMRClosedError as e:
            expect(e.response_code == 409, e.response_code)
        try:
            project.mergerequests.get(6).merge()
            raise AssertionError("conflicting MR merged")
        except gitlab.exceptions.GitlabMRClosedError as e:
            expect(e.response_code == 405, e.response_code)
        ready.merge(sha=ready.sha)
        expect(project.mergerequests.get(9).state == "merged", "state is merged")
        open_now = project.mergerequests.list(state="opened", get_all=True)
        expect(len(open_now) == state.get("open_count", len(open_now) + 1) - 1, "one fewer open MR")

    @check("play is refused for a non-manual job")
    def _():
        job = project.jobs.get(state["retried_job"])
        try:
            job.play()
        except gitlab.exceptions.GitlabJobPlayError as e:
            expect(e.response_code == 400, e.response_code)
            return
        raise AssertionError("non-manual job played")

    @check("404 for a missing MR and a missing job")
    def _():
        for get in (lambda: project.mergerequests.get(99999), lambda: project.jobs.get(1)):
            try:
                get()
                raise AssertionError("found something that does not exist")
            except gitlab.exceptions.GitlabGetError as e:
                expect(e.response_code == 404, e.response_code)

    @check("CODEOWNERS raw file and commits by path")
    def _():
        raw = project.files.raw(file_path=".gitlab/CODEOWNERS", ref="main")
        expect(b"[Backend][2]" in raw and b"^[Docs]" in raw, raw[:80])
        # `path` is python-gitlab's own keyword (the URL), so the filter goes in query_parameters
        commits = project.commits.list(query_parameters={"path": "src/billing"}, get_all=True)
        expect(len(commits) >= 3, f"{len(commits)} commits")
        expect(all(c.author_email.endswith("@acme.dev") for c in commits), "author emails")

    @check("request log recorded exactly our writes")
    def _():
        reqs = sim_get("/-/sim/requests")
        writes = [(r["method"], r["path"]) for r in reqs if r["method"] != "GET"]
        expect(("POST", f"/api/v4/projects/1/jobs/{state['flaky_job']}/retry") in writes, writes)
        expect(sum(1 for m, p in writes if p.endswith("/notes")) == 2, "two note POSTs (one refused)")
        expect(sum(1 for m, p in writes if p.endswith("/merge")) == 3, "three merge PUTs")
        expect(all(m in ("POST", "PUT") for m, _ in writes), writes)
        expect(any("private" not in json.dumps(r).lower() for r in reqs), "tokens are not logged")

    failed = [n for n, e in results if e is not None]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
