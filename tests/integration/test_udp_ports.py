"""UDP port mappings in BRIDGE networking (docs/isolation.md, "Networking"): Marathon's
`protocol: "udp"` and `"udp,tcp"` relayed from the assigned host port into the container's
network namespace, replies going back to each client, tested with a real UDP echo server (a
static program the test builds into a busybox image)."""
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from helpers import wait_until
from test_images import cluster, docker_app, layout, need, sh, stdout_has  # noqa: F401

SRC = Path(__file__).parent / "data" / "udpecho.c"


@pytest.fixture(scope="module")
def udp_layout(layout, tmp_path_factory):
    """bbimg:udp: base plus /bin/udpecho."""
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build the echo server")
    d = tmp_path_factory.mktemp("udp")
    exe = d / "udpecho"
    p = subprocess.run(["gcc", "-static", "-O2", "-o", str(exe), str(SRC)],
                       capture_output=True, text=True)
    if p.returncode:
        pytest.skip("cannot build a static program: %s" % p.stderr[-300:])
    bundle = d / "unpacked"
    sh("umoci", "unpack", "--image", "%s:base" % layout, str(bundle))
    shutil.copy(exe, bundle / "rootfs" / "bin" / "udpecho")
    sh("umoci", "repack", "--image", "%s:udp" % layout, str(bundle))
    return layout


def udp_ask(port, data, sock=None, timeout=1.0):
    s = sock or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(data, ("127.0.0.1", port))
        return s.recvfrom(4096)[0]
    except OSError:
        return None
    finally:
        if sock is None:
            s.close()


def tcp_ask(port, data):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(data)
            return s.recv(4096)
    except OSError:
        return None


def test_udp_and_udp_tcp_mappings_reach_the_container(cluster, udp_layout):
    need()
    cluster.master()
    a = cluster.agent()
    from test_images import berth_image
    rc, _, err = berth_image("import", "--store", str(a.work_dir / "images"), str(udp_layout))
    assert rc == 0, err
    app = docker_app("/udp", "bbimg:udp",
                     'echo "p0=$PORT0 p5353=$PORT_5353 p7000=$PORT_7000"; '
                     "exec udpecho 5353 7000", network="BRIDGE")
    app["container"]["portMappings"] = [
        {"containerPort": 5353, "hostPort": 0, "protocol": "udp"},
        {"containerPort": 7000, "hostPort": 0, "protocol": "udp,tcp", "name": "both"}]
    r = cluster.m.api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    assert [m["protocol"] for m in r.json()["container"]["portMappings"]] == ["udp", "udp,tcp"]
    t = cluster.m.api.wait_running("/udp", 1, timeout=60)[0]
    p_udp, p_both = t["ports"]
    assert "p0=%d p5353=%d p7000=%d" % (p_udp, p_udp, p_both) in \
        stdout_has(cluster, t, "p0=")
    stdout_has(cluster, t, "listening")
    assert wait_until(lambda: udp_ask(p_udp, b"hello"), 20,
                      what="a UDP reply through the mapping") == b"udp:hello"
    # Two clients at once: each gets its own replies (a session per client address).
    c1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(20):
            assert udp_ask(p_udp, b"one%d" % i, c1) == b"udp:one%d" % i
            assert udp_ask(p_udp, b"two%d" % i, c2) == b"udp:two%d" % i
    finally:
        c1.close()
        c2.close()
    # "udp,tcp": the same host port relays both.
    assert wait_until(lambda: udp_ask(p_both, b"x"), 10, what="UDP on udp,tcp") == b"udp:x"
    assert wait_until(lambda: tcp_ask(p_both, b"y"), 10, what="TCP on udp,tcp") == b"tcp:y"
    # The UDP-only mapping has no TCP relay, and the container's own port is not the host's.
    assert tcp_ask(p_udp, b"z") is None
    assert udp_ask(5353, b"nothing", timeout=0.3) is None


def test_bad_protocol_is_refused(cluster):
    cluster.master()
    app = docker_app("/badproto", "bbimg:udp", "true", network="BRIDGE")
    app["container"]["portMappings"] = [{"containerPort": 53, "protocol": "sctp"}]
    r = cluster.m.api.post("/v2/apps", app)
    assert r.status_code == 422, r.text
    assert any("protocol" in d["errors"][0] for d in r.json()["details"]), r.json()
