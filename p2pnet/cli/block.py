"""Moderation without a centre: ``block``, ``unblock`` and ``blocks``.

Each node keeps its own block list: members whose entries it neither stores
nor relays, hidden from its directory. The list stays on this node; only
``--publish`` makes a block public, as a signed entry every node shows on the
blocked member's page. The commands write the node's SQLite file, so they work
whether or not the node runs: a running node reads the list at every batch of
entries it receives.
"""

from __future__ import annotations

import click

from .. import i18n, ids, moderation
from ..errors import MemberNotFoundError
from ..store import BlockResult, Store
from .app import App, pass_app
from .output import EXIT_REFUSED, CliError, emit_json, json_option, note, table, when


def _say(key: str, **values: object) -> None:
    """One message in English, then in Thai."""
    for lang in ("en", "th"):
        click.echo(i18n.gettext(lang, key, **values))


def _name(s: Store, mid: str) -> str:
    row = (
        s.conn.execute(
            "SELECT coalesce(nullif(name_th, ''), nullif(name_en, '')) FROM members WHERE id = ?",
            (mid,),
        ).fetchone()
        or s.conn.execute("SELECT nullif(name, '') FROM blocks WHERE member = ?", (mid,)).fetchone()
    )
    return (row and row[0]) or mid[:16] + "…"


def _sent(app: App, result: BlockResult, key: str) -> None:
    if result.published is None:
        return
    _say(key, entry=ids.entry(result.published.id))
    if app.runtime() is not None:
        note("the running node sends it to its peers within a second")
    else:
        note(f"the node is not running: it will be sent when you start it (`{app.prog} run`)")


@click.command()
@click.argument("member")
@click.option("--reason", default="", help="Why: kept on this node, and published with --publish.")
@click.option(
    "--publish",
    is_flag=True,
    help="Also write a signed, public block entry: every node then shows it on MEMBER's page.",
)
@click.option(
    "--purge",
    is_flag=True,
    help="Also delete MEMBER's entries (and fork proofs) from this node's log.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def block(app: App, member: str, reason: str, publish: bool, purge: bool, yes: bool) -> None:
    """Block MEMBER (id, id prefix or name): this node no longer stores, relays or shows its entries.

    Its entries already held are hidden from every listing, search and page of
    this node (other nodes still show them). The block list is private to this
    node unless you --publish it. Blocking a member again can add --purge or
    --publish. `p2pnet unblock MEMBER` undoes a block; `p2pnet blocks` lists them.
    """
    s = app.network_store()
    who = app.identity()
    try:
        mid = moderation.resolve(s.conn, member)
    except MemberNotFoundError as exc:
        if member.strip().lower() == "list":
            raise MemberNotFoundError(
                f"{exc}; to see the block list use `{app.prog} blocks`"
            ) from None
        raise
    if mid == who.member_id:
        raise CliError("a node cannot block its own member", EXIT_REFUSED)
    name = _name(s, mid)
    if not yes:
        also = "".join(
            part for part, wanted in ((", delete its entries from this node's log", purge),
                                      (", and publish the block to the network", publish)) if wanted
        )  # fmt: skip
        click.confirm(f"block {name} ({mid[:16]}…){also}?", abort=True, err=True)
    result = s.block(mid, who, reason=reason, publish=publish, purge=purge)
    if not result.changed:
        _say("block.already", name=name)
        return
    _say("block.done", name=name)
    if result.purged:
        _say("block.purged", n=result.purged)
    if result.published is None and not publish:
        note(i18n.gettext("en", "block.private"))
    _sent(app, result, "block.published")


@click.command()
@click.argument("member")
@pass_app
def unblock(app: App, member: str) -> None:
    """Unblock MEMBER (id, id prefix, or the name it had when blocked).

    Its entries still held are shown again; purged ones come back from peers by
    gossip. A published block is withdrawn with a signed unblock entry.
    """
    s = app.network_store()
    mid = moderation.resolve_blocked(s.conn, member)
    name = _name(s, mid)
    result = s.unblock(mid, app.identity())
    _say("unblock.done", name=name)
    _sent(app, result, "unblock.published")


@click.command()
@json_option
@pass_app
def blocks(app: App, as_json: bool) -> None:
    """This node's block list, private to this node: who, why, since when, whether the
    block was published, entries purged and entries still held (hidden)."""
    rows = app.network_store().blocks()
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no member is blocked on this node (ไม่มีสมาชิกที่ถูกบล็อก)")
        return
    table(
        ["name", "id", "reason", "since", "published", "purged", "held"],
        [(b["name"], b["member"][:16] + "…", b["reason"], when(b["ts"]), "yes" if b["published"] else "no",
          b["purged"], b["held"]) for b in rows],
    )  # fmt: skip


COMMANDS = [block, unblock, blocks]
