"""Deployments: rolling restarts behind a load balancer with zero failed requests, the
upgradeStrategy bounds observed at every moment, readiness checks gating, the 409 lock and
force, rollback, versions, dependencies, and the CLI's deployment commands."""
import json
import math
import subprocess
import threading
import time

import pytest
import requests

from conftest import berth_bin
from helpers import (SseClient, app_def, is_healthy, live_tasks, service_cmd, wait_until)


def http_check(**kw):
    d = {"protocol": "HTTP", "path": "/", "intervalSeconds": 1, "timeoutSeconds": 1,
         "gracePeriodSeconds": 5, "maxConsecutiveFailures": 3}
    d.update(kw)
    return d


def cmd_check():
    # first check 1 s after the start: each replacement takes a second to become healthy
    return {"protocol": "COMMAND", "command": {"value": "true"}, "intervalSeconds": 1,
            "timeoutSeconds": 1, "gracePeriodSeconds": 2, "delaySeconds": 1,
            "maxConsecutiveFailures": 3}


def wait_done(api, app_id, n, timeout=30.0, nchecks=1):
    """No deployment left for app_id, n healthy RUNNING tasks all on the app's version."""
    def ok():
        a = api.app(app_id)
        if a["deployments"]:
            return None
        ts = a.get("tasks", [])
        if len(ts) != n or not all(is_healthy(t, nchecks) if nchecks else
                                   t["state"] == "TASK_RUNNING" for t in ts):
            return None
        if any(t["version"] < a["versionInfo"]["lastConfigChangeAt"] for t in ts):
            return None
        return a
    return wait_until(ok, timeout, interval=0.1, what="%s deployed (%d tasks)" % (app_id, n))


class LoadBalancer(threading.Thread):
    """Sends requests continuously to the healthy RUNNING tasks of an app, re-reading
    /v2/apps/{id}/tasks every 0.1 s, as a load balancer would. A request that fails is
    retried on the other healthy tasks of a fresh listing; it counts as failed only when no
    healthy task answered (a task that the API lists as killed within the same poll is the
    harness's race, not the cluster's)."""

    def __init__(self, api, app_id):
        super().__init__(daemon=True)
        self.api, self.app_id = api, app_id
        self.stop_ev = threading.Event()
        self.ok = 0
        self.retried = 0
        self.failures = []
        self.answered_by = set()
        self.targets = []
        self.t_list = 0

    def refresh(self):
        ts = self.api.tasks(self.app_id)
        self.targets = [(t["id"], t["ports"][0]) for t in ts if is_healthy(t)]
        self.t_list = time.monotonic()

    def one(self, port):
        r = requests.get("http://127.0.0.1:%d/" % port, timeout=2)
        return r.status_code == 200, r.text.strip()

    def run(self):
        s = requests.Session()
        i = 0
        while not self.stop_ev.is_set():
            if time.monotonic() - self.t_list > 0.1:
                self.refresh()
            if not self.targets:
                self.failures.append((time.time(), "no healthy task listed"))
                time.sleep(0.05)
                self.refresh()
                continue
            i += 1
            tid, port = self.targets[i % len(self.targets)]
            good = False
            tried = set()
            for attempt in range(4):
                try:
                    good, who = self.one(port)
                except requests.RequestException:
                    good = False
                if good:
                    self.answered_by.add(who)
                    break
                tried.add(tid)
                self.retried += 1
                self.refresh()
                rest = [x for x in self.targets if x[0] not in tried]
                if not rest:
                    break
                tid, port = rest[0]
            if good:
                self.ok += 1
            else:
                self.failures.append((time.time(), "no healthy task answered; tried %s" % tried))
            time.sleep(0.01)
        s.close()

    def stop(self):
        self.stop_ev.set()
        self.join(10)


class BoundsWatcher(threading.Thread):
    """Polls the app's tasks as fast as it can and records the fewest healthy RUNNING tasks
    and the most live (non-terminal) tasks seen."""

    def __init__(self, api, app_id, nchecks=1):
        super().__init__(daemon=True)
        self.api, self.app_id, self.nchecks = api, app_id, nchecks
        self.stop_ev = threading.Event()
        self.min_healthy = None
        self.max_live = 0
        self.samples = 0
        self.worst = None

    def run(self):
        while not self.stop_ev.is_set():
            ts = self.api.tasks(self.app_id)
            h = sum(1 for t in ts if is_healthy(t, self.nchecks))
            lv = len(live_tasks(ts))
            if self.min_healthy is None or h < self.min_healthy:
                self.min_healthy = h
                self.worst = [(t["id"][-40:], t["state"], t["version"],
                               [r["alive"] for r in t.get("healthCheckResults") or []])
                              for t in ts]
            self.max_live = max(self.max_live, lv)
            self.samples += 1
            time.sleep(0.02)

    def stop(self):
        self.stop_ev.set()
        self.join(10)


def test_rolling_restart_of_5_behind_a_load_balancer_fails_no_request(one):
    api = one.m.api
    n = 5
    app = app_def("/lb", service_cmd(one.workdir), instances=n,
                  healthChecks=[http_check(gracePeriodSeconds=5)],
                  upgradeStrategy={"minimumHealthCapacity": 1, "maximumOverCapacity": 0.4})
    assert api.post("/v2/apps", app).status_code == 201
    wait_done(api, "/lb", n)
    old_ids = {t["id"] for t in api.tasks("/lb")}
    old_index = sorted(t["index"] for t in api.tasks("/lb"))
    lb = LoadBalancer(api, "/lb")
    bw = BoundsWatcher(api, "/lb")
    lb.start()
    bw.start()
    try:
        wait_until(lambda: lb.ok >= 20, 10, what="the load balancer warmed up")
        r = api.post("/v2/apps/lb/restart")
        assert r.status_code == 200, r.text
        dep = r.json()["deploymentId"]
        wait_until(lambda: any(d["id"] == dep for d in api.deployments()) or True, 1)
        a = wait_done(api, "/lb", n, timeout=60)
        time.sleep(0.5)
    finally:
        lb.stop()
        bw.stop()
    new_ids = {t["id"] for t in a["tasks"]}
    assert not (new_ids & old_ids), "every task replaced"
    assert sorted(t["index"] for t in a["tasks"]) == old_index, "replacements keep the index"
    assert lb.failures == [], (lb.failures[:5], lb.ok)
    assert lb.ok > 50, lb.ok
    assert len(lb.answered_by & new_ids) == n, "the new tasks served requests"
    assert bw.min_healthy >= n, (bw.min_healthy, bw.worst)
    assert bw.max_live <= n + math.floor(n * 0.4), bw.max_live


@pytest.mark.parametrize("n,min_h,over", [(4, 0.5, 0.0), (4, 1.0, 0.5), (3, 0.0, 1.0),
                                          (5, 0.6, 0.2)])
def test_upgrade_strategy_bounds_hold_at_every_moment(one, n, min_h, over):
    api = one.m.api
    aid = "/ub"
    app = app_def(aid, "exec sleep 3600", instances=n, healthChecks=[cmd_check()],
                  upgradeStrategy={"minimumHealthCapacity": min_h, "maximumOverCapacity": over})
    assert api.post("/v2/apps", app).status_code == 201
    wait_done(api, aid, n)
    bw = BoundsWatcher(api, aid)
    bw.start()
    try:
        r = api.put("/v2/apps/ub", {"cmd": "exec sleep 3601"})
        assert r.status_code == 200, r.text
        a = wait_done(api, aid, n, timeout=60)
    finally:
        bw.stop()
    assert all(t["version"] >= a["versionInfo"]["lastConfigChangeAt"] for t in a["tasks"])
    assert bw.samples > 10
    lo = math.ceil(n * min_h - 1e-9)
    hi = n + math.floor(n * over + 1e-9)
    assert bw.min_healthy >= lo, (bw.min_healthy, lo, bw.worst)
    assert bw.max_live <= hi, (bw.max_live, hi)


def test_readiness_check_gates_the_replacement(one):
    api, agent = one.m.api, one.a
    ready = [{"name": "r", "protocol": "HTTP", "path": "/ready", "portName": "http",
              "intervalSeconds": 1, "timeoutSeconds": 1}]
    app = app_def("/rd", service_cmd(one.workdir), instances=1,
                  portDefinitions=[{"port": 0, "name": "http"}], readinessChecks=ready,
                  env={"READY": "1"},
                  upgradeStrategy={"minimumHealthCapacity": 1, "maximumOverCapacity": 1})
    assert api.post("/v2/apps", app).status_code == 201
    wait_done(api, "/rd", 1, nchecks=0)
    old = api.tasks("/rd")[0]
    # the new version's tasks are not ready until a file appears in their sandbox
    env = dict(app["env"])
    env["READY"] = "0"
    r = api.put("/v2/apps/rd", {"env": env})
    assert r.status_code == 200, r.text
    dep = r.json()["deploymentId"]
    new = wait_until(lambda: [t for t in api.tasks("/rd") if t["id"] != old["id"]
                              and t["state"] == "TASK_RUNNING"], 15, what="the new task running")
    time.sleep(3)  # several readiness checks answer 503
    ts = {t["id"]: t for t in api.tasks("/rd")}
    assert old["id"] in ts and ts[old["id"]]["state"] == "TASK_RUNNING", \
        "the old task was stopped before its replacement was ready"
    deps = [d for d in api.deployments() if d["id"] == dep]
    assert deps, "the deployment finished although the new task is not ready"
    (agent.sandbox(new[0]["id"]) / "ready").write_text("")
    wait_until(lambda: not [d for d in api.deployments() if d["id"] == dep], 15,
               what="the deployment done once ready")
    ts = wait_until(lambda: (lambda l: l if len(l) == 1 else None)(live_tasks(api.tasks("/rd"))),
                    10, what="the old task gone")
    assert ts[0]["id"] == new[0]["id"]


def stuck_update(api, app_id):
    """A config change that cannot finish: the new version needs more CPU than the agent has."""
    r = api.put("/v2/apps%s" % app_id, {"cpus": 64})
    assert r.status_code == 200, r.text
    return r.json()["deploymentId"]


def test_locked_app_409_and_force(one):
    api = one.m.api
    assert api.post("/v2/apps", app_def("/lk", "exec sleep 3600", instances=1)).status_code == 201
    api.wait_no_deployments()
    dep = stuck_update(api, "/lk")
    assert [d["id"] for d in api.deployments()] == [dep]
    for method, path, body in (("PUT", "/v2/apps/lk", {"instances": 2}),
                               ("POST", "/v2/apps/lk/restart", None),
                               ("PATCH", "/v2/apps/lk", {"cmd": "sleep 5"})):
        r = api.req(method, path, body=body)
        assert r.status_code == 409, (method, path, r.status_code, r.text)
        j = r.json()
        assert j["message"].startswith("App is locked by one or more deployments."), j
        assert "?force=true" in j["message"] and dep in j["message"], j
        assert j["deployments"] == [{"id": dep}], j
    assert api.app("/lk")["instances"] == 1
    r = api.put("/v2/apps/lk", {"cpus": 0.01, "instances": 2}, params={"force": "true"})
    assert r.status_code == 200, r.text
    dep2 = r.json()["deploymentId"]
    assert dep2 != dep
    ids = [d["id"] for d in api.deployments()]
    assert dep not in ids
    wait_done(api, "/lk", 2, nchecks=0)
    # DELETE of an app is never locked
    stuck_update(api, "/lk")
    assert api.delete("/v2/apps/lk").status_code == 200
    wait_until(lambda: api.get("/v2/apps/lk").status_code == 404, 15, what="/lk removed")


def test_rollback_and_force_stop_of_a_deployment(one):
    api = one.m.api
    a1 = app_def("/rb", "exec sleep 3600", instances=2)
    assert api.post("/v2/apps", a1).status_code == 201
    wait_done(api, "/rb", 2, nchecks=0)
    v1_tasks = {t["id"] for t in api.tasks("/rb")}
    dep = stuck_update(api, "/rb")
    assert api.app("/rb")["cpus"] == 64
    # rollback: a new deployment back to the previous version
    r = api.delete("/v2/deployments/%s" % dep)
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["deploymentId"] != dep and j["version"], j
    a = wait_done(api, "/rb", 2, nchecks=0)
    assert a["cpus"] == 0.01 and a["cmd"] == "exec sleep 3600", a
    # (whether the v1 tasks are kept or replaced by fresh v1 tasks is not asserted)
    v1_tasks = {t["id"] for t in a["tasks"]}
    assert api.delete("/v2/deployments/%s" % dep).status_code == 404
    r = api.delete("/v2/deployments/%s" % dep)
    assert r.json()["message"] == "DeploymentPlan %s does not exist" % dep, r.text
    # force: the deployment just stops; the app keeps the new config
    dep = stuck_update(api, "/rb")
    r = api.delete("/v2/deployments/%s" % dep, params={"force": "true"})
    assert r.status_code == 202, (r.status_code, r.text)
    assert dep not in [d["id"] for d in api.deployments()]
    assert api.app("/rb")["cpus"] == 64
    assert {t["id"] for t in api.running("/rb")} == v1_tasks
    # a deployment that created an app is rolled back by removing the app
    r = api.post("/v2/apps", app_def("/rbnew", "exec sleep 3600", cpus=64))
    assert r.status_code == 201
    dep = r.headers["Marathon-Deployment-Id"]
    r = api.delete("/v2/deployments/%s" % dep)
    assert r.status_code == 200, r.text
    wait_until(lambda: api.get("/v2/apps/rbnew").status_code == 404, 15, what="/rbnew removed")


def test_versions_list_get_and_put_of_an_old_version_rolls_back(one):
    api = one.m.api
    assert api.post("/v2/apps", app_def("/ver", "exec sleep 3600", instances=1,
                                        env={"V": "1"})).status_code == 201
    wait_done(api, "/ver", 1, nchecks=0)
    v1 = api.app("/ver")["version"]
    body_v1 = api.get("/v2/apps/ver/versions/%s" % v1).json()
    for v in ("2", "3"):
        env = dict(body_v1["env"])
        env["V"] = v
        assert api.put("/v2/apps/ver", {"env": env}).status_code == 200
        wait_done(api, "/ver", 1, nchecks=0)
    vs = api.get("/v2/apps/ver/versions").json()["versions"]
    assert len(vs) == 3 and vs[-1] == v1 and vs == sorted(vs, reverse=True), vs
    for v, want in zip(vs, ("3", "2", "1")):
        r = api.get("/v2/apps/ver/versions/%s" % v)
        assert r.status_code == 200, r.text
        assert r.json()["env"]["V"] == want and r.json()["id"] == "/ver"
    assert api.get("/v2/apps/ver/versions/2001-01-01T00:00:00.000Z").status_code == 404
    assert api.get("/v2/apps/nope/versions").status_code == 404
    # PUT the old body: config back to V=1, on a new version, tasks replaced
    old_task = api.tasks("/ver")[0]["id"]
    body = {k: v for k, v in body_v1.items() if k not in ("version", "versionInfo")}
    r = api.put("/v2/apps/ver", body)
    assert r.status_code == 200, r.text
    a = wait_done(api, "/ver", 1, nchecks=0)
    assert a["env"]["V"] == "1"
    assert a["tasks"][0]["id"] != old_task
    assert len(api.get("/v2/apps/ver/versions").json()["versions"]) == 4


def test_dependency_starts_after_its_dependency_deployed(one):
    api = one.m.api
    sse = SseClient(one.m.url, types=["deployment_success", "status_update_event"])
    try:
        slow = app_def("/dep/db", service_cmd(one.workdir), instances=1,
                       env={"START_DELAY": "2"}, healthChecks=[http_check(gracePeriodSeconds=10)])
        web = app_def("/dep/web", "exec sleep 3600", instances=2, dependencies=["/dep/db"])
        r = api.post("/v2/apps", slow)
        assert r.status_code == 201
        db_dep = r.headers["Marathon-Deployment-Id"]
        assert api.post("/v2/apps", web).status_code == 201
        assert api.app("/dep/web")["dependencies"] == ["/dep/db"]
        sse.wait_for(lambda t, d: t == "status_update_event" and d["appId"] == "/dep/web"
                     and d["taskStatus"] == "TASK_RUNNING", 30, what="/dep/web running")
        evs = sse.snapshot()
        i_db = [i for i, (t, d, _) in enumerate(evs)
                if t == "deployment_success" and d["id"] == db_dep]
        i_web = [i for i, (t, d, _) in enumerate(evs)
                 if t == "status_update_event" and d["appId"] == "/dep/web"]
        assert i_db, "the dependency's deployment_success before any of /dep/web's tasks"
        assert i_db[0] < i_web[0], [(t, d.get("appId"), d.get("taskStatus")) for t, d, _ in evs]
        # and the other way: the API shows it too
        web_tasks = api.tasks("/dep/web")
        db_task = api.tasks("/dep/db")[0]
        assert all(t["stagedAt"] > db_task["startedAt"] for t in web_tasks)
    finally:
        sse.close()


# --- the CLI ---

def test_cli_app_update_wait_deployment_list_and_rollback(one):
    api = one.m.api
    assert api.post("/v2/apps", app_def("/cweb", "exec sleep 3600", instances=2)).status_code \
        == 201
    wait_done(api, "/cweb", 2, nchecks=0)
    f = one.workdir / "v2.json"
    f.write_text(json.dumps({"cmd": "exec sleep 3601", "instances": 2}))
    rc, out, err = one.cli("app", "update", "cweb", str(f), "--wait", "--timeout", "60")
    assert rc == 0, (out, err)
    assert "Updating '/cweb'" in out, out
    assert "2/2 updated, done" in (out + err), out
    a = api.app("/cweb")
    assert a["cmd"] == "exec sleep 3601" and not a["deployments"]
    assert all(t["version"] >= a["versionInfo"]["lastConfigChangeAt"] for t in a["tasks"])
    # a stuck deployment shows in `deployment list`
    dep = stuck_update(api, "/cweb")
    rc, out, err = one.cli("deployment", "list")
    assert rc == 0, err
    head, *rows = [ln for ln in out.splitlines() if ln.strip()]
    assert head.split()[:5] == ["ID", "APPS", "ACTIONS", "STEP", "VERSION"], head
    assert len(rows) == 1 and rows[0].split()[0] == dep and "/cweb" in rows[0], rows
    assert "RestartApplication" in rows[0] and "1/1" in rows[0], rows
    rc, out, err = one.cli("deployment", "list", "--json")
    assert rc == 0 and json.loads(out)[0]["id"] == dep
    # the update is refused while it runs
    rc, out, err = one.cli("app", "update", "cweb", "-", stdin='{"instances": 3}')
    assert rc == 1 and "locked" in err, (rc, err)
    rc, out, err = one.cli("deployment", "rollback", dep, "--wait", "--timeout", "60")
    assert rc == 0, (out, err)
    assert "Rolling back deployment %s" % dep in out, out
    assert api.app("/cweb")["cpus"] == 0.01
    assert api.deployments() == []
    rc, out, err = one.cli("deployment", "rollback", dep)
    assert rc == 1 and "does not exist" in err, (rc, err)
    dep = stuck_update(api, "/cweb")
    rc, out, err = one.cli("deployment", "rollback", dep, "--force")
    assert rc == 0, err
    assert "without rolling back" in out, out
    assert api.app("/cweb")["cpus"] == 64 and api.deployments() == []
    rc, out, err = one.cli("deployment", "rollback", dep, "--force", "--wait")
    assert rc == 2, (rc, err)


def test_cli_events_type_prints_lines_while_an_app_starts(one):
    api = one.m.api
    p = subprocess.Popen([berth_bin(), "--master", one.m.url, "events", "--type",
                          "status_update_event"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=str(one.workdir))
    try:
        wait_until(lambda: json.loads(api.get("/metrics").text)["gauges"]
                   ["berth.event.subscribers"]["value"] == 1, 10, what="the CLI subscribed")
        assert api.post("/v2/apps", app_def("/evc", "exec sleep 3600",
                                            instances=2)).status_code == 201
        wait_done(api, "/evc", 2, nchecks=0)
        time.sleep(0.5)
    finally:
        p.terminate()
        out, err = p.communicate(timeout=10)
    out = out.decode()
    assert p.returncode == 0, (p.returncode, err)
    lines = [ln for ln in out.splitlines() if ln.strip()]
    running = [ln for ln in lines if "TASK_RUNNING" in ln]
    assert len(running) == 2, out
    for ln in lines:
        ts, etype, rest = ln.split(" ", 2)
        assert etype == "status_update_event", ln
        assert ts.endswith("Z") and "T" in ts, ln
        assert rest.startswith("/evc evc.instance-"), ln
    assert any("host=" in ln for ln in running)
