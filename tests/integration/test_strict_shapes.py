"""A strict-model client (strict_models.py, written from reference/compat.md §10) over the
Marathon endpoints and events berth serves: every object parses with no unknown key, no
missing key and the right types. berth's extras appear only when asked for (embed=berth),
and then a strict client rejects them, which is why they are opt-in."""
import pytest

from helpers import SseClient, app_def, wait_until
from strict_models import (App, DeploymentInfo, DeploymentResult, Info, Leader, Queue,
                           SingleTask, StrictError, Task, TaskList, Versions, parse_event)


def cmd_check():
    return {"protocol": "COMMAND", "command": {"value": "true"}, "intervalSeconds": 1,
            "timeoutSeconds": 1, "gracePeriodSeconds": 5, "delaySeconds": 1,
            "maxConsecutiveFailures": 3}


def ok(r, code=200):
    assert r.status_code == code, (r.status_code, r.text)
    return r.json()


def test_every_marathon_endpoint_and_event_parses_strictly(one):
    api = one.m.api
    heavy = SseClient(one.m.url)
    light = SseClient(one.m.url, query="plan-format=light")
    try:
        info = Info.parse(ok(api.get("/v2/info")))
        assert info.http_config.http_port == int(one.m.url.rsplit(":", 1)[1])
        assert info.leader == one.m.addr and info.elected is True

        App.parse(ok(api.post("/v2/apps", app_def("/st", "exec sleep 3600", instances=2,
                                                  healthChecks=[cmd_check()])), 201))

        def healthy():
            ts = TaskList.parse(ok(api.get("/v2/apps/st/tasks"))).tasks
            return len(ts) == 2 and all(t.state == "TASK_RUNNING" and t.healthCheckResults
                                        and t.healthCheckResults[0].alive for t in ts)
        wait_until(healthy, 20, interval=0.1, what="2 healthy tasks of /st")

        # every call that returns tasks
        ts = TaskList.parse(ok(api.get("/v2/tasks"))).tasks
        assert len(ts) == 2 and all(t.slaveId and t.startedAt for t in ts)
        TaskList.parse(ok(api.get("/v2/tasks?status=running")))
        app = App.parse(ok(api.get("/v2/apps/st"))["app"])
        assert len(app.tasks) == 2
        for a in ok(api.get("/v2/apps?embed=apps.tasks"))["apps"]:
            App.parse(a)
        for a in ok(api.get("/v2/apps/*"))["*"]:
            App.parse(a)
        vs = Versions.parse(ok(api.get("/v2/apps/st/versions"))).versions
        App.parse(ok(api.get("/v2/apps/st/versions/%s" % vs[0])))
        Leader.parse(ok(api.get("/v2/leader")))
        DeploymentResult.parse(ok(api.put("/v2/apps/st", {"instances": 2})))

        # berth's extras only on request, and a strict client rejects them
        extra = ok(api.get("/v2/apps/st/tasks?embed=berth"))["tasks"]
        assert sorted(t["index"] for t in extra) == [0, 1]
        with pytest.raises(StrictError, match="index"):
            Task.parse(extra[0])
        assert all("index" in t for t in ok(api.get("/v2/apps/st?embed=berth"))["app"]["tasks"])

        # the queue: an app that cannot fit stays queued, with a deployment in flight
        App.parse(ok(api.post("/v2/apps", app_def("/big", "exec sleep 3600", cpus=10000)),
                     201))
        q = wait_until(lambda: Queue.parse(ok(api.get("/v2/queue"))).queue or None, 10,
                       what="/big queued")[0]
        assert q.app.id == "/big" and q.count == 1 and not hasattr(q, "lastUnusedOffers")
        q2 = Queue.parse(ok(api.get("/v2/queue?embed=lastUnusedOffers"))).queue[0]
        assert q2.lastUnusedOffers == []
        item = ok(api.get("/v2/queue?embed=berth"))["queue"][0]
        assert item["role"] == "*"
        deps = ok(api.get("/v2/deployments"))
        assert deps and [DeploymentInfo.parse(d) for d in deps]
        big_dep = [d for d in deps if d["affectedApps"] == ["/big"]][0]["id"]
        r = api.delete("/v2/deployments/%s?force=true" % big_dep)
        assert r.status_code == 202, r.text

        # kills
        tid = ts[0].id
        SingleTask.parse(ok(api.delete("/v2/apps/st/tasks/%s" % tid)))
        two = wait_until(lambda: [t for t in TaskList.parse(ok(api.get("/v2/tasks"))).tasks
                                  if t.id != tid and t.state == "TASK_RUNNING"] or None, 20,
                         what="a replacement")[0]
        TaskList.parse(ok(api.post("/v2/tasks/delete", {"ids": [two.id]})))

        # a restart and a delete: deployment events of every kind
        DeploymentResult.parse(ok(api.post("/v2/apps/st/restart")))
        DeploymentResult.parse(ok(api.delete("/v2/apps/big")))
        heavy.wait_for(lambda t, d: t == "app_terminated_event" and d["appId"] == "/big", 20)
        wait_until(lambda: ok(api.get("/v2/deployments")) == [], 30, what="no deployments")
        light.wait_for(lambda t, d: t == "deployment_success", 5)
        DeploymentResult.parse(ok(api.delete("/v2/apps/st")))
        heavy.wait_for(lambda t, d: t == "app_terminated_event" and d["appId"] == "/st", 20)
        heavy.wait_for(lambda t, d: t == "remove_health_check_event", 5)
        # a subscriber that leaves
        third = SseClient(one.m.url)
        third.wait_for(lambda t, d: t == "event_stream_attached", 5)
        third.close()
        heavy.wait_for(lambda t, d: t == "event_stream_detached", 10)
    finally:
        heavy.close()
        light.close()

    seen = {}
    for client, is_light in ((heavy, False), (light, True)):
        assert not client.frame_errors, client.frame_errors
        for t, d, _ in client.snapshot():
            parse_event(t, d, light=is_light)
            seen.setdefault(t, d)
    for t in ("event_stream_attached", "api_post_event", "status_update_event",
              "instance_changed_event", "health_status_changed_event", "deployment_info",
              "deployment_step_success", "deployment_success", "deployment_step_failure",
              "deployment_failed", "app_terminated_event", "group_change_success",
              "add_health_check_event", "remove_health_check_event",
              "instance_health_changed_event", "event_stream_detached"):
        assert t in seen, (t, sorted(seen))
    # heavy plans by default, light ones with plan-format=light
    hp = heavy.of_type("deployment_info")[0]["plan"]
    lp = light.of_type("deployment_info")[0]["plan"]
    assert "original" in hp and "target" in hp and set(lp) == {"id", "steps", "version"}
    assert heavy.of_type("deployment_info")[0]["currentStep"]["actions"][0]["action"]


def test_tasks_as_text_plain(one):
    """Accept: text/plain gives Marathon's line format (compat.md §10.7)."""
    api = one.m.api
    ok(api.post("/v2/apps", app_def("/tx/web", "exec sleep 3600", instances=2,
                                    portDefinitions=[{"port": 0}, {"port": 0}])), 201)
    ok(api.post("/v2/apps", app_def("/tx/noports", "exec sleep 3600", instances=1,
                                    portDefinitions=[])), 201)
    wait_until(lambda: len(api.running("/tx/web")) == 2 and len(api.running("/tx/noports")) == 1,
               20, what="3 running tasks")
    web = ok(api.get("/v2/apps/tx/web"))["app"]
    sp = [p["port"] for p in web["portDefinitions"]]
    want_web = ""
    for i, port in enumerate(sp):
        want_web += "tx_web\t%d\t" % port + "".join(
            "%s:%d\t" % (t["host"], t["ports"][i]) for t in web["tasks"]) + "\n"
    host = api.tasks("/tx/noports")[0]["host"]
    want_np = "tx_noports\t \t%s\t\n" % host

    r = api.get("/v2/apps/tx/web/tasks", headers={"Accept": "text/plain"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    # the tasks' order within a line is berth's; compare the endpoints as sets
    def norm(text):
        return sorted((ln.split("\t")[0], ln.split("\t")[1], tuple(sorted(ln.split("\t")[2:])))
                      for ln in text.splitlines())
    assert r.text.endswith("\t\n") and norm(r.text) == norm(want_web), (r.text, want_web)
    r = api.get("/v2/tasks", headers={"Accept": "text/plain"})
    assert r.status_code == 200
    assert norm(r.text) == norm(want_np + want_web), (r.text, want_np + want_web)
    assert r.text.startswith("tx_noports\t"), "apps in id order"
    # JSON stays the default
    assert ok(api.get("/v2/tasks", headers={"Accept": "application/json"}))["tasks"]
    TaskList.parse(ok(api.get("/v2/tasks")))


def test_group_change_success_names_the_apps_group(one):
    api = one.m.api
    sse = SseClient(one.m.url, types=["group_change_success"])
    try:
        r = ok(api.post("/v2/apps", app_def("/g1/g2/a", "exec sleep 3600", instances=0)), 201)
        d = sse.wait_for(lambda t, d: True, 5)
        assert d["groupId"] == "/g1/g2" and d["version"] == r["version"], (d, r["version"])
        ok(api.post("/v2/apps", app_def("/top", "exec sleep 3600", instances=0)), 201)
        sse.wait_for(lambda t, d: d["groupId"] == "/", 5)
    finally:
        sse.close()
