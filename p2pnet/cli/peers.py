"""The peer book: ``peers add/list/remove``."""

from __future__ import annotations

import click

from .. import peers as peerbook
from ..entries import now_ms
from ..errors import ConfigError
from .app import App, pass_app
from .output import EXIT_NOT_FOUND, EXIT_USAGE, CliError, emit_json, json_option, note, table, when


def _names(app: App) -> dict[str, str]:
    rows = app.store().conn.execute("SELECT id, name_th, name_en FROM members").fetchall()
    return {mid: th or en for mid, th, en in rows}


@click.group()
def peers() -> None:
    """Nodes this node syncs with (besides those members publish in their profiles)."""


@peers.command("add")
@click.argument("url")
@pass_app
def peers_add(app: App, url: str) -> None:
    """Add a peer by its URL, e.g. http://203.0.113.5:7700."""
    s = app.store()
    try:
        url = peerbook.add(s, url, now=now_ms())
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    click.echo(f"added {url}")
    if app.runtime() is not None:
        note("the running node syncs with it in its next gossip round")


@peers.command("remove")
@click.argument("url")
@pass_app
def peers_remove(app: App, url: str) -> None:
    """Forget a peer. (One that a member's profile lists may be found again.)"""
    s = app.store()
    try:
        removed = peerbook.remove(s, url)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if not removed:
        raise CliError(f"no peer {url} (see `{app.prog} peers list`)", EXIT_NOT_FOUND)
    click.echo(f"removed {url}")


@peers.command("list")
@json_option
@pass_app
def peers_list(app: App, as_json: bool) -> None:
    """List known peers: where they came from, when they last answered, how much they hold of
    this member's feed."""
    rows = peerbook.all_peers(app.store())
    if as_json:
        emit_json([p.as_dict() for p in rows])
        return
    if not rows:
        click.echo(f"no peers yet: `{app.prog} peers add URL`, or join a network")
        return
    names = _names(app)
    table(
        ["url", "member", "source", "last ok", "failures", "last error", "has my entry"],
        [
            (
                p.url,
                names.get(p.member or "", "") or (p.member or "")[:14],
                p.source,
                when(p.last_ok_ts),
                p.failures or "",
                (p.last_error or "")[:60],
                p.has_my_seq or "",
            )
            for p in rows
        ],
    )


COMMANDS = [peers]
