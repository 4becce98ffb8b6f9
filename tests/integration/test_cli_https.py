"""The CLI's HTTP client (net/httpc, libcurl) against a real master: through a TLS-terminating
reverse proxy (https://, a certificate made here with openssl, --cacert / BERTH_CACERT), and
through redirecting servers (a standby master sends 307/308 to the leader)."""
import http.server
import json
import select
import socket
import ssl
import subprocess
import threading

import pytest

from conftest import berth_bin
from helpers import app_def, wait_until


def make_cert(d, name):
    """A self-signed certificate for 127.0.0.1 and localhost: (cert, key) paths in d."""
    cert, key = d / ("%s-cert.pem" % name), d / ("%s-key.pem" % name)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=berth-test-%s" % name, "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class TlsProxy:
    """Accepts TLS on 127.0.0.1:port and forwards the plain bytes to target (host, port) and
    back, one thread per connection (so an event stream passes through as it comes)."""

    def __init__(self, cert, key, target):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(cert), str(key))
        self.target = target
        self.handshake_errors = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = "https://127.0.0.1:%d" % self.port
        self.closing = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.closing:
            try:
                raw, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(raw,), daemon=True).start()

    def _handle(self, raw):
        raw.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.handshake_errors.append(str(e))
            raw.close()
            return
        try:
            up = socket.create_connection(self.target, timeout=10)
        except OSError:
            tls.close()
            return
        tls.settimeout(None)
        up.settimeout(None)
        try:
            while not self.closing:
                ready, _, _ = select.select([tls, up], [], [], 0.2)
                if tls.pending() and tls not in ready:
                    ready.append(tls)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (up if s is tls else tls).sendall(data)
        except (OSError, ssl.SSLError):
            pass
        finally:
            up.close()
            tls.close()

    def close(self):
        self.closing = True
        self.sock.close()
        self.thread.join(5)


class Redirector:
    """Answers every request to /CODE/N/REST with redirect CODE: to /CODE/N-1/REST on itself
    while N > 1, then to final + /REST. Remembers (method, path, body) of each request."""

    def __init__(self, final):
        self.seen = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                outer.seen.append((self.command, self.path, body))
                parts = self.path.split("/", 3)
                code, hops = int(parts[1]), int(parts[2])
                rest = parts[3] if len(parts) > 3 else ""
                if hops > 1:
                    loc = "/%d/%d/%s" % (code, hops - 1, rest)
                else:
                    loc = "%s/%s" % (final, rest)
                self.send_response(code)
                self.send_header("Location", loc)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def tls(cluster):
    """A master behind a TLS proxy: (cluster, proxy, cert path)."""
    m = cluster.master()
    cert, key = make_cert(cluster.workdir, "proxy")
    proxy = TlsProxy(cert, key, ("127.0.0.1", m.port))
    yield cluster, proxy, cert
    proxy.close()


def test_cli_reaches_an_https_master_with_its_ca(tls):
    cluster, proxy, cert = tls
    app = json.dumps(app_def("/tls/web", "sleep 3600", instances=0))
    rc, out, err = cluster.cli("--cacert", cert, "app", "add", "-", stdin=app, master=proxy.url)
    assert rc == 0, err
    assert "/tls/web" in out
    assert cluster.m.api.get("/v2/apps/tls/web").status_code == 200

    rc, out, err = cluster.cli("--master", proxy.url, "--cacert", cert, "app", "list",
                               master=None)
    assert rc == 0, err
    header, rows = out.splitlines()[0], out.splitlines()[1:]
    assert header.split()[0] == "ID", out
    assert any(r.split()[0] == "/tls/web" for r in rows), out

    # the environment works as well as the flags
    rc, out, err = cluster.cli("app", "show", "/tls/web", "--json", master=proxy.url,
                               env={"BERTH_CACERT": str(cert)})
    assert rc == 0, err
    assert json.loads(out)["app"]["id"] == "/tls/web"
    assert proxy.handshake_errors == []


def test_cli_refuses_an_https_master_it_cannot_verify(tls):
    cluster, proxy, cert = tls
    # no CA given: the system's CAs do not know the test's certificate
    rc, out, err = cluster.cli("app", "list", master=proxy.url)
    assert rc == 1, (rc, out, err)
    assert out == ""
    assert err.startswith("berth: cannot reach master at %s: TLS: " % proxy.url), err
    assert "certificate" in err and "--cacert" in err, err
    assert len(err.strip().splitlines()) == 1, err

    # another CA: refused too
    other, _ = make_cert(cluster.workdir, "other")
    rc, out, err = cluster.cli("--cacert", other, "app", "list", master=proxy.url)
    assert rc == 1, (rc, out, err)
    assert "certificate" in err, err

    # a CA file that is not there
    missing = cluster.workdir / "missing.pem"
    rc, out, err = cluster.cli("--cacert", missing, "app", "list", master=proxy.url)
    assert rc == 1
    assert "cannot read CA file '%s'" % missing in err, err

    # plain http to the TLS port: an error, not a hang
    rc, out, err = cluster.cli("app", "list", master="http://127.0.0.1:%d" % proxy.port,
                               timeout=40)
    assert rc == 1, (rc, out, err)
    assert "127.0.0.1:%d" % proxy.port in err


def test_cli_events_stream_over_https(tls):
    cluster, proxy, cert = tls
    api = cluster.m.api
    p = subprocess.Popen([berth_bin(), "--master", proxy.url, "--cacert", str(cert), "events",
                          "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         cwd=str(cluster.workdir))
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(p.stdout.readline, b"")),
                              daemon=True)
    reader.start()
    try:
        wait_until(lambda: json.loads(api.get("/metrics").text)["gauges"]
                   ["berth.event.subscribers"]["value"] == 1, 10, what="the CLI subscribed")
        assert api.post("/v2/apps", app_def("/tls/ev", "sleep 3600",
                                            instances=0)).status_code == 201
        wait_until(lambda: any(b"/tls/ev" in ln for ln in lines), 10,
                   what="an event about /tls/ev on the CLI's stdout")
    finally:
        p.terminate()
        _, err = p.communicate(timeout=10)
    assert p.returncode == 0, (p.returncode, err)
    events = [json.loads(ln) for ln in lines if ln.strip()]
    assert any("/tls/ev" in json.dumps(e) for e in events), events


def test_cli_follows_redirects_to_the_master(cluster):
    m = cluster.master()
    api = m.api
    r = Redirector(m.url)
    try:
        # POST through one 307: the method and the body arrive at the master
        app = json.dumps(app_def("/redir/web", "sleep 3600", instances=0))
        rc, out, err = cluster.cli("app", "add", "-", stdin=app, master=r.base + "/307/1")
        assert rc == 0, err
        assert api.get("/v2/apps/redir/web").status_code == 200
        assert r.seen[0][0] == "POST" and json.loads(r.seen[0][2])["id"] == "/redir/web"

        # PATCH through three 308s (the most the CLI follows)
        rc, out, err = cluster.cli("app", "scale", "/redir/web", "2", master=r.base + "/308/3")
        assert rc == 0, err
        assert api.get("/v2/apps/redir/web").json()["app"]["instances"] == 2
        assert [s[0] for s in r.seen[-3:]] == ["PATCH"] * 3
        assert all(json.loads(s[2])["instances"] == 2 for s in r.seen[-3:])

        # PUT through a 307, its query too (the scale is stuck without agents: --force)
        rc, out, err = cluster.cli("app", "update", "/redir/web", "-", "--force",
                                   stdin='{"cpus": 0.02}', master=r.base + "/307/1")
        assert rc == 0, err
        assert r.seen[-1][0] == "PUT" and json.loads(r.seen[-1][2])["cpus"] == 0.02
        assert r.seen[-1][1].endswith("?force=true"), r.seen[-1]
        assert api.get("/v2/apps/redir/web").json()["app"]["cpus"] == 0.02

        # GET through 302s
        rc, out, err = cluster.cli("app", "list", master=r.base + "/302/2")
        assert rc == 0, err
        assert "/redir/web" in out

        # one more than 3: refused, and said so
        n = len(r.seen)
        rc, out, err = cluster.cli("app", "list", master=r.base + "/307/4")
        assert rc == 1, (rc, out, err)
        assert "more than 3 redirects" in err, err
        assert len(r.seen) - n == 4

        # DELETE through a 307
        rc, out, err = cluster.cli("app", "remove", "/redir/web", master=r.base + "/307/1")
        assert rc == 0, err
        assert r.seen[-1][0] == "DELETE"
        wait_until(lambda: api.get("/v2/apps/redir/web").status_code == 404, 15,
                   what="/redir/web removed")
    finally:
        r.close()


def test_cli_follows_a_redirect_to_an_https_master(tls):
    cluster, proxy, cert = tls
    r = Redirector(proxy.url)
    try:
        rc, out, err = cluster.cli("--cacert", cert, "app", "list", master=r.base + "/307/1")
        assert rc == 0, err
        assert out.splitlines()[0].split()[0] == "ID", out
        # the redirect does not make an unverified peer acceptable
        rc, out, err = cluster.cli("app", "list", master=r.base + "/307/1")
        assert rc == 1 and "certificate" in err, (rc, err)
    finally:
        r.close()
