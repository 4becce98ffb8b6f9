"""Marathon's /v2/pods (issue 19, docs/api.md "Pods") through a real master and agent: a
pod's instance is one task group on the default executor (its containers share the
executor's sandbox volume), created, scaled, read back (::status, ::versions), updated,
an instance killed and another failing, each replaced, the master restarted under it, and
the pod deleted."""
import os
import signal
import time

import helpers

POD_ID = "/db/pod1"


def pod(instances=1, extra_env=None):
    env = {helpers.TAG_VAR: helpers.current_tag()}
    if extra_env:
        env.update(extra_env)
    return {
        "id": POD_ID,
        "environment": env,
        "volumes": [{"name": "shared"}],
        "scaling": {"kind": "fixed", "instances": instances},
        "containers": [
            {"name": "writer",
             "resources": {"cpus": 0.1, "mem": 32},
             "endpoints": [{"name": "web", "hostPort": 0}],
             "exec": {"command": {"shell":
                                  "echo $$ > pid; echo writer-up; echo $ENDPOINT_WEB > data/port; "
                                  "echo from-writer > data/note; exec sleep 300"}},
             "volumeMounts": [{"name": "shared", "mountPath": "data"}]},
            {"name": "reader",
             "resources": {"cpus": 0.1, "mem": 32},
             "exec": {"command": {"shell":
                                  "echo $$ > pid; while [ ! -s in/note ]; do sleep 0.1; done; "
                                  "cat in/note > seen; exec sleep 300"}},
             "volumeMounts": [{"name": "shared", "mountPath": "in"}],
             "lifecycle": {"killGracePeriodSeconds": 1}},
        ],
    }


def status(m):
    r = m.api.get("/v2/pods%s::status" % POD_ID)
    assert r.status_code == 200, r.text
    return r.json()


def wait_stable(m, n, what, version=None):
    def ok():
        st = status(m)
        inst = st["instances"]
        if st["status"] != "STABLE" or len(inst) != n:
            return None
        if any(i["status"] != "STABLE" for i in inst):
            return None
        if version and any(not i["specReference"].endswith("::versions/" + version)
                           for i in inst):
            return None
        return st
    return helpers.wait_until(ok, timeout=40, what=what)


def no_deployments(m):
    helpers.wait_until(lambda: m.api.get("/v2/deployments").json() == [], timeout=30,
                       what="no deployment left")


def task_dir(agent, fw_id, iid, ctr):
    """The container's sandbox, by the link the agent keeps at <sandboxes>/<task id>; it
    points into Mesos's layout under the executor's run."""
    link = agent.work_dir / "sandboxes" / ("%s.%s" % (iid, ctr))
    aid = agent.api.post("/api/v1", {"type": "GET_AGENT"}).json()["get_agent"]["agent_info"][
        "id"]["value"]
    run = (agent.work_dir / "slaves" / aid / "frameworks" / fw_id / "executors" /
           ("instance-" + iid) / "runs" / "latest")
    want = run / "tasks" / ("%s.%s" % (iid, ctr))
    assert os.path.realpath(str(link)) == os.path.realpath(str(want))
    return want


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def test_pod_lifecycle(one):
    m = one.m
    ev = helpers.SseClient(m.url, types=("pod_created_event", "pod_updated_event",
                                         "pod_deleted_event"))
    assert m.api.req("HEAD", "/v2/pods").status_code == 200
    r = m.api.post("/v2/pods", pod())
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == POD_ID
    dep = r.headers["Marathon-Deployment-Id"]
    body = r.json()
    # Marathon's normalised pod
    assert body["id"] == POD_ID and body["version"]
    assert body["scaling"] == {"kind": "fixed", "instances": 1}
    assert body["networks"] == [{"mode": "host"}]
    assert body["executorResources"] == {"cpus": 0.1, "mem": 32.0, "disk": 10.0}
    assert body["scheduling"]["backoff"] == {"backoff": 1.0, "backoffFactor": 1.15,
                                             "maxLaunchDelay": 3600.0}
    assert body["scheduling"]["upgrade"] == {"minimumHealthCapacity": 1.0,
                                             "maximumOverCapacity": 1.0}
    assert body["scheduling"]["killSelection"] == "YOUNGEST_FIRST"
    assert body["containers"][0]["resources"] == {"cpus": 0.1, "mem": 32.0, "disk": 0.0,
                                                  "gpus": 0}
    assert body["containers"][0]["endpoints"] == [{"name": "web", "hostPort": 0,
                                                   "protocol": ["tcp"]}]
    deps = m.api.get("/v2/deployments").json()
    mine = [d for d in deps if d["id"] == dep]
    if mine:  # it may be done already
        assert mine[0]["affectedPods"] == [POD_ID] and mine[0]["affectedApps"] == []
        assert mine[0]["steps"] == [{"actions": [{"action": "StartPod", "pod": POD_ID}]}]
    assert m.api.get("/v2/pods").json() == [body]
    assert m.api.get("/v2/pods" + POD_ID).json() == body

    st = wait_stable(m, 1, "one stable instance")
    no_deployments(m)
    inst = st["instances"][0]
    iid = inst["id"]
    assert iid.startswith("db_pod1.instance-")
    assert st["spec"] == body and st["id"] == POD_ID
    assert inst["agentHostname"] and abs(inst["resources"]["cpus"] - 0.3) < 1e-9
    names = sorted(c["name"] for c in inst["containers"])
    assert names == ["reader", "writer"]
    w = [c for c in inst["containers"] if c["name"] == "writer"][0]
    assert w["status"] == "TASK_RUNNING" and w["containerId"] == iid + ".writer"
    port = w["endpoints"][0]["allocatedHostPort"]
    assert one.a.port_lo <= port <= one.a.port_hi

    # One executor for the instance; the containers share its volume.
    fw_id = [f for f in m.api.get("/master/state").json()["frameworks"]
             if f["name"] == "marathon"][0]["id"]
    wd, rd = task_dir(one.a, fw_id, iid, "writer"), task_dir(one.a, fw_id, iid, "reader")
    helpers.wait_until(lambda: (rd / "seen").exists() and (rd / "seen").read_text(),
                       timeout=15, what="the reader saw the writer's note")
    assert (rd / "seen").read_text() == "from-writer\n"
    assert (wd / "data" / "port").read_text().strip() == str(port)
    # its stdout through the master's files API, as any task's
    out = helpers.wait_until(lambda: (lambda r: r.status_code == 200 and
                                      "writer-up" in r.json()["data"] and r)(
        m.api.get("/api/berth/tasks/%s.writer/files/read?path=stdout&offset=0&length=100"
                  % iid)), timeout=10, what="the writer's stdout")
    assert out.json()["data"] == "writer-up\n"
    cs = one.a.api.post("/api/v1", {"type": "GET_CONTAINERS"}).json()
    assert [c["executor_id"] for c in cs["get_containers"]["containers"]] == \
        [{"value": "instance-" + iid}]

    # Scale to 2: the first instance stays.
    r = m.api.put("/v2/pods" + POD_ID, pod(instances=2))
    assert r.status_code == 200, r.text
    assert r.headers["Marathon-Deployment-Id"]
    st = wait_stable(m, 2, "two stable instances")
    assert iid in [i["id"] for i in st["instances"]]
    every = m.api.get("/v2/pods/::status").json()
    assert [x["id"] for x in every] == [POD_ID] and len(every[0]["instances"]) == 2
    no_deployments(m)

    # A change beyond scaling replaces every instance (RestartPod).
    r = m.api.put("/v2/pods" + POD_ID, pod(instances=2, extra_env={"COLOR": "blue"}))
    assert r.status_code == 200, r.text
    v3 = r.json()["version"]
    st = wait_stable(m, 2, "two instances of the new version", version=v3)
    ids = [i["id"] for i in st["instances"]]
    assert iid not in ids
    no_deployments(m)
    versions = m.api.get("/v2/pods%s::versions" % POD_ID).json()
    assert len(versions) == 3 and versions[0] == v3
    first = m.api.get("/v2/pods%s::versions/%s" % (POD_ID, versions[-1])).json()
    assert first["scaling"]["instances"] == 1 and "COLOR" not in first["environment"]

    # An instance killed through the API is replaced.
    victim = ids[0]
    r = m.api.delete("/v2/pods%s::instances/%s" % (POD_ID, victim))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == victim and r.json()["status"] == "TERMINAL"
    st = helpers.wait_until(
        lambda: (lambda s: s if s["status"] == "STABLE" and len(s["instances"]) == 2 and
                 victim not in [i["id"] for i in s["instances"]] else None)(status(m)),
        timeout=40, what="the killed instance replaced")
    assert victim in [h["instanceID"] for h in st["terminationHistory"]]

    # A container that fails takes its instance down (its group is killed together) and
    # the instance is replaced.
    target = st["instances"][0]["id"]
    rpid = int(helpers.wait_until(
        lambda: task_dir(one.a, fw_id, target, "reader").joinpath("pid").read_text(),
        timeout=10, what="reader pid"))
    wpid = int(task_dir(one.a, fw_id, target, "writer").joinpath("pid").read_text())
    os.kill(rpid, signal.SIGKILL)
    helpers.wait_until(lambda: not alive(wpid), timeout=15,
                       what="the writer killed with its failed reader")
    st = helpers.wait_until(
        lambda: (lambda s: s if s["status"] == "STABLE" and len(s["instances"]) == 2 and
                 target not in [i["id"] for i in s["instances"]] else None)(status(m)),
        timeout=40, what="the failed instance replaced")

    # Delete: every instance goes, then the pod.
    pids = []
    for i in st["instances"]:
        p = task_dir(one.a, fw_id, i["id"], "writer") / "pid"
        helpers.wait_until(lambda: p.exists() and p.read_text(), timeout=10, what="pid")
        pids.append(int(p.read_text()))
    r = m.api.delete("/v2/pods" + POD_ID)
    assert r.status_code == 202, r.text
    assert r.headers["Marathon-Deployment-Id"]
    helpers.wait_until(lambda: m.api.get("/v2/pods" + POD_ID).status_code == 404,
                       timeout=30, what="the pod gone")
    assert m.api.get("/v2/pods" + POD_ID).json() == {"message": "Pod '%s' does not exist"
                                                     % POD_ID}
    helpers.wait_until(lambda: not any(alive(p) for p in pids), timeout=15,
                       what="its processes gone")
    assert m.api.get("/v2/pods").json() == []
    no_deployments(m)
    helpers.wait_until(lambda: [t for t, _d, _ts in ev.events] ==
                       ["pod_created_event", "pod_updated_event", "pod_updated_event",
                        "pod_deleted_event"], timeout=10, what="the pod events")
    assert ev.events[0][1]["uri"] == "/v2/pods"
    assert set(ev.events[0][1]) == {"clientIp", "uri", "eventType", "timestamp"}


def test_pod_survives_master_restart(one):
    m = one.m
    r = m.api.post("/v2/pods", pod())
    assert r.status_code == 201, r.text
    st = wait_stable(m, 1, "one stable instance")
    iid = st["instances"][0]["id"]
    m.restart()
    helpers.wait_until(lambda: status(m)["instances"] and
                       status(m)["instances"][0]["containers"] and
                       status(m)["instances"][0]["containers"][0]["status"] == "TASK_RUNNING",
                       timeout=30, what="the instance known again")
    st = wait_stable(m, 1, "stable after the restart")
    assert [i["id"] for i in st["instances"]] == [iid]
    assert m.api.delete("/v2/pods" + POD_ID).status_code == 202
    helpers.wait_until(lambda: m.api.get("/v2/pods" + POD_ID).status_code == 404,
                       timeout=30, what="the pod gone")


def test_pod_survives_agent_restart(one):
    """The agent restarts under a running instance: its default executor subscribes again,
    the instance keeps running (same processes), and a kill afterwards still reaches it."""
    m = one.m
    assert m.api.post("/v2/pods", pod()).status_code == 201
    st = wait_stable(m, 1, "one stable instance")
    iid = st["instances"][0]["id"]
    fw_id = [f for f in m.api.get("/master/state").json()["frameworks"]
             if f["name"] == "marathon"][0]["id"]
    pidf = task_dir(one.a, fw_id, iid, "writer") / "pid"
    helpers.wait_until(lambda: pidf.exists() and pidf.read_text(), timeout=10, what="pid")
    wpid = int(pidf.read_text())
    one.a.restart()
    helpers.wait_until(lambda: "subscribed again" in one.a.stderr_text(), timeout=30,
                       what="the executor subscribed again")
    st = wait_stable(m, 1, "stable after the agent's restart")
    assert [i["id"] for i in st["instances"]] == [iid] and alive(wpid)
    r = m.api.req("DELETE", "/v2/pods%s::instances" % POD_ID, body=[iid])
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()] == [iid]
    helpers.wait_until(lambda: not alive(wpid), timeout=15, what="the killed instance's end")
    st = helpers.wait_until(
        lambda: (lambda s: s if s["status"] == "STABLE" and len(s["instances"]) == 1 and
                 s["instances"][0]["id"] != iid else None)(status(m)),
        timeout=40, what="the instance replaced")
    assert m.api.delete("/v2/pods" + POD_ID).status_code == 202
    helpers.wait_until(lambda: m.api.get("/v2/pods" + POD_ID).status_code == 404,
                       timeout=30, what="the pod gone")


def test_bad_pods_are_refused(one):
    m = one.m
    p = pod()
    p["containers"][0]["resources"]["cpus"] = 0
    p["containers"][1]["name"] = "Bad_Name"
    r = m.api.post("/v2/pods", p)
    assert r.status_code == 422, r.text
    paths = {d["path"] for d in r.json()["details"]}
    assert {"/containers(0)/resources/cpus", "/containers(1)/name"} <= paths
    p = pod()
    p["containers"][0]["image"] = {"kind": "DOCKER", "id": "busybox"}
    p["networks"] = [{"mode": "container", "name": "dcos"}]
    r = m.api.post("/v2/pods", p)
    assert r.status_code == 422
    paths = {d["path"] for d in r.json()["details"]}
    assert {"/containers(0)/image", "/networks"} <= paths
    p = pod()
    p["containers"][0]["volumeMounts"] = [{"name": "shared", "mountPath": "/abs"}]
    r = m.api.post("/v2/pods", p)
    assert r.status_code == 422
    assert r.json()["details"][0]["path"] == "/containers(0)/volumeMounts(0)/mountPath"
    assert m.api.post("/v2/pods", data="{nope",
                      headers={"Content-Type": "application/json"}).status_code == 400
    assert m.api.get("/v2/pods/nope").status_code == 404
    assert m.api.get("/v2/pods/nope::status").json() == {"message": "Pod '/nope' does not "
                                                                     "exist"}
    assert m.api.get("/v2/pods").json() == []
    # a pod whose id is taken; a PUT whose body names another pod
    r = m.api.post("/v2/pods", pod(instances=0))
    assert r.status_code == 201
    r = m.api.post("/v2/pods", pod(instances=0))
    assert r.status_code == 409
    assert r.json()["message"] == "A pod with id [%s] already exists." % POD_ID
    other = pod(instances=0)
    other["id"] = "/other"
    r = m.api.put("/v2/pods" + POD_ID, other)
    assert r.status_code == 422 and r.json()["details"][0]["path"] == "/id"
    r = m.api.delete("/v2/pods%s::instances/%s" % (POD_ID, "db_pod1.instance-nope"))
    assert r.status_code == 404
    no_deployments(m)  # a pod being deployed is locked (409) unless ?force=true
    assert m.api.delete("/v2/pods" + POD_ID).status_code == 202
    helpers.wait_until(lambda: m.api.get("/v2/pods" + POD_ID).status_code == 404,
                       timeout=30, what="the pod gone")


def test_pods_under_the_apps_acls(cluster):
    """A pod is a run spec under the apps' path rules (create/update/delete/view_apps)."""
    import requests
    import test_acl
    acls = {"permissive": False,
            "create_apps": [{"principals": test_acl.vals("dev"),
                             "app_ids": test_acl.vals("/dev")},
                            {"principals": test_acl.vals("ops"), "app_ids": test_acl.ANY}],
            "update_apps": [{"principals": test_acl.vals("dev"),
                             "app_ids": test_acl.vals("/dev")},
                            {"principals": test_acl.vals("ops"), "app_ids": test_acl.ANY}],
            "delete_apps": [{"principals": test_acl.vals("ops"), "app_ids": test_acl.ANY}],
            "view_apps": [{"principals": test_acl.vals("dev"),
                           "app_ids": test_acl.vals("/dev")},
                          {"principals": test_acl.vals("ops"), "app_ids": test_acl.ANY}]}
    m, _audit = test_acl.start(cluster, acls)
    dev = requests.Session()
    dev.auth = ("dev", "dev-pw")
    p = pod(instances=0)
    p["id"] = "/prod/p"
    assert dev.post(m.url + "/v2/pods", json=p).status_code == 403
    assert m.api.get("/v2/pods").json() == []
    p["id"] = "/dev/p"
    assert dev.post(m.url + "/v2/pods", json=p).status_code == 201
    p["id"] = "/prod/p"
    assert m.api.post("/v2/pods", p).status_code == 201
    assert dev.get(m.url + "/v2/pods/prod/p").status_code == 403
    assert dev.get(m.url + "/v2/pods/prod/p::status").status_code == 403
    assert dev.get(m.url + "/v2/pods/dev/p::status").status_code == 200
    # the lists leave out what dev may not view
    assert [x["id"] for x in dev.get(m.url + "/v2/pods").json()] == ["/dev/p"]
    assert [x["id"] for x in dev.get(m.url + "/v2/pods/::status").json()] == ["/dev/p"]
    assert sorted(x["id"] for x in m.api.get("/v2/pods").json()) == ["/dev/p", "/prod/p"]
    assert dev.put(m.url + "/v2/pods/prod/p", json=p).status_code == 403
    assert dev.delete(m.url + "/v2/pods/dev/p").status_code == 403
    assert m.api.get("/v2/pods/dev/p").status_code == 200
    assert m.api.delete("/v2/pods/dev/p?force=true").status_code == 202


def test_a_pod_that_fits_nowhere_waits_locked(one):
    """An instance no agent can hold stays PENDING; its deployment locks the pod (409) until
    a forced change; the forced delete ends it."""
    m = one.m
    p = pod()
    p["id"] = "/big"
    p["containers"][0]["resources"]["cpus"] = 1000
    r = m.api.post("/v2/pods", p)
    assert r.status_code == 201, r.text
    dep = r.headers["Marathon-Deployment-Id"]
    st = helpers.wait_until(lambda: (lambda s: s if s["instances"] else None)(
        m.api.get("/v2/pods/big::status").json()), timeout=10, what="an instance")
    assert st["status"] == "DEGRADED"
    assert [i["status"] for i in st["instances"]] == ["PENDING"]
    assert "agentId" not in st["instances"][0] and st["instances"][0]["containers"] == []
    assert [d["id"] for d in m.api.get("/v2/deployments").json()] == [dep]
    p["scaling"] = {"kind": "fixed", "instances": 2}
    r = m.api.put("/v2/pods/big", p)
    assert r.status_code == 409
    assert r.json()["deployments"] == [{"id": dep}]
    assert m.api.get("/v2/pods/big").json()["scaling"]["instances"] == 1
    assert m.api.delete("/v2/pods/big").status_code == 409
    # rolling the StartPod back deletes the pod
    r = m.api.delete("/v2/deployments/" + dep)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"version", "deploymentId"}
    helpers.wait_until(lambda: m.api.get("/v2/pods/big").status_code == 404, timeout=30,
                       what="the pod gone")
    no_deployments(m)

    # a scale that cannot complete, rolled back to the previous version; then one canceled
    assert m.api.post("/v2/pods", pod()).status_code == 201
    wait_stable(m, 1, "one stable instance")
    no_deployments(m)
    r = m.api.put("/v2/pods" + POD_ID, pod(instances=60))
    assert r.status_code == 200
    r = m.api.delete("/v2/deployments/" + r.headers["Marathon-Deployment-Id"])
    assert r.status_code == 200, r.text
    st = wait_stable(m, 1, "back to one instance")
    assert st["spec"]["scaling"]["instances"] == 1
    no_deployments(m)
    r = m.api.put("/v2/pods" + POD_ID, pod(instances=60))
    r = m.api.delete("/v2/deployments/%s?force=true" % r.headers["Marathon-Deployment-Id"])
    assert r.status_code == 202
    assert m.api.get("/v2/deployments").json() == []
    assert m.api.get("/v2/pods" + POD_ID).json()["scaling"]["instances"] == 60
    assert m.api.delete("/v2/pods" + POD_ID).status_code == 202
    helpers.wait_until(lambda: m.api.get("/v2/pods" + POD_ID).status_code == 404,
                       timeout=30, what="the pod gone")
