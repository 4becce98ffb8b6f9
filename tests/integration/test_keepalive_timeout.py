"""The slowloris timeout applies to every request of a kept-alive connection, not only to
its first (docs/security.md, "Hostile input"; net/http-guard.c): a client that sends one
good request and then trickles the next one's headers, or its body, a byte at a time is cut
after --http-request-timeout; one that stays idle between requests is not (evhttp's idle
timeout bounds that); and a pipelined pair of requests is answered. Through the real
binary, over plain HTTP and HTTPS."""
import socket
import ssl
import time

from test_conn_limits import ask, closed_by_peer, conn
from test_tls import pki, tls_master, wait_https  # noqa: F401 - pki is a fixture


def trickle_until_cut(s, data, limit=8.0, step=0.25):
    """Sends data one byte per step until the server closes s; the seconds it took, or
    None when it was never cut."""
    t0 = time.monotonic()
    for b in data:
        if time.monotonic() - t0 > limit:
            return None
        try:
            s.sendall(bytes([b]))
        except OSError:
            return time.monotonic() - t0
        time.sleep(step)
        s.settimeout(0.001)
        try:
            if s.recv(4096) == b"":
                return time.monotonic() - t0
        except (socket.timeout, ssl.SSLWantReadError, BlockingIOError):
            pass
        except OSError:
            return time.monotonic() - t0
    return time.monotonic() - t0 if closed_by_peer(s, max(0.1, limit - (time.monotonic() - t0))) else None


HEADERS = b"GET /v2/info HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"y" * 200
BODY_REQ = (b"POST /v2/apps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 400\r\n\r\n")


def test_second_request_trickled_is_cut(cluster):
    m = cluster.master(extra=["--http-request-timeout", "2"])
    # Headers of the second request trickled.
    s = conn(m)
    assert ask(s) == b"200"
    took = trickle_until_cut(s, HEADERS)
    assert took is not None, "a trickled second request was never cut"
    assert 1.5 < took < 5, took
    # A body trickled on a kept-alive connection (its headers came at once).
    s = conn(m)
    assert ask(s, "/v2/info") == b"200"
    s.sendall(BODY_REQ)
    took = trickle_until_cut(s, b'{"id": "/x", "cmd": "sleep 1"' + b" " * 370)
    assert took is not None, "a trickled body on a reused connection was never cut"
    assert took < 5, took
    # Idle past the timeout between requests: not cut, and the next request is timed anew.
    s = conn(m)
    assert ask(s) == b"200"
    time.sleep(3.2)
    assert ask(s, "/v2/info") == b"200"
    time.sleep(1.0)
    assert ask(s) == b"200"
    # Pipelined: two requests in one write, both answered, the connection kept.
    p = conn(m)
    p.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    p.settimeout(5)
    while data.count(b"HTTP/1.1 200") < 2:
        d = p.recv(4096)
        assert d, data
        data += d
    time.sleep(2.5)
    assert ask(p) == b"200"
    assert m.alive()


def test_second_request_trickled_is_cut_over_https(cluster, pki):
    cert, key = pki["server"]
    m = tls_master(cluster, ["--http-request-timeout", "2", "--tls-cert", cert,
                             "--tls-key", key])
    wait_https(m, verify=str(pki["ca"][0]))
    ctx = ssl.create_default_context(cafile=str(pki["ca"][0]))

    def tls_conn():
        return ctx.wrap_socket(socket.create_connection(("127.0.0.1", m.port), timeout=10),
                               server_hostname="localhost")
    s = tls_conn()
    assert ask(s) == b"200"
    took = trickle_until_cut(s, HEADERS)
    assert took is not None and 1.5 < took < 5, took
    s = tls_conn()
    assert ask(s) == b"200"
    time.sleep(3.2)
    assert ask(s) == b"200"
    assert m.alive()
