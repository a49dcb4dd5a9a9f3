"""Hostile input on every peer endpoint: a clear refusal, no crash, nothing stored.

The fuzzing of every endpoint, floods, forks, replays of captured requests and slow
clients are in tests/test_hostile_fuzz.py and tests/test_hostile_node.py.
"""

from __future__ import annotations

import dataclasses
import time

import aiohttp
import msgpack
import pytest
from aiohttp import web

from p2pnet import codec, entries
from p2pnet.errors import PeerMisbehavedError
from p2pnet.identity import Identity
from p2pnet.store import Store
from p2pnet.sync import httpsig, messages
from p2pnet.sync.client import PeerClient

from .conftest import CHARTER
from .nodes import FAST, make_home, start

ENDPOINTS = ["/p2p/v1/reconcile", "/p2p/v1/fetch", "/p2p/v1/push", "/p2p/v1/join"]
STRANGER = Identity.generate()


@pytest.fixture
async def node(tmp_path):
    home, who = make_home(tmp_path, "a", charter=dict(CHARTER))
    n = await start(home, who, dataclasses.replace(FAST, max_body_bytes=256 * 1024,
                                                  rate_per_minute=100_000))  # fmt: skip
    yield n
    await n.stop()


async def post(session, node, path, body, *, who=STRANGER, headers=None, now=None):
    h = httpsig.sign_request(who, "POST", path, body, now=now)
    h.update(headers or {})
    async with session.post(node.peer_url + path, data=body, headers=h) as resp:
        return resp.status, await resp.read(), resp.headers.get("Content-Type", "")


async def log_state(node):
    return await node.ctx.store.call(
        lambda s: (s.count(), s.conn.execute("SELECT count(*) FROM entries").fetchone()[0])
    )


async def test_unsigned_requests_are_refused(node):
    async with aiohttp.ClientSession() as session:
        for path in ENDPOINTS:
            async with session.post(node.peer_url + path, data=b"\x80") as resp:
                assert resp.status == 401
                problem = await resp.json(content_type=None)
                assert problem["type"] == "urn:p2pnet:problem:unauthenticated"
                assert "not signed" in problem["detail"]


async def test_bad_signatures_stale_and_replayed(node):
    body = messages.encode_reconcile(node.ctx.network, [])
    path = "/p2p/v1/reconcile"
    async with aiohttp.ClientSession() as session:
        status, data, _ = await post(session, node, path, body, now=time.time() - 3600)
        assert status == 401 and b"window" in data
        h = httpsig.sign_request(STRANGER, "POST", path, body)
        h["Signature"] = "p2p=:" + "A" * 86 + "==:"
        async with session.post(node.peer_url + path, data=body, headers=h) as resp:
            assert resp.status == 401 and "does not verify" in (await resp.json(content_type=None))["detail"]
        h = httpsig.sign_request(STRANGER, "POST", path, body)
        async with session.post(node.peer_url + path, data=body, headers=h) as resp:
            assert resp.status == 200
        async with session.post(node.peer_url + path, data=body, headers=h) as resp:
            assert resp.status == 401 and "replayed" in (await resp.json(content_type=None))["detail"]
        h = httpsig.sign_request(STRANGER, "POST", path, body)
        async with session.post(node.peer_url + path, data=body + b"x", headers=h) as resp:
            assert resp.status == 401 and "Content-Digest" in (await resp.json(content_type=None))["detail"]


async def test_wrong_network_and_foreign_entries(node):
    elsewhere = Identity.generate()
    g = entries.create(elsewhere, network=b"", seq=1, prev=None, kind="network",
                       body={"name": "อื่น", "kind": "formed"})  # fmt: skip
    async with aiohttp.ClientSession() as session:
        status, data, _ = await post(session, node, "/p2p/v1/reconcile",
                                     messages.encode_reconcile(g.id, []))  # fmt: skip
        assert status == 409 and b"wrong-network" in data
        # entries signed for another network, pushed under our network id
        other = entries.create(elsewhere, network=g.id, seq=2, prev=g.id, kind="leave", body={})
        status, data, _ = await post(session, node, "/p2p/v1/push",
                                     messages.encode_push(node.ctx.network, [other.raw, g.raw]))  # fmt: skip
        report = msgpack.unpackb(data)
        assert status == 200 and report["accepted"] == 0
        assert {r["code"] for r in report["refused"]} == {"wrong-network"}


async def test_oversized_body_and_batch(node):
    async with aiohttp.ClientSession() as session:
        big = messages.encode_push(node.ctx.network, [b"x" * 1000] * 300)
        status, data, _ = await post(session, node, "/p2p/v1/push", big)
        assert status == 413 and b"too-large" in data
        many = messages.encode_push(node.ctx.network, [b"x"] * 2001)
        status, data, _ = await post(session, node, "/p2p/v1/push", many)
        assert status == 400 and b"2000" in data
        async with session.get(node.peer_url + "/p2p/v1/info") as resp:
            assert resp.status == 200


async def test_peer_streaming_more_than_asked_is_cut_off(tmp_path, aiohttp_server):
    """A hostile peer answers a fetch with an endless stream: the client stops reading."""

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        chunk = messages.frame(b"\x00" * 60000) * 16
        for _ in range(400):  # ~380 MB if nobody stopped us
            try:
                await resp.write(chunk)
            except (ConnectionError, RuntimeError):
                break
        return resp

    app = web.Application()
    app.router.add_post("/p2p/v1/fetch", endless)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as session:
        client = PeerClient(session, STRANGER)
        req = messages.FetchRequest(bytes(32), [(bytes(32), 0)], [], 1_000_000)
        got = 0
        with pytest.raises(PeerMisbehavedError, match="more than"):
            async for batch in client.send_fetch(str(server.make_url("")).rstrip("/"), req):
                got += len(batch)
        assert got < 100


def test_store_untouched_by_garbage(tmp_path):
    with Store(tmp_path / "x.sqlite3") as s:
        s.create_network(STRANGER, {"name": "ก", "kind": "natural"})
        report = s.ingest([codec.encode([1, 2, 3]) + bytes(64), b"", b"\xff" * 70])
        assert len(report.refused) == 3 and s.count() == 1
