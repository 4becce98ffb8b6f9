"""A task's logs through the CLI, the agent's /files API and the master's proxy; sandbox
confinement."""
import os
import signal
import subprocess

from conftest import berth_bin
from helpers import LineReader, app_def, wait_until

LOG_CMD = ("echo out-1; echo err-1 >&2; ln -s /etc/passwd passwd-link; ln -s / root-link; "
           "while [ ! -f go ]; do sleep 0.05; done; echo out-2; echo err-2 >&2; exec sleep 3600")


def start_log_app(one, app_id="/logs"):
    assert one.m.api.post("/v2/apps", app_def(app_id, LOG_CMD)).status_code == 201
    t = one.m.api.wait_running(app_id, 1)[0]
    sb = one.a.sandbox(t["id"])
    wait_until(lambda: (sb / "root-link").is_symlink() and
               "out-1" in (sb / "stdout").read_text(), 10, what="first output")
    return t["id"], sb


def test_cli_logs_stdout_stderr_and_follow(one):
    tid, sb = start_log_app(one)
    rc, out, err = one.cli("logs", tid)
    assert rc == 0, err
    assert "out-1" in out and "err-1" not in out
    rc, out, err = one.cli("logs", tid, "--stderr")
    assert rc == 0, err
    assert "err-1" in out and "out-1" not in out

    env = dict(os.environ, BERTH_MASTER=one.m.url)
    p = subprocess.Popen([berth_bin(), "logs", tid, "--follow"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        rd = LineReader(p.stdout)
        wait_until(lambda: "out-1" in rd.text(), 10, what="follow shows existing output")
        (sb / "go").write_text("")
        wait_until(lambda: "out-2" in rd.text(), 10, what="follow picks up a new line")
        assert rd.text().count("out-1") == 1
        assert p.poll() is None, "logs --follow exited"
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(10)

    rc, out, err = one.cli("logs", "nope.instance-00000000-0000-0000-0000-000000000000._app.1")
    assert rc == 1
    assert "does not exist" in err


def test_agent_files_read_and_browse(one):
    tid, sb = start_log_app(one, "/files")
    api = one.a.api
    r = api.get("/files/browse", params={"path": tid})
    assert r.status_code == 200, r.text
    entries = r.json()
    names = {os.path.basename(e["path"]) for e in entries}
    assert {"stdout", "stderr"} <= names
    for e in entries:
        for k in ("path", "nlink", "size", "mtime", "mode", "uid", "gid"):
            assert k in e, (k, e)
    size = (sb / "stdout").stat().st_size
    r = api.get("/files/read", params={"path": tid + "/stdout", "offset": 0, "length": 100000})
    assert r.status_code == 200, r.text
    assert r.json()["offset"] == 0
    assert "out-1" in r.json()["data"]
    r = api.get("/files/read", params={"path": tid + "/stdout", "offset": 1, "length": 3})
    assert r.json() == {"data": (sb / "stdout").read_text()[1:4], "offset": 1}
    r = api.get("/files/read", params={"path": tid + "/stdout"})
    assert r.json() == {"data": "", "offset": size}
    r = api.get("/files/read", params={"path": tid + "/stdout", "offset": -1})
    assert r.json() == {"data": "", "offset": size}
    # absolute path inside the sandbox is fine
    r = api.get("/files/read", params={"path": str(sb / "stdout"), "offset": 0, "length": 100})
    assert r.status_code == 200 and "out-1" in r.json()["data"]
    # errors
    assert api.get("/files/read", params={"path": tid + "/missing", "offset": 0,
                                          "length": 10}).status_code == 404
    assert api.get("/files/read", params={"path": tid + "/stdout", "offset": "abc",
                                          "length": 10}).status_code == 400
    assert api.get("/files/read", params={"path": tid + "/stdout", "offset": 0,
                                          "length": "-5"}).status_code == 400
    assert api.get("/health").status_code == 200
    st = api.get("/state").json()
    assert any(t["task_id"] == tid for t in st["tasks"])


ESCAPES = [
    "{tid}/../../../../../../etc/passwd",
    "{tid}/../",
    "..",
    "/etc/passwd",
    "/",
    "{tid}/passwd-link",
    "{tid}/root-link/etc/passwd",
]


def test_agent_files_refuse_paths_outside_sandboxes(one):
    tid, sb = start_log_app(one, "/escape")
    api = one.a.api
    bad = []
    for tmpl in ESCAPES:
        path = tmpl.format(tid=tid)
        r = api.get("/files/read", params={"path": path, "offset": 0, "length": 100})
        if r.status_code != 403 or "root:" in r.text:
            bad.append(("read", path, r.status_code, r.text[:200]))
    for path in ("/", "/etc", "..", tid + "/..", tid + "/root-link"):
        r = api.get("/files/browse", params={"path": path})
        if r.status_code != 403:
            bad.append(("browse", path, r.status_code, r.text[:200]))
    assert bad == []


def test_master_proxies_sandbox_files(one):
    tid, sb = start_log_app(one, "/proxy")
    api = one.m.api
    r = api.get("/api/berth/tasks/%s/files/read" % tid,
                params={"path": "stdout", "offset": 0, "length": 100000})
    assert r.status_code == 200, r.text
    assert "out-1" in r.json()["data"]
    r = api.get("/api/berth/tasks/%s/files/browse" % tid, params={"path": ""})
    assert r.status_code == 200, r.text
    assert {"stdout", "stderr"} <= {os.path.basename(e["path"]) for e in r.json()}
    r = api.get("/api/berth/tasks/%s/files/read" % tid,
                params={"path": "../../../../etc/passwd", "offset": 0, "length": 100})
    assert r.status_code == 403 and "root:" not in r.text
    r = api.get("/api/berth/tasks/%s/files/read" % tid,
                params={"path": "passwd-link", "offset": 0, "length": 100})
    assert r.status_code == 403 and "root:" not in r.text
    r = api.get("/api/berth/tasks/nope/files/read", params={"path": "stdout"})
    assert r.status_code == 404
    assert r.json() == {"message": "Task 'nope' does not exist"}
    # the agent gone: 503
    one.a.kill9()
    r = api.get("/api/berth/tasks/%s/files/read" % tid,
                params={"path": "stdout", "offset": 0, "length": 10})
    assert r.status_code == 503, r.text
