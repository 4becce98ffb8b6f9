"""A custom executor of `berth agent --default-user nobody` (docs/security.md, "Tasks kept
apart"): a v1 framework's executor runs as nobody (through util-linux's setpriv) in a sandbox
given to nobody (0700), speaks the executor API and finishes its tasks; what the fetcher
brought into its sandbox (its `uris`) is nobody's."""
import os
import pwd
import sys
import tarfile

import pytest

from mesos_client import Framework
from test_custom_executor import EXECUTOR, sandbox, task
from test_executor_uris import executor_info as uris_executor_info
from test_executor_uris import task as uris_task


def test_a_custom_executor_runs_as_the_default_user(cluster):
    if os.geteuid() != 0:
        pytest.skip("--default-user needs root")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    cluster.master()
    a = cluster.agent(extra=["--default-user", "nobody"])
    fw = Framework(cluster.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    r = fw.accept([o["id"]["value"]], [task("u1", o, "eu")])
    assert r.status_code == 202, r.text
    st = fw.wait_update("u1", "TASK_RUNNING")
    assert st["source"] == "SOURCE_EXECUTOR"
    fw.wait_update("u1", "TASK_FINISHED")
    box = sandbox(a, fw, "eu")
    st = box.stat()
    assert st.st_uid == nobody.pw_uid and (st.st_mode & 0o777) == 0o700
    # Written by the executor itself: it ran as nobody.
    assert (box / "env.json").stat().st_uid == nobody.pw_uid
    assert (box / "stdout").stat().st_uid == nobody.pw_uid


def test_an_executors_fetched_uris_are_the_default_users(cluster):
    if os.geteuid() != 0:
        pytest.skip("--default-user needs root")
    nobody = pwd.getpwnam("nobody")
    cluster.master()
    a = cluster.agent(extra=["--default-user", "nobody"])
    src = cluster.workdir / "xuris"
    src.mkdir(exist_ok=True)
    (src / "hello.txt").write_text("hello\n")
    with tarfile.open(src / "payload.tar.gz", "w:gz") as tf:
        tf.add(src / "hello.txt", arcname="data/hello.txt")
    run = src / "run-exec.sh"
    # The executor (as nobody) writes into the directory the fetcher extracted.
    run.write_text("#!/bin/sh\nset -e\necho more >> data/hello.txt\nexec %s %s\n"
                   % (sys.executable, EXECUTOR))
    os.chmod(run, 0o644)
    uris = [{"value": "file://%s" % (src / "payload.tar.gz"), "extract": True},
            {"value": str(run), "executable": True, "extract": False}]
    fw = Framework(cluster.m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    r = fw.accept([o["id"]["value"]],
                  [uris_task("f1", o, uris_executor_info("fu", "./run-exec.sh", uris))])
    assert r.status_code == 202, r.text
    st = fw.wait_update("f1", ["TASK_FINISHED", "TASK_FAILED"], timeout=30)
    assert st["state"] == "TASK_FINISHED", st
    box = sandbox(a, fw, "fu")
    assert (box / "data" / "hello.txt").read_text() == "hello\nmore\n"
    for p in (box / "data", box / "data" / "hello.txt", box / "run-exec.sh",
              box / "payload.tar.gz"):
        assert p.stat().st_uid == nobody.pw_uid, p
