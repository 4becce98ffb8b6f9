"""Hooks (issue 19, docs/hooks.md): the agent's --hook-task-launch and --hook-task-end
executables get a JSON document on stdin; the launch hook decorates the task's environment
and its status labels, or vetoes it; a failing, slow or chatty hook fails the task; the
agent's loop is never blocked by a hook."""
import json
import os
import time

import requests

from helpers import wait_until
from mesos_client import Framework, command_task

LAUNCH = r'''#!/usr/bin/python3
import json, os, sys, time
doc = json.load(sys.stdin)
d = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(d, "launch-%s.json" % doc["task_id"]), "w") as f:
    json.dump(doc, f)
mode = doc["task"].get("env", {}).get("HOOK_MODE", "")
if mode == "decorate":
    print(json.dumps({"environment": {"variables": [{"name": "FROM_HOOK", "value": "yes"},
                                                    {"name": "MODE_SEEN", "value": mode}]},
                      "labels": {"labels": [{"key": "hooked", "value": "1"}]}}))
elif mode == "veto":
    print(json.dumps({"veto": "not on this agent"}))
elif mode == "fail":
    sys.exit(3)
elif mode == "slow":
    time.sleep(30)
elif mode == "garbage":
    print("nope")
elif mode == "chatty":
    sys.stdout.write("x" * 200000)
elif mode == "badenv":
    print(json.dumps({"environment": {"variables": [{"name": "A=B", "value": "1"}]}}))
'''

END = r'''#!/usr/bin/python3
import json, os, sys
doc = json.load(sys.stdin)
d = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(d, "end-%s.json" % doc["task_id"]), "w") as f:
    json.dump(doc, f)
'''


def write_hook(path, text):
    path.write_text(text)
    os.chmod(path, 0o755)
    return str(path)


def test_launch_and_end_hooks(cluster):
    hooks = cluster.workdir / "hooks"
    hooks.mkdir()
    launch = write_hook(hooks / "launch.py", LAUNCH)
    end = write_hook(hooks / "end.py", END)
    m = cluster.master()
    a = cluster.agent(extra=["--hook-task-launch", launch, "--hook-task-end", end,
                             "--hook-timeout", "2"])
    wait_until(lambda: a.slave(), 20, what="agent registered")
    fw = Framework(m.url, name="hooks")
    fw.subscribe()

    def run(tid, mode, cmd="true"):
        o = fw.wait_offers()[0]
        t = command_task(tid, o, cmd, env={"HOOK_MODE": mode})
        assert fw.accept([o["id"]["value"]], [t]).status_code == 202

    # Decorated: the hook's variables reach the task, its labels the task's updates.
    run("deco", "decorate", 'test "$FROM_HOOK" = yes && test "$MODE_SEEN" = decorate')
    s = fw.wait_update("deco", ["TASK_FINISHED", "TASK_FAILED"])
    assert s["state"] == "TASK_FINISHED", s
    assert s["labels"] == {"labels": [{"key": "hooked", "value": "1"}]}
    doc = json.loads((hooks / "launch-deco.json").read_text())
    assert doc["hook"] == "task_launch" and doc["task_id"] == "deco"
    assert doc["framework_id"] == fw.id and doc["agent_id"] == a.slave()["id"]
    assert doc["sandbox"].endswith("/deco") and doc["task"]["cmd"].startswith("test ")
    end_doc = wait_until(lambda: (hooks / "end-deco.json").exists() and json.loads(
        (hooks / "end-deco.json").read_text()), 10, what="end hook of deco")
    assert end_doc["hook"] == "task_end" and end_doc["status"]["state"] == "TASK_FINISHED"

    # Refusals: each fails the task before it runs, with the reason.
    cases = {
        "veto": "Vetoed by the task launch hook: not on this agent",
        "fail": "Task launch hook exited with status 3",
        "garbage": "Task launch hook: invalid output",
        "chatty": "Task launch hook its output went over 65536 bytes",
        "badenv": "'environment.variables[0]' needs a 'name' (no '=')",
    }
    for mode, msg in cases.items():
        run("t-" + mode, mode, "touch ran-anyway")
        s = fw.wait_update("t-" + mode, ["TASK_FINISHED", "TASK_FAILED"])
        assert s["state"] == "TASK_FAILED" and msg in s.get("message", ""), (mode, s)
        assert s["reason"] == "REASON_CONTAINER_LAUNCH_FAILED"
        assert not os.path.exists(a.work_dir / "sandboxes" / ("t-" + mode) / "ran-anyway")
    wait_until(lambda: (hooks / "end-t-veto.json").exists(), 10, what="end hook of a veto")

    # A slow hook is killed at the timeout, and does not hold the agent meanwhile.
    run("slow", "slow")
    wait_until(lambda: (hooks / "launch-slow.json").exists(), 10, what="slow hook started")
    t0 = time.monotonic()
    r = requests.get(a.url + "/state", timeout=5)
    assert r.status_code == 200 and time.monotonic() - t0 < 1.0
    run("quick", "", "true")
    s = fw.wait_update("quick", ["TASK_FINISHED", "TASK_FAILED"])
    assert s["state"] == "TASK_FINISHED", s
    s = fw.wait_update("slow", ["TASK_FINISHED", "TASK_FAILED"], timeout=20)
    assert s["state"] == "TASK_FAILED" and "timed out after 2 s" in s["message"], s
    fw.teardown()


def test_bad_hook_flag(cluster):
    cluster.master()
    a = cluster.agent(extra=["--hook-task-launch", "relative/hook"], wait=False)
    a.expect_dead = True
    wait_until(lambda: a.p.poll() is not None, 10, what="agent exits")
    assert a.p.returncode != 0
    assert "not an absolute path to an executable file" in a.stderr_text()


MASTER_LAUNCH = r'''#!/usr/bin/python3
import json, os, sys
doc = json.load(sys.stdin)
d = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(d, "mlaunch-%s.json" % doc["task_id"]), "w") as f:
    json.dump(doc, f)
name = doc["task"]["name"]
if name.startswith("veto"):
    print(json.dumps({"veto": "no " + name}))
elif name.startswith("deco"):
    print(json.dumps({"environment": {"variables": [{"name": "FROM_MASTER", "value": "yes"}]},
                      "labels": {"labels": [{"key": "by", "value": "master-hook"}]}}))
elif name.startswith("crash"):
    sys.exit(5)
'''


def test_master_hooks(cluster):
    """The master's hooks for v1 frameworks' tasks: decorate (environment; labels on the
    TaskInfo the executor gets), veto (TASK_ERROR, resources back), and the end hook."""
    from test_custom_executor import events, executor_info
    hooks = cluster.workdir / "mhooks"
    hooks.mkdir()
    launch = write_hook(hooks / "launch.py", MASTER_LAUNCH)
    end = write_hook(hooks / "end.py", END)
    m = cluster.master(extra=["--hook-task-launch", launch, "--hook-task-end", end])
    a = cluster.agent()
    wait_until(lambda: a.slave(), 20, what="agent registered")
    fw = Framework(m.url, name="mhooks")
    fw.subscribe()

    o = fw.wait_offers()[0]
    cpus = sum(r["scalar"]["value"] for r in o["resources"] if r["name"] == "cpus")
    t = command_task("deco-1", o, 'test "$FROM_MASTER" = yes')
    assert fw.accept([o["id"]["value"]], [t]).status_code == 202
    s = fw.wait_update("deco-1", ["TASK_FINISHED", "TASK_FAILED"])
    assert s["state"] == "TASK_FINISHED", s
    doc = json.loads((hooks / "mlaunch-deco-1.json").read_text())
    assert doc["hook"] == "task_launch" and doc["framework_id"] == fw.id
    assert doc["task"]["task_id"] == {"value": "deco-1"} and doc["agent_id"] == o["agent_id"]["value"]
    assert doc["framework_info"]["name"] == "mhooks"
    end_doc = wait_until(lambda: (hooks / "end-deco-1.json").exists() and json.loads(
        (hooks / "end-deco-1.json").read_text()), 10, what="master end hook")
    assert end_doc["hook"] == "task_end" and end_doc["status"]["state"] == "TASK_FINISHED"

    for name, msg in (("veto-1", "Vetoed by the task launch hook: no veto-1"),
                      ("crash-1", "Task launch hook exited with status 5")):
        o = fw.wait_offers()[0]
        t = command_task(name, o, "true")
        assert fw.accept([o["id"]["value"]], [t]).status_code == 202
        s = fw.wait_update(name, ["TASK_ERROR", "TASK_FINISHED", "TASK_FAILED"])
        assert s["state"] == "TASK_ERROR" and s["message"] == msg, s
        assert s["reason"] == "REASON_TASK_INVALID"
    # Nothing held by the refused tasks: the whole agent is offered again.
    o = wait_until(lambda: [x for x in fw.wait_offers() if sum(
        r["scalar"]["value"] for r in x["resources"] if r["name"] == "cpus") == cpus], 20,
        what="full offer")[0]

    # Labels reach the TaskInfo a custom executor gets.
    ei = executor_info("hx")
    t = {"name": "deco-x", "task_id": {"value": "deco-x"}, "agent_id": o["agent_id"],
         "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                       {"name": "mem", "type": "SCALAR", "scalar": {"value": 16}}],
         "executor": ei}
    assert fw.accept([o["id"]["value"]], [t]).status_code == 202
    fw.wait_update("deco-x", "TASK_FINISHED")
    launched = [e["launch"]["task"] for e in events(a, fw, "hx") if e["type"] == "LAUNCH"]
    assert launched[0]["labels"] == {"labels": [{"key": "by", "value": "master-hook"}]}
    fw.teardown()


def test_bad_master_hook_flag(cluster):
    m = cluster.master(extra=["--hook-task-end", "/nonexistent/hook"], wait=False)
    m.expect_dead = True
    wait_until(lambda: m.p.poll() is not None, 10, what="master exits")
    assert m.p.returncode != 0
    assert "not an absolute path to an executable file" in m.stderr_text()
