"""The local HTTP API (``/api/v1``) on the ``--api`` address.

Reads need no token when the API listens on loopback; writes always need
the node's admin token (``Authorization: Bearer <token>``), and so do reads
when the API is bound elsewhere unless ``open_api`` is set.

Every endpoint is listed once, in ``ROUTES``, beside its OpenAPI operation
(``p2pnet.openapi``), whose parameter schemas are also what requests are
checked against here. Reads run on a small pool of read-only SQLite
connections (WAL lets them read while the store thread writes), so a slow
search does not hold up a member page; writes go through the store thread
and are signed with the node's own key.

Conventions (docs/api.md): unknown or repeated query parameters are refused;
read responses carry an ``ETag`` (derived from the log's last arrival number
and the request) and answer ``If-None-Match`` with 304; no CORS headers
unless origins are configured; ``?lang=th`` or ``Accept-Language: th`` adds
Buddhist Era dates (``*_be``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import ipaddress
import json
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from .. import (
    assist,
    decisions,
    directory,
    exports,
    health,
    ids,
    keychain,
    moderation,
    openapi,
    peers,
    provinces,
    schema,
    thai,
)
from ..config import split_hostport
from ..entries import now_ms
from ..errors import EntryNotFoundError, EntryRefusedError, MemberNotFoundError, Refusal
from .keys import context_key, max_body_key
from .limits import read_body_middleware
from .problems import Problem, problem_middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")

MAX_QUERY_BYTES = 1024
MAX_PATH_BYTES = 2048
READ_THREADS = 2  # quick reads: mostly inside SQLite, which releases the GIL
HEAVY_READ_THREADS = 1
# Search snippets are built with these private-use marks, then turned into the three
# JSON-safe forms (plain, HTML-escaped with <mark>, parts); they never reach a client.
_MARK = ("\ue000", "\ue001")
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))

etag_key = web.RequestKey("etag_key", str)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------- reads
class ReadPool:
    """A few threads, each with its own read-only connection to the node's SQLite file.

    Each call runs in one read transaction, so it sees one consistent snapshot.
    """

    def __init__(self, path: Path, threads: int = READ_THREADS) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="api-read")
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro",
                uri=True,
                isolation_level=None,
                timeout=30.0,
                check_same_thread=False,
            )
            conn.execute("PRAGMA query_only = 1")
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            return fn(conn)
        finally:
            conn.execute("COMMIT")

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._run, fn)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()


reader_key = web.AppKey("reader_key", ReadPool)
heavy_reader_key = web.AppKey("heavy_reader_key", ReadPool)


async def read(
    request: web.Request, fn: Callable[[sqlite3.Connection], T], *, heavy: bool = False
) -> T:
    """Run ``fn(conn)`` on a read-only connection, in one snapshot.

    ``heavy`` reads (search, matching, the graph, exports) are mostly Python work that
    holds the GIL: they queue on a pool of their own, one thread, so that they neither
    hold up the quick reads nor slow each other down by contending for the GIL.
    """
    return await request.app[heavy_reader_key if heavy else reader_key].call(fn)


# --------------------------------------------------------------------------- middlewares
@web.middleware
async def token_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.match_info.http_exception is not None:
        return await handler(
            request
        )  # no such route or method: say so (404, 405), even unauthenticated
    ctx = request.app[context_key]
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    private = openapi.OPERATIONS.get(_op_id(request) or "", {}).get("admin", False)
    host, _ = split_hostport(ctx.config.api, "api")
    if write or private or not (is_loopback(host) or ctx.config.open_api):
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {ctx.admin_token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Problem(
                401, "unauthenticated",
                "this needs the node's admin token: Authorization: Bearer <token from admin.token>",
            )  # fmt: skip
    return await handler(request)


@web.middleware
async def limits_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse huge or undecodable query strings before any handler sees them."""
    raw_qs = request.rel_url.raw_query_string
    if len(raw_qs) > MAX_QUERY_BYTES:
        raise Problem(
            414,
            "query-too-long",
            f"the query string is {len(raw_qs)} bytes; at most {MAX_QUERY_BYTES}",
        )
    if len(request.rel_url.raw_path) > MAX_PATH_BYTES:
        raise Problem(414, "query-too-long", f"the path is longer than {MAX_PATH_BYTES} bytes")
    for key, value in request.query.items():
        if _BAD_TEXT.search(key) or _BAD_TEXT.search(value):
            raise Problem(
                400, "malformed-query",
                f"query parameter {key[:40]!r} is not valid percent-encoded UTF-8 text",
                parameter=key[:40],
            )  # fmt: skip
    for value in request.match_info.values():
        if _BAD_TEXT.search(value):
            raise Problem(
                400, "malformed-query", "the path is not valid percent-encoded UTF-8 text"
            )
    return await handler(request)


def _cors_origins(request: web.Request) -> tuple[str, ...]:
    raw = request.app[context_key].config.cors_origins
    return tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Off by default: no Access-Control-* header unless origins are configured."""
    origins = _cors_origins(request)
    origin = request.headers.get("Origin")
    if not origins or origin is None or ("*" not in origins and origin not in origins):
        return await handler(request)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response: web.StreamResponse = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, PATCH, DELETE"
        response.headers["Access-Control-Allow-Headers"] = (
            "Authorization, Content-Type, If-None-Match"
        )
        response.headers["Access-Control-Max-Age"] = "600"
    else:
        response = await handler(request)
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    response.headers["Vary"] = "Origin"
    return response


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    tags = [t.strip() for t in header.split(",")]
    return any(t.removeprefix("W/") == etag for t in tags)


@web.middleware
async def etag_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Read endpoints: ETag from (last arrival number, URL, language); If-None-Match -> 304."""
    op_id = _op_id(request)
    op = openapi.OPERATIONS.get(op_id or "")
    if request.method not in ("GET", "HEAD") or op is None or not op.get("cache", True):
        return await handler(request)
    if op_id == "openapi":
        version = "openapi-" + openapi.API_VERSION
    else:
        version = await read(request, directory.version)
    basis = "\n".join([version, str(request.rel_url), wants_lang(request)])
    etag = '"' + hashlib.sha256(basis.encode()).hexdigest()[:32] + '"'
    inm = request.headers.get("If-None-Match")
    if inm is not None and _etag_matches(inm, etag):
        return web.Response(status=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
    request[etag_key] = etag  # for streamed answers, which send their headers early
    response = await handler(request)
    if response.status == 200 and not response.prepared:
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Vary"] = "Accept-Language"
    return response


def _op_id(request: web.Request) -> str | None:
    return OP_OF_HANDLER.get(request.match_info.handler)


# --------------------------------------------------------------------------- parameters
def wants_lang(request: web.Request) -> str:
    """``th`` or ``en``: ``?lang=`` first, else the first language of Accept-Language."""
    lang = request.query.get("lang")
    if lang in ("th", "en"):
        return lang
    accept = request.headers.get("Accept-Language", "")
    best, best_q = "en", 0.0
    for part in accept.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        m = re.search(r"q=([0-9.]+)", params)
        if m:
            try:
                q = float(m.group(1))
            except ValueError:
                q = 0.0
        if tag.lower().startswith("th") and q > best_q:
            best, best_q = "th", q
        elif tag.lower().startswith("en") and q > best_q:
            best, best_q = "en", q
    return best


def params(request: web.Request, op_id: str) -> dict[str, Any]:
    """The query parameters of ``op_id``, checked against their OpenAPI schemas.

    Unknown and repeated parameters are refused; integers may use Thai digits.
    """
    specs = {
        openapi.PARAMETERS[k]["name"]: openapi.PARAMETERS[k]
        for k in openapi.OPERATIONS[op_id]["params"]
    }
    out: dict[str, Any] = {}
    for name in request.query:
        if name not in specs:
            allowed = ", ".join(specs) or "none"
            raise Problem(
                400,
                "unknown-parameter",
                f"unknown query parameter {name[:40]!r} (this endpoint takes: {allowed})",
                parameter=name[:40],
            )  # fmt: skip
        values = request.query.getall(name)
        if len(values) > 1:
            raise Problem(400, "bad-parameter", f"give {name} once", parameter=name)
        out[name] = _convert(name, values[0], specs[name]["schema"])
    for name, spec in specs.items():
        if spec.get("required") and name not in out:
            raise Problem(400, "bad-parameter", f"{name} is required", parameter=name)
    return out


def _convert(name: str, raw: str, s: dict[str, Any]) -> Any:
    def bad(why: str) -> Problem:
        return Problem(400, "bad-parameter", f"{name}: {why}", parameter=name)

    kind = s.get("type")
    if kind == "integer":
        text = thai.arabic_digits(raw.strip())
        if not re.fullmatch(r"-?\d{1,9}", text):
            raise bad("must be a whole number")
        value: Any = int(text)
        if value < s.get("minimum", value) or value > s.get("maximum", value):
            raise bad(f"must be from {s.get('minimum')} to {s.get('maximum')}")
        return value
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise bad("must be true or false")
        return raw == "true"
    if len(raw) < s.get("minLength", 0):
        raise bad("must not be empty")
    if len(raw) > s.get("maxLength", 1 << 30):
        raise bad(f"is longer than {s['maxLength']} characters")
    if "enum" in s and raw not in s["enum"]:
        raise bad(f"must be one of {', '.join(s['enum'])}")
    return raw


def _resolve_member(conn: sqlite3.Connection, text: str) -> str:
    """An id, id prefix or unique name (Thai digits and marks normalised) -> member id."""
    return directory.resolve_member(conn, text)


# --------------------------------------------------------------------------- localisation
_BE_KEYS = ("date", "end_date", "joined_date", "updated_date", "founded_date")


def localise(value: Any, lang: str) -> Any:
    """With ``th``: beside each date field ``X``, add ``X_be`` (its year in Buddhist Era)."""
    if lang != "th":
        return value
    if isinstance(value, list):
        return [localise(v, lang) for v in value]
    if isinstance(value, dict):
        out = {k: localise(v, lang) for k, v in value.items()}
        for k in _BE_KEYS:
            if k in value and (value[k] is None or isinstance(value[k], str)):
                out[f"{k}_be"] = thai.to_be(value[k])
        return out
    return value


def respond(
    data: Any, *, status: int = 200, lang: str = "en", headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(localise(data, lang), status=status, dumps=_dumps, headers=headers)


def base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


# --------------------------------------------------------------------------- read handlers
async def handle_peers(request: web.Request) -> web.Response:
    params(request, "listPeers")
    ctx = request.app[context_key]
    rows = await ctx.store.call(peers.all_peers)
    return web.json_response({"peers": [p.as_dict() for p in rows]}, dumps=_dumps)


async def handle_add_peer(request: web.Request) -> web.Response:
    params(request, "addPeer")
    ctx = request.app[context_key]
    try:
        body = await request.json()
        url = body["url"]
    except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: nested too deep
        raise Problem(400, "bad-request", 'send {"url": "http://host:port"}') from None
    if not isinstance(url, str):
        raise Problem(
            422, "bad-field", "url must be text such as http://203.0.113.5:7700", field="url"
        )
    url = await ctx.store.call(lambda s: peers.add(s, url, now=now_ms()))
    if ctx.gossiper is not None:
        ctx.gossiper.poke()
    return web.json_response({"url": url}, status=201)


async def handle_status(request: web.Request) -> web.Response:
    params(request, "status")
    ctx = request.app[context_key]
    me = ctx.identity.public

    def read_status(s):  # type: ignore[no-untyped-def]
        own = s.feed(me)
        book = peers.all_peers(s)
        seq = 0 if own is None else own.seq
        return {
            "member": ctx.member_id,
            "network": ids.network(s.network) if s.network else None,
            "entries": s.count(),
            "feeds": len(s.feeds()),
            "own_seq": seq,
            "peers": len(book),
            "peers_with_latest": sum(1 for p in book if seq and p.has_my_seq >= seq),
        }

    status = await ctx.store.call(read_status)
    g = ctx.gossiper
    status["started_ts"] = ctx.started_ts
    status["gossip"] = None if g is None else {
        "rounds": g.stats.rounds, "syncs": g.stats.syncs, "failures": g.stats.failures,
        "entries_in": g.stats.entries_in, "entries_out": g.stats.entries_out,
        "last_sync_ts": g.stats.last_sync_ts,
        "entries_received": ctx.entries_in_total, "entry_bytes_received": ctx.entry_bytes_in,
    }  # fmt: skip
    return web.json_response(status)


async def handle_openapi(request: web.Request) -> web.Response:
    params(request, "openapi")
    return web.json_response(openapi.document(), dumps=_dumps)


async def handle_network(request: web.Request) -> web.Response:
    params(request, "network")
    data = await read(request, directory.network_summary)
    c = data.get("charter") or {}
    if isinstance(c.get("founded_ts"), int):
        data["founded_date"] = thai.date_of_ms(c["founded_ts"])
    return respond(data, lang=wants_lang(request))


async def handle_graph(request: web.Request) -> web.Response:
    params(request, "graph")
    return respond(await read(request, directory.graph, heavy=True))


async def handle_health(request: web.Request) -> web.Response:
    p = params(request, "networkHealth")
    if "what_if" in p:
        text = p["what_if"]
        return respond(await read(request, lambda c: health.what_if(c, directory.resolve_member(c, text)),
                                  heavy=True))  # fmt: skip
    return respond(await read(request, health.shared_report, heavy=True))


async def handle_requests(request: web.Request) -> web.Response:
    p = params(request, "listRequests")

    def load(c: sqlite3.Connection) -> dict[str, Any]:
        member = directory.resolve_member(c, p["member"]) if "member" in p else None
        return {"requests": assist.list_requests(c, state=p.get("state"), member=member)}

    return respond(await read(request, load, heavy=True))


async def handle_request(request: web.Request) -> web.Response:
    params(request, "getRequest")
    text = request.match_info["id"]
    return respond(await read(request, lambda c: assist.request_state(c, assist.resolve_request(c, text))))


async def handle_proposals(request: web.Request) -> web.Response:
    params(request, "listProposals")

    def load(c: sqlite3.Connection) -> dict[str, Any]:
        return {"proposals": decisions.list_proposals(c), "charter": decisions.charter_in_force(c)}

    return respond(await read(request, load, heavy=True))


async def handle_proposal(request: web.Request) -> web.Response:
    params(request, "getProposal")
    text = request.match_info["id"]

    def load(c: sqlite3.Connection) -> dict[str, Any]:
        pid = decisions.resolve_proposal(c, text)
        return decisions.tally(c, pid)

    return respond(await read(request, load, heavy=True))


def _text_field(given: dict[str, Any], name: str) -> str:
    v = given.get(name)
    if not isinstance(v, str) or not v.strip():
        raise _bad_field(name, "is required: an id, a unique id prefix or a name")
    return v


async def _together(request: web.Request, op_id: str, kind: str, allowed: set[str],
                    build: Callable[[sqlite3.Connection, dict[str, Any], str], dict[str, Any]],
                    ) -> web.Response:  # fmt: skip
    """A write of issue 7's kinds: check fields, resolve names and ids, sign, answer."""
    params(request, op_id)
    given = await _json_body(request)
    extra = set(given) - allowed
    if extra:
        raise _bad_field(sorted(extra)[0], f"is not a field of a {kind}")
    path_id = request.match_info.get("id", "")

    def prepare(c: sqlite3.Connection) -> dict[str, Any]:
        try:
            return build(c, given, path_id)
        except MemberNotFoundError as exc:
            raise _bad_field("member", str(exc)) from None

    body = await read(request, prepare)
    entry, seq = await _append(request, kind, body)
    return respond({"entry": entry, "seq": seq}, status=201)


def _entry(text: str) -> bytes:
    return ids.from_text(ids.ENTRY, text)


def _optional(given: dict[str, Any], *names: str) -> dict[str, Any]:
    return {n: given[n] for n in names if n in given}


async def handle_add_request(request: web.Request) -> web.Response:
    def build(c: sqlite3.Connection, g: dict[str, Any], _: str) -> dict[str, Any]:
        body = {"title": g.get("title"), **_optional(g, "description", "expertise")}
        if "needed_by" in g:
            if not isinstance(g["needed_by"], str):
                raise _bad_field("needed_by", "must be a date such as 2026-12-31 or 2569-12-31")
            body["needed_by"] = thai.parse_date(g["needed_by"])
        return body

    return await _together(request, "addRequest", "request",
                           {"title", "description", "expertise", "needed_by"}, build)  # fmt: skip


async def handle_reply_request(request: web.Request) -> web.Response:
    return await _together(request, "replyRequest", "reply", {"message"}, lambda c, g, rid: {
        "request": _entry(assist.resolve_request(c, rid)), **_optional(g, "message")})  # fmt: skip


async def handle_accept_reply(request: web.Request) -> web.Response:
    def build(c: sqlite3.Connection, g: dict[str, Any], rid: str) -> dict[str, Any]:
        req = assist.resolve_request(c, rid)
        reply = directory.resolve_prefix(c, "request_events", "entry", _text_field(g, "reply"), "reply")
        return {"request": _entry(req), "reply": _entry(reply)}

    return await _together(request, "acceptReply", "accept", {"reply"}, build)


async def handle_handoff(request: web.Request) -> web.Response:
    def build(c: sqlite3.Connection, g: dict[str, Any], rid: str) -> dict[str, Any]:
        to = directory.resolve_member(c, _text_field(g, "to"))
        return {"request": _entry(assist.resolve_request(c, rid)),
                "to": ids.from_text(ids.MEMBER, to), **_optional(g, "note")}  # fmt: skip

    return await _together(request, "handoffRequest", "handoff", {"to", "note"}, build)


async def handle_close_request(request: web.Request) -> web.Response:
    return await _together(request, "closeRequest", "close", {"outcome", "note"}, lambda c, g, rid: {
        "request": _entry(assist.resolve_request(c, rid)), **_optional(g, "outcome", "note")})  # fmt: skip


async def handle_thank(request: web.Request) -> web.Response:
    def build(c: sqlite3.Connection, g: dict[str, Any], _: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "member": ids.from_text(ids.MEMBER, directory.resolve_member(c, _text_field(g, "member"))),
            **_optional(g, "message"),
        }
        if "request" in g:
            body["request"] = _entry(assist.resolve_request(c, _text_field(g, "request")))
        if "activity" in g:
            body["activity"] = _entry(directory.resolve_activity(c, _text_field(g, "activity")))
        return body

    return await _together(request, "thank", "thanks", {"member", "message", "request", "activity"},
                           build)  # fmt: skip


async def handle_add_proposal(request: web.Request) -> web.Response:
    def build(c: sqlite3.Connection, g: dict[str, Any], _: str) -> dict[str, Any]:
        days = g.get("closes_in_days")
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
            raise _bad_field("closes_in_days", "must be a whole number of days from 1 to 366")
        return {"title": g.get("title"), "options": g.get("options", ["yes", "no"]),
                "closes": now_ms() + days * 86_400_000, **_optional(g, "text", "changes")}  # fmt: skip

    return await _together(request, "addProposal", "proposal",
                           {"title", "text", "options", "closes_in_days", "changes"}, build)  # fmt: skip


async def handle_vote(request: web.Request) -> web.Response:
    def build(c: sqlite3.Connection, g: dict[str, Any], pid: str) -> dict[str, Any]:
        proposal = decisions.resolve_proposal(c, pid)
        return {"proposal": _entry(proposal), **_optional(g, "option")}

    return await _together(request, "vote", "vote", {"option"}, build)


async def handle_key_claims(request: web.Request) -> web.Response:
    p = params(request, "listKeyClaims")

    def load(c: sqlite3.Connection) -> dict[str, Any]:
        member = _resolve_member(c, p["member"]) if p.get("member") else None
        return {"claims": keychain.claims(c, member=member)}

    return respond(await read(request, load))


async def handle_vouch(request: web.Request) -> web.Response:
    me = request.app[context_key].member_id

    def build(c: sqlite3.Connection, g: dict[str, Any], text: str) -> dict[str, Any]:
        try:
            cid = keychain.resolve_claim(c, text)
        except EntryNotFoundError as exc:
            raise Problem(404, "not-found", str(exc)) from None
        claim = next(x for x in keychain.claims(c) if x["id"] == cid)
        if me in (claim["member"], directory.member_of_key(c, ids.from_text(ids.MEMBER, claim["claimant_key"]))):
            raise Problem(409, "own-claim", "this node's member cannot vouch for a claim on itself or by itself")
        return {"claim": _entry(cid), **_optional(g, "note")}

    return await _together(request, "vouchClaim", "vouch", {"note"}, build)


async def handle_graphml(request: web.Request) -> web.Response:
    params(request, "graphml")
    g = await read(request, directory.graph, heavy=True)
    body = await asyncio.get_running_loop().run_in_executor(None, exports.graphml, g)
    return web.Response(body=body, content_type="application/graphml+xml", charset="utf-8")


async def handle_members(request: web.Request) -> web.Response:
    p = params(request, "listMembers")
    kwargs = {k: p.get(k) for k in ("q", "tag", "interest", "expertise", "offers", "needs",
                                     "province", "area", "status", "forked", "cursor")}  # fmt: skip
    page = await read(
        request,
        lambda c: directory.member_page(
            c, sort=p.get("sort", "name"), limit=p.get("limit", 50), **kwargs
        ),
        heavy="q" in p,
    )
    return respond(page, lang=wants_lang(request))


async def _member(request: web.Request, *, activities: int = 20) -> dict[str, Any]:
    ref = request.match_info["id"]
    return await read(
        request,
        lambda c: directory.get_member(c, _resolve_member(c, ref), activities_limit=activities),
    )


async def handle_member(request: web.Request) -> web.Response:
    params(request, "getMember")
    return respond(await _member(request), lang=wants_lang(request))


async def _network_and_member(request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
    ref = request.match_info["id"]

    def both(c: sqlite3.Connection) -> tuple[dict[str, Any], dict[str, Any]]:
        m = directory.get_member(c, _resolve_member(c, ref), activities_limit=0)
        return m, directory.network_summary(c)

    return await read(request, both)


async def handle_member_jsonld(request: web.Request) -> web.Response:
    params(request, "memberJsonld")
    m, net = await _network_and_member(request)
    doc = exports.jsonld_organization(m, base=base_url(request), network=net)
    return web.Response(text=_dumps(doc), content_type="application/ld+json", charset="utf-8")


async def handle_member_murmurations(request: web.Request) -> web.Response:
    params(request, "memberMurmurations")
    m, net = await _network_and_member(request)
    return respond(exports.murmurations_profile(m, base=base_url(request), network=net))


def _atom(request: web.Request, body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/atom+xml", charset="utf-8")


def _pick(lang: str, th: str, en: str) -> str:
    """The Thai text for Thai readers, else the English one (or the Thai if there is none)."""
    return th if lang == "th" and th else (en or th)


async def handle_member_feed(request: web.Request) -> web.Response:
    p = params(request, "memberFeed")
    lang = wants_lang(request)
    ref = request.match_info["id"]
    base = base_url(request)

    def build(c: sqlite3.Connection) -> bytes:
        mid = _resolve_member(c, ref)
        m = directory.get_member(c, mid, activities_limit=p.get("limit", 50))
        return exports.atom_feed(
            m["activities"],
            base=base,
            feed_id=f"urn:p2pnet:member:{mid}:activities",
            title=_pick(lang, m["name_th"], m["name_en"]) or m["name"],
            subtitle=_pick(lang, m["description"], m["description_en"]),
            self_url=str(request.url),
            lang=lang,
        )

    return _atom(request, await read(request, build))


async def handle_network_feed(request: web.Request) -> web.Response:
    p = params(request, "networkFeed")
    lang = wants_lang(request)
    base = base_url(request)

    def build(c: sqlite3.Connection) -> bytes:
        net = directory.network_summary(c)
        ch = net.get("charter") or {}
        network = net.get("network") or "none"
        return exports.atom_feed(
            directory.activity_page(c, limit=p.get("limit", 50))["items"],
            base=base,
            feed_id=f"urn:p2pnet:network:{network}:activities",
            title=_pick(lang, ch.get("name", ""), ch.get("name_en", "")) or "p2pnet",
            subtitle=_pick(lang, ch.get("purpose", ""), ch.get("purpose_en", "")),
            self_url=str(request.url),
            lang=lang,
        )

    return _atom(request, await read(request, build))


async def handle_activities(request: web.Request) -> web.Response:
    p = params(request, "listActivities")

    def page(c: sqlite3.Connection) -> dict[str, Any]:
        member = _resolve_member(c, p["member"]) if "member" in p else None
        return directory.activity_page(
            c, member=member, kind=p.get("kind"), since=p.get("since"), until=p.get("until"),
            confirmed_only=p.get("confirmed", False), sort=p.get("sort", "-date"),
            limit=p.get("limit", 50), cursor=p.get("cursor"),
        )  # fmt: skip

    return respond(await read(request, page), lang=wants_lang(request))


async def handle_activity(request: web.Request) -> web.Response:
    params(request, "getActivity")
    ref = request.match_info["id"]
    act = await read(
        request, lambda c: directory.get_activity(c, directory.resolve_activity(c, ref))
    )
    return respond(act, lang=wants_lang(request))


def _search_item(hit: dict[str, Any]) -> dict[str, Any]:
    marked = hit["snippet"]
    parts = directory.split_marks(marked, _MARK)
    hit["snippet"] = "".join(p["text"] for p in parts)
    hit["snippet_html"] = "".join(
        f"<mark>{html.escape(p['text'])}</mark>" if p["match"] else html.escape(p["text"])
        for p in parts
    )
    hit["snippet_parts"] = parts
    return hit


async def handle_search(request: web.Request) -> web.Response:
    p = params(request, "search")
    kinds = [p["kind"]] if "kind" in p else None
    page = await read(
        request,
        lambda c: directory.search_page(
            c, p["q"], kinds=kinds, limit=p.get("limit", 20), cursor=p.get("cursor"), mark=_MARK
        ),
        heavy=True,
    )
    page["items"] = [_search_item(h) for h in page["items"]]
    return respond({"query": p["q"], **page}, lang=wants_lang(request))


async def handle_match(request: web.Request) -> web.Response:
    p = params(request, "match")

    def run(c: sqlite3.Connection) -> dict[str, Any]:
        member = _resolve_member(c, p["member"]) if "member" in p else None
        return directory.matches(c, member, limit=p.get("limit", 100), cursor=p.get("cursor"))

    return respond(await read(request, run, heavy=True), lang=wants_lang(request))


async def handle_members_csv(request: web.Request) -> web.Response:
    params(request, "membersCsv")

    def rows(c: sqlite3.Connection) -> str:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = directory.member_page(c, limit=directory.MAX_LIMIT, cursor=cursor)
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return exports.members_csv(items)

    text = await read(request, rows, heavy=True)
    return web.Response(
        text=text, content_type="text/csv", charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="members.csv"'},
    )  # fmt: skip


async def handle_activities_csv(request: web.Request) -> web.StreamResponse:
    params(request, "activitiesCsv")
    response = web.StreamResponse(
        headers={"Content-Type": "text/csv; charset=utf-8",
                 "Content-Disposition": 'attachment; filename="activities.csv"'}
    )  # fmt: skip
    if etag_key in request:
        response.headers["ETag"] = request[etag_key]
        response.headers["Cache-Control"] = "no-cache"
    after: tuple[str, str] | None = None
    first = True
    while True:
        batch = await read(
            request, partial(directory.export_activities, after=after, limit=2000), heavy=True
        )
        if first:
            await response.prepare(request)
        await response.write(exports.activities_csv(batch, header=first, bom=first).encode("utf-8"))
        first = False
        if len(batch) < 2000:
            break
        after = (batch[-1]["date"], batch[-1]["id"])
    await response.write_eof()
    return response


# --------------------------------------------------------------------------- writes
async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
        raise Problem(400, "bad-request", "the request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise Problem(400, "bad-request", "the request body must be a JSON object")
    return body


def _bad_field(field: str, why: str) -> EntryRefusedError:
    return EntryRefusedError(Refusal.BAD_FIELD, f"field {field!r}: {why}")


def _decimal(v: Any, field: str) -> str:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise _bad_field(field, "must be a decimal number of degrees")
    if isinstance(v, str):
        return thai.arabic_digits(v.strip())
    text = f"{float(v):.7f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def profile_body(body: dict[str, Any]) -> dict[str, Any]:
    """A profile entry body from API input: province names to ISO codes, geo to strings."""
    out = {k: v for k, v in body.items() if v is not None}
    if isinstance(out.get("province"), str) and out["province"]:
        out["province"] = provinces.lookup(thai.arabic_digits(out["province"])) or out["province"]
    geo = out.get("geo")
    if isinstance(geo, dict):
        geo = [geo.get("lat"), geo.get("lon")]
    if isinstance(geo, list) and len(geo) == 2:
        out["geo"] = [_decimal(geo[0], "geo[0]"), _decimal(geo[1], "geo[1]")]
    if isinstance(out.get("contact"), dict):
        out["contact"] = {k: v for k, v in out["contact"].items() if v not in (None, "")}
    return out


async def _append(request: web.Request, kind: str, body: dict[str, Any]) -> tuple[str, int]:
    ctx = request.app[context_key]
    schema.validate_body(kind, body)

    def write(s):  # type: ignore[no-untyped-def]
        if s.network is None:
            raise Problem(409, "no-network", "this node has not founded or joined a network yet")
        return s.append(ctx.identity, kind, body)

    entry = await ctx.store.call(write)
    ctx.local_write()
    return ids.entry(entry.id), entry.seq


async def _current_profile(request: web.Request) -> dict[str, Any]:
    ctx = request.app[context_key]
    me = ctx.member_id

    def load(s):  # type: ignore[no-untyped-def]
        row = s.conn.execute("SELECT profile_entry FROM members WHERE id = ?", (me,)).fetchone()
        if row is None or not row[0]:
            return {}
        return dict(s.get(ids.from_text(ids.ENTRY, row[0])).body)

    return dict(await ctx.store.call(load))


async def handle_get_profile(request: web.Request) -> web.Response:
    params(request, "getProfile")
    me = request.app[context_key].member_id
    try:
        m = await read(request, lambda c: directory.get_member(c, me, activities_limit=20))
    except MemberNotFoundError:
        raise Problem(404, "not-found", "this node's member has written nothing yet") from None
    return respond(m, lang=wants_lang(request))


async def _write_profile(request: web.Request, op_id: str, *, merge: bool) -> web.Response:
    params(request, op_id)
    given = await _json_body(request)
    current = await _current_profile(request)
    if merge:
        body = {**current, **given}
        body = {k: v for k, v in body.items() if v is not None}
    else:
        body = dict(given)
        if "endpoints" not in body and current.get("endpoints"):
            body["endpoints"] = current["endpoints"]
    entry, seq = await _append(request, "profile", profile_body(body))
    me = request.app[context_key].member_id
    m = await read(request, lambda c: directory.get_member(c, me, activities_limit=0))
    return respond({"entry": entry, "seq": seq, "member": m}, lang=wants_lang(request))


async def handle_set_profile(request: web.Request) -> web.Response:
    return await _write_profile(request, "setProfile", merge=False)


async def handle_patch_profile(request: web.Request) -> web.Response:
    return await _write_profile(request, "patchProfile", merge=True)


async def handle_add_activity(request: web.Request) -> web.Response:
    params(request, "addActivity")
    given = await _json_body(request)
    body = dict(given)
    for field in ("date", "end_date"):
        if isinstance(body.get(field), str):
            try:
                body[field] = thai.parse_date(body[field])
            except thai.DateError as exc:
                raise _bad_field(field, str(exc)) from None
    me = request.app[context_key].member_id
    people = body.get("participants")
    if isinstance(people, list):
        refs = list(people)

        def resolve(c: sqlite3.Connection) -> list[bytes]:
            out: list[bytes] = []
            for i, ref in enumerate(refs):
                if not isinstance(ref, str):
                    raise _bad_field(f"participants[{i}]", "must be a member id, id prefix or name")
                try:
                    mid = _resolve_member(c, ref)
                except MemberNotFoundError as exc:
                    raise _bad_field(f"participants[{i}]", str(exc)) from None
                key = ids.from_text(ids.MEMBER, mid)
                if mid != me and key not in out:
                    out.append(key)
            return out

        body["participants"] = await read(request, resolve)
    entry, seq = await _append(request, "activity", body)
    act = await read(request, lambda c: directory.get_activity(c, entry))
    return respond(
        {"entry": entry, "seq": seq, "activity": act}, status=201, lang=wants_lang(request),
        headers={"Location": f"/api/v1/activities/{entry}"},
    )  # fmt: skip


async def handle_confirm(request: web.Request) -> web.Response:
    params(request, "confirmActivity")
    ref = request.match_info["id"]
    given = await _json_body(request) if request.body_exists else {}
    extra = set(given) - {"note"}
    if extra:
        raise _bad_field(sorted(extra)[0], "is not a field of a confirmation")
    me = request.app[context_key].member_id

    def state(c: sqlite3.Connection) -> tuple[str, str | None, bool]:
        aid = directory.resolve_activity(c, ref)
        role = c.execute(
            "SELECT role FROM participants WHERE activity = ? AND member = ?", (aid, me)
        ).fetchone()
        done = c.execute(
            "SELECT 1 FROM confirmations WHERE activity = ? AND member = ?", (aid, me)
        ).fetchone()
        return aid, None if role is None else str(role[0]), done is not None

    aid, role, done = await read(request, state)
    if role != "participant":
        why = "organised it" if role == "organiser" else "is not listed among its participants"
        raise Problem(
            422, "not-a-participant", f"this node's member {why}; only participants confirm"
        )
    entry, seq = None, None
    if not done:
        body = {
            "activity": ids.from_text(ids.ENTRY, aid),
            **({"note": given["note"]} if "note" in given else {}),
        }
        entry, seq = await _append(request, "confirm", body)
    act = await read(request, lambda c: directory.get_activity(c, aid))
    return respond({"entry": entry, "seq": seq, "activity": act}, status=201 if entry else 200,
                   lang=wants_lang(request))  # fmt: skip


async def _endorsement_state(request: web.Request, ref: str) -> tuple[str, bool]:
    me = request.app[context_key].member_id

    def state(c: sqlite3.Connection) -> tuple[str, bool]:
        mid = _resolve_member(c, ref)
        row = c.execute(
            "SELECT active FROM endorsements WHERE src = ? AND dst = ?", (me, mid)
        ).fetchone()
        return mid, bool(row and row[0])

    return await read(request, state)


async def handle_endorse(request: web.Request) -> web.Response:
    params(request, "endorse")
    given = await _json_body(request)
    ref = given.get("member")
    if not isinstance(ref, str) or not ref.strip():
        raise _bad_field("member", "name the member to endorse (id, id prefix or name)")
    extra = set(given) - {"member", "note"}
    if extra:
        raise _bad_field(sorted(extra)[0], "is not a field of an endorsement")
    try:
        mid, active = await _endorsement_state(request, ref)
    except MemberNotFoundError as exc:
        raise _bad_field("member", str(exc)) from None
    me = request.app[context_key].member_id
    if mid == me:
        raise _bad_field("member", "a member cannot endorse itself")
    entry, seq = None, None
    if not active:
        body: dict[str, Any] = {"member": ids.from_text(ids.MEMBER, mid)}
        if "note" in given:
            body["note"] = given["note"]
        entry, seq = await _append(request, "endorse", body)
    m = await read(request, lambda c: directory.get_member(c, mid, activities_limit=0))
    return respond({"entry": entry, "seq": seq, "member": m}, status=201 if entry else 200,
                   lang=wants_lang(request))  # fmt: skip


async def handle_unendorse(request: web.Request) -> web.Response:
    params(request, "unendorse")
    mid, active = await _endorsement_state(request, request.match_info["id"])
    entry, seq = None, None
    if active:
        entry, seq = await _append(request, "unendorse", {"member": ids.from_text(ids.MEMBER, mid)})
    m = await read(request, lambda c: directory.get_member(c, mid, activities_limit=0))
    return respond({"entry": entry, "seq": seq, "member": m}, lang=wants_lang(request))


# --------------------------------------------------------------------------- block list
async def handle_blocks(request: web.Request) -> web.Response:
    """This node's block list: private, so it needs the admin token even on loopback."""
    params(request, "listBlocks")
    ctx = request.app[context_key]
    return respond({"blocks": await ctx.store.call(lambda s: s.blocks())})


async def handle_add_block(request: web.Request) -> web.Response:
    params(request, "addBlock")
    given = await _json_body(request)
    extra = set(given) - {"member", "reason", "publish", "purge"}
    if extra:
        raise _bad_field(sorted(extra)[0], "is not a field of a block")
    ref = _text_field(given, "member")
    reason = given.get("reason", "")
    if not isinstance(reason, str):
        raise _bad_field("reason", "must be text")
    flags = {k: given.get(k, False) for k in ("publish", "purge")}
    for k, v in flags.items():
        if not isinstance(v, bool):
            raise _bad_field(k, "must be true or false")
    ctx = request.app[context_key]

    def block(s):  # type: ignore[no-untyped-def]
        if s.network is None:
            raise Problem(409, "no-network", "this node has not founded or joined a network yet")
        try:
            mid = moderation.resolve(s.conn, ref)
        except MemberNotFoundError as exc:
            raise _bad_field("member", str(exc)) from None
        return s.block(mid, ctx.identity, reason=reason, **flags)

    result = await ctx.store.call(block)
    if result.published is not None:
        ctx.local_write()
    return respond(result.as_dict(), status=201 if result.changed else 200)


async def handle_remove_block(request: web.Request) -> web.Response:
    params(request, "removeBlock")
    ref = request.match_info["id"]
    ctx = request.app[context_key]

    def unblock(s):  # type: ignore[no-untyped-def]
        return s.unblock(moderation.resolve_blocked(s.conn, ref), ctx.identity)

    result = await ctx.store.call(unblock)
    if result.published is not None:
        ctx.local_write()
    return respond(result.as_dict())


# --------------------------------------------------------------------------- the app
HANDLERS: dict[str, Handler] = {
    "status": handle_status,
    "listPeers": handle_peers,
    "addPeer": handle_add_peer,
    "openapi": handle_openapi,
    "network": handle_network,
    "graph": handle_graph,
    "graphml": handle_graphml,
    "networkHealth": handle_health,
    "listRequests": handle_requests,
    "getRequest": handle_request,
    "listProposals": handle_proposals,
    "getProposal": handle_proposal,
    "addRequest": handle_add_request,
    "replyRequest": handle_reply_request,
    "acceptReply": handle_accept_reply,
    "handoffRequest": handle_handoff,
    "closeRequest": handle_close_request,
    "thank": handle_thank,
    "addProposal": handle_add_proposal,
    "vote": handle_vote,
    "listKeyClaims": handle_key_claims,
    "vouchClaim": handle_vouch,
    "listMembers": handle_members,
    "memberJsonld": handle_member_jsonld,
    "getMember": handle_member,
    "memberMurmurations": handle_member_murmurations,
    "memberFeed": handle_member_feed,
    "listActivities": handle_activities,
    "addActivity": handle_add_activity,
    "getActivity": handle_activity,
    "confirmActivity": handle_confirm,
    "search": handle_search,
    "match": handle_match,
    "networkFeed": handle_network_feed,
    "membersCsv": handle_members_csv,
    "activitiesCsv": handle_activities_csv,
    "getProfile": handle_get_profile,
    "setProfile": handle_set_profile,
    "patchProfile": handle_patch_profile,
    "endorse": handle_endorse,
    "unendorse": handle_unendorse,
    "listBlocks": handle_blocks,
    "addBlock": handle_add_block,
    "removeBlock": handle_remove_block,
}
# Every endpoint, in matching order (the .jsonld route before the plain member route).
ROUTES = [
    (op_id, openapi.OPERATIONS[op_id]["method"], openapi.OPERATIONS[op_id]["path"])
    for op_id in HANDLERS
]


def make_api_app(ctx: object) -> web.Application:
    from .server import NodeContext

    assert isinstance(ctx, NodeContext)
    app = web.Application(
        middlewares=[
            problem_middleware,
            read_body_middleware,
            cors_middleware,
            limits_middleware,
            token_middleware,
            etag_middleware,
        ],
        client_max_size=1 << 20,
        # Long request lines reach limits_middleware (a 414 problem) instead of aiohttp's
        # plain-text 400 at 8 KiB.
        handler_args={"max_line_size": 65536},
    )
    app[context_key] = ctx
    app[max_body_key] = 1 << 20
    app.router.add_routes(
        [
            web.get(path, HANDLERS[op_id])
            if method == "get"
            else web.route(method.upper(), path, HANDLERS[op_id])
            for op_id, method, path in ROUTES
        ]
    )

    async def read_pools(app: web.Application) -> AsyncIterator[None]:
        app[reader_key] = ReadPool(Path(ctx.store.path), READ_THREADS)
        app[heavy_reader_key] = ReadPool(Path(ctx.store.path), HEAVY_READ_THREADS)
        yield
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, app[reader_key].close)
        await loop.run_in_executor(None, app[heavy_reader_key].close)

    app.cleanup_ctx.append(read_pools)
    return app


OP_OF_HANDLER: dict[Handler, str] = {h: op_id for op_id, h in HANDLERS.items()}

__all__ = ["HANDLERS", "ROUTES", "ReadPool", "make_api_app"]
