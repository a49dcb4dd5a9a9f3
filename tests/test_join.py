"""Invite and join through real running nodes."""

from __future__ import annotations

import pytest

from p2pnet import invites
from p2pnet.errors import PeerMisbehavedError, TokenError
from p2pnet.node.runner import StoreRunner
from p2pnet.store import Store
from p2pnet.sync.join import join

from .conftest import CHARTER
from .nodes import make_home, start, wait_for


def issue(node, *, uses=1, ttl_ms=3600_000):
    inv, token = invites.create(node.identity, node.ctx.network, node.peer_url, ttl_ms=ttl_ms, uses=uses)

    def save(s: Store) -> None:
        s.conn.execute(
            "INSERT INTO invites(secret_hash, expires_ts, uses_left, created_ts) VALUES (?,?,?,0)",
            (inv.secret_hash, inv.expires, inv.uses),
        )

    return save, token


async def test_join_downloads_publishes_and_is_endorsed(tmp_path):
    ha, wa = make_home(tmp_path, "a", charter=dict(CHARTER))
    a = await start(ha, wa)
    try:
        save, token = issue(a)
        await a.ctx.store.call(save)
        hb, wb = make_home(tmp_path, "b")
        db = StoreRunner(hb.db_file)
        await db.open()
        seen = []
        try:
            result = await join(db, wb, token, {"name_th": "กลุ่มแม่บ้าน"}, progress=seen.append)
            assert result.endorsed and result.network == a.ctx.network
            assert sum(seen) >= 2
            charter = await db.call(lambda s: s.charter())
            assert charter["name"] == CHARTER["name"]
            # the token is spent
            hc, wc = make_home(tmp_path, "c")
            dc = StoreRunner(hc.db_file)
            await dc.open()
            with pytest.raises(PeerMisbehavedError, match="already used"):
                await join(dc, wc, token, {"name_en": "Youth group"})
            assert await dc.call(lambda s: (s.network, s.count())) == (None, 0)
            await dc.close()
            # and the refused newcomer left no trace at the inviter
            held = await a.ctx.store.call(lambda s: s.feed(wc.public))
            assert held is None
        finally:
            await db.close()
        # the inviter endorsed the newcomer in its own feed
        rows = await a.ctx.store.call(
            lambda s: s.conn.execute("SELECT dst FROM endorsements WHERE active=1").fetchall()
        )
        assert (wb.member_id,) in rows
    finally:
        await a.stop()


async def test_joined_node_then_gossips(tmp_path):
    ha, wa = make_home(tmp_path, "a", charter=dict(CHARTER))
    a = await start(ha, wa)
    save, token = issue(a)
    await a.ctx.store.call(save)
    hb, wb = make_home(tmp_path, "b")
    db = StoreRunner(hb.db_file)
    await db.open()
    await join(db, wb, token, {"name_th": "โรงเรียนส่งเสริมสุขภาพ"})
    await db.close()
    b = await start(hb, wb)
    try:
        e = await b.ctx.store.call(lambda s: s.append(wb, "activity", {
            "title": "อบรม อสม.", "kind": "training", "date": "2026-05-01"}))  # fmt: skip
        await wait_for(
            lambda: a.ctx.store.call(lambda s: s.conn.execute(
                "SELECT 1 FROM entries WHERE id=?", (e.id,)).fetchone() is not None),
            what="B's new entry to reach A",
        )  # fmt: skip
    finally:
        await a.stop()
        await b.stop()


def test_token_tampering_and_expiry():
    from p2pnet.identity import Identity

    who = Identity.generate()
    _, token = invites.create(who, bytes(32), "http://127.0.0.1:7700", ttl_ms=60_000, uses=1)
    assert invites.parse(token).inviter == who.public
    body = token[len(invites.PREFIX):]
    for pos in (5, len(body) // 2, len(body) - 3):
        flipped = body[:pos] + ("A" if body[pos] != "A" else "B") + body[pos + 1:]
        with pytest.raises(TokenError):
            invites.parse(invites.PREFIX + flipped)
    with pytest.raises(TokenError, match="start with"):
        invites.parse("hello")
    _, old = invites.create(who, bytes(32), "http://x", ttl_ms=-1, uses=1)
    with pytest.raises(TokenError, match="expired"):
        invites.parse(old)


async def test_other_network_token_is_refused(tmp_path):
    ha, wa = make_home(tmp_path, "a", charter=dict(CHARTER))
    hx, wx = make_home(tmp_path, "x", charter={"name": "อีกเครือข่าย", "kind": "formed"})
    a = await start(ha, wa)
    x = await start(hx, wx)
    try:
        # a token naming network X but pointing at A's node
        _, token = invites.create(wx, x.ctx.network, a.peer_url, ttl_ms=60_000, uses=1)
        hb, wb = make_home(tmp_path, "b")
        db = StoreRunner(hb.db_file)
        await db.open()
        with pytest.raises(PeerMisbehavedError, match="not in the network"):
            await join(db, wb, token, {"name_en": "B"})
        await db.close()
    finally:
        await a.stop()
        await x.stop()
