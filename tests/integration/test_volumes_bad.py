"""Bad volume input (issue 5, "Bad input"): definitions Marathon rejects are rejected with 422
and the path; a volume driver that fails or hangs fails the task (TASK_FAILED with the
driver's message) within the plugin timeout and leaves nothing mounted."""
import http.server
import json
import socketserver
import threading
import time

import pytest

from helpers import SseClient, app_def, mounts_under, wait_until


def errors_of(r):
    assert r.status_code == 422, (r.status_code, r.text)
    return r.json()["details"]


def paths(r):
    return [d["path"] for d in errors_of(r)]


def pv(path="data", mode="RW", size=16):
    return {"containerPath": path, "mode": mode, "persistent": {"size": size}}


def ext(name, driver="local", path="vol", shared=None):
    e = {"name": name, "provider": "dvdi", "options": {"dvdi/driver": driver}}
    if shared is not None:
        e["shared"] = shared
    return {"containerPath": path, "mode": "RW", "external": e}


def with_vols(app_id, vols, **kw):
    return app_def(app_id, "sleep 1000", container={"type": "MESOS", "volumes": vols}, **kw)


@pytest.mark.parametrize("vol,path", [
    (pv("a/b"), "/container/volumes/0"),
    (pv("/abs"), "/container/volumes/0"),
    (pv(mode="RO"), "/container/volumes/0"),
    (pv(size=0), "/container/volumes/0"),
])
def test_bad_persistent_volume_is_rejected_with_its_path(shared_master, vol, path):
    r = shared_master.m.api.post("/v2/apps", with_vols("/bad-pv", [vol]))
    ps = paths(r)
    assert any(p.startswith(path) for p in ps), (ps, r.text)


def test_bad_external_volumes_are_rejected(shared_master):
    api = shared_master.m.api
    no_driver = {"containerPath": "v", "mode": "RW",
                 "external": {"name": "x", "provider": "dvdi", "options": {}}}
    assert any(p.startswith("/container/volumes/0") for p in
               paths(api.post("/v2/apps", with_vols("/bad-ext1", [no_driver]))))
    other = ext("y")
    other["external"]["provider"] = "other"
    assert any(p.startswith("/container/volumes/0") for p in
               paths(api.post("/v2/apps", with_vols("/bad-ext2", [other]))))
    ro = ext("z")
    ro["mode"] = "RO"
    r = api.post("/v2/apps", with_vols("/bad-ext3", [ro]))
    assert any(p.startswith("/container/volumes/0") for p in paths(r))
    # more than one instance on an unshared name without {index}
    r = api.post("/v2/apps", with_vols("/bad-ext4", [ext("single")], instances=2))
    assert any(p.startswith("/container/volumes") or p == "/instances" for p in paths(r)), r.text
    # ... and scaling such an app past 1 is rejected too
    r = api.post("/v2/apps", with_vols("/one-ext", [ext("onlyone")]))
    assert r.status_code == 201, r.text
    r = api.put("/v2/apps/one-ext?force=true", {"instances": 2})
    assert r.status_code == 422, (r.status_code, r.text)
    # shared, or {index}: fine
    r = api.post("/v2/apps", with_vols("/ok-shared", [ext("sh", shared=True)], instances=2))
    assert r.status_code == 201, r.text
    r = api.post("/v2/apps", with_vols("/ok-index", [ext("ix{index}")], instances=2))
    assert r.status_code == 201, r.text
    # the same name twice in one app
    r = api.post("/v2/apps", with_vols("/bad-twice", [ext("tw", path="a"), ext("tw", path="b")]))
    assert any(p.startswith("/container/volumes") for p in paths(r))


def test_two_apps_cannot_claim_one_external_volume(shared_master):
    api = shared_master.m.api
    r = api.post("/v2/apps", with_vols("/claim-a", [ext("claimed")]))
    assert r.status_code == 201, r.text
    r = api.post("/v2/apps", with_vols("/claim-b", [ext("claimed")]))
    assert any(p.startswith("/container/volumes") for p in paths(r)), r.text
    # {index} names collide with concrete names too: claimed{index} at index 0 = "claimed0"
    r = api.post("/v2/apps", with_vols("/claim-c", [ext("claimed0")]))
    assert r.status_code == 201, r.text
    # shared on both sides is allowed
    r = api.post("/v2/apps", with_vols("/claim-d", [ext("both", shared=True)]))
    assert r.status_code == 201, r.text
    r = api.post("/v2/apps", with_vols("/claim-e", [ext("both", shared=True)]))
    assert r.status_code == 201, r.text


def test_resources_of_a_stateful_app_cannot_change(shared_master):
    api = shared_master.m.api
    r = api.post("/v2/apps", with_vols("/fixed", [pv()]))
    assert r.status_code == 201, r.text
    for change in ({"cpus": 0.02}, {"mem": 32}, {"disk": 5},
                   {"container": {"type": "MESOS", "volumes": [pv(size=32)]}}):
        r = api.put("/v2/apps/fixed?force=true", change)
        assert r.status_code == 422, (change, r.status_code, r.text)
        assert r.json()["details"], r.text
    # other changes and scaling stay possible
    r = api.put("/v2/apps/fixed?force=true", {"instances": 2})
    assert r.status_code == 200, r.text
    r = api.put("/v2/apps/fixed?force=true", {"env": dict(api.app("/fixed")["env"], X="1")})
    assert r.status_code == 200, r.text


# --- drivers that fail or hang ---

class FakePlugin:
    """A Docker volume plugin on a unix socket: volumes named good* work (a directory under
    root), bad* fail Create/Mount with an Err, hang* never answer Mount. Records every call."""

    def __init__(self, sock_path, root):
        self.sock_path = str(sock_path)
        self.plugin_dir = str(sock_path.parent)
        self.root = root
        self.calls = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        plugin = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                ans = plugin.answer(self.path, body)
                data = json.dumps(ans).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.docker.plugins.v1+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def address_string(self):
                return "unix"

            def log_message(self, *a):
                pass

        class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.server = S(self.sock_path, H)
        self.t = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.t.start()

    def answer(self, path, body):
        name = body.get("Name", "")
        with self.lock:
            self.calls.append((path, name, body.get("ID")))
        if path == "/Plugin.Activate":
            return {"Implements": ["VolumeDriver"]}
        if path == "/VolumeDriver.Capabilities":
            return {"Capabilities": {"Scope": "global"}}
        if name.startswith("bad") and path in ("/VolumeDriver.Create", "/VolumeDriver.Mount"):
            return {"Err": "disk array on fire (%s)" % name}
        if path == "/VolumeDriver.Get":
            return {"Err": "no such volume"} if name.startswith("bad") else \
                {"Volume": {"Name": name, "Mountpoint": "%s/%s" % (self.root, name)}}
        if path == "/VolumeDriver.Mount":
            if name.startswith("hang"):
                self.release.wait(120)
                return {"Err": "released"}
            import os
            os.makedirs("%s/%s" % (self.root, name), exist_ok=True)
            return {"Mountpoint": "%s/%s" % (self.root, name)}
        if path in ("/VolumeDriver.Path",):
            return {"Mountpoint": "%s/%s" % (self.root, name)}
        return {"Err": ""}

    def mounts(self, name):
        with self.lock:
            return [c for c in self.calls if c[0] == "/VolumeDriver.Mount" and c[1] == name]

    def unmounts(self, name):
        with self.lock:
            return [c for c in self.calls if c[0] == "/VolumeDriver.Unmount" and c[1] == name]

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_plugin(cluster):
    d = cluster.short_dir("plugins")
    root = cluster.workdir / "fake-root"
    root.mkdir()
    p = FakePlugin(d / "fake.sock", str(root))
    yield p
    p.close()


@pytest.mark.parametrize("bad", ["bad", "hang"])
def test_failing_or_hanging_driver_fails_the_task_and_leaves_nothing_mounted(
        cluster, fake_plugin, bad):
    m = cluster.master()
    a = cluster.agent(extra=["--volume-plugin-dir", str(fake_plugin.plugin_dir),
                             "--volume-plugin-timeout", "2"])
    ev = SseClient(m.url, types=["status_update_event"])
    try:
        vols = [ext("good1", driver="fake", path="g"), ext(bad + "1", driver="fake", path="b")]
        t0 = time.monotonic()
        r = m.api.post("/v2/apps", with_vols("/drv", vols))
        assert r.status_code == 201, r.text
        d = ev.wait_for(lambda t, d: d.get("appId") == "/drv" and d.get("taskStatus") in
                        ("TASK_FAILED", "TASK_RUNNING", "TASK_ERROR"), 20,
                        what="the task's terminal status")
        took = time.monotonic() - t0
        assert d["taskStatus"] == "TASK_FAILED", d
        msg = d.get("message", "")
        assert bad + "1" in msg, msg
        if bad == "bad":
            assert "disk array on fire" in msg, msg
        else:
            assert took < 2 * 2 + 6, took
        # What was mounted for the task is unmounted again; nothing stays mounted.
        wait_until(lambda: len(fake_plugin.unmounts("good1")) >= len(fake_plugin.mounts("good1")),
                   10, what="Unmount of good1 (calls: %r)" % fake_plugin.calls)
        assert fake_plugin.mounts("good1"), fake_plugin.calls
        assert mounts_under(a.work_dir) == []
        # the app keeps trying (with backoff); delete it
        assert m.api.delete("/v2/apps/drv?force=true").status_code == 200
    finally:
        ev.close()
