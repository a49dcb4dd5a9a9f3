"""Joining a network with an invite, from a node that is not running yet.

1. check the token (signature, expiry) and bind the store to its network;
2. download the network from the inviter's node (a normal sync);
3. check that the genesis arrived and is the network the token names;
4. publish this member's profile (seq 1 of its feed, if it has none yet);
5. spend the token at the inviter's node, which ingests the profile and
   answers with its endorsement of the newcomer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from .. import ids, invites, peers
from ..entries import now_ms
from ..errors import PeerMisbehavedError, TokenError
from ..identity import Identity
from ..node.runner import StoreRunner
from ..store import IngestReport, Store
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

    def bind(s: Store) -> None:
        if s.network is not None and s.network != inv.network:
            raise TokenError(
                f"this node is already in network {ids.network(s.network)}; "
                "use another --home to join a second network"
            )
        s.set_network(inv.network)
        peers.add(s, inv.endpoint, source="invite", now=now_ms())

    await db.call(bind)
    pool = VerifyPool(verify_workers)
    url = peers.normalise_url(inv.endpoint)

    async def ingest(raws: list[bytes], source: str, after: Any = None) -> IngestReport:
        verify = await pool.presort(raws)
        if after is not None:
            await asyncio.shield(after)
        report = await db.call(lambda s: s.ingest(raws, verify=verify or pool))
        if progress is not None:
            progress(len(raws))
        return report

    async def feeds() -> list[Any]:
        return await db.call(lambda s: s.feeds())

    try:
        async with aiohttp.ClientSession(timeout=DEFAULT_TIMEOUT) as session:
            client = PeerClient(session, who)
            info = await client.send_info(url)
            if info.network != ids.network(inv.network):
                raise PeerMisbehavedError(f"{url} is not in the network this invite names")
            gossiper = Gossiper(
                call=db.call, identity=who, client=client, network=lambda: inv.network,
                feeds=feeds, ingest=ingest, interval=1.0, fanout=1, max_batch=2000,
                own_urls=set(),
            )  # fmt: skip
            result = await gossiper.sync_with(url)
            if result is None:
                row = await db.call(lambda s: [p for p in peers.all_peers(s) if p.url == url])
                raise PeerMisbehavedError(
                    f"could not download the network from {url}: {row[0].last_error if row else '?'}"
                )

            def publish(s: Store) -> list[bytes]:
                if s.charter() is None:
                    raise PeerMisbehavedError(f"{url} did not send the network's charter (genesis)")
                if s.feed(who.public) is None:
                    s.append(who, "profile", profile)
                return s.feed_raw(who.public, 0, 2000)

            mine = await db.call(publish)
            answer = await client.send_join(url, token, mine)
            endorsement = answer.get("endorsement")
            if isinstance(endorsement, bytes):
                await db.call(lambda s: s.ingest([endorsement]))
            count = await db.call(lambda s: (s.index_pending(), s.count())[1])
    finally:
        pool.close()
    return JoinResult(inv.network, ids.member(inv.inviter), count, isinstance(endorsement, bytes))
