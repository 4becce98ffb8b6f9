"""Isolation by default (docs/isolation.md, issue 14): an agent started without --isolation
confines every task with cgroups and namespaces where the machine allows them, says what it
could not do and runs on without it where it does not, and `--isolation none` turns it off."""
import os
import time
from pathlib import Path

import pytest

from helpers import app_def, task_pids, wait_until
from test_isolation import ROOT, all_cg_dirs, cg_dir, cg_version, need, read_int, \
    remove_cgroups


def ns_pids(pid):
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith("NSpid:"):
            return line.split()[1:]
    return []


def log_line(agent, words, timeout=10):
    return wait_until(lambda: next((l for l in agent.stderr_text().splitlines()
                                    if words in l), None), timeout, what=words)


@pytest.fixture
def parent(request):
    p = "berth-itest-def-%d-%s" % (os.getpid(), request.node.name[-16:])
    yield p
    remove_cgroups(p)


def test_an_agent_without_the_flag_enforces_limits_and_namespaces(cluster, parent):
    need("memory", "cpu", "pids")
    cluster.master()
    a = cluster.agent(extra=["--cgroups-parent", parent])
    log_line(a, "isolation: cgroups v%d, namespaces pid+mount" % cg_version())
    m = cluster.m
    # The task writes into its /tmp: private, so the host's /tmp never sees the file.
    mark = "berth-itest-default-%d" % os.getpid()
    app = app_def("/dflt", "echo x > /tmp/%s; exec sleep 3600" % mark, cpus=0.25, mem=40)
    assert m.api.post("/v2/apps", app).status_code == 201
    t = m.api.wait_running("/dflt", 1)[0]
    pid = wait_until(lambda: task_pids(t["id"]), 10, what="task process")[0]
    if cg_version() == 1:
        assert read_int(cg_dir("memory", parent, t["id"]) / "memory.limit_in_bytes") \
            == 40 << 20
        assert read_int(cg_dir("cpu", parent, t["id"]) / "cpu.shares") == 256
        assert read_int(cg_dir("pids", parent, t["id"]) / "pids.max") == 4096
    else:
        assert read_int(cg_dir("", parent, t["id"]) / "memory.max") == 40 << 20
    # In its own pid namespace: the task's pid there is not its host pid.
    assert len(ns_pids(pid)) == 2, ns_pids(pid)
    sb = a.sandbox(t["id"])
    wait_until(lambda: (sb / "tmp" / mark).exists(), 10, what="the file in the private /tmp")
    assert not Path("/tmp", mark).exists()
    dirs = all_cg_dirs(parent, t["id"])
    assert m.api.delete("/v2/apps/dflt").status_code == 200
    wait_until(lambda: not any(d.exists() for d in dirs), 10, what="cgroups removed")


def test_a_task_over_its_memory_is_killed_by_default(cluster, parent):
    """The issue's measurement: an app with mem 64 grew to 1.4 GiB and stayed RUNNING. Now
    the default agent stops it at its limit, with Mesos's reason."""
    need("memory")
    cluster.master()
    cluster.agent(extra=["--cgroups-parent", parent])
    m = cluster.m
    app = app_def("/grow", "exec tail /dev/zero", mem=64, backoffSeconds=600)
    assert m.api.post("/v2/apps", app).status_code == 201
    f = wait_until(lambda: m.api.app("/grow").get("lastTaskFailure"), 30,
                   what="lastTaskFailure of /grow")
    assert f["state"] == "TASK_FAILED"
    assert f["message"].startswith("Memory limit exceeded: Requested: 64MB"), f


def test_isolation_none_turns_it_off(cluster, parent):
    need("memory")
    cluster.master()
    a = cluster.agent(extra=["--isolation", "none", "--cgroups-parent", parent])
    log_line(a, "isolation: cgroups off, namespaces off")
    m = cluster.m
    app = app_def("/off", "exec sleep 3600", mem=40)
    assert m.api.post("/v2/apps", app).status_code == 201
    t = m.api.wait_running("/off", 1)[0]
    pid = wait_until(lambda: task_pids(t["id"]), 10, what="task process")[0]
    assert len(ns_pids(pid)) == 1
    assert not any(d.exists() for d in all_cg_dirs(parent, t["id"]))


def test_without_a_cgroup_hierarchy_the_default_degrades_and_says_so(cluster, tmp_path):
    """No cgroup hierarchy under --cgroups-root: the default agent starts, logs that limits
    are not enforced, and runs tasks (still in their namespaces); asked explicitly for
    cgroups there, it refuses to start."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    empty = tmp_path / "no-cgroups"
    empty.mkdir()
    cluster.master()
    a = cluster.agent(extra=["--cgroups-root", str(empty)])
    line = log_line(a, "cgroups off: no cgroup hierarchy")
    assert str(empty) in line and "not enforced" in line, line
    log_line(a, "isolation: cgroups off, namespaces pid+mount")
    m = cluster.m
    assert m.api.post("/v2/apps", app_def("/nocg", "exec sleep 3600")).status_code == 201
    t = m.api.wait_running("/nocg", 1)[0]
    pid = wait_until(lambda: task_pids(t["id"]), 10, what="task process")[0]
    assert len(ns_pids(pid)) == 2
    bad = cluster.agent(extra=["--isolation", "cgroups", "--cgroups-root", str(empty)],
                        wait=False)
    assert bad.wait_exit() != 0
    bad.expect_dead = True
    assert "no cgroup hierarchy (v1 or v2) is mounted at '%s'" % empty in bad.stderr_text()


def test_an_agent_without_capabilities_runs_tasks_without_namespaces(cluster, tmp_path):
    """Root without its capabilities (setpriv drops them all, as in an unprivileged
    container): the default agent cannot make pid and mount namespaces, says so, and runs
    tasks in its own."""
    if os.geteuid() != 0:
        pytest.skip("needs root to drop capabilities")
    import shutil
    if not shutil.which("setpriv"):
        pytest.skip("no setpriv (util-linux)")
    cluster.master()
    a = cluster.agent(wait=False)
    a.stop()
    a.args = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"] + a.args
    a.start()
    a.ready()
    log_line(a, "namespaces off: this agent may not create pid and mount namespaces")
    m = cluster.m
    assert m.api.post("/v2/apps", app_def("/nocap", "exec sleep 3600")).status_code == 201
    t = m.api.wait_running("/nocap", 1)[0]
    pid = wait_until(lambda: task_pids(t["id"]), 10, what="task process")[0]
    assert len(ns_pids(pid)) == 1


def test_a_hierarchy_without_the_controllers_degrades_and_says_so(cluster):
    """This hybrid machine's cgroup2 mount has no controllers (they are all v1's): the
    default agent pointed at it runs tasks without cgroups and says which controller is
    missing, where an agent asked for cgroups there fails its tasks instead."""
    unified = ROOT / "unified"
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if not (unified / "cgroup.controllers").exists():
        pytest.skip("no cgroup v2 hierarchy at %s" % unified)
    if "memory" in (unified / "cgroup.controllers").read_text().split():
        pytest.skip("%s has the memory controller" % unified)
    cluster.master()
    a = cluster.agent(extra=["--cgroups-root", str(unified)])
    line = log_line(a, "cgroups off: the cgroup hierarchy at '%s' lacks the 'memory' "
                       "controller" % unified)
    assert "not enforced" in line
    log_line(a, "isolation: cgroups off, namespaces pid+mount")
    m = cluster.m
    assert m.api.post("/v2/apps", app_def("/noctl", "exec sleep 3600")).status_code == 201
    m.api.wait_running("/noctl", 1)
