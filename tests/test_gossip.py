"""Real nodes on loopback replicate through gossip."""

from __future__ import annotations

import asyncio
import random

import pytest

from p2pnet import peers

from .conftest import CHARTER
from .nodes import add_peer, append, has_entry, make_home, start, summary, wait_for


@pytest.fixture
async def founded(tmp_path):
    home, who = make_home(tmp_path, "a", charter=dict(CHARTER))
    from p2pnet.store import Store

    with Store(home.db_file) as s:
        network = s.network
    return tmp_path, home, who, network


async def test_chain_relays_through_the_middle(founded):
    root, ha, wa, network = founded
    hb, wb = make_home(root, "b", network=network)
    hc, wc = make_home(root, "c", network=network)
    a, b, c = [await start(h, w, seed=i) for i, (h, w) in enumerate([(ha, wa), (hb, wb), (hc, wc)])]
    try:
        await add_peer(b, a)
        await add_peer(c, b)  # C never hears of A
        eid = await append(a, "activity", {"title": "ประชุมเครือข่าย", "kind": "meeting",
                                           "date": "2026-02-01"})  # fmt: skip
        await wait_for(lambda: has_entry(c, eid), what="A's entry to reach C")
        peers_of_c = await c.ctx.store.call(lambda s: [p.url for p in peers.all_peers(s)])
        assert peers_of_c == [b.peer_url]  # the entry came through B, not from A directly
        import aiohttp

        async with aiohttp.ClientSession() as session:
            async with session.get(c.api_url + "/api/v1/status") as resp:
                gossip = (await resp.json())["gossip"]
        assert gossip["entries_received"] >= 1 and gossip["entry_bytes_received"] > 0
    finally:
        for n in (a, b, c):
            await n.stop()


async def test_offline_node_catches_up(founded):
    root, ha, wa, network = founded
    hb, wb = make_home(root, "b", network=network)
    a = await start(ha, wa)
    b = await start(hb, wb, seed=1)
    await add_peer(b, a)
    await wait_for(lambda: _same(a, b), what="first sync")
    await b.stop()
    for i in range(300):
        await append(a, "activity", {"title": f"กิจกรรม {i}", "kind": "meeting", "date": "2026-02-01"})
    b = await start(hb, wb, seed=2)
    try:
        await wait_for(lambda: _same(a, b), what="B to catch up 300 entries")
        assert await b.ctx.store.call(lambda s: s.count()) == await a.ctx.store.call(lambda s: s.count())
    finally:
        await a.stop()
        await b.stop()


async def _same(*nodes) -> bool:
    sums = [await summary(n) for n in nodes]
    return all(s == sums[0] for s in sums)


async def test_partition_heals(founded):
    root, ha, wa, network = founded
    homes = [(ha, wa)] + [make_home(root, name, network=network) for name in "bcd"]
    nodes = [await start(h, w, seed=i) for i, (h, w) in enumerate(homes)]
    a, b, c, d = nodes
    try:
        await add_peer(b, a)
        await add_peer(a, b)
        await add_peer(c, a)  # c and d first learn the network through a...
        await add_peer(d, c)
        await wait_for(lambda: _same(*nodes), what="initial convergence")
        # ...then the link is cut: each side only knows its own half
        for n in nodes:
            await n.ctx.store.call(lambda s: s.conn.execute("DELETE FROM peers"))
        await add_peer(a, b)
        await add_peer(b, a)
        await add_peer(c, d)
        await add_peer(d, c)
        for i in range(20):
            await append(a if i % 2 else b, "leave" if i == 19 else "activity",
                         {} if i == 19 else {"title": f"ฝั่งซ้าย {i}", "kind": "meeting", "date": "2026-03-01"})  # fmt: skip
            await append(c if i % 2 else d, "activity",
                         {"title": f"ฝั่งขวา {i}", "kind": "exchange", "date": "2026-03-02"})  # fmt: skip
        await wait_for(lambda: _same(a, b), what="left half to converge")
        await wait_for(lambda: _same(c, d), what="right half to converge")
        assert await summary(a) != await summary(c)
        await add_peer(a, c)  # heal
        await wait_for(lambda: _same(*nodes), what="all four to converge after healing")
    finally:
        for n in nodes:
            await n.stop()


async def test_twenty_nodes_converge(founded):
    root, ha, wa, network = founded
    homes = [(ha, wa)] + [make_home(root, f"n{i}", network=network) for i in range(1, 20)]
    nodes = [await start(h, w, seed=i) for i, (h, w) in enumerate(homes)]
    rng = random.Random(5)
    try:
        for i, n in enumerate(nodes[1:], start=1):
            await add_peer(n, nodes[rng.randrange(i)])  # a random tree rooted at the founder
        writers = rng.sample(nodes, 5)
        ids = [await append(w, "activity", {"title": f"กิจกรรมของโหนด {i}", "kind": "joint-project",
                                            "date": "2026-04-01"}) for i, w in enumerate(writers)]  # fmt: skip
        await wait_for(lambda: _same(*nodes), timeout=90, what="20 nodes to converge")
        for n in nodes:
            for eid in ids:
                assert await has_entry(n, eid)
    finally:
        await asyncio.gather(*(n.stop() for n in nodes))
