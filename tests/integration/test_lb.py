"""berth lb: marathon-lb's job with a real HAProxy (issue 15).

A real master and agent, real tasks (a small Python server on loopback that drains on
SIGTERM), `berth lb` driving the Debian HAProxy: routing by vhost (Host header) and by
service port; a rolling restart, scale changes and reloads while a load loop hits the vhost
(no request may fail); a label HAProxy rejects (the last good configuration stays and keeps
following the tasks); TLS, redirect, sticky, path, proxypass and Traefik labels; a killed
HAProxy started again.
"""
import http.client
import os
import shutil
import signal
import ssl
import subprocess
import threading
import time

from conftest import Daemon
from helpers import app_def, free_port, is_healthy, wait_until

# Debian's haproxy (scripts/install-deps.sh); missing, every test here fails.
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


class Lb(Daemon):
    def __init__(self, cluster, master, group="external"):
        self.http_port, self.https_port, self.stats_port = free_port(), free_port(), free_port()
        self.dir = cluster.short_dir("lb")
        args = ["lb", "--master", master.url, "--group", group, "--haproxy", HAPROXY,
                "--config-dir", str(self.dir), "--bind", "127.0.0.1",
                "--http-port", str(self.http_port), "--https-port", str(self.https_port),
                "--stats-port", str(self.stats_port)]
        super().__init__(cluster, "lb", args)

    def get(self, port, path="/", host=None, timeout=5):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            c.request("GET", path, headers={"Host": host} if host else {})
            r = c.getresponse()
            return r.status, r.read().decode(errors="replace")
        finally:
            c.close()

    def admin(self, path):
        return self.get(self.stats_port, path)

    def ready(self):
        def ok():
            assert self.alive(), self.stderr_text()[-3000:]
            try:
                return self.admin("/_haproxy_health_check")[0] == 200
            except OSError:
                return False
        wait_until(ok, 20, what="lb health check")
        return self

    def config(self):
        st, body = self.admin("/_haproxy_getconfig")
        assert st == 200
        return body


def start_lb(cluster, group="external"):
    lb = cluster._add(Lb(cluster, cluster.m, group)).start()
    return lb.ready()


def http_check(**kw):
    d = {"protocol": "HTTP", "path": "/", "intervalSeconds": 1, "timeoutSeconds": 1,
         "gracePeriodSeconds": 5, "maxConsecutiveFailures": 3}
    d.update(kw)
    return d


def wait_done(api, app_id, n, timeout=40.0):
    def ok():
        a = api.app(app_id)
        ts = a.get("tasks", [])
        if a["deployments"] or len(ts) != n or not all(is_healthy(t) for t in ts):
            return None
        return a
    return wait_until(ok, timeout, interval=0.1, what="%s deployed (%d tasks)" % (app_id, n))


# A web server as real ones behave on SIGTERM: it stops accepting (HAProxy's retry sends the
# next request elsewhere) and finishes the requests it has begun before it exits. Answers
# every GET with its task id.
GRACEFUL_PY = r'''
import http.server, os, signal, sys, threading
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        body = (os.environ.get("MESOS_TASK_ID", "?") + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Path", self.path)
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer.allow_reuse_address = True
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
s.daemon_threads = False
signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=s.shutdown).start())
s.serve_forever()
s.server_close()
'''


def graceful_cmd(workdir):
    path = workdir / "graceful.py"
    path.write_text(GRACEFUL_PY)
    return "exec /usr/bin/python3 %s $PORT0" % path


def web_app(cluster, aid, port, vhost, n=2, **labels):
    lab = {"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": vhost}
    lab.update(labels)
    return app_def(aid, graceful_cmd(cluster.workdir), instances=n,
                   portDefinitions=[{"port": port}], labels=lab,
                   healthChecks=[http_check()],
                   upgradeStrategy={"minimumHealthCapacity": 1, "maximumOverCapacity": 0.5})


class LoadLoop(threading.Thread):
    """GETs the vhost as fast as it can, a new connection each time; every answer but a 200
    from a task is a failure."""

    def __init__(self, lb, host):
        super().__init__(daemon=True)
        self.lb, self.host = lb, host
        self.stop_ev = threading.Event()
        self.ok, self.failures, self.by, self.lat = 0, [], set(), []

    def p99_ms(self):
        xs = sorted(self.lat)
        return xs[min(len(xs) - 1, int(len(xs) * 0.99))] * 1e3 if xs else float("nan")

    def run(self):
        while not self.stop_ev.is_set():
            try:
                t0 = time.perf_counter()
                st, body = self.lb.get(self.lb.http_port, "/", self.host)
                if st == 200:
                    self.lat.append(time.perf_counter() - t0)
                    self.ok += 1
                    self.by.add(body.strip())
                else:
                    self.failures.append((time.time(), st, body[:200]))
            except Exception as e:  # noqa: BLE001 - any error is a failed request
                self.failures.append((time.time(), "error", repr(e)))

    def stop(self):
        self.stop_ev.set()
        self.join(10)


def task_ids(api, aid):
    return {t["id"] for t in api.tasks(aid)}


def test_vhost_and_port_routing_through_restart_and_scaling(cluster):
    cluster.master()
    cluster.agent(hostname="127.0.0.1")
    api = cluster.m.api
    lb = start_lb(cluster)
    port = free_port()
    assert api.post("/v2/apps", web_app(cluster, "/web", port, "web.test")).status_code == 201
    # another group's app, and one without labels: never exposed
    other = app_def("/other", graceful_cmd(cluster.workdir), portDefinitions=[{"port": 0}],
                    labels={"HAPROXY_GROUP": "internal", "HAPROXY_0_VHOST": "other.test"})
    assert api.post("/v2/apps", other).status_code == 201
    wait_done(api, "/web", 2)

    ids = task_ids(api, "/web")
    wait_until(lambda: lb.get(lb.http_port, "/", "web.test")[1].strip() in ids, 15,
               what="the vhost routed to a task")
    st, body = lb.get(lb.http_port, "/", "web.test:%d" % lb.http_port)  # port in Host
    assert st == 200 and body.strip() in ids
    st, body = lb.get(port)  # the service port
    assert st == 200 and body.strip() in ids, (st, body)
    assert lb.get(lb.http_port, "/", "other.test")[0] == 503  # no backend: HAProxy's 503
    conf = lb.config()
    assert "backend web_%d\n" % port in conf and "other" not in conf, conf
    assert "hdr(host),field(1,:) -i web.test" in conf
    st, body = lb.admin("/haproxy?stats")
    assert st == 200 and "web_%d" % port in body

    loop = LoadLoop(lb, "web.test")
    loop.start()
    try:
        wait_until(lambda: loop.ok >= 50, 15, what="load loop warmed up")
        old = task_ids(api, "/web")
        r = api.post("/v2/apps/web/restart")
        assert r.status_code == 200, r.text
        wait_until(lambda: not (task_ids(api, "/web") & old) and
                   len(task_ids(api, "/web")) == 2, 60, what="every task replaced")
        wait_done(api, "/web", 2)
        for n in (4, 1, 3):
            r = api.put("/v2/apps/web", {"instances": n})
            assert r.status_code == 200, r.text
            wait_done(api, "/web", n)
        ids = task_ids(api, "/web")
        wait_until(lambda: ids <= loop.by, 15, what="every new task served requests")
        # reloads: each new exposed app is a new backend
        for i in range(5):
            before = lb.stderr_text().count("haproxy reloaded")
            d = app_def("/more-%d" % i, "sleep 3600", instances=0,
                        portDefinitions=[{"port": free_port()}],
                        labels={"HAPROXY_GROUP": "external"})
            assert api.post("/v2/apps", d).status_code == 201
            wait_until(lambda: lb.stderr_text().count("haproxy reloaded") > before, 20,
                       what="a reload")
        wait_until(lambda: "backend more-4_" in lb.config(), 10, what="the last app's backend")
    finally:
        loop.stop()
    print("\nlb: %d requests ok, %d failed, %d reloads, %d runtime API batches, p99 %.1f ms"
          % (loop.ok, len(loop.failures), lb.stderr_text().count("haproxy reloaded"),
             lb.stderr_text().count("through the runtime API"), loop.p99_ms()))
    assert loop.failures == [], (loop.failures[:5], loop.ok)
    assert loop.ok > 200, loop.ok
    err = lb.stderr_text()
    assert "through the runtime API" in err, err[-3000:]
    assert err.count("haproxy reloaded") >= 6, err[-3000:]


def test_rejected_config_keeps_the_last_good_one(cluster):
    cluster.master()
    cluster.agent(hostname="127.0.0.1")
    api = cluster.m.api
    lb = start_lb(cluster)
    port = free_port()
    assert api.post("/v2/apps", web_app(cluster, "/bad", port, "bad.test")).status_code == 201
    wait_done(api, "/bad", 2)
    wait_until(lambda: lb.get(lb.http_port, "/", "bad.test")[0] == 200, 15,
               what="the vhost routed")
    good = lb.config()
    assert "balance roundrobin" in good

    # one clean token HAProxy does not know: the whole configuration is rejected
    labels = {"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": "bad.test",
              "HAPROXY_0_BALANCE": "no-such-algorithm"}
    loop = LoadLoop(lb, "bad.test")
    loop.start()
    try:
        assert api.put("/v2/apps/bad", {"labels": labels}).status_code == 200
        wait_until(lambda: "haproxy rejects the new configuration" in lb.stderr_text(), 20,
                   what="the rejection logged")
        wait_done(api, "/bad", 2)  # the label change replaced the tasks
        ids = task_ids(api, "/bad")
        # the last good configuration stays, and its backend follows the new tasks
        wait_until(lambda: ids <= loop.by, 20, what="the new tasks served on the old config")
    finally:
        loop.stop()
    assert loop.failures == [], (loop.failures[:5], loop.ok)
    err = lb.stderr_text()
    assert "balance only supports" in err, err[-3000:]  # HAProxy's own message
    conf = lb.config()
    assert "balance roundrobin" in conf and "no-such-algorithm" not in conf

    # fixed: applied (a reload)
    labels["HAPROXY_0_BALANCE"] = "leastconn"
    assert api.put("/v2/apps/bad", {"labels": labels}).status_code == 200
    wait_until(lambda: "balance leastconn" in lb.config(), 30, what="the fixed config applied")
    wait_done(api, "/bad", 2)
    wait_until(lambda: lb.get(lb.http_port, "/", "bad.test")[0] == 200, 15, what="routing")


def test_tls_redirect_sticky_path_proxypass_and_traefik_labels(cluster):
    cluster.master()
    cluster.agent(hostname="127.0.0.1")
    api = cluster.m.api
    lb = start_lb(cluster)
    pem = cluster.short_dir("cert") / "sec.pem"
    key, crt = pem.with_suffix(".key"), pem.with_suffix(".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=sec.test", "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True)
    pem.write_text(crt.read_text() + key.read_text())
    apps = {
        "/sec": {"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": "sec.test",
                 "HAPROXY_0_SSL_CERT": str(pem), "HAPROXY_0_REDIRECT_TO_HTTPS": "true",
                 "HAPROXY_0_STICKY": "true"},
        "/api": {"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": "api.test",
                 "HAPROXY_0_PATH": "/api", "HAPROXY_0_HTTP_BACKEND_PROXYPASS_PATH": "/api"},
        "/tr": {"traefik.enable": "true", "traefik.frontend.rule": "Host:tr.test"},
    }
    for aid, labels in apps.items():
        d = app_def(aid, graceful_cmd(cluster.workdir), portDefinitions=[{"port": free_port()}],
                    labels=labels, healthChecks=[http_check()])
        assert api.post("/v2/apps", d).status_code == 201, aid
    for aid in apps:
        wait_done(api, aid, 1)
    ids = {aid: task_ids(api, aid) for aid in apps}
    wait_until(lambda: lb.get(lb.http_port, "/", "tr.test")[1].strip() in ids["/tr"], 20,
               what="traefik's Host rule routed")

    c = http.client.HTTPConnection("127.0.0.1", lb.http_port, timeout=5)
    c.request("GET", "/x", headers={"Host": "sec.test"})
    r = c.getresponse()
    assert r.status == 301 and r.getheader("Location") == "https://sec.test/x"
    c.close()

    ctx = ssl.create_default_context(cafile=str(crt))
    ctx.check_hostname = False
    c = http.client.HTTPSConnection("127.0.0.1", lb.https_port, timeout=5, context=ctx)
    c.request("GET", "/x", headers={"Host": "sec.test"})
    r = c.getresponse()
    body = r.read().decode().strip()
    assert r.status == 200 and body in ids["/sec"], (r.status, body)
    assert "mesosphere_server_id=" in (r.getheader("Set-Cookie") or "")
    c.close()

    c = http.client.HTTPConnection("127.0.0.1", lb.http_port, timeout=5)
    c.request("GET", "/api/v1/x", headers={"Host": "api.test"})
    r = c.getresponse()
    body = r.read().decode().strip()
    assert r.status == 200 and body in ids["/api"], (r.status, body)
    assert r.getheader("X-Path") == "/v1/x"  # the prefix removed
    c.close()
    assert lb.get(lb.http_port, "/other", "api.test")[0] == 503  # outside the path


def haproxy_master(lb):
    """The HAProxy master: the lb's child named haproxy."""
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        if comm == "haproxy" and ppid == lb.p.pid:
            return int(p)
    return None


def test_haproxy_killed_is_started_again(cluster):
    cluster.master()
    cluster.agent(hostname="127.0.0.1")
    api = cluster.m.api
    lb = start_lb(cluster)
    port = free_port()
    assert api.post("/v2/apps", web_app(cluster, "/k", port, "k.test", n=1)).status_code == 201
    wait_done(api, "/k", 1)
    wait_until(lambda: lb.get(lb.http_port, "/", "k.test")[0] == 200, 15, what="routed")
    old = haproxy_master(lb)
    assert old
    os.kill(old, signal.SIGKILL)

    def back():
        m = haproxy_master(lb)
        try:
            return m and m != old and lb.get(lb.http_port, "/", "k.test")[0] == 200
        except OSError:
            return False
    wait_until(back, 20, what="a new HAProxy routing")
    assert "exited (signal 9); starting it again" in lb.stderr_text()
