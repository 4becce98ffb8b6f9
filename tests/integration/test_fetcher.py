"""The fetcher: Marathon's `fetch`/`uris` and Mesos's CommandInfo.uris downloaded into the
sandbox before the task starts (berth-fetcher), from an HTTP server the test runs on
loopback; archives extracted, `executable` honoured, a failure reported TASK_FAILED with
REASON_FETCHER_FAILED naming the URL."""
import functools
import http.server
import io
import os
import tarfile
import threading

import pytest

from helpers import app_def, current_tag, wait_until
from mesos_client import Framework, command_task


@pytest.fixture
def files(tmp_path):
    """Serves tmp_path/www over HTTP on loopback; yields (dir, base URL)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield www, "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def make_tgz(path, members):
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


def test_fetch_tarball_and_executable_into_the_sandbox(one, files):
    www, base = files
    make_tgz(www / "site.tgz", {"site/index.html": b"<h1>hi</h1>\n"})
    (www / "run.sh").write_text("#!/bin/sh\necho ran > ran.txt\n")
    (www / "data.bin").write_bytes(b"\x00\x01payload")
    app = app_def("/fetchy", "./run.sh && cat site/index.html > copied.html && exec sleep 3600",
                  fetch=[{"uri": base + "/site.tgz"},
                         {"uri": base + "/run.sh", "executable": True},
                         {"uri": base + "/data.bin", "outputFile": "renamed.bin",
                          "extract": False}])
    assert one.m.api.post("/v2/apps", app).status_code == 201
    t = one.m.api.wait_running("/fetchy", 1)[0]
    sb = one.a.work_dir / "sandboxes" / t["id"]
    wait_until(lambda: (sb / "copied.html").exists() and (sb / "copied.html").read_text(),
               10, what="the task using what was fetched")
    assert (sb / "copied.html").read_text() == "<h1>hi</h1>\n"
    assert (sb / "ran.txt").read_text() == "ran\n"
    assert os.access(sb / "run.sh", os.X_OK)
    assert (sb / "site.tgz").exists()
    assert (sb / "renamed.bin").read_bytes() == b"\x00\x01payload"


def test_deprecated_uris_are_fetched_and_extracted(one, files):
    www, base = files
    make_tgz(www / "conf.tar.gz", {"conf/app.conf": b"port=1\n"})
    app = app_def("/uris", "cat conf/app.conf > seen && exec sleep 3600",
                  uris=[base + "/conf.tar.gz"])
    assert one.m.api.post("/v2/apps", app).status_code == 201
    t = one.m.api.wait_running("/uris", 1)[0]
    sb = one.a.work_dir / "sandboxes" / t["id"]
    wait_until(lambda: (sb / "seen").exists() and (sb / "seen").read_text() == "port=1\n", 10,
               what="extracted file used")


def test_fetch_failure_is_reported_with_the_fetcher_reason(one, files):
    www, base = files
    url = base + "/missing.tgz"
    app = app_def("/nofile", "exec sleep 3600", fetch=[{"uri": url}], backoffSeconds=600)
    assert one.m.api.post("/v2/apps", app).status_code == 201
    f = wait_until(lambda: one.m.api.app("/nofile").get("lastTaskFailure"), 20,
                   what="lastTaskFailure")
    assert f["state"] == "TASK_FAILED"
    assert f["message"].startswith("Failed to fetch '%s': " % url), f
    assert "404" in f["message"], f
    assert one.m.api.delete("/v2/apps/nofile").status_code == 200
    # The v1 scheduler API: CommandInfo.uris, and the reason in the UPDATE.
    fw = Framework(one.m.url, name="fetch")
    fw.subscribe()
    o = wait_until(lambda: [x for x in fw.wait_offers()
                            if sum(r["scalar"]["value"] for r in x["resources"]
                                   if r["name"] == "mem") >= 32], 20, what="an offer")[0]
    ti = command_task("f1", o, "exec sleep 3600", env={"ITEST_TAG": os.environ.get(
        "ITEST_TAG", "")})
    ti["command"]["uris"] = [{"value": base + "/also-missing.txt", "extract": False}]
    assert fw.accept([o["id"]["value"]], [ti]).status_code == 202
    st = fw.wait_update("f1", ["TASK_FAILED", "TASK_RUNNING"], timeout=20)
    assert st["state"] == "TASK_FAILED", st
    assert st["reason"] == "REASON_FETCHER_FAILED", st
    assert "also-missing.txt" in st["message"], st


WEB_ROOT = "/var/lib/rexray/volumes"
STATIC_SERVER = """#!/bin/sh
# Stands in for the seed's statichttpserver download: -port=N -path=DIR.
for a in "$@"; do
  case "$a" in -port=*) port=${a#-port=} ;; -path=*) dir=${a#-path=} ;; esac
done
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory "$dir"
"""


def test_seed_002_web_json_runs_as_written_uris_included(cluster, files):
    """The seed document 002's web.json exactly as the walkthrough writes it (uris, cmd,
    resources, constraints, DVDI env), except that its one URI points at the test's own
    server on loopback (no outside network here), serving a stand-in statichttpserver."""
    import requests
    import shutil
    import fcntl
    www, base = files
    (www / "statichttpserver").write_text(STATIC_SERVER)
    # test_volumes.py's seed test uses the same volume directory; suites run side by side.
    lockf = open("/tmp/berth-itest-webdata.lock", "w")
    fcntl.flock(lockf, fcntl.LOCK_EX)
    shutil.rmtree(WEB_ROOT + "/webdata", ignore_errors=True)
    cluster.master()
    plug = cluster.volume_plugin(root=WEB_ROOT, driver="rexray")
    cluster.agent(extra=["--volume-plugin-dir", str(plug.plugin_dir)])
    app = {
        "id": "webserver",
        "uris": [base + "/statichttpserver"],
        "cmd": "echo 'Hello, YOUR_NAME_HERE' $(cat /var/lib/rexray/volumes/webdata/readme.txt"
               " | wc -l) >> /var/lib/rexray/volumes/webdata/readme.txt && chmod u+x "
               "statichttpserver &&  ./statichttpserver -port=$PORT "
               "-path=/var/lib/rexray/volumes/webdata",
        "mem": 16, "cpus": 0.1, "instances": 1,
        "constraints": [["hostname", "UNIQUE"]],
        "env": {"DVDI_VOLUME_NAME": "webdata",
                "DVDI_VOLUME_OPTS": "size=5,iops=150,volumetype=io1,newfstype=xfs,"
                                    "overwritefs=false",
                "DVDI_VOLUME_DRIVER": "rexray",
                "ITEST_TAG": current_tag()},  # (so that teardown finds its processes)
    }
    try:
        assert cluster.m.api.post("/v2/apps", app).status_code == 201
        t = cluster.m.api.wait_running("/webserver", 1)[0]
        r = wait_until(lambda: (lambda r: r if r.status_code == 200 else None)(
            requests.get("http://127.0.0.1:%d/readme.txt" % t["ports"][0], timeout=5)),
            15, what="readme.txt served by the fetched server")
        assert r.text.startswith("Hello, YOUR_NAME_HERE 0"), r.text
        assert cluster.m.api.delete("/v2/apps/webserver").status_code == 200
    finally:
        shutil.rmtree(WEB_ROOT + "/webdata", ignore_errors=True)
        for d in (WEB_ROOT, os.path.dirname(WEB_ROOT)):
            try:
                os.rmdir(d)
            except OSError:
                pass
        lockf.close()
