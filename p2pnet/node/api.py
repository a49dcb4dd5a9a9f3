"""The local HTTP API (``/api/v1``) on the ``--api`` address.

Reads need no token when the API listens on loopback; writes always need
the node's admin token (``Authorization: Bearer <token>``), and so do reads
when the API is bound elsewhere unless ``open_api`` is set.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable

from aiohttp import web

from .. import ids, peers
from ..config import split_hostport
from ..entries import now_ms
from .keys import context_key, max_body_key
from .problems import Problem, problem_middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@web.middleware
async def token_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    ctx = request.app[context_key]
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    host, _ = split_hostport(ctx.config.api, "api")
    if write or not (is_loopback(host) or ctx.config.open_api):
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {ctx.admin_token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Problem(
                401, "unauthenticated",
                "this needs the node's admin token: Authorization: Bearer <token from admin.token>",
            )  # fmt: skip
    return await handler(request)


async def handle_peers(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    rows = await ctx.store.call(peers.all_peers)
    return web.json_response({"peers": [p.as_dict() for p in rows]})


async def handle_add_peer(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    try:
        body = await request.json()
        url = body["url"]
    except (ValueError, KeyError, TypeError):
        raise Problem(400, "bad-request", 'send {"url": "http://host:port"}') from None
    url = await ctx.store.call(lambda s: peers.add(s, str(url), now=now_ms()))
    if ctx.gossiper is not None:
        ctx.gossiper.poke()
    return web.json_response({"url": url}, status=201)


async def handle_status(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    me = ctx.identity.public

    def read(s):  # type: ignore[no-untyped-def]
        own = s.feed(me)
        book = peers.all_peers(s)
        seq = 0 if own is None else own.seq
        return {
            "member": ctx.identity.member_id,
            "network": ids.network(s.network) if s.network else None,
            "entries": s.count(),
            "feeds": len(s.feeds()),
            "own_seq": seq,
            "peers": len(book),
            "peers_with_latest": sum(1 for p in book if seq and p.has_my_seq >= seq),
        }

    status = await ctx.store.call(read)
    g = ctx.gossiper
    status["started_ts"] = ctx.started_ts
    status["gossip"] = None if g is None else {
        "rounds": g.stats.rounds, "syncs": g.stats.syncs, "failures": g.stats.failures,
        "entries_in": g.stats.entries_in, "entries_out": g.stats.entries_out,
        "last_sync_ts": g.stats.last_sync_ts,
    }  # fmt: skip
    return web.json_response(status)


def make_api_app(ctx: object) -> web.Application:
    from .server import NodeContext

    assert isinstance(ctx, NodeContext)
    app = web.Application(middlewares=[problem_middleware, token_middleware], client_max_size=1 << 20)
    app[context_key] = ctx
    app[max_body_key] = 1 << 20
    app.router.add_routes(
        [
            web.get("/api/v1/status", handle_status),
            web.get("/api/v1/peers", handle_peers),
            web.post("/api/v1/peers", handle_add_peer),
        ]
    )
    return app
