"""The task really runs: its environment, args without a shell, its stdout/stderr files, a
real server on its port."""
import os
import socket

import requests

from helpers import app_def, parse_env_file, task_id_re, wait_until


def read_when(path, timeout=15.0, contains=None):
    def ok():
        if not path.exists():
            return None
        t = path.read_text(errors="replace")
        if contains is not None and contains not in t:
            return None
        return t or None
    return wait_until(ok, timeout, what="%s%s" % (path, " containing %r" % contains
                                                 if contains else ""))


def test_environment_as_marathon_sets_it(one):
    api, agent = one.m.api, one.a
    app = app_def("/itest/env", "env > env.txt; echo done >> env.txt; exec sleep 3600",
                  cpus=0.01, mem=16, disk=1,
                  portDefinitions=[{"port": 0, "name": "http"}, {"port": 0, "name": "admin"}],
                  labels={"team": "core", "my-key.x": "v1"},
                  env={"FOO": "bar"})
    r = api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    t = api.wait_running("/itest/env", 1)[0]
    task_id = t["id"]
    assert task_id_re("/itest/env").match(task_id), task_id
    sb = agent.sandbox(task_id)
    read_when(sb / "env.txt", contains="done")
    env = parse_env_file(sb / "env.txt")

    ports = t["ports"]
    assert len(ports) == 2
    assert all(agent.port_lo <= p <= agent.port_hi for p in ports), ports
    assert env["PORT0"] == str(ports[0])
    assert env["PORT1"] == str(ports[1])
    assert env["PORT"] == str(ports[0])
    assert env["PORTS"] == "%d,%d" % (ports[0], ports[1])
    # PORT_<requested>: the app's port (the service port Marathon assigned for 0), or
    # PORT_<effective> where it is 0
    declared = [p["port"] for p in api.app("/itest/env")["portDefinitions"]]
    for want, got in zip(declared, ports):
        assert env["PORT_%d" % (want or got)] == str(got), (want, got)
    assert env["PORT_HTTP"] == str(ports[0])
    assert env["PORT_ADMIN"] == str(ports[1])
    assert env["HOST"] == t["host"]
    assert env["MESOS_TASK_ID"] == task_id
    assert env["MARATHON_APP_ID"] == "/itest/env"
    assert env["MARATHON_APP_VERSION"] == version
    assert float(env["MARATHON_APP_RESOURCE_CPUS"]) == 0.01
    assert float(env["MARATHON_APP_RESOURCE_MEM"]) == 16.0
    assert float(env["MARATHON_APP_RESOURCE_DISK"]) == 1.0
    assert float(env["MARATHON_APP_RESOURCE_GPUS"]) == 0
    assert sorted(env["MARATHON_APP_LABELS"].split(" ")) == ["MY_KEY_X", "TEAM"]
    assert env["MARATHON_APP_LABEL_TEAM"] == "core"
    assert env["MARATHON_APP_LABEL_MY_KEY_X"] == "v1"
    assert os.path.realpath(env["MESOS_SANDBOX"]) == os.path.realpath(sb)
    assert env["FOO"] == "bar"


def test_app_env_overrides_and_required_ports(one):
    api, agent = one.m.api, one.a
    fixed = agent.port_lo + 7
    app = app_def("/override", "env > env.txt; echo done >> env.txt; exec sleep 3600",
                  requirePorts=True, portDefinitions=[{"port": fixed, "name": "web"}],
                  env={"HOST": "custom-host", "MARATHON_APP_ID": "mine", "PORT": "1"})
    assert api.post("/v2/apps", app).status_code == 201
    t = api.wait_running("/override", 1)[0]
    assert t["ports"] == [fixed]
    sb = agent.sandbox(t["id"])
    read_when(sb / "env.txt", contains="done")
    env = parse_env_file(sb / "env.txt")
    assert env["HOST"] == "custom-host"
    assert env["MARATHON_APP_ID"] == "mine"
    assert env["PORT"] == "1"
    assert env["PORT0"] == str(fixed)
    assert env["PORT_%d" % fixed] == str(fixed)
    assert env["PORT_WEB"] == str(fixed)


def test_no_ports(one):
    api, agent = one.m.api, one.a
    app = app_def("/noports", "env > env.txt; echo done >> env.txt; exec sleep 3600",
                  portDefinitions=[])
    assert api.post("/v2/apps", app).status_code == 201
    t = api.wait_running("/noports", 1)[0]
    assert t["ports"] == []
    sb = agent.sandbox(t["id"])
    read_when(sb / "env.txt", contains="done")
    env = parse_env_file(sb / "env.txt")
    assert "PORT0" not in env and "PORT" not in env


def test_args_are_execd_without_a_shell(one):
    api, agent = one.m.api, one.a
    prog = ("import sys, time; open('args.txt', 'w').write(repr(sys.argv[1:])); "
            "time.sleep(3600)")
    app = app_def("/args", None, args=["/usr/bin/python3", "-c", prog, "$HOME", "a  b", "*"])
    r = api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    assert "cmd" not in r.json() or r.json()["cmd"] in (None, "")
    t = api.wait_running("/args", 1)[0]
    txt = read_when(agent.sandbox(t["id"]) / "args.txt")
    assert txt == repr(["$HOME", "a  b", "*"])


def test_stdout_and_stderr_files(one):
    api, agent = one.m.api, one.a
    app = app_def("/out", "echo out-line-1; echo err-line-1 >&2; exec sleep 3600")
    assert api.post("/v2/apps", app).status_code == 201
    t = api.wait_running("/out", 1)[0]
    sb = agent.sandbox(t["id"])
    read_when(sb / "stdout", contains="out-line-1")
    read_when(sb / "stderr", contains="err-line-1")
    assert "err-line-1" not in (sb / "stdout").read_text()
    assert "out-line-1" not in (sb / "stderr").read_text()


def test_http_server_task_answers_on_port0(one):
    api, agent = one.m.api, one.a
    app = app_def("/web", "echo hello-from-berth > index.html; "
                  "exec /usr/bin/python3 -m http.server $PORT0 --bind 127.0.0.1")
    assert api.post("/v2/apps", app).status_code == 201
    t = api.wait_running("/web", 1)[0]
    port = t["ports"][0]
    assert agent.port_lo <= port <= agent.port_hi

    def get():
        r = requests.get("http://127.0.0.1:%d/index.html" % port, timeout=2)
        return r.status_code == 200 and "hello-from-berth" in r.text
    wait_until(get, 15, what="the task's http server on port %d" % port)


def test_measured_resources_and_default_ports(cluster):
    """Without --resources the agent measures the machine and offers ports 31000-32000."""
    cluster.master()
    a = cluster.agent(resources=None)
    s = a.slave()
    res = s["resources"]
    assert res["cpus"] >= 1
    assert res["mem"] > 64
    assert res["disk"] > 0
    assert res["ports"] in ("[31000-32000]", [{"begin": 31000, "end": 32000}]) or \
        "31000-32000" in str(res["ports"]), res["ports"]
    # hostname defaults to gethostname()
    assert s["hostname"] == socket.gethostname()
