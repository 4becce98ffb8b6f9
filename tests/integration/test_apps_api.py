"""An app's whole life through the Marathon v2 API: create, read, scale, restart, kill, delete."""
import re

from helpers import UUID_RE, app_def, app_pids, task_id_re, wait_until

SLEEP = "sleep 3600"


def deployment_result(r, status=200):
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert isinstance(body.get("version"), str) and body["version"], body
    assert UUID_RE.match(body.get("deploymentId", "")), body
    assert r.headers.get("Marathon-Deployment-Id") == body["deploymentId"]
    return body


def test_create_returns_201_location_deployment_and_defaults(one):
    api = one.m.api
    r = api.post("/v2/apps", app_def("/itest/life", SLEEP))
    assert r.status_code == 201, r.text
    assert r.headers.get("Location", "").endswith("/itest/life"), r.headers
    dep = r.headers.get("Marathon-Deployment-Id", "")
    assert UUID_RE.match(dep), r.headers
    app = r.json()
    assert app["id"] == "/itest/life"
    assert app["cmd"] == SLEEP
    assert app["cpus"] == 0.01 and app["mem"] == 16 and app["instances"] == 1
    # Marathon's defaults
    assert app["disk"] == 0
    assert app["gpus"] == 0
    assert app["backoffSeconds"] == 1
    assert app["backoffFactor"] == 1.15
    assert app["maxLaunchDelaySeconds"] in (300, 3600)
    assert app["killSelection"] == "YOUNGEST_FIRST"
    assert app["requirePorts"] is False
    assert app["constraints"] == []
    assert app["labels"] == {}
    assert len(app["portDefinitions"]) == 1
    assert app["portDefinitions"][0].get("name") == "default"
    assert isinstance(app["version"], str) and re.match(r"^\d{4}-\d\d-\d\dT", app["version"])
    for k in ("tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy"):
        assert app[k] == 0, k
    assert app["deployments"] == [{"id": dep}]

    api.wait_running("/itest/life", 1)
    api.wait_no_deployments()
    one_app = api.app("/itest/life")
    assert one_app["tasksRunning"] == 1
    assert len(one_app["tasks"]) == 1
    assert one_app["deployments"] == []

    r = api.get("/v2/apps")
    assert r.status_code == 200
    assert [a["id"] for a in r.json()["apps"]] == ["/itest/life"]


def test_duplicate_is_409_and_unknown_is_404(one):
    api = one.m.api
    assert api.post("/v2/apps", app_def("/dup", SLEEP, instances=0)).status_code == 201
    r = api.post("/v2/apps", app_def("/dup", "sleep 1", instances=0))
    assert r.status_code == 409
    assert r.json()["message"] == "An app with id [/dup] already exists."
    assert api.app("/dup")["cmd"] == SLEEP
    r = api.get("/v2/apps/x")
    assert r.status_code == 404
    assert r.json() == {"message": "App '/x' does not exist"}
    r = api.get("/v2/apps/prod/x")
    assert r.status_code == 404
    assert r.json() == {"message": "App '/prod/x' does not exist"}


def test_list_embed_and_label_selector(one):
    api = one.m.api
    assert api.post("/v2/apps", app_def("/web", SLEEP, labels={"team": "core"})).status_code == 201
    assert api.post("/v2/apps", app_def("/db", SLEEP, instances=0,
                                        labels={"team": "data"})).status_code == 201
    api.wait_running("/web", 1)
    apps = api.get("/v2/apps").json()["apps"]
    assert sorted(a["id"] for a in apps) == ["/db", "/web"]
    r = api.get("/v2/apps", params={"label": "team==core"})
    assert [a["id"] for a in r.json()["apps"]] == ["/web"]
    r = api.get("/v2/apps", params={"label": "team!=core"})
    assert [a["id"] for a in r.json()["apps"]] == ["/db"]
    r = api.get("/v2/apps", params={"label": "team"})
    assert sorted(a["id"] for a in r.json()["apps"]) == ["/db", "/web"]
    r = api.get("/v2/apps", params={"label": "nope"})
    assert r.json()["apps"] == []
    r = api.get("/v2/apps", params={"embed": "apps.tasks"})
    web = [a for a in r.json()["apps"] if a["id"] == "/web"][0]
    assert len(web["tasks"]) == 1
    t = web["tasks"][0]
    assert t["appId"] == "/web" and t["state"] == "TASK_RUNNING"
    assert task_id_re("/web").match(t["id"]), t["id"]
    for k in ("host", "ports", "slaveId", "stagedAt", "startedAt", "version"):
        assert k in t, k


def test_scale_1_5_2_keeps_oldest_and_kills_processes(one):
    api = one.m.api
    app_id = "/scale"
    assert api.post("/v2/apps", app_def(app_id, SLEEP)).status_code == 201
    first = api.wait_running(app_id, 1)[0]["id"]

    body = deployment_result(api.put("/v2/apps/scale", {"instances": 5}))
    assert body["version"]
    run = api.wait_running(app_id, 5)
    assert len({t["id"] for t in run}) == 5
    assert api.app(app_id)["instances"] == 5
    wait_until(lambda: len(app_pids(app_id)) >= 5, 10, what="5 task processes")
    api.wait_no_deployments()

    deployment_result(api.put("/v2/apps/scale", {"instances": 2}))
    run = api.wait_running(app_id, 2)
    # killSelection YOUNGEST_FIRST (default): the first task survives
    assert first in {t["id"] for t in run}
    assert api.app(app_id)["instances"] == 2
    wait_until(lambda: _task_roots(app_id) == {t["id"] for t in run}, 10,
               what="only the 2 remaining tasks' processes left")

    # PATCH is a partial update too
    r = api.patch("/v2/apps/scale", {"instances": 3})
    deployment_result(r)
    api.wait_running(app_id, 3)


def _task_roots(app_id):
    """Distinct MESOS_TASK_IDs among the app's live processes."""
    from helpers import _proc_environ
    ids = set()
    for p in app_pids(app_id):
        env = _proc_environ(p) or {}
        if "MESOS_TASK_ID" in env:
            ids.add(env["MESOS_TASK_ID"])
    return ids


def test_restart_gives_new_tasks_and_version(one):
    api = one.m.api
    app_id = "/rs"
    assert api.post("/v2/apps", app_def(app_id, SLEEP, instances=2)).status_code == 201
    before = {t["id"] for t in api.wait_running(app_id, 2)}
    v1 = api.app(app_id)["version"]
    body = deployment_result(api.post("/v2/apps/rs/restart"))

    def replaced():
        run = api.running(app_id)
        ids = {t["id"] for t in run}
        return len(run) == 2 and not (ids & before) and ids
    after = wait_until(replaced, 30, what="2 new tasks after restart")
    v2 = api.app(app_id)["version"]
    assert v2 != v1 and v2 >= v1
    assert body["version"] == v2
    wait_until(lambda: _task_roots(app_id) == after, 15, what="old task processes gone")
    r = api.post("/v2/apps/nope/restart")
    assert r.status_code == 404
    assert r.json()["message"] == "App '/nope' does not exist"


def test_tasks_endpoints_kill_and_scale(one):
    api = one.m.api
    app_id = "/tk"
    assert api.post("/v2/apps", app_def(app_id, SLEEP, instances=3)).status_code == 201
    run = api.wait_running(app_id, 3)
    ids = sorted(t["id"] for t in run)

    r = api.get("/v2/tasks")
    assert r.status_code == 200
    assert sorted(t["id"] for t in r.json()["tasks"] if t["appId"] == app_id) == ids
    r = api.get("/v2/tasks", params={"status": "running"})
    assert sorted(t["id"] for t in r.json()["tasks"]) == ids

    # kill one: it is replaced
    r = api.delete("/v2/apps/tk/tasks/%s" % ids[0])
    assert r.status_code == 200, r.text
    assert r.json()["task"]["id"] == ids[0]
    run = wait_until(lambda: (lambda ts: len(ts) == 3 and ids[0] not in {t["id"] for t in ts}
                              and ts)(api.running(app_id)), 20, what="replacement task")

    # kill one with scale=true: instances goes down, no replacement
    victim = sorted(t["id"] for t in run)[0]
    r = api.delete("/v2/apps/tk/tasks/%s" % victim, params={"scale": "true"})
    deployment_result(r)
    assert api.app(app_id)["instances"] == 2
    run = api.wait_running(app_id, 2)
    assert victim not in {t["id"] for t in run}

    # POST /v2/tasks/delete
    victim = run[0]["id"]
    r = api.post("/v2/tasks/delete", {"ids": [victim]}, params={"scale": "true"})
    assert r.status_code == 200, r.text
    run = api.wait_running(app_id, 1)
    assert victim not in {t["id"] for t in run}
    assert api.app(app_id)["instances"] == 1

    r = api.delete("/v2/apps/tk/tasks/%s" % "tk.instance-00000000-0000-0000-0000-000000000000._app.1")
    assert r.status_code == 404
    assert r.json()["message"] == ("Task 'tk.instance-00000000-0000-0000-0000-000000000000"
                                   "._app.1' does not exist")

    # DELETE /v2/apps/{id}/tasks kills them all (they are replaced)
    old = {t["id"] for t in run}
    r = api.delete("/v2/apps/tk/tasks")
    assert r.status_code == 200, r.text
    assert {t["id"] for t in r.json()["tasks"]} == old
    wait_until(lambda: (lambda ts: len(ts) == 1 and not ({t["id"] for t in ts} & old))(
        api.running(app_id)), 20, what="replacement after DELETE /tasks")


def test_delete_removes_app_tasks_and_processes(one):
    api = one.m.api
    app_id = "/gone"
    assert api.post("/v2/apps", app_def(app_id, SLEEP, instances=2)).status_code == 201
    api.wait_running(app_id, 2)
    wait_until(lambda: len(_task_roots(app_id)) == 2, 10, what="2 task processes")
    deployment_result(api.delete("/v2/apps/gone"))
    r = api.get("/v2/apps/gone")
    assert r.status_code == 404
    assert r.json() == {"message": "App '/gone' does not exist"}
    wait_until(lambda: not [t for t in api.get("/v2/tasks").json()["tasks"]
                            if t["appId"] == app_id], 15, what="tasks gone from /v2/tasks")
    wait_until(lambda: app_pids(app_id) == [], 15, what="task processes gone")
    assert api.get("/v2/apps").json()["apps"] == []
    r = api.delete("/v2/apps/gone")
    assert r.status_code == 404


def test_info_leader_ping_queue_deployments(one):
    api = one.m.api
    r = api.get("/ping")
    assert r.status_code == 200 and r.text.strip() == "pong"
    r = api.get("/v2/info")
    assert r.status_code == 200
    info = r.json()
    assert info["name"] and info["version"]
    assert info.get("elected") is True
    r = api.get("/v2/leader")
    assert r.status_code == 200
    assert r.json()["leader"] == one.m.addr
    assert api.queue() == []
    assert api.deployments() == []
    r = api.post("/v2/apps", app_def("/dep", SLEEP, instances=2))
    dep = r.headers["Marathon-Deployment-Id"]
    deps = api.deployments()
    # the deployment may already be done; if listed, it has Marathon's shape
    for d in deps:
        if d["id"] == dep:
            assert d["affectedApps"] == ["/dep"]
            assert isinstance(d["steps"], list) and "currentStep" in d and "totalSteps" in d
    api.wait_running("/dep", 2)
    api.wait_no_deployments()
