"""The store: one SQLite file holding the log and the directory derived from it.

The log (``entries``, ``feeds``) is the only source of truth. Every other
table is derived from it by ``p2pnet.derive`` and can be rebuilt with
``Store.reindex()``. Writes are transactions: a local append reads the feed's
head and writes the next entry inside one ``BEGIN IMMEDIATE`` transaction, so
two processes appending at once cannot fork their own feed; a remote batch is
ingested in one transaction, so a crash leaves it either all there or not.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from . import derive, entries, ids, keychain, schema, search
from .entries import Entry
from .errors import EntryNotFoundError, EntryRefusedError, MemberNotFoundError, Refusal
from .identity import Identity

migrations = Migrations("p2pnet")

Verify = Callable[[Sequence[Entry]], list[bool]]


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the current transaction.

    ``executescript`` would COMMIT first, breaking the migration's transaction.
    """
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def verify_serial(batch: Sequence[Entry]) -> list[bool]:
    """Check each entry's signature in this thread."""
    return [e.verify_signature() for e in batch]


@migrations()
def m001_log(db: sqlite_utils.Database) -> None:
    run_script(
        db.conn,
        """
        CREATE TABLE entries (
            n INTEGER PRIMARY KEY,          -- local arrival order
            id BLOB NOT NULL UNIQUE,        -- sha256 of raw
            author BLOB NOT NULL,
            seq INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            kind TEXT NOT NULL,
            raw BLOB NOT NULL,              -- the signed bytes
            fork INTEGER NOT NULL DEFAULT 0 -- 1: kept only as proof of a fork
        );
        CREATE UNIQUE INDEX entries_feed ON entries(author, seq) WHERE fork = 0;
        CREATE TABLE feeds (
            author BLOB PRIMARY KEY,
            seq INTEGER NOT NULL,           -- latest contiguous seq
            head BLOB NOT NULL,             -- id of the entry at seq
            forked INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
        """
    )
    derive.create_tables(db.conn)
    search.create_schema(db.conn)


@migrations()
def m002_node_state(db: sqlite_utils.Database) -> None:
    """Node-local state that is not part of the log: peers and invites."""
    run_script(
        db.conn,
        """
        CREATE TABLE peers (
            url TEXT PRIMARY KEY,
            source TEXT NOT NULL,            -- manual, profile or invite
            member TEXT,                     -- learned from the peer's /p2p/v1/info
            added_ts INTEGER NOT NULL,
            last_ok_ts INTEGER,
            last_error TEXT,
            last_error_ts INTEGER,
            failures INTEGER NOT NULL DEFAULT 0,
            next_try_ts INTEGER NOT NULL DEFAULT 0,
            entries_in INTEGER NOT NULL DEFAULT 0,
            entries_out INTEGER NOT NULL DEFAULT 0,
            has_my_seq INTEGER NOT NULL DEFAULT 0  -- the peer's seq of this node's own feed
        );
        CREATE TABLE invites (
            secret_hash BLOB PRIMARY KEY,
            expires_ts INTEGER NOT NULL,
            uses_left INTEGER NOT NULL,
            created_ts INTEGER NOT NULL
        );
        """
    )


@migrations()
def m003_cooperation(db: sqlite_utils.Database) -> None:
    """Tables for help requests, thanks, proposals and votes (new kinds in v0.2)."""
    derive.create_tables(db.conn)


@migrations()
def m004_keys(db: sqlite_utils.Database) -> None:
    """Tables for the key life cycle: hand-overs, recovery claims, vouches, key chains."""
    derive.create_tables(db.conn)


@migrations()
def m005_blocks(db: sqlite_utils.Database) -> None:
    """Moderation: this node's block list and how far peers showed blocked feeds go
    (node-local, like peers and invites), and the derived table of published blocks."""
    run_script(
        db.conn,
        """
        CREATE TABLE blocks (
            member TEXT PRIMARY KEY,            -- pm… id of the blocked member
            name TEXT NOT NULL DEFAULT '',      -- its name when blocked (it is hidden since)
            reason TEXT NOT NULL DEFAULT '',
            ts INTEGER NOT NULL,
            published TEXT,                     -- pe… id of the public block entry, or NULL
            purged INTEGER NOT NULL DEFAULT 0   -- entries deleted from the log
        );
        CREATE TABLE block_tips (
            author BLOB PRIMARY KEY,            -- a feed of a blocked member
            member TEXT NOT NULL,
            seq INTEGER NOT NULL,               -- the furthest entry seen, signature checked
            head BLOB NOT NULL,
            forked INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        """
    )
    derive.create_tables(db.conn)


@dataclass
class IngestReport:
    """What happened to each entry of a batch."""

    accepted: list[Entry] = field(default_factory=list)
    duplicates: int = 0
    forks: list[Entry] = field(default_factory=list)
    refused: list[tuple[int, Refusal, str]] = field(default_factory=list)  # (index, code, detail)
    # entries of members this node blocked: not stored, and no fault of the peer that sent them
    blocked: list[tuple[int, Refusal, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": len(self.accepted),
            "duplicates": self.duplicates,
            "forks": len(self.forks),
            "refused": [{"index": i, "code": str(c), "detail": d} for i, c, d in self.refused],
            "blocked": len(self.blocked),
        }


@dataclass(frozen=True)
class Blocked:
    """The members on this node's block list, read once per batch.

    ``author in blocked`` is the one place that maps an entry's author key to the
    member it belongs to (today a member has one key, and its id is that key).
    """

    members: frozenset[str] = frozenset()
    keys: dict[bytes, str] = field(default_factory=dict)  # keys of members that changed keys

    def member_of(self, author: bytes) -> str:
        return self.keys.get(author) or ids.member(author)

    def __contains__(self, author: object) -> bool:
        if not self.members or not isinstance(author, bytes):
            return False
        return self.member_of(author) in self.members

    def __bool__(self) -> bool:
        return bool(self.members)


@dataclass(frozen=True)
class BlockResult:
    """What ``Store.block`` or ``Store.unblock`` did."""

    member: str
    name: str
    changed: bool  # False: already blocked (block) with nothing more to do
    purged: int = 0  # entries deleted from the log now
    published: Entry | None = None  # the public block/unblock entry written now
    reindexed: int = 0  # entries replayed into the directory tables

    def as_dict(self) -> dict[str, Any]:
        return {
            "member": self.member,
            "name": self.name,
            "changed": self.changed,
            "purged": self.purged,
            "published": None if self.published is None else ids.entry(self.published.id),
            "reindexed": self.reindexed,
        }


@dataclass(frozen=True)
class FeedState:
    author: bytes
    seq: int
    head: bytes
    forked: bool


class Store:
    """A node's SQLite file. Not thread-safe: use it from one thread.

    :param path: the database file; created with its schema if missing.
    :param timeout: seconds to wait for another process's write lock.
    """

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode loses nothing when a process is killed; only a
        # power cut can drop the last commits (docs/architecture.md).
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        # entry ids are random, so their index is written all over: keep it in memory
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB
        conn.execute("PRAGMA temp_store=MEMORY")
        # checkpoint the WAL every ~64 MiB rather than every 4 MiB: a catch-up commits a
        # batch every few milliseconds, and each checkpoint rewrites scattered pages
        conn.execute("PRAGMA wal_autocheckpoint=16384")
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        migrations.apply(self.db)
        self._network: bytes | None = self.get_meta("network")
        self.index_pending()  # a node killed between ingest and indexing left some

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta -----------------------------------------------------------------

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def set_meta(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def network(self) -> bytes | None:
        """This node's network id, once it founded or joined one."""
        if self._network is None:
            self._network = self.get_meta("network")
        return self._network

    def set_network(self, network: bytes) -> None:
        """Bind this store to a network (when joining). Refuses to switch networks."""
        current = self.network
        if current is not None and current != network:
            raise EntryRefusedError(
                Refusal.WRONG_NETWORK,
                f"this store belongs to network {ids.network(current)}, not {ids.network(network)}",
            )
        self.set_meta("network", network)
        self._network = network

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction, taking the write lock at once."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    # -- local writes ---------------------------------------------------------

    def create_network(self, who: Identity, body: dict[str, Any], *, ts: int | None = None) -> Entry:
        """Found a network: write its genesis as ``who``'s first entry."""
        if self.network is not None:
            raise EntryRefusedError(
                Refusal.WRONG_NETWORK, f"this node is already in network {ids.network(self.network)}"
            )
        with self.write():
            if self.feed(who.public) is not None:
                raise EntryRefusedError(
                    Refusal.BAD_FIELD, "a network must be founded by a member with an empty feed"
                )
            entry = entries.create(
                who, network=b"", seq=1, prev=None, kind="network", body=body, ts=ts
            )
            self.set_meta("network", entry.id)
            self._network = entry.id
            self._store(entry, fork=False)
            derive.index_dirty(self.conn)
        return entry

    def append(self, who: Identity, kind: str, body: dict[str, Any], *, ts: int | None = None) -> Entry:
        """Sign and store the next entry of ``who``'s feed; safe across processes."""
        with self.write():
            entry = self._append(who, kind, body, ts=ts)
            derive.index_dirty(self.conn)
        return entry

    def _append(self, who: Identity, kind: str, body: dict[str, Any], *, ts: int | None) -> Entry:
        """``append`` inside the caller's write transaction."""
        network = self.network
        if network is None:
            raise EntryRefusedError(
                Refusal.WRONG_NETWORK, "this node is in no network yet: create or join one first"
            )
        if kind == "network":
            raise EntryRefusedError(Refusal.BAD_FIELD, "a network entry can only be a genesis")
        self._check_not_retired(who.public)
        head = self.feed(who.public)
        entry = entries.create(
            who,
            network=network,
            seq=1 if head is None else head.seq + 1,
            prev=None if head is None else head.head,
            kind=kind,
            body=body,
            ts=ts,
        )
        entries.check_context(entry, network, entries.now_ms())
        self._store(entry, fork=False)
        return entry

    def _check_not_retired(self, key: bytes) -> None:
        row = self.conn.execute(
            "SELECT until_seq, how, next FROM member_keys WHERE key = ? AND until_seq IS NOT NULL",
            (key,),
        ).fetchone()
        if row is not None:
            until, how, nxt = row
            done = "handed over" if how == "rotate" else "claimed back"
            raise EntryRefusedError(
                Refusal.KEY_RETIRED,
                f"key {ids.member(key)} was {done} to {ids.member(nxt)} after its entry {until}; "
                "anything it signs now counts nowhere: write with the new key",
            )

    # -- remote entries -------------------------------------------------------

    def ingest(
        self, raws: Iterable[bytes], *, now: int | None = None, verify: Verify = verify_serial
    ) -> IngestReport:
        """Verify and store a batch of signed entries from anywhere.

        Idempotent: an entry already held is counted as a duplicate. Entries
        may come in any order; each feed's are applied by seq. A refused entry
        changes nothing; the others of the batch are still stored. Entries of
        blocked members are counted apart (``report.blocked``) and not stored;
        the furthest of them tells how far their feed goes (``summary``).
        """
        report = IngestReport()
        now = entries.now_ms() if now is None else now
        network = self.network
        blocked = self.blocked_authors()
        parsed: list[tuple[int, Entry]] = []
        held_back: list[Entry] = []
        for i, raw in enumerate(raws):
            try:
                entry = entries.decode(raw)
                entries.check_structure(entry)
                if network is None:
                    raise EntryRefusedError(Refusal.WRONG_NETWORK, "this node is in no network yet")
                entries.check_context(entry, network, now)
            except EntryRefusedError as exc:
                report.refused.append((i, exc.code, exc.detail))
                continue
            if entry.author in blocked:
                report.blocked.append((i, Refusal.BLOCKED, _blocked_detail(entry)))
                held_back.append(entry)
                continue
            parsed.append((i, entry))
        tips = _tips(held_back, verify) if held_back else []
        if not parsed:
            if tips:
                with self.write():
                    self._record_tips(tips, self.blocked_authors())
            return report
        version = self._data_version()
        known = self._known_ids([e.id for _, e in parsed])
        fresh = []
        seen: set[bytes] = set()
        for i, e in parsed:
            if e.id in known or e.id in seen:
                report.duplicates += 1
            else:
                seen.add(e.id)
                fresh.append((i, e))
        oks = verify([e for _, e in fresh])
        checked = []
        for (i, e), ok in zip(fresh, oks, strict=True):
            if ok:
                checked.append((i, e))
            else:
                report.refused.append(
                    (i, Refusal.BAD_SIGNATURE, f"signature of {e.entry_id} does not verify")
                )
        checked.sort(key=lambda p: (p[1].author, p[1].seq))
        with self.write():
            now_blocked = self.blocked_authors()
            if now_blocked != blocked:  # another process (the CLI) blocked someone meanwhile
                for i, e in checked:
                    if e.author in now_blocked:
                        report.blocked.append((i, Refusal.BLOCKED, _blocked_detail(e)))
                checked = [(i, e) for i, e in checked if e.author not in now_blocked]
            self._record_tips(tips, now_blocked)
            if self._data_version() != version:
                # another process (a second node's ingest, `p2pnet join`, a bundle import)
                # committed since ``known`` was read: what it stored is a duplicate here
                late = self._known_ids([e.id for _, e in checked])
                report.duplicates += sum(1 for _, e in checked if e.id in late)
                checked = [(i, e) for i, e in checked if e.id not in late]
            heads: dict[bytes, FeedState | None] = {}
            for i, e in checked:
                if e.author not in heads:
                    heads[e.author] = self.feed(e.author)
                head = heads[e.author]
                head_seq = 0 if head is None else head.seq
                if e.seq == head_seq + 1:
                    if head is not None and e.prev != head.head:
                        report.refused.append(
                            (i, Refusal.BROKEN_CHAIN,
                             f"{e.entry_id} (seq {e.seq}) does not follow the feed's entry {e.seq - 1}")
                        )  # fmt: skip
                        continue
                    heads[e.author] = FeedState(e.author, e.seq, e.id, head.forked if head else False)
                    report.accepted.append(e)
                elif e.seq <= head_seq:
                    if head is not None and not head.forked:
                        heads[e.author] = FeedState(e.author, head.seq, head.head, True)
                    report.forks.append(e)
                else:
                    report.refused.append(
                        (i, Refusal.SEQUENCE_GAP,
                         f"{e.entry_id} has seq {e.seq} but the feed is at {head_seq}")
                    )  # fmt: skip
            self._store_batch(report.accepted, fork=False)
            self._store_batch(report.forks, fork=True)
        return report

    def _data_version(self) -> int:
        """Changes whenever another connection commits to the file (SQLite's data_version)."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def _known_ids(self, wanted: list[bytes]) -> set[bytes]:
        found: set[bytes] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0] for r in self.conn.execute(f"SELECT id FROM entries WHERE id IN ({marks})", chunk)
            )
        return found

    def _store(self, e: Entry, *, fork: bool) -> None:
        self._store_batch([e], fork=fork)

    def _store_batch(self, batch: list[Entry], *, fork: bool) -> None:
        """Write entries whose place in their feeds was already checked."""
        if not batch:
            return
        self.conn.executemany(
            "INSERT INTO entries(id, author, seq, ts, kind, raw, fork) VALUES (?,?,?,?,?,?,?)",
            [(e.id, e.author, e.seq, e.ts, e.kind, e.raw, int(fork)) for e in batch],
        )
        authors = {e.author for e in batch}
        if fork:
            self.conn.executemany(
                "UPDATE feeds SET forked = 1 WHERE author = ?", [(a,) for a in authors]
            )
            for a in authors:
                derive.mark_forked(self.conn, a)
            return
        last = {e.author: e for e in batch}  # batches come in seq order per author
        self.conn.executemany(
            "INSERT INTO feeds(author, seq, head, forked) VALUES (?,?,?,0) "
            "ON CONFLICT(author) DO UPDATE SET seq=excluded.seq, head=excluded.head",
            [(a, e.seq, e.id) for a, e in last.items()],
        )
        derive.apply_batch(self.conn, batch)
        if any(e.kind in derive.LINK_KINDS for e in batch):
            self._maintain_links()

    def _maintain_links(self) -> None:
        """Follow members across keys: recompute the key chains after an entry that may
        change them, and re-derive the directory if entries were folded in under the old
        chains (rare: keys change seldom, and usually before the new key writes)."""
        if not keychain.relevant(self.conn):
            return
        old = derive.load_links(self.conn)
        new = keychain.compute_links(self.conn)
        if new == old:
            return
        keychain.store_links(self.conn, new)
        if keychain.needs_rederive(self.conn, old, new):
            self._rederive(keep_search=True)

    def _rederive(self, *, keep_search: bool = False) -> int:
        """Replay the log into fresh derived tables until the key chains stop changing.

        ``keep_search``: leave the search index and re-index only documents whose text
        changed (the index keeps a digest of each), dropping those that no longer exist.
        """
        if not keep_search:
            search.clear(self.conn)
        for _ in range(8):
            derive.clear(self.conn)
            hidden = self.blocked_authors()  # blocked members stay out of the directory
            count = 0
            rows = self.conn.execute(
                "SELECT author, raw FROM entries WHERE fork = 0 ORDER BY author, seq"
            )
            while chunk := rows.fetchmany(1000):
                batch = [entries.decode(raw, trusted=True) for a, raw in chunk if a not in hidden]
                derive.apply_batch(self.conn, batch)
                count += len(batch)
                if hidden:
                    derive.apply_key_entries(self.conn, [
                        entries.decode(raw, trusted=True) for a, raw in chunk if a in hidden])  # fmt: skip
            links = keychain.compute_links(self.conn) if keychain.relevant(self.conn) else {}
            settled = links == derive.load_links(self.conn)
            keychain.store_links(self.conn, links)
            if settled:
                break
        for (author,) in self.conn.execute("SELECT author FROM feeds WHERE forked = 1").fetchall():
            derive.mark_forked(self.conn, author)
        if keep_search:
            for (doc_id,) in self.conn.execute(
                "SELECT doc_id FROM search_doc WHERE (kind = 'member' AND doc_id NOT IN "
                "(SELECT id FROM members)) OR (kind = 'activity' AND doc_id NOT IN "
                "(SELECT id FROM activities))"
            ).fetchall():
                search.remove_doc(self.conn, doc_id)
        derive.index_dirty(self.conn)
        self._bump("directory_version")
        return count

    def index_pending(self, limit: int = -1) -> int:
        """Update the search index for what ingest changed; returns documents indexed."""
        if self.conn.execute("SELECT 1 FROM search_dirty LIMIT 1").fetchone() is None:
            return 0
        with self.write():
            return derive.index_dirty(self.conn, limit)

    # -- reading the log ------------------------------------------------------

    def feed(self, author: bytes) -> FeedState | None:
        row = self.conn.execute(
            "SELECT seq, head, forked FROM feeds WHERE author = ?", (author,)
        ).fetchone()
        return None if row is None else FeedState(author, row[0], row[1], bool(row[2]))

    def feeds(self, lo: bytes = b"", hi: bytes | None = None) -> list[FeedState]:
        """Feeds whose author is in [lo, hi), ordered by author."""
        if hi is None:
            rows = self.conn.execute(
                "SELECT author, seq, head, forked FROM feeds WHERE author >= ? ORDER BY author", (lo,)
            )
        else:
            rows = self.conn.execute(
                "SELECT author, seq, head, forked FROM feeds WHERE author >= ? AND author < ? "
                "ORDER BY author",
                (lo, hi),
            )
        return [FeedState(a, s, h, bool(f)) for a, s, h, f in rows]

    def get(self, entry_id: bytes) -> Entry:
        row = self.conn.execute("SELECT raw FROM entries WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise EntryNotFoundError(f"no entry {ids.entry(entry_id)}")
        return entries.decode(row[0], trusted=True)

    def feed_raw(self, author: bytes, after: int = 0, limit: int = 1000) -> list[bytes]:
        """Signed bytes of ``author``'s entries with seq > after, in order."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT raw FROM entries WHERE author = ? AND seq > ? AND fork = 0 "
                "ORDER BY seq LIMIT ?",
                (author, after, limit),
            )
        ]

    def fork_proofs(self, author: bytes) -> list[bytes]:
        """Both sides of every fork of ``author``: the kept entry and the other one."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT e.raw FROM entries e WHERE e.author = ? AND e.seq IN "
                "(SELECT seq FROM entries WHERE author = ? AND fork = 1) ORDER BY e.seq, e.fork",
                (author, author),
            )
        ]

    def since(self, n: int = 0, limit: int = 1000) -> list[tuple[int, bytes]]:
        """(arrival number, signed bytes) of entries that arrived after ``n``."""
        return list(
            self.conn.execute(
                "SELECT n, raw FROM entries WHERE n > ? ORDER BY n LIMIT ?", (n, limit)
            )
        )

    def last_n(self) -> int:
        return int(self.conn.execute("SELECT coalesce(max(n), 0) FROM entries").fetchone()[0])

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM entries WHERE fork = 0").fetchone()[0])

    def iter_raw(self, *, include_forks: bool = True) -> Iterator[bytes]:
        """Every entry, feed by feed in seq order (what a bundle or a verify walks)."""
        sql = "SELECT raw FROM entries" + ("" if include_forks else " WHERE fork = 0")
        for (raw,) in self.conn.execute(sql + " ORDER BY author, seq, fork"):
            yield raw

    # -- derived state --------------------------------------------------------

    def reindex(self) -> int:
        """Rebuild every derived table from the log; returns entries replayed.

        Entries of blocked members stay out of the directory (they are hidden).
        """
        with self.write():
            self.conn.execute("DELETE FROM member_keys")
            return self._rederive()

    def _show(self, member: str) -> int:
        """Fold an unblocked member's entries held into the directory. The tables do not
        depend on the order entries arrive in, so this equals a replay of the whole log."""
        one = self.blocked_authors(only=member)
        count = 0
        for f in [f for f in self.feeds() if f.author in one]:
            after = 0
            while batch := [entries.decode(raw, trusted=True)
                            for raw in self.feed_raw(f.author, after, 1000)]:  # fmt: skip
                derive.apply_batch(self.conn, batch)
                count += len(batch)
                after = batch[-1].seq
            if f.forked:
                derive.mark_forked(self.conn, f.author)
        self._maintain_links()
        derive.index_dirty(self.conn)
        self._bump("directory_version")
        return count

    def _bump(self, key: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, 1) "
            "ON CONFLICT(key) DO UPDATE SET value = value + 1",
            (key,),
        )

    # -- block list -------------------------------------------------------------

    def blocked_authors(self, *, only: str | None = None) -> Blocked:
        """The members this node blocked: ``author in store.blocked_authors()``; any key of
        a member that changed keys counts as the member's. ``only``: just that member."""
        members = (frozenset({only}) if only is not None else
                   frozenset(r[0] for r in self.conn.execute("SELECT member FROM blocks")))  # fmt: skip
        if not members:
            return Blocked()
        keys = {k: m for k, m in self.conn.execute(
            "SELECT key, member FROM member_keys UNION ALL SELECT author, member FROM block_tips")}  # fmt: skip
        return Blocked(members, keys)

    def blocks(self) -> list[dict[str, Any]]:
        """This node's block list (private: never sent to peers), newest first."""
        out = []
        rows = self.conn.execute(
            "SELECT member, name, reason, ts, published, purged FROM blocks "
            "ORDER BY ts DESC, member"
        ).fetchall()
        for member, name, reason, ts, published, purged in rows:
            key = ids.from_text(ids.MEMBER, member)
            held = self.conn.execute(
                "SELECT count(*) FROM entries WHERE author = ?", (key,)
            ).fetchone()[0]
            out.append({"member": member, "name": name, "reason": reason, "ts": ts,
                        "published": published, "purged": purged, "held": held})  # fmt: skip
        return out

    def block(
        self, member: str, who: Identity, *, reason: str = "", publish: bool = False,
        purge: bool = False, ts: int | None = None,
    ) -> BlockResult:  # fmt: skip
        """Block ``member`` (a pm… id): its entries are no longer stored, relayed or shown.

        ``purge`` also deletes its entries (and fork proofs) from the log; ``publish``
        writes a signed ``block`` entry in ``who``'s feed. One transaction: the block,
        the purge, the published entry and the rebuilt directory happen together or not at all.
        Blocking a member again adds what was not done yet (a purge, a publication).
        """
        key = ids.from_text(ids.MEMBER, member)
        reason = reason.strip()
        schema.validate_body("block", {"member": key, "reason": reason})
        if key == who.public:
            raise schema.bad("member", "a node cannot block its own member")
        with self.write():
            if key == self._founder():
                raise schema.bad(
                    "member",
                    "the network's founder cannot be blocked: its genesis entry is the charter "
                    "and admission starts from it",
                )
            row = self.conn.execute(
                "SELECT name, reason, published FROM blocks WHERE member = ?", (member,)
            ).fetchone()
            new_reason = row is not None and bool(reason) and reason != row[1]
            if row is None:
                found = self.conn.execute(
                    "SELECT name_th, name_en FROM members WHERE id = ?", (member,)
                ).fetchone()
                name = (found and (found[0] or found[1])) or ""
                self.conn.execute(
                    "INSERT INTO blocks(member, name, reason, ts) VALUES (?,?,?,?)",
                    (member, name, reason, entries.now_ms() if ts is None else ts),
                )
            else:
                name = row[0]
                if new_reason:
                    self.conn.execute(
                        "UPDATE blocks SET reason = ? WHERE member = ?", (reason, member)
                    )
                reason = reason or row[1]
            blocked = self.blocked_authors()
            purged = self._purge(member, blocked) if purge else 0
            published = None
            if publish and (row is None or row[2] is None):
                body: dict[str, Any] = {"member": key, **({"reason": reason} if reason else {})}
                published = self._append(who, "block", body, ts=ts)
                self.conn.execute(
                    "UPDATE blocks SET published = ? WHERE member = ?",
                    (ids.entry(published.id), member),
                )
            rebuild = row is None or bool(purged) or published is not None
            reindexed = 0
            if rebuild:
                self._bump("summary_version")
                reindexed = self._rederive(keep_search=True)
        return BlockResult(member, name, rebuild or new_reason, purged, published, reindexed)

    def unblock(self, member: str, who: Identity, *, ts: int | None = None) -> BlockResult:
        """Take ``member`` off the block list: its entries held are shown again, purged ones
        come back from peers by gossip; a published block is withdrawn by an ``unblock`` entry."""
        with self.write():
            row = self.conn.execute(
                "SELECT name, published FROM blocks WHERE member = ?", (member,)
            ).fetchone()
            if row is None:
                raise MemberNotFoundError(f"{member} is not blocked on this node")
            self.conn.execute("DELETE FROM blocks WHERE member = ?", (member,))
            self.conn.execute("DELETE FROM block_tips WHERE member = ?", (member,))
            published = None
            if row[1] is not None:
                key = ids.from_text(ids.MEMBER, member)
                published = self._append(who, "unblock", {"member": key}, ts=ts)
            self._bump("summary_version")
            reindexed = self._show(member)
        return BlockResult(member, row[0], True, 0, published, reindexed)

    def _founder(self) -> bytes | None:
        network = self.network
        if network is None:
            return None
        row = self.conn.execute("SELECT author FROM entries WHERE id = ?", (network,)).fetchone()
        return None if row is None else bytes(row[0])

    def _purge(self, member: str, blocked: Blocked) -> int:
        """Delete a blocked member's entries and fork proofs; remember how far its feeds went."""
        one = self.blocked_authors(only=member)
        feeds = [f for f in self.feeds() if f.author in one]
        self._record_tips(feeds, blocked)
        deleted = 0
        for f in feeds:
            gone = self.conn.execute("DELETE FROM entries WHERE author = ?", (f.author,))
            deleted += gone.rowcount
            self.conn.execute("DELETE FROM feeds WHERE author = ?", (f.author,))
        if deleted:
            self.conn.execute(
                "UPDATE blocks SET purged = purged + ? WHERE member = ?", (deleted, member)
            )
        return deleted

    def _record_tips(self, tips: Iterable[FeedState], blocked: Blocked) -> None:
        """Remember the furthest entry seen of blocked members' feeds (see ``summary``)."""
        rows = [(t.author, blocked.member_of(t.author), t.seq, t.head, int(t.forked))
                for t in tips if t.author in blocked]  # fmt: skip
        if not rows:
            return
        before = self.conn.total_changes
        self.conn.executemany(
            "INSERT INTO block_tips(author, member, seq, head, forked) VALUES (?,?,?,?,?) "
            "ON CONFLICT(author) DO UPDATE SET "
            "head = CASE WHEN excluded.seq > block_tips.seq "
            "THEN excluded.head ELSE block_tips.head END, "
            "seq = max(block_tips.seq, excluded.seq), "
            "forked = max(block_tips.forked, excluded.forked) "
            "WHERE excluded.seq > block_tips.seq OR excluded.forked > block_tips.forked",
            rows,
        )
        if self.conn.total_changes != before:
            self._bump("summary_version")

    def summary(self) -> list[FeedState]:
        """The feed summary this node reconciles with (``sync.reconcile``), by author.

        Its feeds, except that a blocked member's feed shows the furthest entry this
        node saw of it (signature checked) when that is further than what it holds: a
        peer holding the feed then sees nothing to send, and the two stay in sync at
        the usual idle cost instead of offering the blocked entries every round.
        """
        feeds = self.feeds()
        tips = {
            a: FeedState(a, seq, head, bool(forked))
            for a, seq, head, forked in self.conn.execute(
                "SELECT author, seq, head, forked FROM block_tips"
            )
        }
        if not tips:
            return feeds
        out = []
        for f in feeds:
            t = tips.pop(f.author, None)
            out.append(f if t is None or t.seq <= f.seq else t)
        out.extend(tips.values())
        out.sort(key=lambda f: f.author)
        return out

    def summary_key(self) -> tuple[int, int]:
        """Changes whenever ``summary`` may: (last arrival, block list changes)."""
        return self.last_n(), int(self.get_meta("summary_version", 0))

    def charter(self) -> dict[str, Any] | None:
        raw = self.get_meta("charter")
        return None if raw is None else json.loads(raw)

    def integrity_check(self) -> str:
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])


def _blocked_detail(e: Entry) -> str:
    return f"{e.entry_id}: its author {ids.member(e.author)} is blocked on this node"


def _tips(held_back: list[Entry], verify: Verify) -> list[FeedState]:
    """How far blocked members' feeds go, from entries peers sent: per feed, the entry of
    the highest seq, and whether two entries share a seq (a fork). Only signed entries
    count, so a peer cannot make this node misreport a feed it does not hold."""
    by_feed: dict[bytes, dict[int, dict[bytes, Entry]]] = {}
    for e in held_back:
        by_feed.setdefault(e.author, {}).setdefault(e.seq, {})[e.id] = e
    picks: list[tuple[Entry, list[Entry]]] = []
    for seqs in by_feed.values():
        top = next(iter(seqs[max(seqs)].values()))
        pair = next((list(v.values())[:2] for v in seqs.values() if len(v) > 1), [])
        picks.append((top, pair))
    wanted = list({e.id: e for top, pair in picks for e in (top, *pair)}.values())
    ok = {e.id for e, good in zip(wanted, verify(wanted), strict=True) if good}
    return [
        FeedState(top.author, top.seq, top.id, len(pair) == 2 and all(e.id in ok for e in pair))
        for top, pair in picks
        if top.id in ok
    ]
