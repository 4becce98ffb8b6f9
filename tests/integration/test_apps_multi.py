"""PUT and PATCH /v2/apps with a list of apps (Marathon's replaceMultiple / patchMultiple):
one deployment for all the apps, 404/409/422 as Marathon, ?force, errors naming the item's
index, and the rollback of such a deployment (docs/api.md)."""
from helpers import SseClient, app_def, wait_until

SLEEP = "exec sleep 3600"


def put_list(api, apps, method="PUT", **params):
    return api.req(method, "/v2/apps", body=apps, params=params or None)


def test_put_list_is_one_deployment(one):
    api = one.m.api
    assert api.post("/v2/apps", app_def("/ml/a", SLEEP)).status_code == 201
    api.wait_running("/ml/a", 1)
    api.wait_no_deployments()
    sse = SseClient(one.m.url, types=("deployment_info", "deployment_success"))
    try:
        b = app_def("/ml/b", SLEEP, portDefinitions=[{"port": 0}])
        c = app_def("/ml/c", SLEEP, portDefinitions=[{"port": 0}])
        r = put_list(api, [{"id": "/ml/a", "instances": 2}, b, c])
        assert r.status_code == 200, r.text
        j = r.json()
        assert set(j) == {"version", "deploymentId"}, j
        dep = j["deploymentId"]
        assert r.headers["Marathon-Deployment-Id"] == dep
        ds = api.deployments()
        assert [d["id"] for d in ds] == [dep], ds
        d = ds[0]
        assert sorted(d["affectedApps"]) == ["/ml/a", "/ml/b", "/ml/c"], d
        assert d["totalSteps"] == 1 and len(d["steps"]) == 1
        acts = {(x["app"], x["action"]) for x in d["steps"][0]["actions"]}
        assert acts == {("/ml/a", "ScaleApplication"), ("/ml/b", "StartApplication"),
                        ("/ml/c", "StartApplication")}, acts
        assert {x["app"] for x in d["currentActions"]} == {"/ml/a", "/ml/b", "/ml/c"}
        api.wait_running("/ml/a", 2)
        api.wait_running("/ml/b", 1)
        api.wait_running("/ml/c", 1)
        api.wait_no_deployments()
        for app in ("/ml/a", "/ml/b", "/ml/c"):
            assert api.app(app)["version"] == j["version"], app
        # two new apps of one request never get the same service port
        pb = api.app("/ml/b")["portDefinitions"][0]["port"]
        pc = api.app("/ml/c")["portDefinitions"][0]["port"]
        assert pb and pc and pb != pc, (pb, pc)

        def seen():
            ev = [(t, e) for t, e, _ in sse.events if e.get("plan", {}).get("id") == dep]
            return ev if any(t == "deployment_success" for t, _ in ev) else None
        ev = wait_until(seen, 15, what="the deployment's events")
        assert [t for t, _ in ev] == ["deployment_info", "deployment_success"], ev
        info = ev[0][1]
        assert {x["app"] for x in info["plan"]["steps"][0]["actions"]} == {
            "/ml/a", "/ml/b", "/ml/c"}
    finally:
        sse.close()
    # PATCH updates only; a partial PUT keeps what the item leaves out
    r = put_list(api, [{"id": "/ml/b", "instances": 2}, {"id": "/ml/c", "instances": 0}],
                 method="PATCH")
    assert r.status_code == 200, r.text
    api.wait_running("/ml/b", 2)
    api.wait_running("/ml/c", 0)
    assert api.app("/ml/b")["cmd"] == SLEEP
    # an empty list changes nothing and still answers with a deployment id
    r = put_list(api, [])
    assert r.status_code == 200 and set(r.json()) == {"version", "deploymentId"}, r.text


def test_bad_lists_change_nothing(one):
    api = one.m.api
    assert api.post("/v2/apps", app_def("/mb/a", SLEEP)).status_code == 201
    api.wait_no_deployments()
    before = api.app("/mb/a")

    r = put_list(api, [{"id": "/mb/a", "instances": 3}, {"id": "/mb/nope", "cpus": 1}],
                 method="PATCH")
    assert r.status_code == 404, r.text
    assert r.json()["message"] == "App '/mb/nope' does not exist", r.text

    r = put_list(api, [{"id": "/mb/a", "instances": 3},
                       app_def("/mb/new", SLEEP, cpus=-1, mem="x")])
    assert r.status_code == 422, r.text
    j = r.json()
    assert j["message"] == "Object is not valid", j
    paths = {d["path"] for d in j["details"]}
    assert "/(1)/cpus" in paths and "/(1)/mem" in paths, paths
    assert not any(p.startswith("/(0)") for p in paths), paths

    r = put_list(api, [{"instances": 3}])
    assert r.status_code == 422 and r.json()["details"][0]["path"] == "/(0)/id", r.text
    r = put_list(api, [{"id": "/mb/a", "instances": 3}, {"id": "mb/a", "instances": 4}])
    assert r.status_code == 422 and r.json()["details"][0]["path"] == "/(1)/id", r.text
    r = put_list(api, [3])
    assert r.status_code == 422 and r.json()["details"][0]["path"] == "/(0)", r.text
    r = put_list(api, {"id": "/mb/a"})
    assert r.status_code == 422, r.text
    assert r.json()["details"][0]["errors"] == ["error.expected.jsarray"], r.text
    r = api.req("PUT", "/v2/apps", data="[{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    r = put_list(api, [], force="maybe")
    assert r.status_code == 400, r.text

    assert api.app("/mb/a")["version"] == before["version"]
    assert api.app("/mb/a")["instances"] == 1
    assert api.get("/v2/apps/mb/new").status_code == 404
    assert api.deployments() == []


def test_locked_force_and_rollback(one):
    api = one.m.api
    for app in ("/mk/x", "/mk/y"):
        assert api.post("/v2/apps", app_def(app, SLEEP)).status_code == 201
    api.wait_running("/mk/x", 1)
    api.wait_running("/mk/y", 1)
    api.wait_no_deployments()
    # a deployment that cannot finish: /mk/x needs more CPU than the agent has
    r = put_list(api, [{"id": "/mk/x", "cpus": 64}, {"id": "/mk/y", "instances": 2}])
    assert r.status_code == 200, r.text
    dep = r.json()["deploymentId"]
    api.wait_running("/mk/y", 2)
    assert [d["id"] for d in api.deployments()] == [dep]  # /mk/y done, /mk/x not: still one

    r = put_list(api, [{"id": "/mk/y", "instances": 1}])
    assert r.status_code == 409, r.text
    j = r.json()
    assert j["message"].startswith("App is locked by one or more deployments."), j
    assert j["deployments"] == [{"id": dep}], j

    # rollback of the whole deployment: both apps to their version before, one deployment
    r = api.delete("/v2/deployments/%s" % dep)
    assert r.status_code == 200, r.text
    back = r.json()["deploymentId"]
    assert back != dep
    wait_until(lambda: api.app("/mk/x")["cpus"] == 0.01 and
               api.app("/mk/y")["instances"] == 1, 15, what="both apps rolled back")
    api.wait_running("/mk/y", 1)
    api.wait_no_deployments()

    # force: a new list overrides the stuck deployment, which ends for all its apps
    r = put_list(api, [{"id": "/mk/x", "cpus": 64}, {"id": "/mk/y", "instances": 2}])
    assert r.status_code == 200, r.text
    dep = r.json()["deploymentId"]
    r = put_list(api, [{"id": "/mk/x", "cpus": 0.02}], force="true")
    assert r.status_code == 200, r.text
    dep2 = r.json()["deploymentId"]
    ids = [d["id"] for d in api.deployments()]
    assert dep not in ids, ids
    api.wait_running("/mk/x", 1)
    api.wait_no_deployments()
    assert api.app("/mk/x")["cpus"] == 0.02
    assert dep2 != dep


def test_deployment_of_several_apps_survives_a_master_restart(one):
    api = one.m.api
    for app in ("/mr/x", "/mr/y"):
        assert api.post("/v2/apps", app_def(app, SLEEP)).status_code == 201
    api.wait_running("/mr/x", 1)
    api.wait_running("/mr/y", 1)
    api.wait_no_deployments()
    r = put_list(api, [{"id": "/mr/x", "cpus": 64}, {"id": "/mr/y", "instances": 2}])
    assert r.status_code == 200, r.text
    dep = r.json()["deploymentId"]
    api.wait_running("/mr/y", 2)
    one.m.restart()

    def listed():
        ds = api.deployments()
        return ds if ds else None
    ds = wait_until(listed, 15, what="the deployment after the restart")
    assert [d["id"] for d in ds] == [dep], ds
    assert sorted(ds[0]["affectedApps"]) == ["/mr/x", "/mr/y"], ds
    r = put_list(api, [{"id": "/mr/y", "instances": 1}])
    assert r.status_code == 409, r.text  # still held by the whole deployment
    r = api.delete("/v2/deployments/%s" % dep, params={"force": "true"})
    assert r.status_code == 202, r.text
    assert api.deployments() == []
    assert api.app("/mr/x")["cpus"] == 64  # force stops it; the apps stay as they are


def test_rollback_of_created_apps_removes_them(one):
    api = one.m.api
    r = put_list(api, [app_def("/mn/x", SLEEP, cpus=64), app_def("/mn/y", SLEEP, cpus=64)])
    assert r.status_code == 200, r.text
    dep = r.json()["deploymentId"]
    r = api.delete("/v2/deployments/%s" % dep)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"version", "deploymentId"} and r.json()["deploymentId"] != dep
    for app in ("/mn/x", "/mn/y"):
        wait_until(lambda: api.get("/v2/apps" + app).status_code == 404, 15,
                   what="%s removed" % app)
