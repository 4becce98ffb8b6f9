"""In-place resize (berth's, MESOS-1279; docs/api.md "In-place resize"): PATCH
/v2/apps/{id}?inPlace=true with new cpus/mem changes the running tasks' cgroup limits without
a restart when their agent has room (the master's ledger takes or gives the difference), and
falls back to a rolling restart otherwise; the reply and the deployment say which. Observed in
the cgroup files of an agent with --isolation cgroups,namespaces."""
import os
import shutil
from pathlib import Path

import pytest

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


def test_a_resize_the_agent_cannot_apply_replaces_the_task(cluster):
    """cgroup v1 refuses a memory limit below what the task uses (EBUSY without swap): the
    agent says so and the master replaces the task, which then runs with the new limit."""
    need("memory", "cpu", "pids")
    if cg_version() != 1:
        pytest.skip("v2 OOM-kills instead of refusing a lower memory.max")
    parent = "berth-itest-%d-rf" % os.getpid()
    cluster.master()
    cluster.agent(extra=["--isolation", "cgroups,namespaces", "--cgroups-parent", parent])
    m = cluster.m
    # Not under /tmp (the tasks have a /tmp of their own), wherever the checkout is.
    tmp_path = Path("/var/tmp") / ("berth-itest-%d-rf" % os.getpid())
    shutil.rmtree(tmp_path, ignore_errors=True)
    tmp_path.mkdir(parents=True)
    flag = tmp_path / "allocated"
    # The first task holds 80 MiB of touched anonymous memory; its replacement holds none.
    prog = ("import os, time\n"
            "x = b''\n"
            "if not os.path.exists(%r):\n"
            "    x = bytearray(80 << 20)\n"
            "    for i in range(0, len(x), 4096): x[i] = 1\n"
            "    open(%r, 'w').close()\n"
            "time.sleep(3600)\n") % (str(flag), str(flag))
    (tmp_path / "hold.py").write_text(prog)
    try:
        app = app_def("/rf", "exec python3 %s" % (tmp_path / "hold.py"), cpus=0.1, mem=128,
                      upgradeStrategy={"minimumHealthCapacity": 0, "maximumOverCapacity": 0})
        assert m.api.post("/v2/apps", app).status_code == 201
        t = m.api.wait_running("/rf", 1)[0]
        wait_until(flag.exists, 20, what="80 MiB allocated")
        r = m.api.patch("/v2/apps/rf?inPlace=true", {"mem": 40})
        assert r.json()["berthResize"] == {"mode": "inPlace"}, r.text  # as far as the master knows
        t2 = wait_until(lambda: [x for x in m.api.running("/rf") if x["id"] != t["id"]], 30,
                        what="the task replaced after the agent refused the resize")[0]
        assert limits(parent, t2["id"])[1] == 40 << 20
        assert agent_used(m, "mem", m.api.slaves()[0]["hostname"]) == 40
    finally:
        remove_cgroups(parent)
        shutil.rmtree(tmp_path, ignore_errors=True)
