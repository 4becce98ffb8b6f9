"""Per-instance jobs (docs/jobs.md, "Per-instance jobs"): a job attached to an app
("app", "perInstance": true) runs its command once in each running instance of the app, one
at a time, in the instance's environment, sandbox, namespaces and cgroup; each run's output is
in its own sandbox (berth logs) and linked into the instance's; an instance that is not
running when its turn comes is skipped and recorded."""
import os
import time
from pathlib import Path

import pytest

from helpers import app_def, kill_task_processes, wait_until
from test_isolation import all_cg_dirs, need

P = "/scheduler"

# Each run writes a marker into $MESOS_SANDBOX (the instance's sandbox): which instance's
# environment it saw, where it ran, and when it started and ended (to prove no overlap).
CMD = ('echo "task=$MESOS_TASK_ID role=$ROLE run=$BERTH_JOB_TASK_ID pwd=$(pwd) '
       'sandbox=$MESOS_SANDBOX start=$(date +%s.%N)" > "$MESOS_SANDBOX/job-marker"; '
       'cat /proc/self/cgroup > "$MESOS_SANDBOX/job-cgroup"; '
       'readlink /proc/self/ns/pid > "$MESOS_SANDBOX/job-pidns"; '
       'echo "hello from $MESOS_TASK_ID"; sleep SLEEP; '
       'echo "end=$(date +%s.%N)" >> "$MESOS_SANDBOX/job-marker"')


def job(api, name):
    r = api.get(P + "/job/" + name)
    assert r.status_code == 200, r.text
    return r.json()


def history(api, name):
    r = api.get("/api/berth/jobs/%s/history" % name)
    assert r.status_code == 200, r.text
    return r.json()


def marker(sandbox):
    kv = {}
    for ln in (sandbox / "job-marker").read_text().split("\n"):
        for w in ln.split():
            k, _, v = w.partition("=")
            kv[k] = v
    return kv


def start_app(m, n=3, **kw):
    app = app_def("/cass", "exec sleep 3600", instances=n, env={"ROLE": "cassandra"}, **kw)
    assert m.api.post("/v2/apps", app).status_code == 201
    ts = m.api.wait_running("/cass", n)
    return sorted(ts, key=lambda t: t["id"])


def post_job(m, sleep=1, **kw):
    body = {"name": "repair", "command": CMD.replace("SLEEP", str(sleep)),
            "schedule": "R1//PT1H", "app": "/cass", "perInstance": True, "retries": 0}
    body.update(kw)
    r = m.api.post(P + "/iso8601", body)
    assert r.status_code == 204, r.text


def check_runs(cluster, tasks, hist_runs):
    """Every instance ran once, in its own sandbox and environment, none overlapping."""
    sb = cluster.a.work_dir / "sandboxes"
    spans = []
    by_inst = {r["instanceTaskId"]: r for r in hist_runs}
    for t in tasks:
        s = sb / t["id"]
        kv = marker(s)
        assert kv["task"] == t["id"], kv
        assert kv["role"] == "cassandra"
        assert kv["pwd"] == str(s) and kv["sandbox"] == str(s), kv
        run = by_inst[t["id"]]
        assert run["result"] == "TASK_FINISHED" and kv["run"] == run["taskId"], (run, kv)
        spans.append((float(kv["start"]), float(kv["end"])))
        # the run's stdout: in its own sandbox (berth logs) and linked into the instance's
        own = sb / run["taskId"] / "stdout"
        linked = s / "jobs" / run["taskId"] / "stdout"
        assert own.read_text() == linked.read_text() == "hello from %s\n" % t["id"]
        assert os.stat(own).st_ino == os.stat(linked).st_ino
        rc, out, err = cluster.cli("logs", run["taskId"])
        assert rc == 0 and "hello from %s" % t["id"] in out, (rc, out, err)
        # and through the files API, in the instance's sandbox
        r = cluster.a.api.get("/files/read", params={
            "path": "%s/jobs/%s/stdout" % (t["id"], run["taskId"]), "offset": 0,
            "length": 1000})
        assert r.status_code == 200 and r.json()["data"] == "hello from %s\n" % t["id"], r.text
    spans.sort()
    for (s0, e0), (s1, _) in zip(spans, spans[1:]):
        assert e0 <= s1, ("runs overlap", spans)


def test_per_instance_job_runs_in_each_instance_one_at_a_time(one):
    m = one.m
    tasks = start_app(m)
    post_job(m)
    j = wait_until(lambda: (lambda j: j if j["successCount"] == 3 else None)(job(m.api, "repair")),
                   40, what="three instance runs")
    assert j["errorCount"] == 0 and j["app"] == "/cass" and j["perInstance"] is True
    h = history(m.api, "repair")
    runs = h["runs"]
    assert sorted(r["instanceTaskId"] for r in runs) == [t["id"] for t in tasks]
    check_runs(one, tasks, runs)
    # the app's tasks were not touched: same three, still running
    assert sorted(t["id"] for t in m.api.running("/cass")) == [t["id"] for t in tasks]


def test_an_instance_not_running_is_skipped_and_recorded(one):
    m = one.m
    tasks = start_app(m)
    order = sorted(tasks, key=lambda t: t["id"])
    post_job(m, sleep=4)
    api = m.api

    def first_running():
        p = history(api, "repair")["pending"]
        return p if p and p[0]["state"] == "TASK_RUNNING" else None
    wait_until(first_running, 20, what="the first instance's run running")
    # The last instance dies while the first one's run goes on: its task is gone (Marathon
    # replaces it under a new id) by the time its turn comes.
    victim = order[-1]  # instances run in index order, then by task id: the last one
    assert kill_task_processes(victim["id"])
    j = wait_until(lambda: (lambda j: j if j["successCount"] + j["errorCount"] >= 2 and
                            not history(api, "repair")["pending"] else None)(job(api, "repair")),
                   40, what="the run over")
    h = history(api, "repair")
    res = {r["instanceTaskId"]: r["result"] for r in h["runs"]}
    assert len(res) == 3, h
    assert res.pop(victim["id"]) == "SKIPPED", h
    assert sorted(res.values()) == ["TASK_FINISHED", "TASK_FINISHED"], h
    assert j["successCount"] == 2 and j["errorCount"] == 0 and h["skipCount"] == 1


def test_master_kill9_mid_run_neither_repeats_nor_skips_an_instance(one):
    """The master dies (kill -9) while the second instance's run goes on: after the restart
    the run goes on where it was; every instance ran exactly once."""
    m = one.m
    tasks = start_app(m)
    cmd = 'echo "$MESOS_TASK_ID $BERTH_JOB_TASK_ID" >> "$MESOS_SANDBOX/runs"; sleep 3'
    assert m.api.post(P + "/iso8601", {"name": "repair", "command": cmd, "retries": 0,
                                       "schedule": "R1//PT1H", "app": "/cass",
                                       "perInstance": True}).status_code == 204

    def second_running():
        p = history(m.api, "repair")["pending"]
        return p and (p[0]["taskId"] or "").endswith(":i1") and p[0]["state"] == "TASK_RUNNING"
    wait_until(second_running, 30, what="the second instance's run running")
    m.restart()
    one.a.ready()
    j = wait_until(lambda: (lambda j: j if j["successCount"] == 3 else None)(job(m.api, "repair")),
                   40, what="all three instance runs counted after the restart")
    assert j["errorCount"] == 0
    time.sleep(1)
    assert not history(m.api, "repair")["pending"]
    sb = one.a.work_dir / "sandboxes"
    for i, t in enumerate(tasks):
        lines = (sb / t["id"] / "runs").read_text().split("\n")[:-1]
        assert len(lines) == 1, (t["id"], lines)
        tid, run = lines[0].split()
        assert tid == t["id"] and run.endswith(":i%d" % i), lines
    # the app's tasks were neither lost nor replaced by the failover
    assert sorted(t["id"] for t in m.api.running("/cass")) == [t["id"] for t in tasks]


def test_a_second_run_waits_for_the_first(one):
    """A run now while a run goes through the instances waits its turn: never two instances
    at once, each instance once per run."""
    m = one.m
    tasks = start_app(m)
    cmd = ('echo "$BERTH_JOB_TASK_ID s $(date +%s.%N)" >> "$MESOS_SANDBOX/spans"; sleep 1; '
           'echo "$BERTH_JOB_TASK_ID e $(date +%s.%N)" >> "$MESOS_SANDBOX/spans"')
    assert m.api.post(P + "/iso8601", {"name": "repair", "command": cmd, "retries": 0,
                                       "schedule": "R1//PT1H", "app": "/cass",
                                       "perInstance": True}).status_code == 204
    wait_until(lambda: (lambda p: p and p[0]["state"] == "TASK_RUNNING")(
        history(m.api, "repair")["pending"]), 20, what="the first run running")
    assert m.api.put(P + "/job/repair").status_code == 204
    wait_until(lambda: job(m.api, "repair")["successCount"] == 6 or None, 60,
               what="two runs through three instances")
    spans = []
    sb = one.a.work_dir / "sandboxes"
    for t in tasks:
        by_run = {}
        for ln in (sb / t["id"] / "spans").read_text().splitlines():
            run, what, ts = ln.split()
            by_run.setdefault(run, {})[what] = float(ts)
        assert len(by_run) == 2, by_run
        spans += [(v["s"], v["e"]) for v in by_run.values()]
    spans.sort()
    for (s0, e0), (s1, _) in zip(spans, spans[1:]):
        assert e0 <= s1, ("runs overlap", spans)


def test_killing_the_job_stops_the_run_at_its_instance(one):
    m = one.m
    tasks = start_app(m)
    post_job(m, sleep=60)
    api = m.api

    def first_running():
        p = history(api, "repair")["pending"]
        return p if p and p[0]["state"] == "TASK_RUNNING" else None
    wait_until(first_running, 20, what="the first instance's run running")
    assert api.delete(P + "/task/kill/repair").status_code == 204
    wait_until(lambda: not history(api, "repair")["pending"], 20, what="the run gone")
    j = job(api, "repair")
    assert j["successCount"] == 0 and j["errorCount"] == 1
    runs = history(api, "repair")["runs"]
    assert [(r["instanceTaskId"], r["result"]) for r in runs] == [(tasks[0]["id"], "TASK_KILLED")]
    sb = one.a.work_dir / "sandboxes"
    time.sleep(1)
    assert not any((sb / t["id"] / "job-marker").exists() for t in tasks[1:])
    # the instance itself was not touched by the kill
    assert sorted(t["id"] for t in m.api.running("/cass")) == [t["id"] for t in tasks]


def test_validation(one):
    api = one.m.api
    base = {"name": "v", "command": "true", "schedule": "R/2030-01-01T00:00:00Z/PT1H"}
    for change, words in [({"perInstance": True}, "'perInstance' needs 'app'"),
                          ({"app": "/x"}, "'app' is only used with 'perInstance'"),
                          ({"app": 5, "perInstance": True}, "'app' must be"),
                          ({"app": "/x", "perInstance": "yes"}, "'perInstance' must be")]:
        b = dict(base)
        b.update(change)
        r = api.post(P + "/iso8601", b)
        assert r.status_code == 400 and words in r.json()["message"], (change, r.text)
    assert api.get(P + "/jobs").json() == []


def test_per_instance_job_inside_the_instance_namespaces_and_cgroup(cluster, request):
    """With --isolation cgroups,namespaces: the run is in the instance's pid namespace and
    cgroup (it counts against the instance's limits)."""
    need("memory", "cpu", "pids")
    parent = "berth-itest-%d-pi" % os.getpid()
    cluster.master()
    cluster.agent(extra=["--isolation", "cgroups,namespaces", "--cgroups-parent", parent])
    try:
        m = cluster.m
        tasks = start_app(m)
        post_job(m)
        wait_until(lambda: job(m.api, "repair")["successCount"] == 3 or None, 40,
                   what="three instance runs")
        runs = history(m.api, "repair")["runs"]
        check_runs(cluster, tasks, runs)
        sb = cluster.a.work_dir / "sandboxes"
        for t in tasks:
            pid = wait_until(lambda: [p for p in __import__("helpers").task_pids(t["id"])
                                      if Path("/proc/%d/cmdline" % p).read_bytes()
                                      .startswith(b"sleep")], 10)[0]
            assert (sb / t["id"] / "job-pidns").read_text().strip() == \
                os.readlink("/proc/%d/ns/pid" % pid)
            assert os.readlink("/proc/%d/ns/pid" % pid) != os.readlink("/proc/self/ns/pid")
            cg = (sb / t["id"] / "job-cgroup").read_text()
            assert "%s/%s" % (parent, t["id"]) in cg, cg
            # the run's cgroup was the instance's; none of its own was left
            for d in all_cg_dirs(parent, runs[0]["taskId"]):
                assert not d.exists()
    finally:
        from test_isolation import remove_cgroups
        remove_cgroups(parent)
