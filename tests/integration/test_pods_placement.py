"""Pods placed as Marathon places them (issue 19, docs/api.md "Pods"): the pod's
scheduling.placement constraints and acceptedResourceRoles, its waiting instances in
/v2/queue, its definition in its group's "pods" in /v2/groups, and the id rule shared with
apps (Marathon's root group: apps and pods may not share an id)."""
import helpers


def pod(pid, instances=1, placement=None):
    p = {
        "id": pid,
        "environment": {helpers.TAG_VAR: helpers.current_tag()},
        "scaling": {"kind": "fixed", "instances": instances},
        "containers": [
            {"name": "main", "resources": {"cpus": 0.1, "mem": 16},
             "exec": {"command": {"shell": "exec sleep 300"}}},
        ],
    }
    if placement is not None:
        p["scheduling"] = {"placement": placement}
    return p


def status(m, pid):
    r = m.api.get("/v2/pods%s::status" % pid)
    assert r.status_code == 200, r.text
    return r.json()


def stable_agents(m, pid, n):
    """The agent ids of pid's instances once n run, STABLE."""
    def ok():
        inst = status(m, pid)["instances"]
        if len(inst) != n or any(i["status"] != "STABLE" for i in inst):
            return None
        return sorted(i["agentId"] for i in inst)
    return helpers.wait_until(ok, timeout=40, what="%d stable instances of %s" % (n, pid))


def agent_id(a):
    return a.api.post("/api/v1", {"type": "GET_AGENT"}).json()["get_agent"]["agent_info"][
        "id"]["value"]


def queue_item(m, pid):
    for item in m.api.get("/v2/queue").json()["queue"]:
        if "pod" in item and item["pod"]["id"] == pid:
            return item
    return None


def test_pod_placement_and_queue(cluster):
    m = cluster.master()
    a = cluster.agent(hostname="node-a", attributes="rack:r1")
    b = cluster.agent(hostname="node-b", attributes="rack:r2")
    ida, idb = agent_id(a), agent_id(b)

    # IS: only on rack r2
    c = [{"fieldName": "rack", "operator": "IS", "value": "r2"}]
    r = m.api.post("/v2/pods", pod("/pl/is", 2, {"constraints": c}))
    assert r.status_code == 201, r.text
    assert r.json()["scheduling"]["placement"]["constraints"] == c
    assert stable_agents(m, "/pl/is", 2) == [idb, idb]

    # UNIQUE hostname: one per agent; a third waits in the queue, shaped as Marathon's
    u = {"constraints": [{"fieldName": "hostname", "operator": "UNIQUE"}]}
    assert m.api.post("/v2/pods", pod("/pl/uniq", 2, u)).status_code == 201
    assert stable_agents(m, "/pl/uniq", 2) == sorted([ida, idb])
    assert queue_item(m, "/pl/uniq") is None
    r = m.api.put("/v2/pods/pl/uniq", pod("/pl/uniq", 3, u))
    assert r.status_code == 200, r.text
    item = helpers.wait_until(lambda: queue_item(m, "/pl/uniq"), timeout=20,
                              what="the pod's waiting instance in /v2/queue")
    assert set(item) == {"count", "delay", "since", "processedOffersSummary", "pod"}
    assert item["count"] == 1
    assert set(item["delay"]) == {"timeLeftSeconds", "overdue"}
    assert item["pod"]["id"] == "/pl/uniq" and item["pod"]["scaling"]["instances"] == 3
    st = status(m, "/pl/uniq")
    assert sorted(i["status"] for i in st["instances"]) == ["PENDING", "STABLE", "STABLE"]
    assert st["status"] == "DEGRADED"
    q = m.api.get("/v2/queue?embed=lastUnusedOffers").json()["queue"]
    assert [i["lastUnusedOffers"] for i in q if "pod" in i] == [[]]
    # a third agent takes it
    c3 = cluster.agent(hostname="node-c", attributes="rack:r3")
    assert stable_agents(m, "/pl/uniq", 3) == sorted([ida, idb, agent_id(c3)])
    helpers.wait_until(lambda: queue_item(m, "/pl/uniq") is None, timeout=20,
                       what="the queue empty again")

    # LIKE / UNLIKE on an attribute (a regex over the whole value)
    lk = {"constraints": [{"fieldName": "rack", "operator": "UNLIKE", "value": "r[12]"}]}
    assert m.api.post("/v2/pods", pod("/pl/like", 1, lk)).status_code == 201
    assert stable_agents(m, "/pl/like", 1) == [agent_id(c3)]

    # acceptedResourceRoles without "*": nothing a pod takes is admitted: it waits
    roles = {"acceptedResourceRoles": ["slave_public"]}
    assert m.api.post("/v2/pods", pod("/pl/roles", 1, roles)).status_code == 201
    item = helpers.wait_until(lambda: queue_item(m, "/pl/roles"), timeout=20,
                              what="the roles pod waiting")
    assert item["count"] == 1
    assert [i["status"] for i in status(m, "/pl/roles")["instances"]] == ["PENDING"]
    # ["*", ...] admits them
    roles = {"acceptedResourceRoles": ["slave_public", "*"]}
    assert m.api.put("/v2/pods/pl/roles?force=true",
                     pod("/pl/roles", 1, roles)).status_code == 200
    stable_agents(m, "/pl/roles", 1)
    helpers.wait_until(lambda: queue_item(m, "/pl/roles") is None, timeout=20,
                       what="the roles pod placed")

    # /v2/groups: each group's "pods"
    g = m.api.get("/v2/groups/pl").json()
    assert [p["id"] for p in g["pods"]] == ["/pl/is", "/pl/like", "/pl/roles", "/pl/uniq"]
    assert g["pods"][0] == m.api.get("/v2/pods/pl/is").json()
    root = m.api.get("/v2/groups").json()
    assert root["pods"] == []
    assert m.api.get("/v2/groups?embed=group.apps").json().get("pods") is None
    assert m.api.get("/v2/groups/nope").status_code == 404


def test_bad_placement_is_refused(cluster):
    m = cluster.master()
    cases = [
        ({"constraints": [{"fieldName": "rack", "operator": "NOPE", "value": "x"}]},
         "/scheduling/placement/constraints"),
        ({"constraints": [{"operator": "UNIQUE"}]}, "/scheduling/placement/constraints(0)"),
        ({"constraints": [["hostname", "UNIQUE"]]}, "/scheduling/placement/constraints(0)"),
        ({"constraints": [{"fieldName": "rack", "operator": "LIKE", "value": "("}]},
         "/scheduling/placement/constraints"),
        ({"acceptedResourceRoles": "*"}, "/scheduling/placement/acceptedResourceRoles"),
        ([], "/scheduling/placement"),
    ]
    for placement, path in cases:
        r = m.api.post("/v2/pods", pod("/bad", 1, placement))
        assert r.status_code == 422, (placement, r.text)
        paths = [d["path"] for d in r.json()["details"]]
        assert any(p.startswith(path) for p in paths), (placement, paths)
    assert m.api.get("/v2/pods").json() == []


def test_apps_and_pods_do_not_share_ids(cluster):
    m = cluster.master()
    want = {"message": "Object is not valid",
            "details": [{"path": "/", "errors": [
                "Applications and Pods may not share the same id"]}]}
    assert m.api.post("/v2/pods", pod("/same", 0)).status_code == 201
    r = m.api.post("/v2/apps", {"id": "/same", "cmd": "sleep 100", "instances": 0})
    assert r.status_code == 422 and r.json() == want, r.text
    r = m.api.put("/v2/apps/same", {"cmd": "sleep 100", "instances": 0})
    assert r.status_code == 422 and r.json() == want, r.text
    assert m.api.get("/v2/apps/same").status_code == 404
    assert m.api.post("/v2/apps", {"id": "/app1", "cmd": "sleep 100",
                                   "instances": 0}).status_code == 201
    r = m.api.post("/v2/pods", pod("/app1", 0))
    assert r.status_code == 422 and r.json() == want, r.text
    assert m.api.get("/v2/pods/app1").status_code == 404


def test_pod_health_checks(one):
    """A container's healthCheck runs in the default executor: its result is the container's
    "healthy" condition in ::status (an instance is STABLE only when every checked container
    is healthy); a container failing it maxConsecutiveFailures times in a row is killed with
    its instance, which is replaced."""
    m = one.m
    p = pod("/hc/web", 1)
    p["containers"] = [
        {"name": "web", "resources": {"cpus": 0.1, "mem": 32},
         "endpoints": [{"name": "http", "hostPort": 0}],
         "exec": {"command": {"shell":
                              "exec python3 -m http.server $ENDPOINT_HTTP --bind 127.0.0.1"}},
         "healthCheck": {"http": {"endpoint": "http", "path": "/"}, "delaySeconds": 0,
                         "intervalSeconds": 1, "timeoutSeconds": 2,
                         "gracePeriodSeconds": 30, "maxConsecutiveFailures": 3}},
        {"name": "flaky", "resources": {"cpus": 0.1, "mem": 16},
         "exec": {"command": {"shell": "sleep 8; touch sick; exec sleep 300"}},
         "healthCheck": {"exec": {"command": {"shell": "test ! -e sick"}},
                         "delaySeconds": 0, "intervalSeconds": 1, "timeoutSeconds": 2,
                         "gracePeriodSeconds": 0, "maxConsecutiveFailures": 2}},
    ]
    r = m.api.post("/v2/pods", p)
    assert r.status_code == 201, r.text
    hc = r.json()["containers"][0]["healthCheck"]
    assert hc == {"http": {"endpoint": "http", "path": "/"}, "delaySeconds": 0,
                  "intervalSeconds": 1, "timeoutSeconds": 2, "gracePeriodSeconds": 30,
                  "maxConsecutiveFailures": 3}

    def healthy_first():
        st = status(m, "/hc/web")
        inst = st["instances"]
        if len(inst) != 1 or inst[0]["status"] != "STABLE":
            return None
        return st
    st = helpers.wait_until(healthy_first, timeout=30, what="a stable, healthy instance")
    first = st["instances"][0]["id"]
    for c in st["instances"][0]["containers"]:
        assert c["status"] == "TASK_RUNNING"
        assert [(x["name"], x["value"], x["reason"]) for x in c["conditions"]] == [
            ("healthy", "true", "health-reported-by-mesos")]
    assert st["status"] == "STABLE"

    # "flaky" turns sick: its instance degrades, is killed after 2 failures, and replaced
    def degraded():
        inst = status(m, "/hc/web")["instances"]
        return inst[0] if inst and inst[0]["id"] == first and \
            inst[0]["status"] == "DEGRADED" else None
    inst = helpers.wait_until(degraded, timeout=30, what="the instance unhealthy")
    assert inst["message"] == "at least one container is not healthy"
    flaky = [c for c in inst["containers"] if c["name"] == "flaky"][0]
    assert [(x["name"], x["value"]) for x in flaky["conditions"]] == [("healthy", "false")]

    def replaced():
        st = status(m, "/hc/web")
        hist = [h["instanceID"] for h in st.get("terminationHistory", [])]
        ids = [i["id"] for i in st["instances"]]
        return st if first in hist and ids and first not in ids else None
    helpers.wait_until(replaced, timeout=30, what="the unhealthy instance replaced")


def test_bad_health_checks_are_refused(cluster):
    m = cluster.master()
    cases = [
        ({"http": {"endpoint": "nope"}}, "/containers(0)/healthCheck/http/endpoint"),
        ({"tcp": {"endpoint": "e"}, "exec": {"command": {"shell": "true"}}},
         "/containers(0)/healthCheck"),
        ({"exec": {"command": {}}}, "/containers(0)/healthCheck/exec/command"),
        ({"tcp": {"endpoint": "e"}, "intervalSeconds": 0},
         "/containers(0)/healthCheck/intervalSeconds"),
    ]
    for hc, path in cases:
        p = pod("/badhc", 1)
        p["containers"][0]["endpoints"] = [{"name": "e", "hostPort": 0}]
        p["containers"][0]["healthCheck"] = hc
        r = m.api.post("/v2/pods", p)
        assert r.status_code == 422, (hc, r.text)
        assert path in [d["path"] for d in r.json()["details"]], (hc, r.text)
