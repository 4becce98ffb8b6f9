"""Killing a task (SIGTERM, then SIGKILL after the grace period) and relaunching a task that
exits, with Marathon's backoff."""
import time

from helpers import app_def, pid_alive, task_pids, wait_until


def test_kill_sends_term_then_kill_after_grace_period(one):
    api, agent = one.m.api, one.a
    # The shell ignores TERM (records it) and keeps looping: only SIGKILL stops it.
    cmd = ("trap 'echo got-term >> term.log' TERM; echo ready > ready.txt; "
           "while true; do sleep 0.05; done")
    app = app_def("/stubborn", cmd, taskKillGracePeriodSeconds=3)
    assert api.post("/v2/apps", app).status_code == 201
    r = api.get("/v2/apps/stubborn")
    assert r.json()["app"]["taskKillGracePeriodSeconds"] == 3
    t = api.wait_running("/stubborn", 1)[0]
    sb = agent.sandbox(t["id"])
    wait_until(lambda: (sb / "ready.txt").exists(), 10, what="task ready")
    pids = wait_until(lambda: task_pids(t["id"]), 10, what="task processes")
    t0 = time.monotonic()
    r = api.delete("/v2/apps/stubborn")
    assert r.status_code == 200
    wait_until(lambda: (sb / "term.log").exists() and "got-term" in (sb / "term.log").read_text(),
               5, what="SIGTERM delivered to the task")
    term_at = time.monotonic() - t0
    assert term_at < 2.0, "SIGTERM took %.1fs" % term_at
    time.sleep(1.0)  # observing that the task is still alive inside the grace period
    assert any(pid_alive(p) for p in pids), "killed before the grace period ended"
    wait_until(lambda: not any(pid_alive(p) for p in pids), 10, what="SIGKILL after grace")
    dead_at = time.monotonic() - t0
    assert 2.5 <= dead_at <= 7.0, "task died after %.1fs, grace period 3s" % dead_at


def test_kill_of_a_cooperative_task_is_quick_and_killed(one):
    api = one.m.api
    app = app_def("/quick", "exec sleep 3600", taskKillGracePeriodSeconds=30)
    assert api.post("/v2/apps", app).status_code == 201
    t = api.wait_running("/quick", 1)[0]
    pids = wait_until(lambda: task_pids(t["id"]), 10, what="task processes")
    t0 = time.monotonic()
    r = api.delete("/v2/apps/quick/tasks/%s" % t["id"], params={"scale": "true"})
    assert r.status_code == 200, r.text
    wait_until(lambda: not any(pid_alive(p) for p in pids), 5, what="task gone")
    assert time.monotonic() - t0 < 3.0
    api.wait_running("/quick", 0)
    assert api.app("/quick")["instances"] == 0


def test_exiting_task_is_relaunched_with_backoff(one):
    api = one.m.api
    log = one.workdir / "launches.txt"
    cmd = "date +%%s.%%N >> %s; echo failing >&2; exit 3" % log
    app = app_def("/crashy", cmd, backoffSeconds=1, backoffFactor=2, maxLaunchDelaySeconds=300)
    assert api.post("/v2/apps", app).status_code == 201

    def launches():
        if not log.exists():
            return []
        return [float(x) for x in log.read_text().split()]
    ts = wait_until(lambda: (lambda l: l if len(l) >= 4 else None)(launches()), 25,
                    what="4 launches")
    d = [b - a for a, b in zip(ts, ts[1:])]
    # expected about 1, 2, 4 s (backoffSeconds 1, factor 2); allow scheduling slack
    assert 0.7 <= d[0] <= 2.5, d
    assert d[1] >= d[0] * 1.4, d
    assert d[2] >= d[1] * 1.4, d
    assert 2.8 <= d[2] <= 7.0, d

    app = api.app("/crashy")
    f = app.get("lastTaskFailure")
    assert f, app
    assert f["state"] == "TASK_FAILED"
    assert "3" in f["message"] and "exit" in f["message"].lower(), f["message"]
    assert f["appId"] == "/crashy"
    # the queue shows the waiting relaunch with its delay at some point
    q = wait_until(lambda: [e for e in api.queue() if e["app"]["id"] == "/crashy"], 10,
                   what="/crashy in /v2/queue")
    assert q[0]["count"] == 1
    assert "delay" in q[0] and "timeLeftSeconds" in q[0]["delay"]


def test_finished_task_is_relaunched(one):
    api = one.m.api
    log = one.workdir / "runs.txt"
    app = app_def("/oneshot", "echo run >> %s; exit 0" % log, backoffSeconds=1)
    assert api.post("/v2/apps", app).status_code == 201
    wait_until(lambda: log.exists() and len(log.read_text().split()) >= 2, 15,
               what="a finished task relaunched")
