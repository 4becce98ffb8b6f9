"""Task isolation (docs/isolation.md) with real tasks on a real agent started with
--isolation cgroups,namespaces: memory limits and OOM kills reported with Mesos's reason,
the pids limit, cpu shares, the whole process tree killed with its task, a private /tmp,
and no cgroup left behind.

The tests need root and a cgroup hierarchy (v1 or v2) at /sys/fs/cgroup with the controllers
they use; where the kernel lacks one they skip and say which."""
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from helpers import SseClient, app_def, pid_alive, task_pids, wait_until
from mesos_client import Framework, command_task

ROOT = Path("/sys/fs/cgroup")


def cg_version():
    if (ROOT / "cgroup.controllers").exists():
        return 2
    if (ROOT / "memory").is_dir():
        return 1
    return 0


def need(*ctrls):
    """Skips (saying why) unless we are root and every controller is usable."""
    if os.geteuid() != 0:
        pytest.skip("cgroups and namespaces need root (euid %d)" % os.geteuid())
    v = cg_version()
    if v == 0:
        pytest.skip("no cgroup hierarchy (v1 or v2) mounted at %s" % ROOT)
    probe = (ROOT if v == 2 else ROOT / "memory") / ("berth-itest-probe-%d" % os.getpid())
    try:
        os.mkdir(probe)
        os.rmdir(probe)
    except OSError as e:
        pytest.skip("cannot create cgroups under %s: %s (a read-only cgroupfs, as in many "
                    "containers)" % (probe.parent, e.strerror))
    for c in ctrls:
        if v == 1 and not (ROOT / c).is_dir():
            pytest.skip("cgroup v1 controller '%s' not mounted under %s" % (c, ROOT))
        if v == 2 and c not in (ROOT / "cgroup.controllers").read_text().split() \
                and c != "cpuacct":
            pytest.skip("cgroup v2 controller '%s' not available at %s" % (c, ROOT))


def cg_dir(ctrl, parent, task_id):
    """The task's cgroup directory for controller ctrl (v1) or the unified one (v2)."""
    if cg_version() == 2:
        return ROOT / parent / task_id
    return ROOT / ctrl / parent / task_id


def all_cg_dirs(parent, task_id):
    if cg_version() == 2:
        return [ROOT / parent / task_id]
    return [ROOT / c / parent / task_id for c in ("memory", "cpu", "pids", "cpuacct", "blkio")
            if (ROOT / c).is_dir()]


@pytest.fixture
def iso(cluster, request):
    """A master and an agent with cgroups and namespaces; the agent's tasks' cgroups live
    under a parent of the test's own, removed at the end."""
    need("memory", "cpu", "pids")
    parent = "berth-itest-%d-%s" % (os.getpid(), request.node.name[-20:].replace("[", "_"))

    def start(*extra):
        cluster.master()
        a = cluster.agent(extra=["--isolation", "cgroups,namespaces", "--cgroups-parent",
                                 parent] + list(extra))
        a.cg_parent = parent
        return cluster.m, a
    yield start
    remove_cgroups(parent)


def remove_cgroups(parent):
    """Removes what the test's tasks left under parent: tasks still running at the end of a
    test are killed by the cluster's teardown only after this fixture's, so their processes
    are killed here first."""
    for c in (("",) if cg_version() == 2 else ("memory", "cpu", "pids", "cpuacct", "blkio")):
        d = ROOT / c / parent if c else ROOT / parent
        if not d.is_dir():
            continue
        for sub in [x for x in d.iterdir() if x.is_dir()]:
            deadline = time.monotonic() + 10
            while sub.exists() and time.monotonic() < deadline:
                try:
                    for p in (sub / "cgroup.procs").read_text().split():
                        try:
                            os.kill(int(p), signal.SIGKILL)
                        except OSError:
                            pass
                    os.rmdir(sub)
                except OSError:
                    time.sleep(0.05)
        try:
            os.rmdir(d)
        except OSError:
            pass


def ppid(pid):
    return int(Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[1])


def shim_of(pid):
    """The task's berth-executor: its nearest ancestor outside the task's pid namespace (the
    namespace's init, the task's parent, is a fork of the shim)."""
    p = ppid(pid)
    while p > 1 and len(ns_pids(p)) > 1:
        p = ppid(p)
    assert os.path.basename(os.readlink("/proc/%d/exe" % p)) == "berth-executor", p
    return p


def read_int(p):
    return int(Path(p).read_text().split()[0])


def test_limits_are_written_and_the_cgroup_goes_with_the_task(iso):
    m, a = iso()
    app = app_def("/lim", "exec sleep 3600", cpus=0.5, mem=64)
    assert m.api.post("/v2/apps", app).status_code == 201
    t = m.api.wait_running("/lim", 1)[0]
    pid = wait_until(lambda: task_pids(t["id"]), 10, what="task process")[0]
    dirs = all_cg_dirs(a.cg_parent, t["id"])
    assert all(d.is_dir() for d in dirs), dirs
    for d in dirs:
        assert str(pid) in (d / "cgroup.procs").read_text().split(), d
    if cg_version() == 1:
        assert read_int(cg_dir("memory", a.cg_parent, t["id"]) / "memory.limit_in_bytes") \
            == 64 << 20
        assert read_int(cg_dir("cpu", a.cg_parent, t["id"]) / "cpu.shares") == 512
        assert read_int(cg_dir("pids", a.cg_parent, t["id"]) / "pids.max") == 4096
    else:
        d = cg_dir("", a.cg_parent, t["id"])
        assert read_int(d / "memory.max") == 64 << 20
        assert read_int(d / "pids.max") == 4096
    # The shim itself stays outside: an OOM kill or the pids limit never hits it.
    shim = shim_of(pid)
    for d in dirs:
        assert str(shim) not in (d / "cgroup.procs").read_text().split()
    assert m.api.delete("/v2/apps/lim").status_code == 200
    wait_until(lambda: not pid_alive(pid), 10, what="task gone")
    wait_until(lambda: not any(d.exists() for d in dirs), 10, what="cgroups removed")


def test_cfs_quota_with_enable_cfs(iso):
    m, a = iso("--cgroups-enable-cfs", "--cgroups-pids-max", "77")
    app = app_def("/cfs", "exec sleep 3600", cpus=0.25, mem=32)
    assert m.api.post("/v2/apps", app).status_code == 201
    t = m.api.wait_running("/cfs", 1)[0]
    if cg_version() == 1:
        d = cg_dir("cpu", a.cg_parent, t["id"])
        assert read_int(d / "cpu.cfs_quota_us") == 25000
        assert read_int(d / "cpu.cfs_period_us") == 100000
        assert read_int(cg_dir("pids", a.cg_parent, t["id"]) / "pids.max") == 77
    else:
        d = cg_dir("", a.cg_parent, t["id"])
        assert (d / "cpu.max").read_text().split() == ["25000", "100000"]
        assert read_int(d / "pids.max") == 77


def test_oom_kill_is_reported_with_the_memory_reason(iso):
    m, a = iso()
    es = SseClient(m.url, types=("status_update_event",))
    try:
        # tail keeps the whole endless "line" of /dev/zero in memory: it grows until the
        # kernel's OOM killer stops it at the cgroup's 32 MiB.
        app = app_def("/hog", "exec tail /dev/zero", mem=32, backoffSeconds=600)
        assert m.api.post("/v2/apps", app).status_code == 201
        f = wait_until(lambda: m.api.app("/hog").get("lastTaskFailure"), 30,
                       what="lastTaskFailure of /hog")
        assert f["state"] == "TASK_FAILED"
        assert f["message"].startswith("Memory limit exceeded: Requested: 32MB"), f
        ev = es.wait_for(lambda t, d: t == "status_update_event"
                         and d.get("taskStatus") == "TASK_FAILED", 10,
                         what="TASK_FAILED event")
        assert "Memory limit exceeded" in ev["message"], ev
        for d in all_cg_dirs(a.cg_parent, f["taskId"]):
            assert not d.exists(), d
    finally:
        es.close()
    # The v1 scheduler API: the UPDATE carries Mesos's reason.
    fw = Framework(m.url, name="oom")
    fw.subscribe()
    m.api.delete("/v2/apps/hog")
    o = wait_until(lambda: [x for x in fw.wait_offers()
                            if sum(r["scalar"]["value"] for r in x["resources"]
                                   if r["name"] == "mem") >= 32], 20, what="an offer")[0]
    r = fw.accept([o["id"]["value"]], [command_task("hog1", o, "exec tail /dev/zero",
                                                    mem=32, env={"ITEST_TAG":
                                                                 os.environ.get("ITEST_TAG",
                                                                                "")})])
    assert r.status_code == 202, r.text
    st = fw.wait_update("hog1", ["TASK_FAILED", "TASK_FINISHED", "TASK_KILLED"], timeout=30)
    assert st["state"] == "TASK_FAILED", st
    assert st["reason"] == "REASON_CONTAINER_LIMITATION_MEMORY", st
    assert "Requested: 32MB" in st["message"], st


def test_fork_loop_stops_at_the_pids_limit(iso):
    m, a = iso("--cgroups-pids-max", "40")
    # A bounded fork loop that carries on past failed forks (a shell would give up).
    cmd = ("exec python3 -c \"import os, time\n"
           "n, err = 0, ''\n"
           "for i in range(300):\n"
           "    try:\n"
           "        p = os.fork()\n"
           "    except OSError as e:\n"
           "        err = e.strerror\n"
           "        continue\n"
           "    if p == 0:\n"
           "        time.sleep(600)\n"
           "        os._exit(0)\n"
           "    n += 1\n"
           "print('done-forking', n, err, flush=True)\n"
           "time.sleep(3600)\"")
    assert m.api.post("/v2/apps", app_def("/forky", cmd, mem=512)).status_code == 201
    t = m.api.wait_running("/forky", 1)[0]
    sb = a.work_dir / "sandboxes" / t["id"]
    wait_until(lambda: "done-forking" in (sb / "stdout").read_text()
               if (sb / "stdout").exists() else False, 30, what="fork loop over")
    d = cg_dir("pids", a.cg_parent, t["id"])
    procs = (d / "cgroup.procs").read_text().split()
    assert 30 <= len(procs) <= 40, len(procs)
    assert read_int(d / "pids.current") <= 40
    out = (sb / "stdout").read_text()
    assert "Resource temporarily unavailable" in out, out
    assert int(out.split()[1]) < 40, out
    # The machine is unaffected: we can still start processes.
    assert subprocess.run(["true"]).returncode == 0
    # Deleting the app kills every one of them (the whole tree), and the cgroup goes.
    pids = [int(p) for p in procs]
    assert m.api.delete("/v2/apps/forky").status_code == 200
    wait_until(lambda: not any(pid_alive(p) for p in pids), 15, what="all forks killed")
    wait_until(lambda: not d.exists(), 10, what="cgroup removed")


def cpu_usage_ns(parent, task_id):
    if cg_version() == 2:
        st = (ROOT / parent / task_id / "cpu.stat").read_text().split()
        return int(st[st.index("usage_usec") + 1]) * 1000
    return read_int(ROOT / "cpuacct" / parent / task_id / "cpuacct.usage")


def test_cpu_shares_split_one_core_1_to_3(iso):
    m, a = iso()
    need("cpuacct")
    if subprocess.run(["which", "taskset"], capture_output=True).returncode != 0:
        pytest.skip("taskset (util-linux) not installed")
    busy = "exec taskset -c 0 sh -c 'while :; do :; done'"
    assert m.api.post("/v2/apps", app_def("/lo", busy, cpus=0.25)).status_code == 201
    assert m.api.post("/v2/apps", app_def("/hi", busy, cpus=0.75)).status_code == 201
    lo = m.api.wait_running("/lo", 1)[0]["id"]
    hi = m.api.wait_running("/hi", 1)[0]["id"]
    wait_until(lambda: task_pids(lo) and task_pids(hi), 10, what="both busy")
    time.sleep(0.5)  # both spinning (measured from here on)
    l0, h0 = cpu_usage_ns(a.cg_parent, lo), cpu_usage_ns(a.cg_parent, hi)
    time.sleep(4.0)  # the measurement window
    l1, h1 = cpu_usage_ns(a.cg_parent, lo), cpu_usage_ns(a.cg_parent, hi)
    dl, dh = l1 - l0, h1 - h0
    ratio = dh / max(dl, 1)
    print("cpu shares 1:3 -> used %.2fs : %.2fs of one core, ratio %.2f"
          % (dl / 1e9, dh / 1e9, ratio))
    assert 2.0 <= ratio <= 4.5, (dl, dh, ratio)


def test_stale_cgroup_removed_by_the_restarted_agent(iso):
    m, a = iso()
    assert m.api.post("/v2/apps", app_def("/stale", "exec sleep 3600")).status_code == 201
    t = m.api.wait_running("/stale", 1)[0]
    pid = wait_until(lambda: task_pids(t["id"]), 10, what="task process")[0]
    dirs = all_cg_dirs(a.cg_parent, t["id"])
    shim = shim_of(pid)
    a.kill9()
    os.kill(shim, signal.SIGKILL)  # the task dies while the agent is down ... its shim does
    wait_until(lambda: not pid_alive(shim), 5, what="shim gone")
    assert any(d.exists() for d in dirs)  # ... and leaves its cgroup (and task) behind
    a.start()
    a.ready()
    wait_until(lambda: not any(d.exists() for d in dirs), 15, what="stale cgroup removed")
    assert not pid_alive(pid)


def ns_pids(pid):
    """NSpid of /proc/<pid>/status: the pid in each namespace, outermost first."""
    for ln in Path("/proc/%d/status" % pid).read_text().splitlines():
        if ln.startswith("NSpid:"):
            return [int(x) for x in ln.split()[1:]]
    return []


def status_field(pid, name):
    for ln in Path("/proc/%d/status" % pid).read_text().splitlines():
        if ln.startswith(name + ":"):
            return ln.split()[1]
    return None


def test_namespaces_pid_tmp_no_new_privs_and_the_whole_tree_dies(iso):
    m, a = iso()
    marker = "itest-tmp-%d" % os.getpid()
    # A daemon that leaves the task's session and process group (as `setsid` and `timeout`
    # do) must still die with the task.
    cmd = ("echo $$ > mypid; echo hello > /tmp/%s; ls /proc | grep -c '^[0-9]' > nprocs; "
           "setsid sleep 3600 & exec sleep 3600" % marker)
    assert m.api.post("/v2/apps", app_def("/ns", cmd)).status_code == 201
    t = m.api.wait_running("/ns", 1)[0]
    sb = a.work_dir / "sandboxes" / t["id"]
    wait_until(lambda: (sb / "nprocs").exists() and (sb / "nprocs").read_text(), 10,
               what="the task's first lines done")

    def sleeps():
        p = [x for x in task_pids(t["id"]) if Path("/proc/%d/comm" % x).read_text().strip()
             == "sleep"]
        return p if len(p) == 2 else None
    pids = wait_until(sleeps, 10, what="the task and its setsid'd child")
    assert (sb / "mypid").read_text().strip() == "2"   # pid 1 is the namespace's init
    assert int((sb / "nprocs").read_text()) <= 4, "/proc shows the host's processes"
    for p in pids:
        assert len(ns_pids(p)) == 2, ns_pids(p)  # in a pid namespace of its own
        assert status_field(p, "NoNewPrivs") == "1"
    # /tmp is the sandbox's tmp, not the host's.
    assert (sb / "tmp" / marker).read_text() == "hello\n"
    assert not Path("/tmp", marker).exists()
    sids = {int(Path("/proc/%d/stat" % p).read_text().rsplit(")", 1)[1].split()[3])
            for p in pids}
    assert len(sids) == 2, "the child did not leave the session"
    assert m.api.delete("/v2/apps/ns").status_code == 200
    wait_until(lambda: not any(pid_alive(p) for p in pids), 10,
               what="the task and its setsid'd child killed")


def test_sigterm_reaches_the_task_in_its_namespace(iso):
    m, a = iso()
    cmd = ("trap 'echo got-term > term.log; exit 0' TERM; echo ready > ready.txt; "
           "while true; do sleep 0.05; done")
    app = app_def("/term", cmd, taskKillGracePeriodSeconds=20)
    assert m.api.post("/v2/apps", app).status_code == 201
    t = m.api.wait_running("/term", 1)[0]
    sb = a.work_dir / "sandboxes" / t["id"]
    wait_until(lambda: (sb / "ready.txt").exists(), 10, what="task ready")
    pids = task_pids(t["id"])
    t0 = time.monotonic()
    assert m.api.delete("/v2/apps/term").status_code == 200
    wait_until(lambda: (sb / "term.log").exists(), 5, what="SIGTERM delivered")
    wait_until(lambda: not any(pid_alive(p) for p in pids), 10, what="task gone")
    assert time.monotonic() - t0 < 5, "waited for the grace period: SIGTERM was lost"


def test_switch_user_runs_the_task_as_the_apps_user(iso):
    m, a = iso("--switch-user")
    import pwd
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody' on this machine")
    app = app_def("/as-nobody", "id -u > uid; id -g > gid; exec sleep 3600", user="nobody")
    assert m.api.post("/v2/apps", app).status_code == 201
    t = m.api.wait_running("/as-nobody", 1)[0]
    sb = a.work_dir / "sandboxes" / t["id"]
    wait_until(lambda: (sb / "gid").exists() and (sb / "gid").read_text(), 10, what="ids")
    assert int((sb / "uid").read_text()) == nobody.pw_uid
    assert int((sb / "gid").read_text()) == nobody.pw_gid
    assert sb.stat().st_uid == nobody.pw_uid
    # A user the agent's machine lacks: the task fails, saying so.
    app = app_def("/as-ghost", "sleep 3600", user="no-such-user-berth")
    assert m.api.post("/v2/apps", app).status_code == 201
    f = wait_until(lambda: m.api.app("/as-ghost").get("lastTaskFailure"), 20,
                   what="lastTaskFailure of /as-ghost")
    assert "no-such-user-berth" in f["message"], f


def test_monitor_statistics_reports_usage_against_the_limits(iso, cluster):
    m, a = iso()
    # Busy for a moment (cpu time to see), then holding some memory.
    cmd = ("i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; "
           "exec python3 -c 'import time; b = b\"x\" * (8 << 20); time.sleep(3600)'")
    assert m.api.post("/v2/apps", app_def("/mon", cmd, cpus=0.5, mem=64)).status_code == 201
    t = m.api.wait_running("/mon", 1)[0]

    def entry():
        r = requests.get(a.url + "/monitor/statistics", timeout=5)
        assert r.status_code == 200
        for e in r.json():
            if e["executor_id"] == t["id"] and e["statistics"]["mem_rss_bytes"] > 8 << 20 \
                    and e["statistics"]["cpus_user_time_secs"] > 0:
                return e
        return None
    e = wait_until(entry, 30, what="the task's statistics with its usage")
    st = e["statistics"]
    assert e["source"] == t["id"]
    assert e["executor_name"].startswith("Command Executor (Task: %s)" % t["id"])
    assert st["mem_limit_bytes"] == 64 << 20
    assert abs(st["cpus_limit"] - 0.5) < 0.01
    assert st["mem_rss_bytes"] <= st["mem_limit_bytes"]
    assert isinstance(st["timestamp"], float)
    # The master proxies it, and `berth task list` shows usage against the limits from it.
    r = m.api.get("/api/berth/agents/%s/monitor/statistics" % t["slaveId"])
    assert r.status_code == 200 and any(x["executor_id"] == t["id"] for x in r.json())
    assert m.api.get("/api/berth/agents/nope/monitor/statistics").status_code == 404
    rc, out, err = cluster.cli("task", "list")
    assert rc == 0, err
    assert "CPU(USED/LIMIT)" in out and "MEM(RSS/LIMIT)" in out, out
    line = next(x for x in out.splitlines() if t["id"] in x)
    assert re.search(r"\d+\.\ds/0\.50", line) and re.search(r"\d+\.\d/64MiB", line), line
    r = requests.get(a.url + "/monitor/statistics.json", timeout=5)
    assert r.status_code == 200 and any(x["executor_id"] == t["id"] for x in r.json())
    assert m.api.delete("/v2/apps/mon").status_code == 200
    wait_until(lambda: not any(x["executor_id"] == t["id"] for x in
                               requests.get(a.url + "/monitor/statistics", timeout=5).json()),
               15, what="the ended task gone from the statistics")


def test_command_health_check_runs_in_the_tasks_namespaces(iso):
    """A COMMAND check sees the task's private /tmp (it runs in the task's namespaces)."""
    m, a = iso()
    marker = "itest-hc-%d" % os.getpid()
    check = {"protocol": "COMMAND",
             "command": {"value": "test -f /tmp/%s" % marker},
             "gracePeriodSeconds": 30, "intervalSeconds": 1, "timeoutSeconds": 5,
             "maxConsecutiveFailures": 0, "delaySeconds": 0}
    app = app_def("/hc", "touch /tmp/%s; exec sleep 3600" % marker, healthChecks=[check])
    assert m.api.post("/v2/apps", app).status_code == 201
    from helpers import is_healthy
    wait_until(lambda: [t for t in m.api.tasks("/hc") if is_healthy(t)], 20,
               what="healthy by a check in the task's namespaces")
    assert not Path("/tmp", marker).exists()


def test_v2_hierarchy_without_the_controllers_fails_tasks_clearly(cluster):
    """On this hybrid machine the unified (v2) hierarchy is mounted without controllers (they
    are all v1's): an agent pointed at it detects v2, and a task fails saying which limit
    could not be set, instead of running unconfined."""
    unified = ROOT / "unified"
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if not (unified / "cgroup.controllers").exists():
        pytest.skip("no cgroup v2 hierarchy at %s" % unified)
    if "cpu" in (unified / "cgroup.controllers").read_text().split():
        pytest.skip("%s has the cpu controller: nothing fails there" % unified)
    parent = "berth-itest-v2-%d" % os.getpid()
    cluster.master()
    cluster.agent(extra=["--isolation", "cgroups", "--cgroups-root", str(unified),
                         "--cgroups-parent", parent])
    try:
        app = app_def("/v2fail", "exec sleep 3600", backoffSeconds=600)
        assert cluster.m.api.post("/v2/apps", app).status_code == 201
        f = wait_until(lambda: cluster.m.api.app("/v2fail").get("lastTaskFailure"), 20,
                       what="lastTaskFailure")
        assert f["message"].startswith("Failed to create the task's cgroup under '%s'"
                                       % unified), f
        sb = cluster.a.work_dir / "sandboxes" / f["taskId"]
        assert "cpu.weight" in (sb / "stderr").read_text()
        assert not (unified / parent / f["taskId"]).exists()
    finally:
        try:
            os.rmdir(unified / parent)
        except OSError:
            pass


def test_oom_kill_of_a_child_ends_the_whole_task(iso):
    """The allocating process is only a child of the task's shell, which would go on: the
    OOM kill in the task's cgroup ends the whole task (as Mesos destroys the container),
    reported with the memory reason."""
    m, a = iso()
    app = app_def("/childhog", "tail /dev/zero; echo survived > survived.txt; exec sleep 3600",
                  mem=32, backoffSeconds=600)
    assert m.api.post("/v2/apps", app).status_code == 201
    f = wait_until(lambda: m.api.app("/childhog").get("lastTaskFailure"), 30,
                   what="lastTaskFailure of /childhog")
    assert f["message"].startswith("Memory limit exceeded: Requested: 32MB"), f
    sb = a.work_dir / "sandboxes" / f["taskId"]
    assert "exceeded its memory limit" in (sb / "stderr").read_text()
    assert not (sb / "survived.txt").exists() or \
        not any(pid_alive(p) for p in task_pids(f["taskId"]))
