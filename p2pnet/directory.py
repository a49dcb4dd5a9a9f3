"""The directory: read-only queries over the derived tables.

Pure and synchronous, shared by the CLI, the local API and the website. Every
function takes a ``sqlite3.Connection`` (``Store.conn``) and returns plain
dicts and lists, ready for JSON.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from . import provinces, search
from .errors import EntryNotFoundError, MemberNotFoundError

MEMBER_COLUMNS = (
    "id, name_th, name_en, org_type, description, description_en, province, locality, lat, lon, "
    "website, contact, endpoints, interests, expertise, offers, needs, profile_seq, profile_entry, "
    "first_ts, updated_ts, entries, left_seq, forked, founder"
)


def charter(conn: sqlite3.Connection) -> dict[str, Any] | None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'charter'").fetchone()
    return None if row is None else dict(json.loads(row[0]))


def admission_rule(conn: sqlite3.Connection) -> int:
    c = charter(conn) or {}
    return int((c.get("admission") or {}).get("endorsements", 1))


def statuses(conn: sqlite3.Connection) -> dict[str, str]:
    """member id -> ``admitted``, ``pending`` or ``left``.

    The founder is admitted; anyone else once at least the charter's number of
    admitted, unforked members endorse them (a fixpoint, so admission spreads
    from the founder outwards). A member whose latest entry of (profile,
    leave) is a leave has left.
    """
    need = admission_rule(conn)
    rows = conn.execute("SELECT id, founder, forked, left_seq, profile_seq FROM members").fetchall()
    left = {m for m, _, _, ls, ps in rows if ls > ps}
    forked = {m for m, _, f, _, _ in rows if f}
    edges: dict[str, set[str]] = {}
    for src, dst in conn.execute("SELECT src, dst FROM endorsements WHERE active = 1"):
        if src != dst:
            edges.setdefault(dst, set()).add(src)
    admitted = {m for m, founder, *_ in rows if founder}
    if need == 0:
        admitted |= {m for m, *_ in rows}
    changed = True
    while changed:
        changed = False
        for m, *_ in rows:
            if m in admitted:
                continue
            vouchers = edges.get(m, set()) & admitted - forked - left
            if len(vouchers) >= need:
                admitted.add(m)
                changed = True
    return {m: "left" if m in left else "admitted" if m in admitted else "pending" for m, *_ in rows}


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
        "contact": json.loads(contact),
        "endpoints": json.loads(endpoints),
        "interests": json.loads(interests),
        "expertise": json.loads(expertise),
        "offers": json.loads(offers),
        "needs": json.loads(needs),
        "status": status,
        "forked": bool(forked),
        "founder": bool(founder),
        "has_profile": profile_seq > 0,
        "profile_entry": profile_entry,
        "first_ts": first_ts,
        "updated_ts": updated_ts,
        "entries": n_entries,
    }


def list_members(
    conn: sqlite3.Connection,
    *,
    status: str | None = None,
    province: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Members with a profile (or the founder), ordered by name."""
    st = statuses(conn)
    where, args = ["(profile_seq > 0 OR founder = 1)"], []
    if province:
        code = provinces.lookup(province) or province
        where.append("province = ?")
        args.append(code)
    rows = conn.execute(
        f"SELECT {MEMBER_COLUMNS} FROM members WHERE {' AND '.join(where)} "
        "ORDER BY CASE WHEN name_th != '' THEN name_th ELSE name_en END, id",
        args,
    ).fetchall()
    out = [_member_row(r, st.get(r[0], "pending")) for r in rows]
    if status:
        out = [m for m in out if m["status"] == status]
    return out[offset : offset + limit]


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
        if len(rows) == 1:
            return str(rows[0][0])
        if len(rows) > 1:
            raise MemberNotFoundError(f"{text!r} is the start of several member ids; give more of it")
    norm = search.normalize(text)
    rows = conn.execute("SELECT id, name_th, name_en FROM members").fetchall()
    exact = [m for m, th, en in rows if norm in (search.normalize(th), search.normalize(en))]
    if len(exact) == 1:
        return str(exact[0])
    partial = [m for m, th, en in rows if norm in search.normalize(th) or norm in search.normalize(en)]
    if len(exact) > 1 or len(partial) > 1:
        names = [th or en for m, th, en in rows if m in (exact or partial)][:5]
        raise MemberNotFoundError(f"{text!r} matches several members: {', '.join(names)}")
    if len(partial) == 1:
        return str(partial[0])
    raise MemberNotFoundError(f"no member matches {text!r} (try `p2pnet members`)")


def get_member(conn: sqlite3.Connection, member_id: str) -> dict[str, Any]:
    row = conn.execute(f"SELECT {MEMBER_COLUMNS} FROM members WHERE id = ?", (member_id,)).fetchone()
    if row is None:
        raise MemberNotFoundError(f"no member {member_id}")
    st = statuses(conn)
    m = _member_row(row, st.get(member_id, "pending"))
    names = _names(conn)
    m["endorsed_by"] = [
        {"member": src, "name": names.get(src, src[:12]), "ts": ts, "note": note}
        for src, ts, note in conn.execute(
            "SELECT src, ts, note FROM endorsements WHERE dst = ? AND active = 1 ORDER BY ts", (member_id,)
        )
    ]
    m["endorses"] = [
        {"member": dst, "name": names.get(dst, dst[:12]), "ts": ts, "note": note}
        for dst, ts, note in conn.execute(
            "SELECT dst, ts, note FROM endorsements WHERE src = ? AND active = 1 ORDER BY ts", (member_id,)
        )
    ]
    m["activities"] = list_activities(conn, member=member_id, limit=1000)
    return m


def _names(conn: sqlite3.Connection) -> dict[str, str]:
    return {
        mid: th or en or mid[:12]
        for mid, th, en in conn.execute("SELECT id, name_th, name_en FROM members")
    }


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
    """Activities, newest first, each with its participants and their confirmations."""
    where, args = [], []
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
    sql = "SELECT id, author, title, kind, date, end_date, place, summary, outcome, ts FROM activities"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY date DESC, id LIMIT ? OFFSET ?"
    rows = conn.execute(sql, [*args, limit, offset]).fetchall()
    return [_activity(conn, r) for r in rows]


def _activity(conn: sqlite3.Connection, row: tuple[Any, ...]) -> dict[str, Any]:
    aid, author, title, kind, date, end_date, place, summary, outcome, ts = row
    names = dict(
        conn.execute(
            "SELECT m.id, CASE WHEN m.name_th != '' THEN m.name_th ELSE m.name_en END FROM members m "
            "JOIN participants p ON p.member = m.id WHERE p.activity = ?",
            (aid,),
        ).fetchall()
    )
    confirmed = {m for (m,) in conn.execute("SELECT member FROM confirmations WHERE activity = ?", (aid,))}
    participants = [
        {
            "member": m,
            "name": names.get(m) or m[:12],
            "role": role,
            "confirmed": role == "organiser" or m in confirmed,
        }
        for m, role in conn.execute(
            "SELECT member, role FROM participants WHERE activity = ? ORDER BY role DESC, member", (aid,)
        )
    ]
    return {
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
        "confirmed": sum(1 for p in participants if p["role"] == "participant" and p["confirmed"]),
    }


def get_activity(conn: sqlite3.Connection, activity_id: str) -> dict[str, Any]:
    row = conn.execute(
        "SELECT id, author, title, kind, date, end_date, place, summary, outcome, ts FROM activities "
        "WHERE id = ?",
        (activity_id,),
    ).fetchone()
    if row is None:
        raise EntryNotFoundError(f"no activity {activity_id}")
    return _activity(conn, row)


def resolve_activity(conn: sqlite3.Connection, text: str) -> str:
    low = text.strip().lower()
    rows = conn.execute(
        "SELECT id FROM activities WHERE id >= ? AND id < ? LIMIT 3", (low, low + "\uffff")
    ).fetchall()
    if len(rows) == 1:
        return str(rows[0][0])
    if len(rows) > 1:
        raise EntryNotFoundError(f"{text!r} is the start of several activity ids; give more of it")
    raise EntryNotFoundError(f"no activity id starts with {text!r} (see `p2pnet activity list`)")


def find(
    conn: sqlite3.Connection, query: str, *, kinds: list[str] | None = None, limit: int = 20,
    offset: int = 0, mark: tuple[str, str] = ("<mark>", "</mark>"),
) -> list[dict[str, Any]]:  # fmt: skip
    """Search members and activities together; raises search.QueryError for a bad query."""
    hits = search.search(conn, query, kinds=kinds, limit=limit, offset=offset, mark=mark)
    names = _names(conn)
    out = []
    for h in hits:
        item: dict[str, Any] = {
            "kind": h.kind, "id": h.doc_id, "score": h.score, "field": h.field, "snippet": h.snippet,
        }  # fmt: skip
        if h.kind == "member":
            item["title"] = names.get(h.doc_id, h.doc_id[:12])
        else:
            row = conn.execute("SELECT title, date, author FROM activities WHERE id = ?", (h.doc_id,))
            title, date, author = row.fetchone() or ("", "", "")
            item.update(title=title, date=date, author=author, author_name=names.get(author, ""))
        out.append(item)
    return out


def network_summary(conn: sqlite3.Connection) -> dict[str, Any]:
    st = statuses(conn)
    return {
        "charter": charter(conn),
        "members": sum(1 for s in st.values() if s != "left"),
        "admitted": sum(1 for s in st.values() if s == "admitted"),
        "pending": sum(1 for s in st.values() if s == "pending"),
        "left": sum(1 for s in st.values() if s == "left"),
        "forked": conn.execute("SELECT count(*) FROM members WHERE forked = 1").fetchone()[0],
        "activities": conn.execute("SELECT count(*) FROM activities").fetchone()[0],
        "endorsements": conn.execute("SELECT count(*) FROM endorsements WHERE active = 1").fetchone()[0],
        "entries": conn.execute("SELECT count(*) FROM entries WHERE fork = 0").fetchone()[0],
    }
