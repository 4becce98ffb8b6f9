"""Sandboxes kept apart (docs/security.md, "Tasks kept apart"), through the real binaries
with `berth agent --switch-user`: a task's sandbox is 0700 and its user's, so a task running
as another user cannot read it; and the sandbox file API refuses a hard link to a file the
task's user could not read (a task linking /etc/shadow into its sandbox; names cannot tell),
while serving its own multiply-linked files and world-readable ones."""
import os
import pwd

import pytest
import requests

from helpers import app_def, wait_until


def user(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pytest.skip("no user '%s' on this machine" % name)


@pytest.fixture
def sw(cluster):
    if os.geteuid() != 0:
        pytest.skip("--switch-user needs root")
    cluster.master()
    cluster.agent(extra=["--switch-user"])
    return cluster


def test_a_task_cannot_read_another_users_sandbox(sw):
    m, a = sw.m, sw.a
    nobody, daemon = user("nobody"), user("daemon")
    r = m.api.post("/v2/apps", app_def("/keeper", "echo top-secret > secret; exec sleep 600",
                                       user="nobody"))
    assert r.status_code == 201, r.text
    t = m.api.wait_running("/keeper", 1)[0]
    sb = a.work_dir / "sandboxes" / t["id"]
    wait_until(lambda: (sb / "secret").exists(), 10, what="secret written")
    st = sb.stat()
    assert st.st_uid == nobody.pw_uid and (st.st_mode & 0o777) == 0o700
    # A task of another user tries to read it: refused by the kernel.
    cmd = ("cat ../%s/secret > got 2> err; echo $? > rc; ls ../%s > ls 2>&1; exec sleep 600"
           % (t["id"], t["id"]))
    r = m.api.post("/v2/apps", app_def("/snoop", cmd, user="daemon"))
    assert r.status_code == 201, r.text
    s = m.api.wait_running("/snoop", 1)[0]
    ssb = a.work_dir / "sandboxes" / s["id"]
    wait_until(lambda: (ssb / "rc").exists() and (ssb / "rc").read_text(), 10, what="rc")
    assert (ssb / "rc").read_text().strip() != "0"
    assert "top-secret" not in (ssb / "got").read_text()
    assert "Permission denied" in (ssb / "err").read_text()
    assert ssb.stat().st_uid == daemon.pw_uid


def test_files_api_refuses_a_hard_link_to_a_file_the_user_cannot_read(sw):
    m, a = sw.m, sw.a
    user("nobody")
    r = m.api.post("/v2/apps", app_def("/linker", "echo mine > own; ln own own2; exec sleep 600",
                                       user="nobody"))
    assert r.status_code == 201, r.text
    t = m.api.wait_running("/linker", 1)[0]
    sb = a.work_dir / "sandboxes" / t["id"]
    wait_until(lambda: (sb / "own2").exists(), 10, what="own link")
    # What a task of a machine without protected_hardlinks could do: a link to a root-only
    # file in its sandbox (made here by the test, as root).
    secret = sw.workdir / "shadow-like"
    secret.write_text("root-only-secret\n")
    os.chmod(secret, 0o600)
    os.link(secret, sb / "shadow")
    public = sw.workdir / "public"
    public.write_text("anyone-may-read\n")
    os.chmod(public, 0o644)
    os.link(public, sb / "pub")

    def read(name):
        return requests.get(a.url + "/files/read", timeout=10,
                            params={"path": "%s/%s" % (t["id"], name), "offset": 0})
    r = read("shadow")
    assert r.status_code == 403, r.text
    assert "root-only-secret" not in r.text
    r = m.api.get("/api/berth/tasks/%s/files/read" % t["id"],
                  params={"path": "shadow", "offset": 0})
    assert r.status_code == 403 and "root-only-secret" not in r.text
    r = requests.post(a.url + "/api/v1", timeout=10, json={
        "type": "READ_FILE", "read_file": {"path": "%s/shadow" % t["id"], "offset": 0}})
    assert r.status_code == 403 and "root-only-secret" not in r.text
    # Its own linked file and a world-readable one are served.
    assert "mine" in read("own2").json()["data"]
    assert "anyone-may-read" in read("pub").json()["data"]
