"""Node: one process, two listeners.

The peer endpoint (``/p2p/v1``) listens on ``config.listen``; the local API and
website on ``config.api`` (loopback by default). ``start()`` opens the store,
binds both, writes ``node.json`` in the home (pid and bound URLs, so the CLI
and tests can find a node started on port 0) and starts gossip; ``stop()``
undoes all of it in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from .. import directory, ids, keychain
from ..config import Home, NodeConfig, split_hostport
from ..entries import now_ms
from ..identity import Identity
from ..store import FeedState, IngestReport, Store
from ..sync import httpsig
from ..sync.client import DEFAULT_TIMEOUT, PeerClient
from ..sync.gossip import Gossiper
from ..verify import VerifyPool
from .limits import ConnectionGuard
from .peer import RateLimiter, make_peer_app
from .runner import StoreRunner

log = logging.getLogger(__name__)


@dataclass
class NodeContext:
    """What every handler may use."""

    home: Home
    config: NodeConfig
    identity: Identity
    store: StoreRunner
    verify: VerifyPool
    replay_guard: httpsig.ReplayGuard
    peer_limiter: RateLimiter
    ip_limiter: RateLimiter
    admin_token: str
    member_id: str = ""  # the member this node signs for (its first key's id)
    network: bytes | None = None
    gossiper: Gossiper | None = None
    started_ts: int = field(default_factory=now_ms)
    entry_bytes_in: int = 0  # signed bytes received from peers, duplicates included
    entries_in_total: int = 0
    _dirty: asyncio.Event = field(default_factory=asyncio.Event)
    _feeds_cache: tuple[tuple[int, int], list[FeedState]] | None = None

    async def feeds(self) -> list[FeedState]:
        """Every feed's summary (``Store.summary``), cached until the log or block list changes."""

        def load(s: Store) -> tuple[tuple[int, int], list[FeedState]]:
            key = s.summary_key()
            if self._feeds_cache is not None and self._feeds_cache[0] == key:
                return self._feeds_cache
            return key, s.summary()

        self._feeds_cache = await self.store.call(load)
        return self._feeds_cache[1]

    async def ingest(
        self, raws: list[bytes], source: str, *, after: asyncio.Future[object] | None = None
    ) -> IngestReport:
        """Verify (big batches in worker processes) and store entries from a peer.

        ``after``: a previous ingest that must reach the store first (a stream
        of one feed arrives in order; its batches must be written in order).
        """
        verify = await self.verify.presort(raws)
        if after is not None:
            await asyncio.shield(after)

        def run(s: Store) -> IngestReport:
            return s.ingest(raws, verify=verify or self.verify)

        report = await self.store.call(run)
        self.entry_bytes_in += sum(len(r) for r in raws)
        self.entries_in_total += len(raws)
        if report.accepted or report.forks:
            self.index_soon()
        if report.blocked:
            log.info(
                "left out %d entries of blocked members from %s", len(report.blocked), source[:40]
            )
        for i, code, detail in report.refused[:5]:
            log.info("refused entry %d from %s: %s (%s)", i, source[:40], detail, code)
        if len(report.refused) > 5:
            log.info("… and %d more refused from %s", len(report.refused) - 5, source[:40])
        if report.forks:
            log.warning(
                "fork detected: %s signed two histories",
                ", ".join(sorted({e.author_id[:12] for e in report.forks})),
            )
        if self.network is None:
            self.network = await self.store.call(lambda s: s.network)
        return report

    def index_soon(self) -> None:
        """Ask the indexer to bring search up to date (off the ingest path)."""
        self._dirty.set()

    async def run_indexer(self) -> None:
        """Index what ingest changed, in small steps so ingest keeps the store thread."""
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            while await self.store.call(lambda s: s.index_pending(limit=200)):
                await asyncio.sleep(0)

    def local_write(self) -> None:
        """Called after this process appended an entry: push it soon."""
        if self.gossiper is not None:
            self.gossiper.poke()


class Node:
    def __init__(self, home: Home, config: NodeConfig, identity: Identity, *, rng: random.Random | None = None) -> None:
        self.home = home
        self.config = config
        self.identity = identity
        self.rng = rng or random.Random()
        self._runners: list[web.AppRunner] = []
        self.connection_guards: dict[str, ConnectionGuard] = {}  # listener -> its guard
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self.ctx: NodeContext | None = None
        self.peer_url = ""
        self.api_url = ""

    async def start(self) -> None:
        store = StoreRunner(self.home.db_file)
        await store.open()
        ctx = NodeContext(
            home=self.home,
            config=self.config,
            identity=self.identity,
            store=store,
            verify=VerifyPool(self.config.verify_workers),
            replay_guard=httpsig.ReplayGuard(self.config.replay_window),
            peer_limiter=RateLimiter(self.config.rate_per_minute),
            ip_limiter=RateLimiter(self.config.rate_per_minute * 4),
            admin_token=self._admin_token(),
        )
        ctx.network = await store.call(lambda s: s.network)
        ctx.member_id = await store.call(lambda s: directory.member_of_key(s.conn, self.identity.public))
        self.ctx = ctx
        try:
            from .api import make_api_app
            from .website import setup_website

            host, port = split_hostport(self.config.listen, "listen")
            self.peer_url = await self._serve(make_peer_app(ctx), host, port, "peer endpoint")
            host, port = split_hostport(self.config.api, "api")
            self.api_url = await self._serve(setup_website(make_api_app(ctx), ctx), host, port, "API")
        except BaseException:
            await self.stop()
            raise
        own_urls = {self.peer_url}
        if self.config.public_url:
            own_urls.add(self.config.public_url.rstrip("/"))
        self._session = aiohttp.ClientSession(
            timeout=DEFAULT_TIMEOUT,
            headers={"User-Agent": "p2pnet"},
            skip_auto_headers=("Accept-Encoding",),
        )
        gossiper = Gossiper(
            call=store.call,
            identity=self.identity,
            client=PeerClient(self._session, self.identity),
            network=lambda: ctx.network,
            feeds=ctx.feeds,
            ingest=ctx.ingest,
            interval=self.config.gossip_interval,
            fanout=self.config.fanout,
            max_batch=self.config.max_batch,
            own_urls=own_urls,
            rng=self.rng,
        )
        ctx.gossiper = gossiper
        gossiper.set_identity(self.identity, ctx.member_id)
        self._tasks = [
            asyncio.create_task(self._watch_key(), name="watch-key"),
            asyncio.create_task(gossiper.run_forever(), name="gossip"),
            asyncio.create_task(gossiper.watch_local(), name="push-local"),
            asyncio.create_task(self._watch_network(), name="watch-network"),
            asyncio.create_task(ctx.run_indexer(), name="indexer"),
        ]
        self._write_runtime()
        log.info(
            "node %s up: peers on %s, API and website on %s",
            self.identity.member_id[:12], self.peer_url, self.api_url,
        )  # fmt: skip

    def _admin_token(self) -> str:
        try:
            return self.home.admin_token()
        except Exception:
            return self.home.write_admin_token()

    async def _serve(self, app: web.Application, host: str, port: int, listener: str) -> str:
        """Serve ``app``; slow clients are cut off and each address may hold only so many
        connections (``node.limits``)."""
        idle = self.config.idle_timeout
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False,
            keepalive_timeout=idle,  # also bounds the wait for a new connection's first request
            lingering_time=min(10.0, idle),  # reading the rest of a body refused before its end
        )  # fmt: skip
        await runner.setup()
        self._runners.append(runner)
        assert runner.server is not None
        guard = self.connection_guards[listener] = ConnectionGuard(self.config.max_connections_per_ip, listener)
        guard.install(runner.server)
        site = web.TCPSite(runner, host, port, reuse_address=True)
        await site.start()
        bound_port = site.port if port == 0 else port
        shown = host if host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        if ":" in shown:
            shown = f"[{shown}]"
        return f"http://{shown}:{bound_port}"

    async def _watch_network(self) -> None:
        """Notice when another process (``p2pnet join``) binds the store to a network."""
        assert self.ctx is not None
        while self.ctx.network is None:
            await asyncio.sleep(0.5)
            self.ctx.network = await self.ctx.store.call(lambda s: s.network)

    async def _watch_key(self, poll: float = 1.0) -> None:
        """Follow a hand-over made by `p2pnet key rotate` while the node runs: sign with the
        new key from then on, and keep ``ctx.member_id`` right (it changes when a chain of
        keys this node's key belongs to arrives by gossip)."""
        assert self.ctx is not None and self.ctx.gossiper is not None
        ctx, seen = self.ctx, self._key_stamp()
        while True:
            await asyncio.sleep(poll)
            try:
                stamp = self._key_stamp()
                if stamp != seen:
                    seen = stamp
                    identity = await ctx.store.call(lambda s: keychain.settle_home_key(self.home, s))
                    if identity.public != self.identity.public:
                        log.info("now signing with the new key %s (key rotated)", identity.member_id[:12])
                        self.identity = ctx.identity = identity
                        self._write_runtime()
                key = self.identity.public
                ctx.member_id = await ctx.store.call(lambda s: directory.member_of_key(s.conn, key))
                ctx.gossiper.set_identity(self.identity, ctx.member_id)
            except Exception:
                log.exception("checking the member key failed")

    def _key_stamp(self) -> tuple[int, int] | None:
        try:
            st = self.home.key_file.stat()
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns

    def _write_runtime(self) -> None:
        info: dict[str, Any] = {
            "pid": os.getpid(),
            "member": self.ctx.member_id if self.ctx and self.ctx.member_id else self.identity.member_id,
            "key": self.identity.member_id,
            "peer_url": self.peer_url,
            "api_url": self.api_url,
            # the addresses this run uses (flags of `p2pnet run` override config.toml)
            "listen": self.config.listen,
            "api": self.config.api,
            "public_url": self.config.public_url,
            "started_ts": now_ms(),
        }
        if self.ctx and self.ctx.network:
            info["network"] = ids.network(self.ctx.network)
        tmp = self.home.runtime_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(info))
        tmp.replace(self.home.runtime_file)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners = []
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self.ctx is not None:
            self.ctx.verify.close()
            await self.ctx.store.close()
            self.ctx = None
        with contextlib.suppress(FileNotFoundError):
            info = json.loads(self.home.runtime_file.read_text())
            if info.get("pid") == os.getpid():
                self.home.runtime_file.unlink()


async def run_until_signalled(node: Node) -> None:
    """Start, serve until SIGINT/SIGTERM, then stop cleanly."""
    import signal

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await node.start()
    print(f"peer endpoint: {node.peer_url}/p2p/v1", flush=True)
    print(f"API:           {node.api_url}/api/v1", flush=True)
    print(f"website:       {node.api_url}/", flush=True)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await node.stop()
