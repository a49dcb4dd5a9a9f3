"""Helpers that start real nodes on loopback, each with its own home and SQLite file."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from pathlib import Path

from p2pnet import identity as idmod
from p2pnet.config import Home, NodeConfig
from p2pnet.identity import Identity
from p2pnet.node.server import Node
from p2pnet.store import Store

FAST = NodeConfig(
    listen="127.0.0.1:0",
    api="127.0.0.1:0",
    gossip_interval=0.2,
    fanout=2,
    verify_workers=1,
)


def make_home(root: Path, name: str, *, who: Identity | None = None, network: bytes | None = None,
              charter: dict | None = None) -> tuple[Home, Identity]:  # fmt: skip
    home = Home(root / name)
    home.create_dirs()
    who = who or Identity.generate()
    idmod.save(who, home.key_file)
    home.write_admin_token()
    with Store(home.db_file) as s:
        if charter is not None:
            s.create_network(who, charter)
        elif network is not None:
            s.set_network(network)
        if s.network is not None:
            s.append(who, "profile", {"name_en": name})
    return home, who


async def start(home: Home, who: Identity, config: NodeConfig = FAST, seed: int = 0) -> Node:
    node = Node(home, config, who, rng=random.Random(seed))
    await node.start()
    return node


async def wait_for(predicate: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> None:
    """Poll an (async or sync) predicate until it is true, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


async def summary(node: Node) -> list[tuple[bytes, int, bytes]]:
    assert node.ctx is not None
    feeds = await node.ctx.store.call(lambda s: s.feeds())
    return [(f.author, f.seq, f.head) for f in feeds]


async def has_entry(node: Node, entry_id: bytes) -> bool:
    assert node.ctx is not None
    n = await node.ctx.store.call(
        lambda s: s.conn.execute("SELECT count(*) FROM entries WHERE id=?", (entry_id,)).fetchone()[0]
    )
    return bool(n)


async def add_peer(node: Node, other: Node) -> None:
    from p2pnet import peers
    from p2pnet.entries import now_ms

    assert node.ctx is not None
    await node.ctx.store.call(lambda s: peers.add(s, other.peer_url, now=now_ms()))


async def append(node: Node, kind: str, body: dict) -> bytes:
    assert node.ctx is not None
    e = await node.ctx.store.call(lambda s: s.append(node.identity, kind, body))
    return e.id
