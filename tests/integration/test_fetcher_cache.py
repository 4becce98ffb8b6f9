"""The agent's fetcher cache (docs/isolation.md, "The fetcher"): Marathon's `fetch[].cache:
true` downloads a URI once per agent (requests counted on an HTTP server the test runs on
loopback); the cache is bounded by --fetcher-cache-size, least recently used out first, and
a file bigger than the bound is never kept."""
import collections
import functools
import http.server
import io
import os
import subprocess
import tarfile
import threading

import pytest

from helpers import app_def, wait_until


@pytest.fixture
def counted(tmp_path):
    """Serves tmp_path/www on loopback, counting GETs per path; yields (dir, base, counts)."""
    www = tmp_path / "www"
    www.mkdir()
    counts = collections.Counter()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            counts[self.path] += 1
            return super().do_GET()

        def log_message(self, *a):
            pass
    srv = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(www)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield www, "http://127.0.0.1:%d" % srv.server_address[1], counts
    srv.shutdown()
    srv.server_close()


def run_app(cluster, app_id, fetch, n=1):
    m = cluster.m
    app = app_def(app_id, "exec sleep 3600", instances=n, fetch=fetch)
    assert m.api.post("/v2/apps", app).status_code == 201, app
    ts = m.api.wait_running(app_id, n)
    return [cluster.a.work_dir / "sandboxes" / t["id"] for t in ts]


def cache_entries(cluster):
    d = cluster.a.work_dir / "fetch-cache"
    return sorted(p.read_text() for p in d.glob("*.uri"))


def test_second_task_does_not_download_again(cluster, counted):
    www, base, counts = counted
    cluster.master()
    cluster.agent()
    with tarfile.open(www / "tool.tgz", "w:gz") as tf:
        data = b"#!/bin/sh\necho tool\n"
        info = tarfile.TarInfo("tool/run.sh")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    (www / "conf.txt").write_text("v1\n")
    fetch = [{"uri": base + "/tool.tgz", "cache": True},
             {"uri": base + "/conf.txt", "cache": False}]
    sb1 = run_app(cluster, "/c1", fetch)[0]
    assert counts["/tool.tgz"] == 1 and counts["/conf.txt"] == 1
    # a second app, then two more instances: the cached URI is not downloaded again, the
    # uncached one is, each time; every sandbox gets its own copy, extracted
    sbs = run_app(cluster, "/c2", fetch) + run_app(cluster, "/c3", fetch, n=2)
    assert counts["/tool.tgz"] == 1, counts
    assert counts["/conf.txt"] == 4, counts
    for sb in [sb1] + sbs:
        assert (sb / "tool" / "run.sh").read_bytes() == data
        assert (sb / "tool.tgz").stat().st_ino != (sb1 / "tool.tgz").stat().st_ino or sb == sb1
    assert "copied from the agent's fetcher cache" in (sbs[0] / "stderr").read_text()
    assert cache_entries(cluster) == [base + "/tool.tgz"]


def test_the_bound_evicts_least_recently_used(cluster, counted):
    www, base, counts = counted
    cluster.master()
    cluster.agent(extra=["--fetcher-cache-size", "5000"])
    for name in ("a", "b", "c"):
        (www / name).write_bytes(name.encode() * 2000)
    (www / "big").write_bytes(b"x" * 6000)

    def fetch(name):
        return [{"uri": "%s/%s" % (base, name), "cache": True, "extract": False}]
    run_app(cluster, "/a1", fetch("a"))
    run_app(cluster, "/b1", fetch("b"))
    assert cache_entries(cluster) == [base + "/a", base + "/b"]
    run_app(cluster, "/a2", fetch("a"))  # a hit: a is now the most recently used
    assert counts["/a"] == 1
    run_app(cluster, "/c1", fetch("c"))  # 6000 > 5000: b, the least recently used, goes
    assert cache_entries(cluster) == [base + "/a", base + "/c"]
    run_app(cluster, "/b2", fetch("b"))  # downloaded again; a goes now
    assert counts["/b"] == 2 and counts["/a"] == 1 and counts["/c"] == 1
    assert cache_entries(cluster) == [base + "/b", base + "/c"]
    # bigger than the whole bound: the task gets it, the cache never keeps it
    sb = run_app(cluster, "/big1", fetch("big"))[0]
    sb2 = run_app(cluster, "/big2", fetch("big"))[0]
    assert counts["/big"] == 2
    assert (sb / "big").stat().st_size == (sb2 / "big").stat().st_size == 6000
    assert cache_entries(cluster) == [base + "/b", base + "/c"]
    total = sum(p.stat().st_size for p in (cluster.a.work_dir / "fetch-cache").glob("*.data"))
    assert total <= 5000


def test_bad_cache_size_is_refused(tmp_path):
    r = subprocess.run([os.environ.get("BERTH_BIN", "berth"), "agent", "--master",
                        "http://127.0.0.1:1", "--work-dir", str(tmp_path / "w"), "--http",
                        "127.0.0.1:0", "--fetcher-cache-size", "lots"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "--fetcher-cache-size 'lots': want bytes" in r.stderr
