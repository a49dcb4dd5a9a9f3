"""The key life cycle: which keys belong to which member.

A member is first known by one Ed25519 key, and its id is that key's id for
good. Later it can change keys in two ways, both written as signed entries:

* **hand-over** (``rotate``, in the old key's feed): the old key names the new
  key, and the new key signs its consent (``rotate.proof`` over
  ``b"p2pnet/rotate/v1\\x00" || network || old || new``). The old key's entries
  up to and including the ``rotate`` count; anything it signs later counts
  nowhere.
* **recovery** (``recover``, in the new key's feed) when the old key is lost or
  stolen: the new key claims the old one back and names the old feed's last
  good seq. The claim takes effect once enough members who endorse the lost
  member (the charter's ``recovery.vouches``, 2 unless set; never the member
  itself or the claimant) have published a ``vouch`` for it. Entries of the
  lost key after ``last_good`` then count nowhere, including a hand-over the
  thief may have signed; a hand-over at or before ``last_good`` stands, and the
  claim should name the newer key instead. Two effective claims for one key:
  the one with more vouches wins, then the earlier, then the smaller entry id.

``compute_links`` derives the chains from the derived tables; the store keeps
them in ``member_keys`` and re-derives the directory when they change, so the
result does not depend on the order entries arrive in (a test replays the log
in many orders).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import derive, identity, ids
from .config import Home
from .derive import KeyLink
from .entries import Entry, rotation_message
from .errors import KeyFileError
from .identity import Identity

if TYPE_CHECKING:
    from .store import Store


@dataclass(frozen=True, slots=True)
class _Edge:
    new: bytes
    until: int
    how: str
    entry: str
    ts: int


def recovery_vouches(conn: sqlite3.Connection, at: int) -> int:
    """Vouches a recovery claim made at ``at`` (ms) needs: the charter in force then."""
    from . import decisions  # decisions reads the directory, which reads these tables

    charter = decisions.charter_in_force(conn, now=at)
    return int((charter.get("recovery") or {}).get("vouches", derive.DEFAULT_RECOVERY_VOUCHES))


def claim_support(
    conn: sqlite3.Connection, entry: str, old: bytes, claimant: bytes, links: dict[bytes, KeyLink]
) -> list[str]:
    """Members whose vouch counts for claim ``entry``: they endorse the lost member and are
    neither it nor the claimant."""
    ref = derive._resolver(links)
    lost, mine = ref(old), ref(claimant)
    rows = conn.execute(
        "SELECT DISTINCT v.voucher FROM vouches v JOIN endorsements e "
        "ON e.src = v.voucher AND e.dst = ? AND e.active = 1 "
        "WHERE v.claim = ? AND v.voucher NOT IN (?, ?) ORDER BY v.voucher",
        (lost, entry, lost, mine),
    )
    return [r[0] for r in rows]


def compute_links(conn: sqlite3.Connection) -> dict[bytes, KeyLink]:
    """Every key chain the log establishes, as ``member_keys`` rows (see the module doc)."""
    current = derive.load_links(conn)
    edges: dict[bytes, _Edge] = {}
    best: dict[bytes, tuple[tuple[int, int, str], _Edge]] = {}
    for entry, claimant, old, last_good, ts in conn.execute(
        "SELECT entry, claimant, old, last_good, ts FROM key_claims ORDER BY entry"
    ).fetchall():
        n = len(claim_support(conn, entry, old, claimant, current))
        if n < recovery_vouches(conn, ts):
            continue
        rank = (-n, ts, entry)
        if old not in best or rank < best[old][0]:
            best[old] = (rank, _Edge(claimant, last_good, "recover", entry, ts))
    for old, (_, edge) in best.items():
        edges[old] = edge
    first: dict[bytes, _Edge] = {}
    for entry, old, new, seq, ts in conn.execute(
        "SELECT entry, old, new, seq, ts FROM key_rotations ORDER BY seq, entry"
    ):
        if old not in first:
            first[old] = _Edge(new, seq, "rotate", entry, ts)
    for old, edge in first.items():
        claimed = edges.get(old)
        if claimed is None or edge.until <= claimed.until:
            edges[old] = edge  # a hand-over before the loss stands; after it, it was the thief's
    # one predecessor per key and no cycles: the earlier link wins
    nxt: dict[bytes, _Edge] = {}
    prev: dict[bytes, bytes] = {}
    for old, edge in sorted(edges.items(), key=lambda kv: (kv[1].ts, kv[1].entry)):
        if edge.new in prev or edge.new == old:
            continue
        k: bytes | None = edge.new
        while k is not None and k != old:
            k = nxt[k].new if k in nxt else None
        if k == old:
            continue
        nxt[old] = edge
        prev[edge.new] = old
    links: dict[bytes, KeyLink] = {}
    for root in nxt:
        if root in prev:
            continue
        member, gen, key = ids.member(root), 0, root
        while True:
            edge = nxt.get(key)
            if edge is None:
                links[key] = KeyLink(member, gen, None, None, None, None, None)
                break
            links[key] = KeyLink(member, gen, edge.until, edge.new, edge.how, edge.entry, edge.ts)
            key, gen = edge.new, gen + 1
    return links


def store_links(conn: sqlite3.Connection, links: dict[bytes, KeyLink]) -> None:
    conn.execute("DELETE FROM member_keys")
    conn.executemany(
        "INSERT INTO member_keys(key, key_id, member, gen, until_seq, next, how, entry, ts) "
        "VALUES (?,?,?,?,?,?,?,?,?)",
        [
            (k, ids.member(k), lk.member, lk.gen, lk.until_seq, lk.next, lk.how, lk.entry, lk.ts)
            for k, lk in links.items()
        ],
    )
    current = [(k, lk.member) for k, lk in links.items() if lk.until_seq is None]
    conn.executemany("UPDATE members SET key = ? WHERE id = ?", current)


def relevant(conn: sqlite3.Connection) -> bool:
    """Whether any hand-over or claim exists at all (almost never: then nothing to do)."""
    return (
        conn.execute(
            "SELECT 1 FROM key_rotations UNION ALL SELECT 1 FROM key_claims LIMIT 1"
        ).fetchone()
        is not None
        or conn.execute("SELECT 1 FROM member_keys LIMIT 1").fetchone() is not None
    )


def needs_rederive(
    conn: sqlite3.Connection, old: dict[bytes, KeyLink], new: dict[bytes, KeyLink]
) -> bool:
    """Whether entries already folded in were folded under links that changed.

    When a link arrives before any entry of the keys it joins (the usual case in a
    catch-up), the directory is already right and no re-derivation is needed.
    """
    for key in old.keys() | new.keys():
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        was = a.member if a else ids.member(key)
        now = b.member if b else ids.member(key)
        if was != now and _mentioned(conn, was):
            return True
        gen_a, gen_b = (a.gen if a else 0), (b.gen if b else 0)
        if (
            gen_a != gen_b
            and conn.execute(
                "SELECT 1 FROM entries WHERE author = ? AND fork = 0 LIMIT 1", (key,)
            ).fetchone()
        ):
            return True
        until_a = a.until_seq if a else None
        until_b = b.until_seq if b else None
        if until_a != until_b:
            lowest = min(x for x in (until_a, until_b, 2**62) if x is not None)
            if conn.execute(
                "SELECT 1 FROM entries WHERE author = ? AND seq > ? AND fork = 0 LIMIT 1",
                (key, lowest),
            ).fetchone():
                return True
    return False


def _mentioned(conn: sqlite3.Connection, member: str) -> bool:
    """Whether a directory row already credits or names ``member``."""
    probes = (
        "SELECT 1 FROM members WHERE id = ?",
        "SELECT 1 FROM endorsements WHERE dst = ?",
        "SELECT 1 FROM participants WHERE member = ?",
        "SELECT 1 FROM thanks WHERE dst = ?",
        "SELECT 1 FROM request_events WHERE kind = 'handoff' AND json_extract(body, '$.to') = ?",
    )
    return any(conn.execute(q + " LIMIT 1", (member,)).fetchone() for q in probes)


# ----------------------------------------------------------------------------- writing


def rotate_home_key(home: Home, store: Store) -> tuple[Identity, Identity, Entry]:
    """Hand this home's member key over to a new key: (old, new, the rotate entry).

    Crash-safe in three steps: the new key is saved beside the old one
    (``member.key.next``), the ``rotate`` entry is written, then the old key moves
    to ``retired-keys/`` and the new one takes its place. A process killed between
    the steps leaves a state :func:`settle_home_key` (run whenever the key is
    loaded) or a second ``rotate_home_key`` completes, never a home without a key.
    """
    old = identity.load(home.key_file)
    if store.network is None:
        raise KeyFileError("this node is in no network yet: there is no feed to hand over")
    link = derive.load_links(store.conn).get(old.public)
    retired = link is not None and link.until_seq is not None
    if retired and link is not None and link.how == "recover":
        raise KeyFileError(
            f"members vouched that key {ids.member(link.next or b'')} is this member now, so "
            f"this home's key {old.member_id} no longer counts: nothing to hand over "
            "(`p2pnet key history` shows the claim; if it is not yours, call your endorsers)"
        )
    if home.next_key_file.exists():
        new = identity.load(home.next_key_file)  # an interrupted rotation: finish it
    elif retired:
        raise KeyFileError(
            f"key {old.member_id} was already handed over to {ids.member(link.next or b'')}; "
            "import that key (`p2pnet key import FILE --force`) to go on"
        )
    else:
        new = Identity.generate()
        identity.save(new, home.next_key_file)
    if retired and link is not None:
        if link.next != new.public:
            raise KeyFileError(
                f"key {old.member_id} was already handed over to {ids.member(link.next or b'')}, "
                f"not to the key in {home.next_key_file.name}; import the right key "
                "(`p2pnet key import FILE --force`) to go on"
            )
        entry = store.get(ids.from_text(ids.ENTRY, link.entry or ""))
    else:
        entry = store.append(old, "rotate", rotation_body(store.network, old, new))
    settle_home_key(home, store)
    return old, new, entry


def settle_home_key(home: Home, store: Store) -> Identity:
    """Finish a hand-over a killed ``rotate_home_key`` left half done; return the key to use."""
    current = identity.load(home.key_file)
    if not home.next_key_file.exists():
        return current
    new = identity.load(home.next_key_file)
    link = derive.load_links(store.conn).get(current.public)
    if link is None or link.next != new.public or link.until_seq is None:
        return current  # the rotate entry was never written: the old key is still the one
    home.retired_keys_dir.mkdir(mode=0o700, exist_ok=True)
    retired = home.retired_keys_dir / f"{current.member_id}.key"
    if not retired.exists():
        identity.save(current, retired)
    os.replace(home.next_key_file, home.key_file)
    return new


def rotation_body(network: bytes, old: Identity, new: Identity) -> dict[str, Any]:
    """The body of ``old``'s ``rotate`` entry handing its feed over to ``new``."""
    return {"key": new.public, "proof": new.sign(rotation_message(network, old.public, new.public))}


# ----------------------------------------------------------------------------- reading


def member_keys(conn: sqlite3.Connection, member: str) -> list[dict[str, Any]]:
    """The keys of ``member``, first to current (one row for a member that never changed)."""
    rows = conn.execute(
        "SELECT key_id, gen, until_seq, how, entry, ts FROM member_keys WHERE member = ? "
        "ORDER BY gen",
        (member,),
    ).fetchall()
    if not rows:
        return [
            {
                "key": member,
                "gen": 0,
                "current": True,
                "until_seq": None,
                "ended_by": None,
                "entry": None,
                "ts": None,
            }
        ]
    return [
        {
            "key": k,
            "gen": g,
            "current": until is None,
            "until_seq": until,
            "ended_by": how,
            "entry": entry,
            "ts": ts,
        }
        for k, g, until, how, entry, ts in rows
    ]


def claims(conn: sqlite3.Connection, *, member: str | None = None) -> list[dict[str, Any]]:
    """Recovery claims, newest first, with who vouched, how many are needed and whether
    the claim is in effect. ``member``: only claims for that member's keys."""
    links = derive.load_links(conn)
    ref = derive._resolver(links)
    out = []
    for entry, claimant, old, last_good, reason, ts in conn.execute(
        "SELECT entry, claimant, old, last_good, reason, ts FROM key_claims ORDER BY ts DESC, entry"
    ).fetchall():
        lost = ref(old)
        if member is not None and lost != member:
            continue
        support = claim_support(conn, entry, old, claimant, links)
        vouchers = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT voucher FROM vouches WHERE claim = ? ORDER BY voucher", (entry,)
            )
        ]
        link = links.get(old)
        out.append(
            {
                "id": entry,
                "member": lost,
                "lost_key": ids.member(old),
                "claimant_key": ids.member(claimant),
                "last_good": last_good,
                "reason": reason,
                "ts": ts,
                "vouchers": vouchers,
                "counted": support,
                "needed": recovery_vouches(conn, ts),
                "in_effect": link is not None and link.entry == entry,
            }
        )
    return out


def resolve_claim(conn: sqlite3.Connection, text: str) -> str:
    """A claim id from an id or a unique prefix of it, or from the lost member's id when
    exactly one claim for that member is not yet in effect."""
    from .directory import resolve_member, resolve_prefix
    from .errors import EntryNotFoundError, MemberNotFoundError

    text = text.strip().lower()
    if text.startswith("pe") and len(text) >= 6:
        return resolve_prefix(conn, "key_claims", "entry", text, "recovery claim")
    try:
        member = resolve_member(conn, text)
    except MemberNotFoundError:
        raise EntryNotFoundError(f"no recovery claim or member matches {text!r}") from None
    pending = [c["id"] for c in claims(conn, member=member) if not c["in_effect"]]
    if len(pending) == 1:
        return pending[0]
    if not pending:
        raise EntryNotFoundError(f"no pending recovery claim for {member}")
    raise EntryNotFoundError(f"{len(pending)} pending claims for {member}: name one by its id")
