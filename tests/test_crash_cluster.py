"""kill -9 real node processes during a big ingest, during sync and during local writes.

Several nodes at once, at random moments (seeded: the seed is printed and
recorded). Afterwards every node converges to the same feed summary, every
acknowledged entry is on every node, and every store passes SQLite's
``integrity_check`` with no fork, no hole in a feed and no activity applied
twice. The short cases run in ``make test``; the ``slow`` ones (100+ kills in
all) in ``make reliability``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time

import pytest

from p2pnet.identity import Identity
from p2pnet.store import Store

from .cluster import Cluster, audit_store, chain, entry_ids, scales, seeded

SEED = 20260701


def audit_ok(audits: dict) -> bool:
    return all(a["integrity"] == "ok" and not a["forks"] and not a["holes"]
               and not a["derived_mismatch"] for a in audits.values())  # fmt: skip


async def finish(c: Cluster, within: float) -> dict:
    """Start every node, wait for one summary everywhere, stop them all: the figures."""
    await c.start_all()
    converge_s = await c.converge(within)
    codes = await c.stop_all()
    lost = c.lost()
    audits = c.audit()
    return {
        "converge_s": round(converge_s, 1),
        "entries_lost": sum(lost.values()),
        "lost_per_node": lost,
        "audit_ok": audit_ok(audits),
        "audits": audits,
        "unclean_exits": sum(1 for code in codes.values() if code != 0),
        "orphan_workers": c.orphans,
        "tracebacks": c.tracebacks(),
        "entries_per_node": next(iter(audits.values()))["entries"],
    }


def held(f: dict) -> bool:
    return (f["entries_lost"] == 0 and f["audit_ok"] and f["unclean_exits"] == 0
            and f["orphan_workers"] == 0 and f["tracebacks"] == 0)  # fmt: skip


def check(f: dict) -> None:
    assert f["entries_lost"] == 0, f["lost_per_node"]
    assert f["audit_ok"], f["audits"]
    assert f["unclean_exits"] == 0
    assert f["orphan_workers"] == 0, "a killed node left verify workers running"
    assert f["tracebacks"] == 0, "a node logged a traceback (see node.log in the tmp dir)"


@pytest.mark.parametrize("scale", scales(dict(fresh=3, rounds=2, authors=10, entries=6_000),
                                         dict(fresh=4, rounds=8, authors=40, entries=40_000)))
async def test_kill9_during_big_ingest(tmp_path, reliability, scale):
    """Fresh nodes catch up thousands of entries from one node; all are killed at once, again."""
    seed = SEED + 1
    rng = seeded(seed)
    # the default verify_workers (one per core): big batches verify in worker processes,
    # which must not outlive a killed node
    async with Cluster(tmp_path, 1 + scale["fresh"], seed=seed,
                       settings={"verify_workers": 0}) as c:  # fmt: skip
        source, fresh = c.members[0], c.members[1:]
        per = scale["entries"] // scale["authors"]
        made = []
        for i in range(scale["authors"]):
            body = lambda n, i=i: {"title": f"บันทึก {i}-{n}", "kind": "meeting",  # noqa: E731
                                   "date": "2026-05-01", "summary": "ติดตามงาน " * 20}  # fmt: skip
            made += chain(Identity.from_seed(rng.randbytes(32)), c.network, per, body=body)
        with Store(source.home.db_file) as s:
            s.ingest([e.raw for e in made], verify=lambda b: [True] * len(b))
        c.ack_all(source, made)
        total = len(entry_ids(source.home.db_file))
        base = len(entry_ids(fresh[0].home.db_file))
        await c.start(source)
        kills = mid_ingest = 0
        at_kill: list[int] = []
        for _ in range(scale["rounds"]):
            await c.start_all(fresh)
            target = base + rng.uniform(0.05, 0.8) * (total - base)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                counts = [len(entry_ids(m.home.db_file)) for m in fresh]
                if max(counts) >= target:
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(rng.uniform(0.0, 0.4))
            await asyncio.gather(*(c.kill(m) for m in fresh))  # several nodes at once
            for m in fresh:
                a = audit_store(m.home.db_file)
                at_kill.append(a["entries"])
                assert a["integrity"] == "ok" and not a["holes"] and not a["forks"], a
                kills += 1
                mid_ingest += base < a["entries"] < total
        f = await finish(c, within=180)
    figures = {k: v for k, v in f.items() if k not in ("audits", "lost_per_node")}
    reliability(
        "crash",
        f"kill -9 during a big ingest: {scale['fresh']} nodes catching up {total:,} entries "
        f"from one node, all killed together at random moments, {scale['rounds']} rounds",
        held=held(f) and f["entries_per_node"] == total,
        tried=kills, errors=f["unclean_exits"] + f["tracebacks"], seed=seed, kills=kills,
        kills_mid_ingest=mid_ingest, entries_at_kill=at_kill,
        **{k: v for k, v in figures.items() if k != "entries_lost"},
        entries_lost=f["entries_lost"],
    )  # fmt: skip
    print(f"kills {kills} ({mid_ingest} mid-ingest), entries at each kill {at_kill}, {f}")
    check(f)
    assert f["entries_per_node"] == total


@pytest.mark.parametrize("scale", scales(dict(nodes=4, node_kills=6, cli_writes=4, seconds=10),
                                         dict(nodes=8, node_kills=60, cli_writes=40, seconds=150)))
async def test_kill9_during_sync_and_local_writes(tmp_path, reliability, scale):
    """Nodes gossip while API and CLI writes go on; nodes and CLI writers are killed at random."""
    seed = SEED + 2
    rng = seeded(seed)
    async with Cluster(tmp_path, scale["nodes"], seed=seed,
                       settings={"gossip_interval": 0.3}) as c:  # fmt: skip
        await c.start_all()
        stop = asyncio.Event()
        api_tries = 0

        async def api_writer(m) -> None:
            nonlocal api_tries
            i = 0
            while not stop.is_set():
                if m.running:
                    api_tries += 1
                    await c.write_api(m, f"บันทึกผ่าน API {m.name} #{i}")
                    i += 1
                await asyncio.sleep(rng.uniform(0.02, 0.2))

        cli_kills = cli_acked = 0

        async def cli_writer() -> None:
            # `p2pnet activity add` while the node runs (or is down): some finish, some are
            # killed -9 mid-way; only those that exited 0 are in the ledger
            nonlocal cli_kills, cli_acked
            for i in range(scale["cli_writes"]):
                m = rng.choice(c.members)
                # the first always runs to its end, so CLI writes are in the ledger however
                # slow this machine starts a process; the others are killed or not at random
                kill_after = None if i == 0 else rng.choice([None, rng.uniform(0.3, 1.2)])
                eid = await c.write_cli(m, f"บันทึกจาก CLI {i}", kill_after=kill_after)
                cli_acked += eid is not None
                cli_kills += kill_after is not None and eid is None
                if stop.is_set():
                    return

        async def chaos() -> int:
            kills = 0
            pause = scale["seconds"] / scale["node_kills"] * 1.5
            while kills < scale["node_kills"]:
                await asyncio.sleep(rng.uniform(0.3, pause))
                running = [m for m in c.members if m.running]
                victims = rng.sample(running, min(len(running), rng.choice([1, 1, 2, 3])))
                victims = victims[: scale["node_kills"] - kills]
                await asyncio.gather(*(c.kill(m) for m in victims))  # several at once
                kills += len(victims)
                await asyncio.sleep(rng.uniform(0.1, 1.5))
                await c.start_all(victims)
            return kills

        writers = [asyncio.create_task(api_writer(m)) for m in c.members]
        cli = asyncio.create_task(cli_writer())
        t0 = time.monotonic()
        try:
            kills = await chaos()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(cli), timeout=30)
        finally:
            stop.set()
            await asyncio.gather(*writers, cli)
        chaos_s = time.monotonic() - t0
        api_acked = sum(1 for a in c.ledger.values() if a.via == "api")
        f = await finish(c, within=120)
        errors = len(c.write_errors)
    figures = {k: v for k, v in f.items() if k not in ("audits", "lost_per_node", "entries_lost")}
    reliability(
        "crash",
        f"kill -9 during sync and local writes: {scale['nodes']} nodes gossiping every 0.3 s "
        f"under API and CLI writes; {kills} node kills (1-3 at once) and CLI writers killed "
        f"mid-write",
        held=held(f) and errors == 0,
        tried=kills + cli_kills, entries_lost=f["entries_lost"], errors=errors + f["unclean_exits"],
        seed=seed, node_kills=kills, cli_kills=cli_kills, api_writes_tried=api_tries,
        api_writes_acked=api_acked, cli_writes_acked=cli_acked, chaos_s=round(chaos_s, 1),
        **figures,
    )  # fmt: skip
    print(f"node kills {kills}, CLI kills {cli_kills}, API acked {api_acked}/{api_tries}, "
          f"CLI acked {cli_acked}, {f}, write errors {c.write_errors[:5]}")  # fmt: skip
    check(f)
    assert errors == 0, c.write_errors[:5]
    assert api_acked > 0 and cli_acked > 0



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


async def test_a_peer_gone_mid_fetch_is_no_internal_error(tmp_path, caplog):
    """A fetching peer killed mid-stream is routine: no 500, no traceback in the serving node."""
    import aiohttp

    from p2pnet.sync.client import PeerClient
    from p2pnet.sync.messages import FetchRequest

    from .conftest import CHARTER
    from .nodes import make_home, start

    home, who = make_home(tmp_path, "a", charter=dict(CHARTER))
    writer = Identity.generate()
    with Store(home.db_file) as s:
        network = s.network
        made = chain(writer, network, 20_000)  # megabytes: more than the sockets buffer
        s.ingest([e.raw for e in made], verify=lambda b: [True] * len(b))
    node = await start(home, who)
    try:
        async with aiohttp.ClientSession() as session:
            client = PeerClient(session, Identity.generate())
            req = FetchRequest(network, [(writer.public, 0)], [], 8 << 20)
            stream = client.send_fetch(node.peer_url, req, chunk_entries=1)
            first = await anext(stream)
            await stream.aclose()  # the peer goes away with the answer half read
        assert first
        await asyncio.sleep(0.5)  # let the node's handler notice
    finally:
        await node.stop()
    errors = [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]
