"""A custom executor in a container (issue 19, docs/internals/executor-api.md, "The
executor's container"): an ExecutorInfo with `container` (MESOS with mesos.image, or DOCKER
with docker.image) runs in a container made from that image, under the shim, as container
tasks do. The executor is a static C program the test builds (data/ctr_executor.c) into the
busybox image of test_images.py; it speaks the v1 executor API over HTTP to
$MESOS_AGENT_ENDPOINT and runs its tasks as its own children. Checked: the tasks reach
TASK_FINISHED; the executor and its tasks see the image's own /inside-only; the tasks are its
children; the sandbox is at $MESOS_SANDBOX; KILL, SHUTDOWN, and the agent's kill of an
executor that ignores SHUTDOWN (the container goes); kill -9 of the agent under a
checkpointing framework's containerised executor (it subscribes again); a missing image
fails the tasks with REASON_CONTAINER_LAUNCH_FAILED; BRIDGE networking is refused.

Needs root, crun, umoci, busybox-static and gcc (scripts/install-deps.sh --test)."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import helpers
from helpers import wait_until
from mesos_client import Framework
from test_images import berth_image, containers_under, layout, mounts_under, need, sh  # noqa: F401

SRC = Path(__file__).parent / "data" / "ctr_executor.c"


@pytest.fixture(scope="module")
def xlayout(layout, tmp_path_factory):
    """bbimg:xexec: the base image plus /bin/ctr-executor."""
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build the executor")
    d = tmp_path_factory.mktemp("xexec")
    exe = d / "ctr-executor"
    p = subprocess.run(["gcc", "-static", "-O2", "-o", str(exe), str(SRC)],
                       capture_output=True, text=True)
    if p.returncode:
        pytest.skip("cannot build a static program: %s" % p.stderr[-300:])
    bundle = d / "unpacked"
    sh("umoci", "unpack", "--image", "%s:base" % layout, str(bundle))
    shutil.copy(exe, bundle / "rootfs" / "bin" / "ctr-executor")
    sh("umoci", "repack", "--image", "%s:xexec" % layout, str(bundle))
    return layout


@pytest.fixture
def xc(cluster, xlayout):
    """A master and an agent whose image store has bbimg:xexec; at the end, no container
    left under the work dir."""
    need()
    cluster.master()
    a = cluster.agent()
    rc, out, err = berth_image("import", "--store", str(a.work_dir / "images"), str(xlayout))
    assert rc == 0, err
    assert "docker.io/library/bbimg:xexec" in out
    yield cluster
    try:
        wait_until(lambda: not containers_under(cluster.workdir) and
                   not mounts_under(cluster.workdir), 30,
                   what="the executors' containers deleted and their rootfs unmounted")
    finally:  # a failed test's leftovers (a checkpointing executor outlives the agent)
        for ctr in containers_under(cluster.workdir):
            subprocess.run(["crun", "delete", "-f", ctr], capture_output=True)
        for m in reversed(mounts_under(cluster.workdir)):
            subprocess.run(["umount", "-l", m], capture_output=True)


def mesos_container(image):
    return {"type": "MESOS", "mesos": {"image": {"type": "DOCKER", "docker": {"name": image}}}}


def docker_container(image, network="HOST"):
    return {"type": "DOCKER", "docker": {"image": image, "network": network}}


def executor_info(eid, container, env=()):
    return {"executor_id": {"value": eid}, "name": "c-executor",
            "command": {"value": "exec /bin/ctr-executor",
                        "environment": {"variables": [
                            {"name": k, "value": v} for k, v in
                            [(helpers.TAG_VAR, helpers.current_tag())] + list(env)]}},
            "container": container,
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                          {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}]}


def task(tid, offer, ei, name=None):
    return {"name": name or tid, "task_id": {"value": tid}, "agent_id": offer["agent_id"],
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                          {"name": "mem", "type": "SCALAR", "scalar": {"value": 16}}],
            "executor": ei, "kill_policy": {"grace_period": {"nanoseconds": 1000000000}}}


def sandbox(c, fw, eid):
    return c.a.work_dir / "sandboxes" / ("executor.%s.%s" % (fw.id, eid))


def test_executor_and_its_tasks_run_in_the_image(xc):
    assert not Path("/inside-only").exists()  # only the image has it
    fw = Framework(xc.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    ei = executor_info("ce1", mesos_container("bbimg:xexec"))
    r = fw.accept([o["id"]["value"]], [task("c1", o, ei), task("c2", o, ei),
                                       task("c3", o, ei, name="hold-c3")])
    assert r.status_code == 202, r.text
    pids = set()
    for tid in ("c1", "c2", "c3"):
        st = fw.wait_update(tid, "TASK_RUNNING", timeout=60)
        assert st["source"] == "SOURCE_EXECUTOR"
        # The executor read the image's file: it runs in the container's rootfs.
        assert st["message"].endswith(" image=in the image"), st
        pids.add(st["message"].split()[0])
    assert len(pids) == 1  # one executor for all three
    pid = pids.pop().split("=")[1]
    box = sandbox(xc, fw, "ce1")
    for tid in ("c1", "c2"):
        st = fw.wait_update(tid, "TASK_FINISHED", timeout=30)
        assert st["message"] == "done in the container"
        # The task ran in the same container (the image's file), as the executor's child,
        # and wrote to $MESOS_SANDBOX, which is the executor's sandbox on the host.
        assert (box / ("%s.out" % tid)).read_text() == "in the image\nppid=%s\n" % pid
    out = (box / "stdout").read_text()
    assert "/inside-only: in the image, sandbox /mnt/mesos/sandbox" in out
    assert any(c for c in containers_under(xc.workdir))  # crun runs it
    # A KILL reaches the executor, which kills its child.
    assert fw.kill("c3").status_code == 202
    st = fw.wait_update("c3", "TASK_KILLED")
    assert st["message"] == "killed by the executor"
    # SHUTDOWN: the executor exits 0; the container goes, the scheduler hears FAILURE.
    o = fw.wait_offers()[0]
    assert fw.accept([o["id"]["value"]], [task("c4", o, ei, name="hold-c4")]).status_code == 202
    fw.wait_update("c4", "TASK_RUNNING", timeout=30)
    r = fw.call({"type": "SHUTDOWN", "shutdown": {"agent_id": o["agent_id"],
                                                  "executor_id": {"value": "ce1"}}})
    assert r.status_code == 202, r.text
    st = fw.wait_update("c4", "TASK_FAILED", timeout=30)
    assert st["reason"] == "REASON_EXECUTOR_TERMINATED"
    assert st["message"] == "Executor terminated: exited with status 0"
    fails = wait_until(lambda: [e["failure"] for e in fw.all_events if e["type"] == "FAILURE"],
                       timeout=10, what="FAILURE event")
    assert fails == [{"agent_id": o["agent_id"], "executor_id": {"value": "ce1"}, "status": 0}]
    wait_until(lambda: not containers_under(xc.workdir), 30, what="the container deleted")
    assert not (xc.a.work_dir / "xmeta").exists() or not list((xc.a.work_dir / "xmeta").iterdir())


def test_executor_ignoring_shutdown_is_killed_with_its_container(xc):
    fw = Framework(xc.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    ei = executor_info("ce2", docker_container("bbimg:xexec"), env=[("IGNORE_SHUTDOWN", "1")])
    assert fw.accept([o["id"]["value"]], [task("d1", o, ei, name="hold-d1")]).status_code == 202
    st = fw.wait_update("d1", "TASK_RUNNING", timeout=60)
    assert st["message"].endswith(" image=in the image")
    r = fw.call({"type": "SHUTDOWN", "shutdown": {"agent_id": o["agent_id"],
                                                  "executor_id": {"value": "ce2"}}})
    assert r.status_code == 202, r.text
    # Its grace period (5 s) passes; the agent has the shim kill the container.
    st = fw.wait_update("d1", "TASK_FAILED", timeout=30)
    assert st["reason"] == "REASON_EXECUTOR_TERMINATED"
    assert st["message"] == "Executor terminated: killed by signal 9", st
    fails = wait_until(lambda: [e["failure"] for e in fw.all_events if e["type"] == "FAILURE"],
                       timeout=10, what="FAILURE event")
    assert fails == [{"agent_id": o["agent_id"], "executor_id": {"value": "ce2"}, "status": 9}]
    wait_until(lambda: not containers_under(xc.workdir), 30, what="the container deleted")


def test_missing_image_fails_the_tasks_and_bridge_is_refused(xc):
    fw = Framework(xc.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    ei = executor_info("ce3", mesos_container("bbimg:nosuch"))
    assert fw.accept([o["id"]["value"]], [task("m1", o, ei)]).status_code == 202
    st = fw.wait_update("m1", ["TASK_FAILED", "TASK_RUNNING"], timeout=60)
    assert st["state"] == "TASK_FAILED", st
    assert st["reason"] == "REASON_CONTAINER_LAUNCH_FAILED"
    # berth-image's own reason (here: no registry to pull from).
    assert st["message"].startswith("Failed to launch executor 'ce3': Failed to pull image "
                                    "'docker.io/library/bbimg:nosuch'"), st
    # The master saw it end: it is no longer listed, its resources are back.
    wait_until(lambda: not [e for f in xc.m.api.get("/master/state").json()["frameworks"]
                            for e in f.get("executors", []) if e["executor_id"] == "ce3"],
               10, what="ce3 gone")
    o = fw.wait_offers()[0]
    bad = executor_info("ce4", docker_container("bbimg:xexec", network="BRIDGE"))
    assert fw.accept([o["id"]["value"]], [task("m2", o, bad)]).status_code == 202
    st = fw.wait_update("m2", "TASK_ERROR")
    assert "host's network" in st["message"], st
    bad = executor_info("ce5", {"type": "DOCKER", "docker": {}})
    o = fw.wait_offers()[0]
    assert fw.accept([o["id"]["value"]], [task("m3", o, bad)]).status_code == 202
    st = fw.wait_update("m3", "TASK_ERROR")
    assert st["message"] == "'executor.container.docker.image' is required for a DOCKER container"


def test_agent_restart_under_a_containerised_executor(xc):
    """kill -9 the agent under a checkpointing framework's executor in a container: the
    container keeps running, the executor subscribes again, a KILL after the restart
    reaches it, and a SHUTDOWN ends it (its end read from the shim's status by the new
    agent, which is not the shim's parent)."""
    fw = Framework(xc.m.url, failover_timeout=60)
    fw.info["checkpoint"] = True
    fw.subscribe()
    o = fw.wait_offers()[0]
    ei = executor_info("ce6", mesos_container("bbimg:xexec"))
    r = fw.accept([o["id"]["value"]], [task("r1", o, ei, name="hold-r1"),
                                       task("r2", o, ei, name="hold-r2")])
    assert r.status_code == 202, r.text
    fw.wait_update("r1", "TASK_RUNNING", timeout=60)
    fw.wait_update("r2", "TASK_RUNNING", timeout=30)
    ckpt = xc.a.work_dir / "xexecs" / ("executor.%s.ce6.json" % fw.id)
    shim = json.loads(ckpt.read_text())["pid"]
    ctrs = containers_under(xc.workdir)
    assert len(ctrs) == 1
    xc.a.kill9()
    os.kill(shim, 0)  # the shim and its container outlived the agent
    assert containers_under(xc.workdir) == ctrs
    xc.a.start()
    wait_until(lambda: (xc.m.api.get("/master/state").json()["slaves"][0]["active"]),
               timeout=30, what="agent re-registered")
    # The executor subscribes again (a KILL before that would be dropped: executor-api.md),
    # then a KILL reaches it.
    wait_until(lambda: "'ce6' of framework '%s' subscribed again" % fw.id
               in xc.a.stderr_text(), timeout=30, what="the executor's new SUBSCRIBE")
    assert fw.kill("r1").status_code == 202
    st = fw.wait_update("r1", "TASK_KILLED", timeout=20)
    assert st["message"] == "killed by the executor", st
    os.kill(shim, 0)
    r = fw.call({"type": "SHUTDOWN", "shutdown": {"agent_id": o["agent_id"],
                                                  "executor_id": {"value": "ce6"}}})
    assert r.status_code == 202, r.text
    st = fw.wait_update("r2", "TASK_FAILED", timeout=30)
    assert st["reason"] == "REASON_EXECUTOR_TERMINATED"
    assert st["message"] == "Executor terminated: exited with status 0", st
    wait_until(lambda: not ckpt.exists(), timeout=10, what="checkpoint removed")
    wait_until(lambda: not containers_under(xc.workdir), 30, what="the container deleted")


def test_agent_stop_removes_the_container_of_a_framework_that_does_not_checkpoint(xc):
    fw = Framework(xc.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    ei = executor_info("ce7", mesos_container("bbimg:xexec"))
    assert fw.accept([o["id"]["value"]], [task("s1", o, ei, name="hold-s1")]).status_code == 202
    fw.wait_update("s1", "TASK_RUNNING", timeout=60)
    assert len(containers_under(xc.workdir)) == 1
    xc.a.stop()
    # The agent waited for the shim, which deleted the container and unmounted its rootfs.
    assert containers_under(xc.workdir) == []
    assert mounts_under(xc.workdir) == []
    assert not list((xc.a.work_dir / "xmeta").iterdir())
