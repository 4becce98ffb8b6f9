"""A custom executor's `uris` (issue 19, docs/internals/executor-api.md): fetched into its
sandbox by the tasks' fetcher before it starts (extract and executable honoured); a URI
that cannot be fetched fails its tasks with REASON_CONTAINER_LAUNCH_FAILED."""
import os
import sys
import tarfile

import helpers
from mesos_client import Framework

EXECUTOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "xexec_executor.py")


def executor_info(eid, cmd, uris):
    return {"executor_id": {"value": eid}, "name": "fetched-executor",
            "command": {"value": cmd, "uris": uris,
                        "environment": {"variables": [
                            {"name": helpers.TAG_VAR, "value": helpers.current_tag()}]}},
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                          {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}]}


def task(tid, offer, ei):
    return {"name": tid, "task_id": {"value": tid}, "agent_id": offer["agent_id"],
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                          {"name": "mem", "type": "SCALAR", "scalar": {"value": 16}}],
            "executor": ei}


def test_executor_uris_fetched_before_it_starts(one):
    src = one.workdir / "xuris"
    src.mkdir(exist_ok=True)
    (src / "hello.txt").write_text("hello\n")
    with tarfile.open(src / "payload.tar.gz", "w:gz") as tf:
        tf.add(src / "hello.txt", arcname="data/hello.txt")
    run = src / "run-exec.sh"
    run.write_text("#!/bin/sh\nset -e\ntest -f data/hello.txt\ntest -f payload.tar.gz\n"
                   "exec %s %s\n" % (sys.executable, EXECUTOR))
    os.chmod(run, 0o644)  # made executable by the fetcher
    uris = [{"value": "file://%s" % (src / "payload.tar.gz"), "extract": True},
            {"value": str(run), "executable": True, "extract": False}]
    fw = Framework(one.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    ei = executor_info("fe1", "./run-exec.sh", uris)
    r = fw.accept([o["id"]["value"]], [task("u1", o, ei), task("u2", o, ei)])
    assert r.status_code == 202, r.text
    for tid in ("u1", "u2"):
        st = fw.wait_update(tid, ["TASK_FINISHED", "TASK_FAILED"], timeout=30)
        assert st["state"] == "TASK_FINISHED", st
    box = one.a.work_dir / "sandboxes" / ("executor.%s.fe1" % fw.id)
    assert (box / "data" / "hello.txt").read_text() == "hello\n"
    assert os.access(box / "run-exec.sh", os.X_OK)

    listed = [e["executor_id"] for f in one.m.api.get("/master/state").json()["frameworks"]
              for e in f.get("executors", [])]
    assert listed == ["fe1"], listed

    # A URI that cannot be fetched: the executor never starts, its tasks fail.
    o = fw.wait_offers()[0]
    bad = executor_info("fe2", "./run-exec.sh",
                        [{"value": "file://%s" % (src / "missing.tar.gz")}])
    assert fw.accept([o["id"]["value"]], [task("u3", o, bad)]).status_code == 202
    st = fw.wait_update("u3", ["TASK_FINISHED", "TASK_FAILED"], timeout=30)
    assert st["state"] == "TASK_FAILED", st
    assert st["reason"] == "REASON_CONTAINER_LAUNCH_FAILED"
    assert st["message"].startswith("Failed to fetch 'file://%s'" % (src / "missing.tar.gz"))
    # The master saw it end: its resources are back, it is no longer listed.
    helpers.wait_until(lambda: not [e for f in one.m.api.get("/master/state").json()["frameworks"]
                                    for e in f.get("executors", [])
                                    if e["executor_id"] == "fe2"], 10, what="fe2 gone")
