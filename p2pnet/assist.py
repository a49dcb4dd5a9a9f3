"""Help requests and handing work on: the "system for handing work on".

A member posts a ``request``; others ``reply`` with an offer; the requester
``accept``s one reply, which makes its author the member doing the work;
that member (or the requester) may ``handoff`` the work to another member;
the requester ``close``s the request as done or cancelled, and may send
``thanks``. Each step is a signed entry in its author's own feed.

A request's state is computed when it is read, from its events ordered by
their signed timestamps (then entry id), so every node holding the same
entries shows the same state. A step by the wrong member, or after the
request was closed, is listed with the reason it does not count.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .directory import display_names, resolve_prefix
from .errors import EntryNotFoundError


def _event(row: tuple[Any, ...]) -> dict[str, Any]:
    entry, author, kind, ts, body = row
    return {"entry": entry, "author": author, "kind": kind, "ts": ts, **json.loads(body)}


def resolve_request(conn: sqlite3.Connection, text: str) -> str:
    return resolve_prefix(conn, "requests", "id", text, "request")


def request_state(conn: sqlite3.Connection, request_id: str) -> dict[str, Any]:
    row = conn.execute(
        "SELECT id, author, title, description, expertise, needed_by, ts FROM requests WHERE id = ?",
        (request_id,),
    ).fetchone()
    if row is None:
        raise EntryNotFoundError(f"no request {request_id}")
    rid, owner, title, description, expertise, needed_by, ts = row
    names = display_names(conn)
    forked = {m for (m,) in conn.execute("SELECT id FROM members WHERE forked = 1")}
    state, assignee, outcome, closed_ts = "open", None, None, None
    replies: dict[str, dict[str, Any]] = {}
    history: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    events = conn.execute(
        "SELECT entry, author, kind, ts, body FROM request_events WHERE request = ? ORDER BY ts, entry",
        (rid,),
    ).fetchall()
    for ev in map(_event, events):
        why = None
        if ev["author"] in forked:
            why = "its author is forked"
        elif state == "closed":
            why = "the request was already closed"
        elif ev["kind"] == "reply":
            if ev["author"] == owner:
                why = "the requester cannot reply to its own request"
            else:
                replies[ev["entry"]] = ev
        elif ev["kind"] == "accept":
            if ev["author"] != owner:
                why = "only the requester can accept a reply"
            elif ev["reply"] not in replies:
                why = "no such reply to this request"
            elif state != "open":
                why = "a reply was already accepted"
            else:
                state, assignee = "in-progress", replies[ev["reply"]]["author"]
        elif ev["kind"] == "handoff":
            if state != "in-progress":
                why = "nothing to hand on: no reply was accepted"
            elif ev["author"] not in (assignee, owner):
                why = "only the member doing the work or the requester can hand it on"
            elif ev["to"] == assignee:
                why = "the work is already with that member"
            else:
                assignee = ev["to"]
        elif ev["kind"] == "close":
            if ev["author"] != owner:
                why = "only the requester can close a request"
            else:
                state, outcome, closed_ts = "closed", ev["outcome"], ev["ts"]
        ev["author_name"] = names.get(ev["author"], ev["author"][:12])
        if "to" in ev:
            ev["to_name"] = names.get(ev["to"], ev["to"][:12])
        if why is None:
            history.append(ev)
        else:
            refused.append({**ev, "reason": why})
    thanks = [
        {"entry": e, "from": src, "from_name": names.get(src, src[:12]), "to": dst,
         "to_name": names.get(dst, dst[:12]), "message": msg, "ts": t}
        for e, src, dst, msg, t in conn.execute(
            "SELECT entry, src, dst, message, ts FROM thanks WHERE request = ? ORDER BY ts", (rid,))
    ]  # fmt: skip
    return {
        "id": rid,
        "author": owner,
        "author_name": names.get(owner, owner[:12]),
        "title": title,
        "description": description,
        "expertise": json.loads(expertise),
        "needed_by": needed_by,
        "ts": ts,
        "state": "closed" if state == "closed" else state,
        "outcome": outcome,
        "closed_ts": closed_ts,
        "assignee": assignee,
        "assignee_name": names.get(assignee, assignee[:12]) if assignee else None,
        "replies": [{**r, "author_name": names.get(r["author"], "")} for r in replies.values()],
        "history": history,
        "refused": refused,
        "thanks": thanks,
    }


def list_requests(
    conn: sqlite3.Connection, *, state: str | None = None, member: str | None = None
) -> list[dict[str, Any]]:
    """Requests, newest first; ``member``: those it posted, replied to or works on."""
    ids_ = [r for (r,) in conn.execute("SELECT id FROM requests ORDER BY ts DESC, id")]
    out = []
    for rid in ids_:
        r = request_state(conn, rid)
        if state and r["state"] != state:
            continue
        if member and member not in (
            r["author"], r["assignee"], *(x["author"] for x in r["replies"])
        ):
            continue
        out.append(r)
    return out


def thanks_received(conn: sqlite3.Connection) -> dict[str, int]:
    """Acknowledgements each member received (the text's incentive mechanism)."""
    return {dst: n for dst, n in conn.execute("SELECT dst, count(*) FROM thanks GROUP BY dst")}
