"""Container images (docs/isolation.md, "Images"): tasks run in OCI images through crun, from
a tiny busybox image the tests build themselves with umoci from Debian's busybox-static:
imported with `berth image import`, found in the agent's --image-dir, pulled from a real
registry (Debian's docker-registry) on loopback that skopeo pushes into. Checked: Entrypoint,
Cmd, Env and WorkingDir combined with Marathon's cmd/args as Docker does; the sandbox at
$MESOS_SANDBOX; HOST networking and BRIDGE port mappings (hostPort 0 assigned from the
offer, PORT0/PORT_<containerPort>) serving HTTP on the assigned host port; a COMMAND health
check that runs inside the container; the container gone with its task; a missing image
failing the task with REASON_CONTAINER_LAUNCH_FAILED.

Needs root, crun, umoci and busybox-static (scripts/install-deps.sh --test); skips, saying
which, without them. The registry test also needs docker-registry and skopeo."""
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from helpers import app_def, free_port, run, wait_until

BUSYBOX = "/bin/busybox"
APPLETS = ("sh", "httpd", "sleep", "cat", "echo", "env", "pwd", "test", "ls", "touch")


def static_elf(path):
    """Whether path is an ELF64 executable without a program interpreter (PT_INTERP)."""
    import struct
    b = Path(path).read_bytes()
    if b[:4] != b"\x7fELF" or b[4] != 2:
        return False
    phoff, = struct.unpack_from("<Q", b, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", b, 0x36)
    return all(struct.unpack_from("<I", b, phoff + i * phentsize)[0] != 3
               for i in range(phnum))


def need(*tools):
    if os.geteuid() != 0:
        pytest.skip("containers need root (euid %d)" % os.geteuid())
    for t in ("crun", "umoci") + tools:
        if not shutil.which(t):
            pytest.skip("'%s' is not installed (scripts/install-deps.sh --test)" % t)
    if not os.path.exists(BUSYBOX) or not static_elf(BUSYBOX):
        pytest.skip("a static busybox at %s is needed (Debian's busybox-static)" % BUSYBOX)


def sh(*args, **kw):
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    assert p.returncode == 0, "%s: %s" % (" ".join(args), p.stderr)
    return p.stdout


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    """An OCI image layout with two tags: "base" (no Entrypoint or Cmd) and "bb" (an
    Entrypoint that prints its arguments, Cmd c1 c2, Env FOO and BAR, WorkingDir /work).
    Both hold busybox's applets, /inside-only and empty /work, /tmp, /www."""
    need()
    d = tmp_path_factory.mktemp("image")
    lay, bundle = d / "bbimg", d / "unpacked"
    sh("umoci", "init", "--layout", str(lay))
    sh("umoci", "new", "--image", "%s:base" % lay)
    sh("umoci", "unpack", "--image", "%s:base" % lay, str(bundle))
    root = bundle / "rootfs"
    for sub in ("bin", "work", "tmp", "www"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(BUSYBOX, root / "bin" / "busybox")
    for a in APPLETS:
        os.symlink("busybox", root / "bin" / a)
    (root / "inside-only").write_text("in the image\n")
    sh("umoci", "repack", "--image", "%s:base" % lay, str(bundle))
    sh("umoci", "config", "--image", "%s:base" % lay, "--tag", "bb",
       "--config.entrypoint", "/bin/sh", "--config.entrypoint", "-c",
       "--config.entrypoint",
       'echo "args=$0 $*"; echo "foo=$FOO bar=$BAR sb=$MESOS_SANDBOX pwd=$(pwd)"; '
       'echo in-sandbox > "$MESOS_SANDBOX/written"; exec sleep 3600',
       "--config.entrypoint", "e0", "--config.cmd", "c1", "--config.cmd", "c2",
       "--config.env", "FOO=image", "--config.env", "BAR=image",
       "--config.workingdir", "/work")
    # "del": a second layer over base that deletes /inside-only (a whiteout) and empties
    # /www (an opaque directory is not what umoci writes; a whiteout per file is).
    bundle2 = d / "unpacked2"
    sh("umoci", "unpack", "--image", "%s:base" % lay, str(bundle2))
    os.unlink(bundle2 / "rootfs" / "inside-only")
    (bundle2 / "rootfs" / "added").write_text("in the top layer\n")
    sh("umoci", "repack", "--image", "%s:del" % lay, str(bundle2))
    return lay


def mounts_under(path):
    p = str(path)
    return [line.split()[4] for line in open("/proc/self/mountinfo")
            if line.split()[4].startswith(p)]


def containers_under(path):
    """crun's containers whose bundle is under path (a copied rootfs has no mount to wait
    for: the container's state is what says its shim has not cleaned up yet)."""
    p = subprocess.run(["crun", "list"], capture_output=True, text=True)
    return [line.split()[0] for line in p.stdout.splitlines()[1:]
            if len(line.split()) > 3 and line.split()[3].startswith(str(path))]


@pytest.fixture
def cluster(cluster):
    """The cluster, whose apps are removed at the end so that their containers go (the
    harness's teardown kills the shims, which would leave their rootfs mounted)."""
    yield cluster
    if getattr(cluster, "m", None) is None:
        return
    try:
        for app in cluster.m.api.get("/v2/apps").json().get("apps", []):
            cluster.m.api.delete("/v2/apps" + app["id"])
        wait_until(lambda: not mounts_under(cluster.workdir) and
                   not containers_under(cluster.workdir), 30,
                   what="the containers deleted and their rootfs unmounted")
    except (requests.RequestException, AssertionError) as e:
        print("cleanup: %s" % e)


def berth_image(*args):
    return run([os.environ.get("BERTH_BIN", "berth"), "image"] + list(args))


def imported(cluster, layout):
    """A master and an agent whose store has bbimg:base and bbimg:bb (berth image import)."""
    cluster.master()
    a = cluster.agent()
    rc, out, err = berth_image("import", "--store", str(a.work_dir / "images"), str(layout))
    assert rc == 0, err
    for tag in ("bb", "base", "del"):
        assert "docker.io/library/bbimg:%s" % tag in out
    rc, out, _ = berth_image("list", "--store", str(a.work_dir / "images"))
    assert "docker.io/library/bbimg:bb\tsha256:" in out
    return cluster


def sandbox(c, task):
    return c.a.work_dir / "sandboxes" / task["id"]


def stdout_has(c, task, text, timeout=20):
    f = sandbox(c, task) / "stdout"
    wait_until(lambda: f.exists() and text in f.read_text(), timeout,
               what="%r in the task's stdout (%s)" % (text, f))
    return f.read_text()


def docker_app(app_id, image, cmd=None, network="HOST", **kw):
    d = app_def(app_id, cmd, container={"type": "DOCKER",
                                        "docker": {"image": image, "network": network}}, **kw)
    return d


def test_entrypoint_cmd_env_and_workdir_as_docker_combines_them(cluster, layout):
    c = imported(cluster, layout)
    api = c.m.api
    # Neither cmd nor args: Entrypoint + Cmd; the image's Env and WorkingDir; the app's env
    # wins over the image's.
    assert api.post("/v2/apps", docker_app("/plain", "bbimg:bb", env={"BAR": "app"})
                    ).status_code == 201
    # args replace Cmd after the Entrypoint.
    assert api.post("/v2/apps", docker_app("/withargs", "bbimg:bb", args=["a1", "a2"])
                    ).status_code == 201
    # cmd runs under /bin/sh -c and ignores Entrypoint and Cmd.
    assert api.post("/v2/apps", docker_app(
        "/withcmd", "bbimg:bb", "echo shell foo=$FOO; pwd; exec sleep 3600")).status_code == 201
    t = api.wait_running("/plain", 1, timeout=60)[0]
    out = stdout_has(c, t, "pwd=")
    assert "args=e0 c1 c2" in out
    assert "foo=image bar=app sb=/mnt/mesos/sandbox pwd=/work" in out
    # The sandbox is bind-mounted at $MESOS_SANDBOX: the file is in the host's sandbox.
    wait_until(lambda: (sandbox(c, t) / "written").exists(), 10, what="file in the sandbox")
    assert (sandbox(c, t) / "written").read_text() == "in-sandbox\n"
    t = api.wait_running("/withargs", 1, timeout=60)[0]
    assert "args=e0 a1 a2" in stdout_has(c, t, "args=")
    t = api.wait_running("/withcmd", 1, timeout=60)[0]
    out = stdout_has(c, t, "shell foo=image\n/work\n")
    assert "args=" not in out


@pytest.mark.parametrize("rootfs", ["overlay", "copy"])
def test_layers_and_whiteouts_make_the_rootfs_and_writes_stay_in_the_task(cluster, layout,
                                                                           rootfs, monkeypatch):
    """Both ways of making a rootfs: an overlay of the cached layers, and the copy used where
    overlayfs is missing (forced here with BERTH_IMAGE_ROOTFS=copy)."""
    if rootfs == "copy":
        monkeypatch.setenv("BERTH_IMAGE_ROOTFS", "copy")
    c = imported(cluster, layout)
    probe = ('test -e /inside-only && echo whiteout-ignored || echo deleted; cat /added; '
             'echo mine > /bin/written-by-task; exec sleep 3600')
    assert c.m.api.post("/v2/apps", docker_app("/del", "bbimg:del", probe)).status_code == 201
    t = c.m.api.wait_running("/del", 1, timeout=60)[0]
    out = stdout_has(c, t, "in the top layer")
    assert "deleted\n" in out and "whiteout-ignored" not in out
    # The write went to the task's upper directory, not into the shared layer cache.
    layers = c.a.work_dir / "images" / "layers"
    assert not any((layers / l / "bin" / "written-by-task").exists()
                   for l in os.listdir(layers))
    # The same image in another task does not see it.
    assert c.m.api.post("/v2/apps", docker_app(
        "/del2", "bbimg:del", "test -e /bin/written-by-task && echo leaked || echo clean; "
        "exec sleep 3600")).status_code == 201
    t2 = c.m.api.wait_running("/del2", 1, timeout=60)[0]
    assert "clean" in stdout_has(c, t2, "clean", timeout=20)
    rootfs_dir = str(c.a.work_dir / "meta" / t["id"] / "bundle" / "rootfs")
    assert (rootfs_dir in mounts_under(c.workdir)) == (rootfs == "overlay")


def test_bridge_port_mapping_serves_http_on_the_assigned_host_port(cluster, layout):
    c = imported(cluster, layout)
    app = docker_app(
        "/web", "bbimg:base",
        'echo "port0=$PORT0 port8080=$PORT_8080"; echo hello-from-the-container > /www/index.html;'
        ' exec httpd -f -p 8080 -h /www', network="BRIDGE")
    fixed = c.a.port_lo + 5
    app["container"]["portMappings"] = [
        {"containerPort": 8080, "hostPort": 0, "servicePort": 10080, "protocol": "tcp"},
        {"containerPort": 9090, "hostPort": fixed, "name": "admin"}]
    r = c.m.api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    pms = r.json()["container"]["portMappings"]
    assert pms[0]["servicePort"] == 10080 and pms[1]["servicePort"] >= 10000, pms
    assert pms[1]["protocol"] == "tcp" and pms[1]["hostPort"] == fixed, pms
    t = c.m.api.wait_running("/web", 1, timeout=60)[0]
    assert len(t["ports"]) == 2 and t["ports"][1] == fixed, t["ports"]
    port = t["ports"][0]
    assert c.a.port_lo <= port <= c.a.port_hi, "host port %d outside the offer" % port
    assert "port0=%d port8080=%d" % (port, port) in stdout_has(c, t, "port0=")

    def body():
        try:
            return requests.get("http://127.0.0.1:%d/" % port, timeout=2).text
        except requests.RequestException:
            return None
    assert wait_until(body, 20, what="HTTP through the port mapping") == \
        "hello-from-the-container\n"
    # The container has a network namespace of its own: 8080 is not bound on the host.
    with pytest.raises(requests.RequestException):
        requests.get("http://127.0.0.1:8080/", timeout=1)


def test_host_network_container_listens_on_its_port(cluster, layout):
    c = imported(cluster, layout)
    app = docker_app("/hostweb", "bbimg:base",
                     'echo host-net > /www/index.html; exec httpd -f -p $PORT0 -h /www',
                     portDefinitions=[{"port": 0}])
    assert c.m.api.post("/v2/apps", app).status_code == 201
    t = c.m.api.wait_running("/hostweb", 1, timeout=60)[0]
    port = t["ports"][0]

    def body():
        try:
            return requests.get("http://127.0.0.1:%d/" % port, timeout=2).text
        except requests.RequestException:
            return None
    assert wait_until(body, 20, what="HTTP on the host's network") == "host-net\n"


def test_command_health_check_runs_inside_the_container(cluster, layout):
    c = imported(cluster, layout)
    assert not Path("/inside-only").exists()
    hc = {"protocol": "COMMAND", "command": {"value": "test -f /inside-only"},
          "gracePeriodSeconds": 30, "intervalSeconds": 1, "timeoutSeconds": 5,
          "maxConsecutiveFailures": 0}
    app = docker_app("/checked", "bbimg:base", "exec sleep 3600", healthChecks=[hc])
    assert c.m.api.post("/v2/apps", app).status_code == 201

    def healthy():
        ts = c.m.api.tasks("/checked")
        return ts and ts[0].get("healthCheckResults") and \
            ts[0]["healthCheckResults"][0].get("alive") is True
    wait_until(healthy, 40, what="the check (a file only the image has) passing")


def crun_containers():
    p = subprocess.run(["crun", "list", "-q"], capture_output=True, text=True)
    return set(p.stdout.split())


def test_kill_removes_the_container_and_its_rootfs(cluster, layout):
    c = imported(cluster, layout)
    app = docker_app("/gone", "bbimg:base", "sleep 3600 & exec sleep 3600")
    assert c.m.api.post("/v2/apps", app).status_code == 201
    t = c.m.api.wait_running("/gone", 1, timeout=60)[0]
    name = "berth-" + t["id"]
    wait_until(lambda: name in crun_containers(), 20, what="the crun container")
    meta = c.a.work_dir / "meta" / t["id"]
    rootfs = str(meta / "bundle" / "rootfs")
    assert any(line.split()[4] == rootfs for line in open("/proc/self/mountinfo"))
    assert c.m.api.delete("/v2/apps/gone").status_code == 200
    wait_until(lambda: name not in crun_containers(), 20, what="the container deleted")
    wait_until(lambda: not any(line.split()[4] == rootfs for line in
                               open("/proc/self/mountinfo")), 20, what="the rootfs unmounted")


def test_missing_image_fails_the_task_with_the_launch_reason(cluster, layout):
    c = imported(cluster, layout)
    app = docker_app("/noimage", "127.0.0.1:1/nosuch:1", "true", backoffSeconds=600)
    assert c.m.api.post("/v2/apps", app).status_code == 201
    f = wait_until(lambda: c.m.api.app("/noimage").get("lastTaskFailure"), 30,
                   what="the failure")
    assert f["state"] == "TASK_FAILED"
    assert f["message"].startswith("Failed to launch container: Failed to pull image "
                                   "'127.0.0.1:1/nosuch:1'"), f["message"]


def test_image_dir_is_imported_on_demand(cluster, layout, tmp_path):
    need()
    images = tmp_path / "images"
    images.mkdir()
    sh("tar", "-C", str(layout), "-cf", str(images / "bbimg.tar"), ".")
    cluster.master()
    a = cluster.agent(extra=["--image-dir", str(images)])
    assert cluster.m.api.post("/v2/apps", docker_app("/fromdir", "bbimg:bb")).status_code == 201
    t = cluster.m.api.wait_running("/fromdir", 1, timeout=60)[0]
    assert "args=e0 c1 c2" in stdout_has(cluster, t, "args=")
    assert (a.work_dir / "images" / "refs" / "docker.io+library+bbimg:bb").exists()


def test_pull_from_a_registry_on_loopback(cluster, layout, tmp_path):
    need("docker-registry", "skopeo")
    port = free_port()
    cfg = tmp_path / "registry.yml"
    cfg.write_text("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\n"
                   "http:\n  addr: 127.0.0.1:%d\nlog:\n  level: error\n"
                   % (tmp_path / "regdata", port))
    reg = subprocess.Popen(["docker-registry", "serve", str(cfg)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        def up():
            try:
                return requests.get("http://127.0.0.1:%d/v2/" % port, timeout=1).status_code
            except requests.RequestException:
                return None
        wait_until(up, 20, what="docker-registry on loopback")
        ref = "127.0.0.1:%d/tests/bbimg:1" % port
        sh("skopeo", "copy", "--dest-tls-verify=false", "oci:%s:bb" % layout, "docker://" + ref)
        cluster.master()
        a = cluster.agent()
        # `berth image pull` into a store of its own.
        rc, out, err = berth_image("pull", "--store", str(tmp_path / "store"), ref)
        assert rc == 0, err
        assert out.strip() == ref
        # A task pulls into the agent's store on its first launch.
        app = docker_app("/pulled", ref, args=["pulled"])
        assert cluster.m.api.post("/v2/apps", app).status_code == 201
        t = cluster.m.api.wait_running("/pulled", 1, timeout=60)[0]
        assert "args=e0 pulled" in stdout_has(cluster, t, "args=")
        assert (a.work_dir / "images" / "refs" / ref.replace("/", "+")).exists()
    finally:
        reg.terminate()
        reg.wait(10)


def test_command_checks_run_in_the_task_cgroup(cluster, layout, request):
    """With --isolation cgroups, a COMMAND check's process is in its task's cgroup (a plain
    task's and a container's alike), so it counts against the task's limits."""
    from test_isolation import need as need_cgroups, remove_cgroups
    need_cgroups("memory", "cpu", "pids")
    parent = "berth-itest-img-%d" % os.getpid()
    try:
        cluster.master()
        a = cluster.agent(extra=["--isolation", "cgroups", "--cgroups-parent", parent])
        rc, _, err = berth_image("import", "--store", str(a.work_dir / "images"), str(layout))
        assert rc == 0, err
        hc = {"protocol": "COMMAND", "gracePeriodSeconds": 30, "intervalSeconds": 1,
              "timeoutSeconds": 5, "maxConsecutiveFailures": 0}
        plain = app_def("/plaincheck", "exec sleep 3600", mem=64, healthChecks=[
            dict(hc, command={"value": "cat /proc/self/cgroup > check-cgroup"})])
        ctr = docker_app("/ctrcheck", "bbimg:base", "exec sleep 3600", mem=64, healthChecks=[
            dict(hc, command={"value": "cat /proc/self/cgroup > $MESOS_SANDBOX/check-cgroup"})])
        for app in (plain, ctr):
            assert cluster.m.api.post("/v2/apps", app).status_code == 201
        for app_id in ("/plaincheck", "/ctrcheck"):
            t = cluster.m.api.wait_running(app_id, 1, timeout=60)[0]
            f = sandbox(cluster, t) / "check-cgroup"
            wait_until(lambda: f.exists() and f.read_text(), 30, what="the check's cgroups")
            mem = [line for line in f.read_text().splitlines() if ":memory:" in line
                   or line.startswith("0::")]
            assert any(line.endswith("/%s/%s" % (parent, t["id"])) for line in mem), \
                "%s: %s" % (app_id, f.read_text())
    finally:
        for app_id in ("/plaincheck", "/ctrcheck"):
            try:
                cluster.m.api.delete("/v2/apps" + app_id)
            except Exception:
                pass
        wait_until(lambda: not mounts_under(cluster.workdir), 30, what="rootfs unmounted")
        remove_cgroups(parent)


def test_v1_scheduler_api_docker_container_info(cluster, layout):
    """The v1 scheduler API: a TaskInfo with ContainerInfo type DOCKER (BRIDGE, an explicit
    host port from the offer) runs in the image; its arguments follow the Entrypoint."""
    from mesos_client import Framework, command_task
    c = imported(cluster, layout)
    fw = Framework(c.m.url, name="images")
    fw.subscribe()
    o = wait_until(lambda: [x for x in fw.wait_offers()
                            if sum(r["scalar"]["value"] for r in x["resources"]
                                   if r["name"] == "mem") >= 32], 20, what="an offer")[0]
    port = c.a.port_lo + 7
    ti = command_task("v1ctr", o, None, ports=[port], shell=False,
                      env={"ITEST_TAG": os.environ.get("ITEST_TAG", "")})
    del ti["command"]["value"]
    ti["command"]["arguments"] = ["v1-arg"]
    ti["container"] = {"type": "DOCKER", "docker": {
        "image": "bbimg:bb", "network": "BRIDGE",
        "port_mappings": [{"host_port": port, "container_port": 80, "protocol": "tcp"}]}}
    assert fw.accept([o["id"]["value"]], [ti]).status_code == 202
    st = fw.wait_update("v1ctr", ["TASK_RUNNING", "TASK_FAILED"], timeout=60)
    assert st["state"] == "TASK_RUNNING", st
    out = c.a.work_dir / "sandboxes" / "v1ctr" / "stdout"
    wait_until(lambda: out.exists() and "args=e0 v1-arg" in out.read_text(), 20,
               what="the container's output")
    # An unsupported container type is refused with its reason.
    o2 = wait_until(lambda: [x for x in fw.wait_offers()
                             if sum(r["scalar"]["value"] for r in x["resources"]
                                    if r["name"] == "mem") >= 32], 20, what="an offer")[0]
    ti2 = command_task("v1bad", o2, "true")
    ti2["container"] = {"type": "APPC"}
    fw.accept([o2["id"]["value"]], [ti2])
    st = fw.wait_update("v1bad", ["TASK_ERROR", "TASK_FAILED", "TASK_DROPPED"], timeout=20)
    assert "not supported" in st.get("message", ""), st
    fw.kill("v1ctr")
    fw.wait_update("v1ctr", ["TASK_KILLED"], timeout=30)
    wait_until(lambda: not mounts_under(c.workdir), 30, what="the rootfs unmounted")


def test_import_a_docker_save_archive(cluster, layout, tmp_path):
    """A `docker save` tarball (made by skopeo's docker-archive transport): imported under its
    RepoTag, then run."""
    need("skopeo")
    archive = tmp_path / "saved.tar"
    sh("skopeo", "copy", "oci:%s:bb" % layout, "docker-archive:%s:saved/bb:7" % archive)
    cluster.master()
    a = cluster.agent()
    rc, out, err = berth_image("import", "--store", str(a.work_dir / "images"), str(archive))
    assert rc == 0, err
    assert out.startswith("docker.io/saved/bb:7 sha256:"), out
    # The same file again: nothing new, same image.
    rc, out2, err = berth_image("import", "--store", str(a.work_dir / "images"), str(archive))
    assert rc == 0 and out2 == out, err
    app = docker_app("/saved", "saved/bb:7", args=["from-save"])
    assert cluster.m.api.post("/v2/apps", app).status_code == 201
    t = cluster.m.api.wait_running("/saved", 1, timeout=60)[0]
    assert "args=e0 from-save" in stdout_has(cluster, t, "args=")
    # A file that is neither format is refused, saying so.
    junk = tmp_path / "junk.tar"
    sh("tar", "-C", str(tmp_path), "-cf", str(junk), "saved.tar")
    rc, _, err = berth_image("import", "--store", str(a.work_dir / "images"), str(junk))
    assert rc == 1 and "neither a docker save archive" in err, err


def b64url(b):
    import base64
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class TokenServer:
    """A Docker token service on loopback: answers GET /token?service=…&scope=… with a JWT
    (RS256, its certificate in x5c) granting what the scope asks; records the requests."""

    def __init__(self, d, service):
        import http.server
        import threading
        self.key, self.cert = d / "token.key", d / "token.pem"
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
           str(self.key), "-out", str(self.cert), "-days", "1", "-subj", "/CN=berth-test-token")
        self.der = subprocess.run(["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
                                  capture_output=True, check=True).stdout
        self.service, self.requests = service, []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                from urllib.parse import parse_qs, urlparse
                q = parse_qs(urlparse(self.path).query)
                outer.requests.append(q)
                body = json.dumps({"token": outer.token(q.get("scope", []))}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/token" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def token(self, scopes):
        import base64
        access = []
        for sc in scopes:
            for one in sc.split(" "):
                typ, name, actions = one.split(":", 2) if one.count(":") >= 2 else (one, "", "")
                access.append({"type": typ, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(self.der).decode()]}
        claims = {"iss": "berth-test", "sub": "", "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": str(now) + str(len(self.requests)),
                  "access": access}
        signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)],
                             input=signing.encode(), capture_output=True, check=True).stdout
        return signing + "." + b64url(sig)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def test_pull_with_token_auth(cluster, layout, tmp_path):
    """A registry that wants Bearer tokens (Docker's token auth, as Docker Hub does): the
    pull gets a 401 naming the realm, fetches a token there for the repository's scope and
    retries with it."""
    need("docker-registry", "skopeo", "openssl")
    tok = TokenServer(tmp_path, "berth-test-registry")
    port = free_port()
    cfg = tmp_path / "registry.yml"
    cfg.write_text(
        "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\n"
        "http:\n  addr: 127.0.0.1:%d\nlog:\n  level: error\n"
        "auth:\n  token:\n    realm: %s\n    service: berth-test-registry\n"
        "    issuer: berth-test\n    rootcertbundle: %s\n"
        % (tmp_path / "regdata", port, tok.url, tok.cert))
    reg = subprocess.Popen(["docker-registry", "serve", str(cfg)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        def up():
            try:
                return requests.get("http://127.0.0.1:%d/v2/" % port, timeout=1).status_code
            except requests.RequestException:
                return None
        assert wait_until(up, 20, what="docker-registry on loopback") == 401
        ref = "127.0.0.1:%d/tests/tokimg:1" % port
        sh("skopeo", "copy", "--dest-tls-verify=false", "oci:%s:bb" % layout, "docker://" + ref)
        n_push = len(tok.requests)
        rc, out, err = berth_image("pull", "--store", str(tmp_path / "store"), ref)
        assert rc == 0, err
        assert out.strip() == ref
        asked = tok.requests[n_push:]
        assert asked and asked[0]["service"] == ["berth-test-registry"], asked
        assert asked[0]["scope"] == ["repository:tests/tokimg:pull"], asked
    finally:
        reg.terminate()
        reg.wait(10)
        tok.close()


def test_docker_parameters_map_onto_the_oci_config(cluster, layout):
    c = imported(cluster, layout)
    app = docker_app("/params", "bbimg:bb", args=[
        "-c", 'w=$(touch /rootfs-write 2>/dev/null && echo rw || echo ro); '
              'echo "p=$P a=$A pwd=$(pwd) host=$(cat /proc/sys/kernel/hostname) root=$w"; '
              'exec sleep 3600'],
        env={"P": "from-app", "A": "app"})
    app["container"]["docker"]["parameters"] = [
        {"key": "entrypoint", "value": "/bin/sh"}, {"key": "env", "value": "P=from-param"},
        {"key": "workdir", "value": "/tmp"}, {"key": "hostname", "value": "berthbox"},
        {"key": "read-only", "value": "true"}, {"key": "cap-drop", "value": "ALL"},
        {"key": "label", "value": "team=infra"}]
    r = c.m.api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    t = c.m.api.wait_running("/params", 1, timeout=60)[0]
    out = stdout_has(c, t, "root=")
    assert "p=from-param a=app pwd=/tmp host=berthbox root=ro\n" in out, out
    assert "args=" not in out, out
    # A parameter berth cannot map is refused with its path, not silently dropped.
    bad = docker_app("/badparam", "bbimg:bb")
    bad["container"]["docker"]["parameters"] = [{"key": "log-driver", "value": "syslog"}]
    r = c.m.api.post("/v2/apps", bad)
    assert r.status_code == 422, r.text
    d = r.json()["details"]
    assert d[0]["path"] == "/container/docker/parameters/0", d
    assert "'log-driver' is not supported" in d[0]["errors"][0], d
