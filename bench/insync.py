"""Idle cost: two nodes already in sync, N members; bytes on the wire per gossip round.

    python bench/insync.py [--members 1000] [--rounds 20]

Bytes are counted by a TCP proxy between the nodes: request and response,
HTTP headers and signatures included. Also prints the size of a full
per-member digest (author + seq + head per feed) for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CountingProxy, generate  # noqa: E402

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


async def run(members: int, rounds: int) -> None:
    network, made = generate(members * 2, members)
    raws = [e.raw for e in made]
    with tempfile.TemporaryDirectory() as tmp:
        ha, wa = home_with(Path(tmp), "a", network, raws)
        hb, wb = home_with(Path(tmp), "b", network, raws)
        a = Node(ha, CONFIG, wa)
        b = Node(hb, dataclasses.replace(CONFIG), wb)
        await a.start()
        await b.start()
        try:
            host, port = split_hostport(a.peer_url.removeprefix("http://"))
            proxy = CountingProxy(host, port)
            url = await proxy.start()
            g = b.ctx.gossiper
            await g.sync_with(url)  # the first exchange also asks /info
            per_round = []
            for _ in range(rounds):
                before = proxy.up + proxy.down
                result = await g.sync_with(url)
                assert result is not None and result.received == 0 and result.sent == 0
                per_round.append(proxy.up + proxy.down - before)
            feeds = len(await b.ctx.feeds())
            digest = feeds * (32 + 8 + 32)
            mean = sum(per_round) / len(per_round)
            print(f"two nodes in sync, {feeds:,} feeds ({members:,} members)")
            print(f"bytes per round (request + response, headers included): mean {mean:.0f}, "
                  f"max {max(per_round)} (target < 1024)")  # fmt: skip
            print(f"a full per-member digest would be {digest:,} bytes; ratio {mean / digest:.4f} "
                  f"(target < 0.1)")  # fmt: skip
            await proxy.stop()
        finally:
            await a.stop()
            await b.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    asyncio.run(run(args.members, args.rounds))


if __name__ == "__main__":
    main()
