"""Marathon's secrets (docs/security.md, "Secrets"), through the real binaries: an app's
`"secrets": {"db": {"source": "dbpass"}}` with `"env": {"DB_PW": {"secret": "db"}}` is
resolved by the agent from its --secrets-dir and reaches the task's environment; the value
is in no API answer (Marathon, Mesos, operator API, the agent's /state), no log and no file
of the master's store or the agent's work dir. A missing or badly kept secret fails the task
with a message naming the secret; an undefined reference is 422."""
import hashlib
import json
import os
import secrets as pysecrets

import requests

from helpers import app_def, pids_with_env, wait_until
from test_images import layout  # noqa: F401 (the busybox image, a module fixture)


def store(cluster, files):
    d = cluster.workdir / "secret-store"
    d.mkdir(mode=0o700)
    os.chmod(d, 0o700)
    for name, (value, mode) in files.items():
        p = d / name
        p.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        p.write_text(value)
        os.chmod(p, mode)
    return d


def start(cluster, files):
    d = store(cluster, files)
    m = cluster.master()
    a = cluster.agent(extra=["--secrets-dir", str(d)])
    return m, a, d


def secret_app(app_id, cmd, source="dbpass", name="db"):
    return app_def(app_id, cmd, env={"DB_PW": {"secret": name}, "PLAIN": "x"},
                   secrets={name: {"source": source}})


def all_files(root, skip):
    for dirpath, dirs, files in os.walk(root):
        if os.path.abspath(dirpath).startswith(str(skip)):
            continue
        for f in files:
            p = os.path.join(dirpath, f)
            if os.path.isfile(p) and not os.path.islink(p):
                yield p


def test_a_secret_reaches_the_task_and_nothing_else(cluster):
    value = "pw-" + pysecrets.token_hex(16)
    m, a, d = start(cluster, {"dbpass": (value + "\n", 0o600),
                              "team/api": ("tok-" + value[::-1], 0o600)})
    want = hashlib.sha256(value.encode()).hexdigest()
    app = secret_app("/sec", "printf %s \"$DB_PW\" | sha256sum > hash; "
                     "printf %s \"$API\" | sha256sum > hash2; exec sleep 600")
    app["env"]["API"] = {"secret": "api"}
    app["secrets"]["api"] = {"source": "/team/api"}
    r = m.api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    t = m.api.wait_running("/sec", 1)[0]
    sb = a.sandbox(t["id"])
    wait_until(lambda: (sb / "hash").exists() and (sb / "hash").read_text().strip()
               and (sb / "hash2").exists() and (sb / "hash2").read_text().strip(),
               10, what="hash written")
    assert (sb / "hash").read_text().split()[0] == want
    assert (sb / "hash2").read_text().split()[0] == hashlib.sha256(
        ("tok-" + value[::-1]).encode()).hexdigest()

    # The references are shown as Marathon shows them.
    got = m.api.app("/sec")
    assert got["env"]["DB_PW"] == {"secret": "db"}
    assert got["secrets"] == {"db": {"source": "dbpass"}, "api": {"source": "/team/api"}}

    needles = [value, value[::-1]]
    answers = []
    for path in ["/v2/apps", "/v2/apps/sec", "/v2/apps/sec?embed=app.taskStats",
                 "/v2/apps?embed=apps.tasks", "/v2/tasks", "/v2/groups?embed=group.apps",
                 "/v2/apps/sec/versions", "/v2/deployments", "/v2/queue",
                 "/master/state", "/state.json", "/master/tasks", "/master/slaves",
                 "/api/berth/apps/sec/instances", "/metrics"]:
        r = m.api.get(path)
        assert r.status_code == 200, (path, r.status_code)
        answers.append((path, r.text))
    ver = m.api.get("/v2/apps/sec/versions").json()["versions"][0]
    answers.append(("version", m.api.get("/v2/apps/sec/versions/" + ver).text))
    hdr = {"Content-Type": "application/json", "Accept": "application/json"}
    for call in ["GET_STATE", "GET_TASKS", "GET_AGENTS", "GET_FRAMEWORKS"]:
        r = requests.post(m.url + "/api/v1", json={"type": call}, headers=hdr, timeout=10)
        assert r.status_code == 200, r.text
        answers.append((call, r.text))
    for path in ["/state", "/monitor/statistics"]:
        r = a.api.get(path)
        assert r.status_code == 200, (path, r.status_code)
        answers.append(("agent " + path, r.text))
    for call in ["GET_STATE", "GET_CONTAINERS"]:
        r = requests.post(a.url + "/api/v1", json={"type": call}, headers=hdr, timeout=10)
        assert r.status_code == 200, r.text
        answers.append(("agent " + call, r.text))
    for what, text in answers:
        for n in needles:
            assert n not in text, what
    assert '"secret"' in m.api.get("/v2/apps/sec").text

    # The shim's spec file names the source, not the value; nothing on disk but the store
    # holds it: logs (the daemons' stdout/stderr), the master's store, the agent's work dir
    # (sandboxes, checkpoints, the meta dirs).
    n = 0
    for p in all_files(cluster.workdir, d):
        n += 1
        data = open(p, "rb").read()
        for s in needles:
            assert s.encode() not in data, p
    assert n > 10
    spec = a.work_dir / "meta" / t["id"] / "spec"
    assert spec.exists() and b"DB_PW=dbpass" in spec.read_bytes()


def failure(m, app_id):
    return wait_until(lambda: m.api.app(app_id).get("lastTaskFailure"), 20,
                      what="lastTaskFailure of %s" % app_id)


def test_a_missing_or_badly_kept_secret_fails_the_task(cluster):
    value = "pw-" + pysecrets.token_hex(16)
    m, a, _ = start(cluster, {"open": (value, 0o644)})
    r = m.api.post("/v2/apps", secret_app("/miss", "exec sleep 600", source="nope"))
    assert r.status_code == 201, r.text
    f = failure(m, "/miss")
    assert f["state"] == "TASK_FAILED"
    assert "Secret 'db' (source 'nope') for DB_PW is not available" in f["message"], f
    r = m.api.post("/v2/apps", secret_app("/open", "exec sleep 600", source="open"))
    assert r.status_code == 201, r.text
    f = failure(m, "/open")
    assert f["state"] == "TASK_FAILED"
    assert "source 'open'" in f["message"] and "0644" in f["message"], f
    assert value not in f["message"]
    assert m.api.running("/miss") == [] and m.api.running("/open") == []
    for dm in (m, a):
        assert value not in dm.stderr_text()


def test_an_agent_without_a_store_fails_secret_tasks(cluster):
    m = cluster.master()
    cluster.agent()
    r = m.api.post("/v2/apps", secret_app("/nostore", "exec sleep 600"))
    assert r.status_code == 201, r.text
    f = failure(m, "/nostore")
    assert "this agent has no secret store (--secrets-dir)" in f["message"], f


def test_undefined_or_bad_references_are_422(cluster):
    m = cluster.master()
    bad = app_def("/u", "sleep 1", env={"X": {"secret": "nothere"}})
    r = m.api.post("/v2/apps", bad)
    assert r.status_code == 422, r.text
    assert {"path": "/env/X/secret", "errors": ["references an undefined secret"]} in \
        r.json()["details"], r.text
    bad = app_def("/u", "sleep 1", env={"X": {"secret": "s"}},
                  secrets={"s": {"source": "../etc/shadow"}})
    r = m.api.post("/v2/apps", bad)
    assert r.status_code == 422, r.text
    assert r.json()["details"][0]["path"] == "/secrets/s/source", r.text
    r = m.api.post("/v2/apps", app_def("/u", "sleep 1", secrets={"s": {}}))
    assert r.status_code == 422, r.text
    assert m.api.get("/v2/apps/u").status_code == 404


def test_the_store_itself_is_mode_checked(cluster):
    d = cluster.workdir / "loose"
    d.mkdir()
    os.chmod(d, 0o755)
    m = cluster.master()
    rc, _, err = cluster.cli("agent", "--master", m.url, "--http", "127.0.0.1:0",
                             "--work-dir", cluster.workdir / "aw", "--secrets-dir", d,
                             timeout=20)
    assert rc != 0
    assert "--secrets-dir" in err and "0755" in err, err
    rc, _, err = cluster.cli("agent", "--master", m.url, "--http", "127.0.0.1:0",
                             "--work-dir", cluster.workdir / "aw", "--secrets-dir",
                             cluster.workdir / "nope", timeout=20)
    assert rc != 0 and "No such file" in err, err


def test_a_v1_framework_task_gets_a_secret_reference(cluster):
    """Mesos's Environment.Variable of type SECRET with a REFERENCE: the agent resolves the
    name in its store as for Marathon's secrets; a VALUE secret (which would sit in the
    master's state) is refused."""
    from mesos_client import Framework, command_task
    value = "fw-" + pysecrets.token_hex(16)
    m, a, d = start(cluster, {"fwpw": (value, 0o600)})
    fw = Framework(m.url, name="secret-fw")
    assert fw.subscribe()["type"] == "SUBSCRIBED"
    o = fw.wait_offers()[0]
    t = command_task("t1", o, "printf %s \"$PW\" | sha256sum > hash; exec sleep 300",
                     cpus=0.05, mem=16)
    t["command"]["environment"] = {"variables": [
        {"name": "PW", "type": "SECRET",
         "secret": {"type": "REFERENCE", "reference": {"name": "fwpw"}}}]}
    bad = command_task("t2", o, "sleep 300", cpus=0.05, mem=16)
    bad["command"]["environment"] = {"variables": [
        {"name": "PW", "type": "SECRET",
         "secret": {"type": "VALUE", "value": {"data": "c2VjcmV0"}}}]}
    r = fw.accept([o["id"]["value"]], [t, bad])
    assert r.status_code == 202, r.text
    st = fw.wait_update("t2", "TASK_ERROR")
    assert "type REFERENCE" in st.get("message", ""), st
    fw.wait_update("t1", "TASK_RUNNING")
    sb = a.sandbox("t1")
    wait_until(lambda: (sb / "hash").exists() and (sb / "hash").read_text().strip(), 10,
               what="hash")
    assert (sb / "hash").read_text().split()[0] == hashlib.sha256(value.encode()).hexdigest()
    hdr = {"Content-Type": "application/json", "Accept": "application/json"}
    texts = [m.api.get("/master/state").text, a.api.get("/state").text,
             requests.post(m.url + "/api/v1", json={"type": "GET_STATE"}, headers=hdr,
                           timeout=10).text, m.stderr_text(), a.stderr_text()]
    for text in texts:
        assert value not in text
    fw.teardown()


def test_a_custom_executor_gets_its_secret_reference(cluster):
    """A custom executor's command (no shim) gets the SECRET variable from the agent's
    store; a missing one fails the task naming it."""
    from mesos_client import Framework
    from test_custom_executor import events, executor_info, sandbox, task
    value = "ex-" + pysecrets.token_hex(16)
    m, a, d = start(cluster, {"expw": (value, 0o600)})
    fw = Framework(m.url, name="secret-xfw", failover_timeout=30)
    assert fw.subscribe()["type"] == "SUBSCRIBED"
    o = fw.wait_offers()[0]
    good, missing = task("x1", o, "e1"), task("x2", o, "e2")
    for t, src in ((good, "expw"), (missing, "absent")):
        t["executor"]["command"]["environment"]["variables"].append(
            {"name": "PW", "type": "SECRET",
             "secret": {"type": "REFERENCE", "reference": {"name": src}}})
    r = fw.accept([o["id"]["value"]], [good, missing])
    assert r.status_code == 202, r.text
    st = fw.wait_update("x2", ["TASK_FAILED"])
    assert "Secret 'absent' (source 'absent') for PW is not available" in st["message"], st
    fw.wait_update("x1", "TASK_RUNNING")
    env = json.loads((sandbox(a, fw, "e1") / "env.json").read_text())
    assert pids_with_env({"MESOS_EXECUTOR_ID": "e1", "MESOS_FRAMEWORK_ID": fw.id, "PW": value})
    assert env["MESOS_EXECUTOR_ID"] == "e1" and events(a, fw, "e1")
    for text in (m.api.get("/master/state").text, a.api.get("/state").text,
                 m.stderr_text(), a.stderr_text()):
        assert value not in text
    fw.teardown()


def test_a_container_task_gets_its_secrets_and_no_file_has_them(cluster, layout):
    """A container (busybox image through crun) gets its secrets in its environment, over
    the image's and the app's variable of the same name, through berth-secret-exec and a
    memfd (exec-container.h): the value is in no file of the agent's work dir (the bundle's
    config.json, ctr.sh, the spec, the sandbox), none of crun's state, no log."""
    from test_images import berth_image, containers_under, mounts_under, need
    need()
    value = "cv-" + pysecrets.token_hex(16)
    m, a, d = start(cluster, {"pw": (value + "\n", 0o600)})
    rc, _, err = berth_image("import", "--store", str(a.work_dir / "images"), str(layout))
    assert rc == 0, err
    want = hashlib.sha256(value.encode()).hexdigest()
    # FOO is the image's variable (bbimg:bb sets FOO=image): the secret wins.
    app = app_def("/ctrsec", 'printf %s "$DB_PW" | busybox sha256sum > "$MESOS_SANDBOX/hash"; '
                  'printf %s "$FOO" | busybox sha256sum > "$MESOS_SANDBOX/hash2"; '
                  'ls -l /proc/$$/fd/ > "$MESOS_SANDBOX/fds"; echo "plain=$PLAIN"; exec sleep 600',
                  env={"DB_PW": {"secret": "db"}, "FOO": {"secret": "db"}, "PLAIN": "x"},
                  secrets={"db": {"source": "pw"}},
                  container={"type": "DOCKER", "docker": {"image": "bbimg:bb",
                                                          "network": "HOST"}})
    r = m.api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    t = m.api.wait_running("/ctrsec", 1, timeout=60)[0]
    sb = a.sandbox(t["id"])
    wait_until(lambda: (sb / "hash2").exists() and (sb / "hash2").read_text().strip(), 20,
               what="hashes written in the container")
    assert (sb / "hash").read_text().split()[0] == want
    assert (sb / "hash2").read_text().split()[0] == want
    wait_until(lambda: "plain=" in (sb / "stdout").read_text(), 10, what="stdout")
    # The plain variable as before; the memfd closed before the task's command ran.
    assert "plain=x" in (sb / "stdout").read_text()
    fds = (sb / "fds").read_text()
    assert " 2 -> " in fds and "memfd" not in fds, fds

    bundle = a.work_dir / "meta" / t["id"] / "bundle"
    cfg = json.loads((bundle / "config.json").read_text())
    assert cfg["process"]["args"][0] == "/dev/.berth-secret-exec"
    assert not any(e.startswith(("DB_PW=", "FOO=" + value)) for e in cfg["process"]["env"])
    # Every file under the cluster's dirs (the bundle's rootfs included) and crun's state.
    n = 0
    roots = [cluster.workdir] + [p for p in ("/run/crun",) if os.path.isdir(p)]
    for root in roots:
        for p in all_files(root, d):
            try:
                data = open(p, "rb").read()
            except OSError:
                continue
            n += 1
            assert value.encode() not in data, p
    assert n > 10
    for text in (m.stderr_text(), a.stderr_text(), a.api.get("/state").text,
                 m.api.get("/v2/apps/ctrsec").text):
        assert value not in text

    assert m.api.delete("/v2/apps/ctrsec").status_code in (200, 202)
    wait_until(lambda: not mounts_under(cluster.workdir) and
               not containers_under(cluster.workdir), 30,
               what="the container deleted and its rootfs unmounted")
