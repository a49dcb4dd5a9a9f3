"""Gossiper: push-pull anti-entropy with a few random peers.

Every ``gossip_interval`` seconds (±50% jitter) the node syncs with
``fanout`` peers chosen at random among those not backing off. A sync is:

1. ``/info`` the first time, to learn the peer's member id and network;
2. reconcile feed summaries by ranges until the differences are known;
3. fetch what the peer has and we lack, streamed in bounded batches and
   ingested as they arrive (so memory stays flat in a big catch-up);
4. push what we have and the peer lacks.

Entries of every member are relayed, not only the two nodes' own, so members
who are never online together still exchange updates through others. A new
local entry (written by this node or by the CLI in another process) is pushed
at once to ``fanout`` peers; everything else travels by pull.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import ids, peers
from ..entries import now_ms
from ..errors import PeerError, PeerMisbehavedError
from ..identity import Identity
from ..store import FeedState, IngestReport, Store
from . import reconcile
from .client import PeerClient, PeerInfo
from .messages import FetchRequest

log = logging.getLogger(__name__)

MAX_ROUND_TRIPS = 16
FETCH_BYTES = 8 * 1024 * 1024
PUSH_BYTES = 2 * 1024 * 1024

StoreCall = Callable[[Callable[[Store], Any]], Awaitable[Any]]


@dataclass
class SyncResult:
    url: str
    received: int = 0
    sent: int = 0
    round_trips: int = 0
    refused: int = 0


@dataclass
class GossipStats:
    rounds: int = 0
    syncs: int = 0
    failures: int = 0
    entries_in: int = 0
    entries_out: int = 0
    last_sync_ts: int | None = None
    pushes: int = 0
    history: list[SyncResult] = field(default_factory=list)


class Gossiper:
    """Owns the node's background sync tasks."""

    def __init__(
        self,
        *,
        call: StoreCall,
        identity: Identity,
        client: PeerClient,
        network: Callable[[], bytes | None],
        feeds: Callable[[], Awaitable[list[FeedState]]],
        ingest: Callable[..., Awaitable[IngestReport]],  # (raws, source, after=None)
        interval: float,
        fanout: int,
        max_batch: int,
        own_urls: set[str],
        rng: random.Random | None = None,
    ) -> None:
        self.call = call
        self.identity = identity
        self.own_member = identity.member_id  # the member's id (its first key's) once known
        self.client = client
        self.network = network
        self.feeds = feeds
        self.ingest = ingest
        self.interval = interval
        self.fanout = fanout
        self.max_batch = max_batch
        self.own_urls = own_urls
        self.rng = rng or random.Random()
        self.stats = GossipStats()
        self._wake = asyncio.Event()
        self._pushed_seq: int | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._info: dict[str, PeerInfo] = {}

    # -- background loops ----------------------------------------------------

    async def run_forever(self) -> None:
        while True:
            try:
                await self.round()
            except Exception:  # a bug in one round must not stop gossip
                log.exception("gossip round failed")
            delay = self.interval * self.rng.uniform(0.5, 1.5)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()

    async def watch_local(self, poll: float = 0.25) -> None:
        """Push new entries of this node's own feed as soon as they are written."""
        me = self.identity.public
        feed = await self.call(lambda s: s.feed(me))
        self._pushed_seq = 0 if feed is None else feed.seq
        while True:
            try:
                await self.push_own()
            except Exception:
                log.exception("pushing local entries failed")
            await asyncio.sleep(poll)

    def set_identity(self, identity: Identity, member: str) -> None:
        """Sign with a new key from now on (after ``p2pnet key rotate``), and push its feed."""
        if identity.public != self.identity.public:
            self.identity = identity
            self.client.who = identity
            self._pushed_seq = 0
        self.own_member = member

    def poke(self) -> None:
        """Run a round now (e.g. after a peer was added)."""
        self._wake.set()

    # -- a round -------------------------------------------------------------

    async def round(self) -> list[SyncResult]:
        if self.network() is None:
            return []
        self.stats.rounds += 1
        now = now_ms()
        me = self.own_member
        chosen = await self.call(
            lambda s: (
                peers.discover(s, own_urls=self.own_urls, own_member=me, now=now),
                peers.due(s, now=now, k=self.fanout, rng=self.rng, own_member=me),
            )[1]
        )
        results = await asyncio.gather(*(self.sync_with(p.url) for p in chosen))
        return [r for r in results if r is not None]

    async def sync_with(self, url: str) -> SyncResult | None:
        """One push-pull exchange with ``url``; failures are recorded, never raised."""
        lock = self._locks.setdefault(url, asyncio.Lock())
        if lock.locked():
            return None
        async with lock:
            try:
                result, member, my_seq = await self._exchange(url)
            except PeerError as exc:
                self._info.pop(url, None)
                self.stats.failures += 1
                error = str(exc)
                wait = await self.call(
                    lambda s: peers.record_failure(s, url, error, now=now_ms(), rng=self.rng)
                )
                log.info("sync with %s failed (%s); retry in %.1f s", url, exc, wait / 1000)
                return None
            self.stats.syncs += 1
            self.stats.entries_in += result.received
            self.stats.entries_out += result.sent
            self.stats.last_sync_ts = now_ms()
            await self.call(
                lambda s: peers.record_ok(
                    s, url, now=now_ms(), member=member, got=result.received, sent=result.sent,
                    my_seq=my_seq,
                )
            )  # fmt: skip
            if result.received or result.sent:
                log.info(
                    "synced with %s (%s): %d in, %d out, %d round trips",
                    url, (member or "?")[:12], result.received, result.sent, result.round_trips,
                )  # fmt: skip
            return result

    async def _exchange(self, url: str) -> tuple[SyncResult, str, int]:
        network = self.network()
        assert network is not None
        info = self._info.get(url)
        if info is None:  # asked once per peer; forgotten when a sync with it fails
            info = await self.client.send_info(url)
            if info.network != ids.network(network):
                raise PeerMisbehavedError(f"{url} is in network {info.network}, not ours")
            if info.member == self.identity.member_id:
                raise PeerMisbehavedError(f"{url} is this node itself")
            self._info[url] = info
        result = SyncResult(url)
        mine = await self.feeds()
        diff = reconcile.Diff()
        ranges = [reconcile.summarise(mine)]
        while ranges:
            if result.round_trips >= MAX_ROUND_TRIPS:
                raise PeerMisbehavedError(f"{url}: reconciliation did not settle")
            ans = await self.client.send_reconcile(url, network, ranges)
            result.round_trips += 1
            diff.merge_answer(mine, ans)
            ranges = diff.next_ranges
        blocked = await self.call(lambda s: s.blocked_authors())
        if blocked:
            diff.leave_out(blocked)
        if diff.want or diff.proofs_want or diff.tips_want:
            await self._fetch(url, network, diff, result)
        if diff.give or diff.proofs_give:
            await self._push(url, network, diff, result)
        me = self.identity.public
        own = await self.call(lambda s: s.feed(me))
        return result, info.member, 0 if own is None else own.seq

    async def _fetch(self, url: str, network: bytes, diff: reconcile.Diff, result: SyncResult) -> None:
        """Stream what we lack, ingesting batches while later ones are on the wire."""
        want = dict(diff.want)
        proofs = sorted(diff.proofs_want)
        tips = dict(diff.tips_want)  # asked once: the furthest entry of each blocked feed

        async def collect(task: asyncio.Task[IngestReport]) -> None:
            report = await task
            result.received += len(report.accepted) + len(report.forks)
            result.refused += len(report.refused)

        while want or proofs or tips:
            req = FetchRequest(network, sorted({**want, **tips}.items()), proofs, FETCH_BYTES)
            # up to two batches in flight: one verifying in the workers while
            # the one before it is written; each is written after its predecessor
            inflight: collections.deque[asyncio.Task[IngestReport]] = collections.deque()
            got = 0
            try:
                async for batch in self.client.send_fetch(url, req):
                    got += len(batch)
                    prev = inflight[-1] if inflight else None
                    inflight.append(asyncio.create_task(self.ingest(batch, url, after=prev)))
                    while len(inflight) > 2:
                        await collect(inflight.popleft())
            finally:
                while inflight:
                    await collect(inflight.popleft())
            proofs, tips = [], {}
            authors = list(want)
            heads = await self.call(lambda s, wanted=authors: {a: s.feed(a) for a in wanted})
            progress = 0
            for a in authors:
                f = heads[a]
                seq = 0 if f is None else f.seq
                progress += seq - want[a]
                if seq >= diff.target.get(a, 0):
                    del want[a]
                else:
                    want[a] = seq
            if got == 0 or progress == 0:
                break  # the peer has nothing more for us, or sends what we refuse

    async def _push(self, url: str, network: bytes, diff: reconcile.Diff, result: SyncResult) -> None:
        give = sorted(diff.give.items())
        proofs = sorted(diff.proofs_give)
        batch: list[bytes] = []
        size = 0

        async def flush() -> None:
            nonlocal batch, size
            if batch:
                report = await self.client.send_push(url, network, batch)
                result.sent += int(report.get("accepted", 0)) + int(report.get("forks", 0))
                batch, size = [], 0

        for author in proofs:
            for raw in await self.call(lambda s, a=author: s.fork_proofs(a)):
                batch.append(raw)
                size += len(raw)
        for author, after in give:
            while True:
                raws: Sequence[bytes] = await self.call(
                    lambda s, a=author, n=after: s.feed_raw(a, n, 500)
                )
                for raw in raws:
                    batch.append(raw)
                    size += len(raw)
                    if len(batch) >= self.max_batch or size >= PUSH_BYTES:
                        await flush()
                after += len(raws)
                if len(raws) < 500:
                    break
        await flush()

    async def push_own(self) -> None:
        """Push this node's new own entries to ``fanout`` peers."""
        me = self.identity.public
        network = self.network()
        if network is None or self._pushed_seq is None:
            return
        feed = await self.call(lambda s: s.feed(me))
        if feed is None or feed.seq <= self._pushed_seq:
            return
        start = self._pushed_seq
        raws = await self.call(lambda s: s.feed_raw(me, start, self.max_batch))
        self._pushed_seq = start + len(raws)
        now = now_ms()
        targets = await self.call(
            lambda s: peers.due(s, now=now, k=self.fanout, rng=self.rng, own_member=self.own_member)
        )
        self.stats.pushes += 1

        async def one(url: str) -> None:
            try:
                report = await self.client.send_push(url, network, raws)
            except PeerError as exc:
                log.info("push to %s failed: %s", url, exc)
                return
            if report.get("refused"):
                # the peer lacks earlier entries (a gap): a full sync mends it
                await self.sync_with(url)

        await asyncio.gather(*(one(p.url) for p in targets))
        log.info("pushed %d new entries to %d peers", len(raws), len(targets))

