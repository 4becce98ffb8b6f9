"""Tasks kept apart (docs/security.md, "Tasks kept apart"), through the real binaries:
`berth agent --default-user nobody` runs tasks that name no user as nobody (and, without
--switch-user, every task); their sandbox, fetched files and new persistent volumes are
nobody's; and such a task cannot read another user's sandbox, the agent's work dir (its
listing, meta dirs, checkpoints), its secrets store or its TLS key: each try fails with
`Permission denied`."""
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests

from helpers import app_def, wait_until


def user(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pytest.skip("no user '%s' on this machine" % name)


@pytest.fixture
def outside():
    """A directory outside /tmp (tasks get a private /tmp), open for traversal: the secrets
    store and the TLS key live there, as they would in /etc."""
    if os.geteuid() != 0:
        pytest.skip("--default-user needs root")
    d = Path(tempfile.mkdtemp(prefix="berth-users-", dir="/var/tmp"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def sandbox(agent, task):
    return agent.work_dir / "sandboxes" / task["id"]


def read_when(path, what):
    wait_until(lambda: path.exists() and path.read_text(), 15, what=what)
    return path.read_text()


def test_tasks_without_a_user_run_as_the_default_user(cluster, outside):
    nobody = user("nobody")
    user("daemon")
    payload = outside / "payload.sh"
    payload.write_text("#!/bin/sh\necho fetched-ran > ran.txt\n")
    os.chmod(payload, 0o644)
    m = cluster.master()
    a = cluster.agent(extra=["--default-user", "nobody"])
    app = app_def("/plain", "id -un > who; ./payload.sh; echo new > data/file && echo ok > "
                  "wrote; exec sleep 600",
                  fetch=[{"uri": "file://%s" % payload, "executable": True}],
                  container={"type": "MESOS", "volumes": [
                      {"containerPath": "data", "mode": "RW", "persistent": {"size": 4}}]})
    r = m.api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    t = m.api.wait_running("/plain", 1)[0]
    sb = sandbox(a, t)
    assert read_when(sb / "who", "who").strip() == "nobody"
    st = sb.stat()
    assert st.st_uid == nobody.pw_uid and (st.st_mode & 0o777) == 0o700
    # The fetched file is the task's user's, so it ran and wrote next to itself.
    assert (sb / "payload.sh").stat().st_uid == nobody.pw_uid
    assert read_when(sb / "ran.txt", "fetched script ran") == "fetched-ran\n"
    # The new persistent volume was given to the task's user: it could write it.
    assert read_when(sb / "wrote", "volume written") == "ok\n"
    vol = a.work_dir / "volumes" / t["localVolumes"][0]["persistenceId"]
    assert vol.stat().st_uid == nobody.pw_uid
    assert (vol / "file").read_text() == "new\n"
    # Without --switch-user an app's user is not used: the default user runs it.
    r = m.api.post("/v2/apps", app_def("/named", "id -un > who; exec sleep 600", user="daemon"))
    assert r.status_code == 201, r.text
    t2 = m.api.wait_running("/named", 1)[0]
    assert read_when(sandbox(a, t2) / "who", "who").strip() == "nobody"
    # The agent's own directories.
    assert (a.work_dir.stat().st_mode & 0o777) == 0o711
    assert ((a.work_dir / "meta").stat().st_mode & 0o777) == 0o700
    assert ((a.work_dir / "volumes").stat().st_mode & 0o777) == 0o700
    assert ((a.work_dir / "meta" / t["id"]).stat().st_mode & 0o777) == 0o700


def test_a_default_user_task_reaches_nothing_of_the_agent_or_other_tasks(cluster, outside):
    nobody, daemon = user("nobody"), user("daemon")
    secrets = outside / "secrets"
    secrets.mkdir(mode=0o700)
    os.chmod(secrets, 0o700)
    (secrets / "dbpass").write_text("s3cret-value\n")
    os.chmod(secrets / "dbpass", 0o600)
    key, cert = outside / "agent.key", outside / "agent.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-keyout", str(key),
                    "-out", str(cert), "-subj", "/CN=agent", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    assert (key.stat().st_mode & 0o077) == 0
    m = cluster.master()
    a = cluster.agent(extra=["--switch-user", "--default-user", "nobody", "--secrets-dir",
                             str(secrets), "--tls-cert", str(cert), "--tls-key", str(key)],
                      wait=False)
    a.url = "https://" + a.addr
    wait_until(lambda: [s for s in m.api.slaves() if s["active"]], 20, what="agent registered")
    assert requests.get(a.url + "/health", verify=str(cert), timeout=10).status_code == 200
    # Another user's task, with a secret in its sandbox.
    r = m.api.post("/v2/apps", app_def("/keeper", "echo top-secret > secret; exec sleep 600",
                                       user="daemon"))
    assert r.status_code == 201, r.text
    k = m.api.wait_running("/keeper", 1)[0]
    ksb = sandbox(a, k)
    wait_until(lambda: (ksb / "secret").exists(), 10, what="secret written")
    assert ksb.stat().st_uid == daemon.pw_uid
    w = a.work_dir
    tries = {
        "other-sandbox": "cat %s/secret" % ksb,
        "other-sandbox-ls": "ls %s" % ksb,
        "sandboxes-ls": "ls %s/sandboxes" % w,
        "workdir-ls": "ls %s" % w,
        "meta-ls": "ls %s/meta" % w,
        "meta-spec": "cat %s/meta/%s/spec" % (w, k["id"]),
        "agent-id": "cat %s/agent_id" % w,
        "secrets-ls": "ls %s" % secrets,
        "secret": "cat %s/dbpass" % secrets,
        "tls-key": "cat %s" % key,
    }
    # What it tries to reach is there (the agent's user sees it).
    for p in (ksb / "secret", w / "meta" / k["id"] / "spec", w / "agent_id",
              secrets / "dbpass", key):
        assert p.exists(), p
    cmd = "id -un > who; " + "; ".join(
        "%s > out.%s 2> err.%s; echo $? > rc.%s" % (c, n, n, n) for n, c in tries.items())
    cmd += "; echo done > done; exec sleep 600"
    r = m.api.post("/v2/apps", app_def("/snoop", cmd))
    assert r.status_code == 201, r.text
    s = m.api.wait_running("/snoop", 1)[0]
    ssb = sandbox(a, s)
    read_when(ssb / "done", "the snoop's tries")
    assert (ssb / "who").read_text().strip() == "nobody"
    assert ssb.stat().st_uid == nobody.pw_uid
    for n in tries:
        rc = (ssb / ("rc." + n)).read_text().strip()
        err = (ssb / ("err." + n)).read_text()
        out = (ssb / ("out." + n)).read_text()
        assert rc != "0", (n, out)
        assert "Permission denied" in err, (n, err)
        assert "top-secret" not in out and "s3cret" not in out and "PRIVATE" not in out, n
    # Its own sandbox it may use, by its absolute path too.
    r = m.api.post("/v2/apps", app_def("/own", 'echo mine > "$MESOS_SANDBOX/f" && cat '
                                       '"$MESOS_SANDBOX/f" > g; exec sleep 600'))
    assert r.status_code == 201, r.text
    o = m.api.wait_running("/own", 1)[0]
    assert read_when(sandbox(a, o) / "g", "own file") == "mine\n"


def test_a_default_user_that_does_not_exist_stops_the_agent(cluster):
    m = cluster.master()
    rc, _, err = cluster.cli("agent", "--master", m.url, "--http", "127.0.0.1:0",
                             "--work-dir", cluster.workdir / "aw", "--default-user",
                             "no-such-user-berth", timeout=20)
    assert rc != 0
    assert "--default-user 'no-such-user-berth': no such user" in err, err


def test_an_older_work_dir_is_made_private_at_start(cluster):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    cluster.master()
    a = cluster.agent()
    wait_until(lambda: (a.work_dir / "agent_id").exists(), 20, what="agent id stored")
    a.stop()
    # What an agent of an older berth left: readable by all.
    for d in (a.work_dir, a.work_dir / "meta", a.work_dir / "sandboxes", a.work_dir / "health"):
        os.chmod(d, 0o755)
    os.chmod(a.work_dir / "agent_id", 0o644)
    a.start().ready()
    mode = lambda p: p.stat().st_mode & 0o777  # noqa: E731
    assert mode(a.work_dir) == 0o711 and mode(a.work_dir / "sandboxes") == 0o711
    assert mode(a.work_dir / "meta") == 0o700 and mode(a.work_dir / "health") == 0o700
    assert mode(a.work_dir / "agent_id") == 0o600


def test_a_tls_key_other_users_may_read_is_warned_about(cluster, outside):
    key, cert = outside / "loose.key", outside / "loose.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-keyout", str(key),
                    "-out", str(cert), "-subj", "/CN=agent", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    os.chmod(key, 0o644)
    m = cluster.master()
    a = cluster.agent(extra=["--tls-cert", str(cert), "--tls-key", str(key)], wait=False)
    a.url = "https://" + a.addr
    wait_until(lambda: [s for s in m.api.slaves() if s["active"]], 20, what="agent registered")
    assert "--tls-key '%s' is mode 0644" % key in a.stderr_text()
    os.chmod(key, 0o600)
    b = cluster.agent(extra=["--tls-cert", str(cert), "--tls-key", str(key)], wait=False)
    wait_until(lambda: len([s for s in m.api.slaves() if s["active"]]) == 2, 20,
               what="second agent registered")
    assert "may read it" not in b.stderr_text()
