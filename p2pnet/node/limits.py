"""Limits on slow and greedy clients, for both of the node's listeners.

aiohttp bounds the size of a request (``client_max_size``, header line and field
sizes) but not how long it may take to arrive, nor how many connections one
address may hold open. The node adds, from its configuration (docs/protocol.md,
section 8):

- ``idle_timeout``: a connection must deliver a complete request head within this
  many seconds of opening (or of its previous answer), else it is closed. This is
  aiohttp's keep-alive timer, which also runs before the first request;
- ``body_timeout``: the whole body must arrive within this many seconds of the
  head; ``read_body`` reads it under that deadline (a 408 problem otherwise)
  before any handler runs (the peer endpoint's authentication, the API's
  ``read_body_middleware``), so no handler waits on a trickling client. A
  streamed answer (``fetch``) may likewise keep the node waiting for its
  client to read it for that long in all (``SendDeadline``), then the
  connection is dropped;
- ``max_connections_per_ip``: ``ConnectionGuard`` closes a new connection at once
  when its address already holds that many on the same listener.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from .keys import context_key
from .problems import Problem

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def read_body(request: web.Request) -> bytes:
    """The whole body, read under ``body_timeout`` (a 408 problem when it trickles in slower)."""
    timeout = request.app[context_key].config.body_timeout
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise Problem(
            408, "request-timeout", f"the request body did not arrive within {timeout:g} s"
        ) from None


@web.middleware
async def read_body_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Read any body first (handlers then get it from memory), so none waits on a slow client."""
    if request.body_exists:
        await read_body(request)
    return await handler(request)


class SendDeadline:
    """The time a streamed answer may spend waiting for its client to take it: ``body_timeout``
    in all. Only the waits count, not the node's own work between writes."""

    def __init__(self, request: web.Request, response: web.StreamResponse) -> None:
        self.response = response
        self.left = float(request.app[context_key].config.body_timeout)

    async def write(self, data: bytes) -> None:
        """Write ``data``; TimeoutError once the client has kept the node waiting too long."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(max(self.left, 0.0)):
                await self.response.write(data)
        finally:
            self.left -= loop.time() - started


class ConnectionGuard:
    """At most ``per_ip`` open connections from one address on one listener."""

    LOG_EVERY = 10.0  # seconds between log lines about refused connections

    def __init__(self, per_ip: int, listener: str) -> None:
        self.per_ip = per_ip
        self.listener = listener
        self.open: dict[str, int] = {}
        self.refused = 0
        self._address: dict[object, str] = {}  # request handler (one per connection) -> address
        self._logged = 0.0

    def install(self, server: web.Server) -> None:
        """Wrap the server's per-connection hooks (each RequestHandler calls them)."""
        made, lost = server.connection_made, server.connection_lost

        def connection_made(handler: web.RequestHandler, transport: asyncio.Transport) -> None:
            peer = transport.get_extra_info("peername")
            ip = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
            made(handler, transport)
            if self.open.get(ip, 0) >= self.per_ip:
                self._refuse(ip)
                # closed on the next turn of the loop: the handler is still being set up
                asyncio.get_running_loop().call_soon(handler.force_close)
                return
            self.open[ip] = self.open.get(ip, 0) + 1
            self._address[handler] = ip

        def connection_lost(handler: web.RequestHandler, exc: BaseException | None = None) -> None:
            ip = self._address.pop(handler, None)
            if ip is not None:
                left = self.open[ip] - 1
                if left:
                    self.open[ip] = left
                else:
                    del self.open[ip]
            lost(handler, exc)

        server.connection_made = connection_made  # type: ignore[method-assign]
        server.connection_lost = connection_lost  # type: ignore[method-assign]

    def _refuse(self, ip: str) -> None:
        self.refused += 1
        now = time.monotonic()
        if now - self._logged >= self.LOG_EVERY:
            self._logged = now
            log.warning(
                "closed a connection from %s to the %s: it already holds %d "
                "(max_connections_per_ip); %d refused so far",
                ip,
                self.listener,
                self.per_ip,
                self.refused,
            )
