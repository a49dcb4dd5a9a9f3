"""Looking after the store: ``reindex``, ``verify``, ``bundle export/import``."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import click

from .. import bundle as bundlemod
from .. import entries, ids
from ..errors import EntryRefusedError
from ..store import Store
from .app import App, pass_app
from .output import (
    EXIT_CHECK_FAILED,
    EXIT_REFUSED,
    EXIT_USAGE,
    CliError,
    emit_json,
    json_option,
    note,
)
from .write import parse_date

# Stored entries passed the future-timestamp check when they arrived; a verify
# re-checks signatures and chains, not the clock, so "now" is pushed far ahead.
FAR_FUTURE_MS = 2**62


@click.command()
@pass_app
def reindex(app: App) -> None:
    """Rebuild the directory (members, activities, search) from the log.

    The log is the only source of truth; this is safe while the node runs.
    """
    n = app.store().reindex()
    click.echo(f"replayed {n} entries")


def check_store(s: Store) -> dict[str, Any]:
    """Re-decode and re-verify every entry and every feed's chain from the raw log."""
    problems: list[str] = []
    forks: list[dict[str, Any]] = []
    heads: dict[bytes, tuple[int, bytes]] = {}
    checked = 0
    network = s.network
    rows = s.conn.execute(
        "SELECT n, id, author, seq, fork, raw FROM entries ORDER BY author, seq, fork, n"
    )
    for n, eid, author, seq, fork, raw in rows:
        checked += 1
        who = f"entry #{n} ({ids.member(author)[:14]}… seq {seq})"
        try:
            e = entries.parse(raw, network=network, now=FAR_FUTURE_MS)
        except EntryRefusedError as exc:
            problems.append(f"{who}: {exc}")
            continue
        if (e.id, e.author, e.seq) != (eid, author, seq):
            problems.append(f"{who}: the index columns do not match the signed bytes")
            continue
        if fork:
            forks.append({"member": e.author_id, "seq": seq, "entry": e.entry_id})
            continue
        last = heads.get(author)
        expected = 1 if last is None else last[0] + 1
        if seq != expected:
            problems.append(f"{who}: sequence gap (expected seq {expected})")
        elif last is not None and e.prev != last[1]:
            problems.append(f"{who}: broken chain (prev is not the id of seq {last[0]})")
        heads[author] = (seq, e.id)
    feeds = s.feeds()
    for f in feeds:
        if heads.get(f.author) != (f.seq, f.head):
            got = heads.get(f.author, (0, b""))[0]
            problems.append(
                f"feed {ids.member(f.author)[:14]}…: the feeds table says seq {f.seq} "
                f"but the log's chain ends at {got}"
            )
    for author in set(heads) - {f.author for f in feeds}:
        problems.append(f"feed {ids.member(author)[:14]}…: entries in the log but no feed head")
    notes: list[str] = []
    if network is not None:
        row = s.conn.execute("SELECT kind FROM entries WHERE id = ?", (network,)).fetchone()
        if row is None:  # not an error: a node that joined may not have received it yet
            notes.append("the network's charter (genesis) has not arrived yet")
        elif row[0] != "network":
            problems.append(f"entry {ids.entry(network)} is not the network's genesis")
    integrity = s.integrity_check()
    if integrity != "ok":
        problems.append(f"SQLite integrity check: {integrity}")
    forked = Counter(f["member"] for f in forks)
    return {
        "ok": not problems,
        "entries": checked,
        "feeds": len(feeds),
        "problems": problems,
        "notes": notes,
        "forks": forks,
        "forked_members": sorted(forked),
        "integrity": integrity,
    }


@click.command()
@json_option
@pass_app
def verify(app: App, as_json: bool) -> None:
    """Re-check every entry's signature and every feed's hash chain from the raw log.

    Reports forks (a member's key signing two histories: kept as proof, not a
    failure of this store). Exits 1 if anything fails.
    """
    report = check_store(app.store())
    if as_json:
        emit_json(report)
    else:
        for line in report["problems"]:
            click.echo(f"FAIL {line}")
        for line in report["notes"]:
            click.echo(f"note {line}")
        for f in report["forks"]:
            click.echo(
                f"fork {f['member']} signed two entries with seq {f['seq']} "
                f"(kept as proof: {f['entry']})"
            )
        click.echo(
            f"checked {report['entries']} entries in {report['feeds']} feeds: "
            + (
                "every signature and chain verifies"
                if report["ok"]
                else f"{len(report['problems'])} problem(s)"
            )
        )
    if not report["ok"]:
        raise CliError(
            f"verify found {len(report['problems'])} problem(s) in {app.home.db_file}",
            EXIT_CHECK_FAILED,
        )


@click.group()
def bundle() -> None:
    """Carry updates offline: export entries to a file, import them elsewhere."""


@bundle.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--since",
    metavar="N|DATE",
    help="Only entries that arrived after arrival number N (printed by the last export), "
    "or dated from DATE (YYYY-MM-DD).",
)
@pass_app
def bundle_export(app: App, file: Path, since: str | None) -> None:
    """Write the entries this node holds into FILE (a USB stick, a chat attachment)."""
    s = app.network_store()
    n, date = 0, None
    if since:
        if re.fullmatch(r"\d+", since.strip()):
            n = int(since)
        else:
            date = parse_date(since, "--since")
    if file.exists() and file.is_dir():
        raise CliError(f"{file} is a folder", EXIT_USAGE)
    count, last = bundlemod.export(s, file, since=n, since_date=date)
    click.echo(f"wrote {count} entries to {file}")
    note(f"next time, `--since {last}` exports only what arrives after this one")


@bundle.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_app
def bundle_import(app: App, file: Path, as_json: bool) -> None:
    """Verify and store the entries of a bundle FILE, as if a peer had sent them.

    A changed entry is refused on its own, with its reason; nothing invalid is
    stored. Exits 4 if any entry was refused or the file is damaged.
    """
    app.identity()  # the home must exist
    s = app.store()
    report = bundlemod.import_(s, file)
    if as_json:
        emit_json(report.as_dict())
    else:
        for i, code, detail in report.refused:
            click.echo(f"refused entry {i}: {detail} ({code})")
        if report.bound:
            click.echo(f"this node is now in network {ids.network(report.header.network)}")
        click.echo(
            f"{report.accepted} new, {report.duplicates} already here, {report.forks} fork proofs, "
            f"{len(report.refused)} refused, "
            + (f"{report.blocked} of blocked members left out, " if report.blocked else "")
            + f"of {report.read} entries in {file}"
        )
    if report.damage:
        raise CliError(report.damage, EXIT_REFUSED)
    if report.refused:
        raise CliError(
            f"{len(report.refused)} of {report.read} entries in {file} were refused "
            "(listed above); the others were stored",
            EXIT_REFUSED,
        )


COMMANDS = [reindex, verify, bundle]
