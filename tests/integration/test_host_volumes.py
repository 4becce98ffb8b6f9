"""Marathon's host-path volumes (`container.volumes[]` with `hostPath`, docs/api.md): the
agent's directory bind-mounted at `containerPath` (relative: in the sandbox; absolute: in the
container's rootfs), read-write or read-only by `mode`, for plain tasks and image tasks;
a bad one is a 422 naming the field."""
import os

from helpers import app_def, wait_until
from test_images import cluster, docker_app, imported, layout, need, stdout_has  # noqa: F401


def vol_app(app_id, cmd, vols, **kw):
    return app_def(app_id, cmd, container={"type": "MESOS", "volumes": vols}, **kw)


def test_plain_task_gets_rw_and_ro_host_paths(cluster):
    cluster.master()
    a = cluster.agent()
    rw, ro = cluster.workdir / "hv-rw", cluster.workdir / "hv-ro"
    ro.mkdir()
    (ro / "given").write_text("from the host\n")
    cmd = ("echo written > data/out.txt; cat conf/given; "
           "if echo x > conf/nope 2>/dev/null; then echo ro-broken; else echo ro-ok; fi; "
           "exec sleep 3600")
    app = vol_app("/hv", cmd, [
        {"containerPath": "data", "hostPath": str(rw), "mode": "RW"},
        {"containerPath": "conf", "hostPath": str(ro), "mode": "RO"}])
    r = cluster.m.api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    t = cluster.m.api.wait_running("/hv", 1)[0]
    # The missing host path was made, as Mesos does; the task's write is on the host.
    wait_until(lambda: (rw / "out.txt").exists(), 20, what="the task's file on the host")
    assert (rw / "out.txt").read_text() == "written\n"
    out = a.sandbox(t["id"]) / "stdout"
    wait_until(lambda: "ro-" in out.read_text(), 10, what="the RO probe")
    assert "from the host" in out.read_text()
    assert "ro-ok" in out.read_text()
    assert not (ro / "nope").exists()
    # The definition keeps the volumes as given.
    vols = cluster.m.api.app("/hv")["container"]["volumes"]
    assert vols[0] == {"containerPath": "data", "hostPath": str(rw), "mode": "RW"}


def test_bad_host_volumes_are_refused_naming_the_field(cluster):
    cluster.master()
    for vol, path in (({"containerPath": "d", "hostPath": "rel/dir", "mode": "RW"},
                       "/container/volumes/0/hostPath"),
                      ({"containerPath": "d", "hostPath": "/a/../etc", "mode": "RW"},
                       "/container/volumes/0/hostPath"),
                      ({"containerPath": "../up", "hostPath": "/srv", "mode": "RW"},
                       "/container/volumes/0/containerPath"),
                      ({"containerPath": "d", "hostPath": "/srv", "mode": "rw"},
                       "/container/volumes/0/mode")):
        r = cluster.m.api.post("/v2/apps", vol_app("/bad", "sleep 1", [vol]))
        assert r.status_code == 422, (vol, r.text)
        paths = [d["path"] for d in r.json()["details"]]
        assert path in paths, (vol, r.json())
    assert cluster.m.api.get("/v2/apps/bad").status_code == 404


def test_image_task_gets_an_absolute_container_path(cluster, layout):
    need()
    c = imported(cluster, layout)
    hv = c.workdir / "hv-img"
    hv.mkdir()
    (hv / "in").write_text("host file\n")
    app = docker_app("/hvimg", "bbimg:base",
                     "cat /srv/shared/in; echo from-container > /srv/shared/out; "
                     "exec sleep 3600")
    app["container"]["volumes"] = [{"containerPath": "/srv/shared", "hostPath": str(hv),
                                    "mode": "RW"}]
    r = c.m.api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    t = c.m.api.wait_running("/hvimg", 1, timeout=60)[0]
    stdout_has(c, t, "host file")
    wait_until(lambda: (hv / "out").exists(), 10, what="the container's file on the host")
    assert (hv / "out").read_text() == "from-container\n"
    # Nothing was made at that path on the host itself.
    assert not os.path.exists("/srv/shared")
