"""Local persistent volumes and external volumes with real processes (issue 5)."""
import os
import shutil
import time

from helpers import (app_def, kill_task_processes, load_example, volumes, wait_indexes,
                     wait_replaced, wait_until)

PV_CMD = "echo $MESOS_TASK_ID >> data/starts; exec sleep 1000"


def pv_app(app_id, n):
    a = app_def(app_id, PV_CMD, container={"type": "MESOS", "volumes": [
        {"containerPath": "data", "mode": "RW", "persistent": {"size": 4}}]})
    a["instances"] = n
    return a


def agent_of(agents, task):
    for a in agents:
        s = a.slave()
        if s and s["id"] == task["slaveId"]:
            return a
    raise AssertionError("no agent for %r" % task)


def vol_dir(agent, task):
    return agent.work_dir / "volumes" / task["localVolumes"][0]["persistenceId"]


def starts(agent, task):
    p = vol_dir(agent, task) / "starts"
    return p.read_text().split() if p.exists() else []


def test_local_volume_survives_kill_scale_and_is_wiped_on_request(cluster):
    cluster.master(agent_timeout=4)
    a1 = cluster.agent()
    a2 = cluster.agent()
    agents = [a1, a2]
    api = cluster.m.api
    assert api.post("/v2/apps", pv_app("/pv", 2)).status_code == 201
    tasks = wait_indexes(api, "/pv", [0, 1])
    home = {i: agent_of(agents, t) for i, t in tasks.items()}
    pids = {i: t["localVolumes"][0]["persistenceId"] for i, t in tasks.items()}
    for i, t in tasks.items():
        wait_until(lambda t=t, i=i: starts(home[i], t) == [t["id"]], 10, what="first start")

    # Task killed (SIGKILL of its processes) -> relaunched on the same agent, same volume.
    old = tasks[0]
    assert kill_task_processes(old["id"])
    new = wait_replaced(api, "/pv", old, 20)
    assert new["slaveId"] == old["slaveId"]
    assert new["localVolumes"][0]["persistenceId"] == pids[0]
    wait_until(lambda: starts(home[0], new) == [old["id"], new["id"]], 10,
               what="both starts on the volume")

    # Killed through the API (no wipe): same.
    r = api.delete("/v2/apps/pv/tasks/%s" % new["id"])
    assert r.status_code == 200, r.text
    new2 = wait_replaced(api, "/pv", new, 20)
    assert new2["slaveId"] == old["slaveId"]
    wait_until(lambda: len(starts(home[0], new2)) == 3, 10, what="third start")

    # Scale down keeps the volume (suspended); scale up reuses it.
    t1 = wait_indexes(api, "/pv", [0, 1])[1]
    assert api.put("/v2/apps/pv", {"instances": 1}).status_code == 200
    wait_indexes(api, "/pv", [0])
    api.wait_no_deployments()
    assert vol_dir(home[1], t1).is_dir()
    rc, out, err = cluster.cli("volume", "list")
    assert rc == 0, err
    row = [ln for ln in out.splitlines() if pids[1] in ln or
           ("/pv" in ln and "suspended" in ln)]
    assert row and "suspended" in row[0], out
    vs = [v for v in volumes(api) if v["app"] == "/pv" and v["index"] == 1]
    assert vs and vs[0]["state"] == "suspended" and vs[0]["persistenceId"] == pids[1], vs
    rc, out, err = cluster.cli("volume", "list", "--json")
    assert rc == 0 and '"suspended"' in out, (out, err)

    assert api.put("/v2/apps/pv", {"instances": 2}).status_code == 200
    t1b = wait_indexes(api, "/pv", [0, 1])[1]
    assert t1b["slaveId"] == t1["slaveId"]
    assert t1b["localVolumes"][0]["persistenceId"] == pids[1]
    wait_until(lambda: starts(home[1], t1b) == [t1["id"], t1b["id"]], 10,
               what="index 1 back on its data")

    # wipe=true destroys the volume (the directory goes); a fresh instance takes its place.
    gone = vol_dir(home[1], t1b)
    r = api.delete("/v2/apps/pv/tasks/%s?wipe=true" % t1b["id"])
    assert r.status_code == 200, r.text
    wait_until(lambda: not gone.exists(), 15, what="%s removed" % gone)
    t1c = wait_replaced(api, "/pv", t1b, 20)
    assert t1c["localVolumes"][0]["persistenceId"] != pids[1]
    wait_until(lambda: starts(agent_of(agents, t1c), t1c) == [t1c["id"]], 10,
               what="a fresh volume")

    # Pinned: instance 0's agent goes away (with its task); the instance waits for it rather
    # than moving to the other agent, and comes back there with its data.
    t0 = wait_indexes(api, "/pv", [0, 1])[0]
    ag = home[0]
    ag.kill9()
    kill_task_processes(t0["id"])
    deadline = time.monotonic() + 4 * 1.5 + 3
    while time.monotonic() < deadline:
        for t in api.tasks("/pv"):
            if t["index"] == 0 and t["state"] == "TASK_RUNNING":
                assert t["slaveId"] == t0["slaveId"], "instance 0 moved: %r" % t
        time.sleep(0.3)
    ag.start()
    ag.ready()
    t0b = wait_replaced(api, "/pv", t0, 30)
    assert t0b["slaveId"] == t0["slaveId"]
    wait_until(lambda: len(starts(ag, t0b)) == 4, 10, what="instance 0 back on its data")

    # Deleting the app destroys its local volumes.
    dirs = [vol_dir(ag, t0b), vol_dir(agent_of(agents, t1c), t1c)]
    assert api.delete("/v2/apps/pv").status_code == 200
    wait_until(lambda: not any(d.exists() for d in dirs), 15, what="volumes destroyed")


def test_external_volumes_per_index_through_berth_volume_plugin(cluster):
    cluster.master()
    plug = cluster.volume_plugin()
    extra = ["--volume-plugin-dir", str(plug.plugin_dir)]
    a1 = cluster.agent(extra=extra)
    cluster.agent(extra=extra)
    api = cluster.m.api
    app = app_def("/ext", "echo $BERTH_INSTANCE_INDEX $MESOS_TASK_ID >> vol/log; "
                  "exec sleep 1000",
                  container={"type": "MESOS", "volumes": [
                      {"containerPath": "vol", "mode": "RW", "external": {
                          "name": "es{index}data", "provider": "dvdi",
                          "options": {"dvdi/driver": plug.driver}}}]})
    app["instances"] = 2
    assert api.post("/v2/apps", app).status_code == 201
    tasks = wait_indexes(api, "/ext", [0, 1])
    for i in (0, 1):
        f = plug.root / ("es%ddata" % i) / "log"
        wait_until(lambda f=f: f.exists() and f.read_text().split()[:1] == [str(i)], 10,
                   what=str(f))
    vs = sorted((v["index"], v["name"], v["state"]) for v in volumes(api) if v["app"] == "/ext")
    assert vs == [(0, "es0data", "in use"), (1, "es1data", "in use")], vs
    # Nothing is mounted on the host: the bind mounts live in the tasks' namespaces.
    old = tasks[1]
    assert kill_task_processes(old["id"])
    new = wait_replaced(api, "/ext", old, 20)
    f = plug.root / "es1data" / "log"
    wait_until(lambda: len(f.read_text().splitlines()) == 2, 10, what="second line in es1data")
    assert new["id"] in f.read_text()
    assert api.delete("/v2/apps/ext").status_code == 200
    wait_until(lambda: api.get("/v2/apps/ext").status_code == 404, 15, what="app gone")
    # A deletion keeps external volumes unless asked.
    assert (plug.root / "es0data" / "log").exists()
    del a1


def test_app_deletion_with_wipe_removes_its_external_volumes(cluster):
    cluster.master()
    plug = cluster.volume_plugin()
    cluster.agent(extra=["--volume-plugin-dir", str(plug.plugin_dir)])
    api = cluster.m.api
    vols = {"type": "MESOS", "volumes": [
        {"containerPath": "vol", "mode": "RW", "external": {
            "name": "wipe{index}", "provider": "dvdi", "options": {"dvdi/driver": plug.driver}}},
        {"containerPath": "shared", "mode": "RW", "external": {
            "name": "wipeshared", "provider": "dvdi", "shared": True,
            "options": {"dvdi/driver": plug.driver}}}]}
    app = app_def("/wipe", "echo x >> vol/log; echo x >> shared/log; exec sleep 1000",
                  container=vols, instances=2)
    assert api.post("/v2/apps", app).status_code == 201
    wait_indexes(api, "/wipe", [0, 1])
    for name in ("wipe0", "wipe1", "wipeshared"):
        f = plug.root / name / "log"
        wait_until(f.exists, 10, what=str(f))
    assert api.delete("/v2/apps/wipe?wipe=maybe").status_code == 400
    assert api.delete("/v2/apps/wipe?wipe=true").status_code == 200
    wait_until(lambda: not (plug.root / "wipe0").exists() and not (plug.root / "wipe1").exists(),
               20, what="the app's volumes removed through the driver")
    # A shared volume may serve other apps: it is kept.
    assert (plug.root / "wipeshared" / "log").exists()


WEB_ROOT = "/var/lib/rexray/volumes"


def test_web_seed_keeps_its_readme_across_restarts_and_agents(cluster):
    """The seed document 002's web.json (examples/web.json, only the download dropped): a line
    is appended to readme.txt on the rexray volume at each start."""
    import fcntl
    # test_fetcher.py's seed test uses the same volume directory; suites run side by side.
    lockf = open("/tmp/berth-itest-webdata.lock", "w")
    fcntl.flock(lockf, fcntl.LOCK_EX)
    shutil.rmtree(WEB_ROOT + "/webdata", ignore_errors=True)
    cluster.master(agent_timeout=4)
    plug = cluster.volume_plugin(root=WEB_ROOT, driver="rexray")
    extra = ["--volume-plugin-dir", str(plug.plugin_dir)]
    a1 = cluster.agent(hostname="node1", extra=extra)
    a2 = cluster.agent(hostname="node2", extra=extra)
    api = cluster.m.api
    try:
        app = load_example("web.json")
        assert api.post("/v2/apps", app).status_code == 201
        readme = WEB_ROOT + "/webdata/readme.txt"

        def lines():
            try:
                with open(readme) as f:
                    return f.read().splitlines()
            except OSError:
                return []
        t = api.wait_running("/webserver", 1)[0]
        wait_until(lambda: len(lines()) == 1, 10, what="one line")
        assert lines()[0].endswith(" 0"), lines()
        # the web server serves the volume
        import requests
        r = wait_until(lambda: (lambda r: r if r.status_code == 200 else None)(
            requests.get("http://127.0.0.1:%d/readme.txt" % t["ports"][0], timeout=5)),
            10, what="readme over HTTP")
        assert r.text.splitlines() == lines()

        kill_task_processes(t["id"])
        t2 = wait_replaced(api, "/webserver", t, 20)
        wait_until(lambda: len(lines()) == 2, 10, what="two lines")
        assert lines()[1].endswith(" 1"), lines()

        # Force a move: stop the agent running it; the master relaunches it on the other
        # agent after the fencing delay, on the same volume.
        first = a1 if t2["host"] == "node1" else a2
        other = a2 if first is a1 else a1
        assert first.stop() == 0
        t3 = wait_replaced(api, "/webserver", t2, 30)
        assert t3["host"] == other.hostname, t3
        wait_until(lambda: len(lines()) == 3, 10, what="three lines")
        assert lines()[2].endswith(" 2"), lines()
        assert api.delete("/v2/apps/webserver").status_code == 200
    finally:
        shutil.rmtree(WEB_ROOT + "/webdata", ignore_errors=True)
        for d in (WEB_ROOT, os.path.dirname(WEB_ROOT)):
            try:
                os.rmdir(d)
            except OSError:
                pass
        lockf.close()


def test_wipe_survives_a_master_crash_before_the_tasks_are_gone(cluster):
    """DELETE ?wipe=true is acknowledged, then the master is killed while the app's task is
    still stopping: the restarted master must still remove the volume, and only once the task
    is gone."""
    from helpers import pid_alive, task_pids
    m = cluster.master()
    plug = cluster.volume_plugin()
    cluster.agent(extra=["--volume-plugin-dir", str(plug.plugin_dir)])
    api = m.api
    # Slow to stop: SIGTERM starts a 6 s shutdown that keeps writing to the volume.
    cmd = ("trap 'echo term >> vol/log; sleep 6; echo bye >> vol/log; exit 0' TERM; "
           "echo start >> vol/log; while true; do sleep 0.1; done")
    vols = {"type": "MESOS", "volumes": [
        {"containerPath": "vol", "mode": "RW", "external": {
            "name": "crashwipe{index}", "provider": "dvdi",
            "options": {"dvdi/driver": plug.driver}}}]}
    app = app_def("/crashwipe", cmd, container=vols, taskKillGracePeriodSeconds=30)
    assert api.post("/v2/apps", app).status_code == 201
    task = wait_indexes(api, "/crashwipe", [0])[0]
    log = plug.root / "crashwipe0" / "log"
    wait_until(lambda: log.exists() and "start" in log.read_text(), 10, what=str(log))
    pids = wait_until(lambda: task_pids(task["id"]), 10, what="task processes")

    r = api.delete("/v2/apps/crashwipe?wipe=true")
    assert r.status_code == 200, r.text
    m.kill9()
    # The acknowledged wipe has not happened yet: the task is still stopping on its volume.
    assert any(pid_alive(p) for p in pids), "the task ended before the master was killed"
    assert (plug.root / "crashwipe0").exists()

    m.start()
    m.ready()
    assert api.get("/v2/apps/crashwipe").status_code == 404
    wait_until(lambda: not (plug.root / "crashwipe0").exists(), 40,
               what="crashwipe0 removed by the restarted master")
    # Never while a task may still use it.
    assert not any(pid_alive(p) for p in pids), "volume removed under a live task"
    api.wait_no_deployments()


def test_wipe_waits_for_an_agent_across_a_master_restart(cluster):
    """A wipe acknowledged while no agent is connected is kept (across a master restart) and
    carried out once an agent is there; meanwhile the app's id stays taken."""
    from helpers import plugin_call
    m = cluster.master()
    plug = cluster.volume_plugin()
    api = m.api
    assert plugin_call(plug.socket_path, "/VolumeDriver.Create", {"Name": "lonely0"}) == {"Err": ""}
    vol = plug.root / "lonely0"
    assert vol.is_dir()
    vols = {"type": "MESOS", "volumes": [
        {"containerPath": "vol", "mode": "RW", "external": {
            "name": "lonely{index}", "provider": "dvdi",
            "options": {"dvdi/driver": plug.driver}}}]}
    # No agent: the instance waits, and so does the wipe of its volume.
    assert api.post("/v2/apps", app_def("/lonely", "exec sleep 1000",
                                        container=vols)).status_code == 201
    assert api.delete("/v2/apps/lonely?wipe=true").status_code == 200
    wait_until(lambda: api.get("/v2/apps/lonely").status_code == 404, 10, what="app hidden")
    m.restart()
    r = api.post("/v2/apps", app_def("/lonely", "exec sleep 1000"))
    assert r.status_code == 409, r.text
    assert vol.is_dir()
    cluster.agent(extra=["--volume-plugin-dir", str(plug.plugin_dir)])
    wait_until(lambda: not vol.exists(), 20, what="lonely0 removed once an agent came")
    api.wait_no_deployments()
    assert api.post("/v2/apps", app_def("/lonely", "exec sleep 1000")).status_code == 201
