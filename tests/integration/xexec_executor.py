"""A custom executor, as a framework author writes one against the Mesos v1 executor HTTP
API: SUBSCRIBE (a RecordIO stream) on the agent named by MESOS_AGENT_ENDPOINT, then for each
LAUNCH an UPDATE TASK_RUNNING and, unless the task's name starts with "hold", TASK_FINISHED ("exit": the executor exits
with status 3 instead; "late": 3 s later);
a KILL gets TASK_KILLED; a MESSAGE is answered with a MESSAGE "echo <data>". It writes the environment it got and the events it saw (one JSON
line each) into its sandbox. When the stream ends without SHUTDOWN it exits, unless its
framework checkpoints (MESOS_CHECKPOINT=1): then it subscribes again (the agent restarted)
with its unacknowledged updates and tasks, as Mesos's executor library does, for up to
MESOS_RECOVERY_TIMEOUT (here: 60 s)."""
import base64
import json
import os
import sys
import threading
import time
import uuid

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mesos_client import read_records  # noqa: E402

URL = "http://%s/api/v1/executor" % os.environ["MESOS_AGENT_ENDPOINT"]
IDS = {"framework_id": {"value": os.environ["MESOS_FRAMEWORK_ID"]},
       "executor_id": {"value": os.environ["MESOS_EXECUTOR_ID"]}}
HDR = {"Content-Type": "application/json", "Accept": "application/json"}
if os.environ.get("MESOS_EXECUTOR_AUTHENTICATION_TOKEN"):  # as Mesos's executor libraries do
    HDR["Authorization"] = "Bearer " + os.environ["MESOS_EXECUTOR_AUTHENTICATION_TOKEN"]


UNACKED_UPDATES = {}  # uuid -> TaskStatus not acknowledged by the agent yet
UNACKED_TASKS = {}    # task id -> TaskInfo with no acknowledged update yet


def update(task_id, state):
    st = {"task_id": {"value": task_id}, "state": state, "source": "SOURCE_EXECUTOR",
          "uuid": base64.b64encode(uuid.uuid4().bytes).decode(), "message": "from executor"}
    UNACKED_UPDATES[st["uuid"]] = st
    r = requests.post(URL, data=json.dumps(dict(IDS, type="UPDATE", update={"status": st})),
                      headers=HDR, timeout=10)
    assert r.status_code == 202, (r.status_code, r.text)


def subscribe():
    """The SUBSCRIBE stream, retried while the agent is away (checkpointing only)."""
    deadline = time.monotonic() + 60
    while True:
        body = {"unacknowledged_tasks": list(UNACKED_TASKS.values()),
                "unacknowledged_updates": [{"status": s} for s in UNACKED_UPDATES.values()]}
        try:
            r = requests.post(URL, data=json.dumps(dict(IDS, type="SUBSCRIBE", subscribe=body)),
                              headers=HDR, stream=True, timeout=(10, None))
            if r.status_code == 200:
                return r
        except requests.RequestException:
            pass
        if os.environ.get("MESOS_CHECKPOINT") != "1" or time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.3)


def main():
    with open("env.json", "w") as f:
        json.dump({k: v for k, v in os.environ.items() if k.startswith("MESOS_")}, f)
    log = open("events.jsonl", "a", buffering=1)
    while True:
        if not stream(log):
            return  # SHUTDOWN
        if os.environ.get("MESOS_CHECKPOINT") != "1":
            return


def stream(log):
    """One subscription: False after SHUTDOWN, True when the stream broke."""
    r = subscribe()
    try:
        for rec in read_records(r.raw):
            if not handle(json.loads(rec), log):
                return False
    except Exception:  # noqa: BLE001 (the agent went away: urllib3's, requests', OS errors)
        pass
    return True


def handle(ev, log):
    log.write(json.dumps(ev) + "\n")
    if ev["type"] == "ACKNOWLEDGED":
        st = UNACKED_UPDATES.pop(ev["acknowledged"]["uuid"], None)
        if st:
            UNACKED_TASKS.pop(st["task_id"]["value"], None)
    elif ev["type"] == "LAUNCH":
        task = ev["launch"]["task"]
        tid = task["task_id"]["value"]
        UNACKED_TASKS[tid] = task
        update(tid, "TASK_RUNNING")
        if task["name"].startswith("exit"):
            os._exit(3)
        if task["name"].startswith("late"):
            # TASK_FINISHED 3 s later, from another thread: sent while the agent may be
            # away, it then waits among the unacknowledged updates of the next SUBSCRIBE.
            threading.Timer(3.0, update, (tid, "TASK_FINISHED")).start()
        elif not task["name"].startswith("hold"):
            update(tid, "TASK_FINISHED")
    elif ev["type"] == "KILL":
        update(ev["kill"]["task_id"]["value"], "TASK_KILLED")
    elif ev["type"] == "MESSAGE":
        echo = base64.b64encode(b"echo " + base64.b64decode(ev["message"]["data"])).decode()
        r = requests.post(URL, data=json.dumps(dict(IDS, type="MESSAGE",
                                                    message={"data": echo})),
                          headers=HDR, timeout=10)
        assert r.status_code == 202, (r.status_code, r.text)
    elif ev["type"] == "SHUTDOWN":
        return False
    return True


if __name__ == "__main__":
    main()
