"""Garbage collection of an agent's image store (docs/isolation.md, "The image store"):
`berth image gc` removes the images no running task uses, with the layers and blobs no
remaining image needs, and never what a running task's rootfs is made of; an agent with
--image-store-max-size collects by itself when a pull or import takes the store over its
bound, least recently used first."""
import os

from helpers import wait_until
from test_images import berth_image, cluster, docker_app, imported, layout, need, sh, \
    stdout_has  # noqa: F401


def listed(store):
    rc, out, err = berth_image("list", "--store", str(store))
    assert rc == 0, err
    return sorted(line.split("\t")[0] for line in out.splitlines() if line.strip())


def entries(d):
    return sorted(os.listdir(d)) if d.is_dir() else []


def test_gc_keeps_what_a_running_task_uses_and_removes_the_rest(cluster, layout):
    c = imported(cluster, layout)
    store = c.a.work_dir / "images"
    assert listed(store) == ["docker.io/library/bbimg:%s" % t for t in ("base", "bb", "del")]
    layers_before = entries(store / "layers")
    assert len(layers_before) == 2  # base's layer, and del's top layer
    app = docker_app("/gcuse", "bbimg:bb", "cat /inside-only; exec sleep 3600")
    assert c.m.api.post("/v2/apps", app).status_code == 201
    t = c.m.api.wait_running("/gcuse", 1, timeout=60)[0]
    stdout_has(c, t, "in the image")
    rc, out, err = berth_image("gc", "--store", str(store))
    assert rc == 0, err
    assert "removed 2 image(s), 1 layer(s)" in out and "kept 1 in use" in out, out
    assert listed(store) == ["docker.io/library/bbimg:bb"]
    # bb's layer (shared with base) stays: the running task's rootfs is an overlay of it.
    assert len(entries(store / "layers")) == 1
    rootfs = c.a.work_dir / "meta" / t["id"] / "bundle" / "rootfs"
    assert (rootfs / "inside-only").read_text() == "in the image\n"
    # The task goes: its image is collected too, and nothing is left.
    assert c.m.api.delete("/v2/apps/gcuse").status_code == 200
    wait_until(lambda: not (c.a.work_dir / "meta" / t["id"] / "bundle").exists(), 30,
               what="the bundle removed")
    rc, out, err = berth_image("gc", "--store", str(store))
    assert rc == 0, err
    assert "removed 1 image(s), 1 layer(s)" in out, out
    assert listed(store) == []
    assert entries(store / "layers") == [] and entries(store / "blobs" / "sha256") == []
    assert entries(store / "images") == []
    # Bad input: a specific error, nothing changed.
    rc, _, err = berth_image("gc", "--store", str(store), "--max-size", "lots")
    assert rc == 2 and "--max-size 'lots'" in err


def store_size(store):
    """What berth-image counts: blocks of blobs/, layers/, images/ and all below them."""
    total = 0
    for part in ("blobs", "layers", "images"):
        top = store / part
        total += os.lstat(top).st_blocks * 512
        for root, dirs, files in os.walk(top):
            for n in dirs + files:
                total += os.lstat(os.path.join(root, n)).st_blocks * 512
    return total


def test_gc_with_a_bound_goes_least_recently_used_first(cluster, layout):
    c = imported(cluster, layout)
    store = c.a.work_dir / "images"
    # A task runs on bb (its image is touched as used now); base was used before del.
    app = docker_app("/gclru", "bbimg:bb", "exec sleep 3600")
    assert c.m.api.post("/v2/apps", app).status_code == 201
    c.m.api.wait_running("/gclru", 1, timeout=60)
    assert c.m.api.delete("/v2/apps/gclru").status_code == 200
    wait_until(lambda: not [d for d in (c.a.work_dir / "meta").iterdir()
                            if (d / "bundle").exists()], 30, what="the bundle removed")
    ids = {}
    for ref in os.listdir(store / "refs"):
        ids[ref.rsplit(":", 1)[1]] = (store / "refs" / ref).read_text().strip()[7:]
    os.utime(store / "images" / ids["base"], (1_000_000_000, 1_000_000_000))
    os.utime(store / "images" / ids["del"], (1_000_001_000, 1_000_001_000))
    # One byte under the store's size: removing the least recently used image is enough.
    rc, out, err = berth_image("gc", "--store", str(store), "--max-size",
                               str(store_size(store) - 1))
    assert rc == 0, err
    assert "removed 1 image(s)" in out, out
    assert listed(store) == ["docker.io/library/bbimg:bb", "docker.io/library/bbimg:del"]
    # Its layer is bb's too: only its record and config went.
    assert len(entries(store / "layers")) == 2


def test_agent_bound_collects_after_an_import(cluster, layout, tmp_path):
    """An agent whose store is bounded at 1 byte: the import of the image directory (three
    images) takes it over at once; the images no task uses go at the end of the bundle, the
    task's own stays and the task runs."""
    need()
    images = tmp_path / "imgdir"
    images.mkdir()
    sh("tar", "-C", str(layout), "-cf", str(images / "bbimg.tar"), ".")
    cluster.master()
    a = cluster.agent(extra=["--image-dir", str(images), "--image-store-max-size", "1"])
    store = a.work_dir / "images"
    assert (store / "gc.max").read_text() == "1\n"
    assert cluster.m.api.post("/v2/apps", docker_app("/bounded", "bbimg:bb")).status_code \
        == 201
    t = cluster.m.api.wait_running("/bounded", 1, timeout=60)[0]
    assert "args=e0 c1 c2" in stdout_has(cluster, t, "args=")
    err = a.work_dir / "sandboxes" / t["id"] / "stderr"
    wait_until(lambda: "the image store was over its bound" in err.read_text(), 10,
               what="the collection noted in the task's stderr")
    assert listed(store) == ["docker.io/library/bbimg:bb"]


def test_agent_refuses_a_bad_bound(cluster):
    cluster.master()
    a = cluster.agent(extra=["--image-store-max-size", "much"], wait=False)
    assert a.wait_exit() != 0
    a.expect_dead = True
    assert "--image-store-max-size 'much'" in a.stderr_text()
