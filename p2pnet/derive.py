"""The directory tables, derived from the log entry by entry.

``apply`` must give the same tables whatever order a node receives entries
in (feeds are applied in seq order, but feeds interleave arbitrarily), so
every update is guarded by the author's seq: the latest profile wins, the
latest endorse/unendorse of a pair wins, activities and confirmations are sets.
``Store.reindex`` clears these tables and replays the log, and a test checks
that the result equals the incrementally built one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import ids, provinces, search
from .entries import Entry

TABLES = (
    "members", "tags", "activities", "participants", "confirmations", "endorsements", "search_dirty",
    "requests", "request_events", "thanks", "proposals", "votes", "key_rotations", "key_claims",
    "vouches", "published_blocks",
)  # fmt: skip
# entries that can change which keys belong to which member (see ``compute_links``)
LINK_KINDS = frozenset({"rotate", "recover", "vouch", "endorse", "unendorse"})
# a member's entries are ordered by (key generation, seq): ``order = gen << GEN_SHIFT | seq``
GEN_SHIFT = 40
DEFAULT_RECOVERY_VOUCHES = 2
FACETS = ("interests", "expertise", "offers", "needs")

SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
    id TEXT PRIMARY KEY,
    key BLOB NOT NULL,
    name_th TEXT NOT NULL DEFAULT '',
    name_en TEXT NOT NULL DEFAULT '',
    org_type TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    description_en TEXT NOT NULL DEFAULT '',
    province TEXT NOT NULL DEFAULT '',
    locality TEXT NOT NULL DEFAULT '',
    lat TEXT, lon TEXT,
    website TEXT NOT NULL DEFAULT '',
    contact TEXT NOT NULL DEFAULT '{}',
    endpoints TEXT NOT NULL DEFAULT '[]',
    interests TEXT NOT NULL DEFAULT '[]',
    expertise TEXT NOT NULL DEFAULT '[]',
    offers TEXT NOT NULL DEFAULT '[]',
    needs TEXT NOT NULL DEFAULT '[]',
    profile_seq INTEGER NOT NULL DEFAULT 0,
    profile_entry TEXT,
    first_ts INTEGER NOT NULL,
    updated_ts INTEGER NOT NULL,
    entries INTEGER NOT NULL DEFAULT 0,
    left_seq INTEGER NOT NULL DEFAULT 0,
    forked INTEGER NOT NULL DEFAULT 0,
    founder INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tags (
    member TEXT NOT NULL, facet TEXT NOT NULL, value TEXT NOT NULL, norm TEXT NOT NULL,
    PRIMARY KEY (member, facet, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_norm ON tags(facet, norm);
CREATE TABLE IF NOT EXISTS activities (
    id TEXT PRIMARY KEY,
    author TEXT NOT NULL,
    seq INTEGER NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    date TEXT NOT NULL,
    end_date TEXT,
    place TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT '',
    ts INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS activities_date ON activities(date, id);
CREATE INDEX IF NOT EXISTS activities_author ON activities(author, date);
CREATE TABLE IF NOT EXISTS participants (
    activity TEXT NOT NULL, member TEXT NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (activity, member)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS participants_member ON participants(member, activity);
CREATE TABLE IF NOT EXISTS confirmations (
    activity TEXT NOT NULL, member TEXT NOT NULL, entry TEXT NOT NULL, ts INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (activity, member)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS endorsements (
    src TEXT NOT NULL, dst TEXT NOT NULL, seq INTEGER NOT NULL, active INTEGER NOT NULL,
    ts INTEGER NOT NULL, note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (src, dst)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS endorsements_dst ON endorsements(dst, src);
CREATE TABLE IF NOT EXISTS search_dirty (doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY, author TEXT NOT NULL, title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '', expertise TEXT NOT NULL DEFAULT '[]',
    needed_by TEXT, ts INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS request_events (
    entry TEXT PRIMARY KEY, request TEXT NOT NULL, author TEXT NOT NULL, kind TEXT NOT NULL,
    ts INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS request_events_request ON request_events(request, ts);
CREATE TABLE IF NOT EXISTS thanks (
    entry TEXT PRIMARY KEY, src TEXT NOT NULL, dst TEXT NOT NULL, request TEXT, activity TEXT,
    message TEXT NOT NULL DEFAULT '', ts INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS thanks_dst ON thanks(dst, ts);
CREATE TABLE IF NOT EXISTS proposals (
    id TEXT PRIMARY KEY, author TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL, closes INTEGER NOT NULL, changes TEXT, ts INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    entry TEXT PRIMARY KEY, proposal TEXT NOT NULL, author TEXT NOT NULL, seq INTEGER NOT NULL,
    option INTEGER NOT NULL, ts INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS votes_proposal ON votes(proposal, author, seq);
CREATE TABLE IF NOT EXISTS key_rotations (
    entry TEXT PRIMARY KEY, old BLOB NOT NULL, new BLOB NOT NULL, seq INTEGER NOT NULL,
    ts INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS key_claims (
    entry TEXT PRIMARY KEY, claimant BLOB NOT NULL, old BLOB NOT NULL, last_good INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '', ts INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS vouches (
    entry TEXT PRIMARY KEY, claim TEXT NOT NULL, voucher TEXT NOT NULL, ts INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS vouches_claim ON vouches(claim, voucher);
CREATE TABLE IF NOT EXISTS member_keys (
    key BLOB PRIMARY KEY, key_id TEXT NOT NULL UNIQUE, member TEXT NOT NULL, gen INTEGER NOT NULL,
    until_seq INTEGER, next BLOB, how TEXT, entry TEXT, ts INTEGER
);
CREATE INDEX IF NOT EXISTS member_keys_member ON member_keys(member, gen);
CREATE TABLE IF NOT EXISTS published_blocks (
    src TEXT NOT NULL, dst TEXT NOT NULL, seq INTEGER NOT NULL, active INTEGER NOT NULL,
    ts INTEGER NOT NULL, reason TEXT NOT NULL DEFAULT '', entry TEXT NOT NULL,
    PRIMARY KEY (src, dst)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS published_blocks_dst ON published_blocks(dst, src);
"""


def create_tables(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


def clear(conn: sqlite3.Connection) -> None:
    for table in TABLES:
        conn.execute(f"DELETE FROM {table}")
    conn.execute("DELETE FROM meta WHERE key IN ('charter', 'founder')")


def mark_forked(conn: sqlite3.Connection, author: bytes) -> None:
    """Flag the member whose key ``author`` forked its feed.

    A key claimed back after a loss (``recover``) does not flag its member: whoever
    holds the lost key can fork it, and the member is not answerable for that.
    """
    link = load_links(conn).get(author)
    if link is None:
        conn.execute("UPDATE members SET forked = 1 WHERE id = ?", (ids.member(author),))
    elif link.how != "recover":
        conn.execute("UPDATE members SET forked = 1 WHERE id = ?", (link.member,))


@dataclass(frozen=True, slots=True)
class KeyLink:
    """One key of a member that changed keys: which member, its place, how it ended."""

    member: str  # the member's id: the id of its first key
    gen: int  # 0 for the first key, 1 for the next ...
    until_seq: int | None  # the key's last entry that counts; None for the current key
    next: bytes | None  # the key that took over
    how: str | None  # "rotate" (handed over) or "recover" (claimed back after a loss)
    entry: str | None  # the rotate or recover entry
    ts: int | None


def load_links(conn: sqlite3.Connection) -> dict[bytes, KeyLink]:
    """key -> KeyLink for every key of a member that has more than one (usually none)."""
    return {
        row[0]: KeyLink(*row[1:])
        for row in conn.execute(
            "SELECT key, member, gen, until_seq, next, how, entry, ts FROM member_keys"
        )
    }


def _resolver(links: dict[bytes, KeyLink]) -> Callable[[bytes], str]:
    if not links:
        return ids.member
    return lambda key: links[key].member if key in links else ids.member(key)


def apply(conn: sqlite3.Connection, e: Entry) -> None:
    """Fold one accepted (non-fork) entry into the directory tables."""
    apply_batch(conn, [e])


def apply_batch(conn: sqlite3.Connection, batch: list[Entry]) -> None:
    """Fold accepted (non-fork) entries into the directory tables, in few statements.

    Entries are credited to their author's member (a member that changed keys has one
    id for all of them); entries of a key after it was handed over or claimed back
    count nowhere (the log keeps them).
    """
    links = load_links(conn)
    if links:
        batch = [e for e in batch if not _retired(links.get(e.author), e.seq)]
    ref = _resolver(links)
    seen: dict[bytes, list[int]] = {}
    for e in batch:
        agg = seen.get(e.author)
        if agg is None:
            seen[e.author] = [e.ts, e.ts, 1]
        else:
            agg[0], agg[1], agg[2] = min(agg[0], e.ts), max(agg[1], e.ts), agg[2] + 1
    conn.executemany(
        "INSERT INTO members(id, key, first_ts, updated_ts, entries) VALUES (?,?,?,?,?) "
        "ON CONFLICT(id) DO UPDATE SET updated_ts = max(updated_ts, excluded.updated_ts), "
        "first_ts = min(first_ts, excluded.first_ts), entries = entries + excluded.entries",
        [(ref(a), a, lo, hi, n) for a, (lo, hi, n) in seen.items()],
    )
    activities = [e for e in batch if e.kind == "activity"]
    if activities:
        _activities(conn, activities, ref)
    for e in batch:
        handler = _HANDLERS.get(e.kind)
        if handler is not None:
            link = links.get(e.author)
            order = e.seq if link is None else link.gen << GEN_SHIFT | e.seq
            handler(conn, e, ref(e.author), Fold(ref, order))


def apply_key_entries(conn: sqlite3.Connection, batch: list[Entry]) -> None:
    """Only the hand-overs and recovery claims among entries kept out of the directory
    (a blocked member's), so that the member's other keys are still known as its own."""
    for e in batch:
        if e.kind in ("rotate", "recover"):
            _HANDLERS[e.kind](conn, e, "", Fold(ids.member, e.seq))


def _retired(link: KeyLink | None, seq: int) -> bool:
    return link is not None and link.until_seq is not None and seq > link.until_seq


@dataclass(frozen=True, slots=True)
class Fold:
    """What a handler needs beyond the entry: member ids of keys, and the entry's order
    among its member's entries (seq, continued across the member's keys)."""

    ref: Callable[[bytes], str]
    order: int


def index_dirty(conn: sqlite3.Connection, limit: int = -1) -> int:
    """Bring the search index up to date for documents changed since; returns how many."""
    rows = conn.execute("SELECT doc_id, kind FROM search_dirty LIMIT ?", (limit,)).fetchall()
    for doc_id, kind in rows:
        if kind == "member":
            row = conn.execute(
                "SELECT name_th, name_en, description, description_en, locality, province, "
                "interests, expertise, offers, needs FROM members WHERE id = ?",
                (doc_id,),
            ).fetchone()
            if row is not None:
                b = dict(zip(("name_th", "name_en", "description", "description_en", "locality",
                              "province"), row[:6], strict=True))  # fmt: skip
                for facet, value in zip(FACETS, row[6:], strict=True):
                    b[facet] = json.loads(value)
                index_member(conn, doc_id, b)
        else:
            row = conn.execute(
                "SELECT title, place, summary, outcome FROM activities WHERE id = ?", (doc_id,)
            ).fetchone()
            if row is not None:
                title, *rest = row
                search.index_doc(conn, doc_id, "activity", title, "\n".join(x for x in rest if x))
    conn.executemany("DELETE FROM search_dirty WHERE doc_id = ?", [(r[0],) for r in rows])
    return len(rows)


def _network(conn: sqlite3.Connection, e: Entry, member: str, f: Fold) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('charter', ?)",
        (json.dumps({**e.body, "founded_ts": e.ts, "founder": member}, ensure_ascii=False),),
    )
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('founder', ?)", (member,))
    conn.execute("UPDATE members SET founder = 1 WHERE id = ?", (member,))


def _profile(conn: sqlite3.Connection, e: Entry, member: str, f: Fold) -> None:
    row = conn.execute("SELECT profile_seq FROM members WHERE id = ?", (member,)).fetchone()
    if row[0] >= f.order:
        return  # an older profile arriving late changes nothing
    b = e.body
    geo = b.get("geo") or [None, None]
    conn.execute(
        "UPDATE members SET name_th=?, name_en=?, org_type=?, description=?, description_en=?, "
        "province=?, locality=?, lat=?, lon=?, website=?, contact=?, endpoints=?, "
        "interests=?, expertise=?, offers=?, needs=?, profile_seq=?, profile_entry=? WHERE id=?",
        (
            b.get("name_th", ""), b.get("name_en", ""), b.get("org_type", ""),
            b.get("description", ""), b.get("description_en", ""), b.get("province", ""),
            b.get("locality", ""), geo[0], geo[1], b.get("website", ""),
            json.dumps(b.get("contact", {}), ensure_ascii=False),
            json.dumps(b.get("endpoints", []), ensure_ascii=False),
            *(json.dumps(b.get(f, []), ensure_ascii=False) for f in FACETS),
            f.order, ids.entry(e.id), member,
        ),
    )  # fmt: skip
    conn.execute("DELETE FROM tags WHERE member = ?", (member,))
    conn.executemany(
        "INSERT OR IGNORE INTO tags(member, facet, value, norm) VALUES (?,?,?,?)",
        [(member, f, v, search.normalize(v)) for f in FACETS for v in b.get(f, [])],
    )
    conn.execute("INSERT OR IGNORE INTO search_dirty(doc_id, kind) VALUES (?, 'member')", (member,))


def index_member(conn: sqlite3.Connection, member: str, b: dict[str, Any]) -> None:
    province = b.get("province", "")
    body_parts = [
        b.get("description", ""),
        b.get("description_en", ""),
        b.get("locality", ""),
        provinces.name(province, "th") if province else "",
        provinces.name(province, "en") if province else "",
        *(v for f in FACETS for v in b.get(f, [])),
    ]
    search.index_doc(
        conn,
        member,
        "member",
        "\n".join(x for x in (b.get("name_th", ""), b.get("name_en", "")) if x),
        "\n".join(x for x in body_parts if x),
    )


def _activities(conn: sqlite3.Connection, batch: list[Entry], ref: Callable[[bytes], str]) -> None:
    rows, people, dirty = [], [], []
    for e in batch:
        b = e.body
        aid = ids.entry(e.id)
        member = ref(e.author)
        rows.append((aid, member, e.seq, b["title"], b["kind"], b["date"], b.get("end_date"),
                     b.get("place", ""), b.get("summary", ""), b.get("outcome", ""), e.ts))  # fmt: skip
        people.append((aid, member, "organiser"))
        people += [(aid, ref(p), "participant") for p in b.get("participants", []) if ref(p) != member]
        dirty.append((aid,))
    conn.executemany(
        "INSERT OR IGNORE INTO activities(id, author, seq, title, kind, date, end_date, place, "
        "summary, outcome, ts) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    conn.executemany("INSERT OR IGNORE INTO participants(activity, member, role) VALUES (?,?,?)", people)
    conn.executemany("INSERT OR IGNORE INTO search_dirty(doc_id, kind) VALUES (?, 'activity')", dirty)


def _confirm(conn: sqlite3.Connection, e: Entry, member: str, f: Fold) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO confirmations(activity, member, entry, ts, note) VALUES (?,?,?,?,?)",
        (ids.entry(e.body["activity"]), member, ids.entry(e.id), e.ts, e.body.get("note", "")),
    )


def _endorse(conn: sqlite3.Connection, e: Entry, member: str, f: Fold) -> None:
    conn.execute(
        "INSERT INTO endorsements(src, dst, seq, active, ts, note) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT(src, dst) DO UPDATE SET seq=excluded.seq, active=excluded.active, "
        "ts=excluded.ts, note=excluded.note WHERE excluded.seq > endorsements.seq",
        (member, f.ref(e.body["member"]), f.order, int(e.kind == "endorse"), e.ts,
         e.body.get("note", "")),
    )  # fmt: skip


def _leave(conn: sqlite3.Connection, e: Entry, member: str, f: Fold) -> None:
    conn.execute("UPDATE members SET left_seq = max(left_seq, ?) WHERE id = ?", (f.order, member))


def _request(conn: sqlite3.Connection, e: Entry, member: str, f: Fold) -> None:
    b = e.body
    conn.execute(
        "INSERT OR IGNORE INTO requests(id, author, title, description, expertise, needed_by, ts) "
        "VALUES (?,?,?,?,?,?,?)",
        (ids.entry(e.id), member, b["title"], b.get("description", ""),
         json.dumps(b.get("expertise", []), ensure_ascii=False), b.get("needed_by"), e.ts),
    )  # fmt: skip


def _request_event(conn: sqlite3.Connection, e: Entry, member: str, f: Fold) -> None:
    """reply, accept, handoff, close: kept as events; their validity is judged when read."""
    body = {k: ids.entry(v) if k in ("request", "reply") else f.ref(v) if k == "to" else v
            for k, v in e.body.items()}  # fmt: skip
    conn.execute(
        "INSERT OR IGNORE INTO request_events(entry, request, author, kind, ts, body) "
        "VALUES (?,?,?,?,?,?)",
        (ids.entry(e.id), body["request"], member, e.kind, e.ts, json.dumps(body, ensure_ascii=False)),
    )


def _thanks(conn: sqlite3.Connection, e: Entry, member: str, f: Fold) -> None:
    b = e.body
    conn.execute(
        "INSERT OR IGNORE INTO thanks(entry, src, dst, request, activity, message, ts) "
        "VALUES (?,?,?,?,?,?,?)",
        (ids.entry(e.id), member, f.ref(b["member"]),
         ids.entry(b["request"]) if "request" in b else None,
         ids.entry(b["activity"]) if "activity" in b else None, b.get("message", ""), e.ts),
    )  # fmt: skip


def _proposal(conn: sqlite3.Connection, e: Entry, member: str, f: Fold) -> None:
    b = e.body
    conn.execute(
        "INSERT OR IGNORE INTO proposals(id, author, title, text, options, closes, changes, ts) "
        "VALUES (?,?,?,?,?,?,?,?)",
        (ids.entry(e.id), member, b["title"], b.get("text", ""),
         json.dumps(b["options"], ensure_ascii=False), b["closes"],
         json.dumps(b["changes"], ensure_ascii=False) if "changes" in b else None, e.ts),
    )  # fmt: skip


def _vote(conn: sqlite3.Connection, e: Entry, member: str, f: Fold) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO votes(entry, proposal, author, seq, option, ts) VALUES (?,?,?,?,?,?)",
        (ids.entry(e.id), ids.entry(e.body["proposal"]), member, f.order, e.body["option"], e.ts),
    )


def _rotate(conn: sqlite3.Connection, e: Entry, member: str, f: Fold) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO key_rotations(entry, old, new, seq, ts) VALUES (?,?,?,?,?)",
        (ids.entry(e.id), e.author, e.body["key"], e.seq, e.ts),
    )


def _recover(conn: sqlite3.Connection, e: Entry, member: str, f: Fold) -> None:
    b = e.body
    conn.execute(
        "INSERT OR IGNORE INTO key_claims(entry, claimant, old, last_good, reason, ts) "
        "VALUES (?,?,?,?,?,?)",
        (ids.entry(e.id), e.author, b["member"], b["last_good"], b.get("reason", ""), e.ts),
    )


def _vouch(conn: sqlite3.Connection, e: Entry, member: str, f: Fold) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO vouches(entry, claim, voucher, ts, note) VALUES (?,?,?,?,?)",
        (ids.entry(e.id), ids.entry(e.body["claim"]), member, e.ts, e.body.get("note", "")),
    )


def _block(conn: sqlite3.Connection, e: Entry, member: str, f: Fold) -> None:
    """A published block or unblock: the latest (by seq) of a pair wins, like endorsements."""
    conn.execute(
        "INSERT INTO published_blocks(src, dst, seq, active, ts, reason, entry) "
        "VALUES (?,?,?,?,?,?,?) "
        "ON CONFLICT(src, dst) DO UPDATE SET seq=excluded.seq, active=excluded.active, "
        "ts=excluded.ts, reason=excluded.reason, entry=excluded.entry "
        "WHERE excluded.seq > published_blocks.seq",
        (member, f.ref(e.body["member"]), f.order, int(e.kind == "block"), e.ts,
         e.body.get("reason", ""), ids.entry(e.id)),
    )  # fmt: skip


_HANDLERS = {
    "network": _network,
    "profile": _profile,
    "confirm": _confirm,
    "endorse": _endorse,
    "unendorse": _endorse,
    "leave": _leave,
    "request": _request,
    "reply": _request_event,
    "accept": _request_event,
    "handoff": _request_event,
    "close": _request_event,
    "thanks": _thanks,
    "proposal": _proposal,
    "vote": _vote,
    "rotate": _rotate,
    "recover": _recover,
    "vouch": _vouch,
    "block": _block,
    "unblock": _block,
}
