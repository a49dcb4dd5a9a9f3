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
import io
import json
import random
import re
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import msgpack
import psutil
import pytest

from p2pnet import entries, peers
from p2pnet.config import NodeConfig
from p2pnet.entries import now_ms
from p2pnet.identity import Identity
from p2pnet.node.server import Node
from p2pnet.store import FeedState, Store
from p2pnet.sync import httpsig, messages, reconcile

from .conftest import CHARTER
from .hostile import RecordingProxy, signed
from .nodes import FAST, add_peer, append, make_home, start, summary, wait_for
from .test_cli_process import NodeProcess, wait_until
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
            for path in (
                "/api/v1/activities",
                "/api/v1/peers",
                "/api/v1/profile",
                "/api/v1/endorsements",
            ):
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
    first = entries.create(
        newcomer, network=net, seq=1, prev=None, kind="profile", body={"name_en": "Club"}
    )
    later = entries.create(newcomer, network=net, seq=3, prev=first.id, kind="leave", body={})
    broken = bytearray(
        entries.create(newcomer, network=net, seq=2, prev=first.id, kind="leave", body={}).raw
    )
    broken[-1] ^= 1
    try:
        save, token = issue(node)
        await node.ctx.store.call(save)
        before = await node.ctx.store.call(
            lambda s: s.conn.execute("SELECT count(*) FROM entries").fetchone()
        )
        async with aiohttp.ClientSession() as session:
            for raws, code in (
                ([first.raw, later.raw], "sequence-gap"),
                ([first.raw, bytes(broken)], "bad-signature"),
            ):
                status, data, ctype = await post(
                    session, node, "/p2p/v1/join", messages.encode_join(token, raws), who=newcomer
                )
                assert (status, ctype) == (422, "application/problem+json"), data
                assert json.loads(data)["type"] == f"urn:p2pnet:problem:{code}"
                after = await node.ctx.store.call(
                    lambda s: s.conn.execute("SELECT count(*) FROM entries").fetchone()
                )
                assert (
                    after == before
                    and await node.ctx.store.call(lambda s: s.feed(newcomer.public)) is None
                )
            # the invite was not spent: the newcomer's good entries alone still get in
            status, data, _ = await post(
                session,
                node,
                "/p2p/v1/join",
                messages.encode_join(token, [first.raw]),
                who=newcomer,
            )
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
    disjoint = [
        reconcile.Range(i * step, (i + 1) * step, 1, bytes(16)) for i in range(messages.MAX_RANGES)
    ]
    try:
        async with aiohttp.ClientSession() as session:
            body = messages.encode_reconcile(node.ctx.network, [whole] * messages.MAX_RANGES)
            status, data, _ = await post(session, node, "/p2p/v1/reconcile", body)
            refused = status == 400 and b"must not overlap" in data
            t0 = time.perf_counter()
            status2, data2, _ = await post(
                session,
                node,
                "/p2p/v1/reconcile",
                messages.encode_reconcile(node.ctx.network, disjoint),
            )
            seconds = time.perf_counter() - t0
        answered = status2 == 200 and len(messages.decode_answer(data2).rows) == messages.MAX_RANGES
        reliability(
            "hostile",
            "reconcile with 4,096 overlapping ranges",
            held=refused and answered,
            tried=2,
            entries_lost=0,
            errors=int(not refused) + int(not answered),
            largest_legal_request_s=round(seconds, 3),
        )
        assert refused, (status, data)
        assert answered, (status2, data2[:200])
    finally:
        await node.stop()


def test_reconcile_answer_with_many_ranges_is_exact():
    """The answer reuses one index of the feeds across ranges: it must still be exact."""
    rng = random.Random(7)
    feeds = sorted(
        (
            FeedState(rng.randbytes(32), rng.randint(1, 9), rng.randbytes(32), rng.random() < 0.1)
            for _ in range(3000)
        ),
        key=lambda f: f.author,
    )
    cuts = sorted({rng.randrange(1, 2**64) for _ in range(300)})
    bounds = [0] + [c << 192 for c in cuts] + [reconcile.SPACE]
    asked = [
        reconcile.Range(lo, hi, 1, bytes(16)) for lo, hi in zip(bounds, bounds[1:], strict=False)
    ]
    t0 = time.perf_counter()
    ans = reconcile.answer(feeds, asked)
    print(
        f"answered {len(asked)} ranges over {len(feeds)} feeds in {time.perf_counter() - t0:.4f} s"
    )
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


async def trickle(
    url: str, head: bytes, body: bytes = b"", *, every: float = 0.1, give_up: float = 30.0
) -> tuple[float, bytes, bool]:
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
    config = dataclasses.replace(
        FAST, idle_timeout=2.0, body_timeout=2.0, max_connections_per_ip=cap
    )
    node = await start(home, who, config)
    heads, bodies = 14, 6
    slow_head = b"POST /p2p/v1/push HTTP/1.1\r\nHost: a\r\nX-Padding: " + b"a" * 400
    slow_body = b"POST /p2p/v1/push HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n"
    honest, honest_ok = Identity.generate(), []
    attack_over = asyncio.Event()

    async def honest_peer() -> None:
        body = messages.encode_reconcile(
            node.ctx.network, [reconcile.summarise(await node.ctx.feeds())]
        )
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
        attack += [
            asyncio.create_task(trickle(node.peer_url, slow_body, b"x" * 5000))
            for _ in range(bodies)
        ]
        attack += [
            asyncio.create_task(
                trickle(node.api_url, slow_head.replace(b"/p2p/v1/push", b"/api/v1/peers"))
            )
            for _ in range(3)
        ]
        await wait_for(
            lambda: guard.open.get(ATTACKER) == cap, timeout=10, what="the slow sockets to connect"
        )
        over = [asyncio.create_task(trickle(node.peer_url, slow_head)) for _ in range(10)]
        results = await asyncio.gather(*attack, *over)
        attack_over.set()
        await honest_task
        refused_over_cap = guard.refused
    finally:
        await node.stop()
    closed = [r for r in results if r[2]]
    timed_out_bodies = [
        r for r in results[heads : heads + bodies] if r[1].startswith(b"HTTP/1.1 408")
    ]
    reliability(
        "hostile",
        "slow-loris: slow request heads and bodies, more sockets than allowed",
        held=len(closed) == len(results)
        and len(timed_out_bodies) == bodies
        and refused_over_cap == 10
        and all(honest_ok),
        tried=len(results),
        entries_lost=0,
        errors=len(results) - len(closed) + honest_ok.count(False),
        slowest_close_s=round(max(r[0] for r in results), 2),
        refused_over_cap=refused_over_cap,
        honest_requests=len(honest_ok),
        honest_served=sum(honest_ok),
    )
    assert len(closed) == len(results), "some slow sockets were never closed"
    assert len(timed_out_bodies) == bodies, [r[1][:60] for r in results[heads : heads + bodies]]
    assert refused_over_cap == 10
    assert honest_ok and all(honest_ok), honest_ok


async def test_a_client_that_does_not_read_its_answer_is_dropped(tmp_path, reliability):
    """Slow-read: a peer asks for 7 MB of entries with a 4 KiB receive buffer and reads nothing.
    The node stops waiting after body_timeout and drops it, serving an honest fetch meanwhile."""
    home, who = make_home(tmp_path, "a", charter=dict(CHARTER))
    with Store(home.db_file) as s:
        for i in range(150):  # 48 KB each (4-byte characters): 7 MB, more than socket buffers hold
            s.append(
                who,
                "activity",
                {
                    "title": f"report {i}",
                    "kind": "meeting",
                    "date": "2026-01-01",
                    "summary": "𝕏" * 8000,
                    "outcome": "𝕐" * 4000,
                },
            )
    node = await start(home, who, dataclasses.replace(FAST, body_timeout=1.5, idle_timeout=600.0))
    guard = node.connection_guards["peer endpoint"]
    path = "/p2p/v1/fetch"
    body = messages.encode_fetch(messages.FetchRequest(node.ctx.network, [(who.public, 0)], [], 0))
    head = "".join(f"{k}: {v}\r\n" for k, v in signed(Identity.generate(), path, body).items())
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    sock.bind((ATTACKER, 0))
    try:
        host, _, port = node.peer_url.removeprefix("http://").rpartition(":")
        await loop.sock_connect(sock, (host, int(port)))
        request = f"POST {path} HTTP/1.1\r\nHost: a\r\nContent-Length: {len(body)}\r\n{head}\r\n"
        await loop.sock_sendall(sock, request.encode() + body)
        t0 = time.monotonic()
        async with aiohttp.ClientSession() as session:
            honest = await post(session, node, path, body)
        await wait_for(
            lambda: ATTACKER not in guard.open, timeout=60, what="the slow reader to be dropped"
        )
        dropped_s = time.monotonic() - t0
    finally:
        sock.close()
        await node.stop()
    chunks = [honest[1][i : i + (1 << 16)] for i in range(0, len(honest[1]), 1 << 16)]
    got = list(messages.unframe(chunks, entries.MAX_ENTRY_BYTES))
    held = honest[0] == 200 and len(got) == 152  # the genesis, a profile and 150 activities
    reliability(
        "hostile",
        "slow reader of a 7 MB fetch answer",
        held=held,
        tried=1,
        entries_lost=0,
        errors=int(not held),
        dropped_after_s=round(dropped_s, 2),
    )
    assert honest[0] == 200 and len(got) == 152, (honest[0], len(got))


# --------------------------------------------------------------------------- floods, replays, forks
async def two_nodes(tmp_path, config_a=FAST) -> tuple[Node, Node]:
    """A founder A and a member B whose node syncs with A."""
    ha, wa = make_home(tmp_path, "a", charter=dict(CHARTER))
    with Store(ha.db_file) as s:
        network = s.network
    hb, wb = make_home(tmp_path, "b", network=network)
    a = await start(ha, wa, config_a)
    b = await start(hb, wb, seed=1)
    return a, b


async def write_both(a: Node, b: Node, n: int, tag: str) -> None:
    for node in (a, b):
        for i in range(n):
            await append(
                node, "activity", {"title": f"{tag} {i}", "kind": "meeting", "date": "2026-05-01"}
            )


async def converged(a: Node, b: Node) -> bool:
    return await summary(a) == await summary(b)


@dataclasses.dataclass
class Flood:
    """What a flood got back."""

    statuses: Counter[int] = dataclasses.field(default_factory=Counter)
    throttled_by: set[str] = dataclasses.field(default_factory=set)  # whom each 429 named
    bad_refusals: list[str] = dataclasses.field(default_factory=list)  # 429s without Retry-After …


async def flood(
    session: aiohttp.ClientSession,
    node: Node,
    who: Callable[[], Identity],
    enough: Callable[[], Awaitable[bool]],
    workers: int = 20,
) -> Flood:
    """Signed reconcile requests as fast as ``workers`` connections allow, until ``enough()``."""
    path, got = "/p2p/v1/reconcile", Flood()
    body = messages.encode_reconcile(node.ctx.network, [reconcile.summarise([])])

    async def worker() -> None:
        while got.statuses.total() < 300 or not await enough():
            async with session.post(
                node.peer_url + path, data=body, headers=signed(who(), path, body)
            ) as resp:
                got.statuses[resp.status] += 1
                if resp.status != 429:
                    continue
                problem = await resp.json(content_type=None)
                got.throttled_by.add(problem["detail"].rsplit(" ", 1)[-1])
                retry = resp.headers.get("Retry-After", "")
                if not (retry.isdigit() and int(retry) >= 1) or not problem["type"].endswith(
                    ":rate-limited"
                ):
                    got.bad_refusals.append(f"Retry-After {retry!r}: {problem}")

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(workers))), 120)
    return got


async def test_a_flooding_peer_is_throttled_while_an_honest_peer_converges(tmp_path, reliability):
    """One peer floods from its own address (one key, then a fresh key per request): it gets
    429 with Retry-After, and an honest peer syncing with the same node meanwhile is served."""
    a, b = await two_nodes(tmp_path, dataclasses.replace(FAST, rate_per_minute=120))
    flooder = Identity.generate()
    figures: dict[str, dict[str, Any]] = {}
    try:
        await add_peer(b, a)
        connector = aiohttp.TCPConnector(local_addr=(ATTACKER, 0), limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            for phase, who in (
                ("one_key", lambda: flooder),
                ("a_key_per_request", Identity.generate),
            ):
                await write_both(a, b, 30, phase)  # the honest peer has something to sync
                failures = b.ctx.gossiper.stats.failures
                got = await flood(session, a, who, lambda: converged(a, b))
                figures[phase] = {
                    "sent": got.statuses.total(),
                    "served": got.statuses[200],
                    "throttled": got.statuses[429],
                    "bad_refusals": len(got.bad_refusals),
                    "throttled_by": sorted(got.throttled_by),
                    "honest_sync_failures": b.ctx.gossiper.stats.failures - failures,
                }
    finally:
        await b.stop()
        await a.stop()
    one, fresh = figures["one_key"], figures["a_key_per_request"]
    ok = [
        f["throttled"] and f["served"] and not f["bad_refusals"] and not f["honest_sync_failures"]
        for f in figures.values()
    ]
    by_key = flooder.member_id[:12] + "…" in one["throttled_by"]
    held = all(ok) and by_key and fresh["throttled_by"] == [ATTACKER]
    reliability(
        "hostile",
        "flood from one peer while another syncs",
        held=held,
        tried=one["sent"] + fresh["sent"],
        entries_lost=0,
        errors=sum(f["bad_refusals"] + f["honest_sync_failures"] for f in figures.values()),
        **figures,
    )
    for f in figures.values():
        assert f["throttled"] and f["served"] and not f["bad_refusals"], f
        assert f["honest_sync_failures"] == 0, f  # every sync of the honest peer went through
    assert by_key, one  # the per-key limit (then the address's, as the flood goes on)
    assert fresh["throttled_by"] == [ATTACKER], fresh  # a fresh key per request: the address's


async def send_raw(url: str, raw: bytes) -> tuple[int, bytes]:
    """Send bytes captured on the wire as they were; the answer's status and body."""
    host, _, port = url.removeprefix("http://").rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
        return int(head.split(b" ", 2)[1]), await reader.readexactly(length)
    finally:
        writer.close()


async def test_replayed_requests_from_a_real_gossip_exchange_are_refused(tmp_path, reliability):
    """Requests recorded on the wire between two real nodes, replayed byte for byte: refused
    as replays inside the window, as stale after it; nothing changes either way."""
    a, b = await two_nodes(tmp_path, dataclasses.replace(FAST, replay_window=2.0))
    proxy = RecordingProxy(a.peer_url)
    try:
        url = await proxy.start()
        await b.ctx.store.call(lambda s: peers.add(s, url, now=now_ms()))
        await write_both(a, b, 3, "ก่อนบันทึก")
        await wait_for(lambda: converged(a, b), what="B to sync with A through the recorder")
    finally:
        await b.stop()
        await proxy.stop()
    captured = [
        r
        for r in proxy.requests()
        if r.path in ("/p2p/v1/reconcile", "/p2p/v1/fetch", "/p2p/v1/push")
    ]
    try:
        before = (await summary(a), await a.ctx.store.call(lambda s: s.last_n()))
        inside = [await send_raw(a.peer_url, r.raw) for r in captured]
        await asyncio.sleep(a.config.replay_window + 1.5)  # let the window pass
        after = [await send_raw(a.peer_url, r.raw) for r in captured]
        unchanged = before == (await summary(a), await a.ctx.store.call(lambda s: s.last_n()))
    finally:
        await a.stop()
    replays = [json.loads(body)["detail"] for status, body in inside if status == 401]
    stale = [json.loads(body)["detail"] for status, body in after if status == 401]
    paths = {r.path for r in captured}
    held = (
        len(replays) == len(stale) == len(captured)
        and unchanged
        and len(paths) == 3
        and all("replayed" in d for d in replays)
        and all("window" in d for d in stale)
    )
    reliability(
        "hostile",
        "captured gossip requests replayed inside and after the window",
        held=held,
        tried=2 * len(captured),
        entries_lost=0,
        errors=2 * len(captured) - len(replays) - len(stale),
        captured=len(captured),
        endpoints=sorted(paths),
    )
    assert paths == {"/p2p/v1/reconcile", "/p2p/v1/fetch", "/p2p/v1/push"}, paths
    assert len(replays) == len(captured) and all("replayed" in d for d in replays), inside
    assert len(stale) == len(captured) and all("window" in d for d in stale), after
    assert unchanged


async def test_a_pushed_fork_is_kept_as_proof_and_spreads_to_a_third_node(tmp_path, reliability):
    """A peer holding a member's key pushes a second history of that member's feed to A: A
    keeps both as proof and marks the member forked, nothing else changes, and the proof
    reaches C, which only ever talks to B."""
    ha, wa = make_home(tmp_path, "a", charter=dict(CHARTER))
    with Store(ha.db_file) as s:
        network = s.network
    member = Identity.generate()  # a member whose key leaked; its node is not in the picture
    with Store(ha.db_file) as s:
        s.append(member, "profile", {"name_th": "ชมรมที่กุญแจรั่ว"})
        kept = s.append(
            member, "activity", {"title": "ประชุม", "kind": "meeting", "date": "2026-05-01"}
        )
    nodes = [await start(ha, wa)]
    for i, name in enumerate("bc"):
        h, w = make_home(tmp_path, name, network=network)
        nodes.append(await start(h, w, seed=i + 1))
    a, b, c = nodes
    try:
        await add_peer(b, a)
        await add_peer(c, b)
        await wait_for(lambda: converged(a, c), what="C to learn the member's feed through B")
        before = {f.author: f for f in await a.ctx.feeds()}
        rows_before = await a.ctx.store.call(
            lambda s: s.conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        )
        twin = entries.create(
            member,
            network=network,
            seq=kept.seq,
            prev=kept.prev,
            kind="activity",
            body={"title": "ประชุม (ปลอม)", "kind": "meeting", "date": "2026-05-02"},
        )
        async with aiohttp.ClientSession() as session:
            status, data, _ = await post(
                session, a, "/p2p/v1/push", messages.encode_push(network, [twin.raw])
            )
        report = msgpack.unpackb(data)
        after = {f.author: f for f in await a.ctx.feeds()}
        rows_after = await a.ctx.store.call(
            lambda s: s.conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        )
        changed = {k for k in before if before[k] != after[k]}
        t0 = time.monotonic()
        proofs = sorted([kept.raw, twin.raw])

        async def c_has_proof() -> bool:
            return await c.ctx.store.call(lambda s: sorted(s.fork_proofs(member.public))) == proofs

        await wait_for(c_has_proof, what="the fork proof to reach C")
        spread_s = time.monotonic() - t0
        c_feed = await c.ctx.store.call(lambda s: s.feed(member.public))
        shown = await a.ctx.store.call(
            lambda s: s.conn.execute(
                "SELECT forked FROM members WHERE key = ?", (member.public,)
            ).fetchone()
        )
    finally:
        for n in reversed(nodes):
            await n.stop()
    held = (
        status == 200
        and report["forks"] == 1
        and report["accepted"] == 0
        and changed == {member.public}
        and after[member.public].forked
        and after[member.public].head == kept.id
        and rows_after == rows_before + 1
        and c_feed.forked
        and shown == (1,)
    )
    reliability(
        "hostile",
        "a fork pushed to one node: kept as proof, spread to a third",
        held=held,
        tried=1,
        entries_lost=0,
        errors=int(not held),
        spread_s=round(spread_s, 2),
    )
    assert status == 200 and (report["forks"], report["accepted"]) == (1, 0), report
    assert changed == {member.public}, "only the member's feed summary may change"
    assert after[member.public].forked and after[member.public].head == kept.id
    assert rows_after == rows_before + 1  # the proof, nothing else
    assert shown == (1,)  # the directory marks the member forked
    assert c_feed.forked and c_feed.head == kept.id


# --------------------------------------------------------------------------- memory
NOISE = random.Random(2).randbytes(9 << 20)  # large bodies are slices of it


@dataclasses.dataclass(frozen=True)
class Load:
    requests: int
    large: int  # the largest body under the limit, bytes
    push: (
        int  # entries in a push of spoilt entries (from 256 they are verified in worker processes)
    )


def hostile_mix(
    rng: random.Random, network: bytes, keys: list[Identity], load: Load
) -> tuple[str, bytes, dict[str, str]]:
    """One request of the memory test's mix: (path, body, headers)."""
    kind = rng.choices(
        ["flood", "garbage", "unsigned-large", "signed-large", "oversize", "bad-push", "fetch"],
        weights=[55, 20, 4, 4, 3, 8, 6],
    )[0]
    who = rng.choice(keys)
    path = (
        "/p2p/v1/push"
        if kind in ("garbage", "signed-large", "oversize", "bad-push")
        else "/p2p/v1/reconcile"
    )
    if kind == "flood":
        body = messages.encode_reconcile(network, [reconcile.summarise([])])
    elif kind == "garbage":
        body = rng.randbytes(rng.randint(0, 4096))
    elif kind in ("unsigned-large", "signed-large"):
        body = NOISE[: rng.randint(64 << 10, load.large)]
    elif kind == "oversize":
        body = NOISE[: NodeConfig().max_body_bytes + rng.randint(1, 1 << 20)]
    elif kind == "bad-push":
        good = entries.create(
            who, network=network, seq=1, prev=None, kind="profile", body={"name_en": "x" * 200}
        )
        spoilt = good.raw[:-1] + bytes([good.raw[-1] ^ 1])  # signed, but not by this key any more
        body = messages.encode_push(network, [spoilt] * load.push)
    else:
        path = "/p2p/v1/fetch"
        body = messages.encode_fetch(
            messages.FetchRequest(network, [(k.public, 0) for k in keys], [], 0)
        )
    return path, body, {} if kind == "unsigned-large" else signed(who, path, body)


async def run_memory_case(tmp_path, reliability, load: Load) -> None:
    """A real `p2pnet run` process under a few thousand hostile requests, 8 at a time; its RSS
    (with its verification workers) sampled every 50 ms."""
    home, who = make_home(tmp_path, "a", charter=dict(CHARTER))
    # every body is read and checked (no rate limit cuts them short): the worst case for memory
    home.save_config(NodeConfig(rate_per_minute=10**8))
    with Store(home.db_file) as s:
        network = s.network
    node = NodeProcess(home.path)
    wait_until(node.ready, "the node to start")
    proc = psutil.Process(node.proc.pid)

    def rss() -> tuple[int, int]:
        workers = sum(c.memory_info().rss for c in proc.children(recursive=True))
        return proc.memory_info().rss, workers

    rng = random.Random(1)
    keys = [Identity.generate() for _ in range(5)]
    url = node.info["peer_url"]
    statuses: Counter[int] = Counter()
    peak = [0, 0]

    async def attack(n: int) -> None:
        async def worker(count: int) -> None:
            for _ in range(count):
                path, body, headers = hostile_mix(rng, network, keys, load)
                async with session.post(url + path, data=io.BytesIO(body), headers=headers) as resp:
                    await resp.read()
                    statuses[resp.status] += 1

        await asyncio.gather(*(worker(n // 8) for _ in range(8)))

    async def sample(stop: asyncio.Event) -> None:
        while not stop.is_set():
            main, workers = rss()
            peak[0], peak[1] = max(peak[0], main), max(peak[1], workers)
            await asyncio.sleep(0.05)

    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
            await attack(200)  # warm-up: pools, caches and verification workers come up
            base = rss()
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample(stop))
            t0 = time.monotonic()
            await attack(load.requests // 2)
            middle = rss()
            await attack(load.requests // 2)
            seconds = time.monotonic() - t0
            stop.set()
            await sampler
            await asyncio.sleep(1)
            end = rss()
            alive = (await (await session.get(url + "/p2p/v1/info")).json())[
                "member"
            ] == who.member_id
    finally:
        code = node.stop()
    mib = 1 << 20
    growth, second_half = (end[0] - base[0]) / mib, (end[0] - middle[0]) / mib
    figures = {
        "rss_before_mib": round(base[0] / mib, 1),
        "rss_peak_mib": round(peak[0] / mib, 1),
        "rss_after_mib": round(end[0] / mib, 1),
        "growth_mib": round(growth, 1),
        "growth_second_half_mib": round(second_half, 1),
        "workers_peak_mib": round(peak[1] / mib, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "seconds": round(seconds, 1),
    }
    served = sum(statuses.values())
    held = (
        growth < GROWTH_BOUND_MIB
        and second_half < HALF_BOUND_MIB
        and alive
        and not statuses.get(500)
    )
    reliability(
        "hostile",
        f"memory under {load.requests:,} hostile requests, 8 at a time, bodies up to 9 MiB",
        held=held,
        tried=served,
        entries_lost=0,
        errors=statuses.get(500, 0),
        **figures,
    )
    print(figures)
    assert served >= load.requests + 200 - 16 and not statuses.get(500), statuses
    assert alive and code == 0
    assert growth < GROWTH_BOUND_MIB, figures
    assert second_half < HALF_BOUND_MIB, figures


# Bounds with a wide margin, since memory is not a timing. Measured here over 2,200 requests:
# +30 to +50 MiB at the peak, +3 to +14 MiB after, and -2 to +17 MiB between the halves (the
# allocator's noise). 8 requests at a time may each hold a body of up to 8 MiB plus a decoded
# copy, and what the allocator keeps of that afterwards is no leak: the growth bound leaves
# room for it. A leak shows as growth between the two halves of a run: one of 10 KiB per
# request passes the half bound in the long run (6,000 requests a half).
GROWTH_BOUND_MIB = 96
HALF_BOUND_MIB = 48


async def test_memory_stays_bounded_under_hostile_load(tmp_path, reliability):
    await run_memory_case(tmp_path, reliability, Load(requests=2000, large=2 << 20, push=300))


@pytest.mark.slow
async def test_memory_stays_bounded_under_long_hostile_load(tmp_path, reliability):
    await run_memory_case(tmp_path, reliability, Load(requests=12_000, large=6 << 20, push=2000))
