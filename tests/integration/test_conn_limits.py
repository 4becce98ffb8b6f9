"""Connection caps and the slowloris timeout of the master's listener (docs/security.md,
"Hostile input"; net/http-guard.c), through the real binary: a client trickling its headers
a byte at a time is cut after --http-request-timeout while the API stays responsive; a kept-
alive connection idle past that timeout is not cut; the N+1th connection from one address
(--http-max-connections-per-client) gets 503 and is closed while other addresses are
served; the N+1th in all (--http-max-connections) likewise; a freed slot is reusable."""
import socket
import time

import requests

from helpers import wait_until


def conn(m, src="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", m.port))
    return s


def closed_by_peer(s, timeout):
    """True when the server closes s within timeout (reads until EOF, discarding data)."""
    s.settimeout(timeout)
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return True
    except socket.timeout:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True


def ask(s, path="/ping"):
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
    s.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(4096)
        assert d, "closed"
        data += d
    head, _, body = data.partition(b"\r\n\r\n")
    n = int([ln.split(b":")[1] for ln in head.split(b"\r\n")
             if ln.lower().startswith(b"content-length")][0])
    while len(body) < n:
        d = s.recv(4096)
        assert d, "closed in the body"
        body += d
    assert len(body) == n
    return head.split(b" ")[1]


def test_slowloris_cut_and_api_responsive(cluster):
    m = cluster.master(extra=["--http-request-timeout", "2"])
    # A kept-alive client whose first request came in time is not cut when idle.
    keep = conn(m)
    assert ask(keep) == b"200"
    slow = []
    for i in range(20):
        s = conn(m, src="127.0.0.2")
        s.sendall(b"GET /v2/apps HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    t0 = time.monotonic()
    # Trickle one header byte per 0.3 s on each: never a complete request.
    cut = set()
    while time.monotonic() - t0 < 8 and len(cut) < len(slow):
        for i, s in enumerate(slow):
            if i in cut:
                continue
            try:
                s.sendall(b"X")
            except OSError:
                cut.add(i)
        # The API answers meanwhile.
        r = requests.get(m.url + "/v2/info", timeout=2)
        assert r.status_code == 200
        time.sleep(0.3)
    for i, s in enumerate(slow):
        if i not in cut:
            assert closed_by_peer(s, 0.5), "slowloris connection %d not cut" % i
    took = time.monotonic() - t0
    assert 1.5 < took < 6, took
    assert ask(keep) == b"200"  # idle past the timeout, still served
    assert "no complete request within 2s" in m.stderr_text()
    assert m.alive()


def test_per_client_and_total_caps(cluster):
    m = cluster.master(extra=["--http-max-connections-per-client", "5",
                              "--http-max-connections", "8"])
    held = [conn(m, src="127.0.0.2") for _ in range(5)]
    for s in held:
        assert ask(s) == b"200"
    extra = conn(m, src="127.0.0.2")
    extra.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    extra.settimeout(5)
    try:
        while True:
            d = extra.recv(4096)
            if not d:
                break
            data += d
    except ConnectionResetError:
        pass
    assert data.startswith(b"HTTP/1.1 503"), data
    assert b"Too many connections" in data
    # Another address is served meanwhile.
    other = conn(m, src="127.0.0.3")
    assert ask(other) == b"200"
    # 5 + 1 = 6 open (and maybe the readiness probe's): at most two more fit in all, then
    # one from yet another address is refused.
    more, refused = [], None
    for i in range(4):
        s = conn(m, src="127.0.0.%d" % (4 + i))
        try:
            assert ask(s) == b"200"
            more.append(s)
        except (AssertionError, OSError):
            refused = i
            break
    assert refused is not None and len(more) <= 2, (refused, len(more))
    # A slot freed is reusable (once the sweep, each second, has noticed).
    held.pop().close()

    def fits():
        s = conn(m, src="127.0.0.2")
        try:
            return ask(s) == b"200"
        except (AssertionError, OSError):
            return False
        finally:
            s.close()
    wait_until(fits, timeout=10, what="a freed slot reused")
    assert "refused: too many from it" in m.stderr_text()


def test_bad_limit_flags(cluster):
    import subprocess
    from conftest import berth_bin
    for args in (["--http-max-connections", "0"], ["--http-max-connections-per-client", "x"],
                 ["--http-request-timeout", "0"]):
        p = subprocess.run([berth_bin(), "master", "--http", "127.0.0.1:0"] + args,
                           capture_output=True, text=True, timeout=20)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
