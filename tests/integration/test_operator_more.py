"""Operator calls beyond the state reads: GET_FLAGS, GET_METRICS, GET/SET_LOGGING_LEVEL,
LIST_FILES, READ_FILE, TEARDOWN, SET_QUOTA and REMOVE_QUOTA (docs/operator-api.md)."""
import base64
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
    # Without --external-log-file nothing is attached: every path is 404 (empty body), as a
    # Mesos master without --log_dir or --external_log_file.
    r = op(m, {"type": "LIST_FILES", "list_files": {"path": "/master/log"}})
    assert r.status_code == 404 and r.text == "", r.text
    r = op(m, {"type": "READ_FILE", "read_file": {"path": "/master/log", "offset": 0}})
    assert r.status_code == 404, r.text
    r = op(m, {"type": "READ_FILE", "read_file": {"path": "/master/log"}})
    assert r.status_code == 400 and "offset" in r.text


def test_files_master_log(cluster, tmp_path):
    log = tmp_path / "master.log"
    text = b"".join(b"line %05d of the master's log\n" % i for i in range(5000))
    log.write_bytes(text)
    m = cluster.master(extra=("--external-log-file", str(log)))
    # A file is attached: listing it gives no entries (Mesos lists directories only).
    for path in ("/master/log", "/master/log/"):
        assert payload(m, {"type": "LIST_FILES", "list_files": {"path": path}}) == {
            "file_infos": []}
    for path in ("/", "/master", "/master/log/x", "master/log", "/master/logs", "/etc"):
        r = op(m, {"type": "LIST_FILES", "list_files": {"path": path}})
        assert r.status_code == 404 and r.text == "", (path, r.text)
        r = op(m, {"type": "READ_FILE", "read_file": {"path": path, "offset": 0}})
        assert r.status_code == 404, (path, r.text)

    def read(**kw):
        rf = payload(m, {"type": "READ_FILE", "read_file": dict(path="/master/log", **kw)})
        assert set(rf) == {"size", "data"} and rf["size"] == len(text), rf.keys()
        return base64.b64decode(rf["data"])
    assert read(offset=0, length=20) == text[:20]
    assert read(offset=100, length=37) == text[100:137]
    assert read(offset=0) == text[:16 * 4096]             # at most 16 pages per call
    assert read(offset=len(text) - 10) == text[-10:]
    assert read(offset=len(text)) == b""
    assert read(offset=len(text) + 100, length=5) == b""
    assert read(offset=10, length=0) == b""
    for bad in ({"path": "/master/log", "offset": -1},
                {"path": "/master/log", "offset": "0"},
                {"path": "/master/log", "offset": 0, "length": -2},
                {"offset": 0}):
        r = op(m, {"type": "READ_FILE", "read_file": bad})
        assert r.status_code == 400, (bad, r.status_code, r.text)
    log.unlink()
    r = op(m, {"type": "READ_FILE", "read_file": {"path": "/master/log", "offset": 0}})
    assert r.status_code == 404, r.text


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
