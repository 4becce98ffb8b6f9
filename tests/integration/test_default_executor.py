"""The default executor (issue 19, docs/internals/executor-api.md): a v1 framework's
LAUNCH_GROUP runs its tasks under one executor process (`berth default-executor`), which
starts them together in one container: the executor's sandbox laid out as Mesos's
(.../executors/<eid>/runs/<cid>/tasks/<tid>), a SANDBOX_PATH volume of type PARENT shared by
the tasks, the host's network, and one kill for the whole group."""
import os

import helpers
from mesos_client import Framework


def env():
    return {helpers.TAG_VAR: helpers.current_tag()}


def group_task(tid, offer, cmd, volumes=(), grace_ns=None):
    t = {"name": tid, "task_id": {"value": tid}, "agent_id": offer["agent_id"],
         "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                       {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}],
         "command": {"value": cmd, "environment": {"variables": [
             {"name": k, "value": v} for k, v in env().items()]}}}
    if volumes:
        t["container"] = {"type": "MESOS", "volumes": list(volumes)}
    if grace_ns is not None:
        t["kill_policy"] = {"grace_period": {"nanoseconds": grace_ns}}
    return t


def shared(container_path="shared", path="data"):
    return {"container_path": container_path, "mode": "RW",
            "source": {"type": "SANDBOX_PATH",
                       "sandbox_path": {"type": "PARENT", "path": path}}}


def launch_group(fw, offer, tasks, executor=None):
    ex = executor or {"type": "DEFAULT", "executor_id": {"value": "ex"},
                      "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                                    {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}]}
    r = fw.call({"type": "ACCEPT", "accept": {
        "offer_ids": [{"value": offer["id"]["value"]}],
        "operations": [{"type": "LAUNCH_GROUP", "launch_group": {
            "executor": ex, "task_group": {"tasks": tasks}}}],
        "filters": {"refuse_seconds": 0}}})
    assert r.status_code == 202, r.text


def runs_dir(agent, fw, eid):
    aid = agent.api.post("/api/v1", {"type": "GET_AGENT"}).json()["get_agent"]["agent_info"][
        "id"]["value"]
    return (agent.work_dir / "slaves" / aid / "frameworks" / fw.id / "executors" / eid /
            "runs")


def ppid(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("PPid:"):
                return int(line.split()[1])
    raise AssertionError("no PPid for %d" % pid)


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().split(b"\0")


def test_group_shares_executor_sandbox_volume_and_is_killed_together(one):
    fw = Framework(one.m.url)
    fw.subscribe()
    o = fw.wait_offers()[0]
    # a writes into the shared volume; b sees it through its own mount of the same volume.
    a = group_task("ga", o, "echo $$ > pid; echo hello-from-a > shared/note; "
                            "echo $MESOS_SANDBOX > sandbox; exec sleep 300",
                   volumes=[shared()])
    b = group_task("gb", o, "echo $$ > pid; while [ ! -s other/note ]; do sleep 0.1; done; "
                            "cat other/note > seen; exec sleep 300",
                   volumes=[shared("other")], grace_ns=500000000)
    launch_group(fw, o, [a, b])
    sa = fw.wait_update("ga", "TASK_RUNNING")
    sb = fw.wait_update("gb", "TASK_RUNNING")
    # Both report their nested container, whose parent is the group's one container.
    ca, cb = sa["container_status"]["container_id"], sb["container_status"]["container_id"]
    assert ca["parent"] == cb["parent"] and ca["value"] != cb["value"]
    assert sa["executor_id"] == {"value": "ex"} and sa["source"] == "SOURCE_EXECUTOR"
    cid = ca["parent"]["value"]

    run = runs_dir(one.a, fw, "ex") / cid
    assert os.readlink(str(runs_dir(one.a, fw, "ex") / "latest")) == cid
    ta, tb = run / "tasks" / "ga", run / "tasks" / "gb"
    helpers.wait_until(lambda: (tb / "seen").exists() and (tb / "seen").read_text(),
                       timeout=15, what="b saw a's file through the shared volume")
    assert (tb / "seen").read_text() == "hello-from-a\n"
    assert (run / "data" / "note").read_text() == "hello-from-a\n"
    assert (ta / "sandbox").read_text().strip() == str(ta)

    # One executor process is the parent of both tasks: berth default-executor.
    helpers.wait_until(lambda: (ta / "pid").exists() and (tb / "pid").exists(), timeout=10,
                       what="pid files")
    pa, pb = int((ta / "pid").read_text()), int((tb / "pid").read_text())
    ex = ppid(pa)
    assert ppid(pb) == ex
    assert b"default-executor" in cmdline(ex)

    # GET_CONTAINERS: one top-level container for the group, its tasks nested under it.
    top = one.a.api.post("/api/v1", {"type": "GET_CONTAINERS"}).json()
    mine = [c for c in top["get_containers"]["containers"]
            if c.get("executor_id") == {"value": "ex"}]
    assert [c["container_id"] for c in mine] == [{"value": cid}]
    assert mine[0]["framework_id"] == {"value": fw.id}
    nested = one.a.api.post("/api/v1", {"type": "GET_CONTAINERS",
                                        "get_containers": {"show_nested": True}}).json()
    ids = [c["container_id"] for c in nested["get_containers"]["containers"]
           if c.get("executor_id") == {"value": "ex"}]
    assert {"value": cid} in ids and ca in ids and cb in ids and len(ids) == 3

    # The executor is the master's too (its resources taken, listed in the state).
    def executors():
        st = one.m.api.get("/master/state").json()
        return [e["executor_id"] for f in st["frameworks"] if f["id"] == fw.id
                for e in f["executors"]]
    helpers.wait_until(lambda: executors() == ["ex"], timeout=10, what="executor in state")

    # Killing one task kills the group; the executor then exits.
    assert fw.kill("ga").status_code == 202
    fw.wait_update("ga", "TASK_KILLED")
    fw.wait_update("gb", "TASK_KILLED")
    helpers.wait_until(lambda: not os.path.exists("/proc/%d" % ex) or
                       open("/proc/%d/stat" % ex).read().split()[2] == "Z",
                       timeout=15, what="the executor's exit")
    for p in (pa, pb):
        assert not os.path.exists("/proc/%d" % p) or \
            open("/proc/%d/stat" % p).read().split()[2] == "Z"
    helpers.wait_until(lambda: [e for e in fw.all_events if e["type"] == "FAILURE"
                                and e["failure"].get("executor_id") == {"value": "ex"}],
                       timeout=15, what="FAILURE for the executor's end")


def test_failed_task_kills_group_finished_leaves_it(one):
    fw = Framework(one.m.url)
    fw.subscribe()
    o = fw.wait_offers()[0]
    launch_group(fw, o, [group_task("d1", o, "sleep 0.5; exit 0"),
                         group_task("d2", o, "sleep 1.5; exit 3"),
                         group_task("d3", o, "exec sleep 300")])
    fw.wait_update("d1", "TASK_FINISHED")
    st = fw.wait_update("d2", "TASK_FAILED")
    assert st["message"] == "Command exited with status 3"
    fw.wait_update("d3", "TASK_KILLED")
    states = [e["update"]["status"]["state"] for e in fw.all_events if e["type"] == "UPDATE"
              and e["update"]["status"]["task_id"]["value"] == "d3"]
    assert states.index("TASK_KILLED") > states.index("TASK_RUNNING")


def test_bad_groups_are_refused(one):
    fw = Framework(one.m.url)
    fw.subscribe()
    o = fw.wait_offers()[0]
    # Not the default executor: refused by the master, as Mesos does.
    launch_group(fw, o, [group_task("b1", o, "true")],
                 executor={"type": "CUSTOM", "executor_id": {"value": "c"},
                           "command": {"value": "true"}})
    st = fw.wait_update("b1", "TASK_ERROR")
    assert "'ExecutorInfo.type' must be 'DEFAULT'" in st["message"]
    # A volume leaving the sandbox: the executor fails the whole group before starting any.
    o = fw.wait_offers()[0]
    launch_group(fw, o, [group_task("b2", o, "exec sleep 300"),
                         group_task("b3", o, "exec sleep 300",
                                    volumes=[shared("../escape")])])
    for t in ("b2", "b3"):
        st = fw.wait_update(t, "TASK_FAILED")
        assert "container_path' must be a relative path inside the sandbox" in st["message"]


def test_group_shares_one_cgroup_with_isolation(cluster):
    """With --isolation cgroups the group's container is one cgroup, <parent>/<container
    id>, holding the executor and every task, limited to the executor's resources plus the
    tasks' (Mesos's floors apply), and removed with the container."""
    from pathlib import Path
    import test_isolation as iso
    iso.need("memory", "cpu", "pids")
    parent = "berth-itest-%d-dexec" % os.getpid()
    try:
        cluster.master()
        a = cluster.agent(extra=["--isolation", "cgroups", "--cgroups-parent", parent])
        fw = Framework(cluster.m.url)
        fw.subscribe()
        o = fw.wait_offers()[0]
        launch_group(fw, o, [group_task("c1", o, "echo $$ > pid; exec sleep 300"),
                             group_task("c2", o, "echo $$ > pid; exec sleep 300")])
        s1 = fw.wait_update("c1", "TASK_RUNNING")
        fw.wait_update("c2", "TASK_RUNNING")
        cid = s1["container_status"]["container_id"]["parent"]["value"]
        mem = iso.cg_dir("memory", parent, cid)
        run = runs_dir(a, fw, "ex") / cid / "tasks"
        helpers.wait_until(lambda: (run / "c1" / "pid").exists() and
                           (run / "c2" / "pid").exists() and
                           (run / "c1" / "pid").read_text() and
                           (run / "c2" / "pid").read_text(), timeout=10, what="pids")
        p1, p2 = int((run / "c1" / "pid").read_text()), int((run / "c2" / "pid").read_text())
        procs = {int(x) for x in (mem / "cgroup.procs").read_text().split()}
        assert {p1, p2, ppid(p1)} <= procs
        limit = "memory.max" if iso.cg_version() == 2 else "memory.limit_in_bytes"
        assert iso.read_int(mem / limit) == (32 + 32 + 32) << 20
        assert fw.kill("c2").status_code == 202
        fw.wait_update("c1", "TASK_KILLED")
        helpers.wait_until(lambda: not mem.exists(), timeout=15,
                           what="the container's cgroup removed")
    finally:
        iso.remove_cgroups(parent)


def test_a_task_that_cannot_start_fails_its_group(one):
    fw = Framework(one.m.url)
    fw.subscribe()
    o = fw.wait_offers()[0]
    bad = group_task("n2", o, "/nonexistent/program")
    bad["command"]["shell"] = False
    bad["command"]["arguments"] = ["/nonexistent/program"]
    launch_group(fw, o, [group_task("n1", o, "exec sleep 300"), bad,
                         group_task("n3", o, "exec sleep 300")])
    st = fw.wait_update("n2", "TASK_FAILED")
    assert st["message"].startswith("Failed to launch '/nonexistent/program'")
    fw.wait_update("n1", "TASK_KILLED")
    st = fw.wait_update("n3", "TASK_KILLED")
    assert st["message"] == "Another task of its group failed to launch"


def test_second_group_on_the_same_executor_is_killed_alone(one):
    """A second LAUNCH_GROUP naming the running executor runs beside the first, in the same
    container; its failure kills its own group only."""
    fw = Framework(one.m.url)
    fw.subscribe()
    o = fw.wait_offers()[0]
    launch_group(fw, o, [group_task("a1", o, "exec sleep 300"),
                         group_task("a2", o, "exec sleep 300")])
    s1 = fw.wait_update("a1", "TASK_RUNNING")
    fw.wait_update("a2", "TASK_RUNNING")
    o = fw.wait_offers()[0]
    launch_group(fw, o, [group_task("b1", o, "exec sleep 300"),
                         group_task("b2", o, "sleep 1; exit 2")])
    s3 = fw.wait_update("b1", "TASK_RUNNING")
    assert s3["container_status"]["container_id"]["parent"] == \
        s1["container_status"]["container_id"]["parent"]
    fw.wait_update("b2", "TASK_FAILED")
    fw.wait_update("b1", "TASK_KILLED")
    # the first group still runs: reconciliation says so, and nothing else was said of it
    assert fw.reconcile(["a1", "a2"]).status_code == 202
    for t in ("a1", "a2"):
        fw.wait_update(t, "TASK_RUNNING")
    for t in ("a1", "a2"):
        assert [e for e in fw.all_events if e["type"] == "UPDATE"
                and e["update"]["status"]["task_id"]["value"] == t
                and e["update"]["status"]["state"] not in ("TASK_STARTING",
                                                            "TASK_RUNNING")] == []
