"""A custom executor, as a framework author writes one against the Mesos v1 executor HTTP
API: SUBSCRIBE (a RecordIO stream) on the agent named by MESOS_AGENT_ENDPOINT, then for each
LAUNCH an UPDATE TASK_RUNNING and, unless the task's name starts with "hold", TASK_FINISHED ("exit": the executor exits
with status 3 instead);
a KILL gets TASK_KILLED; a MESSAGE is answered with a MESSAGE "echo <data>". It writes the environment it got and the events it saw (one JSON
line each) into its sandbox, and exits when the stream ends."""
import base64
import json
import os
import sys
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


def update(task_id, state):
    st = {"task_id": {"value": task_id}, "state": state, "source": "SOURCE_EXECUTOR",
          "uuid": base64.b64encode(uuid.uuid4().bytes).decode(), "message": "from executor"}
    r = requests.post(URL, data=json.dumps(dict(IDS, type="UPDATE", update={"status": st})),
                      headers=HDR, timeout=10)
    assert r.status_code == 202, (r.status_code, r.text)


def main():
    with open("env.json", "w") as f:
        json.dump({k: v for k, v in os.environ.items() if k.startswith("MESOS_")}, f)
    log = open("events.jsonl", "a", buffering=1)
    r = requests.post(URL, data=json.dumps(dict(IDS, type="SUBSCRIBE", subscribe={})),
                      headers=HDR, stream=True, timeout=(10, None))
    assert r.status_code == 200, (r.status_code, r.text)
    for rec in read_records(r.raw):
        ev = json.loads(rec)
        log.write(json.dumps(ev) + "\n")
        if ev["type"] == "LAUNCH":
            task = ev["launch"]["task"]
            tid = task["task_id"]["value"]
            update(tid, "TASK_RUNNING")
            if task["name"].startswith("exit"):
                os._exit(3)
            if not task["name"].startswith("hold"):
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
            break


if __name__ == "__main__":
    main()
