"""The directory: read-only queries over the derived tables.

Pure and synchronous, shared by the CLI, the local API and the website. Every
function takes a ``sqlite3.Connection`` (``Store.conn``) and returns plain
dicts and lists, ready for JSON.

Two styles of listing live side by side:

* ``list_members`` / ``list_activities`` / ``find`` take ``limit`` and
  ``offset`` and return a list (what the CLI uses);
* ``member_page`` / ``activity_page`` / ``search_page`` take ``limit`` and an
  opaque ``cursor`` and return ``{"items": [...], "next_cursor": ...}`` (what
  the HTTP API uses). A cursor names the last item seen (keyset pagination),
  so pages stay consistent while new entries arrive.

Bad parameters raise :class:`QueryParamError` (HTTP 400); unknown ids raise
``MemberNotFoundError`` / ``EntryNotFoundError`` (HTTP 404).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import dataclasses
import functools
import json
import os
import sqlite3
import threading
import unicodedata
from typing import Any, cast

import icu  # type: ignore[import-untyped]

from . import ids, keychain, matching, provinces, search, thai
from .errors import EntryNotFoundError, MemberNotFoundError, P2pnetError

MEMBER_COLUMNS = (
    "id, name_th, name_en, org_type, description, description_en, province, locality, lat, lon, "
    "website, contact, endpoints, interests, expertise, offers, needs, profile_seq, profile_entry, "
    "first_ts, updated_ts, entries, left_seq, forked, founder"
)
_DISPLAY_NAME = "CASE WHEN name_th != '' THEN name_th WHEN name_en != '' THEN name_en ELSE id END"
ACTIVITY_COLUMNS = "id, author, title, kind, date, end_date, place, summary, outcome, ts"
STATUSES = ("admitted", "pending", "left")
MEMBER_SORTS = ("name", "-name", "updated", "-updated", "joined", "-joined")
ACTIVITY_SORTS = ("-date", "date")
FACET_FILTERS = {
    "interest": ("interests",),
    "expertise": ("expertise",),
    "offers": ("offers",),
    "needs": ("needs",),
    "tag": ("interests", "expertise", "offers", "needs"),
}
MAX_LIMIT = 200
DEFAULT_MARK = ("<mark>", "</mark>")


class QueryParamError(P2pnetError, ValueError):
    """A query parameter cannot be used; ``code`` is stable, ``param`` names the parameter."""

    def __init__(self, code: str, param: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.param = param
        self.detail = detail


# --------------------------------------------------------------------------- charter, statuses
def charter(conn: sqlite3.Connection) -> dict[str, Any] | None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'charter'").fetchone()
    return None if row is None else dict(json.loads(row[0]))


def admission_rule(conn: sqlite3.Connection) -> int:
    """Endorsements a newcomer needs, under the charter in force (passed proposals applied)."""
    from . import decisions

    c = decisions.charter_in_force(conn) if charter(conn) else {}
    return int((c.get("admission") or {}).get("endorsements", 1))


def last_n(conn: sqlite3.Connection) -> int:
    """The store's last arrival number: it changes whenever an entry arrives."""
    return int(conn.execute("SELECT coalesce(max(n), 0) FROM entries").fetchone()[0])


def version(conn: sqlite3.Connection) -> str:
    """Changes whenever anything in the directory may: an entry arrived, or the tables
    were rebuilt (``p2pnet reindex``, a block or an unblock)."""
    n, rebuilt = conn.execute(
        "SELECT (SELECT coalesce(max(n), 0) FROM entries), "
        "(SELECT value FROM meta WHERE key = 'directory_version')"
    ).fetchone()
    return f"{n}.{rebuilt or 0}"


# Derived answers that cost a scan of the whole network, kept per connection and
# recomputed when the directory changed (version). The connection is held in the entry, so
# its id() cannot be reused by another connection while the entry lives. The costliest
# (matching, the graph) are shared by every connection to the same database file.
_memo: dict[tuple[int | str, str], tuple[sqlite3.Connection | None, str, Any]] = {}
_memo_lock = threading.Lock()


def _db_file(conn: sqlite3.Connection) -> str:
    """The database file and its inode (a file deleted and made again is another one)."""
    row = conn.execute("PRAGMA database_list").fetchone()
    if not row or not row[2]:
        return ""
    try:
        return f"{row[2]}#{os.stat(row[2]).st_ino}"
    except OSError:
        return ""


def _memoized(conn: sqlite3.Connection, name: str, compute: Any, *, shared: bool = False) -> Any:
    n = version(conn)
    path = _db_file(conn) if shared else ""
    key: tuple[int | str, str] = (path, name) if path else (id(conn), name)
    owner = None if path else conn
    with _memo_lock:
        hit = _memo.get(key)
    if hit is not None and hit[0] is owner and hit[1] == n:
        return hit[2]
    value = compute()
    with _memo_lock:
        if len(_memo) > 64:
            _memo.clear()
        _memo[key] = (owner, n, value)
    return value


def statuses(conn: sqlite3.Connection) -> dict[str, str]:
    """member id -> ``admitted``, ``pending`` or ``left``.

    The founder is admitted; anyone else once at least the charter's number of
    admitted, unforked members endorse them (a fixpoint, so admission spreads
    from the founder outwards). A member whose latest entry of (profile,
    leave) is a leave has left.
    """
    return dict(_status_map(conn))


def _status_map(conn: sqlite3.Connection) -> dict[str, str]:
    """:func:`statuses`, shared from the memo: read it, never change it."""
    return cast(dict[str, str], _memoized(conn, "statuses", lambda: _statuses(conn)))


def _statuses(conn: sqlite3.Connection) -> dict[str, str]:
    return statuses_under(conn, admission_rule(conn))


def statuses_under(conn: sqlite3.Connection, need: int) -> dict[str, str]:
    """:func:`statuses` under an admission rule of ``need`` endorsements (proposals
    are tallied under the rule in force when they close, see :mod:`p2pnet.decisions`)."""
    rows = conn.execute("SELECT id, founder, forked, left_seq, profile_seq FROM members").fetchall()
    left = {m for m, _, _, ls, ps in rows if ls > ps}
    forked = {m for m, _, f, _, _ in rows if f}
    endorses: dict[str, list[str]] = {}
    for src, dst in conn.execute("SELECT src, dst FROM endorsements WHERE active = 1"):
        if src != dst:
            endorses.setdefault(src, []).append(dst)
    if need == 0:
        admitted = {m for m, *_ in rows}
    else:
        # Worklist form of the fixpoint: each admitted voucher is counted once for each
        # member it endorses, O(members + endorsements) instead of rounds x members.
        admitted = {m for m, founder, *_ in rows if founder}
        todo = list(admitted)
        votes: dict[str, int] = {}
        while todo:
            voucher = todo.pop()
            if voucher in forked or voucher in left:
                continue
            for dst in endorses.get(voucher, ()):
                if dst in admitted:
                    continue
                votes[dst] = votes.get(dst, 0) + 1
                if votes[dst] >= need:
                    admitted.add(dst)
                    todo.append(dst)
    return {
        m: "left" if m in left else "admitted" if m in admitted else "pending" for m, *_ in rows
    }


# --------------------------------------------------------------------------- cursors
def encode_cursor(data: dict[str, Any]) -> str:
    """An opaque, URL-safe cursor (base64url of compact JSON)."""
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, kind: str) -> dict[str, Any]:
    """Parse a cursor that :func:`encode_cursor` made for ``kind``, or raise QueryParamError."""
    bad = QueryParamError(
        "bad-cursor", "cursor", "cursor is not one this node gave out: start again without it"
    )
    if not cursor or len(cursor) > 400 or not cursor.isascii():
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise bad from None
    if not isinstance(data, dict) or data.get("t") != kind:
        raise bad
    return data


# --------------------------------------------------------------------------- members
def _loads(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default


def _member_row(row: sqlite3.Row | tuple[Any, ...], status: str) -> dict[str, Any]:
    (mid, name_th, name_en, org_type, desc, desc_en, province, locality, lat, lon, website,
     contact, endpoints, interests, expertise, offers, needs, profile_seq, profile_entry,
     first_ts, updated_ts, n_entries, _left_seq, forked, founder) = row  # fmt: skip
    return {
        "id": mid,
        "name": name_th or name_en or mid[:12],
        "name_th": name_th,
        "name_en": name_en,
        "org_type": org_type,
        "description": desc,
        "description_en": desc_en,
        "province": province,
        "province_th": provinces.name(province, "th") if province else "",
        "province_en": provinces.name(province, "en") if province else "",
        "locality": locality,
        "geo": [lat, lon] if lat is not None else None,
        "website": website,
        "contact": _loads(contact, {}),
        "endpoints": _loads(endpoints, []),
        "interests": _loads(interests, []),
        "expertise": _loads(expertise, []),
        "offers": _loads(offers, []),
        "needs": _loads(needs, []),
        "status": status,
        "forked": bool(forked),
        "founder": bool(founder),
        "has_profile": profile_seq > 0,
        "profile_entry": profile_entry,
        "first_ts": first_ts,
        "updated_ts": updated_ts,
        "joined_date": thai.date_of_ms(first_ts),
        "updated_date": thai.date_of_ms(updated_ts),
        "entries": n_entries,
    }


_local = threading.local()


def _collator() -> Any:
    try:
        return _local.collator
    except AttributeError:
        _local.collator = icu.Collator.createInstance(icu.Locale("th_TH"))
        return _local.collator


@functools.lru_cache(maxsize=1 << 15)
def name_key(name: str) -> bytes:
    """Sort key for a name in Thai dictionary order (เครือข่าย sorts under ค), Latin after Thai."""
    return bytes(_collator().getSortKey(unicodedata.normalize("NFC", name).casefold()))


def _norm_value(value: str, param: str) -> str:
    norm = search.normalize(value)
    if not norm:
        raise QueryParamError("bad-parameter", param, f"{param} must not be empty")
    return norm


@dataclasses.dataclass(frozen=True)
class _Listed:
    """What listing and sorting members needs, one row per listed member."""

    id: str
    name: str
    first_ts: int
    updated_ts: int
    province: str
    locality: str  # normalised, for ``area``
    forked: bool


@dataclasses.dataclass(frozen=True)
class _MemberIndex:
    rows: list[_Listed]
    name_rank: dict[str, int]  # member id -> place in Thai dictionary order


def _member_index(conn: sqlite3.Connection) -> _MemberIndex:
    """Listed members (with a profile, or the founder), kept until the log changes: a
    listing filters and sorts these in memory instead of reading every member row."""

    def build() -> _MemberIndex:
        rows = [
            _Listed(mid, name, first, updated, province, search.normalize(locality), bool(forked))
            for mid, name, first, updated, province, locality, forked in conn.execute(
                f"SELECT id, {_DISPLAY_NAME}, first_ts, updated_ts, province, locality, forked "
                "FROM members WHERE profile_seq > 0 OR founder = 1"
            )
        ]
        order = sorted(rows, key=lambda r: (name_key(r.name), r.id))
        return _MemberIndex(rows, {r.id: n for n, r in enumerate(order)})

    return cast(_MemberIndex, _memoized(conn, "member-index", build, shared=True))


def _province_code(text: str) -> str:
    code = provinces.lookup(thai.arabic_digits(text))
    if code is None:
        raise QueryParamError(
            "unknown-province",
            "province",
            f"{text[:40]!r} is not a Thai province: give its Thai or English name or its "
            "ISO 3166-2:TH code (e.g. เชียงใหม่, Chiang Mai, TH-50)",
        )
    return code


def _member_candidates(
    conn: sqlite3.Connection,
    *,
    q: str | None,
    facets: dict[str, str],
    province: str | None,
    area: str | None,
    forked: bool | None,
) -> list[_Listed]:
    """Listed members that pass the filters, in no particular order."""
    rows = _member_index(conn).rows
    if province:
        code = _province_code(province)
        rows = [r for r in rows if r.province == code]
    if area:
        area_code = provinces.lookup(thai.arabic_digits(area))
        if area_code is not None:
            rows = [r for r in rows if r.province == area_code]
        else:
            norm = _norm_value(area, "area")
            rows = [r for r in rows if norm in r.locality]
    if forked is not None:
        rows = [r for r in rows if r.forked == forked]
    for param, value in facets.items():
        norm = _norm_value(value, param)
        names = FACET_FILTERS[param]
        having = {
            m
            for (m,) in conn.execute(
                f"SELECT DISTINCT member FROM tags WHERE facet IN ({','.join('?' * len(names))}) "
                "AND instr(norm, ?) > 0",
                [*names, norm],
            )
        }
        rows = [r for r in rows if r.id in having]
    if q:
        _check_text(q)
        found = {h.doc_id for h in search.search(conn, q, kinds=["member"], limit=1 << 30)}
        rows = [r for r in rows if r.id in found]
    return rows


def _sort_key(index: _MemberIndex, sort: str) -> Any:
    field = sort.lstrip("-")
    if field == "name":
        return lambda r: (index.name_rank[r.id], r.id)
    if field == "joined":
        return lambda r: (r.first_ts, r.id)
    return lambda r: (r.updated_ts, r.id)


def member_page(
    conn: sqlite3.Connection,
    *,
    q: str | None = None,
    tag: str | None = None,
    interest: str | None = None,
    expertise: str | None = None,
    offers: str | None = None,
    needs: str | None = None,
    province: str | None = None,
    area: str | None = None,
    status: str | None = None,
    forked: bool | None = None,
    sort: str = "name",
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One page of members with a profile (or the founder).

    Text filters (``tag`` any facet, ``interest``, ``expertise``, ``offers``,
    ``needs``) keep members with a value of that facet that *contains* the text
    after normalisation (Thai marks reordered, Thai digits as 0-9, case folded).
    ``q`` is a full-text search (every term must match). ``province`` is a
    Thai name, English name or ISO code; ``area`` is a province too, or else
    text contained in the locality. ``sort`` is ``name`` (Thai dictionary
    order), ``updated`` or ``joined``; a leading ``-`` reverses it.

    Returns ``{"items", "next_cursor", "total"}``; ``total`` counts every
    member that passes the filters.
    """
    if sort not in MEMBER_SORTS:
        raise QueryParamError(
            "bad-parameter", "sort", f"sort must be one of {', '.join(MEMBER_SORTS)}"
        )
    if status is not None and status not in STATUSES:
        raise QueryParamError(
            "bad-parameter", "status", f"status must be one of {', '.join(STATUSES)}"
        )
    _check_limit(limit)
    facets = {
        k: v
        for k, v in (
            ("tag", tag),
            ("interest", interest),
            ("expertise", expertise),
            ("offers", offers),
            ("needs", needs),
        )
        if v is not None
    }
    rows = _member_candidates(conn, q=q, facets=facets, province=province, area=area, forked=forked)
    st = _status_map(conn)
    if status is not None:
        rows = [r for r in rows if st.get(r.id, "pending") == status]
    index = _member_index(conn)
    key = _sort_key(index, sort)
    rows = sorted(rows, key=key)
    keys = [key(r) for r in rows]
    desc = sort.startswith("-")
    if desc:
        rows.reverse()
    start = 0
    if cursor:
        data = decode_cursor(cursor, "members")
        mid = data.get("i")
        if data.get("s") != sort or not isinstance(mid, str):
            raise QueryParamError("bad-cursor", "cursor", "cursor was made for another sort order")
        if sort.endswith("name"):
            if mid not in index.name_rank:
                raise QueryParamError("bad-cursor", "cursor", "cursor names no listed member")
            ckey: tuple[Any, str] = (index.name_rank[mid], mid)
        else:
            k = data.get("k")
            if isinstance(k, bool) or not isinstance(k, int):
                raise QueryParamError(
                    "bad-cursor", "cursor", "cursor is not one this node gave out"
                )
            ckey = (k, mid)
        start = (
            len(keys) - bisect.bisect_left(keys, ckey) if desc else bisect.bisect_right(keys, ckey)
        )
    page = rows[start : start + limit]
    items = _members_by_id(conn, [r.id for r in page], st)
    next_cursor = None
    if start + limit < len(rows) and page:
        last = page[-1]
        data = {"t": "members", "s": sort, "i": last.id}
        if not sort.endswith("name"):
            data["k"] = last.first_ts if sort.endswith("joined") else last.updated_ts
        next_cursor = encode_cursor(data)
    return {"items": items, "next_cursor": next_cursor, "total": len(rows)}


def _members_by_id(
    conn: sqlite3.Connection, wanted: list[str], st: dict[str, str]
) -> list[dict[str, Any]]:
    if not wanted:
        return []
    marks = ",".join("?" * len(wanted))
    rows = {
        r[0]: r
        for r in conn.execute(f"SELECT {MEMBER_COLUMNS} FROM members WHERE id IN ({marks})", wanted)
    }
    return [_member_row(rows[m], st.get(m, "pending")) for m in wanted if m in rows]


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise QueryParamError(
            "bad-parameter", "limit", f"limit must be a whole number from 1 to {MAX_LIMIT}"
        )


def list_members(
    conn: sqlite3.Connection,
    *,
    status: str | None = None,
    province: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Members with a profile (or the founder), ordered by name (Thai dictionary order)."""
    st = _status_map(conn)
    rows = _member_candidates(conn, q=None, facets={}, province=province, area=None, forked=None)
    if status:
        rows = [r for r in rows if st.get(r.id, "pending") == status]
    rows.sort(key=_sort_key(_member_index(conn), "name"))
    return _members_by_id(conn, [r.id for r in rows[offset : offset + limit]], st)


def member_of_key(conn: sqlite3.Connection, key: bytes) -> str:
    """The member a key signs for: its own id, or the first key's id after a hand-over."""
    row = conn.execute("SELECT member FROM member_keys WHERE key = ?", (key,)).fetchone()
    return ids.member(key) if row is None else str(row[0])


def resolve_member(conn: sqlite3.Connection, text: str) -> str:
    """A member id from an id, a unique id prefix, or a (unique) name."""
    text = text.strip()
    if not text:
        raise MemberNotFoundError("name a member by id, id prefix or name")
    low = text.lower()
    if low.startswith("pm") and len(low) >= 4:
        rows = conn.execute(
            "SELECT id FROM members WHERE id >= ? AND id < ? LIMIT 3", (low, low + "\uffff")
        ).fetchall()
        if not rows:  # a later key of a member that changed keys
            rows = conn.execute(
                "SELECT DISTINCT member FROM member_keys WHERE key_id >= ? AND key_id < ? LIMIT 3",
                (low, low + "\uffff"),
            ).fetchall()
        if len(rows) == 1:
            return str(rows[0][0])
        if len(rows) > 1:
            raise MemberNotFoundError(
                f"{text!r} is the start of several member ids; give more of it"
            )
    norm = search.normalize(text)
    if not norm:
        raise MemberNotFoundError(f"no member matches {text!r}")
    rows = conn.execute("SELECT id, name_th, name_en FROM members").fetchall()
    exact = [m for m, th, en in rows if norm in (search.normalize(th), search.normalize(en))]
    if len(exact) == 1:
        return str(exact[0])
    partial = [
        m for m, th, en in rows if norm in search.normalize(th) or norm in search.normalize(en)
    ]
    if len(exact) > 1 or len(partial) > 1:
        names = [th or en for m, th, en in rows if m in (exact or partial)][:5]
        raise MemberNotFoundError(f"{text!r} matches several members: {', '.join(names)}")
    if len(partial) == 1:
        return str(partial[0])
    raise MemberNotFoundError(f"no member matches {text!r} (try `p2pnet members`)")


def get_member(
    conn: sqlite3.Connection, member_id: str, *, activities_limit: int = 1000
) -> dict[str, Any]:
    """One member: the profile, endorsements given and received, activities, fork status."""
    row = conn.execute(
        f"SELECT {MEMBER_COLUMNS} FROM members WHERE id = ?", (member_id,)
    ).fetchone()
    if row is None:
        raise MemberNotFoundError(f"no member {member_id}")
    st = _status_map(conn)
    m = _member_row(row, st.get(member_id, "pending"))
    names = _names(conn)
    # who endorses this member (the other end is src), and whom it endorses (dst)
    for key, other, this in (("endorsed_by", "src", "dst"), ("endorses", "dst", "src")):
        m[key] = [
            {"member": o, "name": names.get(o, o[:12]), "ts": ts, "note": note,
             "status": st.get(o, "pending")}
            for o, ts, note in conn.execute(
                f"SELECT {other}, ts, note FROM endorsements WHERE {this} = ? AND active = 1 "
                f"ORDER BY ts, {other}",
                (member_id,),
            )
        ]  # fmt: skip
    m["activities"] = list_activities(conn, member=member_id, limit=activities_limit)
    m["activities_total"] = conn.execute(
        "SELECT count(*) FROM participants WHERE member = ?", (member_id,)
    ).fetchone()[0]
    conflicts = 0
    if m["forked"]:  # rare; the log has no index on fork entries, so look only when needed
        key = conn.execute("SELECT key FROM members WHERE id = ?", (member_id,)).fetchone()[0]
        conflicts = conn.execute(
            "SELECT count(*) FROM entries WHERE author = ? AND fork = 1", (key,)
        ).fetchone()[0]
    m["fork"] = {"forked": m["forked"], "conflicting_entries": conflicts}
    m["last_update"] = thai.iso_of_ms(m["updated_ts"])
    m["keys"] = keychain.member_keys(conn, member_id)
    m["recovery_claims"] = keychain.claims(conn, member=member_id)
    # blocks other members chose to publish (signed block entries); a node's own block
    # list is private and never shown here
    m["blocked_by"] = [
        {
            "member": src,
            "name": names.get(src, src[:12]),
            "reason": reason,
            "ts": ts,
            "entry": entry,
        }
        for src, reason, ts, entry in conn.execute(
            "SELECT src, reason, ts, entry FROM published_blocks WHERE dst = ? AND active = 1 "
            "ORDER BY ts, src",
            (member_id,),
        )
    ]
    return m


def _names(conn: sqlite3.Connection) -> dict[str, str]:
    """member id -> display name, shared from the memo: read it, never change it."""

    def load() -> dict[str, str]:
        rows = conn.execute("SELECT id, name_th, name_en FROM members")
        return {mid: th or en or mid[:12] for mid, th, en in rows}

    return cast(dict[str, str], _memoized(conn, "names", load))


display_names = _names  # public: member id -> display name (a shared, read-only dict)


# --------------------------------------------------------------------------- activities
def date_bound(text: str | None, param: str, *, end: bool = False) -> str | None:
    """A ``since``/``until`` value (CE or BE, Thai digits allowed) as an ISO CE date."""
    if text is None or text == "":
        return None
    try:
        return thai.parse_bound(text, end=end)
    except thai.DateError as exc:
        raise QueryParamError("bad-date", param, f"{param}: {exc}") from None


def _activity_where(
    conn: sqlite3.Connection,
    *,
    member: str | None,
    kind: str | None,
    since: str | None,
    until: str | None,
    confirmed_only: bool,
) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    if member:
        where.append("id IN (SELECT activity FROM participants WHERE member = ?)")
        args.append(member)
    if kind:
        where.append("kind = ?")
        args.append(kind)
    if since:
        where.append("date >= ?")
        args.append(since)
    if until:
        where.append("date <= ?")
        args.append(until)
    if confirmed_only:
        where.append(
            "EXISTS (SELECT 1 FROM confirmations c JOIN participants p "
            "ON p.activity = c.activity AND p.member = c.member AND p.role = 'participant' "
            "WHERE c.activity = activities.id)"
        )
    return where, args


def list_activities(
    conn: sqlite3.Connection,
    *,
    member: str | None = None,
    kind: str | None = None,
    since: str | None = None,
    until: str | None = None,
    confirmed_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Activities, newest first, each with its participants and their confirmations.

    ``since`` and ``until`` are ISO dates (inclusive); a BE date is read as BE
    (see :mod:`p2pnet.thai`).
    """
    since = date_bound(since, "since")
    until = date_bound(until, "until", end=True)
    where, args = _activity_where(
        conn, member=member, kind=kind, since=since, until=until, confirmed_only=confirmed_only
    )
    sql = f"SELECT {ACTIVITY_COLUMNS} FROM activities"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY date DESC, id DESC LIMIT ? OFFSET ?"
    rows = conn.execute(sql, [*args, limit, offset]).fetchall()
    names = _names(conn)
    return _activities(conn, rows, names)


def activity_page(
    conn: sqlite3.Connection,
    *,
    member: str | None = None,
    kind: str | None = None,
    since: str | None = None,
    until: str | None = None,
    confirmed_only: bool = False,
    sort: str = "-date",
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One page of activities (``-date``: newest first, or ``date``), keyset-paginated.

    ``since``/``until`` are dates in CE or BE (``YYYY``, ``YYYY-MM`` or
    ``YYYY-MM-DD``; a year above 2400 is BE), inclusive.
    Returns ``{"items", "next_cursor"}``.
    """
    since = date_bound(since, "since")
    until = date_bound(until, "until", end=True)
    if sort not in ACTIVITY_SORTS:
        raise QueryParamError(
            "bad-parameter", "sort", f"sort must be one of {', '.join(ACTIVITY_SORTS)}"
        )
    _check_limit(limit)
    where, args = _activity_where(
        conn, member=member, kind=kind, since=since, until=until, confirmed_only=confirmed_only
    )
    desc = sort == "-date"
    if cursor:
        data = decode_cursor(cursor, "activities")
        d, i = data.get("d"), data.get("i")
        if data.get("s") != sort or not isinstance(d, str) or not isinstance(i, str):
            raise QueryParamError("bad-cursor", "cursor", "cursor was made for another sort order")
        # a row value, so that SQLite seeks in the (date, id) index instead of scanning to it
        where.append(f"(date, id) {'<' if desc else '>'} (?, ?)")
        args += [d, i]
    sql = f"SELECT {ACTIVITY_COLUMNS} FROM activities"
    if where:
        sql += " WHERE " + " AND ".join(where)
    direction = "DESC" if desc else "ASC"
    sql += f" ORDER BY date {direction}, id {direction} LIMIT ?"
    rows = conn.execute(sql, [*args, limit + 1]).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    names = _names(conn)
    items = _activities(conn, rows, names)
    next_cursor = None
    if more and rows:
        next_cursor = encode_cursor(
            {"t": "activities", "s": sort, "d": rows[-1][4], "i": rows[-1][0]}
        )
    return {"items": items, "next_cursor": next_cursor}


def export_activities(
    conn: sqlite3.Connection, *, after: tuple[str, str] | None = None, limit: int = 5000
) -> list[dict[str, Any]]:
    """Flat activity rows for CSV, newest first, after ``(date, id)`` of the previous batch."""
    names = _names(conn)
    sql = (
        f"SELECT {ACTIVITY_COLUMNS}, "
        "(SELECT group_concat(member, ' ') FROM participants p WHERE p.activity = a.id "
        "AND p.role = 'participant'), "
        "(SELECT count(*) FROM confirmations c JOIN participants p ON p.activity = c.activity "
        "AND p.member = c.member AND p.role = 'participant' WHERE c.activity = a.id) "
        "FROM activities a"
    )
    args: list[Any] = []
    if after is not None:
        sql += " WHERE (date, id) < (?, ?)"
        args += [after[0], after[1]]
    sql += " ORDER BY date DESC, id DESC LIMIT ?"
    out = []
    for row in conn.execute(sql, [*args, limit]):
        aid, author, title, kind, date, end_date, place, summary, outcome, ts, people, confirmed = (
            row
        )
        out.append({
            "id": aid, "date": date, "end_date": end_date, "title": title, "kind": kind,
            "place": place, "author": author, "author_name": names.get(author, author[:12]),
            "participants": people or "", "confirmed": confirmed, "summary": summary,
            "outcome": outcome, "ts": ts,
        })  # fmt: skip
    return out


def _activities(
    conn: sqlite3.Connection, rows: list[tuple[Any, ...]], names: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Activity rows as dicts with their participants and confirmations (two queries)."""
    if not rows:
        return []
    names = _names(conn) if names is None else names
    wanted = [r[0] for r in rows]
    marks = ",".join("?" * len(wanted))
    confirmed = set(
        conn.execute(
            f"SELECT activity, member FROM confirmations WHERE activity IN ({marks})", wanted
        ).fetchall()
    )
    people: dict[str, list[dict[str, Any]]] = {aid: [] for aid in wanted}
    for aid, m, role in conn.execute(
        f"SELECT activity, member, role FROM participants WHERE activity IN ({marks}) "
        "ORDER BY activity, role DESC, member",
        wanted,
    ):
        people[aid].append(
            {
                "member": m,
                "name": names.get(m) or m[:12],
                "role": role,
                "confirmed": role == "organiser" or (aid, m) in confirmed,
            }
        )
    out = []
    for aid, author, title, kind, date, end_date, place, summary, outcome, ts in rows:
        participants = people[aid]
        out.append(
            {
                "id": aid,
                "author": author,
                "author_name": names.get(author) or author[:12],
                "title": title,
                "kind": kind,
                "date": date,
                "end_date": end_date,
                "place": place,
                "summary": summary,
                "outcome": outcome,
                "ts": ts,
                "participants": participants,
                "confirmed": sum(
                    1 for p in participants if p["role"] == "participant" and p["confirmed"]
                ),
            }
        )
    return out


def get_activity(conn: sqlite3.Connection, activity_id: str) -> dict[str, Any]:
    row = conn.execute(
        f"SELECT {ACTIVITY_COLUMNS} FROM activities WHERE id = ?", (activity_id,)
    ).fetchone()
    if row is None:
        raise EntryNotFoundError(f"no activity {activity_id}")
    return _activities(conn, [row])[0]


def resolve_activity(conn: sqlite3.Connection, text: str) -> str:
    """An activity id from its id or a unique prefix of it."""
    low = text.strip().lower()
    if not low:
        raise EntryNotFoundError("name an activity by its id or the start of it")
    rows = conn.execute(
        "SELECT id FROM activities WHERE id >= ? AND id < ? LIMIT 3", (low, low + "\uffff")
    ).fetchall()
    if len(rows) == 1:
        return str(rows[0][0])
    if len(rows) > 1:
        raise EntryNotFoundError(f"{text!r} is the start of several activity ids; give more of it")
    raise EntryNotFoundError(f"no activity id starts with {text!r} (see `p2pnet activity list`)")


# --------------------------------------------------------------------------- search
def find(
    conn: sqlite3.Connection, query: str, *, kinds: list[str] | None = None, limit: int = 20,
    offset: int = 0, mark: tuple[str, str] = DEFAULT_MARK,
) -> list[dict[str, Any]]:  # fmt: skip
    """Search members and activities together; raises search.QueryError for a bad query.

    Snippets are plain text with the matches wrapped in ``mark``; they keep the
    original letter case where the stored text allows it.
    """
    _check_text(query)
    hits = search.search(conn, query, kinds=kinds, limit=limit, offset=offset, mark=mark)
    names = _names(conn)
    out = []
    for h in hits:
        item: dict[str, Any] = {
            "kind": h.kind, "id": h.doc_id, "score": h.score, "field": h.field,
            "snippet": _restore_case(h.snippet, _field_text(conn, h.kind, h.doc_id, h.field), mark),
        }  # fmt: skip
        if h.kind == "member":
            item["title"] = names.get(h.doc_id, h.doc_id[:12])
        else:
            row = conn.execute(
                "SELECT title, date, author FROM activities WHERE id = ?", (h.doc_id,)
            )
            title, date, author = row.fetchone() or ("", "", "")
            item.update(title=title, date=date, author=author, author_name=names.get(author, ""))
        out.append(item)
    return out


def _check_text(query: str) -> None:
    # search.search raises UnicodeEncodeError (not QueryError) on lone surrogates, which
    # argv can carry (undecodable bytes under surrogateescape): refuse them as a bad query.
    try:
        query.encode("utf-8")
    except UnicodeEncodeError:
        raise search.QueryError("query is not valid Unicode text") from None


def search_page(
    conn: sqlite3.Connection,
    query: str,
    *,
    kinds: list[str] | None = None,
    limit: int = 20,
    cursor: str | None = None,
    mark: tuple[str, str] = DEFAULT_MARK,
) -> dict[str, Any]:
    """One page of :func:`find`, best first; the cursor is tied to the query."""
    _check_limit(limit)
    qkey = search.normalize(query)[:64]
    offset = 0
    if cursor:
        data = decode_cursor(cursor, "search")
        o = data.get("o")
        if (
            data.get("q") != qkey
            or isinstance(o, bool)
            or not isinstance(o, int)
            or not 0 < o <= 10**6
        ):
            raise QueryParamError("bad-cursor", "cursor", "cursor was made for another query")
        offset = o
    items = find(conn, query, kinds=kinds, limit=limit + 1, offset=offset, mark=mark)
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        next_cursor = encode_cursor({"t": "search", "q": qkey, "o": offset + limit})
    return {"items": items, "next_cursor": next_cursor}


def _field_text(conn: sqlite3.Connection, kind: str, doc_id: str, field: str) -> str | None:
    """The text a search field was indexed from, built as derive builds it."""
    if kind == "member":
        row = conn.execute(
            "SELECT name_th, name_en, description, description_en, locality, province, "
            "interests, expertise, offers, needs FROM members WHERE id = ?",
            (doc_id,),
        ).fetchone()
        if row is None:
            return None
        name_th, name_en, desc, desc_en, locality, province, *facets = row
        if field == "name":
            return "\n".join(x for x in (name_th, name_en) if x)
        parts = [desc, desc_en, locality,
                 provinces.name(province, "th") if province else "",
                 provinces.name(province, "en") if province else "",
                 *(v for f in facets for v in _loads(f, []))]  # fmt: skip
        return "\n".join(x for x in parts if x)
    row = conn.execute(
        "SELECT title, place, summary, outcome FROM activities WHERE id = ?", (doc_id,)
    ).fetchone()
    if row is None:
        return None
    title, *rest = row
    return title if field == "name" else "\n".join(x for x in rest if x)


_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


def _shadow(text: str) -> str:
    """``text`` with the whitespace and invisible-character changes ``search.normalize`` makes,
    but with its letters (case, Thai digits) as they were."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = "".join(" " if ord(c) < 32 and c not in "\t\n" else c for c in text)
    while "  " in text:
        text = text.replace("  ", " ")
    lines = [line.strip(" ") for line in text.split("\n")]
    return "\n".join(line for line in lines if line).strip()


def _restore_case(snippet: str, original: str | None, mark: tuple[str, str]) -> str:
    """Put the original letters back into a snippet that search built from normalised text.

    Works around search snippets being case-folded ("mae rim youth volunteers"): when
    normalisation changed only letter case and digits, position for position, the
    snippet is re-cut from the original text. Otherwise the snippet is returned as is.
    """
    if not original or not mark[0] or not mark[1]:
        return snippet
    norm = search.normalize(original).replace("\n", " ")
    shadow = _shadow(original).replace("\n", " ")
    if len(shadow) != len(norm) or thai.arabic_digits(shadow).casefold() != norm:
        return snippet
    head = "…" if snippet.startswith("…") else ""
    tail = "…" if snippet.endswith("…") and len(snippet) > len(head) else ""
    body = snippet[len(head) : len(snippet) - len(tail)]
    plain = body.replace(mark[0], "").replace(mark[1], "")
    at = norm.find(plain)
    if at < 0 or not plain:
        return snippet
    out, pos = [], at
    i = 0
    while i < len(body):
        for m in mark:
            if body.startswith(m, i):
                out.append(m)
                i += len(m)
                break
        else:
            out.append(shadow[pos])
            pos += 1
            i += 1
    return head + "".join(out) + tail


def split_marks(snippet: str, mark: tuple[str, str]) -> list[dict[str, Any]]:
    """A marked snippet as parts: ``[{"text": ..., "match": bool}, ...]``."""
    parts: list[dict[str, Any]] = []
    rest = snippet
    while rest:
        a = rest.find(mark[0])
        if a < 0:
            parts.append({"text": rest, "match": False})
            break
        b = rest.find(mark[1], a + len(mark[0]))
        if b < 0:
            parts.append({"text": rest.replace(mark[0], ""), "match": False})
            break
        if a:
            parts.append({"text": rest[:a], "match": False})
        parts.append({"text": rest[a + len(mark[0]) : b], "match": True})
        rest = rest[b + len(mark[1]) :]
    return [p for p in parts if p["text"]]


# --------------------------------------------------------------------------- network
def network_summary(conn: sqlite3.Connection) -> dict[str, Any]:
    st = _status_map(conn)
    c = charter(conn)
    net = conn.execute("SELECT value FROM meta WHERE key = 'network'").fetchone()
    return {
        "charter": c,
        "network": ids.network(net[0]) if net and isinstance(net[0], bytes) else None,
        "kind": (c or {}).get("kind"),
        "members": sum(1 for s in st.values() if s != "left"),
        "admitted": sum(1 for s in st.values() if s == "admitted"),
        "pending": sum(1 for s in st.values() if s == "pending"),
        "left": sum(1 for s in st.values() if s == "left"),
        "forked": conn.execute("SELECT count(*) FROM members WHERE forked = 1").fetchone()[0],
        "activities": conn.execute("SELECT count(*) FROM activities").fetchone()[0],
        "endorsements": conn.execute(
            "SELECT count(*) FROM endorsements WHERE active = 1"
        ).fetchone()[0],
        "entries": conn.execute("SELECT count(*) FROM entries WHERE fork = 0").fetchone()[0],
        "activity_kinds": dict(
            conn.execute(
                "SELECT kind, count(*) FROM activities GROUP BY kind ORDER BY kind"
            ).fetchall()
        ),
        "provinces": dict(
            conn.execute(
                "SELECT province, count(*) FROM members WHERE province != '' GROUP BY province "
                "ORDER BY province"
            ).fetchall()
        ),
    }


def graph(conn: sqlite3.Connection) -> dict[str, Any]:
    """The network graph: members as nodes; endorsements (directed) and shared activities
    (undirected, weighted by how many activities two members took part in together)."""

    def compute() -> dict[str, Any]:
        st = _status_map(conn)
        names = _names(conn)
        nodes = [
            {"id": mid, "name": names.get(mid, mid[:12]), "status": st.get(mid, "pending"),
             "forked": bool(forked), "province": province, "org_type": org_type}
            for mid, forked, province, org_type in conn.execute(
                "SELECT id, forked, province, org_type FROM members "
                "WHERE profile_seq > 0 OR founder = 1 ORDER BY id"
            )
        ]  # fmt: skip
        listed = {n["id"] for n in nodes}
        edges: list[dict[str, Any]] = [
            {"source": src, "target": dst, "kind": "endorsement", "weight": 1}
            for src, dst in conn.execute(
                "SELECT src, dst FROM endorsements WHERE active = 1 AND src != dst "
                "ORDER BY src, dst"
            )
            if src in listed and dst in listed
        ]
        edges += [
            {"source": a, "target": b, "kind": "shared-activities", "weight": n}
            for a, b, n in conn.execute(
                "SELECT p.member, q.member, count(*) FROM participants p JOIN participants q "
                "ON q.activity = p.activity AND q.member > p.member "
                "GROUP BY p.member, q.member ORDER BY p.member, q.member"
            )
            if a in listed and b in listed
        ]
        return {"nodes": nodes, "edges": edges}

    return dict(_memoized(conn, "graph", compute, shared=True))


# --------------------------------------------------------------------------- matching
def profiles_for_matching(conn: sqlite3.Connection) -> list[matching.Profile]:
    """Every member that has not left, with its offers and needs."""
    st = _status_map(conn)
    out = []
    for mid, name_th, name_en, offers, needs in conn.execute(
        "SELECT id, name_th, name_en, offers, needs FROM members WHERE profile_seq > 0 ORDER BY id"
    ):
        if st.get(mid) == "left":
            continue
        out.append(
            matching.Profile(
                id=mid,
                name=name_th or name_en or mid[:12],
                name_en=name_en or name_th or mid[:12],
                offers=tuple(_loads(offers, [])),
                needs=tuple(_loads(needs, [])),
            )
        )
    return out


def matches(
    conn: sqlite3.Connection,
    member: str | None = None,
    *,
    min_share: float | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Whose offers meet whose needs (see :mod:`p2pnet.matching`), for the whole network or
    around one member (its needs, and the needs of others its offers meet).

    Without ``limit``: everything. With it: one page of needs and ``next_cursor``.
    """
    if (
        member is not None
        and conn.execute("SELECT 1 FROM members WHERE id = ?", (member,)).fetchone() is None
    ):
        raise MemberNotFoundError(f"no member {member}")
    offset = 0
    if limit is not None:
        _check_limit(limit)
        if cursor:
            data = decode_cursor(cursor, "match")
            o = data.get("o")
            if data.get("m") != member or isinstance(o, bool) or not isinstance(o, int) or o <= 0:
                raise QueryParamError("bad-cursor", "cursor", "cursor was made for another listing")
            offset = o
    key = "matches" if min_share is None else f"matches:{min_share}"

    def compute() -> matching.Result:
        share = matching.DEFAULT_MIN_SHARE if min_share is None else min_share
        return matching.match(profiles_for_matching(conn), min_share=share)

    result: matching.Result = _memoized(conn, key, compute, shared=True)
    out = result.as_dict(member, offset=offset, limit=limit)
    more = out.pop("more")
    if limit is not None:
        out["next_cursor"] = (
            encode_cursor({"t": "match", "m": member, "o": offset + limit}) if more else None
        )
    return out
