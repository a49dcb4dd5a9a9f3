"""The hostile-peer suite against whole nodes: refusals that must store nothing, floods,
replayed requests, forks, slow clients and memory.

Every case runs real nodes on loopback (in this process, or as a real ``p2pnet run``
process where memory is measured) with real SQLite files, and records its figures
with the ``reliability`` fixture before asserting on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import random
import time

import aiohttp
import msgpack
import pytest

from p2pnet import entries
from p2pnet.identity import Identity
from p2pnet.store import FeedState
from p2pnet.sync import httpsig, messages, reconcile

from .conftest import CHARTER
from .nodes import FAST, make_home, start, wait_for
from .test_join import issue
from .test_peer_hostile import post


async def test_json_nested_too_deep_is_refused_not_a_crash(tmp_path):
    """Python's JSON parser gives up on deep nesting with RecursionError: a 400, like bad JSON."""
    home, who = make_home(tmp_path, "a", charter=dict(CHARTER))
    node = await start(home, who)
    headers = {"Authorization": f"Bearer {home.admin_token()}", "Content-Type": "application/json"}
    deep = b"[" * 100_000 + b"]" * 100_000
    try:
        async with aiohttp.ClientSession() as session:
            for path in ("/api/v1/activities", "/api/v1/peers", "/api/v1/profile", "/api/v1/endorsements"):
                async with session.post(node.api_url + path, data=deep, headers=headers) as resp:
                    problem = await resp.json(content_type=None)
                    assert resp.status == 400, (path, problem)
                    assert problem["type"] == "urn:p2pnet:problem:bad-request"
        assert await node.ctx.store.call(lambda s: s.count()) == 2
    finally:
        await node.stop()


async def test_a_refused_join_stores_nothing_and_spends_nothing(tmp_path):
    """A join is all or nothing: one bad entry among good ones keeps every one of them out."""
    home, who = make_home(tmp_path, "a", charter=dict(CHARTER))
    node = await start(home, who)
    net = node.ctx.network
    newcomer = Identity.generate()
    first = entries.create(newcomer, network=net, seq=1, prev=None, kind="profile", body={"name_en": "Club"})
    later = entries.create(newcomer, network=net, seq=3, prev=first.id, kind="leave", body={})
    broken = bytearray(entries.create(newcomer, network=net, seq=2, prev=first.id, kind="leave", body={}).raw)
    broken[-1] ^= 1
    try:
        save, token = issue(node)
        await node.ctx.store.call(save)
        before = await node.ctx.store.call(lambda s: s.conn.execute("SELECT count(*) FROM entries").fetchone())
        async with aiohttp.ClientSession() as session:
            for raws, code in (([first.raw, later.raw], "sequence-gap"), ([first.raw, bytes(broken)], "bad-signature")):
                status, data, ctype = await post(session, node, "/p2p/v1/join",
                                                 messages.encode_join(token, raws), who=newcomer)  # fmt: skip
                assert (status, ctype) == (422, "application/problem+json"), data
                assert json.loads(data)["type"] == f"urn:p2pnet:problem:{code}"
                after = await node.ctx.store.call(
                    lambda s: s.conn.execute("SELECT count(*) FROM entries").fetchone()
                )
                assert after == before and await node.ctx.store.call(lambda s: s.feed(newcomer.public)) is None
            # the invite was not spent: the newcomer's good entries alone still get in
            status, data, _ = await post(session, node, "/p2p/v1/join",
                                         messages.encode_join(token, [first.raw]), who=newcomer)  # fmt: skip
            assert status == 200 and msgpack.unpackb(data)["accepted"] == 1
    finally:
        await node.stop()


async def test_overlapping_reconcile_ranges_are_refused(tmp_path, reliability):
    """4,096 copies of the whole key space once cost a pass over every feed each (55 s of the
    event loop at 10,000 members); ranges must now be in order and disjoint."""
    home, who = make_home(tmp_path, "a", charter=dict(CHARTER))
    node = await start(home, who)
    whole = reconcile.Range(0, reconcile.SPACE, 0, bytes(16))
    step = reconcile.SPACE // messages.MAX_RANGES
    disjoint = [reconcile.Range(i * step, (i + 1) * step, 1, bytes(16)) for i in range(messages.MAX_RANGES)]
    try:
        async with aiohttp.ClientSession() as session:
            body = messages.encode_reconcile(node.ctx.network, [whole] * messages.MAX_RANGES)
            status, data, _ = await post(session, node, "/p2p/v1/reconcile", body)
            refused = status == 400 and b"must not overlap" in data
            t0 = time.perf_counter()
            status2, data2, _ = await post(session, node, "/p2p/v1/reconcile",
                                           messages.encode_reconcile(node.ctx.network, disjoint))  # fmt: skip
            seconds = time.perf_counter() - t0
        answered = status2 == 200 and len(messages.decode_answer(data2).rows) == messages.MAX_RANGES
        reliability("hostile", "reconcile with 4,096 overlapping ranges", held=refused and answered,
                    tried=2, entries_lost=0, errors=int(not refused) + int(not answered),
                    largest_legal_request_s=round(seconds, 3))  # fmt: skip
        assert refused, (status, data)
        assert answered, (status2, data2[:200])
    finally:
        await node.stop()


def test_reconcile_answer_with_many_ranges_is_exact():
    """The answer reuses one index of the feeds across ranges: it must still be exact."""
    rng = random.Random(7)
    feeds = sorted((FeedState(rng.randbytes(32), rng.randint(1, 9), rng.randbytes(32), rng.random() < 0.1)
                    for _ in range(3000)), key=lambda f: f.author)  # fmt: skip
    cuts = sorted({rng.randrange(1, 2**64) for _ in range(300)})
    bounds = [0] + [c << 192 for c in cuts] + [reconcile.SPACE]
    asked = [reconcile.Range(lo, hi, 1, bytes(16)) for lo, hi in zip(bounds, bounds[1:], strict=False)]
    t0 = time.perf_counter()
    ans = reconcile.answer(feeds, asked)
    print(f"answered {len(asked)} ranges over {len(feeds)} feeds in {time.perf_counter() - t0:.4f} s")
    for lo, hi, rows in ans.rows:
        assert rows == [f for f in feeds if lo <= int.from_bytes(f.author, "big") < hi]
    for r in ans.ranges:
        part = [f for f in feeds if r.lo <= int.from_bytes(f.author, "big") < r.hi]
        assert (r.count, r.fp) == (len(part), reconcile.fingerprint(part))
    covered = sorted([(lo, hi) for lo, hi, _ in ans.rows] + [(r.lo, r.hi) for r in ans.ranges])
    assert covered[0][0] == 0 and covered[-1][1] == reconcile.SPACE
    assert all(a[1] == b[0] for a, b in zip(covered, covered[1:], strict=False))


def test_a_flood_of_nonces_cannot_push_a_captured_request_out_of_the_replay_guard():
    """The guard remembers at most ``max_entries`` nonces; once a flood makes it forget one
    still inside the window, every request that old is refused, so a replay of a forgotten
    request cannot pass for a first use."""
    who, flooder = Identity.generate(), Identity.generate()
    guard = httpsig.ReplayGuard(window=300, max_entries=50)
    now = time.time()
    path, body = "/p2p/v1/push", b"\x80"
    captured = httpsig.sign_request(who, "POST", path, body, now=now - 10)
    assert httpsig.verify_request("POST", path, captured, body, guard=guard, now=now) == who.public
    for i in range(50):  # the flood, signed a little later than the captured request
        h = httpsig.sign_request(flooder, "POST", path, body, now=now - 5)
        httpsig.verify_request("POST", path, h, body, guard=guard, now=now + i / 100)
    with pytest.raises(httpsig.AuthError, match="older than the oldest"):
        httpsig.verify_request("POST", path, captured, body, guard=guard, now=now + 1)
    fresh = httpsig.sign_request(who, "POST", path, body, now=now + 1)
    assert httpsig.verify_request("POST", path, fresh, body, guard=guard, now=now + 1) == who.public
    with pytest.raises(httpsig.AuthError, match="replayed"):
        httpsig.verify_request("POST", path, fresh, body, guard=guard, now=now + 2)


# --------------------------------------------------------------------------- slow clients
ATTACKER = "127.0.0.2"  # loopback too, but another address: the per-address limits tell it apart


async def trickle(url: str, head: bytes, body: bytes = b"", *, every: float = 0.1,
                  give_up: float = 30.0) -> tuple[float, bytes, bool]:  # fmt: skip
    """Open a socket from ATTACKER and send ``head`` one byte at a time, or, with a
    ``body``, the head at once and then the body one byte at a time.

    Returns (seconds until the node closed the connection, what it answered, closed?)."""
    host, _, port = url.removeprefix("http://").rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port), local_addr=(ATTACKER, 0))
    t0 = time.monotonic()

    async def send() -> None:
        slow = body or head
        with contextlib.suppress(ConnectionError):
            if body:
                writer.write(head)
            for i in range(len(slow)):
                writer.write(slow[i : i + 1])
                await writer.drain()
                await asyncio.sleep(every)

    sender = asyncio.create_task(send())
    answer, closed = b"", False
    try:
        async with asyncio.timeout(give_up):
            while chunk := await reader.read(1 << 16):
                answer += chunk
        closed = True
    except ConnectionResetError:
        closed = True
    except TimeoutError:
        pass
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        writer.close()
    return time.monotonic() - t0, answer, closed


async def test_slow_clients_are_cut_off_while_honest_ones_are_served(tmp_path, reliability):
    """Slow-loris: sockets that send their request head a byte at a time, or a body a byte at a
    time, are closed after idle_timeout / body_timeout; one address may hold only
    max_connections_per_ip; and meanwhile an honest peer and the API are served."""
    home, who = make_home(tmp_path, "a", charter=dict(CHARTER))
    cap = 20
    config = dataclasses.replace(FAST, idle_timeout=2.0, body_timeout=2.0, max_connections_per_ip=cap)
    node = await start(home, who, config)
    heads, bodies = 14, 6
    slow_head = b"POST /p2p/v1/push HTTP/1.1\r\nHost: a\r\nX-Padding: " + b"a" * 400
    slow_body = b"POST /p2p/v1/push HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n"
    honest, honest_ok = Identity.generate(), []
    attack_over = asyncio.Event()

    async def honest_peer() -> None:
        body = messages.encode_reconcile(node.ctx.network, [reconcile.summarise(await node.ctx.feeds())])
        async with aiohttp.ClientSession() as session:
            while not attack_over.is_set():
                status, _, _ = await post(session, node, "/p2p/v1/reconcile", body, who=honest)
                async with session.get(node.api_url + "/api/v1/status") as resp:
                    honest_ok.append(status == 200 and resp.status == 200)
                await asyncio.sleep(0.05)

    try:
        guard = node.connection_guards["peer endpoint"]
        honest_task = asyncio.create_task(honest_peer())
        attack = [asyncio.create_task(trickle(node.peer_url, slow_head)) for _ in range(heads)]
        attack += [asyncio.create_task(trickle(node.peer_url, slow_body, b"x" * 5000)) for _ in range(bodies)]
        attack += [asyncio.create_task(trickle(node.api_url, slow_head.replace(b"/p2p/v1/push", b"/api/v1/peers")))
                   for _ in range(3)]  # fmt: skip
        await wait_for(lambda: guard.open.get(ATTACKER) == cap, timeout=10, what="the slow sockets to connect")
        over = [asyncio.create_task(trickle(node.peer_url, slow_head)) for _ in range(10)]
        results = await asyncio.gather(*attack, *over)
        attack_over.set()
        await honest_task
        refused_over_cap = guard.refused
    finally:
        await node.stop()
    closed = [r for r in results if r[2]]
    timed_out_bodies = [r for r in results[heads : heads + bodies] if r[1].startswith(b"HTTP/1.1 408")]
    reliability(
        "hostile", "slow-loris: slow request heads and bodies, more sockets than allowed",
        held=len(closed) == len(results) and len(timed_out_bodies) == bodies and refused_over_cap == 10
        and all(honest_ok),
        tried=len(results), entries_lost=0, errors=len(results) - len(closed) + honest_ok.count(False),
        slowest_close_s=round(max(r[0] for r in results), 2), refused_over_cap=refused_over_cap,
        honest_requests=len(honest_ok), honest_served=sum(honest_ok),
    )  # fmt: skip
    assert len(closed) == len(results), "some slow sockets were never closed"
    assert len(timed_out_bodies) == bodies, [r[1][:60] for r in results[heads : heads + bodies]]
    assert refused_over_cap == 10
    assert honest_ok and all(honest_ok), honest_ok
