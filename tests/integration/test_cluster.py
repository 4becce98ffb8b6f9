"""Several agents, placement, an agent lost, a master killed with -9 and restarted."""
import time

from helpers import _proc_environ, app_def, app_pids, port_range, wait_until


def live_task_ids(app_id):
    ids = set()
    for p in app_pids(app_id):
        env = _proc_environ(p) or {}
        if "MESOS_TASK_ID" in env:
            ids.add(env["MESOS_TASK_ID"])
    return ids


def test_two_agents_attributes_and_hostname_unique(cluster):
    m = cluster.master()
    a = cluster.agent(hostname="node-a", attributes="rack:r1;dc:east")
    b = cluster.agent(hostname="node-b", attributes="rack:r2;dc:east")
    slaves = m.api.slaves()
    assert len(slaves) == 2
    sa, sb = a.slave(), b.slave()
    assert sa["hostname"] == "node-a" and sb["hostname"] == "node-b"
    assert sa["attributes"] == {"rack": "r1", "dc": "east"}
    assert sb["attributes"] == {"rack": "r2", "dc": "east"}
    assert sa["id"] != sb["id"] and sa["active"] and sb["active"]
    assert sa["pid"] == "slave(1)@%s" % a.addr
    assert sa["resources"]["cpus"] == 4 and sa["resources"]["mem"] == 4096
    assert "used_resources" in sa

    app = app_def("/uniq", "sleep 3600", instances=3, constraints=[["hostname", "UNIQUE"]])
    r = m.api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    assert r.json()["constraints"] == [["hostname", "UNIQUE"]]

    def two_placed():
        run = m.api.running("/uniq")
        return len(run) == 2 and run
    run = wait_until(two_placed, 20, what="2 of 3 placed")
    assert sorted(t["host"] for t in run) == ["node-a", "node-b"]
    q = wait_until(lambda: [e for e in m.api.queue() if e["app"]["id"] == "/uniq"], 10,
                   what="the third instance waiting in /v2/queue")
    assert q[0]["count"] == 1
    # used resources are accounted
    wait_until(lambda: a.slave()["used_resources"].get("cpus", 0) > 0, 10,
               what="used_resources on node-a")

    cluster.agent(hostname="node-c")
    run = m.api.wait_running("/uniq", 3, timeout=20)
    assert sorted(t["host"] for t in run) == ["node-a", "node-b", "node-c"]
    wait_until(lambda: not [e for e in m.api.queue() if e["app"]["id"] == "/uniq"], 10,
               what="queue empty")


def test_instance_that_fits_nowhere_waits_until_room_appears(cluster):
    m = cluster.master()
    lo, hi = port_range()
    cluster.agent(hostname="small",
                  resources="cpus(*):1; mem(*):40; disk(*):100; ports(*):[%d-%d]" % (lo, hi))
    app = app_def("/big", "sleep 3600", instances=3, mem=16)
    assert m.api.post("/v2/apps", app).status_code == 201
    # two fit in 40 MiB, the third waits
    wait_until(lambda: len(m.api.running("/big")) == 2, 20, what="2 placed")
    q = wait_until(lambda: [e for e in m.api.queue() if e["app"]["id"] == "/big"], 10,
                   what="1 instance queued")
    assert q[0]["count"] == 1
    assert q[0]["app"]["id"] == "/big"
    # scaling down makes room: nothing is queued any more
    # the deployment is still running (1 instance waits): a change needs ?force=true
    r = m.api.put("/v2/apps/big", {"instances": 2})
    assert r.status_code == 409, r.text
    assert r.json()["deployments"][0]["id"]
    r = m.api.put("/v2/apps/big", {"instances": 2}, params={"force": "true"})
    assert r.status_code == 200, r.text
    wait_until(lambda: not [e for e in m.api.queue() if e["app"]["id"] == "/big"], 10,
               what="queue empty after scale down")
    # room appears when another agent joins
    assert m.api.put("/v2/apps/big", {"instances": 4}).status_code == 200, "no deployment left"
    wait_until(lambda: len(m.api.running("/big")) == 2 and m.api.queue(), 10,
               what="2 queued")
    cluster.agent(hostname="second")
    m.api.wait_running("/big", 4)


def test_live_agent_stays_reachable_with_a_short_agent_timeout(cluster):
    """Heartbeats must come often enough for --agent-timeout: a healthy agent is never marked
    unreachable and its tasks are never replaced."""
    m = cluster.master(agent_timeout=3)
    a = cluster.agent(hostname="node-a")
    assert m.api.post("/v2/apps", app_def("/steady", "sleep 3600")).status_code == 201
    tid = m.api.wait_running("/steady", 1)[0]["id"]
    deadline = time.monotonic() + 3 * 3
    while time.monotonic() < deadline:  # observing for 3 timeouts: nothing may change
        assert a.slave()["active"] is True
        assert [t["id"] for t in m.api.running("/steady")] == [tid]
        time.sleep(0.2)
    assert "unreachable" not in m.stderr_text()


def test_agent_killed_its_tasks_move(cluster):
    m = cluster.master(agent_timeout=3)
    a = cluster.agent(hostname="node-a")
    app = app_def("/move", "sleep 3600", instances=2)
    assert m.api.post("/v2/apps", app).status_code == 201
    old = {t["id"] for t in m.api.wait_running("/move", 2)}
    assert {t["host"] for t in m.api.running("/move")} == {"node-a"}
    b = cluster.agent(hostname="node-b")
    a.kill9()

    def moved():
        run = m.api.running("/move")
        return (len(run) == 2 and {t["host"] for t in run} == {"node-b"}
                and not ({t["id"] for t in run} & old) and run)
    wait_until(moved, 3 + 20, what="tasks replaced on node-b")
    sa = a.slave()
    assert sa is None or sa["active"] is False, sa
    assert b.slave()["active"] is True


def test_agent_restart_keeps_tasks(cluster):
    """The shim does not depend on the agent: after the agent restarts, its tasks are still
    the same running tasks."""
    m = cluster.master()
    a = cluster.agent(hostname="node-a")
    assert m.api.post("/v2/apps", app_def("/keep", "sleep 3600", instances=2)).status_code == 201
    before = {t["id"] for t in m.api.wait_running("/keep", 2)}
    wait_until(lambda: live_task_ids("/keep") == before, 10, what="2 task processes")
    a.restart()
    wait_until(lambda: {t["id"] for t in m.api.running("/keep")} == before, 20,
               what="same tasks running after agent restart")
    assert live_task_ids("/keep") == before


def test_master_kill9_restart_keeps_apps_and_tasks(cluster):
    m = cluster.master()
    cluster.agent(hostname="node-a")
    api = m.api
    assert api.post("/v2/apps", app_def("/keep/a", "sleep 3600", instances=2,
                                        labels={"x": "1"})).status_code == 201
    assert api.post("/v2/apps", app_def("/keep/b", "sleep 3600")).status_code == 201
    assert api.post("/v2/apps", app_def("/keep/zero", "sleep 3600",
                                        instances=0)).status_code == 201
    ta = {t["id"] for t in api.wait_running("/keep/a", 2)}
    tb = {t["id"] for t in api.wait_running("/keep/b", 1)}
    r = api.put("/v2/apps/keep/b", {"instances": 2})
    assert r.status_code == 200
    before = {a["id"]: a for a in api.get("/v2/apps").json()["apps"]}
    m.restart()

    apps = {a["id"]: a for a in api.get("/v2/apps").json()["apps"]}
    assert sorted(apps) == ["/keep/a", "/keep/b", "/keep/zero"]
    for k in apps:
        for f in ("cmd", "instances", "cpus", "mem", "labels", "version", "env"):
            assert apps[k][f] == before[k][f], (k, f)
    assert apps["/keep/b"]["instances"] == 2

    wait_until(lambda: all(s["active"] for s in api.slaves()) and api.slaves(), 20,
               what="agent re-registered")
    run_a = api.wait_running("/keep/a", 2, timeout=30)
    api.wait_running("/keep/b", 2, timeout=30)
    # recovered: same task ids (the agent still runs them), or relaunched; never both
    assert {t["id"] for t in run_a} == ta or not ({t["id"] for t in run_a} & ta)
    wait_until(lambda: live_task_ids("/keep/a") == {t["id"] for t in api.running("/keep/a")},
               15, what="no duplicate task processes for /keep/a")
    # /keep/b's first task was running before the crash: it is still (or again) running
    run_b = {t["id"] for t in api.running("/keep/b")}
    assert tb <= run_b or not (tb & run_b)
    wait_until(lambda: live_task_ids("/keep/b") == {t["id"] for t in api.running("/keep/b")},
               15, what="no duplicate task processes for /keep/b")


def test_master_kill9_right_after_ack_loses_nothing(cluster):
    m = cluster.master()
    api = m.api
    r = api.post("/v2/apps", app_def("/durable", "sleep 3600", instances=0, fooBar={"k": [1]}))
    assert r.status_code == 201
    r = api.put("/v2/apps/durable", {"instances": 0, "cmd": "sleep 7200"})
    assert r.status_code == 200
    m.restart()
    app = api.app("/durable")
    assert app["cmd"] == "sleep 7200"
    assert app["fooBar"] == {"k": [1]}
    r = api.delete("/v2/apps/durable")
    assert r.status_code == 200
    m.restart()
    assert api.get("/v2/apps/durable").status_code == 404


def test_status_update_while_master_down_is_not_lost(cluster):
    m = cluster.master()
    a = cluster.agent(hostname="node-a")
    go = cluster.workdir / "go"
    # the task waits for the trigger file, consumes it and fails with status 3
    cmd = "while ! rm %s 2>/dev/null; do sleep 0.05; done; exit 3" % go
    app = app_def("/update", cmd, backoffSeconds=1)
    assert m.api.post("/v2/apps", app).status_code == 201
    old = m.api.wait_running("/update", 1)[0]["id"]
    m.kill9()
    go.write_text("")
    wait_until(lambda: old not in live_task_ids("/update"), 10, what="the task exited")
    m.start()
    m.ready()

    def failure_seen():
        f = m.api.app("/update").get("lastTaskFailure")
        return f and f.get("taskId") == old and f
    f = wait_until(failure_seen, 20, what="TASK_FAILED of %s reaches the restarted master" % old)
    assert f["state"] == "TASK_FAILED"
    assert "3" in f["message"]
    run = m.api.wait_running("/update", 1, timeout=20)
    assert run[0]["id"] != old
    assert a.slave()["active"]


def test_deletion_survives_a_master_crash_before_the_tasks_are_gone(cluster):
    """DELETE is acknowledged while the app's agent is away, then the master is killed: once
    both are back, the task is stopped as the deleted app asked (with its kill grace period,
    so its shutdown finishes), not cut off as an unknown task, and the app stays deleted."""
    from helpers import pid_alive, task_pids
    m = cluster.master()
    a = cluster.agent(hostname="node-a")
    api = m.api
    log = cluster.workdir / "shutdown.log"
    # SIGTERM starts a 6 s shutdown; 30 s of grace lets it finish.
    cmd = ("trap 'echo term >> %s; sleep 6; echo bye >> %s; exit 0' TERM; "
           "while true; do sleep 0.1; done" % (log, log))
    app = app_def("/graceful", cmd, taskKillGracePeriodSeconds=30)
    assert api.post("/v2/apps", app).status_code == 201
    task = api.wait_running("/graceful", 1)[0]
    pids = wait_until(lambda: task_pids(task["id"]), 10, what="task processes")
    a.kill9()  # the task keeps running under its executor; its KILL must wait
    wait_until(lambda: not (a.slave() or {}).get("active"), 10, what="agent seen gone")
    assert api.delete("/v2/apps/graceful").status_code == 200
    m.kill9()
    assert not log.exists(), "the task was asked to stop before the crash"
    m.start()
    m.ready()
    assert api.get("/v2/apps/graceful").status_code == 404
    a.start()
    a.ready()
    wait_until(lambda: not any(pid_alive(p) for p in pids), 30, what="the task stopped")
    # Stopped by its own shutdown, not cut off by a short kill.
    assert log.read_text().split() == ["term", "bye"], log.read_text()
    api.wait_no_deployments()
    # Once its task is gone, the id is free again.
    wait_until(lambda: api.post("/v2/apps", app_def("/graceful", "sleep 3600")).status_code
               == 201, 15, what="the id free again")
