"""/master/state assembled from per-task cached renderings (issue 12, master/state-cache.c):
while tasks change (health results flowing, a task killed and replaced, an app scaled), every
answer is what a render from scratch gives — the master runs with BERTH_RENDER_VERIFY=1,
which renders every cache hit and the whole answer again and logs a stale one (the
operator API's GET_TASKS and GET_STATE too) — answers
follow the changes, and one body has one ETag (If-None-Match -> 304)."""
import json
import time

from helpers import app_def, wait_until
from test_read_cache import raw


def live_tasks(st):
    return [t for f in st["frameworks"] for t in f["tasks"]]


def test_state_follows_changes_in_verify_mode(cluster, monkeypatch):
    monkeypatch.setenv("BERTH_RENDER_VERIFY", "1")
    m = cluster.master()
    cluster.agent()
    hc = {"protocol": "COMMAND", "command": {"value": "test $(( $(date +%s) % 2 )) -eq 0"},
          "gracePeriodSeconds": 0, "intervalSeconds": 1, "timeoutSeconds": 1,
          "maxConsecutiveFailures": 100000}
    for i in range(2):
        r = m.api.post("/v2/apps", app_def("/sc/app-%d" % i, "exec sleep 3600", instances=2,
                                           healthChecks=[hc]))
        assert r.status_code == 201, r.text

    def healthy_seen():
        st = m.api.get("/master/state").json()
        ts = live_tasks(st)
        return len(ts) == 4 and all(t["statuses"] and "healthy" in t["statuses"][-1] for t in ts)
    wait_until(healthy_seen, 40, interval=0.2, what="4 tasks with health results in /master/state")

    tags = {}
    bodies = set()
    end = time.monotonic() + 8
    step = 0
    while time.monotonic() < end:
        st, h, body = raw(m.url, "/master/state")
        assert st == 200, body[:200]
        assert tags.setdefault(h["etag"], body) == body  # one tag, one body
        bodies.add(body)
        step += 1
        if step == 20:  # a task killed (replaced) and an app scaled up, mid-flow
            tid = m.api.get("/v2/apps/sc/app-0/tasks").json()["tasks"][0]["id"]
            assert m.api.delete("/v2/apps/sc/app-0/tasks/" + tid).status_code == 200
            assert m.api.put("/v2/apps/sc/app-1?force=true", json={"instances": 3}).status_code == 200
        # the tag of what was just sent answers 304 while nothing changed, or a new body
        st2, h2, b2 = raw(m.url, "/master/state", {"If-None-Match": h["etag"]})
        assert (st2, b2) == (304, b"") or (st2 == 200 and h2["etag"] != h["etag"])
        # the operator API's tasks come from the same cache (GET_TASKS, GET_STATE)
        for call in ("GET_TASKS", "GET_STATE"):
            r = m.api.post("/api/v1", json={"type": call})
            assert r.status_code == 200, r.text
            got = r.json()
            tasks = (got["get_tasks"] if call == "GET_TASKS" else got["get_state"]["get_tasks"])
            assert tasks.get("tasks"), got
    assert len(bodies) >= 4, len(bodies)  # the answers followed the health results

    def settled():
        ts = live_tasks(json.loads(raw(m.url, "/master/state")[2]))
        return len([t for t in ts if t["state"] == "TASK_RUNNING"]) == 5
    wait_until(settled, 40, interval=0.2, what="5 running tasks after the kill and the scale")
    v1 = m.api.post("/api/v1", json={"type": "GET_TASKS"}).json()["get_tasks"]["tasks"]
    assert len([t for t in v1 if t["state"] == "TASK_RUNNING"]) == 5, v1
    log = m.stderr_path.read_text()
    assert "state cache stale" not in log, log[-2000:]
