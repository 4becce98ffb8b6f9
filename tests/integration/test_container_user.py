"""Marathon's `user` inside containers (docs/isolation.md, "Images"): with --switch-user the
container's process (OCI process.user) runs as that user, resolved in the image's /etc/passwd
first and else on the agent, as Mesos does; the sandbox is given to it; an unknown user fails
the task saying so."""
import os
import shutil

import pytest

from helpers import wait_until
from test_images import cluster, docker_app, layout, need, sh, stdout_has  # noqa: F401


@pytest.fixture(scope="module")
def users_layout(layout, tmp_path_factory):
    """bbimg:users: base plus /etc/passwd with imguser (uid 4321, gid 4322) and busybox's
    id applet."""
    d = tmp_path_factory.mktemp("users")
    bundle = d / "unpacked"
    sh("umoci", "unpack", "--image", "%s:base" % layout, str(bundle))
    root = bundle / "rootfs"
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc" / "passwd").write_text("root:x:0:0::/:/bin/sh\n"
                                         "imguser:x:4321:4322::/:/bin/sh\n")
    os.symlink("busybox", root / "bin" / "id")
    sh("umoci", "repack", "--image", "%s:users" % layout, str(bundle))
    return layout


def start(cluster, lay):
    need()
    cluster.master()
    a = cluster.agent(extra=["--switch-user"])
    from test_images import berth_image
    rc, _, err = berth_image("import", "--store", str(a.work_dir / "images"), str(lay))
    assert rc == 0, err
    return cluster


PROBE = 'echo "ids=$(id -u):$(id -g)"; echo mine > "$MESOS_SANDBOX/by-user"; exec sleep 3600'


def test_user_from_the_image_passwd(cluster, users_layout):
    c = start(cluster, users_layout)
    app = docker_app("/imguser", "bbimg:users", PROBE, user="imguser")
    r = c.m.api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    t = c.m.api.wait_running("/imguser", 1, timeout=60)[0]
    assert "ids=4321:4322" in stdout_has(c, t, "ids=")
    sb = c.a.work_dir / "sandboxes" / t["id"]
    wait_until(lambda: (sb / "by-user").exists(), 10, what="the user's file")
    st = os.stat(sb / "by-user")
    assert (st.st_uid, st.st_gid) == (4321, 4322)
    assert os.stat(sb).st_uid == 4321 and os.stat(sb).st_mode & 0o777 == 0o700


def test_user_only_on_the_agent(cluster, users_layout):
    """nobody is not in the image's /etc/passwd: the agent's gives its uid."""
    import pwd
    nobody = pwd.getpwnam("nobody")
    c = start(cluster, users_layout)
    app = docker_app("/hostuser", "bbimg:users", PROBE, user="nobody")
    assert c.m.api.post("/v2/apps", app).status_code == 201
    t = c.m.api.wait_running("/hostuser", 1, timeout=60)[0]
    assert "ids=%d:%d" % (nobody.pw_uid, nobody.pw_gid) in stdout_has(c, t, "ids=")


def test_unknown_user_fails_the_task(cluster, users_layout):
    c = start(cluster, users_layout)
    app = docker_app("/nouser", "bbimg:users", PROBE, user="nosuchuser", backoffSeconds=600)
    assert c.m.api.post("/v2/apps", app).status_code == 201
    f = wait_until(lambda: c.m.api.app("/nouser").get("lastTaskFailure"), 30,
                   what="the failure")
    assert f["state"] == "TASK_FAILED"
    assert "the user 'nosuchuser' is neither in the image's /etc/passwd nor on the agent" \
        in f["message"], f
