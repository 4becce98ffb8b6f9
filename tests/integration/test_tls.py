"""TLS on the master's listener (--tls-cert/--tls-key, mutual TLS with --tls-ca) through the
real binary, with certificates this test makes with openssl: HTTPS served and verified, plain
HTTP refused, the CLI over https with --cacert, a client certificate required and checked
against the CA (one from another CA refused), credentials over TLS."""
import json
import ssl
import subprocess
import time

import pytest
import requests

from helpers import wait_until


def sh(*args):
    subprocess.run([str(a) for a in args], check=True, capture_output=True, timeout=60)


def make_ca(d, name):
    key, cert = d / ("%s-key.pem" % name), d / ("%s.pem" % name)
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=%s" % name)
    return cert, key


def make_signed(d, name, ca, san=None):
    key, csr, cert = d / ("%s-key.pem" % name), d / ("%s.csr" % name), d / ("%s.pem" % name)
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-keyout", key, "-out", csr, "-subj", "/CN=%s" % name)
    ext = d / ("%s.ext" % name)
    ext.write_text("subjectAltName=%s\n" % (san or "DNS:%s" % name))
    sh("openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
       "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
    return cert, key


def tls_master(cluster, extra):
    m = cluster.master(extra=[str(a) for a in extra], wait=False)
    m.url = "https://127.0.0.1:%d" % m.port
    return m


def wait_https(m, **kw):
    def ok():
        assert m.alive(), m.stderr_text()[-2000:]
        try:
            return requests.get(m.url + "/ping", timeout=5, **kw).status_code == 200
        except requests.RequestException:
            return False
    wait_until(ok, 20, what="https /ping")


@pytest.fixture
def pki(cluster):
    d = cluster.workdir
    ca = make_ca(d, "ca")
    server = make_signed(d, "server", ca, san="IP:127.0.0.1,DNS:localhost")
    client = make_signed(d, "client", ca)
    other_ca = make_ca(d, "other-ca")
    stranger = make_signed(d, "stranger", other_ca)
    return {"ca": ca, "server": server, "client": client, "stranger": stranger}


def test_https_served_and_plain_http_refused(cluster, pki):
    cert, key = pki["server"]
    m = tls_master(cluster, ["--tls-cert", cert, "--tls-key", key])
    wait_https(m, verify=str(pki["ca"][0]))
    assert "berth master ready: https://" in m.stderr_text()
    r = requests.get(m.url + "/v2/info", verify=str(pki["ca"][0]), timeout=10)
    assert r.status_code == 200 and r.json()["name"] == "marathon"
    with pytest.raises(requests.RequestException):
        requests.get("http://127.0.0.1:%d/ping" % m.port, timeout=5)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(m.url + "/ping", timeout=5)  # the system's CAs do not know ours
    # TLS 1.1 is refused.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(pki["ca"][0]))
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    import socket
    with socket.create_connection(("127.0.0.1", m.port), timeout=5) as s:
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(s, server_hostname="127.0.0.1").do_handshake()
    # The CLI verifies with --cacert.
    rc, out, err = cluster.cli("app", "list", master=m.url)
    assert rc != 0 and "--cacert" in err
    rc, out, err = cluster.cli("--cacert", pki["ca"][0], "app", "list", master=m.url)
    assert rc == 0, err
    assert m.alive()


def test_mutual_tls(cluster, pki):
    cert, key = pki["server"]
    creds = cluster.workdir / "creds.json"
    creds.write_text(json.dumps({"credentials": [{"principal": "ops", "secret": "pw"}]}))
    m = tls_master(cluster, ["--tls-cert", cert, "--tls-key", key, "--tls-ca", pki["ca"][0],
                             "--credentials", creds])
    ca = str(pki["ca"][0])
    client = tuple(str(p) for p in pki["client"])
    wait_https(m, verify=ca, cert=client)
    r = requests.get(m.url + "/v2/apps", verify=ca, cert=client, auth=("ops", "pw"), timeout=10)
    assert r.status_code == 200
    r = requests.get(m.url + "/v2/apps", verify=ca, cert=client, timeout=10)
    assert r.status_code == 401  # TLS does not replace credentials
    for bad in [None, tuple(str(p) for p in pki["stranger"])]:
        with pytest.raises(requests.RequestException):
            requests.get(m.url + "/v2/apps", verify=ca, cert=bad, auth=("ops", "pw"),
                         timeout=10)
    assert m.alive()


def test_tls_flag_errors(cluster, pki):
    cert, key = pki["server"]
    m = cluster.master(extra=["--tls-cert", str(cert)], wait=False)
    assert m.wait_exit(15) == 2
    m.expect_dead = True
    m = cluster.master(extra=["--tls-cert", str(cert), "--tls-key", str(pki["client"][1])],
                       wait=False)
    assert m.wait_exit(15) == 1
    assert "TLS key" in m.stderr_text() and "mismatch" in m.stderr_text()
    m.expect_dead = True
