"""Joining a network with an invite, from a node that is not running yet.

1. check the token (signature, expiry) and that the inviter's node is in the
   network it names;
2. spend the token at the inviter's node with this member's first entry (its
   profile, signed but not yet stored here); the inviter's node checks the
   token *before* it stores anything, then stores the profile and endorses
   the newcomer in its own feed;
3. only then bind this store to the network, store the profile, and download
   the network from the inviter's node (a normal sync);
4. check that the genesis arrived.

A refused token therefore leaves no trace on either node.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from .. import entries, ids, invites, peers
from ..entries import now_ms
from ..errors import PeerMisbehavedError, TokenError
from ..identity import Identity
from ..node.runner import StoreRunner
from ..store import FeedState, IngestReport, Store
from ..verify import VerifyPool
from .client import DEFAULT_TIMEOUT, PeerClient
from .gossip import Gossiper

Progress = Callable[[int], None]


@dataclass
class JoinResult:
    network: bytes
    inviter: str
    entries: int
    endorsed: bool


async def join(
    db: StoreRunner,
    who: Identity,
    token: str,
    profile: dict[str, Any],
    *,
    progress: Progress | None = None,
    verify_workers: int = 0,
) -> JoinResult:
    inv = invites.parse(token)
    if inv.inviter == who.public:
        raise TokenError("this invite was issued by this very member; give it to someone else")
    url = peers.normalise_url(inv.endpoint)

    def mine(s: Store) -> list[bytes]:
        if s.network is not None and s.network != inv.network:
            raise TokenError(
                f"this node is already in network {ids.network(s.network)}; "
                "use another --home to join a second network"
            )
        return s.feed_raw(who.public, 0, 2000) if s.network is not None else []

    own = await db.call(mine)
    pool = VerifyPool(verify_workers)

    async def ingest(raws: list[bytes], source: str, after: Any = None) -> IngestReport:
        verify = await pool.presort(raws)
        if after is not None:
            await asyncio.shield(after)
        report = await db.call(lambda s: s.ingest(raws, verify=verify or pool))
        if progress is not None:
            progress(len(raws))
        return report

    async def feeds() -> list[FeedState]:
        return await db.call(lambda s: s.summary())

    try:
        async with aiohttp.ClientSession(timeout=DEFAULT_TIMEOUT) as session:
            client = PeerClient(session, who)
            info = await client.send_info(url)
            if info.network != ids.network(inv.network):
                raise PeerMisbehavedError(f"{url} is not in the network this invite names")
            if not own:
                first = entries.create(who, network=inv.network, seq=1, prev=None,
                                       kind="profile", body=profile)  # fmt: skip
                own = [first.raw]
            answer = await client.send_join(url, token, own)  # raises if the token is refused
            endorsement = answer.get("endorsement")

            def bind(s: Store) -> None:
                s.set_network(inv.network)
                s.ingest(own)
                peers.add(s, url, source="invite", now=now_ms())

            await db.call(bind)
            gossiper = Gossiper(
                call=db.call, identity=who, client=client, network=lambda: inv.network,
                feeds=feeds, ingest=ingest, interval=1.0, fanout=1, max_batch=2000,
                own_urls=set(),
            )  # fmt: skip
            result = await gossiper.sync_with(url)
            if result is None:
                row = await db.call(lambda s: [p for p in peers.all_peers(s) if p.url == url])
                raise PeerMisbehavedError(
                    f"joined, but downloading the network from {url} failed "
                    f"({row[0].last_error if row else '?'}); `p2pnet run` will catch up"
                )
            count = await db.call(lambda s: (s.index_pending(), s.count())[1])
            if await db.call(lambda s: s.charter()) is None:
                raise PeerMisbehavedError(f"{url} did not send the network's charter (genesis)")
    finally:
        pool.close()
    return JoinResult(inv.network, ids.member(inv.inviter), count, isinstance(endorsement, bytes))
