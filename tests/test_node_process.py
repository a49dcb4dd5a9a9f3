"""Real node processes: writes from another process, SIGTERM, kill -9 and restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal

from p2pnet.store import Store

from .cluster import spawn_node
from .conftest import CHARTER
from .nodes import make_home, start, summary, wait_for


def spawn(home, prelude: str = ""):
    """A node process from ``home``; ``prelude``: Python run before p2pnet is imported."""
    return spawn_node(home, gossip_interval=0.2, fanout=2, prelude=prelude)


def write_activities(home, who, n, tag):
    with Store(home.db_file) as s:
        return [s.append(who, "activity", {"title": f"{tag} {i}", "kind": "meeting",
                                           "date": "2026-06-01"}).id for i in range(n)]  # fmt: skip


async def test_cli_writes_reach_peers_and_sigterm_is_clean(tmp_path):
    ha, wa = make_home(tmp_path, "a", charter=dict(CHARTER))
    with Store(ha.db_file) as s:
        network = s.network
    hb, wb = make_home(tmp_path, "b", network=network)
    proc, info = spawn(ha)
    b = await start(hb, wb)
    try:
        from p2pnet import peers
        from p2pnet.entries import now_ms

        await b.ctx.store.call(lambda s: peers.add(s, info["peer_url"], now=now_ms()))
        # another process (like the CLI) appends to A's store while A runs
        written = write_activities(ha, wa, 5, "บันทึกจาก CLI")
        await wait_for(
            lambda: b.ctx.store.call(lambda s: all(
                s.conn.execute("SELECT 1 FROM entries WHERE id=?", (i,)).fetchone() for i in written)),
            what="entries written beside the running node to reach B",
        )  # fmt: skip
    finally:
        await b.stop()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    out = (ha.path / "node.log").read_text()
    assert proc.returncode == 0, out
    assert "Traceback" not in out
    assert not ha.runtime_file.exists()
    with Store(ha.db_file) as s:
        assert s.integrity_check() == "ok"


async def test_kill9_and_restart_resumes(tmp_path):
    ha, wa = make_home(tmp_path, "a", charter=dict(CHARTER))
    with Store(ha.db_file) as s:
        network = s.network
    hb, wb = make_home(tmp_path, "b", network=network)
    b = await start(hb, wb)
    try:
        for round_ in range(3):
            proc, info = spawn(ha)
            await b.ctx.store.call(lambda s: s.conn.execute("DELETE FROM peers"))
            from p2pnet import peers
            from p2pnet.entries import now_ms

            await b.ctx.store.call(lambda s, u=info["peer_url"]: peers.add(s, u, now=now_ms()))
            # B writes a lot; A pulls it while we kill it mid-way
            for i in range(100):
                await b.ctx.store.call(lambda s, i=i, r=round_: s.append(wb, "activity", {
                    "title": f"รอบ {r} กิจกรรม {i}", "kind": "exchange", "date": "2026-07-01"}))  # fmt: skip
            await asyncio.sleep(0.3)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        proc, info = spawn(ha)
        await b.ctx.store.call(lambda s: s.conn.execute("DELETE FROM peers"))
        await b.ctx.store.call(lambda s: peers.add(s, info["peer_url"], now=now_ms()))
        try:

            async def same():
                with Store(ha.db_file) as s:
                    theirs = [(f.author, f.seq, f.head) for f in s.feeds()]
                return theirs == await summary(b)

            await wait_for(same, timeout=60, what="A to catch up after restarts")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        with Store(ha.db_file) as s:
            assert s.integrity_check() == "ok"
            assert s.count() == await b.ctx.store.call(lambda s2: s2.count())
            dup = s.conn.execute("SELECT count(*) - count(DISTINCT id) FROM entries").fetchone()[0]
            assert dup == 0
            # the derived tables agree with the log (nothing applied twice)
            acts = s.conn.execute("SELECT count(*) FROM activities").fetchone()[0]
            logged = s.conn.execute("SELECT count(*) FROM entries WHERE kind='activity' AND fork=0")
            assert acts == logged.fetchone()[0]
    finally:
        await b.stop()


def test_runtime_file_names_the_urls(tmp_path):
    ha, wa = make_home(tmp_path, "a", charter=dict(CHARTER))
    proc, info = spawn(ha)
    try:
        assert info["peer_url"].startswith("http://127.0.0.1:")
        assert json.loads(ha.runtime_file.read_text())["member"] == wa.member_id
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0
