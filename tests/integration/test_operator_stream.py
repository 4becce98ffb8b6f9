"""The operator API's event stream (POST /api/v1 SUBSCRIBE) and `berth framework list`."""
import json
import threading

import requests

from helpers import app_def, wait_until


class OperatorStream:
    """Reads a SUBSCRIBE stream in a thread: RecordIO records decoded into self.events."""

    def __init__(self, url):
        self.resp = requests.post(url + "/api/v1", json={"type": "SUBSCRIBE"},
                                  headers={"Accept": "application/json"}, stream=True,
                                  timeout=(5, 60))
        self.events = []
        self.error = None
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        buf = b""
        try:
            for chunk in self.resp.iter_content(chunk_size=None):
                buf += chunk
                while True:
                    nl = buf.find(b"\n")
                    if nl < 0:
                        break
                    prefix = buf[:nl]
                    assert prefix.isdigit() and not prefix.startswith(b"0"), prefix
                    n = int(prefix)
                    if len(buf) < nl + 1 + n:
                        break
                    self.events.append(json.loads(buf[nl + 1:nl + 1 + n]))
                    buf = buf[nl + 1 + n:]
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def of(self, typ):
        return [e for e in list(self.events) if e.get("type") == typ]

    def close(self):
        self.resp.close()


def test_subscribe_events_and_framework_list(cluster):
    m = cluster.master(agent_timeout=3)
    a = cluster.agent(hostname="node-a")
    s = OperatorStream(m.url)
    try:
        assert s.resp.status_code == 200
        assert s.resp.headers["Content-Type"].startswith("application/json")
        assert s.resp.headers.get("Transfer-Encoding") == "chunked"
        first = wait_until(lambda: s.events and s.events[0], 10, what="SUBSCRIBED")
        assert first["type"] == "SUBSCRIBED"
        sub = first["subscribed"]
        assert sub["heartbeat_interval_seconds"] == 15
        state = sub["get_state"]
        assert set(state) >= {"get_tasks", "get_agents", "get_frameworks"}
        agents = state["get_agents"]["agents"]
        assert [x["agent_info"]["hostname"] for x in agents] == ["node-a"]

        # An app: TASK_ADDED then TASK_UPDATED(TASK_RUNNING) for each of its tasks.
        r = m.api.post("/v2/apps", app_def("/opsub", "sleep 3600", instances=2))
        assert r.status_code == 201, r.text
        run = m.api.wait_running("/opsub", 2, timeout=20)
        ids = sorted(t["id"] for t in run)

        def added():
            got = sorted(e["task_added"]["task"]["task_id"]["value"]
                         for e in s.of("TASK_ADDED"))
            return got == ids and got
        wait_until(added, 10, what="TASK_ADDED for both tasks")
        for e in s.of("TASK_ADDED"):
            t = e["task_added"]["task"]
            assert t["state"] == "TASK_STAGING"
            assert t["framework_id"]["value"] == state["get_frameworks"]["frameworks"][0][
                "framework_info"]["id"]["value"]
            assert t["agent_id"]["value"] == agents[0]["agent_info"]["id"]["value"]
            assert {x["name"] for x in t["resources"]} >= {"cpus", "mem"}

        def running_updates():
            got = sorted(e["task_updated"]["status"]["task_id"]["value"]
                         for e in s.of("TASK_UPDATED") if e["task_updated"]["state"] ==
                         "TASK_RUNNING")
            return got == ids and got
        wait_until(running_updates, 10, what="TASK_UPDATED TASK_RUNNING for both tasks")
        for e in s.of("TASK_UPDATED"):
            u = e["task_updated"]
            assert u["framework_id"]["value"]
            assert u["status"]["state"] == u["state"]
        # TASK_ADDED comes before the task's first TASK_UPDATED.
        evs = list(s.events)
        for tid in ids:
            kinds = [e["type"] for e in evs if tid in json.dumps(e)]
            assert kinds[0] == "TASK_ADDED", kinds

        # A second agent: AGENT_ADDED; killed: AGENT_REMOVED after the agent timeout.
        b = cluster.agent(hostname="node-b")
        ev = wait_until(lambda: s.of("AGENT_ADDED"), 10, what="AGENT_ADDED")[0]
        info = ev["agent_added"]["agent"]["agent_info"]
        assert info["hostname"] == "node-b"
        bid = info["id"]["value"]
        assert ev["agent_added"]["agent"]["active"] is True
        b.kill9()
        ev = wait_until(lambda: s.of("AGENT_REMOVED"), 15, what="AGENT_REMOVED")[0]
        assert ev["agent_removed"]["agent_id"]["value"] == bid

        # Killing a task: TASK_UPDATED TASK_KILLED.
        r = m.api.delete("/v2/apps/opsub/tasks/%s?scale=true" % ids[0])
        assert r.status_code == 200, r.text
        wait_until(lambda: [e for e in s.of("TASK_UPDATED")
                            if e["task_updated"]["status"]["task_id"]["value"] == ids[0]
                            and e["task_updated"]["state"] == "TASK_KILLED"], 15,
                   what="TASK_UPDATED TASK_KILLED")
        assert s.error is None, s.error
        assert a.alive()
    finally:
        s.close()

    # The CLI.
    rc, out, err = cluster.cli("framework", "list")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "ROLES", "ACTIVE", "TASKS", "CPUS", "MEM"]
    row = [ln.split() for ln in lines[1:] if " marathon " in ln][0]
    assert row[2] == "*" and row[3] == "true" and row[4] == "1"
    rc, out, err = cluster.cli("framework", "list", "--json")
    assert rc == 0, err
    fws = json.loads(out)["frameworks"]
    assert fws[0]["name"] == "marathon"
    rc, out, err = cluster.cli("node", "list")
    assert rc == 0, err
    assert "node-a" in out


def test_subscribe_bad_calls(cluster):
    m = cluster.master()
    r = requests.post(m.url + "/api/v1", json={"type": "SUBSCRIBE"},
                      headers={"Accept": "text/html"}, timeout=5)
    assert r.status_code == 406  # (a protobuf stream: test_operator_protobuf.py)
    r = requests.post(m.url + "/api/v1", data='{"type":"SUBSCRIBE"}',
                      headers={"Content-Type": "text/plain"}, timeout=5)
    assert r.status_code == 415
    r = requests.get(m.url + "/api/v1", timeout=5)
    assert r.status_code == 405
