"""Custom executors (issue 19, docs/internals/executor-api.md): a v1 scheduler
(mesos_client.py) launches tasks whose TaskInfo has an `executor`; the real agent starts
that executor (xexec_executor.py, a Python program speaking the v1 executor API) once, hands
it the tasks as LAUNCH events, and turns its UPDATEs into the scheduler's UPDATE events."""
import base64
import json
import os
import sys

import requests

import helpers
from helpers import wait_until
from mesos_client import Framework

EXECUTOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "xexec_executor.py")


def executor_info(eid):
    return {"executor_id": {"value": eid}, "name": "py-executor",
            "command": {"value": "exec %s %s" % (sys.executable, EXECUTOR),
                        "environment": {"variables": [
                            {"name": helpers.TAG_VAR, "value": helpers.current_tag()}]}},
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                          {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}]}


def task(tid, offer, eid, name=None):
    return {"name": name or tid, "task_id": {"value": tid}, "agent_id": offer["agent_id"],
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                          {"name": "mem", "type": "SCALAR", "scalar": {"value": 16}}],
            "executor": executor_info(eid),
            "kill_policy": {"grace_period": {"nanoseconds": 1000000000}}}


def sandbox(agent, fw, eid):
    return agent.work_dir / "sandboxes" / ("executor.%s.%s" % (fw.id, eid))


def events(agent, fw, eid):
    p = sandbox(agent, fw, eid) / "events.jsonl"
    return [json.loads(x) for x in p.read_text().splitlines()] if p.exists() else []


def test_two_tasks_on_one_executor_finish(one):
    fw = Framework(one.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    r = fw.accept([o["id"]["value"]], [task("x1", o, "e1"), task("x2", o, "e1")])
    assert r.status_code == 202, r.text
    for tid in ("x1", "x2"):
        st = fw.wait_update(tid, "TASK_RUNNING")
        assert st["source"] == "SOURCE_EXECUTOR"
        st = fw.wait_update(tid, "TASK_FINISHED")
        assert st["message"] == "from executor"
        assert st["agent_id"] == o["agent_id"]
    # One executor for both, with Mesos's environment; it got SUBSCRIBED, then both tasks.
    box = sandbox(one.a, fw, "e1")
    env = json.loads((box / "env.json").read_text())
    assert env["MESOS_FRAMEWORK_ID"] == fw.id and env["MESOS_EXECUTOR_ID"] == "e1"
    assert env["MESOS_SANDBOX"] == env["MESOS_DIRECTORY"] == str(box)
    assert env["MESOS_AGENT_ENDPOINT"].endswith(":%d" % one.a.port)
    evs = events(one.a, fw, "e1")
    kinds = [e["type"] for e in evs]
    assert kinds[0] == "SUBSCRIBED"
    assert evs[0]["subscribed"]["executor_info"]["executor_id"]["value"] == "e1"
    assert [e["launch"]["task"]["task_id"]["value"] for e in evs if e["type"] == "LAUNCH"] \
        == ["x1", "x2"]
    assert kinds.count("ACKNOWLEDGED") == 4


def test_kill_reaches_the_executor(one):
    fw = Framework(one.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    assert fw.accept([o["id"]["value"]], [task("h1", o, "e2", name="hold-1")]).status_code == 202
    fw.wait_update("h1", "TASK_RUNNING")
    # Both sides still render their state with such a task.
    state = requests.get(one.m.url + "/master/state", timeout=10).json()
    tasks = [t for f in state["frameworks"] for t in f["tasks"]]
    assert [t["state"] for t in tasks if t["id"] == "h1"] == ["TASK_RUNNING"]
    assert requests.get(one.a.url + "/state", timeout=10).status_code == 200
    assert fw.kill("h1").status_code == 202
    st = fw.wait_update("h1", "TASK_KILLED")
    assert st["source"] == "SOURCE_EXECUTOR"
    kill = wait_until(lambda: [e["kill"] for e in events(one.a, fw, "e2")
                               if e["type"] == "KILL"], timeout=10, what="KILL event")
    assert kill == [{"task_id": {"value": "h1"},
                     "kill_policy": {"grace_period": {"nanoseconds": 1000000000}}}]


def test_executor_exit_fails_its_tasks(one):
    fw = Framework(one.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    r = fw.accept([o["id"]["value"]], [task("q1", o, "e4", name="hold-q1"),
                                       task("q2", o, "e4", name="exit-q2")])
    assert r.status_code == 202, r.text
    for tid in ("q1", "q2"):
        st = fw.wait_update(tid, "TASK_FAILED")
        assert st["reason"] == "REASON_EXECUTOR_TERMINATED"
        assert st["message"] == "Executor terminated: exited with status 3"
    # Mesos's FAILURE event, with the executor's wait status (in no set order with the
    # updates, as in Mesos).
    fails = wait_until(lambda: [e["failure"] for e in fw.all_events if e["type"] == "FAILURE"],
                       timeout=10, what="FAILURE event")
    assert fails == [{"agent_id": o["agent_id"], "executor_id": {"value": "e4"},
                      "status": 3 << 8}]


def test_invalid_executor_is_refused(one):
    fw = Framework(one.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    t = task("bad", o, "e3")
    del t["executor"]["command"]
    assert fw.accept([o["id"]["value"]], [t]).status_code == 202
    st = fw.wait_update("bad", "TASK_ERROR")
    assert "executor.command.value" in st["message"]


def test_framework_messages_both_ways(one):
    fw = Framework(one.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    assert fw.accept([o["id"]["value"]], [task("m1", o, "e5", name="hold-m1")]).status_code == 202
    fw.wait_update("m1", "TASK_RUNNING")
    data = base64.b64encode(b"hello executor").decode()
    r = fw.call({"type": "MESSAGE", "message": {"agent_id": o["agent_id"],
                                                "executor_id": {"value": "e5"}, "data": data}})
    assert r.status_code == 202, r.text
    got = wait_until(lambda: [e["message"] for e in events(one.a, fw, "e5")
                              if e["type"] == "MESSAGE"], timeout=10, what="MESSAGE event")
    assert got == [{"data": data}]
    ev = fw.wait_event(lambda e: e["type"] == "MESSAGE", timeout=10, what="MESSAGE event")
    assert ev["message"] == {"agent_id": o["agent_id"], "executor_id": {"value": "e5"},
                             "data": base64.b64encode(b"echo hello executor").decode()}


def test_shutdown_ends_the_executor(one):
    fw = Framework(one.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    assert fw.accept([o["id"]["value"]], [task("s1", o, "e6", name="hold-s1")]).status_code == 202
    fw.wait_update("s1", "TASK_RUNNING")
    r = fw.call({"type": "SHUTDOWN", "shutdown": {"agent_id": o["agent_id"],
                                                  "executor_id": {"value": "e6"}}})
    assert r.status_code == 202, r.text
    st = fw.wait_update("s1", "TASK_FAILED")
    assert st["reason"] == "REASON_EXECUTOR_TERMINATED"
    assert "SHUTDOWN" in [e["type"] for e in events(one.a, fw, "e6")]
