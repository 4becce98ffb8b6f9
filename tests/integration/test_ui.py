"""The console (docs/console.md): its assets as the master serves them, and the page itself
in a real browser — Debian's chromium, headless, driven by tests/browser/console.test.mjs
(playwright-core from npm, which never downloads a browser).

Screenshots go to $BERTH_SCREENSHOTS when set (`make screenshots` sets docs/screenshots),
else into the test's work dir."""
import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from helpers import port_range

ROOT = Path(__file__).resolve().parents[2]
BROWSER_DIR = ROOT / "tests" / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def test_console_assets_served(cluster):
    m = cluster.master()
    for path in ("/", "/ui", "/ui/"):
        r = requests.get(m.url + path, timeout=10)
        assert r.status_code == 200, path
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert '<script type="module" src="/ui/main.js">' in r.text
        assert "Content-Security-Policy" in r.headers
    r = requests.get(m.url + "/ui/main.js", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/javascript; charset=utf-8"
    etag = r.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    r2 = requests.get(m.url + "/ui/main.js", headers={"If-None-Match": etag}, timeout=10)
    assert r2.status_code == 304 and r2.content == b"" and r2.headers["ETag"] == etag
    r3 = requests.get(m.url + "/ui/main.js", headers={"If-None-Match": '"other"'}, timeout=10)
    assert r3.status_code == 200 and r3.content == r.content
    css = requests.get(m.url + "/ui/console.css", timeout=10)
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"
    h = requests.head(m.url + "/ui/console.css", timeout=10)
    assert h.status_code == 200 and h.content == b""
    nf = requests.get(m.url + "/ui/nope.js", timeout=10)
    assert nf.status_code == 404 and nf.json() == {"message": "Not found: '/ui/nope.js'"}
    assert requests.post(m.url + "/ui/main.js", timeout=10).status_code == 405
    # Every module the page imports is served (nothing fetched from elsewhere).
    for name in ("api.js", "dom.js", "cluster.js", "apps.js", "appform.js", "why.js",
                 "deployments.js", "sandbox.js", "events.js", "jobs.js", "plots.js"):
        r = requests.get(m.url + "/ui/" + name, timeout=10)
        assert r.status_code == 200, name
        text = r.text.replace("`http://${t.host}", "").replace("'http://www.w3.org/2000/svg'", "")
        assert "http://" not in text, name  # the SVG namespace is a name, not a fetch


def _node_env():
    if not (Path(CHROMIUM).exists() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip("chromium is not installed (%s): the console's browser tests need Debian's "
                    "chromium package (scripts/install-deps.sh --test installs it)" % CHROMIUM)
    for tool in ("node", "npm"):
        assert shutil.which(tool), "%s is missing: scripts/install-deps.sh --test installs it" % tool
    with open(BROWSER_DIR / "package.json") as lockf:  # one `npm ci` at a time (pytest workers)
        fcntl.flock(lockf, fcntl.LOCK_EX)
        if not (BROWSER_DIR / "node_modules" / "playwright-core").exists():
            r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR,
                               env=dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1"),
                               capture_output=True, text=True, timeout=600)
            assert r.returncode == 0, "npm ci in tests/browser failed:\n" + r.stdout + r.stderr


def _run_browser(mode, url, shots, timeout, **extra_env):
    env = dict(os.environ, BERTH_URL=url, SCREENSHOT_DIR=str(shots), CHROMIUM=CHROMIUM,
               **extra_env)
    r = subprocess.run(["node", "console.test.mjs", mode], cwd=BROWSER_DIR, env=env,
                       capture_output=True, text=True, timeout=timeout)
    return r


def _shots(cluster):
    d = os.environ.get("BERTH_SCREENSHOTS")
    return Path(d).resolve() if d else cluster.workdir / "screenshots"


def test_console_in_browser(cluster, capsys):
    _node_env()
    lo, hi = port_range()
    dev = cluster.dev(extra=["--agent-attributes", "rack:r1", "--agent-resources",
                             "cpus(*):4; mem(*):4096; disk(*):4096; ports(*):[%d-%d]" % (lo, hi)])
    r = _run_browser("flows", dev.url, _shots(cluster), 400)
    with capsys.disabled():
        sys.stdout.write("\n" + r.stdout)
    assert r.returncode == 0, "browser test failed:\n" + r.stdout + r.stderr


def test_console_1000_apps(cluster, capsys):
    _node_env()
    m = cluster.master()
    r = _run_browser("load", m.url, _shots(cluster), 600)
    with capsys.disabled():
        sys.stdout.write("\n" + "".join(ln + "\n" for ln in r.stdout.splitlines()
                                        if ln.startswith("LOAD") or "created" in ln))
    assert r.returncode == 0, "browser load test failed:\n" + r.stdout + r.stderr
    assert "LOAD apps=1000" in r.stdout


def test_console_login(cluster, capsys):
    """A master with credentials: the page and its assets load without them, the API answers
    401, the page shows its login form, and then sends the credentials on every call and on
    the event stream."""
    _node_env()
    m = cluster.master(extra=["--http_credentials", "uiop:s3cret"])
    assert requests.get(m.url + "/", timeout=10).status_code == 200
    assert requests.get(m.url + "/ui/api.js", timeout=10).status_code == 200
    assert requests.get(m.url + "/v2/apps", timeout=10).status_code == 401
    assert requests.get(m.url + "/v2/events", timeout=10, stream=True).status_code == 401
    r = _run_browser("auth", m.url, _shots(cluster), 300, BERTH_AUTH="uiop:s3cret")
    with capsys.disabled():
        sys.stdout.write("\n" + r.stdout)
    assert r.returncode == 0, "browser login test failed:\n" + r.stdout + r.stderr
