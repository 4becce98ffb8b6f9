"""A /v2/services watcher that never reads is cut off at its bound (--services-watch-buffer)
while the master goes on answering everyone else (docs/dns.md)."""
import socket
import time

import requests

from helpers import app_def, port_range, wait_until

APP = "/slow/" + "w" * 120  # long ids and many ports: big events, the bound is hit sooner


def test_watcher_that_never_reads_is_cut_off(cluster):
    m = cluster.master(extra=["--services-watch-buffer", "4096"])
    lo, hi = port_range(400)  # 8 instances x 40 ports a cycle: more bytes per turn, cut sooner
    cluster.agent(resources="cpus(*):4; mem(*):4096; disk(*):10000; ports(*):[%d-%d]" % (lo, hi))
    app = app_def(APP, "exec sleep 300", instances=0,
                  portDefinitions=[{"port": 0} for _ in range(40)])
    assert m.api.post("/v2/apps", app).status_code == 201
    host, port = m.url.split("//")[1].split(":")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)  # before connect: small window
    s.connect((host, int(port)))
    s.sendall(("GET /v2/services%s?watch=true HTTP/1.1\r\nHost: x\r\n\r\n" % APP).encode())
    try:
        deadline = time.monotonic() + 240
        n = 0
        while "does not read" not in m.stderr_text():
            assert time.monotonic() < deadline, "the watcher was never cut off"
            n = 8 if n == 0 else 0
            r = m.api.put("/v2/apps%s?force=true" % APP, {"instances": n})
            assert r.status_code in (200, 201), r.text
            # The master stays responsive meanwhile: an answer within 2 s (a loaded CI machine).
            t0 = time.monotonic()
            assert requests.get(m.url + "/v2/services" + APP, timeout=5).status_code == 200
            assert time.monotonic() - t0 < 2.0
            if n:
                m.api.wait_running(APP, 8, timeout=60)
            else:
                wait_until(lambda: not m.api.tasks(APP), 30, what="scaled to 0")
        # Cut off: the connection ends (no terminating chunk) once what was sent is read.
        s.settimeout(10)
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        assert data.startswith(b"HTTP/1.1 200")
        assert not data.endswith(b"0\r\n\r\n")
        assert b"endpoint_added" in data
        # And the master goes on: a new watcher gets its first event.
        w = requests.get(m.url + "/v2/services%s?watch=true" % APP, stream=True, timeout=10)
        first = next(w.iter_lines(decode_unicode=True))
        assert first == "event: endpoints"
        w.close()
    finally:
        s.close()
