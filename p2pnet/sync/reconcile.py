"""Range reconciliation of feed summaries: pure, no I/O.

Each node summarises its log as one row per feed: (author, seq, head, forked).
Authors are Ed25519 public keys, so they spread evenly over the 256-bit key
space. A *range* [lo, hi) of that space has a count and a fingerprint: the
first 16 bytes of sha256 over its rows in author order. Two nodes compare the
whole space first; where fingerprints differ the answering node splits the
range into 16 equal parts and answers each part's count and fingerprint, or
the rows themselves when a part holds few feeds. So two nodes in sync settle
in one round trip with ~100 bytes of payload, whatever the network's size,
and a difference is found in about log16(feeds) round trips.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Container, Sequence
from dataclasses import dataclass, field

from ..store import FeedState

SPACE = 1 << 256
FP_LEN = 16
SPLIT = 16
LEAF = 16  # a requested range with at most this many feeds is answered with its rows
INLINE = 2  # a sub-range with at most this many feeds is answered with its rows at once
MAX_ROWS = 50_000  # rows in one answer; bigger ranges are split instead


def bound(value: int) -> bytes:
    """A range bound on the wire: 32 bytes big-endian, or empty for the end of the space."""
    return b"" if value >= SPACE else value.to_bytes(32, "big")


def unbound(raw: bytes) -> int:
    if raw == b"":
        return SPACE
    if len(raw) != 32:
        raise ValueError("a range bound is 32 bytes or empty")
    return int.from_bytes(raw, "big")


def fingerprint(feeds: Sequence[FeedState]) -> bytes:
    h = hashlib.sha256()
    for f in feeds:
        h.update(f.author)
        h.update(f.seq.to_bytes(8, "big"))
        h.update(f.head)
        h.update(b"\x01" if f.forked else b"\x00")
    return h.digest()[:FP_LEN]


def keys_of(feeds: Sequence[FeedState]) -> list[bytes]:
    """The authors of ``feeds``, to search many ranges of the same feeds with."""
    return [f.author for f in feeds]


def in_range(
    feeds: Sequence[FeedState], lo: int, hi: int, keys: Sequence[bytes] | None = None
) -> list[FeedState]:
    """Feeds (sorted by author) whose author is in [lo, hi).

    ``keys`` (``keys_of(feeds)``) saves rebuilding them on every call: a caller that
    looks up many ranges passes them, so each lookup costs two binary searches.
    """
    keys = keys_of(feeds) if keys is None else keys
    start = bisect.bisect_left(keys, bound(lo)) if lo > 0 else 0
    end = len(feeds) if hi >= SPACE else bisect.bisect_left(keys, bound(hi))
    return list(feeds[start:end])


@dataclass(frozen=True)
class Range:
    lo: int
    hi: int
    count: int
    fp: bytes

    def wire(self) -> list[object]:
        return [bound(self.lo), bound(self.hi), self.count, self.fp]


def summarise(
    feeds: Sequence[FeedState], lo: int = 0, hi: int = SPACE, keys: Sequence[bytes] | None = None
) -> Range:
    part = in_range(feeds, lo, hi, keys)
    return Range(lo, hi, len(part), fingerprint(part))


def split(lo: int, hi: int) -> list[tuple[int, int]]:
    step = max(1, (hi - lo) // SPLIT)
    cuts = [lo + i * step for i in range(SPLIT)] + [hi]
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if a < b]


@dataclass
class Answer:
    """The answering side's reply to a list of ranges."""

    ranges: list[Range] = field(default_factory=list)
    rows: list[tuple[int, int, list[FeedState]]] = field(default_factory=list)


def answer(mine: Sequence[FeedState], theirs: Sequence[Range]) -> Answer:
    """For each range the asker sent: nothing if equal, else rows or finer ranges.

    The ranges must not overlap (``messages.decode_reconcile`` refuses those that do),
    so the work is bounded by the feeds held plus the ranges asked about.
    """
    out = Answer()
    budget = MAX_ROWS
    keys = keys_of(mine)
    for r in theirs:
        part = in_range(mine, r.lo, r.hi, keys)
        if len(part) == r.count and fingerprint(part) == r.fp:
            continue
        if (len(part) <= LEAF or r.count == 0) and len(part) <= budget:
            out.rows.append((r.lo, r.hi, part))
            budget -= len(part)
            continue
        part_keys = keys_of(part)
        for lo, hi in split(r.lo, r.hi):
            sub = in_range(part, lo, hi, part_keys)
            if len(sub) <= INLINE:
                out.rows.append((lo, hi, sub))
            else:
                out.ranges.append(Range(lo, hi, len(sub), fingerprint(sub)))
    return out


@dataclass
class Diff:
    """What the asker learned: what to fetch, what to send."""

    want: dict[bytes, int] = field(default_factory=dict)  # author -> our seq (fetch after it)
    target: dict[bytes, int] = field(default_factory=dict)  # author -> the peer's seq
    give: dict[bytes, int] = field(default_factory=dict)  # author -> the peer's seq (send after)
    proofs_want: set[bytes] = field(default_factory=set)  # forks the peer knows of and we don't
    proofs_give: set[bytes] = field(default_factory=set)
    next_ranges: list[Range] = field(default_factory=list)
    tips_want: dict[bytes, int] = field(default_factory=dict)  # blocked feed -> fetch after seq

    def leave_out(self, blocked: Container[bytes]) -> None:
        """Feeds of members this node blocked: never fetched whole, never sent. Only
        the furthest entry of one the peer is ahead on is asked for: refused on arrival,
        it tells how far that feed goes (``Store.summary``), so the two nodes settle."""
        for author in [a for a in self.want if a in blocked]:
            del self.want[author]
            self.tips_want[author] = self.target.pop(author) - 1
        for author in [a for a in self.give if a in blocked]:
            del self.give[author]
        self.proofs_give = {a for a in self.proofs_give if a not in blocked}

    def merge_rows(
        self, mine: Sequence[FeedState], lo: int, hi: int, rows: Sequence[FeedState],
        keys: Sequence[bytes] | None = None,
    ) -> None:  # fmt: skip
        ours = {f.author: f for f in in_range(mine, lo, hi, keys)}
        theirs = {f.author: f for f in rows}
        for author, t in theirs.items():
            o = ours.get(author)
            seq = 0 if o is None else o.seq
            if t.seq > seq:
                self.want[author] = seq
                self.target[author] = t.seq
            elif o is not None and o.seq > t.seq:
                self.give[author] = t.seq
            elif o is not None and o.head != t.head:
                # same length, different heads: a fork; each side needs the other's proof
                self.proofs_want.add(author)
                self.proofs_give.add(author)
            if t.forked and (o is None or not o.forked):
                self.proofs_want.add(author)
            if o is not None and o.forked and not t.forked:
                self.proofs_give.add(author)
        for author, o in ours.items():
            if author not in theirs:
                self.give[author] = 0
                if o.forked:
                    self.proofs_give.add(author)

    def merge_answer(self, mine: Sequence[FeedState], ans: Answer) -> None:
        self.next_ranges = []
        keys = keys_of(mine)
        for lo, hi, rows in ans.rows:
            self.merge_rows(mine, lo, hi, rows, keys)
        for r in ans.ranges:
            own = summarise(mine, r.lo, r.hi, keys)
            if own.count != r.count or own.fp != r.fp:
                self.next_ranges.append(own)
