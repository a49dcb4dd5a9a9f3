"""Moderation without a centre: naming the member a node blocks or unblocks.

Each node keeps its own block list (``Store.block``, ``Store.unblock``): members
whose entries it neither stores nor relays, and hides from its directory. The
list is node-local and private; a node makes a block public only by writing a
signed ``block`` entry (``--publish``), which every node shows on the blocked
member's page. Read-only and synchronous, like :mod:`p2pnet.directory`.
"""

from __future__ import annotations

import sqlite3

from . import directory, search
from .errors import MemberNotFoundError

__all__ = ["resolve", "resolve_blocked"]


def resolve(conn: sqlite3.Connection, text: str) -> str:
    """The member to block: as every command names members (id, unique id prefix or
    unique name), or a member already blocked (hidden from the directory since)."""
    try:
        return directory.resolve_member(conn, text)
    except MemberNotFoundError:
        found = _blocked(conn, text)
        if found is None:
            raise
        return found


def resolve_blocked(conn: sqlite3.Connection, text: str) -> str:
    """The blocked member to unblock: by id, unique id prefix, or the name it had."""
    found = _blocked(conn, text)
    if found is not None:
        return found
    try:
        mid = directory.resolve_member(conn, text)
    except MemberNotFoundError:
        raise MemberNotFoundError(
            f"no blocked member matches {text.strip()!r} (see the list with `p2pnet blocks`)"
        ) from None
    raise MemberNotFoundError(f"{mid} is not blocked on this node")


def _blocked(conn: sqlite3.Connection, text: str) -> str | None:
    """A blocked member by id, unique id prefix (``pm`` + 2 or more) or unique name."""
    text = text.strip()
    rows = conn.execute("SELECT member, name FROM blocks").fetchall()
    low = text.lower()
    if low.startswith("pm") and len(low) >= 4:
        by_id = [m for m, _ in rows if m.startswith(low)]
        if len(by_id) == 1:
            return str(by_id[0])
        if len(by_id) > 1:
            raise MemberNotFoundError(
                f"{text!r} is the start of several blocked member ids; give more of it"
            )
    norm = search.normalize(text)
    if not norm:
        return None
    exact = [m for m, name in rows if name and search.normalize(name) == norm]
    partial = [m for m, name in rows if name and norm in search.normalize(name)]
    pick = exact or partial
    if len(pick) > 1:
        raise MemberNotFoundError(f"{text!r} matches several blocked members; give the id")
    return str(pick[0]) if pick else None
