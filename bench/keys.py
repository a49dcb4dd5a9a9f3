"""What key changes cost: ingest with hand-overs in the log, and a forced re-derivation.

    python bench/keys.py [--entries 50000] [--members 500] [--rotated 0.02]

A fraction of the members hand their feed over to a new key, which then
writes a few entries. The log is ingested in batches with feeds in random
order (as a catch-up would), once without and once with the hand-overs, and
prints entries/s beside the raw single-core verify rate of the same run. Then
it measures the worst case: a hand-over arriving *after* the new key's
entries, which makes the store replay the whole log into fresh derived tables
(``Store._rederive``); printed as seconds and as entries replayed per second.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import generate, raw_verify_rates  # noqa: E402

from p2pnet import entries, keychain  # noqa: E402
from p2pnet.entries import Entry  # noqa: E402
from p2pnet.identity import Identity  # noqa: E402
from p2pnet.store import Store  # noqa: E402


def with_rotations(network: bytes, made: list[Entry], fraction: float, seed: int = 2) -> list[Entry]:
    """``made`` plus a hand-over for ``fraction`` of the feeds and three entries per new key."""
    rng = random.Random(seed)
    heads: dict[bytes, Entry] = {}
    for e in made:
        heads[e.author] = e
    authors = sorted(a for a in heads if heads[a].kind != "network")
    movers = rng.sample(authors, max(1, int(len(authors) * fraction)))
    out = list(made)
    ts = made[-1].ts + 1
    from common import TITLES  # noqa: PLC0415

    for author in movers:
        head = heads[author]
        old = _identity_of(author)
        new = Identity.from_seed(rng.randbytes(32))
        out.append(entries.create(old, network=network, seq=head.seq + 1, prev=head.id, kind="rotate",
                                  body=keychain.rotation_body(network, old, new), ts=ts))  # fmt: skip
        prev = None
        for seq in (1, 2, 3):
            e = entries.create(new, network=network, seq=seq, prev=prev, kind="activity", ts=ts + seq,
                               body={"title": rng.choice(TITLES).format(i=seq), "kind": "meeting",
                                     "date": "2026-08-01"})  # fmt: skip
            out.append(e)
            prev = e.id
    return out


_SEEDS: dict[bytes, Identity] = {}


def _identity_of(author: bytes) -> Identity:
    return _SEEDS[author]


def _remember_identities(members: int) -> None:
    """``common.generate`` derives its keys from one seeded RNG: derive them again here."""
    rng = random.Random(1)
    for _ in range(members):
        who = Identity.from_seed(rng.randbytes(32))
        _SEEDS[who.public] = who


def catch_up_order(made: list[Entry], rng: random.Random) -> list[bytes]:
    """Feeds whole, in random author order (what range reconciliation streams)."""
    feeds: dict[bytes, list[Entry]] = {}
    for e in made:
        feeds.setdefault(e.author, []).append(e)
    order = sorted(feeds)
    rng.shuffle(order)
    genesis = [e.raw for e in made if e.kind == "network"]
    return genesis + [e.raw for a in order for e in sorted(feeds[a], key=lambda e: e.seq)
                      if e.kind != "network"]  # fmt: skip


def ingest(raws: list[bytes], network: bytes, batch: int) -> tuple[float, Store, Path]:
    tmp = Path(tempfile.mkdtemp())
    store = Store(tmp / "bench.sqlite3")
    store.set_network(network)
    t0 = time.perf_counter()
    for i in range(0, len(raws), batch):
        report = store.ingest(raws[i : i + batch])
        assert not report.refused, report.refused[:3]
    store.index_pending()
    return time.perf_counter() - t0, store, tmp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=50_000)
    ap.add_argument("--members", type=int, default=500)
    ap.add_argument("--rotated", type=float, default=0.02, help="fraction of members that rotate")
    ap.add_argument("--batch", type=int, default=4000)
    args = ap.parse_args()

    network, made = generate(args.entries, args.members)
    _remember_identities(args.members)
    rotated = with_rotations(network, made, args.rotated)
    moved = (len(rotated) - len(made)) // 4
    rates = raw_verify_rates(made[:2000])
    fastest = max(rates.values())
    print(f"{len(made):,} entries, {args.members:,} members; {moved} members hand over to a new key "
          f"(+{len(rotated) - len(made)} entries)")  # fmt: skip
    print(f"raw single-core verify: {fastest:,.0f}/s")
    rng = random.Random(3)
    for label, log in (("no hand-overs", made), ("with hand-overs", rotated)):
        raws = catch_up_order(log, rng)
        elapsed, store, _ = ingest(raws, network, args.batch)
        rate = len(raws) / elapsed
        keys = store.conn.execute("SELECT count(*) FROM member_keys").fetchone()[0]
        print(f"ingest, {label:16}: {rate:,.0f} entries/s  ratio {rate / fastest:.2f} x raw verify"
              f"  (key chain rows: {keys})")  # fmt: skip
        store.close()

    # the worst case: one hand-over arriving after its new key's entries were folded in
    last = rotated[-4]  # a rotate entry (then its new key's three entries)
    assert last.kind == "rotate"
    raws = [e.raw for e in rotated if e.id != last.id]
    _, store, _ = ingest(raws, network, args.batch)
    t0 = time.perf_counter()
    store.ingest([last.raw])
    replay = time.perf_counter() - t0
    n = store.count()
    print(f"a late hand-over replays the log: {replay:.2f} s for {n:,} entries "
          f"({n / replay:,.0f} entries/s, {n / replay / fastest:.2f} x raw verify)")  # fmt: skip
    store.close()


if __name__ == "__main__":
    main()
