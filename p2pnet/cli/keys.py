"""The key life cycle from the command line: ``key rotate``, ``recover``, ``vouch``, ``history``.

The commands join the ``key`` group of :mod:`p2pnet.cli.setup` (which has
``export`` and ``import``); docs/operations.md "Keys" walks through them.
"""

from __future__ import annotations

from typing import Any

import click

from .. import directory, ids, keychain
from .app import App, pass_app
from .output import EXIT_REFUSED, CliError, emit_json, fields, json_option, note, table, when
from .setup import key


def _name(conn: Any, member: str) -> str:
    return directory.display_names(conn).get(member, member[:16])


@key.command("rotate")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def key_rotate(app: App, yes: bool) -> None:
    """Hand this member's feed over to a new key (เปลี่ยนกุญแจ).

    Use it on a schedule, or when the key may have been seen by someone else but
    is still in your hands. The old key signs a hand-over that the new key
    consents to; every node then credits both keys' entries to the same member,
    and anything the old key signs later counts nowhere. The old key is kept in
    retired-keys/ in the home. Back up the new key afterwards. A running node
    switches to the new key within a second.
    """
    s = app.network_store()
    old = app.identity()
    member = app.member_id()
    if not yes:
        click.confirm(
            f"hand {_name(s.conn, member)} ({member}) over from key {old.member_id[:16]}… "
            "to a new key? [เปลี่ยนกุญแจใหม่]",
            abort=True,
            err=True,
        )
    _, new, entry = keychain.rotate_home_key(app.home, s)
    app._identity = new
    app.wrote(entry, f"handed over to the new key {new.member_id}")
    note(
        f"the old key is kept in {app.home.retired_keys_dir}; back up the new one now: "
        f"`{app.prog} key export --passphrase -o FILE` [สำรองกุญแจใหม่]"
    )


@key.command("recover")
@click.argument("lost")
@click.option(
    "--last-good",
    type=click.IntRange(0),
    required=True,
    help="The lost key's last entry (seq) that was really yours; later ones are disowned. "
    "`p2pnet key history LOST` shows the feed's entries.",
)
@click.option("--reason", default="", help="What happened, for the members who vouch.")
@pass_app
def key_recover(app: App, lost: str, last_good: int, reason: str) -> None:
    """Claim back member LOST whose key is lost or stolen (กู้คืนสมาชิก).

    Run it in a new home whose key will take over (`p2pnet init`, then join the
    network). The claim takes effect once enough members who endorse LOST vouch
    for it (`p2pnet key vouch`): the network's charter says how many (2 by
    default). Then this key signs for LOST, and LOST's entries after
    --last-good count nowhere, whoever wrote them.
    """
    s = app.network_store()
    who = app.identity()
    member = directory.resolve_member(s.conn, lost)
    if member == app.member_id():
        raise CliError("that is this home's own member: nothing to recover", EXIT_REFUSED)
    current = s.conn.execute("SELECT key FROM members WHERE id = ?", (member,)).fetchone()[0]
    head = s.feed(current)
    held = 0 if head is None else head.seq
    if last_good > held:
        raise CliError(
            f"--last-good {last_good} is past what this node holds of that key's feed "
            f"(entry {held}); wait for the node to sync, or give a lower seq",
            EXIT_REFUSED,
        )
    body: dict[str, Any] = {"member": current, "last_good": last_good}
    if reason.strip():
        body["reason"] = reason.strip()
    entry = s.append(who, "recover", body)
    app.wrote(entry, f"claimed back {_name(s.conn, member)}")
    need = keychain.recovery_vouches(s.conn, entry.ts)
    endorsers = [
        _name(s.conn, r[0])
        for r in s.conn.execute(
            "SELECT src FROM endorsements WHERE dst = ? AND active = 1 ORDER BY src", (member,)
        )
    ]
    note(
        f"ask {need} of the members who endorse it to run `p2pnet key vouch {ids.entry(entry.id)}`"
        + (f": {', '.join(endorsers)}" if endorsers else " (no member endorses it yet)")
        + " [ขอให้สมาชิกที่รับรองช่วยยืนยัน]"
    )


@key.command("vouch")
@click.argument("claim")
@click.option("--note", "note_text", default="", help="How you know the claim is genuine.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def key_vouch(app: App, claim: str, note_text: str, yes: bool) -> None:
    """Vouch for a recovery claim (รับรองการกู้คืน): CLAIM is its id, or the lost member.

    Vouch only when you have checked with the organisation itself, by phone or
    in person, that the new key is theirs. Your vouch counts while you endorse
    the lost member.
    """
    s = app.network_store()
    who = app.identity()
    me = app.member_id()
    cid = keychain.resolve_claim(s.conn, claim)
    c = next(c for c in keychain.claims(s.conn) if c["id"] == cid)
    if directory.member_of_key(s.conn, ids.from_text(ids.MEMBER, c["claimant_key"])) == me:
        raise CliError("you cannot vouch for your own claim", EXIT_REFUSED)
    if c["member"] == me:
        raise CliError("this claim is for your own member: it cannot be yours to vouch", EXIT_REFUSED)
    _print_claim(s.conn, c)
    endorses = s.conn.execute(
        "SELECT 1 FROM endorsements WHERE src = ? AND dst = ? AND active = 1", (me, c["member"])
    ).fetchone()
    if not endorses:
        note(f"you do not endorse {_name(s.conn, c['member'])}: your vouch will not count "
             "unless you do (`p2pnet endorse`)")  # fmt: skip
    if not yes:
        click.confirm(
            "have you checked with the organisation itself that the new key is theirs? "
            "[ตรวจสอบกับองค์กรแล้วหรือไม่]",
            abort=True,
            err=True,
        )
    body: dict[str, Any] = {"claim": ids.from_text(ids.ENTRY, cid)}
    if note_text.strip():
        body["note"] = note_text.strip()
    app.wrote(s.append(who, "vouch", body), f"vouched for the recovery of {_name(s.conn, c['member'])}")
    after = next(x for x in keychain.claims(s.conn) if x["id"] == cid)
    note(f"{len(after['counted'])} of {after['needed']} vouches count"
         + (": the claim is in effect" if after["in_effect"] else ""))  # fmt: skip


def _print_claim(conn: Any, c: dict[str, Any]) -> None:
    fields([
        ("claim", c["id"]),
        ("member", f"{_name(conn, c['member'])} ({c['member']})"),
        ("lost key", c["lost_key"]),
        ("new key", c["claimant_key"]),
        ("last good", f"entry {c['last_good']} (later entries of the lost key count nowhere)"),
        ("reason", c["reason"]),
        ("made", when(c["ts"])),
        ("vouches", f"{len(c['counted'])} of {c['needed']} counted"
                    + (f" (from {len(c['vouchers'])})" if len(c["vouchers"]) != len(c["counted"]) else "")),
        ("state", "in effect" if c["in_effect"] else "pending"),
    ])  # fmt: skip


@key.command("history")
@click.argument("member", required=False)
@json_option
@pass_app
def key_history(app: App, member: str | None, as_json: bool) -> None:
    """The keys of MEMBER (default: this one) and any recovery claims for it (ประวัติกุญแจ)."""
    s = app.network_store()
    mid = directory.resolve_member(s.conn, member) if member else app.member_id()
    keys = keychain.member_keys(s.conn, mid)
    for k in keys:
        head = s.feed(ids.from_text(ids.MEMBER, k["key"]))
        k["feed_seq"] = 0 if head is None else head.seq
    out = {"member": mid, "name": _name(s.conn, mid), "keys": keys,
           "claims": keychain.claims(s.conn, member=mid)}  # fmt: skip
    if as_json:
        emit_json(out)
        return
    ended = {"rotate": "handed over", "recover": "claimed back"}
    table(
        ["#", "key", "entries held", "counts up to", "state"],
        [
            (k["gen"] + 1, k["key"], k["feed_seq"],
             "all" if k["until_seq"] is None else f"entry {k['until_seq']}",
             "current" if k["current"] else f"{ended[k['ended_by']]} {when(k['ts'])}")
            for k in keys
        ],
        title=f"keys of {out['name']} ({mid})",
    )  # fmt: skip
    for c in out["claims"]:
        click.echo()
        _print_claim(s.conn, c)


COMMANDS: list[click.Command] = []  # the commands join the `key` group of setup.py
