"""`berth dev`: a master and one agent in one process."""
import signal

from helpers import app_def, wait_until


def test_dev_ready_line_ping_and_runs_apps(cluster):
    d = cluster.dev()
    r = d.api.get("/ping")
    assert r.status_code == 200 and r.text.strip() == "pong"
    out = d.stdout_text() + d.stderr_text()
    # the ready line says where the API is
    assert d.addr in out, out[-2000:]
    slaves = d.api.slaves()
    assert len(slaves) == 1 and slaves[0]["active"]
    assert slaves[0]["pid"].endswith(":%d" % d.agent_port)
    assert d.api.post("/v2/apps", app_def("/hello", "echo hi; exec sleep 3600")).status_code == 201
    t = d.api.wait_running("/hello", 1)[0]
    r = d.agent_api.get("/files/read", params={"path": t["id"] + "/stdout", "offset": 0,
                                               "length": 1000})
    assert r.status_code == 200
    wait_until(lambda: "hi" in d.agent_api.get(
        "/files/read", params={"path": t["id"] + "/stdout", "offset": 0,
                               "length": 1000}).json()["data"], 10, what="task output")
    # the data dir holds the store
    assert d.data_dir.exists() and any(d.data_dir.iterdir())


def test_dev_sigterm_stops_cleanly_and_keeps_data(cluster):
    d = cluster.dev()
    assert d.api.post("/v2/apps", app_def("/kept", "sleep 3600", instances=0)).status_code == 201
    assert d.stop(signal.SIGTERM) == 0
    d.start()
    d.ready()
    assert d.api.app("/kept")["instances"] == 0


def test_dev_sigint_stops_cleanly(cluster):
    d = cluster.dev()
    assert d.stop(signal.SIGINT) == 0
