"""The peer endpoint (``/p2p/v1``): what other nodes call.

Handlers parse, call the store on its thread, and answer. Every request but
``/info`` must be signed (RFC 9421, see ``sync.httpsig``); the signer's key is
rate limited, and every body and batch is bounded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from .. import __version__, entries, ids, invites
from ..entries import now_ms
from ..errors import EntryRefusedError, Refusal, TokenError
from ..store import Store
from ..sync import httpsig, messages, reconcile
from .keys import context_key, max_body_key
from .limits import SendDeadline, read_body
from .problems import Problem, problem_middleware

log = logging.getLogger(__name__)
peer_key = web.RequestKey("peer_key", bytes)
FETCH_CAP = 8 * 1024 * 1024  # bytes of entries in one fetch answer
STREAM_BATCH = 500


class RateLimiter:
    """A token bucket per key: ``per_minute`` requests, bursts up to a fifth of that."""

    def __init__(self, per_minute: int, max_keys: int = 10_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(10.0, per_minute / 5)
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str, now: float) -> float:
        """0 if allowed, else seconds to wait."""
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            self._buckets.clear()  # bounded memory; a flood of fresh keys resets everyone
        self._buckets[key] = (tokens - 1, now)
        return 0.0


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    ctx = request.app[context_key]
    now = time.time()
    ip = request.remote or "?"
    wait = ctx.ip_limiter.allow(ip, now)
    if wait:
        raise Problem(429, "rate-limited", f"too many requests from {ip}", retry_after=int(wait) + 1)
    if request.path == "/p2p/v1/info":
        return await handler(request)
    body = await read_body(request)
    try:
        key = httpsig.verify_request(
            request.method, request.path, request.headers, body, guard=ctx.replay_guard, now=now
        )
    except httpsig.AuthError as exc:
        log.info("refused request from %s to %s: %s", ip, request.path, exc)
        raise Problem(401, "unauthenticated", str(exc)) from None
    member = ids.member(key)
    wait = ctx.peer_limiter.allow(member, now)
    if wait:
        log.info("rate limited %s (%s)", member[:12], ip)
        raise Problem(
            429, "rate-limited", f"too many requests from {member[:12]}…", retry_after=int(wait) + 1
        )
    request[peer_key] = key
    return await handler(request)


def _check_network(ctx_network: bytes | None, net: bytes) -> None:
    if ctx_network is None:
        raise Problem(409, "no-network", "this node is in no network yet")
    if net != ctx_network:
        raise Problem(
            409, "wrong-network",
            f"this node is in network {ids.network(ctx_network)}, not {ids.network(net)}",
        )  # fmt: skip


def _decode(fn: Callable[..., object], *args: object) -> object:
    try:
        return fn(*args)
    except messages.WireError as exc:
        raise Problem(400, "malformed", str(exc)) from None


async def handle_info(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    network = await ctx.store.call(lambda s: s.network)
    return web.json_response(
        {
            "protocol": messages.PROTOCOL,
            "network": ids.network(network) if network else None,
            "member": ctx.identity.member_id,
            "software": f"p2pnet/{__version__}",
            "time": now_ms(),  # this node's clock, for `p2pnet doctor`'s clock-skew check
        }
    )


async def handle_reconcile(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    net, ranges = _decode(messages.decode_reconcile, await request.read())  # type: ignore[misc]
    mine = await ctx.feeds()
    _check_network(ctx.network, net)
    ans = reconcile.answer(mine, ranges)
    return web.Response(body=messages.encode_answer(ans), content_type=messages.CONTENT_TYPE)


async def handle_fetch(request: web.Request) -> web.StreamResponse:
    ctx = request.app[context_key]
    req = _decode(messages.decode_fetch, await request.read())
    assert isinstance(req, messages.FetchRequest)
    _check_network(ctx.network, req.network)
    cap = min(req.max_bytes or FETCH_CAP, FETCH_CAP)
    blocked = await ctx.store.call(lambda s: s.blocked_authors())  # never relayed
    resp = web.StreamResponse(headers={"Content-Type": messages.ENTRIES_TYPE})
    await resp.prepare(request)
    out = SendDeadline(request, resp)
    sent = 0
    count = 0
    try:
        for author in req.proofs:
            if author in blocked:
                continue
            proofs = await ctx.store.call(lambda s, a=author: s.fork_proofs(a))
            for raw in proofs:
                await out.write(messages.frame(raw))
                sent += len(raw)
        for author, after in req.want:
            if author in blocked:
                continue
            while sent < cap:
                batch = await ctx.store.call(
                    lambda s, a=author, n=after: s.feed_raw(a, n, STREAM_BATCH)
                )
                if not batch:
                    break
                await out.write(b"".join(messages.frame(r) for r in batch))
                sent += sum(len(r) for r in batch)
                count += len(batch)
                after += len(batch)
                if len(batch) < STREAM_BATCH:
                    break
            if sent >= cap:
                break
        await resp.write_eof()
    except TimeoutError:  # a client that asks and then does not read: drop it
        who = ids.member(request[peer_key])[:12]
        timeout = ctx.config.body_timeout
        log.info(
            "gave up sending entries to %s (%s): not read within %g s", who, request.remote, timeout
        )
        if request.transport is not None:
            request.transport.abort()
        return resp
    except ConnectionResetError:
        # the peer went away mid-answer (stopped, killed, its network cut): routine, not an
        # internal error; it asks again from what it stored when it syncs next
        log.info("peer %s left after %d entries of a fetch",
                 ids.member(request[peer_key])[:12], count)  # fmt: skip
        return resp
    log.debug("served %d entries (%d bytes) to %s", count, sent, ids.member(request[peer_key])[:12])
    return resp


async def handle_push(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    net, raws = _decode(messages.decode_push, await request.read(), ctx.config.max_batch)  # type: ignore[misc]
    _check_network(ctx.network, net)
    report = await ctx.ingest(raws, source=ids.member(request[peer_key]))
    return web.Response(body=messages.encode_report(report.as_dict()), content_type=messages.CONTENT_TYPE)


async def handle_join(request: web.Request) -> web.Response:
    """A newcomer spends an invite: check it, take its entries, endorse it."""
    ctx = request.app[context_key]
    token, raws = _decode(messages.decode_join, await request.read(), ctx.config.max_batch)  # type: ignore[misc]
    newcomer = request[peer_key]
    try:
        inv = invites.parse(token)
    except TokenError as exc:
        raise Problem(403, "invite-refused", str(exc)) from None
    if inv.inviter != ctx.identity.public:
        raise Problem(403, "invite-refused", "this invite was issued by another member's node")
    _check_network(ctx.network, inv.network)

    def admit(s: Store) -> bytes:
        """Check the invite, then take the entries, spend it and endorse: one step."""
        row = s.conn.execute(
            "SELECT uses_left, expires_ts FROM invites WHERE secret_hash = ?", (inv.secret_hash,)
        ).fetchone()
        if row is None:
            raise Problem(403, "invite-refused", "this node never issued that invite")
        if row[0] <= 0:
            raise Problem(403, "invite-refused", "this invite was already used")
        if row[1] < now_ms():
            raise Problem(403, "invite-refused", "this invite expired")
        _check_newcomer_feed(s, newcomer, raws)
        report = s.ingest(raws)
        # a guard: _check_newcomer_feed refused a bad batch already, and a blocked
        # newcomer's entries are all refused here (one author), none stored
        if report.refused or report.blocked:
            i, code, detail = (report.refused or report.blocked)[0]
            raise Problem(422, str(code), f"the newcomer's entry {i} was refused: {detail}")
        with s.write():
            s.conn.execute(
                "UPDATE invites SET uses_left = uses_left - 1 WHERE secret_hash = ?", (inv.secret_hash,)
            )
        return s.append(ctx.identity, "endorse", {"member": newcomer, "note": "invited"}).raw

    endorsement = await ctx.store.call(admit)
    ctx.index_soon()
    ctx.local_write()
    log.info("admitted %s through an invite", ids.member(newcomer)[:12])
    return web.Response(
        body=messages.encode_report({"endorsement": endorsement, "accepted": len(raws)}),
        content_type=messages.CONTENT_TYPE,
    )


def _check_newcomer_feed(s: Store, newcomer: bytes, raws: list[bytes]) -> None:
    """Refuse a join unless every entry is the newcomer's own, valid, and in its feed's order.

    Ingest stores the good entries of a batch and refuses the others; a join must be
    all or nothing, so it is checked whole first (on the store thread, so nothing can
    change in between).
    """
    if not raws:
        raise Problem(400, "malformed", "a join carries the newcomer's own entries")
    parsed = []
    for i, raw in enumerate(raws):
        try:
            e = entries.parse(raw, network=s.network)
        except EntryRefusedError as exc:
            why = f"the newcomer's entry {i} was refused: {exc.detail}"
            raise Problem(422, str(exc.code), why) from None
        if e.author != newcomer:
            raise Problem(400, "malformed", "a join carries the newcomer's own entries")
        parsed.append((i, e))
    held = s.feed(newcomer)
    seq, head = (0, None) if held is None else (held.seq, held.head)
    for i, e in sorted(parsed, key=lambda p: p[1].seq):
        if e.seq <= seq:
            continue  # held already, or a second history that ingest keeps as a fork proof
        if e.seq != seq + 1:
            why = f"the newcomer's entry {i} has seq {e.seq}; its feed is at {seq}"
            raise Problem(422, str(Refusal.SEQUENCE_GAP), why)
        if e.prev != head:
            why = f"the newcomer's entry {i} does not follow its entry {seq}"
            raise Problem(422, str(Refusal.BROKEN_CHAIN), why)
        seq, head = e.seq, e.id


def make_peer_app(ctx: object) -> web.Application:
    from .server import NodeContext

    assert isinstance(ctx, NodeContext)
    app = web.Application(
        middlewares=[problem_middleware, auth_middleware], client_max_size=ctx.config.max_body_bytes
    )
    app[context_key] = ctx
    app[max_body_key] = ctx.config.max_body_bytes
    app.router.add_routes(
        [
            web.get("/p2p/v1/info", handle_info),
            web.post("/p2p/v1/reconcile", handle_reconcile),
            web.post("/p2p/v1/fetch", handle_fetch),
            web.post("/p2p/v1/push", handle_push),
            web.post("/p2p/v1/join", handle_join),
        ]
    )
    return app

