"""``p2pnet demo``: the sample network, live on this machine.

Each node is a real ``Node`` (peer endpoint, API and website on loopback,
ports chosen by the OS) with its own home holding its own member's key, all
in one process:

1. the whole sample log (``p2pnet.sample``) is signed once in memory;
2. the founder's home gets all of it except the feeds of the members that run
   their own node; each of those gets the charter and its own feed only;
3. the nodes start and are linked in a ring, each knowing one other node;
4. each member publishes its node's URL in a profile update, so nodes find
   more peers as the profiles spread;
5. gossip carries everything everywhere; the demo prints each node's entry
   count as it grows and when every node holds the same log.

It runs until SIGINT (Ctrl-C) or SIGTERM, then stops every node and deletes
the temporary homes (unless ``--dir`` or ``--keep``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import entries, sample
from . import identity as idmod
from .config import Home, NodeConfig
from .identity import Identity
from .node.server import Node
from .store import Store

CONVERGE_TIMEOUT = 120.0


@dataclass
class DemoNode:
    member: dict[str, Any]
    home: Home
    identity: Identity
    node: Node | None = None
    counts: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        th, en = self.member.get("name_th", ""), self.member.get("name_en", "")
        return " / ".join(x for x in (th, en) if x)


def prepare(root: Path, n: int, *, interval: float) -> list[DemoNode]:
    """Create (or reuse) the homes of the first ``n`` sample members under ``root``."""
    data = sample.load()
    chosen = data["members"][:n]
    scratch = Store(":memory:")
    try:
        people = sample.seed(scratch, data)
        network = scratch.network
        assert network is not None
        log = list(scratch.iter_raw())
    finally:
        scratch.close()
    authors = [entries.decode(raw).author for raw in log]
    runners = {people[m["key"]].public for m in chosen}
    founder = people[data["members"][0]["key"]].public
    config = NodeConfig(
        listen="127.0.0.1:0",
        api="127.0.0.1:0",
        gossip_interval=interval,
        fanout=2,
        verify_workers=1,
    )
    out = []
    for i, m in enumerate(chosen):
        who = people[m["key"]]
        home = Home(root / f"{i + 1}-{m['key']}")
        out.append(DemoNode(m, home, who))
        if home.exists():
            continue  # an earlier demo in --dir: start it as it was left
        home.create_dirs()
        idmod.save(who, home.key_file)
        home.write_admin_token()
        home.save_config(config)
        if who.public == founder:
            mine = [
                raw for raw, a in zip(log, authors, strict=True) if a not in runners or a == founder
            ]
        else:
            mine = [
                raw
                for raw, a in zip(log, authors, strict=True)
                if a == who.public or raw_is_genesis(raw)
            ]
        with Store(home.db_file) as s:
            s.set_network(network)
            report = s.ingest(mine)
            if report.refused:
                raise RuntimeError(f"the sample log was refused: {report.refused[:3]}")
    return out


def raw_is_genesis(raw: bytes) -> bool:
    return entries.decode(raw).is_genesis


def make_root(directory: Path | None) -> tuple[Path, bool]:
    """The folder for the homes, and whether it is a temporary one."""
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        return directory, False
    return Path(tempfile.mkdtemp(prefix="p2pnet-demo-")), True


async def _feeds(node: Node) -> tuple[int, list[tuple[bytes, int, bytes]]]:
    assert node.ctx is not None
    return await node.ctx.store.call(
        lambda s: (s.count(), [(f.author, f.seq, f.head) for f in s.feeds()])
    )


async def start(nodes: list[DemoNode]) -> None:
    """Start every node, link them in a ring, and publish each node's URL in its profile."""
    from . import peers

    for d in nodes:
        cfg = d.home.load_config()
        d.node = Node(d.home, cfg, d.identity)
        await d.node.start()
    now = entries.now_ms()
    for i, d in enumerate(nodes):
        nxt = nodes[(i + 1) % len(nodes)]
        assert d.node is not None and d.node.ctx is not None and nxt.node is not None
        url = nxt.node.peer_url
        await d.node.ctx.store.call(functools.partial(peers.add, url=url, now=now))
    for d in nodes:
        assert d.node is not None and d.node.ctx is not None
        body = sample.profile_body(d.member, [d.node.peer_url])
        await d.node.ctx.store.call(
            functools.partial(Store.append, who=d.identity, kind="profile", body=body)
        )
        d.node.ctx.local_write()


async def stop(nodes: list[DemoNode]) -> None:
    for d in reversed(nodes):
        if d.node is not None:
            with contextlib.suppress(Exception):
                await d.node.stop()
            d.node = None


async def watch_convergence(
    nodes: list[DemoNode], out: Console, started: float, give_up_after: float = CONVERGE_TIMEOUT
) -> float | None:
    """Print each node's entry count as it changes; return seconds to convergence."""
    last: list[int] = []
    deadline = time.monotonic() + give_up_after
    while time.monotonic() < deadline:
        states = [await _feeds(d.node) for d in nodes if d.node is not None]
        counts = [c for c, _ in states]
        if counts != last:
            out.print(
                f"{time.monotonic() - started:6.1f} s  entries held: "
                + " · ".join(map(str, counts))
            )
            last = counts
        if len(states) == len(nodes) and all(f == states[0][1] for _, f in states):
            return time.monotonic() - started
        await asyncio.sleep(0.25)
    return None


def nodes_table(nodes: list[DemoNode]) -> Table:
    t = Table(
        title="p2pnet demo: one node per member organisation",
        title_justify="left",
        header_style="bold",
    )
    t.add_column("#")
    t.add_column("member", overflow="fold")
    for col in ("peer URL", "API", "website"):
        t.add_column(col, no_wrap=True)  # whole, so they can be copied
    for i, d in enumerate(nodes):
        assert d.node is not None
        api = d.node.api_url
        t.add_row(str(i + 1), Text(d.name), d.node.peer_url, api + "/api/v1", api + "/")
    return t


async def main(
    *,
    nodes: int = 5,
    directory: Path | None = None,
    keep: bool = False,
    interval: float = 1.0,
    console: Console | None = None,
    on_ready: Callable[[list[DemoNode]], None] | None = None,
) -> None:
    """Run the demo until SIGINT or SIGTERM."""
    out = console or _console()
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    root, temporary = await loop.run_in_executor(None, make_root, directory)
    started = time.monotonic()
    demo_nodes: list[DemoNode] = []
    try:
        out.print(
            f"Demo homes in {root}"
            + (" (deleted when you stop the demo)" if temporary and not keep else "")
        )
        demo_nodes = await loop.run_in_executor(
            None, lambda: prepare(root, nodes, interval=interval)
        )
        await start(demo_nodes)
        out.print(nodes_table(demo_nodes))
        out.print("Open a website above, or ask a node from another terminal, e.g.")
        second = demo_nodes[1].home.path
        out.print(f"  p2pnet --home {second} members")
        out.print(f"  p2pnet --home {second} search ผู้สูงอายุ")
        out.print(f'  p2pnet --home {second} activity add "ประชุมเครือข่าย" --kind meeting')
        out.print("Watching gossip spread the log (nodes linked in a ring; Ctrl-C stops the demo)")
        _flush(out)
        if on_ready is not None:
            on_ready(demo_nodes)
        watch = asyncio.create_task(watch_convergence(demo_nodes, out, started))
        stop_wait = asyncio.create_task(stopping.wait())
        done, _ = await asyncio.wait({watch, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        if watch in done:
            seconds = watch.result()
            if seconds is None:
                out.print("the nodes have not converged yet; they keep trying")
            else:
                count, feeds = await _feeds(demo_nodes[0].node)  # type: ignore[arg-type]
                out.print(
                    f"converged after {seconds:.1f} s: all {len(demo_nodes)} nodes hold the same "
                    f"{count} entries from {len(feeds)} members"
                )
            _flush(out)
            await stopping.wait()
        else:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        stop_wait.cancel()
        out.print("stopping the demo …")
    finally:
        await stop(demo_nodes)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if temporary and not keep:
            shutil.rmtree(root, ignore_errors=True)
            out.print(f"stopped; deleted {root}")
        else:
            out.print(f"stopped; the homes stay in {root}")
        _flush(out)


def _console() -> Console:
    import sys

    is_tty = sys.stdout.isatty()
    return Console(markup=False, emoji=False, highlight=False, width=None if is_tty else 200)


def _flush(out: Console) -> None:
    with contextlib.suppress(Exception):
        out.file.flush()


__all__ = ["DemoNode", "main", "prepare"]
