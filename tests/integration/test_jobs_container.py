"""Chronos jobs with a `container` (docs/jobs.md, "Containers"): the run executes in the image
through the apps' container support (docs/isolation.md, "Images"), with Chronos's flat
`{"type", "image", "network", "forcePullImage", "parameters"}` translated by model/container
like Marathon's. The image is test_images.py's tiny busybox OCI layout, imported with
`berth image import`. Checked: the command sees the image's files and Env and the job's own
variables; success and error counters and the run history; a missing image fails the run;
bad containers and per-instance jobs with a container are 400s in Chronos's shape.

The runs need root, crun, umoci and busybox-static (scripts/install-deps.sh --test); they
skip, saying which, without them. The validation test needs none of them."""
import pytest

from helpers import wait_until
from test_images import containers_under, imported, layout, mounts_under  # noqa: F401

P = "/scheduler"
V1 = "/v1/scheduler"


def job(api, name):
    r = api.get(P + "/job/" + name)
    assert r.status_code == 200, r.text
    return r.json()


def wait_job(api, name, pred, timeout=60.0):
    return wait_until(lambda: (lambda j: j if pred(j) else None)(job(api, name)), timeout,
                      what="job %s" % name)


def bad(r, words):
    assert r.status_code == 400, (r.status_code, r.text)
    b = r.json()
    assert b["status"] == "Bad Request", b
    assert words in b["message"], b["message"]


def test_bad_containers_are_400_naming_the_field(shared_master):
    api = shared_master.m.api
    base = {"name": "c", "command": "true", "schedule": "R/2030-01-01T00:00:00Z/PT1H"}
    cases = [
        ("nope", "'container' must be an object"),
        ({"type": "DOCKER"}, "'container.image' is required"),
        ({"image": 5}, "'container.image' is required"),
        ({"type": "RKT", "image": "bbimg:bb"}, "'container.type'"),
        ({"image": "bbimg:bb", "network": "USER"}, "'container.network': 'USER' networking"),
        ({"image": "bbimg:bb", "network": "SPACE"}, "'container.network'"),
        ({"image": "bbimg:bb", "forcePullImage": "maybe"},
         "'container.forcePullImage' must be a boolean"),
        ({"image": "bbimg:bb", "parameters": [{"key": "privileged", "value": "true"}]},
         "'container.parameters[0]': parameter 'privileged' is not supported"),
        ({"image": "bbimg:bb", "parameters": [{"key": "env"}]}, "'container.parameters[0]'"),
        ({"image": "bbimg:bb", "volumes": [{"containerPath": "/d", "hostPath": "/tmp",
                                            "mode": "RW"}]},
         "'container.volumes': host-path volumes are not supported"),
        ({"image": "x" * 401}, "'container.image': is longer than 400 characters"),
    ]
    for ct, words in cases:
        bad(api.post(V1 + "/iso8601", dict(base, container=ct)), words)
        bad(api.post(P + "/dependency", dict(base, name="d", parents=["c"], container=ct)),
            words)
    assert api.get(P + "/jobs").json() == []  # nothing was created
    # a per-instance job runs inside its instances: it cannot have a container of its own
    bad(api.post(P + "/iso8601", dict(base, app="/db", perInstance=True,
                                      container={"type": "DOCKER", "image": "bbimg:bb"})),
        "'container' cannot be used with 'perInstance'")
    # good ones are kept as given (Chronos 2.x DOCKER, 3.x MESOS in lower case, an empty one)
    for name, ct in (("d2", {"type": "DOCKER", "image": "bbimg:bb", "network": "BRIDGE",
                             "forcePullImage": False, "volumes": [],
                             "parameters": [{"key": "env", "value": "A=1"}]}),
                     ("m3", {"type": "mesos", "image": "bbimg:bb"}),
                     ("none", {})):
        r = api.post(V1 + "/iso8601", dict(base, name=name, container=ct))
        assert r.status_code == 204, r.text
        assert job(api, name)["container"] == ct
    assert api.delete(P + "/jobs").status_code == 204


@pytest.fixture
def images(cluster, layout):  # noqa: F811
    """A master and an agent whose image store has bbimg:bb; at the end, every job's
    container gone and its rootfs unmounted before the harness stops the agent."""
    c = imported(cluster, layout)
    yield c
    wait_until(lambda: not mounts_under(c.workdir) and not containers_under(c.workdir), 30,
               what="the job containers deleted and their rootfs unmounted")


def run_sandbox(c, name, i=0):
    h = c.m.api.get("/api/berth/jobs/%s/history" % name).json()
    return h, c.a.work_dir / "sandboxes" / h["runs"][i]["taskId"]


def test_job_runs_in_its_image_with_counters_and_history(images):
    c = images
    api = c.m.api
    # /inside-only and /bin/busybox are the image's (the host has no /inside-only), FOO is
    # the image's Env, CHRONOS_JOB_NAME and MY_VAR are the job's, the sandbox is mounted.
    cmd = ('test -f /inside-only && test -x /bin/busybox && '
           'echo "foo=$FOO job=$CHRONOS_JOB_NAME my=$MY_VAR sb=$MESOS_SANDBOX" '
           '> "$MESOS_SANDBOX/proof"')
    assert api.post(V1 + "/iso8601", {
        "name": "in-image", "command": cmd, "schedule": "R1//PT1H", "retries": 0,
        "environmentVariables": [{"name": "MY_VAR", "value": "mine"}],
        "container": {"type": "DOCKER", "image": "bbimg:bb", "network": "HOST",
                      "forcePullImage": False, "volumes": []}}).status_code == 204
    j = wait_job(api, "in-image", lambda j: j["successCount"] == 1)
    assert j["errorCount"] == 0 and j["lastSuccess"] and j["lastError"] == ""
    h, sb = run_sandbox(c, "in-image")
    assert h["runs"][0]["result"] == "TASK_FINISHED", h
    assert (sb / "proof").read_text() == \
        "foo=image job=in-image my=mine sb=/mnt/mesos/sandbox\n"

    # BRIDGE (a network namespace of its own, no port mappings) and a docker parameter
    assert api.post(P + "/iso8601", {
        "name": "bridged", "schedule": "R1//PT1H", "retries": 0,
        "command": 'echo "param=$PARAM" > "$MESOS_SANDBOX/proof"',
        "container": {"type": "DOCKER", "image": "bbimg:base", "network": "BRIDGE",
                      "parameters": [{"key": "env", "value": "PARAM=p1"}]}}).status_code == 204
    wait_job(api, "bridged", lambda j: j["successCount"] == 1)
    _, sb = run_sandbox(c, "bridged")
    assert (sb / "proof").read_text() == "param=p1\n"

    # Chronos 3.x's MESOS type, a failing command in the image: an error, counted
    assert api.post(V1 + "/iso8601", {
        "name": "fails-inside", "schedule": "R1//PT1H", "retries": 0,
        "command": 'test -f /inside-only && echo reached > "$MESOS_SANDBOX/reached"; exit 3',
        "container": {"type": "MESOS", "image": "bbimg:bb"}}).status_code == 204
    j = wait_job(api, "fails-inside", lambda j: j["errorCount"] == 1)
    assert j["successCount"] == 0 and j["errorsSinceLastSuccess"] == 1 and j["lastError"]
    h, sb = run_sandbox(c, "fails-inside")
    assert h["runs"][0]["result"] == "TASK_FAILED", h
    assert (sb / "reached").read_text() == "reached\n"

    # an image that cannot be found or pulled fails the run (and its retry)
    assert api.post(P + "/iso8601", {
        "name": "no-image", "command": "true", "schedule": "R1//PT1H", "retries": 1,
        "container": {"type": "DOCKER", "image": "127.0.0.1:1/nosuch:1"}}).status_code == 204
    j = wait_job(api, "no-image", lambda j: j["errorCount"] == 1)
    assert j["successCount"] == 0
    h = api.get("/api/berth/jobs/no-image/history").json()
    assert h["runs"][-1]["attempts"] == 2 and h["runs"][-1]["result"] == "TASK_FAILED", h

    # run now: the same image again, a second success
    assert api.put(P + "/job/in-image").status_code == 204
    wait_job(api, "in-image", lambda j: j["successCount"] == 2)
