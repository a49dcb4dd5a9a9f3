"""Idle cost: two nodes already in sync, N members; bytes on the wire per gossip round.

    python bench/insync.py [--members 1000] [--rounds 20] [--block [--purge]]

Bytes are counted by a TCP proxy between the nodes: request and response,
HTTP headers and signatures included. Also prints the size of a full
per-member digest (author + seq + head per feed) for comparison.

``--block``: node A has blocked one member whose feed both nodes hold
(``--purge``: and deleted its entries); the rounds are measured both ways,
B asking A and A asking B, after the blocked member wrote one more entry
that B holds and A refuses.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CountingProxy, generate  # noqa: E402

from p2pnet import entries  # noqa: E402
from p2pnet import identity as idmod  # noqa: E402
from p2pnet.config import Home, NodeConfig, split_hostport  # noqa: E402
from p2pnet.identity import Identity  # noqa: E402
from p2pnet.node.server import Node  # noqa: E402
from p2pnet.store import Store  # noqa: E402

CONFIG = NodeConfig(listen="127.0.0.1:0", api="127.0.0.1:0", gossip_interval=3600, fanout=1)


def home_with(root: Path, name: str, network: bytes, raws: list[bytes]) -> tuple[Home, Identity]:
    home = Home(root / name)
    home.create_dirs()
    who = Identity.generate()
    idmod.save(who, home.key_file)
    home.write_admin_token()
    with Store(home.db_file) as s:
        s.set_network(network)
        s.ingest(raws, verify=lambda b: [True] * len(b))
    return home, who


async def rounds_between(asker: Node, answerer: Node, rounds: int) -> list[int]:
    """Bytes on the wire of each of ``rounds`` syncs of ``asker`` with ``answerer``."""
    host, port = split_hostport(answerer.peer_url.removeprefix("http://"))
    proxy = CountingProxy(host, port)
    url = await proxy.start()
    g = asker.ctx.gossiper
    await g.sync_with(url)  # the first exchange also asks /info (and, after a block, settles)
    print(f"  first exchange (/info, and settling): {proxy.up + proxy.down} bytes")
    per_round = []
    for _ in range(rounds):
        before = proxy.up + proxy.down
        result = await g.sync_with(url)
        assert result is not None and result.received == 0 and result.sent == 0
        per_round.append(proxy.up + proxy.down - before)
    await proxy.stop()
    return per_round


async def run(members: int, rounds: int, block: bool, purge: bool) -> None:
    network, made = generate(members * 2, members)
    raws = [e.raw for e in made]
    with tempfile.TemporaryDirectory() as tmp:
        ha, wa = home_with(Path(tmp), "a", network, raws)
        hb, wb = home_with(Path(tmp), "b", network, raws)
        if block:  # A blocks a member both hold; it writes once more, which only B takes
            x = Identity.generate()
            first = entries.create(x, network=network, seq=1, prev=None, kind="profile",
                                   body={"name_en": "blocked"})  # fmt: skip
            more = entries.create(x, network=network, seq=2, prev=first.id, kind="leave", body={})
            with Store(ha.db_file) as s:
                s.ingest([first.raw])
                t0 = time.perf_counter()
                r = s.block(x.member_id, wa, purge=purge)
                took = time.perf_counter() - t0
            with Store(hb.db_file) as s:
                s.ingest([first.raw, more.raw])
            print(
                f"A blocked one member{' and purged its entries' if purge else ''}: "
                f"{r.reindexed:,} entries replayed into the directory in {took:.2f} s"
            )
        a = Node(ha, CONFIG, wa)
        b = Node(hb, dataclasses.replace(CONFIG), wb)
        await a.start()
        await b.start()
        try:
            directions = ([("A asks B", a, b)] if block else []) + [("B asks A", b, a)]
            feeds = len(await b.ctx.feeds())
            digest = feeds * (32 + 8 + 32)
            print(f"two nodes in sync, {feeds:,} feeds ({members:,} members)")
            for label, asker, answerer in directions:
                per_round = await rounds_between(asker, answerer, rounds)
                mean = sum(per_round) / len(per_round)
                print(f"{label}: bytes per round (request + response, headers included): "
                      f"mean {mean:.0f}, max {max(per_round)}, last {per_round[-1]} (target < 1024)")  # fmt: skip
                print(f"a full per-member digest would be {digest:,} bytes; ratio {mean / digest:.4f} "
                      f"(target < 0.1)")  # fmt: skip
        finally:
            await a.stop()
            await b.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--block", action="store_true", help="node A has blocked a member B holds")
    ap.add_argument("--purge", action="store_true", help="with --block: A also purged its entries")
    args = ap.parse_args()
    asyncio.run(run(args.members, args.rounds, args.block, args.purge))


if __name__ == "__main__":
    main()
