"""Operator calls beyond the state reads: GET_FLAGS, GET_METRICS, GET/SET_LOGGING_LEVEL,
LIST_FILES, READ_FILE, TEARDOWN, SET_QUOTA and REMOVE_QUOTA (docs/operator-api.md)."""
import json

import requests

from mesos_client import JSON, Framework
from helpers import wait_until


def op(m, body):
    return requests.post(m.url + "/api/v1", data=json.dumps(body), headers=JSON, timeout=10)


def payload(m, body):
    r = op(m, body)
    assert r.status_code == 200, (r.status_code, r.text)
    j = r.json()
    assert j["type"] == body["type"]
    return j[body["type"].lower()]


def test_flags_metrics_logging_files(cluster):
    m = cluster.master()
    flags = {f["name"]: f["value"] for f in payload(m, {"type": "GET_FLAGS"})["flags"]}
    st = requests.get(m.url + "/master/state", timeout=5).json()
    assert flags == st["flags"]
    metrics = {x["name"]: x["value"] for x in payload(m, {"type": "GET_METRICS"})["metrics"]}
    assert metrics["master/elected"] == 1.0 and "master/cpus_total" in metrics
    assert payload(m, {"type": "GET_LOGGING_LEVEL"}) == {"level": 0}
    r = op(m, {"type": "SET_LOGGING_LEVEL",
               "set_logging_level": {"level": 1, "duration": {"nanoseconds": 300000000}}})
    assert r.status_code == 200, r.text
    assert payload(m, {"type": "GET_LOGGING_LEVEL"}) == {"level": 1}
    wait_until(lambda: payload(m, {"type": "GET_LOGGING_LEVEL"}) == {"level": 0}, 5,
               what="the level back after its duration")
    r = op(m, {"type": "SET_LOGGING_LEVEL", "set_logging_level": {"level": 1}})
    assert r.status_code == 400 and "duration" in r.text
    r = op(m, {"type": "LIST_FILES", "list_files": {"path": "/master/log"}})
    assert r.status_code == 404, r.text
    r = op(m, {"type": "READ_FILE", "read_file": {"path": "/master/log", "offset": 0}})
    assert r.status_code == 404, r.text
    r = op(m, {"type": "READ_FILE", "read_file": {"path": "/master/log"}})
    assert r.status_code == 400 and "offset" in r.text


def test_set_and_remove_quota(cluster):
    m = cluster.master()
    body = {"type": "SET_QUOTA", "set_quota": {"quota_request": {
        "role": "dev", "guarantee": [{"name": "cpus", "type": "SCALAR",
                                      "scalar": {"value": 2}}], "force": True}}}
    r = op(m, body)
    assert r.status_code == 200, r.text
    cfg = [c for c in payload(m, {"type": "GET_QUOTA"})["status"]["configs"]
           if c["role"] == "dev"][0]
    assert cfg["guarantees"]["cpus"]["value"] == 2 and cfg["limits"]["cpus"]["value"] == 2
    r = op(m, body)
    assert r.status_code == 400 and "already has quota" in r.text
    r = op(m, {"type": "REMOVE_QUOTA", "remove_quota": {"role": "dev"}})
    assert r.status_code == 200, r.text
    assert not [c for c in payload(m, {"type": "GET_QUOTA"})["status"].get("configs", [])
                if c["role"] == "dev"]
    r = op(m, {"type": "REMOVE_QUOTA", "remove_quota": {"role": "dev"}})
    assert r.status_code == 400, r.text


def test_teardown(cluster):
    m = cluster.master()
    fw = Framework(m.url, name="td")
    fw.subscribe()
    r = op(m, {"type": "TEARDOWN", "teardown": {"framework_id": {"value": "nope"}}})
    assert r.status_code == 400, r.text
    r = op(m, {"type": "TEARDOWN", "teardown": {"framework_id": {"value": fw.id}}})
    assert r.status_code == 200, r.text
    ids = [f["id"] for f in requests.get(m.url + "/master/frameworks", timeout=5)
           .json()["frameworks"]]
    assert fw.id not in ids
    fw.closed.wait(5)
    assert fw.closed.is_set(), "the framework's stream ended"
