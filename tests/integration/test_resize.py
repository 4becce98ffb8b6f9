"""In-place resize (berth's, MESOS-1279; docs/api.md "In-place resize"): PATCH
/v2/apps/{id}?inPlace=true with new cpus/mem changes the running tasks' cgroup limits without
a restart when their agent has room (the master's ledger takes or gives the difference), and
falls back to a rolling restart otherwise; the reply and the deployment say which. Observed in
the cgroup files of an agent with --isolation cgroups,namespaces."""
import os

from helpers import app_def, port_range, wait_until
from test_isolation import cg_dir, cg_version, need, read_int, remove_cgroups


def agent_used(m, what, host="a"):
    for s in m.api.get("/master/state").json()["slaves"]:
        if s["hostname"] == host:
            return s["used_resources"][what]
    raise AssertionError("no agent %s" % host)


def limits(parent, tid):
    if cg_version() == 1:
        return (read_int(cg_dir("cpu", parent, tid) / "cpu.shares"),
                read_int(cg_dir("memory", parent, tid) / "memory.limit_in_bytes"))
    d = cg_dir("", parent, tid)
    return (read_int(d / "cpu.weight"), read_int(d / "memory.max"))


def shares(cpus):
    return int(cpus * 1024) if cg_version() == 1 else None


def test_resize_in_place_then_fallback_to_restart(cluster):
    need("memory", "cpu", "pids")
    parent = "berth-itest-%d-rs" % os.getpid()
    lo, hi = port_range(50)
    iso = ["--isolation", "cgroups,namespaces", "--cgroups-parent", parent]
    cluster.master()
    cluster.agent(hostname="a", extra=iso,
                  resources="cpus(*):1.5; mem(*):1024; disk(*):1000; ports(*):[%d-%d]" % (lo, lo + 20))
    m = cluster.m
    try:
        app = app_def("/rs", "exec sleep 3600", cpus=0.5, mem=64,
                      upgradeStrategy={"minimumHealthCapacity": 0, "maximumOverCapacity": 0})
        assert m.api.post("/v2/apps", app).status_code == 201
        t = m.api.wait_running("/rs", 1)[0]
        v1 = limits(parent, t["id"])
        if cg_version() == 1:
            assert v1 == (512, 64 << 20)
        assert agent_used(m, "cpus") == 0.5

        # Grow cpus, grow mem: the agent has room. Same task, new limits, no restart.
        r = m.api.patch("/v2/apps/rs?inPlace=true", {"cpus": 1.0, "mem": 128})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["berthResize"] == {"mode": "inPlace"}, body
        assert r.headers["Marathon-Deployment-Id"] == body["deploymentId"]
        wait_until(lambda: limits(parent, t["id"])[1] == 128 << 20, 10,
                   what="the memory limit raised in the cgroup")
        if cg_version() == 1:
            assert limits(parent, t["id"])[0] == 1024
        m.api.wait_no_deployments()
        tasks = m.api.tasks("/rs")
        assert [x["id"] for x in tasks] == [t["id"]] and tasks[0]["state"] == "TASK_RUNNING"
        a = m.api.app("/rs")
        assert a["cpus"] == 1.0 and a["mem"] == 128
        assert tasks[0]["version"] == a["version"]
        assert agent_used(m, "cpus") == 1.0 and agent_used(m, "mem") == 128

        # Shrink mem: given back, the limit lowered.
        r = m.api.patch("/v2/apps/rs?inPlace=true", {"mem": 48})
        assert r.json()["berthResize"] == {"mode": "inPlace"}, r.text
        wait_until(lambda: limits(parent, t["id"])[1] == 48 << 20, 10,
                   what="the memory limit lowered in the cgroup")
        assert agent_used(m, "mem") == 48
        m.api.wait_no_deployments()

        # Grow cpus past the agent's room (1.5 - 1.0 = 0.5 free < 0.8 more): a rolling
        # restart, onto an agent that has room.
        cluster.agent(hostname="b", extra=iso,
                      resources="cpus(*):2; mem(*):1024; disk(*):1000; ports(*):[%d-%d]" % (lo + 21, hi))
        wait_until(lambda: len(m.api.slaves()) == 2, 10, what="agent b")
        r = m.api.patch("/v2/apps/rs?inPlace=true", {"cpus": 1.8})
        body = r.json()
        assert body["berthResize"]["mode"] == "restart", body
        assert "no room" in body["berthResize"]["reason"], body
        deps = m.api.deployments()
        assert deps and deps[0]["berthResize"]["mode"] == "restart", deps
        m.api.wait_no_deployments(timeout=30)
        t2 = m.api.wait_running("/rs", 1)[0]
        assert t2["id"] != t["id"] and t2["host"] == "b"
        if cg_version() == 1:
            assert limits(parent, t2["id"]) == (int(1.8 * 1024), 48 << 20)
        assert agent_used(m, "cpus", "b") == 1.8 and agent_used(m, "cpus", "a") == 0

        # A change to more than cpus/mem is never in place; without ?inPlace nothing is said.
        r = m.api.patch("/v2/apps/rs?inPlace=true", {"cpus": 1.5, "cmd": "exec sleep 3601"})
        assert r.json()["berthResize"]["mode"] == "restart"
        assert "not only to cpus and mem" in r.json()["berthResize"]["reason"]
        m.api.wait_no_deployments(timeout=30)
        r = m.api.patch("/v2/apps/rs", {"mem": 40})
        assert set(r.json()) == {"version", "deploymentId"}
        assert m.api.patch("/v2/apps/rs?inPlace=maybe", {"mem": 40}).status_code == 400
    finally:
        remove_cgroups(parent)
