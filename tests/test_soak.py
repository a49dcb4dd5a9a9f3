"""Soak: a network of real node processes under continuous writes, restarts and a partition.

Every node writes through its local API all along (and now and then through
the CLI); nodes are restarted at random moments (kill -9 or SIGTERM); in the
middle the network is cut in two by the proxies in front of every peer
endpoint (tests/cluster.py) while both sides keep writing. While cut, no entry
written on one side may reach the other; after healing, everything written
before spreads to every node; at the end every node holds the same feed
summary, every acknowledged entry and an intact store. Short version in
``make test``; the ``slow`` one (12 nodes, about five minutes) in
``make reliability``.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from .cluster import Cluster, entry_ids, scales, seeded
from .nodes import wait_for
from .test_crash_cluster import audit_ok

SEED = 20260702

@pytest.mark.parametrize("scale", scales(
    dict(nodes=6, before=8, cut=12, after=10, restart_every=6.0, cli_every=8.0),
    dict(nodes=12, before=90, cut=90, after=110, restart_every=6.0, cli_every=4.0),
))  # fmt: skip
async def test_soak_with_restarts_and_a_partition(tmp_path, reliability, scale):
    seed = SEED + scale["nodes"]
    rng = seeded(seed)
    async with Cluster(tmp_path, scale["nodes"], seed=seed) as c:
        t_start = time.monotonic()
        await c.start_all()
        stop = asyncio.Event()
        tried = {"api": 0, "cli": 0}
        restarts = {"kill -9": 0, "SIGTERM": 0}
        unclean: list[str] = []

        async def api_writer(m) -> None:
            i = 0
            while not stop.is_set():
                if m.running:
                    tried["api"] += 1
                    await c.write_api(m, f"งานประจำวันของ {m.name} ครั้งที่ {i} / daily work {i}")
                    i += 1
                await asyncio.sleep(rng.uniform(0.1, 0.5))

        async def cli_writer() -> None:
            i = 0
            while not stop.is_set():
                await asyncio.sleep(rng.uniform(0.5, 1.5) * scale["cli_every"])
                tried["cli"] += 1
                await c.write_cli(rng.choice(c.members), f"บันทึกจาก CLI {i}")
                i += 1

        async def restarter() -> None:
            while not stop.is_set():
                await asyncio.sleep(rng.uniform(0.5, 1.5) * scale["restart_every"])
                running = [m for m in c.members if m.running]
                if len(running) < 2 or stop.is_set():
                    continue
                m = rng.choice(running)
                how = rng.choice(["kill -9", "SIGTERM"])
                if how == "kill -9":
                    await c.kill(m)
                elif (code := await c.stop(m)) != 0:
                    unclean.append(f"{m.name} exited {code} on SIGTERM")
                restarts[how] += 1
                await asyncio.sleep(rng.uniform(0.2, 2.0))
                await c.start(m)

        tasks = [asyncio.create_task(api_writer(m)) for m in c.members]
        tasks += [asyncio.create_task(cli_writer()), asyncio.create_task(restarter())]
        try:
            await asyncio.sleep(scale["before"])
            # the cut: a random split, both sides at least a third of the network
            order = rng.sample(c.members, len(c.members))
            k = rng.randint(len(order) // 3, len(order) - len(order) // 3)
            side_a, side_b = order[:k], order[k:]
            c.partition(side_a, side_b)
            cut_at = time.monotonic()
            await asyncio.sleep(scale["cut"])
            crossed = crossings(c, side_a, side_b, cut_at)
            dropped = sum(m.proxy.dropped for m in c.members)
            before_heal = set(c.ledger)
            c.heal()
            healed_at = time.monotonic()
            # everything acknowledged before the heal reaches every running node
            spread = lambda: all(before_heal <= entry_ids(m.home.db_file)  # noqa: E731
                                 for m in c.members if m.running)  # fmt: skip
            await wait_for(spread, timeout=180, what="both sides' entries to spread after the heal")
            heal_spread_s = time.monotonic() - healed_at
            await asyncio.sleep(scale["after"])
        finally:
            stop.set()
            await asyncio.gather(*tasks)
        soak_s = time.monotonic() - t_start
        await c.start_all()
        converge_s = await c.converge(180)
        codes = await c.stop_all()
        unclean += [f"{n} exited {code} on SIGTERM" for n, code in codes.items() if code != 0]
        lost = c.lost()
        audits = c.audit()
        entries = {n: a["entries"] for n, a in audits.items()}
        acked = {via: sum(1 for a in c.ledger.values() if a.via == via) for via in ("api", "cli")}
        figures = dict(
            seed=seed, nodes=scale["nodes"], soak_s=round(soak_s), writes_tried=sum(tried.values()),
            writes_acked=len(c.ledger), api_acked=acked["api"], cli_acked=acked["cli"],
            kills=restarts["kill -9"], sigterms=restarts["SIGTERM"],
            partition_s=round(healed_at - cut_at, 1), partition_sides=[len(side_a), len(side_b)],
            requests_dropped_by_partition=dropped, entries_crossed_partition=crossed,
            heal_spread_s=round(heal_spread_s, 1), converge_s=round(converge_s, 1),
            entries_per_node=sorted(set(entries.values())), orphan_workers=c.orphans,
            tracebacks=c.tracebacks(), audit_ok=audit_ok(audits),
        )  # fmt: skip
        ok = (sum(lost.values()) == 0 and crossed == 0 and dropped > 0 and not unclean
              and not c.write_errors and audit_ok(audits) and len(set(entries.values())) == 1
              and c.orphans == 0 and figures["tracebacks"] == 0)  # fmt: skip
        reliability(
            "soak",
            f"{scale['nodes']} node processes for {round(soak_s)} s: API writes on every node, CLI "
            f"writes, a restart every ~{scale['restart_every']:g} s (kill -9 or SIGTERM), a "
            f"{scale['cut']} s partition with writes on both sides, then heal",
            held=ok, tried=restarts["kill -9"] + restarts["SIGTERM"] + 1,
            entries_lost=sum(lost.values()), errors=len(c.write_errors) + len(unclean), **figures,
        )  # fmt: skip
        print(figures, lost, c.write_errors[:5], unclean)
        assert sum(lost.values()) == 0, lost
        assert crossed == 0, "entries crossed the partition"
        assert dropped > 0, "the partition cut nothing"
        assert not unclean and not c.write_errors, (unclean, c.write_errors[:5])
        assert audit_ok(audits), audits
        assert len(set(entries.values())) == 1, entries
        assert c.orphans == 0 and figures["tracebacks"] == 0
        assert acked["api"] > 0 and acked["cli"] > 0


def crossings(c: Cluster, side_a, side_b, cut_at: float) -> int:
    """Entries written on one side after the cut that the other side holds already.

    A fetch answer streams a feed as the server reads it, so one that began just
    before the cut may carry an entry written just after it; from 2 s after the
    cut on, nothing may cross.
    """
    names = {m.name: 0 for m in side_a} | {m.name: 1 for m in side_b}
    late = {eid: names[a.member] for eid, a in c.ledger.items() if a.sent > cut_at + 2.0}
    crossed = 0
    for side, members in ((0, side_a), (1, side_b)):
        theirs = {eid for eid, s in late.items() if s != side}
        for m in members:
            crossed += len(theirs & entry_ids(m.home.db_file))
    return crossed

