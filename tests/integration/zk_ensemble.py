"""A real ZooKeeper ensemble on loopback for tests (Debian's `zookeeper` package).

Each node is `java -cp /etc/zookeeper/conf-less classpath QuorumPeerMain zoo.cfg` with its own
data dir, myid, client port and quorum/election ports, all on 127.0.0.1. Nodes can be
stopped (SIGKILL) and started again one by one to lose and regain quorum.

Use the `zk_ensemble` fixture (3 nodes) or ZkEnsemble(dir, n) directly; .connect is the
"h1:p1,h2:p2,h3:p3" string, .url(path) the zk:// URL berth takes.
"""
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from helpers import free_port

ZK_JAR = "/usr/share/java/zookeeper.jar"
JAVA = shutil.which("java")
MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain"

available = bool(JAVA) and os.path.exists(ZK_JAR)
skip_reason = "ZooKeeper not installed (Debian package zookeeper: java and %s)" % ZK_JAR


def four_letter(port, cmd="srvr", timeout=1.0):
    """Sends a four-letter word to a node; its answer, or "" when it does not answer."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(cmd.encode())
            s.shutdown(socket.SHUT_WR)
            out = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                out += b
            return out.decode(errors="replace")
    except OSError:
        return ""


class ZkNode:
    def __init__(self, ens, myid):
        self.ens = ens
        self.myid = myid
        self.dir = ens.root / ("zk%d" % myid)
        self.client_port = free_port()
        self.quorum_port = free_port()
        self.election_port = free_port()
        self.p = None

    def write_config(self):
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        (self.dir / "data" / "myid").write_text("%d\n" % self.myid)
        lines = [
            "tickTime=200",
            "initLimit=50",
            "syncLimit=25",
            # Sessions from 2 to 40 ticks (0.4 s to 8 s): tests use short timeouts.
            "minSessionTimeout=400",
            "maxSessionTimeout=30000",
            "dataDir=%s" % (self.dir / "data"),
            "clientPort=%d" % self.client_port,
            "clientPortAddress=%s" % self.ens.client_addr,
            "4lw.commands.whitelist=srvr,ruok,stat,mntr",
            "admin.enableServer=false",
            "preAllocSize=1024",
            "snapCount=10000",
        ]
        for n in self.ens.nodes:
            lines.append("server.%d=127.0.0.1:%d:%d" % (n.myid, n.quorum_port, n.election_port))
        (self.dir / "zoo.cfg").write_text("\n".join(lines) + "\n")
        (self.dir / "log4j.properties").write_text(
            "log4j.rootLogger=INFO, F\n"
            "log4j.appender.F=org.apache.log4j.FileAppender\n"
            "log4j.appender.F.File=%s\n"
            "log4j.appender.F.layout=org.apache.log4j.PatternLayout\n"
            "log4j.appender.F.layout.ConversionPattern=%%d %%p %%c{1}: %%m%%n\n"
            % (self.dir / "zk.log"))

    def start(self):
        assert self.p is None or self.p.poll() is not None
        cp = "%s:%s" % (self.dir, ZK_JAR)
        args = [JAVA, "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dzookeeper.log.dir=%s" % self.dir,
                "-Dlog4j.configuration=file:%s" % (self.dir / "log4j.properties"),
                "-Dzookeeper.admin.enableServer=false",
                # berth's store takes values up to 1 MiB (docs/operations.md).
                "-Djute.maxbuffer=4194304",
                "-cp", cp, MAIN, str(self.dir / "zoo.cfg")]
        with open(self.dir / "stdout", "ab") as out:
            self.p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)

    def stop(self):
        """SIGKILL: a node's machine dies."""
        if self.p and self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait(10)

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def mode(self):
        """'leader', 'follower', 'standalone' or None (not serving)."""
        out = four_letter(self.client_port)
        for line in out.splitlines():
            if line.startswith("Mode:"):
                return line.split(":", 1)[1].strip()
        return None


class ZkEnsemble:
    def __init__(self, root, n=3, client_addr="127.0.0.1"):
        # client_addr: where the nodes take clients (0.0.0.0 for masters in a network
        # namespace, test_ha_partition.py); the quorum stays on loopback.
        self.client_addr = client_addr
        self.root = Path(root)
        self.nodes = []
        for i in range(1, n + 1):
            self.nodes.append(ZkNode(self, i))
        for node in self.nodes:
            node.write_config()

    @property
    def connect(self):
        return ",".join("127.0.0.1:%d" % n.client_port for n in self.nodes)

    def url(self, path="/berth"):
        return "zk://%s%s" % (self.connect, path)

    def start(self, timeout=60):
        for node in self.nodes:
            node.start()
        self.wait_quorum(timeout)
        return self

    def wait_quorum(self, timeout=60):
        """Waits until every live node serves (one leader, the rest followers)."""
        deadline = time.monotonic() + timeout
        while True:
            modes = [n.mode() for n in self.nodes if n.alive()]
            if modes and all(modes) and modes.count("leader") == 1:
                return
            if time.monotonic() > deadline:
                raise AssertionError("ZooKeeper ensemble not serving after %ss: %r (logs in %s)"
                                     % (timeout, modes, self.root))
            dead = [n.myid for n in self.nodes if n.p is not None and n.p.poll() is not None]
            if len(dead) == len(self.nodes):
                raise AssertionError("every ZooKeeper node exited (logs in %s)" % self.root)
            time.sleep(0.1)

    def stop(self):
        for node in self.nodes:
            node.stop()


@pytest.fixture
def zk_ensemble(tmp_path_factory):
    if not available:
        pytest.skip(skip_reason)
    ens = ZkEnsemble(tmp_path_factory.mktemp("zk"), 3)
    try:
        ens.start()
        yield ens
    finally:
        ens.stop()
