"""Custom executors (issue 19, docs/internals/executor-api.md): a v1 scheduler
(mesos_client.py) launches tasks whose TaskInfo has an `executor`; the real agent starts
that executor (xexec_executor.py, a Python program speaking the v1 executor API) once, hands
it the tasks as LAUNCH events, and turns its UPDATEs into the scheduler's UPDATE events."""
import base64
import json
import os
import sys
import time

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


def operator(url, call):
    r = requests.post(url + "/api/v1", json={"type": call}, timeout=10,
                      headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    return r.json()


def used(m):
    state = requests.get(m.url + "/master/state", timeout=10).json()
    return state, state["slaves"][0]["used_resources"]


def test_executor_resources_are_taken_and_listed(one):
    """The ACCEPT launching an executor's first task takes task + executor resources; the
    executor is listed by /master/state, the operator API and the agent, and its resources
    go back when it ends."""
    fw = Framework(one.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    seen = len(fw.all_events)
    r = fw.accept([o["id"]["value"]], [task("r1", o, "e7", name="hold-r1"),
                                       task("r2", o, "e7", name="hold-r2")])
    assert r.status_code == 202, r.text
    fw.wait_update("r1", "TASK_RUNNING")
    fw.wait_update("r2", "TASK_RUNNING")
    # Offers of that agent made since name the framework's executor running there.
    offers = wait_until(lambda: [x for e in fw.all_events[seen:] if e["type"] == "OFFERS"
                                 for x in e["offers"]["offers"]], timeout=10, what="offers")
    assert offers[0]["executor_ids"] == [{"value": "e7"}], offers[0]
    state, u = used(one.m)
    # Two tasks (0.1 cpus, 16 mem each) and one executor (0.1 cpus, 32 mem): taken once.
    assert abs(u["cpus"] - 0.3) < 1e-9 and u["mem"] == 64, u
    f = [f for f in state["frameworks"] if f["id"] == fw.id][0]
    assert abs(f["used_resources"]["cpus"] - 0.3) < 1e-9 and f["used_resources"]["mem"] == 64
    assert len(f["executors"]) == 1
    ex = f["executors"][0]
    assert ex["executor_id"] == "e7" and ex["framework_id"] == fw.id
    assert ex["name"] == "py-executor" and ex["slave_id"] == o["agent_id"]["value"]
    assert ex["resources"]["mem"] == 32 and abs(ex["resources"]["cpus"] - 0.1) < 1e-9
    assert ex["command"]["value"].startswith("exec ")
    got = operator(one.m.url, "GET_EXECUTORS")["get_executors"]["executors"]
    assert len(got) == 1 and got[0]["agent_id"] == o["agent_id"]
    assert got[0]["executor_info"]["executor_id"] == {"value": "e7"}
    assert got[0]["executor_info"]["framework_id"] == {"value": fw.id}
    st = operator(one.m.url, "GET_STATE")["get_state"]["get_executors"]["executors"]
    assert st == got
    # The agent's GET_EXECUTORS: the custom executor, not one command executor per task.
    ag = operator(one.a.url, "GET_EXECUTORS")["get_executors"]["executors"]
    assert [e["executor_info"]["executor_id"]["value"] for e in ag] == ["e7"]
    assert ag[0]["executor_info"]["framework_id"] == {"value": fw.id}
    # Its exit gives the executor's resources back, with the tasks'.
    r = fw.call({"type": "SHUTDOWN", "shutdown": {"agent_id": o["agent_id"],
                                                  "executor_id": {"value": "e7"}}})
    assert r.status_code == 202, r.text
    fw.wait_update("r1", "TASK_FAILED")
    fw.wait_update("r2", "TASK_FAILED")
    wait_until(lambda: used(one.m)[1]["mem"] == 0 and used(one.m)[1]["cpus"] == 0,
               timeout=10, what="resources given back")
    state, _ = used(one.m)
    assert [f["executors"] for f in state["frameworks"] if f["id"] == fw.id] == [[]]
    assert "executors" not in operator(one.m.url, "GET_EXECUTORS")["get_executors"]


def test_executor_that_does_not_fit_is_refused(one):
    fw = Framework(one.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    t = task("big1", o, "big")
    t["executor"]["resources"][1]["scalar"]["value"] = 4090  # + the task's 16 > 4096
    # A second task naming a running executor with another ExecutorInfo is refused too.
    a, b = task("c1", o, "same", name="hold-c1"), task("c2", o, "same", name="hold-c2")
    b["executor"]["name"] = "another"
    assert fw.accept([o["id"]["value"]], [t, a, b]).status_code == 202
    st = fw.wait_update("big1", "TASK_ERROR")
    assert "required by task and its executor 'big' is more than available" in st["message"]
    st = fw.wait_update("c2", "TASK_ERROR")
    assert "not compatible with ExecutorInfo of existing executor 'same'" in st["message"]
    fw.wait_update("c1", "TASK_RUNNING")
    _, u = used(one.m)  # c1 and its executor only
    assert u["mem"] == 48, u


def test_agent_lost_sends_failure(cluster):
    """Mesos tells a framework of a lost agent with FAILURE carrying agent_id only; the
    executors there are forgotten."""
    cluster.master(agent_timeout=2)
    cluster.agent()
    fw = Framework(cluster.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    assert fw.accept([o["id"]["value"]], [task("l1", o, "e8", name="hold-l1")]).status_code == 202
    fw.wait_update("l1", "TASK_RUNNING")
    cluster.a.kill9()
    fw.wait_update("l1", "TASK_LOST", timeout=30)
    ev = fw.wait_event(lambda e: e["type"] == "FAILURE", timeout=10, what="FAILURE event")
    assert ev["failure"] == {"agent_id": o["agent_id"]}
    assert "executors" not in operator(cluster.m.url, "GET_EXECUTORS")["get_executors"]


def test_agent_restart_under_a_running_executor(one):
    """kill -9 the agent under a checkpointing framework's executor: the executor keeps
    running, subscribes again to the restarted agent, its task is not lost, and the task's
    later update (TASK_KILLED after a KILL) reaches the scheduler."""
    fw = Framework(one.m.url, failover_timeout=60)
    fw.info["checkpoint"] = True
    fw.subscribe()
    o = fw.wait_offers()[0]
    r = fw.accept([o["id"]["value"]], [task("w1", o, "e9", name="hold-w1"),
                                       task("w2", o, "e9", name="hold-w2")])
    assert r.status_code == 202, r.text
    fw.wait_update("w1", "TASK_RUNNING")
    fw.wait_update("w2", "TASK_RUNNING")
    ckpt = one.a.work_dir / "xexecs" / ("executor.%s.e9.json" % fw.id)
    pid = json.loads(ckpt.read_text())["pid"]
    assert json.loads(ckpt.read_text())["tasks"]["w1"]["state"] == "TASK_RUNNING"
    one.a.kill9()
    os.kill(pid, 0)  # the executor outlived the agent
    one.a.start()
    wait_until(lambda: [e["type"] for e in events(one.a, fw, "e9")].count("SUBSCRIBED") == 2,
               timeout=20, what="the executor's second SUBSCRIBED")
    os.kill(pid, 0)  # the same process
    # The restarted agent lists the executor and its tasks; the master still runs them.
    ag = operator(one.a.url, "GET_EXECUTORS")["get_executors"]["executors"]
    assert [e["executor_info"]["executor_id"]["value"] for e in ag] == ["e9"]
    wait_until(lambda: (requests.get(one.m.url + "/master/state", timeout=10).json()
                        ["slaves"][0]["active"]), timeout=20, what="agent re-registered")
    assert fw.kill("w1").status_code == 202
    st = fw.wait_update("w1", "TASK_KILLED")
    assert st["source"] == "SOURCE_EXECUTOR"
    state = requests.get(one.m.url + "/master/state", timeout=10).json()
    tasks = {t["id"]: t["state"] for f in state["frameworks"] for t in f["tasks"]}
    assert tasks.get("w2") == "TASK_RUNNING", tasks
    lost = [e for e in fw.all_events if e["type"] == "UPDATE"
            and e["update"]["status"]["state"] in ("TASK_LOST", "TASK_FAILED")]
    assert lost == []
    # Its end is still noticed by the restarted agent (not its child any more).
    r = fw.call({"type": "SHUTDOWN", "shutdown": {"agent_id": o["agent_id"],
                                                  "executor_id": {"value": "e9"}}})
    assert r.status_code == 202, r.text
    st = fw.wait_update("w2", "TASK_FAILED")
    assert st["reason"] == "REASON_EXECUTOR_TERMINATED"
    wait_until(lambda: not ckpt.exists(), timeout=10, what="checkpoint removed")


def test_update_sent_while_the_agent_is_away_is_reconciled(one):
    """An UPDATE the executor could not deliver while the agent was down goes with its next
    SUBSCRIBE (unacknowledged_updates); the restarted agent applies and acknowledges it."""
    fw = Framework(one.m.url, failover_timeout=60)
    fw.info["checkpoint"] = True
    fw.subscribe()
    o = fw.wait_offers()[0]
    assert fw.accept([o["id"]["value"]], [task("z1", o, "e10", name="late-z1")]).status_code \
        == 202
    fw.wait_update("z1", "TASK_RUNNING")
    one.a.kill9()
    time.sleep(4)  # the executor's TASK_FINISHED (3 s after LAUNCH) finds no agent
    one.a.start()
    st = fw.wait_update("z1", "TASK_FINISHED", timeout=30)
    assert st["source"] == "SOURCE_EXECUTOR" and st["message"] == "from executor"
    # The executor logs its events as it reads them, which a loaded machine may delay past
    # the scheduler's update.
    def subs():
        return [e["type"] for e in events(one.a, fw, "e10")
                if e["type"] in ("SUBSCRIBED", "ACKNOWLEDGED")]
    wait_until(lambda: len(subs()) >= 4, 10, what="the executor's events logged")
    assert subs() == ["SUBSCRIBED", "ACKNOWLEDGED", "SUBSCRIBED", "ACKNOWLEDGED"], subs()
