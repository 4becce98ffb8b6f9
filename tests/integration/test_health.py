"""Health checks run by each task's executor: results on tasks and counts on apps, unhealthy
tasks killed and replaced (unhealthy_instance_kill_event), HTTP/COMMAND/TCP checks, and bad
definitions rejected with the JSON path of the problem."""
import time

from helpers import (SseClient, app_def, is_healthy, pid_alive, service_cmd, task_pids,
                     wait_until)


def hc(protocol="HTTP", **kw):
    d = {"protocol": protocol, "intervalSeconds": 1, "timeoutSeconds": 1,
         "gracePeriodSeconds": 2, "maxConsecutiveFailures": 3, "delaySeconds": 0}
    d.update(kw)
    return d


def one_task(api, app_id):
    ts = [t for t in api.tasks(app_id) if t.get("state") == "TASK_RUNNING"]
    return ts[0] if len(ts) == 1 else None


def test_http_check_that_starts_failing_gets_the_task_replaced(one):
    api, agent = one.m.api, one.a
    sse = SseClient(one.m.url)
    try:
        app = app_def("/hweb", service_cmd(one.workdir),
                      healthChecks=[hc("HTTP", path="/health")])
        assert api.post("/v2/apps", app).status_code == 201
        t = wait_until(lambda: (lambda x: x if x and is_healthy(x) else None)(
            one_task(api, "/hweb")), 15, what="a healthy task")
        r = t["healthCheckResults"][0]
        assert r["alive"] is True and r["consecutiveFailures"] == 0, r
        assert r["firstSuccess"] and r["lastSuccess"], r
        assert r["instanceId"] and t["id"].startswith(r["instanceId"]), (r, t["id"])
        a = api.app("/hweb")
        assert (a["tasksRunning"], a["tasksHealthy"], a["tasksUnhealthy"]) == (1, 1, 0), a
        assert a["healthChecks"][0]["path"] == "/health"
        pids = wait_until(lambda: task_pids(t["id"]), 10, what="task processes")

        (agent.sandbox(t["id"]) / "sick").write_text("")
        # Along the way the task is RUNNING but unhealthy, with failures counted.
        seen = {}

        def observe():
            a = api.app("/hweb")
            for x in a.get("tasks", []):
                if x["id"] == t["id"] and x.get("healthCheckResults"):
                    r = x["healthCheckResults"][0]
                    if r["alive"] is False:
                        seen["result"] = r
            if a["tasksUnhealthy"] == 1 and a["tasksHealthy"] == 0:
                seen["counts"] = (a["tasksRunning"], a["tasksHealthy"], a["tasksUnhealthy"])
            return seen.get("result") and seen.get("counts")
        wait_until(observe, 10, interval=0.05, what="the task seen unhealthy (%r)" % seen)
        assert seen["result"]["consecutiveFailures"] >= 1, seen
        assert seen["result"]["lastFailure"], seen

        kill = sse.wait_for(lambda ty, d: ty == "unhealthy_instance_kill_event"
                            and d["taskId"] == t["id"], 15, what="unhealthy_instance_kill_event")
        assert kill["appId"] == "/hweb"
        assert kill["instanceId"] == r["instanceId"]
        for k in ("version", "reason", "host", "slaveId", "timestamp"):
            assert kill.get(k), (k, kill)
        wait_until(lambda: not any(pid_alive(p) for p in pids), 10, what="old task dead")
        # replaced: a new task (new sandbox, so not sick) that becomes healthy, same index
        t2 = wait_until(lambda: (lambda x: x if x and x["id"] != t["id"] and is_healthy(x)
                                 else None)(one_task(api, "/hweb")), 20,
                        what="a healthy replacement")
        assert t2["index"] == t["index"]
        a = api.app("/hweb")
        assert (a["tasksRunning"], a["tasksHealthy"], a["tasksUnhealthy"]) == (1, 1, 0), a
        # the event stream told the story
        # Marathon 1.10's failed_health_check_event names the instance in "taskId"
        assert sse.wait_for(lambda ty, d: ty == "failed_health_check_event"
                            and d["taskId"] == r["instanceId"], 1)["appId"] == "/hweb"
        assert sse.wait_for(lambda ty, d: ty == "health_status_changed_event"
                            and d["instanceId"] == r["instanceId"] and d["alive"] is False, 1)
        sse.wait_for(lambda ty, d: ty == "status_update_event" and d["taskId"] == t["id"]
                     and d["taskStatus"] in ("TASK_KILLED", "TASK_FAILED"), 5,
                     what="the old task's terminal update")
    finally:
        sse.close()


def test_command_and_mesos_http_checks_each_reported(one):
    api, agent = one.m.api, one.a
    checks = [hc("MESOS_HTTP", path="/"),
              hc("COMMAND", command={"value": "test ! -e cmdsick"}, maxConsecutiveFailures=2)]
    app = app_def("/hcmd", service_cmd(one.workdir), healthChecks=checks)
    assert api.post("/v2/apps", app).status_code == 201
    t = wait_until(lambda: (lambda x: x if x and is_healthy(x, 2) else None)(
        one_task(api, "/hcmd")), 20, what="a task healthy on both checks")
    assert len(t["healthCheckResults"]) == 2, t
    assert api.app("/hcmd")["healthChecks"][0]["protocol"] == "MESOS_HTTP"
    sb = agent.sandbox(t["id"])
    (sb / "cmdsick").write_text("")

    def mixed():
        x = one_task(api, "/hcmd")
        if x and x["id"] == t["id"]:
            alive = [r["alive"] for r in x.get("healthCheckResults", [])]
            return alive == [True, False] or None
        return None
    wait_until(mixed, 10, interval=0.05, what="HTTP alive, COMMAND failing")
    t2 = wait_until(lambda: (lambda x: x if x and x["id"] != t["id"] and is_healthy(x, 2)
                             else None)(one_task(api, "/hcmd")), 25,
                    what="the task replaced after its COMMAND check failed")
    assert t2["index"] == t["index"]


def test_tcp_checks_and_max_consecutive_failures_zero(one):
    api = one.m.api
    sse = SseClient(one.m.url, types=["unhealthy_instance_kill_event"])
    try:
        ok = app_def("/tcpok", service_cmd(one.workdir), healthChecks=[hc("TCP")])
        # nothing listens on the task's port: the check fails
        bad = app_def("/tcpbad", "exec sleep 3600",
                      healthChecks=[hc("MESOS_TCP", gracePeriodSeconds=0,
                                       maxConsecutiveFailures=2)])
        never = app_def("/tcpkeep", "exec sleep 3600",
                        healthChecks=[hc("TCP", gracePeriodSeconds=0, maxConsecutiveFailures=0)])
        for a in (ok, bad, never):
            assert api.post("/v2/apps", a).status_code == 201, a["id"]
        wait_until(lambda: (lambda x: x and is_healthy(x))(one_task(api, "/tcpok")), 15,
                   what="/tcpok healthy")
        kill = sse.wait_for(lambda ty, d: d.get("appId") == "/tcpbad", 15,
                            what="/tcpbad killed as unhealthy")
        assert kill["taskId"].startswith("tcpbad.instance-"), kill
        wait_until(lambda: (lambda x: x and x["id"] != kill["taskId"])(one_task(api, "/tcpbad")),
                   15, what="/tcpbad replaced")
        keep = one_task(api, "/tcpkeep")
        assert keep
        time.sleep(3)  # several failed checks, and maxConsecutiveFailures 0 never kills
        a = api.app("/tcpkeep")
        assert (a["tasksRunning"], a["tasksHealthy"], a["tasksUnhealthy"]) == (1, 0, 1), a
        now = one_task(api, "/tcpkeep")
        assert now["id"] == keep["id"]
        assert now["healthCheckResults"][0]["alive"] is False
        assert now["healthCheckResults"][0]["consecutiveFailures"] >= 2
        assert not [d for _, d, _ in sse.snapshot() if d.get("appId") == "/tcpkeep"]
        a = api.app("/tcpok")
        assert (a["tasksHealthy"], a["tasksUnhealthy"]) == (1, 0), a
    finally:
        sse.close()


BAD_CHECKS = [
    ({"healthChecks": [{"protocol": "GOPHER"}]}, "/healthChecks/0/protocol"),
    ({"healthChecks": [{"protocol": "HTTP", "portIndex": 3}]}, "/healthChecks/0/portIndex"),
    ({"healthChecks": [{"protocol": "HTTP", "path": "health"}]}, "/healthChecks/0/path"),
    ({"healthChecks": [{"protocol": "COMMAND"}]}, "/healthChecks/0/command"),
    ({"healthChecks": [{"protocol": "TCP", "port": 70000}]}, "/healthChecks/0/port"),
    ({"healthChecks": [{"protocol": "TCP"}, {"intervalSeconds": 0}]},
     "/healthChecks/1/intervalSeconds"),
    ({"healthChecks": [{"timeoutSeconds": -1}]}, "/healthChecks/0/timeoutSeconds"),
    ({"healthChecks": [{"maxConsecutiveFailures": -2}]}, "/healthChecks/0/maxConsecutiveFailures"),
    ({"healthChecks": {"protocol": "HTTP"}}, "/healthChecks"),
    ({"healthChecks": ["HTTP"]}, "/healthChecks/0"),
    ({"readinessChecks": [{"portName": "nope"}]}, "/readinessChecks/0/portName"),
    ({"upgradeStrategy": {"minimumHealthCapacity": 1.5, "maximumOverCapacity": 1}},
     "/upgradeStrategy/minimumHealthCapacity"),
    ({"upgradeStrategy": {"minimumHealthCapacity": 1, "maximumOverCapacity": -0.1}},
     "/upgradeStrategy/maximumOverCapacity"),
]


def test_bad_check_definitions_are_rejected_with_their_path(cluster):
    api = cluster.master().api
    for extra, path in BAD_CHECKS:
        app = app_def("/badhc", "sleep 3600", **extra)
        r = api.post("/v2/apps", app)
        assert r.status_code == 422, (extra, r.status_code, r.text)
        body = r.json()
        assert body["message"] == "Object is not valid", body
        paths = [d["path"] for d in body["details"]]
        assert path in paths, (extra, paths)
        assert all(d["errors"] for d in body["details"])
        assert api.get("/v2/apps/badhc").status_code == 404
    # a health check with a wrong field type names the field too
    r = api.post("/v2/apps", app_def("/badhc", "sleep 3600",
                                     healthChecks=[{"gracePeriodSeconds": "soon"}]))
    assert r.status_code == 422
    assert any(d["path"].startswith("/healthChecks/0") for d in r.json()["details"]), r.text
    # and an update with a bad check changes nothing
    assert api.post("/v2/apps", app_def("/okhc", "sleep 3600", instances=0)).status_code == 201
    v = api.app("/okhc")["version"]
    r = api.put("/v2/apps/okhc", {"healthChecks": [{"protocol": "COMMAND"}]})
    assert r.status_code == 422, r.text
    assert api.app("/okhc")["version"] == v
    assert api.app("/okhc")["healthChecks"] == []
    # defaults are Marathon's
    r = api.post("/v2/apps", app_def("/defhc", "sleep 3600", instances=0,
                                     healthChecks=[{"protocol": "HTTP"}]))
    assert r.status_code == 201, r.text
    h = r.json()["healthChecks"][0]
    assert (h["path"], h["portIndex"], h["gracePeriodSeconds"], h["intervalSeconds"],
            h["timeoutSeconds"], h["maxConsecutiveFailures"], h["ignoreHttp1xx"]) == \
        ("/", 0, 300, 60, 20, 3, False), h
