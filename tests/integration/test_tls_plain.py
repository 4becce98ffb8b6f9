"""The plain-HTTP port of an HTTPS master (--http-plain, --http-plain-action; docs/security.md):
redirected to HTTPS with 307 (method and body kept) or refused with 403 naming the HTTPS URL,
through the real binary and real clients (curl, requests)."""
import json
import subprocess

import requests

from helpers import app_def, free_port
from test_tls import pki, tls_master, wait_https  # noqa: F401 - pki is a fixture


def curl(*args):
    p = subprocess.run(["curl", "-sS", "--max-time", "20"] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def test_plain_http_redirected_to_https(cluster, pki):
    cert, key = pki["server"]
    ca = str(pki["ca"][0])
    plain = free_port()
    m = tls_master(cluster, ["--tls-cert", cert, "--tls-key", key, "--hostname", "localhost",
                             "--http-plain", "127.0.0.1:%d" % plain])
    wait_https(m, verify=ca)
    assert "plain HTTP on 127.0.0.1:%d: redirected to HTTPS" % plain in m.stderr_text()
    base = "http://127.0.0.1:%d" % plain
    # The answer itself: 307 and Location on the same host, the HTTPS port, the same URI.
    rc, out, err = curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                        base + "/v2/apps?embed=apps.tasks")
    assert rc == 0, err
    assert out == "307 https://127.0.0.1:%d/v2/apps?embed=apps.tasks" % m.port, out
    # curl -L follows it to the API over verified TLS.
    rc, out, err = curl("-L", "--cacert", ca, base + "/v2/apps")
    assert rc == 0, err
    assert json.loads(out) == {"apps": []}
    # A POST is followed as a POST, with its body (307 keeps both): the app is created.
    rc, out, err = curl("-L", "--cacert", ca, "-H", "Content-Type: application/json",
                        "-d", json.dumps(app_def("/via-plain", "sleep 60", instances=0)),
                        "-o", "/dev/null", "-w", "%{http_code}", base + "/v2/apps")
    assert rc == 0 and out == "201", (out, err)
    # requests follows it too; the first hop was the redirect.
    r = requests.get(base + "/v2/apps/via-plain", verify=ca, timeout=10)
    assert r.status_code == 200 and r.json()["app"]["id"] == "/via-plain"
    assert [h.status_code for h in r.history] == [307]
    assert r.url.startswith("https://127.0.0.1:%d/" % m.port)
    # Without a usable Host the advertised name (--hostname) is used.
    rc, out, err = curl("-o", "/dev/null", "-w", "%{redirect_url}", "-H", "Host: a\"b",
                        base + "/ping")
    assert out == "https://localhost:%d/ping" % m.port, (out, err)
    # The plain port serves nothing itself: no API answer, even with credentials.
    r = requests.get(base + "/v2/info", allow_redirects=False, timeout=10)
    assert r.status_code == 307 and "marathon" not in r.text
    assert r.json()["message"].startswith("Moved to HTTPS: https://")
    assert r.headers["Connection"] == "close"
    # Plain HTTP on the HTTPS port itself is still refused (no TLS handshake).
    rc, out, err = curl("http://127.0.0.1:%d/ping" % m.port)
    assert rc != 0
    assert m.alive()


def test_plain_http_refused(cluster, pki):
    cert, key = pki["server"]
    ca = str(pki["ca"][0])
    plain = free_port()
    m = tls_master(cluster, ["--tls-cert", cert, "--tls-key", key, "--http-plain",
                             "127.0.0.1:%d" % plain, "--http-plain-action", "refuse"])
    wait_https(m, verify=ca)
    base = "http://127.0.0.1:%d" % plain
    r = requests.post(base + "/v2/apps", json=app_def("/nope", "sleep 60", instances=0),
                      timeout=10)
    assert r.status_code == 403
    assert "Location" not in r.headers
    assert r.json() == {"message": "HTTPS is required: https://127.0.0.1:%d/v2/apps" % m.port}
    rc, out, err = curl("-L", "-o", "/dev/null", "-w", "%{http_code}", base + "/v2/info")
    assert rc == 0 and out == "403", (out, err)
    # Nothing was created.
    assert requests.get(m.url + "/v2/apps", verify=ca, timeout=10).json() == {"apps": []}


def test_plain_http_flag_errors(cluster, pki):
    cert, key = pki["server"]
    m = cluster.master(extra=["--http-plain", "127.0.0.1:%d" % free_port()], wait=False)
    assert m.wait_exit(15) == 2
    assert "want --tls-cert" in m.stderr_text()
    m.expect_dead = True
    m = cluster.master(extra=["--tls-cert", str(cert), "--tls-key", str(key), "--http-plain",
                              "127.0.0.1:%d" % free_port(), "--http-plain-action", "bounce"],
                       wait=False)
    assert m.wait_exit(15) == 2
    assert "bad --http-plain-action 'bounce'" in m.stderr_text()
    m.expect_dead = True
