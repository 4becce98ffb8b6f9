"""GET /api/berth/metrics/history: the master's own last hour (docs/console.md), one sample
every 10 s kept in a bounded ring. A running app shows in a later sample; ?since filters; a
bad since is a 400."""
import time

import requests

from helpers import app_def, wait_until

KEYS = {"timestamp", "tasksRunning", "cpusUsed", "cpus", "memUsed", "mem", "diskUsed", "disk",
        "statusUpdatesPerSecond", "statusUpdatesTotal"}


def history(m, **params):
    r = requests.get(m.url + "/api/berth/metrics/history", params=params, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    return r.json()


def test_history_samples_running_tasks(one):
    m = one.m
    h = history(m)
    assert h["intervalSeconds"] == 10 and h["capacity"] == 360
    # the first sample is taken at start, so a fresh page has one at once
    assert len(h["samples"]) >= 1
    first = h["samples"][0]
    assert set(first) == KEYS
    assert abs(first["timestamp"] / 1000 - time.time()) < 600

    m.api.post("/v2/apps", app_def("/hist", "sleep 1000", instances=2))
    m.api.wait_running("/hist", 2)
    t0 = h["samples"][-1]["timestamp"]

    def later_sample_counts_them():
        s = history(m, since=t0)["samples"]
        return s and all(x["timestamp"] > t0 for x in s) and s[-1]["tasksRunning"] >= 2 and s[-1]
    last = wait_until(later_sample_counts_them, timeout=30, interval=0.5,
                      what="a sample with the 2 running tasks")
    assert last["cpus"] > 0 and last["mem"] > 0
    assert last["cpusUsed"] >= 0.02 - 1e-9 and last["memUsed"] >= 32
    assert last["statusUpdatesTotal"] >= 2   # TASK_RUNNING of each (and TASK_STARTING)
    assert last["statusUpdatesPerSecond"] >= 0
    # timestamps go up, 10 s apart
    all_ = history(m)["samples"]
    ts = [x["timestamp"] for x in all_]
    assert ts == sorted(ts) and all(8000 <= b - a <= 12000 for a, b in zip(ts, ts[1:]))
    # nothing newer than the newest
    assert history(m, since=ts[-1])["samples"] == []


def test_history_bad_since(cluster):
    m = cluster.master()
    for bad in ("x", "-1", "12abc", ""):
        r = requests.get(m.url + "/api/berth/metrics/history", params={"since": bad}, timeout=10)
        assert r.status_code == 400, bad
        assert "since" in r.json()["message"]
    assert requests.post(m.url + "/api/berth/metrics/history", timeout=10).status_code == 405
