"""Per-instance control (issue 19, "Per-instance control"), as the Kafka scheduler's CLI gives
it for brokers: `berth instance stop|start|env|list` by index and range, an index offset
(BERTH_INSTANCE_INDEX_OFFSET) and `berth app scale ID 1000..1019`; the API under
/api/berth/apps/{id}/instances (docs/api.md "Instances")."""
from helpers import (_proc_environ, app_def, task_pids, wait_indexes, wait_replaced, wait_until)
from test_volumes import agent_of, pv_app, starts

APP = "/api/berth/apps/%s/instances"


def task_env(task_id):
    pids = wait_until(lambda: task_pids(task_id), 10, what="processes of %s" % task_id)
    return _proc_environ(min(pids))


def listing(api, app):
    r = api.get(APP % app)
    assert r.status_code == 200, r.text
    return r.json()


def states(api, app):
    return {i["index"]: i["state"] for i in listing(api, app)["list"]}


def test_stop_start_a_range_keeps_indexes_and_data(cluster, monkeypatch):
    monkeypatch.setenv("BERTH_RENDER_VERIFY", "1")
    cluster.master()
    a1 = cluster.agent()
    api = cluster.m.api
    assert api.post("/v2/apps", pv_app("/kafka", 6)).status_code == 201
    tasks = wait_indexes(api, "/kafka", range(6))
    api.wait_no_deployments()
    pids = {i: t["localVolumes"][0]["persistenceId"] for i, t in tasks.items()}

    # berth instance stop /kafka 3..5: those three end, the others run on, nothing replaces
    # them, and the app still counts 6 instances (3 of them stopped)
    rc, out, err = cluster.cli("instance", "stop", "/kafka", "3..5", "--wait")
    assert rc == 0, err
    assert "Stopped instances 3..5" in out and "changed: 3,4,5" in out, out
    assert "'/kafka': stopped, done" in out, out
    wait_indexes(api, "/kafka", [0, 1, 2])
    wait_until(lambda: states(api, "kafka") == {0: "running", 1: "running", 2: "running",
                                                3: "stopped", 4: "stopped", 5: "stopped"},
               10, what="3..5 stopped")
    app = api.app("/kafka")
    assert app["instances"] == 6 and app["tasksRunning"] == 3, app
    assert api.deployments() == []
    ls = listing(api, "kafka")
    assert ls["stopped"] == 3 and ls["instances"] == 6, ls
    # stopping again changes nothing; a scale-up takes a new index, not a stopped one
    r = api.post(APP % "kafka" + "/stop", {"indexes": [3, 4]})
    assert r.status_code == 200 and r.json()["changed"] == [], r.text
    assert api.patch("/v2/apps/kafka", {"instances": 7}).status_code == 200
    wait_indexes(api, "/kafka", [0, 1, 2, 6])
    api.wait_no_deployments()

    # CLI list shows each index's state
    rc, out, err = cluster.cli("instance", "list", "/kafka")
    assert rc == 0, err
    rows = {ln.split()[0]: ln.split()[1] for ln in out.splitlines()[1:]}
    assert rows == {"0": "running", "1": "running", "2": "running", "3": "stopped",
                    "4": "stopped", "5": "stopped", "6": "running"}, out

    # start 4: the same instance comes back on its volume (same persistence id, same agent)
    rc, out, err = cluster.cli("instance", "start", "/kafka", "4")
    assert rc == 0, err
    t = wait_indexes(api, "/kafka", [0, 1, 2, 4, 6])
    assert t[4]["localVolumes"][0]["persistenceId"] == pids[4]
    wait_until(lambda: len(starts(a1, t[4])) == 2, 10, what="index 4 back on its data")

    # the stop survives a master restart
    cluster.m.restart()
    cluster.m.ready()
    wait_until(lambda: states(api, "kafka").get(3) == "stopped", 20, what="3 still stopped")
    wait_indexes(api, "/kafka", [0, 1, 2, 4, 6], timeout=40)
    assert states(api, "kafka")[5] == "stopped"
    rc, out, err = cluster.cli("instance", "start", "/kafka", "3,5", "--wait")
    assert rc == 0, err
    wait_indexes(api, "/kafka", range(7))
    assert agent_of([a1], t[4]) is a1
    log = cluster.m.stderr_path.read_text()
    assert "render cache stale" not in log, log[-2000:]


def test_env_override_per_index_and_bad_requests(one):
    api = one.m.api
    d = app_def("/envs", "exec sleep 1000", instances=3)
    d["env"]["ROLE"] = "follower"
    assert api.post("/v2/apps", d).status_code == 201
    tasks = wait_indexes(api, "/envs", [0, 1, 2])
    api.wait_no_deployments()

    # without --restart: applies at the next launch
    rc, out, err = one.cli("instance", "env", "/envs", "1", "ROLE=leader", "HEAP=1g")
    assert rc == 0, err
    assert "next start" in out, out
    assert api.tasks("/envs") and task_env(tasks[1]["id"])["ROLE"] == "follower"
    rc, out, err = one.cli("instance", "env", "/envs", "1..2", "ZONE=b", "--restart")
    assert rc == 0, err
    assert "restarted 1,2" in out, out
    new1 = wait_replaced(api, "/envs", tasks[1])
    new2 = wait_replaced(api, "/envs", tasks[2])
    e1, e2 = task_env(new1["id"]), task_env(new2["id"])
    assert (e1["ROLE"], e1["HEAP"], e1["ZONE"]) == ("leader", "1g", "b"), e1
    assert e2["ROLE"] == "follower" and e2["ZONE"] == "b" and "HEAP" not in e2, e2
    assert "ZONE" not in task_env(tasks[0]["id"])
    ls = {i["index"]: i["env"] for i in listing(api, "envs")["list"]}
    assert ls == {0: {}, 1: {"ROLE": "leader", "HEAP": "1g", "ZONE": "b"},
                  2: {"ZONE": "b"}}, ls
    # a bare NAME unsets it
    rc, out, err = one.cli("instance", "env", "/envs", "2", "ZONE")
    assert rc == 0, err
    assert listing(api, "envs")["list"][2]["env"] == {}
    # the app's Marathon JSON is unchanged by all this
    app = api.app("/envs")
    assert app["env"]["ROLE"] == "follower" and "HEAP" not in app["env"], app

    # bad input: specific error, right status, no change
    before = listing(api, "envs")
    bad = [
        ("stop", {"indexes": "5..3"}, 400, "goes down"),
        ("stop", {"indexes": "1,,2"}, 400, "not an index list"),
        ("stop", {"indexes": "0..20000"}, 400, "more than 10000"),
        ("stop", {"indexes": [1, -1]}, 400, "whole numbers"),
        ("stop", {}, 400, "'indexes'"),
        ("stop", {"indexes": "1..7"}, 404, "has no instance 3"),
        ("start", {"indexes": "9"}, 404, "has no instance 9"),
        ("env", {"indexes": "1", "env": {"1X": "v"}}, 400, "not an environment variable"),
        ("env", {"indexes": "1", "env": {"A": 3}}, 400, "string or null"),
        ("env", {"indexes": "1", "env": {}}, 400, "'env' must be"),
        ("env", {"indexes": "1", "env": {"A": "b"}, "restart": "yes"}, 400, "'restart'"),
        ("add", {"indexes": "2..4"}, 409, "already has an instance 2"),
        ("explode", {"indexes": "1"}, 404, "No instance operation"),
    ]
    for op, body, code, msg in bad:
        r = api.post(APP % "envs" + "/" + op, body)
        assert r.status_code == code and msg in r.json()["message"], (op, body, r.text)
    r = api.post(APP % "envs" + "/stop", data=b"[1")
    assert r.status_code == 400, r.text
    assert api.get(APP % "nope").status_code == 404
    assert listing(api, "envs") == before
    rc, out, err = one.cli("instance", "stop", "/envs", "7")
    assert rc == 1 and "has no instance 7" in err, (out, err)
    rc, out, err = one.cli("instance", "env", "/envs", "1", "=x")
    assert rc == 2, (out, err)


def test_index_offset_and_scale_by_range(one):
    api = one.m.api
    d = app_def("/brokers", "exec sleep 1000", instances=2,
                labels={"BERTH_INSTANCE_INDEX_OFFSET": "1000"})
    assert api.post("/v2/apps", d).status_code == 201
    wait_indexes(api, "/brokers", [1000, 1001])
    api.wait_no_deployments()
    # berth app scale /brokers 1010..1019: exactly these ten are added, in one deployment
    rc, out, err = one.cli("app", "scale", "/brokers", "1010..1019", "--wait")
    assert rc == 0, err
    assert "Adding instances 1010..1019" in out, out
    want = [1000, 1001] + list(range(1010, 1020))
    t = wait_indexes(api, "/brokers", want)
    assert task_env(t[1015]["id"])["BERTH_INSTANCE_INDEX"] == "1015"
    assert api.app("/brokers")["instances"] == 12
    # a later count scale-up fills from the offset's lowest free index
    assert api.patch("/v2/apps/brokers", {"instances": 13}).status_code == 200
    wait_indexes(api, "/brokers", want + [1002])
    api.wait_no_deployments()
    # taken indexes are refused, nothing added
    r = api.post(APP % "brokers" + "/add", {"indexes": "1019..1020"})
    assert r.status_code == 409 and "already has an instance 1019" in r.text, r.text
    assert api.app("/brokers")["instances"] == 13
    # the added instances survive a master restart with their indexes
    one.m.restart()
    one.m.ready()
    wait_indexes(api, "/brokers", want + [1002], timeout=40)
    # a bad offset is refused at the edge
    bad = app_def("/bad", "sleep 1", labels={"BERTH_INSTANCE_INDEX_OFFSET": "-4"})
    r = api.post("/v2/apps", bad)
    assert r.status_code == 422 and "BERTH_INSTANCE_INDEX_OFFSET" in r.text, r.text


def test_instance_control_needs_the_apps_acls(cluster):
    """update_apps on the app for changes, view_apps to list (docs/security.md)."""
    import json

    import requests
    from test_acl import ANY, start, vals
    acls = {"permissive": False,
            "register_agents": [{"principals": vals("agent"), "agents": ANY}],
            "create_apps": [{"principals": vals("ops"), "app_ids": ANY}],
            "update_apps": [{"principals": vals("dev"), "app_ids": vals("/dev")},
                            {"principals": vals("ops"), "app_ids": ANY}],
            "view_apps": [{"principals": vals("dev"), "app_ids": vals("/dev")},
                          {"principals": vals("ops"), "app_ids": ANY}]}
    m, audit = start(cluster, acls)
    cred = cluster.workdir / "agent-cred"
    cred.write_text(json.dumps({"principal": "agent", "secret": "agent-pw"}))
    cluster.agent(extra=["--credential", str(cred)])
    for app in ("/dev/a", "/prod/a"):
        r = m.api.post("/v2/apps", app_def(app, "exec sleep 1000", instances=2))
        assert r.status_code == 201, r.text
    wait_indexes(m.api, "/prod/a", [0, 1])
    dev = requests.Session()
    dev.auth = ("dev", "dev-pw")
    r = dev.post(m.url + APP % "prod/a" + "/stop", json={"indexes": "1"})
    assert r.status_code == 403, r.text
    assert dev.get(m.url + APP % "prod/a").status_code == 403
    assert states(m.api, "prod/a")[1] in ("running", "starting")
    r = dev.post(m.url + APP % "dev/a" + "/stop", json={"indexes": "1"})
    assert r.status_code == 200 and r.json()["changed"] == [1], r.text
    assert dev.get(m.url + APP % "dev/a").status_code == 200
