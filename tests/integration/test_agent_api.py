"""The agent's own v1 operator API (POST /api/v1 on the agent) through a real agent: every
read call answers in Mesos's agent::Response shape (agent.proto, v1), with exactly the keys
Mesos sends: tasks, executors and containers carry the framework id the LAUNCH record gave,
also after an agent restart (docs/operator-api.md)."""
import base64
import pwd

from helpers import app_def, wait_until

CMD = "echo hello-agent-api; exec sleep 3600"


def call(agent, body):
    return agent.api.post("/api/v1", body)


def ok(agent, type_, **extra):
    r = call(agent, dict(type=type_, **extra))
    assert r.status_code == 200, (type_, r.status_code, r.text)
    j = r.json()
    assert isinstance(j, dict) and j["type"] == type_, (r.headers, r.text)
    field = type_.lower()
    assert set(j) == {"type", field}, j
    return j[field]


def start(one):
    assert one.m.api.post("/v2/apps", app_def("/agentapi", CMD)).status_code == 201
    t = one.m.api.wait_running("/agentapi", 1)[0]
    sb = one.a.sandbox(t["id"])
    wait_until(lambda: "hello-agent-api" in (sb / "stdout").read_text(), 10, what="output")
    return t["id"], sb


def mine_agent(one):
    return one.m.api.get("/v2/tasks").json()["tasks"][0]["slaveId"]


def check_task(t, tid, fwid):
    assert set(t) == {"name", "task_id", "framework_id", "executor_id", "agent_id", "state",
                      "resources", "statuses"}, t
    assert t["framework_id"] == {"value": fwid}
    assert t["task_id"] == {"value": tid}
    assert t["executor_id"] == {"value": tid}
    assert set(t["agent_id"]) == {"value"} and t["agent_id"]["value"]
    assert t["state"] == "TASK_RUNNING"


def framework_id(one):
    fwid = one.m.api.get("/v2/info").json()["frameworkId"]
    assert isinstance(fwid, str) and fwid
    return fwid


def test_agent_v1_read_calls(one):
    tid, sb = start(one)
    a = one.a
    fwid = framework_id(one)
    assert ok(a, "GET_HEALTH") == {"healthy": True}
    v = ok(a, "GET_VERSION")
    assert set(v) == {"version_info"} and isinstance(v["version_info"]["version"], str)
    ag = ok(a, "GET_AGENT")["agent_info"]
    assert set(ag) == {"hostname", "port", "id"} and ag["port"] == int(a.url.rsplit(":", 1)[1])
    assert ag["id"] == {"value": mine_agent(one)}
    assert ok(a, "GET_LOGGING_LEVEL")["level"] in (0, 1)
    flags = ok(a, "GET_FLAGS")["flags"]
    assert flags and all(set(f) == {"name", "value"} and isinstance(f["value"], str)
                         for f in flags)
    assert "work_dir" in {f["name"] for f in flags}

    tasks = ok(a, "GET_TASKS")
    assert set(tasks) == {"pending_tasks", "queued_tasks", "launched_tasks",
                          "terminated_tasks", "completed_tasks"}
    mine = [t for t in tasks["launched_tasks"] if t["task_id"]["value"] == tid]
    assert len(mine) == 1
    check_task(mine[0], tid, fwid)

    ex = ok(a, "GET_EXECUTORS")
    assert set(ex) == {"executors", "completed_executors"}
    e = [e for e in ex["executors"] if e["executor_info"]["executor_id"]["value"] == tid]
    assert len(e) == 1 and set(e[0]) == {"executor_info"}
    assert set(e[0]["executor_info"]) == {"executor_id", "framework_id", "name", "type"}
    assert e[0]["executor_info"]["framework_id"] == {"value": fwid}

    c = ok(a, "GET_CONTAINERS")["containers"]
    c = [x for x in c if x["executor_id"]["value"] == tid]
    assert len(c) == 1
    assert set(c[0]) == {"framework_id", "executor_id", "executor_name", "container_id"}
    assert c[0]["framework_id"] == {"value": fwid}

    fw = ok(a, "GET_FRAMEWORKS")
    assert set(fw) == {"frameworks", "completed_frameworks"}
    # the FrameworkInfo the LAUNCH carried, as the master shows the framework
    mfw = [f["framework_info"] for f in one.m.api.post("/api/v1", {"type": "GET_FRAMEWORKS"})
           .json()["get_frameworks"]["frameworks"] if f["framework_info"]["id"]["value"] == fwid]
    mine = [f["framework_info"] for f in fw["frameworks"]
            if f["framework_info"]["id"] == {"value": fwid}]
    assert len(mine) == 1 and len(mfw) == 1, (fw, mfw)
    assert mine[0]["name"] == mfw[0]["name"] == "marathon", (mine, mfw)
    assert mine[0]["user"] == mfw[0]["user"] and mine[0]["user"], (mine, mfw)

    st = ok(a, "GET_STATE")
    assert set(st) == {"get_tasks", "get_executors", "get_frameworks"}
    mine = [t for t in st["get_tasks"]["launched_tasks"] if t["task_id"]["value"] == tid]
    assert len(mine) == 1
    check_task(mine[0], tid, fwid)
    legacy = [t for t in a.api.get("/state").json()["tasks"] if t["task_id"] == tid]
    assert len(legacy) == 1 and legacy[0]["framework_id"] == fwid

    files = ok(a, "LIST_FILES", list_files={"path": tid})["file_infos"]
    byname = {fi["path"].rsplit("/", 1)[-1]: fi for fi in files}
    assert {"stdout", "stderr"} <= set(byname)
    fi = byname["stdout"]
    assert set(fi) == {"path", "nlink", "size", "mtime", "mode", "uid", "gid"}
    assert set(fi["mtime"]) == {"nanoseconds"} and isinstance(fi["mode"], int)
    assert fi["size"] == (sb / "stdout").stat().st_size
    assert fi["uid"] == pwd.getpwuid((sb / "stdout").stat().st_uid).pw_name

    rf = ok(a, "READ_FILE", read_file={"path": tid + "/stdout", "offset": 0})
    assert set(rf) == {"size", "data"}
    assert rf["size"] == (sb / "stdout").stat().st_size
    assert base64.b64decode(rf["data"]) == (sb / "stdout").read_bytes()
    rf = ok(a, "READ_FILE", read_file={"path": tid + "/stdout", "offset": 1, "length": 4})
    assert base64.b64decode(rf["data"]) == (sb / "stdout").read_bytes()[1:5]


def test_agent_v1_bad_calls_are_refused(one):
    tid, sb = start(one)
    a = one.a
    assert a.api.get("/api/v1").status_code == 405
    assert a.api.post("/api/v1", data="{nope").status_code == 400
    assert call(a, {}).status_code == 400
    r = call(a, {"type": "LAUNCH_NESTED_CONTAINER"})
    assert r.status_code == 501 and "LAUNCH_NESTED_CONTAINER" in r.text
    assert call(a, {"type": "LIST_FILES"}).status_code == 400
    assert call(a, {"type": "LIST_FILES", "list_files": {"path": "/etc"}}).status_code == 403
    assert call(a, {"type": "READ_FILE",
                    "read_file": {"path": tid + "/stdout"}}).status_code == 400
    assert call(a, {"type": "READ_FILE",
                    "read_file": {"path": tid + "/nope", "offset": 0}}).status_code == 404
    r = call(a, {"type": "READ_FILE", "read_file": {"path": tid + "/../../../etc/passwd",
                                                    "offset": 0}})
    assert r.status_code == 403 and "root:" not in r.text


def test_agent_keeps_framework_id_across_restart(one):
    tid, _ = start(one)
    fwid = framework_id(one)
    one.a.restart()

    def launched():
        r = call(one.a, {"type": "GET_TASKS"})
        if r.status_code != 200:
            return None
        ts = [t for t in r.json()["get_tasks"]["launched_tasks"]
              if t["task_id"]["value"] == tid]
        return ts[0] if ts else None
    t = wait_until(launched, 20, what="the recovered task")
    check_task(t, tid, fwid)
    c = [x for x in ok(one.a, "GET_CONTAINERS")["containers"]
         if x["executor_id"]["value"] == tid]
    assert len(c) == 1 and c[0]["framework_id"] == {"value": fwid}
    # and its FrameworkInfo, kept beside the task's meta
    fws = ok(one.a, "GET_FRAMEWORKS")["frameworks"]
    assert [f["framework_info"]["name"] for f in fws
            if f["framework_info"]["id"] == {"value": fwid}] == ["marathon"], fws


def test_agent_lists_a_v1_framework(one):
    """A v1 scheduler's task: the agent lists the framework with the FrameworkInfo it
    subscribed with (its id filled in), and not as live once its task is over."""
    from mesos_client import Framework, command_task
    fw = Framework(one.m.url, name="agent-fw-list")
    fw.subscribe()
    offer = fw.wait_offers()[0]
    task = command_task("afl-1", offer, "exec sleep 3600")
    assert fw.accept([offer["id"]["value"]], [task]).status_code == 202
    fw.wait_update("afl-1", "TASK_RUNNING")
    got = ok(one.a, "GET_FRAMEWORKS")
    mine = [f["framework_info"] for f in got["frameworks"]
            if f["framework_info"]["id"] == {"value": fw.id}]
    assert len(mine) == 1, got
    assert mine[0]["name"] == "agent-fw-list" and mine[0]["user"] == fw.info["user"], mine
    assert fw.kill("afl-1", offer["agent_id"]["value"]).status_code == 202
    fw.wait_update("afl-1", "TASK_KILLED")
    # no live task: not among the live frameworks any more (completed_frameworks lists it
    # while the agent still holds the finished task)
    wait_until(lambda: not [f for f in ok(one.a, "GET_FRAMEWORKS")["frameworks"]
                            if f["framework_info"]["id"] == {"value": fw.id}], 10,
               what="the framework no longer live")
    fw.teardown()
