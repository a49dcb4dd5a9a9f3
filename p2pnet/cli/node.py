"""Running a node: ``run``, ``status``, ``demo``."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from .. import directory, ids, peers
from ..config import split_hostport
from ..entries import now_ms
from ..errors import ConfigError
from ..identity import Identity
from ..store import Store
from .app import App, pass_app
from .output import (
    EXIT_NODE,
    EXIT_USAGE,
    CliError,
    ago,
    emit_json,
    fields,
    json_option,
    member_counts,
    note,
)

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(message)s"
LOG_DATE = "%Y-%m-%d %H:%M:%S"


def setup_logging(verbose: int, *, quiet_default: bool = False) -> None:
    """Log lines an operator can read: time, level, message, on stderr."""
    level = (
        logging.DEBUG
        if verbose > 1
        else logging.INFO
        if verbose or not quiet_default
        else logging.WARNING
    )
    logging.basicConfig(level=level, format=LOG_FORMAT, datefmt=LOG_DATE)
    logging.getLogger("aiohttp").setLevel(logging.WARNING if verbose < 2 else logging.DEBUG)


@click.command()
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="Peer endpoint: other nodes connect here. Default from config.toml, else "
    "0.0.0.0:7700 (all interfaces). Port 0 picks a free port.",
)
@click.option(
    "--api",
    metavar="HOST:PORT",
    help="Local JSON API and website. Defaults to 127.0.0.1:7701, which means only "
    "connections from this machine are allowed.",
)
@click.option(
    "--public-url",
    metavar="URL",
    help="The URL other nodes use to reach --listen (behind NAT or a proxy).",
)
@click.option(
    "--peer",
    "peer_urls",
    metavar="URL",
    multiple=True,
    help="Add a peer to sync with, e.g. http://203.0.113.5:7700 (repeatable; remembered).",
)
@click.option(
    "--gossip-interval",
    type=click.FloatRange(0.05, 3600),
    metavar="SECONDS",
    help="Seconds between gossip rounds (default from config.toml, 5).",
)
@click.option("-v", "--verbose", count=True, help="More log lines (-vv: debug).")
@pass_app
def run(
    app: App,
    listen: str | None,
    api: str | None,
    public_url: str | None,
    peer_urls: tuple[str, ...],
    gossip_interval: float | None,
    verbose: int,
) -> None:
    """Run the node until Ctrl-C (SIGINT) or SIGTERM.

    Serves the peer endpoint (/p2p/v1) on --listen and the API (/api/v1) and
    website (/) on --api, gossips with peers, and prints the bound URLs. The
    flags override config.toml for this run.
    """
    from ..node.server import Node, run_until_signalled

    who = app.identity()
    running = app.runtime()
    if running is not None:
        raise CliError(
            f"a node is already running from {app.home.path} (pid {running.get('pid')}, "
            f"API {running.get('api_url')})",
            EXIT_NODE,
        )
    config = app.config()
    changes: dict[str, Any] = {}
    for flag, name, value in (("--listen", "listen", listen), ("--api", "api", api)):
        if value:
            try:
                split_hostport(value, flag)
            except ConfigError as exc:
                raise CliError(str(exc), EXIT_USAGE) from None
            changes[name] = value
    if public_url is not None:
        from .setup import _public_url

        changes["public_url"] = _public_url(public_url)
    if gossip_interval is not None:
        changes["gossip_interval"] = gossip_interval
    config = dataclasses.replace(config, **changes)
    s = app.store()
    for url in peer_urls:
        try:
            peers.add(s, url, now=now_ms())
        except ConfigError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
    network = s.network
    setup_logging(verbose)
    app.close()
    node = Node(app.home, config, who)

    async def serve() -> None:
        async def hint() -> None:  # once the node is up, so a failed start stays one line
            # Node offers no "started" event; run_until_signalled starts it, so poll briefly.
            while not node.api_url:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            log = logging.getLogger("p2pnet.cli")
            if network is None:
                log.info("this node is in no network yet: join one with `%s join TOKEN`", app.prog)
            else:
                log.info("member %s in network %s", who.member_id, ids.network(network))
                if config.public_url and node.ctx is not None:
                    url = config.public_url
                    # A store restored from an older backup may lack this member's latest
                    # entries: writing before the first sync with a known peer would fork
                    # the feed. Wait for one (a node with no peers has nothing to wait for).
                    ctx = node.ctx
                    known = await ctx.store.call(lambda s: len(peers.all_peers(s)))
                    while known and ctx.gossiper is not None and not ctx.gossiper.stats.last_sync_ts:
                        await asyncio.sleep(0.5)
                    try:
                        if await node.ctx.store.call(lambda s: _publish_endpoint(s, who, url)):
                            node.ctx.local_write()
                    except Exception as exc:  # the node runs on; the admin can publish by hand
                        log.warning("could not publish %s in the profile: %s", url, exc)

        task = asyncio.create_task(hint())
        try:
            await run_until_signalled(node)
        finally:
            task.cancel()

    asyncio.run(serve())


def _publish_endpoint(s: Store, who: Identity, url: str) -> bool:
    """Put the public URL in this member's profile, so other nodes find this one."""
    from .write import current_profile

    profile = current_profile(s, who.public)
    url = url.rstrip("/")
    if not profile or url in profile.get("endpoints", []):
        return False
    profile["endpoints"] = [*profile.get("endpoints", []), url][-8:]
    s.append(who, "profile", profile)
    logging.getLogger("p2pnet.cli").info("published %s in this member's profile", url)
    return True


def _node_status(api_url: str) -> dict[str, Any] | str:
    """The running node's /api/v1/status, or why it could not be read."""
    try:
        with urllib.request.urlopen(api_url + "/api/v1/status", timeout=5) as resp:
            return dict(json.loads(resp.read()))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"{exc.__class__.__name__}: {exc}"


@click.command()
@json_option
@pass_app
def status(app: App, as_json: bool) -> None:
    """Show whether the node runs, its network, peers and last sync.

    Also how many known peers hold this member's latest entry, so you know
    your updates are safe elsewhere.
    """
    who = app.identity()
    s = app.store()
    info = app.runtime()
    now = now_ms()
    own = s.feed(who.public)
    own_seq = 0 if own is None else own.seq
    book = peers.all_peers(s)
    live: dict[str, Any] | str | None = _node_status(str(info["api_url"])) if info else None
    out: dict[str, Any] = {
        "home": str(app.home.path),
        "member": app.member_id(),
        "key": who.member_id,
        "name": None,
        "running": info is not None,
        "pid": info.get("pid") if info else None,
        "peer_url": info.get("peer_url") if info else None,
        "api_url": info.get("api_url") if info else None,
        "website": (str(info["api_url"]) + "/") if info else None,
        "network": ids.network(s.network) if s.network else None,
        "network_name": None,
        "members": None,
        "entries": s.count(),
        "own_seq": own_seq,
        "peers": len(book),
        "peers_reachable": sum(1 for p in book if p.last_ok_ts and p.failures == 0),
        "last_sync_ts": max((p.last_ok_ts or 0 for p in book), default=0) or None,
        "peers_with_latest": sum(1 for p in book if own_seq and p.has_my_seq >= own_seq),
        "api_error": live if isinstance(live, str) else None,
    }
    if isinstance(live, dict):
        out["peers_with_latest"] = live.get("peers_with_latest", out["peers_with_latest"])
        gossip = live.get("gossip") or {}
        if gossip.get("last_sync_ts"):
            out["last_sync_ts"] = max(out["last_sync_ts"] or 0, gossip["last_sync_ts"])
        out["gossip"] = gossip or None
    if s.network is not None:
        summary = directory.network_summary(s.conn)
        charter = summary.get("charter") or {}
        out["network_name"] = charter.get("name")
        out["members"] = {
            k: summary[k] for k in ("members", "admitted", "pending", "left", "forked")
        }
        row = s.conn.execute(
            "SELECT name_th, name_en FROM members WHERE id = ?", (out["member"],)
        ).fetchone()
        if row:
            out["name"] = row[0] or row[1] or None
    if as_json:
        emit_json(out)
        return
    if info:
        node_line = (
            f"running (pid {out['pid']}): peers on {out['peer_url']}, website {out['website']}"
        )
        if out["api_error"]:
            node_line += f" — its API did not answer: {out['api_error']}"
    else:
        node_line = f"not running (start it with `{app.prog} run`)"
    m = out["members"]
    held = f"held by {out['peers_with_latest']} of {out['peers']} known peers"
    latest = f"entry {own_seq} is {held}" if own_seq else "no entries yet"
    fields(
        [
            ("node", node_line),
            ("member", out["member"] + (f" ({out['name']})" if out["name"] else "")
             + (f", signing with its key {who.member_id}" if out["key"] != out["member"] else "")),
            (
                "network",
                f"{out['network_name']} ({out['network']})"
                if out["network"]
                else f"none yet: `{app.prog} network create` or `{app.prog} join TOKEN`",
            ),
            ("members", member_counts(m) if m else None),
            ("entries", f"{out['entries']} (my feed: {own_seq})"),
            ("peers", f"{out['peers']} known, {out['peers_reachable']} reachable"),
            ("last sync", ago(out["last_sync_ts"], now)),
            ("my latest", latest),
        ]
    )
    if own_seq and out["peers"] and not out["peers_with_latest"]:
        note("no peer holds your latest entry yet: keep the node running until it syncs")


@click.command()
@click.option(
    "--nodes",
    type=click.IntRange(2, 10),
    default=5,
    show_default=True,
    help="How many nodes to start (one per sample member organisation).",
)
@click.option(
    "--dir",
    "directory_",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the nodes' homes in this folder (reused if it holds an earlier demo) "
    "instead of a temporary one.",
)
@click.option("--keep", is_flag=True, help="Do not delete the temporary homes on exit.")
@click.option(
    "--gossip-interval",
    type=click.FloatRange(0.05, 60),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds between gossip rounds.",
)
@click.option("-v", "--verbose", count=True, help="Show the nodes' log lines.")
def demo(
    nodes: int, directory_: Path | None, keep: bool, gossip_interval: float, verbose: int
) -> None:
    """Start a small live network on this machine until Ctrl-C.

    Builds the sample Thai community network (an elderly club, a
    health-promoting school, a sub-district hospital, ...), runs one node per
    member on loopback ports, links each to one other so you can watch gossip
    spread the log, and prints each node's API and website URLs. --home is not
    used: each node has its own home.
    """
    from .. import demo as demo_mod

    setup_logging(verbose, quiet_default=True)
    asyncio.run(
        demo_mod.main(nodes=nodes, directory=directory_, keep=keep, interval=gossip_interval)
    )


COMMANDS = [run, status, demo]
