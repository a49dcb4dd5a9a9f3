"""The website: the network's directory in Thai and English, served by every node at ``/``.

Server-rendered pages (Jinja2, autoescaped), no JavaScript, one stylesheet.
They live on the API's address and application (``setup_website`` adds the
routes), so they share its middlewares: reads need no token on loopback,
anything but GET/HEAD is refused (the site never writes), and queries are
size-checked before a handler runs.

Pages (docs/website.md): ``/`` home, ``/search``, ``/members``,
``/members/{id}``, ``/activities``, ``/activities/{id}``, ``/map`` (and
``/map.svg``), ``/matches``, ``/requests`` and ``/requests/{id}`` (help
requests), ``/proposals`` and ``/proposals/{id}`` (decisions together),
``/health`` (the health report), ``/node``.

Each page reads through the API's pool of read-only SQLite connections, in
one snapshot, and then renders; the network map is laid out in that read
thread (it is pure Python) and kept until the log changes. Errors become
friendly pages in the reader's language: unknown ids 404, unreadable
filters or searches 400, never a 500 for bad input. An outer middleware does
the same for errors that other middlewares answer as problem+json (no such
page, POST to a page, a missing token), on every path outside ``/api/``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from aiohttp import web
from markupsafe import Markup, escape
from yarl import URL

from .. import (
    assist,
    decisions,
    directory,
    health,
    i18n,
    ids,
    netmap,
    peers,
    provinces,
    schema,
    search,
    thai,
)
from ..errors import EntryNotFoundError, MemberNotFoundError
from ..store import Store
from .keys import context_key

log = logging.getLogger(__name__)
T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PROBLEM_TYPE = "application/problem+json"
MARK = ("\ue000", "\ue001")  # private-use marks around search matches, replaced after escaping
MEMBERS_PER_PAGE = 30
ACTIVITIES_PER_PAGE = 30
SEARCH_PER_KIND = 20
MATCHES_PER_PAGE = 100
MEMBER_ACTIVITIES = 100
MEMBER_SELECT_MAX = 300  # the activity filter lists members in a <select> up to this many
STATIC_DIR = Path(str(resources.files("p2pnet").joinpath("static")))
MACHINE_PREFIXES = ("/api/", "/p2p/")
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
MEMBER_SORTS = ("name", "-updated", "-joined")


class Website:
    """What the pages share: the templates and the map cache of one node."""

    def __init__(self) -> None:
        self.env = make_env()
        self._maps: dict[tuple[str, str], tuple[netmap.NetMap, dict[str, str]]] = {}
        self._lock = threading.Lock()
        try:
            self.version = str(int(max(p.stat().st_mtime for p in STATIC_DIR.iterdir())))
        except (OSError, ValueError):
            self.version = "0"

    def network_map(
        self, conn: sqlite3.Connection, lang: str, own: str
    ) -> tuple[netmap.NetMap, dict[str, str]]:
        """The map in ``lang`` (names differ), laid out once per state of the log."""
        key = (directory.version(conn), lang)
        with self._lock:
            hit = self._maps.get(key)
        if hit is not None:
            return hit
        names = _names(conn, lang)
        m = netmap.build(directory.graph(conn), names, own=own)
        with self._lock:
            self._maps = {k: v for k, v in self._maps.items() if k[0] == key[0]}
            self._maps[key] = (m, names)
        return m, names


website_key = web.AppKey("website_key", Website)


# --------------------------------------------------------------------------- templates
def make_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("p2pnet", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        enable_async=False,
    )
    env.filters["date"] = _date_filter
    env.filters["ts"] = _ts_filter
    env.filters["month"] = _month_filter
    env.filters["txt"] = _txt_filter
    env.filters["num"] = lambda n: f"{int(n):,}" if n is not None else ""
    env.globals["has_msg"] = i18n.MESSAGES.__contains__
    env.globals["member_url"] = member_url
    env.globals["activity_url"] = activity_url
    env.globals["url"] = page_url
    env.globals["province_name"] = lambda code, lang: provinces.name(code, lang) if code else ""
    return env


@jinja2.pass_context
def _date_filter(context: Any, iso: str | None) -> str:
    return i18n.format_date(iso, context["lang"])


@jinja2.pass_context
def _ts_filter(context: Any, ms: int | None, time: bool = False) -> str:
    return i18n.format_ts(ms, context["lang"], time=time)


@jinja2.pass_context
def _month_filter(context: Any, iso: str | None) -> str:
    return i18n.format_month(iso, context["lang"])


@jinja2.pass_context
def _txt_filter(context: Any, text: Any) -> Markup:
    """Member-written text, escaped, marked ``lang="th"`` inside an English page (and
    ``lang="en"`` for Latin text in a Thai page), so fonts and screen readers follow."""
    if text is None:
        text = ""
    elif not isinstance(text, Markup):  # a macro's output is markup already: keep it
        text = str(text)
    page = context["lang"]
    if page == "en" and i18n.has_thai(text):
        return Markup('<span lang="th">{}</span>').format(text)
    if page == "th" and text and not i18n.has_thai(text) and any(c.isalpha() for c in text):
        return Markup('<span lang="en">{}</span>').format(text)
    return escape(text)


def member_url(member_id: str) -> str:
    return str(URL.build(path=f"/members/{member_id}"))


def activity_url(activity_id: str) -> str:
    return str(URL.build(path=f"/activities/{activity_id}"))


def page_url(path: str, **params: Any) -> str:
    """``path`` with the given query parameters, empty ones left out."""
    query = {k: str(v) for k, v in params.items() if v not in (None, "", False)}
    return str(URL.build(path=path, query=query or None))


def display_name(row: dict[str, Any], lang: str) -> str:
    th, en = row.get("name_th") or "", row.get("name_en") or ""
    if lang == "en":
        return en or th or row.get("name") or row.get("id", "")[:12]
    return th or en or row.get("name") or row.get("id", "")[:12]


def _names(conn: sqlite3.Connection, lang: str) -> dict[str, str]:
    rows = conn.execute("SELECT id, name_th, name_en FROM members")
    if lang == "en":
        return {m: en or th or m[:12] for m, th, en in rows}
    return {m: th or en or m[:12] for m, th, en in rows}


def snippet_html(snippet: str) -> Markup:
    """A search snippet: the text escaped, the matches in ``<mark>``."""
    return Markup("").join(
        Markup("<mark>{}</mark>").format(p["text"]) if p["match"] else escape(p["text"])
        for p in directory.split_marks(snippet, MARK)
    )


# --------------------------------------------------------------------------- plumbing
async def _read(request: web.Request, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``fn(conn)`` in one read snapshot: the API's read-only pool, else the store thread."""
    from . import api

    pool = request.app.get(api.reader_key)
    if pool is not None:
        return await pool.call(fn)
    ctx = request.app[context_key]
    result: T = await ctx.store.call(lambda s: fn(s.conn))
    return result


def request_lang(request: web.Request) -> tuple[str, bool]:
    """(language, remember it): ``?lang=``, else the cookie, else Accept-Language."""
    return i18n.choose(
        request.query.get("lang"),
        request.cookies.get(i18n.COOKIE),
        request.headers.get("Accept-Language", ""),
    )


def _common(conn: sqlite3.Connection, own: str, lang: str) -> dict[str, Any]:
    """What every page shows: the network's name, this node's member, the latest entry."""
    charter = directory.charter(conn) or {}
    latest = conn.execute(  # of a member the directory shows (not one this node blocked)
        "SELECT author, ts FROM entries WHERE fork = 0 AND author IN (SELECT key FROM members) "
        "ORDER BY n DESC LIMIT 1"
    ).fetchone()
    held = directory.last_n(conn)
    members = conn.execute("SELECT count(*) FROM members").fetchone()[0]
    latest_id = ids.member(latest[0]) if latest else None
    wanted = [m for m in (own, latest_id) if m]
    names = {
        m: display_name({"id": m, "name_th": th, "name_en": en}, lang)
        for m, th, en in conn.execute(
            f"SELECT id, name_th, name_en FROM members WHERE id IN ({','.join('?' * len(wanted))})",
            wanted,
        )
    }
    network_name = (
        (charter.get("name_en") or charter.get("name")) if lang == "en" else charter.get("name")
    )
    return {
        "charter": charter,
        "names": _names(conn, lang),
        "network_name": network_name or "p2pnet",
        "own_id": own,
        "own_name": names.get(own, own[:12]),
        "latest": None
        if latest is None
        else {
            "member": latest_id,
            "name": names.get(latest_id or "", (latest_id or "")[:12]),
            "ts": latest[1],
        },  # fmt: skip
        "held_entries": held,
        "held_members": members,
    }


class PageError(Exception):
    """A friendly refusal: render the error page with this status and message key."""

    def __init__(self, status: int, message: str, detail: str = "", **values: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail
        self.values = values


def _friendly(exc: Exception, lang: str) -> PageError:
    """A domain error as a PageError: 404 for unknown ids, 400 for unusable input."""
    if isinstance(exc, PageError):
        return exc
    detail = str(exc)
    if isinstance(exc, MemberNotFoundError):
        return PageError(404, "error.member.text", detail)
    if isinstance(exc, EntryNotFoundError):
        return PageError(404, "error.activity.text", detail)
    if isinstance(exc, search.QueryError):
        return PageError(400, "error.query", detail)
    if isinstance(exc, thai.DateError):
        return PageError(400, "error.date", detail, example=i18n.example_date(lang))
    if isinstance(exc, directory.QueryParamError):
        if exc.code == "bad-date":
            return PageError(400, "error.date", exc.detail, example=i18n.example_date(lang))
        if exc.code == "unknown-province":
            return PageError(400, "error.province", exc.detail)
        if exc.code == "bad-query" or exc.param == "q":
            return PageError(400, "error.query", exc.detail)
        return PageError(400, "error.param", exc.detail)
    raise exc


_FRIENDLY = (
    MemberNotFoundError, EntryNotFoundError, search.QueryError, thai.DateError,
    directory.QueryParamError, PageError,
)  # fmt: skip


def render(
    request: web.Request,
    template: str,
    data: dict[str, Any],
    *,
    lang: str,
    remember: bool = False,
    status: int = 200,
) -> web.Response:
    site = request.app[website_key]
    other = "en" if lang == "th" else "th"
    context = {
        **data,
        "lang": lang,
        "other_lang": other,
        "t": _translator(lang),
        "switch_url": _switch_url(request, other),
        "path": request.path,
        "request_args": {k: v for k, v in request.query.items() if k not in ("after", "lang")},
        "version": site.version,
    }
    body = site.env.get_template(template).render(context)
    response = web.Response(text=body, content_type="text/html", charset="utf-8", status=status)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Vary"] = "Cookie, Accept-Language"
    if remember:
        response.set_cookie(
            i18n.COOKIE, lang, max_age=i18n.COOKIE_MAX_AGE, path="/", samesite="Lax",
            httponly=True,
        )  # fmt: skip
    return response


async def page(
    request: web.Request,
    template: str,
    load: Callable[[sqlite3.Connection, str], dict[str, Any]] | None,
    *,
    section: str,
) -> web.Response:
    """Read ``load(conn, lang)`` and the common parts in one snapshot, then render."""
    lang, remember = request_lang(request)
    own = request.app[context_key].member_id

    def run(conn: sqlite3.Connection) -> dict[str, Any]:
        data = _common(conn, own, lang)
        if load is not None:
            data.update(load(conn, lang))
        return data

    try:
        data = await _read(request, run)
    except _FRIENDLY as exc:
        return await error_page(request, _friendly(exc, lang), section=section)
    data["section"] = section
    status = data.pop("_status", 200)
    return render(request, template, data, lang=lang, remember=remember, status=status)


async def error_page(
    request: web.Request, err: PageError, *, section: str = "", title: str | None = None
) -> web.Response:
    lang, remember = request_lang(request)
    own = request.app[context_key].member_id
    try:
        data = await _read(request, lambda c: _common(c, own, lang))
    except Exception:  # the error page must render even when the store cannot be read
        log.exception("error page: could not read the directory")
        data = {"network_name": "p2pnet", "own_id": own, "own_name": own[:12], "latest": None,
                "charter": {}, "held_entries": 0, "held_members": 0}  # fmt: skip
    key = title or {404: "error.404.title", 405: "error.405.title", 401: "error.401.title",
                    500: "error.500.title"}.get(err.status)  # fmt: skip
    if key is None:
        key = "error.400.title" if err.status == 400 else "error.other.title"
    data.update(
        section=section,
        status=err.status,
        error_title=i18n.gettext(lang, key),
        error_text=i18n.gettext(lang, err.message, **err.values),
        error_detail=err.detail,
    )
    return render(request, "error.html", data, lang=lang, remember=remember, status=err.status)


def _switch_url(request: web.Request, lang: str) -> str:
    """This page in the other language; never a link off this site (``//host`` paths)."""
    url = str(request.rel_url.update_query(lang=lang))
    if not url.startswith("/") or url[:2] in ("//", "/\\"):
        return f"/?lang={lang}"
    return url


def _translator(lang: str) -> Callable[..., Markup]:
    """``t(key, **values)`` for templates: the catalogue's text is plain text (escaped),
    values are escaped unless they are already markup (a macro's output)."""

    def t(key: str, **values: Any) -> Markup:
        forms = i18n.MESSAGES[key]
        text = escape(forms.get(lang) or forms["en"])
        return text.format(**values) if values else text

    return t


def _q(request: web.Request, name: str) -> str:
    """A query parameter, stripped; '' when absent."""
    return request.query.get(name, "").strip()


# --------------------------------------------------------------------------- pages
async def home(request: web.Request) -> web.Response:
    def load(conn: sqlite3.Connection, lang: str) -> dict[str, Any]:
        summary = directory.network_summary(conn)
        founder = (summary.get("charter") or {}).get("founder")
        founder_name = ""
        if founder:
            row = conn.execute(
                "SELECT id, name_th, name_en FROM members WHERE id = ?", (founder,)
            ).fetchone()
            founder_name = (
                display_name({"id": row[0], "name_th": row[1], "name_en": row[2]}, lang)
                if row else founder[:12]
            )  # fmt: skip
        return {
            "summary": summary,
            "founder_name": founder_name,
            "newest_members": directory.member_page(conn, sort="-joined", limit=6)["items"],
            "newest_activities": directory.activity_page(conn, limit=6)["items"],
            "network_kinds": schema.NETWORK_KINDS,
        }

    return await page(request, "home.html", load, section="home")


async def search_page(request: web.Request) -> web.Response:
    q = _q(request, "q")
    kind = _q(request, "kind")
    kind = kind if kind in ("member", "activity") else ""
    try:
        start = max(0, min(int(thai.arabic_digits(_q(request, "start") or "0")), 10_000))
    except ValueError:
        start = 0

    def load(conn: sqlite3.Connection, lang: str) -> dict[str, Any]:
        empty = {"hits": [], "more": False}
        out: dict[str, Any] = {"q": q, "kind": kind, "start": start, "error": None,
                               "member_hits": empty, "activity_hits": empty}  # fmt: skip
        if not q:
            return out
        try:
            for k in ("member", "activity"):
                if kind and k != kind:
                    continue
                hits = directory.find(
                    conn, q, kinds=[k], limit=SEARCH_PER_KIND + 1,
                    offset=start if kind else 0, mark=MARK,
                )  # fmt: skip
                items = hits[:SEARCH_PER_KIND]
                for h in items:
                    h["snippet_html"] = snippet_html(h["snippet"])
                    if k == "member":
                        h["member"] = _member_brief(conn, h["id"], lang)
                out[f"{k}_hits"] = {"hits": items, "more": len(hits) > SEARCH_PER_KIND}
        except (search.QueryError, directory.QueryParamError) as exc:
            err = _friendly(exc, lang)
            out.update(error=err, _status=err.status)
        return out

    return await page(request, "search.html", load, section="search")


def _member_brief(conn: sqlite3.Connection, member_id: str, lang: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT name_th, name_en, org_type, province, locality FROM members WHERE id = ?",
        (member_id,),
    ).fetchone()
    if row is None:
        return None
    status = directory.statuses(conn).get(member_id, "pending")
    return {"id": member_id, "name_th": row[0], "name_en": row[1], "org_type": row[2],
            "province": row[3], "locality": row[4], "status": status}  # fmt: skip


def _tag_values(conn: sqlite3.Connection, facet: str, limit: int = 60) -> list[str]:
    """The most used values of a profile facet, for the filter's suggestions."""
    rows = conn.execute(
        "SELECT value, count(*) AS n FROM tags WHERE facet = ? GROUP BY value "
        "ORDER BY n DESC, value LIMIT ?",
        (facet, limit),
    ).fetchall()
    return [r[0] for r in rows]


async def members_page(request: web.Request) -> web.Response:
    f = {k: _q(request, k) for k in ("q", "province", "area", "interest", "offers", "needs")}
    status = _q(request, "status")
    status = status if status in directory.STATUSES else ""
    sort = _q(request, "sort")
    sort = sort if sort in MEMBER_SORTS else "name"
    after = _q(request, "after")

    def load(conn: sqlite3.Connection, lang: str) -> dict[str, Any]:
        result = directory.member_page(
            conn,
            q=f["q"] or None, province=f["province"] or None, area=f["area"] or None,
            interest=f["interest"] or None, offers=f["offers"] or None, needs=f["needs"] or None,
            status=status or None, sort=sort, limit=MEMBERS_PER_PAGE, cursor=after or None,
        )  # fmt: skip
        summary = directory.network_summary(conn)
        province_codes = sorted(
            set(summary["provinces"]) | ({provinces.lookup(f["province"]) or ""} - {""}),
            key=lambda c: provinces.name(c, lang),
        )
        return {
            "members": result["items"],
            "total": result["total"],
            "next_cursor": result["next_cursor"],
            "filters": {**f, "status": status, "sort": sort},
            "filtered": any(f.values()) or bool(status),
            "after": after,
            "province_codes": province_codes,
            "province_selected": provinces.lookup(f["province"]) if f["province"] else "",
            "suggest": {k: _tag_values(conn, facet) for k, facet in
                        (("interest", "interests"), ("offers", "offers"), ("needs", "needs"))},
            "statuses": directory.STATUSES,
            "sorts": MEMBER_SORTS,
            "admission": directory.admission_rule(conn),
        }  # fmt: skip

    return await page(request, "members.html", load, section="members")


async def member_detail(request: web.Request) -> web.Response:
    ref = request.match_info["id"]

    def load(conn: sqlite3.Connection, lang: str) -> dict[str, Any]:
        mid = directory.resolve_member(conn, ref)
        m = directory.get_member(conn, mid, activities_limit=MEMBER_ACTIVITIES)
        for a in m["activities"]:
            _prepare_activity(a)
        try:
            matched = directory.matches(conn, mid)
        except Exception:  # matching is a help, not the page: never fail the profile for it
            log.exception("matching failed for %s", mid)
            matched = {"needs": [], "unmet": [], "gives": []}
        return {
            "m": m,
            "name": display_name(m, lang),
            "other_name": (m["name_th"] if lang == "en" else m["name_en"])
            if m["name_th"] and m["name_en"] else "",
            "matched": matched,
            "admission": directory.admission_rule(conn),
            "thanks_received": conn.execute(
                "SELECT count(*) FROM thanks WHERE dst = ?", (mid,)
            ).fetchone()[0],
            "names": directory.display_names(conn) if m["recovery_claims"] else {},
        }  # fmt: skip

    return await page(request, "member.html", load, section="members")


def _prepare_activity(a: dict[str, Any]) -> dict[str, Any]:
    people = a.get("participants", [])
    a["organisers"] = [p for p in people if p["role"] == "organiser"]
    a["others"] = [p for p in people if p["role"] != "organiser"]
    return a


async def activities_page(request: web.Request) -> web.Response:
    member_ref = _q(request, "member")
    kind = _q(request, "kind")
    kind = kind if kind in schema.ACTIVITY_KINDS else ""
    since, until = _q(request, "since"), _q(request, "until")
    after = _q(request, "after")

    def load(conn: sqlite3.Connection, lang: str) -> dict[str, Any]:
        member = None
        if member_ref:
            try:
                member = directory.resolve_member(conn, member_ref)
            except MemberNotFoundError as exc:
                raise PageError(400, "error.param", str(exc)) from None
        result = directory.activity_page(
            conn, member=member, kind=kind or None, since=since or None, until=until or None,
            limit=ACTIVITIES_PER_PAGE, cursor=after or None,
        )  # fmt: skip
        months: list[tuple[str, list[dict[str, Any]]]] = []
        for a in result["items"]:
            _prepare_activity(a)
            if not months or months[-1][0] != a["date"][:7]:
                months.append((a["date"][:7], []))
            months[-1][1].append(a)
        count = conn.execute("SELECT count(*) FROM members").fetchone()[0]
        options = (
            [(m["id"], display_name(m, lang)) for m in
             directory.list_members(conn, limit=MEMBER_SELECT_MAX)]
            if count <= MEMBER_SELECT_MAX else []
        )  # fmt: skip
        member_name = ""
        if member:
            member_name = _names(conn, lang).get(member, member[:12])
        return {
            "months": months,
            "next_cursor": result["next_cursor"],
            "filters": {"member": member or member_ref, "kind": kind, "since": since,
                        "until": until},
            "filtered": bool(member_ref or kind or since or until),
            "member_name": member_name,
            "member_options": options,
            "kinds": schema.ACTIVITY_KINDS,
            "after": after,
            "date_example": i18n.example_date(lang),
        }  # fmt: skip

    return await page(request, "activities.html", load, section="activities")


async def activity_detail(request: web.Request) -> web.Response:
    ref = request.match_info["id"]

    def load(conn: sqlite3.Connection, lang: str) -> dict[str, Any]:
        a = directory.get_activity(conn, directory.resolve_activity(conn, ref))
        return {"a": _prepare_activity(a)}

    return await page(request, "activity.html", load, section="activities")


def _map_texts(lang: str) -> dict[str, Any]:
    t = functools.partial(i18n.gettext, lang)
    return {
        "legend": [
            ("member", t("map.legend.member")), ("cut", t("map.legend.cut")),
            ("self", t("map.legend.self")), ("pending", t("map.legend.pending")),
            ("activity", t("map.legend.activity")), ("endorse", t("map.legend.endorse")),
        ],
    }  # fmt: skip


def _map_svg(
    m: netmap.NetMap, names: dict[str, str], lang: str, *, standalone: bool = False
) -> str:
    t = functools.partial(i18n.gettext, lang)

    def tooltip(node: netmap.MapNode) -> str:
        extra = []
        if node.cut:
            extra.append(t("map.legend.cut"))
        if node.status != "admitted":
            extra.append(t(f"status.{node.status}"))
        if node.forked:
            extra.append(t("status.forked"))
        return node.name + (f" ({'; '.join(extra)})" if extra else "")

    def edge_title(e: netmap.MapEdge, a: netmap.MapNode, b: netmap.MapNode) -> str:
        if e.kind == "endorsement":
            return f"{a.name} → {b.name}: {t('map.legend.endorse')}"
        return f"{a.name} — {b.name}: {t('map.shared', n=e.weight)}"

    return netmap.svg(
        m,
        href=member_url,
        title=t("map.svg_title"),
        desc=t("map.svg_desc", nodes=len(m.nodes), links=netmap_links(m), cuts=len(m.cut_points)),
        tooltip=tooltip,
        edge_title=edge_title,
        legend=_map_texts(lang)["legend"] if standalone else None,
        lang=lang,
    )


def netmap_links(m: netmap.NetMap) -> int:
    return len({(min(e.a, e.b), max(e.a, e.b)) for e in m.edges})


async def map_page(request: web.Request) -> web.Response:
    site = request.app[website_key]
    own = request.app[context_key].member_id

    def load(conn: sqlite3.Connection, lang: str) -> dict[str, Any]:
        m, names = site.network_map(conn, lang, own)
        statuses = directory.statuses(conn)
        rows = sorted(m.ties.items(), key=lambda kv: directory.name_key(names.get(kv[0], kv[0])))
        return {
            "map_svg": Markup(_map_svg(m, names, lang)),
            "netmap": m,
            "names": names,
            "statuses": statuses,
            "tie_rows": rows,
            "legend": [(k, Markup(netmap.legend_symbol(k)), text)
                       for k, text in _map_texts(lang)["legend"]],
            "links": netmap_links(m),
        }  # fmt: skip

    return await page(request, "map.html", load, section="map")


async def map_svg(request: web.Request) -> web.Response:
    site = request.app[website_key]
    own = request.app[context_key].member_id
    lang, _ = request_lang(request)

    def load(conn: sqlite3.Connection) -> str:
        m, names = site.network_map(conn, lang, own)
        return _map_svg(m, names, lang, standalone=True)

    body = await _read(request, load)
    return web.Response(
        text='<?xml version="1.0" encoding="UTF-8"?>\n' + body,
        content_type="image/svg+xml",
        charset="utf-8",
        headers={"Cache-Control": "no-cache", "Vary": "Cookie, Accept-Language"},
    )


async def matches_page(request: web.Request) -> web.Response:
    member_ref = _q(request, "member")
    after = _q(request, "after")

    def load(conn: sqlite3.Connection, lang: str) -> dict[str, Any]:
        member = None
        if member_ref:
            try:
                member = directory.resolve_member(conn, member_ref)
            except MemberNotFoundError as exc:
                raise PageError(400, "error.param", str(exc)) from None
        result = directory.matches(conn, member, limit=MATCHES_PER_PAGE, cursor=after or None)
        names = _names(conn, lang)
        return {
            "result": result,
            "names": names,
            "member": member,
            "member_name": names.get(member, "") if member else "",
            "after": after,
        }

    return await page(request, "matches.html", load, section="matches")


async def node_page(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    me = ctx.identity.public

    def read_state(s: Store) -> dict[str, Any]:
        own = s.feed(me)
        return {
            "network": ids.network(s.network) if s.network else None,
            "entries": s.count(),
            "feeds": len(s.feeds()),
            "own_seq": 0 if own is None else own.seq,
            "peers": [p.as_dict() for p in peers.all_peers(s)],
        }

    state = await ctx.store.call(read_state)
    g = ctx.gossiper
    stats = None
    if g is not None:
        stats = {k: getattr(g.stats, k) for k in
                 ("rounds", "syncs", "failures", "entries_in", "entries_out", "pushes",
                  "last_sync_ts")}  # fmt: skip

    def load(conn: sqlite3.Connection, lang: str) -> dict[str, Any]:
        try:
            member = directory.get_member(conn, ctx.member_id, activities_limit=0)
        except MemberNotFoundError:
            member = None
        return {
            "member": member,
            "member_names": _names(conn, lang),
            "state": state,
            "stats": stats,
            "started_ts": ctx.started_ts,
        }

    return await page(request, "node.html", load, section="node")


# --------------------------------------------------------------------------- keeping it alive
REQUEST_STATES = ("open", "in-progress", "closed")
_ID_REF = re.compile(r"[a-z0-9]{4,64}")
# why a step or a vote does not count (p2pnet.assist, p2pnet.decisions) -> message key
REASONS = {
    "its author is forked": "reason.author_forked",
    "the request was already closed": "reason.closed",
    "the requester cannot reply to its own request": "reason.own_reply",
    "only the requester can accept a reply": "reason.accept_owner",
    "no such reply to this request": "reason.no_reply",
    "a reply was already accepted": "reason.already_accepted",
    "nothing to hand on: no reply was accepted": "reason.nothing_to_hand_on",
    "only the member doing the work or the requester can hand it on": "reason.handoff_who",
    "the work is already with that member": "reason.already_with",
    "only the requester can close a request": "reason.close_owner",
    "cast after the proposal closed": "reason.after_close",
    "the voter is forked": "reason.voter_forked",
    "the voter is not an admitted member": "reason.not_admitted",
}
_NO_OPTION = re.compile(r"option (\d+) does not exist")


def reason_text(reason: str, lang: str) -> str:
    """A refusal's reason in the reader's language (the English original if it is new)."""
    key = REASONS.get(reason)
    if key:
        return i18n.gettext(lang, key)
    m = _NO_OPTION.fullmatch(reason)
    if m:
        return i18n.gettext(lang, "reason.no_option", n=int(m.group(1)) + 1)
    return reason


def _resolve(conn: sqlite3.Connection, table: str, ref: str, message: str) -> str:
    """A request or proposal id, or a unique prefix of one; else a friendly 404."""
    assert table in ("requests", "proposals")
    if _ID_REF.fullmatch(ref):
        if conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (ref,)).fetchone():
            return ref
        rows = conn.execute(
            f"SELECT id FROM {table} WHERE id >= ? AND id < ? LIMIT 2", (ref, ref + "\U0010ffff")
        ).fetchall()
        if len(rows) == 1:
            return str(rows[0][0])
    raise PageError(404, message, f"no such id: {ref[:80]}")


def _member_options(conn: sqlite3.Connection, lang: str) -> list[tuple[str, str]]:
    count = conn.execute("SELECT count(*) FROM members").fetchone()[0]
    if count > MEMBER_SELECT_MAX:
        return []
    return [(m["id"], display_name(m, lang))
            for m in directory.list_members(conn, limit=MEMBER_SELECT_MAX)]  # fmt: skip


def bar_chart(points: list[tuple[str, int]], label: str, lang: str) -> Markup:
    """A tiny bar chart as inline SVG (presentation attributes only, so the CSP allows it);
    each bar has a title, and the page gives the same numbers as a table."""
    bar, gap, height = 14, 4, 44
    top = max([v for _, v in points] or [0]) or 1
    width = len(points) * (bar + gap) - gap if points else bar
    parts = [
        Markup('<svg class="spark" role="img" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
               'aria-label="{label}" xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
               '<line class="base" x1="0" y1="{h}" x2="{w}" y2="{h}" stroke="#8a94a6" '
               'stroke-width="1"/>').format(w=width, h=height + 1, label=label)
    ]  # fmt: skip
    for i, (month, value) in enumerate(points):
        h = max(round(height * value / top), 2 if value else 0)
        parts.append(
            Markup('<rect class="bar{cls}" x="{x}" y="{y}" width="{bw}" height="{bh}" '
                   'fill="#1d4ed8"><title>{title}</title></rect>').format(
                cls="" if value else " zero", x=i * (bar + gap), y=height - h + 1, bw=bar,
                bh=max(h, 1), title=f"{i18n.format_month(month + '-01', lang)}: {value}")
        )  # fmt: skip
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _figure_value(f: dict[str, Any], lang: str) -> str:
    value = f["value"]
    if isinstance(value, list):
        value = len(value)
    if f["key"] == "growth":
        return (
            i18n.gettext(lang, f"growth.{value}")
            if f"growth.{value}" in i18n.MESSAGES
            else str(value)
        )
    if "total" in f:
        return f"{int(value):,} / {int(f['total']):,}"
    return f"{int(value):,}" if isinstance(value, int) else str(value)


def _components(g: Any) -> set[frozenset[str]]:
    """The connected groups of the collaboration graph (``health.graph``), as sets of ids."""
    seen: set[str] = set()
    out: set[frozenset[str]] = set()
    for start in g:
        if start in seen:
            continue
        group, todo = {start}, [start]
        while todo:
            for other in g[todo.pop()]:
                if other not in group:
                    group.add(other)
                    todo.append(other)
        seen |= group
        out.add(frozenset(group))
    return out


def _what_if_view(w: dict[str, Any], before: set[frozenset[str]]) -> dict[str, Any]:
    """``health.what_if`` with the groups that were apart already set aside: ``parts`` are
    what the member's own group falls into (largest first), ``cut_off`` all but the largest."""
    parts = [g for g in w["groups"] if frozenset(m["id"] for m in g) not in before]
    apart = sum(len(g) for g in w["groups"] if frozenset(m["id"] for m in g) in before)
    return {
        "member": w["member"],
        "name": w.get("name", w["member"][:12]),
        "in_graph": bool(w["groups"]) or w.get("name") is not None,
        "parts": parts,
        "cut_off": [m for g in parts[1:] for m in g],
        "apart": apart,
    }


async def health_page(request: web.Request) -> web.Response:
    what_if_ref = _q(request, "what_if")

    def load(conn: sqlite3.Connection, lang: str) -> dict[str, Any]:
        rep = health.shared_report(conn)
        figures, by_key = [], {}
        for f in rep["figures"]:
            trend = f.get("trend")
            points: list[tuple[str, int]] = []
            if trend:
                field = "members" if f["key"] == "growth" else "value"
                points = [(p["month"], int(p[field])) for p in trend]
            fig = {
                **f,
                "explain": f["explain_en"] if lang == "en" else f["explain_th"],
                "shown": _figure_value(f, lang),
                "points": points,
                "chart": bar_chart(points, i18n.gettext(lang, f"health.fig.{f['key']}"), lang)
                if points else None,
            }  # fmt: skip
            figures.append(fig)
            by_key[f["key"]] = fig
        g = health.graph(conn)
        before = _components(g)
        cuts = [_what_if_view(w, before) for w in by_key.get("cut_points", {}).get("what_if", [])]
        what_if = None
        if what_if_ref:
            member = directory.resolve_member(conn, what_if_ref)  # unknown: a friendly 404
            what_if = _what_if_view(health.what_if(conn, member, g), before)
            what_if["in_graph"] = member in g
        return {
            "cuts": cuts,
            "report": rep,
            "figures": figures,
            "fig": by_key,
            "what_if": what_if,
            "what_if_member": what_if["member"] if what_if else "",
            "member_options": _member_options(conn, lang),
        }

    return await page(request, "health.html", load, section="health")


def _request_steps(r: dict[str, Any], lang: str) -> dict[str, Any]:
    """Name the accepted reply's author on each accept, and translate refusals."""
    replies = {x["entry"]: x for x in r["replies"]}
    for ev in r["history"] + r["refused"]:
        if ev["kind"] == "accept" and ev.get("reply") in replies:
            ev["reply_author"] = replies[ev["reply"]]["author"]
            ev["reply_author_name"] = replies[ev["reply"]]["author_name"]
    for ev in r["refused"]:
        ev["reason_text"] = reason_text(ev["reason"], lang)
    return r


async def requests_page(request: web.Request) -> web.Response:
    state = _q(request, "state")
    state = state if state in REQUEST_STATES else ""
    member_ref = _q(request, "member")

    def load(conn: sqlite3.Connection, lang: str) -> dict[str, Any]:
        member = None
        if member_ref:
            try:
                member = directory.resolve_member(conn, member_ref)
            except MemberNotFoundError as exc:
                raise PageError(400, "error.param", str(exc)) from None
        items = assist.list_requests(conn, state=state or None, member=member)
        return {
            "requests": items,
            "filters": {"state": state, "member": member or member_ref},
            "filtered": bool(state or member_ref),
            "member_name": _names(conn, lang).get(member, "") if member else "",
            "member_options": _member_options(conn, lang),
            "states": REQUEST_STATES,
        }

    return await page(request, "requests.html", load, section="requests")


async def request_detail(request: web.Request) -> web.Response:
    ref = request.match_info["id"]

    def load(conn: sqlite3.Connection, lang: str) -> dict[str, Any]:
        rid = _resolve(conn, "requests", ref, "error.request.text")
        return {"r": _request_steps(assist.request_state(conn, rid), lang)}

    return await page(request, "request.html", load, section="requests")


def _vote_times(conn: sqlite3.Connection, proposal: str) -> dict[str, int]:
    return {e: ts for e, ts in conn.execute("SELECT entry, ts FROM votes WHERE proposal = ?",
                                            (proposal,))}  # fmt: skip


async def proposals_page(request: web.Request) -> web.Response:
    def load(conn: sqlite3.Connection, lang: str) -> dict[str, Any]:
        return {"proposals": decisions.list_proposals(conn), "now": _now_ms()}

    return await page(request, "proposals.html", load, section="proposals")


async def proposal_detail(request: web.Request) -> web.Response:
    ref = request.match_info["id"]

    def load(conn: sqlite3.Connection, lang: str) -> dict[str, Any]:
        pid = _resolve(conn, "proposals", ref, "error.proposal.text")
        p = decisions.tally(conn, pid)
        times = _vote_times(conn, pid)
        for v in p["votes"] + p["refused"]:
            v["ts"] = times.get(v.get("entry", ""))
        for v in p["refused"]:
            v["reason_text"] = reason_text(v["reason"], lang)
            opt = v.get("option")
            ok = isinstance(opt, int) and 0 <= opt < len(p["options"])
            v["option_label"] = (
                p["options"][opt] if ok else f"#{opt + 1 if isinstance(opt, int) else opt}"
            )
        top = max(p["counts"].values() or [0])
        return {"p": p, "top": top, "now": _now_ms()}

    return await page(request, "proposal.html", load, section="proposals")


def _now_ms() -> int:
    from ..entries import now_ms

    return now_ms()


async def favicon(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "favicon.svg", headers={"Content-Type": "image/svg+xml"})


# --------------------------------------------------------------------------- errors outside pages
@web.middleware
async def html_errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outside ``/api/`` and ``/p2p/``: problem+json errors become friendly HTML pages, and
    every answer gets the website's security headers."""
    if request.path.startswith(MACHINE_PREFIXES):
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = exc
    if response.status >= 400 and (response.content_type == PROBLEM_TYPE or
                                   isinstance(response, web.HTTPException)):  # fmt: skip
        detail = ""
        if isinstance(response, web.Response) and response.body:
            try:
                detail = str(json.loads(bytes(response.body)).get("detail", ""))  # type: ignore[arg-type]
            except (ValueError, TypeError, AttributeError):
                detail = ""
        status = response.status
        message = {404: "error.404.text", 401: "error.401.text", 405: "node.readonly",
                   500: "error.500.text"}.get(status, "error.param")  # fmt: skip
        if status == 500:
            detail = ""
        new = await error_page(request, PageError(status, message, detail))
        for h in ("Allow", "Retry-After"):
            if h in response.headers:
                new.headers[h] = response.headers[h]
        response = new
    if not response.prepared:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


# --------------------------------------------------------------------------- setup
def setup_website(app: web.Application, ctx: object) -> web.Application:
    """Add the website's pages and static files to the API application (before it starts);
    returns the application."""
    app[website_key] = Website()
    app.router.add_routes(
        [
            web.get("/", home, name="home"),
            web.get("/search", search_page, name="search"),
            web.get("/members", members_page, name="members"),
            web.get("/members/{id}", member_detail, name="member"),
            web.get("/activities", activities_page, name="activities"),
            web.get("/activities/{id}", activity_detail, name="activity"),
            web.get("/map", map_page, name="map"),
            web.get("/map.svg", map_svg, name="map-svg"),
            web.get("/matches", matches_page, name="matches"),
            web.get("/requests", requests_page, name="requests"),
            web.get("/requests/{id}", request_detail, name="request"),
            web.get("/proposals", proposals_page, name="proposals"),
            web.get("/proposals/{id}", proposal_detail, name="proposal"),
            web.get("/health", health_page, name="health"),
            web.get("/node", node_page, name="node"),
            web.get("/favicon.ico", favicon, name="favicon"),
            web.static("/static", STATIC_DIR, name="static"),
        ]
    )
    app.middlewares.insert(0, html_errors_middleware)
    return app


__all__ = ["Website", "html_errors_middleware", "setup_website", "website_key"]
