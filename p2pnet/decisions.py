"""Decisions together: proposals, signed votes, and a tally every node computes alike.

A member posts a ``proposal`` (title, text, two to ten options, a closing
time, and optionally ``changes`` to the charter, voted yes/no). Members
``vote`` with signed entries; each member's latest vote (by its feed's seq)
cast before closing counts. Only members admitted under the charter in force
when the proposal closes may vote; forked members and members who left may
not. A proposal is decided once its closing time has passed: it needs the
charter's ``quorum`` (percent of the members who may vote; 50 if unset) and
a single leading option; a charter change passes when "yes" leads.

The charter in force is the genesis charter with the changes of every passed
charter proposal applied in order of closing time, so changing the admission
rule, the quorum or the network's description takes a passed proposal.
"""

from __future__ import annotations

import json
import math
import sqlite3
from typing import Any

from . import directory
from .entries import now_ms
from .errors import EntryNotFoundError

DEFAULT_QUORUM = 50


def _rows(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT id, author, title, text, options, closes, changes, ts FROM proposals "
        "ORDER BY closes, id"
    ).fetchall()


def _genesis(conn: sqlite3.Connection) -> dict[str, Any]:
    row = conn.execute("SELECT value FROM meta WHERE key = 'charter'").fetchone()
    return {} if row is None else dict(json.loads(row[0]))


def _evaluate(conn: sqlite3.Connection, now: int) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Walk proposals in closing order: the charter in force and every tally."""
    charter = _genesis(conn)
    names = directory.display_names(conn)
    forked = {m for (m,) in conn.execute("SELECT id FROM members WHERE forked = 1")}
    tallies: dict[str, dict[str, Any]] = {}
    for pid, author, title, text, options, closes, changes, ts in _rows(conn):
        rule = int((charter.get("admission") or {}).get("endorsements", 1))
        status = directory.statuses_under(conn, rule)
        eligible = {m for m, s in status.items() if s == "admitted" and m not in forked}
        opts = json.loads(options)
        counted: dict[str, tuple[int, int, str]] = {}  # voter -> (seq, option, entry)
        refused = []
        for entry, voter, seq, option, vts in conn.execute(
            "SELECT entry, author, seq, option, ts FROM votes WHERE proposal = ? ORDER BY author, seq",
            (pid,),
        ):
            why = None
            if vts > closes:
                why = "cast after the proposal closed"
            elif voter in forked:
                why = "the voter is forked"
            elif voter not in eligible:
                why = "the voter is not an admitted member"
            elif option >= len(opts):
                why = f"option {option} does not exist"
            if why:
                refused.append({"entry": entry, "member": voter, "name": names.get(voter, voter[:12]),
                                "option": option, "reason": why})  # fmt: skip
            else:
                counted[voter] = (seq, option, entry)  # ordered by seq: the latest wins
        counts = [0] * len(opts)
        for _, option, _ in counted.values():
            counts[option] += 1
        quorum = int(charter.get("quorum", DEFAULT_QUORUM))
        needed = math.ceil(len(eligible) * quorum / 100)
        lead = max(counts) if counts else 0
        leaders = [i for i, c in enumerate(counts) if c == lead]
        if now < closes:
            result = "open"
        elif len(counted) < needed or not counted:
            result = "no-quorum"
        elif len(leaders) > 1:
            result = "tied"
        elif changes is not None:
            result = "passed" if leaders[0] == 0 else "rejected"
        else:
            result = "decided"
        if result == "passed":
            charter = {**charter, **json.loads(changes)}
        tallies[pid] = {
            "id": pid, "author": author, "author_name": names.get(author, author[:12]),
            "title": title, "text": text, "options": opts, "closes": closes, "ts": ts,
            "changes": json.loads(changes) if changes else None,
            "result": result, "winner": opts[leaders[0]] if result in ("decided", "passed", "rejected") else None,
            "counts": dict(zip(opts, counts, strict=True)),
            "votes": [{"member": v, "name": names.get(v, v[:12]), "option": opts[o], "entry": e}
                      for v, (_, o, e) in sorted(counted.items())],
            "refused": refused, "eligible": len(eligible), "quorum_percent": quorum,
            "quorum_votes": needed, "voted": len(counted),
        }  # fmt: skip
    return charter, tallies


def resolve_proposal(conn: sqlite3.Connection, text: str) -> str:
    """A proposal id from the id or a unique prefix of it."""
    from .directory import resolve_prefix

    return resolve_prefix(conn, "proposals", "id", text, "proposal")


def tally(conn: sqlite3.Connection, proposal_id: str, *, now: int | None = None) -> dict[str, Any]:
    _, tallies = _evaluate(conn, now_ms() if now is None else now)
    if proposal_id not in tallies:
        raise EntryNotFoundError(f"no proposal {proposal_id}")
    return tallies[proposal_id]


def list_proposals(conn: sqlite3.Connection, *, now: int | None = None) -> list[dict[str, Any]]:
    _, tallies = _evaluate(conn, now_ms() if now is None else now)
    return sorted(tallies.values(), key=lambda t: (-t["closes"], t["id"]))


def charter_in_force(conn: sqlite3.Connection, *, now: int | None = None) -> dict[str, Any]:
    """The genesis charter with every passed change applied."""
    charter, _ = _evaluate(conn, now_ms() if now is None else now)
    return charter
