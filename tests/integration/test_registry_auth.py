"""Registry credentials (docs/isolation.md, "Image sources"): pulls from a registry that
wants them, with the credentials of a docker-style config.json (`auths`) given to the agent
(--docker-config) or to `berth image pull`: a registry behind htpasswd (Basic on every
request) and one whose token service wants Basic credentials (Docker Hub's scheme), both real
docker-registry processes on loopback that skopeo pushes into."""
import base64
import json
import subprocess

import pytest
import requests

from helpers import free_port, wait_until
from test_images import TokenServer, berth_image, cluster, docker_app, layout, need, sh, \
    stdout_has  # noqa: F401

USER, PASSWORD = "puller", "s3cret-pw"


def start_registry(tmp_path, auth_yaml):
    port = free_port()
    cfg = tmp_path / ("registry-%d.yml" % port)
    cfg.write_text("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\n"
                   "http:\n  addr: 127.0.0.1:%d\nlog:\n  level: error\n%s"
                   % (tmp_path / ("regdata-%d" % port), port, auth_yaml))
    reg = subprocess.Popen(["docker-registry", "serve", str(cfg)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)

    def up():
        try:
            return requests.get("http://127.0.0.1:%d/v2/" % port, timeout=1).status_code
        except requests.RequestException:
            return None
    assert wait_until(up, 20, what="docker-registry on loopback") == 401
    return reg, port


def docker_config(path, registry, user=USER, password=PASSWORD, form="auth"):
    if form == "auth":
        entry = {"auth": base64.b64encode(("%s:%s" % (user, password)).encode()).decode()}
    else:
        entry = {"username": user, "password": password}
    path.write_text(json.dumps({"auths": {registry: entry,
                                          "other.example.com": {"auth": "eDp5"}}}))
    return path


@pytest.fixture
def htpasswd_registry(layout, tmp_path):
    need("docker-registry", "skopeo", "htpasswd")
    pw = tmp_path / "htpasswd"
    pw.write_text(subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], capture_output=True,
                                 text=True, check=True).stdout)
    reg, port = start_registry(tmp_path, "auth:\n  htpasswd:\n    realm: berth-test\n"
                                         "    path: %s\n" % pw)
    ref = "127.0.0.1:%d/tests/private:1" % port
    sh("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds",
       "%s:%s" % (USER, PASSWORD), "oci:%s:bb" % layout, "docker://" + ref)
    yield ref, port
    reg.terminate()
    reg.wait(10)


def test_basic_auth_registry_with_and_without_credentials(cluster, htpasswd_registry,
                                                          tmp_path):
    ref, port = htpasswd_registry
    store = str(tmp_path / "store")
    rc, _, err = berth_image("pull", "--store", store, ref)
    assert rc == 1 and "wants credentials (Basic): give them in the agent's --docker-config" \
        in err, err
    bad = docker_config(tmp_path / "bad.json", "127.0.0.1:%d" % port, password="wrong")
    rc, _, err = berth_image("pull", "--store", store, "--docker-config", str(bad), ref)
    assert rc == 1 and "refused the credentials" in err, err
    assert "wrong" not in err
    good = docker_config(tmp_path / "good.json", "http://127.0.0.1:%d/v2/" % port,
                         form="username")
    rc, out, err = berth_image("pull", "--store", store, "--docker-config", str(good), ref)
    assert rc == 0, err
    assert out.strip() == ref


def test_agent_pulls_with_its_docker_config(cluster, htpasswd_registry, tmp_path):
    ref, port = htpasswd_registry
    cfg = docker_config(tmp_path / "config.json", "127.0.0.1:%d" % port)
    cluster.master()
    a = cluster.agent(extra=["--docker-config", str(cfg)])
    app = docker_app("/private", ref, args=["private"])
    assert cluster.m.api.post("/v2/apps", app).status_code == 201
    t = cluster.m.api.wait_running("/private", 1, timeout=60)[0]
    assert "args=e0 private" in stdout_has(cluster, t, "args=")
    assert (a.work_dir / "images" / "refs" / ref.replace("/", "+")).exists()
    # An agent without credentials fails the task, saying what the registry wants.
    cluster.agent(name="agent-nocreds", extra=["--attributes", "k:nocreds"])
    app2 = docker_app("/private2", ref, args=["x"], backoffSeconds=600,
                      constraints=[["k", "CLUSTER", "nocreds"]])
    assert cluster.m.api.post("/v2/apps", app2).status_code == 201
    f = wait_until(lambda: cluster.m.api.app("/private2").get("lastTaskFailure"), 30,
                   what="the failure")
    assert "wants credentials (Basic)" in f["message"], f


def test_agent_refuses_a_missing_docker_config(cluster, tmp_path):
    cluster.master()
    a = cluster.agent(extra=["--docker-config", str(tmp_path / "nope.json")], wait=False)
    assert a.wait_exit() != 0
    a.expect_dead = True
    assert "--docker-config" in a.stderr_text()


class BasicTokenServer:
    """The test's TokenServer behind Basic auth: a token only for USER:PASSWORD, 401
    otherwise."""

    def __init__(self, d, service):
        import http.server
        import threading
        self.inner = TokenServer(d, service)
        self.cert, self.asked = self.inner.cert, []
        want = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                from urllib.parse import parse_qs, urlparse
                got = self.headers.get("Authorization")
                outer.asked.append(got)
                if got != want:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                q = parse_qs(urlparse(self.path).query)
                body = json.dumps({"token": outer.inner.token(q.get("scope", []))}).encode()
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

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()
        self.inner.close()


def test_token_service_that_wants_basic_credentials(cluster, layout, tmp_path):
    need("docker-registry", "skopeo", "openssl")
    tok = BasicTokenServer(tmp_path, "berth-test-registry")
    reg = None
    try:
        reg, port = start_registry(
            tmp_path, "auth:\n  token:\n    realm: %s\n    service: berth-test-registry\n"
                      "    issuer: berth-test\n    rootcertbundle: %s\n" % (tok.url, tok.cert))
        ref = "127.0.0.1:%d/tests/tokpriv:1" % port
        sh("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds",
           "%s:%s" % (USER, PASSWORD), "oci:%s:bb" % layout, "docker://" + ref)
        store = str(tmp_path / "store")
        rc, _, err = berth_image("pull", "--store", store, ref)
        assert rc == 1 and "wants credentials: give them in the agent's --docker-config" \
            in err, err
        cfg = docker_config(tmp_path / "config.json", "127.0.0.1:%d" % port)
        n = len(tok.asked)
        rc, out, err = berth_image("pull", "--store", store, "--docker-config", str(cfg), ref)
        assert rc == 0, err
        assert out.strip() == ref
        assert tok.asked[n:] and all(a and a.startswith("Basic ") for a in tok.asked[n:])
    finally:
        if reg:
            reg.terminate()
            reg.wait(10)
        tok.close()


def secret_store(tmp_path, files):
    import os
    d = tmp_path / "secret-store"
    d.mkdir(mode=0o700)
    os.chmod(d, 0o700)
    for name, value in files.items():
        (d / name).write_text(value)
        os.chmod(d / name, 0o600)
    return d


def test_pull_config_secret_gives_the_credentials_for_that_pull(cluster, htpasswd_registry,
                                                                tmp_path):
    """Marathon's container.docker.pullConfig {"secret": NAME}: the agent (no --docker-config)
    pulls with the docker config.json that the app's secret names in its --secrets-dir; the
    credentials are in no file of the agent's work dir and no log. An undefined secret is
    422; a DOCKER-type container is refused as by Marathon (Mesos containerizer only)."""
    import os
    ref, port = htpasswd_registry
    good = docker_config(tmp_path / "good.json", "127.0.0.1:%d" % port)
    bad = docker_config(tmp_path / "bad.json", "127.0.0.1:%d" % port, password="wrong-pw")
    d = secret_store(tmp_path, {"regcreds": good.read_text(), "badcreds": bad.read_text()})
    good.unlink()
    bad.unlink()
    m = cluster.master()
    a = cluster.agent(extra=["--secrets-dir", str(d)])

    def app(app_id, source, **kw):
        x = docker_app(app_id, ref, args=["pc"], **kw)
        x["container"]["type"] = "MESOS"
        x["container"]["docker"]["pullConfig"] = {"secret": "pull"}
        x["secrets"] = {"pull": {"source": source}}
        return x
    # Validation: an undefined secret, a DOCKER container.
    x = app("/pcbad", "regcreds")
    x["container"]["docker"]["pullConfig"] = {"secret": "nope"}
    r = m.api.post("/v2/apps", x)
    assert r.status_code == 422, r.text
    assert any(e["path"] == "/container/docker/pullConfig" and
               "pullConfig.secret must refer to an existing secret" in e["errors"]
               for e in r.json()["details"]), r.text
    x = app("/pcbad", "regcreds")
    x["container"]["type"] = "DOCKER"
    r = m.api.post("/v2/apps", x)
    assert r.status_code == 422 and \
        "pullConfig is not supported with Docker containerizer" in r.text, r.text

    r = m.api.post("/v2/apps", app("/pc", "regcreds"))
    assert r.status_code == 201, r.text
    assert m.api.app("/pc")["container"]["docker"]["pullConfig"] == {"secret": "pull"}
    t = m.api.wait_running("/pc", 1, timeout=60)[0]
    assert "args=e0 pc" in stdout_has(cluster, t, "args=")
    assert (a.work_dir / "images" / "refs" / ref.replace("/", "+")).exists()

    # Wrong credentials in the secret: the registry's refusal (the store has the image now:
    # forcePullImage makes it pull again; the stored image is then used, saying why).
    x = app("/pcwrong", "badcreds", backoffSeconds=600)
    x["container"]["docker"]["forcePullImage"] = True
    r = m.api.post("/v2/apps", x)
    assert r.status_code == 201, r.text
    t2 = m.api.wait_running("/pcwrong", 1, timeout=60)[0]
    err = (a.work_dir / "sandboxes" / t2["id"] / "stderr")
    wait_until(lambda: "refused the credentials" in err.read_text(), 20,
               what="the refused pull in the task's stderr")
    # A missing secret fails the task, naming it.
    r = m.api.post("/v2/apps", app("/pcmiss", "absent", backoffSeconds=600))
    assert r.status_code == 201, r.text
    f = wait_until(lambda: m.api.app("/pcmiss").get("lastTaskFailure"), 30, what="failure")
    assert "Secret 'pull' (source 'absent') for the image's pullConfig is not available" \
        in f["message"], f

    for needle in (PASSWORD, "wrong-pw", base64.b64encode(
            ("%s:%s" % (USER, PASSWORD)).encode()).decode()):
        for text in (m.stderr_text(), a.stderr_text(), m.api.get("/v2/apps").text,
                     a.api.get("/state").text):
            assert needle not in text
        for root, _, files in os.walk(cluster.workdir):
            if root.startswith(str(d)):
                continue
            for f in files:
                p = os.path.join(root, f)
                if os.path.isfile(p) and not os.path.islink(p):
                    assert needle.encode() not in open(p, "rb").read(), p
