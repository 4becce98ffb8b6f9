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
