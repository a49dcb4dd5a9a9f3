"""The hostile-peer suite against whole nodes: refusals that must store nothing, floods,
replayed requests, forks, slow clients and memory.

Every case runs real nodes on loopback (in this process, or as a real ``p2pnet run``
process where memory is measured) with real SQLite files, and records its figures
with the ``reliability`` fixture before asserting on them.
"""

from __future__ import annotations

import json

import aiohttp
import msgpack

from p2pnet import entries
from p2pnet.identity import Identity
from p2pnet.sync import messages

from .conftest import CHARTER
from .nodes import make_home, start
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
