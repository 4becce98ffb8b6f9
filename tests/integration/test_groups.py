"""Marathon's /v2/groups through the real binary: the tree derived from the apps' ids with
embeds and versions, a nested group created, updated, scaled (scaleBy) and deleted as one
deployment each, ?dryRun's plan, apps' dependencies deployed in order (HDFS-like journal ->
name -> data nodes), and the errors (docs/api.md "Groups")."""
from helpers import app_def, wait_until
from strict_models import DeploymentResult, GroupInfo

SLEEP = "exec sleep 3600"


def ready_check():
    # healthy once the task has created ./ready (about 2 s after its start)
    return {"protocol": "COMMAND", "command": {"value": "test -f ready"},
            "intervalSeconds": 1, "timeoutSeconds": 1, "gracePeriodSeconds": 10,
            "delaySeconds": 0, "maxConsecutiveFailures": 3}


def slow_app(app_id, **kw):
    return app_def(app_id, "sleep 2; touch ready; exec sleep 3600",
                   healthChecks=[ready_check()], **kw)


def one_deployment(api, r):
    assert r.status_code in (200, 201), r.text
    j = r.json()
    assert set(j) == {"version", "deploymentId"}, j
    DeploymentResult.parse(j)
    ds = api.deployments()
    assert [d["id"] for d in ds] in ([j["deploymentId"]], []), ds
    return j


def test_nested_group_create_get_scale_delete(one):
    api = one.m.api
    body = {"id": "/prod", "apps": [app_def("web", SLEEP)],
            "groups": [{"id": "db", "apps": [app_def("mysql", SLEEP),
                                             app_def("/prod/db/cache", SLEEP)]}]}
    r = api.post("/v2/groups", body)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == "/prod"
    j = one_deployment(api, r)
    d = [x for x in api.deployments() if x["id"] == j["deploymentId"]]
    if d:
        assert sorted(d[0]["affectedApps"]) == ["/prod/db/cache", "/prod/db/mysql", "/prod/web"]
    for a in ("/prod/web", "/prod/db/mysql", "/prod/db/cache"):
        api.wait_running(a, 1)
        assert api.app(a)["version"] == j["version"]
    api.wait_no_deployments()
    # the same again: 409
    r = api.post("/v2/groups", {"id": "/prod"})
    assert r.status_code == 409, r.text
    assert r.json()["message"] == "Group /prod is already created. Use PUT to change this group."

    # GET: the tree, default embeds (groups, apps, pods)
    g = api.get("/v2/groups/prod").json()
    assert set(g) == {"id", "apps", "groups", "pods", "dependencies", "version", "enforceRole"}
    assert g["id"] == "/prod" and g["pods"] == [] and g["enforceRole"] is False
    assert [a["id"] for a in g["apps"]] == ["/prod/web"]
    assert "tasks" not in g["apps"][0] and "tasksRunning" not in g["apps"][0]
    assert [x["id"] for x in g["groups"]] == ["/prod/db"]
    assert [a["id"] for a in g["groups"][0]["apps"]] == ["/prod/db/cache", "/prod/db/mysql"]
    assert g["version"] == j["version"]
    root = api.get("/v2/groups").json()
    GroupInfo.parse(root)
    GroupInfo.parse(api.get("/v2/groups/prod", params=[
        ("embed", "group.groups"), ("embed", "group.apps"), ("embed", "group.apps.tasks"),
        ("embed", "group.apps.counts"), ("embed", "group.apps.deployments"),
        ("embed", "group.apps.lastTaskFailure")]).json())
    assert root["id"] == "/" and "/prod" in [x["id"] for x in root["groups"]]
    # embeds: only what is asked
    g = api.get("/v2/groups/prod/db", params=[("embed", "group.apps"),
                                               ("embed", "group.apps.tasks"),
                                               ("embed", "group.apps.counts")]).json()
    assert "groups" not in g and "pods" not in g
    a = g["apps"][0]
    assert a["tasksRunning"] == 1 and len(a["tasks"]) == 1
    g = api.get("/v2/groups/prod", params={"embed": "group.groups"}).json()
    assert "apps" not in g and "apps" not in g["groups"][0]
    assert api.get("/v2/groups/nope").status_code == 404
    assert api.get("/v2/groups/nope").json()["message"] == "Group '/nope' does not exist"
    vs = api.get("/v2/groups/prod/versions").json()
    assert vs[0] == j["version"], vs

    # scaleBy: every app under /prod times 2, one deployment
    r = api.put("/v2/groups/prod", {"scaleBy": 2})
    j2 = one_deployment(api, r)
    for a in ("/prod/web", "/prod/db/mysql", "/prod/db/cache"):
        api.wait_running(a, 2)
    api.wait_no_deployments()
    assert api.get("/v2/groups/prod/versions").json()[0] == j2["version"]

    # PUT with a list of apps replaces the group's apps: cache goes, mysql changes
    r = api.put("/v2/groups/prod/db", {"apps": [app_def("mysql", SLEEP, instances=1)]},
                params={"dryRun": "true"})
    assert r.status_code == 200, r.text
    steps = r.json()["steps"]
    acts = [(x["app"], x["action"]) for s in steps for x in s["actions"]]
    # the whole definition replaces the old one (its service port is assigned afresh)
    assert acts == [("/prod/db/cache", "StopApplication"),
                    ("/prod/db/mysql", "RestartApplication")], steps
    assert api.get("/v2/apps/prod/db/cache").status_code == 200  # dry: nothing changed
    r = api.put("/v2/groups/prod/db", {"apps": [app_def("mysql", SLEEP, instances=1)]})
    one_deployment(api, r)
    api.wait_running("/prod/db/mysql", 1)
    wait_until(lambda: api.get("/v2/apps/prod/db/cache").status_code == 404, 20,
               what="/prod/db/cache removed")
    api.wait_no_deployments()

    # DELETE: every app under the group, one deployment
    r = api.delete("/v2/groups/prod")
    j3 = one_deployment(api, r)
    ds = api.deployments()
    if ds:
        assert {x["action"] for x in ds[0]["steps"][0]["actions"]} == {"StopApplication"}
        assert sorted(ds[0]["affectedApps"]) == ["/prod/db/mysql", "/prod/web"]
    assert j3["deploymentId"]
    api.wait_no_deployments()
    assert api.get("/v2/groups/prod").status_code == 404
    assert api.get("/v2/apps/prod/web").status_code == 404
    assert api.delete("/v2/groups/prod").status_code == 404


def test_dependencies_deploy_in_order(one):
    """HDFS-like: journal nodes, then the name node, then the data nodes, each starting
    after what it depends on is running and healthy."""
    api = one.m.api
    body = {"id": "/hdfs", "apps": [
        app_def("data", SLEEP, instances=2, dependencies=["name"]),
        slow_app("name", dependencies=["/hdfs/journal"]),
        slow_app("journal", instances=2),
    ]}
    r = api.put("/v2/groups/hdfs", body, params={"dryRun": "true"})
    assert r.status_code == 200, r.text
    steps = [[x["app"] for x in s["actions"]] for s in r.json()["steps"]]
    assert steps == [["/hdfs/journal"], ["/hdfs/name"], ["/hdfs/data"]], steps
    assert api.get("/v2/groups/hdfs").status_code == 404  # dry
    r = api.put("/v2/groups/hdfs", body)
    j = one_deployment(api, r)
    api.wait_running("/hdfs/data", 2, timeout=40)
    api.wait_no_deployments(timeout=40)
    for a in ("/hdfs/journal", "/hdfs/name", "/hdfs/data"):
        assert api.app(a)["version"] == j["version"]

    def started(app):
        return sorted(t["startedAt"] for t in api.tasks(app))
    journal, name, data = started("/hdfs/journal"), started("/hdfs/name"), started("/hdfs/data")
    # each layer's tasks were staged only after the layer before was up and healthy (2 s)
    name_staged = min(t["stagedAt"] for t in api.tasks("/hdfs/name"))
    data_staged = min(t["stagedAt"] for t in api.tasks("/hdfs/data"))
    assert name_staged > max(journal), (journal, name_staged)
    assert data_staged > max(name), (name, data_staged)
    assert data[0] > name[0] > journal[0]
    assert api.delete("/v2/groups/hdfs").status_code == 200
    api.wait_no_deployments()


def test_group_dependencies_deploy_in_order(one):
    """The same with group-level dependencies: /hdfs2/name depends on the group
    /hdfs2/journal, /hdfs2/data on /hdfs2/name (relative to its parent)."""
    api = one.m.api
    body = {"id": "/hdfs2", "groups": [
        {"id": "data", "dependencies": ["name"], "apps": [app_def("dn", SLEEP, instances=2)]},
        {"id": "name", "dependencies": ["/hdfs2/journal"], "apps": [slow_app("nn")]},
        {"id": "journal", "apps": [slow_app("jn", instances=2)]},
    ]}
    r = api.put("/v2/groups/hdfs2", body, params={"dryRun": "true"})
    assert r.status_code == 200, r.text
    steps = [[x["app"] for x in s["actions"]] for s in r.json()["steps"]]
    assert steps == [["/hdfs2/journal/jn"], ["/hdfs2/name/nn"], ["/hdfs2/data/dn"]], steps
    r = api.post("/v2/groups", body)
    one_deployment(api, r)
    api.wait_running("/hdfs2/data/dn", 2, timeout=40)
    api.wait_no_deployments(timeout=40)
    g = GroupInfo.parse(api.get("/v2/groups/hdfs2").json())
    deps = {x.id: x.dependencies for x in g.groups}
    assert deps == {"/hdfs2/data": ["/hdfs2/name"], "/hdfs2/journal": [],
                    "/hdfs2/name": ["/hdfs2/journal"]}, deps
    jn = max(t["startedAt"] for t in api.tasks("/hdfs2/journal/jn"))
    nn = api.tasks("/hdfs2/name/nn")
    dn = api.tasks("/hdfs2/data/dn")
    assert min(t["stagedAt"] for t in nn) > jn
    assert min(t["stagedAt"] for t in dn) > max(t["startedAt"] for t in nn)
    # a cycle through groups: 422, nothing changed
    r = api.put("/v2/groups/hdfs2/journal", {"dependencies": ["/hdfs2/data"]})
    assert r.status_code == 422, r.text
    assert "Dependency graph has cyclic dependencies." in r.text
    # an unknown group dependency
    r = api.put("/v2/groups/hdfs2/journal", {"dependencies": ["/nowhere"]})
    assert r.status_code == 422 and "/nowhere" in r.text, r.text
    assert api.get("/v2/groups/hdfs2/journal").json()["dependencies"] == []
    # the dependencies survive a master restart
    one.m.restart()
    g = api.get("/v2/groups/hdfs2/data").json()
    assert g["dependencies"] == ["/hdfs2/name"], g
    assert api.delete("/v2/groups/hdfs2").status_code == 200
    api.wait_no_deployments()
    assert api.get("/v2/groups/hdfs2").status_code == 404


def test_group_errors(one):
    api = one.m.api
    # a cycle: 422, nothing created
    body = {"id": "/cyc", "apps": [app_def("a", SLEEP, dependencies=["b"]),
                                   app_def("b", SLEEP, dependencies=["a"])]}
    r = api.post("/v2/groups", body)
    assert r.status_code == 422, r.text
    msgs = [e for d in r.json()["details"] for e in d["errors"]]
    assert "Dependency graph has cyclic dependencies." in msgs, r.text
    assert api.get("/v2/apps/cyc/a").status_code == 404
    # an unknown dependency
    r = api.post("/v2/groups", {"id": "/unk", "apps": [app_def("a", SLEEP,
                                                               dependencies=["/nowhere"])]})
    assert r.status_code == 422, r.text
    assert "/nowhere" in r.text
    # a bad app: the path names the nested item
    r = api.post("/v2/groups", {"id": "/bad", "groups": [
        {"id": "x", "apps": [app_def("ok", SLEEP), app_def("b", SLEEP, cpus=-1)]}]})
    assert r.status_code == 422, r.text
    paths = [d["path"] for d in r.json()["details"]]
    assert any(p.startswith("/groups(0)/apps(1)/cpus") for p in paths), paths
    assert api.get("/v2/groups/bad").status_code == 404
    # an app outside its group
    r = api.post("/v2/groups", {"id": "/in", "apps": [app_def("/elsewhere", SLEEP)]})
    assert r.status_code == 422, r.text
    # an app at a group's path
    assert api.post("/v2/apps", app_def("/gp/x/y", SLEEP)).status_code == 201
    r = api.put("/v2/groups/gp", {"apps": [app_def("x", SLEEP)]})
    assert r.status_code == 422 and "is a group" in r.text, r.text
    # (force: the app may still be deploying, which without it is a 409)
    assert api.delete("/v2/groups/gp", params={"force": "true"}).status_code == 200
    # bad scaleBy, unknown group
    assert api.put("/v2/groups/in", {"scaleBy": 2}).status_code == 422
    r = api.post("/v2/groups", {"id": "/sb", "apps": [app_def("a", SLEEP)]})
    assert r.status_code == 201
    assert api.put("/v2/groups/sb", {"scaleBy": -1}).status_code == 422
    assert api.put("/v2/groups/sb", {"scaleBy": "x"}).status_code == 422
    # a group id that is an app's: 409
    r = api.post("/v2/groups", {"id": "/sb/a"})
    assert r.status_code == 409, r.text
    # held by a deployment without force: 409; with force it goes
    api.wait_running("/sb/a", 1)
    r = api.put("/v2/apps/sb/a", {"cmd": "sleep 2; exec sleep 3600",
                                  "healthChecks": [ready_check()]})
    assert r.status_code == 200
    r = api.put("/v2/groups/sb", {"scaleBy": 2})
    assert r.status_code == 409, r.text
    r = api.put("/v2/groups/sb", {"scaleBy": 2}, params={"force": "true"})
    assert r.status_code == 200, r.text
    api.wait_running("/sb/a", 2, timeout=30)
    assert api.delete("/v2/groups/sb", params={"force": "true"}).status_code == 200
    api.wait_no_deployments()
    # an empty group cannot be created (berth keeps no group records)
    r = api.post("/v2/groups", {"id": "/empty"})
    assert r.status_code == 422, r.text
    assert api.get("/v2/groups/empty").status_code == 404
    # a bad group id
    r = api.post("/v2/groups", {"id": "/Bad Id", "apps": [app_def("a", SLEEP)]})
    assert r.status_code == 422, r.text
    assert r.json()["details"][0]["path"] == "/id"
    # not JSON / not an object
    assert api.req("POST", "/v2/groups", data="{", headers={
        "Content-Type": "application/json"}).status_code == 400
    assert api.post("/v2/groups", [1]).status_code in (400, 422)


def test_root_put_and_delete(one):
    api = one.m.api
    r = api.put("/v2/groups", {"id": "/r", "apps": [app_def("a", SLEEP)],
                               "groups": [{"id": "/r/s", "apps": [app_def("b", SLEEP)]}]})
    one_deployment(api, r)
    api.wait_running("/r/a", 1)
    api.wait_running("/r/s/b", 1)
    api.wait_no_deployments()
    g = GroupInfo.parse(api.get("/v2/groups").json())
    assert [x.id for x in g.groups] == ["/r"]
    assert [x.id for x in g.groups[0].groups] == ["/r/s"]
    vs = api.get("/v2/groups/versions").json()
    assert vs == api.get("/v2/groups/r/versions").json() and vs
    r = api.delete("/v2/groups")
    one_deployment(api, r)
    api.wait_no_deployments()
    assert api.get("/v2/apps").json()["apps"] == []
    g = api.get("/v2/groups").json()
    assert g["apps"] == [] and g["groups"] == [] and g["id"] == "/"


def test_group_writes_are_authorized_on_the_group_path(cluster):
    """create/update/delete_apps rules (docs/security.md) on the group's path: a principal
    whose app_ids cover /dev may change /dev's groups, not /prod's nor the root."""
    import requests
    from test_acl import ANY, start, vals
    acls = {"permissive": False,
            "create_apps": [{"principals": vals("dev"), "app_ids": vals("/dev")},
                            {"principals": vals("ops"), "app_ids": ANY}],
            "update_apps": [{"principals": vals("dev"), "app_ids": vals("/dev")},
                            {"principals": vals("ops"), "app_ids": ANY}],
            "delete_apps": [{"principals": vals("ops"), "app_ids": ANY}],
            "view_apps": [{"principals": vals("dev"), "app_ids": vals("/dev")},
                          {"principals": vals("ops"), "app_ids": ANY}]}
    m, _ = start(cluster, acls)
    dev = requests.Session()
    dev.auth = ("dev", "dev-pw")
    u = m.url
    app = app_def("a", "sleep 600", instances=0)
    assert dev.post(u + "/v2/groups", json={"id": "/prod", "apps": [app]}).status_code == 403
    assert dev.post(u + "/v2/groups/dev", json={"id": "../prod", "apps": [app]}).status_code \
        == 403
    assert dev.put(u + "/v2/groups", json={"apps": [app_def("/x", "sleep 1")]}).status_code \
        == 403
    # nor around them through PUT /v2/apps with a list
    assert dev.put(u + "/v2/apps", json=[app_def("/prod/b", "sleep 1")]).status_code == 403
    assert m.api.get("/v2/apps").json()["apps"] == []  # nothing created
    r = dev.post(u + "/v2/groups", json={"id": "/dev/g", "apps": [app]})
    assert r.status_code == 201, r.text
    assert m.api.post("/v2/groups", {"id": "/prod", "apps": [app]}).status_code == 201
    assert dev.put(u + "/v2/groups/prod", json={"scaleBy": 2}).status_code == 403
    assert dev.put(u + "/v2/groups/dev/g", json={"scaleBy": 2}).status_code == 200
    assert dev.delete(u + "/v2/groups/dev/g").status_code == 403  # delete: ops only
    # the tree a principal sees holds only the apps it may view
    g = dev.get(u + "/v2/groups").json()
    assert [x["id"] for x in g["groups"]] == ["/dev"], g
    assert m.api.delete("/v2/groups/prod").status_code == 200
    assert m.api.delete("/v2/groups/dev").status_code == 200
