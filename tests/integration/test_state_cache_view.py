"""GET_TASKS and GET_STATE under view ACLs from the task cache (issue 12): the tasks a
principal may see are selected from the cached per-task renderings, piece by piece, not
rendered again. The master runs with BERTH_RENDER_VERIFY=1, which compares every answer
assembled from the cache with a filtered render from scratch and logs a stale one."""
import requests

import helpers
from helpers import app_def, wait_until
from mesos_client import Framework, command_task
from test_acl import ANY, start, vals

HDR = {"Content-Type": "application/json", "Accept": "application/json"}


def call(m, t):
    r = requests.post(m.url + "/api/v1", json={"type": t}, headers=HDR, timeout=10)
    assert r.status_code == 200, r.text
    return r


def ids(tasks):
    return sorted(t["task_id"]["value"] for k in ("tasks", "completed_tasks",
                                                  "unreachable_tasks")
                  for t in tasks.get(k, []))


def test_view_tasks_select_cached_pieces(cluster, monkeypatch):
    monkeypatch.setenv("BERTH_RENDER_VERIFY", "1")
    acls = {"permissive": False,
            "register_frameworks": [{"principals": ANY, "roles": ANY}],
            "register_agents": [{"principals": ANY, "agents": ANY}],
            "run_tasks": [{"principals": ANY, "users": ANY}],
            "create_apps": [{"principals": ANY, "app_ids": ANY}],
            "view_apps": [{"principals": ANY, "app_ids": ANY}],
            "view_frameworks": [{"principals": ANY, "users": ANY}],
            # a task's own user (a Marathon app's "user") wins over its framework's
            "view_tasks": [{"principals": ANY, "users": vals("alice")}]}
    m, _ = start(cluster, acls, creds=False)
    cluster.agent()
    env = {helpers.TAG_VAR: helpers.current_tag()}
    fws = []
    for name, user in (("fa", "alice"), ("fb", "bob")):
        fw = Framework(m.url, name=name, user=user, failover_timeout=30)
        assert fw.subscribe()["type"] == "SUBSCRIBED"
        o = fw.wait_offers()[0]
        t = command_task(name + "-task", o, "sleep 300", cpus=0.01, mem=8, env=env)
        r = fw.accept([o["id"]["value"]], [t])
        assert r.status_code == 202, r.text
        fws.append(fw)
    for app, user in (("/v/alice", "alice"), ("/v/none", None)):
        d = app_def(app, cmd="sleep 300")
        if user:
            d["user"] = user
        r = m.api.post("/v2/apps", d)
        assert r.status_code == 201, r.text

    def app_task(app):
        ts = m.api.get("/v2/apps%s/tasks" % app).json()["tasks"]
        return ts[0]["id"] if ts else None
    wait_until(lambda: app_task("/v/alice") and app_task("/v/none"), 60,
               what="the apps' tasks")

    def all_known():
        st = m.api.get("/master/state").json()
        return sum(len(f[k]) for f in st["frameworks"]
                   for k in ("tasks", "completed_tasks", "unreachable_tasks")) >= 2
    wait_until(all_known, 30, what="the tasks in /master/state")
    want = sorted(["fa-task", app_task("/v/alice")])
    for _ in range(5):  # every round a cache hit, compared with a render from scratch
        r = call(m, "GET_TASKS")
        assert r.headers.get("ETag"), r.headers  # assembled from the cache
        assert ids(r.json()["get_tasks"]) == want, r.text
        r = call(m, "GET_STATE")
        assert r.headers.get("ETag"), r.headers
        st = r.json()["get_state"]
        assert ids(st["get_tasks"]) == want, r.text
        names = [f["framework_info"]["name"] for f in st["get_frameworks"]["frameworks"]]
        assert "fa" in names and "fb" in names, names
    # /master/state applies the same rules
    st = m.api.get("/master/state").json()
    assert sorted(t["id"] for f in st["frameworks"]
                  for k in ("tasks", "completed_tasks", "unreachable_tasks")
                  for t in f[k]) == want
    st = m.api.get("/master/frameworks").json()
    assert sorted(t["id"] for f in st["frameworks"]
                  for k in ("tasks", "completed_tasks", "unreachable_tasks")
                  for t in f[k]) == want
    # a kill changes the task's piece: the selection follows
    fws[0].kill("fa-task")

    def killed():
        gt = call(m, "GET_TASKS").json()["get_tasks"]
        return [t["state"] for k in ("tasks", "completed_tasks") for t in gt.get(k, [])
                if t["task_id"]["value"] == "fa-task"] == ["TASK_KILLED"]
    wait_until(killed, 20, what="fa-task killed in GET_TASKS")
    assert ids(call(m, "GET_TASKS").json()["get_tasks"]) == want
    for fw in fws:
        fw.disconnect()
    log = m.stderr_path.read_text()
    assert "state cache stale" not in log, log[-2000:]
