"""kill -9 real node processes: what they leave behind must go away with them."""

from __future__ import annotations

import os
import time

POOL_USER = r"""
import sys, time
from p2pnet.identity import Identity
from p2pnet.store import Store
from p2pnet.verify import VerifyPool

if __name__ == "__main__":  # the spawned workers import this file too
    who = Identity.generate()
    with Store(":memory:") as s:
        s.create_network(who, {"name": "ทดสอบ", "kind": "natural"})
        batch = [s.append(who, "leave", {"reason": str(i)}) for i in range(600)]
    pool = VerifyPool(2)
    assert all(pool(batch))
    print(" ".join(str(p) for p in pool._pool._processes), flush=True)
    time.sleep(600)
"""


def test_verify_workers_exit_when_their_node_is_killed(tmp_path):
    """kill -9 gives a node no chance to shut its verify pool down; the workers must notice."""
    import subprocess
    import sys

    from .cluster import _alive

    script = tmp_path / "pool_user.py"
    script.write_text(POOL_USER)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    workers = [int(p) for p in proc.stdout.readline().split()]
    proc.kill()
    proc.wait()
    proc.stdout.close()  # not communicate(): the workers hold the pipe's other end too
    assert len(workers) == 2
    deadline = time.monotonic() + 20  # a bound on waiting, not a timing claim
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in workers if _alive(p)]
    for p in left:
        os.kill(p, 9)
    assert not left, "verify workers outlived their node"
