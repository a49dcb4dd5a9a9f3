"""Bringing members in: ``invite`` and ``join``."""

from __future__ import annotations

import asyncio
import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

import click

from .. import ids, invites, peers
from ..entries import now_ms
from ..errors import PeerMisbehavedError, PeerUnreachableError, TokenError
from .app import App, pass_app
from .output import EXIT_NODE, EXIT_REFUSED, EXIT_USAGE, CliError, console, note, when

_UNITS_MS = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "min": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 7 * 86_400_000,
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d|w)?\s*$", re.IGNORECASE)
MAX_TTL_MS = 366 * 86_400_000


def parse_duration(text: str, flag: str = "--expires") -> int:
    """``"7d"`` -> milliseconds. Units: ms, s, m (or min), h, d, w; a bare number is days."""
    m = _DURATION.match(text)
    if not m:
        raise CliError(
            f"{flag} {text!r} is not a duration such as 30m, 12h, 7d or 2w", EXIT_USAGE
        )
    ms = int(float(m.group(1)) * _UNITS_MS[(m.group(2) or "d").lower()])
    if not 0 < ms <= MAX_TTL_MS:
        raise CliError(f"{flag} {text!r} must be more than 0 and at most a year", EXIT_USAGE)
    return ms


@click.command()
@click.option(
    "--expires",
    default="7d",
    show_default=True,
    metavar="DURATION",
    help="How long the token stays valid: 30m, 12h, 7d, 2w ...",
)
@click.option(
    "--uses",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="How many organisations may join with it.",
)
@pass_app
def invite(app: App, expires: str, uses: int) -> None:
    """Print a signed, expiring invite token for a newcomer.

    The token carries the network id, your member id, your node's public URL
    (config public_url, else the running node's peer URL), its expiry and a
    one-time secret. The newcomer runs `p2pnet join TOKEN` while your node
    runs; your node then endorses them. Only the token goes to stdout.
    """
    ttl = parse_duration(expires)
    s = app.network_store()
    who = app.identity()
    endpoints = app.my_endpoints()
    if not endpoints:
        raise CliError(
            "an invite needs this node's public URL: start the node (`"
            f"{app.prog} run`) or set one (`{app.prog} config set public_url http://HOST:PORT`)",
            EXIT_NODE,
        )
    assert s.network is not None
    inv, token = invites.create(who, s.network, endpoints[0], ttl_ms=ttl, uses=uses)
    with s.write():
        s.conn.execute(
            "INSERT INTO invites(secret_hash, expires_ts, uses_left, created_ts) VALUES (?,?,?,?)",
            (inv.secret_hash, inv.expires, inv.uses, now_ms()),
        )
    click.echo(token)
    note(
        f"valid until {when(inv.expires)} for {uses} use(s); "
        f"the newcomer joins through {inv.endpoint}"
    )
    if app.runtime() is None:
        note(f"start your node before they join: {app.prog} run")
    if _is_loopback(inv.endpoint):
        note(
            f"{inv.endpoint} only works from this machine: for an organisation elsewhere, "
            f"`{app.prog} config set public_url http://YOUR-ADDRESS:PORT` first"
        )


@click.command()
@click.argument("token")
@pass_app
def join(app: App, token: str) -> None:
    """Join a network with an invite TOKEN from one of its members.

    Checks the token, downloads the network from the inviter's node, publishes
    your profile (the name given to `init`, and your node's URL) and spends the
    token; the inviter's node endorses you. Run `init` first. Your own node
    may already be running or be started afterwards.
    """
    from ..node.runner import StoreRunner
    from ..sync.join import join as do_join

    who = app.identity()
    s = app.store()
    inv = invites.parse(token)
    if s.network is not None and s.network != inv.network:
        raise TokenError(
            f"the invite is for network {ids.network(inv.network)} but this node is already in "
            f"{ids.network(s.network)}; use another --home to join a second network"
        )
    profile: dict[str, Any] = app.draft_profile()
    if not profile:
        raise CliError(f"this home has no name to publish: run `{app.prog} init --name NAME` first")
    endpoints = app.my_endpoints()
    if endpoints:
        profile["endpoints"] = endpoints
    was_bound = s.network is not None
    workers = app.config().verify_workers
    app.close()

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    async def go() -> Any:
        db = StoreRunner(app.home.db_file)
        await db.open()
        try:
            with Progress(
                SpinnerColumn(),
                TextColumn("downloading the network: {task.completed} entries"),
                TimeElapsedColumn(),
                console=console(stderr=True),
                transient=True,
            ) as bar:
                task = bar.add_task("join", total=None)
                return await do_join(
                    db,
                    who,
                    token,
                    profile,
                    progress=lambda n: bar.advance(task, n),
                    verify_workers=workers,
                )
        finally:
            await db.close()

    try:
        result = asyncio.run(go())
    except (PeerUnreachableError, PeerMisbehavedError) as exc:
        if not was_bound:
            _unbind(app, inv.network, inv.endpoint)
        if isinstance(exc, PeerUnreachableError):
            raise CliError(
                f"cannot reach the inviter's node at {inv.endpoint}: is it running? ({exc})",
                EXIT_NODE,
            ) from None
        if getattr(exc, "status", None) == 403:
            raise CliError(
                f"invite refused by the inviter's node: {_detail(exc)}",
                EXIT_REFUSED,
                thai="บัตรเชิญใช้ไม่ได้",
            ) from None
        raise
    except TokenError:
        if not was_bound:
            _unbind(app, inv.network, inv.endpoint)
        raise
    s = app.store()
    charter = s.charter() or {}
    click.echo(f"network {ids.network(result.network)}")
    note(
        f"joined «{charter.get('name', '?')}» through {result.inviter[:16]}…: "
        f"{result.entries} entries"
    )
    note(
        "the inviter endorsed you"
        if result.endorsed
        else "no endorsement came back from the inviter"
    )
    if app.runtime() is None:
        note(f"now run your node: {app.prog} run")
    if not endpoints:
        note(
            "your profile carries no address for your node, so only you can reach others: "
            f"if they can reach you, `{app.prog} config set public_url http://HOST:PORT` "
            "(published when the node starts)"
        )


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _detail(exc: Exception) -> str:
    """The peer's own words from '<url> refused the request (403): why (code)'."""
    text = str(exc)
    return text.split("): ", 1)[1] if "): " in text else text


def _unbind(app: App, network: bytes, endpoint: str) -> None:
    """Undo a failed first join that stored nothing, so another invite can be tried."""
    s = app.store()
    if s.network == network and s.count() == 0:
        with s.write():
            s.conn.execute("DELETE FROM meta WHERE key = 'network'")
            s.conn.execute(
                "DELETE FROM peers WHERE url = ? AND source = 'invite'",
                (peers.normalise_url(endpoint),),
            )
    app.close()


COMMANDS = [invite, join]
