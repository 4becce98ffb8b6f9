"""Autoscaling (issue 19, "Autoscaling"): an app's BERTH_AUTOSCALE_* policy scales it through
normal deployments from a metric its instances serve over HTTP; every decision is an opt-in
event and in the app's history (GET /api/berth/autoscale/{id}, `berth app autoscale`)."""
import time

import pytest

from helpers import SseClient, app_def, wait_until

# Each instance serves the number in a file the test writes: the test sets the load.
SERVER = r'''
import http.server, sys
port, path = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            body = open(path, "rb").read()
        except OSError:
            body = b"0"
        if self.path == "/json":
            body = b'{"load": {"now": ' + body.strip() + b'}}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("0.0.0.0", port), H).serve_forever()
'''


def metric_app(tmp_path, app_id, labels, instances=1, path="/"):
    srv = tmp_path / "srv.py"
    srv.write_text(SERVER)
    load = tmp_path / "load"
    load.write_text("1")
    d = app_def(app_id, "exec python3 %s $PORT0 %s" % (srv, load), instances=instances,
                portDefinitions=[{"port": 0}])
    d["labels"] = dict({"team": "web"}, **labels)
    return d, load


@pytest.fixture
def tmp_path(cluster):
    """Where the apps' tasks write what the test reads: under the test's work dir, not /tmp,
    which each task has a private one of (isolation is on by default)."""
    d = cluster.workdir / "shared"
    d.mkdir(exist_ok=True)
    return d


def policy(**kw):
    p = {"BERTH_AUTOSCALE_URL": "http://$HOST:$PORT0/", "BERTH_AUTOSCALE_TARGET": "1",
         "BERTH_AUTOSCALE_MIN": "1", "BERTH_AUTOSCALE_MAX": "3",
         "BERTH_AUTOSCALE_COOLDOWN": "2", "BERTH_AUTOSCALE_INTERVAL": "1"}
    p.update({"BERTH_AUTOSCALE_" + k: v for k, v in kw.items()})
    return p


def instances(api, app_id):
    return api.app(app_id)["instances"]


def test_scales_up_to_max_and_down_to_min(one, tmp_path):
    api = one.m.api
    asev = SseClient(one.m.url, types=["autoscale_decision"])
    plain = SseClient(one.m.url)
    app, load = metric_app(tmp_path, "/as", policy())
    r = api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    api.wait_running("/as", 1)
    # at the target: nothing happens
    wait_until(lambda: api.get("/api/berth/autoscale/as").json()["lastSamples"] == 1, 10,
               what="a first sample")
    time.sleep(2)
    assert instances(api, "/as") == 1
    assert asev.of_type("autoscale_decision") == []

    # load 3x the target: one instance per decision (step 1), cooldown between, up to max
    load.write_text("3")
    wait_until(lambda: instances(api, "/as") == 3, 30, what="scale-up to 3")
    api.wait_running("/as", 3, timeout=30)
    time.sleep(4)  # still loaded: max holds
    assert instances(api, "/as") == 3
    ups = asev.of_type("autoscale_decision")
    assert [(e["from"], e["to"]) for e in ups] == [(1, 2), (2, 3)], ups
    for e in ups:
        assert e["appId"] == "/as" and e["metric"] == "http" and e["target"] == 1
        assert "above the target" in e["reason"], e
        assert e["value"] == 3 and e["samples"] >= 1 and e["deploymentId"], e
    t = [e["timestamp"] for e in ups]
    assert t[0] < t[1]
    hist = api.get("/api/berth/autoscale/as").json()
    assert [(d["from"], d["to"]) for d in hist["decisions"]] == [(2, 3), (1, 2)], hist
    assert hist["policy"]["maxInstances"] == 3 and hist["policy"]["cooldownSeconds"] == 2
    # the cooldown separated the two decisions
    from datetime import datetime
    ts = [datetime.strptime(d["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ") for d in hist["decisions"]]
    assert (ts[0] - ts[1]).total_seconds() >= 2, ts

    # the load drops: down to the minimum, one step at a time
    load.write_text("0")
    wait_until(lambda: instances(api, "/as") == 1, 30, what="scale-down to 1")
    api.wait_running("/as", 1, timeout=30)
    time.sleep(3)
    assert instances(api, "/as") == 1
    evs = asev.of_type("autoscale_decision")
    assert [(e["from"], e["to"]) for e in evs] == [(1, 2), (2, 3), (3, 2), (2, 1)], evs
    assert all("below the target" in e["reason"] for e in evs[2:]), evs

    # the scalings were normal deployments; berth's type only reaches who asked for it
    wait_until(lambda: len(plain.of_type("deployment_success")) >= 5, 20,
               what="the deployments' success events")
    assert plain.of_type("autoscale_decision") == []
    # the definition keeps its labels exactly (Marathon's JSON)
    got = api.app("/as")
    assert got["labels"] == app["labels"]

    rc, out, err = one.cli("app", "autoscale", "/as")
    assert rc == 0, err
    assert "http://$HOST:$PORT0/" in out and "1..3" in out, out
    assert "above the target" in out and "below the target" in out, out
    rc, out, err = one.cli("app", "autoscale", "/as", "--json")
    assert rc == 0, err
    asev.close()
    plain.close()


def test_json_path_and_bounds_from_outside(one, tmp_path):
    """Instances outside [min, max] are brought back (step 2 at once); a JSON metric."""
    api = one.m.api
    asev = SseClient(one.m.url, types=["autoscale_decision"])
    app, load = metric_app(tmp_path, "/big", policy(URL="http://$HOST:$PORT0/json",
                                                      JSON_PATH="load.now", STEP="2",
                                                      COOLDOWN="0", TOLERANCE="0.5"),
                           instances=5)
    r = api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    wait_until(lambda: instances(api, "/big") == 3, 30, what="scale-down to max 3")
    e = asev.wait_for(lambda t, d: t == "autoscale_decision", 5)
    assert (e["from"], e["to"]) == (5, 3) and "above the policy's maximum 3" in e["reason"], e
    api.wait_running("/big", 3, timeout=30)
    wait_until(lambda: api.get("/api/berth/autoscale/big").json()["lastValue"] == 1, 15,
               what="a JSON sample")
    time.sleep(2)
    assert [(d["from"], d["to"]) for d in asev.of_type("autoscale_decision")] == [(5, 3)]
    # a manual scale below min is corrected too
    r = api.put("/v2/apps/big", {"instances": 0})
    assert r.status_code == 200, r.text
    wait_until(lambda: instances(api, "/big") == 1, 20, what="back to min 1")
    lst = api.get("/api/berth/autoscale").json()["apps"]
    assert [a["appId"] for a in lst] == ["/big"], lst
    # the policy removed: the app is left alone, even below the old minimum
    api.wait_no_deployments(30)
    r = api.put("/v2/apps/big", {"labels": {"team": "web"}, "instances": 0})
    assert r.status_code == 200, r.text
    api.wait_no_deployments(30)
    time.sleep(3)
    assert instances(api, "/big") == 0
    assert api.get("/api/berth/autoscale/big").status_code == 404
    assert api.get("/api/berth/autoscale").json()["apps"] == []
    asev.close()


def test_bad_policies_are_422_with_the_field(one, tmp_path):
    api = one.m.api
    cases = [
        (policy(MAX="0"), "BERTH_AUTOSCALE_MAX"),
        (policy(MIN="3", MAX="2"), "BERTH_AUTOSCALE_MAX"),
        ({k: v for k, v in policy().items() if k != "BERTH_AUTOSCALE_TARGET"},
         "BERTH_AUTOSCALE_TARGET"),
        (policy(TARGET="lots"), "BERTH_AUTOSCALE_TARGET"),
        (policy(TARGET="-1"), "BERTH_AUTOSCALE_TARGET"),
        (policy(STEP="1.5"), "BERTH_AUTOSCALE_STEP"),
        (policy(COOLDOWN="nan"), "BERTH_AUTOSCALE_COOLDOWN"),
        (policy(METRIC="memory"), "BERTH_AUTOSCALE_METRIC"),
        (policy(METRIC="cpu"), "BERTH_AUTOSCALE_URL"),
        (policy(URL="ftp://x/"), "BERTH_AUTOSCALE_URL"),
        (policy(URL="http://127.0.0.1:8080/"), "BERTH_AUTOSCALE_URL"),
        (policy(JSON_PATH="a..b"), "BERTH_AUTOSCALE_JSON_PATH"),
        (policy(TARGETT="1"), "BERTH_AUTOSCALE_TARGETT"),
        (policy(INTERVAL="0"), "BERTH_AUTOSCALE_INTERVAL"),
    ]
    for labels, field in cases:
        app, _ = metric_app(tmp_path, "/bad", labels)
        r = api.post("/v2/apps", app)
        assert r.status_code == 422, (labels, r.text)
        paths = [d["path"] for d in r.json()["details"]]
        assert "/labels/" + field in paths, (field, r.json())
    assert api.get("/v2/apps/bad").status_code == 404
    # an update with a bad policy changes nothing
    app, _ = metric_app(tmp_path, "/ok", policy())
    r = api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    r = api.put("/v2/apps/ok", {"labels": policy(MIN="9")})
    assert r.status_code == 422, r.text
    assert "/labels/BERTH_AUTOSCALE_MAX" in [d["path"] for d in r.json()["details"]]
    assert api.app("/ok")["labels"]["BERTH_AUTOSCALE_MIN"] == "1"
    r = api.put("/v2/apps", [{"id": "/ok", "labels": policy(TARGET="0")}])
    assert r.status_code == 422, r.text
    assert "BERTH_AUTOSCALE_TARGET" in r.text
    # an app without a policy: 404 on its autoscale view
    r = api.post("/v2/apps", app_def("/plain", "exec sleep 100"))
    assert r.status_code == 201
    assert api.get("/api/berth/autoscale/plain").status_code == 404
    assert api.get("/api/berth/autoscale/nope").status_code == 404


BURNER = r'''
import sys, time
path = sys.argv[1]
while True:
    try:
        busy = open(path).read().strip() == "1"
    except OSError:
        busy = False
    end = time.monotonic() + 0.1
    if busy:
        while time.monotonic() < end:
            pass
    else:
        time.sleep(0.1)
'''


def test_cpu_metric_from_the_executors_usage(cluster, tmp_path):
    """The cpu metric: the agents' /monitor/statistics (cgroups), use over the CPUs asked
    for. A task capped at 0.1 CPU (CFS) spinning uses ~100% of it: above a 0.5 target."""
    from test_isolation import need, remove_cgroups
    need("cpu", "cpuacct")
    parent = "berth-itest-as-%d" % __import__("os").getpid()
    try:
        cluster.master()
        cluster.agent(extra=["--isolation", "cgroups", "--cgroups-parent", parent,
                             "--cgroups-enable-cfs"])
        api = cluster.m.api
        asev = SseClient(cluster.m.url, types=["autoscale_decision"])
        burner = tmp_path / "burn.py"
        burner.write_text(BURNER)
        load = tmp_path / "load"
        load.write_text("0")
        d = app_def("/cpu", "exec python3 %s %s" % (burner, load), cpus=0.1, mem=64)
        d["labels"] = {"BERTH_AUTOSCALE_METRIC": "cpu", "BERTH_AUTOSCALE_TARGET": "0.5",
                       "BERTH_AUTOSCALE_MIN": "1", "BERTH_AUTOSCALE_MAX": "2",
                       "BERTH_AUTOSCALE_COOLDOWN": "1", "BERTH_AUTOSCALE_INTERVAL": "1"}
        r = api.post("/v2/apps", d)
        assert r.status_code == 201, r.text
        api.wait_running("/cpu", 1)
        # no sample in a task's first 5 s (its start is no load), then the idle use
        wait_until(lambda: api.get("/api/berth/autoscale/cpu").json()["lastSamples"] >= 1, 15,
                   what="a cpu sample")
        time.sleep(1.5)
        # idle: below the 0.5 target (the file polling costs a little of 0.1 CPU, more on a
        # loaded machine), so no scale-up
        assert api.get("/api/berth/autoscale/cpu").json()["lastValue"] < 0.5
        assert instances(api, "/cpu") == 1
        load.write_text("1")
        wait_until(lambda: instances(api, "/cpu") == 2, 30, what="scale-up on cpu")
        e = asev.wait_for(lambda t, d: t == "autoscale_decision", 5)
        assert (e["from"], e["to"], e["metric"]) == (1, 2, "cpu"), e
        assert e["value"] > 0.5 and "cpu use" in e["reason"], e
        load.write_text("0")
        wait_until(lambda: instances(api, "/cpu") == 1, 30, what="scale-down on cpu")
        asev.close()
    finally:
        remove_cgroups(parent)


def test_stateful_app_scales_one_at_a_time_with_prestop(one, tmp_path):
    """A stateful app (a local persistent volume) with STEP 3 still moves one instance per
    decision, and its scale-downs run preStop on the instance stopped (highest index)."""
    api = one.m.api
    asev = SseClient(one.m.url, types=["autoscale_decision"])
    marks = tmp_path / "prestop"
    app, load = metric_app(tmp_path, "/db", policy(STEP="3", COOLDOWN="1"))
    app["container"] = {"type": "MESOS", "volumes": [
        {"containerPath": "data", "mode": "RW", "persistent": {"size": 4}}]}
    app["preStop"] = {"command": "echo $BERTH_INSTANCE_INDEX >> %s" % marks,
                      "timeoutSeconds": 5}
    r = api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    api.wait_running("/db", 1, timeout=30)
    load.write_text("5")
    wait_until(lambda: instances(api, "/db") == 3, 40, what="stateful scale-up to 3")
    api.wait_running("/db", 3, timeout=30)
    load.write_text("0")
    wait_until(lambda: instances(api, "/db") == 1, 40, what="stateful scale-down to 1")
    api.wait_no_deployments(30)
    evs = asev.of_type("autoscale_decision")
    assert [(e["from"], e["to"]) for e in evs] == [(1, 2), (2, 3), (3, 2), (2, 1)], evs
    wait_until(lambda: marks.exists() and marks.read_text().split() == ["2", "1"], 15,
               what="preStop of indexes 2 then 1")
    asev.close()
