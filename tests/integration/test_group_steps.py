"""A group's deployment as Marathon shows it (issue 19, "Marathon's groups"): real steps in
/v2/deployments, ordered by the dependencies, with currentStep advancing as each step's apps
are done; and a group at one of its versions (GET /v2/groups/{id}/versions/{version})."""
import threading
import time

from helpers import SseClient, app_def, wait_until
from strict_models import DeploymentInfo, GroupInfo
from test_groups import SLEEP, one_deployment, slow_app


def watch_deployments(api, dep_id, stop, seen):
    """Samples GET /v2/deployments until stop is set: (currentStep, totalSteps, steps,
    currentActions) of dep_id, each distinct one once, in order."""
    while not stop.is_set():
        for d in api.deployments():
            if d["id"] != dep_id:
                continue
            DeploymentInfo.parse(d)
            steps = [[x["app"] for x in s["actions"]] for s in d["steps"]]
            cur = sorted(x["app"] for x in d["currentActions"])
            item = (d["currentStep"], d["totalSteps"], steps, cur)
            if not seen or seen[-1] != item:
                seen.append(item)
        time.sleep(0.05)


def test_group_deployment_steps_follow_dependencies(cluster, monkeypatch):
    # every cached /v2/deployments answer is checked against a fresh render (a currentStep
    # that moved without its apps' counters would be logged as stale)
    monkeypatch.setenv("BERTH_RENDER_VERIFY", "1")
    m = cluster.master()
    cluster.agent()
    api = m.api
    sse = SseClient(m.url, types=("deployment_info", "deployment_step_success",
                                  "deployment_success"))
    body = {"id": "/hdfs", "apps": [
        slow_app("data", instances=2, dependencies=["name"]),  # each step lasts ~2 s
        slow_app("name", dependencies=["/hdfs/journal"]),
        slow_app("journal", instances=2),
    ]}
    try:
        r = api.put("/v2/groups/hdfs", body)
        j = one_deployment(api, r)
        seen, stop = [], threading.Event()
        t = threading.Thread(target=watch_deployments, args=(api, j["deploymentId"], stop,
                                                              seen))
        t.start()
        try:
            api.wait_running("/hdfs/data", 2, timeout=40)
            api.wait_no_deployments(timeout=40)
        finally:
            stop.set()
            t.join()
        want_steps = [["/hdfs/journal"], ["/hdfs/name"], ["/hdfs/data"]]
        assert seen, "the deployment was never listed"
        for cur, total, steps, actions in seen:
            assert total == 3 and steps == want_steps, seen
            assert actions == want_steps[cur - 1], seen
        # currentStep went 1, 2, 3 in order (each journal/name step lasts about 2 s)
        assert [s[0] for s in seen] == [1, 2, 3], seen
        info = wait_until(lambda: [e for e in sse.of_type("deployment_info")
                                   if e["plan"]["id"] == j["deploymentId"]], 10)[0]
        assert [[x["app"] for x in s["actions"]] for s in info["plan"]["steps"]] == want_steps
        assert [x["app"] for x in info["currentStep"]["actions"]] == ["/hdfs/journal"]
        # one deployment_step_success per step, in order, then deployment_success
        def ours():
            ev = [(t, e) for t, e, _ in sse.events
                  if e.get("plan", {}).get("id") == j["deploymentId"]]
            return ev if any(t == "deployment_success" for t, _ in ev) else None
        ev = wait_until(ours, 10, what="the deployment's events")
        assert [t for t, _ in ev] == ["deployment_info"] + ["deployment_step_success"] * 3 + [
            "deployment_success"], ev
        assert [[x["app"] for x in e["currentStep"]["actions"]] for t, e in ev[1:4]] == \
            want_steps, ev
    finally:
        sse.close()

    # a removal comes first, in its own step
    r = api.put("/v2/groups/hdfs", {"apps": [body["apps"][2], dict(body["apps"][1]),
                                             slow_app("data2", dependencies=["name"])]},
                params={"force": "true"})
    j2 = one_deployment(api, r)
    ds = [d for d in api.deployments() if d["id"] == j2["deploymentId"]]
    assert ds, "the deployment (data2 healthy after 2 s) is over already"
    steps = [[(x["app"], x["action"]) for x in s["actions"]] for s in ds[0]["steps"]]
    assert steps[0] == [("/hdfs/data", "StopApplication")], steps
    assert [a for a, _ in steps[-1]] == ["/hdfs/data2"], steps
    api.wait_no_deployments(timeout=40)
    log = m.stderr_path.read_text()
    assert "render cache stale" not in log, log[-2000:]


def test_group_at_a_version(one):
    api = one.m.api
    body = {"id": "/g", "apps": [app_def("web", SLEEP)],
            "groups": [{"id": "db", "apps": [app_def("pg", SLEEP, instances=1)]}]}
    v1 = one_deployment(api, api.post("/v2/groups", body))["version"]
    api.wait_no_deployments()
    v2 = one_deployment(api, api.put("/v2/groups/g/db", {"apps": [
        app_def("pg", SLEEP, instances=2), app_def("extra", SLEEP)]}))["version"]
    api.wait_no_deployments()
    assert api.get("/v2/groups/g/versions").json()[:2] == [v2, v1]

    g1 = api.get("/v2/groups/g/versions/%s" % v1)
    assert g1.status_code == 200, g1.text
    g1 = g1.json()
    GroupInfo.parse(g1)
    assert g1["id"] == "/g" and g1["version"] == v1
    assert [a["id"] for a in g1["apps"]] == ["/g/web"]
    (db1,) = g1["groups"]
    assert [(a["id"], a["instances"], a["version"]) for a in db1["apps"]] == [
        ("/g/db/pg", 1, v1)], db1  # as it was: extra did not exist, pg had 1
    g2 = api.get("/v2/groups/g/db/versions/%s" % v2).json()
    GroupInfo.parse(g2)
    assert [(a["id"], a["instances"]) for a in g2["apps"]] == [("/g/db/extra", 1),
                                                               ("/g/db/pg", 2)], g2
    # the root at a version has the group in it
    root = api.get("/v2/groups/versions/%s" % v1).json()
    assert root["id"] == "/" and [x["id"] for x in root["groups"]] == ["/g"], root
    # a version the group never had, an unknown group
    r = api.get("/v2/groups/g/versions/2001-01-01T00:00:00.000Z")
    assert r.status_code == 404, r.text
    assert r.json()["message"] == \
        "Group '/g' does not exist in version 2001-01-01T00:00:00.000Z", r.text
    r = api.get("/v2/groups/nope/versions/%s" % v1)
    assert r.status_code == 404 and r.json()["message"] == "Group '/nope' does not exist"
