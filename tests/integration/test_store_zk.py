"""The store's unit tests (tests/unit/test-store.c) on a real 3-node ZooKeeper ensemble:
versions, limits, prefix walks, transactions as one zoo_multi, odd keys, and acknowledged
writes surviving a SIGKILL of the writer."""
import os
import subprocess
from pathlib import Path

import pytest

from conftest import berth_bin
from zk_ensemble import zk_ensemble  # noqa: F401 (fixture)


def store_test_bin():
    b = Path(berth_bin()).parent / "src" / "store" / "test-store"
    if not b.exists():
        pytest.skip("%s not built (cmocka missing?)" % b)
    return str(b)


def test_store_contract_on_zookeeper(zk_ensemble):  # noqa: F811
    env = dict(os.environ, BERTH_TEST_STORE_URL=zk_ensemble.url("/berth-unit"))
    p = subprocess.run([store_test_bin()], env=env, capture_output=True, timeout=240)
    out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    assert p.returncode == 0, out
    assert "PASSED" in out and "FAILED" not in out and "SKIPPED" not in out, out
