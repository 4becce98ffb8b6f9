"""upgradeStrategy corner cases (reference/compat.md §10.6): a restart finishes for every
pair of bounds, including where ceil(N x minimumHealthCapacity) meets
floor(N x (1 + maximumOverCapacity)) (Marathon lets an app without volumes go one over, and
a stateful one one under), and for an app of 0 instances; the bounds hold meanwhile."""
import threading
import time

import pytest

from helpers import app_def, live_tasks, wait_until


class Watcher(threading.Thread):
    """Records the fewest RUNNING and the most live tasks of an app while it runs."""

    def __init__(self, api, app_id):
        super().__init__(daemon=True)
        self.api, self.app_id = api, app_id
        self.stop_ev = threading.Event()
        self.min_running = None
        self.max_live = 0
        self.samples = 0

    def run(self):
        while not self.stop_ev.is_set():
            ts = self.api.tasks(self.app_id)
            run = sum(1 for t in ts if t["state"] == "TASK_RUNNING")
            if self.min_running is None or run < self.min_running:
                self.min_running = run
            self.max_live = max(self.max_live, len(live_tasks(ts)))
            self.samples += 1
            time.sleep(0.02)

    def stop(self):
        self.stop_ev.set()
        self.join(10)


def wait_restarted(api, app_id, n, old_ids, timeout=30.0):
    """No deployment of app_id left and n RUNNING tasks, none of them in old_ids."""
    def ok():
        a = api.app(app_id)
        if a["deployments"]:
            return None
        ts = a.get("tasks", [])
        if len(ts) != n or any(t["state"] != "TASK_RUNNING" or t["id"] in old_ids
                               for t in ts):
            return None
        return a
    return wait_until(ok, timeout, interval=0.1, what="%s restarted (%d tasks)" % (app_id, n))


# (instances, minimumHealthCapacity, maximumOverCapacity, fewest running, most live)
CASES = [
    (1, 0.5, 0.5, 1, 2),   # the bounds meet at 1: one extra instance is allowed
    (2, 1.0, 0.0, 2, 3),   # meet at 2: the same
    (1, 0.0, 0.0, 0, 1),   # kill first, then start
    (1, 1.0, 0.0, 1, 2),   # meet at 1
    (1, 0.0, 1.0, 0, 2),
    (2, 0.0, 1.0, 0, 4),
]


@pytest.mark.parametrize("n,min_h,over,lo,hi", CASES)
def test_restart_finishes_within_bounds(one, n, min_h, over, lo, hi):
    api = one.m.api
    aid = "/uc"
    app = app_def(aid, "exec sleep 3600", instances=n,
                  upgradeStrategy={"minimumHealthCapacity": min_h, "maximumOverCapacity": over})
    assert api.post("/v2/apps", app).status_code == 201
    first = wait_restarted(api, aid, n, set())
    old_ids = {t["id"] for t in first["tasks"]}
    w = Watcher(api, aid)
    w.start()
    try:
        r = api.post("/v2/apps/uc/restart")
        assert r.status_code == 200, r.text
        wait_restarted(api, aid, n, old_ids)
    finally:
        w.stop()
    assert w.samples > 3
    # the bounds of §10.6 (the watcher polls, so it sees a subset of the moments)
    assert w.min_running >= lo, (w.min_running, lo)
    assert w.max_live <= hi, (w.max_live, hi)


def test_restart_of_zero_instances_finishes(one):
    api = one.m.api
    app = app_def("/zero", "exec sleep 3600", instances=0,
                  upgradeStrategy={"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.5})
    assert api.post("/v2/apps", app).status_code == 201
    wait_restarted(api, "/zero", 0, set())
    r = api.post("/v2/apps/zero/restart")
    assert r.status_code == 200, r.text
    wait_restarted(api, "/zero", 0, set())
    assert api.tasks("/zero") == []


def test_stateful_single_instance_with_bounds_that_meet_restarts(one):
    """One stateful instance, 0.5/0 (an app with volumes may not go over capacity): the
    bounds meet at 1; its reservation must be freed first, so it goes one under the minimum
    (Marathon's resident case) instead of hanging."""
    api = one.m.api
    app = app_def("/suc", "echo x >> data/who; exec sleep 3600", instances=1,
                  upgradeStrategy={"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.0},
                  container={"type": "MESOS", "volumes": [
                      {"containerPath": "data", "mode": "RW", "persistent": {"size": 4}}]})
    assert api.post("/v2/apps", app).status_code == 201
    first = wait_restarted(api, "/suc", 1, set())
    old_ids = {t["id"] for t in first["tasks"]}
    r = api.post("/v2/apps/suc/restart")
    assert r.status_code == 200, r.text
    a = wait_restarted(api, "/suc", 1, old_ids)
    assert a["tasks"][0]["localVolumes"] == first["tasks"][0]["localVolumes"]


def test_stateful_two_instances_restart_one_at_a_time(one):
    """Two stateful instances, 0.5/0.0: one goes down at a time, none goes over."""
    api = one.m.api
    app = app_def("/suc2", "exec sleep 3600", instances=2,
                  upgradeStrategy={"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.0},
                  container={"type": "MESOS", "volumes": [
                      {"containerPath": "data", "mode": "RW", "persistent": {"size": 4}}]})
    assert api.post("/v2/apps", app).status_code == 201
    first = wait_restarted(api, "/suc2", 2, set())
    old_ids = {t["id"] for t in first["tasks"]}
    w = Watcher(api, "/suc2")
    w.start()
    try:
        r = api.post("/v2/apps/suc2/restart")
        assert r.status_code == 200, r.text
        wait_restarted(api, "/suc2", 2, old_ids)
    finally:
        w.stop()
    assert w.min_running >= 1, w.min_running
    assert w.max_live <= 2, w.max_live


def test_stateful_app_may_not_go_over_capacity(one):
    api = one.m.api
    app = app_def("/sbad", "exec sleep 3600", instances=1,
                  upgradeStrategy={"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.5},
                  container={"type": "MESOS", "volumes": [
                      {"containerPath": "data", "mode": "RW", "persistent": {"size": 4}}]})
    r = api.post("/v2/apps", app)
    assert r.status_code == 422, r.text
    assert "maximumOverCapacity" in r.text
