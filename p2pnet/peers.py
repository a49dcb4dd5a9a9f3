"""The peer book: who this node syncs with, and how each peer has behaved.

Pure and synchronous over the store's ``peers`` table. Peer choice and
backoff take ``now`` and ``rng`` so tests can fix them.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .store import Store

BACKOFF_BASE_MS = 2_000
BACKOFF_MAX_MS = 10 * 60 * 1000


@dataclass(frozen=True)
class Peer:
    url: str
    source: str
    member: str | None
    failures: int
    next_try_ts: int
    last_ok_ts: int | None
    last_error: str | None
    last_error_ts: int | None
    entries_in: int
    entries_out: int
    has_my_seq: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def normalise_url(url: str) -> str:
    """``http://host:port`` without a trailing slash; ConfigError if it is not a URL."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{url!r} is not a peer URL such as http://203.0.113.5:7700")
    if parts.query or parts.fragment:
        raise ConfigError(f"{url!r}: a peer URL has no query or fragment")
    return url


def backoff_ms(failures: int, rng: random.Random) -> int:
    """Exponential backoff with ±25% jitter, capped at ten minutes."""
    base = min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * (2 ** min(failures - 1, 20)))
    return int(base * rng.uniform(0.75, 1.25))


def add(store: Store, url: str, *, source: str = "manual", now: int) -> str:
    url = normalise_url(url)
    store.conn.execute(
        "INSERT INTO peers(url, source, added_ts) VALUES (?,?,?) ON CONFLICT(url) DO UPDATE SET "
        "source = CASE WHEN excluded.source = 'manual' THEN 'manual' ELSE peers.source END, "
        "next_try_ts = 0",
        (url, source, now),
    )
    return url


def remove(store: Store, url: str) -> bool:
    cur = store.conn.execute("DELETE FROM peers WHERE url = ?", (normalise_url(url),))
    return cur.rowcount > 0


def all_peers(store: Store) -> list[Peer]:
    rows = store.conn.execute(
        "SELECT url, source, member, failures, next_try_ts, last_ok_ts, last_error, "
        "last_error_ts, entries_in, entries_out, has_my_seq FROM peers ORDER BY url"
    ).fetchall()
    return [Peer(*r) for r in rows]


def discover(store: Store, *, own_urls: set[str], own_member: str, now: int) -> int:
    """Add the endpoints members publish in their profiles; returns how many were new."""
    added = 0
    rows = store.conn.execute(
        "SELECT id, endpoints FROM members WHERE endpoints != '[]' AND forked = 0"
    ).fetchall()
    known = {p.url for p in all_peers(store)}
    for member, endpoints in rows:
        if member == own_member:
            continue
        for url in json.loads(endpoints):
            try:
                url = normalise_url(url)
            except ConfigError:
                continue
            if url in own_urls or url in known:
                continue
            add(store, url, source="profile", now=now)
            known.add(url)
            added += 1
    return added


def due(store: Store, *, now: int, k: int, rng: random.Random, own_member: str) -> list[Peer]:
    """Up to ``k`` random peers that are not backing off and are not this node."""
    live = [
        p for p in all_peers(store) if p.next_try_ts <= now and p.member != own_member
    ]
    rng.shuffle(live)
    return live[:k]


def record_ok(
    store: Store, url: str, *, now: int, member: str | None, got: int, sent: int, my_seq: int | None
) -> None:
    store.conn.execute(
        "UPDATE peers SET last_ok_ts=?, failures=0, next_try_ts=0, member=coalesce(?, member), "
        "entries_in=entries_in+?, entries_out=entries_out+?, "
        "has_my_seq=CASE WHEN ? IS NULL THEN has_my_seq ELSE ? END WHERE url=?",
        (now, member, got, sent, my_seq, my_seq, url),
    )


def record_failure(store: Store, url: str, error: str, *, now: int, rng: random.Random) -> int:
    row = store.conn.execute("SELECT failures FROM peers WHERE url=?", (url,)).fetchone()
    failures = (row[0] if row else 0) + 1
    wait = backoff_ms(failures, rng)
    store.conn.execute(
        "UPDATE peers SET failures=?, last_error=?, last_error_ts=?, next_try_ts=? WHERE url=?",
        (failures, error[:500], now, now + wait, url),
    )
    return wait
